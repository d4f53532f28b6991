/* netctl.h — private header of the netctl CLI.
 *
 * main.c holds the command table (noun, verb, handler, usage); cli.c
 * dispatches it, parses the flags common to every command and opens the
 * store on first use; output.c prints aligned tables, JSON and errors; one
 * file per noun (network.c; later bgp.c, node.c, status.c) implements the
 * handlers.
 *
 * Exit status: 0 success, 1 runtime error (store, unknown network, busy),
 * 2 usage error (bad flag or value).  Nothing is changed on error.
 */
#ifndef NETCTL_H
#define NETCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <getopt.h>
#include "conf.h"

struct store;
struct lf_err;
struct cJSON;

#ifndef LEAFNET_VERSION
#define LEAFNET_VERSION "0.1.0"
#endif

#define NETCTL_EXIT_OK      0
#define NETCTL_EXIT_RUNTIME 1
#define NETCTL_EXIT_USAGE   2

enum netctl_output { NETCTL_OUT_TABLE, NETCTL_OUT_JSON };

struct netctl;

struct netctl_cmd {
	const char *noun;
	const char *verb;	/* NULL: the noun alone is the command ("version") */
	int (*handler)(struct netctl *ctx, int argc, char **argv);
	const char *usage;	/* what follows "netctl NOUN VERB" */
	const char *summary;	/* one line for the command lists */
	const char *help;	/* flag descriptions for --help, may be NULL */
};

struct netctl {
	const char *config_path;	/* --config; NULL: $LEAFNET_CONF, default */
	enum netctl_output output;
	const struct netctl_cmd *cmd;	/* the command running, for hints */
	bool conf_loaded;
	struct leafnet_conf conf;
	struct store *store;
};

/* main.c: the command table, terminated by an entry with noun NULL. */
extern const struct netctl_cmd netctl_cmds[];

/* cli.c */
void netctl_init(struct netctl *ctx);
void netctl_done(struct netctl *ctx);
/* Global flags before the noun; returns the index of the noun in argv, or
 * a negative exit status (-NETCTL_EXIT_USAGE) / argc when only --help. */
int  netctl_parse_global(struct netctl *ctx, int argc, char **argv, int *ret_exit);
int  netctl_dispatch(struct netctl *ctx, int argc, char **argv);
void netctl_help(FILE *f);
void netctl_cmd_help(const struct netctl_cmd *cmd, FILE *f);
/* Flags every command accepts: -o/--output, --config, -h/--help. */
#define NETCTL_OPT_CONFIG 0x1001
#define NETCTL_COMMON_OPTS \
	{ "output", required_argument, NULL, 'o' }, \
	{ "config", required_argument, NULL, NETCTL_OPT_CONFIG }, \
	{ "help",   no_argument,       NULL, 'h' }
#define NETCTL_COMMON_SHORT ":o:h"
/* For a getopt_long() result the handler does not know: handles the common
 * flags and getopt's errors.  Returns true when the handler must stop and
 * return *ret_exit. */
bool netctl_opt_common(struct netctl *ctx, int c, char **argv, int *ret_exit);
/* getopt over argv for a command with no flags of its own (only the common
 * ones); the operands are then argv[optind..].  Returns true when the
 * handler must stop and return *ret_exit. */
bool netctl_parse_common(struct netctl *ctx, int argc, char **argv, int *ret_exit);
int  netctl_output_parse(struct netctl *ctx, const char *s);
/* The one operand a command takes (a network, node or host name). */
struct netctl_operand {
	const char *what;		/* "NAME", "HOST": in "only one NAME" */
	const char *kind;		/* "network": "'x' is not a valid network name" */
	bool (*valid)(const char *name);
	const char *missing;		/* "the network NAME, e.g. netctl ..." */
};
/* argv[optind], the only operand left after the flags, checked with
 * op->valid, into *ret: 0, or the exit status of the usage error printed. */
int  netctl_one_operand(const struct netctl *ctx, int argc, char **argv,
			const struct netctl_operand *op, const char **ret);
