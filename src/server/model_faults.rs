//! Model faults: a served turn whose calls are wrong the way models get them wrong (arguments
//! that are not JSON, a tool that was not declared, an id sent twice).
//!
//! A model fault changes the turn itself, not its delivery, so it is applied once, when the
//! session is made: the turn's calls are changed in neutral terms here, the codec writes them
//! back into the recorded response in its own format ([`crate::provider::Codec::with_calls`],
//! a recorded stream re-encoded by [`crate::provider::Codec::json_to_sse`]), and the session
//! serves and judges that cassette. Every request for the turn gets the changed response (a
//! model answers a request it has seen the same way), the follow-ups echo it, and the rules
//! read what was served. A change the provider's API cannot send is not served; the report
//! says why.

use std::sync::Arc;

use crate::cassette::{Cassette, ResponseBody};
use crate::fault::{FaultKind, ModelFault, TurnFault};
use crate::provider::sse;
use crate::transcript::{ToolCall, is_positional_call_id};

/// `cassette` with the model faults of its turns' `faults` and of `cli` applied: the cassette
/// to serve, the faults served, and why any of them could not be.
#[must_use]
pub fn apply(
    cassette: &Arc<Cassette>,
    cli: &[TurnFault],
) -> (Arc<Cassette>, Vec<ModelFault>, Vec<String>) {
    let mut file = cassette.file.clone();
    let mut served = Vec::new();
    let mut notes = Vec::new();
    for t in 0..cassette.turns.len() {
        let kinds: Vec<FaultKind> = file.interactions[t]
            .faults
            .iter()
            .map(|f| f.kind)
            .chain(cli.iter().filter(|f| f.turn == t).map(|f| f.fault.kind))
            .filter(|k| k.is_model_fault())
            .collect();
        if kinds.is_empty() {
            continue;
        }
        let (body, faults, refused) = changed_turn(cassette, t, &kinds);
        for (kind, why) in refused {
            notes.push(format!("turn {}: fault `{kind}` not served: {why}", t + 1));
        }
        if let Some(body) = body {
            let response = &mut file.interactions[t].response;
            response.body = body;
            response.frame_delays_ms.clear();
            served.extend(faults);
        }
    }
    if served.is_empty() {
        return (cassette.clone(), served, notes);
    }
    match Cassette::from_file(file, &cassette.path) {
        Ok(changed) => (Arc::new(changed), served, notes),
        Err(e) => {
            notes.push(format!(
                "model faults not served: the changed cassette does not decode: {e}"
            ));
            (cassette.clone(), Vec::new(), notes)
        }
    }
}

/// The response body of turn `t` with `kinds` applied to its calls, in the mode it was
/// recorded in (`None` when none applies), the faults it carries, and the kinds that could not
/// be applied with why. Each kind is tried on the calls the kinds before it left, and kept
/// only when the codec can write the result.
fn changed_turn(
    cassette: &Cassette,
    t: usize,
    kinds: &[FaultKind],
) -> (
    Option<ResponseBody>,
    Vec<ModelFault>,
    Vec<(FaultKind, String)>,
) {
    let turn = &cassette.turns[t];
    if turn.calls.is_empty() {
        let why = "the turn has no tool calls to change".to_owned();
        return (
            None,
            Vec::new(),
            kinds.iter().map(|k| (*k, why.clone())).collect(),
        );
    }
    let codec = cassette.provider().codec();
    let json = match &turn.response.body {
        ResponseBody::Json { text } => Ok(text.clone()),
        ResponseBody::Sse { frames } => codec.sse_to_json(frames).map_err(|e| e.to_string()),
    };
    let json = match json {
        Ok(j) => j,
        Err(why) => {
            return (
                None,
                Vec::new(),
                kinds.iter().map(|k| (*k, why.clone())).collect(),
            );
        }
    };
    let mut calls = turn.calls.clone();
    let mut written = None;
    let mut faults = Vec::new();
    let mut refused = Vec::new();
    for &kind in kinds {
        let mut next = calls.clone();
        let call = change(kind, &mut next, &turn.request.tool_names);
        match codec.with_calls(&json, &next) {
            Ok(text) => {
                faults.push(ModelFault {
                    turn: t,
                    kind,
                    call,
                    id: next[call].id.clone(),
                    name: next[call].name.clone(),
                });
                calls = next;
                written = Some(text);
            }
            Err(why) => refused.push((kind, why)),
        }
    }
    let Some(changed) = written else {
        return (None, faults, refused);
    };
    match encode(cassette, t, changed, calls.len()) {
        Ok(body) => (Some(body), faults, refused),
        Err(why) => {
            refused.extend(faults.iter().map(|f| (f.kind, why.clone())));
            (None, Vec::new(), refused)
        }
    }
}

