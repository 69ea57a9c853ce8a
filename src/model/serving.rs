//! Which containers serve traffic: the containers whose readiness, drain
//! delay and shutdown decide whether requests are dropped.
//!
//! A container serves traffic when a Service in the input sends it some: a
//! Service that selects the pod has a port whose target is one of the
//! container's ports (by number or name), or a target no container declares
//! (then every main container may be the one listening). With no Service in
//! the input (a single manifest in pre-commit), a declared port counts.
//!
//! Ports that only answer Prometheus, health checks or a profiler carry no
//! user traffic: a port named so (`metrics`, `http-metrics`, `healthz`,
//! `pprof`, … by its name or a `-`-separated part of it), the port the pod's
//! `prometheus.io/port` annotation names, every port of an image that
//! serves nothing else (an exporter, `kube-rbac-proxy` in front of metrics),
//! and the local port such a proxy fronts (`--upstream=http://127.0.0.1:8080/`).
//! A Service port named so does not make its target serve either; a named
//! Service port of any other name does (an app often serves its metrics on
//! its main port).

use k8s_openapi::api::core::v1::{ContainerPort, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::glob::image_matches;
use super::index::Index;
use super::workload::{ContainerRef, ContainerRole, Workload};

/// The pod annotation Prometheus scrapes a port by.
pub const PROMETHEUS_PORT_ANNOTATION: &str = "prometheus.io/port";

/// What tells serving ports from the others, borrowed from the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServingSettings<'a> {
    /// `nonServingPorts`: port names, or parts of a `-`-separated port name,
    /// of ports that carry no user traffic.
    pub port_names: &'a [String],
    /// `metricsOnlyImages`: globs of images that serve nothing but metrics.
    pub metrics_images: &'a [String],
}

/// Why a container serves traffic, or that it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Serving {
    No,
    /// No Service in the input selects the pod, and the container declares
    /// this port.
    DeclaredPort(i32),
    /// A Service that selects the pod targets this port of the container.
    Service {
        service: String,
        port: i32,
    },
    /// A Service that selects the pod targets a port no container declares:
    /// this main container may be the one listening.
    Untraced {
        service: String,
        target: String,
    },
}

impl Serving {
    pub fn serves(&self) -> bool {
        *self != Serving::No
    }

    /// The container port that serves, when one is known.
    pub fn port(&self) -> Option<i32> {
        match self {
            Serving::DeclaredPort(port) | Serving::Service { port, .. } => Some(*port),
            Serving::No | Serving::Untraced { .. } => None,
        }
    }
}

impl ServingSettings<'_> {
    /// Whether a port (of a container, or of a Service) is named as one that
    /// carries no user traffic.
    fn non_serving_name(&self, name: Option<&str>) -> bool {
        let Some(name) = name else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        self.port_names.iter().any(|listed| {
            let listed = listed.to_ascii_lowercase();
            name == listed || name.split('-').any(|part| part == listed)
        })
    }

    fn metrics_only(&self, c: &ContainerRef<'_>) -> bool {
        let image = c.container.image.as_deref().unwrap_or_default();
        self.metrics_images
            .iter()
            .any(|glob| image_matches(glob, image))
    }
}

impl Index {
    /// Whether and how `c` of `w` serves traffic (see the module docs).
    pub fn serving(
        &self,
        w: &Workload,
        c: &ContainerRef<'_>,
        settings: &ServingSettings<'_>,
    ) -> Serving {
        if settings.metrics_only(c) {
            return Serving::No;
        }
        let scraped = w
            .annotation(PROMETHEUS_PORT_ANNOTATION)
            .and_then(|(value, _)| value.trim().parse::<i32>().ok());
        let proxied = proxied_ports(w, settings);
        let carries = |p: &ContainerPort| {
            !settings.non_serving_name(p.name.as_deref())
                && Some(p.container_port) != scraped
                && !proxied.contains(&p.container_port)
        };
        let services: Vec<_> = self
            .services_selecting(w)
            .filter(|s| {
                s.typed
                    .spec
                    .as_ref()
                    .and_then(|spec| spec.ports.as_ref())
                    .is_some_and(|ports| !ports.is_empty())
            })
            .collect();
        if services.is_empty() {
            let declared = c.container.ports.iter().flatten().find(|p| carries(p));
            return declared.map_or(Serving::No, |p| Serving::DeclaredPort(p.container_port));
        }
        let mut untraced = None;
        for service in services {
            let ports = service.typed.spec.as_ref().and_then(|s| s.ports.as_ref());
            for port in ports.into_iter().flatten() {
                if settings.non_serving_name(port.name.as_deref()) {
                    continue;
                }
                let target = target_of(port);
                if let Some(p) = c
                    .container
                    .ports
                    .iter()
                    .flatten()
                    .find(|p| declares(p, &target))
                {
                    // A named Service port says what it carries; an unnamed
                    // one reaching a metrics port carries metrics.
                    if port.name.is_none() && !carries(p) {
                        continue;
                    }
                    return Serving::Service {
                        service: service.object.name.clone(),
                        port: p.container_port,
                    };
                }
                let traced = w.long_running_containers().any(|other| {
                    other
                        .container
                        .ports
                        .iter()
                        .flatten()
                        .any(|p| declares(p, &target))
                });
                if !traced && untraced.is_none() {
                    untraced = Some(Serving::Untraced {
                        service: service.object.name.clone(),
                        target: match &target {
                            IntOrString::Int(n) => n.to_string(),
                            IntOrString::String(name) => name.clone(),
                        },
                    });
                }
            }
        }
        match untraced {
            Some(serving) if c.role == ContainerRole::Main => serving,
            _ => Serving::No,
        }
    }

