//! Session rules: what a loop did over a whole conversation (tool concurrency, order, a loop
//! that stops), judged by replaying bundled cassettes. Provider-blind: the session rules read
//! the journal, not the wire.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tooltape::conformance::{Finding, Severity};
use tooltape::server::{Replay, RequestMeta};
use tooltape::transcript::ToolCall;

use super::mutation::{RULES_NONE, set};
use super::positive::paused_runtime;
use crate::support::load;

/// How a scenario runs the tool calls of response 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tooling {
    /// Not through the tool endpoints at all.
    None,
    /// Every call at once.
    Concurrent,
    /// One after another, in call order.
    OneByOne,
    /// One after another, last call first.
    Reversed,
    /// Calls of `sequential` tools one by one in call order, alongside the others.
    Correct,
    /// Only the calls of tools that do not fail, at once (a failing tool's call never runs).
    Healthy,
}

/// Replays a bundled cassette as a loop would: request 0, the tool calls of response 0 as
/// `tooling` says, then (unless `stop`) the recorded follow-ups. The session's findings.
fn scenario(
    rel: &str,
    tooling: Tooling,
    stop: bool,
    barrier: Option<Duration>,
    strict_concurrency: bool,
) -> Vec<Finding> {
    let mut cassette = (*load(rel)).clone();
    cassette.file.expect_concurrency = strict_concurrency;
    let cassette = Arc::new(cassette);
    let replay = Arc::new(Replay::new().with_barrier(barrier));
    replay.add_session("s", cassette.clone());
    let send = |k: usize| {
        let body = serde_json::to_vec(&cassette.file.interactions[k].request.body).unwrap();
        let reply = replay.handle_model_routed(
            Some("s"),
            cassette.provider(),
            &cassette.file.interactions[0]
                .request
                .route(cassette.provider()),
            RequestMeta::all(),
            &body,
        );
        assert_eq!(reply.status(), 200, "{rel}: request {k}");
    };
    send(0);
    let calls = cassette.calls(0);
    let call = |c: ToolCall| {
        let replay = replay.clone();
        async move {
            replay
                .handle_tool(Some("s"), &c.name, Some(&c.id), c.arguments.as_bytes())
                .await
        }
    };
    paused_runtime().block_on(async {
        match tooling {
            Tooling::None => {}
            Tooling::Concurrent => {
                futures::future::join_all(calls.iter().cloned().map(call)).await;
            }
            Tooling::OneByOne => {
                for c in calls.iter().cloned() {
                    call(c).await;
                }
            }
            Tooling::Reversed => {
                for c in calls.iter().rev().cloned() {
                    call(c).await;
                }
            }
            Tooling::Healthy => {
                let healthy = calls
                    .iter()
                    .filter(|c| cassette.tool(&c.name).fails.is_none())
                    .cloned();
                futures::future::join_all(healthy.map(call)).await;
            }
            Tooling::Correct => {
                let (seq, par): (Vec<ToolCall>, Vec<ToolCall>) = calls
                    .iter()
                    .cloned()
                    .partition(|c| cassette.tool(&c.name).sequential);
                let chain = async {
                    for c in seq {
                        call(c).await;
                    }
                };
                futures::future::join(chain, futures::future::join_all(par.into_iter().map(call)))
                    .await;
            }
        }
    });
    if !stop {
        for k in 1..cassette.turns.len() {
            send(k);
        }
    }
    replay.findings("s")
}

pub fn rules_of(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings.iter().map(|f| f.rule).collect()
}

pub const PARALLEL2: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
pub const SEQUENTIAL: &str = "openai-chat/handmade-sequential-tools.json";
pub const FAILING: &str = "openai-chat/handmade-failing-tool.json";

/// Every session scenario with the rules it must fire (and the severity of TT008 where it
/// fires).
/// A loop that posts to `path`, a route no codec serves, through the HTTP-free replay: the
/// session's findings and the reply.
fn unsupported_scenario(rel: &str, path: &str) -> (Vec<Finding>, u16, String) {
    let replay = Replay::new();
    replay.add_session("s", load(rel));
    let reply = replay.handle_unsupported(Some("s"), "POST", path, "http://127.0.0.1:9/s/s");
    let body = String::from_utf8(reply.body_bytes().to_vec()).unwrap();
    (replay.findings("s"), reply.status(), body)
}

