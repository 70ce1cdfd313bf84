//! Rules: the built-in pack (embedded from the project's `rules/`) and the repository's
//! `rules/*.rhai`, which add to it and may replace a built-in rule by id. Loading compiles each
//! rule, runs its top level (its constants) under the sandbox, and checks the contract:
//!
//! ```rhai
//! const ID = "hygiene/naming-convention";   // area/name, kebab-case, unique
//! const SEVERITY = "warning";               // error | warning | info
//! const KINDS = ["*"];                      // kind names, or "*"
//! const SUMMARY = "Policy names follow the configured pattern";
//! const SCOPE = "policy";                   // or "environment" (check_all(policies, ctx))
//! fn check(policy, ctx) { [] }
//! ```
//! A rule that breaks the contract is not loaded and is reported as `engine/rule-error` with its
//! file and line; the other rules still run.

use super::engine::{self, Deadline, Limits};
use super::finding::{Finding, Severity, ids, valid_rule_id};
use crate::policy::KINDS;
use rhai::module_resolvers::StaticModuleResolver;
use rhai::{Dynamic, Scope};
use std::collections::BTreeMap;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Path prefix of built-in rules in findings.
pub const BUILTIN_PREFIX: &str = "builtin:rules/";

/// Folder of shared modules (`import "lib/name"`), inside `rules/`.
pub const LIB_DIR: &str = "lib";
/// Folder of rule tests, inside `rules/`.
pub const TESTS_DIR: &str = "tests";

/// What a rule looks at: one policy at a time, or a whole environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleScope {
    Policy,
    Environment,
}

impl RuleScope {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleScope::Policy => "policy",
            RuleScope::Environment => "environment",
        }
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    Repository,
}

/// A loaded rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// Severity after `[lint.severity]`.
    pub severity: Severity,
    pub default_severity: Severity,
    /// Kind names; `None` means every kind.
    pub kinds: Option<Vec<&'static str>>,
    pub summary: String,
    pub scope: RuleScope,
    /// The doc comment at the top of the file (`//!` lines), without the markers.
    pub doc: String,
    pub origin: Origin,
    /// As shown in findings: `rules/x.rhai` or `builtin:rules/area/name.rhai`.
    pub file: String,
    pub source: Arc<str>,
    /// Baseline controls (CISA SCuBA) this rule helps show, from `rules/baseline/`.
    pub controls: Vec<Control>,
}

impl Rule {
    pub fn applies_to(&self, kind: &str) -> bool {
        self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
    }

    pub fn kinds_label(&self) -> String {
        match &self.kinds {
            None => "*".into(),
            Some(k) => k.join(", "),
        }
    }
}

/// A baseline control a rule maps to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Control {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing)]
    pub rules: Vec<String>,
}

/// One rule source file before loading.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub file: String,
    pub text: Arc<str>,
    pub origin: Origin,
}

/// Rules ready to run, the shared modules they may import, and findings about rules that could
/// not be loaded.
#[derive(Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub lib: StaticModuleResolver,
    pub findings: Vec<Finding>,
    pub limits: Limits,
    /// Ids that `[lint] disabled` turned off (known ones).
    pub disabled: Vec<String>,
}

/// The built-in rule sources, sorted by file.
pub fn builtin_sources() -> Vec<RuleSource> {
    RULE_FILES
        .iter()
        .filter(|(p, _)| {
            p.ends_with(".rhai")
                && !p.starts_with(&format!("{LIB_DIR}/"))
                && !p.starts_with(&format!("{TESTS_DIR}/"))
        })
        .map(|(p, text)| RuleSource {
            file: format!("{BUILTIN_PREFIX}{p}"),
            text: Arc::from(*text),
            origin: Origin::Builtin,
        })
        .collect()
}

/// Built-in shared modules: (name as imported, file, text).
pub fn builtin_lib() -> Vec<(String, String, Arc<str>)> {
    RULE_FILES
        .iter()
        .filter_map(|(p, text)| {
            let name = p
                .strip_prefix(&format!("{LIB_DIR}/"))?
                .strip_suffix(".rhai")?;
            Some((
                format!("{LIB_DIR}/{name}"),
                format!("{BUILTIN_PREFIX}{p}"),
                Arc::from(*text),
            ))
        })
        .collect()
}

