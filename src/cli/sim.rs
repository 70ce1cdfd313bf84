//! `tenantgate sim serve`: a simulated tenant on a local port, for trying TenantGate without a
//! tenant, for tests and for benchmarks.

use crate::sim::{FaultRule, Faults, ItemExpansion, Sim, SimAuth, SimConfig, Tenant, TokenOutage};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    #[command(subcommand)]
    pub command: SimCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// Serve a tenant over a Graph-shaped HTTP API until interrupted.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Folder of Graph responses to seed the tenant from (<collection>/<name>.json).
    #[arg(long, value_name = "DIR", required_unless_present = "builtin")]
    pub seed: Option<PathBuf>,
    /// Seed from a built-in demo tenant instead: dev or prod.
    #[arg(long, value_name = "ENV", conflicts_with = "seed")]
    pub builtin: Option<String>,
    /// Grow the tenant to about N policies cloned from the seed's (benchmarks).
    #[arg(long, value_name = "N")]
    pub synthetic: Option<usize>,
    /// Port to listen on (0: any free port; the URL is printed).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Largest page of a collection list.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub page_size: usize,
    /// Largest page of a navigation collection such as a policy's settings.
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub nav_page_size: usize,
    /// Added latency per HTTP request, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Request budget: more Graph requests per second are answered 429.
    #[arg(long, value_name = "RPS")]
    pub throttle: Option<f64>,
    /// Probability of a random 503 per request.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub fail_503: f64,
    /// Send `Retry-After: SECS` on the random 503s (half of them as an HTTP-date).
    #[arg(long, value_name = "SECS")]
    pub retry_after_503: Option<u64>,
    /// Probability of a body cut off half-way.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub truncate: f64,
    /// Probability of a connection closed without a response.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub drop: f64,
    /// Answer 403 on this collection (e.g. deviceManagement/deviceConfigurations); repeatable.
    #[arg(long, value_name = "PATH")]
    pub forbid: Vec<String>,
    /// A fault on chosen requests: FAULT:COLLECTION[:TARGET[:PROBABILITY]], FAULT an HTTP
    /// status, drop, truncate or expire (the first request hit finds its token expired, and
    /// so does every later one with that token), TARGET all, list, item, object or a
    /// navigation property (e.g. 403:deviceManagement/configurationPolicies:settings);
    /// repeatable.
    #[arg(long, value_name = "RULE")]
    pub fault: Vec<String>,
    /// The token endpoint fails for a while: AFTER:FAULT[,FAULT…] answers the first AFTER
    /// token requests, then fails the next ones with the FAULTs in turn (400, 401, 429, 500,
    /// 502, 503, 504, drop or truncate), then answers again (e.g. 1:drop,503,429,500).
    #[arg(long, value_name = "AFTER:FAULTS")]
    pub token_outage: Option<String>,
    /// Make this collection's paging loop (the last page links to the first); repeatable.
    #[arg(long, value_name = "PATH")]
    pub cycle: Vec<String>,
    /// How collections expanded on a read by id come back.
    #[arg(long, value_enum, default_value = "paged")]
    pub item_expansion: ItemExpansionArg,
    /// Page collections expanded on list items (assignments) at N, with a nextLink on the item.
    #[arg(long, value_name = "N")]
    pub list_expansion_page_size: Option<usize>,
    /// Page collections expanded inside navigation items (presentationValues) at N.
    #[arg(long, value_name = "N")]
    pub nested_page_size: Option<usize>,
    /// Seed of the fault generator.
    #[arg(long, default_value_t = 1)]
    pub fault_seed: u64,
    /// Only this client id may sign in.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Only the secret in this environment variable is accepted.
    #[arg(long, value_name = "VAR")]
    pub client_secret_env: Option<String>,
    /// PEM certificate registered on the app: client assertions must be signed by its key.
    #[arg(long, value_name = "PEM")]
    pub certificate: Option<PathBuf>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, default_value_t = 3599, value_name = "SECS")]
    pub token_lifetime: u64,
}

/// `--item-expansion`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ItemExpansionArg {
    /// At most --nav-page-size items and a nextLink to the rest.
    Paged,
    /// Every item.
    Whole,
    /// At most --nav-page-size items and no link (silently cut short).
    Truncated,
}

fn probability(name: &str, p: f64) -> anyhow::Result<f64> {
    if !(0.0..=1.0).contains(&p) {
        bail!("--{name} is a probability between 0 and 1, not {p}");
    }
    Ok(p)
}

pub fn run(args: SimArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let SimCommand::Serve(a) = args.command;
    let mut tenant = match (&a.seed, &a.builtin) {
        (Some(dir), _) => Tenant::from_folder(dir)?,
        (None, Some(env)) => Tenant::builtin(env)?,
        (None, None) => bail!("pass --seed DIR or --builtin dev|prod"),
    };
    if let Some(n) = a.synthetic {
        tenant = tenant.synthetic(n);
    }
    let certificate = match &a.certificate {
        None => None,
        Some(p) => {
            use rustls_pki_types::pem::PemObject;
            let der = rustls_pki_types::CertificateDer::from_pem_file(p)
                .with_context(|| format!("{}: no PEM certificate", p.display()))?;
            Some(der.to_vec())
        }
    };
    let client_secret = match &a.client_secret_env {
        None => None,
        Some(var) => Some(
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .with_context(|| format!("the environment variable {var} is not set"))?,
        ),
    };
    let config = SimConfig {
        faults: Faults {
            seed: a.fault_seed,
            latency: Duration::from_millis(a.latency_ms),
            requests_per_second: a.throttle.filter(|r| *r > 0.0),
            error_503: probability("fail-503", a.fail_503)?,
            retry_after_503: a.retry_after_503,
            truncate: probability("truncate", a.truncate)?,
            drop: probability("drop", a.drop)?,
            forbid: a.forbid.clone(),
            rules: a
                .fault
                .iter()
                .map(|r| FaultRule::parse(r).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<_>>()?,
            cycle: a.cycle.clone(),
            vanish: Vec::new(),
            token_outage: a
                .token_outage
                .as_deref()
                .map(TokenOutage::parse)
                .transpose()
                .map_err(anyhow::Error::msg)?,
        },
        auth: SimAuth {
            client_id: a.client_id.clone(),
            client_secret,
            certificate,
            token_lifetime: Duration::from_secs(a.token_lifetime.max(1)),
            expires_in: None,
        },
        page_size: a.page_size.max(1),
        nav_page_size: a.nav_page_size.max(1),
        item_expansion: match a.item_expansion {
            ItemExpansionArg::Paged => ItemExpansion::Paged,
            ItemExpansionArg::Whole => ItemExpansion::Whole,
            ItemExpansionArg::Truncated => ItemExpansion::Truncated,
        },
        list_expansion_page_size: a.list_expansion_page_size.map(|n| n.max(1)),
        nested_page_size: a.nested_page_size.map(|n| n.max(1)),
        max_top: 999,
    };
    let objects = tenant.count();
    let sim = Arc::new(Sim::new(tenant, config));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind((a.host.as_str(), a.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", a.host, a.port))?;
        let addr = listener.local_addr()?;
        writeln!(
            out,
            "TenantGate simulator on http://{addr} ({objects} objects). Stop with Ctrl-C."
        )?;
        writeln!(out, "bound: {}", sim.bound())?;
        out.flush()?;
        tracing::info!(%addr, "simulator listening");
        tokio::select! {
            r = crate::sim::serve(listener, sim.clone()) => r.context("serving"),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })?;
    Ok(super::exit::CLEAN)
}
