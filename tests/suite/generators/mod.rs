//! Proptest strategies for random, correct cassettes of every provider.
//!
//! [`spec::cassette`] draws a [`spec::Spec`] (tools with simulated latency, failures and
//! `sequential`; 1–4 tool turns of 1–8 calls each, then a final text answer; JSON or SSE
//! responses with a random chunking) and [`Generated::new`] writes it out as a
//! [`CassetteFile`] the way the providers and a correct loop would: request `k` carries the
//! `k` previous turns, every call answered once, in call order, a failing tool with its
//! `fails` message (`is_error: true` for Anthropic). The wire JSON is written from the
//! protocol notes (reference A3–A5, C3–C5, E), never with tooltape's own encoders, so the
//! other modules can use it as an oracle.
//!
//! Every stream chunking is one that a real server produces; each says who produces it. The
//! one exception, interleaved OpenAI deltas, is kept as a client-robustness case and says so.
//!
//! - [`spec`]: what is drawn, for every provider alike.
//! - [`generated`]: the driver: a spec written out as a cassette through the provider's
//!   [`generated::Writer`], and the list of writers. Its doc says how to add a provider.
//! - [`openai_chat`], [`anthropic`], [`openai_responses`], [`gemini`]: one writer each: requests, echoes, results and
//!   responses (JSON and every stream chunking) on that provider's wire.
//! - [`text`]: JSON and text written the way models and SDKs write them.
//!
//! [`CassetteFile`]: tooltape::cassette::CassetteFile

mod anthropic;
mod gemini;
mod generated;
mod openai_chat;
mod openai_responses;
mod spec;
mod text;

pub use generated::{Generated, WRITERS};
pub use spec::{Layout, any_cassette, config};
pub use text::{content_text, write_json};
