//! What environment rules need to know about each policy, computed once per file content and
//! cached by blob id: its name, a fingerprint of its settings (duplicates), the settings it sets
//! (conflicts) and whom it is assigned to. Environment rules see the whole environment through
//! these, so a pull request that changes one policy of ten thousand reads one policy.

use super::natives::{self, TargetSite};
use crate::policy::kinds::Kind;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A 64-bit hash over words (the multiply-rotate of rustc's FxHash, with the length mixed
/// in): fast, and stable across builds and platforms, since the cache outlives a process. It
/// tells equal content from different content; it is not a cryptographic hash.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

const K: u64 = 0x517c_c1b7_2722_0a95;

impl Fnv {
    fn word(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(last));
        }
        self.word(b.len() as u64);
    }

    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.word(0),
            Value::Bool(b) => self.word(1 + u64::from(*b) * 16),
            Value::Number(n) => {
                self.word(2);
                match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => self.word(i as u64),
                    (None, Some(u)) => self.word(u),
                    _ => self.bytes(n.to_string().as_bytes()),
                }
            }
            Value::String(s) => {
                self.word(3);
                self.bytes(s.as_bytes());
            }
            Value::Array(items) => {
                self.word(4);
                self.word(items.len() as u64);
                for i in items {
                    self.value(i);
                }
            }
            Value::Object(map) => {
                self.word(5);
                self.word(map.len() as u64);
                // serde_json's map iterates in key order (no `preserve_order`).
                for (k, v) in map {
                    self.bytes(k.as_bytes());
                    self.value(v);
                }
            }
        }
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.bytes(bytes);
    }

    fn write_u64(&mut self, n: u64) {
        self.word(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }
}

/// Hash maps keyed by long setting ids hash them a word at a time.
type Fast = std::hash::BuildHasherDefault<Fnv>;

/// One policy (by index) setting one setting.
type Setter<'a> = (usize, &'a SettingFact);

/// Setting (kind, key) -> audience -> the policies that set it and include that audience.
type Index<'a> = HashMap<(&'a str, &'a str), HashMap<&'a Audience, Vec<Setter<'a>>>, Fast>;

/// One assignment target, reduced to what overlap needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Audience {
    /// All devices or all (licensed) users.
    Everyone,
    /// A group, by reference (`@group:Name`).
    Group(String),
    /// Something else (a Configuration Manager collection, …): overlaps nothing we can judge.
    Other(String),
}

/// One setting a policy sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingFact {
    /// `settingDefinitionId` (settings catalog) or `<odata type>/<property>` (device
    /// configurations).
    pub key: Arc<str>,
    pub pointer: Arc<str>,
    pub hash: u64,
    /// The value, shortened for messages.
    pub display: Arc<str>,
}

/// Facts about one policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub name: String,
    /// Fingerprint of everything but name, description, assignments and scope tags; `0` when
    /// there is nothing to compare.
    pub fingerprint: u64,
    pub includes: Vec<Audience>,
    pub excludes: Vec<Audience>,
    pub settings: Vec<SettingFact>,
}

/// Root fields that do not make two policies different.
const NOT_CONTENT: &[&str] = &[
    "name",
    "displayName",
    "description",
    "assignments",
    "roleScopeTagIds",
];

/// A value for messages: scalars as they are (shortened), compound values by size and a short
/// digest, so two different collections read differently.
fn display(v: &Value, hash: u64) -> Arc<str> {
    Arc::from(display_text(v, hash))
}

fn display_text(v: &Value, hash: u64) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            return format!(
                "a {}-item collection (#{:06x})",
                items.len(),
                hash & 0xff_ffff
            );
        }
        Value::Object(_) => return format!("a group of settings (#{:06x})", hash & 0xff_ffff),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        let mut short: String = s.chars().take(77).collect();
        short.push('…');
        short
    } else {
        s
    }
}

fn audience(t: &TargetSite) -> Audience {
    if t.is_everyone() {
        Audience::Everyone
    } else if let Some(g) = &t.group {
        Audience::Group(g.clone())
    } else {
        Audience::Other(t.kind.clone())
    }
}

