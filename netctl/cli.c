/* cli.c — netctl's dispatcher: global flags, the noun/verb lookup in the
 * command table, help texts, the flags every command shares, and the
 * config + store opened once on first use. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "err.h"
#include "log.h"
#include "conf.h"
#include "store.h"
#include "netctl.h"

void netctl_init(struct netctl *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->output = NETCTL_OUT_TABLE;
}

void netctl_done(struct netctl *ctx)
{
	store_free(ctx->store);
	ctx->store = NULL;
}

int netctl_output_parse(struct netctl *ctx, const char *s)
{
	if (strcmp(s, "json") == 0)
		ctx->output = NETCTL_OUT_JSON;
	else if (strcmp(s, "table") == 0)
		ctx->output = NETCTL_OUT_TABLE;
	else
		return out_usage_error(ctx, "-o %s: unknown output format; use -o json or -o table", s);
	return 0;
}

void netctl_help(FILE *f)
{
	const struct netctl_cmd *c;

	fprintf(f, "Usage: netctl [--config FILE] [-o json|table] COMMAND [ARGS]\n\n"
		   "Manage leafnet networks, BGP configuration and nodes.\n\n"
		   "Global flags (also accepted after the command):\n"
		   "  --config FILE     leafnet config file (default: $LEAFNET_CONF, then "
		   LEAFNET_CONF_DEFAULT ")\n"
		   "  -o, --output FMT  table (default, for people) or json (for scripts)\n"
		   "  -h, --help        this help; 'netctl NOUN --help' lists a noun's verbs\n\n"
		   "Commands:\n");
	for (c = netctl_cmds; c->noun; c++)
		fprintf(f, "  %-7s %-15s %s\n", c->noun, c->verb ? c->verb : "", c->summary);
	fprintf(f, "\nExit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

static void noun_help(const char *noun, FILE *f)
{
	const struct netctl_cmd *c;

	fprintf(f, "Usage: netctl [-o json|table] %s VERB [ARGS]\n\nVerbs:\n", noun);
	for (c = netctl_cmds; c->noun; c++)
		if (strcmp(c->noun, noun) == 0)
			fprintf(f, "  %-15s %s\n", c->verb ? c->verb : "", c->summary);
	fprintf(f, "\nSynopsis:\n");
	for (c = netctl_cmds; c->noun; c++)
		if (strcmp(c->noun, noun) == 0)
			fprintf(f, "  netctl %s %s%s%s\n", noun, c->verb ? c->verb : "",
				c->usage[0] ? " " : "", c->usage);
	fprintf(f, "\n'netctl %s VERB --help' describes a verb's flags.\n", noun);
}

void netctl_cmd_help(const struct netctl_cmd *cmd, FILE *f)
{
	if (!cmd) {
		netctl_help(f);
		return;
	}
	fprintf(f, "Usage: netctl %s%s%s%s%s\n\n%c%s.\n", cmd->noun, cmd->verb ? " " : "",
		cmd->verb ? cmd->verb : "", cmd->usage[0] ? " " : "", cmd->usage,
		toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->help)
		fprintf(f, "\n%s", cmd->help);
	fprintf(f, "\nAlso: --config FILE, -o json|table, -h/--help.\n");
}

bool netctl_parse_common(struct netctl *ctx, int argc, char **argv, int *ret_exit)
{
	static const struct option opts[] = { NETCTL_COMMON_OPTS, { NULL, 0, NULL, 0 } };
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, NETCTL_COMMON_SHORT, opts, NULL)) != -1)
		if (netctl_opt_common(ctx, c, argv, ret_exit))
			return true;
	return false;
}

bool netctl_opt_common(struct netctl *ctx, int c, char **argv, int *ret_exit)
{
	const char *arg;

	switch (c) {
	case 'o':
		*ret_exit = netctl_output_parse(ctx, optarg);
		return *ret_exit != 0;
	case NETCTL_OPT_CONFIG:
		ctx->config_path = optarg;
		return false;
	case 'h':
		netctl_cmd_help(ctx->cmd, stdout);
		*ret_exit = NETCTL_EXIT_OK;
		return true;
	case ':':
		arg = argv[optind - 1];
		*ret_exit = out_usage_error(ctx, "%s needs a value, e.g. %s%sVALUE", arg, arg,
					    strncmp(arg, "--", 2) == 0 ? "=" : " ");
		return true;
	case '?':
	default:
		/* getopt_long_only() leaves optopt 0 for an unknown or
		 * ambiguous long flag ("--x" or Go's "-x"), and the flag's
		 * value for a known one given "=value" it does not take. */
		arg = argv[optind - 1];
		if (optopt != 0 && strchr(arg, '=') &&
		    (optopt >= 0x100 || strncmp(arg, "--", 2) == 0 || strcspn(arg, "=") > 2))
			*ret_exit = out_usage_error(ctx, "%s: %.*s takes no value", arg,
						    (int)strcspn(arg, "="), arg);
		else if (optopt != 0 && strncmp(arg, "--", 2) != 0)
			*ret_exit = out_usage_error(ctx, "unknown flag -%c", optopt);
		else
			*ret_exit = out_usage_error(ctx, "unknown flag %.*s", (int)strcspn(arg, "="),
						    arg);
		return true;
	}
}

