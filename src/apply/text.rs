//! One JSON Patch operation → one edit of the YAML or JSON text it came from.
//!
//! The loader records the byte range of every node (and of every mapping
//! key), so an operation becomes a splice that touches only the bytes it must:
//!
//! - `replace` of a scalar rewrites the value's range in the style it had: a
//!   number stays a number, a string keeps its quotes (double, single, or
//!   none when the new text reads as the same string unquoted);
//! - `replace` of a collection writes the new one in its place, as block YAML
//!   at the node's own indentation when the old one was block, as flow YAML
//!   (or JSON, in a JSON file) when it was flow;
//! - `add` of a member to a block mapping inserts new lines after its last
//!   child, at the mapping's indentation, nested objects as block YAML with
//!   the file's own indentation step; to a flow mapping, `, key: value`
//!   before the closing `}` (on a line of its own when the mapping spans
//!   lines, as pretty-printed JSON does).
//!
//! Comments, key order, quoting, indentation and blank lines elsewhere stay as
//! they were. Nodes that only exist through an alias or a merge key have no
//! text of their own and are refused. The caller re-parses after each edit
//! and checks the result against the patched JSON, so an edit that does not
//! mean what the operation means is never written.

use std::ops::Range;

use serde_json::Value;

use crate::fix::PatchOp;
use crate::source::scalar::{Resolved, resolve_plain};
use crate::source::{NodeSpan, SpanIndex};

/// Replace `range` of the text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

impl Edit {
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.text.len());
        out.push_str(&text[..self.range.start]);
        out.push_str(&self.text);
        out.push_str(&text[self.range.end..]);
        out
    }
}

/// Why an operation has no text edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("`{0}` comes from an alias or a merge key, not from text of its own")]
    NoText(String),
    #[error("`{0}` is not a mapping that can take a new member")]
    NotAMapping(String),
    #[error("adding to a list (`{0}`) is not supported")]
    List(String),
}

/// A parsed document as the editor sees it: the file's text, the document's
/// JSON and its spans, pointers from the document's root.
pub struct Target<'a> {
    pub text: &'a str,
    pub value: &'a Value,
    pub spans: &'a SpanIndex,
    /// The file is JSON: new keys and values are written as JSON.
    pub json: bool,
}

