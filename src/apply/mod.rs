//! Applying fixes until nothing is left to fix: one loop for the mutating
//! webhook's patch and for `lint --fix`.
//!
//! A fix can bring another finding to light (an exec `sleep 2` in a
//! distroless image becomes a `sleep` action of 2 s, which is then shorter
//! than `minDrainDelay`), so fixing goes in rounds, as ruff's does: judge the
//! documents, apply every fix the findings carry to their document's JSON,
//! judge again, until a round changes nothing ([`converge`]).
//!
//! Within a round, fixes are applied in report order, each to the JSON the
//! previous ones left. Several fixes may set the same field, each computed
//! against the round's starting point: every container's preStop fix raises
//! `terminationGracePeriodSeconds`, two fixes both create
//! `strategy.rollingUpdate`. A later fix's operation on a field an earlier
//! fix of the round changed is merged with what is there ([`merge`]):
//! objects member by member, numbers by the maximum, anything else by the
//! value that sorts last. So a round repairs every container at once, and
//! the number of rounds does not grow with the number of containers; a merge
//! never lowers what an earlier fix raised, and the next round's judgement
//! corrects what a merge could not foresee.
//!
//! The webhook answers with the difference between the object as sent and
//! where the loop ended; `lint --fix` turns the same difference into text
//! edits of each file ([`files`]) and writes them ([`write`]). When the loop
//! has settled, judging its result again yields no fix that changes anything:
//! reviewing a mutated object gives no patch.

pub mod files;
pub mod lint;
pub mod text;
pub mod write;

use std::sync::Arc;

use serde_json::Value;

use crate::deadline::{Deadline, Expired};
use crate::finding::Finding;
use crate::fix::{self, FixSafety, PatchOp};
use crate::rules::RuleInfo;
use crate::severity::Severity;
use crate::source::{Location, push_token};

/// Rounds after which fixing stops even if the documents still change. Each
/// round repairs everything its judgement reports, so two or three suffice;
/// running out means two fixes undo each other.
pub const MAX_ROUNDS: usize = 10;

/// Which fixes the loop applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Safe fixes only (the webhook; `lint --fix`).
    SafeOnly,
    /// Unsafe ones too (`lint --fix --unsafe-fixes`).
    All,
}

/// What judges a round: the findings on the documents as they are.
pub type Judge<'a> = dyn FnMut(&[Arc<Value>]) -> Result<Vec<Judged>, Expired> + 'a;

/// A finding of a round, with the index of the document it is about.
#[derive(Debug)]
pub struct Judged {
    pub document: usize,
    pub finding: Finding,
}

/// A fix that was applied.
#[derive(Debug, Clone)]
pub struct Applied {
    pub document: usize,
    pub rule: &'static RuleInfo,
    pub severity: Severity,
    pub container: Option<String>,
    /// Where the finding was, in the text the round judged.
    pub location: Location,
}

/// A fix of the last round that could not be applied.
#[derive(Debug, Clone)]
pub struct Failed {
    pub document: usize,
    pub rule: &'static RuleInfo,
    pub severity: Severity,
    pub location: Location,
    pub reason: String,
}

/// Where the loop ended.
#[derive(Debug)]
pub struct Converged {
    /// Each document as the fixes left it.
    pub values: Vec<Arc<Value>>,
    /// Every fix applied, over all rounds, in the order applied.
    pub applied: Vec<Applied>,
    /// Fixes of the last round that could not be applied, with why.
    pub failed: Vec<Failed>,
    /// Rules whose fixes of the last round are unsafe and were left alone.
    pub unsafe_rules: Vec<&'static str>,
    /// The findings of the first round: what the documents had as given.
    pub first: Vec<Judged>,
    /// False when [`MAX_ROUNDS`] ran out with the documents still changing.
    pub settled: bool,
}

