//! The string forms Kubernetes gives some fields, checked as JSON Schema
//! `format`s. `scripts/update-schemas.py` writes these names into the
//! embedded schemas; a schema folder may use them too.

/// Whether a string has a format.
pub type Check = fn(&str) -> bool;

/// Every format rollsafe registers, with its check.
pub const FORMATS: &[(&str, Check)] = &[
    ("quantity", is_quantity),
    ("int-or-percent", is_percent),
    ("int-or-port-name", is_port_name),
    ("int-or-string", |_| true),
];

/// A resource quantity as `resource.ParseQuantity` reads it: a signed decimal
/// number and a suffix, binary (`Ki` … `Ei`), decimal (`n`, `u`, `m`, `k`,
/// `M` … `E`) or an exponent (`e3`, `E-2`).
pub fn is_quantity(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let dots = number.chars().filter(|&c| c == '.').count();
    if digits == 0 || dots > 1 {
        return false;
    }
    match suffix {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        _ => suffix
            .strip_prefix(['e', 'E'])
            .map(|exponent| exponent.strip_prefix(['+', '-']).unwrap_or(exponent))
            .is_some_and(|exponent| {
                !exponent.is_empty() && exponent.chars().all(|c| c.is_ascii_digit())
            }),
    }
}

/// The string form of an IntOrString that takes a percentage
/// (`maxSurge`, `maxUnavailable`, `minAvailable`): digits and `%`.
pub fn is_percent(text: &str) -> bool {
    text.strip_suffix('%')
        .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
}

/// The string form of an IntOrString port: an IANA service name, at most 15
/// lowercase letters, digits and `-`, with a letter, no `-` at either end and
/// no `--`.
pub fn is_port_name(text: &str) -> bool {
    (1..=15).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && text.chars().any(|c| c.is_ascii_lowercase())
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for good in [
            "500Mi", "1Gi", "0.5", "100m", "1", "1.5Gi", "+1k", "-2", "1e3", "1E-2", ".5", "5.",
            "250u", "10n",
        ] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in [
            "500MB", "1gi", "", "Mi", "1.2.3", "1 Gi", "1K", "1e", "abc", "1Gi ", "1ee3",
        ] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn percentages_and_port_names() {
        assert!(is_percent("25%") && is_percent("0%"));
        for bad in ["25", "25 %", "2.5%", "%", "-5%", "%25"] {
            assert!(!is_percent(bad), "{bad}");
        }
        assert!(is_port_name("http") && is_port_name("metrics-2"));
        for bad in [
            "8080",
            "HTTP",
            "-http",
            "http-",
            "a--b",
            "sixteen-letters-",
            "",
        ] {
            assert!(!is_port_name(bad), "{bad}");
        }
    }
}
