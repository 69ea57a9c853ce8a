//! The app's shutdown timeout of a container: how long it takes to finish
//! in-flight work after the stop signal, as the manifest states it.

use super::command::CommandLine;
use super::servers::{Seen, ServerShutdown, server_shutdown};
use super::stated::judge;
pub use super::stated::{ShutdownTimeout, TimeoutOrigin, TimeoutSource};
use crate::model::duration::Millis;
use crate::model::env::ContainerEnv;
use crate::model::index::Index;
use crate::model::workload::{ContainerRef, Workload};

/// The annotation that states a pod's shutdown timeout; suffixed with
/// `.<container>` it states one container's.
pub const SHUTDOWN_TIMEOUT_ANNOTATION: &str = "rollsafe.dev/shutdown-timeout";

/// The annotation that states how long a pod's app keeps serving after
/// SIGTERM (failing readiness, so endpoints drop it first); suffixed with
/// `.<container>` it states one container's.
pub const IN_APP_DRAIN_ANNOTATION: &str = "rollsafe.dev/in-app-drain";

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

/// What a container's shutdown is read from: its pod, environment, command
/// line, and what they tell of the server it runs.
pub struct Reading<'a> {
    pub seen: Seen<'a>,
    pub server: ServerShutdown,
}

/// Reads `c` of `w`, with ConfigMaps from `index`, and passes it to `then`.
pub fn read_container<T>(
    w: &Workload,
    c: &ContainerRef<'_>,
    index: &Index,
    then: impl FnOnce(&Reading<'_>) -> T,
) -> T {
    let env = ContainerEnv::of(w, c, index);
    let command = CommandLine::of(c, &env);
    let seen = Seen {
        w,
        c,
        command: &command,
        env: &env,
        index,
    };
    let server = server_shutdown(&seen);
    then(&Reading { seen, server })
}

/// Finds the shutdown timeout of `c`, first found wins: annotations, the
/// settings of a server it is recognised to run, env vars named in
/// `shutdownTimeoutEnv`, flags named in `shutdownTimeoutFlags`, that
/// server's documented default, the policy default. `index` supplies
/// ConfigMaps; pass an empty one when there are none (admission sees a
/// single object).
///
/// An env var whose value cannot be read here (a ConfigMap or Secret not in
/// the input, an empty value, a `$(VAR)` the input does not define) does not
/// stop the search: the next name, then the flags, may still say it. A value
/// that is there but malformed does stop it, and is reported with its source.
pub fn shutdown_timeout(
    w: &Workload,
    c: &ContainerRef<'_>,
    index: &Index,
    settings: &TimeoutSettings<'_>,
) -> ShutdownTimeout {
    read_container(w, c, index, |reading| timeout_of(reading, settings))
}

/// [`shutdown_timeout`] from a reading already made.
pub fn timeout_of(reading: &Reading<'_>, settings: &TimeoutSettings<'_>) -> ShutdownTimeout {
    let seen = &reading.seen;
    if let Some(found) = from_annotations(seen.w, seen.c, SHUTDOWN_TIMEOUT_ANNOTATION) {
        return found;
    }
    if let Some(found) = &reading.server.timeout {
        return found.clone();
    }
    if let Some(found) = from_env(seen, settings.env_names) {
        return found;
    }
    if let Some(found) = from_flags(seen.command, settings.flags, reading.server.claimed_flags) {
        return found;
    }
    if let Some(found) = &reading.server.default_timeout {
        return found.clone();
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

/// How long the app keeps serving after SIGTERM: the `rollsafe.dev/in-app-drain`
/// annotations, then what a recognised server is set to (or does by
/// default). `Unknown` when nothing says it drains. Read like a shutdown
/// timeout, and malformed in the same ways.
pub fn in_app_drain_of(reading: &Reading<'_>) -> ShutdownTimeout {
    let seen = &reading.seen;
    from_annotations(seen.w, seen.c, IN_APP_DRAIN_ANNOTATION)
        .or_else(|| reading.server.drain.clone())
        .unwrap_or(ShutdownTimeout::Unknown)
}

/// The container's own annotation before the pod's: a pod may run an app
/// that drains for a minute beside a sidecar that stops at once. Each key is
/// looked up on the pod template, then on the workload.
fn from_annotations(w: &Workload, c: &ContainerRef<'_>, pod_key: &str) -> Option<ShutdownTimeout> {
    let own = format!("{pod_key}.{}", c.name());
    [own.as_str(), pod_key].into_iter().find_map(|key| {
        w.annotation(key).map(|(text, pointer)| {
            let origin = TimeoutOrigin::Annotation {
                key: key.to_owned(),
            };
            judge(text, origin, Some(pointer))
        })
    })
}

/// Env vars in `names` order. Kubernetes' own precedence decides which
/// definition of a name the app sees: the last `env` entry of that name,
/// which overrides every `envFrom`; else the last `envFrom` ConfigMap that
/// has the key (`prefix` stripped). Secrets are never in the input and are
/// passed over.
fn from_env(seen: &Seen<'_>, names: &[String]) -> Option<ShutdownTimeout> {
    let (w, c, index) = (seen.w, seen.c, seen.index);
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
            if let Some(written) = var.value.as_deref().filter(|t| !t.trim().is_empty()) {
                // `$(VAR)` expanded from the entries before it, as the kubelet does.
                let text = seen.env.value(name).unwrap_or(written);
                if text.contains("$(") {
                    // It refers to a value the input does not show.
                    continue;
                }
                let origin = TimeoutOrigin::Env { name: name.clone() };
                return Some(judge(text, origin, Some(c.field(&["env", &at, "value"]))));
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
                return Some(judge(text, origin, Some(c.field(&["env", &at]))));
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
                return Some(judge(
                    text,
                    origin,
                    Some(c.field(&["envFrom", &j.to_string()])),
                ));
            }
        }
    }
    None
}

/// Flags in `flags` order, each taken from its last occurrence, except
/// those the recognised server gives another meaning (`claimed`).
fn from_flags(
    command: &CommandLine,
    flags: &[String],
    claimed: &[&str],
) -> Option<ShutdownTimeout> {
    flags
        .iter()
        .filter(|flag| !claimed.contains(&flag.as_str()))
        .find_map(|flag| {
            let found = command.flag(flag)?;
            let origin = TimeoutOrigin::Flag {
                name: found.written,
            };
            Some(judge(
                found.value.unwrap_or_default(),
                origin,
                Some(found.pointer.to_owned()),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

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
            let index = Index::of_values(documents);
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
