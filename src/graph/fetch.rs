//! Reading kinds from Graph, driven by the registry: each collection is listed with its
//! `list_expand`, and when the list leaves something out (`item_expand`), each object's
//! missing navigation collections are read on their own (`{id}/settings`, paged as Graph
//! documents them), or the object is read by id (an empty `item_expand`: script bodies).
//! Every `<property>@odata.nextLink`, at any depth (assignments on a list item, settings,
//! `presentationValues` inside definition values), is followed to the end, and an object that
//! still holds one is never handed on: no policy is cut short.

use super::GraphError;
use super::client::{GraphClient, PageGuard, Req, split_page};
use crate::policy::kinds::{self, Api, Collection, Kind, RefTarget};
use crate::policy::refs::Directory;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The page size asked of Entra's `users` and `groups` (`$top`; Graph pages 100 by default).
pub const DIRECTORY_TOP: usize = 999;

/// Where the names of each reference target come from.
pub fn directory_source(target: RefTarget) -> (Api, &'static str, &'static str) {
    match target {
        RefTarget::Group => (Api::V1, "groups", "displayName"),
        RefTarget::User => (Api::V1, "users", "userPrincipalName"),
        RefTarget::ScopeTag => (Api::Beta, "deviceManagement/roleScopeTags", "displayName"),
        RefTarget::Filter => (
            Api::Beta,
            "deviceManagement/assignmentFilters",
            "displayName",
        ),
        RefTarget::NamedLocation => (
            Api::V1,
            "identity/conditionalAccess/namedLocations",
            "displayName",
        ),
        RefTarget::NotificationTemplate => (
            Api::Beta,
            "deviceManagement/notificationMessageTemplates",
            "displayName",
        ),
    }
}

/// Is this error the end of the whole export (no kind can be read), rather than of one kind?
pub fn is_fatal(e: &GraphError) -> bool {
    matches!(
        e,
        GraphError::Auth { .. }
            | GraphError::Unauthorized(_)
            | GraphError::SignInFailed(_)
            | GraphError::SignInUnavailable(_)
            | GraphError::Certificate { .. }
            | GraphError::Config(_)
    )
}

/// The first request listing `coll`: its `$expand`, and `$select` for kinds that keep only
/// some fields (groups: definitions, never members).
pub fn list_request(kind: &Kind, coll: &Collection) -> Req {
    let mut query: Vec<String> = Vec::new();
    if let Some(keep) = kind.keep_only {
        let mut fields: Vec<&str> = vec!["id"];
        fields.extend(keep.iter().copied());
        query.push(format!("$select={}", fields.join(",")));
    }
    if !coll.list_expand.is_empty() {
        query.push(format!("$expand={}", coll.list_expand));
    }
    if top_allowed(coll.path) {
        query.push(format!("$top={DIRECTORY_TOP}"));
    }
    let path = if query.is_empty() {
        coll.path.to_string()
    } else {
        format!("{}?{}", coll.path, query.join("&"))
    };
    Req::new(coll.api, path)
}

/// Does this collection take `$top` beyond its default page (Entra's users and groups)?
fn top_allowed(path: &str) -> bool {
    matches!(path, "users" | "groups")
}

/// Names of the top-level properties of an `$expand` (`a($expand=b),c` -> `a`, `c`).
pub fn expand_names(expand: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, ch) in expand.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&expand[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&expand[start..]);
    out.into_iter()
        .map(|s| s.split('(').next().unwrap_or(s).trim())
        .filter(|s| !s.is_empty())
        .collect()
}

fn object_id(v: &Value) -> Option<&str> {
    v.get("id").and_then(Value::as_str)
}

