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
#include <sys/resource.h>

#include "buf.h"
#include "cmd.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "vpn.h"

/* fds per connection: client, backend, two pipes, a timer */
#define FDS_PER_CONN 7

static void
backend(struct mux_backend *be, const char *opt, const char *v)
{
	char err[400], *addr;
	const char *comma;

	if (be->name)
		die_usage("%s given twice", opt);
	/* HOST:PORT,proxy-v1 or ,proxy-v2: the PROXY protocol header first */
	comma = strrchr(v, ',');
	if (comma) {
		if (!strcmp(comma, ",proxy-v1"))
			be->proxy = 1;
		else if (!strcmp(comma, ",proxy-v2"))
			be->proxy = 2;
		else
			die_usage("%s %s: after the comma, proxy-v1 or proxy-v2", opt, v);
	}
	addr = xstrdup(v);
	if (comma)
		addr[comma - v] = '\0';
	if (mux_resolve(addr, 0, &be->addr, &be->naddr, err, sizeof(err)) < 0)
		die_usage("%s %s", opt, err);
	free(addr);
	if (be->naddr == 0)
		die_usage("%s %s: no address", opt, v);
	be->name = xstrdup(v);
}

/* A server name as the sniffer gives it (lowercase letters, digits, '-',
 * '.', '_'), or "*." and such a name. */
static int
sni_pattern_ok(const char *p)
{
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	if (!*p)
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '.' || *p == '_'))
			return 0;
	return 1;
}

static unsigned
msec(const char *opt, const char *v)
{
	uint64_t ms;
	uint32_t n;

	/* a bare number is milliseconds here; "2s", "500ms" also do */
	if (str_to_u32(v, 3600000, &n) == 0)
		return n;
	if (str_to_msec(v, &ms) < 0 || ms > 3600000)
		die_usage("%s %s: expected milliseconds (or 2s, 500ms), at most an hour", opt, v);
	return (unsigned)ms;
}

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

static void
on_stop(struct ev_handle *h, int signo, void *arg)
{
	log_info("signal %d: stopping", signo);
	ev_break(arg);
}

int
vpn_mux_main(int argc, char **argv)
{
	static const struct {
		const char *opt;
		int proto;
	} protos[] = {
		{ "--ssh", MUX_SSH },	  { "--tls", MUX_TLS },	       { "--http", MUX_HTTP },
		{ "--openvpn", MUX_OPENVPN }, { "--default", MUX_UNKNOWN },
	};
	struct mux_conf c;
	struct mux_srv *s;
	struct ev *ev;
	struct rlimit rl;
	int k, verbose = 0, dry = 0;
	char err[400] = "";
	size_t i;

	memset(&c, 0, sizeof(c));
	c.sniff_timeout_ms = 2000;
	c.connect_timeout_ms = 5000;
	c.max_conns = 512;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k], *v;

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
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (!strcmp(a, protos[i].opt))
				break;
		if (i == sizeof(protos) / sizeof(protos[0]) && strcmp(a, "--listen") &&
		    strcmp(a, "--tls-sni") && strcmp(a, "--timeout") && strcmp(a, "--connect-timeout") &&
		    strcmp(a, "--max-conns"))
			die_usage("mux: unknown option %s", a);
		if (k + 1 >= argc)
			die_usage("%s needs a value", a);
		v = argv[++k];
		if (i < sizeof(protos) / sizeof(protos[0])) {
			backend(&c.be[protos[i].proto], a, v);
			c.have[protos[i].proto] = 1;
		} else if (!strcmp(a, "--listen")) {
			struct mux_addr *la;
			size_t n, j;

			if (mux_resolve(v, 1, &la, &n, err, sizeof(err)) < 0)
				die_usage("--listen %s", err);
			c.listen = xrealloc(c.listen, (c.nlisten + n) * sizeof(*c.listen));
			c.listen_name = xrealloc(c.listen_name, (c.nlisten + n) * sizeof(*c.listen_name));
			for (j = 0; j < n; j++) {
				c.listen[c.nlisten] = la[j];
				c.listen_name[c.nlisten++] = xstrdup(v);
			}
			free(la);
		} else if (!strcmp(a, "--tls-sni")) {
			const char *eq = strchr(v, '=');
			struct mux_sni_route *r;
			char *pat;

			if (!eq || eq == v)
				die_usage("--tls-sni %s: expected NAME=HOST:PORT (NAME may be *.SUFFIX)", v);
			pat = xstrdup(v);
			pat[eq - v] = '\0';
			if (!sni_pattern_ok(pat))
				die_usage("--tls-sni %s: \"%s\" is not a host name or *.SUFFIX", v, pat);
			for (i = 0; pat[i]; i++)
				if (pat[i] >= 'A' && pat[i] <= 'Z')
					pat[i] = (char)(pat[i] - 'A' + 'a');	/* as the sniffer gives names */
			for (i = 0; i < c.nsni; i++)
				if (!strcasecmp(c.sni[i].pattern, pat))
					die_usage("--tls-sni %s: %s given twice", v, pat);
			c.sni = xrealloc(c.sni, (c.nsni + 1) * sizeof(*c.sni));
			r = &c.sni[c.nsni++];
			memset(r, 0, sizeof(*r));
			r->pattern = pat;
			backend(&r->be, "--tls-sni", eq + 1);
		} else if (!strcmp(a, "--timeout")) {
			c.sniff_timeout_ms = msec(a, v);
		} else if (!strcmp(a, "--connect-timeout")) {
			c.connect_timeout_ms = msec(a, v);
			if (!c.connect_timeout_ms)
				die_usage("--connect-timeout %s: more than 0", v);
		} else {
			uint32_t n;

			if (str_to_u32(v, 1000000, &n) < 0 || n == 0)
				die_usage("--max-conns %s: expected 1-1000000", v);
			c.max_conns = n;
		}
	}
	if (!c.nlisten)
		die_usage("mux needs --listen ADDR:PORT");
	for (i = 0; i < MUX_NPROTO && !c.have[i]; i++)
		;
	if (i == MUX_NPROTO && !c.nsni)
		die_usage("mux needs a backend: --ssh, --tls, --tls-sni, --http, --openvpn or --default");
	if (dry) {
		for (i = 0; i < c.nlisten; i++) {
			struct mux_backend l = { c.listen_name[i], &c.listen[i], 1, 0 };

			print_backend("listen", &l);
		}
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (c.have[protos[i].proto])
				print_backend(protos[i].opt + 2, &c.be[protos[i].proto]);
		for (i = 0; i < c.nsni; i++) {
			char key[300];

			snprintf(key, sizeof(key), "tls-sni %s", c.sni[i].pattern);
			print_backend(key, &c.sni[i].be);
		}
		printf("timeout %u ms\nconnect-timeout %u ms\nmax-conns %u\n", c.sniff_timeout_ms,
		       c.connect_timeout_ms, c.max_conns);
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
			die_usage("--max-conns %u needs %llu descriptors; the limit is %llu", c.max_conns,
				  (unsigned long long)want, (unsigned long long)rl.rlim_cur);
	}
	signal(SIGPIPE, SIG_IGN);
	ev = ev_new();
	if (!ev)
		die_errno("event loop");
	s = mux_srv_new(ev, &c, err, sizeof(err));
	if (!s)
		die("%s", err);
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
