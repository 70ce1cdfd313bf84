//! One lint run.
//!
//! 1. Choose the files: the worktree, a revision (`--rev`), or the index (`--staged`); with
//!    `--base B`, the head is compared from the merge base of B and the head.
//! 2. Read `tenantgate.toml`, `rules/` and `exceptions.toml` from the *base* in pull-request
//!    mode (from the files being linted otherwise): a pull request never judges itself.
//! 3. Per-policy rules run in parallel, one engine and compiled rules per worker thread, on
//!    every policy (or only on changed ones in pull-request and staged mode). Each policy's
//!    facts come from the cache by blob id, or are computed while it is read.
//! 4. Environment rules run once per environment over everyone's facts.
//! 5. Findings get their line and column, exceptions waive, severities apply.

use super::api::{self, Ctx, CtxInner, EnvData, History, PolicyDoc, PolicyView, RawFinding, Side};
use super::cache::{self, FactsCache};
use super::engine::{self, Compiled, Deadline, Limits};
use super::exceptions::{EXCEPTIONS_FILE, Exceptions};
use super::facts::{Entry, Facts};
use super::files::{FileRef, Reader, Snapshot};
use super::finding::{Counts, FailOn, Finding, Severity, ids};
use super::rules::{Origin, Rule, RuleScope, RuleSet, RuleSource, Selection};
use super::{LintError, spans::Spans};
use crate::config::{CONFIG_FILE, Config};
use crate::policy::canonical::{position_of, to_canonical};
use crate::policy::kinds::{self, Kind};
use crate::policy::normalize::{self, Mode, normalize};
use crate::policy::state::{HAND_EDIT, STATE_PATH, State, StateError};
use crate::policy::{TENANTS_DIR, decode};
use crate::store::Store;
use rhai::{CallFnOptions, Dynamic, Scope};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Logs how long each phase of a run took (`RUST_LOG=tenantgate=debug`).
struct Phases(std::time::Instant);

impl Phases {
    fn start() -> Phases {
        Phases(std::time::Instant::now())
    }

    fn done(&mut self, phase: &str) {
        let now = std::time::Instant::now();
        tracing::debug!(
            "lint: {phase} in {:.1} ms",
            (now - self.0).as_secs_f64() * 1e3
        );
        self.0 = now;
    }
}

/// Which files to lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The worktree as it is on disk.
    Worktree,
    /// A revision, read from Git objects.
    Rev(String),
    /// The index: what the next commit would hold.
    Staged,
}

/// A lint run as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    pub env: Option<String>,
    pub input: Input,
    /// Pull-request mode: compare from the merge base of this revision and the head.
    pub base: Option<String>,
    /// Overrides `[lint] fail_on`.
    pub fail_on: Option<FailOn>,
    pub limits: Limits,
    pub threads: Option<usize>,
    pub today: jiff::civil::Date,
    /// Seconds since the Unix epoch ("now" for history questions).
    pub now: i64,
    /// Use (and update) the facts cache in the Git directory.
    pub cache: bool,
}

impl Request {
    pub fn new(input: Input) -> Request {
        Request {
            env: None,
            input,
            base: None,
            fail_on: None,
            limits: Limits::default(),
            threads: None,
            today: super::exceptions::today_utc(),
            now: jiff::Timestamp::now().as_second(),
            cache: true,
        }
    }
}

/// One environment of a run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvReport {
    pub name: String,
    /// Policy files in the environment.
    pub policies: usize,
    /// Policy files per-policy rules ran on.
    pub checked: usize,
}

/// What a run found.
pub struct Outcome {
    /// Sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    pub fail_on: FailOn,
    pub envs: Vec<EnvReport>,
    /// The rules that ran.
    pub rules: Vec<Rule>,
    /// Rule id → how many policies the rule judged (see [`Checked::judged`]); a rule at `0`
    /// judged nothing, which is not the same as finding nothing.
    pub judged: BTreeMap<String, usize>,
    /// The files linted, and where configuration and rules came from.
    pub head: Snapshot,
    pub governance: Snapshot,
    /// "worktree", "revision 1a2b…", "index", "pull request: base 1a2b… → head 3c4d…".
    pub mode: String,
}

impl Outcome {
    pub fn counts(&self) -> Counts {
        Counts::of(&self.findings)
    }

    /// Does any finding that counts reach `fail_on`?
    pub fn failed(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.counts() && self.fail_on.fails(f.severity))
    }

    /// The text of a file a finding names (for snippets), as linted.
    pub fn read_text(&self, path: &str) -> Option<String> {
        if let Some(t) = super::rules::builtin_text(path) {
            return Some(t.to_string());
        }
        let snapshot =
            if path == CONFIG_FILE || path == EXCEPTIONS_FILE || path.starts_with("rules/") {
                &self.governance
            } else {
                &self.head
            };
        let bytes = snapshot.read(path).ok()??;
        decode::decode_text(&bytes).ok().map(|(t, _)| t)
    }
}

/// Configuration, rules and exceptions, read from one snapshot.
pub struct Prepared {
    pub rules: RuleSet,
    pub selection: Selection,
    pub settings: Value,
    pub exceptions: Exceptions,
    pub fail_on: FailOn,
}

