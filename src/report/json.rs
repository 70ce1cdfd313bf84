//! `--format json`: the findings and a summary, for scripts. Stable field names.

use crate::lint::Outcome;
use serde_json::json;
use std::io::Write;

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    let doc = json!({
        "version": 1,
        "mode": outcome.mode,
        "fail_on": match outcome.fail_on {
            crate::lint::FailOn::At(s) => s.as_str(),
            crate::lint::FailOn::Never => "never",
        },
        "failed": outcome.failed(),
        "summary": outcome.counts(),
        "environments": outcome.envs,
        "findings": outcome.findings,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
