//! Shutdown rules: what happens between a pod's deletion and SIGKILL.
//!
//! When a pod is deleted, endpoint removal and the kubelet's termination start
//! at the same moment. Each container's `preStop` hook runs first (the drain
//! delay, while load balancers stop routing to the pod), then the stop signal,
//! then the app's own shutdown; `terminationGracePeriodSeconds` counts all of
//! it from the deletion, and SIGKILL ends whatever is still running.
//!
//! Every rule reads the same facts, [`PodShutdown`], computed in the model;
//! this module holds what their messages and fixes share.

mod grace_period_excessive;
mod grace_period_too_short;
mod prestop_exceeds_grace_period;
mod prestop_exec_without_shell;
mod prestop_hook_missing;
mod prestop_sleep_too_short;
mod shutdown_timeout_unknown;
mod sleep_action_unsupported;

pub use grace_period_excessive::GracePeriodExcessive;
pub use grace_period_too_short::GracePeriodTooShort;
pub use prestop_exceeds_grace_period::PrestopExceedsGracePeriod;
pub use prestop_exec_without_shell::PrestopExecWithoutShell;
pub use prestop_hook_missing::PrestopHookMissing;
pub use prestop_sleep_too_short::PrestopSleepTooShort;
pub use shutdown_timeout_unknown::ShutdownTimeoutUnknown;
pub use sleep_action_unsupported::SleepActionUnsupported;

use serde_json::{Value, json};

use super::cel::{ALL_KINDS, Check, RuleCel, first_failing};
use super::{Context, Rule, Settings, Violation, replacement_overlaps};
use crate::fix::{Fix, PatchOp, set, set_creating_parents};
use crate::model::shutdown::{
    ContainerShutdown, Delay, DelayBasis, DelayEdit, DrainDelay, GracePeriod,
    IN_APP_DRAIN_ANNOTATION, PodShutdown, PreStopHook, ProgramKind, SHUTDOWN_TIMEOUT_ANNOTATION,
    ShutdownTimeout, TimeoutOrigin, TimeoutSource, only_sleeps, shelless_glob,
};
use crate::model::{ContainerRef, KubeVersion, Millis, Workload};
use crate::severity::Severity;

/// The `shellessImages` glob a container's image matches, unless its tag
/// names a variant with a shell.
fn shelless_image<'s>(cx: &'s Context<'_>, c: &ContainerRef<'_>) -> Option<&'s str> {
    shelless_glob(&cx.settings.shelless_images, c.container.image.as_deref()?)
}

/// The grace period field, or the pod spec that should hold it.
fn grace_pointer(pod: &PodShutdown<'_>) -> String {
    if pod.grace.written {
        pod.workload
            .pod_spec_field(&["terminationGracePeriodSeconds"])
    } else {
        pod.workload.pod_spec_pointer()
    }
}

/// "`30s` (the default)" or "`45s`".
fn grace_text(pod: &PodShutdown<'_>) -> String {
    if pod.grace.written {
        format!("`{}`", secs_text(pod.grace.seconds))
    } else {
        format!("`{}` (the default)", secs_text(pod.grace.seconds))
    }
}

fn set_grace(pod: &PodShutdown<'_>, seconds: i64) -> PatchOp {
    set_creating_parents(
        &pod.workload.doc.value,
        &pod.workload
            .pod_spec_field(&["terminationGracePeriodSeconds"]),
        Value::from(seconds),
    )
}

/// The grace period raise a fix giving container `at` a drain delay of
/// `drain` needs, as an operation and its value.
fn grace_raise(pod: &PodShutdown<'_>, at: usize, drain: Millis) -> Option<(PatchOp, i64)> {
    pod.raise_for(at, drain)
        .map(|target| (set_grace(pod, target), target))
}

/// The help's words for a grace period raise.
fn raise_help(raise: Option<&(PatchOp, i64)>) -> String {
    raise
        .map(|(_, target)| {
            format!(", and set `terminationGracePeriodSeconds: {target}` so the pod's shutdown still fits in it")
        })
        .unwrap_or_default()
}

/// A safe fix of `op`, with the grace period raise when there is one.
fn fix_with_raise(title: String, op: PatchOp, raise: Option<(PatchOp, i64)>) -> Fix {
    match raise {
        Some((raise, target)) => Fix::safe(
            format!("{title} and raise `terminationGracePeriodSeconds` to `{target}`"),
            vec![op, raise],
        ),
        None => Fix::safe(title, vec![op]),
    }
}