/// The edit that performs `op`, whose parent must exist. On a mapping, `add`
/// and `replace` both set the member; in a list, only `replace` is done.
pub fn edit(target: &Target<'_>, op: &PatchOp) -> Result<Edit, TextError> {
    let (path, new) = (op.path(), op.value());
    let (parent_path, token) = match path.rfind('/') {
        Some(cut) => (&path[..cut], unescape(&path[cut + 1..])),
        None => return Err(TextError::NoText(path.to_owned())),
    };
    let parent = target
        .value
        .pointer(parent_path)
        .ok_or_else(|| TextError::NoText(parent_path.to_owned()))?;
    if parent.is_array() {
        return match (op, target.value.pointer(path), target.spans.exact(path)) {
            (PatchOp::Replace { .. }, Some(current), Some(span)) => {
                Ok(replace(target, parent_path, current, span, new))
            }
            _ => Err(TextError::List(path.to_owned())),
        };
    }
    if !parent.is_object() {
        return Err(TextError::NotAMapping(parent_path.to_owned()));
    }
    match (target.value.pointer(path), target.spans.exact(path)) {
        (Some(current), Some(span)) => Ok(replace(target, parent_path, current, span, new)),
        // A member merged in by `<<` is overridden by a key of the mapping's own.
        _ => add(target, parent_path, &token, new),
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

fn is_flow(text: &str) -> bool {
    text.starts_with(['{', '['])
}

fn replace(
    target: &Target<'_>,
    parent_path: &str,
    current: &Value,
    span: NodeSpan,
    new: &Value,
) -> Edit {
    let range = span.value_range();
    let old = &target.text[range.clone()];
    let in_flow = target.json
        || target
            .spans
            .exact(parent_path)
            .is_some_and(|p| is_flow(&target.text[p.value_range()]));
    let scalar_old = !current.is_object() && !current.is_array();
    let text = match new {
        Value::Object(map) if !map.is_empty() && !scalar_old && !is_flow(old) && !in_flow => {
            let indent = column(target.text, range.start);
            let step = step_near(target, parent_path);
            let mut lines = Vec::new();
            for (key, value) in map {
                block_entry(key, value, indent, step, &mut lines);
            }
            let newline = line_break(target.text, range.start);
            let joined = lines.join(newline);
            // The first line starts where the old node did.
            joined[indent..].to_owned()
        }
        Value::Object(_) | Value::Array(_) => flow(new, target.json),
        _ => {
            let style = match old.as_bytes().first() {
                Some(b'"') => Style::Double,
                Some(b'\'') => Style::Single,
                _ => Style::Plain,
            };
            scalar(new, style, in_flow, target.json)
        }
    };
    Edit { range, text }
}

fn add(target: &Target<'_>, parent_path: &str, key: &str, new: &Value) -> Result<Edit, TextError> {
    let span = target
        .spans
        .exact(parent_path)
        .ok_or_else(|| TextError::NoText(parent_path.to_owned()))?;
    let range = span.value_range();
    let text = target.text;
    let node = &text[range.clone()];
    if node.starts_with('*') {
        return Err(TextError::NoText(parent_path.to_owned()));
    }
    if node.starts_with('{') {
        return flow_add(target, range, key, new);
    }
    if node.starts_with('[') || node.is_empty() {
        return Err(TextError::NotAMapping(parent_path.to_owned()));
    }
    // A block mapping: new lines after the line its last child ends on.
    let indent = column(text, range.start);
    let step = step_near(target, parent_path);
    let mut lines = Vec::new();
    block_entry(key, new, indent, step, &mut lines);
    let newline = line_break(text, range.end);
    let mut insert = String::new();
    let at = match text[range.end..].find('\n') {
        Some(offset) => range.end + offset + 1,
        None => {
            insert.push_str(newline);
            text.len()
        }
    };
    for line in lines {
        insert.push_str(&line);
        insert.push_str(newline);
    }
    Ok(Edit {
        range: at..at,
        text: insert,
    })
}

/// `, key: value` before the `}` of a flow mapping.
fn flow_add(
    target: &Target<'_>,
    range: Range<usize>,
    key: &str,
    new: &Value,
) -> Result<Edit, TextError> {
    let text = target.text;
    let close = closing_brace(text, &range)
        .ok_or_else(|| TextError::NotAMapping(text[range.clone()].to_owned()))?;
    let inner = &text[range.start + 1..close];
    let json = target.json || inner.trim_start().starts_with('"');
    let entry = format!("{}: {}", key_text(key, json), flow(new, json));
    let kept = inner.trim_end();
    let at = range.start + 1 + kept.len();
    if kept.is_empty() {
        return Ok(Edit {
            range: at..at,
            text: entry,
        });
    }
    // A trailing comma (`{a: 1,}`) stays trailing.
    let trailing_comma = kept.ends_with(',');
    let text = if inner[kept.len()..].contains('\n') {
        // One member per line: the new one on a line of its own, indented as
        // the last one is.
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = text[line_start..at]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let newline = line_break(target.text, at);
        if trailing_comma {
            format!("{newline}{indent}{entry},")
        } else {
            format!(",{newline}{indent}{entry}")
        }
    } else if trailing_comma {
        format!(" {entry},")
    } else {
        format!(", {entry}")
    };
    Ok(Edit {
        range: at..at,
        text,
    })
}

/// The `}` closing the flow mapping that opens at `range.start`. The
/// parser's range may end early (before a trailing comma), so the text is
/// scanned: nesting counted, quoted scalars and comments skipped.
fn closing_brace(text: &str, range: &Range<usize>) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // Whether a quote here would open a quoted scalar (not sit inside a
    // plain one, as in `{a: it's}`).
    let mut at_token_start = true;
    let mut i = range.start;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (b == b'}').then_some(i);
                }
            }
            b'"' | b'\'' if at_token_start => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if b == b'"' => i += 1,
                        b'\'' if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                        c if c == b => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'#' if i > 0 && bytes[i - 1].is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        at_token_start = match b {
            b'{' | b'[' | b',' | b':' => true,
            c if c.is_ascii_whitespace() => at_token_start,
            _ => false,
        };
        i += 1;
    }
    None
}

/// The column (0-based, in bytes: indentation is ASCII) of `at` on its line.
fn column(text: &str, at: usize) -> usize {
    at - text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// `\r\n` when the line holding `at` ends so, else `\n`.
fn line_break(text: &str, at: usize) -> &'static str {
    let end = text[at..].find('\n').map(|i| at + i);
    match end {
        Some(end) if end > 0 && text.as_bytes().get(end - 1) == Some(&b'\r') => "\r\n",
        Some(_) => "\n",
        None if text.contains("\r\n") => "\r\n",
        None => "\n",
    }
}

