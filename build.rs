//! Embeds into the binary what it needs at run time, so an installed `tenantgate` has it too:
//! the demo's seed tenants (`examples/tenants/<env>/**.json`), the built-in rule pack
//! (`rules/**`: rules, their tests, the baseline mapping) and the git hooks (`hooks/*`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Files below `dir` that `keep` accepts, sorted; folders are watched for new files.
fn walk(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, keep, out);
        } else if keep(&p) {
            println!("cargo:rerun-if-changed={}", p.display());
            out.push(p);
        }
    }
}

/// `file` relative to `base`, `/`-separated.
fn relative(base: &Path, file: &Path) -> String {
    file.strip_prefix(base)
        .expect("below the folder")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// `pub static NAME: &[(&str, &T)] = &[(relative path, include_xxx!(file)), …];`
fn table(
    code: &mut String,
    doc: &str,
    name: &str,
    ty: &str,
    include: &str,
    base: &Path,
    files: &[PathBuf],
) {
    writeln!(code, "/// {doc}\npub static {name}: &[(&str, {ty})] = &[")
        .expect("writing to a string");
    for f in files {
        writeln!(
            code,
            "    ({:?}, {include}!({:?})),",
            relative(base, f),
            f.display().to_string()
        )
        .expect("writing to a string");
    }
    code.push_str("];\n");
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    let seeds = root.join("examples").join("tenants");
    let mut files = Vec::new();
    for env in ["dev", "prod"] {
        walk(
            &seeds.join(env),
            &|p| p.extension().is_some_and(|e| e == "json"),
            &mut files,
        );
    }
    let mut code = String::new();
    table(
        &mut code,
        "Seed files of the demo tenants: (path below examples/tenants, bytes).",
        "SEEDS",
        "&[u8]",
        "include_bytes",
        &seeds,
        &files,
    );
    std::fs::write(out_dir.join("seeds.rs"), code).expect("writing seeds.rs");

    let rules = root.join("rules");
    let mut files = Vec::new();
    walk(
        &rules,
        &|p| {
            p.extension()
                .is_some_and(|e| e == "rhai" || e == "json" || e == "toml")
        },
        &mut files,
    );
    let mut code = String::new();
    table(
        &mut code,
        "Files of the built-in rule pack: (path below rules/, text).",
        "RULE_FILES",
        "&str",
        "include_str",
        &rules,
        &files,
    );
    let hooks = root.join("hooks");
    let mut files = Vec::new();
    walk(&hooks, &|_| true, &mut files);
    table(
        &mut code,
        "Git hooks shipped in hooks/: (file name, text).",
        "HOOK_FILES",
        "&str",
        "include_str",
        &hooks,
        &files,
    );
    std::fs::write(out_dir.join("builtin_rules.rs"), code).expect("writing builtin_rules.rs");
}
