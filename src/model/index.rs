//! Every object of one run, decoded once, with the lookups cross-object rules
//! need: which Services and PodDisruptionBudgets select a workload's pods,
//! which HorizontalPodAutoscaler scales it, which ConfigMap or claim it names;
//! and the weighted routes (HTTPRoutes, VirtualServices) with the Services
//! and DestinationRules they send traffic to.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::Resource;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::de::DeserializeOwned;

use super::object::{KnownKind, ObjectRef, WorkloadKind};
use super::route::{DestinationRule, Route};
use super::selector::{label_selector_selects, map_selects};
use super::workload::{DecodeError, TemplatePaths, Workload, decode_object, template_of};
use crate::source::{Document, SpanIndex};

/// An object of a kind the rules consult, decoded.
#[derive(Debug, Clone)]
pub struct Related<T> {
    pub doc: Document,
    pub object: ObjectRef,
    pub typed: T,
}

/// A document that failed to decode as its kind.
#[derive(Debug, Clone)]
pub struct Undecodable {
    pub doc: Document,
    pub error: DecodeError,
}

/// One document decoded as an object the index keeps. Decoding needs only
/// the document, so documents decode on any thread; [`Index::add`] then
/// puts them in order.
#[derive(Debug)]
pub enum Entry {
    Workload(Box<Workload>),
    Service(Box<Related<Service>>),
    Pdb(Box<Related<PodDisruptionBudget>>),
    Hpa(Box<Related<HorizontalPodAutoscaler>>),
    ConfigMap(Box<Related<ConfigMap>>),
    Claim(Box<Related<PersistentVolumeClaim>>),
    Route(Box<Route>),
    DestinationRule(Box<Related<DestinationRule>>),
}

impl Entry {
    /// The object `doc` holds, if it is of a kind rollsafe reads (`None`
    /// for other kinds); an error if it does not decode as its kind.
    pub fn decode(doc: &Document, templates: &TemplatePaths) -> Result<Option<Entry>, DecodeError> {
        let object = ObjectRef::from_value(&doc.value);
        if let Some((kind, template)) = template_of(&object, templates) {
            return Workload::decode(doc, kind, &template)
                .map(|w| Some(Entry::Workload(Box::new(w))));
        }
        let Some(kind) = KnownKind::classify(&object.api_version, &object.kind) else {
            return Ok(None);
        };
        let entry = match kind {
            KnownKind::Workload(_) => return Ok(None),
            KnownKind::Service => Entry::Service(Box::new(related(doc, object)?)),
            KnownKind::PodDisruptionBudget => Entry::Pdb(Box::new(related(doc, object)?)),
            KnownKind::HorizontalPodAutoscaler => Entry::Hpa(Box::new(related(doc, object)?)),
            KnownKind::ConfigMap => {
                // Only the keys containers read are looked up; a ConfigMap's
                // tree (dashboards, whole config files) is not kept twice.
                let mut configmap: Related<ConfigMap> = related(doc, object)?;
                configmap.doc.value = Arc::new(serde_json::Value::Null);
                configmap.doc.spans = SpanIndex::default();
                Entry::ConfigMap(Box::new(configmap))
            }
            KnownKind::PersistentVolumeClaim => Entry::Claim(Box::new(related(doc, object)?)),
            KnownKind::HttpRoute => Entry::Route(Box::new(Route::Http(custom(doc, object)?))),
            KnownKind::VirtualService => Entry::Route(Box::new(Route::Mesh(custom(doc, object)?))),
            KnownKind::DestinationRule => Entry::DestinationRule(Box::new(custom(doc, object)?)),
        };
        Ok(Some(entry))
    }
}

