//! The typed view rules read: a workload, its pod template and its rollout.

use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::DeserializeOwned;
use serde_json::Value;

use std::collections::BTreeMap;

use super::object::{KnownKind, ObjectRef, WorkloadKind};
use super::rollout::{Rolling, Rollout};
use crate::source::{Document, push_token};

/// Custom workload kinds and their template pointers, keyed by
/// `group/version/Kind` as a policy writes them (`argoproj.io/v1alpha1/Rollout`).
pub type TemplatePaths = BTreeMap<String, String>;

/// Where an object's pod template is: the workload kind rollsafe reads it as
/// and the template's JSON pointer (`""` for a Pod, which is its own
/// template). A kind the policy's `templatePaths` names is a custom workload
/// whatever its name, except an Argo `Rollout`, which is built in; `None` for
/// objects that run no pods.
pub fn template_of(
    object: &ObjectRef,
    templates: &TemplatePaths,
) -> Option<(WorkloadKind, String)> {
    let known = KnownKind::classify(&object.api_version, &object.kind);
    // Rollouts were read through `templatePaths` before they were built in:
    // such a policy keeps working, with the Rollout's own strategy read too.
    let built_in_rollout = known == Some(KnownKind::Workload(WorkloadKind::Rollout));
    if !built_in_rollout
        && let Some(path) = templates.get(&format!("{}/{}", object.api_version, object.kind))
    {
        return Some((WorkloadKind::Custom, dotted_to_pointer(path)));
    }
    match known? {
        KnownKind::Workload(kind) => Some((kind, kind.template_pointer().to_owned())),
        _ => None,
    }
}

/// `spec.template` → `/spec/template`; a value that already is a pointer is kept.
pub fn dotted_to_pointer(path: &str) -> String {
    if path.starts_with('/') {
        return path.to_owned();
    }
    crate::source::pointer(path.split('.').filter(|t| !t.is_empty()))
}

/// An object that runs pods, seen through its pod template.
#[derive(Debug, Clone)]
pub struct Workload {
    pub doc: Document,
    pub object: ObjectRef,
    pub kind: WorkloadKind,
    pub metadata: ObjectMeta,
    /// JSON pointer of the pod template (`/spec/template`); empty for a Pod,
    /// whose metadata and spec are the template's.
    pub template_pointer: String,
    pub pod_metadata: ObjectMeta,
    /// Shared: every stub ([`Workload::stub`]) holds the same empty one, and
    /// an index holds a stub per workload of a long stream.
    pub pod_spec: std::sync::Arc<PodSpec>,
    /// `spec.replicas` as written (None when absent or not applicable).
    pub replicas: Option<i32>,
    pub min_ready_seconds: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub rollout: Rollout,
    /// Pointers of values the document holds but that could not be read as
    /// their type (`replicas: 0x7fffffffffffffff`): left out of this view,
    /// so a rule must not take them for absent and judge the default.
    pub unread: Vec<String>,
    /// The local ports metrics-only containers proxy to, for the
    /// `metricsOnlyImages` they were found with: every container asks which
    /// ports its pod's proxies front, so the pod is searched once.
    pub(crate) metrics_upstreams: std::sync::OnceLock<(Vec<String>, Vec<i32>)>,
    /// The positions of the Services that select the pods, for the index's
    /// Services stamped so (see `Index::services_selecting`).
    pub(crate) selecting_services: std::sync::OnceLock<(u64, Vec<usize>)>,
    /// The document's tree as compact JSON, while the workload waits for the
    /// rules that need every file read ([`Workload::freeze`]); `doc.value` is
    /// `null` meanwhile.
    frozen: Option<Box<str>>,
    /// Only what other workloads' rules read of it is kept (see
    /// [`Workload::stub`]): it is judged from its file read again.
    stub: bool,
}

/// Where a container sits in the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRole {
    Main,
    /// `initContainers[]` with `restartPolicy: Always`: runs for the pod's
    /// whole life and is stopped after the main containers.
    NativeSidecar,
    Init,
}

/// A container and the JSON pointer it lives at.
#[derive(Debug, Clone, Copy)]
pub struct ContainerRef<'w> {
    pub container: &'w Container,
    pub index: usize,
    pub role: ContainerRole,
    template_pointer: &'w str,
}

