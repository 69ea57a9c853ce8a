//! The properties the fuzz targets check, one function per target. Compiled
//! into the fuzz targets (`fuzz/`) and into the test binary, which replays
//! every input a fuzzer ever found failing (`testdata/fuzz/<target>/`): a
//! crash found once stays an ordinary test.
//!
//! Each function panics when a property does not hold; it must never panic
//! otherwise, whatever the bytes.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use rollsafe::apply::Safety;
use rollsafe::apply::lint::{Stdin, fix_run};
use rollsafe::deadline::Deadline;
use rollsafe::engine::{self, Outcome};
use rollsafe::policy::{Policy, Profile};
use rollsafe::report::{self, Format, Run};
use rollsafe::source::{Loaded, Loader, SourceFile, parse_documents};
use rollsafe::webhook::admission::ReviewError;
use rollsafe::webhook::{Endpoint, Mode, Mutation, Reviewer};
use serde_json::{Value, json};

/// Read once per process: a fuzzer calls the checks thousands of times.
fn default_policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        Policy::builtin(Profile::Default).unwrap_or_else(|e| panic!("built-in policy: {e:?}"))
    })
}

fn reviewer() -> &'static Reviewer {
    static REVIEWER: OnceLock<Reviewer> = OnceLock::new();
    REVIEWER.get_or_init(|| Reviewer::new(default_policy().clone(), Mode::Enforce, Mutation::All))
}

fn lint_text(name: &str, text: &str, policy: &Policy) -> (Loaded, Outcome) {
    let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
    let mut loaded = Loaded::default();
    Loader::new(&wants)
        .keeping_sources()
        .load_text(name, text.to_owned(), &mut loaded);
    let outcome = engine::evaluate(&loaded.documents, policy);
    (loaded, outcome)
}

/// Bytes → lint → every report format. Every finding and error points
/// inside its file, on character boundaries, and every format renders.
pub fn lint(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let policy = default_policy();
    let (loaded, outcome) = lint_text("fuzz.yaml", text, policy);
    for finding in outcome.findings.iter().chain(&outcome.suppressed) {
        let text = finding.doc.file.text();
        let range = &finding.location.range;
        assert!(
            range.start <= range.end && range.end <= text.len(),
            "{range:?}"
        );
        assert!(
            text.is_char_boundary(range.start) && text.is_char_boundary(range.end),
            "{} at {range:?} splits a character",
            finding.rule.id
        );
        assert!(finding.location.line >= 1 && finding.location.column >= 1);
    }
    let mut errors = loaded.errors.clone();
    errors.extend(outcome.errors.iter().cloned());
    for error in &errors {
        if let (Some(file), Some(range)) = (&error.file, &error.range) {
            let text = file.text();
            assert!(range.end <= text.len(), "{range:?}");
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        }
    }
    let run = Run {
        outcome: &outcome,
        errors: &errors,
        files: loaded.files,
    };
    for format in [
        Format::Human,
        Format::Concise,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Junit,
    ] {
        let mut out = Vec::new();
        let written = match format {
            Format::Human => report::human::render(&run, false, &mut out),
            Format::Concise => {
                report::concise::render(&run, &report::human::Options::plain(false), &mut out)
            }
            Format::Json => report::json::render(&run, &mut out),
            Format::Sarif => report::sarif::render(&run, policy, None, &mut out),
            Format::Github => report::github::render(&run, None, &mut out),
            Format::Junit => report::junit::render(&run, None, None, &mut out),
        };
        assert!(written.is_ok(), "{format:?}: {written:?}");
        if matches!(format, Format::Json | Format::Sarif) {
            let parsed: Result<Value, _> = serde_json::from_slice(&out);
            assert!(parsed.is_ok(), "{format:?} output is not JSON");
        }
    }
}

/// A review the API server could send: `object` under CREATE (or UPDATE of
/// itself).
fn review_of(object: &Value, update: bool) -> Value {
    let text = |pointer: &str| object.pointer(pointer).cloned().unwrap_or(json!(""));
    let mut review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "fuzz-uid", "kind": {"group": "apps", "version": "v1", "kind": text("/kind")},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": text("/metadata/name"), "namespace": "fuzz",
            "operation": if update { "UPDATE" } else { "CREATE" },
            "userInfo": {"username": "fuzz"}, "object": object, "dryRun": false}});
    if update {
        review["request"]["oldObject"] = object.clone();
    }
    review
}

/// The answer to a review body, checked: valid JSON, the request's uid, a
/// patch (from `/mutate` only) that applies to the object. Returns the
/// patched object.
fn answer(
    reviewer: &Reviewer,
    endpoint: Endpoint,
    body: &[u8],
    object: Option<&Value>,
) -> Option<Value> {
    let reviewed = match reviewer.review(endpoint, body, &Deadline::none()) {
        Ok(reviewed) => reviewed,
        Err(ReviewError::Expired(_)) => panic!("a review without a deadline expired"),
        // A malformed body is a 400, as it should be.
        Err(_) => return None,
    };
    let answer: Value =
        serde_json::from_slice(&reviewed.body).unwrap_or_else(|e| panic!("answer: {e}"));
    let sent: Value = serde_json::from_slice(body).unwrap_or_default();
    assert_eq!(
        answer["response"]["uid"], sent["request"]["uid"],
        "uid not echoed"
    );
    assert!(answer["response"]["allowed"].is_boolean());
    let patch = answer["response"].get("patch")?;
    assert_eq!(
        endpoint,
        Endpoint::Mutate,
        "a validating answer carries a patch"
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch.as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("patch is not base64: {e}"));
    let ops: Vec<rollsafe::fix::PatchOp> = serde_json::from_slice::<Vec<Value>>(&bytes)
        .unwrap_or_else(|e| panic!("patch is not JSON: {e}"))
        .into_iter()
        .map(|op| {
            let path = op["path"].as_str().unwrap_or_default().to_owned();
            let value = op["value"].clone();
            match op["op"].as_str() {
                Some("add") => rollsafe::fix::PatchOp::Add { path, value },
                Some("replace") => rollsafe::fix::PatchOp::Replace { path, value },
                other => panic!("a patch may only add or replace, got {other:?}"),
            }
        })
        .collect();
    let mut patched = object?.clone();
    rollsafe::fix::apply(&mut patched, &ops)
        .unwrap_or_else(|e| panic!("the patch does not apply: {e}"));
    Some(patched)
}

