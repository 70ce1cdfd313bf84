//! Golden tests of the command line (trycmd case files in tests/cmd/): help texts, exit codes,
//! messages and the files commands leave behind.

mod common;

#[test]
fn cli_cases() {
    trycmd::TestCases::new().case("tests/cmd/*.trycmd");
}

/// `init` in a folder inside another repository (here: a test's `.in` folder inside the
/// source repository) once committed tenantgate.toml and then an import at that repository's
/// root. It must refuse and leave the repository and the folder as they were.
#[test]
fn init_inside_another_repository_changes_nothing() {
    let (_tmp, outer) = common::new_repo();
    // The outer repository without its tenantgate.toml: a plain repository with commits.
    common::git(&outer, &["rm", "-q", "tenantgate.toml"]);
    common::git(&outer, &["commit", "-q", "-m", "plain repository"]);
    let before = common::head(&outer);
    let nested = outer.join("nested");
    let r = common::run(&outer, &["init", "nested"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("is inside the Git repository at"),
        "{r:?}"
    );
    assert!(!nested.exists(), "the folder init created is removed again");
    assert!(!outer.join("tenantgate.toml").exists());
    assert_eq!(
        common::head(&outer),
        before,
        "no commit in the outer repository"
    );
    // An existing folder inside it is refused too, and left in place.
    std::fs::create_dir(&nested).unwrap();
    let r = common::run(&nested, &["init"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(nested.is_dir());
    assert!(!nested.join("tenantgate.toml").exists());
    assert_eq!(common::head(&outer), before);
}

/// A second `demo` replaced an earlier demo folder whatever was done in it: a branch with
/// the user's commits and an untracked file were lost. It must replace only an untouched demo.
#[test]
fn demo_never_replaces_work_done_in_an_earlier_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    let r = common::run(tmp.path(), &["demo", "--dir", "demo"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Untouched (a lint run included): replaced.
    let r = common::run(&demo, &["lint"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = common::run(tmp.path(), &["demo", "--dir", "demo"]);
    assert_eq!(r.code, 0, "{r:?}");

    // An untracked file: refused, the file kept.
    std::fs::write(demo.join("wip.txt"), "work in progress").unwrap();
    let r = common::run(tmp.path(), &["demo", "--dir", "demo"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("uncommitted or untracked files: wip.txt"),
        "{r:?}"
    );
    assert!(demo.join("wip.txt").is_file());

    // A branch of the user's, everything committed: refused, the branch kept.
    common::git(&demo, &["checkout", "-q", "-b", "my-work"]);
    common::git(&demo, &["add", "wip.txt"]);
    common::git(&demo, &["commit", "-q", "-m", "my work"]);
    let mine = common::head(&demo);
    let r = common::run(tmp.path(), &["demo", "--dir", "demo"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("references changed since the demo made them: refs/heads/my-work"),
        "{r:?}"
    );
    assert_eq!(common::head(&demo), mine);

    // A commit on the demo's own branch counts too.
    common::git(&demo, &["checkout", "-q", "main"]);
    std::fs::write(demo.join("notes.md"), "notes").unwrap();
    common::git(&demo, &["branch", "-q", "-D", "my-work"]);
    common::git(&demo, &["add", "notes.md"]);
    common::git(&demo, &["commit", "-q", "-m", "notes"]);
    let r = common::run(tmp.path(), &["demo", "--dir", "demo"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("refs/heads/main"), "{r:?}");
    assert!(demo.join("notes.md").is_file());
}

/// `hooks install` in a bare repository said it installed a hook that can never run.
#[test]
fn hooks_install_refuses_a_bare_repository() {
    let tmp = tempfile::tempdir().unwrap();
    common::git(tmp.path(), &["init", "-q", "--bare", "bare.git"]);
    let bare = tmp.path().join("bare.git");
    let r = common::run(&bare, &["hooks", "install"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is a bare repository"), "{r:?}");
    assert!(!bare.join("hooks").join("pre-commit").exists());
}
