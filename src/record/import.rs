//! The import: a file's exchanges into cassettes, one per conversation, completed where the
//! recording stops early, redacted, scanned and checked to load before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use super::complete;
use super::conversation::{self, Call};
use super::error::{ImportError, ImportErrorKind};
use super::exchange::{Exchange, Storage};
use super::format;
use super::redact;
use crate::cassette::{
    Cassette, CassetteFile, FORMAT_VERSION, Interaction, RecordedRequest, Source, SourceKind,
    ToolSim,
};

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// More patterns to scrub from every body (`--redact`).
    pub redact: Vec<Regex>,
    /// The request to use for a recording that has only its response (`--request`): where it
    /// came from, and the body.
    pub request: Option<(String, Value)>,
}

/// Where a recording comes from, for names and provenance.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file (or upstream) as the user named it.
    pub path: String,
    /// The name cassettes are named after.
    pub stem: String,
    /// The format, as provenance names it.
    pub format: String,
}

impl Origin {
    /// The origin of a file in `format`: its name without extension and without a `.stream`,
    /// `.response` or `.chunks` marker (`a.stream.yaml` → `a`).
    #[must_use]
    pub fn of_file(path: &Path, format: &str) -> Self {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut stem = name.strip_suffix(".gz").unwrap_or(&name);
        if let Some((head, ext)) = stem.rsplit_once('.')
            && !head.is_empty()
            && ext.chars().all(|c| c.is_ascii_alphanumeric())
        {
            stem = head;
        }
        for marker in [".stream", ".response", ".chunks"] {
            stem = stem.strip_suffix(marker).unwrap_or(stem);
        }
        Self {
            path: path.display().to_string(),
            stem: stem.to_owned(),
            format: format.to_owned(),
        }
    }
}

/// One cassette made from a recording.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The cassette.
    pub file: CassetteFile,
    /// What `tooltape validate` would report about it.
    pub warnings: Vec<String>,
    /// How many secrets were scrubbed.
    pub redacted: usize,
}

impl Imported {
    /// Where it goes below the output folder: `{provider}/{name}.json`.
    #[must_use]
    pub fn relative_path(&self) -> PathBuf {
        Path::new(self.file.provider.name()).join(format!("{}.json", self.file.name))
    }

    /// The cassette as written: pretty JSON with a final newline.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.file).unwrap_or_default() + "\n"
    }

    /// How many interactions are synthetic.
    #[must_use]
    pub fn synthetic(&self) -> usize {
        self.file
            .interactions
            .iter()
            .filter(|i| i.request.synthetic || i.response.synthetic)
            .count()
    }
}

/// Imports one file.
///
/// # Errors
/// The file cannot be read, is in no format tooltape reads, holds no provider call, or a
/// cassette made from it cannot be completed, leaks a key, or does not load.
pub fn import_file(path: &Path, options: &ImportOptions) -> Result<Vec<Imported>, ImportError> {
    let err = |kind| ImportError {
        path: path.to_owned(),
        kind,
    };
    let bytes = std::fs::read(path).map_err(|e| err(ImportErrorKind::Io(e)))?;
    let recording = format::read(&bytes).map_err(err)?;
    let origin = Origin::of_file(path, &recording.format);
    import_exchanges(&recording.exchanges, &origin, options).map_err(err)
}

/// Makes the cassettes of a recording's exchanges.
///
/// # Errors
/// As [`import_file`], after reading.
pub fn import_exchanges(
    exchanges: &[Exchange],
    origin: &Origin,
    options: &ImportOptions,
) -> Result<Vec<Imported>, ImportErrorKind> {
    let mut calls = conversation::provider_calls(exchanges)?;
    let conversations = conversation::split(calls.calls, &mut calls.left_out);
    if conversations.is_empty() {
        return Err(ImportErrorKind::NoConversation {
            reasons: calls.left_out.join("; "),
        });
    }
    let total = conversations.len();
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (n, conv) in conversations.into_iter().enumerate() {
        let streamed = conv[0].response.body.is_stream();
        let mut base = origin.stem.clone();
        if streamed && !base.ends_with("-stream") {
            base.push_str("-stream");
        }
        let count = used.entry(base.clone()).or_insert(0);
        *count += 1;
        let name = if *count == 1 {
            base
        } else {
            format!("{base}-{count}")
        };
        let mut context = Vec::new();
        if total > 1 {
            context.push(format!(
                "the recording holds {total} conversations; this is conversation {} ({} of the file)",
                n + 1,
                noun("interaction", &conv.iter().map(|c| c.at).collect::<Vec<_>>())
            ));
        }
        if n == 0 {
            context.extend(calls.left_out.iter().cloned());
        }
        out.push(cassette(conv, name, origin, context, options)?);
    }
    Ok(out)
}