/// Read `tenantgate.toml`, `rules/` and `exceptions.toml` from `gov`.
pub fn prepare(
    gov: &Snapshot,
    today: jiff::civil::Date,
    limits: Limits,
) -> Result<Prepared, LintError> {
    let shown = if gov.label == "worktree" {
        CONFIG_FILE.to_string()
    } else {
        format!("{CONFIG_FILE} ({})", gov.label)
    };
    let bytes = gov.read(CONFIG_FILE)?.ok_or_else(|| {
        LintError::Usage(format!(
            "no {CONFIG_FILE} in the {}: run `tenantgate init` first",
            gov.label
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| LintError::File {
        path: shown.clone(),
        message: "not UTF-8".into(),
    })?;
    let config = Config::parse(&text, &shown)?;
    let selection = Selection {
        disabled: config.lint.disabled.clone(),
        severity: config.lint.severity.clone(),
        config_file: CONFIG_FILE.into(),
    };
    let mut sources = super::rules::builtin_sources();
    let mut libs = super::rules::builtin_lib();
    for f in gov.list("rules") {
        if !f.path.ends_with(".rhai") {
            continue;
        }
        let rel = &f.path["rules/".len()..];
        let text: Arc<str> = match gov.reader().read(&f).map(String::from_utf8) {
            Ok(Ok(t)) => Arc::from(t),
            _ => {
                return Err(LintError::File {
                    path: f.path.clone(),
                    message: "cannot be read as UTF-8 text".into(),
                });
            }
        };
        if let Some(name) = rel
            .strip_prefix(&format!("{}/", super::rules::LIB_DIR))
            .and_then(|n| n.strip_suffix(".rhai"))
        {
            let name = format!("{}/{name}", super::rules::LIB_DIR);
            libs.retain(|(n, _, _)| *n != name);
            libs.push((name, f.path.clone(), text));
        } else if !rel.starts_with(&format!("{}/", super::rules::TESTS_DIR)) {
            sources.push(RuleSource {
                file: f.path.clone(),
                text,
                origin: Origin::Repository,
            });
        }
    }
    let rules = RuleSet::load(sources, libs, &selection, limits);
    let exceptions = match gov.read(EXCEPTIONS_FILE)? {
        None => Exceptions::default(),
        Some(bytes) => Exceptions::parse(&String::from_utf8_lossy(&bytes), today),
    };
    Ok(Prepared {
        rules,
        selection,
        settings: config.lint.settings,
        exceptions,
        fail_on: config.lint.fail_on,
    })
}

/// A policy file of an environment and its side files.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub path: String,
    pub kind: &'static Kind,
    pub file: FileRef,
    pub sides: Vec<(&'static str, FileRef)>,
}

/// The policy files of `env`, and findings about folders that are not kinds.
pub fn list_env(head: &Snapshot, env: &str) -> (Vec<PolicyFile>, Vec<Finding>) {
    let root = crate::policy::env_dir(env);
    let mut policies = Vec::new();
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    for f in head.list(&root) {
        let rel = &f.path[root.len() + 1..];
        let Some((folder, name)) = rel.split_once('/') else {
            continue;
        };
        if folder == ".tenantgate" {
            continue;
        }
        let Some(kind) = kinds::by_name(folder) else {
            unknown.insert(format!("{root}/{folder}"));
            continue;
        };
        if name.contains('/') || !name.ends_with(".json") {
            continue;
        }
        let slug = &name[..name.len() - ".json".len()];
        let sides = kind
            .bodies
            .iter()
            .filter_map(|b| {
                head.file(&format!("{root}/{folder}/{slug}{}", b.suffix))
                    .map(|s| (b.suffix, s))
            })
            .collect();
        policies.push(PolicyFile {
            path: f.path.clone(),
            kind,
            file: f,
            sides,
        });
    }
    let known: Vec<&str> = kinds::KINDS.iter().map(|k| k.name).collect();
    // Git keeps a symbolic link, not the file it points at: no tenant ever gets what it shows.
    let links = head.links(&root).into_iter().map(|path| {
        Finding::new(
            ids::INVALID,
            Severity::Error,
            &path,
            "a symbolic link: Git stores only the link, so no policy is here for lint, export or apply",
        )
        .with_help("replace the link with the file itself")
    });
    let folders = unknown.into_iter().map(|folder| {
        Finding::new(
            ids::UNKNOWN_KIND,
            Severity::Error,
            &folder,
            format!(
                "`{}` is not a kind: its files are never linted or applied",
                folder.rsplit('/').next().unwrap_or_default()
            ),
        )
        .with_help(format!("kind folders are: {}", known.join(", ")))
    });
    (policies, links.chain(folders).collect())
}

/// `state.json` read with the model import and export use: a file they would refuse is a
/// `format/invalid` finding at its line, not a surprise at the next import.
fn check_state(head: &Snapshot, path: &str) -> Option<Finding> {
    let file = head.file(path)?;
    let bytes = match head.reader().read(&file) {
        Ok(b) => b,
        Err(e) => {
            return Some(Finding::new(
                ids::INVALID,
                Severity::Error,
                path,
                format!("cannot be read: {e}"),
            ));
        }
    };
    let e = State::parse(&bytes).err()?;
    let (line, column) = e.position().unwrap_or((1, 1));
    let help = match e {
        StateError::TooNew { .. } => "a newer TenantGate wrote this repository",
        _ => HAND_EDIT,
    };
    Some(
        Finding::new(ids::INVALID, Severity::Error, path, e.message())
            .with_help(help)
            .at(line, column),
    )
}

/// The side-file → policy-file mapping of findings (`x.ps1` → `x.json`).
fn policy_of(path: &str) -> Option<String> {
    let (dir, file) = path.rsplit_once('/')?;
    let kind = kinds::by_name(dir.rsplit('/').next()?)?;
    kind.bodies
        .iter()
        .find_map(|b| file.strip_suffix(b.suffix))
        .map(|slug| format!("{dir}/{slug}.json"))
}

/// A document as read: the value as stored, and whether the file is canonical.
struct Loaded {
    value: Value,
    canonical: bool,
    /// First line that differs from the canonical form.
    first_diff: usize,
}

fn parse_fast(bytes: &[u8]) -> Result<Value, decode::JsonError> {
    // Plain UTF-8 parses straight from the bytes; BOMs and UTF-16 go through decoding, and so
    // does a failure, to get its message and position (a duplicate key included).
    if !api::needs_decoding(bytes)
        && let Ok(v) = decode::value_from_slice(bytes)
    {
        return Ok(v);
    }
    decode::parse_json(bytes)
}

fn first_diff_line(a: &[u8], b: &[u8]) -> usize {
    let text = decode::decode_text(a).map(|(t, _)| t).unwrap_or_default();
    let canon = String::from_utf8_lossy(b);
    let mut n = 1;
    for (x, y) in text.split('\n').zip(canon.split('\n')) {
        if x != y {
            return n;
        }
        n += 1;
    }
    n.min(text.split('\n').count()).max(1)
}

/// Read a policy file: `Err((message, line, column))` when it is not a policy.
fn load(kind: &'static Kind, bytes: &[u8]) -> Result<Loaded, (String, usize, usize)> {
    let value = parse_fast(bytes).map_err(|e| {
        let (line, column) = e.position().unwrap_or((1, 1));
        (e.message(), line, column)
    })?;
    let named = value.get(kind.name_field).is_some_and(Value::is_string);
    if named && to_canonical(&value) == bytes && normalize::is_normal(kind, &value) {
        return Ok(Loaded {
            value,
            canonical: true,
            first_diff: 0,
        });
    }
    // Not canonical (or not a policy): what would `fmt` write?
    let n = normalize(kind, value.clone(), Mode::Format).map_err(|e| (e.to_string(), 1, 1))?;
    let canon = to_canonical(&n.doc);
    // Rules judge the file as stored.
    Ok(Loaded {
        value,
        canonical: false,
        first_diff: first_diff_line(bytes, &canon),
    })
}

/// Where pointers are in a file as stored.
enum Places<'a> {
    /// The file is the canonical form of this value: positions follow from the layout.
    Canonical(&'a Value),
    Stored(Option<Spans>),
}

impl<'a> Places<'a> {
    fn of(bytes: &[u8], value: &'a Value, canonical: bool) -> Places<'a> {
        if canonical {
            Places::Canonical(value)
        } else {
            let text = decode::decode_text(bytes)
                .map(|(t, _)| t)
                .unwrap_or_default();
            Places::Stored(Spans::scan(&text))
        }
    }

    fn nearest(&self, pointer: &str) -> (usize, usize) {
        match self {
            Places::Canonical(v) => position_of(v, pointer),
            Places::Stored(Some(s)) => s.nearest(pointer),
            Places::Stored(None) => (1, 1),
        }
    }
}

/// Failures of one rule across a run.
#[derive(Default)]
struct RuleFailures {
    count: usize,
    /// Calls that hit a limit (the rule is stopped after `max_failures`).
    limits: usize,
    first: Option<(String, String, Option<usize>, Option<usize>)>,
    skipped: usize,
    /// Time spent in the rule's calls so far, and whether that passed the budget.
    spent: std::time::Duration,
    over_budget: bool,
}

fn is_limit(e: &rhai::EvalAltResult) -> bool {
    use rhai::EvalAltResult as E;
    match e {
        E::ErrorInFunctionCall(_, _, inner, _) | E::ErrorInModule(_, inner, _) => is_limit(inner),
        E::ErrorTooManyOperations(_)
        | E::ErrorStackOverflow(_)
        | E::ErrorDataTooLarge(..)
        | E::ErrorTerminated(..)
        | E::ErrorTooManyModules(_)
        | E::ErrorTooManyVariables(_) => true,
        _ => false,
    }
}

/// The 1-based line where `fn name(` is defined in a rule's source.
fn fn_line(source: &str, name: &str) -> Option<usize> {
    let needle = format!("fn {name}(");
    source
        .lines()
        .position(|l| l.trim_start().starts_with(&needle))
        .map(|i| i + 1)
}

/// What every worker shares.
struct Shared<'a> {
    rules: &'a [Rule],
    lib: &'a rhai::module_resolvers::StaticModuleResolver,
    limits: &'a Limits,
    settings: &'a Value,
    failures: Vec<Mutex<RuleFailures>>,
    /// Per rule: how many policies it judged.
    judged: Vec<AtomicUsize>,
}

impl<'a> Shared<'a> {
    fn new(
        rules: &'a [Rule],
        lib: &'a rhai::module_resolvers::StaticModuleResolver,
        limits: &'a Limits,
        settings: &'a Value,
    ) -> Shared<'a> {
        Shared {
            rules,
            lib,
            limits,
            settings,
            failures: rules.iter().map(|_| Mutex::default()).collect(),
            judged: rules.iter().map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// The same rules with failures and counts of their own, for runs whose failures are
    /// not reported (the base of a pull request).
    fn quiet(&self) -> Shared<'a> {
        Shared::new(self.rules, self.lib, self.limits, self.settings)
    }
}

impl Shared<'_> {
    fn stopped(&self, i: usize) -> bool {
        self.failures[i]
            .lock()
            .map(|f| f.limits >= self.limits.max_failures || f.over_budget)
            .unwrap_or(true)
    }

    /// Account for a call's time; past the rule's budget, stop it.
    fn spend(&self, i: usize, took: std::time::Duration, target: &str, line: Option<usize>) {
        if let Ok(mut f) = self.failures[i].lock() {
            f.spent += took;
            if f.spent > self.limits.budget && !f.over_budget {
                f.over_budget = true;
                f.count += 1;
                if f.first.is_none() {
                    f.first = Some((
                        target.to_string(),
                        format!(
                            "the rule used its whole time budget ({} s for all its calls in one run)",
                            self.limits.budget.as_secs()
                        ),
                        line,
                        None,
                    ));
                }
            }
        }
    }

    fn fail(
        &self,
        i: usize,
        target: &str,
        message: String,
        line: Option<usize>,
        column: Option<usize>,
        limit: bool,
    ) {
        if let Ok(mut f) = self.failures[i].lock() {
            f.count += 1;
            if limit {
                f.limits += 1;
            }
            if f.first.is_none() {
                f.first = Some((target.to_string(), message, line, column));
            }
        }
    }

    fn skip(&self, i: usize) {
        if let Ok(mut f) = self.failures[i].lock() {
            f.skipped += 1;
        }
    }

    fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let Ok(f) = self.failures[i].lock() else {
                continue;
            };
            let Some((target, message, line, column)) = &f.first else {
                continue;
            };
            let on = if f.count == 1 {
                target.clone()
            } else {
                format!("{target} and {} more", f.count - 1)
            };
            let mut text = format!("rule `{}` failed on {on}: {message}", rule.id);
            if f.skipped > 0 && f.over_budget {
                text.push_str(&format!(
                    "; it was stopped after its time budget was used and did not check {} more",
                    f.skipped
                ));
            } else if f.skipped > 0 {
                text.push_str(&format!(
                    "; it was stopped after {} calls hit a limit and did not check {} more",
                    f.limits, f.skipped
                ));
            }
            let mut finding = Finding::new(ids::RULE_ERROR, Severity::Error, &rule.file, text)
                .with_help("fix the rule (`tenantgate rules test` runs its cases), or list it in `[lint] disabled` until it is fixed");
            finding.line = *line;
            finding.column = line.and(column.or(Some(1)));
            out.push(finding);
        }
        out
    }
}

