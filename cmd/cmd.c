#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

const char *cmd_prog = "lab";

static void
vmsg(int with_errno, const char *fmt, va_list ap)
{
	vlog(LOG_L_WARN, with_errno, fmt, ap);
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}

void
die_errno(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(1, fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}

void
die_usage(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	log_warnx("%s (see '%s -h')", buf_cstr(&b), cmd_prog);
	buf_free(&b);
	exit(EXIT_USAGE);
}

void
warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(0, fmt, ap);
	va_end(ap);
}

static void
oom(void)
{
	log_warnx("out of memory");
	exit(EXIT_FAIL);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (buf_err(&b) < 0)
		oom();
	return buf_steal(&b);
}

int
xopen(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_CLOEXEC, mode);

	if (fd < 0)
		die_errno("%s", path);
	return fd;
}

const struct command *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < lab_ncommands; i++)
		if (strcmp(lab_commands[i].name, name) == 0)
			return &lab_commands[i];
	return NULL;
}

void
cmd_usage(const struct command *c)
{
	fputs(c->usage, stdout);
}

int
cmd_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
