//! Findings and input errors as the protocol's diagnostics: the engine's
//! spans as ranges, the rule id as the code with a link to its docs, the
//! help as related information.

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Uri,
};

use super::position;
use crate::finding::Finding;
use crate::rules::UNUSED_SUPPRESSION;
use crate::severity::Severity;
use crate::source::{InputError, SourceFile};

/// What every diagnostic of ours says it comes from.
pub const SOURCE: &str = "rollsafe";

/// Where the rules are documented, one heading per rule id.
const RULES_DOCS: &str = "https://github.com/rollsafe/rollsafe/blob/main/docs/rules.md";
/// `unused-suppression` is no rule of the catalog: the README's section on
/// suppressions describes it.
const SUPPRESSION_DOCS: &str =
    "https://github.com/rollsafe/rollsafe/blob/main/README.md#suppressing-a-finding";

/// The documentation of a rule.
pub fn docs_url(rule: &str) -> String {
    if rule == UNUSED_SUPPRESSION.id {
        SUPPRESSION_DOCS.to_owned()
    } else {
        format!("{RULES_DOCS}#{rule}")
    }
}

fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// The help, pointing at the diagnostic's own place: editors show related
/// information under the message.
fn related(
    uri: &Uri,
    range: lsp_types::Range,
    help: &str,
) -> Option<Vec<DiagnosticRelatedInformation>> {
    (!help.is_empty()).then(|| {
        vec![DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), range),
            message: help.to_owned(),
        }]
    })
}

pub fn of_finding(finding: &Finding, uri: &Uri) -> Diagnostic {
    let range = position::range(&finding.doc.file, finding.location.range.clone());
    let id = finding.rule.id;
    Diagnostic {
        range,
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(id.to_owned())),
        code_description: docs_url(id)
            .parse()
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_owned()),
        message: finding.message.clone(),
        related_information: related(uri, range, &finding.help),
        tags: None,
        data: None,
    }
}

/// A syntax error, or a document that does not decode as its kind, at its
/// place in `file` (the start of the file when it has none).
pub fn of_error(error: &InputError, file: &SourceFile, uri: &Uri) -> Diagnostic {
    let range = error
        .range
        .clone()
        .map_or_else(lsp_types::Range::default, |r| position::range(file, r));
    Diagnostic {
        range,
        severity: Some(DiagnosticSeverity::ERROR),
        code: None,
        code_description: None,
        source: Some(SOURCE.to_owned()),
        message: error.message.clone(),
        related_information: related(uri, range, error.help.as_deref().unwrap_or_default()),
        tags: None,
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_links_to_a_heading_of_the_rules_page() {
        let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md"))
            .unwrap_or_default();
        for rule in crate::rules::RULES {
            let id = rule.info().id;
            assert!(
                page.lines().any(|line| line == format!("## {id}")),
                "docs/rules.md has no heading `## {id}`"
            );
            assert_eq!(docs_url(id), format!("{RULES_DOCS}#{id}"));
        }
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .unwrap_or_default();
        assert!(readme.contains("\n### Suppressing a finding\n"));
    }
}
