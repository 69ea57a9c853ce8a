//! Policies: the built-in profiles, policy files with `extends`, rule
//! severities, settings and exemptions.
//!
//! A policy file is validated against `policies/policy.schema.json` before it
//! is read, and every error names the file, line and column of the offending
//! value. The built-in profiles are compiled into the binary; `default.yaml`
//! is the one place rule severities and setting defaults are written down.

pub mod discover;
mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::Value;

pub use settings::{DenyOn, DurationSetting, SETTING_NAMES, SettingsPatch, WarnOn};

use crate::model::glob::glob_matches;
use crate::model::{KubeVersion, ObjectRef, TemplatePaths};
use crate::rules::{self, Settings};
use crate::severity::Severity;
use crate::source::{InputError, SourceFile, parse_documents, read_text_file};

const DEFAULT_POLICY: &str = include_str!("../../policies/default.yaml");
const STRICT_POLICY: &str = include_str!("../../policies/strict.yaml");
/// The JSON Schema policy files are validated against.
pub const POLICY_SCHEMA: &str = include_str!("../../policies/policy.schema.json");

/// The built-in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    Default,
    Strict,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Default => "default",
            Profile::Strict => "strict",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Profile::Default => DEFAULT_POLICY,
            Profile::Strict => STRICT_POLICY,
        }
    }
}

/// A rule's level in a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    Info,
    Warning,
    Error,
}

impl<'de> Deserialize<'de> for Level {
    /// Policies are YAML read as Kubernetes reads it, where a plain `off` is
    /// the boolean false: accept it as `off`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Bool(false) => Ok(Level::Off),
            Raw::Text(text) => match text.as_str() {
                "off" => Ok(Level::Off),
                "info" => Ok(Level::Info),
                "warning" => Ok(Level::Warning),
                "error" => Ok(Level::Error),
                other => Err(serde::de::Error::custom(format!(
                    "`{other}` is not a level: off, info, warning or error"
                ))),
            },
            Raw::Bool(true) => Err(serde::de::Error::custom(
                "a rule level is off, info, warning or error, not `true`",
            )),
        }
    }
}

impl Level {
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

/// Objects (and optionally only some rules) a policy exempts.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Exemption {
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Object names; `*` matches any run of characters.
    #[serde(default)]
    pub names: Vec<String>,
    /// Rule ids; empty means every rule.
    #[serde(default)]
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

impl Exemption {
    /// Every criterion given must match; a criterion left out matches all.
    pub fn covers(&self, object: &ObjectRef, rule: &str) -> bool {
        let any = |list: &[String], value: &str, matcher: fn(&str, &str) -> bool| {
            list.is_empty() || list.iter().any(|pattern| matcher(pattern, value))
        };
        any(&self.namespaces, object.namespace_key(), |p, v| p == v)
            && any(&self.kinds, &object.kind, |p, v| p == v)
            && any(&self.names, &object.name, glob_matches)
            && any(&self.rules, rule, |p, v| p == v)
    }
}

/// A resolved policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `default`, `strict`, or the policy file's path.
    pub name: String,
    pub kubernetes_version: KubeVersion,
    /// What the rules are tuned with.
    pub settings: Settings,
    /// Custom workload kinds and their pod templates.
    pub template_paths: TemplatePaths,
    /// Folders of JSON Schemas for custom resources (`{kind}_{version}.json`),
    /// resolved against the policy file that names them.
    pub schema_dirs: Vec<PathBuf>,
    /// What the admission webhook denies in enforce mode; other findings
    /// become admission warnings.
    pub deny_on: DenyOn,
    /// Which findings the webhook does not deny it sends back as warnings.
    pub warn_on: WarnOn,
    levels: BTreeMap<String, Level>,
    pub exemptions: Vec<Exemption>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyFile {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    extends: Option<String>,
    kubernetes_version: Option<String>,
    #[serde(default)]
    settings: SettingsPatch,
    #[serde(default)]
    rules: BTreeMap<String, Level>,
    #[serde(default)]
    exemptions: Vec<Exemption>,
}

/// A policy file read and checked, with where it came from.
struct Layer {
    /// The built-in default profile: the base of every policy's settings.
    is_builtin_default: bool,
    file: Arc<SourceFile>,
    document: crate::source::ParsedDocument,
    policy: PolicyFile,
}

/// A policy is a page of YAML; anything much larger (`extends: /dev/zero`)
/// is not one.
const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// `extends` chains longer than this are surely cycles.
const MAX_EXTENDS: usize = 8;

impl Policy {
    /// A built-in profile.
    pub fn builtin(profile: Profile) -> Result<Policy, Vec<InputError>> {
        let layers = resolve_layers(Origin::Builtin(profile), 0, false)?;
        assemble(profile.name().to_owned(), layers)
    }

