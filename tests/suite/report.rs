//! Reports for people and CI: JUnit failures, timelines, "timing not observed".

use tooltape::conformance::{RequestContext, judge_request};
use tooltape::report::{CassetteReport, Report, Span, TurnTiming, render_human, render_junit};

use crate::support::load;

fn failing_report() -> Report {
    let cassette = load("openai-chat/fantasy-gpt-4o-parallel2-followup.json");
    let mut body = cassette.file.interactions[1].request.body.clone();
    body["messages"].as_array_mut().unwrap().pop();
    let decoded = cassette.provider().decode_request(&body);
    let (findings, _) = judge_request(&RequestContext::new(&cassette, &decoded));
    Report {
        cassettes: vec![CassetteReport::new(&cassette, findings, Vec::new())],
        ..Report::default()
    }
    .finish(false)
}

#[test]
fn junit_has_a_failure_per_failing_cassette_with_rule_message_and_hint() {
    let xml = render_junit(&failing_report());
    assert_eq!(xml.matches("<testcase ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.contains("type=\"TT001\""), "{xml}");
    assert!(xml.contains("missing-tool-result"), "{xml}");
    assert!(xml.contains("call_cvvIly4eGLZUYOMhAviT8jAF"), "{xml}");
    assert!(xml.contains("fix: answer every call"), "{xml}");
}

#[test]
fn a_turn_whose_tools_were_not_observed_gets_no_timing_verdict() {
    let cassette = load("openai-chat/fantasy-gpt-4o-parallel2-followup.json");
    let unobserved = TurnTiming::from_spans(1, 2, Vec::new());
    assert!(!unobserved.observed);
    let report = Report {
        cassettes: vec![CassetteReport::new(&cassette, Vec::new(), vec![unobserved])],
        ..Report::default()
    }
    .finish(false);
    let text = render_human(&report, false);
    assert!(
        text.contains("turn 1: 2 calls  timing not observed"),
        "{text}"
    );
    assert!(!text.contains("speed-up"), "{text}");
}

#[test]
fn an_observed_turn_shows_its_figures_and_a_one_line_timeline() {
    let cassette = load("openai-chat/fantasy-gpt-4o-parallel2-followup.json");
    let span = |id: &str, name: &str, start: f64, end: f64| Span {
        turn: 0,
        call_id: id.into(),
        name: name.into(),
        start_ms: start,
        end_ms: Some(end),
        barrier_timed_out: false,
    };
    let turn = TurnTiming::from_spans(
        1,
        2,
        vec![
            span("a", "add", 0.0, 100.0),
            span("m", "multiply", 0.0, 50.0),
        ],
    );
    let report = Report {
        cassettes: vec![CassetteReport::new(&cassette, Vec::new(), vec![turn])],
        ..Report::default()
    }
    .finish(false);
    let text = render_human(&report, false);
    assert!(
        text.contains("tools 100 ms (ideal 100, one-by-one 150)  speed-up 1.5x"),
        "{text}"
    );
    assert!(
        text.contains("timeline: add 0-100ms | multiply 0-50ms"),
        "{text}"
    );
}
