#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"

extern char **environ;

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define SPAWN_MAX_MAP 32

/* Mark fds [lo, hi] close-on-exec; close_range where the kernel has it. */
static void
cloexec_range(unsigned lo, unsigned hi)
{
	unsigned fd;

	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	if (hi > 65535)
		hi = 65535;
	for (fd = lo; fd <= hi; fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
child(const struct spawn *sp, int errfd)
{
	int src[SPAWN_MAX_MAP], dst[SPAWN_MAX_MAP], sorted[SPAWN_MAX_MAP];
	int n = 0, i, base = 3, err;
	struct sigaction sa;
	sigset_t none;

	sigemptyset(&none);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < 65; i++)
		if (i != SIGKILL && i != SIGSTOP)
			sigaction(i, &sa, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if ((sp->flags & SPAWN_SETSID) && setsid() < 0)
		goto fail;
	if ((sp->flags & SPAWN_PDEATHSIG) && prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		goto fail;

	for (i = 0; i < 3; i++) {
		if (sp->io[i].mode == SPAWN_INHERIT)
			continue;
		src[n] = sp->io[i].fd;
		dst[n++] = i;
	}
	for (i = 0; i < (int)sp->nfds && n < SPAWN_MAX_MAP; i++) {
		src[n] = sp->fds[i].parent_fd;
		dst[n++] = sp->fds[i].child_fd;
	}
	for (i = 0; i < n; i++)
		if (dst[i] >= base)
			base = dst[i] + 1;
	/* The error pipe must survive the mapping too. */
	i = fcntl(errfd, F_DUPFD_CLOEXEC, base);
	if (i >= 0)
		errfd = i;
	/* Move every source above every target first, so that mapping one
	 * fd can never clobber the source of another. */
	for (i = 0; i < n; i++) {
		src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base);
		if (src[i] < 0)
			goto fail;
	}
	for (i = 0; i < n; i++)
		if (dup2(src[i], dst[i]) < 0)
			goto fail;

	if (!(sp->flags & SPAWN_KEEP_FDS)) {
		int lo = 3;

		for (i = 0; i < n; i++)
			sorted[i] = dst[i];
		qsort(sorted, (size_t)n, sizeof(int), cmp_int);
		for (i = 0; i < n; i++) {
			if (sorted[i] < lo)
				continue;
			cloexec_range((unsigned)lo, (unsigned)sorted[i] - 1);
			lo = sorted[i] + 1;
		}
		cloexec_range((unsigned)lo, ~0U);
	}
	if (sp->cwd && chdir(sp->cwd) < 0)
		goto fail;
	if (sp->path)
		execve(sp->path, sp->argv, sp->envp ? sp->envp : environ);
	else
		execvpe(sp->argv[0], sp->argv, sp->envp ? sp->envp : environ);
fail:
	err = errno;
	while (write(errfd, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}

int
spawn_start(struct spawn *sp)
{
	int errpipe[2] = { -1, -1 }, pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int nullfd = -1, err = 0, i, saved;
	struct spawn work = *sp;
	ssize_t r;
	pid_t pid;

	if (!sp->argv || !sp->argv[0]) {
		errno = EINVAL;
		return -1;
	}
	if (sp->nfds > SPAWN_MAX_MAP - 3) {
		errno = E2BIG;
		return -1;
	}
	for (i = 0; i < 3; i++) {
		switch (sp->io[i].mode) {
		case SPAWN_NULL:
			if (nullfd < 0 && (nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				goto fail;
			work.io[i].fd = nullfd;
			break;
		case SPAWN_PIPE:
			if (pipe2(pipes[i], O_CLOEXEC) < 0)
				goto fail;
			work.io[i].fd = pipes[i][i == 0 ? 0 : 1];
			break;
		default:
			break;
		}
	}
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child(&work, errpipe[1]);
	close(errpipe[1]);
	errpipe[1] = -1;
	do
		r = read(errpipe[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(errpipe[0]);
	errpipe[0] = -1;
	if (r == sizeof(err)) {
		spawn_wait(pid, NULL);
		errno = err;
		goto fail;
	}
	for (i = 0; i < 3; i++) {
		if (sp->io[i].mode != SPAWN_PIPE)
			continue;
		close(pipes[i][i == 0 ? 0 : 1]);
		sp->io[i].fd = pipes[i][i == 0 ? 1 : 0];
	}
	if (nullfd >= 0)
		close(nullfd);
	sp->pid = pid;
	return 0;
fail:
	saved = errno;
	for (i = 0; i < 3; i++) {
		if (pipes[i][0] >= 0)
			close(pipes[i][0]);
		if (pipes[i][1] >= 0)
			close(pipes[i][1]);
	}
	if (errpipe[0] >= 0)
		close(errpipe[0]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	if (nullfd >= 0)
		close(nullfd);
	errno = saved;
	return -1;
}

int
spawn_wait(pid_t pid, int *status)
{
	int st;
	pid_t r;

	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (status)
		*status = st;
	return 0;
}

int
spawn_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int
spawn_run(char *const argv[], struct buf *out, size_t max, int *status)
{
	struct spawn sp;
	int r = 0, saved = 0;

	memset(&sp, 0, sizeof(sp));
	sp.argv = argv;
	sp.io[0].mode = SPAWN_NULL;
	sp.io[1].mode = out ? SPAWN_PIPE : SPAWN_INHERIT;
	if (spawn_start(&sp) < 0)
		return -1;
	if (out) {
		r = fs_read_fd(sp.io[1].fd, out, max);
		saved = errno;
		close(sp.io[1].fd);
	}
	if (spawn_wait(sp.pid, status) < 0)
		return -1;
	errno = saved;
	return r;
}

int
spawn_self(const char *cmd, const char *role, char *const args[], int *sock, pid_t *pid)
{
	struct spawn_fdmap map;
	char *argv[64];
	struct spawn sp;
	int sv[2], saved;
	size_t n = 0;

	argv[n++] = (char *)"lab";
	argv[n++] = (char *)cmd;
	argv[n++] = (char *)"--child";
	argv[n++] = (char *)role;
	while (args && *args && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.path = "/proc/self/exe";
	sp.argv = argv;
	map.parent_fd = sv[1];
	map.child_fd = 3;
	sp.fds = &map;
	sp.nfds = 1;
	if (spawn_start(&sp) < 0) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	close(sv[1]);
	*sock = sv[0];
	*pid = sp.pid;
	return 0;
}

#define SPAWN_MAX_PASS 16

int
spawn_send_fds(int sock, const void *p, size_t n, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SPAWN_MAX_PASS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)p, n };
	struct msghdr msg;
	ssize_t r;

	if (nfds > SPAWN_MAX_PASS || n == 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if ((size_t)r != n) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

ssize_t
spawn_recv_fds(int sock, void *p, size_t n, int *fds, size_t *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SPAWN_MAX_PASS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { p, n };
	struct msghdr msg;
	struct cmsghdr *c;
	size_t cap = nfds ? *nfds : 0, got = 0;
	ssize_t r;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t k, cnt;
		int *in;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		in = (int *)CMSG_DATA(c);
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, in + k, sizeof(fd));
			if (got < cap)
				fds[got++] = fd;
			else
				close(fd);	/* more than asked for: do not leak */
		}
	}
	if (nfds)
		*nfds = got;
	if (msg.msg_flags & MSG_CTRUNC) {
		size_t k;

		for (k = 0; k < got; k++)
			close(fds[k]);
		if (nfds)
			*nfds = 0;
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

pid_t
spawn_daemon(const char *logpath)
{
	int log = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640), null;
	pid_t pid = fork();

	if (pid != 0) {
		if (log >= 0)
			close(log);
		return pid;
	}
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(log >= 0 ? log : null, 2);
		close(null);
	}
	if (log >= 0)
		close(log);
	return 0;
}
