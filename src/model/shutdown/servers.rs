//! Servers and frameworks whose shutdown a manifest implies: the settings
//! they read their shutdown timeout and in-app drain from, and the defaults
//! their documentation gives when the manifest leaves them out.
//!
//! Each entry names its source; the rule docs of `shutdown-timeout-unknown`
//! and `prestop-hook-missing` list them for users.
//!
//! - Istio's proxy (`pilot-agent`, image `proxyv2`): on SIGTERM it drains
//!   for `terminationDrainDuration` (default 5s; env
//!   `TERMINATION_DRAIN_DURATION_SECONDS`, annotation `proxy.istio.io/config`)
//!   and then stops Envoy
//!   (<https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#ProxyConfig>).
//! - Envoy run by itself closes its listeners at once on shutdown; it drains
//!   only when told to through its admin API, which a preStop hook does
//!   (<https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/operations/draining>).
//! - gunicorn: `--graceful-timeout`, default 30s, also read from
//!   `GUNICORN_CMD_ARGS`
//!   (<https://docs.gunicorn.org/en/stable/settings.html#graceful-timeout>).
//! - uvicorn: `--timeout-graceful-shutdown` or
//!   `UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN`; without it uvicorn waits for open
//!   connections with no limit (<https://www.uvicorn.org/settings/#timeouts>).
//! - Spring Boot: `spring.lifecycle.timeout-per-shutdown-phase` as a
//!   `--spring.…` argument or a `-Dspring.…` system property, in the command
//!   or in `JAVA_TOOL_OPTIONS`, `JDK_JAVA_OPTIONS`, `JAVA_OPTS`
//!   (<https://docs.spring.io/spring-boot/reference/web/graceful-shutdown.html>).
//!   Its 30s default applies only to graceful shutdown, which older versions
//!   leave off, so no default is assumed.
//! - ingress-nginx: after SIGTERM the controller keeps serving for
//!   `--shutdown-grace-period` seconds (default 0), then nginx finishes
//!   within `worker-shutdown-timeout` of the controller's ConfigMap (default
//!   240s)
//!   (<https://kubernetes.github.io/ingress-nginx/user-guide/cli-arguments/>,
//!   <https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#worker-shutdown-timeout>).
//! - Knative's activator, webhook and queue-proxy fail readiness and keep
//!   serving for `network.DefaultDrainTimeout`, 45s
//!   (<https://github.com/knative/pkg/blob/main/network/network.go>).
//! - Thanos: `--http-grace-period` and `--grpc-grace-period`, 2m each
//!   (<https://thanos.io/tip/components/query.md/#flags>).
//! - Loki and Mimir (Grafana's dskit server): `-server.graceful-shutdown-timeout`,
//!   default 30s, and `-shutdown-delay`, time spent serving with `/ready`
//!   failing (<https://grafana.com/docs/loki/latest/configure/#server>).
//! - Servers built on Kubernetes' `k8s.io/apiserver` (aggregated API servers,
//!   webhooks): `--shutdown-delay-duration` keeps serving with `/readyz`
//!   failing
//!   (<https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/>).

use super::command::CommandLine;
use super::stated::{ShutdownTimeout, TimeoutOrigin, TimeoutSource, judge};
use crate::model::Millis;
use crate::model::env::ContainerEnv;
use crate::model::glob::image_matches;
use crate::model::index::Index;
use crate::model::workload::{ContainerRef, Workload};

/// What a recognised server's settings say about its shutdown.
#[derive(Debug, Clone, Default)]
pub struct ServerShutdown {
    /// How long it keeps serving after SIGTERM.
    pub drain: Option<ShutdownTimeout>,
    /// Its shutdown timeout, as the manifest sets it.
    pub timeout: Option<ShutdownTimeout>,
    /// The timeout its documentation gives when nothing sets it: used only
    /// when no other source does.
    pub default_timeout: Option<ShutdownTimeout>,
    /// Flags the server gives a meaning of its own, which the policy's
    /// generic `shutdownTimeoutFlags` must not read as a timeout.
    pub claimed_flags: &'static [&'static str],
}

/// What the container's command line, environment and pod say.
pub struct Seen<'a> {
    pub w: &'a Workload,
    pub c: &'a ContainerRef<'a>,
    pub command: &'a CommandLine,
    pub env: &'a ContainerEnv,
    pub index: &'a Index,
}

