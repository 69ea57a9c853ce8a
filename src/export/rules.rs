//! Each exportable rule as CEL: the same verdict on one object as the rule's
//! Rust code reaches when the webhook judges that object alone (no Service,
//! HorizontalPodAutoscaler or PersistentVolumeClaim beside it).
//!
//! A rule is exported only where the CEL says exactly what the Rust says;
//! the others get the reason they are not (see [`not_exported`]). The tests
//! evaluate every expression here over every fixture and the corpus and
//! require the engine's verdict, rule by rule and object by object.

use crate::model::{KubeVersion, WorkloadKind};
use crate::policy::Policy;
use crate::severity::Severity;

use super::cel::{LONG_RUNNING_KINDS, ROLLOUT_KINDS, image_matches_any, lit, lit_list};

/// One validation of an exported rule: a CEL expression that is `false`
/// when the rule reports the object, and the message saying where.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub expression: String,
    pub message: String,
}

/// A rule as CEL, or part of one: the kinds it reads, an extra match
/// condition, and the most severe its findings are there.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCel {
    /// Suffix of the policy's name when a rule is exported as several.
    pub variant: Option<&'static str>,
    pub kinds: &'static [WorkloadKind],
    /// A condition the object must meet for this part to judge it.
    pub condition: Option<String>,
    pub checks: Vec<Check>,
    /// The rule caps its findings' severity there (see
    /// `crate::rules::Violation::at_most`).
    pub at_most: Option<Severity>,
}

impl RuleCel {
    fn new(kinds: &'static [WorkloadKind], checks: Vec<Check>) -> Self {
        RuleCel {
            variant: None,
            kinds,
            condition: None,
            checks,
            at_most: None,
        }
    }
}

