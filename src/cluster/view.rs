//! The objects around a reviewed object, as the watches last saw them.
//!
//! Each watched object is kept as the small projection the cross-object
//! rules read (a Service's selector and ports, a PodDisruptionBudget's spec,
//! a ConfigMap's short values), as compact JSON: a typed object is most of a
//! kilobyte even when nearly empty, its JSON a fifth of that. A namespace's
//! projections are decoded into the [`Neighbours`] a review's index
//! consults when a review first asks, and shared with the reviews after it
//! until a watch changes that namespace; at most [`DECODED_NAMESPACES`]
//! namespaces are kept decoded.
//!
//! A view that was never synced, or has not heard from the API server for
//! longer than its bound, is blind: reviews then run without the
//! cross-object rules rather than judge on what may be gone.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceSpec};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::model::ObjectRef;
use crate::model::index::{Neighbours, Related};
use crate::source::Document;

/// ConfigMap values longer than this are not kept: the values rules read
/// from ConfigMaps are durations and flags, and whole config files or
/// dashboards would make the view as large as the cluster's ConfigMaps.
pub const MAX_CONFIGMAP_VALUE_BYTES: usize = 256;

/// A kind the cluster view watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WatchedKind {
    Service,
    PodDisruptionBudget,
    HorizontalPodAutoscaler,
    ConfigMap,
}

impl WatchedKind {
    /// What `serve --cluster-view` watches: what the cross-object rules read,
    /// with ConfigMaps only when asked for (they can be many and large).
    pub fn for_view(configmaps: bool) -> Vec<WatchedKind> {
        let mut kinds = vec![
            WatchedKind::PodDisruptionBudget,
            WatchedKind::HorizontalPodAutoscaler,
            WatchedKind::Service,
        ];
        if configmaps {
            kinds.push(WatchedKind::ConfigMap);
        }
        kinds
    }

    /// The API group and resource RBAC names it by.
    pub fn resource(self) -> (&'static str, &'static str) {
        match self {
            WatchedKind::Service => ("", "services"),
            WatchedKind::PodDisruptionBudget => ("policy", "poddisruptionbudgets"),
            WatchedKind::HorizontalPodAutoscaler => ("autoscaling", "horizontalpodautoscalers"),
            WatchedKind::ConfigMap => ("", "configmaps"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WatchedKind::Service => "Service",
            WatchedKind::PodDisruptionBudget => "PodDisruptionBudget",
            WatchedKind::HorizontalPodAutoscaler => "HorizontalPodAutoscaler",
            WatchedKind::ConfigMap => "ConfigMap",
        }
    }
}

/// A kind of object the view keeps, and how.
pub trait Watched:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + serde::de::DeserializeOwned
    + serde::Serialize
    + Clone
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    const WATCHED: WatchedKind;
    /// What the rules read of the object; the rest is dropped.
    fn project(self) -> Self;
    /// Where a namespace keeps objects of this kind.
    fn slot(neighbours: &mut Neighbours) -> &mut BTreeMap<String, Box<Related<Self>>>;
}

/// Name and namespace: all the rules read of a neighbour's metadata.
fn identity(metadata: &ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        name: metadata.name.clone(),
        namespace: metadata.namespace.clone(),
        ..ObjectMeta::default()
    }
}

impl Watched for Service {
    const WATCHED: WatchedKind = WatchedKind::Service;
    fn project(self) -> Self {
        let spec = self.spec.map(|spec| ServiceSpec {
            selector: spec.selector,
            ports: spec.ports,
            type_: spec.type_,
            ..ServiceSpec::default()
        });
        Service {
            metadata: identity(&self.metadata),
            spec,
            status: None,
        }
    }
    fn slot(neighbours: &mut Neighbours) -> &mut BTreeMap<String, Box<Related<Self>>> {
        &mut neighbours.services
    }
}

impl Watched for PodDisruptionBudget {
    const WATCHED: WatchedKind = WatchedKind::PodDisruptionBudget;
    fn project(self) -> Self {
        PodDisruptionBudget {
            metadata: identity(&self.metadata),
            spec: self.spec,
            status: None,
        }
    }
    fn slot(neighbours: &mut Neighbours) -> &mut BTreeMap<String, Box<Related<Self>>> {
        &mut neighbours.pdbs
    }
}

impl Watched for HorizontalPodAutoscaler {
    const WATCHED: WatchedKind = WatchedKind::HorizontalPodAutoscaler;
    fn project(self) -> Self {
        HorizontalPodAutoscaler {
            metadata: identity(&self.metadata),
            spec: self.spec,
            status: None,
        }
    }
    fn slot(neighbours: &mut Neighbours) -> &mut BTreeMap<String, Box<Related<Self>>> {
        &mut neighbours.hpas
    }
}

