#!/usr/bin/env python3
"""Regenerates schemas/custom-resources.json from the npm packages of kubernetes-models.

Run by hand when a custom resource is added or a source is updated:

    python3 scripts/update-custom-resource-schemas.py               # npm pack the packages
    python3 scripts/update-custom-resource-schemas.py --packages D  # tarballs already in D

The packages (MIT, https://github.com/tommy351/kubernetes-models-ts) hold, for
each custom resource, the OpenAPI v3 schema of its CustomResourceDefinition
(Apache-2.0: argoproj/argo-rollouts, kubernetes-sigs/gateway-api, istio/istio)
as a JSON object in the kind's module (`const schema = {...};`). Their newer
majors ship compiled validators instead of schemas, hence the versions pinned
in PACKAGES.

The schemas are changed only as follows, so that they say what the API server
does with a custom resource (structural schemas and pruning):

- An object with `properties` is closed (`additionalProperties: false`): the
  API server prunes a field its schema does not have, or refuses the object
  under strict field validation. An object without `properties` stays open:
  the packages drop `x-kubernetes-preserve-unknown-fields`, and such objects
  (plugin configurations, `resources.limits` in a CRD's copy of a pod spec)
  are the ones that preserve unknown fields. PRESERVED lists objects that
  have `properties` and preserve unknown fields all the same.
- `x-kubernetes-int-or-string` (an `anyOf` of `integer` and `string` in the
  packages) becomes the type list `["integer", "string", "null"]`.
- `nullable` and the `oneOf: [schema, {type: null}]` the packages write for it
  become `null` in the type list. A field of an object may be `null` in any
  case: the API server prunes a `null` the schema does not allow.
- `metadata` is a `$ref` to the Kubernetes `ObjectMeta`, and a kind's pod
  template (TEMPLATES) a `$ref` to the Kubernetes `PodTemplateSpec`, both
  resolved in the Kubernetes minor a document is judged against
  (schemas/kubernetes.json): the controller builds ReplicaSets from the
  template, and the API server judges those with its own schema.
- Not kept, because the checker does not implement them (a value they reject
  is not reported): `pattern`, `minLength`, `minItems`, `maxItems`,
  `maxProperties`, formats other than `date-time`, an `enum` of numbers, and
  the `oneOf`/`anyOf`/`allOf`/`not` with which a CRD relates fields ("at most
  one of these", "an IP address when `type` is `IPAddress`").
  `description` and `default` are annotations. The script stops at any other
  keyword or form.
- The fields a newer release added are accepted, with any value: the
  packages' newer majors (NEWER) hold no schemas, but their TypeScript
  declarations name every field of every object, and a field a cluster's
  newer CRD has must not be reported as unknown. Only the fields of the
  pinned schemas are checked for type and range.
- `apiVersion` and `kind` are plain strings (a document is matched to its
  schema by them), so that the versions of one kind with the same schema are
  stored once.

The output has the layout of schemas/kubernetes.json, one schema per line:

    {"source": ..., "defs": [schema, ...],
     "kinds": {"argoproj.io/v1alpha1/Rollout": i, ...},
     "templates": {"argoproj.io/v1alpha1/Rollout": "/spec/template"}}
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

# (package, version, sha256 of the tarball, {apiVersion/Kind: module in the tarball}).
PACKAGES = [
    ("@kubernetes-models/argo-rollouts", "0.3.2",
     "e90e3f33e0c815ce390b21bf51d3cc01800d05fd9f3d81324727e08ff1d790c3", {
         "argoproj.io/v1alpha1/Rollout": "argoproj.io/v1alpha1/Rollout.js",
     }),
    ("@kubernetes-models/gateway-api", "0.5.1",
     "3650c87c49f95ccf5fee93f29a076ea4781e2a346fbe085a1143a4da9323d156", {
         "gateway.networking.k8s.io/v1/HTTPRoute": "gateway.networking.k8s.io/v1/HTTPRoute.js",
         "gateway.networking.k8s.io/v1beta1/HTTPRoute": "gateway.networking.k8s.io/v1beta1/HTTPRoute.js",
         "gateway.networking.k8s.io/v1/Gateway": "gateway.networking.k8s.io/v1/Gateway.js",
         "gateway.networking.k8s.io/v1beta1/Gateway": "gateway.networking.k8s.io/v1beta1/Gateway.js",
     }),
    ("@kubernetes-models/istio", "2.3.0",
     "a6861951369d5916a2fb439eedb93de547ba19330ce0c952d024cc87d0ec7ed7", {
         "networking.istio.io/v1alpha3/VirtualService": "networking.istio.io/v1alpha3/VirtualService.js",
         "networking.istio.io/v1beta1/VirtualService": "networking.istio.io/v1beta1/VirtualService.js",
         "networking.istio.io/v1alpha3/DestinationRule": "networking.istio.io/v1alpha3/DestinationRule.js",
         "networking.istio.io/v1beta1/DestinationRule": "networking.istio.io/v1beta1/DestinationRule.js",
     }),
]
# The newer majors: TypeScript declarations of the latest fields (Argo
# Rollouts' and Gateway API's Go types, Istio 1.29's CRDs), by package.
NEWER = {
    "@kubernetes-models/argo-rollouts": (
        "2.0.0", "3bee5717bb8cb4db784f7da9e582fdd5c6350a311e1aabee8fd44a707e246a51"),
    "@kubernetes-models/gateway-api": (
        "2.0.0", "505c284b74d2f71803803543816abe3fe58e4b0ec6d98f3bd4989726d469b81b"),
    "@kubernetes-models/istio": (
        "3.0.1", "a319f9e8a3496cc1d598ca6d451f73ba049756be1d6663479a07eb88d0d22353"),
}
# Istio serves `networking.istio.io/v1` (from 1.22) with the schema of
# `v1beta1`; the package predates it.
SAME_AS = {
    "networking.istio.io/v1/VirtualService": "networking.istio.io/v1beta1/VirtualService",
    "networking.istio.io/v1/DestinationRule": "networking.istio.io/v1beta1/DestinationRule",
}
# Pod templates, as JSON pointers.
TEMPLATES = {"argoproj.io/v1alpha1/Rollout": "/spec/template"}
# Objects with `properties` that preserve unknown fields (kind, pointer into
# the schema's properties); none so far.
PRESERVED = set()
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
POD_TEMPLATE = "io.k8s.api.core.v1.PodTemplateSpec"
# Keywords dropped: annotations, and checks the checker does not implement.
DROPPED = {"description", "default", "pattern", "minLength", "minItems", "maxItems",
           "maxProperties", "nullable"}
KEPT = {"type", "properties", "items", "additionalProperties", "required", "enum",
        "maxLength", "minimum", "maximum", "format"}

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "schemas", "custom-resources.json")


def fetch(directory, package, version):
    subprocess.run(["npm", "pack", "--silent", f"{package}@{version}"],
                   cwd=directory, check=True, stdout=subprocess.DEVNULL)
    name = package.lstrip("@").replace("/", "-") + f"-{version}.tgz"
    return os.path.join(directory, name)


def module_schema(tarball, module):
    with tarfile.open(tarball) as tar:
        text = tar.extractfile(f"package/{module}").read().decode()
    match = re.search(r"^const schema = (\{.*?^\});$", text, re.S | re.M)
    if not match:
        sys.exit(f"{module}: no `const schema`")
    return json.loads(match.group(1))


def fail(where, what):
    sys.exit(f"{where}: {what}")


def is_int_or_string(node):
    return (isinstance(node, dict) and set(node) == {"anyOf"}
            and node["anyOf"] == [{"type": "integer"}, {"type": "string"}])


def is_union_constraint(node):
    """A schema that only says which fields may be set together, or which
    values go together: what `properties` describe is not changed."""
    if not isinstance(node, dict):
        return False
    for key, value in node.items():
        if key in ("required", "enum", "format"):
            continue
        if key == "not" and is_union_constraint(value):
            continue
        if key in ("oneOf", "anyOf", "allOf") and all(map(is_union_constraint, value)):
            continue
        if key == "properties" and all(map(is_union_constraint, value.values())):
            continue
        return False
    return True


def with_null(types):
    types = types if isinstance(types, list) else [types]
    return types if "null" in types else types + ["null"]


def clean(node, where, kind, nullable):
    """The schema as the checker reads it (see the module doc)."""
    if not isinstance(node, dict):
        fail(where, "a schema that is not an object")
    node = dict(node)
    # `oneOf: [schema, {type: null}]` is a nullable schema.
    one_of = node.get("oneOf")
    if isinstance(one_of, list) and len(one_of) == 2 and one_of[1] == {"type": "null"}:
        del node["oneOf"]
        inner = one_of[0]
        if inner == {}:
            return {}
        if inner.get("$ref", "").startswith(OBJECT_META):
            return {"$ref": f"#/$defs/{OBJECT_META}"}
        node = {**inner, **node}
        nullable = True
    if node.get("nullable"):
        nullable = True
    if "anyOf" in node and is_int_or_string({"anyOf": node["anyOf"]}):
        del node["anyOf"]
        node["type"] = ["integer", "string", "null"]
    for key in ("oneOf", "anyOf", "allOf", "not"):
        if key in node:
            if not is_union_constraint({key: node[key]}):
                fail(where, f"`{key}` that does more than relate fields")
            del node[key]
    out = {}
    for key, value in node.items():
        if key in DROPPED:
            continue
        if key not in KEPT:
            fail(where, f"keyword `{key}`")
        if key == "format":
            if value == "date-time":
                out[key] = value
        elif key == "enum":
            # The checker compares strings; an `enum` of numbers (HTTP
            # redirect codes) is not kept.
            if all(isinstance(v, str) for v in value):
                out[key] = value
            elif not all(isinstance(v, int) for v in value):
                fail(where, "an `enum` of strings and other values")
        elif key in ("minimum", "maximum"):
            if not isinstance(value, int):
                fail(where, f"`{key}` that is not an integer")
            out[key] = value
        elif key == "properties":
            if value:
                out[key] = {
                    name: clean(schema, f"{where}/{name}", kind, True)
                    for name, schema in value.items()
                }
        elif key == "items":
            out[key] = clean(value, f"{where}/items", kind, False)
        elif key == "additionalProperties":
            if not isinstance(value, dict):
                fail(where, "`additionalProperties` that is not a schema")
            out[key] = clean(value, f"{where}/additionalProperties", kind, True)
        else:
            out[key] = value
    if "type" in out and nullable:
        out["type"] = with_null(out["type"])
    if out.get("properties"):
        if "additionalProperties" in out:
            fail(where, "`properties` beside `additionalProperties`")
        if (kind, where) not in PRESERVED:
            out["additionalProperties"] = False
    return out


def declarations(tarball):
    """The interfaces of a package's TypeScript declarations, by name (each
    under its short and its qualified name), comments removed."""
    interfaces = {}
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.name.endswith(".d.ts"):
                continue
            text = tar.extractfile(member).read().decode()
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
            text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
            for match in re.finditer(r"export interface (\w+)(?: extends [^{]*)? \{", text):
                body = text[match.end() - 1:]
                interfaces[match.group(1)] = body[:closing(body, 0) + 1]
            for alias in re.finditer(r"export type \{([^}]*)\}", text):
                for pair in alias.group(1).split(","):
                    short, _, full = pair.strip().partition(" as ")
                    if short in interfaces and full:
                        interfaces[full.strip()] = interfaces[short]
    return interfaces


def closing(text, at):
    """The index of the bracket closing the one at `at`."""
    pairs = {"{": "}", "<": ">", "(": ")", "[": "]"}
    stack = []
    for i in range(at, len(text)):
        c = text[i]
        if c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return i
    sys.exit("unbalanced declaration")


def members(body):
    """`{"name": type text}` of an object type's body `{ ... }`."""
    out = {}
    field = re.compile(r'\s*"([^"]+)"\??:\s*')
    i = 1
    while i < len(body) - 1:
        match = field.match(body, i)
        if not match:
            i += 1
            continue
        start = j = match.end()
        while j < len(body) - 1 and body[j] != ";":
            if body[j] in "{<([":
                j = closing(body, j)
            j += 1
        out[match.group(1)] = body[start:j].strip()
        i = j + 1
    return out


