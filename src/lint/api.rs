//! What rules see: `policy` (a read-only view of the document whose fields become Rhai values
//! when read) and `ctx` (the environment, the file, `[lint.settings]` and native helpers), and
//! how their answers become findings.

use super::facts::{self, Entry};
use super::finding::Severity;
use super::natives;
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

fn rt_err(message: impl Into<String>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from(message.into()), rhai::Position::NONE).into()
}

/// A JSON value as a Rhai value: objects become maps, arrays arrays, `null` becomes `()`.
pub fn to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Dynamic::from(ImmutableString::from(s.as_str())),
        Value::Array(items) => Dynamic::from_array(items.iter().map(to_dynamic).collect()),
        Value::Object(map) => {
            let mut m = Map::new();
            for (k, v) in map {
                m.insert(k.as_str().into(), to_dynamic(v));
            }
            Dynamic::from_map(m)
        }
    }
}

/// Loads a document on first use (environment rules see every policy; few are read).
pub type LoadFn = Arc<dyn Fn() -> Result<Arc<Value>, String> + Send + Sync>;

struct ViewInner {
    doc: OnceLock<Result<Arc<Value>, String>>,
    load: Option<LoadFn>,
}

/// A read-only view of a policy document.
#[derive(Clone)]
pub struct PolicyView(Arc<ViewInner>);

impl PolicyView {
    pub fn loaded(doc: Arc<Value>) -> PolicyView {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(doc));
        PolicyView(Arc::new(ViewInner {
            doc: cell,
            load: None,
        }))
    }

    pub fn lazy(load: LoadFn) -> PolicyView {
        PolicyView(Arc::new(ViewInner {
            doc: OnceLock::new(),
            load: Some(load),
        }))
    }

    fn doc(&self) -> RhaiResult<&Value> {
        let r = self.0.doc.get_or_init(|| match &self.0.load {
            Some(load) => load(),
            None => Err("no document".into()),
        });
        match r {
            Ok(v) => Ok(v),
            Err(e) => Err(rt_err(format!("reading the policy: {e}"))),
        }
    }
}

/// A script side file of a policy.
#[derive(Debug, Clone)]
pub struct Side {
    /// Repository-relative path.
    pub path: String,
    /// Suffix after the slug (`.ps1`, `.detection.ps1`, …).
    pub suffix: &'static str,
    pub bytes: Arc<[u8]>,
}

/// How long a value has been what it is now, from Git history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Age {
    pub days: i64,
    /// `YYYY-MM-DD` of the commit that set it (as far back as history goes).
    pub since: String,
    /// `false` when history was cut (a shallow clone): the value is at least this old.
    pub complete: bool,
}

/// Answers `ctx.value_age(pointer)`.
pub trait History: Send + Sync {
    fn value_age(&self, path: &str, pointer: &str, current: &Value) -> Option<Age>;
}

/// What is known about the whole environment.
pub struct EnvData {
    pub env: String,
    pub entries: Vec<Entry>,
    /// Names of directory objects (groups, scope tags, filters, …) by reference word, lower
    /// case; a word is absent when its kind is not exported in this environment.
    pub directory: HashMap<&'static str, HashSet<String>>,
    pub history: Option<Arc<dyn History>>,
    /// At most this many conflicts are reported.
    pub conflict_limit: usize,
    /// Pull-request and staged mode: the changed policy files, which environment helpers
    /// focus on (their findings are the ones kept).
    pub focus: Option<HashSet<String>>,
    /// Kinds this environment keeps in the repository (`ctx.manages(kind)`): kinds it holds a
    /// policy of, and for the head in pull-request and staged mode also the kinds the base
    /// held, so that a change deleting every policy of a kind is judged instead of looking
    /// unexported.
    pub managed: HashSet<&'static str>,
}

/// The document a per-policy rule runs on.
pub struct PolicyDoc {
    pub value: Arc<Value>,
    /// The file as stored.
    pub bytes: Arc<[u8]>,
    pub sides: Vec<Side>,
}

