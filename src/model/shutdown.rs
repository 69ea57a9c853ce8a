//! Drain delay and app shutdown timeout of a container: the two numbers a
//! pod's grace period has to cover.
//!
//! Both are read from what the manifest says, never guessed from the image:
//! the drain delay from the `preStop` hook, the shutdown timeout from
//! annotations, environment, flags or the policy. What cannot be read is
//! reported as such (assumed, malformed, unknown) so that a rule can say why
//! it judged the way it did.

use std::fmt;
use std::ops::Range;

use k8s_openapi::api::core::v1::ExecAction;
use serde_json::Value;

use super::duration::{DurationError, Millis, parse_duration};
use super::glob::glob_matches;
use super::index::Index;
use super::workload::{ContainerRef, Workload};

// ---------------------------------------------------------------------------
// Drain delay
// ---------------------------------------------------------------------------

/// A length of time that may never end: `sleep infinity` is a real, if
/// unwise, preStop hook, and no grace period covers it.
///
/// Ordered so that every finite delay is shorter than `Unbounded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Delay {
    Finite(Millis),
    Unbounded,
}

impl Delay {
    pub const ZERO: Delay = Delay::Finite(Millis(0));

    pub fn finite(self) -> Option<Millis> {
        match self {
            Delay::Finite(m) => Some(m),
            Delay::Unbounded => None,
        }
    }

    /// Whole seconds, rounded up; `None` when no number of seconds is enough.
    pub fn ceil_secs(self) -> Option<u64> {
        self.finite().map(Millis::ceil_secs)
    }

    pub fn saturating_add(self, other: Millis) -> Delay {
        match self {
            Delay::Finite(m) => Delay::Finite(m.saturating_add(other)),
            Delay::Unbounded => Delay::Unbounded,
        }
    }

    fn plus(self, other: Delay) -> Delay {
        match other {
            Delay::Finite(m) => self.saturating_add(m),
            Delay::Unbounded => Delay::Unbounded,
        }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delay::Finite(m) => m.fmt(f),
            Delay::Unbounded => f.write_str("unbounded"),
        }
    }
}

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
pub fn drain_delay(c: &ContainerRef<'_>, assumed_hook: Millis) -> DrainDelay {
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
        return exec_delay(c, exec, assumed_hook);
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
}

fn exec_delay(c: &ContainerRef<'_>, exec: &ExecAction, assumed_hook: Millis) -> DrainDelay {
    let argv: &[String] = exec.command.as_deref().unwrap_or_default();
    let element = |i: usize| c.field(&["lifecycle", "preStop", "exec", "command", &i.to_string()]);
    let operands = match argv_shape(argv) {
        ArgvShape::Sleep { operands } => argv.get(operands..).and_then(|rest| {
            argv_sleep_operands(rest).map(|ops| {
                ops.into_iter()
                    .map(|(offset, range, value)| Operand {
                        element: operands + offset,
                        range,
                        value,
                    })
                    .collect::<Vec<_>>()
            })
        }),
        ArgvShape::Shell {
            script: Some(index),
        } => argv.get(index).and_then(|script| {
            script_sleeps(script).map(|ops| {
                ops.into_iter()
                    .map(|(range, value)| Operand {
                        element: index,
                        range,
                        value,
                    })
                    .collect()
            })
        }),
        ArgvShape::Shell { script: None } | ArgvShape::Other => None,
    };
    let needs = needed_program(argv);
    let Some(first) = operands.as_ref().and_then(|ops| ops.first()) else {
        return DrainDelay {
            hook: PreStopHook::Exec,
            delay: Delay::Finite(assumed_hook),
            basis: DelayBasis::Assumed,
            pointer: c.field(&["lifecycle", "preStop", "exec"]),
            needs,
            edit: None,
        };
    };
    let total = operands
        .iter()
        .flatten()
        .fold(Delay::ZERO, |sum, op| sum.plus(op.value));
    let edit = match (total, first.value) {
        (Delay::Finite(total), Delay::Finite(own)) => Some(DelayEdit::Command {
            pointer: element(first.element),
            current: argv.get(first.element).cloned().unwrap_or_default(),
            range: first.range.clone(),
            rest: Millis(total.0.saturating_sub(own.0)),
        }),
        _ => None,
    };
    DrainDelay {
        hook: PreStopHook::ExecSleep,
        delay: total,
        basis: DelayBasis::Exact,
        pointer: element(first.element),
        needs,
        edit,
    }
}

/// Shells an exec hook may call; each is absent from shell-less images.
const SHELLS: [&str; 6] = ["sh", "bash", "ash", "dash", "zsh", "ksh"];

