//! documents + policy → findings.
//!
//! The engine builds the cross-object index once, runs every enabled rule over
//! every document as written (when a rule asks for that), every workload,
//! every PodDisruptionBudget and every weighted route, gives each violation its severity and place, and
//! sets aside what a `# rollsafe: ignore[…]` comment, an annotation or a
//! policy exemption suppresses (and reports comments that suppress nothing).
//! It knows nothing of any rule's details.
//!
//! A document that does not decode as its kind (`replicas: "3"`) is an input
//! error, unless an enabled rule takes such documents over
//! ([`DocumentNeeds::decode_errors`]): then what breaks the decoding is one of
//! that rule's findings, and the object is decoded again from a copy repaired
//! as the schema check suggests (the value meant, or no value), so that the
//! other rules still judge the rest of it.

use std::sync::Arc;

use serde_json::Value;

use crate::deadline::{Deadline, Expired};
use crate::finding::Finding;
use crate::model::index::{Entry, Neighbours, Undecodable};
use crate::model::{Index, KnownKind, ObjectRef, TemplatePaths, Workload, template_of};
use crate::parallel::{self, Grain};
use crate::policy::Policy;
use crate::rules::{self, Context, DocumentNeeds, DocumentView, Rule, Violation};
use crate::schema::{self, Problem, ProblemKind};
use crate::severity::Severity;
use crate::source::comments::{self, SuppressionComment};
use crate::source::{Document, InputError, Location};

/// Annotation listing rule ids to silence on one object.
pub const IGNORE_ANNOTATION: &str = "rollsafe.dev/ignore";
/// Why they are silenced, shown with suppressed findings.
pub const IGNORE_REASON_ANNOTATION: &str = "rollsafe.dev/ignore-reason";

/// Everything one evaluation produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Finding>,
    /// Documents that do not decode as their kind.
    pub errors: Vec<InputError>,
    /// Objects of the kinds rollsafe reads that were evaluated.
    pub objects: usize,
    /// Those objects: workloads, then PodDisruptionBudgets, then routes (for
    /// reports that list every object).
    pub evaluated: Vec<Evaluated>,
}

/// An object the rules ran over.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub doc: Document,
    pub object: ObjectRef,
}

