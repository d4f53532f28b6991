#!/bin/bash
# netctl network create/ls/inspect/rm against a temp state dir: the happy
# paths in table and JSON form, every refusal (exit 2 for usage errors that
# name the flag, 1 for runtime errors), state unchanged after each error,
# and rm refused while allocations exist (made with leafnet-ipam) unless
# --force.
. "$(dirname "$0")/../lib.sh"
t_init
t_require "$BIN/netctl" "$BIN/leafnet-ipam"

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

# The whole store as netctl sees it, to prove errors change nothing.
snapshot() {
	nctl network ls -o json
	printf '%s' "$NCTL_OUT" | jq -S -c . 2>/dev/null || echo "BAD-JSON"
}

# ------------------------------------------------------------ basics
expect 0 "version" "" version
assert_match "version prints netctl X.Y.Z" "$NCTL_OUT" '^netctl [0-9]+\.[0-9]+'
expect 0 "version -o json" "" -o json version
assert_match "version json has .version" "$(jqv "$NCTL_OUT" .version)" '^[0-9]+\.'
expect 0 "--help" "" --help
assert_contains "--help lists network create" "$NCTL_OUT" "network create"
expect 0 "network --help" "" network --help
assert_contains "network --help lists rm" "$NCTL_OUT" "netctl network rm NAME"
expect 0 "network create --help" "" network create --help
assert_contains "create --help describes --block-size" "$NCTL_OUT" "--block-size"
expect 2 "no command -> 2" "Usage" 
expect 2 "unknown noun -> 2" "unknown command 'frobnicate'" frobnicate
expect 2 "unknown verb -> 2" "unknown verb 'mv'" network mv
expect 2 "-o yaml -> 2" "use -o json or -o table" -o yaml network ls

# ------------------------------------------------------------ create
expect 0 "create dual-stack network (--flag=value)" "" network create public \
	--subnet=10.1.0.0/16 --subnet=fd00:1::/64 --gateway=10.1.0.1 --block-size=26,122
assert_contains "create prints the network" "$NCTL_OUT" "10.1.0.0/16,fd00:1::/64"
expect 0 "create with '--flag value' form, flags after and before NAME" "" network create \
	--subnet 10.2.0.0/24 internal --non-routable --nat-outgoing --block-size 28 \
	--gateway 10.2.0.254 --no-aggregate
expect 0 "create v6-only network with a community" "" network create v6only \
	--subnet=fd00:6::/48 --community=65000:42 --community 65000:43

# ---------------------------------------------------------------- ls
expect 0 "ls" "" network ls
assert_match "ls header aligned columns" "$(head -1 <<<"$NCTL_OUT")" \
	'^NAME +SUBNETS +GATEWAYS +CLASS +NAT +BLOCK +ALLOCATED$'
assert_match "ls row public" "$(grep '^public ' <<<"$NCTL_OUT")" \
	'^public +10\.1\.0\.0/16,fd00:1::/64 +10\.1\.0\.1,auto +routable +no +/26,/122 +0$'
assert_match "ls row internal" "$(grep '^internal ' <<<"$NCTL_OUT")" \
	'^internal +10\.2\.0\.0/24 +10\.2\.0\.254 +non-routable +yes +/28 +0$'
assert_eq "ls lists 3 networks, sorted" "internal public v6only" \
	"$(tail -n +2 <<<"$NCTL_OUT" | awk '{print $1}' | xargs)"
# Columns line up: every row's SUBNETS column starts where the header's does.
col=$(head -1 <<<"$NCTL_OUT" | grep -bo SUBNETS | cut -d: -f1)
bad=$(tail -n +2 <<<"$NCTL_OUT" | awk -v c="$col" 'substr($0, c + 1, 1) == " " || substr($0, c, 1) != " "' | wc -l)
assert_eq "ls columns aligned" 0 "$bad"

expect 0 "ls -o json" "" network ls -o json
assert_cmd "ls json parses" jq -e . <<<"$NCTL_OUT"
assert_eq "ls json: 3 networks" 3 "$(jqv "$NCTL_OUT" length)"
assert_eq "ls json: public gateway" 10.1.0.1 \
	"$(jqv "$NCTL_OUT" '.[] | select(.name == "public") | .subnets[0].gateway')"
assert_eq "ls json: internal non-routable, nat" "false true false 28" \
	"$(jqv "$NCTL_OUT" '.[] | select(.name == "internal") | "\(.routable) \(.nat_outgoing) \(.aggregate) \(.block_size4)"')"
