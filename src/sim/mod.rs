//! The tenant simulator: a Graph-shaped HTTP server (axum) over a tenant seeded from a folder
//! of Graph responses, so the demo, the tests and the benchmarks exercise the real client.
//!
//! It serves the token endpoint (`POST /{tenant}/oauth2/v2.0/token`), every collection of
//! [`model::COLLECTIONS`] under `/beta` and `/v1.0` with server-driven paging (absolute
//! `@odata.nextLink`), `$expand` (nested), `$select`, `$top`, navigation properties, `$batch`
//! (at most 20 requests, each counted as one request), create / update / delete / assign, and
//! `deviceManagement/auditEvents`. Faults are injected from a seed: latency, a request budget
//! (429 with `Retry-After`, none on conditional access paths), random 503s, truncated bodies,
//! dropped connections and 403 on chosen collections. `GET /_sim/bound` states the throttle
//! bound: the fewest Graph requests that read the tenant, divided by the budget.

mod graph;
pub mod model;
pub mod odata;

pub use graph::verify_assertion;
pub use model::{COLLECTIONS, Tenant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Faults to inject. Probabilities are per request.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Seed of the fault generator.
    pub seed: u64,
    /// Added to every Graph HTTP request.
    pub latency: Duration,
    /// Request budget (Graph requests per second; each request of a `$batch` counts).
    pub requests_per_second: Option<f64>,
    /// Random 503 Service Unavailable.
    pub error_503: f64,
    /// `Retry-After` on those 503s, in seconds: half of them (by the dice) as delay-seconds,
    /// the others as an HTTP-date that far ahead (Graph may send either).
    pub retry_after_503: Option<u64>,
    /// A 200 whose body stops half-way.
    pub truncate: f64,
    /// The connection closes without a response.
    pub drop: f64,
    /// Collections (paths such as `deviceManagement/deviceConfigurations`) answered 403.
    pub forbid: Vec<String>,
    /// Faults on chosen requests of a collection (reads by id, `/settings`, assignments, …).
    pub rules: Vec<FaultRule>,
    /// Collections whose paging loops: the last page of the list (and of each navigation
    /// collection below it) links back to the first.
    pub cycle: Vec<String>,
    /// Object ids deleted while a client reads: each is listed once, then answers 404 to
    /// every read and is left out of later lists.
    pub vanish: Vec<String>,
    /// The token endpoint fails for a while (see [`TokenOutage`]).
    pub token_outage: Option<TokenOutage>,
}

/// The token endpoint fails for a while: the first `after` token requests are answered as
/// usual, the next ones get `faults` in turn, one each, and the ones after that are answered
/// as usual again. A fault is [`Fault::Status`] with Entra's error for it (500
/// `server_error`; 502, 503, 504 `temporarily_unavailable`; 429; 401 `invalid_client` for a
/// secret that expired; 400 `invalid_request` for a tenant that is not found; each with an
/// `AADSTS` code as Entra's reference lists it), [`Fault::Drop`]
/// (the connection closes without a response) or [`Fault::Truncate`] (a 200 whose body stops
/// half-way, holding no token).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenOutage {
    pub after: u64,
    pub faults: Vec<Fault>,
}

impl TokenOutage {
    /// Parse `AFTER:FAULT[,FAULT…]` (`sim serve --token-outage`), FAULT a status of
    /// [`TokenOutage`], `drop` or `truncate`: `1:drop,503,429,500`.
    pub fn parse(text: &str) -> Result<TokenOutage, String> {
        let bad = || format!("{text:?}: expected AFTER:FAULT[,FAULT…], e.g. 1:drop,503,429");
        let (after, faults) = text.split_once(':').ok_or_else(bad)?;
        let after = after.trim().parse::<u64>().map_err(|_| bad())?;
        let faults = faults
            .split(',')
            .map(|f| match f.trim() {
                "drop" => Ok(Fault::Drop),
                "truncate" => Ok(Fault::Truncate),
                n => match n.parse::<u16>() {
                    Ok(s) if TOKEN_FAULT_STATUSES.contains(&s) => Ok(Fault::Status(s)),
                    _ => Err(format!(
                        "{text:?}: {n:?} is not drop, truncate or one of the statuses {TOKEN_FAULT_STATUSES:?}"
                    )),
                },
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TokenOutage { after, faults })
    }
}

/// The statuses a [`TokenOutage`] can answer with.
pub const TOKEN_FAULT_STATUSES: [u16; 7] = [400, 401, 429, 500, 502, 503, 504];

/// Which requests to a collection a [`FaultRule`] hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every request to the collection and below it.
    All,
    /// The pages of the list (`coll`).
    List,
    /// Reads of one object by id (`coll/{id}`, with or without `$expand`).
    Item,
    /// One navigation collection of an object and its pages (`coll/{id}/settings`,
    /// `coll/{id}/assignments`, and the nested ones below it).
    Nav(String),
    /// Everything below an object: `coll/{id}` and `coll/{id}/…`.
    Object,
}

