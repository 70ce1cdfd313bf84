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
