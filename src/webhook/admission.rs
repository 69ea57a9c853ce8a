//! AdmissionReview in, AdmissionReview out: the webhook's adapter to the
//! engine. No HTTP here: the server hands over the request body and sends back
//! what this returns.
//!
//! The object under review becomes the same document the linter builds
//! ([`Document::detached`]) and goes through the same [`engine::evaluate`] and
//! policy, so a denial reads like the finding `rollsafe lint` prints.
//!
//! A review carries one object. Alone, the webhook runs the rules whose
//! [`Scope`] is the object: rules whose verdict depends on other objects
//! ([`Scope::Input`]) would report what a PodDisruptionBudget or
//! HorizontalPodAutoscaler elsewhere in the cluster already takes care of.
//! With a [`ClusterView`] the object is judged among its namespace's
//! watched objects and those rules run too, their findings warning (never
//! denying, unless the policy's `denyOn` names them: `kubectl apply -f dir/`
//! may create a Deployment a moment before its PodDisruptionBudget); while
//! the view is blind (never synced, or too old) they are skipped again. The
//! schema rules ([`Scope::Schema`]) never run: the API server has decoded
//! the object against its schema before any webhook sees it. Everything
//! else is judged exactly as the linter judges it.
//!
//! What is not denied comes back as admission warnings, which kubectl
//! prints on every apply: only findings at or above the policy's `warnOn`
//! (and what would deny, in warn mode or when an update did not introduce
//! it). The rest are counted in the metrics and logged with the review.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::Deserialize;
use serde_json::Value;

use crate::apply::{self, Judged, Safety};
use crate::cluster::ClusterView;
use crate::deadline::{Deadline, Expired};
use crate::engine::{self, Outcome};
use crate::finding::Finding;
use crate::fix::{self, PatchOp};
use crate::model::index::Neighbours;
use crate::model::{KnownKind, ObjectRef, WorkloadKind};
use crate::policy::Policy;
use crate::rules::{RULES, Scope};
use crate::severity::Severity;
use crate::source::{Document, field_path};

/// The annotation an object opts in to mutation with (value `"true"`).
pub const MUTATE_ANNOTATION: &str = "rollsafe.dev/mutate";

/// The API server truncates longer warnings; kubectl prints each on a line.
const MAX_WARNING_CHARS: usize = 240;
/// More warnings than this are summed up in a last one.
const MAX_WARNINGS: usize = 20;
/// Findings a denial lists; the rest are counted. kubectl prints the whole
/// message, and an object with thousands of containers must not make it
/// megabytes long.
const MAX_DENIAL_FINDINGS: usize = 10;
/// Characters of one finding in a denial. What to change is never cut for
/// room: the message is.
const MAX_DENIAL_FINDING_CHARS: usize = 400;
/// Characters of a finding's help in a denial (the longest are a few
/// clauses, with the values to set).
const MAX_DENIAL_HELP_CHARS: usize = 240;
/// Characters of a finding's message a denial keeps, however long the rest.
const MIN_DENIAL_MESSAGE_CHARS: usize = 60;

/// `--mode`: whether findings at or above the policy's `denyOn` deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Deny objects with findings at or above the policy's `denyOn` severity.
    Enforce,
    /// Never deny: what would deny becomes an admission warning, as do the
    /// other findings at or above the policy's `warnOn`.
    Warn,
}

/// Which objects `/mutate` repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// Only those annotated `rollsafe.dev/mutate: "true"`.
    OptedIn,
    /// Every object that reaches it (`--mutate-all`): the
    /// MutatingWebhookConfiguration's selectors decide.
    All,
}

/// Which webhook a review came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Validate,
    Mutate,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }
    }
}

/// What became of a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Allowed with nothing to say.
    Allowed,
    /// Allowed, with warnings.
    Warned,
    Denied,
    /// Allowed with a patch.
    Patched,
    /// Not judged: an operation, subresource, kind or namespace rollsafe leaves alone.
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Warned => "warned",
            Verdict::Denied => "denied",
            Verdict::Patched => "patched",
            Verdict::Skipped => "skipped",
        }
    }
}

