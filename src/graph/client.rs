//! The Microsoft Graph client: one per tenant. Requests go to `{graph_url}/{beta|v1.0}/…` with
//! a bearer token; reads of many objects go out as `$batch` requests of at most 20. Every
//! request passes the pacer (the request budget) and a concurrency limit that counts Graph
//! requests (a `$batch` of n takes n places); 429 and 503 are retried after `Retry-After`
//! (seconds or an HTTP-date), other transient failures (5xx, dropped connections, truncated
//! bodies) after exponential backoff with jitter, a bounded number of times. Only idempotent
//! requests are retried blindly: a write is sent again only when Graph cannot have acted on it.

use super::GraphError;
use super::auth::{Secret, TokenSource};
use super::limit::{Pacer, backoff};
use crate::policy::kinds::Api;
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Graph's limit of requests in one `$batch`.
pub const MAX_BATCH: usize = 20;
/// Most pages one collection may have; more is taken for a server that pages forever.
pub const MAX_PAGES: usize = 100_000;

/// How often and how long a failed request is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request before giving up (the first one included).
    pub max_attempts: u32,
    /// Backoff without `Retry-After`: between half and all of `backoff_base * 2^n` …
    pub backoff_base: Duration,
    /// … and never more than this.
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured as such; longer ones are capped.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(32),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// Environment variables that change the [`RetryPolicy`] (tests, troubleshooting).
pub const RETRY_ENV: [&str; 3] = [
    "TENANTGATE_GRAPH_MAX_ATTEMPTS",
    "TENANTGATE_GRAPH_BACKOFF_MS",
    "TENANTGATE_GRAPH_MAX_RETRY_AFTER_MS",
];

impl RetryPolicy {
    /// The defaults, changed by `TENANTGATE_GRAPH_MAX_ATTEMPTS`, `TENANTGATE_GRAPH_BACKOFF_MS`
    /// (the backoff base) and `TENANTGATE_GRAPH_MAX_RETRY_AFTER_MS` where they are set.
    pub fn from_env() -> Result<RetryPolicy, GraphError> {
        let mut p = RetryPolicy::default();
        for var in RETRY_ENV {
            let Ok(text) = std::env::var(var) else {
                continue;
            };
            let n: u64 = text.trim().parse().map_err(|_| {
                GraphError::Config(format!("{var} must be a whole number, not {text:?}"))
            })?;
            match var {
                "TENANTGATE_GRAPH_MAX_ATTEMPTS" => {
                    p.max_attempts = u32::try_from(n.clamp(1, 100)).unwrap_or(100)
                }
                "TENANTGATE_GRAPH_BACKOFF_MS" => p.backoff_base = Duration::from_millis(n),
                _ => p.max_retry_after = Duration::from_millis(n),
            }
        }
        Ok(p)
    }
}

/// How a client behaves (from the environment's configuration).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://graph.microsoft.com`, without a trailing slash.
    pub graph_url: String,
    /// Graph requests in flight: a `$batch` of n requests takes n places, and a `$batch` is
    /// never larger than this.
    pub max_concurrency: usize,
    pub requests_per_second: u32,
    /// Combine reads of many objects into `$batch` requests.
    pub batch: bool,
    /// Time limit of one HTTP request.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Most pages of one collection (see [`MAX_PAGES`]).
    pub max_pages: usize,
}

impl ClientOptions {
    /// Options for `graph_url` with the defaults of a configuration that sets nothing.
    pub fn new(graph_url: impl Into<String>) -> ClientOptions {
        ClientOptions {
            graph_url: graph_url.into(),
            max_concurrency: crate::config::DEFAULT_MAX_CONCURRENCY as usize,
            requests_per_second: 100,
            batch: true,
            timeout: Duration::from_secs(100),
            retry: RetryPolicy::default(),
            max_pages: MAX_PAGES,
        }
    }
}

/// May a request be sent again after a failure that leaves open whether Graph acted on it
/// (a 5xx, a connection lost after the request went out, a response cut short)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and writes the caller knows are safe to repeat: retried after any transient
    /// failure.
    Idempotent,
    /// Writes that must never be repeated blindly (creating an object, an assign): sent again
    /// only after a 429, a 401 or a connection that never opened, where Graph did not act.
    NotIdempotent,
}

/// Requests made, for reports and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    /// HTTP requests sent to Graph (a `$batch` is one).
    pub http_requests: AtomicU64,
    /// Graph requests as Graph counts them (each request of a `$batch` is one).
    pub graph_requests: AtomicU64,
    /// Requests answered 429.
    pub throttled: AtomicU64,
    /// Requests sent again after a transient failure.
    pub retries: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, Default, serde::Serialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub http_requests: u64,
    pub graph_requests: u64,
    pub throttled: u64,
    pub retries: u64,
}

/// One Graph request: a version and a path with its query (`deviceManagement/…?$expand=…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Req {
    pub api: Api,
    pub path: String,
}

impl Req {
    pub fn new(api: Api, path: impl Into<String>) -> Req {
        Req {
            api,
            path: path.into(),
        }
    }
}

pub struct GraphClient {
    http: reqwest::Client,
    opts: ClientOptions,
    tokens: TokenSource,
    pacer: Pacer,
    slots: tokio::sync::Semaphore,
    stats: Stats,
}

/// What one response means for the request.
#[derive(Debug)]
enum Outcome {
    Done(Value),
    /// Transient: send again, after `after` when Graph said so.
    Retry {
        reason: String,
        after: Option<Duration>,
        throttled: bool,
        /// Graph cannot have acted on the request (429, no connection): safe to send a
        /// write again.
        unsent: bool,
    },
    /// Graph refused the token (401): its message.
    Unauthorized(String),
    /// Not sent: no token for now (the sign-in endpoint fails for a passing reason). Send it
    /// again later.
    NoToken(String),
    Failed(GraphError),
}

impl Outcome {
    fn retry(reason: impl Into<String>) -> Outcome {
        Outcome::Retry {
            reason: reason.into(),
            after: None,
            throttled: false,
            unsent: false,
        }
    }
}

