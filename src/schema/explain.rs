//! Schema faults → problems that say what was meant.
//!
//! A check reports a pointer and what failed there. Read against the schema and
//! the source text, that becomes: which field is unknown and which known one
//! is one edit away; which type was expected and what YAML made of the value
//! (an unquoted `on` is the boolean true in YAML 1.1); and how the value can
//! be made readable for the other rules.

use serde_json::Value;

use super::fault::{Fault, FaultKind, Said};
use super::repair::Repair;
use super::walk::{self, Node, Resolve};
use super::{Problem, ProblemKind};
use crate::model::{KubeVersion, ObjectRef, parse_duration};
use crate::source::{Document, push_token};
use crate::suggest::edit_distance;

pub(super) struct Explainer<'a> {
    pub doc: &'a Document,
    pub object: &'a ObjectRef,
    /// Where the validated value sits in the document (`""` for the whole
    /// object, `/spec/template` for a custom kind's pod template).
    pub base: &'a str,
    /// The schema of the validated value.
    pub root: Node<'a>,
    /// The schema of the whole object, when `base` is below it and the kind
    /// has one in the same resolver.
    pub document: Option<Node<'a>>,
    pub resolver: &'a dyn Resolve,
    /// The first newer Kubernetes minor whose schema has this field (given
    /// the object's pointer in the document and the key), for a field
    /// unknown to the minor judged against.
    pub added_in: &'a dyn Fn(&str, &str) -> Option<KubeVersion>,
    /// The validated value is a custom resource (or a part of one other than
    /// its pod template): the API server prunes the fields its schema lacks.
    pub custom_resource: bool,
}