/// Why a body is not a review the webhook can answer (HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("the body is not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("the body is not an AdmissionReview: {0}")]
    Shape(#[source] serde_json::Error),
    #[error(
        "expected an `admission.k8s.io/v1` `AdmissionReview`, got apiVersion `{api_version}` kind `{kind}`"
    )]
    NotV1 { api_version: String, kind: String },
    #[error("the AdmissionReview has no `request`")]
    NoRequest,
    #[error("the AdmissionReview request has an empty `uid`")]
    EmptyUid,
    #[error("cannot write the response: {0}")]
    Response(#[source] serde_json::Error),
    #[error("the review was abandoned: {0}")]
    Expired(#[from] Expired),
}

/// A review answered: the AdmissionReview to send back, and what the server
/// logs and counts about it.
#[derive(Debug)]
pub struct Reviewed {
    /// The serialised response AdmissionReview.
    pub body: Vec<u8>,
    pub uid: String,
    pub verdict: Verdict,
    /// `Deployment/shop/web`, or what the request names when it has no object.
    pub object: String,
    pub operation: &'static str,
    pub dry_run: bool,
    /// Rule and severity of every finding reported (denied or warned).
    pub findings: Vec<(&'static str, Severity)>,
    /// Why the review was skipped, when it was.
    pub skipped: Option<&'static str>,
}

/// Judges admission requests with one policy.
#[derive(Debug)]
pub struct Reviewer {
    /// The policy with the rules one object is enough for.
    policy: Policy,
    cluster: Option<ClusterJudge>,
    mode: Mode,
    mutation: Mutation,
}

/// Reviews among the objects of a cluster.
#[derive(Debug)]
struct ClusterJudge {
    view: Arc<ClusterView>,
    /// The policy with the cross-object rules too.
    policy: Policy,
    /// Whether the last review found the view blind: each change is logged
    /// once, not each review.
    was_blind: AtomicBool,
}

/// The object and old object of a review, taken out of its raw JSON.
struct RawObjects {
    object: Option<Value>,
    old_object: Option<Value>,
}

impl RawObjects {
    /// Moves them out, leaving `null`: kube then reads the request's
    /// attributes without decoding the objects a second time.
    fn take(raw: &mut Value) -> Self {
        let mut take = |field: &str| {
            raw.pointer_mut(&format!("/request/{field}"))
                .map(Value::take)
                .filter(Value::is_object)
        };
        RawObjects {
            object: take("object"),
            old_object: take("oldObject"),
        }
    }
}

/// What `judge` needs of a request: its attributes from kube's typed
/// `AdmissionRequest`, and the object and old object as the raw JSON the API
/// server sent. Rules and patches work on that raw JSON: a typed round trip
/// could drop or reshape what the user wrote.
struct Request {
    uid: String,
    namespace: Option<String>,
    name: String,
    kind: String,
    operation: Operation,
    sub_resource: Option<String>,
    object: Option<Value>,
    old_object: Option<Value>,
    dry_run: bool,
}

impl Request {
    fn new(request: &AdmissionRequest<DynamicObject>, objects: RawObjects) -> Self {
        Request {
            uid: request.uid.clone(),
            namespace: request.namespace.clone(),
            name: request.name.clone(),
            kind: request.kind.kind.clone(),
            operation: request.operation.clone(),
            sub_resource: request.sub_resource.clone(),
            object: objects.object,
            old_object: objects.old_object,
            dry_run: request.dry_run,
        }
    }
}

/// How the API server names an operation (and the review log shows it).
fn operation_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

/// The answer before it is written out.
#[derive(Default)]
struct Answer {
    allowed: bool,
    denial: Option<String>,
    warnings: Vec<String>,
    patch: Vec<PatchOp>,
    findings: Vec<(&'static str, Severity)>,
    skipped: Option<&'static str>,
}

impl Answer {
    fn allow() -> Self {
        Answer {
            allowed: true,
            ..Answer::default()
        }
    }

    fn skip(reason: &'static str) -> Self {
        Answer {
            skipped: Some(reason),
            ..Answer::allow()
        }
    }
}

impl Reviewer {
    /// `policy` as given, less the rules that judge more than one object.
    pub fn new(policy: Policy, mode: Mode, mutation: Mutation) -> Self {
        Reviewer {
            policy: without_scopes(policy, &[Scope::Input, Scope::Schema]),
            cluster: None,
            mode,
            mutation,
        }
    }

    /// This reviewer, judging each object among the objects of its
    /// namespace that `view` holds.
    pub fn among(mut self, view: Arc<ClusterView>, policy: Policy) -> Self {
        self.cluster = Some(ClusterJudge {
            view,
            policy: without_scopes(policy, &[Scope::Schema]),
            was_blind: AtomicBool::new(false),
        });
        self
    }

    /// The cluster view reviews consult, if any.
    pub fn cluster_view(&self) -> Option<&Arc<ClusterView>> {
        self.cluster.as_ref().map(|c| &c.view)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Answers one AdmissionReview body; gives up with
    /// [`ReviewError::Expired`] once `deadline` has passed.
    pub fn review(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        deadline: &Deadline,
    ) -> Result<Reviewed, ReviewError> {
        let mut raw: Value = serde_json::from_slice(body).map_err(ReviewError::Json)?;
        let text = |field: &str| raw.get(field).and_then(Value::as_str).unwrap_or_default();
        if text("apiVersion") != "admission.k8s.io/v1" || text("kind") != "AdmissionReview" {
            return Err(ReviewError::NotV1 {
                api_version: text("apiVersion").to_owned(),
                kind: text("kind").to_owned(),
            });
        }
        let objects = RawObjects::take(&mut raw);
        let review =
            AdmissionReview::<DynamicObject>::deserialize(raw).map_err(ReviewError::Shape)?;
        let request: AdmissionRequest<DynamicObject> =
            review.try_into().map_err(|_| ReviewError::NoRequest)?;
        if request.uid.is_empty() {
            return Err(ReviewError::EmptyUid);
        }
        let mut response = AdmissionResponse::from(&request);
        let mut wanted = Request::new(&request, objects);
        let (answer, object) = self.judge(endpoint, &mut wanted, deadline)?;
        let verdict = if answer.skipped.is_some() {
            Verdict::Skipped
        } else if !answer.allowed {
            Verdict::Denied
        } else if !answer.patch.is_empty() {
            Verdict::Patched
        } else if !answer.warnings.is_empty() {
            Verdict::Warned
        } else {
            Verdict::Allowed
        };
        if let Some(message) = answer.denial {
            response = response.deny(message);
            response.result.code = 403;
            response.result.reason = "Forbidden".to_owned();
        }
        if !answer.warnings.is_empty() {
            response.warnings = Some(answer.warnings);
        }
        if !answer.patch.is_empty() {
            response = with_patch(response, &answer.patch)?;
        }
        let body = wire_bytes(&response.into_review()).map_err(ReviewError::Response)?;
        Ok(Reviewed {
            body,
            uid: wanted.uid,
            verdict,
            object,
            operation: operation_name(&wanted.operation),
            dry_run: wanted.dry_run,
            findings: answer.findings,
            skipped: answer.skipped,
        })
    }

    fn judge(
        &self,
        endpoint: Endpoint,
        request: &mut Request,
        deadline: &Deadline,
    ) -> Result<(Answer, String), Expired> {
        let requested = || {
            let kind = &request.kind;
            match (&request.namespace, request.name.as_str()) {
                (Some(ns), name) if !ns.is_empty() && !name.is_empty() => {
                    format!("{kind}/{ns}/{name}")
                }
                (_, "") => kind.to_owned(),
                (_, name) => format!("{kind}/{name}"),
            }
        };
        if !matches!(request.operation, Operation::Create | Operation::Update) {
            return Ok((Answer::skip("operation"), requested()));
        }
        if request
            .sub_resource
            .as_deref()
            .is_some_and(|s| !s.is_empty())
        {
            return Ok((Answer::skip("subresource"), requested()));
        }
        let Some(object) = request.object.take().filter(Value::is_object) else {
            return Ok((Answer::skip("no object"), requested()));
        };
        let object = with_namespace(object, request.namespace.as_deref());
        let identity = ObjectRef::from_value(&object);
        let name = identity.to_string();
        if !engine::wants(&self.policy, &identity.api_version, &identity.kind) {
            return Ok((Answer::skip("kind"), name));
        }
        if self.policy.exempts_entirely(&identity) {
            return Ok((Answer::skip("exempt"), name));
        }
        // A Deployment's ReplicaSets and their pods, a CronJob's Jobs: judged
        // (and repaired) at their owner. Denying them would stop a rollout
        // the owner was allowed to start; patching them would fight it.
        if has_controller(&object) {
            return Ok((Answer::skip("owned by a controller"), name));
        }
        let answer = match endpoint {
            Endpoint::Validate => self.validate(request, object, &identity, &name, deadline)?,
            Endpoint::Mutate => self.mutate(request, object, &identity, &name, deadline)?,
        };
        Ok((answer, name))
    }

    /// What one review is judged by: once per review, so that a view going
    /// blind is logged and counted by review, not by evaluation.
    fn judging(&self, namespace: &str) -> Judging<'_> {
        let Some(cluster) = &self.cluster else {
            return Judging {
                policy: &self.policy,
                neighbours: None,
            };
        };
        match cluster.view.neighbours(namespace) {
            Ok(neighbours) => {
                if cluster.was_blind.swap(false, Ordering::Relaxed) {
                    tracing::info!("cluster view in sync again: cross-object rules run");
                }
                Judging {
                    policy: &cluster.policy,
                    neighbours: Some(neighbours),
                }
            }
            Err(blind) => {
                if !cluster.was_blind.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%blind, "cluster view blind: reviews skip the cross-object rules");
                }
                Judging {
                    policy: &self.policy,
                    neighbours: None,
                }
            }
        }
    }

    fn validate(
        &self,
        request: &Request,
        object: Value,
        identity: &ObjectRef,
        name: &str,
        deadline: &Deadline,
    ) -> Result<Answer, Expired> {
        let old = match request.old_object.as_ref() {
            Some(old) if request.operation == Operation::Update => {
                Some(with_namespace(old.clone(), request.namespace.as_deref()))
            }
            _ => None,
        };
        let renames = old
            .as_ref()
            .map(|old| container_renames(old, &object))
            .unwrap_or_default();
        let judging = self.judging(identity.namespace_key());
        let outcome = judging.evaluate(&[Document::detached(name, object)], deadline)?;
        let mut answer = Answer::allow();
        answer.findings = outcome
            .findings
            .iter()
            .map(|f| (f.rule.id, f.severity))
            .collect();
        let deny_on = &judging.policy.deny_on;
        let warn_on = &judging.policy.warn_on;
        // What enforce mode denies (when the change introduced it).
        let deniable = |f: &Finding| {
            f.severity >= deny_on.severity
                && (f.rule.scope == Scope::Object || deny_on.rules.iter().any(|r| r == f.rule.id))
        };
        let denies = |f: &Finding| self.mode == Mode::Enforce && deniable(f);
        // What is said at all: whatever would deny (in warn mode, and for
        // what the stored object already had), and what `warnOn` covers.
        let voiced = |f: &Finding| deniable(f) || warn_on.covers(f.rule.id, f.severity);
        // An update does not deny for what the stored object already had: a
        // legacy workload can still be scaled, labelled or annotated. It does
        // deny what it makes worse (a grace period lowered further).
        let before = match old {
            Some(old) if outcome.findings.iter().any(denies) => {
                Some(judging.evaluate(&[Document::detached(name, old)], deadline)?)
            }
            _ => None,
        };
        let mut known: HashMap<FindingKey<'_>, Option<i64>> = HashMap::new();
        for finding in before.iter().flat_map(|b| &b.findings) {
            let shortfall = known.entry(finding_key(finding, None)).or_insert(None);
            *shortfall = (*shortfall).max(finding.shortfall);
        }
        let is_new = |f: &Finding| match known.get(&finding_key(f, Some(&renames))) {
            None => true,
            Some(before) => matches!((f.shortfall, before), (Some(now), Some(then)) if now > *then),
        };
        let (denying, others): (Vec<&Finding>, Vec<&Finding>) = outcome
            .findings
            .iter()
            .partition(|f| denies(f) && is_new(f));
        // Findings below `warnOn` stay in the metrics and the review log.
        let others: Vec<&Finding> = others.into_iter().filter(|f| voiced(f)).collect();
        answer.warnings = warnings(&others);
        answer.warnings.extend(
            outcome
                .errors
                .iter()
                .map(|e| shorten(&format!("rollsafe cannot read {}", e.message))),
        );
        if !denying.is_empty() {
            answer.allowed = false;
            answer.denial = Some(denial(name, &denying));
        }
        Ok(answer)
    }

    fn mutate(
        &self,
        request: &Request,
        object: Value,
        identity: &ObjectRef,
        name: &str,
        deadline: &Deadline,
    ) -> Result<Answer, Expired> {
        let opted_in = self.mutation == Mutation::All
            || object
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(MUTATE_ANNOTATION))
                .and_then(Value::as_str)
                == Some("true");
        if !opted_in {
            return Ok(Answer::skip("not opted in"));
        }
        // A Pod's spec is immutable once created: patching it on update
        // would only make the update fail.
        let is_pod = KnownKind::classify(&identity.api_version, &identity.kind)
            == Some(KnownKind::Workload(WorkloadKind::Pod));
        if is_pod && request.operation != Operation::Create {
            return Ok(Answer::skip("pod update"));
        }
        let judging = self.judging(identity.namespace_key());
        let repaired = self.repair_judged(&judging, name, &object, deadline)?;
        let mut answer = Answer::allow();
        answer.findings = repaired
            .findings
            .iter()
            .map(|f| (f.rule.id, f.severity))
            .collect();
        answer.patch = fix::diff(&object, &repaired.object);
        if !answer.patch.is_empty() {
            // What the object became, field by field: later rounds may have
            // raised what earlier ones set.
            answer.warnings.push(shorten(&format!(
                "rollsafe mutated {name} to fix {}",
                repaired.rules.join(", ")
            )));
            answer
                .warnings
                .extend(answer.patch.iter().take(MAX_WARNINGS).map(|op| {
                    shorten(&format!(
                        "rollsafe set `{}` to `{}`",
                        field_path(op.path()),
                        op.value()
                    ))
                }));
            if answer.patch.len() > MAX_WARNINGS {
                answer.warnings.push(format!(
                    "rollsafe set {} more fields",
                    answer.patch.len() - MAX_WARNINGS
                ));
            }
        }
        Ok(answer)
    }

    /// Applies the safe fixes of the findings until none is left, with the
    /// loop `lint --fix` uses ([`apply::converge`]). Returns what the
    /// mutated object becomes (reviewing it again finds nothing left to fix),
    /// the rules whose fixes were applied, and the findings of the object as
    /// sent.
    pub fn repair(
        &self,
        name: &str,
        object: &Value,
        deadline: &Deadline,
    ) -> Result<Repaired, Expired> {
        let namespace = ObjectRef::from_value(object).namespace.unwrap_or_default();
        self.repair_judged(&self.judging(&namespace), name, object, deadline)
    }

    fn repair_judged(
        &self,
        judging: &Judging<'_>,
        name: &str,
        object: &Value,
        deadline: &Deadline,
    ) -> Result<Repaired, Expired> {
        let mut judge = |values: &[Arc<Value>]| {
            let documents: Vec<Document> = values
                .iter()
                .map(|value| Document::detached(name, Arc::clone(value)))
                .collect();
            let outcome = judging.evaluate(&documents, deadline)?;
            Ok(outcome
                .findings
                .into_iter()
                .map(|finding| Judged {
                    document: 0,
                    finding,
                })
                .collect())
        };
        let converged = apply::converge(
            vec![Arc::new(object.clone())],
            Safety::SafeOnly,
            deadline,
            &mut judge,
        )?;
        let mut rules = Vec::new();
        for applied in &converged.applied {
            if !rules.contains(&applied.rule.id) {
                rules.push(applied.rule.id);
            }
        }
        Ok(Repaired {
            object: converged
                .values
                .into_iter()
                .next()
                .map_or_else(|| object.clone(), Arc::unwrap_or_clone),
            rules,
            findings: converged.first.into_iter().map(|j| j.finding).collect(),
        })
    }
}

