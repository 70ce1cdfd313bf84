//! The command line: clap definitions, one file per subcommand, exit codes.

mod demo;
pub mod exit;
mod export;
mod fmt;
mod hooks;
mod import;
mod init;
mod lint;
mod output;
mod rules;
mod sim;
mod workspace;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// TenantGate: Microsoft 365 tenant policies as code, reviewed in Git.
#[derive(Debug, Parser)]
#[command(name = "tenantgate", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 clean, 1 findings or an incomplete import or export, 2 usage, configuration or runtime error."
)]
pub struct Cli {
    /// Run as if TenantGate was started in DIR (like git -C).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a policy repository: git init (when needed) and a commented tenantgate.toml.
    Init(init::InitArgs),
    /// Adopt an existing export (IntuneCD, IntuneManagement, Graph JSON) into tenants/ENV/.
    Import(import::ImportArgs),
    /// Rewrite policy files in canonical form (script side files are never touched).
    Fmt(fmt::FmtArgs),
    /// Build a demo policy repository from the built-in DEV and PROD tenants.
    Demo(demo::DemoArgs),
    /// Read a tenant over Microsoft Graph into tenants/ENV/ and commit it.
    Export(export::ExportArgs),
    /// A simulated tenant with a Graph-shaped API (tests, demos, benchmarks).
    Sim(Box<sim::SimArgs>),
    /// Check policies with the rules: the worktree, a revision, the index or a pull request.
    Lint(lint::LintArgs),
    /// List, explain and test lint rules.
    Rules(rules::RulesArgs),
    /// Install the pre-commit hook (lint of the staged policies).
    Hooks(hooks::HooksArgs),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::ERROR
            } else {
                exit::CLEAN
            });
        }
    };
    init_logging();
    if let Some(dir) = &cli.chdir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        eprintln!("error: cannot change to {}: {e}", dir.display());
        return ExitCode::from(exit::ERROR);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Init(args) => init::run(args, &mut out),
        Command::Import(args) => import::run(args, &mut out),
        Command::Fmt(args) => fmt::run(args, &mut out),
        Command::Demo(args) => demo::run(args, &mut out),
        Command::Export(args) => export::run(args, &mut out),
        Command::Sim(args) => sim::run(*args, &mut out),
        Command::Lint(args) => lint::run(args, &mut out),
        Command::Rules(args) => rules::run(args, &mut out),
        Command::Hooks(args) => hooks::run(args, &mut out),
    };
    let _ = out.flush();
    match result {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`tenantgate lint | head`): nothing more to say, as with any
        // Unix tool; the exit code still says the output was cut short.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(exit::ERROR)
        }
        Err(e) => {
            eprintln!("error: {}", output::error_chain(&e));
            ExitCode::from(exit::ERROR)
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::color_stderr())
        .try_init();
}
