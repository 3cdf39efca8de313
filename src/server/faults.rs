//! Serving faults: which fault a request for a turn gets, and the reply it becomes.
//!
//! A turn's plan is its cassette turn's `faults` followed by the command line's faults for
//! that turn; each fault is served `times` requests in a row, then the recorded turn. The
//! position in the plan is the number of requests for the turn the session has had, kept in
//! the session's ledger, so a loop that retries gets through and nothing is shared between
//! sessions. Pacing (`--pace`) is applied here too, to whatever stream is served.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::reply::Reply;
use super::served::Served;
use crate::cassette::Cassette;
use crate::fault::{Fault, FaultKind, Pace, ServedFault, TurnFault};
use crate::provider::{ApiError, Codec};

/// The reply for the next request for response `t` of the session `served`: the fault its
/// plan (the cassette's faults, then `cli`) has for it, or `real` (the recorded turn in the
/// mode asked for). A fault that cannot be served to this request leaves a note and serves
/// `real`.
pub(super) fn serve(
    served: &Served,
    cli: &[TurnFault],
    t: usize,
    real: Reply,
    model: &str,
) -> (Reply, Option<ServedFault>) {
    let k = {
        let mut ledger = served.ledger();
        let k = ledger.attempts.entry(t).or_default();
        let this = *k;
        *k = k.saturating_add(1);
        this
    };
    let Some(fault) = planned(&served.cassette, cli, t, k) else {
        return (real, None);
    };
    let codec = served.cassette.provider().codec();
    match apply(codec, fault, &real, model) {
        Ok((reply, served_fault)) => (reply, Some(served_fault)),
        Err(note) => {
            let mut ledger = served.ledger();
            if ledger.unserved.len() < 16 {
                ledger.unserved.insert(format!("turn {}: {note}", t + 1));
            }
            (real, None)
        }
    }
}

/// The fault the `k`th request (0-based) for response `turn` gets, if any.
pub(super) fn planned<'a>(
    cassette: &'a Cassette,
    cli: &'a [TurnFault],
    turn: usize,
    k: u32,
) -> Option<&'a Fault> {
    let recorded = cassette
        .file
        .interactions
        .get(turn)
        .map(|i| i.faults.as_slice())
        .unwrap_or_default();
    let given = cli.iter().filter(|f| f.turn == turn).map(|f| &f.fault);
    let mut start = 0u64;
    for fault in recorded
        .iter()
        .chain(given)
        .filter(|f| !f.kind.is_model_fault())
    {
        let end = start + u64::from(fault.times);
        if u64::from(k) < end {
            return Some(fault);
        }
        start = end;
    }
    None
}

/// The reply `fault` turns the recorded reply `real` into, or why it cannot be served to
/// this request (then `real` is served, and the report says why).
pub(super) fn apply(
    codec: &dyn Codec,
    fault: &Fault,
    real: &Reply,
    model: &str,
) -> Result<(Reply, ServedFault), String> {
    let served = ServedFault {
        kind: fault.kind,
        retry_after_ms: fault.retry_after(),
    };
    let provider = codec.facts().name;
    let reply = match fault.kind {
        kind if kind.is_retryable_status() => {
            let error = ApiError {
                kind,
                retry_after_ms: served.retry_after_ms,
            };
            let reply = codec.render_fault(&error, model).ok_or_else(|| {
                format!("fault `{kind}` was not served: `{provider}` has no such error")
            })?;
            Reply::Fault {
                status: reply.status,
                headers: reply.headers.into(),
                body: Bytes::from(reply.body),
            }
        }
        FaultKind::SlowFirstByte => Reply::Delayed {
            delay: Duration::from_millis(fault.first_byte_delay()),
            reply: Box::new(real.clone()),
        },
        kind => {
            let Reply::Sse { frames } = real else {
                return Err(format!(
                    "fault `{kind}` was not served: the loop asked for JSON, and stream faults are served to requests for a stream"
                ));
            };
            if kind == FaultKind::CutStream {
                let keep = fault
                    .frames_before_cut()
                    .min(frames.len().saturating_sub(1));
                Reply::Cut {
                    frames: frames[..keep].iter().cloned().collect::<Arc<[Bytes]>>(),
                }
            } else {
                let texts: Vec<&str> = frames
                    .iter()
                    .map(|f| std::str::from_utf8(f).unwrap_or_default())
                    .collect();
                let end = codec.terminal_frames(&texts);
                if end == 0 {
                    return Err(format!(
                        "fault `{kind}` was not served: `{provider}` streams have no end event to leave out"
                    ));
                }
                Reply::Sse {
                    frames: frames[..frames.len() - end].iter().cloned().collect(),
                }
            }
        }
    };
    Ok((reply, served))
}

