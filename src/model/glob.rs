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

/// Whether an image reference as written matches a policy glob. A pattern
/// without a tag or digest names the repository, so it also matches any tag
/// or digest of it: `scratch` matches `scratch:latest`, and
/// `gcr.io/distroless/static:nonroot` matches the same tag pinned by digest.
pub fn image_matches(pattern: &str, image: &str) -> bool {
    let image = image.trim();
    let without_digest = image.split_once('@').map_or(image, |(name, _)| name);
    let repository = match without_digest.rsplit_once(':') {
        // A colon before the last `/` is a registry port, not a tag.
        Some((repository, tag)) if !tag.contains('/') => repository,
        _ => without_digest,
    };
    [image, without_digest, repository]
        .iter()
        .any(|candidate| glob_matches(pattern, candidate))
}

/// The first of `patterns` that `image` matches, to name it in a message.
pub fn matching_image_glob<'p>(patterns: &'p [String], image: &str) -> Option<&'p str> {
    patterns
        .iter()
        .map(String::as_str)
        .find(|pattern| image_matches(pattern, image))
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

    #[test]
    fn globs() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*c", "abbbc"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(glob_matches("*a*b*", "xxaxxbxx"));
        assert!(!glob_matches("*a*b", "xxaxxbxxc"));
        assert!(glob_matches("", ""));
        assert!(!glob_matches("", "a"));
        let long = "a".repeat(5_000);
        assert!(!glob_matches("*a*a*a*a*a*b", &long));
    }

    #[test]
    fn image_globs() {
        assert!(image_matches(
            "gcr.io/distroless/*",
            "gcr.io/distroless/static:nonroot"
        ));
        assert!(image_matches(
            "gcr.io/distroless/*",
            "gcr.io/distroless/base-debian12@sha256:abc"
        ));
        assert!(image_matches(
            "cgr.dev/chainguard/static*",
            "cgr.dev/chainguard/static:latest"
        ));
        assert!(image_matches("scratch", "scratch"));
        assert!(image_matches("scratch", "scratch:latest"));
        assert!(!image_matches("scratch", "scratchpad"));
        assert!(!image_matches("gcr.io/distroless/*", "nginx:1.27"));
        assert!(image_matches(
            "gcr.io/distroless/static:nonroot",
            "gcr.io/distroless/static:nonroot@sha256:abc"
        ));
        assert!(image_matches("registry:5000/app", "registry:5000/app:1.0"));
        assert!(!image_matches("registry", "registry:5000/app"));
        let patterns = vec!["scratch".to_owned(), "gcr.io/distroless/*".to_owned()];
        assert_eq!(
            matching_image_glob(&patterns, "gcr.io/distroless/java17"),
            Some("gcr.io/distroless/*")
        );
        assert_eq!(matching_image_glob(&patterns, "alpine"), None);
    }

    #[test]
    fn odd_patterns_never_panic() {
        let odd = crate::model::ODD_TEXTS;
        for &a in odd {
            for &b in odd {
                let _ = glob_matches(a, b);
                let _ = image_matches(a, b);
            }
        }
    }
}
