//! Go-style durations: `10s`, `1m30s`, `500ms`, `1.5h`, and plain integers (seconds).

use std::fmt;
use std::time::Duration;

/// A duration as written in a manifest or a policy, kept to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    pub fn from_secs(seconds: u64) -> Self {
        Millis(seconds.saturating_mul(1000))
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Whole seconds, rounded up: what a `*Seconds` field must hold to cover it.
    pub fn ceil_secs(self) -> u64 {
        self.0.div_ceil(1000)
    }

    pub fn saturating_add(self, other: Millis) -> Millis {
        Millis(self.0.saturating_add(other.0))
    }
}

impl From<Millis> for Duration {
    fn from(m: Millis) -> Duration {
        Duration::from_millis(m.0)
    }
}

impl fmt::Display for Millis {
    /// Go's `Duration.String` style, shortest exact form: `5s`, `1m30s`, `1.5s`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        if ms < 1000 {
            return write!(f, "{ms}ms");
        }
        let hours = ms / 3_600_000;
        let minutes = (ms / 60_000) % 60;
        let seconds = (ms / 1000) % 60;
        let fraction = ms % 1000;
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if hours > 0 || minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        if fraction == 0 {
            write!(f, "{seconds}s")
        } else {
            let fraction = format!("{fraction:03}");
            write!(f, "{seconds}.{}s", fraction.trim_end_matches('0'))
        }
    }
}

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a duration (expected e.g. `30s`, `1m30s`, `500ms` or a number of seconds)"
)]
pub struct DurationError {
    pub text: String,
}

/// Parses Go's `time.ParseDuration` syntax, or a plain integer number of
/// seconds. Negative durations are refused: none of ours can be negative.
pub fn parse_duration(text: &str) -> Result<Millis, DurationError> {
    let error = || DurationError {
        text: text.to_owned(),
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(error());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().map(Millis::from_secs).map_err(|_| error());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(Millis(0));
    }
    let mut rest = s;
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(error)?;
        let (number, tail) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return Err(error());
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(error()),
        };
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if frac.contains('.') {
            return Err(error());
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| error())?
        };
        total_nanos = total_nanos.saturating_add(whole.saturating_mul(unit_nanos));
        let mut scale = unit_nanos;
        for digit in frac.bytes().take(18) {
            scale /= 10;
            total_nanos = total_nanos.saturating_add(u128::from(digit - b'0') * scale);
        }
        rest = tail;
    }
    let millis = total_nanos.div_ceil(1_000_000);
    Ok(Millis(u64::try_from(millis).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_syntax() {
        assert_eq!(parse_duration("10s"), Ok(Millis(10_000)));
        assert_eq!(parse_duration("1m30s"), Ok(Millis(90_000)));
        assert_eq!(parse_duration("500ms"), Ok(Millis(500)));
        assert_eq!(parse_duration("1h"), Ok(Millis(3_600_000)));
        assert_eq!(parse_duration("1.5s"), Ok(Millis(1_500)));
        assert_eq!(parse_duration(".5m"), Ok(Millis(30_000)));
        assert_eq!(parse_duration("2h45m"), Ok(Millis(9_900_000)));
        assert_eq!(parse_duration("1500us"), Ok(Millis(2)));
        assert_eq!(parse_duration("0"), Ok(Millis(0)));
        assert_eq!(parse_duration("30"), Ok(Millis(30_000)));
    }

    #[test]
    fn malformed() {
        for bad in ["", "s", "10x", "-5s", "1..5s", "ten seconds", "5 s", "."] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_is_shortest_go_form() {
        assert_eq!(Millis(90_000).to_string(), "1m30s");
        assert_eq!(Millis(5_000).to_string(), "5s");
        assert_eq!(Millis(1_500).to_string(), "1.5s");
        assert_eq!(Millis(250).to_string(), "250ms");
        assert_eq!(Millis(3_600_000).to_string(), "1h0m0s");
        assert_eq!(Millis(0).to_string(), "0s");
    }
}
