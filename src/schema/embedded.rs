//! The Kubernetes JSON Schemas compiled into the binary
//! (`schemas/kubernetes.json`, written by `scripts/update-schemas.py`).
//!
//! The file holds every distinct definition once and, per Kubernetes minor,
//! which definitions and kinds that minor has. Nothing is parsed until a
//! document needs it; then the file is parsed once, and a minor's registry
//! is prepared and each kind's validator compiled once per process, on first
//! use. Reading a minor's schema (to explain an error) needs neither.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::{Registry, Validator};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::walk::{Node, Resolve};
use crate::model::KubeVersion;

const BUNDLE: &str = include_str!("../../schemas/kubernetes.json");

#[derive(Debug, Deserialize)]
struct Bundle {
    defs: Vec<Value>,
    versions: HashMap<String, Minor>,
}

/// One minor: `apiVersion/Kind` → schema, and definition name → schema,
/// both as indexes into `Bundle::defs`.
#[derive(Debug, Deserialize)]
struct Minor {
    kinds: HashMap<String, usize>,
    defs: HashMap<String, usize>,
}

fn bundle() -> Option<&'static Bundle> {
    static BUNDLE_PARSED: OnceLock<Option<Bundle>> = OnceLock::new();
    BUNDLE_PARSED
        .get_or_init(|| serde_json::from_str(BUNDLE).ok())
        .as_ref()
}

const MINORS: usize = (KubeVersion::NEWEST.minor - KubeVersion::OLDEST.minor + 1) as usize;

/// The schemas of one Kubernetes minor.
pub struct Schemas {
    version: KubeVersion,
    bundle: &'static Bundle,
    minor: &'static Minor,
    /// Prepared on the first validator: reading the schema needs no registry.
    registry: OnceLock<Option<Registry<'static>>>,
    validators: HashMap<&'static str, OnceLock<Option<Validator>>>,
    template: OnceLock<Option<Validator>>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The schemas of a minor, prepared on first use. `None` for a minor the
/// embedded file does not hold (a bug the tests catch).
pub fn schemas(version: KubeVersion) -> Option<&'static Schemas> {
    static PREPARED: [OnceLock<Option<Schemas>>; MINORS] = [const { OnceLock::new() }; MINORS];
    if version.major != 1 || version < KubeVersion::OLDEST || version > KubeVersion::NEWEST {
        return None;
    }
    let slot = PREPARED.get((version.minor - KubeVersion::OLDEST.minor) as usize)?;
    slot.get_or_init(|| Schemas::prepare(version)).as_ref()
}

impl Schemas {
    fn uri(&self) -> String {
        document_uri(self.version)
    }

    fn prepare(version: KubeVersion) -> Option<Schemas> {
        let bundle = bundle()?;
        let minor = bundle.versions.get(&version.to_string())?;
        let validators = minor
            .kinds
            .keys()
            .map(|kind| (kind.as_str(), OnceLock::new()))
            .collect();
        Some(Schemas {
            version,
            bundle,
            minor,
            registry: OnceLock::new(),
            validators,
            template: OnceLock::new(),
        })
    }

    /// The validator for `apiVersion/Kind`, compiled on first use; `None`
    /// when this minor has no such kind.
    pub fn validator(&self, api_version: &str, kind: &str) -> Option<&Validator> {
        let key = format!("{api_version}/{kind}");
        let slot = self.validators.get(key.as_str())?;
        slot.get_or_init(|| self.compile(&kind_key(&key))).as_ref()
    }

    /// The validator for a pod template (`PodTemplateSpec`): the template of
    /// every workload kind, custom kinds included, is checked with it.
    pub fn pod_template_validator(&self) -> Option<&Validator> {
        self.template
            .get_or_init(|| self.compile(POD_TEMPLATE))
            .as_ref()
    }

