//! The Gemini codec, its routes and its facts.

use serde_json::Value;

use crate::provider::codec::{
    Codec, DecodedRequest, Env, Facts, Pairing, RequestMeta, ResultPlacement, Route, Texts,
};
use crate::provider::rejection::{ErrorReply, Rejection};
use crate::provider::sse::Event;
use crate::provider::{ApiError, FaultReply, Malformed, Provider, ResponseError};
use crate::transcript::{AssistantTurn, ToolCall, ToolDefinition, ToolResult};

/// Google Gemini `generateContent` / `streamGenerateContent?alt=sse`.
#[derive(Debug, Clone, Copy)]
pub struct Gemini;

const ENDPOINT: &str = "/v1beta/models/{model}:generateContent";

/// The API versions served: the Gemini API's `v1beta` (google-genai's default) and `v1`,
/// Vertex AI's `v1beta1` (google-genai's default there) and `v1`, and `v1alpha`.
const VERSIONS: [&str; 4] = ["v1", "v1beta", "v1beta1", "v1alpha"];

static FACTS: Facts = Facts {
    name: "gemini",
    endpoint: ENDPOINT,
    placement: ResultPlacement::AnywhereInNextUserMessage,
    pairing: Pairing::ByOrderAndName,
    error_flag: false,
    client_retries: false,
    env: Env {
        base_url_var: "GOOGLE_GEMINI_BASE_URL",
        base_url_suffix: "",
        keys: &[
            ("GEMINI_API_KEY", "tooltape-placeholder-gemini-key"),
            ("GOOGLE_API_KEY", "tooltape-placeholder-gemini-key"),
        ],
    },
    texts: Texts {
        answer_every_call: "answer every call: one `functionResponse` part per `functionCall` part, with the call's name, all in the one user content right after the model content; a failing tool still needs a response (e.g. `{\"error\": …}`)",
        misplaced_at,
        parallel_off: "no switch (Gemini has none)",
        place_results: "put every `functionResponse` part in the one user content that comes right after the model content with the calls",
        missing_signature: Some(super::rejection::missing_signature),
    },
    history_field: "contents",
    minimal_request: r#"{"contents": []}"#,
    reasoning_travels_with_calls: false,
};

fn misplaced_at(message: usize, block: usize) -> String {
    format!(
        "part {block} of content {message} is not in the user content right after the model content with the calls"
    )
}

/// `(model, stream)` of a model path below the server root, whatever API version and
/// whether the Gemini API's shape or Vertex AI's.
fn model_route(path: &str) -> Option<(&str, bool)> {
    let rest = path.strip_prefix('/')?;
    let (version, rest) = rest.split_once('/')?;
    if !VERSIONS.contains(&version) {
        return None;
    }
    let rest = match rest.strip_prefix("projects/") {
        Some(vertex) => {
            let segments: Vec<&str> = vertex.splitn(7, '/').collect();
            match segments.as_slice() {
                [_, "locations", _, "publishers", "google", "models", tail] => *tail,
                _ => return None,
            }
        }
        None => rest.strip_prefix("models/")?,
    };
    let (model, method) = rest.rsplit_once(':')?;
    if model.is_empty() || model.contains('/') {
        return None;
    }
    match method {
        "generateContent" => Some((model, false)),
        "streamGenerateContent" => Some((model, true)),
        _ => None,
    }
}

impl Codec for Gemini {
    fn provider(&self) -> Provider {
        Provider::Gemini
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    /// A stream is served as SSE only: without `?alt=sse` the API streams a JSON array, which
    /// tooltape does not write, so such a path is not served (`advise` says what to add).
    fn route(&self, method: &str, path: &str, query: Option<&str>) -> Option<Route> {
        if method != "POST" {
            return None;
        }
        let (model, stream) = model_route(path)?;
        let sse = query.is_some_and(|q| q.split('&').any(|kv| kv == "alt=sse"));
        (!stream || sse).then(|| Route {
            model: Some(model.to_owned()),
            stream: Some(stream),
        })
    }

    fn advise(&self, path: &str, root: &str) -> Option<String> {
        if let Some((_, true)) = model_route(path) {
            return Some(format!(
                "`{path}` streams a JSON array without `?alt=sse`; tooltape serves streams as server-sent events: add `?alt=sse` (the google-genai SDKs do)"
            ));
        }
        (path.contains(":generateContent") || path.contains(":streamGenerateContent")).then(|| {
            format!(
                "`{path}` is not where the Gemini API is served (POST /v1beta/models/MODEL:generateContent, or :streamGenerateContent?alt=sse; /v1/… and Vertex AI's /v1/projects/P/locations/L/publishers/google/models/MODEL:… too): set GOOGLE_GEMINI_BASE_URL (or http_options base_url) to `{root}`, without a version: the SDK appends /v1beta/models/…"
            )
        })
    }

    /// The key travels in `x-goog-api-key` or `?key=`; Vertex AI takes a bearer token.
    fn missing_header(&self, meta: &RequestMeta) -> Option<&'static str> {
        (!meta.has("x-goog-api-key") && !meta.has("?key") && !meta.has("authorization"))
            .then_some("x-goog-api-key")
    }

