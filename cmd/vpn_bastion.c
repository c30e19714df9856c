/*
 * lab vpn bastion: an SSH server that only forwards (ssh -J, -W, -L) to
 * destinations on an allow-list, for the keys of an authorized_keys file.
 * The server lives in lib/bastion_server.c; this is its command line,
 * its start-up and its log.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "bastion.h"
#include "buf.h"
#include "cmd.h"
#include "conf.h"
#include "ev.h"
#include "fs.h"
#include "vpn.h"
#include "spawn.h"

#define HOST_KEY "/var/lib/lab/vpn/bastion/ssh_host_ed25519_key"

/* A configuration error at start: one line, exit 2. */
static void __attribute__((noreturn)) LOG_PRINTF(1, 2)
bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_L_WARN, 0, fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

/* Everything the command line and --conf say; built afresh on SIGHUP. */
struct setup {
	struct bastion_conf c;
	char *keys;		/* the authorized_keys file */
	char *user;		/* to run as once listening, or NULL */
	char *conf;		/* --conf, or NULL */
};

static int
parse_listen(const char *s, struct bastion_conf *c, char *err, size_t errlen)
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
	if (!colon || len >= sizeof(host) || str_to_u32(colon + 1, 65535, &port) < 0 || port == 0) {
		snprintf(err, errlen, "%s: expected ADDRESS:PORT ([ADDRESS]:PORT for IPv6)", arg);
		return -1;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	if (ipaddr_parse(host, AF_UNSPEC, &a) < 0 || a.plen >= 0) {
		snprintf(err, errlen, "%s: %s is not an IP address", arg, host);
		return -1;
	}
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
	return 0;
}

/* One setting, from the command line (--KEY) or the file (KEY = ...).
 * -1 with "VALUE: why" in err, -2 for a key that is none. */
