//! The rule catalog: the `Rule` trait, the registry and the declaration macro.
//!
//! A rule reads one workload (or one PodDisruptionBudget, one weighted route,
//! or one document as written), the cross-object index and the policy settings, and pushes
//! violations. It does no I/O, keeps no state, and does not know which front
//! end called it. Its documentation is its doc comment, captured by
//! [`declare_rule!`] so that `rollsafe explain` prints exactly what the source
//! says.

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::Serialize;

pub use settings::Settings;

use crate::fix::Fix;
use std::cell::RefCell;
use std::rc::Rc;

use crate::model::route::Route;
use crate::model::shutdown::PodShutdown;
use crate::model::{Index, KubeVersion, ObjectRef, Related, Workload};
use crate::schema::Problem;
use crate::source::Document;

/// Declares a rule: a unit struct, its id, its family, what it must see to
/// judge ([`Scope`]), fix availability, the settings it reads and its
/// documentation (the `///` lines, kept verbatim).
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            family: $family:ident,
            scope: $scope:ident,
            fix: $fix:ident,
            settings: [$($setting:literal),* $(,)?]
            $(, defers_to: [$($deferred:literal),* $(,)?])? $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::rules::Described for $name {
            fn info(&self) -> &'static $crate::rules::RuleInfo {
                static INFO: $crate::rules::RuleInfo = $crate::rules::RuleInfo {
                    id: $id,
                    name: stringify!($name),
                    family: $crate::rules::Family::$family,
                    scope: $crate::rules::Scope::$scope,
                    fix: $crate::rules::FixAvailability::$fix,
                    settings: &[$($setting),*],
                    defers_to: &[$($($deferred),*)?],
                    raw_docs: concat!($($doc, "\n"),*),
                };
                &INFO
            }
        }
    };
}

pub mod cel;
pub mod disruption;
pub mod probes;
pub mod rollout;
pub mod routing;
pub mod schema;
pub mod settings;
pub mod shutdown;

/// Whether a rule can repair what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixAvailability {
    None,
    /// Some findings can be fixed, others cannot (e.g. no shell in the image).
    Sometimes,
    Always,
}

/// The part of a workload a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Readiness, liveness and startup probes.
    Probes,
    /// How a rollout replaces pods.
    Rollout,
    /// What happens between a pod's deletion and SIGKILL.
    Shutdown,
    /// Voluntary disruptions: PodDisruptionBudgets, autoscaling.
    Disruption,
    /// Documents as the API server's schemas and validation read them.
    Schema,
    /// Weighted routes to a workload's Service: Gateway API HTTPRoutes,
    /// Istio VirtualServices.
    Routing,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Probes,
        Family::Rollout,
        Family::Shutdown,
        Family::Disruption,
        Family::Schema,
        Family::Routing,
    ];

    /// The name `--select` and `--ignore` take.
    pub fn name(self) -> &'static str {
        match self {
            Family::Probes => "probes",
            Family::Rollout => "rollout",
            Family::Shutdown => "shutdown",
            Family::Disruption => "disruption",
            Family::Schema => "schema",
            Family::Routing => "routing",
        }
    }
}

/// What a rule must see to judge, and so which front end can run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The object alone: an admission review carries all it needs.
    Object,
    /// Other objects of the input too (a PodDisruptionBudget, an HPA): one
    /// admission review does not carry them.
    Input,
    /// The document as written, against the API's schemas: the API server
    /// has done this before any webhook sees the object.
    Schema,
}

/// What a rule says about itself.
#[derive(Debug)]
pub struct RuleInfo {
    /// Stable kebab-case id, naming the condition found.
    pub id: &'static str,
    /// The rule's struct name, PascalCase of the id.
    pub name: &'static str,
    pub family: Family,
    pub scope: Scope,
    pub fix: FixAvailability,
    /// Policy settings (camelCase, as in the policy file) the rule reads.
    pub settings: &'static [&'static str],
    /// Rules whose finding on an object says what matters more there: while
    /// one of them reports the object (and is not suppressed), this rule's
    /// findings on it are withheld, and they come once that is fixed.
    pub defers_to: &'static [&'static str],
    /// The doc comment as captured, one leading space per line.
    pub raw_docs: &'static str,
}

