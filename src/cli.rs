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
    /// Lint the workloads a cluster runs, with the objects around them.
    Audit(AuditArgs),
    /// Print the rules as ValidatingAdmissionPolicies and the webhook's
    /// repairs as a MutatingAdmissionPolicy, ready for `kubectl apply -f -`.
    Export(ExportArgs),
    /// Run the language server for editors (LSP over standard input and
    /// output): findings as you type, their fixes as quick fixes, and what a
    /// rollout or shutdown field resolves to on hover.
    Server(ServerArgs),
    /// Print a shell completion script, e.g. `rollsafe completions bash >
    /// ~/.local/share/bash-completion/completions/rollsafe`.
    Completions(CompletionsArgs),
    /// Print a man page in roff, e.g. `rollsafe man | man -l -`, or `rollsafe
    /// man lint` for one command's.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Speak over standard input and output, the only transport there is;
    /// accepted because editors pass it.
    #[arg(long)]
    pub stdio: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command whose page to print (`lint`, `serve` and so on); by default
    /// the page of `rollsafe` itself, which lists them.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// What to print: the validating policies, the mutating one, or both.
    #[arg(long, value_enum, default_value_t = ExportKind::All)]
    pub kind: ExportKind,
    /// Let the MutatingAdmissionPolicy repair every object, not only those
    /// annotated `rollsafe.dev/mutate: "true"` (as `serve --mutate-all`).
    #[arg(long)]
    pub mutate_all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    All,
    Validating,
    Mutating,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub input: InputArgs,
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
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Apply the rules' safe fixes to the files in place, then report what is left.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,
    /// Print the fixes as a unified diff instead of the report; change no file.
    #[arg(long)]
    pub diff: bool,
    /// With `--fix` or `--diff`, apply unsafe fixes too (see `rollsafe explain RULE`).
    #[arg(long)]
    pub unsafe_fixes: bool,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Ignore `.rollsafe.yaml` and `rollsafe.yaml` files: judge with
    /// `--profile` alone.
    #[arg(long, conflicts_with = "policy")]
    pub no_config: bool,
    /// Suppress the findings this baseline file lists (written by
    /// `--write-baseline`): only new findings are reported and fail the run.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Write every finding of this run to FILE as a baseline, and exit 0
    /// (on input errors: exit 2, write nothing).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fix", "diff"])]
    pub write_baseline: Option<PathBuf>,
    /// The name standard input goes by: in the report, in fingerprints, and
    /// where `.rollsafe.yaml` is looked for.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["fix", "diff"])]
    pub stdin_filename: Option<String>,
}

/// Which rules a lint runs, on top of the policy.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Run only these rules, of those the policy turns on: ids or families
    /// (`probes`, `rollout`, `shutdown`, `disruption`, `schema`, `routing`),
    /// comma-separated or repeated.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not run these rules: ids or families (or `unused-suppression`),
    /// comma-separated or repeated.
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub ignore: Vec<String>,
}

/// How findings are reported, and which fail the run.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Lowest severity that makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print how many findings each rule has instead of the findings (a
    /// JSON array with `--format json`).
    #[arg(long)]
    pub statistics: bool,
    /// Print the findings and nothing else: no summary, nothing when clean.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// What to read.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files, folders or `-` (stdin). Folders are walked for `*.yaml`,
    /// `*.yml` and `*.json` files without following symbolic links.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Refuse any input larger than this (`64MiB`, `512KiB`, or bytes).
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = size)]
    pub max_file_size: u64,
    /// Threads that read files and judge objects; 0 (the default) means one
    /// per core. The output is the same whatever the number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Judge the workloads of a file longer than this from a second read of
    /// it, rather than hold them until every file is read: memory stays
    /// that of the cross-object index, for the time of a second parse. The
    /// output is the same.
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = size)]
    pub reread_above: u64,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// A policy file (may `extends: default` or `strict`).
    #[arg(long, value_name = "FILE", conflicts_with = "profile")]
    pub policy: Option<PathBuf>,
    /// A built-in policy (default: `default`, or what a `.rollsafe.yaml`
    /// found by `lint` says).
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
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
    /// Watch the cluster's PodDisruptionBudgets, HorizontalPodAutoscalers and
    /// Services, so that reviews run the cross-object rules too.
    #[arg(long)]
    pub cluster_view: bool,
    /// Watch ConfigMaps too, for shutdown timeouts containers read from them
    /// (needs list/watch on ConfigMaps).
    #[arg(long, requires = "cluster_view")]
    pub cluster_view_configmaps: bool,
    /// When the cluster view has not heard from the API server for longer,
    /// reviews skip the cross-object rules.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub cluster_view_max_age: Millis,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Which cluster to read, as kubectl takes it.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: `KUBECONFIG`, `~/.kube/config`, or the pod's
    /// service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

impl ClusterArgs {
    pub fn target(&self) -> crate::cluster::Target {
        crate::cluster::Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }
}

/// `rollsafe audit`: lint what a cluster runs.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Namespace to read (default: the context's namespace).
    #[arg(
        long,
        short = 'n',
        value_name = "NAMESPACE",
        conflicts_with = "all_namespaces"
    )]
    pub namespace: Option<String>,
    /// Read every namespace.
    #[arg(long, short = 'A')]
    pub all_namespaces: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn duration(text: &str) -> Result<Millis, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

/// `64MiB`, `64M`, `512KiB`, `1GiB` (powers of 1024), or a number of bytes.
fn size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: give a number, e.g. `64MiB`"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit `{other}`: use KiB, MiB or GiB")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size("64MiB"), Ok(64 << 20));
        assert_eq!(size("512k"), Ok(512 << 10));
        assert_eq!(size("100"), Ok(100));
        assert!(size("lots").is_err());
        assert!(size("5 PiB").is_err());
    }
}
