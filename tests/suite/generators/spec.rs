//! What is drawn for one cassette, before a [`Writer`](super::Writer) writes it out: the same
//! draw for every provider (fields that do not apply to a provider are ignored by its writer),
//! so that a new provider gets the whole distribution, shrinking included, for free.

use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};
use tooltape::cassette::ToolSim;
use tooltape::provider::Provider;

use super::generated::{Generated, WRITERS, writer};

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
    let id_len = writer(provider).id_format().1;
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

/// A random correct cassette of any provider, each as likely (in [`WRITERS`] order, so a
/// persisted seed draws the same cassette as before a provider is added at the end).
pub fn any_cassette() -> impl Strategy<Value = Generated> {
    Union::new(WRITERS.iter().map(|w| cassette(w.provider()).boxed()))
}