impl Explainer<'_> {
    /// Pointers below are relative to `base`: the checked value's, which the
    /// schema is walked with.
    pub fn explain(&self, fault: &Fault<'_>, out: &mut Vec<Problem>) {
        let pointer = fault.pointer.as_str();
        match &fault.kind {
            FaultKind::Unknown(keys) => {
                for key in keys {
                    out.push(self.unknown_field(pointer, key));
                }
            }
            FaultKind::Type(said) => out.push(self.wrong_type(pointer, said)),
            FaultKind::Required(name) => {
                let within = self.object_name(pointer);
                out.push(self.invalid(
                    pointer,
                    format!("`{name}` is required in {within}"),
                    format!("add `{name}`"),
                    None,
                ));
            }
            FaultKind::Enum(allowed) => out.push(self.not_in_enum(pointer, allowed)),
            FaultKind::Form(said) => match self.node(pointer).and_then(|n| n.form()) {
                Some(form) => out.push(self.bad_form(pointer, form)),
                None => out.push(self.generic(pointer, said)),
            },
            FaultKind::Range(said) => out.push(self.out_of_range(pointer, said)),
            FaultKind::Other(said) => out.push(self.generic(pointer, said)),
        }
    }

    /// A number below the schema's `minimum` or above its `maximum`.
    fn out_of_range(&self, pointer: &str, said: &Said<'_>) -> Problem {
        let field = field_label(&self.absolute(pointer));
        let bound = |keyword: &str| {
            self.node(pointer)
                .and_then(|n| n.schema.get(keyword).and_then(Value::as_i64))
        };
        let found = self.value(pointer);
        let (low, high) = match said {
            Said::Below { limit, .. } => (Some(*limit), bound("maximum")),
            Said::Above { limit, .. } => (bound("minimum"), Some(*limit)),
            _ => return self.generic(pointer, said),
        };
        let (message, help) = match (low, high) {
            (Some(low), Some(high)) => (
                format!("`{field}` must be from `{low}` to `{high}`, found `{found}`"),
                format!("give `{field}` a value from `{low}` to `{high}`"),
            ),
            (Some(low), None) => (
                format!("`{field}` must be at least `{low}`, found `{found}`"),
                format!("give `{field}` a value of at least `{low}`"),
            ),
            (None, Some(high)) => (
                format!("`{field}` must be at most `{high}`, found `{found}`"),
                format!("give `{field}` a value of at most `{high}`"),
            ),
            (None, None) => return self.generic(pointer, said),
        };
        self.invalid(pointer, message, help, None)
    }

    /// What the check says, for a fault with no better explanation.
    fn generic(&self, pointer: &str, said: &Said<'_>) -> Problem {
        self.invalid(
            pointer,
            format!("`{}`: {said}", field_label(&self.absolute(pointer))),
            "change the value to one the schema accepts".to_owned(),
            None,
        )
    }

    fn node(&self, pointer: &str) -> Option<Node<'_>> {
        walk::at(self.root, pointer, self.resolver)
    }

    /// The schema at a pointer in the document: below `base` from the
    /// validated value's schema, above it from the kind's.
    fn node_in_document(&self, absolute: &str) -> Option<Node<'_>> {
        match absolute.strip_prefix(self.base) {
            Some(relative) if relative.is_empty() || relative.starts_with('/') => {
                self.node(relative)
            }
            _ => walk::at(self.document?, absolute, self.resolver),
        }
    }

    /// The pointer in the document.
    fn absolute(&self, pointer: &str) -> String {
        format!("{}{pointer}", self.base)
    }

    fn value(&self, pointer: &str) -> &Value {
        self.doc
            .value
            .pointer(&self.absolute(pointer))
            .unwrap_or(&Value::Null)
    }

    fn unknown_field(&self, object: &str, key: &str) -> Problem {
        let mut pointer = self.absolute(object);
        push_token(&mut pointer, key);
        let node = self.node(object);
        let within = self.object_name(object);
        let known = node
            .map(|n| n.properties(self.resolver))
            .unwrap_or_default();
        let lower = key.to_lowercase();
        let suggestion = known
            .iter()
            .map(|&k| (typo_distance(&lower, &k.to_lowercase()), k))
            .filter(|&(distance, _)| distance <= 1)
            .min()
            .map(|(_, k)| k);
        let added = (self.added_in)(&self.absolute(object), key);
        let message = match added {
            Some(version) => format!(
                "`{key}` is not a field of {within} before Kubernetes {version}: the API server drops it or refuses the object"
            ),
            None if self.custom_resource => format!(
                "`{key}` is not a field of {within}: the API server prunes it, or refuses the object under strict field validation"
            ),
            None => format!(
                "`{key}` is not a field of {within}: the API server drops it or refuses the object"
            ),
        };
        let help = match (suggestion, added) {
            (Some(known), _) => format!("did you mean `{known}`?"),
            (None, Some(version)) => format!(
                "remove `{key}`, or judge against Kubernetes {version} or newer (`--kubernetes-version {version}`) if the cluster runs it"
            ),
            (None, None) => self.placement(object, key).unwrap_or_else(|| {
                format!(
                    "remove `{key}`, or move it to where it belongs (`kubectl explain {}` lists the fields)",
                    explain_path(&self.object.kind, &self.absolute(object))
                )
            }),
        };
        Problem {
            kind: ProblemKind::UnknownField,
            pointer,
            container: None,
            message,
            help,
            repair: None,
        }
    }

    /// Where a field indented into the wrong object belongs: an enclosing
    /// object that has it, else one directly inside.
    fn placement(&self, object: &str, key: &str) -> Option<String> {
        let has = |pointer: &str| {
            self.node(pointer)
                .is_some_and(|n| n.properties(self.resolver).contains(&key))
        };
        // Enclosing objects, up to the top of the document.
        let mut ancestor = self.absolute(object);
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            ancestor = parent.to_owned();
            let Some(node) = self.node_in_document(&ancestor) else {
                continue;
            };
            if node.properties(self.resolver).contains(&key) {
                let place = match dotted(&ancestor) {
                    path if path.is_empty() => format!("the top of the `{}`", self.object.kind),
                    path => format!("`{path}`"),
                };
                let name = node
                    .short_name()
                    .map_or_else(|| place.clone(), |n| format!("`{n}`"));
                return Some(format!(
                    "move `{key}` to {place}, where {name} has it: check the indentation"
                ));
            }
        }
        let node = self.node(object)?;
        for property in node.properties(self.resolver) {
            let mut child = object.to_owned();
            push_token(&mut child, property);
            let is_list = self.node(&child).is_some_and(|n| n.types() == ["array"]);
            if is_list {
                child.push_str("/0");
            }
            if has(&child) {
                let each = if is_list { "each item of " } else { "" };
                return Some(format!(
                    "move `{key}` into {each}`{property}`, where {} has it: check the indentation",
                    self.object_name(&child)
                ));
            }
        }
        None
    }

    fn wrong_type(&self, pointer: &str, said: &Said<'_>) -> Problem {
        let value = self.value(pointer);
        let expected = self.node(pointer).map(|n| n.types()).unwrap_or_default();
        let field = field_label(&self.absolute(pointer));
        if expected.is_empty() {
            return self.invalid(
                pointer,
                format!("`{field}`: {said}"),
                "change the value to one the schema accepts".to_owned(),
                Some(Repair::Remove),
            );
        }
        let wanted = expected
            .iter()
            .map(|t| article(t))
            .collect::<Vec<_>>()
            .join(" or ");
        let raw = self.plain_scalar(pointer);
        let found = describe(value, raw.as_deref());
        let message = format!("`{field}` must be {wanted}, found {found}");
        let wants = |t: &str| expected.contains(&t);
        let (help, repair) = match value {
            Value::Bool(_) | Value::Number(_) if wants("string") => {
                let text = raw.clone().unwrap_or_else(|| value.to_string());
                (
                    format!("quote it: `\"{text}\"`"),
                    Repair::Replace(Value::String(text)),
                )
            }
            Value::String(text) if wants("integer") || wants("number") => {
                match (parse_number(text, wants("integer")), whole_seconds(text)) {
                    (Some(number), _) => (
                        format!("write it unquoted: `{number}`"),
                        Repair::Replace(number),
                    ),
                    (None, Some(seconds)) if field.ends_with("Seconds") => (
                        format!("write the number of seconds: `{seconds}`"),
                        Repair::Replace(Value::from(seconds)),
                    ),
                    (None, _) => (format!("give `{field}` {wanted}"), Repair::Remove),
                }
            }
            Value::String(text)
                if wants("boolean") && matches!(text.as_str(), "true" | "false") =>
            {
                (
                    format!("write it unquoted: `{text}`"),
                    Repair::Replace(Value::Bool(text == "true")),
                )
            }
            _ => (format!("give `{field}` {wanted}"), Repair::Remove),
        };
        self.invalid(pointer, message, help, Some(repair))
    }

    fn not_in_enum(&self, pointer: &str, allowed: &[String]) -> Problem {
        let value = self.value(pointer);
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let close = allowed
            .iter()
            .find(|a| typo_distance(&a.to_lowercase(), &shown.to_lowercase()) <= 1);
        let list = allowed
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match close {
            Some(known) => format!("did you mean `{known}`?"),
            None => format!("use one of {list}"),
        };
        self.invalid(
            pointer,
            format!(
                "`{}` is not a valid `{}`: expected one of {list}",
                shown,
                field_label(&self.absolute(pointer))
            ),
            help,
            None,
        )
    }

    /// A string not of the form Kubernetes reads (the schema's
    /// `x-rollsafe-form`: `quantity`, `int-or-percent`, `int-or-port-name`).
    fn bad_form(&self, pointer: &str, form: &str) -> Problem {
        let text = self.value(pointer).as_str().unwrap_or_default();
        let field = field_label(&self.absolute(pointer));
        let (what, help) = match form {
            "quantity" => (
                "a quantity".to_owned(),
                "write a number with an optional suffix: `500Mi`, `1Gi`, `250m`, `0.5`".to_owned(),
            ),
            "int-or-percent" => match text.trim_end_matches('%').trim().parse::<u64>() {
                Ok(n) if !text.contains('%') => (
                    "an integer or a percentage".to_owned(),
                    format!("write `{n}` unquoted for a number of pods, or `{n}%` for a share"),
                ),
                Ok(n) => (
                    "an integer or a percentage".to_owned(),
                    format!("write the percentage as digits and `%`: `{n}%`"),
                ),
                Err(_) => (
                    "an integer or a percentage".to_owned(),
                    "write a number of pods (`1`) or a percentage (`25%`)".to_owned(),
                ),
            },
            "int-or-port-name" => match text.parse::<u16>() {
                Ok(n) => (
                    "a port number or name".to_owned(),
                    format!("write the port number unquoted: `{n}`"),
                ),
                Err(_) => (
                    "a port number or name".to_owned(),
                    "a port name has at most 15 lowercase letters, digits and `-`, with at least one letter".to_owned(),
                ),
            },
            other => (format!("a `{other}`"), format!("write a valid `{other}`")),
        };
        let written = self
            .source_text(pointer)
            .unwrap_or_else(|| format!("\"{text}\""));
        self.invalid(
            pointer,
            format!("`{field}` must be {what}, found `{written}`"),
            help,
            None,
        )
    }

    fn invalid(
        &self,
        pointer: &str,
        message: String,
        help: String,
        repair: Option<Repair>,
    ) -> Problem {
        Problem {
            kind: ProblemKind::InvalidValue,
            pointer: self.absolute(pointer),
            container: None,
            message,
            help,
            repair,
        }
    }

    /// `` `Container` `` for a definition, else the kind or the field.
    fn object_name(&self, pointer: &str) -> String {
        let absolute = self.absolute(pointer);
        match self.node(pointer).and_then(|n| n.short_name()) {
            Some(name) => format!("`{name}`"),
            None if absolute.is_empty() => format!("`{}`", self.object.kind),
            None => format!("`{}`", dotted(&absolute)),
        }
    }

    /// The source text of a scalar at `pointer` as written, quotes included,
    /// when it fits on one line.
    fn source_text(&self, pointer: &str) -> Option<String> {
        let span = self.doc.spans.exact(&self.absolute(pointer))?;
        let text = self.doc.file.slice(span.value_range())?;
        let text = scalar_text(text.lines().next().unwrap_or_default());
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// The source text of a plain (unquoted) scalar at `pointer`.
    fn plain_scalar(&self, pointer: &str) -> Option<String> {
        self.source_text(pointer)
            .filter(|text| !text.starts_with(['"', '\'', '|', '>', '!', '&', '*', '[', '{']))
    }
}

