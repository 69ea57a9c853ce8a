//! Fixes as JSON Patch operations (RFC 6902), computed against the raw JSON
//! of a document, never against re-serialised typed structs (which would drop
//! unknown fields and add defaulted ones): the vocabulary rules speak. The
//! loop that applies them until nothing is left to fix, for the mutating
//! webhook and for `lint --fix`, is [`crate::apply`].

use serde::Serialize;
use serde_json::Value;

use crate::source::push_token;

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

/// Applies operations in order, as an API server applies a webhook's patch:
/// all of them or, when one cannot be applied, none (the document is left
/// as it was).
pub fn apply(document: &mut Value, patch: &[PatchOp]) -> Result<(), PatchError> {
    // What each applied operation replaced, to put back on failure.
    let mut undo: Vec<(&PatchOp, Option<Value>)> = Vec::with_capacity(patch.len());
    for op in patch {
        match apply_one(document, op) {
            Ok(previous) => undo.push((op, previous)),
            Err(error) => {
                for (op, previous) in undo.into_iter().rev() {
                    restore(document, op, previous);
                }
                return Err(error);
            }
        }
    }
    Ok(())
}

/// Performs one operation; returns the value it replaced (`None` when it
/// added a member or an item).
fn apply_one(document: &mut Value, op: &PatchOp) -> Result<Option<Value>, PatchError> {
    let (name, path, value) = match op {
        PatchOp::Add { path, value } => ("add", path, value),
        PatchOp::Replace { path, value } => ("replace", path, value),
    };
    let error = |reason| PatchError {
        op: name,
        path: path.clone(),
        reason,
    };
    let Some((parent_path, token)) = split_last_token(path) else {
        return Ok(Some(std::mem::replace(document, value.clone())));
    };
    let parent = document
        .pointer_mut(parent_path)
        .ok_or_else(|| error("the parent does not exist"))?;
    match parent {
        Value::Object(map) => {
            if name == "replace" && !map.contains_key(&token) {
                return Err(error("there is nothing to replace"));
            }
            Ok(map.insert(token, value.clone()))
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
                "add" if index <= items.len() => {
                    items.insert(index, value.clone());
                    Ok(None)
                }
                "replace" if index < items.len() => {
                    Ok(Some(std::mem::replace(&mut items[index], value.clone())))
                }
                _ => Err(error("the index is out of range")),
            }
        }
        _ => Err(error("the parent is neither an object nor an array")),
    }
}

/// Undoes an operation [`apply_one`] performed.
fn restore(document: &mut Value, op: &PatchOp, previous: Option<Value>) {
    let Some((parent_path, token)) = split_last_token(op.path()) else {
        if let Some(previous) = previous {
            *document = previous;
        }
        return;
    };
    match (document.pointer_mut(parent_path), previous) {
        (Some(Value::Object(map)), Some(previous)) => {
            map.insert(token, previous);
        }
        (Some(Value::Object(map)), None) => {
            map.remove(&token);
        }
        (Some(Value::Array(items)), previous) => {
            let index = if token == "-" {
                items.len().saturating_sub(1)
            } else {
                token.parse::<usize>().unwrap_or(usize::MAX)
            };
            match previous {
                Some(previous) if index < items.len() => items[index] = previous,
                None if index < items.len() => {
                    items.remove(index);
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// `/a/b~1c` → (`/a`, `b/c`); `None` for the whole document.
fn split_last_token(path: &str) -> Option<(&str, String)> {
    let cut = path.rfind('/')?;
    Some((&path[..cut], unescape(&path[cut + 1..])))
}

/// The JSON Patch that turns `old` into `new`, with `add` and `replace`
/// only: a member `new` lacks is never removed on its own (fixes only add or
/// raise; a replaced hook is replaced whole). Each operation stands on its
/// own: none builds on another, so they can be applied in any order, or all
/// against the same text.
pub fn diff(old: &Value, new: &Value) -> Vec<PatchOp> {
    let mut out = Vec::new();
    let mut path = String::new();
    diff_into(&mut path, old, new, &mut out);
    out
}

fn diff_into(path: &mut String, old: &Value, new: &Value, out: &mut Vec<PatchOp>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) if a.keys().all(|k| b.contains_key(k)) => {
            for (key, b_value) in b {
                let len = path.len();
                push_token(path, key);
                match a.get(key) {
                    Some(a_value) => diff_into(path, a_value, b_value, out),
                    None => out.push(PatchOp::Add {
                        path: path.clone(),
                        value: b_value.clone(),
                    }),
                }
                path.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) if b.len() == a.len() => {
            for (i, (a_value, b_value)) in a.iter().zip(b).enumerate() {
                let len = path.len();
                push_token(path, &i.to_string());
                diff_into(path, a_value, b_value, out);
                path.truncate(len);
            }
        }
        _ => out.push(PatchOp::Replace {
            path: path.clone(),
            value: new.clone(),
        }),
    }
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
    fn a_patch_that_fails_leaves_the_document_as_it_was() {
        let original = json!({"a": {"b": 1}, "l": [1, 2]});
        let mut doc = original.clone();
        let patch = [
            PatchOp::Replace {
                path: "/a/b".into(),
                value: json!(2),
            },
            PatchOp::Add {
                path: "/a/c".into(),
                value: json!(3),
            },
            PatchOp::Add {
                path: "/l/1".into(),
                value: json!(9),
            },
            PatchOp::Add {
                path: "/missing/x".into(),
                value: json!(1),
            },
        ];
        assert!(apply(&mut doc, &patch).is_err());
        assert_eq!(doc, original);
    }

    #[test]
    fn diff_adds_and_replaces_and_never_removes() {
        let old = json!({"a": 1, "b": {"c": [1, 2]}, "d": {"exec": {"command": ["sh"]}}});
        let new = json!({"a": 2, "b": {"c": [1, 2, 3], "e": true}, "d": {"sleep": {"seconds": 5}}});
        let patch = diff(&old, &new);
        assert!(patch.iter().all(|op| !op.path().is_empty()));
        let mut applied = old.clone();
        assert_eq!(apply(&mut applied, &patch), Ok(()));
        assert_eq!(applied, new);
        assert_eq!(diff(&new, &new), Vec::new());
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
