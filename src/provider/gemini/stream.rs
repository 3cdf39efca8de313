//! A `streamGenerateContent?alt=sse` stream accumulated as a careful client must.
//!
//! Every `data:` line is a whole `GenerateContentResponse` whose parts continue the turn:
//! consecutive text parts of one kind are one text, a whole `functionCall` part is one call
//! (2.5 models send all calls in one chunk, Gemini 3 one chunk per call), and Gemini 3's
//! argument streaming (`functionCall` opened with `name` and `willContinue: true`, then
//! `partialArgs` fragments at JSON paths, closed by `functionCall: {}`) is put back together
//! into one call with its arguments. The stream ends when the connection closes: there is no
//! end event to wait for.

use std::collections::HashSet;

use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value, json};

use super::response::{part_blocks, stop_reason_of};
use super::wire::*;
use crate::provider::ResponseError;
use crate::provider::json::read;
use crate::provider::sse::Event;
use crate::transcript::AssistantTurn;

/// A stream put back together: whole wire parts in order, the last finish reason, and the
/// last chunk's other top-level fields (`usageMetadata`, `modelVersion`, `responseId`).
#[derive(Debug, Default)]
pub(super) struct Accumulated {
    pub(super) parts: Vec<Value>,
    pub(super) finish_reason: Option<String>,
    pub(super) envelope: Map<String, Value>,
}

/// A call whose arguments are still streaming.
struct Open {
    id: Option<String>,
    name: String,
    args: Value,
    signature: Option<String>,
    continuing: HashSet<String>,
}

impl Open {
    fn close(self) -> Value {
        let mut call = Map::new();
        if let Some(id) = self.id {
            call.insert("id".into(), json!(id));
        }
        call.insert("name".into(), json!(self.name));
        call.insert("args".into(), self.args);
        let mut part = Map::new();
        part.insert("functionCall".into(), Value::Object(call));
        if let Some(signature) = self.signature {
            part.insert("thoughtSignature".into(), json!(signature));
        }
        Value::Object(part)
    }

    fn apply(&mut self, fragments: Vec<WirePartialArg>, at: &str) -> Result<(), ResponseError> {
        for WirePartialArg {
            json_path,
            string_value,
            number_value,
            bool_value,
            null_value,
            will_continue,
        } in fragments
        {
            let path = parse_path(&json_path)
                .ok_or_else(|| ResponseError::new(at, format!("bad jsonPath `{json_path}`")))?;
            let value = if let Some(s) = string_value {
                let continued = self.continuing.contains(&json_path);
                match slot(&mut self.args, &path) {
                    Value::String(existing) if continued => existing.push_str(&s),
                    other => *other = Value::String(s),
                }
                if will_continue == Some(true) {
                    self.continuing.insert(json_path);
                } else {
                    self.continuing.remove(&json_path);
                }
                continue;
            } else if let Some(n) = number_value {
                Value::Number(n)
            } else if let Some(b) = bool_value {
                Value::Bool(b)
            } else if null_value.is_some() {
                Value::Null
            } else {
                return Err(ResponseError::new(
                    at,
                    format!("the fragment at `{json_path}` has no value"),
                ));
            };
            *slot(&mut self.args, &path) = value;
        }
        Ok(())
    }
}

/// One step of a JSON path: an object key or an array index.
enum Step {
    Key(String),
    Index(usize),
}

/// `$.a.b[0]['c d']` → the steps; `None` when it is not such a path.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            steps.push(Step::Key(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']")?;
            steps.push(Step::Key(after[..end].to_owned()));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            steps.push(Step::Index(after[..end].parse().ok()?));
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// The value at `path` below `root`, made (as objects, arrays and nulls) where missing.
fn slot<'v>(root: &'v mut Value, path: &[Step]) -> &'v mut Value {
    let mut at = root;
    for step in path {
        at = match step {
            Step::Key(key) => {
                if !at.is_object() {
                    *at = Value::Object(Map::new());
                }
                match at {
                    Value::Object(map) => map.entry(key.clone()).or_insert(Value::Null),
                    _ => return at,
                }
            }
            Step::Index(i) => {
                if !at.is_array() {
                    *at = Value::Array(Vec::new());
                }
                match at {
                    Value::Array(items) => {
                        if items.len() <= *i {
                            items.resize(*i + 1, Value::Null);
                        }
                        &mut items[*i]
                    }
                    _ => return at,
                }
            }
        };
    }
    at
}

