//! `--format github`: GitHub Actions workflow commands, which the runner turns
//! into annotations on the pull request's changed files.
//!
//! ```text
//! ::error file=deploy/web.yaml,line=26,col=7,endLine=26,endColumn=35,title=grace-period-too-short::Deployment/shop/web: grace period …%0Ahelp: set …
//! ```
//!
//! Errors are `::error`, warnings `::warning`, infos `::notice`; suppressed
//! findings are not annotated. Input errors are `::error` at their place.
//! `endColumn` is the column of the last character of the field (columns are
//! 1-based and count characters). The summary line follows, as plain log text.

use std::io::{self, Write};
use std::path::Path;

use super::{Run, repo_path};
use crate::finding::Finding;
use crate::severity::Severity;
use crate::source::InputError;

/// Renders one workflow command per finding and per input error.
pub fn render(run: &Run<'_>, cwd: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    for finding in &run.outcome.findings {
        writeln!(out, "{}", finding_command(finding, cwd))?;
    }
    for error in run.errors {
        writeln!(out, "{}", error_command(error, cwd))?;
    }
    writeln!(
        out,
        "rollsafe: {} error(s), {} warning(s), {} info(s) in {} object(s) from {} file(s); {} suppressed; {} input error(s)",
        run.count(Severity::Error),
        run.count(Severity::Warning),
        run.count(Severity::Info),
        run.outcome.objects,
        run.files,
        run.outcome.suppressed.len(),
        run.errors.len()
    )
}

fn command_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn finding_command(finding: &Finding, cwd: Option<&Path>) -> String {
    let mut properties = Vec::new();
    if let Some(path) = repo_path(finding.file_name(), cwd) {
        properties.push(("file", path));
        let location = &finding.location;
        properties.push(("line", location.line.to_string()));
        let file = &finding.doc.file;
        let (end_line, end_column) = if location.range.end > location.range.start {
            // The last character, not the one after it.
            let last = file
                .slice(location.range.clone())
                .and_then(|text| text.char_indices().next_back())
                .map_or(location.range.end, |(i, _)| location.range.start + i);
            file.line_col(last.max(location.range.start))
        } else {
            (location.line, location.column)
        };
        // Columns only make sense on a single line.
        if end_line == location.line {
            properties.push(("col", location.column.to_string()));
            properties.push(("endLine", end_line.to_string()));
            properties.push(("endColumn", end_column.to_string()));
        }
    }
    properties.push(("title", finding.rule.id.to_owned()));
    let message = format!(
        "{}: {}\nhelp: {}",
        finding.object, finding.message, finding.help
    );
    command(command_name(finding.severity), &properties, &message)
}

fn error_command(error: &InputError, cwd: Option<&Path>) -> String {
    let mut properties = Vec::new();
    if let Some(path) = repo_path(&error.path, cwd) {
        properties.push(("file", path));
        if let Some((line, column)) = error.line_col() {
            properties.push(("line", line.to_string()));
            properties.push(("col", column.to_string()));
        }
    }
    properties.push(("title", "rollsafe: input error".to_owned()));
    let message = match &error.help {
        Some(help) => format!("{}\nhelp: {help}", error.message),
        None => error.message.clone(),
    };
    command("error", &properties, &message)
}

/// `::name key=value,…::message`, escaped as the runner unescapes it.
pub fn command(name: &str, properties: &[(&str, String)], message: &str) -> String {
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    if properties.is_empty() {
        format!("::{name}::{}", escape_data(message))
    } else {
        format!(
            "::{name} {}::{}",
            properties.join(","),
            escape_data(message)
        )
    }
}

/// The message: `%`, CR and LF are percent-encoded (`%` first).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as the message, plus `:` and `,`, which would end it.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(
            command("warning", &[("file", "x,y:z.yaml".to_owned())], "m: 1%"),
            "::warning file=x%2Cy%3Az.yaml::m: 1%25"
        );
        assert_eq!(command("notice", &[], "a\nb"), "::notice::a%0Ab");
    }
}