/// A reqwest error without its URL (the URL is reported apart) and with its causes.
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The wait a `Retry-After` value asks for, at most `cap`: delay-seconds or an HTTP-date
/// (RFC 9110 §10.2.3; IMF-fixdate and the two obsolete forms every recipient must accept).
/// Numbers are clamped before they become a [`Duration`], so `1e30` or `inf` wait `cap` and
/// never panic; a date in the past waits nothing; anything else is ignored (`None`: the
/// caller backs off on its own).
pub fn retry_after(value: Option<&str>, cap: Duration, now: SystemTime) -> Option<Duration> {
    let v = value?.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is still "a very long time".
        let secs = v.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(cap));
    }
    if let Ok(secs) = v.parse::<f64>() {
        // Not RFC syntax, but fractions are seen in the wild; NaN and negatives are nonsense.
        if secs.is_nan() || secs < 0.0 {
            return None;
        }
        return Some(if secs >= cap.as_secs_f64() {
            cap
        } else {
            Duration::from_secs_f64(secs)
        });
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO).min(cap))
}

/// The end of a request that ran out of attempts without a token.
fn no_token_left(
    method: &impl std::fmt::Display,
    url: &str,
    attempts: u32,
    why: &str,
) -> GraphError {
    GraphError::SignInUnavailable(format!(
        "{method} {url}: gave up after {attempts} attempts without a token: {why}"
    ))
}

