/*
 * The bastion's SSH server, on libssh: a thread per session, each with
 * libssh's poll loop (ssh_event) holding the session and the sockets to
 * its destinations, so a slow client or destination holds up nobody
 * else. Public-key authentication only; direct-tcpip channels only;
 * everything else refused with SSH's failure replies.
 *
 * Forwarding keeps SSH's flow control end to end: the channel is read
 * only when what was read before has reached the destination (so the
 * window given to the client stops growing while the destination is
 * slow), and the destination is read only as far as the client's window
 * allows. Each direction has its own EOF: a client's EOF becomes a
 * shutdown(SHUT_WR) of the socket, the destination's EOF an SSH EOF; the
 * channel closes when both are done.
 */
#include "bastion.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "buf.h"
#include "ev.h"
#include "fs.h"
#include "log.h"

#define FWD_BUF (128 * 1024)
#define MAX_AUTH_TRIES 6
#define CONNECT_TIMEOUT_MS 10000
#define MAX_CANDIDATES 8
#define PUMP_ROUNDS 8		/* buffers per direction before polling again */

struct fwd {
	struct fwd *next;
	ssh_channel ch;
	int fd;
	short events;		/* what the ssh_event watches on fd */
	char dest[300];		/* as asked, and the address connected to */
	uint8_t *to_tcp, *to_ch;
	size_t tt_off, tt_len, tc_off, tc_len;
	int tcp_eof, eof_sent, tcp_shut, dead;
	uint64_t up, down;	/* bytes to the destination, from it */
};

struct sess {
	struct sess *next, **pprev;
	struct bastion *b;
	ssh_session ss;
	ssh_event ev;
	int wake;		/* a dup of the socket, to shut it from another thread */
	struct ipaddr src;
	char from[IPADDR_STRLEN + 16];
	char user[65];
	const struct bastion_key *key;	/* &keyc once authenticated */
	struct bastion_key keyc;
	int authed, tries, counted, done, revoked;
	char reason[200];
	struct fwd *fwds;
	unsigned nfwd, nopened;
	char dests[240];
	unsigned ndests_more;
	uint64_t up, down, t0;
	struct ssh_server_callbacks_struct cb;
};

struct bastion {
	struct bastion_conf c;
	ssh_bind bind;
	char fp[64];
	int lfd;
	struct bastion_rl *rl;
	pthread_mutex_t lock;
	pthread_cond_t gone;
	pthread_rwlock_t policy;	/* over c.rules and c.keys, which a reload swaps */
	struct sess *sessions;
	unsigned nsess;
	int stopping;
};

static void LOG_PRINTF(3, 4)
say(struct bastion *b, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (b->c.log)
		b->c.log(level, line);
	else
		log_debug("%s", line);
}

/* What a client sent, fit for a log line. */
static void
printable(char *out, size_t size, const char *in)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = in[i] > ' ' && in[i] < 127 ? in[i] : '?';
	out[i] = '\0';
}

/* ---- host key ---- */

static ssh_key
host_key(const char *path, char *err, size_t errlen)
{
	ssh_key key = NULL;
	struct stat st;
	char *b64 = NULL;

	if (stat(path, &st) == 0) {
		if (st.st_mode & 077) {
			snprintf(err, errlen, "host key %s: readable by others (mode %03o): chmod 600 it",
				 path, (unsigned)(st.st_mode & 0777));
			return NULL;
		}
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
			snprintf(err, errlen, "host key %s: not a private key libssh reads", path);
			return NULL;
		}
		return key;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "host key %s: %s", path, strerror(errno));
		return NULL;
	}
	{
		char dir[4096], *slash;

		str_copy(dir, path, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (fs_mkdir_p(dir, 0700) < 0) {
				snprintf(err, errlen, "host key %s: %s", dir, strerror(errno));
				return NULL;
			}
		}
	}
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &b64) != SSH_OK) {
		snprintf(err, errlen, "host key: cannot make an ed25519 key");
		ssh_key_free(key);
		return NULL;
	}
	if (fs_write_atomic(path, b64, strlen(b64), 0600) < 0) {
		snprintf(err, errlen, "host key %s: %s", path, strerror(errno));
		ssh_string_free_char(b64);
		ssh_key_free(key);
		return NULL;
	}
	ssh_string_free_char(b64);
	b64 = NULL;
	/* the public half beside it, as ssh-keygen leaves it (for known_hosts) */
	if (ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK) {
		char pub[4200], line[4400];

		snprintf(pub, sizeof(pub), "%s.pub", path);
		snprintf(line, sizeof(line), "ssh-ed25519 %s lab-vpn-bastion\n", b64);
		fs_write_atomic(pub, line, strlen(line), 0644);
		ssh_string_free_char(b64);
	}
	return key;
}

