//! The signals that stop `serve` and `check` so that they print their report: SIGINT
//! (Ctrl-C), SIGTERM (what CI runners and `timeout` send) and SIGHUP (a closed terminal).

use std::io;

/// A stop signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    Hangup,
}

impl Signal {
    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }
}

/// The stop signals, listened for from creation on: a signal that arrives between creating
/// this and awaiting [`Stop::first`] is not lost.
pub struct Stop {
    #[cfg(unix)]
    signals: Vec<(tokio::signal::unix::Signal, Signal)>,
}

impl Stop {
    /// Starts listening.
    ///
    /// # Errors
    /// A signal handler cannot be installed.
    pub fn listen() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                signals: vec![
                    (signal(SignalKind::interrupt())?, Signal::Interrupt),
                    (signal(SignalKind::terminate())?, Signal::Terminate),
                    (signal(SignalKind::hangup())?, Signal::Hangup),
                ],
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Waits for the next stop signal.
    pub async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        {
            let waits = self.signals.iter_mut().map(|(s, name)| {
                Box::pin(async move {
                    s.recv().await;
                    *name
                })
            });
            futures::future::select_all(waits).await.0
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }

    /// After the first signal, a second one ends the process at once (exit code 130): the
    /// user asked twice.
    pub fn second_ends_the_process(mut self) {
        tokio::spawn(async move {
            let signal = self.next().await;
            eprintln!("\n{} again: stopping without a report", signal.name());
            std::process::exit(130);
        });
    }
}
