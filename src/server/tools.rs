//! Tool endpoints: `POST /tools/{name}` runs a simulated tool call of the current turn.
//!
//! A request is matched to a call (by the `tooltape-call-id` header, else by name and arguments
//! among the current turn's calls, identical calls in order), waits for the barrier, then the
//! simulated latency, and answers with the recorded result: a string as `text/plain`, other
//! content as JSON, a failing tool with 500, a hung tool never.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

use crate::cassette::Cassette;
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

/// A matched call.
#[derive(Debug, Clone)]
pub(super) struct Claim {
    pub turn: usize,
    pub call: ToolCall,
    pub repeat: bool,
    /// Calls of the turn that the barrier waits for (the independent ones).
    pub needed: usize,
    pub arrivals: watch::Receiver<usize>,
}

#[derive(Debug)]
struct TurnDesk {
    claimed: Vec<bool>,
    arrivals: watch::Sender<usize>,
}

#[derive(Debug, Default)]
struct SessionDesk {
    current: Option<usize>,
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
        sessions.entry(session.to_owned()).or_default().current = Some(turn);
    }

    /// Matches a tool request to a call, or explains why none matches.
    pub fn claim(
        &self,
        session: &str,
        cassette: &Cassette,
        name: &str,
        call_id: Option<&str>,
        arguments: &str,
    ) -> Result<Claim, String> {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let desk = sessions.entry(session.to_owned()).or_default();
        let (turn, index) = match call_id {
            Some(id) => find_by_id(cassette, name, id)?,
            None => {
                let Some(turn) = desk.current else {
                    return Err(format!(
                        "tooltape: no response with tool calls has been served to this session yet, so `{name}` matches no call"
                    ));
                };
                let calls = cassette.calls(turn);
                let wanted = ToolCall {
                    id: String::new(),
                    name: name.to_owned(),
                    arguments: arguments.to_owned(),
                };
                let claimed = desk.turns.get(&turn).map(|t| t.claimed.clone());
                let matching: Vec<usize> = calls
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.name == name && c.same_arguments(&wanted))
                    .map(|(i, _)| i)
                    .collect();
                let free = matching
                    .iter()
                    .copied()
                    .find(|i| !claimed.as_ref().is_some_and(|c| c[*i]));
                match free.or_else(|| matching.first().copied()) {
                    Some(i) => (turn, i),
                    None => return Err(no_match(cassette, turn, name, arguments)),
                }
            }
        };
        let calls = cassette.calls(turn);
        let independent: Vec<bool> = calls
            .iter()
            .map(|c| !cassette.tool(&c.name).sequential)
            .collect();
        let needed = independent.iter().filter(|x| **x).count();
        let t = desk.turns.entry(turn).or_insert_with(|| TurnDesk {
            claimed: vec![false; calls.len()],
            arrivals: watch::channel(0).0,
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
            call: calls[index].clone(),
            repeat,
            needed,
            arrivals: t.arrivals.subscribe(),
        })
    }
}

fn find_by_id(cassette: &Cassette, name: &str, id: &str) -> Result<(usize, usize), String> {
    for turn in 0..cassette.turns.len() {
        if let Some(i) = cassette.calls(turn).iter().position(|c| c.id == id) {
            let call = &cassette.calls(turn)[i];
            if call.name != name {
                return Err(format!(
                    "tooltape: call `{id}` is a call of tool `{}`, not `{name}`; post it to /tools/{}",
                    call.name, call.name
                ));
            }
            return Ok((turn, i));
        }
    }
    Err(format!(
        "tooltape: no call of cassette `{}` has the id `{id}` (header tooltape-call-id); send the id of the call you are running",
        cassette.name()
    ))
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
}
