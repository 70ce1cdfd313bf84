//! Export folders written by other tools, and folders of Graph responses.

use super::detect::{Detected, detect};
use super::{Loaded, SourceError, Taint};
use crate::policy::kinds::{self, Kind, RefTarget};
use crate::policy::refs::{self, Directory};
use crate::policy::{decode, normalize};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Which tool wrote the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// An IntuneCD backup: one folder per kind, names instead of ids, no ids at all.
    IntuneCd,
    /// An IntuneManagement export: full OData metadata, UTF-16, `MigrationTable.json`.
    IntuneManagement,
    /// A tree of Graph responses (objects or `{"value": [...]}` lists).
    Graph,
}

impl Flavor {
    pub fn name(self) -> &'static str {
        match self {
            Flavor::IntuneCd => "intunecd",
            Flavor::IntuneManagement => "intunemanagement",
            Flavor::Graph => "graph",
        }
    }
}

/// One file of the source.
#[derive(Debug, Clone)]
pub struct Unit {
    pub path: PathBuf,
    /// Path relative to the source root, `/`-separated: what reports show.
    pub rel: String,
    /// The kind the file's folder stands for.
    pub hint: Option<&'static Kind>,
    /// Set when the file is known not to be a policy before reading it.
    pub skip: Option<String>,
    /// The skipped file may hold policies of `hint` (a YAML backup, say): that kind is left as
    /// it is rather than replaced without them.
    pub skip_blocks: bool,
}

/// A folder of exported policies.
pub struct FolderSource {
    pub root: PathBuf,
    pub flavor: Flavor,
    pub units: Vec<Unit>,
}

/// IntuneCD folder names (relative to the backup root) and the kinds they hold.
const INTUNECD_FOLDERS: &[(&str, &str)] = &[
    ("Settings Catalog", "settings-catalog"),
    ("Device Configurations", "device-configurations"),
    ("Compliance Policies/Policies", "compliance-policies"),
    (
        "Compliance Policies/Message Templates",
        "notification-templates",
    ),
    ("Compliance Policies", "compliance-policies"),
    ("App Protection", "app-protection"),
    ("Scripts/Powershell", "powershell-scripts"),
    ("Scripts/PowerShell", "powershell-scripts"),
    ("Scripts/Shell", "shell-scripts"),
    ("Proactive Remediations", "remediation-scripts"),
    ("Filters", "assignment-filters"),
    ("Scope Tags", "scope-tags"),
    ("Enrollment Configurations", "enrollment-configurations"),
    (
        "Enrollment Profiles/Windows/ESP",
        "enrollment-configurations",
    ),
    ("Group Policy Configurations", "group-policy"),
    ("Conditional Access", "conditional-access"),
];

/// IntuneManagement folder names and the kinds they hold.
const INTUNEMANAGEMENT_FOLDERS: &[(&str, &str)] = &[
    ("SettingsCatalog", "settings-catalog"),
    ("DeviceConfiguration", "device-configurations"),
    ("CompliancePolicies", "compliance-policies"),
    ("ConditionalAccess", "conditional-access"),
    ("NamedLocations", "named-locations"),
    ("AppProtection", "app-protection"),
    ("PowerShellScripts", "powershell-scripts"),
    ("Scripts", "powershell-scripts"),
    ("MacScripts", "shell-scripts"),
    ("HealthScripts", "remediation-scripts"),
    ("ProactiveRemediations", "remediation-scripts"),
    ("AssignmentFilters", "assignment-filters"),
    ("ScopeTags", "scope-tags"),
    ("EnrollmentRestrictions", "enrollment-configurations"),
    ("EnrollmentStatusPage", "enrollment-configurations"),
    ("AdministrativeTemplates", "group-policy"),
    ("Notifications", "notification-templates"),
    ("Groups", "groups"),
];

const MIGRATION_TABLE: &str = "MigrationTable.json";

fn kind(name: &str) -> &'static Kind {
    kinds::by_name(name).expect("folder tables name registered kinds")
}

