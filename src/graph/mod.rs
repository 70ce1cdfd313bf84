//! Microsoft Graph: authentication (client secret or certificate), paging, `$batch`,
//! throttling and retries ([`client`]), reading every kind of the registry ([`fetch`]), and
//! exporting a tenant into a snapshot ([`export`]).

pub mod auth;
pub mod certfile;
pub mod client;
pub mod export;
pub mod fetch;
pub mod limit;

pub use client::{ClientOptions, GraphClient, Req, StatsSnapshot};

use crate::config::Environment;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error body.
    #[error("{0}")]
    Api(Box<ApiError>),
    #[error("{method} {url}: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
    },
    #[error("{method} {url}: gave up after {attempts} attempts; last failure: {last}")]
    GaveUp {
        method: String,
        url: String,
        attempts: u32,
        last: String,
    },
    /// A write that failed in a way that leaves open whether Graph acted on it: never sent
    /// again blindly.
    #[error(
        "{method} {url}: {reason}; not sent again, because Graph may have acted on it (check the tenant)"
    )]
    NotRetried {
        method: String,
        url: String,
        reason: String,
    },
    #[error("{url}: {message}")]
    BadResponse { url: String, message: String },
    #[error("sign-in refused ({status} {code}): {message}{}; check tenant, client_id and the secret or certificate", auth_context(.correlation_id, .timestamp))]
    Auth {
        status: u16,
        code: String,
        message: String,
        correlation_id: Option<String>,
        timestamp: Option<String>,
    },
    #[error("Graph refused the token: {0}")]
    Unauthorized(String),
    /// No token could be had: the sign-in was refused before, or the sign-in endpoint could
    /// not be reached before any token was had.
    #[error("{0}")]
    SignInFailed(String),
    /// No new token for now: the sign-in endpoint fails for a passing reason (no connection,
    /// timeout, 5xx, 429) after tokens were had. The client sends the request again later;
    /// a request that runs out of attempts this way ends with it.
    #[error("{0}")]
    SignInUnavailable(String),
    #[error("certificate {path}: {message}")]
    Certificate { path: String, message: String },
    #[error("{0}")]
    Config(String),
}

/// An error Graph answered with: status, `code`, `message`, `request-id` and `date`.
#[derive(Debug, thiserror::Error)]
#[error("{method} {url} returned {status}: {code}: {message}{}", request_context(.request_id, .date))]
pub struct ApiError {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub date: Option<String>,
}

fn request_context(request_id: &Option<String>, date: &Option<String>) -> String {
    match (request_id, date) {
        (Some(r), Some(d)) => format!(" (request-id {r}, date {d})"),
        (Some(r), None) => format!(" (request-id {r})"),
        (None, Some(d)) => format!(" (date {d})"),
        (None, None) => String::new(),
    }
}

fn auth_context(correlation: &Option<String>, timestamp: &Option<String>) -> String {
    match (correlation, timestamp) {
        (Some(c), Some(t)) => format!(" (correlation id {c}, {t})"),
        (Some(c), None) => format!(" (correlation id {c})"),
        _ => String::new(),
    }
}

impl GraphError {
    /// The error Graph's body describes: `{"error": {"code", "message", "innerError":
    /// {"request-id", "date"}}}`.
    pub fn from_body(method: &str, url: &str, status: u16, body: Option<&Value>) -> GraphError {
        let err = body.and_then(|b| b.get("error"));
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let inner = err.and_then(|e| e.get("innerError").or_else(|| e.get("innererror")));
        GraphError::Api(Box::new(ApiError {
            method: method.to_string(),
            url: url.to_string(),
            status,
            code: s(err.and_then(|e| e.get("code"))).unwrap_or_else(|| "unknown".into()),
            message: s(err.and_then(|e| e.get("message"))).unwrap_or_default(),
            request_id: s(inner.and_then(|i| i.get("request-id"))),
            date: s(inner.and_then(|i| i.get("date"))),
        }))
    }

    /// HTTP status of an error Graph answered with.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Api(e) => Some(e.status),
            _ => None,
        }
    }
}

/// The current time as Graph writes it: `2026-11-29T21:14:05Z`.
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    format_utc(secs)
}

