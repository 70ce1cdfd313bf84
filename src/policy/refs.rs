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

/// A directory conflict worth reporting: sources disagree about the name of one id. There is
/// one per id, stating the outcome once every source has been read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub target: RefTarget,
    pub id: String,
    /// The name references to the id use.
    pub kept: String,
    /// The sources that gave the kept name.
    pub kept_from: Vec<String>,
    /// Every other name, with the sources that gave it, in the order they were read.
    pub dropped: Vec<(String, Vec<String>)>,
    pub why: Why,
}

/// Why a conflict kept the name it kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// This source (a migration table) is authoritative and the others are not.
    Authoritative(String),
    /// Several sources of the same standing disagree: the first one read wins.
    First,
}

/// `"a"`, `"a and b"`, `"a, b and c"`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let others: Vec<String> = self
            .dropped
            .iter()
            .map(|(name, from)| format!("{name:?} in {}", and_list(from)))
            .collect();
        write!(
            f,
            "{} {} is named {:?} in {}, but {}; kept {:?} ",
            self.target.word(),
            self.id,
            self.kept,
            and_list(&self.kept_from),
            and_list(&others),
            self.kept
        )?;
        match &self.why {
            Why::Authoritative(from) => write!(f, "because {from} is authoritative"),
            Why::First => write!(f, "because it was read first"),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Entries {
    /// id -> (name, where it came from, authoritative)
    by_id: HashMap<String, (String, String, bool)>,
    /// lower-cased name -> number of ids carrying it
    name_count: HashMap<String, usize>,
    /// id -> its position in `Directory::disputes`
    disputed: HashMap<String, usize>,
}

/// Every name heard for an id that sources disagree about, in the order heard:
/// (name, origin, authoritative).
#[derive(Debug, Clone)]
struct Dispute {
    target: RefTarget,
    id: String,
    claims: Vec<(String, String, bool)>,
}

/// Names of the directory objects policies refer to, per reference target.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    entries: HashMap<RefTarget, Entries>,
    disputes: Vec<Dispute>,
}

