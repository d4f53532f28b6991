/* output.c — how netctl talks to people and scripts: aligned tables on
 * stdout, indented JSON on stdout, errors on stderr with a hint at the
 * right --help. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cJSON.h>
#include "err.h"
#include "dbuf.h"
#include "netctl.h"

struct table {
	size_t ncols;
	size_t nrows, cap;	/* cap: cells */
	char **cells;		/* (nrows + 1) * ncols; row 0 holds the headers */
};

static int table_push(struct table *t, va_list ap)
{
	size_t i, base;

	if (GROW(t->cells, t->cap, (t->nrows + 1) * t->ncols) < 0)
		return -ENOMEM;
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		t->cells[base + i] = strdup(s ? s : "-");
		if (!t->cells[base + i]) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

struct table *table_new(size_t ncols, ...)
{
	struct table *t;
	va_list ap;
	int r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	va_start(ap, ncols);
	r = table_push(t, ap);
	va_end(ap);
	if (r < 0) {
		table_free(t);
		return NULL;
	}
	return t;
}

int table_add(struct table *t, ...)
{
	va_list ap;
	int r;

	va_start(ap, t);
	r = table_push(t, ap);
	va_end(ap);
	return r;
}

void table_print(const struct table *t, FILE *f)
{
	size_t *width, r, c;

	width = calloc(t->ncols, sizeof(*width));
	if (!width)
		return;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);

			if (len > width[c])
				width[c] = len;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)width[c], s);
		}
	}
	free(width);
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Print t on stdout and free it; t NULL or r < 0 (what table_new or the
 * last table_add returned) is out of memory. */
int table_done(struct table *t, int r)
{
	int ret = NETCTL_EXIT_OK;

	if (!t || r < 0)
		ret = out_error("out of memory");
	else
		table_print(t, stdout);
	table_free(t);
	return ret;
}

int out_json_done(struct cJSON *root)
{
	int ret = root ? out_json(root) : out_error("out of memory");

	cJSON_Delete(root);
	return ret;
}

int out_json(const struct cJSON *root)
{
	char *text = cJSON_Print(root);

	if (!text)
		return out_error("out of memory");
	printf("%s\n", text);
	free(text);
	return NETCTL_EXIT_OK;
}

static void __attribute__((format(printf, 1, 0))) vwarn(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("netctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int out_usage_error(const struct netctl *ctx, const char *fmt, ...)
{
	const struct netctl_cmd *cmd = ctx ? ctx->cmd : NULL;
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "See 'netctl %s%s%s --help'.\n", cmd->noun,
			cmd->verb ? " " : "", cmd->verb ? cmd->verb : "");
	else
		fprintf(stderr, "See 'netctl --help'.\n");
	return NETCTL_EXIT_USAGE;
}

int out_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	return NETCTL_EXIT_RUNTIME;
}

int out_lf_error(const struct lf_err *e, int ret, int exit_status, const char *what)
{
	fflush(stdout);
	if (e && e->code && e->msg[0]) {
		fprintf(stderr, "netctl: %s\n", e->msg);
		if (e->details[0])
			fprintf(stderr, "  %s\n", e->details);
	} else {
		fprintf(stderr, "netctl: %s: %s\n", what, strerror(ret < 0 ? -ret : ret));
	}
	return exit_status;
}

int out_lf_fail(const struct lf_err *e, int ret, const char *what)
{
	bool usage = ret == -EINVAL && e != NULL && e->code == LF_E_INVALID;

	return out_lf_error(e, ret, usage ? NETCTL_EXIT_USAGE : NETCTL_EXIT_RUNTIME, what);
}

const char *out_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}
