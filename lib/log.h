/* log.h — logging for binaries.  lib/ code only calls log_debug(). */
#ifndef LEAFNET_LOG_H
#define LEAFNET_LOG_H

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* progname is kept by pointer.  path NULL or "" logs to stderr; otherwise the
 * file is opened for append (O_APPEND, one write(2) per line so concurrent
 * plugin processes do not interleave within a line). */
void log_init(const char *progname, enum log_level level, const char *path);
void log_set_level(enum log_level level);
int  log_level_parse(const char *s);	/* "debug" -> LOG_LVL_DEBUG, -EINVAL */

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* + ": strerror(errno)" */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
