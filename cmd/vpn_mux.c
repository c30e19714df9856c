/*
 * lab vpn mux: one TCP port for SSH, TLS (routed by server name), HTTP,
 * OpenVPN and anything else, as sslh does. The options name the backends;
 * lib/mux.c sniffs and lib/mux_srv.c relays.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "vpn.h"

/* fds per connection: client, backend, two pipes, a timer */
#define FDS_PER_CONN 7

static void
print_backend(const char *key, const struct mux_backend *be)
{
	size_t i;

	printf("%s %s", key, be->name);
	for (i = 0; i < be->naddr; i++) {
		char a[INET6_ADDRSTRLEN + 8];
		const struct sockaddr_storage *ss = &be->addr[i].ss;

		if (ss->ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)ss;
			char h[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
			snprintf(a, sizeof(a), "[%s]:%u", h, ntohs(s6->sin6_port));
		} else {
			const struct sockaddr_in *s4 = (const void *)ss;
			char h[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
			snprintf(a, sizeof(a), "%s:%u", h, ntohs(s4->sin_port));
		}
		printf("%s%s", i ? ", " : " = ", a);
	}
	printf("\n");
}

/* Root is needed for nothing once the listeners are bound: backends are
 * addresses resolved already, and connecting to them needs no privilege. */
static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0 || !strcmp(user, "root"))
		return;
	pw = getpwnam(user);
	if (!pw)
		die("user %s: no such user", user);
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		die_errno("dropping privileges to %s", user);
	if (setuid(0) == 0)
		die("could still regain root after dropping to %s", user);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	log_info("running as %s", user);
}

/* The options (and -c files) into c; -1 with a message for die_usage or
 * for the log (a reload). */
static int
parse(int argc, char **argv, struct mux_conf *c, int *verbose, int *dry, char *err, size_t errlen)
{
	char why[400];
	int k;

	mux_conf_init(c);
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "-v")) {
			(*verbose)++;
			continue;
		}
		if (!strcmp(a, "-n")) {
			*dry = 1;
			continue;
		}
		if (a[0] != '-') {
			snprintf(err, errlen, "mux: unexpected argument \"%s\"", a);
			return -1;
		}
		if (strcmp(a, "-c") && (a[1] != '-' || !mux_conf_is_key(a + 2))) {
			snprintf(err, errlen, "mux: unknown option %s", a);
			return -1;
		}
		if (k + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value", a);
			return -1;
		}
		if (!strcmp(a, "-c")) {
			if (mux_conf_load(c, argv[++k], err, errlen) < 0)
				return -1;
			continue;
		}
		if (mux_conf_set(c, a + 2, argv[k + 1], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s %s: %s", a, argv[k + 1], why);
			return -1;
		}
		k++;
	}
	if (mux_conf_check(c, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "mux: %s", why);
		return -1;
	}
	return 0;
}

/* Room for every connection's descriptors. */
static int
fd_room(unsigned max_conns, char *err, size_t errlen)
{
	rlim_t want = (rlim_t)max_conns * FDS_PER_CONN + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		snprintf(err, errlen, "max-conns %u needs %llu descriptors; the limit is %llu",
			 max_conns, (unsigned long long)want, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static struct {
	struct ev *ev;
	struct mux_srv *srv;
	int argc;
	char **argv;
} M;

static void
on_stop(struct ev_handle *h, int signo, void *arg)
{
	log_info("signal %d: stopping", signo);
	ev_break(M.ev);
}

/* SIGHUP: the options and files again, names resolved again; a mistake
 * keeps what runs. */
static void
on_reload(struct ev_handle *h, int signo, void *arg)
{
	struct mux_conf *c = calloc(1, sizeof(*c));
	char err[600] = "";
	int v = 0, d = 0;

	if (!c) {
		log_warnx("reload: %s", strerror(ENOMEM));
		return;
	}
	if (parse(M.argc, M.argv, c, &v, &d, err, sizeof(err)) < 0 ||
	    fd_room(c->max_conns, err, sizeof(err)) < 0 ||
	    mux_srv_reload(M.srv, c, err, sizeof(err)) < 0) {
		log_warnx("reload: %s; the running configuration stays", err);
		mux_conf_free(c);
		free(c);
		return;
	}
	log_info("reloaded; connections in flight (%zu) keep their backends", mux_srv_conns(M.srv));
}

int
vpn_mux_main(int argc, char **argv)
{
	static const char *const protos[] = { "ssh", "tls", "http", "openvpn", "default" };
	static const int proto_of[] = { MUX_SSH, MUX_TLS, MUX_HTTP, MUX_OPENVPN, MUX_UNKNOWN };
	struct mux_conf *c = xcalloc(1, sizeof(*c));
	int verbose = 0, dry = 0;
	char err[600] = "";
	size_t i;

	if (parse(argc, argv, c, &verbose, &dry, err, sizeof(err)) < 0)
		die_usage("%s", err);
	if (dry) {
		for (i = 0; i < c->nlisten; i++) {
			struct mux_backend l = { c->listen_name[i], &c->listen[i], 1, 0 };

			print_backend("listen", &l);
		}
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (c->have[proto_of[i]])
				print_backend(protos[i], &c->be[proto_of[i]]);
		for (i = 0; i < c->nsni; i++) {
			char key[300];

			snprintf(key, sizeof(key), "tls-sni %s", c->sni[i].pattern);
			print_backend(key, &c->sni[i].be);
		}
		printf("timeout %u ms\nconnect-timeout %u ms\nmax-conns %u\nuser %s\n",
		       c->sniff_timeout_ms, c->connect_timeout_ms, c->max_conns, c->user);
		mux_conf_free(c);
		free(c);
		return 0;
	}
	log_init(cmd_prog, verbose);
	if (fd_room(c->max_conns, err, sizeof(err)) < 0)
		die_usage("%s", err);
	signal(SIGPIPE, SIG_IGN);
	M.argc = argc;
	M.argv = argv;
	M.ev = ev_new();
	if (!M.ev)
		die_errno("event loop");
	M.srv = mux_srv_new(M.ev, c, err, sizeof(err));
	if (!M.srv)
		die("%s", err);
	drop_privileges(c->user);
	if (!ev_signal_add(M.ev, SIGINT, on_stop, NULL) ||
	    !ev_signal_add(M.ev, SIGTERM, on_stop, NULL) ||
	    !ev_signal_add(M.ev, SIGHUP, on_reload, NULL))
		die_errno("signals");
	for (i = 0; i < c->nlisten; i++)
		log_info("listening on %s", c->listen_name[i]);
	if (ev_run(M.ev) < 0)
		die_errno("event loop");
	mux_srv_free(M.srv);	/* and c */
	ev_free(M.ev);
	return 0;
}
