//! `--statistics`: how many findings each rule has, most first, in place of
//! the findings (as `ruff check --statistics` prints them).
//!
//! ```text
//! 12  warning  prestop-hook-missing
//!  3  error    readiness-probe-missing
//! ```
//!
//! With `--format json`, the same rows as a JSON array of
//! `{"rule", "severity", "count"}`; other formats get the table.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::Run;
use super::human::{Options, summary};
use crate::severity::Severity;

/// Rules with findings, most findings first: rule, count, most severe.
fn rows(run: &Run<'_>) -> Vec<(&'static str, usize, Severity)> {
    // Per rule: how many, and the most severe (a rule may cap the severity
    // of some of its findings).
    let mut counts: BTreeMap<&'static str, (usize, Severity)> = BTreeMap::new();
    for finding in &run.outcome.findings {
        let entry = counts
            .entry(finding.rule.id)
            .or_insert((0, finding.severity));
        entry.0 += 1;
        entry.1 = entry.1.max(finding.severity);
    }
    let mut rows: Vec<(&str, usize, Severity)> = counts
        .into_iter()
        .map(|(rule, (count, severity))| (rule, count, severity))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
    rows
}

pub fn render(run: &Run<'_>, options: &Options, out: &mut dyn Write) -> io::Result<()> {
    let rows = rows(run);
    let width = rows.first().map_or(1, |row| row.1.to_string().len());
    for (rule, count, severity) in rows {
        writeln!(out, "{count:>width$}  {:<7}  {rule}", severity.to_string())?;
    }
    if !run.errors.is_empty() {
        writeln!(
            out,
            "{:>width$}  {:<7}  input errors",
            run.errors.len(),
            "error"
        )?;
    }
    if !options.quiet {
        writeln!(out, "{}", summary(run, options, false))?;
    }
    Ok(())
}

/// The rows as JSON, for `--statistics --format json`.
pub fn render_json(run: &Run<'_>, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<serde_json::Value> = rows(run)
        .into_iter()
        .map(|(rule, count, severity)| {
            serde_json::json!({ "rule": rule, "severity": severity, "count": count })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)
}
