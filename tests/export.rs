//! `tenantgate export` against the tenant simulator over real HTTP: the real binary, the real
//! Graph client, the real simulator. Round trip for every kind, each fault, paging of settings,
//! certificate authentication, 403, adoption of ids after an id-less import, and no secret in
//! logs.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use tenantgate::sim::{self, Faults, Sim, SimConfig, Tenant};

const SECRET: &str = "Sup3r-S3cret-Value-for-Tests!";
const SECRET_VAR: &str = "TENANTGATE_TEST_CLIENT_SECRET";

fn start(tenant: Tenant, config: SimConfig) -> sim::Running {
    sim::spawn(Sim::new(tenant, config)).expect("start the simulator")
}

fn dev() -> Tenant {
    Tenant::builtin("dev").expect("built-in dev tenant")
}

/// Add `[environments.<env>]` pointing at `url` to the repository's configuration.
fn configure(repo: &Path, env: &str, url: &str, extra: &str) {
    let path = repo.join("tenantgate.toml");
    let mut text = std::fs::read_to_string(&path).expect("read tenantgate.toml");
    text.push_str(&format!(
        "\n[environments.{env}]\ntenant = \"contoso-{env}.onmicrosoft.com\"\nclient_id = \"6731de76-14a6-49ae-97bc-6eba6914391e\"\ngraph_url = \"{url}\"\nlogin_url = \"{url}\"\n{extra}"
    ));
    std::fs::write(&path, text).expect("write tenantgate.toml");
}

fn secret_env() -> String {
    format!("client_secret_env = \"{SECRET_VAR}\"\n")
}

fn export(repo: &Path, args: &[&str]) -> Run {
    let mut c = tg(repo);
    c.arg("export").args(args).env(SECRET_VAR, SECRET);
    Run::from(c.output().expect("run tenantgate export"))
}

/// A repository that imported the seed folder of `env` (the reference every export must match).
fn imported_reference(env: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, repo) = new_repo();
    let seed = tmp.path().join("seed");
    tenantgate::seed::extract(env, &seed).expect("extract the seed");
    let r = run(
        &repo,
        &[
            "import",
            "--env",
            env,
            "--from",
            "graph",
            seed.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    (tmp, repo)
}

fn assert_same_files(a: &Path, b: &Path, prefix: &str) {
    let fa = committed_files(a, prefix);
    let fb = committed_files(b, prefix);
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb), "different files");
    for ((p, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(
            x == y,
            "{p} differs:\n--- import\n{}\n--- export\n{}",
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y)
        );
    }
    assert!(fa.len() > 70, "only {} files", fa.len());
}

fn stat(s: &sim::Running, key: &str) -> u64 {
    s.sim.stats_json()[key].as_u64().unwrap_or(0)
}

#[test]
fn export_gives_the_same_bytes_as_importing_the_seed_for_every_kind() {
    for env in ["dev", "prod"] {
        let (_a, reference) = imported_reference(env);
        let s = start(Tenant::builtin(env).unwrap(), SimConfig::default());
        let (_b, repo) = new_repo();
        configure(&repo, env, &s.url(), &secret_env());
        let r = export(&repo, &["--env", env]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("Committed "), "{r:?}");
        assert_same_files(&reference, &repo, &format!("tenants/{env}"));
        // Every kind of the registry has its folder.
        let listed = git(
            &repo,
            &["ls-tree", "--name-only", "HEAD", &format!("tenants/{env}/")],
        );
        for k in tenantgate::policy::KINDS {
            assert!(
                listed.contains(&format!("tenants/{env}/{}", k.name)),
                "{} missing:\n{listed}",
                k.name
            );
        }
        // The client needed no more Graph requests than the simulator's stated minimum.
        let bound = s.sim.bound()["requests"].as_u64().unwrap();
        assert_eq!(stat(&s, "graph_requests"), bound, "requests vs bound");
        assert!(stat(&s, "batches") > 0, "no $batch was used");
        // A second export changes nothing and makes no commit.
        let before = head(&repo);
        let r = export(&repo, &["--env", env]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("No change"), "{r:?}");
        assert_eq!(head(&repo), before);
    }
}

