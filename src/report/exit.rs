//! The exit codes of the `tooltape` command (a contract), and the one verdict that maps a
//! report to them.

use super::{Culprit, Report};

/// Everything conforms.
pub const OK: u8 = 0;
/// Conformance errors were found (warnings too under the strict profile).
pub const FINDINGS: u8 = 1;
/// Usage or input error: a bad flag, a bad cassette, no cassette found.
pub const INPUT: u8 = 2;
/// The command under test could not start, timed out, or failed with no finding that explains
/// it.
pub const COMMAND: u8 = 3;

impl Culprit {
    /// The exit code for a cassette this culprit kept from being judged.
    #[must_use]
    pub fn exit_code(self) -> u8 {
        match self {
            Culprit::Cassette => INPUT,
            Culprit::Command => COMMAND,
        }
    }
}

impl Report {
    /// The verdict: when a cassette could not be judged, its culprit's code ([`COMMAND`] before
    /// [`INPUT`]); else [`FINDINGS`] when something does not conform; else [`OK`].
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        let unjudged = self
            .cassettes
            .iter()
            .filter_map(|c| c.error.as_ref())
            .map(|e| e.culprit.exit_code())
            .max();
        match unjudged {
            Some(code) => code,
            None if self.is_conformant() => OK,
            None => FINDINGS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CassetteReport, Incomplete};

    fn cassette(name: &str, error: Option<Incomplete>) -> CassetteReport {
        CassetteReport {
            name: name.to_owned(),
            provider: "openai-chat".to_owned(),
            streaming: false,
            conformant: false,
            requests: None,
            findings: Vec::new(),
            not_kept: crate::conformance::NotKept::default(),
            turns: Vec::new(),
            notes: Vec::new(),
            error,
            command: None,
        }
    }

    fn report(cassettes: Vec<CassetteReport>) -> Report {
        Report {
            cassettes,
            ..Report::default()
        }
        .finish(false)
    }

    #[test]
    fn a_clean_report_exits_ok() {
        assert_eq!(report(vec![cassette("a", None)]).exit_code(), OK);
    }

    #[test]
    fn a_cassette_the_reference_loop_cannot_replay_is_an_input_error() {
        let r = report(vec![
            cassette("a", None),
            cassette("b", Some(Incomplete::cassette("stopped"))),
        ]);
        assert_eq!(r.exit_code(), INPUT);
    }

    #[test]
    fn a_failed_command_wins_over_an_input_error() {
        let r = report(vec![
            cassette("a", Some(Incomplete::cassette("stopped"))),
            cassette("b", Some(Incomplete::command("exit code 7"))),
        ]);
        assert_eq!(r.exit_code(), COMMAND);
    }
}
