//! Input → documents: files, folders and stdin; YAML streams, JSON, Lists.

pub mod comments;
mod file;
pub mod scalar;
pub mod spans;
mod yaml;

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::parallel::Grain;

pub use file::{CONTEXT_LINES, SourceFile};
pub use spans::{NodeSpan, SpanIndex, field_path, pointer, push_token};
pub use yaml::{
    Interest, MAX_DEPTH, PART_BYTES, ParseError, ParsedDocument, parse_documents,
    parse_documents_staged,
};

/// One Kubernetes object read from a source, with the spans of its nodes.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: Arc<SourceFile>,
    pub value: Arc<Value>,
    pub spans: SpanIndex,
    /// Where the object starts in its file; a finding with no better place
    /// points here.
    pub start: usize,
}

impl Document {
    /// A document built in memory (an admission request), with no source text.
    /// A document of no file holding nothing, shared: what objects that are
    /// consulted but never reported on point at.
    pub fn nowhere() -> Self {
        static NOWHERE: std::sync::OnceLock<Document> = std::sync::OnceLock::new();
        NOWHERE
            .get_or_init(|| Document::detached("", Value::Null))
            .clone()
    }

    pub fn detached(name: &str, value: impl Into<Arc<Value>>) -> Self {
        Document {
            file: Arc::new(SourceFile::new(name, String::new())),
            value: value.into(),
            spans: SpanIndex::default(),
            start: 0,
        }
    }

    /// Byte range and 1-based line/column a pointer resolves to.
    /// A multi-line node (a container missing a field, say) is underlined on
    /// its first line only: that is where a reader looks.
    pub fn locate(&self, pointer: &str) -> Location {
        let mut range = self
            .spans
            .nearest(pointer)
            .map_or(self.start..self.start, |span| span.label());
        if let Some(text) = self.file.slice(range.clone()) {
            let first_line = text.split('\n').next().unwrap_or_default();
            let content = match first_line.find(" #") {
                Some(comment) if first_line.len() < text.len() => &first_line[..comment],
                _ => first_line,
            };
            range.end = range.start + content.trim_end().len();
        }
        let (line, column) = self.file.line_col(range.start);
        Location {
            range,
            line,
            column,
        }
    }
}

/// A resolved position in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub range: Range<usize>,
    pub line: usize,
    pub column: usize,
}

/// Input that could not be read or parsed. The run goes on without it.
#[derive(Debug, Clone)]
pub struct InputError {
    pub file: Option<Arc<SourceFile>>,
    /// The path as given when the file could not even be read.
    pub path: String,
    pub range: Option<Range<usize>>,
    pub message: String,
    pub help: Option<String>,
}

impl InputError {
    /// An error about a file as a whole (it cannot be read or written, it
    /// is not a schema), named as given.
    pub fn about(path: &str, message: String, help: Option<String>) -> Self {
        InputError {
            file: None,
            path: path.to_owned(),
            range: None,
            message,
            help,
        }
    }

    /// An error at `range` of `file` (a syntax error, a document that does
    /// not decode, a policy value).
    pub fn at(
        file: &Arc<SourceFile>,
        range: Range<usize>,
        message: String,
        help: Option<String>,
    ) -> Self {
        InputError {
            file: Some(Arc::clone(file)),
            path: file.name().to_owned(),
            range: Some(range),
            message,
            help,
        }
    }

    fn io(path: &Path, error: &std::io::Error) -> Self {
        InputError::about(
            &path.display().to_string(),
            format!("cannot read: {error}"),
            None,
        )
    }

    /// 1-based line and column, when the error has a place in a file.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let file = self.file.as_ref()?;
        let range = self.range.as_ref()?;
        Some(file.line_col(range.start))
    }
}

/// Everything read from the inputs of one run.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    pub errors: Vec<InputError>,
    pub files: usize,
    /// Every text read, in order (files with no document of interest too),
    /// when the loader keeps them ([`Loader::keeping_sources`]): `--fix` and
    /// `--diff` rewrite texts, a plain lint lets go of a text nobody cites.
    pub sources: Vec<Arc<SourceFile>>,
}