/// One engine and the compiled rules, on one worker thread.
struct Worker<'a> {
    engine: rhai::Engine,
    deadline: Deadline,
    compiled: Vec<Compiled>,
    settings: Dynamic,
    shared: &'a Shared<'a>,
}

impl<'a> Worker<'a> {
    fn new(shared: &'a Shared<'a>) -> Worker<'a> {
        let deadline = Deadline::default();
        let engine = engine::sandboxed(shared.limits, shared.lib, &deadline);
        let compiled = shared
            .rules
            .iter()
            .map(|r| Compiled {
                // Every rule compiled when it was loaded, with the same settings.
                ast: engine.compile(r.source.as_ref()).unwrap_or_default(),
                eval_top_level: engine::has_top_level_import(&r.source),
            })
            .collect();
        let settings = api::to_dynamic(shared.settings)
            .into_read_only()
            .into_shared();
        Worker {
            engine,
            deadline,
            compiled,
            settings,
            shared,
        }
    }

    /// Call rule `i`'s `func` with `args`; findings, or `None` after recording the failure.
    fn call(
        &self,
        i: usize,
        func: &str,
        target: &str,
        args: (Dynamic, Ctx),
        policies: usize,
    ) -> Option<Vec<RawFinding>> {
        if self.shared.stopped(i) {
            self.shared.skip(i);
            return None;
        }
        self.shared.judged[i].fetch_add(policies, Ordering::Relaxed);
        let c = &self.compiled[i];
        self.deadline.start(self.shared.limits.timeout);
        let started = std::time::Instant::now();
        let result = self.engine.call_fn_with_options::<Dynamic>(
            CallFnOptions::new()
                .eval_ast(c.eval_top_level)
                .rewind_scope(true),
            &mut Scope::new(),
            &c.ast,
            func,
            args,
        );
        self.shared.spend(
            i,
            started.elapsed(),
            target,
            fn_line(&self.shared.rules[i].source, func),
        );
        match result {
            Ok(d) => match api::findings_from(d) {
                Ok(f) => Some(f),
                Err(message) => {
                    self.shared.fail(i, target, message, None, None, false);
                    None
                }
            },
            Err(e) => {
                let pos = engine::error_position(&e);
                // Limits stop a call without a position: point at the function that was called.
                let (line, column) = match pos.line() {
                    Some(l) => (Some(l), pos.position()),
                    None => (fn_line(&self.shared.rules[i].source, func), None),
                };
                self.shared
                    .fail(i, target, engine::describe(&e), line, column, is_limit(&e));
                None
            }
        }
    }
}

/// Turn a per-policy rule's finding into a [`Finding`] on the policy or one of its side
/// files; `Err` when it names a file that is neither.
fn place_policy_finding(
    rule: &Rule,
    raw: RawFinding,
    p: &PolicyFile,
) -> Result<(Finding, bool), String> {
    let (path, in_json) = match &raw.path {
        None => (p.path.clone(), true),
        Some(f) if *f == p.path => (p.path.clone(), true),
        Some(f) => {
            let side = p
                .sides
                .iter()
                .find(|(_, s)| s.path == *f || s.path.rsplit('/').next() == Some(f.as_str()));
            match side {
                Some((_, s)) => (s.path.clone(), false),
                None => {
                    return Err(format!(
                        "a finding names file {f:?}, which is not {} or one of its script files",
                        p.path
                    ));
                }
            }
        }
    };
    let mut finding = Finding::new(
        &rule.id,
        severity_of(rule, raw.severity),
        &path,
        raw.message,
    );
    finding.help = raw.help;
    finding.related = raw.related;
    finding.redact = raw.redact;
    if in_json {
        finding.pointer = Some(raw.pointer.unwrap_or_default());
        finding.line = raw.line;
        finding.column = raw.line.map(|_| raw.column.unwrap_or(1));
    } else {
        finding.line = raw.line;
        finding.column = raw.line.map(|_| raw.column.unwrap_or(1));
    }
    Ok((finding, in_json))
}

/// A rule's severity for one finding: the rule's (after `[lint.severity]`) unless the finding
/// chose another one than the rule's default.
fn severity_of(rule: &Rule, chosen: Option<Severity>) -> Severity {
    match chosen {
        Some(s) if s != rule.default_severity => s,
        _ => rule.severity,
    }
}

/// What a worker produced for one policy.
struct Done {
    findings: Vec<Finding>,
    facts: Option<Arc<Facts>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    /// Rules and facts.
    Full,
    /// Facts only (environment rules need them).
    Facts,
}

