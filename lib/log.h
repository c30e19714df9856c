/*
 * One logging API for every command and daemon: one line per event on
 * stderr, "lab <cmd>: message". log_debug is the only call lib/ code makes;
 * the others belong to cmd/ and to daemons (fatal* exit, for start-up
 * failures before or outside the event loop).
 */
#ifndef LAB_LOG_H
#define LAB_LOG_H

#include <stdarg.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* prog: prefix of every line ("lab net"); verbose: 0 quiet, 1 debug, 2 trace. */
void log_init(const char *prog, int verbose);
void log_set_verbose(int verbose);
int log_verbose(void);
/* Send lines to fd instead of stderr (tests, daemons with a log socket). */
void log_set_fd(int fd);
/* Prefix lines with a UTC timestamp (daemons not under a journal). */
void log_set_timestamps(int on);

void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);   /* + ": strerror(errno)" */
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);  /* only with -v */
void log_trace(const char *fmt, ...) LOG_PRINTF(1, 2);  /* only with -vv */
void vlog(int level, int with_errno, const char *fmt, va_list ap);

__attribute__((noreturn)) void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

enum { LOG_L_WARN, LOG_L_INFO, LOG_L_DEBUG, LOG_L_TRACE };

#endif
