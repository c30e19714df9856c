/*
 * lab vpn openvpn: an OpenVPN gateway on the system's openvpn. lab makes
 * the PKI (lib/x509ca), the tls-crypt-v2 keys and the configurations
 * (lib/ovpn), and runs and supervises one openvpn per protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "ev.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "ovpn.h"
#include "spawn.h"
#include "vpn.h"

static const char *
opt_dir(int argc, char **argv, int *k)
{
	if (strcmp(argv[*k], "--dir"))
		return NULL;
	if (*k + 1 >= argc)
		die_usage("--dir needs a directory");
	return argv[++*k];
}

static const char *
value(int argc, char **argv, int *k)
{
	if (*k + 1 >= argc)
		die_usage("%s needs a value", argv[*k]);
	return argv[++*k];
}

static unsigned
port_arg(const char *opt, const char *s)
{
	uint32_t p;

	if (str_to_u32(s, 65535, &p) < 0 || p == 0)
		die_usage("%s %s: a port, 1 to 65535", opt, s);
	return p;
}

static int
cmd_init(int argc, char **argv)
{
	struct ovpn_settings s;
	const char *dir = OVPN_DEFAULT_DIR, *d;
	char err[600];
	uint32_t u;
	int k;

	ovpn_settings_default(&s);
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if ((d = opt_dir(argc, argv, &k))) {
			dir = d;
		} else if (!strcmp(a, "--proto")) {
			const char *p = value(argc, argv, &k);

			s.udp = !strcmp(p, "udp") || !strcmp(p, "both");
			s.tcp = !strcmp(p, "tcp") || !strcmp(p, "both");
			if (!s.udp && !s.tcp)
				die_usage("--proto %s: udp, tcp or both", p);
		} else if (!strcmp(a, "--port")) {
			s.udp_port = s.tcp_port = port_arg(a, value(argc, argv, &k));
		} else if (!strcmp(a, "--udp-port")) {
			s.udp_port = port_arg(a, value(argc, argv, &k));
		} else if (!strcmp(a, "--tcp-port")) {
			s.tcp_port = port_arg(a, value(argc, argv, &k));
		} else if (!strcmp(a, "--subnet")) {
			str_copy(s.subnet, value(argc, argv, &k), sizeof(s.subnet));
		} else if (!strcmp(a, "--tcp-subnet")) {
			str_copy(s.tcp_subnet, value(argc, argv, &k), sizeof(s.tcp_subnet));
		} else if (!strcmp(a, "--remote")) {
			str_copy(s.remote, value(argc, argv, &k), sizeof(s.remote));
		} else if (!strcmp(a, "--route")) {
			if (s.nroutes == OVPN_MAX_ROUTES)
				die_usage("--route: at most %d", OVPN_MAX_ROUTES);
			str_copy(s.routes[s.nroutes++], value(argc, argv, &k), sizeof(s.routes[0]));
		} else if (!strcmp(a, "--days")) {
			const char *v = value(argc, argv, &k);

			if (str_to_u32(v, 36500, &u) < 0 || u == 0)
				die_usage("--days %s: 1 to 36500", v);
			s.days = u;
		} else {
			die_usage("openvpn init: unknown argument %s", a);
		}
	}
	if (ovpn_settings_check(&s, err, sizeof(err)) < 0)
		die_usage("%s", err);
	if (ovpn_init(dir, &s, err, sizeof(err)) < 0) {
		if (errno == EINVAL)
			die_usage("%s", err);
		die("%s", err);
	}
	printf("%s: CA, server certificate, tls-crypt-v2 key, CRL", dir);
	if (s.udp)
		printf(", server-udp.conf (udp %u, %s)", s.udp_port, s.subnet);
	if (s.tcp)
		printf(", server-tcp.conf (tcp %u, %s)", s.tcp_port, s.tcp_subnet);
	printf("\n");
	return 0;
}

static int
cmd_client(int argc, char **argv)
{
	const char *dir = OVPN_DEFAULT_DIR, *d, *name = NULL, *remote = NULL, *proto = NULL;
	char err[600], path[4096];
	int k;

	for (k = 1; k < argc; k++) {
		if ((d = opt_dir(argc, argv, &k)))
			dir = d;
		else if (!strcmp(argv[k], "--remote"))
			remote = value(argc, argv, &k);
		else if (!strcmp(argv[k], "--proto"))
			proto = value(argc, argv, &k);
		else if (argv[k][0] == '-' || name)
			die_usage("openvpn client: unknown argument %s", argv[k]);
		else
			name = argv[k];
	}
	if (!name)
		die_usage("openvpn client NAME [--remote HOST[:PORT]] [--proto udp|tcp]");
	if (!ovpn_name_ok(name))
		die_usage("%s: not a client name (1 to 64 of A-Z a-z 0-9 . _ -, not starting with "
			  ". or -, not \"server\")",
			  name);
	if (proto && strcmp(proto, "udp") && strcmp(proto, "tcp"))
		die_usage("--proto %s: udp or tcp", proto);
	if (ovpn_client_new(dir, name, remote, proto, path, sizeof(path), err, sizeof(err)) < 0) {
		if (errno == EINVAL)
			die_usage("%s", err);
		die("%s", err);
	}
	printf("%s\n", path);
	return 0;
}

static int
cmd_revoke(int argc, char **argv)
{
	const char *dir = OVPN_DEFAULT_DIR, *d, *name = NULL;
	char err[600];
	int k;

	for (k = 1; k < argc; k++) {
		if ((d = opt_dir(argc, argv, &k)))
			dir = d;
		else if (argv[k][0] == '-' || name)
			die_usage("openvpn revoke: unknown argument %s", argv[k]);
		else
			name = argv[k];
	}
	if (!name)
		die_usage("openvpn revoke NAME");
	if (!ovpn_name_ok(name))
		die_usage("%s: not a client name", name);
	if (ovpn_revoke(dir, name, err, sizeof(err)) < 0)
		die("%s", err);
	printf("%s: revoked; crl.pem re-signed (openvpn reads it for every new connection)\n",
	       name);
	/* and sessions already up are dropped by a running openvpn */
	for (k = 0; k < 2; k++) {
		const char *proto = k ? "tcp" : "udp";
		int n = ovpn_mgmt_kill(dir, proto, name, err, sizeof(err));

		if (n < 0)
			warnx_("%s: could not drop %s's live sessions: %s", proto, name, err);
		else if (n > 0)
			printf("%s: %d live session%s dropped (%s)\n", name, n, n > 1 ? "s" : "",
			       proto);
	}
	return 0;
}

