//! Properties of the canonical form: normalising is idempotent over every fixture and over
//! generated documents, and a full-metadata export and a minimal Graph response of one policy
//! come out byte-identical.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tenantgate::policy::canonical::to_canonical;
use tenantgate::policy::decode::parse_json;
use tenantgate::policy::kinds::{KINDS, Kind, RefTarget};
use tenantgate::policy::normalize::{Mode, name_secrets, normalize};
use tenantgate::policy::refs::Directory;
use tenantgate::source::{Flavor, FolderSource, Loaded};

/// Normalise as an import does (secrets named with a fixed slug) and return canonical bytes.
fn canonical(kind: &'static Kind, value: Value, mode: Mode<'_>) -> Vec<u8> {
    let mut n = normalize(kind, value, mode).expect("normalises");
    name_secrets(&mut n, "slug", &Default::default());
    to_canonical(&n.doc)
}

fn assert_idempotent(kind: &'static Kind, value: Value, dir: &Directory, what: &str) {
    for mode in [Mode::Source(dir), Mode::Format] {
        let Ok(first) = normalize(kind, value.clone(), mode) else {
            return;
        };
        let _ = first;
        let once = canonical(kind, value.clone(), mode);
        let again = canonical(
            kind,
            parse_json(&once).expect("canonical bytes parse"),
            mode,
        );
        assert_eq!(
            String::from_utf8_lossy(&once),
            String::from_utf8_lossy(&again),
            "{what} ({}) is not a fixed point",
            kind.name
        );
    }
}

fn objects(flavor: Flavor, dir: &std::path::Path) -> Vec<(&'static Kind, Value, String)> {
    let src = FolderSource::open(flavor, dir).expect("opens");
    let mut out = Vec::new();
    for u in &src.units {
        for l in src.load(u) {
            if let Loaded::Object {
                kind,
                value,
                origin,
            } = l
            {
                out.push((kind, value, origin));
            }
        }
    }
    out
}

#[test]
fn normalize_is_idempotent_over_every_fixture() {
    let mut dir = Directory::new();
    dir.insert(
        RefTarget::Group,
        "6f1c2b8e-9a43-4a6e-8d1f-0b7c3e5a9d21",
        "SG-Pilot",
        "test",
        false,
    );
    let seed = tempfile::tempdir().unwrap();
    let mut count = 0;
    for (flavor, path) in [
        (Flavor::IntuneCd, intunecd_corpus()),
        (Flavor::IntuneManagement, intunemanagement_corpus()),
        (Flavor::Graph, fixtures().join("metadata")),
    ] {
        for (kind, value, origin) in objects(flavor, &path) {
            assert_idempotent(kind, value, &dir, &origin);
            count += 1;
        }
    }
    for (env, _) in tenantgate::seed::ENVIRONMENTS {
        tenantgate::seed::extract(env, &seed.path().join(env)).unwrap();
        for (kind, value, origin) in objects(Flavor::Graph, &seed.path().join(env)) {
            assert_idempotent(kind, value, &dir, &origin);
            count += 1;
        }
    }
    assert!(count > 300, "only {count} fixture objects");
}

