//! What `rollsafe server` costs an editor.
//!
//! `cargo bench --bench lsp` edits a 1,000-line manifest (Deployments and
//! their Services) as a person types, one character at a time, and prints:
//!
//! - in process: the median and p90 time of the server's re-lint after an
//!   edit (apply the change, parse the changed document again, judge the
//!   objects, turn the findings into diagnostics), beside parsing the same
//!   text alone in the same process (rollsafe's loader, and serde_yaml to a
//!   `Value` as the `lint` bench's baseline does);
//! - over stdio: a real `rollsafe server` process sent 1,000 `didChange`
//!   notifications, each followed by a code-action request (which lints
//!   what is pending without waiting for the debounce), its RSS after 10
//!   and after 1,000 edits, and the median round trip of an edit to its
//!   diagnostics.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use lsp_types::{
    DidChangeTextDocumentParams, Position, Range, TextDocumentContentChangeEvent, TextDocumentItem,
    Uri, VersionedTextDocumentIdentifier,
};
use rollsafe::lsp::Workspace;
use rollsafe::source::{Loaded, Loader};
use serde_json::{Value, json};

/// Edits timed in process, and sent to the process.
const EDITS: usize = 1_000;

fn main() {
    let text = manifest();
    let lines = text.lines().count();
    println!(
        "re-lint of one {lines}-line manifest ({:.1} KiB) after a one-character edit",
        text.len() as f64 / 1024.0
    );
    in_process(&text);
    over_stdio(&text);
}

/// Deployments and their Services until the text is 1,000 lines long: some
/// findings (no PDB, a short grace period), probes, a preStop hook.
fn manifest() -> String {
    let mut text = String::new();
    let mut index = 0;
    while text.lines().count() < 1_000 {
        text.push_str(&format!(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{index}
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: app-{index}
  strategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: app-{index}
    spec:
      terminationGracePeriodSeconds: 20
      containers:
        - name: web
          image: registry.example.com/shop/app-{index}:1.0.{index}
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: SHUTDOWN_TIMEOUT
              value: 10s
          readinessProbe:
            httpGet: {{path: /ready, port: http}}
            periodSeconds: 5
          livenessProbe:
            httpGet: {{path: /live, port: http}}
            periodSeconds: 10
            failureThreshold: 6
          lifecycle:
            preStop:
              sleep: {{seconds: 5}}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{index}
  namespace: shop
spec:
  selector:
    app: app-{index}
  ports:
    - name: http
      port: 80
      targetPort: http
---
"
        ));
        index += 1;
    }
    text
}

/// Where the edits go: the `0` of the first `1.0.0` image tag, a
/// character a person may well retype.
fn edit_position(text: &str) -> Position {
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find(":1.0.").map(|c| (i, c + ":1.0.".len())))
        .unwrap_or((0, 0));
    Position::new(line as u32, column as u32)
}

fn in_process(text: &str) {
    let uri = Uri::from_str("file:///bench/manifest.yaml").unwrap_or_else(|e| panic!("{e}"));
    let mut workspace = Workspace::new().unwrap_or_else(|e| panic!("{e}"));
    workspace.open(TextDocumentItem {
        uri: uri.clone(),
        language_id: "yaml".to_owned(),
        version: 0,
        text: text.to_owned(),
    });
    let first = workspace.lint();
    let found = first.publish.first().map_or(0, |p| p.diagnostics.len());
    let at = edit_position(text);
    let mut relint = Vec::with_capacity(EDITS);
    for version in 1..=EDITS as i32 {
        let digit = char::from(b'0' + (version % 10) as u8);
        let started = Instant::now();
        workspace.change(DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier::new(uri.clone(), version),
            content_changes: vec![TextDocumentContentChangeEvent {
                range: Some(Range::new(at, Position::new(at.line, at.character + 1))),
                range_length: None,
                text: digit.to_string(),
            }],
        });
        let lint = workspace.lint();
        relint.push(started.elapsed());
        std::hint::black_box(lint.publish.len());
    }
    let wants = |_: &str, _: &str| true;
    let loader = Loader::new(&wants).keeping_sources();
    let mut parse = Vec::with_capacity(EDITS);
    let mut serde = Vec::with_capacity(EDITS);
    for _ in 0..EDITS / 4 {
        let started = Instant::now();
        let mut loaded = Loaded::default();
        loader.load_text("manifest.yaml", text.to_owned(), &mut loaded);
        parse.push(started.elapsed());
        std::hint::black_box(loaded.documents.len());
        let started = Instant::now();
        let values: Vec<Value> = serde_yaml::Deserializer::from_str(text)
            .filter_map(|d| serde::Deserialize::deserialize(d).ok())
            .collect();
        serde.push(started.elapsed());
        std::hint::black_box(values.len());
    }
    let (relint_median, relint_p90) = (percentile(&mut relint, 50), percentile(&mut relint, 90));
    let parse_median = percentile(&mut parse, 50);
    let serde_median = percentile(&mut serde, 50);
    println!("in process ({found} diagnostics, {EDITS} edits):");
    println!(
        "  re-lint after an edit   median {:>7.2} ms   p90 {:>7.2} ms",
        millis(relint_median),
        millis(relint_p90)
    );
    println!(
        "  parse only (loader)     median {:>7.2} ms   re-lint {:.1}x",
        millis(parse_median),
        ratio(relint_median, parse_median)
    );
    println!(
        "  parse only (serde_yaml) median {:>7.2} ms   re-lint {:.1}x",
        millis(serde_median),
        ratio(relint_median, serde_median)
    );
}

