//! The tables check finds what a validator compiled from the same schemas
//! finds, in the same order and worded the same: `jsonschema`, with the
//! schema documents rollsafe compiled before it had tables (draft 7, a
//! kind's pod template left open), judges the documents of `testdata/` and
//! many variations of them, for every minor.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::embedded::{self, Schemas};
use super::fault::{Fault, FaultKind};
use crate::model::KubeVersion;

const BUNDLE: &str = include_str!("../../schemas/kubernetes.json");
const CUSTOM_BUNDLE: &str = include_str!("../../schemas/custom-resources.json");
const POD_TEMPLATE: &str = "io.k8s.api.core.v1.PodTemplateSpec";

fn bundle() -> &'static Value {
    static WHOLE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    WHOLE.get_or_init(|| serde_json::from_str(BUNDLE).unwrap_or_else(|e| panic!("{e}")))
}

fn custom_bundle() -> &'static Value {
    static WHOLE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    WHOLE.get_or_init(|| serde_json::from_str(CUSTOM_BUNDLE).unwrap_or_else(|e| panic!("{e}")))
}

/// What the schema check compiled before: a self-contained schema holding,
/// under `$defs`, the definitions reachable from the root (a kind, or the pod
/// template), every reference to the pod template left open.
fn validator(minor: &str, kind: Option<&str>) -> jsonschema::Validator {
    let whole = bundle();
    let index = &whole["versions"][minor];
    let root = match kind {
        Some(kind) => format!("kind.{}", kind.replace('/', ".")),
        None => POD_TEMPLATE.to_owned(),
    };
    let mut defs = Map::new();
    let mut pending = vec![root.clone()];
    while let Some(name) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        // A custom resource's schema is the same in every minor; what it
        // refers to is the minor's.
        let custom = custom_bundle();
        let (pool, at) = match (name.strip_prefix("kind."), kind) {
            (Some(_), Some(kind)) if custom["kinds"].get(kind).is_some() => {
                (&custom["defs"], &custom["kinds"][kind])
            }
            (Some(_), Some(kind)) => (&whole["defs"], &index["kinds"][kind]),
            _ => (&whole["defs"], &index["defs"][&name]),
        };
        let at = at.as_u64().unwrap_or_else(|| panic!("{minor}: no {name}"));
        let mut schema = pool[at as usize].clone();
        open_pod_templates(&mut schema);
        references(&schema, &mut pending);
        defs.insert(name, schema);
    }
    let document = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": format!("#/$defs/{root}"),
        "$defs": defs,
    });
    jsonschema::validator_for(&document).unwrap_or_else(|e| panic!("{minor} {root}: {e}"))
}

fn open_pod_templates(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let reference = map.get("$ref").and_then(Value::as_str);
            if reference.and_then(|r| r.strip_prefix("#/$defs/")) == Some(POD_TEMPLATE) {
                map.clear();
                map.insert("type".to_owned(), json!(["object", "null"]));
                return;
            }
            map.values_mut().for_each(open_pod_templates);
        }
        Value::Array(items) => items.iter_mut().for_each(open_pod_templates),
        _ => {}
    }
}

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

/// A fault as one line: where, what, and how the validator would word it.
fn line(fault: &Fault<'_>) -> String {
    let what = match &fault.kind {
        FaultKind::Unknown(keys) => format!("unknown {keys:?}"),
        FaultKind::Type(said) => format!("type: {said}"),
        FaultKind::Required(name) => format!("required {name}"),
        FaultKind::Enum(options) => format!("enum {options:?}"),
        FaultKind::Form(said) => format!("form: {said}"),
        FaultKind::Range(said) => format!("range: {said}"),
        FaultKind::Other(said) => format!("other: {said}"),
    };
    format!("{} {what}", fault.pointer)
}

fn validator_lines(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .filter_map(|error| Fault::from_validation_error(&error))
        .map(|fault| line(&fault))
        .collect()
}

