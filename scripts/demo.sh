#!/usr/bin/env bash
# The main job end to end on this machine, with no accounts: a local control plane, previewd,
# a GitHub stand-in, and GitHub's real `pull_request` payloads. A PR opens -> its preview
# becomes Ready with its URL in one PR comment -> the PR closes -> the namespace is gone.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
secret="demo-webhook-secret"
work=$(mktemp -d)
pids=()
started_cluster=0

cleanup() {
	# While previewd still runs, end the demo's records so its finalizer lets them go.
	if [[ -n "${KUBECONFIG:-}" ]]; then
		kubectl delete previews -l previewd.dev/instance=demo --timeout=60s >/dev/null 2>&1 || true
	fi
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [[ $started_cluster == 1 ]]; then scripts/cluster.sh down; fi
	rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Preparing: npm fixtures, control-plane binaries, previewd"
scripts/setup.sh
cargo build --quiet --bin previewd --example github_standin
target="${CARGO_TARGET_DIR:-$repo/target}/debug"

if ! scripts/cluster.sh status >/dev/null 2>&1; then
	scripts/cluster.sh up
	started_cluster=1
fi
eval "$(scripts/cluster.sh env)"

say "Installing the PreviewEnvironment CRD"
"$target/previewd" crd | kubectl apply --server-side -f -
kubectl wait --for=condition=Established crd/previewenvironments.previewd.dev --timeout=60s

say "Starting the GitHub stand-in and previewd"
"$target/examples/github_standin" --port 0 >"$work/standin.out" 2>"$work/standin.log" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/standin.out" 2>/dev/null && break; sleep 0.1; done
github=$(sed -n 's/^listening on //p' "$work/standin.out" | head -1)
echo "GitHub stand-in: $github"
# The stand-in learns the PR of GitHub's example payloads, so previewd can comment on it.
curl -sf -X PUT "$github/_standin/pulls/Codertocat/Hello-World/2" -H 'Content-Type: application/json' \
	-d '{"title": "Update the README with new information.", "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "branch": "changes"}' >/dev/null
cat >"$work/config.yaml" <<YAML
repositories:
  - name: Codertocat/Hello-World
values:
  image: registry.example.com/hello-world
  replicas: 2
  port: 8080
YAML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PREVIEWD_LISTEN="127.0.0.1:$port" PREVIEWD_WEBHOOK_SECRET="$secret" PREVIEWD_GITHUB_TOKEN=previewd-test-token \
	PREVIEWD_GITHUB_API_URL="$github" PREVIEWD_CONFIG="$work/config.yaml" PREVIEWD_INSTANCE=demo \
	PREVIEWD_PREVIEW_HOST='{{namespace}}.preview.localhost' \
	"$target/previewd" serve >"$work/previewd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
webhook="http://127.0.0.1:$port/webhooks/github"
name=$("$target/previewd" render --repo Codertocat/Hello-World --pr 2 --sha x --config "$work/config.yaml" | sed -n 's/^  namespace: //p' | head -1)

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
	local limit=$1 what=$2 start=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - start > limit)); then
			echo "timed out waiting for $what; previewd's log:" >&2
			tail -30 "$work/previewd.log" >&2
			exit 1
		fi
		sleep 0.5
	done
	echo "$what after $((SECONDS - start)) s"
}
phase_is() { [[ "$(kubectl get preview "$name" -o jsonpath='{.status.phase}' 2>/dev/null)" == "$1" ]]; }
namespace_gone() { ! kubectl get namespace "$name"; }
show_comment() { curl -s "$github/_standin/comments" | node -e '
	let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
		for (const c of JSON.parse(s)) console.log(`--- PR comment ${c.id} by ${c.author} ---\n${c.body}`);
	});'; }

say "GitHub delivers pull_request.opened (Codertocat/Hello-World#2)"
scripts/webhook.sh "$webhook" "$secret" pull_request opened 0
wait_for 120 "preview Ready" phase_is Ready
kubectl get previews -l previewd.dev/instance=demo
kubectl get deployments,pods,services,ingresses -n "$name"
show_comment

say "GitHub delivers pull_request.closed"
scripts/webhook.sh "$webhook" "$secret" pull_request closed 0
wait_for 120 "namespace $name gone" namespace_gone
kubectl get previews -l previewd.dev/instance=demo
show_comment
say "Done: opened -> Ready with one comment -> closed -> namespace gone"
