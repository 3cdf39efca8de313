//! The reference agent loop: the correct way to handle parallel tool calls, over real HTTP.
//!
//! Per model turn it decodes the calls (JSON or stream, accumulated as a careful client must),
//! runs them concurrently with an order-preserving join (tools marked sequential one at a time,
//! in call order), turns a failing or timed-out tool into an error result while its siblings
//! complete, and answers every id once, in call order, in the container the provider requires.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::{BoxFuture, join, join_all};
use serde_json::Value;
use thiserror::Error;
use tokio::time::Instant;

use crate::cassette::Cassette;
use crate::provider::{ResponseError, sse};
use crate::span::Span;
use crate::transcript::{AssistantTurn, ToolCall, ToolResult};

/// The outcome of one tool call: its result content, or an error message.
pub type ToolOutcome = Result<Value, String>;

/// Runs tools for the loop. Implemented by [`CassetteTools`], and by any closure
/// `Fn(usize, ToolCall) -> impl Future<Output = ToolOutcome>` (turn is 0-based).
pub trait Tools: Send + Sync {
    /// Runs one call of model turn `turn` (0-based).
    fn call(&self, turn: usize, call: ToolCall) -> BoxFuture<'static, ToolOutcome>;
}

impl<F, Fut> Tools for F
where
    F: Fn(usize, ToolCall) -> Fut + Send + Sync,
    Fut: Future<Output = ToolOutcome> + Send + 'static,
{
    fn call(&self, turn: usize, call: ToolCall) -> BoxFuture<'static, ToolOutcome> {
        Box::pin(self(turn, call))
    }
}

/// Tools simulated from a cassette: the recorded results, the cassette's latencies (default:
/// reverse call order in 50 ms steps), failures and hangs.
#[derive(Debug, Clone)]
pub struct CassetteTools {
    cassette: Arc<Cassette>,
}

impl CassetteTools {
    /// Tools for one cassette.
    #[must_use]
    pub fn new(cassette: Arc<Cassette>) -> Self {
        Self { cassette }
    }
}

impl Tools for CassetteTools {
    fn call(&self, turn: usize, call: ToolCall) -> BoxFuture<'static, ToolOutcome> {
        let cassette = self.cassette.clone();
        Box::pin(async move {
            let sim = cassette.tool(&call.name);
            if sim.hangs {
                futures::future::pending::<()>().await;
            }
            tokio::time::sleep(cassette.latency(turn, &call)).await;
            if let Some(message) = sim.fails {
                return Err(message);
            }
            Ok(cassette.recorded_result(turn, &call.id).map_or_else(
                || Value::String(format!("{} done", call.name)),
                |r| r.content.clone(),
            ))
        })
    }
}

/// Why the loop stopped early. The message is whole on its own: the cause is displayed, not
/// chained as a `source()` (see [`crate::cassette::CassetteError`]).
#[derive(Debug, Error)]
pub enum LoopError {
    /// The HTTP request failed.
    #[error("request for turn {turn} failed: {error}")]
    Http {
        /// The 1-based turn.
        turn: usize,
        /// The client error.
        error: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("turn {turn} was rejected with HTTP {status}: {body}")]
    Rejected {
        /// The 1-based turn.
        turn: usize,
        /// The status.
        status: u16,
        /// The body.
        body: String,
    },
    /// The response could not be decoded.
    #[error("the response of turn {turn} does not decode: {error}")]
    Decode {
        /// The 1-based turn.
        turn: usize,
        /// What is wrong.
        error: ResponseError,
    },
    /// The model kept asking for tools.
    #[error("stopped after {0} turns (max-turns guard)")]
    MaxTurns(usize),
}

/// One model turn as the loop handled it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoopTurn {
    /// The 1-based model turn.
    pub index: usize,
    /// The calls the model made, in order.
    pub calls: Vec<ToolCall>,
    /// The results the loop sent, in call order.
    pub results: Vec<ToolResult>,
    /// When each call ran, in call order.
    #[serde(skip)]
    pub spans: Vec<Span>,
}

/// What a finished loop did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoopOutcome {
    /// The turns with tool calls.
    pub turns: Vec<LoopTurn>,
    /// The final answer's text.
    pub final_text: String,
    /// How many model requests were sent.
    pub requests: usize,
}

/// How many times the reference loop retries one model request.
pub const RETRIES: u32 = 3;

/// The first wait between retries when the server asks for none; it doubles.
const BACKOFF: Duration = Duration::from_millis(100);

fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The wait a reply asks for: `retry-after-ms`, else `retry-after` in seconds; zero (use the
/// backoff) when it asks for none.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0 && *v < 600.0 * 1000.0)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(|s| Duration::from_secs_f64(s.min(600.0))))
        .unwrap_or(Duration::ZERO)
}

/// The reference loop.
#[derive(Debug, Clone)]
pub struct ReferenceLoop {
    client: reqwest::Client,
    base_url: String,
    max_turns: usize,
    tool_timeout: Duration,
    stateful: bool,
}