/// Largest input read by default: far above any manifest set, far below
/// what would exhaust memory (`/dev/zero` behind a symlink, a runaway
/// generator piped in).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// What the caller wants from the inputs: kinds it reads, decided on
/// `apiVersion` and `kind`. Lists are always read for their items.
pub struct Loader<'a> {
    interest: Interest<'a>,
    keep_sources: bool,
    max_file_size: u64,
    stdin_name: String,
}

impl<'a> Loader<'a> {
    pub fn new(interest: Interest<'a>) -> Self {
        Loader {
            interest,
            keep_sources: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            stdin_name: STDIN.to_owned(),
        }
    }

    /// Standard input goes by `name` (`--stdin-filename`) instead of
    /// [`STDIN`].
    pub fn with_stdin_name(mut self, name: Option<&str>) -> Self {
        if let Some(name) = name {
            self.stdin_name = name.to_owned();
        }
        self
    }

    /// A loader that keeps every text it reads in [`Loaded::sources`].
    pub fn keeping_sources(mut self) -> Self {
        self.keep_sources = true;
        self
    }

    /// Inputs larger than `bytes` are refused with an error.
    pub fn with_max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Reads files, folders and `-` (stdin), in the order given; a folder's
    /// files in name order.
    ///
    /// A folder is walked as ripgrep walks it: `*.yaml`, `*.yml` and `*.json`
    /// regular files, recursively, skipping hidden folders, never following
    /// a symbolic link (a committed link to `/proc/self/environ` or
    /// `/dev/zero` must not be read), and going on past a subfolder it cannot
    /// read. A path named on the command line is read whatever it is (a
    /// symbolic link, a pipe from `<(helm template …)`).
    pub fn load_paths(&self, paths: &[PathBuf]) -> Loaded {
        let (mut loaded, documents) = self.load_paths_with(paths, |documents| documents);
        loaded.documents = documents;
        loaded
    }

    /// [`Loader::load_paths`], handing the documents to `stage` on the
    /// thread that parsed them (a file's, or a part's of a long stream), in
    /// place of keeping them: what `stage` returns is kept, in input order,
    /// and the rest of each document's tree is dropped as soon as the stage
    /// is done with it.
    pub fn load_paths_with<T: Send>(
        &self,
        paths: &[PathBuf],
        stage: impl Fn(Vec<Document>) -> Vec<T> + Sync,
    ) -> (Loaded, Vec<T>) {
        let mut loaded = Loaded::default();
        let mut inputs = Vec::new();
        for path in paths {
            if path.as_os_str() == "-" {
                let read = read_text(std::io::stdin().lock(), None, self.max_file_size);
                inputs.push(Input::Stdin(std::sync::Mutex::new(Some(read))));
            } else if path.is_dir() {
                let mut files = Vec::new();
                collect_manifests(path, &mut files, &mut loaded.errors);
                files.sort();
                inputs.extend(files.into_iter().map(Input::File));
            } else {
                inputs.push(Input::File(path.clone()));
            }
        }
        let parsed = crate::parallel::map_in_order(&inputs, Grain::Coarse, |input| {
            let (name, read) = match input {
                Input::Stdin(read) => {
                    // Each input is parsed once: the text moves out.
                    let read = read.lock().ok().and_then(|mut read| read.take());
                    (
                        self.stdin_name.clone(),
                        read.unwrap_or_else(|| Ok(String::new())),
                    )
                }
                Input::File(path) => (
                    path.display().to_string(),
                    read_text_file(path, self.max_file_size),
                ),
            };
            match read {
                Ok(text) => self.parse_text(&name, text, &stage),
                Err(unreadable) => Parsed::Unreadable(InputError::about(
                    &name,
                    unreadable.message,
                    unreadable.help,
                )),
            }
        });
        let mut staged = Vec::new();
        for parsed in parsed {
            if let Some(documents) = self.absorb(parsed, &mut loaded) {
                staged.extend(documents);
            }
        }
        (loaded, staged)
    }

    /// Parses one text; its documents and errors are appended to `loaded`.
    pub fn load_text(&self, name: &str, text: String, loaded: &mut Loaded) {
        let parsed = self.parse_text(name, text, &|documents| documents);
        if let Some(documents) = self.absorb(parsed, loaded) {
            loaded.documents.extend(documents);
        }
    }

