//! Shell scripts: just enough of `sh` to find `sleep`s and flags.

use std::ops::Range;

use super::sleep::{Delay, basename, parse_sleep_operand};
use crate::model::env::ContainerEnv;

/// A word of a script: its text with quotes removed and the variables the
/// environment knows expanded, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    pub(super) text: String,
    pub(super) range: Range<usize>,
    /// A `$VAR` in it was replaced by its value: rewriting the word's text
    /// would cut the link to the variable.
    pub(super) expanded: bool,
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
/// `$(…)` and backquotes kept inside their word, and `$NAME` or `${NAME}`
/// (outside single quotes) replaced by the value `env` gives it. Not a shell
/// parser: enough for the one-line scripts preStop hooks and container
/// commands hold.
fn tokenize(script: &str, env: &ContainerEnv) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word: Option<PartialWord> = None;
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
                || word.as_ref().is_some_and(|w| w.text.ends_with(['<', '>'])) =>
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
                word_text(&mut word, at);
                while let Some((_, n)) = chars.next() {
                    match n {
                        '"' => break,
                        '$' => {
                            let name = variable_name(&mut chars);
                            push_variable(&mut word, at, name, env);
                        }
                        '\\' => {
                            let text = word_text(&mut word, at);
                            match chars.next() {
                                Some((_, '\n')) => {}
                                Some((_, e @ ('$' | '`' | '"' | '\\'))) => text.push(e),
                                Some((_, e)) => {
                                    text.push('\\');
                                    text.push(e);
                                }
                                None => text.push('\\'),
                            }
                        }
                        n => word_text(&mut word, at).push(n),
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
            '$' => {
                let name = variable_name(&mut chars);
                push_variable(&mut word, at, name, env);
            }
            ch => word_text(&mut word, at).push(ch),
        }
    }
    end_word(&mut tokens, &mut word, script.len());
    tokens
}

/// A word being read: its text so far, where it started, whether a variable
/// was expanded into it.
struct PartialWord {
    text: String,
    start: usize,
    expanded: bool,
}

fn word_text(word: &mut Option<PartialWord>, at: usize) -> &mut String {
    &mut word
        .get_or_insert_with(|| PartialWord {
            text: String::new(),
            start: at,
            expanded: false,
        })
        .text
}

fn end_word(tokens: &mut Vec<Token>, word: &mut Option<PartialWord>, end: usize) {
    if let Some(PartialWord {
        text,
        start,
        expanded,
    }) = word.take()
    {
        tokens.push(Token::Word(Word {
            text,
            range: start..end,
            expanded,
        }));
    }
}

/// After a `$`: the name of `$NAME` or `${NAME}`, consumed; `None` (and
/// nothing consumed) for anything else (`$1`, `$?`, `${#x}`, a lone `$`).
fn variable_name(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<String> {
    let starts_name = |c: char| c.is_ascii_alphabetic() || c == '_';
    let in_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    match chars.peek().map(|&(_, c)| c) {
        Some('{') => {
            let mut probe = chars.clone();
            probe.next();
            let mut name = String::new();
            while let Some((_, c)) = probe.next_if(|&(_, c)| in_name(c)) {
                name.push(c);
            }
            let closed = probe.next().is_some_and(|(_, c)| c == '}');
            if !closed || !name.starts_with(starts_name) {
                return None;
            }
            *chars = probe;
            Some(name)
        }
        Some(c) if starts_name(c) => {
            let mut name = String::new();
            while let Some((_, c)) = chars.next_if(|&(_, c)| in_name(c)) {
                name.push(c);
            }
            Some(name)
        }
        _ => None,
    }
}

/// The value of a variable, or the reference as written when the
/// environment does not tell it.
fn push_variable(
    word: &mut Option<PartialWord>,
    at: usize,
    name: Option<String>,
    env: &ContainerEnv,
) {
    let text = word_text(word, at);
    let Some(name) = name else {
        text.push('$');
        return;
    };
    match env.value(&name) {
        Some(value) => {
            text.push_str(value);
            if let Some(w) = word.as_mut() {
                w.expanded = true;
            }
        }
        None => {
            text.push('$');
            text.push_str(&name);
        }
    }
}

/// The words of a script, separators dropped.
pub(super) fn script_words(script: &str, env: &ContainerEnv) -> impl Iterator<Item = Word> {
    tokenize(script, env).into_iter().filter_map(|t| match t {
        Token::Word(w) => Some(w),
        Token::Separator | Token::Background => None,
    })
}

/// A simple command of a script.
struct SimpleCommand {
    words: Vec<Word>,
    background: bool,
}

fn simple_commands(script: &str, env: &ContainerEnv) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    let mut words = Vec::new();
    for token in tokenize(script, env) {
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

/// A `sleep` operand of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SleepOperand {
    /// Byte range in the script.
    pub(super) range: Range<usize>,
    pub(super) delay: Delay,
    /// Read through a variable (`sleep $DRAIN`).
    pub(super) expanded: bool,
}

/// What a script does before the app stops accepting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScriptDrain {
    /// The `sleep`s before a command that starts the shutdown; all of them
    /// when none does.
    pub(super) sleeps: Vec<SleepOperand>,
    /// The command that starts the app's shutdown (`nginx -s quit`), as its
    /// words.
    pub(super) starts_shutdown: Option<String>,
}

