//! `rollsafe serve` over the wire: the real binary, a test CA made here, and
//! an HTTPS client that verifies it. Plus router-level tests without a socket.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::{http1, http2};
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tower::ServiceExt;

use rollsafe::fix::PatchOp;
use rollsafe::model::KubeVersion;
use rollsafe::policy::{Policy, Profile};
use rollsafe::rules::Scope;
use rollsafe::source::Document;
use rollsafe::webhook::{AppState, Mode, Mutation, Reviewer, router};

use crate::util;

/// Generous: the machine may be busy with other builds.
const WAIT: Duration = Duration::from_secs(60);

// --- a test CA ----------------------------------------------------------------

struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    der: CertificateDer<'static>,
    pem: String,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .unwrap_or_else(|e| panic!("CA params: {e}"));
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "rollsafe test CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("CA key: {e}"));
        let cert = params
            .self_signed(&key)
            .unwrap_or_else(|e| panic!("CA cert: {e}"));
        TestCa {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A serving certificate for `localhost` and `127.0.0.1`: (cert PEM, key PEM).
    fn issue(&self) -> (String, String) {
        let params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .unwrap_or_else(|e| panic!("params: {e}"));
        let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("key: {e}"));
        let cert = params
            .signed_by(&key, &self.issuer)
            .unwrap_or_else(|e| panic!("cert: {e}"));
        (cert.pem(), key.serialize_pem())
    }

    fn client_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.der.clone())
            .unwrap_or_else(|e| panic!("root: {e}"));
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("{e}"))
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

fn scratch(name: &str) -> PathBuf {
    util::scratch_dir(&format!("webhook/{name}"))
}

// --- the server process -------------------------------------------------------

pub(crate) struct Server {
    child: Child,
    address: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
    ca: TestCa,
    dir: PathBuf,
}

