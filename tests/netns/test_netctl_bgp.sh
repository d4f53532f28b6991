#!/bin/bash
# netctl bgp default-node-as|node-mesh|peer|create and netctl node
# ls|show|bgp peer against a temp state dir (no namespaces needed): the
# calicoctl-style peer tables, -o json, every refusal (exit 2 for a bad
# value naming it, 1 for a conflict or an unknown name), and the store and
# its revision counter unchanged after each error.
T_NODE=h1
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/netctl"

# expect RC WHAT NEEDLE ARGS...: netctl ARGS exits RC and its stderr
# contains NEEDLE (fixed string; "" = anything).
expect() {
	local rc=$1 what=$2 needle=$3
	shift 3
	nctl "$@"
	if [ "$NCTL_RC" != "$rc" ]; then
		notok "$what" "netctl $* exited $NCTL_RC, expected $rc; stderr: $NCTL_ERR"
		return 1
	fi
	if [ -n "$needle" ] && ! grep -qF -- "$needle" <<<"$NCTL_ERR"; then
		notok "$what" "exit $rc ok but stderr lacks '$needle': $NCTL_ERR"
		return 1
	fi
	ok "$what"
}

# Everything netctl shows about BGP, plus the revision counter.
snapshot() {
	local out=
	for cmd in "bgp peer show" "node ls" "bgp default-node-as" "bgp node-mesh" "bgp import"; do
		nctl $cmd -o json
		out+=$(printf '%s' "$NCTL_OUT" | jq -S -c . 2>/dev/null || echo BAD-JSON)
	done
	printf '%s rev=%s' "$out" "$(revision)"
}

revision() {
	jq -r .revision "$T_TMP/state/bgp/revision" 2>/dev/null || echo 0
}

# unchanged WHAT ARGS...: netctl ARGS fails (exit 1 or 2) and changes nothing.
unchanged() {
	local what=$1 before after
	shift
	before=$(snapshot)
	nctl "$@"
	if [ "$NCTL_RC" = 0 ]; then
		notok "$what: refused" "netctl $* succeeded: $NCTL_OUT"
		return 1
	fi
	after=$(snapshot)
	assert_eq "$what: state unchanged" "$before" "$after"
}

# ------------------------------------------------------------ defaults
expect 0 "default-node-as shows the default" "" bgp default-node-as
assert_eq "default node AS is 64511" 64511 "$NCTL_OUT"
expect 0 "node-mesh shows the default" "" bgp node-mesh
assert_eq "node mesh on by default" on "$NCTL_OUT"
expect 0 "default-node-as -o json" "" bgp default-node-as -o json
assert_eq "json default_node_as" 64511 "$(jqv "$NCTL_OUT" .default_node_as)"
assert_eq "no change yet: revision 0" 0 "$(revision)"
expect 0 "empty peer show" "" bgp peer show
assert_contains "no IPv4 peers line" "$NCTL_OUT" "No global IPv4 BGP peers defined."
assert_contains "no IPv6 peers line" "$NCTL_OUT" "No global IPv6 BGP peers defined."
expect 0 "empty peer show -o json" "" bgp peer show -o json
assert_eq "empty json list" 0 "$(jqv "$NCTL_OUT" length)"

# ------------------------------------------------------------ global config
expect 0 "set default-node-as 65000" "" bgp default-node-as 65000
nctl bgp default-node-as
assert_eq "default-node-as reads back" 65000 "$NCTL_OUT"
assert_eq "revision 1 after a change" 1 "$(revision)"
expect 0 "set the same again" "" bgp default-node-as 65000
assert_eq "same value: revision unchanged" 1 "$(revision)"
expect 0 "asdot default-node-as 1.10 (--output json)" "" bgp default-node-as 1.10 --output json
assert_eq "asdot 1.10 = 65546" 65546 "$(jqv "$NCTL_OUT" .default_node_as)"
expect 0 "4-octet default-node-as" "" bgp default-node-as 4294967295
expect 0 "back to 65000" "" bgp default-node-as 65000
expect 0 "node-mesh off" "" bgp node-mesh off
nctl bgp node-mesh
assert_eq "node-mesh reads back off" off "$NCTL_OUT"
nctl bgp node-mesh -o json
assert_eq "node-mesh json false" false "$(jqv "$NCTL_OUT" .node_mesh)"
expect 0 "node-mesh on" "" bgp node-mesh on

