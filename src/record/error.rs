//! Why a recording could not be imported: the file, then what is wrong and how to fix it.

use std::path::PathBuf;

use thiserror::Error;

use crate::cassette::CassetteErrorKind;
use crate::provider::{Malformed, Provider, ResponseError};

/// Why one file could not be imported. Like every error of this crate, its message is whole
/// on its own (`recording `a.yaml`: not valid YAML: …`).
#[derive(Debug, Error)]
#[error("recording `{}`: {kind}", path.display())]
pub struct ImportError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: ImportErrorKind,
}

/// The ways a recording can fail to import.
#[derive(Debug, Error)]
pub enum ImportErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(std::io::Error),
    /// The file is not text.
    #[error(
        "the file is not UTF-8 text (invalid byte at {0}); recordings are YAML, JSON or SSE text (gzip-compressed files are read too)"
    )]
    NotText(usize),
    /// No format recognises the file.
    #[error("not a recording format tooltape reads: {0}")]
    Unrecognised(String),
    /// The file is in a known format but does not parse.
    #[error(
        "not valid {format}: {message}; a truncated file ends early: re-export or re-record it"
    )]
    Syntax {
        /// The format's name.
        format: &'static str,
        /// The parser's message, with the place.
        message: String,
    },
    /// A format version this build does not read.
    #[error("{format} version `{found}` is not supported: this tooltape reads {supported}")]
    Version {
        /// The format's name.
        format: &'static str,
        /// The version in the file.
        found: String,
        /// The versions it reads.
        supported: &'static str,
    },
    /// A field is missing or of the wrong kind.
    #[error("{format}, at `{at}`: {problem}")]
    Field {
        /// The format's name.
        format: &'static str,
        /// Where in the file.
        at: String,
        /// What is wrong.
        problem: String,
    },
    /// A body cannot be read.
    #[error("interaction {interaction}: {problem}")]
    Body {
        /// The interaction, from 0, in file order.
        interaction: usize,
        /// What is wrong.
        problem: String,
    },
    /// Nothing in the file is a call to a provider tooltape supports.
    #[error("no call to a provider tooltape supports: {seen}; tooltape reads {supported}")]
    NoProviderCall {
        /// What the file holds instead.
        seen: String,
        /// The supported providers and their endpoints.
        supported: String,
    },
    /// Provider calls were found, but none starts a conversation a cassette can replay.
    #[error(
        "no conversation to replay: {reasons}; a cassette needs a request with no earlier assistant turn and its answered response"
    )]
    NoConversation {
        /// Why each call was left out.
        reasons: String,
    },
    /// A provider call's response does not decode.
    #[error("interaction {interaction}: the response does not decode as `{provider}`: {error}")]
    Response {
        /// The interaction, from 0, in file order.
        interaction: usize,
        /// The provider.
        provider: Provider,
        /// What is wrong.
        error: Box<ResponseError>,
    },
    /// A provider call's request does not decode.
    #[error("interaction {interaction}: the request does not decode as `{provider}`: {error}")]
    Request {
        /// The interaction, from 0, in file order.
        interaction: usize,
        /// The provider.
        provider: Provider,
        /// What is wrong.
        error: Box<Malformed>,
    },
    /// The cassette could not be completed or does not load.
    #[error("the cassette `{name}` cannot be made: {problem}")]
    Cassette {
        /// The cassette's name.
        name: String,
        /// What is wrong.
        problem: String,
    },
    /// The made cassette does not load.
    #[error("the cassette `{name}` does not load: {kind}")]
    Invalid {
        /// The cassette's name.
        name: String,
        /// Why.
        kind: Box<CassetteErrorKind>,
    },
    /// A key-shaped string is left after redaction.
    #[error(
        "refusing to write `{name}`: a string shaped like a provider key remains at {places}; remove it from the recording or add `--redact REGEX`"
    )]
    Secret {
        /// The cassette's name.
        name: String,
        /// Where, each with a masked preview.
        places: String,
    },
    /// The output exists.
    #[error("`{}` exists; pass --force to replace it", .0.display())]
    Exists(PathBuf),
    /// The output could not be written.
    #[error("cannot write `{}`: {}", .0.display(), .1)]
    Write(PathBuf, std::io::Error),
}
