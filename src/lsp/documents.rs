//! The documents the editor has open: each text as the editor edits it,
//! and its parse, kept until the text changes, so that an edit re-parses
//! only its own file while the objects of the others still count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{TextDocumentContentChangeEvent, TextDocumentItem, Uri};

use super::policies::Group;
use super::position;
use crate::source::{Document, InputError, Loaded, Loader, SourceFile};

/// One open document.
#[derive(Debug)]
pub struct Open {
    pub uri: Uri,
    pub version: i32,
    /// Whether it is linted: YAML or JSON, not a Helm template (whose
    /// `{{ }}` the editor knows to be no YAML yet).
    pub lintable: bool,
    /// The file it is, for finding its policy; `None` for an unsaved buffer.
    pub path: Option<PathBuf>,
    /// The policy file governing it (see [`super::policies`]).
    pub group: Group,
    /// Its text, named by its URI: findings name their file so.
    pub file: Arc<SourceFile>,
    /// Its objects and input errors; `None` until parsed after a change.
    pub parsed: Option<Parsed>,
}

/// What the loader read of one text.
#[derive(Debug)]
pub struct Parsed {
    pub documents: Vec<Document>,
    pub errors: Vec<InputError>,
}

impl Open {
    /// Whether the text is JSON, where no comment can go.
    pub fn is_json(&self) -> bool {
        self.file.text().trim_start().starts_with(['{', '['])
    }

    /// Parses the text, unless it is parsed already.
    pub fn parse(&mut self, loader: &Loader<'_>) -> &Parsed {
        if self.parsed.is_none() {
            let mut loaded = Loaded::default();
            loader.load_text(self.uri.as_str(), self.file.text().to_owned(), &mut loaded);
            // The loader's copy replaces the editor's where they are the
            // same text (no byte order mark): one copy is held, and the
            // findings' file is the one positions are counted in.
            if let Some(read) = loaded.sources.first()
                && read.text() == self.file.text()
            {
                self.file = Arc::clone(read);
            }
            self.parsed = Some(Parsed {
                documents: loaded.documents,
                errors: loaded.errors,
            });
        }
        self.parsed.get_or_insert_with(|| Parsed {
            documents: Vec::new(),
            errors: Vec::new(),
        })
    }
}

/// The open documents, by URI, in URI order (so a run over them, and what
/// the cross-object rules see first, does not depend on a hash).
#[derive(Debug, Default)]
pub struct Documents {
    open: BTreeMap<String, Open>,
}

impl Documents {
    pub fn open(&mut self, item: TextDocumentItem, group: impl FnOnce(Option<&Path>) -> Group) {
        let path = file_path(&item.uri);
        let lintable = is_lintable(&item.language_id, path.as_deref());
        let group = group(path.as_deref());
        let key = item.uri.as_str().to_owned();
        let file = Arc::new(SourceFile::new(key.clone(), item.text));
        self.open.insert(
            key,
            Open {
                uri: item.uri,
                version: item.version,
                lintable,
                path,
                group,
                file,
                parsed: None,
            },
        );
    }

    /// Applies the editor's changes, in order, each to the text the one
    /// before left; `false` when the document is not open.
    pub fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let Some(open) = self.open.get_mut(uri.as_str()) else {
            return false;
        };
        for change in changes {
            let text = match change.range {
                None => change.text,
                Some(range) => {
                    let at = position::byte_range(&open.file, range);
                    let old = open.file.text();
                    let (Some(before), Some(after)) = (old.get(..at.start), old.get(at.end..))
                    else {
                        continue;
                    };
                    let mut text = String::with_capacity(old.len() + change.text.len());
                    text.push_str(before);
                    text.push_str(&change.text);
                    text.push_str(after);
                    text
                }
            };
            open.file = Arc::new(SourceFile::new(uri.as_str(), text));
        }
        open.version = version;
        open.parsed = None;
        true
    }

    pub fn close(&mut self, uri: &Uri) -> Option<Open> {
        self.open.remove(uri.as_str())
    }

    pub fn get(&self, key: &str) -> Option<&Open> {
        self.open.get(key)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Open> {
        self.open.get_mut(key)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Open)> {
        self.open.iter_mut()
    }

    /// The URIs of the linted documents a policy file governs.
    pub fn in_group(&self, group: &Group) -> Vec<String> {
        self.open
            .iter()
            .filter(|(_, open)| open.lintable && open.group == *group)
            .map(|(key, _)| key.clone())
            .collect()
    }
}

/// Languages whose documents are read as manifests; a document of another
/// language (a plain-text buffer) is by its file name, as `lint` walks a
/// folder.
fn is_lintable(language: &str, path: Option<&Path>) -> bool {
    match language {
        "yaml" | "json" | "jsonc" => true,
        // Helm templates are YAML only once rendered.
        "helm" | "gotmpl" => false,
        _ => path
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json")),
    }
}

/// The local path of a `file:` URI (percent-decoded), or `None` for any
/// other scheme (an unsaved buffer is `untitled:`).
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///x` or `file://localhost/x`.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                at += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    let path = String::from_utf8(decoded).ok()?;
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn uri(text: &str) -> Uri {
        Uri::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            file_path(&uri("file:///home/a%20b/d%C3%A9ploy.yaml")),
            Some(PathBuf::from("/home/a b/déploy.yaml"))
        );
        assert_eq!(
            file_path(&uri("file://localhost/x.yaml")),
            Some(PathBuf::from("/x.yaml"))
        );
        assert_eq!(file_path(&uri("untitled:Untitled-1")), None);
    }

    #[test]
    fn incremental_changes_apply_in_order_at_utf16_ranges() {
        let mut documents = Documents::default();
        let name = uri("file:///w/a.yaml");
        documents.open(
            TextDocumentItem {
                uri: name.clone(),
                language_id: "yaml".to_owned(),
                version: 1,
                text: "a: é🚀x\nb: 2\n".to_owned(),
            },
            |_| None,
        );
        let change = |line, from, to, text: &str| TextDocumentContentChangeEvent {
            range: Some(lsp_types::Range::new(
                lsp_types::Position::new(line, from),
                lsp_types::Position::new(line, to),
            )),
            range_length: None,
            text: text.to_owned(),
        };
        // `x` is at UTF-16 column 6 (`🚀` counts two), then `2` is replaced.
        assert!(documents.change(&name, 2, vec![change(0, 6, 7, "y"), change(1, 3, 4, "3")]));
        let open = documents.get(name.as_str());
        assert_eq!(open.map(|o| o.file.text()), Some("a: é🚀y\nb: 3\n"));
        assert_eq!(open.map(|o| o.version), Some(2));
    }
}
