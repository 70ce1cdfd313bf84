//! Whole-document walks in Rust, for rules to call: every string, every reference, a
//! settings-catalog setting, assignment targets, and the secrets scanner. Scripts make the
//! decisions; these do the walking (`../shared/stack.md`: a walk in Rhai costs 20× more).

use crate::policy::refs::{SymbolicRef, parse_symbolic};
use regex::bytes::Regex;
use serde_json::Value;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// Escape one JSON-pointer token.
pub fn escape_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Call `f(pointer, value)` on every string of `v`.
pub fn for_each_string(v: &Value, f: &mut dyn FnMut(&str, &str)) {
    fn go(v: &Value, pointer: &mut String, f: &mut dyn FnMut(&str, &str)) {
        match v {
            Value::String(s) => f(pointer, s),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    let _ = write!(pointer, "/{i}");
                    go(item, pointer, f);
                    pointer.truncate(len);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    if k.contains(['~', '/']) {
                        pointer.push_str(&escape_token(k));
                    } else {
                        pointer.push_str(k);
                    }
                    go(item, pointer, f);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    go(v, &mut String::new(), f);
}

/// A symbolic reference found in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefSite {
    pub pointer: String,
    pub value: String,
    /// `group`, `user`, `scopeTag`, …
    pub target: &'static str,
    /// The name, or the id of an unresolved reference.
    pub name: String,
    /// `false` for `@group:?<id>`: the id could not be turned into a name (deleted, ambiguous).
    pub resolved: bool,
}

/// Every symbolic reference (`@group:Name`, `@group:?id`, …) in `v`.
pub fn refs(v: &Value) -> Vec<RefSite> {
    let mut out = Vec::new();
    for_each_string(v, &mut |pointer, s| {
        if let Some(r) = parse_symbolic(s) {
            let (target, name, resolved) = match r {
                SymbolicRef::Name(t, n) => (t, n, true),
                SymbolicRef::Unresolved(t, id) => (t, id, false),
            };
            out.push(RefSite {
                pointer: pointer.to_string(),
                value: s.to_string(),
                target: target.word(),
                name: name.to_string(),
                resolved,
            });
        }
    });
    out
}

/// A settings-catalog setting: where it is and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingSite<'a> {
    pub pointer: String,
    /// The choice, the simple value, the list of simple values, or the group collection.
    pub value: &'a Value,
}

/// The value of `definition_id` anywhere in a settings-catalog policy (top-level settings and
/// their children).
pub fn setting<'a>(doc: &'a Value, definition_id: &str) -> Option<SettingSite<'a>> {
    let settings = doc.get("settings")?.as_array()?;
    for (i, s) in settings.iter().enumerate() {
        let Some(instance) = s.get("settingInstance") else {
            continue;
        };
        let pointer = format!("/settings/{i}/settingInstance");
        if let Some(found) = find_instance(instance, definition_id, pointer) {
            return Some(found);
        }
    }
    None
}

/// The value part of one setting instance and its pointer.
pub fn instance_value(instance: &Value) -> Option<(&'static str, &Value)> {
    for key in [
        "choiceSettingValue",
        "simpleSettingValue",
        "simpleSettingCollectionValue",
        "groupSettingCollectionValue",
        "choiceSettingCollectionValue",
        "groupSettingValue",
    ] {
        if let Some(v) = instance.get(key) {
            let inner = match key {
                "choiceSettingValue" | "simpleSettingValue" => v.get("value").unwrap_or(v),
                _ => v,
            };
            return Some((key, inner));
        }
    }
    None
}

fn find_instance<'a>(
    instance: &'a Value,
    definition_id: &str,
    pointer: String,
) -> Option<SettingSite<'a>> {
    if instance.get("settingDefinitionId").and_then(Value::as_str) == Some(definition_id) {
        let (key, value) = instance_value(instance)?;
        return Some(SettingSite {
            pointer: format!("{pointer}/{key}"),
            value,
        });
    }
    // Children of a choice, or of each item of a group collection.
    if let Some(children) = instance
        .get("choiceSettingValue")
        .and_then(|c| c.get("children"))
        .and_then(Value::as_array)
    {
        for (i, child) in children.iter().enumerate() {
            let p = format!("{pointer}/choiceSettingValue/children/{i}");
            if let Some(found) = find_instance(child, definition_id, p) {
                return Some(found);
            }
        }
    }
    if let Some(items) = instance
        .get("groupSettingCollectionValue")
        .and_then(Value::as_array)
    {
        for (i, item) in items.iter().enumerate() {
            if let Some(children) = item.get("children").and_then(Value::as_array) {
                for (j, child) in children.iter().enumerate() {
                    let p = format!("{pointer}/groupSettingCollectionValue/{i}/children/{j}");
                    if let Some(found) = find_instance(child, definition_id, p) {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}

/// One assignment target of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSite {
    pub pointer: String,
    /// `allDevices`, `allLicensedUsers`, `group`, `exclusionGroup`, … (the `@odata.type`
    /// without `#microsoft.graph.` and `AssignmentTarget`).
    pub kind: String,
    /// The group reference for group targets.
    pub group: Option<String>,
    pub include: bool,
    pub filter: Option<String>,
    pub filter_type: Option<String>,
    pub intent: Option<String>,
}

impl TargetSite {
    /// All devices or all users: everyone the policy can reach.
    pub fn is_everyone(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "allDevices" | "allLicensedUsers" | "allUsers"
        )
    }
}

/// The assignment targets of a policy (`/assignments/*/target`).
pub fn targets(doc: &Value) -> Vec<TargetSite> {
    let Some(list) = doc.get("assignments").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    list.iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let t = a.get("target")?;
            let odata = t.get("@odata.type").and_then(Value::as_str).unwrap_or("");
            let kind = odata
                .strip_prefix(crate::policy::kinds::GRAPH_TYPE_PREFIX)
                .unwrap_or(odata)
                .trim_end_matches("AssignmentTarget")
                .to_string();
            Some(TargetSite {
                pointer: format!("/assignments/{i}"),
                include: !kind.starts_with("exclusion"),
                group: text(t.get("groupId")),
                filter: text(t.get("deviceAndAppManagementAssignmentFilterId")),
                filter_type: text(t.get("deviceAndAppManagementAssignmentFilterType")),
                intent: text(a.get("intent")),
                kind,
            })
        })
        .collect()
}