fn table_lines(faults: &[Fault<'_>]) -> Vec<String> {
    faults.iter().map(line).collect()
}

/// Validators by minor and root, compiled once.
#[derive(Default)]
struct Validators(HashMap<(String, Option<String>), jsonschema::Validator>);

impl Validators {
    fn get(&mut self, minor: &str, kind: Option<&str>) -> &jsonschema::Validator {
        self.0
            .entry((minor.to_owned(), kind.map(str::to_owned)))
            .or_insert_with(|| validator(minor, kind))
    }
}

/// Compares both checks of `value` in one minor: as the kind `apiVersion/Kind`,
/// when the minor has it, and its pod templates. Returns how many faults
/// were compared.
fn compare(
    validators: &mut Validators,
    version: KubeVersion,
    key: &str,
    value: &Value,
    what: &str,
) -> usize {
    let minor = version.to_string();
    let schemas: Schemas =
        embedded::schemas(version).unwrap_or_else(|| panic!("no schemas for {minor}"));
    let (api_version, kind_name) = key.rsplit_once('/').unwrap_or_default();
    let mut compared = 0;
    if let Some(kind) = schemas.kind(api_version, kind_name) {
        let expected = validator_lines(validators.get(&minor, Some(key)), value);
        let found = table_lines(&schemas.check(kind, value));
        assert_eq!(found, expected, "{minor} {what}: {value}");
        compared += expected.len();
    }
    for template in [
        value.pointer("/spec/template"),
        value.pointer("/spec/jobTemplate/spec/template"),
    ]
    .into_iter()
    .flatten()
    {
        let expected = validator_lines(validators.get(&minor, None), template);
        let found = table_lines(&schemas.check_pod_template(template));
        assert_eq!(found, expected, "{minor} {what}, pod template: {template}");
        compared += expected.len();
    }
    compared
}

/// Every document of `testdata/` that parses as YAML into JSON.
fn documents() -> Vec<(String, Value)> {
    let mut files = Vec::new();
    collect_files(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .as_path(),
        &mut files,
    );
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        // Read as a lint reads them: YAML decoded as Kubernetes decodes it.
        let source = crate::source::SourceFile::new(file.display().to_string(), text);
        let (documents, _) = crate::source::parse_documents(&source, &|_, _| true);
        for (n, document) in documents.into_iter().enumerate() {
            let value = document.value;
            if KINDS.contains(&value["kind"].as_str().unwrap_or_default()) {
                out.push((format!("{}#{n}", file.display()), value));
            }
        }
    }
    out
}

fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

const KINDS: [&str; 18] = [
    "Pod",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Rollout",
    "HTTPRoute",
    "Gateway",
    "VirtualService",
    "DestinationRule",
];

/// A small deterministic generator (xorshift).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values the schemas have something to say about.
fn samples() -> Vec<Value> {
    vec![
        json!("x"),
        json!(""),
        json!("25"),
        json!("25%"),
        json!("2.5%"),
        json!("8080"),
        json!("http"),
        json!("HTTP"),
        json!("a--b"),
        json!("metrics-"),
        json!("sixteen-letters-x"),
        json!("1Gi"),
        json!("1gi"),
        json!("500m"),
        json!("1e3"),
        json!("1E"),
        json!("apps/v1"),
        json!("2024-02-29T12:00:00Z"),
        json!("2023-02-29T12:00:00Z"),
        json!("2016-12-31T23:59:60Z"),
        json!("2016-12-31T23:59:60+01:00"),
        json!("2024-01-01 00:00:00"),
        json!(3),
        json!(-1),
        json!(3.5),
        json!(3.0),
        json!(1e20),
        json!(u64::MAX),
        json!(true),
        json!(false),
        Value::Null,
        json!([]),
        json!(["x", 1]),
        json!({}),
        json!({"bogus": 1, "name": "n"}),
        json!({"name": "n", "image": "i"}),
        json!([{"name": "c", "bogus": true}]),
        json!(1_000_001),
        json!(65536),
        json!(0),
    ]
}

/// Every pointer in a value, the value's own (`""`) first.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                let mut child = at.clone();
                crate::source::push_token(&mut child, key);
                pointers(member, child, out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// `value` with one random change: a value replaced, a key renamed, dropped
/// or added.
fn mutate(value: &mut Value, random: &mut Random, samples: &[Value]) {
    let mut all = Vec::new();
    pointers(value, String::new(), &mut all);
    let at = all[random.below(all.len())].clone();
    let choice = random.below(4);
    let Some(target) = value.pointer_mut(&at) else {
        return;
    };
    match (choice, target) {
        (0, target) if !at.is_empty() => *target = samples[random.below(samples.len())].clone(),
        (1, Value::Object(map)) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[random.below(keys.len())];
            if let Some(member) = map.remove(key) {
                let renamed = match random.below(3) {
                    0 => key.to_lowercase(),
                    1 => format!("{key}s"),
                    _ => key.chars().rev().collect(),
                };
                map.insert(renamed, member);
            }
        }
        (2, Value::Object(map)) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            map.remove(&keys[random.below(keys.len())]);
        }
        (_, Value::Object(map)) => {
            let sample = samples[random.below(samples.len())].clone();
            map.insert(format!("extra{}", random.below(3)), sample);
        }
        (_, target) => *target = samples[random.below(samples.len())].clone(),
    }
}