/* A public key's blob as OpenSSH writes it in base64. */
static int
key_blob(ssh_key key, uint8_t *blob, size_t cap, size_t *len)
{
	char *b64 = NULL;
	int n;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return -1;
	n = base64_decode(b64, blob, cap);
	ssh_string_free_char(b64);
	if (n < 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

/* ---- refusals and authentication ---- */

static void LOG_PRINTF(2, 3)
refuse(struct sess *s, const char *fmt, ...)
{
	char what[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	say(s->b, LOG_L_WARN, "refused %s%s%s: %s", s->from, s->user[0] ? " user " : "", s->user, what);
}

static void
auth_failed(struct sess *s)
{
	struct bastion *b = s->b;

	s->tries++;
	if (!s->counted) {
		/* counted at the first refusal, before the client hears of it,
		 * so its next connection already sees the count */
		s->counted = 1;
		if (bastion_rl_fail(b->rl, &s->src, mono_ms())) {
			char a[IPADDR_STRLEN];

			say(b, LOG_L_WARN,
			    "%s: %u failed authentications within %llu s: "
			    "its connections are refused for %llu s",
			    ipaddr_str_addr(&s->src, a), b->c.max_auth_fail,
			    (unsigned long long)(b->c.fail_window_ms / 1000),
			    (unsigned long long)(b->c.ban_ms / 1000));
		}
	}
	if (s->tries >= MAX_AUTH_TRIES) {
		snprintf(s->reason, sizeof(s->reason), "%d refused authentication attempts", s->tries);
		s->done = 1;
	}
}

static int
on_auth_pubkey(ssh_session ss, const char *user, struct ssh_key_struct *pubkey, char state, void *arg)
{
	struct sess *s = arg;
	struct bastion *b = s->b;
	uint8_t blob[BASTION_BLOB_MAX];
	size_t len, i;
	char fp[64];

	(void)ss;
	printable(s->user, sizeof(s->user), user ? user : "");
	if (s->authed || s->done)
		return SSH_AUTH_DENIED;
	if (key_blob(pubkey, blob, sizeof(blob), &len) < 0) {
		refuse(s, "authentication: a key that cannot be read");
		auth_failed(s);
		return SSH_AUTH_DENIED;
	}
	pthread_rwlock_rdlock(&b->policy);
	for (i = 0; i < b->c.nkeys; i++)
		if (b->c.keys[i].bloblen == len && !memcmp(b->c.keys[i].blob, blob, len))
			break;
	if (i < b->c.nkeys)
		s->keyc = b->c.keys[i];
	pthread_rwlock_unlock(&b->policy);
	if (i == b->c.nkeys) {
		bastion_fingerprint(blob, len, fp);
		refuse(s, "authentication: key %s %s is not in authorized_keys",
		       ssh_key_type_to_char(ssh_key_type(pubkey)), fp);
		auth_failed(s);
		return SSH_AUTH_DENIED;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS;	/* "this key would do": the client signs next */
	if (state != SSH_PUBLICKEY_STATE_VALID) {
		refuse(s, "authentication: a bad signature for key %s", s->keyc.fp);
		auth_failed(s);
		return SSH_AUTH_DENIED;
	}
	s->key = &s->keyc;
	__atomic_store_n(&s->authed, 1, __ATOMIC_RELEASE);
	if (s->counted)
		bastion_rl_forgive(b->rl, &s->src);
	say(b, LOG_L_DEBUG, "%s: user %s authenticated with %s (%s)", s->from, s->user, s->key->fp,
	    s->key->comment);
	return SSH_AUTH_SUCCESS;
}

/* ---- destinations ---- */

static int
is_own(const struct ipaddr *a)
{
	struct ifaddrs *ifa, *i;
	int own = 0;

	if (getifaddrs(&ifa) < 0)
		return 1;	/* cannot tell: take it as ours, the safe side */
	for (i = ifa; i && !own; i = i->ifa_next) {
		struct ipaddr x;

		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		bastion_addr_from_sa(i->ifa_addr, &x, NULL);
		own = x.family == a->family && !memcmp(x.a, a->a, ipaddr_len(a));
	}
	freeifaddrs(ifa);
	return own;
}

static int
any_addr_rule(const struct bastion_rule *rules, size_t n, uint16_t port)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		const struct bastion_rule *r = &rules[i];

		if (r->kind != BASTION_ADDR || r->deny)
			continue;
		if (r->allports)
			return 1;
		for (k = 0; k < r->nports; k++)
			if (port >= r->lo[k] && port <= r->hi[k])
				return 1;
	}
	return 0;
}

static void
to_sa(const struct ipaddr *a, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->a, 4);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->a, 16);
		*len = sizeof(*s6);
	}
}

