//! The cassette: one recorded conversation on disk, format version 1.
//!
//! A cassette keeps each recorded response verbatim (the JSON body as text, or the SSE frames
//! with their boundaries), each recorded request as JSON, the per-tool simulation settings and
//! the provenance. [`Cassette::load`] parses and decodes it; [`Cassette::lint`] checks what a
//! replay relies on. `tooltape schema` prints [`schema`].

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::provider::{DecodedRequest, Malformed, Provider, ResponseError, sse};
use crate::transcript::{AssistantTurn, ToolCall, ToolResult};

/// The step between default tool latencies (see [`Cassette::latency`]).
pub const DEFAULT_LATENCY_STEP: Duration = Duration::from_millis(50);

/// The newest format version this build reads.
pub const FORMAT_VERSION: u64 = 1;

/// The on-disk form of a cassette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CassetteFile {
    /// Format version; this build reads `1`.
    pub tooltape: u64,
    /// A short name, unique among the cassettes of a run (defaults to the file stem).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The wire format: `openai-chat` or `anthropic`.
    pub provider: Provider,
    /// What the conversation shows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Where the recording comes from.
    pub source: Source,
    /// The turns' independent calls must run concurrently: sequential execution (TT008) is an
    /// error rather than a warning.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expect_concurrency: bool,
    /// Simulation settings per tool name; tools not listed use the defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, ToolSim>,
    /// Request and response pairs in conversation order; request `k` carries `k` assistant turns.
    pub interactions: Vec<Interaction>,
}

/// Provenance of a cassette.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `recorded` (real provider traffic) or `hand-made`.
    pub kind: SourceKind,
    /// The repository the recording was copied from, e.g. `charmbracelet/fantasy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The file inside that repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The commit it was copied at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The licence of the source, e.g. `MIT`, `Apache-2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The recording format it was imported from (`go-vcr v2 YAML`, `HAR 1.2`, …), or
    /// `tooltape record`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// What was changed or added when converting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Whether a cassette is real traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Recorded from a real provider.
    Recorded,
    /// Written by hand for a shape no recording has.
    HandMade,
}

/// How the tool endpoints and the reference loop simulate one tool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolSim {
    /// How long a call takes. Without it, a turn's calls finish in reverse call order
    /// (50 ms steps, the first call last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// The tool fails with this error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fails: Option<String>,
    /// The tool never answers.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hangs: bool,
    /// Calls to this tool have side effects: run them one at a time, in call order.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sequential: bool,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(b: &bool) -> bool {
    !*b
}

/// One request and the response it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interaction {
    /// The request the recording client sent.
    pub request: RecordedRequest,
    /// The response it got.
    pub response: RecordedResponse,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// The JSON body.
    pub body: Value,
    /// Made by hand (e.g. the follow-up of a recording that has only the response).
    #[serde(default, skip_serializing_if = "is_false")]
    pub synthetic: bool,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, verbatim.
    pub body: ResponseBody,
    /// Made by hand (e.g. a final answer added after a recording that ends with tool calls).
    #[serde(default, skip_serializing_if = "is_false")]
    pub synthetic: bool,
    /// For a stream recorded by `tooltape record`: the milliseconds before each frame since
    /// the previous one (the first frame: since the request reached the upstream), kept for
    /// pacing a replay.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frame_delays_ms: Vec<u64>,
}

/// A response body, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseBody {
    /// A JSON body, as the exact text that was received.
    Json {
        /// The body text.
        text: String,
    },
    /// A server-sent event stream, one entry per frame, each with its trailing blank line.
    Sse {
        /// The frames, in order.
        frames: Vec<String>,
    },
}

impl ResponseBody {
    /// Whether the body is a stream.
    #[must_use]
    pub fn is_stream(&self) -> bool {
        matches!(self, ResponseBody::Sse { .. })
    }
}

/// Why a cassette could not be used: the file, then what is wrong with it.
///
/// Like every error of this crate, its message is whole on its own: each level displays the
/// one below and does not chain it as a `source()`, so a printer that walks the chain shows it
/// once (`cassette `x.json`: cannot read the file: No such file or directory`). The typed
/// causes stay reachable through [`CassetteError::kind`].
#[derive(Debug, Error)]
#[error("cassette `{}`: {kind}", path.display())]
pub struct CassetteError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: CassetteErrorKind,
}

