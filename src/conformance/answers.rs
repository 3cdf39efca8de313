//! Whether each call got an honest answer (TT023, TT024), and the record the server keeps of
//! it ([`CallLog`]).
//!
//! **What a correct loop does with a call it cannot run** (a model fault, see
//! [`crate::fault::FaultKind::is_model_fault`]): it answers that call with an error result of
//! its own and goes on. Arguments that are not JSON: an error result saying so (the model
//! reads it and calls again), never a crash. A tool that was not declared: an error result
//! ("no such tool"), as the Anthropic tool runner does, never a crash and never a run of
//! something else. An id sent twice: the loop may run the call once or twice and answer the id
//! once or once per call (which of those the provider accepts is not settled by any capture),
//! but it echoes the turn unchanged and does not crash. A loop that stops after such a turn,
//! or leaves the call unanswered, is TT023; the rest is for the other rules.
//!
//! **A result no tool produced** (TT024) is the mark of a "repair" layer that fills in a
//! result for a call the loop dropped, so the provider's missing-result error never shows and
//! the bug is hidden. tooltape cannot see a loop's own tools, so the rule only judges what it
//! can prove, and is silent otherwise. It fires for a call only when all of this holds:
//!
//! - the loop routes its tools through the tool endpoints: another call of the same turn was
//!   run there (a loop that runs its tools itself is never judged);
//! - no tool request of the session was refused (a request the endpoints could not match
//!   may have been this call's, with other arguments);
//! - no call of the turn is of a tool the cassette marks as failing or hung (a loop may then
//!   stop its batch and answer the rest with its own error: TT010's business);
//! - the call is one the loop could run (not a model fault) and no tool request ever asked for
//!   it, however that ended;
//! - its result is not flagged as an error (where the provider has a flag: a flagged result is
//!   the loop's own error, which is honest);
//! - its result carries no text any tool request of the session returned (so a loop that runs
//!   one of two identical calls and answers both with its output is not judged).

use std::collections::{BTreeMap, BTreeSet};

use super::context::{RequestContext, SessionContext};
use super::finding::{Finding, Severity};
use super::rule::{Rule, RuleInfo};
use crate::fault::{FaultKind, ModelFault};

/// How many tool outputs the log keeps, and how much of each.
const OUTPUTS: usize = 256;
const OUTPUT_CHARS: usize = 1024;

/// One call's answer in a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    /// The result carries the provider's error flag.
    pub flagged: bool,
    /// The result carries the text a tool request of the session returned.
    pub tool_output: bool,
}

/// What the loop did with each call: the model faults served, which calls ran at the tool
/// endpoints, and how each call was answered. Kept in the session's ledger, bounded by the
/// cassette's calls and [`OUTPUTS`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallLog {
    /// The model faults the session was served with.
    pub model_faults: Vec<ModelFault>,
    /// The turns (0-based) served to the loop.
    pub served: BTreeSet<usize>,
    /// Calls a tool request was matched to: (response, position), however it ended.
    pub ran: BTreeSet<(usize, usize)>,
    /// Tool requests that matched no call or had a body that is not JSON.
    pub refused: u32,
    /// Per response with calls (0-based), each call's answer in the last request that
    /// answered the turn (`None`: no result for it).
    pub answers: BTreeMap<usize, Vec<Option<Answered>>>,
    outputs: Vec<String>,
}

impl CallLog {
    /// Records the text a tool request returned (a result or an error).
    pub fn output(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() || self.outputs.len() >= OUTPUTS {
            return;
        }
        let kept: String = text.chars().take(OUTPUT_CHARS).collect();
        if !self.outputs.contains(&kept) {
            self.outputs.push(kept);
        }
    }

    /// Records how request `cx` answered the calls of each turn it answers.
    pub fn request(&mut self, cx: &RequestContext<'_>) {
        for answers in cx.answers() {
            let turn = answers.turn - 1;
            let calls = cx.cassette.calls(turn).len();
            if calls == 0 {
                continue;
            }
            let mut each: Vec<Option<Answered>> = vec![None; calls];
            for a in &answers.found {
                let Some(slot) = each.get_mut(a.call).filter(|s| s.is_none()) else {
                    continue;
                };
                let text = a.result.text();
                *slot = Some(Answered {
                    flagged: a.result.is_error,
                    tool_output: self.outputs.iter().any(|o| text.contains(o.as_str())),
                });
            }
            self.answers.insert(turn, each);
        }
    }