/// The last path segment: `/bin/sh` → `sh`.
fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

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
enum ArgvShape {
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

fn argv_shape<S: AsRef<str>>(argv: &[S]) -> ArgvShape {
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

/// Reads a GNU `sleep` operand: a decimal number with an optional `s`, `m`,
/// `h` or `d` suffix (`5`, `0.5`, `1.5m`, `2d`), in exponent form too
/// (`1e3`), or `infinity`. Busybox `sleep` reads the same forms. `ms` and
/// negative numbers are refused, as `sleep` refuses them; a number too large
/// for a `double` (`1e400`) is infinite to `sleep`, which takes the overflow
/// for its largest value and sleeps forever.
pub fn parse_sleep_operand(text: &str) -> Option<Delay> {
    let s = text.trim_start();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("infinity") {
        return Some(Delay::Unbounded);
    }
    const UNITS: [(char, u128); 4] = [('s', 1), ('m', 60), ('h', 3_600), ('d', 86_400)];
    let (number, unit_secs) = UNITS
        .iter()
        .find_map(|&(suffix, secs)| s.strip_suffix(suffix).map(|n| (n, secs)))
        .unwrap_or((s, 1));
    if let Some((mantissa, exponent)) = number.split_once(['e', 'E']) {
        return exponent_operand(mantissa, exponent, unit_secs);
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let unit_nanos = unit_secs * 1_000_000_000;
    let whole_value = whole.bytes().fold(0u128, |n, b| {
        n.saturating_mul(10).saturating_add(u128::from(b - b'0'))
    });
    let mut nanos = whole_value.saturating_mul(unit_nanos);
    let mut scale = unit_nanos;
    for b in fraction.bytes().take(18) {
        scale /= 10;
        nanos = nanos.saturating_add(u128::from(b - b'0') * scale);
    }
    let millis = u64::try_from(nanos.div_ceil(1_000_000)).unwrap_or(u64::MAX);
    Some(Delay::Finite(Millis(millis)))
}

/// `1.5e3`: a decimal mantissa and a signed exponent, as `strtod` reads them.
fn exponent_operand(mantissa: &str, exponent: &str, unit_secs: u128) -> Option<Delay> {
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let well_formed = !(whole.is_empty() && fraction.is_empty())
        && digits(whole)
        && digits(fraction)
        && !exponent_digits.is_empty()
        && digits(exponent_digits);
    if !well_formed {
        return None;
    }
    let seconds: f64 = format!("{mantissa}e{exponent}").parse().ok()?;
    let millis = seconds * unit_secs as f64 * 1000.0;
    if millis.is_infinite() {
        return Some(Delay::Unbounded);
    }
    // `as` saturates: a finite sleep longer than u64 milliseconds is the
    // longest one there is.
    Some(Delay::Finite(Millis(millis.ceil() as u64)))
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

// ---------------------------------------------------------------------------
// Shell scripts: just enough of `sh` to find `sleep`s and flags
// ---------------------------------------------------------------------------

/// A word of a script: its text with quotes removed, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(Word),
    /// `;`, newline, `&&`, `||`, `|`, `(`, `)`.
    Separator,
    /// `&`: the command before it runs in the background.
    Background,
}

/// Splits a script into words and separators, with POSIX quoting, comments,
/// `$(…)` and backquotes kept inside their word. Not a shell parser: enough
/// for the one-line scripts preStop hooks and container commands hold.
fn tokenize(script: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word: Option<(String, usize)> = None;
    let mut chars = script.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        match ch {
            ' ' | '\t' | '\r' => end_word(&mut tokens, &mut word, at),
            '\n' | ';' | '(' | ')' => {
                end_word(&mut tokens, &mut word, at);
                tokens.push(Token::Separator);
            }
            // `&>file`, `2>&1`, `<&3`: part of a redirection, not a separator.
            '&' if next == Some('>')
                || word
                    .as_ref()
                    .is_some_and(|(text, _)| text.ends_with(['<', '>'])) =>
            {
                word_text(&mut word, at).push(ch)
            }
            '&' => {
                end_word(&mut tokens, &mut word, at);
                if next == Some('&') {
                    chars.next();
                    tokens.push(Token::Separator);
                } else {
                    tokens.push(Token::Background);
                }
            }
            '|' => {
                end_word(&mut tokens, &mut word, at);
                if matches!(next, Some('|' | '&')) {
                    chars.next();
                }
                tokens.push(Token::Separator);
            }
            '#' if word.is_none() => while chars.next_if(|&(_, n)| n != '\n').is_some() {},
            '\'' => {
                let text = word_text(&mut word, at);
                for (_, n) in chars.by_ref() {
                    if n == '\'' {
                        break;
                    }
                    text.push(n);
                }
            }
            '"' => {
                let text = word_text(&mut word, at);
                while let Some((_, n)) = chars.next() {
                    match n {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some((_, '\n')) => {}
                            Some((_, e @ ('$' | '`' | '"' | '\\'))) => text.push(e),
                            Some((_, e)) => {
                                text.push('\\');
                                text.push(e);
                            }
                            None => text.push('\\'),
                        },
                        n => text.push(n),
                    }
                }
            }
            '\\' => match chars.next() {
                Some((_, '\n')) => {}
                Some((_, e)) => word_text(&mut word, at).push(e),
                None => word_text(&mut word, at).push('\\'),
            },
            '$' if next == Some('(') => {
                let text = word_text(&mut word, at);
                text.push(ch);
                let mut depth = 0usize;
                for (_, n) in chars.by_ref() {
                    text.push(n);
                    match n {
                        '(' => depth += 1,
                        ')' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            '`' => {
                let text = word_text(&mut word, at);
                text.push(ch);
                for (_, n) in chars.by_ref() {
                    text.push(n);
                    if n == '`' {
                        break;
                    }
                }
            }
            ch => word_text(&mut word, at).push(ch),
        }
    }
    end_word(&mut tokens, &mut word, script.len());
    tokens
}

fn word_text(word: &mut Option<(String, usize)>, at: usize) -> &mut String {
    &mut word.get_or_insert_with(|| (String::new(), at)).0
}

fn end_word(tokens: &mut Vec<Token>, word: &mut Option<(String, usize)>, end: usize) {
    if let Some((text, start)) = word.take() {
        tokens.push(Token::Word(Word {
            text,
            range: start..end,
        }));
    }
}

/// The words of a script, separators dropped.
fn script_words(script: &str) -> impl Iterator<Item = Word> {
    tokenize(script).into_iter().filter_map(|t| match t {
        Token::Word(w) => Some(w),
        Token::Separator | Token::Background => None,
    })
}

/// A simple command of a script.
struct SimpleCommand {
    words: Vec<Word>,
    background: bool,
}

fn simple_commands(script: &str) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    let mut words = Vec::new();
    for token in tokenize(script) {
        match token {
            Token::Word(w) => words.push(w),
            Token::Separator | Token::Background => {
                let background = token == Token::Background;
                if !words.is_empty() {
                    commands.push(SimpleCommand {
                        words: std::mem::take(&mut words),
                        background,
                    });
                }
            }
        }
    }
    if !words.is_empty() {
        commands.push(SimpleCommand {
            words,
            background: false,
        });
    }
    commands
}

/// Words that come before the program a command runs.
const COMMAND_PREFIXES: [&str; 6] = ["exec", "command", "busybox", "nohup", "{", "!"];

/// Keywords whose commands may run any number of times, or not at all: the
/// `sleep`s under them do not add up to a known delay.
const CONTROL_KEYWORDS: [&str; 7] = ["if", "while", "until", "for", "case", "select", "function"];

/// The `sleep` operands of a script, each with its byte range in the script.
/// `None` when the script has no `sleep`, or has one whose time cannot be
/// known: an operand that is not a number (`sleep $DELAY`), a `sleep` in the
/// background, or control flow around it (`while …; do sleep 1; done`).
fn script_sleeps(script: &str) -> Option<Vec<(Range<usize>, Delay)>> {
    let mut sleeps = Vec::new();
    for command in simple_commands(script) {
        let name_at = command.words.iter().position(|w| {
            !is_assignment(&w.text) && !COMMAND_PREFIXES.contains(&basename(&w.text))
        });
        let Some(name_at) = name_at else {
            continue;
        };
        let name = command.words.get(name_at).map_or("", |w| w.text.as_str());
        if CONTROL_KEYWORDS.contains(&name) {
            return None;
        }
        if basename(name) != "sleep" {
            continue;
        }
        if command.background {
            return None;
        }
        let operands = command.words.get(name_at + 1..).unwrap_or_default();
        sleeps.extend(script_sleep_operands(script, operands)?);
    }
    (!sleeps.is_empty()).then_some(sleeps)
}

fn script_sleep_operands(script: &str, words: &[Word]) -> Option<Vec<(Range<usize>, Delay)>> {
    let mut out = Vec::new();
    let mut skip_target = false;
    for word in words {
        if std::mem::take(&mut skip_target) {
            continue;
        }
        let raw = script.get(word.range.clone()).unwrap_or_default();
        if let Some(takes_target) = redirection(raw) {
            skip_target = takes_target;
            continue;
        }
        if word.text == "--" {
            continue;
        }
        out.push((word.range.clone(), parse_sleep_operand(&word.text)?));
    }
    (!out.is_empty()).then_some(out)
}

/// Whether a raw word is a redirection (`>/dev/null`, `2>&1`, `&>`, `<`),
/// and if so whether its target is the next word.
fn redirection(raw: &str) -> Option<bool> {
    let rest = raw.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix('&').unwrap_or(rest);
    if !rest.starts_with(['<', '>']) {
        return None;
    }
    Some(rest.trim_start_matches(['<', '>', '&', '|']).is_empty())
}

/// `NAME=value` before a command.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

// ---------------------------------------------------------------------------
// Image globs
// ---------------------------------------------------------------------------

/// Whether an image reference as written matches a policy glob. A pattern
/// without a tag or digest names the repository, so it also matches any tag
/// or digest of it: `scratch` matches `scratch:latest`, and
/// `gcr.io/distroless/static:nonroot` matches the same tag pinned by digest.
pub fn image_matches(pattern: &str, image: &str) -> bool {
    let image = image.trim();
    let without_digest = image.split_once('@').map_or(image, |(name, _)| name);
    let repository = match without_digest.rsplit_once(':') {
        // A colon before the last `/` is a registry port, not a tag.
        Some((repository, tag)) if !tag.contains('/') => repository,
        _ => without_digest,
    };
    [image, without_digest, repository]
        .iter()
        .any(|candidate| glob_matches(pattern, candidate))
}

/// The first of `patterns` that `image` matches, to name it in a message.
pub fn matching_image_glob<'p>(patterns: &'p [String], image: &str) -> Option<&'p str> {
    patterns
        .iter()
        .map(String::as_str)
        .find(|pattern| image_matches(pattern, image))
}

// ---------------------------------------------------------------------------
// App shutdown timeout
// ---------------------------------------------------------------------------

/// The annotation that states a pod's shutdown timeout; suffixed with
/// `.<container>` it states one container's.
pub const SHUTDOWN_TIMEOUT_ANNOTATION: &str = "rollsafe.dev/shutdown-timeout";

/// The policy settings timeout discovery reads, borrowed from the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeoutSettings<'a> {
    /// `shutdownTimeoutEnv`, in priority order.
    pub env_names: &'a [String],
    /// `shutdownTimeoutFlags`, in priority order (`--shutdown-timeout`).
    pub flags: &'a [String],
    /// `defaultShutdownTimeout`.
    pub default: Option<Millis>,
}

