//! tooltape: replay and conformance testing for LLM tool calling, above all parallel tool calls.

pub mod cassette;
pub mod conformance;
pub mod provider;
pub mod report;
pub mod server;
pub mod transcript;

pub use cassette::Cassette;
pub use report::Report;
pub use server::ReplayServer;