/// The built-in rule tests: (file, text).
pub fn builtin_tests() -> Vec<(String, &'static str)> {
    RULE_FILES
        .iter()
        .filter(|(p, _)| p.starts_with(&format!("{TESTS_DIR}/")) && p.ends_with(".json"))
        .map(|(p, t)| (format!("{BUILTIN_PREFIX}{p}"), *t))
        .collect()
}

/// The text of a built-in file shown as `builtin:rules/…`.
pub fn builtin_text(shown: &str) -> Option<&'static str> {
    let rel = shown.strip_prefix(BUILTIN_PREFIX)?;
    RULE_FILES.iter().find(|(p, _)| *p == rel).map(|(_, t)| *t)
}

/// The baseline controls and the rules mapped to them.
pub fn baseline() -> Vec<Control> {
    #[derive(serde::Deserialize)]
    struct File {
        control: Vec<Control>,
    }
    RULE_FILES
        .iter()
        .filter(|(p, _)| p.starts_with("baseline/") && p.ends_with(".toml"))
        .flat_map(|(p, t)| match toml::from_str::<File>(t) {
            Ok(f) => f.control,
            Err(e) => panic!("built-in rules/{p} is invalid: {e}"),
        })
        .collect()
}

/// The doc comment at the top of a rule: leading `//!` lines.
pub fn doc_comment(source: &str) -> String {
    let mut lines = Vec::new();
    for line in source.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("//!") {
            lines.push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
        } else if t.is_empty() && lines.is_empty() {
            continue;
        } else {
            break;
        }
    }
    lines.join("\n").trim().to_string()
}

/// 1-based line where `const NAME` is written, or the first line.
fn const_line(source: &str, name: &str) -> usize {
    let needle = format!("const {name}");
    source
        .lines()
        .position(|l| {
            l.trim_start().starts_with(&needle)
                && l.trim_start()[needle.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c == ' ' || c == '=')
        })
        .map_or(1, |i| i + 1)
}

fn rule_error(
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
) -> Box<Finding> {
    let mut f = Finding::new(ids::RULE_ERROR, Severity::Error, file, message);
    f.line = line;
    f.column = line.and(column.or(Some(1)));
    Box::new(f)
}

/// Settings `[lint]` hands to loading.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub disabled: Vec<(String, usize)>,
    pub severity: BTreeMap<String, (Severity, usize)>,
    /// Where the settings come from, for findings about unknown ids (`tenantgate.toml`).
    pub config_file: String,
}

/// The metadata of a compiled rule, read from its constants.
struct Meta {
    id: String,
    severity: Severity,
    kinds: Option<Vec<&'static str>>,
    summary: String,
    scope: RuleScope,
}