def declared(type_text, interfaces, depth=0):
    """What a declared type says of an object's fields: `("object", members)`,
    `("array", item)`, `("map", value)`, or None for anything else."""
    text = type_text.strip()
    if depth > 64:
        return None
    if text.startswith("Array<") and text.endswith(">"):
        return ("array", text[6:-1])
    if text.startswith("{"):
        inner = text[1:-1].strip()
        map_value = re.match(r"^\[key: string\]:\s*(.*?);?$", inner, re.S)
        if map_value:
            return ("map", map_value.group(1))
        return ("object", members(text))
    if text in interfaces:
        return declared(interfaces[text], interfaces, depth + 1)
    return None


def add_newer_fields(schema, type_text, interfaces, depth=0):
    """Adds, with any value, the fields the declared type has and the schema
    lacks, in every object the two share; returns how many."""
    shape = declared(type_text, interfaces)
    if shape is None or depth > 64 or "$ref" in schema:
        return 0
    form, inner = shape
    if form == "array" and "items" in schema:
        return add_newer_fields(schema["items"], inner, interfaces, depth + 1)
    if form == "map" and isinstance(schema.get("additionalProperties"), dict):
        return add_newer_fields(schema["additionalProperties"], inner, interfaces, depth + 1)
    added = 0
    if form == "object" and "properties" in schema:
        for name, field_type in inner.items():
            if name in schema["properties"]:
                added += add_newer_fields(schema["properties"][name], field_type,
                                          interfaces, depth + 1)
            else:
                schema["properties"][name] = {}
                added += 1
    return added