/// The rule `id` as CEL under `policy`, or why it cannot be.
pub fn rule_cel(id: &str, policy: &Policy) -> Result<Vec<RuleCel>, String> {
    let s = &policy.settings;
    let version = policy.kubernetes_version;
    let parts = match id {
        "liveness-probe-missing" => vec![RuleCel::new(
            LONG_RUNNING_KINDS,
            vec![per_container(
                "has(c.livenessProbe)",
                "'container `' + c.name + '` has no livenessProbe'",
            )],
        )],
        "startup-probe-missing" => {
            let slow = s.slow_start_seconds;
            vec![RuleCel::new(
                LONG_RUNNING_KINDS,
                vec![per_container(
                    &format!(
                        "!has(c.livenessProbe) || has(c.startupProbe) || \
                         (has(c.livenessProbe.initialDelaySeconds) ? c.livenessProbe.initialDelaySeconds : 0) < {slow}"
                    ),
                    &format!(
                        "'container `' + c.name + '` starts slowly (liveness waits `' + \
                         string(has(c.livenessProbe.initialDelaySeconds) ? c.livenessProbe.initialDelaySeconds : 0) + \
                         's` before its first check, threshold `{slow}s`) but has no startupProbe'"
                    ),
                )],
            )]
        }
        "probe-port-not-declared" => vec![RuleCel::new(LONG_RUNNING_KINDS, probe_ports())],
        "liveness-equals-readiness" => vec![RuleCel::new(
            LONG_RUNNING_KINDS,
            vec![per_container(
                &format!(
                    "!(has(c.livenessProbe) && has(c.readinessProbe)) || !({}) || !({})",
                    identical("c.livenessProbe", "c.readinessProbe"),
                    window_valid("c.livenessProbe")
                ),
                "'container `' + c.name + '` has identical liveness and readiness probes: \
                 overload restarts the pod instead of taking it out of rotation (livenessProbe)'",
            )],
        )],
        "liveness-restarts-before-unready" => {
            let equal_too = s.flag_equal_probe_windows;
            let judged = |serving: &str| {
                let (live, ready) = ("c.livenessProbe", "c.readinessProbe");
                let compare = if equal_too { "<=" } else { "<" };
                format!(
                    "!(has({live}) && has({ready})) || ({}) || ({}) || !({}) || !({}) || \
                     !({} {compare} {}){serving}",
                    identical(live, ready),
                    never_fails(ready),
                    window_valid(live),
                    window_valid(ready),
                    window(live),
                    window(ready),
                )
            };
            let message = format!(
                "'liveness restarts container `' + c.name + '` after `' + string({}) + \
                 's` of failures, before readiness takes it out of the Service\\'s endpoints at `' + \
                 string({}) + 's` (livenessProbe)'",
                window("c.livenessProbe"),
                window("c.readinessProbe")
            );
            // A native sidecar (a mesh proxy) carries the pod's requests
            // whatever its ports say; a main container only when it serves.
            let serves = serves(s);
            vec![RuleCel::new(
                LONG_RUNNING_KINDS,
                vec![
                    Check {
                        expression: format!("variables.sidecars.all(c, {})", judged("")),
                        message: first_failing("variables.sidecars", &judged(""), &message),
                    },
                    Check {
                        expression: format!(
                            "variables.podSpec.containers.all(c, {})",
                            judged(&format!(" || !({serves})"))
                        ),
                        message: first_failing(
                            "variables.podSpec.containers",
                            &judged(&format!(" || !({serves})")),
                            &message,
                        ),
                    },
                ],
            )]
        }
        "readiness-probe-missing" => {
            let ok = format!("has(c.readinessProbe) || !({})", serves(s));
            let check = per_container(
                &ok,
                "'container `' + c.name + '` serves traffic but has no readinessProbe'",
            );
            // Where no other pod serves while one is replaced, a missing
            // probe harms less: the rule reports it as a warning at most.
            let overlaps = replacement_overlaps();
            vec![
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
            ]
        }
        "min-ready-seconds-zero" => vec![RuleCel::new(
            ROLLOUT_KINDS,
            vec![Check {
                expression: format!(
                    "{recreate} || {on_delete} || (has(object.spec.minReadySeconds) && object.spec.minReadySeconds > 0)",
                    recreate = DEPLOYMENT_RECREATE,
                    on_delete = UPDATE_ON_DELETE,
                ),
                message: "'`minReadySeconds` is ' + (has(object.spec.minReadySeconds) ? \
                          '`' + string(object.spec.minReadySeconds) + '`' : 'unset (default `0`)') + \
                          ': a new pod counts as available on its first successful readiness probe, \
                          so one that crashes right after still advances the rollout (spec.minReadySeconds)'"
                    .to_owned(),
            }],
        )],
        "rollout-recreate-strategy" => {
            let serves = serves(s);
            vec![RuleCel::new(
                ROLLOUT_KINDS,
                vec![Check {
                    // A claim the input does not show may be ReadWriteOnce,
                    // which needs the old pod gone first: not reported.
                    expression: format!(
                        "!variables.containers.exists(c, {serves}) || \
                         !(({DEPLOYMENT_RECREATE} && !(has(variables.podSpec.volumes) && \
                         variables.podSpec.volumes.exists(v, has(v.persistentVolumeClaim)))) || {UPDATE_ON_DELETE})"
                    ),
                    message: format!(
                        "{DEPLOYMENT_RECREATE} ? '`strategy.type: Recreate` stops every pod before starting new ones: \
                         each rollout is an outage (spec.strategy.type)' : '`updateStrategy.type: OnDelete` never \
                         replaces a running pod: a changed template reaches this ' + object.kind + '\\'s pods only \
                         when someone deletes them (spec.updateStrategy.type)'"
                    ),
                }],
            )]
        }
        "sleep-action-unsupported" => sleep_action(version)?,
        "rollout-zero-availability" => vec![RuleCel::new(
            ROLLOUT_KINDS,
            super::rollout::zero_availability(version),
        )],
        "rollout-low-availability" => vec![RuleCel::new(
            ROLLOUT_KINDS,
            super::rollout::low_availability(version, s.min_available_ratio),
        )],
        "rollout-anti-affinity-deadlock" => vec![RuleCel::new(
            &[WorkloadKind::Deployment, WorkloadKind::DaemonSet],
            super::rollout::anti_affinity_deadlock(version),
        )],
        other => return Err(not_exported(other)),
    };
    Ok(parts)
}

