//! The Anthropic Messages codec and its facts.

use serde_json::Value;

use crate::provider::codec::{
    Codec, DecodedRequest, Env, Facts, Pairing, RequestMeta, ResultPlacement, Route, Texts,
};
use crate::provider::rejection::{ErrorReply, Rejection};
use crate::provider::sse::Event;
use crate::provider::{ApiError, FaultReply, Malformed, Provider, ResponseError};
use crate::transcript::{AssistantTurn, ToolCall, ToolDefinition, ToolResult};

/// Anthropic Messages, `POST /v1/messages`.
#[derive(Debug, Clone, Copy)]
pub struct Anthropic;

const ENDPOINT: &str = "/v1/messages";

static FACTS: Facts = Facts {
    name: "anthropic",
    endpoint: ENDPOINT,
    placement: ResultPlacement::LeadingBlocksOfNextUserMessage,
    pairing: Pairing::ById,
    error_flag: true,
    client_retries: true,
    reasoning_travels_with_calls: false,
    env: Env {
        base_url_var: "ANTHROPIC_BASE_URL",
        base_url_suffix: "",
        keys: &[("ANTHROPIC_API_KEY", "sk-ant-tooltape-placeholder")],
    },
    texts: Texts {
        answer_every_call: "answer every call: one `tool_result` block per `tool_use` id, first in the next user message; a failing tool still needs a result with `is_error: true`",
        misplaced_at,
        parallel_off: "`tool_choice.disable_parallel_tool_use: true`",
        missing_signature: None,
        place_results: "put all `tool_result` blocks first in the one user message that follows the assistant message; text goes after them",
    },
    history_field: "messages",
    minimal_request: r#"{"model": "m", "max_tokens": 1, "tools": [{"name": "t", "input_schema": {"type": "object"}}], "messages": []}"#,
};

fn misplaced_at(message: usize, block: usize) -> String {
    format!(
        "block {block} of message {message} is not among the `tool_result` blocks that open the next user message"
    )
}

impl Codec for Anthropic {
    fn provider(&self) -> Provider {
        Provider::Anthropic
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn route(&self, method: &str, path: &str, _query: Option<&str>) -> Option<Route> {
        (method == "POST" && path == ENDPOINT).then(Route::default)
    }

    fn advise(&self, path: &str, root: &str) -> Option<String> {
        (path.ends_with("/messages") || path.contains("/messages/")).then(|| {
            format!(
                "`{path}` is not where the Messages API is served (POST {ENDPOINT}): set ANTHROPIC_BASE_URL (or the SDK's base_url) to `{root}`, without /v1: the SDK appends /v1/messages"
            )
        })
    }

    /// Newer SDKs send `Authorization: Bearer` instead of `x-api-key`; both are accepted.
    fn missing_header(&self, meta: &RequestMeta) -> Option<&'static str> {
        if !meta.has("x-api-key") && !meta.has("authorization") {
            Some("x-api-key")
        } else if !meta.has("anthropic-version") {
            Some("anthropic-version")
        } else {
            None
        }
    }

    fn client_headers(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("x-api-key", "sk-ant-tooltape-placeholder"),
            ("anthropic-version", "2023-06-01"),
        ]
    }

    fn decode_request(&self, _route: &Route, body: &Value) -> Result<DecodedRequest, Malformed> {
        super::decode_request(body)
    }

    fn decode_request_fast(&self, _route: &Route, body: &[u8]) -> Option<DecodedRequest> {
        super::typed::decode(body)
    }

    fn decode_response_json(&self, body: &str) -> Result<AssistantTurn, ResponseError> {
        super::decode_response_json(body)
    }

    fn decode_response_sse(&self, events: &[Event]) -> Result<AssistantTurn, ResponseError> {
        super::decode_response_sse(events)
    }

    fn json_to_sse(&self, body: &str, _request: &Value) -> Result<Vec<String>, ResponseError> {
        super::reencode::json_to_sse(body)
    }

    fn sse_to_json(&self, frames: &[String]) -> Result<String, ResponseError> {
        super::reencode::sse_to_json(frames)
    }

    fn response_id(&self, json: Option<&str>, events: &[Event]) -> Option<String> {
        let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
        match json {
            Some(text) => serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| id(&v)),
            None => events.iter().find_map(|e| {
                let v: Value = serde_json::from_str(&e.data).ok()?;
                (v.get("type")? == "message_start").then(|| id(v.get("message")?))?
            }),
        }
    }

    fn system_prompt(&self, request: &Value) -> String {
        crate::transcript::content_text(request.get("system").unwrap_or(&Value::Null))
    }

    fn declared_tools(&self, request: &Value) -> Vec<ToolDefinition> {
        super::request::declared_tools(request)
    }

    fn encode_assistant(&self, turn: &AssistantTurn) -> Value {
        super::encode_assistant(turn)
    }

    fn encode_results(&self, results: &[ToolResult]) -> Vec<Value> {
        super::encode_results(results)
    }

    fn with_calls(&self, body: &str, calls: &[ToolCall]) -> Result<String, String> {
        super::with_calls(body, calls)
    }

    fn render_fault(&self, error: &ApiError, model: &str) -> Option<FaultReply> {
        let _ = model;
        super::render_fault(error)
    }

    fn terminal_frames(&self, frames: &[&str]) -> usize {
        super::terminal_frames(frames)
    }

    fn render_rejection(&self, rejection: &Rejection) -> ErrorReply {
        super::render_rejection(rejection)
    }

    fn final_answer(&self, like: &str, text: &str) -> Option<String> {
        super::synthesis::final_answer(like, text)
    }

    fn opening_request(
        &self,
        like: &str,
        prompt: &str,
        tools: &[ToolDefinition],
        stream: bool,
    ) -> Option<Value> {
        super::synthesis::opening_request(like, prompt, tools, stream)
    }
}
