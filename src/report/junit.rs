//! `--format junit`: JUnit XML, as GitLab (`artifacts:reports:junit`),
//! Jenkins (`junit` step) and other test report viewers read it.
//!
//! - One `<testsuite>` per file, named by its path relative to the working
//!   directory; one `<testcase>` per object the rules ran over
//!   (`Deployment/shop/web`), with `file` and `line` attributes.
//! - Findings at or above the `--fail-on` threshold (errors, by default) fail
//!   their object's test case. Each test case holds at most one `<failure>`
//!   element, listing every failing finding of the object in its text, and
//!   its `message` names them: Jenkins, GitLab and most other readers show
//!   only the first `<failure>` of a test case, or reject a second.
//! - Findings below the threshold (warnings and infos, by default) do not
//!   fail a test case, as they do not fail the run: they are listed in the
//!   test case's `<system-out>`, which both viewers show with the test.
//! - An object whose findings are all suppressed (annotation or policy
//!   exemption) is `<skipped>`, with the reason; suppressed findings of an
//!   object that fails anyway are listed in its `<system-out>`.
//! - An input error is a test case of its file with an `<error>`.
//!
//! Counts follow JUnit: `failures`, `errors` and `skipped` count test cases.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use super::{Run, repo_path};
use crate::finding::Finding;
use crate::severity::Severity;
use crate::source::InputError;

/// One `<testcase>` in the making.
#[derive(Default)]
struct Case<'a> {
    name: String,
    line: usize,
    failing: Vec<&'a Finding>,
    passing: Vec<&'a Finding>,
    suppressed: Vec<&'a Finding>,
    error: Option<&'a InputError>,
}

/// Test cases of one file, in the order of their place in it.
type Suite<'a> = BTreeMap<(usize, String), Case<'a>>;

fn case<'s, 'a>(
    suite: &'s mut Suite<'a>,
    start: usize,
    line: usize,
    name: String,
) -> &'s mut Case<'a> {
    suite.entry((start, name.clone())).or_insert_with(|| Case {
        name,
        line,
        ..Case::default()
    })
}

/// Renders the run. `threshold` is the lowest failing severity (`None`:
/// nothing fails, as with `--fail-on never`).
pub fn render(
    run: &Run<'_>,
    threshold: Option<Severity>,
    cwd: Option<&Path>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut suites: BTreeMap<String, Suite<'_>> = BTreeMap::new();
    let suite_name = |name: &str| repo_path(name, cwd).unwrap_or_else(|| name.to_owned());
    for evaluated in &run.outcome.evaluated {
        let doc = &evaluated.doc;
        let suite = suites.entry(suite_name(doc.file.name())).or_default();
        let line = doc.file.line_col(doc.start).0;
        case(suite, doc.start, line, evaluated.object.to_string());
    }
    let findings = run
        .outcome
        .findings
        .iter()
        .map(|f| (f, false))
        .chain(run.outcome.suppressed.iter().map(|f| (f, true)));
    for (finding, suppressed) in findings {
        let doc = &finding.doc;
        let suite = suites.entry(suite_name(doc.file.name())).or_default();
        let line = doc.file.line_col(doc.start).0;
        let case = case(suite, doc.start, line, finding.object.to_string());
        if suppressed {
            case.suppressed.push(finding);
        } else if threshold.is_some_and(|t| finding.severity >= t) {
            case.failing.push(finding);
        } else {
            case.passing.push(finding);
        }
    }
    for error in run.errors {
        let suite = suites.entry(suite_name(&error.path)).or_default();
        let (line, column) = error.line_col().unwrap_or((0, 0));
        let start = error.range.as_ref().map_or(0, |r| r.start);
        let name = if line > 0 {
            format!("input error at {line}:{column}")
        } else {
            "input error".to_owned()
        };
        case(suite, start, line, name).error = Some(error);
    }

    let mut body = String::new();
    let mut totals = Counts::default();
    for (file, cases) in &suites {
        let mut counts = Counts::default();
        let mut xml = String::new();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for case in cases.values() {
            // GitLab keeps only the first of test cases named alike.
            let repeat = seen.entry(case.name.as_str()).or_insert(0);
            *repeat += 1;
            let name = if *repeat > 1 {
                format!("{} ({})", case.name, repeat)
            } else {
                case.name.clone()
            };
            write_case(&mut xml, file, &name, case, cwd, &mut counts);
        }
        let _ = writeln!(
            body,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
            attr(file),
            counts.tests,
            counts.failures,
            counts.errors,
            counts.skipped
        );
        body.push_str(&xml);
        body.push_str("  </testsuite>\n");
        totals.add(&counts);
    }
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"rollsafe\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\">",
        totals.tests, totals.failures, totals.errors, totals.skipped
    )?;
    out.write_all(body.as_bytes())?;
    writeln!(out, "</testsuites>")
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
    }
}

