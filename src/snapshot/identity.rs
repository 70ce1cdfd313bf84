//! Which file each object gets (design §1, identity): a policy keeps its file while its object
//! id is unchanged; with no id recorded, it is matched by kind, name and type; a rename moves the
//! file; a new object gets a slug of its name, with `-2`, `-3`, … on collision. Every choice is
//! deterministic, so importing the same source twice gives the same files.

use super::Prepared;
use crate::policy::slug;
use crate::policy::state::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// An object and the file it goes to.
#[derive(Debug)]
pub struct Placement {
    pub slug: String,
    pub item: Prepared,
    /// The identity it had before, if it was matched to one.
    pub previous: Option<Entry>,
    /// The slug it had before, when that differs (a rename).
    pub old_slug: Option<String>,
}

/// Is `slug` the base slug or one of its collision variants (`base-2`, …)?
fn fits(slug: &str, base: &str) -> bool {
    slug == base
        || slug
            .strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|n| {
                !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && n != "1"
                    && !n.starts_with('0')
            })
}

/// Place `items` (all of one kind) given the kind's previous entries (`slug`, identity).
pub fn assign(items: Vec<Prepared>, old: &[(String, Entry)]) -> Vec<Placement> {
    let by_id: BTreeMap<&str, usize> = old
        .iter()
        .enumerate()
        .filter_map(|(i, (_, e))| e.id.as_deref().map(|id| (id, i)))
        .collect();
    let mut matched: Vec<Option<usize>> = vec![None; items.len()];
    let mut taken_old: BTreeSet<usize> = BTreeSet::new();

    // 1. Same object id.
    for (i, item) in items.iter().enumerate() {
        if let Some(&o) = item.id.as_deref().and_then(|id| by_id.get(id))
            && taken_old.insert(o)
        {
            matched[i] = Some(o);
        }
    }
    // 2. No id on one side: same name (and type, where both know it). Deterministic order.
    let mut order: Vec<usize> = (0..items.len()).filter(|i| matched[*i].is_none()).collect();
    order.sort_by(|a, b| sort_key(&items[*a]).cmp(&sort_key(&items[*b])));
    for i in order {
        let item = &items[i];
        let found = old.iter().enumerate().find(|(o, (_, e))| {
            !taken_old.contains(o)
                && e.name == item.name
                && (e.id.is_none() || item.id.is_none() || e.id == item.id)
                && (e.odata_type.is_none()
                    || item.odata_type.is_none()
                    || e.odata_type == item.odata_type)
        });
        if let Some((o, _)) = found {
            taken_old.insert(o);
            matched[i] = Some(o);
        }
    }
    // 3. Keep matched slugs that still fit the name; everything else gets a fresh slug.
    let mut slugs: Vec<Option<String>> = vec![None; items.len()];
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (i, m) in matched.iter().enumerate() {
        if let Some(o) = m {
            let old_slug = &old[*o].0;
            if fits(old_slug, &slug::slugify(&items[i].name)) {
                used.insert(old_slug.clone());
                slugs[i] = Some(old_slug.clone());
            }
        }
    }
    let mut fresh: Vec<usize> = (0..items.len()).filter(|i| slugs[*i].is_none()).collect();
    fresh.sort_by(|a, b| {
        let (ka, kb) = (
            slug::slugify(&items[*a].name),
            slug::slugify(&items[*b].name),
        );
        ka.cmp(&kb)
            .then_with(|| sort_key(&items[*a]).cmp(&sort_key(&items[*b])))
    });
    for i in fresh {
        let base = slug::slugify(&items[i].name);
        let mut n = 1;
        loop {
            let candidate = slug::with_suffix(&base, n);
            if !used.contains(&candidate) {
                used.insert(candidate.clone());
                slugs[i] = Some(candidate);
                break;
            }
            n += 1;
        }
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let slug = slugs[i].take().expect("every item got a slug");
            let previous = matched[i].map(|o| old[o].1.clone());
            let old_slug = matched[i].map(|o| old[o].0.clone()).filter(|s| *s != slug);
            Placement {
                slug,
                item,
                previous,
                old_slug,
            }
        })
        .collect()
}

