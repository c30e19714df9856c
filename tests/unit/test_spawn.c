#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"
#include "spawn.h"
#include "tap.h"

static void
test_run(void)
{
	char *echo[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	char *missing[] = { "/nonexistent/lab-no-such-program", NULL };
	char *nopath[] = { "lab-no-such-program-in-path", NULL };
	struct buf b = BUF_INIT;
	int st = -1;

	ok(spawn_run(echo, &b, 100, &st) == 0, "spawn_run runs a shell");
	is_str(buf_cstr(&b), "out\n", "stdout captured (stderr not)");
	is_int(spawn_exit_code(st), 3, "exit code passed through");
	ok(spawn_run(missing, NULL, 0, &st) < 0 && errno == ENOENT,
	   "a missing program is ENOENT in the parent");
	ok(spawn_run(nopath, NULL, 0, &st) < 0 && errno == ENOENT, "PATH search miss is ENOENT");
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no zombie left by failed execs");
	buf_reset(&b);
	{
		char *big[] = { "sh", "-c", "head -c 5000 /dev/zero", NULL };

		ok(spawn_run(big, &b, 1000, &st) < 0 && errno == EFBIG, "capture bounded: EFBIG");
	}
	buf_free(&b);
}

static void
test_fds(void)
{
	char *argv[] = { "sh", "-c",
			 "echo mapped >&3; ls /proc/self/fd | wc -l; echo \"$LABT\"; pwd", NULL };
	char *envp[] = { "LABT=env-ok", "PATH=/usr/bin:/bin", NULL };
	struct spawn_fdmap map;
	struct spawn sp;
	struct buf out = BUF_INIT, fd3 = BUF_INIT;
	int p[2], leak;

	/* A descriptor without CLOEXEC that the child must not inherit. */
	leak = open("/dev/null", O_RDONLY);
	if (pipe(p) < 0)
		return;
	memset(&sp, 0, sizeof(sp));
	sp.argv = argv;
	sp.envp = envp;
	sp.cwd = "/";
	sp.io[0].mode = SPAWN_NULL;
	sp.io[1].mode = SPAWN_PIPE;
	map.parent_fd = p[1];
	map.child_fd = 3;
	sp.fds = &map;
	sp.nfds = 1;
	ok(spawn_start(&sp) == 0, "spawn_start with a pipe and an fd on 3");
	close(p[1]);
	fs_read_fd(sp.io[1].fd, &out, 4096);
	fs_read_fd(p[0], &fd3, 4096);
	close(sp.io[1].fd);
	close(p[0]);
	spawn_wait(sp.pid, NULL);
	is_str(buf_cstr(&fd3), "mapped\n", "fd 3 reached the child");
	/* 0, 1, 2, 3 and the one ls opens for /proc/self/fd. */
	is_str(buf_cstr(&out), "5\nenv-ok\n/\n", "only mapped fds inherited; env and cwd set");
	close(leak);
	buf_free(&out);
	buf_free(&fd3);
}

static void
test_sigmask(void)
{
	char *argv[] = { "sh", "-c", "kill -TERM $$; sleep 5", NULL };
	sigset_t set;
	int st = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	ok(spawn_run(argv, NULL, 0, &st) == 0, "ran with SIGTERM blocked in the parent");
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "the child's signal mask was reset");
	is_int(spawn_exit_code(st), 128 + SIGTERM, "exit code 128+signal");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void
test_pass(void)
{
	int sv[2], p[2], got[4];
	size_t n = 4;
	char msg[16] = { 0 }, c = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || pipe(p) < 0)
		return;
	ok(spawn_send_fds(sv[0], "pipe", 4, &p[1], 1) == 0, "send an fd");
	close(p[1]);
	ok(spawn_recv_fds(sv[1], msg, sizeof(msg), got, &n) == 4 && n == 1, "receive it");
	is_str(msg, "pipe", "with its bytes");
	ok(write(got[0], "!", 1) == 1 && read(p[0], &c, 1) == 1 && c == '!',
	   "the received fd is the same pipe");
	ok(fcntl(got[0], F_GETFD) & FD_CLOEXEC, "received fds are close-on-exec");
	close(got[0]);
	n = 0;
	ok(spawn_send_fds(sv[0], "x", 1, &p[0], 1) == 0, "send one more fd");
	ok(spawn_recv_fds(sv[1], msg, sizeof(msg), got, &n) == 1 && n == 0,
	   "an unexpected fd is closed, not leaked");
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	test_run();
	test_fds();
	test_sigmask();
	test_pass();
	return done_testing();
}