    /// Parses one text on its own, handing its documents to `stage`: what
    /// any thread can do before the results are put in order.
    fn parse_text<T: Send>(
        &self,
        name: &str,
        text: String,
        stage: &(impl Fn(Vec<Document>) -> Vec<T> + Sync),
    ) -> Parsed<Vec<T>> {
        // A UTF-8 byte order mark is legal YAML but would shift every offset.
        let mut text = text;
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let wants =
            |api_version: &str, kind: &str| is_list(kind) || (self.interest)(api_version, kind);
        if text.len() > PART_BYTES {
            // A long stream is staged part by part as it is parsed; its text
            // is kept whole (most of such a stream is objects read anyway).
            let file = Arc::new(SourceFile::new(name, text));
            let (staged, errors) = parse_documents_staged(&file, &wants, |parsed| {
                stage(self.documents_of(&file, parsed))
            });
            return Parsed::Text {
                documents: staged,
                file,
                errors,
            };
        }
        let mut file = SourceFile::new(name, text);
        let (parsed, errors) = parse_documents(&file, &wants);
        if !self.keep_sources {
            // What a report may quote: the documents read, and the errors.
            let quoted = parsed
                .iter()
                .map(|d| {
                    d.spans
                        .exact("")
                        .map_or(d.start..d.start, |s| s.value_range())
                })
                .chain(errors.iter().map(|e| e.byte..e.byte));
            file.keep_only(quoted);
        }
        let file = Arc::new(file);
        let documents = stage(self.documents_of(&file, parsed));
        Parsed::Text {
            file,
            documents,
            errors,
        }
    }

    /// The documents of a file's parse: Lists give their items.
    fn documents_of(&self, file: &Arc<SourceFile>, parsed: Vec<ParsedDocument>) -> Vec<Document> {
        let mut documents = Vec::with_capacity(parsed.len());
        for doc in parsed {
            self.push_document(file, doc, &mut documents);
        }
        documents
    }

    /// Counts a parsed input into `loaded` and returns its documents (or
    /// what a stage made of them).
    fn absorb<R>(&self, parsed: Parsed<R>, loaded: &mut Loaded) -> Option<R> {
        let (file, documents, errors) = match parsed {
            Parsed::Unreadable(error) => {
                loaded.errors.push(error);
                return None;
            }
            Parsed::Text {
                file,
                documents,
                errors,
            } => (file, documents, errors),
        };
        loaded.files += 1;
        if self.keep_sources {
            loaded.sources.push(Arc::clone(&file));
        }
        loaded.errors.extend(
            errors
                .into_iter()
                .map(|e| InputError::at(&file, e.byte..e.byte, e.message, e.help)),
        );
        Some(documents)
    }

    fn push_document(&self, file: &Arc<SourceFile>, doc: ParsedDocument, out: &mut Vec<Document>) {
        let kind = doc
            .value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !is_list(kind) {
            out.push(Document {
                file: Arc::clone(file),
                value: Arc::new(doc.value),
                spans: doc.spans,
                start: doc.start,
            });
            return;
        }
        let Value::Object(mut list) = doc.value else {
            return;
        };
        let Some(Value::Array(items)) = list.remove("items") else {
            return;
        };
        for (index, item) in items.into_iter().enumerate() {
            let item_kind = (
                item.get("apiVersion").and_then(Value::as_str),
                item.get("kind").and_then(Value::as_str),
            );
            let (Some(api_version), Some(kind)) = item_kind else {
                continue;
            };
            if !(self.interest)(api_version, kind) {
                continue;
            }
            let spans = doc.spans.scoped(&format!("/items/{index}"));
            let start = spans.exact("").map_or(doc.start, |s| s.value.0 as usize);
            out.push(Document {
                file: Arc::clone(file),
                value: Arc::new(item),
                spans,
                start,
            });
        }
    }
}

/// The name standard input goes by in diagnostics; it has no file to write
/// fixes back to.
pub const STDIN: &str = "<stdin>";

/// One input of a run, in the order given. Standard input is read as the
/// paths are listed, so that it is read once.
enum Input {
    Stdin(std::sync::Mutex<Option<Result<String, Unreadable>>>),
    File(PathBuf),
}

