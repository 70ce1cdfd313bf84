//! Reading kinds from Graph, driven by the registry: each collection is listed with its
//! `list_expand`, and when the list leaves something out (`item_expand`), every object is read
//! again by id in `$batch`es, following the `<property>@odata.nextLink` of each expanded
//! collection Graph pages (a settings-catalog policy's `settings`), so no policy is cut short.

use super::GraphError;
use super::client::{GraphClient, Req, split_page};
use crate::policy::kinds::{self, Api, Collection, Kind, RefTarget};
use crate::policy::refs::Directory;
use serde_json::Value;

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
    let path = if query.is_empty() {
        coll.path.to_string()
    } else {
        format!("{}?{}", coll.path, query.join("&"))
    };
    Req::new(coll.api, path)
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

/// Read the whole of each listed object of `coll` (by id, with `item_expand`), keeping what the
/// list already carried. Objects deleted since the list (404) are left out.
pub async fn complete_items(
    client: &GraphClient,
    coll: &Collection,
    listed: Vec<Value>,
) -> Result<Vec<Value>, GraphError> {
    let Some(expand) = coll.item_expand else {
        return Ok(listed);
    };
    let mut reqs = Vec::with_capacity(listed.len());
    for item in &listed {
        let id = object_id(item).ok_or_else(|| GraphError::BadResponse {
            url: coll.path.to_string(),
            message: "a listed object without an id".into(),
        })?;
        let path = if expand.is_empty() {
            format!("{}/{id}", coll.path)
        } else {
            format!("{}/{id}?$expand={expand}", coll.path)
        };
        reqs.push(Req::new(coll.api, path));
    }
    let results = client.get_all(reqs).await;
    let carried = expand_names(coll.list_expand);
    let mut out = Vec::with_capacity(listed.len());
    for (item, result) in listed.into_iter().zip(results) {
        let mut full = match result {
            Ok(v) => v,
            Err(e) if e.status() == Some(404) => {
                tracing::debug!(id = object_id(&item), "deleted while reading; left out");
                continue;
            }
            Err(e) => return Err(e),
        };
        if let (Value::Object(full_map), Value::Object(mut listed_map)) = (&mut full, item) {
            for nav in &carried {
                if !full_map.contains_key(*nav)
                    && let Some(v) = listed_map.remove(*nav)
                {
                    full_map.insert((*nav).to_string(), v);
                }
            }
        }
        out.push(full);
    }
    follow_expanded_pages(client, &mut out).await?;
    Ok(out)
}

/// Follow every `<property>@odata.nextLink` at the top of `objects` until each expanded
/// collection is whole.
pub async fn follow_expanded_pages(
    client: &GraphClient,
    objects: &mut [Value],
) -> Result<(), GraphError> {
    loop {
        let mut links: Vec<(usize, String, String)> = Vec::new();
        for (i, o) in objects.iter_mut().enumerate() {
            let Value::Object(map) = o else { continue };
            let keys: Vec<String> = map
                .keys()
                .filter(|k| k.ends_with("@odata.nextLink") && !k.starts_with('@'))
                .cloned()
                .collect();
            for k in keys {
                if let Some(Value::String(link)) = map.remove(&k) {
                    let nav = k.trim_end_matches("@odata.nextLink").to_string();
                    links.push((i, nav, link));
                }
            }
        }
        if links.is_empty() {
            return Ok(());
        }
        let reqs = links
            .iter()
            .map(|(_, _, link)| client.next_link(link))
            .collect::<Result<Vec<_>, _>>()?;
        let results = client.get_all(reqs).await;
        for ((i, nav, link), r) in links.into_iter().zip(results) {
            let (items, next) = split_page(r?, &link)?;
            let Value::Object(map) = &mut objects[i] else {
                continue;
            };
            match map.get_mut(&nav) {
                Some(Value::Array(existing)) => existing.extend(items),
                _ => {
                    map.insert(nav.clone(), Value::Array(items));
                }
            }
            if let Some(n) = next {
                map.insert(format!("{nav}@odata.nextLink"), Value::String(n));
            }
        }
    }
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
