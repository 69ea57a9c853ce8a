//! Reading a schema along a document's JSON pointer: which fields an object
//! may have, what type a value should be, and the name of its definition.
//! The validator says *that* something is wrong; this says what was meant.

use serde_json::Value;

/// Resolves a `$ref` to the schema it names, with the definition's name.
pub trait Resolve {
    fn resolve(&self, reference: &str) -> Option<(&Value, &str)>;
}

/// A schema node reached by following a pointer.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    pub schema: &'a Value,
    /// The last definition followed on the way (`io.k8s.api.core.v1.Container`).
    pub definition: Option<&'a str>,
}

impl<'a> Node<'a> {
    /// The fields an object of this schema may have (all branches of
    /// `allOf`/`anyOf`/`oneOf` together).
    pub fn properties(&self, resolver: &'a dyn Resolve) -> Vec<&'a str> {
        let mut out = Vec::new();
        collect_properties(self.schema, resolver, &mut out, 0);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The JSON types the schema allows here, `null` left out.
    pub fn types(&self) -> Vec<&'a str> {
        match self.schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The string form Kubernetes reads here, as the embedded schemas name
    /// it (`quantity`, `int-or-percent`, `int-or-port-name`).
    pub fn form(&self) -> Option<&'a str> {
        self.schema.get("x-rollsafe-form").and_then(Value::as_str)
    }

    /// `Container` for `io.k8s.api.core.v1.Container`, `Foo` for `#/definitions/Foo`.
    pub fn short_name(&self) -> Option<&'a str> {
        self.definition
            .map(|name| name.rsplit(['.', '/']).next().unwrap_or(name))
    }
}

/// Follows `$ref`s (a bounded number of them) to the schema they name.
pub fn deref<'a>(mut node: Node<'a>, resolver: &'a dyn Resolve) -> Node<'a> {
    for _ in 0..16 {
        let Some(reference) = node.schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some((schema, name)) = resolver.resolve(reference) else {
            break;
        };
        node = Node {
            schema,
            definition: Some(name),
        };
    }
    node
}

/// The schema of the value at `pointer` below `root`, if the schema describes it.
pub fn at<'a>(root: Node<'a>, pointer: &str, resolver: &'a dyn Resolve) -> Option<Node<'a>> {
    let mut node = deref(root, resolver);
    if pointer.is_empty() {
        return Some(node);
    }
    for token in pointer.strip_prefix('/')?.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        node = deref(child(node, &token, resolver, 0)?, resolver);
    }
    Some(node)
}

fn child<'a>(
    node: Node<'a>,
    token: &str,
    resolver: &'a dyn Resolve,
    depth: usize,
) -> Option<Node<'a>> {
    let schema = node.schema;
    let within = |schema: &'a Value| Node {
        schema,
        definition: node.definition,
    };
    if let Some(property) = schema.get("properties").and_then(|p| p.get(token)) {
        return Some(within(property));
    }
    if let Some(items) = schema.get("items").filter(|i| i.is_object())
        && token.parse::<usize>().is_ok()
    {
        return Some(within(items));
    }
    if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        return Some(within(additional));
    }
    if depth < 8 {
        for branch in branches(schema) {
            let branch = deref(within(branch), resolver);
            if let Some(found) = child(branch, token, resolver, depth + 1) {
                return Some(found);
            }
        }
    }
    None
}

fn collect_properties<'a>(
    schema: &'a Value,
    resolver: &'a dyn Resolve,
    out: &mut Vec<&'a str>,
    depth: usize,
) {
    let schema = deref(
        Node {
            schema,
            definition: None,
        },
        resolver,
    )
    .schema;
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        out.extend(properties.keys().map(String::as_str));
    }
    if depth < 8 {
        for branch in branches(schema) {
            collect_properties(branch, resolver, out, depth + 1);
        }
    }
}

/// The subschemas of `allOf`, `anyOf` and `oneOf`, in that order.
fn branches(schema: &Value) -> impl Iterator<Item = &Value> {
    ["allOf", "anyOf", "oneOf"]
        .into_iter()
        .filter_map(|combinator| schema.get(combinator).and_then(Value::as_array))
        .flatten()
}

/// Resolves local references (`#/definitions/Foo`, `#/$defs/Foo`) within one
/// schema document: what a schema folder's files use.
pub struct Local<'a>(pub &'a Value);

impl Resolve for Local<'_> {
    fn resolve(&self, reference: &str) -> Option<(&Value, &str)> {
        let pointer = reference.strip_prefix('#')?;
        let (parent, last) = pointer.rsplit_once('/')?;
        let last = last.replace("~1", "/").replace("~0", "~");
        let (name, schema) = self.0.pointer(parent)?.as_object()?.get_key_value(&last)?;
        Some((schema, name.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_properties_items_maps_and_refs() {
        let schema = json!({
            "properties": {
                "spec": {"$ref": "#/definitions/Spec"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "definitions": {
                "Spec": {"properties": {"ports": {"type": "array", "items": {"$ref": "#/definitions/Port"}}}},
                "Port": {"properties": {"port": {"type": ["integer", "null"]}, "name": {"type": "string"}}}
            }
        });
        let resolver = Local(&schema);
        let root = Node {
            schema: &schema,
            definition: None,
        };
        let port = at(root, "/spec/ports/0", &resolver).unwrap_or_else(|| panic!("no port"));
        assert_eq!(port.short_name(), Some("Port"));
        assert_eq!(port.properties(&resolver), vec!["name", "port"]);
        let number = at(root, "/spec/ports/3/port", &resolver).map(|n| n.types());
        assert_eq!(number, Some(vec!["integer"]));
        assert!(at(root, "/labels/app", &resolver).is_some());
        assert!(at(root, "/spec/nothing", &resolver).is_none());
    }
}
