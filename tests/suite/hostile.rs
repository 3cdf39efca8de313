//! Hostile but well-formed requests (issue 11): whatever a loop sends, judging it costs time and
//! memory linear in its size, and the verdict keeps every finding.

use std::sync::Arc;

use serde_json::{Value, json};
use tooltape::cassette::Cassette;
use tooltape::conformance::{Finding, RequestContext, judge_request};
use tooltape::provider::{Provider, Rejection};
use tooltape::report::{Report, render_human};
use tooltape::server::{Limits, Replay, RequestMeta};

use crate::support::load;

const TWO: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";

/// The follow-up of [`TWO`] whose assistant message echoes `n` invented calls and no results.
fn invented_calls(n: usize) -> Value {
    let cassette = load(TWO);
    let mut body = cassette.file.interactions[1].request.body.clone();
    let messages = body["messages"].as_array_mut().unwrap();
    messages.truncate(2);
    let calls: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("call_invented{i:05}"), "type": "function",
                   "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 3}"}})
        })
        .collect();
    messages.push(json!({"role": "assistant", "tool_calls": calls}));
    body
}

fn judge(cassette: &Cassette, body: &Value) -> (Vec<Finding>, Option<Rejection>) {
    let decoded = cassette.provider().decode_request(body);
    judge_request(&RequestContext::new(cassette, &decoded))
}

#[test]
fn unanswered_invented_calls_share_one_list_of_ids() {
    let cassette = load(TWO);
    for n in [50, 400] {
        let (findings, rejection) = judge(&cassette, &invented_calls(n));
        let lists: Vec<&Arc<[String]>> = findings
            .iter()
            .filter_map(|f| match &f.rejection {
                Some(Rejection::MissingResults { ids, .. }) => Some(ids),
                _ => None,
            })
            .collect();
        assert_eq!(lists.len(), n, "one missing-result finding per call");
        assert!(
            lists.iter().all(|ids| Arc::ptr_eq(ids, lists[0])),
            "every finding shares the turn's one list of {n} ids instead of copying it"
        );
        assert_eq!(lists[0].len(), n);
        let Some(Rejection::MissingResults { ids, .. }) = rejection else {
            panic!("the provider rejects the request: {rejection:?}");
        };
        let body = cassette
            .provider()
            .render_rejection(&Rejection::MissingResults { assistant: 2, ids })
            .body;
        assert_eq!(
            body.matches("call_invented").count(),
            n,
            "the provider's 400 names every id once"
        );
        let text: usize = findings
            .iter()
            .map(|f| f.message.len() + f.hint.len())
            .sum();
        assert!(
            text < n * 1024,
            "findings grow linearly: {text} bytes for {n} calls"
        );
    }
}

/// The follow-up of [`TWO`] answered correctly, then `n` more copies of its first result.
fn duplicate_results(n: usize) -> Value {
    let cassette = load(TWO);
    let mut body = cassette.file.interactions[1].request.body.clone();
    let messages = body["messages"].as_array_mut().unwrap();
    let first = messages[3].clone();
    messages.extend(std::iter::repeat_n(first, n));
    body
}

/// The follow-up of [`TWO`] with its `i`-th result's id replaced by an unknown one: a distinct
/// TT002 finding for each `i`.
fn unknown_result(i: usize) -> Value {
    let cassette = load(TWO);
    let mut body = cassette.file.interactions[1].request.body.clone();
    body["messages"][4]["tool_call_id"] = json!(format!("call_unknown{i}"));
    body
}

fn send(replay: &Replay, body: &Value) -> u16 {
    let bytes = serde_json::to_vec(body).unwrap();
    replay
        .handle_model(Some("s"), Provider::OpenAiChat, RequestMeta::all(), &bytes)
        .status()
}

fn replay_with(limits: Limits) -> Arc<Replay> {
    let replay = Arc::new(Replay::with_limits(limits));
    replay.add_session("s", load(TWO));
    replay
}