/// The ways a cassette can be unusable.
#[derive(Debug, Error)]
pub enum CassetteErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(std::io::Error),
    /// The file is not JSON; the parser's error names the line and column.
    #[error("not valid JSON: {0}; fix the JSON syntax (a truncated file ends early)")]
    Syntax(serde_json::Error),
    /// No `tooltape` version field.
    #[error(
        "not a tooltape cassette: the top-level `tooltape` version field is missing (recordings from other tools are converted with `tooltape import`)"
    )]
    NotCassette,
    /// A version this build does not read.
    #[error(
        "format version {found} is too new: this tooltape reads version {FORMAT_VERSION}; upgrade tooltape to read it"
    )]
    TooNew {
        /// The version in the file.
        found: u64,
    },
    /// An older version this build does not know.
    #[error("at `tooltape`: unknown format version {found}; this tooltape reads {FORMAT_VERSION}")]
    UnknownVersion {
        /// The version in the file.
        found: u64,
    },
    /// A field does not fit the format.
    #[error("at `{path}`: {error}")]
    Format {
        /// JSON path of the field.
        path: String,
        /// What is wrong.
        error: serde_json::Error,
    },
    /// A recorded response does not decode with the cassette's provider codec.
    #[error(
        "interaction {interaction}: the recorded response does not decode as `{provider}`: {error}"
    )]
    Response {
        /// Interaction index, from 0.
        interaction: usize,
        /// The provider.
        provider: Provider,
        /// What is wrong.
        error: ResponseError,
    },
    /// A recorded request does not decode with the cassette's provider codec.
    #[error(
        "interaction {interaction}: the recorded request does not decode as `{provider}`: {error}"
    )]
    Request {
        /// Interaction index, from 0.
        interaction: usize,
        /// The provider.
        provider: Provider,
        /// What is wrong.
        error: Malformed,
    },
    /// The cassette has no interaction.
    #[error("`interactions` is empty: a cassette needs at least one request and response")]
    Empty,
}

/// One turn of a loaded cassette: the recorded request, decoded, and the response to serve.
#[derive(Debug, Clone)]
pub struct Turn {
    /// The recorded request, decoded.
    pub request: DecodedRequest,
    /// The recorded response as stored.
    pub response: RecordedResponse,
    /// The recorded response, decoded; `None` when it is an error status.
    pub assistant: Option<AssistantTurn>,
    /// The tool calls of `assistant`, in order (kept apart because every request's checks
    /// look them up).
    pub calls: Vec<ToolCall>,
}

/// A loaded, decoded cassette.
#[derive(Debug, Clone)]
pub struct Cassette {
    /// Where it was loaded from (empty for in-memory cassettes).
    pub path: PathBuf,
    /// The file's content.
    pub file: CassetteFile,
    /// The decoded turns, one per interaction.
    pub turns: Vec<Turn>,
}

