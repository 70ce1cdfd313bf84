//! `tenantgate rules list | explain ID | test [DIR]`.

use crate::lint::rules::{Origin, RuleSet};
use crate::lint::testing;
use crate::lint::{NATIVE_RULES, native_rule};
use crate::store::Store;
use anyhow::{Context, bail};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// List the rules: built-in, the repository's rules/, and the engine's own findings
    List,
    /// Show what a rule checks, its settings and where it comes from
    Explain {
        /// Rule id, e.g. hygiene/naming-convention
        id: String,
    },
    /// Run rule tests (JSON cases) like `opa test`; exit 1 when a case fails
    Test {
        /// Folder (or file) of test cases [default: the built-in pack's tests and the
        /// repository's rules/tests/]
        dir: Option<PathBuf>,
    },
}

/// The rules in force here: built-in, plus the repository's when run inside one (from the
/// worktree), with its `[lint]` selection.
fn load_rules() -> anyhow::Result<(RuleSet, Option<PathBuf>)> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let Ok(store) = Store::discover(&cwd) else {
        return Ok((testing::builtin_rules(), None));
    };
    let Some(root) = store.workdir().map(Path::to_path_buf) else {
        return Ok((testing::builtin_rules(), None));
    };
    if !root.join(crate::config::CONFIG_FILE).is_file() {
        return Ok((testing::builtin_rules(), None));
    }
    let snapshot = crate::lint::files::Snapshot::worktree(&store)?;
    let prepared = crate::lint::run::prepare(
        &snapshot,
        crate::lint::exceptions::today_utc(),
        crate::lint::Limits::default(),
    )?;
    Ok((prepared.rules, Some(root)))
}

pub fn run(args: RulesArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    match args.command {
        RulesCommand::List => list(out),
        RulesCommand::Explain { id } => explain(&id, out),
        RulesCommand::Test { dir } => test(dir, out),
    }
}

fn list(out: &mut dyn Write) -> anyhow::Result<u8> {
    let (set, _) = load_rules()?;
    for f in &set.findings {
        writeln!(out, "warning: {}: {}", f.path, f.message)?;
    }
    let width = set
        .rules
        .iter()
        .map(|r| r.id.len())
        .chain(NATIVE_RULES.iter().map(|n| n.id.len()))
        .max()
        .unwrap_or(20);
    writeln!(
        out,
        "{:width$}  {:8}  {:11}  {:10}  SUMMARY",
        "ID", "SEVERITY", "SCOPE", "SOURCE"
    )?;
    for r in &set.rules {
        let source = match r.origin {
            Origin::Builtin => "built-in",
            Origin::Repository => "repository",
        };
        writeln!(
            out,
            "{:width$}  {:8}  {:11}  {:10}  {}",
            r.id,
            r.severity.as_str(),
            r.scope.as_str(),
            source,
            r.summary
        )?;
    }
    for n in NATIVE_RULES {
        writeln!(
            out,
            "{:width$}  {:8}  {:11}  {:10}  {}",
            n.id,
            n.severity.as_str(),
            "engine",
            "built-in",
            n.summary
        )?;
    }
    if !set.disabled.is_empty() {
        writeln!(
            out,
            "\ndisabled in tenantgate.toml: {}",
            set.disabled.join(", ")
        )?;
    }
    Ok(super::exit::CLEAN)
}

fn explain(id: &str, out: &mut dyn Write) -> anyhow::Result<u8> {
    let (set, _) = load_rules()?;
    if let Some(r) = set.get(id) {
        writeln!(out, "{}: {}\n", r.id, r.summary)?;
        writeln!(
            out,
            "severity: {}{}",
            r.severity,
            if r.severity != r.default_severity {
                format!(" (default {})", r.default_severity)
            } else {
                String::new()
            }
        )?;
        writeln!(out, "scope:    {}", r.scope.as_str())?;
        writeln!(out, "kinds:    {}", r.kinds_label())?;
        writeln!(out, "source:   {}", r.file)?;
        for c in &r.controls {
            writeln!(
                out,
                "baseline: {} {} (CISA SCuBA; readiness, not certification)",
                c.id, c.title
            )?;
        }
        writeln!(out, "\n{}", r.doc)?;
        return Ok(super::exit::CLEAN);
    }
    if let Some(n) = native_rule(id) {
        writeln!(out, "{}: {}\n", n.id, n.summary)?;
        writeln!(out, "severity: {}", n.severity)?;
        writeln!(out, "source:   the lint engine")?;
        writeln!(out, "\n{}", n.doc)?;
        return Ok(super::exit::CLEAN);
    }
    if set.disabled.iter().any(|d| d == id) {
        bail!("{id} is disabled in tenantgate.toml ([lint] disabled)");
    }
    bail!("no rule {id:?}; `tenantgate rules list` shows the rules")
}

fn collect_tests(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect_tests(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "json") {
            out.push(e);
        }
    }
    Ok(())
}

fn test(dir: Option<PathBuf>, out: &mut dyn Write) -> anyhow::Result<u8> {
    let (set, root) = load_rules()?;
    for f in &set.findings {
        writeln!(
            out,
            "error: {}:{}: {}",
            f.path,
            f.line.unwrap_or(1),
            f.message
        )?;
    }
    let mut results = Vec::new();
    let mut files = Vec::new();
    match &dir {
        Some(d) => {
            if !d.exists() {
                bail!("{}: no such file or folder", d.display());
            }
            collect_tests(d, &mut files)?;
            if files.is_empty() {
                bail!("no test files (*.json) in {}", d.display());
            }
        }
        None => {
            let replaced: BTreeSet<String> = set
                .rules
                .iter()
                .filter(|r| r.origin == Origin::Repository)
                .map(|r| r.id.clone())
                .collect();
            results.extend(testing::run_builtin(&set, &replaced));
            if let Some(root) = &root {
                let tests = root.join("rules").join(crate::lint::rules::TESTS_DIR);
                if tests.is_dir() {
                    collect_tests(&tests, &mut files)?;
                }
            }
        }
    }
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let shown = match &root {
            Some(r) => f.strip_prefix(r).unwrap_or(f).display().to_string(),
            None => f.display().to_string(),
        };
        results.extend(testing::run_file(&shown, &text, &set));
    }
    let mut failed = 0;
    for r in &results {
        if r.passed() {
            writeln!(out, "PASS {}: {}", r.rule, r.name)?;
        } else {
            failed += 1;
            writeln!(out, "FAIL {}: {} ({})", r.rule, r.name, r.file)?;
            for p in &r.problems {
                writeln!(out, "     {p}")?;
            }
        }
    }
    writeln!(out, "\n{} passed, {failed} failed", results.len() - failed)?;
    let broken_rules = !set.findings.is_empty();
    Ok(if failed > 0 || broken_rules {
        super::exit::FINDINGS
    } else {
        super::exit::CLEAN
    })
}
