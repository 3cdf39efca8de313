//! `tooltape check`: run a third-party agent loop against each cassette and judge what it sent.
//!
//! The command runs once per cassette with the environment contract of DESIGN §4, each in its
//! own session prefix so that several can run at once without their journals mixing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use crate::cassette::Cassette;
use crate::conformance::{Severity, ToolSpan};
use crate::provider::Provider;
use crate::report::{
    CassetteReport, CommandRun, CommandStatus, Incomplete, Report, Span, TurnTiming,
};
use crate::server::{Replay, ReplayServer};

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
    /// Where the tool definition files go.
    pub work_dir: PathBuf,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            jobs: 1,
            strict: false,
            timeout: Duration::from_secs(60),
            barrier: Some(Duration::from_secs(1)),
            work_dir: std::env::temp_dir().join(format!("tooltape-check-{}", std::process::id())),
        }
    }
}

/// Runs `command` once per cassette against one replay server and judges each run.
///
/// # Errors
/// No loopback port can be bound, or the work folder cannot be written.
pub async fn check(
    cassettes: Vec<Arc<Cassette>>,
    command: &[String],
    options: &CheckOptions,
) -> std::io::Result<Report> {
    std::fs::create_dir_all(&options.work_dir)?;
    let replay = Arc::new(Replay::new().with_barrier(options.barrier));
    let ids = replay.add_sessions(&cassettes);
    let server = ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay.clone()).await?;
    let server = &server;
    for (id, c) in ids.iter().zip(&cassettes) {
        let codec = c.provider().codec();
        let first = &c.file.interactions[0].request.body;
        for (value, path) in [
            (
                codec.tool_definitions(first),
                tools_file(&options.work_dir, id),
            ),
            (
                Value::Array(codec.history(first)),
                messages_file(&options.work_dir, id),
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
            let env = environment(server, id, cassette, &options.work_dir);
            let run = run_command(command, &env, options.timeout).await;
            judge(server.replay(), id, cassette, run)
        })
        .buffered(options.jobs.max(1))
        .collect()
        .await;
    let _ = std::fs::remove_dir_all(&options.work_dir);
    Ok(Report {
        cassettes,
        ..Report::default()
    }
    .finish(options.strict))
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
    env.extend([
        ("TOOLTAPE_URL".into(), root.clone()),
        ("TOOLTAPE_TOOLS_URL".into(), format!("{root}/tools")),
        ("TOOLTAPE_CASSETTE".into(), cassette.name().to_owned()),
        (
            "TOOLTAPE_PROVIDER".into(),
            cassette.provider().name().to_owned(),
        ),
        ("TOOLTAPE_STREAM".into(), cassette.streaming().to_string()),
        ("TOOLTAPE_PROMPT".into(), cassette.prompt()),
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
/// whichever provider it speaks.
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

async fn run_command(
    command: &[String],
    env: &[(String, String)],
    timeout: Duration,
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
    let child = tokio::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
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
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let status = out
                .status
                .code()
                .map_or(CommandStatus::Killed, |code| CommandStatus::Exited { code });
            done(status, &out.stdout, &out.stderr)
        }
        Ok(Err(e)) => done(
            CommandStatus::NotStarted {
                reason: format!("cannot wait for `{program}`: {e}"),
            },
            b"",
            b"",
        ),
        Err(_) => done(CommandStatus::TimedOut, b"", b""),
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
    let explained = report.count(Severity::Error) > 0;
    let notes = replay.notes(session);
    report.error = match &run.status {
        CommandStatus::NotStarted { reason } => Some(format!("the command could not start: {reason}")),
        CommandStatus::TimedOut => Some(format!(
            "the command did not finish within {} s and was killed (a hung tool without a timeout?)",
            run.duration_ms / 1000
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
fn timings(cassette: &Cassette, served: &[usize], spans: &[ToolSpan]) -> Vec<TurnTiming> {
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
            let mut turn_spans: Vec<Span> = spans
                .iter()
                .filter(|s| s.turn == t)
                .map(|s| Span {
                    call_id: s.call_id.clone(),
                    name: s.name.clone(),
                    start_ms: s.start_ms,
                    end_ms: s.end_ms.unwrap_or(s.start_ms),
                })
                .collect();
            turn_spans.sort_by_key(|s| calls.iter().position(|c| c.id == s.call_id));
            let base = turn_spans
                .iter()
                .map(|s| s.start_ms)
                .fold(f64::INFINITY, f64::min);
            for s in &mut turn_spans {
                s.start_ms -= base;
                s.end_ms -= base;
            }
            TurnTiming::from_spans(t + 1, calls.len(), turn_spans)
        })
        .collect()
}