static int
set(struct setup *st, const char *key, const char *v, char *err, size_t errlen)
{
	struct bastion_conf *c = &st->c;
	uint64_t ms;
	uint32_t u;

	if (!strcmp(key, "listen"))
		return parse_listen(v, c, err, errlen);
	if (!strcmp(key, "authorized-keys")) {
		free(st->keys);
		st->keys = xstrdup(v);
	} else if (!strcmp(key, "user")) {
		free(st->user);
		st->user = xstrdup(v);
	} else if (!strcmp(key, "host-key")) {
		c->host_key = xstrdup(v);
	} else if (!strcmp(key, "allow")) {
		struct bastion_rule r;
		char why[300];

		if (bastion_rule_parse(v, &r, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", v, why);
			return -1;
		}
		c->rules = xrealloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
		c->rules[c->nrules++] = r;
	} else if (!strcmp(key, "max-auth-fail")) {
		if (str_to_u32(v, 1000000, &u) < 0) {
			snprintf(err, errlen, "%s: a number (0: no limit)", v);
			return -1;
		}
		c->max_auth_fail = u;
	} else if (!strcmp(key, "ban")) {
		if (str_to_msec(v, &ms) < 0 || ms < 1000) {
			snprintf(err, errlen, "%s: a duration of a second or more (30s, 10m, 1h)", v);
			return -1;
		}
		c->fail_window_ms = c->ban_ms = ms;
	} else if (!strcmp(key, "login-grace")) {
		if (str_to_msec(v, &ms) < 0 || ms < 1000 || ms > 3600 * 1000) {
			snprintf(err, errlen, "%s: a duration from 1s to 1h", v);
			return -1;
		}
		c->login_grace_ms = ms;
	} else if (!strcmp(key, "max-pending")) {
		if (str_to_u32(v, 100000, &u) < 0 || u == 0) {
			snprintf(err, errlen, "%s: a number from 1", v);
			return -1;
		}
		c->max_pending = u;
	} else if (!strcmp(key, "max-sessions")) {
		if (str_to_u32(v, 100000, &u) < 0 || u == 0) {
			snprintf(err, errlen, "%s: a number from 1", v);
			return -1;
		}
		c->max_sessions = u;
	} else {
		return -2;	/* not a setting */
	}
	return 0;
}

static const struct conf_key_spec file_keys[] = {
	{ "listen", CONF_STR, 0, 0, 0 },
	{ "authorized-keys", CONF_STR, 0, 0, 0 },
	{ "host-key", CONF_STR, 0, 0, 0 },
	{ "user", CONF_STR, 0, 0, 0 },
	{ "allow", CONF_STR, CONF_MULTI, 0, 0 },
	{ "max-auth-fail", CONF_STR, 0, 0, 0 },
	{ "ban", CONF_STR, 0, 0, 0 },
	{ "login-grace", CONF_STR, 0, 0, 0 },
	{ "max-sessions", CONF_STR, 0, 0, 0 },
	{ "max-pending", CONF_STR, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_section_spec file_spec[] = {
	{ "", 0, file_keys },
	{ NULL, 0, NULL },
};

static int
load_conf(struct setup *st, const char *path, char *err, size_t errlen)
{
	struct conf f;
	struct conf_err ce;
	size_t i, k;
	char why[400];

	if (conf_load(&f, path, CONF_INLINE_COMMENTS, &ce) < 0 || conf_validate(&f, file_spec, &ce) < 0) {
		if (ce.line)
			snprintf(err, errlen, "%s:%d: %s", ce.file, ce.line, ce.msg);
		else
			snprintf(err, errlen, "--conf %s: %s", path, ce.msg);
		if (f.file)
			conf_free(&f);
		return -1;
	}
	for (i = 0; i < f.nsect; i++)
		for (k = 0; k < f.sect[i].nkv; k++) {
			const struct conf_kv *kv = &f.sect[i].kv[k];
			char lower[32];
			size_t j;

			for (j = 0; kv->key[j] && j + 1 < sizeof(lower); j++)
				lower[j] = (char)tolower((unsigned char)kv->key[j]);
			lower[j] = '\0';
			if (set(st, lower, kv->val, why, sizeof(why)) < 0) {
				snprintf(err, errlen, "%s:%d: %s %s", path, kv->line, lower, why);
				conf_free(&f);
				return -1;
			}
		}
	conf_free(&f);
	return 0;
}

/* The keys of an authorized_keys file; lines it cannot take are named
 * and skipped (their keys are not accepted). */
static int
load_keys(struct setup *st, char *err, size_t errlen)
{
	struct bastion_conf *c = &st->c;
	struct buf b = BUF_INIT;
	char *p, *line, why[200];
	int lineno = 0;

	if (fs_read_file(st->keys, &b, 4 << 20) < 0) {
		snprintf(err, errlen, "--authorized-keys %s: %s", st->keys, strerror(errno));
		buf_free(&b);
		return -1;
	}
	p = (char *)buf_cstr(&b);
	while ((line = strsep(&p, "\n"))) {
		struct bastion_key k;
		int r;

		lineno++;
		r = bastion_authkey_parse(line, &k, why, sizeof(why));
		if (r == 0)
			continue;
		if (r < 0) {
			log_warnx("%s:%d: %s: line ignored", st->keys, lineno, why);
			continue;
		}
		{
			ssh_key key = NULL;
			char b64[4 * BASTION_BLOB_MAX / 3 + 8];

			/* libssh must take it too, or it could never match */
			base64_encode(k.blob, k.bloblen, b64);
			if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(k.type), &key) != SSH_OK) {
				log_warnx("%s:%d: a %s key libssh cannot read: line ignored", st->keys, lineno,
					  k.type);
				continue;
			}
			ssh_key_free(key);
		}
		c->keys = xrealloc(c->keys, (c->nkeys + 1) * sizeof(*c->keys));
		c->keys[c->nkeys++] = k;
	}
	buf_free(&b);
	if (!c->nkeys) {
		snprintf(err, errlen, "--authorized-keys %s: no key it could use", st->keys);
		return -1;
	}
	return 0;
}

static void
setup_free(struct setup *st)
{
	free(st->c.rules);
	free(st->c.keys);
	free(st->keys);
	free(st->user);
	free(st->conf);
	memset(st, 0, sizeof(*st));
}

static void to_log(int level, const char *line);

/*
 * Defaults, then --conf, then the other options in order (so they win),
 * then the keys. -1 with the one line that says why; usage: what is
 * missing altogether (a usage error rather than a bad value).
 */
static int
build(struct setup *st, int argc, char **argv, char *err, size_t errlen, int *usage)
{
	int i;

	memset(st, 0, sizeof(*st));
	*usage = 0;
	st->c.host_key = HOST_KEY;
	st->c.max_auth_fail = 5;
	st->c.fail_window_ms = st->c.ban_ms = 10 * 60 * 1000;
	st->c.max_sessions = 256;
	st->c.max_pending = 32;
	st->c.max_channels = 64;
	st->c.login_grace_ms = 30 * 1000;
	st->c.log = to_log;
	parse_listen("0.0.0.0:22", &st->c, err, errlen);
	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--conf")) {
			free(st->conf);
			st->conf = xstrdup(argv[i + 1]);
		}
	if (st->conf && load_conf(st, st->conf, err, errlen) < 0)
		return -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char why[400];
		int r;

		if (!strcmp(a, "-d") || !strcmp(a, "-n") || !strcmp(a, "-v") || !strcmp(a, "-vv"))
			continue;
		if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
			*usage = 1;
			snprintf(err, errlen, strncmp(a, "--", 2) ? "bastion: unknown argument \"%s\"" :
				 "bastion: %s needs a value", a);
			return -1;
		}
		i++;
		if (!strcmp(a, "--conf"))
			continue;
		r = set(st, a + 2, argv[i], why, sizeof(why));
		if (r == -2) {
			*usage = 1;
			snprintf(err, errlen, "bastion: unknown option %s", a);
			return -1;
		}
		if (r < 0) {
			snprintf(err, errlen, "%s %s", a, why);
			return -1;
		}
	}
	if (!st->keys || !st->c.nrules) {
		*usage = 1;
		snprintf(err, errlen, "bastion: %s is required",
			 !st->keys ? "--authorized-keys FILE" : "at least one --allow RULE");
		return -1;
	}
	return load_keys(st, err, errlen);
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

