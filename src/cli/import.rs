//! `tenantgate import --env ENV --from intunecd|intunemanagement|graph DIR`.

use super::output::{Format, short};
use super::workspace::Workspace;
use crate::config::check_env_name;
use crate::snapshot::{self, FileOutcome, Report};
use crate::source::{Flavor, FolderSource};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum From {
    /// An IntuneCD backup folder (JSON output).
    Intunecd,
    /// An IntuneManagement export folder.
    Intunemanagement,
    /// A folder tree of Graph responses: objects or {"value": [...]} lists.
    Graph,
}

impl From {
    fn flavor(self) -> Flavor {
        match self {
            From::Intunecd => Flavor::IntuneCd,
            From::Intunemanagement => Flavor::IntuneManagement,
            From::Graph => Flavor::Graph,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Environment to import into: files go to tenants/ENV/.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Which tool wrote the export.
    #[arg(long, value_enum, value_name = "TOOL")]
    pub from: From,
    /// The export folder.
    pub dir: PathBuf,
    /// Commit on this branch (created from HEAD when missing) instead of HEAD's branch.
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// Write the files into the worktree without committing.
    #[arg(long, conflicts_with = "branch")]
    pub no_commit: bool,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: ImportArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    check_env_name(&args.env).map_err(anyhow::Error::msg)?;
    if let Some(b) = &args.branch {
        crate::store::branch_full_name(b)?;
    }
    let ws = Workspace::open()?;
    if !ws.config.environments.is_empty() && !ws.config.environments.contains_key(&args.env) {
        let known: Vec<&str> = ws.config.environments.keys().map(String::as_str).collect();
        tracing::warn!(
            "environment {:?} is not in tenantgate.toml (it has: {}); importing anyway",
            args.env,
            known.join(", ")
        );
    }
    let env = ws.config.environment_or_default(&args.env);
    let source = FolderSource::open(args.from.flavor(), &args.dir)?;
    let opts = snapshot::Options {
        env: args.env.clone(),
        branch: args.branch.clone(),
        no_commit: args.no_commit,
        tenant: env.tenant_label(),
        verb: "import",
        kinds: env.kinds.clone(),
        actors: Default::default(),
    };
    let report = snapshot::import_folder(&ws.store, &source, &opts)
        .with_context(|| format!("importing {} into tenants/{}", args.dir.display(), args.env))?;
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        Format::Text => print_text(&report, out)?,
    }
    Ok(if report.incomplete {
        super::exit::FINDINGS
    } else {
        super::exit::CLEAN
    })
}

/// The human report: a line per file, a line per kind, then what was committed.
pub fn print_text(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut files: Vec<_> = report.files.iter().collect();
    files.sort_by(|a, b| a.origin.cmp(&b.origin));
    for f in files {
        let line = match &f.outcome {
            FileOutcome::Imported { path, renamed_from } => match renamed_from {
                Some(from) => format!("imported    {} -> {path} (renamed from {from})", f.origin),
                None => format!("imported    {} -> {path}", f.origin),
            },
            FileOutcome::Used { what } => format!("read        {}: {what}", f.origin),
            FileOutcome::Skipped {
                reason,
                blocks_kind: false,
            } => format!("skipped     {}: {reason}", f.origin),
            FileOutcome::Skipped {
                reason,
                blocks_kind: true,
            } => format!("unreadable  {}: {reason}", f.origin),
            FileOutcome::NotApplied => {
                format!("not applied {}: its kind was left as it is", f.origin)
            }
        };
        writeln!(out, "{}", super::output::printable(&line))?;
    }
    writeln!(out)?;
    print_kinds(report, out)?;
    let imported = report.imported();
    let skipped = report.skipped();
    let env_dir = crate::policy::env_dir(&report.env);
    match (&report.commit, report.written_without_commit) {
        (Some(c), _) => writeln!(
            out,
            "Committed {} on {}: {imported} policies imported into {env_dir}/, {skipped} file(s) skipped.",
            short(c),
            report.branch_name()
        )?,
        (None, true) => writeln!(
            out,
            "Wrote {env_dir}/ without committing: {imported} policies, {skipped} file(s) skipped."
        )?,
        (None, false) if report.incomplete => writeln!(
            out,
            "No change to {env_dir}/: what could be read matches it ({imported} policies, {skipped} file(s) skipped)."
        )?,
        (None, false) => writeln!(
            out,
            "No change: {env_dir}/ already matches the source ({imported} policies, {skipped} file(s) skipped)."
        )?,
    }
    if report.incomplete {
        writeln!(
            out,
            "Incomplete: {} left as it is because a file could not be read; fix the files marked unreadable and import again.",
            report.left_as_is().join(", ")
        )?;
    }
    Ok(())
}

/// A line per kind and per directory conflict, then a blank line (import and export).
pub fn print_kinds(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    for k in &report.kinds {
        writeln!(out, "{:<27} {}", k.kind, k.summary())?;
    }
    for c in &report.conflicts {
        writeln!(out, "conflict: {c}")?;
    }
    writeln!(out)
}
