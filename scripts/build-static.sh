#!/usr/bin/env sh
# The static Linux build that the release ships and the container image
# runs: `scripts/build-static.sh OUTPUT` builds for this machine's
# architecture (x86_64 or aarch64) and copies the binary to OUTPUT.
#
# glibc is linked statically (`crt-static`) rather than musl: the webhook's
# allocator tuning (mallopt, malloc_trim after large reviews) and the
# benchmarks in README.md are glibc's. The binary is not position-independent
# (`relocation-model=static`): there is nothing to relocate at start, which
# was about a third of a one-file lint's CPU time. An explicit `--target`
# keeps build scripts and proc macros dynamic, as they must be.
set -eu
out=${1:?usage: scripts/build-static.sh OUTPUT}
cd "$(dirname "$0")/.."
target="$(uname -m)-unknown-linux-gnu"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" \
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
