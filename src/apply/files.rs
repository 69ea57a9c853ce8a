//! The fixed documents written back into their files' text (`lint --fix`,
//! `lint --diff`): for each document the fixes changed, the JSON Patch from
//! what it was to what it became ([`crate::fix::diff`], the operations the
//! webhook would send), each operation turned into a text edit by
//! [`super::text`].
//!
//! The operations of that difference never build on each other, so every
//! edit of a file is computed against the text as read and all are spliced
//! in one pass; the file is then parsed once, and every document must read
//! back as the JSON it should now be. The cost is a parse of the file before
//! and after, whatever the number of documents fixed.
//!
//! A document whose edits do not read back so (two members added to an empty
//! flow mapping `{}` each want to be the first) is edited again on its own,
//! one operation at a time with a parse after each, and left as it was when
//! that does not agree either: a file is never written half-edited.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::text::{self, Edit, Target};
use crate::fix::{self, PatchOp};
use crate::source::{Document, ParsedDocument, SourceFile, is_list, parse_documents};

/// What fixing did to one file's text.
#[derive(Debug)]
pub struct FileText {
    pub source: Arc<SourceFile>,
    /// The text with every edit that read back as it should.
    pub text: String,
    /// Documents (by index in the run) whose edits were left out, with why.
    pub failed: Vec<(usize, String)>,
}

impl FileText {
    pub fn changed(&self) -> bool {
        self.text != self.source.text()
    }
}

/// The text of every source with its documents as `values` say.
/// `documents[i]` is the document as read, `values[i]` what it became.
pub fn edit_files(
    sources: &[Arc<SourceFile>],
    documents: &[Document],
    values: &[Arc<Value>],
) -> Vec<FileText> {
    let mut by_file: HashMap<*const SourceFile, Vec<usize>> = HashMap::new();
    for (index, (doc, value)) in documents.iter().zip(values).enumerate() {
        if !Arc::ptr_eq(&doc.value, value) && *doc.value != **value {
            by_file
                .entry(Arc::as_ptr(&doc.file))
                .or_default()
                .push(index);
        }
    }
    sources
        .iter()
        .map(|source| match by_file.get(&Arc::as_ptr(source)) {
            Some(changed) => edit_file(source, documents, values, changed),
            None => FileText {
                source: Arc::clone(source),
                text: source.text().to_owned(),
                failed: Vec::new(),
            },
        })
        .collect()
}

/// One fixed document: where it sits in the file's parse, and its edits.
struct Change {
    /// Index in the run's documents.
    document: usize,
    /// Index among the file's parsed documents.
    parsed: usize,
    /// Pointer of the object in its parsed document (`/items/3` in a List).
    prefix: String,
    ops: Vec<PatchOp>,
}

fn edit_file(
    source: &Arc<SourceFile>,
    documents: &[Document],
    values: &[Arc<Value>],
    changed: &[usize],
) -> FileText {
    let kinds = Kinds::of(changed.iter().map(|&i| &*documents[i].value));
    let name = source.name();
    let original = source.text();
    let json = original.trim_start().starts_with(['{', '[']);
    let (parsed, error_count) = kinds.parse(name, original);
    let mut failed = Vec::new();
    let mut changes = Vec::new();
    for &document in changed {
        let doc = &documents[document];
        let Some((index, prefix)) = locate(&parsed, doc) else {
            failed.push((
                document,
                "the object was not found again in its file".to_owned(),
            ));
            continue;
        };
        let ops = fix::diff(&doc.value, &values[document]);
        changes.push(Change {
            document,
            parsed: index,
            prefix,
            ops,
        });
    }
    // The parsed documents of `text` that are not what the file's parse
    // with the `accepted` changes should be.
    let check = |text: &str, accepted: &[&Change]| -> Vec<usize> {
        let (reread, errors) = kinds.parse(name, text);
        if errors != error_count || reread.len() != parsed.len() {
            return accepted.iter().map(|c| c.parsed).collect();
        }
        let mut expected: Vec<Option<Value>> = vec![None; parsed.len()];
        for change in accepted {
            let value =
                expected[change.parsed].get_or_insert_with(|| parsed[change.parsed].value.clone());
            let slot = if change.prefix.is_empty() {
                Some(value)
            } else {
                value.pointer_mut(&change.prefix)
            };
            if let Some(slot) = slot {
                *slot = (*values[change.document]).clone();
            }
        }
        reread
            .iter()
            .enumerate()
            .filter(|(index, doc)| {
                doc.value != *expected[*index].as_ref().unwrap_or(&parsed[*index].value)
            })
            .map(|(index, _)| index)
            .collect()
    };

    // All edits at once, against the text as read.
    let mut batch: Vec<&Change> = Vec::new();
    let mut alone: Vec<&Change> = Vec::new();
    for change in &changes {
        let target = Target {
            text: original,
            value: &documents[change.document].value,
            spans: &documents[change.document].spans,
            json,
        };
        if change.ops.iter().all(|op| text::edit(&target, op).is_ok()) {
            batch.push(change);
        } else {
            alone.push(change);
        }
    }
    let mut text = original.to_owned();
    while !batch.is_empty() {
        let Some(candidate) = splice(original, json, documents, &batch) else {
            alone.append(&mut batch);
            break;
        };
        let wrong = check(&candidate, &batch);
        if wrong.is_empty() {
            text = candidate;
            break;
        }
        // Those documents are edited on their own below; the rest again.
        let (bad, good): (Vec<&Change>, Vec<&Change>) =
            batch.into_iter().partition(|c| wrong.contains(&c.parsed));
        if bad.is_empty() {
            alone.extend(good);
            break;
        }
        alone.extend(bad);
        batch = good;
    }
    let mut accepted: Vec<&Change> = changes
        .iter()
        .filter(|c| !alone.iter().any(|a| a.document == c.document))
        .collect();

    // The rest one operation at a time, each against the text the previous
    // one left.
    for change in alone {
        let mut with = accepted.clone();
        with.push(change);
        match edit_one_by_one(&kinds, name, &text, change, json) {
            Ok(candidate) if check(&candidate, &with).is_empty() => {
                text = candidate;
                accepted = with;
            }
            Ok(_) => failed.push((
                change.document,
                "the edited text does not read back as the patched object".to_owned(),
            )),
            Err(reason) => failed.push((change.document, reason)),
        }
    }
    FileText {
        source: Arc::clone(source),
        text,
        failed,
    }
}

