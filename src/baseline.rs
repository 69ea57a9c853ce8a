//! Baselines: the findings a repository already has, written once
//! (`--write-baseline`) so that a later run (`--baseline`) reports and fails
//! only on new ones.
//!
//! A finding is matched by the fingerprint SARIF gives it
//! ([`crate::report::sarif::fingerprint`]): rule, object, container, field
//! and file, not its line, so edits elsewhere in the file keep it matched.
//! Matched findings move to the suppressed ones, with the baseline as the
//! reason; entries no finding matches any more are stale.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::Outcome;
use crate::finding::Finding;
use crate::report::repo_path;
use crate::report::sarif::{FINGERPRINT_KEY, fingerprint};
use crate::source::{InputError, read_text_file};

/// The file as written: what identifies each finding, and enough to read
/// it by eye in a review.
#[derive(Debug, Serialize, Deserialize)]
struct File {
    /// The fingerprint scheme (SARIF's `partialFingerprints` key).
    version: String,
    findings: Vec<Entry>,
}

/// One finding of the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub file: String,
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// A baseline read back.
#[derive(Debug)]
pub struct Baseline {
    name: String,
    entries: Vec<Entry>,
}

/// Baselines are a list of short entries; anything near this size is not one.
const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

fn entry(finding: &Finding, cwd: Option<&Path>) -> Entry {
    Entry {
        fingerprint: fingerprint(finding, cwd),
        rule: finding.rule.id.to_owned(),
        file: repo_path(finding.file_name(), cwd).unwrap_or_else(|| finding.file_name().to_owned()),
        object: finding.object.to_string(),
        container: finding.container.clone(),
    }
}

/// Writes the run's findings (not those already suppressed) as a baseline.
pub fn write(outcome: &Outcome, cwd: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    let file = File {
        version: FINGERPRINT_KEY.to_owned(),
        findings: outcome.findings.iter().map(|f| entry(f, cwd)).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &file)?;
    writeln!(out)
}

impl Baseline {
    pub fn read(path: &Path) -> Result<Baseline, InputError> {
        let name = path.display().to_string();
        let text = read_text_file(path, MAX_BASELINE_BYTES).map_err(|unreadable| {
            InputError::about(
                &name,
                format!("cannot read baseline: {}", unreadable.message),
                unreadable.help,
            )
        })?;
        let help = || Some("write it again with `--write-baseline`".to_owned());
        let file: File = serde_json::from_str(&text).map_err(|error| {
            InputError::about(&name, format!("not a baseline: {error}"), help())
        })?;
        if file.version != FINGERPRINT_KEY {
            return Err(InputError::about(
                &name,
                format!(
                    "a baseline of fingerprints `{}`, not `{FINGERPRINT_KEY}`",
                    file.version
                ),
                help(),
            ));
        }
        Ok(Baseline {
            name,
            entries: file.findings,
        })
    }

    /// Moves the findings the baseline lists to the suppressed ones; the
    /// entries that matched none (stale: fixed, or the object renamed).
    /// Each entry matches one finding.
    pub fn apply(&self, outcome: &mut Outcome, cwd: Option<&Path>) -> Vec<Entry> {
        let mut left: HashMap<&str, Vec<&Entry>> = HashMap::new();
        for entry in &self.entries {
            left.entry(&entry.fingerprint).or_default().push(entry);
        }
        let reason = format!("baseline `{}`", self.name);
        let mut kept = Vec::with_capacity(outcome.findings.len());
        for mut finding in std::mem::take(&mut outcome.findings) {
            let matched = left
                .get_mut(fingerprint(&finding, cwd).as_str())
                .and_then(Vec::pop)
                .is_some();
            if matched {
                finding.suppression = Some(reason.clone());
                outcome.suppressed.push(finding);
            } else {
                kept.push(finding);
            }
        }
        outcome.findings = kept;
        outcome.sort();
        let mut stale: Vec<Entry> = left.into_values().flatten().cloned().collect();
        stale.sort_by(|a, b| (&a.file, &a.object, &a.rule).cmp(&(&b.file, &b.object, &b.rule)));
        stale
    }
}
