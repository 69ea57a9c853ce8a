//! Schemas for custom resources, from the folders a policy names in
//! `schemaDirs`.
//!
//! Files are named as kubeconform names them (and as its
//! `openapi2jsonschema.py` writes them from a CustomResourceDefinition):
//! `{kind}_{version}.json` with the kind in lower case, e.g.
//! `rollout_v1alpha1.json`, either directly in the folder or in a sub-folder
//! named after the API group (`argoproj.io/rollout_v1alpha1.json`, the layout
//! of the community CRD catalog), which wins when both exist. Each file is
//! read and compiled once per process, on first use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::Validator;
use serde_json::Value;

use super::fault::Fault;

/// A compiled schema file.
pub struct CustomSchema {
    pub path: PathBuf,
    pub validator: Validator,
    pub schema: Value,
}

impl std::fmt::Debug for CustomSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomSchema")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The schema file for `apiVersion`/`kind` in the first folder that has one.
pub fn find(dirs: &[PathBuf], api_version: &str, kind: &str) -> Option<PathBuf> {
    if dirs.is_empty() || kind.is_empty() {
        return None;
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let name = format!("{}_{}.json", kind.to_lowercase(), version);
    // A kind or version that could climb out of the folder names no file.
    if name.contains(['/', '\\']) || group.contains(['/', '\\']) || group.starts_with('.') {
        return None;
    }
    dirs.iter().find_map(|dir| {
        let grouped = (!group.is_empty()).then(|| dir.join(group).join(&name));
        grouped
            .into_iter()
            .chain([dir.join(&name)])
            .find(|path| path.is_file())
    })
}

/// A compiled schema file, or why it cannot be used.
pub type Loaded = Arc<Result<CustomSchema, String>>;

/// The compiled schema of a file, read and compiled on first use.
pub fn load(path: &Path) -> Loaded {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Loaded>>> = OnceLock::new();
    let cache = LOADED.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(path).cloned()) {
        return found;
    }
    let loaded = Arc::new(compile(path));
    if let Ok(mut cache) = cache.lock() {
        cache.insert(path.to_owned(), Arc::clone(&loaded));
    }
    loaded
}

/// What is wrong with `value` by a schema file.
pub fn check(schema: &CustomSchema, value: &Value) -> Vec<Fault<'static>> {
    if schema.validator.is_valid(value) {
        return Vec::new();
    }
    schema
        .validator
        .iter_errors(value)
        .filter_map(|error| Fault::from_validation_error(&error))
        .collect()
}

fn compile(path: &Path) -> Result<CustomSchema, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read schema: {e}"))?;
    let mut schema: Value =
        serde_json::from_str(&text).map_err(|e| format!("schema is not JSON: {e}"))?;
    open_preserved_fields(&mut schema, 0);
    // CustomResourceDefinition schemas are OpenAPI v3.0, a JSON Schema draft 4
    // dialect; a file that names its draft keeps it.
    if let Value::Object(map) = &mut schema {
        map.entry("$schema")
            .or_insert_with(|| Value::String("http://json-schema.org/draft-04/schema#".to_owned()));
    }
    let validator = super::compile(&schema).map_err(|e| format!("schema does not compile: {e}"))?;
    Ok(CustomSchema {
        path: path.to_owned(),
        validator,
        schema,
    })
}

/// `x-kubernetes-preserve-unknown-fields: true` keeps whatever is written
/// there; a strict conversion may still have closed the object with
/// `additionalProperties: false`. Reopen it, as the API server would.
fn open_preserved_fields(schema: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match schema {
        Value::Object(map) => {
            let preserved =
                map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if preserved && map.get("additionalProperties") == Some(&Value::Bool(false)) {
                map.remove("additionalProperties");
            }
            for value in map.values_mut() {
                open_preserved_fields(value, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                open_preserved_fields(item, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_follow_kubeconform() {
        let dir = std::env::temp_dir().join(format!("rollsafe-schemas-{}", std::process::id()));
        let grouped = dir.join("argoproj.io");
        std::fs::create_dir_all(&grouped).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("rollout_v1alpha1.json"), "{}").unwrap_or_else(|e| panic!("{e}"));
        let dirs = vec![dir.clone()];
        assert_eq!(
            find(&dirs, "argoproj.io/v1alpha1", "Rollout"),
            Some(dir.join("rollout_v1alpha1.json"))
        );
        std::fs::write(grouped.join("rollout_v1alpha1.json"), "{}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            find(&dirs, "argoproj.io/v1alpha1", "Rollout"),
            Some(grouped.join("rollout_v1alpha1.json"))
        );
        assert_eq!(find(&dirs, "argoproj.io/v1alpha1", "Other"), None);
        assert_eq!(find(&dirs, "../v1", "x/../../y"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn preserved_fields_stay_open() {
        let mut schema = json!({"properties": {"config": {
            "type": "object", "additionalProperties": false,
            "x-kubernetes-preserve-unknown-fields": true
        }}});
        open_preserved_fields(&mut schema, 0);
        assert_eq!(
            schema["properties"]["config"].get("additionalProperties"),
            None
        );
    }
}
