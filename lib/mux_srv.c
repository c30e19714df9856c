/*
 * The daemon of lab vpn mux, on lib/ev: accept, read the client's first
 * bytes until the sniffer can tell (or --timeout passes: the client waits
 * for the server to speak), connect to the backend without blocking (each
 * of its addresses in turn, each with a timeout), write it the bytes read
 * so far, then relay both ways with splice() through a pipe per direction.
 * An end of stream from one side becomes shutdown(SHUT_WR) on the other;
 * the connection ends when both directions have, or on an error. One log
 * line per connection.
 */
#include "mux.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "ev.h"
#include "log.h"

/* ---- the daemon ---- */

enum { SNIFF, CONNECT, RELAY };
enum { CLIENT, BACKEND };

/* One direction of the relay: src -> pipe -> dst. */
struct dir {
	int pipe[2];
	size_t pending;	/* bytes in the pipe */
	int eof;	/* the source has ended */
	int done;	/* and everything went on: dst is shut for writing */
	unsigned long long bytes;
};

/* A configuration and the connections that still route by it: a reload
 * swaps in a new one, the old goes when its last connection does. */
struct gen {
	struct mux_conf *c;
	unsigned refs;
	struct gen *next;	/* retired ones */
};

struct conn {
	struct mux_srv *s;
	struct gen *g;
	struct conn *prev, *next;
	int state;
	int fd[2];			/* CLIENT, BACKEND */
	struct ev_handle *h[2];
	uint32_t evs[2];		/* what h[] asks for now */
	int hup[2];			/* the fd hung up: read it without epoll */
	struct ev_handle *timer;
	uint8_t *buf;			/* the sniffed bytes */
	size_t blen, boff;		/* boff: how many went to the backend */
	struct mux_sniff sn;
	const struct mux_backend *be;
	size_t ai;			/* the backend address tried next */
	char err[160];			/* why the last connect failed */
	struct dir up, down;		/* up: client -> backend */
	uint64_t t0;
	struct sockaddr_storage peer;	/* the client's address */
	size_t hdr;			/* a PROXY header's length, ahead of buf's bytes */
	char client[INET6_ADDRSTRLEN + 8];
};

struct mux_srv {
	struct ev *ev;
	struct gen *cur;
	struct gen *retired;
	int *lfd;
	struct ev_handle **lh;
	size_t nl;
	struct ev_handle *pause;	/* accepting again after running out of something */
	struct conn *conns;
	size_t nconns;
};

#define PUMP_ROUNDS 16	/* pipe loads per wakeup: other connections get a turn */
#define PIPE_CHUNK (256 * 1024)	/* and the pipes' size, where the kernel allows */

static void
addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, n, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, n, "%s:%u", a, ntohs(s4->sin_port));
	}
}

static void
gen_free(struct gen *g)
{
	if (!g)
		return;
	mux_conf_free(g->c);
	free(g->c);
	free(g);
}