/// The indentation step where the edit happens: how much deeper a block
/// mapping nested in `path` (or in the nearest ancestor that has one) is
/// indented than its parent; the file's step when none is.
fn step_near(target: &Target<'_>, path: &str) -> usize {
    let mut current = path;
    loop {
        if let Some(step) = nested_step(target, current) {
            return step;
        }
        match current.rfind('/') {
            Some(cut) => current = &current[..cut],
            None => return indent_step(target.text),
        }
    }
}

/// How much deeper the first block mapping directly under the mapping at
/// `path` is indented than the mapping.
fn nested_step(target: &Target<'_>, path: &str) -> Option<usize> {
    let Value::Object(map) = target.value.pointer(path)? else {
        return None;
    };
    let node = target.spans.exact(path)?.value_range();
    if is_flow(&target.text[node.clone()]) {
        return None;
    }
    let base = column(target.text, node.start);
    map.iter().find_map(|(key, value)| {
        if value.as_object().is_none_or(|m| m.is_empty()) {
            return None;
        }
        let mut child = path.to_owned();
        crate::source::push_token(&mut child, key);
        let range = target.spans.exact(&child)?.value_range();
        let text = &target.text[range.clone()];
        if is_flow(text) || text.starts_with('*') {
            return None;
        }
        column(target.text, range.start)
            .checked_sub(base)
            .filter(|step| *step > 0)
    })
}

/// The file's indentation step: how much deeper the first block mapping
/// under a `key:` line is indented (2 when the file does not say).
pub fn indent_step(text: &str) -> usize {
    let content = |line: &str| {
        let trimmed = line.trim_start();
        !(trimmed.is_empty() || trimmed.starts_with('#'))
    };
    let mut lines = text.lines().filter(|l| content(l)).peekable();
    while let Some(line) = lines.next() {
        let body = line.trim_end();
        if !body.ends_with(':') || body.trim_start().starts_with("- ") {
            continue;
        }
        let Some(next) = lines.peek() else {
            break;
        };
        let indent = line.len() - line.trim_start().len();
        let next_indent = next.len() - next.trim_start().len();
        if next_indent > indent && !next.trim_start().starts_with('-') {
            return next_indent - indent;
        }
    }
    2
}

/// `key: value` lines of a block mapping entry at `indent`: objects as block
/// mappings, lists and scalars inline (flow).
fn block_entry(key: &str, value: &Value, indent: usize, step: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    let key = key_text(key, false);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push(format!("{pad}{key}:"));
            for (k, v) in map {
                block_entry(k, v, indent + step, step, out);
            }
        }
        _ => out.push(format!("{pad}{key}: {}", flow(value, false))),
    }
}

fn key_text(key: &str, json: bool) -> String {
    if !json && plain_safe(key, true) {
        key.to_owned()
    } else {
        double_quoted(key)
    }
}

/// A value on one line: flow YAML, or JSON.
pub fn flow(value: &Value, json: bool) -> String {
    if json {
        return value.to_string();
    }
    match value {
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k, false), flow(v, false)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| flow(v, false)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => scalar(value, Style::Plain, true, false),
    }
}

fn scalar(value: &Value, style: Style, in_flow: bool, json: bool) -> String {
    let Value::String(s) = value else {
        return value.to_string();
    };
    if json {
        return double_quoted(s);
    }
    match style {
        Style::Double => double_quoted(s),
        Style::Single if !s.chars().any(char::is_control) => format!("'{}'", s.replace('\'', "''")),
        Style::Plain if plain_safe(s, in_flow) => s.clone(),
        _ => double_quoted(s),
    }
}

