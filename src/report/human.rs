//! Human output: one miette diagnostic per finding, with the YAML lines and
//! the offending field underlined.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, SourceCode,
    SourceSpan, SpanContents,
};

use super::Run;
use crate::finding::Finding;
use crate::rules::Severity;
use crate::source::{InputError, SourceFile};

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
        "{} in {} object{} from {} file{}",
        parts.join(", "),
        run.outcome.objects,
        plural(run.outcome.objects),
        run.files,
        plural(run.files)
    );
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

/// A source file, named, as miette reads it.
#[derive(Debug, Clone)]
struct FileSource(Arc<SourceFile>);

impl SourceCode for FileSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.0.text().read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.0.name().to_owned(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

struct FindingDiagnostic {
    code: String,
    message: String,
    severity: miette::Severity,
    help: String,
    source: FileSource,
    label: Option<LabeledSpan>,
}

impl FindingDiagnostic {
    fn new(finding: &Finding) -> Self {
        let label = (!finding.doc.file.text().is_empty())
            .then(|| LabeledSpan::new_primary_with_span(None, finding.location.range.clone()));
        FindingDiagnostic {
            code: format!("{}[{}]", finding.severity, finding.rule.id),
            message: format!("{}: {}", finding.object, finding.message),
            severity: match finding.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            },
            help: finding.help.clone(),
            source: FileSource(Arc::clone(&finding.doc.file)),
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
        self.label.as_ref().map(|_| &self.source as &dyn SourceCode)
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
    source: Option<FileSource>,
    label: Option<LabeledSpan>,
}

impl ErrorDiagnostic {
    fn new(error: &InputError) -> Self {
        let located = error.file.as_ref().zip(error.range.clone());
        let message = match error.line_col() {
            Some(_) => error.message.clone(),
            None => format!("{}: {}", error.path, error.message),
        };
        ErrorDiagnostic {
            message,
            help: error.help.clone(),
            source: located
                .as_ref()
                .map(|(file, _)| FileSource(Arc::clone(file))),
            label: located.map(|(_, range)| {
                LabeledSpan::new_primary_with_span(Some("here".to_owned()), range)
            }),
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
