//! Tool endpoints: `POST /tools/{name}` (and MCP `tools/call`, see `mcp`) runs a simulated tool
//! call of the current turn.
//!
//! A request is matched to a call (by the `tooltape-call-id` header, else by name and arguments;
//! also by name and arguments for an id the cassette does not know where calls need not carry
//! ids, since the loop's SDK invented it; among the calls of the turns served to the session, the most recently served turn first and
//! a call not made yet before one already made, identical calls in order), waits for the
//! barrier, then the simulated latency, and answers with the recorded result: a string as
//! `text/plain`, other content as JSON, a failing tool with 500, a hung tool never.
//!
//! Several loops may share one session (one cassette behind a bare URL, or one session
//! prefix): the desk keeps every turn served to the session, not one "current" turn, so a
//! loop still running the tools of turn 1 is matched while another has moved on to turn 2.
//! Calls that are identical (same tool, same arguments) in several turns cannot be told apart
//! that way; send the `tooltape-call-id` header for them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use crate::cassette::Cassette;
use crate::provider::Pairing;
use crate::transcript::ToolCall;

/// What a tool endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolReply {
    /// HTTP status.
    pub status: u16,
    /// `text/plain; charset=utf-8` or `application/json`.
    pub content_type: &'static str,
    /// The body.
    pub body: Bytes,
}

impl ToolReply {
    pub(super) fn text(status: u16, body: String) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from(body),
        }
    }

    pub(super) fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: Bytes::from(body.to_string()),
        }
    }
}

/// What running one simulated tool call comes to, whatever the transport that asked for it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ToolOutcome {
    /// The recorded result as text (a string, or content made only of text blocks).
    Text(String),
    /// The recorded result, structured.
    Json(serde_json::Value),
    /// The cassette marks the tool as failing, with this error text.
    Failed(String),
    /// No call was run: no session, no matching call. An HTTP status and why.
    Refused(u16, String),
}

impl ToolOutcome {
    /// The HTTP status the tool endpoint answers with, as journalled.
    pub fn status(&self) -> u16 {
        match self {
            Self::Text(_) | Self::Json(_) => 200,
            Self::Failed(_) => 500,
            Self::Refused(status, _) => *status,
        }
    }

    /// The tool endpoint's answer: the result as `text/plain` or JSON, `{"error": …}` with 500
    /// for a failing tool, the reason as text for a refusal.
    pub fn into_reply(self) -> ToolReply {
        let status = self.status();
        match self {
            Self::Text(text) | Self::Refused(_, text) => ToolReply::text(status, text),
            Self::Json(value) => ToolReply::json(status, &value),
            Self::Failed(message) => {
                ToolReply::json(status, &serde_json::json!({ "error": message }))
            }
        }
    }
}

/// A matched call.
#[derive(Debug, Clone)]
pub(super) struct Claim {
    pub turn: usize,
    /// The call's position in its turn.
    pub index: usize,
    pub call: ToolCall,
    pub repeat: bool,
    /// Calls of the turn that the barrier waits for (the independent ones).
    pub needed: usize,
    pub arrivals: watch::Receiver<usize>,
    /// The call whose answer this call's answer follows (see [`after`]): the next call of
    /// the turn the barrier waits for, when both take the default latencies and it does not
    /// hang.
    pub follows: Option<usize>,
    /// Which calls of the turn have been answered.
    pub finished: watch::Sender<Vec<bool>>,
}

#[derive(Debug)]
struct TurnDesk {
    claimed: Vec<bool>,
    arrivals: watch::Sender<usize>,
    finished: watch::Sender<Vec<bool>>,
}

#[derive(Debug, Default)]
struct SessionDesk {
    /// The turns with calls served to the session, each once, the most recently served last.
    served: Vec<usize>,
    turns: HashMap<usize, TurnDesk>,
}

/// Per-session bookkeeping of which calls have been made.
#[derive(Debug, Default)]
pub(super) struct ToolDesk {
    sessions: Mutex<HashMap<String, SessionDesk>>,
}

impl ToolDesk {
    /// Records that response `turn` (with tool calls) was served to `session`.
    pub fn served(&self, session: &str, turn: usize) {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let desk = sessions.entry(session.to_owned()).or_default();
        desk.served.retain(|t| *t != turn);
        desk.served.push(turn);
    }

