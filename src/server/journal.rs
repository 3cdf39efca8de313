//! The journal: everything the replay server saw, with timestamps, bounded in memory.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::conformance::{Finding, UnsupportedRoute};

/// The default number of entries kept; older ones are dropped and counted.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// One request to a model endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    /// The session it belongs to.
    pub session: String,
    /// Milliseconds since the server started.
    pub at_ms: f64,
    /// The 0-based response index the request asked for, when it decoded.
    pub turn: Option<usize>,
    /// The status the server answered with.
    pub status: u16,
    /// Whether a stream was served.
    pub streamed: bool,
    /// Whether the turn was recorded in the other mode and re-encoded by the codec.
    pub reencoded: bool,
    /// A request to a route tooltape does not serve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<UnsupportedRoute>,
    /// What the rules found in it.
    pub findings: Vec<Finding>,
    /// What went wrong that is not the loop's conformance (e.g. the wrong provider's endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One call of a tool endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct ToolEntry {
    /// The session it belongs to.
    pub session: String,
    /// The 0-based response index whose call it matched.
    pub turn: usize,
    /// The call id it matched.
    pub call_id: String,
    /// The tool name.
    pub name: String,
    /// When the request arrived, ms since the server started.
    pub start_ms: f64,
    /// When the reply was sent, ms since the server started; `None` if it never was.
    pub end_ms: Option<f64>,
    /// The HTTP status of the reply (0 while a hung tool has not answered).
    pub status: u16,
    /// Whether the barrier's grace period ran out before every call of the turn arrived.
    pub barrier_timed_out: bool,
    /// Whether this request repeated a call that had already been made.
    pub repeat: bool,
}

/// A journal entry.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A model request.
    Model(ModelEntry),
    /// A tool call.
    Tool(ToolEntry),
}

impl Entry {
    fn session(&self) -> &str {
        match self {
            Entry::Model(m) => &m.session,
            Entry::Tool(t) => &t.session,
        }
    }
}

/// A bounded, thread-safe journal.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<VecDeque<Entry>>,
    capacity: usize,
    dropped: AtomicU64,
}

impl Default for Journal {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Journal {
    /// A journal that keeps at most `capacity` entries.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
        }
    }

    /// Adds an entry, dropping the oldest when full.
    pub fn push(&self, entry: Entry) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() == self.capacity {
            entries.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        entries.push_back(entry);
    }

    /// The entries of one session, oldest first.
    #[must_use]
    pub fn session(&self, session: &str) -> Vec<Entry> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .iter()
            .filter(|e| e.session() == session)
            .cloned()
            .collect()
    }

    /// How many entries were dropped because the journal was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How many entries are kept now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether nothing is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the entries of one session.
    pub fn clear_session(&self, session: &str) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|e| e.session() != session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(session: &str) -> Entry {
        Entry::Model(ModelEntry {
            session: session.into(),
            at_ms: 0.0,
            turn: Some(0),
            status: 200,
            streamed: false,
            findings: vec![],
            reencoded: false,
            unsupported: None,
            note: None,
        })
    }

    #[test]
    fn a_full_journal_drops_the_oldest_and_counts_them() {
        let j = Journal::with_capacity(2);
        j.push(model("a"));
        j.push(model("b"));
        j.push(model("c"));
        assert_eq!(j.len(), 2);
        assert_eq!(j.dropped(), 1);
        assert!(j.session("a").is_empty());
        assert_eq!(j.session("c").len(), 1);
    }
}
