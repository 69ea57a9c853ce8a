//! In-process cost of one admission review as the object grows.
//!
//! `cargo bench --bench review` builds `/validate` and `/mutate` reviews of a
//! Deployment with 1 to 3,000 serving containers (each needing a preStop hook,
//! so `/mutate` repairs every one), answers each with the webhook's
//! `Reviewer`, and prints the median time per review beside the floor: what an
//! empty handler does with the same body (parse the AdmissionReview, echo the
//! uid in an allowed response). Cost should grow linearly with the number of
//! containers: the last column divides each review's time by the
//! 1-container review's, to compare with the container count.
//!
//! Then the cluster view: the RSS 10,000 PodDisruptionBudgets, HPAs and
//! Services (as the API server sends them) add once projected into the
//! view, and the median `/validate` of a 1-container Deployment judged among
//! them, against the same review without a view, in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use rollsafe::cluster::{ClusterView, WatchedKind};
use rollsafe::deadline::Deadline;
use rollsafe::policy::{Policy, Profile};
use rollsafe::webhook::{Endpoint, Mode, Mutation, Reviewer};
use serde_json::{Value, json};

const SIZES: [usize; 5] = [1, 10, 100, 900, 3000];

fn main() {
    if std::env::args().any(|a| a == CLUSTER_VIEW_CHILD) {
        cluster_view();
        return;
    }
    let policy = Policy::builtin(Profile::Default).unwrap_or_else(|e| panic!("{e:?}"));
    let reviewer = Reviewer::new(policy, Mode::Enforce, Mutation::All);
    println!("review cost by container count, medians");
    println!(
        "{:<9} {:>10} {:>8} {:>12} {:>12} {:>9} {:>12} {:>9}",
        "endpoint",
        "containers",
        "KiB",
        "floor µs",
        "review µs",
        "× floor",
        "× 1 cont.",
        "per cont."
    );
    for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
        let mut one = None;
        for containers in SIZES {
            let body = review_body(containers);
            let runs = (2_000 / containers).clamp(3, 200);
            let floor = median(runs, || empty_handler(&body));
            let review = median(runs, || {
                let reviewed = reviewer
                    .review(endpoint, &body, &Deadline::none())
                    .unwrap_or_else(|e| panic!("{e}"));
                std::hint::black_box(reviewed.body.len());
            });
            let one = *one.get_or_insert(review);
            let growth = review.as_secs_f64() / one.as_secs_f64().max(1e-9);
            println!(
                "{:<9} {:>10} {:>8.1} {:>12.1} {:>12.1} {:>8.1}x {:>11.1}x {:>9.2}",
                endpoint.as_str(),
                containers,
                body.len() as f64 / 1024.0,
                micros(floor),
                micros(review),
                review.as_secs_f64() / floor.as_secs_f64().max(1e-9),
                growth,
                growth / containers as f64,
            );
        }
    }
    // In a child: memory the reviews above freed would hide the view's.
    let exe = std::env::current_exe().unwrap_or_default();
    let status = std::process::Command::new(exe)
        .arg(CLUSTER_VIEW_CHILD)
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
}

const CLUSTER_VIEW_CHILD: &str = "--cluster-view-child";

/// Objects of each watched kind in the view.
const CACHED: usize = 10_000;
/// Namespaces they are spread over.
const NAMESPACES: usize = 500;

