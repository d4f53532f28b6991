#!/bin/bash
# packaging/kubernetes: the manifests and the node image.
#
# 1. `kubectl apply --dry-run=client -f packaging/kubernetes/` (Debian's
#    kubernetes-client).  With no cluster, kubectl still asks an API server
#    for discovery (which kinds exist, namespaced or not) and, to validate,
#    for its OpenAPI schema.  So kubectl talks to a stand-in: busybox httpd
#    in a namespace of the test's own, serving static discovery documents
#    (v1 ConfigMap, apps/v1 DaemonSet) and 404 for every object (= "does
#    not exist yet").  There is no OpenAPI schema offline, so --validate=false:
#    kubectl parses the YAML, maps every kind and builds the objects; a
#    misspelt kind or broken YAML fails it (checked).  The structure is then
#    checked from kubectl's own -o json: hostNetwork, capabilities, not
#    privileged, no RBAC objects, every mount backed by a volume, the
#    hostPaths, the readiness probe, the ConfigMap equal to the files beside
#    it, and the init container's arguments run for real against a scratch
#    root with the ConfigMap's files.
# 2. The image: packaging/kubernetes/build-image.sh builds it (FROM scratch)
#    in a dockerd of the test's own (inside a netns via nsenter --net, own
#    --data-root/--exec-root/--pidfile/-H socket under the temp dir, vfs, no
#    iptables/bridge, as test_docker_engine does; killed by PID at the end).
#    Its installer fills a host directory mounted into it (twice: nothing
#    changed the second time), netctl runs in it, and its default command,
#    leafnetd, runs as the DaemonSet runs it (read-only root, all
#    capabilities dropped but NET_ADMIN, NET_RAW, NET_BIND_SERVICE) and
#    answers the readiness probe's `netctl status -o json`.  Skipped, with
#    an ok line saying why, when dockerd cannot start here.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../docker.sh"
t_init
K8S=$T_ROOT/packaging/kubernetes
t_require "$BIN/leafnet-install-cni" "$BIN/leafnetd" "$BIN/netctl" kubectl busybox cmp

# ============================================================ kubectl
mkns K
API=$T_TMP/api
mkdir -p "$API/api/v1" "$API/apis/apps/v1" "$T_TMP/home"
# busybox httpd answers /api with a redirect to /api/, served from index.html
echo '{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:8080"}]}' \
	>"$API/api/index.html"
echo '{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}' \
	>"$API/apis/index.html"
echo '{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["create","get","list","patch","update"]},{"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","verbs":["create","get","list"]}]}' \
	>"$API/api/v1/index.html"
echo '{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[{"name":"daemonsets","singularName":"daemonset","namespaced":true,"kind":"DaemonSet","verbs":["create","get","list","patch","update"]}]}' \
	>"$API/apis/apps/v1/index.html"
echo '.html:application/json' >"$T_TMP/httpd.conf"
# not a job of this shell (no "Killed" at the end): the trap ends it as a
# process inside a namespace of the test's
(ip netns exec "$K" busybox httpd -f -p 127.0.0.1:8080 -h "$API" -c "$T_TMP/httpd.conf" \
	>"$T_TMP/httpd.log" 2>&1 &)
cat >"$T_TMP/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "http://127.0.0.1:8080"}}]
contexts: [{name: offline, context: {cluster: offline, user: nobody}}]
users: [{name: nobody, user: {}}]
current-context: offline
EOF
kc() {
	ip netns exec "$K" env HOME="$T_TMP/home" KUBECONFIG="$T_TMP/kubeconfig" \
		timeout -k 2 60 kubectl "$@"
}
for _ in $(seq 1 50); do
	ip netns exec "$K" busybox wget -q -O /dev/null http://127.0.0.1:8080/api/ 2>/dev/null && break
	sleep 0.1
done

kc apply --dry-run=client --validate=false -f "$K8S/" >"$T_TMP/apply.out" 2>"$T_TMP/apply.err"
assert_eq "kubectl apply --dry-run=client -f packaging/kubernetes/: exit 0" 0 "$?" ||
	diag "$(cat "$T_TMP/apply.err")"
assert_contains "... the ConfigMap" "$(cat "$T_TMP/apply.out")" "configmap/leafnet-config created (dry run)"
assert_contains "... the DaemonSet" "$(cat "$T_TMP/apply.out")" "daemonset.apps/leafnet created (dry run)"