#[test]
fn export_without_batch_reads_the_same_tenant() {
    let (_a, reference) = imported_reference("dev");
    let s = start(dev(), SimConfig::default());
    let (_b, repo) = new_repo();
    configure(
        &repo,
        "dev",
        &s.url(),
        &format!("{}max_concurrency = 1\n", secret_env()),
    );
    let r = export(&repo, &["--env", "dev", "--no-batch", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_same_files(&reference, &repo, "tenants/dev");
    assert_eq!(stat(&s, "batches"), 0);
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON report");
    assert_eq!(
        v["requests"]["graph_requests"],
        v["requests"]["http_requests"]
    );
    assert_eq!(v["env"], "dev");
}

/// Export from a faulty simulator must give exactly the clean result.
fn survives(faults: Faults) -> (sim::Running, Run) {
    survives_with(SimConfig {
        faults,
        ..SimConfig::default()
    })
}

fn survives_with(config: SimConfig) -> (sim::Running, Run) {
    let (_a, reference) = imported_reference("dev");
    let s = start(dev(), config);
    let (_b, repo) = new_repo();
    configure(&repo, "dev", &s.url(), &secret_env());
    let r = export(&repo, &["--env", "dev", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_same_files(&reference, &repo, "tenants/dev");
    assert_eq!(commit_count(&repo), 2, "one export commit after init");
    (s, r)
}

#[test]
fn twenty_percent_random_503s_give_the_same_result() {
    let (s, r) = survives(Faults {
        seed: 7,
        error_503: 0.2,
        ..Faults::default()
    });
    assert!(stat(&s, "faults") > 3, "too few faults injected");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["requests"]["retries"].as_u64().unwrap() > 0);
}

#[test]
fn random_503s_with_retry_after_in_seconds_or_http_dates_give_the_same_result() {
    let started = std::time::Instant::now();
    let (s, r) = survives(Faults {
        seed: 4,
        error_503: 0.1,
        retry_after_503: Some(1),
        ..Faults::default()
    });
    assert!(stat(&s, "faults") > 0, "no fault injected");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["requests"]["retries"].as_u64().unwrap() > 0);
    // The client waited as asked (at least one second) instead of backing off on its own.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn throttling_at_ten_requests_per_second_gives_the_same_result() {
    let started = std::time::Instant::now();
    // Tokens live 2 s here, so the client must also refresh its token on the way.
    let (s, r) = survives_with(SimConfig {
        faults: Faults {
            seed: 3,
            requests_per_second: Some(10.0),
            ..Faults::default()
        },
        auth: sim::SimAuth {
            token_lifetime: Duration::from_secs(2),
            ..Default::default()
        },
        ..SimConfig::default()
    });
    assert!(stat(&s, "tokens") >= 2, "the token was never refreshed");
    assert!(stat(&s, "throttled") > 0, "the client was never throttled");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["requests"]["throttled"].as_u64().unwrap() > 0);
    // 50 requests at 10 per second cannot take less than ~4 s (10 in the first burst).
    assert!(started.elapsed() > Duration::from_secs(3));
}

#[test]
fn a_token_endpoint_that_fails_for_a_while_at_refresh_time_gives_the_same_result() {
    // Tokens live 2 s and the export takes several seconds (10 requests/s), so the client
    // refreshes on the way; the first refresh meets six failures in a row. The token in use
    // runs out meanwhile, so requests wait for a new one.
    let (_a, reference) = imported_reference("dev");
    let s = start(
        dev(),
        SimConfig {
            faults: Faults {
                seed: 3,
                requests_per_second: Some(10.0),
                token_outage: Some(
                    sim::TokenOutage::parse("1:drop,503,429,500,truncate,504").unwrap(),
                ),
                ..Faults::default()
            },
            auth: sim::SimAuth {
                token_lifetime: Duration::from_secs(2),
                ..Default::default()
            },
            ..SimConfig::default()
        },
    );
    let (_b, repo) = new_repo();
    configure(&repo, "dev", &s.url(), &secret_env());
    let mut c = tg(&repo);
    c.args(["export", "--env", "dev", "--format", "json"])
        .env(SECRET_VAR, SECRET)
        .env("TENANTGATE_GRAPH_BACKOFF_MS", "50")
        .env("RUST_LOG", "trace");
    let r = Run::from(c.output().expect("run tenantgate export"));
    assert_eq!(r.code, 0, "{r:?}");
    assert_same_files(&reference, &repo, "tenants/dev");
    assert_eq!(commit_count(&repo), 2, "one export commit after init");
    // The whole outage was met, and tokens were had after it.
    assert!(stat(&s, "token_requests") >= 8, "{}", s.sim.stats_json());
    assert!(stat(&s, "tokens") >= 2, "{}", s.sim.stats_json());
    // The token in use carried on while it was valid, then requests waited for a new one.
    assert!(
        r.stderr
            .contains("could not refresh the token; using the current one while it is valid"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("no token for now; will retry"),
        "{}",
        r.stderr
    );
    // Nothing of the failed and retried sign-ins leaks into the log at trace.
    for (name, log) in [("log", &r.stderr), ("report", &r.stdout)] {
        assert!(!log.contains(SECRET), "the secret is in the {name}");
        assert!(
            !log.contains("Bearer "),
            "an authorization header is in the {name}"
        );
        assert!(
            !log.contains("access_token"),
            "a token response is in the {name}"
        );
        assert!(!log.contains("sim."), "a token is in the {name}");
    }
}

/// A rule that lets the first `/settings` read of the settings catalog find its token
/// expired: Graph has taken the `$batch` that holds it, and answers 401 to it and to the rest
/// of that `$batch`.
fn settings_token_expires() -> Faults {
    use tenantgate::sim::{Fault, FaultRule, Target};
    Faults {
        rules: vec![FaultRule::new(
            "deviceManagement/configurationPolicies",
            Target::Nav("settings".into()),
            Fault::Expire,
        )],
        ..Faults::default()
    }
}

#[test]
fn a_token_that_expires_while_graph_works_through_a_batch_gives_the_same_result() {
    let (s, _) = survives(settings_token_expires());
    assert_eq!(stat(&s, "faults"), 1, "the token never expired");
    assert!(stat(&s, "tokens") >= 2, "no new token");
}

#[test]
fn requests_refused_inside_a_batch_go_again_with_a_new_token() {
    // Only the settings catalog: after its list, the only requests are the $batches of
    // /settings reads, so nothing but their own 401s can make the client drop the token.
    let (_a, reference) = imported_reference("dev");
    let s = start(
        dev(),
        SimConfig {
            faults: settings_token_expires(),
            ..SimConfig::default()
        },
    );
    let (_b, repo) = new_repo();
    configure(
        &repo,
        "dev",
        &s.url(),
        &format!("{}kinds = [\"settings-catalog\"]\n", secret_env()),
    );
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    let prefix = "tenants/dev/settings-catalog";
    let (want, got) = (
        committed_files(&reference, prefix),
        committed_files(&repo, prefix),
    );
    assert!(want.len() > 10, "{}", want.len());
    assert!(want == got, "the settings catalog differs from the import");
    assert_eq!(stat(&s, "faults"), 1, "the token never expired");
    assert_eq!(stat(&s, "tokens"), 2, "one new token, once");
}

#[test]
fn truncated_bodies_give_the_same_result() {
    let (s, _) = survives(Faults {
        seed: 11,
        truncate: 0.2,
        ..Faults::default()
    });
    assert!(stat(&s, "faults") > 0);
}

#[test]
fn dropped_connections_give_the_same_result() {
    let (s, _) = survives(Faults {
        seed: 5,
        drop: 0.2,
        ..Faults::default()
    });
    assert!(stat(&s, "faults") > 0);
}

#[test]
fn a_settings_catalog_policy_with_300_settings_in_pages_of_25_is_exported_whole() {
    let mut t = Tenant::empty();
    let settings: Vec<Value> = (0..300)
        .map(|i| {
            json!({"id": i.to_string(), "settingInstance": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
                "settingDefinitionId": format!("vendor_msft_setting_{i:03}"),
                "simpleSettingValue": {"@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue", "value": i}
            }})
        })
        .collect();
    let def = sim::model::collection("deviceManagement/configurationPolicies").unwrap();
    t.add_graph_value(
        def,
        json!({"id": "0f6e1b6a-0000-4000-8000-000000000300", "name": "Big policy", "platforms": "windows10",
               "technologies": "mdm", "roleScopeTagIds": ["0"], "settings": settings, "assignments": []}),
        "test",
    )
    .unwrap();
    let s = start(
        t,
        SimConfig {
            nav_page_size: 25,
            ..SimConfig::default()
        },
    );
    let (_tmp, repo) = new_repo();
    configure(
        &repo,
        "dev",
        &s.url(),
        &format!("{}kinds = [\"settings-catalog\"]\n", secret_env()),
    );
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    let files = committed_files(&repo, "tenants/dev/settings-catalog");
    assert_eq!(files.len(), 1);
    let doc: Value = serde_json::from_slice(&files[0].1).unwrap();
    let got = doc["settings"].as_array().unwrap();
    assert_eq!(got.len(), 300);
    assert_eq!(
        got[299]["settingInstance"]["settingDefinitionId"],
        "vendor_msft_setting_299"
    );
    // The names of groups, filters and scope tags (3 lists), the policy list, the read by id
    // (25 settings) and 11 further pages of 25.
    assert_eq!(stat(&s, "graph_requests"), 3 + 1 + 1 + 11);
}

#[test]
fn a_403_on_one_collection_leaves_that_kind_untouched_and_exits_1() {
    let (_tmp, repo) = new_repo();
    let clean = start(dev(), SimConfig::default());
    configure(&repo, "dev", &clean.url(), &secret_env());
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    let before_dc = committed_files(&repo, "tenants/dev/device-configurations");
    let before_sc = committed_files(&repo, "tenants/dev/settings-catalog");

    // The tenant changes: a device configuration is deleted and a policy renamed; device
    // configurations can no longer be read.
    let mut t = dev();
    {
        let dc = t.coll_mut("deviceManagement/deviceConfigurations");
        let id = dc.order[0].clone();
        dc.remove(&id);
        let sc = t.coll_mut("deviceManagement/configurationPolicies");
        let id = sc.order[0].clone();
        sc.objs
            .get_mut(&id)
            .unwrap()
            .base
            .insert("description".into(), json!("changed in the portal"));
    }
    let forbidden = start(
        t,
        SimConfig {
            faults: Faults {
                forbid: vec!["deviceManagement/deviceConfigurations".into()],
                ..Faults::default()
            },
            ..SimConfig::default()
        },
    );
    let text = std::fs::read_to_string(repo.join("tenantgate.toml"))
        .unwrap()
        .replace(&clean.url(), &forbidden.url());
    std::fs::write(repo.join("tenantgate.toml"), text).unwrap();
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("device-configurations       left as it is"),
        "{r:?}"
    );
    assert!(r.stdout.contains("403: Forbidden"), "{r:?}");
    assert!(r.stdout.contains("request-id"), "{r:?}");
    assert!(
        r.stdout.contains("Incomplete: device-configurations"),
        "{r:?}"
    );
    assert_eq!(
        committed_files(&repo, "tenants/dev/device-configurations"),
        before_dc
    );
    assert_ne!(
        committed_files(&repo, "tenants/dev/settings-catalog"),
        before_sc
    );
    assert!(git(&repo, &["status", "--porcelain", "tenants"]).is_empty());
}

