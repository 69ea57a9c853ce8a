//! Command-line definitions. What each command does lives in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use std::net::SocketAddr;

use crate::model::{KubeVersion, Millis, parse_duration};
use crate::policy::Profile;
use crate::report::Format;

/// Keeps Kubernetes rollouts and pod shutdowns free of dropped requests.
#[derive(Debug, Parser)]
#[command(name = "rollsafe", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint manifests: files, folders (recursively: *.yaml, *.yml, *.json) or `-` for stdin.
    Lint(LintArgs),
    /// List every rule with its severities and a one-line summary.
    Rules(PolicyArgs),
    /// Print what a rule checks, why it matters and how to fix it.
    Explain(ExplainArgs),
    /// Run the validating and mutating admission webhook (HTTPS).
    Serve(ServeArgs),
    /// Draw each workload's pod termination on a time axis, and its rollout step by step.
    Timeline(TimelineArgs),
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Files, folders or `-` (stdin).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TimelineFormat::Human)]
    pub format: TimelineFormat,
    /// When to colour the picture.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Files, folders or `-` (stdin).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Lowest severity that makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Apply the rules' safe fixes to the files in place, then report what is left.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// Print the fixes as a unified diff instead of the report; change no file.
    #[arg(long)]
    pub diff: bool,
    /// With `--fix` or `--diff`, apply unsafe fixes too (see `rollsafe explain RULE`).
    #[arg(long)]
    pub unsafe_fixes: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A policy file (may `extends: default` or `strict`).
    #[arg(long, value_name = "FILE", conflicts_with = "profile")]
    pub policy: Option<PathBuf>,
    /// A built-in policy.
    #[arg(long, value_enum, default_value_t = Profile::Default)]
    pub profile: Profile,
    /// The Kubernetes minor to judge against (1.25 or newer), e.g. `1.31`.
    #[arg(long, value_name = "X.Y")]
    pub kubernetes_version: Option<KubeVersion>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule id, e.g. `prestop-hook-missing`.
    pub rule: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the HTTPS listener for `/validate`, `/mutate`, `/healthz` and `/readyz`.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// PEM certificate chain; reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// PEM private key; reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Address of a plain-HTTP listener for `/metrics` (Prometheus text format).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// `enforce` denies findings at or above the policy's `denyOn`; `warn` never denies.
    #[arg(long, value_enum, default_value_t = crate::webhook::Mode::Enforce)]
    pub mode: crate::webhook::Mode,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// How long to keep serving after SIGTERM while endpoints stop sending traffic.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub drain_delay: Millis,
    /// How long in-flight reviews get to finish once the listener has closed.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = duration)]
    pub shutdown_timeout: Millis,
    /// Mutate every object that reaches `/mutate`, not only those annotated
    /// `rollsafe.dev/mutate: "true"`.
    #[arg(long)]
    pub mutate_all: bool,
}

fn duration(text: &str) -> Result<Millis, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
