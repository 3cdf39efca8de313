//! Proptest strategies for random, correct cassettes of every provider.
//!
//! [`cassette`] draws a [`Spec`] (tools with simulated latency, failures and `sequential`; 1–4
//! tool turns of 1–8 calls each, then a final text answer; JSON or SSE responses with a random
//! chunking) and [`Generated::new`] writes it out as a [`CassetteFile`] the way the providers
//! and a correct loop would: request `k` carries the `k` previous turns, every call answered
//! once, in call order, a failing tool with its `fails` message (`is_error: true` for
//! Anthropic). The wire JSON is written here from the protocol notes (reference A3–A5, C3–C5,
//! E), never with tooltape's own encoders, so the other modules can use it as an oracle.
//!
//! Every stream chunking below is one that a real server produces; each says who produces it.
//! The one exception, interleaved OpenAI deltas, is kept as a client-robustness case and says
//! so.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};
use tooltape::Cassette;
use tooltape::cassette::{
    CassetteFile, Interaction, RecordedRequest, RecordedResponse, ResponseBody, Source, SourceKind,
    ToolSim,
};
use tooltape::provider::Provider;

/// A proptest config with `cases` cases, unless `PROPTEST_CASES` is set: then the variable
/// wins. (`ProptestConfig::with_cases` would override the variable, because
/// `ProptestConfig::default()` has already read it.)
pub fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

/// The reverse-call-order step a cassette without latencies gets (DESIGN §2, tool endpoints).
pub const DEFAULT_STEP_MS: u64 = 50;

// ---------------------------------------------------------------------------------------------
// What is drawn

/// Everything drawn for one cassette, before it is written out.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The wire format.
    pub provider: Provider,
    /// Whether every response is a stream (the loop sends one `stream` setting throughout).
    pub streaming: bool,
    /// A system prompt (OpenAI: a `system` message; Anthropic: the top-level field).
    pub system: Option<String>,
    /// The user's prompt.
    pub prompt: String,
    /// Send the prompt as one text part instead of a string.
    pub prompt_as_parts: bool,
    /// Tool names (made unique) and their simulation settings.
    pub tools: Vec<(String, ToolSim)>,
    /// The tool turns.
    pub turns: Vec<TurnSpec>,
    /// The final answer.
    pub final_text: String,
    /// How the final answer streams.
    pub final_stream: StreamSpec,
    /// The cassette's `expect_concurrency`.
    pub expect_concurrency: bool,
}

/// One model turn with tool calls.
#[derive(Debug, Clone)]
pub struct TurnSpec {
    /// A thinking block with its signature (Anthropic only; ignored for OpenAI).
    pub thinking: Option<(String, String)>,
    /// Text before the calls.
    pub text: Option<String>,
    /// The calls, 1–8.
    pub calls: Vec<CallSpec>,
    /// How the response streams.
    pub stream: StreamSpec,
}

/// One call as drawn.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// Index into the tools (modulo their number).
    pub tool: usize,
    /// The random part of the id.
    pub id_body: String,
    /// The argument object.
    pub args: Map<String, Value>,
    /// How the model wrote the arguments.
    pub style: ArgStyle,
    /// The tool's result, when it does not fail.
    pub result: ResultSpec,
    /// Where the arguments text is cut into stream fragments (char positions, modulo).
    pub cuts: Vec<usize>,
}

/// How arguments are written as JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgStyle {
    /// `{"city":"Paris"}` (OpenAI's usual output).
    Compact,
    /// `{"city": "Paris"}` (Anthropic's `partial_json`, also seen from gpt-4o).
    Spaced,
    /// Spaced with non-ASCII as `\uXXXX` escapes (Python's `json.dumps` default, used by
    /// servers that render tool calls with it); cuts can then fall inside an escape.
    AsciiEscaped,
}

/// A tool's successful result.
#[derive(Debug, Clone)]
pub enum ResultSpec {
    /// A string.
    Text(String),
    /// An array of text parts.
    Parts(Vec<String>),
}

