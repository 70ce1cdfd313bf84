//! `tenantgate init [DIR]`.

use crate::config::{CONFIG_FILE, INIT_TEMPLATE};
use crate::store::{CommitOutcome, Store};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Folder of the policy repository; created and `git init`ed when it is not in one.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: InitArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (store, created) = match Store::discover(dir) {
        Ok(s) if !s.is_bare() => (s, false),
        Ok(_) => bail!(
            "{} is a bare repository; run `tenantgate init` in a clone with a worktree",
            dir.display()
        ),
        Err(_) => (Store::init(dir)?, true),
    };
    let root = store
        .workdir()
        .context("the repository has no worktree")?
        .to_path_buf();
    let config = root.join(CONFIG_FILE);
    if config.exists() {
        bail!(
            "{} already exists: this is a TenantGate repository already",
            config.display()
        );
    }
    let dirty = store.uncommitted_under(CONFIG_FILE)?;
    if !dirty.is_empty() {
        bail!("{CONFIG_FILE} is staged but not committed; commit or reset it first");
    }
    let branch = store.head_branch()?;
    let parent = store.head_commit()?;
    let base = match parent {
        Some(c) => store.commit_tree(c)?,
        None => store.empty_tree(),
    };
    let blob = store.write_blob(INIT_TEMPLATE.as_bytes())?;
    let tree = store.edit_tree(base, &[(CONFIG_FILE.to_string(), Some((blob, false)))])?;
    let message = "tenantgate: init\n\nCreates tenantgate.toml (repository format 1).\n";
    let commit = match store.commit(&branch, message, tree, parent)? {
        CommitOutcome::Committed(id) => id,
        CommitOutcome::Unchanged => bail!("nothing to commit"),
    };
    store.checkout_prefixes(base, tree, &[CONFIG_FILE.to_string()])?;
    if created {
        writeln!(
            out,
            "Initialised an empty Git repository in {}",
            root.display()
        )?;
    }
    writeln!(
        out,
        "Wrote {CONFIG_FILE} and committed it ({}) on {}.",
        super::output::short(&commit.to_string()),
        branch.trim_start_matches("refs/heads/")
    )?;
    writeln!(
        out,
        "Next: describe your tenants in {CONFIG_FILE}, then `tenantgate import --env dev --from intunecd <backup>`."
    )?;
    Ok(super::exit::CLEAN)
}
