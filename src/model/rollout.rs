//! Rollout arithmetic: how the Kubernetes controllers turn `maxSurge`,
//! `maxUnavailable`, `minAvailable` and `partition` into pod counts, and what
//! the API server rejects before any controller sees them.
//!
//! Every function mirrors a named Kubernetes function; the rules must reach
//! the same numbers as the cluster, rounding included, or a finding would
//! contradict what `kubectl rollout` then does. Inputs come from manifests,
//! so nothing here panics or overflows: counts are `i64`, products are taken
//! in `i128` and clamped.

use std::fmt;

use k8s_openapi::api::apps::v1::{
    DaemonSetUpdateStrategy, DeploymentStrategy, RollingUpdateDaemonSet, RollingUpdateDeployment,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::version::KubeVersion;

// ---------------------------------------------------------------------------
// IntOrString
// ---------------------------------------------------------------------------

/// Why an int-or-percent value cannot be scaled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntOrStringError {
    /// A string without a trailing `%`: Kubernetes never reads a quoted
    /// number as a count.
    #[error(
        "`{text}` is a string but not a percentage (expected a number followed by `%`, e.g. `25%`, or an unquoted integer)"
    )]
    NotPercent { text: String },
    /// A trailing `%` after something that is not a whole number.
    #[error(
        "`{text}` is not a valid percentage (expected a whole number followed by `%`, e.g. `25%`)"
    )]
    BadPercent { text: String },
}

/// The value as a manifest writes it: `25%`, `1`.
pub fn written(value: &IntOrString) -> String {
    match value {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Resolves an int-or-percent against `total`, mirroring
/// `GetScaledValueFromIntOrPercent` (k8s.io/apimachinery `util/intstr`):
/// an integer is taken as is, `N%` is `N × total / 100` rounded up or down,
/// any other string is an error. Like Go's `strconv.Atoi`, the number before
/// `%` may carry a sign (`-5%` scales to a negative count); API validation,
/// not this function, rejects that. Go computes in `float64`; exact integer
/// arithmetic gives the same result for every count a cluster can hold.
pub fn scaled_value(
    value: &IntOrString,
    total: i64,
    round_up: bool,
) -> Result<i64, IntOrStringError> {
    match value {
        IntOrString::Int(n) => Ok(i64::from(*n)),
        IntOrString::String(text) => {
            let percent = parse_percent(text)?;
            Ok(scale_percent(percent, total, round_up))
        }
    }
}

/// The number before `%`, as `getIntOrPercentValueSafely` reads it.
fn parse_percent(text: &str) -> Result<i64, IntOrStringError> {
    let Some(number) = text.strip_suffix('%') else {
        return Err(IntOrStringError::NotPercent {
            text: text.to_owned(),
        });
    };
    number
        .parse::<i64>()
        .map_err(|_| IntOrStringError::BadPercent {
            text: text.to_owned(),
        })
}

fn scale_percent(percent: i64, total: i64, round_up: bool) -> i64 {
    let product = i128::from(percent) * i128::from(total);
    let scaled = if round_up {
        -(-product).div_euclid(100)
    } else {
        product.div_euclid(100)
    };
    clamp_i64(scaled)
}

fn clamp_i64(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// The percentage of a string the API server accepts as one: it matches
/// `^[0-9]+%$` (`IsValidPercent` in apimachinery `util/validation`). Digits
/// too many for an `int` read as the largest one, as `strconv.Atoi` clamps.
fn valid_percent(value: &IntOrString) -> Option<i64> {
    let IntOrString::String(text) = value else {
        return None;
    };
    let digits = text.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<i64>().unwrap_or(i64::MAX))
}

/// `getIntOrPercentValue` of apps validation: a valid percentage's number,
/// else `IntOrString.IntValue()`, which reads a string with `strconv.Atoi`
/// and ignores the error, so `"abc"` counts as 0 and `"5"` as 5.
fn validation_value(value: &IntOrString) -> i64 {
    if let Some(percent) = valid_percent(value) {
        return percent;
    }
    match value {
        IntOrString::Int(n) => i64::from(*n),
        IntOrString::String(text) => go_atoi_lossy(text),
    }
}

/// `strconv.Atoi` with its error dropped: 0 on a syntax error, the clamped
/// value on overflow.
fn go_atoi_lossy(text: &str) -> i64 {
    match text.parse::<i64>() {
        Ok(n) => n,
        Err(error) => match error.kind() {
            std::num::IntErrorKind::PosOverflow => i64::MAX,
            std::num::IntErrorKind::NegOverflow => i64::MIN,
            _ => 0,
        },
    }
}

/// A rollout field as the controller reads it, after API defaulting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: IntOrString,
    /// The manifest left the field out and Kubernetes filled in `value`:
    /// a message should say "the default `25%`", not blame the author.
    pub defaulted: bool,
}

impl Setting {
    fn from_field(field: Option<&IntOrString>, default: IntOrString) -> Setting {
        match field {
            Some(value) => Setting {
                value: value.clone(),
                defaulted: false,
            },
            None => Setting {
                value: default,
                defaulted: true,
            },
        }
    }
}

impl fmt::Display for Setting {
    /// As written: `25%`, `1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&written(&self.value))
    }
}

/// A rollout field that the controller cannot resolve; the API server would
/// have rejected the object (see the `validate_*` functions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot resolve `{field}`")]
pub struct RolloutFieldError {
    pub field: &'static str,
    /// JSON pointer below the strategy object, e.g. `/rollingUpdate/maxSurge`.
    pub pointer: &'static str,
    #[source]
    pub source: IntOrStringError,
}

fn field_value(
    setting: &Setting,
    total: i64,
    round_up: bool,
    field: &'static str,
    pointer: &'static str,
) -> Result<i64, RolloutFieldError> {
    scaled_value(&setting.value, total, round_up).map_err(|source| RolloutFieldError {
        field,
        pointer,
        source,
    })
}

// ---------------------------------------------------------------------------
// Validation problems, shared by the three workload kinds
// ---------------------------------------------------------------------------

/// One thing the API server would reject in an update strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyProblem {
    /// JSON pointer below the strategy object (`/rollingUpdate/maxUnavailable`,
    /// `/type`, `/rollingUpdate`), so a rule appends it to `/spec/strategy`
    /// or `/spec/updateStrategy`.
    pub pointer: &'static str,
    pub kind: ProblemKind,
}

impl fmt::Display for StrategyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

