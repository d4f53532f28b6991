/* leafnetd — the leafnet routing daemon: workload routes in the kernel
 * out to BGP peers, learned routes back in.
 *
 *   leafnetd [--config FILE] [-d] [-n]
 *	-d  debug: log at debug level to stderr (stays in the foreground,
 *	    as it always does; systemd runs it with Type=simple)
 *	-n  print the normalized effective configuration as JSON and exit
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ld_local.h"
#include "log.h"
#include "store.h"

static int
usage(void)
{
	fprintf(stderr, "usage: leafnetd [--config FILE] [-d] [-n]\n"
		"  --config FILE  leafnet config (default $LEAFNET_CONF, then "
		LEAFNET_CONF_DEFAULT ")\n"
		"  -d             debug logging to stderr\n"
		"  -n             print the effective configuration as JSON and exit\n");
	return 2;
}

/* -n: the config file and the store, normalized; nothing else started. */
static int
print_config(const char *path)
{
	struct leafnet_conf base;
	struct lf_err e = { 0 };
	struct store *s = NULL;
	struct ld_conf c;
	char err[512], *text;
	int r;

	if (conf_load(path, &base, &e) < 0) {
		fprintf(stderr, "leafnetd: %s\n", e.msg);
		return 1;
	}
	if ((r = store_open(&base, &s, NULL)) < 0) {
		fprintf(stderr, "leafnetd: store %s: %s\n", strcmp(base.datastore, "etcd") == 0
			? base.etcd_endpoints : base.state_dir, strerror(-r));
		return 1;
	}
	r = ld_conf_build(path, s, &c, err, sizeof(err));
	store_free(s);
	if (r < 0) {
		fprintf(stderr, "leafnetd: configuration: %s\n", err);
		return 1;
	}
	text = ld_conf_to_json(&c);
	ld_conf_done(&c);
	if (text == NULL)
		return 1;
	printf("%s\n", text);
	free(text);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	struct leafnet_conf base;
	struct lf_err e = { 0 };
	bool debug = false, check = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:dnh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': debug = true; break;
		case 'n': check = true; break;
		default: return usage();
		}
	}
	if (optind != argc)
		return usage();
	log_init("leafnetd", LOG_LVL_WARN, NULL);
	if (check)
		return print_config(config);
	if (conf_load(config, &base, &e) < 0) {
		fprintf(stderr, "leafnetd: %s\n", e.msg);
		return 1;
	}
	log_init("leafnetd", debug ? LOG_LVL_DEBUG : (enum log_level)base.log_level,
		 debug ? NULL : base.log_file);
	return ld_run(config, debug) < 0 ? 1 : 0;
}
