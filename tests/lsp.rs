//! `rollsafe server`: the real binary driven over standard input and output
//! with JSON-RPC in Content-Length frames, as an editor drives it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{scratch_dir, testdata, write};

/// How long any answer may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

/// A language client: the server process, and its messages read on a
/// thread so that a silent server fails a test by timeout.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications read while waiting for something else.
    held: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
            .args(["server", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start rollsafe server: {e}"));
        let stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (sender, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_frame(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            held: Vec::new(),
            next_id: 0,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("cannot write to the server: {e}"));
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response (result or error).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(&format!("the response to `{method}`"), |m| m["id"] == id)
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The next message `wanted` accepts, among those held first.
    fn wait(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(at) = self.held.iter().position(&wanted) {
            return self.held.remove(at);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .messages
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} within {PATIENCE:?}; held: {:?}", self.held));
            if wanted(&message) {
                return message;
            }
            self.held.push(message);
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let message = self.wait(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn initialize(&mut self) {
        let result = self.result("initialize", json!({"capabilities": {}}));
        assert_eq!(result["serverInfo"]["name"], "rollsafe");
        assert_eq!(result["capabilities"]["textDocumentSync"]["change"], 2);
        self.notify("initialized", json!({}));
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    /// `shutdown`, `exit`, and the exit status.
    fn finish(mut self) -> i32 {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result["result"], Value::Null, "{result}");
        self.notify("exit", Value::Null);
        self.exit_status()
    }

    /// The exit status, once the process has ended (which it must soon).
    fn exit_status(&mut self) -> i32 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.code().unwrap_or(-1),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => panic!("the server did not exit after `exit`"),
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A failed test leaves no server behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One message: `Content-Length` headers, a blank line, the JSON body.
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

/// A folder of its own, a repository root, so that no policy file above it
/// is found: the built-in default applies.
fn workspace(name: &str) -> std::path::PathBuf {
    let dir = scratch_dir(name);
    std::fs::create_dir_all(dir.join(".git")).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// `(code, [start line, start character, end line, end character], severity)`.
fn summary(diagnostics: &[Value]) -> Vec<(String, [u64; 4], u64)> {
    diagnostics
        .iter()
        .map(|d| {
            let r = &d["range"];
            let n = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
            (
                d["code"].as_str().unwrap_or_default().to_owned(),
                [
                    n(&r["start"]["line"]),
                    n(&r["start"]["character"]),
                    n(&r["end"]["line"]),
                    n(&r["end"]["character"]),
                ],
                n(&d["severity"]),
            )
        })
        .collect()
}

fn range(start: (u64, u64), end: (u64, u64)) -> Value {
    json!({"start": {"line": start.0, "character": start.1}, "end": {"line": end.0, "character": end.1}})
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_session_from_initialize_to_exit() {
    let dir = workspace("lsp-session");
    let deployment = dir.join("deploy.yaml");
    let text = read(&testdata(
        "rules/readiness-probe-missing/fail-deployment.yaml",
    ));
    write(&deployment, &text);
    let deployment = uri(&deployment);
    let mut client = Client::start();
    client.initialize();

    client.open(&deployment, &text);
    let found = client.diagnostics(&deployment);
    assert_eq!(
        summary(&found),
        [
            ("pdb-missing".to_owned(), [8, 2, 8, 10], 3),
            ("prestop-hook-missing".to_owned(), [18, 10, 18, 19], 2),
            ("readiness-probe-missing".to_owned(), [18, 10, 18, 19], 1),
        ]
    );
    let probe = &found[2];
    assert_eq!(
        probe["codeDescription"]["href"],
        "https://github.com/rollsafe/rollsafe/blob/main/docs/rules.md#readiness-probe-missing"
    );
    assert_eq!(probe["source"], "rollsafe");
    assert_eq!(
        probe["message"],
        "container `app` serves port `8080` but has no readinessProbe"
    );
    assert_eq!(
        probe["relatedInformation"][0]["location"]["uri"],
        deployment
    );
    assert_eq!(
        probe["relatedInformation"][0]["location"]["range"],
        probe["range"]
    );
    assert!(
        probe["relatedInformation"][0]["message"]
            .as_str()
            .is_some_and(|help| help.starts_with("add a readinessProbe")),
        "{probe}"
    );

    // A readiness probe typed in after the ports (two lines, incrementally).
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": deployment, "version": 2},
            "contentChanges": [{
                "range": range((23, 0), (23, 0)),
                "text": "          readinessProbe:\n            tcpSocket: {port: 8080}\n",
            }],
        }),
    );
    assert_eq!(
        summary(&client.diagnostics(&deployment)),
        [
            ("pdb-missing".to_owned(), [8, 2, 8, 10], 3),
            ("prestop-hook-missing".to_owned(), [18, 10, 18, 19], 2),
        ]
    );

    // A PodDisruptionBudget in another file counts for the Deployment: the
    // Deployment's diagnostics are sent again without `pdb-missing`.
    let budget = uri(&dir.join("pdb.yaml"));
    client.open(
        &budget,
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: shop}\nspec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: web}}\n",
    );
    assert_eq!(client.diagnostics(&budget), Vec::<Value>::new());
    assert_eq!(
        summary(&client.diagnostics(&deployment)),
        [("prestop-hook-missing".to_owned(), [18, 10, 18, 19], 2)]
    );

    // The fix, as `lint --fix` writes it, and the ignore comment.
    let actions = client.result(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": deployment},
            "range": range((18, 12), (18, 12)),
            "context": {"diagnostics": []},
        }),
    );
    let actions = actions.as_array().cloned().unwrap_or_default();
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "add a `sleep` preStop hook of `5s`",
            "Ignore `prestop-hook-missing` here"
        ]
    );
    let fix = &actions[0];
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(fix["diagnostics"][0]["code"], "prestop-hook-missing");
    assert_eq!(
        fix["edit"]["changes"][deployment.as_str()],
        json!([{
            "range": range((25, 0), (25, 0)),
            "newText": "          lifecycle:\n            preStop:\n              sleep:\n                seconds: 5\n",
        }])
    );
    // The line has a comment of its own: the suppression goes above it.
    assert_eq!(actions[1]["isPreferred"], false);
    assert_eq!(
        actions[1]["edit"]["changes"][deployment.as_str()],
        json!([{
            "range": range((18, 0), (18, 0)),
            "newText": "        # rollsafe: ignore[prestop-hook-missing]\n",
        }])
    );

    // Hover on `replicas`: the fenceposts; on the container: its timeline.
    let rollout = client.result(
        "textDocument/hover",
        json!({"textDocument": {"uri": deployment}, "position": {"line": 8, "character": 4}}),
    );
    let shown = rollout["contents"]["value"].as_str().unwrap_or_default();
    assert_eq!(rollout["contents"]["kind"], "markdown");
    for expected in [
        "`RollingUpdate` at 3 replicas",
        "maxSurge `25%` (default) → 1 pod",
        "maxUnavailable `25%` (default) → 0 pods",
    ] {
        assert!(shown.contains(expected), "{expected:?} not in {shown}");
    }
    assert_eq!(rollout["range"], range((8, 2), (8, 10)));
    let container = client.result(
        "textDocument/hover",
        json!({"textDocument": {"uri": deployment}, "position": {"line": 18, "character": 14}}),
    );
    let shown = container["contents"]["value"].as_str().unwrap_or_default();
    for expected in [
        "container `app`",
        "grace period `30s`, the default",
        "drain delay: none (no preStop hook)",
        "SIGTERM at `0s`",
        "SIGKILL at `30s`",
        "`prestop-hook-missing`",
    ] {
        assert!(shown.contains(expected), "{expected:?} not in {shown}");
    }
    // Nothing to say about a name.
    let nothing = client.result(
        "textDocument/hover",
        json!({"textDocument": {"uri": deployment}, "position": {"line": 5, "character": 4}}),
    );
    assert_eq!(nothing, Value::Null);

    // Closing the budget's file brings `pdb-missing` back.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": budget}}),
    );
    assert_eq!(client.diagnostics(&budget), Vec::<Value>::new());
    assert_eq!(
        summary(&client.diagnostics(&deployment))
            .iter()
            .map(|d| d.0.as_str())
            .collect::<Vec<_>>(),
        ["pdb-missing", "prestop-hook-missing"]
    );

    assert_eq!(client.finish(), 0);
}

