#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ev.h"
#include "tap.h"

struct state {
	struct ev *ev;
	int once, periodic, io_bytes, sig, child_status, child_seen;
	uint64_t expirations;
	struct ev_handle *periodic_h, *io_h;
	pid_t child_pid;
};

static void
on_once(struct ev_handle *h, uint64_t n, void *arg)
{
	struct state *s = arg;

	s->once++;
	ev_del(h);	/* delete from inside its own callback */
}

static void
on_periodic(struct ev_handle *h, uint64_t n, void *arg)
{
	struct state *s = arg;

	s->periodic++;
	s->expirations += n;
	if (s->periodic == 3)
		ev_del(h);
}

static void
on_io(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct state *s = arg;
	char buf[64];
	ssize_t r = read(fd, buf, sizeof(buf));

	if (r > 0)
		s->io_bytes += (int)r;
	else
		ev_del(h);	/* EOF */
}

static void
on_sig(struct ev_handle *h, int signo, void *arg)
{
	struct state *s = arg;

	s->sig = signo;
	ev_del(h);
}

static void
on_child(struct ev_handle *h, pid_t pid, int status, void *arg)
{
	struct state *s = arg;

	s->child_seen = pid == s->child_pid;
	s->child_status = status;
}

static void
on_break(struct ev_handle *h, uint64_t n, void *arg)
{
	ev_break(arg);
}

int
main(void)
{
	struct state s;
	uint64_t t0;
	int p[2];
	pid_t pid;

	memset(&s, 0, sizeof(s));
	s.ev = ev_new();
	ok(s.ev != NULL, "loop created");
	t0 = ev_now_ms(s.ev);
	ok(ev_timer_add(s.ev, 0, 0, on_once, &s) != NULL, "one-shot timer (at once)");
	ok(ev_timer_add(s.ev, 10, 10, on_periodic, &s) != NULL, "periodic timer");
	if (pipe(p) < 0)
		return 1;
	ok(ev_io_add(s.ev, p[0], EPOLLIN, on_io, &s) != NULL, "pipe reader");
	ok(ev_signal_add(s.ev, SIGUSR1, on_sig, &s) != NULL, "SIGUSR1 through signalfd");
	ok(ev_signal_add(s.ev, SIGUSR1, on_sig, &s) == NULL && errno == EEXIST,
	   "one handler per signal");
	pid = fork();
	if (pid == 0) {
		/* The child writes, signals the parent, and exits with 7. */
		if (write(p[1], "hello", 5) != 5)
			_exit(1);
		kill(getppid(), SIGUSR1);
		usleep(20000);
		_exit(7);
	}
	close(p[1]);
	s.child_pid = pid;
	ok(ev_child_add(s.ev, pid, on_child, &s) != NULL, "child watched through a pidfd");
	ok(ev_run(s.ev) == 0, "loop runs until no handle is left");
	is_int(s.once, 1, "one-shot fired once");
	is_int(s.periodic, 3, "periodic fired until deleted");
	ok(s.expirations >= 3, "expirations counted");
	ok(ev_now_ms(s.ev) - t0 >= 30, "loop time moved at least 30 ms");
	is_int(s.io_bytes, 5, "pipe data read");
	is_int(s.sig, SIGUSR1, "signal delivered as an event");
	ok(s.child_seen && WIFEXITED(s.child_status) && WEXITSTATUS(s.child_status) == 7,
	   "child exit status through the pidfd");
	ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "child was reaped");

	ok(ev_timer_add(s.ev, 5, 5, on_break, s.ev) != NULL, "timer that breaks the loop");
	ok(ev_run(s.ev) == 0, "ev_break returns from ev_run");
	ev_free(s.ev);
	{
		sigset_t cur;

		sigprocmask(SIG_BLOCK, NULL, &cur);
		ok(!sigismember(&cur, SIGUSR1), "signal unblocked again after its handler went");
	}
	close(p[0]);
	return done_testing();
}
