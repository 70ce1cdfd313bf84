//! `--format github`: GitHub Actions workflow commands (`::error file=…,line=…::message`), which
//! show as annotations on the pull request's files. Waived findings are notices; a finding
//! about a folder is shown on the folder's first file (`super::folder_anchor`).

use crate::lint::{Outcome, Severity};
use std::io::Write;

/// Escape a workflow command's message.
fn data(s: &str) -> String {
    super::escape_controls(s, &['\r', '\n'])
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a workflow command's property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(outcome: &Outcome, out: &mut dyn Write) -> std::io::Result<()> {
    for f in &outcome.findings {
        let command = match (&f.waived, f.severity) {
            (Some(_), _) | (None, Severity::Info) => "notice",
            (None, Severity::Warning) => "warning",
            (None, Severity::Error) => "error",
        };
        // A finding about a folder is annotated on the folder's first file.
        let anchor = super::folder_anchor(outcome, f);
        let mut props = vec![format!(
            "file={}",
            property(
                anchor
                    .as_deref()
                    .unwrap_or_else(|| f.path.trim_start_matches("builtin:"))
            )
        )];
        if anchor.is_some() {
            props.push("line=1".to_string());
        }
        if let Some(l) = f.line.filter(|_| anchor.is_none()) {
            props.push(format!("line={l}"));
        }
        if let Some(c) = f.column.filter(|_| anchor.is_none()) {
            props.push(format!("col={c}"));
        }
        let waived = if f.waived.is_some() { " (waived)" } else { "" };
        props.push(format!(
            "title={}",
            property(&format!("{}{waived}", f.rule))
        ));
        let mut message = f.message.clone();
        if anchor.is_some() {
            message.push_str(&format!("\nabout the folder {}", f.path));
        }
        if let Some(h) = &f.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        if let Some(w) = &f.waived {
            message.push_str(&format!(
                "\nwaived by {} until {}: {} (approved by {})",
                w.source, w.expires, w.justification, w.approved_by
            ));
        }
        writeln!(out, "::{command} {}::{}", props.join(","), data(&message))?;
    }
    writeln!(out, "{}", super::summary_line(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }

    /// A policy named `WIN\u{1b}[31mRED\u{7}-x` reached the runner's log with a raw escape
    /// sequence and bell.
    #[test]
    fn control_characters_in_names_are_escaped() {
        assert_eq!(data("WIN\u{1b}[31mRED\u{7}-x"), "WIN\\u{1b}[31mRED\\u{7}-x");
        assert_eq!(data("a\r\nb"), "a%0D%0Ab");
    }
}
