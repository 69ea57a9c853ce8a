//! `rollsafe export`: the exported CEL reaches the engine's verdicts.
//!
//! Every exported ValidatingAdmissionPolicy is evaluated with cel-rust over
//! every object of the rule fixtures (each under its own policy, and under
//! the strict profile) and of the corpus (default and strict), as the API
//! server would: `matchConstraints`, `matchConditions`, `variables`, then
//! `validations`. The reference is the webhook's own answer to a CREATE
//! review of the object alone. For every exported rule and every object
//! both must agree on whether the rule reports the object, and on the
//! action (the binding's `Deny` or `Warn` against the finding's severity
//! and `denyOn`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use cel::{Context, Env, Program, Value as Cel};
use rollsafe::deadline::Deadline;
use rollsafe::engine;
use rollsafe::export::{self, Options};
use rollsafe::model::KnownKind;
use rollsafe::model::object::group_of;
use rollsafe::policy::{Policy, Profile};
use rollsafe::severity::Severity;
use rollsafe::source::{Document, Loader};
use rollsafe::webhook::{Endpoint, Mode, Mutation, Reviewer};
use serde::Deserialize as _;
use serde_json::{Value, json};

use crate::rules::read_fixture;

use crate::util;

/// cel-rust with the extension Kubernetes' CEL has and the exports use.
fn env() -> Arc<Env> {
    let mut env = Env::stdlib();
    cel::extensions::strings(&mut env).unwrap_or_else(|e| panic!("strings extension: {e:?}"));
    Arc::new(env)
}

/// JSON as CEL sees a Kubernetes object: integers are `int`.
fn to_cel(value: &Value) -> Cel {
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cel::Int(i),
            None => Cel::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let map: HashMap<String, Cel> =
                map.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            Cel::from(map)
        }
    }
}

/// The exported documents of one policy, compiled once.
struct Compiled {
    env: Arc<Env>,
    programs: HashMap<String, Program>,
    /// ValidatingAdmissionPolicies by name, with their binding's action.
    policies: Vec<(Value, String)>,
}