#[test]
fn bad_requests_are_answered_with_errors_and_the_server_goes_on() {
    let mut client = Client::start();
    client.initialize();
    let response = client.request("textDocument/hover", json!({"textDocument": 5}));
    assert_eq!(response["error"]["code"], -32602, "{response}");
    let response = client.request("textDocument/definition", json!({}));
    assert_eq!(response["error"]["code"], -32601, "{response}");
    // A notification that does not read is dropped.
    client.notify("textDocument/didOpen", json!({"textDocument": []}));

    // Still serving: a document that is not a Kubernetes object gets no
    // diagnostics, a YAML syntax error one at its line.
    let dir = workspace("lsp-inputs");
    let values = uri(&dir.join("values.yaml"));
    client.open(&values, "replicaCount: 2\nimage:\n  repository: nginx\n");
    assert_eq!(client.diagnostics(&values), Vec::<Value>::new());
    let broken = uri(&dir.join("broken.yaml"));
    client.open(
        &broken,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n   bad: indent\nspec: {}\n",
    );
    let found = client.diagnostics(&broken);
    assert_eq!(found.len(), 1, "{found:?}");
    // Where `lint` puts it: 5:7.
    assert_eq!(
        found[0]["range"]["start"],
        json!({"line": 4, "character": 6})
    );
    assert_eq!(
        found[0]["message"],
        "invalid YAML: mapping values are not allowed in this context"
    );
    assert_eq!(found[0]["severity"], 1);
    assert_eq!(found[0]["source"], "rollsafe");
    assert_eq!(client.finish(), 0);
}

