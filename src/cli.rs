//! Command-line definitions. What each command does lives in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::KubeVersion;
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