impl RuleInfo {
    /// The documentation as Markdown.
    pub fn docs(&self) -> String {
        let mut out = String::with_capacity(self.raw_docs.len());
        for line in self.raw_docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// The first sentence of "What it does".
    pub fn summary(&self) -> String {
        let docs = self.docs();
        let body = docs
            .split("## What it does")
            .nth(1)
            .unwrap_or(&docs)
            .split("\n## ")
            .next()
            .unwrap_or_default();
        let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
        match text.find(". ") {
            Some(end) => text[..=end].to_owned(),
            None => text,
        }
    }
}

/// Implemented by [`declare_rule!`].
pub trait Described {
    fn info(&self) -> &'static RuleInfo;
}

/// One rule of the catalog.
pub trait Rule: Described + Sync {
    fn check_workload(&self, _workload: &Workload, _cx: &Context<'_>, _out: &mut Vec<Violation>) {}
    fn check_pdb(
        &self,
        _pdb: &Related<PodDisruptionBudget>,
        _cx: &Context<'_>,
        _out: &mut Vec<Violation>,
    ) {
    }
    /// Checks one HTTPRoute or VirtualService.
    fn check_route(&self, _route: &Route, _cx: &Context<'_>, _out: &mut Vec<Violation>) {}
    /// Checks one document as written, whatever its kind, before and apart
    /// from its typed view. Called for every document of the run when the
    /// rule asks for it in [`Rule::document_needs`].
    fn check_document(&self, _doc: &DocumentView<'_>, _out: &mut Vec<Violation>) {}
    /// The rule's verdict on one object as CEL, with the policy's settings
    /// and Kubernetes version baked in (what `rollsafe export` prints), or
    /// why CEL cannot state it exactly (see [`cel`]).
    fn cel(
        &self,
        _settings: &Settings,
        _kubernetes: KubeVersion,
    ) -> Result<Vec<cel::RuleCel>, String> {
        Err(cel::gap(self.info()))
    }
    /// What the engine prepares for [`Rule::check_document`].
    fn document_needs(&self) -> DocumentNeeds {
        DocumentNeeds::default()
    }
}

/// What a rule that reads documents as written needs the engine to prepare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentNeeds {
    /// Check every document against its JSON Schema (`crate::schema`).
    pub schema: bool,
    /// Take over documents that do not decode as their kind: what breaks the
    /// decoding becomes this rule's findings instead of input errors, and the
    /// other rules read a copy of the object repaired for decoding.
    pub decode_errors: bool,
}

impl DocumentNeeds {
    pub fn union(self, other: DocumentNeeds) -> DocumentNeeds {
        DocumentNeeds {
            schema: self.schema || other.schema,
            decode_errors: self.decode_errors || other.decode_errors,
        }
    }
}

/// One document as written, with what checking it found.
#[derive(Debug)]
pub struct DocumentView<'a> {
    pub doc: &'a Document,
    pub object: &'a ObjectRef,
    /// What the schema check and typed decoding found.
    pub problems: &'a [Problem],
}

/// What a rule may consult besides its subject.
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub index: &'a Index,
    pub kubernetes: KubeVersion,
    /// The shutdown of the workload last asked about: the rules that judge
    /// one workload one after another read it once.
    shutdown: RefCell<Option<Rc<PodShutdown<'a>>>>,
    /// A workload being judged that is not the index's own (a thawed copy).
    judged: Option<&'a Workload>,
}

impl<'a> Context<'a> {
    pub fn new(settings: &'a Settings, index: &'a Index, kubernetes: KubeVersion) -> Self {
        Context {
            settings,
            index,
            kubernetes,
            shutdown: RefCell::new(None),
            judged: None,
        }
    }

