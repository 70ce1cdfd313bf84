//! `tenantgate lint` end to end: the real binary on repositories built in temp dirs. Hostile
//! rules, pull-request governance, positions, SARIF against the vendored schema, exceptions,
//! the index, rule tests and git hooks.

mod common;

use common::{git, new_repo, run, write_files};
use serde_json::{Value, json};
use std::path::Path;
use tenantgate::policy::canonical::to_canonical;

fn canonical(v: &Value) -> String {
    String::from_utf8(to_canonical(v)).unwrap()
}

fn sc(name: &str) -> Value {
    json!({
        "name": name,
        "platforms": "windows10",
        "technologies": "mdm",
        "roleScopeTagIds": ["@scopeTag:Default", "@scopeTag:EMEA"],
        "assignments": [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "@group:SG-Pilot"}}],
        "settings": []
    })
}

/// Write `doc` in canonical form at `rel` below `repo`.
fn put(repo: &Path, rel: &str, doc: &Value) {
    write_files(repo, &[(rel, &canonical(doc))]);
}

fn commit_all(repo: &Path, message: &str) {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", message]);
}

fn findings(stdout: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["findings"].as_array().unwrap().clone()
}

fn of<'a>(f: &'a [Value], rule: &str) -> Vec<&'a Value> {
    f.iter().filter(|x| x["rule"] == rule).collect()
}

fn rule(id: &str, body: &str) -> String {
    format!(
        "const ID = \"{id}\";\nconst SEVERITY = \"warning\";\nconst KINDS = [\"*\"];\nconst SUMMARY = \"test\";\n{body}\n"
    )
}

#[test]
fn hostile_rules_end_as_rule_errors_and_the_other_rules_still_report() {
    let (_tmp, repo) = new_repo();
    let mut files: Vec<(String, String)> = (0..4)
        .map(|i| {
            (
                format!("tenants/dev/settings-catalog/p{i}.json"),
                canonical(&sc(&format!("Legacy name {i}"))),
            )
        })
        .collect();
    for (name, body) in [
        (
            "loop",
            "fn check(policy, ctx) { let n = 0; loop { n += 1; } }",
        ),
        (
            "big-string",
            "fn check(policy, ctx) { let s = \"0123456789abcdef\"; loop { s += s; } }",
        ),
        (
            "recursion",
            "fn deeper(n) { deeper(n + 1) }\nfn check(policy, ctx) { deeper(0) }",
        ),
        (
            "read-file",
            "fn check(policy, ctx) { let t = read_file(\"/etc/passwd\"); [#{ message: t }] }",
        ),
        (
            "import-file",
            "fn check(policy, ctx) { import \"/etc/passwd\" as secrets; [] }",
        ),
        (
            "env-var",
            "fn check(policy, ctx) { let home = env(\"HOME\"); [#{ message: home }] }",
        ),
        ("eval", "fn check(policy, ctx) { eval(\"[]\") }"),
    ] {
        files.push((
            format!("rules/{name}.rhai"),
            rule(&format!("hostile/{name}"), body),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_files(&repo, &refs);
    let start = std::time::Instant::now();
    let r = run(&repo, &["lint", "--format", "json"]);
    let elapsed = start.elapsed();
    assert_eq!(r.code, 1, "{r:?}");
    // Each runaway rule is stopped after a few calls that hit a limit (2 s each at most).
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
    let f = findings(&r.stdout);
    let errors = of(&f, "engine/rule-error");
    let error_for = |file: &str| {
        let found: Vec<_> = errors.iter().filter(|e| e["path"] == file).collect();
        assert_eq!(found.len(), 1, "{file}: {errors:#?}");
        found[0]["message"].as_str().unwrap().to_string()
    };
    let m = error_for("rules/loop.rhai");
    assert!(
        m.contains("time limit") || m.contains("too many operations"),
        "{m}"
    );
    assert!(error_for("rules/big-string.rhai").contains("too large"));
    assert!(error_for("rules/recursion.rhai").contains("too many nested calls"));
    assert!(error_for("rules/read-file.rhai").contains("Function not found: read_file"));
    assert!(error_for("rules/import-file.rhai").contains("Module not found"));
    assert!(error_for("rules/env-var.rhai").contains("Function not found: env"));
    let e = error_for("rules/eval.rhai");
    assert!(e.contains("does not compile") && e.contains("eval"), "{e}");
    // Rule errors carry the rule's line.
    let rec = errors
        .iter()
        .find(|e| e["path"] == "rules/recursion.rhai")
        .unwrap();
    assert!(rec["line"].as_u64().is_some(), "{rec}");
    // The other rules still report: the built-in naming rule on every policy.
    assert_eq!(of(&f, "hygiene/naming-convention").len(), 4, "{f:#?}");
    // Nothing of the hostile rules' doing reached the findings.
    assert!(!r.stdout.contains("root:"), "file contents leaked");
}

#[test]
fn a_pull_request_that_weakens_the_rules_is_still_judged_by_the_base() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/hello.json",
        &sc("WIN-SC-Hello"),
    );
    commit_all(&repo, "base");
    git(&repo, &["checkout", "-q", "-b", "weaken"]);
    // The pull request renames the policy badly and tries three ways to silence the finding:
    // replace the rule, disable it in tenantgate.toml, and waive it in exceptions.toml.
    let config = std::fs::read_to_string(repo.join("tenantgate.toml")).unwrap();
    write_files(
        &repo,
        &[
            (
                "tenants/dev/settings-catalog/hello.json",
                &canonical(&sc("Windows Hello for Business")),
            ),
            (
                "rules/naming.rhai",
                &rule("hygiene/naming-convention", "fn check(policy, ctx) { [] }"),
            ),
            (
                "tenantgate.toml",
                &format!("{config}\n[lint]\ndisabled = [\"hygiene/naming-convention\"]\n"),
            ),
            (
                "exceptions.toml",
                "[[exception]]\nrule = \"*\"\npath = \"**\"\njustification = \"trust me\"\napproved_by = \"the author\"\nexpires = 2099-01-01\n",
            ),
        ],
    );
    commit_all(&repo, "weaken the checks");
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    assert_eq!(r.code, 0, "warnings only: {r:?}");
    let f = findings(&r.stdout);
    let naming = of(&f, "hygiene/naming-convention");
    assert_eq!(naming.len(), 1, "{f:#?}");
    assert!(
        naming[0].get("waived").is_none(),
        "the PR's exception waived it: {f:#?}"
    );
    assert_eq!(naming[0]["path"], "tenants/dev/settings-catalog/hello.json");
    let governance: Vec<&str> = of(&f, "governance/rules-changed")
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        governance,
        ["exceptions.toml", "rules/naming.rhai", "tenantgate.toml"]
    );
    // `--fail-on warning` makes the pull request fail.
    let r = run(
        &repo,
        &[
            "lint",
            "--base",
            "main",
            "--fail-on",
            "warning",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    // Linted on its own (after merging), the branch's rules would apply: nothing is reported.
    let r = run(&repo, &["lint", "--format", "json"]);
    let f = findings(&r.stdout);
    assert!(
        of(&f, "hygiene/naming-convention")
            .iter()
            .all(|x| x.get("waived").is_some())
    );
}

/// The text at `line:column` of `text` starts where `pointer` says: at the key of an object
/// member, at the value of an array element.
fn assert_points_at(path: &Path, line: usize, column: usize, pointer: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap();
    let row = text
        .lines()
        .nth(line - 1)
        .unwrap_or_else(|| panic!("{}: no line {line}", path.display()));
    let rest: String = row.chars().skip(column - 1).collect();
    if pointer.is_empty() {
        assert!(
            rest.starts_with('{'),
            "{}:{line}:{column}: {rest:?}",
            path.display()
        );
        return;
    }
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    let last = last.replace("~1", "/").replace("~0", "~");
    if doc.pointer(parent).is_some_and(Value::is_array) {
        let value = doc.pointer(pointer).unwrap().to_string();
        assert!(
            rest.starts_with(&value[..1]),
            "{}:{line}:{column} should start {pointer} ({value}): {rest:?}",
            path.display()
        );
    } else {
        assert!(
            rest.starts_with(&format!("\"{last}\"")),
            "{}:{line}:{column} should start {pointer}: {rest:?}",
            path.display()
        );
    }
}

/// Lint judged a policy with a key twice by its last value and reported only
/// `format/not-canonical`, so the first value was invisible. The file is `format/invalid` at
/// the second occurrence of the key, and no rule judges half of it.
#[test]
fn a_duplicate_key_is_format_invalid_at_its_line() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/fine.json",
        &sc("WIN-SC-Fine"),
    );
    let rel = "tenants/dev/settings-catalog/merged.json";
    write_files(
        &repo,
        &[(
            rel,
            "{\n  \"name\": \"WIN-SC-Old\",\n  \"platforms\": \"windows10\",\n  \"technologies\": \"mdm\",\n  \"name\": \"WIN-SC-New\",\n  \"settings\": []\n}\n",
        )],
    );
    let r = run(&repo, &["lint", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = findings(&r.stdout);
    let on: Vec<&Value> = f.iter().filter(|x| x["path"] == rel).collect();
    assert_eq!(on.len(), 1, "{f:#?}");
    assert_eq!(on[0]["rule"], "format/invalid");
    assert_eq!(on[0]["message"], "duplicate key \"name\": keep one of them");
    assert_eq!(
        (on[0]["line"].as_u64(), on[0]["column"].as_u64()),
        (Some(5), Some(3))
    );
    // The text report shows the place.
    let r = run(&repo, &["lint"]);
    assert!(r.stdout.contains(&format!("{rel}:5:3")), "{r:?}");
}

/// A state.json that import and export refuse (a key the model does not know) passed lint
/// without a finding. It is `format/invalid` at its line.
#[test]
fn an_invalid_state_json_is_format_invalid_at_its_line() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/fine.json",
        &sc("WIN-SC-Fine"),
    );
    let rel = "tenants/dev/.tenantgate/state.json";
    write_files(
        &repo,
        &[(
            rel,
            "{\n  \"format\": 1,\n  \"extra\": true,\n  \"policies\": {}\n}\n",
        )],
    );
    let r = run(&repo, &["lint", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = findings(&r.stdout);
    let on: Vec<&Value> = f.iter().filter(|x| x["path"] == rel).collect();
    assert_eq!(on.len(), 1, "{f:#?}");
    assert_eq!(on[0]["rule"], "format/invalid");
    assert_eq!(
        on[0]["message"],
        "unknown field `extra`, expected `format` or `policies`"
    );
    assert_eq!(on[0]["line"], 3);
    // Committed and unchanged, a pull request does not report it again; staged, it is.
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "hand edit"]);
    git(&repo, &["checkout", "-q", "-b", "topic"]);
    put(
        &repo,
        "tenants/dev/settings-catalog/other.json",
        &sc("WIN-SC-Other"),
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "another policy"]);
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    let f = findings(&r.stdout);
    assert!(f.iter().all(|x| x["path"] != rel), "{f:#?}");
    write_files(
        &repo,
        &[(rel, "{\n  \"format\": 1,\n  \"policies\": {\"x\": 1}\n}\n")],
    );
    git(&repo, &["add", "-A"]);
    let r = run(&repo, &["lint", "--staged", "--format", "json"]);
    let f = findings(&r.stdout);
    let on: Vec<&Value> = f.iter().filter(|x| x["path"] == rel).collect();
    assert_eq!(on.len(), 1, "{f:#?}");
    assert_eq!(on[0]["line"], 3);
}