impl Server {
    /// Starts `rollsafe serve` on a free port with a fresh CA and certificate.
    pub(crate) fn start(name: &str, args: &[&str]) -> Server {
        let dir = scratch(name);
        let ca = TestCa::new();
        let (cert, key) = ca.issue();
        util::write(&dir.join("tls.crt"), &cert);
        util::write(&dir.join("tls.key"), &key);
        util::write(&dir.join("ca.crt"), &ca.pem);
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(dir.join("tls.crt"))
            .arg("--tls-key")
            .arg(dir.join("tls.key"))
            .args(args)
            .env("ROLLSAFE_TLS_POLL_INTERVAL", "100ms")
            .env("RUST_LOG", "debug,hyper=info,rustls=info,h2=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start rollsafe serve: {e}"));
        let logs = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let logs = Arc::clone(&logs);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut logs) = logs.lock() {
                        logs.push(line);
                    }
                }
            });
        }
        let mut server = Server {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            logs,
            ca,
            dir,
        };
        let line = server.wait_for_log("listening for admission reviews");
        server.address = address_in(&line);
        server
    }

    fn log_lines(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The first log line containing `text`, waiting for it.
    fn wait_for_log(&mut self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(line) = self.log_lines().into_iter().find(|l| l.contains(text)) {
                return line;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "rollsafe serve exited ({status}) before logging `{text}`:\n{}",
                    self.log_lines().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "no log line `{text}` within {WAIT:?}:\n{}",
                self.log_lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET /metrics` from the listener `--metrics-listen` started.
    async fn metrics(&mut self) -> String {
        let line = self.wait_for_log("serving /metrics");
        http_get(address_in(&line), "/metrics").await
    }

    fn count_logs(&self, text: &str) -> usize {
        self.log_lines().iter().filter(|l| l.contains(text)).count()
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: kill(2) on our own child's pid.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(result, 0, "kill failed");
    }

    /// Waits for the process to exit; its exit code.
    fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "rollsafe serve still running after {within:?}:\n{}",
                self.log_lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) async fn client(&self) -> Client {
        Client::connect(self.address, self.ca.client_config(&[b"http/1.1"])).await
    }

    async fn h2_client(&self) -> Client {
        Client::connect(self.address, self.ca.client_config(&[b"h2"])).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `"address":"127.0.0.1:1234"` in a JSON log line.
fn address_in(line: &str) -> SocketAddr {
    let value: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("log line not JSON ({e}): {line}"));
    value["address"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line}"))
}

// --- an HTTPS client that verifies the CA --------------------------------------

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

pub(crate) struct Client {
    sender: Sender,
    address: SocketAddr,
    /// The certificate the server presented.
    peer: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn tls_connect(
    address: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("connect {address}: {e}"));
    let name = ServerName::try_from("localhost").unwrap_or_else(|e| panic!("{e}"));
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .unwrap_or_else(|e| panic!("TLS handshake: {e}"))
}

impl Client {
    async fn connect(address: SocketAddr, config: Arc<rustls::ClientConfig>) -> Client {
        Self::try_connect(address, config)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn try_connect(
        address: SocketAddr,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<Client, String> {
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|e| format!("connect {address}: {e}"))?;
        let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))?;
        let session = tls.get_ref().1;
        let peer = session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|c| c.to_vec())
            .unwrap_or_default();
        let h2 = session.alpn_protocol() == Some(b"h2");
        let io = TokioIo::new(tls);
        let sender = if h2 {
            let (sender, connection) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| format!("h2 handshake: {e}"))?;
            tokio::spawn(connection);
            Sender::H2(sender)
        } else {
            let (sender, connection) = http1::handshake(io)
                .await
                .map_err(|e| format!("http1 handshake: {e}"))?;
            tokio::spawn(connection);
            Sender::H1(sender)
        };
        Ok(Client {
            sender,
            address,
            peer,
        })
    }

    fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    async fn try_send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply, hyper::Error> {
        let uri = match self.sender {
            Sender::H2(_) => format!("https://localhost:{}{path}", self.address.port()),
            Sender::H1(_) => path.to_owned(),
        };
        let mut builder = Request::builder().method(method).uri(uri);
        if let Sender::H1(_) = self.sender {
            builder = builder.header("host", format!("localhost:{}", self.address.port()));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let response = match &mut self.sender {
            Sender::H1(sender) => {
                sender.ready().await?;
                sender.send_request(request).await?
            }
            Sender::H2(sender) => {
                sender.ready().await?;
                sender.send_request(request).await?
            }
        };
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply { status, body })
    }

    async fn send(&mut self, method: &str, path: &str, body: Vec<u8>) -> Reply {
        self.try_send(method, path, &[("content-type", "application/json")], body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub(crate) async fn review(&mut self, path: &str, review: &Value) -> Value {
        let body = serde_json::to_vec(review).unwrap_or_else(|e| panic!("{e}"));
        let reply = self.send("POST", path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let answer = reply.json();
        assert_wire_shape(review, &answer, path);
        answer
    }

    pub(crate) async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, Vec::new()).await
    }
}

// --- fixtures -----------------------------------------------------------------

/// A recorded or written request: method, path, headers and body.
pub(crate) struct Recorded {
    name: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

fn recorded(path: &Path) -> Recorded {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Recorded {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        method: text(&value["method"]),
        path: text(&value["path"]),
        headers: value["headers"]
            .as_object()
            .map(|h| h.iter().map(|(k, v)| (k.clone(), text(v))).collect())
            .unwrap_or_default(),
        body: value["body"].clone(),
    }
}

pub(crate) fn fixture(name: &str) -> Recorded {
    recorded(&util::testdata(&format!("admission/{name}")))
}

/// What the API server checks of a reply (testdata/admission/captures/README.md).
fn assert_wire_shape(review: &Value, answer: &Value, path: &str) {
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1", "{answer}");
    assert_eq!(answer["kind"], "AdmissionReview", "{answer}");
    assert_eq!(
        answer["response"]["uid"], review["request"]["uid"],
        "uid not echoed: {answer}"
    );
    assert!(answer["response"]["allowed"].is_boolean(), "{answer}");
    if path.starts_with("/validate") {
        assert!(
            answer["response"].get("patch").is_none()
                && answer["response"].get("patchType").is_none(),
            "a validating response carries a patch: {answer}"
        );
    }
    if let Some(patch) = answer["response"].get("patch") {
        assert_eq!(answer["response"]["patchType"], "JSONPatch", "{answer}");
        let ops = decode_patch(patch);
        assert!(!ops.is_empty(), "empty patch sent: {answer}");
    }
    for warning in answer["response"]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let warning = warning.as_str().unwrap_or_default();
        assert!(
            !warning.contains('\n') && warning.chars().count() <= 240,
            "warning too long or multi-line: {warning}"
        );
    }
}

/// The base64 JSON Patch of a mutating answer, as operations.
fn decode_patch(patch: &Value) -> Vec<PatchOp> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch.as_str().unwrap_or_default())
        .unwrap_or_else(|e| panic!("patch is not base64: {e}"));
    let ops: Vec<Value> =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("patch is not JSON: {e}"));
    ops.into_iter()
        .map(|op| {
            let path = op["path"].as_str().unwrap_or_default().to_owned();
            let value = op["value"].clone();
            match op["op"].as_str() {
                Some("add") => PatchOp::Add { path, value },
                Some("replace") => PatchOp::Replace { path, value },
                other => panic!("a patch may only add or replace, got {other:?}: {op}"),
            }
        })
        .collect()
}

/// The object of a review with its answer's patch applied.
fn patched(review: &Value, answer: &Value) -> Value {
    let mut object = review["request"]["object"].clone();
    if let Some(patch) = answer["response"].get("patch") {
        rollsafe::fix::apply(&mut object, &decode_patch(patch))
            .unwrap_or_else(|e| panic!("the patch does not apply: {e}"));
    }
    object
}

/// Every member of `before` is still in `after` (values may have changed).
fn assert_keeps_fields(before: &Value, after: &Value, at: &str) {
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let path = format!("{at}/{key}");
                let kept = b
                    .get(key)
                    .unwrap_or_else(|| panic!("the patch removed `{path}`"));
                assert_keeps_fields(value, kept, &path);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert!(b.len() >= a.len(), "the patch shortened `{at}`");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_keeps_fields(x, y, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

pub(crate) fn with_object(review: &Value, object: Value) -> Value {
    let mut review = review.clone();
    review["request"]["object"] = object;
    review
}

fn with_uid(review: &Value, uid: &str) -> Value {
    let mut review = review.clone();
    review["request"]["uid"] = json!(uid);
    review
}

fn message(answer: &Value) -> String {
    answer["response"]["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn warnings(answer: &Value) -> Vec<String> {
    answer["response"]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_owned))
        .collect()
}

/// Rule ids of what the linter finds in one object, with a policy.
fn lint_rules(object: &Value, policy: &Policy) -> Vec<&'static str> {
    let doc = Document::detached("object", object.clone());
    rollsafe::engine::evaluate(&[doc], policy)
        .findings
        .iter()
        .map(|f| f.rule.id)
        .collect()
}

/// Findings with a safe fix, of the rules the webhook runs.
fn fixable(object: &Value, policy: &Policy) -> Vec<&'static str> {
    let doc = Document::detached("object", object.clone());
    // As the webhook judges it: the rules that need other objects are off.
    let reviewer = reviewer(policy.clone(), Mode::Enforce, Mutation::OptedIn);
    rollsafe::engine::evaluate(&[doc], reviewer.policy())
        .findings
        .iter()
        .filter(|f| {
            f.fix
                .as_ref()
                .is_some_and(|fix| fix.safety == rollsafe::fix::FixSafety::Safe)
        })
        .filter(|f| f.rule.scope == Scope::Object)
        .map(|f| f.rule.id)
        .collect()
}

// --- over the wire --------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_replay_as_the_api_server_sent_them() {
    let server = Server::start("captures", &[]);
    // One keep-alive connection, as the API server keeps one; each request
    // written byte for byte as recorded (the kubectl one chunked, with no
    // Content-Type).
    let tls = tls_connect(server.address, server.ca.client_config(&[b"http/1.1"])).await;
    let mut connection = tokio::io::BufReader::new(tls);
    let dir = util::testdata("admission/captures");
    let mut files: Vec<PathBuf> = util::manifests(&dir);
    files.retain(|f| f.extension().is_some_and(|e| e == "json"));
    assert!(files.len() >= 14, "captures missing: {files:?}");
    for file in files {
        let capture = recorded(&file);
        let (status, body) = replay(&mut connection, &capture).await;
        assert_eq!(
            status,
            200,
            "{}: {}",
            capture.name,
            String::from_utf8_lossy(&body)
        );
        let answer: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e})", capture.name));
        assert_wire_shape(&capture.body, &answer, &capture.path);
        // ConfigMaps are no workloads; DELETE is not judged; the Pod has no port.
        assert_eq!(
            answer["response"]["allowed"], true,
            "{}: {answer}",
            capture.name
        );
        assert!(
            answer["response"].get("patch").is_none(),
            "{}",
            capture.name
        );
    }
}

/// Writes a recorded request as it was sent (the body re-serialised, so its
/// length recomputed) and reads the response: status and body.
async fn replay(
    connection: &mut tokio::io::BufReader<TlsStream<TcpStream>>,
    capture: &Recorded,
) -> (u16, Vec<u8>) {
    use tokio::io::AsyncBufReadExt;
    let body = serde_json::to_vec(&capture.body).unwrap_or_else(|e| panic!("{e}"));
    let mut chunked = false;
    let mut request = format!("{} {} HTTP/1.1\r\n", capture.method, capture.path);
    for (name, value) in &capture.headers {
        match name.to_ascii_lowercase().as_str() {
            "content-length" => request.push_str(&format!("{name}: {}\r\n", body.len())),
            "transfer-encoding" => {
                chunked = value.eq_ignore_ascii_case("chunked");
                request.push_str(&format!("{name}: {value}\r\n"));
            }
            _ => request.push_str(&format!("{name}: {value}\r\n")),
        }
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    if chunked {
        for chunk in body.chunks(body.len() / 2 + 1) {
            bytes.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
            bytes.extend(chunk);
            bytes.extend(b"\r\n");
        }
        bytes.extend(b"0\r\n\r\n");
    } else {
        bytes.extend(&body);
    }
    let stream = connection.get_mut();
    stream
        .write_all(&bytes)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", capture.name));
    stream.flush().await.unwrap_or_else(|e| panic!("{e}"));
    let mut line = String::new();
    connection
        .read_line(&mut line)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{}: no status line: {line:?}", capture.name));
    let mut length = 0;
    loop {
        line.clear();
        connection
            .read_line(&mut line)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut response = vec![0; length];
    connection
        .read_exact(&mut response)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", capture.name));
    (status, response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_denies_errors_and_warns_the_rest() {
    let mut server = Server::start("validate", &["--metrics-listen", "127.0.0.1:0"]);
    let mut client = server.client().await;

    let denied = fixture("deployment-create-denied.json");
    let answer = client.review(&denied.path, &denied.body).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert_eq!(answer["response"]["status"]["code"], 403);
    let text = message(&answer);
    for expected in [
        "Deployment/shop/storefront",
        "rollout-zero-availability at `spec.strategy.rollingUpdate.maxUnavailable`",
    ] {
        assert!(text.contains(expected), "`{expected}` not in: {text}");
    }
    let warned = warnings(&answer);
    // One replica, stopped before its successor starts: the missing probe
    // drops nothing another pod would have served, so it warns.
    assert!(
        warned.iter().any(|w| w
            .starts_with("warning readiness-probe-missing at `spec.template.spec.containers[0]`")),
        "{warned:?}"
    );
    // The webhook cannot see HPAs or PDBs: no verdicts that need them.
    assert!(
        !warned.iter().any(|w| w.contains("single-replica")),
        "{warned:?}"
    );

    // Server-side dry run: the same answer.
    let dry = fixture("deployment-create-dry-run.json");
    let dry_answer = client.review(&dry.path, &dry.body).await;
    assert_eq!(dry_answer["response"]["allowed"], false);
    assert_eq!(message(&dry_answer), text);

    let allowed = fixture("deployment-create-allowed.json");
    let answer = client.review(&allowed.path, &allowed.body).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(answer["response"].get("status").is_none());

    let sts = fixture("statefulset-create-denied.json");
    let answer = client.review(&sts.path, &sts.body).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(message(&answer).contains("StatefulSet/shop/db"));
    assert!(message(&answer).contains("readiness-probe-missing"));

    // Metrics: reviews by endpoint and verdict, findings by rule.
    let metrics = server.metrics().await;
    for expected in [
        "rollsafe_admission_reviews_total{endpoint=\"validate\",verdict=\"denied\"} 3",
        "rollsafe_admission_findings_total{endpoint=\"validate\",verdict=\"denied\",rule=\"readiness-probe-missing\",severity=\"warning\"} 2",
        "rollsafe_admission_findings_total{endpoint=\"validate\",verdict=\"denied\",rule=\"readiness-probe-missing\",severity=\"error\"} 1",
        "rollsafe_admission_review_duration_seconds_count{endpoint=\"validate\"} 4",
        "rollsafe_tls_certificate_reloads_total{result=\"success\"} 0",
    ] {
        assert!(
            metrics.contains(expected),
            "`{expected}` not in:\n{metrics}"
        );
    }
    // Every review is logged with its uid.
    let uid = denied.body["request"]["uid"].as_str().unwrap_or_default();
    assert!(server.count_logs(uid) >= 1, "{:?}", server.log_lines());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_deny_only_what_the_change_introduced() {
    let server = Server::start("update", &[]);
    let mut client = server.client().await;

    // A legacy Deployment without a readiness probe can still be scaled.
    let legacy = fixture("deployment-update-legacy.json");
    let answer = client.review(&legacy.path, &legacy.body).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(
        warnings(&answer)
            .iter()
            .any(|w| w.starts_with("error readiness-probe-missing")),
        "{answer}"
    );

    // Removing the readiness probe it had is denied.
    let regression = fixture("deployment-update-regression.json");
    let answer = client.review(&regression.path, &regression.body).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(message(&answer).contains("readiness-probe-missing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_mode_never_denies() {
    let server = Server::start("warn-mode", &["--mode", "warn"]);
    let mut client = server.client().await;
    let denied = fixture("deployment-create-denied.json");
    let answer = client.review(&denied.path, &denied.body).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    let warned = warnings(&answer);
    assert!(
        warned.iter().any(|w| w.contains("readiness-probe-missing")),
        "{warned:?}"
    );
}

/// A Deployment that serves, probed for readiness, with a drain delay: the
/// webhook has nothing to say about it but what `extra` adds.
fn quiet_deployment(container: &str, extra: Value) -> Value {
    let mut object = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}},
            "template": {"metadata": {"labels": {"app": "checkout"}},
                "spec": {"containers": [{"name": container, "image": "registry.example.com/shop/checkout:1",
                    "ports": [{"containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                    "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}]}}}});
    let container = object
        .pointer_mut("/spec/template/spec/containers/0")
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("no container"));
    for (key, value) in extra.as_object().into_iter().flatten() {
        container.insert(key.clone(), value.clone());
    }
    object
}

/// Below `warnOn` (default: warning) a finding is counted, not sent to
/// kubectl; a policy can lower it, or name rules that always warn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_findings_are_counted_not_warned_unless_warn_on_says_so() {
    // A slow start without a startupProbe: startup-probe-missing, info.
    let slow = create_review(quiet_deployment(
        "checkout",
        json!({"livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "initialDelaySeconds": 60}}),
    ));
    let mut server = Server::start("warn-on-default", &["--metrics-listen", "127.0.0.1:0"]);
    let mut client = server.client().await;
    let answer = client.review("/validate", &slow).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(answer["response"].get("warnings").is_none(), "{answer}");
    let metrics = server.metrics().await;
    for expected in [
        "rollsafe_admission_reviews_total{endpoint=\"validate\",verdict=\"allowed\"} 1",
        "rollsafe_admission_findings_total{endpoint=\"validate\",verdict=\"allowed\",rule=\"startup-probe-missing\",severity=\"info\"} 1",
        &format!(
            "rollsafe_build_info{{version=\"{}\",target=\"",
            env!("CARGO_PKG_VERSION")
        ),
    ] {
        assert!(
            metrics.contains(expected),
            "`{expected}` not in:\n{metrics}"
        );
    }
    drop(server);

    let dir = scratch("warn-on");
    for (name, warn_on) in [
        ("info", "warnOn: info"),
        (
            "rules",
            "warnOn:\n    severity: error\n    rules: [startup-probe-missing]",
        ),
    ] {
        let policy = dir.join(format!("{name}.yaml"));
        util::write(
            &policy,
            &format!(
                "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nsettings:\n  {warn_on}\n"
            ),
        );
        let policy = policy.display().to_string();
        let server = Server::start(&format!("warn-on-{name}"), &["--policy", &policy]);
        let mut client = server.client().await;
        let answer = client.review("/validate", &slow).await;
        assert_eq!(answer["response"]["allowed"], true, "{answer}");
        assert!(
            warnings(&answer)
                .iter()
                .any(|w| w.starts_with("info startup-probe-missing at `")),
            "{name}: {answer}"
        );
    }
}

