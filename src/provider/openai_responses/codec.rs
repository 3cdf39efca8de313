//! The OpenAI Responses codec and its facts.

use serde_json::Value;

use crate::provider::codec::{
    Codec, DecodedRequest, Env, Facts, Pairing, RequestMeta, ResultPlacement, Route, Texts,
};
use crate::provider::rejection::{ErrorReply, Rejection};
use crate::provider::sse::Event;
use crate::provider::{ApiError, FaultReply, Malformed, Provider, ResponseError};
use crate::transcript::{AssistantTurn, ToolCall, ToolDefinition, ToolResult};

/// OpenAI Responses, `POST /v1/responses`.
#[derive(Debug, Clone, Copy)]
pub struct OpenAiResponses;

const ENDPOINT: &str = "/v1/responses";

static FACTS: Facts = Facts {
    name: "openai-responses",
    endpoint: ENDPOINT,
    placement: ResultPlacement::AnyLaterItem,
    pairing: Pairing::ById,
    error_flag: false,
    client_retries: true,
    reasoning_travels_with_calls: true,
    env: Env {
        base_url_var: "OPENAI_BASE_URL",
        base_url_suffix: "/v1",
        keys: &[("OPENAI_API_KEY", "sk-tooltape-placeholder")],
    },
    texts: Texts {
        answer_every_call: "answer every call: one `function_call_output` item per call, whose `call_id` is the call's `call_id` (`call_…`, not the item id `fc_…`); a failing tool still needs an output (its error text)",
        misplaced_at,
        parallel_off: "`parallel_tool_calls: false`",
        place_results: "send each `function_call_output` after the `function_call` it answers (with `previous_response_id`, in the next request's `input`)",
        missing_signature: None,
    },
    history_field: "input",
    minimal_request: r#"{"model": "m", "input": []}"#,
};

fn misplaced_at(message: usize, _block: usize) -> String {
    format!("item {message} does not follow the call it answers")
}

impl Codec for OpenAiResponses {
    fn provider(&self) -> Provider {
        Provider::OpenAiResponses
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn route(&self, method: &str, path: &str, _query: Option<&str>) -> Option<Route> {
        (method == "POST" && path == ENDPOINT).then(Route::default)
    }

    fn advise(&self, path: &str, root: &str) -> Option<String> {
        path.ends_with("/responses").then(|| {
            format!(
                "`{path}` is not where the Responses API is served (POST {ENDPOINT}): set OPENAI_BASE_URL (or the SDK's base_url) to `{root}/v1`, which the SDK extends with /responses"
            )
        })
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
                id(v.get("response")?)
            }),
        }
    }

    /// `input` as items: a string input is one user message.
    fn history(&self, request: &Value) -> Vec<Value> {
        match request.get("input") {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::String(text)) => {
                vec![serde_json::json!({"role": "user", "content": text})]
            }
            _ => Vec::new(),
        }
    }

    /// Items spliced in: an element that is an array (an encoded assistant turn) contributes
    /// its items.
    fn with_history(&self, request: &Value, history: Vec<Value>) -> Value {
        let items: Vec<Value> = history
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(items) => items,
                other => vec![other],
            })
            .collect();
        let mut body = request.clone();
        if let Some(fields) = body.as_object_mut() {
            fields.insert("input".into(), Value::Array(items));
        }
        body
    }

    /// The request with `previous_response_id` and only `items` as input; `store` is left to
    /// its default (true), since a response that is not stored cannot be continued.
    fn continue_from(
        &self,
        request: &Value,
        response_id: &str,
        items: Vec<Value>,
    ) -> Option<Value> {
        let mut body = self.with_history(request, items);
        let fields = body.as_object_mut()?;
        fields.insert(
            "previous_response_id".into(),
            Value::String(response_id.into()),
        );
        fields.remove("store");
        Some(body)
    }

    fn resolve_references(
        &self,
        request: &Value,
        served: &dyn Fn(&str) -> Option<Value>,
    ) -> Option<Value> {
        super::request::resolve_references(request, served)
    }

    fn system_prompt(&self, request: &Value) -> String {
        let instructions = request
            .get("instructions")
            .and_then(Value::as_str)
            .map(str::to_owned);
        instructions
            .into_iter()
            .chain(
                self.history(request)
                    .iter()
                    .filter(|m| matches!(m["role"].as_str(), Some("system" | "developer")))
                    .map(|m| crate::transcript::content_text(&m["content"])),
            )
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
        let _ = self;
        crate::provider::openai_chat::render_fault(error, model)
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
