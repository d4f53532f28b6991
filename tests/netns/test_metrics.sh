#!/bin/bash
# leafnetd's Prometheus metrics: one node (a host netns running leafnetd,
# AS 65002, metrics_listen on 127.0.0.1:<random> inside it) and a BIRD 2
# ToR (AS 500) handing out a downward default.  Some CNI ADDs (one of them
# refused) and a few leafnet-docker requests report their operations.
#
# Checks: the scrape (curl, inside the node's netns) is the text format
# with # HELP/# TYPE, `promtool check metrics` passes on it; it shows the
# session Established with uptime, the prefix accepted from the ToR and
# the ones advertised, updates in/out, the RIB sizes, the pool usage of
# the network (allocated, free, blocks), build info and the CNI ADD
# counter and histogram (ok and error); a real Prometheus server (Debian's
# prometheus, storage in the temp dir, listening on 127.0.0.1 in the
# node's netns) scrapes leafnetd and PromQL over its HTTP API answers the
# Established session, the prefix count and the ADD rate / p99; a BIRD
# restart counts one flap and names the error; every query of the Grafana
# dashboard is valid PromQL; other paths are 404, POST 405;
# "metrics_listen": "" turns the listener off.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
. "$(dirname "$0")/../docker.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc curl promtool prometheus

NODE_AS=65002
TOR_AS=500
MPORT=$((20000 + RANDOM % 20000))
PPORT=$((MPORT + 1))
MURL=http://127.0.0.1:$MPORT

# ------------------------------------------------------------- topology
mkhost H
mkns TOR
mkcontainer C1
mkcontainer C2
mkcontainer C3
ip link add lt-n$$ netns "$H" type veth peer name lt-t$$ netns "$TOR" || bail "veth node <-> ToR"
ip -n "$H" link set lt-n$$ name uplink && ip -n "$TOR" link set lt-t$$ name down1 || bail "rename veths"
ip -n "$H" addr add 10.0.0.1/24 dev uplink && ip -n "$TOR" addr add 10.0.0.254/24 dev down1 &&
ip -n "$H" link set uplink up && ip -n "$TOR" link set down1 up || bail "veth addresses"
ip -n "$H" link set lo up

bird_init tor "$TOR" 10.0.0.254
bird_kernel tor fib
bird_default_route tor
bird_peer tor node1 10.0.0.254 "$TOR_AS" 10.0.0.1 "$NODE_AS" default default
bird_start tor

nctl_ok "network agg" network create agg --subnet=192.168.2.0/24
nctl_ok "bgp create" bgp create node1 --router-ip=10.0.0.1/24 --as=$NODE_AS \
	--neighbor-as=$TOR_AS --neighbor=10.0.0.254
nctl_ok "node-mesh off" bgp node-mesh off

jq --arg m "127.0.0.1:$MPORT" '.metrics_listen = $m' "$T_CONF" >"$T_CONF.new" &&
	mv "$T_CONF.new" "$T_CONF" || bail "metrics_listen in the config"
ld_start n1 "$H" "$T_CONF"

scrape() { ip netns exec "$H" curl -sS --max-time 5 "$MURL${1:-/metrics}"; }
# metric NAME LABEL-REGEX: the value of the first sample of NAME whose labels match
metric() {
	scrape | awk -v n="$1" -v re="${2:-}" '
		!done && $1 ~ "^" n "({|$)" && (re == "" || $1 ~ re) { print $2; done = 1 }'
}

# -------------------------------------------------- session + operations
ld_wait_established n1 10.0.0.254 15 && ok "peer 10.0.0.254 Established" ||
	{ notok "peer 10.0.0.254 Established" "$(ld_status n1 | xargs | cut -c1-300)"; bird_diag tor; }

