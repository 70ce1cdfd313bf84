//! Which files changed between two trees, by comparing tree objects: identical sub-trees are
//! skipped without being read, so a change to one policy of ten thousand reads a handful of
//! trees.

use super::StoreError;
use super::repo::Store;
use gix::ObjectId;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One changed file (repository-relative path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
}

type Entries = BTreeMap<String, (ObjectId, bool)>;

impl Store {
    /// Files changed between two commits below `prefix` (`""` for everything), sorted by path.
    pub fn changed_files(
        &self,
        old_commit: Option<ObjectId>,
        new_commit: ObjectId,
        prefix: &str,
    ) -> Result<Vec<Change>, StoreError> {
        let old_tree = match old_commit {
            Some(c) => self.commit_tree(c)?,
            None => self.empty_tree(),
        };
        let new_tree = self.commit_tree(new_commit)?;
        self.changed_between_trees(old_tree, new_tree, prefix)
    }

    /// Files changed between two trees below `prefix`, sorted by path.
    pub fn changed_between_trees(
        &self,
        old_tree: ObjectId,
        new_tree: ObjectId,
        prefix: &str,
    ) -> Result<Vec<Change>, StoreError> {
        let old = self
            .entry_at(old_tree, prefix)?
            .filter(|(_, m)| m.is_tree())
            .map(|(id, _)| id);
        let new = self
            .entry_at(new_tree, prefix)?
            .filter(|(_, m)| m.is_tree())
            .map(|(id, _)| id);
        let mut out = Vec::new();
        self.diff_trees(old, new, prefix, &mut out)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn entries(&self, tree: Option<ObjectId>) -> Result<Entries, StoreError> {
        let Some(tree) = tree else {
            return Ok(Entries::new());
        };
        let map = self
            .tree_entries(tree)?
            .into_iter()
            .map(|(name, id, mode)| (name, (id, mode.is_tree())))
            .collect();
        Ok(map)
    }

    fn diff_trees(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
        base: &str,
        out: &mut Vec<Change>,
    ) -> Result<(), StoreError> {
        if old == new {
            return Ok(());
        }
        let old_entries = self.entries(old)?;
        let new_entries = self.entries(new)?;
        let join = |name: &str| {
            if base.is_empty() {
                name.to_string()
            } else {
                format!("{base}/{name}")
            }
        };
        let names: std::collections::BTreeSet<&String> =
            old_entries.keys().chain(new_entries.keys()).collect();
        for name in names {
            let path = join(name);
            let o = old_entries.get(name).copied();
            let n = new_entries.get(name).copied();
            match (o, n) {
                (Some((oid, true)), Some((nid, true))) => {
                    self.diff_trees(Some(oid), Some(nid), &path, out)?
                }
                (Some((oid, true)), other) => {
                    self.diff_trees(Some(oid), None, &path, out)?;
                    if let Some((nid, false)) = other {
                        out.push(Change {
                            path,
                            kind: ChangeKind::Added,
                            old: None,
                            new: Some(nid),
                        });
                    }
                }
                (other, Some((nid, true))) => {
                    if let Some((oid, false)) = other {
                        out.push(Change {
                            path: path.clone(),
                            kind: ChangeKind::Deleted,
                            old: Some(oid),
                            new: None,
                        });
                    }
                    self.diff_trees(None, Some(nid), &path, out)?;
                }
                (Some((oid, false)), Some((nid, false))) => {
                    if oid != nid {
                        out.push(Change {
                            path,
                            kind: ChangeKind::Modified,
                            old: Some(oid),
                            new: Some(nid),
                        });
                    }
                }
                (Some((oid, false)), None) => out.push(Change {
                    path,
                    kind: ChangeKind::Deleted,
                    old: Some(oid),
                    new: None,
                }),
                (None, Some((nid, false))) => out.push(Change {
                    path,
                    kind: ChangeKind::Added,
                    old: None,
                    new: Some(nid),
                }),
                (None, None) => {}
            }
        }
        Ok(())
    }
}
