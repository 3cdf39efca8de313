//! How the binary ends: the exit codes (the library's contract) and the one error printer.

use std::io::ErrorKind;

pub use tooltape::report::exit::*;

/// What stopped a subcommand, and the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// A usage or input error: a bad cassette, an unreadable path, an unwritable output.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: INPUT,
            error: error.into(),
        }
    }

    /// Prints the error and its causes once, as `error: a: b: c`, and gives the exit code.
    /// A broken pipe is not an error: whoever read the output stopped reading (`| head`).
    pub fn report(self) -> u8 {
        if self.is_broken_pipe() {
            return OK;
        }
        eprintln!("error: {:#}", self.error);
        self.code
    }

    fn is_broken_pipe(&self) -> bool {
        self.error.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
        })
    }
}