/// Why a rule is not exported.
pub fn not_exported(id: &str) -> String {
    let why = match id {
        "single-replica" | "pdb-missing" | "pdb-blocks-eviction" | "hpa-replicas-conflict" => {
            "reads other objects (PodDisruptionBudgets, HorizontalPodAutoscalers, Services): an admission request carries one"
        }
        "unknown-field" | "invalid-field-value" => {
            "the API server checks its own schemas before any admission policy runs"
        }
        "prestop-hook-missing"
        | "prestop-sleep-too-short"
        | "prestop-exec-without-shell"
        | "grace-period-too-short"
        | "prestop-exceeds-grace-period"
        | "shutdown-timeout-unknown"
        | "grace-period-excessive" => {
            "reads the pod's shutdown as rollsafe models it: shell parsing of exec hooks, shutdown timeouts from flags, env and ConfigMaps, which CEL cannot express exactly"
        }
        "rollout-invalid-strategy" => {
            "what it reports the API server's own validation rejects, after mutating and before validating admission: a validating policy would never see it"
        }
        _ => "not yet written in CEL",
    };
    why.to_owned()
}

/// `type: Recreate` of a Deployment.
const DEPLOYMENT_RECREATE: &str = "(object.kind == 'Deployment' && has(object.spec.strategy) && \
    has(object.spec.strategy.type) && object.spec.strategy.type == 'Recreate')";

/// `updateStrategy.type: OnDelete` of a StatefulSet or DaemonSet.
const UPDATE_ON_DELETE: &str = "(object.kind != 'Deployment' && has(object.spec.updateStrategy) && \
    has(object.spec.updateStrategy.type) && object.spec.updateStrategy.type == 'OnDelete')";

/// A check that holds for every container of `variables.containers` (native
/// sidecars, then main containers), naming the first that fails.
fn per_container(ok: &str, message: &str) -> Check {
    Check {
        expression: format!("variables.containers.all(c, {ok})"),
        message: first_failing("variables.containers", ok, message),
    }
}

/// A message about the first element of `list` for which `ok` fails.
fn first_failing(list: &str, ok: &str, message: &str) -> String {
    // `exists_one`-free and bounded: the filter walks the list once more,
    // and only when the validation has failed.
    format!("{list}.filter(c, !({ok})).map(c, {message})[0]")
}

/// The rule checks every probe's `httpGet` and `tcpSocket` port.
fn probe_ports() -> Vec<Check> {
    let mut checks = Vec::new();
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        for handler in ["httpGet", "tcpSocket"] {
            let port = format!("c.{probe}.{handler}.port");
            let ok = format!(
                "!(has(c.{probe}) && has(c.{probe}.{handler}) && type({port}) == string) || \
                 (has(c.ports) && c.ports.exists(p, has(p.name) && p.name == {port}))"
            );
            let message = format!(
                "'{probe} uses port `' + {port} + '`, which container `' + c.name + \
                 '` does not declare (a quoted number is a port name to the API server) ({probe}.{handler}.port)'"
            );
            checks.push(per_container(&ok, &message));
        }
    }
    checks
}

/// A probe's integer field as the API server stores it: absent and `0`
/// take the default.
fn defaulted(probe: &str, field: &str, default: i64) -> String {
    format!("(has({probe}.{field}) && {probe}.{field} != 0 ? {probe}.{field} : {default})")
}

fn window(probe: &str) -> String {
    format!(
        "{} * {}",
        defaulted(probe, "periodSeconds", 10),
        defaulted(probe, "failureThreshold", 3)
    )
}

fn window_valid(probe: &str) -> String {
    format!(
        "{} > 0 && {} > 0",
        defaulted(probe, "periodSeconds", 10),
        defaulted(probe, "failureThreshold", 3)
    )
}

