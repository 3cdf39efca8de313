//! `tooltape record`: a loopback proxy to a provider's API that writes what passes as a
//! cassette, with secrets kept out of it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use regex::Regex;
use tokio::net::TcpListener;
use tooltape::provider::Provider;
use tooltape::record::{RecordOptions, Recorder};

use super::exit::{self, Failure};
use super::signals::Stop;

pub const RECORD_HELP: &str = "\
Point your client at the recorder instead of the provider; it forwards every request to
--upstream and streams each response back as it arrives. When a conversation ends (a response
without tool calls) the cassette is written; Ctrl-C (or SIGTERM, SIGHUP) writes what was recorded so far
(a conversation that stops at tool calls is completed with marked synthetic turns) and exits.
Writes are atomic: an interrupted recorder leaves the previous file or none.

Headers and URLs are never stored; the values of credential headers (authorization, x-api-key,
api-key, x-goog-api-key, cookies, organisation and project headers) and of `?key=` are scrubbed
from the bodies, --redact scrubs more, and a cassette in which a key-shaped string (`sk-…`,
`AIza…`) is left is not written.

Example:
  tooltape record --upstream https://api.openai.com --out fixtures/openai-chat/mine.json --port 8090
  OPENAI_BASE_URL=http://127.0.0.1:8090/v1 python my_agent.py";

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The provider's base URL, e.g. https://api.openai.com or https://api.anthropic.com.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// The cassette to write (further conversations go to FILE-2.json, …).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Address to listen on. Keep the loopback default unless you know why not.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Replace the cassette if it exists.
    #[arg(long)]
    force: bool,
    /// Also scrub every match of REGEX from the bodies (repeatable).
    #[arg(long = "redact", value_name = "REGEX")]
    redact: Vec<String>,
}

pub async fn execute(args: RecordArgs) -> Result<u8, Failure> {
    if !(args.upstream.starts_with("http://") || args.upstream.starts_with("https://")) {
        return Err(Failure::input(anyhow!(
            "--upstream `{}` is not an http(s) URL; give the provider's base URL, e.g. https://api.openai.com",
            args.upstream
        )));
    }
    let redact = args
        .redact
        .iter()
        .map(|p| {
            Regex::new(p)
                .with_context(|| format!("`--redact {p}` is not a valid regular expression"))
                .map_err(Failure::input)
        })
        .collect::<Result<_, _>>()?;
    let options = RecordOptions {
        upstream: args.upstream.clone(),
        out: args.out.clone(),
        force: args.force,
        redact,
    };
    // Listening before the banner: a signal sent once the URL is printed is never lost.
    let mut stop = Stop::listen()
        .map_err(|e| Failure::input(anyhow!(e).context("cannot listen for signals")))?;
    let recorder = Recorder::new(options, Box::new(|line| eprintln!("{line}")))
        .map_err(|e| Failure::input(anyhow!("cannot record to `{}`: {e}", args.out.display())))?;
    let recorder = Arc::new(recorder);
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Failure::input(anyhow!(e).context(format!(
            "cannot listen on {addr} (is the port in use? try --port 0)"
        )))
    })?;
    let url = format!("http://{}", listener.local_addr().map_err(Failure::input)?);
    let mut banner = format!("tooltape recorder on {url} -> {}\n", args.upstream);
    for p in Provider::ALL {
        let env = &p.codec().facts().env;
        banner.push_str(&format!(
            "  {:<12} {}={url}{}\n",
            p.name(),
            env.base_url_var,
            env.base_url_suffix
        ));
    }
    banner.push_str(&format!(
        "Writing {} when a conversation ends; Ctrl-C writes what was recorded and stops.\n",
        args.out.display()
    ));
    eprint!("{banner}");
    let server = tokio::spawn(recorder.clone().serve(listener));
    stop.next().await;
    server.abort();
    if recorder.exchanges() == 0 {
        eprintln!("nothing was recorded; no cassette written");
        return Ok(exit::OK);
    }
    match recorder.save().await {
        Ok(_) => Ok(exit::OK),
        Err(e) => Err(Failure::input(anyhow!(
            "cannot write `{}`: {e}",
            args.out.display()
        ))),
    }
}
