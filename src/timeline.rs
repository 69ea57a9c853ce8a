//! `rollsafe timeline`: what happens, second by second, when a pod of a
//! workload is terminated, and how a rollout replaces its pods step by step.
//!
//! The picture is drawn from the facts the rules read, computed once in the
//! model: each container's shutdown ([`PodShutdown`]) and the workload's
//! resolved rollout ([`Rolling`]). What the picture marks are the findings
//! the engine gave, by rule id: for each container, the shutdown rules'
//! findings on it; for the rollout, the rollout rules'. So the picture and
//! `rollsafe lint` cannot disagree.

use serde::Serialize;

use crate::engine;
use crate::finding::Finding;
use crate::model::rollout::{self, PlanEnd, Rolling, Step, rollout_plan};
use crate::model::shutdown::{PodShutdown, PreStopHook, ShutdownTimeout};
use crate::model::{ContainerRole, Index, Millis, ObjectRef, Workload};
use crate::policy::Policy;
use crate::rules::Family;
use crate::severity::Severity;
use crate::source::{Document, InputError};

/// One workload's termination timeline and rollout plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub object: ObjectRef,
    pub file: String,
    pub line: usize,
    pub grace_period_seconds: i64,
    /// `terminationGracePeriodSeconds` is not written: the default 30.
    pub grace_period_defaulted: bool,
    pub min_drain_delay_seconds: f64,
    pub grace_margin_seconds: f64,
    pub containers: Vec<ContainerTimeline>,
    /// Shutdown findings about the pod as a whole (its grace period).
    pub findings: Vec<Mark>,
    /// `None` for kinds without a rollout of their own (Pod, Job, …).
    pub rollout: Option<RolloutTimeline>,
}

/// One container's way from deletion to SIGKILL. Times in seconds from the
/// pod's deletion.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerTimeline {
    pub name: String,
    /// A native sidecar (`initContainers[]` with `restartPolicy: Always`).
    pub sidecar: bool,
    pub serves_traffic: bool,
    pub pre_stop: PreStop,
    pub sigterm_at: f64,
    /// How long the app keeps serving after SIGTERM, when it drains by itself.
    pub in_app_drain: Option<Timeout>,
    pub shutdown_timeout: Option<Timeout>,
    /// SIGTERM + in-app drain + shutdown timeout, when the timeout is known.
    pub app_deadline: Option<f64>,
    pub sigkill_at: f64,
    /// The shutdown rules' findings on this container.
    pub findings: Vec<Mark>,
}

/// The kind of a `preStop` hook, as the drain delay reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    None,
    /// The kubelet's `sleep` action.
    Sleep,
    ExecSleep,
    /// An exec hook that starts the app's shutdown (`nginx -s quit`).
    StartsShutdown,
    Exec,
    HttpGet,
    TcpSocket,
}

impl HookKind {
    fn of(hook: &PreStopHook) -> Self {
        match hook {
            PreStopHook::None => HookKind::None,
            PreStopHook::Sleep { .. } => HookKind::Sleep,
            PreStopHook::ExecSleep => HookKind::ExecSleep,
            PreStopHook::StartsShutdown { .. } => HookKind::StartsShutdown,
            PreStopHook::Exec => HookKind::Exec,
            PreStopHook::HttpGet => HookKind::HttpGet,
            PreStopHook::TcpSocket => HookKind::TcpSocket,
        }
    }
}

/// The container's `preStop` hook as the drain delay goes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreStop {
    pub kind: HookKind,
    /// How long it runs; `None` when it never ends (`sleep infinity`).
    pub seconds: Option<f64>,
    /// The length is the policy's `assumedHookSeconds`, not read.
    pub assumed: bool,
    /// Why the hook fails at once, when it does.
    pub fails: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeout {
    pub seconds: f64,
    /// Where it was read: ``env `SHUTDOWN_TIMEOUT` ``.
    pub source: String,
}

/// A finding the picture marks: what `rollsafe lint` reports there.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
}

impl Mark {
    fn of(finding: &Finding) -> Self {
        Mark {
            rule: finding.rule.id,
            severity: finding.severity,
            message: finding.message.clone(),
        }
    }
}

