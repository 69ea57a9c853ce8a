//! The cluster view and `rollsafe audit` against an in-process fake of the
//! API server's list/watch protocol: JSON lists with a `resourceVersion`,
//! watch streams of events and bookmarks, 410 Gone for an expired version,
//! broken connections.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use rollsafe::cluster::{Blind, ClusterView, Target, WatchedKind};
use rollsafe::policy::{Policy, Profile};
use rollsafe::webhook::{AppState, Mode, Mutation, Reviewer};

use crate::util;
use crate::webhook::{Server, fixture, oneshot, warnings, with_object};

// --- the fake API server --------------------------------------------------------

type Chunk = Result<Bytes, std::io::Error>;

/// One open watch: the resource it watches and where its events go.
struct Watcher {
    plural: String,
    namespace: Option<String>,
    events: UnboundedSender<Chunk>,
}

#[derive(Default)]
struct Store {
    version: u64,
    /// plural → (namespace, name) → object.
    objects: BTreeMap<String, BTreeMap<(String, String), Value>>,
    /// Every change: (version, plural, namespace, event line), replayed to a
    /// watch that starts from an older version.
    log: Vec<(u64, String, String, String)>,
    /// Watches from a version below this get 410 Gone.
    oldest: u64,
    watchers: Vec<Watcher>,
    /// Answer every request with 503.
    down: bool,
    /// Requests seen: `list <plural>` or `watch <plural>`.
    requests: Vec<String>,
    /// Resources the API server does not serve (a CRD not installed): 404.
    unserved: Vec<String>,
}

pub struct FakeApi {
    address: SocketAddr,
    store: Arc<Mutex<Store>>,
}

/// A watch response's body: the events sent to it, as they come.
struct Events(UnboundedReceiver<Chunk>);