fn object_name(v: &Value) -> Option<String> {
    v.get("displayName")
        .or_else(|| v.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The navigation collections an `item_expand` names, each with the query it is read with:
/// `definitionValues($expand=definition,presentationValues($expand=presentation))` ->
/// (`definitionValues`, `$expand=definition,presentationValues($expand=presentation)`).
pub fn item_navs(expand: &str) -> Vec<(&str, String)> {
    split_top(expand, ',')
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| match part.find('(') {
            Some(i) => {
                let inner = part[i + 1..].strip_suffix(')').unwrap_or(&part[i + 1..]);
                let options: Vec<&str> = split_top(inner, ';')
                    .into_iter()
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .collect();
                (part[..i].trim(), options.join("&"))
            }
            None => (part, String::new()),
        })
        .collect()
}

/// `s` split at `sep` outside parentheses: the items of an OData `$expand`
/// (`a($expand=b,c),d`), or the options inside one item (`$top=5;$select=x`). Empty items are
/// kept. The simulator parses its queries with it too.
pub(crate) fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, ch) in s.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// An object left out because it was deleted while the export read it, and how that was
/// confirmed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deleted {
    /// The collection (`deviceManagement/configurationPolicies`).
    pub collection: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The read that found nothing, and what confirmed it.
    pub how: String,
}

/// The whole objects of one list page, and those deleted since the list.
#[derive(Debug, Default)]
pub struct Completed {
    pub items: Vec<Value>,
    pub deleted: Vec<Deleted>,
}

/// Does `e` say the object is not there? Graph answers 404 (`ResourceNotFound`,
/// `Request_ResourceNotFound`), and for some Intune objects 400 `ResourceNotFound`.
pub fn is_not_found(e: &GraphError) -> bool {
    match e {
        GraphError::Api(a) => {
            a.status == 404 || (a.status == 400 && a.code.ends_with("ResourceNotFound"))
        }
        _ => false,
    }
}

/// Read the whole of each listed object of `coll`: collections the list expanded are read to
/// their end; what the list leaves out (`item_expand`) is read per object, each navigation
/// collection on its own (`{id}/settings`, every page) or, for an empty `item_expand`, the
/// object by id. An object none of whose reads finds it counts as deleted since the list only
/// when that is confirmed (a plain `GET coll/{id}` finds nothing too, or, when that was the
/// read, a fresh list no longer names it); an unconfirmed "not found" is an error, so the kind
/// is left as it is. No object leaves here with an `@odata.nextLink` in it.
pub async fn complete_items(
    client: &GraphClient,
    coll: &Collection,
    mut listed: Vec<Value>,
) -> Result<Completed, GraphError> {
    follow_next_links(client, &mut listed).await?;
    let Some(expand) = coll.item_expand else {
        check_whole(&listed, coll.path)?;
        return Ok(Completed {
            items: listed,
            deleted: Vec::new(),
        });
    };
    let navs = item_navs(expand);
    let mut reqs = Vec::with_capacity(listed.len() * navs.len().max(1));
    for item in &listed {
        let id = object_id(item).ok_or_else(|| GraphError::BadResponse {
            url: coll.path.to_string(),
            message: "a listed object without an id".into(),
        })?;
        if navs.is_empty() {
            reqs.push(Req::new(coll.api, format!("{}/{id}", coll.path)));
        }
        for (nav, query) in &navs {
            let path = if query.is_empty() {
                format!("{}/{id}/{nav}", coll.path)
            } else {
                format!("{}/{id}/{nav}?{query}", coll.path)
            };
            reqs.push(Req::new(coll.api, path));
        }
    }
    let mut results = client.get_all(reqs.clone()).await.into_iter().zip(reqs);
    let carried = expand_names(coll.list_expand);
    let mut out = Vec::with_capacity(listed.len());
    // Objects some read found missing: (listed object, that read).
    let mut missing: Vec<(Value, Req)> = Vec::new();
    for item in listed {
        let mut object = item;
        let mut not_found: Option<Req> = None;
        if navs.is_empty() {
            let (result, req) = results.next().expect("a read per object");
            match result {
                Ok(mut full) => {
                    // Keep what the list expanded (and was read whole above).
                    if let (Value::Object(full_map), Value::Object(listed_map)) =
                        (&mut full, &mut object)
                    {
                        for nav in &carried {
                            if !full_map.contains_key(*nav)
                                && let Some(v) = listed_map.remove(*nav)
                            {
                                full_map.insert((*nav).to_string(), v);
                            }
                        }
                    }
                    object = full;
                }
                Err(e) if is_not_found(&e) => not_found = Some(req),
                Err(e) => return Err(e),
            }
        }
        for (nav, _) in &navs {
            let (result, req) = results.next().expect("a read per navigation");
            match result {
                Ok(page) => {
                    let url = client.url(&req);
                    let (items, next) = split_page(page, &url)?;
                    if let Value::Object(m) = &mut object {
                        m.insert((*nav).to_string(), Value::Array(items));
                        if let Some(link) = next {
                            m.insert(format!("{nav}@odata.nextLink"), Value::String(link));
                        }
                    }
                }
                Err(e) if is_not_found(&e) => {
                    not_found.get_or_insert(req);
                }
                Err(e) => return Err(e),
            }
        }
        match not_found {
            Some(req) => missing.push((object, req)),
            None => out.push(object),
        }
    }
    let deleted = confirm_deleted(client, coll, missing).await?;
    follow_next_links(client, &mut out).await?;
    check_whole(&out, coll.path)?;
    Ok(Completed {
        items: out,
        deleted,
    })
}