impl Cassette {
    /// Reads, parses and decodes a cassette file.
    ///
    /// # Errors
    /// The file cannot be read, is not a cassette, is too new, or a recorded body does not
    /// decode; the error names the file and the place.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CassetteError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| CassetteError {
            path: path.to_owned(),
            kind: CassetteErrorKind::Io(e),
        })?;
        Self::from_json(&text, path)
    }

    /// Parses and decodes a cassette from JSON text; `path` is used in errors and for the
    /// default name.
    ///
    /// # Errors
    /// As [`Cassette::load`].
    pub fn from_json(text: &str, path: &Path) -> Result<Self, CassetteError> {
        let err = |kind| CassetteError {
            path: path.to_owned(),
            kind,
        };
        let value: Value =
            serde_json::from_str(text).map_err(|e| err(CassetteErrorKind::Syntax(e)))?;
        match value.get("tooltape") {
            None => return Err(err(CassetteErrorKind::NotCassette)),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v > FORMAT_VERSION => {
                    return Err(err(CassetteErrorKind::TooNew { found: v }));
                }
                _ => {}
            },
            Some(_) => {}
        }
        let mut file: CassetteFile = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            err(CassetteErrorKind::Format {
                path,
                error: e.into_inner(),
            })
        })?;
        if file.tooltape != FORMAT_VERSION {
            return Err(err(CassetteErrorKind::UnknownVersion {
                found: file.tooltape,
            }));
        }
        if file.name.is_empty() {
            file.name = default_name(path);
        }
        Self::from_file(file, path).map_err(err)
    }

    /// Decodes an in-memory cassette.
    ///
    /// # Errors
    /// A recorded body does not decode.
    pub fn from_file(file: CassetteFile, path: &Path) -> Result<Self, CassetteErrorKind> {
        if file.interactions.is_empty() {
            return Err(CassetteErrorKind::Empty);
        }
        let provider = file.provider;
        let mut turns = Vec::with_capacity(file.interactions.len());
        for (i, interaction) in file.interactions.iter().enumerate() {
            let request = provider
                .decode_request(&interaction.request.body)
                .map_err(|error| CassetteErrorKind::Request {
                    interaction: i,
                    provider,
                    error,
                })?;
            let assistant = if (200..300).contains(&interaction.response.status) {
                let decoded = match &interaction.response.body {
                    ResponseBody::Json { text } => provider.decode_response_json(text),
                    ResponseBody::Sse { frames } => {
                        provider.decode_response_sse(&sse::parse_frames(frames))
                    }
                };
                Some(decoded.map_err(|error| CassetteErrorKind::Response {
                    interaction: i,
                    provider,
                    error,
                })?)
            } else {
                None
            };
            let calls = assistant
                .as_ref()
                .map(|a| a.tool_calls().cloned().collect())
                .unwrap_or_default();
            turns.push(Turn {
                request,
                response: interaction.response.clone(),
                assistant,
                calls,
            });
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            turns,
        })
    }

    /// The cassette's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// The cassette's provider.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.file.provider
    }

    /// Whether the first response is streamed.
    #[must_use]
    pub fn streaming(&self) -> bool {
        self.turns[0].response.body.is_stream()
    }

    /// The simulation settings of a tool (defaults when the cassette lists none).
    #[must_use]
    pub fn tool(&self, name: &str) -> ToolSim {
        self.file.tools.get(name).cloned().unwrap_or_default()
    }

    /// How long call `call` of response `turn` takes: the tool's `latency_ms`, else the
    /// default that makes a turn's calls finish in reverse call order (the first call last,
    /// in steps of [`DEFAULT_LATENCY_STEP`]), so a loop that pairs results by completion
    /// order is caught.
    #[must_use]
    pub fn latency(&self, turn: usize, call: &ToolCall) -> Duration {
        if let Some(ms) = self.tool(&call.name).latency_ms {
            return Duration::from_millis(ms);
        }
        let calls = self.calls(turn);
        let n = calls.len();
        let i = calls.iter().position(|c| c.id == call.id).unwrap_or(0);
        DEFAULT_LATENCY_STEP * u32::try_from(n - i.min(n)).unwrap_or(1)
    }

    /// The calls of response `turn`, or none.
    #[must_use]
    pub fn calls(&self, turn: usize) -> &[ToolCall] {
        self.turns.get(turn).map_or(&[], |t| &t.calls)
    }

    /// The recorded result for call `call_id` of response `turn`: what request `turn + 1`
    /// answered it with.
    #[must_use]
    pub fn recorded_result(&self, turn: usize, call_id: &str) -> Option<ToolResult> {
        let next = self.turns.get(turn + 1)?;
        next.request
            .conversation
            .messages
            .iter()
            .flat_map(|m| m.tool_results())
            .map(|(_, r)| r)
            .find(|r| r.call_id == call_id)
            .cloned()
    }

    /// The first user message's text.
    #[must_use]
    pub fn prompt(&self) -> String {
        self.turns[0]
            .request
            .conversation
            .first_user_text()
            .unwrap_or_default()
    }

    /// Lints the cassette: problems that make it unfit for replay although it parses.
    #[must_use]
    pub fn lint(&self) -> Vec<Lint> {
        let mut lints = Vec::new();
        let mut seen = HashSet::new();
        for (t, turn) in self.turns.iter().enumerate() {
            let calls = self.calls(t);
            for call in calls {
                if !seen.insert(call.id.clone()) {
                    lints.push(Lint::new(t, format!("call id `{}` is used more than once in the cassette; ids must be unique", call.id)));
                }
            }
            if !calls.is_empty() && t + 1 < self.turns.len() {
                for call in calls {
                    if self.recorded_result(t, &call.id).is_none() {
                        lints.push(Lint::new(
                            t,
                            format!(
                                "call `{}` ({}) of response {t} is not answered in request {}; add its result to that request",
                                call.id,
                                call.name,
                                t + 1
                            ),
                        ));
                    }
                }
            }
            if turn.request.conversation.assistant_turns() != t {
                lints.push(Lint::new(
                    t,
                    format!(
                        "request {t} carries {} assistant turns; request k must carry the k responses before it",
                        turn.request.conversation.assistant_turns()
                    ),
                ));
            }
            if turn.assistant.is_none() && t + 1 < self.turns.len() {
                lints.push(Lint::new(
                    t,
                    format!(
                        "response {t} is an error (status {}) but the conversation goes on",
                        turn.response.status
                    ),
                ));
            }
        }
        if let Some(last) = self.turns.last()
            && last
                .assistant
                .as_ref()
                .is_some_and(|a| a.tool_calls().next().is_some())
        {
            lints.push(Lint::new(
                self.turns.len() - 1,
                "the last response asks for tools, so a correct loop sends a request the cassette cannot answer; add the final response".to_owned(),
            ));
        }
        lints
    }
}

/// A problem `tooltape validate` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// The interaction, from 0.
    pub interaction: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Lint {
    fn new(interaction: usize, message: String) -> Self {
        Self {
            interaction,
            message,
        }
    }
}

fn default_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cassette".to_owned())
}

/// The JSON Schema of the cassette format.
#[must_use]
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(CassetteFile)).unwrap_or(Value::Null)
}

/// Finds cassette files: each path is a file, or a folder searched recursively for `*.json`
/// (folders named `nonconformant` are skipped: they hold requests, not cassettes). Sorted.
///
/// # Errors
/// A path does not exist or a folder cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CassetteError> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| CassetteError {
            path: path.clone(),
            kind: CassetteErrorKind::Io(e),
        })?;
        if meta.is_dir() {
            walk(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), CassetteError> {
    let entries = std::fs::read_dir(dir).map_err(|e| CassetteError {
        path: dir.to_owned(),
        kind: CassetteErrorKind::Io(e),
    })?;
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "nonconformant") {
                continue;
            }
            walk(&p, found)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            found.push(p);
        }
    }
    Ok(())
}
