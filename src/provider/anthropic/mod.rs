//! The Anthropic Messages codec (`POST /v1/messages`).
//!
//! Responses are read as typed structs. A content block (or stream event) is read in two steps:
//! its `type` tag first, then the struct for that tag. An internally tagged enum
//! (`#[serde(tag = "type")]`) would be the obvious shape, but serde buffers the block before it
//! picks the variant, and `serde_path_to_error` cannot see inside the buffer: a bad `input` would
//! be reported at `content[2]` instead of `content[2].input`. Unknown tags become
//! [`Block::Other`] (responses) or are skipped (stream events).
//!
//! Requests are walked as [`Value`]s rather than deserialised, because a rejection needs the kind
//! of problem (`Field required`, `Input should be a valid dictionary`) and not serde's prose.
//! Consecutive messages of the same role are merged, as the API does before it judges tool use,
//! so the rules see the indices the API reports (`messages.0.content.1` for a text prompt
//! followed by a separate `tool_result` message). Malformed-request paths keep the wire indices:
//! the shape check runs on the body as sent, before any merging (an inference; no capture shows
//! a shape error after a merge).
//!
//! # Error texts
//!
//! Every body is `{"type":"error","error":{"type":…,"message":…},"request_id":…}`. Where the texts
//! come from (see `reference/protocol-notes.md` §C and `reference/recordings/API_ERRORS.md`):
//!
//! | rejection | status, error type | message | evidence |
//! |---|---|---|---|
//! | `MissingResults` | 400 `invalid_request_error` | ``messages.N: `tool_use` ids were found without `tool_result` blocks immediately after: ID, ID. Each `tool_use` block must have a corresponding `tool_result` block in the next message.`` | captured (many issue reports) |
//! | `UnknownResult`, `OrphanResult` | 400 `invalid_request_error` | ``messages.N.content.M: unexpected `tool_use_id` found in `tool_result` blocks: ID. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.`` | captured, and recorded in `anthropic-sdk-error-tool_result-without-tool_use.json` |
//! | `DuplicateResult` | 400 `invalid_request_error` | ``messages.N.content.M: each tool_use must have a single result. Found multiple `tool_result` blocks with id: ID`` | captured (a test fixture quoting a real error) |
//! | `Malformed`, missing field | 400 `invalid_request_error` | `PATH: Field required` | best-known form (the API's validator wording) |
//! | `Malformed`, wrong type | 400 `invalid_request_error` | `PATH: Input should be a valid dictionary` (`list`, `string`, `integer`, `boolean`) | best-known form |
//! | `Malformed`, invalid value | 400 `invalid_request_error` | `PATH: DETAIL` | best-known form |
//! | `Malformed`, too long | 400 `invalid_request_error` | `PATH: String should have at most MAX characters` | best-known form |
//! | `Malformed`, not JSON | 400 `invalid_request_error` | `There was an error parsing the body of your request. Check that it is valid JSON.` | best-known form, not captured |
//! | `UnknownContinuation` (a `thread` continuing from a message id the cassette never served) | 404 `not_found_error` | ``thread.previous_message_id: no message thread continues from `ID` `` | best-known form: the message-threads docs say only that a continuation the API cannot serve gets a 404 |
//! | `Malformed`, tool blocks without `tools` | 400 `invalid_request_error` | ``Requests which include `tool_use` or `tool_result` blocks must define tools.`` | quoted verbatim from the API in several public codebases that work around it (code comments and test doubles), not in a capture of ours |
//! | `Malformed`, no `x-api-key` | 401 `authentication_error` | `x-api-key header is required` | captured |
//! | `Malformed`, no `anthropic-version` | 400 `invalid_request_error` | `anthropic-version: header is required` | captured |
//! | `Harness` | 400 `invalid_request_error` | the harness's own message, starting `tooltape:` | ours |
//!
//! # Fault replies
//!
//! | fault | status, error type | message, headers | evidence |
//! |---|---|---|---|
//! | `rate-limit` | 429 `rate_limit_error` | `This request would exceed your account's rate limit. Please try again later.`; `retry-after`, `anthropic-ratelimit-requests-{limit,remaining}` | observed (notes §C6: the short 2026 form, the header names) |
//! | `retry-after-ms` | | the exact wait in ms, beside `retry-after` in whole seconds rounded up | best known: the official Python client reads it first; no capture shows the API sending it |
//! | `server-error` | 500 `api_error` | `Internal server error` | observed (notes §C6) |
//! | `unavailable` | 503 `api_error` | `Internal server error` | best known: the notes map no type to 503 |
//! | `overloaded` | 529 `overloaded_error` | `Overloaded` | observed (notes §C6) |
//!
//! A stream's end, which `no-terminal-event` leaves out, is `message_delta` (the stop reason)
//! and `message_stop`.
//!
//! The real API writes a validator path with the block's type in it
//! (`messages.3.content.0.tool_use.id`); our malformed paths are plain JSON paths
//! (`messages.3.content.0.id`), so those texts may differ from the real ones in that segment.

mod codec;
mod encode;
mod fault;
mod reencode;
mod rejection;
mod request;
mod response;
mod stream;
mod synthesis;
#[cfg(test)]
mod test_support;
mod typed;
mod wire;

pub use codec::Anthropic;
pub use encode::{encode_assistant, encode_results};
pub use fault::{render_fault, terminal_frames, with_calls};
pub use rejection::render_rejection;
pub use request::decode_request;
pub use response::decode_response_json;
pub use stream::decode_response_sse;
