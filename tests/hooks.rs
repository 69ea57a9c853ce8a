//! The files other tools read: the pre-commit hook definitions and the CI
//! examples parse, and run commands that exist.

use std::collections::BTreeSet;

use serde_yaml::Value;

use crate::util;

fn yaml(relative: &str) -> Value {
    let path = util::repo().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string `{key}` in {value:?}"))
}

/// The binary's file name, as `cargo install` puts it on PATH.
fn binary_name() -> String {
    std::path::Path::new(env!("CARGO_BIN_EXE_rollsafe"))
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned()
}

/// A Service in one file and, in another, the Deployment it sends traffic
/// to, on a port the container does not declare: only with both in view does
/// the container serve traffic (and need a readinessProbe).
fn service_and_deployment(dir: &std::path::Path) {
    util::write(
        &dir.join("k8s/service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n",
    );
    util::write(
        &dir.join("k8s/web.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: web:1}]\n",
    );
    util::write(&dir.join("values.yaml"), "replicas: 3\n");
}

#[test]
fn pre_commit_hooks_run_rollsafe_lint_on_yaml_and_json() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_sequence().unwrap_or_else(|| panic!("not a list"));
    let ids: BTreeSet<&str> = hooks.iter().map(|h| text(h, "id")).collect();
    for id in [
        "rollsafe",
        "rollsafe-tree",
        "rollsafe-cargo",
        "rollsafe-system",
    ] {
        assert!(ids.contains(id), "no hook {id}: {ids:?}");
    }
    assert_eq!(ids.len(), hooks.len(), "ids are unique");
    let dir = util::scratch_dir("pre-commit");
    service_and_deployment(&dir);
    util::write(&dir.join("package.json"), "{\"name\": \"x\"}\n");
    for hook in hooks {
        let id = text(hook, "id");
        let language = text(hook, "language");
        match language {
            // pre-commit runs `pip install .`: the root pyproject.toml, which
            // must install the release's wheel, not build from source.
            "python" => assert!(util::repo().join("pyproject.toml").exists()),
            // pre-commit builds the repository with `cargo install`.
            "rust" => assert!(util::repo().join("Cargo.toml").exists()),
            "system" => {}
            other => panic!("{id}: language {other}"),
        }
        let types: Vec<&str> = hook["types_or"]
            .as_sequence()
            .map(|t| t.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(types, ["yaml", "json"], "{id}");
        let entry: Vec<&str> = text(hook, "entry").split_whitespace().collect();
        assert_eq!(entry.first().copied(), Some(binary_name().as_str()), "{id}");
        assert_eq!(entry.get(1).copied(), Some("lint"), "{id}");
        // Run the entry as pre-commit does: its arguments, the hook's `args`,
        // then the staged files unless `pass_filenames: false`. Only
        // k8s/web.yaml (and two files that are no manifests) are staged.
        let mut args: Vec<&str> = entry[1..].to_vec();
        let hook_args = hook["args"].as_sequence().cloned().unwrap_or_default();
        args.extend(hook_args.iter().filter_map(Value::as_str));
        let whole_tree = hook["pass_filenames"].as_bool() == Some(false);
        if !whole_tree {
            args.extend(["k8s/web.yaml", "values.yaml", "package.json"]);
        }
        let output = util::run_rollsafe(&args, None, Some(&dir));
        let stdout = String::from_utf8_lossy(&output.stdout);
        if whole_tree {
            // The Service committed earlier is read: the container serves
            // traffic and has no readinessProbe.
            assert_eq!(output.status.code(), Some(1), "{id}: {stdout}");
            assert!(stdout.contains("readiness-probe-missing"), "{stdout}");
            assert!(stdout.contains("from 4 files"), "{stdout}");
        } else {
            // The staged file alone: nothing tells that the container serves.
            assert_eq!(output.status.code(), Some(0), "{id}: {stdout}");
            assert!(stdout.contains("from 3 files"), "{stdout}");
        }
    }
}

/// pre-commit's `language: python` installs the root pyproject.toml, which
/// must pin the wheel of this very version (and the wheel's project takes its
/// version from Cargo.toml).
#[test]
fn the_pre_commit_package_pins_this_release_wheel() {
    let read = |path: &str| {
        std::fs::read_to_string(util::repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let version = env!("CARGO_PKG_VERSION");
    let shim = read("pyproject.toml");
    assert!(
        shim.contains(&format!("dependencies = [\"rollsafe=={version}\"]")),
        "pyproject.toml must depend on rollsafe=={version}"
    );
    assert!(shim.contains(&format!("version = \"{version}\"")), "{shim}");
    let wheel = read("python/pyproject.toml");
    assert!(wheel.contains("bindings = \"bin\""), "{wheel}");
    assert!(
        wheel.contains("manifest-path = \"../Cargo.toml\""),
        "{wheel}"
    );
    assert!(wheel.contains("dynamic = [\"version\"]"), "{wheel}");
    assert!(wheel.contains("name = \"rollsafe\""), "{wheel}");
}

/// The steps of every job of a GitHub Actions workflow.
fn steps(workflow: &Value) -> Vec<Value> {
    workflow["jobs"]
        .as_mapping()
        .map(|jobs| {
            jobs.values()
                .flat_map(|job| job["steps"].as_sequence().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_github_actions_example_uploads_sarif() {
    let workflow = yaml("docs/github-actions.yml");
    assert_eq!(
        workflow["permissions"]["security-events"].as_str(),
        Some("write")
    );
    let steps = steps(&workflow);
    let lint = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|run| run.contains("rollsafe lint --format sarif"))
        .unwrap_or_else(|| panic!("no step runs `rollsafe lint --format sarif`"));
    let (command, file) = lint
        .split_once('>')
        .unwrap_or_else(|| panic!("the SARIF is not written to a file: {lint}"));
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .unwrap_or_else(|| panic!("no upload-sarif step"));
    assert_eq!(text(&upload["with"], "sarif_file"), file.trim());
    assert_eq!(upload["if"].as_str(), Some("always()"));
    // The command runs as written (on a folder of manifests).
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    assert_eq!(args[..3], ["lint", "--format", "sarif"]);
    let dir = util::scratch_dir("github-actions");
    std::fs::create_dir_all(dir.join("deploy")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        util::testdata("examples/catalog.yaml"),
        dir.join("deploy/catalog.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let output = util::run_rollsafe(&args, None, Some(&dir));
    assert_eq!(output.status.code(), Some(0));
    let log: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log["version"], "2.1.0");
}

#[test]
fn the_gitlab_example_reports_junit() {
    let ci = yaml("docs/gitlab-ci.yml");
    let job = &ci["rollsafe"];
    let script: Vec<&str> = job["script"]
        .as_sequence()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let lint = script
        .iter()
        .find(|line| line.contains("rollsafe lint --format junit"))
        .unwrap_or_else(|| panic!("no `rollsafe lint --format junit` in {script:?}"));
    let file = lint.split_once('>').map(|(_, f)| f.trim()).unwrap_or("");
    assert_eq!(text(&job["artifacts"]["reports"], "junit"), file);
    assert_eq!(job["artifacts"]["when"].as_str(), Some("always"));
}

/// The release workflow builds what the README promises, and the image it
/// pushes is deploy/Dockerfile's, FROM scratch with the static build that
/// the Dockerfile's own build stage runs.
#[test]
fn the_release_ships_wheels_static_binaries_and_a_scratch_image() {
    let workflow = yaml(".github/workflows/release.yml");
    let jobs = &workflow["jobs"];
    let targets = |job: &str| -> BTreeSet<String> {
        jobs[job]["strategy"]["matrix"]["include"]
            .as_sequence()
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| row["target"].as_str().or(row["name"].as_str()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let platforms: BTreeSet<String> = [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(targets("build"), platforms);
    let run: String = jobs["build"]["steps"]
        .as_sequence()
        .map(|steps| {
            steps
                .iter()
                .filter_map(|s| s["run"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    // Linux: the static build, as a wheel and the binary it carries.
    assert!(
        run.contains("scripts/build-static.sh out/rollsafe dist"),
        "{run}"
    );
    // macOS: a release wheel and the binary it carries; every wheel is run
    // once built.
    assert!(run.contains("maturin build --release --locked"), "{run}");
    assert!(run.contains("/tmp/venv/bin/rollsafe lint"), "{run}");
    let build = jobs["image"]["steps"]
        .as_sequence()
        .and_then(|steps| {
            steps.iter().find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("docker/build-push-action@"))
            })
        })
        .unwrap_or_else(|| panic!("no image build"));
    assert_eq!(text(&build["with"], "file"), "deploy/Dockerfile");
    assert_eq!(text(&build["with"], "target"), "release");
    assert_eq!(text(&build["with"], "platforms"), "linux/amd64,linux/arm64");

    let dockerfile = std::fs::read_to_string(util::repo().join("deploy/Dockerfile"))
        .unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert!(lines.contains(&"RUN scripts/build-static.sh /out/rollsafe"));
    assert!(lines.contains(&"FROM scratch AS release"));
    assert!(lines.contains(&"COPY dist/linux-${TARGETARCH}/rollsafe /rollsafe"));
    // Every stage that is an image is empty but for the binary.
    let images: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("FROM ") && !l.contains(" AS build"))
        .collect();
    assert_eq!(images.len(), 2, "{images:?}");
    assert!(
        images.iter().all(|l| l.starts_with("FROM scratch")),
        "{images:?}"
    );
    // The image's user is the one deploy/base runs as.
    assert_eq!(
        lines.iter().filter(|l| **l == "USER 65532:65532").count(),
        2
    );
    let deployment = std::fs::read_to_string(util::repo().join("deploy/base/deployment.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(deployment.contains("runAsUser: 65532"));
}
