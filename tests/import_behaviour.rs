//! Import semantics (design §1 and §4): secrets never reach Git, hostile names give safe file
//! names, bad input is reported and never deletes a kind, commits behave like a careful user.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;

fn graph_policy(id: &str, name: &str) -> Value {
    json!({
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/configurationPolicies/$entity",
        "id": id,
        "name": name,
        "description": "",
        "platforms": "windows10",
        "technologies": "mdm",
        "roleScopeTagIds": ["0"],
        "settingCount": 1,
        "createdDateTime": "2025-01-01T00:00:00Z",
        "lastModifiedDateTime": "2025-01-01T00:00:00Z",
        "settings": [{"id": "0", "settingInstance": {
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
            "settingDefinitionId": "device_vendor_msft_policy_config_x",
            "simpleSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", "value": 1}
        }}]
    })
}

fn write_json(dir: &Path, rel: &str, v: &Value) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn import(repo: &Path, env: &str, dir: &Path) -> Run {
    run(
        repo,
        &[
            "import",
            "--env",
            env,
            "--from",
            "graph",
            dir.to_str().unwrap(),
        ],
    )
}

#[test]
fn no_secret_reaches_git() {
    let (tmp, repo) = new_repo();
    let seed = tmp.path().join("seed");
    tenantgate::seed::extract("dev", &seed).unwrap();
    // The seed's Wi-Fi pre-shared key and encrypted OMA-URI value.
    let wifi: Value = serde_json::from_slice(
        &std::fs::read(seed.join("deviceConfigurations/win-dc-wifi-guest.json")).unwrap(),
    )
    .unwrap();
    let psk = wifi["preSharedKey"].as_str().unwrap().to_string();
    let oma: Value = serde_json::from_slice(
        &std::fs::read(seed.join("deviceConfigurations/win-dc-oma-lab-workstations.json")).unwrap(),
    )
    .unwrap();
    let encrypted: Vec<String> = oma["omaSettings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["isEncrypted"] == true)
        .map(|s| s["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(psk, "Contoso-Guest-2026!");
    assert_eq!(encrypted.len(), 1);

    let r = import(&repo, "dev", &seed);
    assert_eq!(r.code, 0, "{r:?}");
    // Every blob of every commit, every tree: nothing holds the secrets.
    let all_objects = git(&repo, &["rev-list", "--objects", "--all"]);
    let mut blobs = 0;
    for line in all_objects.lines() {
        let id = line.split(' ').next().unwrap();
        let kind = git(&repo, &["cat-file", "-t", id]);
        if kind.trim() != "blob" {
            continue;
        }
        let bytes = std::process::Command::new("git")
            .current_dir(&repo)
            .args(["cat-file", "blob", id])
            .output()
            .unwrap()
            .stdout;
        let text = String::from_utf8_lossy(&bytes);
        for secret in std::iter::once(&psk).chain(&encrypted) {
            assert!(!text.contains(secret.as_str()), "blob {id} holds a secret");
        }
        blobs += 1;
    }
    assert!(blobs > 50);
    let wifi = std::fs::read_to_string(
        repo.join("tenants/dev/device-configurations/win-dc-wifi-guest.json"),
    )
    .unwrap();
    assert!(
        wifi.contains(
            "\"preSharedKey\": \"@secret:device-configurations/win-dc-wifi-guest/preSharedKey\""
        ),
        "{wifi}"
    );
    let oma = std::fs::read_to_string(
        repo.join("tenants/dev/device-configurations/win-dc-oma-lab-workstations.json"),
    )
    .unwrap();
    assert!(
        oma.contains("\"@secret:device-configurations/win-dc-oma-lab-workstations/omaSettings/"),
        "{oma}"
    );
    assert!(!oma.contains("secretReferenceValueId"));
    // state.json records the secret names, so a rename keeps them.
    let state: Value = serde_json::from_slice(
        &std::fs::read(repo.join("tenants/dev/.tenantgate/state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["policies"]["device-configurations/win-dc-wifi-guest"]["secrets"]["preSharedKey"],
        "device-configurations/win-dc-wifi-guest/preSharedKey"
    );
}

#[test]
fn a_renamed_policy_moves_its_file_and_keeps_its_secret_name() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    let wifi = |name: &str| {
        json!({
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/deviceConfigurations/$entity",
            "@odata.type": "#microsoft.graph.windowsWifiConfiguration",
            "id": "11111111-2222-4333-8444-555555555555",
            "displayName": name,
            "ssid": "guest",
            "preSharedKey": "correct horse battery staple"
        })
    };
    write_json(&export, "wifi.json", &wifi("Guest Wi-Fi"));
    assert_eq!(import(&repo, "dev", &export).code, 0);
    write_json(&export, "wifi.json", &wifi("Guest Wi-Fi 2026"));
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("renamed from tenants/dev/device-configurations/guest-wi-fi.json"),
        "{r:?}"
    );
    let files: Vec<String> = committed_files(&repo, "tenants/dev/device-configurations")
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        files,
        vec!["tenants/dev/device-configurations/guest-wi-fi-2026.json"]
    );
    let text = std::fs::read_to_string(repo.join(&files[0])).unwrap();
    assert!(
        text.contains("@secret:device-configurations/guest-wi-fi/preSharedKey"),
        "{text}"
    );
    let log = git(&repo, &["log", "-1", "--stat", "-M", "--format=%s"]);
    assert!(log.contains("=>"), "Git sees a rename: {log}");
    assert_clean(&repo);
}

#[test]
fn hostile_names_give_safe_stable_distinct_files() {
    let names = [
        "../../etc/passwd",
        "CON",
        &"x".repeat(300),
        "🔥 Firewall 🔥",
        "Same name",
        "Same name",
        "Case Only",
        "case only",
        "a/b\\c:d*e?f\"g<h>i|j",
        "",
    ];
    let build = |dir: &Path, order: &[usize]| {
        for (n, &i) in order.iter().enumerate() {
            let id = format!("00000000-0000-4000-8000-{:012}", i);
            write_json(
                dir,
                &format!("configurationPolicies/{n}.json"),
                &graph_policy(&id, names[i]),
            );
        }
    };
    let (tmp, repo) = new_repo();
    let a = tmp.path().join("a");
    build(&a, &(0..names.len()).collect::<Vec<_>>());
    let r = import(&repo, "dev", &a);
    assert_eq!(r.code, 0, "{r:?}");
    let files: Vec<String> = committed_files(&repo, "tenants/dev/settings-catalog")
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    assert_eq!(files.len(), names.len(), "{files:?}");
    for f in &files {
        let name = f.strip_prefix("tenants/dev/settings-catalog/").unwrap();
        assert!(
            !name.contains('/') && !name.contains('\\') && !name.starts_with('.'),
            "{name}"
        );
        let stem = name.strip_suffix(".json").unwrap();
        assert!(
            stem.len() <= 84
                && stem
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{stem}"
        );
        assert_ne!(stem, "con");
    }
    assert!(
        files.iter().any(|f| f.ends_with("/etc-passwd.json")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("/con-x.json")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("/same-name-2.json")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("/case-only-2.json")),
        "{files:?}"
    );
    // Nothing escaped the repository.
    assert!(!repo.join("etc").exists() && !tmp.path().join("etc").exists());

    // The same policies in another order, into a fresh repository: the same files.
    let (tmp2, repo2) = new_repo();
    let b = tmp2.path().join("b");
    build(&b, &(0..names.len()).rev().collect::<Vec<_>>());
    assert_eq!(import(&repo2, "dev", &b).code, 0);
    assert_eq!(
        committed_files(&repo2, "tenants/dev/settings-catalog"),
        committed_files(&repo, "tenants/dev/settings-catalog")
    );
}

#[test]
fn bad_files_are_reported_with_file_and_reason_and_never_delete_a_kind() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    write_json(
        &export,
        "configurationPolicies/b.json",
        &graph_policy("00000000-0000-4000-8000-00000000000b", "Bravo"),
    );
    assert_eq!(import(&repo, "dev", &export).code, 0);
    let before = committed_files(&repo, "tenants/dev");
    let commits = commit_count(&repo);

    // Bravo is gone from the export and a settings-catalog file is truncated: the kind must
    // stay exactly as it is (Bravo is not deleted), and the run says why, with exit 1.
    std::fs::remove_file(export.join("configurationPolicies/b.json")).unwrap();
    let full = serde_json::to_string_pretty(&graph_policy(
        "00000000-0000-4000-8000-00000000000c",
        "Charlie",
    ))
    .unwrap();
    std::fs::write(
        export.join("configurationPolicies/c.json"),
        &full[..full.len() / 2],
    )
    .unwrap();
    std::fs::write(
        export.join("configurationPolicies/d.json"),
        "{\n  \"name\": nope\n}",
    )
    .unwrap();
    write_json(
        &export,
        "other/unknown.json",
        &json!({"@odata.type": "#microsoft.graph.somethingWeDoNotManage", "id": "x", "displayName": "?"}),
    );
    std::fs::write(export.join("other/notes.txt"), "hello").unwrap();
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("unreadable  configurationPolicies/c.json: line"),
        "{r:?}"
    );
    assert!(r.stdout.contains("truncated"), "{r:?}");
    assert!(
        r.stdout
            .contains("unreadable  configurationPolicies/d.json: line 2, column"),
        "{r:?}"
    );
    assert!(r.stdout.contains("skipped     other/unknown.json: @odata.type #microsoft.graph.somethingWeDoNotManage is not a kind TenantGate manages"), "{r:?}");
    assert!(
        r.stdout
            .contains("skipped     other/notes.txt: not a JSON file"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("settings-catalog            left as it is"),
        "{r:?}"
    );
    assert_eq!(
        committed_files(&repo, "tenants/dev"),
        before,
        "the kind changed"
    );
    assert_eq!(commit_count(&repo), commits);
    assert!(r.stderr.is_empty(), "{r:?}");
}

/// serde_json keeps the last of two equal keys: an export file with `name` twice was imported
/// with the second name, the first dropped without a word. It is unreadable instead, and its
/// kind stays as it is, as with any other invalid JSON.
#[test]
fn a_duplicate_key_in_an_export_file_leaves_its_kind_as_it_is() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    assert_eq!(import(&repo, "dev", &export).code, 0);
    let before = committed_files(&repo, "tenants/dev");
    let commits = commit_count(&repo);
    std::fs::write(
        export.join("configurationPolicies/a.json"),
        "{\n  \"id\": \"00000000-0000-4000-8000-00000000000a\",\n  \"name\": \"Alpha\",\n  \"platforms\": \"windows10\",\n  \"technologies\": \"mdm\",\n  \"name\": \"Alpha renamed\",\n  \"settings\": []\n}\n",
    )
    .unwrap();
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "unreadable  configurationPolicies/a.json: duplicate key \"name\" at line 6 column 3: keep one of them"
        ),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("settings-catalog            left as it is"),
        "{r:?}"
    );
    assert_eq!(committed_files(&repo, "tenants/dev"), before);
    assert_eq!(commit_count(&repo), commits);
}