/* A peer that vanished (no FIN, no RST) is noticed within minutes. */
static void
keepalive(int fd)
{
	int one = 1, idle = 60, intvl = 15, cnt = 4;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* A connected socket, or -1 with errno. */
static int
connect_to(const struct ipaddr *a, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, e = 0;
	socklen_t elen = sizeof(e);

	to_sa(a, port, &ss, &len);
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int r;

		if (errno != EINPROGRESS)
			goto fail;
		do
			r = poll(&p, 1, CONNECT_TIMEOUT_MS);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
			goto fail;
		if (e) {
			errno = e;
			goto fail;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	keepalive(fd);
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static void
add_dest(struct sess *s, const char *d)
{
	size_t l = strlen(s->dests), dl = strlen(d);
	const char *p;

	/* each destination once: a whole item of the ", " list */
	for (p = s->dests; (p = strstr(p, d)); p++)
		if ((p == s->dests || p[-1] == ' ') && (p[dl] == ',' || !p[dl]))
			return;
	if (l + strlen(d) + 3 >= sizeof(s->dests)) {
		s->ndests_more++;
		return;
	}
	if (l) {
		memcpy(s->dests + l, ", ", 2);
		l += 2;
	}
	memcpy(s->dests + l, d, strlen(d) + 1);
}

static int
on_fd(socket_t fd, int revents, void *arg)
{
	/* the pump after ssh_event_dopoll does the work */
	(void)fd;
	(void)revents;
	(void)arg;
	return 0;
}

/* A direct-tcpip request: decide, connect, accept. 1 refuses it. */
static int
open_direct(struct sess *s, ssh_message m)
{
	struct bastion *b = s->b;
	const char *host = ssh_message_channel_request_open_destination(m);
	int port = ssh_message_channel_request_open_destination_port(m);
	struct ipaddr cand[MAX_CANDIDATES], lit;
	size_t ncand = 0, i;
	char dest[300], why[300] = "", name[BASTION_NAME_MAX + 1], h[256], a[IPADDR_STRLEN];
	struct fwd *f;
	int fd = -1, e = 0, refused = 1;
	struct bastion_rule *rules;
	size_t nrules;

	/* a copy: a reload may swap the rules while this waits on DNS */
	pthread_rwlock_rdlock(&b->policy);
	nrules = b->c.nrules;
	rules = malloc((nrules ? nrules : 1) * sizeof(*rules));
	if (rules)
		memcpy(rules, b->c.rules, nrules * sizeof(*rules));
	pthread_rwlock_unlock(&b->policy);
	if (!rules) {
		refuse(s, "direct-tcpip: out of memory");
		return 1;
	}
	printable(h, sizeof(h), host ? host : "");
	snprintf(dest, sizeof(dest), strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, port);
	if (port < 1 || port > 65535) {
		refuse(s, "direct-tcpip to %s: not a port", dest);
		goto out;
	}
	if (s->nfwd >= b->c.max_channels) {
		refuse(s, "direct-tcpip to %s: %u channels open already", dest, s->nfwd);
		goto out;
	}
	if (host && ipaddr_parse(host, AF_UNSPEC, &lit) == 0 && lit.plen < 0) {
		struct sockaddr_storage ss;
		socklen_t len;

		/* through a sockaddr, so ::ffff:a.b.c.d is decided as a.b.c.d */
		lit.plen = ipaddr_bits(&lit);
		to_sa(&lit, 0, &ss, &len);
		bastion_addr_from_sa((struct sockaddr *)&ss, &lit, NULL);
		if (!bastion_dest_check(rules, nrules, &lit, (uint16_t)port, 0, 0, why, sizeof(why))) {
			refuse(s, "direct-tcpip to %s: %s", dest, why);
			goto out;
		}
		cand[ncand++] = lit;
	} else if (host && bastion_name_norm(host, name) == 0) {
		int by_name = bastion_name_allowed(rules, nrules, name, (uint16_t)port);
		struct addrinfo hints, *res = NULL, *ai;
		int rc;

		if (!by_name && !any_addr_rule(rules, nrules, (uint16_t)port)) {
			refuse(s, "direct-tcpip to %s: no rule allows it", dest);
			goto out;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		rc = getaddrinfo(name, NULL, &hints, &res);
		if (rc) {
			refuse(s, "direct-tcpip to %s: %s does not resolve (%s)", dest, name, gai_strerror(rc));
			goto out;
		}
		for (ai = res; ai && ncand < MAX_CANDIDATES; ai = ai->ai_next) {
			struct ipaddr x;
			size_t k;

			bastion_addr_from_sa(ai->ai_addr, &x, NULL);
			for (k = 0; k < ncand; k++)
				if (ipaddr_equal(&cand[k], &x))
					break;
			if (k < ncand)
				continue;
			if (bastion_dest_check(rules, nrules, &x, (uint16_t)port, by_name,
					       by_name && is_own(&x), why, sizeof(why)))
				cand[ncand++] = x;
			else
				snprintf(dest + strlen(dest), sizeof(dest) - strlen(dest), "%s%s",
					 strchr(dest, '(') ? ", " : " (", ipaddr_str_addr(&x, a));
		}
		freeaddrinfo(res);
		if (!ncand) {
			if (strchr(dest, '('))
				str_copy(dest + strlen(dest), ")", sizeof(dest) - strlen(dest));
			refuse(s, "direct-tcpip to %s: %s", dest, why);
			goto out;
		}
		/* keep only the name in the destination's text */
		snprintf(dest, sizeof(dest), "%s:%d", name, port);
	} else {
		refuse(s, "direct-tcpip to %s: not an address or a host name", dest);
		goto out;
	}
	for (i = 0; i < ncand && fd < 0; i++) {
		fd = connect_to(&cand[i], (uint16_t)port);
		e = errno;
	}
	if (fd < 0) {
		say(b, LOG_L_WARN, "%s user %s: direct-tcpip to %s: connect: %s", s->from, s->user, dest,
		    strerror(e));
		goto out;
	}
	ipaddr_str_addr(&cand[i - 1], a);
	if (strcmp(h, a) != 0)
		snprintf(dest + strlen(dest), sizeof(dest) - strlen(dest), " (%s)", a);
	f = calloc(1, sizeof(*f));
	if (f) {
		f->to_tcp = malloc(FWD_BUF);
		f->to_ch = malloc(FWD_BUF);
	}
	if (!f || !f->to_tcp || !f->to_ch) {
		if (f) {
			free(f->to_tcp);
			free(f->to_ch);
			free(f);
		}
		close(fd);
		say(b, LOG_L_WARN, "%s: direct-tcpip to %s: out of memory", s->from, dest);
		goto out;
	}
	f->ch = ssh_message_channel_request_open_reply_accept(m);
	if (!f->ch) {
		free(f->to_tcp);
		free(f->to_ch);
		free(f);
		close(fd);
		refused = 0;
		goto out;	/* the session is failing; its loop notices */
	}
	f->fd = fd;
	str_copy(f->dest, dest, sizeof(f->dest));
	f->next = s->fwds;
	s->fwds = f;
	s->nfwd++;
	s->nopened++;
	add_dest(s, dest);
	say(b, LOG_L_DEBUG, "%s user %s: forwarding to %s", s->from, s->user, dest);
	refused = 0;
out:
	free(rules);
	return refused;
}

static const char *
channel_kind(int sub)
{
	switch (sub) {
	case SSH_CHANNEL_SESSION:
		return "a session channel (shell, exec, subsystem): this bastion only forwards";
	case SSH_CHANNEL_FORWARDED_TCPIP:
		return "a forwarded-tcpip channel";
	case SSH_CHANNEL_X11:
		return "X11 forwarding";
	case SSH_CHANNEL_AUTH_AGENT:
		return "agent forwarding";
	default:
		return "an unknown channel type";
	}
}

static int
on_message(ssh_session ss, ssh_message m, void *arg)
{
	struct sess *s = arg;
	int sub = ssh_message_subtype(m);

	(void)ss;
	switch (ssh_message_type(m)) {
	case SSH_REQUEST_AUTH:
		if (sub == SSH_AUTH_METHOD_NONE || s->authed || s->done)
			return 1;
		printable(s->user, sizeof(s->user), ssh_message_auth_user(m) ? ssh_message_auth_user(m) : "");
		refuse(s, "authentication: %s: only public keys are accepted",
		       sub == SSH_AUTH_METHOD_PASSWORD ? "password" :
		       sub == SSH_AUTH_METHOD_INTERACTIVE ? "keyboard-interactive" :
		       sub == SSH_AUTH_METHOD_HOSTBASED ? "hostbased" : "another method");
		auth_failed(s);
		return 1;
	case SSH_REQUEST_CHANNEL_OPEN:
		if (!s->authed) {
			refuse(s, "a channel before authentication");
			return 1;
		}
		if (sub == SSH_CHANNEL_DIRECT_TCPIP)
			return open_direct(s, m);
		refuse(s, "%s", channel_kind(sub));
		return 1;
	case SSH_REQUEST_GLOBAL:
		if (sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD && s->authed) {
			char a[256];

			printable(a, sizeof(a), ssh_message_global_request_address(m) ?
				  ssh_message_global_request_address(m) : "");
			refuse(s, "remote forwarding (tcpip-forward) of %s:%d", a,
			       ssh_message_global_request_port(m));
		}
		return 1;
	case SSH_REQUEST_CHANNEL:
		/* requests on a direct-tcpip channel: none is meaningful */
		return 1;
	default:
		return 1;	/* the service request ("ssh-userauth") is accepted */
	}
}

/* ---- forwarding ---- */

static void
fwd_dead(struct sess *s, struct fwd *f, const char *what, int e)
{
	if (e && e != EPIPE && e != ECONNRESET)
		say(s->b, LOG_L_DEBUG, "%s: %s: %s: %s", s->from, f->dest, what, strerror(e));
	f->dead = 1;
}

/*
 * Move what can move without blocking; then watch what would unblock it.
 * 1 when a direction stopped only for fairness (the other channels of the
 * session get their turn, and the loop polls without waiting).
 */
static int
fwd_pump(struct sess *s, struct fwd *f)
{
	ssize_t n;
	int r, rounds, more = 0;
	short want = 0;

	/* channel -> destination */
	for (rounds = 0; !f->dead; rounds++) {
		if (rounds == PUMP_ROUNDS) {
			more = 1;
			break;
		}
		if (f->tt_len) {
			n = send(f->fd, f->to_tcp + f->tt_off, f->tt_len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno != EAGAIN && errno != EINTR)
					fwd_dead(s, f, "send", errno);
				break;
			}
			f->tt_off += (size_t)n;
			f->tt_len -= (size_t)n;
			f->up += (uint64_t)n;
			continue;
		}
		if (f->tcp_shut)
			break;
		r = ssh_channel_read_nonblocking(f->ch, f->to_tcp, FWD_BUF, 0);
		if (r > 0) {
			f->tt_off = 0;
			f->tt_len = (size_t)r;
			continue;
		}
		if (r == SSH_EOF || (r == 0 && ssh_channel_is_eof(f->ch))) {
			shutdown(f->fd, SHUT_WR);
			f->tcp_shut = 1;
		} else if (r == SSH_ERROR || ssh_channel_is_closed(f->ch)) {
			f->dead = 1;
		}
		break;
	}
	/* destination -> channel */
	for (rounds = 0; !f->dead; rounds++) {
		uint32_t win;

		if (rounds == PUMP_ROUNDS) {
			more = 1;
			break;
		}
		if (f->tc_len) {
			r = ssh_channel_write(f->ch, f->to_ch + f->tc_off, (uint32_t)f->tc_len);
			if (r < 0) {
				f->dead = 1;
				break;
			}
			f->tc_off += (size_t)r;
			f->tc_len -= (size_t)r;
			f->down += (uint64_t)r;
			if (f->tc_len)
				break;	/* the client's window is full: its WINDOW_ADJUST wakes us */
		}
		if (f->tcp_eof) {
			if (!f->eof_sent) {
				ssh_channel_send_eof(f->ch);
				f->eof_sent = 1;
			}
			break;
		}
		win = ssh_channel_window_size(f->ch);
		if (win == 0)
			break;
		n = recv(f->fd, f->to_ch, win < FWD_BUF ? win : FWD_BUF, MSG_DONTWAIT);
		if (n > 0) {
			f->tc_off = 0;
			f->tc_len = (size_t)n;
		} else if (n == 0) {
			f->tcp_eof = 1;
		} else {
			if (errno != EAGAIN && errno != EINTR)
				fwd_dead(s, f, "recv", errno);
			break;
		}
	}
	if (!f->dead && ssh_channel_is_closed(f->ch))
		f->dead = 1;	/* the client closed it without an EOF: drop what is left */
	if (f->dead || (f->eof_sent && f->tcp_shut && !f->tt_len))
		return 0;
	if (f->tt_len)
		want |= POLLOUT;
	if (!f->tcp_eof && !f->tc_len && ssh_channel_window_size(f->ch) > 0)
		want |= POLLIN;
	if (want != f->events) {
		if (f->events)
			ssh_event_remove_fd(s->ev, f->fd);
		if (want)
			ssh_event_add_fd(s->ev, f->fd, want, on_fd, f);
		f->events = want;
	}
	return more;
}

static void
fwd_free(struct sess *s, struct fwd *f)
{
	if (f->events)
		ssh_event_remove_fd(s->ev, f->fd);
	close(f->fd);
	if (!ssh_channel_is_closed(f->ch))
		ssh_channel_close(f->ch);
	ssh_channel_free(f->ch);
	s->up += f->up;
	s->down += f->down;
	say(s->b, LOG_L_DEBUG, "%s: %s closed: %llu bytes to it, %llu from it", s->from, f->dest,
	    (unsigned long long)f->up, (unsigned long long)f->down);
	free(f->to_tcp);
	free(f->to_ch);
	free(f);
	s->nfwd--;
}

/* 1 when there is more to move at once. */
static int
pump(struct sess *s)
{
	struct fwd **pp = &s->fwds, *f;
	int more = 0;

	while ((f = *pp)) {
		more |= fwd_pump(s, f);
		if (f->dead || (f->eof_sent && f->tcp_shut && !f->tt_len)) {
			*pp = f->next;
			fwd_free(s, f);
		} else {
			pp = &f->next;
		}
	}
	return more;
}

/* ---- sessions ---- */

static void
sess_end(struct sess *s)
{
	struct bastion *b = s->b;
	double secs = (double)(mono_ms() - s->t0) / 1000;

	while (s->fwds) {
		struct fwd *f = s->fwds;

		s->fwds = f->next;
		fwd_free(s, f);
	}
	if (!s->authed) {
		say(b, LOG_L_INFO, "connection from %s%s%s closed before authentication: %s, %.1f s", s->from,
		    s->user[0] ? " user " : "", s->user, s->reason[0] ? s->reason : "the client left", secs);
		return;
	}
	if (s->ndests_more)
		snprintf(s->dests + strlen(s->dests), sizeof(s->dests) - strlen(s->dests), " and %u more",
			 s->ndests_more);
	say(b, LOG_L_INFO,
	    "session from %s user %s key %s %s (%s): to %s; "
	    "%llu bytes to the destination%s, %llu from %s; %u channel%s, %.1f s%s%s",
	    s->from, s->user, s->key->type, s->key->fp, s->key->comment, s->dests[0] ? s->dests : "nowhere",
	    (unsigned long long)s->up, s->nopened == 1 ? "" : "s", (unsigned long long)s->down,
	    s->nopened == 1 ? "it" : "them", s->nopened, s->nopened == 1 ? "" : "s", secs,
	    s->reason[0] ? "; " : "", s->reason);
}

static void *
sess_main(void *arg)
{
	struct sess *s = arg;
	struct bastion *b = s->b;
	long tmo = (long)((b->c.login_grace_ms + 999) / 1000);
	int more = 0;

	ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &tmo);
	ssh_set_auth_methods(s->ss, SSH_AUTH_METHOD_PUBLICKEY);
	if (ssh_handle_key_exchange(s->ss) != SSH_OK) {
		snprintf(s->reason, sizeof(s->reason), "key exchange: %s", ssh_get_error(s->ss));
		goto out;
	}
	ssh_set_blocking(s->ss, 0);
	s->ev = ssh_event_new();
	if (!s->ev || ssh_event_add_session(s->ev, s->ss) != SSH_OK) {
		snprintf(s->reason, sizeof(s->reason), "out of memory");
		goto out;
	}
	while (!s->done) {
		int timeout = more ? 0 : -1, rc;

		if (__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE)) {
			snprintf(s->reason, sizeof(s->reason), "the bastion stops");
			break;
		}
		if (!s->authed) {
			uint64_t spent = mono_ms() - s->t0;

			if (spent >= b->c.login_grace_ms) {
				snprintf(s->reason, sizeof(s->reason), "no authentication within %llu s",
					 (unsigned long long)(b->c.login_grace_ms / 1000));
				break;
			}
			timeout = (int)(b->c.login_grace_ms - spent);
		}
		rc = ssh_event_dopoll(s->ev, timeout);
		more = pump(s);
		if (rc == SSH_ERROR || (ssh_get_status(s->ss) & (SSH_CLOSED | SSH_CLOSED_ERROR)) ||
		    !ssh_is_connected(s->ss))
			break;
	}
out:
	if (__atomic_load_n(&s->revoked, __ATOMIC_ACQUIRE))
		snprintf(s->reason, sizeof(s->reason), "its key left authorized_keys");
	else if (__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE))
		snprintf(s->reason, sizeof(s->reason), "the bastion stops");
	sess_end(s);
	if (s->ev) {
		ssh_event_remove_session(s->ev, s->ss);
		ssh_event_free(s->ev);
	}
	pthread_mutex_lock(&b->lock);
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	b->nsess--;
	pthread_cond_broadcast(&b->gone);
	pthread_mutex_unlock(&b->lock);
	ssh_disconnect(s->ss);
	ssh_free(s->ss);
	close(s->wake);
	free(s);
	return NULL;
}

