/* The resolving side: forwarding, home-domain referrals, cache. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns_resolve.h"
#include "hash.h"
#include "log.h"

#define NSOCK 4			/* per family: source ports to spread queries over */
#define TRY_MS 1500
#define MAX_TRIES 4
#define MAX_DEPTH 8
#define MAX_TTL 86400
#define NEG_TTL_MAX 3600
#define MSG_MAX 65535

struct waiter {
	struct waiter *next;
	dns_resolve_cb *cb;
	void *arg;
};

struct pending {
	struct pending *next;
	struct dns_resolver *r;
	struct dns_name qname;
	uint16_t qtype;
	struct waiter *waiters;
	int home;		/* a name below the home domain: iterate */
	int depth;		/* referrals followed */
	struct dns_addr servers[8];
	int nservers, cur, tries;
	uint16_t id;
	int sock;		/* index into r->fd, -1 while on TCP */
	struct ev_handle *timer;
	/* TCP retry after a truncated answer */
	int tcpfd;
	struct ev_handle *tcph;
	struct buf tcp;
	size_t tcpsent;
	uint8_t q[512];
	size_t qlen;
};

struct centry {
	struct centry *hnext, *prev, *next;
	struct dns_name qname;
	uint16_t qtype;
	uint64_t stored, expires;
	uint8_t *msg;
	size_t len;
	uint16_t *ttls;		/* offsets of the TTLs in msg */
	size_t nttls;
	int rcode;
};

struct dns_resolver {
	struct ev *ev;
	const struct dns_conf *c;
	struct dns_server *srv;
	int fd[2 * NSOCK];
	struct ev_handle *fh[2 * NSOCK];
	struct pending *pending;
	struct centry **tab;
	size_t nbuckets, entries, limit;
	struct centry lru;	/* head: lru.next newest, lru.prev oldest */
	uint32_t seed;
	int up_next;		/* round robin over upstreams */
	struct dns_resolver_stats st;
	uint8_t buf[MSG_MAX];
};

/* ---- addresses fit for home names ---- */

int
dns_addr_is_home(const uint8_t *a, size_t len)
{
	if (len == 4)
		return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
		       (a[0] == 100 && (a[1] & 0xc0) == 64);
	if (len == 16) {
		static const uint8_t lo[16] = { [15] = 1 };

		return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
		       !memcmp(a, lo, 16);
	}
	return 0;
}

/* ---- cache ---- */

static size_t
cbucket(const struct dns_resolver *r, const struct dns_name *n, uint16_t t)
{
	return (dns_name_hash(n, r->seed) ^ t * 0x9e3779b1u) & (r->nbuckets - 1);
}

