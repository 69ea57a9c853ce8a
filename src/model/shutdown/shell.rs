//! Shell scripts: just enough of `sh` to find `sleep`s and flags.

use std::ops::Range;

use super::sleep::{Delay, basename, parse_sleep_operand};

/// A word of a script: its text with quotes removed, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    pub(super) text: String,
    pub(super) range: Range<usize>,
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
pub(super) fn script_words(script: &str) -> impl Iterator<Item = Word> {
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
pub(super) fn script_sleeps(script: &str) -> Option<Vec<(Range<usize>, Delay)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