/// What is wrong, with the values a message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// An integer below 0 (`ValidateNonnegativeField`).
    Negative { field: &'static str, value: i64 },
    /// A string that is not `^[0-9]+%$` (`ValidatePositiveIntOrPercent`).
    NotIntOrPercent { field: &'static str, text: String },
    /// A percentage above 100 (`IsNotMoreThan100Percent`).
    Over100Percent { field: &'static str, text: String },
    /// `maxUnavailable` and `maxSurge` both 0: no pod could ever be replaced.
    BothZero,
    /// DaemonSet `maxSurge` and `maxUnavailable` both non-zero: the DaemonSet
    /// controller takes one or the other.
    BothNonZero,
    /// StatefulSet `maxUnavailable` 0.
    ZeroMaxUnavailable,
    /// `rollingUpdate` next to a type that ignores it.
    RollingUpdateWithType { type_: &'static str },
    /// A `type` the API server does not know.
    UnsupportedType {
        text: String,
        expected: [&'static str; 2],
    },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Negative { field, value } => {
                write!(f, "`{field}` is `{value}`: it must be 0 or more")
            }
            ProblemKind::NotIntOrPercent { field, text } => write!(
                f,
                "`{field}` is the string `{text}`, which is not a percentage (expected a number followed by `%`, e.g. `25%`, or an unquoted integer)"
            ),
            ProblemKind::Over100Percent { field, text } => {
                write!(f, "`{field}` is `{text}`: it must not be more than `100%`")
            }
            ProblemKind::BothZero => f.write_str(
                "`maxUnavailable` and `maxSurge` are both 0: the rollout could never replace a pod",
            ),
            ProblemKind::BothNonZero => f.write_str(
                "`maxSurge` and `maxUnavailable` are both non-zero: a DaemonSet takes only one of them (set `maxUnavailable: 0` to surge)",
            ),
            ProblemKind::ZeroMaxUnavailable => {
                f.write_str("`maxUnavailable` is 0: a StatefulSet needs at least 1")
            }
            ProblemKind::RollingUpdateWithType { type_ } => {
                write!(f, "`rollingUpdate` may not be set when `type` is `{type_}`")
            }
            ProblemKind::UnsupportedType {
                text,
                expected: [first, second],
            } => write!(
                f,
                "`type` `{text}` is not supported (expected `{first}` or `{second}`)"
            ),
        }
    }
}

/// `ValidatePositiveIntOrPercent`: a non-negative integer or `^[0-9]+%$`.
fn check_int_or_percent(
    value: &IntOrString,
    field: &'static str,
    pointer: &'static str,
    problems: &mut Vec<StrategyProblem>,
) {
    match value {
        IntOrString::Int(n) if *n < 0 => problems.push(StrategyProblem {
            pointer,
            kind: ProblemKind::Negative {
                field,
                value: i64::from(*n),
            },
        }),
        IntOrString::Int(_) => {}
        IntOrString::String(text) => {
            if valid_percent(value).is_none() {
                problems.push(StrategyProblem {
                    pointer,
                    kind: ProblemKind::NotIntOrPercent {
                        field,
                        text: text.clone(),
                    },
                });
            }
        }
    }
}

/// `IsNotMoreThan100Percent`: only valid percentages are judged.
fn check_not_over_100(
    value: &IntOrString,
    field: &'static str,
    pointer: &'static str,
    problems: &mut Vec<StrategyProblem>,
) {
    if valid_percent(value).is_some_and(|p| p > 100) {
        problems.push(StrategyProblem {
            pointer,
            kind: ProblemKind::Over100Percent {
                field,
                text: written(value),
            },
        });
    }
}

/// An absent or empty `type`, which API defaulting turns into `RollingUpdate`
/// for all three kinds (`SetDefaults_Deployment`, `SetDefaults_DaemonSet`,
/// `SetDefaults_StatefulSet` in pkg/apis/apps/v1/defaults.go).
fn declared_type(type_: Option<&String>) -> Option<&str> {
    type_.map(String::as_str).filter(|t| !t.is_empty())
}

const MAX_SURGE: &str = "maxSurge";
const MAX_UNAVAILABLE: &str = "maxUnavailable";
const PTR_MAX_SURGE: &str = "/rollingUpdate/maxSurge";
const PTR_MAX_UNAVAILABLE: &str = "/rollingUpdate/maxUnavailable";
const PTR_PARTITION: &str = "/rollingUpdate/partition";
const PTR_ROLLING_UPDATE: &str = "/rollingUpdate";
const PTR_TYPE: &str = "/type";

// ---------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------

/// `spec.strategy.type` of a Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentStrategyType {
    /// Also what an absent or empty `type` defaults to.
    RollingUpdate,
    Recreate,
    /// A value the API server rejects.
    Unknown(String),
}

impl DeploymentStrategyType {
    pub fn of(strategy: Option<&DeploymentStrategy>) -> Self {
        match declared_type(strategy.and_then(|s| s.type_.as_ref())) {
            None | Some("RollingUpdate") => DeploymentStrategyType::RollingUpdate,
            Some("Recreate") => DeploymentStrategyType::Recreate,
            Some(other) => DeploymentStrategyType::Unknown(other.to_owned()),
        }
    }
}

/// The Deployment defaults for an absent field: `25%` each
/// (`SetDefaults_Deployment`).
pub fn deployment_default() -> IntOrString {
    IntOrString::String("25%".to_owned())
}

/// Resolved maxSurge and maxUnavailable of a Deployment rolling update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fenceposts {
    /// The replica count the values were resolved against.
    pub replicas: i64,
    /// maxSurge, rounded up.
    pub max_surge: i64,
    /// maxUnavailable, rounded down, as `ResolveFenceposts` returns it
    /// (1 when both resolved to 0). Not yet capped at `replicas`: see
    /// [`Fenceposts::unavailable_budget`].
    pub max_unavailable: i64,
    /// Both resolved to 0 and Kubernetes substituted maxUnavailable 1, on the
    /// theory that surge might not work due to quota: the configuration
    /// reads "no downtime" but the controller takes a pod down.
    pub zero_fallback: bool,
}

impl Fenceposts {
    /// How many replicas may be unavailable during the rollout: `MaxUnavailable`
    /// in deployment_util.go caps the fencepost at `replicas` and gives 0 for
    /// a Deployment scaled to 0.
    pub fn unavailable_budget(&self) -> i64 {
        if self.replicas <= 0 {
            0
        } else {
            self.max_unavailable.clamp(0, self.replicas)
        }
    }

    /// Replicas the controller keeps available while rolling: `MinAvailable`
    /// (replicas − `MaxUnavailable`).
    pub fn min_available(&self) -> i64 {
        self.replicas
            .max(0)
            .saturating_sub(self.unavailable_budget())
    }

    /// The most pods the controller counts at once: replicas + maxSurge
    /// (`NewRSNewReplicas`). Pods already terminating are not counted.
    pub fn max_total(&self) -> i64 {
        self.replicas.max(0).saturating_add(self.max_surge.max(0))
    }

    /// Every replica may be down at once: the rollout is an outage.
    pub fn zero_availability(&self) -> bool {
        self.replicas > 0 && self.min_available() == 0
    }
}

/// Mirrors `ResolveFenceposts` (pkg/controller/deployment/util/deployment_util.go):
/// maxSurge rounds up, maxUnavailable rounds down, and if both come out 0
/// maxUnavailable becomes 1. Both must be resolved in one step because only
/// together do they decide the fallback.
pub fn resolve_fenceposts(
    max_surge: &IntOrString,
    max_unavailable: &IntOrString,
    replicas: i64,
) -> Result<Fenceposts, RolloutFieldError> {
    let surge = scaled_value(max_surge, replicas, true).map_err(|source| RolloutFieldError {
        field: MAX_SURGE,
        pointer: PTR_MAX_SURGE,
        source,
    })?;
    let unavailable =
        scaled_value(max_unavailable, replicas, false).map_err(|source| RolloutFieldError {
            field: MAX_UNAVAILABLE,
            pointer: PTR_MAX_UNAVAILABLE,
            source,
        })?;
    let zero_fallback = surge == 0 && unavailable == 0;
    Ok(Fenceposts {
        replicas,
        max_surge: surge,
        max_unavailable: if zero_fallback { 1 } else { unavailable },
        zero_fallback,
    })
}

/// A Deployment rolling update: the fields as the controller reads them and
/// what they resolve to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRolling {
    pub max_surge: Setting,
    pub max_unavailable: Setting,
    pub fenceposts: Fenceposts,
}

/// Resolves a Deployment's strategy at `replicas`, after API defaulting:
/// an absent `strategy`, `type` or `rollingUpdate` means `RollingUpdate`
/// with 25 %/25 %. `Ok(None)` for `Recreate` and unknown types, which have
/// no fenceposts.
pub fn deployment_rolling(
    strategy: Option<&DeploymentStrategy>,
    replicas: i64,
) -> Result<Option<DeploymentRolling>, RolloutFieldError> {
    if DeploymentStrategyType::of(strategy) != DeploymentStrategyType::RollingUpdate {
        return Ok(None);
    }
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let max_surge = Setting::from_field(
        rolling.and_then(|r| r.max_surge.as_ref()),
        deployment_default(),
    );
    let max_unavailable = Setting::from_field(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        deployment_default(),
    );
    let fenceposts = resolve_fenceposts(&max_surge.value, &max_unavailable.value, replicas)?;
    Ok(Some(DeploymentRolling {
        max_surge,
        max_unavailable,
        fenceposts,
    }))
}

