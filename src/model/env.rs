//! A container's environment as the kubelet builds it, as far as the input
//! tells: what `$(VAR)` in `env`, `command` and `args` expands to, and what a
//! shell in the container sees as `$VAR`.
//!
//! The kubelet sets the `envFrom` sources first, in order, then each `env`
//! entry, expanding `$(NAME)` in its value from the variables set before it;
//! `command` and `args` are expanded from the whole environment. `$$(NAME)`
//! is a literal `$(NAME)`, and a reference to a variable it does not know is
//! left as written
//! (<https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/>).
//! Values that live outside the input (Secrets, downward API fields, a
//! ConfigMap not in the input) are known to be set but not to what.

use std::borrow::Cow;
use std::collections::HashMap;

use super::index::Index;
use super::workload::{ContainerRef, Workload};

/// The variables of one container, each name as its last definition sets it.
#[derive(Debug, Clone, Default)]
pub struct ContainerEnv {
    /// `None` when the value is not in the input.
    vars: HashMap<String, Option<String>>,
}

impl ContainerEnv {
    /// The environment of `c`, with ConfigMaps looked up in `index` (an
    /// empty one for a single object).
    pub fn of(w: &Workload, c: &ContainerRef<'_>, index: &Index) -> Self {
        let namespace = w.object.namespace_key();
        let configmap = |name: &str| {
            index
                .configmap(namespace, name)
                .and_then(|cm| cm.typed.data.as_ref())
        };
        let mut env = ContainerEnv::default();
        for source in c.container.env_from.iter().flatten() {
            let Some(data) = source
                .config_map_ref
                .as_ref()
                .and_then(|r| configmap(&r.name))
            else {
                continue;
            };
            let prefix = source.prefix.as_deref().unwrap_or_default();
            for (key, value) in data {
                env.set(format!("{prefix}{key}"), Some(value.clone()));
            }
        }
        for var in c.container.env.iter().flatten() {
            let value = match (&var.value, &var.value_from) {
                (Some(value), _) => Some(env.expand(value).into_owned()),
                (None, Some(from)) => match (&from.config_map_key_ref, &from.field_ref) {
                    (Some(selector), _) => configmap(&selector.name)
                        .and_then(|data| data.get(&selector.key))
                        .cloned(),
                    // The one pod field the manifest already knows.
                    (None, Some(field)) if field.field_path == "metadata.namespace" => {
                        w.object.namespace.clone()
                    }
                    _ => None,
                },
                // Neither: the variable is set, to the empty string.
                (None, None) => Some(String::new()),
            };
            env.set(var.name.clone(), value);
        }
        env
    }

    fn set(&mut self, name: String, value: Option<String>) {
        self.vars.insert(name, value);
    }

    /// The value of `name` when it is set to something the input shows.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.vars.get(name).and_then(Option::as_deref)
    }

    /// `text` with `$(NAME)` expanded the kubelet's way.
    pub fn expand<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !text.contains('$') {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(escaped) = after.strip_prefix('$') {
                out.push('$');
                rest = escaped;
            } else if let Some((name, tail)) = after
                .strip_prefix('(')
                .and_then(|inner| inner.split_once(')'))
            {
                match self.value(name) {
                    Some(value) => out.push_str(value),
                    None => {
                        out.push_str("$(");
                        out.push_str(name);
                        out.push(')');
                    }
                }
                rest = tail;
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn env_of(container: Value, extra: Vec<Value>) -> ContainerEnv {
        let mut docs = vec![json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]}}}})];
        docs.extend(extra);
        let index = Index::of_values(docs);
        let w = &index.workloads[0];
        let c = w
            .containers()
            .next()
            .unwrap_or_else(|| panic!("no container"));
        ContainerEnv::of(w, &c, &index)
    }

    #[test]
    fn env_values_expand_from_earlier_entries_only() {
        let env = env_of(
            json!({"name": "app", "env": [
                {"name": "LATER_REF", "value": "$(BASE)s"},
                {"name": "BASE", "value": "20"},
                {"name": "TIMEOUT", "value": "$(BASE)s"},
                {"name": "ESCAPED", "value": "$$(BASE)"},
                {"name": "UNKNOWN", "value": "$(NOPE)"},
            ]}),
            vec![],
        );
        assert_eq!(env.value("LATER_REF"), Some("$(BASE)s"));
        assert_eq!(env.value("TIMEOUT"), Some("20s"));
        assert_eq!(env.value("ESCAPED"), Some("$(BASE)"));
        assert_eq!(env.value("UNKNOWN"), Some("$(NOPE)"));
        assert_eq!(env.expand("--drain-time-s $(BASE)"), "--drain-time-s 20");
    }

    #[test]
    fn config_maps_in_the_input_and_values_outside_it() {
        let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "tuning", "namespace": "shop"},
            "data": {"DRAIN": "15", "grace": "30s"}});
        let env = env_of(
            json!({"name": "app",
            "envFrom": [{"configMapRef": {"name": "tuning"}, "prefix": "APP_"}],
            "env": [
                {"name": "GRACE", "valueFrom": {"configMapKeyRef": {"name": "tuning", "key": "grace"}}},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "SHUTDOWN", "value": "$(APP_DRAIN)+$(TOKEN)"},
            ]}),
            vec![configmap],
        );
        assert_eq!(env.value("APP_DRAIN"), Some("15"));
        assert_eq!(env.value("GRACE"), Some("30s"));
        assert_eq!(env.value("TOKEN"), None);
        assert_eq!(env.value("NS"), Some("shop"));
        assert_eq!(env.value("POD"), None);
        assert_eq!(env.value("SHUTDOWN"), Some("15+$(TOKEN)"));
    }

    #[test]
    fn odd_references_are_left_alone() {
        let env = env_of(
            json!({"name": "app", "env": [{"name": "A", "value": "1"}]}),
            vec![],
        );
        for odd in crate::model::ODD_TEXTS {
            let _ = env.expand(odd);
        }
        assert_eq!(env.expand("$(A"), "$(A");
        assert_eq!(env.expand("$"), "$");
        assert_eq!(env.expand("$A $(A)"), "$A 1");
        assert_eq!(env.expand("é$(A)é"), "é1é");
    }
}
