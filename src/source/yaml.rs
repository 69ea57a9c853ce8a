//! YAML and JSON text → JSON values with a span for every node.
//!
//! The scanner is saphyr's event parser (see `vendor/saphyr-parser/PATCHES.md`
//! for why it is vendored). Events are folded straight into
//! `serde_json::Value`s, without an intermediate tree, applying the scalar
//! rules of [`super::scalar`], go-yaml v2's merge keys and alias expansion.
//! Documents whose `apiVersion`/`kind` nobody asked for are scanned but not
//! built, so a 2 MB CustomResourceDefinition costs little more than reading it.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Value};

use crate::parallel::Grain;

use super::file::SourceFile;
use super::scalar::{Resolved, resolve_plain, resolve_tagged};
use super::spans::{NodeSpan, SpanIndex, push_token};

/// Deeper nesting than this is refused: no Kubernetes object comes close, and
/// recursive consumers downstream (drop, serde) must not overflow the stack.
pub const MAX_DEPTH: usize = 200;
/// Nodes an alias may copy beyond this (plus ten per written node) mean an
/// alias bomb ("billion laughs"); go-yaml refuses them as well.
const ALIAS_NODE_ALLOWANCE: usize = 100_000;

/// One YAML document that holds a Kubernetes object.
#[derive(Debug)]
pub struct ParsedDocument {
    pub value: Value,
    pub spans: SpanIndex,
    /// Byte offset where the document's content starts.
    pub start: usize,
}

/// A document (or the rest of a file) that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub byte: usize,
    pub message: String,
    pub help: Option<String>,
}

/// Decides from `apiVersion` and `kind` whether a document is worth building.
pub type Interest<'a> = &'a (dyn Fn(&str, &str) -> bool + Sync);

/// Parses every document of `file`. A syntax error ends the current document;
/// parsing resumes at the next `---` line so one broken document does not hide
/// the others.
pub fn parse_documents(
    file: &SourceFile,
    interest: Interest<'_>,
) -> (Vec<ParsedDocument>, Vec<ParseError>) {
    parse_documents_staged(file, interest, |documents| documents)
}

/// [`parse_documents`], handing the documents of each part of a long stream
/// to `stage` as soon as that part is parsed, on the thread that parsed it:
/// the trees of a whole stream never exist at once.
pub fn parse_documents_staged<T: Send>(
    file: &SourceFile,
    interest: Interest<'_>,
    stage: impl Fn(Vec<ParsedDocument>) -> Vec<T> + Sync,
) -> (Vec<T>, Vec<ParseError>) {
    let text = file.text();
    // JSON forbids raw tabs inside strings, so every tab in a JSON text is
    // whitespace; YAML refuses tabs for indentation. Spaces keep every offset.
    let looks_like_json = text.trim_start().starts_with(['{', '[']);
    let scanned: std::borrow::Cow<'_, str> = if looks_like_json && text.contains('\t') {
        text.replace('\t', " ").into()
    } else {
        text.into()
    };
    let ranges = stream_parts(&scanned, PART_BYTES);
    let parts = crate::parallel::map_in_order(&ranges, Grain::Coarse, |range| {
        let (documents, errors) = parse_part(file, &scanned, interest, range.clone());
        (stage(documents), errors)
    });
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    for (part_documents, part_errors) in parts {
        documents.extend(part_documents);
        errors.extend(part_errors);
    }
    (documents, errors)
}

/// A stream this large is cut into parts parsed side by side.
pub const PART_BYTES: usize = 4 * 1024 * 1024;

/// `text` cut at `---` lines into parts of about [`PART_BYTES`]. Each part
/// parses as it would in the whole stream: a `---` at the start of a line
/// always starts a document (YAML forbids it inside a scalar), and anchors
/// and directives end with their document.
fn stream_parts(text: &str, part_bytes: usize) -> Vec<std::ops::Range<usize>> {
    let mut parts = Vec::new();
    let mut start = 0;
    while text.len() - start > part_bytes {
        let Some(cut) = text[start + part_bytes..]
            .find("\n---")
            .map(|at| start + part_bytes + at + 1)
            .filter(|&cut| next_document_marker(text, cut, cut.saturating_sub(1)) == Some(cut))
        else {
            break;
        };
        parts.push(start..cut);
        start = cut;
    }
    parts.push(start..text.len());
    parts
}