fn cluster_view() {
    let policy = Policy::builtin(Profile::Default).unwrap_or_else(|e| panic!("{e:?}"));
    let before = rss_kib();
    let view = Arc::new(ClusterView::new(
        &WatchedKind::for_view(false),
        Duration::from_secs(300),
    ));
    // Listed empty (so the view counts as synced), then filled one object at
    // a time as a watch delivers them: what stays is the view.
    view.replace_all::<PodDisruptionBudget>(Vec::new());
    view.replace_all::<HorizontalPodAutoscaler>(Vec::new());
    view.replace_all::<Service>(Vec::new());
    for i in 0..CACHED {
        let namespace = format!("ns-{}", i % NAMESPACES);
        let app = format!("app-{i}");
        view.apply(typed::<PodDisruptionBudget>(json!({
            "metadata": cluster_metadata(&app, &namespace),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": app}}},
            "status": {"currentHealthy": 3, "desiredHealthy": 2, "disruptionsAllowed": 1, "expectedPods": 3}})));
        view.apply(typed::<HorizontalPodAutoscaler>(json!({
            "metadata": cluster_metadata(&app, &namespace),
            "spec": {"minReplicas": 2, "maxReplicas": 10,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
            "status": {"currentReplicas": 3, "desiredReplicas": 3}})));
        view.apply(typed::<Service>(json!({
            "metadata": cluster_metadata(&app, &namespace),
            "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "type": "ClusterIP",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None"},
            "status": {"loadBalancer": {}}})));
    }
    let added = rss_kib().saturating_sub(before);
    println!();
    println!(
        "cluster view: {CACHED} PodDisruptionBudgets, {CACHED} HPAs and {CACHED} Services over {NAMESPACES} namespaces"
    );
    println!("extra RSS: {:.1} MiB", added as f64 / 1024.0);
    // A namespace is decoded when a review first asks after a change in it.
    let mut cold: Vec<Duration> = (0..NAMESPACES)
        .map(|i| {
            let start = Instant::now();
            let neighbours = view.neighbours(&format!("ns-{i}"));
            let elapsed = start.elapsed();
            std::hint::black_box(neighbours.is_ok());
            elapsed
        })
        .collect();
    cold.sort();
    println!(
        "first review of a namespace after a change in it decodes its {} objects: +{:.1} µs (median)",
        3 * CACHED / NAMESPACES,
        micros(cold[cold.len() / 2])
    );
    println!(
        "extra RSS with the most namespaces kept decoded ({}): {:.1} MiB",
        rollsafe::cluster::view::DECODED_NAMESPACES,
        rss_kib().saturating_sub(before) as f64 / 1024.0
    );
    let alone = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::All);
    let among = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::All).among(view, policy);
    let body = cluster_review_body();
    let runs = 2_000;
    let floor = median(runs, || empty_handler(&body));
    let review = |reviewer: &Reviewer| {
        let reviewed = reviewer
            .review(Endpoint::Validate, &body, &Deadline::none())
            .unwrap_or_else(|e| panic!("{e}"));
        std::hint::black_box(reviewed.body.len());
    };
    // Interleaved rounds, so that drift in the machine hits both alike.
    let mut alone_times = Vec::new();
    let mut among_times = Vec::new();
    for _ in 0..5 {
        alone_times.push(median(runs / 5, || review(&alone)));
        among_times.push(median(runs / 5, || review(&among)));
    }
    alone_times.sort();
    among_times.sort();
    let (alone_time, among_time) = (alone_times[2], among_times[2]);
    println!(
        "/validate p50: floor {:.1} µs, without the view {:.1} µs, among the view {:.1} µs: {:.2}x",
        micros(floor),
        micros(alone_time),
        micros(among_time),
        among_time.as_secs_f64() / alone_time.as_secs_f64().max(1e-9)
    );
}

/// Metadata as the API server sends it: labels, annotations, managed fields.
fn cluster_metadata(name: &str, namespace: &str) -> Value {
    json!({"name": name, "namespace": namespace, "uid": format!("{namespace}-{name}-0000-0000"),
        "resourceVersion": "123456", "creationTimestamp": "2026-01-01T00:00:00Z",
        "labels": {"app": name, "app.kubernetes.io/part-of": "shop"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x".repeat(400)},
        "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "time": "2026-01-01T00:00:00Z",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]})
}

fn typed<K: serde::de::DeserializeOwned>(value: Value) -> K {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{e}"))
}

/// A 1-container Deployment in a namespace of the view, which one of its
/// PodDisruptionBudgets, HPAs and Services selects. Its HPA sets the scale
/// (no `replicas`), so that the view adds no finding to answer: what is
/// measured is judging among the neighbours.
fn cluster_review_body() -> Vec<u8> {
    let mut review: Value = serde_json::from_slice(&review_body(1)).unwrap_or_default();
    if let Some(spec) = review["request"]["object"]["spec"].as_object_mut() {
        spec.remove("replicas");
    }
    review["request"]["namespace"] = json!("ns-7");
    review["request"]["object"]["metadata"] = json!({"name": "app-7", "namespace": "ns-7"});
    review["request"]["object"]["spec"]["selector"] = json!({"matchLabels": {"app": "app-7"}});
    review["request"]["object"]["spec"]["template"]["metadata"] =
        json!({"labels": {"app": "app-7"}});
    serde_json::to_vec(&review).unwrap_or_default()
}

/// This process's resident set, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// What a handler that judges nothing does: read the review, answer allowed.
fn empty_handler(body: &[u8]) {
    let review: Value = serde_json::from_slice(body).unwrap_or_default();
    let uid = review.pointer("/request/uid").cloned().unwrap_or_default();
    let answer = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "response": {"uid": uid, "allowed": true}});
    std::hint::black_box(serde_json::to_vec(&answer).unwrap_or_default());
}

fn review_body(containers: usize) -> Vec<u8> {
    let containers: Vec<Value> = (0..containers)
        .map(|i| {
            json!({"name": format!("c{i}"), "image": "example/app:1", "ports": [{"containerPort": 8080 + i}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080 + i}}})
        })
        .collect();
    let object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "storefront", "namespace": "shop"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "s"}},
            "template": {"metadata": {"labels": {"app": "s"}},
                "spec": {"containers": containers}}}});
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u-1", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "storefront", "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "bench"}, "object": object, "dryRun": false}});
    serde_json::to_vec(&review).unwrap_or_default()
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
