//! What each subcommand does. Output goes through `report`; the exit status
//! goes back to `main`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::apply::{self, Safety};
use crate::baseline::Baseline;
use crate::cli::{
    AuditArgs, ColorChoice, ExplainArgs, FailOn, LintArgs, OutputArgs, PolicyArgs, ServeArgs,
    TimelineArgs, TimelineFormat,
};
use crate::deadline::Deadline;
use crate::engine;
use crate::parallel::Grain;
use crate::policy::discover::{self, Governed};
use crate::policy::{Policy, Profile};
use crate::report::{self, Format, Run, catalog, human};
use crate::rules;
use crate::severity::Severity;
use crate::source::{InputError, Loaded, Loader};

/// Exit statuses, as ripgrep and most linters use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing at or above the failure threshold.
    Clean = 0,
    /// Findings at or above the threshold.
    Findings = 1,
    /// Usage or input errors.
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

/// The policy the flags select.
pub fn resolve_policy(args: &PolicyArgs) -> Result<Policy, Vec<InputError>> {
    let mut policy = match &args.policy {
        Some(path) => Policy::from_file(path)?,
        None => Policy::builtin(args.profile.unwrap_or(Profile::Default))?,
    };
    if let Some(version) = args.kubernetes_version {
        policy.kubernetes_version = version;
    }
    Ok(policy)
}

/// [`resolve_policy`], with its errors written to `err`.
fn resolve_policy_or_report(
    args: &PolicyArgs,
    color: bool,
    err: &mut dyn Write,
) -> std::io::Result<Option<Policy>> {
    match resolve_policy(args) {
        Ok(policy) => Ok(Some(policy)),
        Err(errors) => {
            report::human::render_errors(&errors, color, err)?;
            Ok(None)
        }
    }
}

fn use_color(choice: ColorChoice, stream_is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => stream_is_terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Columns human output wraps to: `COLUMNS`, else the terminal's width, else
/// [`human::DEFAULT_WIDTH`] (output to a file or a pipe).
fn output_width(stream_is_terminal: bool) -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    let from_terminal = || {
        stream_is_terminal
            .then(terminal_size::terminal_size)
            .flatten()
            .map(|(width, _)| usize::from(width.0))
            .filter(|&c| c > 0)
    };
    from_env
        .or_else(from_terminal)
        .unwrap_or(human::DEFAULT_WIDTH)
}

/// The paths `lint` judges, grouped by the policy file that governs them:
/// `--policy` for all, none with `--no-config` or `--profile`, else the
/// `.rollsafe.yaml` files found (see [`discover::govern`]); and the folders
/// that could not be walked to find them.
fn lint_groups(args: &LintArgs, cwd: Option<&Path>) -> (Vec<Governed>, Vec<InputError>) {
    let all = |config: Option<PathBuf>| Governed {
        config,
        paths: args.input.paths.clone(),
    };
    if let Some(path) = &args.policy.policy {
        return (vec![all(Some(path.clone()))], Vec::new());
    }
    let Some(cwd) = cwd.filter(|_| !args.no_config && args.policy.profile.is_none()) else {
        return (vec![all(None)], Vec::new());
    };
    // Standard input is looked up as the file it names, or from here.
    let stdin = Path::new(args.stdin_filename.as_deref().unwrap_or("."));
    discover::govern(&args.input.paths, stdin, cwd)
}

/// The policy of one group of paths, narrowed by `--select` and `--ignore`.
fn lint_policy(
    config: Option<&Path>,
    args: &LintArgs,
    select: &[&str],
    ignore: &[&str],
) -> Result<Policy, Vec<InputError>> {
    let mut policy = match config {
        Some(path) => {
            let mut policy = Policy::from_file(path)?;
            if let Some(version) = args.policy.kubernetes_version {
                policy.kubernetes_version = version;
            }
            policy
        }
        None => resolve_policy(&args.policy)?,
    };
    policy.select(select, ignore);
    Ok(policy)
}

