//! Where each node of a document sits in its file.
//!
//! Rules name fields by RFC 6901 JSON pointer; the report turns a pointer into
//! a byte range through this table. A pointer with no entry of its own (a node
//! produced by an alias or a merge key, or a field that is missing) resolves to
//! its nearest ancestor that has one, which is what a reader expects: a missing
//! `readinessProbe` is reported at the container that lacks it.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// Byte ranges of one node: its value and, for a mapping entry, its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpan {
    pub key: Option<(u32, u32)>,
    pub value: (u32, u32),
}

impl NodeSpan {
    /// The range a diagnostic underlines: the key when there is one (the field
    /// name is what the reader looks for), else the value.
    pub fn label(&self) -> Range<usize> {
        let (start, end) = self.key.unwrap_or(self.value);
        start as usize..end as usize
    }

    pub fn value_range(&self) -> Range<usize> {
        self.value.0 as usize..self.value.1 as usize
    }
}

/// Pointer → span for one parsed YAML/JSON document. Items of a `List` share
/// their list's table through `prefix`.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    table: Arc<HashMap<Box<str>, NodeSpan>>,
    prefix: Box<str>,
}

impl SpanIndex {
    pub fn new(table: HashMap<Box<str>, NodeSpan>) -> Self {
        SpanIndex {
            table: Arc::new(table),
            prefix: "".into(),
        }
    }

    /// The same table seen from a sub-node, e.g. `/items/3` of a `List`.
    pub fn scoped(&self, prefix: &str) -> Self {
        SpanIndex {
            table: Arc::clone(&self.table),
            prefix: format!("{}{prefix}", self.prefix).into(),
        }
    }

    /// Where this view starts in the table: `""` for a whole document,
    /// `/items/3` for an item of a `List`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The span of `pointer` itself, if the node exists in the source.
    pub fn exact(&self, pointer: &str) -> Option<NodeSpan> {
        if self.prefix.is_empty() {
            return self.table.get(pointer).copied();
        }
        let mut full = String::with_capacity(self.prefix.len() + pointer.len());
        full.push_str(&self.prefix);
        full.push_str(pointer);
        self.table.get(full.as_str()).copied()
    }

    /// The span of `pointer`, or of its nearest ancestor present in the source.
    pub fn nearest(&self, pointer: &str) -> Option<NodeSpan> {
        let mut current = pointer;
        loop {
            if let Some(span) = self.exact(current) {
                return Some(span);
            }
            let cut = current.rfind('/')?;
            current = &current[..cut];
        }
    }
}

/// Appends one RFC 6901 reference token (`~` → `~0`, `/` → `~1`).
pub fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    if token.contains(['~', '/']) {
        for c in token.chars() {
            match c {
                '~' => pointer.push_str("~0"),
                '/' => pointer.push_str("~1"),
                c => pointer.push(c),
            }
        }
    } else {
        pointer.push_str(token);
    }
}

/// Builds a pointer from tokens, escaping each.
pub fn pointer<'a>(tokens: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for token in tokens {
        push_token(&mut out, token);
    }
    out
}

/// `/spec/template/spec/containers/0/lifecycle` → `spec.template.spec.containers[0].lifecycle`.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    if out.is_empty() {
        "the object".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_read_like_kubectl_explain() {
        assert_eq!(
            field_path("/spec/template/spec/containers/0/lifecycle"),
            "spec.template.spec.containers[0].lifecycle"
        );
        assert_eq!(
            field_path("/metadata/annotations/a~1b"),
            "metadata.annotations.a/b"
        );
        assert_eq!(field_path(""), "the object");
    }

    #[test]
    fn nearest_walks_up_to_an_ancestor() {
        let mut table = HashMap::new();
        table.insert(
            "/spec".into(),
            NodeSpan {
                key: Some((0, 4)),
                value: (6, 20),
            },
        );
        let spans = SpanIndex::new(table);
        assert_eq!(
            spans.nearest("/spec/template/spec").map(|s| s.label()),
            Some(0..4)
        );
        assert_eq!(spans.exact("/spec/template"), None);
        assert_eq!(spans.nearest("/status"), None);
    }

    #[test]
    fn tokens_are_escaped() {
        assert_eq!(
            pointer(["metadata", "annotations", "rollsafe.dev/ignore", "a~b"]),
            "/metadata/annotations/rollsafe.dev~1ignore/a~0b"
        );
    }
}
