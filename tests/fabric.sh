# tests/fabric.sh — a two-rack leaf/spine fabric in namespaces, for the
# fabric model tests (test_fabric_*.sh).  Source it after tests/lib.sh and
# tests/bird.sh, then t_init:
#
#	. "$(dirname "$0")/../lib.sh"
#	. "$(dirname "$0")/../bird.sh"
#	. "$(dirname "$0")/../fabric.sh"
#	t_init
#	fab_topology                     # 4 hosts, 2 ToRs, a spine, links, neighbours
#	fab_spine_start as-per-rack      # BIRD spine (AS 65000)
#	fab_tor_start as-per-rack 1 bird # ToR of rack 1: bird, frr or gobgp
#	fab_netctl "$CMDS"               # the operator's netctl lines, one per line
#	fab_leafnetd_start               # leafnetd on every host
#	fab_containers                   # containers, one block per host
#
#                          spine (AS 65000)
#                 10.0.1.1 /            \ 10.0.2.1
#                10.0.1.2 /              \ 10.0.2.2
#                     tor1                tor2
#               10.1.0.254 (bridge)     10.2.0.254 (bridge)
#                 /       \               /       \
#           host11       host12     host21       host22
#          10.1.0.1     10.1.0.2   10.2.0.1     10.2.0.2
#
# Every host is a netns with its own leafnetd and leafnet.conf (node_name
# hostRJ, own control socket and log), all four on ONE state directory
# (the file store is safe across processes: blocks are claimed once, as
# with a shared etcd).  A rack is one L2 segment: a bridge "rack" in the
# ToR's netns, the ToR's address on it, one veth per host.  The ToR and
# spine namespaces forward.  Every neighbour entry on a fabric link is
# pinned permanent (no ARP on the way, and nothing for the kernel's shared
# neighbour table to collect while the test runs).
#
# The ToRs' configurations come from fab_*_conf: the same text the README's
# "Fabrics" section shows for rack 1 (fab_assert_readme checks that).
#
# Host RJ (rack R, J-th host) is "hostRJ" with router IP 10.R.0.J/24; its
# AS in the AS-per-compute-server model is 42000000RJ (4-octet private).

declare -A FAB_NS=() FAB_CONF=() FAB_CADDR=() FAB_CNS=() FAB_TOR_IMPL=()
FAB_HOSTS="host11 host12 host21 host22"

fab_rack()      { local h=$1; printf '%s' "${h:4:1}"; }          # host21 -> 2
fab_host_ip()   { local h=$1; printf '10.%s.0.%s' "${h:4:1}" "${h:5:1}"; }
fab_tor_ip()    { printf '10.%s.0.254' "$1"; }                  # on the rack bridge
fab_tor_up_ip() { printf '10.0.%s.2' "$1"; }                    # toward the spine
fab_spine_ip()  { printf '10.0.%s.1' "$1"; }                    # toward ToR R
fab_hosts_of()  { local h; for h in $FAB_HOSTS; do [ "$(fab_rack "$h")" = "$1" ] && printf '%s ' "$h"; done; }

# fab_mac NS IF
fab_mac() { ip -n "$1" -j link show "$2" | jq -r '.[0].address'; }

# fab_pin NS IF IP MAC: a permanent neighbour entry.
fab_pin() {
	ip -n "$1" neigh replace "$3" lladdr "$4" dev "$2" nud permanent ||
		bail "pin neighbour $3 in $1"
}

# ------------------------------------------------------------- topology