/// Every edit of `changes` spliced into `original` in one pass, or `None`
/// when two edits overlap. Insertions at the same place go in order.
fn splice(
    original: &str,
    json: bool,
    documents: &[Document],
    changes: &[&Change],
) -> Option<String> {
    let mut edits: Vec<Edit> = Vec::new();
    for change in changes {
        let target = Target {
            text: original,
            value: &documents[change.document].value,
            spans: &documents[change.document].spans,
            json,
        };
        for op in &change.ops {
            edits.push(text::edit(&target, op).ok()?);
        }
    }
    edits.sort_by_key(|e| e.range.start);
    let mut out =
        String::with_capacity(original.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut at = 0;
    for edit in &edits {
        if edit.range.start < at {
            return None;
        }
        out.push_str(&original[at..edit.range.start]);
        out.push_str(&edit.text);
        at = edit.range.end;
    }
    out.push_str(&original[at..]);
    Some(out)
}

/// The change's operations applied one at a time to `text`, parsing again
/// after each (an operation may build on the one before).
fn edit_one_by_one(
    kinds: &Kinds,
    name: &str,
    text: &str,
    change: &Change,
    json: bool,
) -> Result<String, String> {
    let mut text = text.to_owned();
    for op in &change.ops {
        let (parsed, _) = kinds.parse(name, &text);
        let doc = parsed
            .get(change.parsed)
            .ok_or_else(|| "the document was lost while editing".to_owned())?;
        let value = if change.prefix.is_empty() {
            Some(&doc.value)
        } else {
            doc.value.pointer(&change.prefix)
        };
        let value = value.ok_or_else(|| "the object was lost while editing".to_owned())?;
        let spans = doc.spans.scoped(&change.prefix);
        let target = Target {
            text: &text,
            value,
            spans: &spans,
            json,
        };
        let edit = text::edit(&target, op).map_err(|e| e.to_string())?;
        text = edit.apply(&text);
    }
    Ok(text)
}

/// The parsed document holding `doc`, and the pointer prefix of the object
/// in it (`/items/3` for an item of a `List`).
fn locate(parsed: &[ParsedDocument], doc: &Document) -> Option<(usize, String)> {
    let prefix = doc.spans.prefix();
    parsed
        .iter()
        .position(|candidate| {
            if prefix.is_empty() {
                candidate.start == doc.start
                    && !candidate
                        .value
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(is_list)
            } else {
                candidate
                    .spans
                    .exact(prefix)
                    .is_some_and(|span| span.value.0 as usize == doc.start)
            }
        })
        .map(|index| (index, prefix.to_owned()))
}

/// The kinds of document a file's fixes edit: only those are built when the
/// file is parsed (a 1 MB file of CustomResourceDefinitions is scanned, not
/// turned into JSON). Lists always are.
struct Kinds(Vec<(String, String)>);

impl Kinds {
    fn of<'a>(values: impl Iterator<Item = &'a Value>) -> Self {
        let mut kinds = Vec::new();
        for value in values {
            let text = |field: &str| {
                value
                    .get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let kind = (text("apiVersion"), text("kind"));
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Kinds(kinds)
    }

    /// The documents of interest in `text`, and how many parse errors it has.
    fn parse(&self, name: &str, text: &str) -> (Vec<ParsedDocument>, usize) {
        let file = SourceFile::new(name, text.to_owned());
        let wants = |api_version: &str, kind: &str| {
            is_list(kind) || self.0.iter().any(|(a, k)| a == api_version && k == kind)
        };
        let (documents, errors) = parse_documents(&file, &wants);
        (documents, errors.len())
    }
}