expect 2 "AS 0 refused" "AS 0 is invalid: use 1-4294967295" bgp default-node-as 0
expect 2 "AS -1 refused" "AS -1 is invalid" bgp default-node-as -1
expect 2 "AS 4294967296 refused" "out of range" bgp default-node-as 4294967296
expect 2 "AS abc refused" "not a number" bgp default-node-as abc
expect 2 "AS_TRANS refused" "AS_TRANS" bgp default-node-as 23456
expect 2 "asdot 1.65536 refused" "asdot" bgp default-node-as 1.65536
expect 2 "two values refused" "unexpected argument" bgp default-node-as 1 2
expect 2 "node-mesh maybe refused" "expected on or off" bgp node-mesh maybe
unchanged "bad default-node-as" bgp default-node-as 0
nctl bgp default-node-as
assert_eq "default-node-as still 65000" 65000 "$NCTL_OUT"

# ------------------------------------------------------------ global peers
expect 0 "peer add v4" "" bgp peer add 192.0.2.20 as 65020
assert_contains "add says what it did" "$NCTL_OUT" "added global BGP peer 192.0.2.20 (AS 65020)"
expect 0 "peer add v4, 4-octet AS" "" bgp peer add 10.0.0.1 as 4200000000
expect 0 "peer add v6 with password" "" bgp peer add 2001:db8::1 as 1.10 --password=s3cret
expect 0 "peer add v6, --password value form" "" bgp peer add fd00::99 as 65099 --password s3
expect 0 "re-adding the same peer is fine" "" bgp peer add 192.0.2.20 as 65020
assert_contains "re-add says so" "$NCTL_OUT" "already configured"
expect 0 "the same v6 peer spelled differently" "" bgp peer add 2001:db8:0::1 as 65546 --password=s3cret

expect 0 "peer show" "" bgp peer show
expected_v4='+----------------------+------------+
| Global IPv4 BGP Peer | AS Num     |
+----------------------+------------+
| 10.0.0.1             | 4200000000 |
| 192.0.2.20           | 65020      |
+----------------------+------------+'
expected_v6='+----------------------+--------+---------+
| Global IPv6 BGP Peer | AS Num | Options |
+----------------------+--------+---------+
| 2001:db8::1          | 65546  | md5     |
| fd00::99             | 65099  | md5     |
+----------------------+--------+---------+'
assert_eq "IPv4 table, boxed and sorted (no options: two columns)" "$expected_v4" "$(head -6 <<<"$NCTL_OUT")"
assert_eq "IPv6 table after a blank line, an Options column" "$expected_v6" "$(tail -n +8 <<<"$NCTL_OUT")"
assert_not_contains "passwords never shown" "$NCTL_OUT" "s3cret"

expect 0 "peer show -o json" "" bgp peer show -o json
assert_eq "json: 4 peers in order" "10.0.0.1 192.0.2.20 2001:db8::1 fd00::99" \
	"$(jqv "$NCTL_OUT" '[.[].ip] | join(" ")')"
assert_eq "json: AS numbers" "4200000000 65020 65546 65099" \
	"$(jqv "$NCTL_OUT" '[.[].as | tostring] | join(" ")')"
assert_eq "json: password_set, not the password" "false false true true" \
	"$(jqv "$NCTL_OUT" '[.[].password_set | tostring] | join(" ")')"
assert_not_contains "json: no password text" "$NCTL_OUT" "s3cret"

rev=$(revision)
expect 1 "duplicate with another AS refused" "already a global BGP peer with AS 65020" \
	bgp peer add 192.0.2.20 as 65021
assert_eq "refusals do not bump the revision" "$rev" "$(revision)"
expect 0 "adding again with another password changes it" "" \
	bgp peer add 2001:db8::1 as 65546 --password=other
