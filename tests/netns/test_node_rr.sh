#!/bin/bash
# leafnetd as a route reflector (RFC 4456, `netctl node rr`): two reflector
# nodes with one cluster id and four client nodes, all in the default node
# AS 64511, on one L2 segment, no ToR, node-mesh off.
#
#   rr1 10.0.0.1  rr2 10.0.0.2  c1 10.0.0.3  c2 10.0.0.4  c3 10.0.0.5  c4 10.0.0.6
#       \            |             |            |            |            /
#        +---------------- br0 in the fabric netns (BIRD 10.0.0.254) ----+
#
# Each node is a namespace with its own leafnetd and config on one shared
# state directory (as in test_bgp_mesh.sh).  Every client has one container
# (CNI).  BIRD in the fabric netns is a node-specific iBGP peer of rr1 only,
# a non-client that exports nothing: it shows what rr1 reflects, with
# BGP.originator_id and BGP.cluster_list.
#
# Checks: the peerings come from the node records alone (each client with
# both reflectors and no other client, each reflector with all five other
# nodes; roles in `netctl status`); every client's /32 reaches every other
# client's kernel as proto 77 via the owning client (next hop unchanged),
# learned from both reflectors; BIRD sees a client's route with
# ORIGINATOR_ID = that client and CLUSTER_LIST = 244.0.0.1, and not its
# own AS in the path; every client pings every other client's container
# directly (TTL 62: the reflectors forward nothing); rr1's leafnetd
# SIGKILLed by PID mid-ping: no ping lost, routes unchanged, everything
# still learned from rr2 (rr1's kept as stale: graceful restart); DEL
# withdraws through rr2 alone, rr1's stale copy goes at its End-of-RIB
# once rr1 is restarted, and reflection is back for everyone.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
t_init
t_require "$BIN/leafnet" "$BIN/netctl" "$BIN/leafnetd" bird birdc ping

AS=64511
CID=244.0.0.1
OBS=10.0.0.254

# ------------------------------------------------------------- topology
mkns FAB
ip -n "$FAB" link add br0 type bridge && ip -n "$FAB" link set br0 up &&
ip -n "$FAB" addr add "$OBS/24" dev br0 || bail "bridge in $FAB"
ip netns exec "$FAB" sysctl -qw net.ipv4.ip_forward=0 || bail "ip_forward off in $FAB"

declare -A HOSTNS CONF RIP MAC
NODES="rr1 rr2 c1 c2 c3 c4"
CLIENTS="c1 c2 c3 c4"
n=0
for l in $NODES; do
	n=$((n + 1))
	mkhost hns "10.255.$n.1" "fd00:ff::$n"
	HOSTNS[$l]=$hns
	RIP[$l]=10.0.0.$n
	ip link add ln-h$n-$$ netns "$hns" type veth peer name ln-f$n-$$ netns "$FAB" || bail "veth $l"
	ip -n "$hns" link set "ln-h$n-$$" name uplink && ip -n "$FAB" link set "ln-f$n-$$" name "port$n" &&
	ip -n "$FAB" link set "port$n" master br0 && ip -n "$FAB" link set "port$n" up &&
	ip -n "$hns" addr add "10.0.0.$n/24" dev uplink && ip -n "$hns" link set uplink up ||
		bail "$l link"
	MAC[$l]=$(ip -n "$hns" -j link show uplink | jq -r '.[0].address')
	CONF[$l]=$T_TMP/$l.conf
	ld_conf "${CONF[$l]}" "$l" "$T_TMP/state"
done
# Seven namespaces on one segment: pin every neighbour entry, so the
# shared kernel neighbour table sees no churn (and no ARP wait).
MAC[obs]=$(ip -n "$FAB" -j link show br0 | jq -r '.[0].address')
for l in $NODES; do
	for o in $NODES; do
		[ "$o" = "$l" ] && continue
		ip -n "${HOSTNS[$l]}" neigh replace "${RIP[$o]}" lladdr "${MAC[$o]}" dev uplink nud permanent ||
			bail "neighbour $o on $l"
	done
	ip -n "${HOSTNS[$l]}" neigh replace "$OBS" lladdr "${MAC[obs]}" dev uplink nud permanent &&
	ip -n "$FAB" neigh replace "${RIP[$l]}" lladdr "${MAC[$l]}" dev br0 nud permanent ||
		bail "neighbour entries of $l"
done

bird_init obs "$FAB" "$OBS"
BIRD_PEER_EXTRA="direct;" bird_peer obs rr1 "$OBS" "$AS" "${RIP[rr1]}" "$AS" none
bird_start obs

hctl() { local l=$1; shift; T_CONF=${CONF[$l]} nctl_ok "$@"; }

