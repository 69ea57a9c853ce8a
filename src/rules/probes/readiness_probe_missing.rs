use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a container that serves traffic but has no `readinessProbe`.
    ///
    /// ## Why it matters
    /// Without a readiness probe a pod joins its Service's endpoints as soon as
    /// its containers start, before the application listens: during every
    /// rollout, scale-up and restart, requests reach a process that refuses
    /// them. The rolling update also counts such a pod as available at once,
    /// so old pods are removed before the new ones can serve.
    ///
    /// A container serves traffic when it declares a `containerPort`, or when
    /// a Service in the input selects the pod (and its target port cannot be
    /// traced to another container). Jobs and CronJobs are not checked.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.4
    ///     ports:
    ///       - containerPort: 8080
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.4
    ///     ports:
    ///       - containerPort: 8080
    ///     readinessProbe:
    ///       httpGet:
    ///         path: /ready
    ///         port: 8080
    /// ```
    pub struct ReadinessProbeMissing {
        id: "readiness-probe-missing",
        family: Probes,
        scope: Object,
        fix: None,
        settings: [],
    }
}

impl Rule for ReadinessProbeMissing {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let low_harm = !replacement_overlaps(w, cx);
        for c in probed_containers(w) {
            if c.container.readiness_probe.is_some() {
                continue;
            }
            let serving = cx.index.serving(w, &c, &cx.settings.serving());
            let Some((message, help)) = phrase(c.name(), &serving) else {
                continue;
            };
            let violation = Violation::new(c.pointer(), message, help).in_container(c.name());
            out.push(if low_harm {
                violation.at_most(Severity::Warning)
            } else {
                violation
            });
        }
    }

    fn cel(&self, settings: &Settings, _kubernetes: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let ok = format!("has(c.readinessProbe) || !({})", serves(settings));
        let check = per_container(
            &ok,
            "'container `' + c.name + '` serves traffic but has no readinessProbe'",
        );
        // Where no other pod serves while one is replaced, a missing probe
        // harms less: the rule reports it as a warning at most.
        let overlaps = crate::rules::cel::replacement_overlaps();
        Ok(vec![
            RuleCel {
                condition: Some(overlaps.clone()),
                ..RuleCel::new(LONG_RUNNING_KINDS, vec![check.clone()])
            },
            RuleCel {
                variant: Some("single-pod"),
                condition: Some(format!("!({overlaps})")),
                at_most: Some(Severity::Warning),
                ..RuleCel::new(LONG_RUNNING_KINDS, vec![check])
            },
        ])
    }
}

/// The finding's message and help, or `None` when the container serves no
/// traffic.
fn phrase(name: &str, serving: &Serving) -> Option<(String, String)> {
    let phrased = match serving {
        Serving::No => return None,
        Serving::DeclaredPort(port) | Serving::Service { port, .. } => (
            format!("container `{name}` serves port `{port}` but has no readinessProbe"),
            format!(
                "add a readinessProbe that succeeds only once the app accepts requests, e.g. `httpGet` or `tcpSocket` on port `{port}`"
            ),
        ),
        Serving::Untraced { service, target } => (
            format!(
                "container `{name}` has no readinessProbe, and Service `{service}` sends the pod traffic on port `{target}`, which no container declares"
            ),
            format!(
                "add a readinessProbe that succeeds only once the app accepts requests, or declare port `{target}` on the container that serves it"
            ),
        ),
    };
    Some(phrased)
}
