#include "ev.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { H_IO, H_TIMER, H_SIGNAL, H_CHILD, H_SIGFD };

struct ev_handle {
	struct ev *ev;
	int kind;
	int fd;
	int dead;
	int unref;
	int signo;
	pid_t pid;
	union {
		ev_io_cb *io;
		ev_timer_cb *timer;
		ev_signal_cb *signal;
		ev_child_cb *child;
	} cb;
	void *arg;
	struct ev_handle *next;	/* all handles, for counting and freeing */
};

struct ev {
	int epfd;
	int stop;
	uint64_t now;
	struct ev_handle *handles;
	struct ev_handle *sigfd;	/* the shared signalfd */
	sigset_t sigmask;
	struct ev_handle *sig[65];
	int in_dispatch;
};

uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
mono_ms(void)
{
	return mono_us() / 1000;
}

struct ev *
ev_new(void)
{
	struct ev *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->epfd < 0) {
		free(ev);
		return NULL;
	}
	sigemptyset(&ev->sigmask);
	ev->now = mono_ms();
	return ev;
}

static void
handle_close(struct ev_handle *h)
{
	if (h->fd >= 0 && h->kind != H_IO)
		close(h->fd);
	h->fd = -1;
}

static void
sweep(struct ev *ev)
{
	struct ev_handle **pp = &ev->handles, *h;

	while ((h = *pp)) {
		if (h->dead) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
}

void
ev_free(struct ev *ev)
{
	struct ev_handle *h;

	if (!ev)
		return;
	for (h = ev->handles; h; h = h->next)
		if (!h->dead) {
			handle_close(h);
			h->dead = 1;
		}
	sweep(ev);
	if (!sigisemptyset(&ev->sigmask))
		sigprocmask(SIG_UNBLOCK, &ev->sigmask, NULL);
	close(ev->epfd);
	free(ev);
}

uint64_t
ev_now_ms(struct ev *ev)
{
	return ev->now;
}

static struct ev_handle *
handle_new(struct ev *ev, int kind, int fd, uint32_t events, void *arg)
{
	struct epoll_event ee;
	struct ev_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ev = ev;
	h->kind = kind;
	h->fd = fd;
	h->arg = arg;
	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = h;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		int saved = errno;

		free(h);
		errno = saved;
		return NULL;
	}
	h->next = ev->handles;
	ev->handles = h;
	return h;
}

struct ev_handle *
ev_io_add(struct ev *ev, int fd, uint32_t events, ev_io_cb *cb, void *arg)
{
	struct ev_handle *h = handle_new(ev, H_IO, fd, events, arg);

	if (h)
		h->cb.io = cb;
	return h;
}

int
ev_io_set(struct ev_handle *h, uint32_t events)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = h;
	return epoll_ctl(h->ev->epfd, EPOLL_CTL_MOD, h->fd, &ee);
}

static void
ms_to_ts(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000;
}

int
ev_timer_set(struct ev_handle *h, uint64_t first_ms, uint64_t interval_ms)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	ms_to_ts(first_ms, &its.it_value);
	/* it_value 0 would disarm: "at once" is the smallest delay instead. */
	if (first_ms == 0)
		its.it_value.tv_nsec = 1;
	ms_to_ts(interval_ms, &its.it_interval);
	return timerfd_settime(h->fd, 0, &its, NULL);
}

struct ev_handle *
ev_timer_add(struct ev *ev, uint64_t first_ms, uint64_t interval_ms, ev_timer_cb *cb,
	     void *arg)
{
	struct ev_handle *h;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return NULL;
	h = handle_new(ev, H_TIMER, fd, EPOLLIN, arg);
	if (!h) {
		close(fd);
		return NULL;
	}
	h->cb.timer = cb;
	if (ev_timer_set(h, first_ms, interval_ms) < 0) {
		int saved = errno;

		ev_del(h);
		errno = saved;
		return NULL;
	}
	return h;
}

