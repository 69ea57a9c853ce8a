//! `rollsafe timeline`: the termination of a pod drawn to scale on a time
//! axis, one row per event, and the rollout plan step by step. Plain text
//! that reads without colour; colour (on a terminal) only stresses the
//! problems. `--format json` writes the same data.
//!
//! ```text
//!   web  serves traffic
//!     endpoints  ░░░░░░░░░░                                    drop the pod over ~5s (minDrainDelay)
//!     preStop    ▒▒▒▒▒▒▒▒▒▒                                    sleep 5s (sleep action)
//!     app                  ██████████████████████████████      SIGTERM at 5s, shutdown 25s (env `SHUTDOWN_TIMEOUT`): done by 30s
//!     SIGKILL    ──────────────────────────────────────────┤   at 35s (terminationGracePeriodSeconds)
//!                ┬         ┬         ┬         ┬         ┬
//!                0s        10s       20s       30s       40s
//! ```

use std::io::{self, Write};

use serde::Serialize;

use crate::severity::Severity;
use crate::source::InputError;
use crate::timeline::{ContainerTimeline, HookKind, Mark, RolloutTimeline, Timeline, duration};

/// Width of the time axis, in characters.
const WIDTH: usize = 50;
/// Steps of a rollout plan shown before the rest is summed up.
const SHOWN_STEPS: usize = 12;
/// Largest pod count drawn as one glyph per pod.
const GLYPH_PODS: i64 = 40;

/// ANSI colour, only when asked for.
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }
    fn red(&self, text: &str) -> String {
        self.wrap("31", text)
    }
    fn green(&self, text: &str) -> String {
        self.wrap("32", text)
    }
    fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// The text picture of every workload.
pub fn render(timelines: &[Timeline], color: bool, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint(color);
    if timelines.is_empty() {
        writeln!(out, "no workloads found")?;
    }
    for (i, timeline) in timelines.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        workload(timeline, &paint, out)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Report<'a> {
    workloads: &'a [Timeline],
    errors: Vec<JsonError<'a>>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
}

