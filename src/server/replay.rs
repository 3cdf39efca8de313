//! The replay logic, independent of any transport: request bytes in, reply and journal entry out.
//!
//! Each request finds its turn from its own history (how many assistant turns it carries), so
//! any number of loops can replay one cassette at once without a shared cursor.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use serde_json::Value;

use super::journal::{Entry, Journal, ModelEntry, ToolEntry};
use super::tools::{self, ToolDesk, ToolReply};
use crate::cassette::{Cassette, ResponseBody};
use crate::conformance::{self, Finding, RequestContext, SessionContext, SessionRequest, ToolSpan};
use crate::provider::{DecodedRequest, Malformed, MalformedKind, Provider, Rejection, RequestMeta};

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A JSON body with a status.
    Json {
        /// HTTP status.
        status: u16,
        /// The body.
        body: Bytes,
    },
    /// A server-sent event stream, written frame by frame.
    Sse {
        /// The frames, each with its trailing blank line.
        frames: Arc<[Bytes]>,
    },
}

impl Reply {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Reply::Json { status, .. } => *status,
            Reply::Sse { .. } => 200,
        }
    }

    /// The whole body as bytes (frames concatenated).
    #[must_use]
    pub fn body_bytes(&self) -> Bytes {
        match self {
            Reply::Json { body, .. } => body.clone(),
            Reply::Sse { frames } => frames.iter().flat_map(|f| f.iter().copied()).collect(),
        }
    }

    fn error(provider: Provider, rejection: &Rejection, status: Option<u16>) -> Self {
        let reply = provider.render_rejection(rejection);
        Reply::Json {
            status: status.unwrap_or(reply.status),
            body: Bytes::from(reply.body),
        }
    }
}

/// A cassette ready to serve: its replies built once.
#[derive(Debug)]
struct Served {
    cassette: Arc<Cassette>,
    replies: Vec<Reply>,
}

impl Served {
    /// Turn `t` in the mode its recording does not have, encoded by the codec from the
    /// recorded response (`request` is what the loop sent, for stream options).
    fn in_other_mode(&self, t: usize, request: Option<&Value>) -> Reply {
        let codec = self.cassette.provider().codec();
        let encoded = match &self.cassette.turns[t].response.body {
            ResponseBody::Json { text } => codec
                .json_to_sse(text, request.unwrap_or(&Value::Null))
                .map(|frames| Reply::Sse {
                    frames: frames.into_iter().map(Bytes::from).collect(),
                }),
            ResponseBody::Sse { frames } => codec.sse_to_json(frames).map(|text| Reply::Json {
                status: 200,
                body: Bytes::from(text),
            }),
        };
        encoded.unwrap_or_else(|e| {
            Reply::error(
                self.cassette.provider(),
                &Rejection::Harness {
                    message: format!(
                        "tooltape: turn {} of cassette `{}` cannot be served in the other mode: {e}",
                        t + 1,
                        self.cassette.name()
                    ),
                },
                Some(500),
            )
        })
    }

    fn new(cassette: Arc<Cassette>) -> Self {
        let replies = cassette
            .turns
            .iter()
            .map(|t| match &t.response.body {
                ResponseBody::Json { text } => Reply::Json {
                    status: t.response.status,
                    body: Bytes::from(text.clone()),
                },
                ResponseBody::Sse { frames } => Reply::Sse {
                    frames: frames.iter().map(|f| Bytes::from(f.clone())).collect(),
                },
            })
            .collect();
        Self { cassette, replies }
    }
}

/// The replay state: sessions (one cassette each) and the journal.
#[derive(Debug)]
pub struct Replay {
    sessions: RwLock<BTreeMap<String, Arc<Served>>>,
    journal: Journal,
    clock: Instant,
    desk: ToolDesk,
    barrier: Option<Duration>,
}

impl Default for Replay {
    fn default() -> Self {
        Self::new()
    }
}

impl Replay {
    /// An empty replay with the default journal capacity.
    #[must_use]
    pub fn new() -> Self {
        Self::with_journal(Journal::default())
    }

    /// An empty replay with the given journal.
    #[must_use]
    pub fn with_journal(journal: Journal) -> Self {
        Self {
            sessions: RwLock::new(BTreeMap::new()),
            journal,
            clock: Instant::now(),
            desk: ToolDesk::default(),
            barrier: None,
        }
    }

