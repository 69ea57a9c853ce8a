//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning and other SARIF
//! viewers read it.
//!
//! - One `rule` per rule of the catalog (and `unused-suppression` after
//!   them, when the run reports one), from the rule's own documentation:
//!   `shortDescription` is its summary, `fullDescription` its "What it does",
//!   `help` the whole page `rollsafe explain` prints, `helpUri` the rule's
//!   section of docs/rules.md at this version's tag; `defaultConfiguration`
//!   carries the policy's severity (`enabled: false` for a rule it turns off).
//! - One `result` per finding, located at the field itself: start and end
//!   line and column of the key the finding names, never line 1.
//! - `partialFingerprints` hash what identifies a finding, not where it sits:
//!   rule id, object (apiVersion, kind, namespace, name), container, JSON
//!   pointer and file path. Edits elsewhere in the file, even ones that move
//!   the field to another line, keep the fingerprint; renaming the file or
//!   the object starts a new one.
//! - Suppressed findings are results with `suppressions`: `inSource` for the
//!   `rollsafe.dev/ignore` annotation and `# rollsafe: ignore[…]` comments,
//!   `external` for a policy exemption or a baseline, with the reason as the
//!   justification.
//! - Artifact URIs are relative to the working directory with the base id
//!   `%SRCROOT%` (declared in `originalUriBaseIds`), which is how code
//!   scanning matches them to the repository.
//! - Input errors are tool execution notifications of the invocation.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Map, Value, json};

use super::{Run, repo_path};
use crate::finding::Finding;
use crate::policy::Policy;
use crate::rules::{FixAvailability, RULES, RuleInfo, UNUSED_SUPPRESSION};
use crate::severity::Severity;
use crate::source::{InputError, SourceFile};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
/// The key of our fingerprint in `partialFingerprints`; the version changes
/// only if what is hashed does.
pub const FINGERPRINT_KEY: &str = "rollsafe/v1";

/// Renders the run as one SARIF log. `cwd` makes artifact URIs relative.
pub fn render(
    run: &Run<'_>,
    policy: &Policy,
    cwd: Option<&Path>,
    out: &mut dyn Write,
) -> io::Result<()> {
    // The catalog, and `unused-suppression` after it when the run reports
    // one (it is no rule of the catalog, but a result needs its rule).
    let mut rules: Vec<&RuleInfo> = RULES.iter().map(|r| r.info()).collect();
    if run
        .outcome
        .findings
        .iter()
        .any(|f| f.rule.id == UNUSED_SUPPRESSION.id)
    {
        rules.push(&UNUSED_SUPPRESSION);
    }
    let mut results: Vec<Value> = Vec::new();
    for finding in &run.outcome.findings {
        results.push(result(finding, &rules, cwd));
    }
    for finding in &run.outcome.suppressed {
        results.push(result(finding, &rules, cwd));
    }
    let notifications: Vec<Value> = run.errors.iter().map(|e| notification(e, cwd)).collect();
    let mut run_object = json!({
        "tool": {
            "driver": {
                "name": "rollsafe",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules.iter().map(|info| rule(info, policy)).collect::<Vec<_>>(),
            }
        },
        "invocations": [{
            "executionSuccessful": run.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(base) = cwd.and_then(directory_uri) {
        run_object["originalUriBaseIds"] = json!({ SRCROOT: { "uri": base } });
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run_object],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn level(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Error) => "error",
        Some(Severity::Warning) => "warning",
        Some(Severity::Info) => "note",
        None => "none",
    }
}

fn rule(info: &RuleInfo, policy: &Policy) -> Value {
    let docs = info.docs();
    let severity = if info.id == UNUSED_SUPPRESSION.id {
        Some(Severity::Warning)
    } else {
        policy.severity(info.id)
    };
    let what = section(&docs, "What it does").unwrap_or_else(|| info.summary());
    json!({
        "id": info.id,
        "name": info.name,
        "shortDescription": { "text": info.summary() },
        "fullDescription": { "text": what },
        "help": { "text": docs, "markdown": docs },
        "helpUri": crate::report::catalog::rule_url(info.id),
        "defaultConfiguration": {
            "enabled": severity.is_some(),
            "level": level(severity),
        },
        "properties": {
            "tags": ["kubernetes", "reliability"],
            "fix": match info.fix {
                FixAvailability::None => "none",
                FixAvailability::Sometimes => "sometimes",
                FixAvailability::Always => "always",
            },
        },
    })
}

/// The text of a `## heading` section, its lines joined into paragraphs.
fn section(docs: &str, heading: &str) -> Option<String> {
    let body = docs.split(&format!("## {heading}\n")).nth(1)?;
    let body = body.split("\n## ").next().unwrap_or_default();
    let paragraphs: Vec<String> = body
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    (!paragraphs.is_empty()).then(|| paragraphs.join("\n\n"))
}

fn result(finding: &Finding, rules: &[&RuleInfo], cwd: Option<&Path>) -> Value {
    let index = rules.iter().position(|info| info.id == finding.rule.id);
    let mut object = Map::new();
    object.insert("ruleId".into(), json!(finding.rule.id));
    if let Some(index) = index {
        object.insert("ruleIndex".into(), json!(index));
    }
    object.insert("level".into(), json!(level(Some(finding.severity))));
    object.insert(
        "message".into(),
        json!({ "text": format!("{}: {}\nhelp: {}", finding.object, finding.message, finding.help) }),
    );
    let region = region(
        &finding.doc.file,
        &finding.location.range,
        (finding.location.line, finding.location.column),
    );
    let mut physical = json!({ "artifactLocation": artifact(finding.file_name(), cwd) });
    if let Some(region) = region {
        physical["region"] = region;
    }
    let logical_name = match &finding.container {
        Some(container) => format!("{}/{container}", finding.object),
        None => finding.object.to_string(),
    };
    object.insert(
        "locations".into(),
        json!([{
            "physicalLocation": physical,
            "logicalLocations": [{
                "fullyQualifiedName": logical_name,
                "kind": if finding.container.is_some() { "member" } else { "object" },
            }],
        }]),
    );
    object.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: fingerprint(finding, cwd) }),
    );
    if let Some(reason) = &finding.suppression {
        let (kind, justification) = suppression(reason);
        object.insert(
            "suppressions".into(),
            json!([{ "kind": kind, "status": "accepted", "justification": justification }]),
        );
    }
    object.insert(
        "properties".into(),
        json!({
            "object": finding.object,
            "container": finding.container,
            "pointer": finding.pointer,
            "help": finding.help,
        }),
    );
    Value::Object(object)
}

