//! `--format concise`: one line per finding, as compilers and ruff print
//! them, for editors' quickfix lists and `grep`:
//!
//! ```text
//! deploy/web.yaml:26:7: error[grace-period-too-short] Deployment/shop/web: grace period …
//! ```
//!
//! Input errors follow as `file:line:col: error[input] message`, then the
//! summary line human output ends with.

use std::io::{self, Write};

use super::Run;
use super::human::{Options, object_name, summary};
use crate::finding::Finding;
use crate::source::InputError;

pub fn render(run: &Run<'_>, options: &Options, out: &mut dyn Write) -> io::Result<()> {
    for finding in &run.outcome.findings {
        writeln!(out, "{}", finding_line(finding))?;
    }
    for error in run.errors {
        writeln!(out, "{}", error_line(error))?;
    }
    if !options.quiet {
        writeln!(out, "{}", summary(run, options, false))?;
    }
    Ok(())
}

fn finding_line(finding: &Finding) -> String {
    let place = if finding.doc.file.is_empty() {
        // Read from a cluster: no file, the field is named instead.
        format!(
            "{}: at {}",
            finding.file_name(),
            crate::source::field_path(&finding.pointer)
        )
    } else {
        format!(
            "{}:{}:{}",
            finding.file_name(),
            finding.location.line,
            finding.location.column
        )
    };
    format!(
        "{place}: {}[{}] {}: {}",
        finding.severity,
        finding.rule.id,
        object_name(finding),
        finding.message
    )
}

fn error_line(error: &InputError) -> String {
    let place = match error.line_col() {
        Some((line, column)) => format!("{}:{line}:{column}", error.path),
        None => error.path.clone(),
    };
    match &error.help {
        Some(help) => format!("{place}: error[input] {} ({help})", error.message),
        None => format!("{place}: error[input] {}", error.message),
    }
}