/// The policy one review is judged by, and the neighbours of its
/// namespace when a cluster view can be trusted.
struct Judging<'r> {
    policy: &'r Policy,
    neighbours: Option<Arc<Neighbours>>,
}

impl Judging<'_> {
    fn evaluate(&self, documents: &[Document], deadline: &Deadline) -> Result<Outcome, Expired> {
        engine::evaluate_among(documents, self.policy, self.neighbours.clone(), deadline)
    }
}

/// `policy` without the rules of `scopes`.
fn without_scopes(mut policy: Policy, scopes: &[Scope]) -> Policy {
    for rule in RULES {
        if scopes.contains(&rule.info().scope) {
            policy.disable(rule.info().id);
        }
    }
    policy
}

/// An object after [`Reviewer::repair`].
#[derive(Debug)]
pub struct Repaired {
    /// What the object becomes.
    pub object: Value,
    /// Rules whose fixes were applied.
    pub rules: Vec<&'static str>,
    /// The findings of the object as sent.
    pub findings: Vec<Finding>,
}

/// The response review as the API server reads it. kube serialises the patch
/// bytes as a JSON array of numbers and an allowed response's empty status as
/// `{}`; the admission API documents (and kubectl's own webhooks send) the
/// patch as a base64 string, and no status when allowed: write those.
fn wire_bytes(review: &AdmissionReview<DynamicObject>) -> Result<Vec<u8>, serde_json::Error> {
    let mut wire = serde_json::to_value(review)?;
    if let Some(response) = wire.get_mut("response").and_then(Value::as_object_mut) {
        if let Some(Value::Array(bytes)) = response.get("patch") {
            let bytes: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect();
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            response.insert("patch".to_owned(), Value::String(encoded));
        }
        if response
            .get("status")
            .and_then(Value::as_object)
            .is_some_and(|s| s.is_empty())
        {
            response.remove("status");
        }
    }
    serde_json::to_vec(&wire)
}