static const char *
state_of(const struct ovpn_client *c, int64_t now)
{
	if (c->revoked)
		return "revoked";
	if (c->not_after < now)
		return "expired";
	return "valid";
}

static void
fmt_day(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

static int
cmd_ls(int argc, char **argv)
{
	const char *dir = OVPN_DEFAULT_DIR, *d;
	struct ovpn_client *v = NULL;
	struct buf st = BUF_INIT, out = BUF_INIT;
	struct json_writer w;
	char err[600], path[4096];
	size_t n = 0, i;
	int k, json = 0;
	int64_t now = (int64_t)time(NULL);

	for (k = 1; k < argc; k++) {
		if ((d = opt_dir(argc, argv, &k)))
			dir = d;
		else if (!strcmp(argv[k], "--json"))
			json = 1;
		else
			die_usage("openvpn ls: unknown argument %s", argv[k]);
	}
	if (ovpn_index_load(dir, &v, &n, err, sizeof(err)) < 0)
		die("%s", err);
	/* who is connected: the status files openvpn rewrites every 5 s (one
	 * older than 30 s is left from an openvpn that is gone) */
	for (k = 0; k < 2; k++) {
		struct stat sb;

		snprintf(path, sizeof(path), "%s/status-%s.log", dir, k ? "tcp" : "udp");
		if (stat(path, &sb) == 0 && sb.st_mtime + 30 >= now)
			fs_read_file(path, &st, 1 << 22);
	}
	buf_cstr(&st);
	if (json) {
		json_writer_init(&w, &out, 0);
		json_begin_arr(&w);
	} else {
		buf_addf(&out, "%-20s %-9s %-10s %-10s %-15s %s\n", "NAME", "STATE", "ISSUED",
			 "EXPIRES", "ADDRESS", "SERIAL");
	}
	for (i = 0; i < n; i++) {
		char addr[64] = "", nb[16], na[16];
		int conn =
		    !v[i].revoked && ovpn_status_find(buf_cstr(&st), v[i].name, addr, sizeof(addr));
		const char *state = conn ? "connected" : state_of(&v[i], now);

		if (json) {
			json_begin_obj(&w);
			json_key(&w, "name");
			json_str(&w, v[i].name);
			json_key(&w, "state");
			json_str(&w, state);
			json_key(&w, "serial");
			json_str(&w, v[i].serial);
			json_key(&w, "not_before");
			json_int(&w, v[i].not_before);
			json_key(&w, "not_after");
			json_int(&w, v[i].not_after);
			json_key(&w, "revoked_at");
			if (v[i].revoked)
				json_int(&w, v[i].revoked);
			else
				json_null(&w);
			json_key(&w, "address");
			if (conn && addr[0])
				json_str(&w, addr);
			else
				json_null(&w);
			json_end_obj(&w);
			continue;
		}
		fmt_day(v[i].not_before, nb);
		fmt_day(v[i].not_after, na);
		buf_addf(&out, "%-20s %-9s %-10s %-10s %-15s %s\n", v[i].name, state, nb, na,
			 conn && addr[0] ? addr : "-", v[i].serial);
	}
	if (json) {
		json_end_arr(&w);
		if (json_writer_finish(&w) < 0)
			die_errno("ls");
		buf_addc(&out, '\n');
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	buf_free(&out);
	buf_free(&st);
	free(v);
	return 0;
}

/* ---- run: one openvpn per instance, supervised ---- */

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define STABLE_MS 30000 /* a run this long resets the backoff */
#define KILL_AFTER_MS 10000

struct inst {
	struct sup *s;
	const char *proto;
	char conf[4096];
	pid_t pid;
	int out; /* its stdout and stderr */
	struct buf line;
	struct ev_handle *io, *child, *timer;
	uint64_t started, backoff;
};

struct sup {
	struct ev *ev;
	const char *openvpn;
	struct inst in[2];
	int n;
	int stopping;
	struct ev_handle *kill_timer;
};

static void start(struct inst *in);

static void
flush_line(struct inst *in)
{
	if (in->line.len) {
		log_info("%s: %s", in->proto, buf_cstr(&in->line));
		buf_reset(&in->line);
	}
}

/* Lines from openvpn into lab's log. The pipe is non-blocking: read until
 * it is empty, or closed (then forget it). */
static void
on_output(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct inst *in = arg;
	char b[4096];
	ssize_t r, i;

	(void)events;
	for (;;) {
		r = read(fd, b, sizeof(b));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0)
			break;
		for (i = 0; i < r; i++) {
			if (b[i] == '\n')
				flush_line(in);
			else if (in->line.len < 2000)
				buf_addc(&in->line, b[i]);
		}
	}
	flush_line(in);
	ev_del(h);
	in->io = NULL;
	close(in->out);
	in->out = -1;
}

static int
all_down(struct sup *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->in[i].pid > 0)
			return 0;
	return 1;
}

