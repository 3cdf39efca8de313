//! `tooltape validate`: lint cassettes without replaying them.

use std::path::PathBuf;

use anyhow::anyhow;
use tooltape::cassette::{self, Cassette, CassetteErrorKind};
use tooltape::report::escape;

use super::args::{CassetteSize, ListingFormat};
use super::exit::{self, Failure};
use super::output::emit;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Cassette files or folders (searched recursively for *.json).
    #[arg(default_value = "fixtures")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: ListingFormat,
    #[command(flatten)]
    cassette_size: CassetteSize,
}

pub fn execute(args: &ValidateArgs) -> Result<u8, Failure> {
    let files = cassette::discover(&args.paths).map_err(Failure::input)?;
    let mut results = Vec::new();
    let mut bad = 0;
    for file in &files {
        let (name, problems) = match Cassette::load_checked(file, args.cassette_size.max) {
            Ok(c) => (c.name().to_owned(), Vec::new()),
            Err(e) => match e.kind {
                CassetteErrorKind::Unfit { name, lints } => (
                    name,
                    lints
                        .into_iter()
                        .map(|l| format!("interaction {}: {}", l.interaction, l.message))
                        .collect::<Vec<_>>(),
                ),
                kind => (file.display().to_string(), vec![kind.to_string()]),
            },
        };
        if !problems.is_empty() {
            bad += 1;
        }
        results.push(serde_json::json!({"path": file, "name": name, "ok": problems.is_empty(), "problems": problems}));
    }
    let text = match args.format {
        ListingFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({"ok": bad == 0, "cassettes": results}))
                .unwrap_or_default()
                + "\n"
        }
        ListingFormat::Human => {
            let mut out = String::new();
            for r in &results {
                let ok = r["ok"].as_bool().unwrap_or(false);
                out.push_str(&format!(
                    "{}  {}\n",
                    if ok { "ok  " } else { "FAIL" },
                    escape(r["path"].as_str().unwrap_or_default())
                ));
                for p in r["problems"].as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "      {}\n",
                        escape(p.as_str().unwrap_or_default())
                    ));
                }
            }
            out.push_str(&format!(
                "\n{} cassettes, {bad} with problems\n",
                results.len()
            ));
            out
        }
    };
    emit(None, &text).map_err(Failure::input)?;
    if files.is_empty() {
        return Err(Failure::input(anyhow!("no cassette found")));
    }
    Ok(if bad == 0 { exit::OK } else { exit::INPUT })
}
