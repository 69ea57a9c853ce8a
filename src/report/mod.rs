//! Renderers: the only code that writes a run's results.

pub mod catalog;
pub mod concise;
pub mod diff;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod statistics;
pub mod timeline;

use std::path::{Component, Path, PathBuf};

use crate::engine::Outcome;
use crate::severity::Severity;
use crate::source::InputError;

/// Output formats of `rollsafe lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    /// One line per finding: `file:line:col: severity[rule] message`.
    Concise,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// JUnit XML, for GitLab, Jenkins and other test report viewers.
    Junit,
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

/// The name a file was read under (`deploy/web.yaml`, `./x.yaml`,
/// `/abs/path.yaml`, `<stdin>`) as a path for CI tools: relative to `cwd`
/// when it lies below it, with `/` separators and no `./`; `None` for stdin.
/// A path outside `cwd` stays absolute, or relative with its `..`.
pub fn repo_path(name: &str, cwd: Option<&Path>) -> Option<String> {
    if name == crate::source::STDIN {
        return None;
    }
    let path = Path::new(name);
    let path: PathBuf = match cwd {
        Some(cwd) if path.is_absolute() => path
            .strip_prefix(cwd)
            .map_or_else(|_| path.to_owned(), Path::to_owned),
        _ => path.to_owned(),
    };
    let mut parts: Vec<String> = Vec::new();
    let mut absolute = false;
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::RootDir => absolute = true,
            Component::Prefix(prefix) => parts.push(prefix.as_os_str().to_string_lossy().into()),
            Component::ParentDir => parts.push("..".to_owned()),
            Component::Normal(part) => parts.push(part.to_string_lossy().into()),
        }
    }
    let joined = parts.join("/");
    Some(if absolute {
        format!("/{joined}")
    } else {
        joined
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_are_relative_to_the_working_directory() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            repo_path("deploy/web.yaml", Some(cwd)).as_deref(),
            Some("deploy/web.yaml")
        );
        assert_eq!(
            repo_path("./deploy//web.yaml", Some(cwd)).as_deref(),
            Some("deploy/web.yaml")
        );
        assert_eq!(
            repo_path("/work/repo/deploy/web.yaml", Some(cwd)).as_deref(),
            Some("deploy/web.yaml")
        );
        assert_eq!(
            repo_path("/elsewhere/web.yaml", Some(cwd)).as_deref(),
            Some("/elsewhere/web.yaml")
        );
        assert_eq!(
            repo_path("../other/web.yaml", Some(cwd)).as_deref(),
            Some("../other/web.yaml")
        );
        assert_eq!(repo_path("<stdin>", Some(cwd)), None);
    }
}
