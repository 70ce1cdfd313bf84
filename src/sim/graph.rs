//! Serving one Graph request against the simulated tenant: lists with paging, objects,
//! navigation collections, `$expand`/`$select`, create, update, delete, assign and audit
//! events. Errors have Graph's status codes and body shape.

use super::model::{Assign, COLLECTIONS, CollectionDef, Obj, nested_of};
use super::odata::{
    Expand, Query, expand_to_string, parse_date_filter, parse_query, with_skiptoken,
};
use super::{ItemExpansion, Sim, SimResponse, error};
use axum::http::Method;
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::graph::now_utc;

pub(super) fn not_found(def: &CollectionDef, id: &str) -> SimResponse {
    if def.directory {
        error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    } else {
        error(
            404,
            "ResourceNotFound",
            &format!("{} with id '{id}' was not found.", def.type_name),
        )
    }
}

fn bad_segment(seg: &str) -> SimResponse {
    error(
        400,
        "BadRequest",
        &format!("Resource not found for the segment '{seg}'."),
    )
}

fn no_property(def: &CollectionDef, name: &str) -> SimResponse {
    error(
        400,
        "BadRequest",
        &format!(
            "Could not find a property named '{name}' on type 'microsoft.graph.{}'.",
            def.type_name
        ),
    )
}

/// Check the names of a nested `$expand` under navigation `nav`.
fn check_nested(nav: &str, expand: &[Expand]) -> Result<(), SimResponse> {
    for e in expand {
        if !nested_of(nav).contains(&e.name.as_str()) {
            return Err(error(
                400,
                "BadRequest",
                &format!(
                    "Could not find a property named '{}' on the items of '{nav}'.",
                    e.name
                ),
            ));
        }
        check_nested(&e.name, &e.expand)?;
    }
    Ok(())
}