/// The kind a Graph-flavoured folder name stands for: a kind name or a collection's last segment.
fn graph_folder_kind(name: &str) -> Option<&'static Kind> {
    kinds::by_name(name).or_else(|| {
        kinds::KINDS.iter().copied().find(|k| {
            k.collections
                .iter()
                .any(|c| c.path.rsplit('/').next() == Some(name))
        })
    })
}

fn non_json_reason(flavor: Flavor, name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".md") {
        "documentation, not a policy".to_string()
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        "YAML backups are not supported: back up with JSON output (IntuneCD: -o json)".to_string()
    } else if flavor != Flavor::Graph
        && (lower.ends_with(".ps1") || lower.ends_with(".sh") || lower.ends_with(".mobileconfig"))
    {
        "a copy of a body the policy's JSON file already carries".to_string()
    } else {
        "not a JSON file".to_string()
    }
}

impl FolderSource {
    /// Open `dir` as an export of `flavor`, listing its files. Fails when the folder is not
    /// such an export.
    pub fn open(flavor: Flavor, dir: &Path) -> Result<FolderSource, SourceError> {
        let meta = std::fs::metadata(dir).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => SourceError::NotAnExport {
                path: dir.display().to_string(),
                message: "no such folder; pass the folder the export was written to".into(),
            },
            _ => SourceError::Io {
                path: dir.display().to_string(),
                source,
            },
        })?;
        if !meta.is_dir() {
            return Err(SourceError::NotAnExport {
                path: dir.display().to_string(),
                message: "not a folder; pass the folder the export was written to".into(),
            });
        }
        let root = locate_root(flavor, dir)?;
        let mut files = Vec::new();
        list(&root, "", &mut files)?;
        files.sort_by(|a, b| a.1.cmp(&b.1));
        let mut units = Vec::new();
        for (path, rel) in files {
            let name = rel.rsplit('/').next().unwrap_or(&rel).to_string();
            let is_json = name.to_ascii_lowercase().ends_with(".json");
            let (hint, skip) = match flavor {
                Flavor::IntuneCd => {
                    let folder = INTUNECD_FOLDERS
                        .iter()
                        .filter(|(f, _)| rel.starts_with(&format!("{f}/")))
                        .max_by_key(|(f, _)| f.len());
                    match folder {
                        Some((_, k)) => (Some(kind(k)), None),
                        None => {
                            let top = rel.split('/').next().unwrap_or("");
                            let reason = if rel.contains('/') {
                                format!("folder {top:?} holds no kind TenantGate manages")
                            } else {
                                "not in a policy folder".to_string()
                            };
                            (None, Some(reason))
                        }
                    }
                }
                Flavor::IntuneManagement => {
                    let top = rel.split('/').next().unwrap_or("");
                    let hint = INTUNEMANAGEMENT_FOLDERS
                        .iter()
                        .find(|(f, _)| *f == top && rel.contains('/'))
                        .map(|(_, k)| kind(k));
                    (hint, None)
                }
                Flavor::Graph => {
                    let hint = rel.rsplit('/').skip(1).find_map(graph_folder_kind);
                    (hint, None)
                }
            };
            // What a non-JSON file is says more than the folder it sits in.
            let lower = name.to_ascii_lowercase();
            let skip_blocks =
                !is_json && hint.is_some() && (lower.ends_with(".yaml") || lower.ends_with(".yml"));
            let skip = if is_json {
                skip
            } else {
                Some(non_json_reason(flavor, &name))
            };
            units.push(Unit {
                path,
                rel,
                hint,
                skip,
                skip_blocks,
            });
        }
        if flavor == Flavor::Graph && !units.iter().any(|u| u.skip.is_none()) {
            return Err(SourceError::NotAnExport {
                path: dir.display().to_string(),
                message:
                    "no .json file in this folder: a Graph export is a folder of JSON responses"
                        .into(),
            });
        }
        Ok(FolderSource {
            root,
            flavor,
            units,
        })
    }

    /// A label for commit trailers and reports: `intunecd:<parent>/<folder>`, the last two
    /// parts of the export's path (enough to recognise it, without a home directory).
    pub fn label(&self) -> String {
        let abs = self
            .root
            .canonicalize()
            .unwrap_or_else(|_| self.root.clone());
        let parts: Vec<String> = abs
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let tail = parts[parts.len().saturating_sub(2)..].join("/");
        format!("{}:{}", self.flavor.name(), tail)
    }

    /// Directory data for references, read from every file that has some, in parallel. The
    /// second value lists files read only for that (a migration table).
    pub fn directory(&self) -> (Directory, Vec<Loaded>) {
        let mut dir = Directory::new();
        let mut used = Vec::new();
        if self.flavor == Flavor::IntuneCd {
            return (dir, used);
        }
        let peeks: Vec<(usize, Vec<PeekEntry>)> = self
            .units
            .par_iter()
            .enumerate()
            // A file in the folder of a kind that names nothing (settings catalog, say) holds
            // no directory object: skip reading it twice.
            .filter(|(_, u)| {
                u.skip.is_none()
                    && !u.rel.eq_ignore_ascii_case(MIGRATION_TABLE)
                    && u.hint.is_none_or(|k| k.directory.is_some())
            })
            .map(|(i, u)| (i, peek_file(u)))
            .collect();
        for (i, entries) in peeks {
            let origin = &self.units[i].rel;
            for e in entries {
                dir.insert(e.target, &e.id, &e.name, origin, false);
            }
        }
        if self.flavor == Flavor::IntuneManagement
            && let Some(u) = self
                .units
                .iter()
                .find(|u| u.rel.eq_ignore_ascii_case(MIGRATION_TABLE))
        {
            used.push(read_migration_table(u, &mut dir));
        }
        (dir, used)
    }

    /// Read one file: the policies it holds, or why it was skipped.
    pub fn load(&self, unit: &Unit) -> Vec<Loaded> {
        if let Some(reason) = &unit.skip {
            let taint = match unit.hint {
                Some(k) if unit.skip_blocks => Taint::Kind(k),
                _ => Taint::None,
            };
            return vec![Loaded::Skipped {
                origin: unit.rel.clone(),
                reason: reason.clone(),
                taint,
            }];
        }
        if self.flavor == Flavor::IntuneManagement && unit.rel.eq_ignore_ascii_case(MIGRATION_TABLE)
        {
            // Read in `directory()`.
            return Vec::new();
        }
        let unreadable = |reason: String| Loaded::Skipped {
            origin: unit.rel.clone(),
            reason,
            taint: unit.hint.map_or(Taint::All, Taint::Kind),
        };
        let bytes = match std::fs::read(&unit.path) {
            Ok(b) => b,
            Err(e) => return vec![unreadable(format!("cannot read: {e}"))],
        };
        let value = match decode::parse_json(&bytes) {
            Ok(v) => v,
            Err(e) => return vec![unreadable(e.to_string())],
        };
        let Value::Object(mut obj) = value else {
            return vec![unreadable(
                "expected a JSON object or a {\"value\": [...]} list".into(),
            )];
        };
        let context = obj
            .get("@odata.context")
            .and_then(Value::as_str)
            .map(str::to_string);
        if obj.get("value").is_some_and(Value::is_array) && !obj.contains_key("id") {
            let Some(Value::Array(items)) = obj.remove("value") else {
                unreachable!("checked above")
            };
            let mut out = Vec::with_capacity(items.len() + 1);
            let list_kind = match context
                .as_deref()
                .map(|c| detect(Some(c), None, None, unit.hint))
            {
                Some(Detected::Kind(k)) => Some(k),
                Some(Detected::SubResource(what)) => {
                    return vec![Loaded::Skipped {
                        origin: unit.rel.clone(),
                        reason: format!(
                            "a list of {what}, not policies: export policies with $expand"
                        ),
                        taint: Taint::None,
                    }];
                }
                _ => unit.hint,
            };
            // One page of a paged list is not the whole kind.
            if obj.get("@odata.nextLink").is_some_and(|l| !l.is_null()) {
                return vec![Loaded::Skipped {
                    origin: unit.rel.clone(),
                    reason: "one page of a paged list (@odata.nextLink is set): export every page into one list".into(),
                    taint: list_kind.map_or(Taint::All, Taint::Kind),
                }];
            }
            if let Some(k) = list_kind {
                out.push(Loaded::Held(k));
            }
            for (i, item) in items.into_iter().enumerate() {
                let origin = format!("{}#{}", unit.rel, i);
                out.push(self.classify(item, context.as_deref(), list_kind.or(unit.hint), origin));
            }
            return out;
        }
        vec![self.classify(Value::Object(obj), None, unit.hint, unit.rel.clone())]
    }

    fn classify(
        &self,
        value: Value,
        list_context: Option<&str>,
        hint: Option<&'static Kind>,
        origin: String,
    ) -> Loaded {
        let Value::Object(obj) = &value else {
            return Loaded::Skipped {
                origin,
                reason: "list item is not a JSON object".into(),
                taint: hint.map_or(Taint::All, Taint::Kind),
            };
        };
        let own_context = obj.get("@odata.context").and_then(Value::as_str);
        let odata_type = obj.get("@odata.type").and_then(Value::as_str);
        let detected = match self.flavor {
            // IntuneCD writes no context; its folder is the kind, and a type only confirms it.
            Flavor::IntuneCd => match (hint, odata_type.map(|t| detect(None, None, Some(t), None)))
            {
                (Some(h), Some(Detected::Kind(k))) if k.name != h.name => {
                    Detected::NotManaged(format!(
                        "@odata.type {} is a {} object, not {}",
                        odata_type.unwrap_or_default(),
                        k.name,
                        h.name
                    ))
                }
                (Some(h), Some(Detected::NotManaged(reason))) if h.root_types.is_empty() => {
                    Detected::NotManaged(reason)
                }
                (Some(h), _) => Detected::Kind(h),
                (None, _) => detect(None, None, odata_type, None),
            },
            _ => detect(own_context, list_context, odata_type, hint),
        };
        match detected {
            Detected::Kind(k) => {
                let mut value = value;
                if self.flavor == Flavor::IntuneCd {
                    adapt_intunecd(k, &mut value);
                }
                Loaded::Object {
                    kind: k,
                    value,
                    origin,
                }
            }
            Detected::User => Loaded::Used {
                origin,
                what: "a user, read for references".into(),
            },
            Detected::NotManaged(reason) => Loaded::Skipped {
                origin,
                reason,
                taint: Taint::None,
            },
            Detected::SubResource(what) => Loaded::Skipped {
                origin,
                reason: format!("part of {what}, not a policy"),
                taint: Taint::None,
            },
        }
    }
}