impl Seen<'_> {
    fn image(&self) -> &str {
        self.c.container.image.as_deref().unwrap_or_default()
    }

    fn runs(&self, program: &str) -> bool {
        self.command.program.as_deref() == Some(program)
    }

    /// A flag's value, read as a duration (`"30"` is seconds).
    fn flag(&self, server: &'static str, flag: &str) -> Option<ShutdownTimeout> {
        let found = self.command.flag(flag)?;
        let origin = TimeoutOrigin::Server {
            server,
            setting: format!("`{}`", found.written),
            defaulted: false,
        };
        Some(judge(
            found.value.unwrap_or_default(),
            origin,
            Some(found.pointer.to_owned()),
        ))
    }

    /// An env var's value, when the input shows it.
    fn env(&self, server: &'static str, name: &str) -> Option<ShutdownTimeout> {
        let text = self.env.value(name).filter(|t| !t.trim().is_empty())?;
        let origin = TimeoutOrigin::Server {
            server,
            setting: format!("env `{name}`"),
            defaulted: false,
        };
        Some(judge(text, origin, Some(env_pointer(self.c, name))))
    }
}

fn default(server: &'static str, setting: &str, value: Millis) -> ShutdownTimeout {
    ShutdownTimeout::Known {
        value,
        source: TimeoutSource {
            origin: TimeoutOrigin::Server {
                server,
                setting: format!("`{setting}`"),
                defaulted: true,
            },
            pointer: None,
        },
    }
}

/// The `env` entry that sets `name` last, or the container when an
/// `envFrom` source does.
fn env_pointer(c: &ContainerRef<'_>, name: &str) -> String {
    let entries = c.container.env.as_deref().unwrap_or_default();
    match entries.iter().rposition(|var| var.name == name) {
        Some(at) => c.field(&["env", &at.to_string()]),
        None => c.pointer(),
    }
}

/// What the first server `seen` is recognised as says about its shutdown.
pub fn server_shutdown(seen: &Seen<'_>) -> ServerShutdown {
    let recognisers: [fn(&Seen<'_>) -> Option<ServerShutdown>; 9] = [
        istio_proxy,
        envoy,
        gunicorn,
        uvicorn,
        ingress_nginx,
        knative,
        thanos,
        dskit,
        spring_boot,
    ];
    let mut found = recognisers
        .iter()
        .find_map(|recognise| recognise(seen))
        .unwrap_or_default();
    if found.drain.is_none() {
        found.drain = seen.flag("k8s.io/apiserver", "--shutdown-delay-duration");
    }
    found
}

fn istio_proxy(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const ISTIO: &str = "Istio's proxy";
    let image = seen.image();
    // `contains` first: a glob per container per recogniser adds up.
    let proxy_image = (image.contains("proxyv2") && image_matches("*/proxyv2", image))
        || seen.c.name() == "istio-proxy";
    let runs_agent = seen.command.args.first().is_some_and(|a| a.text == "proxy");
    if !proxy_image || !runs_agent {
        return None;
    }
    let drain = seen
        .env(ISTIO, "TERMINATION_DRAIN_DURATION_SECONDS")
        .or_else(|| mesh_config_drain(seen))
        .unwrap_or_else(|| default(ISTIO, "terminationDrainDuration", Millis::from_secs(5)));
    Some(ServerShutdown {
        timeout: Some(ShutdownTimeout::Known {
            value: Millis(0),
            source: TimeoutSource {
                origin: TimeoutOrigin::ExitsAfterDrain { server: ISTIO },
                pointer: None,
            },
        }),
        drain: Some(drain),
        ..ServerShutdown::default()
    })
}

/// `terminationDrainDuration: 30s` in the pod's `proxy.istio.io/config`
/// annotation, a YAML `ProxyConfig`.
fn mesh_config_drain(seen: &Seen<'_>) -> Option<ShutdownTimeout> {
    let (config, pointer) = seen.w.annotation("proxy.istio.io/config")?;
    let value = config.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "terminationDrainDuration")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })?;
    let origin = TimeoutOrigin::Server {
        server: "Istio's proxy",
        setting: "`terminationDrainDuration` in annotation `proxy.istio.io/config`".to_owned(),
        defaulted: false,
    };
    Some(judge(&value, origin, Some(pointer)))
}

