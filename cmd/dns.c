/*
 * lab dns: the home domain's DNS. `serve` answers for this machine's part
 * of the home domain (and its interface zones), takes signed dynamic
 * updates, and resolves everything else; add/rm/ls are its clients.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "dns.h"
#include "dns_client.h"
#include "dns_conf.h"
#include "dns_resolve.h"
#include "dns_server.h"
#include "dhcp.h"
#include "ra.h"
#include "mdns.h"
#include "ipaddr.h"
#include "nl_route.h"
#include "ev.h"
#include "fs.h"
#include "hash.h"
#include "spawn.h"

#define DNS_CONF "/usr/local/etc/lab/dns/dns.conf"
#define DNS_KEYFILE DNS_CLIENT_KEYFILE

const char dns_usage[] =
	"usage: lab dns serve [-c FILE] [-d] [-v] [-n]\n"
	"       lab dns add NAME TYPE DATA... [--ttl N]\n"
	"       lab dns rm NAME [TYPE [DATA...]]\n"
	"       lab dns ls [ZONE]\n"
	"\n"
	"serve   authoritative DNS for HOST.DOMAIN (default home.arpa) and its\n"
	"        interface zones, RFC 2136 updates signed with TSIG (hmac-sha256),\n"
	"        PTR records kept in step, and a caching resolver: home names follow\n"
	"        the home domain's delegations, others go upstream.\n"
	"        -c FILE  configuration (default " DNS_CONF ")\n"
	"        -d       stay in the foreground, log to stderr\n"
	"        -v       more detail (repeatable)\n"
	"        -n       check the configuration, print it normalised, exit\n"
	"        SIGHUP reloads; a bad new configuration keeps the old one serving.\n"
	"        SIGUSR1 logs the resolver's counters.\n"
	"add     send an UPDATE that adds a record (zone found with an SOA query)\n"
	"rm      delete a name, an RRset, or one record\n"
	"ls      list a zone (AXFR over TCP, from this machine)\n"
	"\n"
	"Client options: --server ADDR[:PORT] (default 127.0.0.1:53), --key\n"
	"hmac-sha256:NAME:BASE64 or --key-file FILE (default " DNS_KEYFILE ",\n"
	"or $LAB_DNS_KEY), --zone ZONE, --ttl N (default 3600).\n";

/* ---- the daemon ---- */

struct tcpconn;

struct dhcpd {
	struct dhcp_pool pool;
	int fd;
	struct dns_name zone;	/* where its clients' names go */
	struct dns_name rev;	/* the reverse zone of its subnet */
};

struct rad {
	struct ra_conf rc;
	int fd;
	struct ev_handle *timer;
};

struct daemon {
	struct ev *ev;
	struct dhcpd *dhcp;
	int ndhcp;
	struct rad *ra;
	int nra;
	struct mdnsd {
		struct mdns *m;
		struct dns_name zone;
	} *mdns;
	int nmdns;
	const char *conf_path;
	struct dns_conf *conf;
	struct dns_server srv;
	struct dns_resolver *res;
	int fds[2 * DNS_CONF_MAX_ADDRS];
	int nfds;
	int *workfds, nworkfds;
	/* UDP worker threads answer from the zones under a read lock; what
	 * needs the main loop (updates, recursion) comes to it by a queue. */
	pthread_rwlock_t lock;
	pthread_mutex_t qlock;
	struct qitem *queue, **qtail;
	int qfd;			/* eventfd: something is queued */
	unsigned nconns;
	uint8_t out[65535 + 2];
};

static struct daemon *D;

/* A client waiting for the resolver. */
struct waiting {
	uint16_t id, flags;
	uint16_t edns;		/* client's EDNS size, 0 without */
	size_t limit;
	int fd;			/* UDP socket to answer on, or -1 for TCP */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct tcpconn *conn;
};

struct tcpconn {
	int fd;
	int local;		/* the peer is on loopback */
	struct ev_handle *io, *idle;
	struct buf in, out;
	unsigned inflight;
	int closing;
};

static void conn_free(struct tcpconn *c);
static void conn_flush(struct tcpconn *c);
static void process_input(struct tcpconn *c);

static size_t
client_limit(const struct dns_msg *m, int tcp)
{
	size_t l = tcp ? 65535 : m->edns ? m->edns_size : 512;

	return l > D->srv.edns_size && !tcp ? D->srv.edns_size : l;
}

static void
resolved(const uint8_t *msg, size_t len, int rcode, void *arg)
{
	struct waiting *w = arg;
	uint8_t out[65535];
	size_t n;

	if (msg && len <= sizeof(out)) {
		memcpy(out, msg, len);
		n = dns_reply_finish(out, len, sizeof(out), w->id,
				     (uint16_t)(DNS_F_QR | DNS_F_RA | (w->flags & (DNS_F_RD | DNS_F_CD))),
				     rcode, w->edns ? D->srv.edns_size : 0, w->limit);
	} else {
		/* SERVFAIL: header only (and the question is not known here). */
		memset(out, 0, 12);
		n = dns_reply_finish(out, 12, sizeof(out), w->id,
				     (uint16_t)(DNS_F_QR | DNS_F_RA | (w->flags & DNS_F_RD)),
				     DNS_R_SERVFAIL, w->edns ? D->srv.edns_size : 0, w->limit);
	}
	if (w->conn) {
		struct tcpconn *c = w->conn;
		uint8_t hdr[2] = { (uint8_t)(n >> 8), (uint8_t)n };

		buf_add(&c->out, hdr, 2);
		buf_add(&c->out, out, n);
		c->inflight--;
		process_input(c);	/* queries held back by the limit */
		conn_flush(c);
	} else {
		sendto(w->fd, out, n, MSG_DONTWAIT, (struct sockaddr *)&w->peer, w->peerlen);
	}
	free(w);
}

