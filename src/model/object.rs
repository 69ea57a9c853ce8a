//! What an object is: its identity and which of the kinds rollsafe reads.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// `apiVersion`, `kind`, namespace and name of an object, as findings name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn from_value(value: &Value) -> Self {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let metadata = value.get("metadata");
        ObjectRef {
            api_version: text(value.get("apiVersion")).unwrap_or_default(),
            kind: text(value.get("kind")).unwrap_or_default(),
            namespace: text(metadata.and_then(|m| m.get("namespace"))).filter(|ns| !ns.is_empty()),
            name: text(metadata.and_then(|m| m.get("name")))
                .or_else(|| {
                    text(metadata.and_then(|m| m.get("generateName")))
                        .map(|prefix| format!("{prefix}*"))
                })
                .unwrap_or_default(),
        }
    }

    /// The API group: `apps` for `apps/v1`, empty for the core group.
    pub fn group(&self) -> &str {
        group_of(&self.api_version)
    }

    /// The namespace objects are matched in; an object without one goes
    /// wherever the others without one go, so they share the empty namespace.
    pub fn namespace_key(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
}

impl fmt::Display for ObjectRef {
    /// `Deployment/ns/name`, or `Deployment/name` without a namespace.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// The kinds rollsafe reads, recognised by API group and kind so that a
/// custom resource that happens to be called `Deployment` is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KnownKind {
    Workload(WorkloadKind),
    Service,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    ConfigMap,
    PersistentVolumeClaim,
    /// Gateway API `HTTPRoute`.
    HttpRoute,
    /// Istio `VirtualService`.
    VirtualService,
    /// Istio `DestinationRule`: read for the subsets VirtualServices name.
    DestinationRule,
}

/// Kinds that carry a pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadKind {
    Pod,
    Deployment,
    ReplicaSet,
    ReplicationController,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    /// An Argo Rollouts `Rollout`: a Deployment-like workload with canary or
    /// blue-green steps, whose pod template may live in a Deployment
    /// (`workloadRef`).
    Rollout,
    /// A custom resource whose template path a policy names (Argo `Rollout`, …).
    Custom,
}

impl WorkloadKind {
    /// Where a built-in kind keeps its pod template; a custom kind's comes
    /// from the policy's `templatePaths` (`spec.template` when it names none).
    pub fn template_pointer(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "",
            WorkloadKind::CronJob => "/spec/jobTemplate/spec/template",
            _ => "/spec/template",
        }
    }

    /// Jobs run to completion: they are judged on shutdown only.
    pub fn runs_to_completion(self) -> bool {
        matches!(self, WorkloadKind::Job | WorkloadKind::CronJob)
    }
}

impl KnownKind {
    pub fn classify(api_version: &str, kind: &str) -> Option<KnownKind> {
        use WorkloadKind as W;
        let group = group_of(api_version);
        let known = match (group, kind) {
            ("", "Pod") => KnownKind::Workload(W::Pod),
            ("apps" | "extensions", "Deployment") => KnownKind::Workload(W::Deployment),
            ("apps" | "extensions", "ReplicaSet") => KnownKind::Workload(W::ReplicaSet),
            ("", "ReplicationController") => KnownKind::Workload(W::ReplicationController),
            ("apps", "StatefulSet") => KnownKind::Workload(W::StatefulSet),
            ("apps" | "extensions", "DaemonSet") => KnownKind::Workload(W::DaemonSet),
            ("batch", "Job") => KnownKind::Workload(W::Job),
            ("batch", "CronJob") => KnownKind::Workload(W::CronJob),
            ("argoproj.io", "Rollout") => KnownKind::Workload(W::Rollout),
            ("", "Service") => KnownKind::Service,
            ("policy", "PodDisruptionBudget") => KnownKind::PodDisruptionBudget,
            ("autoscaling", "HorizontalPodAutoscaler") => KnownKind::HorizontalPodAutoscaler,
            ("", "ConfigMap") => KnownKind::ConfigMap,
            ("", "PersistentVolumeClaim") => KnownKind::PersistentVolumeClaim,
            ("gateway.networking.k8s.io", "HTTPRoute") => KnownKind::HttpRoute,
            ("networking.istio.io", "VirtualService") => KnownKind::VirtualService,
            ("networking.istio.io", "DestinationRule") => KnownKind::DestinationRule,
            _ => return None,
        };
        Some(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_and_display() {
        let object = ObjectRef::from_value(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}
        }));
        assert_eq!(object.to_string(), "Deployment/shop/web");
        assert_eq!(object.group(), "apps");
        let pod = ObjectRef::from_value(
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "job-"}}),
        );
        assert_eq!(pod.to_string(), "Pod/job-*");
        assert_eq!(pod.group(), "");
    }

    #[test]
    fn classification_checks_the_group() {
        assert_eq!(
            KnownKind::classify("apps/v1", "Deployment"),
            Some(KnownKind::Workload(WorkloadKind::Deployment))
        );
        assert_eq!(KnownKind::classify("example.com/v1", "Deployment"), None);
        assert_eq!(
            KnownKind::classify("policy/v1beta1", "PodDisruptionBudget"),
            Some(KnownKind::PodDisruptionBudget)
        );
        for version in ["v1", "v1beta1"] {
            assert_eq!(
                KnownKind::classify(&format!("gateway.networking.k8s.io/{version}"), "HTTPRoute"),
                Some(KnownKind::HttpRoute)
            );
        }
        for version in ["v1alpha3", "v1beta1", "v1"] {
            assert_eq!(
                KnownKind::classify(&format!("networking.istio.io/{version}"), "VirtualService"),
                Some(KnownKind::VirtualService)
            );
        }
        assert_eq!(KnownKind::classify("example.com/v1", "HTTPRoute"), None);
    }
}
