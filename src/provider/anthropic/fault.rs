//! Anthropic's replies for API faults and the end of its streams.

use serde_json::{Value, json};

use super::wire::REQUEST_ID;
use crate::fault::FaultKind;
use crate::provider::sse::parse_frame;
use crate::provider::{
    ApiError, FaultReply, arguments_object, repeated_id, retry_after_headers, rewrite_calls,
};
use crate::transcript::ToolCall;

/// The API's reply for an API error; see the module docs for the evidence.
#[must_use]
pub fn render_fault(error: &ApiError) -> Option<FaultReply> {
    let (status, kind, message) = match error.kind {
        FaultKind::RateLimit => (
            429,
            "rate_limit_error",
            "This request would exceed your account's rate limit. Please try again later.",
        ),
        FaultKind::ServerError => (500, "api_error", "Internal server error"),
        FaultKind::Unavailable => (503, "api_error", "Internal server error"),
        FaultKind::Overloaded => (529, "overloaded_error", "Overloaded"),
        _ => return None,
    };
    let mut headers = vec![("request-id", REQUEST_ID.to_owned())];
    if error.kind == FaultKind::RateLimit {
        headers.extend([
            ("anthropic-ratelimit-requests-limit", "50".to_owned()),
            ("anthropic-ratelimit-requests-remaining", "0".to_owned()),
        ]);
    }
    headers.extend(retry_after_headers(error.retry_after_ms, true));
    let body = json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": REQUEST_ID,
    });
    Some(FaultReply {
        status,
        headers,
        body: body.to_string(),
    })
}

/// The frames from `message_delta` (the stop reason) to the end (`message_stop`).
#[must_use]
pub fn terminal_frames(frames: &[&str]) -> usize {
    frames
        .iter()
        .position(|f| {
            parse_frame(f).is_some_and(|e| {
                let kind = serde_json::from_str::<Value>(&e.data)
                    .ok()
                    .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
                    .or(e.event);
                matches!(kind.as_deref(), Some("message_delta" | "message_stop"))
            })
        })
        .map_or(0, |i| frames.len() - i)
}

/// The recorded message `body` with its `tool_use` blocks replaced by `calls` (a model fault):
/// `id`, `name` and `input` rewritten.
///
/// # Errors
/// A call's arguments are not a JSON object (`input` is one: the API never sends arguments
/// that do not parse), two calls share an id (the API makes every `toolu_` id unique and
/// refuses a history that repeats one), or the body is not a message with calls.
pub fn with_calls(body: &str, calls: &[ToolCall]) -> Result<String, String> {
    if let Some(id) = repeated_id(calls) {
        return Err(format!(
            "the Messages API makes every `tool_use` id unique and refuses a history that repeats one (`tool_use` ids must be unique), so no loop could go on after a turn that has `{id}` twice"
        ));
    }
    let mut value: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let Some(Value::Array(blocks)) = value.get_mut("content") else {
        return Err("the recorded response has no `content` to change".to_owned());
    };
    let is_call = |v: &Value| v.get("type").and_then(Value::as_str) == Some("tool_use");
    rewrite_calls(blocks, is_call, calls, |entry, call, _| {
        entry["input"] = arguments_object(call, "anthropic")?;
        entry["id"] = json!(call.id);
        entry["name"] = json!(call.name);
        Ok(())
    })?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overloaded_is_529_with_the_apis_body() {
        let reply = render_fault(&ApiError {
            kind: FaultKind::Overloaded,
            retry_after_ms: None,
        })
        .unwrap();
        assert_eq!(reply.status, 529);
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["error"]["type"], "overloaded_error");
        assert_eq!(body["error"]["message"], "Overloaded");
        assert!(!reply.headers.iter().any(|(h, _)| *h == "retry-after"));
    }

    #[test]
    fn a_rate_limit_carries_retry_after() {
        let reply = render_fault(&ApiError {
            kind: FaultKind::RateLimit,
            retry_after_ms: Some(1500),
        })
        .unwrap();
        assert_eq!(reply.status, 429);
        assert!(reply.headers.contains(&("retry-after", "2".into())));
        assert!(reply.headers.contains(&("retry-after-ms", "1500".into())));
        assert!(reply.body.contains("\"rate_limit_error\""));
    }

    #[test]
    fn the_end_of_a_stream_is_message_delta_and_message_stop() {
        let frames = [
            "event: message_start\ndata: {\"type\":\"message_start\"}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\"}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"       }\n\n",
        ];
        assert_eq!(terminal_frames(&frames), 2);
    }
}
