//! The flags several subcommands share, and the cassettes their paths select.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::anyhow;
use clap::ValueEnum;
use tooltape::cassette::{self, Cassette};

use super::exit::Failure;

/// How a report is written.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Readable text, coloured on a terminal unless NO_COLOR is set.
    Human,
    /// The stable JSON report.
    Json,
    /// JUnit XML: one testcase per cassette, one failure per error finding.
    Junit,
}

/// How a listing (`validate`, `rules`) is written: it has no test cases, so no JUnit.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ListingFormat {
    /// Readable text.
    Human,
    /// JSON.
    Json,
}

/// What fails a cassette.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Profile {
    /// Errors fail, warnings are shown.
    Default,
    /// Warnings fail too.
    Strict,
}

/// The flags of the subcommands that judge cassettes and write a report.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Strictness: `strict` makes warnings (e.g. split results) fail.
    #[arg(long, value_enum, default_value = "default")]
    pub profile: Profile,
    /// Also write the report in FORMAT to FILE (repeatable), e.g. `--report-to
    /// junit=tooltape.xml` beside the human report on standard output.
    #[arg(long = "report-to", value_name = "FORMAT=FILE", value_parser = parse_report_to)]
    pub report_to: Vec<ReportTo>,
    /// Only cassettes whose name or path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub cassette_size: CassetteSize,
}

/// One more copy of the report: its format and the file it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTo {
    /// The copy's format.
    pub format: Format,
    /// Where it is written.
    pub path: PathBuf,
}

fn parse_report_to(s: &str) -> Result<ReportTo, String> {
    let bad = |why: &str| format!("`{s}`: {why} (expected FORMAT=FILE, e.g. `junit=tooltape.xml`)");
    let (format, path) = s.split_once('=').ok_or_else(|| bad("no `=`"))?;
    let format = Format::from_str(format.trim(), true).map_err(|_| {
        bad(&format!(
            "`{format}` is not a report format: human, json or junit"
        ))
    })?;
    if path.is_empty() {
        return Err(bad("no file after `=`"));
    }
    Ok(ReportTo {
        format,
        path: PathBuf::from(path),
    })
}

/// The limit on a cassette file's size.
#[derive(Debug, clap::Args)]
pub struct CassetteSize {
    /// The largest cassette file read; bytes, or with a KiB/MiB/GiB suffix.
    #[arg(long = "max-cassette-bytes", value_name = "BYTES", default_value = "64MiB", value_parser = super::limits::parse_bytes)]
    pub max: u64,
}

impl Common {
    /// Whether warnings fail.
    pub fn strict(&self) -> bool {
        self.profile == Profile::Strict
    }

    /// Loads every cassette below `paths` that the filter keeps.
    ///
    /// # Errors
    /// A path or cassette cannot be read, or none is left.
    pub fn load(&self, paths: &[PathBuf]) -> Result<Vec<Arc<Cassette>>, Failure> {
        let filter = self.filter.as_deref();
        let mut cassettes = Vec::new();
        for file in cassette::discover(paths).map_err(Failure::input)? {
            let c =
                Cassette::load_checked(&file, self.cassette_size.max).map_err(Failure::input)?;
            let keep =
                filter.is_none_or(|f| c.name().contains(f) || file.to_string_lossy().contains(f));
            if keep {
                cassettes.push(Arc::new(c));
            }
        }
        if cassettes.is_empty() {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(Failure::input(anyhow!(
                "no cassette found in {}{}; pass cassette files or folders of *.json cassettes",
                shown.join(", "),
                filter
                    .map(|f| format!(" matching `{f}`"))
                    .unwrap_or_default()
            )));
        }
        Ok(cassettes)
    }
}

/// One shard of a run split over several CI jobs: shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which shard, from 1.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not K/N with 1 <= K <= N (e.g. `--partition 2/4`)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The flag that splits `run` and `check` over CI jobs.
#[derive(Debug, clap::Args)]
pub struct Sharding {
    /// Run only shard K of N (e.g. `2/4`): the selected cassettes, sorted by path, are dealt
    /// out in turn, so N jobs with K = 1..N run every cassette exactly once. A shard that gets
    /// no cassette reports none and exits 0.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<Partition>,
}

impl Sharding {
    /// The cassettes of this shard (all of them without `--partition`), and prints on stderr
    /// which share it took.
    #[must_use]
    pub fn select(&self, mut cassettes: Vec<Arc<Cassette>>) -> Vec<Arc<Cassette>> {
        let Some(p) = self.partition else {
            return cassettes;
        };
        let total = cassettes.len();
        cassettes.sort_by(|a, b| a.path.cmp(&b.path));
        let mine: Vec<Arc<Cassette>> = cassettes
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % p.count == p.index - 1)
            .map(|(_, c)| c)
            .collect();
        eprintln!(
            "partition {p}: {} of the {total} cassettes selected{}",
            mine.len(),
            if mine.is_empty() {
                "; nothing to run"
            } else {
                ""
            }
        );
        mine
    }
}
