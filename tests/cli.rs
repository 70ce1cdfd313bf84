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

/// A policy with `name` twice, as a merge resolved by keeping both lines leaves it.
const DUPLICATE_NAME: &str = "{\n  \"name\": \"Old name\",\n  \"platforms\": \"windows10\",\n  \"name\": \"New name\",\n  \"settings\": []\n}\n";

/// `fmt` used to rewrite such a file keeping the last value (exit 0), and `fmt --check` only
/// said "not canonical": the first value was lost. Both must refuse it, naming the file, the
/// key and where it is, and leave the file alone.
#[test]
fn fmt_refuses_a_duplicate_key_instead_of_dropping_a_value() {
    let (_tmp, repo) = common::new_repo();
    let rel = "tenants/dev/settings-catalog/merged.json";
    common::write_files(&repo, &[(rel, DUPLICATE_NAME)]);
    let expected =
        format!("error: {rel}: duplicate key \"name\" at line 4 column 3: keep one of them\n");
    for args in [&["fmt", "--check"][..], &["fmt"]] {
        let r = common::run(&repo, args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert_eq!(r.stderr, expected, "{args:?}: {r:?}");
        assert!(!r.stdout.contains("formatted"), "{r:?}");
        assert_eq!(
            std::fs::read_to_string(repo.join(rel)).unwrap(),
            DUPLICATE_NAME
        );
    }
}

/// A state.json with a key the model does not know: `fmt` printed "formatted" (exit 0) and
/// lint said nothing, and then the next import or export failed on it. `fmt` and
/// `fmt --check` read it with the model import uses and refuse it with file and line.
#[test]
fn fmt_refuses_a_state_json_that_import_would_refuse() {
    let (_tmp, repo) = common::new_repo();
    let rel = "tenants/dev/.tenantgate/state.json";
    let text = "{\n  \"format\": 1,\n  \"extra\": true,\n  \"policies\": {}\n}\n";
    common::write_files(&repo, &[(rel, text)]);
    for args in [&["fmt", "--check"][..], &["fmt"]] {
        let r = common::run(&repo, args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            r.stderr.starts_with(&format!(
                "error: {rel}: line 3: unknown field `extra`, expected `format` or `policies`; "
            )),
            "{args:?}: {r:?}"
        );
        assert!(!r.stdout.contains("formatted"), "{r:?}");
        assert_eq!(std::fs::read_to_string(repo.join(rel)).unwrap(), text);
    }
    // Import says the same about it, with the line once.
    let export = repo.parent().unwrap().join("export");
    common::write_files(
        &export,
        &[(
            "configurationPolicies/a.json",
            "{\"id\": \"00000000-0000-4000-8000-00000000000a\", \"name\": \"Alpha\", \"platforms\": \"windows10\", \"technologies\": \"mdm\", \"settings\": []}",
        )],
    );
    common::git(&repo, &["add", "-A"]);
    common::git(&repo, &["commit", "-q", "-m", "hand edit"]);
    let r = common::run(
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
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "{rel}: line 3: unknown field `extra`, expected `format` or `policies`; state.json"
        )) && r.stderr.matches("line 3").count() == 1,
        "{r:?}"
    );
    // A state.json that fits is formatted as before.
    let good = "{\"format\": 1, \"policies\": {}}";
    common::write_files(&repo, &[(rel, good)]);
    let r = common::run(&repo, &["fmt"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, format!("formatted: {rel}\n").as_str()),
        "{r:?}"
    );
}