/* Answer one request; a recursive one is handed to the resolver. */
static int
handle(const uint8_t *pkt, size_t len, int tcp, uint8_t *out, size_t *outlen, int fd,
       const struct sockaddr_storage *peer, socklen_t peerlen, struct tcpconn *conn)
{
	int r = dns_server_handle(&D->srv, pkt, len,
				  (tcp ? DNS_REQ_TCP : 0) | (conn && conn->local ? DNS_REQ_LOCAL : 0),
				  out, 65535, outlen);

	if (r == DNS_RECURSE) {
		struct dns_msg m;
		struct waiting *w;

		if (!D->res || dns_msg_parse(&m, pkt, len) < 0)
			return DNS_DROP;
		w = calloc(1, sizeof(*w));
		if (!w) {
			dns_msg_free(&m);
			return DNS_DROP;
		}
		w->id = m.id;
		w->flags = m.flags;
		w->edns = m.edns ? m.edns_size : 0;
		w->limit = client_limit(&m, tcp);
		w->fd = fd;
		if (peer)
			memcpy(&w->peer, peer, peerlen);
		w->peerlen = peerlen;
		w->conn = conn;
		if (conn)
			conn->inflight++;
		if (dns_resolve(D->res, &m.qname, m.qtype, resolved, w) < 0) {
			if (conn)
				conn->inflight--;
			free(w);
		}
		dns_msg_free(&m);
		return DNS_RECURSE;
	}
	return r;
}

struct qitem {
	struct qitem *next;
	int fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	size_t len;
	uint8_t pkt[];
};

/* From a worker: this request is for the main loop. */
static void
enqueue(int fd, const uint8_t *pkt, size_t len, const struct sockaddr_storage *peer,
	socklen_t peerlen)
{
	struct qitem *q = malloc(sizeof(*q) + len);
	uint64_t one = 1;

	if (!q)
		return;
	q->next = NULL;
	q->fd = fd;
	memcpy(&q->peer, peer, peerlen);
	q->peerlen = peerlen;
	q->len = len;
	memcpy(q->pkt, pkt, len);
	pthread_mutex_lock(&D->qlock);
	*D->qtail = q;
	D->qtail = &q->next;
	pthread_mutex_unlock(&D->qlock);
	if (write(D->qfd, &one, sizeof(one)) < 0)
		log_debug("queue wake-up: %s", strerror(errno));
}

static int
is_update(const uint8_t *pkt, size_t len)
{
	return len >= 3 && DNS_OPCODE((uint16_t)(pkt[2] << 8)) == DNS_OP_UPDATE;
}

/* Answer one UDP request in the main loop and send the reply. */
static void main_udp(int fd, const uint8_t *pkt, size_t len, const struct sockaddr_storage *peer,
		     socklen_t peerlen);

static void
on_queue(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct qitem *q;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&D->qlock);
	q = D->queue;
	D->queue = NULL;
	D->qtail = &D->queue;
	pthread_mutex_unlock(&D->qlock);
	while (q) {
		struct qitem *next = q->next;

		main_udp(q->fd, q->pkt, q->len, &q->peer, q->peerlen);
		free(q);
		q = next;
	}
}

#define BATCH 32
#define QMAX 4096

struct udpbuf {
	uint8_t in[BATCH][QMAX];
	uint8_t *outs;
	struct mmsghdr msgs[BATCH], replies[BATCH];
	struct iovec iov[BATCH], riov[BATCH];
	struct sockaddr_storage peers[BATCH];
};

/* One batch: recvmmsg, answers, sendmmsg. worker: we are a worker
 * thread (read lock, hand updates and recursion to the main loop). */
