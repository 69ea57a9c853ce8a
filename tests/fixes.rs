//! `lint --fix` and `--diff` on the rule fixtures and on real manifests: the
//! fixed findings are gone, every line no edit touched is byte for byte what
//! it was, and the fixed text reads back as the JSON-patched object (the text
//! edit and the webhook's patch agree).

use std::ops::Range;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use rollsafe::apply::Safety;
use rollsafe::apply::files::edit_files;
use rollsafe::apply::lint::{Stdin, fix_run};
use rollsafe::finding::Finding;
use rollsafe::fix::{self, PatchOp};
use rollsafe::policy::{Policy, Profile};
use rollsafe::source::{Loaded, SourceFile, is_list, parse_documents};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::{rules, util};

/// Byte ranges of the original text an edit for `finding` may rewrite: the
/// node a `replace` (or an `add` over an existing member) overwrites, and a
/// flow mapping that takes a member before its `}`. A member added to a block
/// mapping only inserts lines.
fn touched(finding: &Finding, text: &str) -> Vec<Range<usize>> {
    let Some(fix) = &finding.fix else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for op in &fix.patch {
        let path = op.path();
        if let Some(span) = finding.doc.spans.exact(path) {
            out.push(span.value_range());
            continue;
        }
        let mut parent = path;
        while let Some(cut) = parent.rfind('/') {
            parent = &parent[..cut];
            if let Some(span) = finding.doc.spans.exact(parent) {
                let range = span.value_range();
                if text[range.clone()].starts_with('{') {
                    // The new member goes after the last one, on the line
                    // the parser's range ends on.
                    let line_end = text[range.end..]
                        .find('\n')
                        .map_or(text.len(), |i| range.end + i);
                    out.push(range.start..line_end);
                }
                break;
            }
        }
    }
    out
}

/// Every line of `old` that is not in `new` unchanged overlaps a range an
/// edit may rewrite; and the fixed text keeps the original's line breaks.
fn assert_only_touched_lines_change(name: &str, old: &str, new: &str, touched: &[Range<usize>]) {
    let diff = TextDiff::from_lines(old, new);
    let mut offset = 0;
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => offset += change.value().len(),
            ChangeTag::Delete => {
                let line = offset..offset + change.value().len();
                // A last line without a line break gains one when members
                // are added after it: the same text, now ended.
                let only_ended = line.end == old.len()
                    && !old.ends_with('\n')
                    && new.starts_with(old)
                    && new[old.len()..].starts_with('\n');
                assert!(
                    only_ended
                        || touched
                            .iter()
                            .any(|t| t.start < line.end && line.start < t.end.max(t.start + 1)),
                    "{name}: line {:?} changed but no edit targets it",
                    change.value()
                );
                offset += change.value().len();
            }
            ChangeTag::Insert => {
                assert!(
                    !change.value().contains("\r\n") || old.contains("\r\n"),
                    "{name}: new CRLF line breaks"
                );
            }
        }
    }
}

/// The document of `texts` holding `finding`'s object: its index among the
/// documents of the file and the pointer prefix of the object in it.
fn locate(text: &str, finding: &Finding) -> (usize, String) {
    let file = SourceFile::new("x", text.to_owned());
    let (docs, _) = parse_documents(&file, &|_, _| true);
    let prefix = finding.doc.spans.prefix().to_owned();
    let index = docs
        .iter()
        .position(|d| {
            if prefix.is_empty() {
                d.start == finding.doc.start
                    && !d
                        .value
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(is_list)
            } else {
                d.spans
                    .exact(&prefix)
                    .is_some_and(|s| s.value.0 as usize == finding.doc.start)
            }
        })
        .unwrap_or_else(|| panic!("{}: object not found", finding.file_name()));
    (index, prefix)
}

fn documents(text: &str) -> Vec<Value> {
    let file = SourceFile::new("x", text.to_owned());
    let (docs, errors) = parse_documents(&file, &|_, _| true);
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    docs.into_iter().map(|d| d.value).collect()
}

