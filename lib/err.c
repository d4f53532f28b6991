/* err.c — the optional error text that travels back to front ends. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int
lf_err_set(struct lf_err *e, int code, int ret, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->code != 0)
		return ret;
	/* Code 0 means "nothing recorded": never store it, or a later,
	 * less precise error would overwrite this one. */
	e->code = code != 0 ? code : LF_E_INTERNAL;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return ret;
}

void
lf_err_details(struct lf_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->details[0] != '\0')
		return;
	va_start(ap, fmt);
	(void)vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
}

void
lf_err_clear(struct lf_err *e)
{
	if (e == NULL)
		return;
	memset(e, 0, sizeof(*e));
}
