//! The built-in demo tenants (`examples/tenants/`), embedded at build time.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/seeds.rs"));

/// Environments the seed holds.
pub const ENVIRONMENTS: &[(&str, &str)] = &[
    ("dev", "contoso-dev.onmicrosoft.com"),
    ("prod", "contoso.onmicrosoft.com"),
];

/// The seed files of `env`: (path below the environment's folder, bytes).
pub fn files(env: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    SEEDS.iter().filter_map(move |(path, bytes)| {
        path.strip_prefix(env)
            .and_then(|p| p.strip_prefix('/'))
            .map(|p| (p, *bytes))
    })
}

/// Write the seed of `env` into `dir` (created), as Graph-shaped JSON files.
pub fn extract(env: &str, dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for (rel, bytes) in files(env) {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, bytes)?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_environments_are_embedded() {
        for (env, _) in super::ENVIRONMENTS {
            assert!(super::files(env).count() > 40, "{env}");
        }
    }
}
