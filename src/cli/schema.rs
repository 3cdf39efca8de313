//! `tooltape schema`: the cassette format's JSON Schema.

use tooltape::cassette;

use super::exit::{self, Failure};
use super::output::emit;

pub fn execute() -> Result<u8, Failure> {
    let text = serde_json::to_string_pretty(&cassette::schema()).unwrap_or_default();
    emit(None, &(text + "\n")).map_err(Failure::input)?;
    Ok(exit::OK)
}