impl ContainerRef<'_> {
    /// `/spec/template/spec/containers/0`.
    pub fn pointer(&self) -> String {
        let list = match self.role {
            ContainerRole::Main => "containers",
            ContainerRole::NativeSidecar | ContainerRole::Init => "initContainers",
        };
        format!("{}/spec/{list}/{}", self.template_pointer, self.index)
    }

    /// A pointer to a field below the container, from raw tokens.
    pub fn field(&self, tokens: &[&str]) -> String {
        let mut pointer = self.pointer();
        for token in tokens {
            push_token(&mut pointer, token);
        }
        pointer
    }

    pub fn name(&self) -> &str {
        &self.container.name
    }

    pub fn is_long_running(&self) -> bool {
        self.role != ContainerRole::Init
    }
}

/// The pod spec of every stub.
fn empty_pod_spec() -> std::sync::Arc<PodSpec> {
    static EMPTY: std::sync::OnceLock<std::sync::Arc<PodSpec>> = std::sync::OnceLock::new();
    std::sync::Arc::clone(EMPTY.get_or_init(Default::default))
}

/// A document that does not decode as its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub pointer: String,
    pub message: String,
}

impl Workload {
    /// Decodes `doc` as `kind`, with its pod template at `template_at` (see
    /// [`template_of`]).
    pub fn decode(
        doc: &Document,
        kind: WorkloadKind,
        template_at: &str,
    ) -> Result<Workload, DecodeError> {
        let value = &*doc.value;
        let object = ObjectRef::from_value(value);
        let parts = match kind {
            WorkloadKind::Pod => {
                let pod: Pod = decode_object(value)?;
                // A Pod is its own template: its labels and annotations are the pod's.
                let template = pod_template(Some(pod.metadata.clone()), pod.spec);
                Parts::new(pod.metadata, template_at, template)
            }
            WorkloadKind::Deployment => {
                let d: Deployment = decode_object(value)?;
                let mut parts = Parts::new(d.metadata, template_at, d.spec.template);
                parts.replicas = d.spec.replicas;
                parts.min_ready_seconds = d.spec.min_ready_seconds;
                parts.selector = Some(d.spec.selector);
                parts.rollout = Rollout::Deployment(d.spec.strategy);
                parts
            }
            WorkloadKind::ReplicaSet => {
                let rs: ReplicaSet = decode_object(value)?;
                let spec = rs.spec;
                let mut parts =
                    Parts::new(rs.metadata, template_at, spec.template.unwrap_or_default());
                parts.replicas = spec.replicas;
                parts.min_ready_seconds = spec.min_ready_seconds;
                parts.selector = Some(spec.selector);
                parts
            }
            WorkloadKind::ReplicationController => {
                let rc: ReplicationController = decode_object(value)?;
                let spec = rc.spec.unwrap_or_default();
                let mut parts =
                    Parts::new(rc.metadata, template_at, spec.template.unwrap_or_default());
                parts.replicas = spec.replicas;
                parts.min_ready_seconds = spec.min_ready_seconds;
                parts.selector = spec.selector.map(|match_labels| LabelSelector {
                    match_labels: Some(match_labels),
                    match_expressions: None,
                });
                parts
            }
            WorkloadKind::StatefulSet => {
                let s: StatefulSet = decode_object(value)?;
                let spec = s.spec;
                let mut parts = Parts::new(s.metadata, template_at, spec.template);
                parts.replicas = spec.replicas;
                parts.min_ready_seconds = spec.min_ready_seconds;
                parts.selector = Some(spec.selector);
                parts.rollout = Rollout::StatefulSet(spec.update_strategy);
                parts
            }
            WorkloadKind::DaemonSet => {
                let ds: DaemonSet = decode_object(value)?;
                let spec = ds.spec;
                let mut parts = Parts::new(ds.metadata, template_at, spec.template);
                parts.min_ready_seconds = spec.min_ready_seconds;
                parts.selector = Some(spec.selector);
                parts.rollout = Rollout::DaemonSet(spec.update_strategy);
                parts
            }
            WorkloadKind::Job => {
                let job: Job = decode_object(value)?;
                let spec = job.spec.unwrap_or_default();
                Parts::new(job.metadata, template_at, spec.template)
            }
            WorkloadKind::CronJob => {
                let cron: CronJob = decode_object(value)?;
                let template = cron.spec.job_template.spec.unwrap_or_default().template;
                Parts::new(cron.metadata, template_at, template)
            }
            WorkloadKind::Rollout => {
                let r: super::rollout::ArgoRolloutObject = decode_at(value, "")?;
                let spec = r.spec;
                let mut parts =
                    Parts::new(r.metadata, template_at, spec.template.unwrap_or_default());
                parts.replicas = spec.replicas;
                parts.min_ready_seconds = spec.min_ready_seconds;
                parts.selector = spec.selector;
                parts.rollout = Rollout::Argo(Box::new(super::rollout::ArgoRollout {
                    strategy: spec.strategy,
                    workload_ref: spec.workload_ref,
                }));
                parts
            }
            WorkloadKind::Custom => {
                let pointer = template_at;
                let metadata: ObjectMeta = value
                    .get("metadata")
                    .map(|m| decode_at(m, "/metadata"))
                    .transpose()?
                    .unwrap_or_default();
                let template: PodTemplateSpec = match value.pointer(pointer) {
                    Some(t) => decode_at(t, pointer)?,
                    None => PodTemplateSpec::default(),
                };
                let mut parts = Parts::new(metadata, pointer, template);
                parts.replicas = value
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .and_then(|r| i32::try_from(r).ok());
                parts
            }
        };
        Ok(Workload {
            doc: doc.clone(),
            object,
            kind,
            metadata: parts.metadata,
            template_pointer: parts.template_pointer,
            pod_metadata: parts.template.metadata.unwrap_or_default(),
            pod_spec: std::sync::Arc::new(parts.template.spec.unwrap_or_default()),
            replicas: parts.replicas,
            min_ready_seconds: parts.min_ready_seconds,
            selector: parts.selector,
            rollout: parts.rollout,
            unread: Vec::new(),
            metrics_upstreams: std::sync::OnceLock::new(),
            selecting_services: std::sync::OnceLock::new(),
            frozen: None,
            stub: false,
        })
    }

