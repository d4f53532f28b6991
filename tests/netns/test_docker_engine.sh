#!/bin/bash
# leafnet-docker under a real Docker engine (Debian's docker.io), end to end:
#
#   host netns H: dockerd (+ its containerd), leafnet-docker, leafnetd;
#   ToR netns:    BIRD 2 (AS 500), eBGP with leafnetd (AS 65002).
#
# dockerd runs with its own --data-root/--exec-root/--pidfile/-H socket,
# --iptables=false --ip6tables=false --ip-masq=false --bridge=none
# --storage-driver=vfs, entered into H with `nsenter --net` (not `ip netns
# exec`: that remounts /sys, which hides the cgroup mounts dockerd needs),
# so every container veth and route lives in H, never in the machine's own
# namespace.  Docker looks for plugins in /run/docker/plugins whatever
# --exec-root says, so the driver has a unique name, lft-<pid>, and its
# socket /run/docker/plugins/lft-<pid>.sock goes away at the end.  The image
# is a rootfs holding Debian's busybox-static, `docker import`ed: no registry.
#
# Checks: `docker network create -d lft-<pid> --ipam-driver lft-<pid>
# --ipam-opt network=public public` adopts a netctl network; two `docker run
# --net=public` containers get /32s, ping each other and the gateway; the
# ToR learns both /32s through leafnetd; the plugin restarted under running
# containers still cleans up after them; a network made through Docker shows
# in `netctl network ls` (non-routable with -o routable=false) and goes with
# `docker network rm`; `docker rm -f` and `docker network rm` leave no
# interface, route, allocation or record.  dockerd and containerd are killed
# by PID at the end, whatever happens.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../bird.sh"
. "$(dirname "$0")/../docker.sh"
t_init
DOCKERD=/usr/sbin/dockerd
DOCKER=/usr/bin/docker		# Debian's client; a newer one may sit earlier in PATH
t_require "$BIN/leafnet-docker" "$BIN/leafnetd" "$BIN/netctl" "$DOCKERD" "$DOCKER" \
	containerd runc nsenter curl bird birdc
BUSYBOX=$(command -v busybox) || bail "prerequisite busybox" "apt-get install busybox-static"
ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
	bail "prerequisite busybox" "$BUSYBOX is not static: apt-get install busybox-static"

DRV=lft-$$
PSOCK=/run/docker/plugins/$DRV.sock
DK_DIR=$T_TMP/docker
DK_SOCK=$DK_DIR/docker.sock
DK_PID=
IMAGE=lft-busybox:$$
dk() { timeout -k 5 60 "$DOCKER" -H "unix://$DK_SOCK" "$@"; }

