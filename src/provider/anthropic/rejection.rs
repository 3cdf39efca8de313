//! Anthropic's own error bodies.

use serde_json::json;

use super::wire::*;
use crate::provider::{ErrorReply, Malformed, MalformedKind, Rejection};

/// The API's error body for a rejection; see the module docs for where each text comes from.
#[must_use]
pub fn render_rejection(rejection: &Rejection) -> ErrorReply {
    let (status, kind, message) = match rejection {
        Rejection::MissingResults { assistant, ids } => (
            400,
            "invalid_request_error",
            format!(
                "messages.{assistant}: `tool_use` ids were found without `tool_result` blocks \
                 immediately after: {}. Each `tool_use` block must have a corresponding \
                 `tool_result` block in the next message.",
                ids.join(", ")
            ),
        ),
        Rejection::UnknownResult { message, block, id }
        | Rejection::OrphanResult { message, block, id } => (
            400,
            "invalid_request_error",
            format!(
                "messages.{message}.content.{block}: unexpected `tool_use_id` found in \
                 `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding \
                 `tool_use` block in the previous message."
            ),
        ),
        Rejection::DuplicateResult {
            id,
            second_message,
            second_block,
            ..
        } => (
            400,
            "invalid_request_error",
            format!(
                "messages.{second_message}.content.{second_block}: each tool_use must have a \
                 single result. Found multiple `tool_result` blocks with id: {id}"
            ),
        ),
        Rejection::Malformed(malformed) => malformed_text(malformed),
        Rejection::Harness { message } => (400, "invalid_request_error", message.clone()),
        Rejection::MissingReasoning {
            message,
            block,
            reasoning,
            ..
        } => (
            400,
            "invalid_request_error",
            format!("messages.{message}.content.{block}: the block needs `{reasoning}` before it"),
        ),
        Rejection::ReasoningWithoutFollower {
            message,
            block,
            reasoning,
        } => (
            400,
            "invalid_request_error",
            format!(
                "messages.{message}.content.{block}: `{reasoning}` is sent without the block that followed it"
            ),
        ),
        Rejection::UnknownContinuation { id } => (
            404,
            "not_found_error",
            format!("thread.previous_message_id: no message thread continues from `{id}`"),
        ),
    };
    let body = json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": REQUEST_ID,
    });
    ErrorReply {
        status,
        body: body.to_string(),
    }
}

pub(super) fn malformed_text(malformed: &Malformed) -> (u16, &'static str, String) {
    let Malformed { path, problem } = malformed;
    let at = |text: String| {
        let path = dotted(path);
        if path.is_empty() {
            text
        } else {
            format!("{path}: {text}")
        }
    };
    let invalid = "invalid_request_error";
    match problem {
        MalformedKind::NotJson { .. } => (
            400,
            invalid,
            "There was an error parsing the body of your request. Check that it is valid JSON."
                .to_owned(),
        ),
        MalformedKind::Missing => (400, invalid, at("Field required".to_owned())),
        MalformedKind::WrongType { expected, .. } => {
            (400, invalid, at(format!("Input should be {expected}")))
        }
        MalformedKind::TooLong { max, .. } => (
            400,
            invalid,
            at(format!("String should have at most {max} characters")),
        ),
        MalformedKind::Invalid { detail } => (400, invalid, at(detail.clone())),
        MalformedKind::Empty { what } if what == "array" => (
            400,
            invalid,
            at("List should have at least 1 item after validation, not 0".to_owned()),
        ),
        MalformedKind::Empty { .. } => (
            400,
            invalid,
            at("String should have at least 1 character".to_owned()),
        ),
        MalformedKind::DuplicateItem { id } => (
            400,
            invalid,
            at(format!("the id `{id}` is used more than once")),
        ),
        MalformedKind::MissingHeader { header } if header == "x-api-key" => (
            401,
            "authentication_error",
            "x-api-key header is required".to_owned(),
        ),
        MalformedKind::MissingHeader { header } => {
            (400, invalid, format!("{header}: header is required"))
        }
    }
}