/// A scalar's text without what a span may run over: a comment after a
/// quoted scalar, blanks after a plain one.
fn scalar_text(text: &str) -> &str {
    let mut chars = text.char_indices();
    match chars.next() {
        Some((_, quote @ ('"' | '\''))) => {
            let mut chars = chars.peekable();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' if quote == '"' => {
                        chars.next();
                    }
                    '\'' if quote == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                        chars.next();
                    }
                    c if c == quote => return &text[..=i],
                    _ => {}
                }
            }
            text
        }
        _ => text.split(" #").next().unwrap_or(text).trim_end(),
    }
}

/// Edit distance, with two swapped neighbours (`lables`) counted as one edit.
fn typo_distance(a: &str, b: &str) -> usize {
    let distance = edit_distance(a, b);
    if distance != 2 || a.len() != b.len() {
        return distance;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let differ: Vec<usize> = (0..a.len().min(b.len()))
        .filter(|&i| a[i] != b[i])
        .collect();
    match differ.as_slice() {
        &[i, j] if j == i + 1 && a[i] == b[j] && a[j] == b[i] => 1,
        _ => distance,
    }
}

/// `deployment.spec.template.spec.containers`, for `kubectl explain`.
pub(super) fn explain_path(kind: &str, pointer: &str) -> String {
    let mut path = kind.to_lowercase();
    let fields = dotted(pointer);
    if !fields.is_empty() {
        path.push('.');
        path.push_str(&fields);
    }
    path
}

/// `spec.template.spec.containers` for `/spec/template/spec/containers/0`.
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .filter(|t| t.parse::<usize>().is_err())
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// The field a pointer names, as a reader calls it: `replicas`, `args[1]`.
pub(super) fn field_label(pointer: &str) -> String {
    let mut tokens = pointer.rsplit('/');
    let last = tokens.next().unwrap_or_default();
    let unescape = |t: &str| t.replace("~1", "/").replace("~0", "~");
    if last.parse::<usize>().is_ok() {
        let parent = tokens.next().unwrap_or_default();
        format!("{}[{last}]", unescape(parent))
    } else {
        unescape(last)
    }
}

fn article(json_type: &str) -> &'static str {
    match json_type {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "object" => "a mapping",
        "array" => "a list",
        "null" => "null",
        _ => "another type",
    }
}