/* The same address (IPv4) or the same /64 (IPv6), as the limiter counts. */
static int
same_source(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && !memcmp(a->a, b->a, a->family == AF_INET ? 4 : 8);
}

void
bastion_accept(struct bastion *b)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	struct sess *s;
	pthread_attr_t attr;
	pthread_t t;
	uint64_t left;
	uint16_t port;
	char a[IPADDR_STRLEN];
	int fd;

	fd = accept4(b->lfd, (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			say(b, LOG_L_WARN, "accept: %s", strerror(errno));
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return;
	}
	s->b = b;
	s->wake = -1;
	s->t0 = mono_ms();
	bastion_addr_from_sa((struct sockaddr *)&sa, &s->src, &port);
	snprintf(s->from, sizeof(s->from), "%s port %u", ipaddr_str_addr(&s->src, a), port);
	left = bastion_rl_banned(b->rl, &s->src, s->t0);
	if (left) {
		say(b, LOG_L_WARN,
		    "refused %s: too many failed authentications from there (%llu s of the ban left)",
		    s->from, (unsigned long long)((left + 999) / 1000));
		goto drop;
	}
	pthread_mutex_lock(&b->lock);
	if (b->nsess >= b->c.max_sessions) {
		pthread_mutex_unlock(&b->lock);
		say(b, LOG_L_WARN, "refused %s: %u sessions at once already", s->from, b->c.max_sessions);
		goto drop;
	}
	{
		/* silent connections from one place must not take every slot */
		struct sess *o;
		unsigned pending = 0;

		for (o = b->sessions; o; o = o->next)
			if (!__atomic_load_n(&o->authed, __ATOMIC_ACQUIRE) && same_source(&o->src, &s->src))
				pending++;
		if (pending >= b->c.max_pending) {
			pthread_mutex_unlock(&b->lock);
			say(b, LOG_L_WARN, "refused %s: %u connections from there are still authenticating",
			    s->from, pending);
			goto drop;
		}
	}
	pthread_mutex_unlock(&b->lock);
	/* libssh closes its descriptor when the client leaves, and the number
	 * may come back for another socket: shutting this dup is always safe */
	s->wake = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (s->wake < 0) {
		say(b, LOG_L_WARN, "refused %s: %s", s->from, strerror(errno));
		goto drop;
	}
	keepalive(fd);
	{
		/* small packets (a forwarded protocol's window updates, keys
		 * typed) go at once, not after the client's delayed ACK */
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	s->ss = ssh_new();
	/* in this thread: ssh_bind_accept_fd reads the bind's shared state */
	if (!s->ss || ssh_bind_accept_fd(b->bind, s->ss, fd) != SSH_OK) {
		say(b, LOG_L_WARN, "%s: cannot start a session: %s", s->from, ssh_get_error(b->bind));
		if (s->ss)
			ssh_free(s->ss);
		goto drop;
	}
	s->cb.userdata = s;
	s->cb.auth_pubkey_function = on_auth_pubkey;
	ssh_callbacks_init(&s->cb);
	ssh_set_server_callbacks(s->ss, &s->cb);
	ssh_set_message_callback(s->ss, on_message, s);
	pthread_mutex_lock(&b->lock);
	s->next = b->sessions;
	if (s->next)
		s->next->pprev = &s->next;
	s->pprev = &b->sessions;
	b->sessions = s;
	b->nsess++;
	pthread_mutex_unlock(&b->lock);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, sess_main, s) != 0) {
		pthread_attr_destroy(&attr);
		pthread_mutex_lock(&b->lock);
		*s->pprev = s->next;
		if (s->next)
			s->next->pprev = s->pprev;
		b->nsess--;
		pthread_mutex_unlock(&b->lock);
		say(b, LOG_L_WARN, "%s: cannot start a thread", s->from);
		ssh_free(s->ss);	/* closes fd */
		close(s->wake);
		free(s);
		return;
	}
	pthread_attr_destroy(&attr);
	return;