impl Watched for ConfigMap {
    const WATCHED: WatchedKind = WatchedKind::ConfigMap;
    fn project(self) -> Self {
        let data = self.data.map(|data| {
            data.into_iter()
                .filter(|(_, value)| value.len() <= MAX_CONFIGMAP_VALUE_BYTES)
                .collect()
        });
        ConfigMap {
            metadata: identity(&self.metadata),
            data,
            ..ConfigMap::default()
        }
    }
    fn slot(neighbours: &mut Neighbours) -> &mut BTreeMap<String, Box<Related<Self>>> {
        &mut neighbours.configmaps
    }
}

/// Why a review cannot trust the view: the cross-object rules are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blind {
    /// A kind's first list has not completed.
    NeverSynced(WatchedKind),
    /// Nothing was heard of a kind for longer than the bound.
    Stale(WatchedKind, Duration),
}

impl std::fmt::Display for Blind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blind::NeverSynced(kind) => write!(f, "{} were never listed", kind.as_str()),
            Blind::Stale(kind, age) => write!(
                f,
                "nothing heard of {} for {}s",
                kind.as_str(),
                age.as_secs()
            ),
        }
    }
}

/// The health of one kind's watch.
#[derive(Debug)]
pub struct KindState {
    pub kind: WatchedKind,
    synced: AtomicBool,
    /// When the API server last answered for this kind: a list, a watch
    /// event, a bookmark, or a watch it ended on time.
    last_contact: Mutex<Option<Instant>>,
    objects: AtomicU64,
    errors: AtomicU64,
    relists: AtomicU64,
}

impl KindState {
    fn new(kind: WatchedKind) -> Self {
        KindState {
            kind,
            synced: AtomicBool::new(false),
            last_contact: Mutex::new(None),
            objects: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            relists: AtomicU64::new(0),
        }
    }

    /// The API server answered.
    pub fn heard(&self) {
        if let Ok(mut last) = self.last_contact.lock() {
            *last = Some(Instant::now());
        }
    }

    /// A list or watch failed.
    pub fn failed(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Time since the API server last answered; `None` before it ever did.
    pub fn age(&self) -> Option<Duration> {
        self.last_contact
            .lock()
            .ok()
            .and_then(|last| last.map(|at| at.elapsed()))
    }

    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn relists(&self) -> u64 {
        self.relists.load(Ordering::Relaxed)
    }
}

/// The objects of the watched kinds, by namespace, and how fresh they are.
#[derive(Debug)]
pub struct ClusterView {
    namespaces: RwLock<Namespaces>,
    kinds: Vec<KindState>,
    /// Older than this, the view is blind.
    max_age: Duration,
    /// Reviews judged without the cross-object rules because it was blind.
    blind_reviews: AtomicU64,
}

/// Namespaces decoded for reviews at most at once.
pub const DECODED_NAMESPACES: usize = 64;

#[derive(Debug, Default)]
struct Namespaces {
    stored: HashMap<String, Namespace>,
    /// Namespaces with neighbours decoded, the least recently decoded first.
    decoded: std::collections::VecDeque<String>,
}

#[derive(Debug, Default)]
struct Namespace {
    /// Each object's projection as compact JSON, by kind and name.
    projections: BTreeMap<(WatchedKind, String), Box<[u8]>>,
    /// The projections decoded, while reviews ask for this namespace and no
    /// watch has changed it.
    decoded: Option<Arc<Neighbours>>,
}

impl Namespaces {
    fn write(&mut self, namespace: &str) -> &mut Namespace {
        let entry = self.stored.entry(namespace.to_owned()).or_default();
        entry.decoded = None;
        entry
    }
}

impl ClusterView {
    pub fn new(kinds: &[WatchedKind], max_age: Duration) -> Self {
        ClusterView {
            namespaces: RwLock::new(Namespaces::default()),
            kinds: kinds.iter().map(|&k| KindState::new(k)).collect(),
            max_age,
            blind_reviews: AtomicU64::new(0),
        }
    }

    /// The watched kinds' states, in the order they were given.
    pub fn kinds(&self) -> &[KindState] {
        &self.kinds
    }

    pub fn state(&self, kind: WatchedKind) -> Option<&KindState> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Whether every kind has been listed once: `/readyz` waits for it.
    pub fn is_synced(&self) -> bool {
        self.kinds.iter().all(KindState::is_synced)
    }

    /// Why the view cannot be trusted now, if it cannot.
    pub fn blind(&self) -> Option<Blind> {
        self.kinds.iter().find_map(|k| match k.age() {
            _ if !k.is_synced() => Some(Blind::NeverSynced(k.kind)),
            None => Some(Blind::NeverSynced(k.kind)),
            Some(age) if age > self.max_age => Some(Blind::Stale(k.kind, age)),
            Some(_) => None,
        })
    }