static struct {
	struct ev *loop;
	struct bastion *b;
	struct setup st;
	int argc;
	char **argv;
} B;

static void
on_listen(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	bastion_accept(arg);
}

static void
on_term(struct ev_handle *h, int signo, void *arg)
{
	log_info("stopping (signal %d)", signo);
	ev_break(B.loop);
}

static void
daemonize(const char *dir)
{
	char logpath[4200];
	pid_t pid;

	snprintf(logpath, sizeof(logpath), "%s/bastion.log", dir);
	if (access(dir, W_OK) < 0)
		die_errno("%s", dir);	/* said here, while a terminal listens */
	pid = spawn_daemon(logpath);
	if (pid < 0)
		die_errno("fork");
	if (pid > 0)
		_exit(0);
	log_set_timestamps(1);
}

static void
on_hup(struct ev_handle *h, int signo, void *arg)
{
	struct setup nst;
	char err[600];
	int usage, cut;

	if (build(&nst, B.argc, B.argv, err, sizeof(err), &usage) < 0) {
		log_warnx("reload: %s: the running rules and keys stay", err);
		setup_free(&nst);
		return;
	}
	if (memcmp(&nst.c.listen, &B.st.c.listen, sizeof(nst.c.listen)) ||
	    strcmp(nst.c.host_key, B.st.c.host_key))
		log_warnx("reload: a new listen address or host key takes a restart");
	cut = bastion_reload(B.b, nst.c.rules, nst.c.nrules, nst.c.keys, nst.c.nkeys);
	setup_free(&B.st);
	B.st = nst;
	log_info("reloaded: %zu authorized key%s, %zu rule%s%s", B.st.c.nkeys, B.st.c.nkeys == 1 ? "" : "s",
		 B.st.c.nrules, B.st.c.nrules == 1 ? "" : "s", cut ? "; sessions of keys taken away ended" : "");
}

