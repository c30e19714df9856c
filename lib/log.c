#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "lab";
static int log_level_max = LOG_L_INFO;
static int log_fd = 2;
static int log_ts;

void
log_init(const char *prog, int verbose)
{
	if (prog)
		log_prog = prog;
	log_set_verbose(verbose);
}

void
log_set_verbose(int verbose)
{
	log_level_max = LOG_L_INFO + (verbose < 0 ? 0 : verbose);
}

int
log_verbose(void)
{
	return log_level_max - LOG_L_INFO;
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

void
log_set_timestamps(int on)
{
	log_ts = on;
}

/*
 * The line is formatted in one buffer and written with one write(2), so
 * lines from several threads or processes sharing the fd never interleave.
 */
void
vlog(int level, int with_errno, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n = 0;
	int saved = errno, r;

	if (level > log_level_max)
		return;
	if (log_ts) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
		if (r > 0)
			n += (size_t)r;
	}
	r = snprintf(line + n, sizeof(line) - n, "%s: ", log_prog);
	if (r > 0 && (size_t)r < sizeof(line) - n)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	if (with_errno && n < sizeof(line) - 1) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", strerror(saved));
		if (r > 0)
			n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	while (write(log_fd, line, n) < 0 && errno == EINTR)
		;
	errno = saved;
}

#define LOG_FN(name, level, with_errno)          \
	void name(const char *fmt, ...)          \
	{                                        \
		va_list ap;                      \
		va_start(ap, fmt);               \
		vlog(level, with_errno, fmt, ap); \
		va_end(ap);                      \
	}

LOG_FN(log_warn, LOG_L_WARN, 1)
LOG_FN(log_warnx, LOG_L_WARN, 0)
LOG_FN(log_info, LOG_L_INFO, 0)
LOG_FN(log_debug, LOG_L_DEBUG, 0)
LOG_FN(log_trace, LOG_L_TRACE, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_L_WARN, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_L_WARN, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
