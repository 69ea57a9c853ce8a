//! The drain delay of a container: how long its `preStop` hook keeps it
//! serving after the pod is deleted.

use std::ops::Range;

use k8s_openapi::api::core::v1::ExecAction;
use serde_json::Value;

use super::shell::{script_drain, starts_shutdown};
pub use super::sleep::Delay;
use super::sleep::{basename, parse_sleep_operand};
use crate::model::duration::Millis;
use crate::model::env::ContainerEnv;
use crate::model::workload::ContainerRef;

/// What a container's `lifecycle.preStop` hook is, as far as the drain delay
/// goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreStopHook {
    /// No hook (or one with no handler, which the API server rejects): the
    /// stop signal follows the deletion at once, while endpoints still route
    /// traffic to the pod.
    None,
    /// The kubelet's own `sleep` action. `seconds` as written; a negative
    /// value (rejected by the API server) counts as no delay.
    Sleep {
        seconds: i64,
    },
    /// An exec hook whose command is a `sleep` or a shell script with
    /// `sleep`s in it, all of them readable.
    ExecSleep,
    /// An exec hook that makes the app stop accepting (`nginx -s quit`,
    /// ingress-nginx's `/wait-shutdown`, `kill 1`): only the `sleep`s before
    /// that command delay it.
    StartsShutdown {
        /// The command, as its words.
        command: String,
    },
    /// Any other exec hook: how long it takes is not written down.
    Exec,
    HttpGet,
    TcpSocket,
}

/// Whether a delay was read from the manifest or stands in for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelayBasis {
    /// Read from the manifest (or certainly zero: no hook).
    Exact,
    /// The policy's `assumedHookSeconds`: an httpGet, tcpSocket or non-sleep
    /// exec hook takes as long as the program behind it, which a manifest
    /// cannot tell.
    Assumed,
}

/// A program an exec hook expects to find in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramKind {
    /// `sh`, `bash`, `ash`, `dash`, `zsh`, `ksh`.
    Shell,
    /// A `sleep` binary: the exec action does not go through a shell, so
    /// `["sleep", "5"]` needs `/bin/sleep` (or a `sleep` on `PATH`) in the image.
    Sleep,
    /// `busybox` is where minimal images (Alpine, distroless `:debug`) get
    /// `sh` and `sleep` from; an image without a shell has no busybox either,
    /// so calling it counts as needing a shell.
    Busybox,
}

/// The program named by `argv[0]` of an exec hook, when it is one that
/// shell-less images (distroless, scratch, chainguard static) lack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeededProgram {
    pub kind: ProgramKind,
    /// `argv[0]` as written (`/bin/sh`, `sleep`, `/busybox/sh`).
    pub argv0: String,
}

/// How to set a drain delay to a new value by replacing exactly one JSON
/// value, so that a JSON Patch `replace` at [`DelayEdit::pointer`] does it and
/// `lint --fix` touches a single scalar of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelayEdit {
    /// `lifecycle.preStop.sleep.seconds`: an integer.
    SleepSeconds { pointer: String },
    /// One string of `exec.command`: a `sleep` operand (`"5"`), or a shell
    /// script in which the first `sleep` operand sits at `range`.
    Command {
        pointer: String,
        /// The string as it is now.
        current: String,
        /// Byte range within `current` of the operand to rewrite (quotes
        /// included, for a quoted operand in a script).
        range: Range<usize>,
        /// What the other `sleep`s in the command add: the new operand is the
        /// target delay minus this.
        rest: Millis,
    },
}

impl DelayEdit {
    pub fn pointer(&self) -> &str {
        match self {
            DelayEdit::SleepSeconds { pointer } | DelayEdit::Command { pointer, .. } => pointer,
        }
    }

    /// The JSON value to put at [`DelayEdit::pointer`] so that the drain delay
    /// becomes `delay`. The `sleep` action takes whole seconds, rounded up; an
    /// exec operand is written as plain seconds (`"15"`, `"7.5"`), which GNU
    /// and busybox `sleep` both read, whatever suffix the old one used.
    pub fn value_for(&self, delay: Millis) -> Value {
        match self {
            DelayEdit::SleepSeconds { .. } => Value::from(delay.ceil_secs()),
            DelayEdit::Command {
                current,
                range,
                rest,
                ..
            } => {
                let operand = seconds_operand(Millis(delay.0.saturating_sub(rest.0)));
                match (current.get(..range.start), current.get(range.end..)) {
                    (Some(before), Some(after)) => Value::from(format!("{before}{operand}{after}")),
                    _ => Value::from(current.as_str()),
                }
            }
        }
    }
}

