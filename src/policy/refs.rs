//! Symbolic references: tenant-specific ids become `@group:<displayName>` and the like, so one
//! policy has the same bytes in DEV and PROD. The [`Directory`] holds whatever names the source
//! knows (Graph look-ups, an export's group files, a migration table).

use super::kinds::RefTarget;
use std::collections::HashMap;

/// How an id turned out when looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Name(String),
    /// No name known for the id.
    Unresolved,
    /// The name is shared by several objects of the tenant: applying it would be a guess.
    Ambiguous(String),
}

/// A directory conflict worth reporting: two sources disagree about one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub target: RefTarget,
    pub id: String,
    pub kept: String,
    pub kept_from: String,
    pub dropped: String,
    pub dropped_from: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} is named {:?} in {} but {:?} in {}; kept {:?}",
            self.target.word(),
            self.id,
            self.kept,
            self.kept_from,
            self.dropped,
            self.dropped_from,
            self.kept
        )
    }
}

#[derive(Debug, Default, Clone)]
struct Entries {
    /// id -> (name, where it came from, authoritative)
    by_id: HashMap<String, (String, String, bool)>,
    /// lower-cased name -> number of ids carrying it
    name_count: HashMap<String, usize>,
}

/// Names of the directory objects policies refer to, per reference target.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    entries: HashMap<RefTarget, Entries>,
    conflicts: Vec<Conflict>,
}

impl Directory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Record that `id` is named `name`, as told by `origin`. An `authoritative` source (a
    /// migration table) wins over others; a conflict is recorded either way.
    pub fn insert(
        &mut self,
        target: RefTarget,
        id: &str,
        name: &str,
        origin: &str,
        authoritative: bool,
    ) {
        let entries = self.entries.entry(target).or_default();
        match entries.by_id.get(id).cloned() {
            Some((old, old_from, old_auth)) => {
                if old == name {
                    if authoritative && !old_auth {
                        entries
                            .by_id
                            .insert(id.to_string(), (old, origin.to_string(), true));
                    }
                    return;
                }
                let replace = authoritative && !old_auth;
                let (kept, kept_from, dropped, dropped_from) = if replace {
                    (name.to_string(), origin.to_string(), old.clone(), old_from)
                } else {
                    (old.clone(), old_from, name.to_string(), origin.to_string())
                };
                self.conflicts.push(Conflict {
                    target,
                    id: id.to_string(),
                    kept: kept.clone(),
                    kept_from: kept_from.clone(),
                    dropped,
                    dropped_from,
                });
                if replace {
                    dec(&mut entries.name_count, &old);
                    *entries.name_count.entry(name.to_lowercase()).or_default() += 1;
                    entries
                        .by_id
                        .insert(id.to_string(), (kept, kept_from, authoritative));
                }
            }
            None => {
                *entries.name_count.entry(name.to_lowercase()).or_default() += 1;
                entries.by_id.insert(
                    id.to_string(),
                    (name.to_string(), origin.to_string(), authoritative),
                );
            }
        }
    }

    /// The name of `id`, if known and unambiguous.
    pub fn resolve(&self, target: RefTarget, id: &str) -> Resolution {
        let Some(entries) = self.entries.get(&target) else {
            return Resolution::Unresolved;
        };
        match entries.by_id.get(id) {
            None => Resolution::Unresolved,
            Some((name, _, _)) => {
                if entries
                    .name_count
                    .get(&name.to_lowercase())
                    .copied()
                    .unwrap_or(0)
                    > 1
                {
                    Resolution::Ambiguous(name.clone())
                } else {
                    Resolution::Name(name.clone())
                }
            }
        }
    }

    /// Conflicts seen while filling the directory.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// How many ids are known for `target`.
    pub fn len(&self, target: RefTarget) -> usize {
        self.entries.get(&target).map_or(0, |e| e.by_id.len())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.values().all(|e| e.by_id.is_empty())
    }
}

fn dec(counts: &mut HashMap<String, usize>, name: &str) {
    if let Some(n) = counts.get_mut(&name.to_lowercase()) {
        *n = n.saturating_sub(1);
    }
}

/// `@group:<name>`.
pub fn symbolic(target: RefTarget, name: &str) -> String {
    format!("@{}:{}", target.word(), name)
}

/// `@group:?<id>`: an id that could not be turned into a name.
pub fn unresolved(target: RefTarget, id: &str) -> String {
    format!("@{}:?{}", target.word(), id)
}