impl Directory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Record that `id` is named `name`, as told by `origin`. An `authoritative` source (a
    /// migration table) wins over others; between sources of the same standing the first
    /// wins. Disagreements are kept for [`Directory::conflicts`].
    pub fn insert(
        &mut self,
        target: RefTarget,
        id: &str,
        name: &str,
        origin: &str,
        authoritative: bool,
    ) {
        let entries = self.entries.entry(target).or_default();
        let claim = || (name.to_string(), origin.to_string(), authoritative);
        if let Some(&d) = entries.disputed.get(id) {
            self.disputes[d].claims.push(claim());
        }
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
                if !entries.disputed.contains_key(id) {
                    entries.disputed.insert(id.to_string(), self.disputes.len());
                    self.disputes.push(Dispute {
                        target,
                        id: id.to_string(),
                        claims: vec![(old.clone(), old_from, old_auth), claim()],
                    });
                }
                if authoritative && !old_auth {
                    dec(&mut entries.name_count, &old);
                    *entries.name_count.entry(name.to_lowercase()).or_default() += 1;
                    entries.by_id.insert(id.to_string(), claim());
                }
            }
            None => {
                *entries.name_count.entry(name.to_lowercase()).or_default() += 1;
                entries.by_id.insert(id.to_string(), claim());
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

    /// The ids sources disagreed about, in the order the disagreements were found: for each,
    /// the name it ended up with and every name it was given, with their sources.
    pub fn conflicts(&self) -> Vec<Conflict> {
        self.disputes
            .iter()
            .filter_map(|d| {
                let (kept, kept_origin, kept_auth) =
                    self.entries.get(&d.target)?.by_id.get(&d.id)?;
                let mut names: Vec<(String, Vec<String>)> = Vec::new();
                for (name, origin, _) in &d.claims {
                    let i = match names.iter().position(|(n, _)| n == name) {
                        Some(i) => i,
                        None => {
                            names.push((name.clone(), Vec::new()));
                            names.len() - 1
                        }
                    };
                    if !names[i].1.contains(origin) {
                        names[i].1.push(origin.clone());
                    }
                }
                let kept_from = names
                    .iter()
                    .find(|(n, _)| n == kept)
                    .map_or_else(|| vec![kept_origin.clone()], |(_, from)| from.clone());
                let dropped: Vec<(String, Vec<String>)> =
                    names.into_iter().filter(|(n, _)| n != kept).collect();
                // An authoritative name only beats names of lesser standing; among several
                // authoritative names the first read wins.
                let rival_authority = d.claims.iter().any(|(n, _, auth)| *auth && n != kept);
                let why = if *kept_auth && !rival_authority {
                    Why::Authoritative(kept_origin.clone())
                } else {
                    Why::First
                };
                Some(Conflict {
                    target: d.target,
                    id: d.id.clone(),
                    kept: kept.clone(),
                    kept_from,
                    dropped,
                    why,
                })
            })
            .collect()
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
        // One conflict for the id, stating the final outcome and every source.
        let c = d.conflicts();
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].kept, "New name");
        assert_eq!(c[0].kept_from, ["MigrationTable.json"]);
        assert_eq!(
            c[0].dropped,
            [
                ("Old name".to_string(), vec!["Groups/x.json".to_string()]),
                ("Third".to_string(), vec!["Groups/y.json".to_string()]),
            ]
        );
        assert_eq!(c[0].why, Why::Authoritative("MigrationTable.json".into()));
        // The replaced name no longer counts towards ambiguity.
        d.insert(RefTarget::Group, "g2", "Old name", "Groups/z.json", false);
        assert_eq!(
            d.resolve(RefTarget::Group, "g2"),
            Resolution::Name("Old name".into())
        );
    }

    #[test]
    fn conflict_report_states_the_final_name_once_per_id() {
        // The order of the conditional access baseline export: two group files with one id and
        // different names (sorted by path), then the migration table siding with the second.
        let mut d = Directory::new();
        d.insert(
            RefTarget::Group,
            "g1",
            "AnyPlatform",
            "Groups/a.json",
            false,
        );
        d.insert(RefTarget::Group, "g1", "iOS", "Groups/i.json", false);
        d.insert(RefTarget::Group, "g1", "iOS", "MigrationTable.json", true);
        assert_eq!(
            d.resolve(RefTarget::Group, "g1"),
            Resolution::Name("iOS".into())
        );
        let c = d.conflicts();
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(
            c[0].to_string(),
            "group g1 is named \"iOS\" in Groups/i.json and MigrationTable.json, but \"AnyPlatform\" \
             in Groups/a.json; kept \"iOS\" because MigrationTable.json is authoritative"
        );

        // Sources of the same standing: the first read wins, and the report says so.
        let mut d = Directory::new();
        d.insert(RefTarget::Group, "g1", "A", "graph:groups", false);
        d.insert(RefTarget::Group, "g1", "B", "Groups/b.json", false);
        d.insert(RefTarget::Group, "g1", "C", "Groups/c.json", false);
        d.insert(RefTarget::Group, "g2", "Same", "Groups/x.json", false);
        d.insert(RefTarget::Group, "g2", "Same", "Groups/y.json", false);
        let c = d.conflicts();
        assert_eq!(c.len(), 1, "agreeing sources are no conflict: {c:?}");
        assert_eq!(c[0].why, Why::First);
        assert_eq!(
            c[0].to_string(),
            "group g1 is named \"A\" in graph:groups, but \"B\" in Groups/b.json and \"C\" in \
             Groups/c.json; kept \"A\" because it was read first"
        );

        // Two authoritative names: the first stays, and it is not called authoritative over
        // the other.
        let mut d = Directory::new();
        d.insert(RefTarget::Group, "g1", "A", "MigrationTable.json", true);
        d.insert(RefTarget::Group, "g1", "B", "MigrationTable.json", true);
        assert_eq!(d.conflicts()[0].kept, "A");
        assert_eq!(d.conflicts()[0].why, Why::First);
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
