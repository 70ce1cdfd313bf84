//! What lint reads from Git through the store, checked against the real `git`: the index,
//! merge bases, and a file's first-parent history (with a shallow clone cutting it).

mod common;

use common::{git, write_files};
use std::path::Path;
use tenantgate::store::{Store, WalkEnd, blob_id};

fn commit_at(repo: &Path, message: &str, date: &str) {
    common::commit_dated(repo, message, date);
}

fn repo() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("r");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    (tmp, repo)
}

#[test]
fn index_files_are_what_is_staged() {
    let (_tmp, repo) = repo();
    write_files(&repo, &[("tenants/dev/a.json", "one"), ("other.txt", "x")]);
    commit_at(&repo, "one", "2026-01-01T00:00:00Z");
    write_files(
        &repo,
        &[("tenants/dev/a.json", "two"), ("tenants/dev/b.json", "new")],
    );
    git(&repo, &["add", "tenants/dev/a.json"]);
    write_files(&repo, &[("tenants/dev/a.json", "three, not staged")]);
    let store = Store::discover(&repo).unwrap();
    let files = store.index_files("tenants/dev").unwrap();
    let got: Vec<(&str, _)> = files.iter().map(|f| (f.path.as_str(), f.id)).collect();
    assert_eq!(got, vec![("a.json", blob_id(b"two"))]);
    assert_eq!(store.index_files("").unwrap().len(), 2);
    assert!(store.index_files("tenants/de").unwrap().is_empty());
}

#[test]
fn merge_base_matches_git() {
    let (_tmp, repo) = repo();
    write_files(&repo, &[("a", "1")]);
    commit_at(&repo, "1", "2026-01-01T00:00:00Z");
    git(&repo, &["checkout", "-q", "-b", "topic"]);
    write_files(&repo, &[("b", "2")]);
    commit_at(&repo, "2", "2026-01-02T00:00:00Z");
    git(&repo, &["checkout", "-q", "main"]);
    write_files(&repo, &[("c", "3")]);
    commit_at(&repo, "3", "2026-01-03T00:00:00Z");
    let expected = git(&repo, &["merge-base", "main", "topic"])
        .trim()
        .to_string();
    let store = Store::discover(&repo).unwrap();
    let a = store.rev_commit("main").unwrap();
    let b = store.rev_commit("topic").unwrap();
    assert_eq!(
        store.merge_base(a, b).unwrap().unwrap().to_string(),
        expected
    );
}

#[test]
fn path_history_walks_first_parents_and_knows_a_shallow_clone() {
    let (tmp, repo) = repo();
    for (i, day) in ["01", "02", "03", "04"].iter().enumerate() {
        write_files(&repo, &[("p.json", &format!("v{}", i.min(2)))]);
        if i == 0 {
            write_files(&repo, &[("unrelated", "x")]);
        } else {
            write_files(&repo, &[("unrelated", &format!("x{i}"))]);
        }
        commit_at(&repo, day, &format!("2026-03-{day}T12:00:00Z"));
    }
    let store = Store::discover(&repo).unwrap();
    let head = store.head_commit().unwrap().unwrap();
    let mut seen = Vec::new();
    let end = store
        .walk_path_history(head, "p.json", 100, |v| {
            seen.push((v.time, v.blob));
            Ok(true)
        })
        .unwrap();
    assert_eq!(end, WalkEnd::Root);
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0].1, Some(blob_id(b"v2")));
    assert_eq!(seen[1].1, Some(blob_id(b"v2")));
    assert_eq!(seen[3].1, Some(blob_id(b"v0")));
    assert_eq!(seen[3].0, 1772366400, "2026-03-01T12:00:00Z");
    let stopped = store
        .walk_path_history(head, "p.json", 100, |_| Ok(false))
        .unwrap();
    assert_eq!(stopped, WalkEnd::Stopped);
    assert!(!store.is_shallow());
    // A clone with two commits of history: the walk ends where history was cut.
    let shallow = tmp.path().join("shallow");
    common::shallow_clone(&repo, &shallow, 2);
    let store = Store::discover(&shallow).unwrap();
    assert!(store.is_shallow());
    let head = store.head_commit().unwrap().unwrap();
    let mut n = 0;
    let end = store
        .walk_path_history(head, "p.json", 100, |_| {
            n += 1;
            Ok(true)
        })
        .unwrap();
    assert_eq!((end, n), (WalkEnd::Cut, 2));
}
