//! Rules on where a loop sends its requests (TT016).

use super::context::SessionContext;
use super::finding::{Finding, Severity};
use super::rule::{Rule, RuleInfo};

/// TT016.
pub struct UnsupportedEndpoint;
static TT016: RuleInfo = RuleInfo {
    id: "TT016",
    name: "unsupported-endpoint",
    severity: Severity::Error,
    summary: "the loop called an API or path tooltape does not serve (the reply names the right base URL)",
};
impl Rule for UnsupportedEndpoint {
    fn info(&self) -> &'static RuleInfo {
        &TT016
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let mut seen: Vec<&str> = Vec::new();
        for u in &cx.unsupported {
            if seen.contains(&u.route.as_str()) {
                continue;
            }
            seen.push(&u.route);
            out.push(TT016.finding(
                None,
                format!("`{}` is not served: {}", u.route, u.advice),
                "point the SDK's base URL at the one the environment gives (OPENAI_BASE_URL ends in /v1, ANTHROPIC_BASE_URL does not) and use an API the cassette was recorded with",
            ));
        }
    }
}
