//! A loaded cassette: decoded turns, the lookups replay needs, and its lint.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::provider::{DecodedRequest, Provider, sse};
use crate::transcript::{
    AssistantTurn, Conversation, Message, Role, ToolCall, ToolDefinition, ToolResult,
};

use super::*;

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
    /// The id a stateful continuation names this response by, when the provider gives one.
    pub response_id: Option<String>,
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
        Self::load_limited(path, DEFAULT_MAX_FILE_BYTES)
    }

    /// As [`Cassette::load`], refusing files larger than `max_bytes` and anything that is not
    /// a regular file (a FIFO, `/dev/zero`) before reading it.
    ///
    /// # Errors
    /// As [`Cassette::load`], and [`CassetteErrorKind::NotRegularFile`],
    /// [`CassetteErrorKind::TooLarge`], [`CassetteErrorKind::NotUtf8`].
    pub fn load_limited(path: impl AsRef<Path>, max_bytes: u64) -> Result<Self, CassetteError> {
        let path = path.as_ref();
        let text = read_text(path, max_bytes).map_err(|kind| CassetteError {
            path: path.to_owned(),
            kind,
        })?;
        Self::from_json(&text, path)
    }

    /// The loader of `run`, `serve`, `check` and `validate`: [`Cassette::load_limited`], then
    /// [`Cassette::lint`]; a cassette with lint problems is refused, so that what `validate`
    /// passes is exactly what the others replay.
    ///
    /// # Errors
    /// As [`Cassette::load_limited`], and [`CassetteErrorKind::Unfit`] with the problems.
    pub fn load_checked(path: impl AsRef<Path>, max_bytes: u64) -> Result<Self, CassetteError> {
        let path = path.as_ref();
        let cassette = Self::load_limited(path, max_bytes)?;
        let lints = cassette.lint();
        if lints.is_empty() {
            Ok(cassette)
        } else {
            Err(CassetteError {
                path: path.to_owned(),
                kind: CassetteErrorKind::Unfit {
                    name: cassette.name().to_owned(),
                    lints,
                },
            })
        }
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
            let status = interaction.response.status;
            if !(200..=599).contains(&status) {
                return Err(CassetteErrorKind::BadStatus {
                    interaction: i,
                    status,
                });
            }
            let route = interaction.request.route(provider);
            let request = provider
                .codec()
                .decode_request(&route, &interaction.request.body)
                .map_err(|error| CassetteErrorKind::Request {
                    interaction: i,
                    provider,
                    error,
                })?;
            let request = resolve_continuation(&turns, request);
            let assistant = if (200..300).contains(&interaction.response.status) {
                let decoded = match &interaction.response.body {
                    ResponseBody::Json { text } => provider.decode_response_json(text),
                    ResponseBody::Sse { frames } => {
                        provider.decode_response_sse(&sse::parse_frames(frames))
                    }
                };
                let mut turn = decoded.map_err(|error| CassetteErrorKind::Response {
                    interaction: i,
                    provider,
                    error,
                })?;
                turn.number_calls(i + 1);
                Some(turn)
            } else {
                None
            };
            let calls = assistant
                .as_ref()
                .map(|a| a.tool_calls().cloned().collect())
                .unwrap_or_default();
            let codec = provider.codec();
            let response_id = match &interaction.response.body {
                ResponseBody::Json { text } => codec.response_id(Some(text), &[]),
                ResponseBody::Sse { frames } => codec.response_id(None, &sse::parse_frames(frames)),
            };
            turns.push(Turn {
                request,
                response: interaction.response.clone(),
                assistant,
                calls,
                response_id,
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

    /// The optional loop capabilities this cassette tests: those it declares, and
    /// `sequential-tools` when a tool is marked `sequential`.
    #[must_use]
    pub fn requires(&self) -> Vec<Capability> {
        let mut caps = self.file.requires.clone();
        if self.file.tools.values().any(|t| t.sequential) {
            caps.push(Capability::SequentialTools);
        }
        caps.sort_unstable();
        caps.dedup();
        caps
    }

    /// The response (0-based) whose calls include `call_id`, if the cassette served it.
    #[must_use]
    pub fn turn_of_call(&self, call_id: &str) -> Option<usize> {
        self.turns
            .iter()
            .position(|t| t.calls.iter().any(|c| c.id == call_id))
    }

    /// The item with `id` of a served turn, as the provider writes the turn back (an item of
    /// [`crate::provider::Codec::encode_assistant`]'s array), for a request that references
    /// a stored item by id; `None` when no served turn has such an item.
    #[must_use]
    pub fn served_item(&self, id: &str) -> Option<Value> {
        let codec = self.provider().codec();
        self.turns
            .iter()
            .filter_map(|t| t.assistant.as_ref())
            .find_map(|turn| match codec.encode_assistant(turn) {
                Value::Array(items) => items
                    .into_iter()
                    .find(|item| item.get("id").and_then(Value::as_str) == Some(id)),
                _ => None,
            })
    }

    /// The tools the recording declares, in neutral terms: every tool of the recorded
    /// requests in the order they first declare it (the first definition of a name wins), then
    /// any tool a response calls that no request declares (imported recordings may lack the
    /// `tools`), with an object schema that takes anything. What the session's MCP server
    /// lists.
    #[must_use]
    pub fn tool_definitions(&self) -> Vec<ToolDefinition> {
        let codec = self.provider().codec();
        let mut tools: Vec<ToolDefinition> = Vec::new();
        for interaction in &self.file.interactions {
            for tool in codec.declared_tools(&interaction.request.body) {
                if !tools.iter().any(|t| t.name == tool.name) {
                    tools.push(tool);
                }
            }
        }
        for call in self.turns.iter().flat_map(|t| &t.calls) {
            if !tools.iter().any(|t| t.name == call.name) {
                tools.push(ToolDefinition {
                    name: call.name.clone(),
                    description: String::new(),
                    parameters: serde_json::json!({"type": "object"}),
                });
            }
        }
        tools
    }

    /// The calls of response `turn`, or none.
    #[must_use]
    pub fn calls(&self, turn: usize) -> &[ToolCall] {
        self.turns.get(turn).map_or(&[], |t| &t.calls)
    }

    /// The recorded result for call `call_id` of response `turn`: what request `turn + 1`
    /// answered it with.
    #[must_use]
    pub fn recorded_result(&self, turn: usize, call_id: &str) -> Option<&ToolResult> {
        let next = self.turns.get(turn + 1)?;
        next.request
            .conversation
            .messages
            .iter()
            .flat_map(|m| m.tool_results())
            .map(|(_, r)| r)
            .find(|r| r.call_id == call_id)
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

    /// The model the first request named.
    #[must_use]
    pub fn model(&self) -> String {
        self.turns[0].request.model.clone()
    }

    /// Lints the cassette: problems that make it unfit for replay although it parses.
    #[must_use]
    pub fn lint(&self) -> Vec<Lint> {
        let mut lints = Vec::new();
        let mut seen = HashSet::new();
        for (t, turn) in self.turns.iter().enumerate() {
            for (i, fault) in self.file.interactions[t].faults.iter().enumerate() {
                for problem in fault.problems() {
                    lints.push(Lint::new(
                        t,
                        format!("faults[{i}] (`{}`): {problem}", fault.kind),
                    ));
                }
            }
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

/// A stateful continuation (a request that names a served response instead of sending the
/// whole history) resolved against `turns`: the history the provider keeps (the request of
/// that turn, itself resolved when the cassette was loaded, so chains of any length resolve,
/// and the turn as served) followed by what the loop sent, so it is judged as if the whole
/// history had been sent. Nothing is remembered between requests (the replay server adds what
/// a session sent, [`resolve_continuation_from`]). A request that continues nothing comes back
/// as it was; one naming an id no turn served keeps its `continues` (TT012 answers it).
#[must_use]
pub fn resolve_continuation(turns: &[Turn], request: DecodedRequest) -> DecodedRequest {
    resolve_continuation_from(turns, request, |_| None)
}

/// As [`resolve_continuation`], with the request each turn answered where `kept` has it (the
/// turn's index in, the request the server answered with that turn out): the provider keeps
/// the history a loop sent, not the one of the recording, and the two differ once the served
/// turns do (a model fault changes a turn, and the loop answers the changed calls). A turn
/// `kept` has no request for falls back on its recorded one.
#[must_use]
pub fn resolve_continuation_from<'k>(
    turns: &[Turn],
    request: DecodedRequest,
    kept: impl FnOnce(usize) -> Option<&'k DecodedRequest>,
) -> DecodedRequest {
    let Some(id) = request.continues.as_deref() else {
        return request;
    };
    let Some((t, turn)) = turns
        .iter()
        .enumerate()
        .find(|(_, t)| t.response_id.as_deref() == Some(id) && t.assistant.is_some())
    else {
        return request;
    };
    let answered = kept(t).unwrap_or(&turn.request);
    let mut messages = answered.conversation.messages.clone();
    if let Some(served) = &turn.assistant {
        messages.push(Message::new(Role::Assistant, served.blocks.clone()));
    }
    messages.extend(request.conversation.messages);
    let tool_names = if request.tool_names.is_empty() {
        answered.tool_names.clone()
    } else {
        request.tool_names
    };
    DecodedRequest {
        conversation: Conversation { messages },
        tool_names,
        continues: None,
        ..request
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

pub(super) fn default_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cassette".to_owned())
}

/// The JSON Schema of the cassette format.
#[must_use]
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(CassetteFile)).unwrap_or(Value::Null)
}