/// Find the folder that really is the export: `dir` itself, or its only sub-folder that looks
/// like one (IntuneCD's `Backup/`, IntuneManagement's `Config/`).
fn locate_root(flavor: Flavor, dir: &Path) -> Result<PathBuf, SourceError> {
    let looks_like = |d: &Path| -> bool {
        match flavor {
            Flavor::IntuneCd => INTUNECD_FOLDERS
                .iter()
                .any(|(f, _)| d.join(f.split('/').next().unwrap_or(f)).is_dir()),
            Flavor::IntuneManagement => {
                d.join(MIGRATION_TABLE).is_file()
                    || INTUNEMANAGEMENT_FOLDERS
                        .iter()
                        .any(|(f, _)| d.join(f).is_dir())
            }
            Flavor::Graph => true,
        }
    };
    if looks_like(dir) {
        return Ok(dir.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && looks_like(&p) {
                candidates.push(p);
            }
        }
    }
    if candidates.len() == 1 {
        return Ok(candidates.remove(0));
    }
    let expected = match flavor {
        Flavor::IntuneCd => {
            "an IntuneCD backup has folders such as \"Settings Catalog\", \"Device Configurations\" or \"Compliance Policies\""
        }
        Flavor::IntuneManagement => {
            "an IntuneManagement export has MigrationTable.json or folders such as \"ConditionalAccess\", \"SettingsCatalog\" or \"DeviceConfiguration\""
        }
        Flavor::Graph => "",
    };
    Err(SourceError::NotAnExport {
        path: dir.display().to_string(),
        message: format!(
            "this is not an export of --from {}: {expected}; check --from and the folder",
            flavor.name()
        ),
    })
}