/// Reads `paths` and judges them under `policy`, each document as its file
/// is read; only what the cross-object rules need is kept past that.
fn judge_paths(policy: &Policy, paths: &[PathBuf], args: &LintArgs) -> (Loaded, engine::Outcome) {
    let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
    let loader = Loader::new(&wants)
        .with_max_file_size(args.input.max_file_size)
        .with_stdin_name(args.stdin_filename.as_deref());
    // Standard input cannot be read twice, and under `--stdin-filename` the
    // judge would take it for the file it names.
    let renamed_stdin = args.stdin_filename.is_some() && paths.iter().any(|p| p.as_os_str() == "-");
    let reread_above = if renamed_stdin {
        usize::MAX
    } else {
        usize::try_from(args.input.reread_above).unwrap_or(usize::MAX)
    };
    let judge = engine::Judge::new(policy)
        .freezing_workloads()
        .rereading_files_above(reread_above);
    let no_deadline = Deadline::none();
    let (mut loaded, passes) = loader.load_paths_with(paths, |documents| {
        crate::parallel::map_in_order(&documents, Grain::Fine, |doc| {
            judge.document(doc, &no_deadline)
        })
    });
    let outcome = judge.gather(passes).and_then(|gathered| {
        // A long stream's workloads are judged as it is read again.
        let files: Vec<PathBuf> = gathered.reread().iter().map(PathBuf::from).collect();
        let (again, reread) = loader.load_paths_with(&files, |documents| {
            crate::parallel::map_in_order(&documents, Grain::Fine, |doc| {
                judge.reread_workload(doc, gathered.index(), &no_deadline)
            })
        });
        // A file gone or changed since the first read says so.
        for error in again.errors {
            let known = loaded
                .errors
                .iter()
                .any(|e| e.path == error.path && e.message == error.message);
            if !known {
                loaded.errors.push(error);
            }
        }
        judge.conclude(gathered, reread, &no_deadline)
    });
    let outcome = outcome.map(|(outcome, _)| outcome).unwrap_or_default();
    (loaded, outcome)
}

/// The runs of several groups as one: files and objects counted together,
/// findings in report order.
fn merge(runs: Vec<(Loaded, engine::Outcome)>) -> (Loaded, engine::Outcome) {
    let mut loaded = Loaded::default();
    let mut outcome = engine::Outcome::default();
    for (l, o) in runs {
        loaded.errors.extend(l.errors);
        loaded.files += l.files;
        outcome.findings.extend(o.findings);
        outcome.suppressed.extend(o.suppressed);
        outcome.errors.extend(o.errors);
        outcome.objects += o.objects;
        outcome.evaluated.extend(o.evaluated);
    }
    outcome.sort();
    (loaded, outcome)
}

/// The rule ids `--select` and `--ignore` name, or the first unknown name.
fn selection(names: &[String]) -> Result<Vec<&'static str>, String> {
    let mut ids = Vec::new();
    for name in names {
        ids.extend(rules::resolve_selector(name.trim())?);
    }
    Ok(ids)
}

