//! From whatever a source hands us to the canonical policy document (design §1).
//!
//! One walk over the document drops OData annotations and volatile fields, keeps `@odata.type`
//! only where Graph's minimal metadata carries it, turns tenant ids into symbolic references,
//! replaces secrets with placeholders and sorts set-like arrays. Script bodies are taken out
//! and decoded for their side files.

use super::kinds::{COMMON_VOLATILE, KINDS, Kind, RefTarget, short_type};
use super::pattern::{DocPath, Pattern, Seg};
use super::refs::{self, Directory};
use super::slug;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// What normalisation may change.
#[derive(Debug, Clone, Copy)]
pub enum Mode<'d> {
    /// Data from a tenant or another tool: ids are resolved through the directory, secrets are
    /// replaced, bodies are taken out.
    Source(&'d Directory),
    /// A file already in the repository (`fmt`): layout only, meaning untouched.
    Format,
}

/// Placeholder prefix of a secret.
pub const SECRET_PREFIX: &str = "@secret:";

/// A secret found in the document, replaced by a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSite {
    /// The temporary value standing in the document until the secret has its name (sets may
    /// be sorted after a secret is found, so a position would not stay true).
    pub token: String,
    /// Field part of the secret's name, e.g. `preSharedKey` or `omaSettings/<uri>/value`.
    pub field: String,
    /// The placeholder name it already had, when the input was normalised before.
    pub existing: Option<String>,
}

/// A decoded body taken out of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Suffix after the slug, e.g. `.ps1`.
    pub suffix: &'static str,
    pub bytes: Vec<u8>,
}

/// A normalised policy, before it has a slug.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub kind: &'static Kind,
    pub doc: Value,
    pub display_name: String,
    /// The object id in its tenant, if the source had one.
    pub id: Option<String>,
    /// The full root `@odata.type`, if the source had one.
    pub odata_type: Option<String>,
    pub bodies: Vec<Body>,
    /// Body fields the kind has but the source did not carry (a list response, say).
    pub missing_bodies: Vec<&'static str>,
    pub secrets: Vec<SecretSite>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NormalizeError {
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    #[error("no `{field}`: every {kind} policy needs a name")]
    NoName {
        kind: &'static str,
        field: &'static str,
    },
    #[error("`{field}` is not valid base64: {reason}")]
    BadBody { field: &'static str, reason: String },
}

struct Compiled {
    volatile: Vec<Pattern>,
    keep_type: Vec<Pattern>,
    sets: Vec<(Pattern, &'static [&'static str])>,
    refs: Vec<(Pattern, RefTarget)>,
    secrets: Vec<(Pattern, Option<&'static str>, Option<&'static str>)>,
}

