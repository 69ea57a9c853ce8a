//! Turns the Kubernetes JSON Schemas compiled into rollsafe
//! (`schemas/kubernetes.json`) and those of the custom resources it knows
//! (`schemas/custom-resources.json`) into the tables `src/schema/tables.rs`
//! checks documents with. The schemas are fixed when rollsafe is built, so they are
//! read here, once, rather than compiled into validators on every run.
//!
//! Every schema node becomes one entry of `NODES`, identical nodes (within a
//! definition, across definitions, across minors) one entry; `DEFS` gives the
//! node of each definition of the files (the custom resources' after the
//! Kubernetes ones); each minor says which definition an `apiVersion/Kind`
//! and a `$ref` name stand for. A custom resource has one schema for every
//! minor, its `$ref`s (`ObjectMeta`, a pod template) resolved in each. Names are numbers into one
//! text, and lists spans of a few shared ones: the tables hold no pointers,
//! which would each cost a relocation in the binary. A keyword, a form of a
//! keyword or a pattern the checker does not implement stops the build, so
//! that a regenerated file is never checked less strictly than it says.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

use serde_json::{Map, Value};

const SOURCE: &str = "schemas/kubernetes.json";
const CUSTOM_SOURCE: &str = "schemas/custom-resources.json";
const POD_TEMPLATE: &str = "io.k8s.api.core.v1.PodTemplateSpec";
const REF_PREFIX: &str = "#/$defs/";

/// The patterns the checker matches by hand (`tables::Pattern`).
const PATTERNS: [(&str, &str); 4] = [
    (
        r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$",
        "Quantity",
    ),
    ("^[0-9]+%$", "Percent"),
    ("^[a-z0-9](-?[a-z0-9])*$", "LowerAlphanumeric"),
    ("[a-z]", "HasLowercase"),
];

/// Formats a draft 7 validator asserts; of these the checker knows `date-time`.
/// Any other format (`int32`, `byte`) is an annotation only.
const ASSERTED_FORMATS: [&str; 17] = [
    "date",
    "date-time",
    "email",
    "hostname",
    "idn-email",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "iri",
    "iri-reference",
    "json-pointer",
    "regex",
    "relative-json-pointer",
    "time",
    "uri",
    "uri-reference",
    "uri-template",
];

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-changed={CUSTOM_SOURCE}");
    // The target triple the binary was built for, for `rollsafe_build_info`
    // (Cargo gives it to build scripts only).
    let target = env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=ROLLSAFE_TARGET={target}");
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let read = |source: &str| -> Value {
        let text = fs::read_to_string(root.join(source))
            .unwrap_or_else(|e| panic!("cannot read {source}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{source} is not JSON: {e}"))
    };
    let code = generate(&read(SOURCE), &read(CUSTOM_SOURCE))
        .unwrap_or_else(|e| panic!("{SOURCE}, {CUSTOM_SOURCE}: {e}"));
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("schema_tables.rs");
    fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// A schema node as the tables hold it, names still as text.
#[derive(Default)]
struct Node {
    reference: Option<String>,
    types: Option<String>,
    options: Vec<String>,
    max_length: Option<u64>,
    required: Vec<String>,
    required_after_members: bool,
    pattern: Option<&'static str>,
    date_time: bool,
    minimum: Option<i64>,
    maximum: Option<i64>,
    properties: Vec<(String, u16)>,
    additional: Option<String>,
    items: Option<u16>,
    all_of: Vec<u16>,
}

/// Nodes interned by their JSON text.
#[derive(Default)]
struct Nodes {
    nodes: Vec<Node>,
    index: HashMap<String, u16>,
}

/// Every name the tables hold, numbered in sorted order, so that names
/// sorted by number are sorted by text.
struct Names(BTreeMap<String, u16>);

impl Names {
    fn id(&self, name: &str) -> u16 {
        self.0.get(name).copied().unwrap_or(u16::MAX)
    }
}

