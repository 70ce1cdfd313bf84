//! `tenantgate init [DIR]`.

use crate::config::{CONFIG_FILE, INIT_TEMPLATE};
use crate::store::{CommitOutcome, Store};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Folder of the policy repository: `git init`ed (and created) when it is in no repository;
    /// inside an existing repository, only its root is accepted.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

pub fn run(args: InitArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let dir = &args.dir;
    let existed = dir.exists();
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
    // tenantgate.toml and tenants/ live at a repository's root: a folder inside another
    // repository is not one, and that repository is not changed behind the user's back.
    let same = |a: &std::path::Path, b: &std::path::Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if !created && !same(&root, dir) {
        if !existed {
            let _ = std::fs::remove_dir(dir);
        }
        bail!(
            "{} is inside the Git repository at {}, and TenantGate keeps tenantgate.toml and \
             tenants/ at a repository's root: run `tenantgate init {}` to make that repository \
             a policy repository, or choose a folder outside it",
            dir.display(),
            root.display(),
            root.display()
        );
    }
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