/// What the API server rejects in `spec.strategy`, in its order: mirrors
/// `ValidateDeploymentStrategy` and `ValidateRollingUpdateDeployment`
/// (pkg/apis/apps/validation/validation.go), run after defaulting, so an
/// absent field is the valid `25%`. The both-zero check reads values as
/// `getIntOrPercentValue` does, so `"0"` and a malformed string also count
/// as 0 there. Kubernetes reports an unknown type on the strategy itself;
/// we point at `/type`, where the value is.
pub fn validate_deployment_strategy(strategy: Option<&DeploymentStrategy>) -> Vec<StrategyProblem> {
    let mut problems = Vec::new();
    let Some(strategy) = strategy else {
        return problems;
    };
    match DeploymentStrategyType::of(Some(strategy)) {
        DeploymentStrategyType::Recreate => {
            if strategy.rolling_update.is_some() {
                problems.push(StrategyProblem {
                    pointer: PTR_ROLLING_UPDATE,
                    kind: ProblemKind::RollingUpdateWithType { type_: "Recreate" },
                });
            }
        }
        DeploymentStrategyType::Unknown(text) => problems.push(StrategyProblem {
            pointer: PTR_TYPE,
            kind: ProblemKind::UnsupportedType {
                text,
                expected: ["Recreate", "RollingUpdate"],
            },
        }),
        DeploymentStrategyType::RollingUpdate => {
            let default = RollingUpdateDeployment::default();
            let rolling = strategy.rolling_update.as_ref().unwrap_or(&default);
            let unavailable = rolling
                .max_unavailable
                .clone()
                .unwrap_or_else(deployment_default);
            let surge = rolling.max_surge.clone().unwrap_or_else(deployment_default);
            check_int_or_percent(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
            check_int_or_percent(&surge, MAX_SURGE, PTR_MAX_SURGE, &mut problems);
            if validation_value(&unavailable) == 0 && validation_value(&surge) == 0 {
                problems.push(StrategyProblem {
                    pointer: PTR_MAX_UNAVAILABLE,
                    kind: ProblemKind::BothZero,
                });
            }
            check_not_over_100(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
        }
    }
    problems
}

// ---------------------------------------------------------------------------
// Deployment rollout plan
// ---------------------------------------------------------------------------

/// One moment of a simulated rolling update (pod counts after the
/// controller's moves of one step); `rollsafe timeline --format json` prints
/// it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Old pods still running and ready.
    pub old: i64,
    /// New pods created so far, ready or starting.
    pub new: i64,
    /// New pods created in this step, not ready yet.
    pub starting: i64,
    /// Old pods scaled down in this step, shutting down and out of endpoints.
    pub terminating: i64,
    /// Pods serving: old plus ready new pods.
    pub ready: i64,
    /// Replicas short of the desired count (`replicas − ready`, never below
    /// 0): the Deployment's `unavailableReplicas` at that moment.
    pub unavailable: i64,
}

impl Step {
    /// The step with `old` ready old pods and `new` new pods of which
    /// `starting` are not ready yet, out of `replicas` desired.
    pub fn of(replicas: i64, old: i64, new: i64, starting: i64, terminating: i64) -> Step {
        let ready = old.saturating_add(new).saturating_sub(starting);
        Step {
            old,
            new,
            starting,
            terminating,
            ready,
            unavailable: replicas.saturating_sub(ready).max(0),
        }
    }
}

/// How a simulation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanEnd {
    /// All pods new and ready, nothing terminating.
    Complete,
    /// The controller could make no move: fenceposts that allow neither surge
    /// nor unavailability (never the case after `resolve_fenceposts`).
    Stalled,
    /// Stopped after [`MAX_PLAN_STEPS`] steps; the rollout goes on.
    Truncated,
}

/// A simulated rolling update, first step all old, last step all new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutPlan {
    pub replicas: i64,
    pub steps: Vec<Step>,
    pub end: PlanEnd,
}

impl RolloutPlan {
    /// The fewest pods serving at any step.
    pub fn min_ready(&self) -> i64 {
        self.steps.iter().map(|s| s.ready).min().unwrap_or(0)
    }

    /// The most pods existing at once, terminating ones included: what the
    /// cluster must find room for.
    pub fn peak_pods(&self) -> i64 {
        self.steps
            .iter()
            .map(|s| s.old.saturating_add(s.new).saturating_add(s.terminating))
            .max()
            .unwrap_or(0)
    }
}

/// Steps a plan may hold: one-at-a-time rollouts of 10,000 replicas need
/// about 10,003, so only absurd scales are cut.
pub const MAX_PLAN_STEPS: usize = 20_000;

/// Simulates the Deployment controller's rolling update (`rolloutRolling` in
/// pkg/controller/deployment/rolling.go) for a timeline view, from a settled
/// Deployment (one old ReplicaSet, every pod ready). Each step the pods
/// started in the previous step become ready and the pods scaled down in the
/// previous step are gone; then the controller acts until it can do no more:
/// scale the new ReplicaSet up to replicas + maxSurge counted pods
/// (`NewRSNewReplicas`), and scale old pods down while available pods stay
/// at least replicas − maxUnavailable (`reconcileOldReplicaSets`,
/// `scaleDownOldReplicaSetsForRollingUpdate`). Terminating pods are not
/// counted against maxSurge, as with the default `podReplacementPolicy`.
pub fn rollout_plan(fenceposts: &Fenceposts) -> RolloutPlan {
    let replicas = fenceposts.replicas.max(0);
    let max_total = fenceposts.max_total();
    let min_available = fenceposts.min_available();

    let mut old = replicas;
    let mut new_ready: i64 = 0;
    let mut starting: i64 = 0;
    let mut terminating: i64 = 0;
    let snapshot = |old: i64, new_ready: i64, starting: i64, terminating: i64| {
        Step::of(
            replicas,
            old,
            new_ready.saturating_add(starting),
            starting,
            terminating,
        )
    };

    let mut steps = vec![snapshot(old, new_ready, starting, terminating)];
    let end = loop {
        if old == 0 && starting == 0 && terminating == 0 && new_ready == replicas {
            break PlanEnd::Complete;
        }
        if steps.len() >= MAX_PLAN_STEPS {
            break PlanEnd::Truncated;
        }
        new_ready = new_ready.saturating_add(starting);
        starting = 0;
        terminating = 0;
        let mut moved = false;
        // Scaling up frees nothing and scaling down frees room for one more
        // scale-up, so the controller settles within three moves; four
        // rounds bound the loop whatever the numbers.
        for _ in 0..4 {
            let new = new_ready.saturating_add(starting);
            let up = max_total
                .saturating_sub(old.saturating_add(new))
                .min(replicas.saturating_sub(new));
            if up > 0 {
                starting = starting.saturating_add(up);
            }
            let available = old.saturating_add(new_ready);
            let down = old.min(available.saturating_sub(min_available));
            if down > 0 {
                old -= down;
                terminating = terminating.saturating_add(down);
            }
            if up <= 0 && down <= 0 {
                break;
            }
            moved = true;
        }
        let step = snapshot(old, new_ready, starting, terminating);
        let unchanged = steps.last() == Some(&step);
        steps.push(step);
        if !moved && unchanged {
            break PlanEnd::Stalled;
        }
    };
    RolloutPlan {
        replicas,
        steps,
        end,
    }
}

// ---------------------------------------------------------------------------
// DaemonSet
// ---------------------------------------------------------------------------

/// `spec.updateStrategy.type` of a DaemonSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonSetStrategyType {
    /// Also what an absent or empty `type` defaults to.
    RollingUpdate,
    OnDelete,
    Unknown(String),
}

impl DaemonSetStrategyType {
    pub fn of(strategy: Option<&DaemonSetUpdateStrategy>) -> Self {
        match declared_type(strategy.and_then(|s| s.type_.as_ref())) {
            None | Some("RollingUpdate") => DaemonSetStrategyType::RollingUpdate,
            Some("OnDelete") => DaemonSetStrategyType::OnDelete,
            Some(other) => DaemonSetStrategyType::Unknown(other.to_owned()),
        }
    }
}

/// A DaemonSet budget. The controller scales percentages against the number
/// of nodes that should run the pod, which an offline linter does not know,
/// so a percentage stays a share of the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeBudget {
    /// So many nodes at once, whatever the cluster size.
    Count(i64),
    /// A share of the nodes, rounded up: any non-zero share is at least one
    /// node, `100%` is all of them. `0%` is represented as `Count(0)`.
    Share { percent: i64 },
}

impl NodeBudget {
    /// Reads a DaemonSet field as `SurgeCount`/`UnavailableCount` will.
    pub fn from_value(value: &IntOrString) -> Result<NodeBudget, IntOrStringError> {
        match value {
            IntOrString::Int(n) => Ok(NodeBudget::Count(i64::from(*n))),
            IntOrString::String(text) => match parse_percent(text)? {
                0 => Ok(NodeBudget::Count(0)),
                percent => Ok(NodeBudget::Share { percent }),
            },
        }
    }

    /// Pods at a known node count: percentages round up, as `SurgeCount` and
    /// `UnavailableCount` (pkg/controller/daemon/util/daemonset_util.go) call
    /// `GetScaledValueFromIntOrPercent` with `roundUp` true.
    pub fn resolve(self, nodes: i64) -> i64 {
        match self {
            NodeBudget::Count(n) => n,
            NodeBudget::Share { percent } => scale_percent(percent, nodes, true),
        }
    }

    /// Resolves to 0 on every cluster.
    pub fn is_zero(self) -> bool {
        self == NodeBudget::Count(0)
    }

    /// Covers every node, whatever their number (a share of 100 % or more).
    pub fn covers_all_nodes(self) -> bool {
        matches!(self, NodeBudget::Share { percent } if percent >= 100)
    }
}

