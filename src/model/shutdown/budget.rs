//! One pod's shutdown, computed once: for each long-running container, what
//! its `preStop` hook does, when it gets the stop signal and SIGKILL, when
//! the app's own shutdown timeout runs out, and what grace period it needs.
//! The shutdown rules phrase findings from these facts; `rollsafe timeline`
//! draws them.
//!
//! When a pod is deleted, the grace period starts at once and each
//! container's `preStop` hook runs inside it; the stop signal follows the
//! hook (at once when the hook fails, as an exec hook does in an image with
//! no shell); SIGKILL comes when the grace period is over, and at least 2 s
//! after a stop signal that a hook running the grace period out delayed (the
//! kubelet's one-off extension).

use super::drain::{Delay, DelayBasis, DrainDelay, PreStopHook, drain_delay};
use super::grace::needed_grace_seconds;
use super::timeout::{
    ShutdownTimeout, TimeoutSettings, in_app_drain_of, read_container, timeout_of,
};
use crate::model::duration::Millis;
use crate::model::glob::matching_image_glob;
use crate::model::index::Index;
use crate::model::serving::ServingSettings;
use crate::model::workload::{ContainerRef, Workload};

/// The kubelet's minimum time between the stop signal and SIGKILL
/// (`minimumGracePeriodInSeconds`).
pub const MIN_STOP: Millis = Millis(2_000);

/// What the budget is computed with, borrowed from the policy's settings.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownSettings<'a> {
    /// `assumedHookSeconds`: the length of a hook the manifest does not state.
    pub assumed_hook: Millis,
    /// `shellessImages`: images with no shell or `sleep` for an exec hook.
    pub shelless_images: &'a [String],
    /// `graceMargin`: time between the app's deadline and SIGKILL.
    pub margin: Millis,
    pub timeouts: TimeoutSettings<'a>,
    pub serving: ServingSettings<'a>,
}

/// `terminationGracePeriodSeconds` as the kubelet uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracePeriod {
    pub seconds: i64,
    /// Written in the manifest, not Kubernetes' default of 30.
    pub written: bool,
}

impl GracePeriod {
    pub fn as_millis(self) -> Millis {
        Millis::from_secs(self.seconds.max(0).unsigned_abs())
    }
}

/// Why an exec hook fails at once: the image has no program to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFailure {
    /// The `shellessImages` glob the image matches.
    pub glob: String,
}

/// One long-running container's way from deletion to SIGKILL.
#[derive(Debug, Clone)]
pub struct ContainerShutdown<'w> {
    pub container: ContainerRef<'w>,
    pub serves: bool,
    pub drain: DrainDelay,
    /// How long the app keeps serving after the stop signal, failing its
    /// readiness (Istio's proxy, Knative's activator, the
    /// `rollsafe.dev/in-app-drain` annotation); `Unknown` when nothing says
    /// it does.
    pub in_app_drain: ShutdownTimeout,
    /// The app's shutdown timeout, counted from the end of its in-app drain.
    pub timeout: ShutdownTimeout,
    /// Set when the exec hook cannot run in the image.
    pub hook_fails: Option<HookFailure>,
    /// When the stop signal comes, from the deletion: when the hook ends
    /// (at once when it fails), or when the grace period is over.
    pub sigterm_at: Millis,
    /// When SIGKILL comes, from the deletion.
    pub sigkill_at: Millis,
    /// When the app's shutdown timeout runs out, when the timeout is known.
    pub app_deadline: Option<Millis>,
}

impl ContainerShutdown<'_> {
    /// The in-app drain, zero when there is none (or it cannot be read).
    pub fn in_app(&self) -> Millis {
        self.in_app_drain.value().unwrap_or_default()
    }

    /// How long after the deletion the app keeps accepting: the preStop
    /// delay (nothing when the hook fails at once), then its own drain.
    pub fn accepting_for(&self) -> Delay {
        let hook = match self.hook_fails {
            Some(_) => Delay::ZERO,
            None => self.drain.delay,
        };
        hook.saturating_add(self.in_app())
    }

    /// What the app needs after the stop signal: its in-app drain, then its
    /// shutdown timeout (when known).
    pub fn after_signal(&self) -> Option<Millis> {
        Some(self.in_app().saturating_add(self.timeout.value()?))
    }

    /// Whether the `preStop` hook, as written, takes the whole grace period:
    /// the app gets the stop signal only when it is over.
    pub fn hook_outlasts(&self, grace: GracePeriod) -> bool {
        self.drain.hook != PreStopHook::None
            && self.drain.basis == DelayBasis::Exact
            && self.hook_fails.is_none()
            && self.drain.delay >= Delay::Finite(grace.as_millis())
    }

    /// Whether the grace period must cover this container: it serves
    /// traffic, or has a hook of its own.
    pub fn counts(&self) -> bool {
        self.serves || self.drain.hook != PreStopHook::None
    }
}