impl futures::Stream for Events {
    type Item = Chunk;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

fn line(kind: &str, object: &Value) -> String {
    format!("{}\n", json!({"type": kind, "object": object}))
}

/// `/api/v1/namespaces/shop/services` → ("services", Some("shop")).
fn resource_of(path: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match parts.first() {
        Some(&"api") => &parts[2.min(parts.len())..],
        _ => &parts[3.min(parts.len())..],
    };
    match rest {
        ["namespaces", namespace, plural] => ((*plural).to_owned(), Some((*namespace).to_owned())),
        [plural] => ((*plural).to_owned(), None),
        _ => (String::new(), None),
    }
}

fn query(request: &Request) -> BTreeMap<String, String> {
    request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn status_body(code: u16, reason: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": code, "reason": reason, "message": reason})
}

async fn handle(State(store): State<Arc<Mutex<Store>>>, request: Request) -> Response {
    let (plural, namespace) = resource_of(request.uri().path());
    let query = query(&request);
    let mut store = store.lock().unwrap_or_else(|e| panic!("{e}"));
    let reply = |code: u16, body: Value| {
        Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    if store.down {
        return reply(503, status_body(503, "ServiceUnavailable"));
    }
    if store.unserved.contains(&plural) {
        return reply(404, status_body(404, "NotFound"));
    }
    let in_scope = |ns: &str| namespace.as_deref().is_none_or(|wanted| wanted == ns);
    if matches!(query.get("watch").map(String::as_str), Some("true" | "1")) {
        store.requests.push(format!("watch {plural}"));
        let from: u64 = query
            .get("resourceVersion")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let (sender, receiver) = unbounded_channel();
        if from < store.oldest {
            let gone = line("ERROR", &status_body(410, "Expired"));
            let _ = sender.send(Ok(Bytes::from(gone)));
            drop(sender);
        } else {
            for (version, kind, ns, event) in &store.log {
                if *version > from && *kind == plural && in_scope(ns) {
                    let _ = sender.send(Ok(Bytes::from(event.clone())));
                }
            }
            store.watchers.push(Watcher {
                plural,
                namespace,
                events: sender,
            });
        }
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from_stream(Events(receiver)))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    store.requests.push(format!("list {plural}"));
    let items: Vec<Value> = store
        .objects
        .get(&plural)
        .into_iter()
        .flat_map(|objects| objects.iter())
        .filter(|((ns, _), _)| in_scope(ns))
        .map(|(_, object)| {
            // Items of a list come without their kind, as from the API server.
            let mut item = object.clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    reply(
        200,
        json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": store.version.to_string()}, "items": items}),
    )
}

impl FakeApi {
    pub async fn start() -> FakeApi {
        let store = Arc::new(Mutex::new(Store::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&store));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeApi { address, store }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| panic!("{e}"))
    }

    /// A kubeconfig whose current context is this server, namespace `shop`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        util::write(
            &path,
            &format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{}\n\
                 contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: shop\n\
                 current-context: fake\nusers:\n- name: fake\n  user:\n    token: test\n",
                self.address
            ),
        );
        path
    }

    /// Adds or replaces an object, and tells the watches.
    pub fn put(&self, plural: &str, mut object: Value) {
        let mut store = self.store();
        store.version += 1;
        let version = store.version;
        object["metadata"]["resourceVersion"] = json!(version.to_string());
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
        let objects = store.objects.entry(plural.to_owned()).or_default();
        let kind = if objects
            .insert((namespace.clone(), name), object.clone())
            .is_some()
        {
            "MODIFIED"
        } else {
            "ADDED"
        };
        store.send(plural, &namespace, version, line(kind, &object));
    }

    pub fn delete(&self, plural: &str, namespace: &str, name: &str) {
        let mut store = self.store();
        store.version += 1;
        let version = store.version;
        let removed = store
            .objects
            .get_mut(plural)
            .and_then(|objects| objects.remove(&(namespace.to_owned(), name.to_owned())));
        if let Some(mut object) = removed {
            object["metadata"]["resourceVersion"] = json!(version.to_string());
            store.send(plural, namespace, version, line("DELETED", &object));
        }
    }

    /// Deletes an object without telling the watches: only a new list
    /// shows it is gone.
    pub fn delete_quietly(&self, plural: &str, namespace: &str, name: &str) {
        let mut store = self.store();
        store.version += 1;
        if let Some(objects) = store.objects.get_mut(plural) {
            objects.remove(&(namespace.to_owned(), name.to_owned()));
        }
    }

    pub fn bookmark(&self) {
        let mut store = self.store();
        let version = store.version.to_string();
        for watcher in &store.watchers {
            let bookmark = json!({"apiVersion": "v1", "kind": "Bookmark", "metadata": {"resourceVersion": version}});
            let _ = watcher
                .events
                .send(Ok(Bytes::from(line("BOOKMARK", &bookmark)))); // kind is ignored
        }
        store.watchers.retain(|w| !w.events.is_closed());
    }

    /// Every version so far expires: open watches get 410 Gone and end, and
    /// a watch from an old version gets it too.
    pub fn expire(&self) {
        let mut store = self.store();
        store.version += 1;
        store.oldest = store.version;
        store.log.clear();
        let gone = line("ERROR", &status_body(410, "Expired"));
        for watcher in store.watchers.drain(..) {
            let _ = watcher.events.send(Ok(Bytes::from(gone.clone())));
        }
    }

    /// Cuts every open watch mid-stream.
    pub fn break_watches(&self) {
        let mut store = self.store();
        for watcher in store.watchers.drain(..) {
            let _ = watcher
                .events
                .send(Err(std::io::Error::other("connection cut")));
        }
    }

    pub fn unserve(&self, plural: &str) {
        self.store().unserved.push(plural.to_owned());
    }

    pub fn set_down(&self, down: bool) {
        self.store().down = down;
    }

    pub fn count(&self, request: &str) -> usize {
        self.store()
            .requests
            .iter()
            .filter(|r| r.as_str() == request)
            .count()
    }
}

impl Store {
    fn send(&mut self, plural: &str, namespace: &str, version: u64, event: String) {
        for watcher in &self.watchers {
            let in_scope = watcher
                .namespace
                .as_deref()
                .is_none_or(|wanted| wanted == namespace);
            if watcher.plural == plural && in_scope {
                let _ = watcher.events.send(Ok(Bytes::from(event.clone())));
            }
        }
        self.watchers.retain(|w| !w.events.is_closed());
        self.log
            .push((version, plural.to_owned(), namespace.to_owned(), event));
    }
}

// --- objects ------------------------------------------------------------------------

fn pdb(name: &str, app: &str) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": "shop", "uid": name},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": app}}}})
}

fn hpa(name: &str, target: &str, min: i32) -> Value {
    json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"minReplicas": min, "maxReplicas": 10,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}}})
}

fn service(name: &str, app: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "shop", "annotations": {"big": "x".repeat(4096)}},
        "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080}], "clusterIP": "10.0.0.1"},
        "status": {"loadBalancer": {}}})
}