static int
sigfd_update(struct ev *ev)
{
	int fd;

	if (sigprocmask(SIG_BLOCK, &ev->sigmask, NULL) < 0)
		return -1;
	if (ev->sigfd)
		return signalfd(ev->sigfd->fd, &ev->sigmask, 0) < 0 ? -1 : 0;
	fd = signalfd(-1, &ev->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -1;
	ev->sigfd = handle_new(ev, H_SIGFD, fd, EPOLLIN, NULL);
	if (!ev->sigfd) {
		close(fd);
		return -1;
	}
	ev->sigfd->unref = 1;
	return 0;
}

struct ev_handle *
ev_signal_add(struct ev *ev, int signo, ev_signal_cb *cb, void *arg)
{
	struct ev_handle *h;

	if (signo <= 0 || signo > 64 || ev->sig[signo]) {
		errno = signo <= 0 || signo > 64 ? EINVAL : EEXIST;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ev = ev;
	h->kind = H_SIGNAL;
	h->fd = -1;
	h->signo = signo;
	h->cb.signal = cb;
	h->arg = arg;
	sigaddset(&ev->sigmask, signo);
	if (sigfd_update(ev) < 0) {
		int saved = errno;

		sigdelset(&ev->sigmask, signo);
		free(h);
		errno = saved;
		return NULL;
	}
	ev->sig[signo] = h;
	h->next = ev->handles;
	ev->handles = h;
	return h;
}

static int
pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	return (int)syscall(434, pid, 0);
#endif
}

struct ev_handle *
ev_child_add(struct ev *ev, pid_t pid, ev_child_cb *cb, void *arg)
{
	struct ev_handle *h;
	int fd = pidfd_open_(pid);

	if (fd < 0)
		return NULL;
	h = handle_new(ev, H_CHILD, fd, EPOLLIN, arg);
	if (!h) {
		close(fd);
		return NULL;
	}
	h->pid = pid;
	h->cb.child = cb;
	return h;
}

void
ev_del(struct ev_handle *h)
{
	struct ev *ev;

	if (!h || h->dead)
		return;
	ev = h->ev;
	if (h->fd >= 0)
		epoll_ctl(ev->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	if (h->kind == H_SIGNAL) {
		sigset_t one;

		ev->sig[h->signo] = NULL;
		sigdelset(&ev->sigmask, h->signo);
		sigemptyset(&one);
		sigaddset(&one, h->signo);
		if (ev->sigfd)
			signalfd(ev->sigfd->fd, &ev->sigmask, 0);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
	}
	handle_close(h);
	h->dead = 1;
	if (!ev->in_dispatch)
		sweep(ev);
}

void
ev_unref(struct ev_handle *h)
{
	h->unref = 1;
}

void
ev_break(struct ev *ev)
{
	ev->stop = 1;
}

static int
live_handles(struct ev *ev)
{
	struct ev_handle *h;

	for (h = ev->handles; h; h = h->next)
		if (!h->dead && !h->unref)
			return 1;
	return 0;
}

static void
dispatch_signals(struct ev *ev)
{
	struct signalfd_siginfo si[8];
	ssize_t r;
	size_t i;

	while ((r = read(ev->sigfd->fd, si, sizeof(si))) > 0) {
		for (i = 0; i < (size_t)r / sizeof(si[0]); i++) {
			int signo = (int)si[i].ssi_signo;
			struct ev_handle *h = signo > 0 && signo <= 64 ? ev->sig[signo] : NULL;

			if (h && !h->dead)
				h->cb.signal(h, signo, h->arg);
		}
	}
}

static void
dispatch(struct ev_handle *h, uint32_t events)
{
	uint64_t n;
	int status;
	pid_t r;

	switch (h->kind) {
	case H_IO:
		h->cb.io(h, h->fd, events, h->arg);
		break;
	case H_TIMER:
		if (read(h->fd, &n, sizeof(n)) == sizeof(n) && n > 0)
			h->cb.timer(h, n, h->arg);
		break;
	case H_SIGFD:
		dispatch_signals(h->ev);
		break;
	case H_CHILD:
		do
			r = waitpid(h->pid, &status, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			break;	/* readable but not yet reapable: wait for next wakeup */
		if (r < 0)
			status = -1;
		{
			pid_t pid = h->pid;
			ev_child_cb *cb = h->cb.child;
			void *arg = h->arg;

			/* The pidfd is done: drop it before the callback may
			 * start a new child that reuses the number. */
			ev_del(h);
			cb(h, pid, status, arg);
		}
		break;
	}
}

int
ev_run(struct ev *ev)
{
	struct epoll_event evs[64];

	ev->stop = 0;
	while (!ev->stop && live_handles(ev)) {
		int n, i;

		n = epoll_wait(ev->epfd, evs, 64, -1);
		ev->now = mono_ms();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		ev->in_dispatch = 1;
		for (i = 0; i < n; i++) {
			struct ev_handle *h = evs[i].data.ptr;

			if (!h->dead)
				dispatch(h, evs[i].events);
		}
		ev->in_dispatch = 0;
		sweep(ev);
	}
	return 0;
}
