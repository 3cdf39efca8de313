//! What a rule sees: one request with its cassette, or a finished session.

use foldhash::{HashMap, HashMapExt};
use std::sync::OnceLock;

use super::echo::{self, Echoes};
use super::pairing::{self, Issue};
use crate::cassette::Cassette;
use crate::provider::{DecodedRequest, Facts, Malformed, Rejection};
use crate::span::Span;
use crate::transcript::{Conversation, Role, ToolCall, ToolResult};

/// One request to a model endpoint, decoded or not.
#[derive(Debug)]
pub struct RequestContext<'a> {
    /// The cassette being replayed.
    pub cassette: &'a Cassette,
    /// The request, or why it does not decode.
    pub decoded: &'a Result<DecodedRequest, Malformed>,
    pairing: OnceLock<Vec<Issue>>,
    unanswered: OnceLock<HashMap<usize, Rejection>>,
    answers: OnceLock<Vec<TurnAnswers<'a>>>,
    echoes: OnceLock<Echoes>,
}

/// The results that answer one assistant turn's calls, in request order.
#[derive(Debug)]
pub struct TurnAnswers<'a> {
    /// The 1-based model turn.
    pub turn: usize,
    /// The results found after it, before the next assistant message.
    pub found: Vec<Answer<'a>>,
}

/// One result and the call it answers.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The call's position in the turn as served (the cassette), so that a call dropped from
    /// the echoed message does not shift its siblings.
    pub call: usize,
    /// The message holding the result.
    pub message: usize,
    /// The block of the result in that message.
    pub block: usize,
    /// The result.
    pub result: &'a ToolResult,
}

impl<'a> RequestContext<'a> {
    /// A context for one request.
    #[must_use]
    pub fn new(cassette: &'a Cassette, decoded: &'a Result<DecodedRequest, Malformed>) -> Self {
        Self {
            cassette,
            decoded,
            pairing: OnceLock::new(),
            unanswered: OnceLock::new(),
            answers: OnceLock::new(),
            echoes: OnceLock::new(),
        }
    }

    /// What the cassette's provider requires.
    #[must_use]
    pub fn facts(&self) -> &'static Facts {
        self.cassette.provider().codec().facts()
    }

    /// The decoded request, when it decodes and continues nothing unknown.
    #[must_use]
    pub fn request(&self) -> Option<&'a DecodedRequest> {
        self.decoded.as_ref().ok().filter(|r| r.continues.is_none())
    }

    /// The response id a stateful continuation names that the cassette never served (see
    /// [`crate::cassette::resolve_continuation_from`], which resolves the known ones first).
    #[must_use]
    pub fn unknown_continuation(&self) -> Option<&'a str> {
        self.decoded
            .as_ref()
            .ok()
            .and_then(|r| r.continues.as_deref())
    }

    /// Why the request does not decode, when it does not.
    #[must_use]
    pub fn malformed(&self) -> Option<&'a Malformed> {
        self.decoded.as_ref().err()
    }

    /// How results pair with calls, computed once per request.
    pub fn pairing(&self) -> &[Issue] {
        self.pairing.get_or_init(|| match self.request() {
            Some(r) => pairing::analyse(self.facts().placement, &r.conversation),
            None => Vec::new(),
        })
    }

    /// Which served turn each assistant message echoes, and the response the request asks
    /// for, computed once per request.
    pub fn echoes(&self) -> &Echoes {
        self.echoes.get_or_init(|| match self.request() {
            Some(r) => echo::echoes(self.cassette, &r.conversation),
            None => Echoes::default(),
        })
    }

    /// For each assistant turn with calls, the results that answer them (ids the turn did not
    /// serve are left to the pairing rules), computed once per request.
    pub fn answers(&self) -> &[TurnAnswers<'a>] {
        self.answers.get_or_init(|| match self.request() {
            Some(r) => answers(self.cassette, &r.conversation, self.echoes()),
            None => Vec::new(),
        })
    }

    /// Whether model turn `turn` (1-based) has a call of a tool the cassette marks as failing
    /// that can run (see [`Self::can_fail`]).
    #[must_use]
    pub fn has_failing_call(&self, turn: usize) -> bool {
        turn > 0
            && self
                .cassette
                .calls(turn - 1)
                .iter()
                .any(|c| self.can_fail(c))
    }

    /// Whether `call` fails as the cassette says its tool does: a call of a failing tool whose
    /// arguments parse. One whose arguments a model fault broke never runs, so never fails.
    #[must_use]
    pub fn can_fail(&self, call: &ToolCall) -> bool {
        self.cassette.tool(&call.name).fails.is_some() && call.arguments_value().is_some()
    }

    /// Whether the missing result of call `id` of model turn `turn` (1-based) is one a tool's
    /// failure may have dropped (TT010's, not TT001's): the turn has a call that fails, and
    /// this call could run.
    #[must_use]
    pub fn failure_dropped(&self, turn: usize, id: &str) -> bool {
        self.has_failing_call(turn)
            && self
                .cassette
                .calls(turn - 1)
                .iter()
                .find(|c| c.id == id)
                .is_none_or(|c| c.arguments_value().is_some())
    }

    /// The provider's error for the unanswered calls of `turn` (1-based), computed once per
    /// request; cloning it shares the list of ids.
    #[must_use]
    pub fn unanswered_rejection(&self, turn: usize) -> Option<Rejection> {
        self.unanswered
            .get_or_init(|| pairing::unanswered(self.pairing()))
            .get(&turn)
            .cloned()
    }
}

