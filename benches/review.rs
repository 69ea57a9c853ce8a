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

use std::time::{Duration, Instant};

use rollsafe::deadline::Deadline;
use rollsafe::policy::{Policy, Profile};
use rollsafe::webhook::{Endpoint, Mode, Mutation, Reviewer};
use serde_json::{Value, json};

const SIZES: [usize; 5] = [1, 10, 100, 900, 3000];

fn main() {
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