    /// A policy file, with its `extends` chain.
    pub fn from_file(path: &Path) -> Result<Policy, Vec<InputError>> {
        let layers = resolve_layers(Origin::File(path.to_owned()), 0, true)?;
        assemble(path.display().to_string(), layers)
    }

    /// A policy given as text, named `name` in errors; a file it extends is
    /// found from the working directory.
    pub fn from_text(name: &str, text: &str) -> Result<Policy, Vec<InputError>> {
        let origin = Origin::Text {
            name: name.to_owned(),
            text: text.to_owned(),
        };
        let layers = resolve_layers(origin, 0, true)?;
        assemble(name.to_owned(), layers)
    }

    /// The severity of a rule, or `None` when the policy turns it off.
    pub fn severity(&self, rule: &str) -> Option<Severity> {
        self.levels.get(rule).and_then(|level| level.severity())
    }

    /// Turns a rule off, as `rules: {id: off}` would.
    pub fn disable(&mut self, rule: &str) {
        self.levels.insert(rule.to_owned(), Level::Off);
    }

    /// Narrows the rules run to `select` (every rule when empty), without
    /// `ignore`: rule ids as [`rules::resolve_selector`] gives them.
    pub fn select(&mut self, select: &[&str], ignore: &[&str]) {
        let ids = rules::RULES
            .iter()
            .map(|r| r.info().id)
            .chain([rules::UNUSED_SUPPRESSION.id]);
        for id in ids {
            if (!select.is_empty() && !select.contains(&id)) || ignore.contains(&id) {
                self.disable(id);
            }
        }
    }

    /// Whether unused `# rollsafe: ignore[…]` comments are reported (see
    /// [`rules::UNUSED_SUPPRESSION`]): unless `--select` or `--ignore`
    /// leaves them out.
    pub fn reports_unused_suppressions(&self) -> bool {
        self.levels.get(rules::UNUSED_SUPPRESSION.id) != Some(&Level::Off)
    }

    /// Whether an exemption covers every rule for this object (an exempt
    /// namespace, say): then there is nothing to evaluate.
    pub fn exempts_entirely(&self, object: &ObjectRef) -> bool {
        self.exemptions
            .iter()
            .any(|e| e.rules.is_empty() && e.covers(object, ""))
    }

