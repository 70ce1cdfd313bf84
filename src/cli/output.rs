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
