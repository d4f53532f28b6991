/* fuzz_netctl_args.c — libFuzzer target for netctl's command line: global
 * flags, the noun/verb table and every verb's flags and operands, run
 * against a fresh in-memory store each time (store/store_mem.c), so a
 * sequence of commands can build state and the next one reads it.
 *
 * Input: up to 4 command lines separated by an empty line, each an
 * argument per line.  Every command must end with an exit status of 0, 1
 * or 2 (never a crash, a leak or an abort), and the store must stay
 * readable.  Run with -close_fd_mask=3: netctl prints a lot.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "store.h"
#include "store_backend.h"
#include "network.h"

#define main netctl_main
#include "../../netctl/main.c"
#undef main

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAX_ARGS 32

static int
run_one(struct store *s, const struct leafnet_conf *conf, char *line)
{
	char *argv[MAX_ARGS + 2];
	struct netctl ctx;
	int argc = 0, first, ret = 0;

	argv[argc++] = (char *)"netctl";
	for (char *w = line, *next; w != NULL && argc <= MAX_ARGS; w = next) {
		next = strchr(w, '\n');
		if (next != NULL)
			*next++ = '\0';
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	netctl_init(&ctx);
	ctx.conf = *conf;
	ctx.conf_loaded = true;
	ctx.store = s;
	optind = 0;			/* glibc: a full getopt reset */
	opterr = 0;
	first = netctl_parse_global(&ctx, argc, argv, &ret);
	if (first >= 0)
		ret = netctl_dispatch(&ctx, argc - first, argv + first);
	ctx.store = NULL;		/* ours, not netctl_done's */
	netctl_done(&ctx);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct leafnet_conf conf;
	static bool conf_ok;
	struct network *nets = NULL;
	struct store *s = NULL;
	size_t n_nets = 0;
	char *buf, *cmd, *next;
	int i;

	if (size > 4096)
		return 0;
	if (!conf_ok) {
		conf_defaults(&conf);
		snprintf(conf.control_socket, sizeof(conf.control_socket),
			 "/nonexistent/leafnet-fuzz.sock");
		conf_ok = true;
	}
	if (store_open_ops(&store_mem_ops, &conf, &s, NULL) < 0)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL) {
		store_free(s);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (cmd = buf, i = 0; cmd != NULL && i < 4; cmd = next, i++) {
		int ret;

		next = strstr(cmd, "\n\n");
		if (next != NULL) {
			*next = '\0';
			next += 2;
		}
		ret = run_one(s, &conf, cmd);
		CHECK(ret == 0 || ret == 1 || ret == 2);
	}
	/* what the commands left is readable as networks, or reported */
	if (network_list(s, &nets, &n_nets, NULL) == 0)
		free(nets);
	free(buf);
	store_free(s);
	return 0;
}