    /// Keeps the document's tree as compact JSON until [`Workload::thawed`]:
    /// a tree of values costs about eight times its JSON, and a lint keeps
    /// every workload until all files are read. The other workloads' facts
    /// that the cross-object rules read are typed fields, which stay.
    pub fn freeze(&mut self) {
        if self.frozen.is_some() {
            return;
        }
        if let Ok(json) = serde_json::to_string(&*self.doc.value) {
            self.frozen = Some(json.into_boxed_str());
            self.doc.value = std::sync::Arc::new(serde_json::Value::Null);
            self.doc.spans = self.doc.spans.packed();
        }
    }

    /// What the rules judging other objects read of this workload (its
    /// identity, pod labels, selector, replicas), without its pod spec,
    /// tree or text: for a long stream, whose workloads are judged from the
    /// file read a second time once the cross-object index is complete.
    pub fn stub(&self) -> Workload {
        let identity = |m: &ObjectMeta| ObjectMeta {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            labels: m.labels.clone(),
            ..ObjectMeta::default()
        };
        Workload {
            doc: Document::nowhere(),
            object: self.object.clone(),
            kind: self.kind,
            metadata: identity(&self.metadata),
            template_pointer: self.template_pointer.clone(),
            pod_metadata: identity(&self.pod_metadata),
            pod_spec: empty_pod_spec(),
            replicas: self.replicas,
            min_ready_seconds: self.min_ready_seconds,
            selector: self.selector.clone(),
            // Other workloads' rules find a Rollout's pods by the template
            // its `workloadRef` names.
            rollout: if self.template_elsewhere() {
                self.rollout.clone()
            } else {
                Rollout::None
            },
            unread: self.unread.clone(),
            metrics_upstreams: std::sync::OnceLock::new(),
            selecting_services: std::sync::OnceLock::new(),
            frozen: None,
            stub: true,
        }
    }

    /// A Rollout whose pods are made from another object's template
    /// (`workloadRef`): its own template is empty, and its pods' labels and
    /// containers are known only when that object is in the input.
    pub fn template_elsewhere(&self) -> bool {
        matches!(&self.rollout, Rollout::Argo(r) if r.workload_ref.is_some())
    }

    /// Whether this is a [`Workload::stub`].
    pub fn is_stub(&self) -> bool {
        self.stub
    }

    /// This workload with its tree back, if it was frozen.
    pub fn thawed(&self) -> Option<Workload> {
        let json = self.frozen.as_deref()?;
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        let mut thawed = self.clone();
        thawed.doc.value = std::sync::Arc::new(value);
        thawed.frozen = None;
        Some(thawed)
    }

