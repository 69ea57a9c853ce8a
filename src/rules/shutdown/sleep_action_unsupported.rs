use super::*;

declare_rule! {
    /// ## What it does
    /// Flags a `sleep` lifecycle action (`preStop` or `postStart`) that the
    /// policy's Kubernetes version (`kubernetesVersion`, or
    /// `--kubernetes-version`) does not accept: the action itself below 1.30,
    /// where it is alpha and off by default, or `sleep.seconds: 0` below 1.33.
    ///
    /// ## Why it matters
    /// Below 1.30 the `sleep` action is off by default (alpha in 1.29,
    /// unknown before): the API server drops it from the object it stores,
    /// or refuses the object when the client asks for strict field
    /// validation. Dropped, the container runs without the hook and nothing
    /// says so: a `preStop` sleep that silently disappears is a drain delay
    /// that is not there, and every shutdown sends SIGTERM while endpoints
    /// still route requests to the pod.
    ///
    /// `seconds: 0` below 1.33 fails validation: the object is refused (a
    /// Deployment's pod template is validated like a pod), so `kubectl
    /// apply` fails, a GitOps sync stays red, a Helm upgrade aborts.
    ///
    /// ## Example
    /// ```yaml
    /// # kubernetesVersion: "1.29"
    /// lifecycle:
    ///   preStop:
    ///     sleep:
    ///       seconds: 5
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// lifecycle:
    ///   preStop:
    ///     exec:
    ///       command: ["sleep", "5"]
    /// ```
    ///
    /// ## Settings
    /// - `minDrainDelay`: the delay suggested in place of a `preStop` sleep of
    ///   zero seconds.
    pub struct SleepActionUnsupported {
        id: "sleep-action-unsupported",
        family: Shutdown,
        scope: Object,
        fix: None,
        settings: ["minDrainDelay"],
    }
}

impl Rule for SleepActionUnsupported {
    fn check_workload(&self, w: &Workload, cx: &Context<'_>, out: &mut Vec<Violation>) {
        let version = cx.kubernetes;
        let min = cx.settings.min_drain_delay.ceil_secs().max(1);
        for c in w.containers() {
            let Some(lifecycle) = &c.container.lifecycle else {
                continue;
            };
            let hooks = [
                ("preStop", lifecycle.pre_stop.as_ref()),
                ("postStart", lifecycle.post_start.as_ref()),
            ];
            for (hook, handler) in hooks {
                let Some(sleep) = handler.and_then(|h| h.sleep.as_ref()) else {
                    continue;
                };
                let seconds = sleep.seconds;
                let pointer = c.field(&["lifecycle", hook, "sleep"]);
                let (message, help) = if version < KubeVersion::SLEEP_ACTION {
                    let shelless = shelless_image(cx, &c);
                    let help = match shelless {
                        Some(glob) => format!(
                            "the image matches `{glob}` and has no `sleep` for an exec hook: remove the hook and have the app wait `{}s` itself, or set the policy's `kubernetesVersion` if every target cluster runs 1.30 or later",
                            seconds.max(1)
                        ),
                        None => format!(
                            "use an exec hook instead, `exec: {{command: [\"sleep\", \"{}\"]}}`, or set the policy's `kubernetesVersion` if every target cluster runs 1.30 or later",
                            seconds.max(1)
                        ),
                    };
                    let left = if hook == "preStop" {
                        "a drain delay"
                    } else {
                        "its postStart hook"
                    };
                    (
                        format!(
                            "the {hook} `sleep` action needs Kubernetes {} and the policy targets `{version}`: the API server drops or refuses it, and container `{}` is left without {left}",
                            KubeVersion::SLEEP_ACTION,
                            c.name()
                        ),
                        help,
                    )
                } else if seconds == 0 && version < KubeVersion::SLEEP_ZERO {
                    let help = if hook == "preStop" {
                        format!("set `seconds: {min}` to cover endpoint propagation")
                    } else {
                        "remove the postStart hook: a zero sleep does nothing".to_owned()
                    };
                    (
                        format!(
                            "{hook} `sleep.seconds: 0` needs Kubernetes {} and the policy targets `{version}`: the API server refuses the object",
                            KubeVersion::SLEEP_ZERO
                        ),
                        help,
                    )
                } else {
                    continue;
                };
                out.push(Violation::new(pointer, message, help).in_container(c.name()));
            }
        }
    }

    fn cel(&self, _settings: &Settings, version: KubeVersion) -> Result<Vec<RuleCel>, String> {
        let hooks = ["preStop", "postStart"];
        let (ok, message): (Vec<String>, Vec<String>) = if version < KubeVersion::SLEEP_ACTION {
            hooks
                .iter()
                .map(|h| {
                    (
                        format!("!(has(c.lifecycle) && has(c.lifecycle.{h}) && has(c.lifecycle.{h}.sleep))"),
                        format!(
                            "'the {h} `sleep` action needs Kubernetes {} and the policy targets `{version}`: container `' + c.name + '` (lifecycle.{h}.sleep)'",
                            KubeVersion::SLEEP_ACTION
                        ),
                    )
                })
                .unzip()
        } else if version < KubeVersion::SLEEP_ZERO {
            hooks
                .iter()
                .map(|h| {
                    (
                        format!(
                            "!(has(c.lifecycle) && has(c.lifecycle.{h}) && has(c.lifecycle.{h}.sleep) && \
                             (!has(c.lifecycle.{h}.sleep.seconds) || c.lifecycle.{h}.sleep.seconds == 0))"
                        ),
                        format!(
                            "'{h} `sleep.seconds: 0` needs Kubernetes {} and the policy targets `{version}`: container `' + c.name + '` (lifecycle.{h}.sleep.seconds)'",
                            KubeVersion::SLEEP_ZERO
                        ),
                    )
                })
                .unzip()
        } else {
            return Err(format!(
                "cannot fire on Kubernetes {version}: the `sleep` action and `seconds: 0` are both accepted"
            ));
        };
        let checks = ok
            .iter()
            .zip(&message)
            .map(|(ok, message)| Check {
                expression: format!("variables.allContainers.all(c, {ok})"),
                message: first_failing("variables.allContainers", ok, message),
            })
            .collect();
        Ok(vec![RuleCel::new(ALL_KINDS, checks)])
    }
}
