//! One environment's snapshot: objects from a source become canonical files with stable names
//! under `tenants/<env>/`, committed in one commit (design §4).
//!
//! Only kinds the source holds completely are replaced; a kind with an unreadable file is left
//! as it is. Objects are normalised and their blobs written in parallel, a chunk at a time, so
//! memory stays bounded by the chunk, not by the tenant.

mod identity;
mod report;

pub use identity::{Placement, assign};
pub use report::{FileOutcome, FileReport, KindOutcome, KindReport, Report};

use crate::policy::canonical::to_canonical;
use crate::policy::env_dir;
use crate::policy::kinds::{KINDS, Kind};
use crate::policy::normalize::{Mode, Normalized, name_secrets, normalize};
use crate::policy::refs::Directory;
use crate::policy::state::{self, Entry, STATE_PATH, State};
use crate::source::{FolderSource, Loaded, Taint};
use crate::store::{BlobWriter, CommitOutcome, Store, StoreError};
use gix::ObjectId;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// How many files are in flight at once.
const CHUNK: usize = 512;

#[derive(Debug, Clone)]
pub struct Options {
    pub env: String,
    /// Branch to commit on; HEAD's branch when `None`.
    pub branch: Option<String>,
    /// Write the files into the worktree, do not commit.
    pub no_commit: bool,
    /// `Tenant:` trailer (the environment's tenant, or its name).
    pub tenant: String,
    /// Verb for the commit subject: `import` or `export`.
    pub verb: &'static str,
    /// Kinds this environment manages (`kinds` in tenantgate.toml); `None`: all.
    pub kinds: Option<Vec<String>>,
    /// Who changed which object since the last snapshot (object id -> actors, from the
    /// tenant's audit log): changed policies give `Changed-By:` trailers.
    pub actors: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("uncommitted changes in {dir}/ ({}); commit or stash them first, so nothing of yours is overwritten", preview(.paths))]
    Dirty { dir: String, paths: Vec<String> },
    #[error("{path}: {message}")]
    BadState { path: String, message: String },
}

fn preview(paths: &[String]) -> String {
    let mut s = paths.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > 5 {
        s.push_str(&format!(" and {} more", paths.len() - 5));
    }
    s
}