assert_contains "it says so" "$NCTL_OUT" "changed global BGP peer 2001:db8::1 (AS 65546): options now md5"
assert_eq "a change bumps the revision" $((rev + 1)) "$(revision)"
assert_eq "the new password is stored" other "$(jq -r .password "$T_TMP/state/bgp/peers/2001:db8::1")"
expect 0 "adding again without --password keeps it" "" bgp peer add 2001:db8::1 as 65546
assert_contains "nothing to change" "$NCTL_OUT" "already configured"
assert_eq "still the new password" other "$(jq -r .password "$T_TMP/state/bgp/peers/2001:db8::1")"
expect 2 "multicast peer refused" "multicast" bgp peer add 224.0.0.5 as 65000
expect 2 "broadcast peer refused" "broadcast" bgp peer add 255.255.255.255 as 65000
expect 2 "0.0.0.0 refused" "0.0.0.0" bgp peer add 0.0.0.0 as 65000
expect 2 ":: refused" "unspecified" bgp peer add :: as 65000
expect 2 "link-local v6 refused" "link-local" bgp peer add fe80::1 as 65000
expect 2 "bad IP refused" "not an IPv4 or IPv6 address" bgp peer add 10.0.0.300 as 65000
expect 2 "prefix as peer refused" "without a prefix length" bgp peer add 10.0.0.0/24 as 65000
expect 2 "peer AS 0 refused" "AS 0 is invalid: use 1-4294967295" bgp peer add 10.9.9.9 as 0
expect 2 "peer AS -1 refused" "AS -1 is invalid" bgp peer add 10.9.9.9 as -1
expect 2 "peer AS too big refused" "out of range" bgp peer add 10.9.9.9 as 4294967296
expect 2 "missing 'as N'" "missing the peer's AS" bgp peer add 10.9.9.9
expect 2 "unknown peer verb" "unknown peer verb 'del'" bgp peer del 10.9.9.9
expect 2 "--node is not for global peers" "--node belongs to" bgp peer show --node h1
expect 2 "--password only with add" "--password goes with" bgp peer remove 10.0.0.1 --password=x
unchanged "peer add with AS 0" bgp peer add 10.9.9.9 as 0
unchanged "peer add conflicting AS" bgp peer add 192.0.2.20 as 1

expect 0 "peer remove" "" bgp peer remove 10.0.0.1
assert_contains "remove says what it did" "$NCTL_OUT" "removed global BGP peer 10.0.0.1"
expect 1 "remove an unknown peer names it" "10.0.0.1 is not a global BGP peer" \
	bgp peer remove 10.0.0.1
unchanged "remove unknown peer" bgp peer remove 198.51.100.7
expect 0 "remove v6 peer (-o json)" "" bgp peer remove fd00::99 -o json
assert_eq "remove json" "fd00::99 true" "$(jqv "$NCTL_OUT" '"\(.ip) \(.removed)"')"

# ------------------------------------------------------------ import policy
expect 0 "bgp import shows the default" "" bgp import
assert_match "not set: the config file's bgp_import" "$NCTL_OUT" '^all \(not set: leafnetd uses bgp_import from its config file, "all" in '
nctl bgp import -o json
assert_eq "bgp import json (unset)" "all null all" "$(jqv "$NCTL_OUT" '"\(.import) \(.stored) \(.config_file)"')"
rev=$(revision)
expect 0 "bgp import default" "" bgp import default
assert_eq "bgp import default says so" "BGP import policy set to default" "$NCTL_OUT"
assert_eq "bgp import bumps the revision" $((rev + 1)) "$(revision)"
assert_eq "stored in bgp/config" default "$(jq -r .import "$T_TMP/state/bgp/config")"
nctl bgp import
assert_eq "bgp import reads back" default "$NCTL_OUT"
expect 0 "bgp import default again" "" bgp import default -o json
assert_eq "json: not changed" "default false" "$(jqv "$NCTL_OUT" '"\(.stored) \(.changed)"')"
assert_eq "same value: revision unchanged" $((rev + 1)) "$(revision)"
expect 2 "bgp import bogus refused" "bgp import: 'some' is not an import policy: use default" \
	bgp import some