/// Where a shutdown timeout was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeoutOrigin {
    Annotation {
        key: String,
    },
    Env {
        name: String,
    },
    /// An env var whose value comes from a ConfigMap in the input, through
    /// `valueFrom.configMapKeyRef` or `envFrom[].configMapRef`.
    ConfigMapEnv {
        name: String,
        configmap: String,
        key: String,
    },
    /// A command-line flag, named as written (`--graceful-timeout`).
    Flag {
        name: String,
    },
    PolicyDefault,
}

/// Where a shutdown timeout was read, in words and as a field of the
/// workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutSource {
    pub origin: TimeoutOrigin,
    /// The field in the workload document: the annotation, the env var's
    /// `value` (or its entry, when the value lives in a ConfigMap), the
    /// `envFrom` entry, the argument holding the flag's value. `None` for the
    /// policy default.
    pub pointer: Option<String>,
}

impl fmt::Display for TimeoutSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            TimeoutOrigin::Annotation { key } => write!(f, "annotation `{key}`"),
            TimeoutOrigin::Env { name } => write!(f, "env `{name}`"),
            TimeoutOrigin::ConfigMapEnv {
                name,
                configmap,
                key,
            } => write!(f, "env `{name}` from ConfigMap `{configmap}` key `{key}`"),
            TimeoutOrigin::Flag { name } => write!(f, "flag `{name}`"),
            TimeoutOrigin::PolicyDefault => f.write_str("policy `defaultShutdownTimeout`"),
        }
    }
}

/// A container's app shutdown timeout: how long it takes, after the stop
/// signal, to finish in-flight work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShutdownTimeout {
    Known {
        value: Millis,
        source: TimeoutSource,
    },
    /// Found, but not a duration: reported, never a crash.
    Malformed {
        text: String,
        source: TimeoutSource,
        error: DurationError,
    },
    Unknown,
}

impl ShutdownTimeout {
    pub fn value(&self) -> Option<Millis> {
        match self {
            ShutdownTimeout::Known { value, .. } => Some(*value),
            ShutdownTimeout::Malformed { .. } | ShutdownTimeout::Unknown => None,
        }
    }

    pub fn source(&self) -> Option<&TimeoutSource> {
        match self {
            ShutdownTimeout::Known { source, .. } | ShutdownTimeout::Malformed { source, .. } => {
                Some(source)
            }
            ShutdownTimeout::Unknown => None,
        }
    }
}