/// Confirm that objects a read found missing were deleted since the list: a plain
/// `GET coll/{id}` finds nothing either, or, where that plain read was the one that found
/// nothing, a fresh list no longer names them. Anything else is an error.
async fn confirm_deleted(
    client: &GraphClient,
    coll: &Collection,
    missing: Vec<(Value, Req)>,
) -> Result<Vec<Deleted>, GraphError> {
    let plain = |id: &str| Req::new(coll.api, format!("{}/{id}", coll.path));
    let mut deleted = Vec::new();
    let (again, relist): (Vec<_>, Vec<_>) = missing
        .into_iter()
        .partition(|(o, failed)| object_id(o).is_some_and(|id| *failed != plain(id)));
    let reads: Vec<Req> = again
        .iter()
        .map(|(o, _)| plain(object_id(o).unwrap_or_default()))
        .collect();
    for ((object, failed), result) in again.into_iter().zip(client.get_all(reads).await) {
        let id = object_id(&object).unwrap_or_default().to_string();
        let url = client.url(&plain(&id));
        match result {
            Err(e) if is_not_found(&e) => deleted.push(Deleted {
                collection: coll.path.to_string(),
                name: object_name(&object),
                how: format!(
                    "GET {} found nothing, nor did GET {url}",
                    client.url(&failed)
                ),
                id,
            }),
            Ok(_) => {
                return Err(GraphError::BadResponse {
                    url: client.url(&failed),
                    message: format!(
                        "answered \"not found\", but GET {url} finds the object; a read that loses an existing object is not trusted"
                    ),
                });
            }
            Err(e) => return Err(e),
        }
    }
    if relist.is_empty() {
        return Ok(deleted);
    }
    let wanted: HashSet<String> = relist
        .iter()
        .filter_map(|(o, _)| object_id(o).map(str::to_string))
        .collect();
    let mut present: HashSet<String> = HashSet::new();
    let list = Req::new(coll.api, coll.path.to_string());
    let list_url = client.url(&list);
    client
        .list_pages(list, |items| {
            let n = items.len();
            for i in &items {
                if let Some(id) = object_id(i).filter(|id| wanted.contains(*id)) {
                    present.insert(id.to_string());
                }
            }
            async move { Ok(n) }
        })
        .await?;
    for (object, failed) in relist {
        let id = object_id(&object).unwrap_or_default().to_string();
        if present.contains(&id) {
            return Err(GraphError::BadResponse {
                url: client.url(&failed),
                message: format!(
                    "answered \"not found\", but a fresh list of {list_url} still names {id}; a read that loses an existing object is not trusted"
                ),
            });
        }
        deleted.push(Deleted {
            collection: coll.path.to_string(),
            name: object_name(&object),
            how: format!(
                "GET {} found nothing and a fresh list of {list_url} no longer names it",
                client.url(&failed)
            ),
            id,
        });
    }
    Ok(deleted)
}