expect 2 "bgp import inherit refused (peers only)" "'inherit' is not an import policy" \
	bgp import inherit
expect 2 "bgp import two values" "unexpected argument" bgp import all none
unchanged "bad bgp import" bgp import everything
expect 0 "other global settings keep it" "" bgp default-node-as 65000
nctl bgp import
assert_eq "still default" default "$NCTL_OUT"

expect 0 "peer add --import=default" "" bgp peer add 192.0.2.30 as 65030 --import=default
nctl bgp peer show -o json
assert_eq "json import of the peer" default "$(jqv "$NCTL_OUT" '.[] | select(.ip == "192.0.2.30") | .import')"
assert_eq "json import of a peer without: null" null "$(jqv "$NCTL_OUT" '.[] | select(.ip == "192.0.2.20") | .import')"
nctl bgp peer show
assert_match "table: Options column for IPv4 now" "$(head -2 <<<"$NCTL_OUT" | tail -1)" '\| Options +\|$'
assert_match "table: the peer's options" "$(grep 192.0.2.30 <<<"$NCTL_OUT")" '\| 65030 +\| import=default +\|$'
rev=$(revision)
expect 0 "peer add again --import=none" "" bgp peer add 192.0.2.30 as 65030 --import=none
assert_contains "changed, says so" "$NCTL_OUT" "options now import=none"
assert_eq "one revision" $((rev + 1)) "$(revision)"
expect 0 "peer add again --import=inherit -o json" "" bgp peer add 192.0.2.30 as 65030 --import=inherit -o json
assert_eq "json: changed, import null" "true null" "$(jqv "$NCTL_OUT" '"\(.changed) \(.import)"')"
assert_eq "no import member stored" null "$(jq -r .import "$T_TMP/state/bgp/peers/192.0.2.30")"
expect 2 "--import=bogus names the flag" "--import: 'bogus' is not an import policy" \
	bgp peer add 192.0.2.31 as 65031 --import=bogus
expect 2 "--import= empty" "--import: '' is not an import policy" \
	bgp peer add 192.0.2.31 as 65031 --import=
expect 2 "--import only with add" "--import goes with 'peer add'" bgp peer remove 192.0.2.30 --import=all
unchanged "peer add with a bad --import" bgp peer add 192.0.2.31 as 65031 --import=most
expect 0 "Go-style -import=all" "" bgp peer add 192.0.2.31 as 65031 -import=all
expect 0 "remove it" "" bgp peer remove 192.0.2.31
expect 0 "remove the import peer" "" bgp peer remove 192.0.2.30
expect 0 "back to bgp import all" "" bgp import all

# ------------------------------------------------------------ session security options
opts_of() {	# opts_of IP: ttl_security max_prefix action restart (global peer, json)
	nctl bgp peer show -o json
	jqv "$NCTL_OUT" ".[] | select(.ip == \"$1\") | \"\(.ttl_security) \(.max_prefix) \(.max_prefix_action) \(.max_prefix_restart)\""
}
rec() { jq -c "$2" "$T_TMP/state/bgp/peers/$1" 2>/dev/null; }
expect 0 "peer add --ttl-security --max-prefix=1000" "" bgp peer add 192.0.2.40 as 65040 \
	--ttl-security --max-prefix=1000
assert_eq "json: GTSM on, limit 1000, restart after 5 min" "true 1000 restart 5" "$(opts_of 192.0.2.40)"
assert_eq "stored members" '[true,1000,"restart",5]' \
	"$(rec 192.0.2.40 '[.ttl_security, .max_prefix, .max_prefix_action, .max_prefix_restart]')"