    /// The first exemption that covers this object and rule.
    pub fn exemption(&self, object: &ObjectRef, rule: &str) -> Option<&Exemption> {
        self.exemptions.iter().find(|e| e.covers(object, rule))
    }
}

enum Origin {
    Builtin(Profile),
    File(PathBuf),
    Text { name: String, text: String },
}

fn resolve_layers(
    origin: Origin,
    depth: usize,
    validate: bool,
) -> Result<Vec<Layer>, Vec<InputError>> {
    let (name, text, dir) = match &origin {
        Origin::Builtin(profile) => (
            format!("<built-in {} policy>", profile.name()),
            profile.text().to_owned(),
            None,
        ),
        Origin::File(path) => match read_text_file(path, MAX_POLICY_BYTES) {
            Ok(text) => (
                path.display().to_string(),
                text,
                path.parent().map(Path::to_owned),
            ),
            Err(unreadable) => {
                return Err(vec![plain_error(
                    &path.display().to_string(),
                    format!("cannot read policy: {}", unreadable.message),
                )]);
            }
        },
        Origin::Text { name, text } => (name.clone(), text.clone(), None),
    };
    let file = Arc::new(SourceFile::new(name.clone(), text));
    let (mut documents, parse_errors) = parse_documents(&file, &|_, _| true);
    if !parse_errors.is_empty() {
        return Err(parse_errors
            .into_iter()
            .map(|e| InputError::at(&file, e.byte..e.byte, e.message, e.help))
            .collect());
    }
    if documents.len() != 1 {
        return Err(vec![plain_error(
            &name,
            "a policy file holds exactly one document with `apiVersion: rollsafe.dev/v1alpha1` and `kind: Policy`".to_owned(),
        )]);
    }
    let document = documents.remove(0);
    let mut errors = if validate {
        schema_errors(&file, &document)
    } else {
        Vec::new()
    };
    errors.extend(rule_id_errors(&file, &document));
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut policy: PolicyFile = serde_json::from_value(document.value.clone()).map_err(|e| {
        vec![InputError::at(
            &file,
            document.start..document.start,
            format!("invalid policy: {e}"),
            None,
        )]
    })?;
    // Schema folders are relative to the policy file that names them.
    if let (Some(dir), Some(dirs)) = (&dir, policy.settings.schema_dirs.as_mut()) {
        for folder in dirs.iter_mut() {
            *folder = dir.join(&*folder);
        }
    }
    let mut layers = match &policy.extends {
        None => Vec::new(),
        Some(_) if depth >= MAX_EXTENDS => {
            return Err(vec![at_pointer(
                &file,
                &document,
                "/extends",
                "`extends` chain too long (a cycle?)".to_owned(),
                None,
            )]);
        }
        Some(parent) => {
            let origin = match parent.as_str() {
                "default" => Origin::Builtin(Profile::Default),
                "strict" => Origin::Builtin(Profile::Strict),
                path => Origin::File(dir.clone().unwrap_or_default().join(path)),
            };
            resolve_layers(origin, depth + 1, validate)?
        }
    };
    layers.push(Layer {
        is_builtin_default: matches!(origin, Origin::Builtin(Profile::Default)),
        file,
        document,
        policy,
    });
    Ok(layers)
}

fn assemble(name: String, layers: Vec<Layer>) -> Result<Policy, Vec<InputError>> {
    // Settings always have a value: what no layer sets comes from the
    // built-in default profile, even for a policy that extends nothing (one
    // that extends it has it as its first layer: it is not read twice).
    let base_settings = match layers.first() {
        Some(first) if first.is_builtin_default => SettingsPatch::default(),
        _ => builtin_default_settings(),
    };
    let mut settings = base_settings;
    let mut levels = BTreeMap::new();
    let mut exemptions = Vec::new();
    let mut version = None;
    let mut version_source = None;
    for layer in layers {
        settings = layer.policy.settings.over(settings);
        levels.extend(layer.policy.rules);
        exemptions.extend(layer.policy.exemptions);
        if let Some(v) = layer.policy.kubernetes_version {
            version = Some(v);
            version_source = Some((layer.file, layer.document));
        }
    }
    let kubernetes_version = match (version, version_source) {
        (Some(text), Some((file, document))) => text.parse::<KubeVersion>().map_err(|e| {
            vec![at_pointer(
                &file,
                &document,
                "/kubernetesVersion",
                e.to_string(),
                None,
            )]
        })?,
        _ => KubeVersion::NEWEST,
    };
    let resolved = settings.complete().map_err(|missing| {
        vec![plain_error(
            &name,
            format!("setting `{missing}` has no value"),
        )]
    })?;
    Ok(Policy {
        name,
        kubernetes_version,
        settings: resolved.rules,
        template_paths: resolved.template_paths,
        schema_dirs: resolved.schema_dirs,
        deny_on: resolved.deny_on,
        warn_on: resolved.warn_on,
        levels,
        exemptions,
    })
}

fn builtin_default_settings() -> SettingsPatch {
    static DEFAULTS: OnceLock<SettingsPatch> = OnceLock::new();
    DEFAULTS
        .get_or_init(|| {
            let file = SourceFile::new("default", DEFAULT_POLICY.to_owned());
            let (documents, _) = parse_documents(&file, &|_, _| true);
            documents
                .first()
                .and_then(|d| d.value.get("settings"))
                .and_then(|s| SettingsPatch::deserialize(s).ok())
                .unwrap_or_default()
        })
        .clone()
}

fn schema_errors(
    file: &Arc<SourceFile>,
    document: &crate::source::ParsedDocument,
) -> Vec<InputError> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        serde_json::from_str::<Value>(POLICY_SCHEMA)
            .ok()
            .and_then(|schema| jsonschema::validator_for(&schema).ok())
    });
    let Some(validator) = validator else {
        return vec![plain_error(
            file.name(),
            "the built-in policy schema does not compile".to_owned(),
        )];
    };
    validator
        .iter_errors(&document.value)
        .map(|error| {
            let pointer = error.instance_path().as_str().to_owned();
            // A wrong value is underlined, not its key.
            let range = document
                .spans
                .nearest(&pointer)
                .map_or(document.start..document.start, |s| s.value_range());
            if let Some((message, help)) = duration_error(&document.value, &pointer) {
                return InputError::at(file, range, message, Some(help));
            }
            let help = quoting_help(&document.value, &pointer);
            InputError::at(file, range, format!("invalid policy: {error}"), help)
        })
        .collect()
}

