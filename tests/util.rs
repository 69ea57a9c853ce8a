//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use rollsafe::engine::{self, Outcome};
use rollsafe::policy::{Policy, Profile};
use rollsafe::source::{Loaded, Loader};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(relative: &str) -> PathBuf {
    repo().join("testdata").join(relative)
}

/// `../shared/` beside the repository, when this checkout has one.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = repo().join("..").join("shared").join(relative);
    path.exists().then_some(path)
}

pub fn policy(profile: Profile) -> Policy {
    Policy::builtin(profile).unwrap_or_else(|errors| panic!("built-in policy: {errors:?}"))
}

/// Loads paths the way `rollsafe lint` does and evaluates them.
pub fn lint(paths: &[PathBuf], policy: &Policy) -> (Loaded, Outcome) {
    let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
    let loaded = Loader::new(&wants).load_paths(paths);
    let outcome = engine::evaluate(&loaded.documents, policy);
    (loaded, outcome)
}

/// Files below `dir` with one of the manifest extensions, sorted.
pub fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