/// A finished session: everything one loop sent while replaying one cassette.
#[derive(Debug)]
pub struct SessionContext<'a> {
    /// The cassette replayed.
    pub cassette: &'a Cassette,
    /// The model requests of the session, in arrival order. The replay server passes the last
    /// one only (all the session rules read), so a session's memory stays bounded however
    /// many requests it gets.
    pub requests: Vec<SessionRequest>,
    /// The tool calls made through the tool endpoints, in arrival order.
    pub tool_spans: Vec<Span>,
    /// Whether the tool endpoints held replies at a barrier.
    pub barrier: bool,
    /// Requests to routes tooltape does not serve, in arrival order.
    pub unsupported: Vec<UnsupportedRoute>,
    /// The faults served and what the loop did next.
    pub faults: super::faults::FaultLog,
    /// Which calls ran at the tool endpoints, and how each was answered.
    pub calls: super::answers::CallLog,
}

/// A request to a route no codec serves, with what to tell the loop.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnsupportedRoute {
    /// The method and path (below any session prefix), e.g. `POST /v1/responses`.
    pub route: String,
    /// The route that is served and the base URL to use.
    pub advice: String,
}

/// One model request of a session, as the session rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRequest {
    /// The 0-based response index it asked for, when it decoded.
    pub turn: Option<usize>,
    /// Whether the recorded response was served (status 200).
    pub served: bool,
}

impl SessionContext<'_> {
    /// The last served turn that asked for tools, when no request came after it: the loop
    /// stopped there.
    #[must_use]
    pub fn abandoned_turn(&self) -> Option<usize> {
        let last = self.requests.last()?;
        let turn = last.turn.filter(|_| last.served)?;
        (!self.cassette.calls(turn).is_empty()).then_some(turn)
    }
}

#[cfg(test)]
impl<'a> SessionContext<'a> {
    /// A session of `cassette` with nothing recorded, for a test to fill in.
    pub(crate) fn empty(cassette: &'a Cassette) -> Self {
        Self {
            cassette,
            requests: Vec::new(),
            tool_spans: Vec::new(),
            barrier: false,
            unsupported: Vec::new(),
            faults: super::faults::FaultLog::default(),
            calls: super::answers::CallLog::default(),
        }
    }
}