/// A MigrationTable.json of the wrong shape was reported as "line 2, column 14: not a
/// migration table: invalid type: … at line 2 column 14", the position twice.
#[test]
fn a_bad_migration_table_states_its_position_once() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("Config");
    write_files(
        &export,
        &[("MigrationTable.json", "{\n  \"Objects\": 5\n}\n")],
    );
    let args = |dir: &Path| -> Run {
        run(
            &repo,
            &[
                "import",
                "--env",
                "dev",
                "--from",
                "intunemanagement",
                dir.to_str().unwrap(),
            ],
        )
    };
    let r = args(&export);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "unreadable  MigrationTable.json: line 2, column 14: not a migration table: invalid type: integer `5`, expected a sequence\n"
        ),
        "{r:?}"
    );
    // A duplicate key there is named like in any other file.
    write_files(
        &export,
        &[(
            "MigrationTable.json",
            "{\n  \"Objects\": [],\n  \"Objects\": []\n}\n",
        )],
    );
    let r = args(&export);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "unreadable  MigrationTable.json: duplicate key \"Objects\" at line 3 column 3: keep one of them\n"
        ),
        "{r:?}"
    );
}

#[test]
fn an_unreadable_file_of_unknown_kind_blocks_every_kind() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    assert_eq!(import(&repo, "dev", &export).code, 0);
    std::fs::remove_file(export.join("configurationPolicies/a.json")).unwrap();
    write_json(
        &export,
        "configurationPolicies/b.json",
        &graph_policy("00000000-0000-4000-8000-00000000000b", "Bravo"),
    );
    std::fs::write(export.join("mystery.json"), b"\xFF\xFE{\x00").unwrap();
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("unreadable  mystery.json"), "{r:?}");
    assert!(
        repo.join("tenants/dev/settings-catalog/alpha.json")
            .exists()
    );
    assert!(
        !repo
            .join("tenants/dev/settings-catalog/bravo.json")
            .exists()
    );
}