static void
on_restart(struct ev_handle *h, uint64_t exp, void *arg)
{
	struct inst *in = arg;

	(void)exp;
	ev_del(h);
	in->timer = NULL;
	if (!in->s->stopping)
		start(in);
}

static void
on_exit_(struct ev_handle *h, pid_t pid, int status, void *arg)
{
	struct inst *in = arg;
	struct sup *s = in->s;
	uint64_t ran = ev_now_ms(s->ev) - in->started;

	(void)h;
	(void)pid;
	in->child = NULL;
	in->pid = -1;
	if (in->io) {
		/* what is left in the pipe (a process openvpn started may still
		 * hold it open: then the rest is not waited for) */
		on_output(in->io, in->out, EPOLLIN, in);
		if (in->io) {
			ev_del(in->io);
			in->io = NULL;
			close(in->out);
			in->out = -1;
		}
	}
	flush_line(in);
	if (s->stopping) {
		log_info("%s: stopped (%s %d)", in->proto, WIFEXITED(status) ? "status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		if (all_down(s))
			ev_break(s->ev);
		return;
	}
	if (ran >= STABLE_MS)
		in->backoff = BACKOFF_MIN_MS;
	log_warnx("%s: openvpn %s %d after %.1f s; starting it again in %.0f s", in->proto,
		  WIFEXITED(status) ? "exited with status" : "was killed by signal",
		  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), (double)ran / 1000,
		  (double)in->backoff / 1000);
	in->timer = ev_timer_add(s->ev, in->backoff, 0, on_restart, in);
	in->backoff = in->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : in->backoff * 2;
}

