//! The policy of each open document, found as `lint` finds it (the nearest
//! `.rollsafe.yaml` from the file's folder up to its repository's root),
//! with the lookups and the loaded policies cached: a keystroke must not
//! walk the file system.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::policy::discover;
pub use crate::policy::discover::CONFIG_NAMES;
use crate::policy::{Policy, Profile};
use crate::source::InputError;

/// The policy file governing a document, `None` for the built-in default.
/// Documents of one group are judged together, as `lint` judges the paths
/// one policy file governs: the cross-object rules match objects within it.
pub type Group = Option<PathBuf>;

pub struct Policies {
    default: Arc<Policy>,
    /// Folder → the policy file governing the files in it.
    governing: HashMap<PathBuf, Group>,
    /// Policy file → the policy, or the default when it did not load.
    loaded: HashMap<PathBuf, Arc<Policy>>,
}

impl Policies {
    pub fn new() -> Result<Self, Vec<InputError>> {
        Ok(Policies {
            default: Arc::new(Policy::builtin(Profile::Default)?),
            governing: HashMap::new(),
            loaded: HashMap::new(),
        })
    }

    /// The group of the file at `path` (`None` for an unsaved buffer).
    pub fn group_of(&mut self, path: Option<&Path>) -> Group {
        let folder = path?.parent()?;
        self.governing
            .entry(folder.to_owned())
            .or_insert_with(|| discover::config_for(folder, Path::new("/")))
            .clone()
    }

    /// The policy of a group, and, the first time a policy file fails to
    /// load, why (the default policy stands in for it until it is fixed).
    pub fn policy(&mut self, group: &Group) -> (Arc<Policy>, Vec<InputError>) {
        let Some(path) = group else {
            return (Arc::clone(&self.default), Vec::new());
        };
        if let Some(policy) = self.loaded.get(path) {
            return (Arc::clone(policy), Vec::new());
        }
        let (policy, errors) = match Policy::from_file(path) {
            Ok(policy) => (Arc::new(policy), Vec::new()),
            Err(errors) => (Arc::clone(&self.default), errors),
        };
        self.loaded.insert(path.clone(), Arc::clone(&policy));
        (policy, errors)
    }

    /// Forgets every lookup and policy: a policy file was saved, created or
    /// deleted.
    pub fn forget(&mut self) {
        self.governing.clear();
        self.loaded.clear();
    }
}

/// Whether the file at `path` is a policy file `lint` would find.
pub fn is_policy_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| CONFIG_NAMES.contains(&name))
}