    /// Whether the value at `pointer` (or one around it) could not be read.
    pub fn is_unread(&self, pointer: &str) -> bool {
        self.unread.iter().any(|p| {
            pointer
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// `/spec/template/spec` (or `/spec` for a Pod).
    pub fn pod_spec_pointer(&self) -> String {
        format!("{}/spec", self.template_pointer)
    }

    /// A pointer to a field of the pod spec, from raw tokens.
    pub fn pod_spec_field(&self, tokens: &[&str]) -> String {
        let mut pointer = self.pod_spec_pointer();
        for token in tokens {
            push_token(&mut pointer, token);
        }
        pointer
    }

    /// The pod template's metadata pointer (`/spec/template/metadata`).
    pub fn pod_metadata_pointer(&self) -> String {
        format!("{}/metadata", self.template_pointer)
    }

    /// Every container: init containers (sidecars among them) first, then the
    /// main containers, each in manifest order.
    pub fn containers(&self) -> impl Iterator<Item = ContainerRef<'_>> {
        let init = self
            .pod_spec
            .init_containers
            .iter()
            .flatten()
            .enumerate()
            .map(|(index, c)| ContainerRef {
                container: c,
                index,
                role: if c.restart_policy.as_deref() == Some("Always") {
                    ContainerRole::NativeSidecar
                } else {
                    ContainerRole::Init
                },
                template_pointer: &self.template_pointer,
            });
        let main = self
            .pod_spec
            .containers
            .iter()
            .enumerate()
            .map(|(index, c)| ContainerRef {
                container: c,
                index,
                role: ContainerRole::Main,
                template_pointer: &self.template_pointer,
            });
        init.chain(main)
    }

    /// Main containers and native sidecars: what must drain and be probed.
    pub fn long_running_containers(&self) -> impl Iterator<Item = ContainerRef<'_>> {
        self.containers().filter(ContainerRef::is_long_running)
    }

    /// Labels of the pods this workload creates.
    pub fn pod_labels(&self) -> impl Iterator<Item = (&String, &String)> + Clone {
        self.pod_metadata.labels.iter().flatten()
    }

    /// An annotation from the pod template, else from the workload itself.
    pub fn annotation(&self, key: &str) -> Option<(&str, String)> {
        fn find<'m>(meta: &'m ObjectMeta, key: &str) -> Option<&'m str> {
            meta.annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .map(String::as_str)
        }
        if let Some(value) = find(&self.pod_metadata, key) {
            let mut pointer = self.pod_metadata_pointer();
            push_token(&mut pointer, "annotations");
            push_token(&mut pointer, key);
            return Some((value, pointer));
        }
        if self.template_pointer.is_empty() {
            return None;
        }
        find(&self.metadata, key).map(|value| {
            let mut pointer = String::from("/metadata/annotations");
            push_token(&mut pointer, key);
            (value, pointer)
        })
    }

    /// The workload's rollout resolved at `replicas` on Kubernetes `version`.
    pub fn rolling(&self, replicas: i64, version: super::KubeVersion) -> Rolling {
        Rolling::of(&self.rollout, replicas, version)
    }

    /// `terminationGracePeriodSeconds`, or Kubernetes' default of 30.
    pub fn grace_period_seconds(&self) -> i64 {
        self.pod_spec.termination_grace_period_seconds.unwrap_or(30)
    }
}

struct Parts {
    metadata: ObjectMeta,
    template_pointer: String,
    template: PodTemplateSpec,
    replicas: Option<i32>,
    min_ready_seconds: Option<i32>,
    selector: Option<LabelSelector>,
    rollout: Rollout,
}

impl Parts {
    fn new(metadata: ObjectMeta, template_pointer: &str, template: PodTemplateSpec) -> Self {
        Parts {
            metadata,
            template_pointer: template_pointer.to_owned(),
            template,
            replicas: None,
            min_ready_seconds: None,
            selector: None,
            rollout: Rollout::None,
        }
    }
}

fn pod_template(metadata: Option<ObjectMeta>, spec: Option<PodSpec>) -> PodTemplateSpec {
    PodTemplateSpec { metadata, spec }
}

