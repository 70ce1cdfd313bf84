//! `--format markdown`: a pull-request comment. Findings in a table, waived ones folded away,
//! and the baseline controls the rules help show (readiness, not certification). A control
//! whose rules judged no policy says "not run", never "no findings".

use crate::lint::{Finding, Outcome, Severity, ids};
use std::collections::BTreeMap;
use std::io::Write;

/// A baseline control in the readiness table.
#[derive(Default)]
struct Control {
    title: String,
    /// Its rules, each marked when it failed or judged nothing.
    rules: Vec<String>,
    found: usize,
    failed: bool,
    /// Policies its rules judged, all together.
    judged: usize,
}

/// Most rows shown; the rest are counted (a comment has a size limit).
const MAX_ROWS: usize = 200;

fn cell(s: &str) -> String {
    super::escape_controls(&s.replace('\n', " "), &[])
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn place(f: &Finding) -> String {
    match (f.line, f.column) {
        (Some(l), Some(c)) => format!("`{}:{l}:{c}`", super::escape_controls(&f.path, &[])),
        (Some(l), None) => format!("`{}:{l}`", super::escape_controls(&f.path, &[])),
        _ => format!("`{}`", super::escape_controls(&f.path, &[])),
    }
}

fn badge(s: Severity) -> &'static str {
    match s {
        Severity::Error => "🔴 error",
        Severity::Warning => "🟠 warning",
        Severity::Info => "🔵 info",
    }
}

fn table(rows: &[&Finding], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "| severity | rule | where | message |")?;
    writeln!(out, "|---|---|---|---|")?;
    for f in rows.iter().take(MAX_ROWS) {
        let mut message = cell(&f.message);
        if let Some(h) = &f.help {
            message.push_str(&format!("<br>_{}_", cell(h)));
        }
        writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            badge(f.severity),
            f.rule,
            place(f),
            message
        )?;
    }
    if rows.len() > MAX_ROWS {
        writeln!(
            out,
            "\n… and {} more (see the full report: `tenantgate lint --format text`).",
            rows.len() - MAX_ROWS
        )?;
    }
    Ok(())
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let verdict = if outcome.failed() {
        "❌ failed"
    } else {
        "✅ passed"
    };
    writeln!(out, "### TenantGate lint: {verdict}\n")?;
    writeln!(out, "{}\n", cell(&super::summary_line(outcome)))?;
    writeln!(out, "_{}_\n", cell(&outcome.mode))?;
    let counted: Vec<&Finding> = outcome.findings.iter().filter(|f| f.counts()).collect();
    let waived: Vec<&Finding> = outcome.findings.iter().filter(|f| !f.counts()).collect();
    if counted.is_empty() {
        writeln!(out, "No findings.")?;
    } else {
        let mut sorted = counted.clone();
        sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
        table(&sorted, out)?;
    }
    if !waived.is_empty() {
        writeln!(
            out,
            "\n<details><summary>Waived by exceptions.toml ({})</summary>\n",
            waived.len()
        )?;
        writeln!(
            out,
            "| rule | where | justification | approved by | until |"
        )?;
        writeln!(out, "|---|---|---|---|---|")?;
        for f in waived.iter().take(MAX_ROWS) {
            if let Some(w) = &f.waived {
                writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    f.rule,
                    place(f),
                    cell(&w.justification),
                    cell(&w.approved_by),
                    w.expires
                )?;
            }
        }
        writeln!(out, "\n</details>")?;
    }
    // Baseline readiness: each control, and whether its rules found anything, judged
    // nothing, or failed.
    let pr = outcome.envs.iter().any(|e| e.checked < e.policies);
    let mut controls: BTreeMap<String, Control> = BTreeMap::new();
    for r in &outcome.rules {
        for c in &r.controls {
            let e = controls.entry(c.id.clone()).or_insert_with(|| Control {
                title: c.title.clone(),
                ..Control::default()
            });
            let found = counted.iter().filter(|f| f.rule == r.id).count();
            let failed = counted
                .iter()
                .any(|f| f.rule == ids::RULE_ERROR && f.path == r.file);
            let judged = outcome.judged.get(&r.id).copied().unwrap_or(0);
            e.found += found;
            e.failed |= failed;
            e.judged += judged;
            let note = if failed {
                " (failed)"
            } else if judged == 0 && found == 0 {
                " (not run)"
            } else {
                ""
            };
            e.rules.push(format!("`{}`{note}", r.id));
        }
    }
    if !controls.is_empty() {
        writeln!(
            out,
            "\n<details><summary>Baseline readiness: CISA SCuBA controls these rules help show (informational, not a certification)</summary>\n"
        )?;
        writeln!(out, "| control | | rules |")?;
        writeln!(out, "|---|---|---|")?;
        for (id, c) in &controls {
            let status = if c.found > 0 {
                "❌ findings"
            } else if c.failed {
                "⚠️ not judged: a rule failed"
            } else if c.judged == 0 && pr {
                "➖ not run: this change has no policy its rules judge"
            } else if c.judged == 0 {
                "➖ not run: no policy its rules judge"
            } else {
                "✅ no findings"
            };
            writeln!(
                out,
                "| **{id}** {} | {status} | {} |",
                cell(&c.title),
                c.rules.join(", ")
            )?;
        }
        if controls
            .values()
            .any(|c| c.rules.iter().any(|r| r.ends_with("(not run)")))
        {
            writeln!(
                out,
                "\n_(not run): the rule judged no policy here, so it found nothing without checking anything._"
            )?;
        }
        writeln!(out, "\n</details>")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Raw escape sequences and carriage returns from policy names reached the comment.
    #[test]
    fn cells_escape_control_characters_and_markup() {
        assert_eq!(
            super::cell("WIN\u{1b}[31mRED\u{7}|<b>\r\nx"),
            "WIN\\u{1b}[31mRED\\u{7}\\|&lt;b&gt;\\r x"
        );
    }
}