#[test]
fn first_export_after_an_id_less_intunecd_import_adopts_ids_without_duplicates() {
    let (tmp, repo) = new_repo();
    // An IntuneCD-style backup of DEV's settings-catalog and compliance policies: no ids,
    // no timestamps, group names next to ids.
    let backup = tmp.path().join("Backup");
    let t = dev();
    for (path, folder) in [
        ("deviceManagement/configurationPolicies", "Settings Catalog"),
        (
            "deviceManagement/deviceCompliancePolicies",
            "Compliance Policies/Policies",
        ),
    ] {
        let coll = t.coll(path);
        for id in &coll.order {
            let o = &coll.objs[id];
            let mut v = Value::Object(o.base.clone());
            for (nav, items) in &o.navs {
                v[nav] = Value::Array(items.clone());
            }
            let m = v.as_object_mut().unwrap();
            for f in ["id", "createdDateTime", "lastModifiedDateTime", "version"] {
                m.remove(f);
            }
            let name = m
                .get("name")
                .or(m.get("displayName"))
                .and_then(Value::as_str)
                .unwrap()
                .to_string();
            let file = backup.join(folder).join(format!("{name}.json"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        }
    }
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
    assert_eq!(r.code, 0, "{r:?}");
    let imported: Vec<String> = committed_files(&repo, "tenants/dev/settings-catalog")
        .into_iter()
        .chain(committed_files(&repo, "tenants/dev/compliance-policies"))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(imported.len(), 20);
    let state: Value =
        serde_json::from_slice(&committed_files(&repo, "tenants/dev/.tenantgate")[0].1).unwrap();
    assert!(
        state["policies"]
            .as_object()
            .unwrap()
            .values()
            .all(|e| e.get("id").is_none())
    );

    let s = start(dev(), SimConfig::default());
    configure(
        &repo,
        "dev",
        &s.url(),
        &format!(
            "{}kinds = [\"settings-catalog\", \"compliance-policies\"]\n",
            secret_env()
        ),
    );
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    let exported: Vec<String> = committed_files(&repo, "tenants/dev/settings-catalog")
        .into_iter()
        .chain(committed_files(&repo, "tenants/dev/compliance-policies"))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(exported, imported, "same files, no duplicates");
    assert!(!r.stdout.contains(" added"), "{r:?}");
    let state: Value =
        serde_json::from_slice(&committed_files(&repo, "tenants/dev/.tenantgate")[0].1).unwrap();
    let entries = state["policies"].as_object().unwrap();
    assert_eq!(entries.len(), 20);
    for (key, e) in entries {
        let id = e["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{key} has no id"));
        assert!(tenantgate::policy::refs::is_guid(id), "{key}: {id}");
    }
}

#[test]
fn neither_tokens_nor_secrets_appear_in_logs_at_trace() {
    // The simulator as its own process, logging at trace too.
    let mut sim_cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenantgate"));
    sim_cmd
        .args([
            "sim",
            "serve",
            "--builtin",
            "dev",
            "--client-secret-env",
            SECRET_VAR,
        ])
        .env(SECRET_VAR, SECRET)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = sim_cmd.spawn().expect("start tenantgate sim serve");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the simulator prints its URL")
        .to_string();

    let (_tmp, repo) = new_repo();
    configure(&repo, "dev", &url, &secret_env());
    let mut c = tg(&repo);
    c.args(["export", "--env", "dev"])
        .env(SECRET_VAR, SECRET)
        .env("RUST_LOG", "trace");
    let r = Run::from(c.output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    // A token the simulator issued, to know what one looks like.
    let issued = reqwest_token(&url);
    child.kill().ok();
    let out = child.wait_with_output().unwrap();
    let sim_log = String::from_utf8_lossy(&out.stderr).into_owned();

    assert!(
        r.stderr.len() > 1000,
        "trace logging produced little: {}",
        r.stderr.len()
    );
    for (name, log) in [
        ("export", &r.stderr),
        ("export stdout", &r.stdout),
        ("simulator", &sim_log),
    ] {
        assert!(
            !log.contains(SECRET),
            "the client secret is in the {name} log"
        );
        assert!(
            !log.contains("Bearer "),
            "an authorization header is in the {name} log"
        );
        assert!(
            !log.contains("access_token"),
            "a token response is in the {name} log"
        );
        assert!(!log.contains(&issued), "a token is in the {name} log");
        // Every token the simulator issues starts this way.
        assert!(
            !log.contains("sim."),
            "something token-shaped is in the {name} log"
        );
    }
}

/// Get a token from the simulator by hand (plain HTTP/1.1 over a socket).
fn reqwest_token(url: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let body = format!(
        "grant_type=client_credentials&client_id=x&scope=https%3A%2F%2Fgraph%2F.default&client_secret={}",
        SECRET.replace('!', "%21")
    );
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /t/oauth2/v2.0/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let json = &resp[resp.find('{').expect("a JSON body")..];
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    let t = v["access_token"].as_str().expect("a token").to_string();
    assert!(t.starts_with("sim."));
    t
}

#[test]
fn export_explains_missing_configuration_and_credentials() {
    let (_tmp, repo) = new_repo();
    let r = run(&repo, &["export", "--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("environment \"dev\" is not in tenantgate.toml"),
        "{r:?}"
    );
    configure(&repo, "dev", "http://127.0.0.1:9", &secret_env());
    let r = run(&repo, &["export", "--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(SECRET_VAR) && r.stderr.contains("which is not set"),
        "{r:?}"
    );
    // Set but empty is said as such (it was reported as "not set").
    let r = Run::from(
        tg(&repo)
            .args(["export", "--env", "dev"])
            .env(SECRET_VAR, "")
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(SECRET_VAR) && r.stderr.contains("which is empty"),
        "{r:?}"
    );
    // Nothing listens there: one clear error, no kind reported as read, no commit.
    let before = commit_count(&repo);
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("no token from http://127.0.0.1:9/"),
        "{r:?}"
    );
    assert!(r.stderr.contains("check login_url"), "{r:?}");
    assert!(r.stdout.is_empty(), "{r:?}");
    assert_eq!(commit_count(&repo), before);
    let (_tmp2, repo2) = new_repo();
    configure(&repo2, "dev", "http://graph.example.com", &secret_env());
    let r = export(&repo2, &["--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("plain http to another machine"), "{r:?}");
}

#[test]
fn a_wrong_client_secret_is_a_clear_sign_in_error_and_no_commit() {
    let s = start(
        dev(),
        SimConfig {
            auth: sim::SimAuth {
                client_secret: Some("the-right-one".into()),
                token_lifetime: Duration::from_secs(3599),
                ..Default::default()
            },
            ..SimConfig::default()
        },
    );
    let (_tmp, repo) = new_repo();
    configure(&repo, "dev", &s.url(), &secret_env());
    let before = commit_count(&repo);
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("sign-in refused (401 invalid_client): AADSTS7000215"),
        "{r:?}"
    );
    assert!(!r.stderr.contains(SECRET));
    assert_eq!(commit_count(&repo), before);
}

/// A fresh RSA key pair and a self-signed certificate for it.
struct Identity {
    /// PKCS#8 DER of the private key.
    key_der: Vec<u8>,
    key_pem: String,
    cert_der: Vec<u8>,
    cert_pem: String,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .expect("system randomness");
    b
}

fn generated_identity(common_name: &str) -> Identity {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    struct SysRng(ring::rand::SystemRandom);
    impl rsa::rand_core::RngCore for SysRng {
        fn next_u32(&mut self) -> u32 {
            let mut b = [0u8; 4];
            self.fill_bytes(&mut b);
            u32::from_le_bytes(b)
        }
        fn next_u64(&mut self) -> u64 {
            let mut b = [0u8; 8];
            self.fill_bytes(&mut b);
            u64::from_le_bytes(b)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            ring::rand::SecureRandom::fill(&self.0, dest).expect("system randomness");
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rsa::rand_core::CryptoRng for SysRng {}
    let key = rsa::RsaPrivateKey::new(&mut SysRng(ring::rand::SystemRandom::new()), 2048)
        .expect("an RSA key");
    let key_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PKCS#8 PEM")
        .to_string();
    let key_der = key.to_pkcs8_der().expect("PKCS#8 DER").as_bytes().to_vec();
    let pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &rcgen::PKCS_RSA_SHA256)
        .expect("rcgen key pair");
    let cert = rcgen::CertificateParams::new(vec![common_name.to_string()])
        .expect("params")
        .self_signed(&pair)
        .expect("self-signed certificate");
    Identity {
        key_der,
        key_pem,
        cert_der: cert.der().to_vec(),
        cert_pem: cert.pem(),
    }
}

/// A fresh RSA key pair and a self-signed certificate for it: (PEM with both, certificate DER).
fn generated_certificate(dir: &Path, name: &str) -> (std::path::PathBuf, Vec<u8>) {
    let id = generated_identity("tenantgate-test");
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, format!("{}{}", id.cert_pem, id.key_pem)).expect("write PEM");
    (path, id.cert_der)
}

fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The certificate and its key as an `ENCRYPTED PRIVATE KEY` (PKCS#8, PBES2 with
/// PBKDF2-HMAC-SHA256 and AES-256-CBC, as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes).
fn encrypted_pem(id: &Identity, password: &str) -> String {
    use pkcs8::der::Decode;
    let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
        2048,
        &random_bytes::<16>(),
        random_bytes::<16>(),
    )
    .expect("PBES2 parameters");
    let encrypted = pkcs8::PrivateKeyInfoRef::from_der(&id.key_der)
        .expect("PKCS#8")
        .encrypt_with_params(params, password)
        .expect("encrypt the key");
    format!(
        "{}{}",
        id.cert_pem,
        pem_block("ENCRYPTED PRIVATE KEY", encrypted.as_bytes())
    )
}

/// A PKCS#12 file with the key and its certificate (then `extra` certificates, e.g. its CA).
fn pfx(
    id: &Identity,
    extra: &[&[u8]],
    password: &str,
    encryption: p12_keystore::EncryptionAlgorithm,
    mac: p12_keystore::MacAlgorithm,
) -> Vec<u8> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let mut certs = vec![Certificate::from_der(&id.cert_der).expect("certificate")];
    for der in extra {
        certs.push(Certificate::from_der(der).expect("certificate"));
    }
    let chain = PrivateKeyChain::new(
        random_bytes::<20>().to_vec(),
        PrivateKey::from_der(&id.key_der).expect("PKCS#8 key"),
        certs,
    );
    let mut store = KeyStore::new();
    store.add_entry("tenantgate-test", KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer(password)
        .encryption_algorithm(encryption)
        .encryption_iterations(2048)
        .mac_algorithm(mac)
        .mac_iterations(2048)
        .write()
        .expect("write PKCS#12")
}

/// The certificate in `path` signs client assertions that verify with `cert_der`'s public key
/// (and not with `other_der`'s), and its header names `cert_der` by its thumbprints.
fn assert_signs_for(path: &Path, password: Option<&str>, cert_der: &[u8], other_der: &[u8]) {
    use base64::Engine as _;
    use tenantgate::graph::auth::{ClientCertificate, KeyPassword, Secret, thumbprints};
    let client_id = "6731de76-14a6-49ae-97bc-6eba6914391e";
    let aud = "https://login.example/contoso/oauth2/v2.0/token";
    let password = password.map(|p| KeyPassword {
        env: "TG_TEST_PASSWORD".into(),
        value: Secret::new(p),
    });
    let cert = ClientCertificate::from_file(path, password.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (x5t, x5t256) = thumbprints(cert_der);
    assert_eq!(cert.x5t_s256, x5t256, "{}", path.display());
    assert_eq!(cert.x5t, x5t, "{}", path.display());
    let jwt = cert.assertion(client_id, aud).unwrap();
    let jwt = jwt.expose();
    tenantgate::sim::verify_assertion(jwt, Some(cert_der), client_id, aud)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let e = tenantgate::sim::verify_assertion(jwt, Some(other_der), client_id, aud).unwrap_err();
    assert!(e.contains("thumbprint"), "{e}");
    let header = jwt.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["x5t#S256"], x5t256.as_str());
}

/// The error loading `path` with `password` gives.
fn certificate_error(path: &Path, password: Option<&str>) -> String {
    use tenantgate::graph::auth::{ClientCertificate, KeyPassword, Secret};
    let password = password.map(|p| KeyPassword {
        env: "TG_TEST_PASSWORD".into(),
        value: Secret::new(p),
    });
    match ClientCertificate::from_file(path, password.as_ref()) {
        Ok(_) => panic!("{} loaded", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_certificate_client_assertion_verifies_with_the_certificate_public_key() {
    use base64::Engine as _;
    use tenantgate::graph::auth::{ClientCertificate, thumbprints};
    let tmp = tempfile::tempdir().unwrap();
    let (pem, der) = generated_certificate(tmp.path(), "app");
    let (_, other_der) = generated_certificate(tmp.path(), "other");
    let client_id = "6731de76-14a6-49ae-97bc-6eba6914391e";
    let aud = "https://login.example/contoso/oauth2/v2.0/token";

    let cert = ClientCertificate::from_file(&pem, None).expect("certificate and key");
    let jwt = cert.assertion(client_id, aud).unwrap();
    let jwt = jwt.expose();
    // Signed with the key: verifies with the certificate's public key, not with another's.
    tenantgate::sim::verify_assertion(jwt, Some(&der), client_id, aud).expect("verifies");
    let e = tenantgate::sim::verify_assertion(jwt, Some(&other_der), client_id, aud).unwrap_err();
    assert!(e.contains("thumbprint"), "{e}");
    // The header names the certificate by its SHA-1 and SHA-256 thumbprints.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let (x5t, x5t256) = thumbprints(&der);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5t"], x5t.as_str());
    assert_eq!(header["x5t#S256"], x5t256.as_str());
    assert_eq!(claims["aud"], aud);
    assert_eq!(claims["iss"], client_id);
    assert_eq!(claims["sub"], client_id);
    // Changed claims no longer verify.
    let mut forged = claims.clone();
    forged["sub"] = json!(client_id);
    forged["exp"] = json!(forged["exp"].as_u64().unwrap() + 3600);
    let forged_jwt = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(forged.to_string()),
        parts[2]
    );
    let e = tenantgate::sim::verify_assertion(&forged_jwt, Some(&der), client_id, aud).unwrap_err();
    assert!(e.contains("signature"), "{e}");

    // End to end: the simulator registers the certificate; export signs in with it.
    let s = start(
        dev(),
        SimConfig {
            auth: sim::SimAuth {
                client_id: Some(client_id.into()),
                certificate: Some(der.clone()),
                token_lifetime: Duration::from_secs(3599),
                ..Default::default()
            },
            ..SimConfig::default()
        },
    );
    let (_r, repo) = new_repo();
    configure(
        &repo,
        "dev",
        &s.url(),
        &format!(
            "certificate = {{ path = {:?} }}\nkinds = [\"scope-tags\"]\n",
            pem.display().to_string()
        ),
    );
    let r = run(&repo, &["export", "--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(committed_files(&repo, "tenants/dev/scope-tags").len(), 4);
    // A certificate the app does not have is refused, and nothing is committed.
    let (_r2, repo2) = new_repo();
    let (wrong, _) = generated_certificate(tmp.path(), "wrong");
    configure(
        &repo2,
        "dev",
        &s.url(),
        &format!(
            "certificate = {{ path = {:?} }}\n",
            wrong.display().to_string()
        ),
    );
    let r = run(&repo2, &["export", "--env", "dev"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("sign-in refused (401 invalid_client): AADSTS700027"),
        "{r:?}"
    );
}

const PFX_PASSWORD: &str = "Pfx-Passw0rd-for-Tests!";
const PFX_PASSWORD_VAR: &str = "TENANTGATE_TEST_CERT_PASSWORD";

#[test]
fn an_encrypted_pkcs8_key_signs_assertions_that_verify_with_the_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let id = generated_identity("tenantgate-test");
    let other = generated_identity("other");
    let path = tmp.path().join("app.pem");
    std::fs::write(&path, encrypted_pem(&id, PFX_PASSWORD)).unwrap();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    assert_signs_for(&path, Some(PFX_PASSWORD), &id.cert_der, &other.cert_der);
    // Key first, certificate second, text around them: the order does not matter.
    let whole = encrypted_pem(&id, PFX_PASSWORD);
    let (cert, key) = whole.split_at(id.cert_pem.len());
    std::fs::write(
        &path,
        format!("Bag Attributes\n    friendlyName: app\n{key}{cert}"),
    )
    .unwrap();
    assert_signs_for(&path, Some(PFX_PASSWORD), &id.cert_der, &other.cert_der);
    // Another certificate first (a CA, say): the key's own certificate is the one used.
    std::fs::write(&path, format!("{}{whole}", other.cert_pem)).unwrap();
    assert_signs_for(&path, Some(PFX_PASSWORD), &id.cert_der, &other.cert_der);
}

#[test]
fn a_pfx_file_signs_assertions_that_verify_with_the_certificate() {
    use p12_keystore::{EncryptionAlgorithm as Enc, MacAlgorithm as Mac};
    let tmp = tempfile::tempdir().unwrap();
    let id = generated_identity("tenantgate-test");
    let other = generated_identity("other");
    let path = tmp.path().join("app.pfx");
    // OpenSSL 3 and Windows AES256_SHA256; Windows TripleDES_SHA1; RC2-40 of old exports.
    for (enc, mac) in [
        (Enc::PbeWithHmacSha256AndAes256, Mac::HmacSha256),
        (Enc::PbeWithShaAnd3KeyTripleDesCbc, Mac::HmacSha1),
        (Enc::PbeWithShaAnd40BitRc4Cbc, Mac::HmacSha1),
    ] {
        std::fs::write(&path, pfx(&id, &[], PFX_PASSWORD, enc, mac)).unwrap();
        assert_signs_for(&path, Some(PFX_PASSWORD), &id.cert_der, &other.cert_der);
    }
    // With other certificates in the file (a chain), the key's own certificate is the one used.
    let bytes = pfx(
        &id,
        &[&other.cert_der],
        PFX_PASSWORD,
        Enc::PbeWithHmacSha256AndAes256,
        Mac::HmacSha256,
    );
    std::fs::write(&path, &bytes).unwrap();
    assert_signs_for(&path, Some(PFX_PASSWORD), &id.cert_der, &other.cert_der);
    // As base64 text, as Azure Key Vault hands a certificate's secret out.
    use base64::Engine as _;
    let b64 = tmp.path().join("app.pfx.b64");
    std::fs::write(
        &b64,
        base64::engine::general_purpose::STANDARD.encode(&bytes) + "\n",
    )
    .unwrap();
    assert_signs_for(&b64, Some(PFX_PASSWORD), &id.cert_der, &other.cert_der);
}

#[test]
fn pfx_files_and_encrypted_keys_written_by_openssl_are_read() {
    // Made by tests/fixtures/certificates/make.sh with the openssl binary (throwaway key).
    let dir = fixtures().join("certificates");
    let pem_der = |name: &str| {
        use rustls_pki_types::pem::PemObject;
        rustls_pki_types::CertificateDer::from_pem_file(dir.join(name))
            .expect("fixture certificate")
            .to_vec()
    };
    let cert = pem_der("cert.pem");
    let leaf = pem_der("chain-leaf.pem");
    let other = generated_identity("other").cert_der;
    let password = Some("TenantGate-fixture-only");
    for name in [
        "pkcs8-aes256-sha256.pem",
        "pkcs8-3des-sha1.pem",
        "from-pfx.pem",
        "openssl3-aes256.pfx",
        "sha1-3des.pfx",
        "legacy-rc2-3des.pfx",
    ] {
        assert_signs_for(&dir.join(name), password, &cert, &other);
    }
    assert_signs_for(&dir.join("chain.pfx"), password, &leaf, &cert);
    // Older encryptions TenantGate does not read: the error gives the command that converts.
    for name in ["unsupported-pkcs8-pbes1.pem", "unsupported-legacy-pem.pem"] {
        let e = certificate_error(&dir.join(name), password);
        assert!(
            e.contains("`openssl pkcs8 -topk8 -v2 aes-256-cbc -in "),
            "{name}: {e}"
        );
    }
}

#[test]
fn export_signs_in_with_a_password_protected_certificate() {
    use p12_keystore::{EncryptionAlgorithm as Enc, MacAlgorithm as Mac};
    let tmp = tempfile::tempdir().unwrap();
    let id = generated_identity("tenantgate-test");
    let client_id = "6731de76-14a6-49ae-97bc-6eba6914391e";
    let s = start(
        dev(),
        SimConfig {
            auth: sim::SimAuth {
                client_id: Some(client_id.into()),
                certificate: Some(id.cert_der.clone()),
                token_lifetime: Duration::from_secs(3599),
                ..Default::default()
            },
            ..SimConfig::default()
        },
    );
    let pfx_path = tmp.path().join("app.pfx");
    std::fs::write(
        &pfx_path,
        pfx(
            &id,
            &[],
            PFX_PASSWORD,
            Enc::PbeWithHmacSha256AndAes256,
            Mac::HmacSha256,
        ),
    )
    .unwrap();
    let pem_path = tmp.path().join("app-encrypted.pem");
    std::fs::write(&pem_path, encrypted_pem(&id, PFX_PASSWORD)).unwrap();
    for path in [&pfx_path, &pem_path] {
        let (_r, repo) = new_repo();
        configure(
            &repo,
            "dev",
            &s.url(),
            &format!(
                "certificate = {{ path = {:?}, password_env = \"{PFX_PASSWORD_VAR}\" }}\nkinds = [\"scope-tags\"]\n",
                path.display().to_string()
            ),
        );
        let r = Run::from(
            tg(&repo)
                .args(["export", "--env", "dev"])
                .env(PFX_PASSWORD_VAR, PFX_PASSWORD)
                .env("RUST_LOG", "trace")
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 0, "{}: {r:?}", path.display());
        assert_eq!(committed_files(&repo, "tenants/dev/scope-tags").len(), 4);
        assert!(r.stderr.contains("read the client certificate"), "{r:?}");
        assert!(!r.stderr.contains(PFX_PASSWORD), "{r:?}");
        assert!(!r.stdout.contains(PFX_PASSWORD), "{r:?}");
    }
}

#[test]
fn a_wrong_or_missing_certificate_password_exits_2_with_a_clear_message_and_no_secret() {
    use p12_keystore::{EncryptionAlgorithm as Enc, MacAlgorithm as Mac};
    let tmp = tempfile::tempdir().unwrap();
    let id = generated_identity("tenantgate-test");
    // Nothing listens here: a sign-in would fail differently, and must not be tried.
    let url = "http://127.0.0.1:9";
    let pfx_path = tmp.path().join("app.pfx");
    std::fs::write(
        &pfx_path,
        pfx(
            &id,
            &[],
            PFX_PASSWORD,
            Enc::PbeWithShaAnd3KeyTripleDesCbc,
            Mac::HmacSha1,
        ),
    )
    .unwrap();
    let pem_path = tmp.path().join("app-encrypted.pem");
    std::fs::write(&pem_path, encrypted_pem(&id, PFX_PASSWORD)).unwrap();
    let wrong = "Not-the-Right-One-42";
    let with_password_env = |path: &Path| {
        format!(
            "certificate = {{ path = {:?}, password_env = \"{PFX_PASSWORD_VAR}\" }}\n",
            path.display().to_string()
        )
    };
    for (path, expected) in [
        (
            &pfx_path,
            "the PKCS#12 (PFX) file's integrity check (MAC) does not match",
        ),
        (&pem_path, "the private key cannot be decrypted"),
    ] {
        let (_r, repo) = new_repo();
        configure(&repo, "dev", url, &with_password_env(path));
        let before = commit_count(&repo);
        // A wrong password.
        let r = Run::from(
            tg(&repo)
                .args(["export", "--env", "dev"])
                .env(PFX_PASSWORD_VAR, wrong)
                .env("RUST_LOG", "trace")
                .output()
                .unwrap(),
        );
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr
                .contains(&format!("wrong password in {PFX_PASSWORD_VAR}: {expected}")),
            "{r:?}"
        );
        assert!(r.stderr.contains(&path.display().to_string()), "{r:?}");
        assert!(
            !r.stderr.contains(wrong) && !r.stdout.contains(wrong),
            "{r:?}"
        );
        assert!(!r.stderr.contains(PFX_PASSWORD), "{r:?}");
        assert!(!r.stderr.contains("127.0.0.1:9"), "no sign-in: {r:?}");
        // The variable is not set, or empty.
        for value in [None, Some("")] {
            let mut c = tg(&repo);
            c.args(["export", "--env", "dev"]);
            match value {
                Some(v) => c.env(PFX_PASSWORD_VAR, v),
                None => c.env_remove(PFX_PASSWORD_VAR),
            };
            let r = Run::from(c.output().unwrap());
            assert_eq!(r.code, 2, "{r:?}");
            assert!(
                r.stderr.contains(&format!(
                    "the certificate's password is read from the environment variable {PFX_PASSWORD_VAR} (password_env), which is not set"
                )),
                "{r:?}"
            );
        }
        assert_eq!(commit_count(&repo), before);
    }
    // No password_env for a file that needs one: say what to set.
    for (path, expected) in [
        (
            &pfx_path,
            "the PKCS#12 (PFX) file is password-protected: set `password_env`",
        ),
        (
            &pem_path,
            "the private key is encrypted: set `password_env`",
        ),
    ] {
        let (_r, repo) = new_repo();
        configure(
            &repo,
            "dev",
            url,
            &format!(
                "certificate = {{ path = {:?} }}\n",
                path.display().to_string()
            ),
        );
        let r = run(&repo, &["export", "--env", "dev"]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains(expected), "{r:?}");
    }
}

#[test]
fn damaged_or_unsuitable_certificate_files_are_clear_errors() {
    use p12_keystore::{EncryptionAlgorithm as Enc, MacAlgorithm as Mac};
    let tmp = tempfile::tempdir().unwrap();
    let id = generated_identity("tenantgate-test");
    let other = generated_identity("other");
    let pw = Some(PFX_PASSWORD);
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = pfx(
        &id,
        &[],
        PFX_PASSWORD,
        Enc::PbeWithHmacSha256AndAes256,
        Mac::HmacSha256,
    );
    // A PFX cut short, garbage, an empty file.
    let e = certificate_error(&write("cut.pfx", &good[..good.len() / 2]), pw);
    assert!(e.contains("damaged"), "{e}");
    let e = certificate_error(&write("noise.bin", &random_bytes::<600>()), pw);
    assert!(e.contains("neither PEM") || e.contains("damaged"), "{e}");
    let e = certificate_error(&write("empty.pfx", b""), pw);
    assert!(e.ends_with("the file is empty"), "{e}");
    // A byte changed inside: the MAC says so before anything is decrypted.
    let mut altered = good.clone();
    let n = altered.len();
    altered[n - 80] ^= 0x55;
    let e = certificate_error(&write("altered.pfx", &altered), pw);
    assert!(e.contains("or the file was altered"), "{e}");
    // A PEM whose key belongs to another certificate.
    let e = certificate_error(
        &write(
            "mismatch.pem",
            format!("{}{}", other.cert_pem, id.key_pem).as_bytes(),
        ),
        None,
    );
    assert!(e.contains("does not belong to the certificate"), "{e}");
    // A certificate alone (DER), and a PEM without the key.
    let e = certificate_error(&write("cert.der", &id.cert_der), pw);
    assert!(e.contains("a DER certificate alone?"), "{e}");
    let e = certificate_error(&write("cert.pem", id.cert_pem.as_bytes()), None);
    assert!(e.contains("no PRIVATE KEY block"), "{e}");
    // An EC key, in a PFX and in a PEM: Entra wants RSA.
    let ec = rcgen::KeyPair::generate().expect("an EC key");
    let ec_cert = rcgen::CertificateParams::new(vec!["ec".to_string()])
        .unwrap()
        .self_signed(&ec)
        .unwrap();
    let ec_id = Identity {
        key_der: ec.serialize_der(),
        key_pem: ec.serialize_pem(),
        cert_der: ec_cert.der().to_vec(),
        cert_pem: ec_cert.pem(),
    };
    let e = certificate_error(
        &write(
            "ec.pfx",
            &pfx(
                &ec_id,
                &[],
                PFX_PASSWORD,
                Enc::PbeWithHmacSha256AndAes256,
                Mac::HmacSha256,
            ),
        ),
        pw,
    );
    assert!(
        e.contains("an EC key") && e.contains("RSA keys only"),
        "{e}"
    );
    let e = certificate_error(
        &write(
            "ec.pem",
            format!("{}{}", ec_id.cert_pem, ec_id.key_pem).as_bytes(),
        ),
        None,
    );
    assert!(
        e.contains("an EC key") && e.contains("RSA keys only"),
        "{e}"
    );
    // Through the binary: exit 2 and the file named.
    let (_r, repo) = new_repo();
    let cut = tmp.path().join("cut.pfx");
    configure(
        &repo,
        "dev",
        "http://127.0.0.1:9",
        &format!(
            "certificate = {{ path = {:?}, password_env = \"{PFX_PASSWORD_VAR}\" }}\n",
            cut.display().to_string()
        ),
    );
    let r = Run::from(
        tg(&repo)
            .args(["export", "--env", "dev"])
            .env(PFX_PASSWORD_VAR, PFX_PASSWORD)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("certificate {}: ", cut.display()))
            && r.stderr.contains("damaged"),
        "{r:?}"
    );
}

#[test]
fn changed_policies_name_who_changed_them_from_the_audit_log() {
    let s = start(dev(), SimConfig::default());
    let (_tmp, repo) = new_repo();
    configure(&repo, "dev", &s.url(), &secret_env());
    let r = export(&repo, &["--env", "dev"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!git(&repo, &["log", "-1", "--format=%B"]).contains("Changed-By:"));
    // Audit times have whole seconds: change the tenant in a later second than the commit.
    std::thread::sleep(Duration::from_millis(1100));
    let id = s
        .sim
        .tenant()
        .coll("deviceManagement/deviceConfigurations")
        .order[0]
        .clone();
    let resp = s.sim.graph_request(
        &axum::http::Method::PATCH,
        "beta",
        &format!("deviceManagement/deviceConfigurations/{id}"),
        Some(json!({"description": "changed in the portal"})),
        "http://sim",
        Some("alice@contoso-dev.onmicrosoft.com"),
    );
    assert_eq!(resp.status, 204);
    let r = export(&repo, &["--env", "dev", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["changed_by"],
        json!(["alice@contoso-dev.onmicrosoft.com"])
    );
    let msg = git(&repo, &["log", "-1", "--format=%B"]);
    assert!(msg.contains("device-configurations: 1 changed"), "{msg}");
    assert!(
        msg.contains("\nChanged-By: alice@contoso-dev.onmicrosoft.com\n"),
        "{msg}"
    );
}

/// Export DEV from `url` into `repo` through the library, as a webhook server would.
fn export_in_process(repo: &Path, url: &str) -> tenantgate::graph::export::ExportOutcome {
    use tenantgate::graph::auth::{Credential, Secret};
    let store = tenantgate::store::Store::discover(repo).expect("the repository");
    let env = tenantgate::config::Environment {
        name: "dev".into(),
        tenant: Some("contoso-dev.onmicrosoft.com".into()),
        client_id: Some("6731de76-14a6-49ae-97bc-6eba6914391e".into()),
        client_secret_env: None,
        certificate: None,
        graph_url: url.to_string(),
        login_url: url.to_string(),
        kinds: None,
        max_concurrency: 8,
        requests_per_second: 100,
    };
    let client =
        tenantgate::graph::client_with(&env, Credential::Secret(Secret::new(SECRET)), true)
            .expect("a client");
    let opts = tenantgate::snapshot::Options {
        env: "dev".into(),
        branch: None,
        no_commit: false,
        tenant: "contoso-dev.onmicrosoft.com".into(),
        verb: "export",
        kinds: None,
        actors: Default::default(),
    };
    tenantgate::graph::export::export(
        &store,
        client,
        tenantgate::policy::KINDS,
        &opts,
        &tenantgate::graph::export::Silent,
    )
    .expect("an export")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_can_be_called_from_inside_a_tokio_runtime() {
    let s = start(dev(), SimConfig::default());
    let (_tmp, repo) = new_repo();
    // On a runtime worker (where starting or blocking on another runtime would panic) …
    let outcome = export_in_process(&repo, &s.url());
    assert!(outcome.report.commit.is_some(), "{:?}", outcome.report);
    assert!(!outcome.report.incomplete);
    // … and from spawn_blocking, as a server hands blocking work off.
    let url = s.url();
    let again = tokio::task::spawn_blocking(move || export_in_process(&repo, &url))
        .await
        .expect("no panic");
    assert!(
        again.report.commit.is_none(),
        "a second export changes nothing"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn export_can_be_called_from_a_single_threaded_runtime() {
    let s = start(dev(), SimConfig::default());
    let (_tmp, repo) = new_repo();
    let outcome = export_in_process(&repo, &s.url());
    assert!(outcome.report.commit.is_some());
}
