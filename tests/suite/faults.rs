//! Faults: what the replay server serves for each, and the verdicts on loops that meet them.
//!
//! The official SDKs (their default retries) must pass every fault; each known-bad example
//! loop in `examples/loops/` must fail with exactly its rule. Waits are short (`retry-after`
//! of 50–500 ms) to keep the suite cheap.

use std::process::Command;
use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;
use tooltape::Cassette;
use tooltape::fault::{Fault, FaultKind, TurnFault};
use tooltape::reference_loop::{CassetteTools, ReferenceLoop};
use tooltape::server::{Entry, Replay, ReplayServer};

use crate::python::python;
use crate::support::{bin, load, root};

const OPENAI_JSON: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
const OPENAI_STREAM: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json";
const ANTHROPIC_JSON: &str = "anthropic/fantasy-sonnet-4-parallel2-followup.json";
const ANTHROPIC_STREAM: &str = "anthropic/fantasy-sonnet-4-parallel2-followup-stream.json";
const RESPONSES_JSON: &str = "openai-responses/fantasy-gpt-4o-parallel2-followup.json";
const GEMINI_JSON: &str = "gemini/fantasy-2.5-flash-parallel2-followup.json";

/// `tooltape check CASSETTE --fault F… --format json -- python examples/loops/LOOP.py`: the
/// exit code and the one cassette's report.
fn check(cassette: &str, faults: &[&str], example: &str) -> (i32, Value) {
    let out = Command::new(bin())
        .arg("check")
        .arg(root().join("fixtures").join(cassette))
        .args(faults.iter().flat_map(|f| ["--fault", f]))
        // A cold interpreter importing an SDK on a loaded machine can take most of the
        // default 60 s; a run that hangs is still caught.
        .args(["--timeout", "240", "--format", "json", "--"])
        .arg(python())
        .arg(root().join(format!("examples/loops/{example}.py")))
        .current_dir(root())
        .output()
        .expect("tooltape check runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{example}: {e}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        report["cassettes"][0].clone(),
    )
}

fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn notes(report: &Value) -> String {
    report["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// A run of a correct example loop under faults: (loop, cassette, faults, what the notes must
/// say was served, the findings allowed).
type SdkCase = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

#[test]
fn the_official_sdks_with_their_default_retries_pass_every_fault() {
    // Faults of one turn are served in the order given, so one run covers several.
    let cases: [SdkCase; 4] = [
        (
            // The SDK raises on a cut stream and does not retry it: the loop stops having run
            // nothing of the broken turn, which is no finding.
            "openai_streaming",
            OPENAI_STREAM,
            &["rate-limit:100@1", "server-error:50@2", "cut-stream:2@2"],
            &[
                "turn 1: 1 fault served, 1 retry",
                "turn 2: 2 faults served, 1 retry",
                "the loop stopped after the fault `cut-stream` served for turn 2",
            ],
            &[],
        ),
        (
            // More faults than the SDK's two retries: it retries twice, then raises; that is
            // the reference behaviour, so the stop is no finding.
            "openai_async_gather",
            OPENAI_JSON,
            &["rate-limit:50x3"],
            &["turn 1: 3 faults served, 2 retries"],
            &[],
        ),
        (
            "anthropic_parallel",
            ANTHROPIC_JSON,
            &[
                "unavailable:50@1",
                "rate-limit:100@2",
                "slow-first-byte:200@2",
            ],
            &[
                "turn 1: 1 fault served, 1 retry",
                "turn 2: 2 faults served, 1 retry",
            ],
            &[],
        ),
        (
            // A stream that ends cleanly without its stop reason raises nothing in the SDK; a
            // loop that runs its (whole-looking) calls gets a warning, not a failure.
            "anthropic_streaming",
            ANTHROPIC_STREAM,
            &["overloaded:50@1", "no-terminal-event@1", "cut-stream:3@2"],
            &[
                "turn 1: 2 faults served, 1 retry",
                "the loop stopped after the fault `cut-stream` served for turn 2",
            ],
            &[("TT022", "warning")],
        ),
    ];
    for (example, cassette, faults, served, allowed) in cases {
        let (code, report) = check(cassette, faults, example);
        let got = findings(&report);
        let want: Vec<(String, String)> = allowed
            .iter()
            .map(|(r, s)| ((*r).to_owned(), (*s).to_owned()))
            .collect();
        assert_eq!((code, &got), (0, &want), "{example} {faults:?}: {report:#}");
        for note in served {
            assert!(
                notes(&report).contains(note),
                "{example} {faults:?}: no note `{note}`: the faults were not served as expected: {report:#}"
            );
        }
    }
}

#[test]
fn each_known_bad_fault_loop_fails_with_exactly_its_rule() {
    let cases = [
        (
            "bad_gives_up_on_429",
            OPENAI_JSON,
            "rate-limit:100",
            "TT018",
        ),
        (
            "bad_retries_too_early",
            OPENAI_JSON,
            "rate-limit:500",
            "TT019",
        ),
        ("bad_retry_storm", OPENAI_JSON, "rate-limit:1x12", "TT020"),
        (
            "bad_retries_tools_twice",
            OPENAI_JSON,
            "rate-limit:50@2",
            "TT021",
        ),
        (
            "bad_runs_cut_stream",
            OPENAI_STREAM,
            "cut-stream:9",
            "TT022",
        ),
    ];
    for (example, cassette, fault, rule) in cases {
        let (code, report) = check(cassette, &[fault], example);
        assert_eq!(
            (code, findings(&report)),
            (1, vec![(rule.to_owned(), "error".to_owned())]),
            "{example} --fault {fault}: {report:#}"
        );
    }
}

#[test]
fn the_official_sdks_answer_the_calls_they_cannot_run_and_pass_model_faults() {
    // The example loops pass the arguments text to the tool endpoint as it is and answer with
    // what it returns (a 400 for arguments that are not JSON, a 404 for an undeclared tool).
    let cases: [(&str, &str, &[&str], &[&str]); 6] = [
        (
            "openai_async_gather",
            OPENAI_JSON,
            &["malformed-arguments", "duplicate-call-id"],
            &[
                "fault `malformed-arguments` served: call 1",
                "fault `duplicate-call-id` served: call 3",
            ],
        ),
        (
            "responses_stateless",
            RESPONSES_JSON,
            &["undeclared-tool", "duplicate-call-id"],
            &[
                "fault `undeclared-tool` served: call 3 (`web_search`",
                "fault `duplicate-call-id` served: call 4",
            ],
        ),
        (
            // Anthropic's `input` is an object and its ids are unique: those two are left out,
            // and the report says why.
            "anthropic_streaming",
            ANTHROPIC_STREAM,
            &[
                "malformed-arguments",
                "undeclared-tool",
                "duplicate-call-id",
            ],
            &[
                "fault `undeclared-tool` served: call 3",
                "fault `malformed-arguments` not served",
                "fault `duplicate-call-id` not served",
            ],
        ),
        (
            "gemini_parallel",
            GEMINI_JSON,
            &["undeclared-tool"],
            &["fault `undeclared-tool` served: call 3"],
        ),
        // Stateful chains: the provider keeps the history the loop sent (its answer to the
        // changed calls), not the recording's, so a continuation two turns on is judged on
        // that history. Against the recorded one, the first cassette's third request had an
        // unanswered `web_search` call (TT001, TT023), the second's a changed argument (TT006).
        (
            "responses_previous_id",
            "openai-responses/handmade-stateful-chain.json",
            &["undeclared-tool@1"],
            &["fault `undeclared-tool` served: call 2"],
        ),
        (
            "responses_previous_id",
            "openai-responses/handmade-three-turns.json",
            &["malformed-arguments@1"],
            &["fault `malformed-arguments` served: call 1"],
        ),
    ];
    for (example, cassette, faults, served) in cases {
        let (code, report) = check(cassette, faults, example);
        assert_eq!(
            (code, findings(&report)),
            (0, Vec::new()),
            "{example} {faults:?}: {report:#}"
        );
        for note in served {
            assert!(
                notes(&report).contains(note),
                "{example} {faults:?}: no note `{note}`: {report:#}"
            );
        }
    }
}

#[test]
fn the_known_bad_loops_for_calls_they_cannot_run_fail_with_their_rules() {
    let cases: [(&str, &[&str], &[&str]); 2] = [
        (
            "bad_crashes_on_malformed_args",
            &["malformed-arguments"],
            &["TT013", "TT023"],
        ),
        ("bad_placeholder_results", &[], &["TT024"]),
    ];
    for (example, faults, rules) in cases {
        let (code, report) = check(OPENAI_JSON, faults, example);
        let want: Vec<(String, String)> = rules
            .iter()
            .map(|r| ((*r).to_owned(), "error".to_owned()))
            .collect();
        let mut got = findings(&report);
        got.sort();
        assert_eq!((code, got), (1, want), "{example} {faults:?}: {report:#}");
    }
}

#[test]
fn a_bad_fault_spec_is_refused_with_exit_2_and_the_shape_to_write() {
    for spec in ["rate-limit@0", "ratelimit", "cut-stream:2x0"] {
        let out = Command::new(bin())
            .args(["check", "--fault", spec, "--", "true"])
            .current_dir(root())
            .output()
            .expect("tooltape runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{spec}: {stderr}");
        assert!(
            stderr.contains(&format!("bad fault `{spec}`"))
                && stderr.contains("KIND[:VALUE][@TURN][xCOUNT]"),
            "{spec}: {stderr}"
        );
    }
}

fn with_faults(rel: &str, faults: Vec<TurnFault>) -> (Arc<Replay>, Arc<Cassette>) {
    let cassette = load(rel);
    let replay = Arc::new(Replay::new().with_faults(faults));
    replay.add_session("s", cassette.clone());
    (replay, cassette)
}

fn fault(kind: FaultKind, turn: usize, retry_after_ms: Option<u64>) -> TurnFault {
    let mut fault = Fault::new(kind);
    fault.retry_after_ms = retry_after_ms;
    TurnFault { turn, fault }
}

#[tokio::test]
async fn a_fault_is_served_once_in_the_providers_shape_then_the_recorded_turn() {
    let cases = [
        (
            OPENAI_JSON,
            "/v1/chat/completions",
            FaultKind::RateLimit,
            429,
            "rate_limit_exceeded",
        ),
        (
            ANTHROPIC_JSON,
            "/v1/messages",
            FaultKind::Overloaded,
            529,
            "overloaded_error",
        ),
        (
            ANTHROPIC_JSON,
            "/v1/messages",
            FaultKind::RateLimit,
            429,
            "rate_limit_error",
        ),
    ];
    for (rel, path, kind, status, marker) in cases {
        let (replay, cassette) = with_faults(rel, vec![fault(kind, 0, Some(250))]);
        let server = ReplayServer::bind("127.0.0.1:0".parse().unwrap(), replay)
            .await
            .unwrap();
        let codec = cassette.provider().codec();
        let send = || {
            let mut req = reqwest::Client::new()
                .post(format!("{}/s/s{path}", server.url()))
                .json(&cassette.file.interactions[0].request.body);
            for (name, value) in codec.client_headers() {
                req = req.header(name, value);
            }
            req.send()
        };
        let first = send().await.unwrap();
        assert_eq!(first.status().as_u16(), status, "{rel} {kind}");
        let headers = first.headers().clone();
        let body = first.text().await.unwrap();
        assert!(body.contains(marker), "{rel} {kind}: {body}");
        assert_eq!(headers["retry-after-ms"], "250", "{rel} {kind}");
        assert_eq!(headers["retry-after"], "1", "{rel} {kind}");
        let second = send().await.unwrap();
        assert_eq!(
            second.status().as_u16(),
            200,
            "{rel} {kind}: the retry gets the turn"
        );
        let faulted: Vec<Option<FaultKind>> = server
            .replay()
            .journal()
            .session("s")
            .iter()
            .filter_map(|e| match e {
                Entry::Model(m) => Some(m.fault.map(|f| f.kind)),
                Entry::Tool(_) => None,
            })
            .collect();
        assert_eq!(faulted, vec![Some(kind), None], "{rel}");
    }
}

#[tokio::test]
async fn a_cut_stream_closes_the_connection_before_the_body_ends() {
    let mut cut = Fault::new(FaultKind::CutStream);
    cut.after_frames = Some(3);
    let (replay, cassette) = with_faults(
        OPENAI_STREAM,
        vec![TurnFault {
            turn: 0,
            fault: cut,
        }],
    );
    let server = ReplayServer::bind("127.0.0.1:0".parse().unwrap(), replay)
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/s/s/v1/chat/completions", server.url()))
        .bearer_auth("sk-placeholder")
        .json(&cassette.file.interactions[0].request.body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let mut received = Vec::new();
    let mut failed = false;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body must fail, not end");
    let text = String::from_utf8(received).unwrap();
    assert_eq!(text.matches("data: ").count(), 3, "{text}");
}

#[tokio::test]
async fn faults_listed_in_a_cassette_turn_are_served_and_the_reference_loop_gets_through() {
    let mut file: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures").join(ANTHROPIC_STREAM)).unwrap(),
    )
    .unwrap();
    file["interactions"][0]["faults"] = serde_json::json!([
        {"kind": "overloaded", "retry_after_ms": 20},
        {"kind": "cut-stream", "after_frames": 2},
    ]);
    file["interactions"][1]["faults"] =
        serde_json::json!([{"kind": "rate-limit", "retry_after_ms": 20, "times": 2}]);
    let cassette = Cassette::from_json(&file.to_string(), std::path::Path::new("faulty.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(cassette.lint().is_empty(), "{:?}", cassette.lint());
    let server = ReplayServer::start(cassette.clone()).await;
    let tools = CassetteTools::new(Arc::new(cassette.clone()));
    let outcome = ReferenceLoop::new(server.url())
        .run(&cassette, &tools)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.requests, 2, "two model turns");
    let report = server.verify().await;
    assert!(report.is_conformant(), "{report}");
    let statuses: Vec<u16> = server
        .replay()
        .journal()
        .session("default")
        .iter()
        .filter_map(|e| match e {
            Entry::Model(m) => Some(m.status),
            Entry::Tool(_) => None,
        })
        .collect();
    assert_eq!(
        statuses,
        vec![529, 200, 200, 429, 429, 200],
        "cut, then whole"
    );
}

#[tokio::test]
async fn the_reference_loop_answers_a_call_it_cannot_run_with_an_error_result_and_no_tool_run() {
    let cases = [
        (OPENAI_JSON, "malformed-arguments", "are not valid JSON"),
        (RESPONSES_JSON, "malformed-arguments", "are not valid JSON"),
        (
            OPENAI_JSON,
            "undeclared-tool",
            "does not exist; the tools are:",
        ),
        (
            ANTHROPIC_JSON,
            "undeclared-tool",
            "does not exist; the tools are:",
        ),
        (
            GEMINI_JSON,
            "undeclared-tool",
            "does not exist; the tools are:",
        ),
    ];
    for (rel, kind, why) in cases {
        let mut file: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("fixtures").join(rel)).unwrap(),
        )
        .unwrap();
        file["interactions"][0]["faults"] = serde_json::json!([{ "kind": kind }]);
        let cassette = Cassette::from_json(&file.to_string(), std::path::Path::new("model.json"))
            .unwrap_or_else(|e| panic!("{e}"));
        let server = ReplayServer::start(cassette.clone()).await;
        let ran = Arc::new(std::sync::Mutex::new(Vec::new()));
        let simulated = CassetteTools::new(Arc::new(cassette.clone()));
        let tools = {
            let ran = ran.clone();
            move |turn: usize, call: tooltape::transcript::ToolCall| {
                ran.lock().unwrap().push(call.id.clone());
                tooltape::reference_loop::Tools::call(&simulated, turn, call)
            }
        };
        let outcome = ReferenceLoop::new(server.url())
            .run(&cassette, &tools)
            .await
            .unwrap_or_else(|e| panic!("{rel} {kind}: {e}"));
        let first = &outcome.turns[0];
        let refused: Vec<_> = first.results.iter().filter(|r| r.is_error).collect();
        assert_eq!(refused.len(), 1, "{rel} {kind}: {:?}", first.results);
        let text = refused[0].content.as_str().unwrap_or_default();
        assert!(text.contains(why), "{rel} {kind}: {text}");
        let ran = ran.lock().unwrap().clone();
        assert!(
            !ran.contains(&refused[0].call_id),
            "{rel} {kind}: the tool of the refused call ran"
        );
        assert_eq!(
            ran.len(),
            outcome.turns.iter().map(|t| t.calls.len()).sum::<usize>() - 1,
            "{rel} {kind}: every other call ran"
        );
        let report = server.verify().await;
        assert!(report.is_conformant(), "{rel} {kind}: {report}");
    }
}

#[test]
fn a_fault_setting_of_another_kind_in_a_cassette_is_a_lint_problem() {
    let mut file: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures").join(OPENAI_JSON)).unwrap(),
    )
    .unwrap();
    file["interactions"][0]["faults"] =
        serde_json::json!([{"kind": "rate-limit", "after_frames": 2}]);
    let cassette = Cassette::from_json(&file.to_string(), std::path::Path::new("x.json")).unwrap();
    let lints = cassette.lint();
    assert_eq!(lints.len(), 1, "{lints:?}");
    assert!(
        lints[0].message.contains("faults[0]") && lints[0].message.contains("`after_frames`"),
        "{lints:?}"
    );
    file["interactions"][0]["faults"] = serde_json::json!([{"kind": "rate-limits"}]);
    let err = Cassette::from_json(&file.to_string(), std::path::Path::new("x.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("interactions[0].faults[0].kind"), "{err}");
}

#[tokio::test]
async fn a_paced_stream_leaves_at_least_the_pace_between_its_frames() {
    let cassette = load(OPENAI_STREAM);
    let replay = Arc::new(Replay::new().with_pace(Some(tooltape::fault::Pace::Every(
        std::time::Duration::from_millis(20),
    ))));
    replay.add_session("s", cassette.clone());
    let server = ReplayServer::bind("127.0.0.1:0".parse().unwrap(), replay)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let body = reqwest::Client::new()
        .post(format!("{}/s/s/v1/chat/completions", server.url()))
        .bearer_auth("sk-placeholder")
        .json(&cassette.file.interactions[0].request.body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let frames = body.matches("data: ").count();
    assert_eq!(frames, 14, "{body}");
    // A lower bound only: a loaded machine makes the stream slower, never faster.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(20 * 13),
        "{:?}",
        started.elapsed()
    );
}
