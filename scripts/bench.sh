#!/usr/bin/env bash
# Benchmark (not a test): previewd next to a minimal client making only the calls a preview
# needs, their PRs interleaved on the local control plane: open → Ready comment, push → Ready
# comment, close → namespace gone; where previewd's time goes; GitHub writes per lifecycle;
# memory. RUNS runs in a row (a ratio counts when it holds in each); then, with BURST > 0, BURST
# PRs opened at once through previewd and through the minimal client; then webhook answers at
# RATE deliveries/s (0: skipped); then, with LIVE > 0, previewd's memory with no preview and
# with LIVE previews open at once; then the GitHub writes of BUDGET lifecycles with GitHub
# deployments off and on (0: skipped).
# usage: scripts/bench.sh [PRS] [LIVE] [RUNS] [RATE] [BURST] [BUDGET]   (defaults 30, 0, 1, 500, 0, 3)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
scripts/setup.sh >/dev/null
cargo build --quiet --release --bin previewd --example bench
if ! scripts/cluster.sh status >/dev/null 2>&1; then
	trap 'scripts/cluster.sh down' EXIT
	scripts/cluster.sh up
fi
eval "$(scripts/cluster.sh env)"
target="${CARGO_TARGET_DIR:-$repo/target}/release"
"$target/previewd" crd | kubectl apply --server-side -f - >/dev/null
kubectl wait --for=condition=Established crd/previewenvironments.previewd.dev --timeout=60s >/dev/null
"$target/examples/bench" "${1:-30}" "${2:-0}" "${3:-1}" "${4:-500}" "${5:-0}" "${6:-3}"
