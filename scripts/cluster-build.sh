#!/usr/bin/env bash
# Builds the throwaway control plane's binaries from the pinned Go wrapper modules in cluster/.
# A binary is rebuilt only when its module's go.mod/go.sum (the pin) changed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PREVIEWD_CACHE_DIR:-$repo/.cache}"
bin="$cache/cluster/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

pin_of() { cat "$repo/cluster/$1/go.mod" "$repo/cluster/$1/go.sum" | sha256sum | cut -c1-16; }

module_version() { # module_version DIR MODULE -> pinned version of MODULE in DIR's go.mod
	awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$repo/cluster/$1/go.mod"
}

up_to_date() { # up_to_date DIR BINARY...
	local dir=$1 pin b
	shift
	pin=$(pin_of "$dir")
	for b in "$@"; do
		[[ -x "$bin/$b" && "$(cat "$bin/$b.pin" 2>/dev/null)" == "$pin" ]] || return 1
	done
}

mark_built() { # mark_built DIR BINARY...
	local dir=$1 pin b
	shift
	pin=$(pin_of "$dir")
	for b in "$@"; do echo "$pin" >"$bin/$b.pin"; done
}

step() { # step DIR "BINARIES" -- go build args...
	local dir=$1 names=$2 start
	shift 3
	# shellcheck disable=SC2086
	if up_to_date "$dir" $names; then
		echo "cluster-build: $names up to date"
		return
	fi
	echo "cluster-build: building $names (cluster/$dir) ..."
	start=$SECONDS
	(cd "$repo/cluster/$dir" && go build -trimpath "$@")
	# shellcheck disable=SC2086
	mark_built "$dir" $names
	echo "cluster-build: $names built in $((SECONDS - start)) s"
}

k8s_version=$(module_version kubernetes k8s.io/kubernetes)
k8s_minor=$(echo "$k8s_version" | cut -d. -f2)
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	stamp+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
	stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

step etcd "etcd" -- -ldflags "-s -w" -o "$bin/etcd" .
step kubernetes "kube-apiserver kube-controller-manager kube-scheduler kubectl" -- -ldflags "-s -w$stamp" -o "$bin/" \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
step kwok "kwok" -- -ldflags "-s -w" -o "$bin/kwok" sigs.k8s.io/kwok/cmd/kwok
step helm "helm" -- -ldflags "-s -w" -o "$bin/helm" helm.sh/helm/v4/cmd/helm
step kustomize "kustomize" -- -ldflags "-s -w" -o "$bin/kustomize" sigs.k8s.io/kustomize/kustomize/v5

# kwok ships no stages in its binary; keep the node ones its pinned module ships next to it.
# The pod stages (shipped pod/fast adjusted for previewd's readiness labels) live in cluster/stages/.
kwok_dir=$(cd "$repo/cluster/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
rm -rf "$cache/cluster/kwok-stages" && mkdir -p "$cache/cluster/kwok-stages"
for s in node/fast/node-initialize node/heartbeat/node-heartbeat; do
	cp "$kwok_dir/kustomize/stage/$s.yaml" "$cache/cluster/kwok-stages/"
done
chmod u+w "$cache/cluster/kwok-stages/"*.yaml
echo "cluster-build: binaries in $bin"