/// One input, read and parsed: its documents, or what a stage made of them.
enum Parsed<D> {
    Unreadable(InputError),
    Text {
        file: Arc<SourceFile>,
        documents: D,
        errors: Vec<ParseError>,
    },
}

/// `v1/List` and every `*List` kind (`DeploymentList`, `ConfigMapList`, …).
pub fn is_list(kind: &str) -> bool {
    kind.ends_with("List")
}

/// Why an input could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub message: String,
    pub help: Option<String>,
}

/// Reads the file at `path` as UTF-8 text of at most `limit` bytes.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, Unreadable> {
    let file = std::fs::File::open(path).map_err(|e| io_unreadable(&e))?;
    let size = file.metadata().map_err(|e| io_unreadable(&e))?.len();
    read_text(file, Some(size), limit)
}

/// Reads UTF-8 text of at most `limit` bytes (`size`, when known, lets a
/// regular file that is too large be refused before it is read). More is an
/// error rather than a truncated text, and so is a NUL byte: YAML and JSON do
/// not allow it, so the input is binary (or something like
/// `/proc/self/environ`), and quoting it in a diagnostic could print what was
/// never meant to be printed.
pub fn read_text(reader: impl Read, size: Option<u64>, limit: u64) -> Result<String, Unreadable> {
    let too_large = || Unreadable {
        message: format!("larger than {}", human_size(limit)),
        help: Some("raise the limit with `--max-file-size`".to_owned()),
    };
    if size.is_some_and(|size| size > limit) {
        return Err(too_large());
    }
    // Sized once when the size is known: growing by doubling would hold
    // up to twice the file while it is read.
    let capacity = size.map_or(0, |size| size.saturating_add(1));
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_unreadable(&e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    let not_text = |what: &str| Unreadable {
        message: what.to_owned(),
        help: Some("Kubernetes manifests are UTF-8 YAML or JSON".to_owned()),
    };
    if bytes.contains(&0) {
        return Err(not_text("not a text file (it contains NUL bytes)"));
    }
    String::from_utf8(bytes).map_err(|_| not_text("not UTF-8 text"))
}

fn io_unreadable(error: &std::io::Error) -> Unreadable {
    Unreadable {
        message: format!("cannot read: {error}"),
        help: None,
    }
}

/// `64 MiB`, `512 KiB`, `100 bytes`.
pub fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The manifests below `dir`, in name order, as [`Loader::load_paths`]
/// walks a folder, and the folders that could not be read.
pub fn manifests_below(dir: &Path) -> (Vec<PathBuf>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    collect_manifests(dir, &mut files, &mut errors);
    files.sort();
    (files, errors)
}

/// The manifests below `dir`; a folder that cannot be read is an error
/// naming it, and the walk goes on with the rest.
fn collect_manifests(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => return errors.push(InputError::io(dir, &error)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                errors.push(InputError::io(dir, &error));
                continue;
            }
        };
        let path = entry.path();
        // `file_type` does not follow symbolic links: a link is neither.
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            // Hidden folders (.git, .github) hold no manifests worth linting.
            if !entry.file_name().to_string_lossy().starts_with('.') {
                collect_manifests(&path, out, errors);
            }
        } else if file_type.is_file() && is_manifest_name(&path) {
            out.push(path);
        }
    }
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_become_their_items_with_spans() {
        let loader = Loader::new(&|_, kind| kind == "Service");
        let mut loaded = Loaded::default();
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: web\n";
        loader.load_text("l.yaml", text.to_owned(), &mut loaded);
        assert!(loaded.errors.is_empty());
        assert_eq!(loaded.documents.len(), 1);
        let doc = &loaded.documents[0];
        assert_eq!(doc.value["metadata"]["name"], "web");
        let at = doc.locate("/metadata/name");
        assert_eq!((at.line, at.column), (9, 5));
        assert_eq!(doc.locate("").line, 6);
    }

    #[test]
    fn errors_carry_file_and_line() {
        let loader = Loader::new(&|_, _| true);
        let mut loaded = Loaded::default();
        loader.load_text(
            "bad.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [\n".to_owned(),
            &mut loaded,
        );
        assert_eq!(loaded.errors.len(), 1);
        assert!(loaded.errors[0].line_col().is_some());
    }
}