    fn client_headers(&self) -> Vec<(&'static str, &'static str)> {
        vec![("x-goog-api-key", "tooltape-placeholder-gemini-key")]
    }

    fn decode_request(&self, route: &Route, body: &Value) -> Result<DecodedRequest, Malformed> {
        super::decode_request(route, body)
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

    fn restream<'v>(
        &self,
        frames: &[String],
        request: &dyn Fn() -> &'v Value,
    ) -> Option<Result<Vec<String>, ResponseError>> {
        super::reencode::restream(frames, request)
    }

    fn system_prompt(&self, request: &Value) -> String {
        request
            .get("systemInstruction")
            .and_then(|s| s.get("parts"))
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn declared_tools(&self, request: &Value) -> Vec<ToolDefinition> {
        super::request::declared_tools(request)
    }

    fn encode_assistant(&self, turn: &AssistantTurn) -> Value {
        super::encode_assistant(turn)
    }

    fn request_path(&self, model: &str, stream: bool) -> String {
        let model = if model.is_empty() { "gemini" } else { model };
        if stream {
            format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("/v1beta/models/{model}:generateContent")
        }
    }

    fn encode_answers(&self, calls: &[ToolCall], results: &[ToolResult]) -> Vec<Value> {
        super::encode_answers(calls, results)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_api_versions_and_the_vertex_shape_are_served() {
        let codec = Gemini;
        for (path, query, model, stream) in [
            (
                "/v1beta/models/gemini-2.5-flash:generateContent",
                None,
                "gemini-2.5-flash",
                false,
            ),
            (
                "/v1/models/gemini-2.5-flash:generateContent",
                None,
                "gemini-2.5-flash",
                false,
            ),
            (
                "/v1beta/models/gemini-3-flash-preview:streamGenerateContent",
                Some("alt=sse"),
                "gemini-3-flash-preview",
                true,
            ),
            (
                "/v1/models/m:streamGenerateContent",
                Some("key=k&alt=sse"),
                "m",
                true,
            ),
            (
                "/v1beta1/projects/p/locations/us-central1/publishers/google/models/gemini-3-pro:generateContent",
                None,
                "gemini-3-pro",
                false,
            ),
            (
                "/v1/projects/p/locations/global/publishers/google/models/m:streamGenerateContent",
                Some("alt=sse"),
                "m",
                true,
            ),
        ] {
            assert_eq!(
                codec.route("POST", path, query),
                Some(Route {
                    model: Some(model.into()),
                    stream: Some(stream)
                }),
                "{path}"
            );
        }
        for (path, query) in [
            ("/v1beta/models/m:streamGenerateContent", None),
            ("/v2/models/m:generateContent", None),
            ("/v1beta/models/m:countTokens", None),
            (
                "/v1/projects/p/locations/l/publishers/anthropic/models/m:generateContent",
                None,
            ),
            ("/v1/chat/completions", None),
            ("/v1beta/models/:generateContent", None),
        ] {
            assert_eq!(codec.route("POST", path, query), None, "{path}");
        }
        assert_eq!(
            codec.route("GET", "/v1/models/m:generateContent", None),
            None
        );
    }

    #[test]
    fn a_stream_without_alt_sse_is_advised_to_add_it() {
        let advice = Gemini
            .advise("/v1beta/models/m:streamGenerateContent", "http://h")
            .unwrap();
        assert!(advice.contains("?alt=sse"), "{advice}");
        let advice = Gemini
            .advise("/v1beta/v1beta/models/m:generateContent", "http://h/s/x")
            .unwrap();
        assert!(advice.contains("`http://h/s/x`"), "{advice}");
        assert_eq!(Gemini.advise("/v1/messages", "http://h"), None);
    }

    #[test]
    fn the_key_may_be_a_header_or_in_the_query() {
        let codec = Gemini;
        let none = RequestMeta::default();
        assert_eq!(codec.missing_header(&none), Some("x-goog-api-key"));
        assert_eq!(
            codec.missing_header(&none.clone().with_query(Some("alt=sse&key=k"))),
            None
        );
        assert_eq!(
            codec.missing_header(&none.with_query(Some("key="))),
            Some("x-goog-api-key")
        );
        assert_eq!(codec.missing_header(&RequestMeta::all()), None);
    }

    #[test]
    fn the_request_path_names_the_model_and_the_mode() {
        assert_eq!(
            Gemini.request_path("m", false),
            "/v1beta/models/m:generateContent"
        );
        assert_eq!(
            Gemini.request_path("m", true),
            "/v1beta/models/m:streamGenerateContent?alt=sse"
        );
        let stream = Gemini.request_path("m", true);
        let (path, query) = stream.split_once('?').unwrap();
        assert!(Gemini.route("POST", path, Some(query)).is_some());
    }
}
