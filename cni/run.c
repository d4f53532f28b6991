/* run.c — what both CNI binaries do around a command: read the environment
 * and stdin, load leafnet.conf, start logging, call the command, print its
 * error.  stdout carries only the result or the error; logs go to stderr or
 * the conf's log_file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "cni.h"
#include "ctl.h"
#include "dbuf.h"
#include "err.h"
#include "ipam.h"
#include "log.h"
#include "network.h"
#include "store.h"

static int
read_stdin(char **ret, size_t *ret_len, struct lf_err *reterr)
{
	struct dbuf b = DBUF_INIT;
	long n = dbuf_read_fd(&b, STDIN_FILENO, CNI_STDIN_MAX);

	if (n == -EBADF)		/* stdin closed: nothing to read */
		n = 0;
	if (n < 0) {
		dbuf_free(&b);
		if (n == -ENOMEM)
			return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
		if (n == -EFBIG)
			return lf_err_set(reterr, LF_E_IO, -EFBIG,
					  "stdin: network configuration larger than %u bytes",
					  CNI_STDIN_MAX);
		return lf_err_set(reterr, LF_E_IO, (int)n, "stdin: %s", strerror((int)-n));
	}
	if (b.data != NULL && strlen(b.data) != b.len) {
		dbuf_free(&b);
		return lf_err_set(reterr, LF_E_DECODE, -EINVAL,
				  "stdin: network configuration contains a NUL byte");
	}
	*ret_len = b.len;
	*ret = dbuf_steal(&b);
	if (*ret == NULL)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	return 0;
}

/* CHECK/GC/STATUS before the version that introduced them were already
 * refused by the parser; here: commands this binary does not implement. */
static int
dispatch(const struct cni_plugin *p, struct cni_cmd *cmd, struct lf_err *err)
{
	int (*fn)(struct cni_cmd *, struct lf_err *) = NULL;

	switch (cmd->command) {
	case CNI_CMD_ADD:	fn = p->add; break;
	case CNI_CMD_DEL:	fn = p->del; break;
	case CNI_CMD_CHECK:	fn = p->check; break;
	case CNI_CMD_GC:	fn = p->gc; break;
	case CNI_CMD_STATUS:	fn = p->status; break;
	default:		break;
	}
	if (fn == NULL)
		return lf_err_set_field(err, LF_E_INVALID, LF_F_COMMAND, -ENOTSUP,
				  "CNI_COMMAND %s is not supported by %s",
				  cni_command_name(cmd->command), p->name);
	return fn(cmd, err);
}

static int
setup(const struct cni_plugin *p, struct cni_cmd *cmd, struct lf_err *err)
{
	int r;

	r = read_stdin(&cmd->stdin_text, &cmd->stdin_len, err);
	if (r < 0)
		return r;
	if (cmd->stdin_len == 0 || strspn(cmd->stdin_text, " \t\r\n") == cmd->stdin_len)
		return lf_err_set(err, LF_E_DECODE, -EINVAL,
				  "stdin: empty; %s expects the network configuration (JSON) on stdin",
				  cni_command_name(cmd->command));
	r = cni_env_parse(cmd->command, &cmd->env, err);
	if (r < 0)
		return r;
	r = cni_conf_parse(cmd->stdin_text, cmd->command, p->ipam_plugin, &cmd->env,
			   &cmd->conf, err);
	if (r < 0)
		return r;
	cni_handle(&cmd->env, cmd->handle, sizeof(cmd->handle));
	r = conf_load(cmd->conf.leafnet_conf[0] != '\0' ? cmd->conf.leafnet_conf : NULL,
		      &cmd->lconf, err);
	if (r < 0)
		return r;
	log_init(p->name, (enum log_level)cmd->lconf.log_level, cmd->lconf.log_file);
	log_debug("%s container=%s netns=%s ifname=%s network=%s version=%s",
		  cni_command_name(cmd->command), cmd->env.container_id,
		  cmd->env.netns, cmd->env.ifname, cmd->conf.network,
		  cmd->conf.cni_version);
	return 0;
}

