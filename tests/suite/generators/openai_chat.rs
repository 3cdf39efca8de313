//! OpenAI Chat Completions written from the protocol notes (reference A3–A5; the compat
//! servers' chunkings from E1–E2): requests with `role: "tool"` results, JSON completions, and
//! SSE streams in every layout a real server sends.

use serde_json::{Value, json};
use tooltape::provider::Provider;

use super::generated::{Call, Generated, Turn, Writer, unique_id};
use super::spec::{Layout, StreamSpec};
use super::text::split_text;

/// OpenAI Chat's [`Writer`].
pub struct OpenAiChat;

impl Writer for OpenAiChat {
    fn provider(&self) -> Provider {
        Provider::OpenAiChat
    }

    /// `call_` + 24 alphanumerics (reference A3).
    fn id_format(&self) -> (&'static str, usize) {
        ("call_", 24)
    }

    fn thinking(&self) -> bool {
        false
    }

    fn request(&self, generated: &Generated, k: usize) -> Value {
        let spec = &generated.spec;
        let prompt = generated.prompt();
        let mut messages = Vec::new();
        if let Some(system) = &spec.system {
            messages.push(json!({"role": "system", "content": system}));
        }
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
                json!({"type": "function", "function": {
                    "name": name,
                    "description": format!("The {name} tool"),
                    "parameters": {"type": "object", "properties": {}}
                }})
            })
            .collect();
        let mut body = json!({"model": "gpt-4o-2024-08-06", "messages": messages, "tools": tools, "parallel_tool_calls": true});
        if spec.streaming {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    fn echo(&self, turn: &Turn) -> Value {
        let calls: Vec<Value> = turn
            .calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.text}}))
            .collect();
        json!({"role": "assistant", "content": turn.text, "tool_calls": calls})
    }

    fn results(&self, turn: &Turn) -> Vec<Value> {
        turn.calls
            .iter()
            .zip(&turn.answers)
            .map(|(c, a)| json!({"role": "tool", "tool_call_id": c.id, "content": a.content}))
            .collect()
    }

    fn json(&self, turn: &Turn, k: usize) -> String {
        openai_json(turn, k)
    }

    fn sse(&self, turn: &Turn, stream: &StreamSpec, cuts: &[Vec<usize>], k: usize) -> Vec<String> {
        openai_sse(turn, stream, cuts, k)
    }
}

fn openai_json(turn: &Turn, k: usize) -> String {
    let calls: Vec<Value> = turn
        .calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.text}}))
        .collect();
    let mut message = json!({"role": "assistant", "content": turn.text, "refusal": null});
    let finish = if calls.is_empty() {
        "stop"
    } else {
        message["tool_calls"] = Value::Array(calls);
        "tool_calls"
    };
    json!({
        "id": format!("chatcmpl-gen{k}"),
        "object": "chat.completion",
        "created": 1_727_346_178,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 149, "completion_tokens": 60, "total_tokens": 209},
        "system_fingerprint": "fp_5050236cbd"
    })
    .to_string()
}

