//! The seam every provider sits behind: one [`Codec`] per wire format, and the [`Facts`] the
//! server and the rules read instead of asking which provider they handle.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::fault::{ApiError, FaultReply};
use super::registry::Provider;
use super::rejection::{ErrorReply, Rejection};
use super::sse::Event;
use super::{Malformed, ResponseError};
use crate::transcript::{
    AssistantTurn, Conversation, Message, ToolCall, ToolDefinition, ToolResult,
};

/// One provider's wire format: routes, headers, requests, responses and error bodies.
///
/// Codecs are plain synchronous functions of their input; they never judge. A new provider is
/// one folder under `src/provider/` with one implementation of this trait, and one arm in
/// [`Provider::codec`].
pub trait Codec: Send + Sync + fmt::Debug {
    /// The cassette id of this codec.
    fn provider(&self) -> Provider;

    /// What the server and the rules need to know about the provider.
    fn facts(&self) -> &'static Facts;

    /// Whether this codec serves `method` on `path` (below any session prefix; `query`
    /// without its `?`), and what the route itself says about the request.
    fn route(&self, method: &str, path: &str, query: Option<&str>) -> Option<Route>;

    /// What to tell a loop that sent `method path` (no route of any codec) when the path looks
    /// like this provider's API: the route that is served and the base URL to use (`root` is
    /// the server or session root the loop reached). `None` when the path is not this
    /// provider's.
    fn advise(&self, path: &str, root: &str) -> Option<String>;

    /// The first header (or credential) the provider requires that `meta` lacks.
    fn missing_header(&self, meta: &RequestMeta) -> Option<&'static str>;

    /// The headers a correct client sends with every request (placeholder credentials).
    fn client_headers(&self) -> Vec<(&'static str, &'static str)>;

    /// Decodes the conversation a request carries.
    ///
    /// # Errors
    /// The request is malformed the way the provider would reject it (TT011).
    fn decode_request(&self, route: &Route, body: &Value) -> Result<DecodedRequest, Malformed>;

    /// Decodes a well-formed request straight from its bytes, without parsing the whole body
    /// into a `Value` first: the replay server's fast path. `None` when this codec has no
    /// fast path (the default) or is not sure of the body; the caller then parses it and
    /// takes [`Codec::decode_request`]. `Some(d)` only where that gives `Ok(d)` for the same
    /// body and route, and [`Codec::resolve_references`] has nothing to resolve in it.
    fn decode_request_fast(&self, route: &Route, body: &[u8]) -> Option<DecodedRequest> {
        let _ = (route, body);
        None
    }

    /// Decodes a recorded or served JSON response body.
    ///
    /// # Errors
    /// The body is not a response of this provider.
    fn decode_response_json(&self, body: &str) -> Result<AssistantTurn, ResponseError>;

    /// Decodes a streamed response from its events, accumulating tool calls as a careful
    /// client must.
    ///
    /// # Errors
    /// An event is not JSON, refers to a call or block never opened, or the stream has no end.
    fn decode_response_sse(&self, events: &[Event]) -> Result<AssistantTurn, ResponseError>;

    /// The stream the provider's API sends for a recorded JSON response `body`, for a loop
    /// that asks for a stream (`request` is what it sent, for stream options): the same ids,
    /// names, arguments, text, thinking, stop reason and usage, in the API's event sequence.
    ///
    /// # Errors
    /// The body is not a response of this provider.
    fn json_to_sse(&self, body: &str, request: &Value) -> Result<Vec<String>, ResponseError>;

    /// The JSON body the provider's API returns for a recorded stream, for a loop that asks
    /// for JSON.
    ///
    /// # Errors
    /// The stream does not decode.
    fn sse_to_json(&self, frames: &[String]) -> Result<String, ResponseError>;