fab_topology() {
	local r h ns hns up br mac
	mkns FAB_SPINE
	FAB_NS[spine]=$FAB_SPINE
	for r in 1 2; do
		mkns ns
		FAB_NS[tor$r]=$ns
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || bail "forwarding in tor$r"
		ip -n "$ns" link add rack type bridge && ip -n "$ns" link set rack up &&
		ip -n "$ns" addr add "$(fab_tor_ip $r)/24" dev rack || bail "rack bridge of tor$r"
		# ToR <-> spine
		ip link add "lfs-t$r-$$" netns "$ns" type veth peer name "lfs-s$r-$$" netns "$FAB_SPINE" ||
			bail "veth tor$r <-> spine"
		ip -n "$ns" link set "lfs-t$r-$$" name spine &&
		ip -n "$FAB_SPINE" link set "lfs-s$r-$$" name "tor$r" &&
		ip -n "$ns" addr add "$(fab_tor_up_ip $r)/30" dev spine &&
		ip -n "$FAB_SPINE" addr add "$(fab_spine_ip $r)/30" dev "tor$r" &&
		ip -n "$ns" link set spine up && ip -n "$FAB_SPINE" link set "tor$r" up ||
			bail "link tor$r <-> spine"
	done
	ip netns exec "$FAB_SPINE" sysctl -qw net.ipv4.ip_forward=1 || bail "forwarding in the spine"
	for h in $FAB_HOSTS; do
		r=$(fab_rack "$h")
		mkhost hns "10.255.0.${h:4:2}" "fd00:ff::${h:4:2}"	# (mkhost has its own $ns)
		ns=$hns
		FAB_NS[$h]=$ns
		ip link add "lfs-h${h:4:2}-$$" netns "$ns" type veth peer name "lfs-p${h:4:2}-$$" netns "${FAB_NS[tor$r]}" ||
			bail "veth $h <-> tor$r"
		ip -n "$ns" link set "lfs-h${h:4:2}-$$" name uplink &&
		ip -n "${FAB_NS[tor$r]}" link set "lfs-p${h:4:2}-$$" name "$h" master rack &&
		ip -n "$ns" addr add "$(fab_host_ip "$h")/24" dev uplink &&
		ip -n "$ns" link set uplink up && ip -n "${FAB_NS[tor$r]}" link set "$h" up ||
			bail "link $h <-> tor$r"
		FAB_CONF[$h]=$T_TMP/$h.conf
		ld_conf "${FAB_CONF[$h]}" "$h" "$T_TMP/state"
	done
	# every neighbour on the fabric's links, pinned (after the bridges have
	# all their ports: a bridge's MAC follows its ports until then)
	for r in 1 2; do
		ns=${FAB_NS[tor$r]}
		fab_pin "$ns" spine "$(fab_spine_ip $r)" "$(fab_mac "$FAB_SPINE" "tor$r")"
		fab_pin "$FAB_SPINE" "tor$r" "$(fab_tor_up_ip $r)" "$(fab_mac "$ns" spine)"
		br=$(fab_mac "$ns" rack)
		for h in $(fab_hosts_of $r); do
			mac=$(fab_mac "${FAB_NS[$h]}" uplink)
			fab_pin "$ns" rack "$(fab_host_ip "$h")" "$mac"
			fab_pin "${FAB_NS[$h]}" uplink "$(fab_tor_ip $r)" "$br"
			for up in $(fab_hosts_of $r); do
				[ "$up" = "$h" ] && continue
				fab_pin "${FAB_NS[$up]}" uplink "$(fab_host_ip "$h")" "$mac"
			done
		done
	done
}

# ------------------------------------------------------ the routers' configs
#
# MODEL: as-per-rack | as-per-server | downward-default.  The ToR's AS:
# rack R is AS 6500R in AS per rack and AS per compute server; both ToRs
# are AS 65001 in downward default (all hosts AS 64512 there).

fab_tor_as() { if [ "$1" = downward-default ]; then echo 65001; else echo "6500$2"; fi; }

# fab_host_as MODEL HOST
fab_host_as() {
	case $1 in
	as-per-rack)      fab_tor_as "$1" "$(fab_rack "$2")" ;;
	as-per-server)    echo "42000000${2:4:2}" ;;
	downward-default) echo 64512 ;;
	esac
}

# fab_bird_spine_conf MODEL: the spine's BIRD configuration.
fab_bird_spine_conf() {
	local m=$1
	cat <<EOF
router id 10.0.0.1;
protocol device { }
EOF
	if [ "$m" = downward-default ]; then
		cat <<EOF
# the default route the fabric hands down (the border would send it)
protocol static default4 { ipv4; route 0.0.0.0/0 blackhole; }
EOF
	fi
	cat <<EOF
protocol bgp tor1 {
	local 10.0.1.1 as 65000;
	neighbor 10.0.1.2 as $(fab_tor_as "$m" 1);
	ipv4 { import all; export all; };
}
protocol bgp tor2 {
	local 10.0.2.1 as 65000;
	neighbor 10.0.2.2 as $(fab_tor_as "$m" 2);
	ipv4 { import all; export all; };
}
protocol kernel { ipv4 { export where source != RTS_STATIC; }; }
EOF
}