/// A pod's shutdown: its grace period and its long-running containers.
#[derive(Debug, Clone)]
pub struct PodShutdown<'w> {
    pub workload: &'w Workload,
    pub grace: GracePeriod,
    pub containers: Vec<ContainerShutdown<'w>>,
    margin: Millis,
}

impl<'w> PodShutdown<'w> {
    /// Reads every long-running container of `w`.
    pub fn of(w: &'w Workload, index: &Index, settings: &ShutdownSettings<'_>) -> Self {
        let grace = GracePeriod {
            seconds: w.grace_period_seconds(),
            written: w.pod_spec.termination_grace_period_seconds.is_some(),
        };
        let containers = w
            .long_running_containers()
            .map(|c| {
                let (drain, timeout, in_app_drain) = read_container(w, &c, index, |reading| {
                    (
                        drain_delay(&c, settings.assumed_hook, reading.seen.env),
                        timeout_of(reading, &settings.timeouts),
                        in_app_drain_of(reading),
                    )
                });
                let image = c.container.image.as_deref().unwrap_or_default();
                let hook_fails = drain
                    .needs
                    .as_ref()
                    .and_then(|_| shelless_glob(settings.shelless_images, image))
                    .map(|glob| HookFailure {
                        glob: glob.to_owned(),
                    });
                let hook_ends = match (&hook_fails, drain.delay) {
                    (Some(_), _) => Delay::ZERO,
                    (None, delay) => delay,
                };
                let sigterm_at = match hook_ends {
                    Delay::Finite(end) => end.min(grace.as_millis()),
                    Delay::Unbounded => grace.as_millis(),
                };
                let sigkill_at = grace.as_millis().max(sigterm_at.saturating_add(MIN_STOP));
                let in_app = in_app_drain.value().unwrap_or_default();
                let app_deadline = timeout
                    .value()
                    .map(|t| sigterm_at.saturating_add(in_app).saturating_add(t));
                ContainerShutdown {
                    serves: index.serves_traffic(w, &c, &settings.serving),
                    container: c,
                    drain,
                    in_app_drain,
                    timeout,
                    hook_fails,
                    sigterm_at,
                    sigkill_at,
                    app_deadline,
                }
            })
            .collect();
        PodShutdown {
            workload: w,
            grace,
            containers,
            margin: settings.margin,
        }
    }

    /// The grace period every container needs, in whole seconds: for each
    /// serving container and each container with a preStop hook, drain delay +
    /// shutdown timeout (0 when unknown) + margin, and more than the drain
    /// delay itself. `replace` gives one container a new drain delay (a fix
    /// that adds or lengthens its hook). Unbounded delays are left out: no
    /// grace period covers them.
    pub fn need(&self, replace: Option<(usize, Millis)>) -> i64 {
        let mut need = 0;
        for (at, c) in self.containers.iter().enumerate() {
            let (drain, hooked) = match replace {
                Some((index, drain)) if index == at => (Delay::Finite(drain), true),
                _ => (c.drain.delay, c.drain.hook != PreStopHook::None),
            };
            if !c.serves && !hooked {
                continue;
            }
            let after = c
                .in_app()
                .saturating_add(c.timeout.value().unwrap_or_default());
            if let Some(n) = needed_grace_seconds(drain, after, self.margin) {
                need = need.max(n);
            }
            if let (true, Some(drain)) = (hooked, drain.finite()) {
                need = need.max(i64::try_from(drain.0 / 1000 + 1).unwrap_or(i64::MAX));
            }
        }
        need
    }

    /// What a fix sets the grace period to: [`PodShutdown::need`], never
    /// less than the grace period already is, so that a fix only raises it.
    pub fn target(&self, replace: Option<(usize, Millis)>) -> i64 {
        self.need(replace).max(self.grace.seconds)
    }

    /// The grace period container `c` needs on its own: drain delay +
    /// shutdown timeout + margin, when its timeout is known and its drain
    /// delay bounded.
    pub fn own_need(&self, c: &ContainerShutdown<'_>) -> Option<i64> {
        needed_grace_seconds(c.drain.delay, c.after_signal()?, self.margin)
    }

