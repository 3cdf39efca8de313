//! Conformance: rules with stable ids that judge what a loop sent.
//!
//! Rules are pure functions over the transcript ([`RequestContext`], [`SessionContext`]); they
//! never see provider JSON. [`judge_request`] runs every rule on one request and picks the
//! error the real provider would answer with.

mod answers;
mod catalogue;
mod context;
pub mod echo;
mod endpoint;
mod faults;
mod finding;
mod history;
pub mod pairing;
mod parallel;
mod reasoning;
mod results;
mod rule;
mod timing;

pub use answers::{Answered, CallLog};
pub use catalogue::{RULES, judge_request, judge_session, rule};
pub use context::{RequestContext, SessionContext, SessionRequest, UnsupportedRoute};
pub use faults::{FaultLog, RETRY_BOUND, TurnFaults};
pub use finding::{Finding, MAX_MESSAGE, NotKept, Severity, keep_at_most};
pub use rule::{Rule, RuleInfo};