/// `secs` since the Unix epoch as an RFC 3339 UTC timestamp.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A client for `env` (`tenant`, `client_id`, a secret from `client_secret_env` or a
/// certificate file, URLs and limits), reading the secret from the process environment.
pub fn client_for(env: &Environment, batch: bool) -> Result<GraphClient, GraphError> {
    let name = &env.name;
    let credential = match (&env.client_secret_env, &env.certificate) {
        (Some(var), None) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => auth::Credential::Secret(auth::Secret::new(v)),
            found => {
                let state = match found {
                    Ok(_) => "is empty",
                    Err(std::env::VarError::NotUnicode(_)) => "is not valid UTF-8",
                    Err(std::env::VarError::NotPresent) => "is not set",
                };
                return Err(GraphError::Config(format!(
                    "environment {name:?}: the client secret is read from the environment variable {var} (client_secret_env), which {state}"
                )));
            }
        },
        (None, Some(cert)) => {
            let password = match &cert.password_env {
                None => None,
                Some(var) => match std::env::var(var) {
                    Ok(v) if !v.is_empty() => Some(auth::KeyPassword {
                        env: var.clone(),
                        value: auth::Secret::new(v),
                    }),
                    _ => {
                        return Err(GraphError::Config(format!(
                            "environment {name:?}: the certificate's password is read from the environment variable {var} (password_env), which is not set or empty"
                        )));
                    }
                },
            };
            auth::Credential::Certificate(Box::new(auth::ClientCertificate::from_file(
                std::path::Path::new(&cert.path),
                password.as_ref(),
            )?))
        }
        _ => {
            return Err(GraphError::Config(format!(
                "environment {name:?} has no credential: set client_secret_env = \"VAR\" (the secret in that environment variable) \
                 or certificate = {{ path = \"…\" }} in tenantgate.toml"
            )));
        }
    };
    client_with(env, credential, batch)
}

/// A client for `env` with the given credential.
pub fn client_with(
    env: &Environment,
    credential: auth::Credential,
    batch: bool,
) -> Result<GraphClient, GraphError> {
    let name = &env.name;
    let tenant = env.tenant.as_deref().ok_or_else(|| {
        GraphError::Config(format!(
            "environment {name:?} has no `tenant` in tenantgate.toml (a tenant id or primary domain)"
        ))
    })?;
    let client_id = env.client_id.as_deref().ok_or_else(|| {
        GraphError::Config(format!(
            "environment {name:?} has no `client_id` in tenantgate.toml (the app registration's application id)"
        ))
    })?;
    for (what, url) in [("graph_url", &env.graph_url), ("login_url", &env.login_url)] {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(GraphError::Config(format!(
                "environment {name:?}: {what} {url:?} is not an http(s) URL"
            )));
        }
        if client::insecure_remote(url) {
            return Err(GraphError::Config(format!(
                "environment {name:?}: {what} {url:?} uses plain http to another machine; \
                 secrets and tokens only travel over https (plain http is for a local simulator)"
            )));
        }
    }
    let timeout = Duration::from_secs(100);
    let http = GraphClient::http_client(timeout)?;
    let tokens = auth::TokenSource::new(
        auth::AuthConfig {
            token_url: format!("{}/{tenant}/oauth2/v2.0/token", env.login_url),
            client_id: client_id.to_string(),
            scope: format!("{}/.default", env.graph_url),
            credential,
        },
        http.clone(),
    );
    Ok(GraphClient::new(
        ClientOptions {
            graph_url: env.graph_url.clone(),
            max_concurrency: env.max_concurrency as usize,
            requests_per_second: env.requests_per_second,
            batch,
            timeout,
            retry: client::RetryPolicy::from_env()?,
            max_pages: client::MAX_PAGES,
        },
        tokens,
        http,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_errors_carry_code_message_request_id_and_date() {
        let e = GraphError::from_body(
            "GET",
            "https://graph.microsoft.com/beta/deviceManagement/deviceConfigurations",
            403,
            Some(
                &json!({"error": {"code": "Forbidden", "message": "Application is not authorized",
                "innerError": {"request-id": "r-1", "date": "2026-01-02T03:04:05"}}}),
            ),
        );
        assert_eq!(
            e.to_string(),
            "GET https://graph.microsoft.com/beta/deviceManagement/deviceConfigurations returned 403: Forbidden: Application is not authorized (request-id r-1, date 2026-01-02T03:04:05)"
        );
        assert_eq!(e.status(), Some(403));
    }
}
