//! The replay server: replay logic ([`Replay`]) and its transports (hyper, wiremock).

mod http;
mod journal;
mod mock;
mod replay;
mod tools;

pub use crate::provider::RequestMeta;
pub use http::{MAX_BODY, ReplayServer};
pub use journal::{DEFAULT_CAPACITY, Entry, Journal, ModelEntry, ToolEntry};
pub use mock::CassetteResponder;
pub use replay::{Replay, Reply, ambiguous_bare_urls};
pub use tools::ToolReply;