/// Parses the documents of `range` of the (scanned) text of `file`.
fn parse_part(
    file: &SourceFile,
    scanned: &str,
    interest: Interest<'_>,
    range: std::ops::Range<usize>,
) -> (Vec<ParsedDocument>, Vec<ParseError>) {
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut base_byte = range.start;
    let part = &scanned[..range.end];
    loop {
        let chunk = &part[base_byte..];
        let mut builder = Builder::new(file, interest, base_byte);
        match builder.run(chunk, &mut documents, &mut errors) {
            Ok(()) => break,
            Err(failure) => {
                errors.push(failure.error);
                let Some(next) = next_document_marker(part, failure.resume_from, failure.doc_start)
                else {
                    break;
                };
                base_byte = next;
            }
        }
    }
    (documents, errors)
}

/// The byte offset of the first `---` document marker at the start of a line,
/// from the line holding `from` on but after `after`: a new document begins
/// there whatever came before it.
fn next_document_marker(text: &str, from: usize, after: usize) -> Option<usize> {
    let mut offset = text[..from].rfind('\n').map_or(0, |i| i + 1);
    loop {
        if offset <= after {
            offset += text[offset..].find('\n')? + 1;
            continue;
        }
        let rest = &text[offset..];
        if rest.starts_with("---")
            && rest[3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r')
        {
            return Some(offset);
        }
        offset += rest.find('\n')? + 1;
    }
}

struct ScanFailure {
    error: ParseError,
    resume_from: usize,
    doc_start: usize,
}

enum Frame {
    Map {
        map: Map<String, Value>,
        key: Option<PendingKey>,
        /// Keys a `<<` merge set: an explicit key may override them once.
        merged: HashSet<String>,
        common: FrameCommon,
    },
    Seq {
        items: Vec<Value>,
        common: FrameCommon,
    },
}

struct FrameCommon {
    start: u32,
    end: u32,
    anchor: usize,
    /// Length of the pointer before this node's own token was pushed.
    parent_pointer_len: usize,
    key_span: Option<(u32, u32)>,
    flow: bool,
}

struct PendingKey {
    text: String,
    span: (u32, u32),
    merge: bool,
}

struct Builder<'a> {
    file: &'a SourceFile,
    interest: Interest<'a>,
    base_byte: usize,
    /// Characters of the file before `base_byte`: markers count characters
    /// from the start of the chunk.
    base_char: usize,
    // Per document:
    pointer: String,
    spans: HashMap<Box<str>, NodeSpan>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    alias_nodes: usize,
    root: Option<Value>,
    doc_start: usize,
    /// The document was refused (or is of no interest): read to its end only.
    skipping: bool,
    doc_error: Option<ParseError>,
    api_version: Option<String>,
    kind: Option<String>,
    asked: bool,
}

impl<'a> Builder<'a> {
    fn new(file: &'a SourceFile, interest: Interest<'a>, base_byte: usize) -> Self {
        Builder {
            file,
            interest,
            base_byte,
            base_char: file.chars_before(base_byte),
            pointer: String::new(),
            spans: HashMap::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            alias_nodes: 0,
            root: None,
            doc_start: base_byte,
            skipping: false,
            doc_error: None,
            api_version: None,
            kind: None,
            asked: false,
        }
    }

    fn byte(&self, marker: &Marker) -> usize {
        self.file.byte_of_char(self.base_char + marker.index())
    }

    fn range(&self, span: &Span) -> (u32, u32) {
        (self.byte(&span.start) as u32, self.byte(&span.end) as u32)
    }

