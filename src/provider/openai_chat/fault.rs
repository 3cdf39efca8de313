//! OpenAI's replies for API faults, shared by Chat Completions and Responses (one error
//! envelope, protocol notes §A6), and the end of a Chat Completions stream.

use serde_json::{Value, json};

use crate::fault::FaultKind;
use crate::provider::sse::parse_frame;
use crate::provider::{ApiError, FaultReply, retry_after_headers, rewrite_calls, short_wait};
use crate::transcript::ToolCall;

/// OpenAI's reply for an API error; see the module docs of `openai_chat` for the evidence.
#[must_use]
pub fn render_fault(error: &ApiError, model: &str) -> Option<FaultReply> {
    let (status, message, kind, code) = match error.kind {
        FaultKind::RateLimit => (
            429,
            format!(
                "Rate limit reached for {model} in organization org-tooltape on tokens per min (TPM): Limit 30000, Used 18928, Requested 11159. Please try again in {}. Visit https://platform.openai.com/account/rate-limits to learn more.",
                short_wait(error.retry_after_ms.unwrap_or(1000))
            ),
            "tokens",
            Value::from("rate_limit_exceeded"),
        ),
        FaultKind::ServerError | FaultKind::Unavailable => (
            if error.kind == FaultKind::ServerError { 500 } else { 503 },
            "The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error. (Please include the request ID req_tooltape in your email.)".to_owned(),
            "server_error",
            Value::Null,
        ),
        _ => return None,
    };
    let mut headers = vec![("x-request-id", "req_tooltape".to_owned())];
    if error.kind == FaultKind::RateLimit {
        headers.extend([
            ("x-ratelimit-limit-requests", "500".to_owned()),
            ("x-ratelimit-limit-tokens", "30000".to_owned()),
            ("x-ratelimit-remaining-requests", "499".to_owned()),
            ("x-ratelimit-remaining-tokens", "0".to_owned()),
            ("x-ratelimit-reset-requests", "120ms".to_owned()),
            (
                "x-ratelimit-reset-tokens",
                short_wait(error.retry_after_ms.unwrap_or(1000)),
            ),
        ]);
    }
    headers.extend(retry_after_headers(error.retry_after_ms, true));
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    Some(FaultReply {
        status,
        headers,
        body: body.to_string(),
    })
}

/// The frames that end a Chat Completions stream: from the first chunk with a
/// `finish_reason` (then any usage chunk) to `data: [DONE]`.
#[must_use]
pub fn terminal_frames(frames: &[&str]) -> usize {
    let finish = frames.iter().position(|f| {
        parse_frame(f).is_some_and(|e| {
            serde_json::from_str::<Value>(&e.data).is_ok_and(|v| {
                v.get("choices")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.get("finish_reason").is_some_and(|r| !r.is_null()))
                    })
            })
        })
    });
    let done = frames
        .iter()
        .position(|f| parse_frame(f).is_some_and(|e| e.data.trim() == "[DONE]"));
    finish.or(done).map_or(0, |i| frames.len() - i)
}

/// The recorded `chat.completion` `body` with its calls replaced by `calls` (a model fault):
/// the message's `tool_calls` rewritten, arguments as the text they are.
///
/// # Errors
/// The body is not a completion with calls.
pub fn with_calls(body: &str, calls: &[ToolCall]) -> Result<String, String> {
    let mut value: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let Some(Value::Array(items)) = value.pointer_mut("/choices/0/message/tool_calls") else {
        return Err("the recorded response has no `tool_calls` to change".to_owned());
    };
    rewrite_calls(
        items,
        |_| true,
        calls,
        |entry, call, _| {
            entry["id"] = json!(call.id);
            entry["function"]["name"] = json!(call.name);
            entry["function"]["arguments"] = json!(call.arguments);
            Ok(())
        },
    )?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_says_when_to_come_back_in_the_body_and_the_headers() {
        let reply = render_fault(
            &ApiError {
                kind: FaultKind::RateLimit,
                retry_after_ms: Some(200),
            },
            "gpt-4o",
        )
        .unwrap();
        assert_eq!(reply.status, 429);
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("for gpt-4o in organization")
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Please try again in 200ms.")
        );
        assert!(reply.headers.contains(&("retry-after-ms", "200".into())));
        assert!(reply.headers.contains(&("retry-after", "1".into())));
        assert!(
            reply
                .headers
                .iter()
                .any(|(h, _)| *h == "x-ratelimit-remaining-tokens")
        );
    }

    #[test]
    fn openai_has_no_overloaded_status() {
        let error = ApiError {
            kind: FaultKind::Overloaded,
            retry_after_ms: None,
        };
        assert!(render_fault(&error, "m").is_none());
    }

    #[test]
    fn the_end_of_a_stream_is_its_finish_chunk_and_done() {
        let frames = [
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n\n",
            "data: [DONE]\n\n",
        ];
        assert_eq!(terminal_frames(&frames), 3);
        assert_eq!(terminal_frames(&[frames[0], frames[3]]), 1);
        assert_eq!(terminal_frames(&[frames[0]]), 0);
    }
}
