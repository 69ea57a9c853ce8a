//! Whole-process benchmark of `rollsafe lint` against a baseline that only
//! parses the same bytes into `serde_json::Value` with serde_yaml.
//!
//! `cargo bench` runs it. Each measurement is a separate process (what
//! pre-commit and CI pay), timed by wall clock with its peak RSS read from
//! `wait4`. The baseline is this same executable re-run with `--baseline`, so
//! both sides pay process start-up. Figures are reported as ratios to the
//! baseline of the same run, never asserted: machines differ.
//!
//! Workloads: the shared corpus (`../shared/corpus/real/`, else the bundled
//! `testdata/corpus/`), one ~4 KB manifest (a pre-commit run on one file), and
//! a CustomResourceDefinition-heavy file (kinds rollsafe does not read should
//! cost little more than scanning them).
//!
//! A third table times inputs shaped to make a linter slow against the same
//! inputs without the trigger, generated in a temporary folder: `--diff` on a
//! stream of 1,000 Deployments that each need a fix (against linting it),
//! minified JSON with one non-ASCII character (against the same in ASCII),
//! and 80,000 keys merged with `<<` (against the same keys written out). Each
//! should stay within a small factor: nothing here is quadratic.
//!
//! The scale table (`cargo bench --bench lint -- scale` runs it alone) times
//! what platform teams lint in one CI job, generated in a temporary folder
//! from the corpus: a ~100 MB tree (copies of the corpus) on every core and
//! on one thread, and one ~80 MB stream of 20,000 Deployments (and one of
//! 5,000, to show how memory grows with the stream).
//!
//! A second table gives the cost of the schema rules (`unknown-field`,
//! `invalid-field-value`): the same lint with the default policy
//! (`testdata/policies/default.yml`) against one that turns both off
//! (`testdata/policies/no-schema-rules.yml`), over the whole shared corpus
//! (`../shared/corpus/`) when present, the bundled corpus and the one-file
//! run, where compiling the validators is most of the cost. It gives CPU time
//! (user + system) beside wall time: on a shared machine CPU time is the
//! steadier figure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--baseline") {
        baseline(&args[1..]);
        return;
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = repo.join("../shared/corpus/real");
    let corpus = if shared.is_dir() {
        shared
    } else {
        repo.join("testdata/corpus")
    };
    if let [flag, dir, corpus] = &args[..]
        && flag == "--generate-scale"
    {
        generate_scale(&repo, Path::new(corpus), Path::new(dir));
        return;
    }
    if args.first().map(String::as_str) == Some("scale") {
        scale(&corpus);
        return;
    }
    let workloads = [
        ("corpus", corpus.clone()),
        (
            "one 4 KB file",
            repo.join("testdata/corpus/knative-serving/activator.yaml"),
        ),
        (
            "CRD-heavy file",
            repo.join("testdata/corpus/cert-manager/cert-manager.yaml"),
        ),
    ];
    println!("rollsafe lint vs. serde_yaml → serde_json::Value, {RUNS} runs each, medians");
    println!(
        "{:<16} {:>9} {:>11} {:>11} {:>7} {:>10} {:>10} {:>7}",
        "workload", "bytes", "lint ms", "base ms", "ratio", "lint MiB", "base MiB", "ratio"
    );
    for (name, path) in workloads {
        let bytes = total_bytes(&path);
        let path = path.to_string_lossy().into_owned();
        let lint = measure(
            env!("CARGO_BIN_EXE_rollsafe"),
            &["lint", "--format", "json", "--fail-on", "never", &path],
        );
        let exe = std::env::current_exe().unwrap_or_default();
        let base = measure(&exe.to_string_lossy(), &["--baseline", &path]);
        println!(
            "{:<16} {:>9} {:>11.2} {:>11.2} {:>6.2}x {:>10.1} {:>10.1} {:>6.2}x",
            name,
            bytes,
            ms(lint.wall),
            ms(base.wall),
            lint.wall.as_secs_f64() / base.wall.as_secs_f64().max(1e-9),
            mib(lint.rss_kib),
            mib(base.rss_kib),
            lint.rss_kib as f64 / (base.rss_kib.max(1)) as f64,
        );
    }
    scale(&corpus);
    schema_cost(&repo);
    hostile();
}

