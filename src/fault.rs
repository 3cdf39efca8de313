//! Faults: what the replay server does wrong on purpose, so a loop's handling of API errors
//! and broken streams is tested.
//!
//! A [`Fault`] names what goes wrong (a [`FaultKind`]) and how often: each fault of a turn is
//! served `times` requests in a row (default once), then the recorded turn is served, so a
//! loop that retries gets through. Faults come from a cassette turn's `faults` field or from
//! the command line ([`TurnFault`], `--fault KIND[:VALUE][@TURN][xCOUNT]`). Everything here is
//! provider-neutral: the bytes of an error reply belong to each codec
//! ([`crate::provider::Codec::render_fault`]).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The longest delay or wait a fault may ask for: 10 minutes.
pub const MAX_WAIT_MS: u64 = 600_000;

/// The most times one fault may be served in a row.
pub const MAX_TIMES: u32 = 10_000;

/// What goes wrong.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// HTTP 429 with the provider's rate-limit body and headers (`retry-after`).
    RateLimit,
    /// HTTP 500 with the provider's internal-error body.
    ServerError,
    /// HTTP 503 with the provider's unavailable body.
    Unavailable,
    /// The provider's "overloaded" error (Anthropic: HTTP 529 `overloaded_error`); providers
    /// without one do not serve it.
    Overloaded,
    /// A stream whose connection is closed after `after_frames` frames, mid-body.
    CutStream,
    /// A stream that ends cleanly but without its terminal events (the stop reason and the
    /// end-of-stream marker).
    NoTerminalEvent,
    /// The recorded turn, its first byte sent only after `delay_ms`.
    SlowFirstByte,
    /// A model fault: the turn's first call carries arguments that are not JSON (cut before
    /// their end, as a model stopped mid-object writes them). Only providers whose arguments
    /// are JSON text can send it (OpenAI Chat and Responses); Anthropic and Gemini send an
    /// object.
    MalformedArguments,
    /// A model fault: the turn gets one more call, to a tool the request did not declare.
    UndeclaredTool,
    /// A model fault: the turn's first call is sent twice, id, name and arguments the same
    /// (as OpenAI-compatible servers do). Not served where the provider's API makes every id
    /// unique and refuses a history that repeats one (Anthropic), or knows calls by position
    /// (Gemini).
    DuplicateCallId,
}

impl FaultKind {
    /// Every kind, in the order `--help` lists them.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::RateLimit,
        FaultKind::ServerError,
        FaultKind::Unavailable,
        FaultKind::Overloaded,
        FaultKind::CutStream,
        FaultKind::NoTerminalEvent,
        FaultKind::SlowFirstByte,
        FaultKind::MalformedArguments,
        FaultKind::UndeclaredTool,
        FaultKind::DuplicateCallId,
    ];

    /// The name in cassettes and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::RateLimit => "rate-limit",
            FaultKind::ServerError => "server-error",
            FaultKind::Unavailable => "unavailable",
            FaultKind::Overloaded => "overloaded",
            FaultKind::CutStream => "cut-stream",
            FaultKind::NoTerminalEvent => "no-terminal-event",
            FaultKind::SlowFirstByte => "slow-first-byte",
            FaultKind::MalformedArguments => "malformed-arguments",
            FaultKind::UndeclaredTool => "undeclared-tool",
            FaultKind::DuplicateCallId => "duplicate-call-id",
        }
    }

    /// Whether it is a model fault: the turn itself is changed (its calls), not the way it is
    /// delivered. A model fault changes the turn for the whole session: every request for it
    /// gets the changed response, as a model answers a request it has seen the same way, and
    /// the follow-ups are judged against it.
    #[must_use]
    pub fn is_model_fault(self) -> bool {
        matches!(
            self,
            FaultKind::MalformedArguments | FaultKind::UndeclaredTool | FaultKind::DuplicateCallId
        )
    }

    /// Whether it is an error status a client is expected to retry (429, 5xx).
    #[must_use]
    pub fn is_retryable_status(self) -> bool {
        matches!(
            self,
            FaultKind::RateLimit
                | FaultKind::ServerError
                | FaultKind::Unavailable
                | FaultKind::Overloaded
        )
    }

    /// Whether it breaks a stream (served only to a request that asked for one).
    #[must_use]
    pub fn is_stream_fault(self) -> bool {
        matches!(self, FaultKind::CutStream | FaultKind::NoTerminalEvent)
    }

    /// What the `:VALUE` of a command-line spec sets for this kind, for messages.
    fn value_meaning(self) -> &'static str {
        match self {
            FaultKind::RateLimit
            | FaultKind::ServerError
            | FaultKind::Unavailable
            | FaultKind::Overloaded => "the retry-after in milliseconds",
            FaultKind::CutStream => "the frames sent before the cut",
            FaultKind::SlowFirstByte => "the delay in milliseconds",
            FaultKind::NoTerminalEvent
            | FaultKind::MalformedArguments
            | FaultKind::UndeclaredTool
            | FaultKind::DuplicateCallId => "nothing (it takes no value)",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One fault of a turn, as a cassette turn's `faults` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// How many requests for the turn in a row get this fault before the next one (or the
    /// recorded turn) is served; default 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub times: u32,
    /// Error statuses: the wait the reply asks for, as `retry-after-ms` (where the provider's
    /// clients read it) and `retry-after` in whole seconds, rounded up. Default: 1000 for
    /// `rate-limit`, none (no header) for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// `cut-stream`: the frames sent before the connection is closed; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_frames: Option<usize>,
    /// `slow-first-byte`: milliseconds before the first byte; default 2000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_one(n: &u32) -> bool {
    *n == 1
}

