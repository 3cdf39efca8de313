//! Provider codecs: wire JSON in, transcript out, and the provider's own error bodies.
//!
//! Each provider is one folder (`openai_chat/`, `anthropic/`, `gemini/`) with one implementation of
//! [`Codec`]; [`Provider`] is the cassette's id for it, and [`Provider::codec`] the one lookup.
//! Only these modules know JSON field names and header names; everything else reads the
//! [`Facts`] a codec states. Helpers every codec shares live here once: [`sse`] framing and
//! JSON walking with paths (`json`).

pub mod anthropic;
mod codec;
mod errors;
#[cfg(test)]
mod fast_check;
mod fault;
pub mod gemini;
mod json;
pub mod openai_chat;
pub mod openai_responses;
mod registry;
mod rejection;
pub mod sse;
mod typed;

pub use codec::{
    Codec, DecodedRequest, Env, Facts, Pairing, RequestMeta, ResultPlacement, Route, Texts,
};
pub use errors::{Malformed, MalformedKind, ResponseError, json_kind};
pub use fault::{
    ApiError, FaultReply, arguments_object, repeated_id, retry_after_headers, rewrite_calls,
    seconds, short_wait,
};
pub use registry::Provider;
pub use rejection::{ErrorReply, Rejection};
