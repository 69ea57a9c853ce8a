//! The embedded Kubernetes and custom resource schemas as tables, generated
//! from `schemas/kubernetes.json` and `schemas/custom-resources.json` when
//! rollsafe is built (`build.rs`), and the check of a value against them.
//!
//! The schemas use a handful of keywords (`type`, `$ref`, `properties` of
//! objects closed by `additionalProperties: false`, maps, `items`,
//! `required`, `enum`, `pattern`, `maxLength`, `minimum`, `maximum`, `allOf`,
//! `format: date-time`), and the build stops at any other. The check finds
//! what a draft 7 validator compiled from the same schema finds
//! (`jsonschema`, formats asserted), in the order it reports them: by keyword
//! (`type`, `enum`, `maxLength`, `minimum`, `maximum`, `required`, `pattern`,
//! `format`, the members of an object,
//! the items of a list, `allOf`), an object's members in key order, its
//! unknown keys after them, and a lone required field last. A pod template
//! reached by `$ref` is left open (any object): it is checked on its own.

use std::fmt::Write as _;

use serde_json::Value;

use super::fault::{Fault, FaultKind, Said};
use crate::source::push_token;

use super::fault::types::{ARRAY, BOOLEAN, INTEGER, MULTIPLE, NULL, NUMBER, OBJECT, STRING};

/// One schema node. Names are indexes of the names the tables hold (`TEXT`,
/// `STARTS`), lists are spans of the shared lists.
#[derive(Debug)]
struct Node {
    /// The definition a `$ref` names (an index of `DEFINITION_NAMES`), or
    /// `NONE`; nothing else of the node counts then.
    reference: u16,
    /// The allowed JSON types; none when 0.
    types: u8,
    /// `enum`: names, in `NAME_LISTS`.
    options: Span,
    max_length: Option<u64>,
    /// Names, in `NAME_LISTS`.
    required: Span,
    /// `required` is checked after the members (one name, closed object).
    required_after_members: bool,
    pattern: Option<Pattern>,
    date_time: bool,
    minimum: Option<i64>,
    maximum: Option<i64>,
    /// `(name, node)`, in `PROPERTIES`, sorted by name.
    properties: Span,
    additional: Additional,
    /// A node, or `NONE`.
    items: u16,
    /// Nodes, in `NODE_LISTS`.
    all_of: Span,
}

const NONE: u16 = u16::MAX;

impl Node {
    const ANY: Node = Node {
        reference: NONE,
        types: 0,
        options: Span::EMPTY,
        max_length: None,
        required: Span::EMPTY,
        required_after_members: false,
        pattern: None,
        date_time: false,
        minimum: None,
        maximum: None,
        properties: Span::EMPTY,
        additional: Additional::Open,
        items: NONE,
        all_of: Span::EMPTY,
    };
}

/// Where a list is in a shared one.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u16,
    len: u16,
}

impl Span {
    const EMPTY: Span = Span { start: 0, len: 0 };

    fn of<T>(self, pool: &[T]) -> &[T] {
        let start = usize::from(self.start);
        pool.get(start..start + usize::from(self.len))
            .unwrap_or_default()
    }
}

/// A name the tables hold.
fn name(id: u16) -> &'static str {
    let id = usize::from(id);
    match (STARTS.get(id), STARTS.get(id + 1)) {
        (Some(&start), Some(&end)) => TEXT.get(start as usize..end as usize).unwrap_or_default(),
        _ => "",
    }
}

#[derive(Debug)]
enum Additional {
    /// Any key.
    Open,
    /// The keys of `properties` only.
    Closed,
    /// A map: every key's value has this schema.
    Schema(u16),
}

/// The patterns of the schemas, matched by hand.
#[derive(Debug, Clone, Copy)]
enum Pattern {
    /// A quantity as `resource.ParseQuantity` reads it: `500Mi`, `0.5`, `1e3`.
    Quantity,
    /// `25%`.
    Percent,
    /// Lowercase letters and digits, single `-` between them.
    LowerAlphanumeric,
    /// At least one lowercase letter.
    HasLowercase,
}