impl fmt::Display for NodeBudget {
    /// `1`, `10%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeBudget::Count(n) => write!(f, "{n}"),
            NodeBudget::Share { percent } => write!(f, "{percent}%"),
        }
    }
}

/// A DaemonSet rolling update as the controller reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonSetRolling {
    pub max_surge: Setting,
    pub max_unavailable: Setting,
    pub surge: NodeBudget,
    /// After the zero fallback.
    pub unavailable: NodeBudget,
    /// Both resolved to 0 and the controller accepts 1 unavailable node
    /// instead (`updatedDesiredNodeCounts` in pkg/controller/daemon/update.go,
    /// once at least one node should run the pod).
    pub zero_fallback: bool,
}

impl DaemonSetRolling {
    /// Surging replaces a node's pod only after its successor is ready; the
    /// controller takes that path whenever maxSurge resolves above 0.
    pub fn surges(&self) -> bool {
        !self.surge.is_zero()
    }

    /// The rollout may stop the pod on every node at once.
    pub fn all_nodes_may_be_down(&self) -> bool {
        !self.surges() && self.unavailable.covers_all_nodes()
    }
}

/// Resolves a DaemonSet's strategy after API defaulting (maxUnavailable 1,
/// maxSurge 0, `SetDefaults_DaemonSet`). `Ok(None)` for `OnDelete` and
/// unknown types.
pub fn daemonset_rolling(
    strategy: Option<&DaemonSetUpdateStrategy>,
) -> Result<Option<DaemonSetRolling>, RolloutFieldError> {
    if DaemonSetStrategyType::of(strategy) != DaemonSetStrategyType::RollingUpdate {
        return Ok(None);
    }
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let max_surge = Setting::from_field(
        rolling.and_then(|r| r.max_surge.as_ref()),
        IntOrString::Int(0),
    );
    let max_unavailable = Setting::from_field(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        IntOrString::Int(1),
    );
    let budget = |setting: &Setting, field: &'static str, pointer: &'static str| {
        NodeBudget::from_value(&setting.value).map_err(|source| RolloutFieldError {
            field,
            pointer,
            source,
        })
    };
    let surge = budget(&max_surge, MAX_SURGE, PTR_MAX_SURGE)?;
    let unavailable = budget(&max_unavailable, MAX_UNAVAILABLE, PTR_MAX_UNAVAILABLE)?;
    let zero_fallback = surge.is_zero() && unavailable.is_zero();
    Ok(Some(DaemonSetRolling {
        max_surge,
        max_unavailable,
        surge,
        unavailable: if zero_fallback {
            NodeBudget::Count(1)
        } else {
            unavailable
        },
        zero_fallback,
    }))
}

/// What the API server rejects in a DaemonSet's `spec.updateStrategy`, in its
/// order: mirrors `ValidateDaemonSetUpdateStrategy` and
/// `ValidateRollingUpdateDaemonSet` after defaulting. Unlike a Deployment, a
/// DaemonSet takes exactly one of maxSurge and maxUnavailable: setting
/// `maxSurge` while the default `maxUnavailable: 1` stays is rejected. An
/// `OnDelete` strategy may keep its `rollingUpdate` block.
pub fn validate_daemonset_strategy(
    strategy: Option<&DaemonSetUpdateStrategy>,
) -> Vec<StrategyProblem> {
    let mut problems = Vec::new();
    let Some(strategy) = strategy else {
        return problems;
    };
    match DaemonSetStrategyType::of(Some(strategy)) {
        DaemonSetStrategyType::OnDelete => {}
        DaemonSetStrategyType::Unknown(text) => problems.push(StrategyProblem {
            pointer: PTR_TYPE,
            kind: ProblemKind::UnsupportedType {
                text,
                expected: ["RollingUpdate", "OnDelete"],
            },
        }),
        DaemonSetStrategyType::RollingUpdate => {
            let default = RollingUpdateDaemonSet::default();
            let rolling = strategy.rolling_update.as_ref().unwrap_or(&default);
            let unavailable = rolling
                .max_unavailable
                .clone()
                .unwrap_or(IntOrString::Int(1));
            let surge = rolling.max_surge.clone().unwrap_or(IntOrString::Int(0));
            check_int_or_percent(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
            check_int_or_percent(&surge, MAX_SURGE, PTR_MAX_SURGE, &mut problems);
            check_not_over_100(
                &unavailable,
                MAX_UNAVAILABLE,
                PTR_MAX_UNAVAILABLE,
                &mut problems,
            );
            check_not_over_100(&surge, MAX_SURGE, PTR_MAX_SURGE, &mut problems);
            let has_unavailable = validation_value(&unavailable) != 0;
            let has_surge = validation_value(&surge) != 0;
            if has_unavailable && has_surge {
                problems.push(StrategyProblem {
                    pointer: PTR_MAX_SURGE,
                    kind: ProblemKind::BothNonZero,
                });
            } else if !has_unavailable && !has_surge {
                problems.push(StrategyProblem {
                    pointer: PTR_MAX_UNAVAILABLE,
                    kind: ProblemKind::BothZero,
                });
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------
// StatefulSet
// ---------------------------------------------------------------------------

/// `spec.updateStrategy.type` of a StatefulSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatefulSetStrategyType {
    /// Also what an absent or empty `type` defaults to.
    RollingUpdate,
    OnDelete,
    Unknown(String),
}

impl StatefulSetStrategyType {
    pub fn of(strategy: Option<&StatefulSetUpdateStrategy>) -> Self {
        match declared_type(strategy.and_then(|s| s.type_.as_ref())) {
            None | Some("RollingUpdate") => StatefulSetStrategyType::RollingUpdate,
            Some("OnDelete") => StatefulSetStrategyType::OnDelete,
            Some(other) => StatefulSetStrategyType::Unknown(other.to_owned()),
        }
    }
}

/// The first minor where the StatefulSet controller honours
/// `rollingUpdate.maxUnavailable` by default: the `MaxUnavailableStatefulSet`
/// gate, alpha since 1.24, is beta and on from 1.35 (pkg/features). Before,
/// the API server drops the field and pods are replaced one at a time.
pub const STATEFULSET_MAX_UNAVAILABLE: KubeVersion = KubeVersion::new(1, 35);

/// A StatefulSet rolling update as the controller reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatefulSetRolling {
    /// Pods with an ordinal below it keep the old revision.
    pub partition: i64,
    pub max_unavailable: Setting,
    /// Pods down at once where the gate is on: the field rounded down and at
    /// least 1 (`getStatefulSetMaxUnavailable`).
    pub max_unavailable_pods: i64,
}

impl StatefulSetRolling {
    /// Pods the rollout replaces: ordinals from `partition` up.
    pub fn updated_pods(&self, replicas: i64) -> i64 {
        replicas.max(0).saturating_sub(self.partition.max(0)).max(0)
    }

    /// Pods down at once on a cluster of `version`.
    pub fn max_unavailable_at(&self, version: KubeVersion) -> i64 {
        if version >= STATEFULSET_MAX_UNAVAILABLE {
            self.max_unavailable_pods
        } else {
            1
        }
    }
}

/// Mirrors `getStatefulSetMaxUnavailable`
/// (pkg/controller/statefulset/stateful_set_utils.go): default 1, a
/// percentage of `replicas` rounded down, never below 1 (a small percentage
/// would otherwise stall the update).
pub fn statefulset_max_unavailable(
    max_unavailable: &IntOrString,
    replicas: i64,
) -> Result<i64, IntOrStringError> {
    Ok(scaled_value(max_unavailable, replicas, false)?.max(1))
}

/// Resolves a StatefulSet's strategy after defaulting (`SetDefaults_StatefulSet`:
/// `RollingUpdate`, partition 0, maxUnavailable 1). `Ok(None)` for `OnDelete`
/// and unknown types.
pub fn statefulset_rolling(
    strategy: Option<&StatefulSetUpdateStrategy>,
    replicas: i64,
) -> Result<Option<StatefulSetRolling>, RolloutFieldError> {
    if StatefulSetStrategyType::of(strategy) != StatefulSetStrategyType::RollingUpdate {
        return Ok(None);
    }
    let rolling = strategy.and_then(|s| s.rolling_update.as_ref());
    let partition = rolling.and_then(|r| r.partition).map_or(0, i64::from);
    let max_unavailable = Setting::from_field(
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        IntOrString::Int(1),
    );
    let max_unavailable_pods = field_value(
        &max_unavailable,
        replicas,
        false,
        MAX_UNAVAILABLE,
        PTR_MAX_UNAVAILABLE,
    )?
    .max(1);
    Ok(Some(StatefulSetRolling {
        partition,
        max_unavailable,
        max_unavailable_pods,
    }))
}

/// What the API server rejects in a StatefulSet's `spec.updateStrategy`:
/// mirrors the update-strategy part of `ValidateStatefulSetSpec` and
/// `validateRollingUpdateStatefulSet`. Before [`STATEFULSET_MAX_UNAVAILABLE`]
/// the API server drops `maxUnavailable` before validating
/// (`dropStatefulSetDisabledFields`), so it is only judged from then on.
/// Kubernetes reports an unknown type on `updateStrategy`; we point at
/// `/type`.
pub fn validate_statefulset_strategy(
    strategy: Option<&StatefulSetUpdateStrategy>,
    version: KubeVersion,
) -> Vec<StrategyProblem> {
    let mut problems = Vec::new();
    let Some(strategy) = strategy else {
        return problems;
    };
    match StatefulSetStrategyType::of(Some(strategy)) {
        StatefulSetStrategyType::OnDelete => {
            if strategy.rolling_update.is_some() {
                problems.push(StrategyProblem {
                    pointer: PTR_ROLLING_UPDATE,
                    kind: ProblemKind::RollingUpdateWithType { type_: "OnDelete" },
                });
            }
        }
        StatefulSetStrategyType::Unknown(text) => problems.push(StrategyProblem {
            pointer: PTR_TYPE,
            kind: ProblemKind::UnsupportedType {
                text,
                expected: ["RollingUpdate", "OnDelete"],
            },
        }),
        StatefulSetStrategyType::RollingUpdate => {
            let Some(rolling) = strategy.rolling_update.as_ref() else {
                return problems;
            };
            if let Some(partition) = rolling.partition.filter(|p| *p < 0) {
                problems.push(StrategyProblem {
                    pointer: PTR_PARTITION,
                    kind: ProblemKind::Negative {
                        field: "partition",
                        value: i64::from(partition),
                    },
                });
            }
            if version < STATEFULSET_MAX_UNAVAILABLE {
                return problems;
            }
            if let Some(unavailable) = rolling.max_unavailable.as_ref() {
                check_int_or_percent(
                    unavailable,
                    MAX_UNAVAILABLE,
                    PTR_MAX_UNAVAILABLE,
                    &mut problems,
                );
                if validation_value(unavailable) == 0 {
                    problems.push(StrategyProblem {
                        pointer: PTR_MAX_UNAVAILABLE,
                        kind: ProblemKind::ZeroMaxUnavailable,
                    });
                }
                check_not_over_100(
                    unavailable,
                    MAX_UNAVAILABLE,
                    PTR_MAX_UNAVAILABLE,
                    &mut problems,
                );
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------
// PodDisruptionBudget
// ---------------------------------------------------------------------------

/// The PDB field a verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdbField {
    MinAvailable,
    MaxUnavailable,
}

impl PdbField {
    pub fn name(self) -> &'static str {
        match self {
            PdbField::MinAvailable => "minAvailable",
            PdbField::MaxUnavailable => "maxUnavailable",
        }
    }

    /// JSON pointer below the PDB's `spec`.
    pub fn pointer(self) -> &'static str {
        match self {
            PdbField::MinAvailable => "/minAvailable",
            PdbField::MaxUnavailable => "/maxUnavailable",
        }
    }
}

/// Whether a PodDisruptionBudget can ever let an eviction through, judged
/// with every expected pod healthy: the best case a node drain can hope for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdbVerdict {
    /// Evictions can be allowed; `disruptions` is how many at once when the
    /// pod count is known.
    Allows { disruptions: Option<i64> },
    /// No eviction is ever allowed: drains hang.
    Blocks(PdbBlock),
    /// Depends on the pod count, which is unknown.
    Undecided,
}

/// Why a PDB allows no eviction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdbBlock {
    /// `minAvailable` demands every expected pod: `required` ≥ `expected`
    /// (`required` is `None` when a `100%` decides it without a count).
    MinAvailable {
        value: IntOrString,
        required: Option<i64>,
        expected: Option<i64>,
    },
    /// `maxUnavailable` resolves to 0 (or below) at any scale.
    MaxUnavailable { value: IntOrString },
    /// Neither field is set; policy/v1 has no default, so the controller
    /// computes 0 expected pods and allows no disruption.
    NoBudget,
    /// A value the controller cannot read; it then sets the allowance to 0
    /// (`failSafe`). The API server rejects such a PDB anyway.
    Unreadable {
        field: PdbField,
        error: IntOrStringError,
    },
}

impl PdbBlock {
    /// JSON pointer below the PDB's `spec`; empty for the spec itself.
    pub fn pointer(&self) -> &'static str {
        match self {
            PdbBlock::MinAvailable { .. } => PdbField::MinAvailable.pointer(),
            PdbBlock::MaxUnavailable { .. } => PdbField::MaxUnavailable.pointer(),
            PdbBlock::NoBudget => "",
            PdbBlock::Unreadable { field, .. } => field.pointer(),
        }
    }
}

impl fmt::Display for PdbBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdbBlock::MinAvailable {
                value,
                required,
                expected,
            } => {
                let value = written(value);
                match (required, expected) {
                    (Some(required), Some(expected)) => write!(
                        f,
                        "`minAvailable` `{value}` requires `{required}` of `{expected}` pods to stay up: no eviction is ever allowed"
                    ),
                    _ => write!(
                        f,
                        "`minAvailable` `{value}` requires every pod to stay up: no eviction is ever allowed"
                    ),
                }
            }
            PdbBlock::MaxUnavailable { value } => write!(
                f,
                "`maxUnavailable` `{}` allows no pod to go down: no eviction is ever allowed",
                written(value)
            ),
            PdbBlock::NoBudget => f.write_str(
                "neither `minAvailable` nor `maxUnavailable` is set: no eviction is ever allowed",
            ),
            PdbBlock::Unreadable { field, error } => write!(
                f,
                "`{}` cannot be read ({error}): no eviction is ever allowed",
                field.name()
            ),
        }
    }
}

