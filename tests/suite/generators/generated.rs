//! The driver: a drawn [`Spec`] written out as a cassette, through the [`Writer`] of its
//! provider. What a conversation is (which calls, which results, which tools fail, how long
//! they take) is decided here, for every provider alike; how it looks on the wire is the
//! writer's.
//!
//! To add a provider: write a module next to `openai_chat.rs` with a unit struct that
//! implements [`Writer`] from the provider's protocol notes (request, echo, results, a JSON
//! response and every stream chunking a real server produces), and append it to [`WRITERS`].
//! [`any_cassette`](super::any_cassette) and every property test built on it then draw that
//! provider's cassettes too.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tooltape::Cassette;
use tooltape::cassette::{
    CassetteFile, Interaction, RecordedRequest, RecordedResponse, ResponseBody, Source, SourceKind,
    ToolSim,
};
use tooltape::provider::Provider;

use super::anthropic::Anthropic;
use super::gemini::Gemini;
use super::openai_chat::OpenAiChat;
use super::openai_responses::OpenAiResponses;
use super::spec::{ArgStyle, ResultSpec, Spec, StreamSpec, any_cassette, config};
use super::text::write_json;

/// The reverse-call-order step a cassette without latencies gets (DESIGN §2, tool endpoints).
pub const DEFAULT_STEP_MS: u64 = 50;

/// How one provider writes a correct conversation on the wire. Written from the provider's
/// protocol notes, never with tooltape's own encoders.
pub trait Writer: Sync {
    /// The provider whose wire format this is.
    fn provider(&self) -> Provider;

    /// A call id's fixed prefix and the number of random characters after it.
    fn id_format(&self) -> (&'static str, usize);

    /// Whether the provider's turns carry the drawn thinking blocks.
    fn thinking(&self) -> bool;

    /// The type of a text part in a result (`text`; OpenAI Responses: `input_text`).
    fn text_part(&self) -> &'static str {
        "text"
    }

    /// Whether calls carry no id on the wire, so the generator names them by position
    /// (`turn{k}-call{i}`, as tooltape's transcript does).
    fn positional_ids(&self) -> bool {
        false
    }

    /// A successful result's content on this wire, from the drawn content.
    fn result_content(&self, content: &Value) -> Value {
        content.clone()
    }

    /// The path a request is sent to, when it says what the body does not.
    fn path(&self, generated: &Generated) -> Option<String> {
        let _ = generated;
        None
    }

    /// The JSON of request `k` of `generated` (carrying the `k` previous turns).
    fn request(&self, generated: &Generated, k: usize) -> Value;

    /// The assistant message that echoes `turn` back, as a correct loop sends it.
    fn echo(&self, turn: &Turn) -> Value;

    /// The messages that answer `turn`, as a correct loop sends them.
    fn results(&self, turn: &Turn) -> Vec<Value>;

    /// Response `k` (showing `turn`) as one JSON body.
    fn json(&self, turn: &Turn, k: usize) -> String;

    /// Response `k` (showing `turn`) as SSE frames, chunked as `stream` says; `cuts[i]` are
    /// where call `i`'s arguments are cut.
    fn sse(&self, turn: &Turn, stream: &StreamSpec, cuts: &[Vec<usize>], k: usize) -> Vec<String>;
}

/// Every provider's writer. [`any_cassette`] draws from them in this order.
pub static WRITERS: &[&dyn Writer] = &[&OpenAiChat, &Anthropic, &OpenAiResponses, &Gemini];

/// The writer of `provider`.
///
/// # Panics
/// When no writer is listed for it.
#[must_use]
pub fn writer(provider: Provider) -> &'static dyn Writer {
    WRITERS
        .iter()
        .copied()
        .find(|w| w.provider() == provider)
        .unwrap_or_else(|| {
            panic!(
                "no generator writes `{}`: add its module to generators::WRITERS",
                provider.name()
            )
        })
}

/// One call as served.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The id, in the provider's format.
    pub id: String,
    /// The tool.
    pub name: String,
    /// The argument object.
    pub args: Map<String, Value>,
    /// The arguments as the model wrote them (OpenAI's `arguments`, Anthropic's streamed
    /// `partial_json` joined).
    pub text: String,
}

/// One call's result as a correct loop sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The content (a string, or text parts).
    pub content: Value,
    /// Whether the tool failed.
    pub is_error: bool,
}

/// One tool turn as served.
#[derive(Debug, Clone)]
pub struct Turn {
    /// Thinking text and signature (Anthropic).
    pub thinking: Option<(String, String)>,
    /// Text before the calls.
    pub text: Option<String>,
    /// The calls.
    pub calls: Vec<Call>,
    /// Their results, in call order.
    pub answers: Vec<Answer>,
}

