//! Rendering a report in the chosen format and writing it out.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};
use tooltape::report::{Report, render_human, render_junit};

use super::args::{Common, Format};

/// The report in `format`; human text is coloured when `color` is set.
fn render_as(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Json => report.to_json(),
        Format::Junit => render_junit(report),
        Format::Human => render_human(report, color),
    }
}

/// The report in the format `common` asks for; human text is coloured only on a terminal
/// without NO_COLOR.
pub fn render(report: &Report, common: &Common) -> String {
    let color = common.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    render_as(report, common.format, color)
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

/// Writes every copy of the report `common` asks for: each `--report-to` file (uncoloured),
/// then the main one where `--output` says.
///
/// # Errors
/// As [`emit`].
pub fn write_report(report: &Report, common: &Common) -> Result<()> {
    for copy in &common.report_to {
        emit(Some(&copy.path), &render_as(report, copy.format, false))?;
    }
    emit(common.output.as_deref(), &render(report, common))
}
