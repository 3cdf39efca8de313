//! `tooltape rules`: the rule catalogue.

use tooltape::conformance::RULES;

use super::args::ListingFormat;
use super::exit::{self, Failure};
use super::output::emit;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: ListingFormat,
}

pub fn execute(args: &RulesArgs) -> Result<u8, Failure> {
    let text = match args.format {
        ListingFormat::Json => {
            let rules: Vec<_> = RULES
                .iter()
                .map(|r| {
                    let i = r.info();
                    serde_json::json!({"id": i.id, "name": i.name, "severity": i.severity, "summary": i.summary})
                })
                .collect();
            serde_json::to_string_pretty(&rules).unwrap_or_default() + "\n"
        }
        ListingFormat::Human => {
            let mut out = String::new();
            for r in RULES {
                let i = r.info();
                out.push_str(&format!(
                    "{}  {:<24} {:<8} {}\n",
                    i.id,
                    i.name,
                    i.severity.to_string(),
                    i.summary
                ));
            }
            out
        }
    };
    emit(None, &text).map_err(Failure::input)?;
    Ok(exit::OK)
}