hctl rr1 "network flat (/32s)" network create flat --subnet=192.168.1.0/24 --no-aggregate
hctl rr1 "node-mesh off" bgp node-mesh off
for l in $NODES; do
	hctl "$l" "node set $l" node set "$l" --router-ip="${RIP[$l]}/24"
done
hctl rr1 "rr1 a reflector" node rr rr1 on --cluster-id="$CID"
hctl rr1 "rr2 a reflector" node rr rr2 on --cluster-id="$CID"
hctl rr1 "BIRD a non-client peer of rr1" node bgp peer add "$OBS" as "$AS" --node rr1

T_CONF=${CONF[c1]} nctl node show rr2 -o json
assert_eq "node show: rr2 is a reflector with cluster id $CID" "true $CID" \
	"$(jqv "$NCTL_OUT" '"\(.rr) \(.cluster_id)"')"
T_CONF=${CONF[c1]} nctl node show rr1
assert_contains "node show rr1: the reflector line" "$NCTL_OUT" "Reflector:     yes, cluster id $CID"
T_CONF=${CONF[c1]} nctl node show c1 -o json
assert_eq "node show: c1 is no reflector" "false null" "$(jqv "$NCTL_OUT" '"\(.rr) \(.cluster_id)"')"
T_CONF=${CONF[c1]} nctl node rr c1 maybe
assert_eq "node rr NAME maybe: usage error" 2 "$NCTL_RC"
T_CONF=${CONF[c1]} nctl node rr c1 on --cluster-id=fd00::1
assert_eq "node rr --cluster-id=IPv6: usage error" 2 "$NCTL_RC"
assert_contains "... naming the flag" "$NCTL_ERR" "--cluster-id"

for l in $NODES; do ld_start "$l" "${HOSTNS[$l]}" "${CONF[$l]}"; done

# ------------------------------------------------------------- helpers
learned() {
	ip -n "$1" -4 route show proto 77 exact "$2" 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "via") print $(i + 1) }' | sort -u | xargs
}
n_learned() { count_lines ip -n "$1" -4 route show proto 77; }
wait_eq() {
	local t=$1 exp=$2 i
	shift 2
	for i in $(seq 1 $((t * 10))); do
		[ "$("$@" 2>/dev/null)" = "$exp" ] && return 0
		sleep 0.1
	done
	return 1
}
assert_wait() {
	local what=$1 t=$2 exp=$3
	shift 3
	if wait_eq "$t" "$exp" "$@"; then ok "$what"; return 0; fi
	notok "$what" "expected '$exp' within $t s, got '$("$@" 2>/dev/null | xargs | cut -c1-300)'"
	return 1
}
# peers_up TAG: "address/role" of TAG's Established IPv4 peers, sorted.
peers_up() {
	jq -r '[(.peers // [])[] | select(.state == "Established") | "\(.address)/\(.role)"] |
		sort | join(" ")' <<<"$(ld_status "$1" -o json)" 2>/dev/null
}
# received TAG PEER: prefixes TAG holds from PEER.
received() {
	jq -r --arg p "$2" '[(.peers // [])[] | select(.address == $p) | .received][0] // empty' \
		<<<"$(ld_status "$1" -o json)" 2>/dev/null
}
# recv_list TAG NODE...: what TAG holds from each NODE, in that order.
recv_list() {
	local t=$1 o
	shift
	for o in "$@"; do received "$t" "${RIP[$o]}"; done | xargs
}
expect_up() {
	local l=$1 why=$2 o want=
	if [ "${l#rr}" != "$l" ]; then
		for o in $NODES; do
			[ "$o" = "$l" ] && continue
			if [ "${o#rr}" != "$o" ]; then want+="${RIP[$o]}/rr "; else want+="${RIP[$o]}/rr-client "; fi
		done
		[ "$l" = rr1 ] && want+="$OBS/tor"
	else
		want="${RIP[rr1]}/rr ${RIP[rr2]}/rr"
	fi
	want=$(tr ' ' '\n' <<<"$want" | grep . | sort | xargs)
	if ! assert_wait "$l: exactly its reflector peerings Established ($why)" 20 "$want" peers_up "$l"; then
		ld_status "$l" | sed 's/^/#   /' >&2
	fi
}

# ------------------------------------------------------------ sessions
for l in $NODES; do expect_up "$l" start; done
assert_bird_established "BIRD: its session to rr1 Established" obs rr1 10
ST=$(ld_status rr1)
assert_match "rr1's status table: a client row says rr client" \
	"$(grep -F "${RIP[c1]} " <<<"$ST")" "rr client.*up.*Established"