v4_of() { jqv "$CNI_OUT" '[.ips[]?.address][0] // empty | sub("/.*"; "")'; }
cni_conf agg 1.1.0
cni_add "$H" ctr-m-1 "$C1" eth0
cni_expect_ok "ADD c1" || bail "ADD c1"
cni_add "$H" ctr-m-2 "$C2" eth0
cni_expect_ok "ADD c2"
cni_conf nosuchnet 1.1.0
cni_add "$H" ctr-m-3 "$C3" eth0
assert_ne "ADD on a missing network fails" 0 "$CNI_RC"
A1=$(v4_of)

dp_start "$H"
dpost Plugin.Activate '{}'
dp_expect_ok "docker Plugin.Activate"
dpost NetworkDriver.GetCapabilities '{}'
dp_expect_ok "docker GetCapabilities"
dpost NetworkDriver.CreateNetwork '{"NetworkID": 7}'
dp_stop

# --------------------------------------------------------------- scrape
wait_metric() {	# NAME LABEL-REGEX EXPECTED: the value reaches EXPECTED in 10 s
	local i got
	for i in $(seq 1 50); do
		got=$(metric "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.2
	done
	diag "$1{$2}: got '$got', want '$3'"
	return 1
}
wait_metric leafnet_plugin_operations_total 'verb="ADD".*result="ok"' 2 &&
	ok "CNI ADD ok counted twice" || notok "CNI ADD ok counted twice"
wait_metric leafnet_plugin_operations_total 'plugin="cni".*verb="ADD".*result="error"' 1 &&
	ok "the failed CNI ADD counted as an error" || notok "the failed CNI ADD counted as an error"
wait_metric leafnet_plugin_operations_total 'plugin="docker".*verb="Plugin.Activate"' 1 &&
	ok "docker Plugin.Activate counted" || notok "docker Plugin.Activate counted"
wait_metric leafnet_plugin_operations_total \
	'plugin="docker".*NetworkDriver.CreateNetwork".*result="error"' 1 &&
	ok "docker's refused CreateNetwork counted as an error" ||
	notok "docker's refused CreateNetwork counted as an error"
wait_metric leafnet_bgp_peer_prefixes_advertised 'peer="10.0.0.254"' 1 &&
	ok "one prefix (the /26 block) advertised to the ToR" ||
	notok "one prefix (the /26 block) advertised to the ToR"
# the pool figures come from the RIB's store read (every 10 s, sooner when a
# new route appears): wait for both allocations
wait_metric leafnet_network_addresses_allocated 'network="agg".*family="ipv4"' 2 &&
	ok "pool: 2 addresses allocated in agg" || notok "pool: 2 addresses allocated in agg"

scrape >"$T_TMP/scrape.txt"
assert_eq "scrape: HTTP 200 with the 0.0.4 content type" \
	"200 text/plain; version=0.0.4; charset=utf-8" \
	"$(ip netns exec "$H" curl -s -o /dev/null -w '%{http_code} %{content_type}' "$MURL/metrics")"
if promtool check metrics <"$T_TMP/scrape.txt" >"$T_TMP/promtool.out" 2>&1; then
	ok "promtool check metrics passes"
else
	notok "promtool check metrics passes" "$(head -5 "$T_TMP/promtool.out" | xargs)"
fi
S=$(cat "$T_TMP/scrape.txt")
assert_match "build info" "$S" 'leafnetd_build_info\{version="[0-9][^"]*",node="node1"\} 1'
assert_contains "# TYPE line of the session state" "$S" "# TYPE leafnet_bgp_peer_state gauge"
assert_contains "# HELP line of the session state" "$S" "# HELP leafnet_bgp_peer_state "
assert_eq "session state Established = 1" 1 \
	"$(metric leafnet_bgp_peer_state 'peer="10.0.0.254".*state="Established"')"
assert_eq "session state Idle = 0" 0 "$(metric leafnet_bgp_peer_state 'peer="10.0.0.254".*state="Idle"')"
assert_eq "peer labels: type and remote AS" 1 \
	"$(grep -c '^leafnet_bgp_peer_up{peer="10.0.0.254",type="node",remote_as="500"} 1$' <<<"$S")"
assert_eq "one prefix accepted (the downward default)" 1 \
	"$(metric leafnet_bgp_peer_prefixes_accepted 'peer="10.0.0.254"')"
assert_match "prefixes received >= accepted" "$(metric leafnet_bgp_peer_prefixes_received_total)" '^[1-9][0-9]*$'
assert_match "updates received counted" "$(metric leafnet_bgp_peer_updates_received_total)" '^[1-9][0-9]*$'
assert_match "updates sent counted" "$(metric leafnet_bgp_peer_updates_sent_total)" '^[1-9][0-9]*$'
assert_eq "no flap yet" 0 "$(metric leafnet_bgp_peer_flaps_total)"
assert_eq "RIB: two local routes" 2 "$(metric leafnet_rib_local_routes)"
assert_eq "RIB: one advertised prefix" 1 "$(metric leafnet_rib_advertised_prefixes)"
assert_eq "RIB: one learned route installed" 1 "$(metric leafnet_rib_learned_routes)"
assert_eq "route monitor resyncs exported" 1 "$(grep -c '^leafnet_route_monitor_resyncs_total [0-9]' <<<"$S")"
# /24: 256 - network - broadcast = 254 usable, 2 allocated
assert_eq "pool: 252 addresses free in agg" 252 \
	"$(metric leafnet_network_addresses_free 'network="agg".*family="ipv4"')"
assert_eq "pool: one block claimed" 1 "$(metric leafnet_network_blocks_claimed 'network="agg"')"
assert_eq "pool: one block claimed by this node" 1 \
	"$(metric leafnet_network_node_blocks_claimed 'network="agg"')"
assert_eq "ADD histogram: +Inf bucket = count = 2" "2 2" \
	"$(metric leafnet_plugin_operation_duration_seconds_bucket 'verb="ADD",result="ok",le="\+Inf"') $(metric leafnet_plugin_operation_duration_seconds_count 'verb="ADD",result="ok"')"
assert_match "ADD histogram: a sum of seconds" \
	"$(metric leafnet_plugin_operation_duration_seconds_sum 'verb="ADD",result="ok"')" '^[0-9.e+-]+$'
assert_eq "last error label empty so far" 1 \
	"$(grep -c '^leafnet_bgp_peer_last_error_info{peer="10.0.0.254".*error=""} 1$' <<<"$S")"
assert_eq "/healthz answers ok" ok "$(scrape /healthz)"
assert_eq "other paths: 404" 404 \
	"$(ip netns exec "$H" curl -s -o /dev/null -w '%{http_code}' "$MURL/nope")"
assert_eq "POST: 405" 405 \
	"$(ip netns exec "$H" curl -s -o /dev/null -w '%{http_code}' -d x "$MURL/metrics")"

# ----------------------------------------------------- a real Prometheus
mkdir -p "$T_TMP/prom" || bail "prometheus dir"
cat >"$T_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: leafnetd
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
ip netns exec "$H" prometheus --config.file="$T_TMP/prometheus.yml" \
	--storage.tsdb.path="$T_TMP/prom" --web.listen-address="127.0.0.1:$PPORT" \
	>"$T_TMP/prometheus.log" 2>&1 &
t_register_pid $!
PROM_PID=$!

# promql QUERY: the first result's value ("" when none)
promql() {
	ip netns exec "$H" curl -sS --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" \
		--data-urlencode "query=$1" 2>/dev/null | jq -r '.data.result[0].value[1] // empty'
}
wait_promql() {	# WHAT QUERY EXPECTED-REGEX [SECONDS]
	local i got
	for i in $(seq 1 $((${4:-40} * 2))); do
		got=$(promql "$2")
		[[ "$got" =~ $3 ]] && { ok "$1"; return 0; }
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.5
	done
	notok "$1" "got '$got' for $2; $(tail -3 "$T_TMP/prometheus.log" | xargs | cut -c1-300)"
	return 1
}
wait_promql "Prometheus: target leafnetd up" 'up{job="leafnetd"}' '^1$'
wait_promql "PromQL: the Established session" \
	'sum(leafnet_bgp_peer_state{job="leafnetd",peer="10.0.0.254",state="Established"})' '^1$'
wait_promql "PromQL: prefix count accepted from the ToR" \
	'sum(leafnet_bgp_peer_prefixes_accepted{peer="10.0.0.254"})' '^1$'
wait_promql "PromQL: prefixes advertised" 'sum(leafnet_bgp_peer_prefixes_advertised)' '^1$'
wait_promql "PromQL: CNI ADDs counted" \
	'sum(leafnet_plugin_operations_total{plugin="cni",verb="ADD",result="ok"})' '^2$'
# one more ADD while Prometheus watches: the counter moves
cni_conf agg 1.1.0
cni_add "$H" ctr-m-3 "$C3" eth0
cni_expect_ok "ADD c3"
wait_promql "PromQL: the ADD counter moved to 3" \
	'sum(leafnet_plugin_operations_total{plugin="cni",verb="ADD",result="ok"})' '^3$'
wait_promql "PromQL: ADD p99 latency from the histogram" \
	'histogram_quantile(0.99, sum by (le) (leafnet_plugin_operation_duration_seconds_bucket{verb="ADD",result="ok"}))' \
	'^[0-9.e+-]+$'
wait_promql "PromQL: pool usage ratio" \
	'sum(leafnet_network_addresses_allocated{network="agg"}) / (sum(leafnet_network_addresses_allocated{network="agg"}) + sum(leafnet_network_addresses_free{network="agg"}))' \
	'^0\.01[0-9]*$'

# every query of the shipped Grafana dashboard is valid PromQL (Prometheus
# answers "success"; some have no data here: no Docker Join was made)
DASH=$(dirname "$0")/../../packaging/grafana/leafnet.json
n_q=0; bad_q=
while IFS= read -r q; do
	q=${q//\$__rate_interval/1m}
	q=${q//\$instance/.*}
	n_q=$((n_q + 1))
	st=$(ip netns exec "$H" curl -sS --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" \
		--data-urlencode "query=$q" 2>/dev/null | jq -r .status)
	[ "$st" = success ] || bad_q="$bad_q [$q: $st]"
done < <(jq -r '.. | objects | select(has("expr")) | .expr' "$DASH")
[ "$n_q" -ge 15 ] && [ -z "$bad_q" ] && ok "Grafana dashboard: all $n_q queries are valid PromQL" ||
	notok "Grafana dashboard: all queries valid PromQL" "$n_q queries;$bad_q"

# -------------------------------------------------------------- a flap
bird_restart tor
for i in $(seq 1 100); do
	[ "$(metric leafnet_bgp_peer_flaps_total)" = 1 ] && [ "$(metric leafnet_bgp_peer_up)" = 1 ] && break
	sleep 0.2
done
assert_eq "BIRD restart: one flap, session back up" "1 1" \
	"$(metric leafnet_bgp_peer_flaps_total) $(metric leafnet_bgp_peer_up)"
assert_match "the last error is a label of the info gauge" \
	"$(scrape | grep '^leafnet_bgp_peer_last_error_info{peer="10.0.0.254"')" 'error="[^"]+"} 1$'

kill -TERM "$PROM_PID" 2>/dev/null
wait "$PROM_PID" 2>/dev/null

# --------------------------------------------------------- turned off
ld_stop n1
rc=$?
assert_eq "leafnetd exits 0 on SIGTERM" 0 "$rc"
jq '.metrics_listen = ""' "$T_CONF" >"$T_CONF.new" && mv "$T_CONF.new" "$T_CONF"
ld_start n1b "$H" "$T_CONF"
assert_fails "metrics_listen \"\": nothing listens" ip netns exec "$H" curl -s --max-time 2 "$MURL/metrics"
ld_stop n1b
t_done
