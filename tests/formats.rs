//! The CI formats: SARIF (validated against the SARIF 2.1.0 schema), GitHub
//! workflow commands (escaping) and JUnit XML (well-formed, counted).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{self, stdout};

fn sarif(args: &[&str], cwd: Option<&Path>) -> Value {
    let mut all = vec!["lint", "--format", "sarif"];
    all.extend_from_slice(args);
    let output = util::run_rollsafe(&all, None, cwd);
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&output)))
}

fn results(log: &Value) -> Vec<Value> {
    log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

const BROKEN: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [\n";

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let schema_text = std::fs::read_to_string(util::testdata("sarif/sarif-2.1.0-rtm.5.json"))
        .unwrap_or_else(|e| panic!("schema: {e}"));
    // The schema's `language` pattern ends in a stray `]`, a literal in the
    // ECMA-262 regexes it was written for, a syntax error for Rust's: the
    // same pattern with the `]` escaped.
    let schema_text = schema_text.replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#,
    );
    let schema: Value = serde_json::from_str(&schema_text).unwrap_or_else(|e| panic!("{e}"));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));

    let dir = util::scratch_dir("sarif-valid");
    let broken = dir.join("broken.yaml");
    util::write(&broken, BROKEN);
    let log = sarif(
        &[
            "testdata/examples",
            "testdata/rules",
            broken.to_str().unwrap_or_default(),
        ],
        None,
    );
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Standard input has no URI: the artifact is described instead.
    let output = util::run_rollsafe(
        &["lint", "--format", "sarif", "-"],
        Some(&WEB.replace("name: web\n", "name: piped\n")),
        None,
    );
    let piped: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = validator
        .iter_errors(&piped)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        piped["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["description"]
            ["text"],
        "standard input"
    );

    // One rule per rule of the catalog, in catalog order.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let catalog: Vec<&str> = rollsafe::rules::RULES.iter().map(|r| r.info().id).collect();
    assert_eq!(ids, catalog);
    for rule in &rules {
        for field in ["name", "shortDescription", "fullDescription", "help"] {
            assert!(!rule[field].is_null(), "{}: no {field}", rule["id"]);
        }
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .is_some_and(|h| h.contains("## Why it matters")),
            "{}",
            rule["id"]
        );
    }

    // Every result sits where the JSON report puts the finding: its field.
    let report = util::run_rollsafe(
        &[
            "lint",
            "--format",
            "json",
            "testdata/examples",
            "testdata/rules",
        ],
        None,
        None,
    );
    let report: Value = serde_json::from_slice(&report.stdout).unwrap_or_default();
    let results = results(&log);
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let suppressed = report["suppressed"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), findings.len() + suppressed.len());
    for (result, finding) in results.iter().zip(findings.iter().chain(&suppressed)) {
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(result["ruleId"], finding["rule"]);
        assert_eq!(location["region"]["startLine"], finding["line"]);
        assert_eq!(location["region"]["startColumn"], finding["column"]);
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(
            location["artifactLocation"]["uri"].as_str(),
            finding["file"].as_str()
        );
        let index = result["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(rules.get(index).map(|r| &r["id"]), Some(&result["ruleId"]));
    }
    assert!(
        results
            .iter()
            .filter(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"] == 1)
            .count()
            * 10
            < results.len(),
        "most findings are not on line 1"
    );

    // The input error is a notification of the invocation, at its line.
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notification = &invocation["toolExecutionNotifications"][0];
    let location = &notification["locations"][0]["physicalLocation"];
    // The unclosed `[` is found where the file ends.
    assert_eq!(location["region"]["startLine"], 5);
    // Relative to the working directory (with `%SRCROOT%`) when the file is
    // below it, as when the target directory is inside the checkout; else an
    // absolute `file:` URI.
    let artifact = &location["artifactLocation"];
    let uri = artifact["uri"].as_str().unwrap_or_default();
    assert!(uri.ends_with("/broken.yaml"), "{location}");
    assert!(
        uri.starts_with("file:///") || artifact["uriBaseId"] == "%SRCROOT%",
        "{location}"
    );
}

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    rollsafe.dev/ignore: single-replica
    rollsafe.dev/ignore-reason: canary, one pod on purpose
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: app
          image: example/web:1
          ports: [{containerPort: 8080}]
          env: [{name: SHUTDOWN_TIMEOUT, value: 20s}]
";

fn fingerprints(log: &Value) -> BTreeMap<String, (String, u64)> {
    results(log)
        .iter()
        .map(|r| {
            (
                r["partialFingerprints"]["rollsafe/v1"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                (
                    r["ruleId"].as_str().unwrap_or_default().to_owned(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap_or_default(),
                ),
            )
        })
        .collect()
}

#[test]
fn sarif_fingerprints_survive_unrelated_edits() {
    let dir = util::scratch_dir("sarif-fingerprints");
    let file = dir.join("deploy/web.yaml");
    util::write(&file, WEB);
    let before = fingerprints(&sarif(&["deploy"], Some(&dir)));
    assert!(before.len() >= 3, "{before:?}");
    assert_eq!(
        before.len(),
        results(&sarif(&["deploy"], Some(&dir))).len(),
        "fingerprints are unique"
    );

    // Comments and a label above every finding move them down the file.
    let edited = WEB
        .replacen(
            "apiVersion",
            "# Owned by the web team.\n# Reviewed 2026-11.\napiVersion",
            1,
        )
        .replace(
            "  namespace: shop\n",
            "  namespace: shop\n  labels:\n    team: web\n",
        );
    util::write(&file, &edited);
    let after = fingerprints(&sarif(&["deploy"], Some(&dir)));
    let keys = |m: &BTreeMap<String, (String, u64)>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&before), keys(&after));
    for (key, (rule, line)) in &before {
        let (rule_after, line_after) = &after[key];
        assert_eq!(rule, rule_after);
        assert!(line_after > line, "{rule}: line {line} → {line_after}");
    }

    // A related edit, another container name, is another finding.
    util::write(&file, &WEB.replace("- name: app", "- name: api"));
    let renamed = fingerprints(&sarif(&["deploy"], Some(&dir)));
    let containers = results(&sarif(&["deploy"], Some(&dir)))
        .iter()
        .filter(|r| !r["properties"]["container"].is_null())
        .count();
    assert!(containers > 0);
    let common = renamed.keys().filter(|k| before.contains_key(*k)).count();
    assert_eq!(common, renamed.len() - containers);
}

#[test]
fn sarif_suppressions_name_their_kind_and_reason() {
    let dir = util::scratch_dir("sarif-suppressions");
    util::write(&dir.join("web.yaml"), WEB);
    util::write(
        &dir.join("policy.yaml"),
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nexemptions:\n  - names: [web]\n    rules: [prestop-hook-missing]\n    reason: rolled by hand\n",
    );
    let log = sarif(&["--policy", "policy.yaml", "web.yaml"], Some(&dir));
    let suppressed: BTreeMap<String, Value> = results(&log)
        .into_iter()
        .filter(|r| r.get("suppressions").is_some())
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or_default().to_owned(),
                r["suppressions"][0].clone(),
            )
        })
        .collect();
    assert_eq!(suppressed["single-replica"]["kind"], "inSource");
    assert_eq!(
        suppressed["single-replica"]["justification"],
        "canary, one pod on purpose"
    );
    assert_eq!(suppressed["prestop-hook-missing"]["kind"], "external");
    assert_eq!(
        suppressed["prestop-hook-missing"]["justification"],
        "rolled by hand"
    );
}

