//! `rollsafe timeline`: what happens, second by second, when a pod of a
//! workload is terminated, and how a rollout replaces its pods step by step.
//!
//! For each long-running container: endpoint removal and the `preStop` hook
//! start at t = 0; the stop signal (SIGTERM) follows when the hook ends; the
//! app's shutdown deadline is SIGTERM + its shutdown timeout; SIGKILL comes
//! when `terminationGracePeriodSeconds` is over (at least 2 s after SIGTERM:
//! the kubelet's extension for a hook that ran the grace period out). The
//! same readings the shutdown rules make (drain delay, shutdown timeout,
//! serves traffic) with the policy's settings, so the picture and the
//! findings agree.

use serde::Serialize;

use crate::model::glob::matching_image_glob;
use crate::model::rollout::{
    self, DaemonSetStrategyType, DeploymentStrategyType, PlanEnd, StatefulSetStrategyType, Step,
    written,
};
use crate::model::shutdown::{
    Delay, PreStopHook, ShutdownTimeout, TimeoutSettings, drain_delay, shutdown_timeout,
};
use crate::model::{ContainerRole, Index, Millis, ObjectRef, Rollout, Workload};
use crate::policy::Policy;
use crate::rules::shutdown::has_debug_shell;
use crate::source::{Document, InputError};

/// The kubelet's minimum time between the stop signal and SIGKILL
/// (`minimumGracePeriodInSeconds`).
const MIN_STOP_SECONDS: f64 = 2.0;

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
    pub shutdown_timeout: Option<Timeout>,
    /// SIGTERM + shutdown timeout, when the timeout is known.
    pub app_deadline: Option<f64>,
    pub sigkill_at: f64,
    pub problems: Vec<Problem>,
}

/// The container's `preStop` hook as the drain delay goes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreStop {
    /// `none`, `sleep` (the action), `exec-sleep`, `exec`, `http-get`,
    /// `tcp-socket`.
    pub kind: &'static str,
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

/// A problem the timeline shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `sigkill-before-deadline`, `margin-short`,
    /// `sigterm-before-endpoints-settle`, `prestop-outlasts-grace-period`,
    /// `prestop-fails`, `shutdown-timeout-unknown`, `all-pods-down`,
    /// `low-availability`.
    pub kind: &'static str,
    pub message: String,
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
    /// `complete`, `stalled` or `truncated` (see `model::rollout::PlanEnd`).
    pub end: Option<&'static str>,
    pub note: Option<String>,
    pub problems: Vec<Problem>,
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

/// The timelines of every workload in `documents`, and the documents that
/// do not decode as their kind.
pub fn timelines(documents: &[Document], policy: &Policy) -> (Vec<Timeline>, Vec<InputError>) {
    let (index, undecodable) = Index::build(documents, &policy.template_paths);
    let errors = undecodable
        .into_iter()
        .map(|u| {
            let object = ObjectRef::from_value(&u.doc.value);
            InputError {
                file: Some(u.doc.file.clone()),
                path: u.doc.file.name().to_owned(),
                range: Some(u.doc.locate(&u.error.pointer).range),
                message: format!(
                    "{object}: cannot be read as a {}: {}",
                    object.kind, u.error.message
                ),
                help: None,
            }
        })
        .collect();
    let timelines = index
        .workloads
        .iter()
        .map(|w| timeline(w, &index, policy))
        .collect();
    (timelines, errors)
}

fn secs(m: Millis) -> f64 {
    m.as_secs_f64()
}

/// `5s`, `1.5s`, `1m30s`: seconds as a Go duration.
pub fn duration(seconds: f64) -> String {
    Millis((seconds.max(0.0) * 1000.0).round() as u64).to_string()
}

