//! The JUnit XML report: one testcase per cassette, one failure per error finding.

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;

/// Renders the report as JUnit XML.
#[must_use]
pub fn render_junit(report: &Report) -> String {
    let mut junit = JunitReport::new("tooltape");
    let mut suite = TestSuite::new("tooltape");
    for c in &report.cassettes {
        let failing: Vec<_> = c
            .findings
            .iter()
            .filter(|f| f.fails(report.strict))
            .collect();
        let status = if let Some(error) = &c.error {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(error.to_string());
            s.set_type("tooltape.error");
            s
        } else if failing.is_empty() && !c.not_kept.fails(report.strict) {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let not_kept = (!c.not_kept.is_empty()).then(|| {
                format!(
                    "{} errors and {} warnings found but not kept (over the limit on kept findings)",
                    c.not_kept.errors, c.not_kept.warnings
                )
            });
            match failing.first() {
                Some(first) => {
                    s.set_message(format!("{} {}: {}", first.rule, first.name, first.message));
                    s.set_type(first.rule);
                }
                None => {
                    s.set_message(not_kept.clone().unwrap_or_default());
                    s.set_type("tooltape.not-kept");
                }
            }
            let description: Vec<String> = failing
                .iter()
                .map(|f| {
                    let turn = f.turn.map(|t| format!(" (turn {t})")).unwrap_or_default();
                    format!(
                        "{} {} {}{turn}: {}\n  fix: {}",
                        f.rule, f.name, f.severity, f.message, f.hint
                    )
                })
                .chain(not_kept)
                .collect();
            s.set_description(description.join("\n"));
            s
        };
        let mut case = TestCase::new(c.name.clone(), status);
        case.set_classname(format!("tooltape.{}", c.provider));
        let mut out = String::new();
        for f in c.findings.iter().filter(|f| !f.fails(report.strict)) {
            out.push_str(&format!(
                "{} {} {}: {}\n",
                f.rule, f.name, f.severity, f.message
            ));
        }
        if let Some(run) = &c.command {
            out.push_str(&run.stdout);
            case.set_system_err(run.stderr.clone());
        }
        if !out.is_empty() {
            case.set_system_out(out);
        }
        suite.add_test_case(case);
    }
    for s in &report.skipped {
        let mut status = TestCaseStatus::skipped();
        status.set_message(s.reason.clone());
        suite.add_test_case(TestCase::new(s.name.clone(), status));
    }
    junit.add_test_suite(suite);
    junit.to_string().unwrap_or_default()
}
