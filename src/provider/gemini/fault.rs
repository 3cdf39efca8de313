//! Gemini's replies for API faults. Its streams have no end event (the last chunk carries the
//! finish reason with the last parts), so `no-terminal-event` is not served.

use serde_json::json;

use crate::fault::FaultKind;
use crate::provider::{ApiError, FaultReply, seconds};

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
