/* dockerbench — leafnet-docker's request latency beside the leafnet CNI
 * plugin's ADD/DEL, on the same machine, in the same host netns.
 *
 *   dockerbench --socket SOCK --network-id ID --pool-id POOL
 *               --leafnet BIN --leafnet-conf CNI.json --leafnet-env LEAFNET_CONF=/x
 *               --netns-prefix NAME --netns-count N [--iterations 200]
 *
 * Docker side: one keep-alive HTTP/1.1 connection over the plugin's unix
 * socket (as libnetwork's Go client keeps one), per iteration
 *   RequestAddress (untimed), [CreateEndpoint + Join] timed,
 *   [Leave + DeleteEndpoint] timed, ReleaseAddress (untimed),
 * and the full sequences Docker sends for `run` / `rm` (with the IPAM calls)
 * timed apart.  CNI side: leafnet ADD / DEL fork/exec'd per operation into
 * the container namespaces NAME-1..N.  Any failure stops the run.
 * JSON bodies are built with cJSON; the HTTP client is the minimum a
 * benchmark needs (one request in flight, Content-Length bodies). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cJSON.h>

#include "benchlib.h"

#define WARMUP 5

static const char *sock_path, *netid, *poolid, *cni_bin, *cni_conf, *cni_env, *ns_prefix;
/* CNI_PATH=/nonexistent: leafnet calls no other plugin */
static struct bench_cni cni_plugin = { .cni_path = "/nonexistent", .err_to_out = true };
static unsigned ns_count = 50, iterations = 200;
static int conn = -1;

