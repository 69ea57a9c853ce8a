#!/usr/bin/env python3
"""Regenerates schemas/kubernetes.json from the kubernetes-validate wheel.

Run by hand when a Kubernetes minor is added:

    python3 scripts/update-schemas.py                      # downloads the wheel with pip
    python3 scripts/update-schemas.py --wheel path/to.whl  # uses a wheel already here

The wheel (Apache-2.0, https://github.com/willthames/kubernetes-validate) ships
the Kubernetes JSON Schemas in kubeconform's layout: one `-local-strict` folder
per minor (`additionalProperties: false` on every typed object, free-form maps
left open), one file per kind plus `_definitions.json`, draft 2020-12.

Only what rollsafe validates is kept: the kinds it reads, every definition
reachable from them, for every minor `--kubernetes-version` accepts. The
schemas are not edited by hand; this script changes them only as follows, so
that they say what the API server checks:

- `description`, `$schema`, `$id` and `x-kubernetes-*` annotations are dropped.
  The annotations are for server-side apply and clients (list types, merge
  keys, unions); the native kinds kept here carry no
  `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string` or
  `x-kubernetes-embedded-resource`, which this script asserts.
- `IntOrString` and `Quantity` are `oneOf` two nullable types in the wheel, so
  `null` matches both branches and fails; they become one type list with the
  string form API validation accepts as a `pattern`: a quantity (`500Mi`,
  `0.5`, `100m`), and for IntOrString fields, by the field
  (INT_OR_STRING_FIELDS), a percentage (rolling-update and disruption-budget
  fields: `25%` or `1`) or a port name (probe and Service ports: `8080` or an
  IANA service name). Patterns rather than formats keep the schemas plain
  JSON Schema that any validator checks the same way.
- Definitions identical across minors are stored once.

The output is one JSON document, one schema per line, so that a diff shows
what a new minor changed; build.rs turns it into the tables the checker walks,
and src/schema/embedded.rs splits the file by these lines when a problem needs
explaining:

    {"source": ..., "defs": [schema, ...],
     "versions": {"1.37": {"kinds": {"apps/v1/Deployment": i, ...},
                           "defs": {"io.k8s.api.core.v1.Container": i, ...}}}}

where `i` indexes `defs`; `$ref`s read `#/$defs/<name>`. It is a few hundred
kilobytes (the wheel holds 35 MB of `-local-strict` schemas), so it is
embedded as it is, uncompressed.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
import zlib

WHEEL_VERSION = "1.37.0"
# Every minor `--kubernetes-version` accepts (src/model/version.rs).
MINORS = range(25, 38)
# The kinds rollsafe reads (src/model/object.rs, KnownKind::classify), by
# API group ("" is the core group).
KINDS = {
    ("", "Pod"), ("apps", "Deployment"), ("apps", "ReplicaSet"),
    ("", "ReplicationController"), ("apps", "StatefulSet"), ("apps", "DaemonSet"),
    ("batch", "Job"), ("batch", "CronJob"), ("", "Service"),
    ("policy", "PodDisruptionBudget"), ("autoscaling", "HorizontalPodAutoscaler"),
    ("", "ConfigMap"), ("", "PersistentVolumeClaim"),
}
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY_DEF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
REF = re.compile(r"^(?:/api/_definitions\.json|_definitions\.json)?#/\$defs/(.+)$")
UNSUPPORTED_EXTENSIONS = (
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "schemas", "kubernetes.json")


def fetch_wheel(directory):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
         "--dest", directory, f"kubernetes-validate=={WHEEL_VERSION}"],
        check=True,
    )
    wheels = [f for f in os.listdir(directory) if f.endswith(".whl")]
    if len(wheels) != 1:
        sys.exit(f"expected one wheel in {directory}, found {wheels}")
    return os.path.join(directory, wheels[0])


# The string forms API validation accepts, as patterns (a `pattern` applies to
# strings only, so numbers still pass). `x-rollsafe-form` names the form for
# rollsafe's messages; validators ignore it.
#
# A quantity, as `resource.ParseQuantity` reads it: a signed decimal and a
# binary (`Ki` … `Ei`), decimal (`n` … `E`) or exponent (`e3`) suffix.
QUANTITY = {
    "type": ["string", "number", "null"],
    "pattern": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$",
    "x-rollsafe-form": "quantity",
}
# IntOrString as a percentage (`ValidatePositiveIntOrPercent`: rolling
# updates, disruption budgets) or as a port name (`ValidatePortNumOrName`,
# an IANA service name: probes, Services).
INT_OR_PERCENT = {
    "type": ["integer", "string", "null"],
    "pattern": "^[0-9]+%$",
    "x-rollsafe-form": "int-or-percent",
}
INT_OR_PORT_NAME = {
    "type": ["integer", "string", "null"],
    "maxLength": 15,
    "allOf": [{"pattern": "^[a-z0-9](-?[a-z0-9])*$"}, {"pattern": "[a-z]"}],
    "x-rollsafe-form": "int-or-port-name",
}
# A new IntOrString field stops the script until it is classified here.
INT_OR_STRING_FIELDS = {
    "maxSurge": INT_OR_PERCENT,
    "maxUnavailable": INT_OR_PERCENT,
    "minAvailable": INT_OR_PERCENT,
    "port": INT_OR_PORT_NAME,
    "targetPort": INT_OR_PORT_NAME,
}


def int_or_string(field):
    if field not in INT_OR_STRING_FIELDS:
        sys.exit(f"IntOrString field `{field}` is not classified in INT_OR_STRING_FIELDS")
    return INT_OR_STRING_FIELDS[field]


def is_int_or_string(schema):
    match = REF.match(schema.get("$ref", "")) if isinstance(schema, dict) else None
    return bool(match) and match.group(1) == INT_OR_STRING


def clean(node):
    """The schema without annotations, refs made local, IntOrString fields typed."""
    if isinstance(node, list):
        return [clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    for key in UNSUPPORTED_EXTENSIONS:
        if node.get(key):
            sys.exit(f"unexpected {key}: the runtime does not handle it")
    ref = node.get("$ref")
    if isinstance(ref, str):
        match = REF.match(ref)
        if not match:
            sys.exit(f"unexpected $ref {ref}")
        if match.group(1) == INT_OR_STRING:
            sys.exit("IntOrString outside an object's properties")
        return {"$ref": f"#/$defs/{match.group(1)}"}
    out = {}
    for key, value in node.items():
        if key in ("description", "$schema", "$id") or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {
                name: int_or_string(name) if is_int_or_string(schema) else clean(schema)
                for name, schema in value.items()
            }
        else:
            out[key] = clean(value)
    return out


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def read_minor(wheel, minor):
    prefix = f"kubernetes_validate/kubernetes-json-schema/v1.{minor}.0-local-strict/"
    names = [n for n in wheel.namelist() if n.startswith(prefix) and n.endswith(".json")]
    if not names:
        sys.exit(f"the wheel has no schemas for 1.{minor}")
    definitions = json.loads(wheel.read(prefix + "_definitions.json"))["$defs"]
    kinds = {}
    for name in names:
        base = name[len(prefix):]
        if base.startswith("_") or base == "all.json":
            continue
        schema = json.loads(wheel.read(name))
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        for gvk in gvks:
            if (gvk["group"], gvk["kind"]) in KINDS and len(gvks) == 1:
                group = gvk["group"]
                api_version = f"{group}/{gvk['version']}" if group else gvk["version"]
                kinds[f"{api_version}/{gvk['kind']}"] = clean(schema)
    defs = {}
    pending = set()
    for schema in kinds.values():
        refs(schema, pending)
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        if name == QUANTITY_DEF:
            defs[name] = QUANTITY
            continue
        defs[name] = clean(definitions[name])
        found = set()
        refs(defs[name], found)
        pending |= found - defs.keys()
    return kinds, defs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheel", help="a kubernetes-validate wheel (default: pip download)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = args.wheel or fetch_wheel(tmp)
        with open(wheel_path, "rb") as wheel_file:
            digest = hashlib.sha256(wheel_file.read()).hexdigest()
        with zipfile.ZipFile(wheel_path) as wheel:
            unique = []
            index = {}

            def intern(schema):
                key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
                if key not in index:
                    index[key] = len(unique)
                    unique.append(schema)
                return index[key]

            versions = {}
            raw = 0
            for minor in MINORS:
                kinds, defs = read_minor(wheel, minor)
                raw += sum(len(json.dumps(s, separators=(",", ":"))) for s in kinds.values())
                raw += sum(len(json.dumps(s, separators=(",", ":"))) for s in defs.values())
                versions[f"1.{minor}"] = {
                    "kinds": {k: intern(s) for k, s in sorted(kinds.items())},
                    "defs": {d: intern(s) for d, s in sorted(defs.items())},
                }
    def line(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    source = (f"kubernetes-validate {WHEEL_VERSION} (wheel sha256 {digest}), "
              "-local-strict, via scripts/update-schemas.py")
    parts = ["{", f'"source":{line(source)},', '"defs":[']
    parts.append(",\n".join(line(schema) for schema in unique))
    parts.append('],"versions":{')
    parts.append(",\n".join(f"{line(minor)}:{line(version)}" for minor, version in versions.items()))
    parts.append("}}")
    text = "\n".join(parts) + "\n"
    json.loads(text)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as out:
        out.write(text)
    packed = zlib.compress(text.encode(), 9)
    print(f"{len(versions)} minors, {len(unique)} distinct schemas")
    print(f"kept, per minor, without descriptions: {raw} bytes in all")
    print(f"deduplicated: {len(text)} bytes (deflated it would be {len(packed)}) -> {os.path.relpath(OUT)}")

if __name__ == "__main__":
    main()
