//! The schema rules against what kubeconform's own tests expect, and what
//! becomes of a document that does not decode as its kind.

use std::path::PathBuf;

use serde_json::json;

use rollsafe::engine::{self, Outcome};
use rollsafe::policy::{Policy, Profile};
use rollsafe::source::{Document, Loaded, Loader};

use crate::util;

const SCHEMA_RULES: [&str; 2] = ["unknown-field", "invalid-field-value"];

fn without_schema_rules() -> Policy {
    let path = util::testdata("policies/no-schema-rules.yml");
    Policy::from_file(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

/// (rule, line) of every schema finding.
fn schema_findings(outcome: &Outcome) -> Vec<(&'static str, usize)> {
    outcome
        .findings
        .iter()
        .filter(|f| SCHEMA_RULES.contains(&f.rule.id))
        .map(|f| (f.rule.id, f.location.line))
        .collect()
}

fn lint_text(text: &str, policy: &Policy) -> (Loaded, Outcome) {
    let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
    let mut loaded = Loaded::default();
    Loader::new(&wants).load_text("input.yaml", text.to_owned(), &mut loaded);
    let outcome = engine::evaluate(&loaded.documents, policy);
    (loaded, outcome)
}

/// kubeconform's fixtures and the verdicts its acceptance tests state
/// (`EXPECTED.md`), in its `-strict` mode, which is what rollsafe checks.
#[test]
fn kubeconform_fixtures_get_kubeconform_verdicts() {
    let Some(dir) = util::shared("corpus/peers/kubeconform/fixtures") else {
        eprintln!("../shared/corpus/peers/kubeconform is absent: skipping");
        return;
    };
    let policy = util::policy(Profile::Default);
    let lint = |name: &str| util::lint(&[dir.join(name)], &policy);
    for valid in [
        "valid.yaml",
        "valid.json",
        "int_or_string.yaml",
        "null_string.yaml",
        "generate_name.yaml",
        "list_valid.yaml",
        "list_empty_valid.yaml",
        "multi_valid.yaml",
        "multi_with_list.yaml",
        "quantity.yaml",
    ] {
        let (loaded, outcome) = lint(valid);
        assert!(loaded.errors.is_empty(), "{valid}: {:?}", loaded.errors);
        assert!(outcome.errors.is_empty(), "{valid}: {:?}", outcome.errors);
        assert_eq!(schema_findings(&outcome), vec![], "{valid} is valid");
    }
    // Invalid in strict mode only: `replicas` is no field of a DaemonSet.
    let (_, outcome) = lint("extra_property.yaml");
    assert_eq!(schema_findings(&outcome), vec![("unknown-field", 7)]);
    // `replicas: asd"` is a string; kubeconform also stops at `templates`.
    let (_, outcome) = lint("invalid.yaml");
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(
        schema_findings(&outcome),
        vec![("invalid-field-value", 6), ("unknown-field", 9)]
    );
    // Two resources, one invalid: the ReplicationController.
    let (_, outcome) = lint("list_invalid.yaml");
    assert_eq!(
        schema_findings(&outcome),
        vec![("invalid-field-value", 26), ("unknown-field", 29)]
    );
    // One invalid resource of six: `port: sds`.
    let (_, outcome) = lint("multi_invalid.yaml");
    assert_eq!(schema_findings(&outcome), vec![("invalid-field-value", 12)]);
    assert!(
        outcome
            .findings
            .iter()
            .any(|f| f.object.kind == "ReplicationController")
    );
    // A duplicate key is refused by kubectl and by kubeconform -strict alike.
    let (loaded, _) = lint("duplicate_property.yaml");
    assert!(
        loaded
            .errors
            .iter()
            .any(|e| e.message.contains("duplicate key"))
    );
}

/// kubeconform's `quantity.yaml` is a LimitRange, a kind rollsafe does not
/// read; its quantities are checked in a container's resources instead.
#[test]
fn kubeconform_quantities_are_quantities() {
    let Some(path) = util::shared("corpus/peers/kubeconform/fixtures/quantity.yaml") else {
        eprintln!("../shared/corpus/peers/kubeconform is absent: skipping");
        return;
    };
    let mut loaded = Loaded::default();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    Loader::new(&|_, _| true).load_text("quantity.yaml", text, &mut loaded);
    let limits = &loaded.documents[0].value["spec"]["limits"][0];
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q"},
        "spec": {"containers": [{"name": "c", "image": "i", "resources": {
            "limits": limits["default"], "requests": limits["defaultRequest"]}}]}});
    assert_eq!(
        pod["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "512Mi"
    );
    let policy = util::policy(Profile::Default);
    let outcome = engine::evaluate(&[Document::detached("pod", pod)], &policy);
    assert_eq!(schema_findings(&outcome), vec![]);
}

const QUOTED_REPLICAS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: \"3\"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: example/web:1
          ports: [{containerPort: 8080}]
          env:
            - {name: FLAG, value: on}
";

/// With the schema rules on, a value typed decoding cannot read is a finding
/// at its line, and the other rules judge the object with the value meant.
#[test]
fn undecodable_values_become_findings_and_the_rest_is_judged() {
    let policy = util::policy(Profile::Strict);
    let (loaded, outcome) = lint_text(QUOTED_REPLICAS, &policy);
    assert!(loaded.errors.is_empty() && outcome.errors.is_empty());
    assert_eq!(
        schema_findings(&outcome),
        vec![("invalid-field-value", 5), ("invalid-field-value", 15)]
    );
    let rules: Vec<&str> = outcome.findings.iter().map(|f| f.rule.id).collect();
    assert!(rules.contains(&"readiness-probe-missing"), "{rules:?}");
    // `replicas: "3"` was read as 3: no single-replica finding, a PDB wanted.
    assert!(!rules.contains(&"single-replica"), "{rules:?}");
    assert!(rules.contains(&"pdb-missing"), "{rules:?}");
    assert_eq!(outcome.objects, 1);
}

/// With the schema rules off by policy, the same document is an input error,
/// as it always was.
#[test]
fn without_the_schema_rules_undecodable_documents_are_input_errors() {
    let policy = without_schema_rules();
    let (_, outcome) = lint_text(QUOTED_REPLICAS, &policy);
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert!(
        outcome.errors[0]
            .message
            .contains("cannot be read as a Deployment")
    );
    assert_eq!(outcome.errors[0].line_col(), Some((5, 3)));
    assert!(outcome.findings.is_empty());
    assert_eq!(outcome.objects, 0);
}

/// The CLI exit status follows: 1 for the finding, 2 for the input error.
#[test]
fn exit_status_with_and_without_the_schema_rules() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schema-exit");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("quoted.yaml");
    std::fs::write(&file, QUOTED_REPLICAS).unwrap_or_else(|e| panic!("{e}"));
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
            .arg("lint")
            .args(extra)
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
            .status
            .code()
    };
    assert_eq!(run(&[]), Some(1));
    let policy = util::testdata("policies/no-schema-rules.yml");
    assert_eq!(
        run(&["--policy", policy.to_str().unwrap_or_default()]),
        Some(2)
    );
}