fn list(dir: &Path, rel: &str, out: &mut Vec<(PathBuf, String)>) -> Result<(), SourceError> {
    let mut above = Vec::new();
    list_below(dir, rel, &mut above, out)
}

/// `list` of `dir`, where `above` holds the real paths of the folders being listed around it:
/// a symbolic link back to one of them is a loop.
fn list_below(
    dir: &Path,
    rel: &str,
    above: &mut Vec<PathBuf>,
    out: &mut Vec<(PathBuf, String)>,
) -> Result<(), SourceError> {
    let real = dir.canonicalize().map_err(|source| SourceError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    if above.contains(&real) {
        return Err(SourceError::NotAnExport {
            path: dir.display().to_string(),
            message: format!(
                "a symbolic link back to {} (a loop); remove the link or point it elsewhere",
                real.display()
            ),
        });
    }
    above.push(real);
    let entries = std::fs::read_dir(dir).map_err(|source| SourceError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| SourceError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        // Follow symbolic links to files and folders the way a user sees them.
        let meta = std::fs::metadata(&path).map_err(|source| SourceError::Io {
            path: path.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            list_below(&path, &child, above, out)?;
        } else if meta.is_file() {
            out.push((path, child));
        }
    }
    above.pop();
    Ok(())
}

/// IntuneCD spells references by name (`groupName` in targets, scope tag and filter names);
/// turn them into symbolic references and drop the fields only IntuneCD adds.
fn adapt_intunecd(kind: &'static Kind, value: &mut Value) {
    if let Some(Value::Array(assignments)) = value.get_mut("assignments") {
        for a in assignments {
            let Some(Value::Object(target)) = a.get_mut("target") else {
                continue;
            };
            if let Some(Value::String(name)) = target.remove("groupName") {
                let has_id = target
                    .get("groupId")
                    .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()));
                if !has_id {
                    target.insert(
                        "groupId".into(),
                        Value::String(refs::symbolic(RefTarget::Group, &name)),
                    );
                }
            }
            target.remove("groupType");
            target.remove("membershipRule");
        }
    }
    normalize::visit_refs(kind, value, &mut |target, s| {
        let is_id = refs::is_guid(s)
            || (target == RefTarget::ScopeTag
                && !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit()));
        if s.is_empty()
            || is_id
            || target.well_known().contains(&s.as_str())
            || refs::parse_symbolic(s).is_some()
        {
            return;
        }
        *s = refs::symbolic(target, s);
    });
}