/// A denial says what to change with the value `rollsafe lint` gives, however
/// long the message before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denials_carry_the_value_lint_gives() {
    // drain 5s + in-app drain 10s + shutdown 25s + margin 5s = 45s; a long
    // container name makes the message long.
    let name = "checkout-service-with-a-rather-long-container-name-for-the-message";
    let mut object = quiet_deployment(
        name,
        json!({"env": [{"name": "GRACEFUL_SHUTDOWN_TIMEOUT", "value": "25s"}]}),
    );
    object["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = json!(20);
    object["spec"]["template"]["metadata"]["annotations"] =
        json!({format!("rollsafe.dev/in-app-drain.{name}"): "10s"});
    let dir = scratch("denial-help");
    let file = dir.join("checkout.json");
    util::write(&file, &object.to_string());
    let file = file.display().to_string();
    let lint = util::run_rollsafe(&["lint", "--format", "json", &file], None, None);
    let report: Value = serde_json::from_slice(&lint.stdout).unwrap_or_else(|e| panic!("{e}"));
    let finding = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "grace-period-too-short")
        .unwrap_or_else(|| panic!("lint finds no grace-period-too-short: {report}"));
    assert_eq!(finding["help"], "set `terminationGracePeriodSeconds: 45`");
    let lint_message = finding["message"].as_str().unwrap_or_default();
    assert!(lint_message.chars().count() > 300, "{lint_message}");

    let server = Server::start("denial-help", &[]);
    let mut client = server.client().await;
    let answer = client.review("/validate", &create_review(object)).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let denial = message(&answer);
    assert!(
        denial.contains(
            "grace-period-too-short at `spec.template.spec.terminationGracePeriodSeconds`: grace period `20s` < "
        ),
        "{denial}"
    );
    assert!(
        denial.ends_with("… (set `terminationGracePeriodSeconds: 45`)"),
        "{denial}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutation_is_opt_in_idempotent_and_lints_clean() {
    let server = Server::start("mutate", &[]);
    let mut client = server.client().await;
    let policy = util::policy(Profile::Default);

    for name in [
        "deployment-create-mutate.json",
        "statefulset-create-mutate.json",
    ] {
        let review = fixture(name);
        let object = review.body["request"]["object"].clone();
        let before = fixable(&object, &policy);
        let answer = client.review(&review.path, &review.body).await;
        assert_eq!(answer["response"]["allowed"], true, "{name}: {answer}");
        let repaired = patched(&review.body, &answer);
        assert_keeps_fields(&object, &repaired, "");
        // Nothing a safe fix repairs is left, and a second review patches nothing.
        assert_eq!(fixable(&repaired, &policy), Vec::<&str>::new(), "{name}");
        let again = client
            .review(
                &review.path,
                &with_object(&with_uid(&review.body, "again"), repaired.clone()),
            )
            .await;
        assert!(
            again["response"].get("patch").is_none(),
            "{name}: mutation is not idempotent: {again}"
        );
        if before.is_empty() {
            assert!(answer["response"].get("patch").is_none(), "{name}");
        } else {
            assert!(answer["response"].get("patch").is_some(), "{name}");
        }
    }

    // The Deployment's zero-availability rollout is repaired by surging.
    let review = fixture("deployment-create-mutate.json");
    let answer = client.review(&review.path, &review.body).await;
    let repaired = patched(&review.body, &answer);
    assert_eq!(
        repaired["spec"]["strategy"]["rollingUpdate"],
        json!({"maxUnavailable": 0, "maxSurge": 1})
    );
    assert!(!lint_rules(&repaired, &policy).contains(&"rollout-zero-availability"));
    // A drain delay, and a grace period for it: 5s + 25s (annotation) + 5s margin.
    let pod = &repaired["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["lifecycle"]["preStop"],
        json!({"sleep": {"seconds": 5}})
    );
    assert_eq!(pod["terminationGracePeriodSeconds"], 35);
    for rule in ["prestop-hook-missing", "grace-period-too-short"] {
        assert!(!lint_rules(&repaired, &policy).contains(&rule), "{rule}");
    }
    assert!(
        warnings(&answer)
            .iter()
            .any(|w| w.contains("rollsafe mutated")),
        "{answer}"
    );

    // Not opted in: no patch.
    let other = fixture("deployment-create-mutate-not-opted-in.json");
    let answer = client.review(&other.path, &other.body).await;
    assert!(answer["response"].get("patch").is_none(), "{answer}");
    drop(client);
    drop(server);

    // Unless the server mutates everything that reaches it.
    let server = Server::start("mutate-all", &["--mutate-all"]);
    let mut client = server.h2_client().await;
    assert!(client.is_h2());
    let answer = client.review(&other.path, &other.body).await;
    assert!(answer["response"].get("patch").is_some(), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_400_and_large_ones_413() {
    let server = Server::start("malformed", &[]);
    let mut client = server.client().await;

    let reply = client
        .send("POST", "/validate", b"{not json".to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not JSON")
    );

    let no_request = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"});
    let reply = client
        .send("POST", "/validate", no_request.to_string().into_bytes())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no `request`")
    );

    let mut v1beta1 = fixture("deployment-create-denied.json").body;
    v1beta1["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let reply = client
        .send("POST", "/validate", v1beta1.to_string().into_bytes())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("v1beta1")
    );

    let not_a_review = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}});
    let reply = client
        .send("POST", "/mutate", not_a_review.to_string().into_bytes())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let wrong_shape = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 7}});
    let reply = client
        .send("POST", "/validate", wrong_shape.to_string().into_bytes())
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // The connection survives all of that.
    let ok = fixture("deployment-create-allowed.json");
    client.review(&ok.path, &ok.body).await;

    let huge = vec![b' '; 3 * 1024 * 1024 + 1];
    let mut big_client = server.client().await;
    let reply = big_client.send("POST", "/validate", huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("3 MiB")
    );

    let reply = client.get("/validate").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(client.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(client.get("/readyz").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_many_keep_alive_connections() {
    let server = Server::start("concurrency", &[]);
    let review = fixture("deployment-create-denied.json");

    // HTTP/2: concurrent streams on one connection.
    let h2 = server.h2_client().await;
    assert!(h2.is_h2(), "the server did not offer h2");
    let Sender::H2(sender) = h2.sender else {
        unreachable!("checked above")
    };
    let mut streams = Vec::new();
    for i in 0..20 {
        let mut sender = sender.clone();
        let body = with_uid(&review.body, &format!("h2-{i}"));
        let port = server.address.port();
        streams.push(tokio::spawn(async move {
            let request = Request::post(format!("https://localhost:{port}/validate?timeout=10s"))
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.to_string())))
                .unwrap_or_else(|e| panic!("{e}"));
            sender.ready().await.unwrap_or_else(|e| panic!("{e}"));
            let response = sender
                .send_request(request)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let body = response
                .into_body()
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .to_bytes();
            let answer: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(answer["response"]["uid"], format!("h2-{i}"));
        }));
    }
    for stream in streams {
        stream.await.unwrap_or_else(|e| panic!("{e}"));
    }

    // HTTP/1.1: several keep-alive connections at once, many reviews each.
    let mut tasks = Vec::new();
    for c in 0..8 {
        let mut client = server.client().await;
        let review = review.body.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let uid = format!("h1-{c}-{i}");
                let answer = client
                    .review("/validate?timeout=10s", &with_uid(&review, &uid))
                    .await;
                assert_eq!(answer["response"]["uid"], uid);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_rotate_while_requests_flow() {
    let mut server = Server::start("rotation", &["--metrics-listen", "127.0.0.1:0"]);
    let review = fixture("deployment-create-allowed.json").body;
    let first = server.client().await;
    let first_cert = first.peer.clone();

    // Keep reviewing over one keep-alive connection throughout.
    let flowing = {
        let mut client = first;
        let review = review.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(3) {
                client.review("/validate", &review).await;
                sent += 1;
            }
            sent
        })
    };

    // The kubelet's way with a Secret volume: files in a new folder, then the
    // `..data` symlink swapped; tls.crt and tls.key are links through it.
    let dir = server.dir.clone();
    let read =
        |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
    // First the pair in service, as a projection (same bytes: no reload)…
    project_secret(&dir, "..v1", &read("tls.crt"), &read("tls.key"));
    // …then the renewed pair, both files swapped at once.
    let (cert, key) = server.ca.issue();
    project_secret(&dir, "..v2", &cert, &key);
    server.wait_for_log("reloaded the TLS certificate");
    let second = server.client().await;
    assert_ne!(second.peer, first_cert, "still the old certificate");
    let second_cert = second.peer.clone();

    // A broken pair keeps the previous certificate serving.
    project_secret(
        &dir,
        "..v3",
        "-----BEGIN CERTIFICATE-----\nnot base64\n",
        &key,
    );
    server.wait_for_log("cannot be used; still serving the previous one");
    let mut third = server.client().await;
    assert_eq!(third.peer, second_cert);
    third.review("/validate", &review).await;
    // Reported once, not on every poll.
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(server.count_logs("cannot be used"), 1);

    let sent = flowing.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(sent > 0);

    let metrics = server.metrics().await;
    assert!(
        metrics.contains("rollsafe_tls_certificate_reloads_total{result=\"success\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rollsafe_tls_certificate_reloads_total{result=\"failure\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_then_exits_without_failing_a_request() {
    let drain = Duration::from_secs(2);
    let mut server = Server::start(
        "shutdown",
        &["--drain-delay", "2s", "--shutdown-timeout", "5s"],
    );
    let review = fixture("deployment-create-allowed.json").body;
    let config = server.ca.client_config(&[b"http/1.1"]);

    // A review whose body is still arriving when the listener closes.
    let mut slow = tls_connect(server.address, Arc::clone(&config)).await;
    let body = review.to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    let request_head = format!(
        "POST /validate?timeout=10s HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(request_head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    slow.write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    slow.flush().await.unwrap_or_else(|e| panic!("{e}"));

    // Clients reviewing over keep-alive connections, recording every outcome.
    type Outcome = (Instant, bool);
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let mut client = server.client().await;
        let review = review.clone();
        let outcomes = Arc::clone(&outcomes);
        let stop = Arc::clone(&stop);
        let config = Arc::clone(&config);
        let address = server.address;
        tasks.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let body = serde_json::to_vec(&review).unwrap_or_default();
                let ok = match client
                    .try_send("POST", "/validate?timeout=10s", &[], body)
                    .await
                {
                    Ok(reply) => reply.status == StatusCode::OK,
                    Err(_) => false,
                };
                if let Ok(mut o) = outcomes.lock() {
                    o.push((started, ok));
                }
                if !ok {
                    // The server closed this connection: reconnect while it accepts.
                    match Client::try_connect(address, Arc::clone(&config)).await {
                        Ok(fresh) => client = fresh,
                        Err(_) => break,
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut probe = server.client().await;
    assert_eq!(probe.get("/readyz").await.status, StatusCode::OK);

    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    // Readiness fails at once, while reviews are still served.
    let deadline = Instant::now() + WAIT;
    loop {
        if probe.get("/readyz").await.status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(Instant::now() < deadline, "/readyz never failed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        signalled.elapsed() < drain,
        "/readyz failed only after the drain delay"
    );
    server.wait_for_log("stopped accepting connections");
    let closed = Instant::now();
    assert!(
        closed - signalled >= drain,
        "stopped accepting before the drain delay"
    );

    // The in-flight review finishes after the listener closed.
    slow.write_all(tail.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    slow.flush().await.unwrap_or_else(|e| panic!("{e}"));
    let mut response = Vec::new();
    let _ = tokio::time::timeout(WAIT, slow.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "in-flight review: {response}"
    );
    assert!(response.contains("\"allowed\":true"), "{response}");

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    assert_eq!(
        server.wait_exit(WAIT),
        Some(0),
        "{}",
        server.log_lines().join("\n")
    );

    let outcomes = outcomes.lock().map(|o| o.clone()).unwrap_or_default();
    let before_close: Vec<&Outcome> = outcomes.iter().filter(|(at, _)| *at < closed).collect();
    let during_drain = before_close
        .iter()
        .filter(|(at, _)| *at > signalled)
        .count();
    assert!(
        during_drain > 10,
        "too few reviews during the drain delay: {during_drain}"
    );
    // Not one request failed before the listener closed (a small margin
    // for requests that left just before the close and found it closing).
    let margin = Duration::from_millis(100);
    let failed: Vec<Duration> = outcomes
        .iter()
        .filter(|(at, ok)| !ok && *at + margin < closed)
        .map(|(at, _)| at.duration_since(signalled.min(*at)))
        .collect();
    assert!(
        failed.is_empty(),
        "requests failed before the listener closed: {failed:?}"
    );
}

/// Projects a certificate pair as the kubelet projects a Secret: the files in
/// a fresh folder, `..data` pointing at it (swapped by rename), and
/// `tls.crt`/`tls.key` linking through `..data`.
fn project_secret(dir: &Path, version: &str, cert: &str, key: &str) {
    let folder = dir.join(version);
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    util::write(&folder.join("tls.crt"), cert);
    util::write(&folder.join("tls.key"), key);
    let link = |target: &str, name: &str| {
        let temporary = dir.join(format!("{name}.tmp"));
        let _ = std::fs::remove_file(&temporary);
        std::os::unix::fs::symlink(target, &temporary).unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&temporary, dir.join(name)).unwrap_or_else(|e| panic!("{e}"));
    };
    link(version, "..data");
    for name in ["tls.crt", "tls.key"] {
        let is_link =
            std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            link(&format!("..data/{name}"), name);
        }
    }
}

/// A plain-HTTP GET (the metrics listener), the body as text.
async fn http_get(address: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("connect {address}: {e}"));
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let response = String::from_utf8_lossy(&response).into_owned();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("text/plain; version=0.0.4"), "{response}");
    response
}

// --- without a socket ---------------------------------------------------------

fn reviewer(policy: Policy, mode: Mode, mutation: Mutation) -> Reviewer {
    Reviewer::new(policy, mode, mutation)
}

pub(crate) async fn oneshot(state: AppState, path: &str, body: &Value) -> Value {
    let (status, answer) = oneshot_status(state, path, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_wire_shape(body, &answer, path);
    answer
}

#[tokio::test]
async fn rules_that_need_unseen_objects_are_not_run() {
    let state = AppState::new(reviewer(
        util::policy(Profile::Strict),
        Mode::Enforce,
        Mutation::OptedIn,
    ));
    let single = fixture("deployment-create-single-replica.json");
    let object = single.body["request"]["object"].clone();
    // The linter, seeing this object alone, reports a single replica.
    assert!(lint_rules(&object, &util::policy(Profile::Strict)).contains(&"single-replica"));
    // The webhook cannot see whether an HPA scales it, so it does not judge that.
    let answer = oneshot(state.clone(), "/validate", &single.body).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(
        warnings(&answer)
            .iter()
            .all(|w| !w.contains("single-replica"))
    );

    // Three replicas and no PDB in sight: pdb-missing (strict: warning) is not run either.
    let allowed = fixture("deployment-create-allowed.json");
    let object = allowed.body["request"]["object"].clone();
    assert!(lint_rules(&object, &util::policy(Profile::Strict)).contains(&"pdb-missing"));
    let answer = oneshot(state, "/validate", &allowed.body).await;
    assert!(
        warnings(&answer).iter().all(|w| !w.contains("pdb-missing")),
        "{answer}"
    );
}

#[tokio::test]
async fn deny_on_warning_and_exempt_namespaces() {
    let dir = scratch("policies");
    let policy_file = dir.join("policy.yaml");
    util::write(
        &policy_file,
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: default\nsettings:\n  denyOn: warning\nexemptions:\n  - namespaces: [legacy]\n",
    );
    let policy = Policy::from_file(&policy_file).unwrap_or_else(|e| panic!("{e:?}"));
    let state = AppState::new(reviewer(policy, Mode::Enforce, Mutation::OptedIn));
    // Only a warning (prestop-hook-missing on a probed-for-readiness container).
    let mut review = fixture("deployment-create-allowed.json").body;
    if let Some(container) = review
        .pointer_mut("/request/object/spec/template/spec/containers/0")
        .and_then(Value::as_object_mut)
    {
        container.remove("lifecycle");
    }
    let answer = oneshot(state.clone(), "/validate", &review).await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(message(&answer).contains("prestop-hook-missing"));

    // The same in an exempt namespace is not judged at all.
    review["request"]["namespace"] = json!("legacy");
    review["request"]["object"]["metadata"]["namespace"] = json!("legacy");
    let answer = oneshot(state, "/validate", &review).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(answer["response"].get("warnings").is_none(), "{answer}");
}

#[tokio::test]
async fn deletes_unknown_kinds_and_subresources_are_allowed() {
    let state = AppState::new(reviewer(
        util::policy(Profile::Strict),
        Mode::Enforce,
        Mutation::All,
    ));
    let denied = fixture("deployment-create-denied.json").body;

    let mut delete = denied.clone();
    delete["request"]["operation"] = json!("DELETE");
    delete["request"]["oldObject"] = delete["request"]["object"].clone();
    delete["request"]["object"] = Value::Null;
    let answer = oneshot(state.clone(), "/validate", &delete).await;
    assert_eq!(answer["response"]["allowed"], true);

    let mut custom = denied.clone();
    custom["request"]["object"]["apiVersion"] = json!("example.com/v1");
    let answer = oneshot(state.clone(), "/validate", &custom).await;
    assert_eq!(answer["response"]["allowed"], true);

    // A Deployment's ReplicaSet is judged at the Deployment.
    let mut owned = denied.clone();
    owned["request"]["object"]["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "storefront",
        "uid": "5b1e7c44-2f0d-4c1b-8e55-9d2a7f61b0c3", "controller": true, "blockOwnerDeletion": true
    }]);
    owned["request"]["object"]["kind"] = json!("ReplicaSet");
    let answer = oneshot(state.clone(), "/validate", &owned).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");

    let mut scale = denied.clone();
    scale["request"]["subResource"] = json!("scale");
    let answer = oneshot(state.clone(), "/mutate", &scale).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert!(answer["response"].get("patch").is_none());
}

/// The patch for a missing drain delay follows the Kubernetes version: the
/// `sleep` action from 1.30, an exec sleep before; the grace period is raised
/// to cover it.
#[tokio::test]
async fn drain_delay_patches_follow_the_kubernetes_version() {
    let mut review = fixture("deployment-create-mutate.json").body;
    // Pods that others serve beside while they stop: a drain delay matters.
    review["request"]["object"]["spec"]["replicas"] = json!(3);
    for (version, native) in [
        (KubeVersion::new(1, 37), true),
        (KubeVersion::new(1, 29), false),
    ] {
        let mut policy = util::policy(Profile::Default);
        policy.kubernetes_version = version;
        let object = review["request"]["object"].clone();
        let proposes_hook = fixable(&object, &policy).contains(&"prestop-hook-missing");
        assert!(proposes_hook, "{version}: no drain delay fix proposed");
        let state = AppState::new(reviewer(policy.clone(), Mode::Enforce, Mutation::OptedIn));
        let answer = oneshot(state.clone(), "/mutate", &review).await;
        let repaired = patched(&review, &answer);
        assert_keeps_fields(&object, &repaired, "");
        assert_eq!(fixable(&repaired, &policy), Vec::<&str>::new(), "{version}");
        if proposes_hook {
            let pre_stop =
                &repaired["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"];
            assert_eq!(
                pre_stop.get("sleep").is_some(),
                native,
                "{version}: {pre_stop}"
            );
            assert_eq!(
                pre_stop.get("exec").is_some(),
                !native,
                "{version}: {pre_stop}"
            );
            let grace = repaired["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
                .as_i64()
                .unwrap_or_default();
            // drain 5s + shutdown 25s (annotation) + margin 5s
            assert!(grace >= 35, "{version}: grace {grace}");
        }
        let again = oneshot(state, "/mutate", &with_object(&review, repaired)).await;
        assert!(
            again["response"].get("patch").is_none(),
            "{version}: {again}"
        );
    }
}

// --- deploy/ ------------------------------------------------------------------

#[test]
fn deploy_manifests_lint_clean_in_strict() {
    let output = Command::new(env!("CARGO_BIN_EXE_rollsafe"))
        .args(["lint", "--profile", "strict", "--format", "json"])
        .arg(util::repo().join("deploy"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    assert_eq!(report["findings"], json!([]), "{report:#}");
    assert_eq!(report["errors"], json!([]), "{report:#}");
    assert!(
        report["summary"]["objects"].as_u64().unwrap_or(0) >= 2,
        "{report:#}"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn deploy_shutdown_settings_match_the_server_flags() {
    let base = std::fs::read_to_string(util::repo().join("deploy/base/deployment.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(base.contains("--shutdown-timeout=20s"), "{base}");
    assert!(
        base.contains("rollsafe.dev/shutdown-timeout: 20s"),
        "{base}"
    );
    assert!(base.contains("--drain-delay=5s"), "{base}");
}

#[test]
fn deploy_renders_with_kubectl_kustomize() {
    let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let Some(kubectl) = kubectl else {
        eprintln!("skipped: kubectl is not installed");
        return;
    };
    for overlay in ["deploy/base", "deploy/cert-manager", "deploy/warn"] {
        let output = Command::new(&kubectl)
            .arg("kustomize")
            .arg(util::repo().join(overlay))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{overlay}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for kind in [
            "kind: Deployment",
            "kind: Service",
            "kind: PodDisruptionBudget",
            "kind: ValidatingWebhookConfiguration",
            "kind: MutatingWebhookConfiguration",
            "kind: ClusterRole",
            "kind: ClusterRoleBinding",
        ] {
            assert!(text.contains(kind), "{overlay} lacks {kind}");
        }
        if overlay != "deploy/base" {
            assert!(text.contains("kind: Certificate"));
            assert!(text.contains("cert-manager.io/inject-ca-from: rollsafe/rollsafe"));
        }
        // The warn-first overlay never denies and fails open; the others
        // enforce and fail closed.
        let (mode, failure_policy) = if overlay == "deploy/warn" {
            ("--mode=warn", "Ignore")
        } else {
            ("--mode=enforce", "Fail")
        };
        let modes: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("- --mode="))
            .collect();
        assert_eq!(modes, [format!("- {mode}")], "{overlay}");
        let rendered: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
            .map(|doc| {
                serde::Deserialize::deserialize(doc).unwrap_or_else(|e| panic!("{overlay}: {e}"))
            })
            .collect();
        let validating = rendered
            .iter()
            .find(|d| d["kind"].as_str() == Some("ValidatingWebhookConfiguration"))
            .unwrap_or_else(|| panic!("{overlay}: no ValidatingWebhookConfiguration"));
        assert_eq!(
            validating["webhooks"][0]["failurePolicy"].as_str(),
            Some(failure_policy),
            "{overlay}"
        );
        // What kubectl renders lints clean too.
        let dir = scratch(&format!("rendered-{}", overlay.replace('/', "-")));
        let file = dir.join("rendered.yaml");
        util::write(&file, &text);
        let (_, outcome) = util::lint(&[file], &util::policy(Profile::Strict));
        let rules: Vec<&str> = outcome.findings.iter().map(|f| f.rule.id).collect();
        assert!(rules.is_empty(), "{overlay}: {rules:?}");
    }
}

#[test]
fn a_missing_or_mismatched_certificate_stops_the_start() {
    let dir = scratch("bad-start");
    let ca = TestCa::new();
    let (cert, _) = ca.issue();
    let (_, other_key) = ca.issue();
    util::write(&dir.join("tls.crt"), &cert);
    util::write(&dir.join("other.key"), &other_key);
    let start = |key: &str| {
        Command::new(env!("CARGO_BIN_EXE_rollsafe"))
            .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(dir.join("tls.crt"))
            .arg("--tls-key")
            .arg(dir.join(key))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let missing = start("absent.key");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
    let mismatched = start("other.key");
    assert_eq!(mismatched.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&mismatched.stderr).contains("does not belong to the certificate"),
        "{}",
        String::from_utf8_lossy(&mismatched.stderr)
    );
}

// --- hostile and unlucky reviews ------------------------------------------------

/// A review body kept from a defect found by fuzzing or hostile tests.
fn regression(name: &str) -> Value {
    let path = util::testdata(&format!("regressions/{name}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A CREATE review of `object`, as the API server sends it.
fn create_review(object: Value) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u-1", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": object.pointer("/metadata/name").cloned().unwrap_or(json!("")),
            "namespace": "shop", "operation": "CREATE",
            "userInfo": {"username": "test"}, "object": object, "dryRun": false}})
}

/// A Deployment of `n` containers that each serve a port and need a preStop
/// hook (and, without readiness probes, deny).
fn many_containers(n: usize) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "example/app:1", "ports": [{"containerPort": 8080}]}))
        .collect();
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "storefront", "namespace": "shop"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "s"}},
            "template": {"metadata": {"labels": {"app": "s"}},
                "spec": {"containers": containers}}}})
}

