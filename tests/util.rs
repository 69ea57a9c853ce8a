//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use rollsafe::engine::{self, Outcome};
use rollsafe::policy::{Policy, Profile};
use rollsafe::source::{Loaded, Loader};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(relative: &str) -> PathBuf {
    repo().join("testdata").join(relative)
}

/// `../shared/` beside the repository, when this checkout has one.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = repo().join("..").join("shared").join(relative);
    path.exists().then_some(path)
}

pub fn policy(profile: Profile) -> Policy {
    Policy::builtin(profile).unwrap_or_else(|errors| panic!("built-in policy: {errors:?}"))
}

/// Loads paths the way `rollsafe lint --fix` does (keeping the texts) and
/// evaluates them.
pub fn lint(paths: &[PathBuf], policy: &Policy) -> (Loaded, Outcome) {
    let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
    let loaded = Loader::new(&wants).keeping_sources().load_paths(paths);
    let outcome = engine::evaluate(&loaded.documents, policy);
    (loaded, outcome)
}

/// Files below `dir` with one of the manifest extensions, sorted.
pub fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Runs the `rollsafe` binary in `cwd` (the repository when `None`), with
/// `stdin` piped in when given.
pub fn run_rollsafe(
    args: &[&str],
    stdin: Option<&str>,
    cwd: Option<&Path>,
) -> std::process::Output {
    run_rollsafe_in(args, stdin, cwd, &[])
}

/// [`run_rollsafe`] from the repository, with `env` set.
pub fn run_rollsafe_env(
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> std::process::Output {
    run_rollsafe_in(args, stdin, None, env)
}

fn run_rollsafe_in(
    args: &[&str],
    stdin: Option<&str>,
    cwd: Option<&Path>,
    env: &[(&str, &str)],
) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(args)
        .current_dir(cwd.map_or_else(repo, Path::to_owned))
        .env_remove("NO_COLOR")
        // Wrapping follows `COLUMNS`: a test sets it, or gets the default.
        .env_remove("COLUMNS")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start rollsafe: {e}"));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

/// [`run_rollsafe`] as a program would run it from `cwd`, killed (and the
/// test failed) if it has not finished within `limit`: for inputs that once
/// made it hang.
pub fn run_rollsafe_within(
    args: &[&str],
    cwd: &Path,
    limit: std::time::Duration,
) -> std::process::Output {
    use std::process::{Command, Stdio};
    let child = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start rollsafe: {e}"));
    let pid = child.id();
    // The output is read while the process runs: a full pipe would stop it.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(limit) {
        Ok(output) => output.unwrap_or_else(|e| panic!("{e}")),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("rollsafe {args:?} still running after {limit:?}");
        }
    }
}

/// A scratch folder under the target directory, emptied first.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// Writes `text` to `path`, creating its folder.
pub fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A process's exit code (-1 when a signal ended it).
pub fn code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output read as JSON, or the test fails showing it.
pub fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

/// Two replicas serving a port, with no probes, no drain delay and no PDB:
/// a readiness-probe error and more.
pub const BARE_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: bare, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec:
      containers:
        - name: app
          image: example/app:1
          ports: [{containerPort: 8080}]
";