#[test]
fn findings_point_at_the_right_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run(tmp.path(), &["demo", "--dir", "demo"]);
    assert_eq!(r.code, 0, "{r:?}");
    let repo = tmp.path().join("demo");
    // A credential in a script side file, at a known place.
    let script = repo.join("tenants/dev/powershell-scripts/win-ps-map-finance-share.ps1");
    let mut body = std::fs::read_to_string(&script).unwrap();
    let line = body.lines().count() + 1;
    body.push_str("  $ServicePassword = \"Winter2026!\"\n");
    std::fs::write(&script, &body).unwrap();
    // A hand-edited file in another layout: four spaces, CRLF.
    let hello = repo.join("tenants/dev/settings-catalog/windows-hello-for-business.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&hello).unwrap()).unwrap();
    let mut pretty = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut pretty,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    serde::Serialize::serialize(&doc, &mut ser).unwrap();
    std::fs::write(
        &hello,
        String::from_utf8(pretty).unwrap().replace('\n', "\r\n"),
    )
    .unwrap();

    let r = run(&repo, &["lint", "--env", "dev", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = findings(&r.stdout);
    let mut kinds = std::collections::BTreeSet::new();
    let mut checked = 0;
    for x in &f {
        let (Some(l), Some(c), Some(p)) = (
            x["line"].as_u64(),
            x["column"].as_u64(),
            x["pointer"].as_str(),
        ) else {
            continue;
        };
        if x["rule"] == "format/not-canonical" {
            continue;
        }
        let path = x["path"].as_str().unwrap();
        kinds.insert(path.split('/').nth(2).unwrap().to_string());
        assert_points_at(&repo.join(path), l as usize, c as usize, p);
        checked += 1;
    }
    assert!(checked >= 10, "{f:#?}");
    for k in [
        "settings-catalog",
        "compliance-policies",
        "conditional-access",
        "device-configurations",
    ] {
        assert!(kinds.contains(k), "no finding checked in {k}: {kinds:?}");
    }
    // Deep pointers too: the dangling group of the print spooler policy.
    let dangling = of(&f, "refs/dangling");
    assert_eq!(dangling[0]["pointer"], "/assignments/0/target/groupId");
    // The non-canonical file: reported, and its naming finding points into the file as stored.
    let nc = of(&f, "format/not-canonical");
    assert_eq!(nc.len(), 1);
    assert_eq!(
        nc[0]["path"],
        "tenants/dev/settings-catalog/windows-hello-for-business.json"
    );
    assert_eq!(nc[0]["line"], 1);
    let naming: Vec<_> = of(&f, "hygiene/naming-convention")
        .into_iter()
        .filter(|x| x["path"] == nc[0]["path"])
        .collect();
    let text = std::fs::read_to_string(&hello).unwrap();
    let (l, c) = (
        naming[0]["line"].as_u64().unwrap() as usize,
        naming[0]["column"].as_u64().unwrap() as usize,
    );
    assert!(
        text.lines().nth(l - 1).unwrap()[c - 1..].starts_with("\"name\""),
        "{l}:{c}"
    );
    assert_eq!(c, 5, "four-space indent");
    // The script finding points at the side file, line and column of the secret.
    let secret = of(&f, "secrets/credential");
    assert_eq!(secret.len(), 1, "{f:#?}");
    assert_eq!(
        secret[0]["path"],
        "tenants/dev/powershell-scripts/win-ps-map-finance-share.ps1"
    );
    assert!(secret[0].get("pointer").is_none());
    assert_eq!(secret[0]["line"].as_u64().unwrap() as usize, line);
    let col = secret[0]["column"].as_u64().unwrap() as usize;
    let row = body.lines().nth(line - 1).unwrap();
    assert!(
        row[col - 1..].starts_with("Winter2026!"),
        "{row:?} at {col}"
    );
    assert!(
        !secret[0]["message"]
            .as_str()
            .unwrap()
            .contains("Winter2026!"),
        "a finding repeated the secret"
    );
    // The text report shows the snippet of the side file.
    let r = run(&repo, &["lint", "--env", "dev"]);
    assert!(
        r.stdout
            .contains(&format!("win-ps-map-finance-share.ps1:{line}:{col}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("$ServicePassword"), "{}", r.stdout);
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), &["demo", "--dir", "demo"]);
    let repo = tmp.path().join("demo");
    // A waived finding (a suppression) and a broken rule (a rule error on a rule file).
    write_files(
        &repo,
        &[
            (
                "exceptions.toml",
                "[[exception]]\nrule = \"hygiene/naming-convention\"\npath = \"tenants/*/settings-catalog/windows-hello-for-business.json\"\njustification = \"Renamed at the next enrolment wave\"\napproved_by = \"jane@contoso.com\"\nexpires = 2099-12-31\n",
            ),
            (
                "rules/broken.rhai",
                &rule("custom/broken", "fn check(policy, ctx) { policy.x.y.z() }"),
            ),
        ],
    );
    let r = run(&repo, &["lint", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{r:?}");
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "external")
    );
    assert!(results.iter().any(|r| r["ruleId"] == "engine/rule-error"
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "rules/broken.rhai"));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    // Each result's ruleIndex names its rule.
    for res in results {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
    }
    // Baseline controls are tags of the rules that map to them.
    let legacy = rules
        .iter()
        .find(|r| r["id"] == "conditional-access/legacy-auth-blocked")
        .unwrap();
    assert!(
        legacy["properties"]["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("MS.AAD.1.1v1"))
    );
}

#[test]
fn exceptions_waive_until_they_expire_and_malformed_ones_are_findings() {
    let (_tmp, repo) = new_repo();
    write_files(
        &repo,
        &[
            (
                "tenants/dev/settings-catalog/a.json",
                &canonical(&sc("Legacy A")),
            ),
            (
                "tenants/dev/settings-catalog/b.json",
                &canonical(&sc("Legacy B")),
            ),
            (
                "exceptions.toml",
                "[[exception]]\nrule = \"hygiene/naming-convention\"\npath = \"tenants/dev/settings-catalog/a.json\"\njustification = \"Renamed next quarter\"\napproved_by = \"jane\"\nexpires = 2099-01-01\n\n[[exception]]\nrule = \"hygiene/naming-convention\"\npath = \"tenants/dev/settings-catalog/b.json\"\njustification = \"Was fine for a while\"\napproved_by = \"jane\"\nexpires = 2020-01-01\n\n[[exception]]\nrule = \"hygiene/*\"\npath = \"tenants/**\"\n",
            ),
        ],
    );
    let r = run(&repo, &["lint", "--format", "json", "--fail-on", "warning"]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = findings(&r.stdout);
    let naming = of(&f, "hygiene/naming-convention");
    assert_eq!(naming.len(), 2, "waived findings are reported, not hidden");
    let a = naming
        .iter()
        .find(|x| x["path"].as_str().unwrap().ends_with("a.json"))
        .unwrap();
    assert_eq!(a["waived"]["source"], "exceptions.toml:1");
    assert_eq!(a["waived"]["approved_by"], "jane");
    let b = naming
        .iter()
        .find(|x| x["path"].as_str().unwrap().ends_with("b.json"))
        .unwrap();
    assert!(b.get("waived").is_none(), "an expired exception waived it");
    let expired = of(&f, "exceptions/expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["line"], 8);
    let invalid = of(&f, "exceptions/invalid");
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0]["line"], 15);
    assert!(
        invalid[0]["message"]
            .as_str()
            .unwrap()
            .contains("no `justification`")
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["summary"]["waived"], 1);
}

#[test]
fn staged_lint_reads_the_index_not_the_worktree() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    commit_all(&repo, "a");
    // Staged: a bad name. Unstaged on top: a good name again.
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("bad name"),
    );
    git(&repo, &["add", "-A"]);
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    let r = run(&repo, &["lint", "--staged", "--format", "json"]);
    let f = findings(&r.stdout);
    assert_eq!(of(&f, "hygiene/naming-convention").len(), 1, "{f:#?}");
    let r = run(&repo, &["lint", "--format", "json"]);
    assert!(of(&findings(&r.stdout), "hygiene/naming-convention").is_empty());
    // A staged file that is not canonical is reported like `fmt --check` would.
    write_files(
        &repo,
        &[(
            "tenants/dev/settings-catalog/b.json",
            "{\"name\": \"WIN-SC-B\"}",
        )],
    );
    git(&repo, &["add", "-A"]);
    let r = run(&repo, &["lint", "--staged"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("format/not-canonical"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("run `tenantgate fmt tenants/dev/settings-catalog/b.json`"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_pre_commit_hook_blocks_bad_policies_and_chains_to_an_existing_hook() {
    let (_tmp, repo) = new_repo();
    let hooks = repo.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let mine = "#!/bin/sh\necho my-own-hook-ran >&2\n";
    std::fs::write(hooks.join("pre-commit"), mine).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            hooks.join("pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let r = run(&repo, &["hooks", "install"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("kept as pre-commit.tenantgate-chained"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.tenantgate-chained")).unwrap(),
        mine
    );
    assert_eq!(
        run(&repo, &["hooks", "install"]).stdout.trim(),
        format!(
            "The pre-commit hook is already installed ({}).",
            hooks.join("pre-commit").display()
        )
    );
    // A bad policy cannot be committed; a good one can. Both run the chained hook first.
    write_files(
        &repo,
        &[(
            "tenants/dev/settings-catalog/a.json",
            "{\"name\": \"bad name\"}",
        )],
    );
    git(&repo, &["add", "-A"]);
    let commit = |repo: &Path| {
        std::process::Command::new("git")
            .current_dir(repo)
            .args(["commit", "-q", "-m", "policy"])
            .env("TENANTGATE", env!("CARGO_BIN_EXE_tenantgate"))
            .env("NO_COLOR", "1")
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap()
    };
    let o = commit(&repo);
    assert!(
        !o.status.success(),
        "the commit went through: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // Git shows a hook's output on stderr.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("my-own-hook-ran"), "{stderr}");
    assert!(stderr.contains("format/not-canonical"), "{stderr}");
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    git(&repo, &["add", "-A"]);
    let o = commit(&repo);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // Uninstall puts the original hook back.
    let r = run(&repo, &["hooks", "uninstall"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        mine
    );
    // core.hooksPath: hands off, and say how.
    git(&repo, &["config", "core.hooksPath", ".husky"]);
    let r = run(&repo, &["hooks", "install"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("core.hooksPath") && r.stderr.contains("tenantgate lint --staged"),
        "{}",
        r.stderr
    );
    assert!(!repo.join(".husky").exists());
}

#[test]
fn rules_test_fails_when_a_case_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    // Outside a repository: the built-in pack and its tests.
    let r = run(tmp.path(), &["rules", "test"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("PASS hygiene/naming-convention"),
        "{}",
        r.stdout
    );
    let (_tmp, repo) = new_repo();
    write_files(
        &repo,
        &[
            ("rules/custom.rhai", &rule("custom/no-test-names", "fn check(policy, ctx) { if policy.name.contains(\"Test\") { [#{ pointer: \"/name\", message: \"test policy\" }] } else { [] } }")),
            (
                "rules/tests/custom.json",
                &json!({"rule": "custom/no-test-names", "cases": [
                    {"name": "a test policy is reported", "kind": "settings-catalog", "policy": {"name": "WIN-SC-Test"}, "expect": [{"pointer": "/name"}]},
                    {"name": "wrong on purpose", "kind": "settings-catalog", "policy": {"name": "WIN-SC-Test"}, "expect": []}
                ]})
                .to_string(),
            ),
        ],
    );
    let r = run(&repo, &["rules", "test", "rules/tests"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("PASS custom/no-test-names: a test policy is reported"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("FAIL custom/no-test-names: wrong on purpose"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("unexpected finding: custom/no-test-names"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 passed, 1 failed"), "{}", r.stdout);
    // Without DIR: the built-in tests and the repository's.
    let r = run(&repo, &["rules", "test"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("PASS conditional-access/break-glass-excluded"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_revision_is_linted_from_git_objects() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("bad name"),
    );
    commit_all(&repo, "bad");
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    commit_all(&repo, "good");
    // Even with the worktree gone astray, --rev reads the commit.
    std::fs::remove_dir_all(repo.join("tenants")).unwrap();
    let r = run(&repo, &["lint", "--rev", "HEAD~1", "--format", "json"]);
    assert_eq!(
        of(&findings(&r.stdout), "hygiene/naming-convention").len(),
        1,
        "{r:?}"
    );
    let r = run(&repo, &["lint", "--rev", "HEAD", "--format", "json"]);
    assert!(of(&findings(&r.stdout), "hygiene/naming-convention").is_empty());
    let r = run(&repo, &["lint", "--rev", "no-such-rev"]);
    assert_eq!(r.code, 2);
    let r = run(&repo, &["lint", "--rev", "HEAD", "--env", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no environment \"nope\""), "{}", r.stderr);
}

#[test]
fn report_only_age_comes_from_history_and_a_shallow_clone_says_it_cannot_tell() {
    let (tmp, repo) = new_repo();
    let ca = json!({
        "displayName": "CA007-Internals-BlockHighRisk",
        "state": "enabledForReportingButNotEnforced",
        "conditions": {"applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"],
            "signInRiskLevels": ["high"],
            "users": {"includeUsers": ["All"], "excludeGroups": ["@group:CA-BreakGlass"]}},
        "grantControls": {"builtInControls": ["block"], "operator": "OR"}
    });
    put(&repo, "tenants/dev/conditional-access/ca007.json", &ca);
    let days_ago = |d: i64| {
        let t = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * d);
        t.to_string()
    };
    let commit = |message: &str, date: &str| common::commit_dated(&repo, message, date);
    commit("report-only", &days_ago(45));
    // Later commits that change other things keep the age.
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    commit("other", &days_ago(10));
    let r = run(&repo, &["lint", "--format", "json"]);
    let f = findings(&r.stdout);
    let age = of(&f, "conditional-access/report-only-age");
    assert_eq!(age.len(), 1, "{f:#?}");
    assert_eq!(age[0]["severity"], "warning");
    assert!(
        age[0]["message"]
            .as_str()
            .unwrap()
            .contains("report-only for 45 days"),
        "{}",
        age[0]
    );
    // A shallow clone holding only the last commit cannot tell.
    let shallow = tmp.path().join("shallow");
    common::shallow_clone(&repo, &shallow, 1);
    let r = run(&shallow, &["lint", "--format", "json"]);
    let f = findings(&r.stdout);
    let age = of(&f, "conditional-access/report-only-age");
    assert_eq!(age.len(), 1, "{f:#?}");
    assert_eq!(age[0]["severity"], "info");
    assert!(
        age[0]["message"]
            .as_str()
            .unwrap()
            .contains("shallow clone"),
        "{}",
        age[0]
    );
}

#[test]
fn rules_test_skips_disabled_rules_and_ignores_severity_overrides() {
    let (_tmp, repo) = new_repo();
    let config = std::fs::read_to_string(repo.join("tenantgate.toml")).unwrap();
    write_files(
        &repo,
        &[(
            "tenantgate.toml",
            &format!(
                "{config}\n[lint]\ndisabled = [\"hygiene/scope-tags\"]\n[lint.severity]\n\"conditional-access/report-only-age\" = \"error\"\n"
            ),
        )],
    );
    let r = run(&repo, &["rules", "test"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("hygiene/scope-tags"), "{}", r.stdout);
    assert!(
        r.stdout.contains("PASS conditional-access/report-only-age"),
        "{}",
        r.stdout
    );
    let r = run(&repo, &["rules", "list"]);
    assert!(
        r.stdout
            .contains("disabled in tenantgate.toml: hygiene/scope-tags"),
        "{}",
        r.stdout
    );
    let r = run(
        &repo,
        &["rules", "explain", "conditional-access/report-only-age"],
    );
    assert!(
        r.stdout.contains("severity: error (default warning)"),
        "{}",
        r.stdout
    );
}

#[test]
fn pull_request_mode_reports_what_the_change_touches() {
    let (_tmp, repo) = new_repo();
    let with = |name: &str, value: i64| {
        let mut p = sc(name);
        p["settings"] = json!([{"settingInstance": {
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
            "settingDefinitionId": "device_vendor_msft_x",
            "simpleSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", "value": value}
        }}]);
        canonical(&p)
    };
    let legacy = json!({
        "displayName": "CA002-Global-BlockLegacy", "state": "enabled",
        "conditions": {"applications": {"includeApplications": ["All"]},
            "clientAppTypes": ["exchangeActiveSync", "other"],
            "users": {"includeUsers": ["All"], "excludeGroups": ["@group:CA-BreakGlass"]}},
        "grantControls": {"builtInControls": ["block"], "operator": "OR"}
    });
    write_files(
        &repo,
        &[
            // Two duplicates already on main: not this pull request's doing.
            ("tenants/dev/settings-catalog/a.json", &with("WIN-SC-A", 1)),
            ("tenants/dev/settings-catalog/b.json", &with("WIN-SC-B", 1)),
            ("tenants/dev/settings-catalog/c.json", &with("WIN-SC-C", 2)),
            (
                "tenants/dev/conditional-access/ca002.json",
                &canonical(&legacy),
            ),
        ],
    );
    commit_all(&repo, "base");
    git(&repo, &["checkout", "-q", "-b", "pr"]);
    // The pull request adds a copy of c and deletes the only legacy-authentication block.
    write_files(
        &repo,
        &[("tenants/dev/settings-catalog/d.json", &with("WIN-SC-D", 2))],
    );
    std::fs::remove_file(repo.join("tenants/dev/conditional-access/ca002.json")).unwrap();
    commit_all(&repo, "copy c, drop CA002");
    for _ in 0..2 {
        // Twice: the second run takes unchanged policies' facts from the cache.
        let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
        let f = findings(&r.stdout);
        let dup: Vec<&str> = of(&f, "hygiene/duplicate-policy")
            .iter()
            .map(|x| x["path"].as_str().unwrap())
            .collect();
        assert_eq!(dup, ["tenants/dev/settings-catalog/d.json"], "{f:#?}");
        // Deleting the only legacy-authentication block is judged (the base had CA policies)
        // and reported as the deletion's doing; MFA and risk findings were already on main.
        let legacy = of(&f, "conditional-access/legacy-auth-blocked");
        assert_eq!(legacy.len(), 1, "{f:#?}");
        assert!(
            legacy[0]["message"].as_str().unwrap().ends_with(
                "(caused by this change deleting tenants/dev/conditional-access/ca002.json)"
            ),
            "{}",
            legacy[0]
        );
        assert!(
            of(&f, "conditional-access/mfa-all-users").is_empty(),
            "{f:#?}"
        );
        assert!(of(&f, "conditional-access/high-risk-blocked").is_empty());
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["environments"][0]["checked"], 1);
        assert_eq!(v["environments"][0]["policies"], 4);
    }
    assert!(repo.join(".git/tenantgate/facts.bin").is_file());
    // A pull request that leaves a CA policy but turns the block off is judged on the folder.
    git(&repo, &["checkout", "-q", "main"]);
    git(&repo, &["checkout", "-q", "-b", "pr2"]);
    let mut off = legacy.clone();
    off["state"] = json!("disabled");
    put(&repo, "tenants/dev/conditional-access/ca002.json", &off);
    commit_all(&repo, "disable CA002");
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    let f = findings(&r.stdout);
    let legacy = of(&f, "conditional-access/legacy-auth-blocked");
    assert_eq!(legacy.len(), 1, "{f:#?}");
    assert_eq!(legacy[0]["path"], "tenants/dev/conditional-access");
    assert!(
        of(&f, "hygiene/duplicate-policy").is_empty(),
        "a and b are not this change's"
    );
}

/// A settings-catalog policy setting one setting to `value`.
fn with_setting(name: &str, value: i64) -> String {
    let mut p = sc(name);
    p["settings"] = json!([{"settingInstance": {
        "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
        "settingDefinitionId": "device_vendor_msft_x",
        "simpleSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", "value": value}
    }}]);
    canonical(&p)
}

/// A conditional access policy for all users and all apps, excluding the break-glass group.
fn ca(name: &str, extra: Value) -> String {
    let mut p = json!({
        "displayName": name, "state": "enabled",
        "conditions": {"applications": {"includeApplications": ["All"]},
            "clientAppTypes": ["all"],
            "users": {"includeUsers": ["All"], "excludeGroups": ["@group:CA-BreakGlass"]}},
        "grantControls": {"builtInControls": ["mfa"], "operator": "OR"}
    });
    for (k, v) in extra.as_object().unwrap() {
        let (parent, key) = k.split_once('.').unwrap();
        p[parent][key] = v.clone();
    }
    canonical(&p)
}

/// A repository whose main branch passes every conditional access rule, with two duplicate
/// settings-catalog policies and a third that conflicts with both (environment findings that
/// are already on main).
fn guarded_repo() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, repo) = new_repo();
    write_files(
        &repo,
        &[
            (
                "tenants/dev/settings-catalog/a.json",
                &with_setting("WIN-SC-A", 1),
            ),
            (
                "tenants/dev/settings-catalog/b.json",
                &with_setting("WIN-SC-B", 1),
            ),
            (
                "tenants/dev/settings-catalog/c.json",
                &with_setting("WIN-SC-C", 2),
            ),
            (
                "tenants/dev/conditional-access/ca001.json",
                &ca("CA001-Global-RequireMFA", json!({})),
            ),
            (
                "tenants/dev/conditional-access/ca002.json",
                &ca(
                    "CA002-Global-BlockLegacy",
                    json!({"conditions.clientAppTypes": ["exchangeActiveSync", "other"],
                        "grantControls.builtInControls": ["block"]}),
                ),
            ),
            (
                "tenants/dev/conditional-access/ca003.json",
                &ca(
                    "CA003-Global-BlockHighRisk",
                    json!({"conditions.signInRiskLevels": ["high"],
                        "conditions.userRiskLevels": ["high"],
                        "grantControls.builtInControls": ["block"]}),
                ),
            ),
        ],
    );
    write_files(&repo, &[("tenants/dev/.tenantgate/state.json", "{}\n")]);
    commit_all(&repo, "base");
    // Linted whole, main has the duplicate and nothing from conditional access.
    let r = run(&repo, &["lint", "--format", "json"]);
    let f = findings(&r.stdout);
    assert_eq!(of(&f, "hygiene/duplicate-policy").len(), 1, "{f:#?}");
    assert_eq!(of(&f, "settings/conflict").len(), 2, "{f:#?}");
    assert!(
        f.iter().all(|x| !x["rule"]
            .as_str()
            .unwrap()
            .starts_with("conditional-access/")),
        "{f:#?}"
    );
    (tmp, repo)
}

/// The findings of environment rules (the CA rules, duplicates, conflicts).
fn environment_findings(f: &[Value]) -> Vec<(String, String)> {
    f.iter()
        .filter(|x| {
            let r = x["rule"].as_str().unwrap();
            r.starts_with("conditional-access/legacy")
                || r.starts_with("conditional-access/mfa")
                || r.starts_with("conditional-access/high-risk")
                || r == "hygiene/duplicate-policy"
                || r == "settings/conflict"
        })
        .map(|x| {
            (
                x["rule"].as_str().unwrap().to_string(),
                x["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_pull_request_deleting_the_legacy_auth_block_gets_the_legacy_auth_finding() {
    let (_tmp, repo) = guarded_repo();
    git(&repo, &["checkout", "-q", "-b", "drop-legacy"]);
    git(
        &repo,
        &["rm", "-q", "tenants/dev/conditional-access/ca002.json"],
    );
    // Staged: the pre-commit hook sees it first.
    let r = run(&repo, &["lint", "--staged", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let staged = environment_findings(&findings(&r.stdout));
    commit_all(&repo, "drop CA002");
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    assert_eq!(r.code, 1, "an error-severity finding fails the PR: {r:?}");
    let f = findings(&r.stdout);
    let found = environment_findings(&f);
    assert_eq!(
        found,
        [(
            "conditional-access/legacy-auth-blocked".to_string(),
            "no enabled conditional access policy blocks legacy authentication for all users \
             (caused by this change deleting tenants/dev/conditional-access/ca002.json)"
                .to_string()
        )],
        "{f:#?}"
    );
    assert_eq!(staged, found);
    let legacy = of(&f, "conditional-access/legacy-auth-blocked");
    assert_eq!(legacy[0]["path"], "tenants/dev/conditional-access");
    assert_eq!(legacy[0]["severity"], "error");
    // Code scanning shows results on files: the folder's finding is at its first file.
    let results = sarif_of(&repo, &["--base", "main"]);
    let r = result_of(
        &results,
        "conditional-access/legacy-auth-blocked",
        "no enabled",
    );
    let place = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        place["artifactLocation"]["uri"],
        "tenants/dev/conditional-access/ca001.json"
    );
    assert_eq!(place["region"]["startLine"], 1);
    assert_eq!(r["properties"]["folder"], "tenants/dev/conditional-access");
    // And so are the annotations of --format github.
    let r = run(&repo, &["lint", "--base", "main", "--format", "github"]);
    assert!(
        r.stdout.contains(
            "::error file=tenants/dev/conditional-access/ca001.json,line=1,title=conditional-access/legacy-auth-blocked::"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn a_pull_request_deleting_every_ca_policy_gets_the_environment_findings() {
    let (_tmp, repo) = guarded_repo();
    git(&repo, &["checkout", "-q", "-b", "drop-ca"]);
    std::fs::remove_dir_all(repo.join("tenants/dev/conditional-access")).unwrap();
    commit_all(&repo, "drop every CA policy");
    for _ in 0..2 {
        // Twice: the second run takes both sides' facts from the cache.
        let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
        assert_eq!(r.code, 1, "{r:?}");
        let f = findings(&r.stdout);
        let mut rules: Vec<String> = environment_findings(&f)
            .into_iter()
            .map(|(rule, message)| {
                assert!(
                    message.ends_with(
                        "(caused by this change deleting 3 policies: \
                         tenants/dev/conditional-access/ca001.json, \
                         tenants/dev/conditional-access/ca002.json, \
                         tenants/dev/conditional-access/ca003.json)"
                    ),
                    "{message}"
                );
                rule
            })
            .collect();
        rules.sort();
        assert_eq!(
            rules,
            [
                "conditional-access/high-risk-blocked",
                "conditional-access/high-risk-blocked",
                "conditional-access/legacy-auth-blocked",
                "conditional-access/mfa-all-users",
            ],
            "{f:#?}"
        );
    }
    // The folder is gone: code scanning shows the findings on the environment's state file.
    let results = sarif_of(&repo, &["--base", "main"]);
    let r = result_of(
        &results,
        "conditional-access/legacy-auth-blocked",
        "no enabled",
    );
    let place = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        place["artifactLocation"]["uri"],
        "tenants/dev/.tenantgate/state.json"
    );
    assert_eq!(place["region"]["startLine"], 1);
}

#[test]
fn a_pull_request_that_changes_nothing_relevant_gets_no_pre_existing_environment_finding() {
    let (_tmp, repo) = guarded_repo();
    git(&repo, &["checkout", "-q", "-b", "describe"]);
    // Touch one of the two duplicates, which also conflicts with C (a new description is not
    // a setting), rename a CA policy, and add a policy for another group.
    let mut a: Value = serde_json::from_str(&with_setting("WIN-SC-A", 1)).unwrap();
    a["description"] = json!("now with a description");
    put(&repo, "tenants/dev/settings-catalog/a.json", &a);
    let other_group = |value: i64| {
        let mut d: Value = serde_json::from_str(&with_setting("WIN-SC-D", value)).unwrap();
        d["assignments"][0]["target"]["groupId"] = json!("@group:SG-Other");
        d
    };
    put(
        &repo,
        "tenants/dev/settings-catalog/d.json",
        &other_group(3),
    );
    write_files(
        &repo,
        &[(
            "tenants/dev/conditional-access/ca001.json",
            &ca("CA001-Global-RequireMFA-AllApps", json!({})),
        )],
    );
    commit_all(&repo, "describe A, add D");
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let f = findings(&r.stdout);
    assert_eq!(environment_findings(&f), [], "{f:#?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["environments"][0]["checked"], 3);
    // The same change that also makes D a copy of C: only the new duplicate is reported.
    put(
        &repo,
        "tenants/dev/settings-catalog/d.json",
        &other_group(2),
    );
    commit_all(&repo, "D copies C");
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    let f = findings(&r.stdout);
    let dup = of(&f, "hygiene/duplicate-policy");
    assert_eq!(dup.len(), 1, "{f:#?}");
    assert_eq!(dup[0]["path"], "tenants/dev/settings-catalog/d.json");
    assert!(
        !dup[0]["message"].as_str().unwrap().contains("caused by"),
        "an addition, not a deletion: {}",
        dup[0]
    );
}

fn sarif_of(repo: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["lint", "--format", "sarif"];
    all.extend_from_slice(args);
    let r = run(repo, &all);
    assert!(r.code <= 1, "{r:?}");
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    sarif["runs"][0]["results"].as_array().unwrap().clone()
}

/// The one result of `rule` whose message starts with `start`.
fn result_of<'a>(results: &'a [Value], rule: &str, start: &str) -> &'a Value {
    let found: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r["ruleId"] == rule && r["message"]["text"].as_str().unwrap().starts_with(start)
        })
        .collect();
    assert_eq!(found.len(), 1, "{rule} {start}: {results:#?}");
    found[0]
}

fn line_of(r: &Value) -> u64 {
    r["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap()
}

fn fingerprint_of(r: &Value) -> String {
    r["partialFingerprints"]["tenantgateFinding/v1"]
        .as_str()
        .unwrap_or_else(|| panic!("no fingerprint: {r}"))
        .to_string()
}

#[test]
fn sarif_fingerprints_stay_when_unrelated_lines_move() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("bad name"),
    );
    put(
        &repo,
        "tenants/dev/powershell-scripts/map-share.json",
        &json!({"displayName": "WIN-PS-MapShare", "runAsAccount": "system"}),
    );
    let script = "$User = \"svc\"\n$Password = \"Winter2026!\"\nnet use S: \\\\files\\share\n$Token = \"Summer2025!\"\n";
    write_files(
        &repo,
        &[("tenants/dev/powershell-scripts/map-share.ps1", script)],
    );
    let before = sarif_of(&repo, &[]);
    // Every result has a fingerprint, and no two are the same.
    let mut all: Vec<String> = before.iter().map(fingerprint_of).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), before.len(), "{before:#?}");
    let naming = result_of(&before, "hygiene/naming-convention", "\"bad name\"");
    let secrets: Vec<&Value> = before
        .iter()
        .filter(|r| r["ruleId"] == "secrets/credential")
        .collect();
    assert_eq!(secrets.len(), 2, "{before:#?}");
    // Unrelated lines move: two more assignments above the name, three lines above the
    // secrets in the script.
    let mut moved = sc("bad name");
    for g in ["SG-Alpha", "SG-Beta"] {
        moved["assignments"].as_array_mut().unwrap().push(json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": format!("@group:{g}")}}));
    }
    put(&repo, "tenants/dev/settings-catalog/a.json", &moved);
    write_files(
        &repo,
        &[(
            "tenants/dev/powershell-scripts/map-share.ps1",
            &format!("# Maps the share.\n# Owner: desktop team\n\n{script}"),
        )],
    );
    let after = sarif_of(&repo, &[]);
    let naming_after = result_of(&after, "hygiene/naming-convention", "\"bad name\"");
    assert!(line_of(naming_after) > line_of(naming), "the name moved");
    assert_eq!(fingerprint_of(naming_after), fingerprint_of(naming));
    let secrets_after: Vec<&Value> = after
        .iter()
        .filter(|r| r["ruleId"] == "secrets/credential")
        .collect();
    for (a, b) in secrets.iter().zip(&secrets_after) {
        assert_eq!(line_of(b), line_of(a) + 3);
        assert_eq!(fingerprint_of(b), fingerprint_of(a));
    }
    assert_ne!(fingerprint_of(secrets[0]), fingerprint_of(secrets[1]));
}

#[test]
fn the_markdown_report_says_not_run_for_a_control_whose_rules_judged_nothing() {
    let (_tmp, repo) = guarded_repo();
    let line = |md: &str, control: &str| -> String {
        md.lines()
            .find(|l| l.contains(&format!("**{control}**")))
            .unwrap_or_else(|| panic!("no {control}: {md}"))
            .to_string()
    };
    // All three CA policies are there and pass: judged, nothing found.
    let r = run(&repo, &["lint", "--format", "markdown"]);
    assert!(
        line(&r.stdout, "MS.AAD.1.1v1").contains("✅ no findings"),
        "{}",
        r.stdout
    );
    // A pull request that touches only a settings-catalog policy: the CA rules judged
    // nothing, which is not the same as finding nothing.
    git(&repo, &["checkout", "-q", "-b", "describe"]);
    let mut c: Value = serde_json::from_str(&with_setting("WIN-SC-C", 2)).unwrap();
    c["description"] = json!("described");
    put(&repo, "tenants/dev/settings-catalog/c.json", &c);
    commit_all(&repo, "describe C");
    let r = run(&repo, &["lint", "--base", "main", "--format", "markdown"]);
    for control in ["MS.AAD.1.1v1", "MS.AAD.2.1v1", "MS.AAD.3.2v1"] {
        let l = line(&r.stdout, control);
        assert!(
            l.contains("➖ not run") && l.contains("(not run)") && !l.contains("no findings"),
            "{l}"
        );
    }
    // An environment without conditional access policies: not run either.
    let (_tmp2, bare) = new_repo();
    put(
        &bare,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    let r = run(&bare, &["lint", "--format", "markdown"]);
    let l = line(&r.stdout, "MS.AAD.1.1v1");
    assert!(l.contains("➖ not run: no policy its rules judge"), "{l}");
    // A deletion that the rule reports: findings.
    git(
        &repo,
        &["rm", "-q", "tenants/dev/conditional-access/ca002.json"],
    );
    commit_all(&repo, "drop CA002");
    let r = run(&repo, &["lint", "--base", "main", "--format", "markdown"]);
    assert!(
        line(&r.stdout, "MS.AAD.1.1v1").contains("❌ findings"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_change_adding_the_first_ca_policies_gets_the_ca_findings() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    commit_all(&repo, "base: no conditional access exported");
    git(&repo, &["checkout", "-q", "-b", "add-ca"]);
    write_files(
        &repo,
        &[(
            "tenants/dev/conditional-access/ca001.json",
            &ca("CA001-Global-RequireMFA", json!({})),
        )],
    );
    git(&repo, &["add", "-A"]);
    let staged = run(&repo, &["lint", "--staged", "--format", "json"]);
    commit_all(&repo, "export conditional access");
    let pr = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    for r in [staged, pr] {
        assert_eq!(r.code, 1, "{r:?}");
        let f = findings(&r.stdout);
        let mut rules: Vec<String> = environment_findings(&f)
            .into_iter()
            .map(|(rule, message)| {
                assert!(!message.contains("caused by"), "{message}");
                rule
            })
            .collect();
        rules.sort();
        assert_eq!(
            rules,
            [
                "conditional-access/high-risk-blocked",
                "conditional-access/high-risk-blocked",
                "conditional-access/legacy-auth-blocked",
            ],
            "{f:#?}"
        );
    }
}

/// A `tenants/BadEnv/` folder (a name import and export refuse) was linted as an environment
/// and passed; its policies are never exported or applied. It is `format/invalid`.
#[test]
fn a_folder_that_cannot_be_an_environment_is_format_invalid() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    put(
        &repo,
        "tenants/BadEnv/settings-catalog/b.json",
        &sc("WIN-SC-B"),
    );
    let r = run(&repo, &["lint", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = findings(&r.stdout);
    let bad: Vec<&Value> = f.iter().filter(|x| x["path"] == "tenants/BadEnv").collect();
    assert_eq!(bad.len(), 1, "{f:#?}");
    assert_eq!(bad[0]["rule"], "format/invalid");
    assert!(
        f.iter().all(|x| !x["path"]
            .as_str()
            .unwrap_or("")
            .starts_with("tenants/BadEnv/")),
        "its policies are not linted as an environment: {f:#?}"
    );
}

/// A pull request (or a commit, through the hook) that deleted a group still in use passed with
/// exit 0: only changed policies were judged, and the policies pointing at the group had not
/// changed. And a changed policy's findings that its base version already had were reported
/// as the change's. Both are judged against the base now.
#[test]
fn a_change_is_judged_by_what_it_brings_in_on_unchanged_policies_too() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/groups/sg-pilot.json",
        &json!({"displayName": "SG-Pilot", "mailEnabled": false, "securityEnabled": true}),
    );
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    put(
        &repo,
        "tenants/dev/settings-catalog/b.json",
        &sc("Badly named B"),
    );
    commit_all(&repo, "base");
    let r = run(&repo, &["lint", "--format", "json"]);
    let f = findings(&r.stdout);
    assert_eq!(of(&f, "refs/dangling").len(), 0, "{f:#?}");
    assert_eq!(of(&f, "hygiene/naming-convention").len(), 1, "{f:#?}");

    git(&repo, &["checkout", "-q", "-b", "cleanup"]);
    std::fs::remove_file(repo.join("tenants/dev/groups/sg-pilot.json")).unwrap();
    let mut b = sc("Badly named B");
    b["description"] = json!("touched by the pull request");
    put(&repo, "tenants/dev/settings-catalog/b.json", &b);
    // The pre-commit hook's view first: the index against HEAD.
    git(&repo, &["add", "-A"]);
    let r = run(&repo, &["lint", "--staged", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let staged = findings(&r.stdout);
    git(&repo, &["commit", "-q", "-m", "remove the pilot group"]);
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let pr = findings(&r.stdout);
    for f in [&staged, &pr] {
        let dangling = of(f, "refs/dangling");
        let on = |path: &str| dangling.iter().filter(|x| x["path"] == path).count();
        assert_eq!(on("tenants/dev/settings-catalog/a.json"), 1, "{f:#?}");
        assert_eq!(on("tenants/dev/settings-catalog/b.json"), 1, "{f:#?}");
        let unchanged = dangling
            .iter()
            .find(|x| x["path"] == "tenants/dev/settings-catalog/a.json")
            .unwrap();
        assert!(
            unchanged["message"]
                .as_str()
                .unwrap()
                .ends_with("(caused by this change removing or renaming @group:SG-Pilot)"),
            "{unchanged:#?}"
        );
        // b's bad name was there before the change: not the change's finding.
        assert_eq!(of(f, "hygiene/naming-convention").len(), 0, "{f:#?}");
    }
}

/// A symbolic link in tenants/ pointing at a file outside the repository: `fmt` rewrote the
/// outside file, worktree lint skipped it silently, and `--staged` parsed the link's target
/// path as JSON. A link to `..` made `fmt --check` walk forty folders deep. Git keeps only the
/// link, so every mode now says so, and nothing outside the repository is written.
#[cfg(unix)]
#[test]
fn symbolic_links_in_tenants_are_findings_and_never_followed() {
    let (tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    let outside = tmp.path().join("outside.json");
    let text = "{\"name\":\"WIN-SC-Outside\",   \"settings\":[]}";
    std::fs::write(&outside, text).unwrap();
    let dir = repo.join("tenants/dev/settings-catalog");
    std::os::unix::fs::symlink(&outside, dir.join("outside.json")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("loop")).unwrap();

    let r = run(&repo, &["fmt"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        text,
        "fmt wrote outside"
    );
    assert_eq!(r.stderr.matches("a symbolic link").count(), 2, "{r:?}");
    assert!(!r.stderr.contains("loop/"), "{r:?}");

    let links = |r: &common::Run| -> Vec<String> {
        findings(&r.stdout)
            .iter()
            .filter(|f| {
                f["message"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("a symbolic link")
            })
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect()
    };
    let expected = [
        "tenants/dev/settings-catalog/loop",
        "tenants/dev/settings-catalog/outside.json",
    ];
    let r = run(&repo, &["lint", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(links(&r), expected, "{r:?}");
    git(&repo, &["add", "-A"]);
    let r = run(&repo, &["lint", "--staged", "--format", "json"]);
    assert_eq!(links(&r), expected, "{r:?}");
    assert!(!r.stdout.contains("invalid JSON"), "{r:?}");
    git(&repo, &["commit", "-q", "-m", "links"]);
    let r = run(&repo, &["lint", "--rev", "HEAD", "--format", "json"]);
    assert_eq!(links(&r), expected, "{r:?}");
}

/// A pull request adding a copy of a policy got the duplicate finding on the untouched
/// original (at 1:1) whenever the copy's path sorted first. It lands on the copy's name.
#[test]
fn a_duplicate_added_by_a_pull_request_is_reported_on_the_new_copy() {
    let (_tmp, repo) = new_repo();
    let mut original = sc("WIN-SC-Original");
    original["settings"] = json!([{"settingInstance": {
        "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
        "settingDefinitionId": "device_vendor_msft_policy_config_example",
        "simpleSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", "value": 7}
    }}]);
    put(
        &repo,
        "tenants/dev/settings-catalog/win-sc-original.json",
        &original,
    );
    commit_all(&repo, "base");
    git(&repo, &["checkout", "-q", "-b", "copy"]);
    let mut copy = original.clone();
    copy["name"] = json!("WIN-SC-Copy");
    // "win-sc-copy" sorts before "win-sc-original".
    put(
        &repo,
        "tenants/dev/settings-catalog/win-sc-copy.json",
        &copy,
    );
    commit_all(&repo, "copy");
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    let f = findings(&r.stdout);
    let dup = of(&f, "hygiene/duplicate-policy");
    assert_eq!(dup.len(), 1, "{f:#?}");
    assert_eq!(
        dup[0]["path"],
        "tenants/dev/settings-catalog/win-sc-copy.json"
    );
    assert_eq!(dup[0]["pointer"], "/name");
    assert_ne!(dup[0]["line"], 1, "{:#?}", dup[0]);
}

/// When a change removes a group, per-policy rules run again on policies the change did not
/// touch; a rule that fails there on the head's side must be reported, not dropped.
#[test]
fn a_rule_failing_on_an_unchanged_policy_after_a_removal_is_reported() {
    let (_tmp, repo) = new_repo();
    put(
        &repo,
        "tenants/dev/groups/sg-pilot.json",
        &json!({"displayName": "SG-Pilot", "mailEnabled": false, "securityEnabled": true}),
    );
    put(
        &repo,
        "tenants/dev/groups/sg-other.json",
        &json!({"displayName": "SG-Other"}),
    );
    put(
        &repo,
        "tenants/dev/settings-catalog/a.json",
        &sc("WIN-SC-A"),
    );
    write_files(
        &repo,
        &[(
            "rules/pilot.rhai",
            &rule(
                "custom/pilot-group",
                "fn check(policy, ctx) { if ctx.known(\"@group:SG-Pilot\") == false { throw \"no pilot group\"; } [] }",
            ),
        )],
    );
    commit_all(&repo, "base");
    git(&repo, &["checkout", "-q", "-b", "drop-pilot"]);
    std::fs::remove_file(repo.join("tenants/dev/groups/sg-pilot.json")).unwrap();
    commit_all(&repo, "drop the pilot group");
    let r = run(&repo, &["lint", "--base", "main", "--format", "json"]);
    let f = findings(&r.stdout);
    let errors = of(&f, "engine/rule-error");
    assert_eq!(errors.len(), 1, "{f:#?}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("custom/pilot-group"),
        "{f:#?}"
    );
    assert_eq!(r.code, 1, "{r:?}");
}
