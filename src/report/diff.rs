//! `lint --diff` and `lint --fix`: the fixes as a unified diff, and what was
//! (or would be) fixed, in words.

use std::io::{self, Write};
use std::path::Path;

use similar::TextDiff;

use super::repo_path;
use crate::fix::rounds::{MAX_ROUNDS, Rounds};

/// One unified diff per file the fixes change, `a/` and `b/` prefixed so
/// that `git apply` takes it from the working directory.
pub fn render_diff(rounds: &Rounds, cwd: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    for index in rounds.changed() {
        let source = &rounds.original[index];
        let name = repo_path(source.name(), cwd).unwrap_or_else(|| "<stdin>".to_owned());
        let diff = TextDiff::from_lines(source.text(), rounds.texts[index].as_str());
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
    rounds: &Rounds,
    mode: Mode,
    cwd: Option<&Path>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let fixed = rounds.fixed;
    let files = rounds.changed().count();
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
    } else if rounds.stdin_fixes == 0 && rounds.failed.is_empty() && rounds.unsafe_rules.is_empty()
    {
        writeln!(out, "no fixes to apply")?;
    }
    for failure in &rounds.failed {
        let name = repo_path(&failure.file, cwd).unwrap_or_else(|| "<stdin>".to_owned());
        writeln!(
            out,
            "could not fix {}[{}] at {name}:{}:{}: {}",
            failure.severity, failure.rule, failure.line, failure.column, failure.reason
        )?;
    }
    let stdin = rounds.stdin_fixes;
    if stdin > 0 {
        writeln!(
            out,
            "standard input cannot be fixed in place: {stdin} fix{} not applied (`--diff` shows {})",
            if stdin == 1 { "" } else { "es" },
            if stdin == 1 { "it" } else { "them" }
        )?;
    }
    let unsafe_count = rounds.unsafe_rules.len();
    if unsafe_count > 0 {
        writeln!(
            out,
            "{unsafe_count} more fix{} {} unsafe ({}): apply with `--unsafe-fixes`",
            if unsafe_count == 1 { "" } else { "es" },
            if unsafe_count == 1 { "is" } else { "are" },
            rounds.unsafe_rules.join(", ")
        )?;
    }
    if !rounds.settled {
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