/// Finds the shutdown timeout of `c`, first found wins: annotations, env vars
/// named in `shutdownTimeoutEnv`, flags named in `shutdownTimeoutFlags`, the
/// policy default. `index` supplies ConfigMaps; pass an empty one when there
/// are none (admission sees a single object).
///
/// An env var whose value cannot be read here (a ConfigMap or Secret not in
/// the input, an empty value) does not stop the search: the next name, then
/// the flags, may still say it. A value that is there but malformed does stop
/// it, and is reported with its source.
pub fn shutdown_timeout(
    w: &Workload,
    c: &ContainerRef<'_>,
    index: &Index,
    settings: &TimeoutSettings<'_>,
) -> ShutdownTimeout {
    if let Some(found) = from_annotations(w, c) {
        return found;
    }
    if let Some(found) = from_env(w, c, index, settings.env_names) {
        return found;
    }
    if let Some(found) = from_flags(c, settings.flags) {
        return found;
    }
    match settings.default {
        Some(value) => ShutdownTimeout::Known {
            value,
            source: TimeoutSource {
                origin: TimeoutOrigin::PolicyDefault,
                pointer: None,
            },
        },
        None => ShutdownTimeout::Unknown,
    }
}

fn judge(text: &str, origin: TimeoutOrigin, pointer: String) -> ShutdownTimeout {
    let source = TimeoutSource {
        origin,
        pointer: Some(pointer),
    };
    match parse_duration(text) {
        Ok(value) => ShutdownTimeout::Known { value, source },
        Err(error) => ShutdownTimeout::Malformed {
            text: text.to_owned(),
            source,
            error,
        },
    }
}

/// The container's own annotation before the pod's: a pod may run an app
/// that drains for a minute beside a sidecar that stops at once. Each key is
/// looked up on the pod template, then on the workload.
fn from_annotations(w: &Workload, c: &ContainerRef<'_>) -> Option<ShutdownTimeout> {
    let own = format!("{SHUTDOWN_TIMEOUT_ANNOTATION}.{}", c.name());
    [own.as_str(), SHUTDOWN_TIMEOUT_ANNOTATION]
        .into_iter()
        .find_map(|key| {
            w.annotation(key).map(|(text, pointer)| {
                let origin = TimeoutOrigin::Annotation {
                    key: key.to_owned(),
                };
                judge(text, origin, pointer)
            })
        })
}

/// Env vars in `names` order. Kubernetes' own precedence decides which
/// definition of a name the app sees: the last `env` entry of that name,
/// which overrides every `envFrom`; else the last `envFrom` ConfigMap that
/// has the key (`prefix` stripped). Secrets are never in the input and are
/// passed over.
fn from_env(
    w: &Workload,
    c: &ContainerRef<'_>,
    index: &Index,
    names: &[String],
) -> Option<ShutdownTimeout> {
    let container = c.container;
    let namespace = w.object.namespace_key();
    let configmap_value = |name: &str, key: &str| {
        index
            .configmap(namespace, name)
            .and_then(|cm| cm.typed.data.as_ref())
            .and_then(|data| data.get(key))
            .filter(|text| !text.trim().is_empty())
    };
    for name in names {
        let entry = container
            .env
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .rfind(|(_, var)| var.name == *name);
        if let Some((i, var)) = entry {
            let at = i.to_string();
            if let Some(text) = var.value.as_deref().filter(|t| !t.trim().is_empty()) {
                let origin = TimeoutOrigin::Env { name: name.clone() };
                return Some(judge(text, origin, c.field(&["env", &at, "value"])));
            }
            let selector = var
                .value_from
                .as_ref()
                .and_then(|from| from.config_map_key_ref.as_ref());
            if let Some(selector) = selector
                && let Some(text) = configmap_value(&selector.name, &selector.key)
            {
                let origin = TimeoutOrigin::ConfigMapEnv {
                    name: name.clone(),
                    configmap: selector.name.clone(),
                    key: selector.key.clone(),
                };
                return Some(judge(text, origin, c.field(&["env", &at])));
            }
            // This entry overrides any envFrom of the same name.
            continue;
        }
        let sources = container.env_from.as_deref().unwrap_or_default();
        for (j, source) in sources.iter().enumerate().rev() {
            let Some(configmap) = &source.config_map_ref else {
                continue;
            };
            let Some(key) = name.strip_prefix(source.prefix.as_deref().unwrap_or_default()) else {
                continue;
            };
            if let Some(text) = configmap_value(&configmap.name, key) {
                let origin = TimeoutOrigin::ConfigMapEnv {
                    name: name.clone(),
                    configmap: configmap.name.clone(),
                    key: key.to_owned(),
                };
                return Some(judge(text, origin, c.field(&["envFrom", &j.to_string()])));
            }
        }
    }
    None
}

/// Flags in `flags` order, each taken from its last occurrence (the last one
/// wins in Go's `flag` and in pflag). `command` and `args` are one argument
/// list, as the container runtime joins them; a `sh -c` script in it is
/// split into words, since `["sh", "-c", "exec app --shutdown-timeout=30s"]`
/// is a common way to start an app.
fn from_flags(c: &ContainerRef<'_>, flags: &[String]) -> Option<ShutdownTimeout> {
    if flags.is_empty() {
        return None;
    }
    let words = command_line_words(c);
    flags.iter().find_map(|flag| {
        let (written, value, pointer) = last_flag(&words, flag)?;
        let origin = TimeoutOrigin::Flag { name: written };
        Some(judge(value.unwrap_or_default(), origin, pointer.to_owned()))
    })
}

/// `command` then `args`, each word with the pointer of the element it is in.
fn command_line_words(c: &ContainerRef<'_>) -> Vec<(String, String)> {
    let mut argv: Vec<(&String, String)> = Vec::new();
    for (list, values) in [
        ("command", &c.container.command),
        ("args", &c.container.args),
    ] {
        for (at, arg) in values.iter().flatten().enumerate() {
            argv.push((arg, c.field(&[list, &at.to_string()])));
        }
    }
    let texts: Vec<&str> = argv.iter().map(|(a, _)| a.as_str()).collect();
    let script = match argv_shape(&texts) {
        ArgvShape::Shell { script } => script,
        ArgvShape::Sleep { .. } | ArgvShape::Other => None,
    };
    let mut words = Vec::new();
    for (at, (arg, pointer)) in argv.into_iter().enumerate() {
        if Some(at) == script {
            words.extend(script_words(arg).map(|w| (w.text, pointer.clone())));
        } else {
            words.push((arg.clone(), pointer));
        }
    }
    words
}

