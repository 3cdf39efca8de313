//! `tooltape check`: run a third-party agent loop against each cassette and judge what it sent.
//!
//! The command runs once per cassette with the environment contract of DESIGN §4, each in its
//! own session prefix so that several can run at once without their journals mixing.
//!
//! Each run is its own process group: on `--timeout` the whole group is killed, when the
//! command ends whatever it left running in its group is killed, and a stop request
//! ([`CheckOptions::stop`], what `tooltape check` sends on SIGINT or SIGTERM) is forwarded to
//! every running group, which gets [`STOP_GRACE`] to end before it is killed. The tool and
//! message files live in a fresh private temporary folder, removed afterwards. Provider
//! credentials of the caller's environment never reach the command ([`crate::credentials`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

use crate::cassette::{Capability, Cassette};
use crate::conformance::Severity;
use crate::credentials;
use crate::fault::{Pace, TurnFault};
use crate::provider::Provider;
use crate::report::{
    CassetteReport, CommandRun, CommandStatus, Incomplete, Progress, Report, Skipped, Span,
    TurnTiming,
};
use crate::server::{Limits, Replay, ReplayServer};

/// How long a command's process group has to end after a forwarded stop signal before it is
/// killed.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How much of each of the command's output streams is kept (the end of it).
pub const OUTPUT_KEPT: usize = 1024 * 1024;

/// A signal that stops a check, forwarded to the commands' process groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl StopSignal {
    /// The signal's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }
}

/// Settings of a check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// How many cassettes run at once.
    pub jobs: usize,
    /// Whether warnings fail.
    pub strict: bool,
    /// How long one run of the command may take.
    pub timeout: Duration,
    /// The barrier's grace period; `None` turns barrier mode off.
    pub barrier: Option<Duration>,
    /// The optional capabilities the loop has: cassettes that need others are skipped.
    pub capabilities: Vec<Capability>,
    /// The replay server's limits.
    pub limits: Limits,
    /// Names of the caller's environment passed to the command as they are, although they
    /// would be replaced or removed ([`crate::credentials`]).
    pub keep_env: Vec<String>,
    /// Set to a signal to stop the check: it is forwarded to every running command, the
    /// cassettes not started yet are not run, and the report says so.
    pub stop: Option<watch::Receiver<Option<StopSignal>>>,
    /// Told of each cassette as it is judged (the skipped ones are not).
    pub progress: Progress,
    /// Faults served to every cassette's loop, after the cassettes' own ([`crate::fault`]).
    pub faults: Vec<TurnFault>,
    /// How streams are paced; `None` writes them at once.
    pub pace: Option<Pace>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            jobs: 1,
            strict: false,
            timeout: Duration::from_secs(60),
            barrier: Some(Duration::from_secs(1)),
            capabilities: Vec::new(),
            limits: Limits::default(),
            keep_env: Vec::new(),
            stop: None,
            progress: Progress::default(),
            faults: Vec::new(),
            pace: None,
        }
    }
}

fn stop_requested(options: &CheckOptions) -> Option<StopSignal> {
    options.stop.as_ref().and_then(|s| *s.borrow())
}

/// Runs `command` once per cassette against one replay server and judges each run.
///
/// # Errors
/// No loopback port can be bound, or the work folder cannot be made or written.
pub async fn check(
    cassettes: Vec<Arc<Cassette>>,
    command: &[String],
    options: &CheckOptions,
) -> std::io::Result<Report> {
    let (cassettes, skipped) = runnable(cassettes, &options.capabilities);
    let mut work = tempfile::Builder::new();
    work.prefix("tooltape-check-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        work.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let work = work.tempdir()?;
    let work_dir = work.path();
    let replay = Arc::new(
        Replay::with_limits(options.limits)
            .with_barrier(options.barrier)
            .with_faults(options.faults.clone())
            .with_pace(options.pace),
    );
    let ids = replay.add_sessions(&cassettes);
    let server = ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay.clone()).await?;
    let server = &server;
    let removed = credentials::to_remove(&options.keep_env);
    let removed = &removed;
    for (id, c) in ids.iter().zip(&cassettes) {
        let codec = c.provider().codec();
        let first = &c.file.interactions[0].request.body;
        for (value, path) in [
            (codec.tool_definitions(first), tools_file(work_dir, id)),
            (
                Value::Array(codec.history(first)),
                messages_file(work_dir, id),
            ),
        ] {
            std::fs::write(
                path,
                serde_json::to_string_pretty(&value).unwrap_or_default(),
            )?;
        }
    }
    let cassettes: Vec<CassetteReport> = futures::stream::iter(ids.iter().zip(&cassettes))
        .map(|(id, cassette)| async move {
            if let Some(signal) = stop_requested(options) {
                let mut report = server.replay().report(id, cassette, Vec::new());
                report.error = Some(Incomplete::command(format!(
                    "not run: the check was stopped by {} before this cassette's turn",
                    signal.name()
                )));
                options.progress.judged(&report);
                return report;
            }
            let env: Vec<(String, String)> = environment(server, id, cassette, work_dir)
                .into_iter()
                .filter(|(k, _)| !options.keep_env.contains(k))
                .collect();
            let run = run_command(command, &env, removed, options).await;
            let report = judge(server.replay(), id, cassette, run);
            options.progress.judged(&report);
            report
        })
        .buffered(options.jobs.max(1))
        .collect()
        .await;
    drop(work);
    Ok(Report {
        cassettes,
        skipped,
        ..Report::default()
    }
    .finish(options.strict))
}

