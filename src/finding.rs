//! Findings: a rule's violation placed in a file and given a severity.

use crate::fix::Fix;
use crate::model::ObjectRef;
use crate::rules::RuleInfo;
use crate::severity::Severity;
use crate::source::{Document, Location};

/// One problem in one object, ready to be reported.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static RuleInfo,
    pub severity: Severity,
    pub doc: Document,
    pub object: ObjectRef,
    pub container: Option<String>,
    pub pointer: String,
    pub location: Location,
    pub message: String,
    pub help: String,
    pub fix: Option<Fix>,
    /// How far short of the rule's bound, in the rule's unit (larger is worse).
    pub shortfall: Option<i64>,
    /// Why the finding is not counted, when it is suppressed.
    pub suppression: Option<String>,
}

impl Finding {
    pub fn file_name(&self) -> &str {
        self.doc.file.name()
    }

    /// Report order: file, line, column, rule.
    pub fn sort_key(&self) -> (&str, usize, usize, &'static str) {
        (
            self.file_name(),
            self.location.line,
            self.location.column,
            self.rule.id,
        )
    }
}