fn read_sides(reader: &Reader, p: &PolicyFile) -> Result<Vec<Side>, String> {
    p.sides
        .iter()
        .map(|(suffix, f)| {
            reader.read(f).map(|b| Side {
                path: f.path.clone(),
                suffix,
                bytes: b.into(),
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())
}

fn invalid(path: &str, message: String, line: usize, column: usize) -> Finding {
    Finding::new(ids::INVALID, Severity::Error, path, message)
        .with_help("fix the file (valid JSON object with a name), or remove it")
        .at(line, column)
}

impl Worker<'_> {
    fn process(&self, env: &Arc<EnvData>, p: &PolicyFile, work: Work, reader: &Reader) -> Done {
        let mut findings = Vec::new();
        let bytes = match reader.read(&p.file) {
            Ok(b) => b,
            Err(e) => {
                findings.push(Finding::new(
                    ids::INVALID,
                    Severity::Error,
                    &p.path,
                    format!("cannot be read: {e}"),
                ));
                return Done {
                    findings,
                    facts: None,
                };
            }
        };
        let sides = match read_sides(reader, p) {
            Ok(s) => s,
            Err(e) => {
                findings.push(Finding::new(
                    ids::INVALID,
                    Severity::Error,
                    &p.path,
                    format!("a script file cannot be read: {e}"),
                ));
                return Done {
                    findings,
                    facts: None,
                };
            }
        };
        let side_bytes: Vec<&[u8]> = sides.iter().map(|s| &*s.bytes).collect();
        if work == Work::Facts {
            let facts = parse_fast(&bytes)
                .ok()
                .filter(Value::is_object)
                .map(|v| Arc::new(Facts::of(p.kind, &v, &side_bytes)));
            return Done { findings, facts };
        }
        let loaded = match load(p.kind, &bytes) {
            Ok(l) => l,
            Err((message, line, column)) => {
                findings.push(invalid(&p.path, message, line, column));
                return Done {
                    findings,
                    facts: None,
                };
            }
        };
        if !loaded.canonical {
            findings.push(
                Finding::new(
                    ids::NOT_CANONICAL,
                    Severity::Error,
                    &p.path,
                    "the file is not in canonical form",
                )
                .with_help(format!("run `tenantgate fmt {}`", p.path))
                .at(loaded.first_diff, 1),
            );
        }
        let facts = Arc::new(Facts::of(p.kind, &loaded.value, &side_bytes));
        let value = Arc::new(loaded.value);
        let ctx = Ctx(Arc::new(CtxInner {
            env: env.clone(),
            settings: self.settings.clone(),
            path: p.path.clone(),
            kind: p.kind.name.to_string(),
            name: facts.name.clone(),
            doc: Some(PolicyDoc {
                value: value.clone(),
                bytes: Arc::from(bytes.as_slice()),
                sides,
            }),
            kinds: None,
        }));
        let view = Dynamic::from(PolicyView::loaded(value.clone()));
        let mut places: Option<Places> = None;
        for (i, rule) in self.shared.rules.iter().enumerate() {
            if rule.scope != RuleScope::Policy || !rule.applies_to(p.kind.name) {
                continue;
            }
            let Some(raws) = self.call(i, "check", &p.path, (view.clone(), ctx.clone()), 1) else {
                continue;
            };
            for raw in raws {
                match place_policy_finding(rule, raw, p) {
                    Ok((mut f, in_json)) => {
                        if in_json && f.line.is_none() {
                            let places = places.get_or_insert_with(|| {
                                Places::of(&bytes, &value, loaded.canonical)
                            });
                            let (l, c) = places.nearest(f.pointer.as_deref().unwrap_or(""));
                            f.line = Some(l);
                            f.column = Some(c);
                        }
                        findings.push(f);
                    }
                    Err(message) => self.shared.fail(i, &p.path, message, None, None, false),
                }
            }
        }
        Done {
            findings,
            facts: Some(facts),
        }
    }

    /// Run environment rule `i` over `env`.
    fn environment(&self, i: usize, env: &Arc<EnvData>, docs: Docs<'_>) -> Vec<RawFinding> {
        let rule = &self.shared.rules[i];
        let main = Arc::new(docs.main.clone());
        let other = docs.other.map(|(s, paths)| (Arc::new(s.clone()), paths));
        let policies: rhai::Array = env
            .entries
            .iter()
            .filter(|e| rule.applies_to(e.kind))
            .map(|e| {
                let snapshot = match &other {
                    Some((s, paths)) if paths.contains(&e.path) => s.clone(),
                    _ => main.clone(),
                };
                let file = snapshot.file(&e.path);
                // Read on first use: most environment rules never open most policies.
                let view = PolicyView::lazy(Arc::new(move || {
                    let file = file.as_ref().ok_or("the file is gone")?;
                    let bytes = snapshot.reader().read(file).map_err(|e| e.to_string())?;
                    parse_fast(&bytes).map(Arc::new).map_err(|e| e.to_string())
                }));
                let mut m = rhai::Map::new();
                m.insert("path".into(), e.path.clone().into());
                m.insert("kind".into(), e.kind.into());
                m.insert("name".into(), e.facts.name.clone().into());
                m.insert("policy".into(), Dynamic::from(view));
                Dynamic::from_map(m)
            })
            .collect();
        let ctx = Ctx(Arc::new(CtxInner {
            env: env.clone(),
            settings: self.settings.clone(),
            path: crate::policy::env_dir(&env.env),
            kind: String::new(),
            name: String::new(),
            doc: None,
            kinds: rule.kinds.clone(),
        }));
        let target = format!(
            "{} (environment {})",
            crate::policy::env_dir(&env.env),
            env.env
        );
        let shown = policies.len();
        self.call(
            i,
            "check_all",
            &target,
            (Dynamic::from_array(policies), ctx),
            shown,
        )
        .unwrap_or_default()
    }
}

/// The most worker threads a run starts: each has a 32 MB stack (address space, mostly never
/// touched), and more threads than policies or cores only wait.
pub const MAX_THREADS: usize = 256;

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, LintError> {
    let n = threads
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(2)
        .clamp(1, MAX_THREADS);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        // Rhai recursion is deep in debug builds; nested calls are limited anyway.
        .stack_size(32 * 1024 * 1024)
        .thread_name(|i| format!("tenantgate-lint-{i}"))
        .build()
        .map_err(|e| LintError::Threads(e.to_string()))
}

/// What `check` is asked to do.
pub struct CheckScope<'a> {
    pub head: &'a Snapshot,
    pub envs: Vec<String>,
    /// Pull-request and staged mode: the changed paths (added, modified, deleted) below
    /// `tenants/`. Per-policy rules run on changed policies only.
    pub changed: Option<&'a BTreeSet<String>>,
    /// Pull-request and staged mode: what the change is compared with (the merge base, or
    /// HEAD for the index; an empty snapshot before the first commit). Environment rules judge
    /// the head's whole environment and the base's, and only findings new in the head are
    /// kept. Without it, environment findings are kept when they touch a changed path.
    pub base: Option<&'a Snapshot>,
    pub history: Option<Arc<dyn History>>,
    pub threads: Option<usize>,
}

/// What [`check_run`] found.
pub struct Checked {
    /// Not yet waived.
    pub findings: Vec<Finding>,
    pub envs: Vec<EnvReport>,
    /// Rule id → how many policies the rule judged: per-policy rules, the policies it was
    /// called on; environment rules, the policies of its kinds it was shown. `0`: it judged
    /// nothing (no policy of its kinds, nothing of its kinds changed, or it was stopped).
    pub judged: BTreeMap<String, usize>,
}

/// Run the rules of `prepared` over the environments of `scope`: findings (not yet waived)
/// and what each environment held.
pub fn check(
    prepared: &Prepared,
    scope: &CheckScope<'_>,
    cache: &mut FactsCache,
) -> Result<(Vec<Finding>, Vec<EnvReport>), LintError> {
    check_run(prepared, scope, cache).map(|c| (c.findings, c.envs))
}

fn cache_keys(policies: &[PolicyFile]) -> Vec<Option<cache::Key>> {
    policies
        .iter()
        .map(|p| {
            Some(cache::Key {
                blob: p.file.id?,
                sides: p.sides.iter().map(|(_, s)| s.id).collect::<Option<_>>()?,
            })
        })
        .collect()
}

/// Names of directory objects (groups, scope tags, …) by reference word, lower case; a word
/// is left out when its kind has no folder in the environment (not exported).
fn directory_of(
    snap: &Snapshot,
    env: &str,
    policies: &[PolicyFile],
    facts: &[Option<Arc<Facts>>],
) -> HashMap<&'static str, HashSet<String>> {
    let mut directory: HashMap<&'static str, HashSet<String>> = HashMap::new();
    for (p, f) in policies.iter().zip(facts) {
        if let (Some(target), Some(f)) = (p.kind.directory, f) {
            directory
                .entry(target.word())
                .or_default()
                .insert(f.name.to_lowercase());
        }
    }
    for k in kinds::KINDS {
        if let Some(t) = k.directory
            && snap
                .list(&format!("{}/{}", crate::policy::env_dir(env), k.name))
                .is_empty()
        {
            directory.remove(t.word());
        }
    }
    directory
}

fn entries_of(policies: &[PolicyFile], facts: Vec<Option<Arc<Facts>>>) -> Vec<Entry> {
    policies
        .iter()
        .zip(facts)
        .filter_map(|(p, f)| {
            Some(Entry {
                path: p.path.clone(),
                kind: p.kind.name,
                facts: f?,
            })
        })
        .collect()
}

/// Facts of `policies` (files of `snap`): from the cache by blob id, else read (facts only)
/// and added to the cache.
fn facts_from(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    snap: &Snapshot,
    env: &Arc<EnvData>,
    policies: &[PolicyFile],
    cache: &mut FactsCache,
) -> Vec<Option<Arc<Facts>>> {
    let keys = cache_keys(policies);
    let mut facts: Vec<Option<Arc<Facts>>> = keys
        .iter()
        .map(|k| k.as_ref().and_then(|k| cache.get(k).cloned()))
        .collect();
    let pending: Vec<usize> = (0..policies.len())
        .filter(|&i| facts[i].is_none())
        .collect();
    let done = run_jobs(pool, shared, snap, env, policies, &pending, &|_| {
        Work::Facts
    });
    for (&i, d) in pending.iter().zip(done) {
        if let (Some(f), Some(k)) = (&d.facts, &keys[i]) {
            cache.insert(k.clone(), f.clone());
        }
        facts[i] = d.facts;
    }
    facts
}

/// Where environment rules read documents from: `main`, except the paths of `other`, which
/// are read from its snapshot (a deleted policy restored from the base).
#[derive(Clone, Copy)]
struct Docs<'a> {
    main: &'a Snapshot,
    other: Option<(&'a Snapshot, &'a HashSet<String>)>,
}

/// Environment rules `rules` over `data`, on the calling (pool) thread.
fn run_env_rules(
    shared: &Shared<'_>,
    rules: &[usize],
    data: &Arc<EnvData>,
    docs: Docs<'_>,
) -> Vec<(usize, Vec<RawFinding>)> {
    if rules.is_empty() {
        return Vec::new();
    }
    let w = Worker::new(shared);
    rules
        .iter()
        .map(|&i| (i, w.environment(i, data, docs)))
        .collect()
}

/// How findings of one run are matched with another's: rule, path, pointer and message.
type FindingKey = (usize, String, String, String);

fn finding_key(i: usize, r: &RawFinding, root: &str) -> FindingKey {
    (
        i,
        r.path.clone().unwrap_or_else(|| root.to_string()),
        r.pointer.clone().unwrap_or_default(),
        r.message.clone(),
    )
}

/// Keep the findings of environment rule `i` that name a path inside the environment; the
/// others are the rule's error.
fn inside_env(shared: &Shared<'_>, i: usize, root: &str, raws: Vec<RawFinding>) -> Vec<RawFinding> {
    raws.into_iter()
        .filter(|r| {
            let path = r.path.as_deref().unwrap_or(root);
            let ok = path == root || path.starts_with(&format!("{root}/"));
            if !ok {
                shared.fail(
                    i,
                    root,
                    format!("a finding names {path:?}, which is not in {root}/"),
                    None,
                    None,
                    false,
                );
            }
            ok
        })
        .collect()
}

/// The per-policy side of an environment in pull-request and staged mode.
struct PolicySides<'a> {
    env: &'a str,
    policies: &'a [PolicyFile],
    /// Which of `policies` changed (per-policy rules ran on them).
    full: &'a [bool],
    /// The head's environment data (its directory).
    data: &'a Arc<EnvData>,
    base_policies: &'a [PolicyFile],
}