/// A generated cassette with the facts the tests check against.
#[derive(Debug, Clone)]
pub struct Generated {
    /// What was drawn.
    pub spec: Spec,
    /// The tool turns as served.
    pub turns: Vec<Turn>,
    /// The cassette file.
    pub file: CassetteFile,
}

impl Generated {
    /// Writes a spec out as a cassette.
    #[must_use]
    pub fn new(spec: Spec) -> Self {
        let provider = spec.provider;
        let wire = writer(provider);
        let mut names = BTreeSet::new();
        let tools: Vec<(String, ToolSim)> = spec
            .tools
            .iter()
            .enumerate()
            .map(|(i, (name, sim))| {
                let name = if names.contains(name) {
                    format!("{name}_{i}")
                } else {
                    name.clone()
                };
                names.insert(name.clone());
                (name, sim.clone())
            })
            .collect();
        let mut serial = 0usize;
        let turns: Vec<Turn> = spec
            .turns
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let calls: Vec<Call> = t
                    .calls
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        serial += 1;
                        let (name, _) = &tools[c.tool % tools.len()];
                        let value = Value::Object(c.args.clone());
                        Call {
                            id: if wire.positional_ids() {
                                format!("turn{}-call{}", k + 1, i + 1)
                            } else {
                                unique_id(wire, &c.id_body, serial)
                            },
                            name: name.clone(),
                            args: c.args.clone(),
                            text: write_json(
                                &value,
                                c.style != ArgStyle::Compact,
                                c.style == ArgStyle::AsciiEscaped,
                            ),
                        }
                    })
                    .collect();
                let answers = t
                    .calls
                    .iter()
                    .zip(&calls)
                    .map(|(c, call)| {
                        let sim = &tools.iter().find(|(n, _)| *n == call.name).unwrap().1;
                        match &sim.fails {
                            Some(message) => Answer {
                                content: Value::String(message.clone()),
                                is_error: true,
                            },
                            None => Answer {
                                content: wire.result_content(&match &c.result {
                                    ResultSpec::Text(t) => json!(format!("{t} ({})", call.id)),
                                    ResultSpec::Parts(parts) => {
                                        let mut parts: Vec<Value> = parts
                                            .iter()
                                            .map(|p| json!({"type": wire.text_part(), "text": p}))
                                            .collect();
                                        parts.push(
                                            json!({"type": wire.text_part(), "text": format!(" ({})", call.id)}),
                                        );
                                        Value::Array(parts)
                                    }
                                }),
                                is_error: false,
                            },
                        }
                    })
                    .collect();
                Turn {
                    thinking: if wire.thinking() {
                        t.thinking.clone()
                    } else {
                        None
                    },
                    text: t.text.clone(),
                    calls,
                    answers,
                }
            })
            .collect();
        let mut generated = Self {
            spec,
            turns,
            file: CassetteFile {
                tooltape: 1,
                name: String::new(),
                provider,
                description: String::new(),
                source: Source {
                    kind: SourceKind::HandMade,
                    repository: None,
                    path: None,
                    commit: None,
                    license: None,
                    format: None,
                    notes: Some("generated by tests/suite/generators/".to_owned()),
                },
                expect_concurrency: false,
                tools: tools.into_iter().collect(),
                requires: Vec::new(),
                interactions: Vec::new(),
            },
        };
        generated.file.expect_concurrency = generated.spec.expect_concurrency;
        generated.file.name = format!(
            "generated-{}-{}-turns-{}",
            provider.name(),
            generated.turns.len(),
            generated
                .turns
                .iter()
                .map(|t| t.calls.len().to_string())
                .collect::<Vec<_>>()
                .join("-")
        );
        generated.file.description = format!(
            "Generated: calls per turn {}, {}.",
            generated
                .turns
                .iter()
                .map(|t| t.calls.len().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if generated.spec.streaming {
                "streamed"
            } else {
                "not streamed"
            }
        );
        let n = generated.turns.len();
        generated.file.interactions = (0..=n)
            .map(|k| Interaction {
                request: RecordedRequest {
                    body: generated.request(k),
                    path: generated.writer().path(&generated),
                    synthetic: false,
                },
                response: RecordedResponse {
                    status: 200,
                    body: generated.response(k),
                    synthetic: false,
                    frame_delays_ms: Vec::new(),
                },
                faults: Vec::new(),
            })
            .collect();
        generated
    }

    /// The provider.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.spec.provider
    }

    /// The loaded cassette.
    ///
    /// # Panics
    /// When the generated file does not load: a generator bug.
    #[must_use]
    pub fn cassette(&self) -> Cassette {
        Cassette::from_file(self.file.clone(), Path::new("generated.json"))
            .unwrap_or_else(|e| panic!("a generated cassette must load: {e}\n{:#?}", self.file))
    }

    /// The simulation settings of tool `name`.
    #[must_use]
    pub fn sim(&self, name: &str) -> ToolSim {
        self.file.tools.get(name).cloned().unwrap_or_default()
    }

    /// How long call `i` of tool turn `turn` takes: its tool's `latency_ms`, else the
    /// reverse-call-order default (the first call last).
    #[must_use]
    pub fn latency(&self, turn: usize, i: usize) -> Duration {
        let calls = &self.turns[turn].calls;
        let ms = self
            .sim(&calls[i].name)
            .latency_ms
            .unwrap_or(DEFAULT_STEP_MS * (calls.len() - i) as u64);
        Duration::from_millis(ms)
    }

    /// The tool wall time of a correct loop for tool turn `turn`: independent calls all at
    /// once, `sequential` ones one after another alongside them.
    #[must_use]
    pub fn ideal_wall(&self, turn: usize) -> Duration {
        let calls = &self.turns[turn].calls;
        let (mut longest, mut chain) = (Duration::ZERO, Duration::ZERO);
        for (i, call) in calls.iter().enumerate() {
            if self.sim(&call.name).sequential {
                chain += self.latency(turn, i);
            } else {
                longest = longest.max(self.latency(turn, i));
            }
        }
        longest.max(chain)
    }

    /// The provider's writer.
    #[must_use]
    pub fn writer(&self) -> &'static dyn Writer {
        writer(self.provider())
    }

    /// The user's prompt as drawn: a string, or one text part.
    #[must_use]
    pub fn prompt(&self) -> Value {
        if self.spec.prompt_as_parts {
            json!([{"type": "text", "text": self.spec.prompt}])
        } else {
            json!(self.spec.prompt)
        }
    }

    /// The JSON of request `k` (carrying the `k` previous turns).
    #[must_use]
    pub fn request(&self, k: usize) -> Value {
        self.writer().request(self, k)
    }

    /// The assistant message that echoes `turn` back, as a correct loop sends it.
    #[must_use]
    pub fn echo(&self, turn: &Turn) -> Value {
        self.writer().echo(turn)
    }

    /// The messages that answer `turn`, as a correct loop sends them.
    #[must_use]
    pub fn results(&self, turn: &Turn) -> Vec<Value> {
        self.writer().results(turn)
    }

    /// Response `k`: tool turn `k`, or the final answer when `k` is the number of turns.
    #[must_use]
    pub fn response(&self, k: usize) -> ResponseBody {
        let (turn, stream) = match self.turns.get(k) {
            Some(t) => (t.clone(), &self.spec.turns[k].stream),
            None => (
                Turn {
                    thinking: None,
                    text: Some(self.spec.final_text.clone()),
                    calls: Vec::new(),
                    answers: Vec::new(),
                },
                &self.spec.final_stream,
            ),
        };
        let cuts: Vec<Vec<usize>> = match self.spec.turns.get(k) {
            Some(t) => t.calls.iter().map(|c| c.cuts.clone()).collect(),
            None => Vec::new(),
        };
        if self.spec.streaming {
            ResponseBody::Sse {
                frames: self.writer().sse(&turn, stream, &cuts, k),
            }
        } else {
            ResponseBody::Json {
                text: self.writer().json(&turn, k),
            }
        }
    }
}

/// The writer's id prefix and random part, the last three characters made unique from
/// `serial` so shrinking cannot produce two equal ids.
pub(super) fn unique_id(writer: &dyn Writer, body: &str, serial: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut tail = String::new();
    let mut n = serial;
    for _ in 0..3 {
        tail.insert(0, DIGITS[n % 62] as char);
        n /= 62;
    }
    let keep = &body[..body.len() - 3];
    format!("{}{keep}{tail}", writer.id_format().0)
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn every_generated_cassette_loads_and_lints_clean(generated in any_cassette()) {
        let cassette = generated.cassette();
        prop_assert_eq!(cassette.lint(), Vec::new());
        for (k, turn) in generated.turns.iter().enumerate() {
            let ids: Vec<String> = cassette.calls(k).iter().map(|c| c.id.clone()).collect();
            let want: Vec<String> = turn.calls.iter().map(|c| c.id.clone()).collect();
            prop_assert_eq!(ids, want);
        }
        prop_assert!(cassette.calls(generated.turns.len()).is_empty());
    }
}
