//! The OpenAI Chat Completions codec and its facts.

use serde_json::Value;

use crate::provider::codec::{
    Codec, DecodedRequest, Env, Facts, Pairing, RequestMeta, ResultPlacement, Route, Texts,
};
use crate::provider::rejection::{ErrorReply, Rejection};
use crate::provider::sse::Event;
use crate::provider::{ApiError, FaultReply, Malformed, Provider, ResponseError};
use crate::transcript::{AssistantTurn, ToolCall, ToolDefinition, ToolResult};

/// OpenAI Chat Completions, `POST /v1/chat/completions`.
#[derive(Debug, Clone, Copy)]
pub struct OpenAiChat;

const ENDPOINT: &str = "/v1/chat/completions";

static FACTS: Facts = Facts {
    name: "openai-chat",
    endpoint: ENDPOINT,
    placement: ResultPlacement::OwnMessages,
    pairing: Pairing::ById,
    error_flag: false,
    client_retries: true,
    reasoning_travels_with_calls: false,
    env: Env {
        base_url_var: "OPENAI_BASE_URL",
        base_url_suffix: "/v1",
        keys: &[("OPENAI_API_KEY", "sk-tooltape-placeholder")],
    },
    texts: Texts {
        answer_every_call: "answer every call: one `role: \"tool\"` message per `tool_call_id`, right after the assistant message; a failing tool still needs a result (its error text)",
        misplaced_at,
        parallel_off: "`parallel_tool_calls: false`",
        missing_signature: None,
        place_results: "put every `tool` message directly after the assistant message with the calls, with no user, system or assistant message in between",
    },
    history_field: "messages",
    minimal_request: r#"{"model": "m", "messages": []}"#,
};

fn misplaced_at(message: usize, _block: usize) -> String {
    format!(
        "message {message} is not in the run of `tool` messages right after the assistant message"
    )
}

impl Codec for OpenAiChat {
    fn provider(&self) -> Provider {
        Provider::OpenAiChat
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn route(&self, method: &str, path: &str, _query: Option<&str>) -> Option<Route> {
        (method == "POST" && path == ENDPOINT).then(Route::default)
    }

    fn advise(&self, path: &str, root: &str) -> Option<String> {
        let base = format!("{root}/v1");
        if path.ends_with("/chat/completions") {
            return Some(format!(
                "`{path}` is not where the Chat Completions API is served: set OPENAI_BASE_URL (or the SDK's base_url) to `{base}`, which the SDK extends with /chat/completions"
            ));
        }
        let api = ["/completions", "/embeddings", "/assistants", "/threads"]
            .into_iter()
            .find(|api| path.ends_with(api) || path.contains(&format!("{api}/")))?;
        Some(format!(
            "tooltape does not serve the OpenAI `{api}` API (`{path}`); it serves Chat Completions at POST {ENDPOINT}: point the loop's OpenAI client at `{base}` and use chat completions"
        ))
    }

    fn missing_header(&self, meta: &RequestMeta) -> Option<&'static str> {
        (!meta.has("authorization")).then_some("authorization")
    }

    fn client_headers(&self) -> Vec<(&'static str, &'static str)> {
        vec![("authorization", "Bearer sk-tooltape-placeholder")]
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

    fn json_to_sse(&self, body: &str, request: &Value) -> Result<Vec<String>, ResponseError> {
        super::reencode::json_to_sse(body, request)
    }

    fn sse_to_json(&self, frames: &[String]) -> Result<String, ResponseError> {
        super::reencode::sse_to_json(frames)
    }

    fn system_prompt(&self, request: &Value) -> String {
        self.history(request)
            .iter()
            .filter(|m| matches!(m["role"].as_str(), Some("system" | "developer")))
            .map(|m| crate::transcript::content_text(&m["content"]))
            .collect::<Vec<_>>()
            .join("\n\n")
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
        super::render_fault(error, model)
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