assert_match "rr1's status table: rr2's row says route reflector" \
	"$(grep -F "${RIP[rr2]} " <<<"$ST")" "route reflector.*up.*Established"
assert_match "c1's status table: rr1's row says route reflector" \
	"$(ld_status c1 | grep -F "${RIP[rr1]} ")" "route reflector.*up.*Established"
assert_eq "rr1's status: its cluster id" "$CID" "$(jqv "$(ld_status rr1 -o json)" .cluster_id)"

# --------------------------------------------------------- reflection
declare -A ADDR CT
cni_conf flat 1.1.0
for l in $CLIENTS; do
	mkcontainer c
	CT[$l]=$c
	T_CONF=${CONF[$l]} cni_add "${HOSTNS[$l]}" "ctr-rr-$l" "$c" eth0
	cni_expect_ok "ADD a container on $l" || bail "ADD on $l" "nothing else can be tested"
	ADDR[$l]=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
done
diag "containers: c1 ${ADDR[c1]} c2 ${ADDR[c2]} c3 ${ADDR[c3]} c4 ${ADDR[c4]}"

for l in $CLIENTS; do
	for o in $CLIENTS; do
		[ "$o" = "$l" ] && continue
		if ! assert_wait "$o's kernel: $l's /32 via $l (${RIP[$l]}, proto 77)" \
			5 "${RIP[$l]}" learned "${HOSTNS[$o]}" "${ADDR[$l]}/32"; then
			tail -5 "$T_TMP/leafnetd-$o.log" | sed 's/^/#   /' >&2
		fi
	done
	assert_eq "$l did not get its own /32 back" "" "$(learned "${HOSTNS[$l]}" "${ADDR[$l]}/32")"
	assert_wait "$l learned exactly the three other /32s" 3 3 n_learned "${HOSTNS[$l]}"
	for r in rr1 rr2; do
		assert_wait "$l holds the three other /32s from $r too" 5 3 received "$l" "${RIP[$r]}"
	done
done
for r in rr1 rr2; do
	other=rr1
	[ "$r" = rr1 ] && other=rr2
	assert_wait "$r installed the four clients' /32s" 3 4 n_learned "${HOSTNS[$r]}"
	assert_wait "$r holds one /32 from each client, none from $other (its copies carry our cluster id)" \
		3 "1 1 1 1 0" recv_list "$r" $CLIENTS "$other"
done

# what rr1 reflects, as a non-client sees it
if assert_bird_route "BIRD got c1's /32 from rr1, next hop c1" obs "${ADDR[c1]}/32" "${RIP[c1]}" 5; then
	assert_eq "BIRD: c1's /32 has ORIGINATOR_ID c1" "${RIP[c1]}" \
		"$(bird_attr obs "${ADDR[c1]}/32" BGP.originator_id)"
	assert_eq "BIRD: c1's /32 has CLUSTER_LIST $CID" "$CID" \
		"$(bird_attr obs "${ADDR[c1]}/32" BGP.cluster_list | xargs)"
	assert_eq "BIRD: c1's /32 has BGP.next_hop c1" "${RIP[c1]}" \
		"$(bird_attr obs "${ADDR[c1]}/32" BGP.next_hop)"
	assert_eq "BIRD: c1's /32 has an empty AS_PATH (iBGP)" "" \
		"$(bird_attr obs "${ADDR[c1]}/32" BGP.as_path)"
fi
assert_bird_route "BIRD got c4's /32 from rr1, next hop c4" obs "${ADDR[c4]}/32" "${RIP[c4]}" 5
assert_eq "BIRD: c4's /32 has ORIGINATOR_ID c4" "${RIP[c4]}" \
	"$(bird_attr obs "${ADDR[c4]}/32" BGP.originator_id)"

for l in $CLIENTS; do
	for o in $CLIENTS; do
		[ "$o" = "$l" ] && continue
		ping_ok "container on $l -> container on $o" "${CT[$l]}" "${ADDR[$o]}"
	done
done
assert_match "c1 -> c2 is direct, not through a reflector (TTL 62)" \
	"$(ip netns exec "${CT[c1]}" ping -c 1 -W 1 "${ADDR[c2]}" 2>&1)" 'ttl=62'