    /// When the loop stopped at a served turn that gives two calls one id, without answering
    /// it, what to say about the stop: refusing such a turn (pydantic-ai raises) is a choice
    /// TT013 and TT023 only warn about, so a command that fails after it is explained by it.
    #[must_use]
    pub fn explains_a_stop(&self) -> Option<String> {
        let last = *self.served.last()?;
        let refused = self
            .model_faults
            .iter()
            .any(|f| f.turn == last && f.kind == FaultKind::DuplicateCallId);
        (refused && !self.answers.contains_key(&last)).then(|| {
            format!(
                "the loop stopped at turn {}, whose calls were served with one id twice (fault `{}`)",
                last + 1,
                FaultKind::DuplicateCallId
            )
        })
    }

    /// The positions of the calls of `turn` a model fault made or changed.
    fn faulted(&self, turn: usize) -> BTreeSet<usize> {
        self.model_faults
            .iter()
            .filter(|f| f.turn == turn)
            .map(|f| f.call)
            .collect()
    }
}

/// TT023.
pub struct CrashedOnBadCall;
static TT023: RuleInfo = RuleInfo {
    id: "TT023",
    name: "crashed-on-bad-call",
    severity: Severity::Error,
    summary: "after a turn with a call the loop could not run (arguments that are not JSON, a tool that was not declared, an id sent twice), the loop stopped or sent no result for that call instead of answering it with an error result; a warning where the loop refused a turn that gives two calls one id (no answer tells them apart)",
};
impl Rule for CrashedOnBadCall {
    fn info(&self) -> &'static RuleInfo {
        &TT023
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let log = &cx.calls;
        let mut judged = BTreeSet::new();
        for fault in &log.model_faults {
            if !log.served.contains(&fault.turn) || !judged.insert((fault.turn, fault.call)) {
                continue;
            }
            let what = match fault.kind {
                FaultKind::MalformedArguments => "arguments that are not JSON",
                FaultKind::UndeclaredTool => "a call to a tool the request did not declare",
                _ => "an id an earlier call of the turn has",
            };
            let call = format!("call `{}` (`{}`) with {what}", fault.id, fault.name);
            let stopped = !log.answers.contains_key(&fault.turn);
            let message = match log.answers.get(&fault.turn) {
                None => format!(
                    "turn {} had {call}, and the loop sent no request answering the turn: it stopped there",
                    fault.turn + 1
                ),
                Some(answers) if !answered(cx, fault, answers) => format!(
                    "turn {} had {call}, and the follow-up sent no result for it",
                    fault.turn + 1
                ),
                Some(_) => continue,
            };
            let mut f = TT023.finding(
                Some(fault.turn + 1),
                message,
                "answer a call you cannot run with an error result (`is_error` where the provider has it) that says why (the arguments do not parse, no such tool), run its siblings as usual and go on: the model reads the error and calls again",
            );
            if stopped && fault.kind == FaultKind::DuplicateCallId {
                // Two calls with one id have no answer that tells them apart: a loop that
                // refuses the turn (pydantic-ai raises) chose to, it broke no protocol.
                f.message.push_str(
                    "; refusing a turn that gives two calls one id is defensible, answering the id once and going on keeps the run alive",
                );
                f.severity = Severity::Warning;
            }
            out.push(f);
        }
    }
}

/// Whether `answers` answer the call `fault` concerns: its position, or, for an id sent
/// twice, any call with that id (a loop may answer the id once).
fn answered(cx: &SessionContext<'_>, fault: &ModelFault, answers: &[Option<Answered>]) -> bool {
    if fault.kind != FaultKind::DuplicateCallId {
        return answers.get(fault.call).is_some_and(Option::is_some);
    }
    let calls = cx.cassette.calls(fault.turn);
    answers
        .iter()
        .zip(calls)
        .any(|(a, c)| a.is_some() && c.id == fault.id)
}