impl Pattern {
    fn source(self) -> &'static str {
        match self {
            Pattern::Quantity => {
                r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$"
            }
            Pattern::Percent => "^[0-9]+%$",
            Pattern::LowerAlphanumeric => "^[a-z0-9](-?[a-z0-9])*$",
            Pattern::HasLowercase => "[a-z]",
        }
    }

    fn matches(self, text: &str) -> bool {
        match self {
            Pattern::Quantity => is_quantity(text),
            Pattern::Percent => text.strip_suffix('%').is_some_and(|digits| {
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            }),
            Pattern::LowerAlphanumeric => {
                let bytes = text.as_bytes();
                let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
                !bytes.is_empty()
                    && bytes.iter().all(allowed)
                    && bytes.first() != Some(&b'-')
                    && bytes.last() != Some(&b'-')
                    && !text.contains("--")
            }
            Pattern::HasLowercase => text.bytes().any(|b| b.is_ascii_lowercase()),
        }
    }
}

/// One Kubernetes minor's kinds and definitions.
#[derive(Debug)]
pub struct Minor {
    minor: u32,
    /// `(apiVersion/Kind, definition)` in `KINDS`, sorted; a definition is
    /// an index of `DEFS`, the file's definitions.
    kinds: Span,
    /// The definition of each of `DEFINITION_NAMES` in this minor, `NONE`
    /// for a name it lacks.
    definitions: &'static [u16],
}

include!(concat!(env!("OUT_DIR"), "/schema_tables.rs"));

/// The tables of a Kubernetes 1.x minor.
pub fn minor(minor: u32) -> Option<&'static Minor> {
    MINORS.iter().find(|m| m.minor == minor)
}

impl Minor {
    /// The definition of `apiVersion/Kind` (an index of the file's `defs`).
    pub fn kind(&self, api_version_kind: &str) -> Option<usize> {
        let kinds = self.kinds.of(&KINDS);
        let at = kinds
            .binary_search_by(|&(kind, _)| name(kind).cmp(api_version_kind))
            .ok()?;
        kinds.get(at).map(|&(_, def)| usize::from(def))
    }

    /// The definition a `$ref` name stands for, with the name.
    pub fn definition(&self, wanted: &str) -> Option<(usize, &'static str)> {
        let at = DEFINITION_NAMES
            .binary_search_by(|&id| name(id).cmp(wanted))
            .ok()?;
        let def = self.named(u16::try_from(at).ok()?)?;
        Some((def, name(*DEFINITION_NAMES.get(at)?)))
    }

    /// Whether a definition is a custom resource's.
    pub fn is_custom_resource(definition: usize) -> bool {
        definition >= CUSTOM_RESOURCES
    }

    /// Where the pod template of a custom resource `apiVersion/Kind` is.
    pub fn template(api_version_kind: &str) -> Option<&'static str> {
        let at = TEMPLATES
            .binary_search_by(|&(kind, _)| name(kind).cmp(api_version_kind))
            .ok()?;
        TEMPLATES.get(at).map(|&(_, pointer)| name(pointer))
    }

    /// The definition of the pod template (`PodTemplateSpec`).
    pub fn pod_template(&self) -> Option<usize> {
        self.named(POD_TEMPLATE)
    }

    fn named(&self, definition_name: u16) -> Option<usize> {
        let def = *self.definitions.get(usize::from(definition_name))?;
        (def != NONE).then_some(usize::from(def))
    }

    /// Every `apiVersion/Kind` this minor has.
    #[cfg(test)]
    pub fn kinds(&self) -> impl Iterator<Item = (&'static str, usize)> {
        self.kinds
            .of(&KINDS)
            .iter()
            .map(|&(kind, def)| (name(kind), usize::from(def)))
    }

    /// What is wrong with `value` by the schema of a definition.
    pub fn check<'v>(&'static self, definition: usize, value: &'v Value) -> Vec<Fault<'v>> {
        let mut walk = Walk {
            minor: self,
            pointer: String::new(),
            faults: Vec::new(),
        };
        if let Some(&node) = DEFS.get(definition) {
            walk.node(node, value);
        }
        walk.faults
    }
}

struct Walk<'v> {
    minor: &'static Minor,
    /// Where the value being checked is.
    pointer: String,
    faults: Vec<Fault<'v>>,
}

