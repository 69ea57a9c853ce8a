//! Comments the YAML parser drops but rollsafe reads: inline suppressions
//! (`# rollsafe: ignore[rule-id] reason`) and the `# Source:` lines that
//! `helm template` writes above each document.

use std::ops::Range;

use super::{Document, SourceFile};

/// One `# rollsafe: ignore[rule-a, rule-b] reason` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionComment {
    /// 1-based line the comment is on.
    pub line: usize,
    /// Byte range of the comment, from `#` to the end of the line.
    pub range: Range<usize>,
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

impl SuppressionComment {
    /// Whether the comment silences `rule` for a finding on `line`: the
    /// comment sits on the field's line or on the line above it.
    pub fn covers(&self, rule: &str, line: usize) -> bool {
        (self.line == line || self.line + 1 == line) && self.rules.iter().any(|r| r == rule)
    }
}

const MARKER: &str = "rollsafe:";

/// The suppression comment on one line of text, if it holds one: the
/// comment's byte offset in the line, the rule ids, the reason.
fn parse_line(text: &str) -> Option<(usize, Vec<String>, Option<String>)> {
    // A YAML comment starts a line or follows a blank; `#` inside a plain
    // scalar (`url: a#b`) is not one.
    let hash = text.char_indices().find_map(|(i, c)| {
        let starts_comment = c == '#' && (i == 0 || text[..i].ends_with([' ', '\t']));
        starts_comment
            .then(|| text[i + 1..].trim_start().starts_with(MARKER).then_some(i))
            .flatten()
    })?;
    let rest = text[hash + 1..]
        .trim_start()
        .strip_prefix(MARKER)?
        .trim_start();
    let rest = rest.strip_prefix("ignore[")?;
    let (list, reason) = rest.split_once(']')?;
    let rules: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    let reason = reason.trim();
    Some((hash, rules, (!reason.is_empty()).then(|| reason.to_owned())))
}

/// Byte offset of the comment on one line of YAML, if it has one: a `#` that
/// starts the line or follows a blank, outside a quoted scalar (a quote
/// opens one only where a scalar starts: `name: it's` is plain).
pub fn comment_start(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            // `''` inside single quotes is a quote, not the end.
            None if c == '\'' && previous == '\'' => quote = Some(c),
            None if c == '#' && matches!(previous, ' ' | '\t') => return Some(i),
            None if matches!(c, '"' | '\'')
                && matches!(previous, ' ' | '\t' | '[' | '{' | ',' | ':') =>
            {
                quote = Some(c);
            }
            None => {}
        }
        previous = c;
    }
    None
}

/// The suppression comment on a 1-based line of `file`, if the file holds
/// that line.
pub fn suppression_on(file: &SourceFile, line: usize) -> Option<SuppressionComment> {
    if line == 0 || line > file.line_count() {
        return None;
    }
    let range = file.line_range(line);
    let text = file.slice(range.clone())?;
    let (offset, rules, reason) = parse_line(text)?;
    Some(SuppressionComment {
        line,
        range: range.start + offset..range.end,
        rules,
        reason,
    })
}

/// Every suppression comment on the lines of a document.
pub fn suppressions_in(doc: &Document) -> Vec<SuppressionComment> {
    let file = &doc.file;
    if file.is_empty() {
        return Vec::new();
    }
    let end = doc
        .spans
        .exact("")
        .map_or(doc.start, |span| span.value_range().end);
    let (first, _) = file.line_col(doc.start);
    let (last, _) = file.line_col(end);
    (first..=last)
        .filter_map(|line| suppression_on(file, line))
        .collect()
}

/// Lines above a document searched for helm's `# Source:` comment: enough
/// for a licence header between it and the document.
const MAX_COMMENT_LINES: usize = 40;

/// The template a document was rendered from, as `helm template` names it
/// in the `# Source: chart/templates/web.yaml` comment above the document.
pub fn helm_source(doc: &Document) -> Option<&str> {
    let file = &doc.file;
    if file.is_empty() {
        return None;
    }
    let (mut line, _) = file.line_col(doc.start);
    // A document starts at its `---` marker, above the comments before its
    // first key.
    for _ in 0..MAX_COMMENT_LINES {
        let text = file.slice(file.line_range(line)).unwrap_or_default().trim();
        let skipped = text.is_empty() || text.starts_with('#') || text == "---";
        if !skipped || line >= file.line_count() {
            break;
        }
        line += 1;
    }
    for above in (1..line).rev().take(MAX_COMMENT_LINES) {
        let text = file.slice(file.line_range(above))?.trim();
        if let Some(source) = text.strip_prefix("# Source:") {
            let source = source.trim();
            return (!source.is_empty()).then_some(source);
        }
        // Only comments and blank lines lie between the two; a `---` or
        // any content belongs to the document before.
        if !(text.is_empty() || text.starts_with('#')) {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_comments_are_parsed() {
        assert_eq!(
            parse_line("  - name: app # rollsafe: ignore[readiness-probe-missing] batch worker"),
            Some((
                14,
                vec!["readiness-probe-missing".to_owned()],
                Some("batch worker".to_owned())
            ))
        );
        assert_eq!(
            parse_line("#rollsafe: ignore[a, b]"),
            Some((0, vec!["a".to_owned(), "b".to_owned()], None))
        );
        assert_eq!(parse_line("url: http://x#rollsafe: ignore[a]"), None);
        assert_eq!(parse_line("# rollsafe: ignore a"), None);
        assert_eq!(parse_line("# just a comment"), None);
    }

    #[test]
    fn comments_start_outside_quotes() {
        assert_eq!(comment_start("# whole line"), Some(0));
        assert_eq!(comment_start("  - name: app # note"), Some(14));
        assert_eq!(comment_start("url: http://x#y"), None);
        assert_eq!(comment_start("a: \"x # y\" # z"), Some(11));
        assert_eq!(comment_start("a: 'it''s # y'"), None);
        assert_eq!(comment_start("name: it's # y"), Some(11));
        assert_eq!(comment_start("a: \"q\\\" # y\""), None);
    }

    #[test]
    fn helm_sources_name_the_template() {
        let text = "---\n# Source: web/templates/deploy.yaml\napiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n";
        let file = std::sync::Arc::new(SourceFile::new("<stdin>", text.to_owned()));
        let doc = |start: usize| Document {
            file: std::sync::Arc::clone(&file),
            value: std::sync::Arc::new(serde_json::Value::Null),
            spans: Default::default(),
            start,
        };
        let first = text.find("apiVersion").unwrap_or_default();
        let second = text.rfind("apiVersion").unwrap_or_default();
        assert_eq!(helm_source(&doc(first)), Some("web/templates/deploy.yaml"));
        assert_eq!(helm_source(&doc(second)), None);
    }
}
