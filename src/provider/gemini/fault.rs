//! Gemini's replies for API faults. Its streams have no end event (the last chunk carries the
//! finish reason with the last parts), so `no-terminal-event` is not served.

use serde_json::{Value, json};

use crate::fault::FaultKind;
use crate::provider::{
    ApiError, FaultReply, arguments_object, repeated_id, rewrite_calls, seconds,
};
use crate::transcript::{ToolCall, is_positional_call_id};

/// The API's reply for an API error; see the module docs for the evidence.
#[must_use]
pub fn render_fault(error: &ApiError) -> Option<FaultReply> {
    let body = match error.kind {
        FaultKind::RateLimit => {
            let delay = seconds(error.retry_after_ms.unwrap_or(1000));
            json!({"error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}],
            }})
        }
        FaultKind::ServerError => json!({"error": {
            "code": 500,
            "message": "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            "status": "INTERNAL",
        }}),
        FaultKind::Unavailable => json!({"error": {
            "code": 503,
            "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE",
        }}),
        _ => return None,
    };
    let status = body["error"]["code"]
        .as_u64()
        .and_then(|c| u16::try_from(c).ok())?;
    Some(FaultReply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    })
}

/// The recorded `GenerateContentResponse` `body` with its `functionCall` parts replaced by
/// `calls` (a model fault): `name`, `args` and, where the call carries one, `id` rewritten;
/// an added part carries no `thoughtSignature` (the API signs the first call of a turn).
///
/// # Errors
/// A call's arguments are not a JSON object (`args` is one: the API never sends arguments
/// that do not parse), two calls share an id (calls are known by position; no capture shows
/// the API repeating an id), or the body is not a response with calls.
pub fn with_calls(body: &str, calls: &[ToolCall]) -> Result<String, String> {
    if let Some(id) = repeated_id(calls) {
        return Err(format!(
            "Gemini calls are known by their position (ids are optional, and no capture shows the API repeating one), so a turn with `{id}` twice cannot be written"
        ));
    }
    let mut value: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let Some(Value::Array(parts)) = value.pointer_mut("/candidates/0/content/parts") else {
        return Err("the recorded response has no `parts` to change".to_owned());
    };
    let is_call = |v: &Value| v.get("functionCall").is_some();
    rewrite_calls(parts, is_call, calls, |entry, call, added| {
        let args = arguments_object(call, "gemini")?;
        let part = entry.as_object_mut().ok_or("a part is not an object")?;
        if added {
            part.remove("thoughtSignature");
        }
        let Some(Value::Object(fc)) = part.get_mut("functionCall") else {
            return Err("a `functionCall` is not an object".to_owned());
        };
        fc.insert("name".into(), json!(call.name));
        fc.insert("args".into(), args);
        if is_positional_call_id(&call.id) {
            fc.remove("id");
        } else {
            fc.insert("id".into(), json!(call.id));
        }
        Ok(())
    })?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_rate_limit_says_when_to_retry_in_retry_info() {
        let reply = render_fault(&ApiError {
            kind: FaultKind::RateLimit,
            retry_after_ms: Some(200),
        })
        .unwrap();
        assert_eq!(reply.status, 429);
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(body["error"]["details"][0]["retryDelay"], "0.2s");
    }
}
