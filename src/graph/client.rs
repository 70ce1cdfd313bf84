//! The Microsoft Graph client: one per tenant. Requests go to `{graph_url}/{beta|v1.0}/…` with
//! a bearer token; reads of many objects go out as `$batch` requests of at most 20. Every
//! request passes the pacer (the request budget) and a concurrency limit; 429 and 503 are
//! retried after `Retry-After`, other transient failures (5xx, dropped connections, truncated
//! bodies) after exponential backoff with jitter, a bounded number of times.

use super::GraphError;
use super::auth::{Secret, TokenSource};
use super::limit::{Pacer, backoff};
use crate::policy::kinds::Api;
use futures_util::future::join_all;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Graph's limit of requests in one `$batch`.
pub const MAX_BATCH: usize = 20;
/// Attempts per request before giving up (the first one included).
pub const MAX_ATTEMPTS: u32 = 10;
/// The longest `Retry-After` honoured as such; longer ones are capped.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How a client behaves (from the environment's configuration).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://graph.microsoft.com`, without a trailing slash.
    pub graph_url: String,
    pub max_concurrency: usize,
    pub requests_per_second: u32,
    /// Combine reads of many objects into `$batch` requests.
    pub batch: bool,
    /// Time limit of one HTTP request.
    pub timeout: Duration,
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
enum Outcome {
    Done(Value),
    /// Transient: send again, after `after` when Graph said so.
    Retry {
        reason: String,
        after: Option<Duration>,
        throttled: bool,
    },
    /// The token was refused.
    Unauthorized(GraphError),
    Failed(GraphError),
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

fn retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: f64 = value?.trim().parse().ok()?;
    (secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(MAX_RETRY_AFTER))
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
            slots: tokio::sync::Semaphore::new(opts.max_concurrency.max(1)),
            opts,
            tokens,
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

