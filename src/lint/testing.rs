//! Rule tests as data (`rules/tests/**/*.json`), run like `opa test`: each case is one or more
//! policies (with their script files, settings and history), and the findings the rule under
//! test must report, by pointer, file or line. A case fails when an expected finding is missing
//! or an unexpected one appears.
//!
//! ```json
//! {
//!   "rule": "hygiene/naming-convention",
//!   "cases": [
//!     { "name": "a conforming name passes", "kind": "settings-catalog",
//!       "policy": { "name": "WIN-SC-Firewall" }, "expect": [] },
//!     { "name": "spaces break the convention", "kind": "settings-catalog",
//!       "policy": { "name": "Windows Firewall" }, "expect": [ { "pointer": "/name" } ] }
//!   ]
//! }
//! ```

use super::api::{Age, History};
use super::cache::FactsCache;
use super::engine::Limits;
use super::exceptions::Exceptions;
use super::files::Snapshot;
use super::finding::{FailOn, Finding, Severity, ids};
use super::history::FixedHistory;
use super::rules::{RuleSet, Selection};
use super::run::{CheckScope, Prepared, check};
use crate::policy::canonical::to_canonical;
use crate::policy::kinds;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rule: String,
    cases: Vec<RawCase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    kind: String,
    slug: Option<String>,
    policy: Option<Value>,
    /// The file exactly as stored (to test non-canonical files); instead of `policy`.
    text: Option<String>,
    /// Script side files by suffix: `{ ".ps1": "…" }`.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Pointer -> how many days its value has been what it is (Git history).
    #[serde(default)]
    history: BTreeMap<String, i64>,
    /// `false`: history was cut (a shallow clone) after that many days.
    #[serde(default = "yes")]
    history_complete: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    #[serde(default = "default_env")]
    env: String,
    /// `[lint.settings]` for this case.
    #[serde(default)]
    settings: Option<Value>,
    // A single policy, written inline:
    kind: Option<String>,
    slug: Option<String>,
    policy: Option<Value>,
    text: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    history: BTreeMap<String, i64>,
    #[serde(default = "yes")]
    history_complete: bool,
    // Or several:
    #[serde(default)]
    policies: Vec<RawPolicy>,
    expect: Vec<Expect>,
}

fn default_env() -> String {
    "test".into()
}

/// One expected finding: every field given must match.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Defaults to the rule under test.
    pub rule: Option<String>,
    pub pointer: Option<String>,
    /// The end of the finding's path: a file name (`x.ps1`) or more.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub severity: Option<String>,
    /// A part of the message.
    pub message: Option<String>,
}

impl Expect {
    fn matches(&self, rule: &str, f: &Finding) -> bool {
        f.rule == self.rule.as_deref().unwrap_or(rule)
            && self
                .pointer
                .as_ref()
                .is_none_or(|p| f.pointer.as_ref() == Some(p))
            && self
                .file
                .as_ref()
                .is_none_or(|p| f.path.ends_with(p.as_str()))
            && self.line.is_none_or(|l| f.line == Some(l))
            && self
                .severity
                .as_ref()
                .is_none_or(|s| f.severity.as_str() == s)
            && self
                .message
                .as_ref()
                .is_none_or(|m| f.message.contains(m.as_str()))
    }
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub file: String,
    pub rule: String,
    pub name: String,
    /// Empty when the case passed.
    pub problems: Vec<String>,
    /// The case expects no finding (a passing case) or some (a failing case).
    pub expects_findings: bool,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A test file that could not be read is one failed "case" naming the problem.
fn broken(file: &str, rule: &str, problem: String) -> CaseResult {
    CaseResult {
        file: file.to_string(),
        rule: rule.to_string(),
        name: "(the test file)".into(),
        problems: vec![problem],
        expects_findings: false,
    }
}

fn describe(f: &Finding) -> String {
    let mut s = format!("{} {}", f.rule, f.path);
    if let Some(p) = &f.pointer {
        s.push_str(&format!(" {p:?}"));
    }
    if let Some(l) = f.line {
        s.push_str(&format!(" line {l}"));
    }
    format!("{s}: {}", f.message)
}

/// Run the cases of one test file (`text`, named `file`) against `all` rules.
pub fn run_file(file: &str, text: &str, all: &RuleSet) -> Vec<CaseResult> {
    let raw: RawFile = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => return vec![broken(file, "?", format!("cannot read the test file: {e}"))],
    };
    let Some(mut rule) = all.get(&raw.rule).cloned() else {
        return vec![broken(
            file,
            &raw.rule,
            format!(
                "no rule {:?} is loaded (is it disabled, or misspelt?)",
                raw.rule
            ),
        )];
    };
    // Cases are written against the rule's own severity, whatever [lint.severity] says.
    rule.severity = rule.default_severity;
    let rules = RuleSet {
        rules: vec![rule],
        lib: all.lib.clone(),
        findings: Vec::new(),
        limits: all.limits.clone(),
        disabled: Vec::new(),
    };
    raw.cases
        .into_iter()
        .map(|case| run_case(file, &raw.rule, case, &rules))
        .collect()
}

