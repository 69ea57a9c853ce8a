//! Human output: one miette diagnostic per finding, with the YAML lines and
//! the offending field underlined.

use std::fmt;
use std::io::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, SourceCode,
    SourceSpan, SpanContents,
};

use super::Run;
use crate::finding::Finding;
use crate::severity::Severity;
use crate::source::{CONTEXT_LINES, InputError, SourceFile};

/// Renders every finding, then every input error, then a summary line.
pub fn render(run: &Run<'_>, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let handler = handler(color);
    for finding in &run.outcome.findings {
        write_diagnostic(&handler, &FindingDiagnostic::new(finding), out)?;
    }
    for error in run.errors {
        write_diagnostic(&handler, &ErrorDiagnostic::new(error), out)?;
    }
    writeln!(out, "{}", summary(run))
}

/// Renders input errors alone (for commands that stop at them).
pub fn render_errors(errors: &[InputError], color: bool, out: &mut dyn Write) -> io::Result<()> {
    let handler = handler(color);
    for error in errors {
        write_diagnostic(&handler, &ErrorDiagnostic::new(error), out)?;
    }
    Ok(())
}

fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_context_lines(2)
        .with_links(false)
        .without_syntax_highlighting()
}

fn write_diagnostic(
    handler: &GraphicalReportHandler,
    diagnostic: &dyn Diagnostic,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut text = String::new();
    handler
        .render_report(&mut text, diagnostic)
        .map_err(io::Error::other)?;
    writeln!(out, "{text}")
}

fn summary(run: &Run<'_>) -> String {
    let counts = [
        (run.count(Severity::Error), "error"),
        (run.count(Severity::Warning), "warning"),
        (run.count(Severity::Info), "info"),
    ];
    let mut parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| {
            format!(
                "{n} {what}{}",
                if *n == 1 || *what == "info" { "" } else { "s" }
            )
        })
        .collect();
    if parts.is_empty() {
        parts.push("no findings".to_owned());
    }
    let mut line = format!(
        "{} in {} object{}",
        parts.join(", "),
        run.outcome.objects,
        plural(run.outcome.objects),
    );
    // Objects without files were read from a cluster.
    if run.files > 0 || run.outcome.objects == 0 {
        line.push_str(&format!(" from {} file{}", run.files, plural(run.files)));
    }
    if !run.outcome.suppressed.is_empty() {
        line.push_str(&format!(" ({} suppressed)", run.outcome.suppressed.len()));
    }
    if !run.errors.is_empty() {
        line.push_str(&format!(
            "; {} input error{}",
            run.errors.len(),
            plural(run.errors.len())
        ));
    }
    if !run.outcome.findings.is_empty() {
        line.push_str("\nrun `rollsafe explain RULE` for what a rule checks and why");
    }
    line
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Lines of context a diagnostic quotes above and below its span.
/// Characters of a quoted line: longer lines are cut to a window around the
/// span, as rustc and ruff cut them, so that a finding on a minified line
/// quotes a few dozen characters, not the whole file.
const MAX_LINE_CHARS: usize = 160;
/// Characters a window keeps before the span when it must cut.
const LEAD_CHARS: usize = 40;

/// What a diagnostic quotes of its file: the lines around the span, each cut
/// to the same window of columns, with `…` where text was left out. miette
/// reads it as the whole source, so line numbers and the column it prints are
/// translated back to the file's.
#[derive(Debug, Clone)]
struct Excerpt {
    name: String,
    text: String,
    /// The span, in `text`.
    span: std::ops::Range<usize>,
    /// 0-based line of the file where `text` starts.
    first_line: usize,
    /// 0-based line (in `text`) and the file's column (in characters) of the
    /// span's start.
    span_line: usize,
    span_column: usize,
}

