//! The failure half of "complete or a clean failure": faults that outlast the retries, on one
//! part of one kind (reads by id, `/settings` pages, assignments), paging that never ends,
//! "not found" that is not a deletion, and a refused token. A repository that already holds a
//! snapshot keeps the kind's files byte for byte, the export exits 1 (or 2 when nothing can be
//! written) and says why. Confirmed deletions, by contrast, are committed and reported.

mod common;

use common::graph::*;
use common::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use tenantgate::sim::{Fault, FaultRule, Faults, SimConfig, Target, Tenant};

const POLICIES: &str = "deviceManagement/configurationPolicies";
const SCRIPTS: &str = "deviceManagement/deviceManagementScripts";
const CONFIGURATIONS: &str = "deviceManagement/deviceConfigurations";
const COMPLIANCE: &str = "deviceManagement/deviceCompliancePolicies";

/// A repository holding an export of DEV, configured for a simulator: (temp dir, repo,
/// the URL it points at).
fn exported_repo() -> (tempfile::TempDir, PathBuf, String) {
    let clean = start(dev(), SimConfig::default());
    let (tmp, repo) = new_repo();
    configure(&repo, "dev", &clean.url(), "");
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    (tmp, repo, clean.url())
}

/// Every object of `path` gets a new description, so a kind that was committed would change.
fn change_all(t: &mut Tenant, path: &str) {
    let coll = t.coll_mut(path);
    for o in coll.objs.values_mut() {
        o.base
            .insert("description".into(), json!("changed in the portal"));
    }
}

/// Export DEV, changed by `change`, from a simulator with `config` into a repository that holds
/// a snapshot: `kind` must keep its files byte for byte, the export must exit `code` and say
/// `expect`; other kinds are still exported (exit 1) or nothing is (exit 2).
fn left_as_it_is(
    kind: &str,
    change: impl FnOnce(&mut Tenant),
    config: SimConfig,
    code: i32,
    expect: &str,
) -> (tenantgate::sim::Running, Run) {
    let (_tmp, repo, clean_url) = exported_repo();
    let prefix = format!("tenants/dev/{kind}");
    let before = committed_files(&repo, &prefix);
    assert!(!before.is_empty(), "{kind} has no files");
    let head_before = head(&repo);
    let mut t = dev();
    change(&mut t);
    change_all(&mut t, POLICIES);
    let s = start(t, config);
    point_at(&repo, &clean_url, &s.url());
    let r = export_impatient(&repo, &["--env", "dev"]);
    assert_eq!(r.code, code, "{r:?}");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains(expect), "{expect:?} not said:\n{r:?}");
    assert_eq!(
        committed_files(&repo, &prefix),
        before,
        "{kind} changed in Git"
    );
    assert!(git(&repo, &["status", "--porcelain", "tenants"]).is_empty());
    if code == 1 {
        assert!(
            r.stdout.contains(&format!(
                "{kind:<27} left as it is: it could not be read completely from the tenant"
            )),
            "{r:?}"
        );
        assert!(r.stdout.contains(&format!("Incomplete: {kind}")), "{r:?}");
        // The readable kinds were exported.
        if kind != "settings-catalog" {
            assert!(r.stdout.contains("settings-catalog"), "{r:?}");
            assert_ne!(head(&repo), head_before, "nothing was committed");
            let body = git(&repo, &["log", "-1", "--format=%B"]);
            assert!(
                body.contains("part(s) of the tenant could not be read; see the export report"),
                "{body}"
            );
        }
    } else {
        assert_eq!(head(&repo), head_before, "a commit after a fatal error");
        assert!(r.stdout.is_empty(), "{r:?}");
    }
    (s, r)
}

fn faults(rules: Vec<FaultRule>) -> SimConfig {
    SimConfig {
        faults: Faults {
            seed: 17,
            rules,
            ..Faults::default()
        },
        ..SimConfig::default()
    }
}

#[test]
fn a_403_on_reads_by_id_only_leaves_that_kind_as_it_is() {
    left_as_it_is(
        "powershell-scripts",
        |t| change_all(t, SCRIPTS),
        faults(vec![FaultRule::new(
            SCRIPTS,
            Target::Item,
            Fault::Status(403),
        )]),
        1,
        "returned 403: Forbidden",
    );
}

#[test]
fn a_500_on_reads_by_id_past_the_retries_leaves_that_kind_as_it_is() {
    left_as_it_is(
        "powershell-scripts",
        |t| change_all(t, SCRIPTS),
        faults(vec![FaultRule::new(
            SCRIPTS,
            Target::Item,
            Fault::Status(500),
        )]),
        1,
        "gave up after 3 attempts; last failure: HTTP 500",
    );
}