/// Judges a PDB against `expected` pods (the workload's smallest scale), as
/// `getExpectedPodCount` and `updatePdbStatus` (pkg/controller/disruption/
/// disruption.go) would with all of them healthy. `maxUnavailable` wins when
/// both are set, as in the controller. Percentages round up, for
/// `maxUnavailable` as for `minAvailable`. An integer `minAvailable` is
/// compared with the pods that exist, which in steady state is the scale.
/// Without a count (or with none of the pods running) only what holds at
/// every scale is decided: `maxUnavailable` 0 or `0%`, `minAvailable` of
/// 100 % or more, no budget at all.
pub fn pdb_eviction(spec: &PodDisruptionBudgetSpec, expected: Option<i64>) -> PdbVerdict {
    let expected = expected.filter(|n| *n > 0);
    if let Some(value) = spec.max_unavailable.as_ref() {
        return pdb_max_unavailable(value, expected);
    }
    if let Some(value) = spec.min_available.as_ref() {
        return pdb_min_available(value, expected);
    }
    PdbVerdict::Blocks(PdbBlock::NoBudget)
}

fn pdb_max_unavailable(value: &IntOrString, expected: Option<i64>) -> PdbVerdict {
    let unreadable = |error| {
        PdbVerdict::Blocks(PdbBlock::Unreadable {
            field: PdbField::MaxUnavailable,
            error,
        })
    };
    // Rounding up makes any positive share at least one pod, so the count
    // only sizes the allowance; 0 or less blocks at every scale.
    let at_one = match scaled_value(value, 1, true) {
        Ok(n) => n,
        Err(error) => return unreadable(error),
    };
    if at_one <= 0 {
        return PdbVerdict::Blocks(PdbBlock::MaxUnavailable {
            value: value.clone(),
        });
    }
    let Some(expected) = expected else {
        return PdbVerdict::Allows { disruptions: None };
    };
    match scaled_value(value, expected, true) {
        Ok(max_unavailable) => {
            let desired_healthy = expected.saturating_sub(max_unavailable).max(0);
            PdbVerdict::Allows {
                disruptions: Some(expected.saturating_sub(desired_healthy)),
            }
        }
        Err(error) => unreadable(error),
    }
}