# fab_bird_tor_conf MODEL R: ToR R's BIRD configuration.
fab_bird_tor_conf() {
	local m=$1 r=$2 tas h rr= exp='export all;' nhs=
	tas=$(fab_tor_as "$m" "$r")
	case $m in
	as-per-rack)
		# iBGP with the rack's hosts, reflecting between them; routes
		# from the spine go to the hosts with the ToR as next hop
		rr=$'\trr client;\n\tdirect;\n'
		nhs=' next hop self ebgp;' ;;
	downward-default)
		exp='export where net = 0.0.0.0/0;' ;;
	esac
	cat <<EOF
router id $(fab_tor_ip "$r");
protocol device { }
template bgp rack_host {
	local $(fab_tor_ip "$r") as $tas;
${rr}	ipv4 { import all; $exp$nhs };
}
EOF
	for h in $(fab_hosts_of "$r"); do
		printf 'protocol bgp %s from rack_host { neighbor %s as %s; }\n' \
			"$h" "$(fab_host_ip "$h")" "$(fab_host_as "$m" "$h")"
	done
	cat <<EOF
protocol bgp spine {
	local $(fab_tor_up_ip "$r") as $tas;
	neighbor $(fab_spine_ip "$r") as 65000;
	ipv4 { import all; export all; };
}
protocol kernel { ipv4 { export all; }; }
EOF
}

# fab_frr_tor_conf MODEL R: ToR R's bgpd configuration (FRR).
fab_frr_tor_conf() {
	local m=$1 r=$2 tas h
	tas=$(fab_tor_as "$m" "$r")
	cat <<EOF
frr defaults datacenter
hostname tor$r
router bgp $tas
 bgp router-id $(fab_tor_ip "$r")
 no bgp ebgp-requires-policy
EOF
	case $m in
	as-per-server)
		for h in $(fab_hosts_of "$r"); do
			printf ' neighbor %s remote-as %s\n' "$(fab_host_ip "$h")" "$(fab_host_as "$m" "$h")"
		done
		printf ' neighbor %s remote-as 65000\n' "$(fab_spine_ip "$r")"
		return ;;
	as-per-rack)
		printf ' neighbor rack peer-group\n neighbor rack remote-as internal\n' ;;
	downward-default)
		printf ' neighbor rack peer-group\n neighbor rack remote-as 64512\n' ;;
	esac
	for h in $(fab_hosts_of "$r"); do
		printf ' neighbor %s peer-group rack\n' "$(fab_host_ip "$h")"
	done
	printf ' neighbor %s remote-as 65000\n address-family ipv4 unicast\n' "$(fab_spine_ip "$r")"
	case $m in
	as-per-rack)
		printf '  neighbor rack route-reflector-client\n  neighbor rack next-hop-self\n' ;;
	downward-default)
		printf '  neighbor rack prefix-list default-only out\n' ;;
	esac
	printf ' exit-address-family\n'
	[ "$m" = downward-default ] && printf 'ip prefix-list default-only seq 5 permit 0.0.0.0/0\n'
	return 0
}

# fab_gobgp_tor_conf R: ToR R's gobgpd configuration (TOML), AS per rack.
fab_gobgp_tor_conf() {
	local r=$1 h
	cat <<EOF
[global.config]
  as = 6500$r
  router-id = "$(fab_tor_ip "$r")"
[global.apply-policy.config]
  export-policy-list = ["next-hop-self-ebgp"]
  default-export-policy = "accept-route"

[[policy-definitions]]
  name = "next-hop-self-ebgp"
  [[policy-definitions.statements]]
    name = "from-ebgp"
    [policy-definitions.statements.conditions.bgp-conditions]
      route-type = "external"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
    [policy-definitions.statements.actions.bgp-actions]
      set-next-hop = "self"
EOF
	for h in $(fab_hosts_of "$r"); do
		cat <<EOF

[[neighbors]]
  [neighbors.config]
    neighbor-address = "$(fab_host_ip "$h")"
    peer-as = 6500$r
  [neighbors.route-reflector.config]
    route-reflector-client = true
    route-reflector-cluster-id = "$(fab_tor_ip "$r")"
EOF
	done
	cat <<EOF

[[neighbors]]
  [neighbors.config]
    neighbor-address = "$(fab_spine_ip "$r")"
    peer-as = 65000
EOF
}

