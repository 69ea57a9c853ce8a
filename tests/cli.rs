//! The real binary: exit codes, stdin, folders, output shapes, errors.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::{self, BARE_DEPLOYMENT, code, json, stderr, stdout};

fn rollsafe(args: &[&str]) -> Output {
    rollsafe_with_stdin(args, None)
}

fn rollsafe_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    util::run_rollsafe(args, stdin, None)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn exit_codes_follow_the_threshold() {
    let dir = util::scratch_dir("exit-codes");
    let bad = dir.join("bad.yaml");
    util::write(&bad, BARE_DEPLOYMENT);
    assert_eq!(code(&rollsafe(&["lint", path(&bad)])), 1);
    assert_eq!(
        code(&rollsafe(&["lint", "--fail-on", "never", path(&bad)])),
        0
    );

    let quiet = dir.join("quiet.yaml");
    util::write(
        &quiet,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
    );
    let output = rollsafe(&["lint", path(&quiet)]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert!(stdout(&output).contains("no findings"));
}

/// Two replicas with a readiness probe but no drain delay: a warning.
const NO_DRAIN: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: nodrain, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: nodrain}}
  template:
    metadata: {labels: {app: nodrain}}
    spec:
      containers:
        - name: app
          image: example/app:1
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
";

#[test]
fn warnings_fail_only_when_asked() {
    let dir = util::scratch_dir("warnings");
    let file = dir.join("nodrain.yaml");
    util::write(&file, NO_DRAIN);
    // Only warnings and infos (no preStop hook, no PDB…).
    let output = rollsafe(&["lint", "--format", "json", path(&file)]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let report = json(&output);
    assert_eq!(report["summary"]["errors"], 0);
    assert!(report["summary"]["warnings"].as_u64().unwrap_or(0) > 0);
    assert_eq!(
        code(&rollsafe(&["lint", "--fail-on", "warning", path(&file)])),
        1
    );
}

#[test]
fn stdin_is_read_with_a_dash() {
    let output = rollsafe_with_stdin(&["lint", "--format", "json", "-"], Some(BARE_DEPLOYMENT));
    assert_eq!(code(&output), 1);
    let report = json(&output);
    let finding = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "readiness-probe-missing"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(finding["file"], "<stdin>");
    assert_eq!(finding["line"], 11);
    assert_eq!(finding["column"], 11);
}

#[test]
fn json_output_has_the_documented_shape() {
    let output = rollsafe_with_stdin(&["lint", "--format", "json", "-"], Some(BARE_DEPLOYMENT));
    let report = json(&output);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(
        keys(&report),
        ["errors", "findings", "summary", "suppressed"]
    );
    let finding = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["rule"] == "readiness-probe-missing"))
        .cloned()
        .unwrap_or_default();
    let finding = &finding;
    assert_eq!(
        keys(finding),
        [
            "column",
            "container",
            "file",
            "help",
            "line",
            "message",
            "object",
            "pointer",
            "rule",
            "severity"
        ]
    );
    assert_eq!(
        keys(&finding["object"]),
        ["apiVersion", "kind", "name", "namespace"]
    );
    assert_eq!(finding["object"]["kind"], "Deployment");
    assert_eq!(finding["container"], "app");
}

#[test]
fn folders_are_read_recursively_and_a_parse_error_does_not_stop_the_run() {
    let dir = util::scratch_dir("folders");
    std::fs::create_dir_all(dir.join("apps/web")).unwrap_or_else(|e| panic!("{e}"));
    util::write(&dir.join("apps/web/pod.yml"), BARE_DEPLOYMENT);
    util::write(
        &dir.join("apps/good.json"),
        &serde_json::to_string(&serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "json-pod"},
            "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}]}]}
        }))
        .unwrap_or_default(),
    );
    util::write(
        &dir.join("apps/chart.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    util::write(&dir.join("README.md"), "not a manifest");
    util::write(
        &dir.join("values.yaml"),
        "replicaCount: 2\nimage: {tag: latest}\n",
    );

    let output = rollsafe(&["lint", "--format", "json", path(&dir)]);
    assert_eq!(code(&output), 2, "an input error exits 2");
    let report = json(&output);
    assert_eq!(
        report["summary"]["files"], 4,
        "yaml, yml and json files, not README.md"
    );
    let pods: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "readiness-probe-missing")
        .filter_map(|f| f["object"]["name"].as_str())
        .collect();
    assert_eq!(pods, ["json-pod", "bare"]);
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]["file"]
            .as_str()
            .unwrap_or_default()
            .ends_with("chart.yaml")
    );
    assert_eq!(errors[0]["line"], 4);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("template")
    );

    let human = rollsafe(&["lint", "--color", "never", path(&dir)]);
    let text = stdout(&human);
    assert!(text.contains("chart.yaml:4:"), "{text}");
    assert!(text.contains("helm template"), "{text}");
}