impl Compiled {
    /// Compiles what `programs` lacks (cel-rust's parser is slow: the
    /// programs are kept from one policy to the next).
    fn new(env: &Arc<Env>, documents: &[Value], programs: HashMap<String, Program>) -> Self {
        let mut compiled = Compiled {
            env: Arc::clone(env),
            programs,
            policies: Vec::new(),
        };
        let actions: HashMap<&str, String> = documents
            .iter()
            .filter(|d| d["kind"] == "ValidatingAdmissionPolicyBinding")
            .map(|d| {
                let name = d["spec"]["policyName"].as_str().unwrap_or_default();
                (
                    name,
                    d["spec"]["validationActions"][0]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect();
        for doc in documents
            .iter()
            .filter(|d| d["kind"] == "ValidatingAdmissionPolicy")
        {
            let name = doc["metadata"]["name"].as_str().unwrap_or_default();
            let action = actions
                .get(name)
                .unwrap_or_else(|| panic!("{name}: no binding"))
                .clone();
            compiled.policies.push((doc.clone(), action));
            let spec = &doc["spec"];
            let expressions = ["matchConditions", "variables", "validations"]
                .iter()
                .flat_map(|list| spec[*list].as_array().into_iter().flatten())
                .flat_map(|item| [&item["expression"], &item["messageExpression"]])
                .filter_map(Value::as_str);
            for expression in expressions {
                compiled.compile(expression);
            }
        }
        compiled
    }

    fn compile(&mut self, expression: &str) {
        if self.programs.contains_key(expression) {
            return;
        }
        let program = self
            .env
            .compile(expression)
            .unwrap_or_else(|e| panic!("does not parse: {e}\n{expression}"));
        self.programs.insert(expression.to_owned(), program);
    }

    fn run(&self, expression: &str, context: &Context<'_, '_>) -> Result<Cel, String> {
        let program = &self.programs[expression];
        program
            .execute(context)
            .map_err(|e| format!("{e:?}\n  in: {expression}"))
    }

    /// The rules whose policies fail on `object`, with the binding's action
    /// and the messages.
    fn verdicts(&self, object: &Value, namespace: &str) -> BTreeMap<String, (String, String)> {
        let mut out = BTreeMap::new();
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let group = group_of(api_version);
        let resource = format!("{}s", kind.to_ascii_lowercase());
        let mut context = Context::with_env(Arc::clone(&self.env));
        context.add_variable_from_value("object", to_cel(object));
        context.add_variable_from_value("oldObject", Cel::Null);
        context.add_variable_from_value(
            "request",
            to_cel(&json!({"namespace": namespace, "operation": "CREATE",
                "name": object.pointer("/metadata/name").cloned().unwrap_or(json!("")),
                "kind": {"group": group, "kind": kind}})),
        );
        for (policy, action) in &self.policies {
            let spec = &policy["spec"];
            let name = policy["metadata"]["name"].as_str().unwrap_or_default();
            let rule = policy["metadata"]["annotations"]["rollsafe.dev/rule"]
                .as_str()
                .unwrap_or_default();
            let matched = resource_rules(spec)
                .any(|r| lists(r, "apiGroups", group) && lists(r, "resources", &resource));
            if !matched {
                continue;
            }
            let applies = spec["matchConditions"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|c| {
                    let expression = c["expression"].as_str().unwrap_or_default();
                    match self.run(expression, &context) {
                        Ok(Cel::Bool(b)) => b,
                        other => panic!("{name}: match condition: {other:?}"),
                    }
                });
            if !applies {
                continue;
            }
            let mut variables: HashMap<String, Cel> = HashMap::new();
            for variable in spec["variables"].as_array().into_iter().flatten() {
                let expression = variable["expression"].as_str().unwrap_or_default();
                let value = self
                    .run(expression, &context)
                    .unwrap_or_else(|e| panic!("{name}: variable: {e}\n  object: {object}"));
                let key = variable["name"].as_str().unwrap_or_default().to_owned();
                variables.insert(key, value);
                context.add_variable_from_value("variables", Cel::from(variables.clone()));
            }
            for validation in spec["validations"].as_array().into_iter().flatten() {
                let expression = validation["expression"].as_str().unwrap_or_default();
                let holds = match self.run(expression, &context) {
                    Ok(Cel::Bool(b)) => b,
                    other => panic!("{name}: validation: {other:?}\n  object: {object}"),
                };
                if holds {
                    continue;
                }
                let message = validation["messageExpression"].as_str().unwrap_or_default();
                let message = match self.run(message, &context) {
                    Ok(Cel::String(text)) => text.to_string(),
                    other => panic!("{name}: message: {other:?}\n  object: {object}"),
                };
                out.entry(rule.to_owned())
                    .or_insert_with(|| (action.clone(), message));
            }
        }
        out
    }
}

/// What the webhook answers for a CREATE of `object` alone: each rule that
/// reports it, with the severity.
fn webhook_verdicts(
    reviewer: &Reviewer,
    object: &Value,
    namespace: &str,
) -> BTreeMap<String, Severity> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    };
    let kind = object["kind"].as_str().unwrap_or_default();
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u-1", "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_ascii_lowercase())},
            "name": object.pointer("/metadata/name").cloned().unwrap_or(json!("")),
            "namespace": namespace, "operation": "CREATE",
            "userInfo": {"username": "test"}, "object": object, "dryRun": false}});
    let body = serde_json::to_vec(&review).unwrap_or_default();
    let reviewed = reviewer
        .review(Endpoint::Validate, &body, &Deadline::none())
        .unwrap_or_else(|e| panic!("review: {e:?}"));
    let mut out = BTreeMap::new();
    for (rule, severity) in reviewed.findings {
        let entry = out.entry(rule.to_owned()).or_insert(severity);
        *entry = (*entry).max(severity);
    }
    out
}

/// The containers the engine's findings of `rule` name.
fn finding_containers(outcome: &engine::Outcome, rule: &str) -> Vec<String> {
    outcome
        .findings
        .iter()
        .filter(|f| f.rule.id == rule)
        .filter_map(|f| f.container.clone())
        .collect()
}

/// Tallies of one agreement run.
#[derive(Default)]
struct Tally {
    /// (object, rule) pairs compared.
    checked: usize,
    /// Objects each exported rule reports.
    reported: BTreeMap<String, usize>,
    /// Objects the API server refuses before admission (a value of the
    /// wrong type): no admission policy ever sees them.
    refused: usize,
    /// Objects of custom kinds, which only the webhook reads.
    custom: usize,
    disagreements: Vec<String>,
    programs: HashMap<String, Program>,
}

