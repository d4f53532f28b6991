# tests/etcd.sh — a real etcd (Debian etcd-server) in a network namespace of
# its own, for netns tests; source it after lib.sh.  etcd listens only in
# that namespace: on its loopback and on the etcd-side ends of the veths
# etcd_wire made, so host namespaces reach it and nothing else does.
#
#   etcd_ns_init            PORT, PEER_PORT (random) and the namespace $E
#   etcd_wire HOSTNS N      a veth HOSTNS <-> $E: 10.254.N.1/30 on the host,
#                           10.254.N.2/30 on etcd's side (URL<N>)
#   etcd_ns_start NAME      etcd on $LOCAL and every wired address; waits
#                           until healthy (bails otherwise); ETCD_PID
#   etcd_grpc_counts        "METHOD COUNT" per unary gRPC method handled so
#                           far (the JSON gateway's kv/txn/lease calls)
#   etcd_grpc_total         their sum
#   etcd_delta BEFORE AFTER [METHOD]
#                           requests between two etcd_grpc_counts (of METHOD)
#   etcd_node_conf FILE NODE [ENDPOINT]
#                           a leafnet.conf from $T_CONF: datastore etcd at
#                           ENDPOINT ($LOCAL), node_name NODE, a state
#                           directory and control socket of its own (so
#                           each "host" has its own local lock and note)
#   etcd_ipam_only NETWORK  CNI_PLUGIN, CNI_CONF: leafnet-ipam alone on
#                           NETWORK, and CNI_NETNS's container $C (an IPAM
#                           plugin is given one and touches nothing)

etcd_ns_init() {
	PORT=$((20000 + RANDOM % 20000))
	PEER_PORT=$((PORT + 1))
	LOCAL=http://127.0.0.1:$PORT
	ETCD_URLS=$LOCAL
	mkns E
}

etcd_wire() {
	local h=$1 n=$2 a b
	a=lfeh$n.$$ b=lfee$n.$$
	a=${a:0:15} b=${b:0:15}
	ip -n "$h" link add "$a" type veth peer name "$b" netns "$E" || bail "veth to host $n"
	ip -n "$h" addr add "10.254.$n.1/30" dev "$a" || bail "address host $n"
	ip -n "$E" addr add "10.254.$n.2/30" dev "$b" || bail "address etcd $n"
	ip -n "$h" link set "$a" up && ip -n "$E" link set "$b" up || bail "veth up $n"
	printf -v "URL$n" 'http://10.254.%s.2:%s' "$n" "$PORT"
	ETCD_URLS=$ETCD_URLS,http://10.254.$n.2:$PORT
}

etcd_ns_start() {
	local name=$1
	ip netns exec "$E" etcd --name "$name" --data-dir "$T_TMP/etcd" \
		--listen-client-urls "$ETCD_URLS" --advertise-client-urls "$LOCAL" \
		--listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
		--initial-cluster "$name=http://127.0.0.1:$PEER_PORT" \
		>>"$T_TMP/etcd.out" 2>&1 &
	ETCD_PID=$!
	t_register_pid "$ETCD_PID"
	for _ in $(seq 1 100); do
		ip netns exec "$E" curl -sf -m 1 "$LOCAL/health" >/dev/null 2>&1 && break
		kill -0 "$ETCD_PID" 2>/dev/null ||
			bail "etcd start" "exited: $(tail -3 "$T_TMP/etcd.out")"
		sleep 0.1
	done
	ip netns exec "$E" curl -sf -m 1 "$LOCAL/health" >/dev/null 2>&1 ||
		bail "etcd start" "not healthy after 10 s"
	ok "etcd $(etcd --version | head -1 | awk '{print $3}') up in its namespace on port $PORT"
}

etcd_grpc_counts() {
	ip netns exec "$E" curl -sf -m 5 "$LOCAL/metrics" |
		awk '/^grpc_server_handled_total\{/ && /grpc_type="unary"/ {
			m = $0; sub(/.*grpc_method="/, "", m); sub(/".*/, "", m); c[m] += $2 }
		     END { for (m in c) print m, c[m] }'
}

etcd_grpc_total() { etcd_grpc_counts | awk '{ n += $2 } END { printf "%d\n", n }'; }

etcd_delta() {
	awk -v want="${3:-}" 'NR == FNR { b[$1] = $2; next }
		{ if (want == "" || $1 == want) s += $2 - b[$1] } END { print s + 0 }' \
		<(echo "$1") <(echo "$2")
}

etcd_node_conf() {
	jq --arg node "$2" --arg ep "${3:-$LOCAL}" --arg state "$T_TMP/state-$2" \
		--arg sock "$T_TMP/$2.sock" \
		'.datastore = "etcd" | .etcd_endpoints = $ep | .node_name = $node |
		 .state_dir = $state | .control_socket = $sock' \
		"$T_CONF" >"$1" || bail "config $1"
}

etcd_ipam_only() {
	CNI_PLUGIN=$BIN/leafnet-ipam
	CNI_CONF=$(jq -nc --arg net "$1" '{cniVersion: "1.1.0", name: $net,
		type: "some-plugin", ipam: {type: "leafnet-ipam", network: $net}}')
	mkcontainer C
}