#[test]
fn unsafe_fixes_say_so_and_are_not_preferred() {
    let dir = workspace("lsp-unsafe");
    let path = dir.join("inventory.yaml");
    let text = read(&testdata(
        "rules/prestop-exec-without-shell/fail-shell-script.yaml",
    ));
    write(&path, &text);
    let path = uri(&path);
    let mut client = Client::start();
    client.initialize();
    client.open(&path, &text);
    let found = client.diagnostics(&path);
    assert!(
        summary(&found).contains(&("prestop-exec-without-shell".to_owned(), [28, 20, 28, 27], 1)),
        "{:?}",
        summary(&found)
    );
    let actions = client.result(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": path}, "range": range((28, 22), (28, 22)), "context": {"diagnostics": []}}),
    );
    let fix = actions
        .as_array()
        .and_then(|a| {
            a.iter().find(|a| {
                a["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("replace"))
            })
        })
        .cloned()
        .unwrap_or_else(|| panic!("no fix in {actions}"));
    assert!(
        fix["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("(unsafe)")),
        "{fix}"
    );
    assert_eq!(fix["isPreferred"], false);
    assert_eq!(client.finish(), 0);
}

#[test]
fn an_exit_without_shutdown_exits_1() {
    let mut client = Client::start();
    client.initialize();
    client.notify("exit", Value::Null);
    assert_eq!(client.exit_status(), 1);
}

#[test]
fn an_ignore_comment_there_is_extended_and_silences_its_findings() {
    let dir = workspace("lsp-ignore");
    let path = uri(&dir.join("bare.yaml"));
    let text = crate::util::BARE_DEPLOYMENT.replace(
        "        - name: app\n",
        "        - name: app # rollsafe: ignore[readiness-probe-missing] probed by the mesh\n",
    );
    let mut client = Client::start();
    client.initialize();
    client.open(&path, &text);
    let found = summary(&client.diagnostics(&path));
    let codes: Vec<&str> = found.iter().map(|d| d.0.as_str()).collect();
    assert!(!codes.contains(&"readiness-probe-missing"), "{codes:?}");
    assert!(codes.contains(&"prestop-hook-missing"), "{codes:?}");
    let actions = client.result(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": path}, "range": range((10, 12), (10, 12)), "context": {"diagnostics": []}}),
    );
    let ignore = actions
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|a| a["title"] == "Ignore `prestop-hook-missing` here")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no ignore action in {actions}"));
    // `, prestop-hook-missing` before the `]` at character 62.
    assert_eq!(
        ignore["edit"]["changes"][path.as_str()],
        json!([{"range": range((10, 62), (10, 62)), "newText": ", prestop-hook-missing"}])
    );

    // JSON has no comments: a fix, never an ignore action.
    let json_path = uri(&dir.join("bare.json"));
    let value: Value =
        serde_yaml::from_str(crate::util::BARE_DEPLOYMENT).unwrap_or_else(|e| panic!("{e}"));
    let json_text = serde_json::to_string_pretty(&value).unwrap_or_default();
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": json_path, "languageId": "json", "version": 1, "text": json_text}}),
    );
    let found = client.diagnostics(&json_path);
    assert!(!found.is_empty());
    let actions = client.result(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": json_path}, "range": range((0, 0), (99, 0)), "context": {"diagnostics": []}}),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .map(|a| a.iter().filter_map(|a| a["title"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        titles.iter().all(|t| !t.starts_with("Ignore")),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"add a `sleep` preStop hook of `5s`"),
        "{titles:?}"
    );
    assert_eq!(client.finish(), 0);
}

