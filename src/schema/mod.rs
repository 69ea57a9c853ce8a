//! Documents checked as the API server checks them before it stores them:
//! against the Kubernetes JSON Schemas (strict: unknown fields are errors),
//! plus the API validation rules those schemas do not express.
//!
//! - `embedded`: the Kubernetes schemas compiled in, per minor, and those of
//!   the custom resources rollsafe knows (Argo Rollouts, Gateway API, Istio),
//!   checked with `tables`, generated from them when rollsafe is built;
//! - `custom`: schemas for custom resources from a policy's `schemaDirs`,
//!   compiled into validators on first use; one for a custom resource
//!   rollsafe knows is used instead of rollsafe's;
//! - `fault`: what either check finds;
//! - `explain`: faults turned into problems that say what was meant;
//! - `api`: what API validation rejects and no schema says (probe and
//!   lifecycle handlers and their actions, `successThreshold`,
//!   `sleep.seconds`, port numbers and names, a PodDisruptionBudget's
//!   budget, selector operators);
//! - `repair`: a copy of a document that typed decoding can read.
//!
//! This module finds problems; the `unknown-field` and `invalid-field-value`
//! rules report them.

#[cfg(test)]
mod agreement;
mod api;
mod custom;
mod embedded;
mod explain;
mod fault;
pub mod repair;
mod tables;
mod walk;

use std::path::PathBuf;

use serde_json::Value;

use crate::model::{KnownKind, KubeVersion, ObjectRef, TemplatePaths, template_of};
use crate::source::Document;

pub use repair::Repair;

/// Something the API server would reject or drop in one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// RFC 6901 pointer of the offending field (an unknown key, a bad value,
    /// or the object that lacks a required field).
    pub pointer: String,
    /// The container the field belongs to, if any.
    pub container: Option<String>,
    pub message: String,
    pub help: String,
    /// How to make the value readable by typed decoding, for a value of the
    /// wrong type.
    pub repair: Option<Repair>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A field the schema does not have.
    UnknownField,
    /// A value of the wrong type or form, a missing required field, or what
    /// API validation rejects.
    InvalidValue,
}

/// What checking one document found.
#[derive(Debug, Default)]
pub struct Checked {
    pub problems: Vec<Problem>,
    /// A schema file from `schemaDirs` that applies but cannot be used.
    pub unusable_schema: Option<(PathBuf, String)>,
}

/// Checks documents against the schemas of one Kubernetes minor and a
/// policy's schema folders.
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    pub version: KubeVersion,
    pub schema_dirs: &'a [PathBuf],
    pub templates: &'a TemplatePaths,
}

impl Checker<'_> {
    pub fn check(&self, doc: &Document) -> Checked {
        let object = ObjectRef::from_value(&doc.value);
        let mut checked = Checked::default();
        let schemas = embedded::schemas(self.version);
        let mut built_in = schemas.and_then(|schemas| {
            let kind = schemas.kind(&object.api_version, &object.kind)?;
            Some((schemas, kind))
        });
        // A schema folder's file for a custom resource wins over rollsafe's.
        let custom_resource = built_in.is_some_and(|(s, kind)| s.is_custom_resource(kind));
        let own_schema = if built_in.is_none() || custom_resource {
            custom::find(self.schema_dirs, &object.api_version, &object.kind)
        } else {
            None
        };
        if own_schema.is_some() {
            built_in = None;
        }
        let template = template_of(&object, self.templates);
        // A custom resource rollsafe knows has its pod template where its
        // schema has a `PodTemplateSpec`, whether or not the policy says so.
        let template_pointer = template
            .as_ref()
            .map(|(_, pointer)| pointer.as_str())
            .or_else(|| embedded::custom_template(&object.api_version, &object.kind));
        let added_in =
            |pointer: &str, key: &str| built_in.and_then(|_| self.added_in(&object, pointer, key));
        // A workload's pod template is checked on its own (the kind's check
        // leaves it open, so that the pod spec is checked the same way for
        // every kind); a custom kind's is a pod template whatever its own
        // schema says of it (often: anything goes).
        let base = template_pointer.filter(|t| !t.is_empty());
        if let (Some(base), Some(schemas)) = (base, schemas)
            && let Some(value) = doc.value.pointer(base)
        {
            let faults = schemas.check_pod_template(value);
            if !faults.is_empty()
                && let Some(root) = schemas.pod_template()
            {
                let explainer = explain::Explainer {
                    doc,
                    object: &object,
                    base,
                    root,
                    document: built_in.and_then(|(schemas, kind)| schemas.root(kind)),
                    resolver: &schemas,
                    added_in: &added_in,
                    custom_resource: false,
                };
                explain(&faults, &explainer, &mut checked.problems);
            }
        }
        if let Some((schemas, kind)) = built_in {
            let faults = schemas.check(kind, &doc.value);
            if !faults.is_empty()
                && let Some(root) = schemas.root(kind)
            {
                let explainer = explain::Explainer {
                    doc,
                    object: &object,
                    base: "",
                    root,
                    document: None,
                    resolver: &schemas,
                    added_in: &added_in,
                    custom_resource,
                };
                explain(&faults, &explainer, &mut checked.problems);
            }
        } else {
            if let Some(path) = own_schema {
                match &*custom::load(&path) {
                    Ok(schema) => {
                        let resolver = walk::Local(&schema.schema);
                        let explainer = explain::Explainer {
                            doc,
                            object: &object,
                            base: "",
                            root: walk::Node {
                                schema: &schema.schema,
                                definition: None,
                            },
                            document: None,
                            resolver: &resolver,
                            added_in: &|_, _| None,
                            custom_resource: true,
                        };
                        let mut own = Vec::new();
                        explain(&custom::check(schema, &doc.value), &explainer, &mut own);
                        // What the pod template check reported already, it
                        // said in Kubernetes' own terms.
                        own.retain(|p| {
                            !checked
                                .problems
                                .iter()
                                .any(|q| q.pointer == p.pointer && q.kind == p.kind)
                        });
                        checked.problems.extend(own);
                    }
                    Err(message) => checked.unusable_schema = Some((path, message.clone())),
                }
            }
        }
        if let Some((kind, template)) = &template {
            api::check_workload_spec(&doc.value, *kind, &mut checked.problems);
            api::check_pod_template(&doc.value, template, &mut checked.problems);
        }
        if KnownKind::classify(&object.api_version, &object.kind)
            == Some(KnownKind::PodDisruptionBudget)
        {
            api::check_pdb_spec(&doc.value, &mut checked.problems);
        }
        finish(doc, &mut checked.problems);
        checked
    }

    /// The first newer minor whose schema has `key` in the object at `pointer`.
    fn added_in(&self, object: &ObjectRef, pointer: &str, key: &str) -> Option<KubeVersion> {
        (self.version.minor + 1..=KubeVersion::NEWEST.minor)
            .map(|minor| KubeVersion::new(1, minor))
            .find(|&version| {
                let Some(schemas) = embedded::schemas(version) else {
                    return false;
                };
                let Some(root) = schemas
                    .kind(&object.api_version, &object.kind)
                    .and_then(|kind| schemas.root(kind))
                else {
                    return false;
                };
                walk::at(root, pointer, &schemas)
                    .is_some_and(|node| node.properties(&schemas).contains(&key))
            })
    }
}