/// The `sleep`s of a script up to the command that starts the app's shutdown,
/// variables read from `env`. `None` when one of them cannot be known: an
/// operand that is not a number (`sleep $DELAY` with `DELAY` not in the
/// input), a `sleep` in the background, or control flow around it (`while …;
/// do sleep 1; done`). What follows the shutdown does not matter: the app
/// has stopped accepting by then.
pub(super) fn script_drain(script: &str, env: &ContainerEnv) -> Option<ScriptDrain> {
    let mut sleeps = Vec::new();
    for command in simple_commands(script, env) {
        let name_at = command.words.iter().position(|w| {
            !is_assignment(&w.text) && !COMMAND_PREFIXES.contains(&basename(&w.text))
        });
        let Some(name_at) = name_at else {
            continue;
        };
        let words = command.words.get(name_at..).unwrap_or_default();
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        if starts_shutdown(&texts) {
            return Some(ScriptDrain {
                sleeps,
                starts_shutdown: Some(texts.join(" ")),
            });
        }
        let name = texts.first().copied().unwrap_or_default();
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
    Some(ScriptDrain {
        sleeps,
        starts_shutdown: None,
    })
}

/// Whether a command (program first) makes the app stop accepting: a
/// graceful-stop command of a well-known server, or a signal to it. Such a
/// hook gives no drain delay of its own; only the `sleep`s before it do.
pub(super) fn starts_shutdown(words: &[&str]) -> bool {
    let Some((program, args)) = words.split_first() else {
        return false;
    };
    let has = |wanted: &[&str]| args.iter().any(|a| wanted.contains(a));
    match basename(program) {
        "kill" | "pkill" | "killall" | "killall5" => true,
        // ingress-nginx's hook: it signals the controller and waits for it.
        "wait-shutdown" => true,
        "nginx" | "openresty" => {
            args.windows(2)
                .any(|pair| pair[0] == "-s" && matches!(pair[1], "quit" | "stop"))
                || has(&["-squit", "-sstop"])
        }
        "nodetool" => has(&["drain", "stopdaemon"]),
        "apachectl" | "apache2ctl" | "httpd" => has(&["graceful-stop", "stop"]),
        "rabbitmqctl" => has(&["stop", "shutdown", "stop_app"]),
        "redis-cli" => args.iter().any(|a| a.eq_ignore_ascii_case("shutdown")),
        "pg_ctl" | "supervisorctl" => has(&["stop", "shutdown"]),
        "mysqladmin" => has(&["shutdown"]),
        _ => false,
    }
}

fn script_sleep_operands(script: &str, words: &[Word]) -> Option<Vec<SleepOperand>> {
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
        out.push(SleepOperand {
            range: word.range.clone(),
            delay: parse_sleep_operand(&word.text)?,
            expanded: word.expanded,
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_substitutions_in_their_word() {
        let env = ContainerEnv::default();
        let words: Vec<String> = script_words("a $(b; c) `d; e` 'f g' \"h \\\"i\\\"\" j\\ k", &env)
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
            let _ = tokenize(script, &env);
            let _ = script_drain(script, &env);
        }
    }
}
