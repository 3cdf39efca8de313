//! What the command under test did, for the report.

use serde::Serialize;

/// How the command under test ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CommandStatus {
    /// It exited with this code.
    Exited {
        /// The exit code.
        code: i32,
    },
    /// It was ended by a signal.
    Killed,
    /// It ran longer than the timeout and was killed.
    TimedOut,
    /// The check was stopped by a signal, forwarded to the command.
    Interrupted {
        /// The signal, e.g. `SIGTERM`.
        signal: String,
    },
    /// It could not start.
    NotStarted {
        /// Why.
        reason: String,
    },
}

/// What the command under test did for one cassette.
#[derive(Debug, Clone, Serialize)]
pub struct CommandRun {
    /// How it ended.
    pub status: CommandStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// How long it ran.
    pub duration_ms: u64,
}