fn compiled(kind: &Kind) -> &'static Compiled {
    static CACHE: OnceLock<Vec<Compiled>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        KINDS
            .iter()
            .map(|k| {
                let mut keep_type: Vec<Pattern> =
                    k.keep_type.iter().map(|p| Pattern::new(p)).collect();
                if !k.root_types.is_empty() {
                    keep_type.push(Pattern::new(""));
                }
                Compiled {
                    volatile: COMMON_VOLATILE
                        .iter()
                        .chain(k.volatile)
                        .map(|p| Pattern::new(p))
                        .collect(),
                    keep_type,
                    sets: k
                        .sets
                        .iter()
                        .map(|s| (Pattern::new(s.path), s.key))
                        .collect(),
                    refs: k
                        .refs
                        .iter()
                        .map(|r| (Pattern::new(r.path), r.target))
                        .collect(),
                    secrets: k
                        .secrets
                        .iter()
                        .map(|s| (Pattern::new(s.path), s.when_sibling_true, s.name_key))
                        .collect(),
                }
            })
            .collect()
    });
    let idx = KINDS
        .iter()
        .position(|k| std::ptr::eq(*k, kind))
        .or_else(|| KINDS.iter().position(|k| k.name == kind.name))
        .expect("every kind is in the registry");
    &all[idx]
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Normalise one object of `kind`.
pub fn normalize(
    kind: &'static Kind,
    mut doc: Value,
    mode: Mode<'_>,
) -> Result<Normalized, NormalizeError> {
    let Value::Object(root) = &mut doc else {
        return Err(NormalizeError::NotAnObject(type_name(&doc)));
    };
    let id = root.get("id").and_then(Value::as_str).map(str::to_string);
    let odata_type = root
        .get("@odata.type")
        .and_then(Value::as_str)
        .map(str::to_string);
    let display_name = match root.get(kind.name_field) {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(NormalizeError::NoName {
                kind: kind.name,
                field: kind.name_field,
            });
        }
    };

    let mut bodies = Vec::new();
    let mut missing_bodies = Vec::new();
    if let Mode::Source(_) = mode {
        let short_type = odata_type.as_deref().map(short_type);
        for body in kind.bodies {
            if !body.only_types.is_empty()
                && !short_type.is_some_and(|t| body.only_types.contains(&t))
            {
                continue;
            }
            match root.remove(body.field) {
                Some(Value::String(b64)) => {
                    let bytes = decode_base64(&b64).map_err(|reason| NormalizeError::BadBody {
                        field: body.field,
                        reason,
                    })?;
                    bodies.push(Body {
                        suffix: body.suffix,
                        bytes,
                    });
                }
                Some(_) | None => missing_bodies.push(body.field),
            }
        }
    }

    let c = compiled(kind);
    let mut cx = Cx {
        kind,
        c,
        mode,
        secrets: Vec::new(),
    };
    let mut path = DocPath::new();
    walk(&mut doc, &mut path, &mut cx);

    // A root @odata.type naming the kind's base type selects nothing: Graph leaves it out.
    if let Value::Object(root) = &mut doc
        && let Some(Value::String(t)) = root.get("@odata.type")
        && short_type(t) == kind.base_type
    {
        root.remove("@odata.type");
    }

    Ok(Normalized {
        kind,
        doc,
        display_name,
        id,
        odata_type,
        bodies,
        missing_bodies,
        secrets: cx.secrets,
    })
}

fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    let cleaned: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(cleaned.as_bytes()))
        .map_err(|e| e.to_string())
}

struct Cx<'d> {
    kind: &'static Kind,
    c: &'static Compiled,
    mode: Mode<'d>,
    secrets: Vec<SecretSite>,
}

fn is_annotation(key: &str) -> bool {
    key.starts_with('#') || key.contains("@odata.") || key.starts_with("@odata")
}