static void
start(struct inst *in)
{
	struct sup *s = in->s;
	char *argv[] = {(char *)s->openvpn, "--config", in->conf, "--suppress-timestamps", NULL};
	struct spawn sp;
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		fatal("pipe");
	memset(&sp, 0, sizeof(sp));
	sp.argv = argv;
	sp.io[0].mode = SPAWN_NULL;
	sp.io[1].mode = sp.io[2].mode = SPAWN_FD;
	sp.io[1].fd = sp.io[2].fd = p[1];
	sp.flags = SPAWN_SETSID | SPAWN_PDEATHSIG;
	if (spawn_start(&sp) < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		if (e == ENOENT)
			fatalx("%s: not found (apt-get install openvpn, or --openvpn PATH)",
			       s->openvpn);
		errno = e;
		log_warn("%s: cannot start %s", in->proto, s->openvpn);
		in->timer = ev_timer_add(s->ev, in->backoff, 0, on_restart, in);
		return;
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	in->pid = sp.pid;
	in->out = p[0];
	in->started = ev_now_ms(s->ev);
	in->io = ev_io_add(s->ev, in->out, EPOLLIN, on_output, in);
	in->child = ev_child_add(s->ev, in->pid, on_exit_, in);
	if (!in->child) {
		kill(in->pid, SIGKILL);
		fatal("%s: cannot watch openvpn (pidfd)", in->proto);
	}
	log_info("%s: started openvpn (pid %d) with %s", in->proto, (int)in->pid, in->conf);
}

static void
on_kill_timer(struct ev_handle *h, uint64_t exp, void *arg)
{
	struct sup *s = arg;
	int i;

	(void)exp;
	ev_del(h);
	s->kill_timer = NULL;
	for (i = 0; i < s->n; i++)
		if (s->in[i].pid > 0) {
			log_warnx("%s: still running after %d s: SIGKILL", s->in[i].proto,
				  KILL_AFTER_MS / 1000);
			kill(s->in[i].pid, SIGKILL);
		}
}

static void
on_signal(struct ev_handle *h, int signo, void *arg)
{
	struct sup *s = arg;
	int i;

	(void)h;
	if (signo == SIGHUP) {
		/* openvpn re-reads its configuration (and keys) on SIGHUP */
		for (i = 0; i < s->n; i++)
			if (s->in[i].pid > 0) {
				log_info("%s: SIGHUP: reloading", s->in[i].proto);
				kill(s->in[i].pid, SIGHUP);
			}
		return;
	}
	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("signal %d: stopping", signo);
	for (i = 0; i < s->n; i++) {
		if (s->in[i].timer) {
			ev_del(s->in[i].timer);
			s->in[i].timer = NULL;
		}
		if (s->in[i].pid > 0)
			kill(s->in[i].pid, SIGTERM);
	}
	if (all_down(s))
		ev_break(s->ev);
	else
		s->kill_timer = ev_timer_add(s->ev, KILL_AFTER_MS, 0, on_kill_timer, s);
}

static int
cmd_run(int argc, char **argv)
{
	const char *dir = OVPN_DEFAULT_DIR, *d;
	struct ovpn_settings set;
	struct sup *s;
	char err[600];
	int k, i, verbose = 0;

	s = xcalloc(1, sizeof(*s));
	s->openvpn = "openvpn";
	for (k = 1; k < argc; k++) {
		if ((d = opt_dir(argc, argv, &k)))
			dir = d;
		else if (!strcmp(argv[k], "--openvpn"))
			s->openvpn = value(argc, argv, &k);
		else if (!strcmp(argv[k], "-v"))
			verbose++;
		else
			die_usage("openvpn run: unknown argument %s", argv[k]);
	}
	if (verbose)
		log_set_verbose(verbose);
	if (ovpn_settings_load(dir, &set, err, sizeof(err)) < 0)
		die("%s", err);
	if (set.udp) {
		s->in[s->n].proto = "udp";
		snprintf(s->in[s->n++].conf, sizeof(s->in[0].conf), "%s/server-udp.conf", dir);
	}
	if (set.tcp) {
		s->in[s->n].proto = "tcp";
		snprintf(s->in[s->n++].conf, sizeof(s->in[0].conf), "%s/server-tcp.conf", dir);
	}
	for (i = 0; i < s->n; i++)
		if (access(s->in[i].conf, R_OK) < 0)
			die_errno("%s", s->in[i].conf);
	s->ev = ev_new();
	if (!s->ev)
		die_errno("event loop");
	ev_unref(ev_signal_add(s->ev, SIGTERM, on_signal, s));
	ev_unref(ev_signal_add(s->ev, SIGINT, on_signal, s));
	ev_unref(ev_signal_add(s->ev, SIGHUP, on_signal, s));
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < s->n; i++) {
		s->in[i].s = s;
		s->in[i].pid = -1;
		s->in[i].out = -1;
		s->in[i].backoff = BACKOFF_MIN_MS;
		start(&s->in[i]);
	}
	if (ev_run(s->ev) < 0)
		die_errno("event loop");
	log_info("stopped");
	return 0;
}

int
vpn_openvpn_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} sub[] = {
	    {"init", cmd_init}, {"client", cmd_client}, {"revoke", cmd_revoke},
	    {"ls", cmd_ls},	{"run", cmd_run},
	};
	size_t i;
	int k;

	for (k = 1; k < argc; k++)
		if (cmd_is_help(argv[k])) {
			cmd_usage(cmd_find("vpn"));
			return 0;
		}
	if (argc < 2)
		die_usage("openvpn: a subcommand: init, client, revoke, ls, run");
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (!strcmp(argv[1], sub[i].name))
			return sub[i].fn(argc - 1, argv + 1);
	die_usage("openvpn: unknown subcommand \"%s\"", argv[1]);
}