    /// The stream the provider's API sends for a recorded stream `frames` to a loop whose
    /// request did not turn on a stream shape the recording has (Gemini's `partialArgs`
    /// argument streaming is sent only on request): the same turn re-encoded. `None` when the
    /// recorded frames fit the request and go out verbatim (the default).
    ///
    /// `request` gives the request body; it is called only when the recording has such a
    /// shape, so a stream served verbatim never builds a `Value` of the body.
    ///
    /// # Errors
    /// The stream does not decode.
    fn restream<'v>(
        &self,
        frames: &[String],
        request: &dyn Fn() -> &'v Value,
    ) -> Option<Result<Vec<String>, ResponseError>> {
        let _ = (frames, request);
        None
    }

    /// The id of a recorded response (a JSON body, or a stream's events), when the provider
    /// gives one that a stateful continuation can name.
    fn response_id(&self, json: Option<&str>, events: &[Event]) -> Option<String> {
        let _ = (json, events);
        None
    }

    /// The wire messages (or input items) a request body carries, in order: by default the
    /// array in the field [`Facts::history_field`] names.
    fn history(&self, request: &Value) -> Vec<Value> {
        request
            .get(self.facts().history_field)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// `request` with its history replaced by `history`: how the reference loop builds each
    /// follow-up from the recorded first request.
    fn with_history(&self, request: &Value, history: Vec<Value>) -> Value {
        let mut body = request.clone();
        if let Some(fields) = body.as_object_mut() {
            fields.insert(self.facts().history_field.into(), Value::Array(history));
        }
        body
    }

    /// A stateful follow-up: `request` continuing the recorded response `response_id` with
    /// only the new `items` (one turn's results) as its history, for a provider that keeps
    /// conversations on its side. `None`: the provider has no such continuation (the default).
    fn continue_from(
        &self,
        request: &Value,
        response_id: &str,
        items: Vec<Value>,
    ) -> Option<Value> {
        let _ = (request, response_id, items);
        None
    }

    /// `request` with each reference to an item the provider stored (OpenAI Responses'
    /// `item_reference`) replaced by the item itself, as `served` gives it by id (an item of
    /// a served turn, as [`Codec::encode_assistant`] writes it). `None` when the request
    /// references nothing `served` knows (the default: the provider has no references); a
    /// reference to an unknown id stays as it is.
    fn resolve_references(
        &self,
        request: &Value,
        served: &dyn Fn(&str) -> Option<Value>,
    ) -> Option<Value> {
        let _ = (request, served);
        None
    }

    /// The system (or developer) prompt a request carries, as text; empty when it has none.
    fn system_prompt(&self, request: &Value) -> String;

    /// The tool definitions a request declares, in the provider's own format: by default its
    /// `tools` array.
    fn tool_definitions(&self, request: &Value) -> Value {
        request
            .get("tools")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()))
    }

    /// The function tools a request declares, in neutral terms (name, description, JSON
    /// Schema of the arguments), in declaration order: what the session's MCP server lists.
    fn declared_tools(&self, request: &Value) -> Vec<ToolDefinition>;

    /// The wire message that echoes an assistant turn back, exactly as served. A format whose
    /// history is a flat list of items (OpenAI Responses) returns the turn's items as a JSON
    /// array, which its [`Codec::with_history`] splices into the list.
    fn encode_assistant(&self, turn: &AssistantTurn) -> Value;

    /// The path below the server root a client posts a request for `model` to, streamed or
    /// not: by default [`Facts::endpoint`] (the body says the rest).
    fn request_path(&self, model: &str, stream: bool) -> String {
        let _ = (model, stream);
        self.facts().endpoint.to_owned()
    }

    /// The wire messages that answer `calls` with `results` (in the same order): by default
    /// [`Codec::encode_results`]; a provider whose results name their call's tool reads it
    /// from `calls`.
    fn encode_answers(&self, calls: &[ToolCall], results: &[ToolResult]) -> Vec<Value> {
        let _ = calls;
        self.encode_results(results)
    }

    /// The wire messages that carry one turn's results, in the container the provider
    /// requires.
    fn encode_results(&self, results: &[ToolResult]) -> Vec<Value>;

    /// Decodes wire messages (as [`Codec::encode_assistant`] and [`Codec::encode_results`]
    /// make them) back into transcript messages.
    ///
    /// # Errors
    /// As [`Codec::decode_request`].
    fn decode_messages(&self, messages: &[Value]) -> Result<Vec<Message>, Malformed> {
        let minimal: Value =
            serde_json::from_str(self.facts().minimal_request).unwrap_or(Value::Null);
        let request = self.with_history(&minimal, messages.to_vec());
        Ok(self
            .decode_request(&Route::default(), &request)?
            .conversation
            .messages)
    }

    /// The provider's error body for a rejected request.
    fn render_rejection(&self, rejection: &Rejection) -> ErrorReply;

    /// The provider's reply for an API error a fault serves (rate limit, server error,
    /// overloaded): status, headers and body as the API sends them, for a request that named
    /// `model`. `None`: the provider has no such error (the fault is not served).
    fn render_fault(&self, error: &ApiError, model: &str) -> Option<FaultReply> {
        let _ = (error, model);
        None
    }

    /// The recorded JSON response `body` with its calls replaced by `calls`, for a model
    /// fault (see [`crate::fault::FaultKind::is_model_fault`]): each call the body has is
    /// rewritten in place, further calls are added after the last one, and everything else
    /// (envelope, text, thinking, stop reason, usage) stays as recorded. A stream is made from
    /// the result by [`Codec::json_to_sse`].
    ///
    /// # Errors
    /// Why the provider's API cannot send such a turn (arguments that are not a JSON object
    /// where the wire carries an object, an id it never repeats): the fault is not served and
    /// the report says why. The default: this codec writes no changed calls.
    fn with_calls(&self, body: &str, calls: &[ToolCall]) -> Result<String, String> {
        let _ = (body, calls);
        Err(format!(
            "`{}` cannot write a turn with changed calls",
            self.facts().name
        ))
    }

    /// How many frames at the end of a stream make its end (the stop reason and the
    /// end-of-stream marker), which a `no-terminal-event` fault leaves out. `0`: the provider's
    /// streams have no end of their own apart from the data (the fault is not served).
    fn terminal_frames(&self, frames: &[&str]) -> usize {
        let _ = frames;
        0
    }

    /// The JSON body of a final text answer `text`, in the envelope of the recorded JSON
    /// response `like` (its model and id style), for completing a recording that ends with tool
    /// calls (`tooltape import`). `None`: this codec cannot write one, and the import says so
    /// (the default, so that a new codec works without it).
    fn final_answer(&self, like: &str, text: &str) -> Option<String> {
        let _ = (like, text);
        None
    }

    /// A first request for a conversation recorded without one: `prompt` as its one user
    /// message, `tools` declared, the model of the recorded JSON response `like`, and a stream
    /// asked for when `stream`. `None`: this codec cannot write one (the default).
    fn opening_request(
        &self,
        like: &str,
        prompt: &str,
        tools: &[ToolDefinition],
        stream: bool,
    ) -> Option<Value> {
        let _ = (like, prompt, tools, stream);
        None
    }
}