/// An item of navigation `nav`, with its own navigations kept only where expanded (whole).
fn shape_plain(item: &Value, nav: &str, expand: &[Expand]) -> Value {
    let Value::Object(m) = item else {
        return item.clone();
    };
    let nested = nested_of(nav);
    let mut out = Map::new();
    for (k, v) in m {
        if nested.contains(&k.as_str()) {
            if let Some(e) = expand.iter().find(|e| e.name == *k) {
                let shaped = match v {
                    Value::Array(a) => {
                        Value::Array(a.iter().map(|x| shape_plain(x, k, &e.expand)).collect())
                    }
                    other => shape_plain(other, k, &e.expand),
                };
                out.insert(k.clone(), shaped);
            }
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Where an expanded collection is shown, which decides how it is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shown {
    /// On the items of a list (`coll?$expand=assignments`).
    OnList,
    /// On an object read by id (`coll/{id}?$expand=settings`).
    OnItem,
    /// Inside the items of a navigation collection (`definitionValues(presentationValues)`).
    Nested,
}

/// How many of an expanded collection's `len` items come with the response, and whether an
/// `@odata.nextLink` to the rest comes too. Serving and the bound both ask this.
pub(super) fn first_page(sim: &Sim, at: Shown, len: usize) -> (usize, bool) {
    let cut = |size: Option<usize>| match size {
        Some(n) if len > n.max(1) => (n.max(1), true),
        _ => (len, false),
    };
    let nav_page = sim.config.nav_page_size.max(1);
    match at {
        Shown::OnList => cut(sim.config.list_expansion_page_size),
        Shown::Nested => cut(sim.config.nested_page_size),
        Shown::OnItem => match sim.config.item_expansion {
            ItemExpansion::Paged => cut(Some(nav_page)),
            ItemExpansion::Whole => (len, false),
            ItemExpansion::Truncated => (len.min(nav_page), false),
        },
    }
}

/// Requests that read the rest of an expanded collection of `len` items after the response
/// it came with (its link leads to a navigation collection, `nav_page_size` at a time);
/// `None` when it cannot be read whole that way (cut short without a link).
pub(super) fn further_pages(sim: &Sim, at: Shown, len: usize) -> Option<usize> {
    let (shown, link) = first_page(sim, at, len);
    if link {
        Some((len - shown).div_ceil(sim.config.nav_page_size.max(1)))
    } else if shown < len {
        None
    } else {
        Some(0)
    }
}

/// Pages of a navigation collection of `len` items (`coll/{id}/settings`).
pub(super) fn nav_pages(sim: &Sim, len: usize) -> usize {
    len.div_ceil(sim.config.nav_page_size.max(1)).max(1)
}

/// The largest page of a list of `def` asked with `$top`: `users` and `groups` honour `$top`
/// up to `max_top`; elsewhere `$top` only makes pages smaller than `page_size`.
pub(super) fn list_page_size(sim: &Sim, def: &CollectionDef, top: Option<usize>) -> usize {
    let size = sim.config.page_size.max(1);
    match (top, def.max_top()) {
        (Some(t), Some(_)) => t.min(sim.config.max_top).max(1),
        (Some(t), None) => t.min(size).max(1),
        (None, _) => size,
    }
}

/// Further requests for the nested expanded collections of the items of navigation `nav`
/// of `obj` (`presentationValues` of each definition value), past the first page of each.
fn nested_reads(sim: &Sim, obj: &Obj, nav: &str) -> usize {
    let nested = nested_of(nav);
    obj.navs
        .get(nav)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|m| {
            nested
                .iter()
                .filter_map(|n| m.get(*n).and_then(Value::as_array))
        })
        .map(|a| further_pages(sim, Shown::Nested, a.len()).unwrap_or(0))
        .sum()
}

/// The fewest requests that read what the list of `def` leaves out of `obj` (beyond the
/// list page itself): the rest of collections expanded on the list item, then the cheaper of
/// one read by id expanding every missing navigation property, or each missing navigation
/// collection read on its own (plus a read by id when the list omits properties).
pub(super) fn object_reads(sim: &Sim, def: &CollectionDef, obj: &Obj) -> usize {
    let len = |nav: &str| obj.navs.get(nav).map_or(0, Vec::len);
    let mut n: usize = def
        .list_expand
        .iter()
        .map(|nav| further_pages(sim, Shown::OnList, len(nav)).unwrap_or(0))
        .sum();
    let missing: Vec<&str> = def
        .navs
        .iter()
        .copied()
        .filter(|nav| !def.list_expand.contains(nav))
        .collect();
    let omits = def.list_omits.iter().any(|f| obj.base.contains_key(*f));
    if !omits && missing.is_empty() {
        return n;
    }
    let by_id = missing.iter().try_fold(1usize, |acc, nav| {
        Some(acc + further_pages(sim, Shown::OnItem, len(nav))? + nested_reads(sim, obj, nav))
    });
    let separately = usize::from(omits)
        + missing
            .iter()
            .map(|nav| nav_pages(sim, len(nav)) + nested_reads(sim, obj, nav))
            .sum::<usize>();
    n += by_id.map_or(separately, |b| b.min(separately));
    n
}

/// A link to the rest of an expanded collection: `{base}?$expand=…&$skiptoken=o{skip}`.
fn rest_link(base: String, expand: &[Expand], skip: usize) -> Value {
    let mut link = format!("{base}?");
    if !expand.is_empty() {
        link.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .append_pair("$expand", &expand_to_string(expand))
                .finish(),
        );
        link.push('&');
    }
    link.push_str(&format!("$skiptoken=o{skip}"));
    Value::String(link)
}

struct Cx<'a> {
    sim: &'a Sim,
    def: &'static CollectionDef,
    version: &'a str,
    base: &'a str,
}

