//! Findings are values (design §4): a stable rule id, a severity, a message, where it is, and
//! whether an exception waives it.

use serde::Serialize;
use std::fmt;

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lowest severity that makes `lint` exit 1 (`--fail-on`, `[lint] fail_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    At(Severity),
    Never,
}

impl FailOn {
    pub fn parse(s: &str) -> Option<FailOn> {
        match s {
            "never" | "none" => Some(FailOn::Never),
            other => Severity::parse(other).map(FailOn::At),
        }
    }

    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::At(min) => severity >= min,
            FailOn::Never => false,
        }
    }
}

impl Default for FailOn {
    fn default() -> Self {
        FailOn::At(Severity::Error)
    }
}

/// Ids of the findings the engine itself reports (the rest come from rules).
pub mod ids {
    pub const RULE_ERROR: &str = "engine/rule-error";
    pub const CONFIG: &str = "engine/config";
    pub const NOT_CANONICAL: &str = "format/not-canonical";
    pub const INVALID: &str = "format/invalid";
    pub const UNKNOWN_KIND: &str = "format/unknown-kind";
    pub const RULES_CHANGED: &str = "governance/rules-changed";
    pub const EXCEPTION_EXPIRED: &str = "exceptions/expired";
    pub const EXCEPTION_INVALID: &str = "exceptions/invalid";
}

/// An exception that waives a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiver {
    /// Where the exception is written: `exceptions.toml:12`.
    pub source: String,
    pub justification: String,
    pub approved_by: String,
    /// `YYYY-MM-DD` (UTC).
    pub expires: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Repository-relative file (or folder, for a finding about a whole kind). Built-in rules
    /// are named `builtin:rules/...`.
    pub path: String,
    /// JSON pointer inside `path` ("" is the whole document); `None` for non-JSON files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// 1-based line and column (in characters) in the file as stored; `None` when the finding
    /// is about the file (or folder) as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Other files the finding is about (a duplicate's twin, a conflict's other side).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<Waiver>,
    /// The line holds what the finding is about and must not be shown (a secret): the text
    /// report masks it in the snippet.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redact: bool,
}

impl Finding {
    pub fn new(rule: &str, severity: Severity, path: &str, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity,
            message: message.into(),
            help: None,
            path: path.to_string(),
            pointer: None,
            line: None,
            column: None,
            related: Vec::new(),
            waived: None,
            redact: false,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Finding {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Finding {
        self.pointer = Some(pointer.into());
        self
    }

    /// Does this finding count towards the exit code?
    pub fn counts(&self) -> bool {
        self.waived.is_none()
    }

    /// Sort key: file, line, column, rule, message.
    pub fn sort_key(&self) -> (&str, usize, usize, &str, &str) {
        (
            &self.path,
            self.line.unwrap_or(0),
            self.column.unwrap_or(0),
            &self.rule,
            &self.message,
        )
    }
}

/// The key of TenantGate's fingerprint in SARIF `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "tenantgateFinding/v1";

/// The end of a pull-request finding caused by a deletion (see `run::judge_change`): not part
/// of what the finding is.
pub const DELETION_NOTE: &str = " (caused by this change deleting ";
/// The start of every such note (a deletion, or a directory object removed or renamed).
pub const CHANGE_NOTE: &str = " (caused by this change ";
/// The note of a finding on an unchanged policy that a removed or renamed directory object
/// (a group, a scope tag, …) causes.
pub const REMOVAL_NOTE: &str = " (caused by this change removing or renaming ";

/// A message as fingerprints see it: the change note dropped, runs of digits as `0` (an age
/// in days, a count, a value that moved on), whitespace collapsed.
pub fn normalized_message(message: &str) -> String {
    let message = match message.find(CHANGE_NOTE) {
        Some(i) if message.ends_with(')') => &message[..i],
        _ => message,
    };
    let mut out = String::with_capacity(message.len());
    let mut digits = false;
    for word in message.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
            digits = false;
        }
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !digits {
                    out.push('0');
                }
                digits = true;
            } else {
                out.push(c);
                digits = false;
            }
        }
    }
    out
}