/// Whether `part` is only text (with its `thought` flag and signature), so the next text of
/// the same kind continues it.
fn plain_text(part: &Value) -> Option<(bool, bool)> {
    let map = part.as_object()?;
    map.get("text")?.as_str()?;
    map.keys()
        .all(|k| matches!(k.as_str(), "text" | "thought" | "thoughtSignature"))
        .then(|| {
            (
                map.get("thought").and_then(Value::as_bool) == Some(true),
                map.contains_key("thoughtSignature"),
            )
        })
}

fn push_part(parts: &mut Vec<Value>, part: Value) {
    if let (Some((thought, _)), Some(last)) = (plain_text(&part), parts.last_mut())
        && let Some((last_thought, last_signed)) = plain_text(last)
        && thought == last_thought
        && !(last_signed && part.get("thoughtSignature").is_some())
        && let (Some(Value::Object(last)), Value::Object(new)) = (Some(last), &part)
    {
        let text = new.get("text").and_then(Value::as_str).unwrap_or_default();
        if let Some(Value::String(joined)) = last.get_mut("text") {
            joined.push_str(text);
        }
        if let Some(signature) = new.get("thoughtSignature") {
            last.insert("thoughtSignature".into(), signature.clone());
        }
        return;
    }
    parts.push(part);
}

/// Puts a stream back together.
///
/// # Errors
/// A chunk is not a response, a fragment continues no call, or a path is not a JSON path.
pub(super) fn accumulate(events: &[Event]) -> Result<Accumulated, ResponseError> {
    let mut out = Accumulated::default();
    let mut open: Option<Open> = None;
    for (i, event) in events.iter().enumerate() {
        if event.data.trim().is_empty() {
            continue;
        }
        let at = format!("frame {i}");
        let WireResponse { candidates } = read(&event.data, &at)?;
        let mut envelope: Map<String, Value> = read(&event.data, &at)?;
        envelope.remove("candidates");
        out.envelope = envelope;
        let Some(candidate) = candidates.into_iter().next() else {
            continue;
        };
        if let Some(reason) = candidate.finish_reason {
            out.finish_reason = Some(reason);
        }
        let parts: Vec<Box<RawValue>> = candidate.content.map(|c| c.parts).unwrap_or_default();
        for (j, raw) in parts.iter().enumerate() {
            let at = format!("{at} candidates[0].content.parts[{j}]");
            let WirePart {
                thought_signature,
                function_call,
                ..
            } = read(raw.get(), &at)?;
            let whole: Value = read(raw.get(), &at)?;
            let Some(call) = function_call else {
                if let Some(done) = open.take() {
                    out.parts.push(done.close());
                }
                push_part(&mut out.parts, whole);
                continue;
            };
            let WireFunctionCall {
                id,
                name,
                args,
                partial_args,
                will_continue,
            } = call;
            let streaming = will_continue == Some(true) || partial_args.is_some();
            match name {
                Some(name) => {
                    if let Some(done) = open.take() {
                        out.parts.push(done.close());
                    }
                    if !streaming {
                        out.parts.push(whole);
                        continue;
                    }
                    let mut started = Open {
                        id,
                        name,
                        args: Value::Object(args.unwrap_or_default()),
                        signature: thought_signature,
                        continuing: HashSet::new(),
                    };
                    started.apply(partial_args.unwrap_or_default(), &at)?;
                    if will_continue == Some(true) {
                        open = Some(started);
                    } else {
                        out.parts.push(started.close());
                    }
                }
                None => {
                    let Some(mut current) = open.take() else {
                        return Err(ResponseError::new(
                            format!("{at}.functionCall"),
                            "a function call fragment with no call open (no `name` before it)",
                        ));
                    };
                    current.apply(partial_args.unwrap_or_default(), &at)?;
                    if will_continue == Some(true) {
                        open = Some(current);
                    } else {
                        out.parts.push(current.close());
                    }
                }
            }
        }
    }
    if let Some(done) = open.take() {
        out.parts.push(done.close());
    }
    Ok(out)
}