/* Load the config and open the store once; prints the error itself. */
int  netctl_store(struct netctl *ctx, struct store **ret, int *ret_exit);

/* output.c */
struct table;
struct table *table_new(size_t ncols, ...);	/* the column headers */
/* ncols strings; NULL prints as "-".  -ENOMEM. */
int  table_add(struct table *t, ...);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);		/* NULL-safe */
/* table_print on stdout, then table_free; t == NULL or r < 0 (from
 * table_new / table_add) prints "out of memory".  Returns the exit status. */
int  table_done(struct table *t, int r);
/* Prints root indented, then a newline; 1 on OOM. */
int  out_json(const struct cJSON *root);
/* out_json, then cJSON_Delete; root == NULL prints "out of memory". */
int  out_json_done(struct cJSON *root);
int  out_usage_error(const struct netctl *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));	/* returns NETCTL_EXIT_USAGE */
int  out_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));	/* returns NETCTL_EXIT_RUNTIME */
/* Prints e's message (and details) or "<what>: strerror(-ret)"; returns
 * exit_status. */
int  out_lf_error(const struct lf_err *e, int ret, int exit_status, const char *what);
/* The same, with the exit status leafnet's error code means: a value the
 * library refused (LF_E_INVALID) is the user's to fix, usage; the rest is
 * a runtime failure. */
int  out_lf_fail(const struct lf_err *e, int ret, const char *what);
/* "2026-11-23T17:57:33Z"; "-" for 0. */
const char *out_time(long long t, char *buf, size_t size);

/* network.c */
extern const char network_create_help[];
extern const char network_rm_help[];
int network_cmd_create(struct netctl *ctx, int argc, char **argv);
int network_cmd_ls(struct netctl *ctx, int argc, char **argv);
int network_cmd_inspect(struct netctl *ctx, int argc, char **argv);
int network_cmd_rm(struct netctl *ctx, int argc, char **argv);
extern const char network_update_help[];
int network_cmd_update(struct netctl *ctx, int argc, char **argv);

/* bgp.c */
extern const char bgp_peer_help[];
extern const char bgp_create_help[];
extern const char node_bgp_help[];
extern const char bgp_import_help[];
int bgp_cmd_import(struct netctl *ctx, int argc, char **argv);
int bgp_cmd_create(struct netctl *ctx, int argc, char **argv);
int bgp_cmd_default_node_as(struct netctl *ctx, int argc, char **argv);
int bgp_cmd_node_mesh(struct netctl *ctx, int argc, char **argv);
int bgp_cmd_peer(struct netctl *ctx, int argc, char **argv);
int node_cmd_bgp(struct netctl *ctx, int argc, char **argv);

/* node.c */
int node_cmd_ls(struct netctl *ctx, int argc, char **argv);
int node_cmd_show(struct netctl *ctx, int argc, char **argv);
int node_cmd_rm(struct netctl *ctx, int argc, char **argv);
/* Print every damaged BGP record to stderr; how many. */
int netctl_bgp_damaged(struct store *s);
extern const char node_set_help[];
int node_cmd_set(struct netctl *ctx, int argc, char **argv);
extern const char node_rr_help[];
int node_cmd_rr(struct netctl *ctx, int argc, char **argv);

/* ipam.c */
extern const char ipam_repair_help[];
int ipam_cmd_check(struct netctl *ctx, int argc, char **argv);
int ipam_cmd_repair(struct netctl *ctx, int argc, char **argv);

/* ipam_show.c */
int ipam_cmd_show(struct netctl *ctx, int argc, char **argv);

/* trace.c */
extern const char trace_help[];
int trace_cmd(struct netctl *ctx, int argc, char **argv);

/* status.c */
extern const char status_help[];
int status_cmd(struct netctl *ctx, int argc, char **argv);

/* version, in cli.c */
int netctl_cmd_version(struct netctl *ctx, int argc, char **argv);

#endif