    /// Holds each tool reply until every independent call of its turn has arrived, or `grace`
    /// has passed (barrier mode); `None` turns it off.
    #[must_use = "the builder returns the changed replay"]
    pub fn with_barrier(mut self, grace: Option<Duration>) -> Self {
        self.barrier = grace;
        self
    }

    /// Serves `cassette` under session `id` (URLs `/s/{id}/v1/…`).
    pub fn add_session(&self, id: &str, cassette: Arc<Cassette>) {
        let served = Arc::new(Served::new(cassette));
        self.sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.to_owned(), served);
    }

    /// Serves each cassette under its own session, named after the cassette (made URL-safe and
    /// unique); returns the session ids in the cassettes' order.
    pub fn add_sessions(&self, cassettes: &[Arc<Cassette>]) -> Vec<String> {
        let ids = session_ids(cassettes);
        for (id, c) in ids.iter().zip(cassettes) {
            self.add_session(id, c.clone());
        }
        ids
    }

    /// The session ids and their cassettes.
    #[must_use]
    pub fn sessions(&self) -> Vec<(String, Arc<Cassette>)> {
        self.sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), v.cassette.clone()))
            .collect()
    }

    /// The journal.
    #[must_use]
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Milliseconds since the replay started.
    #[must_use]
    pub fn now_ms(&self) -> f64 {
        self.clock.elapsed().as_secs_f64() * 1000.0
    }

    /// Handles one request to a model endpoint.
    ///
    /// `session` is the URL's session prefix; without one, the only session is used, or the
    /// one whose cassette has the request's first user message.
    pub fn handle_model(
        &self,
        session: Option<&str>,
        provider: Provider,
        meta: RequestMeta,
        body: &[u8],
    ) -> Reply {
        let parsed: Result<Value, Malformed> = serde_json::from_slice(body).map_err(|e| {
            Malformed::new(
                "",
                MalformedKind::NotJson {
                    detail: e.to_string(),
                },
            )
        });
        let (id, served) = match self.find_session(session, Some(provider), parsed.as_ref().ok()) {
            Ok(found) => found,
            Err((status, message)) => {
                return Reply::error(provider, &Rejection::Harness { message }, Some(status));
            }
        };
        if served.cassette.provider() != provider {
            let message = format!(
                "tooltape: session `{id}` replays an `{}` cassette; send its requests to `{}`, not `{}`",
                served.cassette.provider(),
                served.cassette.provider().endpoint(),
                provider.endpoint()
            );
            let reply = Reply::error(
                provider,
                &Rejection::Harness {
                    message: message.clone(),
                },
                Some(404),
            );
            self.journal.push(Entry::Model(ModelEntry {
                session: id,
                at_ms: self.now_ms(),
                turn: None,
                status: reply.status(),
                streamed: false,
                reencoded: false,
                findings: Vec::new(),
                note: Some(message),
            }));
            return reply;
        }
        let decoded: Result<DecodedRequest, Malformed> =
            match (provider.codec().missing_header(&meta), &parsed) {
                (Some(header), _) => Err(Malformed::new(
                    "",
                    MalformedKind::MissingHeader {
                        header: header.to_owned(),
                    },
                )),
                (None, Ok(value)) => provider.decode_request(value),
                (None, Err(m)) => Err(m.clone()),
            };
        let cx = RequestContext::new(&served.cassette, &decoded);
        let (findings, rejection) = conformance::judge_request(&cx);
        let turn = decoded
            .as_ref()
            .ok()
            .map(|r| r.conversation.assistant_turns());
        let mut reencoded = false;
        let reply = match (&rejection, turn) {
            (Some(r), _) => Reply::error(provider, r, None),
            (None, Some(t)) => {
                if !served.cassette.calls(t).is_empty() {
                    self.desk.served(&id, t);
                }
                let recorded = &served.replies[t];
                let asks_stream = decoded.as_ref().is_ok_and(|r| r.stream);
                match (recorded, asks_stream) {
                    (Reply::Json { status: 200, .. }, true) | (Reply::Sse { .. }, false) => {
                        reencoded = true;
                        served.in_other_mode(t, parsed.as_ref().ok())
                    }
                    _ => recorded.clone(),
                }
            }
            (None, None) => Reply::error(
                provider,
                &Rejection::Harness {
                    message: "tooltape: the request could not be judged".into(),
                },
                None,
            ),
        };
        self.journal.push(Entry::Model(ModelEntry {
            session: id,
            at_ms: self.now_ms(),
            turn,
            status: reply.status(),
            streamed: matches!(reply, Reply::Sse { .. }),
            reencoded,
            findings,
            note: None,
        }));
        reply
    }

    /// Handles one request to a tool endpoint: `POST /tools/{name}` with the call's arguments
    /// as the body. Never returns for a hung tool.
    pub async fn handle_tool(
        &self,
        session: Option<&str>,
        name: &str,
        call_id: Option<&str>,
        body: &[u8],
    ) -> ToolReply {
        let (id, served) = match self.find_session(session, None, None) {
            Ok(found) => found,
            Err((status, message)) => return ToolReply::text(status, message),
        };
        let arguments = if body.iter().all(u8::is_ascii_whitespace) {
            "{}".to_owned()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => v.to_string(),
                Err(e) => {
                    return ToolReply::text(
                        400,
                        format!(
                            "tooltape: the body of a tool request must be the call's arguments as JSON: {e}"
                        ),
                    );
                }
            }
        };
        let cassette = &served.cassette;
        let claim = match self.desk.claim(&id, cassette, name, call_id, &arguments) {
            Ok(c) => c,
            Err(message) => return ToolReply::text(404, message),
        };
        let start_ms = self.now_ms();
        let sim = cassette.tool(name);
        let barrier_timed_out = match self.barrier {
            Some(grace) if !sim.sequential && !claim.repeat => {
                tools::barrier(claim.arrivals.clone(), claim.needed, grace).await
            }
            _ => false,
        };
        let entry = |status, end_ms| {
            Entry::Tool(ToolEntry {
                session: id.clone(),
                turn: claim.turn,
                call_id: claim.call.id.clone(),
                name: name.to_owned(),
                start_ms,
                end_ms,
                status,
                barrier_timed_out,
                repeat: claim.repeat,
            })
        };
        if sim.hangs {
            self.journal.push(entry(0, None));
            futures::future::pending::<()>().await;
        }
        tokio::time::sleep(cassette.latency(claim.turn, &claim.call)).await;
        let reply = match &sim.fails {
            Some(message) => ToolReply::json(500, &serde_json::json!({"error": message})),
            None => match cassette
                .recorded_result(claim.turn, &claim.call.id)
                .map(|r| r.content)
            {
                Some(Value::String(s)) => ToolReply::text(200, s),
                Some(other) => ToolReply::json(200, &other),
                None => ToolReply::text(200, format!("{name} done")),
            },
        };
        self.journal.push(entry(reply.status, Some(self.now_ms())));
        reply
    }

    fn find_session(
        &self,
        session: Option<&str>,
        provider: Option<Provider>,
        body: Option<&Value>,
    ) -> Result<(String, Arc<Served>), (u16, String)> {
        let sessions = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(id) = session {
            return sessions
                .get(id)
                .map(|s| (id.to_owned(), s.clone()))
                .ok_or_else(|| {
                    (
                        404,
                        format!(
                            "tooltape: no session `{id}`; this server has {}",
                            list(sessions.keys())
                        ),
                    )
                });
        }
        if sessions.len() == 1 {
            let (id, s) = sessions
                .iter()
                .next()
                .map(|(k, v)| (k.clone(), v.clone()))
                .ok_or((404, String::new()))?;
            return Ok((id, s));
        }
        let prompt = provider
            .zip(body)
            .and_then(|(p, b)| p.decode_request(b).ok())
            .and_then(|r| r.conversation.first_user_text());
        let candidates: Vec<_> = sessions
            .iter()
            .filter(|(_, s)| Some(s.cassette.provider()) == provider)
            .filter(|(_, s)| {
                prompt
                    .as_deref()
                    .is_some_and(|p| p.trim() == s.cassette.prompt().trim())
            })
            .collect();
        match candidates.first() {
            Some((id, s)) => Ok(((*id).clone(), (*s).clone())),
            None => Err((
                404,
                format!(
                    "tooltape: no cassette of this server starts with this request's first user message; use a session URL (/s/{{session}}/…) for one of {}",
                    list(sessions.keys())
                ),
            )),
        }
    }

    /// Everything the rules found for one session, once its loop has finished: the findings
    /// of each request (each distinct finding once) and of the session rules.
    #[must_use]
    pub fn findings(&self, session: &str) -> Vec<Finding> {
        let sessions = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(served) = sessions.get(session).cloned() else {
            return Vec::new();
        };
        drop(sessions);
        let mut findings: Vec<Finding> = Vec::new();
        let mut requests = Vec::new();
        for entry in self.journal.session(session) {
            if let Entry::Model(m) = entry {
                requests.push(SessionRequest {
                    turn: m.turn,
                    served: m.status == 200,
                });
                for f in m.findings {
                    if !findings.contains(&f) {
                        findings.push(f);
                    }
                }
            }
        }
        let cx = SessionContext {
            cassette: &served.cassette,
            requests,
            tool_spans: self.tool_spans(session),
            barrier: self.barrier.is_some(),
        };
        findings.extend(conformance::judge_session(&cx));
        findings
    }

    /// The turns (0-based) served with status 200 to one session, in order.
    #[must_use]
    pub fn served_turns(&self, session: &str) -> Vec<usize> {
        self.journal
            .session(session)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Model(m) if m.status == 200 => m.turn,
                _ => None,
            })
            .collect()
    }

    /// The tool endpoint calls of one session (first call of each id), oldest first.
    #[must_use]
    pub fn tool_spans(&self, session: &str) -> Vec<ToolSpan> {
        self.journal
            .session(session)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Tool(t) if !t.repeat => Some(ToolSpan {
                    turn: t.turn,
                    call_id: t.call_id,
                    name: t.name,
                    start_ms: t.start_ms,
                    end_ms: t.end_ms,
                    barrier_timed_out: t.barrier_timed_out,
                }),
                _ => None,
            })
            .collect()
    }

    /// What the report should mention about how one session was served: the turns recorded in
    /// one mode and served in the other (re-encoded by the codec), and responses that are
    /// synthetic (made up by the import of a recording that ends with tool calls).
    #[must_use]
    pub fn served_notes(&self, session: &str) -> Vec<String> {
        let cassette = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(session)
            .map(|s| s.cassette.clone());
        let synthetic = |t: usize| {
            cassette
                .as_ref()
                .and_then(|c| c.turns.get(t))
                .is_some_and(|turn| turn.response.synthetic)
        };
        let entries = self.journal.session(session);
        let mut notes: Vec<String> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Model(m) => m.turn.filter(|t| synthetic(*t)),
                Entry::Tool(_) => None,
            })
            .map(|t| {
                format!(
                    "turn {} was answered with a synthetic response: the recording ends before it, so its final answer is made up (the request was judged all the same)",
                    t + 1
                )
            })
            .collect();
        notes.dedup();
        let mut reencoded: Vec<String> = entries
            .into_iter()
            .filter_map(|e| match e {
                Entry::Model(m) if m.reencoded => m.turn.map(|t| {
                    let (asked, recorded) = if m.streamed {
                        ("a stream", "JSON")
                    } else {
                        ("JSON", "a stream")
                    };
                    format!(
                        "turn {} was recorded as {recorded} and served as {asked}, re-encoded from the recording",
                        t + 1
                    )
                }),
                _ => None,
            })
            .collect();
        reencoded.dedup();
        notes.extend(reencoded);
        notes
    }

    /// The notes of one session's requests (problems that are not the loop's conformance).
    #[must_use]
    pub fn notes(&self, session: &str) -> Vec<String> {
        self.journal
            .session(session)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Model(m) => m.note,
                Entry::Tool(_) => None,
            })
            .collect()
    }

    /// How many model requests one session received.
    #[must_use]
    pub fn request_count(&self, session: &str) -> usize {
        self.journal
            .session(session)
            .iter()
            .filter(|e| matches!(e, Entry::Model(_)))
            .count()
    }
}

fn list<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    let keys: Vec<String> = keys.map(|k| format!("`{k}`")).collect();
    if keys.is_empty() {
        "no sessions".to_owned()
    } else {
        format!("sessions {}", keys.join(", "))
    }
}

/// Session ids for cassettes: the name, made URL-safe and unique.
#[must_use]
fn session_ids(cassettes: &[Arc<Cassette>]) -> Vec<String> {
    let mut seen = HashSet::new();
    cassettes
        .iter()
        .map(|c| {
            let base: String = c
                .name()
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() || "-_.".contains(ch) {
                        ch
                    } else {
                        '-'
                    }
                })
                .collect();
            let mut id = base.clone();
            let mut n = 2;
            while !seen.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            id
        })
        .collect()
}
