#!/usr/bin/env sh
# The static Linux build that the release ships, the container image runs and
# the Linux wheels carry, for this machine's architecture (x86_64 or
# aarch64):
#
#   scripts/build-static.sh OUTPUT            # the binary, copied to OUTPUT
#   scripts/build-static.sh OUTPUT WHEELS     # the PyPI wheel into the folder
#                                             # WHEELS (maturin on PATH), and
#                                             # the binary it carries to OUTPUT
#
# glibc is linked statically (`crt-static`) rather than musl: the webhook's
# allocator tuning (mallopt, malloc_trim after large reviews) and the
# benchmarks in README.md are glibc's, and glibc 2.34+ resolves host names
# from /etc/hosts and DNS without loading NSS modules. The binary is not
# position-independent (`relocation-model=static`): nothing to relocate at
# start, which halves a one-file lint's time. An explicit `--target` keeps
# build scripts and proc macros dynamic, as they must be. The wheel of a
# static binary needs no particular glibc: maturin tags it manylinux_2_5.
# With WHEELS the binary is taken from the wheel: maturin's cargo flags differ
# from a plain `cargo build`'s, which would compile rollsafe a second time.
set -eu
out=${1:?usage: scripts/build-static.sh OUTPUT [WHEELS]}
wheels=${2:-}
cd "$(dirname "$0")/.."
target="$(uname -m)-unknown-linux-gnu"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static"
export RUSTFLAGS
mkdir -p "$(dirname "$out")"

if [ -n "$wheels" ]; then
  case "$wheels" in /*) ;; *) wheels="$PWD/$wheels" ;; esac
  (cd python && maturin build --release --locked --target "$target" --out "$wheels")
  python3 - "$wheels" "$out" <<'PY'
import glob, os, shutil, sys, zipfile

folder, out = sys.argv[1], sys.argv[2]
wheel = max(glob.glob(os.path.join(folder, "rollsafe-*.whl")), key=os.path.getmtime)
with zipfile.ZipFile(wheel) as archive:
    name = next(n for n in archive.namelist() if n.endswith(".data/scripts/rollsafe"))
    with archive.open(name) as source, open(out, "wb") as target:
        shutil.copyfileobj(source, target)
os.chmod(out, 0o755)
PY
else
  cargo build --release --locked --bin rollsafe --target "$target"
  cp "target/$target/release/rollsafe" "$out"
fi
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
