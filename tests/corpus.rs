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
