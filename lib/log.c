/* log.c — line-oriented logging for the binaries.
 *
 * Every line is "progname[pid]: level: message\n", built in a local buffer
 * and emitted with a single write(2): with O_APPEND, lines from concurrent
 * plugin processes sharing one log file never interleave.  Every function
 * preserves errno, so callers may log and then return -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 2048

static const char *log_progname;
static enum log_level log_cur_level = LOG_LVL_INFO;
static int log_fd = STDERR_FILENO;

static const char *const log_level_names[] = {
	[LOG_LVL_ERR]   = "error",
	[LOG_LVL_WARN]  = "warning",
	[LOG_LVL_INFO]  = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static void
log_write_line(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(log_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* nowhere left to complain */
		buf += n;
		len -= (size_t)n;
	}
}

/* errnum >= 0 appends ": strerror(errnum)". */
static void
log_vemit(const char *level, int errnum, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t len, room = sizeof(buf) - 1;	/* keep one byte for '\n' */
	int n;

	n = snprintf(buf, room, "%s[%ld]: %s: ",
		     log_progname ? log_progname : program_invocation_short_name,
		     (long)getpid(), level);
	len = n < 0 ? 0 : ((size_t)n < room ? (size_t)n : room - 1);
	n = vsnprintf(buf + len, room - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < room - len ? (size_t)n : room - len - 1;
	if (errnum >= 0 && len < room - 1) {
		n = snprintf(buf + len, room - len, ": %s", strerror(errnum));
		if (n > 0)
			len += (size_t)n < room - len ? (size_t)n : room - len - 1;
	}
	/* A message must never smuggle extra lines into the log. */
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[len++] = '\n';
	log_write_line(buf, len);
}

static void
log_emit(enum log_level lvl, const char *level, int errnum,
	 const char *fmt, va_list ap)
{
	int saved = errno;

	if (lvl <= log_cur_level)
		log_vemit(level, errnum, fmt, ap);
	errno = saved;
}

void
log_init(const char *progname, enum log_level level, const char *path)
{
	int saved = errno;

	log_progname = progname;
	log_set_level(level);
	if (log_fd != STDERR_FILENO) {
		(void)close(log_fd);
		log_fd = STDERR_FILENO;
	}
	if (path != NULL && path[0] != '\0') {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			      0640);

		if (fd < 0)
			log_warn("cannot open log file %s, logging to stderr",
				 path);
		else
			log_fd = fd;
	}
	errno = saved;
}

void
log_set_level(enum log_level level)
{
	if ((int)level < LOG_LVL_ERR)
		level = LOG_LVL_ERR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	log_cur_level = level;
}

int
log_level_parse(const char *s)
{
	if (s == NULL)
		return -EINVAL;
	if (strcasecmp(s, "error") == 0 || strcasecmp(s, "err") == 0)
		return LOG_LVL_ERR;
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	if (strcasecmp(s, "info") == 0)
		return LOG_LVL_INFO;
	if (strcasecmp(s, "debug") == 0)
		return LOG_LVL_DEBUG;
	return -EINVAL;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_WARN, log_level_names[LOG_LVL_WARN], errno, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_WARN, log_level_names[LOG_LVL_WARN], -1, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_INFO, log_level_names[LOG_LVL_INFO], -1, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_cur_level < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	log_emit(LOG_LVL_DEBUG, log_level_names[LOG_LVL_DEBUG], -1, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int errnum = errno;

	va_start(ap, fmt);
	log_vemit("fatal", errnum, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit("fatal", -1, fmt, ap);
	va_end(ap);
	exit(1);
}