impl Finding {
    /// What the finding is, whatever line it is on: the SHA-256 of the rule id, the path, the
    /// JSON pointer and the [normalized message](normalized_message), as 32 hex digits. Lines
    /// and columns are left out, so a finding keeps its fingerprint when other lines of its
    /// file move; two findings of one rule, file and message (two secrets in one script) are
    /// told apart by their order (`report::sarif` appends `:1`, `:2`, …).
    pub fn fingerprint(&self) -> String {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for part in [
            self.rule.as_str(),
            self.path.as_str(),
            self.pointer.as_deref().unwrap_or(""),
            &normalized_message(&self.message),
        ] {
            ctx.update(&(part.len() as u64).to_le_bytes());
            ctx.update(part.as_bytes());
        }
        ctx.finish().as_ref()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Is `id` a valid rule id: `area/name`, each part kebab-case (`[a-z0-9]` words joined by `-`)?
pub fn valid_rule_id(id: &str) -> bool {
    fn part(s: &str) -> bool {
        !s.is_empty()
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--")
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
    match id.split_once('/') {
        Some((area, name)) => part(area) && part(name),
        None => false,
    }
}

/// Counts of findings by severity.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    pub waived: usize,
}

impl Counts {
    pub fn of(findings: &[Finding]) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            if f.waived.is_some() {
                c.waived += 1;
                continue;
            }
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    pub fn total(&self) -> usize {
        self.error + self.warning + self.info + self.waived
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        write!(
            f,
            "{}, {}, {} info, {} waived",
            plural(self.error, "error"),
            plural(self.warning, "warning"),
            self.info,
            self.waived
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_area_slash_kebab_case() {
        for ok in ["hygiene/naming-convention", "a/b", "ca2/x-1"] {
            assert!(valid_rule_id(ok), "{ok}");
        }
        for bad in [
            "naming",
            "Hygiene/naming",
            "a/b/c",
            "a/-b",
            "a/b-",
            "a/b--c",
            "/b",
            "a/",
            "a/b_c",
        ] {
            assert!(!valid_rule_id(bad), "{bad}");
        }
    }

    #[test]
    fn fingerprints_ignore_positions_numbers_and_the_deletion_note() {
        let f = Finding::new(
            "conditional-access/report-only-age",
            Severity::Warning,
            "tenants/dev/conditional-access/ca007.json",
            "\"CA007\" has been report-only for 45 days",
        )
        .with_pointer("/state")
        .at(12, 3);
        let fp = f.fingerprint();
        assert_eq!(fp.len(), 32);
        assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
        let mut later = f.clone().at(40, 5);
        later.message = "\"CA007\" has  been report-only for 46 days".into();
        assert_eq!(later.fingerprint(), fp);
        let mut noted = f.clone();
        noted
            .message
            .push_str(" (caused by this change deleting tenants/dev/x.json)");
        assert_eq!(noted.fingerprint(), fp);
        // Anything that says which finding it is changes it.
        for other in [
            f.clone().with_pointer("/displayName"),
            Finding {
                path: "tenants/prod/conditional-access/ca007.json".into(),
                ..f.clone()
            },
            Finding {
                rule: "custom/x".into(),
                ..f.clone()
            },
            Finding {
                message: "\"CA-Pilot\" has been report-only for 45 days".into(),
                ..f.clone()
            },
        ] {
            assert_ne!(other.fingerprint(), fp, "{other:?}");
        }
        assert_eq!(normalized_message(" a  12 b7c 3.5\n"), "a 0 b0c 0.0");
    }

    #[test]
    fn fail_on_compares_severities() {
        assert!(FailOn::default().fails(Severity::Error));
        assert!(!FailOn::default().fails(Severity::Warning));
        assert!(FailOn::parse("warning").unwrap().fails(Severity::Warning));
        assert!(!FailOn::parse("never").unwrap().fails(Severity::Error));
        assert_eq!(FailOn::parse("fatal"), None);
    }
}