impl Cx<'_> {
    fn collection_url(&self) -> String {
        format!("{}/{}/{}", self.base, self.version, self.def.path)
    }

    fn context(&self, tail: &str) -> String {
        format!("{}/{}/$metadata#{}", self.base, self.version, tail)
    }

    /// Does this collection's paging loop (`faults.cycle`)?
    fn cycles(&self) -> bool {
        self.sim
            .config
            .faults
            .cycle
            .iter()
            .any(|c| c == self.def.path)
    }

    /// An item of navigation `nav` of object `obj_id`, its own navigations kept only where
    /// expanded, collection-valued ones paged as `nested_page_size` says.
    fn shape(&self, item: &Value, obj_id: &str, nav: &str, expand: &[Expand]) -> Value {
        let Value::Object(m) = item else {
            return item.clone();
        };
        let nested = nested_of(nav);
        let item_id = m.get("id").and_then(Value::as_str).unwrap_or_default();
        let mut out = Map::new();
        for (k, v) in m {
            if !nested.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
                continue;
            }
            let Some(e) = expand.iter().find(|e| e.name == *k) else {
                continue;
            };
            match v {
                Value::Array(a) => {
                    let shaped: Vec<Value> =
                        a.iter().map(|x| shape_plain(x, k, &e.expand)).collect();
                    let (shown, link) = first_page(self.sim, Shown::Nested, shaped.len());
                    if link {
                        out.insert(
                            format!("{k}@odata.nextLink"),
                            rest_link(
                                format!("{}/{obj_id}/{nav}/{item_id}/{k}", self.collection_url()),
                                &e.expand,
                                shown,
                            ),
                        );
                    }
                    out.insert(k.clone(), Value::Array(shaped[..shown].to_vec()));
                }
                other => {
                    out.insert(k.clone(), shape_plain(other, k, &e.expand));
                }
            }
        }
        Value::Object(out)
    }

    fn render(&self, obj: &Obj, q: &Query, list: bool) -> Value {
        let mut map = Map::new();
        for (k, v) in &obj.base {
            if let Some(sel) = &q.select
                && k != "@odata.type"
                && !sel.iter().any(|s| s == k)
            {
                continue;
            }
            let value = if list && self.def.list_omits.contains(&k.as_str()) {
                Value::Null
            } else {
                v.clone()
            };
            map.insert(k.clone(), value);
        }
        let id = obj.id().unwrap_or_default();
        let at = if list { Shown::OnList } else { Shown::OnItem };
        for e in &q.expand {
            let items = obj.navs.get(&e.name).map(Vec::as_slice).unwrap_or(&[]);
            let shaped: Vec<Value> = items
                .iter()
                .map(|i| self.shape(i, id, &e.name, &e.expand))
                .collect();
            let (shown, link) = first_page(self.sim, at, shaped.len());
            if link {
                map.insert(
                    format!("{}@odata.nextLink", e.name),
                    rest_link(
                        format!("{}/{id}/{}", self.collection_url(), e.name),
                        &e.expand,
                        shown,
                    ),
                );
            }
            map.insert(e.name.clone(), Value::Array(shaped[..shown].to_vec()));
        }
        Value::Object(map)
    }
}

fn offset(q: &Query) -> Result<usize, SimResponse> {
    match &q.skiptoken {
        None => Ok(0),
        Some(t) => t
            .strip_prefix('o')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| error(400, "BadRequest", "The $skiptoken is invalid or expired.")),
    }
}

/// A page of `items` (already rendered) starting at the query's `$skiptoken`. With `cycle`,
/// the last page links back to the first.
fn page(
    items: Vec<Value>,
    q: &Query,
    size: usize,
    context: String,
    url: &str,
    cycle: bool,
) -> Result<SimResponse, SimResponse> {
    let size = q.top.map_or(size, |t| t.min(size)).max(1);
    let start = offset(q)?.min(items.len());
    let end = (start + size).min(items.len());
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut body = json!({"@odata.context": context, "value": value});
    if end < total || cycle {
        let next = if end < total { end } else { 0 };
        body["@odata.nextLink"] =
            Value::String(format!("{url}?{}", with_skiptoken(q, &format!("o{next}"))));
    }
    Ok(SimResponse::json(200, body))
}

/// The collection a path's segments name: the longest one whose path they start with.
pub(super) fn collection_of(segs: &[&str]) -> Option<&'static CollectionDef> {
    COLLECTIONS
        .iter()
        .filter(|c| {
            let parts: Vec<&str> = c.path.split('/').collect();
            segs.len() >= parts.len() && segs[..parts.len()] == parts[..]
        })
        .max_by_key(|c| c.path.len())
}

