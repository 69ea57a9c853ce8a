use super::*;
use crate::model::Millis;

/// What the Argo Rollouts documentation recommends at least.
const RECOMMENDED_SECONDS: i64 = 30;

declare_rule! {
    /// ## What it does
    /// Flags an Argo Rollout that stops its old pods sooner after moving the
    /// traffic off them than the policy's `minDrainDelay` allows: a
    /// blue-green's `scaleDownDelaySeconds` (default 30) after the active
    /// Service switches, a traffic-routed canary's `scaleDownDelaySeconds`
    /// (default 30) after the promotion, and an `abortScaleDownDelaySeconds`
    /// written below it, after an abort moves the traffic back. The old
    /// pods' own preStop drain delay counts too: they keep serving through
    /// it once deleted. A canary with `dynamicStableScale` shrinks its stable
    /// pods as soon as the traffic has left them, with no delay: their preStop
    /// drain alone covers the change, which `prestop-hook-missing` and
    /// `prestop-sleep-too-short` judge.
    ///
    /// ## Why it matters
    /// The Argo Rollouts documentation explains the delay: when the rollout
    /// changes a Service's selector (or a router's weights), every node's
    /// kube-proxy, and every ingress or mesh proxy, takes a while to learn
    /// it; until then requests still go to the old pods. Pods stopped before
    /// the change has reached everyone drop those requests, at every
    /// release. The documentation recommends at least 30 seconds.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web-active
    ///     scaleDownDelaySeconds: 0
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web-active
    ///     scaleDownDelaySeconds: 30
    /// ```
    ///
    /// ## Fix
    /// Sets the delay to 30 seconds, or to what `minDrainDelay` needs when
    /// that is more.
    ///
    /// ## Settings
    /// - `minDrainDelay`: how long the traffic change takes to reach every
    ///   proxy (default `5s`).
    /// - `assumedHookSeconds`: how long a preStop hook that is not a sleep
    ///   is taken to drain (default `5s`).
    /// - `shellessImages`: images in which an exec hook's shell is missing,
    ///   so the hook fails at once and drains nothing.
    pub struct ScaleDownDelayTooShort {
        id: "scale-down-delay-too-short",
        family: Rollout,
        scope: Object,
        fix: Always,
        settings: ["minDrainDelay", "assumedHookSeconds", "shellessImages"],
    }
}

impl Rule for ScaleDownDelayTooShort {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let count = cx.index.min_replicas(w).unwrap_or(1);
        let (strategy, delay, abort, dynamic) = match w.rolling(count, cx.kubernetes) {
            Rolling::BlueGreen(bg) => (
                "blueGreen",
                bg.scale_down_delay_seconds,
                bg.abort_scale_down_delay_seconds,
                false,
            ),
            Rolling::Canary(canary) => match canary.scale_down_delay_seconds {
                Some(delay) => ("canary", delay, abort_delay(w), canary.dynamic_stable_scale),
                None => return,
            },
            _ => return,
        };
        let pods = cx.index.template_owner(w);
        let shutdown = cx.pod_shutdown(pods);
        let Some(drain) = shutdown
            .containers
            .iter()
            .filter(|m| m.serves)
            .filter_map(|m| m.accepting_for().finite())
            .min()
        else {
            return;
        };
        let min = cx.settings.min_drain_delay;
        // With `dynamicStableScale` the stable pods go without any delay:
        // their drain is the shutdown rules' to judge.
        let delay = (!dynamic).then_some(delay);
        for (field, seconds) in [
            ("scaleDownDelaySeconds", delay),
            ("abortScaleDownDelaySeconds", abort),
        ] {
            let Some(seconds) = seconds else { continue };
            let covered = Millis::from_secs(u64::try_from(seconds).unwrap_or(0)).0 + drain.0;
            if covered >= min.0 {
                continue;
            }
            let written = format!("/spec/strategy/{strategy}/{field}");
            let at = if w.doc.value.pointer(&written).is_some() {
                written.clone()
            } else {
                format!("/spec/strategy/{strategy}")
            };
            let needed = (min.0.saturating_sub(drain.0)).div_ceil(1000);
            let target = i64::try_from(needed)
                .unwrap_or(i64::MAX)
                .max(RECOMMENDED_SECONDS);
            let (pods, when) = if field == "abortScaleDownDelaySeconds" {
                ("new", "once an abort has moved the traffic back off them")
            } else if strategy == "blueGreen" {
                ("old", "once the active Service has switched away from them")
            } else {
                ("old", "once the promotion has moved the traffic off them")
            };
            let message = format!(
                "`{field}: {seconds}`{} stops the {pods} pods {when}, and their preStop drain adds {}: nodes and proxies that have not yet seen the change still send them requests (`minDrainDelay` is {})",
                if at == written { "" } else { " (the default)" },
                drain,
                min
            );
            let pointer = format!("/spec/strategy/{strategy}/{field}");
            let fix = fix_delay(w, &pointer, target);
            out.push(
                Violation::new(at, message, format!("set `{field}: {target}`, long enough for the change to reach every node and proxy"))
                    .with_fix(fix)
                    .short_by(i64::try_from(min.0 - covered).unwrap_or(0)),
            );
        }
    }
}

/// A canary's `abortScaleDownDelaySeconds` as the controller reads it with
/// traffic routing: 30 when absent, never scaled down at 0.
fn abort_delay(w: &Workload) -> Option<i64> {
    let Rollout::Argo(rollout) = &w.rollout else {
        return None;
    };
    match rollout
        .strategy
        .canary
        .as_ref()?
        .abort_scale_down_delay_seconds
    {
        Some(0) => None,
        Some(n) => Some(i64::from(n)),
        None => Some(crate::model::rollout::ARGO_DEFAULT_SCALE_DOWN_DELAY_SECONDS),
    }
}

fn fix_delay(w: &Workload, pointer: &str, seconds: i64) -> Option<Fix> {
    let mut document: Value = (*w.doc.value).clone();
    let op = fix::set_creating_parents(&document, pointer, json!(seconds));
    fix::apply(&mut document, std::slice::from_ref(&op)).ok()?;
    let field = pointer.rsplit('/').next().unwrap_or_default();
    Some(Fix::safe(format!("set `{field}: {seconds}`"), vec![op]))
}
