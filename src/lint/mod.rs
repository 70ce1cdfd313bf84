//! Lint: sandboxed Rhai rules over the policy repository (issue 4, design §4 and §5).
//!
//! - [`rules`]: the built-in pack and the repository's rules, loaded and checked;
//! - [`engine`]: the sandbox (limits, deadline, no `eval`, imports only from `rules/lib/`);
//! - [`api`]: what rules see (`policy`, `ctx`, helpers) and how their answers become findings;
//! - [`natives`], [`facts`], [`cache`]: whole-document walks in Rust, per-policy facts for
//!   environment rules, cached by blob id;
//! - [`run`]: one lint run over the worktree, a revision, the index or a pull request (rules,
//!   configuration and exceptions from the base);
//! - [`exceptions`], [`history`], [`spans`], [`files`], [`testing`] (`rules test`).

pub mod api;
pub mod cache;
pub mod engine;
pub mod exceptions;
pub mod facts;
pub mod files;
pub mod finding;
pub mod history;
pub mod natives;
pub mod rules;
pub mod run;
pub mod spans;
pub mod testing;

pub use engine::Limits;
pub use finding::{
    Counts, FINGERPRINT_KEY, FailOn, Finding, Severity, Waiver, ids, normalized_message,
    valid_rule_id,
};
pub use run::{Input, MAX_THREADS, Outcome, Request, lint};

/// A finding the engine reports itself (not a Rhai rule), documented like rules are.
#[derive(Debug, Clone, Copy)]
pub struct NativeRule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub doc: &'static str,
}

/// Every finding id the engine reports itself.
pub const NATIVE_RULES: &[NativeRule] = &[
    NativeRule {
        id: ids::RULE_ERROR,
        severity: Severity::Error,
        summary: "A rule could not run: it does not compile, breaks the rule contract, or hit a sandbox limit",
        doc: "A broken or runaway rule does not stop lint: it is reported here, with the rule file and line, and every other rule still reports. Limits: operations, nested calls, expression depth, string, array and map sizes, imported modules, a wall-clock limit per call and a time budget for all of a rule's calls in one run; after three calls that hit a limit, or once the budget is used, the rule is stopped for the rest of the run. A rule error is an error (it fails lint) and no exception waives it: a check that did not run cannot pass.",
    },
    NativeRule {
        id: ids::CONFIG,
        severity: Severity::Warning,
        summary: "`[lint]` in tenantgate.toml names a rule that does not exist",
        doc: "A typo in `[lint] disabled` or `[lint.severity]` would silently do nothing; this finding points at the line.",
    },
    NativeRule {
        id: ids::NOT_CANONICAL,
        severity: Severity::Error,
        summary: "The policy file is not in canonical form",
        doc: "Every policy file is stored in canonical form (design §1): UTF-8 without BOM, LF, two-space indent, sorted keys, sets sorted, volatile fields dropped. A file that differs would make diffs noisy and reviews unreliable. The finding points at the first line that differs. Fix: `tenantgate fmt PATH`.",
    },
    NativeRule {
        id: ids::INVALID,
        severity: Severity::Error,
        summary: "A file (or an environment folder) cannot be read as what it should be",
        doc: "A policy file that is not valid JSON (in UTF-8 or UTF-16), has a key twice, is not an object, or has no name; a `state.json` that does not fit its model; or a folder under `tenants/` whose name cannot be an environment. No rule can judge it, so it is an error, and no exception waives it.",
    },
    NativeRule {
        id: ids::UNKNOWN_KIND,
        severity: Severity::Error,
        summary: "A folder under tenants/<env>/ is not a kind TenantGate knows",
        doc: "Policies live in `tenants/<env>/<kind>/`, where `<kind>` is one of the kind names (`settings-catalog`, `conditional-access`, …). Files in another folder are never applied and never linted; the folder is probably misspelt.",
    },
    NativeRule {
        id: ids::RULES_CHANGED,
        severity: Severity::Warning,
        summary: "A pull request changes tenantgate.toml, rules/ or exceptions.toml",
        doc: "In pull-request mode (`--base`), the configuration, rules and exceptions come from the merge base of the base branch and the head, so a pull request cannot weaken the checks that judge it. A change to them is reported here so that it gets its own approval; it takes effect once merged.",
    },
    NativeRule {
        id: ids::EXCEPTION_EXPIRED,
        severity: Severity::Warning,
        summary: "An exception in exceptions.toml has expired",
        doc: "Exceptions expire (a UTC date, inclusive). An expired exception waives nothing: the findings it waived count again. Renew it with a new date and approval, or fix what it waived.",
    },
    NativeRule {
        id: ids::EXCEPTION_INVALID,
        severity: Severity::Error,
        summary: "An exception in exceptions.toml is malformed",
        doc: "Each `[[exception]]` has `rule` (an id or glob), `path` (a glob), `justification`, `approved_by` and `expires` (a date). A malformed exception waives nothing.",
    },
];

/// The native rule with this id.
pub fn native_rule(id: &str) -> Option<&'static NativeRule> {
    NATIVE_RULES.iter().find(|n| n.id == id)
}

/// What can stop a lint run (findings never do).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("starting worker threads: {0}")]
    Threads(String),
}
