//! Globs for image references and object names in policies.

/// Matches `text` against a glob where `*` is any run of characters (`/` and
/// `:` included) and `?` any single one. Compares bytes: image references are
/// ASCII. Linear backtracking on the last `*`, so no input is slow.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&byte) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&want) if want == b'?' || want == byte => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(glob_matches("legacy-*", "legacy-api"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a?c*", "abcdef"));
        assert!(!glob_matches("legacy-*", "api"));
        assert!(glob_matches("*-canary", "web-canary"));
        assert!(glob_matches(
            "gcr.io/distroless/*",
            "gcr.io/distroless/static:nonroot"
        ));
        assert!(!glob_matches("scratch", "scratchy"));
    }
}