/// The settings the schema declares as durations (`/settings/minDrainDelay`,
/// …): those referring to its `duration` definition, alone or in a choice.
fn duration_settings() -> &'static [String] {
    static SETTINGS: OnceLock<Vec<String>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let schema: Value = serde_json::from_str(POLICY_SCHEMA).unwrap_or_default();
        let properties = schema
            .pointer("/properties/settings/properties")
            .and_then(Value::as_object);
        properties
            .into_iter()
            .flatten()
            .filter(|(_, definition)| definition.to_string().contains("#/definitions/duration"))
            .map(|(name, _)| format!("/settings/{name}"))
            .collect()
    })
}

/// A duration setting's error in words, instead of what the JSON Schema
/// says (`"5 seconds" is not valid under any of the schemas listed in the
/// 'anyOf' keyword`): the setting, the value, and how to write it.
fn duration_error(value: &Value, pointer: &str) -> Option<(String, String)> {
    if !duration_settings().iter().any(|p| p == pointer) {
        return None;
    }
    let setting = pointer.rsplit('/').next().unwrap_or(pointer);
    let written = value.pointer(pointer)?;
    let shown = match written {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let message = match written {
        Value::Number(n) if n.as_f64().is_some_and(|n| n < 0.0) => {
            format!("`{setting}: {shown}`: a duration cannot be negative")
        }
        Value::Number(_) => {
            format!("`{setting}: {shown}`: a number of seconds must be whole")
        }
        _ => format!("`{setting}: {shown}` is not a duration"),
    };
    let forms = "a Go duration such as `5s`, `1m30s` or `500ms`, or a whole number of seconds";
    let help = match as_go_duration(&shown) {
        Some(duration) => format!("write `{setting}: {duration}` ({forms})"),
        None => format!("write {forms}"),
    };
    Some((format!("invalid policy: {message}"), help))
}

/// `5 seconds` as Go writes it (`5s`), for the usual words and abbreviations.
fn as_go_duration(text: &str) -> Option<String> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return None;
    }
    let unit = match unit.trim().to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        _ => return None,
    };
    Some(format!("{number}{unit}"))
}

