//! The linter over real manifests from public projects: it never panics and
//! reads every valid file without an input error.

use std::path::PathBuf;

use rollsafe::policy::Profile;

use crate::util;

/// Files that are invalid on purpose (peer linters' negative fixtures), with
/// why Kubernetes refuses them too.
const INVALID_ON_PURPOSE: &[(&str, &str)] = &[
    (
        "kubeconform/fixtures/duplicate_property.yaml",
        "duplicate key",
    ),
    ("kubeconform/fixtures/invalid.yaml", "cannot be read as a"),
    (
        "kubeconform/fixtures/list_invalid.yaml",
        "cannot be read as a",
    ),
    (
        "kubeconform/fixtures/multi_invalid.yaml",
        "cannot be read as a",
    ),
    // An unrendered envsubst template: `port: ${PORT}` is a string.
    (
        "kube-score/parser-testdata/invalid-yaml.yaml",
        "cannot be read as a Service",
    ),
    // A kube-linter template fixture: ConfigMap data values must be strings.
    (
        "kube-linter/sortedkeys-anchors/configmap-merge-unsorted.yaml",
        "cannot be read as a ConfigMap",
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