fn over_stdio(text: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["server", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start rollsafe server: {e}"));
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    let mut stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("no stdout")));
    let mut send = |message: Value| {
        let body = message.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("{e}"));
    };
    // Waits for the response to request `id`, counting diagnostics on the way.
    let mut wait = |id: i64| -> usize {
        let mut published = 0;
        loop {
            let message = read_frame(&mut stdout).unwrap_or_else(|| panic!("the server stopped"));
            if message["method"] == "textDocument/publishDiagnostics" {
                published += 1;
            }
            if message["id"] == id {
                return published;
            }
        }
    };
    let uri = "file:///bench/manifest.yaml";
    send(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}}),
    );
    wait(0);
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "yaml", "version": 0, "text": text}}}),
    );
    // A code action lints what is pending: the open's own diagnostics come
    // now, so that each edit below is linted exactly once.
    send(
        json!({"jsonrpc": "2.0", "id": -2, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": []}}}),
    );
    wait(-2);
    let at = edit_position(text);
    let idle = rss_kib(pid);
    let mut after_ten = 0;
    let mut trips = Vec::with_capacity(EDITS);
    for version in 1..=EDITS as i64 {
        let digit = char::from(b'0' + (version % 10) as u8);
        let started = Instant::now();
        send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {
                "start": {"line": at.line, "character": at.character},
                "end": {"line": at.line, "character": at.character + 1}},
                "text": digit.to_string()}]}}),
        );
        send(
            json!({"jsonrpc": "2.0", "id": version, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": []}}}),
        );
        let published = wait(version);
        trips.push(started.elapsed());
        assert_eq!(published, 1, "edit {version} was not linted once");
        if version == 10 {
            after_ten = rss_kib(pid);
        }
    }
    let after_all = rss_kib(pid);
    send(json!({"jsonrpc": "2.0", "id": -1, "method": "shutdown"}));
    wait(-1);
    send(json!({"jsonrpc": "2.0", "method": "exit"}));
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    println!("over stdio (`rollsafe server`, {EDITS} didChange + codeAction):");
    println!(
        "  edit → diagnostics      median {:>7.2} ms   p90 {:>7.2} ms",
        millis(percentile(&mut trips, 50)),
        millis(percentile(&mut trips, 90))
    );
    println!(
        "  RSS: after open {:.1} MiB, after 10 edits {:.1} MiB, after {EDITS} edits {:.1} MiB ({:+.1} %); exit status {}",
        idle as f64 / 1024.0,
        after_ten as f64 / 1024.0,
        after_all as f64 / 1024.0,
        (after_all as f64 / after_ten.max(1) as f64 - 1.0) * 100.0,
        status.code().unwrap_or(-1)
    );
}

/// `VmRSS` of a process, in KiB (0 where `/proc` has none).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn percentile(times: &mut [Duration], p: usize) -> Duration {
    times.sort_unstable();
    let at = (times.len() * p / 100).min(times.len().saturating_sub(1));
    times.get(at).copied().unwrap_or_default()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
