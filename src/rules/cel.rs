//! CEL forms of the rules: the vocabulary they share, for `rollsafe export`.
//!
//! A rule that can state its verdict on one object in CEL says so beside its
//! Rust ([`crate::rules::Rule::cel`]), with the same verdict the webhook
//! reaches when it judges that object alone (no Service, HorizontalPodAutoscaler
//! or PersistentVolumeClaim beside it).
//!
//! Every expression stays in the subset that Kubernetes' CEL (cel-go with
//! the `strings` extension) and cel-rust both run: no `optional` syntax
//! (`a.?b`), no `cel.bind`, no two-variable comprehensions. A value that may
//! be absent is tested with `has()` level by level, and a value computed once
//! and used twice is bound with a one-element list (`[x].map(v, …)[0]`),
//! which costs one iteration.

use crate::model::{KnownKind, WorkloadKind};
use crate::severity::Severity;

use super::{Family, RuleInfo, Scope, Settings};

/// A CEL string literal.
pub fn lit(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A CEL list of string literals.
pub fn lit_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| lit(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// The RE2 (and Rust `regex`) pattern of a rollsafe glob: `*` any run of
/// characters, `?` one character, anything else itself.
pub fn glob_regex(glob: &str) -> String {
    let mut out = String::from("^");
    for c in glob.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '/' => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out.push('$');
    out
}

/// Whether `image` (a CEL string) matches one of the image globs, as
/// `crate::model::glob::image_matches` reads an image: whole, without its
/// digest, or without its tag.
pub fn image_matches_any(image: &str, globs: &[String]) -> String {
    if globs.is_empty() {
        return "false".to_owned();
    }
    let pattern = globs
        .iter()
        .map(|g| glob_regex(g))
        .collect::<Vec<_>>()
        .join("|");
    let pattern = lit(&pattern);
    // `split('@')[0]` is the name before a digest; the repository drops a
    // tag after the last `:` unless that `:` belongs to a registry port
    // (the rest holds a `/`).
    format!(
        "[{image}.trim()].all(img, [img.split('@')[0]].all(named, \
         img.matches({pattern}) || named.matches({pattern}) || \
         (named.lastIndexOf(':') >= 0 && !named.substring(named.lastIndexOf(':') + 1).contains('/') \
         && named.substring(0, named.lastIndexOf(':')).matches({pattern}))))"
    )
    // `all` over one element is that element's verdict.
}

/// Every built-in kind with a pod template.
pub const ALL_KINDS: &[KnownKind] = &[
    KnownKind::Workload(WorkloadKind::Pod),
    KnownKind::Workload(WorkloadKind::Deployment),
    KnownKind::Workload(WorkloadKind::ReplicaSet),
    KnownKind::Workload(WorkloadKind::ReplicationController),
    KnownKind::Workload(WorkloadKind::StatefulSet),
    KnownKind::Workload(WorkloadKind::DaemonSet),
    KnownKind::Workload(WorkloadKind::Job),
    KnownKind::Workload(WorkloadKind::CronJob),
];

/// The kinds that do not run to completion: what the probe rules read.
pub const LONG_RUNNING_KINDS: &[KnownKind] = &[
    KnownKind::Workload(WorkloadKind::Pod),
    KnownKind::Workload(WorkloadKind::Deployment),
    KnownKind::Workload(WorkloadKind::ReplicaSet),
    KnownKind::Workload(WorkloadKind::ReplicationController),
    KnownKind::Workload(WorkloadKind::StatefulSet),
    KnownKind::Workload(WorkloadKind::DaemonSet),
];

/// The kinds with a rollout strategy.
pub const ROLLOUT_KINDS: &[KnownKind] = &[
    KnownKind::Workload(WorkloadKind::Deployment),
    KnownKind::Workload(WorkloadKind::StatefulSet),
    KnownKind::Workload(WorkloadKind::DaemonSet),
];

/// The pod template's metadata, then the object's own (only the object's for
/// a Pod, whose metadata is its template's, and for a PodDisruptionBudget,
/// which has no template): where the ignore annotation and the pod's
/// annotations are read. A list, so that an absent template metadata is an
/// empty list rather than a value of another type.
pub const POD_METAS: &str = "(object.kind == 'Pod' || object.kind == 'PodDisruptionBudget' ? [object.metadata] : \
    (object.kind == 'CronJob' ? [object.spec.jobTemplate.spec.template] : [object.spec.template])\
    .filter(t, has(t.metadata)).map(t, t.metadata) + [object.metadata])";

/// The variables an exported policy may declare, in order (each declares
/// those it reads: [`variables_read`]). The API server evaluates a variable
/// once, when an expression first reads it.
pub fn prelude(settings: &Settings) -> Vec<(&'static str, String)> {
    let mut variables = vec![
        (
            "podSpec",
            "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? \
             object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"
                .to_owned(),
        ),
        ("podMetas", POD_METAS.to_owned()),
        // Native sidecars: init containers that keep running.
        (
            "sidecars",
            "has(variables.podSpec.initContainers) ? variables.podSpec.initContainers\
             .filter(c, has(c.restartPolicy) && c.restartPolicy == 'Always') : []"
                .to_owned(),
        ),
        // Native sidecars first, then the main containers: the order
        // findings come in.
        (
            "containers",
            "variables.sidecars + variables.podSpec.containers".to_owned(),
        ),
        // The pod's labels: a list of one map, or none when the template
        // has no labels.
        (
            "podLabels",
            "(object.kind == 'Pod' ? [object.metadata] : (object.kind == 'CronJob' ? \
             [object.spec.jobTemplate.spec.template] : [object.spec.template])\
             .filter(t, has(t.metadata)).map(t, t.metadata))\
             .filter(m, has(m.labels)).map(m, m.labels)"
                .to_owned(),
        ),
        // Every container: the init containers (native sidecars among
        // them), then the main ones: what a hook rule reads.
        (
            "allContainers",
            "(has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + \
             variables.podSpec.containers"
                .to_owned(),
        ),
    ];
    variables.extend(serving_variables(settings));
    variables
}

/// The [`prelude`] variables that `expressions` read, directly or through
/// another variable, in declaration order: a policy declares no more.
pub fn variables_read(settings: &Settings, expressions: &[&str]) -> Vec<(&'static str, String)> {
    let reads = |text: &str, name: &str| {
        let pattern = format!("variables.{name}");
        text.match_indices(&pattern).any(|(at, _)| {
            !text[at + pattern.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let all = prelude(settings);
    let mut needed = vec![false; all.len()];
    // A variable reads only those declared before it: one pass from the end.
    for at in (0..all.len()).rev() {
        let name = all[at].0;
        needed[at] = expressions.iter().any(|e| reads(e, name))
            || all[at + 1..]
                .iter()
                .zip(&needed[at + 1..])
                .any(|((_, later), wanted)| *wanted && reads(later, name));
    }
    all.into_iter()
        .zip(needed)
        .filter_map(|(variable, wanted)| wanted.then_some(variable))
        .collect()
}

/// One validation of a rule: a CEL expression that is `false` when the
/// rule reports the object, and a CEL message saying where.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub expression: String,
    pub message: String,
}

/// A rule as CEL, or one part of it: the kinds it reads, a condition the
/// object must meet for this part, its checks, and the most severe its
/// findings are there.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCel {
    /// Suffix of the policy's name when a rule is exported as several.
    pub variant: Option<&'static str>,
    pub kinds: &'static [KnownKind],
    /// A condition the object must meet for this part to judge it.
    pub condition: Option<String>,
    pub checks: Vec<Check>,
    /// The rule caps its findings' severity there (see
    /// `crate::rules::Violation::at_most`).
    pub at_most: Option<Severity>,
}

impl RuleCel {
    pub fn new(kinds: &'static [KnownKind], checks: Vec<Check>) -> Self {
        RuleCel {
            variant: None,
            kinds,
            condition: None,
            checks,
            at_most: None,
        }
    }
}

/// A check that holds for every container of `variables.containers` (native
/// sidecars, then main containers), naming the first that fails.
pub fn per_container(ok: &str, message: &str) -> Check {
    Check {
        expression: format!("variables.containers.all(c, {ok})"),
        message: first_failing("variables.containers", ok, message),
    }
}

/// A message about the first element of `list` for which `ok` fails.
pub fn first_failing(list: &str, ok: &str, message: &str) -> String {
    // `exists_one`-free and bounded: the filter walks the list once more,
    // and only when the validation has failed.
    format!("{list}.filter(c, !({ok})).map(c, {message})[0]")
}

/// The variables [`serves`] reads, computed once per object: the names of
/// the containers whose image serves nothing but metrics, the port
/// Prometheus scrapes (a list of none or one), and the local ports metrics
/// proxies front (a list per proxy).
pub fn serving_variables(s: &Settings) -> Vec<(&'static str, String)> {
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
pub fn serves(s: &Settings) -> String {
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
pub fn replacement_overlaps() -> String {
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

/// Why a rule has no CEL form, from what it must see: what
/// [`crate::rules::Rule::cel`] answers unless the rule says more.
pub fn gap(info: &RuleInfo) -> String {
    let why = match (info.scope, info.family) {
        (Scope::Input, _) => {
            "reads other objects (PodDisruptionBudgets, HorizontalPodAutoscalers, Services): an admission request carries one"
        }
        (Scope::Schema, _) => {
            "the API server checks its own schemas before any admission policy runs"
        }
        (Scope::Object, Family::Shutdown) => {
            "reads the pod's shutdown as rollsafe models it (shell parsing of exec hooks; shutdown timeouts and in-app drains from flags, env, annotations and known servers), which CEL cannot express exactly"
        }
        (Scope::Object, Family::Routing) => {
            "judges HTTPRoutes and VirtualServices, which the exported admission policies do not match"
        }
        (Scope::Object, _) => "not written in CEL",
    };
    why.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(lit("a'b\\c"), "'a\\'b\\\\c'");
    }

    #[test]
    fn globs_become_anchored_patterns() {
        assert_eq!(glob_regex("*-exporter"), "^.*-exporter$");
        assert_eq!(glob_regex("gcr.io/x?"), "^gcr\\.io/x.$");
    }
}