#[test]
fn not_an_export_is_exit_2_with_a_reason() {
    let (tmp, repo) = new_repo();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("readme.md"), "# hi").unwrap();
    for from in ["intunecd", "intunemanagement", "graph"] {
        let r = run(
            &repo,
            &[
                "import",
                "--env",
                "dev",
                "--from",
                from,
                empty.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 2, "{from}: {r:?}");
        assert!(
            r.stderr.starts_with("error: ") && r.stderr.contains("empty"),
            "{from}: {r:?}"
        );
    }
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            tmp.path().join("missing").to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no such folder"), "{r:?}");
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "../x",
            "--from",
            "graph",
            empty.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("cannot be a folder name"), "{r:?}");
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "nonsense",
            empty.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    // Outside a policy repository.
    let r = run(
        tmp.path(),
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            empty.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn import_refuses_uncommitted_changes_in_the_environment() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    assert_eq!(import(&repo, "dev", &export).code, 0);
    std::fs::write(repo.join("tenants/dev/settings-catalog/alpha.json"), "{}\n").unwrap();
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("uncommitted changes in tenants/dev/") && r.stderr.contains("alpha.json"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("tenants/dev/settings-catalog/alpha.json")).unwrap(),
        "{}\n",
        "the user's edit was overwritten"
    );
    // Another environment is not blocked by it.
    assert_eq!(import(&repo, "prod", &export).code, 0);
    // An untracked file blocks too.
    git(&repo, &["checkout", "--", "tenants/dev"]);
    std::fs::write(repo.join("tenants/dev/settings-catalog/new.json"), "{}\n").unwrap();
    assert_eq!(import(&repo, "dev", &export).code, 2);
}

