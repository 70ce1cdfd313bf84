//! `tenantgate hooks install | uninstall`: the pre-commit hook (`hooks/pre-commit`, embedded).
//! An existing hook is never overwritten: it is kept and chained (it runs first); a
//! `core.hooksPath` setup is left alone, with instructions.

use crate::store::Store;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::Path;

/// Marks a hook written by TenantGate.
const MARKER: &str = "tenantgate-hook: pre-commit";
/// Where an existing hook is kept; ours runs it first.
const CHAINED: &str = "pre-commit.tenantgate-chained";

#[derive(Debug, clap::Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub command: HooksCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HooksCommand {
    /// Install the pre-commit hook: canonical form and lint of the staged policies
    Install,
    /// Remove TenantGate's pre-commit hook (a chained hook is put back)
    Uninstall,
}

/// The pre-commit hook's text.
pub fn pre_commit() -> &'static str {
    crate::lint::rules::HOOK_FILES
        .iter()
        .find(|(n, _)| *n == "pre-commit")
        .map(|(_, t)| *t)
        .expect("hooks/pre-commit is embedded")
}

fn hooks_dir(store: &Store) -> anyhow::Result<std::path::PathBuf> {
    if let Some(path) = store.config_string("core.hooksPath") {
        bail!(
            "core.hooksPath is set to {path:?}: hooks there are managed by another tool, so TenantGate does not write into it.\n  help: add this line to {path}/pre-commit (before any `exec`):\n        tenantgate lint --staged || exit 1"
        );
    }
    Ok(store.common_dir().join("hooks"))
}

fn write_executable(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    Ok(())
}

pub fn run(args: HooksArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let store = Store::discover(&cwd)?;
    if store.is_bare() && matches!(args.command, HooksCommand::Install) {
        bail!(
            "{} is a bare repository: nobody commits in it, so a pre-commit hook would never run; install the hook in each clone that has a worktree",
            store.git_dir().display()
        );
    }
    let dir = hooks_dir(&store)?;
    let hook = dir.join("pre-commit");
    let chained = dir.join(CHAINED);
    let existing = std::fs::read_to_string(&hook).ok();
    let ours = existing.as_deref().is_some_and(|t| t.contains(MARKER));
    match args.command {
        HooksCommand::Install => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            if ours {
                if existing.as_deref() == Some(pre_commit()) {
                    writeln!(
                        out,
                        "The pre-commit hook is already installed ({}).",
                        hook.display()
                    )?;
                } else {
                    write_executable(&hook, pre_commit())?;
                    writeln!(out, "Updated the pre-commit hook ({}).", hook.display())?;
                }
                return Ok(super::exit::CLEAN);
            }
            if hook.exists() {
                if chained.exists() {
                    bail!(
                        "{} exists and so does {}: TenantGate will not overwrite either.\n  help: merge them into one hook, or remove {CHAINED}, then run `tenantgate hooks install` again",
                        hook.display(),
                        chained.display()
                    );
                }
                std::fs::rename(&hook, &chained).with_context(|| {
                    format!("keeping the existing hook as {}", chained.display())
                })?;
                write_executable(&hook, pre_commit())?;
                writeln!(
                    out,
                    "Installed the pre-commit hook ({}).\nYour existing hook is kept as {CHAINED} and runs first.",
                    hook.display()
                )?;
            } else {
                write_executable(&hook, pre_commit())?;
                writeln!(out, "Installed the pre-commit hook ({}).", hook.display())?;
            }
            writeln!(
                out,
                "Each commit now checks the staged policies (`tenantgate lint --staged`); `git commit --no-verify` skips it once.\nThe hook runs `tenantgate` from PATH, or $TENANTGATE when set."
            )?;
            Ok(super::exit::CLEAN)
        }
        HooksCommand::Uninstall => {
            if !ours {
                writeln!(
                    out,
                    "No TenantGate pre-commit hook is installed; nothing to do."
                )?;
                return Ok(super::exit::CLEAN);
            }
            std::fs::remove_file(&hook).with_context(|| format!("removing {}", hook.display()))?;
            if chained.exists() {
                std::fs::rename(&chained, &hook)
                    .with_context(|| format!("restoring {}", hook.display()))?;
                writeln!(
                    out,
                    "Removed TenantGate's pre-commit hook and put back the one it chained to."
                )?;
            } else {
                writeln!(out, "Removed TenantGate's pre-commit hook.")?;
            }
            Ok(super::exit::CLEAN)
        }
    }
}