int
cni_main(const struct cni_plugin *p, int argc, char **argv)
{
	struct lf_err err = { 0 };
	uint64_t t0 = clock_now_ns();
	struct cni_cmd *cmd;
	enum cni_version v;
	const char *command;
	bool configured = false;
	int r;

	(void)argc;
	(void)argv;
	log_init(p->name, LOG_LVL_WARN, NULL);
	command = getenv("CNI_COMMAND");
	if (command == NULL || command[0] == '\0') {
		lf_err_set_field(&err, LF_E_INVALID, LF_F_COMMAND, -EINVAL,
			   "CNI_COMMAND is required (ADD, DEL, CHECK, VERSION, STATUS or GC); "
			   "%s is a CNI plugin, run by a container runtime", p->name);
		return cni_error(&err, CNI_V_NONE);
	}
	/* VERSION needs neither stdin nor the other variables. */
	if (cni_command_parse(command) == CNI_CMD_VERSION)
		return cni_version_reply();

	cmd = calloc(1, sizeof(*cmd));
	if (cmd == NULL) {
		lf_err_set(&err, LF_E_INTERNAL, -ENOMEM, "out of memory");
		return cni_error(&err, CNI_V_NONE);
	}
	cmd->progname = p->name;
	cmd->ipam_plugin = p->ipam_plugin;
	cmd->command = cni_command_parse(command);
	if (cmd->command == CNI_CMD_NONE)
		r = lf_err_set_field(&err, LF_E_INVALID, LF_F_COMMAND, -EINVAL,
			       "CNI_COMMAND: unknown command \"%s\" "
			       "(expected ADD, DEL, CHECK, VERSION, STATUS or GC)", command);
	else
		r = setup(p, cmd, &err);
	if (r >= 0) {
		configured = true;	/* cmd->lconf names leafnetd's socket */
		r = dispatch(p, cmd, &err);
	}

	v = cmd->conf.version;
	if (v == CNI_V_NONE)
		v = cni_conf_peek_version(cmd->stdin_text);
	if (r < 0) {
		log_warnx("%s%s%s: %s%s%s", cni_command_name(cmd->command),
			  cmd->env.container_id[0] ? " " : "", cmd->env.container_id,
			  err.msg, err.details[0] ? ": " : "", err.details);
		r = cni_error(&err, v);
	} else {
		r = 0;
	}
	/* The answer is out (stdout written): tell leafnetd's metrics, best
	 * effort and nonblocking, so a leafnetd that is down costs nothing. */
	if (configured)
		(void)ctl_report_op(cmd->lconf.control_socket, p->ipam_plugin ? "cni-ipam" : "cni",
				    cni_command_name(cmd->command), r == 0,
				    (double)(clock_now_ns() - t0) / 1e6);
	cni_conf_done(&cmd->conf);
	free(cmd->stdin_text);
	free(cmd);
	return r;
}

/* ---- helpers shared by the commands ------------------------------------ */

int
cni_store_open(const struct cni_cmd *cmd, struct store **ret, struct lf_err *reterr)
{
	int r = store_open(&cmd->lconf, ret, reterr);

	/* a plugin call waits for the datastore this long in total: etcd down
	 * or hung answers "try again later" well within the runtime's patience */
	if (r == 0 && cmd->command != CNI_CMD_GC)	/* GC walks everything: unbounded */
		store_set_deadline(*ret, CNI_STORE_DEADLINE_MS);
	if (r < 0 && strcmp(cmd->lconf.datastore, "etcd") == 0)
		return lf_err_set(reterr, LF_E_IO, r, "etcd datastore %s: %s (leafnet config %s)",
				  cmd->lconf.etcd_endpoints, strerror(-r),
				  cmd->lconf.path[0] ? cmd->lconf.path : "built-in defaults");
	if (r < 0)
		return lf_err_set(reterr, LF_E_IO, r, "state directory %s: %s (leafnet config %s)",
				  cmd->lconf.state_dir, strerror(-r),
				  cmd->lconf.path[0] ? cmd->lconf.path : "built-in defaults");
	return 0;
}

