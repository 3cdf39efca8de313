//! OpenAI Responses written from the protocol notes (reference B1–B5): requests whose `input`
//! replays the served items (stateless, every turn resent) with `function_call_output` items,
//! `response` bodies whose `output` lists the items, and event streams with `event:` lines,
//! `sequence_number` and a terminal `response.completed` (no `[DONE]`), the items streamed one
//! after another as every capture shows (B4).

use serde_json::{Map, Value, json};
use tooltape::provider::Provider;

use super::generated::{Generated, Turn, Writer};
use super::spec::StreamSpec;
use super::text::split_text;

/// OpenAI Responses' [`Writer`].
pub struct OpenAiResponses;

const MODEL: &str = "gpt-4o-2024-08-06";

/// The item id of a call: `fc_` and the call id's random part (reference B3).
fn item_id(call_id: &str) -> String {
    format!("fc_{}", call_id.trim_start_matches("call_"))
}

fn message_item(k: usize, text: &str) -> Value {
    json!({"type": "message", "id": format!("msg_gen{k}"), "status": "completed", "role": "assistant",
           "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

fn call_item(id: &str, name: &str, arguments: &str, status: &str) -> Value {
    json!({"type": "function_call", "id": item_id(id), "call_id": id, "name": name,
           "arguments": arguments, "status": status})
}

/// The output items of response `k`.
fn output(turn: &Turn, k: usize) -> Vec<Value> {
    let mut items = Vec::new();
    if let Some(text) = &turn.text {
        items.push(message_item(k, text));
    }
    for c in &turn.calls {
        items.push(call_item(&c.id, &c.name, &c.text, "completed"));
    }
    items
}

fn response(k: usize, status: &str, output: Vec<Value>) -> Value {
    json!({"id": format!("resp_gen{k}"), "object": "response", "created_at": 1_782_321_669,
           "status": status, "error": null, "incomplete_details": null, "model": MODEL,
           "output": output, "parallel_tool_calls": true, "store": false,
           "usage": if status == "completed" { json!({"input_tokens": 80, "output_tokens": 40, "total_tokens": 120}) } else { Value::Null }})
}

impl Writer for OpenAiResponses {
    fn provider(&self) -> Provider {
        Provider::OpenAiResponses
    }

    /// `call_` + 24 alphanumerics, as Chat (reference B3, the spec's example).
    fn id_format(&self) -> (&'static str, usize) {
        ("call_", 24)
    }

    fn thinking(&self) -> bool {
        false
    }

    fn text_part(&self) -> &'static str {
        "input_text"
    }

    fn request(&self, generated: &Generated, k: usize) -> Value {
        let spec = &generated.spec;
        let prompt = if spec.prompt_as_parts {
            json!([{"type": "input_text", "text": spec.prompt}])
        } else {
            json!(spec.prompt)
        };
        let mut input = Vec::new();
        if let Some(system) = &spec.system {
            input.push(json!({"role": "developer", "content": system}));
        }
        input.push(json!({"role": "user", "content": prompt}));
        for turn in &generated.turns[..k] {
            if let Value::Array(items) = self.echo(turn) {
                input.extend(items);
            }
            input.extend(self.results(turn));
        }
        let tools: Vec<Value> = generated
            .file
            .tools
            .keys()
            .map(|name| {
                json!({"type": "function", "name": name, "description": format!("The {name} tool"),
                       "parameters": {"type": "object", "properties": {}}, "strict": false})
            })
            .collect();
        let mut body = json!({"model": MODEL, "input": input, "tools": tools,
                              "parallel_tool_calls": true, "store": false});
        if spec.streaming {
            body["stream"] = json!(true);
        }
        body
    }

    /// The turn's items, as a loop replays them: an assistant message for the text, each
    /// call with its item id and `call_id`.
    fn echo(&self, turn: &Turn) -> Value {
        let mut items = Vec::new();
        if let Some(text) = &turn.text {
            items.push(json!({"type": "message", "role": "assistant",
                              "content": [{"type": "output_text", "text": text}]}));
        }
        for c in &turn.calls {
            items.push(
                json!({"type": "function_call", "id": item_id(&c.id), "call_id": c.id,
                              "name": c.name, "arguments": c.text}),
            );
        }
        Value::Array(items)
    }

    fn results(&self, turn: &Turn) -> Vec<Value> {
        turn.calls
            .iter()
            .zip(&turn.answers)
            .map(|(c, a)| json!({"type": "function_call_output", "call_id": c.id, "output": a.content}))
            .collect()
    }

    fn json(&self, turn: &Turn, k: usize) -> String {
        response(k, "completed", output(turn, k)).to_string()
    }

    fn sse(&self, turn: &Turn, s: &StreamSpec, cuts: &[Vec<usize>], k: usize) -> Vec<String> {
        let mut frames = Vec::new();
        let mut push = |kind: &str, fields: Value| {
            let mut data = Map::new();
            data.insert("type".into(), json!(kind));
            if let Value::Object(fields) = fields {
                data.extend(fields);
            }
            data.insert("sequence_number".into(), json!(frames.len()));
            frames.push(format!("event: {kind}\ndata: {}\n\n", Value::Object(data)));
        };
        let opening = response(k, "in_progress", Vec::new());
        push("response.created", json!({"response": opening}));
        push("response.in_progress", json!({"response": opening}));
        let mut index = 0;
        if let Some(text) = &turn.text {
            let id = format!("msg_gen{k}");
            push(
                "response.output_item.added",
                json!({"output_index": index,
                "item": {"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []}}),
            );
            let at = |extra: Value| {
                let mut v = json!({"item_id": id, "output_index": index, "content_index": 0});
                if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
                    v.extend(extra);
                }
                v
            };
            push(
                "response.content_part.added",
                at(json!({"part": {"type": "output_text", "annotations": [], "text": ""}})),
            );
            for piece in split_text(text, &s.text_cuts, s.every_char) {
                push(
                    "response.output_text.delta",
                    at(json!({"delta": piece, "logprobs": []})),
                );
            }
            push("response.output_text.done", at(json!({"text": text})));
            push(
                "response.content_part.done",
                at(json!({"part": {"type": "output_text", "annotations": [], "text": text}})),
            );
            push(
                "response.output_item.done",
                json!({"output_index": index, "item": message_item(k, text)}),
            );
            index += 1;
        }
        for (i, c) in turn.calls.iter().enumerate() {
            let id = item_id(&c.id);
            push(
                "response.output_item.added",
                json!({"output_index": index,
                "item": call_item(&c.id, &c.name, "", "in_progress")}),
            );
            if !c.text.is_empty() {
                for piece in split_text(&c.text, &cuts[i], s.every_char) {
                    push(
                        "response.function_call_arguments.delta",
                        json!({"item_id": id, "output_index": index, "delta": piece}),
                    );
                }
            }
            push(
                "response.function_call_arguments.done",
                json!({"item_id": id, "output_index": index, "arguments": c.text}),
            );
            push(
                "response.output_item.done",
                json!({"output_index": index,
                "item": call_item(&c.id, &c.name, &c.text, "completed")}),
            );
            index += 1;
        }
        push(
            "response.completed",
            json!({"response": response(k, "completed", output(turn, k))}),
        );
        frames
    }
}