/// Install the TLS crypto provider (ring) once per process.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Is `url` plain HTTP to somewhere other than this machine?
pub fn insecure_remote(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    !matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

impl GraphClient {
    pub fn new(opts: ClientOptions, tokens: TokenSource, http: reqwest::Client) -> GraphClient {
        GraphClient {
            http,
            pacer: Pacer::new(opts.requests_per_second),
            slots: tokio::sync::Semaphore::new(opts.max_concurrency.clamp(1, 10_000)),
            // Sign-in attempts after a passing failure are spaced like retries.
            tokens: tokens.with_retry(opts.retry.clone()),
            opts,
            stats: Stats::default(),
        }
    }

    /// An HTTP client with rustls, the given time limit and no redirects (Graph does not
    /// redirect reads, and a redirect must never carry the token elsewhere).
    pub fn http_client(timeout: Duration) -> Result<reqwest::Client, GraphError> {
        install_crypto_provider();
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("TenantGate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::Config(format!("cannot build the HTTP client: {e}")))
    }

    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            http_requests: self.stats.http_requests.load(Ordering::Relaxed),
            graph_requests: self.stats.graph_requests.load(Ordering::Relaxed),
            throttled: self.stats.throttled.load(Ordering::Relaxed),
            retries: self.stats.retries.load(Ordering::Relaxed),
        }
    }

    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// The absolute URL of a request.
    pub fn url(&self, r: &Req) -> String {
        format!("{}/{}/{}", self.opts.graph_url, r.api.segment(), r.path)
    }

    /// Requests per `$batch` now: what the pacer's rate allows, never more than 20 nor more
    /// than the concurrency limit (a `$batch` of n takes n places).
    fn batch_size(&self) -> usize {
        self.pacer
            .batch_size()
            .min(self.opts.max_concurrency.max(1))
            .min(MAX_BATCH)
    }

    /// The request an `@odata.nextLink` names. Graph's links are absolute; one that leaves
    /// the configured Graph URL is refused, so the token never goes elsewhere.
    pub fn next_link(&self, link: &str) -> Result<Req, GraphError> {
        let bad = || GraphError::BadResponse {
            url: link.to_string(),
            message: format!(
                "@odata.nextLink does not point below {}; not following it",
                self.opts.graph_url
            ),
        };
        let rest = link
            .strip_prefix(&self.opts.graph_url)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or_else(bad)?;
        let (api, path) = if let Some(p) = rest.strip_prefix("beta/") {
            (Api::Beta, p)
        } else if let Some(p) = rest.strip_prefix("v1.0/") {
            (Api::V1, p)
        } else {
            return Err(bad());
        };
        Ok(Req::new(api, path))
    }

    fn classify(
        &self,
        method: &str,
        url: &str,
        status: u16,
        retry_after_header: Option<&str>,
        body: Result<Value, String>,
    ) -> Outcome {
        let after = retry_after(
            retry_after_header,
            self.opts.retry.max_retry_after,
            SystemTime::now(),
        );
        match status {
            200..=299 => match body {
                Ok(v) => Outcome::Done(v),
                Err(e) => Outcome::retry(format!("incomplete response body ({e})")),
            },
            429 => {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                Outcome::Retry {
                    reason: "throttled (429)".into(),
                    after,
                    throttled: true,
                    unsent: true,
                }
            }
            500 | 502 | 503 | 504 => Outcome::Retry {
                reason: format!("HTTP {status}"),
                after,
                throttled: false,
                unsent: false,
            },
            _ => {
                let err = GraphError::from_body(method, url, status, body.ok().as_ref());
                if status == 401 {
                    Outcome::Unauthorized(err.to_string())
                } else {
                    Outcome::Failed(err)
                }
            }
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        token: &Secret,
        body: Option<&Value>,
    ) -> Outcome {
        let mut rb = self
            .http
            .request(method.clone(), url)
            .bearer_auth(token.expose())
            .header("Accept", "application/json");
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        self.stats.http_requests.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(%method, %url, "sending");
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    reason: describe_reqwest(&e),
                    after: None,
                    throttled: false,
                    // No connection: the request never reached Graph.
                    unsent: e.is_connect(),
                };
            }
        };
        let status = resp.status().as_u16();
        let ra = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Outcome::retry(format!(
                    "connection lost while reading: {}",
                    describe_reqwest(&e)
                ));
            }
        };
        let parsed = if bytes.is_empty() && status == 204 {
            Ok(Value::Null)
        } else {
            serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string())
        };
        self.classify(method.as_str(), url, status, ra.as_deref(), parsed)
    }

    /// The token for a request, or what the request gets without one: [`Outcome::NoToken`]
    /// while the sign-in fails for a passing reason (send it again later), a failure when it
    /// was refused.
    async fn token(&self) -> Result<Secret, Outcome> {
        match self.tokens.token().await {
            Ok(t) => Ok(t),
            Err(GraphError::SignInUnavailable(why)) => Err(Outcome::NoToken(why)),
            Err(e) => Err(Outcome::Failed(e)),
        }
    }

    /// One request, retried until it succeeds, fails for good or runs out of attempts. A
    /// request that is not [`Idempotency::Idempotent`] is sent again only where Graph cannot
    /// have acted on it (429, 401, no connection); after any other transient failure it fails
    /// with [`GraphError::NotRetried`].
    pub async fn request(
        &self,
        method: reqwest::Method,
        req: &Req,
        body: Option<&Value>,
        idempotency: Idempotency,
    ) -> Result<Value, GraphError> {
        let url = self.url(req);
        let policy = &self.opts.retry;
        let mut refreshed = false;
        let mut last = String::new();
        for attempt in 0..policy.max_attempts {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            self.pacer.acquire(1).await;
            let outcome = {
                let _slot = self.slots.acquire().await.expect("never closed");
                match self.token().await {
                    Ok(token) => {
                        self.stats.graph_requests.fetch_add(1, Ordering::Relaxed);
                        let o = self.send(method.clone(), &url, &token, body).await;
                        if let Outcome::Unauthorized(_) = &o {
                            self.tokens.invalidate(&token).await;
                        }
                        o
                    }
                    Err(o) => o,
                }
            };
            match outcome {
                Outcome::Done(v) => {
                    self.pacer.succeeded(1);
                    return Ok(v);
                }
                Outcome::Retry {
                    reason,
                    after,
                    throttled,
                    unsent,
                } => {
                    tracing::debug!(%url, attempt, %reason, "will retry");
                    if throttled {
                        self.pacer.throttled(after);
                    }
                    if idempotency == Idempotency::NotIdempotent && !unsent {
                        return Err(GraphError::NotRetried {
                            method: method.to_string(),
                            url,
                            reason,
                        });
                    }
                    last = reason;
                    if attempt + 1 < policy.max_attempts {
                        tokio::time::sleep(after.unwrap_or_else(|| backoff(attempt, policy))).await;
                    }
                }
                Outcome::Unauthorized(e) if !refreshed => {
                    refreshed = true;
                    last = e;
                }
                // A second 401, with a new token: Graph refuses the token itself (as in a
                // `$batch`), which no other request will get past either.
                Outcome::Unauthorized(e) => return Err(GraphError::Unauthorized(e)),
                // Never sent, so safe to send again whatever the method.
                Outcome::NoToken(why) => {
                    tracing::debug!(%url, attempt, reason = %why, "no token for now; will retry");
                    if attempt + 1 >= policy.max_attempts {
                        return Err(no_token_left(&method, &url, attempt + 1, &why));
                    }
                    tokio::time::sleep(backoff(attempt, policy)).await;
                }
                Outcome::Failed(e) => return Err(e),
            }
        }
        Err(GraphError::GaveUp {
            method: method.to_string(),
            url,
            attempts: policy.max_attempts,
            last,
        })
    }

    pub async fn get(&self, req: &Req) -> Result<Value, GraphError> {
        self.request(reqwest::Method::GET, req, None, Idempotency::Idempotent)
            .await
    }

    /// GET every request; in `$batch`es when batching is on. Results are in input order.
    /// Each request is judged on its own: a transient failure sends it again (up to the
    /// policy's attempts), and a 401 — on the `$batch` or on the request inside it — sends it
    /// once more with a new token (the `$batch` that met it dropped the token it used).
    pub async fn get_all(&self, reqs: Vec<Req>) -> Vec<Result<Value, GraphError>> {
        if !self.opts.batch || reqs.len() == 1 {
            return join_all(reqs.iter().map(|r| self.get(r))).await;
        }
        /// A request still to be answered.
        #[derive(Clone)]
        struct Pending {
            i: usize,
            /// Attempts that failed transiently.
            attempts: u32,
            /// Already sent again with a new token after a 401.
            refreshed: bool,
        }
        let policy = &self.opts.retry;
        let mut results: Vec<Option<Result<Value, GraphError>>> =
            (0..reqs.len()).map(|_| None).collect();
        let mut pending: Vec<Pending> = (0..reqs.len())
            .map(|i| Pending {
                i,
                attempts: 0,
                refreshed: false,
            })
            .collect();
        while !pending.is_empty() {
            let size = self.batch_size();
            let mut groups: Vec<Vec<Pending>> = Vec::new();
            for api in [Api::Beta, Api::V1] {
                let of_api: Vec<Pending> = pending
                    .iter()
                    .filter(|p| reqs[p.i].api == api)
                    .cloned()
                    .collect();
                for chunk in of_api.chunks(size) {
                    groups.push(chunk.to_vec());
                }
            }
            let rounds = join_all(groups.iter().map(|g| {
                let items: Vec<&Req> = g.iter().map(|p| &reqs[p.i]).collect();
                self.batch_once(items)
            }))
            .await;
            let mut next = Vec::new();
            let mut wait: Option<Duration> = None;
            let mut min_attempt = u32::MAX;
            for (group, outcomes) in groups.into_iter().zip(rounds) {
                for (mut p, outcome) in group.into_iter().zip(outcomes) {
                    let i = p.i;
                    match outcome {
                        Outcome::Done(v) => results[i] = Some(Ok(v)),
                        Outcome::Failed(e) => results[i] = Some(Err(e)),
                        // Sent again at once, with the new token (batch_once dropped the
                        // old one) …
                        Outcome::Unauthorized(_) if !p.refreshed => {
                            p.refreshed = true;
                            next.push(p);
                        }
                        // … and a second 401, with a new token: Graph refuses the token
                        // itself, which no other request will get past either.
                        Outcome::Unauthorized(e) => {
                            results[i] = Some(Err(GraphError::Unauthorized(e)));
                        }
                        // Not sent: no token for now.
                        Outcome::NoToken(why) => {
                            p.attempts += 1;
                            if p.attempts >= policy.max_attempts {
                                results[i] = Some(Err(no_token_left(
                                    &"GET",
                                    &self.url(&reqs[i]),
                                    p.attempts,
                                    &why,
                                )));
                            } else {
                                min_attempt = min_attempt.min(p.attempts);
                                next.push(p);
                            }
                        }
                        Outcome::Retry {
                            reason,
                            after,
                            throttled,
                            ..
                        } => {
                            if throttled {
                                self.pacer.throttled(after);
                            }
                            p.attempts += 1;
                            if p.attempts >= policy.max_attempts {
                                results[i] = Some(Err(GraphError::GaveUp {
                                    method: "GET".into(),
                                    url: self.url(&reqs[i]),
                                    attempts: p.attempts,
                                    last: reason,
                                }));
                            } else {
                                if let Some(a) = after {
                                    wait = Some(wait.map_or(a, |w| w.max(a)));
                                }
                                min_attempt = min_attempt.min(p.attempts);
                                next.push(p);
                            }
                        }
                    }
                }
            }
            if !next.is_empty() {
                self.stats
                    .retries
                    .fetch_add(next.len() as u64, Ordering::Relaxed);
                let pause = wait.unwrap_or_else(|| {
                    if min_attempt == u32::MAX {
                        Duration::ZERO
                    } else {
                        backoff(min_attempt.saturating_sub(1), policy)
                    }
                });
                tracing::debug!(
                    requests = next.len(),
                    pause_ms = pause.as_millis() as u64,
                    "retrying part of a batch"
                );
                tokio::time::sleep(pause).await;
            }
            pending = next;
        }
        results
            .into_iter()
            .map(|r| r.expect("every request has an outcome"))
            .collect()
    }

    /// Send one `$batch` (all of one API version) and classify each response. A failure of
    /// the batch itself is a failure of each of its requests. The batch takes one place of
    /// the concurrency limit per request in it.
    async fn batch_once(&self, items: Vec<&Req>) -> Vec<Outcome> {
        let api = items[0].api;
        if items.len() == 1 {
            // A batch of one is a plain request, as Graph counts it.
            return vec![self.single_outcome(items[0]).await];
        }
        let body = json!({
            "requests": items.iter().enumerate().map(|(i, r)| json!({
                "id": (i + 1).to_string(),
                "method": "GET",
                "url": format!("/{}", r.path),
            })).collect::<Vec<_>>()
        });
        let url = format!("{}/{}/$batch", self.opts.graph_url, api.segment());
        self.pacer.acquire(items.len()).await;
        let (outcome, token) = {
            let places = u32::try_from(items.len()).unwrap_or(u32::MAX);
            let _slots = self.slots.acquire_many(places).await.expect("never closed");
            let token = match self.token().await {
                Ok(t) => t,
                Err(Outcome::NoToken(why)) => {
                    return items
                        .iter()
                        .map(|_| Outcome::NoToken(why.clone()))
                        .collect();
                }
                Err(o) => {
                    let msg = match o {
                        Outcome::Failed(e) => e.to_string(),
                        _ => "no token".into(),
                    };
                    return items
                        .iter()
                        .map(|_| Outcome::Failed(GraphError::SignInFailed(msg.clone())))
                        .collect();
                }
            };
            self.stats
                .graph_requests
                .fetch_add(items.len() as u64, Ordering::Relaxed);
            let o = self
                .send(reqwest::Method::POST, &url, &token, Some(&body))
                .await;
            if let Outcome::Unauthorized(_) = &o {
                self.tokens.invalidate(&token).await;
            }
            (o, token)
        };
        let value = match outcome {
            Outcome::Done(v) => v,
            Outcome::Retry {
                reason,
                after,
                throttled,
                unsent,
            } => {
                return items
                    .iter()
                    .map(|_| Outcome::Retry {
                        reason: reason.clone(),
                        after,
                        throttled,
                        unsent,
                    })
                    .collect();
            }
            Outcome::Unauthorized(msg) => {
                return items
                    .iter()
                    .map(|_| Outcome::Unauthorized(msg.clone()))
                    .collect();
            }
            Outcome::NoToken(why) => {
                return items
                    .iter()
                    .map(|_| Outcome::NoToken(why.clone()))
                    .collect();
            }
            Outcome::Failed(e) => {
                let msg = e.to_string();
                return items
                    .iter()
                    .map(|_| {
                        Outcome::Failed(GraphError::BadResponse {
                            url: url.clone(),
                            message: msg.clone(),
                        })
                    })
                    .collect();
            }
        };
        let outcomes = self.batch_outcomes(&items, &value);
        if outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Unauthorized(_)))
        {
            // Graph took the `$batch` but refused the token for some of its requests (it
            // expired or was revoked while Graph worked through them): the requests that go
            // again must go with a new token, as after a 401 on a plain request.
            tracing::debug!(%url, "a request inside a $batch was answered 401; dropping the token");
            self.tokens.invalidate(&token).await;
        }
        let ok = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Done(_)))
            .count();
        self.pacer.succeeded(ok);
        outcomes
    }

    /// What each request of a `$batch` got, matched by id (Graph answers in any order). A
    /// request the response leaves out, or answers without a valid status, is sent again.
    fn batch_outcomes(&self, items: &[&Req], value: &Value) -> Vec<Outcome> {
        let mut by_id: HashMap<String, &Value> = value
            .get("responses")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| {
                        let id = match r.get("id")? {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            _ => return None,
                        };
                        Some((id, r))
                    })
                    .collect()
            })
            .unwrap_or_default();
        items
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let sub_url = self.url(r);
                let Some(resp) = by_id.remove(&(i + 1).to_string()) else {
                    return Outcome::retry("the $batch response left this request out");
                };
                let Some(status) = resp
                    .get("status")
                    .and_then(Value::as_u64)
                    .filter(|s| (100..=599).contains(s))
                else {
                    return Outcome::retry(format!(
                        "the $batch response gave this request no valid status ({})",
                        resp.get("status").unwrap_or(&Value::Null)
                    ));
                };
                let status = status as u16;
                let ra = resp
                    .get("headers")
                    .and_then(Value::as_object)
                    .and_then(|h| {
                        h.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                            .and_then(|(_, v)| match v {
                                Value::String(s) => Some(s.clone()),
                                Value::Number(n) => Some(n.to_string()),
                                _ => None,
                            })
                    });
                let body = match resp.get("body") {
                    Some(b) => Ok(b.clone()),
                    None if status == 204 => Ok(Value::Null),
                    None => Err("no body".to_string()),
                };
                self.classify("GET", &sub_url, status, ra.as_deref(), body)
            })
            .collect()
    }

    async fn single_outcome(&self, req: &Req) -> Outcome {
        let url = self.url(req);
        self.pacer.acquire(1).await;
        let _slot = self.slots.acquire().await.expect("never closed");
        let token = match self.token().await {
            Ok(t) => t,
            Err(o) => return o,
        };
        self.stats.graph_requests.fetch_add(1, Ordering::Relaxed);
        let o = self.send(reqwest::Method::GET, &url, &token, None).await;
        match &o {
            Outcome::Unauthorized(_) => self.tokens.invalidate(&token).await,
            Outcome::Done(_) => self.pacer.succeeded(1),
            _ => {}
        }
        o
    }

    /// Every item of a collection: the first page, then each `@odata.nextLink` in turn.
    /// `on_page` sees each page's items as they arrive and says how many it kept; the total
    /// is returned. A link that repeats an earlier page, or more than `max_pages` pages, is a
    /// [`GraphError::BadResponse`]: a server that pages forever never hangs the export.
    pub async fn list_pages<F, Fut>(&self, first: Req, mut on_page: F) -> Result<usize, GraphError>
    where
        F: FnMut(Vec<Value>) -> Fut,
        Fut: std::future::Future<Output = Result<usize, GraphError>>,
    {
        let mut guard = PageGuard::new(self.url(&first), self.opts.max_pages);
        let mut req = first;
        let mut total = 0;
        loop {
            let page = self.get(&req).await?;
            let url = self.url(&req);
            let (items, next) = split_page(page, &url)?;
            total += on_page(items).await?;
            match next {
                Some(link) => {
                    guard.next(&link)?;
                    req = self.next_link(&link)?;
                }
                None => return Ok(total),
            }
        }
    }
}