/// A normalised object waiting for its file name.
#[derive(Debug)]
pub struct Prepared {
    pub kind: &'static Kind,
    pub origin: String,
    pub id: Option<String>,
    pub name: String,
    pub odata_type: Option<String>,
    /// Blob of the canonical document, when it has no secret to name.
    pub blob: Option<ObjectId>,
    /// The document, kept when secrets still need their names (rare).
    pub pending: Option<Box<Normalized>>,
    pub bodies: Vec<(&'static str, ObjectId)>,
    /// Content hash used to order otherwise identical candidates.
    pub tiebreak: ObjectId,
}

enum Outcome {
    Prepared(Prepared),
    Loaded(Loaded),
}

/// Normalise one object of `kind` from a source and write its blobs (the document, unless it
/// has secrets still to name, and its script bodies). An object that cannot be used comes back
/// as a [`Loaded::Skipped`] that leaves its kind as it is.
pub fn prepare(
    kind: &'static Kind,
    value: serde_json::Value,
    origin: String,
    dir: &Directory,
    writer: &crate::store::LocalBlobWriter,
) -> Result<Prepared, Loaded> {
    let skip = |reason: String| Loaded::Skipped {
        origin: origin.clone(),
        reason,
        taint: Taint::Kind(kind),
    };
    let n = normalize(kind, value, Mode::Source(dir)).map_err(|e| skip(e.to_string()))?;
    if !n.missing_bodies.is_empty() {
        return Err(skip(format!(
            "no {} in the export: a list response leaves it out; export each object by id",
            n.missing_bodies.join(", ")
        )));
    }
    let mut bodies = Vec::new();
    for b in &n.bodies {
        let id = writer.write(&b.bytes).map_err(|e| skip(e.to_string()))?;
        bodies.push((b.suffix, id));
    }
    let bytes = to_canonical(&n.doc);
    let (id, name, odata_type) = (n.id.clone(), n.display_name.clone(), n.odata_type.clone());
    let (blob, pending, tiebreak) = if n.secrets.is_empty() {
        let blob = writer.write(&bytes).map_err(|e| skip(e.to_string()))?;
        (Some(blob), None, blob)
    } else {
        (None, Some(Box::new(n)), crate::store::blob_id(&bytes))
    };
    Ok(Prepared {
        kind,
        origin,
        id,
        name,
        odata_type,
        blob,
        pending,
        bodies,
        tiebreak,
    })
}

/// Import a folder source into `tenants/<env>/` and commit.
pub fn import_folder(
    store: &Store,
    source: &FolderSource,
    opts: &Options,
) -> Result<Report, SnapshotError> {
    let (dir, used) = source.directory();
    let mut loaded: Vec<Loaded> = used;
    let mut prepared: Vec<Prepared> = Vec::new();
    let writer = store.pack_writer()?;
    for chunk in source.units.chunks(CHUNK) {
        let outcomes: Vec<Vec<Outcome>> = chunk
            .par_iter()
            .map_init(
                || writer.local(),
                |w, unit| {
                    source
                        .load(unit)
                        .into_iter()
                        .map(|l| match l {
                            Loaded::Object {
                                kind,
                                value,
                                origin,
                            } => match prepare(kind, value, origin, &dir, w) {
                                Ok(p) => Outcome::Prepared(p),
                                Err(l) => Outcome::Loaded(l),
                            },
                            other => Outcome::Loaded(other),
                        })
                        .collect()
                },
            )
            .collect();
        for o in outcomes.into_iter().flatten() {
            match o {
                Outcome::Prepared(p) => prepared.push(p),
                Outcome::Loaded(l) => loaded.push(l),
            }
        }
    }
    write_snapshot(
        store,
        opts,
        &source.label(),
        &dir,
        prepared,
        loaded,
        Vec::new(),
        &writer,
    )
}

/// Turn prepared objects into the environment's tree and commit it. Shared by every source.
#[allow(clippy::too_many_arguments)]
pub fn write_snapshot(
    store: &Store,
    opts: &Options,
    source_label: &str,
    dir: &Directory,
    prepared: Vec<Prepared>,
    loaded: Vec<Loaded>,
    mut held: Vec<&'static Kind>,
    writer: &BlobWriter,
) -> Result<Report, SnapshotError> {
    let env = env_dir(&opts.env);
    let full_ref = store.branch_ref(opts.branch.as_deref())?;
    let on_head = !store.is_bare() && store.is_head_branch(&full_ref);
    let parent = match store.ref_target(&full_ref)? {
        Some(c) => Some(c),
        // A new branch starts from HEAD.
        None => store.head_commit()?,
    };
    let base_tree = match parent {
        Some(c) => store.commit_tree(c)?,
        None => store.empty_tree(),
    };
    if on_head || opts.no_commit {
        let dirty = store.uncommitted_under(&env)?;
        if !dirty.is_empty() {
            return Err(SnapshotError::Dirty {
                dir: env,
                paths: dirty,
            });
        }
    }
    if opts.no_commit && store.is_bare() {
        return Err(StoreError::Bare("--no-commit needs a worktree to write to").into());
    }
    let state_path = format!("{env}/{STATE_PATH}");
    let old_state = match store.read_path(base_tree, &state_path)? {
        Some(bytes) => State::parse(&bytes).map_err(|e| SnapshotError::BadState {
            path: state_path.clone(),
            message: e.to_string(),
        })?,
        None => State::default(),
    };

    let mut report = Report::default();
    let mut tainted: BTreeSet<&'static str> = BTreeSet::new();
    let mut taint_all = 0usize;
    for l in loaded {
        match l {
            Loaded::Held(k) => held.push(k),
            Loaded::Used { origin, what } => report.files.push(FileReport {
                origin,
                outcome: FileOutcome::Used { what },
            }),
            Loaded::Skipped {
                origin,
                reason,
                taint,
            } => {
                match &taint {
                    Taint::None => {}
                    Taint::Kind(k) => {
                        tainted.insert(k.name);
                    }
                    Taint::All => taint_all += 1,
                }
                report.files.push(FileReport {
                    origin,
                    outcome: FileOutcome::Skipped {
                        reason,
                        blocks_kind: !matches!(taint, Taint::None),
                    },
                });
            }
            Loaded::Object { origin, .. } => report.files.push(FileReport {
                origin,
                outcome: FileOutcome::Skipped {
                    reason: "not prepared".into(),
                    blocks_kind: false,
                },
            }),
        }
    }
    for c in dir.conflicts() {
        report.conflicts.push(c.to_string());
    }

    let managed = |k: &Kind| {
        opts.kinds
            .as_ref()
            .is_none_or(|list| list.iter().any(|n| n == k.name))
    };
    held.retain(|k| managed(k));
    let mut by_kind: BTreeMap<&'static str, Vec<Prepared>> = BTreeMap::new();
    for p in prepared {
        if !managed(p.kind) {
            report.files.push(FileReport {
                outcome: FileOutcome::Skipped {
                    reason: format!(
                        "{} is not one of the kinds environment {} manages (kinds in tenantgate.toml)",
                        p.kind.name, opts.env
                    ),
                    blocks_kind: false,
                },
                origin: p.origin,
            });
            continue;
        }
        held.push(p.kind);
        by_kind.entry(p.kind.name).or_default().push(p);
    }
    let held_names: BTreeSet<&'static str> = held.iter().map(|k| k.name).collect();
    // An unreadable file makes the run incomplete even when its kind has nothing else here.
    report.incomplete = taint_all > 0 || !tainted.is_empty();

    let mut new_state = old_state.clone();
    let mut changed_by: BTreeSet<String> = BTreeSet::new();
    let mut edits: Vec<(String, Option<(ObjectId, bool)>)> = Vec::new();
    for kind in KINDS.iter().copied() {
        let is_tainted = tainted.contains(kind.name);
        if !held_names.contains(kind.name) && !is_tainted {
            continue;
        }
        let kind_dir = format!("{env}/{}", kind.name);
        if taint_all > 0 || is_tainted {
            let reason = if is_tainted && opts.verb == "export" {
                "it could not be read completely from the tenant; nothing of it was changed"
                    .to_string()
            } else if is_tainted {
                "a file of this kind could not be read; nothing of it was changed".to_string()
            } else {
                format!("{taint_all} unreadable file(s) of unknown kind; no kind was replaced")
            };
            let mut kr = KindReport::replaced(kind.name);
            kr.outcome = KindOutcome::LeftAsIs(reason);
            report.kinds.push(kr);
            for p in by_kind.remove(kind.name).unwrap_or_default() {
                report.files.push(FileReport {
                    origin: p.origin,
                    outcome: FileOutcome::NotApplied,
                });
            }
            continue;
        }
        let items = dedupe(
            by_kind.remove(kind.name).unwrap_or_default(),
            dir,
            &mut report,
        );
        let old_entries: Vec<(String, Entry)> = old_state
            .of_kind(kind.name)
            .map(|(s, e)| (s.to_string(), e.clone()))
            .collect();
        let old_files: BTreeMap<String, ObjectId> = store
            .list_files(base_tree, &kind_dir)?
            .into_iter()
            .filter(|f| !f.path.contains('/'))
            .map(|f| (f.path, f.id))
            .collect();
        let placed = assign(items, &old_entries);
        let mut files: Vec<(String, ObjectId)> = Vec::new();
        new_state
            .policies
            .retain(|k, _| !k.starts_with(&format!("{}/", kind.name)));
        let mut slugs_now = BTreeSet::new();
        let mut moved_away: BTreeSet<String> = BTreeSet::new();
        let mut kr = KindReport::replaced(kind.name);
        for placement in placed {
            let Placement {
                slug,
                item,
                previous,
                old_slug,
            } = placement;
            let mut p = item;
            let known = previous
                .as_ref()
                .map(|e| e.secrets.clone())
                .unwrap_or_default();
            let mut secrets = BTreeMap::new();
            let blob = match (p.blob, p.pending.take()) {
                (Some(b), _) => b,
                (None, Some(mut n)) => {
                    secrets = name_secrets(&mut n, &slug, &known);
                    writer.local().write(&to_canonical(&n.doc))?
                }
                (None, None) => unreachable!("prepared objects carry a blob or a document"),
            };
            let json_name = format!("{slug}.json");
            let mut changed = old_files.get(&json_name) != Some(&blob);
            files.push((json_name.clone(), blob));
            for (suffix, id) in &p.bodies {
                let name = format!("{slug}{suffix}");
                changed |= old_files.get(&name) != Some(id);
                files.push((name, *id));
            }
            let existed = old_files.contains_key(&json_name);
            let renamed_from = old_slug;
            if let Some(from) = &renamed_from {
                moved_away.insert(from.clone());
            }
            if (renamed_from.is_some() || !existed || changed)
                && let Some(who) = p.id.as_ref().and_then(|id| opts.actors.get(id))
            {
                changed_by.extend(who.iter().cloned());
            }
            match (&renamed_from, existed, changed) {
                (Some(_), _, _) => kr.renamed += 1,
                (None, false, _) => kr.added += 1,
                (None, true, true) => kr.changed += 1,
                (None, true, false) => kr.unchanged += 1,
            }
            let entry = Entry {
                id: p
                    .id
                    .clone()
                    .or_else(|| previous.as_ref().and_then(|e| e.id.clone())),
                odata_type: p
                    .odata_type
                    .clone()
                    .or_else(|| previous.as_ref().and_then(|e| e.odata_type.clone())),
                name: p.name.clone(),
                secrets,
            };
            new_state
                .policies
                .insert(state::key(kind.name, &slug), entry);
            slugs_now.insert(slug.clone());
            report.files.push(FileReport {
                origin: p.origin,
                outcome: FileOutcome::Imported {
                    path: format!("{kind_dir}/{json_name}"),
                    renamed_from: renamed_from.map(|s| format!("{kind_dir}/{s}.json")),
                },
            });
        }
        // Files whose policy is gone (and that no renamed policy took over).
        let removed: Vec<&str> = old_files
            .keys()
            .filter_map(|f| f.strip_suffix(".json"))
            .filter(|s| !slugs_now.contains(*s) && !moved_away.contains(*s))
            .collect();
        kr.removed = removed.len();
        for slug in removed {
            if let Some(who) = old_state
                .policies
                .get(&state::key(kind.name, slug))
                .and_then(|e| e.id.as_ref())
                .and_then(|id| opts.actors.get(id))
            {
                changed_by.extend(who.iter().cloned());
            }
        }
        let tree = store.write_flat_tree(&files)?;
        edits.push((kind_dir, Some((tree, true))));
        report.kinds.push(kr);
    }
    report.changed_by = changed_by.into_iter().collect();
    let state_changed = new_state != old_state;
    if state_changed {
        let id = store.write_blob(&new_state.to_bytes())?;
        edits.push((state_path, Some((id, false))));
    }
    // Every blob must be in the repository before a tree or commit refers to it.
    writer.finish()?;
    let new_tree = store.edit_tree(base_tree, &edits)?;
    report.source = source_label.to_string();
    report.env = opts.env.clone();
    if new_tree == base_tree {
        report.commit = None;
        return Ok(report);
    }
    if opts.no_commit {
        store.write_worktree_only(new_tree, &[env])?;
        report.written_without_commit = true;
        return Ok(report);
    }
    let message = report.commit_message(opts.verb, &opts.tenant);
    match store.commit(&full_ref, &message, new_tree, parent)? {
        CommitOutcome::Unchanged => report.commit = None,
        CommitOutcome::Committed(id) => {
            report.commit = Some(id.to_string());
            report.branch = Some(full_ref.clone());
            if on_head {
                store.checkout_prefixes(base_tree, new_tree, &[env])?;
            }
        }
    }
    Ok(report)
}

/// One object per id: a second copy (two files exporting one policy) is reported and dropped.
/// For directory kinds the copy whose name the directory settled on wins, so the group file and
/// the references to it agree.
fn dedupe(items: Vec<Prepared>, dir: &Directory, report: &mut Report) -> Vec<Prepared> {
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<Prepared> = Vec::with_capacity(items.len());
    let mut dropped: Vec<(Prepared, String)> = Vec::new();
    for p in items {
        let Some(id) = p.id.clone() else {
            out.push(p);
            continue;
        };
        match first.get(&id) {
            None => {
                first.insert(id, out.len());
                out.push(p);
            }
            Some(&i) => {
                let preferred = p.kind.directory.and_then(|t| match dir.resolve(t, &id) {
                    crate::policy::refs::Resolution::Name(n)
                    | crate::policy::refs::Resolution::Ambiguous(n) => Some(n),
                    crate::policy::refs::Resolution::Unresolved => None,
                });
                let take_new = preferred.is_some_and(|n| n == p.name && out[i].name != n);
                if take_new {
                    let old = std::mem::replace(&mut out[i], p);
                    let kept = out[i].origin.clone();
                    dropped.push((old, kept));
                } else {
                    let kept = out[i].origin.clone();
                    dropped.push((p, kept));
                }
            }
        }
    }
    for (p, kept) in dropped {
        report.files.push(FileReport {
            outcome: FileOutcome::Skipped {
                reason: format!(
                    "same object (id {}) as {kept}",
                    p.id.as_deref().unwrap_or_default()
                ),
                blocks_kind: false,
            },
            origin: p.origin,
        });
    }
    out
}