/// A value typed decoding stops at and no schema check explains (an integer
/// out of range, a kind without a schema).
pub fn undecodable(doc: &Document, pointer: &str, reason: &str) -> Problem {
    let object = ObjectRef::from_value(&doc.value);
    let (message, help) = if pointer.is_empty() {
        (
            format!("cannot be read as a `{}`: {reason}", object.kind),
            format!(
                "make the object a `{}` as `kubectl explain {}` describes it",
                object.kind,
                object.kind.to_lowercase()
            ),
        )
    } else {
        let field = explain::field_label(pointer);
        (
            format!(
                "`{field}` cannot be read as part of a `{}`: {reason}",
                object.kind
            ),
            format!(
                "give `{field}` a value of the type `kubectl explain {}` gives",
                explain::explain_path(&object.kind, pointer)
            ),
        )
    };
    Problem {
        kind: ProblemKind::InvalidValue,
        pointer: pointer.to_owned(),
        container: container_of(&doc.value, pointer),
        message,
        help,
        repair: None,
    }
}

/// Whether a schema folder has a schema for this kind: such documents must be
/// read even though no other rule reads them.
pub fn has_custom_schema(dirs: &[PathBuf], api_version: &str, kind: &str) -> bool {
    custom::find(dirs, api_version, kind).is_some()
}

/// Whether rollsafe holds a schema for this custom resource (Argo Rollouts'
/// `Rollout`, Gateway API's `HTTPRoute`, …): such documents are read for the
/// schema rules even though no other rule reads them.
pub fn is_known_custom_resource(api_version: &str, kind: &str) -> bool {
    embedded::is_known_custom_resource(api_version, kind)
}

fn explain(
    faults: &[fault::Fault<'_>],
    explainer: &explain::Explainer<'_>,
    out: &mut Vec<Problem>,
) {
    for fault in faults {
        explainer.explain(fault, out);
    }
}

/// Containers named, duplicates dropped.
fn finish(doc: &Document, problems: &mut Vec<Problem>) {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert((p.pointer.clone(), p.kind, p.message.clone())));
    for problem in problems.iter_mut() {
        if problem.container.is_none() {
            problem.container = container_of(&doc.value, &problem.pointer);
        }
    }
}

/// The name of the container a pointer is inside of, if it is inside one.
fn container_of(value: &Value, pointer: &str) -> Option<String> {
    let tokens: Vec<&str> = pointer.split('/').collect();
    let at = tokens
        .iter()
        .rposition(|t| matches!(*t, "containers" | "initContainers" | "ephemeralContainers"))?;
    let container = tokens.get(..at + 2)?.join("/");
    value
        .pointer(&container)?
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Compiles a schema from a schema folder. References resolve only within
/// the schema (the crate is built without any retriever, so nothing is
/// fetched) and the draft is the schema's `$schema` (2020-12 when a file
/// names none). Building through the configurable options instead would
/// compile a second copy of the validator code into the binary (1.3 MB),
/// beside the one the crate compiles for its own entry point.
fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::validator_for(schema).map_err(|e| e.to_string())
}
