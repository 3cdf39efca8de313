//! The `tooltape` command line.

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand, ValueEnum};
use tooltape::cassette::{self, Cassette};
use tooltape::check::{CheckOptions, check};
use tooltape::conformance::RULES;
use tooltape::report::{CassetteReport, Report, exit, render_human, render_junit};
use tooltape::run::{RunOptions, run};
use tooltape::server::{Replay, ReplayServer};

const AFTER_HELP: &str = "\
Exit codes:
  0  everything conforms
  1  conformance errors found (warnings too with --profile strict)
  2  usage or input error (bad cassette, bad flag, no cassette found)
  3  the command under test could not start, timed out, or failed unexplained

Examples:
  tooltape run                                  # reference loop over fixtures/
  tooltape run fixtures/anthropic --format json
  tooltape serve fixtures/openai-chat/handmade-single-call.json --port 8089
  tooltape check fixtures/openai-chat -- python my_loop.py   # judge your own loop
  tooltape validate fixtures/
  tooltape rules";

/// Replay and conformance testing for LLM tool calling, above all parallel tool calls.
///
/// tooltape replays recorded provider responses (OpenAI Chat Completions, Anthropic Messages)
/// from cassettes, checks every follow-up request the way the real API checks it, and reports
/// what an agent loop got wrong: missing, duplicate, unknown or misplaced tool results, altered
/// assistant turns, malformed requests, runaway loops.
#[derive(Debug, Parser)]
#[command(name = "tooltape", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference agent loop against every cassette through the replay server, then report.
    Run(RunArgs),
    /// Start the replay server for your own agent loop; Ctrl-C prints the report.
    Serve(ServeArgs),
    /// Run your agent loop (any language) once per cassette against the replay server and judge
    /// what it sent, including whether it ran independent tools concurrently.
    #[command(after_help = CHECK_HELP)]
    Check(CheckArgs),
    /// Lint cassettes: format, unique call ids, every recorded call answered.
    Validate(ValidateArgs),
    /// List the conformance rules (ids are stable).
    Rules(FormatOnly),
    /// Print the JSON Schema of the cassette format.
    Schema,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Readable text, coloured on a terminal unless NO_COLOR is set.
    Human,
    /// The stable JSON report.
    Json,
    /// JUnit XML: one testcase per cassette, one failure per error finding.
    Junit,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Profile {
    /// Errors fail, warnings are shown.
    Default,
    /// Warnings fail too.
    Strict,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Strictness: `strict` makes warnings (e.g. split results) fail.
    #[arg(long, value_enum, default_value = "default")]
    profile: Profile,
    /// Only cassettes whose name or path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
    /// How many cassettes run at once.
    #[arg(short = 'j', long = "jobs", default_value_t = 4, value_name = "N")]
    jobs: usize,
    /// The reference loop's per-tool timeout, in milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    tool_timeout_ms: u64,
    /// The reference loop's max-turns guard.
    #[arg(long, default_value_t = 16, value_name = "N")]
    max_turns: usize,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Address to listen on. Keep the loopback default unless you know why not.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
}

const CHECK_HELP: &str = "\
The command runs once per cassette with this environment:
  OPENAI_BASE_URL      http://127.0.0.1:PORT/s/SESSION/v1   (the openai SDK reads it)
  ANTHROPIC_BASE_URL   http://127.0.0.1:PORT/s/SESSION      (the anthropic SDK reads it)
  OPENAI_API_KEY, ANTHROPIC_API_KEY   placeholders
  TOOLTAPE_URL         the session root
  TOOLTAPE_TOOLS_URL   POST {TOOLTAPE_TOOLS_URL}/{tool} with the call's arguments as JSON
                       (header tooltape-call-id: <id>) runs the simulated tool: 200 with the
                       result, 500 when the tool fails
  TOOLTAPE_CASSETTE    the cassette's name
  TOOLTAPE_PROMPT      the first user message to send
  TOOLTAPE_TOOLS_FILE  a JSON file with the recorded tools array, as the provider takes it
  TOOLTAPE_MESSAGES_FILE  a JSON file with the recorded first request's messages array
  TOOLTAPE_SEQUENTIAL_TOOLS  comma-separated tools with side effects: run their calls one at
                       a time, in call order (TT015)
  TOOLTAPE_PROVIDER, TOOLTAPE_STREAM   openai-chat|anthropic, true|false

Barrier mode (default): a tool reply is held until every independent call of its turn has
arrived, or --barrier-grace passes. A concurrent loop waits about one latency; a loop that runs
tools one after another is caught (TT008) whatever the machine's load.