fn timeline(w: &Workload, index: &Index, policy: &Policy) -> Timeline {
    let settings = &policy.settings;
    let grace = w.grace_period_seconds();
    let timeouts = TimeoutSettings {
        env_names: &settings.shutdown_timeout_env,
        flags: &settings.shutdown_timeout_flags,
        default: settings.default_shutdown_timeout,
    };
    let containers = w
        .long_running_containers()
        .map(|c| {
            let serves = index.serves_traffic(w, &c);
            let drain = drain_delay(&c, settings.assumed_hook_seconds);
            let image = c.container.image.as_deref().unwrap_or_default();
            let fails = match (&drain.needs, has_debug_shell(image)) {
                (Some(needs), false) => matching_image_glob(&settings.shelless_images, image)
                    .map(|glob| {
                        format!(
                            "image `{image}` (matches `{glob}`) has no `{}`: the hook fails at once",
                            needs.argv0
                        )
                    }),
                _ => None,
            };
            let pre_stop = PreStop {
                kind: match drain.hook {
                    PreStopHook::None => "none",
                    PreStopHook::Sleep { .. } => "sleep",
                    PreStopHook::ExecSleep => "exec-sleep",
                    PreStopHook::Exec => "exec",
                    PreStopHook::HttpGet => "http-get",
                    PreStopHook::TcpSocket => "tcp-socket",
                },
                seconds: drain.delay.finite().map(secs),
                assumed: drain.basis == crate::model::shutdown::DelayBasis::Assumed,
                fails,
            };
            let timeout = shutdown_timeout(w, &c, index, &timeouts);
            container(
                c.name(),
                c.role == ContainerRole::NativeSidecar,
                serves,
                pre_stop,
                drain.delay,
                &timeout,
                grace,
                policy,
            )
        })
        .collect();
    Timeline {
        object: w.object.clone(),
        file: w.doc.file.name().to_owned(),
        line: w.doc.file.line_col(w.doc.start).0,
        grace_period_seconds: grace,
        grace_period_defaulted: w.pod_spec.termination_grace_period_seconds.is_none(),
        min_drain_delay_seconds: secs(settings.min_drain_delay),
        grace_margin_seconds: secs(settings.grace_margin),
        containers,
        rollout: rollout_timeline(w, index, policy),
    }
}

#[allow(clippy::too_many_arguments)]
fn container(
    name: &str,
    sidecar: bool,
    serves: bool,
    pre_stop: PreStop,
    delay: Delay,
    timeout: &ShutdownTimeout,
    grace_seconds: i64,
    policy: &Policy,
) -> ContainerTimeline {
    let settings = &policy.settings;
    let grace = grace_seconds.max(0) as f64;
    let min_drain = secs(settings.min_drain_delay);
    let margin = secs(settings.grace_margin);
    // A hook that fails ends at once; one that never ends runs the grace
    // period out.
    let hook = match (&pre_stop.fails, delay) {
        (Some(_), _) => 0.0,
        (None, Delay::Finite(d)) => secs(d),
        (None, Delay::Unbounded) => f64::INFINITY,
    };
    let sigterm_at = hook.min(grace);
    let sigkill_at = sigterm_at + (grace - sigterm_at).max(MIN_STOP_SECONDS);
    let (shutdown, app_deadline) = match timeout {
        ShutdownTimeout::Known { value, source } => (
            Some(Timeout {
                seconds: secs(*value),
                source: source.to_string(),
            }),
            Some(sigterm_at + secs(*value)),
        ),
        _ => (None, None),
    };
    let mut problems = Vec::new();
    if let Some(why) = &pre_stop.fails {
        problems.push(Problem {
            kind: "prestop-fails",
            message: format!("preStop: {why}"),
        });
    }
    if pre_stop.fails.is_none() && pre_stop.kind != "none" && hook >= grace {
        problems.push(Problem {
            kind: "prestop-outlasts-grace-period",
            message: format!(
                "preStop ({}) lasts the whole grace period ({}): SIGTERM only at {}, SIGKILL {} later",
                if hook.is_finite() {
                    duration(hook)
                } else {
                    "endless".to_owned()
                },
                duration(grace),
                duration(sigterm_at),
                duration(sigkill_at - sigterm_at)
            ),
        });
    }
    if serves && sigterm_at < min_drain {
        problems.push(Problem {
            kind: "sigterm-before-endpoints-settle",
            message: format!(
                "SIGTERM at {} comes before endpoints settle (minDrainDelay {}): requests still arrive while the app stops",
                duration(sigterm_at),
                duration(min_drain)
            ),
        });
    }
    match (app_deadline, timeout) {
        (Some(deadline), _) if deadline > sigkill_at => problems.push(Problem {
            kind: "sigkill-before-deadline",
            message: format!(
                "SIGKILL at {} comes before the app's shutdown deadline at {}: in-flight work is cut off",
                duration(sigkill_at),
                duration(deadline)
            ),
        }),
        (Some(deadline), _) if deadline + margin > sigkill_at && serves => {
            problems.push(Problem {
                kind: "margin-short",
                message: format!(
                    "{} between the app's deadline ({}) and SIGKILL ({}), less than graceMargin {}",
                    duration(sigkill_at - deadline),
                    duration(deadline),
                    duration(sigkill_at),
                    duration(margin)
                ),
            })
        }
        (None, ShutdownTimeout::Malformed { text, source, .. }) if serves => {
            problems.push(Problem {
                kind: "shutdown-timeout-unknown",
                message: format!(
                    "the shutdown timeout `{text}` ({source}) is not a duration: the app's deadline is unknown"
                ),
            })
        }
        (None, _) if serves => problems.push(Problem {
            kind: "shutdown-timeout-unknown",
            message: format!(
                "the app's shutdown timeout is not stated (e.g. annotation `rollsafe.dev/shutdown-timeout.{name}`): its deadline is unknown"
            ),
        }),
        _ => {}
    }
    ContainerTimeline {
        name: name.to_owned(),
        sidecar,
        serves_traffic: serves,
        pre_stop,
        sigterm_at,
        shutdown_timeout: shutdown,
        app_deadline,
        sigkill_at,
        problems,
    }
}