/// `reply` written at `pace`: a stream gets its delays (the first frame none, so a slow first
/// byte stays a fault of its own); anything else is unchanged.
pub(super) fn paced(reply: Reply, pace: Option<Pace>, recorded_ms: &[u64]) -> Reply {
    let Reply::Sse { frames } = reply else {
        return reply;
    };
    let delays: Vec<Duration> = match pace {
        Some(Pace::Every(d)) => (0..frames.len())
            .map(|i| if i == 0 { Duration::ZERO } else { d })
            .collect(),
        Some(Pace::Recorded) if recorded_ms.len() == frames.len() => recorded_ms
            .iter()
            .enumerate()
            .map(|(i, ms)| {
                if i == 0 {
                    Duration::ZERO
                } else {
                    Duration::from_millis(*ms)
                }
            })
            .collect(),
        _ => return Reply::Sse { frames },
    };
    Reply::Paced {
        frames,
        delays: delays.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cassette() -> Cassette {
        Cassette::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/anthropic/handmade-three-turns.json"
        ))
        .unwrap()
    }

    #[test]
    fn each_fault_is_served_its_times_in_order_then_the_turn() {
        let mut c = cassette();
        let mut first = Fault::new(FaultKind::Overloaded);
        first.times = 2;
        c.file.interactions[1].faults = vec![first];
        let cli = vec![TurnFault {
            turn: 1,
            fault: Fault::new(FaultKind::RateLimit),
        }];
        let kinds: Vec<Option<FaultKind>> = (0..5)
            .map(|k| planned(&c, &cli, 1, k).map(|f| f.kind))
            .collect();
        use FaultKind::*;
        assert_eq!(
            kinds,
            vec![
                Some(Overloaded),
                Some(Overloaded),
                Some(RateLimit),
                None,
                None
            ]
        );
        assert!(planned(&c, &cli, 0, 0).is_none());
    }

    #[test]
    fn a_cut_keeps_the_frames_before_it_and_never_the_whole_stream() {
        let codec = cassette().provider().codec();
        let frames: Arc<[Bytes]> = (0..4)
            .map(|i| Bytes::from(format!("data: {i}\n\n")))
            .collect();
        let real = Reply::Sse { frames };
        let mut fault = Fault::new(FaultKind::CutStream);
        fault.after_frames = Some(2);
        let (reply, _) = apply(codec, &fault, &real, "m").unwrap();
        assert!(matches!(&reply, Reply::Cut { frames } if frames.len() == 2));
        fault.after_frames = Some(99);
        let (reply, _) = apply(codec, &fault, &real, "m").unwrap();
        assert!(matches!(&reply, Reply::Cut { frames } if frames.len() == 3));
    }

    #[test]
    fn a_stream_fault_is_not_served_to_a_request_for_json() {
        let chat = Cassette::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json"
        ))
        .unwrap();
        let codec = chat.provider().codec();
        let real = Reply::Json {
            status: 200,
            body: Bytes::from_static(b"{}"),
        };
        let e = apply(codec, &Fault::new(FaultKind::NoTerminalEvent), &real, "m").unwrap_err();
        assert!(e.contains("asked for JSON"), "{e}");
        let e = apply(codec, &Fault::new(FaultKind::Overloaded), &real, "m").unwrap_err();
        assert!(e.contains("no such error"), "{e}");
    }
}
