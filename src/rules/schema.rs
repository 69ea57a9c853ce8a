//! Schema rules: the manifest says what the cluster will hold.
//!
//! Both rules read every document as written, not its typed view: the
//! engine checks each one once against the Kubernetes JSON Schema of its
//! kind for the policy's `kubernetesVersion` (or the schema of a custom
//! resource, rollsafe's or one from `schemaDirs`) and hands them what it
//! found (`crate::schema`).

use super::{DocumentNeeds, DocumentView, Rule, Violation};
use crate::schema::{Problem, ProblemKind};

declare_rule! {
    /// ## What it does
    /// Flags a field that the Kubernetes schema of the object's kind does not
    /// have, at its line. That is a misspelt `prestop`, `readinessprobe` or
    /// `terminationGracePeriodSecond`, or a field indented into the wrong
    /// object. When a known field is one edit away, or differs only in case,
    /// it is suggested; a field that belongs to an enclosing or a nested
    /// object is sent there.
    ///
    /// ## Why it matters
    /// The API server drops fields it does not know (kubectl's strict field
    /// validation refuses the object instead, but Helm, Argo CD, Flux and most
    /// client libraries only get a warning). The safeguard a reviewer reads in
    /// the YAML then does not exist in the cluster: a misspelt `preStop` means
    /// no drain delay and dropped requests on every rollout, a misspelt
    /// `readinessProbe` means traffic before the app listens.
    ///
    /// Every kind rollsafe reads is checked (workloads, Services,
    /// PodDisruptionBudgets, HorizontalPodAutoscalers, ConfigMaps,
    /// PersistentVolumeClaims) against the schema of the policy's
    /// `kubernetesVersion`, so a field that is newer than the cluster is
    /// reported too. Free-form maps (labels, annotations, ConfigMap `data`)
    /// take any key.
    ///
    /// Custom resources that shape rollouts and traffic are checked against
    /// the schemas of their CustomResourceDefinitions, which rollsafe holds:
    /// Argo Rollouts' `Rollout`, Gateway API's `HTTPRoute` and `Gateway`,
    /// Istio's `VirtualService` and `DestinationRule`. The API server prunes
    /// a field a custom resource's schema lacks (strict field validation
    /// refuses the object): a misspelt `setWeight` or `scaleDownDelaySeconds`
    /// leaves the canary without its step. A Rollout's pod template is
    /// checked as the pod template of the policy's `kubernetesVersion`: the
    /// ReplicaSets made from it are. Other custom resources are checked when a
    /// folder in `schemaDirs` holds a schema for their kind, and such a
    /// schema is used instead of rollsafe's for the kinds above.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.4
    ///     readinessprobe:
    ///       httpGet: {path: /ready, port: 8080}
    ///     lifecycle:
    ///       prestop:
    ///         sleep: {seconds: 5}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: example/web:1.4
    ///     readinessProbe:
    ///       httpGet: {path: /ready, port: 8080}
    ///     lifecycle:
    ///       preStop:
    ///         sleep: {seconds: 5}
    /// ```
    ///
    /// ## Settings
    /// - `schemaDirs`: folders of JSON Schemas for custom resources, named as
    ///   kubeconform names them: `{kind}_{version}.json` with the kind in lower
    ///   case (`rollout_v1alpha1.json`), directly in the folder or in a
    ///   sub-folder named after the API group (`argoproj.io/`). Relative to the
    ///   policy file.
    pub struct UnknownField {
        id: "unknown-field",
        family: Schema,
        scope: Schema,
        fix: None,
        settings: ["schemaDirs"],
    }
}

impl Rule for UnknownField {
    fn document_needs(&self) -> DocumentNeeds {
        DocumentNeeds {
            schema: true,
            decode_errors: false,
        }
    }

    fn check_document(&self, doc: &DocumentView<'_>, out: &mut Vec<Violation>) {
        report(doc.problems, ProblemKind::UnknownField, out);
    }
}

