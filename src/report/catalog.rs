//! `rollsafe rules` and `rollsafe explain`: the catalog, from the rules' own docs.

use std::io::{self, Write};

use crate::policy::Policy;
use crate::rules::{FixAvailability, RULES, RuleInfo, Scope};

fn level(policy: &Policy, id: &str) -> String {
    policy
        .severity(id)
        .map_or_else(|| "off".to_owned(), |s| s.to_string())
}

fn fix_word(fix: FixAvailability) -> &'static str {
    match fix {
        FixAvailability::None => "-",
        FixAvailability::Sometimes => "sometimes",
        FixAvailability::Always => "yes",
    }
}

/// Whether `rollsafe serve` runs a rule of this scope, and why not.
fn webhook_words(scope: Scope) -> &'static str {
    match scope {
        Scope::Object => "judged, from the object under review",
        Scope::Input => {
            "judged with `--cluster-view`, among the namespace's watched PodDisruptionBudgets, HPAs and Services, as a warning unless the policy's `denyOn.rules` names it; without it, not judged (one review carries one object): `rollsafe lint` on the whole manifest set and `rollsafe audit` check it"
        }
        Scope::Schema => {
            "not judged: the API server checks the object against its schema before any webhook sees it; `rollsafe lint` checks it before the manifest reaches the cluster"
        }
    }
}

/// One line per rule: id, default and strict severities, fix, summary.
pub fn render_rules(default: &Policy, strict: &Policy, out: &mut dyn Write) -> io::Result<()> {
    let width = RULES.iter().map(|r| r.info().id.len()).max().unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:8} {:8} {:9} SUMMARY",
        "RULE", "DEFAULT", "STRICT", "FIX"
    )?;
    for rule in RULES {
        let info = rule.info();
        writeln!(
            out,
            "{:width$}  {:8} {:8} {:9} {}",
            info.id,
            level(default, info.id),
            level(strict, info.id),
            fix_word(info.fix),
            info.summary()
        )?;
    }
    Ok(())
}

/// The full documentation of one rule.
/// `rollsafe explain unused-suppression`: not a rule of the catalog, so no
/// policy gives it a level.
pub fn render_explain_unused_suppression(out: &mut dyn Write) -> io::Result<()> {
    let info = &crate::rules::UNUSED_SUPPRESSION;
    writeln!(out, "# {}\n", info.id)?;
    writeln!(
        out,
        "Severity: warning, whatever the policy (`--ignore {}` turns it off). Fix: none.",
        info.id
    )?;
    writeln!(out, "Admission webhook: never (it sees no comments).")?;
    writeln!(out)?;
    write!(out, "{}", info.docs())
}

pub fn render_explain(
    info: &RuleInfo,
    default: &Policy,
    strict: &Policy,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "# {}\n", info.id)?;
    writeln!(
        out,
        "Severity: {} (default profile), {} (strict profile). Fix: {}.",
        level(default, info.id),
        level(strict, info.id),
        match info.fix {
            FixAvailability::None => "none",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::Always => "always",
        }
    )?;
    if !info.settings.is_empty() {
        let names: Vec<String> = info.settings.iter().map(|s| format!("`{s}`")).collect();
        writeln!(out, "Settings: {}.", names.join(", "))?;
    }
    writeln!(out, "Admission webhook: {}.", webhook_words(info.scope))?;
    writeln!(out)?;
    write!(out, "{}", info.docs())
}