/// One step of the way to a value inside a JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Every `<property>@odata.nextLink` in `v`: the path of the object holding it, the
/// property, and the link's value. A bare `@odata.nextLink` inside an object is not one.
fn find_links(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match k.strip_suffix("@odata.nextLink") {
                    Some(prop) if !prop.is_empty() => {
                        out.push((path.clone(), prop.to_string(), x.clone()));
                    }
                    _ => {
                        path.push(Seg::Key(k.clone()));
                        find_links(x, path, out);
                        path.pop();
                    }
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                find_links(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        Seg::Key(k) => v.get_mut(k.as_str()),
        Seg::Index(i) => v.get_mut(*i),
    })
}

fn pointer(path: &[Seg], prop: &str) -> String {
    let mut p: String = path
        .iter()
        .map(|s| match s {
            Seg::Key(k) => format!("/{k}"),
            Seg::Index(i) => format!("/{i}"),
        })
        .collect();
    p.push('/');
    p.push_str(prop);
    p
}

/// Follow every `<property>@odata.nextLink` in `objects`, at any depth, until each paged
/// collection is whole: the pages of one round go out together (in `$batch`es), and items
/// that arrive holding links of their own are followed in the next round. A link that repeats
/// a page, more than `max_pages` pages of one collection, a link that is not a string or one
/// next to a value that is not a collection is a [`GraphError::BadResponse`].
pub async fn follow_next_links(
    client: &GraphClient,
    objects: &mut [Value],
) -> Result<(), GraphError> {
    let max = client.options().max_pages;
    let mut guards: HashMap<(usize, Vec<Seg>, String), PageGuard> = HashMap::new();
    loop {
        let mut links: Vec<(usize, Vec<Seg>, String, String)> = Vec::new();
        for (i, o) in objects.iter_mut().enumerate() {
            let mut found = Vec::new();
            find_links(o, &mut Vec::new(), &mut found);
            let where_ = format!("object {}", object_id(o).unwrap_or("?"));
            for (path, prop, value) in found {
                let bad = |message: String| GraphError::BadResponse {
                    url: where_.clone(),
                    message,
                };
                let Some(holder) = at_mut(o, &path).and_then(Value::as_object_mut) else {
                    continue;
                };
                holder.remove(&format!("{prop}@odata.nextLink"));
                let Value::String(link) = value else {
                    return Err(bad(format!(
                        "{}@odata.nextLink is not a link: {value}",
                        pointer(&path, &prop)
                    )));
                };
                if !matches!(holder.get(&prop), None | Some(Value::Array(_))) {
                    return Err(bad(format!(
                        "{}@odata.nextLink is next to a value that is not a collection",
                        pointer(&path, &prop)
                    )));
                }
                links.push((i, path, prop, link));
            }
        }
        if links.is_empty() {
            return Ok(());
        }
        let mut reqs = Vec::with_capacity(links.len());
        for (i, path, prop, link) in &links {
            guards
                .entry((*i, path.clone(), prop.clone()))
                .or_insert_with(|| PageGuard::new(String::new(), max))
                .next(link)?;
            reqs.push(client.next_link(link)?);
        }
        let results = client.get_all(reqs).await;
        for ((i, path, prop, link), r) in links.into_iter().zip(results) {
            let (items, next) = split_page(r?, &link)?;
            let holder = at_mut(&mut objects[i], &path)
                .and_then(Value::as_object_mut)
                .expect("the object that held the link");
            if let Value::Array(a) = holder
                .entry(prop.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                a.extend(items);
            }
            if let Some(n) = next {
                holder.insert(format!("{prop}@odata.nextLink"), Value::String(n));
            }
        }
    }
}

