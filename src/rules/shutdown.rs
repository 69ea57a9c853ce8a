//! Rules of this family: declarations only so far; their checks are being written.
use super::Rule;

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct PrestopHookMissing {
        id: "prestop-hook-missing",
        fix: Sometimes,
        settings: [],
    }
}

impl Rule for PrestopHookMissing {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct PrestopSleepTooShort {
        id: "prestop-sleep-too-short",
        fix: Sometimes,
        settings: [],
    }
}

impl Rule for PrestopSleepTooShort {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct PrestopExecWithoutShell {
        id: "prestop-exec-without-shell",
        fix: Sometimes,
        settings: [],
    }
}

impl Rule for PrestopExecWithoutShell {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct SleepActionUnsupported {
        id: "sleep-action-unsupported",
        fix: None,
        settings: [],
    }
}

impl Rule for SleepActionUnsupported {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct GracePeriodTooShort {
        id: "grace-period-too-short",
        fix: Always,
        settings: [],
    }
}

impl Rule for GracePeriodTooShort {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct PrestopExceedsGracePeriod {
        id: "prestop-exceeds-grace-period",
        fix: Always,
        settings: [],
    }
}

impl Rule for PrestopExceedsGracePeriod {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct ShutdownTimeoutUnknown {
        id: "shutdown-timeout-unknown",
        fix: None,
        settings: [],
    }
}

impl Rule for ShutdownTimeoutUnknown {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct GracePeriodExcessive {
        id: "grace-period-excessive",
        fix: None,
        settings: [],
    }
}

impl Rule for GracePeriodExcessive {}
