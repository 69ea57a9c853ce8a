//! `maxSurge`, `maxUnavailable` and their kin: an integer or a percentage,
//! scaled and rounded as the controllers do.

use super::*;

/// Why an int-or-percent value cannot be scaled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntOrStringError {
    /// A string without a trailing `%`: Kubernetes never reads a quoted
    /// number as a count.
    #[error(
        "`{text}` is a string but not a percentage (expected a number followed by `%`, e.g. `25%`, or an unquoted integer)"
    )]
    NotPercent { text: String },
    /// A trailing `%` after something that is not a whole number.
    #[error(
        "`{text}` is not a valid percentage (expected a whole number followed by `%`, e.g. `25%`)"
    )]
    BadPercent { text: String },
}

/// The value as a manifest writes it: `25%`, `1`.
pub fn written(value: &IntOrString) -> String {
    match value {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Resolves an int-or-percent against `total`, mirroring
/// `GetScaledValueFromIntOrPercent` (k8s.io/apimachinery `util/intstr`):
/// an integer is taken as is, `N%` is `N × total / 100` rounded up or down,
/// any other string is an error. Like Go's `strconv.Atoi`, the number before
/// `%` may carry a sign (`-5%` scales to a negative count); API validation,
/// not this function, rejects that. Go computes in `float64`; exact integer
/// Which way a percentage of a count is rounded, as each controller asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    Up,
    Down,
}

/// arithmetic gives the same result for every count a cluster can hold.
pub fn scaled_value(
    value: &IntOrString,
    total: i64,
    rounding: Rounding,
) -> Result<i64, IntOrStringError> {
    match value {
        IntOrString::Int(n) => Ok(i64::from(*n)),
        IntOrString::String(text) => {
            let percent = parse_percent(text)?;
            Ok(scale_percent(percent, total, rounding))
        }
    }
}

/// The number before `%`, as `getIntOrPercentValueSafely` reads it.
pub(in crate::model) fn parse_percent(text: &str) -> Result<i64, IntOrStringError> {
    let Some(number) = text.strip_suffix('%') else {
        return Err(IntOrStringError::NotPercent {
            text: text.to_owned(),
        });
    };
    number
        .parse::<i64>()
        .map_err(|_| IntOrStringError::BadPercent {
            text: text.to_owned(),
        })
}

pub(super) fn scale_percent(percent: i64, total: i64, rounding: Rounding) -> i64 {
    let product = i128::from(percent) * i128::from(total);
    let scaled = match rounding {
        Rounding::Up => -(-product).div_euclid(100),
        Rounding::Down => product.div_euclid(100),
    };
    clamp_i64(scaled)
}

fn clamp_i64(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// The percentage of a string the API server accepts as one: it matches
/// `^[0-9]+%$` (`IsValidPercent` in apimachinery `util/validation`). Digits
/// too many for an `int` read as the largest one, as `strconv.Atoi` clamps.
pub(crate) fn valid_percent(value: &IntOrString) -> Option<i64> {
    let IntOrString::String(text) = value else {
        return None;
    };
    let digits = text.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<i64>().unwrap_or(i64::MAX))
}

/// `getIntOrPercentValue` of apps validation: a valid percentage's number,
/// else `IntOrString.IntValue()`, which reads a string with `strconv.Atoi`
/// and ignores the error, so `"abc"` counts as 0 and `"5"` as 5.
pub(super) fn validation_value(value: &IntOrString) -> i64 {
    if let Some(percent) = valid_percent(value) {
        return percent;
    }
    match value {
        IntOrString::Int(n) => i64::from(*n),
        IntOrString::String(text) => go_atoi_lossy(text),
    }
}

/// `strconv.Atoi` with its error dropped: 0 on a syntax error, the clamped
/// value on overflow.
fn go_atoi_lossy(text: &str) -> i64 {
    match text.parse::<i64>() {
        Ok(n) => n,
        Err(error) => match error.kind() {
            std::num::IntErrorKind::PosOverflow => i64::MAX,
            std::num::IntErrorKind::NegOverflow => i64::MIN,
            _ => 0,
        },
    }
}

/// A rollout field as the controller reads it, after API defaulting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: IntOrString,
    /// The manifest left the field out and Kubernetes filled in `value`:
    /// a message should say "the default `25%`", not blame the author.
    pub defaulted: bool,
}

impl Setting {
    pub(super) fn from_field(field: Option<&IntOrString>, default: IntOrString) -> Setting {
        match field {
            Some(value) => Setting {
                value: value.clone(),
                defaulted: false,
            },
            None => Setting {
                value: default,
                defaulted: true,
            },
        }
    }
}

impl fmt::Display for Setting {
    /// As written: `25%`, `1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&written(&self.value))
    }
}

/// A rollout field that the controller cannot resolve; the API server would
/// have rejected the object (see the `validate_*` functions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot resolve `{field}`")]
pub struct RolloutFieldError {
    pub field: &'static str,
    /// JSON pointer below the strategy object, e.g. `/rollingUpdate/maxSurge`.
    pub pointer: &'static str,
    #[source]
    pub source: IntOrStringError,
}

pub(super) fn field_value(
    setting: &Setting,
    total: i64,
    rounding: Rounding,
    field: &'static str,
    pointer: &'static str,
) -> Result<i64, RolloutFieldError> {
    scaled_value(&setting.value, total, rounding).map_err(|source| RolloutFieldError {
        field,
        pointer,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn scaled_value_rounds_as_asked() {
        assert_eq!(scaled_value(&text("30%"), 10, Rounding::Up), Ok(3));
        assert_eq!(scaled_value(&text("25%"), 10, Rounding::Up), Ok(3));
        assert_eq!(scaled_value(&text("25%"), 10, Rounding::Down), Ok(2));
        assert_eq!(scaled_value(&text("25%"), 1, Rounding::Up), Ok(1));
        assert_eq!(scaled_value(&text("25%"), 1, Rounding::Down), Ok(0));
        assert_eq!(scaled_value(&text("100%"), 7, Rounding::Down), Ok(7));
        assert_eq!(scaled_value(&int(5), 1, Rounding::Down), Ok(5));
        assert_eq!(scaled_value(&text("+5%"), 100, Rounding::Down), Ok(5));
        assert_eq!(scaled_value(&text("-5%"), 10, Rounding::Up), Ok(0));
        assert_eq!(scaled_value(&text("-5%"), 10, Rounding::Down), Ok(-1));
        assert_eq!(
            scaled_value(&text("9223372036854775807%"), i64::MAX, Rounding::Up),
            Ok(i64::MAX)
        );
    }

    #[test]
    fn scaled_value_rejects_strings_that_are_not_percentages() {
        assert_eq!(
            scaled_value(&text("5"), 10, Rounding::Up),
            Err(IntOrStringError::NotPercent { text: "5".into() })
        );
        for bad in ["%", "5.5%", "five%", "5%%", " 5%", ""] {
            assert!(
                scaled_value(&text(bad), 10, Rounding::Up).is_err(),
                "{bad:?}"
            );
        }
        let message = scaled_value(&text("5"), 10, Rounding::Up)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some(
                "`5` is a string but not a percentage (expected a number followed by `%`, e.g. `25%`, or an unquoted integer)"
            )
        );
    }

    #[test]
    fn written_shows_the_manifest_form() {
        assert_eq!(written(&text("25%")), "25%");
        assert_eq!(written(&int(1)), "1");
        let setting = Setting {
            value: text("25%"),
            defaulted: true,
        };
        assert_eq!(setting.to_string(), "25%");
    }
}