/// What the runner makes of a workflow command: name, properties, message.
fn parse_command(line: &str) -> (String, BTreeMap<String, String>, String) {
    let unescape = |s: &str| {
        s.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let rest = line
        .strip_prefix("::")
        .unwrap_or_else(|| panic!("not a command: {line}"));
    let (head, message) = rest
        .split_once("::")
        .unwrap_or_else(|| panic!("no message: {line}"));
    let (name, properties) = head.split_once(' ').unwrap_or((head, ""));
    let properties = properties
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (key, value) = p.split_once('=').unwrap_or((p, ""));
            (key.to_owned(), unescape(value))
        })
        .collect();
    (name.to_owned(), properties, unescape(message))
}

#[test]
fn github_commands_are_escaped_and_placed() {
    let dir = util::scratch_dir("github");
    // A file name with the characters a property must escape.
    let name = "odd, name: 100%.yaml";
    util::write(
        &dir.join(name),
        &WEB.replace("rollsafe.dev/ignore: single-replica", "note: x"),
    );
    let output = util::run_rollsafe(&["lint", "--format", "github", name], None, Some(&dir));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let (summary, commands) = lines.split_last().unwrap_or_else(|| panic!("no output"));
    assert!(summary.starts_with("rollsafe: "), "{summary}");
    assert!(!commands.is_empty());
    for line in commands {
        assert!(!line.contains('\r'));
        let (command, properties, message) = parse_command(line);
        assert!(["error", "warning", "notice"].contains(&command.as_str()));
        assert_eq!(properties["file"], name, "{line}");
        assert!(properties["line"].parse::<usize>().is_ok_and(|l| l > 1));
        assert!(properties.contains_key("title"));
        assert!(message.contains("Deployment/shop/web: "));
        assert!(message.contains("\nhelp: "), "{message:?}");
    }
    let grace = commands
        .iter()
        .map(|l| parse_command(l))
        .find(|(_, p, _)| p["title"] == "grace-period-too-short")
        .unwrap_or_else(|| panic!("no grace-period-too-short in {text}"));
    assert_eq!(grace.0, "error");
    assert_eq!(grace.1["line"], "14");
    assert_eq!(grace.1["col"], "7");
    assert_eq!(grace.1["endLine"], "14");
    assert_eq!(
        grace.1["endColumn"],
        (7 + "terminationGracePeriodSeconds".len() - 1).to_string()
    );
}

