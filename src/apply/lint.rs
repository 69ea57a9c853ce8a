//! `lint --fix` and `lint --diff`: [`converge`] over every document of the
//! run, then the difference written into each file's text.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::files::edit_files;
use super::{Converged, Judged, Safety, converge};
use crate::deadline::Deadline;
use crate::engine::{self, Outcome};
use crate::policy::Policy;
use crate::severity::Severity;
use crate::source::{Document, Loaded, STDIN, SourceFile};

/// What becomes of standard input's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    /// Fixed like any text (`--diff` shows its fixes).
    Fixed,
    /// Left as it was: fixes are written in place, and standard input has
    /// no place to write them (`--fix`).
    LeftAsItIs,
}

/// A fix that could not be applied.
#[derive(Debug, Clone)]
pub struct Failure {
    pub severity: Severity,
    pub rule: &'static str,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// What fixing a run comes to.
#[derive(Debug)]
pub struct Fixes {
    /// Every source text read, in order, as read.
    pub original: Vec<Arc<SourceFile>>,
    /// The same texts with the fixes (standard input unchanged when the
    /// fixes are written in place).
    pub texts: Vec<String>,
    /// Findings fixed in each text.
    pub fixed: Vec<usize>,
    /// Fixes standard input would take but cannot, being written in place.
    pub stdin_fixes: usize,
    /// Fixes that could not be applied, and why.
    pub failed: Vec<Failure>,
    /// Rules whose fixes are unsafe and were left alone.
    pub unsafe_rules: Vec<&'static str>,
    /// False when the fixes did not settle.
    pub settled: bool,
    /// Files the fixes could not be written to: name, fixes lost, why.
    pub unwritten: Vec<(String, usize, String)>,
}

impl Fixes {
    /// Indexes of the sources whose text the fixes change.
    pub fn changed(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.original.len()).filter(|&i| self.texts[i] != self.original[i].text())
    }

    /// Findings fixed over all texts.
    pub fn fixed_count(&self) -> usize {
        self.fixed.iter().sum()
    }

    /// Gives up the fixes of text `index`: its file could not be written.
    pub fn revert(&mut self, index: usize, reason: String) {
        self.texts[index] = self.original[index].text().to_owned();
        let lost = std::mem::take(&mut self.fixed[index]);
        let name = self.original[index].name().to_owned();
        self.unwritten.push((name, lost, reason));
    }
}

/// Fixes the documents of `loaded` (whose lint is `outcome`) with `policy`.
pub fn fix_run(
    loaded: &Loaded,
    outcome: Outcome,
    policy: &Policy,
    safety: Safety,
    stdin: Stdin,
) -> Fixes {
    let documents = &loaded.documents;
    // Findings name their document by file and start.
    let position: HashMap<(*const SourceFile, usize), usize> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| ((Arc::as_ptr(&d.file), d.start), i))
        .collect();
    let mut first = Some(outcome);
    let mut judge = |values: &[Arc<Value>]| {
        let outcome = first.take().unwrap_or_else(|| {
            let current: Vec<Document> = documents
                .iter()
                .zip(values)
                .map(|(doc, value)| Document {
                    value: Arc::clone(value),
                    ..doc.clone()
                })
                .collect();
            engine::evaluate(&current, policy)
        });
        Ok(outcome
            .findings
            .into_iter()
            .filter_map(|finding| {
                let key = (Arc::as_ptr(&finding.doc.file), finding.doc.start);
                position
                    .get(&key)
                    .map(|&document| Judged { document, finding })
            })
            .collect())
    };
    let values = documents.iter().map(|d| Arc::clone(&d.value)).collect();
    let converged = converge(values, safety, &Deadline::none(), &mut judge)
        .unwrap_or_else(|_| Converged::unchanged(documents));
    texts(loaded, converged, stdin)
}

/// The converged documents written into their texts.
fn texts(loaded: &Loaded, converged: Converged, stdin: Stdin) -> Fixes {
    let in_place = stdin == Stdin::LeftAsItIs;
    let documents = &loaded.documents;
    let is_stdin = |document: usize| documents[document].file.name() == STDIN;
    let mut values = converged.values;
    let mut stdin_fixes = 0;
    if in_place {
        for (document, value) in values.iter_mut().enumerate() {
            if is_stdin(document) {
                *value = Arc::clone(&documents[document].value);
            }
        }
        stdin_fixes = converged
            .applied
            .iter()
            .filter(|a| is_stdin(a.document))
            .count();
    }
    let files = edit_files(&loaded.sources, documents, &values);
    let source_of: HashMap<*const SourceFile, usize> = loaded
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (Arc::as_ptr(s), i))
        .collect();
    let mut failed: Vec<Failure> = converged
        .failed
        .iter()
        .map(|f| Failure {
            severity: f.severity,
            rule: f.rule.id,
            file: documents[f.document].file.name().to_owned(),
            line: f.location.line,
            column: f.location.column,
            reason: f.reason.clone(),
        })
        .collect();
    let text_failures: HashMap<usize, &str> = files
        .iter()
        .flat_map(|f| f.failed.iter().map(|(d, reason)| (*d, reason.as_str())))
        .collect();
    let mut fixed = vec![0; loaded.sources.len()];
    for applied in &converged.applied {
        let doc = &documents[applied.document];
        if in_place && is_stdin(applied.document) {
            continue;
        }
        if let Some(reason) = text_failures.get(&applied.document) {
            failed.push(Failure {
                severity: applied.severity,
                rule: applied.rule.id,
                file: doc.file.name().to_owned(),
                line: applied.location.line,
                column: applied.location.column,
                reason: (*reason).to_owned(),
            });
            continue;
        }
        if let Some(&source) = source_of.get(&Arc::as_ptr(&doc.file)) {
            fixed[source] += 1;
        }
    }
    Fixes {
        original: loaded.sources.clone(),
        texts: files.into_iter().map(|f| f.text).collect(),
        fixed,
        stdin_fixes,
        failed,
        unsafe_rules: converged.unsafe_rules,
        settled: converged.settled,
        unwritten: Vec::new(),
    }
}

impl Converged {
    /// Nothing fixed: the documents as read.
    fn unchanged(documents: &[Document]) -> Self {
        Converged {
            values: documents.iter().map(|d| Arc::clone(&d.value)).collect(),
            applied: Vec::new(),
            failed: Vec::new(),
            unsafe_rules: Vec::new(),
            first: Vec::new(),
            settled: true,
        }
    }
}