/// `kubernetesVersion: 1.30` is the float 1.3 in YAML: say so.
fn quoting_help(value: &Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer) {
        Some(Value::Number(n)) if pointer == "/kubernetesVersion" => Some(format!(
            "quote the version: `kubernetesVersion: \"{n}\"` (unquoted, `1.30` reads as the number 1.3)"
        )),
        _ => None,
    }
}

fn rule_id_errors(
    file: &Arc<SourceFile>,
    document: &crate::source::ParsedDocument,
) -> Vec<InputError> {
    let mut errors = Vec::new();
    let mut check = |id: &str, pointer: String| {
        if rules::find(id).is_none() {
            let help = rules::suggest(id).map(|s| format!("did you mean `{s}`?"));
            errors.push(at_pointer(
                file,
                document,
                &pointer,
                format!("unknown rule `{id}`"),
                help,
            ));
        }
    };
    if let Some(levels) = document.value.get("rules").and_then(Value::as_object) {
        for id in levels.keys() {
            check(id, crate::source::pointer(["rules", id]));
        }
    }
    for setting in ["denyOn", "warnOn"] {
        let listed = document
            .value
            .pointer(&format!("/settings/{setting}/rules"))
            .and_then(Value::as_array);
        for (i, id) in listed.into_iter().flatten().enumerate() {
            if let Some(id) = id.as_str() {
                check(id, format!("/settings/{setting}/rules/{i}"));
            }
        }
    }
    let exemptions = document.value.get("exemptions").and_then(Value::as_array);
    for (i, exemption) in exemptions.into_iter().flatten().enumerate() {
        let ids = exemption.get("rules").and_then(Value::as_array);
        for (j, id) in ids.into_iter().flatten().enumerate() {
            if let Some(id) = id.as_str() {
                check(id, format!("/exemptions/{i}/rules/{j}"));
            }
        }
    }
    errors
}

fn at_pointer(
    file: &Arc<SourceFile>,
    document: &crate::source::ParsedDocument,
    pointer: &str,
    message: String,
    help: Option<String>,
) -> InputError {
    let range = document
        .spans
        .nearest(pointer)
        .map_or(document.start..document.start, |s| s.label());
    InputError::at(file, range, message, help)
}

fn plain_error(path: &str, message: String) -> InputError {
    InputError::about(path, message, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_resolve() {
        let default = Policy::builtin(Profile::Default).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(default.kubernetes_version, KubeVersion::NEWEST);
        assert_eq!(
            default.severity("readiness-probe-missing"),
            Some(Severity::Error)
        );
        let strict = Policy::builtin(Profile::Strict).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(strict.settings.flag_equal_probe_windows);
        let mut relaxed = strict.settings.clone();
        relaxed.flag_equal_probe_windows = false;
        assert_eq!(relaxed, default.settings, "strict changes one setting only");
    }

    #[test]
    fn duration_settings_come_from_the_schema() {
        let settings = duration_settings();
        for name in ["minDrainDelay", "defaultShutdownTimeout", "maxGracePeriod"] {
            assert!(
                settings.contains(&format!("/settings/{name}")),
                "{settings:?}"
            );
        }
        assert!(!settings.contains(&"/settings/slowStartSeconds".to_owned()));
        assert_eq!(as_go_duration("5 seconds").as_deref(), Some("5s"));
        assert_eq!(as_go_duration("2 Minutes").as_deref(), Some("2m"));
        assert_eq!(as_go_duration("five seconds"), None);
        assert_eq!(as_go_duration("5 fortnights"), None);
    }

    #[test]
    fn exemptions_match_all_given_criteria() {
        let exemption = Exemption {
            kinds: vec!["Job".into()],
            rules: vec!["liveness-probe-missing".into()],
            ..Exemption::default()
        };
        let job = ObjectRef {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            namespace: None,
            name: "migrate".into(),
        };
        assert!(exemption.covers(&job, "liveness-probe-missing"));
        assert!(!exemption.covers(&job, "readiness-probe-missing"));
    }
}