/// The base's directory in pull-request and staged mode.
struct BaseDirectory {
    /// As `EnvData::directory`: reference word -> lower-case names.
    directory: HashMap<&'static str, HashSet<String>>,
    /// Every (word, name as written) of it.
    names: Vec<(&'static str, String)>,
}

impl BaseDirectory {
    fn read(
        pool: &rayon::ThreadPool,
        shared: &Shared<'_>,
        base: &Snapshot,
        env: &Arc<EnvData>,
        base_policies: &[PolicyFile],
        cache: &mut FactsCache,
    ) -> BaseDirectory {
        let dir_policies: Vec<PolicyFile> = base_policies
            .iter()
            .filter(|p| p.kind.directory.is_some())
            .cloned()
            .collect();
        let facts = facts_from(pool, shared, base, env, &dir_policies, cache);
        let names = dir_policies
            .iter()
            .zip(&facts)
            .filter_map(|(p, f)| Some((p.kind.directory?.word(), f.as_ref()?.name.clone())))
            .collect();
        BaseDirectory {
            directory: directory_of(base, &env.env, &dir_policies, &facts),
            names,
        }
    }
}

/// A finding's identity across the two sides of a change: rule, file, pointer and message
/// (lines move when a file is edited).
fn same_finding(f: &Finding) -> (String, String, String, String) {
    (
        f.rule.clone(),
        f.path.clone(),
        f.pointer.clone().unwrap_or_default(),
        f.message.clone(),
    )
}

/// Pull-request and staged mode, per-policy rules: keep what the change brings in.
///
/// - Findings on a changed policy that its base version already had are not the change's.
/// - A directory object the change removes or renames (a group, a scope tag, …) can break
///   policies the change does not touch: when names are gone, per-policy rules run on the
///   unchanged policies with the head's directory and with the base's, and what only the head
///   has is reported, saying which names went.
#[allow(clippy::too_many_arguments)]
fn judge_policies(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    scope: &CheckScope<'_>,
    base: &Snapshot,
    changed: &BTreeSet<String>,
    sides: &PolicySides<'_>,
    head_findings: Vec<Finding>,
    base_dir: &BaseDirectory,
) -> Vec<Finding> {
    let quiet = shared.quiet();
    let base_data = Arc::new(EnvData {
        env: sides.env.to_string(),
        entries: Vec::new(),
        directory: base_dir.directory.clone(),
        history: scope.history.clone(),
        conflict_limit: sides.data.conflict_limit,
        focus: None,
        managed: sides.data.managed.clone(),
    });
    // 1. What the changed policies' base versions already had.
    let before_jobs: Vec<usize> = (0..sides.base_policies.len())
        .filter(|&i| {
            let p = &sides.base_policies[i];
            changed.contains(&p.path) || p.sides.iter().any(|(_, s)| changed.contains(&s.path))
        })
        .collect();
    let before: HashSet<_> = run_jobs(
        pool,
        &quiet,
        base,
        &base_data,
        sides.base_policies,
        &before_jobs,
        &|_| Work::Full,
    )
    .into_iter()
    .flat_map(|d| d.findings)
    .map(|f| same_finding(&f))
    .collect();
    let mut out: Vec<Finding> = head_findings
        .into_iter()
        .filter(|f| !before.contains(&same_finding(f)))
        .collect();
    // 2. Names the change removed from the directory.
    let mut gone: Vec<String> = base_dir
        .names
        .iter()
        .filter(|(word, name)| {
            sides
                .data
                .directory
                .get(word)
                .is_some_and(|now| !now.contains(&name.to_lowercase()))
        })
        .map(|(word, name)| format!("@{word}:{name}"))
        .collect();
    gone.sort();
    gone.dedup();
    if gone.is_empty() {
        return out;
    }
    let unchanged: Vec<usize> = (0..sides.policies.len())
        .filter(|&i| !sides.full[i])
        .collect();
    // A rule that fails on the head's side is reported; the base's side stays quiet.
    let run = |who: &Shared<'_>, data: &Arc<EnvData>| -> Vec<Finding> {
        run_jobs(
            pool,
            who,
            scope.head,
            data,
            sides.policies,
            &unchanged,
            &|_| Work::Full,
        )
        .into_iter()
        .flat_map(|d| d.findings)
        .collect()
    };
    let was: HashSet<_> = run(&quiet, &base_data).iter().map(same_finding).collect();
    for mut f in run(shared, sides.data) {
        if was.contains(&same_finding(&f)) {
            continue;
        }
        // The names the finding is about, else every name that went.
        let lower = f.message.to_lowercase();
        let named: Vec<&str> = gone
            .iter()
            .filter(|g| lower.contains(&g.to_lowercase()))
            .map(String::as_str)
            .collect();
        let what = if named.is_empty() {
            gone.join(", ")
        } else {
            named.join(", ")
        };
        f.message = format!("{}{}{what})", f.message, super::finding::REMOVAL_NOTE);
        out.push(f);
    }
    out
}

/// An environment of the head, ready for its environment rules.
struct HeadEnv<'a> {
    env: &'a str,
    data: &'a Arc<EnvData>,
    /// The base's policy files of the environment.
    base_policies: &'a [PolicyFile],
    /// The base's directory, read before the head's per-policy rules.
    base_directory: &'a HashMap<&'static str, HashSet<String>>,
}

/// Pull-request and staged mode: judge the environment rules on the head's whole environment
/// and on the base's, with the same rules, and keep the head's findings that the base does
/// not have. A new finding that goes away when the policies this change deletes are put back
/// is caused by the deletion, and says so.
#[allow(clippy::too_many_arguments)]
fn judge_change(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    scope: &CheckScope<'_>,
    base: &Snapshot,
    changed: &BTreeSet<String>,
    head: &HeadEnv<'_>,
    env_rules: &[usize],
    cache: &mut FactsCache,
) -> Vec<(usize, RawFinding)> {
    let root = crate::policy::env_dir(head.env);
    let prefix = format!("{root}/");
    // What changed in this environment, by kind: a rule none of whose kinds changed (nor a
    // directory kind, which `ctx.known` answers from) sees the same input on both sides.
    let changed_kinds: HashSet<&str> = changed
        .range(prefix.clone()..)
        .take_while(|p| p.starts_with(&prefix))
        .filter_map(|p| p[prefix.len()..].split_once('/').map(|(k, _)| k))
        .collect();
    let directory_changed = changed_kinds
        .iter()
        .any(|k| kinds::by_name(k).is_some_and(|k| k.directory.is_some()));
    let rules: Vec<usize> = env_rules
        .iter()
        .copied()
        .filter(|&i| {
            directory_changed || changed_kinds.iter().any(|k| shared.rules[i].applies_to(k))
        })
        .collect();
    if rules.is_empty() {
        return Vec::new();
    }
    let mut phases = Phases::start();
    let base_facts = facts_from(pool, shared, base, head.data, head.base_policies, cache);
    phases.done("facts of the base");
    let base_focus: HashSet<String> = head
        .base_policies
        .iter()
        .filter(|p| {
            changed.contains(&p.path) || p.sides.iter().any(|(_, s)| changed.contains(&s.path))
        })
        .map(|p| p.path.clone())
        .collect();
    let base_entries = entries_of(head.base_policies, base_facts);
    let base_data = Arc::new(EnvData {
        env: head.env.to_string(),
        entries: base_entries.clone(),
        directory: head.base_directory.clone(),
        history: scope.history.clone(),
        conflict_limit: head.data.conflict_limit,
        focus: Some(base_focus),
        // The base manages what it holds: a change that adds an environment's first policies
        // of a kind brings in the findings about that kind.
        managed: head.base_policies.iter().map(|p| p.kind.name).collect(),
    });
    // The base's failures are not the head's: a rule error is reported from the head's run.
    let quiet = shared.quiet();
    let head_docs = Docs {
        main: scope.head,
        other: None,
    };
    let base_docs = Docs {
        main: base,
        other: None,
    };
    let (head_raw, base_raw) = pool.install(|| {
        rayon::join(
            || run_env_rules(shared, &rules, head.data, head_docs),
            || run_env_rules(&quiet, &rules, &base_data, base_docs),
        )
    });
    phases.done("environment rules on head and base");
    let before: HashSet<FindingKey> = base_raw
        .iter()
        .flat_map(|(i, raws)| raws.iter().map(|r| finding_key(*i, r, &root)))
        .collect();
    let mut new: Vec<(usize, RawFinding)> = Vec::new();
    for (i, raws) in head_raw {
        for r in inside_env(shared, i, &root, raws) {
            if !before.contains(&finding_key(i, &r, &root)) {
                new.push((i, r));
            }
        }
    }
    // Which of them the deletions caused: judge again with the deleted policies put back.
    let deleted: Vec<&Entry> = base_entries
        .iter()
        .filter(|e| !scope.head.contains(&e.path))
        .collect();
    let mut again: Vec<usize> = new.iter().map(|(i, _)| *i).collect();
    again.dedup();
    again.retain(|&i| deleted.iter().any(|e| shared.rules[i].applies_to(e.kind)));
    if again.is_empty() {
        return new;
    }
    let mut back: HashMap<usize, (Vec<String>, HashSet<FindingKey>)> = HashMap::new();
    let runs: Vec<(usize, Arc<EnvData>, HashSet<String>)> = again
        .iter()
        .map(|&i| {
            let restored: Vec<&Entry> = deleted
                .iter()
                .copied()
                .filter(|e| shared.rules[i].applies_to(e.kind))
                .collect();
            let paths: HashSet<String> = restored.iter().map(|e| e.path.clone()).collect();
            let mut entries = head.data.entries.clone();
            entries.extend(restored.iter().map(|e| (*e).clone()));
            entries.sort_by(|a, b| a.path.cmp(&b.path));
            let mut focus = head.data.focus.clone().unwrap_or_default();
            focus.extend(paths.iter().cloned());
            let data = Arc::new(EnvData {
                env: head.env.to_string(),
                entries,
                directory: head.data.directory.clone(),
                history: scope.history.clone(),
                conflict_limit: head.data.conflict_limit,
                focus: Some(focus),
                managed: head.data.managed.clone(),
            });
            (i, data, paths)
        })
        .collect();
    let results: Vec<(usize, Vec<RawFinding>)> = pool.install(|| {
        let w = Worker::new(&quiet);
        runs.iter()
            .map(|(i, data, paths)| {
                let docs = Docs {
                    main: scope.head,
                    other: Some((base, paths)),
                };
                (*i, w.environment(*i, data, docs))
            })
            .collect()
    });
    for ((i, raws), (_, _, paths)) in results.into_iter().zip(&runs) {
        let mut list: Vec<String> = paths.iter().cloned().collect();
        list.sort();
        let keys = raws.iter().map(|r| finding_key(i, r, &root)).collect();
        back.insert(i, (list, keys));
    }
    for (i, r) in &mut new {
        let Some((paths, keys)) = back.get(i) else {
            continue;
        };
        if keys.contains(&finding_key(*i, r, &root)) {
            continue;
        }
        let what = match paths.as_slice() {
            [one] => one.clone(),
            more => {
                let shown: Vec<&str> = more.iter().take(3).map(String::as_str).collect();
                let rest = if more.len() > 3 {
                    format!(", and {} more", more.len() - 3)
                } else {
                    String::new()
                };
                format!("{} policies: {}{rest}", more.len(), shown.join(", "))
            }
        };
        r.message = format!("{}{}{what})", r.message, super::finding::DELETION_NOTE);
    }
    new
}