#[test]
fn branch_no_commit_and_bare_repositories() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    let main = head(&repo);

    // --branch: a new branch from HEAD; HEAD, worktree and index stay as they are.
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            export.to_str().unwrap(),
            "--branch",
            "tenantgate/import",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(head(&repo), main);
    assert!(!repo.join("tenants").exists());
    assert_clean(&repo);
    let files = git(
        &repo,
        &["ls-tree", "-r", "--name-only", "tenantgate/import"],
    );
    assert!(
        files.contains("tenants/dev/settings-catalog/alpha.json"),
        "{files}"
    );
    assert_eq!(
        git(&repo, &["rev-parse", "tenantgate/import~1"]).trim(),
        main
    );

    // --no-commit: files in the worktree, no commit.
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            export.to_str().unwrap(),
            "--no-commit",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(head(&repo), main);
    assert!(
        repo.join("tenants/dev/settings-catalog/alpha.json")
            .exists()
    );
    assert!(git(&repo, &["status", "--porcelain"]).contains("tenants/"));

    // A bare clone: commits without a worktree.
    let bare = tmp.path().join("bare.git");
    git(
        tmp.path(),
        &[
            "clone",
            "--bare",
            "-q",
            repo.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let r = run(
        &bare,
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
    let files = git(&bare, &["ls-tree", "-r", "--name-only", "HEAD"]);
    assert!(
        files.contains("tenants/dev/.tenantgate/state.json"),
        "{files}"
    );
    let r = run(
        &bare,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            export.to_str().unwrap(),
            "--no-commit",
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn commit_message_summarises_per_kind_with_trailers() {
    let (tmp, repo) = new_repo();
    std::fs::write(
        repo.join("tenantgate.toml"),
        "format = 1\n\n[environments.dev]\ntenant = \"contoso-dev.onmicrosoft.com\"\n",
    )
    .unwrap();
    git(&repo, &["commit", "-qam", "configure dev"]);
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    write_json(
        &export,
        "configurationPolicies/b.json",
        &graph_policy("00000000-0000-4000-8000-00000000000b", "Bravo"),
    );
    assert_eq!(import(&repo, "dev", &export).code, 0);
    let msg = git(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        msg.starts_with("tenantgate: import dev: settings-catalog 2 added"),
        "{msg}"
    );
    assert!(msg.contains("\nsettings-catalog: 2 added\n"), "{msg}");
    assert!(
        msg.contains("\nTenant: contoso-dev.onmicrosoft.com\nSource: graph:")
            && msg.contains("/export\n"),
        "{msg}"
    );
    let trailers = git(
        &repo,
        &["log", "-1", "--format=%(trailers:key=Tenant,valueonly)"],
    );
    assert_eq!(trailers.trim(), "contoso-dev.onmicrosoft.com");

    std::fs::remove_file(export.join("configurationPolicies/b.json")).unwrap();
    let mut changed = graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha");
    changed["description"] = json!("now with a description");
    write_json(&export, "configurationPolicies/a.json", &changed);
    assert_eq!(import(&repo, "dev", &export).code, 0);
    let msg = git(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        msg.contains("settings-catalog: 1 changed, 1 removed"),
        "{msg}"
    );
    assert_clean(&repo);
}

#[test]
fn a_newer_repository_format_is_refused() {
    let (tmp, repo) = new_repo();
    std::fs::write(repo.join("tenantgate.toml"), "format = 2\n").unwrap();
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "graph",
            tmp.path().to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("tenantgate.toml:1:10: format 2 was written by a newer TenantGate"),
        "{r:?}"
    );
}

#[test]
fn one_page_of_a_paged_list_never_replaces_a_kind() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    write_json(
        &export,
        "configurationPolicies/b.json",
        &graph_policy("00000000-0000-4000-8000-00000000000b", "Bravo"),
    );
    assert_eq!(import(&repo, "dev", &export).code, 0);
    std::fs::remove_dir_all(&export).unwrap();
    let page = json!({
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/configurationPolicies",
        "@odata.nextLink": "https://graph.microsoft.com/beta/deviceManagement/configurationPolicies?$skiptoken=abc",
        "value": [graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha")]
    });
    write_json(&export, "page1.json", &page);
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("unreadable  page1.json: one page of a paged list"),
        "{r:?}"
    );
    assert!(
        repo.join("tenants/dev/settings-catalog/bravo.json")
            .exists(),
        "bravo was deleted"
    );
}

#[test]
fn an_unreadable_file_makes_the_run_incomplete_even_when_nothing_else_of_its_kind_is_there() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    std::fs::create_dir_all(export.join("deviceConfigurations")).unwrap();
    std::fs::write(
        export.join("deviceConfigurations/broken.json"),
        "{\"displayName\": ",
    )
    .unwrap();
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("device-configurations       left as it is"),
        "{r:?}"
    );
    // The readable kind was still imported.
    assert!(
        repo.join("tenants/dev/settings-catalog/alpha.json")
            .exists()
    );
}

