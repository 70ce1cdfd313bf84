//! `tenantgate lint [--env ENV] [--rev R | --staged] [--base B]`.

use crate::lint::{FailOn, Input, MAX_THREADS, Request, Severity};
use crate::report::{self, Format};
use crate::store::Store;
use anyhow::Context;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// Annotated snippets of the files, then a summary.
    Text,
    /// Findings and summary as JSON.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// A Markdown report for a pull-request comment.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOnArg {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 no finding reaches --fail-on, 1 findings at or above --fail-on (waived findings never count; a rule error is an error), 2 usage, configuration or runtime error."
)]
pub struct LintArgs {
    /// Lint one environment (tenants/ENV/) [default: every environment]
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Lint a revision (branch, tag, commit) from Git instead of the worktree
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    pub rev: Option<String>,
    /// Lint the index: the staged policies, as the pre-commit hook does
    #[arg(long)]
    pub staged: bool,
    /// Pull-request mode: lint the changes from the merge base of BASE and the head (HEAD or
    /// --rev). tenantgate.toml, rules/ and exceptions.toml come from that merge base; a change
    /// to them is reported as governance/rules-changed
    #[arg(long, value_name = "BASE", conflicts_with = "staged")]
    pub base: Option<String>,
    /// Exit 1 when a finding that is not waived reaches this severity [default: [lint] fail_on,
    /// else error]
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOnArg>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: LintFormat,
    /// Worker threads, 1 to 256 [default: one per core]
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_THREADS as u64)
    )]
    pub threads: Option<usize>,
    /// Neither read nor write the facts cache (.git/tenantgate/facts.bin)
    #[arg(long)]
    pub no_cache: bool,
}

pub fn run(args: LintArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let store = Store::discover(&cwd)?;
    let input = match (&args.rev, args.staged) {
        (Some(r), _) => Input::Rev(r.clone()),
        (None, true) => Input::Staged,
        (None, false) => Input::Worktree,
    };
    let mut req = Request::new(input);
    req.env = args.env.clone();
    req.base = args.base.clone();
    req.threads = args.threads;
    req.cache = !args.no_cache;
    req.fail_on = args.fail_on.map(|f| match f {
        FailOnArg::Error => FailOn::At(Severity::Error),
        FailOnArg::Warning => FailOn::At(Severity::Warning),
        FailOnArg::Info => FailOn::At(Severity::Info),
        FailOnArg::Never => FailOn::Never,
    });
    let outcome = crate::lint::lint(&store, &req)?;
    let format = match args.format {
        LintFormat::Text => Format::Text,
        LintFormat::Json => Format::Json,
        LintFormat::Sarif => Format::Sarif,
        LintFormat::Github => Format::Github,
        LintFormat::Markdown => Format::Markdown,
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let code = if outcome.failed() {
        super::exit::FINDINGS
    } else {
        super::exit::CLEAN
    };
    match report::render(&outcome, format, color, out) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(code),
        other => other.map(|_| code).map_err(Into::into),
    }
}
