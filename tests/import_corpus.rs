//! Importing real exports of other tools (tests/fixtures/corpus): every file is accounted for,
//! references come out symbolic, and a second import changes nothing.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn import_json(repo: &Path, env: &str, from: &str, dir: &Path) -> (Run, Value) {
    let r = run(
        repo,
        &[
            "import",
            "--env",
            env,
            "--from",
            from,
            dir.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    (r, v)
}

/// Every file of the export appears in the report, imported, read or skipped with a reason.
fn assert_every_file_reported(report: &Value, export_root: &Path) {
    let reported: BTreeSet<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let o = f["origin"].as_str().unwrap();
            o.split('#').next().unwrap().to_string()
        })
        .collect();
    for f in report["files"].as_array().unwrap() {
        match f["outcome"].as_str().unwrap() {
            "imported" => assert!(f["path"].as_str().unwrap().starts_with("tenants/")),
            "skipped" => assert!(!f["reason"].as_str().unwrap().is_empty(), "{f}"),
            "used" | "not-applied" => {}
            other => panic!("unexpected outcome {other}"),
        }
    }
    for file in files_below(export_root) {
        if file == "LICENSE" {
            continue;
        }
        let rel = file
            .strip_prefix("Backup/")
            .or_else(|| file.strip_prefix("Config/"))
            .unwrap_or(&file);
        assert!(
            reported.contains(rel),
            "{rel} is neither imported nor reported"
        );
    }
}

#[test]
fn intunecd_backup_every_file_accounted_for_and_reimport_is_a_no_op() {
    let (_tmp, repo) = new_repo();
    let (r, report) = import_json(&repo, "dev", "intunecd", &intunecd_corpus());
    assert_eq!(r.code, 0, "{r:?}");
    assert_every_file_reported(&report, &intunecd_corpus());
    let count = |kind: &str| {
        committed_files(&repo, &format!("tenants/dev/{kind}"))
            .iter()
            .filter(|(p, _)| p.ends_with(".json"))
            .count()
    };
    // The corpus README lists these numbers.
    assert_eq!(count("settings-catalog"), 69);
    assert_eq!(count("compliance-policies"), 18);
    assert_eq!(count("device-configurations"), 7);
    assert_eq!(count("app-protection"), 2);
    assert_eq!(count("shell-scripts"), 7);
    assert_eq!(count("enrollment-configurations"), 6);
    assert_eq!(count("scope-tags"), 1);
    // Role definitions are not a kind we manage: reported, not imported.
    let roles = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["origin"].as_str().unwrap().starts_with("Roles/POC"))
        .unwrap();
    assert_eq!(roles["outcome"], "skipped");
    assert_clean(&repo);
    // More than a hundred new blobs go into one pack of our own making: git must accept it.
    let packs = std::fs::read_dir(repo.join(".git/objects/pack"))
        .unwrap()
        .count();
    assert_eq!(packs, 2, "a .pack and its .idx");
    git(&repo, &["fsck", "--full", "--strict"]);

    let before = committed_files(&repo, "tenants");
    let commits = commit_count(&repo);
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "dev",
            "--from",
            "intunecd",
            intunecd_corpus().to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("No change"), "{r:?}");
    assert_eq!(
        commit_count(&repo),
        commits,
        "a second import made a commit"
    );
    assert_eq!(committed_files(&repo, "tenants"), before);
    assert_clean(&repo);
}