impl Fault {
    /// A fault of `kind`, served once, with the kind's defaults.
    #[must_use]
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            times: 1,
            retry_after_ms: None,
            after_frames: None,
            delay_ms: None,
        }
    }

    /// The wait an error reply asks for, in milliseconds, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self.kind {
            FaultKind::RateLimit => Some(self.retry_after_ms.unwrap_or(1000)),
            k if k.is_retryable_status() => self.retry_after_ms,
            _ => None,
        }
    }

    /// `cut-stream`: the frames sent before the cut.
    #[must_use]
    pub fn frames_before_cut(&self) -> usize {
        self.after_frames.unwrap_or(1)
    }

    /// `slow-first-byte`: the delay before the first byte, in milliseconds.
    #[must_use]
    pub fn first_byte_delay(&self) -> u64 {
        self.delay_ms.unwrap_or(2000)
    }

    /// What is wrong with the fault's settings: a setting another kind takes, or a value out
    /// of range. Empty when it is fine.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let kind = self.kind;
        if kind.is_model_fault() && self.times != 1 {
            out.push(format!(
                "`times` is {}; a model fault (`{kind}`) changes the turn itself, so every request for it gets the changed response: remove the count",
                self.times
            ));
        } else if self.times == 0 || self.times > MAX_TIMES {
            out.push(format!(
                "`times` is {}; it must be 1 to {MAX_TIMES}",
                self.times
            ));
        }
        let misplaced = |field: &str, takes: &str| {
            format!("`{field}` is a setting of {takes}, not of `{kind}`; remove it")
        };
        if self.retry_after_ms.is_some() && !kind.is_retryable_status() {
            out.push(misplaced(
                "retry_after_ms",
                "`rate-limit`, `server-error`, `unavailable` and `overloaded`",
            ));
        }
        if self.after_frames.is_some() && kind != FaultKind::CutStream {
            out.push(misplaced("after_frames", "`cut-stream`"));
        }
        if self.delay_ms.is_some() && kind != FaultKind::SlowFirstByte {
            out.push(misplaced("delay_ms", "`slow-first-byte`"));
        }
        for (field, value) in [
            ("retry_after_ms", self.retry_after_ms),
            ("delay_ms", self.delay_ms),
        ] {
            if value.is_some_and(|v| v > MAX_WAIT_MS) {
                out.push(format!(
                    "`{field}` is over {MAX_WAIT_MS} ms (10 minutes); use a shorter wait"
                ));
            }
        }
        out
    }
}

/// A fault for one turn, as `--fault` gives it: the 0-based response index and the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnFault {
    /// The response (0-based) whose requests get the fault.
    pub turn: usize,
    /// The fault.
    pub fault: Fault,
}