/// Deployments in each generated stream.
const STREAMS: [usize; 2] = [5_000, 20_000];

/// Writes the scale workloads into `dir`: copies of `corpus` totalling about
/// 100 MB, and the streams of Deployments.
fn generate_scale(repo: &Path, corpus: &Path, dir: &Path) {
    let tree = dir.join("tree");
    let copies = (100_000_000 / total_bytes(corpus).max(1)).max(1);
    for copy in 0..copies {
        copy_tree(corpus, &tree.join(format!("copy{copy}")));
    }
    let deployment =
        std::fs::read_to_string(repo.join("testdata/corpus/knative-serving/activator.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
    let deployment = deployment
        .split("\n---\n")
        .find(|d| d.contains("kind: Deployment"))
        .unwrap_or_else(|| panic!("activator.yaml holds no Deployment"))
        .to_owned();
    for count in STREAMS {
        let path = dir.join(format!("stream-{count}.yaml"));
        let text: String = (0..count)
            .map(|i| {
                let named =
                    deployment.replacen("name: activator\n", &format!("name: activator-{i}\n"), 1);
                format!("{named}\n---\n")
            })
            .collect();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Runs of each scale workload: each takes seconds.
const SCALE_RUNS: usize = 5;

/// A large tree and long streams, against the baseline on the same bytes.
fn scale(corpus: &Path) {
    let dir = std::env::temp_dir().join(format!("rollsafe-bench-scale-{}", std::process::id()));
    // Generated by a child: a process's peak RSS passes to the children it
    // starts later (Linux keeps it across exec), and would hide theirs.
    let exe = std::env::current_exe().unwrap_or_default();
    let generated = Command::new(&exe)
        .args([
            "--generate-scale".as_ref(),
            dir.as_os_str(),
            corpus.as_os_str(),
        ])
        .status()
        .unwrap_or_else(|e| panic!("cannot generate the scale inputs: {e}"));
    assert!(generated.success(), "generating the scale inputs failed");
    let tree = dir.join("tree");
    let copies = std::fs::read_dir(&tree).map_or(0, |entries| entries.count());
    let streams = STREAMS.map(|count| dir.join(format!("stream-{count}.yaml")));
    println!();
    println!(
        "scale: rollsafe lint vs. serde_yaml → serde_json::Value (one thread), {SCALE_RUNS} runs each, medians"
    );
    println!(
        "{:<26} {:>10} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7}",
        "workload", "MB", "lint s", "base s", "ratio", "lint MiB", "base MiB", "ratio"
    );
    let mut rows: Vec<(String, PathBuf, Vec<&str>)> = vec![
        (format!("tree ({copies} corpora)"), tree.clone(), vec![]),
        (
            "tree, --threads 1".to_owned(),
            tree.clone(),
            vec!["--threads", "1"],
        ),
    ];
    for path in &streams {
        let count = path
            .file_stem()
            .map(|s| s.to_string_lossy().replace("stream-", ""))
            .unwrap_or_default();
        rows.push((
            format!("stream of {count} Deployments"),
            path.clone(),
            vec![],
        ));
    }
    for (name, path, extra) in rows {
        let path_text = path.to_string_lossy().into_owned();
        let mut args = vec![
            "lint",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--max-file-size",
            "1073741824",
        ];
        args.extend(extra);
        args.push(&path_text);
        let lint = measure_n(env!("CARGO_BIN_EXE_rollsafe"), &args, SCALE_RUNS);
        let exe = std::env::current_exe().unwrap_or_default();
        let base = measure_n(
            &exe.to_string_lossy(),
            &["--baseline", &path_text],
            SCALE_RUNS,
        );
        println!(
            "{:<26} {:>10.1} {:>9.2} {:>9.2} {:>6.2}x {:>9.1} {:>9.1} {:>6.2}x",
            name,
            total_bytes(&path) as f64 / 1e6,
            lint.wall.as_secs_f64(),
            base.wall.as_secs_f64(),
            lint.wall.as_secs_f64() / base.wall.as_secs_f64().max(1e-9),
            mib(lint.rss_kib),
            mib(base.rss_kib),
            lint.rss_kib as f64 / (base.rss_kib.max(1)) as f64,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_tree(from: &Path, to: &Path) {
    for file in manifests(from) {
        let relative = file.strip_prefix(from).unwrap_or(&file);
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::fs::copy(&file, &target).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

/// Inputs with and without what once made a run quadratic.
fn hostile() {
    let dir = std::env::temp_dir().join(format!("rollsafe-bench-hostile-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path.to_string_lossy().into_owned()
    };
    let stream: String = (0..1_000)
        .map(|i| {
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web{i}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n        ports:\n        - containerPort: 8080\n        readinessProbe:\n          httpGet: {{path: /ready, port: 8080}}\n"
            )
        })
        .collect();
    let stream = write("stream.yaml", stream);
    let env: Vec<String> = (0..32_000)
        .map(|i| format!("{{\"name\":\"E{i}\",\"value\":\"v\"}}"))
        .collect();
    let minified = |note: &str| {
        format!(
            "{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{{\"name\":\"web\",\"annotations\":{{\"note\":\"{note}\"}}}},\"spec\":{{\"replicas\":2,\"selector\":{{\"matchLabels\":{{\"a\":\"b\"}}}},\"template\":{{\"metadata\":{{\"labels\":{{\"a\":\"b\"}}}},\"spec\":{{\"containers\":[{{\"name\":\"c\",\"image\":\"nginx\",\"env\":[{}]}}]}}}}}}}}",
            env.join(",")
        )
    };
    let non_ascii = write("non-ascii.json", minified("h\u{e9}llo"));
    let ascii = write("ascii.json", minified("hello"));
    let keys: Vec<String> = (0..80_000).map(|i| format!("k{i}: \"1\"")).collect();
    let labels = |merge: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  labels:\n    {merge}{{{}}}\n",
            keys.join(", ")
        )
    };
    let merged = write("merged.yaml", labels("<<: "));
    let written = write("written.yaml", labels("x: ").replace("x: {", "{"));
    let lint = ["lint", "--format", "json", "--fail-on", "never"];
    println!();
    println!(
        "inputs that once made a run quadratic, against the same without the trigger, {RUNS} runs each, medians"
    );
    println!(
        "{:<34} {:>12} {:>12} {:>7}",
        "trigger", "with ms", "without ms", "ratio"
    );
    let cases: [(&str, Vec<&str>, Vec<&str>); 3] = [
        (
            "--diff, 1,000 documents to fix",
            [&lint[..], &["--diff", &stream]].concat(),
            [&lint[..], &[stream.as_str()]].concat(),
        ),
        (
            "minified JSON, one non-ASCII char",
            [&lint[..], &[non_ascii.as_str()]].concat(),
            [&lint[..], &[ascii.as_str()]].concat(),
        ),
        (
            "80,000 keys merged with `<<`",
            [&lint[..], &[merged.as_str()]].concat(),
            [&lint[..], &[written.as_str()]].concat(),
        ),
    ];
    for (name, with, without) in cases {
        let with = measure(env!("CARGO_BIN_EXE_rollsafe"), &with);
        let without = measure(env!("CARGO_BIN_EXE_rollsafe"), &without);
        println!(
            "{:<34} {:>12.2} {:>12.2} {:>6.2}x",
            name,
            ms(with.wall),
            ms(without.wall),
            with.wall.as_secs_f64() / without.wall.as_secs_f64().max(1e-9)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `rollsafe lint` with and without the schema rules.
fn schema_cost(repo: &Path) {
    let policy = |name: &str| {
        repo.join("testdata/policies")
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    let (with, without) = (policy("default.yml"), policy("no-schema-rules.yml"));
    let shared = repo.join("../shared/corpus");
    let mut workloads = Vec::new();
    if shared.is_dir() {
        workloads.push(("shared corpus", shared));
    }
    workloads.push(("bundled corpus", repo.join("testdata/corpus")));
    workloads.push((
        "one 4 KB file",
        repo.join("testdata/corpus/knative-serving/activator.yaml"),
    ));
    println!();
    println!("schema rules on (default policy) vs. off, {RUNS} runs each, medians");
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>7} {:>9} {:>9} {:>7} {:>8} {:>8} {:>7}",
        "workload",
        "bytes",
        "on ms",
        "off ms",
        "ratio",
        "on cpu",
        "off cpu",
        "ratio",
        "on MiB",
        "off MiB",
        "ratio"
    );
    for (name, path) in workloads {
        let bytes = total_bytes(&path);
        let path = path.to_string_lossy().into_owned();
        let lint = ["lint", "--format", "json", "--fail-on", "never"];
        let on = measure(
            env!("CARGO_BIN_EXE_rollsafe"),
            &[&lint[..], &["--policy", &with, &path]].concat(),
        );
        let off = measure(
            env!("CARGO_BIN_EXE_rollsafe"),
            &[&lint[..], &["--policy", &without, &path]].concat(),
        );
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        println!(
            "{:<16} {:>9} {:>9.2} {:>9.2} {:>6.2}x {:>9.2} {:>9.2} {:>6.2}x {:>8.1} {:>8.1} {:>6.2}x",
            name,
            bytes,
            ms(on.wall),
            ms(off.wall),
            ratio(on.wall, off.wall),
            ms(on.cpu),
            ms(off.cpu),
            ratio(on.cpu, off.cpu),
            mib(on.rss_kib),
            mib(off.rss_kib),
            on.rss_kib as f64 / (off.rss_kib.max(1)) as f64,
        );
    }
}

/// What the baseline process does: read every manifest, split the YAML
/// stream and parse each document into a `serde_json::Value`.
fn baseline(paths: &[String]) {
    use serde::Deserialize;
    let mut documents = 0usize;
    for path in paths {
        for file in manifests(Path::new(path)) {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for document in serde_yaml::Deserializer::from_str(&text) {
                if serde_json::Value::deserialize(document).is_ok() {
                    documents += 1;
                }
            }
        }
    }
    std::hint::black_box(documents);
}

fn manifests(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

struct Sample {
    wall: Duration,
    /// User + system CPU time.
    cpu: Duration,
    rss_kib: i64,
}

/// Median wall time, CPU time and peak RSS over `RUNS` runs, after one warm-up.
/// The size of the manifests under `path`.
fn total_bytes(path: &Path) -> u64 {
    manifests(path)
        .iter()
        .filter_map(|p| p.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn measure(program: &str, args: &[&str]) -> Sample {
    measure_n(program, args, RUNS)
}

fn measure_n(program: &str, args: &[&str], runs: usize) -> Sample {
    let mut walls = Vec::with_capacity(runs);
    let mut cpus = Vec::with_capacity(runs);
    let mut rss = Vec::with_capacity(runs);
    for run in 0..=runs {
        let sample = run_once(program, args);
        if run > 0 {
            walls.push(sample.wall);
            cpus.push(sample.cpu);
            rss.push(sample.rss_kib);
        }
    }
    walls.sort();
    cpus.sort();
    rss.sort_unstable();
    Sample {
        wall: walls[runs / 2],
        cpu: cpus[runs / 2],
        rss_kib: rss[runs / 2],
    }
}

// `wait4` below reaps the child; std's `wait` would not report its peak RSS.
#[allow(clippy::zombie_processes)]
fn run_once(program: &str, args: &[&str]) -> Sample {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; the pid is our child's.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Sample {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        rss_kib: usage.ru_maxrss,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}
