//! What the server knows between messages: the open documents, their
//! policies, and the findings last published. No I/O but policy discovery:
//! the main loop ([`super`]) sends what it returns.
//!
//! The objects of every open document one policy governs are one input, as
//! the paths of one `lint` run are: a Service in one file counts for the
//! Deployment in another. An edit re-parses its own document only, judges
//! its group again, and each document of the group is sent its findings
//! when they changed.

use std::collections::{BTreeSet, HashMap};

use lsp_types::{
    CodeActionOrCommand, CodeActionParams, Diagnostic, DidChangeTextDocumentParams, Hover,
    HoverParams, PublishDiagnosticsParams, TextDocumentItem, Uri,
};

use super::documents::Documents;
use super::policies::{self, Group, Policies};
use super::{actions, diagnostics, hover, position};
use crate::engine;
use crate::finding::Finding;
use crate::source::{Document, InputError, Loader};

pub struct Workspace {
    documents: Documents,
    policies: Policies,
    /// Documents opened or changed since the last lint.
    dirty: BTreeSet<String>,
    /// Groups to judge again though none of their documents changed: one
    /// was closed, or a policy file was saved.
    stale: BTreeSet<Group>,
    /// What each document was last sent.
    published: HashMap<String, Vec<Diagnostic>>,
    /// The findings behind it, for code actions.
    findings: HashMap<String, Vec<Finding>>,
}

/// What a lint has to tell the editor.
#[derive(Debug, Default)]
pub struct Lint {
    pub publish: Vec<PublishDiagnosticsParams>,
    /// Policy files that did not load, for `window/showMessage`.
    pub messages: Vec<String>,
}

impl Workspace {
    pub fn new() -> Result<Self, String> {
        let policies = Policies::new().map_err(|errors| {
            let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            format!("the built-in policy does not load: {}", messages.join("; "))
        })?;
        Ok(Workspace {
            documents: Documents::default(),
            policies,
            dirty: BTreeSet::new(),
            stale: BTreeSet::new(),
            published: HashMap::new(),
            findings: HashMap::new(),
        })
    }

    pub fn open(&mut self, item: TextDocumentItem) {
        self.dirty.insert(item.uri.as_str().to_owned());
        let policies = &mut self.policies;
        self.documents.open(item, |path| policies.group_of(path));
    }

    pub fn change(&mut self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        if self
            .documents
            .change(&uri, params.text_document.version, params.content_changes)
        {
            self.dirty.insert(uri.as_str().to_owned());
        }
    }

    /// Forgets a document; what clears its diagnostics in the editor.
    pub fn close(&mut self, uri: &Uri) -> Option<PublishDiagnosticsParams> {
        let closed = self.documents.close(uri)?;
        let key = uri.as_str();
        self.dirty.remove(key);
        self.findings.remove(key);
        self.stale.insert(closed.group);
        self.published
            .remove(key)
            .map(|_| PublishDiagnosticsParams::new(uri.clone(), Vec::new(), None))
    }

    /// A saved policy file changes what governs whom: every document is
    /// grouped, parsed and judged again. Whether it did.
    pub fn saved(&mut self, uri: &Uri) -> bool {
        let is_policy = self
            .documents
            .get(uri.as_str())
            .and_then(|open| open.path.as_deref())
            .is_some_and(policies::is_policy_file);
        if is_policy {
            self.policies_changed();
        }
        is_policy
    }

    /// Policy files were created, changed or deleted (saved here, or
    /// changed on disk by a checkout): every document is grouped, parsed
    /// and judged again.
    pub fn policies_changed(&mut self) {
        self.policies.forget();
        for (key, open) in self.documents.iter_mut() {
            self.stale.insert(open.group.take());
            open.group = self.policies.group_of(open.path.as_deref());
            open.parsed = None;
            self.dirty.insert(key.clone());
        }
    }

    /// Whether documents changed since the last lint.
    pub fn is_pending(&self) -> bool {
        !self.dirty.is_empty() || !self.stale.is_empty()
    }