/// Turn an environment rule's finding into a [`Finding`].
fn place_env_finding(rule: &Rule, r: RawFinding, root: &str, head: &Snapshot) -> Finding {
    let path = r.path.clone().unwrap_or_else(|| root.to_string());
    let mut f = Finding::new(&rule.id, severity_of(rule, r.severity), &path, r.message);
    f.help = r.help;
    f.related = r.related;
    f.redact = r.redact;
    f.line = r.line;
    f.column = r.line.map(|_| r.column.unwrap_or(1));
    if path.ends_with(".json") && head.contains(&path) {
        f.pointer = Some(r.pointer.unwrap_or_default());
    }
    f
}

/// [`check`], and how much each rule judged.
pub fn check_run(
    prepared: &Prepared,
    scope: &CheckScope<'_>,
    cache: &mut FactsCache,
) -> Result<Checked, LintError> {
    let shared = Shared::new(
        &prepared.rules.rules,
        &prepared.rules.lib,
        &prepared.rules.limits,
        &prepared.settings,
    );
    let pool = pool(scope.threads)?;
    let mut findings = Vec::new();
    let mut reports = Vec::new();
    let mut phases = Phases::start();
    let is_changed = |path: &str| {
        scope.changed.is_none_or(|c| {
            c.contains(path)
                || c.range(format!("{path}/")..)
                    .next()
                    .is_some_and(|x| x.starts_with(&format!("{path}/")))
        })
    };
    // Compared with a base: pull-request and staged mode.
    let compare = scope.changed.zip(scope.base);
    for env in &scope.envs {
        let (policies, mut env_findings) = list_env(scope.head, env);
        env_findings.retain(|f| is_changed(&f.path));
        let state_path = format!("{}/{STATE_PATH}", crate::policy::env_dir(env));
        if is_changed(&state_path) {
            env_findings.extend(check_state(scope.head, &state_path));
        }
        let base_policies = match compare {
            Some((_, base)) => list_env(base, env).0,
            None => Vec::new(),
        };
        let managed: HashSet<&'static str> = policies
            .iter()
            .chain(&base_policies)
            .map(|p| p.kind.name)
            .collect();
        let full: Vec<bool> = policies
            .iter()
            .map(|p| is_changed(&p.path) || p.sides.iter().any(|(_, s)| is_changed(&s.path)))
            .collect();
        // Facts: from the cache where the blob ids are known, else computed.
        let keys = cache_keys(&policies);
        let mut facts: Vec<Option<Arc<Facts>>> = keys
            .iter()
            .map(|k| k.as_ref().and_then(|k| cache.get(k).cloned()))
            .collect();
        // Directory names first: per-policy rules ask whether a reference names something.
        let is_dir = |p: &PolicyFile| p.kind.directory.is_some();
        let pending: Vec<usize> = (0..policies.len())
            .filter(|&i| is_dir(&policies[i]) && facts[i].is_none())
            .collect();
        let focus: Option<HashSet<String>> = scope.changed.map(|_| {
            policies
                .iter()
                .zip(&full)
                .filter(|(_, f)| **f)
                .map(|(p, _)| p.path.clone())
                .collect()
        });
        let base_env = Arc::new(EnvData {
            env: env.clone(),
            entries: Vec::new(),
            directory: HashMap::new(),
            history: scope.history.clone(),
            conflict_limit: 500,
            focus: None,
            managed: managed.clone(),
        });
        let done = run_jobs(
            &pool,
            &shared,
            scope.head,
            &base_env,
            &policies,
            &pending,
            &|_| Work::Facts,
        );
        for (i, d) in pending.iter().zip(done) {
            facts[*i] = d.facts;
        }
        let base_dir = compare.map(|(_, base)| {
            BaseDirectory::read(
                &pool,
                &shared.quiet(),
                base,
                &base_env,
                &base_policies,
                cache,
            )
        });
        let mut directory = directory_of(scope.head, env, &policies, &facts);
        if let Some(b) = &base_dir {
            // A change that deletes every group still has groups to answer for: the kind is
            // managed, with no names left.
            for word in b.directory.keys() {
                directory.entry(word).or_default();
            }
        }
        let env_data = Arc::new(EnvData {
            env: env.clone(),
            entries: Vec::new(),
            directory,
            history: scope.history.clone(),
            conflict_limit: 500,
            focus: None,
            managed: managed.clone(),
        });
        let jobs: Vec<usize> = (0..policies.len())
            .filter(|&i| full[i] || facts[i].is_none())
            .collect();
        let done = run_jobs(
            &pool,
            &shared,
            scope.head,
            &env_data,
            &policies,
            &jobs,
            &|i| {
                if full[i] { Work::Full } else { Work::Facts }
            },
        );
        phases.done(&format!(
            "{env}: per-policy rules on {} policies",
            jobs.len()
        ));
        let mut policy_findings = Vec::new();
        for (i, d) in jobs.iter().zip(done) {
            policy_findings.extend(d.findings);
            if let Some(f) = d.facts {
                if let Some(k) = &keys[*i] {
                    cache.insert(k.clone(), f.clone());
                }
                facts[*i] = Some(f);
            }
        }
        match (compare, &base_dir) {
            (Some((changed, base)), Some(base_dir)) => env_findings.extend(judge_policies(
                &pool,
                &shared,
                scope,
                base,
                changed,
                &PolicySides {
                    env,
                    policies: &policies,
                    full: &full,
                    data: &env_data,
                    base_policies: &base_policies,
                },
                policy_findings,
                base_dir,
            )),
            _ => env_findings.extend(policy_findings),
        }
        let env_data = Arc::new(EnvData {
            env: env.clone(),
            entries: entries_of(&policies, facts),
            directory: env_data.directory.clone(),
            history: scope.history.clone(),
            conflict_limit: 500,
            focus,
            managed,
        });
        // Environment rules, one call each.
        let env_rules: Vec<usize> = (0..shared.rules.len())
            .filter(|&i| shared.rules[i].scope == RuleScope::Environment)
            .collect();
        let root = crate::policy::env_dir(env);
        let kept: Vec<(usize, RawFinding)> = match (compare, &base_dir) {
            (Some((changed, base)), Some(base_dir)) => judge_change(
                &pool,
                &shared,
                scope,
                base,
                changed,
                &HeadEnv {
                    env,
                    data: &env_data,
                    base_policies: &base_policies,
                    base_directory: &base_dir.directory,
                },
                &env_rules,
                cache,
            ),
            _ => {
                let docs = Docs {
                    main: scope.head,
                    other: None,
                };
                let raw = pool.install(|| run_env_rules(&shared, &env_rules, &env_data, docs));
                raw.into_iter()
                    .flat_map(|(i, raws)| {
                        inside_env(&shared, i, &root, raws)
                            .into_iter()
                            .map(move |r| (i, r))
                    })
                    .filter(|(_, r)| {
                        is_changed(r.path.as_deref().unwrap_or(&root))
                            || r.related.iter().any(|x| is_changed(x))
                    })
                    .collect()
            }
        };
        phases.done(&format!("{env}: environment rules"));
        let mut placed: Vec<Finding> = kept
            .into_iter()
            .map(|(i, r)| place_env_finding(&shared.rules[i], r, &root, scope.head))
            .collect();
        place_by_pointer(scope.head, &policies, &mut placed);
        env_findings.extend(placed);
        reports.push(EnvReport {
            name: env.clone(),
            policies: policies.len(),
            checked: full.iter().filter(|&&f| f).count(),
        });
        findings.extend(env_findings);
    }
    findings.extend(shared.findings());
    let judged = shared
        .rules
        .iter()
        .zip(&shared.judged)
        .map(|(r, n)| (r.id.clone(), n.load(Ordering::Relaxed)))
        .collect();
    Ok(Checked {
        findings,
        envs: reports,
        judged,
    })
}

