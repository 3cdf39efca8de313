//! The replay logic, independent of any transport: request bytes in, reply and journal entry out.
//!
//! Each request finds its turn from its own history (how many assistant turns it carries), so
//! any number of loops can replay one cassette at once without a shared cursor.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use serde_json::Value;

use super::faults;
use super::journal::{Entry, Journal, ModelEntry, ToolEntry};
use super::ledger::Ledger;
use super::limits::Limits;
use super::reply::Reply;
use super::served::Served;
use super::sessions::session_ids;
use super::tools::{self, ToolDesk, ToolOutcome, ToolReply};
use crate::cassette::Cassette;
use crate::conformance::{
    self, CallLog, Finding, NotKept, RequestContext, SessionContext, SessionRequest,
    UnsupportedRoute,
};
use crate::fault::{FaultKind, Pace, TurnFault};
use crate::provider::{
    DecodedRequest, Malformed, MalformedKind, Provider, Rejection, RequestMeta, Route,
};
use crate::span::Span;

/// The replay state: sessions (one cassette each) and the journal.
#[derive(Debug)]
pub struct Replay {
    pub(super) sessions: RwLock<BTreeMap<String, Arc<Served>>>,
    journal: Journal,
    clock: Instant,
    desk: ToolDesk,
    barrier: Option<Duration>,
    limits: Limits,
    faults: Arc<[TurnFault]>,
    pace: Option<Pace>,
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
            limits: Limits::default(),
            faults: Arc::new([]),
            pace: None,
        }
    }

    /// An empty replay within `limits` (journal size, findings kept, and the transport's).
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::with_journal(Journal::with_limits(
                limits.journal_entries,
                limits.journal_bytes,
            ))
        }
    }

    /// The limits this replay, and a server started for it, keep to.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Holds each tool reply until every independent call of its turn has arrived, or `grace`
    /// has passed (barrier mode); `None` turns it off.
    #[must_use = "the builder returns the changed replay"]
    pub fn with_barrier(mut self, grace: Option<Duration>) -> Self {
        self.barrier = grace;
        self
    }

    /// Serves `faults` to every session, after the faults each cassette turn lists (see
    /// [`crate::fault`]).
    #[must_use = "the builder returns the changed replay"]
    pub fn with_faults(mut self, faults: Vec<TurnFault>) -> Self {
        self.faults = faults.into();
        self
    }

    /// Writes streams with delays between frames (`--pace`); `None` writes them at once.
    #[must_use = "the builder returns the changed replay"]
    pub fn with_pace(mut self, pace: Option<Pace>) -> Self {
        self.pace = pace;
        self
    }

    /// Serves `cassette` under session `id` (URLs `/s/{id}/v1/…`).
    pub fn add_session(&self, id: &str, cassette: Arc<Cassette>) {
        let served = Arc::new(Served::with_faults(&cassette, &self.faults));
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
        self.handle_model_routed(session, provider, &Route::default(), meta, body)
    }

    /// As [`Replay::handle_model`], for a request whose path said what `route` holds (the
    /// model, whether to stream).
    pub fn handle_model_routed(
        &self,
        session: Option<&str>,
        provider: Provider,
        route: &Route,
        meta: RequestMeta,
        body: &[u8],
    ) -> Reply {
        let codec = provider.codec();
        // The fast path decodes a well-formed body without a `Value`; the body is parsed
        // only when it has not decoded it (or to resolve references, or to re-encode a turn).
        let mut fast = codec.decode_request_fast(route, body);
        #[cfg(debug_assertions)]
        same_as_checked(codec, route, body, fast.as_ref());
        let on_fast_path = fast.is_some();
        let parsed = std::cell::OnceCell::new();
        let parsed = || parsed.get_or_init(|| parse_body(body));
        let mut decode = |value: Option<&Value>| -> Result<DecodedRequest, Malformed> {
            if let Some(value) = value {
                return codec.decode_request(route, value);
            }
            if let Some(decoded) = fast.take() {
                return Ok(decoded);
            }
            match parsed() {
                Ok(value) => codec.decode_request(route, value),
                Err(e) => Err(e.clone()),
            }
        };
        let (early, found) = match self.session_by_url(session) {
            Some(found) => (None, found),
            None => {
                let request = decode(None);
                let found = self.find_session(session, Some(provider), request.as_ref().ok());
                (Some(request), found)
            }
        };
        let (id, served) = match found {
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
            self.record_model(
                &served,
                ModelEntry {
                    session: id,
                    at_ms: self.now_ms(),
                    turn: None,
                    status: reply.status(),
                    streamed: false,
                    reencoded: false,
                    unsupported: None,
                    findings: Vec::new(),
                    note: Some(message),
                    fault: None,
                },
                NotKept::default(),
            );
            return reply;
        }
        let resolved = if on_fast_path {
            None
        } else {
            parsed().as_ref().ok().and_then(|value| {
                codec.resolve_references(value, &|id| served.cassette.served_item(id))
            })
        };
        let request = match (resolved, early) {
            (Some(resolved), _) => decode(Some(&resolved)),
            (None, Some(early)) => early,
            (None, None) => decode(None),
        };
        let decoded = match codec.missing_header(&meta) {
            Some(header) => Err(Malformed::new(
                "",
                MalformedKind::MissingHeader {
                    header: header.to_owned(),
                },
            )),
            None => request,
        };
        let decoded = decoded.map(|r| served.resolve_continuation(r));
        let cx = RequestContext::new(&served.cassette, &decoded);
        let (findings, rejection) = conformance::judge_request(&cx);
        served.ledger().calls.request(&cx);
        let (findings, not_kept) =
            conformance::keep_at_most(findings, self.limits.findings_per_request);
        let turn = decoded.as_ref().ok().map(|_| cx.echoes().next);
        let mut reencoded = false;
        let mut fault = None;
        let reply = match (&rejection, turn) {
            (Some(r), _) => Reply::error(provider, r, None),
            (None, Some(t)) => {
                if !served.cassette.calls(t).is_empty() {
                    self.desk.served(&id, t);
                }
                let asks_stream = decoded.as_ref().is_ok_and(|r| r.stream);
                let real = match served.reencoded_for(t, asks_stream, || parsed().as_ref().ok()) {
                    Some(reply) => {
                        reencoded = true;
                        reply
                    }
                    None => served.replies[t].clone(),
                };
                let model = decoded.as_ref().map_or("", |r| r.model.as_str());
                let (reply, served_fault) = faults::serve(&served, &self.faults, t, real, model);
                fault = served_fault;
                let recorded_delays = (!reencoded)
                    .then(|| served.cassette.turns[t].response.frame_delays_ms.as_slice());
                faults::paced(reply, self.pace, recorded_delays.unwrap_or_default())
            }
            (None, None) => Reply::error(
                provider,
                &Rejection::Harness {
                    message: "tooltape: the request could not be judged".into(),
                },
                None,
            ),
        };
        // The provider keeps the history of a request it answered with a response (not of
        // one it refused, nor of one answered with an error status instead).
        let created =
            rejection.is_none() && !fault.as_ref().is_some_and(|f| f.kind.is_retryable_status());
        if let (true, Some(t), Ok(request)) = (created, turn, decoded) {
            served.answered(t, request);
        }
        self.record_model(
            &served,
            ModelEntry {
                session: id,
                at_ms: self.now_ms(),
                turn,
                status: reply.status(),
                streamed: reply.is_stream(),
                reencoded,
                unsupported: None,
                findings,
                note: None,
                fault,
            },
            not_kept,
        );
        reply
    }

    /// Handles a request to a route no codec serves: answers 404 with a JSON error in the
    /// shape of the provider whose API the path looks like (else OpenAI's), naming the route
    /// that is served and the base URL to use, and journals a `POST` for TT016. `root` is the server
    /// (or session) root the loop reached, e.g. `http://127.0.0.1:8089/s/name`.
    pub fn handle_unsupported(
        &self,
        session: Option<&str>,
        method: &str,
        path: &str,
        root: &str,
    ) -> Reply {
        let (provider, advice) = Provider::advise(path, root).unwrap_or_else(|| {
            let served: Vec<String> = Provider::ALL
                .iter()
                .map(|p| format!("POST {}", p.endpoint()))
                .collect();
            (
                Provider::ALL[0],
                format!("tooltape serves {} below `{root}`", served.join(" and ")),
            )
        });
        let route = format!("{method} {path}");
        let message = format!("tooltape: no route `{route}`: {advice}");
        let reply = Reply::error(
            provider,
            &Rejection::Harness {
                message: message.clone(),
            },
            Some(404),
        );
        let session = match session {
            _ if method != "POST" => None,
            Some(s) => Some(s.to_owned()),
            None => {
                let sessions = self.sessions();
                (sessions.len() == 1).then(|| sessions[0].0.clone())
            }
        };
        if let Some((session, served)) = session.and_then(|s| self.served(&s).map(|v| (s, v))) {
            self.record_model(
                &served,
                ModelEntry {
                    session,
                    at_ms: self.now_ms(),
                    turn: None,
                    status: reply.status(),
                    streamed: false,
                    reencoded: false,
                    unsupported: Some(UnsupportedRoute { route, advice }),
                    findings: Vec::new(),
                    note: Some(message),
                    fault: None,
                },
                NotKept::default(),
            );
        }
        reply
    }

    /// Keeps what the verdict needs from a model request in the session's ledger, then
    /// journals it.
    fn record_model(&self, served: &Served, entry: ModelEntry, not_kept: NotKept) {
        {
            let mut ledger = served.ledger();
            let failure = entry
                .fault
                .is_some_and(|f| f.kind != crate::fault::FaultKind::SlowFirstByte);
            let request = SessionRequest {
                turn: entry.turn,
                served: entry.status == 200 && !failure,
            };
            if let Some(turn) = entry.turn
                && entry.unsupported.is_none()
            {
                ledger.faults.request(turn, entry.fault, entry.at_ms);
            }
            match &entry.unsupported {
                Some(route) => ledger.unsupported(route),
                None => ledger.request(request, &entry.findings, self.limits.findings_per_session),
            }
            ledger.not_kept.merge(not_kept);
            if let Some(turn) = entry.turn.filter(|_| request.served) {
                ledger.served.insert(turn);
                if entry.reencoded {
                    ledger.reencoded.insert((turn, entry.streamed));
                }
            }
            if let Some(note) = &entry.note {
                ledger.note(note);
            }
        }
        self.journal.push(Entry::Model(entry));
    }

    /// Keeps a tool call's span in the session's ledger (the first call of each id), then
    /// journals it.
    fn record_tool(&self, served: &Served, entry: ToolEntry) {
        let fails = served.cassette.tool(&entry.name).fails.is_some();
        let mut ledger = served.ledger();
        ledger.faults.tool_call(
            entry.turn,
            &entry.call_id,
            &entry.name,
            entry.repeat && !fails,
        );
        if !entry.repeat {
            ledger.spans.push(Span {
                turn: entry.turn,
                call_id: entry.call_id.clone(),
                name: entry.name.clone(),
                start_ms: entry.start_ms,
                end_ms: entry.end_ms,
                barrier_timed_out: entry.barrier_timed_out,
            });
        }
        drop(ledger);
        self.journal.push(Entry::Tool(entry));
    }

    /// Handles one request to a tool endpoint: `POST /tools/{name}` with the call's arguments
    /// as the body (empty for none) and `call_id` from the `tooltape-call-id` header. Never
    /// returns for a hung tool.
    pub async fn handle_tool(
        &self,
        session: Option<&str>,
        name: &str,
        call_id: Option<&str>,
        body: &[u8],
    ) -> ToolReply {
        let arguments = if body.iter().all(u8::is_ascii_whitespace) {
            "{}".to_owned()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => v.to_string(),
                Err(e) => {
                    if let Ok((_, served)) = self.find_session(session, None, None) {
                        served.ledger().calls.refused += 1;
                    }
                    return ToolReply::text(
                        400,
                        format!(
                            "tooltape: the body of a tool request must be the call's arguments as JSON: {e}"
                        ),
                    );
                }
            }
        };
        self.run_tool(session, name, call_id, &arguments)
            .await
            .into_reply()
    }

    /// Runs one simulated tool call, whatever the transport (tool endpoint or MCP): matches it
    /// to a call of a served turn, waits for the barrier and the latency, journals its span and
    /// gives the recorded outcome; never returns for a hung tool. `arguments` is JSON text.
    pub(super) async fn run_tool(
        &self,
        session: Option<&str>,
        name: &str,
        call_id: Option<&str>,
        arguments: &str,
    ) -> ToolOutcome {
        let found = match (session, call_id) {
            (None, Some(call)) => self.session_serving(call),
            _ => None,
        };
        if found.is_none() && session.is_none() && self.session_count() > 1 {
            let which = call_id.map_or_else(
                || "it has no `tooltape-call-id` header".to_owned(),
                |c| format!("call `{c}` was served by none or by several of them (ids by position, as Gemini's, repeat across cassettes)"),
            );
            return ToolOutcome::Refused(
                404,
                format!(
                    "tooltape: this server has {} cassettes, and a tool request without a session prefix goes to the one cassette that served its call; {which}: use the session's tools URL (/s/{{session}}/tools/{name}) or MCP URL (/s/{{session}}/mcp)",
                    self.session_count()
                ),
            );
        }
        let (id, served) = match found.map_or_else(|| self.find_session(session, None, None), Ok) {
            Ok(found) => found,
            Err((status, message)) => return ToolOutcome::Refused(status, message),
        };
        let cassette = &served.cassette;
        let unrunnable: Vec<(usize, usize)> = served
            .model_faults
            .iter()
            .map(|f| (f.turn, f.call))
            .collect();
        let claim = match self
            .desk
            .claim(&id, cassette, name, call_id, arguments, &unrunnable)
        {
            Ok(c) => c,
            Err(message) => {
                served.ledger().calls.refused += 1;
                return ToolOutcome::Refused(404, message);
            }
        };
        if let Some(fault) = served.model_faults.iter().find(|f| {
            f.kind == FaultKind::UndeclaredTool && f.turn == claim.turn && f.call == claim.index
        }) {
            return ToolOutcome::Refused(
                404,
                format!(
                    "tooltape: `{}` is not a tool of this conversation (the request declared {}); the model called it anyway (fault `{}`): answer call `{}` with an error result that says there is no such tool",
                    fault.name,
                    declared(cassette, claim.turn),
                    fault.kind,
                    fault.id
                ),
            );
        }
        served.ledger().calls.ran.insert((claim.turn, claim.index));
        let start_ms = self.now_ms();
        let sim = cassette.tool(name);
        let barrier_timed_out = match self.barrier {
            Some(grace) if !sim.sequential && !claim.repeat => {
                tools::barrier(claim.arrivals.clone(), claim.needed, grace).await
            }
            _ => false,
        };
        let entry = |status, end_ms| ToolEntry {
            session: id.clone(),
            turn: claim.turn,
            call_id: claim.call.id.clone(),
            name: name.to_owned(),
            start_ms,
            end_ms,
            status,
            barrier_timed_out,
            repeat: claim.repeat,
        };
        if sim.hangs {
            self.record_tool(&served, entry(0, None));
            futures::future::pending::<()>().await;
        }
        tokio::time::sleep(cassette.latency(claim.turn, &claim.call)).await;
        if let (Some(grace), Some(later)) = (self.barrier, claim.follows)
            && !barrier_timed_out
            && !claim.repeat
        {
            tools::after(claim.finished.subscribe(), later, grace).await;
        }
        let outcome = match &sim.fails {
            Some(message) => ToolOutcome::Failed(message.clone()),
            None => match cassette
                .recorded_result(claim.turn, &claim.call.id)
                .map(|r| &r.content)
            {
                Some(Value::String(s)) => ToolOutcome::Text(s.clone()),
                Some(other) => match crate::transcript::text_blocks(other) {
                    Some(text) => ToolOutcome::Text(text),
                    None => ToolOutcome::Json(other.clone()),
                },
                None => ToolOutcome::Text(format!("{name} done")),
            },
        };
        let text = match &outcome {
            ToolOutcome::Text(t) | ToolOutcome::Failed(t) | ToolOutcome::Refused(_, t) => t.clone(),
            ToolOutcome::Json(v) => v.to_string(),
        };
        served.ledger().calls.output(&text);
        self.record_tool(&served, entry(outcome.status(), Some(self.now_ms())));
        if !claim.repeat {
            claim.finished.send_modify(|f| f[claim.index] = true);
        }
        outcome
    }

    /// Everything the rules found for one session, once its loop has finished: each distinct
    /// finding of its requests once (as many as the limit keeps, see [`Replay::not_kept`]),
    /// then the findings of the session rules. Read from the session's ledger, never from the
    /// evictable journal.
    #[must_use]
    pub fn findings(&self, session: &str) -> Vec<Finding> {
        let Some(served) = self.served(session) else {
            return Vec::new();
        };
        let ledger = served.ledger();
        let mut findings: Vec<Finding> = ledger.findings().cloned().collect();
        let calls = call_log(&served, &ledger);
        let cx = SessionContext {
            cassette: &served.cassette,
            requests: ledger.last.into_iter().collect(),
            tool_spans: ledger.spans.clone(),
            barrier: self.barrier.is_some(),
            unsupported: ledger.unsupported.clone(),
            faults: ledger.faults.clone(),
            calls,
        };
        drop(ledger);
        findings.extend(conformance::judge_session(&cx));
        findings
    }

    /// When one session's last request was answered with a failure (a fault), what to say
    /// about the loop stopping there; a command that fails after it is explained by it.
    #[must_use]
    pub fn fault_stop(&self, session: &str) -> Option<String> {
        self.served(session).and_then(|s| {
            let ledger = s.ledger();
            ledger
                .faults
                .explains_a_stop()
                .or_else(|| call_log(&s, &ledger).explains_a_stop())
        })
    }

    /// The findings of one session that were found but not kept (over a limit), by severity.
    #[must_use]
    pub fn not_kept(&self, session: &str) -> NotKept {
        self.served(session)
            .map(|s| s.ledger().not_kept)
            .unwrap_or_default()
    }

    /// The turns (0-based) served with status 200 to one session, in turn order, each once.
    #[must_use]
    pub fn served_turns(&self, session: &str) -> Vec<usize> {
        self.served(session)
            .map(|s| s.ledger().served.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The tool endpoint calls of one session (first call of each id), in the order they
    /// finished (a hung call when it started).
    #[must_use]
    pub fn tool_spans(&self, session: &str) -> Vec<Span> {
        self.served(session)
            .map(|s| s.ledger().spans.clone())
            .unwrap_or_default()
    }

    /// What the report should mention about how one session was served: the turns recorded in
    /// one mode and served in the other (re-encoded by the codec), and responses that are
    /// synthetic (made up by the import of a recording that ends with tool calls).
    #[must_use]
    pub fn served_notes(&self, session: &str) -> Vec<String> {
        let Some(served) = self.served(session) else {
            return Vec::new();
        };
        let mut notes = served.notes();
        let ledger = served.ledger();
        let faults = ledger.faults.turns.iter().map(|(t, f)| {
            format!(
                "turn {}: {} fault{} served, {} retr{} after them",
                t + 1,
                f.served,
                if f.served == 1 { "" } else { "s" },
                f.retries,
                if f.retries == 1 { "y" } else { "ies" }
            )
        });
        let responses = served.cassette.turns.len();
        let past_the_end = self.faults.iter().filter(|f| f.turn >= responses).map(|f| {
            format!(
                "fault `{}` for turn {} was not served: the cassette has {responses} response{}",
                f.fault.kind,
                f.turn + 1,
                if responses == 1 { "" } else { "s" }
            )
        });
        notes.extend(faults);
        notes.extend(ledger.unserved.iter().cloned());
        notes.extend(past_the_end);
        notes
    }

    /// The notes of one session's requests (problems that are not the loop's conformance),
    /// each once.
    #[must_use]
    pub fn notes(&self, session: &str) -> Vec<String> {
        self.served(session)
            .map(|s| s.ledger().notes().cloned().collect())
            .unwrap_or_default()
    }

    /// How many model requests one session received.
    #[must_use]
    pub fn request_count(&self, session: &str) -> usize {
        self.served(session).map_or(0, |s| {
            usize::try_from(s.ledger().requests).unwrap_or(usize::MAX)
        })
    }

    /// The report entry for one session: its findings, what was not kept, its request count
    /// and notes, with `turns` as its timing figures.
    #[must_use]
    pub fn report(
        &self,
        session: &str,
        cassette: &Cassette,
        turns: Vec<crate::report::TurnTiming>,
    ) -> crate::report::CassetteReport {
        let mut report =
            crate::report::CassetteReport::new(cassette, self.findings(session), turns);
        report.not_kept = self.not_kept(session);
        report.requests = Some(self.request_count(session) as u64);
        report.notes = self.served_notes(session);
        report
    }
}

/// The body parsed as JSON, or the error a loop gets for a body that is not JSON.
fn parse_body(body: &[u8]) -> Result<Value, Malformed> {
    serde_json::from_slice(body).map_err(|e| {
        Malformed::new(
            "",
            MalformedKind::NotJson {
                detail: e.to_string(),
            },
        )
    })
}

/// Debug builds (every test run) check the fast path against the checked one on every
/// request they serve: where the fast path decodes a body, the checked path must give the
/// same request.
/// The session's call log with what the session rules read beside it: the model faults it
/// was served with and the turns served.
fn call_log(served: &Served, ledger: &Ledger) -> CallLog {
    let mut calls = ledger.calls.clone();
    calls.model_faults.clone_from(&served.model_faults);
    calls.served.clone_from(&ledger.served);
    calls
}

#[cfg(debug_assertions)]
fn same_as_checked(
    codec: &dyn crate::provider::Codec,
    route: &Route,
    body: &[u8],
    fast: Option<&DecodedRequest>,
) {
    if let Some(fast) = fast {
        let checked = parse_body(body).and_then(|value| codec.decode_request(route, &value));
        assert_eq!(
            checked.as_ref(),
            Ok(fast),
            "the fast path decoded a request the checked path decodes otherwise: {}",
            String::from_utf8_lossy(body)
        );
    }
}

/// The tools the request for response `turn` declared, for a message.
fn declared(cassette: &Cassette, turn: usize) -> String {
    let names = &cassette.turns[turn].request.tool_names;
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