assert_eq "json of a peer without: off" "false 0 null null" "$(opts_of 192.0.2.20)"
nctl bgp peer show
assert_match "table shows them" "$(grep 192.0.2.40 <<<"$NCTL_OUT")" '\| 65040 +\| ttl-security max-prefix=1000 +\|$'
rev=$(revision)
expect 0 "max-prefix ,warning (ttl-security kept)" "" bgp peer add 192.0.2.40 as 65040 --max-prefix=10,warning
assert_contains "says the options now" "$NCTL_OUT" "options now ttl-security max-prefix=10,warning"
assert_eq "json warning" "true 10 warning null" "$(opts_of 192.0.2.40)"
assert_eq "no restart stored with warning" '["warning",null]' "$(rec 192.0.2.40 '[.max_prefix_action, .max_prefix_restart]')"
expect 0 "max-prefix ,restart=30" "" bgp peer add 192.0.2.40 as 65040 --max-prefix=10,restart=30
assert_eq "json restart 30" "true 10 restart 30" "$(opts_of 192.0.2.40)"
assert_eq "two changes, two revisions" $((rev + 2)) "$(revision)"
expect 0 "the same again" "" bgp peer add 192.0.2.40 as 65040 --max-prefix=10,restart=30 --ttl-security
assert_contains "already" "$NCTL_OUT" "already configured"
assert_eq "no change, no revision" $((rev + 2)) "$(revision)"
expect 0 "--no-max-prefix --no-ttl-security --password" "" bgp peer add 192.0.2.40 as 65040 \
	--no-max-prefix --no-ttl-security --password=pw40
assert_eq "json off again" "false 0 null null" "$(opts_of 192.0.2.40)"
assert_eq "nothing of them stored" '[null,null,null,"pw40"]' \
	"$(rec 192.0.2.40 '[.ttl_security, .max_prefix, .max_prefix_action, .password]')"
expect 0 "--no-password" "" bgp peer add 192.0.2.40 as 65040 --no-password
assert_eq "password gone" null "$(rec 192.0.2.40 .password)"
expect 0 "-ttl-security Go-style, -max-prefix value form" "" bgp peer add 192.0.2.40 as 65040 \
	-ttl-security -max-prefix 7
assert_eq "json after Go-style" "true 7 restart 5" "$(opts_of 192.0.2.40)"
expect 2 "--max-prefix=0" "--max-prefix: 0 would refuse every route" bgp peer add 192.0.2.41 as 65041 --max-prefix=0
expect 2 "--max-prefix=abc" "--max-prefix: 'abc' is not a route count" bgp peer add 192.0.2.41 as 65041 --max-prefix=abc
expect 2 "--max-prefix too big" "'4294967296' is not a route count" bgp peer add 192.0.2.41 as 65041 --max-prefix=4294967296
expect 2 "--max-prefix= empty" "--max-prefix: give the most routes" bgp peer add 192.0.2.41 as 65041 --max-prefix=
expect 2 "--max-prefix=10,warn" "after the count comes 'warning'" bgp peer add 192.0.2.41 as 65041 --max-prefix=10,warn
expect 2 "--max-prefix=10,restart=0" "restart=MIN takes the minutes" bgp peer add 192.0.2.41 as 65041 --max-prefix=10,restart=0
expect 2 "--max-prefix=10,restart=65536" "1-65535" bgp peer add 192.0.2.41 as 65041 --max-prefix=10,restart=65536
expect 2 "--max-prefix without a value" "--max-prefix needs a value" bgp peer add 192.0.2.41 as 65041 --max-prefix
expect 2 "--ttl-security=yes" "--ttl-security takes no value" bgp peer add 192.0.2.41 as 65041 --ttl-security=yes
expect 2 "--ttl-security and --no-ttl-security" "--ttl-security and --no-ttl-security: give one of them" \
	bgp peer add 192.0.2.41 as 65041 --ttl-security --no-ttl-security
expect 2 "--password and --no-password" "--password and --no-password" \
	bgp peer add 192.0.2.41 as 65041 --password=x --no-password
expect 2 "--max-prefix and --no-max-prefix" "--max-prefix and --no-max-prefix" \
	bgp peer add 192.0.2.41 as 65041 --max-prefix=5 --no-max-prefix
