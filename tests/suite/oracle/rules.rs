//! Every rule made to fire, and every rule's finding as the reports render it (one snapshot
//! per rule, `snapshots/rule-TT0xx.snap`).

use std::sync::Arc;

use tooltape::Cassette;
use tooltape::conformance::{Finding, RULES, SessionContext, SessionRequest, UnsupportedRoute};
use tooltape::report::{CassetteReport, Report, render_human};
use tooltape::span::Span;

use super::faults::{fault_example, fault_scenarios};
use super::model_faults::{model_fault_example, model_fault_scenarios};
use super::mutation::{FollowUp, Mutation, fixture_mutations, judge_findings, mutate};
use super::sessions::{FAILING, PARALLEL2, SEQUENTIAL, rules_of, session_scenarios};
use crate::support::{load, snapshot_settings};

#[test]
fn every_rule_is_made_to_fire_by_a_mutation_or_a_session_scenario() {
    let mut fired = fixture_mutations().1.clone();
    for (_, findings, _) in session_scenarios()
        .into_iter()
        .chain(fault_scenarios())
        .chain(model_fault_scenarios())
    {
        fired.extend(rules_of(&findings));
    }
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.info().id)
        .filter(|id| !fired.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "no mutation or scenario makes these rules fire: {missing:?}"
    );
}

/// The findings of `rule` on request 1 of a bundled cassette after `mutation`.
fn mutation_example(rel: &str, mutation: Mutation, rule: &str) -> (Arc<Cassette>, Vec<Finding>) {
    mutation_example_at(rel, 1, mutation, rule)
}

/// The findings of `rule` on request `k` of a bundled cassette after `mutation`.
fn mutation_example_at(
    rel: &str,
    k: usize,
    mutation: Mutation,
    rule: &str,
) -> (Arc<Cassette>, Vec<Finding>) {
    let cassette = load(rel);
    let f = FollowUp::parse(&cassette, k).expect("a clean follow-up");
    let mutated = mutate(&f, mutation, &cassette).expect("the mutation applies");
    let (findings, _, _) = judge_findings(&cassette, mutated.meta, &mutated.body);
    (
        cassette,
        findings.into_iter().filter(|f| f.rule == rule).collect(),
    )
}

/// The findings of `rule` for a finished session with the given requests and spans.
fn session_example(
    rel: &str,
    requests: Vec<SessionRequest>,
    spans: &[(usize, f64, f64)],
    rule: &str,
) -> (Arc<Cassette>, Vec<Finding>) {
    session_example_with(rel, requests, spans, Vec::new(), rule)
}

fn session_example_with(
    rel: &str,
    requests: Vec<SessionRequest>,
    spans: &[(usize, f64, f64)],
    unsupported: Vec<UnsupportedRoute>,
    rule: &str,
) -> (Arc<Cassette>, Vec<Finding>) {
    let cassette = load(rel);
    let calls = cassette.calls(0);
    let cx = SessionContext {
        cassette: &cassette,
        requests,
        tool_spans: spans
            .iter()
            .map(|&(i, start_ms, end_ms)| Span {
                turn: 0,
                call_id: calls[i].id.clone(),
                name: calls[i].name.clone(),
                start_ms,
                end_ms: Some(end_ms),
                barrier_timed_out: false,
            })
            .collect(),
        barrier: false,
        unsupported,
        faults: tooltape::conformance::FaultLog::default(),
        calls: tooltape::conformance::CallLog::default(),
    };
    let findings = tooltape::conformance::judge_session(&cx);
    (
        cassette.clone(),
        findings.into_iter().filter(|f| f.rule == rule).collect(),
    )
}

fn rule_example(id: &str) -> (Arc<Cassette>, Vec<Finding>) {
    use Mutation::*;
    const SONNET: &str = "anthropic/fantasy-sonnet-4-parallel2-followup.json";
    let whole = vec![
        SessionRequest {
            turn: Some(0),
            served: true,
        },
        SessionRequest {
            turn: Some(1),
            served: true,
        },
    ];
    match id {
        "TT001" => mutation_example(PARALLEL2, DropResult(1), id),
        "TT002" => mutation_example(PARALLEL2, UnknownId(0), id),
        "TT003" => mutation_example(PARALLEL2, DuplicateResult(0), id),
        "TT004" => mutation_example(SONNET, TextBeforeResults, id),
        "TT005" => mutation_example(SONNET, SplitResults(0), id),
        "TT006" => mutation_example(PARALLEL2, AlterArguments(0), id),
        "TT007" => mutation_example(PARALLEL2, ReorderResults(0), id),
        "TT008" => session_example(PARALLEL2, whole, &[(0, 0.0, 100.0), (1, 100.0, 150.0)], id),
        "TT009" => mutation_example(PARALLEL2, SwapContents(0, 0), id),
        "TT010" => mutation_example(FAILING, DropResult(1), id),
        "TT011" => mutation_example(PARALLEL2, ArgumentsAsObject(0), id),
        "TT012" => mutation_example(PARALLEL2, ChangePrompt, id),
        "TT013" => session_example(
            PARALLEL2,
            vec![SessionRequest {
                turn: Some(0),
                served: true,
            }],
            &[],
            id,
        ),
        "TT014" => mutation_example(PARALLEL2, AfterFinalAnswer, id),
        "TT015" => session_example(
            SEQUENTIAL,
            whole,
            &[(0, 0.0, 80.0), (1, 40.0, 120.0), (2, 0.0, 30.0)],
            id,
        ),
        "TT016" => session_example_with(
            PARALLEL2,
            Vec::new(),
            &[],
            vec![UnsupportedRoute {
                route: "POST /v1/embeddings".into(),
                advice: "tooltape serves POST /v1/chat/completions below `http://127.0.0.1:8089`"
                    .into(),
            }],
            id,
        ),
        "TT017" => mutation_example_at("openai-chat/handmade-three-turns.json", 2, ParallelOff, id),
        "TT018" => (
            load(PARALLEL2),
            fault_example("stops at a 429 without retrying", id),
        ),
        "TT019" => (
            load(PARALLEL2),
            fault_example("retries a 429 2 ms before its retry-after", id),
        ),
        "TT020" => (
            load(PARALLEL2),
            fault_example("retries eleven times and more", id),
        ),
        "TT021" => (
            load(PARALLEL2),
            fault_example("runs the tools again with the rate-limited follow-up", id),
        ),
        "TT022" => (
            load("anthropic/fantasy-sonnet-4-parallel2-followup-stream.json"),
            fault_example("runs the calls of a cut stream", id),
        ),
        "TT023" => (
            load(PARALLEL2),
            model_fault_example("crashes on malformed arguments", id),
        ),
        "TT024" => (
            load(PARALLEL2),
            model_fault_example("fills in a placeholder for a call it dropped", id),
        ),
        other => panic!("no example for rule {other}: add one to rule_example"),
    }
}

#[test]
fn every_rules_finding_renders_in_the_human_and_json_reports() {
    for rule in RULES {
        let id = rule.info().id;
        let (cassette, findings) = rule_example(id);
        assert!(
            !findings.is_empty(),
            "the example for {id} does not fire it"
        );
        let report = Report {
            cassettes: vec![CassetteReport::new(&cassette, findings, Vec::new())],
            ..Report::default()
        }
        .finish(false);
        let rendered = format!(
            "{}\n---\n{}",
            render_human(&report, false),
            report.to_json()
        );
        snapshot_settings().bind(|| insta::assert_snapshot!(format!("rule-{id}"), rendered));
    }
}
