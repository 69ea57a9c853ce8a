//! The Kubernetes JSON Schemas compiled into the binary
//! (`schemas/kubernetes.json`, written by `scripts/update-schemas.py`), and
//! those of the custom resources rollsafe knows (`schemas/custom-resources.json`,
//! written by `scripts/update-custom-resource-schemas.py`): Argo Rollouts'
//! `Rollout`, Gateway API's `HTTPRoute` and `Gateway`, Istio's `VirtualService`
//! and `DestinationRule`. A custom resource has one schema for every minor; its
//! `metadata` and pod template are the minor's.
//!
//! Documents are checked against tables generated from the file when
//! rollsafe is built (`tables`): a run compiles nothing. The file itself is
//! embedded too, for explaining what a check found (which fields an object
//! has, which definition a value belongs to): nothing of it is read until a
//! problem needs explaining, then only the definitions reached, each parsed
//! once. The file holds every distinct definition once, one per line, and
//! per Kubernetes minor which definitions and kinds that minor has; the
//! tables say the latter.

use std::sync::OnceLock;

use serde_json::Value;

use super::fault::Fault;
use super::tables::{self, Minor};
use super::walk::{Node, Resolve};
use crate::model::KubeVersion;

const BUNDLE: &str = include_str!("../../schemas/kubernetes.json");
const CUSTOM_BUNDLE: &str = include_str!("../../schemas/custom-resources.json");

/// The file's definitions, each parsed on first use.
struct Bundle {
    defs: Vec<Lazy>,
}

/// JSON text, parsed the first time it is read.
struct Lazy {
    text: &'static str,
    parsed: OnceLock<Option<Value>>,
}

impl Lazy {
    fn get(&self) -> Option<&Value> {
        self.parsed
            .get_or_init(|| serde_json::from_str(self.text).ok())
            .as_ref()
    }
}

impl Bundle {
    /// Splits the files as the scripts write them: a line `"defs":[`, one
    /// definition per line, then a line starting `],"` (`],"versions":{`,
    /// `],"kinds":{`). The custom resources' definitions follow the
    /// Kubernetes ones, as the tables number them.
    fn split(texts: &[&'static str]) -> Bundle {
        let mut defs = Vec::new();
        for text in texts {
            let mut lines = text.lines();
            for line in lines.by_ref() {
                if line == "\"defs\":[" {
                    break;
                }
            }
            defs.extend(
                lines
                    .take_while(|line| !line.starts_with("],\""))
                    .map(|line| Lazy {
                        text: line.strip_suffix(',').unwrap_or(line),
                        parsed: OnceLock::new(),
                    }),
            );
        }
        Bundle { defs }
    }

    fn def(&self, index: usize) -> Option<&Value> {
        self.defs.get(index)?.get()
    }
}

fn bundle() -> &'static Bundle {
    static SPLIT: OnceLock<Bundle> = OnceLock::new();
    SPLIT.get_or_init(|| Bundle::split(&[BUNDLE, CUSTOM_BUNDLE]))
}

/// The schemas of one Kubernetes minor.
#[derive(Debug, Clone, Copy)]
pub struct Schemas {
    tables: &'static Minor,
}

/// The kind of an object, as a minor's schemas have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    definition: usize,
}

/// The schemas of a minor; `None` for a minor the embedded file does not
/// hold (a bug the tests catch).
pub fn schemas(version: KubeVersion) -> Option<Schemas> {
    if version.major != 1 || version < KubeVersion::OLDEST || version > KubeVersion::NEWEST {
        return None;
    }
    tables::minor(version.minor).map(|tables| Schemas { tables })
}

