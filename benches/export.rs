//! Export benchmark: 5,000 policies served by the tenant simulator over real HTTP, read by the
//! `tenantgate` binary (a child process, so its peak memory is its own).
//!
//! (a) 30 ms latency and a budget of 100 requests per second (the simulator throttles beyond
//!     it, the client paces itself at it): wall time against the simulator's stated bound
//!     (fewest requests / budget); target within 1.3x.
//! (b) 30 ms latency, no throttling: the client with `$batch` and 8 requests in flight against
//!     the same client one request at a time without `$batch`; target at least 10x faster.
//!
//! Peak memory (maximum resident set of the export process, from `wait4`) must stay under
//! 300 MB. Run with `cargo bench --bench export`; `POLICIES=n` changes the size.

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tenantgate::sim::{self, Faults, Sim, SimConfig, Tenant};

const SECRET_VAR: &str = "TENANTGATE_BENCH_SECRET";

struct Measured {
    wall: Duration,
    peak_kb: i64,
    report: Value,
    sim_stats: Value,
    bound: Value,
}

fn tg(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tenantgate"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    c
}

/// Run `export` as a child and measure its wall time and peak resident memory.
// The child is reaped by `libc::wait4`, which also gives its resource usage.
#[allow(clippy::zombie_processes)]
fn run_export(
    tenant: &Tenant,
    faults: Faults,
    rps: u32,
    concurrency: u32,
    batch: bool,
) -> Measured {
    let s = sim::spawn(Sim::new(
        tenant.clone(),
        SimConfig {
            faults,
            ..SimConfig::default()
        },
    ))
    .expect("start the simulator");
    let tmp = tempfile::tempdir().expect("temp dir");
    let status = tg(tmp.path())
        .args(["init", "repo"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let repo = tmp.path().join("repo");
    let mut cfg = std::fs::read_to_string(repo.join("tenantgate.toml")).unwrap();
    cfg.push_str(&format!(
        "\n[environments.bench]\ntenant = \"bench.onmicrosoft.com\"\nclient_id = \"6731de76-14a6-49ae-97bc-6eba6914391e\"\nclient_secret_env = \"{SECRET_VAR}\"\ngraph_url = \"{0}\"\nlogin_url = \"{0}\"\nmax_concurrency = {concurrency}\nrequests_per_second = {rps}\n",
        s.url()
    ));
    std::fs::write(repo.join("tenantgate.toml"), cfg).unwrap();
    let mut cmd = tg(&repo);
    cmd.args(["export", "--env", "bench", "--format", "json"]);
    if !batch {
        cmd.arg("--no-batch");
    }
    let started = Instant::now();
    let mut child = cmd
        .env(SECRET_VAR, "bench-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tenantgate export");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, filled in by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child we spawned; the pointers are valid for the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(r, pid, "wait4 failed");
    let out = reader.join().unwrap().unwrap();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    assert_eq!(code, 0, "export failed:\n{out}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    Measured {
        wall,
        peak_kb: usage.ru_maxrss,
        report,
        sim_stats: s.sim.stats_json(),
        bound: s.sim.bound(),
    }
}

fn describe(m: &Measured) -> String {
    let r = &m.report["requests"];
    format!(
        "wall {:.2} s, {} Graph requests in {} HTTP requests ({} throttled, {} retried; simulator counted {}), peak RSS {:.1} MB",
        m.wall.as_secs_f64(),
        r["graph_requests"],
        r["http_requests"],
        r["throttled"],
        r["retries"],
        m.sim_stats["graph_requests"],
        m.peak_kb as f64 / 1024.0
    )
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too: keep that cheap.
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("export benchmark: run with `cargo bench --bench export`");
        return;
    }
    let policies: usize = std::env::var("POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let tenant = Tenant::builtin("dev")
        .expect("built-in tenant")
        .synthetic(policies);
    let latency = Duration::from_millis(30);
    println!(
        "export benchmark: {policies} policies ({} objects with the directory) served by the simulator, 30 ms latency per HTTP request",
        tenant.count()
    );
    let mut ok = true;

    let a = run_export(
        &tenant,
        Faults {
            latency,
            requests_per_second: Some(100.0),
            ..Faults::default()
        },
        100,
        8,
        true,
    );
    let bound_s = a.bound["seconds"].as_f64().unwrap();
    let ratio = a.wall.as_secs_f64() / bound_s;
    println!("(a) budget 100 requests/s: {}", describe(&a));
    println!(
        "    simulator's stated bound: {} requests / 100 per s = {bound_s:.2} s; export took {ratio:.2}x the bound (target <= 1.30x): {}",
        a.bound["requests"],
        if ratio <= 1.3 { "met" } else { "MISSED" }
    );
    ok &= ratio <= 1.3;

    let fast = run_export(
        &tenant,
        Faults {
            latency,
            ..Faults::default()
        },
        1_000_000,
        8,
        true,
    );
    let slow = run_export(
        &tenant,
        Faults {
            latency,
            ..Faults::default()
        },
        1_000_000,
        1,
        false,
    );
    let speedup = slow.wall.as_secs_f64() / fast.wall.as_secs_f64();
    println!(
        "(b) no throttling, $batch, 8 in flight: {}",
        describe(&fast)
    );
    println!(
        "    one request at a time, no $batch:   {}",
        describe(&slow)
    );
    println!(
        "    $batch and concurrency are {speedup:.1}x faster (target >= 10x): {}",
        if speedup >= 10.0 { "met" } else { "MISSED" }
    );
    ok &= speedup >= 10.0;

    let peak = [&a, &fast, &slow]
        .iter()
        .map(|m| m.peak_kb)
        .max()
        .unwrap_or(0) as f64
        / 1024.0;
    println!(
        "peak memory of any export: {peak:.1} MB (target < 300 MB): {}",
        if peak < 300.0 { "met" } else { "MISSED" }
    );
    ok &= peak < 300.0;
    // Same tenant, same files: the three exports agree.
    let files = |m: &Measured| m.report["kinds"].clone();
    assert_eq!(files(&a), files(&fast));
    assert_eq!(files(&fast), files(&slow));
    if !ok {
        std::process::exit(1);
    }
}
