#!/usr/bin/env bash
# Latency of `rollsafe serve` under a fixed request rate.
#
# Starts a release build of `rollsafe serve` with a test CA, then drives
# `POST /validate` with a realistic Deployment review at a fixed rate over TLS
# keep-alive connections with oha (coordinated omission corrected), and, in the
# same run, the same load against `GET /healthz`, which does no rule work: the
# floor of TLS, HTTP and the load generator on this machine. The server runs on
# one core, the load generator on another.
#
#   benches/webhook.sh                  # RUNS=3 RATE=2000 DURATION=30s CONNECTIONS=16
#
# Targets (2-core machine): validate p50 <= 0.5 ms, validate p99 <= 2 x the
# floor's p99, no errors, server RSS <= 30 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
RATE=${RATE:-2000}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-16}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
REVIEW=${REVIEW:-testdata/admission/deployment-create-allowed.json}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

for tool in openssl jq taskset curl; do
  command -v "$tool" >/dev/null || { echo "benches/webhook.sh needs $tool" >&2; exit 2; }
done

# oha: on PATH, or installed once into .bench/ (not on PATH, not committed).
OHA=$(command -v oha || true)
if [[ -z "$OHA" ]]; then
  OHA=.bench/bin/oha
  if [[ ! -x "$OHA" ]]; then
    echo "--- installing oha into .bench/ (once)"
    cargo install oha --locked --root .bench
  fi
fi

echo "--- cargo build --release"
cargo build --release --locked --bin rollsafe
BIN="$TARGET_DIR/release/rollsafe"

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  [[ -n "${KEEP:-}" ]] || rm -rf "$WORK"; [[ -n "${KEEP:-}" ]] && echo "kept $WORK" || true
}
trap cleanup EXIT

# A test CA and a serving certificate for localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=rollsafe-bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj /CN=localhost -keyout "$WORK/tls.key" -out "$WORK/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$WORK/san.ext"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
  -CAcreateserial -days 1 -extfile "$WORK/san.ext" -out "$WORK/tls.crt" 2>/dev/null

jq -c .body "$REVIEW" > "$WORK/review.json"

start_server() {
  RUST_LOG=${RUST_LOG:-info} taskset -c "$SERVER_CPU" "$BIN" serve --listen 127.0.0.1:0 \
    --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" \
    --drain-delay 0s --shutdown-timeout 2s 2> "$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 500); do
    ADDRESS=$(grep -h 'listening for admission reviews' "$WORK/server.log" 2>/dev/null | jq -r .address || true)
    [[ -n "$ADDRESS" ]] && break
    sleep 0.02
  done
  [[ -n "$ADDRESS" ]] || { cat "$WORK/server.log" >&2; exit 1; }
  PORT=${ADDRESS##*:}
  # A first review over TLS proves the server answers.
  curl -sf --cacert "$WORK/ca.crt" --data-binary @"$WORK/review.json" \
    "https://localhost:$PORT/validate?timeout=10s" > /dev/null
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=
}

# oha --output-format json → "p50_ms p99_ms errors requests"
load() {
  local out=$1; shift
  taskset -c "$CLIENT_CPU" "$OHA" --no-tui --output-format json --latency-correction \
    -z "$DURATION" -w -q "$RATE" -c "$CONNECTIONS" --cacert "$WORK/ca.crt" "$@" > "$out"
  jq -r '[(.latencyPercentiles.p50 * 1000), (.latencyPercentiles.p99 * 1000),
          ((.errorDistribution // {}) | to_entries | map(.value) | add // 0)
            + ((.statusCodeDistribution // {}) | to_entries | map(select(.key != "200")) | map(.value) | add // 0),
          ((.statusCodeDistribution // {}) | to_entries | map(.value) | add // 0)]
         | map(tostring) | join(" ")' "$out"
}

echo "--- $RUNS runs: $RATE req/s for $DURATION over $CONNECTIONS keep-alive connections"
printf '%-4s %-9s %10s %10s %8s %10s %9s  %s\n' run endpoint p50_ms p99_ms errors requests rss_mb loadavg
for run in $(seq 1 "$RUNS"); do
  start_server
  read -r v50 v99 verr vreq < <(load "$WORK/validate-$run.json" -m POST \
    -H 'Content-Type: application/json' -D "$WORK/review.json" \
    "https://localhost:$PORT/validate?timeout=10s")
  read -r h50 h99 herr hreq < <(load "$WORK/healthz-$run.json" "https://localhost:$PORT/healthz")
  rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
  loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
  stop_server
  rss_mb=$(awk -v kb="$rss_kb" 'BEGIN {printf "%.1f", kb / 1024}')
  printf '%-4s %-9s %10.3f %10.3f %8s %10s %9s  %s\n' "$run" validate "$v50" "$v99" "$verr" "$vreq" "$rss_mb" "$loadavg"
  printf '%-4s %-9s %10.3f %10.3f %8s %10s %9s  %s\n' "$run" healthz "$h50" "$h99" "$herr" "$hreq" "-" "$loadavg"
done