fn openai_frame(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn openai_chunk(k: usize, delta: Value, finish: Option<&str>, ollama: bool) -> Value {
    if ollama {
        json!({"id": format!("chatcmpl-{k}"), "object": "chat.completion.chunk", "created": 1_767_261_600,
            "model": "qwen3:8b", "system_fingerprint": "fp_ollama",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    } else {
        json!({"id": format!("chatcmpl-gen{k}"), "object": "chat.completion.chunk", "created": 1_727_346_178,
            "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_5050236cbd",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    }
}

/// One delta of a streamed call: its header (with `arguments: ""`) or a fragment.
#[derive(Clone)]
enum CallDelta {
    Header { call: usize },
    Fragment { index: usize, text: String },
}

fn openai_sse(turn: &Turn, s: &StreamSpec, cuts: &[Vec<usize>], k: usize) -> Vec<String> {
    let ollama = s.layout == Layout::Whole && !turn.calls.is_empty();
    let index_of = |i: usize| {
        if s.index0 && s.layout != Layout::Interleaved {
            0
        } else {
            i
        }
    };
    let mut deltas: Vec<Value> = Vec::new();
    let role = if ollama {
        json!({"role": "assistant", "content": ""})
    } else {
        json!({"role": "assistant", "content": if turn.text.is_some() { json!("") } else { Value::Null }, "refusal": null})
    };
    let header = |i: usize, c: &Call, args: &str| json!({"index": index_of(i), "id": c.id, "type": "function", "function": {"name": c.name, "arguments": args}});
    if let Some(text) = &turn.text {
        deltas.push(role.clone());
        for piece in split_text(text, &s.text_cuts, s.every_char) {
            deltas.push(json!({"content": piece}));
        }
    } else if (!s.call_with_role || turn.calls.is_empty()) && !ollama {
        deltas.push(role.clone());
    }
    let mut call_deltas: Vec<Value> = Vec::new();
    match s.layout {
        Layout::Whole => {
            for (i, c) in turn.calls.iter().enumerate() {
                let mut d = json!({"role": "assistant", "content": ""});
                d["tool_calls"] = json!([{"id": c.id, "index": index_of(i), "type": "function",
                    "function": {"name": c.name, "arguments": c.text}}]);
                call_deltas.push(d);
            }
        }
        Layout::Sequential | Layout::Interleaved => {
            let mut queues: Vec<Vec<CallDelta>> = turn
                .calls
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut q = vec![CallDelta::Header { call: i }];
                    if !c.text.is_empty() {
                        for text in split_text(&c.text, &cuts[i], s.every_char) {
                            q.push(CallDelta::Fragment {
                                index: index_of(i),
                                text,
                            });
                        }
                    }
                    q
                })
                .collect();
            let mut order = Vec::new();
            if s.layout == Layout::Sequential {
                for q in &mut queues {
                    order.append(q);
                }
            } else {
                // Headers still open in call order (a model writes calls in order; only the
                // argument fragments interleave, as in the hand-made interleaved fixture).
                let mut picks = s.picks.iter().copied().cycle();
                let mut headers = 0;
                while queues.iter().any(|q| !q.is_empty()) {
                    let open: Vec<usize> = (0..queues.len())
                        .filter(|i| !queues[*i].is_empty() && *i <= headers)
                        .collect();
                    let pick = picks.next().unwrap_or(0) % open.len();
                    if open[pick] == headers {
                        headers += 1;
                    }
                    order.push(queues[open[pick]].remove(0));
                }
            }
            for d in order {
                call_deltas.push(match d {
                    CallDelta::Header { call } => {
                        json!({"tool_calls": [header(call, &turn.calls[call], "")]})
                    }
                    CallDelta::Fragment { index, text } => {
                        json!({"tool_calls": [{"index": index, "function": {"arguments": text}}]})
                    }
                });
            }
            if s.call_with_role
                && turn.text.is_none()
                && let Some(first) = call_deltas.first_mut()
            {
                let calls = first["tool_calls"].clone();
                *first = role.clone();
                first["tool_calls"] = calls;
            }
        }
    }
    deltas.extend(call_deltas);
    // Empty deltas between others (vLLM under load sends empty tool-call deltas, reference E1;
    // OpenAI's own finish chunk is an empty delta).
    let mut with_empty = Vec::new();
    let len = deltas.len();
    let mut at: Vec<usize> = s.empty_deltas.iter().map(|p| 1 + p % len.max(1)).collect();
    at.sort_unstable();
    for (i, d) in deltas.into_iter().enumerate() {
        with_empty.push(d);
        while at.first() == Some(&(i + 1)) {
            at.remove(0);
            with_empty.push(json!({}));
        }
    }
    let finish = if turn.calls.is_empty() || s.finish_stop {
        "stop"
    } else {
        "tool_calls"
    };
    // vLLM sends the rest of the arguments in the chunk that carries `finish_reason`
    // (reference E1); OpenAI sends an empty delta there (A4 rule 5).
    let mut finish_delta = json!({});
    if s.fragment_with_finish
        && !ollama
        && with_empty.last().is_some_and(|d| {
            d.get("tool_calls")
                .and_then(|c| c.get(0))
                .is_some_and(|c| c.get("id").is_none())
        })
    {
        finish_delta = with_empty.pop().unwrap_or_default();
    }
    let mut frames: Vec<String> = with_empty
        .into_iter()
        .map(|d| openai_frame(&openai_chunk(k, d, None, ollama)))
        .collect();
    frames.push(openai_frame(&openai_chunk(
        k,
        finish_delta,
        Some(finish),
        ollama,
    )));
    if s.usage_chunk && !ollama {
        frames.push(openai_frame(
            &json!({"id": format!("chatcmpl-gen{k}"), "object": "chat.completion.chunk",
            "created": 1_727_346_178, "model": "gpt-4o-2024-08-06", "choices": [],
            "usage": {"prompt_tokens": 80, "completion_tokens": 40, "total_tokens": 120}}),
        ));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}

#[test]
fn ids_have_the_providers_real_format() {
    let openai = unique_id(&OpenAiChat, "abcdefghijklmnopqrstuvwx", 1);
    assert_eq!(openai, "call_abcdefghijklmnopqrstu001");
    assert_eq!(openai.len(), 5 + 24);
}