fn agree(policy: &Policy, documents: &[Document], env: &Arc<Env>, tally: &mut Tally, origin: &str) {
    let export = export::export(policy, &Options::default());
    let compiled = Compiled::new(env, &export.documents, std::mem::take(&mut tally.programs));
    let exported: BTreeSet<&str> = export.exported.iter().map(|e| e.rule).collect();
    let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::OptedIn);
    for doc in documents {
        let object = doc.value.as_ref();
        if !object.is_object() {
            continue;
        }
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        // A custom kind of the policy's `templatePaths`, and a kind the
        // export names no resource for (an Argo `Rollout`), is the
        // webhook's alone: the export matches the built-in kinds.
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let known = KnownKind::classify(api_version, kind);
        if known.is_none_or(|k| {
            matches!(k, KnownKind::Workload(_)) && export::cel::resource_rule(k).1.is_empty()
        }) {
            tally.custom += 1;
            continue;
        }
        let detached = [Document::detached("object", object.clone())];
        let outcome = engine::evaluate(&detached, policy);
        if refused_by_the_api_server(&detached, policy) {
            tally.refused += 1;
            continue;
        }
        let cel = compiled.verdicts(object, namespace);
        let webhook = webhook_verdicts(&reviewer, object, namespace);
        let name = format!(
            "{origin}: {}/{} {} (line {})",
            object["kind"].as_str().unwrap_or_default(),
            object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            doc.file.name(),
            doc.locate("").line
        );
        for rule in &exported {
            tally.checked += 1;
            let engine = webhook
                .get(*rule)
                .map(|s| export::Action::of(rule, *s, policy).as_str());
            let from_cel = cel.get(*rule);
            if engine != from_cel.map(|(action, _)| action.as_str()) {
                tally.disagreements.push(format!(
                    "{name}: {rule}: webhook {engine:?}, CEL {:?}",
                    from_cel
                ));
                continue;
            }
            let Some((_, message)) = from_cel else {
                continue;
            };
            *tally.reported.entry((*rule).to_owned()).or_default() += 1;
            // The message names the container the engine's first finding names.
            if let Some(container) = finding_containers(&outcome, rule).first()
                && !message.contains(&format!("`{container}`"))
            {
                tally.disagreements.push(format!(
                    "{name}: {rule}: message does not name container `{container}`: {message}"
                ));
            }
        }
    }
    tally.programs = compiled.programs;
}

/// Whether the API server refuses the object in its own validation, which
/// runs after mutating admission and before validating admission: a value
/// of the wrong type, an invalid update strategy.
fn refused_by_the_api_server(detached: &[Document], policy: &Policy) -> bool {
    let mut strict = util::policy(Profile::Strict);
    strict.kubernetes_version = policy.kubernetes_version;
    let outcome = engine::evaluate(detached, &strict);
    outcome.findings.iter().chain(&outcome.suppressed).any(|f| {
        matches!(
            f.rule.id,
            "invalid-field-value" | "rollout-invalid-strategy"
        )
    })
}

fn load(paths: &[PathBuf], policy: &Policy) -> Vec<Document> {
    let wants = |api_version: &str, kind: &str| engine::wants(policy, api_version, kind);
    Loader::new(&wants).load_paths(paths).documents
}

fn fixtures() -> Vec<PathBuf> {
    util::manifests(&util::testdata("rules"))
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("fail-") || name.starts_with("pass-")
        })
        .collect()
}

fn report(tally: &Tally, what: &str) {
    assert!(
        tally.disagreements.is_empty(),
        "{what}: {} of {} verdicts differ:\n{}",
        tally.disagreements.len(),
        tally.checked,
        tally.disagreements.join("\n")
    );
    eprintln!(
        "{what}: {} object × rule verdicts agree ({} objects refused by the API server's own \
         validation and {} of custom kinds left out); reported per rule: {:?}",
        tally.checked, tally.refused, tally.custom, tally.reported
    );
}

