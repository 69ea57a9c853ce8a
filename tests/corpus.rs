//! The linter over real manifests from public projects: it never panics and
//! reads every valid file without an input error.

use std::path::PathBuf;

use rollsafe::policy::Profile;

use crate::util;

/// Files that are invalid on purpose (peer linters' negative fixtures), with
/// why Kubernetes refuses them too: input errors.
const INVALID_ON_PURPOSE: &[(&str, &str)] = &[(
    "kubeconform/fixtures/duplicate_property.yaml",
    "duplicate key",
)];

/// Files with values the API server rejects on purpose: `invalid-field-value`
/// reports them (they were input errors before the schema rules).
const REJECTED_ON_PURPOSE: &[&str] = &[
    "kubeconform/fixtures/invalid.yaml",
    "kubeconform/fixtures/list_invalid.yaml",
    "kubeconform/fixtures/multi_invalid.yaml",
    // An unrendered envsubst template: `port: ${PORT}` is a string.
    "kube-score/parser-testdata/invalid-yaml.yaml",
    // A kube-linter template fixture: ConfigMap data values must be strings.
    "kube-linter/sortedkeys-anchors/configmap-merge-unsorted.yaml",
];

/// What the schema rules find in the real manifests, each checked by hand:
/// (file, line, rule). Anything else they report there is a false positive.
const SCHEMA_FINDINGS_IN_REAL_MANIFESTS: &[(&str, usize, &str)] = &[
    // An apps/v1 Deployment without `spec.selector`: the API server refuses it.
    (
        "ingress-nginx/grafana-deployment.yaml",
        6,
        "invalid-field-value",
    ),
];

fn check_corpus(root: PathBuf) -> usize {
    let files = util::manifests(&root);
    assert!(!files.is_empty(), "{}: no manifests", root.display());
    for profile in [Profile::Default, Profile::Strict] {
        let policy = util::policy(profile);
        let (loaded, outcome) = util::lint(&files, &policy);
        let errors = loaded.errors.iter().chain(&outcome.errors);
        for error in errors {
            let expected = INVALID_ON_PURPOSE
                .iter()
                .find(|(file, _)| error.path.replace('\\', "/").ends_with(file));
            match expected {
                Some((_, why)) => assert!(
                    error.message.contains(why),
                    "{}: expected an error about {why}, got: {}",
                    error.path,
                    error.message
                ),
                None => panic!(
                    "{}: unexpected input error: {} ({:?})",
                    error.path,
                    error.message,
                    error.line_col()
                ),
            }
        }
        for file in REJECTED_ON_PURPOSE {
            let found = |f: &&rollsafe::finding::Finding| {
                f.rule.id == "invalid-field-value"
                    && f.file_name().replace('\\', "/").ends_with(file)
            };
            let present = files
                .iter()
                .any(|p| p.to_string_lossy().replace('\\', "/").ends_with(file));
            assert_eq!(
                outcome.findings.iter().any(|f| found(&f)),
                present,
                "{file}: expected invalid-field-value"
            );
        }
        let real: Vec<(String, usize, &str)> = outcome
            .findings
            .iter()
            .filter(|f| matches!(f.rule.id, "unknown-field" | "invalid-field-value"))
            .map(|f| (f.file_name().replace('\\', "/"), f.location.line, f.rule.id))
            .filter(|(file, _, _)| !file.contains("/peers/"))
            .collect();
        for (file, line, rule) in &real {
            assert!(
                SCHEMA_FINDINGS_IN_REAL_MANIFESTS
                    .iter()
                    .any(|(known, l, r)| file.ends_with(known) && l == line && r == rule),
                "{file}:{line}: {rule} in a real manifest: a true finding to list, or a false positive to fix"
            );
        }
        assert!(outcome.objects > 0);
    }
    files.len()
}

#[test]
fn bundled_corpus_lints_without_input_errors() {
    let count = check_corpus(util::testdata("corpus"));
    assert!(count >= 20, "the bundled corpus holds {count} files");
}

#[test]
fn shared_corpus_lints_without_input_errors() {
    let Some(root) = util::shared("corpus") else {
        eprintln!("../shared/corpus is absent: skipping");
        return;
    };
    check_corpus(root);
}

/// A small deterministic generator, so that a failure reproduces.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