/// What a value is, and what YAML made of it when that differs from the text.
fn describe(value: &Value, raw: Option<&str>) -> String {
    match (value, raw) {
        (Value::Bool(b), Some(text)) if text != b.to_string() => {
            format!("`{text}`, which YAML 1.1 reads as the boolean `{b}`")
        }
        (Value::Number(n), Some(text)) if text != n.to_string() => {
            format!("`{text}`, which YAML reads as the number `{n}`")
        }
        (Value::Bool(b), _) => format!("the boolean `{b}`"),
        (Value::Number(n), _) => format!("the number `{n}`"),
        (Value::String(s), _) => format!("the string `\"{s}\"`"),
        (Value::Null, _) => "null".to_owned(),
        (Value::Array(_), _) => "a list".to_owned(),
        (Value::Object(_), _) => "a mapping".to_owned(),
    }
}

/// `5` for a Go duration of whole seconds such as `5s` or `1m`.
fn whole_seconds(text: &str) -> Option<u64> {
    let seconds = parse_duration(text).ok()?.as_secs_f64();
    (seconds.fract() == 0.0 && text.ends_with(['s', 'm', 'h']) && !text.ends_with("ms"))
        .then_some(seconds as u64)
}

fn parse_number(text: &str, integer: bool) -> Option<Value> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Some(Value::from(n));
    }
    if integer {
        return None;
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_texts() {
        assert_eq!(scalar_text("\"25\" # note"), "\"25\"");
        assert_eq!(scalar_text("'it''s' # note"), "'it''s'");
        assert_eq!(scalar_text("\"a\\\"b\" x"), "\"a\\\"b\"");
        assert_eq!(scalar_text("on # yes"), "on");
    }

    #[test]
    fn typos() {
        assert_eq!(typo_distance("lables", "labels"), 1);
        assert_eq!(typo_distance("setps", "steps"), 1);
        assert_eq!(typo_distance("readinessprobe", "readinessprobe"), 0);
        assert!(typo_distance("abcd", "badc") > 1);
    }

    #[test]
    fn labels() {
        assert_eq!(field_label("/spec/replicas"), "replicas");
        assert_eq!(field_label("/spec/containers/0/args/1"), "args[1]");
        assert_eq!(
            dotted("/spec/template/spec/containers/0"),
            "spec.template.spec.containers"
        );
        assert_eq!(
            describe(&Value::Bool(true), Some("on")),
            "`on`, which YAML 1.1 reads as the boolean `true`"
        );
        assert_eq!(describe(&Value::from(3), None), "the number `3`");
    }
}