/// How one response streams. Fields that do not apply to a provider are ignored.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    /// OpenAI: how the calls' deltas are laid out.
    pub layout: Layout,
    /// OpenAI: every call at `index` 0, told apart by their ids.
    pub index0: bool,
    /// OpenAI: the first call's header rides in the chunk that carries the role.
    pub call_with_role: bool,
    /// OpenAI: the last argument fragment rides in the chunk with `finish_reason`.
    pub fragment_with_finish: bool,
    /// OpenAI: `finish_reason: "stop"` although there are tool calls.
    pub finish_stop: bool,
    /// OpenAI: a usage chunk with `"choices": []` before `[DONE]`.
    pub usage_chunk: bool,
    /// Where empty deltas are inserted (positions, modulo).
    pub empty_deltas: Vec<usize>,
    /// Cut text and arguments at every character instead of at `cuts`.
    pub every_char: bool,
    /// Anthropic: `ping` events between blocks.
    pub pings_between: bool,
    /// Anthropic: the first `input_json_delta` of each call is `""`.
    pub empty_first_json: bool,
    /// Anthropic: `data:` JSON padded with trailing spaces.
    pub padded: bool,
    /// Where text is cut (char positions, modulo).
    pub text_cuts: Vec<usize>,
    /// The order of interleaved deltas (picks, modulo the calls with deltas left).
    pub picks: Vec<usize>,
}

/// OpenAI stream layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One call after another: header (`index`, `id`, `type`, `name`, `arguments: ""`) then
    /// argument fragments with only `index` (api.openai.com; reference A4 rules 2–4).
    Sequential,
    /// Deltas of different calls interleaved. No OpenAI capture shows this; the spec does
    /// not forbid it and clients must key by `index`, so it is kept as a client-robustness case.
    Interleaved,
    /// Each call whole in one chunk, with the role repeated and `content: ""` (Ollama's
    /// compat layer, reference E2).
    Whole,
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z]{1,8}",
        1 => Just("Zürich".to_owned()),
        1 => Just("東京".to_owned()),
        1 => Just("🦀".to_owned()),
        1 => Just("naïve café".to_owned()),
        1 => Just("a \"quoted\" \\ back".to_owned()),
        1 => Just("tab\there\nnew line".to_owned()),
    ]
}

