#!/usr/bin/env bash
# A throwaway Kubernetes control plane on 127.0.0.1 for previewd's integration tests:
# etcd, kube-apiserver, kube-controller-manager (all default controllers), kube-scheduler and kwok
# (fake nodes and pod lifecycles from Stages), built from the pins in cluster/ by cluster-build.sh.
#
#   scripts/cluster.sh build               build the binaries (skipped when the pins are unchanged)
#   scripts/cluster.sh up                  start (no-op when this instance is already up and healthy)
#   scripts/cluster.sh down                stop what `up` started and remove the state dir
#   scripts/cluster.sh env                 eval "$(scripts/cluster.sh env)": KUBECONFIG, PATH, ...
#   scripts/cluster.sh status              which components run; exit 0 only when all are up
#   scripts/cluster.sh restart-apiserver   stop and start kube-apiserver with the same flags
#   scripts/cluster.sh pause-etcd|resume-etcd   SIGSTOP / SIGCONT etcd
#
# Environment (defaults in brackets); a second instance needs other ports and another state dir:
#   PREVIEWD_CACHE_DIR [<repo>/.cache]   PREVIEWD_CLUSTER_DIR [<cache>/cluster/run]
#   PREVIEWD_ETCD_PORT [22379]  PREVIEWD_ETCD_PEER_PORT [22380]  PREVIEWD_APISERVER_PORT [26443]
#   PREVIEWD_CONTROLLER_MANAGER_PORT [20257]  PREVIEWD_SCHEDULER_PORT [20259]  PREVIEWD_KWOK_PORT [20247]
# The ports an instance was started with are saved in its state dir and used by later commands.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PREVIEWD_CACHE_DIR:-$repo/.cache}"
bin="$cache/cluster/bin"
state="${PREVIEWD_CLUSTER_DIR:-$cache/cluster/run}"
state="${state%/}"
pki="$state/pki"
node_name="kwok-node-0"
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
marker=".previewd-cluster" # only a directory holding this file is ever removed

say() { echo "cluster: $*"; }
die() {
	echo "cluster: $*" >&2
	exit 1
}
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
since() { # since T0_MS -> "S.s"
	local d=$(($(now_ms) - $1))
	echo "$((d / 1000)).$((d % 1000 / 100))"
}

load_ports() { # the saved ports of a started instance win over the environment
	etcd_port=${PREVIEWD_ETCD_PORT:-22379}
	etcd_peer_port=${PREVIEWD_ETCD_PEER_PORT:-22380}
	apiserver_port=${PREVIEWD_APISERVER_PORT:-26443}
	controller_manager_port=${PREVIEWD_CONTROLLER_MANAGER_PORT:-20257}
	scheduler_port=${PREVIEWD_SCHEDULER_PORT:-20259}
	kwok_port=${PREVIEWD_KWOK_PORT:-20247}
	if [[ -f "$state/ports.env" ]]; then
		# shellcheck source=/dev/null
		source "$state/ports.env"
	fi
}

save_ports() {
	cat >"$state/ports.env" <<-EOF
		etcd_port=$etcd_port
		etcd_peer_port=$etcd_peer_port
		apiserver_port=$apiserver_port
		controller_manager_port=$controller_manager_port
		scheduler_port=$scheduler_port
		kwok_port=$kwok_port
	EOF
}

port_table() { # "port variable component" lines
	cat <<-EOF
		$etcd_port PREVIEWD_ETCD_PORT etcd
		$etcd_peer_port PREVIEWD_ETCD_PEER_PORT etcd(peer)
		$apiserver_port PREVIEWD_APISERVER_PORT kube-apiserver
		$controller_manager_port PREVIEWD_CONTROLLER_MANAGER_PORT kube-controller-manager
		$scheduler_port PREVIEWD_SCHEDULER_PORT kube-scheduler
		$kwok_port PREVIEWD_KWOK_PORT kwok
	EOF
}

port_in_use() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

check_ports_free() {
	local port var what busy=0 seen=" "
	while read -r port var what; do
		[[ "$seen" == *" $port "* ]] && die "port $port is configured twice ($var, $what)"
		seen+="$port "
		if port_in_use "$port"; then
			echo "cluster: port $port ($var, for $what) is already in use:" >&2
			ss -Hltnp "sport = :$port" >&2 || true
			busy=1
		fi
	done < <(port_table)
	((busy == 0)) || die "not starting anything; free the port(s) or choose others with the variables above"
}

