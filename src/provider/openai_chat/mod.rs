//! OpenAI Chat Completions (`POST /v1/chat/completions`): responses, streams, requests and
//! error bodies.
//!
//! - [`decode_response_json`] reads a `chat.completion` body, [`decode_response_sse`] accumulates
//!   `chat.completion.chunk` deltas the way a careful client must (keyed by `index`, id and name
//!   only in a call's first delta, a new id at a known index starting a new call).
//! - [`decode_request`] checks a request the way the API does before it looks at the
//!   conversation, and turns `messages` into a [`Conversation`], one message per wire message.
//! - [`encode_assistant`] and [`encode_results`] write the follow-up messages a correct loop
//!   sends; [`render_rejection`] writes OpenAI's own 400 (or 401) body.
//!
//! Responses are read with typed serde structs (unknown fields such as `refusal`,
//! `annotations`, `obfuscation`, `usage`, `logprobs` are ignored), with `serde_path_to_error`
//! naming the path of anything wrong. Requests are walked as [`Value`]s instead, because each
//! problem must come out as OpenAI's kind of error (missing, wrong type, too long) at OpenAI's
//! path, which serde's messages cannot give.
//!
//! # Error texts
//!
//! Every body is `{"error":{"message":…,"type":"invalid_request_error","param":…,"code":…}}`.
//! "Captured" texts were returned by api.openai.com and quoted in public issues (see
//! `reference/protocol-notes.md` §A5, §F1 and `reference/recordings/API_ERRORS.md`);
//! "best known" ones follow the API's pattern for the same family of errors but no capture of
//! that exact case was found.
//!
//! | Rejection | Text | `param` / `code` | Evidence |
//! |---|---|---|---|
//! | missing results | `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {ids}` | `messages.[i].role` / null | captured |
//! | orphan result | `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.` (sic) | `messages.[i].role` / null | captured |
//! | unknown result id | `Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of previous message.` | `messages.[i].tool_call_id` / null | text captured, `param` best known |
//! | duplicate result | `Invalid parameter: Duplicate value for 'tool_call_id' of '{id}', in messages[{a}] and messages[{b}].` | `messages.[b].tool_call_id` / null | captured |
//! | not JSON | `We could not parse the JSON body of your request. (HINT: …)` | null / null | best known |
//! | `model` missing | `you must provide a model parameter` | null / null | captured |
//! | `messages` empty | `Invalid value for 'messages': empty array. …` | `messages` / null | ours: the real reply is `Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.` with code `empty_array` (captured), which [`MalformedKind`] cannot express yet |
//! | other field missing | `Missing required parameter: '{path}'.` | path / `missing_required_parameter` | best known |
//! | wrong type | `Invalid type for '{path}': expected {expected}, but got {found} instead.` | path / `invalid_type` | captured for `function.arguments` |
//! | string too long | `Invalid '{path}': string too long. Expected a string with maximum length {max}, but got a string with length {found} instead.` | path / `string_above_max_length` | captured for tool call ids |
//! | invalid value | `Invalid value for '{path}': {detail}` | path / null | captured for `parallel_tool_calls` |
//! | no `Authorization` | `You didn't provide an API key. …` (HTTP 401) | null / null | best known |
//! | harness | the message as given | null / `tooltape` | ours |
//!
//! # Fault replies
//!
//! What a fault serves (shared with Responses, which has the same envelope, notes §A6):
//!
//! | fault | status | body, headers | evidence |
//! |---|---|---|---|
//! | `rate-limit` | 429 | `Rate limit reached for {model} in organization org-tooltape on tokens per min (TPM): Limit 30000, Used 18928, Requested 11159. Please try again in {wait}. Visit https://platform.openai.com/account/rate-limits to learn more.`, type `tokens`, code `rate_limit_exceeded` | observed form (notes §A6); the organisation and the wait are ours |
//! | `rate-limit` headers | | `x-ratelimit-{limit,remaining}-{requests,tokens}`, `x-ratelimit-reset-{requests,tokens}` (`120ms`, the wait) | names and value forms confirmed by a copy of the rate-limit guide (notes §A6); the values are ours |
//! | `retry-after`, `retry-after-ms` | | whole seconds rounded up; the exact wait in ms | the official Python client reads `retry-after-ms` first, then `retry-after` (notes §A6); whether the API sends `retry-after-ms` is not captured: best known |
//! | `server-error` | 500 | `The server had an error processing your request. Sorry about that! …`, type `server_error`, code null | observed (notes §A6) |
//! | `unavailable` | 503 | the 500's envelope and text | best known: no 503 capture in the notes |
//! | `overloaded` | | not served: OpenAI has no such status | |
//!
//! A stream's end, which `no-terminal-event` leaves out, is the first chunk with a
//! `finish_reason`, any usage chunk after it, and `data: [DONE]`.

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

pub use codec::OpenAiChat;
pub use encode::{encode_assistant, encode_results};
pub use fault::{render_fault, terminal_frames, with_calls};
pub(crate) use rejection::render_malformed;
pub use rejection::render_rejection;
pub use request::decode_request;
pub use response::decode_response_json;
pub use stream::decode_response_sse;