fn sentence() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 1..6).prop_map(|w| w.join(" "))
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z_]{1,10}",
        1 => Just("städte".to_owned()),
        1 => Just("名前".to_owned()),
        1 => Just("with space".to_owned()),
        1 => Just(String::new()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        word().prop_map(Value::String),
        Just(Value::String(String::new())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An argument object: empty, flat or nested, with unicode keys and values.
pub fn arguments() -> impl Strategy<Value = Map<String, Value>> {
    prop_oneof![
        1 => Just(Map::new()),
        4 => proptest::collection::vec((key(), json_value()), 1..5)
            .prop_map(|kv| kv.into_iter().collect()),
    ]
}

fn tool_sim() -> impl Strategy<Value = ToolSim> {
    (
        proptest::option::weighted(0.7, 0u64..400),
        proptest::option::weighted(
            0.2,
            prop_oneof![
                Just("connection refused".to_owned()),
                Just("Zeitüberschreitung nach 30 s".to_owned()),
                sentence(),
            ],
        ),
        proptest::bool::weighted(0.25),
    )
        .prop_map(|(latency_ms, fails, sequential)| ToolSim {
            latency_ms,
            fails,
            hangs: false,
            sequential,
        })
}

fn arg_style() -> impl Strategy<Value = ArgStyle> {
    prop_oneof![
        Just(ArgStyle::Compact),
        Just(ArgStyle::Spaced),
        Just(ArgStyle::AsciiEscaped)
    ]
}

fn result_spec() -> impl Strategy<Value = ResultSpec> {
    prop_oneof![
        3 => sentence().prop_map(ResultSpec::Text),
        1 => proptest::collection::vec(sentence(), 1..3).prop_map(ResultSpec::Parts),
    ]
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(any::<usize>(), 0..6)
}

fn call_spec(provider: Provider) -> impl Strategy<Value = CallSpec> {
    let id_len = match provider {
        Provider::OpenAiChat => 24,
        Provider::Anthropic => 22,
    };
    (
        any::<usize>(),
        proptest::string::string_regex(&format!("[A-Za-z0-9]{{{id_len}}}")).unwrap(),
        arguments(),
        arg_style(),
        result_spec(),
        cuts(),
    )
        .prop_map(|(tool, id_body, args, style, result, cuts)| CallSpec {
            tool,
            id_body,
            args,
            style,
            result,
            cuts,
        })
}

fn stream_spec() -> impl Strategy<Value = StreamSpec> {
    (
        prop_oneof![
            3 => Just(Layout::Sequential),
            1 => Just(Layout::Interleaved),
            1 => Just(Layout::Whole)
        ],
        proptest::bool::weighted(0.25),
        proptest::bool::weighted(0.25),
        proptest::bool::weighted(0.25),
        proptest::bool::weighted(0.1),
        any::<bool>(),
        proptest::collection::vec(any::<usize>(), 0..3),
        proptest::bool::weighted(0.15),
        (
            any::<bool>(),
            proptest::bool::weighted(0.8),
            any::<bool>(),
            cuts(),
            proptest::collection::vec(any::<usize>(), 0..40),
        ),
    )
        .prop_map(
            |(
                layout,
                index0,
                call_with_role,
                fragment_with_finish,
                finish_stop,
                usage_chunk,
                empty_deltas,
                every_char,
                (pings_between, empty_first_json, padded, text_cuts, picks),
            )| StreamSpec {
                layout,
                index0,
                call_with_role,
                fragment_with_finish,
                finish_stop,
                usage_chunk,
                empty_deltas,
                every_char,
                pings_between,
                empty_first_json,
                padded,
                text_cuts,
                picks,
            },
        )
}

fn turn_spec(provider: Provider) -> impl Strategy<Value = TurnSpec> {
    (
        proptest::option::weighted(0.3, (sentence(), "[A-Za-z0-9+/]{16,40}")),
        proptest::option::weighted(0.5, sentence()),
        proptest::collection::vec(call_spec(provider), 1..=8),
        stream_spec(),
    )
        .prop_map(|(thinking, text, calls, stream)| TurnSpec {
            thinking,
            text,
            calls,
            stream,
        })
}

fn tool_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,12}"
}

/// The drawn parts of a cassette of `provider`.
pub fn spec(provider: Provider) -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        proptest::option::of(sentence()),
        sentence(),
        any::<bool>(),
        proptest::collection::vec((tool_name(), tool_sim()), 1..=5),
        proptest::collection::vec(turn_spec(provider), 1..=4),
        sentence(),
        stream_spec(),
        any::<bool>(),
    )
        .prop_map(
            move |(
                streaming,
                system,
                prompt,
                prompt_as_parts,
                tools,
                turns,
                final_text,
                final_stream,
                expect_concurrency,
            )| Spec {
                provider,
                streaming,
                system,
                prompt,
                prompt_as_parts,
                tools,
                turns,
                final_text,
                final_stream,
                expect_concurrency,
            },
        )
}

/// A random correct cassette of `provider`.
pub fn cassette(provider: Provider) -> impl Strategy<Value = Generated> {
    spec(provider).prop_map(Generated::new)
}

/// A random correct cassette of either provider.
pub fn any_cassette() -> impl Strategy<Value = Generated> {
    prop_oneof![
        cassette(Provider::OpenAiChat),
        cassette(Provider::Anthropic)
    ]
}