/// Fixes `documents` in rounds: `judge` returns the findings on the
/// documents as they are (in report order), each with the index of its
/// document. Stops when a round changes nothing, when [`MAX_ROUNDS`] have
/// run, or with `Err` when the deadline passes.
pub fn converge(
    documents: Vec<Arc<Value>>,
    safety: Safety,
    deadline: &Deadline,
    judge: &mut Judge<'_>,
) -> Result<Converged, Expired> {
    let mut values = documents;
    let mut converged = Converged {
        values: Vec::new(),
        applied: Vec::new(),
        failed: Vec::new(),
        unsafe_rules: Vec::new(),
        first: Vec::new(),
        settled: false,
    };
    for round in 0..MAX_ROUNDS {
        deadline.check()?;
        let judged = judge(&values)?;
        let applied_before = converged.applied.len();
        // The documents as the round found them: fixes are computed against
        // these, so they tell which fields an earlier fix of the round set.
        let start: Vec<Arc<Value>> = values.clone();
        converged.failed.clear();
        converged.unsafe_rules.clear();
        for Judged { document, finding } in &judged {
            let Some(fix) = &finding.fix else {
                continue;
            };
            let Some(value) = values.get_mut(*document) else {
                continue;
            };
            if fix.safety == FixSafety::Unsafe && safety == Safety::SafeOnly {
                if !converged.unsafe_rules.contains(&finding.rule.id) {
                    converged.unsafe_rules.push(finding.rule.id);
                }
                continue;
            }
            let ops = merged(&fix.patch, value, &start[*document]);
            let result = if ops.is_empty() {
                Ok(())
            } else {
                fix::apply(Arc::make_mut(value), &ops)
            };
            match result {
                Ok(()) => converged.applied.push(Applied {
                    document: *document,
                    rule: finding.rule,
                    severity: finding.severity,
                    container: finding.container.clone(),
                    location: finding.location.clone(),
                }),
                Err(error) => converged.failed.push(Failed {
                    document: *document,
                    rule: finding.rule,
                    severity: finding.severity,
                    location: finding.location.clone(),
                    reason: error.to_string(),
                }),
            }
        }
        let changed = values
            .iter()
            .zip(&start)
            .any(|(now, before)| !Arc::ptr_eq(now, before) && now != before);
        if round == 0 {
            converged.first = judged;
        }
        if !changed {
            // The fixes of a round that changed nothing are already in (or
            // repair nothing): they are not counted again.
            converged.applied.truncate(applied_before);
            converged.settled = true;
            break;
        }
    }
    converged.values = values;
    Ok(converged)
}

/// The fix's operations, merged with what earlier fixes of the round changed
/// (see the module docs): an operation on a field still as the round found
/// it is kept as it is.
pub fn merged(patch: &[PatchOp], current: &Value, start: &Value) -> Vec<PatchOp> {
    let mut out = Vec::new();
    for op in patch {
        let path = op.path();
        match current.pointer(path) {
            Some(now) if Some(now) != start.pointer(path) => merge(path, now, op.value(), &mut out),
            _ => out.push(op.clone()),
        }
    }
    out
}

/// Operations that bring `now` (what an earlier fix left at `path`) together
/// with `new` (what this fix wants there).
fn merge(path: &str, now: &Value, new: &Value, out: &mut Vec<PatchOp>) {
    match (now, new) {
        (Value::Object(now), Value::Object(new)) => {
            for (key, value) in new {
                let mut child = path.to_owned();
                push_token(&mut child, key);
                match now.get(key) {
                    Some(existing) => merge(&child, existing, value, out),
                    None => out.push(PatchOp::Add {
                        path: child,
                        value: value.clone(),
                    }),
                }
            }
        }
        _ if now == new => {}
        (Value::Number(a), Value::Number(b)) => {
            if b.as_f64() > a.as_f64() {
                out.push(PatchOp::Replace {
                    path: path.to_owned(),
                    value: new.clone(),
                });
            }
        }
        _ => {
            let (new_text, now_text) = (new.to_string(), now.to_string());
            if new_text > now_text {
                out.push(PatchOp::Replace {
                    path: path.to_owned(),
                    value: new.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_take_the_maximum_and_join_objects() {
        let mut ops = Vec::new();
        merge("/g", &json!(40), &json!(35), &mut ops);
        assert!(ops.is_empty());
        merge("/g", &json!(40), &json!(45), &mut ops);
        assert_eq!(
            ops,
            vec![PatchOp::Replace {
                path: "/g".into(),
                value: json!(45)
            }]
        );
        let mut ops = Vec::new();
        merge(
            "/s",
            &json!({"rollingUpdate": {"maxUnavailable": 0}}),
            &json!({"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}),
            &mut ops,
        );
        assert_eq!(
            ops,
            vec![PatchOp::Add {
                path: "/s/rollingUpdate/maxSurge".into(),
                value: json!(1)
            }]
        );
        let mut ops = Vec::new();
        merge("/c", &json!("b"), &json!("a"), &mut ops);
        assert!(ops.is_empty());
        merge("/c", &json!("a"), &json!("b"), &mut ops);
        assert_eq!(ops.len(), 1);
    }
}
