//! `rollsafe timeline`: the text picture (snapshots), the JSON with the same
//! data, and colour only when asked for.

use std::path::PathBuf;

use rollsafe::policy::Profile;
use rollsafe::timeline::timelines;
use serde_json::Value;

use crate::util;

fn picture(relative: &str) -> String {
    let policy = util::policy(Profile::Default);
    let (loaded, _) = util::lint(&[PathBuf::from(relative)], &policy);
    let (timelines, errors) = timelines(&loaded.documents, &policy);
    assert!(errors.is_empty(), "{errors:?}");
    let mut out = Vec::new();
    rollsafe::report::timeline::render(&timelines, false, &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! snapshot {
    ($name:ident, $path:literal) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(picture($path));
        }
    };
}

// A grace period too short and no drain delay; a rollout that is an outage.
snapshot!(storefront, "testdata/examples/storefront.yaml");
// Everything in order.
snapshot!(catalog, "testdata/examples/catalog.yaml");
// An exec hook that fails in a distroless image.
snapshot!(payments, "testdata/examples/payments.yaml");
// An Argo Rollouts canary whose weight 3 pods cannot express, and a
// blue-green that stops its old pods at the switch.
snapshot!(rollouts, "testdata/examples/checkout-rollout.yaml");
// A traffic-routed canary with setCanaryScale, and dynamicStableScale.
snapshot!(
    routed_canaries,
    "testdata/rules/scale-down-delay-too-short/pass-delays-cover-the-switch.yaml"
);
// A hook that never ends; a StatefulSet replacing one pod at a time.
snapshot!(
    sleep_infinity,
    "testdata/rules/prestop-exceeds-grace-period/fail-sleep-infinity.yaml"
);
// Recreate and OnDelete.
snapshot!(
    recreate,
    "testdata/rules/rollout-recreate-strategy/fail-recreate-and-on-delete.yaml"
);
// Native sidecars and a CronJob, without a rollout.
snapshot!(
    sidecar_and_cronjob,
    "testdata/rules/grace-period-too-short/fail-native-sidecar-and-cronjob.yaml"
);

