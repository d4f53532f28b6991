/* status.c — `netctl status`: is leafnetd running, and its BGP peers, in
 * the tables people know from `calicoctl node status`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <cJSON.h>

#include "ctl.h"
#include "err.h"
#include "json.h"
#include "log.h"
#include "netctl.h"

#define STATUS_TIMEOUT_MS 3000
#define STATUS_COLS 5

static const char *const status_hdr[STATUS_COLS] = {
	"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO",
};

struct status_row {
	char cell[STATUS_COLS][160];
};

static void
status_rule(const size_t *w)
{
	for (size_t c = 0; c < STATUS_COLS; c++) {
		putchar('+');
		for (size_t i = 0; i < w[c] + 2; i++)
			putchar('-');
	}
	puts("+");
}

static void
status_table(const char *title, const struct status_row *rows, size_t n)
{
	size_t w[STATUS_COLS];

	printf("%s\n", title);
	if (n == 0) {
		printf("No %s peers found.\n", strncmp(title, "IPv6", 4) == 0 ? "IPv6" : "IPv4");
		return;
	}
	for (size_t c = 0; c < STATUS_COLS; c++) {
		w[c] = strlen(status_hdr[c]);
		for (size_t r = 0; r < n; r++)
			if (strlen(rows[r].cell[c]) > w[c])
				w[c] = strlen(rows[r].cell[c]);
	}
	status_rule(w);
	for (size_t c = 0; c < STATUS_COLS; c++) {
		size_t len = strlen(status_hdr[c]), left = (w[c] - len) / 2;

		printf("| %*s%s%*s ", (int)left, "", status_hdr[c], (int)(w[c] - len - left), "");
	}
	puts("|");
	status_rule(w);
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < STATUS_COLS; c++)
			printf("| %-*s ", (int)w[c], rows[r].cell[c]);
		puts("|");
	}
	status_rule(w);
}

/* HH:MM:SS when today, else the date. */
static void
status_since(double since, char *buf, size_t size)
{
	time_t t = (time_t)since, now = time(NULL);
	struct tm tm, today;

	if (since <= 0 || !localtime_r(&t, &tm) || !localtime_r(&now, &today)) {
		snprintf(buf, size, "-");
		return;
	}
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(buf, size, "%H:%M:%S", &tm);
	else
		strftime(buf, size, "%Y-%m-%d", &tm);
}

static const char *
jstr(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(it) ? it->valuestring : dflt;
}

static int
status_print(const cJSON *root)
{
	const cJSON *peers = cJSON_GetObjectItemCaseSensitive(root, "peers"), *p;
	struct status_row *rows4, *rows6;
	size_t n4 = 0, n6 = 0, n = (size_t)cJSON_GetArraySize(peers);

	rows4 = calloc(n ? n : 1, sizeof(*rows4));
	rows6 = calloc(n ? n : 1, sizeof(*rows6));
	if (rows4 == NULL || rows6 == NULL) {
		free(rows4);
		free(rows6);
		return out_error("out of memory");
	}
	printf("leafnetd process is running.\n\n");
	cJSON_ArrayForEach(p, peers) {
		const char *addr = jstr(p, "address", "-"), *state = jstr(p, "state", "-");
		const char *info = jstr(p, "info", "");
		const cJSON *up = cJSON_GetObjectItemCaseSensitive(p, "up");
		const cJSON *since = cJSON_GetObjectItemCaseSensitive(p, "since");
		struct status_row *row = strchr(addr, ':') ? &rows6[n6++] : &rows4[n4++];

		snprintf(row->cell[0], sizeof(row->cell[0]), "%s", addr);
		/* a reflector's client is no reflector: say what it is to us */
		if (strcmp(jstr(p, "role", ""), "rr-client") == 0)
			snprintf(row->cell[1], sizeof(row->cell[1]), "rr client");
		else
			snprintf(row->cell[1], sizeof(row->cell[1]), "%s", jstr(p, "type", "-"));
		snprintf(row->cell[2], sizeof(row->cell[2]), "%s", cJSON_IsTrue(up) ? "up" : "start");
		status_since(cJSON_IsNumber(since) ? since->valuedouble : 0, row->cell[3],
			     sizeof(row->cell[3]));
		const cJSON *gr = cJSON_GetObjectItemCaseSensitive(p, "graceful_restart");
		const cJSON *stale = cJSON_GetObjectItemCaseSensitive(gr, "stale_routes");
		char grs[48] = "";

		if (cJSON_IsNumber(stale) && stale->valuedouble > 0)
			snprintf(grs, sizeof(grs), " (graceful restart: %.0f stale routes)",
				 stale->valuedouble);
		if (info[0] && strcmp(info, state) != 0)
			snprintf(row->cell[4], sizeof(row->cell[4]), "%s %.100s%s", state, info, grs);
		else
			snprintf(row->cell[4], sizeof(row->cell[4]), "%s%s", state, grs);
	}
	status_table("IPv4 BGP status", rows4, n4);
	printf("\n");
	status_table("IPv6 BGP status", rows6, n6);
	free(rows4);
	free(rows6);
	return NETCTL_EXIT_OK;
}