impl Schemas {
    /// `apiVersion/Kind`, when this minor has it.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<Kind> {
        let definition = self.tables.kind(&format!("{api_version}/{kind}"))?;
        Some(Kind { definition })
    }

    /// Whether the kind is a custom resource (its schema is not Kubernetes').
    pub fn is_custom_resource(&self, kind: Kind) -> bool {
        Minor::is_custom_resource(kind.definition)
    }

    /// What is wrong with an object of a kind. A pod template in it is left
    /// open: [`Schemas::check_pod_template`] checks it, so that a run judges
    /// the pod spec, most of every workload schema, the same way whatever
    /// the kind.
    pub fn check<'v>(&self, kind: Kind, value: &'v Value) -> Vec<Fault<'v>> {
        self.tables.check(kind.definition, value)
    }

    /// What is wrong with a pod template (`PodTemplateSpec`): the template of
    /// every workload kind, custom kinds included.
    pub fn check_pod_template<'v>(&self, value: &'v Value) -> Vec<Fault<'v>> {
        match self.tables.pod_template() {
            Some(definition) => self.tables.check(definition, value),
            None => Vec::new(),
        }
    }

    /// The schema of a kind, to read faults against.
    pub fn root(&self, kind: Kind) -> Option<Node<'static>> {
        Some(Node {
            schema: bundle().def(kind.definition)?,
            definition: None,
        })
    }

    /// The schema of a pod template.
    pub fn pod_template(&self) -> Option<Node<'static>> {
        let definition = self.tables.pod_template()?;
        let (_, name) = self.tables.definition(POD_TEMPLATE)?;
        Some(Node {
            schema: bundle().def(definition)?,
            definition: Some(name),
        })
    }

    #[cfg(test)]
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> {
        self.tables.kinds().map(|(kind, _)| kind)
    }
}

impl Resolve for Schemas {
    fn resolve(&self, reference: &str) -> Option<(&Value, &str)> {
        let name = reference.strip_prefix("#/$defs/")?;
        let (definition, name) = self.tables.definition(name)?;
        Some((bundle().def(definition)?, name))
    }
}

const POD_TEMPLATE: &str = "io.k8s.api.core.v1.PodTemplateSpec";

/// Where the pod template of a custom resource is (`/spec/template`), for
/// those that have one.
pub fn custom_template(api_version: &str, kind: &str) -> Option<&'static str> {
    Minor::template(&format!("{api_version}/{kind}"))
}