#[test]
fn a_yaml_backup_in_a_kind_folder_leaves_that_kind_alone() {
    let (tmp, repo) = new_repo();
    let backup = tmp.path().join("Backup");
    let policy =
        json!({"name": "Alpha", "platforms": "windows10", "technologies": "mdm", "settings": []});
    write_json(&backup, "Settings Catalog/Alpha_mdm.json", &policy);
    assert_eq!(
        run(
            &repo,
            &[
                "import",
                "--env",
                "dev",
                "--from",
                "intunecd",
                backup.to_str().unwrap()
            ]
        )
        .code,
        0
    );
    std::fs::remove_file(backup.join("Settings Catalog/Alpha_mdm.json")).unwrap();
    std::fs::write(
        backup.join("Settings Catalog/Alpha_mdm.yaml"),
        "name: Alpha\n",
    )
    .unwrap();
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "intunecd",
            backup.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "unreadable  Settings Catalog/Alpha_mdm.yaml: YAML backups are not supported"
        ),
        "{r:?}"
    );
    assert!(
        repo.join("tenants/dev/settings-catalog/alpha.json")
            .exists()
    );
}

#[test]
fn a_new_graph_type_in_a_kind_folder_is_imported_as_that_kind() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    write_json(
        &export,
        "deviceCompliancePolicies/x.json",
        &json!({"@odata.type": "#microsoft.graph.visionOSCompliancePolicy", "id": "00000000-0000-4000-8000-00000000000a", "displayName": "Vision Pro"}),
    );
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 0, "{r:?}");
    let text =
        std::fs::read_to_string(repo.join("tenants/dev/compliance-policies/vision-pro.json"))
            .unwrap();
    assert!(
        text.contains("\"@odata.type\": \"#microsoft.graph.visionOSCompliancePolicy\""),
        "{text}"
    );
}