/// The property: fixing one finding's text gives what `fix::apply` gives
/// the document, and leaves the file's other documents alone.
fn assert_text_fix_equals_patch(loaded: &Loaded, finding: &Finding) {
    let Some(fix) = &finding.fix else {
        return;
    };
    let original = finding.doc.file.text();
    // The document as read: a finding on an object that needed repairs to
    // decode carries the repaired copy.
    let doc = loaded
        .documents
        .iter()
        .find(|d| Arc::ptr_eq(&d.file, &finding.doc.file) && d.start == finding.doc.start)
        .unwrap_or_else(|| panic!("{}: document not found", finding.file_name()));
    let mut value = (*doc.value).clone();
    fix::apply(&mut value, &fix.patch).unwrap_or_else(|e| panic!("{e}"));
    let edited = edit_files(
        &[Arc::clone(&finding.doc.file)],
        std::slice::from_ref(doc),
        &[Arc::new(value)],
    );
    let file = &edited[0];
    assert!(
        file.failed.is_empty(),
        "{}: {} {:?}",
        finding.file_name(),
        finding.rule.id,
        file.failed
    );
    let (index, prefix) = locate(original, finding);
    let mut expected = documents(original);
    let patch: Vec<PatchOp> = fix
        .patch
        .iter()
        .map(|op| match op {
            PatchOp::Add { path, value } => PatchOp::Add {
                path: format!("{prefix}{path}"),
                value: value.clone(),
            },
            PatchOp::Replace { path, value } => PatchOp::Replace {
                path: format!("{prefix}{path}"),
                value: value.clone(),
            },
        })
        .collect();
    fix::apply(&mut expected[index], &patch).unwrap_or_else(|e| panic!("{e}"));
    let got = documents(&file.text);
    assert_eq!(
        got,
        expected,
        "{}: {} at {}: the fixed text does not read as the patched object",
        finding.file_name(),
        finding.rule.id,
        finding.location.line
    );
}

/// Lints `text` as file `name` again and returns the (rule, object,
/// container) of each finding.
fn relint(name: &str, text: &str, policy: &Policy) -> Vec<(String, String, Option<String>)> {
    let wants = |api_version: &str, kind: &str| rollsafe::engine::wants(policy, api_version, kind);
    let loader = rollsafe::source::Loader::new(&wants);
    let mut loaded = rollsafe::source::Loaded::default();
    loader.load_text(name, text.to_owned(), &mut loaded);
    assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors);
    let outcome = rollsafe::engine::evaluate(&loaded.documents, policy);
    assert!(outcome.errors.is_empty(), "{name}: {:?}", outcome.errors);
    outcome
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.id.to_owned(),
                f.object.to_string(),
                f.container.clone(),
            )
        })
        .collect()
}

/// Files past this size get the whole-file checks only: the one-finding
/// property edits the file once for every finding, slow in a debug build.
const PROPERTY_SIZE_LIMIT: usize = 100_000;

/// (rule, object, container) of a finding.
fn key(finding: &Finding) -> (String, String, Option<String>) {
    (
        finding.rule.id.to_owned(),
        finding.object.to_string(),
        finding.container.clone(),
    )
}

/// Fixes every finding of `path` in memory and checks the three promises.
/// Returns how many fixes applied.
fn check_file(path: &Path, policy: &Policy) -> usize {
    let relative = path.strip_prefix(util::repo()).unwrap_or(path).to_owned();
    let (loaded, outcome) = util::lint(&[relative], policy);
    let fixable: Vec<&Finding> = outcome
        .findings
        .iter()
        .filter(|f| f.fix.is_some())
        .collect();
    if fixable.is_empty() {
        return 0;
    }
    for finding in &fixable {
        if finding.doc.file.text().len() <= PROPERTY_SIZE_LIMIT {
            assert_text_fix_equals_patch(&loaded, finding);
        }
    }
    let keys: Vec<_> = fixable.iter().map(|f| key(f)).collect();
    let original = loaded.sources[0].text().to_owned();
    let touched: Vec<Range<usize>> = fixable.iter().flat_map(|f| touched(f, &original)).collect();
    let name = loaded.sources[0].name().to_owned();
    let count = fixable.len();
    let fixes = fix_run(&loaded, outcome, policy, Safety::All, Stdin::Fixed);
    assert!(fixes.failed.is_empty(), "{name}: {:?}", fixes.failed);
    assert!(fixes.settled, "{name}");
    assert!(fixes.fixed_count() >= count, "{name}");
    let fixed = &fixes.texts[0];
    assert_only_touched_lines_change(&name, &original, fixed, &touched);
    let left = relint(&name, fixed, policy);
    for key in &keys {
        assert!(
            !left.contains(key),
            "{name}: {} is still reported after --fix:\n{fixed}",
            key.0
        );
    }
    count
}

#[test]
fn rule_fixtures_fix_in_place() {
    let mut fixed = 0;
    let mut files = 0;
    for path in util::manifests(&util::testdata("rules")) {
        let fixture = rules::read_fixture(&path);
        let n = check_file(&path, &fixture.policy);
        fixed += n;
        files += usize::from(n > 0);
    }
    assert!(files >= 15, "only {files} fixtures have fixes");
    assert!(fixed >= 30, "only {fixed} fixes");
}