/// `messages[2].content[0].input` → `messages.2.content.0.input`, the API's path style.
pub(super) fn dotted(path: &str) -> String {
    let dotted = path.replace(']', "").replace('[', ".");
    dotted.strip_prefix('.').unwrap_or(&dotted).to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::provider::anthropic::*;

    use crate::provider::{Malformed, MalformedKind, Rejection};

    use super::*;
    use crate::provider::anthropic::test_support::*;

    // -- rejections ---------------------------------------------------------------------------

    #[test]
    fn missing_results_name_the_assistant_message_and_every_id() {
        let reply = render_rejection(&Rejection::MissingResults {
            assistant: 22,
            ids: vec![
                "toolu_01HqfLWiAKQLsniF2fBGF2KD".to_owned(),
                "toolu_01SJzDkeAZER935cpGFptTNk".to_owned(),
            ]
            .into(),
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.22: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01HqfLWiAKQLsniF2fBGF2KD, toolu_01SJzDkeAZER935cpGFptTNk. Each `tool_use` block must have a corresponding `tool_result` block in the next message."},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    #[test]
    fn an_unknown_result_names_its_block() {
        let reply = render_rejection(&Rejection::UnknownResult {
            message: 48,
            block: 1,
            id: "toolu_019ETtGZEhTBXgWPVsdVnXMh".to_owned(),
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.48.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_019ETtGZEhTBXgWPVsdVnXMh. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    #[test]
    fn a_duplicate_result_names_the_second_answer() {
        let reply = render_rejection(&Rejection::DuplicateResult {
            id: "toolu_01TPsHXcmpuz5cAY97fM5vXv".to_owned(),
            first_message: 148,
            second_message: 148,
            second_block: 1,
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.148.content.1: each tool_use must have a single result. Found multiple `tool_result` blocks with id: toolu_01TPsHXcmpuz5cAY97fM5vXv"},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    /// The second request of `anthropic-sdk-error-tool_result-without-tool_use.json` (recorded
    /// from the real API by anthropics/anthropic-sdk-python, MIT, "Copyright 2023 Anthropic,
    /// PBC."): a text prompt and a `tool_result` sent as two user messages. The API merged them
    /// and answered 400 with the message below (its `request_id` was `req_011CYHyk9NPsBYeGbC9LuDNK`).
    #[test]
    fn the_recorded_orphan_result_error_is_reproduced_through_merging() {
        let request = json!({"max_tokens": 1024, "messages": [
            {"role": "user", "content": "What's the weather in SF in Celsius?"},
            {"role": "user", "content": [{"tool_use_id": "toolu_01GHndag5wQmbzNihYmV2UBj",
                "content": "The weather in San Francisco, CA is currently sunny with a temperature of 20\u{b0}C.",
                "type": "tool_result"}]}],
            "model": "claude-haiku-4-5",
            "tools": [{"name": "get_weather", "description": "Lookup the weather for a given city in either celsius or fahrenheit",
                "input_schema": {"type": "object"}}]});
        let decoded = decode_request(&request).unwrap();
        let messages = &decoded.conversation.messages;
        assert_eq!(messages.len(), 1);
        let (block, result) = messages[0].tool_results().next().unwrap();
        let reply = render_rejection(&Rejection::OrphanResult {
            message: 0,
            block,
            id: result.call_id.clone(),
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            error_body(
                "messages.0.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01GHndag5wQmbzNihYmV2UBj. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
            )
        );
    }

    #[test]
    fn malformed_requests_are_reported_with_dotted_paths() {
        let cases = [
            (
                Malformed::new("max_tokens", MalformedKind::Missing),
                "max_tokens: Field required",
            ),
            (
                Malformed::wrong_type(
                    "messages[2].content[0].input",
                    "a valid dictionary",
                    &json!("{}"),
                ),
                "messages.2.content.0.input: Input should be a valid dictionary",
            ),
            (
                Malformed::new(
                    "messages[1].role",
                    MalformedKind::Invalid {
                        detail: "Input should be 'user' or 'assistant'".to_owned(),
                    },
                ),
                "messages.1.role: Input should be 'user' or 'assistant'",
            ),
            (
                Malformed::new(
                    "tools[0].name",
                    MalformedKind::TooLong {
                        max: 128,
                        found: 300,
                    },
                ),
                "tools.0.name: String should have at most 128 characters",
            ),
            (
                Malformed::new(
                    "",
                    MalformedKind::NotJson {
                        detail: "expected value at line 1 column 1".to_owned(),
                    },
                ),
                "There was an error parsing the body of your request. Check that it is valid JSON.",
            ),
            (
                Malformed::new(
                    "",
                    MalformedKind::MissingHeader {
                        header: "anthropic-version".to_owned(),
                    },
                ),
                "anthropic-version: header is required",
            ),
        ];
        for (malformed, message) in cases {
            let reply = render_rejection(&Rejection::Malformed(malformed));
            assert_eq!((reply.status, reply.body), (400, error_body(message)));
        }
    }

    #[test]
    fn a_missing_api_key_is_an_authentication_error() {
        let reply = render_rejection(&Rejection::Malformed(Malformed::new(
            "",
            MalformedKind::MissingHeader {
                header: "x-api-key".to_owned(),
            },
        )));
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"authentication_error","message":"x-api-key header is required"},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    #[test]
    fn a_harness_rejection_carries_its_message() {
        let message = "tooltape: the conversation left the cassette at message 3";
        let reply = render_rejection(&Rejection::Harness {
            message: message.to_owned(),
        });
        assert_eq!((reply.status, reply.body), (400, error_body(message)));
    }
}
