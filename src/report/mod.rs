//! Rendering lint outcomes: `text` (annotated snippets), `json`, `sarif` (2.1.0), `github`
//! (workflow commands) and `markdown` (a pull-request comment). Renderers write to an
//! `impl Write`; they never print on their own.

mod github;
mod json;
mod markdown;
mod sarif;
mod text;

use crate::lint::rules::{Control, Rule};
use crate::lint::{Finding, NATIVE_RULES, Outcome, Severity};
use std::io::Write;

/// Output formats of `tenantgate lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
    Markdown,
}

/// What a report says about a rule (rules that ran, and the engine's own findings).
#[derive(Debug, Clone)]
pub struct RuleMeta {
    pub id: String,
    pub severity: Severity,
    pub summary: String,
    pub doc: String,
    pub controls: Vec<Control>,
}

/// Every rule a report may mention, by id.
/// `s` with its control characters, except those in `keep`, shown as Rust escapes (`\u{1b}`):
/// names come from tenants and files, and must not drive a terminal or break a line.
pub fn escape_controls<'a>(s: &'a str, keep: &[char]) -> std::borrow::Cow<'a, str> {
    if !s.chars().any(|c| c.is_control() && !keep.contains(&c)) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && !keep.contains(&c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

pub fn rule_metas(rules: &[Rule]) -> Vec<RuleMeta> {
    let mut out: Vec<RuleMeta> = rules
        .iter()
        .map(|r| RuleMeta {
            id: r.id.clone(),
            severity: r.severity,
            summary: r.summary.clone(),
            doc: r.doc.clone(),
            controls: r.controls.clone(),
        })
        .collect();
    out.extend(NATIVE_RULES.iter().map(|n| RuleMeta {
        id: n.id.to_string(),
        severity: n.severity,
        summary: n.summary.to_string(),
        doc: n.doc.to_string(),
        controls: Vec::new(),
    }));
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Write `outcome` in `format`; `color` only matters for `text`.
pub fn render(
    outcome: &Outcome,
    format: Format,
    color: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Text => text::render(outcome, color, out),
        Format::Json => json::render(outcome, out),
        Format::Sarif => sarif::render(outcome, out),
        Format::Github => github::render(outcome, out),
        Format::Markdown => markdown::render(outcome, out),
    }
}

/// "3 errors, 1 warning, 0 info, 1 waived" plus the verdict.
pub fn summary_line(outcome: &Outcome) -> String {
    let checked: usize = outcome.envs.iter().map(|e| e.checked).sum();
    let total: usize = outcome.envs.iter().map(|e| e.policies).sum();
    let envs: Vec<&str> = outcome.envs.iter().map(|e| e.name.as_str()).collect();
    let scope = if checked == total {
        format!("{total} policies")
    } else {
        format!("{checked} changed of {total} policies")
    };
    format!(
        "{} in {scope} ({}) with {} rules: {}",
        outcome.counts(),
        if envs.is_empty() {
            "no environment".to_string()
        } else {
            envs.join(", ")
        },
        outcome.rules.len(),
        if outcome.failed() { "failed" } else { "passed" }
    )
}

/// Where code scanning and annotations can show a finding about a whole folder (a rule about
/// a kind: `tenants/dev/conditional-access`), which they cannot place on a folder: the
/// folder's first policy file (`.json`, else any file) in the files linted; when the folder
/// is empty there (a change deleted every policy of the kind), the environment's
/// `.tenantgate/state.json`. `None` when the finding is about a file, or the environment has
/// no file left to show it on.
pub fn folder_anchor(outcome: &Outcome, f: &Finding) -> Option<String> {
    let path = f.path.as_str();
    if !path.starts_with(&format!("{}/", crate::policy::TENANTS_DIR)) || outcome.head.contains(path)
    {
        return None;
    }
    let files = outcome.head.list(path);
    let direct = |f: &&crate::lint::files::FileRef| !f.path[path.len() + 1..].contains('/');
    if let Some(first) = files
        .iter()
        .filter(direct)
        .find(|f| f.path.ends_with(".json"))
        .or_else(|| files.first())
    {
        return Some(first.path.clone());
    }
    // tenants/<env>/<kind>: the environment's state file.
    let env = path.split('/').nth(1)?;
    let state = format!("{}/.tenantgate/state.json", crate::policy::env_dir(env));
    outcome.head.contains(&state).then_some(state)
}
