//! Gemini's own error bodies.

use serde_json::json;

use crate::provider::{ErrorReply, Malformed, MalformedKind, Rejection};

/// F4.1: the API's answer when the function response parts do not match the call parts.
pub(super) const COUNT_MISMATCH: &str = "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.";

/// F4.3: the API's answer to a function response turn that follows no function call turn.
pub(super) const RESPONSE_TURN_ORDER: &str =
    "Please ensure that function response turn comes immediately after a function call turn.";

/// F4.4: the API's answer to a replayed call that lost its `thoughtSignature`; `name` is the
/// tool, `message` the 0-based index of its `model` content (the API counts from 1).
#[must_use]
pub fn missing_signature(name: &str, message: usize) -> String {
    format!(
        "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{name}` , position {}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
        message + 1
    )
}

/// The API's error body for a rejection; see the module docs for where each text comes from.
#[must_use]
pub fn render_rejection(rejection: &Rejection) -> ErrorReply {
    let (code, status, message) = match rejection {
        Rejection::MissingResults { .. }
        | Rejection::UnknownResult { .. }
        | Rejection::DuplicateResult { .. } => (400, "INVALID_ARGUMENT", COUNT_MISMATCH.to_owned()),
        Rejection::OrphanResult { .. } => (400, "INVALID_ARGUMENT", RESPONSE_TURN_ORDER.to_owned()),
        Rejection::Malformed(malformed) => malformed_text(malformed),
        Rejection::Harness { message } => (400, "INVALID_ARGUMENT", message.clone()),
        // Gemini has no reasoning items (its signatures ride on the parts): never produced here,
        // rendered in Gemini's shape all the same.
        Rejection::MissingReasoning {
            item, reasoning, ..
        } => (
            400,
            "INVALID_ARGUMENT",
            format!("tooltape: `{item}` is sent without `{reasoning}` before it"),
        ),
        Rejection::ReasoningWithoutFollower { reasoning, .. } => (
            400,
            "INVALID_ARGUMENT",
            format!("tooltape: `{reasoning}` is sent without the part that followed it"),
        ),
        Rejection::UnknownContinuation { id } => (
            404,
            "NOT_FOUND",
            format!("tooltape: the Gemini API keeps no conversation to continue from `{id}`"),
        ),
    };
    let body = json!({"error": {"code": code, "message": message, "status": status}});
    ErrorReply {
        status: code,
        body: body.to_string(),
    }
}

fn malformed_text(malformed: &Malformed) -> (u16, &'static str, String) {
    let Malformed { path, problem } = malformed;
    let invalid = "INVALID_ARGUMENT";
    match problem {
        MalformedKind::NotJson { .. } => (
            400,
            invalid,
            "Invalid JSON payload received. Unexpected token.".to_owned(),
        ),
        MalformedKind::Missing => {
            let field = path.rsplit('.').next().unwrap_or(path);
            let field = field.split('[').next().unwrap_or(field);
            (
                400,
                invalid,
                format!("* GenerateContentRequest.{}: {field} is not specified\n", path),
            )
        }
        MalformedKind::WrongType { found, .. } => (
            400,
            invalid,
            format!(
                "Invalid JSON payload received. Invalid value at '{}': {found}",
                path
            ),
        ),
        MalformedKind::TooLong { max, .. } => (
            400,
            invalid,
            format!("* GenerateContentRequest.{}: at most {max} characters\n", path),
        ),
        MalformedKind::Invalid { detail } => (400, invalid, detail.clone()),
        // Best known: the field-violation form the API uses for other invalid fields.
        MalformedKind::Empty { .. } => (
            400,
            invalid,
            format!("* GenerateContentRequest.{path}: must not be empty\n"),
        ),
        MalformedKind::DuplicateItem { id } => (
            400,
            invalid,
            format!("* GenerateContentRequest.{path}: `{id}` is sent more than once\n"),
        ),
        MalformedKind::MissingHeader { .. } => (
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn body(message: &str) -> String {
        format!(
            r#"{{"error":{{"code":400,"message":{},"status":"INVALID_ARGUMENT"}}}}"#,
            json!(message)
        )
    }

    #[test]
    fn pairing_rejections_are_the_apis_texts_in_its_shape() {
        let missing = render_rejection(&Rejection::MissingResults {
            assistant: 1,
            ids: Arc::from(vec!["turn1-call2".to_owned()]),
        });
        assert_eq!(missing.status, 400);
        assert_eq!(
            missing.body,
            r#"{"error":{"code":400,"message":"Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.","status":"INVALID_ARGUMENT"}}"#
        );
        let orphan = render_rejection(&Rejection::OrphanResult {
            message: 1,
            block: 0,
            id: "add".into(),
        });
        assert_eq!(orphan.body, body(RESPONSE_TURN_ORDER));
    }

    #[test]
    fn the_lost_signature_text_names_the_tool_and_the_position_from_one() {
        let text = missing_signature("get_current_time", 1);
        assert!(text.contains("function call `default_api:get_current_time` , position 2."));
        assert!(
            text.starts_with("Function call is missing a thought_signature in functionCall parts.")
        );
        let reply = render_rejection(&Rejection::Malformed(Malformed::new(
            "",
            MalformedKind::Invalid {
                detail: text.clone(),
            },
        )));
        assert_eq!((reply.status, reply.body), (400, body(&text)));
    }

    #[test]
    fn malformed_requests_and_a_missing_key() {
        let missing = render_rejection(&Rejection::Malformed(Malformed::new(
            "contents",
            MalformedKind::Missing,
        )));
        assert_eq!(
            missing.body,
            body("* GenerateContentRequest.contents: contents is not specified\n")
        );
        let key = render_rejection(&Rejection::Malformed(Malformed::new(
            "",
            MalformedKind::MissingHeader {
                header: "x-goog-api-key".into(),
            },
        )));
        assert_eq!(key.status, 403);
        assert!(key.body.contains("\"status\":\"PERMISSION_DENIED\""));
    }
}
