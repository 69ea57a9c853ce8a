//! The catalog keeps its promises: ids, documentation, fixtures, policies and
//! the product specification agree.

use std::collections::BTreeMap;

use rollsafe::policy::{Profile, SETTING_NAMES};
use rollsafe::rules::{FixAvailability, RULES};
use rollsafe::severity::Severity;

use crate::util;

fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn ids_are_unique_kebab_case_and_match_their_struct() {
    let mut seen = std::collections::BTreeSet::new();
    for rule in RULES {
        let info = rule.info();
        assert!(seen.insert(info.id), "duplicate id {}", info.id);
        assert!(
            info.id.split('-').all(|w| !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
            "{} is not kebab-case",
            info.id
        );
        assert_eq!(
            pascal_case(info.id),
            info.name,
            "struct name of {}",
            info.id
        );
        for deferred in info.defers_to {
            assert!(
                rollsafe::rules::find(deferred).is_some() && *deferred != info.id,
                "{} defers to `{deferred}`, which is not another rule",
                info.id
            );
            assert!(
                info.docs().contains(&format!("`{deferred}`")),
                "{}'s docs do not say it defers to `{deferred}`",
                info.id
            );
        }
    }
}

#[test]
fn docs_have_the_headings_and_match_the_fix_and_settings() {
    for rule in RULES {
        let info = rule.info();
        let docs = info.docs();
        for heading in [
            "## What it does",
            "## Why it matters",
            "## Example",
            "Use instead:",
        ] {
            assert!(docs.contains(heading), "{}: docs lack `{heading}`", info.id);
        }
        assert_eq!(
            docs.contains("## Fix"),
            info.fix != FixAvailability::None,
            "{}: `## Fix` must be documented exactly when the rule can fix",
            info.id
        );
        for setting in info.settings {
            assert!(
                SETTING_NAMES.contains(setting),
                "{}: unknown setting `{setting}`",
                info.id
            );
            assert!(
                docs.contains(&format!("`{setting}`")),
                "{}: setting `{setting}` undocumented",
                info.id
            );
        }
        if !info.settings.is_empty() {
            assert!(
                docs.contains("## Settings"),
                "{}: docs lack `## Settings`",
                info.id
            );
        }
        assert!(!info.summary().is_empty(), "{}: empty summary", info.id);
    }
}

#[test]
fn every_rule_has_failing_and_passing_fixtures() {
    for rule in RULES {
        let id = rule.info().id;
        let dir = util::testdata(&format!("rules/{id}"));
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("fail-")),
            "{id}: no fail-* fixture"
        );
        assert!(
            names.iter().any(|n| n.starts_with("pass-")),
            "{id}: no pass-* fixture"
        );
    }
}

#[test]
fn built_in_policies_name_every_rule() {
    let strict = util::policy(Profile::Strict);
    for rule in RULES {
        assert!(
            strict.severity(rule.info().id).is_some(),
            "{} is off in the strict profile",
            rule.info().id
        );
    }
    let text =
        std::fs::read_to_string(util::repo().join("policies/default.yaml")).unwrap_or_default();
    let listed = text
        .lines()
        .skip_while(|l| !l.starts_with("rules:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .count();
    assert_eq!(
        listed,
        RULES.len(),
        "policies/default.yaml lists every rule once"
    );
}

/// `| \`id\` | default / strict | … |` rows of the rule table in PRODUCT.md.
fn specified_severities(product: &str) -> BTreeMap<String, (Severity, Severity)> {
    let parse = |s: &str| match s.trim() {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    };
    product
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let id = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let (default, strict) = cells.get(2)?.split_once('/')?;
            Some((id.to_owned(), (parse(default)?, parse(strict)?)))
        })
        .collect()
}