pub fn lint(args: &LintArgs, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<Status> {
    let terminal = std::io::stdout().is_terminal();
    let color = use_color(args.output.color, terminal);
    let cwd = std::env::current_dir().ok();
    let cwd = cwd.as_deref();
    let (select, ignore) = match (
        selection(&args.selection.select),
        selection(&args.selection.ignore),
    ) {
        (Ok(select), Ok(ignore)) => (select, ignore),
        (Err(message), _) | (_, Err(message)) => {
            writeln!(err, "error: {message}")?;
            return Ok(Status::Error);
        }
    };
    let (groups, walk_errors) = lint_groups(args, cwd);
    if groups.len() > 1 && (args.fix || args.diff) {
        let names: Vec<String> = groups
            .iter()
            .map(|g| {
                g.config
                    .as_ref()
                    .map_or_else(|| "none".to_owned(), |c| format!("`{}`", c.display()))
            })
            .collect();
        writeln!(
            err,
            "error: the paths are governed by different policy files ({}): fix them one policy at a time, or pass `--policy` or `--no-config`",
            names.join(", ")
        )?;
        return Ok(Status::Error);
    }
    let mut policies = Vec::with_capacity(groups.len());
    for group in &groups {
        match lint_policy(group.config.as_deref(), args, &select, &ignore) {
            Ok(policy) => policies.push(policy),
            Err(errors) => {
                report::human::render_errors(&errors, color, err)?;
                return Ok(Status::Error);
            }
        }
    }
    let (Some(policy), Some(first)) = (policies.first(), groups.first()) else {
        return Ok(Status::Error);
    };
    let policy_files: Vec<String> = groups
        .iter()
        .filter_map(|g| g.config.as_ref())
        .map(|c| c.display().to_string())
        .collect();
    let baseline = match args.baseline.as_deref().map(Baseline::read).transpose() {
        Ok(baseline) => baseline,
        Err(error) => {
            report::human::render_errors(&[error], color, err)?;
            return Ok(Status::Error);
        }
    };
    crate::parallel::set_threads(args.input.threads);
    let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
    let loader = Loader::new(&wants)
        .with_max_file_size(args.input.max_file_size)
        .with_stdin_name(args.stdin_filename.as_deref())
        .keeping_sources();
    let paths = &first.paths;
    let (mut loaded, mut outcome) = if args.fix || args.diff {
        let loaded = loader.load_paths(paths);
        let outcome = engine::evaluate(&loaded.documents, policy);
        (loaded, outcome)
    } else {
        // Each group is judged under its own policy: the cross-object rules
        // match objects within a group.
        merge(
            groups
                .iter()
                .zip(&policies)
                .map(|(group, policy)| judge_paths(policy, &group.paths, args))
                .collect(),
        )
    };
    loaded.errors.extend(walk_errors);
    if args.fix || args.diff {
        let before = status_of(&loaded, &outcome, args.output.fail_on);
        let safety = if args.unsafe_fixes {
            Safety::All
        } else {
            Safety::SafeOnly
        };
        let stdin = if args.fix {
            apply::lint::Stdin::LeftAsItIs
        } else {
            apply::lint::Stdin::Fixed
        };
        let mut fixes = apply::lint::fix_run(&loaded, outcome, policy, safety, stdin);
        if args.diff {
            report::diff::render_diff(&fixes, cwd, out)?;
            report::diff::render_summary(&fixes, report::diff::Mode::Diff, cwd, err)?;
            return Ok(before);
        }
        let write_errors = write_fixes(&mut fixes);
        report::diff::render_summary(&fixes, report::diff::Mode::Fix, cwd, err)?;
        // Report what the files hold now.
        let mut again = Loaded::default();
        for (source, text) in fixes.original.iter().zip(&fixes.texts) {
            loader.load_text(source.name(), text.clone(), &mut again);
        }
        // Files that could not be read are not read again.
        again
            .errors
            .extend(loaded.errors.iter().filter(|e| e.file.is_none()).cloned());
        again.errors.extend(write_errors);
        outcome = engine::evaluate(&again.documents, policy);
        loaded = again;
    }
    let mut errors = loaded.errors;
    errors.extend(outcome.errors.iter().cloned());
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &outcome, &errors, cwd, color, err);
    }
    let stale = match &baseline {
        Some(baseline) => baseline.apply(&mut outcome, cwd),
        None => Vec::new(),
    };
    if let (Some(path), false) = (&args.baseline, stale.is_empty()) {
        report_stale(path, &stale, err)?;
    }
    let run = Run {
        outcome: &outcome,
        errors: &errors,
        files: loaded.files,
    };
    let human = human::Options {
        color,
        width: output_width(terminal),
        quiet: args.output.quiet,
        policy_files,
        stale_baseline: stale.len(),
    };
    report_run(&run, &args.output, policy, &human, out)
}

