#!/usr/bin/env bash
# Sends one of GitHub's real example payloads (from the pinned @octokit/webhooks-examples) to a
# webhook URL exactly as GitHub does: signed with X-Hub-Signature-256 and GitHub's headers.
# usage: scripts/webhook.sh URL SECRET EVENT ACTION [INDEX]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
url=$1 secret=$2 event=$3 action=$4 index=${5:-0}

body=$(mktemp)
trap 'rm -f "$body"' EXIT
node -e '
const [file, event, action, index] = process.argv.slice(1);
const all = require(file).find((e) => e.name === event);
const matching = (all ? all.examples : []).filter((x) => x.action === action);
if (!matching[index]) { console.error(`no ${event} ${action} example #${index}`); process.exit(1); }
process.stdout.write(JSON.stringify(matching[index]));
' "$repo/fixtures/node_modules/@octokit/webhooks-examples/api.github.com/index.json" "$event" "$action" "$index" >"$body"

signature=$(openssl dgst -sha256 -hmac "$secret" -hex <"$body" | sed 's/^.*= //')
delivery=$(cat /proc/sys/kernel/random/uuid)
curl -sS --fail-with-body -w 'HTTP %{http_code}\n' -X POST "$url" \
	-H "Content-Type: application/json" \
	-H "User-Agent: GitHub-Hookshot/4f3a2c1" \
	-H "X-GitHub-Event: $event" \
	-H "X-GitHub-Delivery: $delivery" \
	-H "X-GitHub-Hook-ID: 4242" \
	-H "X-Hub-Signature-256: sha256=$signature" \
	--data-binary "@$body"
