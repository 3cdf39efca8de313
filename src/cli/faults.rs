//! `--fault`: the faults `serve`, `run` and `check` serve on top of the cassettes' own.

use tooltape::fault::{Pace, TurnFault};

/// The faults given on the command line.
#[derive(Debug, clap::Args)]
pub struct FaultArgs {
    /// Serve a fault to the requests for a turn before its recorded response, e.g.
    /// `rate-limit:200@1`, `overloaded@2x3`, `cut-stream:4`, `malformed-arguments@2`
    /// (repeatable; see FAULTS below).
    #[arg(long = "fault", value_name = "KIND[:VALUE][@TURN][xCOUNT]")]
    pub faults: Vec<TurnFault>,
    /// Write streams with MS milliseconds between frames, or with the delays `tooltape record`
    /// kept (`recorded`; streams without them are not paced).
    #[arg(long, value_name = "MS|recorded")]
    pub pace: Option<Pace>,
}

/// The `--fault` part of `--help`.
pub const FAULT_HELP: &str = "\
FAULTS (--fault KIND[:VALUE][@TURN][xCOUNT], repeatable):
  The fault is served to COUNT requests in a row (default 1) for response TURN (from 1,
  default 1), then the recorded response is: a loop that retries gets through.
  rate-limit[:MS]      429 with the provider's body and retry-after (default 1000 ms)
  server-error[:MS]    500; unavailable[:MS] 503; overloaded[:MS] 529 (Anthropic only).
                       MS is the retry-after to send (none by default)
  cut-stream[:N]       a stream closed after N frames (default 1), mid-body
  no-terminal-event    a stream that ends without its stop reason and end marker
  slow-first-byte[:MS] the recorded response, after MS (default 2000) before its first byte
  Stream faults are served only to requests for a stream. --pace MS|recorded paces streams.
  A cassette turn may list faults in its `faults` field too; those come first.
  Model faults change the turn itself, for every request for it (no VALUE, no COUNT):
  malformed-arguments  the first call's arguments are not JSON (OpenAI Chat and Responses;
                       Anthropic and Gemini send an object: not served)
  undeclared-tool      one more call, to a tool the request did not declare
  duplicate-call-id    the first call sent twice, id and all (OpenAI Chat and Responses;
                       Anthropic refuses repeated ids, Gemini knows calls by position)
  Rules: TT018 gave up at once on a retryable error, TT019 retried before retry-after,
  TT020 more than 10 retries in a row, TT021 a tool call ran twice after a fault, TT022 calls
  of a broken stream ran, TT023 stopped or left a call unanswered after a call it could not
  run, TT024 answered a call with a result no tool produced.

Examples:
  tooltape check fixtures/openai-chat --fault rate-limit:200 -- python my_loop.py
  tooltape check fixtures/anthropic --fault overloaded@2 --fault cut-stream:3 -- python loop.py
  tooltape check fixtures/openai-chat --fault malformed-arguments@1 -- python my_loop.py
  tooltape serve fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json --fault server-errorx2";

/// `help` followed by the `--fault` part, for a subcommand that takes `--fault`.
pub fn with_fault_help(help: &str) -> String {
    if help.is_empty() {
        FAULT_HELP.to_owned()
    } else {
        format!("{help}\n\n{FAULT_HELP}")
    }
}