DK_DONE=0
dk_cleanup() {
	local pid cpids="" m
	[ "$DK_DONE" = 1 ] && return 0
	DK_DONE=1
	if [ -n "$DK_PID" ] && kill -0 "$DK_PID" 2>/dev/null; then
		for c in $(dk ps -aq 2>/dev/null); do
			cpids="$cpids $(dk inspect -f '{{.State.Pid}}' "$c" 2>/dev/null)"
		done
		dk rm -f $(dk ps -aq 2>/dev/null) >/dev/null 2>&1
		kill -TERM "$DK_PID" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$DK_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DK_PID" 2>/dev/null
		for pid in $cpids; do [ "$pid" -gt 1 ] 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
	fi
	pid=$(cat "$DK_DIR/exec/containerd/containerd.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	# dockerd's mounts (netns files, shm) under our directory
	for m in $(awk -v d="$DK_DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	dp_stop
	rm -f "$PSOCK"
}
trap 'dk_cleanup; t_cleanup' EXIT
trap 'notok interrupted "caught a signal"; dk_cleanup; t_cleanup; exit 130' INT TERM

# ------------------------------------------------------------- topology
mkhost H
mkns TOR
ip link add lt-n$$ netns "$H" type veth peer name lt-t$$ netns "$TOR" || bail "veth node <-> ToR"
ip -n "$H" link set lt-n$$ name uplink && ip -n "$TOR" link set lt-t$$ name down1 &&
ip -n "$H" addr add 10.0.0.1/24 dev uplink && ip -n "$TOR" addr add 10.0.0.254/24 dev down1 &&
ip -n "$H" link set uplink up && ip -n "$TOR" link set down1 up || bail "uplink addresses"
ip netns exec "$TOR" sysctl -qw net.ipv4.ip_forward=1

bird_init tor "$TOR" 10.0.0.254
bird_kernel tor fib
bird_default_route tor
bird_peer tor node1 10.0.0.254 500 10.0.0.1 65002 default default
bird_start tor

nctl_ok "network public (no aggregation: the ToR sees /32s)" network create public \
	--subnet=10.80.0.0/24 --gateway=10.80.0.1 --no-aggregate
nctl_ok "bgp create" bgp create node1 --router-ip=10.0.0.1/24 --as=65002 --neighbor-as=500 \
	--neighbor=10.0.0.254
nctl_ok "node-mesh off" bgp node-mesh off
ld_start n1 "$H" "$T_CONF"
assert_bird_established "leafnetd <-> ToR Established" tor node1 15

dp_start "$H" "$PSOCK"

# ------------------------------------------------------------- dockerd
if ! dockerd_start "$H"; then
	grep -E 'level=(error|fatal)|failed to start' "$T_TMP/dockerd.log" | tail -5 | sed 's/^/# /' >&2
	bail "dockerd starts in $H" "see $T_TMP/dockerd.log: $(tail -1 "$T_TMP/dockerd.log")"
fi
ok "dockerd $(dk version -f '{{.Server.Version}}') runs inside $H"

mkdir -p "$T_TMP/rootfs/bin" && cp "$BUSYBOX" "$T_TMP/rootfs/bin/busybox" || bail "rootfs"
for a in sh ping ip sleep cat; do ln -sf busybox "$T_TMP/rootfs/bin/$a"; done
tar -C "$T_TMP/rootfs" -c . | dk import - "$IMAGE" >/dev/null || bail "docker import"
ok "image $IMAGE imported from a busybox-static rootfs"

# ------------------------------------------------------ network create
dk network create -d "$DRV" --ipam-driver "$DRV" --ipam-opt network=public public \
	>"$T_TMP/netcreate.out" 2>&1
assert_eq "docker network create -d $DRV --ipam-driver $DRV --ipam-opt network=public public" \
	0 "$?" || diag "$(cat "$T_TMP/netcreate.out")"
assert_eq "Docker sees public's subnet and gateway" "10.80.0.0/24 10.80.0.1" \
	"$(dk network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' public)"

# ---------------------------------------------------------------- run
for c in 1 2; do
	dk run -d --name "lft-c$c-$$" --net=public "$IMAGE" sleep 600 >"$T_TMP/run$c.out" 2>&1
	assert_eq "docker run --net=public c$c" 0 "$?" || diag "$(cat "$T_TMP/run$c.out")"
done
A1=$(dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "lft-c1-$$")
A2=$(dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "lft-c2-$$")
diag "c1 $A1, c2 $A2"
assert_match "c1 has a leafnet address" "$A1" '^10\.80\.0\.[0-9]+$'
assert_match "c2 has a leafnet address" "$A2" '^10\.80\.0\.[0-9]+$'
assert_contains "c1's eth0 holds $A1/32" "$(dk exec "lft-c1-$$" ip -4 addr show dev eth0)" "$A1/32"
assert_contains "c1's default route via the gateway" "$(dk exec "lft-c1-$$" ip route)" \
	"default via 10.80.0.1 dev eth0"
assert_contains "host routes (proto 76) for both" "$(host_routes "$H" | awk '{print $1}' | xargs)" \
	"$A1"
assert_contains "... c2 too" "$(host_routes "$H" | awk '{print $1}' | xargs)" "$A2"
assert_eq "2 allocations in public" 2 "$(alloc_count public)"
assert_cmd "c1 -> gateway 10.80.0.1" dk exec "lft-c1-$$" ping -c 1 -W 2 10.80.0.1
assert_cmd "c1 -> c2" dk exec "lft-c1-$$" ping -c 2 -W 2 "$A2"
assert_cmd "c2 -> c1" dk exec "lft-c2-$$" ping -c 2 -W 2 "$A1"
assert_bird_route "the ToR learns c1's /32 via the node" tor "$A1/32" 10.0.0.1 5
assert_bird_route "the ToR learns c2's /32 via the node" tor "$A2/32" 10.0.0.1 5
ping_ok "ToR -> c1 through its FIB" "$TOR" "$A1"

# ------------------------- a network made through Docker, non-routable
MADE=$(dk network create -d "$DRV" --ipam-driver "$DRV" --subnet=10.81.0.0/24 \
	-o routable=false made 2>&1)
assert_eq "docker network create --subnet -o routable=false made" 0 "$?" || diag "$MADE"
nctl network inspect "docker-${MADE:0:12}" -o json
assert_eq "netctl shows it as docker-${MADE:0:12}, non-routable" "false 10.81.0.0/24" \
	"$(jq -r '"\(.routable) \(.subnets[0].cidr)"' <<<"$NCTL_OUT")"
assert_eq "docker network rm made" 0 "$(dk network rm made >/dev/null 2>&1; echo $?)"
nctl network inspect "docker-${MADE:0:12}"
assert_ne "... and it is gone from netctl" 0 "$NCTL_RC"

# ---------------------------------------- plugin restart, then docker rm
dp_stop
dp_start "$H" "$PSOCK"
HV1=$(host_routes "$H" | awk -v a="$A1" '$1 == a { print $2 }')
assert_eq "docker rm -f c1 (after a plugin restart)" 0 "$(dk rm -f "lft-c1-$$" >/dev/null 2>&1; echo $?)"
assert_not_contains "c1's host route gone" "$(host_routes "$H")" "$A1 "
assert_eventually "c1's host veth gone" "" ip -n "$H" -o link show dev "$HV1"
assert_bird_absent "the ToR withdraws c1's /32" tor "$A1/32" 5
assert_eq "c1's allocation released" 1 "$(alloc_count public)"
assert_cmd "c2 still reaches the gateway" dk exec "lft-c2-$$" ping -c 1 -W 2 10.80.0.1

assert_eq "docker rm -f c2" 0 "$(dk rm -f "lft-c2-$$" >/dev/null 2>&1; echo $?)"
assert_eq "docker network rm public" 0 "$(dk network rm public >/dev/null 2>&1; echo $?)"
assert_bird_absent "the ToR withdraws c2's /32" tor "$A2/32" 5
assert_eq "no host route left" "" "$(host_routes "$H")"
assert_eventually "no veth left" "" host_veths "$H"
assert_eq "no allocation left in public" 0 "$(alloc_count public)"
nctl network inspect public
assert_eq "public (made by netctl) survives docker network rm" 0 "$NCTL_RC"
assert_eq "no docker records left" "" "$(dp_records)"
grep -E 'level=(error|fatal)' "$T_TMP/dockerd.log" | grep -iE 'leafnet|lft-|plugin' | head -5 | sed 's/^/# dockerd: /' >&2

dk_cleanup
assert_eq "dockerd is gone" no "$(kill -0 "$DK_PID" 2>/dev/null && echo yes || echo no)"
assert_eq "the plugin socket is gone" no "$([ -e "$PSOCK" ] && echo yes || echo no)"
ld_stop n1
bird_stop_all
t_done