/// A Deployment rollsafe finds nothing wrong with on its own.
fn deployment(name: &str, replicas: i32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "minReadySeconds": 5,
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"terminationGracePeriodSeconds": 45, "containers": [{
                    "name": "app", "image": "shop/web:1.0",
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "20s"}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                    "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "failureThreshold": 6, "periodSeconds": 10},
                    "startupProbe": {"httpGet": {"path": "/live", "port": "http"}, "failureThreshold": 30, "periodSeconds": 2},
                    "lifecycle": {"preStop": {"sleep": {"seconds": 10}}}}]}}}})
}

// --- helpers ------------------------------------------------------------------------

const WAIT: Duration = Duration::from_secs(20);

/// Waits until `done` holds, failing with `what` after [`WAIT`].
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "not within {WAIT:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn names<T>(map: &BTreeMap<String, T>) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

const KINDS: [WatchedKind; 3] = [
    WatchedKind::PodDisruptionBudget,
    WatchedKind::HorizontalPodAutoscaler,
    WatchedKind::Service,
];

async fn watching(fake: &FakeApi, name: &str, max_age: Duration) -> Arc<ClusterView> {
    let dir = util::scratch_dir(&format!("cluster/{name}"));
    let target = Target {
        kubeconfig: Some(fake.kubeconfig(&dir)),
        context: None,
    };
    let (client, namespace) = rollsafe::cluster::client(&target)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(namespace, "shop");
    let view = Arc::new(ClusterView::new(&KINDS, max_age));
    rollsafe::cluster::watch::start(&client, &view);
    view
}

// --- the watches --------------------------------------------------------------------

#[tokio::test]
async fn the_view_syncs_then_follows_adds_changes_and_deletes() {
    let fake = FakeApi::start().await;
    fake.put("poddisruptionbudgets", pdb("web", "web"));
    fake.put("horizontalpodautoscalers", hpa("web", "web", 2));
    fake.put("services", service("web", "web"));
    let view = watching(&fake, "sync", Duration::from_secs(300)).await;
    eventually("first lists", || view.is_synced()).await;
    let shop = view.neighbours("shop").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names(&shop.pdbs), ["web"]);
    assert_eq!(names(&shop.hpas), ["web"]);
    assert_eq!(names(&shop.services), ["web"]);
    // Projections: what the rules read, not the annotations or status.
    let web = &shop.services["web"].typed;
    assert!(web.metadata.annotations.is_none() && web.status.is_none());
    let spec = web.spec.as_ref().unwrap_or_else(|| panic!("no spec"));
    assert!(spec.cluster_ip.is_none() && spec.selector.is_some() && spec.ports.is_some());
    assert!(
        view.neighbours("other")
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty()
    );

    fake.put("services", service("api", "api"));
    eventually("an added Service", || {
        view.neighbours("shop")
            .is_ok_and(|n| n.services.contains_key("api"))
    })
    .await;
    fake.put("poddisruptionbudgets", pdb("web", "other-app"));
    eventually("a changed PDB", || {
        view.neighbours("shop").is_ok_and(|n| {
            n.pdbs["web"]
                .typed
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .and_then(|s| s.match_labels.as_ref())
                .is_some_and(|l| l["app"] == "other-app")
        })
    })
    .await;
    fake.delete("horizontalpodautoscalers", "shop", "web");
    eventually("a deleted HPA", || {
        view.neighbours("shop").is_ok_and(|n| n.hpas.is_empty())
    })
    .await;
    // One list per kind: the changes came by the watches.
    assert_eq!(fake.count("list services"), 1);
}

#[tokio::test]
async fn an_expired_version_lists_again_and_a_broken_watch_resumes() {
    let fake = FakeApi::start().await;
    fake.put("poddisruptionbudgets", pdb("a", "a"));
    fake.put("poddisruptionbudgets", pdb("b", "b"));
    let view = watching(&fake, "relist", Duration::from_secs(300)).await;
    eventually("first lists", || view.is_synced()).await;

    // A deletion the watch never reports, then 410 Gone: only the new list
    // can tell that `b` is gone.
    fake.delete_quietly("poddisruptionbudgets", "shop", "b");
    fake.expire();
    eventually("a second list after 410 Gone", || {
        fake.count("list poddisruptionbudgets") == 2
    })
    .await;

    eventually("the relisted state", || {
        view.neighbours("shop")
            .is_ok_and(|n| names(&n.pdbs) == ["a"])
    })
    .await;

    // A cut connection: the watch resumes from the last version it saw,
    // without a list, and gets what happened meanwhile.
    let watches = fake.count("watch poddisruptionbudgets");
    fake.break_watches();
    fake.put("poddisruptionbudgets", pdb("c", "c"));
    eventually("a resumed watch", || {
        fake.count("watch poddisruptionbudgets") > watches
    })
    .await;
    eventually("the event sent while it was cut", || {
        view.neighbours("shop")
            .is_ok_and(|n| names(&n.pdbs) == ["a", "c"])
    })
    .await;
    assert_eq!(fake.count("list poddisruptionbudgets"), 2);
    let state = view
        .state(WatchedKind::PodDisruptionBudget)
        .unwrap_or_else(|| panic!("no state"));
    assert_eq!(state.relists(), 2);
}

