//! `tenantgate fmt [--check] [PATH...]`.

use super::workspace::Workspace;
use crate::policy::canonical::to_canonical;
use crate::policy::state::{STATE_PATH, State};
use crate::policy::{TENANTS_DIR, canonical_file, decode, kinds};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Change nothing; list the files that are not canonical and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
    /// Files or folders to format (default: every environment under tenants/).
    pub paths: Vec<PathBuf>,
}

/// A policy file found under `tenants/<env>/<kind>/`.
struct Target {
    path: PathBuf,
    shown: String,
    kind: Option<&'static kinds::Kind>,
}

pub fn run(args: FmtArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let ws = Workspace::open()?;
    let Some(root) = ws.root().map(Path::to_path_buf) else {
        bail!("fmt rewrites files in a worktree; this repository is bare");
    };
    let root = root
        .canonicalize()
        .with_context(|| format!("reading {}", root.display()))?;
    let starts: Vec<PathBuf> = if args.paths.is_empty() {
        vec![root.join(TENANTS_DIR)]
    } else {
        args.paths
            .iter()
            .map(|p| {
                p.canonicalize()
                    .with_context(|| format!("{}: no such file or folder", p.display()))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut targets = Vec::new();
    let mut errors = 0usize;
    for start in &starts {
        let rel = start
            .strip_prefix(&root)
            .map_err(|_| anyhow::anyhow!("{} is outside the repository", start.display()))?;
        // A file named on the command line is a policy, state.json or a script side file
        // (which fmt never changes); anything else is said, not silently passed.
        let shown = rel.to_string_lossy().replace('\\', "/");
        if start.is_file() && !shown.ends_with(".json") && !is_side_file(&shown) {
            eprintln!(
                "error: {shown}: not a policy file (expected {TENANTS_DIR}/<env>/<kind>/<name>.json or {TENANTS_DIR}/<env>/{STATE_PATH})"
            );
            errors += 1;
            continue;
        }
        collect(&root, rel, &mut targets, &mut errors)?;
    }
    let mut bad = 0usize;
    for t in &targets {
        let bytes = std::fs::read(&t.path).with_context(|| format!("reading {}", t.shown))?;
        let canonical = match t.kind {
            Some(kind) => canonical_file(kind, &bytes).map_err(|e| e.to_string()),
            // state.json: the model import and export read it with (no unknown field, no
            // missing one), so fmt never passes a file the next import refuses.
            None => State::parse(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|_| decode::parse_json(&bytes).map_err(|e| e.to_string()))
                .map(|v| to_canonical(&v)),
        };
        let canonical = match canonical {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {}: {e}", t.shown);
                errors += 1;
                continue;
            }
        };
        if canonical == bytes {
            continue;
        }
        bad += 1;
        if args.check {
            writeln!(out, "not canonical: {}", t.shown)?;
        } else {
            std::fs::write(&t.path, &canonical).with_context(|| format!("writing {}", t.shown))?;
            writeln!(out, "formatted: {}", t.shown)?;
        }
    }
    if errors > 0 {
        writeln!(
            out,
            "{errors} file(s) could not be read; fix them and run fmt again."
        )?;
        return Ok(super::exit::ERROR);
    }
    if args.check && bad > 0 {
        writeln!(
            out,
            "{bad} file(s) are not canonical: run `tenantgate fmt` to rewrite them."
        )?;
        return Ok(super::exit::FINDINGS);
    }
    Ok(super::exit::CLEAN)
}

/// Find policy files below `rel` (relative to the repository root).
fn collect(
    root: &Path,
    rel: &Path,
    targets: &mut Vec<Target>,
    errors: &mut usize,
) -> anyhow::Result<()> {
    let abs = root.join(rel);
    // Never through a symbolic link: Git keeps the link, not its target, and the target may
    // be outside the repository (fmt would rewrite it) or a folder above (a loop).
    if std::fs::symlink_metadata(&abs).is_ok_and(|m| m.file_type().is_symlink()) {
        let shown = rel.to_string_lossy().replace('\\', "/");
        eprintln!(
            "error: {shown}: a symbolic link: Git stores only the link, so fmt does not follow it; replace it with the file itself"
        );
        *errors += 1;
        return Ok(());
    }
    if abs.is_file() {
        let shown = rel.to_string_lossy().replace('\\', "/");
        let parts: Vec<&str> = shown.split('/').collect();
        if !shown.ends_with(".json") {
            return Ok(());
        }
        match parts.as_slice() {
            [t, _env, ".tenantgate", "state.json"] if *t == TENANTS_DIR => targets.push(Target {
                path: abs,
                shown,
                kind: None,
            }),
            [t, _env, kind, _file] if *t == TENANTS_DIR => match kinds::by_name(kind) {
                Some(k) => targets.push(Target {
                    path: abs,
                    shown,
                    kind: Some(k),
                }),
                None => {
                    eprintln!(
                        "error: {shown}: {kind:?} is not a kind; kinds are {}",
                        kind_list()
                    );
                    *errors += 1;
                }
            },
            _ => {
                eprintln!(
                    "error: {shown}: not a policy file (expected {TENANTS_DIR}/<env>/<kind>/<name>.json or {TENANTS_DIR}/<env>/{STATE_PATH})"
                );
                *errors += 1;
            }
        }
        return Ok(());
    }
    if !abs.is_dir() {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&abs)
        .with_context(|| format!("reading {}", abs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        let name = e
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let child = rel.join(&name);
        let depth = child.components().count();
        // tenants/<env>/<kind>: only registered kinds and the state folder hold JSON we own.
        if e.is_dir() && depth == 3 && name != ".tenantgate" && kinds::by_name(&name).is_none() {
            eprintln!(
                "error: {}: {name:?} is not a kind; kinds are {}",
                child.display(),
                kind_list()
            );
            *errors += 1;
            continue;
        }
        collect(root, &child, targets, errors)?;
    }
    Ok(())
}

/// `tenants/<env>/<kind>/<name><suffix>` where the kind keeps script bodies in such files.
fn is_side_file(rel: &str) -> bool {
    match rel.split('/').collect::<Vec<_>>().as_slice() {
        [t, _env, kind, file] if *t == TENANTS_DIR => {
            kinds::by_name(kind).is_some_and(|k| k.bodies.iter().any(|b| file.ends_with(b.suffix)))
        }
        _ => false,
    }
}

fn kind_list() -> String {
    kinds::KINDS
        .iter()
        .map(|k| k.name)
        .collect::<Vec<_>>()
        .join(", ")
}
