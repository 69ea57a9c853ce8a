//! `--format json`: one object, exactly the shape PRODUCT.md §5 documents,
//! because CI scripts parse it.

use std::io::{self, Write};

use serde::Serialize;

use super::Run;
use crate::finding::Finding;
use crate::model::ObjectRef;
use crate::severity::Severity;
use crate::source::InputError;

#[derive(Serialize)]
struct Report<'a> {
    findings: Vec<JsonFinding<'a>>,
    suppressed: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    severity: Severity,
    message: &'a str,
    help: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    object: &'a ObjectRef,
    container: Option<&'a str>,
    pointer: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// The chart template a `helm template` stream names for the object.
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    objects: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    suppressed: usize,
    #[serde(rename = "inputErrors")]
    input_errors: usize,
}

fn finding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        rule: f.rule.id,
        severity: f.severity,
        message: &f.message,
        help: &f.help,
        file: f.file_name(),
        line: f.location.line,
        column: f.location.column,
        object: &f.object,
        container: f.container.as_deref(),
        pointer: &f.pointer,
        reason: f.suppression.as_deref(),
        template: crate::source::comments::helm_source(&f.doc),
    }
}

fn error(e: &InputError) -> JsonError<'_> {
    let position = e.line_col();
    JsonError {
        file: &e.path,
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        message: match &e.help {
            Some(help) => format!("{} ({help})", e.message),
            None => e.message.clone(),
        },
    }
}

pub fn render(run: &Run<'_>, out: &mut dyn Write) -> io::Result<()> {
    let report = Report {
        findings: run.outcome.findings.iter().map(finding).collect(),
        suppressed: run.outcome.suppressed.iter().map(finding).collect(),
        errors: run.errors.iter().map(error).collect(),
        summary: Summary {
            files: run.files,
            objects: run.outcome.objects,
            errors: run.count(Severity::Error),
            warnings: run.count(Severity::Warning),
            infos: run.count(Severity::Info),
            suppressed: run.outcome.suppressed.len(),
            input_errors: run.errors.len(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
