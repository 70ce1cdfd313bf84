//! Helpers shared by the integration tests: run the real binary, inspect repositories with the
//! real `git` (as a user would), and build export folders in temp dirs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

pub fn intunecd_corpus() -> PathBuf {
    fixtures().join("corpus").join("intunecd-ces2026")
}

pub fn intunemanagement_corpus() -> PathBuf {
    fixtures()
        .join("corpus")
        .join("conditionalaccessbaseline-j0eyv")
}

/// The `tenantgate` binary with a clean environment for logs and colours.
pub fn tg(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tenantgate"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn run(dir: &Path, args: &[&str]) -> Run {
    Run::from(tg(dir).args(args).output().expect("run tenantgate"))
}

/// `git` with a fixed identity, so tests do not depend on the machine's configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A new policy repository (`tenantgate init`) in a temp dir.
pub fn new_repo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let repo = tmp.path().join("policies");
    let r = run(tmp.path(), &["init", "policies"]);
    assert_eq!(r.code, 0, "{r:?}");
    (tmp, repo)
}

pub fn commit_count(repo: &Path) -> usize {
    git(repo, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .expect("a number")
}

pub fn head(repo: &Path) -> String {
    git(repo, &["rev-parse", "HEAD"]).trim().to_string()
}

/// Every file committed at HEAD below `prefix`, with its bytes.
pub fn committed_files(repo: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let list = git(
        repo,
        &["ls-tree", "-r", "--name-only", "HEAD", "--", prefix],
    );
    list.lines()
        .map(|p| {
            let o = Command::new("git")
                .current_dir(repo)
                .args(["cat-file", "blob", &format!("HEAD:{p}")])
                .output()
                .expect("git cat-file");
            (p.to_string(), o.stdout)
        })
        .collect()
}

/// Write `files` (relative path, contents) below `dir`.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

/// Every file below `dir`, relative, `/`-separated, sorted.
pub fn files_below(dir: &Path) -> Vec<String> {
    fn walk(d: &Path, rel: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).expect("read dir") {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if e.path().is_dir() {
                walk(&e.path(), &child, out);
            } else {
                out.push(child);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// `git status --porcelain` is empty.
pub fn assert_clean(repo: &Path) {
    let s = git(repo, &["status", "--porcelain"]);
    assert!(s.trim().is_empty(), "worktree not clean:\n{s}");
}

/// Commit everything in `repo` with a fixed identity, authored and committed at `date`
/// (anything `git` reads as a date: `2026-03-01T12:00:00Z`).
pub fn commit_dated(repo: &Path, message: &str, date: &str) {
    git(repo, &["add", "-A"]);
    let o = Command::new("git")
        .current_dir(repo)
        .args(["commit", "-q", "-m", message])
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git commit failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A shallow clone of `from` at `to` with `depth` commits of history.
pub fn shallow_clone(from: &Path, to: &Path, depth: usize) {
    let parent = to.parent().expect("a parent");
    let url = format!("file://{}", from.display());
    git(
        parent,
        &[
            "clone",
            "-q",
            "--depth",
            &depth.to_string(),
            &url,
            to.to_str().expect("a UTF-8 path"),
        ],
    );
}

pub mod graph;