fn sort_key(p: &Prepared) -> (String, String, String, gix::ObjectId) {
    (
        p.name.clone(),
        p.odata_type.clone().unwrap_or_default(),
        p.id.clone().unwrap_or_default(),
        p.tiebreak,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::kinds::SETTINGS_CATALOG;

    fn item(name: &str, id: Option<&str>, hash: u8) -> Prepared {
        Prepared {
            kind: &SETTINGS_CATALOG,
            origin: format!("{name}.json"),
            id: id.map(str::to_string),
            name: name.to_string(),
            odata_type: None,
            blob: None,
            pending: None,
            bodies: Vec::new(),
            tiebreak: gix::ObjectId::from_bytes_or_panic(&[hash; 20]),
        }
    }

    fn entry(name: &str, id: Option<&str>) -> Entry {
        Entry {
            id: id.map(str::to_string),
            odata_type: None,
            name: name.to_string(),
            secrets: Default::default(),
        }
    }

    fn slugs(p: &[Placement]) -> Vec<(String, String)> {
        let mut v: Vec<_> = p
            .iter()
            .map(|p| (p.item.origin.clone(), p.slug.clone()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn same_names_get_distinct_stable_slugs_whatever_the_input_order() {
        let a = assign(
            vec![
                item("Foo", Some("1"), 1),
                item("foo", Some("2"), 2),
                item("FOO", None, 3),
            ],
            &[],
        );
        let b = assign(
            vec![
                item("FOO", None, 3),
                item("foo", Some("2"), 2),
                item("Foo", Some("1"), 1),
            ],
            &[],
        );
        assert_eq!(slugs(&a), slugs(&b));
        let mut got: Vec<String> = a.iter().map(|p| p.slug.clone()).collect();
        got.sort();
        assert_eq!(got, vec!["foo", "foo-2", "foo-3"]);
    }

    #[test]
    fn id_keeps_the_file_and_rename_moves_it() {
        let old = vec![
            ("foo".to_string(), entry("Foo", Some("1"))),
            ("bar".to_string(), entry("Bar", Some("2"))),
        ];
        let placed = assign(
            vec![item("Foo", Some("1"), 1), item("Baz", Some("2"), 2)],
            &old,
        );
        let foo = placed
            .iter()
            .find(|p| p.item.id.as_deref() == Some("1"))
            .unwrap();
        assert_eq!(foo.slug, "foo");
        assert!(foo.old_slug.is_none());
        let baz = placed
            .iter()
            .find(|p| p.item.id.as_deref() == Some("2"))
            .unwrap();
        assert_eq!(baz.slug, "baz");
        assert_eq!(baz.old_slug.as_deref(), Some("bar"));
    }

    #[test]
    fn first_export_adopts_ids_of_an_id_less_import_by_name() {
        let old = vec![
            ("foo-2".to_string(), entry("foo", None)),
            ("foo".to_string(), entry("Foo", None)),
        ];
        let placed = assign(
            vec![item("Foo", Some("a"), 1), item("foo", Some("b"), 2)],
            &old,
        );
        for p in &placed {
            assert!(p.old_slug.is_none(), "{p:?}");
            assert_eq!(p.previous.as_ref().unwrap().name, p.item.name);
        }
    }

    #[test]
    fn a_recreated_object_with_a_new_id_takes_the_freed_slug() {
        let old = vec![("foo".to_string(), entry("Foo", Some("old")))];
        let placed = assign(vec![item("Foo", Some("new"), 1)], &old);
        assert_eq!(placed[0].slug, "foo");
        assert!(placed[0].previous.is_none());
    }

    #[test]
    fn collision_variants_are_recognised() {
        assert!(fits("foo-2", "foo"));
        assert!(fits("foo", "foo"));
        assert!(!fits("foo-bar", "foo"));
        assert!(!fits("foo-1", "foo"));
        assert!(!fits("foo-02", "foo"));
    }
}