# ------------------------------------------------- rr1 killed by PID
# A 20 ms ping from c1's container to c3's runs while rr1's leafnetd is
# SIGKILLed: the clients' sessions to rr1 drop (its kernel closes the
# sockets), the routes learned from rr1 stay as stale (graceful restart
# helper, RFC 4724), those from rr2 stay; the kernel route never changes,
# so no packet is lost.
ROUTES_BEFORE=$(for l in $CLIENTS; do ip -n "${HOSTNS[$l]}" -4 route show proto 77; done | sort)
ip netns exec "${CT[c1]}" ping -i 0.02 -c 150 -W 1 "${ADDR[c3]}" >"$T_TMP/ping-kill.out" 2>&1 &
PING=$!
t_register_pid "$PING"
sleep 1
kill -KILL "${LD_PID[rr1]}"
wait "${LD_PID[rr1]}" 2>/dev/null
LD_PID[rr1]=
for l in $CLIENTS; do
	assert_wait "rr1 killed -> $l's session to rr1 is down" 5 "${RIP[rr2]}/rr" peers_up "$l"
done
wait "$PING"
assert_match "rr1 killed mid-ping -> 0 of 150 pings c1 -> c3 lost" \
	"$(cat "$T_TMP/ping-kill.out")" ' 150 received'
assert_eq "rr1 killed -> no learned route changed in any client" "$ROUTES_BEFORE" \
	"$(for l in $CLIENTS; do ip -n "${HOSTNS[$l]}" -4 route show proto 77; done | sort)"
for l in $CLIENTS; do
	assert_wait "rr1 killed -> $l still holds the three other /32s from rr2" 3 3 received "$l" "${RIP[rr2]}"
	assert_eq "rr1 killed -> $l still has the three other /32s" 3 "$(n_learned "${HOSTNS[$l]}")"
	for o in $CLIENTS; do
		[ "$o" = "$l" ] && continue
		ping_ok "rr1 killed -> container on $l -> container on $o" "${CT[$l]}" "${ADDR[$o]}"
	done
done
bird_up() { [ "$(bird_proto_state obs rr1)" = Established ] && echo yes || echo no; }
# (BIRD, a graceful-restart helper, keeps what rr1 sent as stale routes)
assert_wait "rr1 killed -> BIRD's session to rr1 is down" 5 no bird_up

# DEL with rr2 alone: rr2 withdraws it at once; the copy rr1 reflected
# before it died stays, stale, in the clients (a withdrawal cannot come
# through a dead peer) until rr1 is back and sends its End-of-RIB, or
# its restart time runs out
stale_from() {
	jq -r --arg p "$2" '[(.peers // [])[] | select(.address == $p) |
		.graceful_restart.stale_routes][0] // empty' <<<"$(ld_status "$1" -o json)" 2>/dev/null
}
T_CONF=${CONF[c2]} cni_del "${HOSTNS[c2]}" ctr-rr-c2 "${CT[c2]}" eth0
cni_expect_ok "DEL the container on c2"
for o in c1 c3 c4; do
	assert_wait "DEL (rr2 alone) -> rr2 withdrew c2's /32 from $o" 3 2 received "$o" "${RIP[rr2]}"
	assert_eq "DEL (rr2 alone) -> $o keeps rr1's three routes, stale, until rr1 is back" 3 \
		"$(stale_from "$o" "${RIP[rr1]}")"
done

# ------------------------------------------------------ rr1 restarted
ld_start rr1 "${HOSTNS[rr1]}" "${CONF[rr1]}"
for l in $NODES; do expect_up "$l" "rr1 restarted"; done
for l in c1 c3 c4; do
	assert_wait "rr1 restarted -> $l holds the two other /32s from rr1 again" 5 2 received "$l" "${RIP[rr1]}"
	assert_wait "rr1 restarted -> its End-of-RIB removed the stale copy: c2's /32 gone from $l's kernel" 5 "" \
		learned "${HOSTNS[$l]}" "${ADDR[c2]}/32"
done
assert_bird_route "rr1 restarted -> BIRD has c3's /32 again" obs "${ADDR[c3]}/32" "${RIP[c3]}" 10
assert_eq "rr1 restarted -> BIRD: c3's /32 has CLUSTER_LIST $CID" "$CID" \
	"$(bird_attr obs "${ADDR[c3]}/32" BGP.cluster_list | xargs)"
ping_ok "rr1 restarted -> container on c4 -> container on c1" "${CT[c4]}" "${ADDR[c1]}"

# ----------------------------------------------------------- teardown
cni_conf flat 1.1.0
for l in c1 c3 c4; do
	T_CONF=${CONF[$l]} cni_del "${HOSTNS[$l]}" "ctr-rr-$l" "${CT[$l]}" eth0
	cni_expect_ok "DEL the container on $l"
done
for l in $CLIENTS; do
	assert_wait "$l: nothing learned at the end" 3 0 n_learned "${HOSTNS[$l]}"
done
for l in $NODES; do
	ld_stop "$l"
	assert_eq "$l: leafnetd exits 0 on SIGTERM" 0 "$?"
done
bird_stop_all
t_done
