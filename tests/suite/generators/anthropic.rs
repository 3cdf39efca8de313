//! Anthropic Messages written from the protocol notes (reference C3–C5): requests with
//! `tool_result` blocks in one user message, thinking blocks echoed with their signatures,
//! JSON messages and SSE event streams.

use serde_json::{Value, json};
use tooltape::provider::Provider;

use super::generated::{Generated, Turn, Writer, unique_id};
use super::spec::StreamSpec;
use super::text::split_text;

/// Anthropic's [`Writer`].
pub struct Anthropic;

impl Writer for Anthropic {
    fn provider(&self) -> Provider {
        Provider::Anthropic
    }

    /// `toolu_01` + 22 alphanumerics (reference C3).
    fn id_format(&self) -> (&'static str, usize) {
        ("toolu_01", 22)
    }

    fn thinking(&self) -> bool {
        true
    }

    fn request(&self, generated: &Generated, k: usize) -> Value {
        let spec = &generated.spec;
        let prompt = generated.prompt();
        let mut messages = Vec::new();
        messages.push(json!({"role": "user", "content": prompt}));
        for turn in &generated.turns[..k] {
            messages.push(self.echo(turn));
            messages.extend(self.results(turn));
        }
        let tools: Vec<Value> = generated
            .file
            .tools
            .keys()
            .map(|name| {
                json!({"name": name, "description": format!("The {name} tool"),
                    "input_schema": {"type": "object", "properties": {}}})
            })
            .collect();
        let mut body = json!({"model": "claude-sonnet-4-5-20250929", "max_tokens": 2048, "tools": tools, "messages": messages});
        if let Some(system) = &spec.system {
            body["system"] = json!(system);
        }
        if generated.turns.iter().any(|t| t.thinking.is_some()) {
            body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
        }
        if spec.streaming {
            body["stream"] = json!(true);
        }
        body
    }

    fn echo(&self, turn: &Turn) -> Value {
        json!({"role": "assistant", "content": anthropic_blocks(turn)})
    }

    fn results(&self, turn: &Turn) -> Vec<Value> {
        let blocks: Vec<Value> = turn
            .calls
            .iter()
            .zip(&turn.answers)
            .map(|(c, a)| {
                let mut block =
                    json!({"type": "tool_result", "tool_use_id": c.id, "content": a.content});
                if a.is_error {
                    block["is_error"] = json!(true);
                }
                block
            })
            .collect();
        vec![json!({"role": "user", "content": blocks})]
    }

    fn json(&self, turn: &Turn, k: usize) -> String {
        anthropic_json(turn, k)
    }

    fn sse(&self, turn: &Turn, stream: &StreamSpec, cuts: &[Vec<usize>], k: usize) -> Vec<String> {
        anthropic_sse(turn, stream, cuts, k)
    }
}

/// The content blocks of `turn`, as a response carries them and a correct loop echoes them.
fn anthropic_blocks(turn: &Turn) -> Vec<Value> {
    let mut content = Vec::new();
    if let Some((thinking, signature)) = &turn.thinking {
        content.push(json!({"type": "thinking", "thinking": thinking, "signature": signature}));
    }
    if let Some(text) = &turn.text {
        content.push(json!({"type": "text", "text": text}));
    }
    for c in &turn.calls {
        content.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": c.args}));
    }
    content
}

fn stop_reason(turn: &Turn) -> &'static str {
    if turn.calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    }
}

fn anthropic_json(turn: &Turn, k: usize) -> String {
    json!({
        "id": format!("msg_01Gen{k:0>19}"),
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": anthropic_blocks(turn),
        "stop_reason": stop_reason(turn),
        "stop_sequence": null,
        "usage": {"input_tokens": 472, "output_tokens": 89}
    })
    .to_string()
}

fn anthropic_frame(data: &Value, pad: usize) -> String {
    let kind = data["type"].as_str().unwrap_or_default();
    format!("event: {kind}\ndata: {data}{}\n\n", " ".repeat(pad))
}

