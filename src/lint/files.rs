//! The files lint reads: the worktree, a commit's tree, the index, or files in memory (rule
//! tests). Listing happens once on the calling thread; reading happens on worker threads, each
//! with its own reader.

use crate::store::{BlobReader, LocalBlobReader, Store, StoreError};
use gix::ObjectId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// One file: repository-relative path and, when it comes from Git, its blob id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub path: String,
    pub id: Option<ObjectId>,
}

#[derive(Clone)]
enum Backing {
    Worktree(PathBuf),
    Git(Arc<BlobReader>),
    Memory(Arc<BTreeMap<String, Vec<u8>>>),
}

/// A set of files at one point: what a lint run reads policies, rules or exceptions from.
#[derive(Clone)]
pub struct Snapshot {
    /// Shown in reports: "worktree", "HEAD 1a2b3c4d5e6f", "index".
    pub label: String,
    backing: Backing,
    /// Every file, sorted by path.
    files: Arc<BTreeMap<String, Option<ObjectId>>>,
    /// Symbolic links (not in `files`): Git keeps a link, not the file it points at.
    links: Arc<BTreeSet<String>>,
    /// The commit this snapshot is (or is based on, for the worktree and the index): the start
    /// of history questions.
    pub commit: Option<ObjectId>,
}

/// The prefixes lint lists: policies, rules, configuration and exceptions.
const LISTED: &[&str] = &[
    crate::policy::TENANTS_DIR,
    "rules",
    crate::config::CONFIG_FILE,
    super::exceptions::EXCEPTIONS_FILE,
];

fn join(prefix: &str, rel: &str) -> String {
    if rel.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// Files and symbolic links below `dir` (never following a link), skipping `.git`.
fn walk_worktree(
    dir: &std::path::Path,
    rel: &str,
    files: &mut Vec<(String, PathBuf)>,
    links: &mut BTreeSet<String>,
) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(());
        }
        Err(source) => {
            return Err(StoreError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let child = join(rel, &name);
        let ft = entry.file_type().map_err(|source| StoreError::Io {
            path: entry.path(),
            source,
        })?;
        if ft.is_symlink() {
            links.insert(child);
        } else if ft.is_dir() {
            walk_worktree(&entry.path(), &child, files, links)?;
        } else if ft.is_file() {
            files.push((child, entry.path()));
        }
    }
    Ok(())
}

impl Snapshot {
    /// The files of a commit.
    pub fn at_commit(
        store: &Store,
        commit: ObjectId,
        label: String,
    ) -> Result<Snapshot, StoreError> {
        let tree = store.commit_tree(commit)?;
        let mut files = BTreeMap::new();
        let mut links = BTreeSet::new();
        for prefix in LISTED {
            for f in store.list_files(tree, prefix)? {
                files.insert(join(prefix, &f.path), Some(f.id));
            }
            for l in store.list_links(tree, prefix)? {
                links.insert(join(prefix, &l));
            }
        }
        Ok(Snapshot {
            label,
            backing: Backing::Git(Arc::new(store.reader())),
            files: Arc::new(files),
            links: Arc::new(links),
            commit: Some(commit),
        })
    }

    /// The staged files (what the next commit would hold).
    pub fn index(store: &Store) -> Result<Snapshot, StoreError> {
        let mut files = BTreeMap::new();
        let mut links = BTreeSet::new();
        for f in store.index_files("")? {
            if LISTED
                .iter()
                .any(|p| f.path == *p || f.path.starts_with(&format!("{p}/")))
            {
                if f.link {
                    links.insert(f.path);
                } else {
                    files.insert(f.path, Some(f.id));
                }
            }
        }
        Ok(Snapshot {
            label: "index".into(),
            backing: Backing::Git(Arc::new(store.reader())),
            files: Arc::new(files),
            links: Arc::new(links),
            commit: store.head_commit()?,
        })
    }

