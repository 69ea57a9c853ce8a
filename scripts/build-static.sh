#!/usr/bin/env sh
# The static Linux build that the release ships, the container image runs and
# the Linux wheels carry. For this machine's architecture (x86_64 or aarch64):
#
#   scripts/build-static.sh OUTPUT            # the binary, copied to OUTPUT
#   scripts/build-static.sh --wheel FOLDER    # the PyPI wheel (maturin on PATH)
#
# glibc is linked statically (`crt-static`) rather than musl: the webhook's
# allocator tuning (mallopt, malloc_trim after large reviews) and the
# benchmarks in README.md are glibc's, and glibc 2.34+ resolves host names
# from /etc/hosts and DNS without loading NSS modules. The binary is not
# position-independent (`relocation-model=static`): nothing to relocate at
# start, which halves a one-file lint's time. An explicit `--target` keeps
# build scripts and proc macros dynamic, as they must be. The wheel of a
# static binary needs no particular glibc: maturin tags it manylinux_2_5.
# Both forms share one build: the second reuses what the first compiled.
set -eu
usage="usage: scripts/build-static.sh OUTPUT | --wheel FOLDER"
cd "$(dirname "$0")/.."
target="$(uname -m)-unknown-linux-gnu"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static"
export RUSTFLAGS

if [ "${1:-}" = --wheel ]; then
  folder=${2:?$usage}
  case "$folder" in /*) ;; *) folder="$PWD/$folder" ;; esac
  (cd python && maturin build --release --locked --target "$target" --out "$folder")
  exit 0
fi

out=${1:?$usage}
cargo build --release --locked --bin rollsafe --target "$target"
mkdir -p "$(dirname "$out")"
cp "target/$target/release/rollsafe" "$out"
# Symbols only: a fifth of the file (27 MB to 22 MB), no use to a user.
if command -v strip >/dev/null 2>&1; then
  strip "$out"
fi
# A static executable has no program interpreter (ld.so) to ask for.
if command -v readelf >/dev/null 2>&1 && readelf --program-headers "$out" | grep -q INTERP; then
  echo "build-static: $out is dynamically linked" >&2
  exit 1
fi
"$out" --version
