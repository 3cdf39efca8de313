//! What a loop did about the faults it was served (TT018–TT022), and the record the server
//! keeps of it ([`FaultLog`]).
//!
//! The rules are fair to the official SDKs' default behaviour: they retry a 429 or 5xx a
//! bounded number of times, wait what `retry-after` asks, and raise on a cut stream without
//! retrying. A loop that stops after a stream fault has done nothing wrong (no tool ran twice,
//! nothing half-received ran), so stopping there is no finding; running what a broken stream
//! delivered is.

use std::collections::BTreeMap;

use super::context::SessionContext;
use super::finding::{Finding, Severity};
use super::rule::{Rule, RuleInfo};
use crate::fault::{FaultKind, ServedFault};

/// Retries of one turn past this many are a retry storm (TT020). The official clients make
/// 2 by default; a loop configured for more (tenacity, `max_retries=5`) stays well under it.
pub const RETRY_BOUND: u32 = 10;

/// How many call ids of each kind the log keeps for messages.
const KEPT: usize = 16;

/// What the server served a session for faults, and what the loop did next. Kept in the
/// session's ledger, bounded by the cassette's turns and [`KEPT`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultLog {
    /// Per response (0-based) that had a fault.
    pub turns: BTreeMap<usize, TurnFaults>,
    /// The fault that answered the session's last model request, with its response: the loop
    /// stopped after it.
    pub last: Option<(usize, ServedFault)>,
    /// Tool calls made again, after their first call succeeded, in a session that was served
    /// a fault: `(response, call id, tool)`.
    pub repeats: Vec<(usize, String, String)>,
}

/// One response's faults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnFaults {
    /// Faults served for it (every kind, slow first bytes included).
    pub served: u32,
    /// Requests for it that came while its last reply was a failure (429, 5xx, a broken
    /// stream): retries.
    pub retries: u32,
    /// Whether its last reply was a failure.
    pub pending: bool,
    /// When the last failure was served (ms since the server started) and the wait it asked
    /// for.
    pub last_failure: Option<(f64, Option<u64>)>,
    /// The first retry that came before the wait asked for: (ms it waited, ms asked).
    pub early: Option<(f64, u64)>,
    /// Whether its last reply was a broken stream (cut, or without its end).
    pub truncated: Option<FaultKind>,
    /// Calls of it run at the tool endpoints while its last reply was a broken stream, with
    /// how it was broken.
    pub ran_truncated: Vec<(String, FaultKind)>,
}

impl FaultLog {
    /// Records a model request for response `turn` that is answered with `fault` (or, with
    /// `None`, the recorded response), arriving at `at_ms`.
    pub fn request(&mut self, turn: usize, fault: Option<ServedFault>, at_ms: f64) {
        let failure = fault.filter(|f| f.kind != FaultKind::SlowFirstByte);
        self.last = failure.map(|f| (turn, f));
        if fault.is_none() && !self.turns.contains_key(&turn) {
            return;
        }
        let t = self.turns.entry(turn).or_default();
        if t.pending {
            t.retries = t.retries.saturating_add(1);
            if let Some((failed_at, Some(asked))) = t.last_failure {
                let waited = at_ms - failed_at;
                #[expect(clippy::cast_precision_loss, reason = "waits are under 10 minutes")]
                let early = waited + 1.0 < asked as f64;
                if early && t.early.is_none() {
                    t.early = Some((waited, asked));
                }
            }
        }
        if fault.is_some() {
            t.served = t.served.saturating_add(1);
        }
        match failure {
            Some(f) => {
                t.pending = true;
                t.last_failure = Some((at_ms, f.retry_after_ms));
                t.truncated = (!f.kind.is_retryable_status()).then_some(f.kind);
            }
            None => {
                t.pending = false;
                t.truncated = None;
            }
        }
    }

    /// Records a call of response `turn` at a tool endpoint; `repeat` when the call was made
    /// before and its first call succeeded.
    pub fn tool_call(&mut self, turn: usize, call_id: &str, name: &str, repeat: bool) {
        if let Some(t) = self.turns.get_mut(&turn)
            && let Some(kind) = t.truncated
            && t.ran_truncated.len() < KEPT
            && !t.ran_truncated.iter().any(|(c, _)| c == call_id)
        {
            t.ran_truncated.push((call_id.to_owned(), kind));
        }
        if repeat
            && !self.turns.is_empty()
            && self.repeats.len() < KEPT
            && !self.repeats.iter().any(|(_, c, _)| c == call_id)
        {
            self.repeats
                .push((turn, call_id.to_owned(), name.to_owned()));
        }
    }

    /// When the session's last request was answered with a failure, what to say about the
    /// loop stopping there: a command that fails after it is explained by it (a broken stream
    /// makes the official clients raise; giving up at once on a retryable error is TT018).
    #[must_use]
    pub fn explains_a_stop(&self) -> Option<String> {
        let (turn, fault) = self.last?;
        let retries = self.turns.get(&turn).map_or(0, |t| t.retries);
        Some(format!(
            "the loop stopped after the fault `{}` served for turn {} ({retries} retr{} before it)",
            fault.kind,
            turn + 1,
            if retries == 1 { "y" } else { "ies" }
        ))
    }
}