fn generate(bundle: &Value, custom: &Value) -> Result<String, String> {
    let kubernetes_defs = bundle
        .get("defs")
        .and_then(Value::as_array)
        .ok_or("no `defs` list")?;
    let versions = bundle
        .get("versions")
        .and_then(Value::as_object)
        .ok_or("no `versions` map")?;
    let custom_defs = custom
        .get("defs")
        .and_then(Value::as_array)
        .ok_or("no custom resource `defs` list")?;
    let custom_from = kubernetes_defs.len();
    let defs: Vec<Value> = kubernetes_defs.iter().chain(custom_defs).cloned().collect();
    let defs = &defs;
    // The custom resources, their definitions numbered after the Kubernetes ones.
    let mut custom_kinds = Vec::new();
    for (kind, def) in object(custom, "kinds")? {
        let def = def
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i < custom_defs.len())
            .ok_or_else(|| format!("custom resource {kind}: {def} is not a definition"))?;
        custom_kinds.push((kind.clone(), custom_from + def));
    }
    let mut templates = Vec::new();
    for (kind, pointer) in object(custom, "templates")? {
        let pointer = pointer
            .as_str()
            .ok_or_else(|| format!("template of {kind} is not a pointer"))?;
        if !custom_kinds.iter().any(|(k, _)| k == kind) {
            return Err(format!(
                "a template for {kind}, which is not a custom resource"
            ));
        }
        templates.push((kind.clone(), pointer.to_owned()));
    }
    let mut nodes = Nodes::default();
    let roots = defs
        .iter()
        .map(|def| nodes.intern(def))
        .collect::<Result<Vec<_>, _>>()?;
    if defs.len() >= usize::from(u16::MAX) {
        return Err("more definitions than the tables index".to_owned());
    }

    // The definition names of every minor, and the names of everything.
    let mut definition_names = BTreeSet::new();
    for minor in versions.values() {
        definition_names.extend(object(minor, "defs")?.keys().cloned());
    }
    let mut all = definition_names.clone();
    for minor in versions.values() {
        all.extend(object(minor, "kinds")?.keys().cloned());
    }
    all.extend(custom_kinds.iter().map(|(kind, _)| kind.clone()));
    all.extend(templates.iter().map(|(_, pointer)| pointer.clone()));
    for node in &nodes.nodes {
        all.extend(node.options.iter().cloned());
        all.extend(node.required.iter().cloned());
        all.extend(node.properties.iter().map(|(name, _)| name.clone()));
    }
    if all.len() >= usize::from(u16::MAX) {
        return Err("more names than the tables index".to_owned());
    }
    let names = Names(all.iter().cloned().zip(0..).collect());
    let definition_index: BTreeMap<&str, usize> = definition_names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();

    let mut minors = Vec::new();
    let mut tables: Vec<Vec<u16>> = Vec::new();
    let mut kinds_pool = Vec::new();
    for (version, minor) in versions {
        let number: u32 = version
            .strip_prefix("1.")
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| format!("minor `{version}` is not 1.N"))?;
        let minor_defs = object(minor, "defs")?;
        let index = |value: &Value| {
            value
                .as_u64()
                .and_then(|i| u16::try_from(i).ok())
                .filter(|&i| usize::from(i) < defs.len())
                .ok_or_else(|| format!("{version}: {value} is not a definition"))
        };
        let mut table = vec![u16::MAX; definition_names.len()];
        for (name, def) in minor_defs {
            table[definition_index[name.as_str()]] = index(def)?;
        }
        let mut kinds = Vec::new();
        for (kind, def) in object(minor, "kinds")? {
            kinds.push((kind.clone(), index(def)?));
        }
        for (kind, def) in &custom_kinds {
            if kinds.iter().any(|(k, _)| k == kind) {
                return Err(format!("{version}: {kind} is a Kubernetes kind"));
            }
            let def = u16::try_from(*def).map_err(|_| "more definitions than the tables index")?;
            kinds.push((kind.clone(), def));
        }
        // Every reference reachable from the kinds resolves in this minor.
        let template = minor_defs
            .get(POD_TEMPLATE)
            .ok_or_else(|| format!("{version} has no {POD_TEMPLATE}"))?;
        let mut pending: Vec<u16> = kinds.iter().map(|&(_, def)| def).collect();
        pending.push(index(template)?);
        let mut seen = BTreeSet::new();
        while let Some(def) = pending.pop() {
            if !seen.insert(def) {
                continue;
            }
            let mut found = Vec::new();
            references(&defs[usize::from(def)], &mut found);
            for name in found {
                let resolved = minor_defs
                    .get(&name)
                    .ok_or_else(|| format!("{version}: `$ref` to `{name}`, which it lacks"))?;
                pending.push(index(resolved)?);
            }
        }
        let table_index = match tables.iter().position(|t| *t == table) {
            Some(i) => i,
            None => {
                tables.push(table);
                tables.len() - 1
            }
        };
        kinds.sort();
        let kinds_span = span(
            &mut kinds_pool,
            kinds.iter().map(|(kind, def)| (names.id(kind), *def)),
        );
        minors.push((number, kinds_span, table_index));
    }
    minors.sort();

    let mut properties = Vec::new();
    let mut name_lists = Vec::new();
    let mut node_lists = Vec::new();
    let mut rendered = Vec::new();
    for node in &nodes.nodes {
        let mut fields = Vec::new();
        if let Some(name) = &node.reference {
            let id = definition_index
                .get(name.as_str())
                .ok_or_else(|| format!("`$ref` to `{name}`, which no minor has"))?;
            fields.push(format!("reference: {id}"));
        }
        if let Some(types) = &node.types {
            fields.push(format!("types: {types}"));
        }
        if !node.options.is_empty() {
            let options = span(&mut name_lists, node.options.iter().map(|o| names.id(o)));
            fields.push(format!("options: {options}"));
        }
        if let Some(limit) = node.max_length {
            fields.push(format!("max_length: Some({limit})"));
        }
        if !node.required.is_empty() {
            let required = span(&mut name_lists, node.required.iter().map(|r| names.id(r)));
            fields.push(format!("required: {required}"));
        }
        if node.required_after_members {
            fields.push("required_after_members: true".to_owned());
        }
        if let Some(pattern) = node.pattern {
            fields.push(format!("pattern: Some(Pattern::{pattern})"));
        }
        if node.date_time {
            fields.push("date_time: true".to_owned());
        }
        if let Some(limit) = node.minimum {
            fields.push(format!("minimum: Some({limit})"));
        }
        if let Some(limit) = node.maximum {
            fields.push(format!("maximum: Some({limit})"));
        }
        if !node.properties.is_empty() {
            let entries = node
                .properties
                .iter()
                .map(|(name, id)| (names.id(name), *id));
            fields.push(format!("properties: {}", span(&mut properties, entries)));
        }
        if let Some(additional) = &node.additional {
            fields.push(format!("additional: {additional}"));
        }
        if let Some(items) = node.items {
            fields.push(format!("items: {items}"));
        }
        if !node.all_of.is_empty() {
            let branches = span(&mut node_lists, node.all_of.iter().copied());
            fields.push(format!("all_of: {branches}"));
        }
        fields.push("..Node::ANY".to_owned());
        rendered.push(format!("Node {{ {} }}", fields.join(", ")));
    }

    let pools = [
        properties.len(),
        name_lists.len(),
        node_lists.len(),
        kinds_pool.len(),
    ];
    if pools.iter().any(|&len| len >= usize::from(u16::MAX)) {
        return Err("lists longer than the tables index".to_owned());
    }

    let mut code = String::new();
    let _ = writeln!(
        code,
        "// Generated by build.rs from {SOURCE}: do not edit.\n"
    );
    let text: String = all.iter().map(String::as_str).collect();
    let mut starts = Vec::with_capacity(all.len() + 1);
    let mut at = 0;
    for name in &all {
        starts.push(at);
        at += name.len();
    }
    starts.push(at);
    let _ = writeln!(code, "static TEXT: &str = {text:?};");
    let _ = writeln!(code, "static STARTS: [u32; {}] = {starts:?};", starts.len());
    let _ = writeln!(code, "static NODES: [Node; {}] = [", rendered.len());
    for node in &rendered {
        let _ = writeln!(code, "    {node},");
    }
    let _ = writeln!(code, "];");
    let _ = writeln!(code, "static DEFS: [u16; {}] = {roots:?};", roots.len());
    let _ = writeln!(
        code,
        "static PROPERTIES: [(u16, u16); {}] = {properties:?};",
        properties.len()
    );
    let _ = writeln!(
        code,
        "static NAME_LISTS: [u16; {}] = {name_lists:?};",
        name_lists.len()
    );
    let _ = writeln!(
        code,
        "static NODE_LISTS: [u16; {}] = {node_lists:?};",
        node_lists.len()
    );
    let definition_ids: Vec<u16> = definition_names.iter().map(|n| names.id(n)).collect();
    let _ = writeln!(
        code,
        "static DEFINITION_NAMES: [u16; {}] = {definition_ids:?};",
        definition_ids.len()
    );
    let _ = writeln!(
        code,
        "const POD_TEMPLATE: u16 = {};",
        definition_index[POD_TEMPLATE]
    );
    let _ = writeln!(
        code,
        "static KINDS: [(u16, u16); {}] = {kinds_pool:?};",
        kinds_pool.len()
    );
    let _ = writeln!(code, "const CUSTOM_RESOURCES: usize = {custom_from};");
    templates.sort();
    let templates: Vec<(u16, u16)> = templates
        .iter()
        .map(|(kind, pointer)| (names.id(kind), names.id(pointer)))
        .collect();
    let _ = writeln!(
        code,
        "static TEMPLATES: [(u16, u16); {}] = {templates:?};",
        templates.len()
    );
    for (i, table) in tables.iter().enumerate() {
        let _ = writeln!(
            code,
            "static DEFINITIONS_{i}: [u16; {}] = {table:?};",
            table.len()
        );
    }
    let _ = writeln!(code, "static MINORS: [Minor; {}] = [", minors.len());
    for (number, kinds, table) in &minors {
        let _ = writeln!(
            code,
            "    Minor {{ minor: {number}, kinds: {kinds}, definitions: &DEFINITIONS_{table} }},"
        );
    }
    let _ = writeln!(code, "];");
    Ok(code)
}

