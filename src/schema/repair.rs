//! A copy of a document that typed decoding can read.
//!
//! A value of the wrong type (`replicas: "3"`, `value: on`) makes the whole
//! object unreadable as its kind. The schema rules report it; the other rules
//! should still judge the rest of the object. So the copy they read gets the
//! value the author evidently meant where that is unambiguous (the number in
//! `"3"`, the text `on` of an unquoted scalar) and loses the value elsewhere.
//! Pointers stay valid: a key is removed from its mapping, but an item is
//! never removed from a list (the items after it would move); the list is.

use serde_json::Value;

/// How a value of the wrong type is made readable.
#[derive(Debug, Clone, PartialEq)]
pub enum Repair {
    /// The value the author meant.
    Replace(Value),
    /// No meaning can be recovered: leave the field out.
    Remove,
}

/// `value` with every repair applied, replacements first.
pub fn repaired<'a>(
    value: &Value,
    repairs: impl IntoIterator<Item = (&'a str, &'a Repair)>,
) -> Value {
    let mut copy = value.clone();
    let mut removals = Vec::new();
    for (pointer, repair) in repairs {
        match repair {
            Repair::Replace(meant) => {
                if let Some(slot) = copy.pointer_mut(pointer) {
                    *slot = meant.clone();
                }
            }
            Repair::Remove => removals.push(pointer),
        }
    }
    for pointer in removals {
        remove(&mut copy, pointer);
    }
    copy
}

/// Removes the field at `pointer`, or the list that holds it. `false` when
/// nothing could be removed (the document itself, or a pointer that is not there).
pub fn remove(value: &mut Value, pointer: &str) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    match value.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            let key = last.replace("~1", "/").replace("~0", "~");
            map.remove(&key).is_some()
        }
        Some(Value::Array(_)) => remove(value, parent),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replaces_then_removes_without_moving_items() {
        let value =
            json!({"spec": {"replicas": "3", "ports": [1, "x", 3], "env": [{"value": true}]}});
        let fixed = repaired(
            &value,
            [
                ("/spec/replicas", &Repair::Replace(json!(3))),
                ("/spec/ports/1", &Repair::Remove),
                ("/spec/env/0/value", &Repair::Replace(json!("on"))),
            ],
        );
        assert_eq!(
            fixed,
            json!({"spec": {"replicas": 3, "env": [{"value": "on"}]}})
        );
        let mut value = json!({"a": 1});
        assert!(!remove(&mut value, ""));
        assert!(!remove(&mut value, "/b"));
        assert!(remove(&mut value, "/a"));
    }
}
