//! What the simulated tenant holds and how Graph serves it: the collections (their API
//! versions, navigation properties, what a list may `$expand`, what a list leaves out), the
//! objects, seeding from a folder of Graph responses, and a synthetic tenant of any size.
//!
//! This table is the simulator's own, written from Graph's metadata and documentation, not
//! taken from the client's kinds registry: tests check the client against it.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What `POST …/{id}/assign` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assign {
    None,
    /// 200 with the assignments (`{"value": [...]}`).
    Collection,
    /// 204 No Content.
    NoContent,
}

/// One collection Graph serves.
#[derive(Debug)]
pub struct CollectionDef {
    pub path: &'static str,
    pub versions: &'static [&'static str],
    /// Entity type (for messages and audit events).
    pub type_name: &'static str,
    /// Collection-valued navigation properties, stored apart and returned only when expanded.
    pub navs: &'static [&'static str],
    /// Navigation properties a list request may `$expand` (returned whole).
    pub list_expand: &'static [&'static str],
    /// Properties a list returns as `null`: only a read by id carries them.
    pub list_omits: &'static [&'static str],
    pub assign: Assign,
    /// Entra ID (directory) rather than Intune: error codes differ.
    pub directory: bool,
    /// Conditional access: throttling sends no `Retry-After`.
    pub no_retry_after: bool,
}

const BOTH: &[&str] = &["beta", "v1.0"];
const BETA: &[&str] = &["beta"];

const fn intune(
    path: &'static str,
    versions: &'static [&'static str],
    type_name: &'static str,
    navs: &'static [&'static str],
    list_expand: &'static [&'static str],
    list_omits: &'static [&'static str],
    assign: Assign,
) -> CollectionDef {
    CollectionDef {
        path,
        versions,
        type_name,
        navs,
        list_expand,
        list_omits,
        assign,
        directory: false,
        no_retry_after: false,
    }
}

const fn entra(path: &'static str, type_name: &'static str, ca: bool) -> CollectionDef {
    CollectionDef {
        path,
        versions: BOTH,
        type_name,
        navs: &[],
        list_expand: &[],
        list_omits: &[],
        assign: Assign::None,
        directory: true,
        no_retry_after: ca,
    }
}

/// Every collection the simulator serves.
pub static COLLECTIONS: &[CollectionDef] = &[
    intune(
        "deviceManagement/configurationPolicies",
        BETA,
        "deviceManagementConfigurationPolicy",
        &["settings", "assignments"],
        &["assignments"],
        &[],
        Assign::Collection,
    ),
    intune(
        "deviceManagement/deviceConfigurations",
        BOTH,
        "deviceConfiguration",
        &["assignments"],
        &["assignments"],
        &[],
        Assign::Collection,
    ),
    intune(
        "deviceManagement/deviceCompliancePolicies",
        BOTH,
        "deviceCompliancePolicy",
        &["assignments", "scheduledActionsForRule"],
        &["assignments"],
        &[],
        Assign::Collection,
    ),
    entra(
        "identity/conditionalAccess/policies",
        "conditionalAccessPolicy",
        true,
    ),
    entra(
        "identity/conditionalAccess/namedLocations",
        "namedLocation",
        true,
    ),
    intune(
        "deviceAppManagement/iosManagedAppProtections",
        BOTH,
        "iosManagedAppProtection",
        &["apps", "assignments"],
        &["assignments"],
        &[],
        Assign::NoContent,
    ),
    intune(
        "deviceAppManagement/androidManagedAppProtections",
        BOTH,
        "androidManagedAppProtection",
        &["apps", "assignments"],
        &["assignments"],
        &[],
        Assign::NoContent,
    ),
    intune(
        "deviceAppManagement/windowsManagedAppProtections",
        BETA,
        "windowsManagedAppProtection",
        &["apps", "assignments"],
        &["assignments"],
        &[],
        Assign::NoContent,
    ),
    intune(
        "deviceManagement/deviceManagementScripts",
        BETA,
        "deviceManagementScript",
        &["assignments"],
        &["assignments"],
        &["scriptContent"],
        Assign::NoContent,
    ),
    intune(
        "deviceManagement/deviceShellScripts",
        BETA,
        "deviceShellScript",
        &["assignments"],
        &["assignments"],
        &["scriptContent"],
        Assign::NoContent,
    ),
    intune(
        "deviceManagement/deviceHealthScripts",
        BETA,
        "deviceHealthScript",
        &["assignments"],
        &["assignments"],
        &["detectionScriptContent", "remediationScriptContent"],
        Assign::NoContent,
    ),
    intune(
        "deviceManagement/assignmentFilters",
        BETA,
        "deviceAndAppManagementAssignmentFilter",
        &[],
        &[],
        &[],
        Assign::None,
    ),
    intune(
        "deviceManagement/roleScopeTags",
        BETA,
        "roleScopeTag",
        &["assignments"],
        &["assignments"],
        &[],
        Assign::Collection,
    ),
    intune(
        "deviceManagement/deviceEnrollmentConfigurations",
        BOTH,
        "deviceEnrollmentConfiguration",
        &["assignments"],
        &["assignments"],
        &[],
        Assign::NoContent,
    ),
    intune(
        "deviceManagement/groupPolicyConfigurations",
        BETA,
        "groupPolicyConfiguration",
        &["assignments", "definitionValues"],
        &["assignments"],
        &[],
        Assign::Collection,
    ),
    intune(
        "deviceManagement/notificationMessageTemplates",
        BOTH,
        "notificationMessageTemplate",
        &["localizedNotificationMessages"],
        &[],
        &[],
        Assign::None,
    ),
    entra("groups", "group", false),
    entra("users", "user", false),
];