/// Our add/replace operations as the `json_patch` type kube's response takes
/// (it writes them base64-encoded with `patchType: JSONPatch`).
fn with_patch(
    response: AdmissionResponse,
    patch: &[PatchOp],
) -> Result<AdmissionResponse, ReviewError> {
    let patch: json_patch::Patch = serde_json::to_value(patch)
        .and_then(serde_json::from_value)
        .map_err(ReviewError::Response)?;
    response
        .with_patch(patch)
        .map_err(|e| ReviewError::Response(serde_json::Error::io(std::io::Error::other(e))))
}

/// The object with `metadata.namespace` filled in from the request when it
/// lacks one (the API server may leave it to the URL), so that exemptions and
/// messages see the namespace the object is created in.
fn with_namespace(mut object: Value, namespace: Option<&str>) -> Value {
    let Some(namespace) = namespace.filter(|ns| !ns.is_empty()) else {
        return object;
    };
    let has_namespace = object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .is_some_and(|ns| !ns.is_empty());
    if !has_namespace
        && let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
    {
        metadata.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    }
    object
}

pub(crate) fn has_controller(object: &Value) -> bool {
    object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        })
}

/// What makes two findings "the same" across an update: the rule and the
/// container (pointers shift when containers are added or reordered).
type FindingKey<'a> = (&'static str, Option<&'a str>);

