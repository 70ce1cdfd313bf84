//! Lint at scale: 10,000 settings-catalog policies of about 10 KB each (the demo tenant's
//! settings-catalog policies, which come from a real IntuneCD backup, renamed, reassigned and
//! varied), on 2 worker threads.
//!
//! - the whole built-in pack over the worktree, reading and parsing included (goal < 1.5 s);
//! - pull-request mode with one changed policy (goal < 300 ms; the facts cache warm, as after
//!   any earlier lint of the repository; the cold figure is printed too);
//! - the pre-commit hook's `lint --staged` with one staged file (goal < 300 ms), in process and,
//!   when the release binary is built, as the hook runs it.
//!
//! `cargo bench --bench lint` (set `TENANTGATE_BENCH_POLICIES` for another count,
//! `TENANTGATE_BENCH_KEEP=DIR` to keep the repository it builds).

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tenantgate::lint::{Input, Request, lint};
use tenantgate::store::Store;

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The demo tenant's settings-catalog policies in canonical form.
fn templates(tmp: &Path) -> Vec<Value> {
    let repo = tmp.join("seed-repo");
    let store = Store::init(&repo).unwrap();
    let seed = tmp.join("seed");
    tenantgate::seed::extract("dev", &seed).unwrap();
    let source =
        tenantgate::source::FolderSource::open(tenantgate::source::Flavor::Graph, &seed).unwrap();
    let opts = tenantgate::snapshot::Options {
        env: "dev".into(),
        branch: None,
        no_commit: false,
        tenant: "bench".into(),
        verb: "import",
        kinds: None,
        actors: Default::default(),
    };
    tenantgate::snapshot::import_folder(&store, &source, &opts).unwrap();
    let dir = repo.join("tenants/dev/settings-catalog");
    let mut out: Vec<Value> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    out.sort_by_key(|v| v["name"].as_str().unwrap_or_default().to_string());
    out
}