/// Two probes of container `c` are the same once API defaults are applied
/// and named ports resolved (`crate::rules::probes::identical`).
fn identical(a: &str, b: &str) -> String {
    let mut parts = Vec::new();
    for (field, default) in [
        ("initialDelaySeconds", 0),
        ("periodSeconds", 10),
        ("timeoutSeconds", 1),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ] {
        parts.push(format!(
            "{} == {}",
            defaulted(a, field, default),
            defaulted(b, field, default)
        ));
    }
    let same_handler = |handler: &str, same: &dyn Fn(&str, &str) -> String| {
        let (x, y) = (format!("{a}.{handler}"), format!("{b}.{handler}"));
        format!(
            "has({a}.{handler}) == has({b}.{handler}) && (!has({a}.{handler}) || ({}))",
            same(&x, &y)
        )
    };
    parts.push(same_handler("exec", &|x, y| {
        format!("(has({x}.command) ? {x}.command : []) == (has({y}.command) ? {y}.command : [])")
    }));
    parts.push(same_handler("httpGet", &|x, y| {
        let text = |h: &str, field: &str, default: &str| {
            format!("(has({h}.{field}) && {h}.{field} != '' ? {h}.{field} : {default})")
        };
        [
            format!("{} == {}", text(x, "scheme", "'HTTP'"), text(y, "scheme", "'HTTP'")),
            format!("{} == {}", text(x, "path", "'/'"), text(y, "path", "'/'")),
            format!("{} == {}", text(x, "host", "''"), text(y, "host", "''")),
            format!(
                "(has({x}.httpHeaders) ? {x}.httpHeaders : []) == (has({y}.httpHeaders) ? {y}.httpHeaders : [])"
            ),
            format!("{} == {}", resolved_port(x), resolved_port(y)),
        ]
        .join(" && ")
    }));
    parts.push(same_handler("tcpSocket", &|x, y| {
        let host = |h: &str| format!("(has({h}.host) ? {h}.host : '')");
        format!(
            "{} == {} && {} == {}",
            host(x),
            host(y),
            resolved_port(x),
            resolved_port(y)
        )
    }));
    parts.push(same_handler("grpc", &|x, y| {
        let service = |g: &str| format!("(has({g}.service) ? {g}.service : '')");
        format!("{x}.port == {y}.port && {} == {}", service(x), service(y))
    }));
    parts.join(" && ")
}

/// A probe handler's port as the kubelet resolves it against container
/// `c`'s own ports, as text (`n:8080` a number, `s:web` a name it lacks).
fn resolved_port(handler: &str) -> String {
    let port = format!("{handler}.port");
    let named = format!("has(p.name) && p.name == {port}");
    format!(
        "(type({port}) == string ? ((has(c.ports) && c.ports.exists(p, {named})) ? \
         'n:' + string(c.ports.filter(p, {named})[0].containerPort) : 's:' + {port}) : 'n:' + string({port}))"
    )
}

/// A readiness probe that cannot fail (`crate::rules::probes::never_fails`).
fn never_fails(probe: &str) -> String {
    let argv = format!("{probe}.exec.command");
    let program = |word: &str| format!("{word}.substring({word}.lastIndexOf('/') + 1)");
    let shells = lit_list(&["sh", "bash", "ash", "dash", "zsh"]);
    let always = lit_list(&["true", ":", "exit 0", "/bin/true"]);
    format!(
        "has({probe}.exec) && has({argv}) && (\
         (size({argv}) == 3 && {shell} in {shells} && {argv}[1] == '-c' && {argv}[2].trim() in {always}) || \
         (size({argv}) == 1 && {single} in {always}))",
        shell = program(&format!("{argv}[0]")),
        single = program(&format!("{argv}[0]")),
    )
}

