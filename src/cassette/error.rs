//! Why a cassette cannot be used.

use std::path::PathBuf;

use thiserror::Error;

use crate::provider::{Malformed, Provider, ResponseError};

use super::*;

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
    /// The path is not a regular file (a FIFO, a device, a socket): reading it could block
    /// forever or never end.
    #[error("not a regular file but {what}; a cassette is a regular *.json file")]
    NotRegularFile {
        /// What it is, e.g. `a FIFO (named pipe)`.
        what: &'static str,
    },
    /// The file is larger than the limit.
    #[error(
        "the file is larger than the limit of {max} bytes{size}; raise --max-cassette-bytes if it really is a cassette",
        size = size.map(|s| format!(" ({s} bytes)")).unwrap_or_default()
    )]
    TooLarge {
        /// Its size, when known before reading.
        size: Option<u64>,
        /// The limit.
        max: u64,
    },
    /// The file is not UTF-8 text.
    #[error(
        "not UTF-8 text: invalid byte at offset {offset} (line {line}); cassettes are UTF-8 JSON"
    )]
    NotUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// Its 1-based line.
        line: usize,
    },
    /// A recorded status is not an HTTP final status.
    #[error(
        "at `interactions[{interaction}].response.status`: {status} is not an HTTP status a provider answers with (200–599)"
    )]
    BadStatus {
        /// Interaction index, from 0.
        interaction: usize,
        /// The status in the file.
        status: u16,
    },
    /// The cassette parses but is unfit for replay (what `tooltape validate` reports).
    #[error("unfit for replay (see `tooltape validate`): {}", lints.iter().map(|l| format!("interaction {}: {}", l.interaction, l.message)).collect::<Vec<_>>().join("; "))]
    Unfit {
        /// The cassette's name.
        name: String,
        /// The problems.
        lints: Vec<Lint>,
    },
}