#[test]
fn human_output_names_rule_place_object_and_fix() {
    let output = rollsafe_with_stdin(&["lint", "--color", "never", "-"], Some(BARE_DEPLOYMENT));
    let text = stdout(&output);
    assert!(text.contains("× Deployment/shop/bare: 1 error"), "{text}");
    assert!(text.contains("  11:11 │         - name: app\n"), "{text}");
    assert!(
        text.contains(
            "error[readiness-probe-missing]: container `app` serves port `8080` but has no readinessProbe"
        ),
        "{text}"
    );
    assert!(text.contains("help: add a readinessProbe"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not on a terminal");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&rollsafe(&["lint"])), 2);
    assert_eq!(
        code(&rollsafe(&["lint", "--kubernetes-version", "1.20", "-"])),
        2
    );
    assert_eq!(code(&rollsafe(&["lint", "--format", "xml", "-"])), 2);
    let missing = rollsafe(&["lint", "/nonexistent/rollsafe/manifest.yaml"]);
    assert_eq!(code(&missing), 2);
}

#[test]
fn rules_and_explain_print_the_catalog() {
    let output = rollsafe(&["rules"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    for rule in rollsafe::rules::RULES {
        assert!(
            text.contains(rule.info().id),
            "{} missing from `rollsafe rules`",
            rule.info().id
        );
    }
    let explain = rollsafe(&["explain", "readiness-probe-missing"]);
    assert_eq!(code(&explain), 0);
    assert!(stdout(&explain).contains("## Why it matters"));
    let unknown = rollsafe(&["explain", "readiness-probe-mising"]);
    assert_eq!(code(&unknown), 2);
    assert!(stderr(&unknown).contains("did you mean `readiness-probe-missing`?"));
}

#[test]
fn policy_files_extend_and_errors_name_the_line() {
    let dir = util::scratch_dir("policies");
    let policy = dir.join("policy.yaml");
    util::write(
        &policy,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nrules:\n  readiness-probe-missing: warning\n",
    );
    let output = rollsafe_with_stdin(
        &["lint", "--policy", path(&policy), "--format", "json", "-"],
        Some(BARE_DEPLOYMENT),
    );
    assert_eq!(
        code(&output),
        0,
        "readiness lowered to a warning: {}",
        stdout(&output)
    );

    let bad = dir.join("bad.yaml");
    util::write(
        &bad,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nsettings:\n  minDrainDelay: soon\nrules:\n  readiness-probe-mising: off\n",
    );
    let output = rollsafe_with_stdin(
        &["lint", "--policy", path(&bad), "--color", "never", "-"],
        Some(BARE_DEPLOYMENT),
    );
    assert_eq!(code(&output), 2);
    let text = stderr(&output);
    assert!(text.contains("bad.yaml:5:18"), "{text}");
    assert!(text.contains("bad.yaml:7:3"), "{text}");
    assert!(
        text.contains("did you mean `readiness-probe-missing`?"),
        "{text}"
    );

    let quoted = dir.join("version.yaml");
    util::write(
        &quoted,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nkubernetesVersion: 1.30\n",
    );
    let output = rollsafe_with_stdin(
        &["lint", "--policy", path(&quoted), "-"],
        Some(BARE_DEPLOYMENT),
    );
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("quote the version"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn examples_in_the_readme_run() {
    let output = rollsafe(&[
        "lint",
        "--color",
        "never",
        path(&util::testdata("examples")),
    ]);
    assert_eq!(
        code(&output),
        1,
        "the examples hold errors to show: {}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("error["));
}
