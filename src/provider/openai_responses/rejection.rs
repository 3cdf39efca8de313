//! OpenAI's error bodies for the Responses API.

use serde::Serialize;

use crate::provider::openai_chat::render_malformed;
use crate::provider::{ErrorReply, Malformed, Rejection};

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    message: String,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<String>,
    code: Option<&'a str>,
}

/// OpenAI's error body for `rejection` on `POST /v1/responses`; see the module docs for which
/// texts were captured.
#[must_use]
pub fn render_rejection(rejection: &Rejection) -> ErrorReply {
    let input = || Some("input".to_owned());
    let (status, message, param, code) = match rejection {
        Rejection::MissingResults { ids, .. } => (
            400,
            format!(
                "No tool output found for function call {}.",
                ids.first().map_or("", String::as_str)
            ),
            input(),
            None,
        ),
        Rejection::OrphanResult { id, .. } | Rejection::UnknownResult { id, .. } => (
            400,
            format!("No tool call found for function call output with call_id {id}."),
            input(),
            None,
        ),
        Rejection::DuplicateResult { id, .. } => (
            400,
            format!(
                "Duplicate item found with id {id}. Remove duplicate items from your input and \
                 try again."
            ),
            input(),
            None,
        ),
        Rejection::MissingReasoning {
            item, reasoning, ..
        } => (
            400,
            format!(
                "Item '{item}' of type 'function_call' was provided without its required \
                 'reasoning' item: '{reasoning}'."
            ),
            input(),
            None,
        ),
        Rejection::ReasoningWithoutFollower { reasoning, .. } => (
            400,
            format!(
                "Item '{reasoning}' of type 'reasoning' was provided without its required \
                 following item."
            ),
            input(),
            None,
        ),
        Rejection::UnknownContinuation { id } => (
            400,
            format!("Previous response with id '{id}' not found."),
            Some("previous_response_id".to_owned()),
            Some("previous_response_not_found"),
        ),
        Rejection::Malformed(Malformed { path, problem }) => render_malformed(path, problem),
        Rejection::Harness { message } => (400, message.clone(), None, Some("tooltape")),
    };
    let body = ErrorBody {
        error: ErrorObject {
            message,
            kind: "invalid_request_error",
            param,
            code,
        },
    };
    ErrorReply {
        status,
        body: serde_json::to_string(&body).expect("an error body always serialises"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_output_names_the_first_unanswered_call() {
        let reply = render_rejection(&Rejection::MissingResults {
            assistant: 2,
            ids: vec!["call_a".to_owned(), "call_b".to_owned()].into(),
        });
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (
                400,
                r#"{"error":{"message":"No tool output found for function call call_a.","type":"invalid_request_error","param":"input","code":null}}"#
            )
        );
    }

    #[test]
    fn an_unknown_output_and_an_unknown_previous_response_get_the_api_texts() {
        let reply = render_rejection(&Rejection::UnknownResult {
            message: 3,
            block: 0,
            id: "fc_1".to_owned(),
        });
        assert_eq!(
            reply.body,
            r#"{"error":{"message":"No tool call found for function call output with call_id fc_1.","type":"invalid_request_error","param":"input","code":null}}"#
        );
        let reply = render_rejection(&Rejection::UnknownContinuation {
            id: "resp_x".to_owned(),
        });
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (
                400,
                r#"{"error":{"message":"Previous response with id 'resp_x' not found.","type":"invalid_request_error","param":"previous_response_id","code":"previous_response_not_found"}}"#
            )
        );
    }

    #[test]
    fn reasoning_rejections_name_both_items() {
        let reply = render_rejection(&Rejection::MissingReasoning {
            message: 1,
            block: 0,
            item: "fc_1".to_owned(),
            reasoning: "rs_1".to_owned(),
        });
        assert_eq!(
            reply.body,
            r#"{"error":{"message":"Item 'fc_1' of type 'function_call' was provided without its required 'reasoning' item: 'rs_1'.","type":"invalid_request_error","param":"input","code":null}}"#
        );
        let reply = render_rejection(&Rejection::ReasoningWithoutFollower {
            message: 1,
            block: 0,
            reasoning: "rs_1".to_owned(),
        });
        assert_eq!(
            reply.body,
            r#"{"error":{"message":"Item 'rs_1' of type 'reasoning' was provided without its required following item.","type":"invalid_request_error","param":"input","code":null}}"#
        );
    }
}