/// Status and JSON body of one request through the router, without a socket.
async fn oneshot_status(state: AppState, path: &str, body: &Value) -> (StatusCode, Value) {
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap_or_else(|e| panic!("{e}"));
    let response = router(state)
        .oneshot(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// The API server calls a mutating webhook once: one patch must repair every
/// container, not three of four (nor 9 of 11, as the fuzzer first saw).
#[tokio::test]
async fn one_mutation_repairs_every_container() {
    let state = AppState::new(reviewer(
        util::policy(Profile::Default),
        Mode::Enforce,
        Mutation::All,
    ));
    let incomplete = regression("webhook-mutate-incomplete-patch.json");
    // The fuzzer's input: an object with a stray carriage return before it.
    let fuzzed = {
        let path = util::testdata("fuzz/review/admission-incomplete-patch.bin");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let object: Value =
            serde_json::from_slice(bytes.trim_ascii_start()).unwrap_or_else(|e| panic!("{e}"));
        create_review(object)
    };
    for review in [incomplete, fuzzed, create_review(many_containers(40))] {
        let answer = oneshot(state.clone(), "/mutate", &review).await;
        let repaired = patched(&review, &answer);
        let containers = repaired["spec"]["template"]["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!containers.is_empty());
        for container in &containers {
            assert!(
                container["lifecycle"]["preStop"].is_object(),
                "{} has no preStop hook after the patch",
                container["name"]
            );
        }
        let again = oneshot(
            state.clone(),
            "/mutate",
            &with_object(&with_uid(&review, "again"), repaired),
        )
        .await;
        assert!(
            again["response"].get("patch").is_none(),
            "a second review patches again: {again}"
        );
    }
}

/// The fixpoint, on every rule fixture and every manifest of the bundled
/// corpus (and the shared one when present), at the current Kubernetes and
/// at 1.29 (exec `sleep` hooks): mutating the mutated object changes nothing.
#[test]
fn mutating_a_mutated_object_yields_no_patch() {
    use rollsafe::deadline::Deadline;
    let mut checked = 0;
    let mut repaired = 0;
    let mut check = |path: &Path, policy: &Policy| {
        let relative = path.strip_prefix(util::repo()).unwrap_or(path).to_owned();
        let (loaded, _) = util::lint(&[relative], policy);
        let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::All);
        for doc in &loaded.documents {
            let name = doc.file.name();
            let once = reviewer
                .repair(name, &doc.value, &Deadline::none())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let twice = reviewer
                .repair(name, &once.object, &Deadline::none())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let left = rollsafe::fix::diff(&once.object, &twice.object);
            assert!(
                left.is_empty(),
                "{name}: mutating the mutated object patches {left:?}"
            );
            checked += 1;
            repaired += usize::from(once.object != *doc.value);
        }
    };
    let mut old = util::policy(Profile::Default);
    old.kubernetes_version = "1.29".parse().unwrap_or_else(|e| panic!("{e:?}"));
    for path in util::manifests(&util::testdata("rules")) {
        let fixture = crate::rules::read_fixture(&path);
        check(&path, &fixture.policy);
    }
    let mut corpora = vec![util::testdata("corpus")];
    corpora.extend(util::shared("corpus/real"));
    for corpus in corpora {
        for path in util::manifests(&corpus) {
            check(&path, &util::policy(Profile::Default));
            check(&path, &old);
        }
    }
    assert!(checked > 500, "{checked}");
    assert!(repaired > 100, "{repaired}");
}

/// A review that outlasts the API server's timeout is answered 504 and its
/// work stops; one cancelled (at shutdown) stops too.
#[tokio::test]
async fn reviews_past_their_deadline_stop_and_answer_504() {
    use rollsafe::deadline::Deadline;
    use rollsafe::webhook::Endpoint;
    use rollsafe::webhook::admission::ReviewError;
    let policy = util::policy(Profile::Default);
    let state = AppState::new(reviewer(policy.clone(), Mode::Enforce, Mutation::All));
    let large = regression("webhook-inline-mutate-54k.json");
    // `?timeout=1ms` leaves half a millisecond: far less than 900 containers take.
    for path in ["/mutate?timeout=1ms", "/validate?timeout=1ms"] {
        let (status, body) = oneshot_status(state.clone(), path, &large).await;
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{path}: {body}");
        assert_eq!(body["code"], 504, "{body}");
    }

    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let deadline = Deadline::none().or_cancelled(cancelled);
    let reviewer = reviewer(policy, Mode::Enforce, Mutation::All);
    let body = serde_json::to_vec(&large).unwrap_or_default();
    for endpoint in [Endpoint::Validate, Endpoint::Mutate] {
        assert!(matches!(
            reviewer.review(endpoint, &body, &deadline),
            Err(ReviewError::Expired(_))
        ));
    }
}

/// A denial lists a few findings with what to change, and counts the rest:
/// 2,000 containers do not make a message of megabytes.
#[tokio::test]
async fn denials_are_capped_and_say_what_to_change() {
    let state = AppState::new(reviewer(
        util::policy(Profile::Default),
        Mode::Enforce,
        Mutation::OptedIn,
    ));
    let answer = oneshot(state, "/validate", &create_review(many_containers(2000))).await;
    assert_eq!(answer["response"]["allowed"], false);
    let denial = message(&answer);
    assert!(denial.len() < 8 * 1024, "{} bytes", denial.len());
    assert!(
        denial.starts_with("rollsafe denied Deployment/shop/storefront (2000 findings): readiness-probe-missing at `spec.template.spec.containers[0]`: "),
        "{denial}"
    );
    assert!(denial.contains("(add a readinessProbe"), "{denial}");
    assert!(
        denial.ends_with("and 1990 more; run `rollsafe lint` on the manifest for all of them"),
        "{denial}"
    );
    for warning in warnings(&answer) {
        assert!(
            warning.contains(" at `") || warning.starts_with("rollsafe:"),
            "a warning names its field: {warning}"
        );
    }
}

/// An update that makes an existing finding worse is denied; renaming a
/// container (and changing nothing else about it) does not make its old
/// findings new.
#[tokio::test]
async fn updates_are_judged_by_how_far_short_and_renames_keep_findings() {
    let state = AppState::new(reviewer(
        util::policy(Profile::Default),
        Mode::Enforce,
        Mutation::OptedIn,
    ));
    let deployment = |grace: i64, container: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"terminationGracePeriodSeconds": grace, "containers": [{
                        "name": container, "image": "example/web:1",
                        "ports": [{"containerPort": 8080}],
                        "env": [{"name": "SHUTDOWN_TIMEOUT", "value": "20s"}],
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}]}}}})
    };
    let update = |old: Value, new: Value| {
        let mut review = create_review(new);
        review["request"]["operation"] = json!("UPDATE");
        review["request"]["oldObject"] = old;
        review
    };
    // 10s already falls short of 5 + 20 + 5: lowering it to 8 is worse.
    let worse = oneshot(
        state.clone(),
        "/validate",
        &update(deployment(10, "web"), deployment(8, "web")),
    )
    .await;
    assert_eq!(worse["response"]["allowed"], false, "{worse}");
    let denial = message(&worse);
    assert!(denial.contains("grace-period-too-short"), "{denial}");
    assert!(
        denial.contains("set `terminationGracePeriodSeconds: 30`"),
        "{denial}"
    );
    // As short as before, or less: allowed, and warned about.
    for grace in [10, 20] {
        let same = oneshot(
            state.clone(),
            "/validate",
            &update(deployment(10, "web"), deployment(grace, "web")),
        )
        .await;
        assert_eq!(same["response"]["allowed"], true, "{grace}: {same}");
        assert!(
            warnings(&same).iter().any(|w| w.starts_with(
                "error grace-period-too-short at `spec.template.spec.terminationGracePeriodSeconds`"
            )),
            "{same}"
        );
    }
    // Renamed, nothing else changed: the same finding, not a new one.
    let renamed = oneshot(
        state,
        "/validate",
        &update(deployment(10, "web"), deployment(10, "frontend")),
    )
    .await;
    assert_eq!(renamed["response"]["allowed"], true, "{renamed}");
}