fn answers<'a>(
    cassette: &Cassette,
    conversation: &'a Conversation,
    echoes: &Echoes,
) -> Vec<TurnAnswers<'a>> {
    let messages = &conversation.messages;
    let mut out: Vec<TurnAnswers<'a>> = Vec::new();
    for &(a, t) in &echoes.messages {
        if messages[a].tool_calls().next().is_none() {
            continue;
        }
        let served = cassette.calls(t);
        let ids: Vec<&str> = if served.is_empty() {
            messages[a].tool_calls().map(|c| c.id.as_str()).collect()
        } else {
            served.iter().map(|c| c.id.as_str()).collect()
        };
        let mut calls = CallsById::new(ids);
        let mut found = Vec::with_capacity(calls.len());
        for (m, message) in messages.iter().enumerate().skip(a + 1) {
            if message.role == Role::Assistant {
                break;
            }
            for (b, result) in message.tool_results() {
                if let Some(call) = calls.answer(result.call_id.as_str()) {
                    found.push(Answer {
                        call,
                        message: m,
                        block: b,
                        result,
                    });
                }
            }
        }
        match out.last_mut().filter(|last| last.turn == t + 1) {
            Some(last) => last.found.extend(found),
            None => out.push(TurnAnswers { turn: t + 1, found }),
        }
    }
    out
}

/// The calls of one turn by id, for pairing results with them in order. An id the model sent
/// twice answers its calls in turn: the k-th result for it is the k-th call's (the last
/// call's past that). One map and one list, however the ids repeat.
struct CallsById<'a> {
    /// Each id's next call still to answer.
    next: HashMap<&'a str, usize>,
    /// For each call, the next call of the same id, if any.
    later: Vec<Option<usize>>,
}

impl<'a> CallsById<'a> {
    fn new(ids: Vec<&'a str>) -> Self {
        let mut next = HashMap::with_capacity(ids.len());
        let mut later = vec![None; ids.len()];
        for (i, id) in ids.into_iter().enumerate().rev() {
            later[i] = next.insert(id, i);
        }
        Self { next, later }
    }

    fn len(&self) -> usize {
        self.later.len()
    }

    /// The position of the call a result for `id` answers, if the turn has such a call.
    fn answer(&mut self, id: &str) -> Option<usize> {
        let next = self.next.get_mut(id)?;
        let call = *next;
        if let Some(after) = self.later[call] {
            *next = after;
        }
        Some(call)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn cassette(rel: &str) -> Cassette {
        Cassette::load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(rel),
        )
        .unwrap()
    }

    #[test]
    fn a_failing_call_is_one_of_the_turn_before() {
        let failing = cassette("anthropic/handmade-failing-tool-stream.json");
        let decoded = Ok(failing.turns[1].request.clone());
        let cx = RequestContext::new(&failing, &decoded);
        assert!(!cx.has_failing_call(0), "the first request answers no call");
        assert!(cx.has_failing_call(1), "turn 1 called the failing tool");
        assert!(!cx.has_failing_call(2), "turn 2 is the final answer");
        assert!(!cx.has_failing_call(9), "past the end");
        let healthy = cassette("anthropic/fantasy-sonnet-4-parallel2-followup.json");
        let decoded = Ok(healthy.turns[1].request.clone());
        let cx = RequestContext::new(&healthy, &decoded);
        assert!(!cx.has_failing_call(1));
    }

    #[test]
    fn results_for_a_repeated_id_answer_its_calls_in_turn_then_stay_on_the_last() {
        let mut calls = CallsById::new(vec!["x", "y", "x", "z", "x"]);
        assert_eq!(calls.len(), 5);
        let answered: Vec<Option<usize>> = ["x", "y", "x", "w", "x", "x", "y", "z"]
            .into_iter()
            .map(|id| calls.answer(id))
            .collect();
        assert_eq!(
            answered,
            [
                Some(0),
                Some(1),
                Some(2),
                None,
                Some(4),
                Some(4),
                Some(1),
                Some(3)
            ]
        );
    }
}