/// Decodes a streamed response.
///
/// # Errors
/// As [`accumulate`].
pub fn decode_response_sse(events: &[Event]) -> Result<AssistantTurn, ResponseError> {
    let acc = accumulate(events)?;
    let mut blocks = Vec::new();
    for (i, part) in acc.parts.iter().enumerate() {
        let raw = to_raw_value(part).map_err(|e| ResponseError::new("stream", e.to_string()))?;
        part_blocks(&raw, &format!("part {i}"), &mut blocks)?;
    }
    let stop = stop_reason_of(acc.finish_reason.as_deref(), &blocks);
    Ok(AssistantTurn { blocks, stop })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::gemini::test_support::*;
    use crate::transcript::{Block, StopReason};

    #[test]
    fn the_recorded_stream_has_both_calls_in_one_chunk() {
        let turn = decode_response_sse(&events(FANTASY_STREAM)).unwrap();
        assert_eq!(turn.stop, StopReason::ToolUse);
        let calls: Vec<(&str, &str)> = turn
            .tool_calls()
            .map(|c| (c.name.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(
            calls,
            [
                ("add", r#"{"b":3,"a":2}"#),
                ("multiply", r#"{"a":2,"b":3}"#)
            ]
        );
        assert!(matches!(turn.blocks[0], Block::Thinking(_)));
    }

    #[test]
    fn text_chunks_are_one_text() {
        let turn = decode_response_sse(&events(FANTASY_STREAM_FINAL)).unwrap();
        assert_eq!(
            turn.blocks,
            vec![text(
                "The sum of 2 and 3 is 5. The product of 2 and 3 is 6."
            )]
        );
        assert_eq!(turn.stop, StopReason::EndTurn);
    }

    /// The chunks of Vercel's `google-stream-tool-call-arguments.chunks.txt` (vercel/ai,
    /// Apache-2.0), signature shortened: two calls whose arguments stream as `partialArgs`.
    #[test]
    fn streamed_arguments_are_put_back_together() {
        let chunks = [
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"getWeather","willContinue":true},"thoughtSignature":"CiMBjz1rX25K"}]}}],"responseId":"r"}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.location","stringValue":"Boston","willContinue":true}],"willContinue":true}}]}}]}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.location","stringValue":""}],"willContinue":true}}]}}]}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{}}]}}]}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"getWeather","willContinue":true}}]}}]}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.location","stringValue":"San ","willContinue":true}],"willContinue":true}}]}}]}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.location","stringValue":"Francisco"},{"jsonPath":"$.days[1]","numberValue":3},{"jsonPath":"$.opts['metric units']","boolValue":true}],"willContinue":true}}]}}]}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{}}]},"finishReason":"STOP"}]}"#,
        ];
        let events: Vec<Event> = chunks
            .iter()
            .map(|d| Event {
                event: None,
                data: (*d).to_owned(),
            })
            .collect();
        let turn = decode_response_sse(&events).unwrap();
        let calls: Vec<serde_json::Value> = turn
            .tool_calls()
            .map(|c| c.arguments_value().unwrap())
            .collect();
        assert_eq!(
            calls,
            [
                json!({"location": "Boston"}),
                json!({"location": "San Francisco", "days": [null, 3], "opts": {"metric units": true}})
            ]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
        assert!(matches!(turn.blocks[0], Block::Thinking(_)));
        assert_eq!(turn.blocks.len(), 3);
    }

    #[test]
    fn a_fragment_with_no_open_call_is_an_error() {
        let events = [Event {
            event: None,
            data: r#"{"candidates":[{"content":{"parts":[{"functionCall":{"partialArgs":[]}}]}}]}"#
                .into(),
        }];
        let err = decode_response_sse(&events).unwrap_err();
        assert!(err.at.starts_with("frame 0"), "{err}");
        let not_json = [Event {
            event: None,
            data: "{".into(),
        }];
        assert!(decode_response_sse(&not_json).is_err());
    }

    #[test]
    fn a_signature_on_a_later_text_chunk_joins_the_text() {
        let events: Vec<Event> = [
            r#"{"candidates":[{"content":{"parts":[{"text":"Hel"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"lo","thoughtSignature":"AAAA"}]},"finishReason":"STOP"}]}"#,
        ]
        .iter()
        .map(|d| Event {
            event: None,
            data: (*d).to_owned(),
        })
        .collect();
        let acc = accumulate(&events).unwrap();
        assert_eq!(
            acc.parts,
            vec![json!({"text": "Hello", "thoughtSignature": "AAAA"})]
        );
    }
}