/// Guards one chain of pages: every `@odata.nextLink` must be new, and there are at most
/// `max` pages.
#[derive(Debug)]
pub struct PageGuard {
    seen: HashSet<String>,
    max: usize,
}

impl PageGuard {
    pub fn new(first_url: String, max: usize) -> PageGuard {
        PageGuard {
            seen: HashSet::from([first_url]),
            max: max.max(1),
        }
    }

    /// Accept `link` as the next page, or say why not.
    pub fn next(&mut self, link: &str) -> Result<(), GraphError> {
        if self.seen.contains(link) {
            return Err(GraphError::BadResponse {
                url: link.to_string(),
                message: "@odata.nextLink repeats a page already read; the paging loops, so this collection cannot be read whole".into(),
            });
        }
        if self.seen.len() >= self.max {
            return Err(GraphError::BadResponse {
                url: link.to_string(),
                message: format!(
                    "more than {} pages; the paging does not end, so this collection cannot be read whole",
                    self.max
                ),
            });
        }
        self.seen.insert(link.to_string());
        Ok(())
    }
}

/// A collection page: its items and its `@odata.nextLink`.
pub fn split_page(page: Value, url: &str) -> Result<(Vec<Value>, Option<String>), GraphError> {
    let Value::Object(mut map) = page else {
        return Err(GraphError::BadResponse {
            url: url.to_string(),
            message: "expected a JSON object with `value`".into(),
        });
    };
    let next = match map.remove("@odata.nextLink") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            return Err(GraphError::BadResponse {
                url: url.to_string(),
                message: format!("@odata.nextLink is not a link: {other}"),
            });
        }
    };
    match map.remove("value") {
        Some(Value::Array(items)) => Ok((items, next)),
        _ => Err(GraphError::BadResponse {
            url: url.to_string(),
            message: "a collection response without a `value` array".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_machine() {
        assert!(!insecure_remote("https://graph.microsoft.com"));
        assert!(!insecure_remote("http://127.0.0.1:8080"));
        assert!(!insecure_remote("http://localhost:1/x"));
        assert!(!insecure_remote("http://[::1]:9"));
        assert!(insecure_remote("http://graph.example.com"));
        assert!(insecure_remote("http://127.0.0.1.evil.com:80"));
    }

    const CAP: Duration = Duration::from_secs(300);

    #[test]
    fn retry_after_is_seconds_and_capped() {
        let now = SystemTime::now();
        let ra = |v: &str| retry_after(Some(v), CAP, now);
        assert_eq!(ra("3"), Some(Duration::from_secs(3)));
        assert_eq!(ra(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(ra("99999"), Some(CAP));
        assert_eq!(ra("soon"), None);
        assert_eq!(retry_after(None, CAP, now), None);
        assert_eq!(ra(""), None);
    }

    #[test]
    fn retry_after_never_panics_on_huge_or_odd_numbers() {
        let now = SystemTime::now();
        let ra = |v: &str| retry_after(Some(v), CAP, now);
        // Each of these reached Duration::from_secs_f64 before and panicked or overflowed.
        assert_eq!(ra("inf"), Some(CAP));
        assert_eq!(ra("infinity"), Some(CAP));
        assert_eq!(ra("1e30"), Some(CAP));
        assert_eq!(ra("18446744073709551616000"), Some(CAP));
        assert_eq!(ra("NaN"), None);
        assert_eq!(ra("-1"), None);
        assert_eq!(ra("-inf"), None);
        assert_eq!(ra("0"), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_reads_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let ra = |v: &str| retry_after(Some(v), CAP, now);
        // IMF-fixdate, and the obsolete RFC 850 and asctime forms (RFC 9110 §5.6.7).
        assert_eq!(
            ra("Sun, 06 Nov 1994 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            ra("Sunday, 06-Nov-94 08:49:47 GMT"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(ra("Sun Nov  6 08:49:42 1994"), Some(Duration::from_secs(5)));
        // In the past: go now. Far ahead: capped.
        assert_eq!(ra("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(ra("Mon, 07 Nov 1994 08:49:37 GMT"), Some(CAP));
        assert_eq!(ra("Sun, 06 Nov 1994 25:00:00 GMT"), None);
    }

    #[test]
    fn pages_need_a_value_array_and_a_string_link() {
        let (items, next) = split_page(
            json!({"value": [1, 2], "@odata.nextLink": "https://g/beta/x?$skiptoken=2"}),
            "u",
        )
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(next.as_deref(), Some("https://g/beta/x?$skiptoken=2"));
        assert!(split_page(json!({"id": "x"}), "u").is_err());
        // A link that is not a string is not "the last page".
        for bad in [json!(null), json!(7), json!({"href": "x"})] {
            let e = split_page(json!({"value": [], "@odata.nextLink": bad}), "u").unwrap_err();
            assert!(e.to_string().contains("not a link"), "{e}");
        }
    }

    #[test]
    fn the_page_guard_refuses_repeats_and_endless_paging() {
        let mut g = PageGuard::new("https://g/beta/x".into(), 3);
        g.next("https://g/beta/x?s=1").unwrap();
        let e = g.next("https://g/beta/x").unwrap_err();
        assert!(e.to_string().contains("repeats a page"), "{e}");
        g.next("https://g/beta/x?s=2").unwrap();
        let e = g.next("https://g/beta/x?s=3").unwrap_err();
        assert!(e.to_string().contains("more than 3 pages"), "{e}");
    }

    /// A scripted Graph on a local port: tokens for anyone, every other request answered
    /// by `answer`, which sees each request and how many came before it.
    mod scripted {
        use super::super::*;
        use crate::graph::auth::{AuthConfig, Credential, Secret, TokenSource};
        use axum::http::{Method, StatusCode, Uri};
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        pub struct Call {
            pub method: String,
            pub path: String,
            pub body: Value,
            /// Requests before this one (token requests not counted).
            pub n: usize,
        }

        pub struct Reply {
            pub status: u16,
            pub headers: Vec<(&'static str, String)>,
            pub body: Value,
            pub delay: Duration,
        }

        pub fn reply(status: u16, body: Value) -> Reply {
            Reply {
                status,
                headers: Vec::new(),
                body,
                delay: Duration::ZERO,
            }
        }

        pub type Answer = Arc<dyn Fn(&Call) -> Reply + Send + Sync>;

        pub struct Server {
            pub url: String,
            pub calls: Arc<std::sync::Mutex<Vec<String>>>,
            /// Most Graph requests (each of a `$batch` counted) being answered at once.
            pub peak: Arc<std::sync::atomic::AtomicI64>,
            /// Largest `$batch` seen.
            pub largest_batch: Arc<std::sync::atomic::AtomicI64>,
        }

        pub async fn start(answer: Answer) -> Server {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
            let count = Arc::new(AtomicUsize::new(0));
            let log = calls.clone();
            let own_url = url.clone();
            let in_flight = Arc::new(std::sync::atomic::AtomicI64::new(0));
            let peak = Arc::new(std::sync::atomic::AtomicI64::new(0));
            let largest_batch = Arc::new(std::sync::atomic::AtomicI64::new(0));
            let (peak2, largest2) = (peak.clone(), largest_batch.clone());
            let handler = move |method: Method, uri: Uri, body: axum::body::Bytes| {
                let answer = answer.clone();
                let log = log.clone();
                let count = count.clone();
                let own_url = own_url.clone();
                let (in_flight, peak, largest) =
                    (in_flight.clone(), peak2.clone(), largest2.clone());
                async move {
                    let path = uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default();
                    if path.ends_with("/oauth2/v2.0/token") {
                        let token = json!({"access_token": format!("t{}", fastrand::u32(..)),
                            "token_type": "Bearer", "expires_in": 3599});
                        return (
                            StatusCode::OK,
                            axum::http::HeaderMap::new(),
                            token.to_string(),
                        );
                    }
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    log.lock().unwrap().push(format!("{method} {path}"));
                    let call = Call {
                        method: method.to_string(),
                        path,
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        n,
                    };
                    let weight = match call.body.get("requests").and_then(Value::as_array) {
                        Some(rs) => {
                            largest.fetch_max(rs.len() as i64, Ordering::SeqCst);
                            rs.len() as i64
                        }
                        None => 1,
                    };
                    let now = in_flight.fetch_add(weight, Ordering::SeqCst) + weight;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let r = answer(&call);
                    if !r.delay.is_zero() {
                        tokio::time::sleep(r.delay).await;
                    }
                    in_flight.fetch_sub(weight, Ordering::SeqCst);
                    let mut headers = axum::http::HeaderMap::new();
                    for (k, v) in r.headers {
                        headers.insert(k, v.parse().unwrap());
                    }
                    (
                        StatusCode::from_u16(r.status).unwrap(),
                        headers,
                        if r.body.is_null() {
                            String::new()
                        } else {
                            // Replies name the server's own address as {URL}.
                            r.body.to_string().replace("{URL}", &own_url)
                        },
                    )
                }
            };
            let app = axum::Router::new().fallback(handler);
            tokio::spawn(async move { axum::serve(listener, app).await });
            Server {
                url,
                calls,
                peak,
                largest_batch,
            }
        }

        pub fn client(url: &str, tweak: impl FnOnce(&mut ClientOptions)) -> GraphClient {
            let mut opts = ClientOptions::new(url);
            opts.retry = RetryPolicy {
                max_attempts: 4,
                backoff_base: Duration::from_millis(1),
                backoff_max: Duration::from_millis(5),
                max_retry_after: Duration::from_millis(20),
            };
            opts.requests_per_second = 10_000;
            tweak(&mut opts);
            let http = GraphClient::http_client(Duration::from_secs(10)).unwrap();
            let tokens = TokenSource::new(
                AuthConfig {
                    token_url: format!("{url}/t/oauth2/v2.0/token"),
                    client_id: "c".into(),
                    scope: format!("{url}/.default"),
                    credential: Credential::Secret(Secret::new("s")),
                },
                http.clone(),
            );
            GraphClient::new(opts, tokens, http)
        }

        /// The sub-requests of a `$batch` body: (id, url).
        pub fn sub_requests(body: &Value) -> Vec<(String, String)> {
            body["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_string(),
                        r["url"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        }
    }

    use scripted::{Call, reply, start, sub_requests};
    use std::sync::Arc;

    fn reqs(n: usize) -> Vec<Req> {
        (0..n)
            .map(|i| Req::new(Api::Beta, format!("deviceManagement/things/{i}")))
            .collect()
    }

    /// Echo each request's path: `{"path": "/deviceManagement/things/3"}`.
    fn echo(url: &str) -> Value {
        json!({ "path": url })
    }

    #[tokio::test]
    async fn batch_responses_are_matched_by_id_whatever_their_order() {
        let server = start(Arc::new(|c: &Call| {
            let mut responses: Vec<Value> = sub_requests(&c.body)
                .into_iter()
                .map(|(id, url)| json!({"id": id, "status": 200, "body": echo(&url)}))
                .collect();
            responses.reverse();
            responses.swap(0, 2);
            reply(200, json!({ "responses": responses }))
        }))
        .await;
        let client = scripted::client(&server.url, |_| {});
        let results = client.get_all(reqs(7)).await;
        for (i, r) in results.into_iter().enumerate() {
            assert_eq!(
                r.unwrap()["path"],
                format!("/deviceManagement/things/{i}"),
                "request {i} got another's response"
            );
        }
        assert_eq!(server.calls.lock().unwrap().len(), 1, "one $batch");
    }

    #[tokio::test]
    async fn a_sub_response_left_out_or_without_a_valid_status_is_sent_again() {
        let server = start(Arc::new(|c: &Call| {
            if c.method == "POST" && c.n == 0 {
                // 1: fine; 2: left out; 3: status 0; 4: no status at all; 5: status "200".
                let responses = json!([
                    {"id": "1", "status": 200, "body": echo("/deviceManagement/things/0")},
                    {"id": "3", "status": 0, "body": {}},
                    {"id": "4", "body": echo("/deviceManagement/things/3")},
                    {"id": "5", "status": "200", "body": echo("/deviceManagement/things/4")},
                ]);
                reply(200, json!({ "responses": responses }))
            } else {
                let responses: Vec<Value> = sub_requests(&c.body)
                    .into_iter()
                    .map(|(id, url)| json!({"id": id, "status": 200, "body": echo(&url)}))
                    .collect();
                reply(200, json!({ "responses": responses }))
            }
        }))
        .await;
        let client = scripted::client(&server.url, |_| {});
        let results = client.get_all(reqs(5)).await;
        for (i, r) in results.into_iter().enumerate() {
            let v = r.unwrap_or_else(|e| panic!("request {i}: {e}"));
            assert_eq!(v["path"], format!("/deviceManagement/things/{i}"));
        }
        let calls = server.calls.lock().unwrap().clone();
        assert_eq!(calls[0], "POST /beta/$batch");
        // The four that got nothing usable went again, in a second $batch.
        assert_eq!(calls.len(), 2, "{calls:?}");
        let stats = client.stats();
        assert_eq!(stats.graph_requests, 9);
        assert_eq!(stats.retries, 4);
    }

    #[tokio::test]
    async fn a_second_401_inside_a_batch_fails_those_requests_only() {
        let server = start(Arc::new(|c: &Call| {
            let responses: Vec<Value> = sub_requests(&c.body)
                .into_iter()
                .map(|(id, url)| {
                    if url.ends_with("/0") {
                        json!({"id": id, "status": 401, "body": {"error": {"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}}})
                    } else if url.ends_with("/1") && c.n == 0 {
                        json!({"id": id, "status": 503, "body": {"error": {"code": "ServiceUnavailable", "message": "later"}}})
                    } else {
                        json!({"id": id, "status": 200, "body": echo(&url)})
                    }
                })
                .collect();
            reply(200, json!({ "responses": responses }))
        }))
        .await;
        let client = scripted::client(&server.url, |_| {});
        let mut results = client.get_all(reqs(3)).await;
        let first = results.remove(0).unwrap_err();
        assert!(
            matches!(first, GraphError::Unauthorized(_)),
            "not a token failure: {first}"
        );
        assert!(crate::graph::fetch::is_fatal(&first));
        for (i, r) in results.into_iter().enumerate() {
            assert_eq!(
                r.unwrap()["path"],
                format!("/deviceManagement/things/{}", i + 1)
            );
        }
        // First round: 3 requests; the 401 and the 503 went once more, then no third time.
        assert_eq!(server.calls.lock().unwrap().len(), 2);
        assert_eq!(client.stats().graph_requests, 5);
    }

    #[tokio::test]
    async fn each_request_of_a_batch_gets_its_own_new_token_once() {
        // Round 1: /0 is refused, /1 fails for a while. Round 2 (a new token): /0 goes
        // through and /1, tried again, is refused now. Round 3: /1 goes through. /1 never had
        // a new token on its account before, so its 401 is not its second.
        let server = start(Arc::new(|c: &Call| {
            if c.method == "GET" {
                return reply(200, echo(c.path.trim_start_matches("/beta")));
            }
            let refused = json!({"error": {"code": "InvalidAuthenticationToken", "message": "Lifetime validation failed, the token is expired."}});
            let responses: Vec<Value> = sub_requests(&c.body)
                .into_iter()
                .map(|(id, url)| match (c.n, url.rsplit('/').next().unwrap()) {
                    (0, "0") | (1, "1") => json!({"id": id, "status": 401, "body": refused}),
                    (0, "1") => json!({"id": id, "status": 503, "body": {"error": {"code": "ServiceUnavailable", "message": "later"}}}),
                    _ => json!({"id": id, "status": 200, "body": echo(&url)}),
                })
                .collect();
            reply(200, json!({ "responses": responses }))
        }))
        .await;
        let client = scripted::client(&server.url, |_| {});
        for (i, r) in client.get_all(reqs(3)).await.into_iter().enumerate() {
            let v = r.unwrap_or_else(|e| panic!("request {i}: {e}"));
            assert_eq!(v["path"], format!("/deviceManagement/things/{i}"));
        }
        // Round 2 held /0 and /1; round 3 /1 alone, a plain request.
        let calls = server.calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert_eq!(client.stats().graph_requests, 3 + 2 + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_401_inside_a_batch_drops_the_token_and_those_requests_go_again_with_a_new_one() {
        use crate::sim::{Fault, FaultRule, Faults, Sim, SimConfig, Target, Tenant};
        const POLICIES: &str = "deviceManagement/configurationPolicies";
        let tenant = Tenant::builtin("dev").unwrap();
        let ids = tenant.coll(POLICIES).order.clone();
        assert!(ids.len() > 2);
        // The token expires while Graph works through the $batch: the $batch is taken, and
        // its requests from the first /settings on are answered 401.
        let sim = crate::sim::spawn(Sim::new(
            tenant,
            SimConfig {
                faults: Faults {
                    rules: vec![FaultRule::new(
                        POLICIES,
                        Target::Nav("settings".into()),
                        Fault::Expire,
                    )],
                    ..Faults::default()
                },
                ..SimConfig::default()
            },
        ))
        .unwrap();
        let client = scripted::client(&sim.url(), |_| {});
        let mut reqs = vec![Req::new(Api::Beta, "deviceManagement/roleScopeTags")];
        reqs.extend(
            ids.iter()
                .map(|id| Req::new(Api::Beta, format!("{POLICIES}/{id}/settings"))),
        );
        let n = reqs.len() as u64;
        for (r, req) in client.get_all(reqs.clone()).await.into_iter().zip(&reqs) {
            let v = r.unwrap_or_else(|e| panic!("{}: {e}", req.path));
            assert!(v["value"].is_array(), "{v}");
        }
        let stats = sim.sim.stats_json();
        assert_eq!(stats["faults"], 1, "{stats}");
        assert_eq!(stats["tokens"], 2, "one new token, once: {stats}");
        assert_eq!(stats["batches"], 2, "{stats}");
        // The scope tags went once; every /settings twice.
        assert_eq!(client.stats().graph_requests, 2 * n - 1);
    }

    #[tokio::test]
    async fn concurrency_counts_graph_requests_not_http_requests() {
        let server = start(Arc::new(|c: &Call| {
            let body = if c.method == "POST" {
                let responses: Vec<Value> = sub_requests(&c.body)
                    .into_iter()
                    .map(|(id, url)| json!({"id": id, "status": 200, "body": echo(&url)}))
                    .collect();
                json!({ "responses": responses })
            } else {
                echo(c.path.trim_start_matches("/beta"))
            };
            scripted::Reply {
                delay: Duration::from_millis(20),
                ..reply(200, body)
            }
        }))
        .await;
        let client = Arc::new(scripted::client(&server.url, |o| o.max_concurrency = 6));
        // Several callers at once, as the readers of many kinds are.
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { c.get_all(reqs(15)).await })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap().iter().all(Result::is_ok));
        }
        let largest = server.largest_batch.load(Ordering::SeqCst);
        let peak = server.peak.load(Ordering::SeqCst);
        assert_eq!(largest, 6, "$batch size is min(max_concurrency, 20)");
        assert!(
            peak <= 6,
            "{peak} Graph requests in flight with max_concurrency 6"
        );
        assert_eq!(client.stats().graph_requests, 60);
    }

    #[tokio::test]
    async fn writes_are_never_retried_blindly() {
        let server = start(Arc::new(|c: &Call| match (c.method.as_str(), c.n) {
            // A create that fails in a way that leaves open whether Graph acted.
            ("POST", _) if c.path.contains("created") => reply(
                503,
                json!({"error": {"code": "ServiceUnavailable", "message": "later"}}),
            ),
            // Throttled first: Graph did not act, so sending it again is safe.
            ("POST", 1) => scripted::Reply {
                headers: vec![("Retry-After", "0".into())],
                ..reply(
                    429,
                    json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
                )
            },
            ("POST", _) => reply(201, json!({"id": "new"})),
            ("GET", 3) => reply(
                503,
                json!({"error": {"code": "ServiceUnavailable", "message": "later"}}),
            ),
            _ => reply(200, json!({"ok": true})),
        }))
        .await;
        let client = scripted::client(&server.url, |_| {});
        let create = Req::new(Api::Beta, "deviceManagement/created");
        let e = client
            .request(
                reqwest::Method::POST,
                &create,
                Some(&json!({"displayName": "x"})),
                Idempotency::NotIdempotent,
            )
            .await
            .unwrap_err();
        assert!(matches!(e, GraphError::NotRetried { .. }), "{e}");
        assert_eq!(server.calls.lock().unwrap().len(), 1, "sent once only");
        let assign = Req::new(Api::Beta, "deviceManagement/x/assign");
        let v = client
            .request(
                reqwest::Method::POST,
                &assign,
                Some(&json!({})),
                Idempotency::NotIdempotent,
            )
            .await
            .unwrap();
        assert_eq!(v["id"], "new");
        // A read after a 503 is simply read again.
        let v = client
            .get(&Req::new(Api::Beta, "deviceManagement/read"))
            .await
            .unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(server.calls.lock().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn a_cycling_or_endless_next_link_is_an_error_not_a_hang() {
        let server = start(Arc::new(|c: &Call| {
            let base = "/beta/deviceManagement/things";
            if c.path.contains("cycle") {
                // Page 1 -> page 2 -> page 1 -> ...
                let to = if c.path.contains("p=2") { "" } else { "&p=2" };
                reply(
                    200,
                    json!({"value": [1], "@odata.nextLink": format!("{{URL}}{base}?cycle=1{to}")}),
                )
            } else {
                reply(
                    200,
                    json!({"value": [1], "@odata.nextLink": format!("{{URL}}{base}?endless={}", c.n)}),
                )
            }
        }))
        .await;
        let client = scripted::client(&server.url, |o| o.max_pages = 5);
        let count = |v: Vec<Value>| async move { Ok(v.len()) };
        let e = client
            .list_pages(
                Req::new(Api::Beta, "deviceManagement/things?cycle=1"),
                count,
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("repeats a page"), "{e}");
        assert_eq!(server.calls.lock().unwrap().len(), 2);
        let e = client
            .list_pages(
                Req::new(Api::Beta, "deviceManagement/things?endless=x"),
                count,
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("more than 5 pages"), "{e}");
        assert_eq!(server.calls.lock().unwrap().len(), 2 + 5);
    }
}
