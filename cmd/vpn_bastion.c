/*
 * lab vpn bastion: an SSH server that only forwards (ssh -J, -W, -L) to
 * destinations on an allow-list, for the keys of an authorized_keys file.
 * The server lives in lib/bastion_server.c; this is its command line,
 * its start-up and its log.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "bastion.h"
#include "buf.h"
#include "cmd.h"
#include "ev.h"
#include "fs.h"
#include "vpn.h"

#define HOST_KEY "/var/lib/lab/vpn/bastion/ssh_host_ed25519_key"

/* A configuration error: one line, exit 2. */
static void __attribute__((noreturn)) LOG_PRINTF(1, 2)
bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_L_WARN, 0, fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

static void
parse_listen(const char *s, struct bastion_conf *c)
{
	char host[128];
	const char *colon, *arg = s;
	struct ipaddr a;
	uint32_t port;
	size_t len;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		colon = close && close[1] == ':' ? close + 1 : NULL;
		len = close ? (size_t)(close - s - 1) : 0;
		s++;
	} else {
		colon = strrchr(s, ':');
		len = colon ? (size_t)(colon - s) : 0;
		if (colon && strchr(s, ':') != colon)
			colon = NULL;
	}
	if (!colon || len >= sizeof(host) || str_to_u32(colon + 1, 65535, &port) < 0 || port == 0)
		bad("--listen %s: expected ADDRESS:PORT ([ADDRESS]:PORT for IPv6)", arg);
	memcpy(host, s, len);
	host[len] = '\0';
	if (ipaddr_parse(host, AF_UNSPEC, &a) < 0 || a.plen >= 0)
		bad("--listen %s: %s is not an IP address", arg, host);
	memset(&c->listen, 0, sizeof(c->listen));
	if (a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&c->listen;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, a.a, 4);
		c->listenlen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->listen;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, a.a, 16);
		c->listenlen = sizeof(*s6);
	}
}

/* The keys of an authorized_keys file; lines it cannot take are named
 * and skipped (their keys are not accepted). */
static void
load_keys(const char *path, struct bastion_conf *c)
{
	struct buf b = BUF_INIT;
	char *p, *line, err[200];
	int lineno = 0;

	if (fs_read_file(path, &b, 4 << 20) < 0)
		bad("--authorized-keys %s: %s", path, strerror(errno));
	p = (char *)buf_cstr(&b);
	while ((line = strsep(&p, "\n"))) {
		struct bastion_key k;
		int r;

		lineno++;
		r = bastion_authkey_parse(line, &k, err, sizeof(err));
		if (r == 0)
			continue;
		if (r < 0) {
			log_warnx("%s:%d: %s: line ignored", path, lineno, err);
			continue;
		}
		{
			ssh_key key = NULL;
			char b64[4 * BASTION_BLOB_MAX / 3 + 8];

			/* libssh must take it too, or it could never match */
			base64_encode(k.blob, k.bloblen, b64);
			if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(k.type), &key) != SSH_OK) {
				log_warnx("%s:%d: a %s key libssh cannot read: line ignored", path, lineno, k.type);
				continue;
			}
			ssh_key_free(key);
		}
		c->keys = xrealloc(c->keys, (c->nkeys + 1) * sizeof(*c->keys));
		c->keys[c->nkeys++] = k;
	}
	buf_free(&b);
	if (!c->nkeys)
		bad("--authorized-keys %s: no key it could use", path);
}

static void
to_log(int level, const char *line)
{
	switch (level) {
	case LOG_L_WARN:
		log_warnx("%s", line);
		break;
	case LOG_L_INFO:
		log_info("%s", line);
		break;
	default:
		log_debug("%s", line);
	}
}

static void
libssh_log(int prio, const char *function, const char *buffer, void *userdata)
{
	(void)prio;
	(void)function;
	(void)userdata;
	log_trace("libssh: %s", buffer);
}

static struct ev *loop;

static void
on_listen(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	bastion_accept(arg);
}

static void
on_term(struct ev_handle *h, int signo, void *arg)
{
	log_info("stopping (signal %d)", signo);
	ev_break(loop);
}

static void
daemonize(const char *dir)
{
	char logpath[4200];
	pid_t pid;
	int fd;

	snprintf(logpath, sizeof(logpath), "%s/bastion.log", dir);
	fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		die_errno("%s", logpath);
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid > 0)
		_exit(0);
	setsid();
	dup2(fd, 2);
	close(fd);
	log_set_timestamps(1);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
}