impl Facts {
    /// Facts of a policy of `kind`; `bodies` are its side files (scripts) as stored.
    pub fn of(kind: &Kind, doc: &Value, bodies: &[&[u8]]) -> Facts {
        let name = doc
            .get(kind.name_field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let settings = settings_of(kind, doc);
        let mut fp = Fnv::default();
        let mut content = false;
        fp.bytes(kind.name.as_bytes());
        if let Value::Object(map) = doc {
            for (k, v) in map {
                if NOT_CONTENT.contains(&k.as_str()) {
                    continue;
                }
                // A settings-catalog policy is its settings; an empty one duplicates nothing.
                content |= if kind.name == "settings-catalog" {
                    k == "settings" && !settings.is_empty()
                } else {
                    k != "@odata.type"
                };
                fp.bytes(k.as_bytes());
                if kind.name == "settings-catalog" && k == "settings" {
                    // Every setting and its value, hashed once already.
                    for s in &settings {
                        fp.bytes(s.key.as_bytes());
                        fp.word(s.hash);
                    }
                } else {
                    fp.value(v);
                }
            }
        }
        for b in bodies {
            content = true;
            fp.bytes(&(b.len() as u64).to_le_bytes());
            fp.bytes(b);
        }
        let mut includes = Vec::new();
        let mut excludes = Vec::new();
        for t in natives::targets(doc) {
            if t.include {
                includes.push(audience(&t));
            } else {
                excludes.push(audience(&t));
            }
        }
        Facts {
            name,
            fingerprint: if content { fp.finish().max(1) } else { 0 },
            includes,
            excludes,
            settings,
        }
    }
}

fn settings_of(kind: &Kind, doc: &Value) -> Vec<SettingFact> {
    let mut out = Vec::new();
    match kind.name {
        "settings-catalog" => {
            let Some(list) = doc.get("settings").and_then(Value::as_array) else {
                return out;
            };
            for (i, s) in list.iter().enumerate() {
                if let Some(instance) = s.get("settingInstance") {
                    flatten(
                        instance,
                        &format!("/settings/{i}/settingInstance"),
                        &mut out,
                    );
                }
            }
        }
        "device-configurations" => {
            let Some(map) = doc.as_object() else {
                return out;
            };
            let odata = map.get("@odata.type").and_then(Value::as_str).unwrap_or("");
            for (k, v) in map {
                if NOT_CONTENT.contains(&k.as_str()) || k == "@odata.type" || v.is_null() {
                    continue;
                }
                let mut h = Fnv::default();
                h.value(v);
                let hash = h.finish();
                out.push(SettingFact {
                    key: Arc::from(format!("{odata}/{k}")),
                    pointer: Arc::from(format!("/{}", natives::escape_token(k))),
                    hash,
                    display: display(v, hash),
                });
            }
        }
        _ => {}
    }
    out
}

/// Settings of one instance: its own value, and its choice's children.
fn flatten(instance: &Value, pointer: &str, out: &mut Vec<SettingFact>) {
    let Some(id) = instance.get("settingDefinitionId").and_then(Value::as_str) else {
        return;
    };
    let Some((key, value)) = natives::instance_value(instance) else {
        return;
    };
    let mut h = Fnv::default();
    if key == "choiceSettingValue" {
        // The choice itself; its children are settings of their own.
        h.value(value);
    } else {
        h.value(instance.get(key).unwrap_or(value));
    }
    let hash = h.finish();
    out.push(SettingFact {
        key: Arc::from(id),
        pointer: Arc::from(format!("{pointer}/{key}")),
        hash,
        display: display(value, hash),
    });
    if let Some(children) = instance
        .get("choiceSettingValue")
        .and_then(|c| c.get("children"))
        .and_then(Value::as_array)
    {
        for (i, child) in children.iter().enumerate() {
            flatten(
                child,
                &format!("{pointer}/choiceSettingValue/children/{i}"),
                out,
            );
        }
    }
}

/// A policy of an environment as environment rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: &'static str,
    pub facts: Arc<Facts>,
}

/// Policies of one kind with the same settings under different names.
pub fn duplicates<'a>(entries: &'a [Entry], kinds: &dyn Fn(&str) -> bool) -> Vec<Vec<&'a Entry>> {
    let mut by: BTreeMap<(&str, u64), Vec<&Entry>> = BTreeMap::new();
    for e in entries {
        if e.facts.fingerprint != 0 && kinds(e.kind) {
            by.entry((e.kind, e.facts.fingerprint)).or_default().push(e);
        }
    }
    by.into_values().filter(|g| g.len() > 1).collect()
}

/// Two policies that set one setting to different values and may reach the same devices or
/// users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict<'a> {
    pub setting: &'a str,
    /// The policy the finding is reported on (the later path) and the other one.
    pub here: (&'a Entry, &'a SettingFact),
    pub other: (&'a Entry, &'a SettingFact),
    /// What both reach: a group, or everyone.
    pub overlap: String,
}