/// A possible secret in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    /// Byte range of the match.
    pub start: usize,
    pub end: usize,
    /// What it looks like: `private-key`, `password`, `connection-string`, …
    pub kind: &'static str,
    /// The first characters of the match, the rest masked: findings never repeat a secret.
    pub excerpt: String,
}

struct Detector {
    kind: &'static str,
    /// Each pattern starts with literals, so the regex engine finds candidates at memchr
    /// speed instead of running an automaton over every byte.
    pattern: &'static str,
    /// Capture group holding the secret value (0: the whole match).
    group: usize,
    /// The match must start a word (start of text, `;` or white space before it).
    word_start: bool,
    /// The pattern is written in lower case and runs over the text in ASCII lower case (same
    /// offsets): a case-insensitive search whose literals the regex engine can still use.
    lower: bool,
}

const DETECTORS: &[Detector] = &[
    Detector {
        kind: "private-key",
        pattern: r"-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----",
        group: 0,
        word_start: false,
        lower: false,
    },
    Detector {
        kind: "connection-string",
        pattern: r"(?:password|pwd)\s*=\s*([^;\s'\x22\\]{3,})",
        group: 1,
        word_start: true,
        lower: true,
    },
    Detector {
        kind: "storage-key",
        pattern: r"(?:accountkey|sharedaccesskey)\s*=\s*([a-z0-9+/=]{20,})",
        group: 1,
        word_start: false,
        lower: true,
    },
    Detector {
        kind: "sas-token",
        pattern: r"[?&]sig=([A-Za-z0-9%+/=]{20,})",
        group: 1,
        word_start: false,
        lower: false,
    },
    Detector {
        kind: "github-token",
        pattern: r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",
        group: 0,
        word_start: false,
        lower: false,
    },
    Detector {
        kind: "aws-access-key",
        pattern: r"\bAKIA[0-9A-Z]{16}\b",
        group: 0,
        word_start: false,
        lower: false,
    },
    Detector {
        kind: "slack-token",
        pattern: r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
        group: 0,
        word_start: false,
        lower: false,
    },
    Detector {
        kind: "jwt",
        pattern: r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        group: 0,
        word_start: false,
        lower: false,
    },
    Detector {
        kind: "url-credentials",
        pattern: r"://[^/\s:@'\x22]+:([^/\s:@'\x22]{3,})@",
        group: 1,
        word_start: false,
        lower: false,
    },
    Detector {
        kind: "password",
        // `$Password = "…"`, `PASSWORD='…'`, `"clientSecret": "…"`: a name ending in one of
        // these words, then `=` or `:`, then a quoted value.
        pattern: r#"(?:password|passwd|pwd|secret|apikey|api_key|accesskey|presharedkey|sharedkey|privatekey|token)\\?['"]?\s*[:=]\s*\\?['"]([^'"\\\s$%{}]{4,})\\?['"]"#,
        group: 1,
        word_start: false,
        lower: true,
    },
    Detector {
        kind: "password",
        // `-Password "…"` (a PowerShell parameter)
        pattern: r#"-(?:password|secret|token)\s+['"]([^'"\s$%{}]{4,})['"]"#,
        group: 1,
        word_start: false,
        lower: true,
    },
];

fn detectors() -> &'static Vec<Regex> {
    static D: OnceLock<Vec<Regex>> = OnceLock::new();
    D.get_or_init(|| {
        DETECTORS
            .iter()
            .map(|d| Regex::new(d.pattern).expect("valid detector"))
            .collect()
    })
}

/// Values that only stand for a secret: placeholders, masks, variables.
fn is_placeholder(value: &[u8]) -> bool {
    let s = String::from_utf8_lossy(value);
    s.starts_with(crate::policy::normalize::SECRET_PREFIX)
        || s.chars().all(|c| c == '*')
        || s.starts_with('<')
        || s.eq_ignore_ascii_case("null")
        || s.eq_ignore_ascii_case("true")
        || s.eq_ignore_ascii_case("false")
}

