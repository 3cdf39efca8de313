//! Progress of a run over many cassettes: a callback told of each cassette as it is judged.

use std::fmt;
use std::sync::Arc;

use super::CassetteReport;

/// The callback: one cassette's report, just made.
type OnJudged = dyn Fn(&CassetteReport) + Send + Sync;

/// What a run or a check calls as each cassette's report is made, in completion order; none
/// by default. The binary draws a progress bar with it.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<OnJudged>>);

impl Progress {
    /// Calls `on_judged` with each cassette's report as soon as it is made.
    #[must_use]
    pub fn new(on_judged: impl Fn(&CassetteReport) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(on_judged)))
    }

    /// Tells the callback, if any, that `cassette` is judged.
    pub fn judged(&self, cassette: &CassetteReport) {
        if let Some(on_judged) = &self.0 {
            on_judged(cassette);
        }
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(callback)"
        } else {
            "Progress(none)"
        })
    }
}