#[test]
fn a_finding_evicted_from_the_journal_still_fails_the_verdict() {
    let limits = Limits {
        journal_entries: 16,
        ..Limits::default()
    };
    let replay = replay_with(limits);
    let cassette = load(TWO);
    let mut missing = cassette.file.interactions[1].request.body.clone();
    missing["messages"].as_array_mut().unwrap().pop();
    assert_eq!(send(&replay, &missing), 400);
    let good = cassette.file.interactions[1].request.body.clone();
    for _ in 0..200 {
        assert_eq!(send(&replay, &good), 200);
    }
    assert!(
        replay.journal().dropped() > 0,
        "the bad entry left the journal"
    );
    let report = Report {
        cassettes: vec![replay.report("s", &cassette, Vec::new())],
        ..Report::default()
    }
    .finish(false);
    assert!(!report.is_conformant(), "{report}");
    assert_eq!(report.exit_code(), 1);
    let c = &report.cassettes[0];
    assert_eq!(c.requests, Some(201));
    assert!(c.findings.iter().any(|f| f.rule == "TT001"), "{report}");
}

#[test]
fn findings_over_the_limits_are_counted_by_severity_and_fail_the_verdict() {
    let limits = Limits {
        findings_per_request: 10,
        findings_per_session: 25,
        ..Limits::default()
    };
    let replay = replay_with(limits);
    assert_eq!(send(&replay, &duplicate_results(100)), 400);
    let kept = replay.findings("s").len();
    let not_kept = replay.not_kept("s");
    assert_eq!(kept, 10, "the per-request limit keeps errors first");
    assert_eq!(
        (not_kept.errors, not_kept.warnings),
        (90, 1),
        "the other TT003s and the TT007 are counted"
    );
    for i in 0..40 {
        send(&replay, &unknown_result(i));
    }
    assert_eq!(replay.findings("s").len(), 25, "the per-session limit");
    assert_eq!(
        replay.not_kept("s").errors,
        90 + (40 + 1) - 15,
        "40 TT002s and one TT001 are new; 15 of them fit"
    );
    let cassette = load(TWO);
    let report = Report {
        cassettes: vec![replay.report("s", &cassette, Vec::new())],
        ..Report::default()
    }
    .finish(false);
    assert_eq!(report.exit_code(), 1);
    let human = render_human(&report, false);
    assert!(
        human.contains("117 more findings not kept (116 errors, 1 warning)"),
        "{human}"
    );
    let json: Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(
        json["cassettes"][0]["not_kept"],
        json!({"errors": 116, "warnings": 1})
    );
    assert_eq!(json["cassettes"][0]["requests"], 41);
}

#[test]
fn the_journal_holds_the_same_bytes_however_many_duplicates_a_request_has() {
    let mut sizes = Vec::new();
    for n in [200, 2_000] {
        let replay = replay_with(Limits::default());
        send(&replay, &duplicate_results(n));
        sizes.push(replay.journal().bytes());
    }
    assert!(
        sizes[1] < sizes[0] * 3 / 2,
        "an entry's size is bounded by the findings kept, not by the duplicates sent: {sizes:?}"
    );
    let budget = 64 * 1024;
    let replay = replay_with(Limits {
        journal_bytes: budget,
        ..Limits::default()
    });
    for _ in 0..20 {
        send(&replay, &duplicate_results(500));
        assert!(replay.journal().bytes() <= budget);
    }
    assert!(replay.journal().dropped() > 0);
    assert!(replay.findings("s").iter().any(|f| f.rule == "TT003"));
}

#[test]
fn many_requests_with_the_same_findings_keep_each_finding_once() {
    let limits = Limits {
        findings_per_request: 5_000,
        findings_per_session: 5_000,
        ..Limits::default()
    };
    let replay = replay_with(limits);
    for _ in 0..20 {
        send(&replay, &duplicate_results(2_000));
    }
    let tt003 = replay
        .findings("s")
        .iter()
        .filter(|f| f.rule == "TT003")
        .count();
    assert_eq!(tt003, 2_000, "each distinct duplicate once, not 20 times");
    assert!(replay.not_kept("s").is_empty());
}

#[test]
fn a_finding_that_quotes_a_huge_request_is_clipped() {
    let replay = replay_with(Limits {
        findings_per_request: 10_000,
        findings_per_session: 10_000,
        ..Limits::default()
    });
    send(&replay, &duplicate_results(5_000));
    let tt007 = replay
        .findings("s")
        .into_iter()
        .find(|f| f.rule == "TT007")
        .expect("the results are out of order");
    assert!(
        tt007.message.len() < tooltape::conformance::MAX_MESSAGE + 64,
        "{} bytes",
        tt007.message.len()
    );
    assert!(tt007.message.ends_with("more bytes not shown)"));
}
