//! Fixture-driven rule tests.
//!
//! Every rule has a folder `testdata/rules/<rule-id>/` of `fail-*.yaml` and
//! `pass-*.yaml` manifests. A line the rule must report carries a mark at its
//! end: `# expect: <rule-id>`. For each fixture the test checks that the
//! rule's findings are exactly the marked lines, snapshots their full detail
//! (object, container, line, column, pointer, message, help, fix and the human
//! rendering), and, for every fix, applies it, re-lints, and expects the
//! finding gone, the object still valid and no further fix (the mutating
//! webhook must be idempotent).
//!
//! Directives in comments set the run up: `# profile: strict`,
//! `# kubernetes-version: 1.29`, `# policy: <file beside the fixture>`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use rollsafe::engine;
use rollsafe::finding::Finding;
use rollsafe::fix;
use rollsafe::policy::{Policy, Profile};
use rollsafe::report::{self, Run};
use rollsafe::source::Document;

use crate::util;

pub(crate) struct Fixture {
    pub(crate) rule: String,
    pub(crate) policy: Policy,
    /// (line, rule id) pairs the marks expect.
    pub(crate) expected: BTreeSet<(usize, String)>,
}

pub(crate) fn read_fixture(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rule = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let directive = |name: &str| {
        text.lines().find_map(|line| {
            line.trim()
                .strip_prefix(&format!("# {name}:"))
                .map(|v| v.trim().to_owned())
        })
    };
    let mut policy = match directive("policy") {
        Some(file) => Policy::from_file(&path.with_file_name(file))
            .unwrap_or_else(|e| panic!("{}: policy: {e:?}", path.display())),
        None => match directive("profile").as_deref() {
            Some("strict") => util::policy(Profile::Strict),
            _ => util::policy(Profile::Default),
        },
    };
    if let Some(version) = directive("kubernetes-version") {
        policy.kubernetes_version = version
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let mut expected = BTreeSet::new();
    for (number, line) in text.lines().enumerate() {
        if let Some((_, marks)) = line.split_once("# expect:") {
            for id in marks.split(',').map(str::trim).filter(|id| !id.is_empty()) {
                expected.insert((number + 1, id.to_owned()));
            }
        }
    }
    Fixture {
        rule,
        policy,
        expected,
    }
}

fn describe(findings: &[&Finding], text: &mut String) {
    for f in findings {
        let _ = writeln!(
            text,
            "{} {} at {}:{} {}{}",
            f.rule.id,
            f.severity,
            f.location.line,
            f.location.column,
            f.object,
            f.container
                .as_deref()
                .map(|c| format!(" container={c}"))
                .unwrap_or_default()
        );
        let _ = writeln!(text, "  pointer: {}", f.pointer);
        let _ = writeln!(text, "  message: {}", f.message);
        let _ = writeln!(text, "  help: {}", f.help);
        match &f.fix {
            Some(fix) => {
                let _ = writeln!(text, "  fix ({:?}): {}", fix.safety, fix.title);
                for op in &fix.patch {
                    let _ = writeln!(
                        text,
                        "    {}",
                        serde_json::to_string(op).unwrap_or_default()
                    );
                }
            }
            None => {
                let _ = writeln!(text, "  fix: none");
            }
        }
    }
}

#[test]
fn rule_fixtures() {
    insta::glob!("../testdata/rules", "*/*.yaml", |path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let fixture = read_fixture(path);
        assert!(
            rollsafe::rules::find(&fixture.rule).is_some(),
            "{}: folder does not name a rule",
            path.display()
        );
        // Relative to the repository, so snapshots read the same in any clone.
        let relative = path.strip_prefix(util::repo()).unwrap_or(path).to_owned();
        let (loaded, outcome) = util::lint(&[relative], &fixture.policy);
        assert!(
            loaded.errors.is_empty(),
            "{}: {:?}",
            path.display(),
            loaded.errors
        );
        assert!(
            outcome.errors.is_empty(),
            "{}: {:?}",
            path.display(),
            outcome.errors
        );

        let ours: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.rule.id == fixture.rule)
            .collect();
        let actual: BTreeSet<(usize, String)> = ours
            .iter()
            .map(|f| (f.location.line, f.rule.id.to_owned()))
            .collect();
        let expected: BTreeSet<(usize, String)> = fixture
            .expected
            .iter()
            .filter(|(_, id)| *id == fixture.rule)
            .cloned()
            .collect();
        assert_eq!(
            actual,
            expected,
            "{}: findings (left) differ from `# expect:` marks (right)",
            path.display()
        );
        if name.starts_with("fail-") {
            assert!(
                !expected.is_empty(),
                "{}: a fail fixture needs `# expect:` marks",
                path.display()
            );
        } else {
            assert!(
                name.starts_with("pass-"),
                "{}: fixtures are named fail-* or pass-*",
                path.display()
            );
        }

        let mut snapshot = String::new();
        describe(&ours, &mut snapshot);
        let suppressed: Vec<&Finding> = outcome
            .suppressed
            .iter()
            .filter(|f| f.rule.id == fixture.rule)
            .collect();
        if !suppressed.is_empty() {
            snapshot.push_str("suppressed:\n");
            describe(&suppressed, &mut snapshot);
            for f in &suppressed {
                let _ = writeln!(
                    snapshot,
                    "  reason: {}",
                    f.suppression.as_deref().unwrap_or_default()
                );
            }
        }
        if !ours.is_empty() {
            let only_ours = engine::Outcome {
                findings: ours.iter().map(|f| (*f).clone()).collect(),
                objects: outcome.objects,
                ..engine::Outcome::default()
            };
            let mut human = Vec::new();
            let run = Run {
                outcome: &only_ours,
                errors: &[],
                files: 1,
            };
            report::human::render(&run, false, &mut human).unwrap_or_else(|e| panic!("{e}"));
            snapshot.push('\n');
            snapshot.push_str(&String::from_utf8_lossy(&human));
        }
        insta::assert_snapshot!(snapshot);

        check_fixes(path, &fixture, &loaded.documents, &ours);
    });
}