/// TT018.
pub struct GaveUpOnRetryableError;
static TT018: RuleInfo = RuleInfo {
    id: "TT018",
    name: "gave-up-on-retryable-error",
    severity: Severity::Error,
    summary: "the loop stopped at a rate limit or server error (429, 500, 503, 529) without retrying once; a warning where the provider's official client does not retry by default either",
};
impl Rule for GaveUpOnRetryableError {
    fn info(&self) -> &'static RuleInfo {
        &TT018
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let Some((turn, fault)) = cx.faults.last else {
            return;
        };
        let retried = cx.faults.turns.get(&turn).is_some_and(|t| t.retries > 0);
        if !fault.kind.is_retryable_status() || retried {
            return;
        }
        let mut f = TT018.finding(
            Some(turn + 1),
            format!(
                "the request for turn {} got a `{}` fault{}, and the loop stopped without retrying it",
                turn + 1,
                fault.kind,
                fault
                    .retry_after_ms
                    .map(|ms| format!(" asking it to retry after {ms} ms"))
                    .unwrap_or_default()
            ),
            "retry rate limits (429) and server errors (5xx, 529) a few times with backoff, honouring `retry-after`; the official SDKs do so by default (`max_retries=2`)",
        );
        if !cx.cassette.provider().codec().facts().client_retries {
            f.severity = Severity::Warning;
        }
        out.push(f);
    }
}

/// TT019.
pub struct RetriedBeforeRetryAfter;
static TT019: RuleInfo = RuleInfo {
    id: "TT019",
    name: "retried-before-retry-after",
    severity: Severity::Error,
    summary: "a retry came sooner than the `retry-after` the error asked for",
};
impl Rule for RetriedBeforeRetryAfter {
    fn info(&self) -> &'static RuleInfo {
        &TT019
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        for (turn, t) in &cx.faults.turns {
            if let Some((waited, asked)) = t.early {
                out.push(TT019.finding(
                    Some(turn + 1),
                    format!(
                        "the request for turn {} was retried {waited:.0} ms after an error that asked for {asked} ms (`retry-after`)",
                        turn + 1
                    ),
                    "wait at least what `retry-after-ms` or `retry-after` says before retrying (the official SDKs do); back off exponentially when neither is sent",
                ));
            }
        }
    }
}

/// TT020.
pub struct RetryStorm;
static TT020: RuleInfo = RuleInfo {
    id: "TT020",
    name: "retry-storm",
    severity: Severity::Error,
    summary: "one request was retried more than 10 times in a row: retries without a bound",
};
impl Rule for RetryStorm {
    fn info(&self) -> &'static RuleInfo {
        &TT020
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        for (turn, t) in &cx.faults.turns {
            if t.retries > RETRY_BOUND {
                out.push(TT020.finding(
                    Some(turn + 1),
                    format!(
                        "the request for turn {} was retried {} times after failures ({} faults served); more than {RETRY_BOUND} is a retry storm",
                        turn + 1,
                        t.retries,
                        t.served
                    ),
                    "bound the retries (the official SDKs stop after 2 by default) and surface the error after the last one",
                ));
            }
        }
    }
}

/// TT021.
pub struct ToolsExecutedTwice;
static TT021: RuleInfo = RuleInfo {
    id: "TT021",
    name: "tools-executed-twice",
    severity: Severity::Error,
    summary: "after a retry or a broken stream, a tool call that had already run ran again (its side effects happened twice)",
};
impl Rule for ToolsExecutedTwice {
    fn info(&self) -> &'static RuleInfo {
        &TT021
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let mut by_turn: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (turn, id, name) in &cx.faults.repeats {
            by_turn
                .entry(*turn)
                .or_default()
                .push(format!("`{id}` ({name})"));
        }
        for (turn, calls) in by_turn {
            out.push(TT021.finding(
                Some(turn + 1),
                format!(
                    "call{} {} of turn {} ran twice at the tool endpoints in a session that was served a fault",
                    if calls.len() == 1 { "" } else { "s" },
                    calls.join(", "),
                    turn + 1
                ),
                "retry the model request only (the SDK's own retries do), never the step that ran the tools; keep the results of calls that already ran",
            ));
        }
    }
}

