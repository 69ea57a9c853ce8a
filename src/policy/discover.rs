//! Finding a linted path's policy file, as ruff finds `ruff.toml`: the
//! nearest `.rollsafe.yaml` (or `rollsafe.yaml`) in the path's folder or
//! above it, up to the root of its repository (the folder holding `.git`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::source::InputError;

/// The names a policy file is found under, first wins within a folder.
pub const CONFIG_NAMES: [&str; 2] = [".rollsafe.yaml", "rollsafe.yaml"];

/// The policy file that governs `path` (a file or folder, relative to
/// `cwd`), if there is one.
pub fn config_for(path: &Path, cwd: &Path) -> Option<PathBuf> {
    let absolute = cwd.join(path);
    let start = if absolute.is_dir() {
        absolute.as_path()
    } else {
        absolute.parent()?
    };
    for dir in start.ancestors() {
        if let Some(found) = CONFIG_NAMES
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| candidate.is_file())
        {
            return Some(found);
        }
        // The repository root ends the walk: a policy above it belongs to
        // something else.
        if dir.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Paths of a run that one policy file (or none) governs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Governed {
    /// The policy file, relative to `cwd` when below it.
    pub config: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
}

/// The paths of a run grouped by the policy file that governs each, in the
/// order they first appear; `-` (standard input) is governed as `stdin`.
/// When one file (or none) governs everything, one group holds the paths as
/// given; otherwise folders are opened up into their manifests, each
/// governed by the file nearest to it (as ruff applies the nearest
/// `ruff.toml`), and the folders that could not be read are returned.
pub fn govern(paths: &[PathBuf], stdin: &Path, cwd: &Path) -> (Vec<Governed>, Vec<InputError>) {
    let mut errors = Vec::new();
    let mut cache: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut governed = |path: &Path| -> Option<PathBuf> {
        let key = cwd.join(path);
        let key = if key.is_dir() {
            key
        } else {
            key.parent().map_or(key.clone(), Path::to_owned)
        };
        cache
            .entry(key)
            .or_insert_with(|| config_for(path, cwd))
            .clone()
    };
    let mut entries: Vec<(Option<PathBuf>, PathBuf)> = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            entries.push((governed(stdin), path.clone()));
        } else if cwd.join(path).is_dir() {
            let (files, unreadable) = crate::source::manifests_below(&cwd.join(path));
            errors.extend(unreadable);
            // Named as the loader would name them: below the path as given.
            let files: Vec<PathBuf> = files
                .into_iter()
                .map(|file| {
                    if path.is_relative() {
                        file.strip_prefix(cwd).map_or(file.clone(), Path::to_owned)
                    } else {
                        file
                    }
                })
                .collect();
            let own = governed(path);
            if files.is_empty() {
                entries.push((own, path.clone()));
            }
            for file in files {
                entries.push((governed(&file), file));
            }
        } else {
            entries.push((governed(path), path.clone()));
        }
    }
    let first = entries.first().map(|(config, _)| config.clone());
    if entries
        .iter()
        .all(|(config, _)| Some(config) == first.as_ref())
    {
        // Nothing to tell apart: the paths as given, and the walk's errors
        // are the loader's to report.
        let config = first.flatten().map(|c| relative(&c, cwd));
        return (
            vec![Governed {
                config,
                paths: paths.to_vec(),
            }],
            Vec::new(),
        );
    }
    let mut groups: Vec<Governed> = Vec::new();
    for (config, path) in entries {
        let config = config.map(|c| relative(&c, cwd));
        match groups.iter_mut().find(|g| g.config == config) {
            Some(group) => group.paths.push(path),
            None => groups.push(Governed {
                config,
                paths: vec![path],
            }),
        }
    }
    (groups, errors)
}

/// `config` relative to `cwd` when it lies below it: how reports name it.
fn relative(config: &Path, cwd: &Path) -> PathBuf {
    config
        .strip_prefix(cwd)
        .map_or_else(|_| config.to_owned(), Path::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_stops_at_the_repository_root() {
        let root = std::env::temp_dir().join(format!("rollsafe-discover-{}", std::process::id()));
        let repo = root.join("repo");
        let app = repo.join("apps/web");
        let _ = std::fs::create_dir_all(repo.join(".git"));
        let _ = std::fs::create_dir_all(&app);
        let _ = std::fs::write(root.join(".rollsafe.yaml"), "outside");
        assert_eq!(config_for(Path::new("apps/web"), &repo), None);
        let _ = std::fs::write(repo.join("rollsafe.yaml"), "root");
        assert_eq!(
            config_for(Path::new("apps/web/deploy.yaml"), &repo),
            Some(repo.join("rollsafe.yaml"))
        );
        let _ = std::fs::write(app.join(".rollsafe.yaml"), "nearer");
        let _ = std::fs::write(app.join("deploy.yaml"), "kind: Pod");
        let _ = std::fs::write(repo.join("apps/db.yaml"), "kind: Pod");
        let here = Path::new(".");
        let (one, _) = govern(&[PathBuf::from("apps/web")], here, &repo);
        assert_eq!(
            one,
            [Governed {
                config: Some(PathBuf::from("apps/web/.rollsafe.yaml")),
                paths: vec![PathBuf::from("apps/web")],
            }]
        );
        let (two, _) = govern(&[PathBuf::from("apps")], here, &repo);
        let configs: Vec<_> = two.iter().map(|g| g.config.clone()).collect();
        assert_eq!(
            configs,
            [
                Some(PathBuf::from("rollsafe.yaml")),
                Some(PathBuf::from("apps/web/.rollsafe.yaml"))
            ]
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
