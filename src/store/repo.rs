use super::pack::PackWriter;
use super::{StoreError, git_err, io_err};
use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::objs::tree::{EntryKind, EntryMode};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Identity used when Git has none configured.
pub const FALLBACK_NAME: &str = "TenantGate";
pub const FALLBACK_EMAIL: &str = "tenantgate@localhost";

/// A repository TenantGate works in.
pub struct Store {
    pub(crate) repo: gix::Repository,
}

/// A file in a tree: its path relative to the listed folder and its blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub id: ObjectId,
    pub executable: bool,
    /// A symbolic link: the blob holds the link's target path, not a file's content.
    pub link: bool,
}

/// What a commit attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The tree is the same as the parent's: nothing was written.
    Unchanged,
    Committed(ObjectId),
}

/// Writes blobs from several threads at once: as loose objects, or collected into one pack
/// (see [`super::pack`]) when many are expected. Call [`BlobWriter::finish`] before anything
/// refers to the blobs.
#[derive(Clone)]
pub struct BlobWriter {
    repo: gix::ThreadSafeRepository,
    pack: Option<Arc<PackWriter>>,
}

impl BlobWriter {
    /// A handle for the current thread.
    pub fn local(&self) -> LocalBlobWriter {
        LocalBlobWriter {
            repo: self.repo.to_thread_local(),
            pack: self.pack.clone(),
        }
    }

    /// Make every blob written so far part of the repository. Returns how many new blobs there
    /// were (0 for loose writing, whose blobs are in place at once).
    pub fn finish(&self) -> Result<usize, StoreError> {
        match &self.pack {
            None => Ok(0),
            Some(pack) => {
                let repo = self.repo.to_thread_local();
                let n = pack.finish(|raw| {
                    repo.write_blob(raw)
                        .map(|id| id.detach())
                        .map_err(git_err("writing a blob"))
                })?;
                Ok(n)
            }
        }
    }
}

/// A per-thread blob writer.
pub struct LocalBlobWriter {
    repo: gix::Repository,
    pack: Option<Arc<PackWriter>>,
}

impl LocalBlobWriter {
    /// Write `bytes` unless a blob with the same id exists; return the id.
    pub fn write(&self, bytes: &[u8]) -> Result<ObjectId, StoreError> {
        match &self.pack {
            None => self
                .repo
                .write_blob(bytes)
                .map(|id| id.detach())
                .map_err(git_err("writing a blob")),
            Some(pack) => {
                let id = super::pack::blob_id(bytes)?;
                if !self.repo.objects.exists_without_refresh(&id) {
                    pack.add(id, bytes)?;
                }
                Ok(id)
            }
        }
    }
}

/// `refs/heads/<branch>` for a branch name as a user gives it (`feature/x`, or
/// `refs/heads/feature/x`), checked as Git checks branch names.
pub fn branch_full_name(branch: &str) -> Result<String, StoreError> {
    let bad = |why: String| StoreError::BadBranch {
        name: branch.to_string(),
        why,
    };
    let full = match branch.strip_prefix("refs/") {
        Some(rest) if rest.starts_with("heads/") => branch.to_string(),
        Some(_) => return Err(bad("only branches (refs/heads/…) can be written".into())),
        None => format!("refs/heads/{branch}"),
    };
    let short = &full["refs/heads/".len()..];
    if short == "@" || short.starts_with('-') {
        return Err(bad(format!("{short:?} is not allowed as a branch name")));
    }
    gix::validate::reference::branch_name(full.as_bytes().as_bstr())
        .map_err(|e| bad(e.to_string()))?;
    Ok(full)
}

/// The blob id `bytes` would have, without writing anything.
pub fn blob_id(bytes: &[u8]) -> ObjectId {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .expect("SHA-1 of a blob")
}

impl Store {
    /// The repository containing `dir`.
    pub fn discover(dir: &Path) -> Result<Store, StoreError> {
        match gix::discover(dir) {
            Ok(repo) => Ok(Store { repo }),
            Err(_) => Err(StoreError::NotARepository(dir.to_path_buf())),
        }
    }

    /// `git init` (non-bare) at `dir`.
    pub fn init(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let repo = gix::init(dir).map_err(git_err(format!("initialising {}", dir.display())))?;
        Ok(Store { repo })
    }

    /// `git init --bare` at `dir`.
    pub fn init_bare(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let repo =
            gix::init_bare(dir).map_err(git_err(format!("initialising {}", dir.display())))?;
        Ok(Store { repo })
    }

    /// Another handle on the same repository (for another thread).
    pub fn reopen(&self) -> Result<Store, StoreError> {
        Ok(Store {
            repo: self.repo.clone(),
        })
    }