/// Levels changed since PRODUCT.md's rule table was written, with why; the
/// README's rule table shows them.
const AMENDED: &[(&str, Option<Severity>, Option<Severity>)] = &[
    // Taste on most workloads and meaningless under `Recreate` (#11).
    ("min-ready-seconds-zero", None, Some(Severity::Warning)),
    // An app that exits when it fails needs no liveness probe (#11).
    ("liveness-probe-missing", None, Some(Severity::Warning)),
    // Says what rollsafe cannot see, not what is wrong (#11).
    ("shutdown-timeout-unknown", None, Some(Severity::Warning)),
    // A rollout that cannot place its surge pod hangs rather than drops
    // requests, and only on as many nodes as replicas (#11).
    (
        "rollout-anti-affinity-deadlock",
        Some(Severity::Warning),
        Some(Severity::Error),
    ),
    // Argo Rollouts (#16): a share of traffic unlike the plan widens a bad
    // canary's reach but drops nothing; the others stop a release or drop
    // requests at every one.
    (
        "canary-weight-inexact",
        Some(Severity::Warning),
        Some(Severity::Error),
    ),
    (
        "rollout-service-missing",
        Some(Severity::Error),
        Some(Severity::Error),
    ),
    (
        "rollout-service-selects-no-pods",
        Some(Severity::Error),
        Some(Severity::Error),
    ),
    (
        "scale-down-delay-too-short",
        Some(Severity::Error),
        Some(Severity::Error),
    ),
    // Weighted routes, added after the table: a split that leaves no
    // backend fails every request it matches, as does what Istio rejects.
    (
        "route-weights-all-zero",
        Some(Severity::Error),
        Some(Severity::Error),
    ),
    // A missing Service may be one the input leaves out.
    (
        "route-backend-missing",
        Some(Severity::Warning),
        Some(Severity::Error),
    ),
    (
        "virtualservice-weights-invalid",
        Some(Severity::Error),
        Some(Severity::Error),
    ),
    // Capped at warning where no DestinationRule for the host is in sight.
    (
        "virtualservice-subset-missing",
        Some(Severity::Error),
        Some(Severity::Error),
    ),
];

#[test]
fn severities_match_the_specification() {
    let Some(spec) = util::shared("spec/PRODUCT.md") else {
        eprintln!("../shared/spec/PRODUCT.md is absent: skipping");
        return;
    };
    let product = std::fs::read_to_string(spec).unwrap_or_default();
    let specified = specified_severities(&product);
    // Rules added since are in AMENDED; the rest must all parse.
    assert!(
        specified.len() + AMENDED.len() >= RULES.len(),
        "the rule table did not parse"
    );
    let (default, strict) = (
        util::policy(Profile::Default),
        util::policy(Profile::Strict),
    );
    for rule in RULES {
        let id = rule.info().id;
        let (want_default, want_strict) = match AMENDED.iter().find(|(a, ..)| *a == id) {
            Some(&(_, default, strict)) => (default, strict),
            None => match specified.get(id) {
                Some(&(default, strict)) => (Some(default), Some(strict)),
                None => panic!("{id} is not in PRODUCT.md's rule table"),
            },
        };
        assert_eq!(
            default.severity(id),
            want_default,
            "{id} in the default profile"
        );
        assert_eq!(
            strict.severity(id),
            want_strict,
            "{id} in the strict profile"
        );
    }
}

fn rule_table() -> String {
    let (default, strict) = (
        util::policy(Profile::Default),
        util::policy(Profile::Strict),
    );
    let level = |p: &rollsafe::policy::Policy, id: &str| {
        p.severity(id).map_or("off".to_owned(), |s| s.to_string())
    };
    let mut table =
        String::from("| rule | default | strict | fix | what it checks |\n|---|---|---|---|---|\n");
    for rule in RULES {
        let info = rule.info();
        let fix = match info.fix {
            FixAvailability::None => "–",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::Always => "yes",
        };
        table.push_str(&format!(
            "| `{}` | {} | {} | {fix} | {} |\n",
            info.id,
            level(&default, info.id),
            level(&strict, info.id),
            info.summary().replace('|', "\\|")
        ));
    }
    table
}

/// The README's rule table is generated from the rules themselves; rerun with
/// `UPDATE_README=1 cargo test readme` after changing a rule.
#[test]
fn readme_rule_table_is_current() {
    let path = util::repo().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap_or_default();
    let (start, end) = ("<!-- rules:start -->\n", "<!-- rules:end -->");
    let (Some(from), Some(to)) = (readme.find(start), readme.find(end)) else {
        panic!("README.md lacks the rules markers");
    };
    let current = &readme[from + start.len()..to];
    let wanted = rule_table();
    if current != wanted {
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{wanted}{}", &readme[..from + start.len()], &readme[to..]);
            std::fs::write(&path, updated).unwrap_or_else(|e| panic!("{e}"));
        } else {
            panic!("README.md's rule table is stale: run `UPDATE_README=1 cargo test readme`");
        }
    }
}

