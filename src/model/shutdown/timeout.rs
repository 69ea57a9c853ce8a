//! The app's shutdown timeout of a container: how long it takes to finish
//! in-flight work after the stop signal, as the manifest states it.

use std::fmt;

use super::drain::{ArgvShape, argv_shape};
use super::shell::script_words;
use crate::model::duration::{DurationError, Millis, parse_duration};
use crate::model::index::Index;
use crate::model::workload::{ContainerRef, Workload};

/// The annotation that states a pod's shutdown timeout; suffixed with
/// `.<container>` it states one container's.
pub const SHUTDOWN_TIMEOUT_ANNOTATION: &str = "rollsafe.dev/shutdown-timeout";

/// The policy settings timeout discovery reads, borrowed from the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeoutSettings<'a> {
    /// `shutdownTimeoutEnv`, in priority order.
    pub env_names: &'a [String],
    /// `shutdownTimeoutFlags`, in priority order (`--shutdown-timeout`).
    pub flags: &'a [String],
    /// `defaultShutdownTimeout`.
    pub default: Option<Millis>,
}

/// Where a shutdown timeout was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeoutOrigin {
    Annotation {
        key: String,
    },
    Env {
        name: String,
    },
    /// An env var whose value comes from a ConfigMap in the input, through
    /// `valueFrom.configMapKeyRef` or `envFrom[].configMapRef`.
    ConfigMapEnv {
        name: String,
        configmap: String,
        key: String,
    },
    /// A command-line flag, named as written (`--graceful-timeout`).
    Flag {
        name: String,
    },
    PolicyDefault,
}

/// Where a shutdown timeout was read, in words and as a field of the
/// workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutSource {
    pub origin: TimeoutOrigin,
    /// The field in the workload document: the annotation, the env var's
    /// `value` (or its entry, when the value lives in a ConfigMap), the
    /// `envFrom` entry, the argument holding the flag's value. `None` for the
    /// policy default.
    pub pointer: Option<String>,
}

impl fmt::Display for TimeoutSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            TimeoutOrigin::Annotation { key } => write!(f, "annotation `{key}`"),
            TimeoutOrigin::Env { name } => write!(f, "env `{name}`"),
            TimeoutOrigin::ConfigMapEnv {
                name,
                configmap,
                key,
            } => write!(f, "env `{name}` from ConfigMap `{configmap}` key `{key}`"),
            TimeoutOrigin::Flag { name } => write!(f, "flag `{name}`"),
            TimeoutOrigin::PolicyDefault => f.write_str("policy `defaultShutdownTimeout`"),
        }
    }
}

/// A container's app shutdown timeout: how long it takes, after the stop
/// signal, to finish in-flight work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShutdownTimeout {
    Known {
        value: Millis,
        source: TimeoutSource,
    },
    /// Found, but not a duration: reported, never a crash.
    Malformed {
        text: String,
        source: TimeoutSource,
        error: DurationError,
    },
    Unknown,
}

impl ShutdownTimeout {
    pub fn value(&self) -> Option<Millis> {
        match self {
            ShutdownTimeout::Known { value, .. } => Some(*value),
            ShutdownTimeout::Malformed { .. } | ShutdownTimeout::Unknown => None,
        }
    }

    pub fn source(&self) -> Option<&TimeoutSource> {
        match self {
            ShutdownTimeout::Known { source, .. } | ShutdownTimeout::Malformed { source, .. } => {
                Some(source)
            }
            ShutdownTimeout::Unknown => None,
        }
    }
}

/// Finds the shutdown timeout of `c`, first found wins: annotations, env vars
/// named in `shutdownTimeoutEnv`, flags named in `shutdownTimeoutFlags`, the
/// policy default. `index` supplies ConfigMaps; pass an empty one when there
/// are none (admission sees a single object).
///
/// An env var whose value cannot be read here (a ConfigMap or Secret not in
/// the input, an empty value) does not stop the search: the next name, then
/// the flags, may still say it. A value that is there but malformed does stop
/// it, and is reported with its source.
pub fn shutdown_timeout(
    w: &Workload,
    c: &ContainerRef<'_>,
    index: &Index,
    settings: &TimeoutSettings<'_>,
) -> ShutdownTimeout {
    if let Some(found) = from_annotations(w, c) {
        return found;
    }
    if let Some(found) = from_env(w, c, index, settings.env_names) {
        return found;
    }
    if let Some(found) = from_flags(c, settings.flags) {
        return found;
    }
    match settings.default {
        Some(value) => ShutdownTimeout::Known {
            value,
            source: TimeoutSource {
                origin: TimeoutOrigin::PolicyDefault,
                pointer: None,
            },
        },
        None => ShutdownTimeout::Unknown,
    }
}