#[test]
fn a_403_on_settings_pages_only_leaves_the_settings_catalog_as_it_is() {
    left_as_it_is(
        "settings-catalog",
        |_| {},
        faults(vec![FaultRule::new(
            POLICIES,
            Target::Nav("settings".into()),
            Fault::Status(403),
        )]),
        1,
        "/settings returned 403: Forbidden",
    );
}

#[test]
fn a_500_on_later_settings_pages_past_the_retries_leaves_the_settings_catalog_as_it_is() {
    // Only the pages after the first fail: `$skiptoken` is in their links.
    let mut rule = FaultRule::new(POLICIES, Target::Nav("settings".into()), Fault::Status(500));
    rule.probability = 1.0;
    let config = SimConfig {
        nav_page_size: 5,
        ..faults(vec![rule])
    };
    left_as_it_is(
        "settings-catalog",
        |_| {},
        config,
        1,
        "gave up after 3 attempts",
    );
}

#[test]
fn a_403_on_assignment_pages_only_leaves_that_kind_as_it_is() {
    let config = SimConfig {
        list_expansion_page_size: Some(1),
        ..faults(vec![FaultRule::new(
            CONFIGURATIONS,
            Target::Nav("assignments".into()),
            Fault::Status(403),
        )])
    };
    left_as_it_is(
        "device-configurations",
        |t| change_all(t, CONFIGURATIONS),
        config,
        1,
        "/assignments?$skiptoken=o1 returned 403: Forbidden",
    );
}

#[test]
fn connections_that_always_drop_on_one_collection_leave_that_kind_as_it_is() {
    left_as_it_is(
        "compliance-policies",
        |t| change_all(t, COMPLIANCE),
        faults(vec![FaultRule::new(COMPLIANCE, Target::All, Fault::Drop)]),
        1,
        "gave up after 3 attempts",
    );
}

#[test]
fn bodies_always_cut_short_on_one_collection_leave_that_kind_as_it_is() {
    left_as_it_is(
        "compliance-policies",
        |t| change_all(t, COMPLIANCE),
        faults(vec![FaultRule::new(
            COMPLIANCE,
            Target::Nav("scheduledActionsForRule".into()),
            Fault::Truncate,
        )]),
        1,
        "incomplete response body",
    );
}

#[test]
fn a_503_nineteen_times_in_twenty_with_retry_after_leaves_that_kind_as_it_is() {
    let mut rule = FaultRule::new(CONFIGURATIONS, Target::All, Fault::Status(503));
    rule.probability = 0.95;
    let mut config = faults(vec![rule]);
    config.faults.retry_after_503 = Some(1);
    left_as_it_is(
        "device-configurations",
        |t| change_all(t, CONFIGURATIONS),
        config,
        1,
        "HTTP 503",
    );
}

#[test]
fn paging_that_loops_leaves_the_kind_as_it_is() {
    let config = SimConfig {
        faults: Faults {
            cycle: vec![POLICIES.into()],
            ..Faults::default()
        },
        ..SimConfig::default()
    };
    left_as_it_is(
        "settings-catalog",
        |_| {},
        config,
        1,
        "@odata.nextLink repeats a page already read",
    );
}

#[test]
fn a_404_on_settings_of_a_policy_that_still_exists_is_not_a_deletion() {
    let t = dev();
    let id = t.coll(POLICIES).order[3].clone();
    let mut rule = FaultRule::new(POLICIES, Target::Nav("settings".into()), Fault::Status(404));
    rule.id = Some(id);
    left_as_it_is(
        "settings-catalog",
        |_| {},
        faults(vec![rule]),
        1,
        "finds the object; a read that loses an existing object is not trusted",
    );
}

#[test]
fn a_404_on_a_script_read_by_id_that_is_still_listed_is_not_a_deletion() {
    let t = dev();
    let id = t.coll(SCRIPTS).order[0].clone();
    let mut rule = FaultRule::new(SCRIPTS, Target::Item, Fault::Status(404));
    rule.id = Some(id.clone());
    left_as_it_is(
        "powershell-scripts",
        |t| change_all(t, SCRIPTS),
        faults(vec![rule]),
        1,
        &format!("still names {id}"),
    );
}

