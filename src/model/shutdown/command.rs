//! A container's command line as the process receives it: `command` then
//! `args` joined as the container runtime joins them, `$(VAR)` expanded the
//! kubelet's way, and a `sh -c` script split into words with its `$VAR`s
//! expanded, since `["sh", "-c", "exec app --shutdown-timeout=$T"]` is a
//! common way to start an app.

use super::drain::{ArgvShape, argv_shape};
use super::shell::script_words;
use super::sleep::basename;
use crate::model::env::ContainerEnv;
use crate::model::workload::ContainerRef;

/// One word of the command line and the pointer of the element it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub text: String,
    pub pointer: String,
}

/// A flag found on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag<'c> {
    /// The flag as written (`--graceful-timeout`, `-server.graceful-shutdown-timeout`).
    pub written: String,
    /// Its value; `None` when it ends the command line.
    pub value: Option<&'c str>,
    /// The element holding the value (or the flag, when it has none).
    pub pointer: &'c str,
}

#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub args: Vec<Arg>,
    /// The first word of the command line by its base name, seen through a
    /// shell script's `exec`: `gunicorn` for `sh -c "exec gunicorn app:app"`.
    /// With `args` alone it is the first argument to the image's entrypoint,
    /// which images such as ingress-nginx's take to be the program.
    pub program: Option<String>,
}

/// Words before the program of a script's command.
const PREFIXES: [&str; 4] = ["exec", "command", "nohup", "env"];

impl CommandLine {
    pub fn of(c: &ContainerRef<'_>, env: &ContainerEnv) -> Self {
        let mut argv: Vec<(String, String)> = Vec::new();
        for (list, values) in [
            ("command", &c.container.command),
            ("args", &c.container.args),
        ] {
            for (at, arg) in values.iter().flatten().enumerate() {
                let text = env.expand(arg).into_owned();
                argv.push((text, c.field(&[list, &at.to_string()])));
            }
        }
        let texts: Vec<&str> = argv.iter().map(|(a, _)| a.as_str()).collect();
        let script = match argv_shape(&texts) {
            ArgvShape::Shell { script } => script,
            ArgvShape::Sleep { .. } | ArgvShape::Other => None,
        };
        let mut program = argv.first().map(|(first, _)| basename(first).to_owned());
        let mut args = Vec::new();
        for (at, (text, pointer)) in argv.into_iter().enumerate() {
            if Some(at) != script {
                args.push(Arg { text, pointer });
                continue;
            }
            let words: Vec<Arg> = script_words(&text, env)
                .map(|w| Arg {
                    text: w.text,
                    pointer: pointer.clone(),
                })
                .collect();
            program = words
                .iter()
                .map(|w| w.text.as_str())
                .find(|w| !PREFIXES.contains(w) && !w.contains('='))
                .map(|w| basename(w).to_owned());
            args.extend(words);
        }
        CommandLine { args, program }
    }

    /// Whether a word of the command line is `name` or a path to it.
    pub fn mentions(&self, name: &str) -> bool {
        self.args.iter().any(|a| basename(&a.text) == name)
    }

    /// The last `--name=value`, `--name value`, `-name=value` or `-name
    /// value` for a flag configured as `--name` (or `-name`): Go's `flag`
    /// package reads one dash and two alike, and the last occurrence wins
    /// there and in pflag. Nothing after `--` is a flag.
    pub fn flag(&self, flag: &str) -> Option<Flag<'_>> {
        let bare = flag.trim_start_matches('-');
        if bare.is_empty() {
            return None;
        }
        let mut found = None;
        let mut at = 0;
        while let Some(arg) = self.args.get(at) {
            at += 1;
            let word = arg.text.as_str();
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
                found = Some(Flag {
                    written,
                    value: Some(value),
                    pointer: &arg.pointer,
                });
            } else if after.is_empty() {
                let value = self.args.get(at);
                at += 1;
                found = Some(match value {
                    Some(value) => Flag {
                        written,
                        value: Some(&value.text),
                        pointer: &value.pointer,
                    },
                    None => Flag {
                        written,
                        value: None,
                        pointer: &arg.pointer,
                    },
                });
            }
        }
        found
    }
}
