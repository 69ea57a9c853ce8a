//! The probe rules' facts in CEL: probe timing as the API server stores
//! it, and probes compared as the kubelet runs them (see the module above).

use crate::rules::cel::{Check, lit_list, per_container};

/// The rule checks every probe's `httpGet` and `tcpSocket` port.
pub(super) fn probe_ports() -> Vec<Check> {
    let mut checks = Vec::new();
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        for handler in ["httpGet", "tcpSocket"] {
            let port = format!("c.{probe}.{handler}.port");
            let ok = format!(
                "!(has(c.{probe}) && has(c.{probe}.{handler}) && type({port}) == string) || \
                 (has(c.ports) && c.ports.exists(p, has(p.name) && p.name == {port}))"
            );
            let message = format!(
                "'{probe} uses port `' + {port} + '`, which container `' + c.name + \
                 '` does not declare (a quoted number is a port name to the API server) ({probe}.{handler}.port)'"
            );
            checks.push(per_container(&ok, &message));
        }
    }
    checks
}

/// A probe's integer field as the API server stores it: absent and `0`
/// take the default.
pub(super) fn defaulted(probe: &str, field: &str, default: i64) -> String {
    format!("(has({probe}.{field}) && {probe}.{field} != 0 ? {probe}.{field} : {default})")
}

pub(super) fn window(probe: &str) -> String {
    format!(
        "{} * {}",
        defaulted(probe, "periodSeconds", 10),
        defaulted(probe, "failureThreshold", 3)
    )
}

pub(super) fn window_valid(probe: &str) -> String {
    format!(
        "{} > 0 && {} > 0",
        defaulted(probe, "periodSeconds", 10),
        defaulted(probe, "failureThreshold", 3)
    )
}

/// Two probes of container `c` are the same once API defaults are applied
/// and named ports resolved (`crate::rules::probes::identical`).
pub(super) fn identical(a: &str, b: &str) -> String {
    let mut parts = Vec::new();
    for (field, default) in [
        ("initialDelaySeconds", 0),
        ("periodSeconds", 10),
        ("timeoutSeconds", 1),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ] {
        parts.push(format!(
            "{} == {}",
            defaulted(a, field, default),
            defaulted(b, field, default)
        ));
    }
    let same_handler = |handler: &str, same: &dyn Fn(&str, &str) -> String| {
        let (x, y) = (format!("{a}.{handler}"), format!("{b}.{handler}"));
        format!(
            "has({a}.{handler}) == has({b}.{handler}) && (!has({a}.{handler}) || ({}))",
            same(&x, &y)
        )
    };
    parts.push(same_handler("exec", &|x, y| {
        format!("(has({x}.command) ? {x}.command : []) == (has({y}.command) ? {y}.command : [])")
    }));
    parts.push(same_handler("httpGet", &|x, y| {
        let text = |h: &str, field: &str, default: &str| {
            format!("(has({h}.{field}) && {h}.{field} != '' ? {h}.{field} : {default})")
        };
        [
            format!("{} == {}", text(x, "scheme", "'HTTP'"), text(y, "scheme", "'HTTP'")),
            format!("{} == {}", text(x, "path", "'/'"), text(y, "path", "'/'")),
            format!("{} == {}", text(x, "host", "''"), text(y, "host", "''")),
            format!(
                "(has({x}.httpHeaders) ? {x}.httpHeaders : []) == (has({y}.httpHeaders) ? {y}.httpHeaders : [])"
            ),
            format!("{} == {}", resolved_port(x), resolved_port(y)),
        ]
        .join(" && ")
    }));
    parts.push(same_handler("tcpSocket", &|x, y| {
        let host = |h: &str| format!("(has({h}.host) ? {h}.host : '')");
        format!(
            "{} == {} && {} == {}",
            host(x),
            host(y),
            resolved_port(x),
            resolved_port(y)
        )
    }));
    parts.push(same_handler("grpc", &|x, y| {
        let service = |g: &str| format!("(has({g}.service) ? {g}.service : '')");
        format!("{x}.port == {y}.port && {} == {}", service(x), service(y))
    }));
    parts.join(" && ")
}

/// A probe handler's port as the kubelet resolves it against container
/// `c`'s own ports, as text (`n:8080` a number, `s:web` a name it lacks).
pub(super) fn resolved_port(handler: &str) -> String {
    let port = format!("{handler}.port");
    let named = format!("has(p.name) && p.name == {port}");
    format!(
        "(type({port}) == string ? ((has(c.ports) && c.ports.exists(p, {named})) ? \
         'n:' + string(c.ports.filter(p, {named})[0].containerPort) : 's:' + {port}) : 'n:' + string({port}))"
    )
}

/// A readiness probe that cannot fail (`crate::rules::probes::never_fails`).
pub(super) fn never_fails(probe: &str) -> String {
    let argv = format!("{probe}.exec.command");
    let program = |word: &str| format!("{word}.substring({word}.lastIndexOf('/') + 1)");
    let shells = lit_list(&["sh", "bash", "ash", "dash", "zsh"]);
    let always = lit_list(&["true", ":", "exit 0", "/bin/true"]);
    format!(
        "has({probe}.exec) && has({argv}) && (\
         (size({argv}) == 3 && {shell} in {shells} && {argv}[1] == '-c' && {argv}[2].trim() in {always}) || \
         (size({argv}) == 1 && {single} in {always}))",
        shell = program(&format!("{argv}[0]")),
        single = program(&format!("{argv}[0]")),
    )
}
