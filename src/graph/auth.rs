//! OAuth 2.0 client credentials against Microsoft Entra ID: a client secret, or a certificate
//! whose private key signs a JWT client assertion (RS256, with the certificate's SHA-1 and
//! SHA-256 thumbprints as `x5t` and `x5t#S256`). Tokens are cached until shortly before they
//! expire. Secrets and tokens live in [`Secret`], which never prints its value.

use super::GraphError;
pub use super::certfile::KeyPassword;
use base64::Engine as _;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A value that must never reach a log, an error message or Git.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// How the client proves who it is.
pub enum Credential {
    Secret(Secret),
    Certificate(Box<ClientCertificate>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Secret(_) => f.write_str("Credential::Secret([redacted])"),
            Credential::Certificate(c) => write!(f, "Credential::Certificate({})", c.x5t),
        }
    }
}

/// A certificate registered on the app, with its private key.
pub struct ClientCertificate {
    key: RsaKeyPair,
    /// Base64url SHA-1 thumbprint of the DER certificate.
    pub x5t: String,
    /// Base64url SHA-256 thumbprint of the DER certificate.
    pub x5t_s256: String,
    pub path: PathBuf,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Base64url SHA-1 and SHA-256 thumbprints of a DER certificate (`x5t`, `x5t#S256`).
pub fn thumbprints(cert_der: &[u8]) -> (String, String) {
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
    let sha256 = ring::digest::digest(&ring::digest::SHA256, cert_der);
    (b64url(sha1.as_ref()), b64url(sha256.as_ref()))
}

impl ClientCertificate {
    /// Read the certificate and its RSA private key from `path`, recognised by content: PEM
    /// (key unencrypted or `ENCRYPTED PRIVATE KEY`) or PKCS#12 / PFX (see [`certfile`]).
    /// `password` unlocks an encrypted key or a PFX; it never appears in an error.
    ///
    /// [`certfile`]: super::certfile
    pub fn from_file(
        path: &Path,
        password: Option<&KeyPassword>,
    ) -> Result<ClientCertificate, GraphError> {
        let bad = |message: String| GraphError::Certificate {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let loaded = super::certfile::load(&bytes, password).map_err(bad)?;
        tracing::debug!(path = %path.display(), format = ?loaded.format, "read the client certificate");
        let (x5t, x5t_s256) = thumbprints(&loaded.cert_der);
        Ok(ClientCertificate {
            key: loaded.key,
            x5t,
            x5t_s256,
            path: path.to_path_buf(),
        })
    }

    /// A signed client assertion for `audience` (the token endpoint), valid for ten minutes.
    pub fn assertion(&self, client_id: &str, audience: &str) -> Result<Secret, GraphError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = serde_json::json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": random_id(),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| GraphError::Certificate {
                path: self.path.display().to_string(),
                message: "signing the client assertion failed".into(),
            })?;
        Ok(Secret(format!("{signing_input}.{}", b64url(&sig))))
    }
}