/// Objects around the input of one namespace that its cross-object lookups
/// also see, but that no rule judges: a cluster's PodDisruptionBudgets,
/// HorizontalPodAutoscalers, Services and ConfigMaps, when the webhook
/// reviews one object. Keyed by name; boxed, because a typed object is
/// most of a kilobyte even when nearly empty, and a map's nodes keep room
/// for eleven of them.
#[derive(Debug, Clone, Default)]
pub struct Neighbours {
    pub services: BTreeMap<String, Box<Related<Service>>>,
    pub pdbs: BTreeMap<String, Box<Related<PodDisruptionBudget>>>,
    pub hpas: BTreeMap<String, Box<Related<HorizontalPodAutoscaler>>>,
    pub configmaps: BTreeMap<String, Box<Related<ConfigMap>>>,
}

impl Neighbours {
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
            && self.pdbs.is_empty()
            && self.hpas.is_empty()
            && self.configmaps.is_empty()
    }
}

/// The cross-object index of one run.
#[derive(Debug)]
pub struct Index {
    pub workloads: Vec<Workload>,
    services: Vec<Related<Service>>,
    /// Names this index's set of Services: a workload keeps the Services that
    /// select it under this stamp, and asks again when it differs.
    services_stamp: u64,
    pub pdbs: Vec<Related<PodDisruptionBudget>>,
    pub hpas: Vec<Related<HorizontalPodAutoscaler>>,
    configmaps: HashMap<(String, String), Related<ConfigMap>>,
    claims: HashMap<(String, String), Related<PersistentVolumeClaim>>,
    /// HTTPRoutes and VirtualServices, which the routing rules judge.
    pub routes: Vec<Route>,
    destination_rules: Vec<Related<DestinationRule>>,
    /// What surrounds the input, shared between reviews.
    neighbours: Option<Arc<Neighbours>>,
}

/// What an input says of the Services of a namespace (see
/// [`Index::services_known`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicesKnown {
    /// The cluster's Services are known (the webhook's cluster view), or
    /// the object's own file or stream defines Services of its namespace:
    /// a Service missing from them is missing.
    Surely,
    /// Services of the namespace are elsewhere in the input (for objects
    /// written without a namespace, in the same folder): likely, not sure.
    Nearby,
    /// Nothing of the namespace's Services is in sight.
    Not,
}

/// Whether `other`, in namespace `theirs`, may be taken to share the
/// namespace of the object in `subject`, in `ours`. Offline, every object
/// without a namespace falls in the same empty one, though each goes
/// wherever it is applied, and a folder of unrelated projects holds many
/// of them: such an object speaks for another only from the same folder (a
/// chart's render, an application's manifests, one stream on stdin).
pub fn in_sight(subject: &Document, ours: &str, other: &Document, theirs: &str) -> bool {
    let folder = |doc: &Document| {
        std::path::Path::new(doc.file.name())
            .parent()
            .map(ToOwned::to_owned)
    };
    (!ours.is_empty() && !theirs.is_empty()) || folder(subject) == folder(other)
}