/// TT024.
pub struct FabricatedToolResult;
static TT024: RuleInfo = RuleInfo {
    id: "TT024",
    name: "fabricated-tool-result",
    severity: Severity::Error,
    summary: "a call of a turn whose tools ran at the tool endpoints was answered, but never ran there, and its result is neither an error nor any tool's output: a placeholder that silences the provider's missing-result error and hides the dropped call",
};
impl Rule for FabricatedToolResult {
    fn info(&self) -> &'static RuleInfo {
        &TT024
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let log = &cx.calls;
        if log.refused > 0 {
            return;
        }
        for (&turn, answers) in &log.answers {
            let calls = cx.cassette.calls(turn);
            let troubled = calls.iter().any(|c| {
                let sim = cx.cassette.tool(&c.name);
                sim.fails.is_some() || sim.hangs
            });
            let faulted = log.faulted(turn);
            let runnable = |i: &usize| !faulted.contains(i);
            let ran = |i: &usize| log.ran.contains(&(turn, *i));
            if troubled || !(0..calls.len()).filter(runnable).any(|i| ran(&i)) {
                continue;
            }
            let fabricated: Vec<&str> = (0..calls.len())
                .filter(|i| runnable(i) && !ran(i))
                .filter(|&i| {
                    answers
                        .get(i)
                        .copied()
                        .flatten()
                        .is_some_and(|a| !a.flagged && !a.tool_output)
                })
                .map(|i| calls[i].id.as_str())
                .collect();
            if fabricated.is_empty() {
                continue;
            }
            let list: Vec<String> = fabricated
                .iter()
                .map(|id| {
                    let name = calls.iter().find(|c| c.id == *id).map_or("", |c| &c.name);
                    format!("`{id}` (`{name}`)")
                })
                .collect();
            out.push(TT024.finding(
                Some(turn + 1),
                format!(
                    "turn {}: the loop ran the turn's other calls at the tool endpoints, but call{} {} never ran there and {} answered with a result that is neither an error nor any tool's output",
                    turn + 1,
                    if list.len() == 1 { "" } else { "s" },
                    list.join(", "),
                    if list.len() == 1 { "was" } else { "were" }
                ),
                "run every call the model made and answer it with its tool's output, or with an error result when it cannot run; a placeholder result hides the dropped call from the provider and from you",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_kept_trimmed_bounded_and_once() {
        let mut log = CallLog::default();
        log.output("  5  ");
        log.output("5");
        log.output("   ");
        log.output(&"x".repeat(5000));
        assert_eq!(log.outputs.len(), 2);
        assert_eq!(log.outputs[0], "5");
        assert_eq!(log.outputs[1].len(), OUTPUT_CHARS);
        for i in 0..OUTPUTS * 2 {
            log.output(&format!("out {i}"));
        }
        assert_eq!(log.outputs.len(), OUTPUTS);
    }

    #[test]
    fn an_id_sent_twice_is_answered_only_by_a_result_for_a_call_with_that_id() {
        let cassette = crate::cassette::Cassette::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json"
        ))
        .unwrap();
        let calls = cassette.calls(0);
        assert!(calls.len() >= 3);
        let mut fault = ModelFault {
            turn: 0,
            kind: FaultKind::DuplicateCallId,
            call: 1,
            id: calls[0].id.clone(),
            name: calls[1].name.clone(),
        };
        let judged = |fault: &ModelFault, answered_at: usize| {
            let mut answers = vec![None; calls.len()];
            answers[answered_at] = Some(Answered {
                flagged: false,
                tool_output: true,
            });
            let mut log = CallLog {
                model_faults: vec![fault.clone()],
                ..CallLog::default()
            };
            log.served.insert(0);
            log.answers.insert(0, answers);
            let cx = SessionContext {
                calls: log,
                ..SessionContext::empty(&cassette)
            };
            let mut out = Vec::new();
            CrashedOnBadCall.check_session(&cx, &mut out);
            out
        };
        assert!(
            judged(&fault, 0).is_empty(),
            "the first call with the id was answered"
        );
        let sibling = judged(&fault, 2);
        assert_eq!(
            sibling.len(),
            1,
            "only another call was answered: {sibling:?}"
        );
        assert!(
            sibling[0].message.contains("sent no result"),
            "{}",
            sibling[0].message
        );
        fault.kind = FaultKind::UndeclaredTool;
        let undeclared = judged(&fault, 2);
        assert!(
            undeclared[0]
                .message
                .contains("a call to a tool the request did not declare"),
            "{}",
            undeclared[0].message
        );
    }

    #[test]
    fn only_a_stop_at_a_turn_that_repeats_an_id_is_explained_by_it() {
        let fault = |kind| ModelFault {
            turn: 1,
            kind,
            call: 1,
            id: "call_a".into(),
            name: "get_weather".into(),
        };
        let log = |kind, served: &[usize], answered: bool| {
            let mut log = CallLog {
                model_faults: vec![fault(kind)],
                served: served.iter().copied().collect(),
                ..CallLog::default()
            };
            if answered {
                log.answers.insert(1, vec![None, None]);
            }
            log
        };
        let stop = log(FaultKind::DuplicateCallId, &[0, 1], false).explains_a_stop();
        assert!(
            stop.as_deref()
                .is_some_and(|s| s.contains("turn 2") && s.contains("duplicate-call-id")),
            "{stop:?}"
        );
        assert_eq!(
            log(FaultKind::DuplicateCallId, &[0, 1], true).explains_a_stop(),
            None,
            "the loop answered the turn"
        );
        assert_eq!(
            log(FaultKind::DuplicateCallId, &[0, 1, 2], false).explains_a_stop(),
            None,
            "the loop went on past the turn"
        );
        assert_eq!(
            log(FaultKind::MalformedArguments, &[0, 1], false).explains_a_stop(),
            None,
            "a call that does not parse can be answered with an error: stopping is TT023"
        );
    }
}