expect 2 "--ttl-security only with add" "--ttl-security goes with 'peer add'" bgp peer show --ttl-security
expect 2 "--max-prefix only with add" "--max-prefix goes with 'peer add'" bgp peer remove 192.0.2.40 --max-prefix=3
unchanged "peer add with a bad --max-prefix" bgp peer add 192.0.2.40 as 65040 --max-prefix=-5
unchanged "peer add, clashing flags" bgp peer add 192.0.2.40 as 65040 --ttl-security --no-ttl-security
expect 0 "remove the options peer" "" bgp peer remove 192.0.2.40

# ------------------------------------------------------------ node peers
expect 0 "node bgp peer show, none yet" "" node bgp peer show
assert_contains "node has no peers" "$NCTL_OUT" "No node specific IPv4 BGP peers defined for node h1."
expect 0 "node peer add (default node from the config)" "" node bgp peer add 172.16.0.1 as 65100
assert_contains "node add names the node" "$NCTL_OUT" "to node h1"
expect 0 "node peer add v6" "" node bgp peer add fd00:1::fe as 65100
expect 0 "node peer add --node h2" "" node bgp peer add 172.16.1.1 as 65101 --node h2
expect 0 "node peer add --node=h2 before peer" "" node bgp --node=h2 peer add 172.16.1.2 as 65101
expect 0 "node bgp peer show" "" node bgp peer show
expected='+-----------------------------+--------+
| Node specific IPv4 BGP Peer | AS Num |
+-----------------------------+--------+
| 172.16.0.1                  | 65100  |
+-----------------------------+--------+

+-----------------------------+--------+
| Node specific IPv6 BGP Peer | AS Num |
+-----------------------------+--------+
| fd00:1::fe                  | 65100  |
+-----------------------------+--------+'
assert_eq "node peer tables" "$expected" "$NCTL_OUT"
expect 0 "node bgp peer show --node h2 -o json" "" node bgp peer show --node h2 -o json
assert_eq "h2 peers in json" "172.16.1.1 172.16.1.2" "$(jqv "$NCTL_OUT" '[.[].ip] | join(" ")')"
assert_eq "json node field" "h2" "$(jqv "$NCTL_OUT" '.[0].node')"

expect 1 "a global peer cannot also be a node peer" "already a global BGP peer" \
	node bgp peer add 192.0.2.20 as 65020
expect 1 "a node peer cannot also be a global peer" "already a BGP peer of node h1" \
	bgp peer add 172.16.0.1 as 65100
expect 1 "node peer conflicting AS" "with AS 65100 (not 65999)" node bgp peer add 172.16.0.1 as 65999
expect 0 "node peer add --import=default on an existing peer" "" node bgp peer add 172.16.0.1 as 65100 --import=default
assert_contains "node peer changed" "$NCTL_OUT" "changed node-specific BGP peer 172.16.0.1 (AS 65100) of node h1: options now import=default"
nctl node bgp peer show -o json
assert_eq "node peer json import" default "$(jqv "$NCTL_OUT" '.[] | select(.ip == "172.16.0.1") | .import')"
expect 2 "node peer add --import=bad" "--import: 'x' is not an import policy" node bgp peer add 172.16.0.1 as 65100 --import=x
expect 0 "node peer --import=inherit" "" node bgp peer add 172.16.0.1 as 65100 --import=inherit
expect 0 "node peer add --ttl-security --max-prefix=5,warning --node h2" "" \
	node bgp peer add 172.16.1.1 as 65101 --ttl-security --max-prefix=5,warning --node h2
nctl node bgp peer show --node h2 -o json
assert_eq "node peer options in json" "true 5 warning" \
	"$(jqv "$NCTL_OUT" '.[] | select(.ip == "172.16.1.1") | "\(.ttl_security) \(.max_prefix) \(.max_prefix_action)"')"
nctl node bgp peer show --node h2
assert_match "node peer table options" "$(grep 172.16.1.1 <<<"$NCTL_OUT")" 'ttl-security max-prefix=5,warning +\|$'
expect 2 "node peer add --max-prefix=bad" "--max-prefix: 'x' is not a route count" \
	node bgp peer add 172.16.1.1 as 65101 --max-prefix=x --node h2
