//! Hover on a rollout or shutdown field: what it resolves to, read from the
//! facts `rollsafe timeline` draws ([`crate::timeline`]), in a few lines of
//! Markdown — the fenceposts in pods, a canary's steps, or a container's
//! way from deletion to SIGKILL.

use std::fmt::Write as _;

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};
use serde_json::Value;

use super::position;
use crate::model::rollout::CanaryStepState;
use crate::model::{ObjectRef, template_of};
use crate::policy::Policy;
use crate::severity::Severity;
use crate::source::{Document, push_token};
use crate::timeline::{
    self, ContainerTimeline, HookKind, Mark, RolloutTimeline, Timeline, duration,
};

/// What the field under the cursor is about.
#[derive(Debug, PartialEq, Eq)]
enum Topic {
    /// `replicas`, `strategy` (a canary's steps too), `updateStrategy`;
    /// the canary step hovered, if any.
    Rollout { step: Option<usize> },
    /// `terminationGracePeriodSeconds`: every container.
    Pod,
    /// A container or a field of it (its `lifecycle`, `preStop`, `env`).
    Container { name: String },
}

/// The hover at byte `byte` of `doc`, one of the documents `among` (the
/// open documents its policy governs: the HPA that sets the scale may be
/// in another file).
pub fn hover(doc: &Document, byte: usize, among: &[Document], policy: &Policy) -> Option<Hover> {
    let pointer = pointer_at(doc, byte);
    let object = ObjectRef::from_value(&doc.value);
    let (_, template) = template_of(&object, &policy.template_paths)?;
    let topic = topic(&doc.value, &pointer, &template)?;
    let (timelines, _) = timeline::timelines(among, policy);
    let line = doc.file.line_col(doc.start).0;
    let found = timelines
        .iter()
        .find(|t| t.file == doc.file.name() && t.line == line && t.object == object)?;
    let text = match &topic {
        Topic::Rollout { step } => rollout(found.rollout.as_ref()?, *step),
        Topic::Pod => pod(found),
        Topic::Container { name } => {
            container(found, found.containers.iter().find(|c| c.name == *name)?)
        }
    };
    let range = doc
        .spans
        .exact(&pointer)
        .map(|span| position::range(&doc.file, span.label()));
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range,
    })
}

/// The pointer of the innermost node whose key or value holds `byte`.
pub fn pointer_at(doc: &Document, byte: usize) -> String {
    let holds = |(start, end): (u32, u32)| start as usize <= byte && byte <= end as usize;
    let mut pointer = String::new();
    let mut value = &*doc.value;
    loop {
        let children: Vec<(String, &Value)> = match value {
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => break,
        };
        let inner = children.into_iter().find_map(|(token, child)| {
            let mut candidate = pointer.clone();
            push_token(&mut candidate, &token);
            let span = doc.spans.exact(&candidate)?;
            (span.key.is_some_and(holds) || holds(span.value)).then_some((candidate, child))
        });
        match inner {
            Some((candidate, child)) => {
                pointer = candidate;
                value = child;
            }
            None => break,
        }
    }
    pointer
}

