#!/usr/bin/env bash
# Regenerates docs/dashboard.png, the README's picture of the dashboard: runs the dashboard's
# browser test on the local control plane (started here unless one is up), which saves what
# headless Chromium shows.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

scripts/setup.sh
if scripts/cluster.sh status >/dev/null 2>&1; then
	echo "screenshot: using the local control plane that is already up"
else
	trap 'scripts/cluster.sh down' EXIT
	scripts/cluster.sh up
fi
eval "$(scripts/cluster.sh env)"
PREVIEWD_SCREENSHOT_DIR="$repo/docs" cargo test --locked --test e2e dashboard::in_a_browser
echo "screenshot: docs/dashboard.png"