/// Give line and column to findings on JSON files that have a pointer but no line yet.
fn place_by_pointer(head: &Snapshot, policies: &[PolicyFile], findings: &mut [Finding]) {
    let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.line.is_none() && f.pointer.is_some() {
            by_path.entry(f.path.clone()).or_default().push(i);
        }
    }
    let reader = head.reader();
    for (path, idx) in by_path {
        let Some(p) = policies.iter().find(|p| p.path == path) else {
            continue;
        };
        let Ok(bytes) = reader.read(&p.file) else {
            continue;
        };
        let Ok(loaded) = load(p.kind, &bytes) else {
            continue;
        };
        let places = Places::of(&bytes, &loaded.value, loaded.canonical);
        for i in idx {
            let (l, c) = places.nearest(findings[i].pointer.as_deref().unwrap_or(""));
            findings[i].line = Some(l);
            findings[i].column = Some(c);
        }
    }
}

/// Process `jobs` (indices into `policies`) on every thread of `pool`, one engine per thread.
fn run_jobs(
    pool: &rayon::ThreadPool,
    shared: &Shared<'_>,
    head: &Snapshot,
    env: &Arc<EnvData>,
    policies: &[PolicyFile],
    jobs: &[usize],
    work: &(dyn Fn(usize) -> Work + Sync),
) -> Vec<Done> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Done>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let needs_engine = jobs.iter().any(|&i| work(i) == Work::Full);
    let threads = pool
        .current_num_threads()
        .min(jobs.len().div_ceil(8))
        .max(1);
    pool.broadcast(|ctx| {
        if ctx.index() >= threads {
            return;
        }
        let reader = head.reader();
        let worker = needs_engine.then(|| Worker::new(shared));
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = jobs.get(n) else { break };
            let w = work(i);
            let done = match (&worker, w) {
                (Some(worker), _) => worker.process(env, &policies[i], w, &reader),
                (None, _) => facts_only(&policies[i], &reader),
            };
            if let Ok(mut slot) = results[n].lock() {
                *slot = Some(done);
            }
        }
    });
    results
        .into_iter()
        .map(|m| {
            m.into_inner().ok().flatten().unwrap_or(Done {
                findings: Vec::new(),
                facts: None,
            })
        })
        .collect()
}

fn facts_only(p: &PolicyFile, reader: &Reader) -> Done {
    let facts = (|| {
        let bytes = reader.read(&p.file).ok()?;
        let sides = read_sides(reader, p).ok()?;
        let side_bytes: Vec<&[u8]> = sides.iter().map(|s| &*s.bytes).collect();
        let v = parse_fast(&bytes).ok().filter(Value::is_object)?;
        Some(Arc::new(Facts::of(p.kind, &v, &side_bytes)))
    })();
    Done {
        findings: Vec::new(),
        facts,
    }
}

/// Environments below `tenants/` in `head`.
pub fn environments(head: &Snapshot) -> Vec<String> {
    let mut envs: BTreeSet<String> = BTreeSet::new();
    for f in head.list(TENANTS_DIR) {
        if let Some(env) = f.path[TENANTS_DIR.len() + 1..].split('/').next()
            && f.path[TENANTS_DIR.len() + 1..].contains('/')
        {
            envs.insert(env.to_string());
        }
    }
    envs.into_iter().collect()
}

/// Apply `[lint]` to native findings (disabled, severity), and exceptions to all.
pub fn finish(prepared: &Prepared, mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.retain_mut(|f| {
        if super::native_rule(&f.rule).is_none() {
            return true;
        }
        match prepared.rules.native_severity(&f.rule, &prepared.selection) {
            None => false,
            Some(s) => {
                if f.rule != ids::RULE_ERROR {
                    f.severity = s;
                }
                true
            }
        }
    });
    prepared.exceptions.apply(&mut findings, &policy_of);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    findings
}

/// Paths changed between two snapshots' listings below `prefix`.
fn diff_listings(old: &Snapshot, new: &Snapshot, prefix: &str) -> BTreeSet<String> {
    let a: BTreeMap<String, Option<gix::ObjectId>> = old
        .list(prefix)
        .into_iter()
        .map(|f| (f.path, f.id))
        .collect();
    let b: BTreeMap<String, Option<gix::ObjectId>> = new
        .list(prefix)
        .into_iter()
        .map(|f| (f.path, f.id))
        .collect();
    let mut out = BTreeSet::new();
    for (p, id) in &a {
        if b.get(p) != Some(id) {
            out.insert(p.clone());
        }
    }
    for p in b.keys() {
        if !a.contains_key(p) {
            out.insert(p.clone());
        }
    }
    out.extend(new_links(old, new, prefix));
    out
}

/// Symbolic links below `prefix` in `new` that `old` does not have.
fn new_links(old: &Snapshot, new: &Snapshot, prefix: &str) -> Vec<String> {
    let before: BTreeSet<String> = old.links(prefix).into_iter().collect();
    new.links(prefix)
        .into_iter()
        .filter(|l| !before.contains(l))
        .collect()
}