/* A connection is done with its configuration. */
static void
gen_put(struct mux_srv *s, struct gen *g)
{
	struct gen **pp;

	if (--g->refs > 0 || g == s->cur)
		return;
	for (pp = &s->retired; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	gen_free(g);
}

static void
conn_end(struct conn *c, const char *fmt, ...) LOG_PRINTF(2, 3);

static void
conn_end(struct conn *c, const char *fmt, ...)
{
	struct mux_srv *s = c->s;
	char why[256] = "";
	char name[MUX_SNI_MAX + 8] = "";
	int i;

	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	if (c->sn.sni[0])
		snprintf(name, sizeof(name), " sni=%s", c->sn.sni);
	if (c->state == RELAY)
		log_info("%s %s%s -> %s: up %llu down %llu, %.3fs%s%s", c->client,
			 mux_proto_name(c->sn.proto), name, c->be->name,
			 c->up.bytes - (c->up.bytes >= c->hdr ? c->hdr : c->up.bytes),
			 c->down.bytes, (double)(mono_us() - c->t0) / 1e6, why[0] ? ", " : "", why);
	else if (c->be)
		log_warnx("%s %s%s -> %s: %s", c->client, mux_proto_name(c->sn.proto), name,
			  c->be->name, why);
	else
		log_warnx("%s %s%s: %s", c->client,
			  c->state == SNIFF && c->sn.proto == MUX_NEED
			      ? "-"
			      : mux_proto_name(c->sn.proto),
			  name, why);
	for (i = 0; i < 2; i++) {
		ev_del(c->h[i]);
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	}
	ev_del(c->timer);
	for (i = 0; i < 2; i++) {
		if (c->up.pipe[i] >= 0)
			close(c->up.pipe[i]);
		if (c->down.pipe[i] >= 0)
			close(c->down.pipe[i]);
	}
	free(c->buf);
	gen_put(s, c->g);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	free(c);
}

static int
sock_error(int fd)
{
	int e = 0;
	socklen_t l = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		return errno;
	return e;
}

/* Move what can move from src to dst through d's pipe: drain the pipe
 * first, refill it only when empty (so an EAGAIN from the source means the
 * source, never a full pipe). -1 with errno on a failure of either side
 * (*which says which). */
static int
pump(struct dir *d, int src, int dst, int *which)
{
	int rounds = 0;
	ssize_t k;

	while (rounds < PUMP_ROUNDS) {
		if (d->pending > 0) {
			k = splice(d->pipe[0], NULL, dst, NULL, d->pending,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (k < 0) {
				if (errno == EAGAIN)
					return 0;
				if (errno == EINTR)
					continue;
				*which = 1;
				return -1;
			}
			d->pending -= (size_t)k;
			d->bytes += (unsigned long long)k;
			continue;
		}
		if (d->eof) {
			if (!d->done) {
				shutdown(dst, SHUT_WR);
				d->done = 1;
			}
			return 0;
		}
		k = splice(src, NULL, d->pipe[1], NULL, PIPE_CHUNK,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (k < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			*which = 0;
			return -1;
		}
		if (k == 0)
			d->eof = 1;
		d->pending = (size_t)k;
		rounds++;
	}
	return 0;
}

static void conn_cb(struct ev_handle *h, int fd, uint32_t events, void *arg);

/* Ask epoll for what each side's directions wait on; an fd that neither
 * direction needs any more (or that hung up) leaves epoll. */
static int
conn_update(struct conn *c)
{
	uint32_t want[2] = { 0, 0 };
	int need[2], i;

	if (!c->up.eof && c->up.pending == 0 && c->boff == c->blen)
		want[CLIENT] |= EPOLLIN;
	if (c->down.pending > 0)
		want[CLIENT] |= EPOLLOUT;
	if (!c->down.eof && c->down.pending == 0)
		want[BACKEND] |= EPOLLIN;
	if (c->up.pending > 0 || c->boff < c->blen)
		want[BACKEND] |= EPOLLOUT;
	need[CLIENT] = !(c->up.eof && c->down.done) && !c->hup[CLIENT];
	need[BACKEND] = !(c->down.eof && c->up.done) && !c->hup[BACKEND];
	for (i = 0; i < 2; i++) {
		if (!need[i]) {
			ev_del(c->h[i]);
			c->h[i] = NULL;
		} else if (!c->h[i]) {
			c->h[i] = ev_io_add(c->s->ev, c->fd[i], want[i], conn_cb, c);
			if (!c->h[i])
				return -1;
			c->evs[i] = want[i];
		} else if (want[i] != c->evs[i]) {
			if (ev_io_set(c->h[i], want[i]) < 0)
				return -1;
			c->evs[i] = want[i];
		}
	}
	return 0;
}

/* Both directions, as far as they go now. 0, or -1 when c has ended. */
static int
relay(struct conn *c)
{
	int which = 0;

	/* The sniffed bytes go first. */
	while (c->boff < c->blen) {
		ssize_t k = send(c->fd[BACKEND], c->buf + c->boff, c->blen - c->boff, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EAGAIN)
				break;
			if (errno == EINTR)
				continue;
			conn_end(c, "backend: %s", strerror(errno));
			return -1;
		}
		c->boff += (size_t)k;
		c->up.bytes += (unsigned long long)k;
	}
	if (c->boff == c->blen && c->buf) {
		free(c->buf);
		c->buf = NULL;
		c->blen = c->boff = 0;
	}
	if (c->boff == c->blen && pump(&c->up, c->fd[CLIENT], c->fd[BACKEND], &which) < 0) {
		conn_end(c, "%s: %s", which ? "backend" : "client", strerror(errno));
		return -1;
	}
	if (pump(&c->down, c->fd[BACKEND], c->fd[CLIENT], &which) < 0) {
		conn_end(c, "%s: %s", which ? "client" : "backend", strerror(errno));
		return -1;
	}
	if (c->up.done && c->down.done) {
		conn_end(c, NULL);
		return -1;
	}
	if (conn_update(c) < 0) {
		conn_end(c, "epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void
relay_start(struct conn *c)
{
	int one = 1, i;

	ev_del(c->timer);
	c->timer = NULL;
	ev_del(c->h[BACKEND]);
	c->h[BACKEND] = NULL;
	ev_del(c->h[CLIENT]);
	c->h[CLIENT] = NULL;
	if (pipe2(c->up.pipe, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    pipe2(c->down.pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		conn_end(c, "pipe: %s", strerror(errno));
		return;
	}
	/* Bigger loads per splice; a pipe keeps its default size if refused
	 * (pipe-max-size, or the user's pipe pages). */
	fcntl(c->up.pipe[1], F_SETPIPE_SZ, PIPE_CHUNK);
	fcntl(c->down.pipe[1], F_SETPIPE_SZ, PIPE_CHUNK);
	for (i = 0; i < 2; i++)
		setsockopt(c->fd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = RELAY;
	relay(c);
}

static void timer_cb(struct ev_handle *h, uint64_t n, void *arg);

/* Connect to the backend's next address; when none is left, give up. */
static void
connect_next(struct conn *c)
{
	const struct mux_conf *cf = c->g->c;

	if (c->fd[BACKEND] >= 0) {
		ev_del(c->h[BACKEND]);
		c->h[BACKEND] = NULL;
		close(c->fd[BACKEND]);
		c->fd[BACKEND] = -1;
	}
	while (c->ai < c->be->naddr) {
		const struct mux_addr *a = &c->be->addr[c->ai++];
		char as[INET6_ADDRSTRLEN + 8];
		int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		addr_str(&a->ss, as, sizeof(as));
		if (fd < 0) {
			snprintf(c->err, sizeof(c->err), "%s: %s", as, strerror(errno));
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 &&
		    errno != EINPROGRESS) {
			snprintf(c->err, sizeof(c->err), "%s: %s", as, strerror(errno));
			close(fd);
			continue;
		}
		snprintf(c->err, sizeof(c->err), "%s: no answer in %u ms", as,
			 cf->connect_timeout_ms);
		c->fd[BACKEND] = fd;
		c->h[BACKEND] = ev_io_add(c->s->ev, fd, EPOLLOUT, conn_cb, c);
		if (!c->h[BACKEND] || ev_timer_set(c->timer, cf->connect_timeout_ms, 0) < 0) {
			conn_end(c, "epoll: %s", strerror(errno));
			return;
		}
		c->evs[BACKEND] = EPOLLOUT;
		return;
	}
	conn_end(c, "backend down (%s)", c->err[0] ? c->err : "no address");
}

/* The sniffer has spoken: pick the backend and connect. */
static void
route(struct conn *c)
{
	const struct mux_conf *cf = c->g->c;
	int p = c->sn.proto;

	if (p == MUX_TLS)
		c->be = mux_sni_lookup(cf, c->sn.sni);
	if (!c->be && p > MUX_UNKNOWN && p < MUX_NPROTO && cf->have[p])
		c->be = &cf->be[p];
	if (!c->be && cf->have[MUX_UNKNOWN])
		c->be = &cf->be[MUX_UNKNOWN];
	if (!c->be) {
		conn_end(c, "no backend for it, closed");
		return;
	}
	if (c->be->proxy) {
		struct sockaddr_storage local;
		socklen_t sl = sizeof(local);
		uint8_t h[MUX_PROXY_MAX];
		int k;

		if (getsockname(c->fd[CLIENT], (struct sockaddr *)&local, &sl) < 0)
			memset(&local, 0, sizeof(local));
		k = mux_proxy_header(c->be->proxy, &c->peer, &local, h);
		if (k < 0) {
			conn_end(c, "PROXY header: %s", strerror(errno));
			return;
		}
		memmove(c->buf + k, c->buf, c->blen);
		memcpy(c->buf, h, (size_t)k);
		c->blen += (size_t)k;
		c->hdr = (size_t)k;
	}
	/* The client is not read while the backend is being reached. */
	if (ev_io_set(c->h[CLIENT], 0) < 0) {
		conn_end(c, "epoll: %s", strerror(errno));
		return;
	}
	c->evs[CLIENT] = 0;
	c->state = CONNECT;
	c->ai = 0;
	connect_next(c);
}

static void
sniff_read(struct conn *c)
{
	for (;;) {
		ssize_t k;

		if (c->blen == MUX_SNIFF_MAX)
			break;
		k = recv(c->fd[CLIENT], c->buf + c->blen, MUX_SNIFF_MAX - c->blen, 0);
		if (k < 0) {
			if (errno == EAGAIN)
				break;
			if (errno == EINTR)
				continue;
			conn_end(c, "client: %s", strerror(errno));
			return;
		}
		if (k == 0) {
			c->up.eof = 1;
			break;
		}
		c->blen += (size_t)k;
	}
	if (mux_sniff(c->buf, c->blen, c->up.eof || c->blen == MUX_SNIFF_MAX, &c->sn) != MUX_NEED)
		route(c);
}

static void
timer_cb(struct ev_handle *h, uint64_t n, void *arg)
{
	struct conn *c = arg;

	if (c->state == SNIFF) {
		mux_sniff(c->buf, c->blen, 1, &c->sn);
		route(c);
	} else if (c->state == CONNECT) {
		connect_next(c);
	}
}

static void
conn_cb(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	int side = fd == c->fd[CLIENT] ? CLIENT : BACKEND;
	const char *who = side == CLIENT ? "client" : "backend";

	switch (c->state) {
	case SNIFF:
		sniff_read(c);
		return;
	case CONNECT:
		if (side == CLIENT) {
			conn_end(c, "the client left while the backend was being reached");
			return;
		}
		{
			int e = sock_error(fd);

			if (e == 0) {
				relay_start(c);
			} else {
				char as[INET6_ADDRSTRLEN + 8];

				addr_str(&c->be->addr[c->ai - 1].ss, as, sizeof(as));
				snprintf(c->err, sizeof(c->err), "%s: %s", as, strerror(e));
				connect_next(c);
			}
		}
		return;
	}
	if (events & EPOLLERR) {
		int e = sock_error(fd);

		conn_end(c, "%s: %s", who, strerror(e ? e : EIO));
		return;
	}
	if (relay(c) < 0)
		return;
	if ((events & EPOLLHUP) && c->h[side]) {
		/* Both ways shut. If we have not shut its writing side, the
		 * peer reset or vanished; else what it sent is read without
		 * epoll, which would report the hangup forever. */
		if (!(side == CLIENT ? c->down.done : c->up.done)) {
			conn_end(c, "%s hung up", who);
			return;
		}
		c->hup[side] = 1;
		relay(c);
	}
}

static void
resume_cb(struct ev_handle *h, uint64_t n, void *arg)
{
	struct mux_srv *s = arg;
	size_t i;

	for (i = 0; i < s->nl; i++)
		if (s->lh[i])
			ev_io_set(s->lh[i], EPOLLIN);
	ev_del(h);
	s->pause = NULL;
}

static void
accept_cb(struct ev_handle *h, int lfd, uint32_t events, void *arg)
{
	struct mux_srv *s = arg;
	int i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct conn *c;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char as[INET6_ADDRSTRLEN + 8];

		if (fd < 0) {
			size_t j;

			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			log_warn("accept (trying again in a second)");
			/* The listener stays readable: without a pause this
			 * would spin until a descriptor or memory is free. */
			if (!s->pause) {
				for (j = 0; j < s->nl; j++)
					if (s->lh[j])
						ev_io_set(s->lh[j], 0);
				s->pause = ev_timer_add(s->ev, 1000, 0, resume_cb, s);
			}
			return;
		}
		addr_str(&ss, as, sizeof(as));
		if (s->nconns >= s->cur->c->max_conns) {
			log_warnx("%s: refused, %zu connections already (--max-conns)", as,
				  s->nconns);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->buf = malloc(MUX_SNIFF_MAX + MUX_PROXY_MAX);
		if (!c || !c->buf) {
			log_warnx("%s: refused: %s", as, strerror(ENOMEM));
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->s = s;
		c->g = s->cur;
		c->g->refs++;
		c->fd[CLIENT] = fd;
		c->fd[BACKEND] = -1;
		c->up.pipe[0] = c->up.pipe[1] = c->down.pipe[0] = c->down.pipe[1] = -1;
		c->sn.proto = MUX_NEED;
		c->t0 = mono_us();
		c->peer = ss;
		str_copy(c->client, as, sizeof(c->client));
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		c->state = SNIFF;
		c->evs[CLIENT] = EPOLLIN;
		c->h[CLIENT] = ev_io_add(s->ev, fd, EPOLLIN, conn_cb, c);
		c->timer = ev_timer_add(s->ev, c->g->c->sniff_timeout_ms, 0, timer_cb, c);
		if (!c->h[CLIENT] || !c->timer) {
			conn_end(c, "epoll: %s", strerror(errno));
			continue;
		}
		log_debug("%s: accepted", as);
	}
}

struct mux_srv *
mux_srv_new(struct ev *ev, struct mux_conf *c, char *err, size_t errlen)
{
	struct mux_srv *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s)
		goto fail;
	s->ev = ev;
	s->cur = calloc(1, sizeof(*s->cur));
	if (!s->cur)
		goto fail;
	s->lfd = calloc(c->nlisten ? c->nlisten : 1, sizeof(*s->lfd));
	s->lh = calloc(c->nlisten ? c->nlisten : 1, sizeof(*s->lh));
	if (!s->lfd || !s->lh)
		goto fail;
	for (i = 0; i < c->nlisten; i++) {
		const struct mux_addr *a = &c->listen[i];
		char as[INET6_ADDRSTRLEN + 8];
		int one = 1, fd;

		addr_str(&a->ss, as, sizeof(as));
		fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "listen %s: %s", as, strerror(errno));
			goto fail;
		}
		s->lfd[s->nl++] = fd;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (a->ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, 512) < 0) {
			snprintf(err, errlen, "listen %s: %s", as, strerror(errno));
			goto fail;
		}
		s->lh[i] = ev_io_add(ev, fd, EPOLLIN, accept_cb, s);
		if (!s->lh[i]) {
			snprintf(err, errlen, "listen %s: epoll: %s", as, strerror(errno));
			goto fail;
		}
	}
	s->cur->c = c;	/* ours from here on */
	return s;
fail:
	if (!err[0])
		snprintf(err, errlen, "%s", strerror(errno));
	{
		int saved = errno;

		mux_srv_free(s);
		errno = saved;
	}
	return NULL;
}

int
mux_srv_reload(struct mux_srv *s, struct mux_conf *c, char *err, size_t errlen)
{
	const struct mux_conf *o = s->cur->c;
	struct gen *g;
	size_t i;

	/* The listeners stay: root, needed to bind them, may be gone. */
	for (i = 0; i < c->nlisten && c->nlisten == o->nlisten; i++)
		if (c->listen[i].len != o->listen[i].len ||
		    memcmp(&c->listen[i].ss, &o->listen[i].ss, c->listen[i].len))
			break;
	if (c->nlisten != o->nlisten || i < c->nlisten) {
		snprintf(err, errlen, "the listen addresses changed (a restart changes them)");
		return -1;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	g->c = c;
	if (s->cur->refs == 0) {
		gen_free(s->cur);
	} else {
		s->cur->next = s->retired;
		s->retired = s->cur;
	}
	s->cur = g;
	return 0;
}

size_t
mux_srv_conns(const struct mux_srv *s)
{
	return s->nconns;
}

void
mux_srv_free(struct mux_srv *s)
{
	size_t i;

	if (!s)
		return;
	while (s->conns)
		conn_end(s->conns, "shutting down");
	ev_del(s->pause);
	while (s->retired) {
		struct gen *g = s->retired;

		s->retired = g->next;
		gen_free(g);
	}
	if (s->cur && s->cur->c)
		gen_free(s->cur);
	else
		free(s->cur);
	for (i = 0; i < s->nl; i++) {
		ev_del(s->lh[i]);
		close(s->lfd[i]);
	}
	free(s->lfd);
	free(s->lh);
	free(s);
}