    /// Matches a tool request to a call, or explains why none matches.
    ///
    /// `unrunnable` are the calls (response, position) a model fault made or changed: a loop
    /// cannot run them as they are, so the barrier does not wait for them.
    pub fn claim(
        &self,
        session: &str,
        cassette: &Cassette,
        name: &str,
        call_id: Option<&str>,
        arguments: &str,
        unrunnable: &[(usize, usize)],
    ) -> Result<Claim, String> {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let desk = sessions.entry(session.to_owned()).or_default();
        let by_id = match call_id {
            Some(id) => find_by_id(cassette, name, id)?,
            None => None,
        };
        // Where calls need not carry ids, the loop's SDK invents them (pydantic-ai's
        // `pyd_ai_…` for Gemini): an id the cassette does not know says nothing, so the call
        // is found by name and arguments.
        let invented = cassette.provider().codec().facts().pairing == Pairing::ByOrderAndName;
        let (turn, index) = match (by_id, call_id) {
            (Some((turn, first)), Some(id)) => {
                let claimed = |i: usize| desk.turns.get(&turn).is_some_and(|t| t.claimed[i]);
                let same_id = cassette
                    .calls(turn)
                    .iter()
                    .enumerate()
                    .skip(first)
                    .filter(|(_, c)| c.id == id)
                    .map(|(i, _)| i);
                let free = same_id.clone().find(|&i| !claimed(i));
                (turn, free.unwrap_or(first))
            }
            (Some(found), None) => found,
            (None, Some(id)) if !invented => return Err(unknown_id(cassette, id)),
            (None, _) => {
                let Some(&latest) = desk.served.last() else {
                    return Err(format!(
                        "tooltape: no response with tool calls has been served to this session yet, so `{name}` matches no call"
                    ));
                };
                let wanted = ToolCall {
                    id: String::new(),
                    name: name.to_owned(),
                    arguments: arguments.to_owned(),
                    item_id: None,
                };
                let matching: Vec<(usize, usize)> = desk
                    .served
                    .iter()
                    .rev()
                    .flat_map(|&turn| {
                        cassette
                            .calls(turn)
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| c.name == name && c.same_arguments(&wanted))
                            .map(move |(i, _)| (turn, i))
                    })
                    .collect();
                let claimed =
                    |(turn, i): (usize, usize)| desk.turns.get(&turn).is_some_and(|t| t.claimed[i]);
                let free = matching.iter().copied().find(|c| !claimed(*c));
                match free.or_else(|| matching.first().copied()) {
                    Some(found) => found,
                    None => return Err(no_match(cassette, latest, name, arguments)),
                }
            }
        };
        let calls = cassette.calls(turn);
        let independent: Vec<bool> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| !cassette.tool(&c.name).sequential && !unrunnable.contains(&(turn, i)))
            .collect();
        let needed = independent.iter().filter(|x| **x).count();
        let t = desk.turns.entry(turn).or_insert_with(|| TurnDesk {
            claimed: vec![false; calls.len()],
            arrivals: watch::channel(0).0,
            finished: watch::channel(vec![false; calls.len()]).0,
        });
        let repeat = t.claimed[index];
        if !repeat {
            t.claimed[index] = true;
            if independent[index] {
                t.arrivals.send_modify(|n| *n += 1);
            }
        }
        Ok(Claim {
            turn,
            index,
            call: calls[index].clone(),
            repeat,
            needed,
            arrivals: t.arrivals.subscribe(),
            follows: follows(cassette, calls, index, &independent),
            finished: t.finished.clone(),
        })
    }
}

/// The call whose answer call `index` follows (see [`Claim::follows`]).
fn follows(
    cassette: &Cassette,
    calls: &[ToolCall],
    index: usize,
    independent: &[bool],
) -> Option<usize> {
    let default = |c: &ToolCall| cassette.tool(&c.name).latency_ms.is_none();
    let later = (index + 1..calls.len()).find(|&j| independent[j])?;
    (independent[index]
        && default(&calls[index])
        && default(&calls[later])
        && !cassette.tool(&calls[later].name).hangs)
        .then_some(later)
}

/// The call with id `id` (turn, index), `None` when no call of the cassette has it.
fn find_by_id(cassette: &Cassette, name: &str, id: &str) -> Result<Option<(usize, usize)>, String> {
    for turn in 0..cassette.turns.len() {
        if let Some(i) = cassette.calls(turn).iter().position(|c| c.id == id) {
            let call = &cassette.calls(turn)[i];
            if call.name != name {
                return Err(format!(
                    "tooltape: call `{id}` is a call of tool `{}`, not `{name}`; post it to /tools/{}",
                    call.name, call.name
                ));
            }
            return Ok(Some((turn, i)));
        }
    }
    Ok(None)
}

fn unknown_id(cassette: &Cassette, id: &str) -> String {
    format!(
        "tooltape: no call of cassette `{}` has the id `{id}` (header tooltape-call-id); send the id of the call you are running",
        cassette.name()
    )
}

fn no_match(cassette: &Cassette, turn: usize, name: &str, arguments: &str) -> String {
    let calls: Vec<String> = cassette
        .calls(turn)
        .iter()
        .map(|c| format!("{} {} (id {})", c.name, c.arguments, c.id))
        .collect();
    format!(
        "tooltape: no call of turn {} is `{name}` with arguments {arguments}; the turn's calls are: {}",
        turn + 1,
        calls.join("; ")
    )
}

