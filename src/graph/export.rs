//! `export`: read a tenant over Graph and commit it as a snapshot (design §4).
//!
//! The directory (names for references) is read first; then every kind is read at once, a page
//! at a time, and each page is normalised and its blobs written as it arrives, so memory holds
//! pages, not the tenant. A kind that cannot be read completely (403, a page that fails after
//! its retries, names its references need that could not be read) is left as it is in Git and
//! reported; an authentication failure stops the export before anything is written.

use super::GraphError;
use super::client::{GraphClient, StatsSnapshot};
use super::fetch::{self, Completed, Deleted, complete_items, is_fatal, list_request};
use crate::policy::kinds::{Collection, Kind};
use crate::snapshot::{self, Prepared, Report, SnapshotError};
use crate::source::{Loaded, Taint};
use crate::store::Store;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Told how the export goes (a progress bar, plain lines in CI, or nothing).
pub trait Progress: Send + Sync {
    fn directory_read(&self, _names: usize) {}
    fn objects_read(&self, _kind: &'static Kind, _n: usize) {}
    fn kind_finished(&self, _kind: &'static Kind, _objects: usize, _error: Option<&str>) {}
}

/// No progress output.
pub struct Silent;
impl Progress for Silent {}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("{0}")]
    Runtime(String),
}

