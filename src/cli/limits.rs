//! The limits of the replay server, as flags of `serve` and `check`.

use std::time::Duration;

use tooltape::server::Limits;

/// What the replay server keeps and accepts (see the README's "Limits").
#[derive(Debug, clap::Args)]
pub struct LimitArgs {
    /// The largest request body accepted (a larger one is answered 413); bytes, or with a
    /// KiB/MiB/GiB suffix.
    #[arg(long, value_name = "BYTES", default_value = "32MiB", value_parser = parse_bytes)]
    max_body: u64,
    /// Findings kept per request, errors first; the rest are counted and still fail the verdict.
    #[arg(long, value_name = "N", default_value_t = Limits::default().findings_per_request)]
    max_findings_per_request: usize,
    /// Distinct findings kept per cassette session; the rest are counted and still fail the
    /// verdict.
    #[arg(long, value_name = "N", default_value_t = Limits::default().findings_per_session)]
    max_findings_per_session: usize,
    /// Journal entries kept (the request log; the verdict never depends on it).
    #[arg(long, value_name = "N", default_value_t = Limits::default().journal_entries)]
    journal_entries: usize,
    /// Journal memory kept, estimated; bytes, or with a KiB/MiB/GiB suffix.
    #[arg(long, value_name = "BYTES", default_value = "64MiB", value_parser = parse_bytes)]
    journal_bytes: u64,
    /// Seconds a connection may take to send a request's headers (also how long a kept-alive
    /// connection may sit idle between requests); 0 turns it off.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    header_timeout: u64,
    /// Seconds a connection may move no bytes while none of its requests is being answered
    /// (a slow body, a silent client); 0 turns it off.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    idle_timeout: u64,
}

impl LimitArgs {
    /// The limits the flags set.
    pub fn limits(&self) -> Limits {
        Limits {
            max_body: usize::try_from(self.max_body).unwrap_or(usize::MAX),
            findings_per_request: self.max_findings_per_request,
            findings_per_session: self.max_findings_per_session,
            journal_entries: self.journal_entries,
            journal_bytes: usize::try_from(self.journal_bytes).unwrap_or(usize::MAX),
            header_timeout: Duration::from_secs(self.header_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
        }
    }
}

/// `123`, `64KiB`, `32MiB`, `1GiB` (also `K`, `M`, `G`, `KB`…, all powers of 1024) as bytes.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: write bytes, e.g. 1048576 or 1MiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit `{other}`: use KiB, MiB or GiB")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_bytes("123"), Ok(123));
        assert_eq!(parse_bytes("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_bytes("32MiB"), Ok(32 * 1024 * 1024));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
    }

    #[test]
    fn the_defaults_are_the_librarys() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            limits: LimitArgs,
        }
        assert_eq!(Cli::parse_from(["x"]).limits.limits(), Limits::default());
    }
}