fn envoy(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const ENVOY: &str = "Envoy";
    let envoy_entrypoint = seen.c.container.command.is_none()
        && seen.image().contains("envoyproxy/envoy")
        && seen
            .command
            .args
            .first()
            .is_none_or(|a| a.text.starts_with('-') || a.text == "envoy");
    if !seen.runs("envoy") && !envoy_entrypoint {
        return None;
    }
    Some(ServerShutdown {
        timeout: Some(ShutdownTimeout::Known {
            value: Millis(0),
            source: TimeoutSource {
                origin: TimeoutOrigin::StopsAtOnce { server: ENVOY },
                pointer: None,
            },
        }),
        ..ServerShutdown::default()
    })
}

fn gunicorn(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const GUNICORN: &str = "gunicorn";
    let cmd_args = seen.env.value("GUNICORN_CMD_ARGS");
    if !seen.command.mentions("gunicorn") && cmd_args.is_none() {
        return None;
    }
    let from_env = || {
        let words: Vec<&str> = cmd_args?.split_whitespace().collect();
        let at = words
            .iter()
            .rposition(|w| *w == "--graceful-timeout" || w.starts_with("--graceful-timeout="))?;
        let value = match words.get(at)?.split_once('=') {
            Some((_, value)) => value,
            None => words.get(at + 1).copied().unwrap_or_default(),
        };
        let origin = TimeoutOrigin::Server {
            server: GUNICORN,
            setting: "`--graceful-timeout` in env `GUNICORN_CMD_ARGS`".to_owned(),
            defaulted: false,
        };
        Some(judge(
            value,
            origin,
            Some(env_pointer(seen.c, "GUNICORN_CMD_ARGS")),
        ))
    };
    Some(ServerShutdown {
        timeout: seen.flag(GUNICORN, "--graceful-timeout").or_else(from_env),
        default_timeout: Some(default(
            GUNICORN,
            "--graceful-timeout",
            Millis::from_secs(30),
        )),
        claimed_flags: &["--graceful-timeout"],
        ..ServerShutdown::default()
    })
}

fn uvicorn(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const UVICORN: &str = "uvicorn";
    if !seen.command.mentions("uvicorn") {
        return None;
    }
    Some(ServerShutdown {
        timeout: seen
            .flag(UVICORN, "--timeout-graceful-shutdown")
            .or_else(|| seen.env(UVICORN, "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN")),
        ..ServerShutdown::default()
    })
}

fn ingress_nginx(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const INGRESS_NGINX: &str = "ingress-nginx";
    if !seen.runs("nginx-ingress-controller") {
        return None;
    }
    let drain = seen
        .flag(INGRESS_NGINX, "--shutdown-grace-period")
        .filter(|d| d.value() != Some(Millis(0)));
    let from_configmap = || {
        let flag = seen.command.flag("--configmap")?;
        let (namespace, name) = flag.value?.split_once('/')?;
        let data = seen.index.configmap(namespace, name)?.typed.data.as_ref()?;
        let value = data.get("worker-shutdown-timeout")?;
        let origin = TimeoutOrigin::Server {
            server: INGRESS_NGINX,
            setting: format!("`worker-shutdown-timeout` in ConfigMap `{name}`"),
            defaulted: false,
        };
        Some(judge(value, origin, Some(flag.pointer.to_owned())))
    };
    Some(ServerShutdown {
        drain,
        timeout: from_configmap(),
        default_timeout: Some(default(
            INGRESS_NGINX,
            "worker-shutdown-timeout",
            Millis::from_secs(240),
        )),
        claimed_flags: &["--shutdown-grace-period"],
    })
}

fn knative(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const KNATIVE: &str = "Knative";
    let image = seen.image();
    let data_path = image.contains("knative.dev/serving/cmd/")
        && [
            "*knative.dev/serving/cmd/activator",
            "*knative.dev/serving/cmd/webhook",
            "*knative.dev/serving/cmd/queue",
        ]
        .iter()
        .any(|glob| image_matches(glob, image));
    if !data_path {
        return None;
    }
    Some(ServerShutdown {
        drain: Some(default(
            KNATIVE,
            "network.DefaultDrainTimeout",
            Millis::from_secs(45),
        )),
        ..ServerShutdown::default()
    })
}