/// A random GUID-shaped id (request ids, JWT ids).
pub fn random_id() -> String {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// Where and as whom to get tokens.
#[derive(Debug)]
pub struct AuthConfig {
    /// `{login_url}/{tenant}/oauth2/v2.0/token`.
    pub token_url: String,
    pub client_id: String,
    /// `{graph_url}/.default`.
    pub scope: String,
    pub credential: Credential,
}

#[derive(Debug)]
struct Cached {
    token: Secret,
    /// A new token is fetched from here on …
    refresh_at: Instant,
    /// … and while that fails for a passing reason, this one is used until here.
    usable_until: Instant,
}

impl Cached {
    fn new(token: Secret, lifetime: Duration) -> Cached {
        let now = Instant::now();
        // `lifetime` is at most a day (token_lifetime), so none of this overflows.
        Cached {
            token,
            // Refresh five minutes early, or half-way for short-lived tokens …
            refresh_at: now + lifetime - Duration::from_secs(300).min(lifetime / 2),
            // … and stop using it a minute before it expires (its last quarter when short).
            usable_until: now + lifetime - Duration::from_secs(60).min(lifetime / 4),
        }
    }
}

/// Attempts of a sign-in before any token was had (1 s, 2 s and 4 s apart). Once a token was
/// had, each call tries once and the calls are spaced by the retry policy's backoff.
pub const FIRST_SIGN_IN_ATTEMPTS: u32 = 4;

/// The longest wait between sign-in attempts after passing failures. A request that has no
/// token waits its own backoff (up to 32 s) for its 10 attempts; sign-in attempts spaced
/// farther apart than this could let it run out of attempts although the outage had ended.
/// One token request every few seconds is nothing to Entra.
pub const SIGN_IN_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What the token source knows.
#[derive(Debug, Default)]
struct State {
    cached: Option<Cached>,
    /// Entra refused the credential for good (wrong secret or certificate, unknown client or
    /// tenant): every later call fails with this at once, without asking again.
    refused: Option<String>,
    /// A token was had once, so the configuration works: a passing failure is waited out.
    signed_in: bool,
    /// Passing failures since the last token (unreachable, timeout, 5xx, 429) …
    failures: u32,
    /// … the last of them …
    last_failure: String,
    /// … and no new attempt before this.
    retry_at: Option<Instant>,
}

/// Why a token request failed.
enum FetchError {
    /// Entra said no and will say no again: a 4xx (other than 408 and 429) such as
    /// `invalid_client` (AADSTS7000215, 700027, …), `unauthorized_client` or a tenant that does
    /// not exist, or a credential that cannot be used.
    Refused(GraphError),
    /// Entra could not be reached or did not answer usefully, for now: no connection, a
    /// connection lost, a timeout, 5xx, 408, 429, `temporarily_unavailable`, a cut-off body.
    Passing(String),
}

/// The shortest lifetime believed: a token said to live less (or `0`) is taken to live this
/// long, and refreshed half-way.
pub const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(1);
/// The longest lifetime believed (Entra's longest-lived access tokens live about a day).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// The lifetime assumed when the token response has no `expires_in`, or one that is not a
/// number of seconds (`"soon"`, `-5`, `NaN`, `true`): short, so that a token of unknown
/// lifetime is replaced every few minutes rather than used until Graph refuses it.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// How long a token lives, from the token response's `expires_in`: a number of seconds, as a
/// JSON number or a string (`3599`, `"3599"`, `3599.5`), clamped to [`MIN_TOKEN_LIFETIME`] …
/// [`MAX_TOKEN_LIFETIME`] before it becomes a [`Duration`], so that `1e30` or
/// `18446744073709551615` can never overflow the clock. `None` when there is no such number
/// (missing, negative, not a number): the caller assumes [`DEFAULT_TOKEN_LIFETIME`].
pub fn token_lifetime(expires_in: Option<&serde_json::Value>) -> Option<Duration> {
    use serde_json::Value;
    let secs: f64 = match expires_in? {
        Value::Number(n) => match n.as_u64() {
            Some(u) => u as f64,
            None => n.as_f64()?,
        },
        Value::String(s) => {
            let s = s.trim();
            match s.parse::<u64>() {
                Ok(u) => u as f64,
                // All digits but too many for a u64: still "a very long time".
                Err(_) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => f64::MAX,
                Err(_) => s.parse::<f64>().ok()?,
            }
        }
        _ => return None,
    };
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(if secs >= MAX_TOKEN_LIFETIME.as_secs_f64() {
        MAX_TOKEN_LIFETIME
    } else {
        Duration::from_secs_f64(secs).max(MIN_TOKEN_LIFETIME)
    })
}

/// Fetches tokens and keeps the current one.
#[derive(Debug)]
pub struct TokenSource {
    config: AuthConfig,
    state: tokio::sync::Mutex<State>,
    /// Spaces sign-in attempts after a passing failure (the client's own retry policy).
    retry: super::client::RetryPolicy,
    http: reqwest::Client,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
    correlation_id: Option<String>,
    timestamp: Option<String>,
}

impl TokenSource {
    pub fn new(config: AuthConfig, http: reqwest::Client) -> TokenSource {
        TokenSource {
            config,
            state: tokio::sync::Mutex::new(State::default()),
            retry: super::client::RetryPolicy::default(),
            http,
        }
        .with_retry(super::client::RetryPolicy::default())
    }

    /// Space sign-in attempts after a passing failure with `retry`'s backoff, never more
    /// than [`SIGN_IN_BACKOFF_MAX`] apart.
    pub fn with_retry(mut self, retry: super::client::RetryPolicy) -> TokenSource {
        self.retry = super::client::RetryPolicy {
            backoff_max: retry.backoff_max.min(SIGN_IN_BACKOFF_MAX),
            ..retry
        };
        self
    }

    /// A valid access token, fetched when there is none or it is about to expire.
    ///
    /// - A definitive refusal ([`GraphError::Auth`]: wrong secret or certificate, unknown
    ///   client or tenant) is remembered: every later call fails with it at once.
    /// - A passing failure (no connection, timeout, 5xx, 429) is not: the next call after a
    ///   backoff tries again. Until then, the current token is returned while it is still
    ///   valid, and otherwise [`GraphError::SignInUnavailable`], which the client answers by
    ///   sending the request again later.
    /// - Before any token was had, the sign-in is tried [`FIRST_SIGN_IN_ATTEMPTS`] times and
    ///   then fails with [`GraphError::SignInFailed`]: a login URL or tenant that cannot be
    ///   reached is far likelier a mistake than a blip, and is said at once.
    pub async fn token(&self) -> Result<Secret, GraphError> {
        let mut st = self.state.lock().await;
        let now = Instant::now();
        if let Some(c) = &st.cached
            && now < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        if let Some(why) = &st.refused {
            return Err(GraphError::SignInFailed(why.clone()));
        }
        let current = st
            .cached
            .as_ref()
            .filter(|c| now < c.usable_until)
            .map(|c| c.token.clone());
        if st.retry_at.is_some_and(|at| now < at) {
            return current.ok_or_else(|| self.no_token(&st));
        }
        let attempts = if st.signed_in {
            1
        } else {
            FIRST_SIGN_IN_ATTEMPTS
        };
        match self.fetch(attempts).await {
            Ok((token, lifetime)) => {
                if st.failures > 0 {
                    tracing::info!(
                        failures = st.failures,
                        "signed in again after passing failures"
                    );
                }
                st.cached = Some(Cached::new(token.clone(), lifetime));
                st.signed_in = true;
                st.failures = 0;
                st.last_failure.clear();
                st.retry_at = None;
                Ok(token)
            }
            Err(FetchError::Refused(e)) => {
                st.refused = Some(e.to_string());
                st.cached = None;
                Err(e)
            }
            Err(FetchError::Passing(why)) => {
                st.failures += 1;
                st.last_failure = why;
                st.retry_at =
                    Some(Instant::now() + super::limit::backoff(st.failures - 1, &self.retry));
                match current {
                    Some(t) => {
                        tracing::warn!(
                            url = %self.config.token_url,
                            failures = st.failures,
                            last = %st.last_failure,
                            "could not refresh the token; using the current one while it is valid"
                        );
                        Ok(t)
                    }
                    None => Err(self.no_token(&st)),
                }
            }
        }
    }

    /// The error for a call that has no token after passing failures.
    fn no_token(&self, st: &State) -> GraphError {
        let url = &self.config.token_url;
        let last = &st.last_failure;
        if st.signed_in {
            GraphError::SignInUnavailable(format!(
                "no new token from {url} ({} failed attempt{} since the last token; last: {last}); check the network and Entra's service health",
                st.failures,
                if st.failures == 1 { "" } else { "s" }
            ))
        } else {
            GraphError::SignInFailed(format!(
                "no token from {url} after {FIRST_SIGN_IN_ATTEMPTS} attempts ({last}); check login_url, tenant and the network"
            ))
        }
    }

    /// Forget the cached token (Graph said it is no longer valid).
    pub async fn invalidate(&self, used: &Secret) {
        let mut st = self.state.lock().await;
        if st.cached.as_ref().is_some_and(|c| &c.token == used) {
            st.cached = None;
        }
    }

    /// One token request, tried up to `attempts` times while it fails for a passing reason.
    async fn fetch(&self, attempts: u32) -> Result<(Secret, Duration), FetchError> {
        let c = &self.config;
        let assertion;
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &c.client_id),
            ("scope", &c.scope),
            ("grant_type", "client_credentials"),
        ];
        match &c.credential {
            Credential::Secret(s) => form.push(("client_secret", s.expose())),
            Credential::Certificate(cert) => {
                assertion = cert
                    .assertion(&c.client_id, &c.token_url)
                    .map_err(FetchError::Refused)?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
                form.push(("client_assertion", assertion.expose()));
            }
        }
        tracing::debug!(url = %c.token_url, client_id = %c.client_id, "requesting a token");
        let mut last = String::new();
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 << attempt.min(6))).await;
            }
            let resp = match self.http.post(&c.token_url).form(&form).send().await {
                Ok(r) => r,
                Err(e) => {
                    last = super::client::describe_reqwest(&e);
                    continue;
                }
            };
            let status = resp.status();
            let body = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    last = format!(
                        "connection lost while reading: {}",
                        super::client::describe_reqwest(&e)
                    );
                    continue;
                }
            };
            if status.is_success() {
                match serde_json::from_slice::<TokenResponse>(&body) {
                    Ok(t) => {
                        let lifetime = token_lifetime(t.expires_in.as_ref()).unwrap_or_else(|| {
                            // The value is no secret (and the token is not logged with it).
                            tracing::warn!(
                                expires_in = %t.expires_in.as_ref().map_or("missing".into(), |v| {
                                    v.to_string().chars().take(40).collect::<String>()
                                }),
                                "the token response gives no lifetime in seconds; assuming {} s",
                                DEFAULT_TOKEN_LIFETIME.as_secs()
                            );
                            DEFAULT_TOKEN_LIFETIME
                        });
                        return Ok((Secret(t.access_token), lifetime));
                    }
                    Err(_) => {
                        // Never the body itself: it may hold part of a token.
                        last = format!(
                            "HTTP {status} with a token response that is not complete JSON"
                        );
                        continue;
                    }
                }
            }
            let err: Option<TokenError> = serde_json::from_slice(&body).ok();
            let (code, description, correlation, timestamp) = match err {
                Some(e) => (
                    e.error.unwrap_or_default(),
                    e.error_description.unwrap_or_default(),
                    e.correlation_id,
                    e.timestamp,
                ),
                None => (String::new(), String::new(), None, None),
            };
            // Entra's description repeats the whole request context on later lines.
            let message = description.lines().next().unwrap_or_default().to_string();
            if passing(status.as_u16(), &code) {
                last = format!("HTTP {status}");
                if !code.is_empty() {
                    last.push_str(&format!(": {code}"));
                }
                if !message.is_empty() {
                    last.push_str(&format!(": {message}"));
                }
                continue;
            }
            return Err(FetchError::Refused(GraphError::Auth {
                status: status.as_u16(),
                code,
                message,
                correlation_id: correlation,
                timestamp,
            }));
        }
        Err(FetchError::Passing(last))
    }
}