/// A `--fault` spec that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "bad fault `{spec}`: {problem}; write KIND[:VALUE][@TURN][xCOUNT] with KIND one of {kinds} (e.g. `rate-limit:200@1`, `cut-stream:3@2x2`)",
    kinds = kinds()
)]
pub struct FaultSpecError {
    /// The spec as given.
    pub spec: String,
    /// What is wrong with it.
    pub problem: String,
}

fn kinds() -> String {
    FaultKind::ALL
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn spec_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"^(?P<kind>[a-z-]+)(?::(?P<value>[0-9]+))?(?:@(?P<turn>[0-9]+))?(?:x(?P<count>[0-9]+))?$")
            .unwrap_or_else(|e| unreachable!("the fault pattern is valid: {e}"))
    })
}

impl FromStr for TurnFault {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let err = |problem: String| FaultSpecError {
            spec: spec.to_owned(),
            problem,
        };
        let caps = spec_pattern()
            .captures(spec.trim())
            .ok_or_else(|| err("it does not have that shape".to_owned()))?;
        let name = &caps["kind"];
        let kind = FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| err(format!("there is no fault kind `{name}`")))?;
        let number = |group: &str| -> Result<Option<u64>, FaultSpecError> {
            caps.name(group)
                .map(|m| {
                    m.as_str()
                        .parse::<u64>()
                        .map_err(|_| err(format!("`{}` is too large", m.as_str())))
                })
                .transpose()
        };
        let mut fault = Fault::new(kind);
        if let Some(value) = number("value")? {
            match kind {
                k if k == FaultKind::NoTerminalEvent || k.is_model_fault() => {
                    return Err(err(format!(
                        "`{kind}` takes no value; the `:VALUE` sets {}",
                        kind.value_meaning()
                    )));
                }
                FaultKind::CutStream => {
                    fault.after_frames = Some(usize::try_from(value).unwrap_or(usize::MAX));
                }
                FaultKind::SlowFirstByte => fault.delay_ms = Some(value),
                _ => fault.retry_after_ms = Some(value),
            }
        }
        let turn = match number("turn")? {
            None => 0,
            Some(0) => {
                return Err(err(
                    "turns are counted from 1 (the first response)".to_owned()
                ));
            }
            Some(t) => usize::try_from(t - 1).unwrap_or(usize::MAX),
        };
        if let Some(count) = number("count")? {
            fault.times = u32::try_from(count).unwrap_or(u32::MAX);
        }
        if let Some(problem) = fault.problems().into_iter().next() {
            return Err(err(problem.replace("`times`", "the count")));
        }
        Ok(TurnFault { turn, fault })
    }
}

/// How a stream is paced (`--pace MS|recorded`): frames are written with a delay before each
/// but the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// The same delay before every frame but the first.
    Every(std::time::Duration),
    /// The delays `tooltape record` kept (`frame_delays_ms`); a stream without them (or one
    /// re-encoded from JSON) is not paced.
    Recorded,
}

impl FromStr for Pace {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "recorded" {
            return Ok(Pace::Recorded);
        }
        match s.parse::<u64>() {
            Ok(ms) if ms <= MAX_WAIT_MS => Ok(Pace::Every(std::time::Duration::from_millis(ms))),
            _ => Err(format!(
                "`{s}` is not a pace: give the milliseconds between frames (at most {MAX_WAIT_MS}, e.g. `--pace 20`) or `recorded`"
            )),
        }
    }
}

/// What the server did wrong on one request, as the journal and the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServedFault {
    /// What went wrong.
    pub kind: FaultKind,
    /// The wait the reply asked for, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// A model fault served in a session (see [`FaultKind::is_model_fault`]): the turn, what was changed, and the call it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFault {
    /// The response (0-based) that carries it.
    pub turn: usize,
    /// What was changed.
    pub kind: FaultKind,
    /// The position of the call it made or changed among the turn's calls as served.
    pub call: usize,
    /// That call's id.
    pub id: String,
    /// That call's tool.
    pub name: String,
}

