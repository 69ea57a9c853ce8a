//! `rollsafe export`: the rules as admission policies the API server runs
//! itself, for clusters that would rather not run the webhook.
//!
//! Every rule whose verdict on one object CEL can state exactly becomes a
//! `ValidatingAdmissionPolicy` with its binding ([`rules`] holds the CEL);
//! the repairs the mutating webhook makes become a
//! `MutatingAdmissionPolicy` ([`mutating`]). The policy's settings are
//! baked into the expressions, its severities, `denyOn` and `warnOn` decide each
//! binding's `validationActions`, and its opt-outs (the ignore annotation,
//! exemptions) become `matchConditions`. A header lists what is not
//! exported and why.

pub mod cel;
pub mod mutating;
mod yaml;

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::model::{KnownKind, KubeVersion};
use crate::policy::Policy;
use crate::rules::{Family, RULES, Scope};
use crate::severity::Severity;

pub use crate::rules::cel::{Check, RuleCel};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub validating: bool,
    pub mutating: bool,
    /// Mutate every object, not only those annotated `rollsafe.dev/mutate:
    /// "true"` (as `rollsafe serve --mutate-all`).
    pub mutate_all: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            validating: true,
            mutating: true,
            mutate_all: false,
        }
    }
}

/// What a binding does with a failed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Deny,
    Warn,
    /// Recorded in the API server's audit log only, as the webhook only
    /// counts findings below `warnOn`.
    Audit,
}

impl Action {
    /// As the webhook answers in enforce mode: findings of `rule` at the
    /// severity of the policy's `denyOn` or above deny, those `warnOn`
    /// covers come back as warnings, the rest are only recorded (every
    /// exported rule judges one object, so `denyOn`'s list of cross-object
    /// rules does not apply).
    pub fn of(rule: &str, severity: Severity, policy: &Policy) -> Action {
        if severity >= policy.deny_on.severity {
            Action::Deny
        } else if policy.warn_on.covers(rule, severity) {
            Action::Warn
        } else {
            Action::Audit
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "Deny",
            Action::Warn => "Warn",
            Action::Audit => "Audit",
        }
    }
}

/// One exported part of a rule, as a policy and its binding.
#[derive(Debug, Clone)]
pub struct Exported {
    pub rule: &'static str,
    pub family: Family,
    /// `rollsafe-<rule>` (with the part's variant).
    pub name: String,
    pub severity: Severity,
    pub action: Action,
    pub cel: RuleCel,
}

/// Everything `rollsafe export` prints.
#[derive(Debug, Clone)]
pub struct Export {
    /// Comment lines, without the `# `.
    pub header: Vec<String>,
    pub documents: Vec<Value>,
    pub exported: Vec<Exported>,
    /// Rule ids not exported, with why.
    pub not_exported: Vec<(&'static str, String)>,
}

/// The `admissionregistration.k8s.io` version serving
/// ValidatingAdmissionPolicy on `version`: GA in 1.30, beta from 1.28.
pub fn validating_api_version(version: KubeVersion) -> Option<&'static str> {
    if version >= KubeVersion::new(1, 30) {
        Some("admissionregistration.k8s.io/v1")
    } else if version >= KubeVersion::new(1, 28) {
        Some("admissionregistration.k8s.io/v1beta1")
    } else {
        None
    }
}

/// The version serving MutatingAdmissionPolicy on `version`: GA in 1.36,
/// beta in 1.34 and 1.35 (alpha before, off by default: not targeted).
pub fn mutating_api_version(version: KubeVersion) -> Option<&'static str> {
    if version >= KubeVersion::new(1, 36) {
        Some("admissionregistration.k8s.io/v1")
    } else if version >= KubeVersion::new(1, 34) {
        Some("admissionregistration.k8s.io/v1beta1")
    } else {
        None
    }
}

/// The rules of `policy` as admission policies.
pub fn export(policy: &Policy, options: &Options) -> Export {
    let version = policy.kubernetes_version;
    let mut exported = Vec::new();
    let mut not_exported = Vec::new();
    for rule in RULES {
        let info = rule.info();
        let Some(severity) = policy.severity(info.id) else {
            not_exported.push((info.id, "off in this policy".to_owned()));
            continue;
        };
        // Only what one admission request carries can be judged there.
        let cel = match info.scope {
            Scope::Object => rule.cel(&policy.settings, version),
            _ => Err(crate::rules::cel::gap(info)),
        };
        match cel {
            Ok(parts) => {
                for part in parts {
                    let severity = part.at_most.map_or(severity, |cap| severity.min(cap));
                    let name = match part.variant {
                        Some(variant) => format!("rollsafe-{}-{variant}", info.id),
                        None => format!("rollsafe-{}", info.id),
                    };
                    exported.push(Exported {
                        rule: info.id,
                        family: info.family,
                        name,
                        severity,
                        action: Action::of(info.id, severity, policy),
                        cel: part,
                    });
                }
            }
            Err(why) => not_exported.push((info.id, why)),
        }
    }
    let mut header = vec![
        format!(
            "Admission policies generated by `rollsafe export` {} from policy `{}` for Kubernetes {version}.",
            env!("CARGO_PKG_VERSION"),
            policy.name
        ),
        "Apply with `kubectl apply -f`; regenerate them when the policy changes.".to_owned(),
    ];
    let mut documents = Vec::new();
    if options.validating {
        match validating_api_version(version) {
            Some(api_version) => {
                let ids = exported_ids(&exported);
                header.push(format!(
                    "ValidatingAdmissionPolicy ({api_version}): {} rules exported ({}): {}.",
                    ids.len(),
                    per_family(&exported),
                    ids.join(", ")
                ));
                for part in &exported {
                    documents.push(validating_policy(api_version, part, policy));
                    documents.push(validating_binding(api_version, part));
                }
            }
            None => header.push(format!(
                "No ValidatingAdmissionPolicy: Kubernetes {version} has none (beta from 1.28, GA in 1.30)."
            )),
        }
        if !not_exported.is_empty() {
            header.push("Not exported, and why:".to_owned());
            for (id, why) in &not_exported {
                header.push(format!("  - {id}: {why}"));
            }
        }
    }
    if options.mutating {
        match mutating_api_version(version) {
            Some(api_version) => {
                let (docs, notes) = mutating::documents(api_version, policy, options.mutate_all);
                header.push(format!("MutatingAdmissionPolicy ({api_version}):"));
                header.extend(notes.into_iter().map(|n| format!("  - {n}")));
                documents.extend(docs);
            }
            None => header.push(format!(
                "No MutatingAdmissionPolicy: Kubernetes {version} has none (beta from 1.34, GA in 1.36); \
                 the webhook's repairs need `rollsafe serve` there."
            )),
        }
    }
    Export {
        header,
        documents,
        exported,
        not_exported,
    }
}