#[derive(Debug)]
pub struct ExportOutcome {
    pub report: Report,
    pub stats: StatsSnapshot,
    /// Objects left out because they were deleted while the export read them (confirmed).
    pub deleted: Vec<(&'static str, Deleted)>,
}

enum Msg {
    Page(&'static Kind, &'static str, Completed),
    Done(&'static Kind, usize, Result<(), GraphError>),
}

/// Complete one page of `coll` and hand it to the writer; how many objects it held.
async fn send_page(
    client: &GraphClient,
    kind: &'static Kind,
    coll: &'static Collection,
    page: Vec<Value>,
    tx: &tokio::sync::mpsc::Sender<Msg>,
) -> Result<usize, GraphError> {
    let full = complete_items(client, coll, page).await?;
    let n = full.items.len();
    if tx.send(Msg::Page(kind, coll.path, full)).await.is_err() {
        return Err(GraphError::Config("the export was stopped".into()));
    }
    Ok(n)
}

/// List `coll` a page at a time, completing and sending each page.
async fn read_collection(
    client: &Arc<GraphClient>,
    kind: &'static Kind,
    coll: &'static Collection,
    tx: &tokio::sync::mpsc::Sender<Msg>,
) -> Result<usize, GraphError> {
    client
        .list_pages(list_request(kind, coll), |page| {
            let client = client.clone();
            let tx = tx.clone();
            async move { send_page(&client, kind, coll, page, &tx).await }
        })
        .await
}

/// Read every collection of `kind`. `listed` holds the pages of its first collection when
/// they were listed already (directory kinds, while reading the directory).
async fn read_kind(
    client: Arc<GraphClient>,
    kind: &'static Kind,
    listed: Option<Vec<Vec<Value>>>,
    tx: tokio::sync::mpsc::Sender<Msg>,
) {
    let mut count = 0usize;
    let mut result = Ok(());
    let mut pages = listed;
    for coll in kind.collections {
        let r = match pages.take() {
            Some(pages) => {
                let mut n = 0;
                let mut r = Ok(0);
                for page in pages {
                    match send_page(&client, kind, coll, page, &tx).await {
                        Ok(k) => n += k,
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                r.map(|_| n)
            }
            None => read_collection(&client, kind, coll, &tx).await,
        };
        match r {
            Ok(n) => count += n,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = tx.send(Msg::Done(kind, count, result)).await;
}

/// Who changed which object since `since` (RFC 3339), from Intune's audit log: object id ->
/// the user principal names (or application names) that changed it.
pub async fn audit_actors(
    client: &GraphClient,
    since: &str,
) -> Result<BTreeMap<String, BTreeSet<String>>, GraphError> {
    let req = super::Req::new(
        crate::policy::kinds::Api::Beta,
        format!("deviceManagement/auditEvents?$filter=activityDateTime ge {since}"),
    );
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    client
        .list_pages(req, |events| {
            let n = events.len();
            for e in &events {
                let actor = &e["actor"];
                let who = match actor["userPrincipalName"].as_str() {
                    Some(upn) if !upn.is_empty() => upn.to_string(),
                    _ => match actor["applicationDisplayName"].as_str() {
                        Some(app) if !app.is_empty() => format!("{app} (application)"),
                        _ => continue,
                    },
                };
                for r in e["resources"].as_array().into_iter().flatten() {
                    if let Some(id) = r["resourceId"].as_str() {
                        out.entry(id.to_string()).or_default().insert(who.clone());
                    }
                }
            }
            async move { Ok(n) }
        })
        .await?;
    Ok(out)
}

/// Export `kinds` of the tenant `client` reads into `tenants/<env>/` and commit it.
///
/// This blocks the calling thread until the export is committed. It runs its own async
/// runtime; called from inside a tokio runtime (a webhook handler, `spawn_blocking`), where
/// starting or blocking on another runtime would panic, it does its work on a thread of its
/// own and waits for it.
pub fn export(
    store: &Store,
    client: GraphClient,
    kinds: &[&'static Kind],
    opts: &snapshot::Options,
    progress: &dyn Progress,
) -> Result<ExportOutcome, ExportError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return export_here(store, client, kinds, opts, progress);
    }
    let own = store.reopen().map_err(SnapshotError::from)?;
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("tenantgate-export".into())
            .spawn_scoped(scope, move || {
                export_here(&own, client, kinds, opts, progress)
            })
            .map_err(|e| ExportError::Runtime(format!("cannot start the export thread: {e}")))?
            .join()
            .map_err(|_| ExportError::Runtime("the export thread panicked".into()))?
    })
}

fn export_here(
    store: &Store,
    client: GraphClient,
    kinds: &[&'static Kind],
    opts: &snapshot::Options,
    progress: &dyn Progress,
) -> Result<ExportOutcome, ExportError> {
    // Refuse early, before reading a whole tenant, when the snapshot could not be written.
    let env_dir = crate::policy::env_dir(&opts.env);
    let full_ref = store
        .branch_ref(opts.branch.as_deref())
        .map_err(SnapshotError::from)?;
    if (opts.no_commit || (!store.is_bare() && store.is_head_branch(&full_ref))) && !store.is_bare()
    {
        let dirty = store
            .uncommitted_under(&env_dir)
            .map_err(SnapshotError::from)?;
        if !dirty.is_empty() {
            return Err(SnapshotError::Dirty {
                dir: env_dir,
                paths: dirty,
            }
            .into());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ExportError::Runtime(format!("cannot start the async runtime: {e}")))?;
    let client = Arc::new(client);
    let mut opts = opts.clone();
    // Actor attribution: the audit log since the snapshot this export builds on.
    let base = match store.ref_target(&full_ref).map_err(SnapshotError::from)? {
        Some(c) => Some(c),
        None => store.head_commit().map_err(SnapshotError::from)?,
    };
    let mut since = None;
    if let Some(c) = base {
        let tree = store.commit_tree(c).map_err(SnapshotError::from)?;
        let state = format!("{env_dir}/{}", crate::policy::state::STATE_PATH);
        if store
            .read_path(tree, &state)
            .map_err(SnapshotError::from)?
            .is_some()
        {
            since = Some(super::format_utc(
                store.commit_time(c).map_err(SnapshotError::from)?,
            ));
        }
    }
    if let Some(since) = since {
        match rt.block_on(audit_actors(&client, &since)) {
            Ok(a) => opts.actors = a,
            Err(e) if is_fatal(&e) => return Err(e.into()),
            Err(e) => tracing::warn!(
                "the audit log could not be read ({e}); the commit names no Changed-By"
            ),
        }
    }
    let opts = &opts;
    let mut loaded: Vec<Loaded> = Vec::new();
    let mut blocked: BTreeMap<&'static str, String> = BTreeMap::new();

    // Names for references, and with them the directory kinds that are exported.
    let mut targets = fetch::targets_of(kinds);
    for k in kinds {
        if let Some(t) = k.directory
            && !targets.contains(&t)
        {
            targets.push(t);
        }
    }
    let read = rt.block_on(fetch::read_directory(&client, &targets, kinds));
    let dir = read.dir;
    let mut listed = read.listed;
    for (target, e) in read.failed {
        if is_fatal(&e) {
            return Err(e.into());
        }
        let (_, path, _) = fetch::directory_source(target);
        let mut affected = fetch::kinds_referring_to(target);
        affected.extend(fetch::directory_kind(target));
        for k in affected {
            if kinds.contains(&k) {
                blocked.entry(k.name).or_insert_with(|| {
                    format!(
                        "names for its {} references could not be read: {e}",
                        target.word()
                    )
                });
            }
        }
        tracing::warn!("graph:{path}: {e}");
    }
    progress.directory_read(targets.len());

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(8);
    let readers: Vec<_> = kinds
        .iter()
        .filter(|k| !blocked.contains_key(k.name))
        .map(|k| {
            let pages = listed
                .iter()
                .position(|(lk, _)| lk == k)
                .map(|i| listed.swap_remove(i).1);
            rt.spawn(read_kind(client.clone(), k, pages, tx.clone()))
        })
        .collect();
    drop(tx);

    let writer = store.pack_writer().map_err(SnapshotError::from)?;
    let mut prepared: Vec<Prepared> = Vec::new();
    let mut deleted: Vec<(&'static str, Deleted)> = Vec::new();
    let mut fatal: Option<GraphError> = None;
    while let Some(msg) = rt.block_on(rx.recv()) {
        match msg {
            Msg::Page(
                kind,
                path,
                Completed {
                    items,
                    deleted: gone,
                },
            ) => {
                for d in gone {
                    tracing::info!(
                        "{}: {} ({}) was deleted while the export read it: {}",
                        kind.name,
                        d.id,
                        d.name.as_deref().unwrap_or("no name"),
                        d.how
                    );
                    deleted.push((kind.name, d));
                }
                progress.objects_read(kind, items.len());
                let outcomes: Vec<Result<Prepared, Loaded>> = items
                    .into_par_iter()
                    .map_init(
                        || writer.local(),
                        |w, mut item| {
                            fetch::strip_envelope(&mut item);
                            let id = item
                                .get("id")
                                .and_then(Value::as_str)
                                .unwrap_or("?")
                                .to_string();
                            snapshot::prepare(kind, item, format!("graph:{path}/{id}"), &dir, w)
                        },
                    )
                    .collect();
                for o in outcomes {
                    match o {
                        Ok(p) => prepared.push(p),
                        Err(l) => loaded.push(l),
                    }
                }
            }
            Msg::Done(kind, n, result) => {
                let error = result.err();
                progress.kind_finished(kind, n, error.as_ref().map(|e| e.to_string()).as_deref());
                if let Some(e) = error {
                    if is_fatal(&e) {
                        // Nothing will be written: stop the other readers now instead of
                        // reading the rest of the tenant for nothing.
                        if fatal.is_none() {
                            for r in &readers {
                                r.abort();
                            }
                        }
                        fatal.get_or_insert(e);
                        continue;
                    }
                    blocked.insert(kind.name, e.to_string());
                }
            }
        }
    }
    for r in readers {
        match rt.block_on(r) {
            Ok(()) => {}
            Err(e) if e.is_cancelled() => {}
            Err(e) => return Err(ExportError::Runtime(format!("a reader stopped: {e}"))),
        }
    }
    // The runtime is dropped in the background, so no call here ever blocks on its shutdown.
    if let Some(e) = fatal {
        rt.shutdown_background();
        return Err(e.into());
    }
    for (name, reason) in &blocked {
        let kind = kinds
            .iter()
            .copied()
            .find(|k| k.name == *name)
            .expect("blocked kinds are exported kinds");
        loaded.push(Loaded::Skipped {
            origin: format!("graph:{}", kind.collections[0].path),
            reason: reason.clone(),
            taint: Taint::Kind(kind),
        });
    }
    let stats = client.stats();
    rt.shutdown_background();
    let label = format!("graph:{}", opts.tenant);
    let report = snapshot::write_snapshot(
        store,
        opts,
        &label,
        &dir,
        prepared,
        loaded,
        kinds.to_vec(),
        &writer,
    )?;
    Ok(ExportOutcome {
        report,
        stats,
        deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::auth::{Credential, Secret};
    use crate::policy::kinds::by_name;
    use crate::sim::{Sim, SimConfig, Tenant};

    fn client_for(url: &str) -> GraphClient {
        let env = crate::config::Environment {
            name: "dev".into(),
            tenant: Some("contoso-dev.onmicrosoft.com".into()),
            client_id: Some("c".into()),
            client_secret_env: None,
            certificate: None,
            graph_url: url.to_string(),
            login_url: url.to_string(),
            kinds: None,
            max_concurrency: 8,
            requests_per_second: 1000,
        };
        crate::graph::client_with(&env, Credential::Secret(Secret::new("s")), true).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_kind_listed_while_reading_the_directory_reads_its_other_collections_too() {
        // A directory kind of two collections (none is, yet): scope tags, then filters.
        let tags = by_name("scope-tags").unwrap();
        let filters = by_name("assignment-filters").unwrap();
        let collections: &'static [Collection] = Box::leak(Box::new([
            Collection {
                ..tags.collections[0]
            },
            Collection {
                ..filters.collections[0]
            },
        ]));
        let kind: &'static Kind = Box::leak(Box::new(Kind {
            collections,
            ..*tags
        }));
        let sim = crate::sim::spawn(Sim::new(
            Tenant::builtin("dev").unwrap(),
            SimConfig::default(),
        ))
        .unwrap();
        let client = Arc::new(client_for(&sim.url()));
        // The first collection, as read_directory lists it.
        let mut pages = Vec::new();
        client
            .list_pages(list_request(kind, &kind.collections[0]), |items| {
                let n = items.len();
                pages.push(items);
                async move { Ok(n) }
            })
            .await
            .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        read_kind(client, kind, Some(pages), tx).await;
        let mut paths = Vec::new();
        let mut done = None;
        while let Some(m) = rx.recv().await {
            match m {
                Msg::Page(_, path, c) => paths.push((path, c.items.len())),
                Msg::Done(_, n, r) => done = Some((n, r.is_ok())),
            }
        }
        assert_eq!(
            paths,
            vec![
                ("deviceManagement/roleScopeTags", 4),
                ("deviceManagement/assignmentFilters", 3)
            ]
        );
        assert_eq!(done, Some((7, true)));
    }
}
