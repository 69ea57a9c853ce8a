//! `rollsafe lint` against hostile and unlucky input: files it must not read,
//! writes that fail half way, inputs shaped to make it slow or loud. Each
//! test keeps a defect found by fuzzing or hostile testing fixed.

use std::path::Path;
use std::time::Duration;

use crate::util::{self, json, stderr, stdout};

/// Generous for a debug build on a busy machine; the defects hung forever.
const LIMIT: Duration = Duration::from_secs(60);

/// One Deployment per document, each needing one safe fix (a preStop hook).
fn fix_stream(documents: usize) -> String {
    (0..documents)
        .map(|i| {
            format!(
                "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web{i}
spec:
  replicas: 3
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet: {{path: /ready, port: 8080}}
"
            )
        })
        .collect()
}

/// Files in `dir` whose name starts with a dot: temporary files left behind.
fn hidden_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

/// A write that fails half way (here: a file-size limit of 0) leaves the
/// manifest whole, and nothing is reported as fixed.
#[test]
fn a_failed_write_leaves_the_file_whole() {
    let dir = util::scratch_dir("hardening/write-fails");
    let text = fix_stream(3);
    util::write(&dir.join("m.yaml"), &text);
    let binary = env!("CARGO_BIN_EXE_rollsafe");
    // The limit applies to rollsafe only; its output goes through a pipe.
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -f 0; exec '{binary}' lint --fix --format json m.yaml"
        ))
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("bash: {e}"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(dir.join("m.yaml")).ok().as_deref(),
        Some(text.as_str())
    );
    let message = stderr(&output);
    assert!(
        message.starts_with(
            "m.yaml was left as it was: 3 fixes not written (cannot write the fixes: "
        ),
        "{message}"
    );
    assert!(!message.contains("fixed "), "{message}");
    let report = json(&output);
    assert_eq!(report["summary"]["inputErrors"], 1, "{report}");
    assert_eq!(hidden_files(&dir), Vec::<String>::new());
}