/// TT022.
pub struct ExecutedTruncatedCalls;
static TT022: RuleInfo = RuleInfo {
    id: "TT022",
    name: "executed-truncated-calls",
    severity: Severity::Error,
    summary: "the loop ran tool calls of a stream that was cut, as if it were complete; a warning for a stream that ended cleanly without its stop reason (its calls looked whole, and the official SDKs do not flag it)",
};
impl Rule for ExecutedTruncatedCalls {
    fn info(&self) -> &'static RuleInfo {
        &TT022
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        for (turn, t) in &cx.faults.turns {
            for kind in [FaultKind::CutStream, FaultKind::NoTerminalEvent] {
                let ids: Vec<String> = t
                    .ran_truncated
                    .iter()
                    .filter(|(_, k)| *k == kind)
                    .map(|(c, _)| format!("`{c}`"))
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let mut f = TT022.finding(
                    Some(turn + 1),
                    format!(
                        "the stream of turn {} was broken (`{kind}`) and the loop ran {} before getting the turn whole",
                        turn + 1,
                        ids.join(", ")
                    ),
                    "run a turn's calls only once its stream has ended with its stop reason (`finish_reason`, `stop_reason`, `response.completed`); on a broken stream, retry the request",
                );
                if kind == FaultKind::NoTerminalEvent {
                    f.severity = Severity::Warning;
                }
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FaultKind, ms: Option<u64>) -> Option<ServedFault> {
        Some(ServedFault {
            kind,
            retry_after_ms: ms,
        })
    }

    #[test]
    fn a_retry_is_a_request_after_a_failure_and_an_early_one_is_kept() {
        let mut log = FaultLog::default();
        log.request(0, failure(FaultKind::RateLimit, Some(200)), 0.0);
        assert_eq!(log.last.map(|(t, _)| t), Some(0));
        log.request(0, failure(FaultKind::RateLimit, Some(200)), 50.0);
        log.request(0, None, 300.0);
        let t = &log.turns[&0];
        assert_eq!((t.served, t.retries, t.pending), (2, 2, false));
        assert_eq!(t.early, Some((50.0, 200)));
        assert!(log.last.is_none());
        log.request(0, None, 400.0);
        assert_eq!(
            log.turns[&0].retries, 2,
            "a request after success is no retry"
        );
    }

    #[test]
    fn the_wait_before_a_retry_is_counted_from_the_failure_not_from_the_start() {
        let mut log = FaultLog::default();
        log.request(0, failure(FaultKind::RateLimit, Some(200)), 1000.0);
        log.request(0, None, 1050.0);
        assert_eq!(
            log.turns[&0].early,
            Some((50.0, 200)),
            "50 ms after the 429"
        );
        let mut patient = FaultLog::default();
        patient.request(0, failure(FaultKind::RateLimit, Some(200)), 1000.0);
        patient.request(0, None, 1250.0);
        assert_eq!(patient.turns[&0].early, None, "250 ms after it");
    }

    #[test]
    fn a_stop_after_a_fault_is_explained_by_it_with_the_retries_before_it() {
        let mut log = FaultLog::default();
        assert_eq!(log.explains_a_stop(), None);
        log.request(0, failure(FaultKind::RateLimit, Some(200)), 0.0);
        log.request(0, failure(FaultKind::RateLimit, Some(200)), 300.0);
        let said = log.explains_a_stop().expect("the last request got a fault");
        assert!(
            said.contains(&format!("`{}`", FaultKind::RateLimit)) && said.contains("turn 1"),
            "{said}"
        );
        assert!(said.contains("(1 retry before it)"), "{said}");
        log.request(0, None, 600.0);
        assert_eq!(log.explains_a_stop(), None, "the retry succeeded");
    }

    #[test]
    fn a_turn_without_faults_leaves_no_trace() {
        let mut log = FaultLog::default();
        log.request(0, None, 0.0);
        log.tool_call(0, "a", "t", true);
        assert_eq!(log, FaultLog::default());
    }

    #[test]
    fn calls_run_while_the_stream_was_broken_are_kept_until_it_comes_whole() {
        let mut log = FaultLog::default();
        log.request(0, failure(FaultKind::CutStream, None), 0.0);
        log.tool_call(0, "a", "t", false);
        log.request(0, None, 10.0);
        log.tool_call(0, "b", "t", false);
        assert_eq!(
            log.turns[&0].ran_truncated,
            vec![("a".to_owned(), FaultKind::CutStream)]
        );
    }

    #[test]
    fn a_retry_within_a_millisecond_of_retry_after_is_on_time() {
        let mut on_time = FaultLog::default();
        on_time.request(0, failure(FaultKind::RateLimit, Some(200)), 0.0);
        on_time.request(0, None, 199.0);
        assert_eq!(on_time.turns[&0].early, None, "1 ms of clock slack");
        let mut early = FaultLog::default();
        early.request(0, failure(FaultKind::RateLimit, Some(200)), 0.0);
        early.request(0, None, 198.5);
        assert_eq!(early.turns[&0].early, Some((198.5, 200)));
    }

    #[test]
    fn repeated_and_truncated_calls_are_kept_up_to_the_bound() {
        let mut log = FaultLog::default();
        log.request(0, failure(FaultKind::CutStream, None), 0.0);
        for i in 0..KEPT + 3 {
            log.tool_call(0, &format!("call_{i}"), "t", true);
        }
        assert_eq!(log.repeats.len(), KEPT);
        assert_eq!(log.turns[&0].ran_truncated.len(), KEPT);
        assert_eq!(log.repeats[KEPT - 1].1, format!("call_{}", KEPT - 1));
    }

    #[test]
    fn a_slow_first_byte_is_no_failure() {
        let mut log = FaultLog::default();
        log.request(0, failure(FaultKind::SlowFirstByte, None), 0.0);
        assert!(log.last.is_none());
        assert!(!log.turns[&0].pending);
        assert_eq!(log.turns[&0].served, 1);
    }
}