    /// What the pod needs when every serving container's shutdown timeout
    /// and drain delay are known (and at least one container serves), with
    /// the neediest serving container. A hook whose length is assumed (an
    /// httpGet to a drain endpoint may wait minutes) leaves it unknown.
    pub fn known_need(&self) -> Option<(i64, &ContainerShutdown<'w>)> {
        let mut worst: Option<(i64, &ContainerShutdown<'w>)> = None;
        for c in self.containers.iter().filter(|c| c.serves) {
            if c.drain.basis == DelayBasis::Assumed {
                return None;
            }
            let need = self.own_need(c)?;
            if worst.is_none_or(|(seconds, _)| need > seconds) {
                worst = Some((need, c));
            }
        }
        let (_, neediest) = worst?;
        Some((self.need(None), neediest))
    }

    /// When a fix gives container `at` a drain delay of `drain` that the
    /// grace period would not cover, the grace period it must be raised to.
    /// Not covered means the grace period is not longer than the new delay,
    /// or, for a serving container with a known shutdown timeout, is shorter
    /// than the delay, the timeout and the margin together. So a fix never
    /// leaves the container with a new shutdown finding.
    pub fn raise_for(&self, at: usize, drain: Millis) -> Option<i64> {
        let c = self.containers.get(at)?;
        let need = match (c.serves, c.after_signal()) {
            (true, Some(after)) => needed_grace_seconds(Delay::Finite(drain), after, self.margin),
            _ => None,
        };
        if drain < self.grace.as_millis() && need.is_none_or(|need| need <= self.grace.seconds) {
            return None;
        }
        Some(self.target(Some((at, drain))))
    }
}

/// The glob of `shellessImages` an image matches: an image with no shell or
/// `sleep`, unless its tag names a variant that ships one (`:debug`,
/// `:latest-dev`).
pub fn shelless_glob<'p>(patterns: &'p [String], image: &str) -> Option<&'p str> {
    if has_debug_shell(image) {
        return None;
    }
    matching_image_glob(patterns, image)
}

/// Image tags of variants that ship a busybox shell: distroless `:debug`,
/// `:debug-nonroot`, chainguard `:latest-dev`.
fn has_debug_shell(image: &str) -> bool {
    let without_digest = image.split_once('@').map_or(image, |(name, _)| name);
    let Some((_, tag)) = without_digest.rsplit_once(':') else {
        return false;
    };
    if tag.contains('/') {
        return false;
    }
    tag.split(['-', '_', '.'])
        .any(|part| part == "debug" || part == "dev")
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn settings(shelless: &[String]) -> ShutdownSettings<'_> {
        ShutdownSettings {
            assumed_hook: Millis::from_secs(5),
            shelless_images: shelless,
            margin: Millis::from_secs(5),
            timeouts: TimeoutSettings::default(),
            serving: ServingSettings::default(),
        }
    }

    #[test]
    fn debug_variants_have_a_shell() {
        assert!(has_debug_shell("gcr.io/distroless/static:debug"));
        assert!(has_debug_shell("gcr.io/distroless/base:debug-nonroot"));
        assert!(has_debug_shell("cgr.dev/chainguard/static:latest-dev"));
        assert!(!has_debug_shell("gcr.io/distroless/static:nonroot"));
        assert!(!has_debug_shell("registry:5000/app"));
        assert!(!has_debug_shell("scratch"));
    }

    #[test]
    fn times_from_the_deletion() {
        let mut value = deployment(json!({"name": "app", "image": "x",
            "ports": [{"containerPort": 80}],
            "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "20s"}],
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}));
        value["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = json!(10);
        let w = workload(value);
        let names = vec!["SHUTDOWN_TIMEOUT".to_owned()];
        let mut settings = settings(&[]);
        settings.timeouts.env_names = &names;
        let pod = PodShutdown::of(&w, &Index::default(), &settings);
        let c = &pod.containers[0];
        assert!(c.serves);
        assert_eq!(c.sigterm_at, Millis::from_secs(5));
        assert_eq!(c.sigkill_at, Millis::from_secs(10));
        assert_eq!(c.app_deadline, Some(Millis::from_secs(25)));
        assert_eq!(pod.own_need(c), Some(30));
        assert_eq!(pod.need(None), 30);
        assert!(!c.hook_outlasts(pod.grace));
    }

    #[test]
    fn a_hook_that_fails_or_never_ends() {
        let shelless = vec!["scratch".to_owned()];
        let fails = workload(deployment(json!({"name": "app", "image": "scratch",
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}}})));
        let pod = PodShutdown::of(&fails, &Index::default(), &settings(&shelless));
        let c = &pod.containers[0];
        assert_eq!(
            c.hook_fails.as_ref().map(|f| f.glob.as_str()),
            Some("scratch")
        );
        assert_eq!(c.sigterm_at, Millis(0));
        assert_eq!(c.sigkill_at, Millis::from_secs(30));

        let endless = workload(deployment(json!({"name": "app", "image": "x",
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "infinity"]}}}})));
        let pod = PodShutdown::of(&endless, &Index::default(), &settings(&shelless));
        let c = &pod.containers[0];
        assert_eq!(c.sigterm_at, Millis::from_secs(30));
        assert_eq!(c.sigkill_at, Millis::from_secs(32), "the kubelet's 2s");
        assert!(c.hook_outlasts(pod.grace));
    }
}
