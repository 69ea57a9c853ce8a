//! The Kubernetes JSON Schemas compiled into the binary
//! (`schemas/kubernetes.json`, written by `scripts/update-schemas.py`).
//!
//! The file holds every distinct definition once and, per Kubernetes minor,
//! which definitions and kinds that minor has, one of either per line. Nothing
//! is parsed until a document needs it; then only the lines of its minor are:
//! the minor's index, and each definition the first time it is reached. Each
//! kind's validator is compiled once per process, on first use. Reading a
//! minor's schema (to explain an error) needs no validator.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::Validator;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::walk::{Node, Resolve};
use crate::model::KubeVersion;

const BUNDLE: &str = include_str!("../../schemas/kubernetes.json");

/// The file's lines, each parsed on first use.
struct Bundle {
    defs: Vec<Lazy<Value>>,
    versions: HashMap<&'static str, Lazy<Minor>>,
}

/// One minor: `apiVersion/Kind` → schema, and definition name → schema,
/// both as indexes into `Bundle::defs`.
#[derive(Debug, Deserialize)]
struct Minor {
    kinds: HashMap<String, usize>,
    defs: HashMap<String, usize>,
}

/// JSON text, parsed the first time it is read.
struct Lazy<T> {
    text: &'static str,
    parsed: OnceLock<Option<T>>,
}

impl<T: serde::de::DeserializeOwned> Lazy<T> {
    fn new(text: &'static str) -> Self {
        Lazy {
            text,
            parsed: OnceLock::new(),
        }
    }

    fn get(&self) -> Option<&T> {
        self.parsed
            .get_or_init(|| serde_json::from_str(self.text).ok())
            .as_ref()
    }
}

impl Bundle {
    /// Splits the file as `scripts/update-schemas.py` writes it: a line
    /// `"defs":[`, one definition per line, a line starting `],"versions":{`,
    /// then one `"1.37":{…}` per line.
    fn split(text: &'static str) -> Bundle {
        let mut lines = text.lines();
        for line in lines.by_ref() {
            if line == "\"defs\":[" {
                break;
            }
        }
        let mut defs = Vec::new();
        for line in lines.by_ref() {
            if line.starts_with("],\"versions\":{") {
                break;
            }
            defs.push(Lazy::new(line.strip_suffix(',').unwrap_or(line)));
        }
        let mut versions = HashMap::new();
        for line in lines {
            let line = line.strip_suffix(',').unwrap_or(line);
            let Some((minor, index)) = line.split_once(':') else {
                continue;
            };
            versions.insert(minor.trim_matches('"'), Lazy::new(index));
        }
        Bundle { defs, versions }
    }

    fn def(&self, index: usize) -> Option<&Value> {
        self.defs.get(index)?.get()
    }
}

fn bundle() -> &'static Bundle {
    static SPLIT: OnceLock<Bundle> = OnceLock::new();
    SPLIT.get_or_init(|| Bundle::split(BUNDLE))
}

const MINORS: usize = (KubeVersion::NEWEST.minor - KubeVersion::OLDEST.minor + 1) as usize;

