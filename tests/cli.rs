//! Golden tests of the command line (trycmd case files in tests/cmd/): help texts, exit codes,
//! messages and the files commands leave behind.

#[test]
fn cli_cases() {
    trycmd::TestCases::new().case("tests/cmd/*.trycmd");
}

/// `init` in a folder inside another repository (here: a test's `.in` folder inside the
/// source repository) once committed tenantgate.toml and then an import at that repository's
/// root. It must refuse and leave the repository and the folder as they were.
#[test]
fn init_inside_another_repository_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let outer = tmp.path().join("outer");
    let bin = env!("CARGO_BIN_EXE_tenantgate");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap()
    };
    assert!(run(&["init", outer.to_str().unwrap()]).status.success());
    // The outer repository without its tenantgate.toml: a plain repository with one commit.
    std::fs::remove_file(outer.join("tenantgate.toml")).unwrap();
    let head = std::fs::read_to_string(outer.join(".git/refs/heads/main"))
        .or_else(|_| std::fs::read_to_string(outer.join(".git/refs/heads/master")))
        .unwrap_or_default();
    assert!(!head.trim().is_empty(), "the outer repository has a commit");
    let nested = outer.join("nested");
    let out = run(&["init", nested.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is inside the Git repository at"),
        "{stderr}"
    );
    assert!(!nested.exists(), "the folder init created is removed again");
    assert!(!outer.join("tenantgate.toml").exists());
    let after = std::fs::read_to_string(outer.join(".git/refs/heads/main"))
        .or_else(|_| std::fs::read_to_string(outer.join(".git/refs/heads/master")))
        .unwrap_or_default();
    assert_eq!(head, after, "no commit in the outer repository");
    // An existing folder inside it is refused too, and left in place.
    std::fs::create_dir(&nested).unwrap();
    let out = run(&["init", nested.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(nested.is_dir());
    assert!(!nested.join("tenantgate.toml").exists());
}
