#!/usr/bin/env bash
# Runs every test: unit tests and integration tests against a throwaway local control plane
# (started here unless one is already up, and then stopped again) and a GitHub stand-in.
# First it builds the static binary the container image packages (scripts/build-static.sh) and
# names it in PREVIEWD_STATIC_BIN for tests/e2e/container_image.rs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

scripts/setup.sh
PREVIEWD_STATIC_BIN="$(scripts/build-static.sh)"
export PREVIEWD_STATIC_BIN
if scripts/cluster.sh status >/dev/null 2>&1; then
	echo "test: using the local control plane that is already up"
else
	trap 'scripts/cluster.sh down' EXIT
	scripts/cluster.sh up
fi
eval "$(scripts/cluster.sh env)"
# --workspace: previewd's tests and the test harness crate's own (tests/testkit).
cargo test --locked --workspace "$@"