/// Whether rollsafe holds a schema for the custom resource `apiVersion/Kind`.
pub fn is_known_custom_resource(api_version: &str, kind: &str) -> bool {
    schemas(KubeVersion::NEWEST)
        .and_then(|schemas| {
            let kind = schemas.kind(api_version, kind)?;
            Some(schemas.is_custom_resource(kind))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn whole() -> Value {
        serde_json::from_str(BUNDLE).unwrap_or_else(|e| panic!("{e}"))
    }

    fn custom() -> Value {
        serde_json::from_str(CUSTOM_BUNDLE).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_files_split_into_the_json_they_hold() {
        let (whole, custom) = (whole(), custom());
        let bundle = bundle();
        let all: Vec<&Value> = whole["defs"]
            .as_array()
            .into_iter()
            .chain(custom["defs"].as_array())
            .flatten()
            .collect();
        assert_eq!(bundle.defs.len(), all.len());
        for (index, def) in all.into_iter().enumerate() {
            assert_eq!(bundle.def(index), Some(def), "definition {index}");
        }
    }

    /// Every minor has every custom resource, with the file's schema, and a
    /// pod template where the file says.
    #[test]
    fn the_tables_index_the_custom_resources() {
        let (whole, custom) = (whole(), custom());
        let first = whole["defs"].as_array().map_or(0, Vec::len) as u64;
        let kinds = custom["kinds"]
            .as_object()
            .unwrap_or_else(|| panic!("kinds"));
        assert!(kinds.len() >= 11, "{kinds:?}");
        for minor in KubeVersion::OLDEST.minor..=KubeVersion::NEWEST.minor {
            let version = KubeVersion::new(1, minor);
            let schemas = schemas(version).unwrap_or_else(|| panic!("no schemas for {version}"));
            for (key, def) in kinds {
                let (api_version, kind) = key.rsplit_once('/').unwrap_or_default();
                let found = schemas.kind(api_version, kind);
                let expected = def.as_u64().map(|d| d + first);
                assert_eq!(found.map(|k| k.definition as u64), expected, "{key}");
                assert!(
                    found.is_some_and(|k| schemas.is_custom_resource(k)),
                    "{key}"
                );
                assert!(is_known_custom_resource(api_version, kind), "{key}");
                let template = custom["templates"][key].as_str();
                assert_eq!(custom_template(api_version, kind), template, "{key}");
            }
            let deployment = schemas.kind("apps/v1", "Deployment");
            assert!(deployment.is_some_and(|k| !schemas.is_custom_resource(k)));
        }
        assert_eq!(
            custom_template("argoproj.io/v1alpha1", "Rollout"),
            Some("/spec/template")
        );
        assert!(!is_known_custom_resource("apps/v1", "Deployment"));
        assert!(!is_known_custom_resource("example.com/v1", "Rollout"));
    }

    /// The tables give each minor the kinds and definitions the file gives it.
    #[test]
    fn the_tables_index_the_file() {
        let whole = whole();
        let versions = whole["versions"].as_object().map_or(0, Map::len);
        assert_eq!(versions, MINORS);
        for minor in KubeVersion::OLDEST.minor..=KubeVersion::NEWEST.minor {
            let version = KubeVersion::new(1, minor);
            let index = &whole["versions"][version.to_string()];
            let schemas = schemas(version).unwrap_or_else(|| panic!("no schemas for {version}"));
            let kinds = index["kinds"]
                .as_object()
                .unwrap_or_else(|| panic!("{version}"));
            let custom = custom();
            let custom_kinds = custom["kinds"].as_object().map_or(0, Map::len);
            assert_eq!(
                schemas.kinds().count(),
                kinds.len() + custom_kinds,
                "{version}"
            );
            for (key, def) in kinds {
                let (api_version, kind) = key.rsplit_once('/').unwrap_or_default();
                let found = schemas.kind(api_version, kind).map(|k| k.definition as u64);
                assert_eq!(found, def.as_u64(), "{version} {key}");
            }
            let defs = index["defs"]
                .as_object()
                .unwrap_or_else(|| panic!("{version}"));
            for (name, def) in defs {
                let found = schemas.tables.definition(name);
                assert_eq!(
                    found.map(|(d, _)| d as u64),
                    def.as_u64(),
                    "{version} {name}"
                );
                assert_eq!(found.map(|(_, n)| n), Some(name.as_str()));
            }
            assert_eq!(schemas.tables.definition("io.k8s.Nothing"), None);
            let template = schemas.pod_template().map(|node| node.definition);
            assert_eq!(template, Some(Some(POD_TEMPLATE)), "{version}");
        }
    }

    const MINORS: usize = (KubeVersion::NEWEST.minor - KubeVersion::OLDEST.minor + 1) as usize;

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
        assert!(schemas(KubeVersion::new(1, 24)).is_none());
        assert!(schemas(KubeVersion::new(2, 30)).is_none());
    }

    fn valid(kind: &str, object: &Value) -> bool {
        let schemas = schemas(KubeVersion::NEWEST).unwrap_or_else(|| panic!("no schemas"));
        let (api_version, name) = kind.rsplit_once('/').unwrap_or_default();
        let kind = schemas
            .kind(api_version, name)
            .unwrap_or_else(|| panic!("no {kind}"));
        schemas.check(kind, object).is_empty()
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
    fn every_kind_accepts_a_minimal_object() {
        let schemas = schemas(KubeVersion::NEWEST).unwrap_or_else(|| panic!("no schemas"));
        for kind in schemas.kinds() {
            let (api_version, name) = kind.rsplit_once('/').unwrap_or_default();
            let object =
                json!({"apiVersion": api_version, "kind": name, "metadata": {"name": "x"}});
            let checked = schemas
                .kind(api_version, name)
                .map(|k| schemas.check(k, &object));
            // Kinds with a required `spec` reject this; none may reject `metadata`.
            for fault in checked.into_iter().flatten() {
                assert_eq!(fault.pointer, "", "{kind}: {fault:?}");
            }
        }
    }
}