/// A JSON string literal is a valid YAML double-quoted scalar.
fn double_quoted(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// Whether `s`, written plain, reads back as the same string both in
/// Kubernetes' YAML 1.1 and in YAML 1.2 editors. Conservative: anything that
/// starts like a number, an indicator or a special word is quoted.
pub fn plain_safe(s: &str, in_flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || resolve_plain(s) != Resolved::Str {
        return false;
    }
    if first.is_ascii_digit() || "-?:,[]{}#&*!|>'\"%@`+.~=<\\".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| c.is_control()) {
        return false;
    }
    !(in_flow && s.contains([',', '[', ']', '{', '}']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, parse_documents};
    use serde_json::json;

    /// Applies `path := new` to the first document of `text`, re-parses, and
    /// checks the document equals the patched JSON.
    /// The value of `text`'s first document, which must parse.
    fn first_value(text: &str) -> Value {
        let file = SourceFile::new("t.yaml", text.to_owned());
        let (mut docs, errors) = parse_documents(&file, &|_, _| true);
        assert!(errors.is_empty(), "{errors:?}\n{text}");
        docs.swap_remove(0).value
    }

    /// The text edit for `op` on `text`'s first document.
    fn edit_text(text: &str, op: &PatchOp) -> Result<Edit, TextError> {
        let file = SourceFile::new("t.yaml", text.to_owned());
        let (docs, _) = parse_documents(&file, &|_, _| true);
        let target = Target {
            text,
            value: &docs[0].value,
            spans: &docs[0].spans,
            json: text.trim_start().starts_with('{'),
        };
        edit(&target, op)
    }

    fn set(text: &str, path: &str, new: Value) -> String {
        let value = first_value(text);
        let op = crate::fix::set(&value, path.to_owned(), new);
        let edit = edit_text(text, &op).unwrap_or_else(|e| panic!("{e}"));
        let fixed = edit.apply(text);
        let mut expected = value;
        crate::fix::apply(&mut expected, &[op]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first_value(&fixed), expected, "\n{fixed}");
        fixed
    }

    const HEAD: &str = "apiVersion: v1\nkind: Pod\n";

    #[test]
    fn scalars_keep_their_style() {
        let text = format!(
            "{HEAD}spec:\n  grace: 10 # seconds\n  d: \"a\"\n  s: 'b'\n  p: c\n  l: [\"x\", 'y', z]\n"
        );
        let fixed = set(&text, "/spec/grace", json!(40));
        assert!(fixed.contains("  grace: 40 # seconds\n"), "{fixed}");
        assert!(set(&text, "/spec/d", json!("sleep 5")).contains("d: \"sleep 5\"\n"));
        assert!(set(&text, "/spec/s", json!("it's")).contains("s: 'it''s'\n"));
        assert!(set(&text, "/spec/p", json!("sleep 5")).contains("p: sleep 5\n"));
        assert!(set(&text, "/spec/p", json!("5")).contains("p: \"5\"\n"));
        assert!(set(&text, "/spec/p", json!("yes")).contains("p: \"yes\"\n"));
        let fixed = set(&text, "/spec/l/2", json!("a, b"));
        assert!(fixed.contains("l: [\"x\", 'y', \"a, b\"]\n"), "{fixed}");
        let fixed = set(&text, "/spec/l/1", json!("5"));
        assert!(fixed.contains("l: [\"x\", '5', z]\n"), "{fixed}");
    }

    #[test]
    fn members_go_after_the_last_child_at_the_mapping_indentation() {
        let text = format!(
            "{HEAD}spec:\n    containers:\n      - name: app\n        image: x # pinned\n\n    # trailing comment\n    volumes: []\n"
        );
        let fixed = set(
            &text,
            "/spec/containers/0/lifecycle",
            json!({"preStop": {"sleep": {"seconds": 5}}}),
        );
        assert!(
            fixed.contains(
                "        image: x # pinned\n        lifecycle:\n            preStop:\n                sleep:\n                    seconds: 5\n\n    # trailing"
            ),
            "{fixed}"
        );
        let fixed = set(&text, "/spec/terminationGracePeriodSeconds", json!(45));
        assert!(
            fixed.ends_with("    volumes: []\n    terminationGracePeriodSeconds: 45\n"),
            "{fixed}"
        );
    }

    #[test]
    fn a_file_without_a_final_newline_gets_one_before_the_member() {
        let fixed = set(&format!("{HEAD}spec:\n  a: 1"), "/spec/b", json!(2));
        assert!(fixed.ends_with("  a: 1\n  b: 2\n"), "{fixed}");
        let fixed = set(
            &format!("{HEAD}spec:\r\n  a: 1\r\n"),
            "/spec/b",
            json!([1, "x"]),
        );
        assert!(fixed.ends_with("  a: 1\r\n  b: [1, x]\r\n"), "{fixed:?}");
    }

    #[test]
    fn flow_mappings_take_the_member_before_the_brace() {
        let text = format!("{HEAD}spec: {{a: 1, b: {{}}}}\n");
        assert!(
            set(&text, "/spec/c", json!({"d": 2})).contains("spec: {a: 1, b: {}, c: {d: 2}}\n")
        );
        assert!(set(&text, "/spec/b/x", json!("y z")).contains("b: {x: y z}"));
    }

    #[test]
    fn trailing_commas_stay_trailing() {
        let text = format!("{HEAD}spec: {{\n  a: {{\n    b: 1,\n  }},\n}}\n");
        let fixed = set(&text, "/spec/a/c", json!(2));
        assert!(fixed.contains("    b: 1,\n    c: 2,\n  },"), "{fixed}");
        let fixed = set(&format!("{HEAD}spec: {{a: 1,}}\n"), "/spec/b", json!(2));
        assert!(fixed.contains("spec: {a: 1, b: 2,}"), "{fixed}");
        let text = format!(
            "{HEAD}spec: {{\n  c: [{{\n    n: \"}}\", m: it's, # }}\n    p: {{q: 1,}},\n  }}],\n}}\n"
        );
        let fixed = set(&text, "/spec/c/0/r", json!(1));
        assert!(
            fixed.contains("    p: {q: 1,},\n    r: 1,\n  }],"),
            "{fixed}"
        );
    }

    #[test]
    fn pretty_json_gets_a_line_of_its_own() {
        let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"a\": 1\n  }\n}\n";
        let fixed = set(text, "/spec/b", json!({"c": [1]}));
        assert!(
            fixed.contains("    \"a\": 1,\n    \"b\": {\"c\":[1]}\n  }"),
            "{fixed}"
        );
    }

    #[test]
    fn block_collections_are_replaced_in_place() {
        let text = format!(
            "{HEAD}spec:\n  lifecycle:\n    preStop:\n      exec:\n        command: [\"sleep\", \"5\"]\n  other: 1\n"
        );
        let fixed = set(
            &text,
            "/spec/lifecycle/preStop",
            json!({"sleep": {"seconds": 5}}),
        );
        assert!(
            fixed.contains("    preStop:\n      sleep:\n        seconds: 5\n  other: 1\n"),
            "{fixed}"
        );
        let flow = format!(
            "{HEAD}spec:\n  lifecycle: {{preStop: {{exec: {{command: [sleep, \"5\"]}}}}}}\n"
        );
        let fixed = set(
            &flow,
            "/spec/lifecycle/preStop",
            json!({"sleep": {"seconds": 5}}),
        );
        assert!(
            fixed.contains("lifecycle: {preStop: {sleep: {seconds: 5}}}\n"),
            "{fixed}"
        );
    }

    #[test]
    fn merged_members_are_overridden_aliased_ones_refused() {
        let text = format!("{HEAD}base: &b {{grace: 10}}\nspec:\n  <<: *b\n  x: 1\nother: *b\n");
        let fixed = set(&text, "/spec/grace", json!(40));
        assert!(fixed.contains("  x: 1\n  grace: 40\n"), "{fixed}");
        let op = PatchOp::Add {
            path: "/other/y".into(),
            value: json!(1),
        };
        assert!(edit_text(&text, &op).is_err());
        // `add` in a list inserts: not a text edit done here.
        let text = format!("{HEAD}l: [1]\n");
        let op = PatchOp::Add {
            path: "/l/0".into(),
            value: json!(1),
        };
        assert!(edit_text(&text, &op).is_err());
    }

    #[test]
    fn the_indentation_step_is_the_one_nearby() {
        let text = format!(
            "{HEAD}metadata:\n    name: x\nspec:\n  c:\n  -   name: a\n      probe:\n        port: 1\n"
        );
        let fixed = set(
            &text,
            "/spec/c/0/lifecycle",
            json!({"preStop": {"sleep": {"seconds": 5}}}),
        );
        assert!(
            fixed.ends_with("        port: 1\n      lifecycle:\n        preStop:\n          sleep:\n            seconds: 5\n"),
            "{fixed}"
        );
    }

    #[test]
    fn the_indentation_step_is_the_files() {
        assert_eq!(indent_step("a:\n    b: 1\n"), 4);
        assert_eq!(indent_step("# x\nitems:\n- a: 1\n  b:\n     c: 1\n"), 3);
        assert_eq!(indent_step("a: 1\n"), 2);
    }

    #[test]
    fn plain_strings_read_back_as_strings() {
        for safe in ["sleep 5 && nginx -s quit", "web", "a-b", "x.y/z"] {
            assert!(plain_safe(safe, true), "{safe}");
        }
        for unsafe_ in [
            "", "5", "yes", "on", "null", "- x", "a: b", "a #b", " x", "1.30", "{a}", "*a", "0x1",
        ] {
            assert!(!plain_safe(unsafe_, false), "{unsafe_}");
        }
        assert!(!plain_safe("a,b", true));
        assert!(plain_safe("a,b", false));
    }
}
