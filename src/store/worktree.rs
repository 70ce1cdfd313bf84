//! Keeping a non-bare repository's worktree and index in step with the commits we make, and
//! finding uncommitted changes under a folder.

use super::repo::{Store, blob_id};
use super::{StoreError, git_err, io_err};
use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn under(path: &str, prefix: &str) -> bool {
    prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
}

impl Store {
    fn load_index(&self) -> Result<gix::index::File, StoreError> {
        match self.repo.open_index() {
            Ok(f) => Ok(f),
            Err(_) if !self.repo.index_path().exists() => Ok(gix::index::File::from_state(
                gix::index::State::new(gix::hash::Kind::Sha1),
                self.repo.index_path(),
            )),
            Err(e) => Err(StoreError::Git {
                context: "reading the index".into(),
                message: e.to_string(),
            }),
        }
    }

    /// Paths below `prefix` (repository-relative) whose worktree or index content differs from
    /// HEAD, including untracked files. Empty in a bare repository.
    pub fn uncommitted_under(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let Some(root) = self.workdir().map(Path::to_path_buf) else {
            return Ok(Vec::new());
        };
        let head: BTreeMap<String, ObjectId> = match self.head_commit()? {
            Some(c) => {
                let tree = self.commit_tree(c)?;
                let base = prefix.to_string();
                self.list_files(tree, prefix)?
                    .into_iter()
                    .map(|f| (join(&base, &f.path), f.id))
                    .collect()
            }
            None => BTreeMap::new(),
        };
        let index = self.load_index()?;
        let index_secs = std::fs::metadata(self.repo.index_path())
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(u32::MAX, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        let mut staged: BTreeMap<String, (ObjectId, gix::index::entry::Stat)> = BTreeMap::new();
        for e in index.entries() {
            let path = e.path(&index).to_str_lossy().into_owned();
            if under(&path, prefix) {
                staged.insert(path, (e.id, e.stat));
            }
        }
        let mut dirty = Vec::new();
        for (path, id) in &head {
            if staged.get(path).map(|s| s.0) != Some(*id) {
                dirty.push(path.clone());
            }
        }
        for path in staged.keys() {
            if !head.contains_key(path) {
                dirty.push(path.clone());
            }
        }
        let mut on_disk = Vec::new();
        walk_files(&root.join(prefix), prefix, &mut on_disk)?;
        enum Check {
            Untracked,
            Clean,
            /// Clean, but its stat was not to be trusted: record the stat now.
            Refreshed(gix::index::entry::Stat),
            Dirty,
        }
        let checks: Vec<(String, Check)> = on_disk
            .into_par_iter()
            .map(|(rel, abs)| {
                let Some((id, stat)) = staged.get(&rel) else {
                    return Ok((rel, Check::Untracked));
                };
                let meta =
                    gix::index::fs::Metadata::from_path_no_follow(&abs).map_err(io_err(&abs))?;
                let now = gix::index::entry::Stat::from_fs(&meta).ok();
                // As git does: a file written in the same second as the index may have changed
                // without its stat showing it ("racily clean"), so read it.
                let racy = stat.mtime.secs >= index_secs;
                let same_stat =
                    now.is_some_and(|n| stat.matches(&n, Default::default()) && n.mtime.secs != 0);
                if same_stat && !racy {
                    return Ok((rel, Check::Clean));
                }
                let bytes = std::fs::read(&abs).map_err(io_err(&abs))?;
                Ok(if blob_id(&bytes) != *id {
                    (rel, Check::Dirty)
                } else {
                    match now {
                        Some(n) => (rel, Check::Refreshed(n)),
                        None => (rel, Check::Clean),
                    }
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let mut seen = std::collections::BTreeSet::new();
        let mut refreshed = Vec::new();
        for (rel, check) in checks {
            seen.insert(rel.clone());
            match check {
                Check::Untracked | Check::Dirty => dirty.push(rel),
                Check::Clean => {}
                Check::Refreshed(stat) => refreshed.push((rel, stat)),
            }
        }
        // Like `git status`, record the stat of entries found clean by content, so the next
        // check needs no read (best effort: a failure here changes nothing of the answer).
        if !refreshed.is_empty() {
            let mut index = index;
            for (rel, stat) in &refreshed {
                if let Some(e) = index.entry_mut_by_path_and_stage(
                    rel.as_bytes().as_bstr(),
                    gix::index::entry::Stage::Unconflicted,
                ) {
                    e.stat = *stat;
                }
            }
            if let Err(e) = index.write(Default::default()) {
                tracing::debug!("could not refresh the index: {e}");
            }
        }
        for path in staged.keys() {
            if !seen.contains(path) {
                dirty.push(path.clone());
            }
        }
        dirty.sort();
        dirty.dedup();
        Ok(dirty)
    }

    /// Make the worktree and the index match `new_tree` below each of `prefixes`, where they
    /// matched `old_tree` before. Files outside the prefixes are not touched.
    pub fn checkout_prefixes(
        &self,
        old_tree: ObjectId,
        new_tree: ObjectId,
        prefixes: &[String],
    ) -> Result<(), StoreError> {
        let Some(root) = self.workdir().map(Path::to_path_buf) else {
            return Ok(());
        };
        let mut new_all: BTreeMap<String, ObjectId> = BTreeMap::new();
        let mut to_write: Vec<(String, ObjectId)> = Vec::new();
        for prefix in prefixes {
            let old: BTreeMap<String, ObjectId> = self
                .list_files(old_tree, prefix)?
                .into_iter()
                .map(|f| (join(prefix, &f.path), f.id))
                .collect();
            let new: BTreeMap<String, ObjectId> = self
                .list_files(new_tree, prefix)?
                .into_iter()
                .map(|f| (join(prefix, &f.path), f.id))
                .collect();
            for path in old.keys() {
                if !new.contains_key(path) {
                    let abs = root.join(path);
                    match std::fs::remove_file(&abs) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err(&abs)(e)),
                    }
                    remove_empty_parents(&root, &abs);
                }
            }
            for (path, id) in new {
                if old.get(&path) != Some(&id) || !root.join(&path).exists() {
                    to_write.push((path.clone(), id));
                }
                new_all.insert(path, id);
            }
        }
        // Folders first, then the files in parallel: creating files dominates on slow disks.
        let parents: std::collections::BTreeSet<std::path::PathBuf> = to_write
            .iter()
            .filter_map(|(p, _)| root.join(p).parent().map(Path::to_path_buf))
            .collect();
        for parent in &parents {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let sync = self.repo.clone().into_sync();
        let written: Vec<(String, ObjectId, gix::index::entry::Stat)> = to_write
            .into_par_iter()
            .map_init(
                || sync.to_thread_local(),
                |repo, (path, id)| {
                    let blob = repo
                        .find_blob(id)
                        .map_err(git_err(format!("reading blob {id}")))?;
                    let abs = root.join(&path);
                    std::fs::write(&abs, &blob.data).map_err(io_err(&abs))?;
                    let meta = gix::index::fs::Metadata::from_path_no_follow(&abs)
                        .map_err(io_err(&abs))?;
                    let stat = gix::index::entry::Stat::from_fs(&meta).unwrap_or_default();
                    Ok((path, id, stat))
                },
            )
            .collect::<Result<_, StoreError>>()?;
        let rewritten: std::collections::HashSet<&str> =
            written.iter().map(|(p, _, _)| p.as_str()).collect();
        let mut index = self.load_index()?;
        let mut kept = std::collections::HashSet::new();
        index.remove_entries(|_, path: &BStr, e| {
            let p = path.to_str_lossy();
            if !prefixes.iter().any(|pre| under(&p, pre)) {
                return false;
            }
            let keep = !rewritten.contains(p.as_ref()) && new_all.get(p.as_ref()) == Some(&e.id);
            if keep {
                kept.insert(p.into_owned());
            }
            !keep
        });
        let push = |index: &mut gix::index::File, path: &str, id: ObjectId, stat| {
            index.dangerously_push_entry(
                stat,
                id,
                gix::index::entry::Flags::empty(),
                gix::index::entry::Mode::FILE,
                path.as_bytes().as_bstr(),
            );
        };
        for (path, id, stat) in &written {
            push(&mut index, path, *id, *stat);
        }
        for (path, id) in &new_all {
            if !kept.contains(path) && !rewritten.contains(path.as_str()) {
                let abs = root.join(path);
                let meta =
                    gix::index::fs::Metadata::from_path_no_follow(&abs).map_err(io_err(&abs))?;
                let stat = gix::index::entry::Stat::from_fs(&meta).unwrap_or_default();
                push(&mut index, path, *id, stat);
            }
        }
        index.sort_entries();
        index.remove_tree();
        index.remove_resolve_undo();
        index
            .write(Default::default())
            .map_err(git_err("writing the index"))?;
        Ok(())
    }

    /// Write files into the worktree without committing (`--no-commit`): make the folders below
    /// `prefixes` hold exactly the files of `tree` there.
    pub fn write_worktree_only(
        &self,
        tree: ObjectId,
        prefixes: &[String],
    ) -> Result<(), StoreError> {
        let root = self
            .workdir()
            .map(Path::to_path_buf)
            .ok_or(StoreError::Bare("--no-commit needs a worktree to write to"))?;
        for prefix in prefixes {
            let new: BTreeMap<String, ObjectId> = self
                .list_files(tree, prefix)?
                .into_iter()
                .map(|f| (join(prefix, &f.path), f.id))
                .collect();
            let mut existing = Vec::new();
            walk_files(&root.join(prefix), prefix, &mut existing)?;
            for (rel, abs) in existing {
                if !new.contains_key(&rel) {
                    std::fs::remove_file(&abs).map_err(io_err(&abs))?;
                    remove_empty_parents(&root, &abs);
                }
            }
            for (path, id) in new {
                let abs = root.join(&path);
                let bytes = self.read_blob(id)?;
                if std::fs::read(&abs).ok().as_deref() == Some(bytes.as_slice()) {
                    continue;
                }
                if let Some(parent) = abs.parent() {
                    std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                }
                std::fs::write(&abs, bytes).map_err(io_err(&abs))?;
            }
        }
        Ok(())
    }
}

fn join(prefix: &str, rel: &str) -> String {
    if rel.is_empty() {
        prefix.to_string()
    } else if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) {
            break;
        }
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// Every regular file below `dir`, as (repository-relative path, absolute path).
fn walk_files(
    dir: &Path,
    rel: &str,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Git's own directory (or a nested repository's) is never part of a worktree.
        if name == ".git" {
            continue;
        }
        let path = entry.path();
        let child = join(rel, &name);
        let ft = entry.file_type().map_err(io_err(&path))?;
        if ft.is_dir() {
            walk_files(&path, &child, out)?;
        } else if ft.is_file() {
            out.push((child, path));
        }
    }
    Ok(())
}