#[derive(Deserialize)]
struct Peek {
    #[serde(rename = "@odata.context")]
    context: Option<String>,
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: Option<Value>,
    #[serde(rename = "displayName")]
    display_name: Option<Value>,
    #[serde(rename = "userPrincipalName")]
    upn: Option<Value>,
    value: Option<Vec<PeekItem>>,
}

#[derive(Deserialize)]
struct PeekItem {
    #[serde(rename = "@odata.context")]
    context: Option<String>,
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    id: Option<Value>,
    #[serde(rename = "displayName")]
    display_name: Option<Value>,
    #[serde(rename = "userPrincipalName")]
    upn: Option<Value>,
}

struct PeekEntry {
    target: RefTarget,
    id: String,
    name: String,
}

fn peek_entry(
    context: Option<&str>,
    list_context: Option<&str>,
    odata_type: Option<&str>,
    hint: Option<&'static Kind>,
    id: Option<&Value>,
    display_name: Option<&Value>,
    upn: Option<&Value>,
) -> Option<PeekEntry> {
    let id = id?.as_str()?.to_string();
    match detect(context, list_context, odata_type, hint) {
        Detected::User => Some(PeekEntry {
            target: RefTarget::User,
            id,
            name: upn?.as_str()?.to_string(),
        }),
        Detected::Kind(k) => Some(PeekEntry {
            target: k.directory?,
            id,
            name: display_name?.as_str()?.to_string(),
        }),
        _ => None,
    }
}