/// Appends items to a pool; `Span` expression of where they are.
fn span<T>(pool: &mut Vec<T>, items: impl IntoIterator<Item = T>) -> String {
    let start = pool.len();
    pool.extend(items);
    format!("Span {{ start: {start}, len: {} }}", pool.len() - start)
}

fn object<'a>(value: &'a Value, key: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("no `{key}` map"))
}

/// The definition names a schema's `$ref`s point to.
fn references(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            let reference = map.get("$ref").and_then(Value::as_str);
            if let Some(name) = reference.and_then(|r| r.strip_prefix(REF_PREFIX)) {
                out.push(name.to_owned());
            }
            map.values().for_each(|value| references(value, out));
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

fn strings(value: &Value, keyword: &str) -> Result<Vec<String>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("`{keyword}` is not a list"))?
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("an item of `{keyword}` is not a string"))
        })
        .collect()
}

impl Nodes {
    /// The index of a schema's node, added with the nodes below it.
    fn intern(&mut self, schema: &Value) -> Result<u16, String> {
        let key = schema.to_string();
        if let Some(&index) = self.index.get(&key) {
            return Ok(index);
        }
        let node = self.node(schema).map_err(|e| format!("{e} in {key}"))?;
        let index = u16::try_from(self.nodes.len())
            .ok()
            .filter(|&i| i != u16::MAX)
            .ok_or("more nodes than the tables index")?;
        self.nodes.push(node);
        self.index.insert(key, index);
        Ok(index)
    }

