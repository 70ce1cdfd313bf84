//! `tenantgate export --env ENV [--branch NAME] [--no-commit] [--format text|json]`.

use super::output::{Format, short};
use super::workspace::Workspace;
use crate::config::check_env_name;
use crate::graph::export::{ExportOutcome, Progress};
use crate::graph::fetch::Deleted;
use crate::graph::{self, StatsSnapshot};
use crate::policy::kinds::{self, Kind};
use crate::snapshot::{self, FileOutcome, Report};
use anyhow::{Context, bail};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Environment (tenant) from tenantgate.toml to export into tenants/ENV/.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Commit on this branch (created from HEAD when missing) instead of HEAD's branch.
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Write the files into the worktree without committing.
    #[arg(long, conflicts_with = "branch")]
    pub no_commit: bool,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Send each Graph request on its own instead of in $batch requests (for proxies that
    /// block $batch; much slower).
    #[arg(long)]
    pub no_batch: bool,
}

/// The kinds an environment manages (`kinds` in its table; every kind when absent).
pub fn kinds_of(env: &crate::config::Environment) -> Vec<&'static Kind> {
    match &env.kinds {
        None => kinds::KINDS.to_vec(),
        Some(names) => kinds::KINDS
            .iter()
            .copied()
            .filter(|k| names.iter().any(|n| n == k.name))
            .collect(),
    }
}

/// Progress on stderr: a bar on a terminal, a line per kind otherwise.
struct Lines {
    env: String,
    bar: Option<indicatif::ProgressBar>,
    read: Mutex<usize>,
}

impl Lines {
    fn new(env: &str, kinds: usize) -> Lines {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(kinds as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} export {prefix}: {pos}/{len} kinds, {msg} [{elapsed}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b.set_prefix(env.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        Lines {
            env: env.to_string(),
            bar,
            read: Mutex::new(0),
        }
    }
}

impl Progress for Lines {
    fn objects_read(&self, _kind: &'static Kind, n: usize) {
        let mut r = self.read.lock().unwrap_or_else(|e| e.into_inner());
        *r += n;
        if let Some(b) = &self.bar {
            b.set_message(format!("{r} objects read"));
        }
    }

    fn kind_finished(&self, kind: &'static Kind, objects: usize, error: Option<&str>) {
        match &self.bar {
            Some(b) => {
                b.inc(1);
                if let Some(e) = error {
                    b.println(format!("{}: could not be read: {e}", kind.name));
                }
            }
            None => {
                let line = match error {
                    None => format!("export {}: {}: {objects} read", self.env, kind.name),
                    Some(e) => {
                        format!("export {}: {}: could not be read: {e}", self.env, kind.name)
                    }
                };
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

pub fn run(args: ExportArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    check_env_name(&args.env).map_err(anyhow::Error::msg)?;
    if let Some(b) = &args.branch {
        crate::store::branch_full_name(b)?;
    }
    let ws = Workspace::open()?;
    let Some(env) = ws.config.environments.get(&args.env).cloned() else {
        let known: Vec<&str> = ws.config.environments.keys().map(String::as_str).collect();
        bail!(
            "environment {:?} is not in tenantgate.toml{}: add [environments.{}] with tenant, client_id and client_secret_env (or certificate); see docs/graph.md",
            args.env,
            if known.is_empty() {
                String::new()
            } else {
                format!(" (it has: {})", known.join(", "))
            },
            args.env
        );
    };
    let kinds = kinds_of(&env);
    let client = graph::client_for(&env, !args.no_batch)?;
    let opts = snapshot::Options {
        env: args.env.clone(),
        branch: args.branch.clone(),
        no_commit: args.no_commit,
        tenant: env.tenant_label(),
        verb: "export",
        kinds: env.kinds.clone(),
        actors: Default::default(),
    };
    let progress = Lines::new(&args.env, kinds.len());
    let outcome = graph::export::export(&ws.store, client, &kinds, &opts, &progress)
        .with_context(|| format!("exporting {} into tenants/{}", env.tenant_label(), args.env))?;
    drop(progress);
    print(&outcome, args.format, out)?;
    Ok(if outcome.report.incomplete {
        super::exit::FINDINGS
    } else {
        super::exit::CLEAN
    })
}

/// The report of an export: JSON, or a line per kind and what was committed.
pub fn print(outcome: &ExportOutcome, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let ExportOutcome {
        report,
        stats,
        deleted,
    } = outcome;
    match format {
        Format::Json => {
            let mut v = serde_json::to_value(report)?;
            v["requests"] = serde_json::to_value(stats)?;
            if !deleted.is_empty() {
                v["deleted_while_reading"] = deleted
                    .iter()
                    .map(|(kind, d)| {
                        let mut e = serde_json::to_value(d)?;
                        e["kind"] = serde_json::Value::from(*kind);
                        Ok(e)
                    })
                    .collect::<Result<Vec<_>, serde_json::Error>>()?
                    .into();
            }
            serde_json::to_writer_pretty(&mut *out, &v)?;
            writeln!(out)?;
        }
        Format::Text => print_text(report, stats, deleted, out)?,
    }
    Ok(())
}

fn print_text(
    report: &Report,
    stats: &StatsSnapshot,
    deleted: &[(&'static str, Deleted)],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for (kind, d) in deleted {
        writeln!(
            out,
            "deleted     {kind}: {}{} was deleted in the tenant while the export read it ({}); left out",
            d.id,
            d.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            d.how
        )?;
    }
    let mut files: Vec<_> = report
        .files
        .iter()
        .filter(|f| !matches!(f.outcome, FileOutcome::Imported { .. }))
        .collect();
    files.sort_by(|a, b| a.origin.cmp(&b.origin));
    for f in files {
        let line = match &f.outcome {
            FileOutcome::Skipped {
                reason,
                blocks_kind: true,
            } => format!("unreadable  {}: {reason}", f.origin),
            FileOutcome::Skipped { reason, .. } => format!("skipped     {}: {reason}", f.origin),
            FileOutcome::Used { what } => format!("read        {}: {what}", f.origin),
            FileOutcome::NotApplied | FileOutcome::Imported { .. } => continue,
        };
        writeln!(out, "{}", super::output::printable(&line))?;
    }
    super::import::print_kinds(report, out)?;
    let n = report.imported();
    let env_dir = crate::policy::env_dir(&report.env);
    match (&report.commit, report.written_without_commit) {
        (Some(c), _) => writeln!(
            out,
            "Committed {} on {}: {n} policies read from the tenant into {env_dir}/.",
            short(c),
            report.branch_name()
        )?,
        (None, true) => writeln!(
            out,
            "Wrote {env_dir}/ without committing: {n} policies read from the tenant."
        )?,
        (None, false) if report.incomplete => writeln!(
            out,
            "No change to {env_dir}/: what could be read matches it ({n} policies)."
        )?,
        (None, false) => writeln!(
            out,
            "No change: {env_dir}/ already matches the tenant ({n} policies)."
        )?,
    }
    writeln!(
        out,
        "Graph: {} requests in {} HTTP requests, {} throttled, {} retried.",
        stats.graph_requests, stats.http_requests, stats.throttled, stats.retries
    )?;
    if report.incomplete {
        writeln!(
            out,
            "Incomplete: {} left as it is in Git because it could not be read completely; fix the cause above (permissions, network) and export again.",
            report.left_as_is().join(", ")
        )?;
    }
    Ok(())
}