fn topic(value: &Value, pointer: &str, template: &str) -> Option<Topic> {
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let pod_spec = format!("{template}/spec");
    if let Some(rest) = pointer.strip_prefix(&pod_spec) {
        let rest: Vec<&str> = rest.split('/').skip(1).collect();
        match rest.as_slice() {
            ["terminationGracePeriodSeconds"] => return Some(Topic::Pod),
            [list @ ("containers" | "initContainers"), index, ..] => {
                let name = value
                    .pointer(&format!("{pod_spec}/{list}/{index}/name"))?
                    .as_str()?;
                return Some(Topic::Container {
                    name: name.to_owned(),
                });
            }
            _ => {}
        }
    }
    match tokens.as_slice() {
        ["spec", "replicas"] | ["spec", "updateStrategy", ..] => {
            Some(Topic::Rollout { step: None })
        }
        ["spec", "strategy", "canary", "steps", index, ..] => Some(Topic::Rollout {
            step: index.parse().ok(),
        }),
        ["spec", "strategy", ..] => Some(Topic::Rollout { step: None }),
        _ => None,
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn marks(out: &mut String, marks: &[Mark]) {
    for mark in marks {
        let sign = match mark.severity {
            Severity::Error => "✗",
            Severity::Warning => "!",
            Severity::Info => "·",
        };
        let _ = writeln!(out, "- {sign} `{}`: {}", mark.rule, mark.message);
    }
}

fn rollout(r: &RolloutTimeline, step: Option<usize>) -> String {
    let mut out = format!("**rollout**: `{}`", r.strategy);
    if let (Some(replicas), Some(from)) = (r.replicas, &r.replicas_from) {
        let _ = write!(out, " at {replicas} replica{} ({from})", plural(replicas));
    }
    out.push_str("\n\n");
    for (name, budget) in [
        ("maxSurge", &r.max_surge),
        ("maxUnavailable", &r.max_unavailable),
    ] {
        let Some(b) = budget else { continue };
        let default = if b.defaulted { " (default)" } else { "" };
        let _ = match b.pods {
            Some(pods) => writeln!(
                out,
                "- {name} `{}`{default} → {pods} pod{}",
                b.written,
                plural(pods)
            ),
            None => writeln!(out, "- {name} `{}`{default}", b.written),
        };
    }
    if let (Some(replicas), Some(fewest)) = (r.replicas, r.steps.iter().map(|s| s.ready).min()) {
        let _ = writeln!(
            out,
            "- fewest pods ready during the rollout: {fewest} of {replicas}"
        );
    }
    if let Some(note) = &r.note {
        let _ = writeln!(out, "- {note}");
    }
    if let Some(switch) = &r.blue_green {
        let service = |s: &Option<String>| {
            s.as_ref()
                .map_or_else(|| "(not set)".to_owned(), |n| format!("`{n}`"))
        };
        let _ = writeln!(
            out,
            "- active Service {}, preview Service {}; {} new pod{} before the switch{}; old pods stop {} s after it",
            service(&switch.active_service),
            service(&switch.preview_service),
            switch.preview_pods,
            plural(switch.preview_pods),
            if switch.manual_promotion {
                ", which waits for a manual promotion"
            } else {
                ""
            },
            switch.scale_down_delay_seconds
        );
    }
    canary_steps(&mut out, &r.canary_steps, step);
    marks(&mut out, &r.findings);
    out
}

fn canary_steps(out: &mut String, steps: &[CanaryStepState], hovered: Option<usize>) {
    if steps.is_empty() {
        return;
    }
    out.push_str("\n| step | action | canary pods | stable pods | traffic to canary |\n|---|---|---|---|---|\n");
    for s in steps {
        let index = s.index.map_or_else(|| "end".to_owned(), |i| i.to_string());
        let index = if s.index.is_some() && s.index == hovered {
            format!("**▶ {index}**")
        } else {
            index
        };
        let (traffic, _) = s.traffic();
        let action = s.action.replace('|', "\\|");
        let _ = writeln!(
            out,
            "| {index} | `{action}` | {} | {} | {traffic} |",
            s.canary_pods, s.stable_pods
        );
    }
    out.push('\n');
}

fn grace(t: &Timeline) -> String {
    if t.grace_period_defaulted {
        format!("grace period `{}s`, the default", t.grace_period_seconds)
    } else {
        format!("grace period `{}s`", t.grace_period_seconds)
    }
}

/// How long the preStop hook holds SIGTERM back, in words.
fn drain(c: &ContainerTimeline) -> String {
    let hook = &c.pre_stop;
    if let Some(why) = &hook.fails {
        return format!("none: the preStop hook fails at once ({why})");
    }
    let what = match hook.kind {
        HookKind::None => return "none (no preStop hook)".to_owned(),
        HookKind::Sleep => "sleep action",
        HookKind::ExecSleep => "exec sleep",
        HookKind::StartsShutdown => "exec hook that starts the shutdown",
        HookKind::Exec => "exec hook",
        HookKind::HttpGet => "httpGet hook",
        HookKind::TcpSocket => "tcpSocket hook",
    };
    match hook.seconds {
        Some(s) if hook.assumed => {
            format!("`{}` assumed (assumedHookSeconds), {what}", duration(s))
        }
        Some(s) => format!("`{}` ({what})", duration(s)),
        None => format!("never ends ({what})"),
    }
}

fn container(t: &Timeline, c: &ContainerTimeline) -> String {
    let mut out = format!(
        "**container `{}`** when its pod is deleted ({}):\n\n",
        c.name,
        grace(t)
    );
    let _ = writeln!(out, "- drain delay: {}", drain(c));
    let _ = writeln!(out, "- SIGTERM at `{}`", duration(c.sigterm_at));
    if let Some(drain) = &c.in_app_drain {
        let _ = writeln!(
            out,
            "- serves `{}` more ({})",
            duration(drain.seconds),
            drain.source
        );
    }
    let _ = match &c.shutdown_timeout {
        Some(timeout) => writeln!(
            out,
            "- shutdown timeout `{}` ({})",
            duration(timeout.seconds),
            timeout.source
        ),
        None => writeln!(out, "- shutdown timeout unknown"),
    };
    if let Some(deadline) = c.app_deadline {
        let _ = writeln!(out, "- app done by `{}`", duration(deadline));
    }
    let _ = writeln!(out, "- SIGKILL at `{}`", duration(c.sigkill_at));
    marks(&mut out, &c.findings);
    out
}

fn pod(t: &Timeline) -> String {
    let mut out = format!("**when a pod is deleted**: {}\n\n", grace(t));
    for c in &t.containers {
        let done = c.app_deadline.map_or_else(
            || "shutdown timeout unknown".to_owned(),
            |d| format!("done by `{}`", duration(d)),
        );
        let _ = writeln!(
            out,
            "- `{}`: SIGTERM at `{}`, {done}, SIGKILL at `{}`",
            c.name,
            duration(c.sigterm_at),
            duration(c.sigkill_at)
        );
    }
    marks(&mut out, &t.findings);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_sorted_into_topics() {
        let value =
            serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "web"}]}}}});
        let topic = |pointer: &str| topic(&value, pointer, "/spec/template");
        assert_eq!(topic("/spec/replicas"), Some(Topic::Rollout { step: None }));
        assert_eq!(
            topic("/spec/strategy/rollingUpdate/maxSurge"),
            Some(Topic::Rollout { step: None })
        );
        assert_eq!(
            topic("/spec/strategy/canary/steps/2/setWeight"),
            Some(Topic::Rollout { step: Some(2) })
        );
        assert_eq!(
            topic("/spec/template/spec/terminationGracePeriodSeconds"),
            Some(Topic::Pod)
        );
        assert_eq!(
            topic("/spec/template/spec/containers/0/lifecycle/preStop"),
            Some(Topic::Container {
                name: "web".to_owned()
            })
        );
        assert_eq!(topic("/metadata/name"), None);
    }
}