    /// Parses what changed, judges the groups it belongs to, and returns
    /// the diagnostics of each document that changed or whose findings did.
    pub fn lint(&mut self) -> Lint {
        let dirty = std::mem::take(&mut self.dirty);
        let mut stale = std::mem::take(&mut self.stale);
        for key in &dirty {
            if let Some(open) = self.documents.get(key) {
                stale.insert(open.group.clone());
            }
        }
        let mut lint = Lint::default();
        for group in stale {
            let (policy, errors) = self.policies.policy(&group);
            if let (Some(path), false) = (&group, errors.is_empty()) {
                lint.messages.push(policy_message(path, &errors));
            }
            let members = self.documents.in_group(&group);
            let documents = self.parse(&members, &policy);
            let outcome = engine::evaluate(&documents, &policy);
            let mut findings: HashMap<String, Vec<Finding>> = HashMap::new();
            for finding in outcome.findings {
                findings
                    .entry(finding.file_name().to_owned())
                    .or_default()
                    .push(finding);
            }
            for key in members {
                let Some(open) = self.documents.get(&key) else {
                    continue;
                };
                let errors = open.parsed.iter().flat_map(|p| &p.errors);
                let undecodable = outcome.errors.iter().filter(|e| e.path == key);
                let mut shown: Vec<Diagnostic> =
                    errors.chain(undecodable).map(|e| error(e, open)).collect();
                let found = findings.remove(&key).unwrap_or_default();
                shown.extend(found.iter().map(|f| diagnostics::of_finding(f, &open.uri)));
                if dirty.contains(&key) || self.published.get(&key) != Some(&shown) {
                    lint.publish.push(PublishDiagnosticsParams::new(
                        open.uri.clone(),
                        shown.clone(),
                        Some(open.version),
                    ));
                }
                self.published.insert(key.clone(), shown);
                self.findings.insert(key, found);
            }
        }
        lint
    }

    /// The documents of `members`, each parsed unless it is already.
    fn parse(&mut self, members: &[String], policy: &crate::policy::Policy) -> Vec<Document> {
        let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
        // Whole texts are kept: fixes are written into them.
        let loader = Loader::new(&wants).keeping_sources();
        let mut documents = Vec::new();
        for key in members {
            if let Some(open) = self.documents.get_mut(key) {
                documents.extend(open.parse(&loader).documents.iter().cloned());
            }
        }
        documents
    }

    pub fn code_actions(&self, params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
        let key = params.text_document.uri.as_str();
        let (Some(open), Some(findings)) = (self.documents.get(key), self.findings.get(key)) else {
            return Vec::new();
        };
        actions::for_range(&open.uri, findings, params.range, open.is_json())
    }

    pub fn hover(&mut self, params: &HoverParams) -> Option<Hover> {
        let at = &params.text_document_position_params;
        let open = self.documents.get(at.text_document.uri.as_str())?;
        if !open.lintable {
            return None;
        }
        let byte = position::offset(&open.file, at.position);
        let doc = open.parsed.as_ref()?.documents.iter().find(|doc| {
            let end = doc
                .spans
                .exact("")
                .map_or(doc.start, |span| span.value_range().end);
            doc.start <= byte && byte <= end
        })?;
        let doc = doc.clone();
        let group = open.group.clone();
        let (policy, _) = self.policies.policy(&group);
        let members = self.documents.in_group(&group);
        let among = self.parse(&members, &policy);
        hover::hover(&doc, byte, &among, &policy)
    }
}

/// An input error at its place in the document.
fn error(error: &InputError, open: &super::documents::Open) -> Diagnostic {
    let file = error.file.as_deref().unwrap_or(&open.file);
    diagnostics::of_error(error, file, &open.uri)
}

/// What `window/showMessage` says of a policy file that does not load.
fn policy_message(path: &std::path::Path, errors: &[InputError]) -> String {
    let reasons: Vec<String> = errors
        .iter()
        .map(|e| match e.line_col() {
            Some((line, column)) => format!("{line}:{column}: {}", e.message),
            None => e.message.clone(),
        })
        .collect();
    format!(
        "rollsafe: policy `{}` does not load ({}); the default policy applies until it is fixed",
        path.display(),
        reasons.join("; ")
    )
}