/// How a rollout replaces the workload's pods.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutTimeline {
    /// `RollingUpdate`, `Recreate`, `OnDelete`, or the unknown type as written.
    pub strategy: String,
    /// The smallest scale the workload runs at; `None` for a DaemonSet.
    pub replicas: Option<i64>,
    /// Where `replicas` comes from, in words.
    pub replicas_from: Option<String>,
    pub max_surge: Option<Budget>,
    pub max_unavailable: Option<Budget>,
    pub steps: Vec<Step>,
    /// An Argo Rollouts canary's steps: the pods of each side and the
    /// canary's real share of the traffic.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub canary_steps: Vec<rollout::CanaryStepState>,
    /// An Argo Rollouts blue-green's switch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreenSwitch>,
    /// `complete`, `stalled` or `truncated` (see `model::rollout::PlanEnd`).
    pub end: Option<PlanEnd>,
    pub note: Option<String>,
    /// The rollout rules' findings on the workload.
    pub findings: Vec<Mark>,
}

/// A blue-green rollout's switch of its active Service, and how long the
/// old pods then keep running.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenSwitch {
    pub active_service: Option<String>,
    pub preview_service: Option<String>,
    /// New pods started before the switch (`previewReplicaCount`, else all).
    pub preview_pods: i64,
    /// The switch waits for `kubectl argo rollouts promote`.
    pub manual_promotion: bool,
    pub scale_down_delay_seconds: i64,
}

/// A rollout field as written and what it resolves to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub written: String,
    pub defaulted: bool,
    /// Pods it resolves to; `None` for a DaemonSet's share of nodes.
    pub pods: Option<i64>,
}

impl Budget {
    /// `setting` as written, resolving to `pods`.
    fn of(setting: &rollout::Setting, pods: Option<i64>) -> Budget {
        Budget {
            written: setting.to_string(),
            defaulted: setting.defaulted,
            pods,
        }
    }
}

/// The timelines of every workload in `documents`, and the documents that
/// could not be read.
pub fn timelines(documents: &[Document], policy: &Policy) -> (Vec<Timeline>, Vec<InputError>) {
    let (outcome, index) = engine::evaluate_with_index(documents, policy);
    let timelines = index
        .workloads
        .iter()
        .map(|w| {
            let findings: Vec<&Finding> = outcome
                .findings
                .iter()
                .filter(|f| {
                    std::sync::Arc::ptr_eq(&f.doc.file, &w.doc.file) && f.doc.start == w.doc.start
                })
                .collect();
            timeline(w, &index, policy, &findings)
        })
        .collect();
    (timelines, outcome.errors)
}

fn secs(m: Millis) -> f64 {
    m.as_secs_f64()
}

/// `5s`, `1.5s`, `1m30s`: seconds as a Go duration.
pub fn duration(seconds: f64) -> String {
    Millis((seconds.max(0.0) * 1000.0).round() as u64).to_string()
}

/// The findings of `family` on `container` (or on no container).
fn marks(findings: &[&Finding], family: Family, container: Option<&str>) -> Vec<Mark> {
    findings
        .iter()
        .filter(|f| f.rule.family == family && f.container.as_deref() == container)
        .map(|f| Mark::of(f))
        .collect()
}