/// The schemas of one Kubernetes minor.
pub struct Schemas {
    version: KubeVersion,
    bundle: &'static Bundle,
    minor: &'static Minor,
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
    fn prepare(version: KubeVersion) -> Option<Schemas> {
        let bundle = bundle();
        let minor = bundle.versions.get(version.to_string().as_str())?.get()?;
        let validators = minor
            .kinds
            .keys()
            .map(|kind| (kind.as_str(), OnceLock::new()))
            .collect();
        Some(Schemas {
            version,
            bundle,
            minor,
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

    /// A validator for one definition or kind: a self-contained schema
    /// holding, under `$defs`, the definitions reachable from it.
    ///
    /// A workload's pod template is left open there: it is checked on its own
    /// with [`Schemas::pod_template_validator`], so the pod spec, most of
    /// every workload schema, is compiled once rather than once per kind.
    fn compile(&self, root: &str) -> Option<Validator> {
        let mut defs = Map::new();
        let mut pending = vec![root.to_owned()];
        while let Some(name) = pending.pop() {
            if defs.contains_key(&name) {
                continue;
            }
            let index = match name.strip_prefix(KIND_PREFIX) {
                Some(_) => self
                    .minor
                    .kinds
                    .iter()
                    .find(|(kind, _)| kind_key(kind) == name)
                    .map(|(_, &index)| index),
                None => self.minor.defs.get(&name).copied(),
            }?;
            let mut schema = self.bundle.def(index)?.clone();
            open_pod_templates(&mut schema);
            references(&schema, &mut pending);
            defs.insert(name, schema);
        }
        let mut document = Map::new();
        // The schemas use nothing newer than draft 7, and building draft
        // 2020-12's meta-schema validator costs a third of a one-file lint.
        // Draft 7 asserts `format`, which for these schemas means
        // `date-time` only: a malformed timestamp the API server refuses too.
        document.insert(
            "$schema".to_owned(),
            Value::String("http://json-schema.org/draft-07/schema#".to_owned()),
        );
        document.insert("$ref".to_owned(), Value::String(format!("#/$defs/{root}")));
        document.insert("$defs".to_owned(), Value::Object(defs));
        super::compile(&Value::Object(document)).ok()
    }

    /// The root schema of `apiVersion/Kind`, to read errors against.
    pub fn root(&self, api_version: &str, kind: &str) -> Option<Node<'_>> {
        let index = *self.minor.kinds.get(&format!("{api_version}/{kind}"))?;
        Some(Node {
            schema: self.bundle.def(index)?,
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
        Some((self.bundle.def(index)?, name.as_str()))
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

/// The definition names a schema's `$ref`s point to.
fn references(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            let reference = map.get("$ref").and_then(Value::as_str);
            if let Some(name) = reference.and_then(|r| r.strip_prefix("#/$defs/")) {
                out.push(name.to_owned());
            }
            map.values().for_each(|value| references(value, out));
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

const KIND_PREFIX: &str = "kind.";

/// Where a `$ref` to a kind's root schema points: `kind.apps.v1.Deployment`.
fn kind_key(api_version_kind: &str) -> String {
    format!("{KIND_PREFIX}{}", api_version_kind.replace('/', "."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_file_splits_into_the_json_it_holds() {
        let whole: Value = serde_json::from_str(BUNDLE).unwrap_or_else(|e| panic!("{e}"));
        let bundle = bundle();
        let defs = whole["defs"].as_array().map_or(0, Vec::len);
        assert_eq!(bundle.defs.len(), defs);
        for (index, def) in whole["defs"].as_array().into_iter().flatten().enumerate() {
            assert_eq!(bundle.def(index), Some(def), "definition {index}");
        }
        let versions = whole["versions"].as_object().map_or(0, Map::len);
        assert_eq!(bundle.versions.len(), versions);
        assert!(bundle.versions.values().all(|minor| minor.get().is_some()));
    }

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

    fn valid(kind: &str, object: &Value) -> bool {
        let schemas = schemas(KubeVersion::NEWEST).unwrap_or_else(|| panic!("no schemas"));
        let (api_version, name) = kind.rsplit_once('/').unwrap_or_default();
        schemas
            .validator(api_version, name)
            .unwrap_or_else(|| panic!("{kind} does not compile"))
            .is_valid(object)
    }

    #[test]
    fn quantities_percentages_and_port_names() {
        let quantity = |q: Value| {
            let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
                "spec": {"resources": {"requests": {"storage": q}}}});
            valid("v1/PersistentVolumeClaim", &pvc)
        };
        for good in [
            "500Mi", "1Gi", "0.5", "100m", "1", "1.5Gi", "+1k", "-2", "1e3", "1E-2", ".5", "5.",
            "250u", "10n",
        ] {
            assert!(quantity(json!(good)), "{good}");
        }
        assert!(quantity(json!(256000)) && quantity(json!(0.5)) && quantity(Value::Null));
        for bad in [
            "500MB", "1gi", "", "Mi", "1.2.3", "1 Gi", "1K", "1e", "abc", "1Gi ", "1ee3",
        ] {
            assert!(!quantity(json!(bad)), "{bad}");
        }
        let share = |v: Value| {
            let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": "p"}, "spec": {"minAvailable": v}});
            valid("policy/v1/PodDisruptionBudget", &pdb)
        };
        assert!(share(json!("25%")) && share(json!("0%")) && share(json!(1)) && share(Value::Null));
        for bad in ["25", "25 %", "2.5%", "%", "-5%", "%25"] {
            assert!(!share(json!(bad)), "{bad}");
        }
        let port = |v: Value| {
            let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"ports": [{"port": 80, "targetPort": v}]}});
            valid("v1/Service", &service)
        };
        assert!(port(json!("http")) && port(json!("metrics-2")) && port(json!(8080)));
        for bad in [
            "8080",
            "HTTP",
            "-http",
            "http-",
            "a--b",
            "sixteen-letters-x",
            "",
        ] {
            assert!(!port(json!(bad)), "{bad}");
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
