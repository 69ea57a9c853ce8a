//! The fixes of a run's findings, applied to their files' text (`lint --fix`,
//! `lint --diff`): the same JSON Patch operations the mutating webhook sends,
//! turned into text edits by [`super::text`].
//!
//! Fixes are applied one at a time, in report order (file, line, column,
//! rule), each against the text the previous ones left. Several fixes may
//! set the same field, computed against the same original: two raises of
//! `terminationGracePeriodSeconds`, two fixes that both create
//! `strategy.rollingUpdate`. A later fix's operation on a field an earlier
//! fix changed is merged with what is there: objects member by member,
//! numbers by the maximum, anything else by the value that sorts last. The
//! merge is what the webhook's patch would come to if the fixes had been
//! computed one after another, and it never lowers what an earlier fix
//! raised.
//!
//! After each fix the text is parsed again and every document of the file
//! (of the kinds the fixes edit; the others are only scanned) must equal
//! the JSON the operations produce (`fix::apply`); a fix whose
//! edit does not read back so is left out, with the reason, and the text is
//! kept as it was before it. A file is never written half-edited.

use std::sync::Arc;

use serde_json::Value;

use super::text::{self, Target};
use super::{FixSafety, PatchOp, apply};
use crate::finding::Finding;
use crate::source::{ParsedDocument, SourceFile, is_list, parse_documents};

/// What fixing did to one file.
#[derive(Debug)]
pub struct FileFixes<'a> {
    pub file: Arc<SourceFile>,
    /// The text after the fixes that applied.
    pub fixed: String,
    /// Findings whose fix is in `fixed`.
    pub applied: Vec<&'a Finding>,
    /// Findings whose fix could not be applied, with why.
    pub failed: Vec<(&'a Finding, String)>,
}

impl FileFixes<'_> {
    pub fn changed(&self) -> bool {
        self.fixed != self.file.text()
    }

    /// Standard input has no file to write back to.
    pub fn is_stdin(&self) -> bool {
        self.file.name() == "<stdin>"
    }
}

/// Fixes for a whole run.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub files: Vec<FileFixes<'a>>,
    /// Findings with an unsafe fix, left alone without `--unsafe-fixes`.
    pub unsafe_skipped: Vec<&'a Finding>,
}

impl Plan<'_> {
    pub fn applied(&self) -> usize {
        self.files.iter().map(|f| f.applied.len()).sum()
    }
}

/// Applies the fixes of `findings` (suppressed ones never) to their files'
/// text, in memory. Unsafe fixes only with `unsafe_fixes`.
pub fn plan(findings: &[Finding], unsafe_fixes: bool) -> Plan<'_> {
    let mut plan = Plan::default();
    let mut by_file: Vec<(Arc<SourceFile>, Vec<&Finding>)> = Vec::new();
    for finding in findings {
        let Some(fix) = &finding.fix else {
            continue;
        };
        if finding.suppression.is_some() || finding.doc.file.text().is_empty() {
            continue;
        }
        if fix.safety == FixSafety::Unsafe && !unsafe_fixes {
            plan.unsafe_skipped.push(finding);
            continue;
        }
        match by_file
            .iter_mut()
            .find(|(file, _)| Arc::ptr_eq(file, &finding.doc.file))
        {
            Some((_, list)) => list.push(finding),
            None => by_file.push((Arc::clone(&finding.doc.file), vec![finding])),
        }
    }
    for (file, findings) in by_file {
        plan.files.push(fix_file(file, findings));
    }
    plan
}

/// The kinds of document a file's fixes edit: only those are built when the
/// file is parsed again (a 1 MB file of CustomResourceDefinitions is then
/// scanned, not turned into JSON, after each edit). Lists always are.
struct Kinds(Vec<(String, String)>);

impl Kinds {
    fn of(findings: &[&Finding]) -> Self {
        let mut kinds = Vec::new();
        for finding in findings {
            let kind = (
                finding.object.api_version.clone(),
                finding.object.kind.clone(),
            );
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Kinds(kinds)
    }

    fn parse(&self, name: &str, text: &str) -> (Vec<ParsedDocument>, usize) {
        let file = SourceFile::new(name, text.to_owned());
        let wants = |api_version: &str, kind: &str| {
            is_list(kind) || self.0.iter().any(|(a, k)| a == api_version && k == kind)
        };
        let (documents, errors) = parse_documents(&file, &wants);
        (documents, errors.len())
    }
}

fn fix_file<'a>(file: Arc<SourceFile>, findings: Vec<&'a Finding>) -> FileFixes<'a> {
    let json = file.text().trim_start().starts_with(['{', '[']);
    let kinds = Kinds::of(&findings);
    let (original, error_count) = kinds.parse(file.name(), file.text());
    let originals: Vec<Value> = original.iter().map(|d| d.value.clone()).collect();
    let mut expected = originals.clone();
    let mut text = file.text().to_owned();
    // The parse of `text`, kept for the next fix's first edit.
    let mut parsed: Option<Vec<ParsedDocument>> = None;
    let mut applied = Vec::new();
    let mut failed = Vec::new();
    for finding in findings {
        let Some(fix) = &finding.fix else {
            continue;
        };
        let result = locate(&original, finding).and_then(|(index, prefix)| {
            let ops = adjust(prefix, &fix.patch, &expected[index], &originals[index]);
            let mut patched = expected[index].clone();
            apply(&mut patched, &ops).map_err(|e| e.to_string())?;
            if ops.is_empty() {
                return Ok(None);
            }
            let current = match parsed.take() {
                Some(current) => current,
                None => kinds.parse(file.name(), &text).0,
            };
            let (candidate, reread, errors) =
                edit_text(&kinds, file.name(), &text, current, index, &ops, json)?;
            let agrees = errors == error_count
                && reread.len() == expected.len()
                && reread
                    .iter()
                    .enumerate()
                    .all(|(i, doc)| &doc.value == if i == index { &patched } else { &expected[i] });
            if !agrees {
                return Err("the edited text does not read back as the patched object".to_owned());
            }
            Ok(Some((index, patched, candidate, reread)))
        });
        match result {
            Ok(Some((index, patched, candidate, reread))) => {
                expected[index] = patched;
                text = candidate;
                parsed = Some(reread);
                applied.push(finding);
            }
            Ok(None) => applied.push(finding),
            Err(reason) => failed.push((finding, reason)),
        }
    }
    FileFixes {
        file,
        fixed: text,
        applied,
        failed,
    }
}

