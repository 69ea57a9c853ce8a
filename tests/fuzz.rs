//! Every input a fuzz target (`fuzz/`) once failed on, replayed through the
//! same checks: `testdata/fuzz/<target>/`. `scripts/fuzz.sh` runs the
//! targets themselves; they stay out of `cargo test`.

use crate::{fuzz_checks, util};

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = util::testdata(&format!("fuzz/{target}"));
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check(&bytes);
        replayed += 1;
    }
    replayed
}

#[test]
fn lint_inputs() {
    replay("lint", fuzz_checks::lint);
}

#[test]
fn review_inputs() {
    assert!(replay("review", fuzz_checks::review) >= 1);
}

#[test]
fn policy_inputs() {
    replay("policy", fuzz_checks::policy);
}

#[test]
fn fix_roundtrip_inputs() {
    replay("fix_roundtrip", fuzz_checks::fix_roundtrip);
}

/// The checks hold on the rule fixtures too: they are what the seeds are.
#[test]
fn checks_hold_on_the_fixtures() {
    for path in util::manifests(&util::testdata("rules")) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        fuzz_checks::lint(&bytes);
        fuzz_checks::fix_roundtrip(&bytes);
    }
    for path in util::manifests(&util::testdata("policies")) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        fuzz_checks::policy(&bytes);
    }
    for name in [
        "deployment-create-mutate.json",
        "statefulset-create-mutate.json",
    ] {
        let path = util::testdata(&format!("admission/{name}"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let recorded: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut object = vec![1u8];
        object.extend(recorded["body"]["request"]["object"].to_string().bytes());
        fuzz_checks::review(&object);
    }
}
