//! What a container needs between the pod's deletion and SIGKILL.

use super::drain::Delay;
use crate::model::duration::Millis;

/// The time a container needs between deletion and SIGKILL: the drain delay,
/// then the app's shutdown timeout, then a margin. The preStop time counts
/// because `terminationGracePeriodSeconds` starts when the pod is deleted,
/// before the hook runs, not when the stop signal is sent. The kubelet's
/// one-off 2 s extension for a preStop still running is not counted: it is a
/// last resort, not a budget.
pub fn needed_before_kill(drain: Delay, shutdown_timeout: Millis, margin: Millis) -> Delay {
    drain
        .saturating_add(shutdown_timeout)
        .saturating_add(margin)
}

/// [`needed_before_kill`] in whole seconds, rounded up: the smallest
/// `terminationGracePeriodSeconds` that covers it. `None` when no grace
/// period does (an unbounded drain delay).
pub fn needed_grace_seconds(drain: Delay, shutdown_timeout: Millis, margin: Millis) -> Option<i64> {
    needed_before_kill(drain, shutdown_timeout, margin)
        .ceil_secs()
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn needed_grace_rounds_up() {
        let need = needed_before_kill(secs(5), Millis(20_500), Millis::from_secs(5));
        assert_eq!(need, Delay::Finite(Millis(30_500)));
        assert_eq!(
            needed_grace_seconds(secs(5), Millis(20_500), Millis::from_secs(5)),
            Some(31)
        );
        assert_eq!(
            needed_grace_seconds(secs(5), Millis::from_secs(20), Millis::from_secs(5)),
            Some(30)
        );
        assert_eq!(
            needed_grace_seconds(Delay::Unbounded, Millis(0), Millis(0)),
            None
        );
        assert_eq!(
            needed_grace_seconds(Delay::Finite(Millis(u64::MAX)), Millis(1), Millis(1)),
            Some(i64::try_from(u64::MAX.div_ceil(1000)).unwrap_or(i64::MAX))
        );
    }
}