/// `f`'s key, its container under its old name when `renames` says it was
/// renamed.
fn finding_key<'a>(f: &'a Finding, renames: Option<&'a HashMap<String, String>>) -> FindingKey<'a> {
    let container = f.container.as_deref().map(|name| {
        renames
            .and_then(|r| r.get(name))
            .map_or(name, String::as_str)
    });
    (f.rule.id, container)
}

/// Containers the update renamed and changed in no other way: new name → old
/// name. A container is matched by its place in its list when its name is
/// new, the old name is gone, and everything else about it is the same.
fn container_renames(old: &Value, new: &Value) -> HashMap<String, String> {
    let mut renames = HashMap::new();
    collect_renames(old, new, &mut renames);
    renames
}

fn collect_renames(old: &Value, new: &Value, out: &mut HashMap<String, String>) {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return;
    };
    for (key, new_value) in new {
        let Some(old_value) = old.get(key) else {
            continue;
        };
        let lists = (old_value.as_array(), new_value.as_array());
        if let ("containers" | "initContainers", (Some(before), Some(after))) =
            (key.as_str(), lists)
        {
            let name = |c: &Value| c.get("name").and_then(Value::as_str).map(str::to_owned);
            let names_before: Vec<Option<String>> = before.iter().map(name).collect();
            let names_after: Vec<Option<String>> = after.iter().map(name).collect();
            for (b, a) in before.iter().zip(after) {
                let (Some(was), Some(is)) = (name(b), name(a)) else {
                    continue;
                };
                if was != is
                    && !names_before.contains(&Some(is.clone()))
                    && !names_after.contains(&Some(was.clone()))
                    && same_but_name(b, a)
                {
                    out.insert(is, was);
                }
            }
        } else {
            collect_renames(old_value, new_value, out);
        }
    }
}