#[test]
fn the_policy_is_found_as_lint_finds_it_and_read_again_when_it_changes() {
    let dir = workspace("lsp-policy");
    let policy = dir.join(".rollsafe.yaml");
    write(
        &policy,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nrules:\n  pdb-missing: off\n  prestop-hook-missing: error\n",
    );
    let deployment = dir.join("apps/web/deploy.yaml");
    let text = read(&testdata(
        "rules/readiness-probe-missing/fail-deployment.yaml",
    ));
    write(&deployment, &text);
    let deployment = uri(&deployment);
    let mut client = Client::start();
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    client.result("initialize", json!({ "capabilities": capabilities }));
    client.notify("initialized", json!({}));
    // The server asks to hear of policy files changing on disk.
    let registration = client.wait("a registration", |m| {
        m["method"] == "client/registerCapability"
    });
    let watchers = &registration["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(
        watchers,
        &json!([{"globPattern": "**/.rollsafe.yaml"}, {"globPattern": "**/rollsafe.yaml"}])
    );
    let id = registration["id"].clone();
    client.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));

    client.open(&deployment, &text);
    assert_eq!(
        summary(&client.diagnostics(&deployment)),
        [
            ("prestop-hook-missing".to_owned(), [18, 10, 18, 19], 1),
            ("readiness-probe-missing".to_owned(), [18, 10, 18, 19], 1),
        ]
    );

    // A policy that no longer loads: said once, and the default applies.
    write(&policy, "rules: [\n");
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&policy), "type": 2}]}),
    );
    let message = client.wait("a message", |m| m["method"] == "window/showMessage");
    let said = message["params"]["message"].as_str().unwrap_or_default();
    assert!(said.contains("does not load"), "{said}");
    assert_eq!(message["params"]["type"], 1);
    let codes: Vec<String> = summary(&client.diagnostics(&deployment))
        .into_iter()
        .map(|d| d.0)
        .collect();
    assert_eq!(
        codes,
        [
            "pdb-missing",
            "prestop-hook-missing",
            "readiness-probe-missing"
        ]
    );
    assert_eq!(client.finish(), 0);
}
