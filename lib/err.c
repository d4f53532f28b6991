/* err.c — the optional error text that travels back to front ends. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static int
err_vset(struct lf_err *e, enum lf_code code, enum lf_field field, int ret,
	 const char *fmt, va_list ap)
{
	if (e == NULL || e->code != LF_E_NONE)
		return ret;
	/* LF_E_NONE means "nothing recorded": never store it, or a later,
	 * less precise error would overwrite this one. */
	e->code = code != LF_E_NONE ? code : LF_E_INTERNAL;
	e->field = field;
	(void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return ret;
}

int
lf_err_set(struct lf_err *e, enum lf_code code, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ret = err_vset(e, code, LF_F_NONE, ret, fmt, ap);
	va_end(ap);
	return ret;
}

int
lf_err_set_field(struct lf_err *e, enum lf_code code, enum lf_field field, int ret,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ret = err_vset(e, code, field, ret, fmt, ap);
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

const char *
lf_err_code_name(enum lf_code code)
{
	static const char *const names[] = {
		[LF_E_NONE]           = "no error",
		[LF_E_INVALID]        = "invalid",
		[LF_E_DECODE]         = "malformed",
		[LF_E_UNSUPPORTED]    = "unsupported",
		[LF_E_NOT_FOUND]      = "not found",
		[LF_E_EXISTS]         = "exists",
		[LF_E_ADDR_IN_USE]    = "address in use",
		[LF_E_POOL_EXHAUSTED] = "pool exhausted",
		[LF_E_BUSY]           = "busy",
		[LF_E_AGAIN]          = "try again",
		[LF_E_UNAVAILABLE]    = "unavailable",
		[LF_E_DEGRADED]       = "degraded",
		[LF_E_KERNEL]         = "kernel",
		[LF_E_IO]             = "I/O",
		[LF_E_CHECK_FAILED]   = "check failed",
		[LF_E_INTERNAL]       = "internal",
	};

	if ((unsigned)code >= sizeof(names) / sizeof(names[0]) || names[code] == NULL)
		return "unknown";
	return names[code];
}