fn same_but_name(a: &Value, b: &Value) -> bool {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| k == "name" || b.get(k).is_some_and(|w| w == v))
        }
        _ => false,
    }
}

/// `rollsafe denied Deployment/shop/web (2 findings): rule at field:
/// message (help); …`, listing at most [`MAX_DENIAL_FINDINGS`].
fn denial(name: &str, denying: &[&Finding]) -> String {
    let mut parts: Vec<String> = denying
        .iter()
        .take(MAX_DENIAL_FINDINGS)
        .map(|f| denial_part(f))
        .collect();
    if denying.len() > MAX_DENIAL_FINDINGS {
        parts.push(format!(
            "and {} more; run `rollsafe lint` on the manifest for all of them",
            denying.len() - MAX_DENIAL_FINDINGS
        ));
    }
    let count = match denying.len() {
        1 => "1 finding".to_owned(),
        n => format!("{n} findings"),
    };
    format!("rollsafe denied {name} ({count}): {}", parts.join("; "))
}

/// `rule at field: message (help)`: the help whole, with the value to set
/// that `rollsafe lint` gives (`set terminationGracePeriodSeconds: 45`), and
/// the message cut to what room is left.
fn denial_part(f: &Finding) -> String {
    let head = format!("{} at `{}`: ", f.rule.id, field_path(&f.pointer));
    let tail = format!(" ({})", cut(&f.help, MAX_DENIAL_HELP_CHARS));
    let room = MAX_DENIAL_FINDING_CHARS
        .saturating_sub(head.chars().count() + tail.chars().count())
        .max(MIN_DENIAL_MESSAGE_CHARS);
    format!("{head}{}{tail}", cut(&f.message, room))
}