#[test]
fn intunecd_names_become_references_and_missing_assignments_stay_missing() {
    let (_tmp, repo) = new_repo();
    let (r, _) = import_json(&repo, "dev", "intunecd", &intunecd_corpus());
    assert_eq!(r.code, 0, "{r:?}");
    let ios: Value = serde_json::from_slice(
        &std::fs::read(
            repo.join("tenants/dev/app-protection/poc-ios-u-sbl-mszt-appprotection.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let target = &ios["assignments"][0]["target"];
    assert_eq!(target["groupId"], "@group:[SWC] - Intune-Users");
    assert!(
        target.get("groupName").is_none()
            && target.get("groupType").is_none()
            && target.get("membershipRule").is_none()
    );
    assert_eq!(
        ios["roleScopeTagIds"],
        serde_json::json!(["@scopeTag:Default"])
    );

    // Which corpus files had no `assignments` key? Their canonical files have none either.
    let src = intunecd_corpus().join("Backup/Settings Catalog");
    let mut without = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let p = entry.unwrap().path();
        let raw: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let slug = tenantgate::policy::slug::slugify(raw["name"].as_str().unwrap());
        let ours: Value = serde_json::from_slice(
            &std::fs::read(repo.join(format!("tenants/dev/settings-catalog/{slug}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            raw.get("assignments").is_some(),
            ours.get("assignments").is_some(),
            "{}",
            p.display()
        );
        if raw.get("assignments").is_none() {
            without += 1;
        }
        // settings[].id are volatile.
        assert!(
            ours["settings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s.get("id").is_none())
        );
    }
    assert!(without > 0, "the corpus has policies without assignments");
}

#[test]
fn intunemanagement_conditional_access_carries_names_not_guids() {
    let (_tmp, repo) = new_repo();
    let (r, report) = import_json(
        &repo,
        "prod",
        "intunemanagement",
        &intunemanagement_corpus(),
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_every_file_reported(&report, &intunemanagement_corpus());
    let ca = committed_files(&repo, "tenants/prod/conditional-access");
    assert_eq!(ca.len(), 36);
    let mut groups = 0;
    let mut locations = 0;
    for (path, bytes) in &ca {
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            !text.contains("@odata.context")
                && !text.contains("@odata.id")
                && !text.contains("#microsoft.graph.restore"),
            "{path}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        let users = &v["conditions"]["users"];
        for list in ["includeGroups", "excludeGroups"] {
            for g in users[list].as_array().unwrap() {
                let g = g.as_str().unwrap();
                assert!(
                    g.starts_with("@group:") && !g.starts_with("@group:?"),
                    "{path}: {g}"
                );
                groups += 1;
            }
        }
        if let Some(locs) = v["conditions"]["locations"].as_object() {
            for list in ["includeLocations", "excludeLocations"] {
                for l in locs[list].as_array().unwrap() {
                    let l = l.as_str().unwrap();
                    assert!(
                        l == "All"
                            || l == "AllTrusted"
                            || (l.starts_with("@namedLocation:") && !l.contains(":?")),
                        "{path}: {l}"
                    );
                    locations += usize::from(l.starts_with("@namedLocation:"));
                }
            }
        }
        // Sets are sorted.
        let excl: Vec<&str> = users["excludeGroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut sorted = excl.clone();
        sorted.sort();
        assert_eq!(excl, sorted, "{path}");
    }
    assert!(
        groups > 30 && locations > 0,
        "{groups} groups, {locations} locations"
    );
    let ca001 = std::fs::read_to_string(repo.join("tenants/prod/conditional-access/ca001-global-attacksurfacereduction-anyapp-anyplatform-block-countrywhitelist.json")).unwrap();
    assert!(
        ca001.contains("\"@namedLocation:ALLOWED COUNTRIES\""),
        "{ca001}"
    );
    assert!(
        ca001.contains("\"@group:CA-BreakGlassAccounts - Exclude\""),
        "{ca001}"
    );
    // The migration table was read, and its conflicts with the group files reported.
    let files = report["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["origin"] == "MigrationTable.json" && f["outcome"] == "used")
    );
    assert!(!report["conflicts"].as_array().unwrap().is_empty());
    // Groups are definitions only: no members, no ids, no volatile provisioning fields.
    for (path, bytes) in committed_files(&repo, "tenants/prod/groups") {
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        for key in v.as_object().unwrap().keys() {
            assert!(
                [
                    "displayName",
                    "description",
                    "groupTypes",
                    "membershipRule",
                    "membershipRuleProcessingState",
                    "mailEnabled",
                    "securityEnabled",
                    "isAssignableToRole",
                    "visibility"
                ]
                .contains(&key.as_str()),
                "{path}: {key}"
            );
        }
    }

    let commits = commit_count(&repo);
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "prod",
            "--from",
            "intunemanagement",
            intunemanagement_corpus().to_str().unwrap(),
        ],
    );
    assert_eq!((r.code, commit_count(&repo)), (0, commits), "{r:?}");
}

/// Two group files of the conditional access baseline carry one id (20cd89e3…) under
/// different names, and MigrationTable.json sides with the second. The report said the first
/// name was kept, then that the second was: it must state one outcome per id, the name that
/// was committed and that references use, and the sources on each side.
#[test]
fn intunemanagement_conflicts_report_the_group_name_that_was_committed() {
    let (_tmp, repo) = new_repo();
    let corpus = intunemanagement_corpus();
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            "prod",
            "--from",
            "intunemanagement",
            corpus.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let state: Value = serde_json::from_slice(
        &std::fs::read(repo.join("tenants/prod/.tenantgate/state.json")).unwrap(),
    )
    .unwrap();
    let committed = |id: &str| -> (String, String) {
        let (key, entry) = state["policies"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, e)| e["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not in state.json"));
        (key.clone(), entry["name"].as_str().unwrap().to_string())
    };
    let conditional_access: Vec<String> = committed_files(&repo, "tenants/prod/conditional-access")
        .into_iter()
        .map(|(_, b)| String::from_utf8(b).unwrap())
        .collect();
    let conflicts: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("conflict: "))
        .collect();
    let id = "20cd89e3-25e2-4fcd-82c5-de666dfd31a4";
    let about = |id: &str| -> Vec<&str> {
        conflicts
            .iter()
            .copied()
            .filter(|l| l.contains(id))
            .collect()
    };
    assert_eq!(about(id).len(), 1, "one outcome per id: {r:?}");
    let kept = "CA005-Global-DataProtection-Office365-iOSenAndroid-ClientApps-Unmanaged-AppEnforcedRestrictions - Exclude";
    let lost = "CA005-Global-DataProtection-Office365-AnyPlatform-Unmanaged-RequireAppProtection - Exclude";
    assert_eq!(
        about(id)[0],
        format!(
            "conflict: group {id} is named {kept:?} in Groups/CA005-Global-DataProtection-Office365-iOSenAndroid-ClientApps-Unmanaged-RequireAppProtection - Exclude.json and MigrationTable.json, but {lost:?} in Groups/{lost}.json; kept {kept:?} because MigrationTable.json is authoritative"
        )
    );
    // The file of the losing name is the copy that was left out.
    assert!(
        r.stdout.contains(&format!(
            "skipped     Groups/{lost}.json: same object (id {id}) as Groups/CA005-Global-DataProtection-Office365-iOSenAndroid-ClientApps-Unmanaged-RequireAppProtection - Exclude.json"
        )),
        "{r:?}"
    );
    // No policy refers to the group by the name that lost.
    let stale = format!("\"@group:{lost}\"");
    assert!(
        conditional_access.iter().all(|t| !t.contains(&stale)),
        "a policy refers to the dropped name {stale}"
    );
    // Every conflict line agrees with what was committed: the group file of the id has the
    // kept name, and a policy refers to the group by it.
    assert!(!conflicts.is_empty());
    for line in &conflicts {
        let id = line.split(' ').nth(2).unwrap();
        assert_eq!(about(id).len(), 1, "{id}: {r:?}");
        let (_, tail) = line.rsplit_once("; kept ").unwrap();
        let (quoted, why) = tail.rsplit_once(" because ").unwrap();
        let name: String = serde_json::from_str(quoted).unwrap();
        assert_eq!(why, "MigrationTable.json is authoritative", "{line}");
        let (key, committed_name) = committed(id);
        assert_eq!(committed_name, name, "{line}");
        let group: Value = serde_json::from_slice(
            &std::fs::read(repo.join(format!("tenants/prod/{key}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(group["displayName"], name.as_str(), "{line}");
        let reference = format!("\"@group:{name}\"");
        assert!(
            conditional_access.iter().any(|t| t.contains(&reference)),
            "no policy refers to {reference}"
        );
    }
}

#[test]
fn both_corpora_side_by_side_keep_their_environments_apart() {
    let (_tmp, repo) = new_repo();
    assert_eq!(
        import_json(&repo, "dev", "intunecd", &intunecd_corpus())
            .0
            .code,
        0
    );
    let dev_before = committed_files(&repo, "tenants/dev");
    assert_eq!(
        import_json(
            &repo,
            "prod",
            "intunemanagement",
            &intunemanagement_corpus()
        )
        .0
        .code,
        0
    );
    assert_eq!(
        committed_files(&repo, "tenants/dev"),
        dev_before,
        "importing prod touched dev"
    );
    let log = git(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        log.contains("\nTenant: prod\n") && log.contains("Source: intunemanagement:"),
        "{log}"
    );
}