wait_ports_free() {
	local port _ deadline=$((SECONDS + 15))
	while read -r port _; do
		while port_in_use "$port"; do
			((SECONDS < deadline)) || die "port $port is still bound after stopping"
			sleep 0.1
		done
	done < <(port_table)
}

# --- processes -------------------------------------------------------------------------------

pid_file() { echo "$state/pids/$1.pid"; }

pid_of() { # pid_of NAME -> pid of NAME when it is our process and alive (not a zombie)
	local f pid cmd st
	f=$(pid_file "$1")
	[[ -f "$f" ]] || return 1
	pid=$(<"$f")
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	# Guard against pid reuse: the process must be the binary we started (zombies have no cmdline).
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
	[[ "$cmd" == "$bin/$1 "* ]] || return 1
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ "$st" != Z ]] || return 1
	echo "$pid"
}

is_paused() { # is_paused PID
	[[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == T ]]
}

log_tail() {
	local log="$state/logs/$1.log"
	[[ -f "$log" ]] || return 0
	echo "----- last lines of $log -----" >&2
	tail -n "${2:-40}" "$log" >&2
	echo "-----" >&2
}

still_running() { # still_running NAME: the process started as NAME exists and is not a zombie
	# (unlike pid_of, no cmdline check: right after start it may still be bash or setsid, before
	# the exec of the binary, which a loaded machine makes visible)
	local pid st
	pid=$(<"$(pid_file "$1")") || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ "$st" != Z ]]
}

start() { # start NAME ARGS...
	local name=$1 pid
	shift
	[[ -x "$bin/$name" ]] || die "$bin/$name is missing; run scripts/cluster.sh build"
	# 9>&-: the daemons must not inherit (and so hold) the instance lock.
	setsid "$bin/$name" "$@" </dev/null >>"$state/logs/$name.log" 2>&1 9>&- &
	pid=$!
	echo "$pid" >"$(pid_file "$name")"
}

stop() { # stop NAME: SIGTERM, SIGKILL after 5 s, wait until it has exited
	local name=$1 pid i
	pid=$(pid_of "$name") || {
		rm -f "$(pid_file "$name")"
		return 0
	}
	kill -TERM "$pid" 2>/dev/null || true
	kill -CONT "$pid" 2>/dev/null || true # a paused etcd would never see the SIGTERM
	for ((i = 0; i < 50; i++)); do
		pid_of "$name" >/dev/null || break
		sleep 0.1
	done
	if pid_of "$name" >/dev/null; then
		say "$name (pid $pid) did not exit within 5 s of SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			pid_of "$name" >/dev/null || break
			sleep 0.1
		done
		pid_of "$name" >/dev/null && die "$name (pid $pid) survived SIGKILL"
	fi
	rm -f "$(pid_file "$name")"
}