/// The changed JSON body of turn `t` in the mode the turn was recorded in, checked to decode
/// with `count` calls.
fn encode(
    cassette: &Cassette,
    t: usize,
    changed: String,
    count: usize,
) -> Result<ResponseBody, String> {
    let codec = cassette.provider().codec();
    let body = match &cassette.turns[t].response.body {
        ResponseBody::Json { .. } => ResponseBody::Json { text: changed },
        ResponseBody::Sse { .. } => {
            let request = &cassette.file.interactions[t].request.body;
            ResponseBody::Sse {
                frames: codec
                    .json_to_sse(&changed, request)
                    .map_err(|e| e.to_string())?,
            }
        }
    };
    let decoded = match &body {
        ResponseBody::Json { text } => cassette.provider().decode_response_json(text),
        ResponseBody::Sse { frames } => cassette
            .provider()
            .decode_response_sse(&sse::parse_frames(frames)),
    };
    let written = decoded.map_err(|e| format!("the changed turn does not decode: {e}"))?;
    let decoded_calls = written.tool_calls().count();
    if decoded_calls != count {
        return Err(format!(
            "the changed turn decodes with {decoded_calls} calls, not {count}"
        ));
    }
    Ok(body)
}

/// Applies `kind` to `calls` (a turn's, not empty); returns the position of the call it made or
/// changed. `declared` are the tools the turn's request declared.
fn change(kind: FaultKind, calls: &mut Vec<ToolCall>, declared: &[String]) -> usize {
    match kind {
        FaultKind::MalformedArguments => {
            calls[0].arguments = malformed(&calls[0].arguments);
            0
        }
        FaultKind::UndeclaredTool => {
            let first = &calls[0];
            let added = ToolCall {
                id: fresh_id(&first.id, calls.len()),
                name: undeclared_name(declared, calls),
                arguments: "{}".to_owned(),
                item_id: first.item_id.as_deref().map(|i| fresh_id(i, calls.len())),
            };
            calls.push(added);
            calls.len() - 1
        }
        _ => {
            let mut again = calls[0].clone();
            again.item_id = again.item_id.as_deref().map(|i| fresh_id(i, calls.len()));
            calls.push(again);
            calls.len() - 1
        }
    }
}

/// `arguments` cut before their last character, as a model stopped mid-object writes them;
/// never valid JSON.
fn malformed(arguments: &str) -> String {
    let trimmed = arguments.trim_end();
    let mut cut: String = if trimmed.is_empty() {
        "{".to_owned()
    } else {
        let mut chars = trimmed.chars();
        chars.next_back();
        chars.as_str().to_owned()
    };
    if cut.trim().is_empty() || serde_json::from_str::<serde_json::Value>(&cut).is_ok() {
        cut = format!("{{\"{cut}");
    }
    cut
}

/// An id in the style of `like` (its prefix up to the last `_`, the same length) that no
/// call of a turn of `n` calls has; a positional id (calls without ids) stays positional.
fn fresh_id(like: &str, n: usize) -> String {
    if is_positional_call_id(like) {
        return like
            .rsplit_once("-call")
            .map_or_else(|| like.to_owned(), |(t, _)| format!("{t}-call{}", n + 1));
    }
    let (prefix, tail) = like.rsplit_once('_').map_or(("", like), |(p, t)| (p, t));
    let fill = format!("tooltape{n}Undeclared0000000000000000000000000000");
    let len = tail.len().max(8);
    let tail: String = fill.chars().take(len).collect();
    if prefix.is_empty() {
        tail
    } else {
        format!("{prefix}_{tail}")
    }
}