# negative controls: the same check fails on a misspelt kind and on bad YAML
mkdir -p "$T_TMP/bad1" "$T_TMP/bad2"
sed 's/^kind: DaemonSet$/kind: DaemonSett/' "$K8S/daemonset.yaml" >"$T_TMP/bad1/ds.yaml"
kc apply --dry-run=client --validate=false -f "$T_TMP/bad1/" >/dev/null 2>&1
assert_ne "a misspelt kind fails the same check" 0 "$?"
sed 's/^  template:$/  template: [/' "$K8S/daemonset.yaml" >"$T_TMP/bad2/ds.yaml"
kc apply --dry-run=client --validate=false -f "$T_TMP/bad2/" >/dev/null 2>&1
assert_ne "broken YAML fails the same check" 0 "$?"

kc apply --dry-run=client --validate=false -o json -f "$K8S/" >"$T_TMP/objs.raw" 2>/dev/null
jq -s '[.[] | if .kind == "List" then .items[] else . end]' "$T_TMP/objs.raw" >"$T_TMP/objs.json" ||
	bail "kubectl -o json" "$(head -c 300 "$T_TMP/objs.raw")"
q() { jq -r "$@" "$T_TMP/objs.json"; }
assert_eq "objects: a ConfigMap and a DaemonSet, no RBAC (nothing calls the API)" \
	"ConfigMap DaemonSet" "$(q '[.[].kind] | sort | join(" ")')"
DS='(.[] | select(.kind == "DaemonSet") | .spec.template.spec)'
assert_eq "hostNetwork: true" true "$(q "$DS.hostNetwork")"
assert_eq "no service account token mounted" false "$(q "$DS.automountServiceAccountToken")"
assert_eq "nothing privileged" "" \
	"$(q "$DS | (.initContainers + .containers)[] | select(.securityContext.privileged == true) | .name")"