# fab_readme_block KEY: the fenced block that follows the line
# "<!-- fabric:KEY -->" in README.md, without the fences.
fab_readme_block() {
	awk -v k="<!-- fabric:$1 -->" '
		index($0, k) { want = 1; next }
		want && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$T_ROOT/README.md"
}

# fab_assert_readme KEY TEXT: the README shows exactly TEXT under KEY.
fab_assert_readme() {
	local got
	got=$(fab_readme_block "$1")
	if [ "$got" = "$2" ]; then
		ok "README's $1 is what this test runs"
		return 0
	fi
	notok "README's $1 is what this test runs" "differs"
	diff <(printf '%s\n' "$2") <(printf '%s\n' "$got") | head -20 | sed 's/^/#   /' >&2
	return 1
}

# ------------------------------------------------------- starting routers

# fab_bird_start NAME NETNS TEXT: BIRD with TEXT as its configuration
# (plus the log line), through bird.sh's start/stop/birdc helpers.
fab_bird_start() {
	local name=$1 ns=$2 text=$3
	bird_init "$name" "$ns" 0.0.0.0
	{ printf 'log "%s" all;\n' "$(bird_log "$name")"; printf '%s\n' "$text"; } >"$(bird_conf "$name")"
	bird_start "$name"
}

fab_spine_start() { fab_bird_start spine "$FAB_SPINE" "$(fab_bird_spine_conf "$1")"; }

# fab_tor_start MODEL R IMPL: ToR R as bird, frr or gobgp.
fab_tor_start() {
	local m=$1 r=$2 impl=$3
	FAB_TOR_IMPL[$r]=$impl
	case $impl in
	bird)  fab_bird_start "tor$r" "${FAB_NS[tor$r]}" "$(fab_bird_tor_conf "$m" "$r")" ;;
	frr)   frr_start "tor$r" "${FAB_NS[tor$r]}" "$(fab_frr_tor_conf "$m" "$r")" ;;
	gobgp) gobgp_start "tor$r" "${FAB_NS[tor$r]}" "$(fab_gobgp_tor_conf "$r")" ;;
	*)     bail "ToR $r" "unknown implementation '$impl'" ;;
	esac
}

# --------------------------------------------------------------- FRR
#
# zebra + bgpd in the ToR's netns, as user frr, with every file (config,
# pid, zserv socket, vty sockets, log) under $T_TMP/frr-NAME; vtysh reaches
# them with --vty_socket.  zebra programs the netns' FIB.  The daemons
# are stopped with SIGTERM also when the test fails (the EXIT trap runs
# frr_stop_all before lib.sh's cleanup): killed, FRR leaves its log
# buffers in /var/tmp/frr/DAEMON.PID behind.

declare -A FRR_DIR=() FRR_PIDS=()

frr_start() {
	local name=$1 ns=$2 text=$3 d i pid d_ok=
	t_require /usr/lib/frr/zebra /usr/lib/frr/bgpd vtysh
	d=$T_TMP/frr-$name
	FRR_DIR[$name]=$d
	trap 'frr_stop_all; t_cleanup' EXIT
	mkdir -p "$d" || bail "mkdir $d"
	chmod o+x "$T_TMP"	# the daemons run as frr: let them reach their dir
	printf 'hostname %s\n' "$name" >"$d/zebra.conf"
	printf '%s\n' "$text" >"$d/bgpd.conf"
	chown -R frr:frr "$d" || bail "chown $d"
	for i in zebra bgpd; do
		ip netns exec "$ns" "/usr/lib/frr/$i" -d -f "$d/$i.conf" -i "$d/$i.pid" \
			-z "$d/zserv.api" --vty_socket "$d" -P 0 --log "file:$d/$i.log" --log-level debug \
			>>"$d/$i.stderr" 2>&1 || bail "start FRR $i for $name" "$(tail -3 "$d/$i.stderr" "$d/$i.log" 2>/dev/null | xargs)"
		pid=$(cat "$d/$i.pid")
		t_register_pid "$pid"
		FRR_PIDS[$name]+="$pid:$(t_pid_start "$pid") "
	done
	for i in $(seq 1 200); do	# 20 s: a loaded machine is slow
		vtysh --vty_socket "$d" -c 'show bgp summary json' >/dev/null 2>&1 && d_ok=1 && break
		sleep 0.1
	done
	[ -n "$d_ok" ] || bail "start FRR $name" "vtysh gets no answer"
}