impl Outcome {
    /// Findings and suppressed findings in report order (file, place, rule).
    pub fn sort(&mut self) {
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.suppressed
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

/// Whether a document is worth reading for this policy: kinds the rules or the
/// index read, custom kinds the policy names, and custom resources rollsafe
/// or a schema folder of the policy has a schema for (when a rule checks
/// schemas).
pub fn wants(policy: &Policy, api_version: &str, kind: &str) -> bool {
    KnownKind::classify(api_version, kind).is_some()
        || policy
            .template_paths
            .contains_key(&format!("{api_version}/{kind}"))
        || (schema::is_known_custom_resource(api_version, kind) && document_needs(policy).schema)
        || (!policy.schema_dirs.is_empty()
            && document_needs(policy).schema
            && schema::has_custom_schema(&policy.schema_dirs, api_version, kind))
}

/// What the enabled rules need from the document pass.
fn document_needs(policy: &Policy) -> DocumentNeeds {
    rules::RULES
        .iter()
        .filter(|rule| policy.severity(rule.info().id).is_some())
        .fold(DocumentNeeds::default(), |needs, rule| {
            needs.union(rule.document_needs())
        })
}

/// Repaired copies decoded at most this many times per document: each try
/// removes the one value the decoder stopped at.
const MAX_DECODE_TRIES: usize = 16;

/// Runs the policy's rules over the documents of one run.
pub fn evaluate(documents: &[Document], policy: &Policy) -> Outcome {
    evaluate_within(documents, policy, &Deadline::none()).unwrap_or_default()
}

/// [`evaluate`], abandoned between documents, workloads and rules once
/// `deadline` has passed.
pub fn evaluate_within(
    documents: &[Document],
    policy: &Policy,
    deadline: &Deadline,
) -> Result<Outcome, Expired> {
    evaluate_among(documents, policy, None, deadline)
}

/// [`evaluate_within`], where the cross-object lookups also see
/// `neighbours`, which are not judged themselves: one object under review
/// among the PodDisruptionBudgets, HPAs and Services of its namespace.
pub fn evaluate_among(
    documents: &[Document],
    policy: &Policy,
    neighbours: Option<Arc<Neighbours>>,
    deadline: &Deadline,
) -> Result<Outcome, Expired> {
    let judge = Judge::new(policy).among(neighbours);
    judge_with(&judge, documents, deadline).map(|(outcome, _)| outcome)
}

/// [`evaluate`], with the index of the objects the rules read: for a front
/// end that draws what the rules judged (`rollsafe timeline`).
pub fn evaluate_with_index(documents: &[Document], policy: &Policy) -> (Outcome, Index) {
    judge(documents, policy, &Deadline::none()).unwrap_or_default()
}

fn judge(
    documents: &[Document],
    policy: &Policy,
    deadline: &Deadline,
) -> Result<(Outcome, Index), Expired> {
    judge_with(&Judge::new(policy), documents, deadline)
}

fn judge_with(
    judge: &Judge<'_>,
    documents: &[Document],
    deadline: &Deadline,
) -> Result<(Outcome, Index), Expired> {
    let passes =
        parallel::map_in_order(documents, Grain::Fine, |doc| judge.document(doc, deadline));
    judge.finish(passes, deadline)
}

/// The rules of a policy, run in two stages: [`Judge::document`] on each
/// document as it is read (on any thread, keeping only what the second
/// stage needs), then [`Judge::finish`] over the objects of the whole run.
pub struct Judge<'p> {
    policy: &'p Policy,
    /// Whether workloads keep their trees frozen between the stages.
    freezing: bool,
    /// Workloads of files longer than this keep only a stub between the
    /// stages and are judged from their file read again.
    reread_above: Option<usize>,
    needs: DocumentNeeds,
    enabled: Vec<(&'static dyn Rule, Severity)>,
    neighbours: Option<Arc<Neighbours>>,
}

/// What the first stage leaves of one document: its object, decoded, the
/// findings of the rules that judge documents as written, and the errors.
pub struct DocumentPass {
    decoded: Result<Option<Entry>, Box<Undecodable>>,
    placed: Placed,
    unusable_schema: Option<(std::path::PathBuf, String)>,
    /// The file to read again, when the workload was kept as a stub.
    reread: Option<String>,
    /// The document's `# rollsafe: ignore[…]` comments, with the document
    /// (only when it has some), to report those that silence nothing.
    comments: Option<(Document, Vec<SuppressionComment>)>,
}

/// The first stage of a run, gathered: the index (with stubs for the
/// workloads of files read again) and what the documents' rules found.
pub struct Gathered {
    outcome: Outcome,
    index: Index,
    /// Files whose workloads are stubs, in input order.
    reread: Vec<String>,
    /// The `# rollsafe: ignore[…]` comments of the documents that have some.
    comments: Vec<(Document, Vec<SuppressionComment>)>,
}

impl Gathered {
    /// The files to read again and hand to [`Judge::reread_workload`].
    pub fn reread(&self) -> &[String] {
        &self.reread
    }

    pub fn index(&self) -> &Index {
        &self.index
    }
}

/// A workload judged from its file read again.
pub struct Reread {
    placed: Placed,
    evaluated: Evaluated,
}

impl<'p> Judge<'p> {
    pub fn new(policy: &'p Policy) -> Self {
        Judge {
            policy,
            freezing: false,
            reread_above: None,
            needs: document_needs(policy),
            enabled: rules::RULES
                .iter()
                .filter_map(|&rule| policy.severity(rule.info().id).map(|s| (rule, s)))
                .collect(),
            neighbours: None,
        }
    }

    /// Lets the cross-object lookups also see `neighbours` (see
    /// [`Neighbours`]).
    pub fn among(mut self, neighbours: Option<Arc<Neighbours>>) -> Self {
        self.neighbours = neighbours;
        self
    }

    /// Keeps each workload's tree as compact JSON from the first stage to
    /// the second (see [`crate::model::Workload::freeze`]): for a run that
    /// reads every file before it judges workloads.
    pub fn freezing_workloads(mut self) -> Self {
        self.freezing = true;
        self
    }

    /// With [`Judge::freezing_workloads`]: the workloads of a file longer
    /// than `bytes` are kept as stubs ([`crate::model::Workload::stub`]) and
    /// judged when the file is read again ([`Judge::reread_workload`]), so
    /// that a long stream is not held whole until every file is read.
    pub fn rereading_files_above(mut self, bytes: usize) -> Self {
        self.reread_above = Some(bytes);
        self
    }

    /// Checks and decodes one document and runs the rules that judge
    /// documents as written. Needs nothing of the other documents.
    pub fn document(&self, doc: &Document, deadline: &Deadline) -> Result<DocumentPass, Expired> {
        deadline.check()?;
        let policy = self.policy;
        let templates = &policy.template_paths;
        let (mut problems, unusable_schema) = if self.needs.schema {
            let checker = schema::Checker {
                version: policy.kubernetes_version,
                schema_dirs: &policy.schema_dirs,
                templates,
            };
            let result = checker.check(doc);
            (result.problems, result.unusable_schema)
        } else {
            (Vec::new(), None)
        };
        let mut decoded = match Entry::decode(doc, templates) {
            Err(_) if self.needs.decode_errors => {
                Ok(decode_repaired(doc, &mut problems, templates))
            }
            Err(error) => Err(Box::new(Undecodable {
                doc: doc.clone(),
                error,
            })),
            Ok(entry) => Ok(entry),
        };
        let mut placed = Placed::default();
        if self.needs.schema || self.needs.decode_errors {
            let object = ObjectRef::from_value(&doc.value);
            let template = template_of(&object, templates).map(|(_, pointer)| pointer);
            let subject = Subject {
                doc,
                object: &object,
                template: template.as_deref(),
            };
            let view = DocumentView {
                doc,
                object: &object,
                problems: &problems,
            };
            let mut violations = Vec::new();
            for &(rule, severity) in &self.enabled {
                rule.check_document(&view, &mut violations);
                placed.place(policy, rule, severity, &subject, &mut violations);
            }
        }
        let mut reread = None;
        if self.freezing
            && let Ok(Some(Entry::Workload(workload))) = &mut decoded
        {
            let file = &doc.file;
            if self.reread_above.is_some_and(|above| file.len() > above)
                && file.name() != crate::source::STDIN
            {
                **workload = workload.stub();
                reread = Some(file.name().to_owned());
            } else {
                workload.freeze();
            }
        }
        // A file read again is not held on to for its comments: it is let go
        // of to save its memory, and its comments silence findings on the
        // second read all the same (only unused ones go unreported).
        let large = self
            .reread_above
            .is_some_and(|above| doc.file.len() > above);
        let comments = if self.policy.reports_unused_suppressions() && !large {
            let found = comments::suppressions_in(doc);
            (!found.is_empty()).then(|| (doc.clone(), found))
        } else {
            None
        };
        Ok(DocumentPass {
            decoded,
            placed,
            unusable_schema,
            reread,
            comments,
        })
    }

    /// Judges `doc`, of a file read again, if it is a workload the first
    /// stage kept as a stub (see [`Judge::rereading_files_above`]).
    pub fn reread_workload(
        &self,
        doc: &Document,
        index: &Index,
        deadline: &Deadline,
    ) -> Result<Option<Reread>, Expired> {
        let templates = &self.policy.template_paths;
        let object = ObjectRef::from_value(&doc.value);
        if template_of(&object, templates).is_none() {
            return Ok(None);
        }
        // Decoded as the first stage decoded it; one that failed there was
        // reported there.
        let entry = match Entry::decode(doc, templates) {
            Ok(entry) => entry,
            Err(_) if self.needs.decode_errors => {
                let checker = schema::Checker {
                    version: self.policy.kubernetes_version,
                    schema_dirs: &self.policy.schema_dirs,
                    templates,
                };
                let mut problems = checker.check(doc).problems;
                decode_repaired(doc, &mut problems, templates)
            }
            Err(_) => None,
        };
        let Some(Entry::Workload(workload)) = entry else {
            return Ok(None);
        };
        let mut placed = self.judge_workload(&workload, index, deadline)?;
        // What reports read of the document (its file and start; findings
        // carry their own places), not its tree or spans: the findings
        // outlive the parts of the stream.
        let nowhere = Document::nowhere();
        let mut slim = workload.doc.clone();
        slim.value = nowhere.value;
        slim.spans = nowhere.spans;
        for finding in placed.findings.iter_mut().chain(&mut placed.suppressed) {
            finding.doc = slim.clone();
        }
        Ok(Some(Reread {
            placed,
            evaluated: Evaluated {
                doc: slim,
                object: workload.object.clone(),
            },
        }))
    }

    /// Builds the index of the run from the documents' passes, in input
    /// order, and runs the rules that judge workloads and
    /// PodDisruptionBudgets against it.
    pub fn finish(
        &self,
        passes: impl IntoIterator<Item = Result<DocumentPass, Expired>>,
        deadline: &Deadline,
    ) -> Result<(Outcome, Index), Expired> {
        let gathered = self.gather(passes)?;
        self.conclude(gathered, Vec::new(), deadline)
    }

    /// Builds the index of the run from the documents' passes, in input
    /// order, with what the documents' rules found.
    pub fn gather(
        &self,
        passes: impl IntoIterator<Item = Result<DocumentPass, Expired>>,
    ) -> Result<Gathered, Expired> {
        let mut outcome = Outcome::default();
        let mut index = Index::default().among(self.neighbours.clone());
        let mut reread: Vec<String> = Vec::new();
        let mut comments = Vec::new();
        for pass in passes {
            let pass = pass?;
            comments.extend(pass.comments);
            if let Some((path, message)) = pass.unusable_schema {
                let path = path.display().to_string();
                if !outcome.errors.iter().any(|e| e.path == path) {
                    let help = "fix the file or remove it from `schemaDirs`".to_owned();
                    outcome
                        .errors
                        .push(InputError::about(&path, message, Some(help)));
                }
            }
            if let Some(file) = pass.reread
                && reread.last() != Some(&file)
            {
                reread.push(file);
            }
            match pass.decoded {
                Ok(entry) => index.add(entry),
                Err(undecodable) => outcome.errors.push(undecodable_error(*undecodable)),
            }
            pass.placed.add_to(&mut outcome);
        }
        Ok(Gathered {
            outcome,
            index,
            reread,
            comments,
        })
    }

    /// Runs the rules that judge workloads, PodDisruptionBudgets and routes
    /// over a gathered run; `reread` are its stubs' workloads judged from their
    /// files read again, in input order.
    pub fn conclude(
        &self,
        gathered: Gathered,
        reread: Vec<Result<Option<Reread>, Expired>>,
        deadline: &Deadline,
    ) -> Result<(Outcome, Index), Expired> {
        let Gathered {
            mut outcome,
            index,
            comments,
            ..
        } = gathered;
        let by_workload = parallel::map_in_order(&index.workloads, Grain::Fine, |w| {
            if w.is_stub() {
                return Ok(Placed::default());
            }
            self.judge_workload(w, &index, deadline)
        });
        let by_pdb = parallel::map_in_order(&index.pdbs, Grain::Fine, |pdb| {
            self.judge_object(&index, deadline, &pdb.doc, &pdb.object, |rule, cx, out| {
                rule.check_pdb(pdb, cx, out)
            })
        });
        let by_route = parallel::map_in_order(&index.routes, Grain::Fine, |route| {
            self.judge_object(
                &index,
                deadline,
                route.doc(),
                route.object(),
                |rule, cx, out| rule.check_route(route, cx, out),
            )
        });
        for placed in by_workload.into_iter().chain(by_pdb).chain(by_route) {
            placed?.add_to(&mut outcome);
        }
        let mut reread_evaluated = Vec::new();
        for judged in reread {
            let Some(judged) = judged? else {
                continue;
            };
            judged.placed.add_to(&mut outcome);
            reread_evaluated.push(judged.evaluated);
        }
        let mut reread_evaluated = reread_evaluated.into_iter();
        outcome.objects = index.workloads.len() + index.pdbs.len() + index.routes.len();
        outcome.evaluated = index
            .workloads
            .iter()
            .filter_map(|w| {
                if w.is_stub() {
                    return reread_evaluated.next();
                }
                Some(Evaluated {
                    doc: w.doc.clone(),
                    object: w.object.clone(),
                })
            })
            .chain(index.pdbs.iter().map(|p| Evaluated {
                doc: p.doc.clone(),
                object: p.object.clone(),
            }))
            .chain(index.routes.iter().map(|r| Evaluated {
                doc: r.doc().clone(),
                object: r.object().clone(),
            }))
            .collect();
        withhold_deferred(&mut outcome.findings);
        outcome.findings.extend(unused_suppressions(
            &comments,
            &outcome.suppressed,
            self.policy,
        ));
        outcome.sort();
        Ok((outcome, index))
    }

    /// The findings of the rules on one object that has no pod template (a
    /// PodDisruptionBudget, a route), each rule asked through `check`.
    fn judge_object(
        &self,
        index: &Index,
        deadline: &Deadline,
        doc: &Document,
        object: &ObjectRef,
        check: impl Fn(&dyn Rule, &Context<'_>, &mut Vec<Violation>),
    ) -> Result<Placed, Expired> {
        deadline.check()?;
        let policy = self.policy;
        let cx = Context::new(&policy.settings, index, policy.kubernetes_version);
        let subject = Subject {
            doc,
            object,
            template: None,
        };
        let mut placed = Placed::default();
        let mut violations = Vec::new();
        for &(rule, severity) in &self.enabled {
            check(rule, &cx, &mut violations);
            placed.place(policy, rule, severity, &subject, &mut violations);
        }
        Ok(placed)
    }

    /// The findings of the rules that judge one workload, which share its
    /// facts through one context.
    fn judge_workload(
        &self,
        frozen: &Workload,
        index: &Index,
        deadline: &Deadline,
    ) -> Result<Placed, Expired> {
        let policy = self.policy;
        let thawed = frozen.thawed();
        let workload = thawed.as_ref().unwrap_or(frozen);
        let cx = Context::new(&policy.settings, index, policy.kubernetes_version).judging(workload);
        let subject = Subject {
            doc: &workload.doc,
            object: &workload.object,
            template: Some(&workload.template_pointer),
        };
        let mut placed = Placed::default();
        let mut violations = Vec::new();
        for &(rule, severity) in &self.enabled {
            deadline.check()?;
            rule.check_workload(workload, &cx, &mut violations);
            placed.place(policy, rule, severity, &subject, &mut violations);
        }
        if thawed.is_some() {
            // Findings name their document; its tree goes back to sleep.
            for finding in placed.findings.iter_mut().chain(&mut placed.suppressed) {
                finding.doc = frozen.doc.clone();
            }
        }
        Ok(placed)
    }
}

/// Drops the findings of a rule on an object that a rule it defers to
/// reports (see [`rules::RuleInfo::defers_to`]).
fn withhold_deferred(findings: &mut Vec<Finding>) {
    if findings.iter().all(|f| f.rule.defers_to.is_empty()) {
        return;
    }
    let key = |f: &Finding| (f.file_name().to_owned(), f.doc.start, f.object.clone());
    let reported: std::collections::HashSet<_> =
        findings.iter().map(|f| (key(f), f.rule.id)).collect();
    findings.retain(|f| {
        let at = key(f);
        !f.rule
            .defers_to
            .iter()
            .any(|id| reported.contains(&(at.clone(), *id)))
    });
}

/// Today's input error for a document that does not decode as its kind.
fn undecodable_error(u: Undecodable) -> InputError {
    let location = u.doc.locate(&u.error.pointer);
    let object = ObjectRef::from_value(&u.doc.value);
    let message = format!(
        "{object}: cannot be read as a {}: {}",
        object.kind, u.error.message
    );
    InputError::at(&u.doc.file, location.range, message, None)
}

/// Decodes a copy of `doc` repaired as the schema problems say; each value
/// the decoder still stops at is removed in turn, and reported unless a
/// problem already covers it. The copy keeps the document's spans: repairs
/// never move a node.
fn decode_repaired(
    doc: &Document,
    problems: &mut Vec<Problem>,
    templates: &TemplatePaths,
) -> Option<Entry> {
    let repairs = problems
        .iter()
        .filter_map(|p| p.repair.as_ref().map(|r| (p.pointer.as_str(), r)));
    let mut value = schema::repair::repaired(&doc.value, repairs);
    // Values left out of the copy: the rules must not judge their default.
    let mut unread: Vec<String> = problems
        .iter()
        .filter(|p| p.repair == Some(schema::Repair::Remove))
        .map(|p| p.pointer.clone())
        .collect();
    for _ in 0..MAX_DECODE_TRIES {
        let copy = Document {
            value: Arc::new(value.clone()),
            ..doc.clone()
        };
        let error = match Entry::decode(&copy, templates) {
            Ok(Some(Entry::Workload(mut workload))) => {
                workload.unread = unread;
                return Some(Entry::Workload(workload));
            }
            Ok(entry) => return entry,
            Err(error) => error,
        };
        unread.push(error.pointer.clone());
        let covered = problems.iter().any(|p| {
            p.kind == ProblemKind::InvalidValue
                && (within(&error.pointer, &p.pointer) || within(&p.pointer, &error.pointer))
        });
        if !covered {
            problems.push(schema::undecodable(doc, &error.pointer, &error.message));
        }
        if !schema::repair::remove(&mut value, &error.pointer) {
            return None;
        }
    }
    None
}

/// Whether `pointer` is `ancestor` or below it.
fn within(pointer: &str, ancestor: &str) -> bool {
    pointer
        .strip_prefix(ancestor)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// What findings are placed on: a document, the object it is, and where
/// its pod template is (for the ignore annotation there).
struct Subject<'a> {
    doc: &'a Document,
    object: &'a ObjectRef,
    template: Option<&'a str>,
}

/// Findings placed on one subject, in the order the rules found them.
#[derive(Default)]
struct Placed {
    findings: Vec<Finding>,
    suppressed: Vec<Finding>,
}

impl Placed {
    fn add_to(self, outcome: &mut Outcome) {
        outcome.findings.extend(self.findings);
        outcome.suppressed.extend(self.suppressed);
    }

    fn place(
        &mut self,
        policy: &Policy,
        rule: &dyn Rule,
        severity: Severity,
        subject: &Subject<'_>,
        violations: &mut Vec<Violation>,
    ) {
        let info = rule.info();
        for violation in violations.drain(..) {
            let location = subject.doc.locate(&violation.pointer);
            let suppression = suppression(policy, subject, info.id, &location);
            let finding = Finding {
                rule: info,
                severity: violation.at_most.map_or(severity, |cap| severity.min(cap)),
                location,
                doc: subject.doc.clone(),
                object: subject.object.clone(),
                container: violation.container,
                pointer: violation.pointer,
                message: violation.message,
                help: violation.help,
                fix: violation.fix,
                shortfall: violation.shortfall,
                suppression,
            };
            if finding.suppression.is_some() {
                self.suppressed.push(finding);
            } else {
                self.findings.push(finding);
            }
        }
    }
}

/// How the reason of a finding silenced by a comment starts.
const COMMENT_REASON: &str = "comment `# rollsafe: ignore`";

/// Why a finding is suppressed: a `# rollsafe: ignore[rule]` comment on the
/// field's line or the line above, the object's `rollsafe.dev/ignore`
/// annotation (on the object or its pod template) names the rule, or an
/// exemption covers it.
fn suppression(
    policy: &Policy,
    subject: &Subject<'_>,
    rule: &str,
    location: &Location,
) -> Option<String> {
    let file = &subject.doc.file;
    let comment = [location.line, location.line.saturating_sub(1)]
        .into_iter()
        .filter_map(|line| comments::suppression_on(file, line))
        .find(|c| c.covers(rule, location.line));
    if let Some(comment) = comment {
        return Some(match comment.reason {
            Some(reason) => format!("{COMMENT_REASON}: {reason}"),
            None => COMMENT_REASON.to_owned(),
        });
    }
    let value = &subject.doc.value;
    let on_template = subject
        .template
        .filter(|t| !t.is_empty())
        .and_then(|t| value.pointer(&format!("{t}/metadata/annotations")));
    for annotations in [value.pointer("/metadata/annotations"), on_template]
        .into_iter()
        .flatten()
    {
        let listed = annotations
            .get(IGNORE_ANNOTATION)
            .and_then(Value::as_str)
            .is_some_and(|list| list.split(',').any(|id| id.trim() == rule));
        if listed {
            let reason = annotations
                .get(IGNORE_REASON_ANNOTATION)
                .and_then(Value::as_str)
                .map_or_else(
                    || format!("annotation `{IGNORE_ANNOTATION}`"),
                    |r| format!("annotation `{IGNORE_ANNOTATION}`: {r}"),
                );
            return Some(reason);
        }
    }
    policy
        .exemption(subject.object, rule)
        .map(|e| match &e.reason {
            Some(reason) => format!("policy exemption: {reason}"),
            None => "policy exemption".to_owned(),
        })
}

/// Findings of [`rules::UNUSED_SUPPRESSION`]: each id of a comment that
/// silenced no finding, unless the policy turns that rule off (then whether
/// it would fire is unknown).
fn unused_suppressions(
    comments: &[(Document, Vec<SuppressionComment>)],
    suppressed: &[Finding],
    policy: &Policy,
) -> Vec<Finding> {
    let mut unused = Vec::new();
    for (doc, found) in comments {
        for comment in found {
            for id in &comment.rules {
                let used = suppressed.iter().any(|f| {
                    f.rule.id == id
                        && f.file_name() == doc.file.name()
                        && f.suppression
                            .as_deref()
                            .is_some_and(|r| r.starts_with(COMMENT_REASON))
                        && comment.covers(id, f.location.line)
                });
                if used {
                    continue;
                }
                let known = rules::find(id).is_some();
                if known && policy.severity(id).is_none() {
                    continue;
                }
                let (message, help) = if known {
                    (
                        format!(
                            "`# rollsafe: ignore[{id}]` silences nothing: `{id}` finds nothing on this line or the next"
                        ),
                        "remove the rule from the comment".to_owned(),
                    )
                } else {
                    let hint = rules::suggest(id)
                        .map_or_else(String::new, |near| format!(" (did you mean `{near}`?)"));
                    (
                        format!("`# rollsafe: ignore[{id}]` names no rule{hint}"),
                        "name a rule `rollsafe rules` lists, or remove it".to_owned(),
                    )
                };
                let (line, column) = doc.file.line_col(comment.range.start);
                unused.push(Finding {
                    rule: &rules::UNUSED_SUPPRESSION,
                    severity: Severity::Warning,
                    doc: doc.clone(),
                    object: ObjectRef::from_value(&doc.value),
                    container: None,
                    pointer: String::new(),
                    location: Location {
                        range: comment.range.clone(),
                        line,
                        column,
                    },
                    message,
                    help,
                    fix: None,
                    shortfall: None,
                    suppression: None,
                });
            }
        }
    }
    unused
}