/// One short line per finding, most severe first.
fn warnings(findings: &[&Finding]) -> Vec<String> {
    let mut sorted: Vec<&&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut out: Vec<String> = sorted
        .iter()
        .take(MAX_WARNINGS)
        .map(|f| {
            shorten(&format!(
                "{} {} at `{}`: {}",
                f.severity,
                f.rule.id,
                field_path(&f.pointer),
                f.message
            ))
        })
        .collect();
    if findings.len() > MAX_WARNINGS {
        out.push(format!(
            "rollsafe: {} more findings; run `rollsafe lint` on the manifest for all of them",
            findings.len() - MAX_WARNINGS
        ));
    }
    out
}

/// A warning: one line of at most [`MAX_WARNING_CHARS`].
fn shorten(text: &str) -> String {
    cut(text, MAX_WARNING_CHARS)
}

/// `text` on one line, cut to `max` (at least 1) characters with `…` when
/// longer.
fn cut(text: &str, max: usize) -> String {
    let max = max.max(1);
    let single_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if single_line.chars().count() <= max {
        return single_line;
    }
    let mut out: String = single_line.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_the_webhook_cannot_use_are_off() {
        let policy =
            Policy::builtin(crate::policy::Profile::Strict).unwrap_or_else(|e| panic!("{e:?}"));
        let reviewer = Reviewer::new(policy, Mode::Enforce, Mutation::OptedIn);
        for rule in RULES {
            let info = rule.info();
            let runs = reviewer.policy().severity(info.id).is_some();
            assert_eq!(runs, info.scope == Scope::Object, "{}", info.id);
        }
    }

    #[test]
    fn warnings_are_one_short_line() {
        let text = format!("a\nb{}", "x".repeat(400));
        let short = shorten(&text);
        assert!(!short.contains('\n'));
        assert_eq!(short.chars().count(), MAX_WARNING_CHARS);
    }
}