    pub fn is_bare(&self) -> bool {
        self.repo.workdir().is_none()
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    pub fn git_dir(&self) -> &Path {
        self.repo.git_dir()
    }

    /// A writer of loose blobs, for a few objects.
    pub fn blob_writer(&self) -> BlobWriter {
        BlobWriter {
            repo: self.repo.clone().into_sync(),
            pack: None,
        }
    }

    /// A writer collecting new blobs into one pack, for many objects (an import).
    pub fn pack_writer(&self) -> Result<BlobWriter, StoreError> {
        let pack = PackWriter::new(self.repo.objects.store_ref().path())?;
        Ok(BlobWriter {
            repo: self.repo.clone().into_sync(),
            pack: Some(Arc::new(pack)),
        })
    }

    /// Path of `dir` relative to the worktree root, slash-separated ("" at the root).
    pub fn relative_to_workdir(&self, dir: &Path) -> Result<String, StoreError> {
        let Some(root) = self.workdir() else {
            return Ok(String::new());
        };
        let root = root.canonicalize().map_err(io_err(root))?;
        let dir = dir.canonicalize().map_err(io_err(dir))?;
        let rel = dir.strip_prefix(&root).unwrap_or(Path::new(""));
        Ok(rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    }

    /// The branch HEAD points at (`refs/heads/…`), born or not; an error when detached.
    pub fn head_branch(&self) -> Result<String, StoreError> {
        let head = self.repo.head().map_err(git_err("reading HEAD"))?;
        match head.referent_name() {
            Some(name) => Ok(name.as_bstr().to_str_lossy().into_owned()),
            None => Err(StoreError::DetachedHead),
        }
    }

    /// `refs/heads/<name>` for a short branch name (or a full `refs/heads/…` one), or HEAD's
    /// branch for `None`. A name Git would refuse for a branch (`HEAD`, `@`, `a b`, `-x`,
    /// `x.lock`, …) is an error before anything is read or written.
    pub fn branch_ref(&self, branch: Option<&str>) -> Result<String, StoreError> {
        match branch {
            Some(b) => branch_full_name(b),
            None => self.head_branch(),
        }
    }

    /// Does HEAD point at `full_ref`?
    pub fn is_head_branch(&self, full_ref: &str) -> bool {
        self.head_branch().is_ok_and(|h| h == full_ref)
    }

    /// The commit a reference points at, if it exists.
    pub fn ref_target(&self, full_ref: &str) -> Result<Option<ObjectId>, StoreError> {
        let found = self
            .repo
            .try_find_reference(full_ref)
            .map_err(git_err(format!("reading {full_ref}")))?;
        match found {
            None => Ok(None),
            Some(mut r) => {
                let id = r
                    .peel_to_id()
                    .map_err(git_err(format!("peeling {full_ref}")))?;
                Ok(Some(id.detach()))
            }
        }
    }

    /// The commit HEAD points at, `None` on an unborn branch.
    pub fn head_commit(&self) -> Result<Option<ObjectId>, StoreError> {
        let mut head = self.repo.head().map_err(git_err("reading HEAD"))?;
        if head.is_unborn() {
            return Ok(None);
        }
        let id = head
            .peel_to_commit()
            .map_err(git_err("reading HEAD's commit"))?
            .id;
        Ok(Some(id))
    }

    /// Resolve a revision (`main`, `HEAD~2`, a hash) to a commit.
    pub fn rev_commit(&self, rev: &str) -> Result<ObjectId, StoreError> {
        let id = self
            .repo
            .rev_parse_single(rev)
            .map_err(|e| StoreError::BadRevision {
                rev: rev.to_string(),
                message: e.to_string(),
            })?;
        let obj = id.object().map_err(git_err(format!("reading {rev}")))?;
        let commit = obj.peel_to_commit().map_err(|e| StoreError::BadRevision {
            rev: rev.to_string(),
            message: e.to_string(),
        })?;
        Ok(commit.id)
    }

    /// The tree of a commit.
    pub fn commit_tree(&self, commit: ObjectId) -> Result<ObjectId, StoreError> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(git_err(format!("reading commit {commit}")))?;
        c.tree_id()
            .map(|id| id.detach())
            .map_err(git_err(format!("reading the tree of {commit}")))
    }

    /// When a commit was made (committer time, seconds since the Unix epoch).
    pub fn commit_time(&self, commit: ObjectId) -> Result<i64, StoreError> {
        let c = self
            .repo
            .find_commit(commit)
            .map_err(git_err(format!("reading commit {commit}")))?;
        c.time()
            .map(|t| t.seconds)
            .map_err(git_err(format!("reading the time of {commit}")))
    }

    /// The empty tree's id.
    pub fn empty_tree(&self) -> ObjectId {
        ObjectId::empty_tree(gix::hash::Kind::Sha1)
    }

    /// The id of the tree or blob at `path` inside `tree`.
    pub fn entry_at(
        &self,
        tree: ObjectId,
        path: &str,
    ) -> Result<Option<(ObjectId, EntryMode)>, StoreError> {
        if path.is_empty() {
            return Ok(Some((tree, EntryKind::Tree.into())));
        }
        let t = self
            .repo
            .find_tree(tree)
            .map_err(git_err(format!("reading tree {tree}")))?;
        let found = t
            .lookup_entry_by_path(path)
            .map_err(git_err(format!("looking up {path}")))?;
        Ok(found.map(|e| (e.object_id(), e.mode())))
    }

    /// Every file below `prefix` of `tree`, recursively, with paths relative to `prefix`,
    /// sorted by path. When `prefix` is a file, that file alone, with an empty path.
    pub fn list_files(&self, tree: ObjectId, prefix: &str) -> Result<Vec<FileEntry>, StoreError> {
        let mut out = Vec::new();
        let Some((id, mode)) = self.entry_at(tree, prefix)? else {
            return Ok(out);
        };
        if !mode.is_tree() {
            if mode.is_link() {
                return Ok(out);
            }
            out.push(FileEntry {
                path: String::new(),
                id,
                executable: mode.is_executable(),
                link: false,
            });
            return Ok(out);
        }
        self.collect(id, String::new(), &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The entries of one tree object: (name, id, mode).
    pub(crate) fn tree_entries(
        &self,
        tree: ObjectId,
    ) -> Result<Vec<(String, ObjectId, EntryMode)>, StoreError> {
        let t = self
            .repo
            .find_tree(tree)
            .map_err(git_err(format!("reading tree {tree}")))?;
        let decoded = t
            .decode()
            .map_err(git_err(format!("decoding tree {tree}")))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| {
                (
                    e.filename.to_str_lossy().into_owned(),
                    e.oid.to_owned(),
                    e.mode,
                )
            })
            .collect())
    }

    /// The symbolic links below `prefix` of `tree`, recursively, with paths relative to
    /// `prefix` (which `list_files` leaves out: they are not files).
    pub fn list_links(&self, tree: ObjectId, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        match self.entry_at(tree, prefix)? {
            Some((id, mode)) if mode.is_tree() => {
                self.walk(id, String::new(), &mut |path, _, mode| {
                    if mode.is_link() {
                        out.push(path);
                    }
                })?
            }
            Some((_, mode)) if mode.is_link() => out.push(String::new()),
            _ => {}
        }
        Ok(out)
    }

    /// Every entry below `tree` that is not a tree, with its path below `base`.
    fn walk(
        &self,
        tree: ObjectId,
        base: String,
        visit: &mut dyn FnMut(String, ObjectId, EntryMode),
    ) -> Result<(), StoreError> {
        for (name, id, mode) in self.tree_entries(tree)? {
            let path = if base.is_empty() {
                name
            } else {
                format!("{base}/{name}")
            };
            if mode.is_tree() {
                self.walk(id, path, visit)?;
            } else {
                visit(path, id, mode);
            }
        }
        Ok(())
    }

    fn collect(
        &self,
        tree: ObjectId,
        base: String,
        out: &mut Vec<FileEntry>,
    ) -> Result<(), StoreError> {
        self.walk(tree, base, &mut |path, id, mode| {
            if mode.is_blob() || mode.is_executable() {
                out.push(FileEntry {
                    path,
                    id,
                    executable: mode.is_executable(),
                    link: false,
                });
            }
        })
    }

    /// The bytes of a blob.
    pub fn read_blob(&self, id: ObjectId) -> Result<Vec<u8>, StoreError> {
        let blob = self
            .repo
            .find_blob(id)
            .map_err(git_err(format!("reading blob {id}")))?;
        Ok(blob.data.clone())
    }

    /// The bytes of the file at `path` in `tree`, if there is one.
    pub fn read_path(&self, tree: ObjectId, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.entry_at(tree, path)? {
            Some((id, mode)) if !mode.is_tree() => self.read_blob(id).map(Some),
            _ => Ok(None),
        }
    }

    pub fn write_blob(&self, bytes: &[u8]) -> Result<ObjectId, StoreError> {
        self.repo
            .write_blob(bytes)
            .map(|id| id.detach())
            .map_err(git_err("writing a blob"))
    }

    /// Write a tree of plain files (no sub-folders): `(name, blob)` pairs in any order.
    pub fn write_flat_tree(&self, files: &[(String, ObjectId)]) -> Result<ObjectId, StoreError> {
        let mut tree = gix::objs::Tree::empty();
        for (name, id) in files {
            tree.entries.push(gix::objs::tree::Entry {
                mode: EntryKind::Blob.into(),
                filename: name.as_str().into(),
                oid: *id,
            });
        }
        tree.entries.sort();
        self.repo
            .write_object(&tree)
            .map(|id| id.detach())
            .map_err(git_err("writing a tree"))
    }

    /// Apply edits to `base`: `Some((id, is_tree))` puts a blob or tree at the path, `None`
    /// removes it. Returns the new root tree.
    pub fn edit_tree(
        &self,
        base: ObjectId,
        edits: &[(String, Option<(ObjectId, bool)>)],
    ) -> Result<ObjectId, StoreError> {
        let mut editor = self
            .repo
            .edit_tree(base)
            .map_err(git_err("editing a tree"))?;
        for (path, edit) in edits {
            match edit {
                Some((id, is_tree)) => {
                    let kind = if *is_tree {
                        EntryKind::Tree
                    } else {
                        EntryKind::Blob
                    };
                    if *is_tree && *id == self.empty_tree() {
                        editor
                            .remove(path.as_str())
                            .map_err(git_err(format!("removing {path}")))?;
                    } else {
                        editor
                            .upsert(path.as_str(), kind, *id)
                            .map_err(git_err(format!("writing {path}")))?;
                    }
                }
                None => {
                    editor
                        .remove(path.as_str())
                        .map_err(git_err(format!("removing {path}")))?;
                }
            }
        }
        editor
            .write()
            .map(|id| id.detach())
            .map_err(git_err("writing the edited tree"))
    }

    /// Commit `tree` on `full_ref` with `parent` as the expected current tip: a branch that
    /// moved meanwhile is not overwritten (a branch that does not exist yet is created at the
    /// new commit). No commit when `tree` equals the parent's tree.
    pub fn commit(
        &self,
        full_ref: &str,
        message: &str,
        tree: ObjectId,
        parent: Option<ObjectId>,
    ) -> Result<CommitOutcome, StoreError> {
        if let Some(p) = parent {
            if self.commit_tree(p)? == tree {
                return Ok(CommitOutcome::Unchanged);
            }
        } else if tree == self.empty_tree() {
            return Ok(CommitOutcome::Unchanged);
        }
        let actual = self.ref_target(full_ref)?;
        // A new branch may start from any parent; an existing one must still be at `parent`.
        if actual.is_some() && actual != parent {
            return Err(StoreError::Raced {
                branch: full_ref.to_string(),
                actual: actual.map_or_else(|| "nothing".to_string(), |a| a.to_string()),
            });
        }
        let signature = self.signature();
        let mut buf = gix::date::parse::TimeBuf::default();
        let sig = signature.to_ref(&mut buf);
        let id = self
            .repo
            .commit_as(sig, sig, full_ref, message, tree, parent)
            .map_err(|e| {
                let now = self.ref_target(full_ref).ok().flatten();
                if now.is_some() && now != parent {
                    StoreError::Raced {
                        branch: full_ref.to_string(),
                        actual: now.map_or_else(|| "nothing".to_string(), |a| a.to_string()),
                    }
                } else {
                    StoreError::Git {
                        context: format!("committing to {full_ref}"),
                        message: e.to_string(),
                    }
                }
            })?;
        Ok(CommitOutcome::Committed(id.detach()))
    }

    /// Git's configured committer, else `TenantGate <tenantgate@localhost>`.
    pub fn signature(&self) -> gix::actor::Signature {
        let now = gix::date::Time::now_local_or_utc();
        match self.repo.committer() {
            Some(Ok(sig)) => {
                let time = sig.time().unwrap_or(now);
                gix::actor::Signature {
                    name: sig.name.to_owned(),
                    email: sig.email.to_owned(),
                    time,
                }
            }
            _ => gix::actor::Signature {
                name: FALLBACK_NAME.into(),
                email: FALLBACK_EMAIL.into(),
                time: now,
            },
        }
    }

    /// Absolute path of a repository-relative path in the worktree.
    pub fn worktree_path(&self, rel: &str) -> Result<PathBuf, StoreError> {
        let root = self
            .workdir()
            .ok_or(StoreError::Bare("there are no files to write"))?;
        Ok(root.join(rel))
    }
}