    fn run(
        &mut self,
        chunk: &str,
        documents: &mut Vec<ParsedDocument>,
        errors: &mut Vec<ParseError>,
    ) -> Result<(), ScanFailure> {
        let mut parser = Parser::new_from_str(chunk);
        while let Some(next) = parser.next_event() {
            let (event, span) = match next {
                Ok(pair) => pair,
                Err(scan) => {
                    let byte = self.byte(scan.marker());
                    return Err(ScanFailure {
                        error: syntax_error(self.file, byte, scan.info()),
                        resume_from: byte.max(self.doc_start),
                        doc_start: self.doc_start.max(self.base_byte),
                    });
                }
            };
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart(_) => self.start_document(self.byte(&span.start)),
                Event::DocumentEnd => self.end_document(documents, errors),
                _ if self.skipping => {}
                Event::Scalar(text, style, anchor, tag) => {
                    self.scalar(&text, style, anchor, tag.as_deref(), &span)
                }
                Event::Alias(id) => self.alias(id, &span),
                Event::MappingStart(anchor, _) => self.open(anchor, &span, true),
                Event::SequenceStart(anchor, _) => self.open(anchor, &span, false),
                Event::MappingEnd | Event::SequenceEnd => self.close(&span),
                Event::StreamStart | Event::Nothing => {}
            }
        }
        Ok(())
    }

    fn start_document(&mut self, start: usize) {
        self.pointer.clear();
        self.spans = HashMap::new();
        self.stack.clear();
        self.anchors.clear();
        self.nodes = 0;
        self.alias_nodes = 0;
        self.root = None;
        self.doc_start = start;
        self.skipping = false;
        self.doc_error = None;
        self.api_version = None;
        self.kind = None;
        self.asked = false;
    }

    fn end_document(&mut self, documents: &mut Vec<ParsedDocument>, errors: &mut Vec<ParseError>) {
        if let Some(error) = self.doc_error.take() {
            errors.push(error);
            return;
        }
        if self.skipping {
            return;
        }
        let Some(value) = self.root.take() else {
            return;
        };
        // YAML that is not a Kubernetes object (a values file, a CI config) is
        // none of our business: pre-commit hands every YAML file over.
        let (Some(api_version), Some(kind)) = (
            value.get("apiVersion").and_then(Value::as_str),
            value.get("kind").and_then(Value::as_str),
        ) else {
            return;
        };
        if !self.asked && !(self.interest)(api_version, kind) {
            return;
        }
        documents.push(ParsedDocument {
            value,
            spans: SpanIndex::new(std::mem::take(&mut self.spans)),
            start: self.doc_start,
        });
    }

    /// Refuses the current document with an error at `byte`, and reads on to
    /// its end without building anything.
    fn refuse(&mut self, byte: usize, message: String, help: Option<String>) {
        if self.doc_error.is_none() {
            self.doc_error = Some(ParseError {
                byte,
                message,
                help,
            });
        }
        self.stop_building();
    }

    fn stop_building(&mut self) {
        self.skipping = true;
        self.stack.clear();
        self.spans.clear();
        self.anchors.clear();
    }

    fn open(&mut self, anchor: usize, span: &Span, is_map: bool) {
        if self.stack.len() >= MAX_DEPTH {
            let byte = self.byte(&span.start);
            self.refuse(
                byte,
                format!("nesting deeper than {MAX_DEPTH} levels"),
                Some("no Kubernetes object nests this deep; check the indentation".to_owned()),
            );
            return;
        }
        let start = self.byte(&span.start);
        let flow = matches!(self.file.text().as_bytes().get(start), Some(b'{' | b'['));
        let parent_pointer_len = self.pointer.len();
        let key_span = match self.stack.last() {
            Some(Frame::Map { key: None, .. }) => {
                self.refuse(
                    start,
                    "a mapping or sequence used as a map key".to_owned(),
                    template_help(self.file, start),
                );
                return;
            }
            Some(Frame::Map { key: Some(key), .. }) => {
                let span = key.span;
                push_token(&mut self.pointer, &key.text.clone());
                Some(span)
            }
            Some(Frame::Seq { items, .. }) => {
                let index = items.len().to_string();
                push_token(&mut self.pointer, &index);
                None
            }
            None => None,
        };
        let common = FrameCommon {
            start: start as u32,
            end: self.byte(&span.end) as u32,
            anchor,
            parent_pointer_len,
            key_span,
            flow,
        };
        self.stack.push(if is_map {
            Frame::Map {
                map: Map::new(),
                key: None,
                merged: HashSet::new(),
                common,
            }
        } else {
            Frame::Seq {
                items: Vec::new(),
                common,
            }
        });
    }

    fn close(&mut self, span: &Span) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (value, common) = match frame {
            Frame::Map { map, common, .. } => (Value::Object(map), common),
            Frame::Seq { items, common } => (Value::Array(items), common),
        };
        // A flow collection ends at its closing bracket; a block one at its
        // last child (the parser's end marker sits at the next token).
        let close_at = self.byte(&span.start);
        let end = match self.file.text().as_bytes().get(close_at) {
            Some(b'}' | b']') if common.flow => close_at as u32 + 1,
            _ => common.end,
        };
        self.nodes += 1;
        self.spans.insert(
            self.pointer.as_str().into(),
            NodeSpan {
                key: common.key_span,
                value: (common.start, end),
            },
        );
        self.pointer.truncate(common.parent_pointer_len);
        if common.anchor != 0 {
            let count = count_nodes(&value);
            self.anchors.insert(common.anchor, (value.clone(), count));
        }
        self.attach(value, (common.start, end));
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: &Span,
    ) {
        let range = self.trimmed_range(span, style);
        let resolved = match tag {
            Some(tag) if tag.is_yaml_core_schema() => match resolve_tagged(&tag.suffix, text) {
                Some(r) => r,
                None => {
                    self.refuse(
                        range.0 as usize,
                        format!("`{text}` cannot be read as `!!{}`", tag.suffix),
                        None,
                    );
                    return;
                }
            },
            Some(_) => Resolved::Str,
            None if style == ScalarStyle::Plain => resolve_plain(text),
            None => Resolved::Str,
        };
        let is_key = matches!(self.stack.last(), Some(Frame::Map { key: None, .. }));
        if is_key {
            let merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
            let key = if merge {
                Ok(text.to_owned())
            } else {
                resolved.into_key(text)
            };
            match key {
                Ok(key) => {
                    if anchor != 0 {
                        self.anchors.insert(anchor, (Value::String(key.clone()), 1));
                    }
                    self.set_key(key, range, merge);
                }
                Err(message) => self.refuse(range.0 as usize, message, None),
            }
            return;
        }
        let value = match resolved.into_json(text) {
            Ok(v) => v,
            Err(message) => {
                self.refuse(range.0 as usize, message, None);
                return;
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), 1));
        }
        self.leaf(value, range);
    }

    /// Plain scalars' spans may run over trailing blanks; block scalars' over
    /// their trailing line breaks. Underline the text only.
    fn trimmed_range(&self, span: &Span, style: ScalarStyle) -> (u32, u32) {
        let (start, end) = self.range(span);
        if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted) {
            return (start, end);
        }
        let text = self.file.text().as_bytes();
        let mut trimmed = end as usize;
        while trimmed > start as usize && text.get(trimmed - 1).is_some_and(u8::is_ascii_whitespace)
        {
            trimmed -= 1;
        }
        (start, trimmed as u32)
    }

    fn alias(&mut self, id: usize, span: &Span) {
        let range = self.range(span);
        let Some((value, count)) = self.anchors.get(&id).cloned() else {
            self.refuse(
                range.0 as usize,
                "alias to an unknown anchor".to_owned(),
                None,
            );
            return;
        };
        self.alias_nodes += count;
        if self.alias_nodes > ALIAS_NODE_ALLOWANCE + 10 * self.nodes {
            self.refuse(
                range.0 as usize,
                "aliases expand to too many nodes (an alias bomb?)".to_owned(),
                Some("Kubernetes refuses documents with excessive aliasing as well".to_owned()),
            );
            return;
        }
        if matches!(self.stack.last(), Some(Frame::Map { key: None, .. })) {
            match value {
                Value::String(key) => self.set_key(key, range, false),
                _ => self.refuse(
                    range.0 as usize,
                    "an alias to a non-string used as a map key".to_owned(),
                    None,
                ),
            }
            return;
        }
        self.leaf(value, range);
    }

    fn set_key(&mut self, text: String, span: (u32, u32), merge: bool) {
        if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
            *key = Some(PendingKey { text, span, merge });
        }
    }

    /// A scalar or alias value: record its span, then attach it.
    fn leaf(&mut self, value: Value, range: (u32, u32)) {
        self.nodes += 1;
        let mut key_span = None;
        let parent_len = self.pointer.len();
        match self.stack.last() {
            Some(Frame::Map { key: Some(key), .. }) => {
                key_span = Some(key.span);
                let token = key.text.clone();
                push_token(&mut self.pointer, &token);
            }
            Some(Frame::Seq { items, .. }) => {
                let index = items.len().to_string();
                push_token(&mut self.pointer, &index);
            }
            _ => {}
        }
        self.spans.insert(
            self.pointer.as_str().into(),
            NodeSpan {
                key: key_span,
                value: range,
            },
        );
        self.pointer.truncate(parent_len);
        self.attach(value, range);
    }

    /// Puts a finished value into its parent (or makes it the document root).
    fn attach(&mut self, value: Value, range: (u32, u32)) {
        let depth = self.stack.len();
        let mut refusal = None;
        let mut top_level_key = None;
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, common }) => {
                items.push(value);
                common.end = common.end.max(range.1);
            }
            Some(Frame::Map {
                map,
                key,
                merged,
                common,
            }) => {
                common.end = common.end.max(range.1);
                let Some(key) = key.take() else {
                    return;
                };
                if key.merge {
                    if let Err(message) = merge_into(map, merged, value) {
                        refusal = Some((key.span.0, message));
                    }
                } else {
                    if depth == 1 && (key.text == "apiVersion" || key.text == "kind") {
                        top_level_key = value.as_str().map(|v| (key.text.clone(), v.to_owned()));
                    }
                    let overrides_merge = merged.remove(&key.text);
                    if map.insert(key.text.clone(), value).is_some() && !overrides_merge {
                        refusal = Some((key.span.0, format!("duplicate key `{}`", key.text)));
                    }
                }
            }
        }
        if let Some((byte, message)) = refusal {
            let help = if message.starts_with("duplicate") {
                "kubectl refuses the document (`key already set in map`); keep one of the two"
            } else {
                "`<<` merges a mapping or a list of mappings"
            };
            self.refuse(byte as usize, message, Some(help.to_owned()));
            return;
        }
        if let Some((field, value)) = top_level_key {
            if field == "apiVersion" {
                self.api_version = Some(value);
            } else {
                self.kind = Some(value);
            }
            if let (Some(api_version), Some(kind)) = (&self.api_version, &self.kind) {
                self.asked = true;
                if !(self.interest)(api_version, kind) {
                    self.stop_building();
                }
            }
        }
    }
}

