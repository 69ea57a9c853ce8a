//! Rules of this family: declarations only so far; their checks are being written.
use super::Rule;

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct RolloutZeroAvailability {
        id: "rollout-zero-availability",
        fix: Sometimes,
        settings: [],
    }
}

impl Rule for RolloutZeroAvailability {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct RolloutLowAvailability {
        id: "rollout-low-availability",
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutLowAvailability {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct RolloutInvalidStrategy {
        id: "rollout-invalid-strategy",
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutInvalidStrategy {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct RolloutRecreateStrategy {
        id: "rollout-recreate-strategy",
        fix: None,
        settings: [],
    }
}

impl Rule for RolloutRecreateStrategy {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct SingleReplica {
        id: "single-replica",
        fix: None,
        settings: [],
    }
}

impl Rule for SingleReplica {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct MinReadySecondsZero {
        id: "min-ready-seconds-zero",
        fix: None,
        settings: [],
    }
}

impl Rule for MinReadySecondsZero {}