fn rollout_timeline(w: &Workload, index: &Index, policy: &Policy) -> Option<RolloutTimeline> {
    let replicas = index.min_replicas(w);
    let replicas_from = replicas.map(|_| match index.hpa_targeting(w) {
        Some(hpa) => format!(
            "`minReplicas` of HorizontalPodAutoscaler `{}`",
            hpa.object.name
        ),
        None if w.replicas.is_some() => "`spec.replicas`".to_owned(),
        None => "the default `replicas: 1`".to_owned(),
    });
    let mut out = RolloutTimeline {
        strategy: String::new(),
        replicas,
        replicas_from,
        max_surge: None,
        max_unavailable: None,
        steps: Vec::new(),
        end: None,
        note: None,
        problems: Vec::new(),
    };
    let count = replicas.unwrap_or(0);
    match &w.rollout {
        Rollout::None => return None,
        Rollout::Deployment(strategy) => match DeploymentStrategyType::of(strategy.as_ref()) {
            DeploymentStrategyType::RollingUpdate => {
                out.strategy = "RollingUpdate".to_owned();
                match rollout::deployment_rolling(strategy.as_ref(), count) {
                    Ok(Some(rolling)) => {
                        let f = &rolling.fenceposts;
                        out.max_surge = Some(Budget {
                            written: rolling.max_surge.to_string(),
                            defaulted: rolling.max_surge.defaulted,
                            pods: Some(f.max_surge),
                        });
                        out.max_unavailable = Some(Budget {
                            written: rolling.max_unavailable.to_string(),
                            defaulted: rolling.max_unavailable.defaulted,
                            pods: Some(f.max_unavailable),
                        });
                        if f.zero_fallback {
                            out.note = Some(
                                "maxSurge and maxUnavailable both resolve to 0: Kubernetes takes maxUnavailable as 1".to_owned(),
                            );
                        }
                        let plan = rollout::rollout_plan(f);
                        out.end = Some(match plan.end {
                            PlanEnd::Complete => "complete",
                            PlanEnd::Stalled => "stalled",
                            PlanEnd::Truncated => "truncated",
                        });
                        out.steps = plan.steps;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        out.note = Some(format!(
                            "{error}: the API server would reject this strategy"
                        ))
                    }
                }
            }
            DeploymentStrategyType::Recreate => {
                out.strategy = "Recreate".to_owned();
                out.note = Some("every old pod stops before the first new one starts".to_owned());
                out.steps = recreate_steps(count);
            }
            DeploymentStrategyType::Unknown(text) => {
                out.strategy = text;
                out.note = Some("an update strategy type Kubernetes does not know".to_owned());
            }
        },
        Rollout::StatefulSet(strategy) => match StatefulSetStrategyType::of(strategy.as_ref()) {
            StatefulSetStrategyType::RollingUpdate => {
                out.strategy = "RollingUpdate".to_owned();
                match rollout::statefulset_rolling(strategy.as_ref(), count) {
                    Ok(Some(rolling)) => {
                        let at_once = rolling.max_unavailable_at(policy.kubernetes_version);
                        out.max_unavailable = Some(Budget {
                            written: written(&rolling.max_unavailable.value),
                            defaulted: rolling.max_unavailable.defaulted,
                            pods: Some(at_once),
                        });
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
                        out.end = Some("complete");
                    }
                    Ok(None) => {}
                    Err(error) => {
                        out.note = Some(format!(
                            "{error}: the API server would reject this strategy"
                        ))
                    }
                }
            }
            StatefulSetStrategyType::OnDelete => {
                out.strategy = "OnDelete".to_owned();
                out.note = Some("pods are replaced only when someone deletes them".to_owned());
            }
            StatefulSetStrategyType::Unknown(text) => {
                out.strategy = text;
                out.note = Some("an update strategy type Kubernetes does not know".to_owned());
            }
        },
        Rollout::DaemonSet(strategy) => match DaemonSetStrategyType::of(strategy.as_ref()) {
            DaemonSetStrategyType::RollingUpdate => {
                out.strategy = "RollingUpdate".to_owned();
                if let Ok(Some(rolling)) = rollout::daemonset_rolling(strategy.as_ref()) {
                    out.max_surge = Some(Budget {
                        written: rolling.max_surge.to_string(),
                        defaulted: rolling.max_surge.defaulted,
                        pods: None,
                    });
                    out.max_unavailable = Some(Budget {
                        written: rolling.max_unavailable.to_string(),
                        defaulted: rolling.max_unavailable.defaulted,
                        pods: None,
                    });
                    out.note = Some(format!(
                        "one pod per node: up to {} of the nodes {} at a time (percentages round up; the node count is the cluster's)",
                        rolling.unavailable,
                        if rolling.surges() {
                            "start a new pod beside the old one"
                        } else {
                            "lose their pod"
                        }
                    ));
                    if rolling.all_nodes_may_be_down() {
                        out.problems.push(Problem {
                            kind: "all-pods-down",
                            message: "the rollout may stop the pod on every node at once"
                                .to_owned(),
                        });
                    }
                }
            }
            DaemonSetStrategyType::OnDelete => {
                out.strategy = "OnDelete".to_owned();
                out.note = Some("pods are replaced only when someone deletes them".to_owned());
            }
            DaemonSetStrategyType::Unknown(text) => {
                out.strategy = text;
                out.note = Some("an update strategy type Kubernetes does not know".to_owned());
            }
        },
    }
    availability_problems(&mut out, policy.settings.min_available_ratio);
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

fn availability_problems(out: &mut RolloutTimeline, ratio: f64) {
    let Some(replicas) = out.replicas.filter(|r| *r > 0) else {
        return;
    };
    let Some((at, worst)) = out
        .steps
        .iter()
        .enumerate()
        .min_by_key(|(_, s)| s.ready)
        .map(|(i, s)| (i, s.ready))
    else {
        return;
    };
    if worst <= 0 {
        out.problems.push(Problem {
            kind: "all-pods-down",
            message: format!("no pod is ready at step {at}: the rollout is an outage"),
        });
    } else if (worst as f64) < ratio * replicas as f64 {
        out.problems.push(Problem {
            kind: "low-availability",
            message: format!(
                "only {worst} of {replicas} pods ready at step {at}, below minAvailableRatio {ratio}"
            ),
        });
    }
}
