//! Drain delay and app shutdown timeout of a container: the two numbers a
//! pod's grace period has to cover, and what the grace period must cover.
//!
//! Both are read from what the manifest says, never guessed from the image:
//! the drain delay from the `preStop` hook ([`drain`], with just enough of
//! `sh` in [`shell`] to find `sleep`s in a script), the shutdown timeout
//! from annotations, environment, flags or the policy ([`timeout`]). What
//! cannot be read is reported as such (assumed, malformed, unknown) so that
//! a rule can say why it judged the way it did. [`grace`] adds them up, and
//! [`budget`] lays out a pod's shutdown from them, once, for the rules and
//! the timeline.

pub mod budget;
mod command;
mod drain;
mod grace;
mod servers;
mod shell;
mod sleep;
mod stated;
mod timeout;

pub use budget::{
    ContainerShutdown, GracePeriod, HookFailure, PodShutdown, ShutdownSettings, shelless_glob,
};
pub use drain::{
    DelayBasis, DelayEdit, DrainDelay, NeededProgram, PreStopHook, ProgramKind, drain_delay,
    only_sleeps,
};
pub use grace::{needed_before_kill, needed_grace_seconds};
pub use sleep::{Delay, parse_sleep_operand};
pub use timeout::{
    IN_APP_DRAIN_ANNOTATION, SHUTDOWN_TIMEOUT_ANNOTATION, ShutdownTimeout, TimeoutOrigin,
    TimeoutSettings, TimeoutSource, shutdown_timeout,
};

/// What the tests of the readings share: a Deployment of one container.
#[cfg(test)]
mod testing {
    pub use crate::model::duration::Millis;
    pub use crate::model::env::ContainerEnv;
    pub use crate::model::index::Index;
    pub use crate::model::object::WorkloadKind;
    pub use crate::model::workload::{ContainerRef, Workload};
    pub use crate::source::Document;
    pub use serde_json::{Value, json};

    pub use super::drain::{Delay, DrainDelay, drain_delay};

    /// Unlike any delay written in these tests, so that an assumed one shows.
    pub const ASSUMED: Millis = Millis(4_321);

    pub fn deployment(container: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]}}}})
    }

    pub fn workload(value: Value) -> Workload {
        Workload::decode(
            &Document::detached("t", value),
            WorkloadKind::Deployment,
            WorkloadKind::Deployment.template_pointer(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    pub fn first(w: &Workload) -> ContainerRef<'_> {
        w.containers()
            .next()
            .unwrap_or_else(|| panic!("no container"))
    }

    pub fn drain_of(pre_stop: Value) -> DrainDelay {
        drain_in(json!({"name": "app", "image": "x", "lifecycle": {"preStop": pre_stop}}))
    }

    /// The drain delay of a whole container, its `env` included.
    pub fn drain_in(container: Value) -> DrainDelay {
        let w = workload(deployment(container));
        let c = first(&w);
        let env = ContainerEnv::of(&w, &c, &Index::default());
        drain_delay(&c, ASSUMED, &env)
    }

    pub fn exec(command: Value) -> DrainDelay {
        drain_of(json!({"exec": {"command": command}}))
    }

    pub fn secs(s: u64) -> Delay {
        Delay::Finite(Millis::from_secs(s))
    }

    pub const CMD: &str = "/spec/template/spec/containers/0/lifecycle/preStop/exec/command";

    // --- drain delay -------------------------------------------------------
}
