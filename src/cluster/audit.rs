//! What `rollsafe audit` reads: the objects of the kinds rollsafe judges and
//! of those the cross-object rules consult, in one namespace or all, each as
//! a document named `namespace/Kind/name` (what findings point at).

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;

use super::ClusterError;
use crate::source::Document;

/// The kinds read, in the order their objects are reported.
const KINDS: &[(&str, &str, &str, &str)] = &[
    // group, version, kind, plural
    ("apps", "v1", "Deployment", "deployments"),
    ("apps", "v1", "StatefulSet", "statefulsets"),
    ("apps", "v1", "DaemonSet", "daemonsets"),
    ("apps", "v1", "ReplicaSet", "replicasets"),
    ("batch", "v1", "CronJob", "cronjobs"),
    ("batch", "v1", "Job", "jobs"),
    ("", "v1", "Pod", "pods"),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
    ),
    ("", "v1", "Service", "services"),
    ("", "v1", "ConfigMap", "configmaps"),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("argoproj.io", "v1alpha1", "Rollout", "rollouts"),
];

/// Kinds a cluster serves only with their CustomResourceDefinition
/// installed: where it is not, there is nothing of them to read.
fn optional(group: &str) -> bool {
    group == "argoproj.io"
}

/// Where to read.
#[derive(Debug, Clone)]
pub enum Scope {
    Namespace(String),
    AllNamespaces,
}

/// Every object of the kinds read, in `scope`, except those a controller
/// owns (a Deployment's ReplicaSets and their Pods, a CronJob's Jobs): they
/// are judged at their owner, as the webhook judges them.
pub async fn read(client: &kube::Client, scope: &Scope) -> Result<Vec<Document>, ClusterError> {
    let mut documents = Vec::new();
    for &(group, version, kind, plural) in KINDS {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
        let api: Api<DynamicObject> = match scope {
            Scope::Namespace(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            Scope::AllNamespaces => Api::all_with(client.clone(), &resource),
        };
        let listed = super::list_pages(&api, |object| {
            if let Some(document) = document(object, &resource) {
                documents.push(document);
            }
        })
        .await;
        match listed {
            Err(kube::Error::Api(response)) if response.code == 404 && optional(group) => {}
            other => {
                other.map_err(|source| ClusterError::List {
                    what: format!("{plural}.{}", resource.api_version),
                    source,
                })?;
            }
        }
    }
    Ok(documents)
}

/// The object as the document a lint reads, unless a controller owns it.
fn document(object: DynamicObject, resource: &ApiResource) -> Option<Document> {
    let mut value = serde_json::to_value(&object).ok()?;
    let map = value.as_object_mut()?;
    // Items of a list come without their kind.
    map.insert(
        "apiVersion".into(),
        Value::from(resource.api_version.clone()),
    );
    map.insert("kind".into(), Value::from(resource.kind.clone()));
    // The API server's bookkeeping, not what the rules read.
    map.remove("status");
    if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    if crate::webhook::admission::has_controller(&value) {
        return None;
    }
    let namespace = object.metadata.namespace.as_deref().unwrap_or("");
    let name = object.metadata.name.as_deref().unwrap_or("");
    let title = if namespace.is_empty() {
        format!("{}/{name}", resource.kind)
    } else {
        format!("{namespace}/{}/{name}", resource.kind)
    };
    Some(Document::detached(&title, value))
}
