//! tooltape: replay and conformance testing for LLM tool calling, above all parallel tool calls.

pub mod cassette;
pub mod provider;
pub mod transcript;
