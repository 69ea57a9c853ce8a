//! Finding a linted path's policy file, as ruff finds `ruff.toml`: the
//! nearest `.rollsafe.yaml` (or `rollsafe.yaml`) in the path's folder or
//! above it, up to the root of its repository (the folder holding `.git`).

use std::path::{Path, PathBuf};

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

/// The one policy file that governs every path of a run, or none. Paths
/// governed by different files cannot share a run: cross-object rules
/// judge the whole input under one policy.
pub fn config_for_all(paths: &[&Path], cwd: &Path) -> Result<Option<PathBuf>, String> {
    let mut found: Option<(PathBuf, &Path)> = None;
    let mut without: Option<&Path> = None;
    for &path in paths {
        match (config_for(path, cwd), &found) {
            (None, _) => without = without.or(Some(path)),
            (Some(config), None) => found = Some((config, path)),
            (Some(config), Some((first, first_path))) if config != *first => {
                return Err(format!(
                    "`{}` is governed by `{}` but `{}` by `{}`: lint them separately, or pass `--policy` or `--no-config`",
                    first_path.display(),
                    shown(first, cwd),
                    path.display(),
                    shown(&config, cwd),
                ));
            }
            (Some(_), Some(_)) => {}
        }
    }
    if let (Some((config, path)), Some(other)) = (&found, without) {
        return Err(format!(
            "`{}` is governed by `{}` but `{}` by none: lint them separately, or pass `--policy` or `--no-config`",
            path.display(),
            shown(config, cwd),
            other.display(),
        ));
    }
    Ok(found.map(|(config, _)| relative(&config, cwd)))
}

/// `config` relative to `cwd` when it lies below it: how reports name it.
fn relative(config: &Path, cwd: &Path) -> PathBuf {
    config
        .strip_prefix(cwd)
        .map_or_else(|_| config.to_owned(), Path::to_owned)
}

fn shown(config: &Path, cwd: &Path) -> String {
    relative(config, cwd).display().to_string()
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
        assert_eq!(
            config_for_all(&[Path::new("apps/web")], &repo),
            Ok(Some(PathBuf::from("apps/web/.rollsafe.yaml")))
        );
        assert!(config_for_all(&[Path::new("apps/web"), Path::new("apps")], &repo).is_err());
        let _ = std::fs::remove_dir_all(&root);
    }
}
