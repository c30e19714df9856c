/*
 * What cmd/ files share: dying with a message, usage errors, and the
 * x-wrappers. Only cmd/ (and daemon start-up) may exit; lib/ returns
 * errors.
 */
#ifndef LAB_CMD_H
#define LAB_CMD_H

#include <stddef.h>
#include <sys/types.h>

#include "log.h"

#define CMD_ROOT 0x1

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_UNKNOWN 127

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *usage;
	unsigned flags;
	const char *summary;
};

#define CMD(name, flags, summary)               \
	int name##_main(int argc, char **argv); \
	extern const char name##_usage[];
#include "commands.h"
#undef CMD

extern const struct command lab_commands[];
extern const size_t lab_ncommands;

/* Set by the dispatcher: "lab net", used as the prefix of every message. */
extern const char *cmd_prog;

__attribute__((noreturn)) void die(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void die_errno(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Usage error: the message, a hint to -h, exit 2. */
__attribute__((noreturn)) void die_usage(const char *fmt, ...) LOG_PRINTF(1, 2);
void warnx_(const char *fmt, ...) LOG_PRINTF(1, 2);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) LOG_PRINTF(1, 2);
int xopen(const char *path, int flags, mode_t mode);

/* Print a command's usage text to stdout. */
void cmd_usage(const struct command *c);
const struct command *cmd_find(const char *name);

/* The common option of every command: -h/--help prints usage and exits 0. */
int cmd_is_help(const char *arg);

#endif
