//! Rules on when tools ran, from the tool endpoints' spans (TT008, TT015).

use super::context::SessionContext;
use super::finding::{Finding, Severity};
use super::rule::{Rule, RuleInfo};
use crate::span::{Span, timeline};

/// The turns (0-based) that have tool spans, in order.
fn observed_turns(cx: &SessionContext<'_>) -> Vec<usize> {
    let mut turns: Vec<usize> = cx.tool_spans.iter().map(|s| s.turn).collect();
    turns.sort_unstable();
    turns.dedup();
    turns
}

fn turn_spans<'a>(cx: &'a SessionContext<'_>, turn: usize) -> Vec<&'a Span> {
    let mut spans: Vec<&Span> = cx.tool_spans.iter().filter(|s| s.turn == turn).collect();
    let calls = cx.cassette.calls(turn);
    spans.sort_by_key(|s| calls.iter().position(|c| c.id == s.call_id));
    spans
}

/// TT008.
pub struct SequentialExecution;
static TT008: RuleInfo = RuleInfo {
    id: "TT008",
    name: "sequential-execution",
    severity: Severity::Error,
    summary: "the independent tool calls of one turn did not overlap (or the barrier timed out); a warning unless the cassette sets `expect_concurrency`",
};
impl Rule for SequentialExecution {
    fn info(&self) -> &'static RuleInfo {
        &TT008
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        for turn in observed_turns(cx) {
            let spans = turn_spans(cx, turn);
            let independent: Vec<&Span> = spans
                .iter()
                .copied()
                .filter(|s| !cx.cassette.tool(&s.name).sequential)
                .collect();
            if independent.len() < 2 {
                continue;
            }
            let timed_out = independent.iter().any(|s| s.barrier_timed_out);
            let overlap = independent
                .iter()
                .enumerate()
                .any(|(i, a)| independent[i + 1..].iter().any(|b| a.overlaps(b)));
            let sequential = if cx.barrier { timed_out } else { !overlap };
            if sequential {
                let why = if cx.barrier {
                    "the barrier timed out waiting for the other calls"
                } else {
                    "no two of them overlapped in time"
                };
                let mut f = TT008.finding(
                    Some(turn + 1),
                    format!(
                        "the {} independent calls of turn {} ran one after another ({why}): {}",
                        independent.len(),
                        turn + 1,
                        timeline(&independent)
                    ),
                    "start every independent call of a turn before awaiting any (asyncio.gather, join_all, a thread pool); an `async def` awaited in a for loop still runs one at a time",
                );
                if !cx.cassette.file.expect_concurrency {
                    f.severity = Severity::Warning;
                }
                out.push(f);
            }
        }
    }
}

/// TT015.
pub struct UnorderedSideEffects;
static TT015: RuleInfo = RuleInfo {
    id: "TT015",
    name: "unordered-side-effects",
    severity: Severity::Error,
    summary: "calls to tools the cassette marks `sequential` did not run one at a time, in call order",
};
impl Rule for UnorderedSideEffects {
    fn info(&self) -> &'static RuleInfo {
        &TT015
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        for turn in observed_turns(cx) {
            let ordered: Vec<&Span> = turn_spans(cx, turn)
                .into_iter()
                .filter(|s| cx.cassette.tool(&s.name).sequential)
                .collect();
            let bad = ordered.windows(2).any(|w| {
                let prev_end = w[0].end_ms.unwrap_or(f64::INFINITY);
                w[1].start_ms < prev_end
            });
            if bad {
                out.push(TT015.finding(
                    Some(turn + 1),
                    format!(
                        "the calls of sequential tools in turn {} overlapped or ran out of call order: {}",
                        turn + 1,
                        timeline(&ordered)
                    ),
                    "run calls of tools with side effects one at a time, each after the previous one finished, in the order the model gave",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::Cassette;

    #[test]
    fn a_later_turn_whose_calls_ran_one_after_another_is_found_in_that_turn() {
        let cassette = Cassette::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/openai-chat/handmade-three-turns.json"
        ))
        .unwrap();
        let turn = (0..cassette.turns.len())
            .rfind(|&t| cassette.calls(t).len() >= 2)
            .expect("a turn with two calls");
        assert!(turn > 0, "the turn is not the first");
        let span = |i: usize, start_ms: f64| {
            let call = &cassette.calls(turn)[i];
            Span {
                turn,
                call_id: call.id.clone(),
                name: call.name.clone(),
                start_ms,
                end_ms: Some(start_ms + 50.0),
                barrier_timed_out: false,
            }
        };
        let cx = SessionContext {
            tool_spans: vec![span(0, 0.0), span(1, 100.0)],
            ..SessionContext::empty(&cassette)
        };
        assert_eq!(observed_turns(&cx), [turn]);
        let mut out = Vec::new();
        SequentialExecution.check_session(&cx, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].turn, Some(turn + 1));
    }
}
