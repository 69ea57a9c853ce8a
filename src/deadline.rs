//! When work must stop: a point in time, a flag another thread can raise, or
//! both. The engine and the fix loop look at it between units of work, so a
//! review the webhook has given up on stops within one unit instead of running
//! to the end on a thread nobody waits for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A deadline that never passes unless cancelled.
#[derive(Debug, Clone, Default)]
pub struct Deadline {
    at: Option<Instant>,
    cancelled: Option<Arc<AtomicBool>>,
}

/// The work was abandoned: its deadline passed or it was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the deadline passed before the work was done")]
pub struct Expired;

impl Deadline {
    /// No limit: the work runs to its end.
    pub fn none() -> Self {
        Deadline::default()
    }

    /// Expires at `at`.
    pub fn at(at: Instant) -> Self {
        Deadline {
            at: Some(at),
            cancelled: None,
        }
    }

    /// Also expires as soon as `flag` is raised.
    pub fn or_cancelled(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancelled = Some(flag);
        self
    }

    pub fn expired(&self) -> bool {
        self.cancelled
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
            || self.at.is_some_and(|at| Instant::now() >= at)
    }

    /// `Err(Expired)` once the deadline has passed: `deadline.check()?`.
    pub fn check(&self) -> Result<(), Expired> {
        if self.expired() { Err(Expired) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expires_at_its_time_or_when_cancelled() {
        assert_eq!(Deadline::none().check(), Ok(()));
        let past = Instant::now()
            .checked_sub(Duration::from_millis(1))
            .unwrap_or_else(Instant::now);
        assert_eq!(Deadline::at(past).check(), Err(Expired));
        let flag = Arc::new(AtomicBool::new(false));
        let later =
            Deadline::at(Instant::now() + Duration::from_secs(60)).or_cancelled(Arc::clone(&flag));
        assert!(!later.expired());
        flag.store(true, Ordering::Relaxed);
        assert!(later.expired());
    }
}