/* --routes: the local RIB and the learned routes. */
static int
routes_print(const cJSON *root)
{
	const cJSON *local = cJSON_GetObjectItemCaseSensitive(root, "local");
	const cJSON *learned = cJSON_GetObjectItemCaseSensitive(root, "learned"), *r, *it;
	struct table *t;
	char comm[256], hops[512];
	int rc = 0;

	t = table_new(5, "PREFIX", "NETWORK", "SOURCE", "ADVERTISED", "COMMUNITIES");
	if (t == NULL)
		return out_error("out of memory");
	cJSON_ArrayForEach(r, local) {
		bool agg = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "aggregate"));
		bool adv = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "advertised"));

		comm[0] = '\0';
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "communities"))
			if (cJSON_IsString(it))
				snprintf(comm + strlen(comm), sizeof(comm) - strlen(comm), "%s%s",
					 comm[0] ? "," : "", it->valuestring);
		rc = table_add(t, jstr(r, "prefix", "-"), jstr(r, "network", "-"),
			       agg ? "block" : "kernel", adv ? "yes" : "no (in a block)",
			       comm[0] ? comm : "-");
		if (rc < 0)
			break;
	}
	if (table_done(t, rc) != NETCTL_EXIT_OK)
		return NETCTL_EXIT_RUNTIME;
	if (cJSON_GetArraySize(learned) == 0)
		return NETCTL_EXIT_OK;
	printf("\n");
	t = table_new(2, "LEARNED PREFIX", "NEXT HOPS");
	if (t == NULL)
		return out_error("out of memory");
	cJSON_ArrayForEach(r, learned) {
		hops[0] = '\0';
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "nexthops"))
			if (cJSON_IsString(it))
				snprintf(hops + strlen(hops), sizeof(hops) - strlen(hops), "%s%s",
					 hops[0] ? "," : "", it->valuestring);
		rc = table_add(t, jstr(r, "prefix", "-"), hops);
		if (rc < 0)
			break;
	}
	return table_done(t, rc);
}

const char status_help[] =
	"  --routes   show leafnetd's local RIB (workload routes and block aggregates,\n"
	"             whether each is advertised, its communities) and learned routes\n";

int
status_cmd(struct netctl *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		NETCTL_COMMON_OPTS,
		{ "routes", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct lf_err err = { 0 };
	cJSON *root = NULL;
	char *resp = NULL;
	bool routes = false;
	int c, r, ret = 0;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'R') {
			routes = true;
			continue;
		}
		if (netctl_opt_common(ctx, c, argv, &ret))
			return ret;
	}
	if (optind < argc)
		return out_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (!ctx->conf_loaded) {
		r = conf_load(ctx->config_path, &ctx->conf, &err);
		if (r < 0)
			return out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "config");
		ctx->conf_loaded = true;
	}

	r = ctl_request(ctx->conf.control_socket,
			routes ? "{\"cmd\":\"routes\"}" : "{\"cmd\":\"status\"}", &resp,
			routes ? 30000 : STATUS_TIMEOUT_MS);
	if (r < 0) {
		/* EACCES/EPERM: something answers there, we may not talk to it
		 * (the control socket is 0600 root's) */
		bool denied = r == -EACCES || r == -EPERM;

		if (ctx->output == NETCTL_OUT_JSON) {
			root = cJSON_CreateObject();
			if (root) {
				if (denied)
					cJSON_AddNullToObject(root, "running");
				else
					cJSON_AddBoolToObject(root, "running", false);
				cJSON_AddStringToObject(root, "control_socket",
							ctx->conf.control_socket);
				cJSON_AddStringToObject(root, "error", strerror(-r));
				(void)out_json(root);
				cJSON_Delete(root);
			}
		} else if (denied) {
			fprintf(stderr, "netctl: permission denied on leafnetd's control socket %s: "
				"run netctl as root (the socket is mode 0600)\n",
				ctx->conf.control_socket);
		} else {
			printf("leafnetd is not running (no answer on %s: %s)\n",
			       ctx->conf.control_socket, strerror(-r));
		}
		return NETCTL_EXIT_RUNTIME;
	}
	r = json_parse(resp, &root, &err);
	free(resp);
	if (r < 0)
		return out_error("leafnetd answered with something that is not JSON: %s", err.msg);
	if (cJSON_GetObjectItemCaseSensitive(root, "error"))
		ret = out_error("leafnetd: %s", jstr(root, "error", "?"));
	else if (ctx->output == NETCTL_OUT_JSON)
		ret = out_json(root);
	else if (routes)
		ret = routes_print(root);
	else
		ret = status_print(root);
	cJSON_Delete(root);
	return ret;
}
