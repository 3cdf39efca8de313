//! Why a cassette could not be judged fully, and whose fault that is.

use serde::{Serialize, Serializer};

/// Why a cassette could not be judged fully. The JSON report holds only the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    /// Whose fault it is; it decides the exit code.
    pub culprit: Culprit,
    /// What happened, as a sentence for the report.
    pub message: String,
}

/// Who kept a cassette from being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Culprit {
    /// The cassette: the reference loop could not replay it.
    Cassette,
    /// The command under test: it could not start, timed out, or failed with no finding that
    /// explains it.
    Command,
}

impl Incomplete {
    /// The reference loop could not replay the cassette.
    #[must_use]
    pub fn cassette(message: impl Into<String>) -> Self {
        Self {
            culprit: Culprit::Cassette,
            message: message.into(),
        }
    }

    /// The command under test failed.
    #[must_use]
    pub fn command(message: impl Into<String>) -> Self {
        Self {
            culprit: Culprit::Command,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Serialize for Incomplete {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.message)
    }
}