Examples:
  tooltape check fixtures/openai-chat -- python my_loop.py
  tooltape check fixtures/anthropic -j 4 --format junit --output tooltape.xml -- node loop.js";

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
    /// How many cassettes run at once (each in its own session).
    #[arg(short = 'j', long = "jobs", default_value_t = 1, value_name = "N")]
    jobs: usize,
    /// Seconds one run of the command may take before it is killed.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    timeout: u64,
    /// Do not hold tool replies at a barrier (timing is then judged by interval overlap).
    #[arg(long)]
    no_barrier: bool,
    /// How long a tool reply waits for the turn's other calls, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    barrier_grace: u64,
    /// The agent loop to run, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct FormatOnly {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// An error that maps to an exit code.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn input(error: anyhow::Error) -> Failure {
    Failure {
        code: exit::INPUT,
        error,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INPUT);
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            if is_broken_pipe(&failure.error) {
                return ExitCode::SUCCESS;
            }
            eprint!("error: {}", failure.error);
            for cause in failure.error.chain().skip(1) {
                eprint!(": {cause}");
            }
            eprintln!();
            ExitCode::from(failure.code)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn dispatch(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Run(args) => cmd_run(args).await,
        Command::Serve(args) => cmd_serve(args).await,
        Command::Check(args) => cmd_check(args).await,
        Command::Validate(args) => cmd_validate(&args),
        Command::Rules(args) => cmd_rules(args.format),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&cassette::schema()).unwrap_or_default();
            emit(None, &(text + "\n")).map_err(input)?;
            Ok(exit::OK)
        }
    }
}

fn load_all(paths: &[PathBuf], filter: Option<&str>) -> Result<Vec<Arc<Cassette>>, Failure> {
    let files = cassette::discover(paths).map_err(|e| input(e.into()))?;
    let mut cassettes = Vec::new();
    for file in files {
        let c = Cassette::load(&file).map_err(|e| input(e.into()))?;
        let keep =
            filter.is_none_or(|f| c.name().contains(f) || file.to_string_lossy().contains(f));
        if keep {
            cassettes.push(Arc::new(c));
        }
    }
    if cassettes.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(input(anyhow!(
            "no cassette found in {}{}; pass cassette files or folders of *.json cassettes",
            shown.join(", "),
            filter
                .map(|f| format!(" matching `{f}`"))
                .unwrap_or_default()
        )));
    }
    Ok(cassettes)
}

fn render(report: &Report, common: &Common) -> String {
    match common.format {
        Format::Json => report.to_json(),
        Format::Junit => render_junit(report),
        Format::Human => {
            let color = common.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            render_human(report, color)
        }
    }
}