#[test]
fn an_environment_imports_only_the_kinds_it_manages() {
    let (tmp, repo) = new_repo();
    std::fs::write(
        repo.join("tenantgate.toml"),
        "format = 1\n\n[environments.dev]\nkinds = [\"conditional-access\"]\n",
    )
    .unwrap();
    git(
        &repo,
        &["commit", "-qam", "dev manages conditional access only"],
    );
    let export = tmp.path().join("export");
    write_json(
        &export,
        "configurationPolicies/a.json",
        &graph_policy("00000000-0000-4000-8000-00000000000a", "Alpha"),
    );
    let r = import(&repo, "dev", &export);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("settings-catalog is not one of the kinds environment dev manages"),
        "{r:?}"
    );
    assert!(!repo.join("tenants/dev/settings-catalog").exists());
}

/// A symbolic link back to a folder above it was followed until the OS gave up ("too many
/// levels of symbolic links", with a path of forty repeated folders). It is named as a loop.
#[cfg(unix)]
#[test]
fn a_symbolic_link_loop_in_an_export_is_named() {
    let (tmp, repo) = new_repo();
    let export = tmp.path().join("export");
    let dir = export.join("settings-catalog");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.json"), r#"{"name": "A", "settings": []}"#).unwrap();
    std::os::unix::fs::symlink(&export, dir.join("loop")).unwrap();
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
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("settings-catalog/loop"), "{r:?}");
    assert!(r.stderr.contains("a symbolic link back to"), "{r:?}");
    assert!(!r.stderr.contains("loop/settings-catalog/loop"), "{r:?}");
}