/// Every minor `--kubernetes-version` accepts has its schemas, and they
/// judge by their own minor: `sleep` exists from 1.29.
#[test]
fn schemas_follow_the_kubernetes_version() {
    let text = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: c
      image: i
      lifecycle:
        preStop:
          sleep: {seconds: 5}
";
    for minor in 25..=37 {
        let mut policy = util::policy(Profile::Default);
        policy.kubernetes_version = format!("1.{minor}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let (_, outcome) = lint_text(text, &policy);
        let unknown = schema_findings(&outcome).contains(&("unknown-field", 10));
        assert_eq!(unknown, minor < 29, "1.{minor}");
    }
}

/// A schema file in `schemaDirs` that cannot be used is an input error
/// naming the file, once, and the documents are still checked otherwise.
#[test]
fn an_unusable_schema_file_is_an_input_error() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schema-broken");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("schemas")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("schemas/widget_v1.json"), "{not json")
        .unwrap_or_else(|e| panic!("{e}"));
    let policy_path = dir.join("policy.yml");
    std::fs::write(
        &policy_path,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nsettings:\n  schemaDirs: [schemas]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let policy = Policy::from_file(&policy_path).unwrap_or_else(|e| panic!("{e:?}"));
    let text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: b}\n";
    let (loaded, outcome) = lint_text(text, &policy);
    assert_eq!(
        loaded.documents.len(),
        2,
        "kinds with a schema file are read"
    );
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert!(outcome.errors[0].path.ends_with("widget_v1.json"));
    assert!(outcome.errors[0].message.contains("not JSON"));
}