/// Applies each fix of the rule under test, re-lints the patched documents and
/// expects the finding gone (so no fix is left to apply: the mutating webhook
/// must be idempotent) and the object still valid.
fn check_fixes(path: &Path, fixture: &Fixture, documents: &[Document], findings: &[&Finding]) {
    for finding in findings {
        let Some(fix) = &finding.fix else {
            continue;
        };
        let patched: Vec<Document> = documents
            .iter()
            .map(|doc| {
                if !std::sync::Arc::ptr_eq(&doc.value, &finding.doc.value) {
                    return doc.clone();
                }
                let mut value = (*doc.value).clone();
                fix::apply(&mut value, &fix.patch).unwrap_or_else(|e| {
                    panic!(
                        "{}: fix `{}` does not apply: {e}",
                        path.display(),
                        fix.title
                    )
                });
                Document::detached(finding.doc.file.name(), value)
            })
            .collect();
        let again = engine::evaluate(&patched, &fixture.policy);
        assert!(
            again.errors.is_empty(),
            "{}: fix `{}` breaks the object: {:?}",
            path.display(),
            fix.title,
            again.errors
        );
        let remaining: Vec<&Finding> = again
            .findings
            .iter()
            .filter(|f| {
                f.rule.id == fixture.rule
                    && f.object == finding.object
                    && f.container == finding.container
            })
            .collect();
        assert!(
            remaining.is_empty(),
            "{}: after fix `{}`, the rule still reports: {:?}",
            path.display(),
            fix.title,
            remaining.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
    }
}

/// A VirtualService is judged with the DestinationRules of every file of the
/// run, not only its own.
#[test]
fn routes_are_judged_with_the_destination_rules_of_other_files() {
    let policy = util::policy(Profile::Default);
    let files = [
        util::testdata("routing/virtualservices.yaml"),
        util::testdata("routing/destinationrules.yaml"),
    ];
    let (loaded, outcome) = util::lint(&files, &policy);
    assert!(loaded.errors.is_empty() && outcome.errors.is_empty());
    let found: Vec<(String, usize, &str)> = outcome
        .findings
        .iter()
        .map(|f| (f.object.name.clone(), f.location.line, f.rule.id))
        .collect();
    assert_eq!(
        found,
        [("ratings".to_owned(), 28, "virtualservice-subset-missing")],
        "{:?}",
        outcome
            .findings
            .iter()
            .map(|f| &f.message)
            .collect::<Vec<_>>()
    );
    // Alone, the routes have no DestinationRule to be judged against.
    let (_, alone) = util::lint(&files[..1], &policy);
    assert!(alone.findings.is_empty());
}

/// Objects written without a namespace go wherever each is applied: a
/// Service of another folder says nothing of where a route's backend is
/// missing from, one of the route's own folder does.
#[test]
fn unplaced_backends_are_judged_by_the_services_beside_them() {
    let policy = util::policy(Profile::Default);
    let route = util::testdata("routing/chart/route.yaml");
    let elsewhere = util::testdata("routing/other-app/service.yaml");
    let (_, apart) = util::lint(&[route.clone(), elsewhere.clone()], &policy);
    assert!(apart.findings.is_empty(), "{:?}", apart.findings);
    let beside = util::testdata("routing/chart/service.yaml");
    let (_, together) = util::lint(&[route, beside, elsewhere], &policy);
    let found: Vec<(&str, usize, &str)> = together
        .findings
        .iter()
        .map(|f| (f.object.name.as_str(), f.location.line, f.rule.id))
        .collect();
    assert_eq!(found, [("storefront", 15, "route-backend-missing")]);
}

/// A Service a Rollout names is judged missing for sure where the Rollout's
/// own file defines Services; where they are only in other files of the
/// input, which may not hold them all, it is a warning; with none in sight,
/// nothing is said.
#[test]
fn rollout_services_missing_from_other_files_warn() {
    let policy = util::policy(Profile::Default);
    let rollout = util::testdata("rollouts/app/rollout.yaml");
    let services = util::testdata("rollouts/app/services.yaml");
    let (_, alone) = util::lint(std::slice::from_ref(&rollout), &policy);
    assert!(
        !alone
            .findings
            .iter()
            .any(|f| f.rule.id == "rollout-service-missing"),
        "{:?}",
        alone.findings
    );
    let (_, together) = util::lint(&[rollout, services], &policy);
    let found: Vec<(usize, &str, String)> = together
        .findings
        .iter()
        .filter(|f| f.rule.id == "rollout-service-missing")
        .map(|f| (f.location.line, f.rule.id, f.severity.to_string()))
        .collect();
    assert_eq!(
        found,
        [(14, "rollout-service-missing", "warning".to_owned())]
    );
}
