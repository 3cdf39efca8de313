//! tooltape: replay and conformance testing for LLM tool calling, above all parallel tool calls.
//!
//! Data flows one way: bytes → provider codec → provider-neutral transcript → rules → findings →
//! report.
//!
//! - [`Cassette`] ([`cassette`]): one recorded conversation, responses kept verbatim.
//! - [`provider`]: the codecs (`openai-chat`, `anthropic`) that decode responses (JSON and SSE,
//!   accumulated as a careful client must) and requests into the [`transcript`], and render
//!   the provider's own error bodies.
//! - [`server`]: the replay logic ([`server::Replay`], a plain function of the request) with two
//!   transports: [`ReplayServer`] on hyper and [`server::CassetteResponder`] for wiremock; tool
//!   endpoints with barrier mode; a bounded journal.
//! - [`conformance`]: rules with stable ids (TT001–TT022) over the transcript and the journal.
//! - [`ReferenceLoop`]: the correct agent loop, usable as an oracle.
//! - [`report`]: human, JSON and JUnit reports, and the exit code a report maps to
//!   ([`report::exit`]); [`run`] and [`check`] drive whole runs.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let cassette = tooltape::Cassette::load("fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json")?;
//! let server = tooltape::ReplayServer::start(cassette.clone()).await;
//! // Point the loop under test at server.openai_base_url(); here, the reference loop.
//! let tools = tooltape::reference_loop::CassetteTools::new(Arc::new(cassette.clone()));
//! tooltape::ReferenceLoop::new(server.url()).run(&cassette, &tools).await?;
//! let report = server.verify().await;
//! assert!(report.is_conformant(), "{report}");
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod cassette;
pub mod check;
pub mod conformance;
pub mod credentials;
pub mod fault;
#[doc(hidden)]
pub mod fuzzing;
pub mod provider;
pub mod record;
pub mod reference_loop;
pub mod report;
pub mod run;
pub mod server;
pub mod span;
pub mod transcript;

pub use cassette::Cassette;
pub use reference_loop::{ReferenceLoop, Tools};
pub use report::Report;
pub use server::ReplayServer;