/// The drain delay of one container: how long its preStop hook keeps the
/// stop signal back while endpoints stop routing to the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainDelay {
    pub hook: PreStopHook,
    /// Zero without a hook; the policy's `assumedHookSeconds` for a hook whose
    /// length is not written down.
    pub delay: Delay,
    pub basis: DelayBasis,
    /// The field that sets the delay: `…/lifecycle/preStop/sleep/seconds`, the
    /// `exec/command` element holding the (first) sleep operand, the handler
    /// for an assumed hook, or the container itself when there is no hook.
    pub pointer: String,
    /// For an exec hook, the shell or `sleep` it needs from the image.
    pub needs: Option<NeededProgram>,
    /// How to change the delay, when one value can: not for assumed hooks,
    /// nor for an unbounded sleep.
    pub edit: Option<DelayEdit>,
}

/// The preStop hook's delay for `c`; `assumed_hook` is the policy's
/// `assumedHookSeconds`, used for hooks whose length the manifest does not
/// say.
///
/// With several handlers (which the API server rejects) the `sleep` action is
/// read first, then exec, httpGet and tcpSocket.
/// `env` gives the values of `$VAR`s in a shell script (the kubelet does not
/// expand `$(VAR)` in hooks).
pub fn drain_delay(c: &ContainerRef<'_>, assumed_hook: Millis, env: &ContainerEnv) -> DrainDelay {
    let handler = c
        .container
        .lifecycle
        .as_ref()
        .and_then(|l| l.pre_stop.as_ref());
    let Some(handler) = handler else {
        return DrainDelay {
            hook: PreStopHook::None,
            delay: Delay::ZERO,
            basis: DelayBasis::Exact,
            pointer: c.pointer(),
            needs: None,
            edit: None,
        };
    };
    if let Some(sleep) = &handler.sleep {
        let pointer = c.field(&["lifecycle", "preStop", "sleep", "seconds"]);
        let seconds = u64::try_from(sleep.seconds).unwrap_or(0);
        return DrainDelay {
            hook: PreStopHook::Sleep {
                seconds: sleep.seconds,
            },
            delay: Delay::Finite(Millis::from_secs(seconds)),
            basis: DelayBasis::Exact,
            pointer: pointer.clone(),
            needs: None,
            edit: Some(DelayEdit::SleepSeconds { pointer }),
        };
    }
    if let Some(exec) = &handler.exec {
        return exec_delay(c, exec, assumed_hook, env);
    }
    let assumed = |hook: PreStopHook, field: &str| DrainDelay {
        hook,
        delay: Delay::Finite(assumed_hook),
        basis: DelayBasis::Assumed,
        pointer: c.field(&["lifecycle", "preStop", field]),
        needs: None,
        edit: None,
    };
    if handler.http_get.is_some() {
        return assumed(PreStopHook::HttpGet, "httpGet");
    }
    if handler.tcp_socket.is_some() {
        return assumed(PreStopHook::TcpSocket, "tcpSocket");
    }
    DrainDelay {
        hook: PreStopHook::None,
        delay: Delay::ZERO,
        basis: DelayBasis::Exact,
        pointer: c.field(&["lifecycle", "preStop"]),
        needs: None,
        edit: None,
    }
}

/// One `sleep` operand: in which `command` element, where in it, how long.
struct Operand {
    element: usize,
    range: Range<usize>,
    value: Delay,
    /// Read through a shell variable: rewriting it would cut that link.
    expanded: bool,
}

