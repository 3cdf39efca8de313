//! The reply a provider sends for an API fault, in neutral terms; each codec fills it with its
//! own status, headers and body ([`super::Codec::render_fault`]).

use serde_json::Value;

use crate::fault::FaultKind;
use crate::transcript::ToolCall;

/// An error reply with headers: what a fault serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultReply {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, lowercase names.
    pub headers: Vec<(&'static str, String)>,
    /// The body, JSON text.
    pub body: String,
}

/// The API error a fault asks a codec for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiError {
    /// Which error (one of the retryable statuses of [`FaultKind`]).
    pub kind: FaultKind,
    /// The wait the reply asks for, in milliseconds.
    pub retry_after_ms: Option<u64>,
}

/// `retry-after` in whole seconds, rounded up (at least 1 for any wait, so a client that reads
/// only this header never comes back earlier than asked), and, when `with_ms`, the exact
/// `retry-after-ms` that the official Python and TypeScript clients read first.
#[must_use]
pub fn retry_after_headers(
    retry_after_ms: Option<u64>,
    with_ms: bool,
) -> Vec<(&'static str, String)> {
    let Some(ms) = retry_after_ms else {
        return Vec::new();
    };
    let mut headers = vec![("retry-after", ms.div_ceil(1000).max(1).to_string())];
    if with_ms {
        headers.push(("retry-after-ms", ms.to_string()));
    }
    headers
}

/// A wait as the short form OpenAI's texts use (`174ms`, `1.5s`).
#[must_use]
pub fn short_wait(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        seconds(ms)
    }
}

/// A wait in seconds as a protobuf duration's JSON form (`0.2s`, `34.4s`, `2s`).
#[must_use]
pub fn seconds(ms: u64) -> String {
    let whole = ms / 1000;
    let frac = ms % 1000;
    if frac == 0 {
        format!("{whole}s")
    } else {
        let digits = format!("{frac:03}");
        format!("{whole}.{}s", digits.trim_end_matches('0'))
    }
}

/// Rewrites the call entries of `items` (a response's output list, the ones `is_call` picks)
/// for `calls`, for a model fault: entry *i* is rewritten by `write(entry, call *i*)`, and each
/// further call is a copy of the last entry, rewritten by `write`, inserted after it. What
/// every codec's [`super::Codec::with_calls`] shares; `write` knows the field names.
///
/// # Errors
/// The response has no call to change, `calls` drops one (a model fault only changes or adds
/// calls), or `write` refuses a call.
pub fn rewrite_calls(
    items: &mut Vec<Value>,
    is_call: impl Fn(&Value) -> bool,
    calls: &[ToolCall],
    write: impl Fn(&mut Value, &ToolCall, bool) -> Result<(), String>,
) -> Result<(), String> {
    let positions: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| is_call(v))
        .map(|(i, _)| i)
        .collect();
    let Some(&last) = positions.last() else {
        return Err("the recorded response has no tool call to change".to_owned());
    };
    if calls.len() < positions.len() {
        return Err(format!(
            "the recorded response has {} calls and the change keeps {}; a model fault only changes or adds calls",
            positions.len(),
            calls.len()
        ));
    }
    for (&p, call) in positions.iter().zip(calls) {
        write(&mut items[p], call, false)?;
    }
    let template = items[last].clone();
    for (k, call) in calls[positions.len()..].iter().enumerate() {
        let mut entry = template.clone();
        write(&mut entry, call, true)?;
        items.insert(last + 1 + k, entry);
    }
    Ok(())
}

/// `arguments` as the JSON object a provider whose calls carry an object (not text) sends.
///
/// # Errors
/// The arguments are not a JSON object: such a provider's API cannot send them.
pub fn arguments_object(call: &ToolCall, provider: &str) -> Result<Value, String> {
    match call.arguments_value() {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(format!(
            "`{provider}` calls carry their arguments as a JSON object, so the API never sends arguments that do not parse (call `{}` would need `{}`)",
            call.id, call.arguments
        )),
    }
}

/// The id of the first call `calls` has twice, if any.
#[must_use]
pub fn repeated_id(calls: &[ToolCall]) -> Option<&str> {
    calls
        .iter()
        .enumerate()
        .find(|(i, c)| calls[..*i].iter().any(|d| d.id == c.id))
        .map(|(_, c)| c.id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_keeps_the_exact_wait_in_ms() {
        assert_eq!(
            retry_after_headers(Some(200), true),
            vec![
                ("retry-after", "1".into()),
                ("retry-after-ms", "200".into())
            ]
        );
        assert_eq!(
            retry_after_headers(Some(2001), false),
            vec![("retry-after", "3".into())]
        );
        assert_eq!(
            retry_after_headers(Some(0), false),
            vec![("retry-after", "1".into())]
        );
        assert!(retry_after_headers(None, true).is_empty());
    }

    #[test]
    fn waits_read_as_the_providers_write_them() {
        assert_eq!(short_wait(174), "174ms");
        assert_eq!(short_wait(1500), "1.5s");
        assert_eq!(seconds(34_400), "34.4s");
        assert_eq!(seconds(200), "0.2s");
        assert_eq!(seconds(2000), "2s");
    }
}