    fn url(&self, r: &Req) -> String {
        format!("{}/{}/{}", self.opts.graph_url, r.api.segment(), r.path)
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
        let after = retry_after(retry_after_header);
        match status {
            200..=299 => match body {
                Ok(v) => Outcome::Done(v),
                Err(e) => Outcome::Retry {
                    reason: format!("incomplete response body ({e})"),
                    after: None,
                    throttled: false,
                },
            },
            429 => {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                Outcome::Retry {
                    reason: "throttled (429)".into(),
                    after,
                    throttled: true,
                }
            }
            500 | 502 | 503 | 504 => Outcome::Retry {
                reason: format!("HTTP {status}"),
                after,
                throttled: false,
            },
            _ => {
                let err = GraphError::from_body(method, url, status, body.ok().as_ref());
                if status == 401 {
                    Outcome::Unauthorized(err)
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
                return Outcome::Retry {
                    reason: format!("connection lost while reading: {}", describe_reqwest(&e)),
                    after: None,
                    throttled: false,
                };
            }
        };
        let parsed = if bytes.is_empty() && status == 204 {
            Ok(Value::Null)
        } else {
            serde_json::from_slice::<Value>(&bytes).map_err(|e| e.to_string())
        };
        self.classify(method.as_str(), url, status, ra.as_deref(), parsed)
    }

    /// One request, retried until it succeeds, fails for good or runs out of attempts.
    pub async fn request(
        &self,
        method: reqwest::Method,
        req: &Req,
        body: Option<&Value>,
    ) -> Result<Value, GraphError> {
        let url = self.url(req);
        let mut refreshed = false;
        let mut last = String::new();
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            self.pacer.acquire(1).await;
            let outcome = {
                let _slot = self.slots.acquire().await.expect("never closed");
                let token = self.tokens.token().await?;
                self.stats.graph_requests.fetch_add(1, Ordering::Relaxed);
                let o = self.send(method.clone(), &url, &token, body).await;
                if let Outcome::Unauthorized(_) = &o {
                    self.tokens.invalidate(&token).await;
                }
                o
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
                } => {
                    tracing::debug!(%url, attempt, %reason, "will retry");
                    if throttled {
                        self.pacer.throttled(after);
                    }
                    last = reason;
                    tokio::time::sleep(after.unwrap_or_else(|| backoff(attempt))).await;
                }
                Outcome::Unauthorized(e) if !refreshed => {
                    refreshed = true;
                    last = e.to_string();
                }
                Outcome::Unauthorized(e) | Outcome::Failed(e) => return Err(e),
            }
        }
        Err(GraphError::GaveUp {
            method: method.to_string(),
            url,
            attempts: MAX_ATTEMPTS,
            last,
        })
    }

    pub async fn get(&self, req: &Req) -> Result<Value, GraphError> {
        self.request(reqwest::Method::GET, req, None).await
    }

    /// GET every request; in `$batch`es when batching is on. Results are in input order.
    pub async fn get_all(&self, reqs: Vec<Req>) -> Vec<Result<Value, GraphError>> {
        if !self.opts.batch || reqs.len() == 1 {
            return join_all(reqs.iter().map(|r| self.get(r))).await;
        }
        let mut results: Vec<Option<Result<Value, GraphError>>> =
            (0..reqs.len()).map(|_| None).collect();
        // (index, attempts so far, last failure)
        let mut pending: Vec<(usize, u32, String)> =
            (0..reqs.len()).map(|i| (i, 0, String::new())).collect();
        let mut refreshed = false;
        while !pending.is_empty() {
            let size = self.pacer.batch_size();
            let mut groups: Vec<Vec<(usize, u32, String)>> = Vec::new();
            for api in [Api::Beta, Api::V1] {
                let of_api: Vec<_> = pending
                    .iter()
                    .filter(|(i, _, _)| reqs[*i].api == api)
                    .cloned()
                    .collect();
                for chunk in of_api.chunks(size) {
                    groups.push(chunk.to_vec());
                }
            }
            let rounds = join_all(groups.iter().map(|g| {
                let items: Vec<&Req> = g.iter().map(|(i, _, _)| &reqs[*i]).collect();
                self.batch_once(items)
            }))
            .await;
            let mut next = Vec::new();
            let mut wait: Option<Duration> = None;
            let mut min_attempt = u32::MAX;
            let mut unauthorized = None;
            for (group, outcomes) in groups.into_iter().zip(rounds) {
                for ((i, attempts, _), outcome) in group.into_iter().zip(outcomes) {
                    match outcome {
                        Outcome::Done(v) => results[i] = Some(Ok(v)),
                        Outcome::Failed(e) => results[i] = Some(Err(e)),
                        Outcome::Unauthorized(e) => {
                            unauthorized = Some(e.to_string());
                            next.push((i, attempts, e.to_string()));
                        }
                        Outcome::Retry {
                            reason,
                            after,
                            throttled,
                        } => {
                            if throttled {
                                self.pacer.throttled(after);
                            }
                            let attempts = attempts + 1;
                            if attempts >= MAX_ATTEMPTS {
                                results[i] = Some(Err(GraphError::GaveUp {
                                    method: "GET".into(),
                                    url: self.url(&reqs[i]),
                                    attempts,
                                    last: reason,
                                }));
                            } else {
                                if let Some(a) = after {
                                    wait = Some(wait.map_or(a, |w| w.max(a)));
                                }
                                min_attempt = min_attempt.min(attempts);
                                next.push((i, attempts, reason));
                            }
                        }
                    }
                }
            }
            if let Some(e) = unauthorized {
                if refreshed {
                    for (i, _, _) in next.drain(..) {
                        results[i] = Some(Err(GraphError::Unauthorized(e.clone())));
                    }
                }
                refreshed = true;
            }
            if !next.is_empty() {
                self.stats
                    .retries
                    .fetch_add(next.len() as u64, Ordering::Relaxed);
                let pause = wait.unwrap_or_else(|| {
                    if min_attempt == u32::MAX {
                        Duration::ZERO
                    } else {
                        backoff(min_attempt.saturating_sub(1))
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
    /// the batch itself is a failure of each of its requests.
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
        let outcome = {
            let _slot = self.slots.acquire().await.expect("never closed");
            let token = match self.tokens.token().await {
                Ok(t) => t,
                Err(e) => {
                    let msg = e.to_string();
                    return items
                        .iter()
                        .map(|_| Outcome::Failed(GraphError::Unauthorized(msg.clone())))
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
            o
        };
        let value = match outcome {
            Outcome::Done(v) => v,
            Outcome::Retry {
                reason,
                after,
                throttled,
            } => {
                return items
                    .iter()
                    .map(|_| Outcome::Retry {
                        reason: reason.clone(),
                        after,
                        throttled,
                    })
                    .collect();
            }
            Outcome::Unauthorized(e) => {
                let msg = e.to_string();
                return items
                    .iter()
                    .map(|_| Outcome::Unauthorized(GraphError::Unauthorized(msg.clone())))
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
        let mut by_id: std::collections::HashMap<String, Value> = value
            .get("responses")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| {
                        let id = r.get("id")?.as_str()?.to_string();
                        Some((id, r.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut ok = 0;
        let outcomes: Vec<Outcome> = items
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let sub_url = self.url(r);
                let Some(resp) = by_id.remove(&(i + 1).to_string()) else {
                    return Outcome::Retry {
                        reason: "the $batch response left this request out".into(),
                        after: None,
                        throttled: false,
                    };
                };
                let status = resp.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
                let ra = resp
                    .get("headers")
                    .and_then(Value::as_object)
                    .and_then(|h| {
                        h.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                            .and_then(|(_, v)| {
                                v.as_str()
                                    .map(str::to_string)
                                    .or_else(|| v.as_u64().map(|n| n.to_string()))
                            })
                    });
                let body = match resp.get("body") {
                    Some(b) => Ok(b.clone()),
                    None if status == 204 => Ok(Value::Null),
                    None => Err("no body".to_string()),
                };
                let o = self.classify("GET", &sub_url, status, ra.as_deref(), body);
                if matches!(o, Outcome::Done(_)) {
                    ok += 1;
                }
                o
            })
            .collect();
        self.pacer.succeeded(ok);
        outcomes
    }

    async fn single_outcome(&self, req: &Req) -> Outcome {
        let url = self.url(req);
        self.pacer.acquire(1).await;
        let _slot = self.slots.acquire().await.expect("never closed");
        let token = match self.tokens.token().await {
            Ok(t) => t,
            Err(e) => return Outcome::Failed(e),
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
    /// is returned.
    pub async fn list_pages<F, Fut>(&self, first: Req, mut on_page: F) -> Result<usize, GraphError>
    where
        F: FnMut(Vec<Value>) -> Fut,
        Fut: std::future::Future<Output = Result<usize, GraphError>>,
    {
        let mut req = first;
        let mut total = 0;
        loop {
            let page = self.get(&req).await?;
            let url = self.url(&req);
            let (items, next) = split_page(page, &url)?;
            total += on_page(items).await?;
            match next {
                Some(link) => req = self.next_link(&link)?,
                None => return Ok(total),
            }
        }
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
        Some(Value::String(s)) => Some(s),
        _ => None,
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

    #[test]
    fn retry_after_is_seconds_and_capped() {
        assert_eq!(retry_after(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after(Some(" 1.5 ")),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_after(Some("99999")), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(Some("soon")), None);
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn pages_need_a_value_array() {
        let (items, next) = split_page(
            json!({"value": [1, 2], "@odata.nextLink": "https://g/beta/x?$skiptoken=2"}),
            "u",
        )
        .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(next.as_deref(), Some("https://g/beta/x?$skiptoken=2"));
        assert!(split_page(json!({"id": "x"}), "u").is_err());
    }
}