/// What a [`FaultRule`] does to a request it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A Graph error with this status (401, 403, 404, 500, 503, …) and Graph's body.
    Status(u16),
    /// The connection closes without a response (a whole `$batch` holding the request).
    Drop,
    /// A 200 whose body stops half-way (a whole `$batch` holding the request).
    Truncate,
    /// The token the request carries expires now: this request and every later one with
    /// that token are answered 401 `InvalidAuthenticationToken`, inside a `$batch` as well
    /// (each request of a `$batch` is checked again, as the workloads behind Graph check the
    /// token they are handed). Only the first request the rule hits, by the dice: a client
    /// that fetches a new token can go on.
    Expire,
}

/// A fault on chosen requests: `fault` for requests to `collection` that `target` picks
/// (only object `id` when set), with chance `probability`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub collection: String,
    pub target: Target,
    pub id: Option<String>,
    pub fault: Fault,
    pub probability: f64,
}

impl FaultRule {
    /// `fault` always, on `target` of every object of `collection`.
    pub fn new(collection: &str, target: Target, fault: Fault) -> FaultRule {
        FaultRule {
            collection: collection.to_string(),
            target,
            id: None,
            fault,
            probability: 1.0,
        }
    }

    /// Parse `FAULT:COLLECTION[:TARGET[:PROBABILITY]]` (`sim serve --fault`): FAULT is an
    /// HTTP status, `drop` or `truncate`; TARGET is `all` (default), `list`, `item`,
    /// `object` or a navigation property (`settings`, `assignments`, …).
    pub fn parse(text: &str) -> Result<FaultRule, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let (fault, collection) = match parts.as_slice() {
            [f, c, ..] => (*f, *c),
            _ => {
                return Err(format!(
                    "{text:?}: expected FAULT:COLLECTION[:TARGET[:PROBABILITY]]"
                ));
            }
        };
        let fault = match fault {
            "drop" => Fault::Drop,
            "truncate" => Fault::Truncate,
            "expire" => Fault::Expire,
            n => Fault::Status(
                n.parse()
                    .ok()
                    .filter(|s| (400..=599).contains(s))
                    .ok_or_else(|| {
                        format!("{text:?}: {n:?} is not drop, truncate, expire or a status 400-599")
                    })?,
            ),
        };
        if model::collection(collection).is_none() {
            return Err(format!(
                "{text:?}: {collection:?} is not a collection the simulator serves"
            ));
        }
        let target = match parts.get(2).copied().unwrap_or("all") {
            "all" => Target::All,
            "list" => Target::List,
            "item" => Target::Item,
            "object" => Target::Object,
            nav => Target::Nav(nav.to_string()),
        };
        let probability = match parts.get(3) {
            None => 1.0,
            Some(p) => p
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| format!("{text:?}: {p:?} is not a probability between 0 and 1"))?,
        };
        if parts.len() > 4 {
            return Err(format!(
                "{text:?}: expected FAULT:COLLECTION[:TARGET[:PROBABILITY]]"
            ));
        }
        Ok(FaultRule {
            collection: collection.to_string(),
            target,
            id: None,
            fault,
            probability,
        })
    }

    /// Does the rule hit a request at `place`?
    fn hits(&self, place: &Place<'_>) -> bool {
        if place.def.path != self.collection {
            return false;
        }
        if let Some(id) = &self.id
            && place.id != Some(id.as_str())
        {
            return false;
        }
        match &self.target {
            Target::All => true,
            Target::List => place.id.is_none(),
            Target::Item => place.id.is_some() && place.nav.is_none(),
            Target::Nav(n) => place.nav == Some(n.as_str()),
            Target::Object => place.id.is_some(),
        }
    }
}

/// Where a Graph request falls: its collection, object and navigation property.
#[derive(Debug)]
struct Place<'a> {
    def: &'static model::CollectionDef,
    id: Option<&'a str>,
    nav: Option<&'a str>,
}