stop_all() {
	local i
	for ((i = ${#components[@]} - 1; i >= 0; i--)); do stop "${components[i]}"; done
}

failed() { # failed COMPONENT MESSAGE: show its log, stop everything, keep the logs
	echo "cluster: $2" >&2
	log_tail "$1"
	stop_all
	die "up failed; logs kept in $state/logs (the next up or down removes them)"
}

wait_for() { # wait_for COMPONENT TIMEOUT_S DESCRIPTION COMMAND...: COMPONENT must stay alive
	local comp=$1 timeout=$2 what=$3 deadline c
	shift 3
	deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		for c in "${components[@]}"; do
			if [[ -f "$(pid_file "$c")" ]] && ! still_running "$c"; then
				failed "$c" "$c exited while waiting for $what"
			fi
		done
		((SECONDS < deadline)) || failed "$comp" "timed out after ${timeout} s waiting for $what"
		sleep 0.2
	done
}

# --- pieces ----------------------------------------------------------------------------------

gen_pki() {
	mkdir -p "$pki"
	cat >"$pki/openssl.cnf" <<-'EOF'
		[req]
		distinguished_name = dn
		prompt = no
		[dn]
		CN = unused
		[ca]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign, digitalSignature
		subjectKeyIdentifier = hash
		[server]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = serverAuth
		authorityKeyIdentifier = keyid
		subjectAltName = IP:127.0.0.1, IP:10.96.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
		[client]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature, keyEncipherment
		extendedKeyUsage = clientAuth
		authorityKeyIdentifier = keyid
	EOF
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config "$pki/openssl.cnf")
	openssl req -x509 "${ec[@]}" -extensions ca -days 3650 -subj "/CN=previewd-local-ca" \
		-keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
	# The front-proxy CA only signs the apiserver's aggregation client (and silences the components'
	# "missing requestheader-client-ca-file" errors).
	openssl req -x509 "${ec[@]}" -extensions ca -days 3650 -subj "/CN=previewd-local-front-proxy-ca" \
		-keyout "$pki/front-proxy-ca.key" -out "$pki/front-proxy-ca.crt" 2>/dev/null
	leaf() { # leaf NAME EXTENSIONS SUBJECT [CA]
		openssl req -x509 "${ec[@]}" -extensions "$2" -days 365 -subj "$3" \
			-CA "$pki/${4:-ca}.crt" -CAkey "$pki/${4:-ca}.key" -keyout "$pki/$1.key" -out "$pki/$1.crt" 2>/dev/null
	}
	leaf front-proxy-client client "/CN=front-proxy-client" front-proxy-ca
	leaf apiserver server "/CN=kube-apiserver"
	leaf admin client "/O=system:masters/CN=previewd-admin"
	leaf controller-manager client "/CN=system:kube-controller-manager"
	leaf scheduler client "/CN=system:kube-scheduler"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/sa.key" 2>/dev/null
	openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
	chmod 600 "$pki"/*.key
}

kubeconfig() { # kubeconfig FILE CERT_NAME USER
	cat >"$1" <<-EOF
		apiVersion: v1
		kind: Config
		clusters:
		- name: previewd-local
		  cluster:
		    server: https://127.0.0.1:$apiserver_port
		    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
		users:
		- name: $3
		  user:
		    client-certificate-data: $(base64 -w0 <"$pki/$2.crt")
		    client-key-data: $(base64 -w0 <"$pki/$2.key")
		contexts:
		- name: previewd-local
		  context:
		    cluster: previewd-local
		    user: $3
		current-context: previewd-local
	EOF
	chmod 600 "$1"
}

k() { "$bin/kubectl" --kubeconfig "$state/kubeconfig" "$@"; }

apiserver_ready() {
	[[ "$(curl -sS --max-time 2 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
		"https://127.0.0.1:$apiserver_port/readyz" 2>/dev/null)" == ok ]]
}
etcd_healthy() { curl -sS --max-time 2 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"'; }
https_healthz() { [[ "$(curl -sSk --max-time 2 "https://127.0.0.1:$1/healthz" 2>/dev/null)" == ok ]]; }
kwok_healthy() { [[ "$(curl -sS --max-time 2 "http://127.0.0.1:$kwok_port/healthz" 2>/dev/null)" == ok ]]; }
node_ready() {
	[[ "$(k get node "$node_name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}|{.spec.taints}')" == "True|" ]]
}
default_sa_exists() { k get serviceaccount default -n default; }

start_etcd() {
	start etcd --name=previewd --data-dir="$state/etcd" \
		--listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
		--listen-peer-urls="http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
		--initial-cluster="previewd=http://127.0.0.1:$etcd_peer_port" --initial-cluster-state=new \
		--unsafe-no-fsync=true --log-level=warn
}

start_apiserver() {
	start kube-apiserver --etcd-servers="http://127.0.0.1:$etcd_port" \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$apiserver_port" \
		--endpoint-reconciler-type=none \
		--tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
		--client-ca-file="$pki/ca.crt" --cert-dir="$pki" \
		--requestheader-client-ca-file="$pki/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
		--requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
		--requestheader-extra-headers-prefix=X-Remote-Extra- \
		--proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
		--service-cluster-ip-range=10.96.0.0/16 \
		--authorization-mode=Node,RBAC --allow-privileged=true --profiling=false
}

start_controller_manager() {
	start kube-controller-manager --kubeconfig="$state/controller-manager.kubeconfig" \
		--authentication-kubeconfig="$state/controller-manager.kubeconfig" \
		--authorization-kubeconfig="$state/controller-manager.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port="$controller_manager_port" --cert-dir="$state/controller-manager" \
		--controllers='*' --use-service-account-credentials=true \
		--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
		--cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
		--kube-api-qps=200 --kube-api-burst=400 --leader-elect=false --profiling=false
}

start_scheduler() {
	start kube-scheduler --kubeconfig="$state/scheduler.kubeconfig" \
		--authentication-kubeconfig="$state/scheduler.kubeconfig" \
		--authorization-kubeconfig="$state/scheduler.kubeconfig" \
		--bind-address=127.0.0.1 --secure-port="$scheduler_port" --cert-dir="$state/scheduler" \
		--leader-elect=false --profiling=false
}

start_kwok() {
	# Node stages as shipped by the pinned kwok module (copied by cluster-build.sh), pod stages ours.
	local stages=() f
	for f in "$cache/cluster/kwok-stages/node-initialize.yaml" "$cache/cluster/kwok-stages/node-heartbeat.yaml"; do
		[[ -f "$f" ]] || die "$f is missing; run scripts/cluster.sh build"
		stages+=("--config=$f")
	done
	for f in "$repo/cluster/stages/"*.yaml; do stages+=("--config=$f"); done
	start kwok --kubeconfig="$state/kubeconfig" --server-address="127.0.0.1:$kwok_port" \
		--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
		--cidr=10.244.0.0/16 "${stages[@]}"
}

create_node() {
	k apply -f - >/dev/null <<-EOF
		apiVersion: v1
		kind: Node
		metadata:
		  name: $node_name
		  annotations:
		    kwok.x-k8s.io/node: fake
		    node.alpha.kubernetes.io/ttl: "0"
		  labels:
		    type: kwok
		    kubernetes.io/arch: amd64
		    kubernetes.io/hostname: $node_name
		    kubernetes.io/os: linux
		    kubernetes.io/role: agent
		    node-role.kubernetes.io/agent: ""
		status:
		  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
		  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
	EOF
}

all_running() {
	local c
	for c in "${components[@]}"; do pid_of "$c" >/dev/null || return 1; done
}

healthy() { # all processes alive and the apiserver ready (resuming a paused etcd, waiting up to 20 s)
	all_running || return 1
	local etcd_pid deadline=$((SECONDS + 20))
	etcd_pid=$(pid_of etcd)
	if is_paused "$etcd_pid"; then
		say "resuming the paused etcd (pid $etcd_pid)"
		kill -CONT "$etcd_pid"
	fi
	until apiserver_ready; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

remove_state() {
	[[ -e "$state" ]] || return 0
	rmdir "$state" 2>/dev/null && return 0 # an empty directory (mktemp -d, say)
	[[ -f "$state/$marker" ]] || die "refusing to remove $state: it was not created by scripts/cluster.sh (no $marker)"
	rm -rf "$state"
}

lock() { # serialise up/down/restart of one instance
	mkdir -p "$(dirname "$state")"
	exec 9>"$state.lock"
	flock -w 300 9 || die "another scripts/cluster.sh has held $state.lock for 5 minutes"
}

# --- commands --------------------------------------------------------------------------------

cmd_up() {
	lock
	load_ports
	if [[ -f "$state/$marker" ]]; then
		if healthy; then
			say "already up (state $state, apiserver https://127.0.0.1:$apiserver_port)"
			return 0
		fi
		say "found a stopped or broken instance in $state; removing it and starting afresh"
		stop_all
	fi
	remove_state
	load_ports
	check_ports_free
	[[ -x "$bin/kube-apiserver" ]] || die "binaries missing in $bin; run scripts/cluster.sh build"

	local t0
	t0=$(now_ms)
	mkdir -p "$state/logs" "$state/pids"
	touch "$state/$marker"
	save_ports
	gen_pki
	kubeconfig "$state/kubeconfig" admin previewd-admin
	kubeconfig "$state/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
	kubeconfig "$state/scheduler.kubeconfig" scheduler system:kube-scheduler

	start_etcd
	wait_for etcd 30 "etcd health" etcd_healthy
	start_apiserver
	wait_for kube-apiserver 120 "kube-apiserver /readyz" apiserver_ready
	say "kube-apiserver ready after $(since "$t0") s"
	start_controller_manager
	start_scheduler
	start_kwok
	create_node || failed kube-apiserver "could not create node $node_name"
	wait_for kube-controller-manager 60 "ServiceAccount default/default" default_sa_exists
	say "ServiceAccount default/default after $(since "$t0") s"
	wait_for kwok 60 "node $node_name Ready and untainted" node_ready
	say "node $node_name Ready and untainted after $(since "$t0") s"
	wait_for kube-scheduler 30 "kube-scheduler /healthz" https_healthz "$scheduler_port"
	wait_for kube-controller-manager 30 "kube-controller-manager /healthz" https_healthz "$controller_manager_port"
	wait_for kwok 30 "kwok /healthz" kwok_healthy
	say "up in $(since "$t0") s: apiserver https://127.0.0.1:$apiserver_port, kubeconfig $state/kubeconfig"
	say "use it with: eval \"\$(scripts/cluster.sh env)\""
}

cmd_down() {
	lock
	load_ports
	if [[ ! -e "$state" ]] || rmdir "$state" 2>/dev/null; then
		say "nothing to stop (no instance in $state)"
		return 0
	fi
	[[ -f "$state/$marker" ]] || die "refusing to touch $state: it was not created by scripts/cluster.sh (no $marker)"
	stop_all
	wait_ports_free
	remove_state
	say "down"
}

cmd_env() {
	printf 'export KUBECONFIG=%q\n' "$state/kubeconfig"
	printf 'export PREVIEWD_CLUSTER_DIR=%q\n' "$state"
	printf 'export PREVIEWD_CLUSTER_BIN=%q\n' "$bin"
	if [[ ":$PATH:" != *":$bin:"* ]]; then
		# shellcheck disable=SC2016 # $PATH is expanded by the eval, not here
		printf 'export PATH=%q:"$PATH"\n' "$bin"
	fi
	[[ -f "$state/kubeconfig" ]] || echo "cluster: note: no cluster is up in $state (run scripts/cluster.sh up)" >&2
}

cmd_status() {
	load_ports
	local c pid ok=0 health
	if [[ ! -f "$state/$marker" ]]; then
		say "not up ($state)"
		return 1
	fi
	for c in "${components[@]}"; do
		if pid=$(pid_of "$c"); then
			case $c in
			etcd) etcd_healthy && health=healthy || health=unhealthy ;;
			kube-apiserver) apiserver_ready && health=ready || health="not ready" ;;
			kube-controller-manager) https_healthz "$controller_manager_port" && health=healthy || health=unhealthy ;;
			kube-scheduler) https_healthz "$scheduler_port" && health=healthy || health=unhealthy ;;
			kwok) kwok_healthy && health=healthy || health=unhealthy ;;
			esac
			is_paused "$pid" && health=paused
			[[ $health == healthy || $health == ready ]] || ok=1
			printf '%-24s running (pid %s), %s\n' "$c" "$pid" "$health"
		else
			printf '%-24s not running\n' "$c"
			ok=1
		fi
	done
	if ((ok == 0)); then
		printf '%-24s %s\n' "node $node_name" "$(node_ready && echo Ready || echo "not Ready")"
		echo "apiserver https://127.0.0.1:$apiserver_port, kubeconfig $state/kubeconfig"
	fi
	return "$ok"
}

cmd_restart_apiserver() {
	lock
	load_ports
	pid_of kube-apiserver >/dev/null || die "kube-apiserver is not running in $state"
	local t0
	t0=$(now_ms)
	stop kube-apiserver
	while port_in_use "$apiserver_port"; do sleep 0.1; done
	start_apiserver
	wait_for kube-apiserver 120 "kube-apiserver /readyz" apiserver_ready
	say "kube-apiserver restarted (pid $(pid_of kube-apiserver)) and ready in $(since "$t0") s"
}

cmd_signal_etcd() { # cmd_signal_etcd STOP|CONT
	local pid
	pid=$(pid_of etcd) || die "etcd is not running in $state"
	kill "-$1" "$pid"
	say "etcd (pid $pid) $([[ $1 == STOP ]] && echo paused || echo resumed)"
}

case "${1:-}" in
build) exec "$repo/scripts/cluster-build.sh" ;;
up) cmd_up ;;
down) cmd_down ;;
env) cmd_env ;;
status) cmd_status ;;
restart-apiserver) cmd_restart_apiserver ;;
pause-etcd) cmd_signal_etcd STOP ;;
resume-etcd) cmd_signal_etcd CONT ;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