/// `{"workloads": [...], "errors": [...]}`.
pub fn render_json(
    timelines: &[Timeline],
    errors: &[InputError],
    out: &mut dyn Write,
) -> io::Result<()> {
    let report = Report {
        workloads: timelines,
        errors: errors
            .iter()
            .map(|e| {
                let at = e.line_col();
                JsonError {
                    file: &e.path,
                    line: at.map(|p| p.0),
                    column: at.map(|p| p.1),
                    message: &e.message,
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

fn workload(t: &Timeline, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}  {}",
        paint.bold(&t.object.to_string()),
        paint.dim(&format!("{}:{}", t.file, t.line))
    )?;
    writeln!(
        out,
        "  when a pod is deleted: grace period {}{}, minDrainDelay {}, graceMargin {}",
        duration(t.grace_period_seconds as f64),
        if t.grace_period_defaulted {
            " (the default)"
        } else {
            ""
        },
        duration(t.min_drain_delay_seconds),
        duration(t.grace_margin_seconds)
    )?;
    marks(&t.findings, paint, out)?;
    let axis = Axis::for_timeline(t);
    for c in &t.containers {
        writeln!(out)?;
        container(t, c, &axis, paint, out)?;
    }
    if t.containers.is_empty() {
        writeln!(out, "  no long-running container")?;
    }
    if let Some(rollout) = &t.rollout {
        writeln!(out)?;
        rollout_plan(rollout, t.min_drain_delay_seconds, paint, out)?;
    }
    Ok(())
}

/// The time axis shared by every container of a pod.
struct Axis {
    end: f64,
    step: f64,
}

impl Axis {
    fn for_timeline(t: &Timeline) -> Axis {
        let mut end = t.min_drain_delay_seconds.max(1.0);
        for c in &t.containers {
            end = end.max(c.sigkill_at).max(c.app_deadline.unwrap_or(0.0));
        }
        let step = [
            1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
        ]
        .into_iter()
        .find(|s| end / s <= 6.0)
        .unwrap_or_else(|| (end / 6.0).ceil());
        Axis {
            end: (end / step).ceil() * step,
            step,
        }
    }

    /// The column of time `t`.
    fn col(&self, t: f64) -> usize {
        ((t / self.end) * WIDTH as f64)
            .round()
            .clamp(0.0, WIDTH as f64) as usize
    }

    /// `fill` from `from` to `to`, spaces elsewhere, `WIDTH` wide.
    fn bar(&self, from: f64, to: f64, fill: char) -> String {
        let (a, mut b) = (self.col(from), self.col(to));
        // Something that lasts is at least one character long.
        if to > from && b == a && a < WIDTH {
            b = a + 1;
        }
        let mut bar = String::new();
        for i in 0..WIDTH {
            bar.push(if i >= a && i < b { fill } else { ' ' });
        }
        bar
    }

    fn ticks(&self) -> (String, String) {
        let mut marks = vec![' '; WIDTH + 1];
        let mut labels = String::new();
        let mut t = 0.0;
        while t <= self.end + 1e-9 {
            let col = self.col(t);
            if let Some(mark) = marks.get_mut(col) {
                *mark = '┬';
            }
            let label = duration(t);
            while labels.chars().count() < col {
                labels.push(' ');
            }
            if labels.chars().count() == col {
                labels.push_str(&label);
            }
            t += self.step;
        }
        (marks.into_iter().collect(), labels)
    }
}

fn row(label: &str, bar: &str, note: &str) -> String {
    format!("    {label:<10} {bar}  {note}")
}

fn container(
    t: &Timeline,
    c: &ContainerTimeline,
    axis: &Axis,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut traits = Vec::new();
    if c.sidecar {
        traits.push("native sidecar");
    }
    traits.push(if c.serves_traffic {
        "serves traffic"
    } else {
        "serves no traffic"
    });
    writeln!(out, "  {}  {}", paint.bold(&c.name), traits.join(", "))?;

    if c.serves_traffic {
        let settle = t.min_drain_delay_seconds;
        writeln!(
            out,
            "{}",
            row(
                "endpoints",
                &paint.dim(&axis.bar(0.0, settle, '░')),
                &format!(
                    "load balancers drop the pod over ~{} (minDrainDelay)",
                    duration(settle)
                )
            )
        )?;
    }

    let hook = &c.pre_stop;
    let (hook_end, hook_note) = match (hook.kind, hook.seconds, &hook.fails) {
        (HookKind::None, _, _) => (0.0, "no preStop hook".to_owned()),
        (_, _, Some(why)) => (0.0, format!("fails at once: {why}")),
        (kind, seconds, None) => {
            let what = match kind {
                HookKind::Sleep => "sleep action",
                HookKind::ExecSleep => "exec sleep",
                HookKind::StartsShutdown => "exec hook that starts the shutdown",
                HookKind::Exec => "exec hook",
                HookKind::HttpGet => "httpGet hook",
                HookKind::TcpSocket | HookKind::None => "tcpSocket hook",
            };
            let length = match seconds {
                Some(s) if hook.assumed => format!("assumed {} (assumedHookSeconds)", duration(s)),
                Some(s) => duration(s),
                None => "never ends".to_owned(),
            };
            (c.sigterm_at, format!("{what}, {length}"))
        }
    };
    writeln!(
        out,
        "{}",
        row("preStop", &axis.bar(0.0, hook_end, '▒'), &hook_note)
    )?;

    let (app_bar, app_note) = match (c.app_deadline, &c.shutdown_timeout) {
        (Some(deadline), Some(timeout)) => {
            let kept = axis.bar(c.sigterm_at, deadline.min(c.sigkill_at), '█');
            let cut = axis.bar(c.sigkill_at, deadline, '×');
            let bar: String = kept
                .chars()
                .zip(cut.chars())
                .map(|(k, x)| if x == '×' { x } else { k })
                .collect();
            let bar = if deadline > c.sigkill_at {
                bar.replace('×', &paint.red("×"))
            } else {
                bar
            };
            (
                bar,
                format!(
                    "SIGTERM at {}{}, shutdown {} ({}): done by {}",
                    duration(c.sigterm_at),
                    serving_on(c),
                    duration(timeout.seconds),
                    timeout.source,
                    duration(deadline)
                ),
            )
        }
        _ => (
            axis.bar(c.sigterm_at, c.sigkill_at, '?'),
            format!(
                "SIGTERM at {}{}, shutdown timeout unknown",
                duration(c.sigterm_at),
                serving_on(c)
            ),
        ),
    };
    writeln!(out, "{}", row("app", &app_bar, &app_note))?;

    let kill_col = axis.col(c.sigkill_at);
    let mut kill_bar: String = (0..WIDTH)
        .map(|i| match i.cmp(&kill_col) {
            std::cmp::Ordering::Less => '─',
            _ => ' ',
        })
        .collect();
    if kill_col > 0 {
        kill_bar = kill_bar
            .chars()
            .enumerate()
            .map(|(i, ch)| if i + 1 == kill_col { '┤' } else { ch })
            .collect();
    }
    let extension = if c.sigkill_at > t.grace_period_seconds as f64 {
        " (the kubelet's 2s after a preStop that ran the grace period out)"
    } else {
        " (terminationGracePeriodSeconds)"
    };
    writeln!(
        out,
        "{}",
        row(
            "SIGKILL",
            &kill_bar,
            &format!("at {}{extension}", duration(c.sigkill_at))
        )
    )?;
    let (ticks, labels) = axis.ticks();
    writeln!(out, "{}", paint.dim(row("", &ticks, "").trim_end()))?;
    writeln!(out, "{}", paint.dim(row("", &labels, "").trim_end()))?;
    marks(&c.findings, paint, out)?;
    if c.findings.is_empty() {
        let fine = match c.app_deadline {
            Some(deadline) if c.serves_traffic => format!(
                "SIGTERM after endpoints settle; the app is done by {}, {} before SIGKILL",
                duration(deadline),
                duration(c.sigkill_at - deadline)
            ),
            Some(deadline) => format!(
                "the app is done by {}, {} before SIGKILL",
                duration(deadline),
                duration(c.sigkill_at - deadline)
            ),
            None => "no shutdown timeout stated: nothing to check".to_owned(),
        };
        writeln!(out, "    {} {fine}", paint.green("✓"))?;
    }
    Ok(())
}

/// `, serves 5s more (Istio's proxy's default `terminationDrainDuration`)`
/// for an app that drains by itself.
fn serving_on(c: &ContainerTimeline) -> String {
    c.in_app_drain
        .as_ref()
        .map(|drain| {
            format!(
                ", serves {} more ({})",
                duration(drain.seconds),
                drain.source
            )
        })
        .unwrap_or_default()
}

/// The findings `rollsafe lint` reports here, by rule id: `✗` an error,
/// `!` a warning, `·` an info.
fn marks(marks: &[Mark], paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    for mark in marks {
        let line = format!("{}: {}", mark.rule, mark.message);
        match mark.severity {
            Severity::Error => writeln!(out, "    {}", paint.red(&format!("✗ {line}")))?,
            Severity::Warning => writeln!(out, "    ! {line}")?,
            Severity::Info => writeln!(out, "    · {line}")?,
        }
    }
    Ok(())
}

fn rollout_plan(
    r: &RolloutTimeline,
    _min_drain: f64,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut head = format!("  rollout: {}", r.strategy);
    if let (Some(replicas), Some(from)) = (r.replicas, &r.replicas_from) {
        head.push_str(&format!(
            " at {replicas} replica{} ({from})",
            plural(replicas)
        ));
    }
    let budget = |name: &str, b: &Option<crate::timeline::Budget>| {
        b.as_ref().map(|b| {
            let written = if b.defaulted {
                format!("{} (default)", b.written)
            } else {
                b.written.clone()
            };
            match b.pods {
                Some(pods) => format!("{name} {written} → {pods} pod{}", plural(pods)),
                None => format!("{name} {written}"),
            }
        })
    };
    let budgets: Vec<String> = [
        budget("maxSurge", &r.max_surge),
        budget("maxUnavailable", &r.max_unavailable),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !budgets.is_empty() {
        head.push_str(": ");
        head.push_str(&budgets.join(", "));
    }
    writeln!(out, "{}", paint.bold(&head))?;
    if let Some(note) = &r.note {
        writeln!(out, "    {note}")?;
    }
    if !r.steps.is_empty() {
        let glyphs = r
            .steps
            .iter()
            .all(|s| s.old + s.new + s.terminating <= GLYPH_PODS);
        writeln!(
            out,
            "    {:>4}  {:>4}  {:>4}  {:>11}  {}",
            "step",
            "old",
            "new",
            "unavailable",
            if glyphs { "pods" } else { "" }
        )?;
        let shown: Vec<usize> = if r.steps.len() <= SHOWN_STEPS {
            (0..r.steps.len()).collect()
        } else {
            (0..SHOWN_STEPS - 3)
                .chain(r.steps.len() - 3..r.steps.len())
                .collect()
        };
        let mut previous = None;
        for i in shown {
            if previous.is_some_and(|p| p + 1 != i) {
                writeln!(out, "    {:>4}  ({} steps in all)", "…", r.steps.len())?;
            }
            previous = Some(i);
            let s = &r.steps[i];
            let pods = if glyphs {
                format!(
                    "{}{}{}{}",
                    "O".repeat(s.old.max(0) as usize),
                    "N".repeat((s.new - s.starting).max(0) as usize),
                    "n".repeat(s.starting.max(0) as usize),
                    "x".repeat(s.terminating.max(0) as usize)
                )
            } else {
                String::new()
            };
            let line = format!(
                "    {i:>4}  {:>4}  {:>4}  {:>11}  {pods}",
                s.old, s.new, s.unavailable
            );
            let line = line.trim_end();
            if s.ready == 0 && r.replicas.is_some_and(|n| n > 0) {
                writeln!(out, "{}", paint.red(line))?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
        if glyphs {
            writeln!(
                out,
                "{}",
                paint.dim("    O old pod, N new pod ready, n new pod starting, x pod stopping")
            )?;
        }
    }
    canary_steps(r, paint, out)?;
    if let Some(switch) = &r.blue_green {
        blue_green_switch(switch, r.replicas.unwrap_or(0), out)?;
    }
    marks(&r.findings, paint, out)?;
    if r.findings.is_empty() && !r.steps.is_empty() {
        let least = r.steps.iter().map(|s| s.ready).min().unwrap_or(0);
        let most = r
            .steps
            .iter()
            .map(|s| s.old + s.new + s.terminating)
            .max()
            .unwrap_or(0);
        writeln!(
            out,
            "    {} at least {least} pod{} ready at every step, at most {most} pod{} at once",
            paint.green("✓"),
            plural(least),
            plural(most)
        )?;
    }
    Ok(())
}

/// A canary's steps: each side's pods and where the traffic goes, the
/// share marked when it is not the weight the step asks for.
fn canary_steps(r: &RolloutTimeline, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    if r.canary_steps.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "    {:>4}  {:<28}  {:>6}  {:>6}  {:>6}  traffic to canary",
        "step", "action", "weight", "canary", "stable"
    )?;
    for s in &r.canary_steps {
        let step = s.index.map_or_else(|| "end".to_owned(), |i| i.to_string());
        let (traffic, as_asked) = s.traffic();
        let traffic = if as_asked {
            traffic
        } else {
            paint.red(&traffic)
        };
        let action: String = s.action.chars().take(28).collect();
        writeln!(
            out,
            "    {step:>4}  {action:<28}  {:>5}%  {:>6}  {:>6}  {traffic}",
            s.weight, s.canary_pods, s.stable_pods
        )?;
    }
    Ok(())
}

/// A blue-green's switch, as a short sequence.
fn blue_green_switch(
    switch: &crate::timeline::BlueGreenSwitch,
    replicas: i64,
    out: &mut dyn Write,
) -> io::Result<()> {
    let service = |name: &Option<String>| {
        name.as_deref()
            .map_or_else(|| "(not set)".to_owned(), |n| format!("`{n}`"))
    };
    writeln!(
        out,
        "    1. {} new pod{} start{} beside the {replicas} old; preview Service {}",
        switch.preview_pods,
        plural(switch.preview_pods),
        if switch.preview_pods == 1 { "s" } else { "" },
        service(&switch.preview_service)
    )?;
    writeln!(
        out,
        "    2. {}active Service {} switches to the new pods",
        if switch.manual_promotion {
            "on `kubectl argo rollouts promote`, "
        } else {
            "once every new pod is ready, "
        },
        service(&switch.active_service)
    )?;
    writeln!(
        out,
        "    3. the old pods keep running {} s (scaleDownDelaySeconds), then stop",
        switch.scale_down_delay_seconds
    )
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