#[tokio::test]
async fn a_view_never_synced_or_too_old_is_blind() {
    let fake = FakeApi::start().await;
    fake.set_down(true);
    let view = watching(&fake, "blind", Duration::from_millis(1500)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!view.is_synced());
    assert!(matches!(
        view.neighbours("shop"),
        Err(Blind::NeverSynced(_))
    ));
    fake.set_down(false);
    eventually("first lists once the API answers", || view.is_synced()).await;
    assert!(view.neighbours("shop").is_ok());

    // Bookmarks keep a quiet view fresh.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        fake.bookmark();
    }
    assert!(view.neighbours("shop").is_ok(), "{:?}", view.blind());

    // The API server goes away: the last state stays, but past the bound
    // the view is blind, and the metrics say how old it is.
    fake.set_down(true);
    fake.break_watches();
    eventually("a stale view", || {
        matches!(view.neighbours("shop"), Err(Blind::Stale(..)))
    })
    .await;
    let mut metrics = String::new();
    view.render_metrics(&mut metrics);
    assert!(metrics.contains("rollsafe_cluster_view_synced{kind=\"Service\"} 1"));
    let age: f64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("rollsafe_cluster_view_age_seconds{kind=\"PodDisruptionBudget\"} ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(age > 1.5, "{metrics}");
    assert!(!metrics.contains("rollsafe_cluster_view_blind_reviews_total 0\n"));

    fake.set_down(false);
    eventually("fresh again", || view.neighbours("shop").is_ok()).await;
}

// --- reviews among the cluster's objects ----------------------------------------

fn review_of(object: Value) -> Value {
    let mut review = with_object(
        &fixture("deployment-create-single-replica.json").body,
        object,
    );
    review["request"]["namespace"] = json!("shop");
    review
}

fn rules_warned(answer: &Value) -> Vec<String> {
    warnings(answer)
        .iter()
        .filter_map(|w| w.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

fn policy_with(settings: &str) -> Policy {
    let dir = util::scratch_dir(&format!("cluster/policy-{}", settings.len()));
    let path = dir.join("policy.yaml");
    util::write(
        &path,
        &format!(
            "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nrules:\n  pdb-missing: error\n{settings}"
        ),
    );
    Policy::from_file(&path).unwrap_or_else(|e| panic!("{e:?}"))
}

/// A view fed by hand, synced, with what `objects` holds.
fn view_holding(pdbs: Vec<Value>, hpas: Vec<Value>) -> Arc<ClusterView> {
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::core::v1::Service;
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    let view = ClusterView::new(&KINDS, Duration::from_secs(300));
    let typed = |v: Value| serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
    view.replace_all::<PodDisruptionBudget>(pdbs.into_iter().map(typed).collect());
    let typed = |v: Value| serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
    view.replace_all::<HorizontalPodAutoscaler>(hpas.into_iter().map(typed).collect());
    view.replace_all::<Service>(Vec::new());
    Arc::new(view)
}

#[tokio::test]
async fn cross_object_findings_warn_unless_deny_on_names_them() {
    let review = review_of(deployment("web", 3));
    // pdb-missing at error: without a PDB in the cluster it is found, and
    // only warns.
    let policy = policy_with("");
    let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::OptedIn)
        .among(view_holding(vec![], vec![]), policy);
    let answer = oneshot(AppState::new(reviewer), "/validate", &review).await;
    assert_eq!(answer["response"]["allowed"], json!(true), "{answer}");
    assert_eq!(rules_warned(&answer), ["pdb-missing"]);

    // Named by denyOn, it denies.
    let policy =
        policy_with("settings:\n  denyOn:\n    severity: error\n    rules: [pdb-missing]\n");
    let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::OptedIn)
        .among(view_holding(vec![], vec![]), policy.clone());
    let answer = oneshot(AppState::new(reviewer), "/validate", &review).await;
    assert_eq!(answer["response"]["allowed"], json!(false), "{answer}");

    // A PDB in the cluster selects the pods: nothing to say.
    let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::OptedIn).among(
        view_holding(vec![pdb("web", "web")], vec![]),
        policy.clone(),
    );
    let answer = oneshot(AppState::new(reviewer), "/validate", &review).await;
    assert_eq!(answer["response"]["allowed"], json!(true), "{answer}");
    assert!(rules_warned(&answer).is_empty(), "{answer}");

    // An HPA at one replica makes it a single-replica workload, whatever
    // `replicas` says, and the PDB then blocks every eviction.
    let one = util::policy(Profile::Strict);
    let reviewer = Reviewer::new(one.clone(), Mode::Enforce, Mutation::OptedIn).among(
        view_holding(vec![pdb("web", "web")], vec![hpa("web", "web", 1)]),
        one,
    );
    let answer = oneshot(AppState::new(reviewer), "/validate", &review).await;
    assert!(
        rules_warned(&answer).contains(&"single-replica".to_owned()),
        "{answer}"
    );

    // Without a view the cross-object rules are not run at all.
    let reviewer = Reviewer::new(policy_with(""), Mode::Enforce, Mutation::OptedIn);
    let answer = oneshot(AppState::new(reviewer), "/validate", &review).await;
    assert!(rules_warned(&answer).is_empty(), "{answer}");
}