    /// The files in the worktree, as they are on disk now.
    pub fn worktree(store: &Store) -> Result<Snapshot, StoreError> {
        let root = store
            .workdir()
            .ok_or(StoreError::Bare(
                "lint reads the worktree by default; pass --rev to lint a revision",
            ))?
            .to_path_buf();
        let mut found = Vec::new();
        let mut links = BTreeSet::new();
        for prefix in LISTED {
            let abs = root.join(prefix);
            match std::fs::symlink_metadata(&abs) {
                Ok(m) if m.file_type().is_symlink() => {
                    links.insert(prefix.to_string());
                }
                Ok(m) if m.is_file() => found.push((prefix.to_string(), abs)),
                _ => walk_worktree(&abs, prefix, &mut found, &mut links)?,
            }
        }
        let files = found.into_iter().map(|(rel, _)| (rel, None)).collect();
        Ok(Snapshot {
            label: "worktree".into(),
            backing: Backing::Worktree(root),
            files: Arc::new(files),
            links: Arc::new(links),
            commit: store.head_commit()?,
        })
    }

    /// Files held in memory (rule tests).
    pub fn memory(files: BTreeMap<String, Vec<u8>>) -> Snapshot {
        let listing = files.keys().map(|k| (k.clone(), None)).collect();
        Snapshot {
            label: "test".into(),
            backing: Backing::Memory(Arc::new(files)),
            files: Arc::new(listing),
            links: Arc::default(),
            commit: None,
        }
    }

    /// Files below `prefix` (a folder, without trailing slash), sorted by path.
    pub fn list(&self, prefix: &str) -> Vec<FileRef> {
        let start = format!("{prefix}/");
        self.files
            .range(start.clone()..)
            .take_while(|(p, _)| p.starts_with(&start))
            .map(|(p, id)| FileRef {
                path: p.clone(),
                id: *id,
            })
            .collect()
    }

    /// Symbolic links below `prefix` (a folder), sorted.
    pub fn links(&self, prefix: &str) -> Vec<String> {
        let start = format!("{prefix}/");
        self.links
            .range(start.clone()..)
            .take_while(|p| p.starts_with(&start))
            .cloned()
            .collect()
    }

    /// The file at `path`, if there is one.
    pub fn file(&self, path: &str) -> Option<FileRef> {
        self.files.get(path).map(|id| FileRef {
            path: path.to_string(),
            id: *id,
        })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// A reader for the current thread.
    pub fn reader(&self) -> Reader {
        Reader(match &self.backing {
            Backing::Worktree(root) => ReaderKind::Worktree(root.clone()),
            Backing::Git(r) => ReaderKind::Git(Box::new(r.local())),
            Backing::Memory(m) => ReaderKind::Memory(m.clone()),
        })
    }

    /// Read one file from the calling thread (for a handful of files; workers use [`Reader`]).
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.file(path) {
            None => Ok(None),
            Some(f) => self.reader().read(&f).map(Some),
        }
    }

    /// Do the files carry blob ids (a commit or the index, not the worktree)?
    pub fn has_ids(&self) -> bool {
        matches!(self.backing, Backing::Git(_))
    }
}

enum ReaderKind {
    Worktree(PathBuf),
    Git(Box<LocalBlobReader>),
    Memory(Arc<BTreeMap<String, Vec<u8>>>),
}

/// Reads files of a [`Snapshot`] on one thread.
pub struct Reader(ReaderKind);

impl Reader {
    pub fn read(&self, file: &FileRef) -> Result<Vec<u8>, StoreError> {
        match &self.0 {
            ReaderKind::Worktree(root) => {
                let abs = root.join(&file.path);
                std::fs::read(&abs).map_err(|source| StoreError::Io { path: abs, source })
            }
            ReaderKind::Git(r) => match file.id {
                Some(id) => r.read(id),
                None => Err(StoreError::Git {
                    context: format!("reading {}", file.path),
                    message: "no blob id".into(),
                }),
            },
            ReaderKind::Memory(m) => m.get(&file.path).cloned().ok_or_else(|| StoreError::Io {
                path: file.path.clone().into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            }),
        }
    }
}