/// `--fix` keeps the file's mode and writes through a symbolic link.
#[cfg(unix)]
#[test]
fn fixes_keep_the_mode_and_the_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = util::scratch_dir("hardening/link");
    util::write(&dir.join("real/m.yaml"), &fix_stream(1));
    std::fs::set_permissions(
        dir.join("real/m.yaml"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("real/m.yaml", dir.join("link.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let output = util::run_rollsafe_within(&["lint", "--fix", "link.yaml"], &dir, LIMIT);
    assert!(
        stderr(&output).starts_with("fixed 1 finding in 1 file"),
        "{}",
        stderr(&output)
    );
    let link = std::fs::symlink_metadata(dir.join("link.yaml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(link.file_type().is_symlink());
    let fixed = std::fs::read_to_string(dir.join("real/m.yaml")).unwrap_or_default();
    assert!(fixed.contains("preStop"), "{fixed}");
    let mode = std::fs::metadata(dir.join("real/m.yaml")).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode.ok(), Some(0o600));
}

/// A folder walk reads neither a symbolic link (a committed link to
/// `/proc/self/environ` printed the environment) nor a FIFO (it hung), and
/// a named input is refused past `--max-file-size` or when it is binary,
/// without quoting it.
#[cfg(unix)]
#[test]
fn walks_read_only_regular_files_and_inputs_are_bounded() {
    let dir = util::scratch_dir("hardening/walk");
    let secret = dir.join("outside/environ");
    util::write(&secret, "PATH=/usr/bin\0GITHUB_TOKEN=ghp_NOTAREALTOKEN\0");
    util::write(&dir.join("manifests/web.yaml"), &fix_stream(1));
    std::os::unix::fs::symlink(&secret, dir.join("manifests/environ.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("manifests/zero.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let fifo = dir.join("manifests/fifo.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(status.success());
    let output = util::run_rollsafe_within(
        &[
            "lint",
            "--format",
            "json",
            "--fail-on",
            "never",
            "manifests",
        ],
        &dir,
        LIMIT,
    );
    let report = json(&output);
    assert_eq!(report["summary"]["files"], 1, "{report}");
    assert_eq!(report["summary"]["inputErrors"], 0, "{report}");
    assert!(!stdout(&output).contains("ghp_"), "the secret was read");

    // Named on the command line, each is read as asked, within bounds.
    let output = util::run_rollsafe_within(
        &["lint", "--color", "never", "outside/environ"],
        &dir,
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(
        text.contains("not a text file (it contains NUL bytes)"),
        "{text}"
    );
    assert!(!text.contains("ghp_"), "{text}");
    let output = util::run_rollsafe_within(
        &["lint", "--max-file-size", "1KiB", "manifests/zero.yaml"],
        &dir,
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).contains("larger than 1 KiB"),
        "{}",
        stdout(&output)
    );
    let output = util::run_rollsafe_within(
        &["lint", "--max-file-size", "100", "manifests/web.yaml"],
        &dir,
        LIMIT,
    );
    assert!(
        stdout(&output).contains("larger than 100 bytes"),
        "{}",
        stdout(&output)
    );
}

/// A policy that extends something endless is refused, not read forever.
#[test]
fn a_policy_extending_dev_zero_is_refused() {
    let dir = util::scratch_dir("hardening/policy");
    util::write(
        &dir.join("policy.yaml"),
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: /dev/zero\n",
    );
    util::write(&dir.join("m.yaml"), &fix_stream(1));
    let output =
        util::run_rollsafe_within(&["lint", "--policy", "policy.yaml", "m.yaml"], &dir, LIMIT);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("/dev/zero: cannot read policy: larger than 1 MiB"),
        "{}",
        stderr(&output)
    );
}

/// A subfolder that cannot be read is one error naming it; the walk lints
/// everything else.
#[cfg(unix)]
#[test]
fn an_unreadable_subfolder_is_reported_and_skipped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = util::scratch_dir("hardening/unreadable");
    for i in 0..30 {
        util::write(&dir.join(format!("walk/f{i}.yaml")), &fix_stream(1));
    }
    std::fs::create_dir_all(dir.join("walk/locked")).unwrap_or_else(|e| panic!("{e}"));
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    mode(&dir.join("walk/locked"), 0o000);
    for folder in [dir.as_path(), &dir.join("walk")] {
        mode(folder, 0o755);
    }
    for i in 0..30 {
        mode(&dir.join(format!("walk/f{i}.yaml")), 0o644);
    }
    // Root reads any folder: drop to an unprivileged user for the run.
    let root =
        std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    let mut command = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(env!("CARGO_BIN_EXE_rollsafe"));
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_rollsafe"))
    };
    let output = command
        .args(["lint", "--format", "json", "--fail-on", "never", "walk"])
        .current_dir(&dir)
        .output();
    mode(&dir.join("walk/locked"), 0o755);
    let output = match output {
        Ok(output) => output,
        Err(error) if root => {
            eprintln!("skipped: cannot run as another user ({error})");
            return;
        }
        Err(error) => panic!("{error}"),
    };
    let report = json(&output);
    assert_eq!(report["summary"]["files"], 30, "{report}");
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["file"], "walk/locked", "{report}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("cannot read: "),
        "{report}"
    );
}

/// Every finding on a 200 KB one-line mapping quotes a window of the line,
/// not the line: the output grows with the findings, not with their product
/// with the line's length.
#[test]
fn findings_on_a_long_line_quote_a_window_of_it() {
    let dir = util::scratch_dir("hardening/long-line");
    let keys: Vec<String> = (0..5_000).map(|i| format!("k{i}: {i}")).collect();
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: {{{}}}\nspec:\n  containers: [{{name: app, image: nginx}}]\n",
        keys.join(", ")
    );
    util::write(&dir.join("m.yaml"), &text);
    let output = util::run_rollsafe_within(&["lint", "--color", "never", "m.yaml"], &dir, LIMIT);
    let out = stdout(&output);
    let findings = out.matches("error[invalid-field-value]").count();
    assert_eq!(
        findings, 5_000,
        "each label value is a number, not a string"
    );
    assert!(
        out.len() < findings * 1_200,
        "{} bytes for {findings} findings",
        out.len()
    );
    let longest = out
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or_default();
    assert!(longest < 400, "a line of {longest} characters");
    assert!(
        out.starts_with("× Pod/x: 5000 errors  m.yaml\n     5:12 │   labels: {k0: 0, k1: 1,"),
        "lines and columns are the file's"
    );
    assert!(
        out.contains("\n  5:62779 │ …987, k4988: 4988,"),
        "a window far along the line, at the file's column"
    );
}

/// `--fix` on a stream of Deployments fixes each (once, in one write).
#[test]
fn fixes_of_a_long_stream_are_all_written() {
    let dir = util::scratch_dir("hardening/stream");
    util::write(&dir.join("s.yaml"), &fix_stream(300));
    let output = util::run_rollsafe_within(
        &["lint", "--fix", "--format", "json", "s.yaml"],
        &dir,
        LIMIT,
    );
    assert!(
        stderr(&output).starts_with("fixed 300 findings in 1 file"),
        "{}",
        stderr(&output)
    );
    let fixed = std::fs::read_to_string(dir.join("s.yaml")).unwrap_or_default();
    assert_eq!(fixed.matches("preStop:").count(), 300);
    let again = util::run_rollsafe_within(&["lint", "--diff", "s.yaml"], &dir, LIMIT);
    assert!(stdout(&again).is_empty(), "a second --diff is empty");
}

/// Minified JSON with a non-ASCII character, and `<<` merge keys: each
/// finding is placed at its own line and column.
#[test]
fn minified_json_and_merge_keys_are_placed_exactly() {
    let dir = util::scratch_dir("hardening/minified");
    let env: Vec<String> = (0..2_000)
        .map(|i| format!("{{\"name\":\"E{i}\",\"value\":\"v\"}}"))
        .collect();
    let text = format!(
        "{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{{\"name\":\"wé\"}},\"spec\":{{\"replicas\":2,\"selector\":{{\"matchLabels\":{{\"a\":\"b\"}}}},\"template\":{{\"metadata\":{{\"labels\":{{\"a\":\"b\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"nginx\",\"env\":[{}],\"ports\":[{{\"containerPort\":80}}]}}]}}}}}}}}",
        env.join(",")
    );
    util::write(&dir.join("big.json"), &text);
    let output = util::run_rollsafe_within(&["lint", "--format", "json", "big.json"], &dir, LIMIT);
    let report = json(&output);
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let probe = findings
        .iter()
        .find(|f| f["rule"] == "readiness-probe-missing")
        .unwrap_or_else(|| panic!("{report}"));
    let at = text.find("{\"name\":\"c\"").unwrap_or_default();
    // Columns count characters: `é` is one, of two bytes.
    let column = text[..at].chars().count() + 1;
    assert_eq!(column, at, "{probe}");
    assert_eq!(probe["column"], column, "{probe}");
    assert_eq!(probe["line"], 1);

    let keys: Vec<String> = (0..20_000).map(|i| format!("k{i}: \"{i}\"")).collect();
    let merged = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels:\n    <<: {{{}}}\n    k7: seven\nspec:\n  containers: [{{name: app, image: nginx}}]\n",
        keys.join(", ")
    );
    util::write(&dir.join("merge.yaml"), &merged);
    let output =
        util::run_rollsafe_within(&["lint", "--format", "json", "merge.yaml"], &dir, LIMIT);
    assert_eq!(
        json(&output)["summary"]["inputErrors"],
        0,
        "{}",
        stdout(&output)
    );
}