/// SIGTERM while large reviews run: the process exits within the drain
/// delay and the shutdown timeout (they are cancelled), and every request
/// gets an answer or a closed connection, never a hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_in_time_whatever_is_running() {
    let mut server = Server::start(
        "shutdown-under-load",
        &[
            "--drain-delay",
            "0s",
            "--shutdown-timeout",
            "1s",
            "--mutate-all",
        ],
    );
    let review = create_review(many_containers(3000));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let mut client = server.client().await;
        let review = with_uid(&review, &format!("u-{i}"));
        tasks.push(tokio::spawn(async move {
            let body = serde_json::to_vec(&review).unwrap_or_default();
            client
                .try_send("POST", "/mutate?timeout=30s", &[], body)
                .await
                .map(|reply| reply.status)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "exited {took:?} after SIGTERM, past drain (0s) + shutdown timeout (1s)"
    );
    for task in tasks {
        let outcome = tokio::time::timeout(WAIT, task)
            .await
            .unwrap_or_else(|_| panic!("a request hangs after the server exited"))
            .unwrap_or_else(|e| panic!("{e}"));
        if let Ok(status) = outcome {
            assert!(
                matches!(status, StatusCode::OK | StatusCode::GATEWAY_TIMEOUT),
                "{status}"
            );
        }
    }
}

/// Argo Rollouts and weighted routes are admitted like the built-in kinds:
/// what the Rollouts controller or the gateway would fail on is denied.
#[tokio::test]
async fn rollouts_and_weighted_routes_are_judged() {
    let state = AppState::new(reviewer(
        util::policy(Profile::Default),
        Mode::Enforce,
        Mutation::OptedIn,
    ));
    let review_of = |object: Value, group: &str, version: &str, kind: &str, resource: &str| {
        let mut review = create_review(object);
        review["request"]["kind"] = json!({"group": group, "version": version, "kind": kind});
        review["request"]["resource"] =
            json!({"group": group, "version": version, "resource": resource});
        review
    };
    let rollout = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "checkout", "namespace": "shop"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "checkout"}},
            "strategy": {"canary": {"steps": [{"setWeight": 150}]}},
            "template": {"metadata": {"labels": {"app": "checkout"}},
                "spec": {"containers": [{"name": "app", "image": "shop/checkout:1"}]}}}});
    let answer = oneshot(
        state.clone(),
        "/validate",
        &review_of(rollout, "argoproj.io", "v1alpha1", "Rollout", "rollouts"),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(
        message(&answer).contains("rollout-invalid-strategy"),
        "{answer}"
    );

    let route = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "storefront", "namespace": "shop"},
        "spec": {"parentRefs": [{"name": "public"}], "rules": [{"backendRefs": [
            {"name": "storefront", "port": 80, "weight": 0},
            {"name": "storefront-canary", "port": 80, "weight": 0}]}]}});
    let answer = oneshot(
        state,
        "/validate",
        &review_of(
            route,
            "gateway.networking.k8s.io",
            "v1",
            "HTTPRoute",
            "httproutes",
        ),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(
        message(&answer).contains("route-weights-all-zero"),
        "{answer}"
    );
}
