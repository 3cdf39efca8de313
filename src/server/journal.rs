//! The journal: everything the replay server saw, with timestamps, bounded in memory.
//!
//! It is bounded twice, by entries and by an estimate of the bytes they hold, and drops its
//! oldest entries to stay within both, counting them per session. No verdict reads it: the
//! findings, request counts and tool spans a verdict needs are kept in each session's ledger.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::conformance::{Finding, UnsupportedRoute};
use crate::provider::Rejection;

/// The default number of entries kept; older ones are dropped and counted.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The default estimate of journal memory kept, in bytes.
pub const DEFAULT_BYTES: usize = 64 * 1024 * 1024;

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
    /// The fault served instead of (or, for a slow first byte, with) the recorded response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<crate::fault::ServedFault>,
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

    /// An estimate of the memory the entry holds, in bytes: its own size and every string and
    /// finding it owns (a list of ids that several findings share is counted once).
    #[must_use]
    pub fn bytes(&self) -> usize {
        let own = std::mem::size_of::<Entry>();
        match self {
            Entry::Model(m) => {
                let mut lists = HashSet::new();
                let findings: usize = m
                    .findings
                    .iter()
                    .map(|f| {
                        let ids = match &f.rejection {
                            Some(Rejection::MissingResults { ids, .. })
                                if lists.insert(ids.as_ptr()) =>
                            {
                                ids.iter().map(|id| id.len() + 24).sum()
                            }
                            Some(r) => std::mem::size_of_val(r) + 64,
                            None => 0,
                        };
                        std::mem::size_of::<Finding>() + f.message.len() + f.hint.len() + ids
                    })
                    .sum();
                own + m.session.len() + findings + m.note.as_ref().map_or(0, String::len)
            }
            Entry::Tool(t) => own + t.session.len() + t.call_id.len() + t.name.len(),
        }
    }
}

/// A bounded, thread-safe journal.
#[derive(Debug)]
pub struct Journal {
    state: Mutex<State>,
    capacity: usize,
    max_bytes: usize,
    dropped: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    entries: VecDeque<(Entry, usize)>,
    bytes: usize,
    dropped_by_session: HashMap<String, u64>,
}

impl Default for Journal {
    fn default() -> Self {
        Self::with_limits(DEFAULT_CAPACITY, DEFAULT_BYTES)
    }
}

impl Journal {
    /// A journal that keeps at most `capacity` entries (and the default bytes).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_limits(capacity, DEFAULT_BYTES)
    }

    /// A journal that keeps at most `capacity` entries holding at most about `max_bytes`.
    #[must_use]
    pub fn with_limits(capacity: usize, max_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            capacity: capacity.max(1),
            max_bytes,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds an entry, dropping the oldest ones while the journal holds too many entries or
    /// bytes (an entry larger than the whole budget is dropped at once, and counted).
    pub fn push(&self, entry: Entry) {
        let size = entry.bytes();
        let mut state = self.lock();
        state.entries.push_back((entry, size));
        state.bytes += size;
        while state.entries.len() > self.capacity || state.bytes > self.max_bytes {
            let Some((old, size)) = state.entries.pop_front() else {
                break;
            };
            state.bytes -= size;
            match state.dropped_by_session.get_mut(old.session()) {
                Some(n) => *n += 1,
                None => {
                    state.dropped_by_session.insert(old.session().to_owned(), 1);
                }
            }
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The entries of one session, oldest first.
    #[must_use]
    pub fn session(&self, session: &str) -> Vec<Entry> {
        self.lock()
            .entries
            .iter()
            .filter(|(e, _)| e.session() == session)
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// How many entries of one session were dropped to stay within the limits.
    #[must_use]
    pub fn dropped_in(&self, session: &str) -> u64 {
        self.lock()
            .dropped_by_session
            .get(session)
            .copied()
            .unwrap_or(0)
    }

    /// The estimate of the bytes the kept entries hold.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// How many entries were dropped because the journal was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// How many entries are kept now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the entries of one session.
    pub fn clear_session(&self, session: &str) {
        let mut state = self.lock();
        state.entries.retain(|(e, _)| e.session() != session);
        state.bytes = state.entries.iter().map(|(_, size)| size).sum();
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
            fault: None,
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
        assert_eq!(j.dropped_in("a"), 1);
        assert_eq!(j.dropped_in("b"), 0);
    }

    #[test]
    fn large_entries_are_dropped_to_stay_within_the_bytes() {
        let big = |session: &str| {
            let mut entry = model(session);
            if let Entry::Model(m) = &mut entry {
                m.note = Some("x".repeat(10_000));
            }
            entry
        };
        let budget = 3 * big("a").bytes();
        let j = Journal::with_limits(1_000, budget);
        for _ in 0..100 {
            j.push(big("a"));
            j.push(model("b"));
            assert!(j.bytes() <= budget, "{} > {budget}", j.bytes());
        }
        assert!(j.len() <= 6, "{}", j.len());
        assert_eq!(j.dropped_in("a") + j.dropped_in("b"), j.dropped());
        assert_eq!(j.dropped() + j.len() as u64, 200);
    }
}