/// `rollsafe rules` fits 100 columns, and loses no word of a summary to it.
#[test]
fn rules_rows_fit_100_columns() {
    let output = util::run_rollsafe(&["rules"], None, None);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    let summary_column = text.lines().next().and_then(|h| h.find("SUMMARY"));
    let summary_column = summary_column.unwrap_or_else(|| panic!("no header: {text}"));
    // Each rule's row, then its summary's continuation lines.
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    let mut current = String::new();
    for line in text.lines().skip(1) {
        let (head, summary) = line.split_at(summary_column.min(line.len()));
        if let Some(id) = head.split_whitespace().next() {
            current = id.to_owned();
        }
        let entry = rows.entry(current.clone()).or_default();
        if !entry.is_empty() {
            entry.push(' ');
        }
        entry.push_str(summary.trim());
    }
    assert_eq!(rows.len(), RULES.len());
    for rule in RULES {
        let info = rule.info();
        let summary = info
            .summary()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(rows.get(info.id), Some(&summary), "{}", info.id);
    }
}

fn rule_reference() -> String {
    let mut page = Vec::new();
    rollsafe::report::catalog::render_reference(
        &util::policy(Profile::Default),
        &util::policy(Profile::Strict),
        &mut page,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(page).unwrap_or_else(|e| panic!("{e}"))
}

/// docs/rules.md, where SARIF's `helpUri` and the README point, is generated
/// from the rules; rerun with `UPDATE_DOCS=1 cargo test rule_reference` after
/// changing a rule.
#[test]
fn rule_reference_page_is_current() {
    let path = util::repo().join("docs/rules.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    let wanted = rule_reference();
    if current != wanted {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &wanted).unwrap_or_else(|e| panic!("{e}"));
        } else {
            panic!("docs/rules.md is stale: run `UPDATE_DOCS=1 cargo test rule_reference`");
        }
    }
    // Every rule has its section, and the examples' YAML comments are not
    // taken for headings.
    let headings: Vec<&str> = wanted
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .collect();
    let ids: Vec<&str> = RULES.iter().map(|r| r.info().id).collect();
    assert_eq!(headings, ids);
}

/// Each SARIF rule links to its section of docs/rules.md at this version's
/// tag, and the section is there.
#[test]
fn sarif_rules_link_to_their_documentation() {
    let output = util::run_rollsafe(
        &[
            "lint",
            "--format",
            "sarif",
            "testdata/examples/catalog.yaml",
        ],
        None,
        None,
    );
    let log: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rules.len(), RULES.len());
    let reference = rule_reference();
    for rule in rules {
        let id = rule["id"].as_str().unwrap_or_default();
        let uri = rule["helpUri"].as_str().unwrap_or_default();
        assert_eq!(
            uri,
            format!(
                "https://github.com/rollsafe/rollsafe/blob/v{}/docs/rules.md#{id}",
                env!("CARGO_PKG_VERSION")
            )
        );
        // GitHub's anchor of `## id` is the id itself (lower case, dashes).
        assert!(reference.contains(&format!("\n## {id}\n")), "{id}");
    }
}

/// A duration setting written wrong is named, with what to write, in words
/// rather than the JSON Schema's.
#[test]
fn policy_duration_errors_say_how_to_write_one() {
    let dir = util::scratch_dir("catalog/durations");
    let policy = dir.join("policy.yaml");
    util::write(
        &policy,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nsettings:\n  minDrainDelay: 5 seconds\n  graceMargin: -3\n",
    );
    let policy = policy.to_string_lossy().into_owned();
    let output = util::run_rollsafe(
        &[
            "lint",
            "--color",
            "never",
            "--policy",
            &policy,
            "testdata/examples/catalog.yaml",
        ],
        None,
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "invalid policy: `minDrainDelay: 5 seconds` is not a duration",
        "write `minDrainDelay: 5s` (a Go duration such as `5s`, `1m30s` or `500ms`, or a whole number of seconds)",
        "invalid policy: `graceMargin: -3`: a duration cannot be negative",
        "policy.yaml:5:18",
    ] {
        assert!(stderr.contains(expected), "`{expected}` not in:\n{stderr}");
    }
    for jargon in ["anyOf", "not valid under any of the schemas"] {
        assert!(!stderr.contains(jargon), "{stderr}");
    }
}