pub struct CtxInner {
    pub env: Arc<EnvData>,
    pub settings: Dynamic,
    /// Per-policy rules: the file, its kind and name, and the document.
    pub path: String,
    pub kind: String,
    pub name: String,
    pub doc: Option<PolicyDoc>,
    /// Environment rules: the kinds the rule declared (`None`: every kind).
    pub kinds: Option<Vec<&'static str>>,
}

/// `ctx`.
#[derive(Clone)]
pub struct Ctx(pub Arc<CtxInner>);

impl Ctx {
    fn doc(&self) -> RhaiResult<&PolicyDoc> {
        self.0.doc.as_ref().ok_or_else(|| {
            rt_err("this helper works on one policy: call it from check(policy, ctx)")
        })
    }

    fn kind_ok(&self, kind: &str) -> bool {
        self.0.kinds.as_ref().is_none_or(|ks| ks.contains(&kind))
    }
}

fn str_map(pairs: Vec<(&str, Dynamic)>) -> Dynamic {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.into(), v);
    }
    Dynamic::from_map(m)
}

fn s(v: impl AsRef<str>) -> Dynamic {
    Dynamic::from(ImmutableString::from(v.as_ref()))
}

fn opt(v: &Option<String>) -> Dynamic {
    v.as_ref().map_or(Dynamic::UNIT, s)
}

thread_local! {
    static REGEXES: std::cell::RefCell<HashMap<String, Result<regex::Regex, String>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// `matches(text, pattern)`: does the regular expression match (anywhere; anchor with ^ $)?
fn regex_matches(text: &str, pattern: &str) -> RhaiResult<bool> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 512 {
            cache.clear();
        }
        let re = cache.entry(pattern.to_string()).or_insert_with(|| {
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| e.to_string())
        });
        match re {
            Ok(re) => Ok(re.is_match(text)),
            Err(e) => Err(rt_err(format!(
                "invalid regular expression {pattern:?}: {e}"
            ))),
        }
    })
}

/// Does the file start with a byte-order mark or look like UTF-16 (plain UTF-8 is read as is)?
pub fn needs_decoding(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xEF\xBB\xBF")
        || bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || (bytes.len() >= 2 && bytes[1] == 0)
}

/// A file as text: UTF-16 and byte-order marks decoded (PowerShell often saves UTF-16), other
/// bytes read as UTF-8, invalid sequences replaced. Offsets, lines and columns of findings are
/// in this text, as an editor shows the file.
pub fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if needs_decoding(bytes)
        && let Ok((text, _)) = crate::policy::decode::decode_text(bytes)
    {
        return std::borrow::Cow::Owned(text);
    }
    String::from_utf8_lossy(bytes)
}

fn secret_maps(text: &str) -> Array {
    natives::scan_secrets(text.as_bytes())
        .into_iter()
        .map(|h| {
            let (line, column) = super::spans::line_col(text, h.start);
            str_map(vec![
                ("kind", s(h.kind)),
                ("excerpt", s(&h.excerpt)),
                ("line", Dynamic::from_int(line as i64)),
                ("column", Dynamic::from_int(column as i64)),
            ])
        })
        .collect()
}

fn entry_map(e: &Entry) -> Dynamic {
    let name_pointer = crate::policy::kinds::by_name(e.kind)
        .map_or_else(String::new, |k| format!("/{}", k.name_field));
    str_map(vec![
        ("path", s(&e.path)),
        ("kind", s(e.kind)),
        ("name", s(&e.facts.name)),
        ("name_pointer", s(&name_pointer)),
    ])
}