expect 0 "node peer options off" "" node bgp peer add 172.16.1.1 as 65101 --no-ttl-security \
	--no-max-prefix --node h2
expect 2 "bad --node" "not a valid node name" node bgp peer show --node=a/b
expect 2 "node bgp without 'peer'" "expected 'peer'" node bgp show
expect 1 "node peer remove unknown" "198.51.100.1 is not a BGP peer of node h1" \
	node bgp peer remove 198.51.100.1
unchanged "node peer add with bad IP" node bgp peer add 224.1.1.1 as 65000
expect 0 "node peer remove" "" node bgp peer remove fd00:1::fe

# ------------------------------------------------------------ bgp create
expect 0 "bgp create (Contiv form)" "" bgp create h3 --router-ip=10.0.3.1/24 --as=65003 \
	--neighbor-as=65000 --neighbor=10.0.3.254
assert_contains "create summary" "$NCTL_OUT" "node h3: AS 65003, router IP 10.0.3.1/24, peer 10.0.3.254 (AS 65000)"
expect 0 "bgp create v6, '--flag value' form, -o json" "" bgp create h3 --router-ip 2001:db8:3::1/64 \
	--as 65003 --neighbor-as 65000 --neighbor 2001:db8:3::fe -o json
assert_eq "create json" "h3 65003 2001:db8:3::1/64 2001:db8:3::fe" \
	"$(jqv "$NCTL_OUT" '"\(.node) \(.as) \(.router_ip) \(.neighbor)"')"
expect 0 "bgp create again: no change" "" bgp create h3 --router-ip=10.0.3.1/24 --as=65003 \
	--neighbor-as=65000 --neighbor=10.0.3.254
assert_contains "create again says so" "$NCTL_OUT" "(already so)"
expect 0 "bgp create --import=default: the neighbor's option changes" "" bgp create h3 \
	--router-ip=10.0.3.1/24 --as=65003 --neighbor-as=65000 --neighbor=10.0.3.254 --import=default
nctl node bgp peer show --node h3 -o json
assert_eq "create: neighbor import stored" default "$(jqv "$NCTL_OUT" '.[] | select(.ip == "10.0.3.254") | .import')"
expect 2 "create: --import=bad" "--import: 'bad' is not an import policy" bgp create h3 \
	--router-ip=10.0.3.1/24 --as=65003 --neighbor-as=65000 --neighbor=10.0.3.254 --import=bad
expect 0 "bgp create --ttl-security --max-prefix=100 --password" "" bgp create h3 \
	--router-ip=10.0.3.1/24 --as=65003 --neighbor-as=65000 --neighbor=10.0.3.254 --ttl-security \
	--max-prefix=100 --password=p3
nctl node bgp peer show --node h3 -o json
assert_eq "create: neighbor options (import kept)" "true 100 restart 5 true default" \
	"$(jqv "$NCTL_OUT" '.[] | select(.ip == "10.0.3.254") | "\(.ttl_security) \(.max_prefix) \(.max_prefix_action) \(.max_prefix_restart) \(.password_set) \(.import)"')"
expect 2 "create: --max-prefix=10,x" "after the count comes 'warning'" bgp create h3 \
	--router-ip=10.0.3.1/24 --as=65003 --neighbor-as=65000 --neighbor=10.0.3.254 --max-prefix=10,x
expect 0 "bgp create: options off again" "" bgp create h3 --router-ip=10.0.3.1/24 --as=65003 \
	--neighbor-as=65000 --neighbor=10.0.3.254 --no-ttl-security --no-max-prefix --no-password \
	--import=inherit

good=(--router-ip=10.0.4.1/24 --as=65004 --neighbor-as=65000 --neighbor=10.0.4.254)
expect 2 "create: bad --neighbor" "--neighbor: 255.255.255.255 is the broadcast address" \
	bgp create h4 --router-ip=10.0.4.1/24 --as=65004 --neighbor-as=65000 --neighbor=255.255.255.255
