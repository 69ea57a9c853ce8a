//! `lint --diff` and `lint --fix`: the fixes as a unified diff, and what was
//! (or would be) fixed, in words.

use std::io::{self, Write};
use std::path::Path;

use similar::TextDiff;

use super::repo_path;
use crate::fix::files::Plan;

/// One unified diff per file the fixes change, `a/` and `b/` prefixed so
/// that `git apply` takes it from the working directory.
pub fn render_diff(plan: &Plan<'_>, cwd: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    for file in plan.files.iter().filter(|f| f.changed()) {
        let name = repo_path(file.file.name(), cwd).unwrap_or_else(|| "<stdin>".to_owned());
        let diff = TextDiff::from_lines(file.file.text(), file.fixed.as_str());
        write!(
            out,
            "{}",
            diff.unified_diff()
                .context_radius(3)
                .header(&format!("a/{name}"), &format!("b/{name}"))
        )?;
    }
    Ok(())
}

/// Whether the fixes were written or only shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Fix,
    Diff,
}

/// What was fixed, what could not be and why, what needs `--unsafe-fixes`,
/// and that standard input is never written.
pub fn render_summary(
    plan: &Plan<'_>,
    mode: Mode,
    cwd: Option<&Path>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let written = |f: &&crate::fix::files::FileFixes<'_>| mode == Mode::Diff || !f.is_stdin();
    let fixed: usize = plan
        .files
        .iter()
        .filter(written)
        .map(|f| f.applied.len())
        .sum();
    let files = plan
        .files
        .iter()
        .filter(written)
        .filter(|f| f.changed())
        .count();
    let verb = match mode {
        Mode::Fix => "fixed",
        Mode::Diff => "would fix",
    };
    let failed = plan.files.iter().any(|f| !f.failed.is_empty());
    let stdin_only = fixed == 0 && plan.applied() > 0;
    if plan.applied() == 0 && plan.unsafe_skipped.is_empty() && !failed {
        writeln!(out, "no fixes to apply")?;
    } else if !stdin_only {
        writeln!(
            out,
            "{verb} {fixed} finding{} in {files} file{}",
            plural(fixed),
            plural(files)
        )?;
    }
    for file in &plan.files {
        for (finding, reason) in &file.failed {
            let name = repo_path(finding.file_name(), cwd).unwrap_or_else(|| "<stdin>".to_owned());
            writeln!(
                out,
                "could not fix {}[{}] at {name}:{}:{}: {reason}",
                finding.severity, finding.rule.id, finding.location.line, finding.location.column
            )?;
        }
        if mode == Mode::Fix && file.is_stdin() && !file.applied.is_empty() {
            writeln!(
                out,
                "standard input cannot be fixed in place: {} fix{} not applied (`--diff` shows {})",
                file.applied.len(),
                if file.applied.len() == 1 { "" } else { "es" },
                if file.applied.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            )?;
        }
    }
    let unsafe_count = plan.unsafe_skipped.len();
    if unsafe_count > 0 {
        writeln!(
            out,
            "{unsafe_count} more fix{} {} unsafe ({}): apply with `--unsafe-fixes`",
            if unsafe_count == 1 { "" } else { "es" },
            if unsafe_count == 1 { "is" } else { "are" },
            plan.unsafe_skipped
                .iter()
                .map(|f| f.rule.id)
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
