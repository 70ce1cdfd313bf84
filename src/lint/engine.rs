//! The Rhai sandbox (design §5): limits on operations, call depth, expression depth, string,
//! array and map sizes and modules; a wall-clock deadline per call; no `eval`; imports only
//! from the rule pack's `lib/` (from Git objects, never the file system); `print` and `debug`
//! go to tracing. Rhai itself has no file, network, process or environment access.

use rhai::module_resolvers::StaticModuleResolver;
use rhai::{Dynamic, Engine};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Resource limits of one rule call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations per call (an infinite loop ends here).
    pub max_operations: u64,
    /// Nested function calls (runaway recursion ends here).
    pub max_call_levels: usize,
    /// Expression nesting at global level and in functions (parse time).
    pub max_expr_depth: usize,
    pub max_fn_expr_depth: usize,
    /// Bytes of one string.
    pub max_string_size: usize,
    /// Elements of one array, entries of one map.
    pub max_array_size: usize,
    pub max_map_size: usize,
    /// Modules one call may import from `rules/lib/`.
    pub max_modules: usize,
    /// Wall-clock time of one call.
    pub timeout: Duration,
    /// Wall-clock time of all of one rule's calls in one run: a rule that is slow on every
    /// policy, but never slow enough to hit `timeout`, is stopped here.
    pub budget: Duration,
    /// After this many failed calls, a rule is stopped for the rest of the run.
    pub max_failures: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 5_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_fn_expr_depth: 48,
            max_string_size: 8 * 1024 * 1024,
            max_array_size: 500_000,
            max_map_size: 100_000,
            max_modules: 16,
            timeout: Duration::from_secs(2),
            budget: Duration::from_secs(60),
            max_failures: 3,
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The wall-clock deadline of the call in progress on one engine; reset before every call.
#[derive(Clone, Default)]
pub struct Deadline(Arc<AtomicU64>);

impl Deadline {
    /// Start a call that may run for `limit`.
    pub fn start(&self, limit: Duration) {
        let at = epoch().elapsed() + limit;
        self.0.store(
            u64::try_from(at.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn passed(&self) -> bool {
        let now = u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX);
        now > self.0.load(Ordering::Relaxed)
    }
}

/// The message an engine stops a call with when its deadline passed.
pub const TIMEOUT_MESSAGE: &str = "the rule ran past its time limit";

/// A sandboxed engine with the rule API registered.
pub fn sandboxed(limits: &Limits, lib: &StaticModuleResolver, deadline: &Deadline) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_fn_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_modules(limits.max_modules)
        .set_max_variables(10_000)
        .set_max_functions(1_000)
        .set_strict_variables(true)
        .set_module_resolver(lib.clone());
    engine.disable_symbol("eval");
    let d = deadline.clone();
    engine.on_progress(move |ops| {
        // Reading the clock on every operation would cost more than the rule.
        if ops % 512 == 0 && d.passed() {
            Some(Dynamic::from(TIMEOUT_MESSAGE))
        } else {
            None
        }
    });
    engine.on_print(|s| tracing::info!(target: "tenantgate::rules", "{s}"));
    engine.on_debug(|s, source, pos| {
        tracing::debug!(target: "tenantgate::rules", "{}:{pos}: {s}", source.unwrap_or("rule"))
    });
    super::api::register(&mut engine);
    engine
}

/// A compiled rule: its AST and whether it has top-level imports (then the top level runs
/// before each call so that functions see the imported modules).
pub struct Compiled {
    pub ast: rhai::AST,
    pub eval_top_level: bool,
}

/// Does the script import modules at its top level?
pub fn has_top_level_import(source: &str) -> bool {
    source
        .lines()
        .any(|l| l.starts_with("import ") || l.starts_with("import\t"))
}

/// Where a Rhai error happened: the innermost position it carries (inside the called
/// function rather than at the call).
pub fn error_position(e: &rhai::EvalAltResult) -> rhai::Position {
    use rhai::EvalAltResult as E;
    let inner = match e {
        E::ErrorInFunctionCall(_, _, inner, _) | E::ErrorInModule(_, inner, _) => {
            Some(error_position(inner))
        }
        _ => None,
    };
    match inner {
        Some(p) if !p.is_none() => p,
        _ => e.position(),
    }
}

/// The 1-based line of a Rhai error, when it has one.
pub fn error_line(e: &rhai::EvalAltResult) -> Option<usize> {
    error_position(e).line()
}

/// A one-line description of a Rhai error without its position (reported separately), with
/// the limit named when one was hit.
pub fn describe(e: &rhai::EvalAltResult) -> String {
    use rhai::EvalAltResult as E;
    let inner = match e {
        E::ErrorInFunctionCall(_, _, inner, _) | E::ErrorInModule(_, inner, _) => inner,
        other => other,
    };
    if !std::ptr::eq(inner, e) {
        return describe(inner);
    }
    let mut text = match e {
        E::ErrorTerminated(v, _) => {
            if v.clone().into_string().is_ok_and(|s| s == TIMEOUT_MESSAGE) {
                TIMEOUT_MESSAGE.to_string()
            } else {
                format!("stopped: {v}")
            }
        }
        E::ErrorTooManyOperations(_) => "too many operations (limit reached: runaway loop?)".into(),
        E::ErrorStackOverflow(_) => {
            "too many nested calls (limit reached: runaway recursion?)".into()
        }
        E::ErrorDataTooLarge(what, _) => format!("{what} too large (limit reached)"),
        E::ErrorTooManyModules(_) => "too many modules imported (limit reached)".into(),
        E::ErrorTooManyVariables(_) => "too many variables (limit reached)".into(),
        other => other.to_string(),
    };
    // Rhai appends " (line 3, position 4)" to some messages; the position is reported apart.
    if let Some(i) = text.rfind(" (line ") {
        text.truncate(i);
    }
    text
}
