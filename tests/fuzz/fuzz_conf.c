/* fuzz_conf.c — libFuzzer target for leafnet.conf, the one config file
 * every binary reads.  A refusal names a code and a message; an accepted
 * file gives a configuration that passes validation again (idempotent) and
 * holds NUL-terminated strings within their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct leafnet_conf c;
	struct lf_err e = { 0 };
	char *text;
	int r;

	if (size > 64 * 1024)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = conf_parse(text, &c, &e);
	if (r < 0) {
		CHECK(e.code != 0 && e.msg[0] != '\0');
	} else {
		CHECK(TERMINATED(c.state_dir) && TERMINATED(c.node_name) &&
		      TERMINATED(c.control_socket) && TERMINATED(c.datastore) &&
		      TERMINATED(c.etcd_endpoints) && TERMINATED(c.docker_socket));
		CHECK(c.bgp_port >= 1 && c.bgp_port <= 65535);
		CHECK(c.node_name[0] != '\0');
	}
	free(text);
	return 0;
}
