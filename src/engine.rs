//! documents + policy → findings.
//!
//! The engine builds the cross-object index once, runs every enabled rule over
//! every workload (and PodDisruptionBudget), gives each violation its severity
//! and place, and sets aside what an annotation or a policy exemption
//! suppresses. It knows nothing of any rule's details.

use serde_json::Value;

use crate::finding::Finding;
use crate::model::{Index, KnownKind, ObjectRef};
use crate::policy::Policy;
use crate::rules::{self, Context, Rule, Severity, Violation};
use crate::source::{Document, InputError};

/// Annotation listing rule ids to silence on one object.
pub const IGNORE_ANNOTATION: &str = "rollsafe.dev/ignore";
/// Why they are silenced, shown with suppressed findings.
pub const IGNORE_REASON_ANNOTATION: &str = "rollsafe.dev/ignore-reason";

/// Everything one evaluation produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Finding>,
    /// Documents that do not decode as their kind.
    pub errors: Vec<InputError>,
    /// Objects of the kinds rollsafe reads that were evaluated.
    pub objects: usize,
    /// Those objects: workloads, then PodDisruptionBudgets (for reports that
    /// list every object).
    pub evaluated: Vec<Evaluated>,
}

/// An object the rules ran over.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub doc: Document,
    pub object: ObjectRef,
}

impl Outcome {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Whether a document is worth reading for this policy: kinds the rules or the
/// index read, and custom kinds the policy names.
pub fn wants(policy: &Policy, api_version: &str, kind: &str) -> bool {
    KnownKind::classify(api_version, kind).is_some()
        || policy
            .settings
            .template_paths
            .contains_key(&format!("{api_version}/{kind}"))
}

/// Runs the policy's rules over the documents of one run.
pub fn evaluate(documents: &[Document], policy: &Policy) -> Outcome {
    let (index, undecodable) = Index::build(documents, &policy.settings.template_paths);
    let mut outcome = Outcome {
        errors: undecodable
            .into_iter()
            .map(|u| {
                let location = u.doc.locate(&u.error.pointer);
                let object = ObjectRef::from_value(&u.doc.value);
                InputError {
                    file: Some(u.doc.file.clone()),
                    path: u.doc.file.name().to_owned(),
                    range: Some(location.range),
                    message: format!(
                        "{object}: cannot be read as a {}: {}",
                        object.kind, u.error.message
                    ),
                    help: None,
                }
            })
            .collect(),
        ..Outcome::default()
    };
    let cx = Context {
        settings: &policy.settings,
        index: &index,
        kubernetes: policy.kubernetes_version,
    };
    let enabled: Vec<(&dyn Rule, Severity)> = rules::RULES
        .iter()
        .filter_map(|&rule| policy.severity(rule.info().id).map(|s| (rule, s)))
        .collect();
    let mut violations = Vec::new();
    for workload in &index.workloads {
        for &(rule, severity) in &enabled {
            rule.check_workload(workload, &cx, &mut violations);
            place(
                &mut outcome,
                policy,
                rule,
                severity,
                &workload.doc,
                &workload.object,
                &mut violations,
            );
        }
    }
    for pdb in &index.pdbs {
        for &(rule, severity) in &enabled {
            rule.check_pdb(pdb, &cx, &mut violations);
            place(
                &mut outcome,
                policy,
                rule,
                severity,
                &pdb.doc,
                &pdb.object,
                &mut violations,
            );
        }
    }
    outcome.objects = index.workloads.len() + index.pdbs.len();
    outcome.evaluated = index
        .workloads
        .iter()
        .map(|w| (&w.doc, &w.object))
        .chain(index.pdbs.iter().map(|p| (&p.doc, &p.object)))
        .map(|(doc, object)| Evaluated {
            doc: doc.clone(),
            object: object.clone(),
        })
        .collect();
    outcome
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome
        .suppressed
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome
}

fn place(
    outcome: &mut Outcome,
    policy: &Policy,
    rule: &dyn Rule,
    severity: Severity,
    doc: &Document,
    object: &ObjectRef,
    violations: &mut Vec<Violation>,
) {
    let info = rule.info();
    for violation in violations.drain(..) {
        let finding = Finding {
            rule: info,
            severity,
            location: doc.locate(&violation.pointer),
            doc: doc.clone(),
            object: object.clone(),
            container: violation.container,
            pointer: violation.pointer,
            message: violation.message,
            help: violation.help,
            fix: violation.fix,
            suppression: suppression(policy, doc, object, info.id),
        };
        if finding.suppression.is_some() {
            outcome.suppressed.push(finding);
        } else {
            outcome.findings.push(finding);
        }
    }
}

/// Why a finding is suppressed: the object's `rollsafe.dev/ignore` annotation
/// (on the object or its pod template) names the rule, or an exemption covers it.
fn suppression(policy: &Policy, doc: &Document, object: &ObjectRef, rule: &str) -> Option<String> {
    let annotations = [
        doc.value.pointer("/metadata/annotations"),
        template_annotations(&doc.value),
    ];
    for annotations in annotations.into_iter().flatten() {
        let listed = annotations
            .get(IGNORE_ANNOTATION)
            .and_then(Value::as_str)
            .is_some_and(|list| list.split(',').any(|id| id.trim() == rule));
        if listed {
            let reason = annotations
                .get(IGNORE_REASON_ANNOTATION)
                .and_then(Value::as_str)
                .map_or_else(
                    || format!("annotation `{IGNORE_ANNOTATION}`"),
                    |r| format!("annotation `{IGNORE_ANNOTATION}`: {r}"),
                );
            return Some(reason);
        }
    }
    policy.exemption(object, rule).map(|e| match &e.reason {
        Some(reason) => format!("policy exemption: {reason}"),
        None => "policy exemption".to_owned(),
    })
}

fn template_annotations(value: &Value) -> Option<&Value> {
    value
        .pointer("/spec/template/metadata/annotations")
        .or_else(|| value.pointer("/spec/jobTemplate/spec/template/metadata/annotations"))
}