/// `--write-baseline`: the run's findings written to `path`; input errors
/// leave it unwritten, as a baseline of part of the input would be.
fn write_baseline(
    path: &Path,
    outcome: &engine::Outcome,
    errors: &[InputError],
    cwd: Option<&Path>,
    color: bool,
    err: &mut dyn Write,
) -> std::io::Result<Status> {
    if !errors.is_empty() {
        report::human::render_errors(errors, color, err)?;
        writeln!(
            err,
            "error: baseline `{}` not written: fix the input errors first",
            path.display()
        )?;
        return Ok(Status::Error);
    }
    let mut text = Vec::new();
    crate::baseline::write(outcome, cwd, &mut text)?;
    if let Err(error) = std::fs::write(path, text) {
        writeln!(err, "error: cannot write `{}`: {error}", path.display())?;
        return Ok(Status::Error);
    }
    writeln!(
        err,
        "wrote {} finding{} to baseline `{}`",
        outcome.findings.len(),
        if outcome.findings.len() == 1 { "" } else { "s" },
        path.display()
    )?;
    Ok(Status::Clean)
}

/// Baseline entries no finding matched: fixed, or their object renamed.
fn report_stale(
    path: &Path,
    stale: &[crate::baseline::Entry],
    err: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        err,
        "warning: {} entr{} of baseline `{}` match no finding (fixed, or renamed); write it again with `--write-baseline` to drop {}:",
        stale.len(),
        if stale.len() == 1 { "y" } else { "ies" },
        path.display(),
        if stale.len() == 1 { "it" } else { "them" },
    )?;
    for entry in stale {
        let container = entry
            .container
            .as_ref()
            .map_or_else(String::new, |c| format!(", container `{c}`"));
        writeln!(
            err,
            "  {}: {} on {}{container}",
            entry.file, entry.rule, entry.object
        )?;
    }
    Ok(())
}

/// Writes a run's report in the chosen format; the run's exit status.
fn report_run(
    run: &Run<'_>,
    output: &OutputArgs,
    policy: &Policy,
    human: &human::Options,
    out: &mut dyn Write,
) -> std::io::Result<Status> {
    let cwd = std::env::current_dir().ok();
    let cwd = cwd.as_deref();
    if output.statistics {
        match output.format {
            Format::Json => report::statistics::render_json(run, out)?,
            _ => report::statistics::render(run, human, out)?,
        }
        return Ok(status(run, output.fail_on));
    }
    match output.format {
        Format::Human => report::human::render_with(run, human, out)?,
        Format::Concise => report::concise::render(run, human, out)?,
        Format::Json => report::json::render(run, out)?,
        Format::Sarif => report::sarif::render(run, policy, cwd, out)?,
        Format::Github => report::github::render(run, cwd, out)?,
        Format::Junit => report::junit::render(run, threshold(output.fail_on), cwd, out)?,
    }
    Ok(status(run, output.fail_on))
}

/// Writes each changed file back (standard input never), each atomically and
/// only if it still holds what was read. A file that could not be written is
/// an input error of the run, and its fixes are given up.
fn write_fixes(fixes: &mut apply::lint::Fixes) -> Vec<InputError> {
    let mut errors = Vec::new();
    let changed: Vec<usize> = fixes.changed().collect();
    for index in changed {
        let source = Arc::clone(&fixes.original[index]);
        if source.name() == crate::source::STDIN {
            continue;
        }
        let path = std::path::Path::new(source.name());
        if let Err(error) = apply::write::replace_file(path, &source, &fixes.texts[index]) {
            errors.push(InputError::about(source.name(), error.to_string(), None));
            fixes.revert(index, error.to_string());
        }
    }
    errors
}

fn status_of(loaded: &Loaded, outcome: &engine::Outcome, fail_on: FailOn) -> Status {
    let mut errors = loaded.errors.clone();
    errors.extend(outcome.errors.iter().cloned());
    let run = Run {
        outcome,
        errors: &errors,
        files: loaded.files,
    };
    status(&run, fail_on)
}

/// The lowest severity that fails the run.
fn threshold(fail_on: FailOn) -> Option<Severity> {
    match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    }
}

