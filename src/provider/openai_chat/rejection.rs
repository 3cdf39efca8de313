//! OpenAI's own error bodies.

use serde::Serialize;

use crate::provider::{ErrorReply, Malformed, MalformedKind, Rejection};

#[derive(Serialize)]
pub(super) struct ErrorBody<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
pub(super) struct ErrorObject<'a> {
    message: String,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<String>,
    code: Option<&'a str>,
}

pub(super) const NOT_JSON: &str = "We could not parse the JSON body of your request. (HINT: This likely \
    means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
    but what was sent was not valid JSON. If you have trouble figuring out how to fix this, \
    please contact us through our help center at help.openai.com.)";

pub(super) const NO_API_KEY: &str = "You didn't provide an API key. You need to provide your API key in an \
    Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the \
    password field (with blank username) if you're accessing the API from your browser and are \
    prompted for a username. You can obtain an API key from \
    https://platform.openai.com/account/api-keys.";

/// OpenAI's error body for `rejection`, byte for byte where the real text is known (see the
/// module docs for which texts were captured).
#[must_use]
pub fn render_rejection(rejection: &Rejection) -> ErrorReply {
    let (status, message, param, code) = match rejection {
        Rejection::MissingResults { assistant, ids } => (
            400,
            format!(
                "An assistant message with 'tool_calls' must be followed by tool messages \
                 responding to each 'tool_call_id'. The following tool_call_ids did not have \
                 response messages: {}",
                ids.join(", ")
            ),
            Some(format!("messages.[{assistant}].role")),
            None,
        ),
        Rejection::OrphanResult { message, .. } => (
            400,
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding \
             message with 'tool_calls'."
                .to_owned(),
            Some(format!("messages.[{message}].role")),
            None,
        ),
        Rejection::UnknownResult { message, id, .. } => (
            400,
            format!(
                "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of \
                 previous message."
            ),
            Some(format!("messages.[{message}].tool_call_id")),
            None,
        ),
        Rejection::DuplicateResult {
            id,
            first_message,
            second_message,
            ..
        } => (
            400,
            format!(
                "Invalid parameter: Duplicate value for 'tool_call_id' of '{id}', in \
                 messages[{first_message}] and messages[{second_message}]."
            ),
            Some(format!("messages.[{second_message}].tool_call_id")),
            None,
        ),
        Rejection::Malformed(Malformed { path, problem }) => render_malformed(path, problem),
        Rejection::Harness { message } => (400, message.clone(), None, Some("tooltape")),
        Rejection::MissingReasoning {
            item, reasoning, ..
        } => (
            400,
            format!(
                "Item '{item}' of type 'function_call' was provided without its required \
                 'reasoning' item: '{reasoning}'."
            ),
            None,
            None,
        ),
        Rejection::ReasoningWithoutFollower { reasoning, .. } => (
            400,
            format!(
                "Item '{reasoning}' of type 'reasoning' was provided without its required \
                 following item."
            ),
            None,
            None,
        ),
        Rejection::UnknownContinuation { id } => (
            404,
            format!("tooltape: no recorded response `{id}` to continue"),
            None,
            Some("tooltape"),
        ),
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

pub(crate) fn render_malformed(
    path: &str,
    problem: &MalformedKind,
) -> (u16, String, Option<String>, Option<&'static str>) {
    let param = Some(path.to_owned());
    match problem {
        MalformedKind::NotJson { .. } => (400, NOT_JSON.to_owned(), None, None),
        MalformedKind::Missing if path == "model" => (
            400,
            "you must provide a model parameter".to_owned(),
            None,
            None,
        ),
        MalformedKind::Missing => (
            400,
            format!("Missing required parameter: '{path}'."),
            param,
            Some("missing_required_parameter"),
        ),
        MalformedKind::WrongType { expected, found } => (
            400,
            format!("Invalid type for '{path}': expected {expected}, but got {found} instead."),
            param,
            Some("invalid_type"),
        ),
        MalformedKind::TooLong { max, found } => (
            400,
            format!(
                "Invalid '{path}': string too long. Expected a string with maximum length \
                 {max}, but got a string with length {found} instead."
            ),
            param,
            Some("string_above_max_length"),
        ),
        MalformedKind::MissingHeader { header } if header == "authorization" => {
            (401, NO_API_KEY.to_owned(), None, None)
        }
        MalformedKind::MissingHeader { header } => (
            400,
            format!("Missing required header: '{header}'."),
            None,
            None,
        ),
        MalformedKind::Invalid { detail } => (
            400,
            format!("Invalid value for '{path}': {detail}"),
            param,
            None,
        ),
        MalformedKind::Empty { what } => {
            let (article, code) = if what == "array" {
                ("an", "empty_array")
            } else {
                ("a", "empty_string")
            };
            (
                400,
                format!(
                    "Invalid '{path}': empty {what}. Expected {article} {what} with minimum \
                     length 1, but got an empty {what} instead."
                ),
                param,
                Some(code),
            )
        }
        MalformedKind::DuplicateItem { id } => (
            400,
            format!(
                "Duplicate item found with id {id}. Remove duplicate items from your input and \
                 try again."
            ),
            param,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {

    use crate::provider::{MalformedKind, Rejection};

    use crate::provider::openai_chat::test_support::*;

    // -- rejections ---------------------------------------------------------------------------

    #[test]
    fn missing_results_body_lists_every_id() {
        assert_eq!(
            rejection_body(Rejection::MissingResults {
                assistant: 3,
                ids: vec!["call_W353ADYhbga77VOI65B7MIsL".to_owned(), "call_IFx8fBJ6Oiz1XKIztWbsf9QX".to_owned()].into(),
            }),
            (
                400,
                r#"{"error":{"message":"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_W353ADYhbga77VOI65B7MIsL, call_IFx8fBJ6Oiz1XKIztWbsf9QX","type":"invalid_request_error","param":"messages.[3].role","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn orphan_result_body_keeps_the_real_typo() {
        assert_eq!(
            rejection_body(Rejection::OrphanResult { message: 4, block: 0, id: "call_x".to_owned() }),
            (
                400,
                r#"{"error":{"message":"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.","type":"invalid_request_error","param":"messages.[4].role","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn unknown_result_body_names_the_id() {
        assert_eq!(
            rejection_body(Rejection::UnknownResult { message: 5, block: 0, id: "call_XXXXXXXXX".to_owned() }),
            (
                400,
                r#"{"error":{"message":"Invalid parameter: 'tool_call_id' of 'call_XXXXXXXXX' not found in 'tool_calls' of previous message.","type":"invalid_request_error","param":"messages.[5].tool_call_id","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn duplicate_result_body_uses_both_index_styles() {
        assert_eq!(
            rejection_body(Rejection::DuplicateResult {
                id: "call_gmd4tanjXcwOxfPawOnDmq6R".to_owned(),
                first_message: 7,
                second_message: 8,
                second_block: 0,
            }),
            (
                400,
                r#"{"error":{"message":"Invalid parameter: Duplicate value for 'tool_call_id' of 'call_gmd4tanjXcwOxfPawOnDmq6R', in messages[7] and messages[8].","type":"invalid_request_error","param":"messages.[8].tool_call_id","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn not_json_body_is_openais_hint() {
        assert_eq!(
            malformed("", MalformedKind::NotJson { detail: "EOF".to_owned() }),
            (
                400,
                r#"{"error":{"message":"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)","type":"invalid_request_error","param":null,"code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn missing_model_body_is_the_captured_text() {
        assert_eq!(
            malformed("model", MalformedKind::Missing),
            (
                400,
                r#"{"error":{"message":"you must provide a model parameter","type":"invalid_request_error","param":null,"code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn missing_parameter_body_names_the_path() {
        assert_eq!(
            malformed("messages[1].tool_call_id", MalformedKind::Missing),
            (
                400,
                r#"{"error":{"message":"Missing required parameter: 'messages[1].tool_call_id'.","type":"invalid_request_error","param":"messages[1].tool_call_id","code":"missing_required_parameter"}}"#.to_owned()
            )
        );
    }

    #[test]
    fn too_long_id_body_gives_limit_and_length() {
        assert_eq!(
            malformed("messages[2].tool_calls[0].id", MalformedKind::TooLong { max: 40, found: 41 }),
            (
                400,
                r#"{"error":{"message":"Invalid 'messages[2].tool_calls[0].id': string too long. Expected a string with maximum length 40, but got a string with length 41 instead.","type":"invalid_request_error","param":"messages[2].tool_calls[0].id","code":"string_above_max_length"}}"#.to_owned()
            )
        );
    }

    #[test]
    fn missing_authorization_is_a_401() {
        assert_eq!(
            malformed("", MalformedKind::MissingHeader { header: "authorization".to_owned() }),
            (
                401,
                r#"{"error":{"message":"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn harness_body_is_marked_with_the_tooltape_code() {
        assert_eq!(
            rejection_body(Rejection::Harness {
                message: "tooltape: the conversation left the cassette at message 3".to_owned()
            }),
            (
                400,
                r#"{"error":{"message":"tooltape: the conversation left the cassette at message 3","type":"invalid_request_error","param":null,"code":"tooltape"}}"#.to_owned()
            )
        );
    }
}