/// Decodes a whole object as its typed Kubernetes kind. k8s-openapi refuses any
/// `apiVersion` but the one it was generated for; older versions of the same
/// kind (`policy/v1beta1` PodDisruptionBudgets, `autoscaling/v2beta2`
/// HorizontalPodAutoscalers) share the fields rollsafe reads, so they are read
/// as the current version.
pub fn decode_object<T: Resource + DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    if value.get("apiVersion").and_then(Value::as_str) == Some(T::API_VERSION) {
        return decode_at(value, "");
    }
    let mut current = value.clone();
    if let Some(object) = current.as_object_mut() {
        object.insert(
            "apiVersion".to_owned(),
            Value::String(T::API_VERSION.to_owned()),
        );
    }
    decode_at(&current, "")
}

/// Decodes a typed value, naming the offending field by JSON pointer.
pub fn decode_at<T: DeserializeOwned>(value: &Value, base: &str) -> Result<T, DecodeError> {
    // Tracking the path costs as much as decoding: decode plainly, and only
    // when that fails decode again to learn where.
    if let Ok(typed) = T::deserialize(value) {
        return Ok(typed);
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut pointer = base.to_owned();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    push_token(&mut pointer, &index.to_string())
                }
                serde_path_to_error::Segment::Map { key } => push_token(&mut pointer, key),
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        DecodeError {
            pointer,
            message: error.into_inner().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Document {
        Document::detached("t", value)
    }

    #[test]
    fn deployment_view() {
        let d = doc(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "annotations": {"a": "workload"}},
            "spec": {"replicas": 3, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "initContainers": [{"name": "init"}, {"name": "proxy", "restartPolicy": "Always"}],
                    "containers": [{"name": "app"}]
                }
            }}
        }));
        let w = Workload::decode(
            &d,
            WorkloadKind::Deployment,
            WorkloadKind::Deployment.template_pointer(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(w.replicas, Some(3));
        let names: Vec<_> = w
            .long_running_containers()
            .map(|c| (c.name().to_owned(), c.pointer()))
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "proxy".to_owned(),
                    "/spec/template/spec/initContainers/1".to_owned()
                ),
                (
                    "app".to_owned(),
                    "/spec/template/spec/containers/0".to_owned()
                ),
            ]
        );
        assert_eq!(
            w.annotation("a"),
            Some(("workload", "/metadata/annotations/a".to_owned()))
        );
        assert_eq!(w.grace_period_seconds(), 30);
    }

    #[test]
    fn pod_and_cronjob_pointers() {
        let pod = doc(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}),
        );
        let w = Workload::decode(
            &pod,
            WorkloadKind::Pod,
            WorkloadKind::Pod.template_pointer(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            w.containers().next().map(|c| c.pointer()),
            Some("/spec/containers/0".to_owned())
        );
        let cron = doc(
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}}}}),
        );
        let w = Workload::decode(
            &cron,
            WorkloadKind::CronJob,
            WorkloadKind::CronJob.template_pointer(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(w.pod_spec_pointer(), "/spec/jobTemplate/spec/template/spec");
    }

    #[test]
    fn a_frozen_workload_thaws_to_the_tree_it_was_read_from() {
        let value = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "annotations": {"note": "é \"quoted\""}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [
                {"name": "app", "resources": {"requests": {"cpu": 0.1, "memory": 1e9}}}
            ]}}}
        });
        let d = doc(value.clone());
        let kind = WorkloadKind::Deployment;
        let mut w =
            Workload::decode(&d, kind, kind.template_pointer()).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            w.thawed().is_none(),
            "a workload never frozen has nothing to thaw"
        );
        w.freeze();
        assert_eq!(*w.doc.value, Value::Null);
        assert_eq!(w.replicas, Some(3), "typed fields stay");
        let thawed = w.thawed().unwrap_or_else(|| panic!("no tree to thaw"));
        assert_eq!(*thawed.doc.value, value);
        assert_eq!(thawed.pod_spec, w.pod_spec);
    }

    #[test]
    fn decode_errors_name_the_field() {
        let d = doc(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
            "spec": {"replicas": "3", "template": {}}}),
        );
        let error = Workload::decode(
            &d,
            WorkloadKind::Deployment,
            WorkloadKind::Deployment.template_pointer(),
        )
        .err();
        assert_eq!(error.map(|e| e.pointer), Some("/spec/replicas".to_owned()));
    }

    #[test]
    fn custom_kind_at_a_policy_path() {
        let d = doc(
            json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"},
            "spec": {"replicas": 4, "template": {"spec": {"containers": [{"name": "c"}]}}}}),
        );
        let w = Workload::decode(&d, WorkloadKind::Custom, "/spec/template")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(w.replicas, Some(4));
        assert_eq!(w.pod_spec.containers.len(), 1);
    }
}