impl<'v> Walk<'v> {
    fn node(&mut self, id: u16, value: &'v Value) {
        let Some(node) = NODES.get(usize::from(id)) else {
            return;
        };
        if node.reference != NONE {
            if node.reference == POD_TEMPLATE {
                // Checked on its own: here any object will do.
                self.types(OBJECT | NULL | MULTIPLE, value);
            } else if let Some(&target) = self
                .minor
                .named(node.reference)
                .and_then(|definition| DEFS.get(definition))
            {
                self.node(target, value);
            }
            return;
        }
        if node.types != 0 {
            self.types(node.types, value);
        }
        let options = node.options.of(&NAME_LISTS);
        if !options.is_empty()
            && !options
                .iter()
                .any(|&option| value.as_str() == Some(name(option)))
        {
            let options = options.iter().map(|&o| name(o).to_owned()).collect();
            self.fault(FaultKind::Enum(options));
        }
        if let (Some(limit), Value::String(text)) = (node.max_length, value)
            && text.chars().count() as u64 > limit
        {
            let said = Said::TooLong {
                instance: value,
                limit,
            };
            self.fault(FaultKind::Form(said));
        }
        if let Some(limit) = node.minimum
            && value.as_f64().is_some_and(|n| n < limit as f64)
        {
            let said = Said::Below {
                instance: value,
                limit,
            };
            self.fault(FaultKind::Range(said));
        }
        if let Some(limit) = node.maximum
            && value.as_f64().is_some_and(|n| n > limit as f64)
        {
            let said = Said::Above {
                instance: value,
                limit,
            };
            self.fault(FaultKind::Range(said));
        }
        let required = node.required.of(&NAME_LISTS);
        if !node.required_after_members {
            self.required(required, value);
        }
        if let (Some(pattern), Value::String(text)) = (node.pattern, value)
            && !pattern.matches(text)
        {
            let said = Said::NoMatch {
                instance: value,
                pattern: pattern.source(),
            };
            self.fault(FaultKind::Form(said));
        }
        if node.date_time
            && let Value::String(text) = value
            && !is_date_time(text)
        {
            let said = Said::NotFormat {
                instance: value,
                format: "date-time",
            };
            self.fault(FaultKind::Other(said));
        }
        if let Value::Object(members) = value {
            match node.additional {
                Additional::Open => {}
                Additional::Closed => {
                    let properties = node.properties.of(&PROPERTIES);
                    let mut unknown = Vec::new();
                    for (key, member) in members {
                        let property = properties
                            .binary_search_by(|&(property, _)| name(property).cmp(key))
                            .ok()
                            .and_then(|at| properties.get(at));
                        match property {
                            Some(&(_, child)) => self.child(key, child, member),
                            None => unknown.push(key.clone()),
                        }
                    }
                    if !unknown.is_empty() {
                        self.fault(FaultKind::Unknown(unknown));
                    }
                }
                Additional::Schema(child) => {
                    for (key, member) in members {
                        self.child(key, child, member);
                    }
                }
            }
            if node.required_after_members {
                self.required(required, value);
            }
        }
        if node.items != NONE
            && let Value::Array(items) = value
        {
            for (index, item) in items.iter().enumerate() {
                let len = self.pointer.len();
                let _ = write!(self.pointer, "/{index}");
                self.node(node.items, item);
                self.pointer.truncate(len);
            }
        }
        for &branch in node.all_of.of(&NODE_LISTS) {
            self.node(branch, value);
        }
    }

    fn child(&mut self, key: &str, node: u16, value: &'v Value) {
        let len = self.pointer.len();
        push_token(&mut self.pointer, key);
        self.node(node, value);
        self.pointer.truncate(len);
    }

    fn types(&mut self, types: u8, value: &'v Value) {
        let allowed = match value {
            Value::Null => types & NULL != 0,
            Value::Bool(_) => types & BOOLEAN != 0,
            Value::Number(n) if is_integer(n) => types & (INTEGER | NUMBER) != 0,
            Value::Number(_) => types & NUMBER != 0,
            Value::String(_) => types & STRING != 0,
            Value::Array(_) => types & ARRAY != 0,
            Value::Object(_) => types & OBJECT != 0,
        };
        if !allowed {
            let said = Said::NotOfType {
                instance: value,
                types,
            };
            self.fault(FaultKind::Type(said));
        }
    }

