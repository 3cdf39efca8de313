//! The flags several subcommands share, and the cassettes their paths select.

use std::path::PathBuf;
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
    /// Only cassettes whose name or path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    #[command(flatten)]
    pub cassette_size: CassetteSize,
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
