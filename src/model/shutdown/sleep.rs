//! What `sleep` reads: its operands, and how long it sleeps (which may be
//! forever).

use std::fmt;

use crate::model::duration::Millis;

/// A length of time that may never end: `sleep infinity` is a real, if
/// unwise, preStop hook, and no grace period covers it.
///
/// Ordered so that every finite delay is shorter than `Unbounded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Delay {
    Finite(Millis),
    Unbounded,
}

impl Delay {
    pub const ZERO: Delay = Delay::Finite(Millis(0));

    pub fn finite(self) -> Option<Millis> {
        match self {
            Delay::Finite(m) => Some(m),
            Delay::Unbounded => None,
        }
    }

    /// Whole seconds, rounded up; `None` when no number of seconds is enough.
    pub fn ceil_secs(self) -> Option<u64> {
        self.finite().map(Millis::ceil_secs)
    }

    pub fn saturating_add(self, other: Millis) -> Delay {
        match self {
            Delay::Finite(m) => Delay::Finite(m.saturating_add(other)),
            Delay::Unbounded => Delay::Unbounded,
        }
    }

    pub(super) fn plus(self, other: Delay) -> Delay {
        match other {
            Delay::Finite(m) => self.saturating_add(m),
            Delay::Unbounded => Delay::Unbounded,
        }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delay::Finite(m) => m.fmt(f),
            Delay::Unbounded => f.write_str("unbounded"),
        }
    }
}

/// The last path segment: `/bin/sh` → `sh`.
pub(super) fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Reads a GNU `sleep` operand: a decimal number with an optional `s`, `m`,
/// `h` or `d` suffix (`5`, `0.5`, `1.5m`, `2d`), in exponent form too
/// (`1e3`), or `infinity`. Busybox `sleep` reads the same forms. `ms` and
/// negative numbers are refused, as `sleep` refuses them; a number too large
/// for a `double` (`1e400`) is infinite to `sleep`, which takes the overflow
/// for its largest value and sleeps forever.
pub fn parse_sleep_operand(text: &str) -> Option<Delay> {
    let s = text.trim_start();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("infinity") {
        return Some(Delay::Unbounded);
    }
    const UNITS: [(char, u128); 4] = [('s', 1), ('m', 60), ('h', 3_600), ('d', 86_400)];
    let (number, unit_secs) = UNITS
        .iter()
        .find_map(|&(suffix, secs)| s.strip_suffix(suffix).map(|n| (n, secs)))
        .unwrap_or((s, 1));
    if let Some((mantissa, exponent)) = number.split_once(['e', 'E']) {
        return exponent_operand(mantissa, exponent, unit_secs);
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let unit_nanos = unit_secs * 1_000_000_000;
    let whole_value = whole.bytes().fold(0u128, |n, b| {
        n.saturating_mul(10).saturating_add(u128::from(b - b'0'))
    });
    let mut nanos = whole_value.saturating_mul(unit_nanos);
    let mut scale = unit_nanos;
    for b in fraction.bytes().take(18) {
        scale /= 10;
        nanos = nanos.saturating_add(u128::from(b - b'0') * scale);
    }
    let millis = u64::try_from(nanos.div_ceil(1_000_000)).unwrap_or(u64::MAX);
    Some(Delay::Finite(Millis(millis)))
}

/// `1.5e3`: a decimal mantissa and a signed exponent, as `strtod` reads them.
fn exponent_operand(mantissa: &str, exponent: &str, unit_secs: u128) -> Option<Delay> {
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let well_formed = !(whole.is_empty() && fraction.is_empty())
        && digits(whole)
        && digits(fraction)
        && !exponent_digits.is_empty()
        && digits(exponent_digits);
    if !well_formed {
        return None;
    }
    let seconds: f64 = format!("{mantissa}e{exponent}").parse().ok()?;
    let millis = seconds * unit_secs as f64 * 1000.0;
    if millis.is_infinite() {
        return Some(Delay::Unbounded);
    }
    // `as` saturates: a finite sleep longer than u64 milliseconds is the
    // longest one there is.
    Some(Delay::Finite(Millis(millis.ceil() as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_operands_are_read_as_sleep_reads_them() {
        assert_eq!(
            parse_sleep_operand("1e400"),
            Some(Delay::Unbounded),
            "`sleep` takes the overflow for forever"
        );
        assert_eq!(
            parse_sleep_operand("1.5e1"),
            Some(Delay::Finite(Millis(15_000)))
        );
        assert_eq!(
            parse_sleep_operand("5e-1s"),
            Some(Delay::Finite(Millis(500)))
        );
        assert_eq!(
            parse_sleep_operand("2E1m"),
            Some(Delay::Finite(Millis(1_200_000)))
        );
        assert_eq!(parse_sleep_operand("1e"), None);
        assert_eq!(parse_sleep_operand("e5"), None);
        assert_eq!(parse_sleep_operand("1e5x"), None);
    }

    #[test]
    fn sleep_operands() {
        let ms = |m| Some(Delay::Finite(Millis(m)));
        assert_eq!(parse_sleep_operand("5"), ms(5_000));
        assert_eq!(parse_sleep_operand("+5"), ms(5_000));
        assert_eq!(parse_sleep_operand("5."), ms(5_000));
        assert_eq!(parse_sleep_operand("0.0001"), ms(1));
        assert_eq!(parse_sleep_operand("2h"), ms(7_200_000));
        assert_eq!(parse_sleep_operand("INFINITY"), Some(Delay::Unbounded));
        assert_eq!(
            parse_sleep_operand("99999999999999999999999999999999999999999d"),
            ms(u64::MAX)
        );
        for bad in ["", "s", ".", "5x", "-1", "5ms", "1.2.3", "$(x)", "five"] {
            assert_eq!(parse_sleep_operand(bad), None, "{bad}");
        }
    }
}
