//! `tenantgate demo [--dir DIR]`: a policy repository built from the built-in tenants.

use super::output::short;
use crate::config::CONFIG_FILE;
use crate::config::Environment;
use crate::graph::{
    self,
    auth::{Credential, Secret},
    export::Silent,
};
use crate::policy::KINDS;
use crate::policy::env_dir;
use crate::seed;
use crate::sim::{self, Sim, SimAuth, SimConfig, Tenant};
use crate::snapshot::{self, FileOutcome, KindOutcome, Report};
use crate::store::{CommitOutcome, Store};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Marks a folder as made by `tenantgate demo` (in its Git directory), with the references
/// the demo left: a second run replaces the folder only while they are unchanged and the
/// worktree is clean, so nothing a user did there is lost.
const MARKER: &str = "tenantgate-demo";
const MARKER_HEAD: &str = "made by `tenantgate demo`; the next `tenantgate demo` replaces this repository only while its references are these and its worktree is clean:\n";

/// The marker's text for the references of `store`.
fn marker_text(store: &Store) -> anyhow::Result<String> {
    let mut text = MARKER_HEAD.to_string();
    for (name, id) in store.references()? {
        text.push_str(&format!("{name} {id}\n"));
    }
    Ok(text)
}

/// Why the earlier demo in `dir` may not be replaced, if it may not.
fn changed_since_demo(dir: &Path) -> anyhow::Result<Option<String>> {
    let recorded = std::fs::read_to_string(dir.join(".git").join(MARKER)).unwrap_or_default();
    let Some(refs) = recorded.strip_prefix(MARKER_HEAD) else {
        return Ok(Some(
            "it was made by an unfinished or older demo, so TenantGate cannot tell whether you changed it".into(),
        ));
    };
    let store = Store::discover(dir)?;
    let now = marker_text(&store)?;
    let now = &now[MARKER_HEAD.len()..];
    if now != refs {
        let was: std::collections::BTreeSet<&str> = refs.lines().collect();
        let is: std::collections::BTreeSet<&str> = now.lines().collect();
        let mut names: Vec<&str> = is
            .symmetric_difference(&was)
            .filter_map(|l| l.split(' ').next())
            .collect();
        names.dedup();
        return Ok(Some(format!(
            "its references changed since the demo made them: {}",
            names.join(", ")
        )));
    }
    let dirty = store.uncommitted_under("")?;
    if !dirty.is_empty() {
        let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
        let more = if dirty.len() > 5 {
            format!(" and {} more", dirty.len() - 5)
        } else {
            String::new()
        };
        return Ok(Some(format!(
            "it has uncommitted or untracked files: {}{more}",
            shown.join(", ")
        )));
    }
    Ok(None)
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where to build the demo repository. An existing folder must be empty, or an earlier demo
    /// with no changes since (no new commits, branches or uncommitted files), which is replaced.
    #[arg(long, default_value = "tenantgate-demo", value_name = "DIR")]
    pub dir: PathBuf,
}

/// The demo's app registration in the simulated tenants.
const DEMO_CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
/// Environment variable the demo configuration names for the client secret.
const DEMO_SECRET_ENV: &str = "TENANTGATE_DEMO_SECRET";
/// Port of each simulated tenant in the demo configuration (`tenantgate sim serve`).
const DEMO_PORTS: &[(&str, u16)] = &[("dev", 8401), ("prod", 8402)];

fn demo_port(env: &str) -> u16 {
    DEMO_PORTS
        .iter()
        .find(|(e, _)| *e == env)
        .map_or(8400, |(_, p)| *p)
}

fn demo_config() -> String {
    let mut s = String::from(
        "# TenantGate demo: two simulated tenants of Contoso Pharma.\n# See docs/repository-format.md and docs/graph.md for every key.\nformat = 1\n",
    );
    for (env, tenant) in seed::ENVIRONMENTS {
        let port = demo_port(env);
        s.push_str(&format!(
            "\n# Start this tenant with: tenantgate sim serve --builtin {env} --port {port}\n[environments.{env}]\ntenant = \"{tenant}\"\nclient_id = \"{DEMO_CLIENT_ID}\"\nclient_secret_env = \"{DEMO_SECRET_ENV}\"   # any value: the simulator accepts any secret\ngraph_url = \"http://127.0.0.1:{port}\"\nlogin_url = \"http://127.0.0.1:{port}\"\n"
        ));
    }
    s
}

fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!("{} exists and is not a folder", dir.display());
        }
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        if entries.next().is_some() {
            if !dir.join(".git").join(MARKER).is_file() {
                bail!(
                    "{} is not empty and not an earlier demo; choose another folder with --dir",
                    dir.display()
                );
            }
            if let Some(why) = changed_since_demo(dir)? {
                bail!(
                    "{} is an earlier demo, but {why}; it is left as it is. Remove it yourself (`rm -rf {}`) or choose another folder with --dir",
                    dir.display(),
                    dir.display()
                );
            }
            for e in std::fs::read_dir(dir)? {
                let p = e?.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                        .with_context(|| format!("removing {}", p.display()))?;
                } else {
                    std::fs::remove_file(&p)
                        .with_context(|| format!("removing {}", p.display()))?;
                }
            }
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(())
}

pub fn run(args: DemoArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    prepare_dir(&args.dir)?;
    let store = Store::init(&args.dir)?;
    // Until the demo is finished the marker records nothing: a later run then refuses to
    // replace the folder rather than guess.
    std::fs::write(
        store.git_dir().join(MARKER),
        "made by an unfinished `tenantgate demo`\n",
    )?;
    let root = store
        .workdir()
        .context("the demo repository has a worktree")?
        .to_path_buf();
    writeln!(out, "TenantGate demo in {}\n", args.dir.display())?;

    let branch = store.head_branch()?;
    let config = demo_config();
    let blob = store.write_blob(config.as_bytes())?;
    let empty = store.empty_tree();
    let tree = store.edit_tree(empty, &[(CONFIG_FILE.to_string(), Some((blob, false)))])?;
    let CommitOutcome::Committed(first) = store.commit(
        &branch,
        "tenantgate: init\n\nCreates tenantgate.toml for the demo tenants.\n",
        tree,
        None,
    )?
    else {
        bail!("the demo configuration was not committed");
    };
    store.checkout_prefixes(empty, tree, &[CONFIG_FILE.to_string()])?;
    writeln!(
        out,
        "1. Initialised a policy repository with {CONFIG_FILE} ({}).",
        short(&first.to_string())
    )?;

    let reports = export_all(&store, out)?;

    writeln!(out)?;
    let incomplete = incomplete(&reports);
    for (env, report) in &reports {
        let text = scan(&store, env)?;
        writeln!(
            out,
            "   {}: {} secret placeholder(s), {} unresolved reference(s) kept as @…:?<id> for lint to report.",
            env_dir(env),
            text.secrets,
            text.unresolved
        )?;
        let _ = report;
    }
    let linted = crate::lint::lint(
        &store,
        &crate::lint::Request::new(crate::lint::Input::Worktree),
    )?;
    let counts = linted.counts();
    writeln!(
        out,
        "\n{}. Linted both tenants with the built-in rules: {} error(s), {} warning(s), among them the seed's intentional defects (dangling group, names, break-glass exclusion, disk encryption).",
        seed::ENVIRONMENTS.len() + 2,
        counts.error,
        counts.warning
    )?;
    std::fs::write(store.git_dir().join(MARKER), marker_text(&store)?)
        .context("writing the demo marker")?;
    writeln!(out, "\nWhere to look:")?;
    writeln!(out, "  cd {}", root.display())?;
    writeln!(
        out,
        "  git log --stat                          # one commit per export, with Tenant: and Source: trailers"
    )?;
    writeln!(
        out,
        "  ls tenants/dev                          # one folder per kind, one canonical JSON file per policy"
    )?;
    writeln!(
        out,
        "  cat tenants/dev/.tenantgate/state.json  # which tenant object each file is"
    )?;
    writeln!(
        out,
        "  git diff --no-index tenants/prod tenants/dev   # what DEV has that PROD does not yet"
    )?;
    writeln!(
        out,
        "  tenantgate lint --env dev               # each finding with its file, line and rule"
    )?;
    writeln!(
        out,
        "  tenantgate sim serve --builtin dev --port {} &   # the DEV tenant again, then:",
        demo_port("dev")
    )?;
    writeln!(
        out,
        "  {DEMO_SECRET_ENV}=any tenantgate export --env dev   # export it yourself: no change"
    )?;
    if let Some(text) = incomplete {
        writeln!(out, "\n{text}")?;
        return Ok(super::exit::FINDINGS);
    }
    Ok(super::exit::CLEAN)
}

