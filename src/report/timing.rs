//! Timing figures per turn: how long the tools took together, against the ideal and the sum.

use serde::Serialize;

pub use crate::span::Span;

/// Figures for one model turn with tool calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnTiming {
    /// The 1-based model turn.
    pub index: usize,
    /// How many calls the turn had.
    pub tool_calls: usize,
    /// From the first tool start to the last tool end.
    pub tool_wall_ms: f64,
    /// The longest single tool: the wall time of a perfectly concurrent loop.
    pub ideal_ms: f64,
    /// The sum of all tools: the wall time of a one-after-another loop.
    pub sequential_ms: f64,
    /// `sequential_ms / tool_wall_ms`: about the number of calls when concurrent, 1 when not.
    pub speedup: Option<f64>,
    /// Whether the tools' timing was observed. A turn whose tools did not run through the tool
    /// endpoints (or the reference loop) gets no timing verdict.
    pub observed: bool,
    /// The spans, in call order.
    pub spans: Vec<Span>,
}

impl TurnTiming {
    /// Figures for a turn from its spans (in call order).
    #[must_use]
    pub fn from_spans(index: usize, tool_calls: usize, spans: Vec<Span>) -> Self {
        let start = spans
            .iter()
            .map(|s| s.start_ms)
            .fold(f64::INFINITY, f64::min);
        let end = spans
            .iter()
            .map(|s| s.end_ms.unwrap_or(s.start_ms))
            .fold(f64::NEG_INFINITY, f64::max);
        let wall = if spans.is_empty() {
            0.0
        } else {
            (end - start).max(0.0)
        };
        let ideal = spans.iter().map(Span::duration_ms).fold(0.0, f64::max);
        let sum: f64 = spans.iter().map(Span::duration_ms).sum();
        Self {
            index,
            tool_calls,
            tool_wall_ms: round(wall),
            ideal_ms: round(ideal),
            sequential_ms: round(sum),
            speedup: (wall > 0.0).then(|| round(sum / wall)),
            observed: !spans.is_empty(),
            spans,
        }
    }

    /// One line: which call ran when, `name 0-150ms`, in call order.
    #[must_use]
    pub fn timeline(&self) -> String {
        crate::span::timeline(&self.spans.iter().collect::<Vec<_>>())
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, start: f64, end: f64) -> Span {
        Span {
            turn: 0,
            call_id: id.into(),
            name: "t".into(),
            start_ms: start,
            end_ms: Some(end),
            barrier_timed_out: false,
        }
    }

    #[test]
    fn concurrent_spans_give_the_ideal_wall_time() {
        let t = TurnTiming::from_spans(1, 2, vec![span("a", 0.0, 100.0), span("b", 0.0, 50.0)]);
        assert_eq!(t.tool_wall_ms, 100.0);
        assert_eq!(t.ideal_ms, 100.0);
        assert_eq!(t.sequential_ms, 150.0);
        assert_eq!(t.speedup, Some(1.5));
    }

    #[test]
    fn sequential_spans_give_the_sum() {
        let t = TurnTiming::from_spans(1, 2, vec![span("a", 0.0, 100.0), span("b", 100.0, 150.0)]);
        assert_eq!(t.tool_wall_ms, 150.0);
        assert_eq!(t.speedup, Some(1.0));
    }
}