/// Runs `f` on a thread with room for cel-rust's recursive parser and
/// interpreter over the longer expressions (unoptimised builds).
fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    let joined = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(f)
        .unwrap_or_else(|e| panic!("spawn: {e}"))
        .join();
    if let Err(panic) = joined {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn exported_cel_agrees_with_the_engine_on_every_rule_fixture() {
    with_big_stack(fixture_agreement);
}

#[test]
fn exported_cel_agrees_with_the_engine_on_the_corpus() {
    with_big_stack(corpus_agreement);
}

fn fixture_agreement() {
    let env = env();
    let mut tally = Tally::default();
    for path in fixtures() {
        let fixture = read_fixture(&path);
        let documents = load(std::slice::from_ref(&path), &fixture.policy);
        let origin = path
            .strip_prefix(util::repo())
            .unwrap_or(&path)
            .display()
            .to_string();
        agree(&fixture.policy, &documents, &env, &mut tally, &origin);
        let mut strict = util::policy(Profile::Strict);
        strict.kubernetes_version = fixture.policy.kubernetes_version;
        agree(
            &strict,
            &documents,
            &env,
            &mut tally,
            &format!("{origin} (strict)"),
        );
    }
    report(&tally, "rule fixtures");
    // Every exported rule is seen to report something, so that agreement
    // is not agreement on silence.
    let export = export::export(&util::policy(Profile::Strict), &Options::default());
    for part in &export.exported {
        assert!(
            tally.reported.get(part.rule).is_some_and(|n| *n > 0),
            "{}: no fixture object is reported",
            part.rule
        );
    }
}

fn corpus_agreement() {
    let env = env();
    let mut tally = Tally::default();
    let files = util::manifests(&util::testdata("corpus"));
    for profile in [Profile::Default, Profile::Strict] {
        let policy = util::policy(profile);
        let documents = load(&files, &policy);
        agree(
            &policy,
            &documents,
            &env,
            &mut tally,
            &format!("corpus ({profile:?})"),
        );
    }
    report(&tally, "corpus");
}

// --- the MutatingAdmissionPolicies ------------------------------------------

/// CEL values as JSON (what the API server makes of a patch's values).
fn to_json(value: &Cel) -> Value {
    match value {
        Cel::Null => Value::Null,
        Cel::Bool(b) => json!(b),
        Cel::Int(i) => json!(i),
        Cel::UInt(u) => json!(u),
        Cel::Float(f) => json!(f),
        Cel::String(s) => json!(s.as_str()),
        Cel::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Cel::Map(map) => {
            let mut out = serde_json::Map::new();
            for (key, item) in map.map.iter() {
                let key = match key {
                    cel::objects::Key::String(s) => s.to_string(),
                    other => panic!("map key {other:?}"),
                };
                out.insert(key, to_json(item));
            }
            Value::Object(out)
        }
        other => panic!("not JSON: {other:?}"),
    }
}

/// Kubernetes builds patch operations with its typed `JSONPatch{…}`
/// constructor, which cel-rust lacks: the test reads each as the map of
/// the same fields.
fn as_map_literals(expression: &str) -> String {
    expression
        .replace("JSONPatch{op: ", "{'op': ")
        .replace(", path: ", ", 'path': ")
        .replace(", value: ", ", 'value': ")
}

/// The JSON Patch a MutatingAdmissionPolicy makes of `object`, if it
/// applies to it.
/// The `resourceRules` of a policy's `matchConstraints`.
fn resource_rules(spec: &Value) -> impl Iterator<Item = &Value> {
    spec["matchConstraints"]["resourceRules"]
        .as_array()
        .into_iter()
        .flatten()
}

/// Whether a resource rule lists `value` under `key` (`apiGroups`,
/// `resources`, `operations`).
fn lists(rule: &Value, key: &str, value: &str) -> bool {
    rule[key]
        .as_array()
        .is_some_and(|values| values.iter().any(|v| v == value))
}

fn mutation(env: &Arc<Env>, policy: &Value, object: &Value, namespace: &str) -> Option<Value> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let group = group_of(object["apiVersion"].as_str().unwrap_or_default());
    let resource = format!("{}s", kind.to_ascii_lowercase());
    let spec = &policy["spec"];
    let matched = resource_rules(spec).any(|r| {
        lists(r, "apiGroups", group)
            && lists(r, "resources", &resource)
            && lists(r, "operations", "CREATE")
    });
    if !matched {
        return None;
    }
    let mut context = Context::with_env(Arc::clone(env));
    context.add_variable_from_value("object", to_cel(object));
    context.add_variable_from_value(
        "request",
        to_cel(&json!({"namespace": namespace, "operation": "CREATE"})),
    );
    let run = |expression: &str, context: &Context<'_, '_>| {
        env.compile(expression)
            .unwrap_or_else(|e| panic!("does not parse: {e}\n{expression}"))
            .execute(context)
            .unwrap_or_else(|e| panic!("{e:?}\n  in: {expression}\n  object: {object}"))
    };
    for condition in spec["matchConditions"].as_array().into_iter().flatten() {
        if run(
            condition["expression"].as_str().unwrap_or_default(),
            &context,
        ) != Cel::Bool(true)
        {
            return None;
        }
    }
    let mut variables: HashMap<String, Cel> = HashMap::new();
    for variable in spec["variables"].as_array().into_iter().flatten() {
        let value = run(
            variable["expression"].as_str().unwrap_or_default(),
            &context,
        );
        variables.insert(
            variable["name"].as_str().unwrap_or_default().to_owned(),
            value,
        );
        context.add_variable_from_value("variables", Cel::from(variables.clone()));
    }
    let expression = spec["mutations"][0]["jsonPatch"]["expression"]
        .as_str()
        .unwrap_or_default();
    Some(to_json(&run(&as_map_literals(expression), &context)))
}