/// A tool name the request did not declare and no call of the turn uses.
fn undeclared_name(declared: &[String], calls: &[ToolCall]) -> String {
    let mut name = "web_search".to_owned();
    while declared.contains(&name) || calls.iter().any(|c| c.name == name) {
        name.push_str("_v2");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;

    fn fixture(rel: &str) -> Arc<Cassette> {
        Arc::new(
            Cassette::load(format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR")))
                .unwrap_or_else(|e| panic!("{rel}: {e}")),
        )
    }

    fn at_first_turn(kind: FaultKind) -> Vec<TurnFault> {
        vec![TurnFault {
            turn: 0,
            fault: Fault::new(kind),
        }]
    }

    /// The same calls: ids and names equal, arguments equal as JSON (a re-encoded stream
    /// writes them compactly).
    fn same(a: &[ToolCall], b: &[ToolCall]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.id == y.id && x.name == y.name && x.same_arguments(y))
    }

    const EVERY_PROVIDER: [&str; 4] = [
        "openai-chat/fantasy-gpt-4o-parallel2-followup",
        "openai-responses/fantasy-gpt-4o-parallel2-followup",
        "anthropic/fantasy-sonnet-4-parallel2-followup",
        "gemini/fantasy-2.5-flash-parallel2-followup",
    ];

    #[test]
    fn each_provider_serves_what_its_api_can_send_in_both_modes() {
        for base in EVERY_PROVIDER {
            for rel in [format!("{base}.json"), format!("{base}-stream.json")] {
                let cassette = fixture(&rel);
                let recorded = cassette.calls(0).to_vec();
                let text_arguments = rel.starts_with("openai");
                let unique_ids = !text_arguments;
                for kind in [
                    FaultKind::MalformedArguments,
                    FaultKind::UndeclaredTool,
                    FaultKind::DuplicateCallId,
                ] {
                    let (changed, served, notes) = apply(&cassette, &at_first_turn(kind));
                    let expressible = match kind {
                        FaultKind::MalformedArguments => text_arguments,
                        FaultKind::DuplicateCallId => !unique_ids,
                        _ => true,
                    };
                    if !expressible {
                        assert!(served.is_empty(), "{rel} {kind}: {served:?}");
                        assert_eq!(notes.len(), 1, "{rel} {kind}: {notes:?}");
                        assert!(notes[0].contains("not served"), "{}", notes[0]);
                        assert_eq!(changed.calls(0), recorded.as_slice());
                        continue;
                    }
                    assert!(notes.is_empty(), "{rel} {kind}: {notes:?}");
                    assert_eq!(served.len(), 1, "{rel} {kind}");
                    let calls = changed.calls(0);
                    let fault = &served[0];
                    assert_eq!(calls[fault.call].id, fault.id, "{rel} {kind}");
                    assert_eq!(
                        matches!(changed.turns[0].response.body, ResponseBody::Sse { .. }),
                        rel.ends_with("-stream.json"),
                        "{rel}: the recorded mode is kept"
                    );
                    match kind {
                        FaultKind::MalformedArguments => {
                            assert_eq!(calls.len(), recorded.len());
                            assert!(calls[0].arguments_value().is_none(), "{rel}");
                            assert!(same(&calls[1..], &recorded[1..]), "{rel}");
                        }
                        FaultKind::UndeclaredTool => {
                            assert_eq!(calls.len(), recorded.len() + 1);
                            assert!(same(&calls[..recorded.len()], &recorded), "{rel}");
                            let added = calls.last().unwrap();
                            assert!(
                                !changed.turns[0].request.tool_names.contains(&added.name),
                                "{rel}: {}",
                                added.name
                            );
                            assert!(!recorded.iter().any(|c| c.id == added.id), "{rel}");
                        }
                        _ => {
                            assert_eq!(calls.len(), recorded.len() + 1);
                            let again = calls.last().unwrap();
                            assert_eq!(
                                (&again.id, &again.name),
                                (&recorded[0].id, &recorded[0].name)
                            );
                            assert!(again.same_arguments(&recorded[0]), "{rel}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_fault_the_api_cannot_send_is_left_out_and_the_others_are_served() {
        let cassette = fixture("anthropic/fantasy-sonnet-4-parallel2-followup-stream.json");
        let faults: Vec<TurnFault> = [
            FaultKind::MalformedArguments,
            FaultKind::UndeclaredTool,
            FaultKind::DuplicateCallId,
        ]
        .into_iter()
        .map(|kind| TurnFault {
            turn: 0,
            fault: Fault::new(kind),
        })
        .collect();
        let (changed, served, notes) = apply(&cassette, &faults);
        let kinds: Vec<FaultKind> = served.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![FaultKind::UndeclaredTool]);
        assert_eq!(changed.calls(0).len(), cassette.calls(0).len() + 1);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].contains("`malformed-arguments` not served")
                && notes[0].contains("JSON object"),
            "{}",
            notes[0]
        );
        assert!(notes[1].contains("must be unique"), "{}", notes[1]);
    }

    #[test]
    fn a_cassette_without_model_faults_is_served_as_it_is() {
        let cassette = fixture("anthropic/handmade-three-turns.json");
        let (same, served, notes) = apply(&cassette, &at_first_turn(FaultKind::RateLimit));
        assert!(Arc::ptr_eq(&same, &cassette));
        assert!(served.is_empty() && notes.is_empty());
    }

    #[test]
    fn malformed_arguments_never_parse() {
        for args in ["{\"city\":\"Paris\"}", "{}", "", "  ", "[1]", "{\"a\": {}}"] {
            let m = malformed(args);
            assert!(
                serde_json::from_str::<serde_json::Value>(&m).is_err(),
                "{args:?} became {m:?}"
            );
        }
        assert_eq!(malformed("{\"city\":\"Paris\"}"), "{\"city\":\"Paris\"");
    }

    #[test]
    fn a_fresh_id_keeps_the_style_and_is_new() {
        let id = fresh_id("call_JMW1whyEaYG438VE1OIflxA2", 2);
        assert!(id.starts_with("call_"), "{id}");
        assert_eq!(id.len(), "call_JMW1whyEaYG438VE1OIflxA2".len());
        assert_ne!(fresh_id("toolu_01", 1), "toolu_01");
        assert_eq!(fresh_id("turn2-call1", 2), "turn2-call3");
    }

    #[test]
    fn the_undeclared_tool_is_neither_declared_nor_called() {
        let declared = vec!["web_search".to_owned(), "get_weather".to_owned()];
        let name = undeclared_name(&declared, &[]);
        assert!(!declared.contains(&name), "{name}");
    }
}