/* Give up root once the socket is bound and the host key read: what is
 * left to read (authorized_keys and --conf on SIGHUP) must be readable by
 * the user. */
static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user && geteuid() == 0) {
		pw = getpwnam(user);
		if (!pw)
			die("--user %s: no such user", user);
		if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			die_errno("dropping privileges to %s", user);
		if (pw->pw_uid != 0 && setuid(0) == 0)
			die("could still regain root after dropping to %s", user);
		log_info("running as %s", user);
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int
vpn_bastion_main(int argc, char **argv)
{
	char err[600];
	int fg = 0, check = 0, verbose = 0, usage, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d"))
			fg = 1;
		else if (!strcmp(argv[i], "-n"))
			check = 1;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "-vv"))
			verbose += (int)strlen(argv[i]) - 1;
		else if (!strncmp(argv[i], "--", 2))
			i++;
	}
	log_set_verbose(verbose);
	if (ssh_init() != SSH_OK)
		die("libssh does not start");
	if (verbose >= 2) {
		ssh_set_log_callback(libssh_log);
		ssh_set_log_level(SSH_LOG_PROTOCOL);
	}
	B.argc = argc;
	B.argv = argv;
	if (build(&B.st, argc, argv, err, sizeof(err), &usage) < 0) {
		if (usage)
			die_usage("%s", err);
		bad("%s", err);
	}
	if (check) {
		for (i = 0; i < (int)B.st.c.nrules; i++) {
			char r[400];

			bastion_rule_format(&B.st.c.rules[i], r, sizeof(r));
			printf("allow %s\n", r);
		}
		for (i = 0; i < (int)B.st.c.nkeys; i++)
			printf("key %s %s %s\n", B.st.c.keys[i].type, B.st.c.keys[i].fp,
			       B.st.c.keys[i].comment);
		return 0;
	}
	B.b = bastion_new(&B.st.c, err, sizeof(err));
	if (!B.b)
		die("%s", err);
	/* before the loop: a signalfd polled by an epoll set made in the
	 * parent does not wake for the child's signals */
	if (!fg) {
		char dir[4096], *slash;

		str_copy(dir, B.st.c.host_key, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			str_copy(dir, ".", sizeof(dir));
		daemonize(dir);
	}
	B.loop = ev_new();
	if (!B.loop || !ev_io_add(B.loop, bastion_fd(B.b), EPOLLIN, on_listen, B.b))
		die_errno("event loop");
	ev_signal_add(B.loop, SIGTERM, on_term, NULL);
	ev_signal_add(B.loop, SIGINT, on_term, NULL);
	ev_unref(ev_signal_add(B.loop, SIGHUP, on_hup, NULL));
	signal(SIGPIPE, SIG_IGN);
	drop_privileges(B.st.user);
	{
		char r[400];

		bastion_rule_format(&B.st.c.rules[0], r, sizeof(r));
		log_info("listening with host key %s, %zu authorized key%s, %zu rule%s (%s%s)", bastion_host_fp(B.b),
			 B.st.c.nkeys, B.st.c.nkeys == 1 ? "" : "s", B.st.c.nrules, B.st.c.nrules == 1 ? "" : "s", r,
			 B.st.c.nrules > 1 ? ", ..." : "");
	}
	ev_run(B.loop);
	bastion_free(B.b, 3000);
	ev_free(B.loop);
	ssh_finalize();
	return 0;
}