    /// The neighbours of `namespace` (empty when it has none), or why the
    /// view is blind (counted in the metrics).
    pub fn neighbours(&self, namespace: &str) -> Result<Arc<Neighbours>, Blind> {
        if let Some(blind) = self.blind() {
            self.blind_reviews.fetch_add(1, Ordering::Relaxed);
            return Err(blind);
        }
        {
            let namespaces = self
                .namespaces
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match namespaces.stored.get(namespace) {
                None => return Ok(Arc::default()),
                Some(Namespace {
                    decoded: Some(neighbours),
                    ..
                }) => return Ok(Arc::clone(neighbours)),
                Some(_) => {}
            }
        }
        let mut namespaces = self
            .namespaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(stored) = namespaces.stored.get_mut(namespace) else {
            return Ok(Arc::default());
        };
        if let Some(neighbours) = &stored.decoded {
            return Ok(Arc::clone(neighbours));
        }
        let neighbours = Arc::new(decode(namespace, &stored.projections));
        stored.decoded = Some(Arc::clone(&neighbours));
        namespaces.decoded.retain(|n| n != namespace);
        namespaces.decoded.push_back(namespace.to_owned());
        while namespaces.decoded.len() > DECODED_NAMESPACES {
            if let Some(oldest) = namespaces.decoded.pop_front()
                && let Some(stored) = namespaces.stored.get_mut(&oldest)
            {
                stored.decoded = None;
            }
        }
        Ok(neighbours)
    }

    /// Replaces every object of `K` with a fresh list's.
    pub fn replace_all<K: Watched>(&self, objects: Vec<K>) {
        let mut namespaces = self
            .namespaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for stored in namespaces.stored.values_mut() {
            let before = stored.projections.len();
            stored
                .projections
                .retain(|(kind, _), _| *kind != K::WATCHED);
            if stored.projections.len() != before {
                stored.decoded = None;
            }
        }
        let count = objects.len();
        for object in objects {
            insert(&mut namespaces, object);
        }
        namespaces.stored.retain(|_, n| !n.projections.is_empty());
        if let Some(state) = self.state(K::WATCHED) {
            state.objects.store(count as u64, Ordering::Relaxed);
            state.relists.fetch_add(1, Ordering::Relaxed);
            state.synced.store(true, Ordering::Relaxed);
            state.heard();
        }
    }

