//! Small helpers for what the CLI prints.

use std::io::IsTerminal;

/// `error: a: b: c` — an error with its whole `source()` chain.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

/// Colour on stderr only on a terminal and never with `NO_COLOR`.
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Output format of commands that report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Short form of a commit id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// `s` with control characters (a newline in a file name, an escape sequence) shown as Rust
/// escapes, so that one reported line stays one line and a name cannot drive the terminal.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    crate::report::escape_controls(s, &[])
}

#[cfg(test)]
mod tests {
    /// A source file named `new\nline.json` split an import report line in two.
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::printable("a/b.json"), "a/b.json");
        assert_eq!(super::printable("new\nline.json"), "new\\nline.json");
        assert_eq!(super::printable("x\u{1b}[31m.json"), "x\\u{1b}[31m.json");
        assert_eq!(super::printable("Übersicht.json"), "Übersicht.json");
    }
}
