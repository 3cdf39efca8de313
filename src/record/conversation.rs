//! From exchanges to conversations: which exchanges are calls to a provider tooltape reads
//! (by the URL's route, else by the bodies), decoded; then split into conversations by the
//! history each request carries.

use serde_json::Value;

use super::error::ImportErrorKind;
use super::exchange::{Exchange, Storage, Timing};
use super::redact;
use crate::cassette::{RecordedResponse, ResponseBody};
use crate::provider::{Provider, ResponseError, Route, sse};
use crate::transcript::AssistantTurn;

/// One provider call of a recording, decoded.
#[derive(Debug, Clone)]
pub struct Call {
    /// Its place in the file, from 0.
    pub at: usize,
    /// The provider whose codec reads it.
    pub provider: Provider,
    /// The request body; `None` when the recording has only the response.
    pub request: Option<Value>,
    /// How many assistant turns the request carries.
    pub assistant_turns: usize,
    /// Whether the request continues an earlier response on the provider's side.
    pub continues: bool,
    /// The call ids the request answers.
    pub answered: Vec<String>,
    /// The path the request was sent to (with `?alt=sse`, no other query: a key may be in
    /// it), when the route says what the body does not (the model, the mode).
    pub path: Option<String>,
    /// The response as a cassette keeps it.
    pub response: RecordedResponse,
    /// The response, decoded.
    pub turn: AssistantTurn,
    /// How the bodies were stored.
    pub storage: Vec<Storage>,
    /// What reading it assumed or changed.
    pub notes: Vec<String>,
    /// When `tooltape record` saw it.
    pub timing: Option<Timing>,
    /// Credential values its request carried, to scrub wherever they appear.
    pub secrets: Vec<String>,
}

/// The provider calls of a recording, and what was left out and why.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    /// The calls, in file order.
    pub calls: Vec<Call>,
    /// One line per exchange left out.
    pub left_out: Vec<String>,
}

