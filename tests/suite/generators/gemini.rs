//! Gemini written from the protocol notes (reference §D, §F4): `contents` with `model`
//! contents of `functionCall` parts (no ids) and one `user` content of `functionResponse`
//! parts per turn (each named after its tool, in call order, a failure as `{"error": …}`),
//! JSON responses and `?alt=sse` streams of whole `GenerateContentResponse` chunks.
//!
//! Stream chunkings, each as a real server sends it: every part in one chunk (2.5 models:
//! both calls of the recorded fantasy stream in one chunk), one chunk per part (Gemini 3 Pro,
//! reference PROVENANCE), and Gemini 3's argument streaming on Vertex AI (`partialArgs`
//! fragments at JSON paths, string values cut anywhere, `functionCall: {}` closing each call;
//! Vercel's recorded chunks), with text cut into chunks in every case.

use serde_json::{Map, Value, json};
use tooltape::provider::Provider;

use super::generated::{Generated, Turn, Writer};
use super::spec::{Layout, StreamSpec};
use super::text::{content_text, split_text};

/// Gemini's [`Writer`].
pub struct Gemini;

const MODEL: &str = "gemini-2.5-flash";

impl Writer for Gemini {
    fn provider(&self) -> Provider {
        Provider::Gemini
    }

    /// Calls have no id on this wire; the generator names them by position instead.
    fn id_format(&self) -> (&'static str, usize) {
        ("", 3)
    }

    fn positional_ids(&self) -> bool {
        true
    }

    fn thinking(&self) -> bool {
        false
    }

    fn result_content(&self, content: &Value) -> Value {
        json!({ "result": content_text(content) })
    }

    fn path(&self, generated: &Generated) -> Option<String> {
        Some(if generated.spec.streaming {
            format!("/v1beta/models/{MODEL}:streamGenerateContent?alt=sse")
        } else {
            format!("/v1beta/models/{MODEL}:generateContent")
        })
    }

    fn request(&self, generated: &Generated, k: usize) -> Value {
        let mut contents =
            vec![json!({"role": "user", "parts": [{"text": generated.spec.prompt}]})];
        for turn in &generated.turns[..k] {
            contents.push(self.echo(turn));
            contents.extend(self.results(turn));
        }
        let declarations: Vec<Value> = generated
            .file
            .tools
            .keys()
            .map(|name| {
                json!({"name": name, "description": format!("The {name} tool"),
                    "parameters": {"type": "OBJECT", "properties": {}}})
            })
            .collect();
        let mut body =
            json!({"contents": contents, "tools": [{"functionDeclarations": declarations}]});
        if generated.spec.streaming {
            // The streams may carry `partialArgs`, which the API only sends to a request that
            // asked for argument streaming (tooltape gives others whole calls).
            body["toolConfig"] =
                json!({"functionCallingConfig": {"streamFunctionCallArguments": true}});
        }
        if let Some(system) = &generated.spec.system {
            body["systemInstruction"] = json!({"parts": [{"text": system}], "role": "user"});
        }
        body
    }

    fn echo(&self, turn: &Turn) -> Value {
        json!({"role": "model", "parts": parts(turn)})
    }

    fn results(&self, turn: &Turn) -> Vec<Value> {
        let responses: Vec<Value> = turn
            .calls
            .iter()
            .zip(&turn.answers)
            .map(|(c, a)| {
                let response = if a.is_error {
                    json!({ "error": content_text(&a.content) })
                } else {
                    a.content.clone()
                };
                json!({"functionResponse": {"name": c.name, "response": response}})
            })
            .collect();
        vec![json!({"role": "user", "parts": responses})]
    }

    fn json(&self, turn: &Turn, k: usize) -> String {
        let mut candidate = json!({"content": {"parts": parts(turn), "role": "model"},
            "finishReason": "STOP", "index": 0});
        if !turn.calls.is_empty() {
            candidate["finishMessage"] = json!("Model generated function call(s).");
        }
        json!({"candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 125, "candidatesTokenCount": 36, "totalTokenCount": 161},
            "modelVersion": MODEL, "responseId": format!("gen-{k}")})
        .to_string()
    }

