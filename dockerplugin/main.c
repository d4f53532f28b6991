/* main.c — leafnet-docker: the libnetwork remote network and IPAM driver.
 *
 *   leafnet-docker [--config FILE] [--socket PATH] [-d]
 *
 * The socket's file name is the driver's name for Docker: the default
 * /run/docker/plugins/leafnet.sock gives `-d leafnet --ipam-driver leafnet`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "dp.h"
#include "err.h"
#include "log.h"
#include "store.h"

static int
usage(void)
{
	fprintf(stderr, "usage: leafnet-docker [--config FILE] [--socket PATH] [-d]\n"
		"  --config FILE  leafnet config (default $LEAFNET_CONF, then %s)\n"
		"  --socket PATH  listening socket (default: config docker_socket, %s)\n"
		"  -d             debug: log every request and answer to stderr\n",
		LEAFNET_CONF_DEFAULT, LEAFNET_DOCKER_SOCK_DEFAULT);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "debug",  no_argument,       NULL, 'd' },
		{ "help",   no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *sock = NULL;
	struct lf_err e = { 0 };
	struct dp d = { 0 };
	bool debug = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:s:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': sock = optarg; break;
		case 'd': debug = true; break;
		default: return usage();
		}
	}
	if (optind != argc)
		return usage();
	log_init("leafnet-docker", LOG_LVL_WARN, NULL);
	if (conf_load(config, &d.conf, &e) < 0) {
		fprintf(stderr, "leafnet-docker: %s\n", e.msg);
		return 1;
	}
	log_init("leafnet-docker", debug ? LOG_LVL_DEBUG : (enum log_level)d.conf.log_level,
		 debug ? NULL : d.conf.log_file);
	r = store_open(&d.conf, &d.s, NULL);
	if (r < 0) {
		if (strcmp(d.conf.datastore, "etcd") == 0)
			fprintf(stderr, "leafnet-docker: etcd datastore %s: %s\n",
				d.conf.etcd_endpoints, strerror(-r));
		else
			fprintf(stderr, "leafnet-docker: cannot open the state directory %s: %s\n",
				d.conf.state_dir, strerror(-r));
		return 1;
	}
	sock = sock ? sock : d.conf.docker_socket;
	r = dp_serve(&d, sock);
	store_free(d.s);
	if (r == -EADDRINUSE)
		fprintf(stderr, "leafnet-docker: another leafnet-docker is already listening "
			"on %s\n", sock);
	else if (r < 0)
		fprintf(stderr, "leafnet-docker: serving on %s: %s\n", sock, strerror(-r));
	return r < 0 ? 1 : 0;
}