fn read_meta(
    engine: &rhai::Engine,
    src: &RuleSource,
    deadline: &Deadline,
    limits: &Limits,
) -> Result<Meta, Box<Finding>> {
    let file = &src.file;
    let text = &src.text;
    let ast = engine.compile(text.as_ref()).map_err(|e| {
        let pos = e.position();
        rule_error(
            file,
            pos.line(),
            pos.position(),
            format!("the rule does not compile: {}", e.err_type()),
        )
    })?;
    let mut scope = Scope::new();
    deadline.start(limits.timeout);
    engine.run_ast_with_scope(&mut scope, &ast).map_err(|e| {
        rule_error(
            file,
            engine::error_line(&e),
            engine::error_position(&e).position(),
            format!("the rule's top level failed: {}", engine::describe(&e)),
        )
    })?;
    let get = |name: &str| scope.get_value::<Dynamic>(name);
    let at =
        |name: &str, message: String| rule_error(file, Some(const_line(text, name)), None, message);
    let string = |name: &str, required: bool| -> Result<Option<String>, Box<Finding>> {
        match get(name) {
            None if required => Err(rule_error(
                file,
                Some(1),
                None,
                format!(
                    "the rule has no `const {name}`; every rule declares ID, SEVERITY, KINDS and SUMMARY"
                ),
            )),
            None => Ok(None),
            Some(v) => v
                .into_string()
                .map(Some)
                .map_err(|t| at(name, format!("`{name}` must be a string, not {t}"))),
        }
    };
    let id = string("ID", true)?.unwrap_or_default();
    if !valid_rule_id(&id) {
        return Err(at(
            "ID",
            format!(
                "rule id {id:?} is not `area/name` in kebab-case (e.g. \"hygiene/naming-convention\")"
            ),
        ));
    }
    let sev = string("SEVERITY", true)?.unwrap_or_default();
    let severity = Severity::parse(&sev).ok_or_else(|| {
        at(
            "SEVERITY",
            format!("severity {sev:?} is not \"error\", \"warning\" or \"info\""),
        )
    })?;
    let summary = string("SUMMARY", true)?.unwrap_or_default();
    let scope_name = string("SCOPE", false)?.unwrap_or_else(|| "policy".into());
    let rule_scope = match scope_name.as_str() {
        "policy" => RuleScope::Policy,
        "environment" => RuleScope::Environment,
        other => {
            return Err(at(
                "SCOPE",
                format!("scope {other:?} is not \"policy\" or \"environment\""),
            ));
        }
    };
    let kinds_value = get("KINDS").ok_or_else(|| {
        rule_error(
            file,
            Some(1),
            None,
            "the rule has no `const KINDS` (kind names, or [\"*\"])".into(),
        )
    })?;
    let list = kinds_value.try_cast::<rhai::Array>().ok_or_else(|| {
        at(
            "KINDS",
            "`KINDS` must be an array of kind names, e.g. [\"settings-catalog\"] or [\"*\"]".into(),
        )
    })?;
    let mut kinds = Vec::new();
    let mut all = false;
    for k in list {
        let name = k
            .into_string()
            .map_err(|t| at("KINDS", format!("`KINDS` lists {t}, not a kind name")))?;
        if name == "*" {
            all = true;
            continue;
        }
        match KINDS.iter().find(|kind| kind.name == name) {
            Some(kind) => kinds.push(kind.name),
            None => {
                let known: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
                return Err(at(
                    "KINDS",
                    format!(
                        "unknown kind {name:?} in KINDS; kinds are \"*\" or: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    if !all && kinds.is_empty() {
        return Err(at(
            "KINDS",
            "`KINDS` is empty: list kind names, or [\"*\"]".into(),
        ));
    }
    let (func, what) = match rule_scope {
        RuleScope::Policy => ("check", "fn check(policy, ctx)"),
        RuleScope::Environment => ("check_all", "fn check_all(policies, ctx)"),
    };
    if !ast
        .iter_functions()
        .any(|f| f.name == func && f.params.len() == 2)
    {
        return Err(rule_error(
            file,
            Some(1),
            None,
            format!("a {} rule defines `{what}`", rule_scope.as_str()),
        ));
    }
    Ok(Meta {
        id,
        severity,
        kinds: if all { None } else { Some(kinds) },
        summary,
        scope: rule_scope,
    })
}

/// Compile the shared modules into a resolver; modules that fail are reported.
fn load_lib(
    libs: &[(String, String, Arc<str>)],
    limits: &Limits,
    findings: &mut Vec<Finding>,
) -> StaticModuleResolver {
    let mut resolver = StaticModuleResolver::new();
    let deadline = Deadline::default();
    // Modules may import modules listed before them.
    for (name, file, text) in libs {
        let engine = engine::sandboxed(limits, &resolver, &deadline);
        let result = engine.compile(text.as_ref()).map_err(|e| {
            let pos = e.position();
            rule_error(
                file,
                pos.line(),
                pos.position(),
                format!("the module does not compile: {}", e.err_type()),
            )
        });
        let module = result.and_then(|ast| {
            deadline.start(limits.timeout);
            rhai::Module::eval_ast_as_new(Scope::new(), &ast, &engine).map_err(|e| {
                rule_error(
                    file,
                    engine::error_line(&e),
                    engine::error_position(&e).position(),
                    format!("the module failed to load: {}", engine::describe(&e)),
                )
            })
        });
        match module {
            Ok(m) => resolver.insert(name.clone(), m),
            Err(f) => findings.push(*f),
        }
    }
    resolver
}

impl RuleSet {
    /// Load `builtin` and `repo` rules (a repository rule replaces a built-in rule with the
    /// same id) with `libs` as importable modules, then apply `[lint]` selection.
    pub fn load(
        sources: Vec<RuleSource>,
        libs: Vec<(String, String, Arc<str>)>,
        selection: &Selection,
        limits: Limits,
    ) -> RuleSet {
        let mut findings = Vec::new();
        let lib = load_lib(&libs, &limits, &mut findings);
        let deadline = Deadline::default();
        let engine = engine::sandboxed(&limits, &lib, &deadline);
        let controls = baseline();
        let mut rules: Vec<Rule> = Vec::new();
        for src in sources {
            let meta = match read_meta(&engine, &src, &deadline, &limits) {
                Ok(m) => m,
                Err(f) => {
                    findings.push(*f);
                    continue;
                }
            };
            let rule = Rule {
                controls: controls
                    .iter()
                    .filter(|c| c.rules.contains(&meta.id))
                    .cloned()
                    .collect(),
                id: meta.id,
                severity: meta.severity,
                default_severity: meta.severity,
                kinds: meta.kinds,
                summary: meta.summary,
                scope: meta.scope,
                doc: doc_comment(&src.text),
                origin: src.origin,
                file: src.file,
                source: src.text,
            };
            match rules.iter().position(|r| r.id == rule.id) {
                Some(i)
                    if rules[i].origin == Origin::Builtin && rule.origin == Origin::Repository =>
                {
                    tracing::info!("{} replaces the built-in rule {}", rule.file, rule.id);
                    rules[i] = rule;
                }
                Some(i) => findings.push(*rule_error(
                    &rule.file,
                    Some(const_line(&rule.source, "ID")),
                    None,
                    format!(
                        "rule id {:?} is already used by {}; rule ids are unique",
                        rule.id, rules[i].file
                    ),
                )),
                None => rules.push(rule),
            }
        }
        let config_finding = |line: usize, message: String| {
            let mut f = Finding::new(
                ids::CONFIG,
                Severity::Warning,
                &selection.config_file,
                message,
            )
            .with_help("`tenantgate rules list` shows the rule ids");
            f.line = Some(line);
            f.column = Some(1);
            f
        };
        let known = |id: &str| rules.iter().any(|r| r.id == id) || super::native_rule(id).is_some();
        let mut disabled = Vec::new();
        for (id, line) in &selection.disabled {
            if !known(id) {
                findings.push(config_finding(
                    *line,
                    format!("`[lint] disabled` names {id:?}, which is not a rule"),
                ));
            } else if id == ids::RULE_ERROR {
                findings.push(config_finding(
                    *line,
                    format!("{id} cannot be disabled: it reports rules that did not run"),
                ));
            } else {
                disabled.push(id.clone());
            }
        }
        for (id, (_, line)) in &selection.severity {
            if !known(id) {
                findings.push(config_finding(
                    *line,
                    format!("`[lint.severity]` names {id:?}, which is not a rule"),
                ));
            }
        }
        rules.retain(|r| !disabled.contains(&r.id));
        for r in &mut rules {
            if let Some((s, _)) = selection.severity.get(&r.id) {
                r.severity = *s;
            }
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        RuleSet {
            rules,
            lib,
            findings,
            limits,
            disabled,
        }
    }

    /// Severity of a native (engine) finding after `[lint.severity]`, or `None` when disabled.
    pub fn native_severity(&self, id: &str, selection: &Selection) -> Option<Severity> {
        if self.disabled.iter().any(|d| d == id) {
            return None;
        }
        let default = super::native_rule(id).map_or(Severity::Error, |n| n.severity);
        Some(selection.severity.get(id).map_or(default, |(s, _)| *s))
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// The documentation page of a rule (`docs/rules/<area>/<name>.md`), generated from its doc
/// comment and contract so the two never drift apart.
pub fn rule_page(r: &Rule) -> String {
    let mut page = format!("# `{}`\n\n{}\n\n", r.id, r.summary);
    page.push_str("| | |\n|---|---|\n");
    page.push_str(&format!("| severity | {} |\n", r.default_severity));
    page.push_str(&format!("| scope | {} |\n", r.scope.as_str()));
    page.push_str(&format!("| kinds | {} |\n", r.kinds_label()));
    page.push_str(&format!(
        "| source | [`rules/{}.rhai`](../../../rules/{}.rhai) |\n",
        r.id, r.id
    ));
    page.push_str(&format!(
        "| tests | [`rules/tests/{}.json`](../../../rules/tests/{}.json) |\n",
        r.id, r.id
    ));
    for c in &r.controls {
        page.push_str(&format!(
            "| baseline | CISA SCuBA `{}`: {} (readiness, not certification) |\n",
            c.id, c.title
        ));
    }
    page.push_str(&format!("\n{}\n", r.doc));
    page.push_str(&format!(
        "\nTurn it off with `disabled = [\"{id}\"]` under `[lint]` in `tenantgate.toml`, change its severity with `\"{id}\" = \"info\"` under `[lint.severity]`, or waive one finding in `exceptions.toml`. `tenantgate rules explain {id}` prints this page.\n",
        id = r.id
    ));
    page
}

/// The documentation page of one of the engine's own findings.
pub fn native_page(n: &super::NativeRule) -> String {
    format!(
        "# `{}`\n\n{}\n\n| | |\n|---|---|\n| severity | {} |\n| source | the lint engine |\n\n{}\n",
        n.id, n.summary, n.severity, n.doc
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> RuleSet {
        RuleSet::load(
            vec![RuleSource {
                file: "rules/x.rhai".into(),
                text: Arc::from(text),
                origin: Origin::Repository,
            }],
            Vec::new(),
            &Selection::default(),
            Limits::default(),
        )
    }

    const GOOD: &str = "//! Long docs.\n//! Second line.\nconst ID = \"custom/x\";\nconst SEVERITY = \"info\";\nconst KINDS = [\"settings-catalog\"];\nconst SUMMARY = \"s\";\nfn check(policy, ctx) { [] }\n";

    #[test]
    fn reads_the_contract_and_the_doc_comment() {
        let set = load(GOOD);
        assert!(set.findings.is_empty(), "{:?}", set.findings);
        let r = &set.rules[0];
        assert_eq!(r.id, "custom/x");
        assert_eq!(r.severity, Severity::Info);
        assert_eq!(r.kinds, Some(vec!["settings-catalog"]));
        assert_eq!(r.scope, RuleScope::Policy);
        assert_eq!(r.doc, "Long docs.\nSecond line.");
        assert!(r.applies_to("settings-catalog") && !r.applies_to("groups"));
    }

    #[test]
    fn broken_contracts_are_rule_errors_with_their_line() {
        for (text, line, expected) in [
            (
                GOOD.replace("\"settings-catalog\"", "\"setings-catalog\""),
                5,
                "unknown kind \"setings-catalog\"",
            ),
            (GOOD.replace("custom/x", "Custom X"), 3, "not `area/name`"),
            (GOOD.replace("\"info\"", "\"fatal\""), 4, "not \"error\""),
            (
                GOOD.replace("fn check(policy, ctx)", "fn check(policy)"),
                1,
                "defines `fn check(policy, ctx)`",
            ),
            (
                GOOD.replace("const SUMMARY = \"s\";\n", ""),
                1,
                "no `const SUMMARY`",
            ),
            (GOOD.replace("[] }", "[ }"), 7, "does not compile"),
            (
                format!("{GOOD}\nlet x = eval(\"1\");\n"),
                9,
                "does not compile",
            ),
            (
                format!("{GOOD}\nimport \"../../etc/passwd\" as p;\n"),
                9,
                "top level failed",
            ),
        ] {
            let set = load(&text);
            assert!(set.rules.is_empty(), "{text}");
            let f = &set.findings[0];
            assert_eq!(f.rule, ids::RULE_ERROR);
            assert_eq!(f.path, "rules/x.rhai");
            assert_eq!(f.line, Some(line), "{text}: {f:?}");
            assert!(f.message.contains(expected), "{text}: {}", f.message);
        }
    }

    #[test]
    fn built_in_rule_ids_are_unique_and_documented() {
        let set = RuleSet::load(
            builtin_sources(),
            builtin_lib(),
            &Selection::default(),
            Limits::default(),
        );
        assert!(set.findings.is_empty(), "{:#?}", set.findings);
        assert_eq!(set.rules.len(), builtin_sources().len());
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        ids.extend(super::super::NATIVE_RULES.iter().map(|n| n.id));
        let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "duplicate ids in {ids:?}");
        for r in &set.rules {
            assert!(!r.doc.is_empty(), "{} has no doc comment", r.id);
            // The file is named after the id: rules/<area>/<name>.rhai.
            assert_eq!(r.file, format!("{BUILTIN_PREFIX}{}.rhai", r.id));
        }
        // Every control of the baseline names rules that exist.
        for c in baseline() {
            for id in &c.rules {
                assert!(set.get(id).is_some(), "{} maps to unknown rule {id}", c.id);
            }
        }
    }

    /// `docs/rules/<area>/<name>.md` are generated from the rules; this test keeps them in sync.
    /// `TENANTGATE_BLESS=1 cargo test docs_pages` rewrites them.
    #[test]
    fn docs_pages_are_in_sync_with_the_rules() {
        let set = RuleSet::load(
            builtin_sources(),
            builtin_lib(),
            &Selection::default(),
            Limits::default(),
        );
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join("rules");
        let mut expected: Vec<(String, String)> = set
            .rules
            .iter()
            .map(|r| (format!("{}.md", r.id), rule_page(r)))
            .collect();
        expected.extend(
            super::super::NATIVE_RULES
                .iter()
                .map(|n| (format!("{}.md", n.id), native_page(n))),
        );
        let bless = std::env::var_os("TENANTGATE_BLESS").is_some();
        let mut stale = Vec::new();
        for (rel, text) in &expected {
            let path = docs.join(rel);
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(rel.clone());
            }
        }
        // No page for a rule that no longer exists.
        for area in std::fs::read_dir(&docs).unwrap() {
            let area = area.unwrap().path();
            if !area.is_dir() {
                continue;
            }
            for page in std::fs::read_dir(&area).unwrap() {
                let page = page.unwrap().path();
                let rel = format!(
                    "{}/{}",
                    area.file_name().unwrap().to_string_lossy(),
                    page.file_name().unwrap().to_string_lossy()
                );
                if !expected.iter().any(|(r, _)| *r == rel) {
                    stale.push(format!("{rel} (no such rule)"));
                }
            }
        }
        assert!(
            stale.is_empty(),
            "docs/rules is out of date: {stale:?}; run `TENANTGATE_BLESS=1 cargo test docs_pages`"
        );
    }

    #[test]
    fn repository_rules_replace_built_in_ones_and_config_selects() {
        let builtin = builtin_sources();
        let first = builtin[0].clone();
        let first_id = RuleSet::load(
            vec![first.clone()],
            vec![],
            &Selection::default(),
            Limits::default(),
        )
        .rules[0]
            .id
            .clone();
        let replacement = GOOD.replace("custom/x", &first_id);
        let mut sources = builtin.clone();
        sources.push(RuleSource {
            file: "rules/mine.rhai".into(),
            text: Arc::from(replacement.as_str()),
            origin: Origin::Repository,
        });
        let selection = Selection {
            disabled: vec![("nope/missing".into(), 7)],
            severity: [(first_id.clone(), (Severity::Error, 9))]
                .into_iter()
                .collect(),
            config_file: "tenantgate.toml".into(),
        };
        let set = RuleSet::load(sources, builtin_lib(), &selection, Limits::default());
        let r = set.get(&first_id).unwrap();
        assert_eq!(r.file, "rules/mine.rhai");
        assert_eq!(r.severity, Severity::Error);
        assert_eq!(r.default_severity, Severity::Info);
        assert_eq!(set.findings.len(), 1);
        assert_eq!(set.findings[0].rule, ids::CONFIG);
        assert_eq!(set.findings[0].line, Some(7));
    }
}