/// Real manifests, with the strict policy (every fixable rule on, so every
/// fix is exercised), and again on Kubernetes 1.29,
/// where the fixes write exec `sleep` hooks instead of the `sleep` action
/// (the larger files only once: every edit re-parses the file, slow in a
/// debug build).
#[test]
fn corpus_manifests_fix_in_place() {
    let mut fixed = 0;
    let mut files = 0;
    let mut current = util::policy(Profile::Strict);
    // Its findings would withhold prestop-hook-missing's, and their fixes.
    current.disable("single-replica");
    let mut old = current.clone();
    old.kubernetes_version = "1.29".parse().unwrap_or_else(|e| panic!("{e:?}"));
    for path in util::manifests(&util::testdata("corpus")) {
        let small = std::fs::metadata(&path).is_ok_and(|m| m.len() <= PROPERTY_SIZE_LIMIT as u64);
        for policy in [&current, &old].into_iter().take(if small { 2 } else { 1 }) {
            let n = check_file(&path, policy);
            fixed += n;
            files += usize::from(n > 0);
        }
    }
    assert!(files >= 90, "only {files} corpus files have fixes");
    assert!(fixed >= 180, "only {fixed} fixes");
}

/// The policy flags a fixture's directives stand for.
pub(crate) fn directive_flags(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let directive = |name: &str| {
        text.lines().find_map(|line| {
            line.trim()
                .strip_prefix(&format!("# {name}:"))
                .map(|v| v.trim().to_owned())
        })
    };
    let mut flags = Vec::new();
    if let Some(file) = directive("policy") {
        flags.push("--policy".to_owned());
        flags.push(path.with_file_name(file).display().to_string());
    } else if let Some(profile) = directive("profile") {
        flags.push("--profile".to_owned());
        flags.push(profile);
    }
    if let Some(version) = directive("kubernetes-version") {
        flags.push("--kubernetes-version".to_owned());
        flags.push(version);
    }
    flags
}

fn findings_json(output: &std::process::Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// The binary on copies of the fixtures: `--diff` changes nothing and exits
/// as lint does; `--fix` rewrites the copy, and linting it again reports
/// none of what was fixed.
#[test]
fn the_binary_fixes_copies_of_the_fixtures() {
    let dir = util::scratch_dir("fix-fixtures");
    let mut checked = 0;
    for path in util::manifests(&util::testdata("rules")) {
        let fixture = rules::read_fixture(&path);
        let relative = path.strip_prefix(util::repo()).unwrap_or(&path).to_owned();
        let (_, outcome) = util::lint(&[relative], &fixture.policy);
        let fixed: Vec<(String, String, Option<String>)> = outcome
            .findings
            .iter()
            .filter(|f| f.fix.is_some())
            .map(|f| {
                (
                    f.rule.id.to_owned(),
                    f.object.name.clone(),
                    f.container.clone(),
                )
            })
            .collect();
        if fixed.is_empty() {
            continue;
        }
        checked += 1;
        let name = format!(
            "{}-{}",
            fixture.rule,
            path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        );
        let copy: PathBuf = dir.join(&name);
        let original = std::fs::read_to_string(&path).unwrap_or_default();
        util::write(&copy, &original);
        let flags = directive_flags(&path);
        let run = |extra: &[&str]| {
            let mut args: Vec<&str> = vec!["lint"];
            args.extend(flags.iter().map(String::as_str));
            args.extend_from_slice(extra);
            args.push(&name);
            util::run_rollsafe(&args, None, Some(&dir))
        };

        let lint = run(&[]);
        let diff = run(&["--diff", "--unsafe-fixes"]);
        assert_eq!(diff.status.code(), lint.status.code(), "{name}");
        let patch = String::from_utf8_lossy(&diff.stdout);
        assert!(
            patch.starts_with(&format!("--- a/{name}\n+++ b/{name}\n@@ ")),
            "{patch}"
        );
        assert_eq!(std::fs::read_to_string(&copy).unwrap_or_default(), original);

        let fix = run(&["--fix", "--unsafe-fixes", "--format", "json"]);
        let stderr = String::from_utf8_lossy(&fix.stderr);
        assert!(stderr.starts_with("fixed "), "{name}: {stderr}");
        assert!(!stderr.contains("could not fix"), "{name}: {stderr}");
        let rewritten = std::fs::read_to_string(&copy).unwrap_or_default();
        assert_ne!(rewritten, original, "{name}");
        let after_fix = findings_json(&fix);
        let again = findings_json(&run(&["--format", "json"]));
        assert_eq!(
            after_fix, again,
            "{name}: --fix reports what a new lint does"
        );
        for finding in &again {
            let key = (
                finding["rule"].as_str().unwrap_or_default().to_owned(),
                finding["object"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                finding["container"].as_str().map(str::to_owned),
            );
            assert!(!fixed.contains(&key), "{name}: {key:?} survives --fix");
        }
        let quiet = run(&["--diff", "--unsafe-fixes"]);
        assert!(quiet.stdout.is_empty(), "{name}: a second --diff is empty");
    }
    assert!(checked >= 15, "{checked}");
}

const STOREFRONT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10   # too short
      containers:
        # the web server
        - name: web
          image: gcr.io/distroless/static-debian12:nonroot
          ports: [{containerPort: 8080}]
          env: [{name: SHUTDOWN_TIMEOUT, value: 20s}]
          lifecycle:
            preStop:
              exec:
                command: [\"sh\", \"-c\", \"sleep 5 && kill 1\"]
        - name: api
          image: example/api:1
          ports: [{containerPort: 9090}]
";

#[test]
fn unsafe_fixes_wait_for_the_flag_and_stdin_is_never_written() {
    let dir = util::scratch_dir("fix-cli");
    let file = dir.join("web.yaml");
    util::write(&file, STOREFRONT);
    let output = util::run_rollsafe(&["lint", "--fix", "web.yaml"], None, Some(&dir));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fixed "), "{stderr}");
    assert!(
        stderr.contains(
            "1 more fix is unsafe (prestop-exec-without-shell): apply with `--unsafe-fixes`"
        ),
        "{stderr}"
    );
    let fixed = std::fs::read_to_string(&file).unwrap_or_default();
    // The comments and the untouched lines are kept.
    assert!(fixed.contains("   # too short\n"), "{fixed}");
    assert!(fixed.contains("        # the web server\n"), "{fixed}");
    assert!(fixed.contains("command: [\"sh\", \"-c\", \"sleep 5 && kill 1\"]"));
    let output = util::run_rollsafe(
        &["lint", "--fix", "--unsafe-fixes", "web.yaml"],
        None,
        Some(&dir),
    );
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("fixed 1 finding in 1 file"));
    let fixed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        fixed.contains("            preStop:\n              sleep:\n                seconds: 5\n"),
        "{fixed}"
    );

    let output = util::run_rollsafe(&["lint", "--fix", "-"], Some(STOREFRONT), Some(&dir));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("standard input cannot be fixed in place"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(1));
    let output = util::run_rollsafe(&["lint", "--diff", "-"], Some(STOREFRONT), Some(&dir));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("--- a/<stdin>\n"));

    let output = util::run_rollsafe(&["lint", "--fix", "--diff", "web.yaml"], None, Some(&dir));
    assert_eq!(output.status.code(), Some(2), "--fix and --diff conflict");
}