static int
udp_batch(struct udpbuf *u, int fd, int worker)
{
	int n, i, nr = 0;

	memset(u->msgs, 0, sizeof(u->msgs));
	for (i = 0; i < BATCH; i++) {
		u->iov[i].iov_base = u->in[i];
		u->iov[i].iov_len = QMAX;
		u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
		u->msgs[i].msg_hdr.msg_iovlen = 1;
		u->msgs[i].msg_hdr.msg_name = &u->peers[i];
		u->msgs[i].msg_hdr.msg_namelen = sizeof(u->peers[i]);
	}
	n = recvmmsg(fd, u->msgs, BATCH, worker ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
	if (n <= 0)
		return n;
	memset(u->replies, 0, sizeof(u->replies));
	if (worker)
		pthread_rwlock_rdlock(&D->lock);
	for (i = 0; i < n; i++) {
		uint8_t *out = u->outs + (size_t)nr * 65535;
		size_t outlen = 0, len = u->msgs[i].msg_len;
		socklen_t pl = u->msgs[i].msg_hdr.msg_namelen;
		int r;

		if (u->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue;	/* over 4 KiB: not a query */
		if (worker) {
			if (is_update(u->in[i], len)) {
				enqueue(fd, u->in[i], len, &u->peers[i], pl);
				continue;
			}
			r = dns_server_handle(&D->srv, u->in[i], len, 0, out, 65535, &outlen);
			if (r == DNS_RECURSE)
				enqueue(fd, u->in[i], len, &u->peers[i], pl);
		} else {
			r = handle(u->in[i], len, 0, out, &outlen, fd, &u->peers[i], pl, NULL);
		}
		if (r != DNS_ANSWER)
			continue;
		u->riov[nr].iov_base = out;
		u->riov[nr].iov_len = outlen;
		u->replies[nr].msg_hdr.msg_iov = &u->riov[nr];
		u->replies[nr].msg_hdr.msg_iovlen = 1;
		u->replies[nr].msg_hdr.msg_name = &u->peers[i];
		u->replies[nr].msg_hdr.msg_namelen = pl;
		nr++;
	}
	if (worker)
		pthread_rwlock_unlock(&D->lock);
	if (nr)
		sendmmsg(fd, u->replies, (unsigned)nr, 0);
	return n;
}

static struct udpbuf *
udpbuf_new(void)
{
	struct udpbuf *u = xcalloc(1, sizeof(*u));

	u->outs = xmalloc((size_t)BATCH * 65535);
	return u;
}

static void
on_udp(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	static struct udpbuf *u;

	if (!u)
		u = udpbuf_new();
	udp_batch(u, fd, 0);
}

static void *
udp_worker(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct udpbuf *u = udpbuf_new();

	for (;;)
		if (udp_batch(u, fd, 1) < 0 && errno != EINTR && errno != EAGAIN) {
			log_warn("udp worker");
			break;
		}
	return NULL;
}

static void
main_udp(int fd, const uint8_t *pkt, size_t len, const struct sockaddr_storage *peer,
	 socklen_t peerlen)
{
	uint8_t out[65535];
	size_t outlen = 0;
	int upd = is_update(pkt, len), r;

	if (upd)
		pthread_rwlock_wrlock(&D->lock);
	r = handle(pkt, len, 0, out, &outlen, fd, peer, peerlen, NULL);
	if (upd)
		pthread_rwlock_unlock(&D->lock);
	if (r == DNS_ANSWER)
		sendto(fd, out, outlen, MSG_DONTWAIT, (const struct sockaddr *)peer, peerlen);
}

static void
conn_free(struct tcpconn *c)
{
	if (c->io)
		ev_del(c->io);
	if (c->idle)
		ev_del(c->idle);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
	D->nconns--;
}

/* Write what is queued; a closing connection goes once its answers are
 * out (or cannot be written) and none is still being resolved. */
static void
conn_flush(struct tcpconn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN)
				break;
			buf_reset(&c->out);	/* the peer is gone */
			c->closing = 1;
			break;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->closing && !c->out.len && !c->inflight) {
		conn_free(c);
		return;
	}
	if (c->io)
		ev_io_set(c->io, (c->closing ? 0 : EPOLLIN) | (c->out.len ? EPOLLOUT : 0));
}

/* Pipelined queries, answered as they complete (maybe out of order);
 * at most 64 waiting on the resolver per connection. */
static void
process_input(struct tcpconn *c)
{
	while (c->in.len >= 2 && c->inflight < 64) {
		size_t want = (size_t)((uint8_t)c->in.data[0] << 8 | (uint8_t)c->in.data[1]);
		size_t outlen = 0;

		if (c->in.len < want + 2)
			break;
		int upd = is_update((const uint8_t *)c->in.data + 2, want), r;

		if (upd)
			pthread_rwlock_wrlock(&D->lock);
		r = handle((const uint8_t *)c->in.data + 2, want, 1, D->out + 2, &outlen, -1, NULL, 0, c);
		if (upd)
			pthread_rwlock_unlock(&D->lock);
		if (r == DNS_ANSWER) {
			D->out[0] = (uint8_t)(outlen >> 8);
			D->out[1] = (uint8_t)outlen;
			buf_add(&c->out, D->out, outlen + 2);
		}
		buf_consume(&c->in, want + 2);
	}
}

static void
on_idle(struct ev_handle *h, uint64_t n, void *arg)
{
	struct tcpconn *c = arg;

	c->idle = NULL;
	ev_del(h);
	log_debug("closing an idle TCP connection");
	c->closing = 1;
	conn_flush(c);
}

static void
on_conn(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct tcpconn *c = arg;
	int eof = 0;

	if (events & EPOLLOUT)
		conn_flush(c);
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		ssize_t n;

		if (buf_reserve(&c->in, 4096) < 0)
			goto close;
		n = recv(fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			goto close;
		if (n == 0) {
			/* The client is done sending: answer what it sent, then close. */
			eof = 1;
			break;
		}
		c->in.len += (size_t)n;
		if (c->in.len > 2 * 65537)
			goto close;
	}
	ev_timer_set(c->idle, D->conf->tcp_idle_ms, 0);
	process_input(c);
	if (eof) {
		/* Nothing more to read: stop polling for it, finish the answers. */
		ev_io_set(c->io, c->out.len ? EPOLLOUT : 0);
		c->closing = 1;
	}
	conn_flush(c);
	return;
close:
	c->closing = 1;
	conn_flush(c);
}

static void
on_accept(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcpconn *c;

		if (cfd < 0)
			return;
		if (D->nconns >= D->conf->tcp_clients) {
			close(cfd);	/* over the limit: the client retries later */
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		if (peer.ss_family == AF_INET)
			c->local = ((const uint8_t *)&((struct sockaddr_in *)&peer)->sin_addr)[0] == 127;
		else if (peer.ss_family == AF_INET6)
			c->local = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&peer)->sin6_addr);
		c->io = ev_io_add(D->ev, cfd, EPOLLIN, on_conn, c);
		c->idle = ev_timer_add(D->ev, D->conf->tcp_idle_ms, 0, on_idle, c);
		D->nconns++;
		if (!c->io || !c->idle) {
			c->closing = 1;
			conn_free(c);
		}
	}
}

