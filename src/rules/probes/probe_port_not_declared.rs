use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a probe whose `httpGet` or `tcpSocket` port is a name the
    /// container does not declare among its own `ports`, or a number written
    /// as a string.
    ///
    /// ## Why it matters
    /// The kubelet resolves a named probe port against the probed container's
    /// own `ports[].name` (a port declared by another container of the pod
    /// does not count). When no port has that name the probe errors on every
    /// run and its result is thrown away, so the probe never passes:
    ///
    /// - a readiness probe keeps the pod out of its Service's endpoints
    ///   forever, and the rollout stalls;
    /// - a startup probe never lets the container count as started, so it
    ///   never becomes ready either;
    /// - a liveness probe never fails, so a hung process is never restarted:
    ///   the safeguard is silently absent.
    ///
    /// A quoted number such as `"8080"` is a port *name* to the API server,
    /// which rejects it (a port name must contain a letter).
    ///
    /// A numeric port needs no declaration: the kubelet probes any port.
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    ///   - name: http
    ///     containerPort: 8080
    /// readinessProbe:
    ///   httpGet: {path: /ready, port: web}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// ports:
    ///   - name: http
    ///     containerPort: 8080
    /// readinessProbe:
    ///   httpGet: {path: /ready, port: http}
    /// ```
    pub struct ProbePortNotDeclared {
        id: "probe-port-not-declared",
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for ProbePortNotDeclared {
    fn check_workload(&self, w: &Workload, _cx: &Context<'_>, out: &mut Vec<Violation>) {
        for c in probed_containers(w) {
            for (field, probe) in probes(c.container) {
                let ports = [
                    ("httpGet", probe.http_get.as_ref().map(|h| &h.port)),
                    ("tcpSocket", probe.tcp_socket.as_ref().map(|t| &t.port)),
                ];
                for (handler, port) in ports {
                    let Some(IntOrString::String(name)) = port else {
                        continue;
                    };
                    if declares_port_name(c.container, name) {
                        continue;
                    }
                    let pointer = c.field(&[field, handler, "port"]);
                    let violation = if let Some(number) = quoted_number(name) {
                        Violation::new(
                            pointer,
                            format!(
                                "{field} port `\"{name}\"` of container `{}` is a quoted number: the API server reads it as a port name and rejects it",
                                c.name()
                            ),
                            format!("write the port as a number: `port: {number}`"),
                        )
                    } else {
                        Violation::new(
                            pointer,
                            format!(
                                "{field} uses port `{name}`, which container `{}` does not declare: {}",
                                c.name(),
                                consequence(field)
                            ),
                            declared_names_help(w, &c, name),
                        )
                    };
                    out.push(violation.in_container(c.name()));
                }
            }
        }
    }

    fn cel(&self, _settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        Ok(vec![RuleCel::new(LONG_RUNNING_KINDS, cel::probe_ports())])
    }
}