fn place(path_and_query: &str) -> Option<Place<'_>> {
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query, |(p, _)| p)
        .trim_matches('/');
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let def = graph::collection_of(&segs)?;
    let depth = def.path.split('/').count();
    Some(Place {
        def,
        id: segs.get(depth).copied(),
        nav: segs.get(depth + 1).copied(),
    })
}

/// How an expanded navigation collection comes back on a read by id. Graph documents the
/// navigation collections (`/{id}/settings`) as paged lists; whether it pages inside `$expand`
/// it does not say (for directory objects it documents a silent cap of 20), so the simulator
/// can do each and the client must be right under all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ItemExpansion {
    /// At most `nav_page_size` items and `<property>@odata.nextLink` to the rest.
    #[default]
    Paged,
    /// Every item, no link.
    Whole,
    /// At most `nav_page_size` items and no link: silently cut short.
    Truncated,
}

/// Who may get a token.
#[derive(Clone, Default)]
pub struct SimAuth {
    /// Only this client id (any when `None`).
    pub client_id: Option<String>,
    /// Only this client secret (any non-empty one when `None`).
    pub client_secret: Option<String>,
    /// DER of the registered certificate: client assertions must be signed by its key.
    pub certificate: Option<Vec<u8>>,
    /// Lifetime of issued tokens.
    pub token_lifetime: Duration,
    /// `expires_in` of the token response as sent, instead of `token_lifetime` in seconds
    /// (tests of clients facing odd token endpoints: `1e30`, `"soon"`, `-1`); the tokens
    /// still expire after `token_lifetime`.
    pub expires_in: Option<Value>,
}

impl std::fmt::Debug for SimAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimAuth")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "certificate",
                &self
                    .certificate
                    .as_ref()
                    .map(|c| format!("{} bytes", c.len())),
            )
            .field("token_lifetime", &self.token_lifetime)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub faults: Faults,
    pub auth: SimAuth,
    /// Largest page of a collection list.
    pub page_size: usize,
    /// Largest page of a navigation collection (`/settings`), and of a collection expanded
    /// on a read by id (see `item_expansion`).
    pub nav_page_size: usize,
    /// How collections expanded on a read by id come back.
    pub item_expansion: ItemExpansion,
    /// Page collections expanded on list items (`?$expand=assignments`) at this size, with
    /// `<property>@odata.nextLink` on the item; `None`: whole.
    pub list_expansion_page_size: Option<usize>,
    /// Page collections expanded inside the items of a navigation collection
    /// (`presentationValues` of `definitionValues`, `scheduledActionConfigurations`) at this
    /// size, with `<property>@odata.nextLink` on the item; `None`: whole.
    pub nested_page_size: Option<usize>,
    /// Largest `$top` the directory collections `users` and `groups` honour (Graph: 999);
    /// elsewhere `$top` only makes pages smaller than `page_size`.
    pub max_top: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            faults: Faults::default(),
            auth: SimAuth {
                token_lifetime: Duration::from_secs(3599),
                ..SimAuth::default()
            },
            page_size: 100,
            nav_page_size: 25,
            item_expansion: ItemExpansion::Paged,
            list_expansion_page_size: None,
            nested_page_size: None,
            max_top: 999,
        }
    }
}

/// Counters, served at `GET /_sim/stats`.
#[derive(Debug, Default)]
pub struct SimStats {
    pub http_requests: AtomicU64,
    pub graph_requests: AtomicU64,
    pub batches: AtomicU64,
    pub throttled: AtomicU64,
    pub faults: AtomicU64,
    /// Tokens issued.
    pub tokens: AtomicU64,
    /// Requests to the token endpoint, answered or not.
    pub token_requests: AtomicU64,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The simulator's state.
pub struct Sim {
    pub config: SimConfig,
    tenant: RwLock<Tenant>,
    rng: Mutex<fastrand::Rng>,
    bucket: Mutex<Bucket>,
    tokens: Mutex<HashMap<String, Instant>>,
    /// Ids of `faults.vanish` already listed once.
    vanished: Mutex<std::collections::HashSet<String>>,
    /// Indexes of the `expire` rules that have hit (each hits once).
    spent: Mutex<std::collections::HashSet<usize>>,
    pub stats: SimStats,
}

/// A Graph response before it becomes HTTP.
#[derive(Debug, Clone)]
pub struct SimResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl SimResponse {
    fn json(status: u16, body: Value) -> SimResponse {
        SimResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn no_content() -> SimResponse {
        SimResponse {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// Graph's error body: `{"error": {"code", "message", "innerError": {"date", "request-id",
/// "client-request-id"}}}`.
pub fn error_body(code: &str, message: &str) -> Value {
    let rid = crate::graph::auth::random_id();
    json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": crate::graph::now_utc(),
                "request-id": rid,
                "client-request-id": rid,
            }
        }
    })
}

fn error(status: u16, code: &str, message: &str) -> SimResponse {
    SimResponse::json(status, error_body(code, message))
}

/// The error Graph answers with `status`, as Intune or Entra (directory) writes it.
fn status_error(status: u16, directory: bool) -> SimResponse {
    match (status, directory) {
        (401, _) => error(
            401,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
        ),
        (403, true) => error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        (403, false) => error(
            403,
            "Forbidden",
            "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementConfiguration.Read.All, DeviceManagementConfiguration.ReadWrite.All",
        ),
        (429, _) => error(429, "TooManyRequests", "Please retry again later."),
        (500, _) => error(
            500,
            "InternalServerError",
            "An internal server error has occurred.",
        ),
        (502, _) => error(502, "BadGateway", "Bad gateway."),
        (503, _) => error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry later.",
        ),
        (504, _) => error(504, "GatewayTimeout", "The gateway timed out."),
        (s, _) => error(s, "BadRequest", "The request was refused."),
    }
}

