//! The top-level parser and the dispatch to the subcommands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::check::{self, CheckArgs, check_help};
use super::exit::Failure;
use super::faults::with_fault_help;
use super::import::{self, IMPORT_HELP, ImportArgs};
use super::record::{self, RECORD_HELP, RecordArgs};
use super::rules::{self, RulesArgs};
use super::run::{self, RunArgs};
use super::schema;
use super::serve::{self, ServeArgs};
use super::validate::{self, ValidateArgs};

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
  tooltape import recordings/ --out fixtures/                 # vcrpy, go-vcr, HAR, … → cassettes
  tooltape record --upstream https://api.openai.com --out fixtures/openai-chat/mine.json
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
    #[command(after_help = with_fault_help(""))]
    Run(RunArgs),
    /// Start the replay server for your own agent loop; Ctrl-C prints the report.
    #[command(after_help = with_fault_help(""))]
    Serve(ServeArgs),
    /// Run your agent loop (any language) once per cassette against the replay server and judge
    /// what it sent, including whether it ran independent tools concurrently.
    #[command(after_help = with_fault_help(&check_help()))]
    Check(CheckArgs),
    /// Record a conversation through a loopback proxy to the provider, as a cassette.
    #[command(after_help = RECORD_HELP)]
    Record(RecordArgs),
    /// Import recordings (vcrpy, go-vcr, Ruby VCR, HAR, SDK lists, bare streams) as cassettes.
    #[command(after_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// Lint cassettes: format, unique call ids, every recorded call answered.
    Validate(ValidateArgs),
    /// List the conformance rules (ids are stable).
    Rules(RulesArgs),
    /// Print the JSON Schema of the cassette format.
    Schema,
}

/// Parses the command line, runs the subcommand and maps its outcome to the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime
            .block_on(dispatch(cli.command))
            .unwrap_or_else(Failure::report),
        Err(e) => {
            Failure::input(anyhow::Error::new(e).context("cannot start the async runtime")).report()
        }
    };
    ExitCode::from(code)
}

async fn dispatch(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Run(args) => run::execute(args).await,
        Command::Serve(args) => serve::execute(args).await,
        Command::Check(args) => check::execute(args).await,
        Command::Record(args) => record::execute(args).await,
        Command::Import(args) => import::execute(&args),
        Command::Validate(args) => validate::execute(&args),
        Command::Rules(args) => rules::execute(&args),
        Command::Schema => schema::execute(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::exit;

    #[test]
    fn the_help_lists_every_exit_code_under_its_number() {
        for (code, meaning) in [
            (exit::OK, "everything conforms"),
            (exit::FINDINGS, "conformance errors found"),
            (exit::INPUT, "usage or input error"),
            (exit::COMMAND, "the command under test"),
        ] {
            assert!(
                AFTER_HELP.contains(&format!("  {code}  {meaning}")),
                "{code}: {meaning}"
            );
        }
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