fn anthropic_sse(turn: &Turn, s: &StreamSpec, cuts: &[Vec<usize>], k: usize) -> Vec<String> {
    // Recorded 2026 traffic pads `data:` JSON with trailing spaces (reference C4).
    let mut pads = s.text_cuts.iter().copied().chain(std::iter::repeat(3));
    let mut pad = || {
        if s.padded {
            pads.next().unwrap_or(0) % 16
        } else {
            0
        }
    };
    let mut frames = Vec::new();
    frames.push(anthropic_frame(
        &json!({"type": "message_start", "message": {"id": format!("msg_01Gen{k:0>19}"), "type": "message",
            "role": "assistant", "model": "claude-sonnet-4-5-20250929", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 472, "output_tokens": 2}}}),
        pad(),
    ));
    // A real stream has a ping right after message_start; `{"type": "ping"}` is written with a
    // space, as recorded (fixtures/anthropic/fantasy-sonnet-4-parallel2-followup-stream.json).
    let ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n".to_owned();
    frames.push(ping.clone());
    let mut index = 0;
    let mut block = |frames: &mut Vec<String>,
                     start: Value,
                     deltas: Vec<Value>,
                     pad: &mut dyn FnMut() -> usize| {
        if index > 0 && s.pings_between {
            frames.push(ping.clone());
        }
        frames.push(anthropic_frame(
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
            pad(),
        ));
        for d in deltas {
            frames.push(anthropic_frame(
                &json!({"type": "content_block_delta", "index": index, "delta": d}),
                pad(),
            ));
        }
        frames.push(anthropic_frame(
            &json!({"type": "content_block_stop", "index": index}),
            pad(),
        ));
        index += 1;
    };
    if let Some((thinking, signature)) = &turn.thinking {
        // Thinking streams as thinking_delta pieces then one signature_delta (Anthropic's
        // extended-thinking streaming docs).
        let mut deltas: Vec<Value> = split_text(thinking, &s.text_cuts, s.every_char)
            .into_iter()
            .map(|t| json!({"type": "thinking_delta", "thinking": t}))
            .collect();
        deltas.push(json!({"type": "signature_delta", "signature": signature}));
        block(
            &mut frames,
            json!({"type": "thinking", "thinking": ""}),
            deltas,
            &mut pad,
        );
    }
    if let Some(text) = &turn.text {
        let deltas = split_text(text, &s.text_cuts, s.every_char)
            .into_iter()
            .map(|t| json!({"type": "text_delta", "text": t}))
            .collect();
        block(
            &mut frames,
            json!({"type": "text", "text": ""}),
            deltas,
            &mut pad,
        );
    }
    for (i, c) in turn.calls.iter().enumerate() {
        // The first input_json_delta is often `""` (reference C4); a no-argument tool may
        // stream nothing else.
        let mut deltas = Vec::new();
        if s.empty_first_json || c.args.is_empty() {
            deltas.push(json!({"type": "input_json_delta", "partial_json": ""}));
        }
        if !c.args.is_empty() {
            for piece in split_text(&c.text, &cuts[i], s.every_char) {
                deltas.push(json!({"type": "input_json_delta", "partial_json": piece}));
            }
        }
        block(
            &mut frames,
            json!({"type": "tool_use", "id": c.id, "name": c.name, "input": {}}),
            deltas,
            &mut pad,
        );
    }
    frames.push(anthropic_frame(
        &json!({"type": "message_delta", "delta": {"stop_reason": stop_reason(turn), "stop_sequence": null},
            "usage": {"output_tokens": 89}}),
        pad(),
    ));
    frames.push(anthropic_frame(&json!({"type": "message_stop"}), pad()));
    frames
}

#[test]
fn ids_have_the_providers_real_format() {
    let anthropic = unique_id(&Anthropic, "abcdefghijklmnopqrstuv", 62 * 62 + 1);
    assert_eq!(anthropic, "toolu_01abcdefghijklmnopqrs101");
    assert_eq!(anthropic.len(), 8 + 22);
}