impl Sim {
    pub fn new(tenant: Tenant, config: SimConfig) -> Sim {
        let capacity = config.faults.requests_per_second.unwrap_or(0.0).max(1.0);
        Sim {
            rng: Mutex::new(fastrand::Rng::with_seed(config.faults.seed)),
            bucket: Mutex::new(Bucket {
                tokens: capacity,
                last: Instant::now(),
            }),
            config,
            tenant: RwLock::new(tenant),
            tokens: Mutex::new(HashMap::new()),
            vanished: Mutex::new(std::collections::HashSet::new()),
            spent: Mutex::new(std::collections::HashSet::new()),
            stats: SimStats::default(),
        }
    }

    /// Read access to the tenant (tests).
    pub fn tenant(&self) -> std::sync::RwLockReadGuard<'_, Tenant> {
        self.tenant.read().unwrap_or_else(|e| e.into_inner())
    }

    fn tenant_mut(&self) -> std::sync::RwLockWriteGuard<'_, Tenant> {
        self.tenant.write().unwrap_or_else(|e| e.into_inner())
    }

    fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.rng.lock().unwrap_or_else(|e| e.into_inner()).f64() < p
    }

    /// Take one request from the budget, or say how long until there is one.
    fn admit(&self) -> Result<(), Duration> {
        let Some(rate) = self.config.faults.requests_per_second else {
            return Ok(());
        };
        let capacity = rate.max(1.0);
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(capacity);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }

    /// Is `id` (one of `faults.vanish`) gone: listed once already?
    pub(crate) fn vanished(&self, id: &str) -> bool {
        self.config.faults.vanish.iter().any(|v| v == id)
            && self
                .vanished
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(id)
    }

    /// Note that `id` was listed (it vanishes from now on when it is one of `faults.vanish`).
    pub(crate) fn listed(&self, id: &str) {
        if self.config.faults.vanish.iter().any(|v| v == id) {
            self.vanished
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_string());
        }
    }

    /// The throttle bound: the fewest Graph requests that read the whole tenant under this
    /// simulator's own rules (the same functions serve the requests: page sizes, what a list
    /// may expand and leaves out, how expansions are paged), and the seconds they take at the
    /// request budget. For each object whose list entry leaves something out, the cheaper of
    /// one read by id expanding every missing navigation property (with their further pages)
    /// and reading each missing navigation collection on its own.
    pub fn bound(&self) -> Value {
        let t = self.tenant();
        let mut requests = 0usize;
        let mut detail = serde_json::Map::new();
        for def in COLLECTIONS {
            let coll = t.coll(def.path);
            let size = graph::list_page_size(self, def, def.max_top().map(|_| self.config.max_top));
            let mut n = coll.len().div_ceil(size).max(1);
            for id in &coll.order {
                n += graph::object_reads(self, def, &coll.objs[id]);
            }
            detail.insert(def.path.to_string(), json!(n));
            requests += n;
        }
        let rate = self.config.faults.requests_per_second;
        json!({
            "requests": requests,
            "requests_per_second": rate,
            "seconds": rate.map(|r| requests as f64 / r),
            "page_size": self.config.page_size,
            "nav_page_size": self.config.nav_page_size,
            "per_collection": detail,
            "explanation": "fewest Graph requests that read every collection under the simulator's rules: list pages (with the $expand lists allow, $top up to max_top on users and groups) and the further pages of collections expanded on list items; for each object whose list entry leaves something out, the cheaper of one read by id expanding every missing navigation property and reading each missing navigation collection on its own, with their further pages and those of nested expansions; a $batch request counts each of its requests. seconds = requests / requests_per_second."
        })
    }

    /// The counters as served at `GET /_sim/stats`.
    pub fn stats_json(&self) -> Value {
        let s = &self.stats;
        json!({
            "http_requests": s.http_requests.load(Ordering::Relaxed),
            "graph_requests": s.graph_requests.load(Ordering::Relaxed),
            "batches": s.batches.load(Ordering::Relaxed),
            "throttled": s.throttled.load(Ordering::Relaxed),
            "faults": s.faults.load(Ordering::Relaxed),
            "tokens": s.tokens.load(Ordering::Relaxed),
            "token_requests": s.token_requests.load(Ordering::Relaxed),
        })
    }

    fn issue_token(&self) -> String {
        let token = format!(
            "sim.{}.{}",
            crate::graph::auth::random_id(),
            fastrand::u64(..)
        );
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                token.clone(),
                Instant::now() + self.config.auth.token_lifetime,
            );
        self.stats.tokens.fetch_add(1, Ordering::Relaxed);
        token
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), SimResponse> {
        let Some(value) = bearer(headers) else {
            return Err(error(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty.",
            ));
        };
        match self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(value)
        {
            Some(exp) if Instant::now() < *exp => Ok(()),
            Some(_) => Err(error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            )),
            None => Err(error(
                401,
                "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed.",
            )),
        }
    }

    /// Let an `expire` rule that hits a request to `path_and_query` (below the version) expire
    /// the token it carries.
    fn expire_token(&self, headers: &HeaderMap, path_and_query: &str) {
        let rules = &self.config.faults.rules;
        if !rules.iter().any(|r| r.fault == Fault::Expire) {
            return;
        }
        let Some(token) = bearer(headers) else {
            return;
        };
        let Some(p) = place(path_and_query) else {
            return;
        };
        for (i, rule) in rules.iter().enumerate() {
            if rule.fault != Fault::Expire
                || !rule.hits(&p)
                || self
                    .spent
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .contains(&i)
                || !self.chance(rule.probability)
            {
                continue;
            }
            self.spent
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(i);
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(exp) = tokens.get_mut(token) {
                *exp = Instant::now();
                self.stats.faults.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("fault: a token expires");
            }
        }
    }

    /// A 503, with `Retry-After` when configured (seconds or an HTTP-date).
    fn unavailable(&self) -> SimResponse {
        let mut r = error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry later.",
        );
        if let Some(secs) = self.config.faults.retry_after_503 {
            let value = if self.chance(0.5) {
                // Whole seconds: round up so the client never waits less than asked.
                let at = std::time::SystemTime::now() + Duration::from_secs(secs + 1);
                httpdate::fmt_http_date(at)
            } else {
                secs.to_string()
            };
            r.headers.push(("Retry-After".into(), value));
        }
        r
    }

    /// One Graph request (plain or inside a `$batch`), with the Graph-level faults: 403 on a
    /// forbidden collection, the request budget and random 503s.
    pub fn graph_request(
        &self,
        method: &Method,
        version: &str,
        path_and_query: &str,
        body: Option<Value>,
        base: &str,
        actor: Option<&str>,
    ) -> SimResponse {
        self.stats.graph_requests.fetch_add(1, Ordering::Relaxed);
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let path = path.trim_matches('/');
        let faults = &self.config.faults;
        if let Some(f) = faults
            .forbid
            .iter()
            .find(|f| path == f.as_str() || path.starts_with(&format!("{f}/")))
        {
            let directory = model::COLLECTIONS
                .iter()
                .find(|c| c.path == f)
                .is_some_and(|c| c.directory);
            return status_error(403, directory);
        }
        if let Some(p) = (!faults.rules.is_empty()).then(|| place(path)).flatten() {
            for rule in &faults.rules {
                if let Fault::Status(status) = rule.fault
                    && rule.hits(&p)
                    && self.chance(rule.probability)
                {
                    self.stats.faults.fetch_add(1, Ordering::Relaxed);
                    return if status == 503 {
                        self.unavailable()
                    } else if status == 404 {
                        graph::not_found(p.def, p.id.unwrap_or(""))
                    } else {
                        status_error(status, p.def.directory)
                    };
                }
            }
        }
        if let Err(wait) = self.admit() {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            let mut r = error(429, "TooManyRequests", "Please retry again later.");
            if let Some(inner) = r
                .body
                .as_mut()
                .and_then(|b| b.pointer_mut("/error/innerError"))
                .and_then(Value::as_object_mut)
            {
                inner.insert("code".into(), json!("429"));
                inner.insert("status".into(), json!("429"));
                inner.insert("message".into(), json!("Please retry after"));
            }
            if !path.starts_with("identity/conditionalAccess") {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                r.headers.push(("Retry-After".into(), secs.to_string()));
            }
            return r;
        }
        if self.chance(faults.error_503) {
            self.stats.faults.fetch_add(1, Ordering::Relaxed);
            return self.unavailable();
        }
        graph::serve(self, method, version, path, query, body, base, actor)
    }
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The router of a simulator.
pub fn app(sim: Arc<Sim>) -> Router {
    use axum::routing::{get, post};
    Router::new()
        .route("/_sim/bound", get(sim_bound))
        .route("/_sim/stats", get(sim_stats))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{version}/$batch", post(batch))
        .route(
            "/{version}/{*path}",
            get(graph_http)
                .post(graph_http)
                .patch(graph_http)
                .delete(graph_http),
        )
        .with_state(sim)
}

