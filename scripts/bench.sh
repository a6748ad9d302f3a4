#!/usr/bin/env bash
# Benchmark (not a test): previewd's webhook → Ready comment and close → namespace gone, median
# and p90 over a series of PRs on the local control plane, next to a minimal client doing the
# same Kubernetes calls in the same run; then, with LIVE > 0, previewd's memory with no preview
# and with LIVE previews open at once. usage: scripts/bench.sh [PRS] [LIVE]   (defaults 10, 0)
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
"$target/examples/bench" "${1:-10}" "${2:-0}"