    /// Whether `c` of `w` serves traffic.
    pub fn serves_traffic(
        &self,
        w: &Workload,
        c: &ContainerRef<'_>,
        settings: &ServingSettings<'_>,
    ) -> bool {
        self.serving(w, c, settings).serves()
    }
}

/// [`metrics_upstreams`], found once per workload for the settings most
/// asked with (one policy per evaluation).
fn proxied_ports<'w>(
    w: &'w Workload,
    settings: &ServingSettings<'_>,
) -> std::borrow::Cow<'w, [i32]> {
    let (images, ports) = w.metrics_upstreams.get_or_init(|| {
        (
            settings.metrics_images.to_vec(),
            metrics_upstreams(w, settings),
        )
    });
    if images.as_slice() == settings.metrics_images {
        std::borrow::Cow::Borrowed(ports)
    } else {
        std::borrow::Cow::Owned(metrics_upstreams(w, settings))
    }
}

/// Ports that a metrics-only container of the pod (kube-rbac-proxy) fronts
/// with `--upstream=http://127.0.0.1:8080/`: what it proxies is metrics.
fn metrics_upstreams(w: &Workload, settings: &ServingSettings<'_>) -> Vec<i32> {
    w.long_running_containers()
        .filter(|c| settings.metrics_only(c))
        .flat_map(|c| {
            c.container
                .args
                .iter()
                .flatten()
                .chain(c.container.command.iter().flatten())
        })
        .filter_map(|arg| arg.strip_prefix("--upstream="))
        .filter_map(|url| {
            let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
            let host_port = rest.split('/').next()?;
            let (host, port) = host_port.rsplit_once(':')?;
            matches!(host, "127.0.0.1" | "localhost" | "[::1]")
                .then(|| port.parse().ok())
                .flatten()
        })
        .collect()
}

/// What a Service port sends traffic to: `targetPort`, or `port` when unset.
fn target_of(port: &ServicePort) -> IntOrString {
    port.target_port
        .clone()
        .unwrap_or(IntOrString::Int(port.port))
}

fn declares(p: &ContainerPort, target: &IntOrString) -> bool {
    match target {
        IntOrString::Int(n) => p.container_port == *n,
        IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TemplatePaths;
    use crate::source::Document;
    use serde_json::{Value, json};

    fn index(values: Vec<Value>) -> Index {
        let documents: Vec<Document> = values
            .into_iter()
            .map(|v| Document::detached("t", v))
            .collect();
        let (index, errors) = Index::build(&documents, &TemplatePaths::new());
        assert!(errors.is_empty());
        index
    }

    fn deployment(containers: Value, annotations: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": annotations},
                "spec": {"containers": containers}}}})
    }

    fn service(ports: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"app": "web"}, "ports": ports}})
    }

    fn names() -> Vec<String> {
        ["metrics", "health", "admin"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    fn servings(index: &Index, images: &[String]) -> Vec<Serving> {
        let names = names();
        let settings = ServingSettings {
            port_names: &names,
            metrics_images: images,
        };
        let w = &index.workloads[0];
        w.containers()
            .map(|c| index.serving(w, &c, &settings))
            .collect()
    }

    #[test]
    fn without_a_service_a_declared_port_serves_unless_it_carries_metrics() {
        let containers = json!([
            {"name": "app", "ports": [{"containerPort": 8080}]},
            {"name": "exporter", "ports": [{"name": "http-metrics", "containerPort": 9102}]},
            {"name": "scraped", "ports": [{"containerPort": 9200}]},
            {"name": "logger"}
        ]);
        let index = index(vec![deployment(
            containers,
            json!({"prometheus.io/port": "9200"}),
        )]);
        assert_eq!(
            servings(&index, &[]),
            [
                Serving::DeclaredPort(8080),
                Serving::No,
                Serving::No,
                Serving::No
            ]
        );
        let images = vec!["*kube-rbac-proxy".to_owned()];
        let proxied = index_with_image("quay.io/brancz/kube-rbac-proxy:v0.18.1");
        assert_eq!(servings(&proxied, &images), [Serving::No]);
    }

    fn index_with_image(image: &str) -> Index {
        index(vec![deployment(
            json!([{"name": "proxy", "image": image, "ports": [{"name": "https", "containerPort": 8443}]}]),
            json!({}),
        )])
    }

    #[test]
    fn a_service_decides_which_container_serves() {
        let containers = json!([
            {"name": "app", "ports": [{"name": "http", "containerPort": 8080}]},
            {"name": "logger", "ports": [{"containerPort": 24224}]},
            {"name": "sidecar", "ports": [{"name": "metrics", "containerPort": 9090}]}
        ]);
        let index = index(vec![
            deployment(containers, json!({})),
            service(json!([{"name": "web", "port": 80, "targetPort": "http"},
                {"name": "metrics", "port": 9090, "targetPort": 9090}])),
        ]);
        assert_eq!(
            servings(&index, &[]),
            [
                Serving::Service {
                    service: "web".to_owned(),
                    port: 8080
                },
                Serving::No,
                Serving::No
            ]
        );
    }

    #[test]
    fn an_untraceable_target_makes_every_main_container_serve() {
        let index = index(vec![
            deployment(json!([{"name": "a"}, {"name": "b"}]), json!({})),
            service(json!([{"port": 80, "targetPort": 9000}])),
        ]);
        let untraced = Serving::Untraced {
            service: "web".to_owned(),
            target: "9000".to_owned(),
        };
        assert_eq!(servings(&index, &[]), [untraced.clone(), untraced]);
    }
}