/// Mangled manifests (characters YAML cares about inserted, bytes dropped,
/// lines duplicated) never panic the loader or the engine: each is either
/// read or reported as an input error.
#[test]
fn mangled_manifests_never_panic() {
    let seeds = [
        "kubernetes-examples/cassandra-statefulset.yaml",
        "istio/bookinfo.yaml",
        "knative-serving/activator.yaml",
        "kubernetes-examples/meteor-controller.json",
        "sock-shop/jaeger-list.yaml",
    ];
    let policy = util::policy(Profile::Strict);
    let wants = |api_version: &str, kind: &str| rollsafe::engine::wants(&policy, api_version, kind);
    let loader = rollsafe::source::Loader::new(&wants);
    let specials = [
        "{", "}", "[", "]", ":", "- ", "&a ", "*a", "<<: ", "'", "\"", "\t", "\n", "#", "|", ">",
        "? ", "!!int ", "---\n", "~", "\u{feff}", "é",
    ];
    // `MANGLE_ROUNDS=20000 cargo test --release mangled` searches harder.
    let rounds = std::env::var("MANGLE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let mut rng = Lcg(0x5eed);
    for seed in seeds {
        let original =
            std::fs::read_to_string(util::testdata("corpus").join(seed)).unwrap_or_default();
        assert!(!original.is_empty(), "{seed}");
        for _ in 0..rounds {
            let mut text = original.clone();
            for _ in 0..1 + rng.next() % 4 {
                let mut at = rng.next() % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match rng.next() % 3 {
                    0 => text.insert_str(at, specials[rng.next() % specials.len()]),
                    1 => {
                        let mut end = (at + 1 + rng.next() % 8).min(text.len());
                        while !text.is_char_boundary(end) {
                            end += 1;
                        }
                        text.replace_range(at..end, "");
                    }
                    _ => {
                        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                        let line = text[line_start..line_end].to_owned();
                        text.insert_str(line_start, &format!("{line}\n"));
                    }
                }
            }
            let mut loaded = rollsafe::source::Loaded::default();
            loader.load_text("mangled.yaml", text, &mut loaded);
            let outcome = rollsafe::engine::evaluate(&loaded.documents, &policy);
            for finding in &outcome.findings {
                assert!(finding.location.line >= 1);
            }
        }
    }
}

/// Every report is the same bytes whatever the number of threads: files
/// are read and objects judged in parallel, results put back in input order.
fn same_output_on_any_number_of_threads(root: &str) {
    for format in ["json", "human", "sarif"] {
        let run = |threads: &str| {
            util::run_rollsafe(
                &["lint", "--format", format, "--threads", threads, root],
                None,
                None,
            )
        };
        let one = run("1");
        assert!(!one.stdout.is_empty(), "{format}: no output");
        for threads in ["2", "5"] {
            let many = run(threads);
            assert_eq!(one.status.code(), many.status.code(), "{format}");
            assert!(
                one.stdout == many.stdout && one.stderr == many.stderr,
                "{format}: {threads} threads print other bytes than one thread"
            );
        }
    }
}

/// Every report is the same bytes whether each file's workloads are held
/// until every file is read or judged from the file read again.
fn same_output_when_files_are_read_again(root: &str) {
    for format in ["json", "human", "sarif", "junit"] {
        let run = |reread_above: &str| {
            util::run_rollsafe(
                &[
                    "lint",
                    "--format",
                    format,
                    "--reread-above",
                    reread_above,
                    root,
                ],
                None,
                None,
            )
        };
        let held = run("1GiB");
        let reread = run("0");
        assert!(!held.stdout.is_empty(), "{format}: no output");
        assert_eq!(held.status.code(), reread.status.code(), "{format}");
        assert!(
            held.stdout == reread.stdout && held.stderr == reread.stderr,
            "{format}: reading files again prints other bytes"
        );
    }
}

#[test]
fn bundled_corpus_reports_the_same_bytes_when_files_are_read_again() {
    same_output_when_files_are_read_again("testdata");
}

#[test]
fn shared_corpus_reports_the_same_bytes_when_files_are_read_again() {
    let Some(root) = util::shared("corpus/real") else {
        eprintln!("../shared/corpus is absent: skipping");
        return;
    };
    same_output_when_files_are_read_again(&root.display().to_string());
}

#[test]
fn bundled_corpus_reports_the_same_bytes_on_any_number_of_threads() {
    same_output_on_any_number_of_threads("testdata");
}

#[test]
fn shared_corpus_reports_the_same_bytes_on_any_number_of_threads() {
    let Some(root) = util::shared("corpus/real") else {
        eprintln!("../shared/corpus is absent: skipping");
        return;
    };
    same_output_on_any_number_of_threads(&root.display().to_string());
}

/// A stream longer than one parse part (4 MiB) is parsed and judged part by
/// part: every document gets the findings it gets alone, at its own lines.
#[test]
fn a_long_stream_is_judged_document_by_document() {
    let document = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-NUMBER\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: web-NUMBER}\n  template:\n    metadata:\n      labels: {app: web-NUMBER}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n        ports:\n        - containerPort: 8080\n";
    let lines_per_document = document.lines().count() + 1;
    let count = 4 * 1024 * 1024 / document.len() + 500;
    let stream: String = (0..count)
        .map(|i| format!("---\n{}", document.replace("NUMBER", &i.to_string())))
        .collect();
    assert!(stream.len() > 4 * 1024 * 1024);
    let dir = util::scratch_dir("long-stream");
    util::write(&dir.join("one.yaml"), &document.replace("NUMBER", "0"));
    util::write(&dir.join("stream.yaml"), &stream);
    let findings = |file: &str| -> Vec<(String, u64)> {
        let path = dir.join(file).display().to_string();
        let output = util::run_rollsafe(&["lint", "--format", "json", &path], None, None);
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{file}: {e}"));
        report["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no findings array"))
            .iter()
            .map(|f| {
                let rule = f["rule"].as_str().unwrap_or_default().to_owned();
                (rule, f["line"].as_u64().unwrap_or_default())
            })
            .collect()
    };
    let alone = findings("one.yaml");
    assert!(!alone.is_empty(), "the document has findings alone");
    let mut expected: Vec<(String, u64)> = (0..count)
        .flat_map(|i| {
            let offset = (i * lines_per_document) as u64 + 1;
            alone
                .iter()
                .map(move |(rule, line)| (rule.clone(), line + offset))
        })
        .collect();
    let mut got = findings("stream.yaml");
    expected.sort();
    got.sort();
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "findings differ from each document's alone"
    );
}