void
cni_log_damaged(struct store *s)
{
	struct ipam_broken *b = NULL;
	size_t n = 0;

	if (ipam_check(s, NULL, &b, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		log_warnx("damaged record %s (%s): %s; inspect with `netctl ipam check`, "
			  "remove with `netctl ipam repair %s`", b[i].key,
			  b[i].err == -EINVAL ? "not a valid record" : strerror(-b[i].err),
			  b[i].what, b[i].key);
	free(b);
}

int
cni_print_result(const struct cni_cmd *cmd, const struct cni_result *res,
		 struct lf_err *reterr)
{
	char *out = cni_result_render(res, cmd->conf.version);
	int r = 0;

	if (out == NULL)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	if (puts(out) == EOF || fflush(stdout) != 0)
		r = lf_err_set(reterr, LF_E_IO, -EIO, "stdout: cannot write the result");
	free(out);
	return r;
}

int
cni_open_network(const struct cni_cmd *cmd, struct store **ret, struct lf_err *reterr)
{
	struct store *s = NULL;
	struct network net;
	int r;

	r = cni_store_open(cmd, &s, reterr);
	if (r < 0)
		return r;
	r = network_get(s, cmd->conf.network, &net, reterr);
	if (r == -ENOENT)
		r = cni_network_missing(cmd->conf.network, r, reterr);
	if (r < 0) {
		store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int
cni_held_addrs(const struct cni_cmd *cmd, struct ipam_addr *ret, size_t max, size_t *ret_n,
	       struct lf_err *reterr)
{
	struct store *s = NULL;
	size_t n = 0;
	int r;

	r = cni_open_network(cmd, &s, reterr);
	if (r < 0)
		return r;
	r = ipam_lookup(s, cmd->conf.network, cmd->env.container_id, cmd->env.ifname,
			ret, max, &n);
	store_free(s);
	if (r < 0)
		return store_err_set(reterr, LF_E_IO, r, "network %s: allocations cannot be read",
				     cmd->conf.network);
	if (n == 0)
		return lf_err_set_field(reterr, LF_E_NOT_FOUND, LF_F_CONTAINER_ID, -ENOENT,
					"container %s (%s) has no address in network %s",
					cmd->env.container_id, cmd->env.ifname,
					cmd->conf.network);
	*ret_n = n;
	return 0;
}

int
cni_network_missing(const char *network, int ret, struct lf_err *reterr)
{
	/* Replace a generic "not found" with the text that says how to fix it. */
	if (reterr != NULL && (reterr->code == 0 || reterr->code == LF_E_NOT_FOUND)) {
		lf_err_clear(reterr);
		lf_err_set(reterr, LF_E_INVALID, ret,
			   "network: leafnet network \"%s\" does not exist; "
			   "create it with: netctl network create %s --subnet=CIDR",
			   network, network);
	}
	return ret;
}

const char *
cni_node(const struct cni_cmd *cmd)
{
	return cmd->lconf.node_name;
}

/* Addresses a subnet can hand out: all but the network address, the IPv4
 * broadcast and the gateway. */
static uint64_t
subnet_capacity(const struct network_subnet *sn)
{
	uint64_t size = prefix_size(&sn->cidr), reserved = 1;

	if (sn->cidr.addr.family == AF_INET && sn->cidr.len < 31)
		reserved++;
	if (ipaddr_is_set(&sn->gateway) && prefix_contains(&sn->cidr, &sn->gateway))
		reserved++;
	return size > reserved ? size - reserved : 0;
}

int
cni_network_usable(struct store *s, const char *name, struct lf_err *reterr)
{
	struct ipam_record *recs = NULL;
	struct network net;
	size_t n = 0;
	int r;

	r = network_get(s, name, &net, NULL);
	if (r == -ENOENT)
		return lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				  "network \"%s\" does not exist; create it with: "
				  "netctl network create %s --subnet=CIDR", name, name);
	if (r < 0)
		return lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				  "network \"%s\": cannot be read: %s", name, strerror(-r));
	r = ipam_list(s, name, &recs, &n);
	if (r < 0)
		return lf_err_set(reterr, LF_E_UNAVAILABLE, r,
				  "network \"%s\": allocations cannot be read: %s",
				  name, strerror(-r));
	for (size_t i = 0; i < net.n_subnets && r == 0; i++) {
		const struct network_subnet *sn = &net.subnets[i];
		uint64_t used = 0;
		char buf[PREFIX_STRLEN];

		for (size_t j = 0; j < n; j++)
			if (prefix_contains(&sn->cidr, &recs[j].addr))
				used++;
		if (used >= subnet_capacity(sn))
			r = lf_err_set(reterr, LF_E_UNAVAILABLE, -ENOSPC,
				       "network \"%s\": no free address in %s (%" PRIu64 " in use)",
				       name, prefix_fmt(&sn->cidr, buf, sizeof(buf)), used);
	}
	free(recs);
	return r;
}