async fn sim_bound(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.bound()).into_response()
}

async fn sim_stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.stats_json()).into_response()
}

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn to_http(r: SimResponse) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let resp = match r.body {
        Some(b) => builder
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => builder.body(Body::empty()),
    };
    resp.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The fault rules of `kind` (drop, truncate) that hit any of `paths` (Graph paths below the
/// version, with their query), by the dice.
fn rule_hits(sim: &Sim, kind: Fault, paths: &[String]) -> bool {
    let rules: Vec<&FaultRule> = sim
        .config
        .faults
        .rules
        .iter()
        .filter(|r| r.fault == kind)
        .collect();
    if rules.is_empty() {
        return false;
    }
    paths.iter().filter_map(|p| place(p)).any(|p| {
        rules
            .iter()
            .any(|r| r.hits(&p) && sim.chance(r.probability))
    })
}

/// A response that never comes: the connection closes after the status line.
fn dropped() -> Response {
    tracing::debug!("fault: dropping the connection");
    let stream = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated dropped connection",
        ))
    });
    Response::builder()
        .status(200)
        .header("content-length", "1024")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// HTTP-level faults of one request to Graph (holding the Graph requests `paths`): latency,
/// then a dropped connection or (for `$batch`) a 503 of the whole batch.
async fn http_faults(sim: &Sim, is_batch: bool, paths: &[String]) -> Option<Response> {
    sim.stats.http_requests.fetch_add(1, Ordering::Relaxed);
    let f = &sim.config.faults;
    if !f.latency.is_zero() {
        tokio::time::sleep(f.latency).await;
    }
    if sim.chance(f.drop) || rule_hits(sim, Fault::Drop, paths) {
        sim.stats.faults.fetch_add(1, Ordering::Relaxed);
        return Some(dropped());
    }
    if is_batch && sim.chance(f.error_503) {
        sim.stats.faults.fetch_add(1, Ordering::Relaxed);
        return Some(to_http(sim.unavailable()));
    }
    None
}