/// The cassettes the loop can run (it has every capability they require), and the others,
/// skipped with the reason.
fn runnable(
    cassettes: Vec<Arc<Cassette>>,
    capabilities: &[Capability],
) -> (Vec<Arc<Cassette>>, Vec<Skipped>) {
    let mut run = Vec::new();
    let mut skipped = Vec::new();
    for c in cassettes {
        let missing: Vec<&str> = c
            .requires()
            .into_iter()
            .filter(|cap| !capabilities.contains(cap))
            .map(Capability::name)
            .collect();
        if missing.is_empty() {
            run.push(c);
        } else {
            skipped.push(Skipped {
                name: c.name().to_owned(),
                reason: format!(
                    "it tests an optional loop capability: run it with {}",
                    missing
                        .iter()
                        .map(|m| format!("--require {m}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            });
        }
    }
    (run, skipped)
}

fn tools_file(work_dir: &Path, session: &str) -> PathBuf {
    work_dir.join(format!("{session}.tools.json"))
}

fn messages_file(work_dir: &Path, session: &str) -> PathBuf {
    work_dir.join(format!("{session}.messages.json"))
}

/// The environment contract (DESIGN §4) for one session; the tools and messages files are in
/// `work_dir`.
#[must_use]
pub fn environment(
    server: &ReplayServer,
    session: &str,
    cassette: &Cassette,
    work_dir: &Path,
) -> Vec<(String, String)> {
    let root = server.session_url(session);
    let sequential: Vec<&str> = cassette
        .file
        .tools
        .iter()
        .filter(|(_, sim)| sim.sequential)
        .map(|(name, _)| name.as_str())
        .collect();
    let mut env = provider_environment(&root);
    for (alias, of) in credentials::ALIASES {
        if let Some((_, value)) = env.iter().find(|(k, _)| k == of) {
            let value = value.clone();
            env.push(((*alias).to_owned(), value));
        }
    }
    env.extend([
        ("TOOLTAPE_URL".into(), root.clone()),
        ("TOOLTAPE_TOOLS_URL".into(), format!("{root}/tools")),
        ("TOOLTAPE_MCP_URL".into(), server.session_mcp_url(session)),
        ("TOOLTAPE_CASSETTE".into(), cassette.name().to_owned()),
        (
            "TOOLTAPE_PROVIDER".into(),
            cassette.provider().name().to_owned(),
        ),
        ("TOOLTAPE_STREAM".into(), cassette.streaming().to_string()),
        ("TOOLTAPE_PROMPT".into(), cassette.prompt()),
        ("TOOLTAPE_MODEL".into(), cassette.model()),
        ("TOOLTAPE_SYSTEM_PROMPT".into(), {
            let first = &cassette.file.interactions[0].request.body;
            cassette.provider().codec().system_prompt(first)
        }),
        (
            "TOOLTAPE_TOOLS_FILE".into(),
            tools_file(work_dir, session).display().to_string(),
        ),
        (
            "TOOLTAPE_MESSAGES_FILE".into(),
            messages_file(work_dir, session).display().to_string(),
        ),
        ("TOOLTAPE_SEQUENTIAL_TOOLS".into(), sequential.join(",")),
        ("NO_PROXY".into(), no_proxy("NO_PROXY")),
        ("no_proxy".into(), no_proxy("no_proxy")),
    ]);
    env
}

/// Every provider's base URL (below `root`, a server or session root) and placeholder
/// credentials, as each provider's official SDKs read them: a loop reaches the replay server
/// whichever provider it speaks. Providers that share a variable (OpenAI Chat and Responses
/// share `OPENAI_BASE_URL`) set it once.
#[must_use]
pub fn provider_environment(root: &str) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for provider in Provider::ALL {
        let facts = provider.codec().facts();
        env.push((
            facts.env.base_url_var.to_owned(),
            format!("{root}{}", facts.env.base_url_suffix),
        ));
    }
    for provider in Provider::ALL {
        for (name, value) in provider.codec().facts().env.keys {
            env.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    env.retain(|(name, _)| seen.insert(name.clone()));
    env
}

/// The caller's proxy exceptions plus loopback, so a proxy set for the machine never carries
/// the loop's requests to the replay server away from 127.0.0.1.
fn no_proxy(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => format!("{v},127.0.0.1,localhost"),
        _ => "127.0.0.1,localhost".to_owned(),
    }
}

/// How a run of the command ended, before its output is collected.
enum End {
    Exited(std::process::ExitStatus),
    TimedOut,
    Stopped(StopSignal),
    WaitFailed(std::io::Error),
}

async fn run_command(
    command: &[String],
    env: &[(String, String)],
    removed: &[String],
    options: &CheckOptions,
) -> CommandRun {
    let started = Instant::now();
    let done = |status, stdout: &[u8], stderr: &[u8]| CommandRun {
        status,
        stdout: String::from_utf8_lossy(stdout).into_owned(),
        stderr: String::from_utf8_lossy(stderr).into_owned(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let Some((program, args)) = command.split_first() else {
        return done(
            CommandStatus::NotStarted {
                reason: "no command given".into(),
            },
            b"",
            b"",
        );
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    for name in removed {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return done(
                CommandStatus::NotStarted {
                    reason: format!("cannot start `{program}`: {e}"),
                },
                b"",
                b"",
            );
        }
    };
    let group = child.id();
    let stdout = tokio::spawn(read_tail(child.stdout.take()));
    let stderr = tokio::spawn(read_tail(child.stderr.take()));
    let mut stop = options.stop.clone();
    let end = tokio::select! {
        waited = child.wait() => match waited {
            Ok(status) => End::Exited(status),
            Err(e) => End::WaitFailed(e),
        },
        () = tokio::time::sleep(options.timeout) => End::TimedOut,
        signal = stopped(stop.as_mut()) => End::Stopped(signal),
    };
    let status = match end {
        End::Exited(status) => {
            signal_group(group, Kill::Kill);
            status
                .code()
                .map_or(CommandStatus::Killed, |code| CommandStatus::Exited { code })
        }
        End::TimedOut => {
            signal_group(group, Kill::Kill);
            let _ = child.wait().await;
            CommandStatus::TimedOut
        }
        End::Stopped(signal) => {
            signal_group(group, Kill::Forward(signal));
            if tokio::time::timeout(STOP_GRACE, child.wait())
                .await
                .is_err()
            {
                signal_group(group, Kill::Kill);
                let _ = child.wait().await;
            }
            signal_group(group, Kill::Kill);
            CommandStatus::Interrupted {
                signal: signal.name().to_owned(),
            }
        }
        End::WaitFailed(e) => {
            signal_group(group, Kill::Kill);
            return done(
                CommandStatus::NotStarted {
                    reason: format!("cannot wait for `{program}`: {e}"),
                },
                b"",
                b"",
            );
        }
    };
    let out = collect(stdout).await;
    let err = collect(stderr).await;
    done(status, &out, &err)
}

/// Resolves with the stop signal once one is requested; never without a stop channel.
async fn stopped(stop: Option<&mut watch::Receiver<Option<StopSignal>>>) -> StopSignal {
    let Some(stop) = stop else {
        return futures::future::pending().await;
    };
    match stop.wait_for(Option::is_some).await {
        Ok(signal) => signal.unwrap_or(StopSignal::Terminate),
        Err(_) => futures::future::pending().await,
    }
}

/// What to send a command's process group.
#[derive(Debug, Clone, Copy)]
enum Kill {
    Forward(StopSignal),
    Kill,
}

/// Sends `kill` to the process group led by `group` (the command's pid); a group that is
/// already gone is not an error.
fn signal_group(group: Option<u32>, kill: Kill) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process_group};
        let Some(pid) = group
            .and_then(|g| i32::try_from(g).ok())
            .and_then(Pid::from_raw)
        else {
            return;
        };
        let signal = match kill {
            Kill::Forward(StopSignal::Interrupt) => Signal::INT,
            Kill::Forward(StopSignal::Terminate) => Signal::TERM,
            Kill::Kill => Signal::KILL,
        };
        let _ = kill_process_group(pid, signal);
    }
    #[cfg(not(unix))]
    {
        let _ = (group, kill);
    }
}

/// Reads a stream to its end, keeping the last [`OUTPUT_KEPT`] bytes (and saying how many
/// were left out before them).
async fn read_tail(stream: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let Some(mut stream) = stream else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut dropped = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * OUTPUT_KEPT {
                    let cut = kept.len() - OUTPUT_KEPT;
                    kept.drain(..cut);
                    dropped += cut;
                }
            }
        }
    }
    if kept.len() > OUTPUT_KEPT {
        let cut = kept.len() - OUTPUT_KEPT;
        kept.drain(..cut);
        dropped += cut;
    }
    if dropped > 0 {
        let mut out =
            format!("[tooltape: {dropped} earlier bytes of output not kept]\n").into_bytes();
        out.extend_from_slice(&kept);
        return out;
    }
    kept
}

/// The output a reader collected; a reader still blocked after the command's process group
/// was killed (a process that left the group holds the pipe) is given up on.
async fn collect(reader: tokio::task::JoinHandle<Vec<u8>>) -> Vec<u8> {
    let abort = reader.abort_handle();
    match tokio::time::timeout(Duration::from_secs(2), reader).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => Vec::new(),
        Err(_) => {
            abort.abort();
            b"[tooltape: output not collected: a process outside the command's group still holds it]\n".to_vec()
        }
    }
}