/// Why a fix sets the grace period to `target`, in words, for container
/// `c`: its own need spelled out, or that another container needs more.
fn target_reason(cx: &Context<'_>, c: &ContainerShutdown<'_>, target: i64) -> String {
    let margin = cx.settings.grace_margin;
    let own = crate::model::shutdown::needed_grace_seconds(
        c.drain.delay,
        c.timeout.value().unwrap_or_default(),
        margin,
    );
    let beyond_drain = c
        .drain
        .delay
        .finite()
        .map(|d| i64::try_from(d.0 / 1000 + 1).unwrap_or(i64::MAX));
    if own.max(beyond_drain) != Some(target) {
        return ", what the neediest container of the pod needs".to_owned();
    }
    match &c.timeout {
        ShutdownTimeout::Known { value, source } => format!(
            " to cover drain {} + shutdown `{}` ({source}) + margin `{}`",
            drain_text(&c.drain),
            dur(*value),
            dur(margin)
        ),
        ShutdownTimeout::Malformed { .. } | ShutdownTimeout::Unknown => format!(
            " to cover drain {} + margin `{}`, plus the app's shutdown timeout, which the manifest does not state",
            drain_text(&c.drain),
            dur(margin)
        ),
    }
}

/// The drain delay as the manifest writes it: a `sleep` action's seconds
/// even when negative (which counts as no delay).
pub(super) fn written_delay(drain: &DrainDelay) -> String {
    match drain.hook {
        PreStopHook::Sleep { seconds } => secs_text(seconds),
        _ => delay_text(drain.delay),
    }
}

/// "`5s`", "`5s` (assumed for the httpGet hook)".
pub(super) fn drain_text(drain: &DrainDelay) -> String {
    match (drain.basis, &drain.hook) {
        (DelayBasis::Exact, PreStopHook::None) => {
            format!("`{}` (no preStop hook)", delay_text(drain.delay))
        }
        (DelayBasis::Exact, _) => format!("`{}`", delay_text(drain.delay)),
        (DelayBasis::Assumed, hook) => {
            let what = match hook {
                PreStopHook::HttpGet => "httpGet hook",
                PreStopHook::TcpSocket => "tcpSocket hook",
                _ => "exec hook",
            };
            format!("`{}` (assumed for the {what})", delay_text(drain.delay))
        }
    }
}

/// Whole seconds as Kubernetes' `*Seconds` fields count them: `30s`, `600s`.
pub(super) fn secs_text(seconds: i64) -> String {
    format!("{seconds}s")
}

/// Milliseconds as a signed count, for shortfalls.
pub(super) fn millis_i64(m: Millis) -> i64 {
    i64::try_from(m.0).unwrap_or(i64::MAX)
}

/// A duration in the unit grace periods are written in: whole seconds as
/// `90s`, anything finer as Go writes it (`500ms`, `7.5s`).
pub(super) fn dur(m: Millis) -> String {
    if m.0.is_multiple_of(1000) {
        format!("{}s", m.0 / 1000)
    } else {
        m.to_string()
    }
}

pub(super) fn delay_text(delay: Delay) -> String {
    match delay {
        Delay::Finite(m) => dur(m),
        Delay::Unbounded => "unbounded".to_owned(),
    }
}

/// The container's preStop exec command.
pub(super) fn exec_command<'c>(c: &ContainerRef<'c>) -> &'c [String] {
    c.container
        .lifecycle
        .as_ref()
        .and_then(|l| l.pre_stop.as_ref())
        .and_then(|h| h.exec.as_ref())
        .and_then(|e| e.command.as_deref())
        .unwrap_or_default()
}

/// `argv` with the element at the end of `pointer` replaced by `value`, as a
/// YAML flow sequence: `["sleep", "5"]`.
pub(super) fn edited_command(argv: &[String], pointer: &str, value: &Value) -> String {
    let at = pointer
        .rsplit('/')
        .next()
        .and_then(|token| token.parse::<usize>().ok());
    let words: Vec<String> = argv
        .iter()
        .enumerate()
        .map(|(i, word)| match (Some(i) == at, value.as_str()) {
            (true, Some(new)) => format!("{new:?}"),
            _ => format!("{word:?}"),
        })
        .collect();
    format!("[{}]", words.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_as_durations() {
        assert_eq!(secs_text(30), "30s");
        assert_eq!(secs_text(-1), "-1s");
        assert_eq!(dur(Millis(90_000)), "90s");
        assert_eq!(dur(Millis(7_500)), "7.5s");
        assert_eq!(dur(Millis(500)), "500ms");
    }
}