fn timeline(w: &Workload, index: &Index, policy: &Policy, findings: &[&Finding]) -> Timeline {
    let settings = &policy.settings;
    let pod = PodShutdown::of(w, index, &settings.shutdown());
    let containers = pod
        .containers
        .iter()
        .map(|c| {
            let name = c.container.name();
            let stated = |reading: &ShutdownTimeout| match reading {
                ShutdownTimeout::Known { value, source } => Some(Timeout {
                    seconds: secs(*value),
                    source: source.to_string(),
                }),
                ShutdownTimeout::Malformed { .. } | ShutdownTimeout::Unknown => None,
            };
            let shutdown_timeout = stated(&c.timeout);
            ContainerTimeline {
                name: name.to_owned(),
                sidecar: c.container.role == ContainerRole::NativeSidecar,
                serves_traffic: c.serves,
                pre_stop: PreStop {
                    kind: HookKind::of(&c.drain.hook),
                    seconds: c.drain.delay.finite().map(secs),
                    assumed: c.drain.basis == crate::model::shutdown::DelayBasis::Assumed,
                    fails: c.hook_fails.as_ref().map(|f| {
                        let image = c.container.container.image.as_deref().unwrap_or_default();
                        let program = c
                            .drain
                            .needs
                            .as_ref()
                            .map_or("sh", |needs| needs.argv0.as_str());
                        format!("image `{image}` (matches `{}`) has no `{program}`", f.glob)
                    }),
                },
                sigterm_at: secs(c.sigterm_at),
                in_app_drain: stated(&c.in_app_drain),
                shutdown_timeout,
                app_deadline: c.app_deadline.map(secs),
                sigkill_at: secs(c.sigkill_at),
                findings: marks(findings, Family::Shutdown, Some(name)),
            }
        })
        .collect();
    Timeline {
        object: w.object.clone(),
        file: w.doc.file.name().to_owned(),
        line: w.doc.file.line_col(w.doc.start).0,
        grace_period_seconds: pod.grace.seconds,
        grace_period_defaulted: !pod.grace.written,
        min_drain_delay_seconds: secs(settings.min_drain_delay),
        grace_margin_seconds: secs(settings.grace_margin),
        containers,
        findings: marks(findings, Family::Shutdown, None),
        rollout: rollout_timeline(w, index, policy, findings),
    }
}

