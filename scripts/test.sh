#!/usr/bin/env bash
# Runs every test: unit tests and integration tests against a throwaway local control plane
# (started here unless one is already up, and then stopped again) and a GitHub stand-in.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

scripts/setup.sh
if scripts/cluster.sh status >/dev/null 2>&1; then
	echo "test: using the local control plane that is already up"
else
	trap 'scripts/cluster.sh down' EXIT
	scripts/cluster.sh up
fi
eval "$(scripts/cluster.sh env)"
cargo test --locked "$@"