/// `tenantgate lint`: read, check, waive, sort.
pub fn lint(store: &Store, req: &Request) -> Result<Outcome, LintError> {
    let mut phases = Phases::start();
    let short = |id: &gix::ObjectId| id.to_hex_with_len(12).to_string();
    let head_commit = |rev: &str| store.rev_commit(rev);
    // The files linted; the snapshot they are compared with (and whether it is the base of a
    // pull request, which then also judges); the changed paths below tenants/.
    let (head, mode, base, changed) = match (&req.input, &req.base) {
        (Input::Staged, Some(_)) => {
            return Err(LintError::Usage(
                "--staged and --base do not go together: --staged compares the index with HEAD"
                    .into(),
            ));
        }
        (Input::Staged, None) => {
            let head = Snapshot::index(store)?;
            let base = match store.head_commit()? {
                Some(c) => Some(Snapshot::at_commit(
                    store,
                    c,
                    format!("HEAD {}", short(&c)),
                )?),
                None => None,
            };
            // Before the first commit everything staged is new: compared with nothing.
            let base = base.unwrap_or_else(|| {
                let mut empty = Snapshot::memory(BTreeMap::new());
                empty.label = "no commit yet".into();
                empty
            });
            let changed = diff_listings(&base, &head, TENANTS_DIR);
            (
                head,
                "index (staged changes)".to_string(),
                Some((base, false)),
                Some(changed),
            )
        }
        (input, Some(base_rev)) => {
            let rev = match input {
                Input::Rev(r) => r.as_str(),
                _ => "HEAD",
            };
            let head_id = head_commit(rev)?;
            let base_id = head_commit(base_rev)?;
            let mb = store.merge_base(base_id, head_id)?.ok_or_else(|| {
                LintError::Usage(format!("{base_rev} and {rev} have no common ancestor"))
            })?;
            let head = Snapshot::at_commit(store, head_id, format!("{rev} {}", short(&head_id)))?;
            // The base's policies too: environment rules judge both sides.
            let base = Snapshot::at_commit(store, mb, format!("merge base {}", short(&mb)))?;
            let mut changed: BTreeSet<String> = store
                .changed_files(Some(mb), head_id, TENANTS_DIR)?
                .into_iter()
                .map(|c| c.path)
                .collect();
            changed.extend(new_links(&base, &head, TENANTS_DIR));
            let mode = format!(
                "pull request: {} (merge base of {base_rev}) → {rev} {}",
                short(&mb),
                short(&head_id)
            );
            (head, mode, Some((base, true)), Some(changed))
        }
        (Input::Rev(r), None) => {
            let id = head_commit(r)?;
            let label = format!("{r} {}", short(&id));
            (
                Snapshot::at_commit(store, id, label.clone())?,
                format!("revision {label}"),
                None,
                None,
            )
        }
        (Input::Worktree, None) => (
            Snapshot::worktree(store)?,
            "worktree".to_string(),
            None,
            None,
        ),
    };
    // Pull-request mode judges with the base's configuration, rules and exceptions.
    let governance = match &base {
        Some((b, true)) => b.clone(),
        _ => head.clone(),
    };
    phases.done("listing the files");
    let prepared = prepare(&governance, req.today, req.limits.clone())?;
    phases.done("reading configuration and compiling rules");
    let mut findings = prepared.rules.findings.clone();
    findings.extend(prepared.exceptions.findings.iter().cloned());
    if let Some((b, true)) = &base {
        let mut touched = diff_listings(b, &head, "rules");
        for f in [CONFIG_FILE, EXCEPTIONS_FILE] {
            if b.file(f).map(|x| x.id) != head.file(f).map(|x| x.id) {
                touched.insert(f.to_string());
            }
        }
        for path in touched {
            let what = if head.contains(&path) {
                "changes"
            } else {
                "deletes"
            };
            findings.push(
                Finding::new(
                    ids::RULES_CHANGED,
                    Severity::Warning,
                    &path,
                    format!("this pull request {what} {path}: it is judged by the base's rules, configuration and exceptions, not by this change"),
                )
                .with_help("a change to the rules needs its own approval; it applies to pull requests once merged"),
            );
        }
    }
    let envs = match &req.env {
        Some(e) => {
            crate::config::check_env_name(e).map_err(LintError::Usage)?;
            if head.list(&crate::policy::env_dir(e)).is_empty() {
                return Err(LintError::Usage(format!(
                    "no environment {e:?}: there is no {}/ in the {}",
                    crate::policy::env_dir(e),
                    head.label
                )));
            }
            vec![e.clone()]
        }
        None => {
            let (valid, invalid): (Vec<String>, Vec<String>) = environments(&head)
                .into_iter()
                .partition(|e| crate::config::valid_env_name(e));
            // A folder whose name no environment can have is never exported or applied, and
            // its policies would otherwise pass unseen.
            for name in invalid {
                findings.push(
                    Finding::new(
                        ids::INVALID,
                        Severity::Error,
                        &crate::policy::env_dir(&name),
                        format!("`{name}` cannot be an environment: its policies are never linted, exported or applied"),
                    )
                    .with_help(format!(
                        "rename the folder; environment names are {}",
                        crate::config::ENV_NAME_RULE
                    )),
                );
            }
            valid
        }
    };
    let history: Option<Arc<dyn History>> = head.commit.map(|c| {
        Arc::new(super::history::GitHistory::new(store.reader(), c, req.now)) as Arc<dyn History>
    });
    // The cache is keyed by blob ids, which worktree files do not have.
    let mut cache = if req.cache && head.has_ids() {
        FactsCache::open(store.git_dir())
    } else {
        FactsCache::in_memory()
    };
    let scope = CheckScope {
        head: &head,
        envs,
        changed: changed.as_ref(),
        base: base.as_ref().map(|(b, _)| b),
        history,
        threads: req.threads,
    };
    phases.done("reading the facts cache");
    let checked = check_run(&prepared, &scope, &mut cache)?;
    phases.done("checks");
    cache.save();
    phases.done("writing the facts cache");
    findings.extend(checked.findings);
    let envs = checked.envs;
    let findings = finish(&prepared, findings);
    Ok(Outcome {
        findings,
        fail_on: req.fail_on.unwrap_or(prepared.fail_on),
        envs,
        rules: prepared.rules.rules.clone(),
        judged: checked.judged,
        head,
        governance,
        mode,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::{RuleSource, Selection};

    fn one_policy_run(rule: &str, limits: Limits) -> (Vec<Finding>, std::time::Duration) {
        let mut files = BTreeMap::new();
        files.insert(
            "tenants/dev/settings-catalog/a.json".to_string(),
            to_canonical(&serde_json::json!({"name": "WIN-SC-A", "settings": []})),
        );
        run_over(files, rule, limits)
    }

    fn run_over(
        files: BTreeMap<String, Vec<u8>>,
        rule: &str,
        limits: Limits,
    ) -> (Vec<Finding>, std::time::Duration) {
        let head = Snapshot::memory(files);
        let rules = RuleSet::load(
            vec![RuleSource {
                file: "rules/r.rhai".into(),
                text: Arc::from(rule),
                origin: Origin::Repository,
            }],
            Vec::new(),
            &Selection::default(),
            limits,
        );
        assert!(rules.findings.is_empty(), "{:?}", rules.findings);
        let prepared = Prepared {
            rules,
            selection: Selection::default(),
            settings: serde_json::json!({}),
            exceptions: Exceptions::default(),
            fail_on: FailOn::default(),
        };
        let scope = CheckScope {
            head: &head,
            envs: vec!["dev".into()],
            changed: None,
            base: None,
            history: None,
            threads: Some(1),
        };
        let start = std::time::Instant::now();
        let (found, _) = check(&prepared, &scope, &mut FactsCache::in_memory()).unwrap();
        (found, start.elapsed())
    }

    #[test]
    fn the_wall_clock_stops_a_rule_that_no_operation_limit_stops() {
        let limits = Limits {
            max_operations: 0, // no operation limit: only the clock can stop it
            timeout: std::time::Duration::from_millis(300),
            ..Limits::default()
        };
        let rule = "const ID = \"t/slow\";\nconst SEVERITY = \"error\";\nconst KINDS = [\"*\"];\nconst SUMMARY = \"s\";\nfn check(policy, ctx) {\n    let n = 0;\n    loop { n += 1; }\n}\n";
        let (found, elapsed) = one_policy_run(rule, limits);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, ids::RULE_ERROR);
        assert!(
            found[0].message.contains("ran past its time limit"),
            "{}",
            found[0].message
        );
        assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
    }

    #[test]
    fn a_rule_slow_on_every_policy_is_stopped_by_its_budget() {
        let limits = Limits {
            budget: std::time::Duration::from_millis(200),
            ..Limits::default()
        };
        // About 50 ms a call: never a timeout, but 40 policies would take two seconds.
        let rule = "const ID = \"t/slowish\";\nconst SEVERITY = \"error\";\nconst KINDS = [\"*\"];\nconst SUMMARY = \"s\";\nfn check(policy, ctx) {\n    let t = timestamp();\n    while t.elapsed < 0.05 {}\n    []\n}\n";
        let mut files = BTreeMap::new();
        for i in 0..40 {
            files.insert(
                format!("tenants/dev/settings-catalog/p{i}.json"),
                to_canonical(&serde_json::json!({"name": format!("WIN-SC-P{i}"), "settings": []})),
            );
        }
        let (found, elapsed) = run_over(files, rule, limits);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("time budget"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("did not check"),
            "{}",
            found[0].message
        );
        assert!(
            elapsed < std::time::Duration::from_millis(1500),
            "{elapsed:?}"
        );
    }

    #[test]
    fn a_rule_returning_garbage_is_a_rule_error_naming_the_policy() {
        let rule = "const ID = \"t/bad\";\nconst SEVERITY = \"error\";\nconst KINDS = [\"*\"];\nconst SUMMARY = \"s\";\nfn check(policy, ctx) { [#{ message: \"m\", file: \"elsewhere.ps1\" }] }\n";
        let (found, _) = one_policy_run(rule, Limits::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .contains("tenants/dev/settings-catalog/a.json"),
            "{}",
            found[0].message
        );
        assert!(
            found[0]
                .message
                .contains("not tenants/dev/settings-catalog/a.json or one of its script files"),
            "{}",
            found[0].message
        );
    }

    /// A user once asked for `--threads 100000`: a hundred thousand 32 MB stacks.
    #[test]
    fn worker_threads_are_capped() {
        assert_eq!(
            pool(Some(100_000)).unwrap().current_num_threads(),
            MAX_THREADS
        );
        assert_eq!(pool(Some(0)).unwrap().current_num_threads(), 1);
        assert_eq!(pool(Some(3)).unwrap().current_num_threads(), 3);
    }

    #[test]
    fn side_files_map_to_their_policy() {
        assert_eq!(
            policy_of("tenants/dev/remediation-scripts/x.detection.ps1").as_deref(),
            Some("tenants/dev/remediation-scripts/x.json")
        );
        assert_eq!(
            policy_of("tenants/dev/powershell-scripts/a.b.ps1").as_deref(),
            Some("tenants/dev/powershell-scripts/a.b.json")
        );
        assert_eq!(policy_of("tenants/dev/settings-catalog/x.json"), None);
    }

    #[test]
    fn first_differing_line() {
        assert_eq!(
            first_diff_line(b"{\n  \"a\": 1\n}\n", b"{\n  \"a\": 1\n}\n"),
            4
        );
        assert_eq!(
            first_diff_line(b"{\r\n  \"a\": 1\r\n}\r\n", b"{\n  \"a\": 1\n}\n"),
            1
        );
        assert_eq!(
            first_diff_line(b"{\n \"a\": 1\n}\n", b"{\n  \"a\": 1\n}\n"),
            2
        );
    }
}