static void
lru_unlink(struct centry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void
lru_front(struct dns_resolver *r, struct centry *e)
{
	e->next = r->lru.next;
	e->prev = &r->lru;
	r->lru.next->prev = e;
	r->lru.next = e;
}

static void
centry_free(struct dns_resolver *r, struct centry *e)
{
	struct centry **pp = &r->tab[cbucket(r, &e->qname, e->qtype)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(e);
	free(e->msg);
	free(e->ttls);
	free(e);
	r->entries--;
}

static struct centry *
cache_find(struct dns_resolver *r, const struct dns_name *n, uint16_t t)
{
	struct centry *e;

	for (e = r->tab[cbucket(r, n, t)]; e; e = e->hnext)
		if (e->qtype == t && dns_name_equal(&e->qname, n))
			return e;
	return NULL;
}

/* Rewrite an upstream answer in our form: the question as asked, the
 * records without OPT and TSIG, the TTL offsets remembered. Returns its
 * TTL for the cache (the smallest record TTL; for negative answers the
 * SOA's, RFC 2308), -1 if unusable. */
static long
normalize(struct dns_resolver *r, const struct dns_msg *m, const struct dns_name *qname,
	  uint16_t qtype, int home, uint8_t *out, size_t cap, size_t *outlen, uint16_t *ttls,
	  size_t *nttls)
{
	struct dns_w w;
	long min = -1, neg = -1;
	size_t i;
	int kept_addr = 0, dropped = 0;

	dns_w_init(&w, out, cap, cap);
	dns_w_header(&w, 0, DNS_F_QR);
	dns_w_question(&w, qname, qtype, DNS_C_IN);
	*nttls = 0;
	for (i = 0; i < m->nrr; i++) {
		const struct dns_rr *rr = &m->rr[i];
		uint8_t rd[MSG_MAX];
		size_t rdlen;
		int sec = i < m->count[1] ? 1 : i < (size_t)m->count[1] + m->count[2] ? 2 : 3;

		if (rr->type == DNS_T_OPT || rr->type == DNS_T_TSIG || rr->class != DNS_C_IN)
			continue;
		if (dns_rdata_unpack(rr->type, m->pkt, m->len, rr->rdoff, rr->rdlen, rd, sizeof(rd),
				     &rdlen) < 0)
			return -1;
		/* The home-domain rule: a home name never points outside. */
		if (home && sec == 1 && (rr->type == DNS_T_A || rr->type == DNS_T_AAAA)) {
			if (!dns_addr_is_home(rd, rdlen)) {
				dropped++;
				continue;
			}
			kept_addr++;
		}
		if (dns_w_rr(&w, sec, &rr->name, rr->type, DNS_C_IN, rr->ttl, rd, (uint16_t)rdlen) < 0)
			return -1;
		if (*nttls < 256)
			ttls[(*nttls)++] = (uint16_t)w.last_ttl;
		if (sec == 2 && rr->type == DNS_T_SOA && rdlen >= 4) {
			uint32_t soamin = (uint32_t)rd[rdlen - 4] << 24 | (uint32_t)rd[rdlen - 3] << 16 |
					  (uint32_t)rd[rdlen - 2] << 8 | rd[rdlen - 1];

			neg = rr->ttl < soamin ? rr->ttl : soamin;
		}
		if (sec == 1 && (min < 0 || rr->ttl < (uint32_t)min))
			min = rr->ttl;
	}
	if (dropped) {
		r->st.dropped_public += (uint64_t)dropped;
		log_info("dropped %d public address(es) in an answer for a home name", dropped);
		if (!kept_addr)
			return -2;
	}
	*outlen = dns_w_finish(&w);
	if (w.count[1] == 0)
		min = neg >= 0 ? (neg > NEG_TTL_MAX ? NEG_TTL_MAX : neg) : 60;
	return min > MAX_TTL ? MAX_TTL : min;
}

static void
cache_put(struct dns_resolver *r, const struct dns_name *qname, uint16_t qtype, const uint8_t *msg,
	  size_t len, const uint16_t *ttls, size_t nttls, int rcode, long ttl)
{
	struct centry *e;
	size_t b;

	if (r->limit == 0 || ttl <= 0)
		return;
	e = cache_find(r, qname, qtype);
	if (e)
		centry_free(r, e);
	while (r->entries >= r->limit && r->lru.prev != &r->lru)
		centry_free(r, r->lru.prev);	/* the least recently used goes */
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->msg = malloc(len);
	e->ttls = malloc((nttls ? nttls : 1) * sizeof(*ttls));
	if (!e->msg || !e->ttls) {
		free(e->msg);
		free(e->ttls);
		free(e);
		return;
	}
	memcpy(e->msg, msg, len);
	memcpy(e->ttls, ttls, nttls * sizeof(*ttls));
	e->len = len;
	e->nttls = nttls;
	e->qname = *qname;
	dns_name_lower(&e->qname);
	e->qtype = qtype;
	e->rcode = rcode;
	e->stored = ev_now_ms(r->ev);
	e->expires = e->stored + (uint64_t)ttl * 1000;
	b = cbucket(r, &e->qname, qtype);
	e->hnext = r->tab[b];
	r->tab[b] = e;
	lru_front(r, e);
	r->entries++;
}

/* A fresh copy of a cached answer, TTLs lowered by its age. */
static int
cache_hit(struct dns_resolver *r, const struct dns_name *qname, uint16_t qtype, dns_resolve_cb *cb,
	  void *arg)
{
	struct centry *e = cache_find(r, qname, qtype);
	uint64_t now = ev_now_ms(r->ev);
	uint32_t age;
	size_t i;

	if (!e)
		return 0;
	if (now >= e->expires) {
		centry_free(r, e);
		return 0;
	}
	lru_unlink(e);
	lru_front(r, e);
	memcpy(r->buf, e->msg, e->len);
	age = (uint32_t)((now - e->stored) / 1000);
	for (i = 0; i < e->nttls; i++) {
		uint8_t *p = r->buf + e->ttls[i];
		uint32_t t = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

		t = t > age ? t - age : 0;
		p[0] = (uint8_t)(t >> 24);
		p[1] = (uint8_t)(t >> 16);
		p[2] = (uint8_t)(t >> 8);
		p[3] = (uint8_t)t;
	}
	r->st.hits++;
	cb(r->buf, e->len, e->rcode, arg);
	return 1;
}

/* ---- upstream queries ---- */

static void pending_send(struct pending *p);

static void
pending_finish(struct pending *p, const uint8_t *msg, size_t len, int rcode)
{
	struct dns_resolver *r = p->r;
	struct pending **pp = &r->pending;
	struct waiter *w = p->waiters;

	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (p->timer)
		ev_del(p->timer);
	if (p->tcph)
		ev_del(p->tcph);
	if (p->tcpfd >= 0)
		close(p->tcpfd);
	buf_free(&p->tcp);
	if (rcode == DNS_R_SERVFAIL && !msg)
		r->st.failures++;
	while (w) {
		struct waiter *next = w->next;

		w->cb(msg, len, rcode, w->arg);
		free(w);
		w = next;
	}
	free(p);
}

static int
open_socks(struct dns_resolver *r);

static void
build_query(struct pending *p, int rd)
{
	struct dns_w w;
	uint16_t id;

	rand_bytes(&id, sizeof(id));
	p->id = id;
	dns_w_init(&w, p->q, sizeof(p->q), sizeof(p->q));
	dns_w_header(&w, id, rd ? DNS_F_RD : 0);
	dns_w_question(&w, &p->qname, p->qtype, DNS_C_IN);
	dns_w_opt(&w, 1232, 0);
	p->qlen = dns_w_finish(&w);
}

/* Servers for a home name: the deepest delegation our zones know, or the
 * configured parents. */
static void
home_servers(struct pending *p)
{
	struct dns_resolver *r = p->r;
	struct dns_zone *z = dns_server_zone(r->srv, &p->qname);
	struct dns_name cur = p->qname;
	int i;

	p->nservers = 0;
	while (z && cur.len > z->origin.len) {
		struct dns_node *n = dns_zone_find(z, &cur);
		struct dns_rrset *ns = dns_node_rrset(n, DNS_T_NS);

		if (ns) {
			struct dns_rdata *rd;

			for (rd = ns->rd; rd && p->nservers < 8; rd = rd->next) {
				struct dns_name nsn;
				size_t off = 0;
				struct dns_rrset *g;
				struct dns_rdata *ga;

				if (dns_name_unpack(rd->data, rd->len, &off, &nsn) < 0)
					continue;
				g = dns_node_rrset(dns_zone_find(z, &nsn), DNS_T_A);
				for (ga = g ? g->rd : NULL; ga && p->nservers < 8; ga = ga->next) {
					struct sockaddr_in *sa = (struct sockaddr_in *)&p->servers[p->nservers].sa;

					memset(&p->servers[p->nservers], 0, sizeof(p->servers[0]));
					sa->sin_family = AF_INET;
					sa->sin_port = htons(53);
					memcpy(&sa->sin_addr, ga->data, 4);
					p->servers[p->nservers++].len = sizeof(*sa);
				}
				g = dns_node_rrset(dns_zone_find(z, &nsn), DNS_T_AAAA);
				for (ga = g ? g->rd : NULL; ga && p->nservers < 8; ga = ga->next) {
					struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&p->servers[p->nservers].sa;

					memset(&p->servers[p->nservers], 0, sizeof(p->servers[0]));
					sa->sin6_family = AF_INET6;
					sa->sin6_port = htons(53);
					memcpy(&sa->sin6_addr, ga->data, 16);
					p->servers[p->nservers++].len = sizeof(*sa);
				}
			}
			if (p->nservers)
				return;
		}
		if (dns_name_parent(&cur, &cur) < 0)
			break;
	}
	for (i = 0; i < r->c->nparent && p->nservers < 8; i++)
		p->servers[p->nservers++] = r->c->parent[i];
}

static int
sock_for(struct dns_resolver *r, int family)
{
	uint32_t k = 0;

	rand_uniform(NSOCK, &k);
	return (family == AF_INET6 ? NSOCK : 0) + (int)k;
}

static void
on_timeout(struct ev_handle *h, uint64_t n, void *arg)
{
	struct pending *p = arg;

	p->timer = NULL;
	ev_del(h);
	if (p->tcph) {
		ev_del(p->tcph);
		p->tcph = NULL;
		close(p->tcpfd);
		p->tcpfd = -1;
	}
	if (++p->tries >= MAX_TRIES || p->nservers == 0) {
		pending_finish(p, NULL, 0, DNS_R_SERVFAIL);
		return;
	}
	p->cur = (p->cur + 1) % p->nservers;
	pending_send(p);
}

static void
pending_send(struct pending *p)
{
	struct dns_resolver *r = p->r;
	const struct dns_addr *a;
	int s;

	if (p->nservers == 0) {
		pending_finish(p, NULL, 0, DNS_R_SERVFAIL);
		return;
	}
	a = &p->servers[p->cur % p->nservers];
	build_query(p, !p->home);
	s = sock_for(r, a->sa.ss_family);
	p->sock = s;
	r->st.upstream++;
	if (r->fd[s] < 0 ||
	    sendto(r->fd[s], p->q, p->qlen, 0, (const struct sockaddr *)&a->sa, a->len) < 0)
		log_debug("query to upstream: %s", strerror(errno));
	if (!p->timer)
		p->timer = ev_timer_add(r->ev, TRY_MS, 0, on_timeout, p);
	else
		ev_timer_set(p->timer, TRY_MS, 0);
}

/* TCP, after a truncated UDP answer. */
static void handle_answer(struct pending *p, const uint8_t *pkt, size_t len, int tcp);

static void
on_tcp(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct pending *p = arg;
	ssize_t n;

	if (events & EPOLLOUT && p->tcpsent < p->qlen + 2) {
		uint8_t frame[514];

		frame[0] = (uint8_t)(p->qlen >> 8);
		frame[1] = (uint8_t)p->qlen;
		memcpy(frame + 2, p->q, p->qlen);
		n = send(fd, frame + p->tcpsent, p->qlen + 2 - p->tcpsent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			goto fail;
		if (n > 0)
			p->tcpsent += (size_t)n;
		if (p->tcpsent == p->qlen + 2)
			ev_io_set(h, EPOLLIN);
		return;
	}
	if (buf_reserve(&p->tcp, 4096) < 0)
		goto fail;
	n = recv(fd, p->tcp.data + p->tcp.len, p->tcp.cap - p->tcp.len - 1, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0)
		goto fail;
	p->tcp.len += (size_t)n;
	if (p->tcp.len >= 2) {
		size_t want = (size_t)((uint8_t)p->tcp.data[0] << 8 | (uint8_t)p->tcp.data[1]);

		if (p->tcp.len >= want + 2) {
			handle_answer(p, (const uint8_t *)p->tcp.data + 2, want, 1);
			return;
		}
		if (want > MSG_MAX)
			goto fail;
	}
	return;
fail:
	ev_del(h);
	p->tcph = NULL;
	close(p->tcpfd);
	p->tcpfd = -1;
	on_timeout(p->timer, 1, p);
}

static void
retry_tcp(struct pending *p)
{
	const struct dns_addr *a = &p->servers[p->cur % p->nservers];
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0 && errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		pending_finish(p, NULL, 0, DNS_R_SERVFAIL);
		return;
	}
	p->sock = -1;
	p->tcpfd = fd;
	p->tcpsent = 0;
	buf_reset(&p->tcp);
	p->tcph = ev_io_add(p->r->ev, fd, EPOLLOUT | EPOLLIN, on_tcp, p);
	ev_timer_set(p->timer, TRY_MS, 0);
}

static void
answer_waiters(struct pending *p, const struct dns_msg *m)
{
	struct dns_resolver *r = p->r;
	uint8_t out[MSG_MAX];
	uint16_t ttls[256];
	size_t len = 0, nttls = 0;
	long ttl;
	int rcode = DNS_RCODE(m->flags);

	ttl = normalize(r, m, &p->qname, p->qtype, p->home, out, sizeof(out), &len, ttls, &nttls);
	if (ttl == -1) {
		pending_finish(p, NULL, 0, DNS_R_SERVFAIL);
		return;
	}
	if (ttl == -2) {
		/* every address was public: the whole answer is refused */
		pending_finish(p, NULL, 0, DNS_R_SERVFAIL);
		return;
	}
	if (rcode == DNS_R_NOERROR || rcode == DNS_R_NXDOMAIN)
		cache_put(r, &p->qname, p->qtype, out, len, ttls, nttls, rcode, ttl);
	pending_finish(p, out, len, rcode);
}

/* A referral from a home server: new servers from the glue. */
static int
follow_referral(struct pending *p, const struct dns_msg *m)
{
	size_t i, j;
	int n = 0;

	if (++p->depth > MAX_DEPTH)
		return -1;
	for (i = 0; i < m->count[2]; i++) {
		const struct dns_rr *ns = dns_msg_section(m, 2, i);
		struct dns_name nsn;
		size_t off;

		if (ns->type != DNS_T_NS || !dns_name_is_sub(&p->qname, &ns->name))
			continue;
		off = ns->rdoff;
		if (dns_name_unpack(m->pkt, ns->rdoff + ns->rdlen, &off, &nsn) < 0)
			continue;
		for (j = 0; j < m->count[3] && n < 8; j++) {
			const struct dns_rr *g = dns_msg_section(m, 3, j);
			struct dns_addr *a = &p->servers[n];

			if (!dns_name_equal(&g->name, &nsn))
				continue;
			memset(a, 0, sizeof(*a));
			if (g->type == DNS_T_A && g->rdlen == 4) {
				struct sockaddr_in *sa = (struct sockaddr_in *)&a->sa;

				sa->sin_family = AF_INET;
				sa->sin_port = htons(53);
				memcpy(&sa->sin_addr, m->pkt + g->rdoff, 4);
				a->len = sizeof(*sa);
				n++;
			} else if (g->type == DNS_T_AAAA && g->rdlen == 16) {
				struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&a->sa;

				sa->sin6_family = AF_INET6;
				sa->sin6_port = htons(53);
				memcpy(&sa->sin6_addr, m->pkt + g->rdoff, 16);
				a->len = sizeof(*sa);
				n++;
			}
		}
	}
	if (!n)
		return -1;	/* no glue: out of scope for a home network */
	p->nservers = n;
	p->cur = 0;
	p->tries = 0;
	pending_send(p);
	return 0;
}

static void
handle_answer(struct pending *p, const uint8_t *pkt, size_t len, int tcp)
{
	struct dns_msg m;
	int rcode;

	if (dns_msg_parse(&m, pkt, len) < 0 || m.id != p->id || !(m.flags & DNS_F_QR) ||
	    m.count[0] != 1 || m.qtype != p->qtype || !dns_name_equal(&m.qname, &p->qname)) {
		dns_msg_free(&m);
		return;	/* not the answer to our question: keep waiting */
	}
	rcode = DNS_RCODE(m.flags);
	if ((m.flags & DNS_F_TC) && !tcp) {
		dns_msg_free(&m);
		retry_tcp(p);
		return;
	}
	if (rcode != DNS_R_NOERROR && rcode != DNS_R_NXDOMAIN) {
		dns_msg_free(&m);
		on_timeout(p->timer, 1, p);	/* SERVFAIL, REFUSED: try the next */
		return;
	}
	if (p->home && !(m.flags & DNS_F_AA) && rcode == DNS_R_NOERROR && m.count[1] == 0) {
		if (follow_referral(p, &m) < 0)
			pending_finish(p, NULL, 0, DNS_R_SERVFAIL);
		dns_msg_free(&m);
		return;
	}
	answer_waiters(p, &m);
	dns_msg_free(&m);
}

static void
on_sock(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct dns_resolver *r = arg;
	int k;

	for (k = 0; k < 64; k++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, r->buf, sizeof(r->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		struct pending *p;
		uint16_t id;

		if (n < 0)
			break;
		if (n < 12)
			continue;
		id = (uint16_t)(r->buf[0] << 8 | r->buf[1]);
		for (p = r->pending; p; p = p->next) {
			const struct dns_addr *a;

			if (p->id != id || p->sock < 0 || r->fd[p->sock] != fd || !p->nservers)
				continue;
			a = &p->servers[p->cur % p->nservers];
			/* Only from the server we asked, at the port we asked. */
			if (a->len != fl || memcmp(&a->sa, &from, fl) != 0)
				continue;
			{
				uint8_t copy[MSG_MAX];

				memcpy(copy, r->buf, (size_t)n);
				handle_answer(p, copy, (size_t)n, 0);
			}
			break;
		}
	}
}

static int
open_socks(struct dns_resolver *r)
{
	int i;

	for (i = 0; i < 2 * NSOCK; i++) {
		int fam = i < NSOCK ? AF_INET : AF_INET6;

		r->fd[i] = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (r->fd[i] < 0)
			continue;	/* no IPv6 here: fine */
		r->fh[i] = ev_io_add(r->ev, r->fd[i], EPOLLIN, on_sock, r);
		if (!r->fh[i]) {
			close(r->fd[i]);
			r->fd[i] = -1;
		}
	}
	return 0;
}

struct dns_resolver *
dns_resolver_new(struct ev *ev, const struct dns_conf *c, struct dns_server *srv)
{
	struct dns_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ev = ev;
	r->c = c;
	r->srv = srv;
	r->limit = c->cache_size;
	r->nbuckets = 1024;
	while (r->nbuckets < r->limit && r->nbuckets < (1u << 22))
		r->nbuckets *= 2;
	r->tab = calloc(r->nbuckets, sizeof(*r->tab));
	if (!r->tab) {
		free(r);
		return NULL;
	}
	r->lru.next = r->lru.prev = &r->lru;
	rand_bytes(&r->seed, sizeof(r->seed));
	open_socks(r);
	return r;
}

void
dns_resolver_reconfigure(struct dns_resolver *r, const struct dns_conf *c, struct dns_server *srv)
{
	r->c = c;
	r->srv = srv;
	r->limit = c->cache_size;
	while (r->entries > r->limit && r->lru.prev != &r->lru)
		centry_free(r, r->lru.prev);
}

void
dns_resolver_free(struct dns_resolver *r)
{
	int i;

	if (!r)
		return;
	while (r->pending)
		pending_finish(r->pending, NULL, 0, DNS_R_SERVFAIL);
	while (r->lru.next != &r->lru)
		centry_free(r, r->lru.next);
	for (i = 0; i < 2 * NSOCK; i++)
		if (r->fd[i] >= 0) {
			ev_del(r->fh[i]);
			close(r->fd[i]);
		}
	free(r->tab);
	free(r);
}

int
dns_resolve(struct dns_resolver *r, const struct dns_name *qname, uint16_t qtype,
	    dns_resolve_cb *cb, void *arg)
{
	struct pending *p;
	struct waiter *w;
	int i;

	r->st.queries++;
	if (cache_hit(r, qname, qtype, cb, arg))
		return 0;
	r->st.misses++;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->cb = cb;
	w->arg = arg;
	/* The same question already on its way: wait for that one. */
	for (p = r->pending; p; p = p->next)
		if (p->qtype == qtype && dns_name_equal(&p->qname, qname)) {
			w->next = p->waiters;
			p->waiters = w;
			r->st.coalesced++;
			return 0;
		}
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(w);
		return -1;
	}
	p->r = r;
	p->qname = *qname;
	p->qtype = qtype;
	p->waiters = w;
	p->tcpfd = -1;
	p->sock = -1;
	p->home = dns_name_is_sub(qname, &r->c->domain);
	if (p->home)
		home_servers(p);
	if (!p->nservers) {
		/* Not a home name, or nobody to ask about it inside: upstream. */
		p->home = 0;
		for (i = 0; i < r->c->nupstream && p->nservers < 8; i++)
			p->servers[p->nservers++] = r->c->upstream[(r->up_next + i) % r->c->nupstream];
		r->up_next++;
	}
	p->next = r->pending;
	r->pending = p;
	pending_send(p);
	return 0;
}

void
dns_resolve_cancel(struct dns_resolver *r, dns_resolve_cb *cb, void *arg)
{
	struct pending *p;

	for (p = r->pending; p; p = p->next) {
		struct waiter **pp = &p->waiters;

		while (*pp) {
			if ((*pp)->cb == cb && (*pp)->arg == arg) {
				struct waiter *w = *pp;

				*pp = w->next;
				free(w);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
}

void
dns_resolver_stats(const struct dns_resolver *r, struct dns_resolver_stats *st)
{
	*st = r->st;
	st->entries = r->entries;
}