assert_eq "ls json: non-routable got 64511:100" "64511:100" \
	"$(jqv "$NCTL_OUT" '.[] | select(.name == "internal") | .communities | join(",")')"
assert_eq "ls json: v6only communities" "65000:42,65000:43" \
	"$(jqv "$NCTL_OUT" '.[] | select(.name == "v6only") | .communities | join(",")')"
assert_eq "ls json: allocated 0" 0 "$(jqv "$NCTL_OUT" '.[] | select(.name == "public") | .allocated')"
assert_eq "ls json: created_by netctl" netctl "$(jqv "$NCTL_OUT" '.[0].created_by')"

# ----------------------------------------------------------- inspect
expect 0 "inspect" "" network inspect public
assert_match "inspect shows the gateway" "$NCTL_OUT" 'Subnet: +10\.1\.0\.0/16 +gateway 10\.1\.0\.1'
assert_contains "inspect shows the v6 default gateway" "$NCTL_OUT" "fe80::1 (default, on-link)"
assert_contains "inspect shows no allocations" "$NCTL_OUT" "Allocations: 0"
expect 0 "inspect -o json" "" network inspect public -o json
assert_cmd "inspect json parses" jq -e . <<<"$NCTL_OUT"
assert_eq "inspect json: name, blocks, allocations" "public 0 0" \
	"$(jqv "$NCTL_OUT" '"\(.name) \(.blocks | length) \(.allocations | length)"')"

# ------------------------------------------------- usage errors (exit 2)
BEFORE=$(snapshot)
expect 2 "prefix length 33" \
	"--subnet 192.168.1.0/33: prefix length must be 0-32; example: --subnet=192.168.1.0/24" \
	network create bad --subnet=192.168.1.0/33
expect 2 "v6 prefix length 129" "prefix length must be 0-128" network create bad --subnet=fd00::/129
expect 2 "host bits set" "did you mean --subnet=10.0.0.0/24" network create bad --subnet=10.0.0.5/24
expect 2 "not an address" "--subnet banana/24: 'banana' is not an IPv4 or IPv6 address" \
	network create bad --subnet=banana/24
expect 2 "no prefix length" "missing the prefix length" network create bad --subnet=10.0.0.0
expect 2 "two IPv4 subnets" "--subnet given twice for IPv4" \
	network create bad --subnet=10.8.0.0/24 --subnet=10.9.0.0/24
expect 2 "missing --subnet" "--subnet is required" network create bad
expect 2 "missing NAME" "missing the network NAME" network create --subnet=10.8.0.0/24
expect 2 "two names" "unexpected argument 'extra'" network create bad extra --subnet=10.8.0.0/24
expect 2 "invalid name" "is not a valid network name" network create 'bad/name' --subnet=10.8.0.0/24
expect 2 "gateway outside subnet" "--gateway 10.9.0.1: outside --subnet 10.8.0.0/24; use an address inside it, e.g. --gateway=10.8.0.1" \
	network create bad --subnet=10.8.0.0/24 --gateway=10.9.0.1
expect 2 "gateway = network address" "is the network address" \
	network create bad --subnet=10.8.0.0/24 --gateway=10.8.0.0
expect 2 "gateway = broadcast" "is the broadcast address" \
	network create bad --subnet=10.8.0.0/24 --gateway=10.8.0.255
expect 2 "v6 gateway without v6 subnet" "there is no IPv6 --subnet" \
	network create bad --subnet=10.8.0.0/24 --gateway=fd00::1
expect 2 "gateway with a length" "without a prefix length" \
	network create bad --subnet=10.8.0.0/24 --gateway=10.8.0.1/24
expect 2 "gateway not an address" "--gateway nope: not an IPv4 or IPv6 address" \
	network create bad --subnet=10.8.0.0/24 --gateway=nope
expect 2 "routable and non-routable" "contradict" \
	network create bad --subnet=10.8.0.0/24 --routable --non-routable
expect 2 "bad community" "--community 70000:1: expected A:B" \
	network create bad --subnet=10.8.0.0/24 --community=70000:1
expect 2 "block size ambiguous with two families" "give both lengths" \
	network create bad --subnet=10.8.0.0/24 --subnet=fd00:8::/64 --block-size=26
expect 2 "block size out of range" "block length must be 1-32" \
	network create bad --subnet=10.8.0.0/24 --block-size=33
expect 2 "block size garbage" "expected a prefix length N" \
	network create bad --subnet=10.8.0.0/24 --block-size=big
expect 2 "block larger than the subnet" "--block-size 20: a /20 block is larger than --subnet 10.8.0.0/24; use /24 to /32" \
	network create bad --subnet=10.8.0.0/24 --block-size=20