def kind_schema(kind, schema):
    props = schema.get("properties", {})
    for field in ("apiVersion", "kind"):
        if field in props:
            props[field] = {"type": "string"}
    out = clean(schema, "", kind, False)
    template = TEMPLATES.get(kind)
    if template:
        parent = out
        *path, last = template.strip("/").split("/")
        for token in path:
            parent = parent["properties"][token]
        if last not in parent.get("properties", {}):
            fail(kind, f"no {template}")
        parent["properties"][last] = {"$ref": f"#/$defs/{POD_TEMPLATE}"}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packages", help="a folder with the tarballs (default: npm pack)")
    args = parser.parse_args()
    unique, index, kinds, sources = [], {}, {}, []

    def intern(schema):
        key = json.dumps(schema, sort_keys=True, separators=(",", ":"))
        if key not in index:
            index[key] = len(unique)
            unique.append(schema)
        return index[key]

    with tempfile.TemporaryDirectory() as tmp:

        def tarball(package, version, digest):
            folder = args.packages or tmp
            name = package.lstrip("@").replace("/", "-") + f"-{version}.tgz"
            path = os.path.join(folder, name)
            if not os.path.exists(path):
                path = fetch(tmp, package, version)
            with open(path, "rb") as f:
                found = hashlib.sha256(f.read()).hexdigest()
            if found != digest:
                sys.exit(f"{name}: sha256 {found}, expected {digest}")
            sources.append(f"{package}@{version} (sha256 {found})")
            return path

        for package, version, digest, modules in PACKAGES:
            path = tarball(package, version, digest)
            newer = declarations(tarball(package, *NEWER[package]))
            for kind, module in modules.items():
                schema = kind_schema(kind, module_schema(path, module))
                interface = "I" + kind.rsplit("/", 1)[1]
                if interface not in newer:
                    sys.exit(f"{package} {NEWER[package][0]}: no {interface}")
                added = add_newer_fields(schema, interface, newer)
                print(f"{kind}: {added} newer fields")
                kinds[kind] = intern(schema)
    for kind, same in SAME_AS.items():
        kinds[kind] = kinds[same]

    def line(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    source = ", ".join(sources) + ", via scripts/update-custom-resource-schemas.py"
    parts = ["{", f'"source":{line(source)},', '"defs":[']
    parts.append(",\n".join(line(schema) for schema in unique))
    parts.append(f'],"kinds":{line(dict(sorted(kinds.items())))},')
    parts.append(f'"templates":{line(TEMPLATES)}')
    parts.append("}")
    text = "\n".join(parts) + "\n"
    json.loads(text)
    with open(OUT, "w", encoding="utf-8") as out:
        out.write(text)
    print(f"{len(kinds)} kinds, {len(unique)} distinct schemas, {len(text)} bytes"
          f" -> {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