    fn node(&mut self, schema: &Value) -> Result<Node, String> {
        let map = schema.as_object().ok_or("a schema that is not an object")?;
        let mut node = Node::default();
        // Draft 7 ignores whatever sits beside a `$ref`.
        if let Some(reference) = map.get("$ref") {
            let name = reference
                .as_str()
                .and_then(|r| r.strip_prefix(REF_PREFIX))
                .ok_or_else(|| format!("`$ref` {reference} is not local"))?;
            node.reference = Some(name.to_owned());
            return Ok(node);
        }
        let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
        for (keyword, value) in map {
            match keyword.as_str() {
                "type" => node.types = Some(types(value)?),
                "enum" => node.options = strings(value, "enum")?,
                "maxLength" => {
                    node.max_length = Some(value.as_u64().ok_or("`maxLength` is not a count")?);
                }
                "required" => {
                    node.required = strings(value, "required")?;
                    // The one required name of a closed object is checked
                    // after its members, with the unknown ones.
                    node.required_after_members =
                        node.required.len() == 1 && closed && map.contains_key("properties");
                }
                "pattern" => {
                    let pattern = value.as_str().ok_or("`pattern` is not a string")?;
                    let (_, name) = PATTERNS
                        .iter()
                        .find(|(known, _)| *known == pattern)
                        .ok_or_else(|| {
                            format!("pattern `{pattern}`: teach tables::Pattern to match it")
                        })?;
                    node.pattern = Some(name);
                }
                "format" => match value.as_str() {
                    Some("date-time") => node.date_time = true,
                    Some(format) if ASSERTED_FORMATS.contains(&format) => {
                        return Err(format!(
                            "format `{format}`: the checker asserts date-time only"
                        ));
                    }
                    Some(_) => {}
                    None => return Err("`format` is not a string".to_owned()),
                },
                "properties" => {
                    if !closed {
                        return Err("`properties` of an object that is not closed".to_owned());
                    }
                    let properties = value.as_object().ok_or("`properties` is not a map")?;
                    for (name, property) in properties {
                        let id = self.intern(property)?;
                        node.properties.push((name.clone(), id));
                    }
                    // Looked up by binary search.
                    node.properties.sort();
                }
                "additionalProperties" => match value {
                    Value::Bool(true) => {}
                    Value::Bool(false) if map.contains_key("properties") => {
                        node.additional = Some("Additional::Closed".to_owned());
                    }
                    Value::Object(_) if !map.contains_key("properties") => {
                        let id = self.intern(value)?;
                        node.additional = Some(format!("Additional::Schema({id})"));
                    }
                    _ => return Err("`additionalProperties` of a form not handled".to_owned()),
                },
                "items" => {
                    if !value.is_object() {
                        return Err("`items` that is not one schema".to_owned());
                    }
                    node.items = Some(self.intern(value)?);
                }
                "minimum" | "maximum" => {
                    let limit = value
                        .as_i64()
                        .ok_or_else(|| format!("`{keyword}` is not an integer"))?;
                    if keyword == "minimum" {
                        node.minimum = Some(limit);
                    } else {
                        node.maximum = Some(limit);
                    }
                }
                "allOf" => {
                    for branch in value.as_array().ok_or("`allOf` is not a list")? {
                        let id = self.intern(branch)?;
                        node.all_of.push(id);
                    }
                }
                // Read when a problem is explained, from the JSON.
                "x-rollsafe-form" => {}
                other => return Err(format!("keyword `{other}`: the checker does not handle it")),
            }
        }
        Ok(node)
    }
}

/// `type` as `tables.rs` writes it: a bit per type, and `MULTIPLE` for a list
/// of two or more (which the validator words differently).
fn types(value: &Value) -> Result<String, String> {
    let names: Vec<&str> = match value {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names
            .iter()
            .map(|n| n.as_str().ok_or("a `type` that is not a string"))
            .collect::<Result<_, _>>()?,
        _ => return Err("`type` is neither a name nor a list".to_owned()),
    };
    let mut bits = names
        .iter()
        .map(|name| match *name {
            "null" => Ok("NULL"),
            "boolean" => Ok("BOOLEAN"),
            "integer" => Ok("INTEGER"),
            "number" => Ok("NUMBER"),
            "string" => Ok("STRING"),
            "array" => Ok("ARRAY"),
            "object" => Ok("OBJECT"),
            other => Err(format!("type `{other}`")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if bits.is_empty() {
        return Err("an empty `type` list".to_owned());
    }
    if names.len() > 1 {
        bits.push("MULTIPLE");
    }
    Ok(bits.join(" | "))
}
