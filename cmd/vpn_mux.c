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

static void
on_stop(struct ev_handle *h, int signo, void *arg)
{
	log_info("signal %d: stopping", signo);
	ev_break(arg);
}

int
vpn_mux_main(int argc, char **argv)
{
	static const char *const protos[] = { "ssh", "tls", "http", "openvpn", "default" };
	static const int proto_of[] = { MUX_SSH, MUX_TLS, MUX_HTTP, MUX_OPENVPN, MUX_UNKNOWN };
	struct mux_conf c;
	struct mux_srv *s;
	struct ev *ev;
	struct rlimit rl;
	int k, verbose = 0, dry = 0;
	char err[600] = "";
	size_t i;

	mux_conf_init(&c);
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "-v")) {
			verbose++;
			continue;
		}
		if (!strcmp(a, "-n")) {
			dry = 1;
			continue;
		}
		if (a[0] != '-')
			die_usage("mux: unexpected argument \"%s\"", a);
		if (strcmp(a, "-c") && (a[1] != '-' || !mux_conf_is_key(a + 2)))
			die_usage("mux: unknown option %s", a);
		if (k + 1 >= argc)
			die_usage("%s needs a value", a);
		if (!strcmp(a, "-c")) {
			if (mux_conf_load(&c, argv[++k], err, sizeof(err)) < 0)
				die_usage("%s", err);
			continue;
		}
		if (mux_conf_set(&c, a + 2, argv[k + 1], err, sizeof(err)) < 0)
			die_usage("%s %s: %s", a, argv[k + 1], err);
		k++;
	}
	if (mux_conf_check(&c, err, sizeof(err)) < 0)
		die_usage("mux: %s", err);
	if (dry) {
		for (i = 0; i < c.nlisten; i++) {
			struct mux_backend l = { c.listen_name[i], &c.listen[i], 1, 0 };

			print_backend("listen", &l);
		}
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (c.have[proto_of[i]])
				print_backend(protos[i], &c.be[proto_of[i]]);
		for (i = 0; i < c.nsni; i++) {
			char key[300];

			snprintf(key, sizeof(key), "tls-sni %s", c.sni[i].pattern);
			print_backend(key, &c.sni[i].be);
		}
		printf("timeout %u ms\nconnect-timeout %u ms\nmax-conns %u\nuser %s\n",
		       c.sniff_timeout_ms, c.connect_timeout_ms, c.max_conns, c.user);
		mux_conf_free(&c);
		return 0;
	}
	log_init(cmd_prog, verbose);
	/* Room for every connection's descriptors, or a clear refusal. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t want = (rlim_t)c.max_conns * FDS_PER_CONN + 64;

		if (rl.rlim_cur < want) {
			rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur < want)
			die_usage("max-conns %u needs %llu descriptors; the limit is %llu",
				  c.max_conns, (unsigned long long)want,
				  (unsigned long long)rl.rlim_cur);
	}
	signal(SIGPIPE, SIG_IGN);
	ev = ev_new();
	if (!ev)
		die_errno("event loop");
	s = mux_srv_new(ev, &c, err, sizeof(err));
	if (!s)
		die("%s", err);
	drop_privileges(c.user);
	if (!ev_signal_add(ev, SIGINT, on_stop, ev) || !ev_signal_add(ev, SIGTERM, on_stop, ev))
		die_errno("signals");
	for (i = 0; i < c.nlisten; i++)
		log_info("listening on %s", c.listen_name[i]);
	if (ev_run(ev) < 0)
		die_errno("event loop");
	mux_srv_free(s);
	ev_free(ev);
	mux_conf_free(&c);
	return 0;
}
