//! `tenantgate.toml`: parsed with spans first, then validated, so every error names its line.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// File name of the configuration at the repository root.
pub const CONFIG_FILE: &str = "tenantgate.toml";

/// The repository format this TenantGate reads and writes.
pub const FORMAT: i64 = 1;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    format: Option<Spanned<i64>>,
    #[serde(default)]
    environments: BTreeMap<Spanned<String>, Spanned<RawEnvironment>>,
    lint: Option<RawLint>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLint {
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    disabled: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    settings: toml::Table,
}

/// `[lint]`: how `tenantgate lint` judges. Line numbers are kept so that lint can point at a
/// setting naming a rule that does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintConfig {
    /// Lowest severity that makes lint exit 1 (default: error).
    pub fail_on: crate::lint::FailOn,
    /// Rule ids that do not run, with the line naming each.
    pub disabled: Vec<(String, usize)>,
    /// Severity overrides per rule id, with the line of each.
    pub severity: BTreeMap<String, (crate::lint::Severity, usize)>,
    /// `[lint.settings]`, handed to rules as `ctx.settings` (a JSON object).
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    tenant: Option<String>,
    client_id: Option<String>,
    client_secret_env: Option<String>,
    certificate: Option<RawCertificate>,
    graph_url: Option<String>,
    login_url: Option<String>,
    kinds: Option<Spanned<Vec<Spanned<String>>>>,
    max_concurrency: Option<Spanned<u32>>,
    requests_per_second: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertificate {
    path: String,
    password_env: Option<String>,
}

/// A client certificate for Graph authentication (a file outside the repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub path: String,
    pub password_env: Option<String>,
}

/// Graph requests in flight when `max_concurrency` is not set: two full `$batch`es, so one
/// can be answered while the next goes out. Graph answers a `$batch` in about half a second,
/// so this lets the default budget of 100 requests per second be reached; the budget, not
/// this, keeps the client within Graph's throttling limits.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 40;

/// One environment (tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub certificate: Option<Certificate>,
    pub graph_url: String,
    pub login_url: String,
    /// Kind names this environment manages; `None` means every kind.
    pub kinds: Option<Vec<String>>,
    pub max_concurrency: u32,
    pub requests_per_second: u32,
}