/// go-yaml v2 merge semantics: the merged mapping's keys are set over what the
/// map holds so far; in a list of mappings, earlier ones win.
fn merge_into(
    map: &mut Map<String, Value>,
    merged_keys: &mut HashSet<String>,
    merged: Value,
) -> Result<(), String> {
    let mut merge_one = |entries: Map<String, Value>| {
        for (key, value) in entries {
            merged_keys.insert(key.clone());
            map.insert(key, value);
        }
    };
    match merged {
        Value::Object(entries) => {
            merge_one(entries);
            Ok(())
        }
        Value::Array(list) => {
            for item in list.into_iter().rev() {
                match item {
                    Value::Object(entries) => merge_one(entries),
                    _ => return Err("`<<` list items must be mappings".to_owned()),
                }
            }
            Ok(())
        }
        _ => Err("`<<` needs a mapping or a list of mappings".to_owned()),
    }
}

fn count_nodes(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(count_nodes).sum::<usize>(),
        Value::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

fn syntax_error(file: &SourceFile, byte: usize, info: &str) -> ParseError {
    ParseError {
        byte,
        message: format!("invalid YAML: {info}"),
        help: template_help(file, byte),
    }
}

/// Unrendered Helm or Go templates are the usual cause of unreadable manifests.
fn template_help(file: &SourceFile, byte: usize) -> Option<String> {
    let line = file.line_col(byte).0;
    let nearby = (line.saturating_sub(2)..=line + 1)
        .filter(|&l| l >= 1 && l <= file.line_count())
        .any(|l| file.text()[file.line_range(l)].contains("{{"));
    nearby.then(|| {
        "this looks like an unrendered template: lint its output instead, e.g. `helm template . | rollsafe lint -`".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> (Vec<ParsedDocument>, Vec<ParseError>) {
        let file = SourceFile::new("t.yaml", text.to_owned());
        parse_documents(&file, &|_, _| true)
    }

    fn values(text: &str) -> Vec<Value> {
        let (docs, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        docs.into_iter().map(|d| d.value).collect()
    }

    #[test]
    fn a_stream_parsed_in_parts_is_the_stream_parsed_whole() {
        let text = "a: 1\n---\nb: |\n  ---\n  x\n--- # c\nc: &x [1]\nd: *x\n---\ne: [\n---\nf: 2\n...\n---\ng: \"---\"\n";
        let file = SourceFile::new("t", text.to_owned());
        let whole = parse_part(&file, text, &|_, _| true, 0..text.len());
        for part_bytes in 1..text.len() {
            let parts = stream_parts(text, part_bytes);
            assert!(
                parts.len() > 1 || part_bytes > 40,
                "{part_bytes}: {parts:?}"
            );
            let (mut documents, mut errors) = (Vec::new(), Vec::new());
            for range in parts {
                let (d, e) = parse_part(&file, text, &|_, _| true, range);
                documents.extend(d);
                errors.extend(e);
            }
            let values = |docs: &[ParsedDocument]| -> Vec<(Value, usize)> {
                docs.iter().map(|d| (d.value.clone(), d.start)).collect()
            };
            assert_eq!(values(&documents), values(&whole.0), "{part_bytes}");
            assert_eq!(errors, whole.1, "{part_bytes}");
        }
    }

    #[test]
    fn decodes_like_kubernetes() {
        let v = values(
            "apiVersion: v1\nkind: Pod\nspec:\n  mode: 0644\n  on: yes\n  q: 'yes'\n  nothing: ~\n  f: 1.5\n  list: [a, 1, true]\n",
        );
        assert_eq!(
            v[0]["spec"],
            json!({"mode": 420, "true": true, "q": "yes", "nothing": null, "f": 1.5, "list": ["a", 1, true]})
        );
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: app\n    image: x\n";
        let (docs, _) = parse(text);
        let spans = &docs[0].spans;
        let image = spans
            .exact("/spec/containers/0/image")
            .unwrap_or_else(|| panic!("no span"));
        assert_eq!(&text[image.label()], "image");
        assert_eq!(&text[image.value_range()], "x");
        let container = spans
            .exact("/spec/containers/0")
            .unwrap_or_else(|| panic!("no span"));
        assert!(text[container.value_range()].starts_with("name: app"));
        assert!(text[container.value_range()].ends_with("image: x"));
        assert_eq!(
            spans.nearest("/spec/containers/0/readinessProbe"),
            Some(container)
        );
    }

    #[test]
    fn multi_document_and_non_kubernetes_yaml() {
        let v = values("a: 1\n---\napiVersion: v1\nkind: Service\n---\n---\n- x\n...\n");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["kind"], "Service");
    }

    #[test]
    fn merge_keys_and_aliases() {
        let v =
            values("apiVersion: v1\nkind: X\nbase: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\nl: *b\n");
        assert_eq!(v[0]["m"], json!({"a": 1, "b": 3}));
        assert_eq!(v[0]["l"], json!({"a": 1, "b": 2}));
    }

    #[test]
    fn duplicate_keys_are_refused_and_parsing_goes_on() {
        let (docs, errors) = parse(
            "apiVersion: v1\nkind: Pod\nspec: 1\nspec: 2\n---\napiVersion: v1\nkind: Service\n",
        );
        assert_eq!(docs.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("duplicate key `spec`"));
        assert_eq!(errors[0].byte, "apiVersion: v1\nkind: Pod\nspec: 1\n".len());
    }

    #[test]
    fn syntax_errors_resume_at_the_next_document() {
        let text = "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata: {{ .Values.x }\n---\napiVersion: v1\nkind: Service\n";
        let (docs, errors) = parse(text);
        assert_eq!(docs.len(), 2, "{errors:?}");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].help.as_deref().unwrap_or("").contains("template"));
    }

    #[test]
    fn helm_template_value_is_refused() {
        let (docs, errors) =
            parse("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n");
        assert!(docs.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].help.as_deref().unwrap_or("").contains("template"));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text =
            String::from("apiVersion: v1\nkind: X\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let (docs, errors) = parse(&text);
        assert!(docs.is_empty());
        assert!(errors[0].message.contains("alias"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!(
            "apiVersion: v1\nkind: X\nx: {}{}\n",
            "[".repeat(300),
            "]".repeat(300)
        );
        let (docs, errors) = parse(&text);
        assert!(docs.is_empty());
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn json_with_tabs() {
        let v = values("{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\",\"x\":[1,\n\t2]\n}\n");
        assert_eq!(v[0]["x"], json!([1, 2]));
    }

    #[test]
    fn uninteresting_documents_are_not_built() {
        let file = SourceFile::new(
            "t.yaml",
            "apiVersion: v1\nkind: Big\nspec: {a: [1, 2]}\n---\napiVersion: v1\nkind: Pod\n"
                .to_owned(),
        );
        let (docs, errors) = parse_documents(&file, &|_, kind| kind == "Pod");
        assert!(errors.is_empty());
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].value["kind"], "Pod");
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations: {note: \"héllo wörld\"}\n  name: ü\n";
        let (docs, _) = parse(text);
        let name = docs[0]
            .spans
            .exact("/metadata/name")
            .unwrap_or_else(|| panic!("no span"));
        assert_eq!(&text[name.value_range()], "ü");
    }

    // Each vendored saphyr-parser patch (vendor/saphyr-parser/PATCHES.md),
    // pinned by the layout it lets through, as libyaml and kubectl read it.

    #[test]
    fn saphyr_patch_1_flow_collection_closed_left_of_its_key() {
        let v = values(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      args: [\n        \"--port\",\n        \"80\"\n  ]\n",
        );
        assert_eq!(
            v[0]["spec"]["containers"][0]["args"],
            json!(["--port", "80"])
        );
    }

    #[test]
    fn saphyr_patch_2_quoted_continuation_left_of_the_block() {
        let v = values(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    note: \"first line\n  second line\"\n",
        );
        assert_eq!(
            v[0]["metadata"]["annotations"]["note"],
            json!("first line second line")
        );
    }

    #[test]
    fn saphyr_patch_3_plain_scalar_in_a_flow_left_of_the_block() {
        let v = values(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      command: [sh,\n  -c, sleep]\n",
        );
        assert_eq!(
            v[0]["spec"]["containers"][0]["command"],
            json!(["sh", "-c", "sleep"])
        );
    }
}