/// Cut a response's body in half (keeping it well framed), when the dice or a rule for one of
/// `paths` say so.
fn maybe_truncate(sim: &Sim, r: SimResponse, paths: &[String]) -> Response {
    if r.body.is_some()
        && (sim.chance(sim.config.faults.truncate) || rule_hits(sim, Fault::Truncate, paths))
    {
        sim.stats.faults.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("fault: truncating a body");
        let text = r.body.as_ref().map(Value::to_string).unwrap_or_default();
        let mut cut = text.len() / 2;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        return Response::builder()
            .status(r.status)
            .header("content-type", "application/json")
            .body(Body::from(text[..cut].to_string()))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    to_http(r)
}

fn actor(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-sim-actor")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn graph_http(
    State(sim): State<Arc<Sim>>,
    Path((version, _path)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    let rest = pq
        .strip_prefix(&format!("/{version}/"))
        .unwrap_or(pq)
        .to_string();
    let paths = [rest.clone()];
    if let Some(r) = http_faults(&sim, false, &paths).await {
        return r;
    }
    sim.expire_token(&headers, &rest);
    if let Err(r) = sim.check_token(&headers) {
        return to_http(r);
    }
    if version != "beta" && version != "v1.0" {
        return to_http(error(
            400,
            "BadRequest",
            &format!("Invalid version: {version}"),
        ));
    }
    let body = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(e) => {
                return to_http(error(400, "BadRequest", &format!("Invalid JSON body: {e}")));
            }
        }
    };
    let base = base_url(&headers);
    let actor = actor(&headers);
    let r = sim.graph_request(&method, &version, &rest, body, &base, actor.as_deref());
    maybe_truncate(&sim, r, &paths)
}