/// The variables [`serves`] reads, computed once per object: the names of
/// the containers whose image serves nothing but metrics, the port
/// Prometheus scrapes (a list of none or one), and the local ports metrics
/// proxies front (a list per proxy).
pub(super) fn serving_variables(s: &crate::rules::Settings) -> Vec<(&'static str, String)> {
    let metrics_only = image_matches_any("(has(c.image) ? c.image : '')", &s.metrics_only_images);
    let number = "'^[+-]?[0-9]{1,18}$'";
    let key = lit(crate::model::serving::PROMETHEUS_PORT_ANNOTATION);
    // The first annotation found decides, as `Workload::annotation` reads it.
    let scraped = format!(
        "[variables.podMetas.filter(m, has(m.annotations) && {key} in m.annotations)\
         .map(m, m.annotations[{key}].trim())].map(l, size(l) > 0 && l[0].matches({number}) ? \
         [int(l[0])] : [])[0]"
    );
    // After `--upstream=` and up to the first `://`, the host and port up
    // to the first `/`: the host is split off at the last `:`.
    let rest = "[a.substring(11)].map(url, url.indexOf('://') >= 0 ? \
         url.substring(url.indexOf('://') + 3) : url)[0]";
    let local = lit(r"(?s)^(127\.0\.0\.1|localhost|\[::1\]):[+-]?[0-9]{1,18}(/.*)?$");
    let port = "[r.split('/')[0]].map(hp, int(hp.substring(hp.lastIndexOf(':') + 1)))[0]";
    // Each metrics proxy's `--upstream=` arguments first, so that only they
    // are parsed.
    let upstreams = "variables.containers.filter(c, c.name in variables.metricsOnly)\
         .map(c, ((has(c.args) ? c.args : []) + (has(c.command) ? c.command : []))\
         .filter(a, a.startsWith('--upstream=')))";
    let proxied = format!(
        "variables.upstreams.map(l, l.map(a, {rest}).filter(r, r.matches({local})).map(r, {port}))"
    );
    vec![
        (
            "metricsOnly",
            format!("variables.containers.filter(c, {metrics_only}).map(c, c.name)"),
        ),
        ("scrapedPort", scraped),
        ("upstreams", upstreams.to_owned()),
        ("proxiedPorts", proxied),
    ]
}

/// Whether container `c` serves traffic when no Service is in sight
/// (`crate::model::serving`): it declares a port that carries user traffic
/// (not named as metrics or health, not the one Prometheus scrapes, not the
/// local upstream of a metrics proxy), and its image serves more than
/// metrics.
pub(super) fn serves(s: &crate::rules::Settings) -> String {
    let names: Vec<String> = s
        .non_serving_ports
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let names = lit_list(&names);
    format!(
        "!(c.name in variables.metricsOnly) && has(c.ports) && c.ports.exists(p, \
         !(has(p.name) && [p.name.lowerAscii()].exists(n, n in {names} || n.split('-').exists(part, part in {names}))) && \
         !(p.containerPort in variables.scrapedPort) && \
         !variables.proxiedPorts.exists(l, p.containerPort in l))"
    )
}

/// Whether other pods serve while one of the workload's is replaced
/// (`crate::rules::replacement_overlaps`), for an object judged alone: not
/// a Pod; a DaemonSet always; else two replicas or more, or one that a
/// rolling update surges past.
pub(super) fn replacement_overlaps() -> String {
    let strategy = "object.spec.strategy";
    let rolling = format!("{strategy}.rollingUpdate");
    let field = |name: &str| format!("has({strategy}) && has({rolling}) && has({rolling}.{name})");
    // Both fields must resolve for the rollout to be read at all.
    let percent = "'^[+-]?[0-9]{1,18}%$'";
    let type_rolling = format!(
        "(!has({strategy}) || !has({strategy}.type) || {strategy}.type == '' || \
         {strategy}.type == 'RollingUpdate')"
    );
    let unavailable = format!(
        "(!({}) || [{rolling}.maxUnavailable].all(u, type(u) == int || u.matches({percent})))",
        field("maxUnavailable")
    );
    // maxSurge rounds up: the default 25% and any percentage from 1% make
    // one pod at one replica, none at zero.
    let surge = format!(
        "(({}) ? [{rolling}.maxSurge].all(s, type(s) == int ? s >= 1 : \
         (s.matches({percent}) && r == 1 && int(s.substring(0, size(s) - 1)) >= 1)) : r == 1)",
        field("maxSurge")
    );
    format!(
        "object.kind != 'Pod' && (object.kind == 'DaemonSet' || \
         [has(object.spec.replicas) ? object.spec.replicas : 1].all(r, r >= 2 || r < 0 || \
         (object.kind == 'Deployment' && {type_rolling} && {unavailable} && {surge})))"
    )
}

/// `sleep-action-unsupported` at the policy's Kubernetes version: the
/// version is baked in, so only the check that can fire there is written.
fn sleep_action(version: KubeVersion) -> Result<Vec<RuleCel>, String> {
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
    Ok(vec![RuleCel::new(super::cel::ALL_KINDS, checks)])
}
