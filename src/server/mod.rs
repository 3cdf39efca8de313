//! The replay server: replay logic ([`Replay`]) and its transports (hyper, wiremock).

mod conn;
mod faults;
mod http;
mod journal;
mod ledger;
mod limits;
mod mcp;
mod mock;
mod model_faults;
mod replay;
mod reply;
mod served;
mod sessions;
mod tools;

pub use crate::provider::RequestMeta;
pub use conn::HostPolicy;
pub use http::{ConnectionStats, ReplayServer};
pub use journal::{DEFAULT_BYTES, DEFAULT_CAPACITY, Entry, Journal, ModelEntry, ToolEntry};
pub use limits::{Limits, MAX_BODY};
pub use mcp::MCP_PATH;
pub use mock::CassetteResponder;
pub use replay::Replay;
pub use reply::Reply;
pub use sessions::ambiguous_bare_urls;
pub use tools::ToolReply;