/// Bytes → a review. The first byte chooses: the bytes as the body, or the
/// bytes as an object inside a valid AdmissionReview. Every body gets an
/// answer or a clean refusal; the answer echoes the uid; a patch applies,
/// and reviewing the patched object patches nothing more.
pub fn review(bytes: &[u8]) {
    let Some((&mode, rest)) = bytes.split_first() else {
        return;
    };
    let reviewer = reviewer();
    if mode % 2 == 0 {
        for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
            answer(reviewer, endpoint, rest, None);
        }
        return;
    }
    let Ok(object) = serde_json::from_slice::<Value>(rest.trim_ascii_start()) else {
        return;
    };
    if !object.is_object() {
        return;
    }
    let update = mode % 4 == 3;
    let body = serde_json::to_vec(&review_of(&object, update)).unwrap_or_default();
    answer(reviewer, Endpoint::Validate, &body, Some(&object));
    if let Some(patched) = answer(reviewer, Endpoint::Mutate, &body, Some(&object)) {
        let body = serde_json::to_vec(&review_of(&patched, update)).unwrap_or_default();
        let again = answer(reviewer, Endpoint::Mutate, &body, Some(&patched));
        assert!(again.is_none(), "mutating the mutated object patches again");
    }
}

/// Bytes → a policy: read, or refused with errors that name a place.
pub fn policy(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match Policy::from_text("fuzz-policy.yaml", text) {
        Ok(policy) => {
            // A policy read is a policy the engine can run.
            let (_, outcome) = lint_text(
                "x.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a, image: b}]}\n",
                &policy,
            );
            assert!(outcome.objects <= 1);
        }
        Err(errors) => assert!(!errors.is_empty(), "refused without a reason"),
    }
}

/// The documents of `text` as values, and its count of parse errors.
fn documents(text: &str) -> (Vec<Value>, usize) {
    let file = SourceFile::new("x", text.to_owned());
    let (documents, errors) = parse_documents(&file, &|_, _| true);
    (
        documents.into_iter().map(|d| d.value).collect(),
        errors.len(),
    )
}

/// Bytes → `--fix` → the same documents (as many, each of the same kind, as
/// many parse errors), every line no fix had a reason to touch unchanged,
/// and a second `--fix` changes nothing.
pub fn fix_roundtrip(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let policy = default_policy();
    let (loaded, outcome) = lint_text("fuzz.yaml", text, policy);
    let Some(source) = loaded.sources.first().map(Arc::clone) else {
        return;
    };
    let fixes = fix_run(&loaded, outcome, policy, Safety::All, Stdin::LeftAsItIs);
    let fixed = fixes.texts[0].clone();
    if fixed == source.text() {
        return;
    }
    let (before, errors_before) = documents(source.text());
    let (after, errors_after) = documents(&fixed);
    assert_eq!(
        errors_before, errors_after,
        "the fixes changed what parses:\n{fixed}"
    );
    assert_eq!(
        before.len(),
        after.len(),
        "the fixes changed the documents:\n{fixed}"
    );
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(old.get("kind"), new.get("kind"));
        assert_eq!(old.get("metadata"), new.get("metadata"));
        // Fixes add and raise; they never remove what a user wrote.
        for op in rollsafe::fix::diff(old, new) {
            assert!(matches!(
                op,
                rollsafe::fix::PatchOp::Add { .. } | rollsafe::fix::PatchOp::Replace { .. }
            ));
        }
    }
    // Every line that changed lies in a document whose value changed.
    let file = SourceFile::new("x", source.text().to_owned());
    let (parsed, _) = parse_documents(&file, &|_, _| true);
    let changed: Vec<std::ops::Range<usize>> = parsed
        .iter()
        .zip(&after)
        .filter(|(old, new)| old.value != **new)
        .map(|(old, _)| {
            let end = old
                .spans
                .exact("")
                .map_or(old.start, |s| s.value_range().end);
            let line_end = source.text()[end..]
                .find('\n')
                .map_or(source.text().len(), |i| end + i + 1);
            old.start..line_end
        })
        .collect();
    let mut offset = 0;
    for change in similar::TextDiff::from_lines(source.text(), fixed.as_str()).iter_all_changes() {
        let len = change.value().len();
        let at = match change.tag() {
            similar::ChangeTag::Equal => {
                offset += len;
                continue;
            }
            similar::ChangeTag::Delete => offset..offset + len,
            similar::ChangeTag::Insert => offset..offset,
        };
        assert!(
            changed
                .iter()
                .any(|doc| doc.start <= at.start && at.end <= doc.end.max(doc.start)),
            "a line outside the fixed documents changed: {:?}\n{fixed}",
            change.value()
        );
        if change.tag() == similar::ChangeTag::Delete {
            offset += len;
        }
    }
    let (again_loaded, again_outcome) = lint_text("fuzz.yaml", &fixed, policy);
    let again = fix_run(
        &again_loaded,
        again_outcome,
        policy,
        Safety::All,
        Stdin::LeftAsItIs,
    );
    assert_eq!(
        again.texts[0], fixed,
        "a second --fix changes the text again"
    );
}