/// The parsed document holding the finding's object, and the pointer prefix
/// of the object in it (`/items/3` for an item of a `List`).
fn locate<'d>(
    documents: &[ParsedDocument],
    finding: &'d Finding,
) -> Result<(usize, &'d str), String> {
    let doc = &finding.doc;
    let prefix = doc.spans.prefix();
    documents
        .iter()
        .position(|parsed| {
            if prefix.is_empty() {
                parsed.start == doc.start
                    && !parsed
                        .value
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(is_list)
            } else {
                parsed
                    .spans
                    .exact(prefix)
                    .is_some_and(|span| span.value.0 as usize == doc.start)
            }
        })
        .map(|index| (index, prefix))
        .ok_or_else(|| "the object was not found again in its file".to_owned())
}

/// The fix's operations at full pointers, merged with what earlier fixes
/// changed (see the module docs).
fn adjust(prefix: &str, patch: &[PatchOp], current: &Value, original: &Value) -> Vec<PatchOp> {
    let mut out = Vec::new();
    for op in patch {
        let path = format!("{prefix}{}", op.path());
        let now = current.pointer(&path);
        match now {
            Some(now) if Some(now) != original.pointer(&path) => {
                merge(&path, now, op.value(), &mut out)
            }
            _ => out.push(match op {
                PatchOp::Add { value, .. } => PatchOp::Add {
                    path,
                    value: value.clone(),
                },
                PatchOp::Replace { value, .. } => PatchOp::Replace {
                    path,
                    value: value.clone(),
                },
            }),
        }
    }
    out
}

/// Operations that bring `now` (what an earlier fix left at `path`) together
/// with `new` (what this fix wants there).
fn merge(path: &str, now: &Value, new: &Value, out: &mut Vec<PatchOp>) {
    match (now, new) {
        (Value::Object(now), Value::Object(new)) => {
            for (key, value) in new {
                let mut child = path.to_owned();
                crate::source::push_token(&mut child, key);
                match now.get(key) {
                    Some(existing) => merge(&child, existing, value, out),
                    None => out.push(PatchOp::Add {
                        path: child,
                        value: value.clone(),
                    }),
                }
            }
        }
        _ if now == new => {}
        (Value::Number(a), Value::Number(b)) => {
            if b.as_f64() > a.as_f64() {
                out.push(PatchOp::Replace {
                    path: path.to_owned(),
                    value: new.clone(),
                });
            }
        }
        _ => {
            let (new_text, now_text) = (new.to_string(), now.to_string());
            if new_text > now_text {
                out.push(PatchOp::Replace {
                    path: path.to_owned(),
                    value: new.clone(),
                });
            }
        }
    }
}

/// Performs `ops` on document `index` of `text` (parsed as `current`), one
/// edit at a time, parsing again after each (an operation may build on the
/// one before). Returns the new text, its parse and its error count.
fn edit_text(
    kinds: &Kinds,
    name: &str,
    text: &str,
    current: Vec<ParsedDocument>,
    index: usize,
    ops: &[PatchOp],
    json: bool,
) -> Result<(String, Vec<ParsedDocument>, usize), String> {
    let mut text = text.to_owned();
    let mut documents = current;
    let mut errors = 0;
    for op in ops {
        let doc = documents
            .get(index)
            .ok_or_else(|| "the document was lost while editing".to_owned())?;
        let target = Target {
            text: &text,
            value: &doc.value,
            spans: &doc.spans,
            json,
        };
        let edit = text::edit(&target, op).map_err(|e| e.to_string())?;
        text = edit.apply(&text);
        (documents, errors) = kinds.parse(name, &text);
    }
    Ok((text, documents, errors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_take_the_maximum_and_join_objects() {
        let mut ops = Vec::new();
        merge("/g", &json!(40), &json!(35), &mut ops);
        assert!(ops.is_empty());
        merge("/g", &json!(40), &json!(45), &mut ops);
        assert_eq!(
            ops,
            vec![PatchOp::Replace {
                path: "/g".into(),
                value: json!(45)
            }]
        );
        let mut ops = Vec::new();
        merge(
            "/s",
            &json!({"rollingUpdate": {"maxUnavailable": 0}}),
            &json!({"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}),
            &mut ops,
        );
        assert_eq!(
            ops,
            vec![PatchOp::Add {
                path: "/s/rollingUpdate/maxSurge".into(),
                value: json!(1)
            }]
        );
        let mut ops = Vec::new();
        merge("/c", &json!("b"), &json!("a"), &mut ops);
        assert!(ops.is_empty());
        merge("/c", &json!("a"), &json!("b"), &mut ops);
        assert_eq!(ops.len(), 1);
    }
}