/// Navigation properties inside the items of a navigation property, returned only when the
/// request expands them (`definitionValues($expand=definition,presentationValues(...))`).
pub const NESTED: &[(&str, &[&str])] = &[
    ("definitionValues", &["definition", "presentationValues"]),
    ("presentationValues", &["presentation"]),
    (
        "scheduledActionsForRule",
        &["scheduledActionConfigurations"],
    ),
];

impl CollectionDef {
    /// The largest `$top` this collection honours beyond the default page, if any: Entra's
    /// `users` and `groups` page 100 by default and up to 999 with `$top`.
    pub fn max_top(&self) -> Option<usize> {
        matches!(self.path, "users" | "groups").then_some(999)
    }
}

pub fn nested_of(nav: &str) -> &'static [&'static str] {
    NESTED
        .iter()
        .find(|(n, _)| *n == nav)
        .map_or(&[], |(_, v)| *v)
}

pub fn collection(path: &str) -> Option<&'static CollectionDef> {
    COLLECTIONS.iter().find(|c| c.path == path)
}

/// The collection a seed folder (a collection's last path segment) holds.
pub fn collection_for_folder(folder: &str) -> Option<&'static CollectionDef> {
    COLLECTIONS
        .iter()
        .find(|c| c.path.rsplit('/').next() == Some(folder))
}

/// One object: its properties and its navigation collections.
#[derive(Debug, Clone, Default)]
pub struct Obj {
    pub base: Map<String, Value>,
    pub navs: BTreeMap<String, Vec<Value>>,
}

impl Obj {
    /// Split a Graph object into properties and navigations, dropping OData annotations other
    /// than `@odata.type`.
    pub fn from_graph(def: &CollectionDef, value: Value) -> Option<Obj> {
        let Value::Object(map) = value else {
            return None;
        };
        let mut o = Obj::default();
        for nav in def.navs {
            o.navs.insert((*nav).to_string(), Vec::new());
        }
        for (k, v) in map {
            if k.contains('@') && k != "@odata.type" {
                continue;
            }
            if def.navs.contains(&k.as_str()) {
                if let Value::Array(items) = v {
                    o.navs.insert(k, items);
                }
                continue;
            }
            o.base.insert(k, v);
        }
        Some(o)
    }

    pub fn id(&self) -> Option<&str> {
        self.base.get("id").and_then(Value::as_str)
    }
}

/// The objects of one collection, in insertion order.
#[derive(Debug, Default, Clone)]
pub struct Coll {
    pub order: Vec<String>,
    pub objs: HashMap<String, Obj>,
}

impl Coll {
    pub fn insert(&mut self, obj: Obj) -> Option<()> {
        let id = obj.id()?.to_string();
        if self.objs.insert(id.clone(), obj).is_none() {
            self.order.push(id);
        }
        Some(())
    }