    /// A context for judging `w`, which may be a copy of an index's
    /// workload: its shutdown is read once too.
    pub fn judging(mut self, w: &'a Workload) -> Self {
        self.judged = Some(w);
        self
    }

    /// The shutdown of `w` as the policy's settings read it, read once per
    /// workload of the index (a workload from elsewhere is read each time).
    pub fn pod_shutdown<'c>(&'c self, w: &'c Workload) -> Rc<PodShutdown<'c>> {
        if let Some(pod) = self.shutdown.borrow().as_ref()
            && std::ptr::eq(pod.workload, w)
        {
            return Rc::clone(pod) as Rc<PodShutdown<'c>>;
        }
        let settings = self.settings.shutdown();
        let own = self.index.workloads.iter().find(|x| std::ptr::eq(*x, w));
        let Some(own) = own.or(self.judged.filter(|j| std::ptr::eq(*j, w))) else {
            return Rc::new(PodShutdown::of(w, self.index, &settings));
        };
        let pod = Rc::new(PodShutdown::of(own, self.index, &settings));
        *self.shutdown.borrow_mut() = Some(Rc::clone(&pod));
        pod
    }
}

/// A rule's raw result, before the engine gives it a severity and a place.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// RFC 6901 pointer of the offending field, or of the object that should
    /// hold a missing one.
    pub pointer: String,
    pub container: Option<String>,
    /// What is wrong: lower case, no final period, values in backticks.
    pub message: String,
    /// What to change, in the imperative, with the target value.
    pub help: String,
    pub fix: Option<Fix>,
    /// How far the object falls short of the rule's bound, in the rule's own
    /// unit (milliseconds, seconds, replicas): larger is worse. An update
    /// that makes an existing finding worse is judged as a new one.
    pub shortfall: Option<i64>,
    /// The most severe this finding is, whatever the policy sets for the
    /// rule: where the harm is smaller (a missing readiness probe on a pod
    /// nothing else could serve for), an error becomes a warning.
    pub at_most: Option<crate::severity::Severity>,
}

impl Violation {
    pub fn new(
        pointer: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Violation {
            pointer: pointer.into(),
            container: None,
            message: message.into(),
            help: help.into(),
            fix: None,
            shortfall: None,
            at_most: None,
        }
    }

    pub fn in_container(mut self, name: &str) -> Self {
        self.container = Some(name.to_owned());
        self
    }

    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }

    /// Caps the finding's severity (see [`Violation::at_most`]).
    pub fn at_most(mut self, severity: crate::severity::Severity) -> Self {
        self.at_most = Some(severity);
        self
    }

    /// How far short of the rule's bound (see [`Violation::shortfall`]).
    pub fn short_by(mut self, amount: i64) -> Self {
        self.shortfall = Some(amount);
        self
    }
}

/// Every rule, in catalog order (the order of PRODUCT.md's table).
pub static RULES: &[&dyn Rule] = &[
    &probes::ReadinessProbeMissing,
    &probes::LivenessProbeMissing,
    &probes::LivenessEqualsReadiness,
    &probes::ProbePortNotDeclared,
    &probes::LivenessRestartsBeforeUnready,
    &probes::StartupProbeMissing,
    &rollout::RolloutZeroAvailability,
    &rollout::RolloutLowAvailability,
    &rollout::RolloutInvalidStrategy,
    &rollout::RolloutRecreateStrategy,
    &rollout::SingleReplica,
    &rollout::MinReadySecondsZero,
    &rollout::RolloutAntiAffinityDeadlock,
    &rollout::CanaryWeightInexact,
    &rollout::RolloutServiceMissing,
    &rollout::RolloutServiceSelectsNoPods,
    &rollout::ScaleDownDelayTooShort,
    &shutdown::PrestopHookMissing,
    &shutdown::PrestopSleepTooShort,
    &shutdown::PrestopExecWithoutShell,
    &shutdown::SleepActionUnsupported,
    &shutdown::GracePeriodTooShort,
    &shutdown::PrestopExceedsGracePeriod,
    &shutdown::ShutdownTimeoutUnknown,
    &shutdown::GracePeriodExcessive,
    &disruption::PdbMissing,
    &disruption::PdbBlocksEviction,
    &disruption::HpaReplicasConflict,
    &routing::RouteWeightsAllZero,
    &routing::RouteBackendMissing,
    &routing::VirtualserviceWeightsInvalid,
    &routing::VirtualserviceSubsetMissing,
    &schema::UnknownField,
    &schema::InvalidFieldValue,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.info().id == id)
}

