//! A duration the manifest states about a container's shutdown (its app
//! shutdown timeout, its in-app drain), and where it was read: the
//! vocabulary timeout discovery and the recognised servers share.

use std::fmt;

use crate::model::duration::{DurationError, Millis, parse_duration};

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
    /// A setting of a server rollsafe recognises (see `servers`), phrased
    /// for a message (`` `--graceful-timeout` ``), or its documented default.
    Server {
        server: &'static str,
        setting: String,
        defaulted: bool,
    },
    /// A server that exits as soon as its in-app drain is over.
    ExitsAfterDrain {
        server: &'static str,
    },
    /// A server that stops at once on SIGTERM.
    StopsAtOnce {
        server: &'static str,
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

impl TimeoutSource {
    /// A recognised server's documented default, not read from the manifest.
    pub fn is_server_default(&self) -> bool {
        matches!(
            self.origin,
            TimeoutOrigin::Server {
                defaulted: true,
                ..
            }
        )
    }
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
            TimeoutOrigin::Server {
                server,
                setting,
                defaulted: false,
            } => write!(f, "{server}'s {setting}"),
            TimeoutOrigin::Server {
                server,
                setting,
                defaulted: true,
            } => write!(f, "{server}'s default {setting}"),
            TimeoutOrigin::ExitsAfterDrain { server } => {
                write!(f, "{server}, which exits when its drain ends")
            }
            TimeoutOrigin::StopsAtOnce { server } => {
                write!(f, "{server}, which stops at once on SIGTERM")
            }
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

/// Reads `text` as a duration found at `origin`.
pub(super) fn judge(text: &str, origin: TimeoutOrigin, pointer: Option<String>) -> ShutdownTimeout {
    let source = TimeoutSource { origin, pointer };
    match parse_duration(text) {
        Ok(value) => ShutdownTimeout::Known { value, source },
        Err(error) => ShutdownTimeout::Malformed {
            text: text.to_owned(),
            source,
            error,
        },
    }
}