/// The providers and their endpoints, for messages.
#[must_use]
pub fn supported() -> String {
    Provider::ALL
        .iter()
        .map(|p| format!("{p} (`POST {}`)", p.endpoint()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn decode(provider: Provider, body: &ResponseBody) -> Result<AssistantTurn, ResponseError> {
    match body {
        ResponseBody::Json { text } => provider.decode_response_json(text),
        ResponseBody::Sse { frames } => provider.decode_response_sse(&sse::parse_frames(frames)),
    }
}

/// The provider whose route serves the exchange's URL: the path without host and without a
/// tooltape session prefix (`/s/{session}`), else the longest tail of it that a provider
/// serves (an OpenAI-compatible API under a prefix such as `/openai/v1/chat/completions`).
fn route(exchange: &Exchange) -> Option<(Provider, Route, String)> {
    if exchange.url.is_empty() {
        return None;
    }
    let method = if exchange.method.is_empty() {
        "POST"
    } else {
        exchange.method.as_str()
    };
    let (path, query) = exchange.path_and_query();
    let path = match path.strip_prefix("/s/") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => path,
    };
    let tails = std::iter::once(0).chain(path.match_indices('/').skip(1).map(|(i, _)| i));
    for start in tails {
        if let Some((p, r)) = Provider::route(method, &path[start..], query) {
            let sse = query.is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
            let kept = format!("{}{}", &path[start..], if sse { "?alt=sse" } else { "" });
            return Some((p, r, kept));
        }
    }
    None
}

fn describe(exchange: &Exchange) -> String {
    if exchange.url.is_empty() {
        return "a response with no request".to_owned();
    }
    let (path, _) = exchange.path_and_query();
    format!("`{} {path}`", exchange.method)
}

/// Decodes the provider calls among `exchanges`.
///
/// # Errors
/// A call to a provider does not decode, or no exchange is a provider call.
pub fn provider_calls(exchanges: &[Exchange]) -> Result<Calls, ImportErrorKind> {
    let mut out = Calls::default();
    let mut unread = Vec::new();
    for (at, exchange) in exchanges.iter().enumerate() {
        let ok = (200..300).contains(&exchange.status);
        let routed = route(exchange);
        if !ok {
            out.left_out.push(format!(
                "interaction {at} of the file ({}, answered {}) is left out: a cassette replays answered calls",
                describe(exchange),
                exchange.status
            ));
            continue;
        }
        let mut storage = Vec::new();
        let body_error = |problem: String| ImportErrorKind::Body {
            interaction: at,
            problem,
        };
        let response = exchange.response_body(&mut storage);
        let request = exchange.request_json(&mut storage);
        let path = routed
            .as_ref()
            .filter(|(_, r, _)| *r != Route::default())
            .map(|(_, _, p)| p.clone());
        let (provider, route, request, response, mut turn) = match routed {
            Some((provider, route, _)) => {
                let request = request.map_err(|e| body_error(e.0))?;
                let response = response.map_err(|e| body_error(e.0))?;
                let turn =
                    decode(provider, &response).map_err(|error| ImportErrorKind::Response {
                        interaction: at,
                        provider,
                        error: Box::new(error),
                    })?;
                (provider, route, request, response, turn)
            }
            None => {
                let (Ok(request), Ok(response)) = (request, response) else {
                    out.left_out.push(format!(
                        "interaction {at} of the file ({}) is left out: it is not a call tooltape reads",
                        describe(exchange)
                    ));
                    continue;
                };
                let found = Provider::ALL.into_iter().find_map(|p| {
                    let request_ok = request.as_ref().is_none_or(|body| {
                        p.codec().decode_request(&Route::default(), body).is_ok()
                    });
                    let turn = decode(p, &response).ok()?;
                    request_ok.then_some((p, turn))
                });
                let Some((provider, turn)) = found else {
                    if request.is_none() {
                        let tried: Vec<String> = Provider::ALL
                            .iter()
                            .filter_map(|p| {
                                decode(*p, &response).err().map(|e| format!("as {p}: {e}"))
                            })
                            .collect();
                        unread.push(tried.join("; "));
                    }
                    out.left_out.push(format!(
                        "interaction {at} of the file ({}) is left out: it is not a call tooltape reads",
                        describe(exchange)
                    ));
                    continue;
                };
                (provider, Route::default(), request, response, turn)
            }
        };
        let (assistant_turns, continues, answered) = match &request {
            Some(body) => {
                let decoded = provider
                    .codec()
                    .decode_request(&route, body)
                    .map_err(|error| ImportErrorKind::Request {
                        interaction: at,
                        provider,
                        error: Box::new(error),
                    })?;
                let answered = decoded
                    .conversation
                    .messages
                    .iter()
                    .flat_map(|m| m.tool_results().map(|(_, r)| r.call_id.clone()))
                    .collect();
                (
                    decoded.conversation.assistant_turns(),
                    decoded.continues.is_some(),
                    answered,
                )
            }
            None => (0, false, Vec::new()),
        };
        turn.number_calls(assistant_turns + 1);
        out.calls.push(Call {
            at,
            provider,
            request,
            assistant_turns,
            continues,
            answered,
            path,
            response: RecordedResponse {
                status: exchange.status,
                body: response,
                synthetic: false,
                frame_delays_ms: Vec::new(),
            },
            turn,
            storage,
            notes: exchange.notes.clone(),
            timing: exchange.timing.clone(),
            secrets: redact::secrets_of(exchange),
        });
    }
    if out.calls.is_empty() {
        let seen = if !unread.is_empty() {
            format!(
                "the response, recorded without its request, does not decode ({})",
                unread.join("; ")
            )
        } else if exchanges.is_empty() {
            "the file holds no interactions".to_owned()
        } else {
            let mut kinds: Vec<(String, usize)> = Vec::new();
            for e in exchanges {
                let what = match e.status {
                    200..=299 => describe(e),
                    s => format!("{} answered {s}", describe(e)),
                };
                match kinds.iter_mut().find(|(k, _)| *k == what) {
                    Some((_, n)) => *n += 1,
                    None => kinds.push((what, 1)),
                }
            }
            let kinds: Vec<String> = kinds
                .into_iter()
                .map(|(what, n)| format!("{n} × {what}"))
                .collect();
            format!("the file holds {}", kinds.join(", "))
        };
        return Err(ImportErrorKind::NoProviderCall {
            seen,
            supported: supported(),
        });
    }
    Ok(out)
}

/// Splits calls into conversations. A request with no assistant turn (and no stateful
/// continuation) starts one; a request carrying `k` assistant turns continues the latest
/// conversation of its provider with `k` responses, preferring one whose last calls it
/// answers; a response recorded alone is a conversation of its own. A request that continues
/// nothing recorded before it is left out, with a line in `left_out`.
#[must_use]
pub fn split(calls: Vec<Call>, left_out: &mut Vec<String>) -> Vec<Vec<Call>> {
    let mut conversations: Vec<Vec<Call>> = Vec::new();
    for call in calls {
        if call.request.is_none() || (call.assistant_turns == 0 && !call.continues) {
            conversations.push(vec![call]);
            continue;
        }
        let fits = |c: &Vec<Call>| {
            c[0].provider == call.provider
                && (call.continues || c.len() == call.assistant_turns)
                && c[0].request.is_some()
        };
        let answers = |c: &Vec<Call>| {
            c.last().is_some_and(|last| {
                last.turn
                    .tool_calls()
                    .all(|t| call.answered.contains(&t.id))
            })
        };
        let chosen = conversations
            .iter()
            .rposition(|c| fits(c) && answers(c))
            .or_else(|| conversations.iter().rposition(fits));
        match chosen {
            Some(i) => conversations[i].push(call),
            None => left_out.push(format!(
                "interaction {} of the file is left out: its request carries {} assistant turn{}, but no conversation recorded before it has that many responses",
                call.at,
                call.assistant_turns,
                if call.assistant_turns == 1 { "" } else { "s" }
            )),
        }
    }
    conversations
}