#[test]
fn an_unsupported_route_gets_a_json_404_in_the_providers_shape_naming_the_base_url() {
    let (findings, status, body) = unsupported_scenario(PARALLEL2, "/v1/embeddings");
    assert_eq!(status, 404);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("POST /v1/chat/completions"), "{message}");
    assert!(message.contains("http://127.0.0.1:9/s/s/v1"), "{message}");
    assert_eq!(rules_of_findings(&findings), set(["TT016"]));

    let (findings, status, body) = unsupported_scenario(PARALLEL2, "/responses");
    assert_eq!(status, 404);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("POST /v1/responses"), "{message}");
    assert!(message.contains("`http://127.0.0.1:9/s/s/v1`"), "{message}");
    assert_eq!(rules_of_findings(&findings), set(["TT016"]));

    let (findings, status, body) = unsupported_scenario(
        "anthropic/fantasy-sonnet-4-parallel2-followup.json",
        "/messages",
    );
    assert_eq!(status, 404);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["type"], "error", "Anthropic's shape: {body}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`http://127.0.0.1:9/s/s`, without /v1"),
        "{message}"
    );
    assert_eq!(rules_of_findings(&findings), set(["TT016"]));

    let (findings, status, _) = unsupported_scenario(PARALLEL2, "/v1/v1/chat/completions");
    assert_eq!(status, 404);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(findings[0].message.contains("/v1/v1/chat/completions"));
}

fn rules_of_findings(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings.iter().map(|f| f.rule).collect()
}

pub fn session_scenarios() -> Vec<(&'static str, Vec<Finding>, BTreeSet<&'static str>)> {
    vec![
        (
            "posts to an API tooltape does not serve",
            unsupported_scenario(PARALLEL2, "/v1/embeddings").0,
            set(["TT016"]),
        ),
        (
            "concurrent tools, whole conversation",
            scenario(PARALLEL2, Tooling::Concurrent, false, None, false),
            set(RULES_NONE),
        ),
        (
            "tools one by one",
            scenario(PARALLEL2, Tooling::OneByOne, false, None, false),
            set(["TT008"]),
        ),
        (
            "tools one by one, expect_concurrency",
            scenario(PARALLEL2, Tooling::OneByOne, false, None, true),
            set(["TT008"]),
        ),
        (
            "tools one by one at a barrier",
            scenario(
                PARALLEL2,
                Tooling::OneByOne,
                false,
                Some(Duration::from_secs(2)),
                false,
            ),
            set(["TT008"]),
        ),
        (
            "concurrent tools at a barrier",
            scenario(
                PARALLEL2,
                Tooling::Concurrent,
                false,
                Some(Duration::from_secs(2)),
                false,
            ),
            set(RULES_NONE),
        ),
        (
            "stops after the calls",
            scenario(PARALLEL2, Tooling::None, true, None, false),
            set(["TT013"]),
        ),
        (
            "stops after a failing tool",
            scenario(FAILING, Tooling::Concurrent, true, None, false),
            set(["TT010", "TT013"]),
        ),
        (
            // Nothing shows that the failure stopped it: the same stop without a failing tool.
            "stops before running a failing tool",
            scenario(FAILING, Tooling::None, true, None, false),
            set(["TT013"]),
        ),
        (
            // Its sibling ran, but the failing call itself never did: no evidence either.
            "stops after running only the calls that do not fail",
            scenario(FAILING, Tooling::Healthy, true, None, false),
            set(["TT013"]),
        ),
        (
            "sequential tools chained, others alongside",
            scenario(SEQUENTIAL, Tooling::Correct, false, None, false),
            set(RULES_NONE),
        ),
        (
            "sequential tools all at once",
            scenario(SEQUENTIAL, Tooling::Concurrent, false, None, false),
            set(["TT015"]),
        ),
        (
            "sequential tools out of call order",
            scenario(SEQUENTIAL, Tooling::Reversed, false, None, false),
            set(["TT015"]),
        ),
    ]
}

#[test]
fn a_loop_stopped_by_a_failing_tool_is_judged_at_the_turn_of_the_failure() {
    let findings = scenario(FAILING, Tooling::Concurrent, true, None, false);
    let tt010: Vec<&Finding> = findings.iter().filter(|f| f.rule == "TT010").collect();
    assert_eq!(tt010.len(), 1, "{findings:#?}");
    assert_eq!(tt010[0].turn, Some(1), "the failing call is in turn 1");
    assert!(
        tt010[0].message.contains("in turn 1"),
        "{}",
        tt010[0].message
    );
}

#[test]
fn every_session_scenario_fires_exactly_its_rules() {
    let mut problems = Vec::new();
    for (name, findings, want) in session_scenarios() {
        if rules_of(&findings) != want {
            problems.push(format!("{name}: expected {want:?}, got {findings:#?}"));
        }
        for f in findings.iter().filter(|f| f.rule == "TT008") {
            let severity = if name.contains("expect_concurrency") {
                Severity::Error
            } else {
                Severity::Warning
            };
            if f.severity != severity {
                problems.push(format!("{name}: TT008 is {:?}", f.severity));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