impl Excerpt {
    fn new(file: &SourceFile, range: std::ops::Range<usize>) -> Self {
        let start = range.start.min(file.len());
        let (line, column) = file.line_col(start);
        let (line, column) = (line - 1, column - 1);
        let span_line_range = file.line_range(line + 1);
        let end = range.end.clamp(start, span_line_range.end.max(start));
        let span_chars = file.slice(start..end).map_or(0, |t| t.chars().count());
        let line_chars =
            file.chars_before(span_line_range.end) - file.chars_before(span_line_range.start);
        // The window of columns every quoted line is cut to.
        let window = if line_chars <= MAX_LINE_CHARS {
            0..MAX_LINE_CHARS
        } else {
            let from = column.saturating_sub(LEAD_CHARS);
            let from = from.min(line_chars.saturating_sub(MAX_LINE_CHARS));
            from..from + MAX_LINE_CHARS
        };
        let first_line = line.saturating_sub(CONTEXT_LINES);
        let last_line = (line + CONTEXT_LINES).min(file.line_count() - 1);
        let mut out = String::new();
        let mut span = 0..0;
        for number in first_line..=last_line {
            if number > first_line {
                out.push('\n');
            }
            let full = file.slice(file.line_range(number + 1)).unwrap_or_default();
            let cut_before = window.start > 0 && full.chars().count() > window.start;
            if cut_before {
                out.push('…');
            }
            let line_start = out.len();
            let kept: String = full
                .chars()
                .skip(window.start)
                .take(window.end - window.start)
                .collect();
            out.push_str(&kept);
            if number == line {
                let skipped = column.saturating_sub(window.start);
                let offset = kept
                    .char_indices()
                    .nth(skipped)
                    .map_or(kept.len(), |(o, _)| o);
                let length: usize = kept[offset..]
                    .chars()
                    .take(span_chars)
                    .map(char::len_utf8)
                    .sum();
                span = line_start + offset..line_start + offset + length;
            }
            if full.chars().count() > window.end {
                out.push('…');
            }
        }
        Excerpt {
            name: file.name().to_owned(),
            text: out,
            span,
            first_line,
            span_line: line - first_line,
            span_column: column,
        }
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        let column = if inner.line() == self.span_line {
            self.span_column
        } else {
            inner.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            self.first_line + inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

struct FindingDiagnostic {
    code: String,
    message: String,
    severity: miette::Severity,
    help: String,
    source: Option<Excerpt>,
    label: Option<LabeledSpan>,
}

impl FindingDiagnostic {
    fn new(finding: &Finding) -> Self {
        let source = (!finding.doc.file.is_empty())
            .then(|| Excerpt::new(&finding.doc.file, finding.location.range.clone()));
        let label = source
            .as_ref()
            .map(|excerpt| LabeledSpan::new_primary_with_span(None, excerpt.span.clone()));
        // Without a file to quote (an object read from a cluster), the field
        // is named in the message instead.
        let message = match &source {
            Some(_) => format!("{}: {}", finding.object, finding.message),
            None => format!(
                "{} at {}: {}",
                finding.object,
                crate::source::field_path(&finding.pointer),
                finding.message
            ),
        };
        FindingDiagnostic {
            code: format!("{}[{}]", finding.severity, finding.rule.id),
            message,
            severity: match finding.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            },
            help: finding.help.clone(),
            source,
            label,
        }
    }
}

impl fmt::Debug for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

struct ErrorDiagnostic {
    message: String,
    help: Option<String>,
    source: Option<Excerpt>,
    label: Option<LabeledSpan>,
}

impl ErrorDiagnostic {
    fn new(error: &InputError) -> Self {
        let source = error
            .file
            .as_ref()
            .zip(error.range.clone())
            .map(|(file, range)| Excerpt::new(file, range));
        let message = match error.line_col() {
            Some(_) => error.message.clone(),
            None => format!("{}: {}", error.path, error.message),
        };
        ErrorDiagnostic {
            message,
            help: error.help.clone(),
            label: source.as_ref().map(|excerpt| {
                LabeledSpan::new_primary_with_span(Some("here".to_owned()), excerpt.span.clone())
            }),
            source,
        }
    }
}

impl fmt::Debug for ErrorDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for ErrorDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ErrorDiagnostic {}

impl Diagnostic for ErrorDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("input error"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}