/// The `sleep` operands of an exec hook before whatever in it starts the
/// app's shutdown, and that command. `None` when they cannot be read.
fn exec_operands(argv: &[String], env: &ContainerEnv) -> Option<(Vec<Operand>, Option<String>)> {
    match argv_shape(argv) {
        ArgvShape::Sleep { operands } => {
            let ops = argv_sleep_operands(argv.get(operands..)?)?;
            let ops = ops
                .into_iter()
                .map(|(offset, range, value)| Operand {
                    element: operands + offset,
                    range,
                    value,
                    expanded: false,
                })
                .collect();
            Some((ops, None))
        }
        ArgvShape::Shell {
            script: Some(index),
        } => {
            let drain = script_drain(argv.get(index)?, env)?;
            let ops = drain
                .sleeps
                .into_iter()
                .map(|op| Operand {
                    element: index,
                    range: op.range,
                    value: op.delay,
                    expanded: op.expanded,
                })
                .collect();
            Some((ops, drain.starts_shutdown))
        }
        ArgvShape::Shell { script: None } => None,
        ArgvShape::Other => {
            let words: Vec<&str> = argv.iter().map(String::as_str).collect();
            let program = if words.first().map(|w| basename(w)) == Some("busybox") {
                words.get(1..).unwrap_or_default()
            } else {
                &words
            };
            starts_shutdown(program).then(|| (Vec::new(), Some(program.join(" "))))
        }
    }
}

fn exec_delay(
    c: &ContainerRef<'_>,
    exec: &ExecAction,
    assumed_hook: Millis,
    env: &ContainerEnv,
) -> DrainDelay {
    let argv: &[String] = exec.command.as_deref().unwrap_or_default();
    let element = |i: usize| c.field(&["lifecycle", "preStop", "exec", "command", &i.to_string()]);
    let needs = needed_program(argv);
    // A command whose length cannot be read is assumed to last `assumed_hook`.
    let assumed = |needs| DrainDelay {
        hook: PreStopHook::Exec,
        delay: Delay::Finite(assumed_hook),
        basis: DelayBasis::Assumed,
        pointer: c.field(&["lifecycle", "preStop", "exec"]),
        needs,
        edit: None,
    };
    let Some((operands, shutdown)) = exec_operands(argv, env) else {
        return assumed(needs);
    };
    let total = operands
        .iter()
        .fold(Delay::ZERO, |sum, op| sum.plus(op.value));
    let hook = match shutdown {
        Some(command) => PreStopHook::StartsShutdown { command },
        None if operands.is_empty() => return assumed(needs),
        None => PreStopHook::ExecSleep,
    };
    let Some(first) = operands.first() else {
        // Starts the shutdown with nothing before it.
        return DrainDelay {
            hook,
            delay: Delay::ZERO,
            basis: DelayBasis::Exact,
            pointer: c.field(&["lifecycle", "preStop", "exec"]),
            needs,
            edit: None,
        };
    };
    let edit = match (total, first.value, first.expanded) {
        (Delay::Finite(total), Delay::Finite(own), false) => Some(DelayEdit::Command {
            pointer: element(first.element),
            current: argv.get(first.element).cloned().unwrap_or_default(),
            range: first.range.clone(),
            rest: Millis(total.0.saturating_sub(own.0)),
        }),
        _ => None,
    };
    DrainDelay {
        hook,
        delay: total,
        basis: DelayBasis::Exact,
        pointer: element(first.element),
        needs,
        edit,
    }
}

/// Shells an exec hook may call; each is absent from shell-less images.
const SHELLS: [&str; 6] = ["sh", "bash", "ash", "dash", "zsh", "ksh"];

fn needed_program(argv: &[String]) -> Option<NeededProgram> {
    let argv0 = argv.first()?;
    let kind = match basename(argv0) {
        "sleep" => ProgramKind::Sleep,
        "busybox" => ProgramKind::Busybox,
        name if SHELLS.contains(&name) => ProgramKind::Shell,
        _ => return None,
    };
    Some(NeededProgram {
        kind,
        argv0: argv0.clone(),
    })
}

/// What an argument vector runs, seen through a leading `busybox`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ArgvShape {
    /// `sleep …`: the operands start at this index.
    Sleep {
        operands: usize,
    },
    /// A shell; `script` is the index of the `-c` script, if there is one.
    Shell {
        script: Option<usize>,
    },
    Other,
}