static int
listen_on(const struct dns_addr *a, int type, int shared)
{
	int fd = socket(a->sa.ss_family, type | (shared ? 0 : SOCK_NONBLOCK) | SOCK_CLOEXEC, 0),
	    one = 1;
	char s[80];

	if (fd < 0)
		die_errno("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* One socket per UDP worker: the kernel spreads clients over them. */
	if (shared)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (a->sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0)
		die_errno("listen on %s (%s)", dns_addr_str(a, s, sizeof(s)),
			  type == SOCK_DGRAM ? "udp" : "tcp");
	if (type == SOCK_STREAM && listen(fd, 128) < 0)
		die_errno("listen on %s", dns_addr_str(a, s, sizeof(s)));
	return fd;
}

static void
compact_journals(void)
{
	struct dns_zone *z;

	for (z = D->srv.zones; z; z = z->next)
		if (z->dynamic && z->journal_lines && dns_journal_compact(z) < 0)
			log_warn("compacting %s", z->journal);
}

/* ---- DHCP ---- */

static void
dhcp_register(struct dhcpd *d, const char *name, uint32_t ip, int bound)
{
	struct dns_name n;
	uint8_t a[4] = { (uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip };
	int r;

	if (!*name || dns_name_prepend(&n, name, strlen(name), &d->zone) < 0)
		return;
	pthread_rwlock_wrlock(&D->lock);
	r = dns_server_register(&D->srv, &n, bound ? a : NULL, 4, 300);
	pthread_rwlock_unlock(&D->lock);
	if (r < 0)
		log_warn("registering %s", name);
	else
		log_info("%s %s.%s %u.%u.%u.%u", bound ? "registered" : "unregistered", name,
			 d->pool.ifname, a[0], a[1], a[2], a[3]);
}

static void
on_dhcp(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct dhcpd *d = arg;
	uint8_t in[1500], out[1500];
	struct sockaddr_in from, to;
	socklen_t fl = sizeof(from);
	struct dhcp_msg m;
	struct dhcp_event ev;
	uint32_t dst;
	ssize_t n;
	size_t len;

	n = recvfrom(fd, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n <= 0 || dhcp_parse(in, (size_t)n, &m) < 0)
		return;
	len = dhcp_handle(&d->pool, &m, (uint64_t)time(NULL), out, sizeof(out), &dst, &ev);
	if (ev.bound >= 0)
		dhcp_register(d, ev.name, ev.ip, ev.bound);
	if (!len)
		return;
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(68);
	to.sin_addr.s_addr = htonl(dst);
	if (sendto(fd, out, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_warn("dhcp reply on %s", d->pool.ifname);
}

static void
expired(const struct dhcp_lease *l, void *arg)
{
	dhcp_register(arg, l->name, l->ip, 0);
}

static void
on_dhcp_timer(struct ev_handle *h, uint64_t n, void *arg)
{
	int i;

	for (i = 0; i < D->ndhcp; i++)
		dhcp_expire(&D->dhcp[i].pool, (uint64_t)time(NULL), expired, &D->dhcp[i]);
}

/* The first IPv4 address of an interface, from the kernel. */
static int
iface_v4(const char *ifname, uint32_t *addr, int *plen)
{
	struct nl_sock nl;
	struct nl_addr_info *a = NULL;
	struct nl_err err;
	size_t n = 0, i;
	unsigned idx = if_nametoindex(ifname);
	int r = -1;

	if (!idx || nl_open(&nl, NETLINK_ROUTE) < 0)
		return -1;
	if (nl_addr_dump(&nl, AF_INET, &a, &n, &err) == 0)
		for (i = 0; i < n; i++)
			if (a[i].index == (int)idx) {
				*addr = ipaddr_v4(&a[i].addr);
				*plen = a[i].addr.plen;
				r = 0;
				break;
			}
	free(a);
	nl_close(&nl);
	return r;
}

static void
setup_dhcp(void)
{
	const struct conf *cf = &D->conf->raw;
	size_t i;

	for (i = 0; i < cf->nsect; i++) {
		const struct conf_section *sec = &cf->sect[i];
		struct dhcpd *d;
		struct conf_err err;
		uint32_t addr;
		int plen, one = 1, fd;
		struct sockaddr_in sa;
		char t[DNS_NAME_TEXT];
		uint8_t net[4];

		if (strcasecmp(sec->name, "dhcp"))
			continue;
		if (iface_v4(sec->arg, &addr, &plen) < 0)
			die("[dhcp %s]: the interface has no IPv4 address (or does not exist)", sec->arg);
		D->dhcp = xrealloc(D->dhcp, (size_t)(D->ndhcp + 1) * sizeof(*D->dhcp));
		d = &D->dhcp[D->ndhcp];
		memset(d, 0, sizeof(*d));
		if (dhcp_pool_config(&d->pool, cf, sec, addr, plen, &err) < 0)
			die("%s:%d: %s", err.file, err.line, err.msg);
		dns_name_prepend(&d->zone, sec->arg, strlen(sec->arg), &D->conf->host_zone);
		if (!d->pool.domain[0]) {
			dns_name_to_text(&d->zone, t);
			t[strlen(t) - 1] = '\0';
			str_copy(d->pool.domain, t, sizeof(d->pool.domain));
		}
		snprintf(d->pool.path, sizeof(d->pool.path), "%.300s/dhcp-%s.leases", D->conf->state,
			 sec->arg);
		dhcp_leases_load(&d->pool, (uint64_t)time(NULL));
		/* The reverse zone of the interface's /24 (or wider) prefix. */
		net[0] = (uint8_t)(addr >> 24);
		net[1] = (uint8_t)(addr >> 16);
		net[2] = (uint8_t)(addr >> 8);
		net[3] = 0;
		snprintf(t, sizeof(t), "%u.%u.%u.in-addr.arpa.", net[2], net[1], net[0]);
		if (dns_name_from_text(&d->rev, t, NULL) < 0 ||
		    !dns_conf_zone(D->conf, &D->srv, &d->rev, &err))
			die("reverse zone %s: %s", t, err.msg);
		dns_server_sync_ptrs(&D->srv);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die_errno("dhcp socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
		if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, sec->arg, (socklen_t)strlen(sec->arg) + 1) < 0)
			die_errno("dhcp on %s", sec->arg);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons(67);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die_errno("dhcp on %s: port 67", sec->arg);
		d->fd = fd;
		D->ndhcp++;
		log_info("dhcp on %s: %u.%u.%u.%u-%u.%u.%u.%u", sec->arg, d->pool.start >> 24,
			 (d->pool.start >> 16) & 255, (d->pool.start >> 8) & 255, d->pool.start & 255,
			 d->pool.end >> 24, (d->pool.end >> 16) & 255, (d->pool.end >> 8) & 255,
			 d->pool.end & 255);
	}
}

/* ---- router advertisements ---- */

static void
on_ra_timer(struct ev_handle *h, uint64_t n, void *arg)
{
	struct rad *r = arg;
	uint32_t jitter = 0;

	if (ra_send(r->fd, &r->rc, NULL) < 0) {
		/* Until the link-local address is ready (DAD), try again soon. */
		if (errno == EADDRNOTAVAIL) {
			ev_timer_set(h, 1000, 0);
			return;
		}
		log_warn("router advertisement on %s", r->rc.ifname);
	}
	/* RFC 4861 6.2.4: uniformly between 3/4 and all of the interval. */
	rand_uniform(r->rc.interval_ms / 4 + 1, &jitter);
	ev_timer_set(h, r->rc.interval_ms - jitter, 0);
}

static void
on_rs(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct rad *r = arg;
	uint8_t buf[1500];
	union {
		char c[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	int hops = -1;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.c;
	mh.msg_controllen = sizeof(u.c);
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n <= 0)
		return;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)
			memcpy(&hops, CMSG_DATA(c), sizeof(hops));
	if (ra_is_solicit(buf, (size_t)n, hops) && ra_send(fd, &r->rc, NULL) < 0)
		log_warn("router advertisement on %s", r->rc.ifname);
}

static void
setup_ra(void)
{
	const struct conf *cf = &D->conf->raw;
	struct nl_sock nl;
	struct nl_addr_info *a = NULL;
	struct nl_link_info *links = NULL;
	struct nl_err nerr;
	size_t na = 0, nlinks = 0, i, k;

	if (!conf_section_find(cf, "ra", NULL))
		return;
	if (nl_open(&nl, NETLINK_ROUTE) < 0 || nl_addr_dump(&nl, AF_INET6, &a, &na, &nerr) < 0 ||
	    nl_link_dump(&nl, &links, &nlinks, &nerr) < 0)
		die("reading interface addresses: %s", strerror(errno));
	nl_close(&nl);
	for (i = 0; i < cf->nsect; i++) {
		const struct conf_section *sec = &cf->sect[i];
		uint8_t addrs[8][16];
		int naddrs = 0, idx;
		char zone[DNS_NAME_TEXT], dom[DNS_NAME_TEXT];
		const char *domains[2] = { zone, dom };
		struct dns_name iz;
		struct conf_err err;
		struct rad *r;

		if (strcasecmp(sec->name, "ra"))
			continue;
		idx = (int)if_nametoindex(sec->arg);
		for (k = 0; k < na && naddrs < 8; k++)
			if (a[k].index == idx && a[k].scope == 0 && a[k].addr.plen == 64)
				memcpy(addrs[naddrs++], a[k].addr.a, 16);
		dns_name_prepend(&iz, sec->arg, strlen(sec->arg), &D->conf->host_zone);
		dns_name_to_text(&iz, zone);
		zone[strlen(zone) - 1] = '\0';
		dns_name_to_text(&D->conf->domain, dom);
		dom[strlen(dom) - 1] = '\0';
		D->ra = xrealloc(D->ra, (size_t)(D->nra + 1) * sizeof(*D->ra));
		r = &D->ra[D->nra];
		memset(r, 0, sizeof(*r));
		if (ra_conf_parse(&r->rc, cf, sec, (const uint8_t (*)[16])addrs, naddrs, domains, 2, &err) < 0)
			die("%s:%d: %s", err.file, err.line, err.msg);
		for (k = 0; k < nlinks; k++)
			if (links[k].index == idx && links[k].maclen == 6) {
				memcpy(r->rc.mac, links[k].mac, 6);
				r->rc.have_mac = 1;
			}
		r->fd = ra_socket(&r->rc);
		if (r->fd < 0)
			die_errno("router advertisements on %s", sec->arg);
		D->nra++;
		log_info("router advertisements on %s", sec->arg);
	}
	free(a);
	free(links);
}

/* ---- mDNS ---- */

static const struct dns_zone *
mdns_zone(void *arg)
{
	struct dns_name *zn = arg;
	struct dns_zone *z;

	/* looked up each time: a reload replaces the zones */
	for (z = D->srv.zones; z; z = z->next)
		if (dns_name_equal(&z->origin, zn))
			return z;
	return NULL;
}

static void
setup_mdns(void)
{
	const struct conf *cf = &D->conf->raw;
	size_t i;
	int n = 0;

	for (i = 0; i < cf->nsect; i++)
		n += !strcasecmp(cf->sect[i].name, "mdns");
	if (!n)
		return;
	D->mdns = xcalloc((size_t)n, sizeof(*D->mdns));
	for (i = 0; i < cf->nsect; i++) {
		const struct conf_section *sec = &cf->sect[i];
		struct mdnsd *md = &D->mdns[D->nmdns];
		struct conf_err err;

		if (strcasecmp(sec->name, "mdns"))
			continue;
		dns_name_prepend(&md->zone, sec->arg, strlen(sec->arg), &D->conf->host_zone);
		md->m = mdns_new(D->ev, cf, sec, D->conf->host, mdns_zone, &md->zone, &err);
		if (!md->m)
			die("%s:%d: %s", err.file, err.line, err.msg);
		D->nmdns++;
	}
}

static void
on_hup(struct ev_handle *h, int signo, void *arg)
{
	struct dns_conf *nc = xcalloc(1, sizeof(*nc));
	struct dns_server ns;
	struct conf_err err;
	int i;

	log_info("reloading %s", D->conf_path);
	compact_journals();
	if (dns_conf_load(nc, D->conf_path, &err) < 0 || dns_conf_build(nc, &ns, &err) < 0) {
		log_warnx("%s:%d: %s (keeping the running configuration)", err.file, err.line,
			  err.msg);
		free(nc);
		return;
	}
	if (nc->nlisten != D->conf->nlisten ||
	    memcmp(nc->listen, D->conf->listen, sizeof(nc->listen[0]) * (size_t)nc->nlisten))
		log_warnx("listen addresses changed: they take effect on restart");
	/* The zones DHCP made for itself are not in the file: make them again. */
	for (i = 0; i < D->ndhcp; i++)
		if (!dns_conf_zone(nc, &ns, &D->dhcp[i].rev, &err))
			log_warnx("%s", err.msg);
	dns_server_sync_ptrs(&ns);
	pthread_rwlock_wrlock(&D->lock);
	dns_server_free(&D->srv);
	D->srv = ns;
	pthread_rwlock_unlock(&D->lock);
	if (D->res)
		dns_resolver_reconfigure(D->res, nc, &D->srv);
	dns_conf_free(D->conf);
	free(D->conf);
	D->conf = nc;
	log_info("reloaded");
}

/* SIGUSR1: what the resolver has done, one line. */
static void
on_usr1(struct ev_handle *h, int signo, void *arg)
{
	struct dns_resolver_stats st;

	if (!D->res) {
		log_info("stats: no resolver");
		return;
	}
	dns_resolver_stats(D->res, &st);
	log_info("stats: queries %llu hits %llu misses %llu upstream %llu coalesced %llu "
		 "dropped-public %llu failures %llu cached %zu",
		 (unsigned long long)st.queries, (unsigned long long)st.hits,
		 (unsigned long long)st.misses, (unsigned long long)st.upstream,
		 (unsigned long long)st.coalesced, (unsigned long long)st.dropped_public,
		 (unsigned long long)st.failures, st.entries);
}

static void
on_term(struct ev_handle *h, int signo, void *arg)
{
	log_info("exiting on signal %d", signo);
	ev_break(D->ev);
}

/* Give up root once every socket is open; the state directory becomes
 * the user's so journals stay writable. */
static void
drop_privileges(const char *user, const char *state)
{
	struct passwd *pw;

	if (geteuid() != 0 || !*user || !strcmp(user, "root"))
		return;
	pw = getpwnam(user);
	if (!pw)
		die("user %s: no such user", user);
	if (chown(state, pw->pw_uid, pw->pw_gid) < 0)
		log_warn("chown %s", state);
	{
		struct dns_zone *z;

		for (z = D->srv.zones; z; z = z->next)
			if (z->journal[0] && chown(z->journal, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
				log_warn("chown %s", z->journal);
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		die_errno("dropping privileges to %s", user);
	if (setuid(0) == 0)
		die("could still regain root after dropping to %s", user);
	/* Journals and leases must stay writable: find out now, not at the
	 * first update. */
	if (access(state, W_OK | X_OK) < 0)
		die("%s: not writable as %s (its parent folders must be searchable too)", state, user);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	log_info("running as %s", user);
}

static int
serve(int argc, char **argv)
{
	struct conf_err err;
	int fg = 0, check = 0, verbose = 0, i;
	const char *path = DNS_CONF;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d"))
			fg = 1;
		else if (!strcmp(argv[i], "-n"))
			check = 1;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "-vv"))
			verbose += (int)strlen(argv[i]) - 1;
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			path = argv[++i];
		else
			die_usage("serve: unknown argument \"%s\"", argv[i]);
	}
	log_set_verbose(verbose);
	D = xcalloc(1, sizeof(*D));
	D->conf_path = path;
	D->conf = xcalloc(1, sizeof(*D->conf));
	if (dns_conf_load(D->conf, path, &err) < 0) {
		if (err.line)
			die("%s:%d: %s", err.file, err.line, err.msg);
		die("%s: %s", err.file, err.msg);
	}
	if (check) {
		struct buf out = BUF_INIT;

		/* Zone files and journals are part of the configuration too. */
		if (dns_conf_build(D->conf, &D->srv, &err) < 0) {
			if (err.line)
				die("%s:%d: %s", err.file, err.line, err.msg);
			die("%s: %s", err.file, err.msg);
		}
		dns_server_free(&D->srv);
		dns_conf_print(D->conf, &out);
		fputs(buf_cstr(&out), stdout);
		buf_free(&out);
		return 0;
	}
	if (fs_mkdir_p(D->conf->state, 0755) < 0)
		die_errno("%s", D->conf->state);
	if (dns_conf_build(D->conf, &D->srv, &err) < 0) {
		if (err.line)
			die("%s:%d: %s", err.file, err.line, err.msg);
		die("%s: %s", err.file, err.msg);
	}
	compact_journals();
	for (i = 0; i < D->conf->nlisten; i++) {
		unsigned k;

		D->fds[D->nfds++] = listen_on(&D->conf->listen[i], SOCK_DGRAM, D->conf->udp_workers > 0);
		D->fds[D->nfds++] = listen_on(&D->conf->listen[i], SOCK_STREAM, 0);
		/* Every worker's socket is bound now, while we may still bind port 53. */
		for (k = 0; k < D->conf->udp_workers; k++) {
			D->workfds = xrealloc(D->workfds, (size_t)(D->nworkfds + 1) * sizeof(int));
			D->workfds[D->nworkfds++] = k == 0 ? D->fds[D->nfds - 2] :
					listen_on(&D->conf->listen[i], SOCK_DGRAM, 1);
		}
	}
	setup_dhcp();
	setup_ra();
	/* To the background before the event loop exists: a signalfd that an
	 * epoll set watched before a fork never wakes it for the child's
	 * signals (SIGTERM would be lost). */
	if (!fg) {
		char logpath[300];
		pid_t pid;

		snprintf(logpath, sizeof(logpath), "%s/dns.log", D->conf->state);
		pid = spawn_daemon(logpath);
		if (pid < 0)
			die_errno("fork");
		if (pid > 0)
			_exit(0);
		log_set_timestamps(1);
	}
	D->ev = ev_new();
	if (!D->ev)
		die_errno("event loop");
	pthread_rwlock_init(&D->lock, NULL);
	pthread_mutex_init(&D->qlock, NULL);
	D->qtail = &D->queue;
	D->qfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (D->qfd < 0 || !ev_io_add(D->ev, D->qfd, EPOLLIN, on_queue, NULL))
		die_errno("event loop");
	for (i = 0; i < D->ndhcp; i++)
		if (!ev_io_add(D->ev, D->dhcp[i].fd, EPOLLIN, on_dhcp, &D->dhcp[i]))
			die_errno("event loop");
	if (D->ndhcp)
		ev_unref(ev_timer_add(D->ev, 30000, 30000, on_dhcp_timer, NULL));
	for (i = 0; i < D->nra; i++) {
		if (!ev_io_add(D->ev, D->ra[i].fd, EPOLLIN, on_rs, &D->ra[i]))
			die_errno("event loop");
		/* the first one soon, then every interval */
		D->ra[i].timer = ev_timer_add(D->ev, 100, 0, on_ra_timer, &D->ra[i]);
		ev_unref(D->ra[i].timer);
	}
	for (i = 0; i < D->nfds; i++)
		if (!(i % 2) && D->conf->udp_workers)
			continue;	/* UDP belongs to the workers */
		else if (!ev_io_add(D->ev, D->fds[i], EPOLLIN, i % 2 ? on_accept : on_udp, NULL))
			die_errno("event loop");
	if (D->conf->recurse) {
		D->res = dns_resolver_new(D->ev, D->conf, &D->srv);
		if (!D->res)
			die_errno("resolver");
	}
	setup_mdns();
	ev_unref(ev_signal_add(D->ev, SIGHUP, on_hup, NULL));
	ev_unref(ev_signal_add(D->ev, SIGUSR1, on_usr1, NULL));
	ev_signal_add(D->ev, SIGTERM, on_term, NULL);
	ev_signal_add(D->ev, SIGINT, on_term, NULL);
	signal(SIGPIPE, SIG_IGN);
	drop_privileges(D->conf->user, D->conf->state);
	{
		struct dns_zone *z;
		int k = 0;

		for (z = D->srv.zones; z; z = z->next)
			k++;
		log_info("serving %d zone(s) on %d address(es)%s", k, D->conf->nlisten,
			 D->conf->recurse ? ", resolving" : "");
	}
	/* Workers start last: they inherit the blocked signals and the
	 * dropped privileges. */
	for (i = 0; i < D->nworkfds; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, udp_worker, (void *)(intptr_t)D->workfds[i]) != 0)
			die("cannot start UDP worker threads");
		pthread_detach(t);
	}
	ev_run(D->ev);
	for (i = 0; i < D->nmdns; i++)
		mdns_free(D->mdns[i].m);	/* goodbye packets */
	compact_journals();
	return 0;
}

/* ---- clients ---- */

struct client {
	struct dns_client c;
	const char *zone;
	uint32_t ttl;
};

static void
name_arg(const char *s, struct dns_name *n)
{
	char abs[300];

	if (dns_name_from_text(n, s, NULL) == 0)
		return;
	snprintf(abs, sizeof(abs), "%.250s.", s);
	if (dns_name_from_text(n, abs, NULL) < 0)
		die("%s: not a domain name", s);
}

static int
update(struct client *cl, int add, char **argv, int argc)
{
	uint8_t rd[65535];
	struct dns_name name, zone;
	struct dns_update_rr rr;
	uint16_t type = DNS_T_ANY;
	size_t rdlen = 0;
	char e[200], t[DNS_NAME_TEXT];
	int rcode;

	if (!cl->c.have_key)
		die("no key: --key hmac-sha256:NAME:SECRET, --key-file FILE, $LAB_DNS_KEY or " DNS_KEYFILE);
	name_arg(argv[0], &name);
	if (argc >= 2 && dns_type_from_text(argv[1], &type) < 0)
		die("%s: unknown record type", argv[1]);
	if (argc >= 3 &&
	    dns_rdata_from_text(type, argv + 2, (size_t)(argc - 2), &name, rd, sizeof(rd), &rdlen, e,
				sizeof(e)) < 0)
		die("%s", e);
	if (cl->zone)
		name_arg(cl->zone, &zone);
	else if (dns_client_find_zone(&cl->c, &name, &zone) < 0)
		die("%s", cl->c.err);
	rr.name = &name;
	rr.type = type;
	rr.ttl = cl->ttl;
	rr.rdata = rd;
	rr.rdlen = (uint16_t)rdlen;
	if (add)
		rr.class = DNS_C_IN;
	else if (argc >= 3)
		rr.class = DNS_C_NONE;
	else {
		rr.class = DNS_C_ANY;
		rr.rdata = NULL;
		rr.rdlen = 0;
	}
	if (dns_client_update(&cl->c, &zone, &rr, 1, &rcode) < 0) {
		if (rcode > 0)
			die("%s: %s", dns_name_to_text(&name, t), dns_rcode_name(rcode));
		die("%s", cl->c.err);
	}
	return 0;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the lines of out from offset from on. */
static void
sort_lines(struct buf *out, size_t from)
{
	char *lines[8192], *copy, *p;
	size_t n = 0, i;

	if (from >= out->len)
		return;
	copy = xstrdup(out->data + from);
	for (p = strtok(copy, "\n"); p && n < 8192; p = strtok(NULL, "\n"))
		lines[n++] = p;
	qsort(lines, n, sizeof(char *), cmp_line);
	buf_truncate(out, from);
	for (i = 0; i < n; i++)
		buf_addf(out, "%s\n", lines[i]);
	free(copy);
}

static int
list_zone(struct client *cl, const char *zarg)
{
	uint8_t q[512], a[65535];
	struct dns_name zone;
	struct dns_w w;
	struct dns_msg m;
	struct buf out = BUF_INIT;
	ssize_t n;
	size_t i, mark = 0;

	if (zarg)
		name_arg(zarg, &zone);
	else {
		char host[64];
		struct dns_name dom;

		if (gethostname(host, sizeof(host)) < 0)
			die_errno("hostname");
		host[strcspn(host, ".")] = '\0';
		dns_name_from_text(&dom, "home.arpa.", NULL);
		if (dns_name_prepend(&zone, host, strlen(host), &dom) < 0)
			die("%s: bad host name", host);
	}
	dns_w_init(&w, q, sizeof(q), sizeof(q));
	dns_w_header(&w, 0, 0);
	dns_w_question(&w, &zone, DNS_T_AXFR, DNS_C_IN);
	n = dns_client_exchange(&cl->c, q, dns_w_finish(&w), a, sizeof(a), 1);
	if (n < 0)
		die("%s", cl->c.err);
	if (dns_msg_parse(&m, a, (size_t)n) < 0)
		die("malformed zone transfer");
	if (DNS_RCODE(m.flags))
		die("zone transfer refused (%s)", dns_rcode_name(DNS_RCODE(m.flags)));
	for (i = 0; i < m.nrr; i++) {
		uint8_t rd[65535];
		size_t rdlen;

		if (m.rr[i].type == DNS_T_SOA && i > 0)
			break;	/* the closing SOA */
		if (i == 1)
			mark = out.len;	/* everything after the SOA gets sorted */
		if (dns_rdata_unpack(m.rr[i].type, a, (size_t)n, m.rr[i].rdoff, m.rr[i].rdlen, rd,
				     sizeof(rd), &rdlen) < 0)
			continue;
		dns_rr_print(&out, &m.rr[i].name, m.rr[i].ttl, m.rr[i].type, rd, (uint16_t)rdlen);
		buf_addc(&out, '\n');
	}
	dns_msg_free(&m);
	sort_lines(&out, mark);
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	return 0;
}

static int
client(int argc, char **argv)
{
	struct client cl;
	const char *keyarg = NULL, *keyfile = NULL, *cmd = argv[1];
	char *pos[64];
	int npos = 0, i;

	memset(&cl, 0, sizeof(cl));
	cl.ttl = 3600;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--key-file") && i + 1 < argc)
			keyfile = argv[i + 1];
	}
	/* $LAB_DNS_SERVER, $LAB_DNS_KEY, then the key file; ls needs no key */
	if (dns_client_init(&cl.c, keyfile) < 0 && strcmp(cmd, "ls"))
		die("%s", cl.c.err);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--server") && i + 1 < argc) {
			if (dns_addr_parse(argv[++i], 53, &cl.c.server) < 0)
				die("--server %s: expected ADDRESS[:PORT]", argv[i]);
		} else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
			keyarg = argv[++i];
		} else if (!strcmp(argv[i], "--key-file") && i + 1 < argc) {
			i++;
		} else if (!strcmp(argv[i], "--zone") && i + 1 < argc) {
			cl.zone = argv[++i];
		} else if (!strcmp(argv[i], "--ttl") && i + 1 < argc) {
			if (str_to_u32(argv[++i], 0x7fffffff, &cl.ttl) < 0)
				die_usage("--ttl %s: expected seconds", argv[i]);
		} else if (npos < 63) {
			pos[npos++] = argv[i];
		}
	}
	if (keyarg) {
		if (dns_key_parse(keyarg, &cl.c.key) < 0)
			die("--key: expected hmac-sha256:NAME:SECRET");
		cl.c.have_key = 1;
	}
	if (!strcmp(cmd, "add")) {
		if (npos < 3)
			die_usage("add needs NAME TYPE DATA");
		return update(&cl, 1, pos, npos);
	}
	if (!strcmp(cmd, "rm")) {
		if (npos < 1)
			die_usage("rm needs NAME [TYPE [DATA]]");
		return update(&cl, 0, pos, npos);
	}
	if (npos > 1)
		die_usage("ls takes [ZONE]");
	return list_zone(&cl, npos ? pos[0] : NULL);
}

int
dns_main(int argc, char **argv)
{
	if (argc < 2)
		die_usage("needs serve, add, rm or ls");
	if (!strcmp(argv[1], "serve"))
		return serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "add") || !strcmp(argv[1], "rm") || !strcmp(argv[1], "ls"))
		return client(argc, argv);
	die_usage("unknown action \"%s\"", argv[1]);
}
