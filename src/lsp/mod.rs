//! `rollsafe server`: a Language Server Protocol server over standard input
//! and output, so that an editor shows findings as the manifest is written.
//!
//! Built on rust-analyzer's `lsp-server` (messages over crossbeam channels,
//! one loop, no async runtime) and `lsp-types`. The loop here reads
//! messages and sends what [`Workspace`] answers: diagnostics once the
//! edits have paused for [`DEBOUNCE`], code actions (each finding's fix, an
//! ignore comment) and hovers. A request whose parameters do not read is
//! answered with an error, and the loop goes on.

mod actions;
mod diagnostics;
mod documents;
mod hover;
mod policies;
pub mod position;
mod workspace;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeTextDocumentParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    FileSystemWatcher, GlobPattern, HoverParams, HoverProviderCapability, InitializeResult,
    MessageType, Registration, RegistrationParams, ServerCapabilities, ServerInfo,
    ShowMessageParams, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, notification, request,
};

pub use workspace::{Lint, Workspace};

use crate::commands::Status;

/// Quiet after the last edit before the documents are judged again: a
/// burst of keystrokes is linted once.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Serves over standard input and output until the editor says `exit`.
pub fn run() -> Result<Status, String> {
    let (connection, io_threads) = Connection::stdio();
    let status = serve(&connection);
    // The writer thread ends once every sender is gone.
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())?;
    status
}

/// The protocol's life on one connection: initialize, then the main loop.
/// The status is the process's: 0 after `shutdown` then `exit`, 1 for an
/// `exit` (or a closed input) without `shutdown`, as the protocol asks.
pub fn serve(connection: &Connection) -> Result<Status, String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "rollsafe".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        connection,
        workspace: Workspace::new()?,
        due: None,
    };
    let watches = params
        .pointer("/capabilities/workspace/didChangeWatchedFiles/dynamicRegistration")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if watches {
        server.watch_policy_files();
    }
    server.main_loop()
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                // Ranges, not whole texts: a keystroke in a long stream
                // sends a character.
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// An `exit` without `shutdown` first.
const EXIT_WITHOUT_SHUTDOWN: Status = Status::Findings;

struct Server<'c> {
    connection: &'c Connection,
    workspace: Workspace,
    /// When to lint, once edits are pending.
    due: Option<Instant>,
}

