//! Rules on requests that switch parallel tool calls off (TT017).

use super::context::RequestContext;
use super::finding::{Finding, Severity};
use super::rule::{Rule, RuleInfo};

/// TT017.
pub struct ParallelCallsDisabled;
static TT017: RuleInfo = RuleInfo {
    id: "TT017",
    name: "parallel-calls-disabled",
    severity: Severity::Warning,
    summary: "the request switched parallel calls off but is served a recorded turn with several calls, which the real API never produces: the cassette is no evidence for this loop",
};
impl Rule for ParallelCallsDisabled {
    fn info(&self) -> &'static RuleInfo {
        &TT017
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        if request.parallel_tool_calls {
            return;
        }
        let turn = cx.echoes().next;
        let calls = cx.cassette.calls(turn).len();
        if calls > 1 {
            out.push(TT017.finding(
                Some(turn + 1),
                format!(
                    "the request sets {} but turn {} of the cassette has {calls} calls: the real API would answer with one call at a time, so this turn says nothing about how the loop handles its calls",
                    cx.facts().texts.parallel_off,
                    turn + 1
                ),
                "judge a loop that switches parallel calls off on cassettes recorded the same way (one call per turn), or let it allow parallel calls here",
            ));
        }
    }
}
