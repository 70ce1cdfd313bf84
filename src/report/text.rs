//! `--format text`: each finding as an annotated snippet of the file as linted (colour only on
//! a terminal, never with `NO_COLOR`; the caller decides), then a summary.

use crate::lint::{Finding, Outcome, Severity};
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use std::collections::HashMap;
use std::io::Write;

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// The byte range to underline in `line`, starting at `column` (characters): the rest of the
/// line, without a trailing comma or spaces.
fn span(line: &str, column: usize) -> std::ops::Range<usize> {
    let start = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let end = line.trim_end().trim_end_matches(',').len().max(start);
    if end == start {
        start..(start + line[start..].chars().next().map_or(0, char::len_utf8))
    } else {
        start..end
    }
}

/// `line` with what the finding at `column` is about replaced by `<redacted>`: the value of a
/// JSON member (its key kept), or the rest of the line from the column (a script).
fn redacted(line: &str, column: usize) -> String {
    let start = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(i, _)| i);
    let rest = &line[start..];
    // A JSON member: `"key": value` — keep the key.
    if let Some(body) = rest.strip_prefix('"') {
        let mut escaped = false;
        let mut end = None;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            let after = &body[end + 1..];
            let spaces = after.len() - after.trim_start().len();
            if let Some(value) = after.trim_start().strip_prefix(':') {
                let kept = start + 1 + end + 1 + spaces + 1;
                let gap = value.len() - value.trim_start().len();
                let comma = if value.trim_end().ends_with(',') {
                    ","
                } else {
                    ""
                };
                return format!("{}{}\"<redacted>\"{comma}", &line[..kept], &value[..gap]);
            }
        }
    }
    // At a quoted string in a script: hide what is between the quotes.
    if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'')
        && let Some(end) = rest[1..].find(q)
    {
        return format!("{}{q}<redacted>{}", &line[..start], &rest[1 + end..]);
    }
    // Inside a quoted string in a script: hide up to the closing quote, keep the rest.
    if let Some(q) = line[..start]
        .chars()
        .next_back()
        .filter(|c| *c == '"' || *c == '\'')
        && let Some(end) = rest.find(q)
    {
        return format!("{}<redacted>{}", &line[..start], &rest[end..]);
    }
    format!("{}<redacted>", &line[..start])
}

fn one(f: &Finding, text: Option<&str>, renderer: &Renderer) -> String {
    let title = if f.waived.is_some() {
        format!("{} (waived)", f.message)
    } else {
        f.message.clone()
    };
    let shown = f.path.trim_start_matches("builtin:");
    let group = level(f.severity)
        .primary_title(title.as_str())
        .id(f.rule.as_str());
    let masked;
    let line_text = match f
        .line
        .and_then(|l| text.and_then(|t| t.lines().nth(l - 1).map(|s| (l, s))))
    {
        Some((l, src)) if f.redact => {
            masked = redacted(src, f.column.unwrap_or(1));
            Some((l, masked.as_str()))
        }
        other => other,
    };
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut g = match (line_text, f.line) {
        (Some((l, src)), _) => group.element(
            Snippet::source(src)
                .line_start(l)
                .path(shown)
                .annotation(AnnotationKind::Primary.span(span(src, f.column.unwrap_or(1)))),
        ),
        (None, Some(l)) => group.element(
            Origin::path(shown)
                .line(l)
                .char_column(f.column.unwrap_or(1)),
        ),
        (None, None) => group.element(Origin::path(shown)),
    };
    // The snippet shows a top-level member; deeper pointers say which element it is.
    if let Some(p) = &f.pointer
        && p.matches('/').count() > 1
    {
        g = g.element(Level::NOTE.message(format!("at {p}")));
    }
    if !f.related.is_empty() {
        g = g.element(Level::NOTE.message(format!("see also {}", f.related.join(", "))));
    }
    if let Some(h) = &f.help {
        g = g.element(Level::HELP.message(h.as_str()));
    }
    if let Some(w) = &f.waived {
        g = g.element(Level::NOTE.message(format!(
            "waived by {} until {}: {} (approved by {})",
            w.source, w.expires, w.justification, w.approved_by
        )));
    }
    groups.push(g);
    renderer.render(&groups).to_string()
}

pub fn render(outcome: &Outcome, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut texts: HashMap<&str, Option<String>> = HashMap::new();
    for f in &outcome.findings {
        let text = texts
            .entry(f.path.as_str())
            .or_insert_with(|| outcome.read_text(&f.path))
            .as_deref();
        writeln!(out, "{}\n", one(f, text, &renderer))?;
    }
    writeln!(out, "{}", super::summary_line(outcome))?;
    writeln!(out, "  {}", outcome.mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text report printed a secret in full in the snippet under a finding whose message
    /// shows only its first characters.
    #[test]
    fn redacted_lines_keep_the_key_and_hide_the_value() {
        let json = r#"  "description": "password=Sup3rS3cretValue!","#;
        assert_eq!(redacted(json, 3), r#"  "description": "<redacted>","#);
        let last = r#"  "a\"b": "k=v""#;
        assert_eq!(redacted(last, 3), r#"  "a\"b": "<redacted>""#);
        let script = r#"$password = "Sup3rS3cretValue!""#;
        assert_eq!(redacted(script, 13), r#"$password = "<redacted>""#);
        let call = r#"Connect -Password 'Sup3r' -Force"#;
        assert_eq!(redacted(call, 20), "Connect -Password '<redacted>' -Force");
        let bare = "token=Sup3rS3cret";
        assert_eq!(redacted(bare, 7), "token=<redacted>");
        let mut f = Finding::new(
            "secrets/credential",
            Severity::Error,
            "tenants/dev/x.json",
            "possible password in a value (Sup3…)",
        );
        f.line = Some(2);
        f.column = Some(3);
        f.redact = true;
        let text = format!("{{\n{json}\n  \"name\": \"x\"\n}}\n");
        let shown = one(&f, Some(&text), &Renderer::plain());
        assert!(!shown.contains("Sup3rS3cret"), "{shown}");
        assert!(shown.contains(r#""description": "<redacted>""#), "{shown}");
        f.redact = false;
        assert!(one(&f, Some(&text), &Renderer::plain()).contains("Sup3rS3cretValue!"));
    }

    #[test]
    fn underlines_from_the_column_to_the_end_of_the_value() {
        let line = "    \"groupId\": \"@group:?x\",";
        assert_eq!(&line[span(line, 5)], "\"groupId\": \"@group:?x\"");
        assert_eq!(span("ab", 9), 2..2);
        let uni = "  \"é\": 1";
        assert_eq!(&uni[span(uni, 3)], "\"é\": 1");
    }
}