#[test]
fn full_and_minimal_metadata_give_the_same_bytes() {
    let mut dir = Directory::new();
    dir.insert(
        RefTarget::Group,
        "6f1c2b8e-9a43-4a6e-8d1f-0b7c3e5a9d21",
        "SG-Pilot",
        "test",
        false,
    );
    dir.insert(
        RefTarget::Filter,
        "3e2d1c0b-5a49-4b8e-9f7d-6c5b4a392817",
        "FLT-Corporate",
        "test",
        false,
    );
    dir.insert(
        RefTarget::NotificationTemplate,
        "9a8b7c6d-1234-4e5f-8a9b-0c1d2e3f4a5b",
        "Warn users",
        "test",
        false,
    );
    dir.insert(RefTarget::ScopeTag, "1", "EMEA", "test", false);
    for (full, minimal, kind) in [
        (
            "compliance-full.json",
            "compliance-minimal.json",
            "compliance-policies",
        ),
        (
            "settings-full.json",
            "settings-minimal.json",
            "settings-catalog",
        ),
    ] {
        let kind = tenantgate::policy::kinds::by_name(kind).unwrap();
        let read = |f: &str| {
            parse_json(&std::fs::read(fixtures().join("metadata").join(f)).unwrap()).unwrap()
        };
        let a = canonical(kind, read(full), Mode::Source(&dir));
        let b = canonical(kind, read(minimal), Mode::Source(&dir));
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "{full} vs {minimal}"
        );
        let text = String::from_utf8(a).unwrap();
        assert!(!text.contains("@odata.context") && !text.contains("#microsoft.graph.assign"));
        assert!(text.contains("@group:SG-Pilot"), "{text}");
    }
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id".to_string()),
        Just("displayName".to_string()),
        Just("name".to_string()),
        Just("version".to_string()),
        Just("@odata.type".to_string()),
        Just("@odata.context".to_string()),
        Just("value@odata.type".to_string()),
        Just("#microsoft.graph.assign".to_string()),
        Just("assignments".to_string()),
        Just("target".to_string()),
        Just("groupId".to_string()),
        Just("roleScopeTagIds".to_string()),
        Just("settings".to_string()),
        Just("settingInstance".to_string()),
        Just("settingDefinitionId".to_string()),
        Just("children".to_string()),
        Just("preSharedKey".to_string()),
        Just("omaSettings".to_string()),
        Just("isEncrypted".to_string()),
        Just("value".to_string()),
        Just("conditions".to_string()),
        Just("users".to_string()),
        Just("includeGroups".to_string()),
        Just("excludeUsers".to_string()),
        Just("scheduledActionsForRule".to_string()),
        Just("apps".to_string()),
        "[a-zA-Z~/é]{1,8}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
        Just(json!("6f1c2b8e-9a43-4a6e-8d1f-0b7c3e5a9d21")),
        Just(json!("All")),
        Just(json!("0")),
        Just(json!("#microsoft.graph.groupAssignmentTarget")),
        Just(json!("@group:?abc")),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn document() -> impl Strategy<Value = Value> {
    let leaf = scalar();
    let tree = leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    (prop::collection::btree_map(key(), tree, 0..8), "\\PC{1,10}").prop_map(|(m, name)| {
        let mut obj: Map<String, Value> = m.into_iter().collect();
        obj.insert("displayName".into(), Value::String(name.clone()));
        obj.insert("name".into(), Value::String(name));
        Value::Object(obj)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn normalize_is_idempotent_over_generated_documents(doc in document(), k in 0..KINDS.len()) {
        let mut dir = Directory::new();
        dir.insert(RefTarget::Group, "6f1c2b8e-9a43-4a6e-8d1f-0b7c3e5a9d21", "SG-Pilot", "test", false);
        assert_idempotent(KINDS[k], doc, &dir, "generated document");
    }

    /// Lint's read-only check says "normal" exactly when Format-mode normalisation changes
    /// nothing, and the canonical writer's positions equal the computed ones.
    #[test]
    fn is_normal_and_position_of_agree_with_the_writer(doc in document(), k in 0..KINDS.len()) {
        use tenantgate::policy::canonical::{position_of, to_canonical_with_positions};
        let kind = KINDS[k];
        let normalised = normalize(kind, doc.clone(), Mode::Format).expect("has a name").doc;
        prop_assert_eq!(tenantgate::policy::normalize::is_normal(kind, &doc), normalised == doc);
        prop_assert!(tenantgate::policy::normalize::is_normal(kind, &normalised));
        let (_, positions) = to_canonical_with_positions(&normalised);
        fn all(v: &Value, p: String, out: &mut Vec<String>) {
            out.push(p.clone());
            match v {
                Value::Object(m) => {
                    for (k, c) in m {
                        all(c, format!("{p}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        all(c, format!("{p}/{i}"), out);
                    }
                }
                _ => {}
            }
        }
        let mut pointers = Vec::new();
        all(&normalised, String::new(), &mut pointers);
        for p in pointers {
            prop_assert_eq!(Some(position_of(&normalised, &p)), positions.get(&p), "{}", p);
        }
    }
}
