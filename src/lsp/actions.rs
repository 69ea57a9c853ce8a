//! Code actions on a finding: its fix, as the text edits `lint --fix`
//! writes for it, and "ignore this rule here" as an inline suppression
//! comment.

use std::collections::HashMap;
use std::sync::Arc;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, TextEdit, Uri, WorkspaceEdit,
};

use super::{diagnostics, position};
use crate::apply::files::edit_files;
use crate::finding::Finding;
use crate::fix::{self, Fix, FixSafety};
use crate::rules::UNUSED_SUPPRESSION;
use crate::source::SourceFile;
use crate::source::comments::{self, comment_start};

/// The actions for the findings of one file whose range meets `range`.
pub fn for_range(
    uri: &Uri,
    findings: &[Finding],
    range: lsp_types::Range,
    json: bool,
) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    for finding in findings {
        let diagnostic = diagnostics::of_finding(finding, uri);
        if !meets(diagnostic.range, range) {
            continue;
        }
        if let Some(fix) = &finding.fix
            && let Some(edits) = fix_edits(finding, fix)
        {
            let safe = fix.safety == FixSafety::Safe;
            let title = if safe {
                fix.title.clone()
            } else {
                format!("{} (unsafe)", fix.title)
            };
            actions.push(action(title, uri, edits, &diagnostic, safe));
        }
        // JSON has no comments to write one in.
        if !json
            && finding.rule.id != UNUSED_SUPPRESSION.id
            && let Some(edit) = ignore_edit(finding)
        {
            let title = format!("Ignore `{}` here", finding.rule.id);
            actions.push(action(title, uri, vec![edit], &diagnostic, false));
        }
    }
    actions
}

/// Whether two ranges overlap or touch (a cursor at either end of a
/// diagnostic is on it).
fn meets(a: lsp_types::Range, b: lsp_types::Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn action(
    title: String,
    uri: &Uri,
    edits: Vec<TextEdit>,
    diagnostic: &Diagnostic,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..WorkspaceEdit::default()
        }),
        command: None,
        is_preferred: Some(preferred),
        disabled: None,
        data: None,
    })
}

/// The edits of one fix: its patch applied to the document's JSON, and the
/// difference written into the text by the code `lint --fix` writes files
/// with (which re-parses the result and refuses an edit that does not read
/// back as the patched object). `None` when it does not apply.
fn fix_edits(finding: &Finding, fix: &Fix) -> Option<Vec<TextEdit>> {
    let doc = &finding.doc;
    let mut value = (*doc.value).clone();
    fix::apply(&mut value, &fix.patch).ok()?;
    let edited = edit_files(
        std::slice::from_ref(&doc.file),
        std::slice::from_ref(doc),
        &[Arc::new(value)],
    )
    .into_iter()
    .next()?;
    if !edited.failed.is_empty() || !edited.changed() {
        return None;
    }
    Some(text_edits(&doc.file, &edited.text))
}

/// The edits that turn `file`'s text into `new`: one per run of changed
/// lines, trimmed to the characters that differ (`maxSurge: 0` → `1`
/// replaces the `0`), so that the editor moves no cursor it need not.
pub fn text_edits(file: &SourceFile, new: &str) -> Vec<TextEdit> {
    let old = file.text();
    let diff = similar::TextDiff::from_lines(old, new);
    let starts = |lines: &[&str]| {
        let mut at = vec![0];
        for line in lines {
            at.push(at.last().copied().unwrap_or(0) + line.len());
        }
        at
    };
    let (old_at, new_at) = (starts(diff.old_slices()), starts(diff.new_slices()));
    let mut edits = Vec::new();
    for op in diff.ops() {
        if op.tag() == similar::DiffTag::Equal {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        let (Some(&from), Some(&to), Some(&new_from), Some(&new_to)) = (
            old_at.get(o.start),
            old_at.get(o.end),
            new_at.get(n.start),
            new_at.get(n.end),
        ) else {
            continue;
        };
        let (Some(was), Some(now)) = (old.get(from..to), new.get(new_from..new_to)) else {
            continue;
        };
        let prefix = common_prefix(was, now);
        let suffix = common_suffix(&was[prefix..], &now[prefix..]);
        edits.push(TextEdit {
            range: position::range(file, from + prefix..to - suffix),
            new_text: now[prefix..now.len() - suffix].to_owned(),
        });
    }
    edits
}

/// Bytes at the start of both, on a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or_else(|| a.len().min(b.len()), |((at, _), _)| at)
}

/// Bytes at the end of both, on a character boundary.
fn common_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum()
}

/// The comment that silences the finding's rule on its line: an existing
/// `# rollsafe: ignore[…]` on the line or the line above (where a
/// suppression may sit) gets the id added; otherwise a new comment ends
/// the line, or, when the line has a comment of its own, goes on a line
/// above it at its indentation.
fn ignore_edit(finding: &Finding) -> Option<TextEdit> {
    let file = &finding.doc.file;
    let id = finding.rule.id;
    let line = finding.location.line;
    let existing = [line, line.saturating_sub(1)]
        .into_iter()
        .filter_map(|l| comments::suppression_on(file, l))
        .find(|c| c.line == line || c.line + 1 == line);
    if let Some(comment) = existing {
        let text = file.slice(comment.range.clone())?;
        let close = text.find(']')?;
        let at = comment.range.start + close;
        let insert = if comment.rules.is_empty() {
            id.to_owned()
        } else {
            format!(", {id}")
        };
        let place = position::position(file, at);
        return Some(TextEdit {
            range: lsp_types::Range::new(place, place),
            new_text: insert,
        });
    }
    let range = file.line_range(line);
    let text = file.slice(range.clone())?;
    let comment = format!("# rollsafe: ignore[{id}]");
    if comment_start(text).is_none() {
        let place = position::position(file, range.end);
        let gap = if text.ends_with([' ', '\t']) { "" } else { " " };
        return Some(TextEdit {
            range: lsp_types::Range::new(place, place),
            new_text: format!("{gap}{comment}"),
        });
    }
    let indent = &text[..text.len() - text.trim_start().len()];
    let line_break = if file.slice(range.end..range.end + 1) == Some("\r") {
        "\r\n"
    } else {
        "\n"
    };
    let place = position::position(file, range.start);
    Some(TextEdit {
        range: lsp_types::Range::new(place, place),
        new_text: format!("{indent}{comment}{line_break}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_trimmed_to_what_changed() {
        let file = SourceFile::new("x", "a:\n  maxSurge: 0\n  b: 1\n".to_owned());
        let edits = text_edits(&file, "a:\n  maxSurge: 1\n  b: 1\n  c:\n    d: 2\n");
        let shown: Vec<(u32, u32, u32, u32, &str)> = edits
            .iter()
            .map(|e| {
                (
                    e.range.start.line,
                    e.range.start.character,
                    e.range.end.line,
                    e.range.end.character,
                    e.new_text.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [(1, 12, 1, 13, "1"), (3, 0, 3, 0, "  c:\n    d: 2\n")]
        );
    }
}