/// What a route says about a request before its body is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// The model, when the path names it.
    pub model: Option<String>,
    /// Whether the path itself asks for a stream (`None`: the body decides).
    pub stream: Option<bool>,
}

/// What a request carried, after decoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedRequest {
    /// The conversation.
    pub conversation: Conversation,
    /// Whether it asked for a streamed response.
    pub stream: bool,
    /// The model.
    pub model: String,
    /// The names of the tools it declared, in order.
    pub tool_names: Vec<String>,
    /// The id of an earlier response this request continues on the provider's side (a
    /// stateful continuation); `None` when the request carries its whole history.
    pub continues: Option<String>,
    /// Whether the request lets the model make several calls in one turn (`false` when it
    /// switched parallel calls off).
    pub parallel_tool_calls: bool,
    /// Whether the API requires every served thinking (reasoning) block back with its turn for
    /// this request. Anthropic requires them only when the request turns thinking on; with it
    /// off the API accepts a history without them, so dropping one is only a warning.
    pub thinking_required: bool,
}

/// Which headers a request carried, as far as a provider checks them.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The names sent with a value, each ended by a newline (a name holds none): one string
    /// for the handful of headers a request has, instead of an allocation for each.
    present: String,
    trusted: bool,
    removed: BTreeSet<String>,
}

impl RequestMeta {
    /// Every header present (for in-process callers that have no headers to check).
    #[must_use]
    pub fn all() -> Self {
        Self {
            trusted: true,
            ..Self::default()
        }
    }

    /// The headers with a non-empty value, from any transport's header map.
    #[must_use]
    pub fn from_headers(headers: &hyper::HeaderMap) -> Self {
        let mut present = String::with_capacity(128);
        for (k, v) in headers {
            let sent = match k.as_str() {
                "authorization" => v.as_bytes().len() > 7 && v.as_bytes().starts_with(b"Bearer "),
                _ => !v.as_bytes().is_empty(),
            };
            if sent {
                present.push_str(k.as_str());
                present.push('\n');
            }
        }
        Self {
            present,
            ..Self::default()
        }
    }

    /// These headers, but without `name`.
    #[must_use = "returns the changed headers"]
    pub fn without(mut self, name: &str) -> Self {
        self.removed.insert(name.to_ascii_lowercase());
        self
    }

    /// These headers, and the query parameters with a non-empty value (`key=…`), each as a
    /// name `?NAME`, for a provider that takes a credential in the query.
    #[must_use = "returns the changed headers"]
    pub fn with_query(mut self, query: Option<&str>) -> Self {
        for pair in query.unwrap_or_default().split('&') {
            if let Some((name, value)) = pair.split_once('=')
                && !name.is_empty()
                && !value.is_empty()
            {
                self.present.push('?');
                self.present.push_str(name);
                self.present.push('\n');
            }
        }
        self
    }

    /// Whether the header `name` (lowercase) was sent.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        !self.removed.contains(name)
            && (self.trusted || self.present.lines().any(|sent| sent == name))
    }
}

/// Where a provider requires one turn's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultPlacement {
    /// Each result is a message of its own (role `tool`); together they form the run of such
    /// messages right after the assistant message. Several messages per turn are the norm.
    OwnMessages,
    /// Results are blocks that open the next user message, before any other content; one
    /// turn's results belong in that one message.
    LeadingBlocksOfNextUserMessage,
    /// Each result is an item of its own anywhere after the call it answers, with other items
    /// (messages, other calls, other results) allowed in between (OpenAI Responses pairs by
    /// `call_id` over the whole input); one turn's calls may also be sent back interleaved
    /// with their results.
    AnyLaterItem,
    /// Results are blocks of the one user message right after the assistant message, in any
    /// position among its other blocks (Gemini: the function response turn).
    AnywhereInNextUserMessage,
}