/// Where two policies' assignments overlap, if they do: a group both include (and neither
/// excludes), or everyone on one side and anything the other includes that the first does not
/// exclude. Filters are not evaluated: an overlap may be narrower than reported.
pub fn overlap(a: &Facts, b: &Facts) -> Option<String> {
    let excluded = |g: &Audience| a.excludes.contains(g) || b.excludes.contains(g);
    for x in &a.includes {
        for y in &b.includes {
            let hit = match (x, y) {
                (Audience::Everyone, Audience::Everyone) => Some("everyone".to_string()),
                (Audience::Group(g), Audience::Group(h)) if g == h && !excluded(x) => {
                    Some(g.clone())
                }
                (Audience::Everyone, Audience::Group(g))
                | (Audience::Group(g), Audience::Everyone)
                    if !excluded(&Audience::Group(g.clone())) =>
                {
                    Some(g.clone())
                }
                _ => None,
            };
            if hit.is_some() {
                return hit;
            }
        }
    }
    None
}

/// Conflicting settings among `entries` whose kind passes `kinds`, at most `limit`. With
/// `focus` (pull-request mode: the changed files), only conflicts involving one of them.
pub fn conflicts<'a>(
    entries: &'a [Entry],
    kinds: &dyn Fn(&str) -> bool,
    limit: usize,
    focus: Option<&HashSet<String>>,
) -> Vec<Conflict<'a>> {
    let in_focus = |e: &Entry| focus.is_none_or(|f| f.contains(&e.path));
    // With a focus, only the settings the focused policies set can conflict.
    let wanted: Option<HashSet<(&str, &str)>> = focus.map(|_| {
        entries
            .iter()
            .filter(|e| kinds(e.kind) && in_focus(e))
            .flat_map(|e| e.facts.settings.iter().map(move |s| (e.kind, &*s.key)))
            .collect()
    });
    // Only settings set to more than one value anywhere can conflict.
    let mut values: HashMap<(&str, &str), (u64, bool), Fast> = HashMap::default();
    for e in entries.iter().filter(|e| kinds(e.kind)) {
        for s in &e.facts.settings {
            values
                .entry((e.kind, &*s.key))
                .and_modify(|(h, multi)| *multi |= *h != s.hash)
                .or_insert((s.hash, false));
        }
    }
    // setting key -> audience -> entries (and the setting) that include it
    let mut index: Index<'_> = HashMap::default();
    for (i, e) in entries.iter().enumerate() {
        if !kinds(e.kind) {
            continue;
        }
        for s in &e.facts.settings {
            if !values.get(&(e.kind, &*s.key)).is_some_and(|v| v.1) {
                continue;
            }
            if let Some(w) = &wanted
                && !w.contains(&(e.kind, &*s.key))
            {
                continue;
            }
            let by_audience = index.entry((e.kind, &*s.key)).or_default();
            for a in &e.facts.includes {
                by_audience.entry(a).or_default().push((i, s));
            }
        }
    }
    let mut seen: BTreeSet<(usize, usize, &str)> = BTreeSet::new();
    let mut out = Vec::new();
    let mut keys: Vec<_> = index.keys().copied().collect();
    keys.sort_unstable();
    for key in keys {
        let by_audience = &index[&key];
        let everyone = by_audience.get(&Audience::Everyone);
        let mut audiences: Vec<&&Audience> = by_audience.keys().collect();
        audiences.sort();
        for a in audiences {
            let here = &by_audience[*a];
            // Pairs within one audience, and between everyone and this audience.
            let mut candidates: Vec<(&Setter<'_>, &Setter<'_>)> = Vec::new();
            for (n, x) in here.iter().enumerate() {
                for y in &here[n + 1..] {
                    candidates.push((x, y));
                }
                if **a != Audience::Everyone
                    && let Some(all) = everyone
                {
                    for y in all {
                        candidates.push((x, y));
                    }
                }
            }
            for (x, y) in candidates {
                if x.0 == y.0
                    || x.1.hash == y.1.hash
                    || !(in_focus(&entries[x.0]) || in_focus(&entries[y.0]))
                {
                    continue;
                }
                let (first, second) = if entries[x.0].path <= entries[y.0].path {
                    (x, y)
                } else {
                    (y, x)
                };
                if !seen.insert((first.0, second.0, key.1)) {
                    continue;
                }
                let (ea, eb) = (&entries[first.0], &entries[second.0]);
                if let Some(over) = overlap(&ea.facts, &eb.facts) {
                    out.push(Conflict {
                        setting: key.1,
                        here: (eb, second.1),
                        other: (ea, first.1),
                        overlap: over,
                    });
                    if out.len() >= limit {
                        return out;
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::kinds::{DEVICE_CONFIGURATIONS, SETTINGS_CATALOG};
    use serde_json::json;

    fn sc(name: &str, value: i64, groups: &[&str], everyone: bool, exclude: &[&str]) -> Value {
        let mut assignments: Vec<Value> = groups
            .iter()
            .map(|g| json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": g}}))
            .collect();
        if everyone {
            assignments.push(
                json!({"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}),
            );
        }
        for g in exclude {
            assignments.push(json!({"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": g}}));
        }
        json!({
            "name": name,
            "description": format!("about {name}"),
            "assignments": assignments,
            "settings": [{"settingInstance": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
                "settingDefinitionId": "timeout",
                "simpleSettingValue": {"value": value}
            }}]
        })
    }

    fn entry(path: &str, doc: &Value) -> Entry {
        Entry {
            path: path.into(),
            kind: "settings-catalog",
            facts: Arc::new(Facts::of(&SETTINGS_CATALOG, doc, &[])),
        }
    }

    #[test]
    fn same_settings_under_another_name_share_a_fingerprint() {
        let a = Facts::of(
            &SETTINGS_CATALOG,
            &sc("A", 5, &["@group:G"], false, &[]),
            &[],
        );
        let b = Facts::of(
            &SETTINGS_CATALOG,
            &sc("B", 5, &["@group:H"], true, &[]),
            &[],
        );
        let c = Facts::of(
            &SETTINGS_CATALOG,
            &sc("C", 6, &["@group:G"], false, &[]),
            &[],
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(a.settings.len(), 1);
        assert_eq!(&*a.settings[0].display, "5");
        // Nothing but a name, or no settings: nothing to compare.
        let empty = Facts::of(&SETTINGS_CATALOG, &json!({"name": "E"}), &[]);
        assert_eq!(empty.fingerprint, 0);
        let empty = Facts::of(
            &SETTINGS_CATALOG,
            &json!({"name": "E", "platforms": "windows10", "settings": []}),
            &[],
        );
        assert_eq!(empty.fingerprint, 0);
        // Scripts differ by their bodies.
        let k = crate::policy::kinds::by_name("powershell-scripts").unwrap();
        let d = json!({"displayName": "S", "runAsAccount": "system"});
        assert_ne!(
            Facts::of(k, &d, &[b"one"]).fingerprint,
            Facts::of(k, &d, &[b"two"]).fingerprint
        );
    }

    #[test]
    fn conflicts_need_different_values_and_overlapping_assignments() {
        let entries = vec![
            entry("a.json", &sc("A", 5, &["@group:G"], false, &[])),
            entry("b.json", &sc("B", 6, &["@group:G"], false, &[])),
            entry("c.json", &sc("C", 7, &["@group:H"], false, &[])),
            entry("d.json", &sc("D", 5, &[], true, &["@group:H"])),
        ];
        let all = |_: &str| true;
        let found: Vec<(String, String, String)> = conflicts(&entries, &all, 100, None)
            .iter()
            .map(|c| {
                (
                    c.here.0.path.clone(),
                    c.other.0.path.clone(),
                    c.overlap.clone(),
                )
            })
            .collect();
        // a/b share G with different values; b/d: d reaches everyone but H, b targets G;
        // a/d have the same value; c is only assigned to H, which d excludes.
        assert_eq!(
            found,
            vec![
                (
                    "b.json".to_string(),
                    "a.json".to_string(),
                    "@group:G".to_string()
                ),
                (
                    "d.json".to_string(),
                    "b.json".to_string(),
                    "@group:G".to_string()
                ),
            ]
        );
        assert_eq!(conflicts(&entries, &all, 1, None).len(), 1);
        assert!(conflicts(&entries, &|k| k == "groups", 100, None).is_empty());
        // Focused on d: only d's conflict.
        let focus: HashSet<String> = ["d.json".to_string()].into_iter().collect();
        let focused = conflicts(&entries, &all, 100, Some(&focus));
        assert_eq!(focused.len(), 1);
        assert_eq!(focused[0].here.0.path, "d.json");
        let focus: HashSet<String> = ["c.json".to_string()].into_iter().collect();
        assert!(conflicts(&entries, &all, 100, Some(&focus)).is_empty());
    }

    #[test]
    fn device_configuration_properties_are_settings_of_their_type() {
        let doc = json!({"@odata.type": "#microsoft.graph.windowsUpdateForBusinessConfiguration", "displayName": "R", "qualityUpdatesDeferralPeriodInDays": 7, "x": null});
        let f = Facts::of(&DEVICE_CONFIGURATIONS, &doc, &[]);
        assert_eq!(f.settings.len(), 1);
        assert_eq!(
            &*f.settings[0].key,
            "#microsoft.graph.windowsUpdateForBusinessConfiguration/qualityUpdatesDeferralPeriodInDays"
        );
        assert_eq!(
            &*f.settings[0].pointer,
            "/qualityUpdatesDeferralPeriodInDays"
        );
    }
}