    fn sse(&self, turn: &Turn, s: &StreamSpec, cuts: &[Vec<usize>], k: usize) -> Vec<String> {
        let chunk = |parts: Vec<Value>, last: bool| {
            let mut candidate = json!({"content": {"parts": parts, "role": "model"}});
            if last {
                candidate["finishReason"] = json!("STOP");
                candidate["index"] = json!(0);
            }
            let data = json!({"candidates": [candidate],
                "usageMetadata": {"promptTokenCount": 125, "totalTokenCount": 161},
                "modelVersion": MODEL, "responseId": format!("gen-{k}")});
            format!("data: {data}\r\n\r\n")
        };
        let mut pieces: Vec<Vec<Value>> = Vec::new();
        if let Some(text) = &turn.text {
            for t in split_text(text, &s.text_cuts, s.every_char) {
                pieces.push(vec![json!({ "text": t })]);
            }
        }
        match s.layout {
            Layout::Whole => {
                let calls: Vec<Value> = turn.calls.iter().map(|c| call(&c.name, &c.args)).collect();
                if !calls.is_empty() {
                    pieces.push(calls);
                }
            }
            Layout::Sequential => {
                for c in &turn.calls {
                    pieces.push(vec![call(&c.name, &c.args)]);
                }
            }
            Layout::Interleaved => {
                for (i, c) in turn.calls.iter().enumerate() {
                    let mut fragments = Vec::new();
                    let cut = cuts.get(i).map_or(&[][..], Vec::as_slice);
                    if leaves(
                        &Value::Object(c.args.clone()),
                        "$",
                        cut,
                        s.every_char,
                        &mut fragments,
                    ) {
                        pieces.push(vec![
                            json!({"functionCall": {"name": c.name, "willContinue": true}}),
                        ]);
                        for f in fragments {
                            pieces.push(vec![
                                json!({"functionCall": {"partialArgs": [f], "willContinue": true}}),
                            ]);
                        }
                        pieces.push(vec![json!({"functionCall": {}})]);
                    } else {
                        pieces.push(vec![call(&c.name, &c.args)]);
                    }
                }
            }
        }
        if pieces.is_empty() {
            pieces.push(vec![json!({"text": ""})]);
        }
        let n = pieces.len();
        pieces
            .into_iter()
            .enumerate()
            .map(|(i, p)| chunk(p, i + 1 == n))
            .collect()
    }
}

fn call(name: &str, args: &Map<String, Value>) -> Value {
    json!({"functionCall": {"name": name, "args": args}})
}

fn parts(turn: &Turn) -> Vec<Value> {
    let mut parts = Vec::new();
    if let Some(text) = &turn.text {
        parts.push(json!({ "text": text }));
    }
    parts.extend(turn.calls.iter().map(|c| call(&c.name, &c.args)));
    parts
}

/// The `partialArgs` fragments of `value` at `path`: one per leaf, strings cut at `cuts`.
/// `false` when the value has an empty object or array, which no fragment can express.
fn leaves(value: &Value, path: &str, cuts: &[usize], every: bool, out: &mut Vec<Value>) -> bool {
    match value {
        Value::Object(map) if map.is_empty() => path == "$",
        Value::Array(items) if items.is_empty() => false,
        Value::Object(map) => map.iter().all(|(k, v)| {
            let quoted = k.replace('\'', "");
            quoted == *k && leaves(v, &format!("{path}['{k}']"), cuts, every, out)
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .all(|(i, v)| leaves(v, &format!("{path}[{i}]"), cuts, every, out)),
        Value::String(s) => {
            let pieces = split_text(s, cuts, every);
            let pieces = if pieces.is_empty() {
                vec![String::new()]
            } else {
                pieces
            };
            let n = pieces.len();
            for (i, p) in pieces.into_iter().enumerate() {
                let mut f = json!({"jsonPath": path, "stringValue": p});
                if i + 1 < n {
                    f["willContinue"] = json!(true);
                }
                out.push(f);
            }
            true
        }
        Value::Number(n) => {
            out.push(json!({"jsonPath": path, "numberValue": n}));
            true
        }
        Value::Bool(b) => {
            out.push(json!({"jsonPath": path, "boolValue": b}));
            true
        }
        Value::Null => {
            out.push(json!({"jsonPath": path, "nullValue": "NULL_VALUE"}));
            true
        }
    }
}