fn rollout_timeline(
    w: &Workload,
    index: &Index,
    policy: &Policy,
    findings: &[&Finding],
) -> Option<RolloutTimeline> {
    let replicas = index.min_replicas(w);
    let replicas_from = replicas.map(|_| match index.hpa_targeting(w) {
        Some(hpa) => format!(
            "`minReplicas` of HorizontalPodAutoscaler `{}`",
            hpa.object.name
        ),
        None if w.replicas.is_some() => "`spec.replicas`".to_owned(),
        None => "the default `replicas: 1`".to_owned(),
    });
    let count = replicas.unwrap_or(0);
    let rolling = w.rolling(count, policy.kubernetes_version);
    let mut out = RolloutTimeline {
        strategy: rolling.type_name().to_owned(),
        replicas,
        replicas_from,
        max_surge: None,
        max_unavailable: None,
        steps: Vec::new(),
        canary_steps: Vec::new(),
        blue_green: None,
        end: None,
        note: None,
        findings: marks(findings, Family::Rollout, None),
    };
    match rolling {
        Rolling::None => return None,
        Rolling::Deployment(rolling) => {
            let f = &rolling.fenceposts;
            out.max_surge = Some(Budget::of(&rolling.max_surge, Some(f.max_surge)));
            out.max_unavailable = Some(Budget::of(
                &rolling.max_unavailable,
                Some(f.max_unavailable),
            ));
            if f.zero_fallback {
                out.note = Some(
                    "maxSurge and maxUnavailable both resolve to 0: Kubernetes takes maxUnavailable as 1".to_owned(),
                );
            }
            let plan = rollout_plan(f);
            out.end = Some(plan.end);
            out.steps = plan.steps;
        }
        Rolling::Canary(canary) => {
            let f = &canary.fenceposts;
            // A router's weights move the traffic: the stable pods are not
            // replaced under maxSurge and maxUnavailable.
            if !canary.traffic_routed {
                out.max_surge = Some(Budget::of(&canary.max_surge, Some(f.max_surge)));
                out.max_unavailable = Some(Budget::of(
                    &canary.max_unavailable,
                    Some(f.unavailable_budget()),
                ));
            }
            out.note = Some(match canary.scale_down_delay_seconds {
                Some(_) if canary.dynamic_stable_scale => "a router splits the traffic by weight; the stable pods shrink as their share does, each stopped as soon as the traffic has left it".to_owned(),
                Some(delay) => format!(
                    "a router splits the traffic by weight; the stable pods keep running until {delay} s after the promotion moved the traffic off them"
                ),
                None => format!(
                    "no traffic routing: the Service spreads requests over canary and stable pods alike, so a step's share is the canary's share of the pods; between steps at least {} pods stay ready",
                    f.min_available()
                ),
            });
            out.canary_steps = canary.steps;
        }
        Rolling::BlueGreen(blue_green) => {
            out.note = Some(format!(
                "the new pods start beside the old ones; once all {} are ready the active Service switches to them, and the old pods stop {} s later",
                count, blue_green.scale_down_delay_seconds
            ));
            out.blue_green = Some(BlueGreenSwitch {
                active_service: blue_green.active_service,
                preview_service: blue_green.preview_service,
                preview_pods: blue_green.preview_pods,
                manual_promotion: !blue_green.auto_promotion,
                scale_down_delay_seconds: blue_green.scale_down_delay_seconds,
            });
        }
        Rolling::Recreate => {
            out.note = Some("every old pod stops before the first new one starts".to_owned());
            out.steps = recreate_steps(count);
        }
        Rolling::StatefulSet { rolling, .. } => {
            let at_once = rolling.max_unavailable_at(policy.kubernetes_version);
            out.max_unavailable = Some(Budget::of(&rolling.max_unavailable, Some(at_once)));
            let updated = rolling.updated_pods(count);
            out.note = Some(format!(
                "pods are replaced from the highest ordinal down, {at_once} at a time on Kubernetes {}{}",
                policy.kubernetes_version,
                if rolling.partition > 0 {
                    format!(
                        "; ordinals below partition {} keep the old revision",
                        rolling.partition
                    )
                } else {
                    String::new()
                }
            ));
            out.steps = statefulset_steps(count, updated, at_once);
            out.end = Some(PlanEnd::Complete);
        }
        Rolling::DaemonSet(rolling) => {
            out.max_surge = Some(Budget::of(&rolling.max_surge, None));
            out.max_unavailable = Some(Budget::of(&rolling.max_unavailable, None));
            out.note = Some(format!(
                "one pod per node: up to {} of the nodes {} at a time (percentages round up; the node count is the cluster's)",
                rolling.unavailable,
                if rolling.surges() {
                    "start a new pod beside the old one"
                } else {
                    "lose their pod"
                }
            ));
        }
        Rolling::OnDelete => {
            out.note = Some("pods are replaced only when someone deletes them".to_owned());
        }
        Rolling::UnknownType(_) => {
            out.note = Some("an update strategy type Kubernetes does not know".to_owned());
        }
        Rolling::Unreadable(error) => {
            out.note = Some(format!(
                "{error}: the API server would reject this strategy"
            ));
        }
    }
    Some(out)
}

/// Recreate: all old pods stop, then the new ones start and become ready.
fn recreate_steps(replicas: i64) -> Vec<Step> {
    let step =
        |old, new, starting, terminating| Step::of(replicas, old, new, starting, terminating);
    vec![
        step(replicas, 0, 0, 0),
        step(0, 0, 0, replicas),
        step(0, replicas, replicas, 0),
        step(0, replicas, 0, 0),
    ]
}

/// A StatefulSet rolling update: `at_once` pods, highest ordinals first,
/// stop; their successors start and become ready; then the next ones.
fn statefulset_steps(replicas: i64, updated: i64, at_once: i64) -> Vec<Step> {
    let mut steps = Vec::new();
    let (mut old, mut new) = (replicas, 0);
    let snapshot =
        |old, new, starting, terminating| Step::of(replicas, old, new, starting, terminating);
    steps.push(snapshot(old, new, 0, 0));
    let mut left = updated;
    while left > 0 && steps.len() < rollout::MAX_PLAN_STEPS {
        let batch = left.min(at_once.max(1));
        old -= batch;
        steps.push(snapshot(old, new, 0, batch));
        new += batch;
        steps.push(snapshot(old, new, batch, 0));
        left -= batch;
    }
    if updated > 0 {
        steps.push(snapshot(old, new, 0, 0));
    }
    steps
}
