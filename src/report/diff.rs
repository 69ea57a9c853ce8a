//! `lint --diff` and `lint --fix`: the fixes as a unified diff, and what was
//! (or would be) fixed, in words.

use std::io::{self, Write};
use std::path::Path;

use similar::{Algorithm, TextDiff};

use super::repo_path;
use crate::apply::MAX_ROUNDS;
use crate::apply::lint::Fixes;

/// One unified diff per file the fixes change, `a/` and `b/` prefixed so
/// that `git apply` takes it from the working directory.
pub fn render_diff(fixes: &Fixes, cwd: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    for index in fixes.changed() {
        let source = &fixes.original[index];
        let name = repo_path(source.name(), cwd).unwrap_or_else(|| crate::source::STDIN.to_owned());
        // Patience anchors on the lines that occur once (names, ports), so
        // that a stream of N fixed documents diffs in about N steps; Myers
        // alone costs N times the number of changes.
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Patience)
            .diff_lines(source.text(), fixes.texts[index].as_str());
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
    fixes: &Fixes,
    mode: Mode,
    cwd: Option<&Path>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let fixed = fixes.fixed_count();
    let files = fixes.changed().count();
    let verb = match mode {
        Mode::Fix => "fixed",
        Mode::Diff => "would fix",
    };
    if fixed > 0 {
        writeln!(
            out,
            "{verb} {fixed} finding{} in {files} file{}",
            plural(fixed),
            plural(files)
        )?;
    } else if fixes.stdin_fixes == 0
        && fixes.failed.is_empty()
        && fixes.unsafe_rules.is_empty()
        && fixes.unwritten.is_empty()
    {
        writeln!(out, "no fixes to apply")?;
    }
    for (file, lost, reason) in &fixes.unwritten {
        let name = repo_path(file, cwd).unwrap_or_else(|| file.clone());
        writeln!(
            out,
            "{name} was left as it was: {lost} fix{} not written ({reason})",
            if *lost == 1 { "" } else { "es" }
        )?;
    }
    for failure in &fixes.failed {
        let name = repo_path(&failure.file, cwd).unwrap_or_else(|| crate::source::STDIN.to_owned());
        writeln!(
            out,
            "could not fix {}[{}] at {name}:{}:{}: {}",
            failure.severity, failure.rule, failure.line, failure.column, failure.reason
        )?;
    }
    let stdin = fixes.stdin_fixes;
    if stdin > 0 {
        writeln!(
            out,
            "standard input cannot be fixed in place: {stdin} fix{} not applied (`--diff` shows {})",
            if stdin == 1 { "" } else { "es" },
            if stdin == 1 { "it" } else { "them" }
        )?;
    }
    let unsafe_count = fixes.unsafe_rules.len();
    if unsafe_count > 0 {
        writeln!(
            out,
            "{unsafe_count} more fix{} {} unsafe ({}): apply with `--unsafe-fixes`",
            if unsafe_count == 1 { "" } else { "es" },
            if unsafe_count == 1 { "is" } else { "are" },
            fixes.unsafe_rules.join(", ")
        )?;
    }
    if !fixes.settled {
        writeln!(
            out,
            "the fixes did not settle after {MAX_ROUNDS} rounds: run `--fix` again and report this"
        )?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