/// A `# rollsafe: ignore[…]` comment that silences nothing. Not a rule of
/// the catalog: no policy sets its level and the webhook never sees
/// comments; the engine reports it (as a warning) while reading comments,
/// and `--ignore unused-suppression` turns it off.
pub static UNUSED_SUPPRESSION: RuleInfo = RuleInfo {
    id: "unused-suppression",
    name: "UnusedSuppression",
    family: Family::Schema,
    scope: Scope::Schema,
    fix: FixAvailability::None,
    settings: &[],
    defers_to: &[],
    raw_docs: " ## What it does
 Flags a `# rollsafe: ignore[rule-id]` comment that silences no finding:
 the rule no longer fires on that line or the line below, or the id is
 not a rule.
 ## Why it matters
 A stale suppression would hide the next real finding on that field.
",
};

/// The rule ids a `--select` or `--ignore` name stands for: one rule, a
/// family's rules, or `unused-suppression`; an unknown name gets the
/// nearest known one suggested.
pub fn resolve_selector(name: &str) -> Result<Vec<&'static str>, String> {
    if let Some(rule) = find(name) {
        return Ok(vec![rule.info().id]);
    }
    if name == UNUSED_SUPPRESSION.id {
        return Ok(vec![UNUSED_SUPPRESSION.id]);
    }
    if let Some(family) = Family::ALL.into_iter().find(|f| f.name() == name) {
        return Ok(RULES
            .iter()
            .map(|r| r.info())
            .filter(|info| info.family == family)
            .map(|info| info.id)
            .collect());
    }
    let known = RULES
        .iter()
        .map(|r| r.info().id)
        .chain([UNUSED_SUPPRESSION.id])
        .chain(Family::ALL.into_iter().map(Family::name));
    Err(match crate::suggest::closest(name, known) {
        Some(near) => format!("unknown rule or family `{name}`; did you mean `{near}`?"),
        None => format!("unknown rule or family `{name}`; `rollsafe rules` lists them"),
    })
}

/// The known id closest to `id`, for "did you mean".
pub fn suggest(id: &str) -> Option<&'static str> {
    crate::suggest::closest(id, RULES.iter().map(|r| r.info().id))
}

/// Whether, while the workload's pods are replaced, other pods serve beside
/// a new one: then a new pod that gets traffic before it is ready drops
/// requests the others would have served. Not for a bare Pod, nor for one
/// replica stopped before its successor starts (`Recreate`, `OnDelete`, a
/// StatefulSet, a rolling update that cannot surge): that is an outage with
/// or without a probe.
pub(crate) fn replacement_overlaps(w: &Workload, cx: &Context<'_>) -> bool {
    if w.kind == crate::model::WorkloadKind::Pod {
        return false;
    }
    let Some(replicas) = cx.index.min_replicas(w) else {
        // A DaemonSet's pods on other nodes serve; an unknown count may be
        // more than one.
        return true;
    };
    if replicas >= 2 {
        return true;
    }
    matches!(w.rolling(replicas, cx.kubernetes), crate::model::rollout::Rolling::Deployment(rolling) if rolling.fenceposts.max_surge >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("readiness-probe-mising"),
            Some("readiness-probe-missing")
        );
        assert_eq!(suggest("something-else-entirely"), None);
    }
}
