//! `tooltape import`: recordings people already have into cassettes, one per conversation.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use regex::Regex;
use tooltape::record::{self, ImportOptions, write};

use super::exit::{self, Failure};
use super::output::emit;

pub const IMPORT_HELP: &str = "\
Formats (told from the content, not the file name): vcrpy / pytest-recording YAML (with
pydantic-ai's `parsed_body`), go-vcr YAML (v1, v2), Ruby VCR YAML (`!binary` bodies), HAR 1.1/1.2,
JSON request/response lists (SDK test recorders), a bare JSON response, a bare SSE body, a JSON-lines
event log (one stream event per line). Gzip bodies and gzip-compressed files are decompressed.

Only calls to a provider tooltape reads are kept; the provider is found from the URL's path (any
host, any `/s/{session}` prefix), else from the bodies. Each conversation in a file becomes
DIR/{provider}/{name}.json. A conversation that ends with tool calls gets a synthetic follow-up and
final answer (marked `synthetic`), a response recorded alone a synthetic first request (or the one
given with --request). Headers and URLs are never stored; credential values are scrubbed from the
bodies, --redact scrubs more, and a cassette in which a key-shaped string (`sk-…`, `AIza…`) is left
is not written.

Folders are searched recursively for .yaml .yml .json .har .sse .jsonl .ndjson .chunks.txt (and .gz).
A file that fails does not stop the others: exit code 2 at the end, with a summary.

Examples:
  tooltape import tests/cassettes/ --out fixtures/
  tooltape import session.har --out fixtures/ --redact 'acct-[0-9]+' --dry-run";

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Recording files, or folders searched recursively.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
    /// The folder to write cassettes to (as DIR/{provider}/{name}.json).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// List what would be written; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Replace cassettes that exist.
    #[arg(long)]
    force: bool,
    /// Also scrub every match of REGEX from the bodies (repeatable).
    #[arg(long = "redact", value_name = "REGEX")]
    redact: Vec<String>,
    /// The JSON request body to use for a recording that has only its response.
    #[arg(long, value_name = "FILE")]
    request: Option<PathBuf>,
}

const EXTENSIONS: [&str; 7] = ["yaml", "yml", "json", "har", "sse", "jsonl", "ndjson"];

fn is_recording(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".chunks.txt")
        || EXTENSIONS
            .iter()
            .any(|ext| name.ends_with(&format!(".{ext}")))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_recording(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)
                .with_context(|| format!("cannot read the folder `{}`", path.display()))
                .map_err(Failure::input)?;
        } else {
            files.push(path.clone());
        }
    }
    if files.is_empty() {
        return Err(Failure::input(anyhow!(
            "no recording found in {}; pass recording files, or folders holding {} files",
            paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", "),
            EXTENSIONS.join(", ")
        )));
    }
    Ok(files)
}

fn options(args: &ImportArgs) -> Result<ImportOptions, Failure> {
    let redact = args
        .redact
        .iter()
        .map(|p| {
            Regex::new(p)
                .with_context(|| format!("`--redact {p}` is not a valid regular expression"))
                .map_err(Failure::input)
        })
        .collect::<Result<_, _>>()?;
    let request = match &args.request {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the --request file `{}`", path.display()))
                .map_err(Failure::input)?;
            let body = serde_json::from_str(&text)
                .with_context(|| format!("the --request file `{}` is not JSON", path.display()))
                .map_err(Failure::input)?;
            Some((path.display().to_string(), body))
        }
    };
    Ok(ImportOptions { redact, request })
}

pub fn execute(args: &ImportArgs) -> Result<u8, Failure> {
    let options = options(args)?;
    let files = files(&args.paths)?;
    let mut out = String::new();
    let (mut written, mut failed) = (0, Vec::new());
    for file in &files {
        let cassettes = match record::import_file(file, &options) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                failed.push(file.display().to_string());
                continue;
            }
        };
        let mut file_failed = false;
        for c in &cassettes {
            let target = args.out.join(c.relative_path());
            let what = format!(
                "({}, {} interactions{}) from {}",
                c.file.provider,
                c.file.interactions.len(),
                match c.synthetic() {
                    0 => String::new(),
                    n => format!(", {n} synthetic"),
                },
                c.file.source.format.as_deref().unwrap_or_default()
            );
            if args.dry_run {
                let exists = if target.exists() && !args.force {
                    "  [exists: --force replaces it]"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "would write  {}  {what}{exists}\n",
                    target.display()
                ));
            } else if let Err(kind) = write::write_atomic(&target, &c.to_json(), args.force) {
                eprintln!("error: recording `{}`: {kind}", file.display());
                file_failed = true;
                continue;
            } else {
                out.push_str(&format!("wrote  {}  {what}\n", target.display()));
                written += 1;
            }
            for w in &c.warnings {
                out.push_str(&format!("      warning: {w}\n"));
            }
        }
        if file_failed {
            failed.push(file.display().to_string());
        }
    }
    let verb = if args.dry_run { "would write" } else { "wrote" };
    let count = if args.dry_run {
        out.lines().filter(|l| l.starts_with("would write")).count()
    } else {
        written
    };
    out.push_str(&format!(
        "\n{verb} {count} cassette{} from {} file{}",
        if count == 1 { "" } else { "s" },
        files.len() - failed.len(),
        if files.len() - failed.len() == 1 {
            ""
        } else {
            "s"
        },
    ));
    if failed.is_empty() {
        out.push('\n');
    } else {
        out.push_str(&format!(
            "; {} file{} failed: {}\n",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            failed.join(", ")
        ));
    }
    emit(None, &out).map_err(Failure::input)?;
    Ok(if failed.is_empty() {
        exit::OK
    } else {
        exit::INPUT
    })
}