unchanged "create with a bad --neighbor" bgp create h4 --router-ip=10.0.4.1/24 --as=65004 \
	--neighbor-as=65000 --neighbor=10.0.4.x
expect 2 "create: --router-ip without length" "e.g. 10.0.4.1/24" \
	bgp create h4 --router-ip=10.0.4.1 --as=65004 --neighbor-as=65000 --neighbor=10.0.4.254
expect 2 "create: --router-ip /33" "prefix length must be 1-32" \
	bgp create h4 --router-ip=10.0.4.1/33 --as=65004 --neighbor-as=65000 --neighbor=10.0.4.254
expect 2 "create: --as 0" "--as: AS 0 is invalid" \
	bgp create h4 --router-ip=10.0.4.1/24 --as=0 --neighbor-as=65000 --neighbor=10.0.4.254
expect 2 "create: --neighbor-as too big" "--neighbor-as: AS 4294967296 is out of range" \
	bgp create h4 --router-ip=10.0.4.1/24 --as=65004 --neighbor-as=4294967296 --neighbor=10.0.4.254
expect 2 "create: missing --neighbor" "missing --neighbor=IP" \
	bgp create h4 --router-ip=10.0.4.1/24 --as=65004 --neighbor-as=65000
expect 2 "create: missing HOST" "missing the HOST" bgp create "${good[@]}"
expect 2 "create: unknown flag" "unknown flag --neighbour" bgp create h4 "${good[@]}" --neighbour=1.2.3.4
unchanged "create conflicting with an existing peer" bgp create h3 --router-ip=10.0.3.9/24 \
	--as=65033 --neighbor-as=65999 --neighbor=10.0.3.254
expect 1 "create: conflict named" "10.0.3.254 is already a node-specific BGP peer" \
	bgp create h3 --router-ip=10.0.3.9/24 --as=65033 --neighbor-as=65999 --neighbor=10.0.3.254

# ------------------------------------------------------------ node ls / show
expect 0 "node ls" "" node ls
assert_match "node ls header" "$(head -1 <<<"$NCTL_OUT")" '^NAME +AS +ROUTER-IPv4 +ROUTER-IPv6 +PEERS$'
assert_match "node ls h1 (default AS)" "$(grep '^h1 ' <<<"$NCTL_OUT")" \
	'^h1 +65000 \(default\) +- +- +172\.16\.0\.1$'
assert_match "node ls h3" "$(grep '^h3 ' <<<"$NCTL_OUT")" \
	'^h3 +65003 +10\.0\.3\.1/24 +2001:db8:3::1/64 +10\.0\.3\.254,2001:db8:3::fe$'
assert_eq "node ls sorted, h4 never created" "h1 h2 h3" \
	"$(tail -n +2 <<<"$NCTL_OUT" | awk '{print $1}' | xargs)"
expect 0 "node ls -o json" "" node ls -o json
assert_eq "json node h3" "65003 65003 10.0.3.1/24 2" \
	"$(jqv "$NCTL_OUT" '.[] | select(.name == "h3") | "\(.as) \(.effective_as) \(.router_ip4) \(.peers | length)"')"
assert_eq "json node h1 uses the default AS" "0 65000" \
	"$(jqv "$NCTL_OUT" '.[] | select(.name == "h1") | "\(.as) \(.effective_as)"')"
expect 0 "node show h3" "" node show h3
assert_contains "show: AS" "$NCTL_OUT" "AS:            65003"
assert_contains "show: router IPv6" "$NCTL_OUT" "Router IPv6:   2001:db8:3::1/64"
assert_match "show: peer row" "$NCTL_OUT" '10\.0\.3\.254 +65000 +no '
expect 0 "node show h3 -o json" "" node show h3 -o json
assert_eq "show json router_ip6" "2001:db8:3::1/64" "$(jqv "$NCTL_OUT" .router_ip6)"
expect 1 "node show unknown" "node h9 is unknown" node show h9
expect 2 "node show without NAME" "missing the node NAME" node show
expect 2 "node show bad name" "not a valid node name" node show ../etc

t_done