/// Two containers whose fixes each raise the grace period, and the grace
/// period finding's own raise: one value is written, the largest.
#[test]
fn conflicting_raises_take_the_largest() {
    let text = "apiVersion: apps/v1
kind: Deployment
metadata: {name: two, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: two}}
  template:
    metadata: {labels: {app: two}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: a
          image: example/a:1
          ports: [{containerPort: 8080}]
          env: [{name: SHUTDOWN_TIMEOUT, value: 20s}]
        - name: b
          image: example/b:1
          ports: [{containerPort: 9090}]
          env: [{name: SHUTDOWN_TIMEOUT, value: 40s}]
";
    let policy = util::policy(Profile::Default);
    let wants = |api_version: &str, kind: &str| rollsafe::engine::wants(&policy, api_version, kind);
    let mut loaded = Loaded::default();
    rollsafe::source::Loader::new(&wants)
        .keeping_sources()
        .load_text("two.yaml", text.to_owned(), &mut loaded);
    let outcome = rollsafe::engine::evaluate(&loaded.documents, &policy);
    let raises: Vec<i64> = outcome
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .flat_map(|fix| &fix.patch)
        .filter(|op| op.path().ends_with("/terminationGracePeriodSeconds"))
        .filter_map(|op| op.value().as_i64())
        .collect();
    assert!(raises.len() >= 3, "{raises:?}");
    let largest = raises.iter().copied().max().unwrap_or_default();
    assert!(raises.iter().any(|r| *r < largest), "{raises:?}");
    let fixes = fix_run(&loaded, outcome, &policy, Safety::SafeOnly, Stdin::Fixed);
    assert!(fixes.failed.is_empty(), "{:?}", fixes.failed);
    let fixed = &fixes.texts[0];
    let docs = documents(fixed);
    assert_eq!(
        docs[0].pointer("/spec/template/spec/terminationGracePeriodSeconds"),
        Some(&Value::from(largest))
    );
    assert_eq!(fixed.matches("terminationGracePeriodSeconds").count(), 1);
    assert!(fixed.contains(&format!("      terminationGracePeriodSeconds: {largest}\n")));
}
