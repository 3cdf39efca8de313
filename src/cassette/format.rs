//! The on-disk format: what a cassette file holds, version 1.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::provider::Provider;

/// The step between default tool latencies (see [`Cassette::latency`]).
pub const DEFAULT_LATENCY_STEP: Duration = Duration::from_millis(50);

/// The newest format version this build reads.
pub const FORMAT_VERSION: u64 = 1;

/// The default limit on a cassette file's size (the largest bundled one is under 100 KB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
    /// Optional loop capabilities the cassette tests: `check` runs it only when asked
    /// (`--require`). A tool marked `sequential` implies `sequential-tools`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Capability>,
    /// Request and response pairs in conversation order; request `k` carries `k` assistant turns.
    pub interactions: Vec<Interaction>,
}

/// An optional capability of a loop that some cassettes test and a loop may lack.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    clap::ValueEnum,
)]
pub enum Capability {
    /// The loop runs the calls of tools that `TOOLTAPE_SEQUENTIAL_TOOLS` names one at a time, in
    /// call order (TT015).
    #[serde(rename = "sequential-tools")]
    #[value(name = "sequential-tools")]
    SequentialTools,
}

impl Capability {
    /// The name in cassettes and on the command line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Capability::SequentialTools => "sequential-tools",
        }
    }
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
pub(super) fn is_false(b: &bool) -> bool {
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
    /// Faults the replay server serves to requests for this turn before the recorded response
    /// (each `times` requests in a row, in order); see [`crate::fault`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<crate::fault::Fault>,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// The JSON body.
    pub body: Value,
    /// The path (and query) it was sent to, kept when the path says what the body does not
    /// (Gemini: the model and whether to stream, `/v1beta/models/M:streamGenerateContent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Made by hand (e.g. the follow-up of a recording that has only the response).
    #[serde(default, skip_serializing_if = "is_false")]
    pub synthetic: bool,
}

impl RecordedRequest {
    /// What its recorded path says about it (the model, the mode), as `provider` routes it;
    /// the default route when no path was kept.
    #[must_use]
    pub fn route(&self, provider: Provider) -> crate::provider::Route {
        self.path
            .as_deref()
            .and_then(|p| {
                let (path, query) = p.split_once('?').map_or((p, None), |(a, b)| (a, Some(b)));
                provider.codec().route("POST", path, query)
            })
            .unwrap_or_default()
    }
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
