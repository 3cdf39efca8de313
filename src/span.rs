//! When one tool call ran: the one span type the tool endpoints, the reference loop, the timing
//! rules and the reports share, and its one-line timeline.

use serde::Serialize;

/// One tool call's run, in milliseconds on the clock of whoever observed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    /// The 0-based response index whose call it ran.
    #[serde(skip)]
    pub turn: usize,
    /// The call id.
    pub call_id: String,
    /// The tool name.
    pub name: String,
    /// Start, ms.
    pub start_ms: f64,
    /// End, ms; `None` if the tool never answered.
    pub end_ms: Option<f64>,
    /// Whether the barrier's grace period ran out while this call waited.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub barrier_timed_out: bool,
}

impl Span {
    /// How long it ran (an unfinished span: 0).
    #[must_use]
    pub fn duration_ms(&self) -> f64 {
        self.end_ms
            .map_or(0.0, |end| (end - self.start_ms).max(0.0))
    }

    /// Whether two spans overlap in time (an unfinished span lasts forever).
    #[must_use]
    pub fn overlaps(&self, other: &Span) -> bool {
        let end = |s: &Span| s.end_ms.unwrap_or(f64::INFINITY);
        self.start_ms < end(other) && other.start_ms < end(self)
    }
}

/// The spans as one line, `name 0-150ms | name 0-100ms`, in the order given, with times
/// relative to the earliest start.
#[must_use]
pub fn timeline(spans: &[&Span]) -> String {
    let base = spans
        .iter()
        .map(|s| s.start_ms)
        .fold(f64::INFINITY, f64::min);
    spans
        .iter()
        .map(|s| match s.end_ms {
            Some(end) => format!("{} {:.0}-{:.0}ms", s.name, s.start_ms - base, end - base),
            None => format!("{} {:.0}ms-(no reply)", s.name, s.start_ms - base),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str, start: f64, end: Option<f64>) -> Span {
        Span {
            turn: 0,
            call_id: format!("call_{name}"),
            name: name.into(),
            start_ms: start,
            end_ms: end,
            barrier_timed_out: false,
        }
    }

    #[test]
    fn spans_that_share_time_overlap_and_back_to_back_ones_do_not() {
        let a = span("a", 0.0, Some(100.0));
        assert!(a.overlaps(&span("b", 50.0, Some(150.0))));
        assert!(!a.overlaps(&span("b", 100.0, Some(150.0))));
        assert!(a.overlaps(&span("hung", 90.0, None)));
    }

    #[test]
    fn the_timeline_is_relative_to_the_first_start_and_names_a_missing_reply() {
        let (a, b) = (span("a", 1000.0, Some(1150.0)), span("b", 1010.0, None));
        assert_eq!(timeline(&[&a, &b]), "a 0-150ms | b 10ms-(no reply)");
    }
}