/// Register `Policy`, `Context` and the global helpers.
pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<PolicyView>("Policy")
        .register_indexer_get(|v: &mut PolicyView, key: &str| -> RhaiResult<Dynamic> {
            Ok(v.doc()?.get(key).map_or(Dynamic::UNIT, to_dynamic))
        })
        .register_fn(
            "contains",
            |v: &mut PolicyView, key: &str| -> RhaiResult<bool> { Ok(v.doc()?.get(key).is_some()) },
        )
        .register_fn("keys", |v: &mut PolicyView| -> RhaiResult<Array> {
            Ok(v.doc()?
                .as_object()
                .map(|m| m.keys().map(s).collect())
                .unwrap_or_default())
        })
        .register_fn(
            "get",
            |v: &mut PolicyView, pointer: &str| -> RhaiResult<Dynamic> {
                Ok(v.doc()?.pointer(pointer).map_or(Dynamic::UNIT, to_dynamic))
            },
        )
        .register_fn("to_map", |v: &mut PolicyView| -> RhaiResult<Dynamic> {
            Ok(to_dynamic(v.doc()?))
        })
        .register_fn("to_string", |v: &mut PolicyView| -> RhaiResult<String> {
            Ok(v.doc()?.to_string())
        })
        .register_fn("to_debug", |v: &mut PolicyView| -> RhaiResult<String> {
            Ok(v.doc()?.to_string())
        });

    engine
        .register_type_with_name::<Ctx>("Context")
        .register_get("env", |c: &mut Ctx| c.0.env.env.clone())
        .register_get("path", |c: &mut Ctx| c.0.path.clone())
        .register_get("kind", |c: &mut Ctx| c.0.kind.clone())
        .register_get("name", |c: &mut Ctx| c.0.name.clone())
        .register_get("settings", |c: &mut Ctx| c.0.settings.clone())
        .register_fn("get", |c: &mut Ctx, pointer: &str| -> RhaiResult<Dynamic> {
            Ok(c.doc()?
                .value
                .pointer(pointer)
                .map_or(Dynamic::UNIT, to_dynamic))
        })
        .register_fn("setting", |c: &mut Ctx, id: &str| -> RhaiResult<Dynamic> {
            Ok(match natives::setting(&c.doc()?.value, id) {
                None => Dynamic::UNIT,
                Some(site) => str_map(vec![
                    ("id", s(id)),
                    ("pointer", s(&site.pointer)),
                    ("value", to_dynamic(site.value)),
                ]),
            })
        })
        .register_fn("targets", |c: &mut Ctx| -> RhaiResult<Array> {
            Ok(natives::targets(&c.doc()?.value)
                .iter()
                .map(|t| {
                    str_map(vec![
                        ("pointer", s(&t.pointer)),
                        ("type", s(&t.kind)),
                        ("group", opt(&t.group)),
                        ("include", Dynamic::from_bool(t.include)),
                        ("everyone", Dynamic::from_bool(t.is_everyone())),
                        ("filter", opt(&t.filter)),
                        ("filter_type", opt(&t.filter_type)),
                        ("intent", opt(&t.intent)),
                    ])
                })
                .collect())
        })
        .register_fn("strings", |c: &mut Ctx| -> RhaiResult<Array> {
            let mut out = Array::new();
            natives::for_each_string(&c.doc()?.value, &mut |p, v| {
                out.push(str_map(vec![("pointer", s(p)), ("value", s(v))]));
            });
            Ok(out)
        })
        .register_fn("refs", |c: &mut Ctx| -> RhaiResult<Array> {
            let dir = &c.0.env.directory;
            Ok(natives::refs(&c.doc()?.value)
                .into_iter()
                .map(|r| {
                    let known = match dir.get(r.target) {
                        None => Dynamic::UNIT,
                        Some(names) => {
                            Dynamic::from_bool(r.resolved && names.contains(&r.name.to_lowercase()))
                        }
                    };
                    str_map(vec![
                        ("pointer", s(&r.pointer)),
                        ("value", s(&r.value)),
                        ("target", s(r.target)),
                        ("name", s(&r.name)),
                        ("resolved", Dynamic::from_bool(r.resolved)),
                        ("known", known),
                    ])
                })
                .collect())
        })
        .register_fn("secrets", |c: &mut Ctx| -> RhaiResult<Array> {
            let doc = c.doc()?;
            let mut out = Array::new();
            let text = text_of(&doc.bytes);
            let hits = natives::scan_secrets(text.as_bytes());
            if !hits.is_empty() {
                let spans = super::spans::Spans::scan(&text);
                for h in hits {
                    let pointer = spans
                        .as_ref()
                        .and_then(|sp| sp.pointer_at(h.start))
                        .unwrap_or("")
                        .to_string();
                    out.push(str_map(vec![
                        ("kind", s(h.kind)),
                        ("excerpt", s(&h.excerpt)),
                        ("pointer", s(pointer)),
                    ]));
                }
            }
            for side in &doc.sides {
                for mut hit in secret_maps(&text_of(&side.bytes)) {
                    if let Some(m) = hit.write_lock::<Map>().as_deref_mut() {
                        m.insert("file".into(), s(&side.path));
                    }
                    out.push(hit);
                }
            }
            Ok(out)
        })
        .register_fn("scripts", |c: &mut Ctx| -> RhaiResult<Array> {
            Ok(c.doc()?
                .sides
                .iter()
                .map(|side| {
                    str_map(vec![
                        ("file", s(&side.path)),
                        ("suffix", s(side.suffix)),
                        ("text", s(text_of(&side.bytes))),
                    ])
                })
                .collect())
        })
        .register_fn("script", |c: &mut Ctx| -> RhaiResult<Dynamic> {
            Ok(c.doc()?
                .sides
                .first()
                .map_or(Dynamic::UNIT, |side| s(text_of(&side.bytes))))
        })
        .register_fn(
            "value_age",
            |c: &mut Ctx, pointer: &str| -> RhaiResult<Dynamic> {
                let doc = c.doc()?;
                let Some(current) = doc.value.pointer(pointer) else {
                    return Ok(Dynamic::UNIT);
                };
                let Some(history) = &c.0.env.history else {
                    return Ok(Dynamic::UNIT);
                };
                Ok(match history.value_age(&c.0.path, pointer, current) {
                    None => Dynamic::UNIT,
                    Some(age) => str_map(vec![
                        ("days", Dynamic::from_int(age.days)),
                        ("since", s(&age.since)),
                        ("complete", Dynamic::from_bool(age.complete)),
                    ]),
                })
            },
        )
        .register_fn("known", |c: &mut Ctx, reference: &str| -> Dynamic {
            use crate::policy::refs::{SymbolicRef, parse_symbolic};
            match parse_symbolic(reference) {
                Some(SymbolicRef::Name(t, name)) => match c.0.env.directory.get(t.word()) {
                    Some(names) => Dynamic::from_bool(names.contains(&name.to_lowercase())),
                    None => Dynamic::UNIT,
                },
                Some(SymbolicRef::Unresolved(..)) => Dynamic::FALSE,
                None => Dynamic::UNIT,
            }
        })
        .register_fn("manages", |c: &mut Ctx, kind: &str| -> RhaiResult<bool> {
            match crate::policy::kinds::by_name(kind) {
                Some(k) => Ok(c.0.env.managed.contains(k.name)),
                None => Err(rt_err(format!("ctx.manages: {kind:?} is not a kind name"))),
            }
        })
        .register_fn("duplicates", |c: &mut Ctx| -> Array {
            let kinds = |k: &str| c.kind_ok(k);
            let focus = c.0.env.focus.as_ref();
            facts::duplicates(&c.0.env.entries, &kinds)
                .into_iter()
                .map(|mut group| {
                    // In a pull request the policies it changed come last: a rule that reports
                    // every member but the first reports on what the change brought in.
                    if let Some(focus) = focus {
                        group.sort_by_key(|e| focus.contains(&e.path));
                    }
                    Dynamic::from_array(group.into_iter().map(entry_map).collect())
                })
                .collect()
        })
        .register_fn("conflicts", |c: &mut Ctx| -> Array {
            let kinds = |k: &str| c.kind_ok(k);
            facts::conflicts(
                &c.0.env.entries,
                &kinds,
                c.0.env.conflict_limit,
                c.0.env.focus.as_ref(),
            )
            .into_iter()
            .map(|x| {
                let side = |(e, setting): (&Entry, &facts::SettingFact)| {
                    str_map(vec![
                        ("path", s(&e.path)),
                        ("name", s(&e.facts.name)),
                        ("kind", s(e.kind)),
                        ("pointer", s(&setting.pointer)),
                        ("value", s(&setting.display)),
                    ])
                };
                str_map(vec![
                    ("setting", s(x.setting)),
                    ("here", side(x.here)),
                    ("other", side(x.other)),
                    ("overlap", s(&x.overlap)),
                ])
            })
            .collect()
        });

    engine
        .register_fn("matches", regex_matches)
        .register_fn("find_secrets", |text: &str| secret_maps(text))
        .register_fn("parse_ref", |text: &str| -> Dynamic {
            use crate::policy::refs::{SymbolicRef, parse_symbolic};
            match parse_symbolic(text) {
                None => Dynamic::UNIT,
                Some(SymbolicRef::Name(t, n)) => str_map(vec![
                    ("target", s(t.word())),
                    ("name", s(n)),
                    ("resolved", Dynamic::TRUE),
                ]),
                Some(SymbolicRef::Unresolved(t, id)) => str_map(vec![
                    ("target", s(t.word())),
                    ("name", s(id)),
                    ("resolved", Dynamic::FALSE),
                ]),
            }
        });
}

