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
            "judged with `--cluster-view`, among the namespace's watched PodDisruptionBudgets, HPAs and Services, as a warning (when at or above the policy's `warnOn`) unless the policy's `denyOn.rules` names it; without it, not judged (one review carries one object): `rollsafe lint` on the whole manifest set and `rollsafe audit` check it"
        }
        Scope::Schema => {
            "not judged: the API server checks the object against its schema before any webhook sees it; `rollsafe lint` checks it before the manifest reaches the cluster"
        }
    }
}

/// Columns `rollsafe rules` fits its rows in: a summary wraps under itself.
pub const RULES_WIDTH: usize = 100;

/// One row per rule: id, default and strict severities, fix, summary, the
/// summary wrapped in its column so that every line fits [`RULES_WIDTH`].
pub fn render_rules(default: &Policy, strict: &Policy, out: &mut dyn Write) -> io::Result<()> {
    let width = RULES.iter().map(|r| r.info().id.len()).max().unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:8} {:8} {:9} SUMMARY",
        "RULE", "DEFAULT", "STRICT", "FIX"
    )?;
    // id, two spaces, three columns of 8, 8 and 9 characters and a space each.
    let indent = width + 2 + 9 + 9 + 10;
    let room = RULES_WIDTH.saturating_sub(indent).max(20);
    for rule in RULES {
        let info = rule.info();
        let summary = info.summary();
        let mut lines = wrap(&summary, room).into_iter();
        writeln!(
            out,
            "{:width$}  {:8} {:8} {:9} {}",
            info.id,
            level(default, info.id),
            level(strict, info.id),
            fix_word(info.fix),
            lines.next().unwrap_or_default()
        )?;
        for line in lines {
            writeln!(out, "{:indent$}{line}", "")?;
        }
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, broken between words (a
/// word longer than the line gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if !line.is_empty() && needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where a rule's documentation is read on the web: its section of
/// `docs/rules.md` ([`render_reference`]) at this version's tag.
pub fn rule_url(id: &str) -> String {
    format!(
        "{}/blob/v{}/docs/rules.md#{id}",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    )
}

/// `docs/rules.md`: every rule's page as `rollsafe explain` prints it, one
/// section per rule (`## rule-id`, the anchor [`rule_url`] links to).
pub fn render_reference(default: &Policy, strict: &Policy, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# Rules\n")?;
    writeln!(
        out,
        "<!-- Generated from the rules' documentation: `UPDATE_DOCS=1 cargo test rule_reference`. Do not edit. -->\n"
    )?;
    writeln!(
        out,
        "Each rule as `rollsafe explain RULE` prints it; `rollsafe rules` lists them.\n"
    )?;
    for rule in RULES {
        let mut page = Vec::new();
        render_explain(rule.info(), default, strict, &mut page)?;
        let page = String::from_utf8_lossy(&page);
        // One heading level down, outside code blocks (where `#` starts a
        // YAML comment).
        let mut fenced = false;
        for line in page.lines() {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
            }
            if !fenced && line.starts_with('#') {
                writeln!(out, "#{line}")?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
        writeln!(out)?;
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

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_between_words_within_the_width() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("", 6), [""]);
        assert_eq!(
            wrap("unbreakable-word here", 4),
            ["unbreakable-word", "here"]
        );
    }
}
