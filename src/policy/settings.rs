//! The `settings:` of a policy file: the rules' settings, and those of the
//! engine and the webhook.

use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

use crate::model::{Millis, TemplatePaths, parse_duration};
use crate::rules::Settings;
use crate::severity::Severity;

/// Settings after `extends` is resolved that are not the rules' own.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub rules: Settings,
    pub template_paths: TemplatePaths,
    pub schema_dirs: Vec<PathBuf>,
    pub deny_on: DenyOn,
    pub warn_on: WarnOn,
}

/// `denyOn`: what the admission webhook denies in enforce mode. Written as
/// a severity (`error`), or as `{severity: error, rules: [pdb-missing]}` to
/// let findings of rules that read other objects of the cluster deny too
/// (by default they only warn: `kubectl apply -f dir/` may create a
/// Deployment a moment before its PodDisruptionBudget).
#[derive(Debug, Clone, PartialEq)]
pub struct DenyOn {
    /// The lowest severity that denies.
    pub severity: Severity,
    /// Cross-object rules whose findings at or above `severity` deny.
    pub rules: Vec<String>,
}

impl Default for DenyOn {
    fn default() -> Self {
        DenyOn {
            severity: Severity::Error,
            rules: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for DenyOn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (severity, rules) = severity_and_rules(
            deserializer,
            Severity::Error,
            "expected a severity (`error` or `warning`) or `{severity: error, rules: [rule-id, ...]}`",
        )?;
        Ok(DenyOn { severity, rules })
    }
}

/// `warnOn`: which of the findings the admission webhook does not deny it
/// sends back as warnings (kubectl prints each on every apply). Written as a
/// severity (`warning`), or as `{severity: warning, rules: [pdb-missing]}` to
/// have some rules warn whatever their severity. Findings below it are still
/// counted in the metrics and logged: an info finding on every apply teaches
/// people to skim past the webhook's warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct WarnOn {
    /// The lowest severity that warns.
    pub severity: Severity,
    /// Rules whose findings warn at any severity.
    pub rules: Vec<String>,
}

impl Default for WarnOn {
    fn default() -> Self {
        WarnOn {
            severity: Severity::Warning,
            rules: Vec::new(),
        }
    }
}

impl WarnOn {
    /// Whether a finding of `rule` at `severity` is sent as a warning.
    pub fn covers(&self, rule: &str, severity: Severity) -> bool {
        severity >= self.severity || self.rules.iter().any(|r| r == rule)
    }
}

impl<'de> Deserialize<'de> for WarnOn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (severity, rules) = severity_and_rules(
            deserializer,
            Severity::Warning,
            "expected a severity (`error`, `warning` or `info`) or `{severity: warning, rules: [rule-id, ...]}`",
        )?;
        Ok(WarnOn { severity, rules })
    }
}

/// `denyOn` and `warnOn` are written alike: a severity, or a mapping of a
/// severity (`default` when left out) and rule ids.
fn severity_and_rules<'de, D: Deserializer<'de>>(
    deserializer: D,
    default: Severity,
    expected: &'static str,
) -> Result<(Severity, Vec<String>), D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Written {
        severity: Option<Severity>,
        #[serde(default)]
        rules: Vec<String>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Severity(Severity),
        Written(Written),
    }
    match Raw::deserialize(deserializer) {
        Ok(Raw::Severity(severity)) => Ok((severity, Vec::new())),
        Ok(Raw::Written(written)) => Ok((written.severity.unwrap_or(default), written.rules)),
        Err(_) => Err(serde::de::Error::custom(expected)),
    }
}

/// Settings as a policy file writes them: any subset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    pub min_drain_delay: Option<DurationSetting>,
    pub grace_margin: Option<DurationSetting>,
    pub assumed_hook_seconds: Option<DurationSetting>,
    /// `null` explicitly clears an inherited default.
    #[serde(default, deserialize_with = "explicit_null")]
    pub default_shutdown_timeout: Option<Option<DurationSetting>>,
    pub max_grace_period: Option<DurationSetting>,
    pub min_available_ratio: Option<f64>,
    pub slow_start_seconds: Option<i64>,
    pub shutdown_timeout_env: Option<Vec<String>>,
    pub shutdown_timeout_flags: Option<Vec<String>>,
    pub shelless_images: Option<Vec<String>>,
    pub non_serving_ports: Option<Vec<String>>,
    pub metrics_only_images: Option<Vec<String>>,
    pub flag_equal_probe_windows: Option<bool>,
    pub single_instance_images: Option<Vec<String>>,
    pub template_paths: Option<TemplatePaths>,
    pub schema_dirs: Option<Vec<PathBuf>>,
    pub deny_on: Option<DenyOn>,
    pub warn_on: Option<WarnOn>,
}