frr_vtysh() { local name=$1; shift; timeout 10 vtysh --vty_socket "${FRR_DIR[$name]}" -c "$*" 2>&1; }

# frr_stop NAME: SIGTERM to bgpd and zebra (while they are the processes
# we started: t_pid_ours), wait, SIGKILL if need be (and then remove the
# log buffer directory the killed daemon left).
frr_stop() {
	local name=$1 e pid n
	for e in ${FRR_PIDS[$name]:-}; do
		pid=${e%%:*}
		t_pid_ours "$e" || continue
		kill -TERM "$pid" 2>/dev/null || continue
		for n in $(seq 1 50); do t_pid_ours "$e" || break; sleep 0.1; done
		if t_pid_ours "$e" && kill -KILL "$pid" 2>/dev/null; then
			sleep 0.1
			rm -rf /var/tmp/frr/*."$pid"
		fi
	done
	FRR_PIDS[$name]=
}

frr_stop_all() {
	local name
	for name in "${!FRR_DIR[@]}"; do frr_stop "$name"; done
}

# --------------------------------------------------------------- GoBGP
#
# gobgpd in the ToR's netns, its gRPC API on 127.0.0.1:50051 of that netns
# (private to it), the gobgp CLI run in the same netns.

declare -A GOBGP_PID=() GOBGP_NS=()

gobgp_start() {
	local name=$1 ns=$2 text=$3 d i
	t_require gobgpd gobgp
	d=$T_TMP/gobgp-$name
	mkdir -p "$d" || bail "mkdir $d"
	printf '%s\n' "$text" >"$d/gobgpd.toml"
	ip netns exec "$ns" gobgpd -t toml -f "$d/gobgpd.toml" --api-hosts 127.0.0.1:50051 \
		-l info >"$d/gobgpd.log" 2>&1 &
	GOBGP_PID[$name]=$!:$(t_pid_start $!)
	GOBGP_NS[$name]=$ns
	t_register_pid "$!"
	for i in $(seq 1 200); do	# 20 s: a loaded machine is slow
		ip netns exec "$ns" gobgp global >/dev/null 2>&1 && return 0
		t_pid_ours "${GOBGP_PID[$name]}" ||
			bail "start gobgpd $name" "exited: $(tail -3 "$d/gobgpd.log" | xargs)"
		sleep 0.1
	done
	bail "start gobgpd $name" "gobgp gets no answer within 20 s"
}

gobgp_cli() { local name=$1; shift; ip netns exec "${GOBGP_NS[$name]}" timeout 10 gobgp "$@" 2>&1; }

gobgp_stop() {
	local e=${GOBGP_PID[$1]:-} n
	[ -n "$e" ] || return 0
	GOBGP_PID[$1]=
	t_pid_ours "$e" || return 0
	kill -TERM "${e%%:*}" 2>/dev/null
	for n in $(seq 1 50); do t_pid_ours "$e" || break; sleep 0.1; done
	t_pid_ours "$e" && kill -KILL "${e%%:*}" 2>/dev/null
	wait "${e%%:*}" 2>/dev/null
}

# gobgp_fib_sync NAME: put GoBGP's best paths into its netns' FIB (proto
# bgp), as a FIB agent would; GoBGP itself programs no kernel (see the
# header of test_fabric_as_per_rack.sh for why not through zebra).
gobgp_fib_sync() {
	local name=$1 p nh
	while read -r p nh; do
		[ -n "$p" ] && ip -n "${GOBGP_NS[$name]}" route replace "$p" via "$nh" proto bgp
	done < <(gobgp_cli "$name" global rib -a ipv4 -j | jq -r 'to_entries[] |
		.key as $p | .value[] | select(.best) |
		"\($p) \(.attrs[] | select(.type == 3) | .nexthop)"')
}

# ------------------------------------------------------------ observing

# fab_tor_routes R: ToR R's best IPv4 BGP routes as "prefix nexthop"
# lines, sorted (BIRD: `show route primary`; FRR: `show bgp ipv4 unicast`;
# GoBGP: `global rib`).
fab_tor_routes() {
	case ${FAB_TOR_IMPL[$1]} in
	bird)
		birdq "tor$1" show route primary table master4 |
			awk '$1 ~ /\// { p = $1 } $1 == "via" { print p, $2 }' | sort ;;
	frr)
		frr_vtysh "tor$1" 'show bgp ipv4 unicast json' | jq -r '.routes | to_entries[] |
			.key as $p | .value[] | select(.bestpath) | "\($p) \(.nexthops[0].ip)"' 2>/dev/null | sort ;;
	gobgp)
		gobgp_cli "tor$1" global rib -a ipv4 -j | jq -r 'to_entries[] | .key as $p |
			.value[] | select(.best) | "\($p) \(.attrs[] | select(.type == 3) | .nexthop)"' 2>/dev/null | sort ;;
	esac
}

# fab_tor_count R: the routes in ToR R's table: BIRD's own count
# (`show route count`), else the prefixes of fab_tor_routes.
fab_tor_count() {
	case ${FAB_TOR_IMPL[$1]} in
	bird) bird_count "tor$1" master4 ;;
	*)    fab_tor_routes "$1" | grep -c . ;;
	esac
}

# fab_tor_exported R HOST: the prefixes ToR R sends HOST, sorted.
fab_tor_exported() {
	case ${FAB_TOR_IMPL[$1]} in
	bird)  birdq "tor$1" show route export "$2" | awk '$1 ~ /\// { print $1 }' | sort ;;
	frr)   frr_vtysh "tor$1" "show bgp ipv4 unicast neighbors $(fab_host_ip "$2") advertised-routes json" |
			jq -r '.advertisedRoutes | keys[]' 2>/dev/null | sort ;;
	gobgp) gobgp_cli "tor$1" neighbor "$(fab_host_ip "$2")" adj-out -a ipv4 -j |
			jq -r 'keys[]' 2>/dev/null | sort ;;
	esac
}

# fab_tor_as_path R PREFIX: the AS_PATH of ToR R's best route for PREFIX.
fab_tor_as_path() {
	case ${FAB_TOR_IMPL[$1]} in
	bird) bird_attr "tor$1" "$2" BGP.as_path | xargs ;;
	frr)  frr_vtysh "tor$1" "show bgp ipv4 unicast $2 json" |
		jq -r '.paths[] | select(.bestpath.overall) | .aspath.string' 2>/dev/null | xargs ;;
	esac
}

# fab_tor_peer_as R HOST: the AS ToR R has learned HOST is in (from its OPEN).
fab_tor_peer_as() {
	case ${FAB_TOR_IMPL[$1]} in
	bird) birdq "tor$1" show protocols all "$2" | awk '$1 == "Neighbor" && $2 == "AS:" { print $3 }' ;;
	frr)  frr_vtysh "tor$1" "show bgp neighbors $(fab_host_ip "$2") json" |
		jq -r --arg a "$(fab_host_ip "$2")" '.[$a] | "\(.remoteAs) \(.bgpState)"' 2>/dev/null |
		awk '$2 == "Established" { print $1 }' ;;
	esac
}

# fab_wait_tor R N TIMEOUT: ToR R's table holds N routes.
fab_wait_tor() {
	local i
	for i in $(seq 1 $(($3 * 10))); do
		[ "$(fab_tor_count "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# fab_learned HOST: HOST's proto 77 routes as "prefix nexthop" lines, sorted.
fab_learned() {
	ip -n "${FAB_NS[$1]}" -4 route show proto 77 |
		awk '{ nh = "-"; for (i = 2; i < NF; i++) if ($i == "via") nh = $(i + 1); print $1, nh }' | sort
}

# fab_assert_learned WHAT HOST EXPECTED TIMEOUT: HOST's fab_learned
# becomes EXPECTED within TIMEOUT seconds.
fab_assert_learned() {
	local got i
	for i in $(seq 1 $(($4 * 10))); do
		got=$(fab_learned "$2")
		[ "$got" = "$3" ] && { ok "$1"; return 0; }
		sleep 0.1
	done
	notok "$1" "expected '$(echo $3)' within $4 s, got '$(echo $got)'"
	return 1
}

# fab_block ADDR: the /26 block an address is in (the tests' network is
# 10.100.0.0/16 with the default /26 blocks).
fab_block() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '%s.%s.%s.%s/26' "$a" "$b" "$c" $((d & 192))
}

# ------------------------------------------------------- netctl, leafnetd

# fab_netctl LINES: run each non-empty "netctl ..." line (words split on
# blanks, no quoting) with host11's config: all hosts share the store.
fab_netctl() {
	local line
	local -a w
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		read -r -a w <<<"$line"
		[ "${w[0]}" = netctl ] || bail "fab_netctl" "not a netctl line: $line"
		T_CONF=${FAB_CONF[host11]} nctl_ok "$line" "${w[@]:1}"
	done <<<"$1"
	ok "the operator's netctl commands all succeed"
}

# fab_leafnetd_start: leafnetd in every host (fab_assert_established
# then waits for the sessions).
fab_leafnetd_start() {
	local h
	for h in $FAB_HOSTS; do
		ld_start "$h" "${FAB_NS[$h]}" "${FAB_CONF[$h]}"
	done
}

# fab_status_json HOST: `netctl status -o json` of HOST; tried up to 10
# times (on a loaded machine netctl's 3 s for leafnetd's answer may run out).
fab_status_json() {
	local i st
	for i in $(seq 1 10); do
		st=$(ld_status "$1" -o json)
		jq -e .peers >/dev/null 2>&1 <<<"$st" && break
		sleep 0.5
	done
	printf '%s' "$st"
}

# fab_assert_established TIMEOUT: `netctl status` of every host shows its
# ToR Established (and nothing else: node-mesh is off in every model).
fab_assert_established() {
	local h tor st n
	for h in $FAB_HOSTS; do
		tor=$(fab_tor_ip "$(fab_rack "$h")")
		if ld_wait_established "$h" "$tor" "$1"; then
			ok "$h: netctl status shows ToR $tor Established"
		else
			notok "$h: netctl status shows ToR $tor Established" "$(ld_status "$h" | xargs | cut -c1-300)"
		fi
		st=$(fab_status_json "$h")
		n=$(jq '.peers | length' <<<"$st" 2>/dev/null)
		assert_eq "$h: its only peer is the ToR" "1 $tor" "$n $(jq -r '.peers[0].address' <<<"$st" 2>/dev/null)"
	done
}

# fab_containers: one container per host (and a second one on host11, in
# the same block), addresses in FAB_CADDR[HOST] (FAB_CADDR[host11b]).
fab_containers() {
	local h c id
	cni_conf public 1.1.0
	for h in $FAB_HOSTS host11b; do
		id=${h%b}
		mkcontainer c
		T_CONF=${FAB_CONF[$id]} cni_add "${FAB_NS[$id]}" "ctr-$h" "$c" eth0
		cni_expect_ok "ADD a container on $id ($h)" || bail "ADD on $id" "nothing else can be tested"
		FAB_CADDR[$h]=$(jqv "$CNI_OUT" '.ips[0].address | sub("/.*"; "")')
		FAB_CNS[$h]=$c
	done
	diag "containers: $(for h in $FAB_HOSTS host11b; do printf '%s=%s ' "$h" "${FAB_CADDR[$h]}"; done)"
}

# fab_blocks HOST...: the blocks of those hosts' containers, sorted.
fab_blocks() {
	local h
	for h in "$@"; do fab_block "${FAB_CADDR[$h]}"; echo; done | sort -u
}

# fab_assert_ping WHAT FROM TO TTL: FROM's container pings TO's, reply TTL.
fab_assert_ping() {
	local out
	out=$(ip netns exec "${FAB_CNS[$2]}" ping -c 1 -W 1 -w 5 "${FAB_CADDR[$3]}" 2>&1)
	assert_match "$1" "$out" "ttl=$4 "
}

# fab_stop_all: leafnetd (SIGTERM: exit 0 expected), then the routers.
fab_stop_all() {
	local h r
	for h in $FAB_HOSTS; do
		ld_stop "$h"
		assert_eq "$h: leafnetd exits 0 on SIGTERM" 0 "$?"
	done
	for r in 1 2; do
		case ${FAB_TOR_IMPL[$r]:-} in
		frr) frr_stop "tor$r" ;;
		gobgp) gobgp_stop "tor$r" ;;
		esac
	done
	bird_stop_all
}