/// The safety net before normalisation (which drops every `@odata.*` annotation): an
/// `@odata.nextLink` still anywhere in an object means part of it was never read, so the
/// read is a [`GraphError::BadResponse`] and the kind is left as it is.
pub fn check_whole(objects: &[Value], path: &str) -> Result<(), GraphError> {
    fn walk(v: &Value, at: &mut Vec<Seg>) -> Option<String> {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k.ends_with("@odata.nextLink") {
                        return Some(pointer(at, k));
                    }
                    at.push(Seg::Key(k.clone()));
                    let r = walk(x, at);
                    at.pop();
                    if r.is_some() {
                        return r;
                    }
                }
                None
            }
            Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| {
                at.push(Seg::Index(i));
                let r = walk(x, at);
                at.pop();
                r
            }),
            _ => None,
        }
    }
    for o in objects {
        if let Some(p) = walk(o, &mut Vec::new()) {
            return Err(GraphError::BadResponse {
                url: format!("{path}/{}", object_id(o).unwrap_or("?")),
                message: format!(
                    "{p} is still there: part of this object was never read, so it is not committed cut short"
                ),
            });
        }
    }
    Ok(())
}

/// What reading the directory gave.
pub struct DirectoryRead {
    pub dir: Directory,
    /// Targets that could not be read, with the error.
    pub failed: Vec<(RefTarget, GraphError)>,
    /// Pages already listed of exported directory kinds (groups, scope tags, …), so they are
    /// not listed twice.
    pub listed: Vec<(&'static Kind, Vec<Vec<Value>>)>,
}

/// The kind whose objects name `target`, if any.
pub fn directory_kind(target: RefTarget) -> Option<&'static Kind> {
    kinds::KINDS
        .iter()
        .copied()
        .find(|k| k.directory == Some(target))
}