async fn batch(
    State(sim): State<Arc<Sim>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body).ok();
    let paths: Vec<String> = parsed
        .as_ref()
        .and_then(|v| v.get("requests"))
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r.get("url").and_then(Value::as_str))
                .map(|u| u.trim_start_matches('/').to_string())
                .collect()
        })
        .unwrap_or_default();
    if let Some(r) = http_faults(&sim, true, &paths).await {
        return r;
    }
    if let Err(r) = sim.check_token(&headers) {
        return to_http(r);
    }
    sim.stats.batches.fetch_add(1, Ordering::Relaxed);
    let Some(v) = parsed else {
        return to_http(error(400, "BadRequest", "Invalid batch payload format."));
    };
    let Some(requests) = v.get("requests").and_then(Value::as_array) else {
        return to_http(error(400, "BadRequest", "Invalid batch payload format."));
    };
    if requests.len() > 20 {
        return to_http(error(
            400,
            "BadRequest",
            "Maximum number of requests allowed in a batch is 20.",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for r in requests {
        let id = r.get("id").and_then(Value::as_str).unwrap_or("");
        if id.is_empty() || !seen.insert(id.to_string()) {
            return to_http(error(
                400,
                "BadRequest",
                "Each request in a batch needs a unique id.",
            ));
        }
    }
    let base = base_url(&headers);
    let actor = actor(&headers);
    let mut responses = Vec::with_capacity(requests.len());
    for r in requests {
        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
        let method = r
            .get("method")
            .and_then(Value::as_str)
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok());
        let url = r.get("url").and_then(Value::as_str);
        let resp = match (method, url) {
            (Some(m), Some(u)) => {
                if u.starts_with("http://") || u.starts_with("https://") {
                    error(
                        400,
                        "BadRequest",
                        "Batch request urls must be relative to the version.",
                    )
                } else {
                    let u = u.trim_start_matches('/');
                    // The workload behind Graph checks the token it is handed again.
                    sim.expire_token(&headers, u);
                    match sim.check_token(&headers) {
                        Ok(()) => sim.graph_request(
                            &m,
                            &version,
                            u,
                            r.get("body").cloned(),
                            &base,
                            actor.as_deref(),
                        ),
                        Err(refused) => {
                            sim.stats.graph_requests.fetch_add(1, Ordering::Relaxed);
                            refused
                        }
                    }
                }
            }
            _ => error(
                400,
                "BadRequest",
                "A batch request needs a method and a url.",
            ),
        };
        let mut hdrs = serde_json::Map::new();
        if resp.body.is_some() {
            hdrs.insert("Content-Type".into(), json!("application/json"));
        }
        for (k, v) in &resp.headers {
            hdrs.insert(k.clone(), json!(v));
        }
        let mut entry = json!({"id": id, "status": resp.status, "headers": hdrs});
        if let Some(b) = resp.body {
            entry["body"] = b;
        }
        responses.push(entry);
    }
    // Graph answers the requests of a batch in any order.
    sim.rng
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .shuffle(&mut responses);
    maybe_truncate(
        &sim,
        SimResponse::json(200, json!({ "responses": responses })),
        &paths,
    )
}

#[derive(serde::Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    scope: Option<String>,
}

