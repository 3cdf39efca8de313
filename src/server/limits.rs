//! What the replay server keeps and accepts: every limit a user can see and change.
//!
//! Nothing past a limit is dropped silently: a body over the cap is answered 413, findings
//! over a cap are counted by severity and the verdict fails on an uncounted error, journal
//! entries over a cap are counted (the verdict never reads the journal).

use std::time::Duration;

/// The default cap on a request body; a larger one is answered 413.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// The limits of one replay server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body accepted, in bytes; a larger one is answered 413.
    pub max_body: usize,
    /// Findings kept per request (errors first); the rest are counted.
    pub findings_per_request: usize,
    /// Distinct findings kept per session; the rest are counted.
    pub findings_per_session: usize,
    /// Journal entries kept; the oldest are dropped and counted.
    pub journal_entries: usize,
    /// Journal memory, estimated in bytes; the oldest entries are dropped and counted.
    pub journal_bytes: usize,
    /// How long a connection may take to send a request's headers; on a kept-alive HTTP/1
    /// connection this also bounds how long it may sit idle between requests.
    pub header_timeout: Duration,
    /// How long a connection may move no bytes while the server is not working on one of its
    /// requests (a slow body, an idle HTTP/2 connection); `Duration::ZERO` turns it off.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: MAX_BODY,
            findings_per_request: 100,
            findings_per_session: 1_000,
            journal_entries: 100_000,
            journal_bytes: 64 * 1024 * 1024,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
        }
    }
}