/// Containers (`/…/containers/N`) a patch gives a preStop hook.
fn hooked_containers(patch: &Value) -> Vec<String> {
    patch
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|op| op["path"].as_str())
        .filter_map(|path| path.split_once("/lifecycle").map(|(c, _)| c.to_owned()))
        .collect()
}

/// How many containers `after` has a preStop hook for that `before` lacks.
fn new_hooks(before: &Value, after: &Value) -> usize {
    let mut count = 0;
    for spec in [
        "/spec",
        "/spec/template/spec",
        "/spec/jobTemplate/spec/template/spec",
    ] {
        for list in ["initContainers", "containers"] {
            let items = after
                .pointer(&format!("{spec}/{list}"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for i in 0..items {
                let hook = format!("{spec}/{list}/{i}/lifecycle/preStop");
                if after.pointer(&hook).is_some() && before.pointer(&hook).is_none() {
                    count += 1;
                }
            }
        }
    }
    count
}

#[test]
fn exported_repairs_fix_what_the_webhook_fixes() {
    with_big_stack(repair_agreement);
}

fn repair_agreement() {
    let env = env();
    let mut policy = util::policy(Profile::Strict);
    policy.kubernetes_version = "1.36".parse().unwrap_or_else(|e| panic!("{e}"));
    let options = Options {
        validating: false,
        mutating: true,
        mutate_all: true,
    };
    let export = export::export(&policy, &options);
    let policies: Vec<&Value> = export
        .documents
        .iter()
        .filter(|d| d["kind"] == "MutatingAdmissionPolicy")
        .collect();
    assert_eq!(policies.len(), 2, "{:?}", export.header);
    let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::All);
    let mut files = fixtures();
    files.extend(util::manifests(&util::testdata("corpus")));
    let documents = load(&files, &policy);
    let (mut surged, mut drained, mut webhook_drained) = (0, 0, 0);
    for doc in &documents {
        let object = doc.value.as_ref();
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let detached = [Document::detached("object", object.clone())];
        if KnownKind::classify(api_version, kind).is_none()
            || refused_by_the_api_server(&detached, &policy)
        {
            continue;
        }
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let before = webhook_verdicts(&reviewer, object, namespace);
        let repaired = reviewer
            .repair("object", object, &Deadline::none())
            .unwrap_or_else(|e| panic!("repair: {e:?}"));
        if repaired.rules.contains(&"prestop-hook-missing") {
            webhook_drained += new_hooks(object, &repaired.object);
        }
        for map in &policies {
            let rule = map["metadata"]["annotations"]["rollsafe.dev/rule"]
                .as_str()
                .unwrap_or_default();
            let patch = mutation(&env, map, object, namespace).unwrap_or(json!([]));
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .unwrap_or_else(|e| panic!("{rule}: not a JSON Patch: {e}\n{patch}"));
            let mut patched = object.clone();
            json_patch::patch(&mut patched, &ops)
                .unwrap_or_else(|e| panic!("{rule}: does not apply: {e}\n{patch}\n{object}"));
            let after = engine::evaluate(&[Document::detached("object", patched.clone())], &policy);
            let left = after.findings.iter().filter(|f| f.rule.id == rule).count();
            match rule {
                "rollout-zero-availability" => {
                    // Exactly the objects the rule reports with a fix.
                    let reported = before.contains_key(rule) && kind == "Deployment";
                    assert_eq!(ops.0.is_empty(), !reported, "{rule}: {object}\n{patch}");
                    if reported {
                        assert_eq!(left, 0, "{rule}: still reported after {patch}");
                        surged += 1;
                    }
                }
                _ => {
                    // Each container it hooks is one the webhook hooks too,
                    // and none of them is reported any more.
                    for container in hooked_containers(&patch) {
                        let hooked = repaired
                            .object
                            .pointer(&format!("{container}/lifecycle/preStop"))
                            .is_some();
                        assert!(
                            hooked,
                            "{rule}: the webhook leaves {container} alone: {object}"
                        );
                        let pointer = |f: &&rollsafe::finding::Finding| {
                            f.rule.id == rule && f.pointer.starts_with(&container)
                        };
                        assert!(
                            !after.findings.iter().any(|f| pointer(&f)),
                            "{rule}: {container} still reported after {patch}"
                        );
                        drained += 1;
                    }
                }
            }
        }
    }
    eprintln!(
        "repairs: {surged} Deployments surged; {drained} containers given a drain delay \
         (the webhook: {webhook_drained})"
    );
    assert!(surged > 0 && drained > 0);
}

// --- what the expressions cost the API server -------------------------------

/// The sizes the estimate assumes. The pod spec's lists carry no
/// `maxItems`, so the API server's own estimate bounds them by the 3 MiB
/// request size; these are generous real-world bounds instead.
struct Bounds {
    /// Containers of one list (main, init) of a pod.
    containers: f64,
    /// Ports of a container.
    ports: f64,
    /// Words of a container's `command` and `args` together.
    words: f64,
    /// Entries of a label selector, its values, a term's namespaces.
    selector: f64,
    /// Required anti-affinity terms.
    terms: f64,
    /// Owner references, annotations, parts of a split string.
    small: f64,
    /// Characters of a string (names, images, arguments).
    chars: f64,
}

const BOUNDS: Bounds = Bounds {
    containers: 10.0,
    ports: 10.0,
    words: 40.0,
    selector: 10.0,
    terms: 5.0,
    small: 20.0,
    chars: 256.0,
};

/// How many elements a comprehension over `range` walks, at most.
fn bound(range: &cel::common::ast::Expr, b: &Bounds) -> f64 {
    use cel::common::ast::Expr;
    match range {
        Expr::List(list) => list.elements.len() as f64,
        Expr::Select(select) => match select.field.as_str() {
            // `variables.containers` is both lists of a pod.
            "containers" | "allContainers" | "upstreams" | "proxiedPorts" => 2.0 * b.containers,
            "initContainers" | "sidecars" => b.containers,
            "ports" => b.ports,
            "args" | "command" => b.words,
            "podMetas" => 2.0,
            "podLabels" => 1.0,
            "matchLabels" | "matchExpressions" | "values" | "namespaces" | "matchLabelKeys"
            | "mismatchLabelKeys" => b.selector,
            "requiredDuringSchedulingIgnoredDuringExecution" => b.terms,
            _ => b.small,
        },
        Expr::Call(call) => match call.func_name.as_str() {
            "_+_" => call.args.iter().map(|a| bound(&a.expr, b)).sum(),
            "_?_:_" => call.args[1..]
                .iter()
                .map(|a| bound(&a.expr, b))
                .fold(0.0, f64::max),
            _ => b.small,
        },
        Expr::Comprehension(c) => bound(&c.iter_range.expr, b),
        _ => b.small,
    }
}

/// A worst-case cost in the units of Kubernetes' CEL cost model: one per
/// call, select and variable, string functions by length, a comprehension
/// by the elements it walks times its body.
fn cost(expr: &cel::common::ast::Expr, b: &Bounds) -> f64 {
    use cel::common::ast::{EntryExpr, Expr};
    match expr {
        Expr::Unspecified | Expr::Literal(_) => 0.0,
        Expr::Ident(_) => 1.0,
        Expr::Select(select) => 1.0 + cost(&select.operand.expr, b),
        Expr::List(list) => 10.0 + list.elements.iter().map(|e| cost(&e.expr, b)).sum::<f64>(),
        Expr::Map(map) => {
            30.0 + map
                .entries
                .iter()
                .map(|e| match &e.expr {
                    EntryExpr::MapEntry(m) => cost(&m.key.expr, b) + cost(&m.value.expr, b),
                    EntryExpr::StructField(f) => cost(&f.value.expr, b),
                })
                .sum::<f64>()
        }
        Expr::Struct(s) => 40.0 + s.entries.len() as f64,
        Expr::Call(call) => {
            let own = match call.func_name.as_str() {
                // RE2 runs in time linear in the string.
                "matches" => 1.0 + b.chars,
                "contains" | "startsWith" | "endsWith" | "trim" | "lowerAscii" | "split"
                | "substring" | "indexOf" | "lastIndexOf" | "string" | "int" | "_+_" => {
                    1.0 + 0.1 * b.chars
                }
                "@in" => 1.0 + b.selector,
                _ => 1.0,
            };
            own + call.target.iter().map(|t| cost(&t.expr, b)).sum::<f64>()
                + call.args.iter().map(|a| cost(&a.expr, b)).sum::<f64>()
        }
        Expr::Comprehension(c) => {
            let n = bound(&c.iter_range.expr, b);
            cost(&c.iter_range.expr, b)
                + cost(&c.accu_init.expr, b)
                + n * (cost(&c.loop_cond.expr, b) + cost(&c.loop_step.expr, b))
                + cost(&c.result.expr, b)
        }
    }
}

/// Kubernetes' runtime limits: per expression call, and per policy
/// evaluation (`k8s.io/apiserver/pkg/apis/cel`).
const PER_CALL_LIMIT: f64 = 1_000_000.0;
const POLICY_BUDGET: f64 = 10_000_000.0;

#[test]
fn exported_expressions_stay_within_the_api_servers_cost_limits() {
    with_big_stack(costs);
}

fn costs() {
    let env = env();
    let mut policy = util::policy(Profile::Strict);
    policy.kubernetes_version = "1.36".parse().unwrap_or_else(|e| panic!("{e}"));
    let export = export::export(&policy, &Options::default());
    let mut lines = Vec::new();
    for doc in &export.documents {
        let spec = &doc["spec"];
        if spec.get("policyName").is_some() {
            continue;
        }
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        let expressions: Vec<&str> = ["matchConditions", "variables", "validations", "mutations"]
            .iter()
            .flat_map(|list| spec[*list].as_array().into_iter().flatten())
            .flat_map(|item| {
                [
                    &item["expression"],
                    &item["messageExpression"],
                    &item["jsonPatch"]["expression"],
                ]
            })
            .filter_map(Value::as_str)
            .collect();
        let mut total = 0.0;
        let mut most = 0.0_f64;
        for expression in expressions {
            let parsed = env
                .parser()
                .parse(&as_map_literals(expression))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let estimate = cost(&parsed.expr, &BOUNDS);
            assert!(
                estimate < PER_CALL_LIMIT,
                "{name}: {estimate} over the per-call limit:\n{expression}"
            );
            total += estimate;
            most = most.max(estimate);
        }
        assert!(total < POLICY_BUDGET, "{name}: {total} over the budget");
        lines.push(format!(
            "{name}: at most {most:.0} per expression, {total:.0} in all"
        ));
    }
    eprintln!("{}", lines.join("\n"));
}

// --- the command -------------------------------------------------------------

/// `rollsafe export` with `args`: its header lines and its documents.
fn run_export(args: &[&str]) -> (Vec<String>, Vec<Value>) {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    let output = util::run_rollsafe(&all, None, None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("{e}"));
    let header = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches("# ").to_owned())
        .collect();
    let documents = text
        .split("\n---\n")
        .skip(1)
        .map(|doc| {
            serde_yaml::from_str::<Value>(doc).unwrap_or_else(|e| panic!("not YAML: {e}\n{doc}"))
        })
        .collect();
    (header, documents)
}

