//! The policy repository a command works in: the Git store and its validated configuration.

use crate::config::{CONFIG_FILE, Config};
use crate::store::Store;
use anyhow::{Context, bail};
use std::path::Path;

pub struct Workspace {
    pub store: Store,
    pub config: Config,
}

impl Workspace {
    /// The repository containing the current directory, with its `tenantgate.toml` (from the
    /// worktree, or from HEAD in a bare repository).
    pub fn open() -> anyhow::Result<Workspace> {
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let store = Store::discover(&cwd)?;
        let (text, file) = match store.workdir() {
            Some(root) => {
                let path = root.join(CONFIG_FILE);
                match std::fs::read(&path) {
                    Ok(bytes) => (bytes, path.display().to_string()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        bail!(
                            "no {CONFIG_FILE} in {}: run `tenantgate init` there first",
                            root.display()
                        )
                    }
                    Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
                }
            }
            None => {
                let head = store.head_commit()?.with_context(|| {
                    format!(
                        "{} has no commits: run `tenantgate init` first",
                        store.git_dir().display()
                    )
                })?;
                let tree = store.commit_tree(head)?;
                match store.read_path(tree, CONFIG_FILE)? {
                    Some(bytes) => (bytes, format!("{CONFIG_FILE} (HEAD)")),
                    None => bail!(
                        "no {CONFIG_FILE} at HEAD of {}: run `tenantgate init` first",
                        store.git_dir().display()
                    ),
                }
            }
        };
        let text = String::from_utf8(text).with_context(|| format!("{file}: not UTF-8"))?;
        let config = Config::parse(&text, &file)?;
        Ok(Workspace { store, config })
    }

    pub fn root(&self) -> Option<&Path> {
        self.store.workdir()
    }
}