/// A small XML reader for the tests: well-formedness (nesting, quoting,
/// entities, one root) and the element tree.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for child in &self.children {
            child.all(name, out);
        }
    }

    fn count(&self, name: &str) -> usize {
        let mut out = Vec::new();
        self.all(name, &mut out);
        out.len()
    }

    fn number(&self, attribute: &str) -> usize {
        self.attributes
            .get(attribute)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("<{}> has no number {attribute}", self.name))
    }
}

fn unescape_xml(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .ok_or_else(|| format!("unterminated entity in {text:?}"))?;
        let entity = &rest[at + 1..at + end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => entity
                .strip_prefix('#')
                .and_then(|n| n.parse::<u32>().ok())
                .and_then(char::from_u32)
                .ok_or_else(|| format!("unknown entity &{entity};"))?,
        };
        out.push(c);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_xml(text: &str) -> Result<Element, String> {
    let body = text
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .ok_or("no XML declaration")?;
    let is_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || (i > 0 && (c.is_ascii_digit() || c == '-'))
            })
    };
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut rest = body;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            if !rest.trim().is_empty() && stack.len() == 1 {
                return Err("text outside the root".into());
            }
            if let Some(top) = stack.last_mut() {
                top.text.push_str(&unescape_xml(rest)?);
            }
            break;
        };
        let text = &rest[..open];
        if text.contains('>') {
            return Err(format!("raw `>` in text {text:?}"));
        }
        if stack.len() == 1 && !text.trim().is_empty() {
            return Err("text outside the root".into());
        }
        if let Some(top) = stack.last_mut() {
            top.text.push_str(&unescape_xml(text)?);
        }
        let close = rest[open..].find('>').ok_or("unterminated tag")? + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let element = stack.pop().ok_or("unbalanced")?;
            if element.name != name {
                return Err(format!("</{name}> closes <{}>", element.name));
            }
            stack.last_mut().ok_or("unbalanced")?.children.push(element);
            continue;
        }
        let (tag, self_closing) = match tag.strip_suffix('/') {
            Some(tag) => (tag, true),
            None => (tag, false),
        };
        let (name, mut attributes) = tag.split_once(' ').unwrap_or((tag, ""));
        if !is_name(name) {
            return Err(format!("bad element name {name:?}"));
        }
        let mut element = Element {
            name: name.to_owned(),
            ..Element::default()
        };
        loop {
            attributes = attributes.trim_start();
            if attributes.is_empty() {
                break;
            }
            let (key, value) = attributes.split_once("=\"").ok_or("attribute not quoted")?;
            if !is_name(key) {
                return Err(format!("bad attribute name {key:?}"));
            }
            let end = value.find('"').ok_or("unterminated attribute")?;
            let raw = &value[..end];
            if raw.contains('<') {
                return Err(format!("raw `<` in attribute {raw:?}"));
            }
            if element
                .attributes
                .insert(key.to_owned(), unescape_xml(raw)?)
                .is_some()
            {
                return Err(format!("duplicate attribute {key}"));
            }
            attributes = &value[end + 1..];
        }
        if self_closing {
            stack.last_mut().ok_or("unbalanced")?.children.push(element);
        } else {
            stack.push(element);
        }
    }
    let mut document = stack.pop().ok_or("unbalanced")?;
    if !stack.is_empty() {
        return Err("unclosed elements".into());
    }
    if document.children.len() != 1 {
        return Err("not exactly one root element".into());
    }
    document.children.pop().ok_or_else(|| "no root".into())
}

