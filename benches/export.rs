//! Export benchmark: 5,000 policies served by the tenant simulator over real HTTP, read by the
//! `tenantgate` binary (a child process, so its peak memory is its own).
//!
//! (a) 30 ms latency and a budget of 100 requests per second (the simulator throttles beyond
//!     it, the client paces itself at it): wall time against the simulator's stated bound
//!     (fewest requests / budget); target within 1.3x.
//! (b) 30 ms latency, no throttling: the client with `$batch` and its default concurrency (40
//!     Graph requests in flight, a `$batch` of n counting n) against the same client one
//!     request at a time without `$batch`; target at least 10x faster.
//!
//! Peak memory (maximum resident set of the export process, from `wait4`) must stay under
//! 300 MB. The simulator runs as its own process too (`tenantgate sim serve --synthetic`):
//! a child's peak RSS on Linux includes its parent's RSS at spawn time, so this process stays
//! small. Run with `cargo bench --bench export`; `POLICIES=n` changes the size.

use serde_json::Value;
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// A simulator process: `tenantgate sim serve --builtin dev --synthetic N …`, and its URL.
fn start_sim(policies: usize, extra: &[&str]) -> (Child, String) {
    let mut child = tg(Path::new("."))
        .args([
            "sim",
            "serve",
            "--builtin",
            "dev",
            "--synthetic",
            &policies.to_string(),
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tenantgate sim serve");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the simulator prints its URL")
        .to_string();
    (child, url)
}

/// GET a JSON document from the simulator (`/_sim/bound`, `/_sim/stats`).
fn get_json(url: &str, path: &str) -> Value {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the simulator");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let body = &resp[resp.find("\r\n\r\n").expect("a body") + 4..];
    serde_json::from_str(body.trim()).expect("JSON")
}

/// Run `export` as a child against a new simulator and measure its wall time and peak
/// resident memory.
// The child is reaped by `libc::wait4`, which also gives its resource usage.
#[allow(clippy::zombie_processes)]
fn run_export(
    policies: usize,
    sim_args: &[&str],
    rps: u32,
    concurrency: u32,
    batch: bool,
) -> Measured {
    let (mut sim, url) = start_sim(policies, sim_args);
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
        "\n[environments.bench]\ntenant = \"bench.onmicrosoft.com\"\nclient_id = \"6731de76-14a6-49ae-97bc-6eba6914391e\"\nclient_secret_env = \"{SECRET_VAR}\"\ngraph_url = \"{url}\"\nlogin_url = \"{url}\"\nmax_concurrency = {concurrency}\nrequests_per_second = {rps}\n"
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
    let measured = Measured {
        wall,
        peak_kb: usage.ru_maxrss,
        report,
        sim_stats: get_json(&url, "/_sim/stats"),
        bound: get_json(&url, "/_sim/bound"),
    };
    let _ = sim.kill();
    let _ = sim.wait();
    measured
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
    println!(
        "export benchmark: {policies} policies (cloned from the DEV seed, with its directory) served by `tenantgate sim serve`, 30 ms latency per HTTP request"
    );
    let mut ok = true;

    let in_flight = tenantgate::config::DEFAULT_MAX_CONCURRENCY;
    let a = run_export(
        policies,
        &["--latency-ms", "30", "--throttle", "100"],
        100,
        in_flight,
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
        policies,
        &["--latency-ms", "30"],
        1_000_000,
        in_flight,
        true,
    );
    let slow = run_export(policies, &["--latency-ms", "30"], 1_000_000, 1, false);
    let speedup = slow.wall.as_secs_f64() / fast.wall.as_secs_f64();
    println!(
        "(b) no throttling, $batch, {in_flight} Graph requests in flight: {}",
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