/// Stamps no two sets of Services share.
static STAMPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_stamp() -> u64 {
    STAMPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Index {
    fn default() -> Self {
        Index {
            workloads: Vec::new(),
            services: Vec::new(),
            services_stamp: next_stamp(),
            pdbs: Vec::new(),
            hpas: Vec::new(),
            configmaps: HashMap::new(),
            claims: HashMap::new(),
            routes: Vec::new(),
            destination_rules: Vec::new(),
            neighbours: None,
        }
    }
}

impl Index {
    /// The index of detached documents, each of which must decode.
    #[cfg(test)]
    pub(crate) fn of_values(values: Vec<serde_json::Value>) -> Index {
        let docs: Vec<Document> = values
            .into_iter()
            .map(|v| Document::detached("t", v))
            .collect();
        let (index, errors) = Index::build(&docs, &TemplatePaths::new());
        assert!(errors.is_empty(), "{errors:?}");
        index
    }

    /// Decodes every document of a kind rollsafe reads. Documents that do not
    /// decode are returned beside the index and left out of it.
    pub fn build(documents: &[Document], templates: &TemplatePaths) -> (Index, Vec<Undecodable>) {
        let mut index = Index::default();
        let mut undecodable = Vec::new();
        for doc in documents {
            match Entry::decode(doc, templates) {
                Ok(entry) => index.add(entry),
                Err(error) => undecodable.push(Undecodable {
                    doc: doc.clone(),
                    error,
                }),
            }
        }
        (index, undecodable)
    }

    /// This index, whose lookups also see `neighbours`.
    pub fn among(mut self, neighbours: Option<Arc<Neighbours>>) -> Self {
        self.neighbours = neighbours;
        self
    }

    fn neighbours(&self) -> Option<&Neighbours> {
        self.neighbours.as_deref()
    }

    /// Adds a decoded object. Objects are added in input order, which is the
    /// order the rules judge them in.
    pub fn add(&mut self, entry: Option<Entry>) {
        match entry {
            None => {}
            Some(Entry::Workload(w)) => self.workloads.push(*w),
            Some(Entry::Service(r)) => {
                self.services.push(*r);
                self.services_stamp = next_stamp();
            }
            Some(Entry::Pdb(r)) => self.pdbs.push(*r),
            Some(Entry::Hpa(r)) => self.hpas.push(*r),
            Some(Entry::ConfigMap(r)) => {
                let key = (r.object.namespace_key().to_owned(), r.object.name.clone());
                self.configmaps.insert(key, *r);
            }
            Some(Entry::Claim(r)) => {
                let key = (r.object.namespace_key().to_owned(), r.object.name.clone());
                self.claims.insert(key, *r);
            }
            Some(Entry::Route(r)) => self.routes.push(*r),
            Some(Entry::DestinationRule(r)) => self.destination_rules.push(*r),
        }
    }

    /// The Services of the input.
    pub fn services(&self) -> &[Related<Service>] {
        &self.services
    }

    /// The Service called `name` in `namespace`, in the input or around it.
    pub fn service_named(&self, namespace: &str, name: &str) -> Option<&Related<Service>> {
        let around = self
            .neighbours()
            .and_then(|n| n.services.get(name))
            .map(Box::as_ref);
        self.services
            .iter()
            .chain(around)
            .find(|s| s.object.namespace_key() == namespace && s.object.name == name)
    }

    /// How much the input says of the Services of `namespace` around the
    /// object in `doc`, and so what a Service missing from it means.
    pub fn services_known(&self, doc: &Document, namespace: &str) -> ServicesKnown {
        let around = self.neighbours().is_some_and(|n| {
            n.services
                .values()
                .any(|s| s.object.namespace_key() == namespace)
        });
        let of_namespace = || {
            self.services
                .iter()
                .filter(move |s| s.object.namespace_key() == namespace)
        };
        if around || of_namespace().any(|s| s.doc.file.name() == doc.file.name()) {
            ServicesKnown::Surely
        } else if of_namespace().any(|s| in_sight(doc, namespace, &s.doc, namespace)) {
            ServicesKnown::Nearby
        } else {
            ServicesKnown::Not
        }
    }

    /// The Deployment whose pod template a Rollout's `workloadRef` names,
    /// when it is in the input.
    pub fn referenced_template(&self, w: &Workload) -> Option<&Workload> {
        let crate::model::Rollout::Argo(rollout) = &w.rollout else {
            return None;
        };
        let target = rollout.workload_ref.as_ref()?;
        let name = target.name.as_deref()?;
        self.workloads.iter().find(|other| {
            other.kind == WorkloadKind::Deployment
                && target.kind.as_deref().is_none_or(|k| k == "Deployment")
                && other.object.name == name
                && other.object.namespace_key() == w.object.namespace_key()
        })
    }

    /// The workload whose pod template `w`'s pods are made from: the
    /// Deployment a Rollout's `workloadRef` names, else `w` itself. Its
    /// labels are the ones Services and budgets select `w`'s pods by.
    pub fn template_owner<'a>(&'a self, w: &'a Workload) -> &'a Workload {
        self.referenced_template(w).unwrap_or(w)
    }

    /// The DestinationRules of the input.
    pub fn destination_rules(&self) -> &[Related<DestinationRule>] {
        &self.destination_rules
    }

    /// Services in the workload's namespace whose selector matches its pods.
    /// Every container of every rule asks this, so a workload keeps the
    /// answer for this index's Services.
    pub fn services_selecting<'a>(
        &'a self,
        w: &'a Workload,
    ) -> impl Iterator<Item = &'a Related<Service>> {
        let (stamp, cached) = w
            .selecting_services
            .get_or_init(|| (self.services_stamp, self.select_services(w)));
        let positions = if *stamp == self.services_stamp {
            std::borrow::Cow::Borrowed(cached.as_slice())
        } else {
            std::borrow::Cow::Owned(self.select_services(w))
        };
        let pods = self.template_owner(w);
        let around = self
            .neighbours()
            .into_iter()
            .flat_map(|n| n.services.values().map(Box::as_ref))
            .filter(move |s| service_selects(s, pods));
        (0..positions.len())
            .filter_map(move |i| positions.get(i).and_then(|&at| self.services.get(at)))
            .chain(around)
    }

    fn select_services(&self, w: &Workload) -> Vec<usize> {
        let pods = self.template_owner(w);
        self.services
            .iter()
            .enumerate()
            .filter(|(_, s)| service_selects(s, pods))
            .map(|(at, _)| at)
            .collect()
    }

    /// Whether a Service that selects the workload's pods also selects
    /// another workload's: versions of one service (`reviews-v1` beside
    /// `reviews-v2`), a canary beside the stable pods.
    pub fn shares_a_service(&self, w: &Workload) -> bool {
        self.services_selecting(w).any(|service| {
            self.workloads
                .iter()
                .filter(|other| !std::ptr::eq(*other, w) && other.object != w.object)
                .any(|other| service_selects(service, self.template_owner(other)))
        })
    }

    /// PodDisruptionBudgets in the workload's namespace that select its pods.
    pub fn pdbs_selecting<'a>(
        &'a self,
        w: &'a Workload,
    ) -> impl Iterator<Item = &'a Related<PodDisruptionBudget>> {
        let around = self
            .neighbours()
            .into_iter()
            .flat_map(|n| n.pdbs.values().map(Box::as_ref));
        let pods = self.template_owner(w);
        self.pdbs.iter().chain(around).filter(move |pdb| {
            pdb.object.namespace_key() == w.object.namespace_key() && pdb_selects(pdb, pods)
        })
    }

    /// Workloads whose pods a PodDisruptionBudget selects.
    pub fn workloads_selected_by<'a>(
        &'a self,
        pdb: &'a Related<PodDisruptionBudget>,
    ) -> impl Iterator<Item = &'a Workload> {
        self.workloads.iter().filter(move |w| {
            pdb.object.namespace_key() == w.object.namespace_key()
                && !w.kind.runs_to_completion()
                && pdb_selects(pdb, self.template_owner(w))
        })
    }

    /// The HorizontalPodAutoscaler whose `scaleTargetRef` names this workload.
    pub fn hpa_targeting(&self, w: &Workload) -> Option<&Related<HorizontalPodAutoscaler>> {
        let around = self
            .neighbours()
            .into_iter()
            .flat_map(|n| n.hpas.values().map(Box::as_ref));
        self.hpas.iter().chain(around).find(|hpa| {
            let target = &hpa.typed.spec.scale_target_ref;
            hpa.object.namespace_key() == w.object.namespace_key()
                && target.kind == w.object.kind
                && target.name == w.object.name
        })
    }

    /// The replica count a workload can run at: the `minReplicas` (default 1)
    /// of an HPA that targets it, else `spec.replicas` (default 1). `None` for
    /// kinds without replicas (DaemonSet, Job, CronJob), and when the count
    /// cannot be known: `replicas` unreadable or negative (what the schema
    /// rules report).
    pub fn min_replicas(&self, w: &Workload) -> Option<i64> {
        match w.kind {
            WorkloadKind::DaemonSet | WorkloadKind::Job | WorkloadKind::CronJob => None,
            WorkloadKind::Pod => Some(1),
            _ => match self.hpa_targeting(w) {
                Some(hpa) => Some(i64::from(hpa.typed.spec.min_replicas.unwrap_or(1))),
                None if w.is_unread("/spec/replicas") => None,
                None => Some(i64::from(w.replicas.unwrap_or(1))).filter(|&n| n >= 0),
            },
        }
    }

    pub fn configmap(&self, namespace: &str, name: &str) -> Option<&Related<ConfigMap>> {
        self.configmaps
            .get(&(namespace.to_owned(), name.to_owned()))
            .or_else(|| {
                self.neighbours()?
                    .configmaps
                    .get(name)
                    .map(Box::as_ref)
                    .filter(|c| c.object.namespace_key() == namespace)
            })
    }

    pub fn claim(&self, namespace: &str, name: &str) -> Option<&Related<PersistentVolumeClaim>> {
        self.claims.get(&(namespace.to_owned(), name.to_owned()))
    }
}