// ---------------------------------------------------------------------------------------------
// What is written

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
            .map(|t| {
                let calls: Vec<Call> = t
                    .calls
                    .iter()
                    .map(|c| {
                        serial += 1;
                        let (name, _) = &tools[c.tool % tools.len()];
                        let value = Value::Object(c.args.clone());
                        Call {
                            id: unique_id(provider, &c.id_body, serial),
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
                                content: match &c.result {
                                    ResultSpec::Text(t) => json!(format!("{t} ({})", call.id)),
                                    ResultSpec::Parts(parts) => {
                                        let mut parts: Vec<Value> = parts
                                            .iter()
                                            .map(|p| json!({"type": "text", "text": p}))
                                            .collect();
                                        parts.push(
                                            json!({"type": "text", "text": format!(" ({})", call.id)}),
                                        );
                                        Value::Array(parts)
                                    }
                                },
                                is_error: false,
                            },
                        }
                    })
                    .collect();
                Turn {
                    thinking: match provider {
                        Provider::Anthropic => t.thinking.clone(),
                        Provider::OpenAiChat => None,
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
                    notes: Some("generated by tests/suite/generators.rs".to_owned()),
                },
                expect_concurrency: false,
                tools: tools.into_iter().collect(),
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
                    synthetic: false,
                },
                response: RecordedResponse {
                    status: 200,
                    body: generated.response(k),
                    synthetic: false,
                },
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

    /// The JSON of request `k` (carrying the `k` previous turns).
    #[must_use]
    pub fn request(&self, k: usize) -> Value {
        let spec = &self.spec;
        let prompt = if spec.prompt_as_parts {
            json!([{"type": "text", "text": spec.prompt}])
        } else {
            json!(spec.prompt)
        };
        let mut messages = Vec::new();
        match self.provider() {
            Provider::OpenAiChat => {
                if let Some(system) = &spec.system {
                    messages.push(json!({"role": "system", "content": system}));
                }
                messages.push(json!({"role": "user", "content": prompt}));
                for turn in &self.turns[..k] {
                    messages.push(self.echo(turn));
                    messages.extend(self.results(turn));
                }
                let tools: Vec<Value> = self
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
            Provider::Anthropic => {
                messages.push(json!({"role": "user", "content": prompt}));
                for turn in &self.turns[..k] {
                    messages.push(self.echo(turn));
                    messages.extend(self.results(turn));
                }
                let tools: Vec<Value> = self
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
                if self.turns.iter().any(|t| t.thinking.is_some()) {
                    body["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
                }
                if spec.streaming {
                    body["stream"] = json!(true);
                }
                body
            }
        }
    }

    /// The assistant message that echoes `turn` back, as a correct loop sends it.
    #[must_use]
    pub fn echo(&self, turn: &Turn) -> Value {
        match self.provider() {
            Provider::OpenAiChat => {
                let calls: Vec<Value> = turn
                    .calls
                    .iter()
                    .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.text}}))
                    .collect();
                json!({"role": "assistant", "content": turn.text, "tool_calls": calls})
            }
            Provider::Anthropic => {
                let mut content = Vec::new();
                if let Some((thinking, signature)) = &turn.thinking {
                    content.push(
                        json!({"type": "thinking", "thinking": thinking, "signature": signature}),
                    );
                }
                if let Some(text) = &turn.text {
                    content.push(json!({"type": "text", "text": text}));
                }
                for c in &turn.calls {
                    content.push(
                        json!({"type": "tool_use", "id": c.id, "name": c.name, "input": c.args}),
                    );
                }
                json!({"role": "assistant", "content": content})
            }
        }
    }

    /// The messages that answer `turn`, as a correct loop sends them.
    #[must_use]
    pub fn results(&self, turn: &Turn) -> Vec<Value> {
        match self.provider() {
            Provider::OpenAiChat => turn
                .calls
                .iter()
                .zip(&turn.answers)
                .map(|(c, a)| json!({"role": "tool", "tool_call_id": c.id, "content": a.content}))
                .collect(),
            Provider::Anthropic => {
                let blocks: Vec<Value> = turn
                    .calls
                    .iter()
                    .zip(&turn.answers)
                    .map(|(c, a)| {
                        let mut block = json!({"type": "tool_result", "tool_use_id": c.id, "content": a.content});
                        if a.is_error {
                            block["is_error"] = json!(true);
                        }
                        block
                    })
                    .collect();
                vec![json!({"role": "user", "content": blocks})]
            }
        }
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
        match (self.provider(), self.spec.streaming) {
            (Provider::OpenAiChat, false) => ResponseBody::Json {
                text: openai_json(&turn, k),
            },
            (Provider::OpenAiChat, true) => ResponseBody::Sse {
                frames: openai_sse(&turn, stream, &cuts, k),
            },
            (Provider::Anthropic, false) => ResponseBody::Json {
                text: anthropic_json(&turn, k),
            },
            (Provider::Anthropic, true) => ResponseBody::Sse {
                frames: anthropic_sse(&turn, stream, &cuts, k),
            },
        }
    }
}