fn thanos(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const THANOS: &str = "Thanos";
    let image = seen.image();
    let thanos_image = image.contains("thanos") && image_matches("*thanos/thanos", image);
    if !seen.runs("thanos") && !thanos_image {
        return None;
    }
    // The HTTP and gRPC servers stop side by side: the longer grace decides.
    let grace = |flag: &str| {
        seen.flag(THANOS, flag)
            .unwrap_or_else(|| default(THANOS, flag, Millis::from_secs(120)))
    };
    let (http, grpc) = (grace("--http-grace-period"), grace("--grpc-grace-period"));
    let longer = match (http.value(), grpc.value()) {
        (Some(h), Some(g)) if g > h => grpc,
        (Some(_), None) => grpc,
        _ => http,
    };
    let defaulted = longer
        .source()
        .is_some_and(TimeoutSource::is_server_default);
    Some(ServerShutdown {
        timeout: (!defaulted).then(|| longer.clone()),
        default_timeout: defaulted.then_some(longer),
        ..ServerShutdown::default()
    })
}

fn dskit(seen: &Seen<'_>) -> Option<ServerShutdown> {
    let image = seen.image();
    if !image.contains("grafana/") {
        return None;
    }
    let server = if image_matches("*grafana/loki", image) {
        "Loki"
    } else if image_matches("*grafana/mimir", image) {
        "Mimir"
    } else {
        return None;
    };
    Some(ServerShutdown {
        drain: seen
            .flag(server, "-shutdown-delay")
            .filter(|d| d.value() != Some(Millis(0))),
        timeout: seen.flag(server, "-server.graceful-shutdown-timeout"),
        default_timeout: Some(default(
            server,
            "-server.graceful-shutdown-timeout",
            Millis::from_secs(30),
        )),
        ..ServerShutdown::default()
    })
}

