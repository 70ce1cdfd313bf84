//! Exporting from the tenant simulator: start one, point an environment at it, run export.

use super::{Run, committed_files, tg};
use std::path::Path;
use tenantgate::sim::{self, Sim, SimConfig, Tenant};

pub const SECRET: &str = "Sup3r-S3cret-Value-for-Tests!";
pub const SECRET_VAR: &str = "TENANTGATE_TEST_CLIENT_SECRET";

pub fn start(tenant: Tenant, config: SimConfig) -> sim::Running {
    sim::spawn(Sim::new(tenant, config)).expect("start the simulator")
}

pub fn dev() -> Tenant {
    Tenant::builtin("dev").expect("built-in dev tenant")
}

/// Add `[environments.<env>]` pointing at `url` to the repository's configuration.
pub fn configure(repo: &Path, env: &str, url: &str, extra: &str) {
    let path = repo.join("tenantgate.toml");
    let mut text = std::fs::read_to_string(&path).expect("read tenantgate.toml");
    text.push_str(&format!(
        "\n[environments.{env}]\ntenant = \"contoso-{env}.onmicrosoft.com\"\nclient_id = \"6731de76-14a6-49ae-97bc-6eba6914391e\"\nclient_secret_env = \"{SECRET_VAR}\"\ngraph_url = \"{url}\"\nlogin_url = \"{url}\"\n{extra}"
    ));
    std::fs::write(&path, text).expect("write tenantgate.toml");
}

/// Point the configuration at another simulator.
pub fn point_at(repo: &Path, from: &str, to: &str) {
    let path = repo.join("tenantgate.toml");
    let text = std::fs::read_to_string(&path)
        .expect("read tenantgate.toml")
        .replace(from, to);
    std::fs::write(&path, text).expect("write tenantgate.toml");
}

/// `tenantgate export ARGS` with the client secret set.
pub fn export(repo: &Path, args: &[&str]) -> Run {
    let mut c = tg(repo);
    c.arg("export").args(args).env(SECRET_VAR, SECRET);
    Run::from(c.output().expect("run tenantgate export"))
}

/// `tenantgate export ARGS` that gives up fast: 3 attempts, 1 ms backoff, `Retry-After`
/// capped at 10 ms (for faults that outlast the retries).
pub fn export_impatient(repo: &Path, args: &[&str]) -> Run {
    let mut c = tg(repo);
    c.arg("export")
        .args(args)
        .env(SECRET_VAR, SECRET)
        .env("TENANTGATE_GRAPH_MAX_ATTEMPTS", "3")
        .env("TENANTGATE_GRAPH_BACKOFF_MS", "1")
        .env("TENANTGATE_GRAPH_MAX_RETRY_AFTER_MS", "10");
    Run::from(c.output().expect("run tenantgate export"))
}

pub fn stat(s: &sim::Running, key: &str) -> u64 {
    s.sim.stats_json()[key].as_u64().unwrap_or(0)
}

/// The same file names with the same bytes.
pub fn assert_same_files(a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)]) {
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(names(a), names(b), "different files");
    for ((p, x), (_, y)) in a.iter().zip(b) {
        assert!(
            x == y,
            "{p} differs:\n--- expected\n{}\n--- got\n{}",
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y)
        );
    }
}

/// Export `tenant` from a new simulator with `config` into a new repository: the simulator,
/// the run and the files committed under `tenants/dev`.
pub fn export_from(
    tenant: Tenant,
    config: SimConfig,
) -> (sim::Running, Run, Vec<(String, Vec<u8>)>) {
    let s = start(tenant, config);
    let (_tmp, repo) = super::new_repo();
    configure(&repo, "dev", &s.url(), "");
    let r = export(&repo, &["--env", "dev", "--format", "json"]);
    let files = if r.code == 0 {
        committed_files(&repo, "tenants/dev")
    } else {
        Vec::new()
    };
    (s, r, files)
}