impl ModelFault {
    /// What the report says about it.
    #[must_use]
    pub fn note(&self) -> String {
        let what = match self.kind {
            FaultKind::MalformedArguments => "has arguments that are not JSON",
            FaultKind::UndeclaredTool => "calls a tool the request did not declare",
            _ => "repeats the id of an earlier call of the turn",
        };
        format!(
            "turn {}: fault `{}` served: call {} (`{}`, id `{}`) {what}",
            self.turn + 1,
            self.kind,
            self.call + 1,
            self.name,
            self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Result<TurnFault, FaultSpecError> {
        spec.parse()
    }

    #[test]
    fn a_bare_kind_is_served_once_on_the_first_turn() {
        let f = parse("rate-limit").unwrap();
        assert_eq!(f.turn, 0);
        assert_eq!(f.fault, Fault::new(FaultKind::RateLimit));
        assert_eq!(f.fault.retry_after(), Some(1000));
    }

    #[test]
    fn value_turn_and_count_are_read() {
        let f = parse("rate-limit:200@2x3").unwrap();
        assert_eq!(f.turn, 1);
        assert_eq!(f.fault.retry_after_ms, Some(200));
        assert_eq!(f.fault.times, 3);
        let cut = parse("cut-stream:4@1").unwrap();
        assert_eq!(cut.fault.frames_before_cut(), 4);
        let slow = parse("slow-first-byte:50").unwrap();
        assert_eq!(slow.fault.first_byte_delay(), 50);
        assert_eq!(parse("server-errorx2").unwrap().fault.times, 2);
        assert_eq!(parse("server-error").unwrap().fault.retry_after(), None);
    }

    #[test]
    fn bad_specs_say_what_is_wrong_and_show_the_shape() {
        for (spec, says) in [
            ("rate-limits", "no fault kind `rate-limits`"),
            ("rate-limit@0", "counted from 1"),
            ("rate-limit x2", "does not have that shape"),
            ("no-terminal-event:3", "takes no value"),
            ("rate-limitx0", "the count is 0"),
            ("slow-first-byte:9999999", "over 600000 ms"),
            ("rate-limit:99999999999999999999999", "too large"),
        ] {
            let e = parse(spec).unwrap_err().to_string();
            assert!(e.contains(says), "{spec}: {e}");
            assert!(e.contains("KIND[:VALUE][@TURN][xCOUNT]"), "{e}");
            assert!(e.contains("`cut-stream`"), "{e}");
        }
    }

    #[test]
    fn model_faults_take_a_turn_but_no_value_and_no_count() {
        let f = parse("malformed-arguments@2").unwrap();
        assert_eq!((f.turn, f.fault.kind), (1, FaultKind::MalformedArguments));
        assert!(f.fault.kind.is_model_fault());
        assert!(
            parse("undeclared-tool")
                .unwrap()
                .fault
                .kind
                .is_model_fault()
        );
        assert!(!FaultKind::RateLimit.is_model_fault());
        let e = parse("duplicate-call-id:3").unwrap_err().to_string();
        assert!(e.contains("takes no value"), "{e}");
        let e = parse("undeclared-toolx2").unwrap_err().to_string();
        assert!(e.contains("changes the turn itself"), "{e}");
    }

    #[test]
    fn a_pace_is_milliseconds_or_recorded() {
        assert_eq!(
            "20".parse::<Pace>(),
            Ok(Pace::Every(std::time::Duration::from_millis(20)))
        );
        assert_eq!("recorded".parse::<Pace>(), Ok(Pace::Recorded));
        assert!("fast".parse::<Pace>().unwrap_err().contains("--pace 20"));
    }

    #[test]
    fn a_setting_of_another_kind_is_a_problem() {
        let mut f = Fault::new(FaultKind::CutStream);
        f.delay_ms = Some(10);
        let problems = f.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`delay_ms`"), "{problems:?}");
    }

    #[test]
    fn faults_round_trip_through_the_cassette_form() {
        let mut f = Fault::new(FaultKind::RateLimit);
        f.retry_after_ms = Some(150);
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(text, r#"{"kind":"rate-limit","retry_after_ms":150}"#);
        assert_eq!(serde_json::from_str::<Fault>(&text).unwrap(), f);
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"rate-limit","wait":1}"#).is_err());
    }
}
