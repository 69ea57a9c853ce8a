//! What a schema check found wrong with a value, whichever checked it: the
//! tables of the embedded Kubernetes schemas (`tables`), or a validator
//! compiled from a schema folder's file (`custom`).

use std::fmt;

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

/// JSON types as bits, as the tables write `type`.
pub mod types {
    pub const NULL: u8 = 1;
    pub const BOOLEAN: u8 = 1 << 1;
    pub const INTEGER: u8 = 1 << 2;
    pub const NUMBER: u8 = 1 << 3;
    pub const STRING: u8 = 1 << 4;
    pub const ARRAY: u8 = 1 << 5;
    pub const OBJECT: u8 = 1 << 6;
    /// `type` lists two or more.
    pub const MULTIPLE: u8 = 1 << 7;

    const NAMES: [(u8, &str); 7] = [
        (NULL, "null"),
        (BOOLEAN, "boolean"),
        (INTEGER, "integer"),
        (NUMBER, "number"),
        (STRING, "string"),
        (ARRAY, "array"),
        (OBJECT, "object"),
    ];

    /// The names of the types in a set, in the validator's order.
    pub fn names(types: u8) -> impl Iterator<Item = &'static str> {
        NAMES
            .into_iter()
            .filter(move |(bit, _)| types & bit != 0)
            .map(|(_, name)| name)
    }
}

/// One way a value fails its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault<'v> {
    /// RFC 6901 pointer, relative to the checked value.
    pub pointer: String,
    pub kind: FaultKind<'v>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind<'v> {
    /// Keys the object may not have, in the object's order.
    Unknown(Vec<String>),
    /// A value of a type the schema does not allow.
    Type(Said<'v>),
    /// A field the object lacks.
    Required(String),
    /// A value none of the allowed ones (their text, `null` left out).
    Enum(Vec<String>),
    /// A string not of the pattern or length the schema gives.
    Form(Said<'v>),
    /// A number below the schema's `minimum` or above its `maximum`.
    Range(Said<'v>),
    /// Anything else (a `format`), said as the validator says it.
    Other(Said<'v>),
}

/// What the validator says of a fault, for one with no better explanation.
#[derive(Debug, Clone, PartialEq)]
pub enum Said<'v> {
    /// Said already.
    Text(String),
    NotOfType {
        instance: &'v Value,
        types: u8,
    },
    NoMatch {
        instance: &'v Value,
        pattern: &'static str,
    },
    TooLong {
        instance: &'v Value,
        limit: u64,
    },
    NotFormat {
        instance: &'v Value,
        format: &'static str,
    },
    Below {
        instance: &'v Value,
        limit: i64,
    },
    Above {
        instance: &'v Value,
        limit: i64,
    },
}

/// Worded as `jsonschema` words the same error.
impl fmt::Display for Said<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Said::Text(text) => f.write_str(text),
            Said::NotOfType { instance, types } if types & types::MULTIPLE == 0 => {
                let name = types::names(*types).next().unwrap_or_default();
                write!(f, r#"{instance} is not of type "{name}""#)
            }
            Said::NotOfType { instance, types } => {
                let names: Vec<String> = types::names(*types)
                    .map(|name| format!("\"{name}\""))
                    .collect();
                write!(f, "{instance} is not of types {}", names.join(", "))
            }
            Said::NoMatch { instance, pattern } => {
                write!(f, r#"{instance} does not match "{pattern}""#)
            }
            Said::TooLong { instance, limit } => write!(
                f,
                "{instance} is longer than {limit} character{}",
                if *limit == 1 { "" } else { "s" }
            ),
            Said::NotFormat { instance, format } => {
                write!(f, r#"{instance} is not a "{format}""#)
            }
            Said::Below { instance, limit } => {
                write!(f, "{instance} is less than the minimum of {limit}")
            }
            Said::Above { instance, limit } => {
                write!(f, "{instance} is greater than the maximum of {limit}")
            }
        }
    }
}

impl Fault<'_> {
    /// A validator's error as a fault; `None` for one that says nothing of
    /// the value (a reference that does not resolve).
    pub fn from_validation_error(error: &ValidationError<'_>) -> Option<Fault<'static>> {
        let said = || Said::Text(error.to_string());
        let kind = match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                FaultKind::Unknown(unexpected.clone())
            }
            ValidationErrorKind::Type { .. } => FaultKind::Type(said()),
            ValidationErrorKind::Required { property } => {
                FaultKind::Required(property.as_str().unwrap_or_default().to_owned())
            }
            ValidationErrorKind::Enum { options } => FaultKind::Enum(
                options
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|o| !o.is_null())
                    .map(|o| match o {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            ValidationErrorKind::Pattern { .. } | ValidationErrorKind::MaxLength { .. } => {
                FaultKind::Form(said())
            }
            ValidationErrorKind::Minimum { .. } | ValidationErrorKind::Maximum { .. } => {
                FaultKind::Range(said())
            }
            ValidationErrorKind::Referencing(_) => return None,
            _ => FaultKind::Other(said()),
        };
        Some(Fault {
            pointer: error.instance_path().as_str().to_owned(),
            kind,
        })
    }
}