/// `0`, `0 and 1`, `0, 1 and 2`.
fn list(items: &[usize]) -> String {
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `request 0` / `requests 0 and 1`.
fn noun(noun: &str, ks: &[usize]) -> String {
    if ks.len() == 1 {
        format!("{noun} {}", ks[0])
    } else {
        format!("{noun}s {}", list(ks))
    }
}

/// `request 0 is` / `requests 0 and 1 are`.
fn which(name: &str, ks: &[usize]) -> String {
    format!(
        "{} {}",
        noun(name, ks),
        if ks.len() == 1 { "is" } else { "are" }
    )
}

fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

fn cassette(
    calls: Vec<Call>,
    name: String,
    origin: &Origin,
    mut notes: Vec<String>,
    options: &ImportOptions,
) -> Result<Imported, ImportErrorKind> {
    let provider = calls[0].provider;
    let fail = |problem: String| ImportErrorKind::Cassette {
        name: name.clone(),
        problem,
    };
    let mut interactions = Vec::new();
    let mut by_storage: BTreeMap<Storage, Vec<usize>> = BTreeMap::new();
    let mut reader_notes = Vec::new();
    for (k, call) in calls.iter().enumerate() {
        let (body, synthetic) = match (&call.request, &options.request) {
            (Some(body), _) => (body.clone(), false),
            (None, Some((from, body))) => {
                notes.push(format!(
                    "request {k} is the body given with --request (`{from}`), not recorded: the recording has only the response"
                ));
                (body.clone(), true)
            }
            (None, None) => {
                notes.push(format!(
                    "request {k} is synthetic: the recording has only the response; it asks the response's model, with a placeholder user message, and declares the tools called with argument types inferred from the calls{}",
                    if call.response.body.is_stream() { ", for a stream" } else { "" }
                ));
                (
                    complete::opening(provider, &call.response, &call.turn).map_err(fail)?,
                    true,
                )
            }
        };
        for s in &call.storage {
            by_storage.entry(*s).or_default().push(k);
        }
        reader_notes.extend(call.notes.iter().cloned());
        let mut response = call.response.clone();
        if let Some(t) = &call.timing {
            response.frame_delays_ms.clone_from(&t.frame_delays_ms);
        }
        interactions.push(Interaction {
            request: RecordedRequest {
                body,
                path: call.path.clone(),
                synthetic,
            },
            response,
            faults: Vec::new(),
        });
    }
    let storage_notes = by_storage.into_iter().map(|(s, mut ks)| {
        ks.dedup();
        match s {
            Storage::ParsedRequest => format!("{} from the recorder's parsed form of the body (key order and whitespace of the wire bytes are not preserved upstream)", which("request", &ks)),
            Storage::ParsedResponse => format!("{} stored parsed, not verbatim, by the recorder; `text` is that value serialised compactly", which("response", &ks)),
            Storage::Gzip => format!("{} gzip-compressed in the recording; `text` is the decompressed body", which("response", &ks)),
            Storage::Base64 => format!("{} base64-encoded in the recording; `text` is the decoded body", which("response", &ks)),
            Storage::UnclosedStream => format!("the recorded stream of {} ends without the final blank line; one was added to the last frame, every other byte is verbatim", noun("response", &ks)),
        }
    });
    notes.extend(storage_notes);
    notes.extend(reader_notes);
    let last = calls.last().expect("a conversation has a call");
    if last.turn.tool_calls().next().is_some() {
        let k = interactions.len();
        let last_request = &interactions[k - 1].request.body;
        let follow = complete::follow_up(provider, last_request, &last.turn);
        let answer = complete::final_answer(provider, &last.response, &follow).map_err(fail)?;
        let n = last.turn.tool_calls().count();
        notes.push(format!(
            "the recording ends with tool calls; request {k} is synthetic: a copy of request {} with the assistant turn of response {} echoed and {n} made-up result{} answering every call in call order",
            k - 1,
            k - 1,
            if n == 1 { "" } else { "s" }
        ));
        notes.push(format!(
            "response {k} is synthetic: a short final text answer, {} like the recording",
            if answer.body.is_stream() {
                "streamed"
            } else {
                "JSON"
            }
        ));
        interactions.push(Interaction {
            request: RecordedRequest {
                body: follow,
                path: last.path.clone(),
                synthetic: true,
            },
            response: answer,
            faults: Vec::new(),
        });
    }
    let tools = latencies(&calls);
    if !tools.is_empty() {
        notes.push("each tool's `latency_ms` is the time the recording client took between the response with the call and its next request (the longest, if the tool ran in several turns)".into());
    }
    let mut file = CassetteFile {
        tooltape: FORMAT_VERSION,
        name: name.clone(),
        provider,
        description: String::new(),
        source: Source {
            kind: SourceKind::Recorded,
            repository: None,
            path: Some(origin.path.clone()),
            commit: None,
            license: None,
            format: Some(origin.format.clone()),
            notes: None,
        },
        expect_concurrency: false,
        tools,
        requires: Vec::new(),
        interactions,
    };
    let mut secrets: Vec<String> = calls.iter().flat_map(|c| c.secrets.clone()).collect();
    secrets.sort();
    secrets.dedup();
    let redacted = redact::scrub(&mut file, &secrets, &options.redact);
    if redacted > 0 {
        notes.push(format!(
            "{redacted} secret{} replaced with `{}`",
            if redacted == 1 { " was" } else { "s were" },
            redact::REDACTED
        ));
    }
    let loaded = Cassette::from_file(file.clone(), Path::new(&name)).map_err(|kind| {
        ImportErrorKind::Invalid {
            name: name.clone(),
            kind: Box::new(kind),
        }
    })?;
    file.description = describe(&loaded, &origin.format);
    file.source.notes = Some(if notes.is_empty() {
        "Imported without changes: requests parsed from the recorded JSON bodies, responses verbatim.".to_owned()
    } else {
        notes
            .iter()
            .map(|n| sentence(n))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let leaks = redact::scan(&file);
    if !leaks.is_empty() {
        return Err(ImportErrorKind::Secret {
            name,
            places: leaks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    let warnings = loaded
        .lint()
        .into_iter()
        .map(|l| format!("interaction {}: {}", l.interaction, l.message))
        .collect();
    Ok(Imported {
        file,
        warnings,
        redacted,
    })
}

/// Per tool, the longest gap between a response that called it and the next request.
fn latencies(calls: &[Call]) -> BTreeMap<String, ToolSim> {
    let mut tools: BTreeMap<String, ToolSim> = BTreeMap::new();
    for pair in calls.windows(2) {
        let (Some(before), Some(after)) = (&pair[0].timing, &pair[1].timing) else {
            continue;
        };
        let gap = (after.request_ms - before.response_end_ms).max(0.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative gap in milliseconds, rounded"
        )]
        let gap = gap.round() as u64;
        for call in pair[0].turn.tool_calls() {
            let sim = tools.entry(call.name.clone()).or_default();
            sim.latency_ms = Some(sim.latency_ms.unwrap_or(0).max(gap));
        }
    }
    tools
}

fn describe(cassette: &Cassette, format: &str) -> String {
    let per_turn: Vec<String> = (0..cassette.turns.len())
        .map(|t| cassette.calls(t).len().to_string())
        .collect();
    let mut names: Vec<&str> = Vec::new();
    for t in 0..cassette.turns.len() {
        for call in cassette.calls(t) {
            if !names.contains(&call.name.as_str()) {
                names.push(&call.name);
            }
        }
    }
    let model = &cassette.turns[0].request.model;
    let synthetic = cassette
        .file
        .interactions
        .iter()
        .filter(|i| i.response.synthetic || i.request.synthetic)
        .count();
    format!(
        "{}{} tool calls per turn {}{}, {}; imported from {format}{}.",
        model,
        if model.is_empty() { "" } else { ":" },
        per_turn.join(", "),
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        },
        if cassette.streaming() {
            "streamed"
        } else {
            "not streamed"
        },
        if synthetic > 0 {
            format!(
                ", {synthetic} interaction{} synthetic",
                if synthetic == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_the_extension_and_the_stream_marker() {
        for (file, stem) in [
            (
                "a/fantasy-gpt-4o-parallel2-followup.stream.yaml",
                "fantasy-gpt-4o-parallel2-followup",
            ),
            (
                "pydantic-ai-haiku-4.5-parallel4-followup.yaml",
                "pydantic-ai-haiku-4.5-parallel4-followup",
            ),
            (
                "openai-python-parse-multiple-tools.response.json",
                "openai-python-parse-multiple-tools",
            ),
            ("x.chunks.txt", "x"),
            ("cassette.yaml.gz", "cassette"),
        ] {
            assert_eq!(Origin::of_file(Path::new(file), "f").stem, stem, "{file}");
        }
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(which("request", &[0]), "request 0 is");
        assert_eq!(which("response", &[0, 1, 2]), "responses 0, 1 and 2 are");
    }
}