int
vpn_bastion_main(int argc, char **argv)
{
	struct bastion_conf c;
	struct bastion *b;
	const char *keys = NULL;
	char err[600];
	int fg = 0, check = 0, verbose = 0, i;
	uint64_t ms;
	uint32_t u;

	memset(&c, 0, sizeof(c));
	c.host_key = HOST_KEY;
	c.max_auth_fail = 5;
	c.fail_window_ms = c.ban_ms = 10 * 60 * 1000;
	c.max_sessions = 256;
	c.max_channels = 64;
	c.login_grace_ms = 30 * 1000;
	c.log = to_log;
	parse_listen("0.0.0.0:22", &c);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-d")) {
			fg = 1;
			continue;
		}
		if (!strcmp(a, "-n")) {
			check = 1;
			continue;
		}
		if (!strcmp(a, "-v") || !strcmp(a, "-vv")) {
			verbose += (int)strlen(a) - 1;
			continue;
		}
		if (a[0] != '-' || !a[1] || a[1] != '-')
			die_usage("bastion: unknown argument \"%s\"", a);
		if (!v)
			die_usage("bastion: %s needs a value", a);
		i++;
		if (!strcmp(a, "--listen")) {
			parse_listen(v, &c);
		} else if (!strcmp(a, "--authorized-keys")) {
			keys = v;
		} else if (!strcmp(a, "--host-key")) {
			c.host_key = v;
		} else if (!strcmp(a, "--allow")) {
			struct bastion_rule r;

			if (bastion_rule_parse(v, &r, err, sizeof(err)) < 0)
				bad("--allow %s: %s", v, err);
			c.rules = xrealloc(c.rules, (c.nrules + 1) * sizeof(*c.rules));
			c.rules[c.nrules++] = r;
		} else if (!strcmp(a, "--max-auth-fail")) {
			if (str_to_u32(v, 1000000, &u) < 0)
				bad("--max-auth-fail %s: a number (0: no limit)", v);
			c.max_auth_fail = u;
		} else if (!strcmp(a, "--ban")) {
			if (str_to_msec(v, &ms) < 0 || ms < 1000)
				bad("--ban %s: a duration of a second or more (30s, 10m, 1h)", v);
			c.fail_window_ms = c.ban_ms = ms;
		} else if (!strcmp(a, "--login-grace")) {
			if (str_to_msec(v, &ms) < 0 || ms < 1000 || ms > 3600 * 1000)
				bad("--login-grace %s: a duration from 1s to 1h", v);
			c.login_grace_ms = ms;
		} else if (!strcmp(a, "--max-sessions")) {
			if (str_to_u32(v, 100000, &u) < 0 || u == 0)
				bad("--max-sessions %s: a number from 1", v);
			c.max_sessions = u;
		} else {
			die_usage("bastion: unknown option %s", a);
		}
	}
	if (!keys)
		die_usage("bastion: --authorized-keys FILE is required");
	if (!c.nrules)
		die_usage("bastion: at least one --allow RULE is required");
	log_set_verbose(verbose);
	if (ssh_init() != SSH_OK)
		die("libssh does not start");
	if (verbose >= 2) {
		ssh_set_log_callback(libssh_log);
		ssh_set_log_level(SSH_LOG_PROTOCOL);
	}
	load_keys(keys, &c);
	if (check) {
		for (i = 0; i < (int)c.nrules; i++) {
			char r[400];

			bastion_rule_format(&c.rules[i], r, sizeof(r));
			printf("allow %s\n", r);
		}
		for (i = 0; i < (int)c.nkeys; i++)
			printf("key %s %s %s\n", c.keys[i].type, c.keys[i].fp, c.keys[i].comment);
		return 0;
	}
	b = bastion_new(&c, err, sizeof(err));
	if (!b)
		die("%s", err);
	loop = ev_new();
	if (!loop || !ev_io_add(loop, bastion_fd(b), EPOLLIN, on_listen, b))
		die_errno("event loop");
	ev_signal_add(loop, SIGTERM, on_term, NULL);
	ev_signal_add(loop, SIGINT, on_term, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!fg) {
		char dir[4096], *slash;

		str_copy(dir, c.host_key, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			str_copy(dir, ".", sizeof(dir));
		daemonize(dir);
	}
	{
		char r[400];

		bastion_rule_format(&c.rules[0], r, sizeof(r));
		log_info("listening with host key %s, %zu authorized key%s, %zu rule%s (%s%s)", bastion_host_fp(b),
			 c.nkeys, c.nkeys == 1 ? "" : "s", c.nrules, c.nrules == 1 ? "" : "s", r,
			 c.nrules > 1 ? ", ..." : "");
	}
	ev_run(loop);
	bastion_free(b, 3000);
	ev_free(loop);
	ssh_finalize();
	return 0;
}
