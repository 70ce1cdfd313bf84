//! Embeds the demo's seed tenants (`examples/tenants/<env>/**.json`) into the binary, so
//! `tenantgate demo` also runs from an installed binary.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let seeds = root.join("examples").join("tenants");
    println!("cargo:rerun-if-changed={}", seeds.display());
    let mut files = Vec::new();
    for env in ["dev", "prod"] {
        let dir = seeds.join(env);
        println!("cargo:rerun-if-changed={}", dir.display());
        walk(&dir, &mut files);
    }
    let mut code = String::from(
        "/// Seed files of the demo tenants: (path below examples/tenants, bytes).\npub static SEEDS: &[(&str, &[u8])] = &[\n",
    );
    for f in &files {
        let rel = f.strip_prefix(&seeds).expect("below the seed folder");
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        println!("cargo:rerun-if-changed={}", f.display());
        writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            f.display().to_string()
        )
        .expect("writing to a string");
    }
    code.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("seeds.rs"), code).expect("writing seeds.rs");
    embed_rules(&root, &out_dir);
}

/// Embeds the built-in rule pack (`rules/**`: rules, their tests, the baseline mapping) and the
/// git hooks (`hooks/*`), so an installed binary carries them.
fn embed_rules(root: &Path, out_dir: &Path) {
    let mut code = String::from(
        "/// Files of the built-in rule pack: (path below rules/, text).\npub static RULE_FILES: &[(&str, &str)] = &[\n",
    );
    for (dir, var) in [("rules", None), ("hooks", Some("HOOK_FILES"))] {
        if let Some(var) = var {
            code.push_str(&format!(
                "];\n/// Git hooks shipped in hooks/: (file name, text).\npub static {var}: &[(&str, &str)] = &[\n"
            ));
        }
        let base = root.join(dir);
        println!("cargo:rerun-if-changed={}", base.display());
        let mut files = Vec::new();
        walk_all(&base, &mut files);
        for f in files {
            let rel = f
                .strip_prefix(&base)
                .expect("below the folder")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            println!("cargo:rerun-if-changed={}", f.display());
            writeln!(
                code,
                "    ({rel:?}, include_str!({:?})),",
                f.display().to_string()
            )
            .expect("writing to a string");
        }
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("builtin_rules.rs"), code).expect("writing builtin_rules.rs");
}

fn walk_all(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            println!("cargo:rerun-if-changed={}", p.display());
            walk_all(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "rhai" || e == "json" || e == "toml")
            || p.parent().is_some_and(|d| d.ends_with("hooks"))
        {
            out.push(p);
        }
    }
}