fn judge(text: &str, origin: TimeoutOrigin, pointer: String) -> ShutdownTimeout {
    let source = TimeoutSource {
        origin,
        pointer: Some(pointer),
    };
    match parse_duration(text) {
        Ok(value) => ShutdownTimeout::Known { value, source },
        Err(error) => ShutdownTimeout::Malformed {
            text: text.to_owned(),
            source,
            error,
        },
    }
}

/// The container's own annotation before the pod's: a pod may run an app
/// that drains for a minute beside a sidecar that stops at once. Each key is
/// looked up on the pod template, then on the workload.
fn from_annotations(w: &Workload, c: &ContainerRef<'_>) -> Option<ShutdownTimeout> {
    let own = format!("{SHUTDOWN_TIMEOUT_ANNOTATION}.{}", c.name());
    [own.as_str(), SHUTDOWN_TIMEOUT_ANNOTATION]
        .into_iter()
        .find_map(|key| {
            w.annotation(key).map(|(text, pointer)| {
                let origin = TimeoutOrigin::Annotation {
                    key: key.to_owned(),
                };
                judge(text, origin, pointer)
            })
        })
}

/// Env vars in `names` order. Kubernetes' own precedence decides which
/// definition of a name the app sees: the last `env` entry of that name,
/// which overrides every `envFrom`; else the last `envFrom` ConfigMap that
/// has the key (`prefix` stripped). Secrets are never in the input and are
/// passed over.
fn from_env(
    w: &Workload,
    c: &ContainerRef<'_>,
    index: &Index,
    names: &[String],
) -> Option<ShutdownTimeout> {
    let container = c.container;
    let namespace = w.object.namespace_key();
    let configmap_value = |name: &str, key: &str| {
        index
            .configmap(namespace, name)
            .and_then(|cm| cm.typed.data.as_ref())
            .and_then(|data| data.get(key))
            .filter(|text| !text.trim().is_empty())
    };
    for name in names {
        let entry = container
            .env
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .rfind(|(_, var)| var.name == *name);
        if let Some((i, var)) = entry {
            let at = i.to_string();
            if let Some(text) = var.value.as_deref().filter(|t| !t.trim().is_empty()) {
                let origin = TimeoutOrigin::Env { name: name.clone() };
                return Some(judge(text, origin, c.field(&["env", &at, "value"])));
            }
            let selector = var
                .value_from
                .as_ref()
                .and_then(|from| from.config_map_key_ref.as_ref());
            if let Some(selector) = selector
                && let Some(text) = configmap_value(&selector.name, &selector.key)
            {
                let origin = TimeoutOrigin::ConfigMapEnv {
                    name: name.clone(),
                    configmap: selector.name.clone(),
                    key: selector.key.clone(),
                };
                return Some(judge(text, origin, c.field(&["env", &at])));
            }
            // This entry overrides any envFrom of the same name.
            continue;
        }
        let sources = container.env_from.as_deref().unwrap_or_default();
        for (j, source) in sources.iter().enumerate().rev() {
            let Some(configmap) = &source.config_map_ref else {
                continue;
            };
            let Some(key) = name.strip_prefix(source.prefix.as_deref().unwrap_or_default()) else {
                continue;
            };
            if let Some(text) = configmap_value(&configmap.name, key) {
                let origin = TimeoutOrigin::ConfigMapEnv {
                    name: name.clone(),
                    configmap: configmap.name.clone(),
                    key: key.to_owned(),
                };
                return Some(judge(text, origin, c.field(&["envFrom", &j.to_string()])));
            }
        }
    }
    None
}

/// Flags in `flags` order, each taken from its last occurrence (the last one
/// wins in Go's `flag` and in pflag). `command` and `args` are one argument
/// list, as the container runtime joins them; a `sh -c` script in it is
/// split into words, since `["sh", "-c", "exec app --shutdown-timeout=30s"]`
/// is a common way to start an app.
fn from_flags(c: &ContainerRef<'_>, flags: &[String]) -> Option<ShutdownTimeout> {
    if flags.is_empty() {
        return None;
    }
    let words = command_line_words(c);
    flags.iter().find_map(|flag| {
        let (written, value, pointer) = last_flag(&words, flag)?;
        let origin = TimeoutOrigin::Flag { name: written };
        Some(judge(value.unwrap_or_default(), origin, pointer.to_owned()))
    })
}