/// The directory entries a file holds, read without building the whole document. Files that
/// cannot be read give none here; `load` reports them.
fn peek_file(unit: &Unit) -> Vec<PeekEntry> {
    let Ok(bytes) = std::fs::read(&unit.path) else {
        return Vec::new();
    };
    let Ok((text, _)) = decode::decode_text(&bytes) else {
        return Vec::new();
    };
    let Ok(p) = serde_json::from_str::<Peek>(&text) else {
        return Vec::new();
    };
    match p.value {
        Some(items) if p.id.is_none() => items
            .iter()
            .filter_map(|i| {
                peek_entry(
                    i.context.as_deref(),
                    p.context.as_deref(),
                    i.odata_type.as_deref(),
                    unit.hint,
                    i.id.as_ref(),
                    i.display_name.as_ref(),
                    i.upn.as_ref(),
                )
            })
            .collect(),
        _ => peek_entry(
            p.context.as_deref(),
            None,
            p.odata_type.as_deref(),
            unit.hint,
            p.id.as_ref(),
            p.display_name.as_ref(),
            p.upn.as_ref(),
        )
        .into_iter()
        .collect(),
    }
}

#[derive(Deserialize)]
struct MigrationTable {
    #[serde(rename = "Objects", default)]
    objects: Vec<MigrationObject>,
}

#[derive(Deserialize)]
struct MigrationObject {
    #[serde(rename = "DisplayName")]
    display_name: Option<String>,
    #[serde(rename = "Id")]
    id: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
}

/// IntuneManagement's migration table: ids of the source tenant and their names. It wins over
/// names found elsewhere in the export.
fn read_migration_table(unit: &Unit, dir: &mut Directory) -> Loaded {
    let origin = unit.rel.clone();
    let bytes = match std::fs::read(&unit.path) {
        Ok(b) => b,
        Err(e) => {
            return Loaded::Skipped {
                origin,
                reason: format!("cannot read: {e}"),
                taint: Taint::All,
            };
        }
    };
    let text = match decode::decode_text(&bytes) {
        Ok((t, _)) => t,
        Err(e) => {
            return Loaded::Skipped {
                origin,
                reason: e.to_string(),
                taint: Taint::All,
            };
        }
    };
    // Syntax and duplicate keys first, with the messages policy files get.
    if let Err(e) = decode::parse_text(&text) {
        return Loaded::Skipped {
            origin,
            reason: e.to_string(),
            taint: Taint::All,
        };
    }
    let table: MigrationTable = match serde_json::from_str(&text) {
        Ok(t) => t,
        Err(e) => {
            return Loaded::Skipped {
                origin,
                reason: format!(
                    "line {}, column {}: not a migration table: {}",
                    e.line(),
                    e.column().max(1),
                    decode::message_of(&e)
                ),
                taint: Taint::All,
            };
        }
    };
    let mut used = 0;
    for o in &table.objects {
        let (Some(id), Some(name), Some(t)) = (&o.id, &o.display_name, &o.kind) else {
            continue;
        };
        let target = match t.to_ascii_lowercase().as_str() {
            "group" => RefTarget::Group,
            "user" => RefTarget::User,
            "namedlocation" | "namedlocations" => RefTarget::NamedLocation,
            "scopetag" | "rolescopetag" => RefTarget::ScopeTag,
            "assignmentfilter" | "filter" => RefTarget::Filter,
            "notificationmessagetemplate" | "notificationtemplate" => {
                RefTarget::NotificationTemplate
            }
            _ => continue,
        };
        dir.insert(target, id, name, &origin, true);
        used += 1;
    }
    Loaded::Used {
        origin,
        what: format!("migration table: {used} names read for references"),
    }
}
