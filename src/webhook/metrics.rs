//! Request counters and latency histograms, written in the Prometheus text
//! format by hand: a few labelled counters and one histogram do not earn a
//! metrics crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::admission::{Endpoint, Verdict};
use crate::severity::Severity;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

/// Endpoint, the review's verdict, rule, severity.
type FindingKey = (Endpoint, Verdict, &'static str, Severity);

/// What `/metrics` reports.
/// How a certificate reload went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    Success,
    Failure,
}

#[derive(Debug, Default)]
pub struct Metrics {
    reviews: Mutex<BTreeMap<(Endpoint, &'static str), u64>>,
    findings: Mutex<BTreeMap<FindingKey, u64>>,
    validate_latency: Histogram,
    mutate_latency: Histogram,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    cluster: std::sync::OnceLock<std::sync::Arc<crate::cluster::ClusterView>>,
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn render(&self, name: &str, labels: &str, out: &mut String) {
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

impl Metrics {
    /// Counts one answered review (or one refused as malformed: verdict `invalid`).
    pub fn review(&self, endpoint: Endpoint, verdict: Option<Verdict>, elapsed: Duration) {
        let verdict = verdict.map_or("invalid", Verdict::as_str);
        if let Ok(mut reviews) = self.reviews.lock() {
            *reviews.entry((endpoint, verdict)).or_default() += 1;
        }
        match endpoint {
            Endpoint::Validate => self.validate_latency.observe(elapsed),
            Endpoint::Mutate => self.mutate_latency.observe(elapsed),
        }
    }

    /// Counts the findings of one review, under the review's verdict.
    pub fn findings(
        &self,
        endpoint: Endpoint,
        verdict: Verdict,
        findings: &[(&'static str, Severity)],
    ) {
        if findings.is_empty() {
            return;
        }
        if let Ok(mut counts) = self.findings.lock() {
            for &(rule, severity) in findings {
                *counts
                    .entry((endpoint, verdict, rule, severity))
                    .or_default() += 1;
            }
        }
    }

    /// Reports the cluster view's health with the rest.
    pub fn watch_cluster(&self, view: std::sync::Arc<crate::cluster::ClusterView>) {
        let _ = self.cluster.set(view);
    }

    pub fn certificate_reload(&self, result: Reload) {
        let counter = match result {
            Reload::Success => &self.reloads_ok,
            Reload::Failure => &self.reloads_failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Which build answers, to tell a rollout's old and new pods apart
        // (`count by (version) (rollsafe_build_info)`).
        let _ = writeln!(
            out,
            "# HELP rollsafe_build_info The rollsafe build serving, by version and target; always 1.\n\
             # TYPE rollsafe_build_info gauge\n\
             rollsafe_build_info{{version=\"{}\",target=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            env!("ROLLSAFE_TARGET")
        );
        out.push_str(
            "# HELP rollsafe_admission_reviews_total Admission reviews answered, by endpoint and verdict.\n\
             # TYPE rollsafe_admission_reviews_total counter\n",
        );
        if let Ok(reviews) = self.reviews.lock() {
            for ((endpoint, verdict), count) in reviews.iter() {
                let _ = writeln!(
                    out,
                    "rollsafe_admission_reviews_total{{endpoint=\"{}\",verdict=\"{verdict}\"}} {count}",
                    endpoint.as_str()
                );
            }
        }
        out.push_str(
            "# HELP rollsafe_admission_findings_total Findings in admission reviews, by endpoint, the review's verdict, rule and severity.\n\
             # TYPE rollsafe_admission_findings_total counter\n",
        );
        if let Ok(findings) = self.findings.lock() {
            for ((endpoint, verdict, rule, severity), count) in findings.iter() {
                let _ = writeln!(
                    out,
                    "rollsafe_admission_findings_total{{endpoint=\"{}\",verdict=\"{}\",rule=\"{rule}\",severity=\"{severity}\"}} {count}",
                    endpoint.as_str(),
                    verdict.as_str()
                );
            }
        }
        out.push_str(
            "# HELP rollsafe_admission_review_duration_seconds Time from a review's body being read to its answer.\n\
             # TYPE rollsafe_admission_review_duration_seconds histogram\n",
        );
        self.validate_latency.render(
            "rollsafe_admission_review_duration_seconds",
            "endpoint=\"validate\"",
            &mut out,
        );
        self.mutate_latency.render(
            "rollsafe_admission_review_duration_seconds",
            "endpoint=\"mutate\"",
            &mut out,
        );
        out.push_str(
            "# HELP rollsafe_tls_certificate_reloads_total Certificate reloads after the files changed, by result.\n\
             # TYPE rollsafe_tls_certificate_reloads_total counter\n",
        );
        let _ = writeln!(
            out,
            "rollsafe_tls_certificate_reloads_total{{result=\"success\"}} {}",
            self.reloads_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "rollsafe_tls_certificate_reloads_total{{result=\"failure\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        if let Some(view) = self.cluster.get() {
            view.render_metrics(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.review(
            Endpoint::Validate,
            Some(Verdict::Denied),
            Duration::from_micros(300),
        );
        metrics.review(Endpoint::Validate, None, Duration::from_millis(2));
        metrics.findings(
            Endpoint::Validate,
            Verdict::Denied,
            &[("readiness-probe-missing", Severity::Error)],
        );
        metrics.certificate_reload(Reload::Success);
        let text = metrics.render();
        assert!(text.contains(
            "rollsafe_admission_reviews_total{endpoint=\"validate\",verdict=\"denied\"} 1"
        ));
        assert!(text.contains(
            "rollsafe_admission_reviews_total{endpoint=\"validate\",verdict=\"invalid\"} 1"
        ));
        assert!(text.contains("rollsafe_admission_findings_total{endpoint=\"validate\",verdict=\"denied\",rule=\"readiness-probe-missing\",severity=\"error\"} 1"));
        assert!(text.contains(
            "rollsafe_admission_review_duration_seconds_bucket{endpoint=\"validate\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains(
            "rollsafe_admission_review_duration_seconds_bucket{endpoint=\"validate\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("rollsafe_tls_certificate_reloads_total{result=\"success\"} 1"));
        let build = format!(
            "rollsafe_build_info{{version=\"{}\",target=\"{}\"}} 1\n",
            env!("CARGO_PKG_VERSION"),
            env!("ROLLSAFE_TARGET")
        );
        assert!(text.starts_with("# HELP rollsafe_build_info"), "{text}");
        assert!(text.contains(&build), "{text}");
        assert!(!env!("ROLLSAFE_TARGET").is_empty());
    }
}