/// `command` then `args`, each word with the pointer of the element it is in.
fn command_line_words(c: &ContainerRef<'_>) -> Vec<(String, String)> {
    let mut argv: Vec<(&String, String)> = Vec::new();
    for (list, values) in [
        ("command", &c.container.command),
        ("args", &c.container.args),
    ] {
        for (at, arg) in values.iter().flatten().enumerate() {
            argv.push((arg, c.field(&[list, &at.to_string()])));
        }
    }
    let texts: Vec<&str> = argv.iter().map(|(a, _)| a.as_str()).collect();
    let script = match argv_shape(&texts) {
        ArgvShape::Shell { script } => script,
        ArgvShape::Sleep { .. } | ArgvShape::Other => None,
    };
    let mut words = Vec::new();
    for (at, (arg, pointer)) in argv.into_iter().enumerate() {
        if Some(at) == script {
            words.extend(script_words(arg).map(|w| (w.text, pointer.clone())));
        } else {
            words.push((arg.clone(), pointer));
        }
    }
    words
}

/// The last `--name=value`, `--name value`, `-name=value` or `-name value`
/// for a flag configured as `--name` (or `-name`): Go's `flag` package reads
/// one dash and two alike. Returns the flag as written, its value (`None`
/// when it ends the command line) and the pointer of the value's element.
fn last_flag<'w>(
    words: &'w [(String, String)],
    flag: &str,
) -> Option<(String, Option<&'w str>, &'w str)> {
    let bare = flag.trim_start_matches('-');
    if bare.is_empty() {
        return None;
    }
    let mut found = None;
    let mut at = 0;
    while let Some((word, pointer)) = words.get(at) {
        at += 1;
        if word == "--" {
            break;
        }
        let (dashes, rest) = match (word.strip_prefix("--"), word.strip_prefix('-')) {
            (Some(rest), _) => ("--", rest),
            (None, Some(rest)) => ("-", rest),
            (None, None) => continue,
        };
        let Some(after) = rest.strip_prefix(bare) else {
            continue;
        };
        let written = format!("{dashes}{bare}");
        if let Some(value) = after.strip_prefix('=') {
            found = Some((written, Some(value), pointer.as_str()));
        } else if after.is_empty() {
            let value = words.get(at);
            at += 1;
            found = Some(match value {
                Some((value, value_pointer)) => {
                    (written, Some(value.as_str()), value_pointer.as_str())
                }
                None => (written, None, pointer.as_str()),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::TemplatePaths;

    #[test]
    fn a_pod_reads_its_own_annotations() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "annotations": {POD: "7s"}},
            "spec": {"containers": [{"name": "app"}]}});
        let w = Workload::decode(
            &Document::detached("t", pod),
            WorkloadKind::Pod,
            WorkloadKind::Pod.template_pointer(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let found = shutdown_timeout(
            &w,
            &first(&w),
            &Index::default(),
            &TimeoutSettings::default(),
        );
        assert_eq!(
            found,
            known(
                7_000,
                annotation(POD),
                Some("/metadata/annotations/rollsafe.dev~1shutdown-timeout")
            )
        );
    }

    // --- shutdown timeout --------------------------------------------------

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    struct Case {
        env: Vec<String>,
        flags: Vec<String>,
        default: Option<Millis>,
    }

    impl Case {
        fn new() -> Self {
            Case {
                env: names(&["SHUTDOWN_TIMEOUT", "GRACEFUL_TIMEOUT"]),
                flags: names(&["--shutdown-timeout", "--graceful-timeout"]),
                default: None,
            }
        }

        fn run(&self, documents: Vec<Value>) -> ShutdownTimeout {
            let docs: Vec<Document> = documents
                .into_iter()
                .map(|v| Document::detached("t", v))
                .collect();
            let (index, errors) = Index::build(&docs, &TemplatePaths::new());
            assert!(errors.is_empty(), "{errors:?}");
            let w = &index.workloads[0];
            let settings = TimeoutSettings {
                env_names: &self.env,
                flags: &self.flags,
                default: self.default,
            };
            shutdown_timeout(w, &first(w), &index, &settings)
        }

        fn container(&self, container: Value) -> ShutdownTimeout {
            self.run(vec![deployment(container)])
        }
    }

    fn known(value: u64, origin: TimeoutOrigin, pointer: Option<&str>) -> ShutdownTimeout {
        ShutdownTimeout::Known {
            value: Millis(value),
            source: TimeoutSource {
                origin,
                pointer: pointer.map(str::to_owned),
            },
        }
    }

    fn annotated(template: Value, workload: Value) -> Value {
        let mut d = deployment(json!({"name": "app", "image": "x"}));
        d["metadata"]["annotations"] = workload;
        d["spec"]["template"]["metadata"]["annotations"] = template;
        d
    }

    fn annotation(key: &str) -> TimeoutOrigin {
        TimeoutOrigin::Annotation {
            key: key.to_owned(),
        }
    }

    const OWN: &str = "rollsafe.dev/shutdown-timeout.app";
    const POD: &str = "rollsafe.dev/shutdown-timeout";

    #[test]
    fn container_annotation_beats_pod_annotation() {
        let found = Case::new().run(vec![annotated(json!({POD: "10s", OWN: "20s"}), json!({}))]);
        assert_eq!(
            found,
            known(
                20_000,
                annotation(OWN),
                Some("/spec/template/metadata/annotations/rollsafe.dev~1shutdown-timeout.app")
            )
        );
        // The container's own key wins even from the workload's metadata.
        let found = Case::new().run(vec![annotated(json!({POD: "10s"}), json!({OWN: "20s"}))]);
        assert_eq!(
            found,
            known(
                20_000,
                annotation(OWN),
                Some("/metadata/annotations/rollsafe.dev~1shutdown-timeout.app")
            )
        );
    }

    #[test]
    fn template_annotation_beats_workload_annotation() {
        let found = Case::new().run(vec![annotated(json!({POD: "15s"}), json!({POD: "1m"}))]);
        assert_eq!(
            found,
            known(
                15_000,
                annotation(POD),
                Some("/spec/template/metadata/annotations/rollsafe.dev~1shutdown-timeout")
            )
        );
        let found = Case::new().run(vec![annotated(json!({}), json!({POD: "1m"}))]);
        assert_eq!(
            found,
            known(
                60_000,
                annotation(POD),
                Some("/metadata/annotations/rollsafe.dev~1shutdown-timeout")
            )
        );
    }

    #[test]
    fn annotation_beats_env_and_flags() {
        let mut d = annotated(json!({POD: "3s"}), json!({}));
        d["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "SHUTDOWN_TIMEOUT", "value": "9s"}]);
        d["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["--shutdown-timeout=8s"]);
        assert_eq!(Case::new().run(vec![d]).value(), Some(Millis(3_000)));
    }

    #[test]
    fn malformed_values_are_reported() {
        let found = Case::new().run(vec![annotated(json!({POD: "ten"}), json!({}))]);
        let ShutdownTimeout::Malformed {
            text,
            source,
            error,
        } = found
        else {
            panic!("{found:?}")
        };
        assert_eq!(text, "ten");
        assert_eq!(
            source.to_string(),
            "annotation `rollsafe.dev/shutdown-timeout`"
        );
        assert_eq!(error.text, "ten");

        let found = Case::new().container(json!({"name": "app",
            "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "ten"}], "args": ["--shutdown-timeout=5s"]}));
        assert!(
            matches!(&found, ShutdownTimeout::Malformed { text, .. } if text == "ten"),
            "a malformed value stops the search: {found:?}"
        );
        assert_eq!(found.value(), None);
        assert_eq!(
            found.source().and_then(|s| s.pointer.as_deref()),
            Some("/spec/template/spec/containers/0/env/0/value")
        );
    }

    #[test]
    fn env_list_order_is_the_priority() {
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "GRACEFUL_TIMEOUT", "value": "40s"},
            {"name": "SHUTDOWN_TIMEOUT", "value": "25s"},
        ]}));
        assert_eq!(
            found,
            known(
                25_000,
                TimeoutOrigin::Env {
                    name: "SHUTDOWN_TIMEOUT".to_owned()
                },
                Some("/spec/template/spec/containers/0/env/1/value")
            )
        );
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("env `SHUTDOWN_TIMEOUT`".to_owned())
        );
        // Only the second name set: it is found.
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "OTHER", "value": "1s"},
            {"name": "GRACEFUL_TIMEOUT", "value": "40"},
        ]}));
        assert_eq!(found.value(), Some(Millis(40_000)));
    }

    #[test]
    fn last_env_entry_of_a_name_wins_and_empty_values_are_passed_over() {
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "SHUTDOWN_TIMEOUT", "value": "5s"},
            {"name": "SHUTDOWN_TIMEOUT", "value": "6s"},
        ]}));
        assert_eq!(found.value(), Some(Millis(6_000)));
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "SHUTDOWN_TIMEOUT", "value": ""},
            {"name": "GRACEFUL_TIMEOUT", "value": "7s"},
        ]}));
        assert_eq!(found.value(), Some(Millis(7_000)));
    }

    fn configmap(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop"}, "data": data})
    }

    #[test]
    fn config_map_key_ref_in_the_input() {
        let container = json!({"name": "app", "env": [{"name": "SHUTDOWN_TIMEOUT",
            "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "timeout"}}}]});
        let found = Case::new().run(vec![
            deployment(container),
            configmap("app-config", json!({"timeout": "45s"})),
        ]);
        assert_eq!(
            found,
            known(
                45_000,
                TimeoutOrigin::ConfigMapEnv {
                    name: "SHUTDOWN_TIMEOUT".to_owned(),
                    configmap: "app-config".to_owned(),
                    key: "timeout".to_owned()
                },
                Some("/spec/template/spec/containers/0/env/0")
            )
        );
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("env `SHUTDOWN_TIMEOUT` from ConfigMap `app-config` key `timeout`".to_owned())
        );
    }

    #[test]
    fn config_map_not_in_the_input_goes_on_to_the_next_source() {
        let container = json!({"name": "app",
            "env": [{"name": "SHUTDOWN_TIMEOUT",
                "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "timeout"}}}],
            "args": ["--graceful-timeout", "12s"]});
        // Absent, in another namespace, or without the key: all the same.
        let mut elsewhere = configmap("app-config", json!({"timeout": "45s"}));
        elsewhere["metadata"]["namespace"] = json!("other");
        for extra in [
            vec![],
            vec![elsewhere],
            vec![configmap("app-config", json!({"other": "45s"}))],
        ] {
            let mut docs = vec![deployment(container.clone())];
            docs.extend(extra);
            let found = Case::new().run(docs);
            assert_eq!(
                found,
                known(
                    12_000,
                    TimeoutOrigin::Flag {
                        name: "--graceful-timeout".to_owned()
                    },
                    Some("/spec/template/spec/containers/0/args/1")
                )
            );
        }
        // The next env name comes before the flags.
        let container = json!({"name": "app", "env": [
            {"name": "SHUTDOWN_TIMEOUT", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "GRACEFUL_TIMEOUT", "value": "11s"}],
            "args": ["--graceful-timeout", "12s"]});
        assert_eq!(
            Case::new().container(container).value(),
            Some(Millis(11_000))
        );
    }

    #[test]
    fn env_from_config_map_with_prefix() {
        let container = json!({"name": "app", "envFrom": [
            {"configMapRef": {"name": "missing"}},
            {"configMapRef": {"name": "app-config"}, "prefix": "GRACEFUL_"},
        ]});
        let found = Case::new().run(vec![
            deployment(container),
            configmap(
                "app-config",
                json!({"TIMEOUT": "33s", "SHUTDOWN_TIMEOUT": "1s"}),
            ),
        ]);
        // `SHUTDOWN_TIMEOUT` would be `GRACEFUL_SHUTDOWN_TIMEOUT` with the
        // prefix, so only `GRACEFUL_TIMEOUT` (key `TIMEOUT`) is defined.
        assert_eq!(
            found,
            known(
                33_000,
                TimeoutOrigin::ConfigMapEnv {
                    name: "GRACEFUL_TIMEOUT".to_owned(),
                    configmap: "app-config".to_owned(),
                    key: "TIMEOUT".to_owned()
                },
                Some("/spec/template/spec/containers/0/envFrom/1")
            )
        );
    }

    #[test]
    fn env_overrides_env_from_and_later_env_from_wins() {
        let container = json!({"name": "app",
            "envFrom": [{"configMapRef": {"name": "a"}}, {"configMapRef": {"name": "b"}}]});
        let docs = |c: Value| {
            vec![
                deployment(c),
                configmap("a", json!({"SHUTDOWN_TIMEOUT": "1s"})),
                configmap("b", json!({"SHUTDOWN_TIMEOUT": "2s"})),
            ]
        };
        assert_eq!(
            Case::new().run(docs(container.clone())).value(),
            Some(Millis(2_000))
        );
        let mut with_env = container;
        with_env["env"] = json!([{"name": "SHUTDOWN_TIMEOUT", "value": "3s"}]);
        assert_eq!(Case::new().run(docs(with_env)).value(), Some(Millis(3_000)));
    }

    #[test]
    fn flag_forms() {
        let flag = |name: &str| TimeoutOrigin::Flag {
            name: name.to_owned(),
        };
        let found = Case::new().container(
            json!({"name": "app", "command": ["/app"], "args": ["serve", "--shutdown-timeout=10s"]}),
        );
        assert_eq!(
            found,
            known(
                10_000,
                flag("--shutdown-timeout"),
                Some("/spec/template/spec/containers/0/args/1")
            )
        );
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("flag `--shutdown-timeout`".to_owned())
        );
        let found = Case::new()
            .container(json!({"name": "app", "command": ["/app", "--shutdown-timeout", "1m30s"]}));
        assert_eq!(
            found,
            known(
                90_000,
                flag("--shutdown-timeout"),
                Some("/spec/template/spec/containers/0/command/2")
            )
        );
        let found =
            Case::new().container(json!({"name": "app", "args": ["-graceful-timeout=20s"]}));
        assert_eq!(
            found,
            known(
                20_000,
                flag("-graceful-timeout"),
                Some("/spec/template/spec/containers/0/args/0")
            )
        );
        let found =
            Case::new().container(json!({"name": "app", "args": ["-shutdown-timeout", "4s"]}));
        assert_eq!(found.value(), Some(Millis(4_000)));
    }

    #[test]
    fn flag_priority_last_occurrence_and_edge_cases() {
        // List order first, then the last occurrence of that flag.
        let found = Case::new().container(json!({"name": "app", "args": [
            "--graceful-timeout=1s", "--shutdown-timeout=2s", "--shutdown-timeout=3s"]}));
        assert_eq!(found.value(), Some(Millis(3_000)));
        // A longer flag sharing the prefix is another flag.
        let found = Case::new().container(
            json!({"name": "app", "args": ["--shutdown-timeout-extra=9s", "--shutdown-timeoutx", "1s"]}),
        );
        assert_eq!(found, ShutdownTimeout::Unknown);
        // Nothing after `--` is a flag.
        let found =
            Case::new().container(json!({"name": "app", "args": ["--", "--shutdown-timeout=9s"]}));
        assert_eq!(found, ShutdownTimeout::Unknown);
        // A flag with no value is malformed, pointing at the flag.
        let found = Case::new().container(json!({"name": "app", "args": ["--shutdown-timeout"]}));
        assert!(
            matches!(&found, ShutdownTimeout::Malformed { text, source, .. }
                if text.is_empty() && source.pointer.as_deref() == Some("/spec/template/spec/containers/0/args/0")),
            "{found:?}"
        );
    }

    #[test]
    fn flag_inside_a_shell_script() {
        let found = Case::new().container(json!({"name": "app", "command": ["/bin/sh", "-c"],
            "args": ["exec /app serve --graceful-timeout 25s"]}));
        assert_eq!(
            found,
            known(
                25_000,
                TimeoutOrigin::Flag {
                    name: "--graceful-timeout".to_owned()
                },
                Some("/spec/template/spec/containers/0/args/0")
            )
        );
    }

    #[test]
    fn policy_default_then_unknown() {
        let mut case = Case::new();
        case.default = Some(Millis(30_000));
        let found = case.container(json!({"name": "app"}));
        assert_eq!(found, known(30_000, TimeoutOrigin::PolicyDefault, None));
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("policy `defaultShutdownTimeout`".to_owned())
        );
        let found = Case::new().container(json!({"name": "app",
            "env": [{"name": "UNLISTED", "value": "5s"}], "args": ["--other=5s"]}));
        assert_eq!(found, ShutdownTimeout::Unknown);
        assert_eq!(found.source(), None);
        // Empty settings read nothing but annotations.
        let empty = Case {
            env: vec![],
            flags: vec![],
            default: None,
        };
        let found = empty.container(json!({"name": "app",
            "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "5s"}], "args": ["--shutdown-timeout=5s"]}));
        assert_eq!(found, ShutdownTimeout::Unknown);
    }

    // --- grace period ------------------------------------------------------

    #[test]
    fn odd_command_lines_never_panic() {
        let odd = crate::model::ODD_TEXTS;
        for &a in odd {
            for &b in odd {
                for c in ["sh", "sleep", "busybox", "x"] {
                    let _ = Case::new()
                        .container(json!({"name": "app", "command": [c, a], "args": [b]}));
                }
            }
        }
    }
}