/// `inSource` for the `rollsafe.dev/ignore` annotation and comments,
/// `external` for a policy exemption (the wording `engine::suppression`
/// gives them) or a baseline, with the reason as written when there is one.
fn suppression(reason: &str) -> (&'static str, String) {
    let kind = if reason.starts_with("policy exemption") || reason.starts_with("baseline") {
        "external"
    } else {
        "inSource"
    };
    let justification = reason
        .split_once(": ")
        .map_or(reason, |(_, why)| why)
        .to_owned();
    (kind, justification)
}

fn region(
    file: &SourceFile,
    range: &std::ops::Range<usize>,
    start: (usize, usize),
) -> Option<Value> {
    if file.is_empty() {
        return None;
    }
    let mut region = json!({ "startLine": start.0, "startColumn": start.1 });
    if range.end > range.start {
        let (end_line, end_column) = file.line_col(range.end);
        region["endLine"] = json!(end_line);
        region["endColumn"] = json!(end_column);
        if let Some(snippet) = file.slice(range.clone()) {
            region["snippet"] = json!({ "text": snippet });
        }
    }
    Some(region)
}

fn artifact(name: &str, cwd: Option<&Path>) -> Value {
    match repo_path(name, cwd) {
        None => json!({ "description": { "text": "standard input" } }),
        Some(path) if path.starts_with('/') => {
            json!({ "uri": format!("file://{}", encode(&path)) })
        }
        Some(path) => json!({ "uri": encode(&path), "uriBaseId": SRCROOT }),
    }
}

fn notification(error: &InputError, cwd: Option<&Path>) -> Value {
    let mut physical = json!({ "artifactLocation": artifact(&error.path, cwd) });
    if let (Some(file), Some(range), Some(position)) =
        (error.file.as_ref(), error.range.as_ref(), error.line_col())
        && let Some(region) = region(file, range, position)
    {
        physical["region"] = region;
    }
    let message = match &error.help {
        Some(help) => format!("{}\nhelp: {help}", error.message),
        None => error.message.clone(),
    };
    json!({
        "level": "error",
        "message": { "text": message },
        "locations": [{ "physicalLocation": physical }],
    })
}

/// `file:///work/repo/`, the base relative artifact URIs resolve against.
fn directory_uri(cwd: &Path) -> Option<String> {
    let path = repo_path(cwd.to_str()?, None)?;
    let path = path.trim_end_matches('/');
    path.starts_with('/')
        .then(|| format!("file://{}/", encode(path)))
}

/// Percent-encodes what an RFC 3986 path may not hold as is.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A stable hash of what identifies a finding (see the module docs).
pub fn fingerprint(finding: &Finding, cwd: Option<&Path>) -> String {
    let object = &finding.object;
    let path = repo_path(finding.file_name(), cwd).unwrap_or_default();
    let parts = [
        finding.rule.id,
        &object.api_version,
        &object.kind,
        object.namespace.as_deref().unwrap_or(""),
        &object.name,
        finding.container.as_deref().unwrap_or(""),
        &finding.pointer,
        &path,
    ];
    // FNV-1a, 64 bits, twice with different offsets: a fixed algorithm, so
    // fingerprints do not change with the Rust version as `DefaultHasher`'s
    // output may.
    let hash = |offset: u64| {
        let mut hash = offset;
        for part in parts {
            for byte in part.bytes().chain([0]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        hash
    };
    format!(
        "{:016x}{:016x}",
        hash(0xcbf2_9ce4_8422_2325),
        hash(0x6c62_272e_07bb_0142)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_keep_their_kind_and_reason() {
        assert_eq!(
            suppression("annotation `rollsafe.dev/ignore`: migrating"),
            ("inSource", "migrating".to_owned())
        );
        assert_eq!(
            suppression("annotation `rollsafe.dev/ignore`"),
            ("inSource", "annotation `rollsafe.dev/ignore`".to_owned())
        );
        assert_eq!(
            suppression("policy exemption: legacy"),
            ("external", "legacy".to_owned())
        );
        assert_eq!(
            suppression("policy exemption"),
            ("external", "policy exemption".to_owned())
        );
    }

    #[test]
    fn uris_are_encoded() {
        assert_eq!(
            encode("deploy/my app/wéb.yaml"),
            "deploy/my%20app/w%C3%A9b.yaml"
        );
        assert_eq!(
            directory_uri(Path::new("/work/my repo")).as_deref(),
            Some("file:///work/my%20repo/")
        );
    }

    #[test]
    fn what_it_does_is_read_from_the_docs() {
        let docs =
            "## What it does\nFlags a thing\nthat is wrong.\n\nMore.\n## Why it matters\nx\n";
        assert_eq!(
            section(docs, "What it does").as_deref(),
            Some("Flags a thing that is wrong.\n\nMore.")
        );
    }
}