/// Waits until call `later` of the turn has been answered, or `grace` passes, then a short
/// gap so that its answer leaves first. The default latencies already answer a turn's calls
/// in reverse call order; on a loaded machine two timers can fire together, and this keeps
/// the order (a loop that pairs results by completion order must see it on every run).
pub(super) async fn after(mut finished: watch::Receiver<Vec<bool>>, later: usize, grace: Duration) {
    if finished.borrow().get(later).copied().unwrap_or(true) {
        return;
    }
    if tokio::time::timeout(grace, finished.wait_for(|f| f[later]))
        .await
        .is_ok()
    {
        tokio::time::sleep(ORDER_GAP).await;
    }
}

/// How long a call's answer waits after the later call's answer it follows (see [`after`]).
const ORDER_GAP: Duration = Duration::from_millis(10);

/// Waits until `needed` calls have arrived, or `grace` passes. Returns whether it timed out.
pub(super) async fn barrier(
    mut arrivals: watch::Receiver<usize>,
    needed: usize,
    grace: Duration,
) -> bool {
    tokio::time::timeout(grace, arrivals.wait_for(|n| *n >= needed))
        .await
        .is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_turns() -> Cassette {
        Cassette::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/anthropic/handmade-three-turns.json"
        ))
        .unwrap()
    }

    #[test]
    fn a_loop_behind_another_on_the_same_session_is_matched_to_its_own_turn() {
        let cassette = three_turns();
        let (first, second) = (cassette.calls(0)[0].clone(), cassette.calls(1)[0].clone());
        assert!(!first.same_arguments(&second) || first.name != second.name);
        let desk = ToolDesk::default();
        desk.served("s", 0);
        desk.served("s", 1);
        for call in [&second, &first] {
            let claim = desk
                .claim("s", &cassette, &call.name, None, &call.arguments, &[])
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(claim.call.id, call.id);
            assert!(!claim.repeat);
        }
        let again = desk
            .claim("s", &cassette, &first.name, None, &first.arguments, &[])
            .unwrap();
        assert!(again.repeat, "the second loop's call of turn 1 is a repeat");
        assert_eq!(again.turn, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_barrier_opens_when_the_last_call_arrives() {
        let (tx, rx) = watch::channel(1usize);
        let waiting = tokio::spawn(barrier(rx, 2, Duration::from_secs(1)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        tx.send_modify(|n| *n += 1);
        assert!(!waiting.await.unwrap(), "all calls arrived in time");
    }

    #[tokio::test(start_paused = true)]
    async fn the_barrier_times_out_when_the_calls_come_one_by_one() {
        let (_tx, rx) = watch::channel(1usize);
        let start = tokio::time::Instant::now();
        assert!(barrier(rx, 2, Duration::from_secs(1)).await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_waits_for_the_later_call_it_follows_then_the_gap() {
        let (tx, rx) = watch::channel(vec![false, false, false]);
        let start = tokio::time::Instant::now();
        let waiting = tokio::spawn(after(rx, 2, Duration::from_secs(1)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        tx.send_modify(|f| f[1] = true);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !waiting.is_finished(),
            "another call's answer does not release it"
        );
        tx.send_modify(|f| f[2] = true);
        waiting.await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(400) + ORDER_GAP);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_whose_later_call_is_done_or_never_answered_does_not_wait_longer() {
        let start = tokio::time::Instant::now();
        after(
            watch::channel(vec![false, true]).1,
            1,
            Duration::from_secs(1),
        )
        .await;
        assert_eq!(start.elapsed(), Duration::ZERO, "already answered: no gap");
        let (_tx, rx) = watch::channel(vec![false, false]);
        after(rx, 1, Duration::from_secs(1)).await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(1),
            "never answered: the grace"
        );
    }

    #[test]
    fn a_claim_follows_the_next_call_the_barrier_waits_for_and_answers_mark_it_finished() {
        let cassette = Cassette::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json"
        ))
        .unwrap();
        let calls = cassette.calls(0).to_vec();
        assert_eq!(calls.len(), 4);
        let desk = ToolDesk::default();
        desk.served("s", 0);
        let claim = |i: usize, unrunnable: &[(usize, usize)]| {
            let c = &calls[i];
            desk.claim(
                "s",
                &cassette,
                &c.name,
                Some(&c.id),
                &c.arguments,
                unrunnable,
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let first = claim(0, &[(0, 1)]);
        assert_eq!(
            first.follows,
            Some(2),
            "call 2 cannot be run: call 3 is next"
        );
        let last = claim(3, &[]);
        assert_eq!(last.follows, None, "the last call follows none");
        last.finished.send_modify(|f| f[2] = true);
        assert_eq!(*first.finished.borrow(), vec![false, false, true, false]);
    }
}