fn audit(
    sim: &Sim,
    def: &CollectionDef,
    operation: &str,
    id: &str,
    name: &str,
    actor: Option<&str>,
) {
    let component = {
        let mut t = def.type_name.to_string();
        if let Some(f) = t.get_mut(0..1) {
            f.make_ascii_uppercase();
        }
        t
    };
    let event = json!({
        "id": crate::graph::auth::random_id(),
        "displayName": format!("{operation} {component}"),
        "componentName": component,
        "activityType": format!("{operation} {component}"),
        "activityOperationType": operation,
        "activityResult": "Success",
        "activityDateTime": now_utc(),
        "correlationId": crate::graph::auth::random_id(),
        "category": component,
        "actor": {
            "auditActorType": if actor.is_some() { "ItPro" } else { "Application" },
            "userPrincipalName": actor,
            "applicationDisplayName": if actor.is_some() { Value::Null } else { json!("TenantGate") },
        },
        "resources": [{"displayName": name, "type": def.type_name, "resourceId": id}],
    });
    if !def.directory {
        sim.tenant_mut().audit.push(event);
    }
}

fn display_name(o: &Obj) -> String {
    o.base
        .get("displayName")
        .or_else(|| o.base.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn serve(
    sim: &Sim,
    method: &Method,
    version: &str,
    path: &str,
    query: &str,
    body: Option<Value>,
    base: &str,
    actor: Option<&str>,
) -> SimResponse {
    let q = match parse_query(query) {
        Ok(q) => q,
        Err(e) => return error(400, "BadRequest", &e.0),
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs == ["deviceManagement", "auditEvents"] {
        return audit_events(sim, method, version, &q, base);
    }
    let Some(def) = collection_of(&segs) else {
        let known = COLLECTIONS
            .iter()
            .flat_map(|c| c.path.split('/').enumerate())
            .collect::<Vec<_>>();
        let bad = segs
            .iter()
            .enumerate()
            .find(|(i, s)| !known.contains(&(*i, **s)))
            .map(|(_, s)| *s)
            .unwrap_or(path);
        return bad_segment(bad);
    };
    if !def.versions.contains(&version) {
        return bad_segment(def.path.rsplit('/').next().unwrap_or(def.path));
    }
    let cx = Cx {
        sim,
        def,
        version,
        base,
    };
    let depth = def.path.split('/').count();
    let rest = &segs[depth..];
    let r = match (method.as_str(), rest) {
        ("GET", []) => list(&cx, &q),
        ("POST", []) => create(&cx, body, actor),
        ("GET", [id]) => get_item(&cx, id, &q),
        ("PATCH", [id]) => update(&cx, id, body, actor),
        ("DELETE", [id]) => delete(&cx, id, actor),
        ("GET", [id, nav]) if def.navs.contains(nav) => nav_list(&cx, id, nav, &q),
        ("GET", [id, nav, item, nested])
            if def.navs.contains(nav) && nested_of(nav).contains(nested) =>
        {
            nested_list(&cx, id, nav, item, nested, &q)
        }
        ("POST", [id, "assign"]) if def.assign != Assign::None => assign(&cx, id, body, actor),
        (_, [_, seg, ..]) if !def.navs.contains(seg) && *seg != "assign" => Err(bad_segment(seg)),
        _ => Err(error(
            405,
            "Request_BadRequest",
            &format!("The HTTP method '{method}' is not allowed on this resource."),
        )),
    };
    r.unwrap_or_else(|e| e)
}

fn list(cx: &Cx<'_>, q: &Query) -> Result<SimResponse, SimResponse> {
    for e in &q.expand {
        if !cx.def.navs.contains(&e.name.as_str()) {
            return Err(no_property(cx.def, &e.name));
        }
        if !cx.def.list_expand.contains(&e.name.as_str()) {
            return Err(error(
                400,
                "BadRequest",
                &format!(
                    "Expanding '{}' is not supported when listing {}; read each object by id with $expand.",
                    e.name, cx.def.path
                ),
            ));
        }
        check_nested(&e.name, &e.expand)?;
    }
    let t = cx.sim.tenant();
    let coll = t.coll(cx.def.path);
    let take = list_page_size(cx.sim, cx.def, q.top);
    // Objects that vanished (deleted after a client listed them) are no longer listed.
    let order: Vec<&String> = coll
        .order
        .iter()
        .filter(|id| !cx.sim.vanished(id))
        .collect();
    let start = offset(q)?.min(order.len());
    let end = (start + take).min(order.len());
    // Render only the page: lists can be large.
    let value: Vec<Value> = order[start..end]
        .iter()
        .map(|id| cx.render(&coll.objs[*id], q, true))
        .collect();
    for id in &order[start..end] {
        cx.sim.listed(id);
    }
    let mut ctx = cx.def.path.to_string();
    if let Some(sel) = &q.select {
        ctx.push_str(&format!("({})", sel.join(",")));
    }
    let mut body = json!({"@odata.context": cx.context(&ctx), "value": value});
    if end < order.len() || cx.cycles() {
        let next = if end < order.len() { end } else { 0 };
        body["@odata.nextLink"] = Value::String(format!(
            "{}?{}",
            cx.collection_url(),
            with_skiptoken(q, &format!("o{next}"))
        ));
    }
    Ok(SimResponse::json(200, body))
}

/// The object `id` of the collection, unless it is missing or vanished.
fn object<'t>(cx: &Cx<'_>, t: &'t super::model::Tenant, id: &str) -> Result<&'t Obj, SimResponse> {
    if cx.sim.vanished(id) {
        return Err(not_found(cx.def, id));
    }
    t.coll(cx.def.path)
        .objs
        .get(id)
        .ok_or_else(|| not_found(cx.def, id))
}

fn get_item(cx: &Cx<'_>, id: &str, q: &Query) -> Result<SimResponse, SimResponse> {
    for e in &q.expand {
        if !cx.def.navs.contains(&e.name.as_str()) {
            return Err(no_property(cx.def, &e.name));
        }
        check_nested(&e.name, &e.expand)?;
    }
    let t = cx.sim.tenant();
    let obj = object(cx, &t, id)?;
    let mut v = cx.render(obj, q, false);
    if let Value::Object(m) = &mut v {
        let mut with_ctx = Map::new();
        with_ctx.insert(
            "@odata.context".into(),
            Value::String(cx.context(&format!("{}/$entity", cx.def.path))),
        );
        with_ctx.extend(std::mem::take(m));
        *m = with_ctx;
    }
    Ok(SimResponse::json(200, v))
}

fn nav_list(cx: &Cx<'_>, id: &str, nav: &str, q: &Query) -> Result<SimResponse, SimResponse> {
    check_nested(nav, &q.expand)?;
    let t = cx.sim.tenant();
    let obj = object(cx, &t, id)?;
    let items: Vec<Value> = obj
        .navs
        .get(nav)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|i| cx.shape(i, id, nav, &q.expand))
        .collect();
    page(
        items,
        q,
        cx.sim.config.nav_page_size,
        cx.context(&format!("{}('{id}')/{nav}", cx.def.path)),
        &format!("{}/{id}/{nav}", cx.collection_url()),
        cx.cycles(),
    )
}

/// `coll/{id}/{nav}/{item}/{nested}`: a collection inside one item of a navigation
/// collection (`definitionValues/{id}/presentationValues`), paged like a navigation
/// collection.
fn nested_list(
    cx: &Cx<'_>,
    id: &str,
    nav: &str,
    item: &str,
    nested: &str,
    q: &Query,
) -> Result<SimResponse, SimResponse> {
    check_nested(nested, &q.expand)?;
    let t = cx.sim.tenant();
    let obj = object(cx, &t, id)?;
    let parent = obj
        .navs
        .get(nav)
        .and_then(|items| {
            items
                .iter()
                .find(|i| i.get("id").and_then(Value::as_str) == Some(item))
        })
        .ok_or_else(|| {
            error(
                404,
                "ResourceNotFound",
                &format!("{nav} with id '{item}' was not found."),
            )
        })?;
    let Some(Value::Array(values)) = parent.get(nested) else {
        return Err(bad_segment(nested));
    };
    let items: Vec<Value> = values
        .iter()
        .map(|i| shape_plain(i, nested, &q.expand))
        .collect();
    page(
        items,
        q,
        cx.sim.config.nav_page_size,
        cx.context(&format!("{}('{id}')/{nav}('{item}')/{nested}", cx.def.path)),
        &format!("{}/{id}/{nav}/{item}/{nested}", cx.collection_url()),
        cx.cycles(),
    )
}

fn object_body(body: Option<Value>) -> Result<Map<String, Value>, SimResponse> {
    match body {
        Some(Value::Object(m)) => Ok(m),
        _ => Err(error(
            400,
            "BadRequest",
            "The request body must be a JSON object.",
        )),
    }
}

fn create(
    cx: &Cx<'_>,
    body: Option<Value>,
    actor: Option<&str>,
) -> Result<SimResponse, SimResponse> {
    let mut m = object_body(body)?;
    let id = crate::graph::auth::random_id();
    let now = now_utc();
    m.insert("id".into(), Value::String(id.clone()));
    if !cx.def.directory {
        m.insert("createdDateTime".into(), Value::String(now.clone()));
        m.insert("lastModifiedDateTime".into(), Value::String(now));
    }
    let obj = Obj::from_graph(cx.def, Value::Object(m)).expect("an object");
    let name = display_name(&obj);
    let mut rendered = cx.render(&obj, &Query::default(), false);
    cx.sim.tenant_mut().coll_mut(cx.def.path).insert(obj);
    audit(cx.sim, cx.def, "Create", &id, &name, actor);
    if let Value::Object(r) = &mut rendered {
        r.insert(
            "@odata.context".into(),
            Value::String(cx.context(&format!("{}/$entity", cx.def.path))),
        );
    }
    Ok(SimResponse::json(201, rendered))
}

fn update(
    cx: &Cx<'_>,
    id: &str,
    body: Option<Value>,
    actor: Option<&str>,
) -> Result<SimResponse, SimResponse> {
    let m = object_body(body)?;
    let name = {
        let mut t = cx.sim.tenant_mut();
        let obj = t
            .coll_mut(cx.def.path)
            .objs
            .get_mut(id)
            .ok_or_else(|| not_found(cx.def, id))?;
        for (k, v) in m {
            if k == "id" || k.contains("@odata.") && k != "@odata.type" {
                continue;
            }
            if cx.def.navs.contains(&k.as_str()) {
                if let Value::Array(items) = v {
                    obj.navs.insert(k, items);
                }
                continue;
            }
            obj.base.insert(k, v);
        }
        if !cx.def.directory {
            obj.base
                .insert("lastModifiedDateTime".into(), Value::String(now_utc()));
            if let Some(Value::Number(n)) = obj.base.get("version")
                && let Some(n) = n.as_u64()
            {
                obj.base.insert("version".into(), json!(n + 1));
            }
        }
        display_name(obj)
    };
    audit(cx.sim, cx.def, "Patch", id, &name, actor);
    Ok(SimResponse::no_content())
}

fn delete(cx: &Cx<'_>, id: &str, actor: Option<&str>) -> Result<SimResponse, SimResponse> {
    let removed = cx
        .sim
        .tenant_mut()
        .coll_mut(cx.def.path)
        .remove(id)
        .ok_or_else(|| not_found(cx.def, id))?;
    audit(cx.sim, cx.def, "Delete", id, &display_name(&removed), actor);
    Ok(SimResponse::no_content())
}

fn assign(
    cx: &Cx<'_>,
    id: &str,
    body: Option<Value>,
    actor: Option<&str>,
) -> Result<SimResponse, SimResponse> {
    let mut m = object_body(body)?;
    let Some(Value::Array(mut assignments)) = m.remove("assignments") else {
        return Err(error(
            400,
            "BadRequest",
            "The request body needs an `assignments` array.",
        ));
    };
    for (i, a) in assignments.iter_mut().enumerate() {
        if let Value::Object(a) = a {
            let target = a
                .get("target")
                .and_then(|t| t.get("groupId"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{i}"));
            a.insert("id".into(), Value::String(format!("{id}_{target}")));
        }
    }
    let name = {
        let mut t = cx.sim.tenant_mut();
        let obj = t
            .coll_mut(cx.def.path)
            .objs
            .get_mut(id)
            .ok_or_else(|| not_found(cx.def, id))?;
        obj.navs.insert("assignments".into(), assignments.clone());
        display_name(obj)
    };
    audit(cx.sim, cx.def, "Assign", id, &name, actor);
    Ok(match cx.def.assign {
        Assign::Collection => SimResponse::json(200, json!({ "value": assignments })),
        _ => SimResponse::no_content(),
    })
}

fn audit_events(sim: &Sim, method: &Method, version: &str, q: &Query, base: &str) -> SimResponse {
    if method != Method::GET {
        return error(405, "BadRequest", "Audit events are read-only.");
    }
    let filter = match q.filter.as_deref().map(parse_date_filter) {
        None => None,
        Some(Ok(f)) => Some(f),
        Some(Err(e)) => return error(400, "BadRequest", &e.0),
    };
    let t = sim.tenant();
    let items: Vec<Value> = t
        .audit
        .iter()
        .filter(|e| match &filter {
            None => true,
            Some((prop, inclusive, value)) => {
                let v = e.get(prop).and_then(Value::as_str).unwrap_or("");
                if *inclusive {
                    v >= value.as_str()
                } else {
                    v > value.as_str()
                }
            }
        })
        .cloned()
        .collect();
    let url = format!("{base}/{version}/deviceManagement/auditEvents");
    page(
        items,
        q,
        sim.config.page_size,
        format!("{base}/{version}/$metadata#deviceManagement/auditEvents"),
        &url,
        false,
    )
    .unwrap_or_else(|e| e)
}

/// Check a client assertion: a JWT signed RS256 with the registered certificate's key (when
/// one is registered), for this client and token endpoint, not expired.
pub fn verify_assertion(
    jwt: &str,
    certificate: Option<&[u8]>,
    client_id: &str,
    audience: &str,
) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err("The client assertion is not a well-formed JWT.".into());
    };
    let dec = |p: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p);
    let header: Value = dec(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("The client assertion header is not valid.")?;
    let claims: Value = dec(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("The client assertion claims are not valid.")?;
    let sig = dec(s).map_err(|_| "The client assertion signature is not valid base64url.")?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err("The client assertion must be signed with RS256.".into());
    }
    let str_claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
    if str_claim("aud") != audience {
        return Err(format!(
            "The audience claim {:?} does not match the token endpoint {audience:?}.",
            str_claim("aud")
        ));
    }
    if str_claim("iss") != client_id || str_claim("sub") != client_id {
        return Err("The client assertion's iss and sub must be the client id.".into());
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match claims.get("exp").and_then(Value::as_u64) {
        Some(exp) if exp > now => {}
        _ => return Err("The client assertion is expired.".into()),
    }
    if claims
        .get("nbf")
        .and_then(Value::as_u64)
        .is_some_and(|nbf| nbf > now + 300)
    {
        return Err("The client assertion is not valid yet.".into());
    }
    let Some(cert) = certificate else {
        return Ok(());
    };
    let (x5t, x5t_s256) = crate::graph::auth::thumbprints(cert);
    let hx5t = header.get("x5t").and_then(Value::as_str);
    let hs256 = header.get("x5t#S256").and_then(Value::as_str);
    if hx5t != Some(x5t.as_str()) && hs256 != Some(x5t_s256.as_str()) {
        return Err("The certificate thumbprint (x5t) in the client assertion is not registered on the application.".into());
    }
    let der = rustls_pki_types::CertificateDer::from(cert);
    let ee = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| format!("The registered certificate cannot be read: {e}"))?;
    ee.verify_signature(
        webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        format!("{h}.{c}").as_bytes(),
        &sig,
    )
    .map_err(|_| {
        "The client assertion's signature does not verify with the registered certificate."
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_timestamps() {
        use crate::graph::format_utc;
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400 + 86_399), "2000-02-29T23:59:59Z");
    }
}
