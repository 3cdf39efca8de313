//! Google Gemini `generateContent` (`POST /v1beta/models/{model}:generateContent`, and
//! `:streamGenerateContent?alt=sse`; `/v1/…` and Vertex AI's
//! `/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:…` too).
//!
//! - The path names the model and the mode ([`crate::provider::Route`]); the key travels in
//!   `x-goog-api-key` or `?key=` (Vertex AI: a bearer token).
//! - A conversation is `contents[]`: `user` contents (text, `functionResponse` parts) and
//!   `model` contents (text, `functionCall` parts), each part optionally with a
//!   `thoughtSignature`. The API gives calls no ids and pairs responses by order and name, so
//!   calls are known by their position ([`crate::transcript::positional_call_id`]) and each
//!   `functionResponse` is paired with a call of the `model` content before it by the ids
//!   both carry, else by name in call order ([`decode_request`]); loops that invent ids when
//!   they echo (the go SDK, pydantic-ai) pair by them. An id the model does give is served
//!   verbatim but not kept in the transcript: the reference loop echoes calls without it.
//! - A `thoughtSignature` becomes a thinking block right before the part it came on, its
//!   bytes kept in canonical base64 ([`signature`]): the google-genai Python SDK echoes it in
//!   the URL-safe alphabet, so a string comparison would fail a correct loop. Thought parts
//!   (`thought: true`) are kept by kind only: the API does not need their text back.
//! - [`decode_response_sse`] accumulates `data:` chunks, each a whole response: text joined,
//!   whole calls as they come, and Gemini 3's `partialArgs` fragments put back together.
//!
//! Responses are read with typed serde structs and `serde_path_to_error`; requests are walked
//! as [`serde_json::Value`]s to name each problem's path.
//!
//! # Error texts
//!
//! Every body is `{"error":{"code":…,"message":…,"status":…}}` (the `errors[]` list some
//! reports show is left out: not every client sees it). Where the texts come from (see
//! `reference/protocol-notes.md` §D, §F4 and `reference/recordings/API_ERRORS.md` #12–#14):
//!
//! | rejection | status | message | evidence |
//! |---|---|---|---|
//! | `MissingResults` (fewer responses than calls, TT001, TT004, TT010) | 400 `INVALID_ARGUMENT` | `Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.` | captured (gemini-cli issues; recorded inside a Vercel gateway's routing metadata) |
//! | `DuplicateResult`, `UnknownResult` (a response part too many, or naming no call, TT002, TT003) | 400 `INVALID_ARGUMENT` | the same text | best known: the API compares counts; no capture of a renamed response |
//! | `OrphanResult` (responses with no function call turn right before them, TT002) | 400 `INVALID_ARGUMENT` | `Please ensure that function response turn comes immediately after a function call turn.` | captured (GoogleCloudPlatform/generative-ai#368 and others) |
//! | `Malformed`, a call turn after neither a user nor a response turn (TT011) | 400 `INVALID_ARGUMENT` | `Please ensure that function call turn comes immediately after a user turn or after a function response turn.` | captured (gemini-cli#11814; some clients prefix `Bad request: `, which is theirs) |
//! | lost `thoughtSignature` on a replayed call (TT006) | 400 `INVALID_ARGUMENT` | `Function call is missing a thought_signature in functionCall parts. … function call `default_api:NAME` , position N. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.` | captured (many reports); `position` as the 1-based index of the `model` content is inferred (reports show 2 for the first model turn). The API enforces it for Gemini 3 models; for others (2.5, and models the notes do not cover), and for a request that sends the documented bypass value `skip_thought_signature_validator` as a signature, the history is served and the finding is a warning (`DecodedRequest::thinking_required`) |
//! | `Malformed`, bad role | 400 `INVALID_ARGUMENT` | `Please use a valid role: user, model.` | best known |
//! | `Malformed`, missing field | 400 `INVALID_ARGUMENT` | `* GenerateContentRequest.PATH: FIELD is not specified` | best known (the API's validator pattern) |
//! | `Malformed`, wrong type | 400 `INVALID_ARGUMENT` | `Invalid JSON payload received. Invalid value at 'PATH': FOUND` | best known |
//! | `Malformed`, not JSON | 400 `INVALID_ARGUMENT` | `Invalid JSON payload received. Unexpected token.` | best known |
//! | `Malformed`, no key | 403 `PERMISSION_DENIED` | `Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.` | best known |
//! | `Harness` | 400 `INVALID_ARGUMENT` | the harness's own message, starting `tooltape:` | ours |
//!
//! # Fault replies
//!
//! | fault | status | body | evidence |
//! |---|---|---|---|
//! | `rate-limit` | 429 `RESOURCE_EXHAUSTED` | `You exceeded your current quota, please check your plan.`, `details` with a `google.rpc.RetryInfo` whose `retryDelay` is the wait (`0.2s`) | observed (notes §D); the `QuotaFailure` detail of the capture is left out |
//! | `server-error` | 500 `INTERNAL` | `An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting` | best known |
//! | `unavailable` | 503 `UNAVAILABLE` | `The model is overloaded. Please try again later.` | best known |
//! | `overloaded` | | not served: Gemini has no such status | |
//!
//! No `retry-after` header is sent (none in the notes). The official `google-genai` client
//! does not retry by default (`retry_options` unset: one attempt), so its facts say
//! `client_retries: false`. Streams have no end event: `no-terminal-event` is not served.
//!
//! Facts (protocol notes §D): `finishReason` is `STOP` for a turn with calls too; there is
//! no parallel switch; a function response has no error flag (a failure is a response such as
//! `{"error": …}`), so TT010's flag check does not apply.

mod codec;
mod encode;
mod fault;
mod reencode;
mod rejection;
mod request;
mod response;
pub mod signature;
mod stream;
mod synthesis;
#[cfg(test)]
mod test_support;
mod wire;

pub use codec::Gemini;
pub use encode::{encode_answers, encode_assistant, encode_results};
pub use fault::{render_fault, with_calls};
pub use rejection::{missing_signature, render_rejection};
pub use request::decode_request;
pub use response::decode_response_json;
pub use stream::decode_response_sse;
