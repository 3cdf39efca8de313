//! `tooltape serve`: the replay server for the user's own loop; Ctrl-C prints the report.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use tooltape::report::{CassetteReport, Report};
use tooltape::server::{Replay, ReplayServer};

use super::args::Common;
use super::exit::{self, Failure};
use super::output::write_report;

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
    /// Address to listen on. Keep the loopback default unless you know why not.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
}

pub async fn execute(args: ServeArgs) -> Result<u8, Failure> {
    let cassettes = args.common.load(&args.paths)?;
    let replay = Arc::new(Replay::new());
    let ids = replay.add_sessions(&cassettes);
    let server = ReplayServer::bind(SocketAddr::new(args.host, args.port), replay.clone())
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
            "  {:<12} {}\n      {env}\n      prompt: {:?}\n",
            c.provider().name(),
            c.name(),
            c.prompt()
        ));
    }
    if cassettes.len() == 1 {
        banner.push_str(&format!(
            "The bare base URLs work too: OPENAI_BASE_URL={}, ANTHROPIC_BASE_URL={}\n",
            server.openai_base_url(),
            server.anthropic_base_url()
        ));
    }
    banner.push_str("Press Ctrl-C to stop and print the report.\n");
    eprint!("{banner}");
    let _ = tokio::signal::ctrl_c().await;
    let mut report = Report::default();
    for (id, c) in ids.iter().zip(&cassettes) {
        if replay.request_count(id) > 0 {
            let mut entry = CassetteReport::new(c, replay.findings(id), Vec::new());
            entry.notes = replay.served_notes(id);
            report.cassettes.push(entry);
        }
    }
    if report.cassettes.is_empty() {
        eprintln!("\nno requests were received; nothing to report");
        return Ok(exit::OK);
    }
    let report = report.finish(args.common.strict());
    write_report(&report, &args.common).map_err(Failure::input)?;
    Ok(report.exit_code())
}
