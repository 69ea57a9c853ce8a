//! The real binary: what a user reaches for to narrow, shorten and adopt
//! `rollsafe lint` — selection, formats, statistics, wrapping, policy file
//! discovery, inline suppressions, baselines and `helm template` on stdin.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::{self, BARE_DEPLOYMENT, code, json, stderr, stdout};

fn run(args: &[&str], stdin: Option<&str>, cwd: Option<&Path>) -> Output {
    util::run_rollsafe(args, stdin, cwd)
}

/// `rule@line` of each finding (or suppressed finding) of a JSON report.
fn rules_at(report: &Value, list: &str) -> Vec<String> {
    report[list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| format!("{}@{}", f["rule"].as_str().unwrap_or("?"), f["line"]))
        .collect()
}

#[test]
fn select_and_ignore_take_rules_and_families() {
    let all = json(&run(
        &["lint", "--format", "json", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    ));
    assert_eq!(
        rules_at(&all, "findings"),
        [
            "pdb-missing@5",
            "prestop-hook-missing@11",
            "readiness-probe-missing@11"
        ]
    );
    let only = run(
        &["lint", "--format", "json", "--select", "shutdown", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    );
    assert_eq!(code(&only), 0, "the error is not selected");
    assert_eq!(
        rules_at(&json(&only), "findings"),
        ["prestop-hook-missing@11"]
    );
    let ignored = run(
        &[
            "lint",
            "--format",
            "json",
            "--ignore",
            "probes,pdb-missing",
            "-",
        ],
        Some(BARE_DEPLOYMENT),
        None,
    );
    assert_eq!(
        rules_at(&json(&ignored), "findings"),
        ["prestop-hook-missing@11"]
    );
    let typo = run(
        &["lint", "--select", "readines-probe-missing", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    );
    assert_eq!(code(&typo), 2);
    assert!(
        stderr(&typo).contains("did you mean `readiness-probe-missing`?"),
        "{}",
        stderr(&typo)
    );
    let family = run(
        &["lint", "--ignore", "probe", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    );
    assert_eq!(code(&family), 2);
    assert!(stderr(&family).contains("did you mean `probes`?"));
}

#[test]
fn concise_statistics_and_quiet() {
    let concise = run(
        &["lint", "--format", "concise", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    );
    assert_eq!(code(&concise), 1);
    let text = stdout(&concise);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "three findings and the summary: {text}");
    assert_eq!(
        lines[2],
        "<stdin>:11:11: error[readiness-probe-missing] Deployment/shop/bare: container `app` serves port `8080` but has no readinessProbe"
    );
    assert_eq!(
        lines[3],
        "1 error, 1 warning, 1 info in 1 object from 1 file"
    );

    let statistics = run(&["lint", "--statistics", "-"], Some(BARE_DEPLOYMENT), None);
    assert_eq!(code(&statistics), 1, "statistics keep the exit status");
    assert_eq!(
        stdout(&statistics),
        "1  error    readiness-probe-missing\n1  warning  prestop-hook-missing\n1  info     pdb-missing\n1 error, 1 warning, 1 info in 1 object from 1 file\n"
    );

    let as_json = json(&run(
        &["lint", "--statistics", "--format", "json", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    ));
    assert_eq!(
        as_json[0],
        serde_json::json!({"rule": "readiness-probe-missing", "severity": "error", "count": 1})
    );

    let quiet = run(
        &["lint", "--quiet", "--format", "concise", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    );
    assert_eq!(stdout(&quiet).lines().count(), 3, "{}", stdout(&quiet));
    let clean = run(
        &["lint", "-q", "-"],
        Some("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"),
        None,
    );
    assert_eq!((code(&clean), stdout(&clean).as_str()), (0, ""));
}

#[test]
fn human_output_quotes_each_line_of_an_object_once() {
    let output = run(
        &["lint", "--color", "never", "-"],
        Some(BARE_DEPLOYMENT),
        None,
    );
    let text = stdout(&output);
    assert_eq!(
        text.matches("Deployment/shop/bare").count(),
        1,
        "one heading per object: {text}"
    );
    assert!(
        text.starts_with("× Deployment/shop/bare: 1 error, 1 warning, 1 info  <stdin>\n"),
        "{text}"
    );
    assert_eq!(
        text.matches("│         - name: app\n").count(),
        1,
        "the container's line is quoted once for its two findings: {text}"
    );
    assert!(text.contains("━━━━━━━━━ error[readiness-probe-missing]: container `app` serves port `8080` but has no readinessProbe\n"), "{text}");
    assert!(
        text.contains("help: add `lifecycle.preStop.sleep.seconds: 5`"),
        "{text}"
    );
}

/// Human output of the real corpus: under a third of the lines a finding
/// per diagnostic took (13 lines each), and every finding still there.
#[test]
fn human_output_of_the_corpus_is_short_and_complete() {
    let corpus = util::shared("corpus/real").unwrap_or_else(|| util::testdata("corpus"));
    let corpus = corpus.to_str().unwrap_or_default();
    let report = json(&run(&["lint", "--format", "json", corpus], None, None));
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    assert!(findings > 50, "{findings} findings");
    let human = stdout(&run(&["lint", "--color", "never", corpus], None, None));
    let shown = human
        .lines()
        .filter(|line| {
            ["error[", "warning[", "info["].iter().any(|code| {
                line.contains(&format!("━ {code}")) || line.contains(&format!("│ {code}"))
            })
        })
        .count();
    assert_eq!(shown, findings, "every finding has its line");
    let lines = human.lines().count();
    assert!(
        lines * 3 < findings * 13,
        "{lines} lines for {findings} findings"
    );
}

#[test]
fn text_wraps_at_the_width_columns_gives() {
    let output = util::run_rollsafe_env(
        &["lint", "--color", "never", "-"],
        Some(BARE_DEPLOYMENT),
        &[("COLUMNS", "72")],
    );
    let text = stdout(&output);
    // Quoted YAML lines (a place in the gutter) are never wrapped.
    let quoted = |line: &str| {
        line.split('│')
            .next()
            .is_some_and(|g| !g.trim().is_empty() && line.contains('│'))
    };
    for line in text.lines().filter(|l| !quoted(l)) {
        assert!(line.chars().count() <= 72, "{line:?} is wider than 72");
    }
    // Words are never cut: every backticked value survives whole.
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        joined.contains("`lifecycle.preStop.sleep.seconds: 5`"),
        "{text}"
    );
    assert!(text.lines().count() > 12, "wrapped: {text}");
}

/// `readiness-probe-missing` lowered to a warning: a run it governs exits 0.
const LOWER_READINESS: &str = "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nrules:\n  readiness-probe-missing: warning\n";

#[test]
fn policy_files_are_found_up_to_the_repository_root() {
    let root = util::scratch_dir("discovery");
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap_or_else(|e| panic!("{e}"));
    util::write(&repo.join("k8s/web/app.yaml"), BARE_DEPLOYMENT);
    // Above the repository root: never read.
    util::write(&root.join(".rollsafe.yaml"), "not a policy");
    let plain = run(&["lint", "k8s/web"], None, Some(&repo));
    assert_eq!(code(&plain), 1, "{}", stderr(&plain));

    util::write(&repo.join("k8s/.rollsafe.yaml"), LOWER_READINESS);
    let found = run(
        &["lint", "--color", "never", "k8s/web/app.yaml"],
        None,
        Some(&repo),
    );
    assert_eq!(code(&found), 0, "{}{}", stdout(&found), stderr(&found));
    assert!(
        stdout(&found).contains("; policy `k8s/.rollsafe.yaml`"),
        "{}",
        stdout(&found)
    );
    // Standard input is judged as the file it names.
    let stdin = run(
        &["lint", "--stdin-filename", "k8s/web/app.yaml", "-"],
        Some(BARE_DEPLOYMENT),
        Some(&repo),
    );
    assert_eq!(code(&stdin), 0, "{}", stdout(&stdin));
    let ignored = run(&["lint", "--no-config", "k8s/web"], None, Some(&repo));
    assert_eq!(code(&ignored), 1);
    let profile = run(
        &["lint", "--profile", "default", "k8s/web"],
        None,
        Some(&repo),
    );
    assert_eq!(code(&profile), 1, "an explicit profile wins");
    util::write(
        &repo.join("strict.yaml"),
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: strict\n",
    );
    let explicit = run(
        &[
            "lint",
            "--color",
            "never",
            "--policy",
            "strict.yaml",
            "k8s/web",
        ],
        None,
        Some(&repo),
    );
    assert_eq!(code(&explicit), 1);
    assert!(stdout(&explicit).contains("; policy `strict.yaml`"));

    // Each file is judged under the policy nearest to it.
    util::write(
        &repo.join("other/rollsafe.yaml"),
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nrules:\n  pdb-missing: off\n",
    );
    util::write(&repo.join("other/app.yaml"), BARE_DEPLOYMENT);
    let mixed = run(&["lint", "--format", "json", "."], None, Some(&repo));
    assert_eq!(code(&mixed), 1, "{}{}", stdout(&mixed), stderr(&mixed));
    let report = json(&mixed);
    let found: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {} {}",
                f["file"].as_str().unwrap_or("?"),
                f["rule"].as_str().unwrap_or("?"),
                f["severity"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "k8s/web/app.yaml pdb-missing info",
            "k8s/web/app.yaml prestop-hook-missing warning",
            "k8s/web/app.yaml readiness-probe-missing warning",
            "other/app.yaml prestop-hook-missing warning",
            "other/app.yaml readiness-probe-missing error",
        ]
    );
    let human = run(
        &["lint", "--color", "never", "k8s", "other"],
        None,
        Some(&repo),
    );
    assert!(
        stdout(&human).contains("; policies `k8s/.rollsafe.yaml`, `other/rollsafe.yaml`"),
        "{}",
        stdout(&human)
    );
    let diff = run(&["lint", "--diff", "."], None, Some(&repo));
    assert_eq!(code(&diff), 2);
    assert!(
        stderr(&diff).contains("one policy at a time"),
        "{}",
        stderr(&diff)
    );
}

#[test]
fn inline_comments_suppress_with_their_reason_and_unused_ones_are_reported() {
    let text = "apiVersion: apps/v1
kind: Deployment
metadata: {name: bare, namespace: shop}
spec:
  replicas: 2 # rollsafe: ignore[pdb-missing] the budget lives in the platform repo
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec:
      containers:
        # rollsafe: ignore[readiness-probe-missing, startup-probe-missing]
        - name: app
          image: example/app:1
          ports: [{containerPort: 8080}] # rollsafe: ignore[prestop-hook-mising]
";
    let output = run(&["lint", "--format", "json", "-"], Some(text), None);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    let report = json(&output);
    assert_eq!(
        rules_at(&report, "suppressed"),
        ["pdb-missing@5", "readiness-probe-missing@12"]
    );
    assert_eq!(
        report["suppressed"][0]["reason"],
        "comment `# rollsafe: ignore`: the budget lives in the platform repo"
    );
    assert_eq!(
        rules_at(&report, "findings"),
        [
            "unused-suppression@11",
            "prestop-hook-missing@12",
            "unused-suppression@14"
        ]
    );
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "unused-suppression")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "`# rollsafe: ignore[startup-probe-missing]` silences nothing: `startup-probe-missing` finds nothing on this line or the next",
            "`# rollsafe: ignore[prestop-hook-mising]` names no rule (did you mean `prestop-hook-missing`?)",
        ]
    );
    let quiet = run(
        &[
            "lint",
            "--format",
            "json",
            "--ignore",
            "unused-suppression",
            "-",
        ],
        Some(text),
        None,
    );
    assert_eq!(
        rules_at(&json(&quiet), "findings"),
        ["prestop-hook-missing@12"]
    );

    // A file judged from a second read: its comments still silence.
    let dir = util::scratch_dir("inline-reread");
    util::write(&dir.join("app.yaml"), text);
    let reread = json(&run(
        &[
            "lint",
            "--format",
            "json",
            "--reread-above",
            "100",
            "app.yaml",
        ],
        None,
        Some(&dir),
    ));
    assert_eq!(
        rules_at(&reread, "suppressed"),
        ["pdb-missing@5", "readiness-probe-missing@12"]
    );

    // SARIF gives the result a rule to point at.
    let sarif = json(&run(&["lint", "--format", "sarif", "-"], Some(text), None));
    let sarif_run = &sarif["runs"][0];
    let unused = sarif_run["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["ruleId"] == "unused-suppression")
        .cloned()
        .unwrap_or_default();
    let index = unused["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
    assert_eq!(
        sarif_run["tool"]["driver"]["rules"][index]["id"],
        "unused-suppression"
    );
    assert_eq!(unused["level"], "warning");

    let explain = run(&["explain", "unused-suppression"], None, None);
    assert_eq!(code(&explain), 0);
    assert!(stdout(&explain).contains("## Why it matters"));
}

#[test]
fn baselines_hold_back_known_findings_and_report_stale_ones() {
    let dir = util::scratch_dir("baseline");
    let second = BARE_DEPLOYMENT.replace("bare", "second");
    util::write(
        &dir.join("k8s/app.yaml"),
        &format!("{BARE_DEPLOYMENT}---\n{second}"),
    );
    let written = run(
        &["lint", "--write-baseline", "baseline.json", "k8s"],
        None,
        Some(&dir),
    );
    assert_eq!(code(&written), 0, "{}", stderr(&written));
    assert!(stderr(&written).contains("wrote 6 findings to baseline `baseline.json`"));
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("baseline.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    // The same fingerprints SARIF gives the findings.
    let sarif = json(&run(
        &["lint", "--format", "sarif", "k8s"],
        None,
        Some(&dir),
    ));
    let mut from_sarif: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["partialFingerprints"]["rollsafe/v1"].as_str())
        .collect();
    let mut from_baseline: Vec<&str> = baseline["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["fingerprint"].as_str())
        .collect();
    from_sarif.sort_unstable();
    from_baseline.sort_unstable();
    assert_eq!(from_sarif, from_baseline);

    // Lines moved by an edit above: still the same findings.
    util::write(
        &dir.join("k8s/app.yaml"),
        &format!("# moved\n\n{BARE_DEPLOYMENT}---\n{second}"),
    );
    let held = run(
        &[
            "lint",
            "--format",
            "json",
            "--baseline",
            "baseline.json",
            "k8s",
        ],
        None,
        Some(&dir),
    );
    assert_eq!(code(&held), 0, "{}", stdout(&held));
    let report = json(&held);
    assert_eq!(rules_at(&report, "findings"), Vec::<String>::new());
    assert_eq!(report["summary"]["suppressed"], 6);
    assert_eq!(
        report["suppressed"][0]["reason"],
        "baseline `baseline.json`"
    );

    // A new object fails; the one removed leaves stale entries.
    let third = BARE_DEPLOYMENT.replace("bare", "third");
    util::write(
        &dir.join("k8s/app.yaml"),
        &format!("{BARE_DEPLOYMENT}---\n{third}"),
    );
    let new = run(
        &[
            "lint",
            "--color",
            "never",
            "--baseline",
            "baseline.json",
            "k8s",
        ],
        None,
        Some(&dir),
    );
    assert_eq!(code(&new), 1);
    let text = stdout(&new);
    assert!(text.contains("Deployment/shop/third"), "{text}");
    assert!(!text.contains("Deployment/shop/bare:"), "{text}");
    assert!(text.contains("; 3 stale baseline entries"), "{text}");
    let warning = stderr(&new);
    assert!(
        warning.contains("3 entries of baseline `baseline.json` match no finding"),
        "{warning}"
    );
    assert!(
        warning.contains(
            "k8s/app.yaml: readiness-probe-missing on Deployment/shop/second, container `app`"
        ),
        "{warning}"
    );
}

#[test]
fn helm_template_on_stdin_names_each_template() {
    let rendered = format!(
        "---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata: {{name: bare, namespace: shop}}\nspec: {{selector: {{app: bare}}, ports: [{{port: 80}}]}}\n---\n# Source: shop/templates/deployment.yaml\n{BARE_DEPLOYMENT}"
    );
    let output = run(
        &[
            "lint",
            "--format",
            "concise",
            "--stdin-filename",
            "rendered/shop.yaml",
            "-",
        ],
        Some(&rendered),
        None,
    );
    let text = stdout(&output);
    assert!(
        text.contains("rendered/shop.yaml:19:11: error[readiness-probe-missing] Deployment/shop/bare (shop/templates/deployment.yaml): container `app`"),
        "{text}"
    );
    let report = json(&run(
        &["lint", "--format", "json", "-"],
        Some(&rendered),
        None,
    ));
    let finding = &report["findings"][0];
    assert_eq!(finding["file"], "<stdin>");
    assert_eq!(finding["template"], "shop/templates/deployment.yaml");
    let human = stdout(&run(
        &["lint", "--color", "never", "-"],
        Some(&rendered),
        None,
    ));
    assert!(
        human.starts_with("× Deployment/shop/bare (shop/templates/deployment.yaml): "),
        "{human}"
    );
}