/// Does a token endpoint's error pass? 5xx, 408 and 429 do, and so do OAuth's
/// `temporarily_unavailable` and `server_error` (RFC 6749 §4.1.2.1) whatever the status;
/// every other answer (`invalid_client`, `unauthorized_client`, `invalid_request` for a
/// tenant that does not exist, …) will be the same next time.
fn passing(status: u16, code: &str) -> bool {
    status >= 500
        || status == 408
        || status == 429
        || matches!(code, "temporarily_unavailable" | "server_error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        let c = Credential::Secret(s);
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn token_lifetimes_are_clamped_and_never_overflow() {
        use serde_json::json;
        let life = |v: serde_json::Value| token_lifetime(Some(&v));
        assert_eq!(life(json!(3599)), Some(Duration::from_secs(3599)));
        assert_eq!(life(json!("3599")), Some(Duration::from_secs(3599)));
        assert_eq!(life(json!(" 120 ")), Some(Duration::from_secs(120)));
        assert_eq!(life(json!(90.5)), Some(Duration::from_millis(90_500)));
        // Huge: a day, whatever the spelling.
        for huge in [
            json!(u64::MAX),
            json!(1e30),
            json!(f64::MAX),
            json!("18446744073709551615"),
            json!("184467440737095516150000"),
            json!("1e30"),
            json!("inf"),
            json!(86_401),
        ] {
            assert_eq!(life(huge.clone()), Some(MAX_TOKEN_LIFETIME), "{huge}");
        }
        // Tiny: a second.
        assert_eq!(life(json!(0)), Some(MIN_TOKEN_LIFETIME));
        assert_eq!(life(json!(0.001)), Some(MIN_TOKEN_LIFETIME));
        // Nonsense: no lifetime (the caller assumes the short default).
        for odd in [
            json!(-1),
            json!(-1e30),
            json!("-5"),
            json!("soon"),
            json!("NaN"),
            json!(""),
            json!(null),
            json!(true),
            json!([3599]),
            json!({"seconds": 3599}),
        ] {
            assert_eq!(life(odd.clone()), None, "{odd}");
        }
        assert_eq!(token_lifetime(None), None);
    }

    /// A token source signing in to a simulator with `auth` and `faults` (retries 1 ms apart).
    fn source_with(
        auth: crate::sim::SimAuth,
        faults: crate::sim::Faults,
    ) -> (crate::sim::Running, TokenSource) {
        let sim = crate::sim::spawn(crate::sim::Sim::new(
            crate::sim::Tenant::empty(),
            crate::sim::SimConfig {
                auth,
                faults,
                ..crate::sim::SimConfig::default()
            },
        ))
        .unwrap();
        let url = sim.url();
        let http = super::super::GraphClient::http_client(Duration::from_secs(10)).unwrap();
        let source = TokenSource::new(
            AuthConfig {
                token_url: format!("{url}/t/oauth2/v2.0/token"),
                client_id: "c".into(),
                scope: format!("{url}/.default"),
                credential: Credential::Secret(Secret::new("s")),
            },
            http,
        )
        .with_retry(crate::graph::client::RetryPolicy {
            max_attempts: 4,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(2),
            max_retry_after: Duration::from_millis(10),
        });
        (sim, source)
    }

    /// A token source signing in to a simulator whose token responses say `expires_in`.
    async fn source_for(expires_in: serde_json::Value) -> (crate::sim::Running, TokenSource) {
        source_with(
            crate::sim::SimAuth {
                expires_in: Some(expires_in),
                ..crate::sim::SimConfig::default().auth
            },
            crate::sim::Faults::default(),
        )
    }

    /// Tokens said to live one second (refreshed after half a second, used for three
    /// quarters), and a token endpoint that fails after the first with `faults` in turn.
    fn short_lived_with_outage(faults: &str) -> (crate::sim::Running, TokenSource) {
        source_with(
            crate::sim::SimAuth {
                token_lifetime: Duration::from_secs(1),
                ..crate::sim::SimConfig::default().auth
            },
            crate::sim::Faults {
                token_outage: Some(crate::sim::TokenOutage::parse(&format!("1:{faults}")).unwrap()),
                ..crate::sim::Faults::default()
            },
        )
    }

    fn token_requests(sim: &crate::sim::Running) -> u64 {
        sim.sim.stats_json()["token_requests"].as_u64().unwrap()
    }

    #[tokio::test]
    async fn a_passing_sign_in_failure_is_tried_again_on_a_later_call() {
        let (sim, source) = short_lived_with_outage("drop,503,429,500,504,truncate");
        let first = source.token().await.unwrap();
        tokio::time::sleep(Duration::from_millis(800)).await;
        // Expired (for the client): each call tries once, and fails for now, without
        // making the failure stick.
        let mut unavailable = 0;
        let second = loop {
            match source.token().await {
                Ok(t) => break t,
                Err(GraphError::SignInUnavailable(why)) => {
                    assert!(why.contains("no new token from "), "{why}");
                    assert!(!why.contains("sim."), "a token in {why}");
                    unavailable += 1;
                    assert!(unavailable < 1000, "never signed in again");
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
                Err(e) => panic!("not a passing failure: {e}"),
            }
        };
        assert_ne!(first, second);
        assert!(unavailable >= 6, "{unavailable}");
        assert_eq!(
            token_requests(&sim),
            8,
            "one request per failure, then the token"
        );
    }

    #[tokio::test]
    async fn the_current_token_is_used_while_a_refresh_fails_and_it_is_still_valid() {
        let (sim, source) = short_lived_with_outage("503,503,503,503,503,503,503,503");
        let first = source.token().await.unwrap();
        // Past the refresh time (0.5 s), before the end of its use (0.75 s).
        tokio::time::sleep(Duration::from_millis(550)).await;
        assert_eq!(source.token().await.unwrap(), first);
        assert!(token_requests(&sim) >= 2, "no refresh was tried");
        // Past that: no token, for now.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let e = source.token().await.unwrap_err();
        assert!(matches!(e, GraphError::SignInUnavailable(_)), "{e}");
        assert!(e.to_string().contains("temporarily_unavailable"), "{e}");
    }

    #[tokio::test]
    async fn a_refused_sign_in_is_remembered_and_never_asked_again() {
        // A wrong secret from the start.
        let (sim, source) = source_with(
            crate::sim::SimAuth {
                client_secret: Some("the-right-one".into()),
                ..crate::sim::SimConfig::default().auth
            },
            crate::sim::Faults::default(),
        );
        let e = source.token().await.unwrap_err();
        assert!(matches!(e, GraphError::Auth { status: 401, .. }), "{e}");
        assert!(e.to_string().contains("AADSTS7000215"), "{e}");
        let again = source.token().await.unwrap_err();
        assert!(matches!(again, GraphError::SignInFailed(_)), "{again}");
        assert!(again.to_string().contains("AADSTS7000215"), "{again}");
        assert!(crate::graph::fetch::is_fatal(&again));
        assert_eq!(token_requests(&sim), 1, "asked again after a refusal");
        // A secret that expires after the first token: refused at the refresh, for good.
        let (sim, source) = short_lived_with_outage("401");
        source.token().await.unwrap();
        tokio::time::sleep(Duration::from_millis(550)).await;
        let e = source.token().await.unwrap_err();
        assert!(e.to_string().contains("AADSTS7000222"), "{e}");
        // Not even the token still valid: the credential is gone.
        let e = source.token().await.unwrap_err();
        assert!(matches!(e, GraphError::SignInFailed(_)), "{e}");
        assert_eq!(token_requests(&sim), 2);
    }

    #[tokio::test]
    async fn a_tenant_that_is_not_found_is_refused_at_once() {
        let (sim, source) = source_with(
            crate::sim::SimConfig::default().auth,
            crate::sim::Faults {
                token_outage: Some(crate::sim::TokenOutage::parse("0:400").unwrap()),
                ..crate::sim::Faults::default()
            },
        );
        let started = Instant::now();
        let e = source.token().await.unwrap_err();
        assert!(e.to_string().contains("AADSTS90002"), "{e}");
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "retried a refusal"
        );
        assert_eq!(token_requests(&sim), 1);
    }

    #[tokio::test]
    async fn a_huge_or_odd_expires_in_from_the_token_endpoint_never_panics() {
        use serde_json::json;
        for odd in [
            json!(u64::MAX),
            json!("18446744073709551615"),
            json!(1e30),
            json!("1e30"),
            json!(-3599),
            json!("an hour"),
            json!(null),
        ] {
            let (sim, source) = source_for(odd.clone()).await;
            let first = source
                .token()
                .await
                .unwrap_or_else(|e| panic!("{odd}: {e}"));
            // Cached: no second token request.
            let again = source.token().await.unwrap();
            assert_eq!(first, again, "{odd}");
            assert_eq!(sim.sim.stats_json()["tokens"], 1, "{odd}");
        }
    }

    #[test]
    fn sign_in_attempts_are_never_spaced_more_than_five_seconds() {
        let http = reqwest::Client::new();
        let config = || AuthConfig {
            token_url: "http://127.0.0.1:9/t/oauth2/v2.0/token".into(),
            client_id: "c".into(),
            scope: "x/.default".into(),
            credential: Credential::Secret(Secret::new("s")),
        };
        let policy = crate::graph::client::RetryPolicy::default();
        assert!(policy.backoff_max > SIGN_IN_BACKOFF_MAX);
        for source in [
            TokenSource::new(config(), http.clone()),
            TokenSource::new(config(), http.clone()).with_retry(policy),
        ] {
            for failures in 0..40 {
                let wait = crate::graph::limit::backoff(failures, &source.retry);
                assert!(wait <= SIGN_IN_BACKOFF_MAX, "{wait:?} after {failures}");
            }
        }
    }

    #[test]
    fn random_ids_look_like_guids() {
        let id = random_id();
        assert!(crate::policy::refs::is_guid(&id), "{id}");
        assert_ne!(id, random_id());
    }
}