impl Environment {
    /// The tenant as commit trailers name it: the configured tenant, else the environment name.
    pub fn tenant_label(&self) -> String {
        self.tenant.clone().unwrap_or_else(|| self.name.clone())
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub format: i64,
    pub environments: BTreeMap<String, Environment>,
    pub lint: LintConfig,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}:{column}: {message}{}", help.as_ref().map(|h| format!("\n  help: {h}")).unwrap_or_default())]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Is `name` usable as an environment (a folder under `tenants/`)?
/// What an environment name may be, for messages.
pub const ENV_NAME_RULE: &str = "1 to 64 lower-case letters, digits, `-` and `_`, starting with a letter or digit (e.g. `dev`, `prod-eu`)";

/// `Err` with a message naming the rule when `name` cannot be an environment (a folder name
/// under `tenants/`).
pub fn check_env_name(name: &str) -> Result<(), String> {
    if valid_env_name(name) {
        Ok(())
    } else {
        Err(format!(
            "environment name {name:?} cannot be a folder name: use {ENV_NAME_RULE}"
        ))
    }
}

pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Config {
    /// Parse and validate `text`; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let err = |span: std::ops::Range<usize>, message: String, help: Option<&str>| {
            let (line, column) = line_col(text, span.start);
            ConfigError {
                file: file.to_string(),
                line,
                column,
                message,
                help: help.map(str::to_string),
            }
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            err(span, e.message().trim().to_string(), None)
        })?;
        let format = match raw.format {
            None => {
                return Err(err(
                    0..0,
                    "missing `format`".into(),
                    Some("start the file with `format = 1`"),
                ));
            }
            Some(f) if *f.get_ref() > FORMAT => {
                return Err(err(
                    f.span(),
                    format!(
                        "format {} was written by a newer TenantGate; this one reads format {FORMAT}",
                        f.get_ref()
                    ),
                    Some("upgrade TenantGate"),
                ));
            }
            Some(f) if *f.get_ref() < 1 => {
                return Err(err(
                    f.span(),
                    format!("unknown format {}", f.get_ref()),
                    Some("use `format = 1`"),
                ));
            }
            Some(f) => *f.get_ref(),
        };
        let mut environments = BTreeMap::new();
        for (name, env) in raw.environments {
            if !valid_env_name(name.get_ref()) {
                return Err(err(
                    name.span(),
                    format!(
                        "environment name {:?} cannot be a folder name",
                        name.get_ref()
                    ),
                    Some(&format!("use {ENV_NAME_RULE}")),
                ));
            }
            let span = env.span();
            let env = env.into_inner();
            let kinds = match env.kinds {
                None => None,
                Some(list) => {
                    let mut out = Vec::new();
                    for k in list.into_inner() {
                        let n = k.get_ref();
                        if n != "*" && crate::policy::kinds::by_name(n).is_none() {
                            let known: Vec<&str> =
                                crate::policy::KINDS.iter().map(|k| k.name).collect();
                            return Err(err(
                                k.span(),
                                format!("unknown kind {n:?}"),
                                Some(&format!("kinds are \"*\" or: {}", known.join(", "))),
                            ));
                        }
                        out.push(n.clone());
                    }
                    if out.is_empty() {
                        return Err(err(
                            span.clone(),
                            format!("environment {:?} has an empty kinds list", name.get_ref()),
                            Some("list the kinds it manages, or use [\"*\"] for all"),
                        ));
                    }
                    if out.iter().any(|k| k == "*") {
                        None
                    } else {
                        Some(out)
                    }
                }
            };
            if env.client_secret_env.is_some() && env.certificate.is_some() {
                return Err(err(
                    span,
                    format!(
                        "environment {:?} sets both client_secret_env and certificate",
                        name.get_ref()
                    ),
                    Some("keep one way to authenticate"),
                ));
            }
            for (value, what) in [
                (&env.max_concurrency, "max_concurrency"),
                (&env.requests_per_second, "requests_per_second"),
            ] {
                if let Some(v) = value
                    && *v.get_ref() == 0
                {
                    return Err(err(v.span(), format!("{what} must be at least 1"), None));
                }
            }
            let n = name.into_inner();
            environments.insert(
                n.clone(),
                Environment {
                    name: n,
                    tenant: env.tenant,
                    client_id: env.client_id,
                    client_secret_env: env.client_secret_env,
                    certificate: env.certificate.map(|c| Certificate {
                        path: c.path,
                        password_env: c.password_env,
                    }),
                    graph_url: env
                        .graph_url
                        .unwrap_or_else(|| "https://graph.microsoft.com".into())
                        .trim_end_matches('/')
                        .to_string(),
                    login_url: env
                        .login_url
                        .unwrap_or_else(|| "https://login.microsoftonline.com".into())
                        .trim_end_matches('/')
                        .to_string(),
                    kinds,
                    max_concurrency: env
                        .max_concurrency
                        .map_or(DEFAULT_MAX_CONCURRENCY, |v| v.into_inner()),
                    requests_per_second: env.requests_per_second.map_or(100, |v| v.into_inner()),
                },
            );
        }
        let lint = match raw.lint {
            None => LintConfig {
                settings: serde_json::Value::Object(Default::default()),
                ..LintConfig::default()
            },
            Some(l) => parse_lint(l, text, &err)?,
        };
        Ok(Config {
            format,
            environments,
            lint,
        })
    }

    /// The environment `name`, or an environment made up from the name alone when the
    /// configuration lists none by that name.
    pub fn environment_or_default(&self, name: &str) -> Environment {
        self.environments
            .get(name)
            .cloned()
            .unwrap_or_else(|| Environment {
                name: name.to_string(),
                tenant: None,
                client_id: None,
                client_secret_env: None,
                certificate: None,
                graph_url: "https://graph.microsoft.com".into(),
                login_url: "https://login.microsoftonline.com".into(),
                kinds: None,
                max_concurrency: DEFAULT_MAX_CONCURRENCY,
                requests_per_second: 100,
            })
    }
}

/// Builds an error at a span of the file: (span, message, help).
type ErrAt<'a> = dyn Fn(std::ops::Range<usize>, String, Option<&str>) -> ConfigError + 'a;

fn parse_lint(raw: RawLint, text: &str, err: &ErrAt<'_>) -> Result<LintConfig, ConfigError> {
    use crate::lint::{FailOn, Severity, valid_rule_id};
    let line = |span: std::ops::Range<usize>| line_col(text, span.start).0;
    let fail_on = match raw.fail_on {
        None => FailOn::default(),
        Some(v) => FailOn::parse(v.get_ref()).ok_or_else(|| {
            err(
                v.span(),
                format!("unknown fail_on {:?}", v.get_ref()),
                Some("use \"error\", \"warning\", \"info\" or \"never\""),
            )
        })?,
    };
    let check_id = |id: &Spanned<String>| {
        if valid_rule_id(id.get_ref()) {
            Ok(())
        } else {
            Err(err(
                id.span(),
                format!("{:?} is not a rule id", id.get_ref()),
                Some(
                    "rule ids are `area/name` in kebab-case, e.g. \"hygiene/naming-convention\"; `tenantgate rules list` shows them",
                ),
            ))
        }
    };
    let mut disabled = Vec::new();
    for id in raw.disabled {
        check_id(&id)?;
        disabled.push((id.get_ref().clone(), line(id.span())));
    }
    let mut severity = BTreeMap::new();
    for (id, value) in raw.severity {
        check_id(&id)?;
        let s = Severity::parse(value.get_ref()).ok_or_else(|| {
            err(
                value.span(),
                format!("unknown severity {:?}", value.get_ref()),
                Some("use \"error\", \"warning\" or \"info\"; to turn a rule off, list it in `disabled`"),
            )
        })?;
        severity.insert(id.get_ref().clone(), (s, line(id.span())));
    }
    Ok(LintConfig {
        fail_on,
        disabled,
        severity,
        settings: toml_to_json(toml::Value::Table(raw.settings)),
    })
}