fn walk(v: &mut Value, path: &mut DocPath, cx: &mut Cx<'_>) {
    match v {
        Value::Object(map) => {
            let is_root = path.is_empty();
            map.retain(|k, _| keep_key(path, k, is_root, cx));
            if let Mode::Source(_) = cx.mode {
                replace_secrets(map, path, cx);
            }
            for (k, child) in map.iter_mut() {
                path.push_key(k);
                walk(child, path, cx);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push_index(i);
                walk(child, path, cx);
                path.pop();
            }
            if let Some((_, key)) = cx.c.sets.iter().find(|(p, _)| p.matches_doc(path)) {
                sort_set(items, key);
            }
        }
        Value::String(s) => {
            if let Mode::Source(dir) = cx.mode
                && let Some((_, target)) = cx.c.refs.iter().find(|(p, _)| p.matches_doc(path))
            {
                let converted = refs::convert(*target, s, dir);
                if converted != *s {
                    *s = converted;
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn keep_key(path: &DocPath, key: &str, is_root: bool, cx: &Cx<'_>) -> bool {
    if key == "@odata.type" {
        return cx.c.keep_type.iter().any(|p| p.matches_doc(path));
    }
    if is_annotation(key) {
        return false;
    }
    if is_root && let Some(keep) = cx.kind.keep_only {
        return keep.contains(&key);
    }
    !cx.c
        .volatile
        .iter()
        .any(|p| p.matches_doc_child(path, Seg::Key(key)))
}

fn replace_secrets(map: &mut Map<String, Value>, path: &DocPath, cx: &mut Cx<'_>) {
    if cx.c.secrets.is_empty() {
        return;
    }
    let mut hits: Vec<(String, String, Option<String>)> = Vec::new();
    for (key, value) in map.iter() {
        let Value::String(s) = value else { continue };
        if s.is_empty() {
            continue;
        }
        for (pattern, when, name_key) in &cx.c.secrets {
            if !pattern.matches_doc_child(path, Seg::Key(key)) {
                continue;
            }
            if let Some(flag) = when
                && map.get(*flag) != Some(&Value::Bool(true))
            {
                continue;
            }
            let own_name = name_key
                .and_then(|k| map.get(k))
                .and_then(Value::as_str)
                .map(slug::slugify_part);
            let field = secret_field(&path.segs(), key, own_name.as_deref());
            let existing = s.strip_prefix(SECRET_PREFIX).map(str::to_string);
            hits.push((key.clone(), field, existing));
            break;
        }
    }
    for (key, field, existing) in hits {
        let token = format!("{SECRET_PREFIX}\u{0}{}", cx.secrets.len());
        if existing.is_none() {
            map.insert(key, Value::String(token.clone()));
        }
        cx.secrets.push(SecretSite {
            token,
            field,
            existing,
        });
    }
}

fn secret_field(parent: &[Seg<'_>], key: &str, own_name: Option<&str>) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(parent.len() + 1);
    for (i, seg) in parent.iter().enumerate() {
        match seg {
            Seg::Key(k) => parts.push((*k).to_string()),
            Seg::Index(n) => match own_name {
                Some(name) if i + 1 == parent.len() && !name.is_empty() => {
                    parts.push(name.to_string())
                }
                _ => parts.push(n.to_string()),
            },
        }
    }
    parts.push(key.to_string());
    parts.join("/")
}

fn sort_set(items: &mut [Value], key: &[&str]) {
    if items.len() < 2 {
        return;
    }
    fn key_part(v: &Value) -> std::borrow::Cow<'_, [u8]> {
        match v {
            Value::String(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            other => std::borrow::Cow::Owned(super::canonical::to_canonical(other)),
        }
    }
    // Keys first; the canonical bytes of a whole element only break ties, so they are computed
    // only for elements whose keys are equal to another's.
    let keys: Vec<Vec<std::borrow::Cow<'_, [u8]>>> = items
        .iter()
        .map(|v| {
            if key.is_empty() {
                vec![key_part(v)]
            } else {
                key.iter()
                    .map(|p| {
                        v.pointer(p)
                            .map_or(std::borrow::Cow::Borrowed(&b""[..]), key_part)
                    })
                    .collect()
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    let mut full: Vec<Option<Vec<u8>>> = vec![None; items.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && keys[order[j]] == keys[order[i]] {
            j += 1;
        }
        if j - i > 1 {
            for &k in &order[i..j] {
                full[k] = Some(super::canonical::to_canonical(&items[k]));
            }
            order[i..j].sort_by(|&a, &b| full[a].cmp(&full[b]));
        }
        i = j;
    }
    drop(keys);
    if order.iter().enumerate().all(|(pos, &k)| pos == k) {
        return;
    }
    let mut taken: Vec<Value> = items.iter_mut().map(std::mem::take).collect();
    for (slot, k) in items.iter_mut().zip(order) {
        *slot = std::mem::take(&mut taken[k]);
    }
}

/// The sort key of a set element, as [`sort_set`] orders them: strings by their bytes, other
/// values by their canonical bytes, the element itself when the set has no key. Strings are
/// borrowed: checking a set's order allocates only for non-string keys.
fn set_key<'v>(v: &'v Value, key: &[&str]) -> Vec<std::borrow::Cow<'v, [u8]>> {
    use std::borrow::Cow;
    fn part(v: &Value) -> Cow<'_, [u8]> {
        match v {
            Value::String(s) => Cow::Borrowed(s.as_bytes()),
            other => Cow::Owned(super::canonical::to_canonical(other)),
        }
    }
    /// `Value::pointer` without its per-token allocation (set keys have no escapes).
    fn at<'v>(v: &'v Value, pointer: &str) -> Option<&'v Value> {
        pointer
            .split('/')
            .skip(1)
            .try_fold(v, |cur, token| match cur {
                Value::Object(m) => m.get(token),
                Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            })
    }
    if key.is_empty() {
        vec![part(v)]
    } else {
        key.iter()
            .map(|p| at(v, p).map_or(Cow::Borrowed(&b""[..]), part))
            .collect()
    }
}

/// Is `doc` already what [`normalize`] in [`Mode::Format`] makes of it (no field to drop, no
/// set out of order, no redundant root type)? The same answer as normalising a copy and
/// comparing, without the copy or the rewrite: lint asks it of every file.
pub fn is_normal(kind: &'static Kind, doc: &Value) -> bool {
    /// `deepest`: no volatile pattern matches a path longer than this.
    fn go(v: &Value, path: &mut DocPath, cx: &Cx<'_>, deepest: usize) -> bool {
        match v {
            Value::Object(map) => {
                let is_root = path.is_empty();
                let deep = path.len() + 1 > deepest;
                let kept = |k: &String| {
                    // Past the deepest volatile pattern only annotations and types can go; every
                    // annotation has a `@` or starts with `#`.
                    let plain = !k.starts_with('#') && !k.as_bytes().contains(&b'@');
                    (deep && plain && !is_root) || keep_key(path, k, is_root, cx)
                };
                if !map.keys().all(kept) {
                    return false;
                }
                for (k, child) in map {
                    path.push_key(k);
                    let ok = go(child, path, cx, deepest);
                    path.pop();
                    if !ok {
                        return false;
                    }
                }
                true
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    path.push_index(i);
                    let ok = go(child, path, cx, deepest);
                    path.pop();
                    if !ok {
                        return false;
                    }
                }
                match cx.c.sets.iter().find(|(p, _)| p.matches_doc(path)) {
                    None => true,
                    Some((_, key)) => {
                        let mut prev: Option<(Vec<std::borrow::Cow<'_, [u8]>>, &Value)> = None;
                        for item in items {
                            let k = set_key(item, key);
                            if let Some((pk, pv)) = &prev {
                                let order = pk.cmp(&k).then_with(|| {
                                    super::canonical::to_canonical(pv)
                                        .cmp(&super::canonical::to_canonical(item))
                                });
                                if order == std::cmp::Ordering::Greater {
                                    return false;
                                }
                            }
                            prev = Some((k, item));
                        }
                        true
                    }
                }
            }
            _ => true,
        }
    }
    let Value::Object(root) = doc else {
        return false;
    };
    if let Some(Value::String(t)) = root.get("@odata.type")
        && short_type(t) == kind.base_type
    {
        return false;
    }
    let cx = Cx {
        kind,
        c: compiled(kind),
        mode: Mode::Format,
        secrets: Vec::new(),
    };
    let deepest =
        cx.c.volatile
            .iter()
            .map(|p| p.fixed_len().unwrap_or(usize::MAX))
            .max()
            .unwrap_or(0);
    go(doc, &mut DocPath::new(), &cx, deepest)
}

/// Call `f` on every string at one of `kind`'s reference paths (sources use it to turn their
/// own conventions, such as names instead of ids, into symbolic references).
pub fn visit_refs(kind: &'static Kind, doc: &mut Value, f: &mut dyn FnMut(RefTarget, &mut String)) {
    fn go(
        v: &mut Value,
        path: &mut DocPath,
        c: &Compiled,
        f: &mut dyn FnMut(RefTarget, &mut String),
    ) {
        match v {
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    path.push_key(k);
                    go(child, path, c, f);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    path.push_index(i);
                    go(child, path, c, f);
                    path.pop();
                }
            }
            Value::String(s) => {
                if let Some((_, target)) = c.refs.iter().find(|(p, _)| p.matches_doc(path)) {
                    f(*target, s);
                }
            }
            _ => {}
        }
    }
    go(doc, &mut DocPath::new(), compiled(kind), f);
}

/// Give every new secret placeholder of `n` its name: `<kind>/<slug>/<field>`, unless `known`
/// (from `state.json`) already names that field. Returns field -> name for every secret.
pub fn name_secrets(
    n: &mut Normalized,
    slug: &str,
    known: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    let mut names = std::collections::BTreeMap::new();
    let mut by_token = std::collections::HashMap::new();
    for site in &n.secrets {
        let name = site
            .existing
            .clone()
            .or_else(|| known.get(&site.field).cloned())
            .unwrap_or_else(|| format!("{}/{}/{}", n.kind.name, slug, site.field));
        by_token.insert(site.token.clone(), format!("{SECRET_PREFIX}{name}"));
        names.insert(site.field.clone(), name);
    }
    fn fill(v: &mut Value, by_token: &std::collections::HashMap<String, String>) {
        match v {
            Value::String(s) => {
                if let Some(named) = by_token.get(s.as_str()) {
                    *s = named.clone();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| fill(i, by_token)),
            Value::Object(map) => map.values_mut().for_each(|i| fill(i, by_token)),
            _ => {}
        }
    }
    if !by_token.is_empty() {
        fill(&mut n.doc, &by_token);
        // Named secrets sort differently from their tokens: sort the sets again.
        let doc = std::mem::take(&mut n.doc);
        n.doc = match normalize(n.kind, doc.clone(), Mode::Format) {
            Ok(again) => again.doc,
            Err(_) => doc,
        };
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::canonical::to_canonical;
    use crate::policy::kinds::{
        CONDITIONAL_ACCESS, DEVICE_CONFIGURATIONS, SETTINGS_CATALOG, by_name,
    };
    use serde_json::json;

    fn dir() -> Directory {
        let mut d = Directory::new();
        d.insert(
            RefTarget::Group,
            "11111111-1111-1111-1111-111111111111",
            "SG-Pilot",
            "t",
            false,
        );
        d.insert(
            RefTarget::NamedLocation,
            "22222222-2222-2222-2222-222222222222",
            "Allowed countries",
            "t",
            false,
        );
        d
    }

    #[test]
    fn is_normal_agrees_with_normalising_a_copy() {
        let cases = [
            (
                &SETTINGS_CATALOG,
                json!({"name": "A", "roleScopeTagIds": ["@scopeTag:B", "@scopeTag:A"]}),
            ),
            (
                &SETTINGS_CATALOG,
                json!({"name": "A", "roleScopeTagIds": ["@scopeTag:A", "@scopeTag:B"]}),
            ),
            (&SETTINGS_CATALOG, json!({"name": "A", "id": "x"})),
            (
                &SETTINGS_CATALOG,
                json!({"name": "A", "settings": [{"id": "0", "settingInstance": {"settingDefinitionId": "a"}}]}),
            ),
            (
                &SETTINGS_CATALOG,
                json!({"name": "A", "settings": [
                {"settingInstance": {"settingDefinitionId": "b"}},
                {"settingInstance": {"settingDefinitionId": "a"}}]}),
            ),
            (
                &SETTINGS_CATALOG,
                json!({"name": "A", "settings": [
                {"settingInstance": {"settingDefinitionId": "a", "choiceSettingValue": {"children": [
                    {"settingDefinitionId": "z"}, {"settingDefinitionId": "y"}]}}}]}),
            ),
            (
                &SETTINGS_CATALOG,
                json!({"name": "A", "x@odata.type": "#Int64"}),
            ),
            (
                &SETTINGS_CATALOG,
                json!({"@odata.type": "#microsoft.graph.deviceManagementConfigurationPolicy", "name": "A"}),
            ),
            (
                &DEVICE_CONFIGURATIONS,
                json!({"@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": "A",
                "omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingString", "value": "v"}],
                "nested": {"@odata.type": "#microsoft.graph.notDerived"}}),
            ),
            (
                &CONDITIONAL_ACCESS,
                json!({"displayName": "A", "conditions": {"users": {"includeUsers": ["b", "a"]}}}),
            ),
            (
                &CONDITIONAL_ACCESS,
                json!({"displayName": "A", "conditions": {"users": {"includeUsers": ["a", "b", "b"]}}}),
            ),
        ];
        for (kind, doc) in cases {
            let normalised = normalize(kind, doc.clone(), Mode::Format).unwrap().doc;
            assert_eq!(is_normal(kind, &doc), normalised == doc, "{doc}");
        }
        // Every kind's canonical corpus file is normal.
        for k in crate::policy::KINDS {
            let doc = json!({k.name_field: "A", "assignments": [
                {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "@group:B"}},
                {"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}]});
            let normalised = normalize(k, doc.clone(), Mode::Format).unwrap().doc;
            assert!(is_normal(k, &normalised), "{}: {normalised}", k.name);
            assert_eq!(is_normal(k, &doc), normalised == doc, "{}", k.name);
        }
    }

    #[test]
    fn drops_volatile_and_annotations_but_keeps_derived_types() {
        let raw = json!({
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/deviceConfigurations/$entity",
            "@odata.type": "#microsoft.graph.windowsUpdateForBusinessConfiguration",
            "id": "abc", "version": 3, "createdDateTime": "2024-01-01T00:00:00Z",
            "displayName": "Ring 1",
            "displayName@odata.type": "#String",
            "#microsoft.graph.assign": {"title": "x", "target": "y"},
            "installationSchedule": {"@odata.type": "#microsoft.graph.windowsUpdateActiveHoursInstall", "activeHoursStart": "08:00:00"},
            "someComplex": {"@odata.type": "#microsoft.graph.notDerived", "a": 1},
            "assignments": []
        });
        let n = normalize(&DEVICE_CONFIGURATIONS, raw, Mode::Source(&dir())).unwrap();
        assert_eq!(
            n.doc,
            json!({
                "@odata.type": "#microsoft.graph.windowsUpdateForBusinessConfiguration",
                "displayName": "Ring 1",
                "installationSchedule": {"@odata.type": "#microsoft.graph.windowsUpdateActiveHoursInstall", "activeHoursStart": "08:00:00"},
                "someComplex": {"a": 1},
                "assignments": []
            })
        );
        assert_eq!(n.id.as_deref(), Some("abc"));
    }

    #[test]
    fn conditional_access_ids_become_sorted_references() {
        let raw = json!({
            "@odata.type": "#microsoft.graph.conditionalAccessPolicy",
            "displayName": "CA001",
            "conditions": {
                "users": {
                    "@odata.type": "#microsoft.graph.conditionalAccessUsers",
                    "includeUsers": ["All"],
                    "excludeGroups": ["99999999-9999-9999-9999-999999999999", "11111111-1111-1111-1111-111111111111"]
                },
                "locations": {"includeLocations": ["All"], "excludeLocations": ["22222222-2222-2222-2222-222222222222"]}
            }
        });
        let n = normalize(&CONDITIONAL_ACCESS, raw, Mode::Source(&dir())).unwrap();
        assert_eq!(
            n.doc["conditions"]["users"]["excludeGroups"],
            json!([
                "@group:?99999999-9999-9999-9999-999999999999",
                "@group:SG-Pilot"
            ])
        );
        assert_eq!(
            n.doc["conditions"]["locations"]["excludeLocations"],
            json!(["@namedLocation:Allowed countries"])
        );
        assert!(n.doc.get("@odata.type").is_none());
        assert!(n.doc["conditions"]["users"].get("@odata.type").is_none());
    }

    #[test]
    fn format_mode_leaves_ids_and_secrets_alone() {
        let raw = json!({"displayName": "x", "preSharedKey": "hunter2",
                         "assignments": [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "11111111-1111-1111-1111-111111111111"}}]});
        let n = normalize(&DEVICE_CONFIGURATIONS, raw, Mode::Format).unwrap();
        assert_eq!(n.doc["preSharedKey"], "hunter2");
        assert_eq!(
            n.doc["assignments"][0]["target"]["groupId"],
            "11111111-1111-1111-1111-111111111111"
        );
    }

    #[test]
    fn secrets_become_named_placeholders() {
        let raw = json!({
            "@odata.type": "#microsoft.graph.windows10CustomConfiguration",
            "displayName": "OMA",
            "omaSettings": [
                {"@odata.type": "#microsoft.graph.omaSettingString", "displayName": "plain", "omaUri": "./Device/A", "value": "visible", "isEncrypted": false},
                {"@odata.type": "#microsoft.graph.omaSettingString", "displayName": "enc", "omaUri": "./Device/Vendor/B", "value": "c2VjcmV0", "isEncrypted": true, "secretReferenceValueId": "abc"}
            ],
            "preSharedKey": "hunter2"
        });
        let mut n = normalize(&DEVICE_CONFIGURATIONS, raw, Mode::Source(&dir())).unwrap();
        assert_eq!(n.secrets.len(), 2);
        let names = name_secrets(&mut n, "oma", &Default::default());
        assert_eq!(
            n.doc["preSharedKey"],
            "@secret:device-configurations/oma/preSharedKey"
        );
        assert_eq!(
            n.doc["omaSettings"][1]["value"],
            "@secret:device-configurations/oma/omaSettings/device-vendor-b/value"
        );
        assert_eq!(n.doc["omaSettings"][0]["value"], "visible");
        assert!(
            n.doc["omaSettings"][1]
                .get("secretReferenceValueId")
                .is_none()
        );
        assert_eq!(names.len(), 2);
        // A recorded name wins over a derived one (the policy was renamed since).
        let raw2 = json!({"@odata.type": "#microsoft.graph.windowsWifiConfiguration", "displayName": "New name", "preSharedKey": "x"});
        let mut n2 = normalize(&DEVICE_CONFIGURATIONS, raw2, Mode::Source(&dir())).unwrap();
        let known = [(
            "preSharedKey".to_string(),
            "device-configurations/old/preSharedKey".to_string(),
        )]
        .into();
        name_secrets(&mut n2, "new-name", &known);
        assert_eq!(
            n2.doc["preSharedKey"],
            "@secret:device-configurations/old/preSharedKey"
        );
    }

    #[test]
    fn settings_are_sorted_and_ids_dropped() {
        let raw = json!({
            "name": "p", "settingCount": 2,
            "settings": [
                {"id": "1", "settingInstance": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance", "settingDefinitionId": "b",
                  "choiceSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingValue", "value": "b_1", "children": []}}},
                {"id": "0", "settingInstance": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance", "settingDefinitionId": "a",
                  "simpleSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", "value": 3}}}
            ]
        });
        let n = normalize(&SETTINGS_CATALOG, raw, Mode::Source(&dir())).unwrap();
        let text = String::from_utf8(to_canonical(&n.doc)).unwrap();
        assert!(!text.contains("\"id\""));
        assert!(!text.contains("settingCount"));
        assert!(
            !text.contains("ChoiceSettingValue\""),
            "choice value type is not derived: {text}"
        );
        assert_eq!(
            n.doc["settings"][0]["settingInstance"]["settingDefinitionId"],
            "a"
        );
        assert_eq!(
            n.doc["settings"][0]["settingInstance"]["simpleSettingValue"]["@odata.type"],
            "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue"
        );
    }

    #[test]
    fn bodies_are_decoded_and_missing_ones_reported() {
        let kind = by_name("powershell-scripts").unwrap();
        let raw = json!({"displayName": "s", "scriptContent": "77u/V3JpdGUtSG9zdCAxDQo="});
        let n = normalize(kind, raw, Mode::Source(&dir())).unwrap();
        assert_eq!(n.bodies[0].bytes, b"\xEF\xBB\xBFWrite-Host 1\r\n");
        assert!(n.doc.get("scriptContent").is_none());
        let n = normalize(
            kind,
            json!({"displayName": "s", "scriptContent": null}),
            Mode::Source(&dir()),
        )
        .unwrap();
        assert_eq!(n.missing_bodies, vec!["scriptContent"]);
        let err = normalize(
            kind,
            json!({"displayName": "s", "scriptContent": "!!"}),
            Mode::Source(&dir()),
        )
        .unwrap_err();
        assert!(matches!(err, NormalizeError::BadBody { .. }));
    }

    #[test]
    fn groups_keep_definitions_only() {
        let kind = by_name("groups").unwrap();
        let raw = json!({"id": "g", "displayName": "G", "members": ["u1"], "securityIdentifier": "S-1", "membershipRule": null, "groupTypes": ["Unified", "DynamicMembership"]});
        let n = normalize(kind, raw, Mode::Source(&dir())).unwrap();
        assert_eq!(
            n.doc,
            json!({"displayName": "G", "membershipRule": null, "groupTypes": ["DynamicMembership", "Unified"]})
        );
    }

    #[test]
    fn errors_are_clear() {
        assert_eq!(
            normalize(&SETTINGS_CATALOG, json!([1]), Mode::Format).unwrap_err(),
            NormalizeError::NotAnObject("an array")
        );
        assert_eq!(
            normalize(&SETTINGS_CATALOG, json!({"displayName": "x"}), Mode::Format)
                .unwrap_err()
                .to_string(),
            "no `name`: every settings-catalog policy needs a name"
        );
    }
}
