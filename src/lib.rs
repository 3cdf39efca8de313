//! tooltape: replay and conformance testing for LLM tool calling, above all parallel tool calls.

pub mod cassette;
pub mod check;
pub mod conformance;
pub mod provider;
pub mod reference_loop;
pub mod report;
pub mod run;
pub mod server;
pub mod transcript;

pub use cassette::Cassette;
pub use reference_loop::{ReferenceLoop, Tools};
pub use report::Report;
pub use server::ReplayServer;