    fn required(&mut self, required: &[u16], value: &Value) {
        let Value::Object(members) = value else {
            return;
        };
        for &id in required {
            if !members.contains_key(name(id)) {
                self.fault(FaultKind::Required(name(id).to_owned()));
            }
        }
    }

    fn fault(&mut self, kind: FaultKind<'v>) {
        self.faults.push(Fault {
            pointer: self.pointer.clone(),
            kind,
        });
    }
}

/// Whether `text` passes a pattern or format check, by its name.
#[cfg(test)]
pub fn matches(check: &str, text: &str) -> bool {
    match check {
        "quantity" => Pattern::Quantity.matches(text),
        "percent" => Pattern::Percent.matches(text),
        "port name" => Pattern::LowerAlphanumeric.matches(text),
        "lowercase" => Pattern::HasLowercase.matches(text),
        _ => is_date_time(text),
    }
}

/// A whole number, as JSON Schema counts one (`3.0` is).
fn is_integer(number: &serde_json::Number) -> bool {
    number.is_i64() || number.is_u64() || number.as_f64().is_some_and(|f| f.fract() == 0.0)
}

/// The quantity pattern: a signed decimal, then a binary (`Ki` … `Ei`),
/// decimal (`n` … `E`) or exponent (`e3`) suffix, or none.
fn is_quantity(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |from: usize| {
        bytes.get(from..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_digit()).count()
        })
    };
    let whole = digits(i);
    i += whole;
    if bytes.get(i) == Some(&b'.') {
        let fraction = digits(i + 1);
        if whole == 0 && fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    } else if whole == 0 {
        return false;
    }
    match bytes.get(i..).unwrap_or_default() {
        [] => true,
        [b'n' | b'u' | b'm' | b'k' | b'M' | b'G' | b'T' | b'P' | b'E'] => true,
        [b'K' | b'M' | b'G' | b'T' | b'P' | b'E', b'i'] => true,
        [b'e' | b'E', rest @ ..] => {
            let rest = match rest {
                [b'+' | b'-', rest @ ..] => rest,
                rest => rest,
            };
            !rest.is_empty() && rest.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// RFC 3339 `date-time`, as the validator reads it: `2024-02-29T12:00:00Z`,
/// with optional fractional seconds and a `Z` or `±hh:mm` offset (the
/// separator and `Z` in either case); a leap second only at 23:59 UTC.
fn is_date_time(text: &str) -> bool {
    let Some(t) = text.bytes().position(|b| b == b'T' || b == b't') else {
        return false;
    };
    let (date, time) = text.as_bytes().split_at(t);
    is_date(date) && time.get(1..).is_some_and(is_time)
}

fn two_digits(bytes: &[u8], at: usize) -> Option<u8> {
    match bytes.get(at..at + 2)? {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

fn is_date(bytes: &[u8]) -> bool {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(high), Some(low), Some(month), Some(day)) = (
        two_digits(bytes, 0),
        two_digits(bytes, 2),
        two_digits(bytes, 5),
        two_digits(bytes, 8),
    ) else {
        return false;
    };
    let year = u16::from(high) * 100 + u16::from(low);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn is_time(bytes: &[u8]) -> bool {
    if bytes.len() < 9 || bytes[2] != b':' || bytes[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) = (
        two_digits(bytes, 0),
        two_digits(bytes, 3),
        two_digits(bytes, 6),
    ) else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 8;
    if bytes.get(i) == Some(&b'.') {
        let fraction = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    match bytes.get(i..).unwrap_or_default() {
        [b'Z' | b'z'] => second != 60 || (hour == 23 && minute == 59),
        [sign @ (b'+' | b'-'), offset @ ..] if offset.len() == 5 && offset[2] == b':' => {
            let (Some(offset_hour), Some(offset_minute)) =
                (two_digits(offset, 0), two_digits(offset, 3))
            else {
                return false;
            };
            if offset_hour > 23 || offset_minute > 59 {
                return false;
            }
            if second != 60 {
                return true;
            }
            // A leap second is 23:59:60 in UTC.
            let offset = i16::from(offset_hour) * 60 + i16::from(offset_minute);
            let local = i16::from(hour) * 60 + i16::from(minute);
            let utc = match sign {
                b'+' => local - offset,
                _ => local + offset,
            };
            utc.rem_euclid(24 * 60) == 23 * 60 + 59
        }
        _ => false,
    }
}