fn exported_ids(exported: &[Exported]) -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = Vec::new();
    for part in exported {
        if !ids.contains(&part.rule) {
            ids.push(part.rule);
        }
    }
    ids
}

/// How many rules of each family are exported: `probes 6, rollout 5`.
fn per_family(exported: &[Exported]) -> String {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    let mut seen: Vec<&'static str> = Vec::new();
    for part in exported {
        if seen.contains(&part.rule) {
            continue;
        }
        seen.push(part.rule);
        let family = match part.family {
            Family::Probes => "probes",
            Family::Rollout => "rollout",
            Family::Shutdown => "shutdown",
            Family::Disruption => "disruption",
            Family::Schema => "schema",
            Family::Routing => "routing",
        };
        match counts.iter_mut().find(|(name, _)| *name == family) {
            Some((_, n)) => *n += 1,
            None => counts.push((family, 1)),
        }
    }
    counts
        .iter()
        .map(|(family, n)| format!("{family} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `matchConstraints.resourceRules` for the kinds a part reads.
pub fn resource_rules(kinds: &[KnownKind], operations: &[&str]) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    for &kind in kinds {
        let (groups, resource) = cel::resource_rule(kind);
        if resource.is_empty() {
            continue;
        }
        // One rule per API group list keeps the output short.
        let existing = rules.iter_mut().find(|r| r["apiGroups"] == json!(groups));
        match existing {
            Some(rule) => {
                if let Some(list) = rule["resources"].as_array_mut() {
                    list.push(json!(resource));
                }
            }
            None => rules.push(json!({
                "apiGroups": groups,
                "apiVersions": ["*"],
                "operations": operations,
                "resources": [resource],
            })),
        }
    }
    Value::Array(rules)
}

fn validating_policy(api_version: &str, part: &Exported, policy: &Policy) -> Value {
    let mut conditions = vec![
        json!({"name": "not-controlled", "expression": cel::NOT_CONTROLLED}),
        json!({"name": "not-ignored", "expression": cel::not_ignored(part.rule)}),
    ];
    let exemptions = policy
        .exemptions
        .iter()
        .filter(|e| e.rules.is_empty() || e.rules.iter().any(|r| r == part.rule));
    for (at, exemption) in exemptions.enumerate() {
        conditions.push(json!({
            "name": format!("not-exempt-{at}"),
            "expression": cel::not_exempt(exemption),
        }));
    }
    if let Some(condition) = &part.cel.condition {
        conditions.push(json!({"name": "applies", "expression": condition}));
    }
    let mut read: Vec<&str> = vec![];
    for check in &part.cel.checks {
        read.push(&check.expression);
        read.push(&check.message);
    }
    let variables: Vec<Value> = crate::rules::cel::variables_read(&policy.settings, &read)
        .into_iter()
        .map(|(name, expression)| json!({"name": name, "expression": expression}))
        .collect();
    let validations: Vec<Value> = part
        .cel
        .checks
        .iter()
        .map(|check| {
            json!({
                "expression": check.expression,
                "messageExpression": format!("{} + ' [rollsafe: {}]'", check.message, part.rule),
                "message": format!("rollsafe rule {} failed", part.rule),
                "reason": "Invalid",
            })
        })
        .collect();
    json!({
        "apiVersion": api_version,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {
            "name": part.name,
            "labels": {"app.kubernetes.io/managed-by": "rollsafe"},
            "annotations": {
                "rollsafe.dev/rule": part.rule,
                "rollsafe.dev/severity": part.severity.to_string(),
            },
        },
        "spec": {
            // An object the expressions cannot read is let through, as the
            // webhook lets through what it cannot read (with a warning).
            "failurePolicy": "Ignore",
            "matchConstraints": {
                "resourceRules": resource_rules(part.cel.kinds, &["CREATE", "UPDATE"]),
            },
            "matchConditions": conditions,
            "variables": variables,
            "validations": validations,
        },
    })
}

fn validating_binding(api_version: &str, part: &Exported) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {
            "name": part.name,
            "labels": {"app.kubernetes.io/managed-by": "rollsafe"},
        },
        "spec": {
            "policyName": part.name,
            "validationActions": [part.action.as_str()],
        },
    })
}

/// Writes the header as comments, then the documents as YAML.
pub fn render(export: &Export, out: &mut dyn Write) -> io::Result<()> {
    for line in &export.header {
        writeln!(out, "# {line}")?;
    }
    for document in &export.documents {
        writeln!(out, "---")?;
        out.write_all(yaml::to_yaml(document).as_bytes())?;
    }
    Ok(())
}
