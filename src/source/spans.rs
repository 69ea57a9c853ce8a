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
    table: Arc<Table>,
    prefix: Box<str>,
}

#[derive(Debug)]
enum Table {
    /// As the parser builds it, pointers from the document's root.
    Map(HashMap<Box<str>, NodeSpan>),
    /// What [`SpanIndex::packed`] keeps: the pointers below the view's
    /// prefix, relative to it, sorted.
    Packed(Packed),
}

impl Default for Table {
    fn default() -> Self {
        Table::Map(HashMap::new())
    }
}

/// Sorted pointers in one string, each with its span: a third of a map's
/// memory, for documents kept until every file is read.
#[derive(Debug)]
struct Packed {
    pointers: Box<str>,
    /// (end of the pointer in `pointers`, span), in pointer order; each
    /// pointer starts where the one before ends.
    entries: Box<[(u32, NodeSpan)]>,
}

impl Packed {
    fn pointer(&self, at: usize) -> &str {
        let start = match at {
            0 => 0,
            _ => self.entries[at - 1].0 as usize,
        };
        &self.pointers[start..self.entries[at].0 as usize]
    }

    fn get(&self, pointer: &str) -> Option<NodeSpan> {
        let (mut low, mut high) = (0, self.entries.len());
        while low < high {
            let middle = (low + high) / 2;
            match self.pointer(middle).cmp(pointer) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(self.entries[middle].1),
            }
        }
        None
    }
}

impl SpanIndex {
    pub fn new(table: HashMap<Box<str>, NodeSpan>) -> Self {
        SpanIndex {
            table: Arc::new(Table::Map(table)),
            prefix: "".into(),
        }
    }

    /// The same table seen from a sub-node, e.g. `/items/3` of a `List`.
    pub fn scoped(&self, prefix: &str) -> Self {
        match &*self.table {
            Table::Map(_) => SpanIndex {
                table: Arc::clone(&self.table),
                prefix: format!("{}{prefix}", self.prefix).into(),
            },
            // Not reached: only whole documents' views are scoped.
            Table::Packed(_) => self.clone(),
        }
    }

    /// Where this view starts in the table: `""` for a whole document,
    /// `/items/3` for an item of a `List`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// This view's spans alone, packed: for a document kept until every
    /// file is read (a List's item keeps its own, not the whole List's).
    pub fn packed(&self) -> SpanIndex {
        let Table::Map(map) = &*self.table else {
            return self.clone();
        };
        let prefix = &*self.prefix;
        let mut below: Vec<(&str, NodeSpan)> = map
            .iter()
            .filter_map(|(pointer, span)| {
                let rest = pointer.strip_prefix(prefix)?;
                (rest.is_empty() || rest.starts_with('/')).then_some((rest, *span))
            })
            .collect();
        below.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut pointers = String::with_capacity(below.iter().map(|(p, _)| p.len()).sum());
        let mut entries = Vec::with_capacity(below.len());
        for (pointer, span) in below {
            pointers.push_str(pointer);
            let Ok(end) = u32::try_from(pointers.len()) else {
                // Over 4 GiB of pointers: keep the map.
                return self.clone();
            };
            entries.push((end, span));
        }
        SpanIndex {
            table: Arc::new(Table::Packed(Packed {
                pointers: pointers.into_boxed_str(),
                entries: entries.into_boxed_slice(),
            })),
            prefix: self.prefix.clone(),
        }
    }

    /// The span of `pointer` itself, if the node exists in the source.
    pub fn exact(&self, pointer: &str) -> Option<NodeSpan> {
        match &*self.table {
            Table::Packed(packed) => packed.get(pointer),
            Table::Map(map) if self.prefix.is_empty() => map.get(pointer).copied(),
            Table::Map(map) => {
                let mut full = String::with_capacity(self.prefix.len() + pointer.len());
                full.push_str(&self.prefix);
                full.push_str(pointer);
                map.get(full.as_str()).copied()
            }
        }
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
    fn a_packed_view_finds_what_the_map_finds() {
        let span = |n: u32| NodeSpan {
            key: Some((n, n + 1)),
            value: (n + 2, n + 3),
        };
        let mut map = HashMap::new();
        for (n, pointer) in [
            "",
            "/items",
            "/items/0",
            "/items/0/spec",
            "/items/1",
            "/items/1/spec",
            "/items/1/spec/a~1b",
            "/items/10",
        ]
        .into_iter()
        .enumerate()
        {
            map.insert(pointer.into(), span(n as u32 * 10));
        }
        let whole = SpanIndex::new(map);
        let item = whole.scoped("/items/1");
        let packed = item.packed();
        for pointer in [
            "",
            "/spec",
            "/spec/a~1b",
            "/spec/missing/deeper",
            "/nothing",
            "/0",
        ] {
            assert_eq!(packed.exact(pointer), item.exact(pointer), "{pointer}");
            assert_eq!(packed.nearest(pointer), item.nearest(pointer), "{pointer}");
        }
        assert_eq!(packed.prefix(), "/items/1");
        // Only the item's own spans are kept.
        let Table::Packed(p) = &*packed.table else {
            panic!("not packed");
        };
        assert_eq!(p.entries.len(), 3);
        let all = whole.packed();
        assert_eq!(all.exact("/items/10"), whole.exact("/items/10"));
        assert_eq!(all.exact("/items/1/spec"), Some(span(50)));
    }

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
