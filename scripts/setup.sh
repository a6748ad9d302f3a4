#!/usr/bin/env bash
# Installs what the tests and the demo need, from the package registries only: the pinned npm
# fixtures (GitHub's webhook examples and REST schemas, axe-core), Debian's chromium for the
# dashboard's browser tests, and the local control plane's binaries.
# Everything lands in ignored folders; what is already there for the pinned versions is kept.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

for tool in go node npm cargo openssl; do
	command -v "$tool" >/dev/null || { echo "setup: $tool is required but not installed" >&2; exit 1; }
done

if [[ ! -f fixtures/node_modules/.package-lock.json ]] || ! cmp -s fixtures/package-lock.json fixtures/node_modules/.setup-lock; then
	echo "setup: installing npm fixtures (fixtures/package-lock.json)"
	(cd fixtures && npm ci --no-audit --no-fund --loglevel=error)
	cp fixtures/package-lock.json fixtures/node_modules/.setup-lock
fi

chromium="${PREVIEWD_CHROMIUM:-chromium}"
if ! command -v "$chromium" >/dev/null; then
	echo "setup: installing Debian's chromium (the dashboard's browser tests)"
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 ||
		{ $sudo apt-get update -qq && $sudo apt-get install -y --no-install-recommends chromium >/dev/null; }
	command -v "$chromium" >/dev/null || { echo "setup: chromium did not install" >&2; exit 1; }
fi

scripts/cluster-build.sh