fn mask(value: &[u8]) -> String {
    let s = String::from_utf8_lossy(value);
    let shown: String = s.chars().take(4).collect();
    format!("{shown}…")
}

/// Possible secrets in `text` (a script body, or a whole JSON document as stored).
pub fn scan_secrets(text: &[u8]) -> Vec<SecretHit> {
    let mut hits: Vec<SecretHit> = Vec::new();
    let lower = text.to_ascii_lowercase();
    for (d, re) in DETECTORS.iter().zip(detectors()) {
        let haystack: &[u8] = if d.lower { &lower } else { text };
        for caps in re.captures_iter(haystack) {
            let Some(found) = caps.get(d.group) else {
                continue;
            };
            // The value as written (the lower-case copy has the same offsets).
            let m = &text[found.start()..found.end()];
            let start = caps.get(0).map_or(0, |w| w.start());
            if d.word_start
                && start > 0
                && !matches!(text[start - 1], b';' | b' ' | b'\t' | b'\n' | b'\r' | b'"')
            {
                continue;
            }
            if is_placeholder(m) {
                continue;
            }
            // One hit per place: a later detector does not repeat an earlier one.
            if hits
                .iter()
                .any(|h| h.start < found.end() && found.start() < h.end)
            {
                continue;
            }
            hits.push(SecretHit {
                start: found.start(),
                end: found.end(),
                kind: d.kind,
                excerpt: mask(m),
            });
        }
    }
    hits.sort_by_key(|h| h.start);
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(text: &str) -> Vec<&'static str> {
        scan_secrets(text.as_bytes())
            .iter()
            .map(|h| h.kind)
            .collect()
    }

    #[test]
    fn finds_credentials_and_ignores_placeholders() {
        assert_eq!(
            kinds("$Password = \"Winter2026!\"\nWrite-Host ok"),
            ["password"]
        );
        assert_eq!(kinds("API_TOKEN='abcd1234efgh'"), ["password"]);
        assert_eq!(
            kinds("Server=sql1;Database=x;User Id=sa;Password=S3cr3t!;"),
            ["connection-string"]
        );
        assert_eq!(
            kinds(
                "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=q83nD0ZQ2dk3mN9v0aQ6d1LwB3x7YtZk+Q==;"
            ),
            ["storage-key"]
        );
        assert_eq!(
            kinds("-----BEGIN RSA PRIVATE KEY-----\\nMIIE"),
            ["private-key"]
        );
        assert_eq!(
            kinds("git clone https://deploy:hunter22@git.example.com/x"),
            ["url-credentials"]
        );
        assert_eq!(
            kinds("token ghp_0123456789abcdefghij0123456789abcdef"),
            ["github-token"]
        );
        assert_eq!(
            kinds(r#"  "preSharedKey": "Contoso-Guest-2026!","#),
            ["password"]
        );
        // Placeholders, variables and booleans are not secrets.
        assert!(
            kinds(r#""preSharedKey": "@secret:device-configurations/x/preSharedKey""#).is_empty()
        );
        assert!(kinds("$Password = Read-Host -AsSecureString").is_empty());
        assert!(kinds("$password = \"$env:SVC_PASSWORD\"").is_empty());
        assert!(
            kinds(r#""passwordRequired": true, "passwordRequiredType": "deviceDefault""#)
                .is_empty()
        );
        assert!(kinds(r#""value": "****""#).is_empty());
        // The excerpt never repeats the secret.
        let h = &scan_secrets(b"$Password = \"Winter2026!\"")[0];
        assert_eq!(h.excerpt, "Wint…");
    }

    #[test]
    fn walks_strings_refs_settings_and_targets() {
        let doc = json!({
            "name": "X",
            "assignments": [
                {"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}},
                {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "@group:?abc"}}
            ],
            "settings": [{"settingInstance": {
                "settingDefinitionId": "parent",
                "choiceSettingValue": {"value": "parent_1", "children": [
                    {"settingDefinitionId": "child", "simpleSettingValue": {"value": 5}}
                ]}
            }}]
        });
        let t = targets(&doc);
        assert_eq!(t.len(), 2);
        assert!(t[0].is_everyone() && t[0].include);
        assert_eq!(t[1].kind, "exclusionGroup");
        assert!(!t[1].include);
        let r = refs(&doc);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].pointer, "/assignments/1/target/groupId");
        assert!(!r[0].resolved);
        assert_eq!(r[0].name, "abc");
        let s = setting(&doc, "child").unwrap();
        assert_eq!(s.value, &json!(5));
        assert_eq!(
            s.pointer,
            "/settings/0/settingInstance/choiceSettingValue/children/0/simpleSettingValue"
        );
        assert_eq!(doc.pointer(&s.pointer).unwrap()["value"], 5);
        assert_eq!(setting(&doc, "parent").unwrap().value, "parent_1");
        assert!(setting(&doc, "missing").is_none());
        let mut n = 0;
        for_each_string(&doc, &mut |_, _| n += 1);
        assert_eq!(n, 7);
    }
}