pub(super) fn argv_shape<S: AsRef<str>>(argv: &[S]) -> ArgvShape {
    let mut at = 0;
    let mut program = argv.first().map(|p| basename(p.as_ref()));
    if program == Some("busybox") {
        at = 1;
        program = argv.get(1).map(|p| basename(p.as_ref()));
    }
    match program {
        Some("sleep") => ArgvShape::Sleep { operands: at + 1 },
        Some(name) if SHELLS.contains(&name) => ArgvShape::Shell {
            script: shell_script_index(argv, at + 1),
        },
        _ => ArgvShape::Other,
    }
}

/// Where `sh [options] -c SCRIPT` keeps its script: the first argument after
/// the options, provided an option cluster holds `c` (`-c`, `-ec`, `-xc`).
fn shell_script_index<S: AsRef<str>>(argv: &[S], from: usize) -> Option<usize> {
    let mut has_c = false;
    let mut at = from;
    while let Some(arg) = argv.get(at).map(AsRef::as_ref) {
        if arg == "--" || arg == "-" {
            at += 1;
            break;
        }
        if arg.starts_with("--") {
            // `--login`, `--norc`, `--posix`.
            at += 1;
            continue;
        }
        let cluster = match (arg.strip_prefix('-'), arg.strip_prefix('+')) {
            (Some(cluster), _) => {
                has_c |= cluster.contains('c');
                cluster
            }
            (None, Some(cluster)) => cluster,
            (None, None) => break,
        };
        at += 1;
        // `-o pipefail`: the option's name is the next argument.
        if cluster.ends_with('o') || cluster.ends_with('O') {
            at += 1;
        }
    }
    (has_c && at < argv.len()).then_some(at)
}

/// Operands of a `sleep` run straight from argv: `(offset, range, value)`,
/// each range the whole element. `None` if any operand does not read as a
/// duration, or there is none (`sleep` then fails at once).
fn argv_sleep_operands(args: &[String]) -> Option<Vec<(usize, Range<usize>, Delay)>> {
    let mut out = Vec::new();
    for (offset, arg) in args.iter().enumerate() {
        if arg == "--" {
            continue;
        }
        out.push((offset, 0..arg.len(), parse_sleep_operand(arg)?));
    }
    (!out.is_empty()).then_some(out)
}

/// A duration as a plain `sleep` operand in seconds: `15`, `7.5`, `0.25`.
fn seconds_operand(m: Millis) -> String {
    let (seconds, fraction) = (m.0 / 1000, m.0 % 1000);
    if fraction == 0 {
        seconds.to_string()
    } else {
        let fraction = format!("{fraction:03}");
        format!("{seconds}.{}", fraction.trim_end_matches('0'))
    }
}

/// Whether a command does nothing but sleep: `sleep 5`, `busybox sleep 5`,
/// `sh -c "sleep 5"`. Anything else, or anything unclear, is not.
pub fn only_sleeps(argv: &[String]) -> bool {
    let mut args = argv;
    if args.first().map(|a| basename(a)) == Some("busybox") {
        args = args.get(1..).unwrap_or_default();
    }
    let Some(program) = args.first().map(|a| basename(a)) else {
        return false;
    };
    if program == "sleep" {
        return true;
    }
    let Some(script) = args.last() else {
        return false;
    };
    let has_c = args
        .get(1..args.len().saturating_sub(1))
        .unwrap_or_default()
        .iter()
        .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'));
    if !has_c {
        return false;
    }
    script
        .split(['\n', ';'])
        .flat_map(|part| part.split("&&"))
        .all(|command| {
            let mut words = command.split_whitespace();
            let mut first = words.next();
            if first == Some("exec") {
                first = words.next();
            }
            match first {
                None => true,
                Some(word) => basename(word) == "sleep" && words.all(is_number_operand),
            }
        })
}