/// What the demo must say when an export left kinds as they are in Git (it exits 1 then).
fn incomplete(reports: &[(String, Report)]) -> Option<String> {
    let lines: Vec<String> = reports
        .iter()
        .filter(|(_, r)| r.incomplete)
        .map(|(env, r)| {
            let left: Vec<String> = r
                .kinds
                .iter()
                .filter_map(|k| match &k.outcome {
                    KindOutcome::LeftAsIs(reason) => Some(format!("{} ({reason})", k.kind)),
                    KindOutcome::Replaced => None,
                })
                .collect();
            format!(
                "Incomplete: the {} export left {} as it is in Git because it could not be read completely.",
                env.to_uppercase(),
                left.join(", ")
            )
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Start each built-in tenant in a simulator and export it over HTTP with the real client.
fn export_all(store: &Store, out: &mut dyn Write) -> anyhow::Result<Vec<(String, Report)>> {
    let mut reports = Vec::new();
    for (i, (env, tenant)) in seed::ENVIRONMENTS.iter().enumerate() {
        let secret = format!("demo-secret-{}", crate::graph::auth::random_id());
        let sim = Sim::new(
            Tenant::builtin(env)?,
            SimConfig {
                auth: SimAuth {
                    client_id: Some(DEMO_CLIENT_ID.to_string()),
                    client_secret: Some(secret.clone()),
                    ..SimConfig::default().auth
                },
                ..SimConfig::default()
            },
        );
        let running = sim::spawn(sim).context("starting a simulated tenant")?;
        let environment = Environment {
            name: env.to_string(),
            tenant: Some(tenant.to_string()),
            client_id: Some(DEMO_CLIENT_ID.to_string()),
            client_secret_env: None,
            certificate: None,
            graph_url: running.url(),
            login_url: running.url(),
            kinds: None,
            max_concurrency: crate::config::DEFAULT_MAX_CONCURRENCY,
            requests_per_second: 100,
        };
        let client =
            graph::client_with(&environment, Credential::Secret(Secret::new(secret)), true)?;
        let opts = snapshot::Options {
            env: env.to_string(),
            branch: None,
            no_commit: false,
            tenant: tenant.to_string(),
            verb: "export",
            kinds: None,
            actors: Default::default(),
        };
        let outcome = graph::export::export(store, client, KINDS, &opts, &Silent)
            .with_context(|| format!("exporting the simulated {env} tenant"))?;
        let report = outcome.report;
        let kinds = report
            .kinds
            .iter()
            .filter(|k| k.added + k.changed + k.unchanged + k.renamed > 0)
            .count();
        writeln!(
            out,
            "{}. Exported {} ({tenant}) from a simulated tenant over Microsoft Graph: {} policies over {} kinds, {} Graph requests in {} HTTP requests{}.",
            i + 2,
            env.to_uppercase(),
            report.imported(),
            kinds,
            outcome.stats.graph_requests,
            outcome.stats.http_requests,
            match &report.commit {
                Some(c) => format!(", commit {}", short(c)),
                None => String::new(),
            }
        )?;
        for f in &report.files {
            if let FileOutcome::Skipped { reason, .. } = &f.outcome {
                writeln!(out, "   skipped {}: {reason}", f.origin)?;
            }
        }
        for (kind, d) in &outcome.deleted {
            writeln!(out, "   deleted while reading: {kind} {} ({})", d.id, d.how)?;
        }
        reports.push((env.to_string(), report));
    }
    Ok(reports)
}

struct Scan {
    secrets: usize,
    unresolved: usize,
}

fn scan(store: &Store, env: &str) -> anyhow::Result<Scan> {
    let head = store.head_commit()?.context("the demo has commits")?;
    let tree = store.commit_tree(head)?;
    let mut s = Scan {
        secrets: 0,
        unresolved: 0,
    };
    for f in store.list_files(tree, &env_dir(env))? {
        if !f.path.ends_with(".json") || f.path.starts_with(".tenantgate/") {
            continue;
        }
        let text = String::from_utf8_lossy(&store.read_blob(f.id)?).into_owned();
        s.secrets += text.matches("\"@secret:").count();
        s.unresolved += text
            .match_indices("\"@")
            .filter(|(i, _)| {
                let rest = &text[i + 2..];
                let word_end = rest
                    .find(|c: char| !c.is_ascii_alphabetic())
                    .unwrap_or(rest.len());
                word_end > 0 && rest[word_end..].starts_with(":?")
            })
            .count();
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::KindReport;

    #[test]
    fn an_incomplete_export_is_said_and_fails_the_demo() {
        let clean = Report {
            env: "dev".into(),
            ..Report::default()
        };
        assert_eq!(incomplete(&[("dev".into(), clean.clone())]), None);
        let mut left = KindReport::replaced("settings-catalog");
        left.outcome = KindOutcome::LeftAsIs("403 Forbidden".into());
        let bad = Report {
            env: "prod".into(),
            incomplete: true,
            kinds: vec![KindReport::replaced("groups"), left],
            ..Report::default()
        };
        let text = incomplete(&[("dev".into(), clean), ("prod".into(), bad)]).unwrap();
        assert_eq!(
            text,
            "Incomplete: the PROD export left settings-catalog (403 Forbidden) as it is in Git because it could not be read completely."
        );
    }
}
