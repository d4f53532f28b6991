/* fuzz_ctl_req.c — libFuzzer target for leafnetd's control-socket
 * requests (ctl/ctl_proto.c, what routing/control.c runs on every line a
 * client sends).  A refusal carries a code and a message; an accepted
 * request formats back to a line that parses to the same request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "err.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r, r2;
	struct lf_err e = { 0 };
	char *line, *again;

	if (size >= CTL_LINE_MAX)
		return 0;
	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (ctl_req_parse(line, &r, &e) < 0) {
		CHECK(e.code != 0 && e.msg[0] != '\0');
	} else {
		CHECK(ctl_cmd_name(r.cmd) != NULL);
		again = ctl_req_format(&r);
		CHECK(again != NULL);
		CHECK(ctl_req_parse(again, &r2, NULL) == 0);
		CHECK(r2.cmd == r.cmd);
		if (r.cmd == CTL_CMD_NOTIFY)
			CHECK(r2.add == r.add && prefix_eq(&r2.prefix, &r.prefix));
		if (r.cmd == CTL_CMD_OP)
			CHECK(r2.ok == r.ok && r2.ms == r.ms && strcmp(r2.plugin, r.plugin) == 0 &&
			      strcmp(r2.verb, r.verb) == 0 && r.verb[0] != '\0');
		free(again);
	}
	free(line);
	return 0;
}
