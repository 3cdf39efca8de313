//! `tooltape run`: the reference loop against every cassette, through the real server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::cassette::Cassette;
use crate::reference_loop::{CassetteTools, LoopError, LoopOutcome, ReferenceLoop};
use crate::report::{CassetteReport, Incomplete, Progress, Report, TurnTiming};
use crate::server::{Replay, ReplayServer};

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How many cassettes run at once.
    pub jobs: usize,
    /// Whether warnings fail.
    pub strict: bool,
    /// The reference loop's per-tool timeout.
    pub tool_timeout: Duration,
    /// The reference loop's max-turns guard.
    pub max_turns: usize,
    /// Whether the reference loop continues turns on the provider's side
    /// ([`ReferenceLoop::stateful`]).
    pub stateful: bool,
    /// Told of each cassette as it is judged.
    pub progress: Progress,
    /// Faults served to the reference loop, after the cassettes' own ([`crate::fault`]).
    pub faults: Vec<crate::fault::TurnFault>,
    /// How streams are paced; `None` writes them at once.
    pub pace: Option<crate::fault::Pace>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            jobs: 4,
            strict: false,
            tool_timeout: Duration::from_secs(5),
            max_turns: 16,
            stateful: false,
            progress: Progress::default(),
            faults: Vec::new(),
            pace: None,
        }
    }
}

/// One cassette's run: its report entry and what the loop did.
#[derive(Debug)]
pub struct CassetteRun {
    /// The report entry.
    pub report: CassetteReport,
    /// What the reference loop did, or why it stopped.
    pub outcome: Result<LoopOutcome, LoopError>,
}

/// Runs the reference loop against each cassette through one replay server on loopback.
///
/// # Errors
/// No loopback port can be bound.
pub async fn run(
    cassettes: Vec<Arc<Cassette>>,
    options: &RunOptions,
) -> std::io::Result<(Report, Vec<CassetteRun>)> {
    let replay = Arc::new(
        Replay::new()
            .with_faults(options.faults.clone())
            .with_pace(options.pace),
    );
    let ids = replay.add_sessions(&cassettes);
    let server = ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay.clone()).await?;
    let server = &server;
    let template = &ReferenceLoop::new(server.url())
        .tool_timeout(options.tool_timeout)
        .max_turns(options.max_turns)
        .stateful(options.stateful);
    let runs: Vec<CassetteRun> = futures::stream::iter(ids.iter().zip(&cassettes))
        .map(|(id, cassette)| async move {
            let agent = template.at(server.session_url(id));
            let tools = CassetteTools::new(cassette.clone());
            let outcome = agent.run(cassette, &tools).await;
            let turns = match &outcome {
                Ok(o) => o
                    .turns
                    .iter()
                    .map(|t| TurnTiming::from_spans(t.index, t.calls.len(), t.spans.clone()))
                    .collect(),
                Err(_) => Vec::new(),
            };
            let mut report = server.replay().report(id, cassette, turns);
            if let Err(e) = &outcome
                && report.findings.is_empty()
            {
                report.error = Some(Incomplete::cassette(format!(
                    "the reference loop stopped: {e}"
                )));
            }
            options.progress.judged(&report);
            CassetteRun { report, outcome }
        })
        .buffered(options.jobs.max(1))
        .collect()
        .await;
    let report = Report {
        cassettes: runs.iter().map(|r| r.report.clone()).collect(),
        ..Report::default()
    }
    .finish(options.strict);
    Ok((report, runs))
}