fn status(run: &Run<'_>, fail_on: FailOn) -> Status {
    if !run.errors.is_empty() {
        return Status::Error;
    }
    let threshold = threshold(fail_on);
    let failing = threshold.is_some_and(|t| run.outcome.findings.iter().any(|f| f.severity >= t));
    if failing {
        Status::Findings
    } else {
        Status::Clean
    }
}

fn profiles() -> Result<(Policy, Policy), Vec<InputError>> {
    Ok((
        Policy::builtin(Profile::Default)?,
        Policy::builtin(Profile::Strict)?,
    ))
}

pub fn rules(out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<Status> {
    match profiles() {
        Ok((default, strict)) => {
            catalog::render_rules(&default, &strict, out)?;
            Ok(Status::Clean)
        }
        Err(errors) => {
            report::human::render_errors(&errors, false, err)?;
            Ok(Status::Error)
        }
    }
}

pub fn explain(
    args: &ExplainArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<Status> {
    if args.rule == rules::UNUSED_SUPPRESSION.id {
        catalog::render_explain_unused_suppression(out)?;
        return Ok(Status::Clean);
    }
    let Some(rule) = rules::find(&args.rule) else {
        let hint = rules::suggest(&args.rule)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| "; `rollsafe rules` lists them".to_owned());
        writeln!(err, "error: unknown rule `{}`{hint}", args.rule)?;
        return Ok(Status::Error);
    };
    match profiles() {
        Ok((default, strict)) => {
            catalog::render_explain(rule.info(), &default, &strict, out)?;
            Ok(Status::Clean)
        }
        Err(errors) => {
            report::human::render_errors(&errors, false, err)?;
            Ok(Status::Error)
        }
    }
}

/// `rollsafe completions SHELL`: the completion script clap_complete writes
/// from the command definitions.
pub fn completions(
    args: &crate::cli::CompletionsArgs,
    out: &mut dyn Write,
) -> std::io::Result<Status> {
    let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
    clap_complete::generate(args.shell, &mut command, "rollsafe", out);
    Ok(Status::Clean)
}

/// `rollsafe man [COMMAND]`: the man page of `rollsafe` or of one command
/// (`rollsafe-lint(1)`), in roff.
pub fn man(
    args: &crate::cli::ManArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<Status> {
    let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
    // Built, the commands carry the version (`propagate_version`) and their
    // usage names `rollsafe lint`, not `lint`.
    command.build();
    let page = match &args.command {
        None => clap_mangen::Man::new(command),
        Some(name) => {
            let Some(sub) = command.find_subcommand(name).cloned() else {
                let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
                writeln!(
                    err,
                    "error: no command `{name}`: one of {}",
                    names.join(", ")
                )?;
                return Ok(Status::Error);
            };
            clap_mangen::Man::new(sub)
                .title(format!("rollsafe-{name}"))
                .source(format!("rollsafe {}", env!("CARGO_PKG_VERSION")))
        }
    };
    page.render(out)?;
    Ok(Status::Clean)
}

/// `rollsafe audit`: reads the cluster, then reports as `lint` does.
pub fn audit(
    args: &AuditArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<Status> {
    use crate::cluster::audit::{self, Scope};
    let color = use_color(args.output.color, std::io::stdout().is_terminal());
    let Some(policy) = resolve_policy_or_report(&args.policy, color, err)? else {
        return Ok(Status::Error);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            writeln!(err, "error: cannot start the runtime: {error}")?;
            return Ok(Status::Error);
        }
    };
    let read = runtime.block_on(async {
        let (client, default_namespace) = crate::cluster::client(&args.cluster.target()).await?;
        let scope = match (&args.namespace, args.all_namespaces) {
            (_, true) => Scope::AllNamespaces,
            (Some(namespace), false) => Scope::Namespace(namespace.clone()),
            (None, false) => Scope::Namespace(default_namespace),
        };
        audit::read(&client, &scope).await
    });
    let documents = match read {
        Ok(documents) => documents,
        Err(error) => {
            writeln!(err, "error: {error}")?;
            return Ok(Status::Error);
        }
    };
    let outcome = engine::evaluate(&documents, &policy);
    let run = Run {
        outcome: &outcome,
        errors: &outcome.errors,
        files: 0,
    };
    let human = human::Options {
        color,
        width: output_width(std::io::stdout().is_terminal()),
        quiet: args.output.quiet,
        ..human::Options::plain(color)
    };
    report_run(&run, &args.output, &policy, &human, out)
}

/// `rollsafe serve`: resolves the policy, then serves until SIGTERM.
pub fn serve(args: &ServeArgs, err: &mut dyn Write) -> std::io::Result<Status> {
    let Some(policy) = resolve_policy_or_report(&args.policy, false, err)? else {
        return Ok(Status::Error);
    };
    crate::webhook::init_logging();
    let options = crate::webhook::ServeOptions {
        listen: args.listen,
        metrics_listen: args.metrics_listen,
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        drain_delay: args.drain_delay.into(),
        shutdown_timeout: args.shutdown_timeout.into(),
        cluster: args.cluster.target(),
    };
    let mutation = if args.mutate_all {
        crate::webhook::Mutation::All
    } else {
        crate::webhook::Mutation::OptedIn
    };
    let mut reviewer = crate::webhook::Reviewer::new(policy.clone(), args.mode, mutation);
    if args.cluster_view {
        use crate::cluster::{ClusterView, WatchedKind};
        let kinds = WatchedKind::for_view(args.cluster_view_configmaps);
        let view = ClusterView::new(&kinds, args.cluster_view_max_age.into());
        reviewer = reviewer.among(Arc::new(view), policy);
    }
    match crate::webhook::serve(options, reviewer) {
        Ok(()) => Ok(Status::Clean),
        Err(error) => {
            writeln!(err, "error: {error}")?;
            Ok(Status::Error)
        }
    }
}

/// `rollsafe server`: the language server, over standard input and output
/// until the editor says `exit`.
pub fn server(err: &mut dyn Write) -> std::io::Result<Status> {
    match crate::lsp::run() {
        Ok(status) => Ok(status),
        Err(error) => {
            writeln!(err, "error: {error}")?;
            Ok(Status::Error)
        }
    }
}

pub fn timeline(
    args: &TimelineArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<Status> {
    let color = use_color(args.color, std::io::stdout().is_terminal());
    let Some(policy) = resolve_policy_or_report(&args.policy, color, err)? else {
        return Ok(Status::Error);
    };
    crate::parallel::set_threads(args.input.threads);
    let wants = |api_version: &str, kind: &str| engine::wants(&policy, api_version, kind);
    let loaded = Loader::new(&wants)
        .with_max_file_size(args.input.max_file_size)
        .load_paths(&args.input.paths);
    let (timelines, undecodable) = crate::timeline::timelines(&loaded.documents, &policy);
    let mut errors = loaded.errors;
    errors.extend(undecodable);
    match args.format {
        TimelineFormat::Human => {
            report::timeline::render(&timelines, color, out)?;
            report::human::render_errors(&errors, color, err)?;
        }
        TimelineFormat::Json => report::timeline::render_json(&timelines, &errors, out)?,
    }
    Ok(if errors.is_empty() {
        Status::Clean
    } else {
        Status::Error
    })
}

/// `rollsafe export`: the policy's rules as admission policies.
pub fn export(
    args: &crate::cli::ExportArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<Status> {
    use crate::cli::ExportKind;
    let color = use_color(ColorChoice::Auto, std::io::stderr().is_terminal());
    let Some(policy) = resolve_policy_or_report(&args.policy, color, err)? else {
        return Ok(Status::Error);
    };
    let options = crate::export::Options {
        validating: args.kind != ExportKind::Mutating,
        mutating: args.kind != ExportKind::Validating,
        mutate_all: args.mutate_all,
    };
    crate::export::render(&crate::export::export(&policy, &options), out)?;
    Ok(Status::Clean)
}