static void
connect_plugin(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		bench_die("socket path too long: %s", sock_path);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (conn < 0 || connect(conn, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		bench_die("connect %s failed", sock_path);
}

static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(conn, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			bench_die("write to the plugin: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* POST body to /method; returns the parsed answer (die on HTTP != 200 or
 * an Err/Error). */
static cJSON *
post(const char *method, cJSON *body)
{
	static char buf[1 << 16];
	char head[512], *text = cJSON_PrintUnformatted(body), *hdr_end, *cl;
	size_t have = 0, need;
	int status;
	cJSON *ans, *err;

	cJSON_Delete(body);
	snprintf(head, sizeof(head), "POST /%s HTTP/1.1\r\nHost: plugin\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		 method, strlen(text));
	write_all(head, strlen(head));
	write_all(text, strlen(text));
	free(text);
	for (;;) {
		ssize_t r = read(conn, buf + have, sizeof(buf) - 1 - have);

		if (r <= 0)
			bench_die("reading the plugin's answer to %s", method);
		have += (size_t)r;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end)
			continue;
		cl = strcasestr(buf, "Content-Length:");
		if (!cl || cl > hdr_end)
			bench_die("no Content-Length in the answer to %s", method);
		need = (size_t)(hdr_end + 4 - buf) + strtoul(cl + 15, NULL, 10);
		if (have >= need)
			break;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status != 200)
		bench_die("HTTP error: %s", buf);
	ans = cJSON_Parse(hdr_end + 4);
	if (!ans)
		bench_die("unparsable answer: %s", hdr_end + 4);
	err = cJSON_GetObjectItem(ans, "Err");
	if (!err)
		err = cJSON_GetObjectItem(ans, "Error");
	if (cJSON_IsString(err) && err->valuestring[0])
		bench_die("plugin error: %s", err->valuestring);
	return ans;
}

static cJSON *
ids(const char *epid)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "NetworkID", netid);
	cJSON_AddStringToObject(o, "EndpointID", epid);
	return o;
}

static char *
request_address(void)
{
	cJSON *o = cJSON_CreateObject(), *ans;
	char *a;

	cJSON_AddStringToObject(o, "PoolID", poolid);
	cJSON_AddStringToObject(o, "Address", "");
	ans = post("IpamDriver.RequestAddress", o);
	a = strdup(cJSON_GetObjectItem(ans, "Address")->valuestring);
	cJSON_Delete(ans);
	return a;
}

static void
release_address(const char *cidr)
{
	cJSON *o = cJSON_CreateObject();
	char a[64];

	snprintf(a, sizeof(a), "%s", cidr);
	*strchrnul(a, '/') = '\0';
	cJSON_AddStringToObject(o, "PoolID", poolid);
	cJSON_AddStringToObject(o, "Address", a);
	cJSON_Delete(post("IpamDriver.ReleaseAddress", o));
}

static void
create_and_join(const char *epid, const char *addr)
{
	cJSON *o = ids(epid), *iface = cJSON_AddObjectToObject(o, "Interface");

	cJSON_AddStringToObject(iface, "Address", addr);
	cJSON_Delete(post("NetworkDriver.CreateEndpoint", o));
	o = ids(epid);
	cJSON_AddStringToObject(o, "SandboxKey", "/var/run/docker/netns/bench");
	cJSON_Delete(post("NetworkDriver.Join", o));
}

static void
leave_and_delete(const char *epid)
{
	cJSON_Delete(post("NetworkDriver.Leave", ids(epid)));
	cJSON_Delete(post("NetworkDriver.DeleteEndpoint", ids(epid)));
}

/* One leafnet CNI call (stderr into its stdout); returns milliseconds. */
static double
cni(const char *cmd, const char *cid, unsigned i)
{
	char ns[300];

	snprintf(ns, sizeof(ns), "/run/netns/%s-%u", ns_prefix, i % ns_count + 1);
	return bench_cni_invoke(&cni_plugin, "leafnet", cmd, cid, ns);
}

static void
row(const char *what, double *v, unsigned n)
{
	struct bench_stats s = bench_stats(v, n);

	printf("%-44s %8.2f %8.2f %8.2f\n", what, s.p50, s.p99, s.max);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", 1, NULL, 's' }, { "network-id", 1, NULL, 'n' },
		{ "pool-id", 1, NULL, 'p' }, { "leafnet", 1, NULL, 'l' },
		{ "leafnet-conf", 1, NULL, 'c' }, { "leafnet-env", 1, NULL, 'e' },
		{ "netns-prefix", 1, NULL, 'x' }, { "netns-count", 1, NULL, 'k' },
		{ "iterations", 1, NULL, 'i' }, { NULL, 0, NULL, 0 },
	};
	double *cj, *ld, *run, *rm, *add, *del;
	char epid[80], cid[64], *addr;
	int c;

	bench_prog = "dockerbench";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock_path = optarg; break;
		case 'n': netid = optarg; break;
		case 'p': poolid = optarg; break;
		case 'l': cni_bin = optarg; break;
		case 'c': cni_conf = optarg; break;
		case 'e': cni_env = optarg; break;
		case 'x': ns_prefix = optarg; break;
		case 'k': ns_count = bench_uint("netns-count", optarg, 1, 1000000); break;
		case 'i': iterations = bench_uint("iterations", optarg, 1, 100000000); break;
		default: return 2;
		}
	}
	if (!sock_path || !netid || !poolid || !cni_bin || !cni_conf || !cni_env || !ns_prefix ||
	    !iterations || !ns_count)
		bench_die("%s", "usage: see the comment at the top of bench/dockerbench.c");
	cj = calloc(iterations, sizeof(double));
	ld = calloc(iterations, sizeof(double));
	run = calloc(iterations, sizeof(double));
	rm = calloc(iterations, sizeof(double));
	add = calloc(iterations, sizeof(double));
	del = calloc(iterations, sizeof(double));
	if (!cj || !ld || !run || !rm || !add || !del)
		bench_die("%s", "out of memory");
	cni_plugin.bin = cni_bin;
	cni_plugin.conf = cni_conf;
	bench_cni_env(&cni_plugin, cni_env);
	connect_plugin();

	for (unsigned i = 0; i < iterations + WARMUP; i++) {
		double t0, t1, t2, t3, t4, t5;
		unsigned k = i >= WARMUP ? i - WARMUP : 0;

		snprintf(epid, sizeof(epid), "%016x%048x", i, 0xbe7c4u);
		t0 = bench_now_ms();
		addr = request_address();
		t1 = bench_now_ms();
		create_and_join(epid, addr);
		t2 = bench_now_ms();
		cJSON_Delete(post("NetworkDriver.ProgramExternalConnectivity", ids(epid)));
		cJSON_Delete(post("NetworkDriver.EndpointOperInfo", ids(epid)));
		t3 = bench_now_ms();
		cJSON_Delete(post("NetworkDriver.RevokeExternalConnectivity", ids(epid)));
		t4 = bench_now_ms();
		leave_and_delete(epid);
		t5 = bench_now_ms();
		release_address(addr);
		free(addr);
		if (i < WARMUP)
			continue;
		cj[k] = t2 - t1;
		ld[k] = t5 - t4;
		run[k] = t3 - t0;
		rm[k] = bench_now_ms() - t3;
	}
	for (unsigned i = 0; i < iterations + WARMUP; i++) {
		unsigned k = i >= WARMUP ? i - WARMUP : 0;
		double a, d;

		snprintf(cid, sizeof(cid), "dockerbench-cni-%u", i);
		a = cni("ADD", cid, i);
		d = cni("DEL", cid, i);
		if (i >= WARMUP) {
			add[k] = a;
			del[k] = d;
		}
	}
	printf("%-44s %8s %8s %8s   (ms, %u iterations)\n", "operation", "p50", "p99", "max",
	       iterations);
	row("docker: CreateEndpoint + Join", cj, iterations);
	row("docker: Leave + DeleteEndpoint", ld, iterations);
	row("docker: run (RequestAddress ... OperInfo)", run, iterations);
	row("docker: rm (Revoke ... ReleaseAddress)", rm, iterations);
	row("CNI: leafnet ADD (fork/exec + IPAM + attach)", add, iterations);
	row("CNI: leafnet DEL", del, iterations);
	close(conn);
	free(cj); free(ld); free(run); free(rm); free(add); free(del);
	return 0;
}
