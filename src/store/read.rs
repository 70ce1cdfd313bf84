//! Reading what lint needs: the index (`--staged`), merge bases, blobs from several threads,
//! the history of one file along first parents, and a configuration value.

use super::repo::{FileEntry, Store};
use super::{StoreError, git_err};
use gix::ObjectId;
use gix::bstr::ByteSlice;

/// Reads blobs from several threads at once.
#[derive(Clone)]
pub struct BlobReader(gix::ThreadSafeRepository);

impl BlobReader {
    /// The repository as a [`Store`] on the current thread.
    pub fn store(&self) -> Store {
        Store {
            repo: self.0.to_thread_local(),
        }
    }

    /// A handle for the current thread.
    pub fn local(&self) -> LocalBlobReader {
        let mut repo = self.0.to_thread_local();
        repo.object_cache_size_if_unset(4 * 1024 * 1024);
        LocalBlobReader(repo)
    }
}

/// A per-thread blob reader.
pub struct LocalBlobReader(gix::Repository);

impl LocalBlobReader {
    pub fn read(&self, id: ObjectId) -> Result<Vec<u8>, StoreError> {
        let blob = self
            .0
            .find_blob(id)
            .map_err(git_err(format!("reading blob {id}")))?;
        Ok(blob.data.clone())
    }
}

/// One step back along first parents: a commit, when it was committed, and the blob at the
/// path in question there (`None`: no file at that path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathVersion {
    pub commit: ObjectId,
    /// Committer time, seconds since the Unix epoch.
    pub time: i64,
    pub blob: Option<ObjectId>,
}

/// How a walk through history ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkEnd {
    /// The visitor stopped it.
    Stopped,
    /// The first commit of the repository was reached.
    Root,
    /// History goes on but is not here (a shallow clone), or the step limit was reached.
    Cut,
}

impl Store {
    /// A thread-safe handle for reading blobs in parallel.
    pub fn reader(&self) -> BlobReader {
        BlobReader(self.repo.clone().into_sync())
    }

    /// The best common ancestor of two commits.
    pub fn merge_base(&self, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>, StoreError> {
        let base = self
            .repo
            .merge_base(a, b)
            .map_err(git_err(format!("finding the merge base of {a} and {b}")))?;
        Ok(base.map(|id| id.detach()))
    }

    /// Every reference (branches, tags, remotes, the stash) with the object it points at,
    /// sorted by name; a symbolic reference is listed by where it ends.
    pub fn references(&self) -> Result<Vec<(String, ObjectId)>, StoreError> {
        let platform = self
            .repo
            .references()
            .map_err(git_err("listing references"))?;
        let mut out = Vec::new();
        for r in platform.all().map_err(git_err("listing references"))? {
            let mut r = r.map_err(|e| StoreError::Git {
                context: "listing references".into(),
                message: e.to_string(),
            })?;
            let name = r.name().as_bstr().to_string();
            let id = r
                .peel_to_id()
                .map_err(git_err(format!("reading reference {name}")))?;
            out.push((name, id.detach()));
        }
        out.sort();
        Ok(out)
    }

    /// Is this a shallow clone (history cut off)?
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow().unwrap_or(false)
    }

    /// Files in the index (the staging area) below `prefix`, with paths relative to `prefix`,
    /// sorted by path. During a merge conflict the "ours" side is taken.
    pub fn index_files(&self, prefix: &str) -> Result<Vec<FileEntry>, StoreError> {
        let index = self
            .repo
            .index_or_empty()
            .map_err(git_err("reading the index"))?;
        let mut out: Vec<FileEntry> = Vec::new();
        for e in index.entries() {
            let stage = e.stage_raw();
            if stage != 0 && stage != 2 {
                continue;
            }
            let path = e.path(&index).to_str_lossy();
            let rel = if prefix.is_empty() {
                path.as_ref()
            } else if let Some(rest) = path.strip_prefix(prefix) {
                match rest.strip_prefix('/') {
                    Some(r) => r,
                    None if rest.is_empty() => "",
                    None => continue,
                }
            } else {
                continue;
            };
            out.push(FileEntry {
                path: rel.to_string(),
                id: e.id,
                executable: e.mode == gix::index::entry::Mode::FILE_EXECUTABLE,
                link: e.mode == gix::index::entry::Mode::SYMLINK,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.dedup_by(|a, b| a.path == b.path);
        Ok(out)
    }

    /// Walk the first-parent history of `path` from `head`, newest first, calling `visit` on
    /// each commit until it returns `false`, history ends, or `max_steps` commits were seen.
    pub fn walk_path_history(
        &self,
        head: ObjectId,
        path: &str,
        max_steps: usize,
        mut visit: impl FnMut(&PathVersion) -> Result<bool, StoreError>,
    ) -> Result<WalkEnd, StoreError> {
        let mut current = head;
        for _ in 0..max_steps {
            let commit = match self.repo.find_commit(current) {
                Ok(c) => c,
                // A parent that is not here: the history was cut (shallow clone).
                Err(_) if current != head => return Ok(WalkEnd::Cut),
                Err(e) => return Err(git_err(format!("reading commit {current}"))(e)),
            };
            let time = commit
                .time()
                .map_err(git_err(format!("reading the time of {current}")))?
                .seconds;
            let tree = commit
                .tree_id()
                .map_err(git_err(format!("reading the tree of {current}")))?
                .detach();
            let blob = self
                .entry_at(tree, path)?
                .filter(|(_, mode)| !mode.is_tree())
                .map(|(id, _)| id);
            let version = PathVersion {
                commit: current,
                time,
                blob,
            };
            if !visit(&version)? {
                return Ok(WalkEnd::Stopped);
            }
            let parent = commit.parent_ids().next().map(|p| p.detach());
            match parent {
                Some(p) => current = p,
                None => {
                    let shallow = self
                        .repo
                        .shallow_commits()
                        .ok()
                        .flatten()
                        .is_some_and(|list| list.contains(&current));
                    return Ok(if shallow { WalkEnd::Cut } else { WalkEnd::Root });
                }
            }
        }
        Ok(WalkEnd::Cut)
    }

    /// The Git directory shared by all worktrees (where `hooks/` lives).
    pub fn common_dir(&self) -> &std::path::Path {
        self.repo.common_dir()
    }

    /// A configuration value (`core.hooksPath`), as Git resolves it for this repository.
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo
            .config_snapshot()
            .string(key)
            .map(|v| v.to_str_lossy().into_owned())
    }
}
