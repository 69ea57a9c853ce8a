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

/// How human output is laid out.
#[derive(Debug, Clone)]
pub struct Options {
    pub color: bool,
    /// Columns text is wrapped to.
    pub width: usize,
    /// Findings only: no summary, nothing for a clean run.
    pub quiet: bool,
    /// The policy files the run used, named in the summary.
    pub policy_files: Vec<String>,
    /// Baseline entries that matched no finding.
    pub stale_baseline: usize,
}

/// Columns when neither the terminal nor `COLUMNS` says: wide enough that
/// output piped to a file or a CI log is not wrapped.
pub const DEFAULT_WIDTH: usize = 200;

impl Options {
    pub fn plain(color: bool) -> Self {
        Options {
            color,
            width: DEFAULT_WIDTH,
            quiet: false,
            policy_files: Vec::new(),
            stale_baseline: 0,
        }
    }
}

/// Renders every finding, then every input error, then a summary line.
pub fn render(run: &Run<'_>, color: bool, out: &mut dyn Write) -> io::Result<()> {
    render_with(run, &Options::plain(color), out)
}

/// [`render`], laid out as `options` say. The findings on one object share
/// one quote of its YAML: each line a finding points at, once, with the
/// field underlined and each finding there (rule, message, help) below it.
pub fn render_with(run: &Run<'_>, options: &Options, out: &mut dyn Write) -> io::Result<()> {
    let handler = handler(options.color, options.width);
    for group in groups(&run.outcome.findings) {
        match group.first() {
            // Read from a cluster: no text to quote, the field is named.
            Some(first) if first.doc.file.is_empty() => {
                for finding in group {
                    write_diagnostic(&handler, &FindingDiagnostic::new(finding), out)?;
                }
            }
            Some(_) => write_group(&group, options, out)?,
            None => {}
        }
    }
    for error in run.errors {
        write_diagnostic(&handler, &ErrorDiagnostic::new(error), out)?;
    }
    if !options.quiet {
        writeln!(out, "{}", summary(run, options, true))?;
    }
    Ok(())
}

/// Renders input errors alone (for commands that stop at them).
pub fn render_errors(errors: &[InputError], color: bool, out: &mut dyn Write) -> io::Result<()> {
    let handler = handler(color, DEFAULT_WIDTH);
    for error in errors {
        write_diagnostic(&handler, &ErrorDiagnostic::new(error), out)?;
    }
    Ok(())
}

fn handler(color: bool, width: usize) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_context_lines(2)
        .with_links(false)
        .with_width(width)
        // A backticked value or a pointer is never split across lines.
        .with_break_words(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
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

/// How a finding names its object: `Deployment/shop/web`, and the template
/// it was rendered from when `helm template` said so.
pub fn object_name(finding: &Finding) -> String {
    match crate::source::comments::helm_source(&finding.doc) {
        Some(template) => format!("{} ({template})", finding.object),
        None => finding.object.to_string(),
    }
}

/// The findings of each object (a document of a file), in report order.
fn groups(findings: &[Finding]) -> Vec<Vec<&Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut at: std::collections::HashMap<(&str, usize, &crate::model::ObjectRef), usize> =
        std::collections::HashMap::new();
    for finding in findings {
        let key = (finding.file_name(), finding.doc.start, &finding.object);
        match at.get(&key) {
            Some(&index) => groups[index].push(finding),
            None => {
                at.insert(key, groups.len());
                groups.push(vec![finding]);
            }
        }
    }
    groups
}

/// ANSI styles of the parts of a group.
const RESET: &str = "\u{1b}[0m";
const BOLD: &str = "\u{1b}[1m";
const DIM: &str = "\u{1b}[2m";

fn severity_style(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Error => ("×", "\u{1b}[31m"),
        Severity::Warning => ("⚠", "\u{1b}[33m"),
        Severity::Info => ("☞", "\u{1b}[36m"),
    }
}