/// Compare two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let da = ring::digest::digest(&ring::digest::SHA256, a.as_bytes());
    let db = ring::digest::digest(&ring::digest::SHA256, b.as_bytes());
    da.as_ref()
        .iter()
        .zip(db.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn aad_error(status: u16, code: &str, aadsts: u32, description: &str) -> Response {
    let id = crate::graph::auth::random_id();
    let body = json!({
        "error": code,
        "error_description": format!("AADSTS{aadsts}: {description}\r\nTrace ID: {id}\r\nCorrelation ID: {id}\r\nTimestamp: {}", crate::graph::now_utc()),
        "error_codes": [aadsts],
        "timestamp": crate::graph::now_utc(),
        "trace_id": id,
        "correlation_id": id,
    });
    to_http(SimResponse::json(status, body))
}

/// The fault of the `n`-th token request (from 0) in a [`TokenOutage`], if any.
fn token_fault(sim: &Sim, n: u64) -> Option<Response> {
    let outage = sim.config.faults.token_outage.as_ref()?;
    let i = usize::try_from(n.checked_sub(outage.after)?).ok()?;
    let fault = *outage.faults.get(i)?;
    if fault == Fault::Expire {
        // Means nothing to the token endpoint: answered as usual.
        return None;
    }
    sim.stats.faults.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(?fault, "fault: the token endpoint fails");
    Some(match fault {
        Fault::Expire => return None,
        Fault::Drop => dropped(),
        Fault::Truncate => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"token_type":"Bearer","expires_in":3599,"ext_expi"#,
            ))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Fault::Status(400) => aad_error(
            400,
            "invalid_request",
            90002,
            "Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
        ),
        Fault::Status(401) => aad_error(
            401,
            "invalid_client",
            7000222,
            "The provided client secret keys for app are expired. Visit the Azure portal to create new keys for your app.",
        ),
        Fault::Status(429) => aad_error(
            429,
            "temporarily_unavailable",
            90024,
            "A transient error has occurred. Try again.",
        ),
        Fault::Status(500) => aad_error(
            500,
            "server_error",
            50000,
            "There was an error issuing a token or an issue with our sign-in service.",
        ),
        Fault::Status(s) => aad_error(
            s,
            "temporarily_unavailable",
            90033,
            "The Microsoft Online Directory Service (MSODS) isn't available.",
        ),
    })
}

async fn token(
    State(sim): State<Arc<Sim>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<TokenForm>,
) -> Response {
    let n = sim.stats.token_requests.fetch_add(1, Ordering::Relaxed);
    if let Some(r) = token_fault(&sim, n) {
        return r;
    }
    let auth = &sim.config.auth;
    if form.grant_type.as_deref() != Some("client_credentials") {
        return aad_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if form
        .scope
        .as_deref()
        .is_none_or(|s| !s.ends_with("/.default"))
    {
        return aad_error(
            400,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
        );
    }
    let Some(client_id) = form.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return aad_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    if auth.client_id.as_deref().is_some_and(|c| c != client_id) {
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory."),
        );
    }
    match (&form.client_secret, &form.client_assertion) {
        (Some(secret), None) => {
            if auth.certificate.is_some() && auth.client_secret.is_none() {
                return aad_error(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided.",
                );
            }
            let ok = match &auth.client_secret {
                Some(expected) => same_secret(expected, secret),
                None => !secret.is_empty(),
            };
            if !ok {
                return aad_error(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                );
            }
        }
        (None, Some(assertion)) => {
            if form.client_assertion_type.as_deref()
                != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            {
                return aad_error(
                    400,
                    "invalid_request",
                    50027,
                    "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
                );
            }
            let audience = format!("{}/{tenant}/oauth2/v2.0/token", base_url(&headers));
            if let Err(why) = graph::verify_assertion(
                assertion,
                auth.certificate.as_deref(),
                client_id,
                &audience,
            ) {
                return aad_error(401, "invalid_client", 700027, &why);
            }
        }
        _ => {
            return aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            );
        }
    }
    let lifetime = auth.token_lifetime.as_secs().max(1);
    let expires_in = auth.expires_in.clone().unwrap_or(json!(lifetime));
    to_http(SimResponse::json(
        200,
        json!({
            "token_type": "Bearer",
            "expires_in": expires_in,
            "ext_expires_in": lifetime,
            "access_token": sim.issue_token(),
        }),
    ))
}

/// Serve `sim` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, sim: Arc<Sim>) -> std::io::Result<()> {
    axum::serve(listener, app(sim)).await
}

/// A simulator running on its own thread and runtime, on a free local port (tests, demo,
/// benchmarks). It stops when the process ends.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub sim: Arc<Sim>,
}

impl Running {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Start `sim` in the background.
pub fn spawn(sim: Sim) -> std::io::Result<Running> {
    let sim = Arc::new(sim);
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let served = sim.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tenantgate-sim")
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("tenantgate-sim".into())
        .spawn(move || {
            rt.block_on(async move {
                match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(l) => {
                        if let Err(e) = serve(l, served).await {
                            tracing::error!("simulator stopped: {e}");
                        }
                    }
                    Err(e) => tracing::error!("simulator cannot listen: {e}"),
                }
            });
        })?;
    Ok(Running { addr, sim })
}