/// `call_` + 24 alphanumerics (OpenAI, reference A3) or `toolu_01` + 22 (Anthropic, C3), the
/// last three made unique from `serial` so shrinking cannot produce two equal ids.
fn unique_id(provider: Provider, body: &str, serial: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut tail = String::new();
    let mut n = serial;
    for _ in 0..3 {
        tail.insert(0, DIGITS[n % 62] as char);
        n /= 62;
    }
    let keep = &body[..body.len() - 3];
    match provider {
        Provider::OpenAiChat => format!("call_{keep}{tail}"),
        Provider::Anthropic => format!("toolu_01{keep}{tail}"),
    }
}

/// A JSON text: compact or spaced (`": "`, `", "`), non-ASCII raw or as `\uXXXX`.
#[must_use]
pub fn write_json(value: &Value, spaced: bool, ascii: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, value, spaced, ascii);
    out
}

fn write_value(out: &mut String, value: &Value, spaced: bool, ascii: bool) {
    let (colon, comma) = if spaced { (": ", ", ") } else { (":", ",") };
    match value {
        Value::String(s) => write_string(out, s, ascii),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_value(out, item, spaced, ascii);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write_string(out, k, ascii);
                out.push_str(colon);
                write_value(out, v, spaced, ascii);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Cuts `s` at character boundaries: every one, or those `cuts` pick. Never an empty piece
/// unless `s` is empty.
#[must_use]
pub fn split_text(s: &str, cuts: &[usize], every_char: bool) -> Vec<String> {
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).collect();
    let mut points: Vec<usize> = if every_char {
        bounds.clone()
    } else if bounds.is_empty() {
        Vec::new()
    } else {
        cuts.iter().map(|c| bounds[c % bounds.len()]).collect()
    };
    points.sort_unstable();
    points.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for p in points {
        pieces.push(s[start..p].to_owned());
        start = p;
    }
    pieces.push(s[start..].to_owned());
    pieces
}

// ---------------------------------------------------------------------------------------------
// OpenAI Chat

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

// ---------------------------------------------------------------------------------------------
// Anthropic

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

/// The text of a result content: a string as-is, text parts joined (the oracle's own reading,
/// independent of `tooltape::transcript`).
#[must_use]
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
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

#[test]
fn ids_have_the_providers_real_format() {
    let openai = unique_id(Provider::OpenAiChat, "abcdefghijklmnopqrstuvwx", 1);
    assert_eq!(openai, "call_abcdefghijklmnopqrstu001");
    assert_eq!(openai.len(), 5 + 24);
    let anthropic = unique_id(Provider::Anthropic, "abcdefghijklmnopqrstuv", 62 * 62 + 1);
    assert_eq!(anthropic, "toolu_01abcdefghijklmnopqrs101");
    assert_eq!(anthropic.len(), 8 + 22);
}

#[test]
fn text_is_cut_only_between_characters() {
    assert_eq!(split_text("aé🦀", &[], true), vec!["a", "é", "🦀"]);
    assert_eq!(split_text("aé🦀", &[0, 0], false), vec!["a", "é🦀"]);
    assert_eq!(split_text("", &[3], false), vec![""]);
    assert_eq!(
        write_json(&json!({"k": "ü🦀\n"}), true, true),
        r#"{"k": "\u00fc\ud83e\udd80\n"}"#
    );
}
