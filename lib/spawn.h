/*
 * Starting and reaping processes: exec errors reported to the caller (not
 * lost in the child), chosen fds mapped into the child and every other fd
 * closed, signal mask and dispositions reset (the event loop blocks
 * signals), optional new session. Plus descriptor passing over UNIX
 * sockets, and re-executing lab itself as a helper with a socketpair on
 * fd 3 (a daemon never calls another command's main in-process).
 */
#ifndef LAB_SPAWN_H
#define LAB_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum spawn_io_mode {
	SPAWN_INHERIT = 0,	/* the child gets this process's fd */
	SPAWN_NULL,		/* /dev/null */
	SPAWN_PIPE,		/* a pipe; spawn_start puts the parent's end in fd */
	SPAWN_FD,		/* fd given by the caller */
};

struct spawn_io {
	enum spawn_io_mode mode;
	int fd;
};

struct spawn_fdmap {
	int parent_fd;
	int child_fd;
};

#define SPAWN_SETSID 0x1	/* new session: no controlling terminal */
#define SPAWN_PDEATHSIG 0x2	/* SIGTERM to the child when this thread dies */
#define SPAWN_KEEP_FDS 0x4	/* do not close the fds that are not mapped */

struct spawn {
	const char *path;	/* NULL: search argv[0] in PATH */
	char *const *argv;
	char *const *envp;	/* NULL: this process's environment */
	const char *cwd;	/* NULL: unchanged */
	struct spawn_io io[3];
	const struct spawn_fdmap *fds;	/* more fds for the child */
	size_t nfds;
	unsigned flags;
	pid_t pid;		/* set by spawn_start */
};

/* 0 when the program was exec'd (sp->pid set), -1 with errno (the exec's
 * own error, e.g. ENOENT) otherwise; nothing is left running then. */
int spawn_start(struct spawn *sp);
/* waitpid, retrying on EINTR. */
int spawn_wait(pid_t pid, int *status);
/* The shell's view of a wait status: exit code, or 128 + signal. */
int spawn_exit_code(int status);

/* Run argv (PATH search), capture stdout into out (at most max bytes,
 * EFBIG past that), stderr inherited; *status gets the wait status. */
int spawn_run(char *const argv[], struct buf *out, size_t max, int *status);

/* Re-execute /proc/self/exe as "lab CMD --child ROLE ARGS..." with one end
 * of a socketpair on fd 3; *sock gets the other end. */
int spawn_self(const char *cmd, const char *role, char *const args[], int *sock,
	       pid_t *pid);

/* Send bytes with up to 16 descriptors (SCM_RIGHTS); receive them. On
 * receive, *nfds is the capacity on entry and the count on return. */
/* A daemon's start: fork; in the child a new session, stdin and stdout on
 * /dev/null, stderr on logpath (appended; mode 0640; /dev/null when it
 * cannot be opened). The child's pid in the parent, 0 in the child, -1
 * with errno. Call it before making threads or an event loop (an epoll
 * set watching a signalfd made before the fork never wakes the child). */
pid_t spawn_daemon(const char *logpath);
int spawn_send_fds(int sock, const void *p, size_t n, const int *fds, size_t nfds);
ssize_t spawn_recv_fds(int sock, void *p, size_t n, int *fds, size_t *nfds);

#endif