#[tokio::test]
async fn a_blind_view_skips_the_cross_object_rules() {
    let review = review_of(deployment("web", 3));
    let policy = policy_with("");
    let never_synced = Arc::new(ClusterView::new(&KINDS, Duration::from_secs(300)));
    let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::OptedIn)
        .among(Arc::clone(&never_synced), policy);
    let answer = oneshot(AppState::new(reviewer), "/validate", &review).await;
    assert!(rules_warned(&answer).is_empty(), "{answer}");
    let mut metrics = String::new();
    never_synced.render_metrics(&mut metrics);
    assert!(
        metrics.contains("rollsafe_cluster_view_blind_reviews_total 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn over_the_wire_a_missing_pdb_warns_until_the_cluster_has_one() {
    let fake = FakeApi::start().await;
    fake.set_down(true);
    let dir = util::scratch_dir("cluster/serve");
    let kubeconfig = fake.kubeconfig(&dir);
    let kubeconfig = kubeconfig.to_string_lossy().into_owned();
    // pdb-missing is an info finding in the default profile: below the
    // default `warnOn`, so the policy names it to have it warn.
    let policy = dir.join("policy.yaml");
    util::write(
        &policy,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nsettings:\n  warnOn: {severity: warning, rules: [pdb-missing]}\n",
    );
    let policy = policy.to_string_lossy().into_owned();
    let server = Server::start(
        "cluster-view",
        &[
            "--cluster-view",
            "--kubeconfig",
            &kubeconfig,
            "--policy",
            &policy,
        ],
    );
    let mut client = server.client().await;
    // Not ready before the first lists.
    assert_eq!(client.get("/readyz").await.status.as_u16(), 503);
    fake.set_down(false);
    let deadline = Instant::now() + WAIT;
    while client.get("/readyz").await.status.as_u16() != 200 {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let review = review_of(deployment("web", 3));
    let answer = client.review("/validate", &review).await;
    assert_eq!(answer["response"]["allowed"], json!(true), "{answer}");
    assert_eq!(rules_warned(&answer), ["pdb-missing"]);

    fake.put("poddisruptionbudgets", pdb("web", "web"));
    let deadline = Instant::now() + WAIT;
    loop {
        let answer = client.review("/validate", &review).await;
        if rules_warned(&answer).is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "still warned: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// --- rollsafe audit ---------------------------------------------------------------

#[tokio::test]
async fn audit_lints_what_the_cluster_runs() {
    let fake = FakeApi::start().await;
    let mut unready = deployment("api", 3);
    if let Some(container) = unready["spec"]["template"]["spec"]["containers"][0].as_object_mut() {
        container.remove("readinessProbe");
    }
    fake.put("deployments", deployment("web", 3));
    fake.put("deployments", unready);
    fake.put("poddisruptionbudgets", pdb("web", "web"));
    fake.put("services", service("api", "api"));
    // Owned by a controller: judged at its owner.
    let mut owned = deployment("web-5d8f", 3);
    owned["kind"] = json!("ReplicaSet");
    owned["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "1", "controller": true}]);
    fake.put("replicasets", owned);
    let mut elsewhere = deployment("batch", 3);
    elsewhere["metadata"]["namespace"] = json!("jobs");
    fake.put("deployments", elsewhere);
    // An Argo Rollout, where the cluster serves them: 3 replicas cannot
    // give the canary 20 % of the pods.
    let mut rollout = deployment("checkout", 3);
    rollout["apiVersion"] = json!("argoproj.io/v1alpha1");
    rollout["kind"] = json!("Rollout");
    rollout["spec"]["strategy"] = json!({"canary": {"steps": [{"setWeight": 20}]}});
    rollout["spec"]["minReadySeconds"] = json!(5);
    fake.put("rollouts", rollout);

    let dir = util::scratch_dir("cluster/audit");
    let kubeconfig = fake.kubeconfig(&dir);
    let kubeconfig = kubeconfig.to_string_lossy().into_owned();
    let run = |extra: Vec<&str>| {
        let mut args = vec!["audit", "--kubeconfig", &kubeconfig];
        if !extra.contains(&"--format") {
            args.extend(["--format", "json"]);
        }
        args.extend(extra);
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                util::run_rollsafe(&args, None, None)
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    // The context's namespace, `shop`.
    let output = run(vec![]).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let found: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["file"] != "shop/Rollout/checkout")
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_owned(),
                f["file"].as_str().unwrap_or("").to_owned(),
                f["pointer"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "pdb-missing".to_owned(),
                "shop/Deployment/api".to_owned(),
                "/spec/replicas".to_owned()
            ),
            (
                "readiness-probe-missing".to_owned(),
                "shop/Deployment/api".to_owned(),
                "/spec/template/spec/containers/0".to_owned()
            ),
        ],
        "{report}"
    );
    let rollout_rules: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["file"] == "shop/Rollout/checkout")
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(
        rollout_rules,
        ["canary-weight-inexact", "pdb-missing"],
        "{report}"
    );
    assert_eq!(report["summary"]["objects"], json!(4), "{report}");

    // Every namespace: the Deployment in `jobs` has no PDB either.
    let output = run(vec!["--all-namespaces"]).await;
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let files: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert!(files.contains(&"jobs/Deployment/batch"), "{report}");

    // Without a file to quote, the human format names the field.
    let output = run(vec!["--format", "human", "--color", "never"]).await;
    let human = String::from_utf8_lossy(&output.stdout);
    assert!(
        human.contains("Deployment/shop/api at spec.template.spec.containers[0]: container `app` serves port `8080`"),
        "{human}"
    );
    assert!(
        human.contains("1 error, 1 warning, 2 info in 4 objects\n"),
        "{human}"
    );
    // Where the Rollouts CRD is not installed, there are no Rollouts to read.
    fake.unserve("rollouts");
    let output = run(vec![]).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["summary"]["objects"], json!(3), "{report}");
    // An API server that refuses: a clear error, exit 2.
    fake.set_down(true);
    let output = run(vec![]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot list deployments.apps/v1"),
        "{stderr}"
    );
}

// --- deploy -------------------------------------------------------------------------

#[test]
fn deploy_grants_the_cluster_view_exactly_what_it_watches() {
    let text = std::fs::read_to_string(util::repo().join("deploy/base/clusterrole.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let role: Value = serde_yaml::from_str(
        text.split("\n---\n")
            .next()
            .unwrap_or_else(|| panic!("no ClusterRole")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut granted: Vec<(String, String, Vec<String>)> = role["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|rule| {
            let one = |key: &str| {
                let values: Vec<&str> = rule[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                assert_eq!(values.len(), 1, "one {key} per rule: {rule}");
                values[0].to_owned()
            };
            let verbs = rule["verbs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            (one("apiGroups"), one("resources"), verbs)
        })
        .collect();
    granted.sort();
    let mut needed: Vec<(String, String, Vec<String>)> = WatchedKind::for_view(false)
        .into_iter()
        .map(|kind| {
            let (group, resource) = kind.resource();
            (
                group.to_owned(),
                resource.to_owned(),
                vec!["list".to_owned(), "watch".to_owned()],
            )
        })
        .collect();
    needed.sort();
    assert_eq!(granted, needed);
    let deployment = std::fs::read_to_string(util::repo().join("deploy/base/deployment.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(deployment.contains("- --cluster-view\n"));
    assert!(!deployment.contains("--cluster-view-configmaps"));
    assert!(deployment.contains("automountServiceAccountToken: true"));
}
