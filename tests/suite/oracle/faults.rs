//! The fault rules (TT018–TT022) on scripted loops: requests, waits and tool calls replayed on
//! tokio's paused clock, so every wait is exact and a retry-after check can be tested to the
//! millisecond without a slow test. The scripts that do what the official SDKs do fire nothing.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tooltape::conformance::{Finding, Severity};
use tooltape::fault::{Fault, FaultKind, TurnFault};
use tooltape::server::{Replay, RequestMeta};

use super::mutation::{RULES_NONE, set};
use super::positive::paused_runtime;
use super::sessions::rules_of;
use crate::support::load;

const JSON: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
const STREAM: &str = "anthropic/fantasy-sonnet-4-parallel2-followup-stream.json";
const GEMINI: &str = "gemini/fantasy-2.5-flash-parallel2-followup.json";

/// One step of a scripted loop.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Sends the recorded request for response `k` (0-based).
    Ask(usize),
    /// Waits this many milliseconds.
    Wait(u64),
    /// Runs every call of response `k` at the tool endpoints, at once.
    Tools(usize),
}
use Step::{Ask, Tools, Wait};

/// A fault for response `turn` (0-based), served `times` in a row.
fn fault(kind: FaultKind, turn: usize, retry_after_ms: Option<u64>, times: u32) -> TurnFault {
    let mut fault = Fault::new(kind);
    fault.retry_after_ms = retry_after_ms;
    fault.times = times;
    if kind == FaultKind::CutStream {
        fault.after_frames = Some(3);
    }
    TurnFault { turn, fault }
}

/// Runs `steps` against a replay of `rel` serving `faults`; the session's findings.
fn scripted(rel: &str, faults: Vec<TurnFault>, steps: &[Step]) -> Vec<Finding> {
    let cassette = load(rel);
    paused_runtime().block_on(async {
        let replay = Arc::new(Replay::new().with_faults(faults));
        replay.add_session("s", cassette.clone());
        for step in steps {
            match *step {
                Ask(k) => {
                    let interaction = &cassette.file.interactions[k];
                    let body = serde_json::to_vec(&interaction.request.body).unwrap();
                    replay.handle_model_routed(
                        Some("s"),
                        cassette.provider(),
                        &interaction.request.route(cassette.provider()),
                        RequestMeta::all(),
                        &body,
                    );
                }
                Wait(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Tools(k) => {
                    let calls = cassette.calls(k).to_vec();
                    futures::future::join_all(calls.iter().map(|c| {
                        replay.handle_tool(Some("s"), &c.name, Some(&c.id), c.arguments.as_bytes())
                    }))
                    .await;
                }
            }
        }
        replay.findings("s")
    })
}

/// The whole conversation of a two-turn cassette, after `before`.
fn then_whole(before: &[Step]) -> Vec<Step> {
    let mut steps = before.to_vec();
    steps.extend([Ask(0), Tools(0), Ask(1)]);
    steps
}

/// Scenarios: a name, the findings, and the rules that must fire.
pub fn fault_scenarios() -> Vec<(&'static str, Vec<Finding>, BTreeSet<&'static str>)> {
    use FaultKind::*;
    let rate_limit = |times| vec![fault(RateLimit, 0, Some(200), times)];
    let mut storm = Vec::new();
    for _ in 0..12 {
        storm.extend([Ask(0), Wait(5)]);
    }
    vec![
        (
            "retries a 429 once, after its retry-after",
            scripted(JSON, rate_limit(1), &then_whole(&[Ask(0), Wait(200)])),
            set(RULES_NONE),
        ),
        (
            "stops at a 429 without retrying",
            scripted(JSON, rate_limit(1), &[Ask(0)]),
            set(["TT018"]),
        ),
        (
            "stops after two retries of three 429s, as the SDKs do",
            scripted(
                JSON,
                rate_limit(3),
                &[Ask(0), Wait(200), Ask(0), Wait(200), Ask(0)],
            ),
            set(RULES_NONE),
        ),
        (
            "retries a 429 2 ms before its retry-after",
            scripted(JSON, rate_limit(1), &then_whole(&[Ask(0), Wait(198)])),
            set(["TT019"]),
        ),
        (
            "retries a 500 at once, which asked for no wait",
            scripted(
                JSON,
                vec![fault(ServerError, 0, None, 1)],
                &then_whole(&[Ask(0)]),
            ),
            set(RULES_NONE),
        ),
        (
            "retries ten times",
            scripted(
                JSON,
                vec![fault(RateLimit, 0, Some(1), 10)],
                &then_whole(&storm[..20]),
            ),
            set(RULES_NONE),
        ),
        (
            "retries eleven times and more",
            scripted(
                JSON,
                vec![fault(RateLimit, 0, Some(1), 12)],
                &then_whole(&storm),
            ),
            set(["TT020"]),
        ),
        (
            "runs the tools again with the rate-limited follow-up",
            scripted(
                JSON,
                vec![fault(RateLimit, 1, Some(50), 1)],
                &[Ask(0), Tools(0), Ask(1), Wait(50), Tools(0), Ask(1)],
            ),
            set(["TT021"]),
        ),
        (
            "retries the rate-limited follow-up alone",
            scripted(
                JSON,
                vec![fault(RateLimit, 1, Some(50), 1)],
                &[Ask(0), Tools(0), Ask(1), Wait(50), Ask(1)],
            ),
            set(RULES_NONE),
        ),
        (
            "stops at a cut stream, having run nothing",
            scripted(STREAM, vec![fault(CutStream, 0, None, 1)], &[Ask(0)]),
            set(RULES_NONE),
        ),
        (
            "retries a cut stream, then runs the calls",
            scripted(
                STREAM,
                vec![fault(CutStream, 0, None, 1)],
                &then_whole(&[Ask(0)]),
            ),
            set(RULES_NONE),
        ),
        (
            "runs the calls of a cut stream",
            scripted(
                STREAM,
                vec![fault(CutStream, 0, None, 1)],
                &[Ask(0), Tools(0), Ask(0), Ask(1)],
            ),
            set(["TT022"]),
        ),
        (
            "runs the calls of a stream without its end",
            scripted(
                STREAM,
                vec![fault(NoTerminalEvent, 0, None, 1)],
                &[Ask(0), Tools(0), Ask(1)],
            ),
            set(["TT022"]),
        ),
        (
            "stops at a 429 of a provider whose client does not retry by default",
            scripted(GEMINI, rate_limit(1), &[Ask(0)]),
            set(["TT018"]),
        ),
    ]
}

#[test]
fn every_fault_scenario_fires_exactly_its_rules_with_their_severity() {
    let mut problems = Vec::new();
    for (name, findings, want) in fault_scenarios() {
        if rules_of(&findings) != want {
            problems.push(format!("{name}: expected {want:?}, got {findings:#?}"));
        }
        let warning = name.contains("without its end") || name.contains("does not retry");
        for f in findings.iter().filter(|f| f.rule >= "TT018") {
            let severity = if warning {
                Severity::Warning
            } else {
                Severity::Error
            };
            if f.severity != severity {
                problems.push(format!("{name}: {} is {:?}", f.rule, f.severity));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The findings of `rule` in the scenario named `name`, for the rule's report snapshot.
pub fn fault_example(name: &str, rule: &str) -> Vec<Finding> {
    let (_, findings, _) = fault_scenarios()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no fault scenario `{name}`"));
    findings.into_iter().filter(|f| f.rule == rule).collect()
}