#[test]
fn objects_deleted_while_the_export_reads_are_left_out_and_reported() {
    let (_tmp, repo, clean_url) = exported_repo();
    let t = dev();
    let policy = t.coll(POLICIES).order[2].clone();
    let policy_name = t.coll(POLICIES).objs[&policy].base["name"]
        .as_str()
        .unwrap()
        .to_string();
    let script = t.coll(SCRIPTS).order[1].clone();
    let s = start(
        t,
        SimConfig {
            faults: Faults {
                vanish: vec![policy.clone(), script.clone()],
                ..Faults::default()
            },
            ..SimConfig::default()
        },
    );
    point_at(&repo, &clean_url, &s.url());
    let policies = |repo: &std::path::Path, kind: &str| {
        committed_files(repo, &format!("tenants/dev/{kind}"))
            .into_iter()
            .filter(|(p, _)| p.ends_with(".json"))
            .count()
    };
    let before_sc = policies(&repo, "settings-catalog");
    let before_ps = policies(&repo, "powershell-scripts");
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "deleted     settings-catalog: {policy} ({policy_name}) was deleted in the tenant while the export read it"
        )),
        "{r:?}"
    );
    assert!(r.stdout.contains("nor did GET"), "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("deleted     powershell-scripts: {script}")),
        "{r:?}"
    );
    assert!(r.stdout.contains("no longer names it"), "{r:?}");
    assert!(
        r.stdout.contains("settings-catalog            1 removed"),
        "{r:?}"
    );
    assert_eq!(policies(&repo, "settings-catalog"), before_sc - 1);
    assert_eq!(policies(&repo, "powershell-scripts"), before_ps - 1);
    // The JSON report names them too.
    let s2 = start(
        dev(),
        SimConfig {
            faults: Faults {
                vanish: vec![policy.clone()],
                ..Faults::default()
            },
            ..SimConfig::default()
        },
    );
    point_at(&repo, &s.url(), &s2.url());
    let r = export(&repo, &["--env", "dev", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["deleted_while_reading"][0]["id"], policy.as_str());
    assert_eq!(v["deleted_while_reading"][0]["kind"], "settings-catalog");
}

#[test]
fn a_token_refused_twice_stops_every_reader_and_commits_nothing() {
    // A big tenant with latency: reading all of it takes far more requests than the export
    // makes before it stops.
    let (_tmp, repo, clean_url) = exported_repo();
    let big = dev().synthetic(3000);
    let mut config = faults(vec![FaultRule::new(
        CONFIGURATIONS,
        Target::List,
        Fault::Status(401),
    )]);
    config.faults.latency = std::time::Duration::from_millis(20);
    let s = start(big, config);
    point_at(&repo, &clean_url, &s.url());
    let head_before = head(&repo);
    let started = std::time::Instant::now();
    let r = export_impatient(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("Graph refused the token"), "{r:?}");
    assert_eq!(head(&repo), head_before);
    assert!(git(&repo, &["status", "--porcelain", "tenants"]).is_empty());
    let bound = s.sim.bound()["requests"].as_u64().unwrap();
    let made = stat(&s, "graph_requests");
    assert!(
        made * 4 < bound,
        "{made} Graph requests of {bound} after the export could not go on ({:?})",
        started.elapsed()
    );
}

#[test]
fn a_secret_that_expires_during_the_export_stops_it_at_once_and_commits_nothing() {
    // Tokens live 2 s and reading this tenant takes longer, so the client refreshes on the
    // way; the first refresh is refused for good (invalid_client: the secret expired). That
    // is not waited out like a passing failure: the export stops and nothing is written.
    let (_tmp, repo, clean_url) = exported_repo();
    let big = dev().synthetic(3000);
    let mut config = faults(Vec::new());
    config.faults.latency = std::time::Duration::from_millis(20);
    config.faults.token_outage = Some(tenantgate::sim::TokenOutage::parse("1:401").unwrap());
    config.auth.token_lifetime = std::time::Duration::from_secs(2);
    let s = start(big, config);
    point_at(&repo, &clean_url, &s.url());
    let head_before = head(&repo);
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("sign-in refused (401 invalid_client): AADSTS7000222"),
        "{r:?}"
    );
    assert!(!r.stderr.contains(SECRET), "{r:?}");
    assert_eq!(head(&repo), head_before);
    assert!(git(&repo, &["status", "--porcelain", "tenants"]).is_empty());
    assert_eq!(stat(&s, "token_requests"), 2, "asked again after a refusal");
    let bound = s.sim.bound()["requests"].as_u64().unwrap();
    let made = stat(&s, "graph_requests");
    assert!(
        made < bound,
        "{made} Graph requests of {bound}: the export did not stop"
    );
}
