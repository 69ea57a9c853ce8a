//! Renderers: the only code that writes a run's results.

pub mod catalog;
pub mod human;
pub mod json;

use crate::engine::Outcome;
use crate::rules::Severity;
use crate::source::InputError;

/// Output formats of `rollsafe lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// A finished lint run, as renderers see it.
pub struct Run<'a> {
    pub outcome: &'a Outcome,
    /// Input errors: unreadable files, unparseable YAML, bad documents.
    pub errors: &'a [InputError],
    pub files: usize,
}

impl Run<'_> {
    pub fn count(&self, severity: Severity) -> usize {
        self.outcome.count(severity)
    }
}