/// A parsed symbolic reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolicRef<'a> {
    Name(RefTarget, &'a str),
    Unresolved(RefTarget, &'a str),
}

/// Parse `@word:name` or `@word:?id`.
pub fn parse_symbolic(s: &str) -> Option<SymbolicRef<'_>> {
    let rest = s.strip_prefix('@')?;
    let (word, value) = rest.split_once(':')?;
    let target = RefTarget::ALL.into_iter().find(|t| t.word() == word)?;
    Some(match value.strip_prefix('?') {
        Some(id) => SymbolicRef::Unresolved(target, id),
        None => SymbolicRef::Name(target, value),
    })
}

/// The built-in scope tag's id in every tenant.
pub const DEFAULT_SCOPE_TAG_ID: &str = "0";

/// Turn one reference value into its canonical form. Symbolic values and well-known ones stay;
/// ids are resolved through `dir`.
pub fn convert(target: RefTarget, value: &str, dir: &Directory) -> String {
    if value.is_empty() || parse_symbolic(value).is_some() || target.well_known().contains(&value) {
        return value.to_string();
    }
    if target == RefTarget::ScopeTag && value == DEFAULT_SCOPE_TAG_ID {
        return symbolic(target, "Default");
    }
    match dir.resolve(target, value) {
        Resolution::Name(name) => symbolic(target, &name),
        Resolution::Unresolved | Resolution::Ambiguous(_) => unresolved(target, value),
    }
}

/// Does `s` look like a GUID (8-4-4-4-12 hex)?
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_flags_ambiguity_and_unknown_ids() {
        let mut d = Directory::new();
        d.insert(RefTarget::Group, "g1", "Finance", "Groups/a.json", false);
        d.insert(RefTarget::Group, "g2", "Sales", "Groups/b.json", false);
        d.insert(RefTarget::Group, "g3", "sales", "Groups/c.json", false);
        assert_eq!(convert(RefTarget::Group, "g1", &d), "@group:Finance");
        assert_eq!(convert(RefTarget::Group, "g2", &d), "@group:?g2");
        assert_eq!(convert(RefTarget::Group, "g9", &d), "@group:?g9");
        assert_eq!(convert(RefTarget::User, "All", &d), "All");
        assert_eq!(convert(RefTarget::ScopeTag, "0", &d), "@scopeTag:Default");
        assert_eq!(
            convert(RefTarget::Group, "@group:Finance", &d),
            "@group:Finance"
        );
        assert_eq!(convert(RefTarget::Group, "@group:?g9", &d), "@group:?g9");
    }

    #[test]
    fn authoritative_source_wins_a_conflict_and_it_is_reported() {
        let mut d = Directory::new();
        d.insert(RefTarget::Group, "g1", "Old name", "Groups/x.json", false);
        d.insert(
            RefTarget::Group,
            "g1",
            "New name",
            "MigrationTable.json",
            true,
        );
        d.insert(RefTarget::Group, "g1", "Third", "Groups/y.json", false);
        assert_eq!(
            d.resolve(RefTarget::Group, "g1"),
            Resolution::Name("New name".into())
        );
        assert_eq!(d.conflicts().len(), 2);
        assert_eq!(d.conflicts()[0].kept, "New name");
        assert_eq!(d.conflicts()[0].dropped, "Old name");
        assert_eq!(d.conflicts()[1].kept, "New name");
        // The replaced name no longer counts towards ambiguity.
        d.insert(RefTarget::Group, "g2", "Old name", "Groups/z.json", false);
        assert_eq!(
            d.resolve(RefTarget::Group, "g2"),
            Resolution::Name("Old name".into())
        );
    }

    #[test]
    fn parses_symbolic_references() {
        assert_eq!(
            parse_symbolic("@group:A:B"),
            Some(SymbolicRef::Name(RefTarget::Group, "A:B"))
        );
        assert_eq!(
            parse_symbolic("@namedLocation:?abc"),
            Some(SymbolicRef::Unresolved(RefTarget::NamedLocation, "abc"))
        );
        assert_eq!(parse_symbolic("@nope:x"), None);
        assert_eq!(parse_symbolic("group:x"), None);
        assert!(is_guid("2802b872-ccfb-4b29-a9a9-459808dfb11b"));
        assert!(!is_guid("2802b872-ccfb-4b29-a9a9-459808dfb11"));
    }
}
