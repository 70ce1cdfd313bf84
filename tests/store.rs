//! The Git store through gix: trees at a revision and changed files between revisions, checked
//! against what the real `git` says.

mod common;

use common::*;
use tenantgate::store::{ChangeKind, Store};

#[test]
fn reads_trees_at_revisions_and_lists_changed_policy_files() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    let seed = tmp.path().join("seed");
    tenantgate::seed::extract("prod", &seed).unwrap();
    std::fs::rename(&seed, &export).unwrap();
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let first = head(&repo);

    // Change one policy, remove one, add one (the DEV seed differs from PROD this way).
    std::fs::remove_dir_all(&export).unwrap();
    tenantgate::seed::extract("dev", &export).unwrap();
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let second = head(&repo);

    let store = Store::discover(&repo).unwrap();
    let a = store.rev_commit(&first).unwrap();
    let b = store.rev_commit("HEAD").unwrap();
    assert_eq!(b.to_string(), second);
    assert_eq!(store.rev_commit("HEAD~1").unwrap(), a);
    assert!(store.rev_commit("no-such-branch").is_err());

    let ours = store.changed_files(Some(a), b, "tenants").unwrap();
    let git_says = git(
        &repo,
        &[
            "diff",
            "--name-status",
            "--no-renames",
            &first,
            &second,
            "--",
            "tenants",
        ],
    );
    let theirs: Vec<(String, String)> = git_says
        .lines()
        .map(|l| {
            let (s, p) = l.split_once('\t').unwrap();
            (s.to_string(), p.to_string())
        })
        .collect();
    let ours_flat: Vec<(String, String)> = ours
        .iter()
        .map(|c| {
            let s = match c.kind {
                ChangeKind::Added => "A",
                ChangeKind::Modified => "M",
                ChangeKind::Deleted => "D",
            };
            (s.to_string(), c.path.clone())
        })
        .collect();
    assert_eq!(ours_flat, theirs);
    assert!(
        ours.iter().any(|c| c.kind == ChangeKind::Added
            && c.path.ends_with("win-sc-print-spooler-hardening.json"))
    );
    assert!(
        ours.iter()
            .any(|c| c.kind == ChangeKind::Modified && c.path.ends_with("win-sc-bitlocker.json"))
    );

    // Reading a file at a revision, without a checkout.
    let tree = store.commit_tree(a).unwrap();
    let old = store
        .read_path(tree, "tenants/dev/settings-catalog/win-sc-bitlocker.json")
        .unwrap()
        .unwrap();
    let now =
        std::fs::read(repo.join("tenants/dev/settings-catalog/win-sc-bitlocker.json")).unwrap();
    assert_ne!(old, now);
    assert!(
        store
            .read_path(
                tree,
                "tenants/dev/settings-catalog/win-sc-print-spooler-hardening.json"
            )
            .unwrap()
            .is_none()
    );
    // Only below a prefix.
    assert!(
        store
            .changed_files(Some(a), b, "tenants/dev/groups")
            .unwrap()
            .is_empty()
    );
    assert!(store.changed_files(Some(a), a, "").unwrap().is_empty());
    let all_from_nothing = store
        .changed_files(None, a, "tenants/dev/settings-catalog")
        .unwrap();
    assert!(
        all_from_nothing.iter().all(|c| c.kind == ChangeKind::Added)
            && all_from_nothing.len() >= 14
    );
}
