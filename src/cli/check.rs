//! `tooltape check`: the user's loop once per cassette against the replay server, judged.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use tooltape::check::{CheckOptions, StopSignal, check};

use super::args::{Common, Sharding};
use super::exit::Failure;
use super::limits::LimitArgs;
use super::output::write_report;
use super::progress::Bar;
use super::signals::{Signal, Stop};

/// The after-help of `tooltape check`. The provider lines come from the providers' facts (the
/// variables [`tooltape::check::provider_environment`] sets), so a new provider is listed
/// without an edit here.
pub fn check_help() -> String {
    format!("{}{CHECK_HELP_REST}", provider_lines())
}

/// One line per base-URL variable (with the providers it serves), the placeholder keys, and
/// the values `TOOLTAPE_PROVIDER` takes.
fn provider_lines() -> String {
    use tooltape::provider::Provider;
    let mut urls: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    for provider in Provider::ALL {
        let env = &provider.codec().facts().env;
        match urls.iter_mut().find(|(var, _, _)| *var == env.base_url_var) {
            Some((_, _, names)) => names.push(provider.name()),
            None => urls.push((env.base_url_var, env.base_url_suffix, vec![provider.name()])),
        }
        for (key, _) in env.keys {
            if !keys.contains(key) {
                keys.push(key);
            }
        }
    }
    let mut text = String::from("The command runs once per cassette with this environment:\n");
    for (var, suffix, names) in &urls {
        let url = format!("http://127.0.0.1:PORT/s/SESSION{suffix}");
        text.push_str(&format!("  {var:<23} {url:<36} ({})\n", names.join(", ")));
    }
    for (alias, of) in tooltape::credentials::ALIASES {
        text.push_str(&format!("  {alias:<23} the same as {of}\n"));
    }
    text.push_str(&format!("  {}   placeholders\n", keys.join(", ")));
    let names: Vec<&str> = Provider::ALL.iter().map(|p| p.name()).collect();
    text.push_str(&format!(
        "  TOOLTAPE_PROVIDER    the cassette's provider: {}\n",
        names.join("|")
    ));
    text
}

const CHECK_HELP_REST: &str = "  TOOLTAPE_URL         the session root
  TOOLTAPE_TOOLS_URL   POST {TOOLTAPE_TOOLS_URL}/{tool} with the call's arguments as JSON
                       (header tooltape-call-id: <id>) runs the simulated tool: 200 with the
                       result, 500 when the tool fails
  TOOLTAPE_MCP_URL     the same tools as an MCP server (streamable HTTP): tools/list gives the
                       recorded definitions, tools/call runs a call as the tool endpoint does
  TOOLTAPE_CASSETTE    the cassette's name
  TOOLTAPE_PROMPT      the first user message to send
  TOOLTAPE_TOOLS_FILE  a JSON file with the recorded tools array, as the provider takes it
  TOOLTAPE_MESSAGES_FILE  a JSON file with the recorded first request's messages array
  TOOLTAPE_SYSTEM_PROMPT, TOOLTAPE_MODEL   the recorded system prompt and model
  TOOLTAPE_SEQUENTIAL_TOOLS  comma-separated tools with side effects: run their calls one at
                       a time, in call order (TT015; such cassettes run only with
                       --require sequential-tools)
  TOOLTAPE_STREAM      true|false, the recorded mode (the loop may ask for either: the
                       turn is re-encoded)

Every other provider credential and endpoint of your environment is removed (OPENAI_ORG_ID,
OPENAI_PROJECT_ID, ANTHROPIC_AUTH_TOKEN, AZURE_OPENAI_*, AWS_*, GOOGLE_APPLICATION_CREDENTIALS,
any *_API_KEY, *_API_TOKEN, *_AUTH_TOKEN, …; the README has the list): your real keys never
reach the command. --keep-env NAME passes one through as is.

Each run is its own process group. On --timeout the whole group is killed; on SIGINT or
SIGTERM the signal is forwarded to every running group (killed after 5 s), the cassettes not
started are not run, the report is printed and the exit code is 3. The tool files live in a
fresh private temporary folder, removed afterwards.

Barrier mode (default): a tool reply is held until every independent call of its turn has
arrived, or --barrier-grace passes. A concurrent loop waits about one latency; a loop that runs
tools one after another is caught (TT008) whatever the machine's load.

Examples:
  tooltape check fixtures/openai-chat -- python my_loop.py
  tooltape check fixtures/anthropic -j 4 --format junit --output tooltape.xml -- node loop.js";

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    sharding: Sharding,
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
    /// An optional capability the loop has; cassettes that test one it lacks are skipped and
    /// listed (repeat for several).
    #[arg(long = "require", value_name = "CAPABILITY")]
    require: Vec<tooltape::cassette::Capability>,
    /// Pass this variable of your environment to the command as it is, although tooltape
    /// would replace or remove it (repeatable).
    #[arg(long = "keep-env", value_name = "NAME")]
    keep_env: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    faults: super::faults::FaultArgs,
    /// The agent loop to run, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

pub async fn execute(args: CheckArgs) -> Result<u8, Failure> {
    let cassettes = args.sharding.select(args.common.load(&args.paths)?);
    let runnable = cassettes
        .iter()
        .filter(|c| c.requires().iter().all(|cap| args.require.contains(cap)))
        .count();
    let bar = Bar::start(runnable);
    let mut signals = Stop::listen()
        .map_err(|e| Failure::input(anyhow!(e).context("cannot listen for signals")))?;
    let (stop, stopped) = tokio::sync::watch::channel(None);
    tokio::spawn(async move {
        let signal = match signals.next().await {
            Signal::Interrupt => StopSignal::Interrupt,
            Signal::Terminate | Signal::Hangup => StopSignal::Terminate,
        };
        eprintln!(
            "\n{}: stopping the command under test; the report follows",
            signal.name()
        );
        let _ = stop.send(Some(signal));
        signals.second_ends_the_process();
    });
    let options = CheckOptions {
        jobs: args.jobs,
        strict: args.common.strict(),
        timeout: Duration::from_secs(args.timeout),
        barrier: (!args.no_barrier).then(|| Duration::from_millis(args.barrier_grace)),
        capabilities: args.require,
        limits: args.limits.limits(),
        keep_env: args.keep_env,
        stop: Some(stopped),
        progress: bar.progress(),
        faults: args.faults.faults,
        pace: args.faults.pace,
    };
    let result = check(cassettes, &args.command, &options).await;
    bar.clear();
    let report =
        result.map_err(|e| Failure::input(anyhow!(e).context("cannot start the replay server")))?;
    write_report(&report, &args.common).map_err(Failure::input)?;
    bar.summary(&report);
    Ok(report.exit_code())
}