assert_eq "leafnetd adds NET_ADMIN, NET_BIND_SERVICE, NET_RAW and drops the rest" \
	"NET_ADMIN NET_BIND_SERVICE NET_RAW / ALL" \
	"$(q "$DS.containers[] | select(.name == \"leafnetd\") | .securityContext.capabilities |
	      (.add | sort | join(\" \")) + \" / \" + (.drop | join(\" \"))")"
assert_eq "leafnetd's readiness: netctl status -o json" "/usr/bin/netctl status -o json" \
	"$(q "$DS.containers[0].readinessProbe.exec.command | [.[0]] + .[3:] | join(\" \")")"
assert_eq "every volumeMount has its volume" "" \
	"$(q "$DS | [.volumes[].name] as \$v | (.initContainers + .containers)[].volumeMounts[] |
	      select(.name as \$n | \$v | index(\$n) | not) | .name")"
assert_eq "hostPaths: CNI bin and net.d, state, control socket, netns, log" \
	"/etc/cni/net.d /opt/cni/bin /run/leafnet /run/netns /var/lib/leafnet /var/log/leafnet" \
	"$(q "[$DS.volumes[].hostPath.path // empty] | sort | join(\" \")")"
assert_eq "the config volume is the ConfigMap" \
	"$(q '.[] | select(.kind == "ConfigMap") | .metadata.name')" \
	"$(q "$DS.volumes[] | select(.configMap) | .configMap.name")"
assert_eq "the init container runs the installer" /usr/bin/leafnet-install-cni \
	"$(q "$DS.initContainers[0].command[0]")"

CM='(.[] | select(.kind == "ConfigMap") | .data)'
mkdir -p "$T_TMP/cm"
q -j "$CM[\"leafnet.conf\"]" >"$T_TMP/cm/leafnet.conf"
q -j "$CM[\"10-leafnet.conflist\"]" >"$T_TMP/cm/10-leafnet.conflist"
assert_cmd "ConfigMap leafnet.conf = packaging/kubernetes/leafnet.conf" \
	cmp -s "$T_TMP/cm/leafnet.conf" "$K8S/leafnet.conf"
assert_cmd "ConfigMap 10-leafnet.conflist = packaging/kubernetes/10-leafnet.conflist" \
	cmp -s "$T_TMP/cm/10-leafnet.conflist" "$K8S/10-leafnet.conflist"
assert_cmd "leafnetd accepts the ConfigMap's leafnet.conf" \
	"$BIN/leafnetd" -n --config "$T_TMP/cm/leafnet.conf"
assert_eq "the conflist: leafnet with leafnet-ipam, leafnet_conf where the installer puts it" \
	"leafnet leafnet-ipam /etc/cni/net.d/leafnet/leafnet.conf" \
	"$(jq -r '.plugins[0] | "\(.type) \(.ipam.type) \(.leafnet_conf)"' "$T_TMP/cm/10-leafnet.conflist")"

# the init container's own arguments, with its mounts played by directories
mapfile -t ARGS < <(q "$DS.initContainers[0].command[1:][]")
mkdir -p "$T_TMP/node"
for i in "${!ARGS[@]}"; do
	ARGS[i]=$(sed -e "s|^--source=.*|--source=$BIN|" -e "s|=/etc/leafnet/|=$T_TMP/cm/|" \
		-e "s|=/host/|=$T_TMP/node/|" <<<"${ARGS[i]}")
done
"$BIN/leafnet-install-cni" "${ARGS[@]}" >"$T_TMP/init.out" 2>&1
assert_eq "the init container's arguments install (exit 0)" 0 "$?" || diag "$(cat "$T_TMP/init.out")"
assert_eq "... plugins, leafnet.conf and conflist on the node" \
	"./etc/cni/net.d/10-leafnet.conflist ./etc/cni/net.d/leafnet/leafnet.conf ./opt/cni/bin/leafnet ./opt/cni/bin/leafnet-ipam" \
	"$(cd "$T_TMP/node" && find . -type f | sort | xargs)"

# ============================================================ the image
DOCKERD=/usr/sbin/dockerd
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)
DK_DIR=$T_TMP/docker
DK_SOCK=$DK_DIR/docker.sock
DK_PID=
DK_DONE=0
IMG=lft-leafnet-$$
dk() { timeout -k 5 120 "$DOCKER" -H "unix://$DK_SOCK" "$@"; }
dk_cleanup() {
	local pid m
	[ "$DK_DONE" = 1 ] && return 0
	DK_DONE=1
	if [ -n "$DK_PID" ] && kill -0 "$DK_PID" 2>/dev/null; then
		dk rm -f $(dk ps -aq 2>/dev/null) >/dev/null 2>&1
		kill -TERM "$DK_PID" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$DK_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DK_PID" 2>/dev/null
	fi
	pid=$(cat "$DK_DIR/exec/containerd/containerd.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
	for m in $(awk -v d="$DK_DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	return 0
}
trap 'dk_cleanup; t_cleanup' EXIT
trap 'notok interrupted "caught a signal"; dk_cleanup; t_cleanup; exit 130' INT TERM

skip_image() {
	ok "SKIP the image tests: $1"
	t_done
}
[ -x "$DOCKERD" ] && [ -n "$DOCKER" ] && command -v containerd >/dev/null && command -v runc >/dev/null ||
	skip_image "no dockerd/docker/containerd/runc (apt-get install docker.io)"

mkhost H
dockerd_start "$H" ||
	skip_image "dockerd cannot start here ($(grep -E 'level=(error|fatal)' "$T_TMP/dockerd.log" | tail -1 | cut -c1-200))"
ok "dockerd $(dk version -f '{{.Server.Version}}') runs inside $H"

DOCKER="$DOCKER -H unix://$DK_SOCK" timeout -k 5 170 "$K8S/build-image.sh" --bin "$BIN" \
	--tag "$IMG" --context "$T_TMP/ctx" >"$T_TMP/build.log" 2>&1
assert_eq "build-image.sh builds the image (FROM scratch, offline)" 0 "$?" ||
	{ tail -15 "$T_TMP/build.log" | sed 's/^/# /' >&2; t_done; }
VERSION=$("$BIN/netctl" version | awk '{ print $2 }')
assert_eq "tagged $IMG:$VERSION and $IMG:latest" "$IMG:$VERSION $IMG:latest" \
	"$(dk images --format '{{.Repository}}:{{.Tag}}' "$IMG" | sort | xargs)"
assert_eq "its default command is leafnetd" '[/usr/bin/leafnetd --config /etc/leafnet/leafnet.conf]' \
	"$(dk image inspect -f '{{.Config.Cmd}}' "$IMG:latest")"
assert_eq "one layer: nothing but ours" 1 "$(dk image inspect -f '{{len .RootFS.Layers}}' "$IMG:latest")"
assert_eq "netctl runs in the image (its libraries are there)" "netctl $VERSION" \
	"$(dk run --rm --network none "$IMG:latest" /usr/bin/netctl version 2>&1)"

# the installer, as the init container runs it, into a mounted host dir
HOST=$T_TMP/hostdir
mkdir -p "$HOST/opt/cni/bin" "$HOST/etc/cni/net.d"
run_installer() {
	dk run --rm --network none --read-only --cap-drop ALL \
		-v "$HOST/opt/cni/bin:/host/opt/cni/bin" -v "$HOST/etc/cni/net.d:/host/etc/cni/net.d" \
		"$IMG:latest" /usr/bin/leafnet-install-cni --bin-dir=/host/opt/cni/bin \
		--net-dir=/host/etc/cni/net.d --leafnet-conf=/etc/leafnet/leafnet.conf
}
run_installer >"$T_TMP/inst1.out" 2>&1
assert_eq "the image's installer into a mounted directory: exit 0" 0 "$?" ||
	diag "$(cat "$T_TMP/inst1.out")"
assert_cmd "... leafnet is the image's (= the build's) plugin" \
	cmp -s "$BIN/leafnet" "$HOST/opt/cni/bin/leafnet"
assert_cmd "... leafnet-ipam too" cmp -s "$BIN/leafnet-ipam" "$HOST/opt/cni/bin/leafnet-ipam"
assert_eq "... the image's conflist, marked" true \
	"$(jq '."leafnet-installed"' "$HOST/etc/cni/net.d/10-leafnet.conflist" 2>/dev/null)"
assert_cmd "... leafnet.conf beside it" cmp -s "$K8S/leafnet.conf" "$HOST/etc/cni/net.d/leafnet/leafnet.conf"
BEFORE=$(cd "$HOST" && find . -type f | sort | xargs stat -c '%n %i %.9Y')
run_installer >"$T_TMP/inst2.out" 2>&1
assert_contains "a second run in a new container: nothing changed" "$(cat "$T_TMP/inst2.out")" \
	"nothing changed (4 files up to date)"
assert_eq "... same inodes and mtimes" "$BEFORE" "$(cd "$HOST" && find . -type f | sort | xargs stat -c '%n %i %.9Y')"

# leafnetd as the DaemonSet runs it (--network host: dockerd's namespace H,
# as hostNetwork gives the node's; H has 10.255.0.1, the router id); the
# readiness probe's command answers
mkdir -p "$T_TMP/ldlog" "$T_TMP/ldstate" "$T_TMP/ldrun"
dk run -d --name "$IMG-d" --network host --read-only --cap-drop ALL \
	--cap-add NET_ADMIN --cap-add NET_RAW --cap-add NET_BIND_SERVICE \
	-v "$T_TMP/ldstate:/var/lib/leafnet" -v "$T_TMP/ldrun:/run/leafnet" \
	-v "$T_TMP/ldlog:/var/log/leafnet" \
	"$IMG:latest" >"$T_TMP/run.out" 2>&1
assert_eq "leafnetd starts as the image's default command" 0 "$?" || diag "$(cat "$T_TMP/run.out")"
PROBE=1
for _ in $(seq 1 50); do
	dk exec "$IMG-d" /usr/bin/netctl --config /etc/leafnet/leafnet.conf status -o json \
		>"$T_TMP/probe.out" 2>&1 && { PROBE=0; break; }
	sleep 0.2
done
assert_eq "the readiness probe (netctl status -o json) passes" 0 "$PROBE" ||
	diag "$(cat "$T_TMP/probe.out"); $(tail -5 "$T_TMP/ldlog/leafnet.log" 2>&1)"
assert_eq "... leafnetd answers with its peer table" true \
	"$(jq 'has("peers")' "$T_TMP/probe.out" 2>/dev/null)"
assert_contains "... and logs to the host's /var/log/leafnet (hostPath)" \
	"$(cat "$T_TMP/ldlog/leafnet.log" 2>/dev/null)" "leafnetd running"
dk stop -t 10 "$IMG-d" >/dev/null 2>&1
assert_eq "leafnetd exits 0 on SIGTERM (docker stop)" 0 \
	"$(dk inspect -f '{{.State.ExitCode}}' "$IMG-d" 2>/dev/null)"
dk rm -f "$IMG-d" >/dev/null 2>&1

dk_cleanup
t_done
