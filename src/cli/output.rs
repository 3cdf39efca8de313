//! Rendering a report in the chosen format and writing it out.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};
use tooltape::report::{Report, render_human, render_junit};

use super::args::{Common, Format};

/// The report in the format `common` asks for; human text is coloured only on a terminal
/// without NO_COLOR.
pub fn render(report: &Report, common: &Common) -> String {
    match common.format {
        Format::Json => report.to_json(),
        Format::Junit => render_junit(report),
        Format::Human => {
            let color = common.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            render_human(report, color)
        }
    }
}

/// Writes `text` to `output`, or to standard output.
///
/// # Errors
/// The file cannot be written, or standard output is closed.
pub fn emit(output: Option<&Path>, text: &str) -> Result<()> {
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the report to `{}`", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Renders the report as `common` asks and writes it where `common` says.
///
/// # Errors
/// As [`emit`].
pub fn write_report(report: &Report, common: &Common) -> Result<()> {
    emit(common.output.as_deref(), &render(report, common))
}