fn kinds(documents: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for doc in documents {
        let key = format!(
            "{} {}",
            doc["apiVersion"].as_str().unwrap_or_default(),
            doc["kind"].as_str().unwrap_or_default()
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

#[test]
fn export_prints_what_the_policy_exports_as_yaml() {
    let (header, documents) = run_export(&["--profile", "strict", "--kubernetes-version", "1.36"]);
    let mut policy = util::policy(Profile::Strict);
    policy.kubernetes_version = "1.36".parse().unwrap_or_else(|e| panic!("{e}"));
    let export = export::export(&policy, &Options::default());
    // The YAML reads back as the documents built.
    assert_eq!(documents, export.documents);
    let v1 = "admissionregistration.k8s.io/v1";
    assert_eq!(
        kinds(&documents),
        BTreeMap::from([
            (format!("{v1} MutatingAdmissionPolicy"), 2),
            (format!("{v1} MutatingAdmissionPolicyBinding"), 2),
            (format!("{v1} ValidatingAdmissionPolicy"), 13),
            (format!("{v1} ValidatingAdmissionPolicyBinding"), 13),
        ])
    );
    assert!(
        header
            .iter()
            .any(|l| l.contains("12 rules exported (probes 6, rollout 5, disruption 1)")),
        "{header:?}"
    );
    assert!(
        header
            .iter()
            .any(|l| l.starts_with("  - single-replica: reads other objects")),
        "{header:?}"
    );
    // Severities decide the action: strict makes readiness-probe-missing
    // an error (Deny), and caps it at a warning for a single pod.
    let action = |name: &str| {
        documents
            .iter()
            .find(|d| {
                d["kind"] == "ValidatingAdmissionPolicyBinding" && d["metadata"]["name"] == name
            })
            .map(|d| d["spec"]["validationActions"].clone())
    };
    assert_eq!(
        action("rollsafe-readiness-probe-missing"),
        Some(json!(["Deny"]))
    );
    assert_eq!(
        action("rollsafe-readiness-probe-missing-single-pod"),
        Some(json!(["Warn"]))
    );
    // A warning in strict: at the default `warnOn`, sent.
    assert_eq!(
        action("rollsafe-startup-probe-missing"),
        Some(json!(["Warn"]))
    );
}

/// Below `warnOn` a binding only records, as the webhook only counts: an
/// info rule of the default profile reaches no `kubectl apply`.
#[test]
fn rules_below_warn_on_are_bound_to_audit() {
    let output = util::run_rollsafe(&["export", "--kind", "validating"], None, None);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    let actions: Vec<(String, String)> = serde_yaml::Deserializer::from_str(&text)
        .filter_map(|doc| serde_yaml::Value::deserialize(doc).ok())
        .filter(|d| d["kind"].as_str() == Some("ValidatingAdmissionPolicyBinding"))
        .map(|d| {
            (
                d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                d["spec"]["validationActions"][0]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let action = |name: &str| {
        actions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.as_str())
    };
    assert_eq!(
        action("rollsafe-startup-probe-missing"),
        Some("Audit"),
        "{actions:?}"
    );
    assert_eq!(action("rollsafe-readiness-probe-missing"), Some("Deny"));
    assert_eq!(action("rollsafe-liveness-equals-readiness"), Some("Warn"));
}

#[test]
fn export_follows_the_kubernetes_version() {
    // MutatingAdmissionPolicy is beta in 1.34 and 1.35.
    let (header, documents) = run_export(&["--kubernetes-version", "1.35"]);
    let beta = "admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy";
    assert_eq!(kinds(&documents).get(beta), Some(&2), "{header:?}");
    // None before 1.34: the header says so, and the validating ones stay.
    let (header, documents) = run_export(&["--kubernetes-version", "1.33"]);
    assert!(
        documents
            .iter()
            .all(|d| d["kind"] != "MutatingAdmissionPolicy")
    );
    assert!(
        header
            .iter()
            .any(|l| l.starts_with("No MutatingAdmissionPolicy: Kubernetes 1.33 has none")),
        "{header:?}"
    );
    // On 1.29 the sleep action is refused: that rule is exported too, with
    // the beta validating API.
    let (_, documents) = run_export(&["--kubernetes-version", "1.29", "--kind", "validating"]);
    let names: Vec<&str> = documents
        .iter()
        .filter(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert!(
        names.contains(&"rollsafe-sleep-action-unsupported"),
        "{names:?}"
    );
    assert!(
        documents
            .iter()
            .all(|d| d["apiVersion"] == "admissionregistration.k8s.io/v1beta1")
    );
    // Before 1.28 there is no admission policy at all.
    let (header, documents) = run_export(&["--kubernetes-version", "1.27"]);
    assert!(documents.is_empty());
    assert!(
        header
            .iter()
            .any(|l| l.starts_with("No ValidatingAdmissionPolicy: Kubernetes 1.27 has none")),
        "{header:?}"
    );
}

#[test]
fn opt_outs_are_match_conditions() {
    with_big_stack(opt_outs);
}

fn opt_outs() {
    let policy = Policy::from_text(
        "exempting.yaml",
        "apiVersion: rollsafe.dev/v1alpha1\nkind: Policy\nextends: strict\nexemptions:\n\
         - namespaces: [legacy]\n  reason: migrating\n\
         - names: [\"batch-*\"]\n  kinds: [Deployment]\n  rules: [liveness-probe-missing]\n",
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let deployment = |name: &str, namespace: &str, annotations: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "web", "image": "example/web:1",
                        "ports": [{"containerPort": 8080}]}]}}}})
    };
    let export = export::export(&policy, &Options::default());
    let compiled = Compiled::new(&env(), &export.documents, HashMap::new());
    let reviewer = Reviewer::new(policy.clone(), Mode::Enforce, Mutation::OptedIn);
    let cases = [
        (deployment("web", "shop", json!({})), "shop"),
        (deployment("web", "legacy", json!({})), "legacy"),
        (deployment("batch-7", "shop", json!({})), "shop"),
        (
            deployment(
                "web",
                "shop",
                json!({"rollsafe.dev/ignore": "readiness-probe-missing, min-ready-seconds-zero"}),
            ),
            "shop",
        ),
    ];
    let exported: BTreeSet<&str> = export.exported.iter().map(|e| e.rule).collect();
    let mut seen = Vec::new();
    for (object, namespace) in &cases {
        let cel: BTreeSet<String> = compiled.verdicts(object, namespace).into_keys().collect();
        let webhook: BTreeSet<String> = webhook_verdicts(&reviewer, object, namespace)
            .into_keys()
            .filter(|rule| exported.contains(rule.as_str()))
            .collect();
        assert_eq!(cel, webhook, "{object}");
        seen.push(cel);
    }
    let has = |at: usize, rule: &str| seen[at].contains(rule);
    assert!(has(0, "readiness-probe-missing") && has(0, "liveness-probe-missing"));
    assert!(seen[1].is_empty(), "an exempt namespace: {:?}", seen[1]);
    assert!(!has(2, "liveness-probe-missing") && has(2, "readiness-probe-missing"));
    assert!(!has(3, "readiness-probe-missing") && !has(3, "min-ready-seconds-zero"));
    assert!(has(3, "liveness-probe-missing"));
}
