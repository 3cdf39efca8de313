//! `tooltape run`: the reference loop against every cassette, then the report.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use tooltape::run::{RunOptions, run};

use super::args::{Common, Sharding};
use super::exit::Failure;
use super::output::write_report;
use super::progress::Bar;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    sharding: Sharding,
    /// How many cassettes run at once.
    #[arg(short = 'j', long = "jobs", default_value_t = 4, value_name = "N")]
    jobs: usize,
    /// The reference loop's per-tool timeout, in milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    tool_timeout_ms: u64,
    /// The reference loop's max-turns guard.
    #[arg(long, default_value_t = 16, value_name = "N")]
    max_turns: usize,
    /// Continue each turn on the provider's side where it keeps conversations (OpenAI
    /// Responses: `previous_response_id` and only the new outputs) instead of resending the
    /// whole history.
    #[arg(long)]
    stateful: bool,
    #[command(flatten)]
    faults: super::faults::FaultArgs,
}

pub async fn execute(args: RunArgs) -> Result<u8, Failure> {
    let cassettes = args.sharding.select(args.common.load(&args.paths)?);
    let bar = Bar::start(cassettes.len());
    let options = RunOptions {
        jobs: args.jobs,
        strict: args.common.strict(),
        tool_timeout: Duration::from_millis(args.tool_timeout_ms),
        max_turns: args.max_turns,
        stateful: args.stateful,
        progress: bar.progress(),
        faults: args.faults.faults,
        pace: args.faults.pace,
    };
    let result = run(cassettes, &options).await;
    bar.clear();
    let (report, _) = result.map_err(|e| {
        Failure::input(anyhow!(e).context("cannot start the replay server on loopback"))
    })?;
    write_report(&report, &args.common).map_err(Failure::input)?;
    bar.summary(&report);
    Ok(report.exit_code())
}
