#!/usr/bin/env bash
# Builds the PyPI wheel (python/pyproject.toml), installs it into a fresh
# virtualenv and runs the binary it carries; then installs this checkout's
# pre-commit hooks with pre-commit itself, offline, against that wheel, and
# runs them on a scratch repository. What it proves: `pip install rollsafe`
# and the `language: python` hooks get a working binary without compiling.
#
#   scripts/check-wheel.sh                 # a dev-profile wheel (CI: reuses `cargo test`'s build)
#   WHEEL_PROFILE=release scripts/check-wheel.sh
#
# Needs python3 (3.8+), git, and PyPI for maturin, pre-commit and setuptools.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
profile=${WHEEL_PROFILE:-dev}
work=$(mktemp -d "${TMPDIR:-/tmp}/rollsafe-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "check-wheel: $*" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || fail "no version in Cargo.toml"

echo "--- maturin build --profile $profile"
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.9,<2' 'pre-commit>=3,<5'
(cd python && "$work/build/bin/maturin" build --quiet --profile "$profile" --out "$work/dist")
wheel=$(ls "$work"/dist/rollsafe-"$version"-*.whl)
echo "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

echo "--- pip install rollsafe (the wheel) into a fresh virtualenv"
python3 -m venv "$work/user"
"$work/user/bin/pip" install --quiet --disable-pip-version-check --no-index --find-links "$work/dist" rollsafe
bin="$work/user/bin/rollsafe"
[ "$("$bin" --version)" = "rollsafe $version" ] || fail "--version says $("$bin" --version)"
"$bin" lint testdata/examples/catalog.yaml >/dev/null || fail "catalog.yaml does not pass"
status=0
"$bin" lint testdata/examples/storefront.yaml >/dev/null || status=$?
[ "$status" -eq 1 ] || fail "storefront.yaml exits $status, not 1"

echo "--- pre-commit hooks, installed from this checkout against the wheel"
# pre-commit runs `pip install .` on the hook repository; that must resolve
# `rollsafe` to the wheel just built, with nothing from an index.
"$work/build/bin/pip" download --quiet --disable-pip-version-check --dest "$work/dist" 'setuptools>=77'
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$work/dist" PRE_COMMIT_HOME="$work/pre-commit-home"
repo="$work/repo"
mkdir -p "$repo/k8s"
git -C "$repo" init --quiet
# The Service targets port 8080 of a container that declares no port: only
# with the Service in view does the container serve traffic (and need a
# readinessProbe).
cat > "$repo/k8s/service.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
YAML
cat > "$repo/k8s/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:1}]
YAML
git -C "$repo" add k8s
hooks="$work/build/bin/pre-commit"
status=0
(cd "$repo" && "$hooks" try-repo "$root" rollsafe --files k8s/web.yaml) >"$work/per-file.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$work/per-file.log"; fail "the per-file hook failed on web.yaml alone"; }
status=0
(cd "$repo" && "$hooks" try-repo "$root" rollsafe-tree --files k8s/web.yaml) >"$work/tree.log" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$work/tree.log"; fail "the whole-tree hook exited $status, not 1"; }
grep -q "readiness-probe-missing" "$work/tree.log" || { cat "$work/tree.log"; fail "the whole-tree hook missed the Service"; }
echo "ok: the wheel runs; the per-file hook passes web.yaml alone, the whole-tree hook sees its Service"
