//! `tooltape serve`: the replay server for the user's own loop; Ctrl-C (or SIGTERM, SIGHUP)
//! prints the report.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use tooltape::report::{Report, escape};
use tooltape::server::{HostPolicy, Replay, ReplayServer};

use super::args::Common;
use super::exit::{self, Failure};
use super::limits::LimitArgs;
use super::output::write_report;
use super::signals::Stop;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    common: Common,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Address to listen on. Keep the loopback default unless you know why not: any other
    /// address is reachable from other machines (a warning says so).
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Also answer requests whose Host header names NAME (repeatable; `*` answers any). By
    /// default only loopback names are answered, so a web page cannot reach the server
    /// through DNS rebinding.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    faults: super::faults::FaultArgs,
}

fn host_policy(allowed: &[String]) -> HostPolicy {
    if allowed.iter().any(|h| h == "*") {
        HostPolicy::Any
    } else if allowed.is_empty() {
        HostPolicy::Loopback
    } else {
        HostPolicy::Also(allowed.to_vec())
    }
}

pub async fn execute(args: ServeArgs) -> Result<u8, Failure> {
    let cassettes = args.common.load(&args.paths)?;
    let mut stop = Stop::listen()
        .map_err(|e| Failure::input(anyhow!(e).context("cannot listen for signals")))?;
    let replay = Arc::new(
        Replay::with_limits(args.limits.limits())
            .with_faults(args.faults.faults)
            .with_pace(args.faults.pace),
    );
    let ids = replay.add_sessions(&cassettes);
    let server = ReplayServer::bind_with_hosts(
        SocketAddr::new(args.host, args.port),
        replay.clone(),
        host_policy(&args.allow_hosts),
    )
    .await
    .map_err(|e| {
        Failure::input(anyhow!(e).context(format!(
            "cannot listen on {}:{} (is the port in use? try --port 0)",
            args.host, args.port
        )))
    })?;
    let mut banner = format!("tooltape replay server on {}\n", server.url());
    for (id, c) in ids.iter().zip(&cassettes) {
        let base = server.session_url(id);
        let env = &c.provider().codec().facts().env;
        let env = format!("{}={base}{}", env.base_url_var, env.base_url_suffix);
        banner.push_str(&format!(
            "  {:<12} {}\n      {env}\n      prompt: {:?}\n      tools: POST {base}/tools/{{name}}; definitions: `interactions[0].request.body.tools` of {}\n      tools over MCP (streamable HTTP): {}\n",
            c.provider().name(),
            escape(c.name()),
            c.prompt(),
            c.path.display(),
            server.session_mcp_url(id),
        ));
    }
    for group in tooltape::server::ambiguous_bare_urls(&replay.sessions()) {
        banner.push_str(&format!(
            "note: {} start with the same prompt: on the bare URLs a first request goes to the one recorded in the mode it asks for, and a follow-up to the one that served its calls; use the session URLs (/s/{{session}}/…) to choose\n",
            group
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if cassettes.len() == 1 {
        banner.push_str(&format!(
            "The bare base URLs work too: OPENAI_BASE_URL={}, ANTHROPIC_BASE_URL={}, GOOGLE_GEMINI_BASE_URL={}\n",
            server.openai_base_url(),
            server.anthropic_base_url(),
            server.url()
        ));
    }
    if !args.host.is_loopback() {
        banner.push_str(&format!(
            "warning: listening on {}, which other machines can reach: anyone who can connect can send requests and change the report (requests must still name a loopback Host{})\n",
            args.host,
            if args.allow_hosts.is_empty() { "; --allow-host NAME lets others in" } else { " or an --allow-host name" }
        ));
    }
    banner.push_str("Press Ctrl-C to stop and print the report.\n");
    eprint!("{banner}");
    let signal = stop.next().await;
    stop.second_ends_the_process();
    eprintln!("\n{}: stopping; the report follows", signal.name());
    let mut report = Report::default();
    for (id, c) in ids.iter().zip(&cassettes) {
        if replay.request_count(id) > 0 {
            report.cassettes.push(replay.report(id, c, Vec::new()));
        }
    }
    if report.cassettes.is_empty() {
        eprintln!("no requests were received; nothing to report");
        return Ok(exit::OK);
    }
    let report = report.finish(args.common.strict());
    write_report(&report, &args.common).map_err(Failure::input)?;
    Ok(report.exit_code())
}