impl Server<'_> {
    fn main_loop(&mut self) -> Result<Status, String> {
        loop {
            let message = match self.due {
                Some(due) => {
                    let quiet = due.saturating_duration_since(Instant::now());
                    match self.connection.receiver.recv_timeout(quiet) {
                        Ok(message) => message,
                        Err(e) if e.is_timeout() => {
                            self.flush();
                            continue;
                        }
                        Err(_) => return Ok(EXIT_WITHOUT_SHUTDOWN),
                    }
                }
                None => match self.connection.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return Ok(EXIT_WITHOUT_SHUTDOWN),
                },
            };
            match message {
                Message::Request(request) => {
                    if self
                        .connection
                        .handle_shutdown(&request)
                        .map_err(|e| e.to_string())?
                    {
                        return Ok(Status::Clean);
                    }
                    let id = request.id.clone();
                    let response =
                        std::panic::catch_unwind(AssertUnwindSafe(|| self.request(request)))
                            .unwrap_or_else(|_| {
                                error(
                                    id,
                                    ErrorCode::InternalError,
                                    "the request failed".to_owned(),
                                )
                            });
                    self.send(response.into());
                }
                Message::Notification(note) if note.method == notification::Exit::METHOD => {
                    return Ok(EXIT_WITHOUT_SHUTDOWN);
                }
                Message::Notification(note) => self.notification(note),
                Message::Response(_) => {}
            }
        }
    }

    /// Asks the editor to say when a policy file changes on disk (a
    /// checkout, another program): the server reads none itself.
    fn watch_policy_files(&self) {
        let watchers = policies::CONFIG_NAMES
            .iter()
            .map(|name| FileSystemWatcher {
                glob_pattern: GlobPattern::String(format!("**/{name}")),
                kind: None,
            })
            .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: "rollsafe-policy-files".to_owned(),
            method: notification::DidChangeWatchedFiles::METHOD.to_owned(),
            register_options: serde_json::to_value(options).ok(),
        };
        let params = RegistrationParams {
            registrations: vec![registration],
        };
        self.send(
            Request::new(
                RequestId::from("rollsafe-watch".to_owned()),
                request::RegisterCapability::METHOD.to_owned(),
                params,
            )
            .into(),
        );
    }

    fn send(&self, message: Message) {
        // A closed output ends the loop through the input closing too.
        let _ = self.connection.sender.send(message);
    }

    /// Lints now whatever is pending, and sends what changed.
    fn flush(&mut self) {
        self.due = None;
        if !self.workspace.is_pending() {
            return;
        }
        let Ok(lint) = std::panic::catch_unwind(AssertUnwindSafe(|| self.workspace.lint())) else {
            return;
        };
        for message in lint.messages {
            let params = ShowMessageParams {
                typ: MessageType::ERROR,
                message,
            };
            self.send(
                Notification::new(notification::ShowMessage::METHOD.to_owned(), params).into(),
            );
        }
        for params in lint.publish {
            self.send(
                Notification::new(notification::PublishDiagnostics::METHOD.to_owned(), params)
                    .into(),
            );
        }
    }

    /// Lints in `delay` from now, or sooner if a lint is due sooner.
    fn schedule(&mut self, delay: Duration) {
        let at = Instant::now() + delay;
        self.due = Some(self.due.map_or(at, |due| due.min(at)));
    }

    fn request(&mut self, request: Request) -> Response {
        let Request { id, method, params } = request;
        match method.as_str() {
            request::CodeActionRequest::METHOD => {
                match serde_json::from_value::<CodeActionParams>(params) {
                    Ok(params) => {
                        // Answers on the text as the editor has it now.
                        self.flush();
                        Response::new_ok(id, self.workspace.code_actions(&params))
                    }
                    Err(e) => invalid_params(id, &method, &e),
                }
            }
            request::HoverRequest::METHOD => match serde_json::from_value::<HoverParams>(params) {
                Ok(params) => {
                    self.flush();
                    Response::new_ok(id, self.workspace.hover(&params))
                }
                Err(e) => invalid_params(id, &method, &e),
            },
            _ => error(
                id,
                ErrorCode::MethodNotFound,
                format!("no method `{method}`"),
            ),
        }
    }

    fn notification(&mut self, note: Notification) {
        let Notification { method, params } = note;
        match method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                if let Ok(params) = serde_json::from_value::<DidOpenTextDocumentParams>(params) {
                    self.workspace.open(params.text_document);
                    // A file just opened is judged at once.
                    self.schedule(Duration::ZERO);
                }
            }
            notification::DidChangeTextDocument::METHOD => {
                if let Ok(params) = serde_json::from_value::<DidChangeTextDocumentParams>(params) {
                    self.workspace.change(params);
                    // Each edit pushes the lint back: it runs once typing
                    // pauses.
                    self.due = Some(Instant::now() + DEBOUNCE);
                }
            }
            notification::DidCloseTextDocument::METHOD => {
                if let Ok(params) = serde_json::from_value::<DidCloseTextDocumentParams>(params) {
                    if let Some(clear) = self.workspace.close(&params.text_document.uri) {
                        self.send(
                            Notification::new(
                                notification::PublishDiagnostics::METHOD.to_owned(),
                                clear,
                            )
                            .into(),
                        );
                    }
                    self.schedule(DEBOUNCE);
                }
            }
            notification::DidSaveTextDocument::METHOD => {
                if let Ok(params) = serde_json::from_value::<DidSaveTextDocumentParams>(params)
                    && self.workspace.saved(&params.text_document.uri)
                {
                    self.schedule(Duration::ZERO);
                }
            }
            notification::DidChangeWatchedFiles::METHOD => {
                self.workspace.policies_changed();
                self.schedule(Duration::ZERO);
            }
            // `initialized`, `$/cancelRequest`, `$/setTrace` and the rest ask
            // nothing of this server.
            _ => {}
        }
    }
}

fn error(id: RequestId, code: ErrorCode, message: String) -> Response {
    Response::new_err(id, code as i32, message)
}

fn invalid_params(id: RequestId, method: &str, e: &serde_json::Error) -> Response {
    error(
        id,
        ErrorCode::InvalidParams,
        format!("invalid parameters for `{method}`: {e}"),
    )
}
