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
                    Some("use lower-case letters, digits, `-` and `_`, e.g. `dev` or `prod-eu`"),
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
        Ok(Config {
            format,
            environments,
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
}