drop:
	if (s->wake >= 0)
		close(s->wake);
	close(fd);
	free(s);
}

struct bastion *
bastion_new(const struct bastion_conf *c, char *err, size_t errlen)
{
	struct bastion *b = calloc(1, sizeof(*b));
	ssh_key key = NULL;
	uint8_t blob[BASTION_BLOB_MAX];
	size_t len;
	int one = 1, no = 0, quiet = SSH_LOG_NOLOG;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->c = *c;
	b->lfd = -1;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->gone, NULL);
	pthread_rwlock_init(&b->policy, NULL);
	key = host_key(c->host_key, err, errlen);
	if (!key)
		goto fail;
	if (key_blob(key, blob, sizeof(blob), &len) == 0)
		bastion_fingerprint(blob, len, b->fp);
	b->bind = ssh_bind_new();
	if (!b->bind) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ssh_bind_options_set(b->bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	ssh_bind_options_set(b->bind, SSH_BIND_OPTIONS_LOG_VERBOSITY, &quiet);
	if (ssh_bind_options_set(b->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		snprintf(err, errlen, "host key %s: %s", c->host_key, ssh_get_error(b->bind));
		goto fail;
	}
	key = NULL;	/* the bind has it */
	b->rl = bastion_rl_new(c->max_auth_fail, c->fail_window_ms, c->ban_ms);
	if (!b->rl) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	b->lfd = socket(c->listen.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->lfd < 0 || setsockopt(b->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(b->lfd, (const struct sockaddr *)&c->listen, c->listenlen) < 0 || listen(b->lfd, 128) < 0) {
		char a[IPADDR_STRLEN];
		struct ipaddr x;
		uint16_t port;

		bastion_addr_from_sa((const struct sockaddr *)&c->listen, &x, &port);
		snprintf(err, errlen, "listen on %s port %u: %s", ipaddr_str_addr(&x, a), port, strerror(errno));
		goto fail;
	}
	return b;
fail:
	ssh_key_free(key);
	bastion_free(b, 0);
	return NULL;
}

int
bastion_reload(struct bastion *b, struct bastion_rule *rules, size_t nrules, struct bastion_key *keys,
	       size_t nkeys)
{
	struct sess *s;
	unsigned cut = 0;
	size_t i;

	pthread_rwlock_wrlock(&b->policy);
	b->c.rules = rules;
	b->c.nrules = nrules;
	b->c.keys = keys;
	b->c.nkeys = nkeys;
	pthread_rwlock_unlock(&b->policy);
	/* a key taken away ends its sessions: their poll sees the socket shut */
	pthread_mutex_lock(&b->lock);
	for (s = b->sessions; s; s = s->next) {
		if (!__atomic_load_n(&s->authed, __ATOMIC_ACQUIRE))
			continue;
		for (i = 0; i < nkeys; i++)
			if (keys[i].bloblen == s->keyc.bloblen &&
			    !memcmp(keys[i].blob, s->keyc.blob, keys[i].bloblen))
				break;
		if (i == nkeys) {
			__atomic_store_n(&s->revoked, 1, __ATOMIC_RELEASE);
			shutdown(s->wake, SHUT_RDWR);
			cut++;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return (int)cut;
}

int
bastion_fd(const struct bastion *b)
{
	return b->lfd;
}

const char *
bastion_host_fp(const struct bastion *b)
{
	return b->fp;
}

void
bastion_free(struct bastion *b, uint64_t wait_ms)
{
	struct timespec until;
	struct sess *s;

	if (!b)
		return;
	if (b->lfd >= 0)
		close(b->lfd);
	pthread_mutex_lock(&b->lock);
	__atomic_store_n(&b->stopping, 1, __ATOMIC_RELEASE);
	/* wake every session: its poll sees the socket shut */
	for (s = b->sessions; s; s = s->next)
		shutdown(s->wake, SHUT_RDWR);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(wait_ms / 1000);
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (b->nsess && pthread_cond_timedwait(&b->gone, &b->lock, &until) == 0)
		;
	if (b->nsess) {
		/* threads still at work would use what is freed: leave it */
		pthread_mutex_unlock(&b->lock);
		return;
	}
	pthread_mutex_unlock(&b->lock);
	if (b->bind)
		ssh_bind_free(b->bind);
	bastion_rl_free(b->rl);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->gone);
	pthread_rwlock_destroy(&b->policy);
	free(b);
}