fn write_case(
    out: &mut String,
    file: &str,
    name: &str,
    case: &Case<'_>,
    cwd: Option<&Path>,
    counts: &mut Counts,
) {
    counts.tests += 1;
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
        attr(file),
        attr(name),
        attr(file)
    );
    if case.line > 0 {
        let _ = write!(out, " line=\"{}\"", case.line);
    }
    out.push_str(" time=\"0\"");
    let mut xml = String::new();
    if let Some(error) = case.error {
        counts.errors += 1;
        let mut text = error.message.clone();
        if let Some(help) = &error.help {
            let _ = write!(text, "\nhelp: {help}");
        }
        let _ = writeln!(
            xml,
            "      <error type=\"input-error\" message=\"{}\">{}</error>",
            attr(&error.message),
            text_node(&text)
        );
    } else if !case.failing.is_empty() {
        counts.failures += 1;
        let message = match case.failing.as_slice() {
            [only] => format!("{}: {}", only.rule.id, only.message),
            many => {
                let mut rules: Vec<&str> = many.iter().map(|f| f.rule.id).collect();
                rules.dedup();
                format!("{} findings: {}", many.len(), rules.join(", "))
            }
        };
        let kind = case.failing.first().map_or("", |f| f.rule.id);
        let text: Vec<String> = case.failing.iter().map(|f| describe(f, cwd)).collect();
        let _ = writeln!(
            xml,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            attr(kind),
            attr(&message),
            text_node(&text.join("\n\n"))
        );
    } else if !case.suppressed.is_empty() {
        counts.skipped += 1;
        let reasons: Vec<String> = case
            .suppressed
            .iter()
            .map(|f| {
                format!(
                    "{} ({})",
                    f.rule.id,
                    f.suppression.as_deref().unwrap_or_default()
                )
            })
            .collect();
        let _ = writeln!(
            xml,
            "      <skipped message=\"suppressed: {}\"/>",
            attr(&reasons.join("; "))
        );
    }
    let mut notes: Vec<String> = case.passing.iter().map(|f| describe(f, cwd)).collect();
    notes.extend(case.suppressed.iter().map(|f| {
        format!(
            "{}\nsuppressed: {}",
            describe(f, cwd),
            f.suppression.as_deref().unwrap_or_default()
        )
    }));
    if !notes.is_empty() {
        let _ = writeln!(
            xml,
            "      <system-out>{}</system-out>",
            text_node(&notes.join("\n\n"))
        );
    }
    if xml.is_empty() {
        out.push_str("/>\n");
    } else {
        out.push_str(">\n");
        out.push_str(&xml);
        out.push_str("    </testcase>\n");
    }
}

/// `error[rule] file:line:column (container `web`)`, the message and the help.
fn describe(finding: &Finding, cwd: Option<&Path>) -> String {
    let file =
        repo_path(finding.file_name(), cwd).unwrap_or_else(|| crate::source::STDIN.to_owned());
    let container = finding
        .container
        .as_deref()
        .map(|c| format!(" (container `{c}`)"))
        .unwrap_or_default();
    format!(
        "{}[{}] {}:{}:{}{}\n{}: {}\nhelp: {}",
        finding.severity,
        finding.rule.id,
        file,
        finding.location.line,
        finding.location.column,
        container,
        finding.object,
        finding.message,
        finding.help
    )
}

/// Characters XML 1.0 cannot hold at all become U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if c < ' ' => '\u{fffd}',
        '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
        c => c,
    }
}

/// Escapes an attribute value (double-quoted); line breaks are kept as
/// character references so that parsers do not normalise them to spaces.
pub fn attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes character data.
pub fn text_node(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            attr("a<b & \"c\" 'd'\ne\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&#10;e\u{fffd}"
        );
        assert_eq!(
            text_node("x < y && z > 0\n"),
            "x &lt; y &amp;&amp; z &gt; 0\n"
        );
    }
}