    pub fn remove(&mut self, id: &str) -> Option<Obj> {
        let o = self.objs.remove(id)?;
        self.order.retain(|x| x != id);
        Some(o)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// A whole tenant.
#[derive(Debug, Default, Clone)]
pub struct Tenant {
    pub colls: BTreeMap<&'static str, Coll>,
    /// `deviceManagement/auditEvents`, oldest first.
    pub audit: Vec<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{path}: {message}")]
    Bad { path: String, message: String },
}

impl Tenant {
    pub fn empty() -> Tenant {
        let mut t = Tenant::default();
        for c in COLLECTIONS {
            t.colls.insert(c.path, Coll::default());
        }
        t
    }

    pub fn coll(&self, path: &str) -> &Coll {
        self.colls
            .get(path)
            .expect("every collection exists in a tenant")
    }

    pub fn coll_mut(&mut self, path: &str) -> &mut Coll {
        self.colls
            .get_mut(path)
            .expect("every collection exists in a tenant")
    }

    /// Add one seed file's content (an object or a `{"value": [...]}` list) to `def`.
    pub fn add_graph_value(
        &mut self,
        def: &'static CollectionDef,
        value: Value,
        origin: &str,
    ) -> Result<usize, SeedError> {
        let bad = |message: &str| SeedError::Bad {
            path: origin.to_string(),
            message: message.to_string(),
        };
        let items = match value {
            Value::Object(mut map)
                if map.get("value").is_some_and(Value::is_array) && !map.contains_key("id") =>
            {
                match map.remove("value") {
                    Some(Value::Array(items)) => items,
                    _ => unreachable!("checked above"),
                }
            }
            v @ Value::Object(_) => vec![v],
            _ => return Err(bad("expected a JSON object or a {\"value\": [...]} list")),
        };
        let n = items.len();
        for item in items {
            let obj =
                Obj::from_graph(def, item).ok_or_else(|| bad("a list item is not an object"))?;
            self.coll_mut(def.path)
                .insert(obj)
                .ok_or_else(|| bad("an object without an id"))?;
        }
        Ok(n)
    }

    /// A tenant from a folder of Graph responses: `<collection>/<file>.json`, the folder
    /// named after the collection's last path segment (as `examples/tenants/<env>/`).
    pub fn from_folder(dir: &Path) -> Result<Tenant, SeedError> {
        let mut files = Vec::new();
        collect_json(dir, &mut files).map_err(|e| SeedError::Bad {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
        if files.is_empty() {
            return Err(SeedError::Bad {
                path: dir.display().to_string(),
                message: "no .json files: a seed is a folder of Graph responses, <collection>/<name>.json".into(),
            });
        }
        let mut t = Tenant::empty();
        for path in files {
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let folder = rel
                .parent()
                .and_then(|p| p.file_name())
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let origin = path.display().to_string();
            let Some(def) = collection_for_folder(&folder) else {
                tracing::warn!(
                    "{origin}: folder {folder:?} is not a collection the simulator serves; ignored"
                );
                continue;
            };
            let bytes = std::fs::read(&path).map_err(|e| SeedError::Bad {
                path: origin.clone(),
                message: e.to_string(),
            })?;
            let value = crate::policy::decode::parse_json(&bytes).map_err(|e| SeedError::Bad {
                path: origin.clone(),
                message: e.to_string(),
            })?;
            t.add_graph_value(def, value, &origin)?;
        }
        Ok(t)
    }

    /// One of the built-in demo tenants (`dev`, `prod`).
    pub fn builtin(env: &str) -> Result<Tenant, SeedError> {
        let mut t = Tenant::empty();
        let mut any = false;
        for (rel, bytes) in crate::seed::files(env) {
            any = true;
            let folder = rel.split('/').next().unwrap_or("");
            let Some(def) = collection_for_folder(folder) else {
                continue;
            };
            let value = crate::policy::decode::parse_json(bytes).map_err(|e| SeedError::Bad {
                path: rel.to_string(),
                message: e.to_string(),
            })?;
            t.add_graph_value(def, value, rel)?;
        }
        if !any {
            return Err(SeedError::Bad {
                path: env.to_string(),
                message: "no built-in tenant of that name (there are: dev, prod)".into(),
            });
        }
        Ok(t)
    }

    /// Objects of every collection, for counts.
    pub fn count(&self) -> usize {
        self.colls.values().map(Coll::len).sum()
    }

    /// A tenant of about `policies` policies, cloned round-robin from this tenant's policies
    /// (everything but the directory: groups, users, scope tags, filters, named locations and
    /// notification templates are kept as they are, so references still resolve). Each clone
    /// gets a new id and a numbered name; the mix of kinds follows this tenant's.
    pub fn synthetic(&self, policies: usize) -> Tenant {
        const KEEP: &[&str] = &[
            "groups",
            "users",
            "deviceManagement/roleScopeTags",
            "deviceManagement/assignmentFilters",
            "identity/conditionalAccess/namedLocations",
            "deviceManagement/notificationMessageTemplates",
        ];
        let mut out = Tenant::empty();
        let mut templates: Vec<(&'static str, &Obj)> = Vec::new();
        for (path, coll) in &self.colls {
            if KEEP.contains(path) {
                *out.coll_mut(path) = coll.clone();
                continue;
            }
            for id in &coll.order {
                templates.push((path, &coll.objs[id]));
            }
        }
        if templates.is_empty() {
            return out;
        }
        for n in 0..policies {
            let (path, template) = templates[n % templates.len()];
            let mut o = template.clone();
            let id = format!("{:08x}-5e00-4000-8000-{:012x}", n / templates.len() + 1, n);
            o.base.insert("id".into(), Value::String(id.clone()));
            for field in ["displayName", "name"] {
                if let Some(Value::String(name)) = o.base.get_mut(field) {
                    *name = format!("{name} #{:05}", n + 1);
                }
            }
            for items in o.navs.values_mut() {
                for item in items.iter_mut() {
                    if let Some(Value::String(sub)) = item.get_mut("id") {
                        *sub = format!("{sub}-{n}");
                    }
                }
            }
            out.coll_mut(path).insert(o);
        }
        out
    }
}

fn collect_json(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if p.is_dir() {
            collect_json(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    Ok(())
}