/// The last `--name=value`, `--name value`, `-name=value` or `-name value`
/// for a flag configured as `--name` (or `-name`): Go's `flag` package reads
/// one dash and two alike. Returns the flag as written, its value (`None`
/// when it ends the command line) and the pointer of the value's element.
fn last_flag<'w>(
    words: &'w [(String, String)],
    flag: &str,
) -> Option<(String, Option<&'w str>, &'w str)> {
    let bare = flag.trim_start_matches('-');
    if bare.is_empty() {
        return None;
    }
    let mut found = None;
    let mut at = 0;
    while let Some((word, pointer)) = words.get(at) {
        at += 1;
        if word == "--" {
            break;
        }
        let (dashes, rest) = match (word.strip_prefix("--"), word.strip_prefix('-')) {
            (Some(rest), _) => ("--", rest),
            (None, Some(rest)) => ("-", rest),
            (None, None) => continue,
        };
        let Some(after) = rest.strip_prefix(bare) else {
            continue;
        };
        let written = format!("{dashes}{bare}");
        if let Some(value) = after.strip_prefix('=') {
            found = Some((written, Some(value), pointer.as_str()));
        } else if after.is_empty() {
            let value = words.get(at);
            at += 1;
            found = Some(match value {
                Some((value, value_pointer)) => {
                    (written, Some(value.as_str()), value_pointer.as_str())
                }
                None => (written, None, pointer.as_str()),
            });
        }
    }
    found
}

// ---------------------------------------------------------------------------
// What the grace period must cover
// ---------------------------------------------------------------------------

/// The time a container needs between deletion and SIGKILL: the drain delay,
/// then the app's shutdown timeout, then a margin. The preStop time counts
/// because `terminationGracePeriodSeconds` starts when the pod is deleted,
/// before the hook runs, not when the stop signal is sent. The kubelet's
/// one-off 2 s extension for a preStop still running is not counted: it is a
/// last resort, not a budget.
pub fn needed_before_kill(drain: Delay, shutdown_timeout: Millis, margin: Millis) -> Delay {
    drain
        .saturating_add(shutdown_timeout)
        .saturating_add(margin)
}

