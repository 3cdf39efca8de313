//! OpenAI Responses (`POST /v1/responses`): output items, event streams, input items and
//! error bodies.
//!
//! - [`decode_response_json`] reads a `response` object: each output item in order becomes a
//!   block (`reasoning` → thinking with its `rs_…` id and `encrypted_content`, `message` →
//!   text, `function_call` → a call whose id is its `call_id`, with the item's `fc_…` id kept
//!   as [`crate::transcript::ToolCall::item_id`]). [`decode_response_sse`] accumulates the
//!   `response.*` events by `output_index` and `item_id`, never by arrival order, and needs a
//!   terminal event (`response.completed`, `.incomplete`); there is no `[DONE]`.
//! - [`decode_request`] reads `input` (a string, or a list of items) into a conversation:
//!   the model's items that come one after another (reasoning, assistant messages, calls)
//!   form one assistant message, each `function_call_output` a `tool` message of its own,
//!   each user, system or developer message one message. `previous_response_id` is a
//!   stateful continuation, resolved before the rules run on the recorded request of the
//!   turn it names (under a model fault, on the one the session sent).
//! - [`encode_assistant`] writes a served turn back as its items (a JSON array the codec's
//!   `with_history` splices into `input`), [`encode_results`] one `function_call_output` per
//!   result; [`render_rejection`] writes OpenAI's error body.
//!
//! Results pair with calls by `call_id` anywhere later in the input, with other items in
//! between (protocol notes §B5): the placement is [`crate::provider::ResultPlacement::AnyLaterItem`].
//! A result has no error flag: a failure is told in the output text.
//!
//! An `item_reference` input item (`{"type":"item_reference","id":…}`: a stored item sent
//! by id, as loops with `store` on may send earlier reasoning items and calls) naming an item
//! of a served turn is replaced by that item before the request is judged
//! ([`crate::provider::Codec::resolve_references`]); one naming an id no served turn has
//! stays an opaque item. Assistant text messages are not kept with their `msg_…` ids: a
//! referenced text message stays opaque too, which judges nothing wrong (the rules read calls,
//! outputs and reasoning, never assistant text), but an unknown `msg_…` reference is not
//! rejected as the API would.
//!
//! Not modelled (yet): the `conversation` parameter is not a continuation; a `previous_response_id` naming a recorded
//! response that was created with `store: false` is resolved although the real API keeps no
//! such response.
//!
//! # Error texts
//!
//! Every body is `{"error":{"message":…,"type":"invalid_request_error","param":…,"code":…}}`
//! (protocol notes §A6). "Captured" texts were returned by api.openai.com and quoted in
//! public issues (notes §B5, §F2); "best known" ones follow the API's pattern but no capture
//! of that exact case was found.
//!
//! | Rejection | Text | `param` / `code` | Evidence |
//! |---|---|---|---|
//! | missing output (TT001) | `No tool output found for function call {call_id}.` (the first unanswered call) | `input` / null | captured |
//! | unknown output (TT002) | `No tool call found for function call output with call_id {call_id}.` | `input` / null | captured |
//! | an output sent twice (TT003) | `Duplicate item found with id {call_id}. Remove duplicate items from your input and try again.` | `input` / null | best known: the text is captured for items sent twice with the same `id`; for two outputs with one `call_id` and no item ids no capture was found |
//! | an item id sent twice (TT011) | `Duplicate item found with id {id}. Remove duplicate items from your input and try again.` | `input` / null | captured (param and code from a 2026 capture) |
//! | empty `call_id` (TT011) | `Invalid 'input[{i}].call_id': empty string. Expected a string with minimum length 1, but got an empty string instead.` | `input[{i}].call_id` / `empty_string` | captured |
//! | call without its reasoning (TT006) | `Item '{fc_id}' of type 'function_call' was provided without its required 'reasoning' item: '{rs_id}'.` | `input` / null | captured; sent only when the call comes back with its `fc_…` id |
//! | reasoning without its item (TT006) | `Item '{rs_id}' of type 'reasoning' was provided without its required following item.` | `input` / null | captured |
//! | unknown `previous_response_id` (TT012) | `Previous response with id '{id}' not found.` | `previous_response_id` / `previous_response_not_found` | captured (two gateway reports quoting the API, 2026) |
//! | other malformed requests, no `Authorization` | as OpenAI Chat (see `openai_chat`) | | best known for Responses |
//! | harness | the message as given | null / `tooltape` | ours |
//!
//! Fault replies are OpenAI's one error envelope, as for Chat (see `openai_chat`). A stream's
//! end, which `no-terminal-event` leaves out, is its `response.completed` event.

mod codec;
mod encode;
mod fault;
mod reencode;
mod rejection;
mod request;
mod response;
mod stream;
mod synthesis;

pub use codec::OpenAiResponses;
pub use encode::{encode_assistant, encode_results};
pub use fault::{terminal_frames, with_calls};
pub use rejection::render_rejection;
pub use request::decode_request;
pub use response::decode_response_json;
pub use stream::decode_response_sse;