fn service_selects(service: &Related<Service>, w: &Workload) -> bool {
    service.object.namespace_key() == w.object.namespace_key()
        && service
            .typed
            .spec
            .as_ref()
            .and_then(|spec| spec.selector.as_ref())
            .is_some_and(|selector| map_selects(selector, w.pod_labels()))
}

fn pdb_selects(pdb: &Related<PodDisruptionBudget>, w: &Workload) -> bool {
    // policy/v1: a missing selector selects nothing, an empty one everything.
    pdb.typed
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|selector| label_selector_selects(selector, w.pod_labels()))
}

fn related<T: Resource + DeserializeOwned>(
    doc: &Document,
    object: ObjectRef,
) -> Result<Related<T>, DecodeError> {
    related_by(doc, object, decode_object)
}

/// An object of a kind k8s-openapi has no type for, decoded as far as the
/// rules read it.
fn custom<T: DeserializeOwned>(
    doc: &Document,
    object: ObjectRef,
) -> Result<Related<T>, DecodeError> {
    related_by(doc, object, |value| super::workload::decode_at(value, ""))
}

fn related_by<T>(
    doc: &Document,
    object: ObjectRef,
    decode: impl FnOnce(&serde_json::Value) -> Result<T, DecodeError>,
) -> Result<Related<T>, DecodeError> {
    Ok(Related {
        doc: doc.clone(),
        object,
        typed: decode(&doc.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn docs(values: Vec<Value>) -> Vec<Document> {
        values
            .into_iter()
            .map(|v| Document::detached("t", v))
            .collect()
    }

    fn deployment(name: &str, ports: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "ports": ports}, {"name": "logger"}]}}}})
    }

    #[test]
    fn cross_object_lookups() {
        let documents = docs(vec![
            deployment("web", json!([{"containerPort": 8080, "name": "http"}])),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "other"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"minReplicas": 2, "maxReplicas": 5, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}, "data": {"a": "b"}}),
        ]);
        let (index, errors) = Index::build(&documents, &TemplatePaths::new());
        assert!(errors.is_empty());
        let w = &index.workloads[0];
        assert_eq!(index.services_selecting(w).count(), 1);
        assert_eq!(index.pdbs_selecting(w).count(), 1);
        assert_eq!(index.min_replicas(w), Some(2));
        assert!(index.configmap("shop", "cfg").is_some());
    }

    #[test]
    fn undecodable_documents_are_reported() {
        let documents = docs(vec![
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": "80"}}),
        ]);
        let (index, errors) = Index::build(&documents, &TemplatePaths::new());
        assert!(index.services.is_empty());
        assert_eq!(errors[0].error.pointer, "/spec/ports");
    }
}