fn is_number_operand(word: &str) -> bool {
    !word.is_empty()
        && word
            .trim_matches('"')
            .trim_matches('\'')
            .trim_end_matches(['s', 'm', 'h', 'd'])
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn script_hook(env: Value, script: &str) -> DrainDelay {
        drain_in(json!({"name": "app", "image": "x", "env": env,
            "lifecycle": {"preStop": {"exec": {"command": ["/bin/sh", "-c", script]}}}}))
    }

    #[test]
    fn shell_variables_come_from_the_env() {
        let env = json!([{"name": "DRAIN_TIME_SECONDS", "value": "15"},
            {"name": "HALF", "value": "$(DRAIN_TIME_SECONDS)"}]);
        let d = script_hook(
            env.clone(),
            "curl -X POST localhost:9901/drain_listeners?graceful; sleep $DRAIN_TIME_SECONDS",
        );
        assert_eq!(d.hook, PreStopHook::ExecSleep);
        assert_eq!((d.delay, d.basis), (secs(15), DelayBasis::Exact));
        assert_eq!(
            d.edit, None,
            "rewriting `$DRAIN_TIME_SECONDS` would cut the link"
        );
        // `${NAME}` and double quotes too; the kubelet's `$(VAR)` in a value.
        assert_eq!(
            script_hook(env.clone(), "sleep \"${HALF}\"").delay,
            secs(15)
        );
        // Single quotes keep `$` literal, and an unknown variable is unknown.
        for script in ["sleep '$DRAIN_TIME_SECONDS'", "sleep $NOT_SET"] {
            let d = script_hook(env.clone(), script);
            assert_eq!(
                (d.hook, d.basis),
                (PreStopHook::Exec, DelayBasis::Assumed),
                "{script}"
            );
        }
        // A variable whose value lives in a Secret is not known either.
        let secret =
            json!([{"name": "D", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]);
        assert_eq!(script_hook(secret, "sleep $D").basis, DelayBasis::Assumed);
    }

    #[test]
    fn hooks_that_start_the_shutdown_drain_nothing_after_it() {
        let starts = |d: &DrainDelay| matches!(&d.hook, PreStopHook::StartsShutdown { .. });
        for command in [
            json!(["/wait-shutdown"]),
            json!(["nginx", "-s", "quit"]),
            json!([
                "/bin/sh",
                "-c",
                "nginx -s quit; while pgrep -x nginx; do sleep 1; done"
            ]),
            json!(["sh", "-c", "kill -TERM 1"]),
            json!(["nodetool", "drain"]),
            json!(["busybox", "kill", "1"]),
            json!(["/usr/sbin/apachectl", "graceful-stop"]),
        ] {
            let d = exec(command.clone());
            assert!(starts(&d), "{command}: {d:?}");
            assert_eq!(
                (d.delay, d.basis),
                (Delay::ZERO, DelayBasis::Exact),
                "{command}"
            );
            assert_eq!(d.edit, None);
        }
        // The sleeps before it count, and can be lengthened.
        let d = exec(json!(["sh", "-c", "sleep 3 && nginx -s quit && sleep 10"]));
        assert!(starts(&d));
        assert_eq!((d.delay, d.basis), (secs(3), DelayBasis::Exact));
        assert!(matches!(&d.edit, Some(DelayEdit::Command { rest, .. }) if *rest == Millis(0)));
        assert_eq!(
            d.hook,
            PreStopHook::StartsShutdown {
                command: "nginx -s quit".to_owned()
            }
        );
        // `nginx -s reload` and a plain program are not a shutdown.
        for command in [json!(["nginx", "-s", "reload"]), json!(["/app", "drain"])] {
            assert_eq!(exec(command).hook, PreStopHook::Exec);
        }
    }

    #[test]
    fn no_hook_points_at_the_container() {
        let d = drain_in(json!({"name": "app", "image": "x"}));
        assert_eq!(d.hook, PreStopHook::None);
        assert_eq!(d.delay, Delay::ZERO);
        assert_eq!(d.basis, DelayBasis::Exact);
        assert_eq!(d.pointer, "/spec/template/spec/containers/0");
        assert_eq!(d.edit, None);
    }

    #[test]
    fn empty_pre_stop_is_no_delay() {
        let d = drain_of(json!({}));
        assert_eq!(d.hook, PreStopHook::None);
        assert_eq!(
            d.pointer,
            "/spec/template/spec/containers/0/lifecycle/preStop"
        );
    }

    #[test]
    fn sleep_action() {
        let d = drain_of(json!({"sleep": {"seconds": 7}}));
        assert_eq!(d.hook, PreStopHook::Sleep { seconds: 7 });
        assert_eq!(d.delay, secs(7));
        assert_eq!(d.basis, DelayBasis::Exact);
        let pointer = "/spec/template/spec/containers/0/lifecycle/preStop/sleep/seconds";
        assert_eq!(d.pointer, pointer);
        assert_eq!(d.needs, None);
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(edit.pointer(), pointer);
        assert_eq!(edit.value_for(Millis(9_200)), json!(10));
    }

    #[test]
    fn negative_sleep_action_is_no_delay() {
        let d = drain_of(json!({"sleep": {"seconds": -3}}));
        assert_eq!(d.hook, PreStopHook::Sleep { seconds: -3 });
        assert_eq!(d.delay, Delay::ZERO);
    }

    #[test]
    fn exec_sleep_binary() {
        let d = exec(json!(["sleep", "5"]));
        assert_eq!(d.hook, PreStopHook::ExecSleep);
        assert_eq!(d.delay, secs(5));
        assert_eq!(d.basis, DelayBasis::Exact);
        assert_eq!(d.pointer, format!("{CMD}/1"));
        assert_eq!(
            d.needs,
            Some(NeededProgram {
                kind: ProgramKind::Sleep,
                argv0: "sleep".to_owned()
            })
        );
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(edit.pointer(), format!("{CMD}/1"));
        assert_eq!(edit.value_for(Millis::from_secs(15)), json!("15"));
    }

    #[test]
    fn exec_sleep_by_path_with_suffix() {
        let d = exec(json!(["/bin/sleep", "5s"]));
        assert_eq!(d.delay, secs(5));
        assert_eq!(d.pointer, format!("{CMD}/1"));
        assert_eq!(d.needs.map(|n| n.kind), Some(ProgramKind::Sleep));
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(edit.value_for(Millis::from_secs(20)), json!("20"));
    }

    #[test]
    fn exec_sleep_through_busybox() {
        let d = exec(json!(["/bin/busybox", "sleep", "5"]));
        assert_eq!(d.hook, PreStopHook::ExecSleep);
        assert_eq!(d.delay, secs(5));
        assert_eq!(d.pointer, format!("{CMD}/2"));
        assert_eq!(
            d.needs,
            Some(NeededProgram {
                kind: ProgramKind::Busybox,
                argv0: "/bin/busybox".to_owned()
            })
        );
    }

    #[test]
    fn exec_shell_sleep() {
        let d = exec(json!(["/bin/sh", "-c", "sleep 5"]));
        assert_eq!(d.hook, PreStopHook::ExecSleep);
        assert_eq!(d.delay, secs(5));
        assert_eq!(d.pointer, format!("{CMD}/2"));
        assert_eq!(d.needs.map(|n| n.kind), Some(ProgramKind::Shell));
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(edit.value_for(Millis::from_secs(12)), json!("sleep 12"));
    }

    #[test]
    fn exec_shell_sleep_then_quit() {
        let d = exec(json!(["sh", "-c", "sleep 5 && nginx -s quit"]));
        assert_eq!(
            d.hook,
            PreStopHook::StartsShutdown {
                command: "nginx -s quit".to_owned()
            }
        );
        assert_eq!(d.delay, secs(5));
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(
            edit.value_for(Millis::from_secs(10)),
            json!("sleep 10 && nginx -s quit")
        );
    }

    #[test]
    fn exec_bash_sleep_then_kill() {
        let d = exec(json!(["bash", "-c", "sleep 10; kill -TERM 1"]));
        assert_eq!(d.delay, secs(10));
        assert_eq!(d.basis, DelayBasis::Exact);
        assert_eq!(d.needs.map(|n| n.argv0), Some("bash".to_owned()));
    }

    #[test]
    fn shell_option_clusters_and_busybox_shell() {
        assert_eq!(exec(json!(["sh", "-ec", "sleep 3"])).delay, secs(3));
        assert_eq!(
            exec(json!(["bash", "-o", "pipefail", "-c", "sleep 4"])).delay,
            secs(4)
        );
        assert_eq!(
            exec(json!(["bash", "--noprofile", "-c", "--", "sleep 2"])).delay,
            secs(2)
        );
        let d = exec(json!(["busybox", "sh", "-c", "sleep 6"]));
        assert_eq!(d.delay, secs(6));
        assert_eq!(d.pointer, format!("{CMD}/3"));
        assert_eq!(d.needs.map(|n| n.kind), Some(ProgramKind::Busybox));
        let d = exec(json!(["/busybox/sh", "-c", "exec /bin/sleep 8"]));
        assert_eq!(d.delay, secs(8));
    }

    #[test]
    fn gnu_suffixes_and_fractions() {
        assert_eq!(exec(json!(["sleep", "1m"])).delay, secs(60));
        assert_eq!(exec(json!(["sleep", "1h"])).delay, secs(3_600));
        assert_eq!(exec(json!(["sleep", "1d"])).delay, secs(86_400));
        assert_eq!(
            exec(json!(["sleep", "0.5"])).delay,
            Delay::Finite(Millis(500))
        );
        assert_eq!(
            exec(json!(["sleep", "1.5m"])).delay,
            Delay::Finite(Millis(90_000))
        );
        assert_eq!(
            exec(json!(["sh", "-c", "sleep .25"])).delay,
            Delay::Finite(Millis(250))
        );
    }

    #[test]
    fn several_sleeps_add_up() {
        let d = exec(json!(["sh", "-c", "sleep 2; echo draining; sleep 3"]));
        assert_eq!(d.delay, secs(5));
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        // The first sleep takes what is missing; the others stay.
        assert_eq!(
            edit.value_for(Millis::from_secs(10)),
            json!("sleep 7; echo draining; sleep 3")
        );
        let d = exec(json!(["sleep", "1m", "30"]));
        assert_eq!(d.delay, secs(90));
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(edit.pointer(), format!("{CMD}/1"));
        assert_eq!(edit.value_for(Millis::from_secs(100)), json!("70"));
        assert_eq!(edit.value_for(Millis(100_500)), json!("70.5"));
    }

    #[test]
    fn sleep_infinity_is_unbounded() {
        let d = exec(json!(["sleep", "infinity"]));
        assert_eq!(d.hook, PreStopHook::ExecSleep);
        assert_eq!(d.delay, Delay::Unbounded);
        assert_eq!(d.basis, DelayBasis::Exact);
        assert_eq!(d.edit, None);
        assert_eq!(
            exec(json!(["sh", "-c", "sleep 5; sleep inf"])).delay,
            Delay::Unbounded
        );
        assert!(secs(1_000_000) < Delay::Unbounded);
        assert_eq!(Delay::Unbounded.to_string(), "unbounded");
    }

    #[test]
    fn quoted_operand_and_redirections() {
        let d = exec(json!([
            "sh",
            "-c",
            "sleep \"5\" >/dev/null 2>&1; echo done"
        ]));
        assert_eq!(d.delay, secs(5));
        assert_eq!(d.basis, DelayBasis::Exact);
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(
            edit.value_for(Millis::from_secs(9)),
            json!("sleep 9 >/dev/null 2>&1; echo done")
        );
        assert_eq!(
            exec(json!(["sh", "-c", "sleep 5 > /dev/null"])).delay,
            secs(5)
        );
        assert_eq!(
            exec(json!(["sh", "-c", "# drain\nsleep 4 # seconds"])).delay,
            secs(4)
        );
    }

    #[test]
    fn other_exec_is_assumed() {
        for command in [
            json!(["/app/drain"]),
            json!(["sh", "-c", "sleep $DELAY"]),
            json!(["sh", "-c", "while true; do sleep 1; done"]),
            json!(["sh", "-c", "sleep 5 & nginx -s quit"]),
            json!(["sh", "/drain.sh"]),
            json!(["sleep"]),
            json!(["sleep", "500ms"]),
            json!(["sleep", "-5"]),
            json!([]),
        ] {
            let d = exec(command.clone());
            assert_eq!(d.hook, PreStopHook::Exec, "{command}");
            assert_eq!(d.delay, Delay::Finite(ASSUMED), "{command}");
            assert_eq!(d.basis, DelayBasis::Assumed, "{command}");
            assert_eq!(d.edit, None, "{command}");
            assert_eq!(
                d.pointer,
                "/spec/template/spec/containers/0/lifecycle/preStop/exec"
            );
        }
        assert_eq!(exec(json!(["/app/drain"])).needs, None);
        assert_eq!(
            exec(json!(["sh", "/drain.sh"])).needs.map(|n| n.kind),
            Some(ProgramKind::Shell)
        );
        assert_eq!(
            drain_of(json!({"exec": {}})).hook,
            PreStopHook::Exec,
            "exec without a command"
        );
    }

    #[test]
    fn http_and_tcp_hooks_are_assumed() {
        let d = drain_of(json!({"httpGet": {"path": "/drain", "port": 8080}}));
        assert_eq!(d.hook, PreStopHook::HttpGet);
        assert_eq!(d.delay, Delay::Finite(ASSUMED));
        assert_eq!(d.basis, DelayBasis::Assumed);
        assert_eq!(
            d.pointer,
            "/spec/template/spec/containers/0/lifecycle/preStop/httpGet"
        );
        let d = drain_of(json!({"tcpSocket": {"port": 8080}}));
        assert_eq!(d.hook, PreStopHook::TcpSocket);
        assert_eq!(d.basis, DelayBasis::Assumed);
        assert_eq!(
            d.pointer,
            "/spec/template/spec/containers/0/lifecycle/preStop/tcpSocket"
        );
    }

    #[test]
    fn an_applied_edit_reads_back_as_the_target_and_is_stable() {
        let target = Millis::from_secs(20);
        for command in [
            json!(["sleep", "5"]),
            json!(["/bin/sleep", "5s"]),
            json!(["/bin/busybox", "sleep", "1m"]),
            json!(["sh", "-c", "sleep 5 && nginx -s quit"]),
            json!(["bash", "-c", "sleep 2; kill -TERM 1; sleep 3"]),
            json!(["sh", "-c", "FOO=1 exec sleep '0.5' 2>&1"]),
            json!(["sh", "-c", "{ sleep 5; }"]),
        ] {
            let d = exec(command.clone());
            let Some(edit) = d.edit else {
                panic!("no edit for {command}")
            };
            let at: usize = edit
                .pointer()
                .rsplit('/')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or_else(|| panic!("{}", edit.pointer()));
            let mut fixed = command.clone();
            fixed[at] = edit.value_for(target);
            let again = exec(fixed.clone());
            assert_eq!(again.delay, Delay::Finite(target), "{command} → {fixed}");
            let Some(second) = again.edit else {
                panic!("no edit for {fixed}")
            };
            assert_eq!(second.value_for(target), fixed[at], "{fixed}");
        }
        let d = drain_of(json!({"sleep": {"seconds": 5}}));
        assert_eq!(d.edit.map(|e| e.value_for(target)), Some(json!(20)));
    }

    #[test]
    fn odd_input_never_panics() {
        let odd = crate::model::ODD_TEXTS;
        for &a in odd {
            for &b in odd {
                for c in ["sh", "sleep", "busybox", "x"] {
                    let _ = exec(json!([c, a, b]));
                    let _ = exec(json!([c, "-c", a, b]));
                }
            }
        }
        let edit = DelayEdit::Command {
            pointer: String::new(),
            current: "é".to_owned(),
            range: 1..9,
            rest: Millis(u64::MAX),
        };
        assert_eq!(edit.value_for(Millis(1)), json!("é"));
    }

    #[test]
    fn plain_sleeps() {
        let argv =
            |words: &[&str]| -> Vec<String> { words.iter().map(|w| (*w).to_owned()).collect() };
        assert!(only_sleeps(&argv(&["sleep", "5"])));
        assert!(only_sleeps(&argv(&["/bin/busybox", "sleep", "5"])));
        assert!(only_sleeps(&argv(&["/bin/sh", "-c", "sleep 5"])));
        assert!(only_sleeps(&argv(&["sh", "-ec", "sleep 2; sleep 3"])));
        assert!(!only_sleeps(&argv(&[
            "sh",
            "-c",
            "sleep 5 && nginx -s quit"
        ])));
        assert!(!only_sleeps(&argv(&["sh", "/drain.sh"])));
        assert!(!only_sleeps(&argv(&["/app/drain"])));
        assert!(!only_sleeps(&argv(&[])));
    }
}