    /// The schema of a pod template.
    pub fn pod_template(&self) -> Option<Node<'_>> {
        let (schema, name) = self.resolve(&format!("#/$defs/{POD_TEMPLATE}"))?;
        Some(Node {
            schema,
            definition: Some(name),
        })
    }

    fn compile(&self, definition: &str) -> Option<Validator> {
        let registry = self.registry.get_or_init(|| self.registry()).as_ref()?;
        let reference = serde_json::json!({
            "$ref": format!("{}#/$defs/{definition}", self.uri())
        });
        super::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_registry(registry)
            .build(&reference)
            .ok()
    }

    /// One document holding every definition and kind of the minor, under
    /// `$defs`, where the `$ref`s point.
    ///
    /// A workload's pod template is left open there: it is checked on its own
    /// with [`Schemas::pod_template_validator`], so the pod spec, most of
    /// every workload schema, is compiled once rather than once per kind.
    fn registry(&self) -> Option<Registry<'static>> {
        let mut defs = Map::new();
        for (name, &index) in &self.minor.defs {
            let mut schema = self.bundle.defs.get(index)?.clone();
            open_pod_templates(&mut schema);
            defs.insert(name.clone(), schema);
        }
        for (kind, &index) in &self.minor.kinds {
            let mut schema = self.bundle.defs.get(index)?.clone();
            open_pod_templates(&mut schema);
            defs.insert(kind_key(kind), schema);
        }
        let mut document = Map::new();
        document.insert("$defs".to_owned(), Value::Object(defs));
        Registry::new()
            .draft(jsonschema::Draft::Draft202012)
            .add(document_uri(self.version), Value::Object(document))
            .ok()?
            .prepare()
            .ok()
    }

    /// The root schema of `apiVersion/Kind`, to read errors against.
    pub fn root(&self, api_version: &str, kind: &str) -> Option<Node<'_>> {
        let index = *self.minor.kinds.get(&format!("{api_version}/{kind}"))?;
        Some(Node {
            schema: self.bundle.defs.get(index)?,
            definition: None,
        })
    }

    #[cfg(test)]
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.minor.kinds.keys().map(String::as_str)
    }
}

impl Resolve for Schemas {
    fn resolve(&self, reference: &str) -> Option<(&Value, &str)> {
        let name = reference.strip_prefix("#/$defs/")?;
        let (name, &index) = self.minor.defs.get_key_value(name)?;
        Some((self.bundle.defs.get(index)?, name.as_str()))
    }
}

const POD_TEMPLATE: &str = "io.k8s.api.core.v1.PodTemplateSpec";

/// Replaces every reference to the pod template definition with a schema
/// that takes any object.
fn open_pod_templates(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let reference = map.get("$ref").and_then(Value::as_str);
            if reference.and_then(|r| r.strip_prefix("#/$defs/")) == Some(POD_TEMPLATE) {
                map.clear();
                map.insert("type".to_owned(), serde_json::json!(["object", "null"]));
                return;
            }
            map.values_mut().for_each(open_pod_templates);
        }
        Value::Array(items) => items.iter_mut().for_each(open_pod_templates),
        _ => {}
    }
}

/// Where a `$ref` to a kind's root schema points: `kind.apps.v1.Deployment`.
fn kind_key(api_version_kind: &str) -> String {
    format!("kind.{}", api_version_kind.replace('/', "."))
}

fn document_uri(version: KubeVersion) -> String {
    format!("https://rollsafe.dev/schemas/kubernetes/{version}.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_minor_holds_the_kinds_rollsafe_reads() {
        for minor in KubeVersion::OLDEST.minor..=KubeVersion::NEWEST.minor {
            let version = KubeVersion::new(1, minor);
            let schemas = schemas(version).unwrap_or_else(|| panic!("no schemas for {version}"));
            for kind in [
                "v1/Pod",
                "apps/v1/Deployment",
                "apps/v1/ReplicaSet",
                "v1/ReplicationController",
                "apps/v1/StatefulSet",
                "apps/v1/DaemonSet",
                "batch/v1/Job",
                "batch/v1/CronJob",
                "v1/Service",
                "policy/v1/PodDisruptionBudget",
                "autoscaling/v2/HorizontalPodAutoscaler",
                "autoscaling/v1/HorizontalPodAutoscaler",
                "v1/ConfigMap",
                "v1/PersistentVolumeClaim",
            ] {
                assert!(schemas.kinds().any(|k| k == kind), "{version}: {kind}");
            }
        }
    }

    #[test]
    fn every_kind_compiles_and_accepts_a_minimal_object() {
        let schemas = schemas(KubeVersion::NEWEST).unwrap_or_else(|| panic!("no schemas"));
        let kinds: Vec<&str> = schemas.kinds().collect();
        for kind in kinds {
            let (api_version, name) = kind.rsplit_once('/').unwrap_or_default();
            let validator = schemas
                .validator(api_version, name)
                .unwrap_or_else(|| panic!("{kind} does not compile"));
            let object =
                json!({"apiVersion": api_version, "kind": name, "metadata": {"name": "x"}});
            // Kinds with a required `spec` reject this; none may reject `metadata`.
            for error in validator.iter_errors(&object) {
                assert_eq!(error.instance_path().as_str(), "", "{kind}: {error}");
            }
        }
    }
}
