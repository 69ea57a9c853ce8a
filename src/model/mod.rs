//! Documents → the typed view rules read.

pub mod duration;
pub mod env;
pub mod glob;
pub mod index;
pub mod object;
pub mod pdb;
pub mod rollout;
pub mod route;
pub mod selector;
pub mod serving;
pub mod shutdown;
pub mod version;
pub mod workload;

pub use duration::{Millis, parse_duration};
pub use index::{Index, Related};
pub use object::{KnownKind, ObjectRef, WorkloadKind};
pub use rollout::Rollout;
pub use version::KubeVersion;
pub use workload::{
    ContainerRef, ContainerRole, TemplatePaths, Workload, dotted_to_pointer, template_of,
};

/// Text that has made parsers of manifests stumble: empty, blank, lone
/// quotes, operators and escapes, half a substitution, a NUL, a line break.
/// The readings' tests feed it everywhere a manifest holds free text.
#[cfg(test)]
pub(crate) const ODD_TEXTS: &[&str] = &[
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