fn variant(template: &Value, i: usize) -> Value {
    let mut v = template.clone();
    v["name"] = json!(format!("WIN-SC-Bench-{i:05}"));
    v["description"] = json!(format!("Benchmark policy {i}"));
    v["assignments"] = json!([{
        "target": {
            "@odata.type": "#microsoft.graph.groupAssignmentTarget",
            "deviceAndAppManagementAssignmentFilterId": null,
            "deviceAndAppManagementAssignmentFilterType": "none",
            "groupId": format!("@group:SG-Bench-{i:05}")
        }
    }]);
    // A setting of its own, so no two policies are duplicates.
    if let Some(settings) = v["settings"].as_array_mut() {
        settings.push(json!({"settingInstance": {
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
            "settingDefinitionId": "zz_tenantgate_bench_marker",
            "simpleSettingValue": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue",
                "value": i
            }
        }}));
    }
    v
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// What one policy costs, stage by stage, on one thread.
fn stages(dir: &Path) {
    use tenantgate::policy::{Mode, canonical, kinds, normalize};
    let kind = kinds::by_name("settings-catalog").unwrap();
    let paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let (bytes, read) = time(|| {
        paths
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect::<Vec<_>>()
    });
    let (values, parse) = time(|| {
        bytes
            .iter()
            .map(|b| serde_json::from_slice::<Value>(b).unwrap())
            .collect::<Vec<_>>()
    });
    let (normal, norm) = time(|| {
        values
            .iter()
            .map(|v| normalize(kind, v.clone(), Mode::Format).unwrap().doc)
            .collect::<Vec<_>>()
    });
    let (_, canon) = time(|| {
        normal
            .iter()
            .map(|v| canonical::to_canonical(v).len())
            .sum::<usize>()
    });
    let (_, facts) = time(|| {
        values
            .iter()
            .map(|v| {
                tenantgate::lint::facts::Facts::of(kind, v, &[])
                    .settings
                    .len()
            })
            .sum::<usize>()
    });
    let (_, secrets) = time(|| {
        bytes
            .iter()
            .map(|b| tenantgate::lint::natives::scan_secrets(b).len())
            .sum::<usize>()
    });
    let (_, positions) = time(|| {
        values
            .iter()
            .map(|v| canonical::to_canonical_with_positions(v).1.len())
            .sum::<usize>()
    });
    let (_, normal) = time(|| {
        values
            .iter()
            .filter(|v| tenantgate::policy::normalize::is_normal(kind, v))
            .count()
    });
    println!(
        "stages, 1 thread: read {}, parse {}, normalize a copy {}, is_normal {}, canonical {}, facts {}, secrets scan {}, all positions {}",
        ms(read),
        ms(parse),
        ms(norm),
        ms(normal),
        ms(canon),
        ms(facts),
        ms(secrets),
        ms(positions)
    );
    // The engine over the same files in memory: without rules, then with the built-in pack.
    let files: std::collections::BTreeMap<String, Vec<u8>> = paths
        .iter()
        .zip(bytes)
        .map(|(p, b)| {
            (
                format!(
                    "tenants/prod/settings-catalog/{}",
                    p.file_name().unwrap().to_string_lossy()
                ),
                b,
            )
        })
        .collect();
    let head = tenantgate::lint::files::Snapshot::memory(files);
    let all = tenantgate::lint::testing::builtin_rules();
    let mut runs: Vec<(String, Vec<tenantgate::lint::rules::Rule>)> = vec![
        ("no rules".into(), Vec::new()),
        ("built-in pack".into(), all.rules.clone()),
    ];
    if std::env::var_os("TENANTGATE_BENCH_RULES").is_some() {
        runs.extend(all.rules.iter().map(|r| (r.id.clone(), vec![r.clone()])));
    }
    for (label, rules) in runs {
        let prepared = tenantgate::lint::run::Prepared {
            rules: tenantgate::lint::rules::RuleSet {
                rules,
                ..all.clone()
            },
            selection: Default::default(),
            settings: json!({}),
            exceptions: Default::default(),
            fail_on: Default::default(),
        };
        let scope = tenantgate::lint::run::CheckScope {
            head: &head,
            envs: vec!["prod".into()],
            changed: None,
            base: None,
            history: None,
            threads: Some(2),
        };
        let ((f, _), d) = time(|| {
            tenantgate::lint::run::check(
                &prepared,
                &scope,
                &mut tenantgate::lint::cache::FactsCache::in_memory(),
            )
            .unwrap()
        });
        println!(
            "stages, check in memory, 2 threads, {label}: {} ({} findings)",
            ms(d),
            f.len()
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("TENANTGATE_BENCH_POLICIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let threads = 2;
    let tmp = tempfile::tempdir().unwrap();
    let templates = templates(tmp.path());
    // `TENANTGATE_BENCH_KEEP=DIR` builds the repository in DIR and leaves it there, to
    // profile single runs of the command line against it.
    let repo = match std::env::var_os("TENANTGATE_BENCH_KEEP") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => tmp.path().join("policies"),
    };
    std::fs::create_dir_all(repo.join("tenants/prod/settings-catalog")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(
        repo.join("tenantgate.toml"),
        "format = 1\n\n[environments.prod]\n",
    )
    .unwrap();
    let mut bytes = 0usize;
    for i in 0..n {
        let doc = variant(&templates[i % templates.len()], i);
        let text = tenantgate::policy::canonical::to_canonical(&doc);
        bytes += text.len();
        std::fs::write(
            repo.join(format!(
                "tenants/prod/settings-catalog/win-sc-bench-{i:05}.json"
            )),
            text,
        )
        .unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "bench: policies"]);
    println!(
        "{n} settings-catalog policies, {:.1} MB, {:.1} KB on average; {threads} worker threads, {} cores",
        bytes as f64 / 1e6,
        bytes as f64 / n as f64 / 1e3,
        std::thread::available_parallelism().map_or(0, |c| c.get())
    );
    if std::env::var_os("TENANTGATE_BENCH_STAGES").is_some() {
        stages(&repo.join("tenants/prod/settings-catalog"));
    }
    let store = Store::discover(&repo).unwrap();
    let request = |input: Input| {
        let mut r = Request::new(input);
        r.threads = Some(threads);
        r
    };

    // 1. The whole pack over the worktree, parsing included.
    let mut best = Duration::MAX;
    let mut findings = 0;
    let mut rules = 0;
    for _ in 0..3 {
        let (outcome, d) = time(|| lint(&store, &request(Input::Worktree)).unwrap());
        findings = outcome.findings.len();
        rules = outcome.rules.len();
        best = best.min(d);
    }
    println!(
        "full lint, worktree:            {:>7}  ({:.0} policies/s, {rules} rules, {findings} findings; best of 3)",
        ms(best),
        n as f64 / best.as_secs_f64()
    );

    // 2. Pull-request mode: one changed policy on a branch.
    git(&repo, &["checkout", "-q", "-b", "change"]);
    let changed = repo.join("tenants/prod/settings-catalog/win-sc-bench-00042.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&changed).unwrap()).unwrap();
    doc["description"] = json!("changed in a pull request");
    std::fs::write(&changed, tenantgate::policy::canonical::to_canonical(&doc)).unwrap();
    git(&repo, &["commit", "-q", "-am", "change one policy"]);
    let pr = || {
        let mut r = request(Input::Worktree);
        r.base = Some("main".into());
        lint(&store, &r).unwrap()
    };
    let cache = store.git_dir().join("tenantgate").join("facts.bin");
    let _ = std::fs::remove_file(&cache);
    let (cold, cold_d) = time(pr);
    let mut warm_best = Duration::MAX;
    for _ in 0..3 {
        let (outcome, d) = time(pr);
        assert_eq!(outcome.envs[0].checked, 1);
        warm_best = warm_best.min(d);
    }
    println!(
        "pull request, 1 changed policy: {:>7}  (facts cache warm; cold, first run: {}; {} findings)",
        ms(warm_best),
        ms(cold_d),
        cold.findings.len()
    );

    // 3. The pre-commit hook: one staged file.
    let staged = repo.join("tenants/prod/settings-catalog/win-sc-bench-00007.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&staged).unwrap()).unwrap();
    doc["description"] = json!("staged change");
    std::fs::write(&staged, tenantgate::policy::canonical::to_canonical(&doc)).unwrap();
    git(
        &repo,
        &[
            "add",
            "tenants/prod/settings-catalog/win-sc-bench-00007.json",
        ],
    );
    let mut staged_best = Duration::MAX;
    for _ in 0..3 {
        let (outcome, d) = time(|| lint(&store, &request(Input::Staged)).unwrap());
        assert_eq!(outcome.envs[0].checked, 1);
        staged_best = staged_best.min(d);
    }
    println!(
        "pre-commit, lint --staged:      {:>7}  (in process, facts cache warm)",
        ms(staged_best)
    );
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/tenantgate");
    if binary.is_file() {
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let (o, d) = time(|| {
                Command::new(&binary)
                    .current_dir(&repo)
                    .args(["lint", "--staged", "--threads", "2"])
                    .env("NO_COLOR", "1")
                    .output()
                    .unwrap()
            });
            assert!(
                o.status.code().is_some_and(|c| c <= 1),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            best = best.min(d);
        }
        println!(
            "pre-commit, the hook's process: {:>7}  (target/release/tenantgate lint --staged)",
            ms(best)
        );
    }
}