/// One object's findings:
///
/// ```text
/// × Deployment/shop/web: 2 errors, 1 warning  deploy/web.yaml
///   22:7 │       terminationGracePeriodSeconds: 30
///        │       ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ error[grace-period-too-short]: grace period `30s` < …
///        │                                     help: set `terminationGracePeriodSeconds: 45`
/// ```
fn write_group(group: &[&Finding], options: &Options, out: &mut dyn Write) -> io::Result<()> {
    let Some(first) = group.first() else {
        return Ok(());
    };
    let paint = |style: &str, text: &str| {
        if options.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    };
    let worst = group
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info);
    let (icon, style) = severity_style(worst);
    let mut counts = Vec::new();
    for (level, what) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ] {
        let n = group.iter().filter(|f| f.severity == level).count();
        if n > 0 {
            let plural = if n == 1 || level == Severity::Info {
                ""
            } else {
                "s"
            };
            counts.push(format!("{n} {what}{plural}"));
        }
    }
    writeln!(
        out,
        "{} {}: {}  {}",
        paint(style, icon),
        paint(BOLD, &object_name(first)),
        counts.join(", "),
        paint(DIM, first.file_name()),
    )?;
    let places: Vec<String> = group
        .iter()
        .map(|f| format!("{}:{}", f.location.line, f.location.column))
        .collect();
    let gutter = places.iter().map(String::len).max().unwrap_or(0) + 2;
    let bar = paint(DIM, "│");
    let mut previous: Option<&std::ops::Range<usize>> = None;
    for (finding, place) in group.iter().zip(&places) {
        let file = &finding.doc.file;
        let (quoted, caret) = quote_line(file, finding.location.line, finding.location.column);
        if previous != Some(&finding.location.range) {
            writeln!(out, "{place:>gutter$} {bar} {quoted}")?;
        }
        previous = Some(&finding.location.range);
        let width = file
            .slice(finding.location.range.clone())
            .map_or(1, |t| t.chars().count().max(1));
        let (_, style) = severity_style(finding.severity);
        let underline = "━".repeat(width.min(MAX_LINE_CHARS));
        let lead = format!("{:gutter$} {bar} {:caret$}", "", "");
        // The message starts after the underline, or below it when that
        // leaves too little room; continuation lines align with it.
        let after = caret + width + 2;
        let (first_line, pad) = if gutter + 2 + after + 40 <= options.width {
            (format!("{lead}{} ", paint(style, &underline)), after)
        } else {
            writeln!(out, "{lead}{}", paint(style, &underline))?;
            (format!("{:gutter$} {bar} ", ""), 1)
        };
        let continuation = format!("{:gutter$} {bar}{:pad$}", "", "");
        let wrap = |text: &str| -> Vec<String> {
            let room = options.width.saturating_sub(gutter + 2 + pad).max(20);
            textwrap::wrap(
                text,
                textwrap::Options::new(room)
                    .break_words(false)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation),
            )
            .into_iter()
            .map(|line| line.into_owned())
            .collect()
        };
        let code = format!("{}[{}]", finding.severity, finding.rule.id);
        for (i, line) in wrap(&format!("{code}: {}", finding.message))
            .iter()
            .enumerate()
        {
            if i == 0 {
                // The rule is coloured; the plain text is what was wrapped.
                let rest = line.strip_prefix(&code).unwrap_or(line);
                writeln!(out, "{first_line}{}{rest}", paint(style, &code))?;
            } else {
                writeln!(out, "{continuation}{line}")?;
            }
        }
        for line in wrap(&format!("help: {}", finding.help)) {
            writeln!(out, "{continuation}{line}")?;
        }
    }
    writeln!(out)
}

/// Line `line` of `file`, cut to a window around `column` when it is long
/// (minified JSON): the text to quote, and the characters before the
/// column in it.
fn quote_line(file: &SourceFile, line: usize, column: usize) -> (String, usize) {
    let full = file.slice(file.line_range(line)).unwrap_or_default();
    let column = column.saturating_sub(1);
    let length = full.chars().count();
    if length <= MAX_LINE_CHARS {
        return (full.to_owned(), column);
    }
    let from = column
        .saturating_sub(LEAD_CHARS)
        .min(length.saturating_sub(MAX_LINE_CHARS));
    let mut quoted: String = full.chars().skip(from).take(MAX_LINE_CHARS).collect();
    let mut caret = column - from;
    if from > 0 {
        quoted.insert(0, '…');
        caret += 1;
    }
    if from + MAX_LINE_CHARS < length {
        quoted.push('…');
    }
    (quoted, caret)
}

/// The line that ends a report: counts, suppressed findings, input errors,
/// the policy file used; with `explain_hint`, how to learn more.
pub fn summary(run: &Run<'_>, options: &Options, explain_hint: bool) -> String {
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
    if options.stale_baseline > 0 {
        line.push_str(&format!(
            "; {} stale baseline entr{}",
            options.stale_baseline,
            if options.stale_baseline == 1 {
                "y"
            } else {
                "ies"
            }
        ));
    }
    if !options.policy_files.is_empty() {
        let names: Vec<String> = options
            .policy_files
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        let what = if names.len() == 1 {
            "policy"
        } else {
            "policies"
        };
        line.push_str(&format!("; {what} {}", names.join(", ")));
    }
    if explain_hint && !run.outcome.findings.is_empty() {
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
            Some(_) => format!("{}: {}", object_name(finding), finding.message),
            None => format!(
                "{} at {}: {}",
                object_name(finding),
                crate::source::field_path(&finding.pointer),
                finding.message
            ),
        };
        FindingDiagnostic {
            code: format!("{}[{}]", finding.severity, finding.rule.id),
            message,
            severity: miette_severity(finding.severity),
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

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
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
