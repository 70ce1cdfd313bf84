//! `exceptions.toml`: waivers for findings. Each `[[exception]]` names a rule (id or glob), a
//! path glob, a justification, who approved it and when it expires (a UTC date, inclusive).
//! Waived findings are reported as waived and counted, never hidden; an expired or malformed
//! exception is itself a finding.

use super::finding::{Finding, Severity, Waiver, ids};
use globset::{Glob, GlobBuilder, GlobMatcher};
use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;

/// File name of the exceptions at the repository root.
pub const EXCEPTIONS_FILE: &str = "exceptions.toml";

/// One valid exception.
#[derive(Debug, Clone)]
pub struct Exception {
    pub line: usize,
    pub rule: String,
    pub path: String,
    rule_glob: GlobMatcher,
    path_glob: GlobMatcher,
    pub justification: String,
    pub approved_by: String,
    pub expires: Date,
}

impl Exception {
    /// Does this exception waive `f`? Findings in a script side file also match the policy's
    /// JSON file.
    pub fn matches(&self, f: &Finding, policy_path: Option<&str>) -> bool {
        self.rule_glob.is_match(&f.rule)
            && (self.path_glob.is_match(&f.path)
                || policy_path.is_some_and(|p| self.path_glob.is_match(p)))
    }

    fn waiver(&self) -> Waiver {
        Waiver {
            source: format!("{EXCEPTIONS_FILE}:{}", self.line),
            justification: self.justification.clone(),
            approved_by: self.approved_by.clone(),
            expires: self.expires.to_string(),
        }
    }
}

/// The exceptions in force, and findings about the file itself.
#[derive(Debug, Default)]
pub struct Exceptions {
    pub active: Vec<Exception>,
    pub findings: Vec<Finding>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<Spanned<toml::Table>>,
}

const FIELDS: &[&str] = &["rule", "path", "justification", "approved_by", "expires"];

/// Rules that no exception waives: a check that did not run (a rule that failed; a file that
/// cannot be read or lies in no kind's folder, so no rule judged it), or the waivers
/// themselves.
fn unwaivable(rule: &str) -> bool {
    rule == ids::RULE_ERROR
        || rule == ids::INVALID
        || rule == ids::UNKNOWN_KIND
        || rule.starts_with("exceptions/")
}

impl Exceptions {
    /// Parse `text`; `today` (UTC) decides what has expired.
    pub fn parse(text: &str, today: Date) -> Exceptions {
        let mut out = Exceptions::default();
        let line_of = |offset: usize| 1 + text[..offset.min(text.len())].matches('\n').count();
        let invalid = |line: usize, message: String, help: &str| {
            let mut f = Finding::new(
                ids::EXCEPTION_INVALID,
                Severity::Error,
                EXCEPTIONS_FILE,
                message,
            )
            .with_help(help);
            f.line = Some(line);
            f.column = Some(1);
            f
        };
        let raw: RawFile = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let line = e.span().map_or(1, |s| line_of(s.start));
                out.findings.push(invalid(
                    line,
                    format!("{EXCEPTIONS_FILE} cannot be read: {}", e.message().trim()),
                    "each exception is an [[exception]] table with rule, path, justification, approved_by and expires; no exception applies until the file is fixed",
                ));
                return out;
            }
        };
        for table in raw.exception {
            let line = line_of(table.span().start);
            let t = table.into_inner();
            match Self::one(&t, line) {
                Ok(ex) => {
                    if ex.expires < today {
                        let mut f = Finding::new(
                            ids::EXCEPTION_EXPIRED,
                            Severity::Warning,
                            EXCEPTIONS_FILE,
                            format!(
                                "the exception for `{}` on `{}` expired on {}; it no longer waives anything",
                                ex.rule, ex.path, ex.expires
                            ),
                        )
                        .with_help("fix what it waived, or renew it with a new date and a fresh approval");
                        f.line = Some(line);
                        f.column = Some(1);
                        out.findings.push(f);
                    } else {
                        out.active.push(ex);
                    }
                }
                Err(message) => out.findings.push(invalid(
                    line,
                    message,
                    "fields: rule = \"area/name\" (or a glob), path = \"tenants/*/kind/file.json\" (a glob), justification, approved_by, expires = 2026-12-31",
                )),
            }
        }
        out
    }

    fn one(t: &toml::Table, line: usize) -> Result<Exception, String> {
        for key in t.keys() {
            if !FIELDS.contains(&key.as_str()) {
                return Err(format!(
                    "unknown field `{key}` in the exception; expected one of {}",
                    FIELDS.join(", ")
                ));
            }
        }
        let text = |key: &str| -> Result<String, String> {
            match t.get(key) {
                Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                Some(toml::Value::String(_)) => Err(format!("`{key}` is empty")),
                Some(other) => Err(format!(
                    "`{key}` must be a string, not {}",
                    other.type_str()
                )),
                None => Err(format!("the exception has no `{key}`")),
            }
        };
        let rule = text("rule")?;
        let path = text("path")?;
        let justification = text("justification")?;
        let approved_by = text("approved_by")?;
        let expires = match t.get("expires") {
            None => return Err("the exception has no `expires` date".into()),
            Some(toml::Value::Datetime(d)) => match (d.date, d.time) {
                (Some(date), _) => Date::new(date.year as i16, date.month as i8, date.day as i8)
                    .map_err(|e| format!("`expires`: {e}"))?,
                (None, _) => return Err("`expires` must be a date such as 2026-12-31".into()),
            },
            Some(toml::Value::String(s)) => s
                .trim()
                .parse::<Date>()
                .map_err(|_| format!("`expires` {s:?} is not a date such as 2026-12-31"))?,
            Some(other) => {
                return Err(format!(
                    "`expires` must be a date such as 2026-12-31, not {}",
                    other.type_str()
                ));
            }
        };
        let rule_glob = Glob::new(&rule)
            .map_err(|e| format!("`rule` {rule:?} is not a valid glob: {e}"))?
            .compile_matcher();
        let path_glob = GlobBuilder::new(&path)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("`path` {path:?} is not a valid glob: {e}"))?
            .compile_matcher();
        Ok(Exception {
            line,
            rule,
            path,
            rule_glob,
            path_glob,
            justification,
            approved_by,
            expires,
        })
    }

    /// Mark the findings these exceptions waive. `policy_of` gives the policy JSON file of a
    /// side file.
    pub fn apply(&self, findings: &mut [Finding], policy_of: &dyn Fn(&str) -> Option<String>) {
        for f in findings.iter_mut() {
            if unwaivable(&f.rule) || f.waived.is_some() {
                continue;
            }
            let policy = policy_of(&f.path);
            if let Some(ex) = self.active.iter().find(|e| e.matches(f, policy.as_deref())) {
                f.waived = Some(ex.waiver());
            }
        }
    }
}