fn toml_to_json(v: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            J::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// The commented configuration `tenantgate init` writes.
pub const INIT_TEMPLATE: &str = include_str!("init.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_template_is_valid() {
        let c = Config::parse(INIT_TEMPLATE, CONFIG_FILE).unwrap();
        assert_eq!(c.format, 1);
    }

    #[test]
    fn reads_environments_with_defaults() {
        let c = Config::parse(
            "format = 1\n[environments.dev]\ntenant = \"contoso-dev.onmicrosoft.com\"\nkinds = [\"settings-catalog\"]\n",
            "t.toml",
        )
        .unwrap();
        let dev = &c.environments["dev"];
        assert_eq!(dev.tenant_label(), "contoso-dev.onmicrosoft.com");
        assert_eq!(
            dev.kinds.as_deref(),
            Some(&["settings-catalog".to_string()][..])
        );
        assert_eq!(dev.graph_url, "https://graph.microsoft.com");
        assert_eq!(dev.max_concurrency, DEFAULT_MAX_CONCURRENCY);
    }

    #[test]
    fn errors_name_the_line_and_say_what_to_do() {
        let e = Config::parse("format = 2\n", "t.toml").unwrap_err();
        assert_eq!((e.line, e.column), (1, 10));
        assert!(e.to_string().contains("newer TenantGate"), "{e}");
        let e = Config::parse(
            "format = 1\n\n[environments.dev]\nkinds = [\"setings-catalog\"]\n",
            "t.toml",
        )
        .unwrap_err();
        assert_eq!(e.line, 4);
        assert!(
            e.to_string().contains("unknown kind \"setings-catalog\""),
            "{e}"
        );
        assert!(e.to_string().contains("help: kinds are"), "{e}");
        let e =
            Config::parse("format = 1\n[environments.dev]\ntenat = \"x\"\n", "t.toml").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown field `tenat`"), "{e}");
        let e = Config::parse("format = 1\n[environments.\"../x\"]\n", "t.toml").unwrap_err();
        assert!(e.message.contains("cannot be a folder name"), "{e}");
        let e = Config::parse("[environments.dev]\n", "t.toml").unwrap_err();
        assert!(e.message.contains("missing `format`"), "{e}");
        let e =
            Config::parse("format = 1\n[environments.dev]\nkinds = []\n", "t.toml").unwrap_err();
        assert!(e.message.contains("empty kinds list"), "{e}");
        let e = Config::parse("format = 1\nformat = 1\n", "t.toml").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn reads_the_lint_table() {
        use crate::lint::{FailOn, Severity};
        let c = Config::parse(
            "format = 1\n[lint]\nfail_on = \"warning\"\ndisabled = [\"hygiene/scope-tags\"]\n[lint.severity]\n\"hygiene/naming-convention\" = \"error\"\n[lint.settings]\nreport_only_max_days = 30\nnaming = { \"*\" = \"^X-\" }\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.lint.fail_on, FailOn::At(Severity::Warning));
        assert_eq!(c.lint.disabled, vec![("hygiene/scope-tags".to_string(), 4)]);
        assert_eq!(
            c.lint.severity["hygiene/naming-convention"],
            (Severity::Error, 6)
        );
        assert_eq!(c.lint.settings["report_only_max_days"], 30);
        assert_eq!(c.lint.settings["naming"]["*"], "^X-");
        // Without [lint]: defaults, and settings are an empty object.
        let c = Config::parse("format = 1\n", "t.toml").unwrap();
        assert_eq!(c.lint.fail_on, FailOn::At(Severity::Error));
        assert!(c.lint.settings.as_object().unwrap().is_empty());
    }

    #[test]
    fn lint_errors_name_the_line() {
        let e = Config::parse("format = 1\n[lint]\nfail_on = \"fatal\"\n", "t.toml").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().contains("help: use \"error\""), "{e}");
        let e =
            Config::parse("format = 1\n[lint]\ndisabled = [\"naming\"]\n", "t.toml").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("not a rule id"), "{e}");
        let e = Config::parse("format = 1\n[lint.severity]\n\"a/b\" = \"off\"\n", "t.toml")
            .unwrap_err();
        assert_eq!((e.line, e.column), (3, 9));
        assert!(e.to_string().contains("disabled"), "{e}");
        let e = Config::parse("format = 1\n[lint]\nfail-on = \"error\"\n", "t.toml").unwrap_err();
        assert!(e.message.contains("unknown field `fail-on`"), "{e}");
    }
}