expect 2 "unknown flag" "unknown flag --colour" network create bad --subnet=10.8.0.0/24 --colour=red
expect 2 "flag without its value" "--subnet needs a value" network create bad --subnet
expect 2 "value on a flag that takes none" "--nat-outgoing=yes: --nat-outgoing takes no value" \
	network create bad --subnet=10.8.0.0/24 --nat-outgoing=yes
expect 2 "ls takes no argument" "unexpected argument" network ls public
assert_eq "usage errors changed nothing" "$BEFORE" "$(snapshot)"

# ----------------------------------------------- runtime errors (exit 1)
expect 1 "duplicate name" "network public already exists" network create public --subnet=10.7.0.0/24
assert_eq "duplicate left the original alone" 10.1.0.1 \
	"$(nctl network inspect public -o json; jqv "$NCTL_OUT" .subnets[0].gateway)"
expect 1 "inspect unknown network" "nosuch" network inspect nosuch
expect 1 "rm unknown network" "nosuch" network rm nosuch
assert_eq "runtime errors changed nothing" "$BEFORE" "$(snapshot)"

# ------------------------------------------------------ --config FILE
OUT=$(env -u LEAFNET_CONF "$BIN/netctl" --config "$T_CONF" network ls -o json 2>&1)
assert_eq "--config FILE before the command" 3 "$(jqv "$OUT" length)"
OUT=$(env -u LEAFNET_CONF "$BIN/netctl" network ls --config "$T_CONF" -o json 2>&1)
assert_eq "--config FILE after the command" 3 "$(jqv "$OUT" length)"
OUT=$(env -u LEAFNET_CONF "$BIN/netctl" --config "$T_TMP/nope.conf" network ls 2>&1)
RC=$?
assert_eq "--config missing file -> 1" 1 "$RC"
assert_contains "--config missing file named" "$OUT" "$T_TMP/nope.conf"

# -------------------------------------------- rm with live allocations
mkhost H
mkcontainer C1
CNI_PLUGIN=$BIN/leafnet-ipam
CNI_CONF=$(jq -nc '{cniVersion: "1.1.0", name: "ipamtest", type: "ptp",
	ipam: {type: "leafnet-ipam", network: "public"}}')
cni_add "$H" ctr-netctl-1 "$C1" eth0
cni_expect_ok "leafnet-ipam ADD makes an allocation" || bail "allocation" "$(tail -c 300 "$CNI_ERR")"
unset CNI_PLUGIN

expect 0 "ls after the allocation" "" network ls -o json
assert_eq "ls json counts the allocations" 2 \
	"$(jqv "$NCTL_OUT" '.[] | select(.name == "public") | .allocated')"
expect 0 "inspect after the allocation" "" network inspect public
assert_match "inspect table lists the allocation" "$NCTL_OUT" '^10\.1\.0\.[0-9]+ +node1 +ctr-netctl-1 +eth0'
assert_match "inspect table lists the block" "$NCTL_OUT" '^10\.1\.0\.[0-9]+/26 +node1 +1/64'
expect 0 "inspect -o json after the allocation" "" network inspect public -o json
assert_eq "inspect json allocation fields" "ctr-netctl-1 eth0 node1" \
	"$(jqv "$NCTL_OUT" '[.allocations[] | select(.address | contains(".")) | "\(.container_id) \(.ifname) \(.node)"][0]')"
assert_eq "inspect json has 2 blocks" 2 "$(jqv "$NCTL_OUT" '.blocks | length')"

expect 1 "rm with allocations refused" "--force" network rm public
assert_eq "refused rm kept the network" public "$(nctl network inspect public -o json; jqv "$NCTL_OUT" .name)"
assert_eq "refused rm kept the allocations" 2 "$(alloc_count public)"
expect 0 "rm --force" "" network rm public --force
assert_contains "rm --force reports the released allocations" "$NCTL_OUT" "released 2"
expect 1 "network gone after rm --force" "" network inspect public

# ---------------------------------------------------------------- rm
expect 0 "rm -o json" "" -o json network rm internal
assert_eq "rm json" "internal true" "$(jqv "$NCTL_OUT" '"\(.name) \(.removed)"')"
expect 0 "rm" "" network rm v6only
assert_eq "rm prints what it removed" "removed network v6only" "$NCTL_OUT"
expect 0 "ls after removing everything" "" network ls -o json
assert_eq "no networks left" 0 "$(jqv "$NCTL_OUT" length)"

t_done