declare_rule! {
    /// ## What it does
    /// Flags a value that the API server rejects, at its line, with what was
    /// expected. That is:
    ///
    /// - a value of the wrong type for the schema: a quoted number where an
    ///   integer is required (`replicas: "3"`), or an unquoted YAML 1.1
    ///   boolean where a string is required (`value: on` in an env var is the
    ///   boolean true to Kubernetes; quote it);
    /// - a value of the wrong form: a malformed quantity (`memory: 500MB`), a
    ///   rolling-update or disruption-budget percentage without `%`, a port
    ///   name that is not an IANA service name, a value outside an enum, a
    ///   missing required field;
    /// - what API validation rejects and the schema does not say: a probe with
    ///   no handler or several (exactly one of `exec`, `httpGet`, `tcpSocket`,
    ///   `grpc`), a lifecycle hook likewise (`exec`, `httpGet`, `tcpSocket`,
    ///   `sleep`), a liveness or startup probe with `successThreshold` other
    ///   than 1, negative probe timings or `sleep.seconds`, a readiness probe
    ///   with `terminationGracePeriodSeconds`, and probes or hooks on an init
    ///   container that is not a native sidecar;
    /// - a handler's action the API server cannot run: an empty
    ///   `exec.command`, a port number outside 1–65535 (for `grpc` too), a
    ///   `scheme` other than `HTTP` or `HTTPS`, a header name that is not an
    ///   HTTP token;
    /// - a container port outside 1–65535, a port name that is not an IANA
    ///   service name or that the container declares twice;
    /// - a PodDisruptionBudget with both `minAvailable` and `maxUnavailable`,
    ///   a negative one or one above `100%`, an unknown
    ///   `unhealthyPodEvictionPolicy`; a selector requirement whose operator
    ///   and values disagree (`In` without values, `Exists` with some), in a
    ///   budget or a workload's `spec.selector`.
    ///
    /// Custom resources are checked against their schemas as for
    /// `unknown-field`: a canary `setWeight: "20"`, an `HTTPRoute` backend
    /// `weight: -1` (the schema's range is 0 to 1000000), an Istio route
    /// `weight: "x"`.
    ///
    /// The API validation follows the API server's own functions
    /// (`ValidatePodDisruptionBudgetSpec`, `validateProbe`,
    /// `validateHandler`, `validateContainerPorts`, …), after its defaults:
    /// an empty `scheme` is `HTTP`, a `successThreshold` of 0 is 1.
    ///
    /// ## Why it matters
    /// The API server refuses the whole object, so the rollout that was meant
    /// to ship does not happen, often found only at deploy time in a pipeline
    /// far from the line at fault. Some of these values read fine to a person
    /// and to YAML 1.2 tools (`on` is a string in most editors) but not to
    /// Kubernetes, which reads YAML 1.1.
    ///
    /// A document with such a value cannot be read as its kind. With this rule
    /// on, that is a finding rather than an input error, and the other rules
    /// still judge the object: they read a copy with the value the author
    /// evidently meant (`3` for `"3"`, the text `on` for `on`) or, when no
    /// meaning can be recovered, without the value.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: "3"
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: web
    ///           image: example/web:1.4
    ///           env:
    ///             - name: FEATURE_FLAG
    ///               value: on
    ///           livenessProbe:
    ///             httpGet: {path: /healthz, port: 8080}
    ///             successThreshold: 2
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: web
    ///           image: example/web:1.4
    ///           env:
    ///             - name: FEATURE_FLAG
    ///               value: "on"
    ///           livenessProbe:
    ///             httpGet: {path: /healthz, port: 8080}
    /// ```
    ///
    /// ## Settings
    /// - `schemaDirs`: folders of JSON Schemas for custom resources, as for
    ///   `unknown-field`.
    pub struct InvalidFieldValue {
        id: "invalid-field-value",
        family: Schema,
        scope: Schema,
        fix: None,
        settings: ["schemaDirs"],
    }
}

impl Rule for InvalidFieldValue {
    fn document_needs(&self) -> DocumentNeeds {
        DocumentNeeds {
            schema: true,
            decode_errors: true,
        }
    }

    fn check_document(&self, doc: &DocumentView<'_>, out: &mut Vec<Violation>) {
        report(doc.problems, ProblemKind::InvalidValue, out);
    }
}

fn report(problems: &[Problem], kind: ProblemKind, out: &mut Vec<Violation>) {
    for problem in problems.iter().filter(|p| p.kind == kind) {
        let mut violation = Violation::new(&problem.pointer, &problem.message, &problem.help);
        violation.container = problem.container.clone();
        out.push(violation);
    }
}
