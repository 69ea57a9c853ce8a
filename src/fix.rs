//! Fixes as JSON Patch operations (RFC 6902), computed against the raw JSON
//! of a document, never against re-serialised typed structs (which would drop
//! unknown fields and add defaulted ones). The mutating webhook sends them as
//! they are; `lint --fix` writes them into the YAML text.

pub mod files;
pub mod rounds;
pub mod text;

use serde::Serialize;
use serde_json::Value;

/// How much a fix can be trusted to keep the workload's behaviour intended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixSafety {
    /// Keeps the workload serving through rollouts and shutdowns: adds or
    /// lengthens safety margins, or makes a rollout surge instead of stopping
    /// pods first (which may take spare capacity and time, never traffic).
    /// Applied by `--fix` and the mutating webhook.
    Safe,
    /// Changes how the workload behaves beyond its margins (e.g. the rollout
    /// shape); shown, applied only on request.
    Unsafe,
}

/// One JSON Patch operation. There is no `remove`: a fix never deletes what a
/// user wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOp {
    Add { path: String, value: Value },
    Replace { path: String, value: Value },
}

impl PatchOp {
    pub fn path(&self) -> &str {
        match self {
            PatchOp::Add { path, .. } | PatchOp::Replace { path, .. } => path,
        }
    }

    pub fn value(&self) -> &Value {
        match self {
            PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } => value,
        }
    }
}

/// What a rule proposes to repair a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    /// Imperative: "add a `sleep` preStop hook of `5s`".
    pub title: String,
    pub safety: FixSafety,
    pub patch: Vec<PatchOp>,
}

impl Fix {
    pub fn safe(title: impl Into<String>, patch: Vec<PatchOp>) -> Self {
        Fix {
            title: title.into(),
            safety: FixSafety::Safe,
            patch,
        }
    }

    pub fn unsafe_(title: impl Into<String>, patch: Vec<PatchOp>) -> Self {
        Fix {
            title: title.into(),
            safety: FixSafety::Unsafe,
            patch,
        }
    }
}

/// `add` at `path`, or `replace` when `document` already has a value there:
/// JSON Patch `add` on an existing member replaces it too, but `replace` says
/// what happens.
pub fn set(document: &Value, path: String, value: Value) -> PatchOp {
    if document.pointer(&path).is_some() {
        PatchOp::Replace { path, value }
    } else {
        PatchOp::Add { path, value }
    }
}

/// Sets `value` at `path`, creating missing parent objects as nested values
/// of a single `add` at the deepest existing ancestor (JSON Patch cannot add
/// below a missing parent).
pub fn set_creating_parents(document: &Value, path: &str, value: Value) -> PatchOp {
    // Escaped tokens of the missing part of `path`, innermost first.
    let mut missing = Vec::new();
    let mut ancestor = path;
    while document.pointer(ancestor).is_none() {
        let Some(cut) = ancestor.rfind('/') else {
            break;
        };
        missing.push(&ancestor[cut + 1..]);
        ancestor = &ancestor[..cut];
    }
    let Some((outermost, inner)) = missing.split_last() else {
        return set(document, path.to_owned(), value);
    };
    let mut value = value;
    for token in inner {
        let mut wrapper = serde_json::Map::new();
        wrapper.insert(unescape(token), value);
        value = Value::Object(wrapper);
    }
    PatchOp::Add {
        path: format!("{ancestor}/{outermost}"),
        value,
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Why a patch did not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply `{op}` at `{path}`: {reason}")]
pub struct PatchError {
    pub op: &'static str,
    pub path: String,
    pub reason: &'static str,
}

/// Applies operations in order, as an API server applies a webhook's patch.
pub fn apply(document: &mut Value, patch: &[PatchOp]) -> Result<(), PatchError> {
    for op in patch {
        let (name, path, value) = match op {
            PatchOp::Add { path, value } => ("add", path, value),
            PatchOp::Replace { path, value } => ("replace", path, value),
        };
        let error = |reason| PatchError {
            op: name,
            path: path.clone(),
            reason,
        };
        let (parent_path, token) = match path.rfind('/') {
            Some(cut) => (&path[..cut], unescape(&path[cut + 1..])),
            None => {
                *document = value.clone();
                continue;
            }
        };
        let parent = document
            .pointer_mut(parent_path)
            .ok_or_else(|| error("the parent does not exist"))?;
        match parent {
            Value::Object(map) => {
                if name == "replace" && !map.contains_key(&token) {
                    return Err(error("there is nothing to replace"));
                }
                map.insert(token, value.clone());
            }
            Value::Array(items) => {
                let index = if token == "-" {
                    items.len()
                } else {
                    token
                        .parse::<usize>()
                        .map_err(|_| error("not an array index"))?
                };
                match name {
                    "add" if index <= items.len() => items.insert(index, value.clone()),
                    "replace" if index < items.len() => items[index] = value.clone(),
                    _ => return Err(error("the index is out of range")),
                }
            }
            _ => return Err(error("the parent is neither an object nor an array")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_creates_missing_parents_in_one_add() {
        let doc = json!({"spec": {"containers": [{"name": "app"}]}});
        let op = set_creating_parents(
            &doc,
            "/spec/containers/0/lifecycle/preStop/sleep",
            json!({"seconds": 5}),
        );
        assert_eq!(
            op,
            PatchOp::Add {
                path: "/spec/containers/0/lifecycle".into(),
                value: json!({"preStop": {"sleep": {"seconds": 5}}})
            }
        );
        let mut patched = doc.clone();
        assert_eq!(apply(&mut patched, &[op]), Ok(()));
        assert_eq!(
            patched.pointer("/spec/containers/0/lifecycle/preStop/sleep/seconds"),
            Some(&json!(5))
        );
    }

    #[test]
    fn set_replaces_existing_values() {
        let doc = json!({"spec": {"terminationGracePeriodSeconds": 10}});
        let op = set_creating_parents(&doc, "/spec/terminationGracePeriodSeconds", json!(40));
        assert!(matches!(op, PatchOp::Replace { .. }));
    }

    #[test]
    fn apply_refuses_what_the_api_server_refuses() {
        let mut doc = json!({"a": [1]});
        assert!(
            apply(
                &mut doc,
                &[PatchOp::Replace {
                    path: "/b".into(),
                    value: json!(1)
                }]
            )
            .is_err()
        );
        assert!(
            apply(
                &mut doc,
                &[PatchOp::Add {
                    path: "/x/y".into(),
                    value: json!(1)
                }]
            )
            .is_err()
        );
        assert_eq!(
            apply(
                &mut doc,
                &[PatchOp::Add {
                    path: "/a/-".into(),
                    value: json!(2)
                }]
            ),
            Ok(())
        );
        assert_eq!(doc, json!({"a": [1, 2]}));
    }

    #[test]
    fn serialises_as_rfc6902() {
        let op = PatchOp::Add {
            path: "/a~1b".into(),
            value: json!(1),
        };
        assert_eq!(
            serde_json::to_value(&op).ok(),
            Some(json!({"op": "add", "path": "/a~1b", "value": 1}))
        );
    }
}
