/* fuzz_cni_conf.c — libFuzzer target for what a CNI runtime hands the
 * plugin: the environment (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME, CNI_ARGS, CNI_PATH) and the network configuration on stdin.
 *
 * Input: environment lines "KEY=VALUE\n" up to an empty line, then the
 * configuration text.  Both parsers run for every command, as leafnet and
 * as leafnet-ipam.  A failure must come with a code and a message naming
 * something; a success must leave a configuration the rest of the plugin
 * can use (a valid network name, statics within bounds, a unicast MAC only
 * where one is used), and the error
 * reply for a failure must render.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "err.h"
#include "network.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static const char *const vars[] = {
	"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH",
};

static void
set_env(char *env)
{
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	for (char *line = env, *next; line != NULL && *line != '\0'; line = next) {
		char *eq;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			if (strcmp(line, vars[i]) == 0)
				setenv(vars[i], eq + 1, 1);
	}
}

static void
check_err(const struct lf_err *e, int r)
{
	CHECK(r < 0);
	CHECK(e->code != 0);
	CHECK(e->msg[0] != '\0');
	CHECK(memchr(e->msg, '\0', sizeof(e->msg)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cni_command cmds[] = {
		CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_GC, CNI_CMD_STATUS,
		CNI_CMD_VERSION,
	};
	char *buf, *text;

	if (size > 64 * 1024)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	text = strstr(buf, "\n\n");
	if (text != NULL) {
		*text = '\0';
		text += 2;
		set_env(buf);
	} else {
		text = buf;
		set_env(NULL);
	}

	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		struct cni_env env;
		struct lf_err e = { 0 };
		int r;

		memset(&env, 0, sizeof(env));
		r = cni_env_parse(cmds[c], &env, &e);
		if (r < 0) {
			check_err(&e, r);
			memset(&env, 0, sizeof(env));	/* parse the config anyway */
		}
		for (int ipam = 0; ipam <= 1; ipam++) {
			struct cni_conf conf;
			struct lf_err ce = { 0 };

			memset(&conf, 0, sizeof(conf));
			r = cni_conf_parse(text, cmds[c], ipam, &env, &conf, &ce);
			if (r < 0) {
				check_err(&ce, r);
				(void)cni_conf_peek_version(text);
				continue;
			}
			CHECK(network_name_valid(conf.network));
			CHECK(conf.n_statics <= sizeof(conf.statics) / sizeof(conf.statics[0]));
			CHECK(!conf.has_prev_result || conf.prev_result != NULL);
			/* a MAC only for ADD / CHECK as leafnet, and always unicast */
			CHECK(!conf.has_mac || (!ipam && (cmds[c] == CNI_CMD_ADD ||
							  cmds[c] == CNI_CMD_CHECK)));
			CHECK(!conf.has_mac || (!(conf.mac[0] & 1) &&
						(conf.mac[0] | conf.mac[1] | conf.mac[2] |
						 conf.mac[3] | conf.mac[4] | conf.mac[5])));
			if (conf.prev_result != NULL) {
				char *out = cni_result_render(conf.prev_result, conf.version);

				CHECK(out != NULL);
				free(out);
			}
			for (size_t i = 0; i < conf.n_valid; i++)
				CHECK(cni_attachment_valid(&conf, conf.valid[i].container_id,
							   conf.valid[i].ifname));
			cni_conf_done(&conf);
		}
	}
	free(buf);
	return 0;
}