#[test]
fn the_xml_checker_refuses_broken_xml() {
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    for bad in [
        "<a><b></a></b>",
        "<a x=1/>",
        "<a>&nope;</a>",
        "<a>x < y</a>",
        "<a/><b/>",
        "<a x=\"1\" x=\"2\"/>",
    ] {
        assert!(parse_xml(&format!("{head}{bad}")).is_err(), "{bad}");
    }
    let ok = parse_xml(&format!("{head}<a x=\"&lt;&#10;\"><b>t &amp; u</b></a>"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.attributes["x"], "<\n");
    assert_eq!(ok.children[0].text, "t & u");
}

#[test]
fn junit_is_well_formed_and_counts_objects() {
    let dir = util::scratch_dir("junit");
    util::write(
        &dir.join("deploy/web.yaml"),
        &WEB.replace("name: web\n", "name: web<&>\"'\n"),
    );
    util::write(&dir.join("deploy/broken.yaml"), BROKEN);
    util::write(
        &dir.join("deploy/fine.yaml"),
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\nspec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: web}}\n",
    );
    util::write(&dir.join("deploy/values.yaml"), "replicas: 3\n");
    let output = util::run_rollsafe(&["lint", "--format", "junit", "deploy"], None, Some(&dir));
    assert_eq!(output.status.code(), Some(2), "an input error");
    let text = stdout(&output);
    let root = parse_xml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(root.name, "testsuites");

    let suites: BTreeMap<String, &Element> = root
        .children
        .iter()
        .map(|s| (s.attributes["name"].clone(), s))
        .collect();
    assert_eq!(
        suites.keys().cloned().collect::<Vec<_>>(),
        ["deploy/broken.yaml", "deploy/fine.yaml", "deploy/web.yaml"],
        "one suite per file with objects or errors"
    );
    for suite in suites.values() {
        assert_eq!(suite.number("tests"), suite.count("testcase"));
        assert_eq!(suite.number("failures"), suite.count("failure"));
        assert_eq!(suite.number("errors"), suite.count("error"));
        assert_eq!(suite.number("skipped"), suite.count("skipped"));
    }
    for total in ["tests", "failures", "errors", "skipped"] {
        let sum: usize = suites.values().map(|s| s.number(total)).sum();
        assert_eq!(root.number(total), sum, "{total}");
    }

    let web = suites["deploy/web.yaml"];
    let case = &web.children[0];
    assert_eq!(case.attributes["name"], "Deployment/shop/web<&>\"'");
    assert_eq!(case.attributes["line"], "1");
    let failure = &case.children[0];
    assert_eq!(failure.name, "failure");
    // Errors fail the case, one <failure> naming them all; warnings and
    // infos and the suppressed finding are notes in <system-out>.
    assert!(failure.attributes["message"].contains("grace-period-too-short"));
    assert!(
        failure
            .text
            .contains("error[grace-period-too-short] deploy/web.yaml:14:7")
    );
    assert!(!failure.text.contains("warning["));
    let notes = &case.children[1];
    assert_eq!(notes.name, "system-out");
    assert!(notes.text.contains("warning[prestop-hook-missing]"));
    assert!(notes.text.contains("suppressed: annotation"));

    let fine = suites["deploy/fine.yaml"];
    assert_eq!(fine.number("tests"), 1);
    assert_eq!(fine.number("failures"), 0);
    let broken = suites["deploy/broken.yaml"];
    assert_eq!(broken.number("errors"), 1);
    assert!(
        broken.children[0].attributes["name"].starts_with("input error at "),
        "{:?}",
        broken.children[0].attributes
    );

    // `--fail-on warning` fails the case on its warnings too; an object whose
    // only findings are suppressed is skipped.
    util::write(&dir.join("deploy/broken.yaml"), "");
    let output = util::run_rollsafe(
        &[
            "lint",
            "--format",
            "junit",
            "--fail-on",
            "warning",
            "deploy",
        ],
        None,
        Some(&dir),
    );
    let root = parse_xml(&stdout(&output)).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    root.all("failure", &mut failures);
    assert!(failures[0].text.contains("warning[prestop-hook-missing]"));

    util::write(
        &dir.join("deploy/fine.yaml"),
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: shop\n  annotations: {rollsafe.dev/ignore: pdb-blocks-eviction}\nspec:\n  maxUnavailable: 0\n  selector: {matchLabels: {app: web}}\n",
    );
    let output = util::run_rollsafe(&["lint", "--format", "junit", "deploy"], None, Some(&dir));
    let root = parse_xml(&stdout(&output)).unwrap_or_else(|e| panic!("{e}"));
    let mut skipped = Vec::new();
    root.all("skipped", &mut skipped);
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].attributes["message"].contains("pdb-blocks-eviction"));
}