fn emit(output: Option<&PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the report to `{}`", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

async fn cmd_run(args: RunArgs) -> Result<u8, Failure> {
    let cassettes = load_all(&args.paths, args.common.filter.as_deref())?;
    let options = RunOptions {
        jobs: args.jobs,
        strict: args.common.profile == Profile::Strict,
        tool_timeout: Duration::from_millis(args.tool_timeout_ms),
        max_turns: args.max_turns,
    };
    let (report, _) = run(cassettes, &options)
        .await
        .map_err(|e| input(anyhow!(e).context("cannot start the replay server on loopback")))?;
    emit(args.common.output.as_ref(), &render(&report, &args.common)).map_err(input)?;
    Ok(report.exit_code())
}

async fn cmd_serve(args: ServeArgs) -> Result<u8, Failure> {
    let cassettes = load_all(&args.paths, args.common.filter.as_deref())?;
    let replay = Arc::new(Replay::new());
    let ids = replay.add_sessions(&cassettes);
    let server = ReplayServer::bind(SocketAddr::new(args.host, args.port), replay.clone())
        .await
        .map_err(|e| {
            input(anyhow!(e).context(format!(
                "cannot listen on {}:{} (is the port in use? try --port 0)",
                args.host, args.port
            )))
        })?;
    let mut banner = format!("tooltape replay server on {}\n", server.url());
    for (id, c) in ids.iter().zip(&cassettes) {
        let base = server.session_url(id);
        let env = match c.provider() {
            tooltape::provider::Provider::OpenAiChat => format!("OPENAI_BASE_URL={base}/v1"),
            tooltape::provider::Provider::Anthropic => format!("ANTHROPIC_BASE_URL={base}"),
        };
        banner.push_str(&format!(
            "  {:<12} {}\n      {env}\n      prompt: {:?}\n",
            c.provider().name(),
            c.name(),
            c.prompt()
        ));
    }
    if cassettes.len() == 1 {
        banner.push_str(&format!(
            "The bare base URLs work too: OPENAI_BASE_URL={}, ANTHROPIC_BASE_URL={}\n",
            server.openai_base_url(),
            server.anthropic_base_url()
        ));
    }
    banner.push_str("Press Ctrl-C to stop and print the report.\n");
    eprint!("{banner}");
    let _ = tokio::signal::ctrl_c().await;
    let mut report = Report::default();
    for (id, c) in ids.iter().zip(&cassettes) {
        if replay.request_count(id) > 0 {
            report
                .cassettes
                .push(CassetteReport::new(c, replay.findings(id), Vec::new()));
        }
    }
    if report.cassettes.is_empty() {
        eprintln!("\nno requests were received; nothing to report");
        return Ok(exit::OK);
    }
    let report = report.finish(args.common.profile == Profile::Strict);
    emit(args.common.output.as_ref(), &render(&report, &args.common)).map_err(input)?;
    Ok(report.exit_code())
}

async fn cmd_check(args: CheckArgs) -> Result<u8, Failure> {
    let cassettes = load_all(&args.paths, args.common.filter.as_deref())?;
    let options = CheckOptions {
        jobs: args.jobs,
        strict: args.common.profile == Profile::Strict,
        timeout: Duration::from_secs(args.timeout),
        barrier: (!args.no_barrier).then(|| Duration::from_millis(args.barrier_grace)),
        ..CheckOptions::default()
    };
    let report = check(cassettes, &args.command, &options)
        .await
        .map_err(|e| input(anyhow!(e).context("cannot start the replay server")))?;
    emit(args.common.output.as_ref(), &render(&report, &args.common)).map_err(input)?;
    Ok(report.exit_code())
}

fn cmd_validate(args: &ValidateArgs) -> Result<u8, Failure> {
    let files = cassette::discover(&args.paths).map_err(|e| input(e.into()))?;
    let mut results = Vec::new();
    let mut bad = 0;
    for file in &files {
        let (name, problems) = match Cassette::load(file) {
            Ok(c) => (
                c.name().to_owned(),
                c.lint()
                    .into_iter()
                    .map(|l| format!("interaction {}: {}", l.interaction, l.message))
                    .collect::<Vec<_>>(),
            ),
            Err(e) => (file.display().to_string(), vec![e.kind.to_string()]),
        };
        if !problems.is_empty() {
            bad += 1;
        }
        results.push(serde_json::json!({"path": file, "name": name, "ok": problems.is_empty(), "problems": problems}));
    }
    let text = match args.format {
        Format::Json | Format::Junit => {
            serde_json::to_string_pretty(&serde_json::json!({"ok": bad == 0, "cassettes": results}))
                .unwrap_or_default()
                + "\n"
        }
        Format::Human => {
            let mut out = String::new();
            for r in &results {
                let ok = r["ok"].as_bool().unwrap_or(false);
                out.push_str(&format!(
                    "{}  {}\n",
                    if ok { "ok  " } else { "FAIL" },
                    r["path"].as_str().unwrap_or_default()
                ));
                for p in r["problems"].as_array().into_iter().flatten() {
                    out.push_str(&format!("      {}\n", p.as_str().unwrap_or_default()));
                }
            }
            out.push_str(&format!(
                "\n{} cassettes, {bad} with problems\n",
                results.len()
            ));
            out
        }
    };
    emit(None, &text).map_err(input)?;
    if files.is_empty() {
        return Err(input(anyhow!("no cassette found")));
    }
    Ok(if bad == 0 { exit::OK } else { exit::INPUT })
}

fn cmd_rules(format: Format) -> Result<u8, Failure> {
    let text = match format {
        Format::Json | Format::Junit => {
            let rules: Vec<_> = RULES
                .iter()
                .map(|r| {
                    let i = r.info();
                    serde_json::json!({"id": i.id, "name": i.name, "severity": i.severity, "summary": i.summary})
                })
                .collect();
            serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"
        }
        Format::Human => {
            let mut out = String::new();
            for r in RULES {
                let i = r.info();
                out.push_str(&format!(
                    "{}  {:<24} {:<8} {}\n",
                    i.id,
                    i.name,
                    i.severity.to_string(),
                    i.summary
                ));
            }
            out
        }
    };
    emit(None, &text).map_err(input)?;
    Ok(exit::OK)
}
