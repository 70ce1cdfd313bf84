//! Serving one Graph request against the simulated tenant: lists with paging, objects,
//! navigation collections, `$expand`/`$select`, create, update, delete, assign and audit
//! events. Errors have Graph's status codes and body shape.

use super::model::{Assign, COLLECTIONS, CollectionDef, Obj, nested_of};
use super::odata::{
    Expand, Query, expand_to_string, parse_date_filter, parse_query, with_skiptoken,
};
use super::{Sim, SimResponse, error};
use axum::http::Method;
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::graph::now_utc;

fn not_found(def: &CollectionDef, id: &str) -> SimResponse {
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

/// An item of navigation `nav`, with its own navigations kept only where expanded.
fn shape(item: &Value, nav: &str, expand: &[Expand]) -> Value {
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
                        Value::Array(a.iter().map(|x| shape(x, k, &e.expand)).collect())
                    }
                    other => shape(other, k, &e.expand),
                };
                out.insert(k.clone(), shaped);
            }
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
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
        let nav_page = self.sim.config.nav_page_size.max(1);
        for e in &q.expand {
            let items = obj.navs.get(&e.name).map(Vec::as_slice).unwrap_or(&[]);
            let shaped: Vec<Value> = items.iter().map(|i| shape(i, &e.name, &e.expand)).collect();
            if !list && shaped.len() > nav_page {
                let mut link = format!("{}/{id}/{}?", self.collection_url(), e.name);
                if !e.expand.is_empty() {
                    link.push_str(
                        &form_urlencoded::Serializer::new(String::new())
                            .append_pair("$expand", &expand_to_string(&e.expand))
                            .finish(),
                    );
                    link.push('&');
                }
                link.push_str(&format!("$skiptoken=o{nav_page}"));
                map.insert(e.name.clone(), Value::Array(shaped[..nav_page].to_vec()));
                map.insert(format!("{}@odata.nextLink", e.name), Value::String(link));
            } else {
                map.insert(e.name.clone(), Value::Array(shaped));
            }
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

/// A page of `items` (already rendered) starting at the query's `$skiptoken`.
fn page(
    items: Vec<Value>,
    q: &Query,
    size: usize,
    context: String,
    url: &str,
) -> Result<SimResponse, SimResponse> {
    let size = q.top.map_or(size, |t| t.min(size)).max(1);
    let start = offset(q)?.min(items.len());
    let end = (start + size).min(items.len());
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let mut body = json!({"@odata.context": context, "value": value});
    if end < total {
        body["@odata.nextLink"] =
            Value::String(format!("{url}?{}", with_skiptoken(q, &format!("o{end}"))));
    }
    Ok(SimResponse::json(200, body))
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
    let Some(def) = COLLECTIONS
        .iter()
        .filter(|c| {
            let parts: Vec<&str> = c.path.split('/').collect();
            segs.len() >= parts.len() && segs[..parts.len()] == parts[..]
        })
        .max_by_key(|c| c.path.len())
    else {
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
    let size = cx.sim.config.page_size.max(1);
    let take = q.top.map_or(size, |n| n.min(size)).max(1);
    let start = offset(q)?.min(coll.len());
    let end = (start + take).min(coll.len());
    // Render only the page: lists can be large.
    let value: Vec<Value> = coll.order[start..end]
        .iter()
        .map(|id| cx.render(&coll.objs[id], q, true))
        .collect();
    let mut ctx = cx.def.path.to_string();
    if let Some(sel) = &q.select {
        ctx.push_str(&format!("({})", sel.join(",")));
    }
    let mut body = json!({"@odata.context": cx.context(&ctx), "value": value});
    if end < coll.len() {
        body["@odata.nextLink"] = Value::String(format!(
            "{}?{}",
            cx.collection_url(),
            with_skiptoken(q, &format!("o{end}"))
        ));
    }
    Ok(SimResponse::json(200, body))
}

fn get_item(cx: &Cx<'_>, id: &str, q: &Query) -> Result<SimResponse, SimResponse> {
    for e in &q.expand {
        if !cx.def.navs.contains(&e.name.as_str()) {
            return Err(no_property(cx.def, &e.name));
        }
        check_nested(&e.name, &e.expand)?;
    }
    let t = cx.sim.tenant();
    let obj = t
        .coll(cx.def.path)
        .objs
        .get(id)
        .ok_or_else(|| not_found(cx.def, id))?;
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
    let obj = t
        .coll(cx.def.path)
        .objs
        .get(id)
        .ok_or_else(|| not_found(cx.def, id))?;
    let items: Vec<Value> = obj
        .navs
        .get(nav)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|i| shape(i, nav, &q.expand))
        .collect();
    page(
        items,
        q,
        cx.sim.config.nav_page_size,
        cx.context(&format!("{}('{id}')/{nav}", cx.def.path)),
        &format!("{}/{id}/{nav}", cx.collection_url()),
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