/// A finding as a rule returned it, checked but not yet placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFinding {
    pub message: String,
    pub help: Option<String>,
    pub pointer: Option<String>,
    /// A repository-relative path (a side file of the policy, or any file of the environment
    /// for environment rules).
    pub path: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub severity: Option<Severity>,
    pub related: Vec<String>,
    /// `redact: true`: the finding's line holds a secret, never shown in snippets.
    pub redact: bool,
}

const FINDING_KEYS: &[&str] = &[
    "message", "help", "pointer", "file", "path", "line", "column", "severity", "related", "redact",
];

/// Check what `check`/`check_all` returned: an array of maps with at least a `message`.
pub fn findings_from(result: Dynamic) -> Result<Vec<RawFinding>, String> {
    if result.is_unit() {
        return Ok(Vec::new());
    }
    let type_name = result.type_name();
    let Some(items) = result.try_cast::<Array>() else {
        return Err(format!(
            "the rule returned {type_name}; return an array of findings such as [#{{ message: \"…\", pointer: \"/displayName\" }}] (or [] when all is well)"
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let type_name = item.type_name();
        let Some(map) = item.try_cast::<Map>() else {
            return Err(format!(
                "finding {i} is {type_name}, not a map such as #{{ message: \"…\" }}"
            ));
        };
        for key in map.keys() {
            if !FINDING_KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "finding {i} has an unknown field `{key}`; fields are {}",
                    FINDING_KEYS.join(", ")
                ));
            }
        }
        let text = |key: &str| -> Result<Option<String>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(v) if v.is_unit() => Ok(None),
                Some(v) => v
                    .clone()
                    .into_string()
                    .map(Some)
                    .map_err(|t| format!("finding {i}: `{key}` must be a string, not {t}")),
            }
        };
        let number = |key: &str| -> Result<Option<usize>, String> {
            match map.get(key) {
                None => Ok(None),
                Some(v) if v.is_unit() => Ok(None),
                Some(v) => match v.as_int() {
                    Ok(n) if n >= 1 => Ok(Some(n as usize)),
                    _ => Err(format!("finding {i}: `{key}` must be a number from 1")),
                },
            }
        };
        let message = text("message")?.ok_or_else(|| format!("finding {i} has no `message`"))?;
        let severity = match text("severity")? {
            None => None,
            Some(s) => Some(Severity::parse(&s).ok_or_else(|| {
                format!("finding {i}: severity {s:?} is not error, warning or info")
            })?),
        };
        let related = match map.get("related") {
            None => Vec::new(),
            Some(v) => match v.clone().try_cast::<Array>() {
                Some(list) => list
                    .into_iter()
                    .map(|x| {
                        x.into_string()
                            .map_err(|_| format!("finding {i}: `related` must list paths"))
                    })
                    .collect::<Result<_, _>>()?,
                None => return Err(format!("finding {i}: `related` must be an array of paths")),
            },
        };
        let redact = match map.get("redact") {
            None => false,
            Some(v) => v
                .as_bool()
                .map_err(|t| format!("finding {i}: `redact` must be true or false, not {t}"))?,
        };
        let pointer = text("pointer")?;
        if let Some(p) = &pointer
            && !p.is_empty()
            && !p.starts_with('/')
        {
            return Err(format!(
                "finding {i}: pointer {p:?} is not a JSON pointer (it starts with `/`)"
            ));
        }
        let path = match (text("file")?, text("path")?) {
            (Some(_), Some(_)) => {
                return Err(format!("finding {i}: give `file` or `path`, not both"));
            }
            (a, b) => a.or(b),
        };
        out.push(RawFinding {
            message,
            help: text("help")?,
            pointer,
            path,
            line: number("line")?,
            column: number("column")?,
            severity,
            related,
            redact,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_json_to_rhai_values() {
        let v = serde_json::json!({"a": [1, 2.5, null, true, "x"], "b": {}});
        let d = to_dynamic(&v);
        let m = d.cast::<Map>();
        let a = m["a"].clone().cast::<Array>();
        assert_eq!(a[0].as_int(), Ok(1));
        assert_eq!(a[1].as_float(), Ok(2.5));
        assert!(a[2].is_unit());
        assert_eq!(a[3].as_bool(), Ok(true));
        assert_eq!(a[4].clone().into_string().unwrap(), "x");
    }

    #[test]
    fn checks_what_rules_return() {
        let engine = {
            let mut e = Engine::new();
            register(&mut e);
            e
        };
        let ok = engine
            .eval::<Dynamic>(r#"[#{ message: "m", pointer: "/a", help: "h", severity: "info", related: ["x"] }]"#)
            .unwrap();
        let f = findings_from(ok).unwrap();
        assert_eq!(f[0].message, "m");
        assert_eq!(f[0].severity, Some(Severity::Info));
        assert_eq!(f[0].related, vec!["x".to_string()]);
        for (script, expected) in [
            ("42", "returned i64"),
            ("[1]", "not a map"),
            ("[#{ mesage: \"m\" }]", "unknown field `mesage`"),
            ("[#{ pointer: \"/a\" }]", "no `message`"),
            (
                "[#{ message: \"m\", pointer: \"a\" }]",
                "not a JSON pointer",
            ),
            (
                "[#{ message: \"m\", severity: \"fatal\" }]",
                "not error, warning or info",
            ),
            ("[#{ message: 5 }]", "must be a string"),
            ("[#{ message: \"m\", line: 0 }]", "number from 1"),
        ] {
            let d = engine.eval::<Dynamic>(script).unwrap();
            let e = findings_from(d).unwrap_err();
            assert!(e.contains(expected), "{script}: {e}");
        }
        assert!(findings_from(Dynamic::UNIT).unwrap().is_empty());
    }

    #[test]
    fn scripts_in_utf16_are_scanned_as_text() {
        let script = "Write-Host start\r\n$Password = \"Winter2026!\"\r\n";
        let mut utf16 = vec![0xFF, 0xFE];
        for u in script.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let text = text_of(&utf16);
        assert_eq!(text, script);
        let hits = secret_maps(&text);
        assert_eq!(hits.len(), 1);
        let m = hits[0].clone().cast::<Map>();
        assert_eq!(m["line"].as_int(), Ok(2));
        assert_eq!(m["column"].as_int(), Ok(14));
        // UTF-8 with a BOM: the BOM is not a column.
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(b"$Password = \"Winter2026!\"\n");
        let m = secret_maps(&text_of(&bom))[0].clone().cast::<Map>();
        assert_eq!(m["column"].as_int(), Ok(14));
    }

    #[test]
    fn regexes_are_checked() {
        assert!(regex_matches("WIN-SC-X", "^WIN-").unwrap());
        assert!(regex_matches("x", "(").is_err());
    }
}