    /// An object was added or changed.
    pub fn apply<K: Watched>(&self, object: K) {
        let mut namespaces = self
            .namespaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if insert(&mut namespaces, object)
            && let Some(state) = self.state(K::WATCHED)
        {
            state.objects.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// An object was deleted.
    pub fn delete<K: Watched>(&self, object: &K) {
        let (namespace, name) = key(object.metadata());
        let mut namespaces = self
            .namespaces
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = namespaces
            .stored
            .get(&namespace)
            .is_some_and(|n| n.projections.contains_key(&(K::WATCHED, name.clone())));
        if !held {
            return;
        }
        let stored = namespaces.write(&namespace);
        stored.projections.remove(&(K::WATCHED, name));
        if stored.projections.is_empty() {
            namespaces.stored.remove(&namespace);
        }
        if let Some(state) = self.state(K::WATCHED) {
            state.objects.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Gauges and counters in the Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        type Value = fn(&KindState) -> String;
        let per_kind: [(&str, &str, &str, Value); 5] = [
            (
                "rollsafe_cluster_view_synced",
                "gauge",
                "Whether the kind's first list has completed (1) or not (0).",
                |k| u8::from(k.is_synced()).to_string(),
            ),
            (
                "rollsafe_cluster_view_age_seconds",
                "gauge",
                "Time since the API server last answered for the kind (a list, an event, a bookmark); -1 before it ever did.",
                |k| format!("{:.3}", k.age().map_or(-1.0, |age| age.as_secs_f64())),
            ),
            (
                "rollsafe_cluster_view_objects",
                "gauge",
                "Objects of the kind in the view.",
                |k| k.objects.load(Ordering::Relaxed).to_string(),
            ),
            (
                "rollsafe_cluster_view_watch_errors_total",
                "counter",
                "Lists and watches of the kind that failed.",
                |k| k.errors().to_string(),
            ),
            (
                "rollsafe_cluster_view_lists_total",
                "counter",
                "Complete lists of the kind (the first, and each after an expired watch).",
                |k| k.relists().to_string(),
            ),
        ];
        for (name, metric_type, help, value) in per_kind {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {metric_type}");
            for k in &self.kinds {
                let _ = writeln!(out, "{name}{{kind=\"{}\"}} {}", k.kind.as_str(), value(k));
            }
        }
        out.push_str(
            "# HELP rollsafe_cluster_view_blind_reviews_total Reviews judged without the cross-object rules because the view was never synced or too old.\n\
             # TYPE rollsafe_cluster_view_blind_reviews_total counter\n",
        );
        let _ = writeln!(
            out,
            "rollsafe_cluster_view_blind_reviews_total {}",
            self.blind_reviews.load(Ordering::Relaxed)
        );
    }
}

/// Namespace and name of an object.
fn key(metadata: &ObjectMeta) -> (String, String) {
    (
        metadata.namespace.clone().unwrap_or_default(),
        metadata.name.clone().unwrap_or_default(),
    )
}

/// Puts the projection of `object` in its namespace; whether it is new.
fn insert<K: Watched>(namespaces: &mut Namespaces, object: K) -> bool {
    let (namespace, name) = key(object.metadata());
    // A typed object always serialises.
    let Ok(json) = serde_json::to_vec(&object.project()) else {
        return false;
    };
    namespaces
        .write(&namespace)
        .projections
        .insert((K::WATCHED, name), json.into_boxed_slice())
        .is_none()
}

/// The neighbours a namespace's projections decode to.
fn decode(namespace: &str, projections: &BTreeMap<(WatchedKind, String), Box<[u8]>>) -> Neighbours {
    let mut neighbours = Neighbours::default();
    for ((kind, name), json) in projections {
        match kind {
            WatchedKind::Service => place::<Service>(namespace, name, json, &mut neighbours),
            WatchedKind::PodDisruptionBudget => {
                place::<PodDisruptionBudget>(namespace, name, json, &mut neighbours);
            }
            WatchedKind::HorizontalPodAutoscaler => {
                place::<HorizontalPodAutoscaler>(namespace, name, json, &mut neighbours);
            }
            WatchedKind::ConfigMap => place::<ConfigMap>(namespace, name, json, &mut neighbours),
        }
    }
    neighbours
}

fn place<K: Watched>(namespace: &str, name: &str, json: &[u8], neighbours: &mut Neighbours) {
    // Written by `insert` from the same type.
    let Ok(typed) = serde_json::from_slice::<K>(json) else {
        return;
    };
    let related = Related {
        doc: Document::nowhere(),
        object: ObjectRef {
            api_version: K::API_VERSION.to_owned(),
            kind: K::KIND.to_owned(),
            namespace: Some(namespace.to_owned()).filter(|ns| !ns.is_empty()),
            name: name.to_owned(),
        },
        typed,
    };
    K::slot(neighbours).insert(name.to_owned(), Box::new(related));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn typed<K: Watched>(value: Value) -> K {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn configmaps_keep_only_short_values() {
        let view = ClusterView::new(&[WatchedKind::ConfigMap], Duration::from_secs(60));
        view.replace_all::<ConfigMap>(vec![typed(json!({
            "metadata": {"name": "nginx", "namespace": "ingress", "labels": {"a": "b"}},
            "data": {"worker-shutdown-timeout": "240s", "dashboard.json": "x".repeat(4096)},
            "binaryData": {"blob": "AAAA"}
        }))]);
        let ingress = view.neighbours("ingress").unwrap_or_else(|e| panic!("{e}"));
        let kept = &ingress.configmaps["nginx"];
        let data = kept
            .typed
            .data
            .as_ref()
            .unwrap_or_else(|| panic!("no data"));
        assert_eq!(data.keys().collect::<Vec<_>>(), ["worker-shutdown-timeout"]);
        assert!(kept.typed.binary_data.is_none() && kept.typed.metadata.labels.is_none());
        assert_eq!(kept.object.to_string(), "ConfigMap/ingress/nginx");
    }

    #[test]
    fn a_namespace_shared_with_a_review_is_copied_not_changed() {
        let view = ClusterView::new(&[WatchedKind::Service], Duration::from_secs(60));
        let service = |name: &str| {
            typed::<Service>(
                json!({"metadata": {"name": name, "namespace": "shop"}, "spec": {"selector": {"app": name}}}),
            )
        };
        view.replace_all(vec![service("a")]);
        let held = view.neighbours("shop").unwrap_or_else(|e| panic!("{e}"));
        view.apply(service("b"));
        view.delete(&service("a"));
        assert_eq!(held.services.keys().collect::<Vec<_>>(), ["a"]);
        let now = view.neighbours("shop").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(now.services.keys().collect::<Vec<_>>(), ["b"]);
        view.delete(&service("b"));
        assert!(view.neighbours("shop").is_ok_and(|n| n.is_empty()));
    }
}