/// How results are paired with calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Each result names the id of the call it answers.
    ById,
    /// Calls need not carry ids: the codec gives each call its position in the conversation
    /// ([`crate::transcript::positional_call_id`]) and pairs each result with a call of the
    /// assistant message right before it, by the ids on both sides where the loop sent them,
    /// else by name in call order (Gemini).
    ByOrderAndName,
}

/// What the server, the rules, the reference loop and `check` need to know about a provider:
/// data a codec states, so that nothing outside `src/provider/` branches on a provider's name.
#[derive(Debug)]
pub struct Facts {
    /// The name used in cassettes, reports and on the command line.
    pub name: &'static str,
    /// The path of the model endpoint below the server root, for messages.
    pub endpoint: &'static str,
    /// Where one turn's results must sit.
    pub placement: ResultPlacement,
    /// How results pair with calls.
    pub pairing: Pairing,
    /// Whether a result can carry an error flag (`is_error`), so a failing tool's result must.
    pub error_flag: bool,
    /// Whether the provider's official clients retry a rate limit or server error by default,
    /// so a loop that gives up at once falls short of them (an error) rather than of good
    /// practice only (a warning).
    pub client_retries: bool,
    /// Whether the provider refuses a replayed item that the model produced after a
    /// reasoning block with an id when that block is left out, and a reasoning block sent
    /// without the item that followed it (OpenAI Responses with stored or encrypted
    /// reasoning).
    pub reasoning_travels_with_calls: bool,
    /// The environment a loop reads to reach the provider.
    pub env: Env,
    /// Texts the rules use in findings.
    pub texts: Texts,
    /// The request field that holds the conversation (`messages`).
    pub history_field: &'static str,
    /// The smallest valid request as JSON text, whose history [`Codec::decode_messages`]
    /// replaces.
    pub minimal_request: &'static str,
}

/// How a loop finds the provider: the environment `check` exports.
#[derive(Debug)]
pub struct Env {
    /// The base-URL variable the official SDKs read.
    pub base_url_var: &'static str,
    /// What follows the server (or session) root in that base URL (`/v1`, or nothing).
    pub base_url_suffix: &'static str,
    /// Credential variables, set to placeholders: `(name, value)`.
    pub keys: &'static [(&'static str, &'static str)],
}

/// Provider-specific wording of findings and hints.
#[derive(Debug)]
pub struct Texts {
    /// How to answer every call (TT001).
    pub answer_every_call: &'static str,
    /// Where a misplaced result sat (TT004): given the message and block index.
    pub misplaced_at: fn(usize, usize) -> String,
    /// How to place results (TT004).
    pub place_results: &'static str,
    /// The request setting that switches parallel calls off (TT017).
    pub parallel_off: &'static str,
    /// The provider's refusal of an echoed call that lost the signature it was served with,
    /// given the tool's name and the 0-based index of the assistant message (TT006); `None`
    /// when the provider accepts such a turn.
    pub missing_signature: Option<fn(&str, usize) -> String>,
}

#[cfg(test)]
mod tests {
    use hyper::HeaderMap;
    use hyper::header::HeaderValue;

    use super::RequestMeta;

    #[test]
    fn a_header_counts_as_sent_only_with_a_value_and_a_bearer_token_only_with_its_token() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("content-type", "application/json"),
            ("x-api-key", ""),
            ("anthropic-version", "2023-06-01"),
            ("x-goog-api-key", "k"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let mut bare = headers.clone();
        bare.insert("authorization", HeaderValue::from_static("Bearer "));
        headers.insert("authorization", HeaderValue::from_static("Bearer sk-1"));
        let meta = RequestMeta::from_headers(&headers);
        for name in [
            "content-type",
            "anthropic-version",
            "x-goog-api-key",
            "authorization",
        ] {
            assert!(meta.has(name), "{name}");
        }
        for name in ["x-api-key", "anthropic", "content", "", "?key"] {
            assert!(!meta.has(name), "{name:?}");
        }
        assert!(!RequestMeta::from_headers(&bare).has("authorization"));
        let queried = meta.clone().with_query(Some("alt=sse&key=k&empty="));
        assert!(queried.has("?key") && queried.has("?alt") && !queried.has("?empty"));
        assert!(!queried.has("key"), "a query parameter is not a header");
        let removed = queried.without("Content-Type");
        assert!(!removed.has("content-type") && removed.has("anthropic-version"));
        assert!(RequestMeta::all().has("anything"));
    }
}
