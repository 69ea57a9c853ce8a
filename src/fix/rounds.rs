//! `lint --fix` and `--diff` until nothing is left to fix.
//!
//! A fix can bring another finding to light: an exec `sleep 2` in a
//! distroless image becomes a `sleep` action of 2 s, which is then shorter
//! than `minDrainDelay`. So fixing goes in rounds, as ruff's does: fix what
//! the lint reports, lint the fixed text again, fix what it reports now,
//! until a round changes no text (at most [`MAX_ROUNDS`]).

use std::sync::Arc;

use super::files::plan;
use crate::engine::Outcome;
use crate::rules::Severity;
use crate::source::{InputError, Loaded, SourceFile};

/// Rounds after which fixing stops even if the text still changes.
pub const MAX_ROUNDS: usize = 10;

/// A fix that could not be applied in the last round.
#[derive(Debug, Clone)]
pub struct Failure {
    pub severity: Severity,
    pub rule: &'static str,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

/// Where fixing ended.
#[derive(Debug)]
pub struct Rounds {
    /// Every source text read, in order, as first read.
    pub original: Vec<Arc<SourceFile>>,
    /// The same texts with the fixes (standard input unchanged when the
    /// fixes are written in place).
    pub texts: Vec<String>,
    /// The lint of `texts`.
    pub loaded: Loaded,
    pub outcome: Outcome,
    /// Findings fixed, over all rounds.
    pub fixed: usize,
    /// Fixes standard input would take but cannot, being written in place.
    pub stdin_fixes: usize,
    /// Fixes of the last round that did not apply.
    pub failed: Vec<Failure>,
    /// Rules whose fixes of the last round are unsafe and were left alone.
    pub unsafe_rules: Vec<&'static str>,
    /// False when [`MAX_ROUNDS`] ran out.
    pub settled: bool,
}

impl Rounds {
    /// Indexes of the sources whose text the fixes change.
    pub fn changed(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.original.len()).filter(|&i| self.texts[i] != self.original[i].text())
    }
}

/// Fixes `outcome`'s findings over the texts of `loaded` in rounds;
/// `lint` reads texts (name, text), in order, as the run read its inputs.
/// `in_place`: standard input is left as it is (it cannot be written back).
pub fn fix_in_rounds(
    loaded: Loaded,
    outcome: Outcome,
    unsafe_fixes: bool,
    in_place: bool,
    lint: &mut dyn FnMut(Vec<(String, String)>) -> (Loaded, Outcome),
) -> Rounds {
    let original = loaded.sources.clone();
    let mut texts: Vec<String> = original.iter().map(|s| s.text().to_owned()).collect();
    // Files that could not be read are not read again.
    let unreadable: Vec<InputError> = loaded
        .errors
        .iter()
        .filter(|e| e.file.is_none())
        .cloned()
        .collect();
    let (mut loaded, mut outcome) = (loaded, outcome);
    let mut rounds = Rounds {
        original,
        texts: Vec::new(),
        loaded: Loaded::default(),
        outcome: Outcome::default(),
        fixed: 0,
        stdin_fixes: 0,
        failed: Vec::new(),
        unsafe_rules: Vec::new(),
        settled: false,
    };
    for round in 0..MAX_ROUNDS {
        let mut changed = false;
        {
            let planned = plan(&outcome.findings, unsafe_fixes);
            rounds.failed.clear();
            rounds.unsafe_rules = planned.unsafe_skipped.iter().map(|f| f.rule.id).collect();
            rounds.unsafe_rules.dedup();
            for file in &planned.files {
                rounds
                    .failed
                    .extend(file.failed.iter().map(|(finding, reason)| Failure {
                        severity: finding.severity,
                        rule: finding.rule.id,
                        file: finding.file_name().to_owned(),
                        line: finding.location.line,
                        column: finding.location.column,
                        reason: reason.clone(),
                    }));
                let Some(index) = loaded
                    .sources
                    .iter()
                    .position(|s| Arc::ptr_eq(s, &file.file))
                else {
                    continue;
                };
                if in_place && file.is_stdin() {
                    if round == 0 {
                        rounds.stdin_fixes += file.applied.len();
                    }
                    continue;
                }
                if file.changed() {
                    rounds.fixed += file.applied.len();
                    texts[index] = file.fixed.clone();
                    changed = true;
                }
            }
        }
        if !changed {
            rounds.settled = true;
            break;
        }
        let inputs = rounds
            .original
            .iter()
            .zip(&texts)
            .map(|(source, text)| (source.name().to_owned(), text.clone()))
            .collect();
        (loaded, outcome) = lint(inputs);
        loaded.errors.extend(unreadable.iter().cloned());
    }
    rounds.texts = texts;
    rounds.loaded = loaded;
    rounds.outcome = outcome;
    rounds
}