fn pdb_min_available(value: &IntOrString, expected: Option<i64>) -> PdbVerdict {
    let required = match scaled_value(value, expected.unwrap_or(0), true) {
        Ok(n) => n,
        Err(error) => {
            return PdbVerdict::Blocks(PdbBlock::Unreadable {
                field: PdbField::MinAvailable,
                error,
            });
        }
    };
    match expected {
        Some(expected) if required >= expected => PdbVerdict::Blocks(PdbBlock::MinAvailable {
            value: value.clone(),
            required: Some(required),
            expected: Some(expected),
        }),
        Some(expected) => PdbVerdict::Allows {
            disruptions: Some(expected.saturating_sub(required)),
        },
        None => match value {
            IntOrString::String(text) => match parse_percent(text) {
                Ok(percent) if percent >= 100 => PdbVerdict::Blocks(PdbBlock::MinAvailable {
                    value: value.clone(),
                    required: None,
                    expected: None,
                }),
                Ok(percent) if percent <= 0 => PdbVerdict::Allows { disruptions: None },
                _ => PdbVerdict::Undecided,
            },
            IntOrString::Int(n) if *n <= 0 => PdbVerdict::Allows { disruptions: None },
            IntOrString::Int(_) => PdbVerdict::Undecided,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::RollingUpdateStatefulSetStrategy;

    fn int(n: i32) -> IntOrString {
        IntOrString::Int(n)
    }

    fn text(s: &str) -> IntOrString {
        IntOrString::String(s.to_owned())
    }

    fn rolling(surge: Option<IntOrString>, unavailable: Option<IntOrString>) -> DeploymentStrategy {
        DeploymentStrategy {
            type_: None,
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: surge,
                max_unavailable: unavailable,
            }),
        }
    }

    fn fenceposts(strategy: Option<&DeploymentStrategy>, replicas: i64) -> Fenceposts {
        match deployment_rolling(strategy, replicas) {
            Ok(Some(d)) => d.fenceposts,
            other => panic!("{other:?}"),
        }
    }

    fn pointers(problems: &[StrategyProblem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.pointer).collect()
    }

    // --- scaled_value ---

    #[test]
    fn scaled_value_rounds_as_asked() {
        assert_eq!(scaled_value(&text("30%"), 10, true), Ok(3));
        assert_eq!(scaled_value(&text("25%"), 10, true), Ok(3));
        assert_eq!(scaled_value(&text("25%"), 10, false), Ok(2));
        assert_eq!(scaled_value(&text("25%"), 1, true), Ok(1));
        assert_eq!(scaled_value(&text("25%"), 1, false), Ok(0));
        assert_eq!(scaled_value(&text("100%"), 7, false), Ok(7));
        assert_eq!(scaled_value(&int(5), 1, false), Ok(5));
        assert_eq!(scaled_value(&text("+5%"), 100, false), Ok(5));
        assert_eq!(scaled_value(&text("-5%"), 10, true), Ok(0));
        assert_eq!(scaled_value(&text("-5%"), 10, false), Ok(-1));
        assert_eq!(
            scaled_value(&text("9223372036854775807%"), i64::MAX, true),
            Ok(i64::MAX)
        );
    }

    #[test]
    fn scaled_value_rejects_strings_that_are_not_percentages() {
        assert_eq!(
            scaled_value(&text("5"), 10, true),
            Err(IntOrStringError::NotPercent { text: "5".into() })
        );
        for bad in ["%", "5.5%", "five%", "5%%", " 5%", ""] {
            assert!(scaled_value(&text(bad), 10, true).is_err(), "{bad:?}");
        }
        let message = scaled_value(&text("5"), 10, true)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "`5` is a string but not a percentage (expected a number followed by `%`, e.g. `25%`, or an unquoted integer)"
            )
        );
    }

    #[test]
    fn written_shows_the_manifest_form() {
        assert_eq!(written(&text("25%")), "25%");
        assert_eq!(written(&int(1)), "1");
        let setting = Setting {
            value: text("25%"),
            defaulted: true,
        };
        assert_eq!(setting.to_string(), "25%");
    }

    // --- Deployment fenceposts ---

    #[test]
    fn one_replica_with_both_zero_falls_back_to_zero_availability() {
        let f = fenceposts(Some(&rolling(Some(int(0)), Some(int(0)))), 1);
        assert_eq!((f.max_surge, f.max_unavailable), (0, 1));
        assert!(f.zero_fallback);
        assert_eq!(f.unavailable_budget(), 1);
        assert_eq!(f.min_available(), 0);
        assert!(f.zero_availability());
    }

    #[test]
    fn one_replica_with_defaults_surges() {
        for strategy in [
            None,
            Some(DeploymentStrategy::default()),
            Some(rolling(None, None)),
        ] {
            let resolved = deployment_rolling(strategy.as_ref(), 1);
            let Ok(Some(d)) = resolved else {
                panic!("{resolved:?}");
            };
            assert_eq!(
                (d.fenceposts.max_surge, d.fenceposts.max_unavailable),
                (1, 0)
            );
            assert!(!d.fenceposts.zero_fallback);
            assert!(!d.fenceposts.zero_availability());
            assert!(d.max_surge.defaulted && d.max_unavailable.defaulted);
            assert_eq!(d.max_surge.to_string(), "25%");
        }
    }

    #[test]
    fn ten_replicas_with_defaults() {
        let f = fenceposts(None, 10);
        assert_eq!((f.max_surge, f.max_unavailable), (3, 2));
        assert_eq!(f.min_available(), 8);
        assert_eq!(f.max_total(), 13);
    }

    #[test]
    fn three_replicas_half_unavailable_rounds_down() {
        let f = fenceposts(Some(&rolling(None, Some(text("50%")))), 3);
        assert_eq!(f.max_unavailable, 1);
        assert_eq!(f.max_surge, 1);
    }

    #[test]
    fn thirty_percent_of_ten() {
        let f = fenceposts(Some(&rolling(Some(text("30%")), Some(text("30%")))), 10);
        assert_eq!((f.max_surge, f.max_unavailable), (3, 3));
    }

    #[test]
    fn small_percentages_hit_the_fallback() {
        // 1% of 2 is 0.02: surge 0% stays 0, unavailable rounds down to 0.
        let f = fenceposts(Some(&rolling(Some(text("0%")), Some(text("1%")))), 2);
        assert_eq!(
            (f.max_surge, f.max_unavailable, f.zero_fallback),
            (0, 1, true)
        );
    }

    #[test]
    fn unavailable_is_capped_at_replicas() {
        let f = fenceposts(Some(&rolling(Some(int(0)), Some(int(5)))), 3);
        assert_eq!(f.max_unavailable, 5);
        assert_eq!(f.unavailable_budget(), 3);
        assert!(f.zero_availability());
        let scaled_to_zero = fenceposts(None, 0);
        assert_eq!(scaled_to_zero.unavailable_budget(), 0);
        assert!(!scaled_to_zero.zero_availability());
    }

    #[test]
    fn recreate_and_unknown_types_have_no_fenceposts() {
        let recreate = DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        };
        assert_eq!(deployment_rolling(Some(&recreate), 3), Ok(None));
        assert_eq!(
            DeploymentStrategyType::of(Some(&recreate)),
            DeploymentStrategyType::Recreate
        );
        let odd = DeploymentStrategy {
            type_: Some("Canary".into()),
            rolling_update: None,
        };
        assert_eq!(
            DeploymentStrategyType::of(Some(&odd)),
            DeploymentStrategyType::Unknown("Canary".into())
        );
        let empty = DeploymentStrategy {
            type_: Some(String::new()),
            rolling_update: None,
        };
        assert_eq!(
            DeploymentStrategyType::of(Some(&empty)),
            DeploymentStrategyType::RollingUpdate
        );
    }

    #[test]
    fn malformed_value_names_its_field() {
        let error = deployment_rolling(Some(&rolling(Some(text("5")), None)), 3).err();
        assert_eq!(error.as_ref().map(|e| e.pointer), Some(PTR_MAX_SURGE));
        assert_eq!(
            error.map(|e| e.to_string()),
            Some("cannot resolve `maxSurge`".to_owned())
        );
    }

    // --- Deployment validation ---

    #[test]
    fn valid_deployment_strategies_pass() {
        assert!(validate_deployment_strategy(None).is_empty());
        assert!(validate_deployment_strategy(Some(&rolling(None, None))).is_empty());
        assert!(validate_deployment_strategy(Some(&rolling(Some(int(0)), None))).is_empty());
        assert!(
            validate_deployment_strategy(Some(&rolling(Some(int(1)), Some(int(0))))).is_empty()
        );
        assert!(validate_deployment_strategy(Some(&rolling(None, Some(text("100%"))))).is_empty());
        let recreate = DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        };
        assert!(validate_deployment_strategy(Some(&recreate)).is_empty());
    }

    #[test]
    fn quoted_number_is_malformed() {
        let problems = validate_deployment_strategy(Some(&rolling(None, Some(text("5")))));
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
        assert_eq!(
            problems.first().map(|p| &p.kind),
            Some(&ProblemKind::NotIntOrPercent {
                field: "maxUnavailable",
                text: "5".into()
            })
        );
    }

    #[test]
    fn over_one_hundred_percent_unavailable() {
        let problems = validate_deployment_strategy(Some(&rolling(None, Some(text("101%")))));
        assert_eq!(
            problems.first().map(|p| p.to_string()).as_deref(),
            Some("`maxUnavailable` is `101%`: it must not be more than `100%`")
        );
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
        // maxSurge above 100% is fine for a Deployment.
        assert!(validate_deployment_strategy(Some(&rolling(Some(text("200%")), None))).is_empty());
    }

    #[test]
    fn negative_values() {
        let problems = validate_deployment_strategy(Some(&rolling(Some(int(-1)), None)));
        assert_eq!(
            problems.first().map(|p| &p.kind),
            Some(&ProblemKind::Negative {
                field: "maxSurge",
                value: -1
            })
        );
        let problems = validate_deployment_strategy(Some(&rolling(None, Some(text("-5%")))));
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
    }

    #[test]
    fn both_explicitly_zero() {
        for (surge, unavailable) in [
            (int(0), int(0)),
            (text("0%"), text("0%")),
            (int(0), text("0%")),
        ] {
            let problems =
                validate_deployment_strategy(Some(&rolling(Some(surge), Some(unavailable))));
            assert_eq!(
                problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
                vec![&ProblemKind::BothZero]
            );
        }
        // A malformed string counts as 0 in that check, as in Kubernetes.
        let problems = validate_deployment_strategy(Some(&rolling(Some(int(0)), Some(text("x")))));
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn rolling_update_with_recreate_and_unknown_type() {
        let both = DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: Some(RollingUpdateDeployment::default()),
        };
        let problems = validate_deployment_strategy(Some(&both));
        assert_eq!(pointers(&problems), vec![PTR_ROLLING_UPDATE]);
        assert_eq!(
            problems.first().map(|p| p.to_string()).as_deref(),
            Some("`rollingUpdate` may not be set when `type` is `Recreate`")
        );
        let odd = DeploymentStrategy {
            type_: Some("BlueGreen".into()),
            rolling_update: None,
        };
        let problems = validate_deployment_strategy(Some(&odd));
        assert_eq!(pointers(&problems), vec![PTR_TYPE]);
        assert_eq!(
            problems.first().map(|p| p.to_string()).as_deref(),
            Some("`type` `BlueGreen` is not supported (expected `Recreate` or `RollingUpdate`)")
        );
    }

    // --- rollout plan ---

    fn plan_of(replicas: i64, surge: i64, unavailable: i64) -> RolloutPlan {
        let f = resolve_fenceposts(
            &int(i32::try_from(surge).unwrap_or(0)),
            &int(i32::try_from(unavailable).unwrap_or(0)),
            replicas,
        );
        match f {
            Ok(f) => rollout_plan(&f),
            Err(e) => panic!("{e}"),
        }
    }

    fn counts(plan: &RolloutPlan) -> Vec<(i64, i64, i64)> {
        plan.steps
            .iter()
            .map(|s| (s.old, s.new, s.unavailable))
            .collect()
    }

    #[test]
    fn plan_three_replicas_surge_one() {
        let plan = plan_of(3, 1, 0);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(
            counts(&plan),
            vec![
                (3, 0, 0),
                (3, 1, 0),
                (2, 2, 0),
                (1, 3, 0),
                (0, 3, 0),
                (0, 3, 0)
            ]
        );
        assert_eq!(plan.min_ready(), 3);
        assert!(plan.steps.iter().all(|s| s.old + s.new <= 4));
        assert_eq!(plan.steps.last().map(|s| s.terminating), Some(0));
    }

    #[test]
    fn plan_three_replicas_unavailable_one() {
        let plan = plan_of(3, 0, 1);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(
            counts(&plan),
            vec![(3, 0, 0), (2, 1, 1), (1, 2, 1), (0, 3, 1), (0, 3, 0)]
        );
        assert_eq!(plan.min_ready(), 2);
        assert_eq!(
            plan.steps
                .get(1)
                .map(|s| (s.starting, s.terminating, s.ready)),
            Some((1, 1, 2))
        );
    }

    #[test]
    fn plan_shows_the_single_replica_outage() {
        let plan = plan_of(1, 0, 0);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(counts(&plan), vec![(1, 0, 0), (0, 1, 1), (0, 1, 0)]);
        assert_eq!(plan.min_ready(), 0);
    }

    #[test]
    fn plan_ten_replicas_with_defaults() {
        let plan = rollout_plan(&fenceposts(None, 10));
        assert_eq!(plan.end, PlanEnd::Complete);
        assert_eq!(plan.min_ready(), 8);
        assert!(plan.steps.iter().all(|s| s.old + s.new <= 13));
        assert_eq!(
            plan.steps.last().map(|s| (s.old, s.new, s.ready)),
            Some((0, 10, 10))
        );
    }

    #[test]
    fn plan_stays_bounded() {
        let plan = plan_of(10_000, 1, 0);
        assert_eq!(plan.end, PlanEnd::Complete);
        assert!(plan.steps.len() <= MAX_PLAN_STEPS);
        assert_eq!(plan.min_ready(), 10_000);

        let huge = plan_of(i64::from(i32::MAX), 1, 0);
        assert_eq!(huge.end, PlanEnd::Truncated);
        assert_eq!(huge.steps.len(), MAX_PLAN_STEPS);

        // Past i64 the sums saturate: no room to surge, so it stalls, quietly.
        let absurd = rollout_plan(&Fenceposts {
            replicas: i64::MAX,
            max_surge: 1,
            max_unavailable: 0,
            zero_fallback: false,
        });
        assert_eq!(absurd.end, PlanEnd::Stalled);

        let stuck = rollout_plan(&Fenceposts {
            replicas: 3,
            max_surge: 0,
            max_unavailable: 0,
            zero_fallback: false,
        });
        assert_eq!(stuck.end, PlanEnd::Stalled);

        let none = plan_of(0, 1, 0);
        assert_eq!(none.end, PlanEnd::Complete);
        assert_eq!(none.steps.len(), 1);

        let wild = rollout_plan(&Fenceposts {
            replicas: 5,
            max_surge: i64::MAX,
            max_unavailable: i64::MIN,
            zero_fallback: false,
        });
        assert_eq!(wild.end, PlanEnd::Complete);
    }

    // --- DaemonSet ---

    fn ds(surge: Option<IntOrString>, unavailable: Option<IntOrString>) -> DaemonSetUpdateStrategy {
        DaemonSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDaemonSet {
                max_surge: surge,
                max_unavailable: unavailable,
            }),
        }
    }

    #[test]
    fn daemonset_defaults() {
        let resolved = daemonset_rolling(None);
        let Ok(Some(d)) = resolved else {
            panic!("{resolved:?}");
        };
        assert_eq!(d.unavailable, NodeBudget::Count(1));
        assert_eq!(d.surge, NodeBudget::Count(0));
        assert!(!d.surges() && !d.all_nodes_may_be_down());
        assert!(d.max_unavailable.defaulted);
    }

    #[test]
    fn daemonset_percentage_of_unknown_nodes_is_a_share() {
        let resolved = daemonset_rolling(Some(&ds(None, Some(text("10%")))));
        let Ok(Some(d)) = resolved else {
            panic!("{resolved:?}");
        };
        assert_eq!(d.unavailable, NodeBudget::Share { percent: 10 });
        assert_eq!(d.unavailable.to_string(), "10%");
        // Rounds up: 10% of 3 nodes is one node, of 25 nodes three.
        assert_eq!(d.unavailable.resolve(3), 1);
        assert_eq!(d.unavailable.resolve(25), 3);
        assert!(!d.all_nodes_may_be_down());

        let all = daemonset_rolling(Some(&ds(None, Some(text("100%")))));
        assert!(matches!(all, Ok(Some(ref d)) if d.all_nodes_may_be_down()));
    }

    #[test]
    fn daemonset_surge_and_zero_fallback() {
        let surge = daemonset_rolling(Some(&ds(Some(text("25%")), Some(int(0)))));
        assert!(matches!(surge, Ok(Some(ref d)) if d.surges() && !d.zero_fallback));
        let zero = daemonset_rolling(Some(&ds(Some(text("0%")), Some(int(0)))));
        assert!(matches!(
            zero,
            Ok(Some(ref d)) if d.zero_fallback && d.unavailable == NodeBudget::Count(1)
        ));
        let on_delete = DaemonSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        };
        assert_eq!(daemonset_rolling(Some(&on_delete)), Ok(None));
    }

    #[test]
    fn daemonset_validation() {
        assert!(validate_daemonset_strategy(None).is_empty());
        assert!(validate_daemonset_strategy(Some(&ds(Some(int(1)), Some(int(0))))).is_empty());
        assert!(validate_daemonset_strategy(Some(&ds(None, Some(text("100%"))))).is_empty());
        // maxSurge alone keeps the default maxUnavailable 1: rejected.
        let problems = validate_daemonset_strategy(Some(&ds(Some(int(1)), None)));
        assert_eq!(
            problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
            vec![&ProblemKind::BothNonZero]
        );
        assert_eq!(pointers(&problems), vec![PTR_MAX_SURGE]);
        let problems = validate_daemonset_strategy(Some(&ds(Some(text("0%")), Some(int(0)))));
        assert_eq!(
            problems.iter().map(|p| &p.kind).collect::<Vec<_>>(),
            vec![&ProblemKind::BothZero]
        );
        let problems = validate_daemonset_strategy(Some(&ds(Some(text("150%")), Some(int(0)))));
        assert_eq!(pointers(&problems), vec![PTR_MAX_SURGE]);
        // OnDelete may keep a rollingUpdate block.
        let on_delete = DaemonSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: Some(RollingUpdateDaemonSet::default()),
        };
        assert!(validate_daemonset_strategy(Some(&on_delete)).is_empty());
    }

    // --- StatefulSet ---

    fn sts(unavailable: Option<IntOrString>, partition: Option<i32>) -> StatefulSetUpdateStrategy {
        StatefulSetUpdateStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateStatefulSetStrategy {
                max_unavailable: unavailable,
                partition,
            }),
        }
    }

    #[test]
    fn statefulset_max_unavailable_rounds_down_to_at_least_one() {
        assert_eq!(statefulset_max_unavailable(&text("10%"), 5), Ok(1));
        assert_eq!(statefulset_max_unavailable(&text("50%"), 5), Ok(2));
        assert_eq!(statefulset_max_unavailable(&int(3), 5), Ok(3));
        let resolved = statefulset_rolling(Some(&sts(Some(text("50%")), Some(2))), 5);
        let Ok(Some(s)) = resolved else {
            panic!("{resolved:?}");
        };
        assert_eq!(s.max_unavailable_pods, 2);
        assert_eq!(s.max_unavailable_at(KubeVersion::new(1, 35)), 2);
        assert_eq!(s.max_unavailable_at(KubeVersion::new(1, 34)), 1);
        assert_eq!(s.updated_pods(5), 3);
        assert_eq!(s.updated_pods(1), 0);
    }

    #[test]
    fn statefulset_defaults_and_on_delete() {
        let resolved = statefulset_rolling(None, 3);
        assert!(matches!(
            resolved,
            Ok(Some(ref s)) if s.partition == 0 && s.max_unavailable_pods == 1 && s.max_unavailable.defaulted
        ));
        let on_delete = StatefulSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: None,
        };
        assert_eq!(statefulset_rolling(Some(&on_delete), 3), Ok(None));
    }

    #[test]
    fn statefulset_validation() {
        let v135 = KubeVersion::new(1, 35);
        assert!(validate_statefulset_strategy(None, v135).is_empty());
        assert!(validate_statefulset_strategy(Some(&sts(Some(int(2)), Some(0))), v135).is_empty());
        let problems = validate_statefulset_strategy(Some(&sts(Some(int(0)), Some(-1))), v135);
        assert_eq!(
            pointers(&problems),
            vec![PTR_PARTITION, PTR_MAX_UNAVAILABLE]
        );
        assert_eq!(
            problems.get(1).map(|p| &p.kind),
            Some(&ProblemKind::ZeroMaxUnavailable)
        );
        // Before 1.35 the field is dropped, not judged.
        let old =
            validate_statefulset_strategy(Some(&sts(Some(int(0)), None)), KubeVersion::new(1, 31));
        assert!(old.is_empty());
        let problems = validate_statefulset_strategy(Some(&sts(Some(text("120%")), None)), v135);
        assert_eq!(pointers(&problems), vec![PTR_MAX_UNAVAILABLE]);
        let on_delete = StatefulSetUpdateStrategy {
            type_: Some("OnDelete".into()),
            rolling_update: Some(RollingUpdateStatefulSetStrategy::default()),
        };
        let problems = validate_statefulset_strategy(Some(&on_delete), v135);
        assert_eq!(pointers(&problems), vec![PTR_ROLLING_UPDATE]);
    }

    // --- PodDisruptionBudget ---

    fn pdb(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudgetSpec {
        PodDisruptionBudgetSpec {
            min_available: min,
            max_unavailable: max,
            ..PodDisruptionBudgetSpec::default()
        }
    }

    #[test]
    fn min_available_one_hundred_percent_blocks_without_a_count() {
        let verdict = pdb_eviction(&pdb(Some(text("100%")), None), None);
        assert_eq!(
            verdict,
            PdbVerdict::Blocks(PdbBlock::MinAvailable {
                value: text("100%"),
                required: None,
                expected: None
            })
        );
        let verdict = pdb_eviction(&pdb(Some(text("100%")), None), Some(4));
        let PdbVerdict::Blocks(block) = verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(block.pointer(), "/minAvailable");
        assert_eq!(
            block.to_string(),
            "`minAvailable` `100%` requires `4` of `4` pods to stay up: no eviction is ever allowed"
        );
    }

    #[test]
    fn min_available_percentage_rounds_up() {
        // 50% of 3 is 1.5: two must stay, one may go.
        assert_eq!(
            pdb_eviction(&pdb(Some(text("50%")), None), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
        // 50% of 1 rounds up to the only pod.
        assert!(matches!(
            pdb_eviction(&pdb(Some(text("50%")), None), Some(1)),
            PdbVerdict::Blocks(PdbBlock::MinAvailable {
                required: Some(1),
                expected: Some(1),
                ..
            })
        ));
        assert_eq!(
            pdb_eviction(&pdb(Some(text("50%")), None), None),
            PdbVerdict::Undecided
        );
    }

    #[test]
    fn min_available_integer() {
        assert!(matches!(
            pdb_eviction(&pdb(Some(int(3)), None), Some(3)),
            PdbVerdict::Blocks(PdbBlock::MinAvailable { .. })
        ));
        assert_eq!(
            pdb_eviction(&pdb(Some(int(2)), None), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
        assert_eq!(
            pdb_eviction(&pdb(Some(int(1)), None), None),
            PdbVerdict::Undecided
        );
        assert_eq!(
            pdb_eviction(&pdb(Some(int(0)), None), None),
            PdbVerdict::Allows { disruptions: None }
        );
    }

    #[test]
    fn max_unavailable_zero_blocks_regardless_of_count() {
        for value in [int(0), text("0%")] {
            for expected in [None, Some(1), Some(50)] {
                let verdict = pdb_eviction(&pdb(None, Some(value.clone())), expected);
                assert_eq!(
                    verdict,
                    PdbVerdict::Blocks(PdbBlock::MaxUnavailable {
                        value: value.clone()
                    })
                );
            }
        }
        let verdict = pdb_eviction(&pdb(None, Some(text("0%"))), None);
        let PdbVerdict::Blocks(block) = verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(block.pointer(), "/maxUnavailable");
        assert_eq!(
            block.to_string(),
            "`maxUnavailable` `0%` allows no pod to go down: no eviction is ever allowed"
        );
    }

    #[test]
    fn max_unavailable_percentage_rounds_up() {
        assert_eq!(
            pdb_eviction(&pdb(None, Some(text("10%"))), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
        assert_eq!(
            pdb_eviction(&pdb(None, Some(text("10%"))), None),
            PdbVerdict::Allows { disruptions: None }
        );
        assert_eq!(
            pdb_eviction(&pdb(None, Some(int(5))), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(3)
            }
        );
    }

    #[test]
    fn pdb_without_budget_or_with_unreadable_values_blocks() {
        assert_eq!(
            pdb_eviction(&pdb(None, None), Some(3)),
            PdbVerdict::Blocks(PdbBlock::NoBudget)
        );
        assert!(matches!(
            pdb_eviction(&pdb(Some(text("two")), None), Some(3)),
            PdbVerdict::Blocks(PdbBlock::Unreadable {
                field: PdbField::MinAvailable,
                ..
            })
        ));
        // maxUnavailable wins when both are set, as in the controller.
        assert_eq!(
            pdb_eviction(&pdb(Some(text("100%")), Some(int(1))), Some(3)),
            PdbVerdict::Allows {
                disruptions: Some(1)
            }
        );
    }
}
