//! The positive oracle: the reference loop replays any generated cassette conformantly, with
//! exact timings on a virtual clock. Provider-blind: every provider the generators write is
//! covered.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use tooltape::provider::Provider;
use tooltape::reference_loop::{LoopOutcome, ReferenceLoop};
use tooltape::run::{RunOptions, run};
use tooltape::server::CassetteResponder;
use tooltape::transcript::ToolCall;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::generators::{self, Generated, any_cassette, config};

/// A runtime whose clock only moves when every task waits on a timer: tool latencies cost no
/// real time and spans come out exact.
pub fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// In-process tools for a generated cassette: each call sleeps its generated latency, then
/// returns its recorded answer or fails with its tool's message.
fn generated_tools(
    generated: Arc<Generated>,
) -> impl Fn(usize, ToolCall) -> futures::future::BoxFuture<'static, Result<Value, String>>
+ Send
+ Sync
+ 'static {
    move |turn: usize, call: ToolCall| {
        let g = generated.clone();
        Box::pin(async move {
            let i = g.turns[turn]
                .calls
                .iter()
                .position(|c| c.id == call.id)
                .unwrap_or_else(|| panic!("turn {turn} has no call `{}`", call.id));
            tokio::time::sleep(g.latency(turn, i)).await;
            let answer = &g.turns[turn].answers[i];
            if answer.is_error {
                Err(generators::content_text(&answer.content))
            } else {
                Ok(answer.content.clone())
            }
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Checks what the loop did against the generated conversation: calls as served, results
/// in call order with the right content, and each turn's spans exactly as a concurrent loop
/// with `sequential` tools chained makes them.
fn check_outcome(generated: &Generated, outcome: &LoopOutcome) -> Result<(), TestCaseError> {
    prop_assert_eq!(outcome.turns.len(), generated.turns.len());
    prop_assert_eq!(outcome.requests, generated.turns.len() + 1);
    prop_assert_eq!(&outcome.final_text, &generated.spec.final_text);
    for (t, (done, turn)) in outcome.turns.iter().zip(&generated.turns).enumerate() {
        let ids: Vec<&str> = turn.calls.iter().map(|c| c.id.as_str()).collect();
        let called: Vec<&str> = done.calls.iter().map(|c| c.id.as_str()).collect();
        let answered: Vec<&str> = done.results.iter().map(|r| r.call_id.as_str()).collect();
        prop_assert_eq!(&called, &ids, "turn {}: calls", t);
        prop_assert_eq!(&answered, &ids, "turn {}: results in call order", t);
        for (r, a) in done.results.iter().zip(&turn.answers) {
            prop_assert_eq!(
                &r.content,
                &a.content,
                "turn {}: content of {}",
                t,
                r.call_id
            );
            prop_assert_eq!(
                r.is_error,
                a.is_error,
                "turn {}: is_error of {}",
                t,
                r.call_id
            );
        }
        let spans = &done.spans;
        prop_assert_eq!(spans.len(), ids.len());
        let start = spans
            .iter()
            .map(|s| s.start_ms)
            .fold(f64::INFINITY, f64::min);
        let end = spans
            .iter()
            .map(|s| s.end_ms.expect("the reference loop's spans end"))
            .fold(f64::NEG_INFINITY, f64::max);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        prop_assert!(
            close(end - start, ms(generated.ideal_wall(t))),
            "turn {}: wall {} ms, expected {} ms: {:?}",
            t,
            end - start,
            ms(generated.ideal_wall(t)),
            spans
        );
        let mut chain = start;
        for (i, (span, call)) in spans.iter().zip(&turn.calls).enumerate() {
            prop_assert_eq!(&span.call_id, &call.id);
            prop_assert!(
                close(
                    span.end_ms.unwrap() - span.start_ms,
                    ms(generated.latency(t, i))
                ),
                "{:?}",
                span
            );
            if generated.sim(&call.name).sequential {
                prop_assert!(
                    close(span.start_ms, chain),
                    "turn {}: sequential call {} starts at {} not {}",
                    t,
                    i,
                    span.start_ms,
                    chain
                );
                chain = span.end_ms.unwrap();
            } else {
                prop_assert!(
                    close(span.start_ms, start),
                    "turn {}: independent call {} starts late",
                    t,
                    i
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    /// Through the wiremock adapter, whose server runs on its own thread, so the test's clock
    /// is fully virtual: the bodies the loop sent are exactly the generated correct requests.
    #[test]
    fn the_reference_loop_sends_exactly_the_correct_requests_with_exact_timings(generated in any_cassette()) {
        let generated = Arc::new(generated);
        let cassette = generated.cassette();
        let rt = paused_runtime();
        let (outcome, bodies, findings) = rt.block_on(async {
            let server = MockServer::start().await;
            let responder = CassetteResponder::new(cassette.clone());
            Mock::given(method("POST")).respond_with(responder.clone()).mount(&server).await;
            let tools = generated_tools(generated.clone());
            let outcome = ReferenceLoop::new(server.uri())
                .tool_timeout(Duration::from_secs(3600))
                .run(&cassette, &tools)
                .await;
            let bodies: Vec<Value> = server
                .received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .map(|r| serde_json::from_slice(&r.body).expect("the loop sends JSON"))
                .collect();
            (outcome, bodies, responder.findings())
        });
        let outcome = outcome.map_err(|e| TestCaseError::fail(format!("the loop stopped: {e}")))?;
        prop_assert_eq!(&findings, &Vec::new(), "findings for a correct loop");
        check_outcome(&generated, &outcome)?;
        prop_assert_eq!(bodies.len(), generated.turns.len() + 1);
        for (k, body) in bodies.iter().enumerate() {
            let want = generated.request(k);
            prop_assert!(body == &want, "request {} differs:\n sent {}\n want {}", k, body, want);
        }
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// The product path: `tooltape run` (hyper server on loopback, cassette-simulated tools).
    /// The tools' clock is tokio's and paused, so the report's timing figures are exact too.
    #[test]
    fn tooltape_run_judges_any_generated_cassette_conformant(generated in any_cassette()) {
        let cassette = Arc::new(generated.cassette());
        let rt = paused_runtime();
        let options = RunOptions { tool_timeout: Duration::from_secs(3600), ..RunOptions::default() };
        let (report, runs) = rt.block_on(run(vec![cassette], &options)).expect("a loopback port");
        let outcome = runs[0].outcome.as_ref().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(report.is_conformant(), "{}", report);
        check_outcome(&generated, outcome)?;
        for (t, timing) in report.cassettes[0].turns.iter().enumerate() {
            let tenth = |d: Duration| (ms(d) * 10.0).round() / 10.0;
            prop_assert_eq!(timing.tool_wall_ms, tenth(generated.ideal_wall(t)));
            let longest = (0..generated.turns[t].calls.len()).map(|i| generated.latency(t, i)).max().unwrap();
            let sum: Duration = (0..generated.turns[t].calls.len()).map(|i| generated.latency(t, i)).sum();
            prop_assert_eq!(timing.ideal_ms, tenth(longest));
            prop_assert_eq!(timing.sequential_ms, tenth(sum));
        }
    }
}

#[test]
fn generated_providers_are_both_covered_by_the_positive_oracle() {
    let written: Vec<Provider> = generators::WRITERS.iter().map(|w| w.provider()).collect();
    assert_eq!(
        written,
        Provider::ALL,
        "add the new provider's writer to generators::WRITERS"
    );
}