/// Names of the directory objects references point at, read once per export. A target whose
/// kind is exported is listed whole (and its pages kept); the others with `$select` of id and
/// name only.
pub async fn read_directory(
    client: &GraphClient,
    targets: &[RefTarget],
    exported: &[&'static Kind],
) -> DirectoryRead {
    let reads = futures_util::future::join_all(targets.iter().map(|t| async move {
        let (api, path, name_field) = directory_source(*t);
        let kind = directory_kind(*t).filter(|k| exported.contains(k));
        let req = match kind {
            Some(k) => list_request(k, &k.collections[0]),
            None if top_allowed(path) => Req::new(
                api,
                format!("{path}?$select=id,{name_field}&$top={DIRECTORY_TOP}"),
            ),
            None => Req::new(api, format!("{path}?$select=id,{name_field}")),
        };
        let mut entries: Vec<(String, String)> = Vec::new();
        let mut pages: Vec<Vec<Value>> = Vec::new();
        let r = client
            .list_pages(req, |items| {
                let n = items.len();
                for item in &items {
                    if let (Some(id), Some(name)) = (
                        item.get("id").and_then(Value::as_str),
                        item.get(name_field).and_then(Value::as_str),
                    ) {
                        entries.push((id.to_string(), name.to_string()));
                    }
                }
                if kind.is_some() {
                    pages.push(items);
                }
                async move { Ok(n) }
            })
            .await;
        (*t, path, kind, r.map(|_| (entries, pages)))
    }))
    .await;
    let mut out = DirectoryRead {
        dir: Directory::new(),
        failed: Vec::new(),
        listed: Vec::new(),
    };
    for (target, path, kind, r) in reads {
        match r {
            Ok((entries, pages)) => {
                for (id, name) in entries {
                    out.dir
                        .insert(target, &id, &name, &format!("graph:{path}"), false);
                }
                if let Some(k) = kind {
                    out.listed.push((k, pages));
                }
            }
            Err(e) => out.failed.push((target, e)),
        }
    }
    out
}

/// The reference targets any of `kinds` refers to.
pub fn targets_of(kinds: &[&'static Kind]) -> Vec<RefTarget> {
    let mut out: Vec<RefTarget> = kinds
        .iter()
        .flat_map(|k| k.refs.iter().map(|r| r.target))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Drop what Graph adds around an object that is not part of it (`@odata.context` of a
/// single-object response).
pub fn strip_envelope(v: &mut Value) {
    if let Value::Object(map) = v {
        map.remove("@odata.context");
    }
}

/// Every kind whose references include `target`.
pub fn kinds_referring_to(target: RefTarget) -> Vec<&'static Kind> {
    kinds::KINDS
        .iter()
        .copied()
        .filter(|k| k.refs.iter().any(|r| r.target == target))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::kinds::by_name;

    #[test]
    fn expand_names_are_the_top_level_properties() {
        assert_eq!(
            expand_names(
                "definitionValues($expand=definition,presentationValues($expand=presentation)),assignments"
            ),
            vec!["definitionValues", "assignments"]
        );
        assert_eq!(expand_names(""), Vec::<&str>::new());
        assert_eq!(expand_names("settings"), vec!["settings"]);
    }

    #[test]
    fn item_expands_become_navigation_reads_with_their_own_query() {
        assert_eq!(
            item_navs(
                "definitionValues($expand=definition,presentationValues($expand=presentation))"
            ),
            vec![(
                "definitionValues",
                "$expand=definition,presentationValues($expand=presentation)".to_string()
            )]
        );
        assert_eq!(item_navs("settings"), vec![("settings", String::new())]);
        assert_eq!(
            item_navs("apps($select=id;$expand=x),assignments"),
            vec![
                ("apps", "$select=id&$expand=x".to_string()),
                ("assignments", String::new())
            ]
        );
        assert!(item_navs("").is_empty());
    }

    #[test]
    fn an_object_still_holding_a_next_link_anywhere_is_never_handed_on() {
        use serde_json::json;
        let whole = json!({"id": "p1", "settings": [{"id": "0"}], "assignments": []});
        assert!(check_whole(std::slice::from_ref(&whole), "c").is_ok());
        for (cut, at) in [
            (
                json!({"id": "p1", "settings": [], "settings@odata.nextLink": "https://g/beta/x"}),
                "/settings@odata.nextLink",
            ),
            (
                json!({"id": "p1", "definitionValues": [{"id": "d", "presentationValues": [],
                    "presentationValues@odata.nextLink": "https://g/beta/y"}]}),
                "/definitionValues/0/presentationValues@odata.nextLink",
            ),
            (
                json!({"id": "p1", "x": {"@odata.nextLink": "https://g/beta/z"}}),
                "/x/@odata.nextLink",
            ),
        ] {
            let e = check_whole(&[whole.clone(), cut], "deviceManagement/c").unwrap_err();
            assert!(matches!(e, GraphError::BadResponse { .. }), "{e}");
            assert!(e.to_string().contains(at), "{e}");
            assert!(e.to_string().starts_with("deviceManagement/c/p1:"), "{e}");
        }
    }

    #[test]
    fn not_found_is_404_or_graphs_400_resource_not_found() {
        let e = |status, code: &str| {
            GraphError::from_body(
                "GET",
                "u",
                status,
                Some(&serde_json::json!({"error": {"code": code, "message": "m"}})),
            )
        };
        assert!(is_not_found(&e(404, "ResourceNotFound")));
        assert!(is_not_found(&e(404, "Request_ResourceNotFound")));
        assert!(is_not_found(&e(400, "ResourceNotFound")));
        assert!(!is_not_found(&e(400, "BadRequest")));
        assert!(!is_not_found(&e(403, "Forbidden")));
    }

    #[test]
    fn groups_are_listed_with_their_definition_fields_only() {
        let g = by_name("groups").unwrap();
        let r = list_request(g, &g.collections[0]);
        assert!(
            r.path
                .starts_with("groups?$select=id,displayName,description,"),
            "{}",
            r.path
        );
        assert!(!r.path.split([',', '=', '&']).any(|f| f == "members"));
        let sc = by_name("settings-catalog").unwrap();
        assert_eq!(
            list_request(sc, &sc.collections[0]).path,
            "deviceManagement/configurationPolicies?$expand=assignments"
        );
    }

    #[test]
    fn every_kind_can_be_read_whole() {
        for k in kinds::KINDS {
            for c in k.collections {
                // What the list expands plus what each object is read with covers the full expand.
                let mut have: Vec<&str> = expand_names(c.list_expand);
                have.extend(c.item_expand.map(expand_names).unwrap_or_default());
                for need in expand_names(c.expand) {
                    assert!(have.contains(&need), "{}: {need} is never read", c.path);
                }
            }
        }
    }
}