/// [`needed_before_kill`] in whole seconds, rounded up: the smallest
/// `terminationGracePeriodSeconds` that covers it. `None` when no grace
/// period does (an unbounded drain delay).
pub fn needed_grace_seconds(drain: Delay, shutdown_timeout: Millis, margin: Millis) -> Option<i64> {
    needed_before_kill(drain, shutdown_timeout, margin)
        .ceil_secs()
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TemplatePaths;
    use crate::model::object::WorkloadKind;
    use crate::source::Document;
    use serde_json::json;

    /// Unlike any delay written in these tests, so that an assumed one shows.
    const ASSUMED: Millis = Millis(4_321);

    fn deployment(container: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]}}}})
    }

    fn workload(value: Value) -> Workload {
        Workload::decode(
            &Document::detached("t", value),
            WorkloadKind::Deployment,
            WorkloadKind::Deployment.template_pointer(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn first(w: &Workload) -> ContainerRef<'_> {
        w.containers()
            .next()
            .unwrap_or_else(|| panic!("no container"))
    }

    fn drain_of(pre_stop: Value) -> DrainDelay {
        let w = workload(deployment(
            json!({"name": "app", "image": "x", "lifecycle": {"preStop": pre_stop}}),
        ));
        drain_delay(&first(&w), ASSUMED)
    }

    fn exec(command: Value) -> DrainDelay {
        drain_of(json!({"exec": {"command": command}}))
    }

    fn secs(s: u64) -> Delay {
        Delay::Finite(Millis::from_secs(s))
    }

    const CMD: &str = "/spec/template/spec/containers/0/lifecycle/preStop/exec/command";

    // --- drain delay -------------------------------------------------------

    #[test]
    fn no_hook_points_at_the_container() {
        let w = workload(deployment(json!({"name": "app", "image": "x"})));
        let d = drain_delay(&first(&w), ASSUMED);
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
        assert_eq!(d.hook, PreStopHook::ExecSleep);
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
        let d = exec(json!(["sh", "-c", "sleep 2; nginx -s quit; sleep 3"]));
        assert_eq!(d.delay, secs(5));
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        // The first sleep takes what is missing; the others stay.
        assert_eq!(
            edit.value_for(Millis::from_secs(10)),
            json!("sleep 7; nginx -s quit; sleep 3")
        );
        let d = exec(json!(["sleep", "1m", "30"]));
        assert_eq!(d.delay, secs(90));
        let edit = d.edit.unwrap_or_else(|| panic!("no edit"));
        assert_eq!(edit.pointer(), format!("{CMD}/1"));
        assert_eq!(edit.value_for(Millis::from_secs(100)), json!("70"));
        assert_eq!(edit.value_for(Millis(100_500)), json!("70.5"));
    }

    #[test]
    fn exponent_operands_are_read_as_sleep_reads_them() {
        assert_eq!(
            parse_sleep_operand("1e400"),
            Some(Delay::Unbounded),
            "`sleep` takes the overflow for forever"
        );
        assert_eq!(
            parse_sleep_operand("1.5e1"),
            Some(Delay::Finite(Millis(15_000)))
        );
        assert_eq!(
            parse_sleep_operand("5e-1s"),
            Some(Delay::Finite(Millis(500)))
        );
        assert_eq!(
            parse_sleep_operand("2E1m"),
            Some(Delay::Finite(Millis(1_200_000)))
        );
        assert_eq!(parse_sleep_operand("1e"), None);
        assert_eq!(parse_sleep_operand("e5"), None);
        assert_eq!(parse_sleep_operand("1e5x"), None);
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
            json!(["sh", "-c", "nginx -s quit"]),
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
    fn sleep_operands() {
        let ms = |m| Some(Delay::Finite(Millis(m)));
        assert_eq!(parse_sleep_operand("5"), ms(5_000));
        assert_eq!(parse_sleep_operand("+5"), ms(5_000));
        assert_eq!(parse_sleep_operand("5."), ms(5_000));
        assert_eq!(parse_sleep_operand("0.0001"), ms(1));
        assert_eq!(parse_sleep_operand("2h"), ms(7_200_000));
        assert_eq!(parse_sleep_operand("INFINITY"), Some(Delay::Unbounded));
        assert_eq!(
            parse_sleep_operand("99999999999999999999999999999999999999999d"),
            ms(u64::MAX)
        );
        for bad in ["", "s", ".", "5x", "-1", "5ms", "1.2.3", "$(x)", "five"] {
            assert_eq!(parse_sleep_operand(bad), None, "{bad}");
        }
    }

    #[test]
    fn tokenizer_keeps_substitutions_in_their_word() {
        let words: Vec<String> = script_words("a $(b; c) `d; e` 'f g' \"h \\\"i\\\"\" j\\ k")
            .map(|w| w.text)
            .collect();
        assert_eq!(
            words,
            vec!["a", "$(b; c)", "`d; e`", "f g", "h \"i\"", "j k"]
        );
        // Unterminated quotes and odd bytes end the word; nothing panics.
        for script in [
            "'",
            "\"\\",
            "\\",
            "$(",
            "`",
            "é'ü",
            "&&&|||;;((",
            "sleep \"",
        ] {
            let _ = tokenize(script);
            let _ = script_sleeps(script);
        }
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
        let odd = [
            "",
            " ",
            "-",
            "--",
            "-c",
            "sh",
            "sleep",
            "=",
            "--shutdown-timeout=",
            "'",
            "\\",
            "é",
            "$(",
            "&>",
            "2>&",
            ">",
            "sleep 5 >",
            "\u{0}",
            "sleep\n5",
        ];
        for a in odd {
            for b in odd {
                for c in ["sh", "sleep", "busybox", "x"] {
                    let _ = exec(json!([c, a, b]));
                    let _ = exec(json!([c, "-c", a, b]));
                    let _ = Case::new()
                        .container(json!({"name": "app", "command": [c, a], "args": [b]}));
                }
                let _ = glob_matches(a, b);
                let _ = image_matches(a, b);
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
    fn a_pod_reads_its_own_annotations() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "annotations": {POD: "7s"}},
            "spec": {"containers": [{"name": "app"}]}});
        let w = Workload::decode(
            &Document::detached("t", pod),
            WorkloadKind::Pod,
            WorkloadKind::Pod.template_pointer(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let found = shutdown_timeout(
            &w,
            &first(&w),
            &Index::default(),
            &TimeoutSettings::default(),
        );
        assert_eq!(
            found,
            known(
                7_000,
                annotation(POD),
                Some("/metadata/annotations/rollsafe.dev~1shutdown-timeout")
            )
        );
    }

    // --- image globs -------------------------------------------------------

    #[test]
    fn globs() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*c", "abbbc"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("a?c", "ac"));
        assert!(glob_matches("*a*b*", "xxaxxbxx"));
        assert!(!glob_matches("*a*b", "xxaxxbxxc"));
        assert!(glob_matches("", ""));
        assert!(!glob_matches("", "a"));
        let long = "a".repeat(5_000);
        assert!(!glob_matches("*a*a*a*a*a*b", &long));
    }

    #[test]
    fn image_globs() {
        assert!(image_matches(
            "gcr.io/distroless/*",
            "gcr.io/distroless/static:nonroot"
        ));
        assert!(image_matches(
            "gcr.io/distroless/*",
            "gcr.io/distroless/base-debian12@sha256:abc"
        ));
        assert!(image_matches(
            "cgr.dev/chainguard/static*",
            "cgr.dev/chainguard/static:latest"
        ));
        assert!(image_matches("scratch", "scratch"));
        assert!(image_matches("scratch", "scratch:latest"));
        assert!(!image_matches("scratch", "scratchpad"));
        assert!(!image_matches("gcr.io/distroless/*", "nginx:1.27"));
        assert!(image_matches(
            "gcr.io/distroless/static:nonroot",
            "gcr.io/distroless/static:nonroot@sha256:abc"
        ));
        assert!(image_matches("registry:5000/app", "registry:5000/app:1.0"));
        assert!(!image_matches("registry", "registry:5000/app"));
        let patterns = vec!["scratch".to_owned(), "gcr.io/distroless/*".to_owned()];
        assert_eq!(
            matching_image_glob(&patterns, "gcr.io/distroless/java17"),
            Some("gcr.io/distroless/*")
        );
        assert_eq!(matching_image_glob(&patterns, "alpine"), None);
    }

    // --- shutdown timeout --------------------------------------------------

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    struct Case {
        env: Vec<String>,
        flags: Vec<String>,
        default: Option<Millis>,
    }

    impl Case {
        fn new() -> Self {
            Case {
                env: names(&["SHUTDOWN_TIMEOUT", "GRACEFUL_TIMEOUT"]),
                flags: names(&["--shutdown-timeout", "--graceful-timeout"]),
                default: None,
            }
        }

        fn run(&self, documents: Vec<Value>) -> ShutdownTimeout {
            let docs: Vec<Document> = documents
                .into_iter()
                .map(|v| Document::detached("t", v))
                .collect();
            let (index, errors) = Index::build(&docs, &TemplatePaths::new());
            assert!(errors.is_empty(), "{errors:?}");
            let w = &index.workloads[0];
            let settings = TimeoutSettings {
                env_names: &self.env,
                flags: &self.flags,
                default: self.default,
            };
            shutdown_timeout(w, &first(w), &index, &settings)
        }

        fn container(&self, container: Value) -> ShutdownTimeout {
            self.run(vec![deployment(container)])
        }
    }

    fn known(value: u64, origin: TimeoutOrigin, pointer: Option<&str>) -> ShutdownTimeout {
        ShutdownTimeout::Known {
            value: Millis(value),
            source: TimeoutSource {
                origin,
                pointer: pointer.map(str::to_owned),
            },
        }
    }

    fn annotated(template: Value, workload: Value) -> Value {
        let mut d = deployment(json!({"name": "app", "image": "x"}));
        d["metadata"]["annotations"] = workload;
        d["spec"]["template"]["metadata"]["annotations"] = template;
        d
    }

    fn annotation(key: &str) -> TimeoutOrigin {
        TimeoutOrigin::Annotation {
            key: key.to_owned(),
        }
    }

    const OWN: &str = "rollsafe.dev/shutdown-timeout.app";
    const POD: &str = "rollsafe.dev/shutdown-timeout";

    #[test]
    fn container_annotation_beats_pod_annotation() {
        let found = Case::new().run(vec![annotated(json!({POD: "10s", OWN: "20s"}), json!({}))]);
        assert_eq!(
            found,
            known(
                20_000,
                annotation(OWN),
                Some("/spec/template/metadata/annotations/rollsafe.dev~1shutdown-timeout.app")
            )
        );
        // The container's own key wins even from the workload's metadata.
        let found = Case::new().run(vec![annotated(json!({POD: "10s"}), json!({OWN: "20s"}))]);
        assert_eq!(
            found,
            known(
                20_000,
                annotation(OWN),
                Some("/metadata/annotations/rollsafe.dev~1shutdown-timeout.app")
            )
        );
    }

    #[test]
    fn template_annotation_beats_workload_annotation() {
        let found = Case::new().run(vec![annotated(json!({POD: "15s"}), json!({POD: "1m"}))]);
        assert_eq!(
            found,
            known(
                15_000,
                annotation(POD),
                Some("/spec/template/metadata/annotations/rollsafe.dev~1shutdown-timeout")
            )
        );
        let found = Case::new().run(vec![annotated(json!({}), json!({POD: "1m"}))]);
        assert_eq!(
            found,
            known(
                60_000,
                annotation(POD),
                Some("/metadata/annotations/rollsafe.dev~1shutdown-timeout")
            )
        );
    }

    #[test]
    fn annotation_beats_env_and_flags() {
        let mut d = annotated(json!({POD: "3s"}), json!({}));
        d["spec"]["template"]["spec"]["containers"][0]["env"] =
            json!([{"name": "SHUTDOWN_TIMEOUT", "value": "9s"}]);
        d["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["--shutdown-timeout=8s"]);
        assert_eq!(Case::new().run(vec![d]).value(), Some(Millis(3_000)));
    }

    #[test]
    fn malformed_values_are_reported() {
        let found = Case::new().run(vec![annotated(json!({POD: "ten"}), json!({}))]);
        let ShutdownTimeout::Malformed {
            text,
            source,
            error,
        } = found
        else {
            panic!("{found:?}")
        };
        assert_eq!(text, "ten");
        assert_eq!(
            source.to_string(),
            "annotation `rollsafe.dev/shutdown-timeout`"
        );
        assert_eq!(error.text, "ten");

        let found = Case::new().container(json!({"name": "app",
            "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "ten"}], "args": ["--shutdown-timeout=5s"]}));
        assert!(
            matches!(&found, ShutdownTimeout::Malformed { text, .. } if text == "ten"),
            "a malformed value stops the search: {found:?}"
        );
        assert_eq!(found.value(), None);
        assert_eq!(
            found.source().and_then(|s| s.pointer.as_deref()),
            Some("/spec/template/spec/containers/0/env/0/value")
        );
    }

    #[test]
    fn env_list_order_is_the_priority() {
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "GRACEFUL_TIMEOUT", "value": "40s"},
            {"name": "SHUTDOWN_TIMEOUT", "value": "25s"},
        ]}));
        assert_eq!(
            found,
            known(
                25_000,
                TimeoutOrigin::Env {
                    name: "SHUTDOWN_TIMEOUT".to_owned()
                },
                Some("/spec/template/spec/containers/0/env/1/value")
            )
        );
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("env `SHUTDOWN_TIMEOUT`".to_owned())
        );
        // Only the second name set: it is found.
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "OTHER", "value": "1s"},
            {"name": "GRACEFUL_TIMEOUT", "value": "40"},
        ]}));
        assert_eq!(found.value(), Some(Millis(40_000)));
    }

    #[test]
    fn last_env_entry_of_a_name_wins_and_empty_values_are_passed_over() {
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "SHUTDOWN_TIMEOUT", "value": "5s"},
            {"name": "SHUTDOWN_TIMEOUT", "value": "6s"},
        ]}));
        assert_eq!(found.value(), Some(Millis(6_000)));
        let found = Case::new().container(json!({"name": "app", "env": [
            {"name": "SHUTDOWN_TIMEOUT", "value": ""},
            {"name": "GRACEFUL_TIMEOUT", "value": "7s"},
        ]}));
        assert_eq!(found.value(), Some(Millis(7_000)));
    }

    fn configmap(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop"}, "data": data})
    }

    #[test]
    fn config_map_key_ref_in_the_input() {
        let container = json!({"name": "app", "env": [{"name": "SHUTDOWN_TIMEOUT",
            "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "timeout"}}}]});
        let found = Case::new().run(vec![
            deployment(container),
            configmap("app-config", json!({"timeout": "45s"})),
        ]);
        assert_eq!(
            found,
            known(
                45_000,
                TimeoutOrigin::ConfigMapEnv {
                    name: "SHUTDOWN_TIMEOUT".to_owned(),
                    configmap: "app-config".to_owned(),
                    key: "timeout".to_owned()
                },
                Some("/spec/template/spec/containers/0/env/0")
            )
        );
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("env `SHUTDOWN_TIMEOUT` from ConfigMap `app-config` key `timeout`".to_owned())
        );
    }

    #[test]
    fn config_map_not_in_the_input_goes_on_to_the_next_source() {
        let container = json!({"name": "app",
            "env": [{"name": "SHUTDOWN_TIMEOUT",
                "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "timeout"}}}],
            "args": ["--graceful-timeout", "12s"]});
        // Absent, in another namespace, or without the key: all the same.
        let mut elsewhere = configmap("app-config", json!({"timeout": "45s"}));
        elsewhere["metadata"]["namespace"] = json!("other");
        for extra in [
            vec![],
            vec![elsewhere],
            vec![configmap("app-config", json!({"other": "45s"}))],
        ] {
            let mut docs = vec![deployment(container.clone())];
            docs.extend(extra);
            let found = Case::new().run(docs);
            assert_eq!(
                found,
                known(
                    12_000,
                    TimeoutOrigin::Flag {
                        name: "--graceful-timeout".to_owned()
                    },
                    Some("/spec/template/spec/containers/0/args/1")
                )
            );
        }
        // The next env name comes before the flags.
        let container = json!({"name": "app", "env": [
            {"name": "SHUTDOWN_TIMEOUT", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "GRACEFUL_TIMEOUT", "value": "11s"}],
            "args": ["--graceful-timeout", "12s"]});
        assert_eq!(
            Case::new().container(container).value(),
            Some(Millis(11_000))
        );
    }

    #[test]
    fn env_from_config_map_with_prefix() {
        let container = json!({"name": "app", "envFrom": [
            {"configMapRef": {"name": "missing"}},
            {"configMapRef": {"name": "app-config"}, "prefix": "GRACEFUL_"},
        ]});
        let found = Case::new().run(vec![
            deployment(container),
            configmap(
                "app-config",
                json!({"TIMEOUT": "33s", "SHUTDOWN_TIMEOUT": "1s"}),
            ),
        ]);
        // `SHUTDOWN_TIMEOUT` would be `GRACEFUL_SHUTDOWN_TIMEOUT` with the
        // prefix, so only `GRACEFUL_TIMEOUT` (key `TIMEOUT`) is defined.
        assert_eq!(
            found,
            known(
                33_000,
                TimeoutOrigin::ConfigMapEnv {
                    name: "GRACEFUL_TIMEOUT".to_owned(),
                    configmap: "app-config".to_owned(),
                    key: "TIMEOUT".to_owned()
                },
                Some("/spec/template/spec/containers/0/envFrom/1")
            )
        );
    }

    #[test]
    fn env_overrides_env_from_and_later_env_from_wins() {
        let container = json!({"name": "app",
            "envFrom": [{"configMapRef": {"name": "a"}}, {"configMapRef": {"name": "b"}}]});
        let docs = |c: Value| {
            vec![
                deployment(c),
                configmap("a", json!({"SHUTDOWN_TIMEOUT": "1s"})),
                configmap("b", json!({"SHUTDOWN_TIMEOUT": "2s"})),
            ]
        };
        assert_eq!(
            Case::new().run(docs(container.clone())).value(),
            Some(Millis(2_000))
        );
        let mut with_env = container;
        with_env["env"] = json!([{"name": "SHUTDOWN_TIMEOUT", "value": "3s"}]);
        assert_eq!(Case::new().run(docs(with_env)).value(), Some(Millis(3_000)));
    }

    #[test]
    fn flag_forms() {
        let flag = |name: &str| TimeoutOrigin::Flag {
            name: name.to_owned(),
        };
        let found = Case::new().container(
            json!({"name": "app", "command": ["/app"], "args": ["serve", "--shutdown-timeout=10s"]}),
        );
        assert_eq!(
            found,
            known(
                10_000,
                flag("--shutdown-timeout"),
                Some("/spec/template/spec/containers/0/args/1")
            )
        );
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("flag `--shutdown-timeout`".to_owned())
        );
        let found = Case::new()
            .container(json!({"name": "app", "command": ["/app", "--shutdown-timeout", "1m30s"]}));
        assert_eq!(
            found,
            known(
                90_000,
                flag("--shutdown-timeout"),
                Some("/spec/template/spec/containers/0/command/2")
            )
        );
        let found =
            Case::new().container(json!({"name": "app", "args": ["-graceful-timeout=20s"]}));
        assert_eq!(
            found,
            known(
                20_000,
                flag("-graceful-timeout"),
                Some("/spec/template/spec/containers/0/args/0")
            )
        );
        let found =
            Case::new().container(json!({"name": "app", "args": ["-shutdown-timeout", "4s"]}));
        assert_eq!(found.value(), Some(Millis(4_000)));
    }

    #[test]
    fn flag_priority_last_occurrence_and_edge_cases() {
        // List order first, then the last occurrence of that flag.
        let found = Case::new().container(json!({"name": "app", "args": [
            "--graceful-timeout=1s", "--shutdown-timeout=2s", "--shutdown-timeout=3s"]}));
        assert_eq!(found.value(), Some(Millis(3_000)));
        // A longer flag sharing the prefix is another flag.
        let found = Case::new().container(
            json!({"name": "app", "args": ["--shutdown-timeout-extra=9s", "--shutdown-timeoutx", "1s"]}),
        );
        assert_eq!(found, ShutdownTimeout::Unknown);
        // Nothing after `--` is a flag.
        let found =
            Case::new().container(json!({"name": "app", "args": ["--", "--shutdown-timeout=9s"]}));
        assert_eq!(found, ShutdownTimeout::Unknown);
        // A flag with no value is malformed, pointing at the flag.
        let found = Case::new().container(json!({"name": "app", "args": ["--shutdown-timeout"]}));
        assert!(
            matches!(&found, ShutdownTimeout::Malformed { text, source, .. }
                if text.is_empty() && source.pointer.as_deref() == Some("/spec/template/spec/containers/0/args/0")),
            "{found:?}"
        );
    }

    #[test]
    fn flag_inside_a_shell_script() {
        let found = Case::new().container(json!({"name": "app", "command": ["/bin/sh", "-c"],
            "args": ["exec /app serve --graceful-timeout 25s"]}));
        assert_eq!(
            found,
            known(
                25_000,
                TimeoutOrigin::Flag {
                    name: "--graceful-timeout".to_owned()
                },
                Some("/spec/template/spec/containers/0/args/0")
            )
        );
    }

    #[test]
    fn policy_default_then_unknown() {
        let mut case = Case::new();
        case.default = Some(Millis(30_000));
        let found = case.container(json!({"name": "app"}));
        assert_eq!(found, known(30_000, TimeoutOrigin::PolicyDefault, None));
        assert_eq!(
            found.source().map(ToString::to_string),
            Some("policy `defaultShutdownTimeout`".to_owned())
        );
        let found = Case::new().container(json!({"name": "app",
            "env": [{"name": "UNLISTED", "value": "5s"}], "args": ["--other=5s"]}));
        assert_eq!(found, ShutdownTimeout::Unknown);
        assert_eq!(found.source(), None);
        // Empty settings read nothing but annotations.
        let empty = Case {
            env: vec![],
            flags: vec![],
            default: None,
        };
        let found = empty.container(json!({"name": "app",
            "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "5s"}], "args": ["--shutdown-timeout=5s"]}));
        assert_eq!(found, ShutdownTimeout::Unknown);
    }

    // --- grace period ------------------------------------------------------

    #[test]
    fn needed_grace_rounds_up() {
        let need = needed_before_kill(secs(5), Millis(20_500), Millis::from_secs(5));
        assert_eq!(need, Delay::Finite(Millis(30_500)));
        assert_eq!(
            needed_grace_seconds(secs(5), Millis(20_500), Millis::from_secs(5)),
            Some(31)
        );
        assert_eq!(
            needed_grace_seconds(secs(5), Millis::from_secs(20), Millis::from_secs(5)),
            Some(30)
        );
        assert_eq!(
            needed_grace_seconds(Delay::Unbounded, Millis(0), Millis(0)),
            None
        );
        assert_eq!(
            needed_grace_seconds(Delay::Finite(Millis(u64::MAX)), Millis(1), Millis(1)),
            Some(i64::try_from(u64::MAX.div_ceil(1000)).unwrap_or(i64::MAX))
        );
    }
}