impl ReferenceLoop {
    /// A loop talking to `base_url` (a server root or session root, e.g.
    /// `http://127.0.0.1:PORT/s/name`; the provider's endpoint path is appended).
    #[must_use]
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
            base_url: base_url.into(),
            max_turns: 16,
            tool_timeout: Duration::from_secs(5),
            stateful: false,
        }
    }

    /// The same loop talking to `base_url` instead, through the same HTTP client: loops made
    /// this way from one share its connection pool and its TLS setup (building a client loads
    /// the system's root certificates, which costs more than replaying a short cassette).
    #[must_use = "the builder returns the changed loop"]
    pub fn at(&self, base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            ..self.clone()
        }
    }

    /// Continues each turn on the provider's side where the provider keeps conversations
    /// (OpenAI Responses: `previous_response_id` naming the last response, with only the new
    /// results as input) instead of resending the whole history; providers without such a
    /// continuation are sent the whole history as usual.
    #[must_use = "the builder returns the changed loop"]
    pub fn stateful(mut self, on: bool) -> Self {
        self.stateful = on;
        self
    }

    /// Stops after this many model turns.
    #[must_use = "the builder returns the changed loop"]
    pub fn max_turns(mut self, n: usize) -> Self {
        self.max_turns = n.max(1);
        self
    }

    /// Gives up on a tool after this long; it then gets an error result.
    #[must_use = "the builder returns the changed loop"]
    pub fn tool_timeout(mut self, timeout: Duration) -> Self {
        self.tool_timeout = timeout;
        self
    }

    /// Replays the cassette's conversation: its first request, then follow-ups built from
    /// the served turns and the tools' results, until a response has no tool calls. A call it
    /// cannot run (a tool the request did not declare, arguments that are not a JSON object)
    /// is answered with an error result that says why, and its tool is not called.
    ///
    /// # Errors
    /// A request fails or is rejected, a response does not decode, or the max-turns guard hits.
    pub async fn run(
        &self,
        cassette: &Cassette,
        tools: &dyn Tools,
    ) -> Result<LoopOutcome, LoopError> {
        let codec = cassette.provider().codec();
        let template = &cassette.file.interactions[0].request.body;
        let mut messages: Vec<Value> = codec.history(template);
        let sequential: HashSet<String> = cassette
            .file
            .tools
            .iter()
            .filter(|(_, s)| s.sequential)
            .map(|(n, _)| n.clone())
            .collect();
        let declared: Vec<String> = codec
            .declared_tools(template)
            .into_iter()
            .map(|t| t.name)
            .collect();
        let clock = Instant::now();
        let mut turns = Vec::new();
        let mut previous: Option<(String, Vec<Value>)> = None;
        for turn in 0..self.max_turns {
            let body = previous
                .take()
                .filter(|_| self.stateful)
                .and_then(|(id, items)| codec.continue_from(template, &id, items))
                .unwrap_or_else(|| codec.with_history(template, messages.clone()));
            let (mut answer, response_id) = self.ask(cassette, turn + 1, &body).await?;
            answer.number_calls(turn + 1);
            let calls: Vec<ToolCall> = answer.tool_calls().cloned().collect();
            if calls.is_empty() {
                return Ok(LoopOutcome {
                    turns,
                    final_text: answer.text(),
                    requests: turn + 1,
                });
            }
            let (results, spans) = self
                .execute(turn, &calls, tools, &sequential, &declared, clock)
                .await;
            messages.push(codec.encode_assistant(&answer));
            let encoded = codec.encode_answers(&calls, &results);
            messages.extend(encoded.iter().cloned());
            previous = response_id.map(|id| (id, encoded));
            turns.push(LoopTurn {
                index: turn + 1,
                calls,
                results,
                spans,
            });
        }
        Err(LoopError::MaxTurns(self.max_turns))
    }

    /// Sends one model request, retrying what a careful client retries: a rate limit or
    /// server error (408, 409, 429, 5xx) after the `retry-after-ms` or `retry-after` it asks
    /// for (else a short exponential backoff), and a stream that broke (cut, or ended without
    /// its end), up to [`RETRIES`] times. The whole request is sent again, never the tools.
    async fn ask(
        &self,
        cassette: &Cassette,
        turn: usize,
        body: &Value,
    ) -> Result<(AssistantTurn, Option<String>), LoopError> {
        let mut attempt = 0;
        loop {
            match self.ask_once(cassette, turn, body).await {
                Ok(answer) => return Ok(answer),
                Err((_, Some(wait))) if attempt < RETRIES => {
                    let backoff = BACKOFF * 2u32.pow(attempt);
                    tokio::time::sleep(if wait.is_zero() { backoff } else { wait }).await;
                    attempt += 1;
                }
                Err((error, _)) => return Err(error),
            }
        }
    }

    async fn ask_once(
        &self,
        cassette: &Cassette,
        turn: usize,
        body: &Value,
    ) -> Result<(AssistantTurn, Option<String>), (LoopError, Option<Duration>)> {
        let codec = cassette.provider().codec();
        let url = format!(
            "{}{}",
            self.base_url.trim_end_matches('/'),
            codec.request_path(&cassette.model(), cassette.streaming())
        );
        let mut req = self.client.post(url).json(body);
        for (name, value) in codec.client_headers() {
            req = req.header(name, value);
        }
        let http = |error| (LoopError::Http { turn, error }, Some(Duration::ZERO));
        let response = req.send().await.map_err(http)?;
        let status = response.status().as_u16();
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !(200..300).contains(&status) {
            let wait = retryable_status(status).then(|| retry_after(response.headers()));
            let body = response.text().await.unwrap_or_default();
            return Err((LoopError::Rejected { turn, status, body }, wait));
        }
        let decode_stream = |error| (LoopError::Decode { turn, error }, Some(Duration::ZERO));
        let decode = |error| (LoopError::Decode { turn, error }, None);
        if is_stream {
            let mut parser = sse::SseParser::new();
            let mut events = Vec::new();
            let mut stream = response.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(http)?;
                events.extend(
                    parser
                        .push(&chunk)
                        .map_err(|e| decode(ResponseError::new("stream", e.to_string())))?,
                );
            }
            parser
                .finish()
                .map_err(|e| decode_stream(ResponseError::new("stream", e.to_string())))?;
            let turn = codec.decode_response_sse(&events).map_err(decode_stream)?;
            Ok((turn, codec.response_id(None, &events)))
        } else {
            let text = response.text().await.map_err(http)?;
            let turn = codec.decode_response_json(&text).map_err(decode)?;
            Ok((turn, codec.response_id(Some(&text), &[])))
        }
    }

    async fn execute(
        &self,
        turn: usize,
        calls: &[ToolCall],
        tools: &dyn Tools,
        sequential: &HashSet<String>,
        declared: &[String],
        clock: Instant,
    ) -> (Vec<ToolResult>, Vec<Span>) {
        let run_one = |call: ToolCall| {
            let future: BoxFuture<'static, ToolOutcome> = match unrunnable(&call, declared) {
                Some(why) => Box::pin(async move { Err(why) }),
                None => tools.call(turn, call.clone()),
            };
            let timeout = self.tool_timeout;
            async move {
                let start = clock.elapsed();
                let outcome = tokio::time::timeout(timeout, future).await;
                let end = clock.elapsed();
                let (content, is_error) = match outcome {
                    Ok(Ok(content)) => (content, false),
                    Ok(Err(message)) => (Value::String(message), true),
                    Err(_) => (
                        Value::String(format!(
                            "tool `{}` timed out after {} ms",
                            call.name,
                            timeout.as_millis()
                        )),
                        true,
                    ),
                };
                let span = Span {
                    turn,
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    start_ms: start.as_secs_f64() * 1000.0,
                    end_ms: Some(end.as_secs_f64() * 1000.0),
                    barrier_timed_out: false,
                };
                (
                    ToolResult {
                        call_id: call.id,
                        content,
                        is_error,
                    },
                    span,
                )
            }
        };
        type Indexed<'c> = Vec<(usize, &'c ToolCall)>;
        let (seq, par): (Indexed<'_>, Indexed<'_>) = calls
            .iter()
            .enumerate()
            .partition(|(_, c)| sequential.contains(&c.name));
        let concurrent = join_all(par.iter().map(|(_, c)| run_one((*c).clone())));
        let one_by_one = async {
            let mut done = Vec::with_capacity(seq.len());
            for (_, c) in &seq {
                done.push(run_one((*c).clone()).await);
            }
            done
        };
        let (par_done, seq_done) = join(concurrent, one_by_one).await;
        let mut slots: Vec<Option<(ToolResult, Span)>> = vec![None; calls.len()];
        for ((i, _), done) in par.iter().zip(par_done).chain(seq.iter().zip(seq_done)) {
            slots[*i] = Some(done);
        }
        slots.into_iter().flatten().unzip()
    }
}

/// Why a call cannot be run, as the error result the loop answers it with (and the tool is
/// never called): it names a tool the request did not declare, or its arguments are not a JSON
/// object. Models send both; a loop that runs such a call, or stops, is wrong (TT023), and one
/// that answers with a made-up result hides it (TT024). Empty arguments are no arguments.
fn unrunnable(call: &ToolCall, declared: &[String]) -> Option<String> {
    if !declared.is_empty() && !declared.contains(&call.name) {
        return Some(format!(
            "tool `{}` does not exist; the tools are: {}",
            call.name,
            declared.join(", ")
        ));
    }
    if call.arguments.trim().is_empty() {
        return None;
    }
    match serde_json::from_str::<Value>(&call.arguments) {
        Ok(Value::Object(_)) => None,
        Ok(_) => Some(format!(
            "the arguments of `{}` are not a JSON object: {}",
            call.name, call.arguments
        )),
        Err(e) => Some(format!(
            "the arguments of `{}` are not valid JSON ({e}): {}",
            call.name, call.arguments
        )),
    }
}