fn run_case(file: &str, rule: &str, case: RawCase, rules: &RuleSet) -> CaseResult {
    let mut result = CaseResult {
        file: file.to_string(),
        rule: rule.to_string(),
        name: case.name.clone(),
        problems: Vec::new(),
        expects_findings: !case.expect.is_empty(),
    };
    let mut policies = case.policies.clone();
    if let Some(kind) = &case.kind {
        policies.insert(
            0,
            RawPolicy {
                kind: kind.clone(),
                slug: case.slug.clone(),
                policy: case.policy.clone(),
                text: case.text.clone(),
                files: case.files.clone(),
                history: case.history.clone(),
                history_complete: case.history_complete,
            },
        );
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut history: HashMap<(String, String), Age> = HashMap::new();
    for (n, p) in policies.iter().enumerate() {
        let Some(kind) = kinds::by_name(&p.kind) else {
            result.problems.push(format!("unknown kind {:?}", p.kind));
            return result;
        };
        let bytes = match (&p.policy, &p.text) {
            (Some(v), None) => to_canonical(v),
            (None, Some(t)) => t.clone().into_bytes(),
            _ => {
                result.problems.push(
                    "each policy gives `policy` (JSON) or `text` (the file as stored)".into(),
                );
                return result;
            }
        };
        let slug = p
            .slug
            .clone()
            .unwrap_or_else(|| format!("policy-{}", n + 1));
        let dir = format!("{}/{}", crate::policy::env_dir(&case.env), kind.name);
        let path = format!("{dir}/{slug}.json");
        for (suffix, text) in &p.files {
            files.insert(format!("{dir}/{slug}{suffix}"), text.clone().into_bytes());
        }
        for (pointer, days) in &p.history {
            history.insert(
                (path.clone(), pointer.clone()),
                Age {
                    days: *days,
                    since: String::new(),
                    complete: p.history_complete,
                },
            );
        }
        files.insert(path, bytes);
    }
    let head = Snapshot::memory(files);
    let prepared = Prepared {
        rules: rules.clone(),
        selection: Selection::default(),
        settings: case
            .settings
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default())),
        exceptions: Exceptions::default(),
        fail_on: FailOn::At(Severity::Error),
    };
    let scope = CheckScope {
        head: &head,
        envs: vec![case.env.clone()],
        changed: None,
        base: None,
        history: Some(Arc::new(FixedHistory(history)) as Arc<dyn History>),
        threads: Some(1),
    };
    let found = match check(&prepared, &scope, &mut FactsCache::in_memory()) {
        Ok((f, _)) => f,
        Err(e) => {
            result.problems.push(e.to_string());
            return result;
        }
    };
    let mut left: Vec<Finding> = found
        .into_iter()
        .filter(|f| f.rule == rule || f.rule == ids::RULE_ERROR)
        .collect();
    for e in &case.expect {
        match left.iter().position(|f| e.matches(rule, f)) {
            Some(i) => {
                left.remove(i);
            }
            None => result
                .problems
                .push(format!("expected a finding {e:?}, none matched")),
        }
    }
    for f in left {
        result
            .problems
            .push(format!("unexpected finding: {}", describe(&f)));
    }
    result
}

/// Run the built-in pack's tests, skipping rules in `replaced` (overridden by the repository)
/// and rules that `[lint] disabled` turned off.
pub fn run_builtin(all: &RuleSet, replaced: &BTreeSet<String>) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for (file, text) in super::rules::builtin_tests() {
        let rule = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("rule").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        if replaced.contains(&rule) || all.disabled.contains(&rule) {
            continue;
        }
        out.extend(run_file(&file, text, all));
    }
    out
}

/// The rule set `rules test` uses by default: every built-in rule, nothing disabled.
pub fn builtin_rules() -> RuleSet {
    RuleSet::load(
        super::rules::builtin_sources(),
        super::rules::builtin_lib(),
        &Selection::default(),
        Limits::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_rule_has_a_passing_and_a_failing_case_and_all_pass() {
        let all = builtin_rules();
        let results = run_builtin(&all, &BTreeSet::new());
        let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        for rule in &all.rules {
            let cases: Vec<_> = results.iter().filter(|r| r.rule == rule.id).collect();
            assert!(
                cases.iter().any(|c| !c.expects_findings),
                "{} has no passing case",
                rule.id
            );
            assert!(
                cases.iter().any(|c| c.expects_findings),
                "{} has no failing case",
                rule.id
            );
        }
    }

    #[test]
    fn a_wrong_expectation_fails_the_case() {
        let all = builtin_rules();
        let (file, text) = super::super::rules::builtin_tests()
            .into_iter()
            .find(|(f, _)| f.ends_with("naming-convention.json"))
            .unwrap();
        let mut v: Value = serde_json::from_str(text).unwrap();
        // Flip the first case's expectation: a passing case now expects a finding.
        let cases = v["cases"].as_array_mut().unwrap();
        let first_passing = cases
            .iter_mut()
            .find(|c| c["expect"].as_array().unwrap().is_empty())
            .unwrap();
        first_passing["expect"] = serde_json::json!([{"pointer": "/name"}]);
        let results = run_file(&file, &v.to_string(), &all);
        assert!(results.iter().any(|r| !r.passed()));
        let wrong = results.iter().find(|r| !r.passed()).unwrap();
        assert!(wrong.problems[0].contains("none matched"), "{wrong:?}");
    }
}