int netctl_parse_global(struct netctl *ctx, int argc, char **argv, int *ret_exit)
{
	static const struct option opts[] = {
		NETCTL_COMMON_OPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long_only(argc, argv, "+" NETCTL_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'V') {
			ctx->cmd = NULL;
			*ret_exit = netctl_cmd_version(ctx, 1, argv);
			return -1;
		}
		if (netctl_opt_common(ctx, c, argv, ret_exit))
			return -1;
	}
	if (optind >= argc) {
		netctl_help(stderr);
		*ret_exit = NETCTL_EXIT_USAGE;
		return -1;
	}
	return optind;
}

int netctl_dispatch(struct netctl *ctx, int argc, char **argv)
{
	const struct netctl_cmd *c, *found = NULL;
	const char *noun = argv[0], *verb;

	if (strcmp(noun, "help") == 0) {
		netctl_help(stdout);
		return NETCTL_EXIT_OK;
	}
	for (c = netctl_cmds; c->noun; c++)
		if (strcmp(c->noun, noun) == 0) {
			found = c;
			break;
		}
	if (!found)
		return out_usage_error(ctx, "unknown command '%s'", noun);
	if (!found->verb) {
		ctx->cmd = found;
		return found->handler(ctx, argc, argv);
	}

	verb = argc > 1 ? argv[1] : NULL;
	if (!verb) {
		noun_help(noun, stderr);
		return NETCTL_EXIT_USAGE;
	}
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "help") == 0) {
		noun_help(noun, stdout);
		return NETCTL_EXIT_OK;
	}
	for (c = found; c->noun; c++)
		if (strcmp(c->noun, noun) == 0 && c->verb && strcmp(c->verb, verb) == 0) {
			ctx->cmd = c;
			return c->handler(ctx, argc - 1, argv + 1);
		}
	fprintf(stderr, "netctl: unknown verb '%s' for '%s'\n\n", verb, noun);
	noun_help(noun, stderr);
	return NETCTL_EXIT_USAGE;
}

int netctl_store(struct netctl *ctx, struct store **ret, int *ret_exit)
{
	struct lf_err err = { 0 };
	int r;

	if (!ctx->store) {
		if (!ctx->conf_loaded) {
			r = conf_load(ctx->config_path, &ctx->conf, &err);
			if (r < 0) {
				*ret_exit = out_lf_error(&err, r, NETCTL_EXIT_RUNTIME, "config");
				return r;
			}
			ctx->conf_loaded = true;
			/* The library's debug lines follow the config (its log
			 * file when set); what netctl tells the user goes to
			 * stdout/stderr regardless. */
			log_init("netctl", ctx->conf.log_level, ctx->conf.log_file);
		}
		r = store_open(&ctx->conf, &ctx->store, NULL);
		if (r < 0 && strcmp(ctx->conf.datastore, "etcd") == 0) {
			*ret_exit = out_error("cannot use the etcd datastore at \"%s\": %s; fix "
					      "\"etcd_endpoints\" in %s (comma-separated "
					      "http:// or https:// URLs)", ctx->conf.etcd_endpoints,
					      strerror(-r), ctx->conf.path[0] ? ctx->conf.path
					      : LEAFNET_CONF_DEFAULT);
			return r;
		}
		if (r < 0) {
			*ret_exit = out_error("cannot open the state directory %s: %s; set \"state_dir\" "
					      "in %s or point --config / LEAFNET_CONF at another file",
					      ctx->conf.state_dir, strerror(-r),
					      ctx->conf.path[0] ? ctx->conf.path : LEAFNET_CONF_DEFAULT);
			return r;
		}
	}
	*ret = ctx->store;
	return 0;
}

int netctl_cmd_version(struct netctl *ctx, int argc, char **argv)
{
	cJSON *root;
	int ret = 0;

	if (netctl_parse_common(ctx, argc, argv, &ret))
		return ret;
	if (optind < argc)
		return out_usage_error(ctx, "unexpected argument '%s'", argv[optind]);

	if (ctx->output == NETCTL_OUT_TABLE) {
		printf("netctl %s\n", LEAFNET_VERSION);
		return NETCTL_EXIT_OK;
	}
	root = cJSON_CreateObject();
	if (root && !cJSON_AddStringToObject(root, "version", LEAFNET_VERSION)) {
		cJSON_Delete(root);
		root = NULL;
	}
	return out_json_done(root);
}

int netctl_one_operand(const struct netctl *ctx, int argc, char **argv,
		       const struct netctl_operand *op, const char **ret)
{
	if (optind >= argc)
		return out_usage_error(ctx, "missing %s", op->missing);
	if (optind + 1 < argc)
		return out_usage_error(ctx, "unexpected argument '%s' (only one %s)",
				       argv[optind + 1], op->what);
	if (!op->valid(argv[optind]))
		return out_usage_error(ctx, "'%s' is not a valid %s name: use 1-%d letters, "
				       "digits, '_', '.' or '-', starting with a letter or digit",
				       argv[optind], op->kind, LEAFNET_NAME_MAX - 1);
	*ret = argv[optind];
	return 0;
}
