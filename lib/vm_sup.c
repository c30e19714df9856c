/*
 * The supervisor of one instance: lab re-executed as "lab vm --child
 * supervise NAME", in a session of its own. It starts the guest, tells the
 * command that started it when the guest is ready (over fd 3), keeps the
 * console in console.log, the state in RUN/vm/NAME/, stops the guest on
 * SIGTERM (the guest's own stop signal, then SIGKILL after its timeout),
 * and cleans up when the guest's init is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "fs.h"
#include "spawn.h"
#include "vm.h"
#include "vm_run.h"

#define LOG_ROTATE (1 << 20)

struct sup {
	struct vm_store *s;
	struct vm_config c;
	struct vm_inst in;
	struct ev *ev;
	struct ev_handle *console, *notify, *ready_timer, *kill_timer, *child;
	int report;		/* fd 3 until ready is reported */
	int log;		/* console.log */
	char logpath[1300];
	off_t logsize;
	int ready;
	int stopping;
	int status;		/* init's wait status */
	int exited;
	int pending_cr;		/* the last console chunk ended in '\r' */
};

static void
sup_log(struct sup *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sup_write(struct sup *u, const void *p, size_t n)
{
	if (u->log < 0)
		return;
	if (u->logsize + (off_t)n > LOG_ROTATE) {
		char old[1400];

		snprintf(old, sizeof(old), "%s.1", u->logpath);
		rename(u->logpath, old);
		close(u->log);
		u->log = open(u->logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		u->logsize = 0;
		if (u->log < 0)
			return;
	}
	if (fs_write_full(u->log, p, n) == 0)
		u->logsize += (off_t)n;
}

static void
sup_log(struct sup *u, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "[lab] ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	sup_write(u, line, (size_t)n);
}

static void
report(struct sup *u, const char *msg)
{
	if (u->report < 0)
		return;
	if (send(u->report, msg, strlen(msg), MSG_NOSIGNAL) < 0) {
		/* the command that started us is gone; we go on */
	}
	close(u->report);
	u->report = -1;
}

/* Console output as lines: a terminal's "\r\n" becomes "\n" (a lone
 * "\r", a progress bar's, stays). */
static void
console_write(struct sup *u, char *p, size_t n)
{
	size_t i, o = 0;

	if (u->pending_cr) {
		u->pending_cr = 0;
		if (n == 0 || p[0] != '\n')
			sup_write(u, "\r", 1);
	}
	for (i = 0; i < n; i++) {
		if (p[i] == '\r') {
			if (i + 1 == n) {
				u->pending_cr = 1;
				continue;
			}
			if (p[i + 1] == '\n')
				continue;
		}
		p[o++] = p[i];
	}
	sup_write(u, p, o);
}

static void
on_console(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct sup *u = arg;
	char buf[16384];
	ssize_t n;

	(void)events;
	n = read(fd, buf, sizeof(buf));
	if (n > 0) {
		console_write(u, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EIO: nothing has the console open any more */
	ev_del(h);
	u->console = NULL;
}

static void
drain_console(struct sup *u)
{
	char buf[16384];
	ssize_t n;
	int fl;

	if (!u->console || u->in.console < 0)
		return;
	fl = fcntl(u->in.console, F_GETFL);
	fcntl(u->in.console, F_SETFL, fl | O_NONBLOCK);
	while ((n = read(u->in.console, buf, sizeof(buf))) > 0)
		console_write(u, buf, (size_t)n);
}

static void
became_ready(struct sup *u)
{
	int r;
	char p[1300], pid[32];

	u->ready = 1;
	if (u->ready_timer) {
		ev_del(u->ready_timer);
		u->ready_timer = NULL;
	}
	r = vm_instance_register(u->s, &u->in);
	if (r < 0)
		sup_log(u, "%s", u->s->err);
	if (vm_state_save(u->s, u->c.name, &u->in.st) < 0)
		sup_log(u, "%s", u->s->err);
	vm_run_dir(u->s, u->c.name, p, sizeof(p));
	str_copy(p + strlen(p), "/supervisor.pid", sizeof(p) - strlen(p));
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fs_write_replace(p, pid, strlen(pid), 0644);
	if (r < 0) {
		char m[700];

		snprintf(m, sizeof(m), "ok warning: %s", u->s->err);
		report(u, m);
	} else {
		report(u, "ok");
	}
}

static void
on_notify(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct sup *u = arg;
	char buf[4096];
	ssize_t n;

	(void)h;
	(void)events;
	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		char *line, *save = NULL;

		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strcmp(line, "READY=1") && !u->ready) {
				sup_log(u, "ready (READY=1)");
				became_ready(u);
			} else if (!strncmp(line, "STATUS=", 7)) {
				sup_log(u, "status: %s", line + 7);
			}
		}
	}
}

static void
on_kill_timer(struct ev_handle *h, uint64_t n, void *arg)
{
	struct sup *u = arg;

	(void)n;
	ev_del(h);
	u->kill_timer = NULL;
	sup_log(u, "still running after %d s: SIGKILL", u->c.stop_timeout);
	kill(u->in.proc.pid, SIGKILL);
}

static void
begin_stop(struct sup *u)
{
	if (u->stopping || u->exited)
		return;
	u->stopping = 1;
	sup_log(u, "stopping (%s, SIGKILL after %d s)", u->c.systemd ? "SIGRTMIN+3" : "SIGTERM",
		u->c.stop_timeout);
	kill(u->in.proc.pid, u->c.systemd ? VM_SIG_SYSTEMD_HALT : SIGTERM);
	u->kill_timer = ev_timer_add(u->ev, (uint64_t)u->c.stop_timeout * 1000, 0, on_kill_timer, u);
}

static void
on_ready_timeout(struct ev_handle *h, uint64_t n, void *arg)
{
	struct sup *u = arg;
	char m[200];

	(void)n;
	ev_del(h);
	u->ready_timer = NULL;
	snprintf(m, sizeof(m), "error: not ready (no READY=1) after %d s; lab vm logs %s",
		 VM_READY_TIMEOUT_S, u->c.name);
	report(u, m);
	sup_log(u, "%s", m + 7);
	begin_stop(u);
}

static void
on_signal(struct ev_handle *h, int signo, void *arg)
{
	(void)h;
	(void)signo;
	begin_stop(arg);
}

static void
on_init_exit(struct ev_handle *h, pid_t pid, int status, void *arg)
{
	struct sup *u = arg;

	(void)h;
	(void)pid;
	u->exited = 1;
	u->status = status;
	u->child = NULL;
	drain_console(u);
	if (WIFEXITED(status))
		sup_log(u, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGINT)
		sup_log(u, "halted");
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP)
		sup_log(u, "rebooting");
	else if (WIFSIGNALED(status))
		sup_log(u, "killed by signal %d", WTERMSIG(status));
	if (!u->ready) {
		char m[300];

		snprintf(m, sizeof(m), "error: the guest exited (%s %d) before it was ready; lab vm logs %s",
			 WIFEXITED(status) ? "status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), u->c.name);
		report(u, m);
	}
	ev_break(u->ev);
}

/* What belonged to one run of the guest. */
static void
drop_handles(struct sup *u)
{
	struct ev_handle **h[] = { &u->console, &u->notify, &u->ready_timer, &u->kill_timer,
				   &u->child };
	size_t i;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (*h[i]) {
			ev_del(*h[i]);
			*h[i] = NULL;
		}
}

static void
save_exit(struct sup *u)
{
	char p[1300], line[128];

	vm_dir(u->s, u->c.name, p, sizeof(p));
	str_copy(p + strlen(p), "/exit", sizeof(p) - strlen(p));
	/* a halt (SIGINT to a namespace's init from reboot()) is a clean end */
	snprintf(line, sizeof(line), "%d %lld\n",
		 WIFSIGNALED(u->status) && WTERMSIG(u->status) == SIGINT ? 0
									 : spawn_exit_code(u->status),
		 (long long)time(NULL));
	fs_write_atomic(p, line, strlen(line), 0644);
}

int
vm_supervise(struct vm_store *s, const char *name, int report_fd)
{
	struct sup *u = calloc(1, sizeof(*u));
	struct vm_start_opts o;
	struct stat st;
	char m[700];
	int fd;

	if (!u)
		return 1;
	u->report = report_fd;
	u->log = -1;
	setsid();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	u->s = s;
	if (vm_config_load(u->s, name, &u->c) < 0) {
		snprintf(m, sizeof(m), "error: %s", u->s->err);
		report(u, m);
		return 1;
	}
	vm_dir(u->s, name, u->logpath, sizeof(u->logpath));
	str_copy(u->logpath + strlen(u->logpath), "/console.log",
		 sizeof(u->logpath) - strlen(u->logpath));
	u->log = open(u->logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (u->log >= 0 && fstat(u->log, &st) == 0)
		u->logsize = st.st_size;
	u->ev = ev_new();
	if (!u->ev) {
		report(u, "error: event loop: out of memory");
		return 1;
	}
	ev_unref(ev_signal_add(u->ev, SIGTERM, on_signal, u));
	ev_unref(ev_signal_add(u->ev, SIGINT, on_signal, u));
	ev_unref(ev_signal_add(u->ev, SIGHUP, on_signal, u));
	memset(&o, 0, sizeof(o));
	o.console = 1;
	o.stdio[0] = o.stdio[1] = o.stdio[2] = -1;
	for (;;) {
		int reboot;

		vm_inst_init(&u->in);
		u->ready = u->exited = 0;
		sup_log(u, "starting %s", u->c.argv[0]);
		if (vm_instance_start(u->s, &u->c, &o, &u->in) < 0) {
			sup_log(u, "%s", u->s->err);
			snprintf(m, sizeof(m), "error: %s", u->s->err);
			report(u, m);
			return 1;
		}
		/* exec and stop work while a systemd guest boots */
		if (vm_state_save(u->s, name, &u->in.st) < 0)
			sup_log(u, "%s", u->s->err);
		u->console = ev_io_add(u->ev, u->in.console, EPOLLIN, on_console, u);
		u->child = ev_child_add(u->ev, u->in.proc.pid, on_init_exit, u);
		if (!u->child) {
			kill(u->in.proc.pid, SIGKILL);
			report(u, "error: cannot watch the guest (pidfd)");
		}
		if (u->c.systemd) {
			u->notify = ev_io_add(u->ev, u->in.notify, EPOLLIN, on_notify, u);
			u->ready_timer =
				ev_timer_add(u->ev, VM_READY_TIMEOUT_S * 1000, 0, on_ready_timeout, u);
		} else {
			became_ready(u);
		}
		ev_run(u->ev);
		drop_handles(u);
		save_exit(u);
		vm_instance_cleanup(u->s, &u->in);
		/* pid 1 of a namespace that calls reboot() dies of SIGHUP (restart)
		 * or SIGINT (halt, power off) */
		reboot = WIFSIGNALED(u->status) && WTERMSIG(u->status) == SIGHUP && u->ready;
		if (!reboot || u->stopping)
			break;
		sup_log(u, "the guest asked to reboot: starting it again");
	}
	sup_log(u, "stopped");
	return 0;
}