#[test]
fn the_tables_find_what_the_validator_finds() {
    let documents = documents();
    assert!(documents.len() > 100, "{} documents", documents.len());
    let samples = samples();
    let mut validators = Validators::default();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut compared = 0;
    let minors: Vec<KubeVersion> = (KubeVersion::OLDEST.minor..=KubeVersion::NEWEST.minor)
        .map(|minor| KubeVersion::new(1, minor))
        .collect();
    for (name, value) in &documents {
        let key = format!(
            "{}/{}",
            value["apiVersion"].as_str().unwrap_or_default(),
            value["kind"].as_str().unwrap_or_default()
        );
        for &version in &minors {
            compared += compare(&mut validators, version, &key, value, name);
        }
        for round in 0..12 {
            let mut mutant = value.clone();
            for _ in 0..=random.below(3) {
                mutate(&mut mutant, &mut random, &samples);
            }
            let version = minors[random.below(minors.len())];
            let what = format!("{name} ({round})");
            compared += compare(&mut validators, version, &key, &mutant, &what);
        }
    }
    // The comparison means something only if the documents have faults.
    assert!(compared > 1000, "{compared} faults compared");
}

#[test]
fn values_of_every_kind_and_template() {
    let mut validators = Validators::default();
    let samples = samples();
    for version in [KubeVersion::OLDEST, KubeVersion::NEWEST] {
        let schemas = embedded::schemas(version).unwrap_or_else(|| panic!("{version}"));
        for kind in schemas.kinds() {
            let (api_version, name) = kind.rsplit_once('/').unwrap_or_default();
            for sample in &samples {
                let value = json!({"apiVersion": api_version, "kind": sample, "spec": sample,
                    "metadata": {"name": "x", "creationTimestamp": sample}});
                compare(&mut validators, version, kind, &value, kind);
                let value = json!({"apiVersion": sample, "kind": name,
                    "spec": {"template": sample, "jobTemplate": {"spec": {"template": sample}}}});
                compare(&mut validators, version, kind, &value, kind);
            }
            compare(&mut validators, version, kind, &json!("x"), kind);
        }
    }
}

/// The pattern and format matchers, against the validator's own, on strings
/// made of the characters that matter to them.
#[test]
fn patterns_and_formats_match_as_the_validator_does() {
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    let checks: [(&str, &[u8], Value); 5] = [
        (
            "quantity",
            b"0123456789.+-eEKMGTPinumk x",
            json!({"pattern": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$"}),
        ),
        (
            "percent",
            b"0123456789%.- ",
            json!({"pattern": "^[0-9]+%$"}),
        ),
        (
            "port name",
            b"az09-A_",
            json!({"pattern": "^[a-z0-9](-?[a-z0-9])*$"}),
        ),
        ("lowercase", b"aZ0-", json!({"pattern": "[a-z]"})),
        (
            "date-time",
            b"0123456789-:.TtZz+ ",
            json!({"format": "date-time"}),
        ),
    ];
    for (name, alphabet, keyword) in checks {
        let mut schema = keyword;
        schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
        let templates = [
            "2016-12-31T23:59:60.5+01:00",
            "2024-02-29T00:59:60-23:00",
            "2016-12-31t23:59:60z",
            "2000-01-01T01:00:60+01:01",
        ];
        for round in 0..20_000 {
            let text: String = if name == "date-time" && round % 2 == 0 {
                // Mostly well formed: a few characters of one changed.
                let template = templates[random.below(templates.len())];
                let mut bytes = template.as_bytes().to_vec();
                for _ in 0..=random.below(2) {
                    let at = random.below(bytes.len());
                    bytes[at] = alphabet[random.below(alphabet.len())];
                }
                if random.below(4) == 0 {
                    bytes.truncate(random.below(bytes.len() + 1));
                }
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..random.below(8))
                    .map(|_| char::from(alphabet[random.below(alphabet.len())]))
                    .collect()
            };
            let value = Value::String(text.clone());
            let expected = validator.is_valid(&value);
            let found = super::tables::matches(name, &text);
            assert_eq!(found, expected, "{name}: {text:?}");
        }
    }
}