fn spring_boot(seen: &Seen<'_>) -> Option<ServerShutdown> {
    const SPRING: &str = "Spring Boot";
    const PROPERTY: &str = "spring.lifecycle.timeout-per-shutdown-phase";
    let on_command_line = seen
        .flag(SPRING, &format!("--{PROPERTY}"))
        .or_else(|| seen.flag(SPRING, &format!("-D{PROPERTY}")));
    let in_java_options = || {
        ["JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS"]
            .iter()
            .find_map(|name| {
                let options = seen.env.value(name)?;
                let value = options
                    .split_whitespace()
                    .filter_map(|o| o.strip_prefix(&format!("-D{PROPERTY}=")))
                    .next_back()?;
                let origin = TimeoutOrigin::Server {
                    server: SPRING,
                    setting: format!("`-D{PROPERTY}` in env `{name}`"),
                    defaulted: false,
                };
                Some(judge(value, origin, Some(env_pointer(seen.c, name))))
            })
    };
    let timeout = on_command_line.or_else(in_java_options)?;
    Some(ServerShutdown {
        timeout: Some(timeout),
        ..ServerShutdown::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::budget::{PodShutdown, ShutdownSettings};
    use super::super::testing::*;
    use super::super::timeout::{ShutdownTimeout, TimeoutSettings};
    use crate::model::serving::ServingSettings;

    /// `(seconds, source)` of a reading, when it is stated.
    type Said = Option<(u64, String)>;

    /// The in-app drain and the shutdown timeout of the first container; the
    /// policy names `SHUTDOWN_TIMEOUT` and `--shutdown-grace-period` as
    /// generic sources.
    fn read(docs: Vec<Value>) -> (Said, Said) {
        let index = Index::of_values(docs);
        let env = vec!["SHUTDOWN_TIMEOUT".to_owned()];
        let flags = vec!["--shutdown-grace-period".to_owned()];
        let settings = ShutdownSettings {
            assumed_hook: Millis::from_secs(5),
            shelless_images: &[],
            margin: Millis::from_secs(5),
            timeouts: TimeoutSettings {
                env_names: &env,
                flags: &flags,
                default: None,
            },
            serving: ServingSettings::default(),
        };
        let pod = PodShutdown::of(&index.workloads[0], &index, &settings);
        let c = &pod.containers[0];
        let stated = |reading: &ShutdownTimeout| match reading {
            ShutdownTimeout::Known { value, source } => Some((value.0 / 1000, source.to_string())),
            ShutdownTimeout::Malformed { text, .. } => Some((u64::MAX, text.clone())),
            ShutdownTimeout::Unknown => None,
        };
        (stated(&c.in_app_drain), stated(&c.timeout))
    }

    fn one(container: Value) -> (Said, Said) {
        read(vec![deployment(container)])
    }

    fn said(seconds: u64, source: &str) -> Said {
        Some((seconds, source.to_owned()))
    }

    #[test]
    fn istio_proxy_drains_then_exits() {
        let proxy = json!({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.0",
            "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local"]});
        let (drain, timeout) = one(proxy.clone());
        assert_eq!(
            drain,
            said(5, "Istio's proxy's default `terminationDrainDuration`")
        );
        assert_eq!(
            timeout,
            said(0, "Istio's proxy, which exits when its drain ends")
        );

        let mut with_env = proxy.clone();
        with_env["env"] = json!([{"name": "TERMINATION_DRAIN_DURATION_SECONDS", "value": "20"}]);
        assert_eq!(
            one(with_env).0,
            said(
                20,
                "Istio's proxy's env `TERMINATION_DRAIN_DURATION_SECONDS`"
            )
        );

        let mut annotated = deployment(proxy);
        annotated["spec"]["template"]["metadata"]["annotations"] = json!({"proxy.istio.io/config": "holdApplicationUntilProxyStarts: true\nterminationDrainDuration: 30s\n"});
        assert_eq!(read(vec![annotated]).0.map(|d| d.0), Some(30));

        // The same image running something else is not the agent.
        let other =
            json!({"name": "debug", "image": "docker.io/istio/proxyv2:1.24.0", "args": ["bash"]});
        assert_eq!(one(other), (None, None));
    }

    #[test]
    fn envoy_stops_at_once_and_drains_only_through_its_hook() {
        let envoy = json!({"name": "gateway", "image": "docker.io/envoyproxy/envoy:v1.37-latest",
            "command": ["/usr/local/bin/envoy"],
            "args": ["--drain-time-s $(DRAIN_TIME_SECONDS)"],
            "env": [{"name": "DRAIN_TIME_SECONDS", "value": "15"}]});
        assert_eq!(
            one(envoy),
            (None, said(0, "Envoy, which stops at once on SIGTERM"))
        );
        // The image's own entrypoint with flags only.
        let entrypoint = json!({"name": "envoy", "image": "envoyproxy/envoy:v1.31.0",
            "args": ["-c", "/etc/envoy/envoy.yaml"]});
        assert_eq!(one(entrypoint).1.map(|t| t.0), Some(0));
    }

    #[test]
    fn gunicorn_and_uvicorn() {
        let app = |command: Value, env: Value| {
            json!({"name": "app", "image": "python:3.12",
            "command": command, "env": env})
        };
        let plain = app(
            json!(["gunicorn", "app:app", "-b", "0.0.0.0:8000"]),
            json!([]),
        );
        assert_eq!(
            one(plain).1,
            said(30, "gunicorn's default `--graceful-timeout`")
        );
        let flagged = app(
            json!([
                "sh",
                "-c",
                "exec gunicorn --graceful-timeout $GRACE app:app"
            ]),
            json!([{"name": "GRACE", "value": "45"}]),
        );
        assert_eq!(one(flagged).1, said(45, "gunicorn's `--graceful-timeout`"));
        let cmd_args = app(
            json!(["/start.sh"]),
            json!([{"name": "GUNICORN_CMD_ARGS", "value": "--bind=0.0.0.0 --graceful-timeout=12"}]),
        );
        assert_eq!(
            one(cmd_args).1,
            said(
                12,
                "gunicorn's `--graceful-timeout` in env `GUNICORN_CMD_ARGS`"
            )
        );
        // A generic env var the policy names still beats the default.
        let generic = app(
            json!(["gunicorn", "app:app"]),
            json!([{"name": "SHUTDOWN_TIMEOUT", "value": "20s"}]),
        );
        assert_eq!(one(generic).1, said(20, "env `SHUTDOWN_TIMEOUT`"));

        let uvicorn = app(
            json!(["uvicorn", "main:app", "--timeout-graceful-shutdown", "25"]),
            json!([]),
        );
        assert_eq!(
            one(uvicorn).1,
            said(25, "uvicorn's `--timeout-graceful-shutdown`")
        );
        // uvicorn waits with no limit by default: unknown.
        let unbounded = app(json!(["uvicorn", "main:app"]), json!([]));
        assert_eq!(one(unbounded).1, None);
    }

    #[test]
    fn ingress_nginx_drains_for_its_grace_period_then_waits_for_workers() {
        let controller = json!({"name": "controller",
            "image": "registry.k8s.io/ingress-nginx/controller:v1.11.2",
            "args": ["/nginx-ingress-controller", "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
                "--shutdown-grace-period=15"],
            "env": [{"name": "POD_NAMESPACE", "value": "shop"}]});
        let (drain, timeout) = one(controller.clone());
        assert_eq!(drain, said(15, "ingress-nginx's `--shutdown-grace-period`"));
        assert_eq!(
            timeout,
            said(240, "ingress-nginx's default `worker-shutdown-timeout`")
        );
        let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "ingress-nginx-controller", "namespace": "shop"},
            "data": {"worker-shutdown-timeout": "60s"}});
        let (_, timeout) = read(vec![deployment(controller), configmap]);
        assert_eq!(
            timeout,
            said(
                60,
                "ingress-nginx's `worker-shutdown-timeout` in ConfigMap `ingress-nginx-controller`"
            )
        );
    }

    #[test]
    fn knative_thanos_dskit_spring_and_apiserver_flags() {
        let image = |image: &str, args: Value| json!({"name": "c", "image": image, "args": args});
        let activator = image(
            "gcr.io/knative-releases/knative.dev/serving/cmd/activator@sha256:abc",
            json!([]),
        );
        assert_eq!(
            one(activator),
            (
                said(45, "Knative's default `network.DefaultDrainTimeout`"),
                None
            )
        );

        let thanos = image(
            "quay.io/thanos/thanos:v0.36.1",
            json!(["query", "--grpc-grace-period=3m"]),
        );
        assert_eq!(one(thanos).1, said(180, "Thanos's `--grpc-grace-period`"));
        let thanos = image("quay.io/thanos/thanos:v0.36.1", json!(["query"]));
        assert_eq!(
            one(thanos).1,
            said(120, "Thanos's default `--http-grace-period`")
        );

        let loki = image(
            "docker.io/grafana/loki:3.1.0",
            json!(["-config.file=/etc/loki.yaml", "-shutdown-delay=10s"]),
        );
        assert_eq!(
            one(loki),
            (
                said(10, "Loki's `-shutdown-delay`"),
                said(30, "Loki's default `-server.graceful-shutdown-timeout`")
            )
        );

        let spring = json!({"name": "c", "image": "example/orders:2",
            "env": [{"name": "JAVA_TOOL_OPTIONS", "value": "-Xmx512m -Dspring.lifecycle.timeout-per-shutdown-phase=20s"}]});
        assert_eq!(
            one(spring).1,
            said(
                20,
                "Spring Boot's `-Dspring.lifecycle.timeout-per-shutdown-phase` in env `JAVA_TOOL_OPTIONS`"
            )
        );

        let apiserver = image(
            "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0",
            json!(["--secure-port=6443", "--shutdown-delay-duration=10s"]),
        );
        assert_eq!(
            one(apiserver).0,
            said(10, "k8s.io/apiserver's `--shutdown-delay-duration`")
        );
    }

    #[test]
    fn kubelet_expansion_in_env_values_and_flags() {
        let app = json!({"name": "app", "image": "x",
            "env": [{"name": "BASE_TIMEOUT", "value": "25"},
                {"name": "SHUTDOWN_TIMEOUT", "value": "$(BASE_TIMEOUT)s"}]});
        assert_eq!(one(app).1, said(25, "env `SHUTDOWN_TIMEOUT`"));
        // A reference the input cannot resolve is not a malformed value.
        let secret = json!({"name": "app", "image": "x",
            "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "$(FROM_SECRET)"}]});
        assert_eq!(one(secret).1, None);
    }

    #[test]
    fn the_in_app_drain_annotation() {
        let mut d =
            deployment(json!({"name": "api", "image": "x", "ports": [{"containerPort": 80}]}));
        d["spec"]["template"]["metadata"]["annotations"] =
            json!({"rollsafe.dev/in-app-drain.api": "8s", "rollsafe.dev/shutdown-timeout": "20s"});
        let (drain, timeout) = read(vec![d]);
        assert_eq!(drain, said(8, "annotation `rollsafe.dev/in-app-drain.api`"));
        assert_eq!(timeout.map(|t| t.0), Some(20));
    }
}