fn judge(replay: &Replay, session: &str, cassette: &Cassette, run: CommandRun) -> CassetteReport {
    let spans = replay.tool_spans(session);
    let requests = replay.request_count(session);
    let mut report = replay.report(
        session,
        cassette,
        timings(cassette, &replay.served_turns(session), &spans),
    );
    let fault_stop = replay.fault_stop(session);
    let explained = report.count(Severity::Error) > 0 || fault_stop.is_some();
    if let Some(stop) = fault_stop {
        report.notes.push(stop);
    }
    let notes = replay.notes(session);
    report.error = match &run.status {
        CommandStatus::NotStarted { reason } => Some(format!("the command could not start: {reason}")),
        CommandStatus::TimedOut => Some(format!(
            "the command did not finish within {} s and was killed with its process group (a hung tool without a timeout?)",
            run.duration_ms / 1000
        )),
        CommandStatus::Interrupted { signal } => Some(format!(
            "the check was stopped by {signal}: the command's process group got the signal and ended"
        )),
        CommandStatus::Killed if !explained => Some("the command was killed by a signal".into()),
        CommandStatus::Exited { code } if *code != 0 && !explained => Some(match notes.first() {
            Some(note) => format!("the command failed (exit code {code}): {note}"),
            None => format!(
                "the command failed (exit code {code}) with no finding that explains it; see its output"
            ),
        }),
        CommandStatus::Exited { code: 0 } if requests == 0 => Some(
            "the command exited without sending a request to the replay server (does it read OPENAI_BASE_URL / ANTHROPIC_BASE_URL?)".into(),
        ),
        _ => None,
    }
    .map(Incomplete::command);
    report.command = Some(run);
    report
}

/// Timing figures per served turn with calls, from the tool endpoint spans.
fn timings(cassette: &Cassette, served: &[usize], spans: &[Span]) -> Vec<TurnTiming> {
    let mut turns: Vec<usize> = served
        .iter()
        .copied()
        .filter(|t| !cassette.calls(*t).is_empty())
        .collect();
    turns.sort_unstable();
    turns.dedup();
    turns
        .into_iter()
        .map(|t| {
            let calls = cassette.calls(t);
            let mut turn_spans: Vec<Span> = spans.iter().filter(|s| s.turn == t).cloned().collect();
            turn_spans.sort_by_key(|s| calls.iter().position(|c| c.id == s.call_id));
            let base = turn_spans
                .iter()
                .map(|s| s.start_ms)
                .fold(f64::INFINITY, f64::min);
            for s in &mut turn_spans {
                s.start_ms -= base;
                s.end_ms = s.end_ms.map(|end| end - base);
            }
            TurnTiming::from_spans(t + 1, calls.len(), turn_spans)
        })
        .collect()
}