/// Today's date in UTC.
pub fn today_utc() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2026, 6, 1).unwrap()
    }

    #[test]
    fn waives_matching_findings_until_they_expire() {
        let text = r#"
[[exception]]
rule = "hygiene/*"
path = "tenants/*/settings-catalog/legacy-*.json"
justification = "Renamed at the next enrolment wave"
approved_by = "jane@contoso.com"
expires = 2026-06-01

[[exception]]
rule = "secrets/credential"
path = "tenants/dev/powershell-scripts/x.json"
justification = "Test tenant only"
approved_by = "joe"
expires = "2026-05-31"
"#;
        let ex = Exceptions::parse(text, today());
        assert_eq!(ex.active.len(), 1);
        assert_eq!(ex.findings.len(), 1);
        assert_eq!(ex.findings[0].rule, ids::EXCEPTION_EXPIRED);
        assert_eq!(ex.findings[0].line, Some(9));
        let mut findings = vec![
            Finding::new(
                "hygiene/naming-convention",
                Severity::Warning,
                "tenants/dev/settings-catalog/legacy-a.json",
                "m",
            ),
            Finding::new(
                "hygiene/naming-convention",
                Severity::Warning,
                "tenants/dev/settings-catalog/sub/legacy-a.json",
                "m",
            ),
            Finding::new(
                "secrets/credential",
                Severity::Error,
                "tenants/dev/powershell-scripts/x.ps1",
                "m",
            ),
            Finding::new(
                ids::RULE_ERROR,
                Severity::Error,
                "tenants/dev/settings-catalog/legacy-a.json",
                "m",
            ),
        ];
        ex.apply(&mut findings, &|_| None);
        let w = findings[0].waived.as_ref().unwrap();
        assert_eq!(w.source, "exceptions.toml:2");
        assert_eq!(w.approved_by, "jane@contoso.com");
        // `*` stays within one folder; expired exceptions and rule errors never waive.
        assert!(findings[1].waived.is_none());
        assert!(findings[2].waived.is_none());
        assert!(findings[3].waived.is_none());
    }

    /// A `rule = "*"`, `path = "**"` exception waived `format/invalid` and
    /// `format/unknown-kind`: a file no rule could read passed lint.
    #[test]
    fn files_no_rule_judged_are_never_waived() {
        let text = r#"
[[exception]]
rule = "*"
path = "**"
justification = "everything"
approved_by = "me"
expires = 2099-01-01
"#;
        let ex = Exceptions::parse(text, today());
        let mut findings: Vec<Finding> = [
            ids::INVALID,
            ids::UNKNOWN_KIND,
            ids::RULE_ERROR,
            "hygiene/naming-convention",
        ]
        .iter()
        .map(|r| Finding::new(r, Severity::Error, "tenants/dev/groups/zz.json", "m"))
        .collect();
        ex.apply(&mut findings, &|_| None);
        let waived: Vec<&str> = findings
            .iter()
            .filter(|f| f.waived.is_some())
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(waived, ["hygiene/naming-convention"]);
    }

    #[test]
    fn malformed_exceptions_are_findings_with_their_line() {
        let text = "[[exception]]\nrule = \"a/b\"\npath = \"x\"\njustification = \"\"\napproved_by = \"j\"\nexpires = 2030-01-01\n\n[[exception]]\nrules = \"a/b\"\n\n[[exception]]\nrule = \"a/b\"\npath = \"x\"\njustification = \"j\"\napproved_by = \"j\"\nexpires = \"next year\"\n";
        let ex = Exceptions::parse(text, today());
        assert!(ex.active.is_empty());
        let got: Vec<(Option<usize>, &str)> = ex
            .findings
            .iter()
            .map(|f| (f.line, f.message.as_str()))
            .collect();
        assert_eq!(got[0].0, Some(1));
        assert!(got[0].1.contains("`justification` is empty"), "{got:?}");
        assert_eq!(got[1].0, Some(8));
        assert!(got[1].1.contains("unknown field `rules`"), "{got:?}");
        assert_eq!(got[2].0, Some(11));
        assert!(got[2].1.contains("not a date"), "{got:?}");
        assert!(ex.findings.iter().all(|f| f.rule == ids::EXCEPTION_INVALID));
        let broken = Exceptions::parse("[[exception]\n", today());
        assert_eq!(broken.findings.len(), 1);
        assert!(broken.findings[0].message.contains("cannot be read"));
    }
}