#[test]
fn json_carries_the_same_data() {
    let output = util::run_rollsafe(
        &[
            "timeline",
            "--format",
            "json",
            "testdata/examples/storefront.yaml",
        ],
        None,
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let workload = &report["workloads"][0];
    assert_eq!(workload["object"]["name"], "storefront");
    assert_eq!(workload["file"], "testdata/examples/storefront.yaml");
    assert_eq!(workload["gracePeriodSeconds"], 20);
    let web = &workload["containers"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["servesTraffic"], true);
    assert_eq!(web["preStop"]["kind"], "none");
    assert_eq!(web["sigtermAt"], 0.0);
    assert_eq!(web["appDeadline"], 25.0);
    assert_eq!(web["sigkillAt"], 20.0);
    assert_eq!(web["shutdownTimeout"]["source"], "env `SHUTDOWN_TIMEOUT`");
    let rules: Vec<&str> = web["findings"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["rule"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(rules, ["grace-period-too-short", "prestop-hook-missing"]);
    let rollout = &workload["rollout"];
    assert_eq!(rollout["strategy"], "RollingUpdate");
    assert_eq!(rollout["replicas"], 2);
    assert_eq!(rollout["maxUnavailable"]["pods"], 2);
    assert_eq!(rollout["end"], "complete");
    let steps = rollout["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.first().map(|s| &s["old"]), Some(&Value::from(2)));
    assert_eq!(steps.last().map(|s| &s["new"]), Some(&Value::from(2)));
    assert!(steps.iter().any(|s| s["unavailable"] == 2));
    let rules: Vec<&str> = rollout["findings"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["rule"].as_str()).collect())
        .unwrap_or_default();
    assert!(rules.contains(&"rollout-zero-availability"), "{rules:?}");
}

#[test]
fn json_of_a_canary_and_a_blue_green() {
    let output = util::run_rollsafe(
        &[
            "timeline",
            "--format",
            "json",
            "testdata/examples/checkout-rollout.yaml",
        ],
        None,
        None,
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let canary = &report["workloads"][0]["rollout"];
    assert_eq!(canary["strategy"], "canary");
    let steps: Vec<(Value, i64, i64, i64, i64)> = canary["canarySteps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let n = |k: &str| s[k].as_i64().unwrap_or(-1);
            (
                s["index"].clone(),
                n("weight"),
                n("canaryPods"),
                n("stablePods"),
                n("canaryShareBasisPoints"),
            )
        })
        .collect();
    // As the Rollouts controller sizes them: 1 canary + 3 stable (25 %) for
    // 20 %, 2 + 2 for 50 %, then the promotion.
    assert_eq!(
        steps,
        [
            (Value::from(0), 20, 1, 3, 2500),
            (Value::from(1), 20, 1, 3, 2500),
            (Value::from(2), 50, 2, 2, 5000),
            (Value::from(3), 50, 2, 2, 5000),
            (Value::Null, 100, 3, 0, 10000),
        ]
    );
    let blue_green = &report["workloads"][1]["rollout"];
    assert_eq!(blue_green["strategy"], "blueGreen");
    assert_eq!(blue_green["blueGreen"]["activeService"], "cart");
    assert_eq!(blue_green["blueGreen"]["previewPods"], 2);
    assert_eq!(blue_green["blueGreen"]["scaleDownDelaySeconds"], 0);
    let rules: Vec<&str> = blue_green["findings"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["rule"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(rules, ["scale-down-delay-too-short"]);
}

#[test]
fn colour_only_when_asked_and_policy_flags_apply() {
    let path = "testdata/examples/storefront.yaml";
    let plain = util::run_rollsafe(&["timeline", path], None, None);
    let plain = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(!plain.contains('\u{1b}'), "no colour off a terminal");
    let coloured = util::run_rollsafe(&["timeline", "--color", "always", path], None, None);
    let coloured = String::from_utf8_lossy(&coloured.stdout).into_owned();
    assert!(coloured.contains("\u{1b}[31m✗"));

    let dir = util::scratch_dir("timeline-policy");
    util::write(
        &dir.join("policy.yaml"),
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nsettings:\n  minDrainDelay: 12s\n",
    );
    let output = util::run_rollsafe(
        &[
            "timeline",
            "--policy",
            dir.join("policy.yaml").to_str().unwrap_or_default(),
            path,
        ],
        None,
        None,
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("minDrainDelay 12s"), "{text}");

    let output = util::run_rollsafe(&["timeline", "-"], Some("a: [\n"), None);
    assert_eq!(output.status.code(), Some(2), "input errors exit 2");
}

/// Every finding the timeline marks is one `rollsafe lint` reports, on the
/// same object and container, with the same rule id, severity and message:
/// over every rule fixture, through the binary, with the fixture's policy.
#[test]
fn the_timeline_marks_only_what_lint_reports() {
    let mut marked = 0;
    for path in util::manifests(&util::testdata("rules")) {
        let relative = path.strip_prefix(util::repo()).unwrap_or(&path);
        let relative = relative.to_string_lossy().into_owned();
        let flags = crate::fixes::directive_flags(&path);
        let run = |command: &str| {
            let mut args = vec![command, "--format", "json"];
            args.extend(flags.iter().map(String::as_str));
            if command == "lint" {
                args.extend(["--fail-on", "never"]);
            }
            args.push(&relative);
            let output = util::run_rollsafe(&args, None, None);
            serde_json::from_slice::<Value>(&output.stdout)
                .unwrap_or_else(|e| panic!("{relative}: {command} --format json: {e}"))
        };
        let lint = run("lint");
        let findings: Vec<(String, String, String, Option<String>, String)> = lint["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap_or_default().to_owned(),
                    f["object"]["kind"].as_str().unwrap_or_default().to_owned(),
                    f["object"]["name"].as_str().unwrap_or_default().to_owned(),
                    f["container"].as_str().map(str::to_owned),
                    f["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let timeline = run("timeline");
        for workload in timeline["workloads"].as_array().into_iter().flatten() {
            let kind = workload["object"]["kind"].as_str().unwrap_or_default();
            let name = workload["object"]["name"].as_str().unwrap_or_default();
            let mut places: Vec<(Option<String>, &Value)> = vec![
                (None, &workload["findings"]),
                (None, &workload["rollout"]["findings"]),
            ];
            for c in workload["containers"].as_array().into_iter().flatten() {
                places.push((c["name"].as_str().map(str::to_owned), &c["findings"]));
            }
            for (container, marks) in places {
                for mark in marks.as_array().into_iter().flatten() {
                    let key = (
                        mark["rule"].as_str().unwrap_or_default().to_owned(),
                        kind.to_owned(),
                        name.to_owned(),
                        container.clone(),
                        mark["message"].as_str().unwrap_or_default().to_owned(),
                    );
                    assert!(
                        findings.contains(&key),
                        "{relative}: the timeline marks {key:?}, which lint does not report"
                    );
                    marked += 1;
                }
            }
        }
    }
    assert!(marked > 50, "only {marked} marks");
}