/// A duration written as Go syntax (`5s`) or as a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationSetting(pub Millis);

impl<'de> Deserialize<'de> for DurationSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Seconds(s) => Ok(DurationSetting(Millis::from_secs(s))),
            Raw::Text(text) => parse_duration(&text)
                .map(DurationSetting)
                .map_err(serde::de::Error::custom),
        }
    }
}

fn explicit_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<DurationSetting>>, D::Error> {
    Option::<DurationSetting>::deserialize(deserializer).map(Some)
}

impl SettingsPatch {
    /// `self` over `base`: what `self` sets wins.
    pub fn over(self, base: SettingsPatch) -> SettingsPatch {
        SettingsPatch {
            min_drain_delay: self.min_drain_delay.or(base.min_drain_delay),
            grace_margin: self.grace_margin.or(base.grace_margin),
            assumed_hook_seconds: self.assumed_hook_seconds.or(base.assumed_hook_seconds),
            default_shutdown_timeout: self
                .default_shutdown_timeout
                .or(base.default_shutdown_timeout),
            max_grace_period: self.max_grace_period.or(base.max_grace_period),
            min_available_ratio: self.min_available_ratio.or(base.min_available_ratio),
            slow_start_seconds: self.slow_start_seconds.or(base.slow_start_seconds),
            shutdown_timeout_env: self.shutdown_timeout_env.or(base.shutdown_timeout_env),
            shutdown_timeout_flags: self.shutdown_timeout_flags.or(base.shutdown_timeout_flags),
            shelless_images: self.shelless_images.or(base.shelless_images),
            non_serving_ports: self.non_serving_ports.or(base.non_serving_ports),
            metrics_only_images: self.metrics_only_images.or(base.metrics_only_images),
            flag_equal_probe_windows: self
                .flag_equal_probe_windows
                .or(base.flag_equal_probe_windows),
            single_instance_images: self.single_instance_images.or(base.single_instance_images),
            template_paths: self.template_paths.or(base.template_paths),
            schema_dirs: self.schema_dirs.or(base.schema_dirs),
            deny_on: self.deny_on.or(base.deny_on),
            warn_on: self.warn_on.or(base.warn_on),
        }
    }

    /// Complete settings, or the name of the first one missing.
    pub fn complete(self) -> Result<Resolved, &'static str> {
        let rules = Settings {
            min_drain_delay: self.min_drain_delay.ok_or("minDrainDelay")?.0,
            grace_margin: self.grace_margin.ok_or("graceMargin")?.0,
            assumed_hook_seconds: self.assumed_hook_seconds.ok_or("assumedHookSeconds")?.0,
            default_shutdown_timeout: self.default_shutdown_timeout.flatten().map(|d| d.0),
            max_grace_period: self.max_grace_period.ok_or("maxGracePeriod")?.0,
            min_available_ratio: self.min_available_ratio.ok_or("minAvailableRatio")?,
            slow_start_seconds: self.slow_start_seconds.ok_or("slowStartSeconds")?,
            shutdown_timeout_env: self.shutdown_timeout_env.ok_or("shutdownTimeoutEnv")?,
            shutdown_timeout_flags: self.shutdown_timeout_flags.ok_or("shutdownTimeoutFlags")?,
            shelless_images: self.shelless_images.ok_or("shellessImages")?,
            non_serving_ports: self.non_serving_ports.ok_or("nonServingPorts")?,
            metrics_only_images: self.metrics_only_images.ok_or("metricsOnlyImages")?,
            flag_equal_probe_windows: self
                .flag_equal_probe_windows
                .ok_or("flagEqualProbeWindows")?,
            single_instance_images: self.single_instance_images.ok_or("singleInstanceImages")?,
        };
        Ok(Resolved {
            rules,
            template_paths: self.template_paths.unwrap_or_default(),
            schema_dirs: self.schema_dirs.unwrap_or_default(),
            deny_on: self.deny_on.unwrap_or_default(),
            warn_on: self.warn_on.unwrap_or_default(),
        })
    }
}

/// The settings names a policy may use, for the rule documentation tests.
pub const SETTING_NAMES: &[&str] = &[
    "minDrainDelay",
    "graceMargin",
    "assumedHookSeconds",
    "defaultShutdownTimeout",
    "maxGracePeriod",
    "minAvailableRatio",
    "slowStartSeconds",
    "shutdownTimeoutEnv",
    "shutdownTimeoutFlags",
    "shellessImages",
    "nonServingPorts",
    "metricsOnlyImages",
    "flagEqualProbeWindows",
    "singleInstanceImages",
    "templatePaths",
    "schemaDirs",
    "denyOn",
    "warnOn",
];
