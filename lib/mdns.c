/* mDNS responder with DNS-SD services. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns_zone.h"
#include "hash.h"
#include "log.h"
#include "mdns.h"
#include "nl_route.h"

#define MDNS_PORT 5353
#define MAX_SVC 16
#define HOST_TTL 120
#define OTHER_TTL 4500
#define CACHE_FLUSH 0x8000

struct svc {
	char base[64];		/* instance name as configured */
	char instance[64];	/* after renames */
	char type[64];		/* _http._tcp */
	uint16_t port;
	uint8_t txt[512];
	size_t txtlen;
	int renames;
};

enum { ST_PROBE, ST_ANNOUNCE, ST_READY };

struct mdns {
	struct ev *ev;
	char ifname[IFNAMSIZ];
	int ifindex;
	char base_host[64], host[64];
	int renames;
	struct svc svc[MAX_SVC];
	int nsvc;
	int fd4, fd6;
	struct ev_handle *h4, *h6, *timer;
	int state, step;
	mdns_zone_fn *zone;
	void *arg;
	uint8_t v4[8][4];
	int n4;
	uint8_t v6[8][16];
	int n6;
	uint8_t buf[9000];
};

/* ---- names and records ---- */

static int
local_name(struct dns_name *n, const char *a, const char *b)
{
	char t[300];

	if (b)
		snprintf(t, sizeof(t), "%s.%s.local.", a, b);
	else
		snprintf(t, sizeof(t), "%s.local.", a);
	return dns_name_from_text(n, t, NULL);
}

static void
refresh_addrs(struct mdns *m)
{
	struct nl_sock nl;
	struct nl_addr_info *a = NULL;
	struct nl_err err;
	size_t n = 0, i;

	if (nl_open(&nl, NETLINK_ROUTE) < 0)
		return;
	if (nl_addr_dump(&nl, AF_UNSPEC, &a, &n, &err) == 0) {
		m->n4 = m->n6 = 0;
		for (i = 0; i < n; i++) {
			if (a[i].index != m->ifindex)
				continue;
			if (a[i].addr.family == AF_INET && m->n4 < 8)
				memcpy(m->v4[m->n4++], a[i].addr.a, 4);
			else if (a[i].addr.family == AF_INET6 && m->n6 < 8)
				memcpy(m->v6[m->n6++], a[i].addr.a, 16);
		}
	}
	free(a);
	nl_close(&nl);
}

struct rrs {
	struct dns_w *w;
	int section;
	int legacy;
	int count;
};

static void
add(struct rrs *r, const struct dns_name *name, uint16_t type, int unique, uint32_t ttl,
    const uint8_t *rd, size_t len)
{
	uint16_t class = DNS_C_IN;

	if (r->legacy) {
		if (ttl > 10)
			ttl = 10;	/* RFC 6762 6.7 */
	} else if (unique) {
		class |= CACHE_FLUSH;
	}
	if (dns_w_rr(r->w, r->section, name, type, class, ttl, rd, (uint16_t)len) == 0)
		r->count++;
}

/* The records of name and type (ANY: all) that we hold. */
static void
records(struct mdns *m, const struct dns_name *q, uint16_t type, struct rrs *r)
{
	struct dns_name n, t;
	uint8_t rd[600];
	int i, k;

	/* this host */
	local_name(&n, m->host, NULL);
	if (dns_name_equal(q, &n)) {
		for (i = 0; i < m->n4 && (type == DNS_T_A || type == DNS_T_ANY); i++)
			add(r, &n, DNS_T_A, 1, HOST_TTL, m->v4[i], 4);
		for (i = 0; i < m->n6 && (type == DNS_T_AAAA || type == DNS_T_ANY); i++)
			add(r, &n, DNS_T_AAAA, 1, HOST_TTL, m->v6[i], 16);
		return;
	}
	/* guests: NAME.local from NAME.<interface zone> */
	if (dns_name_labels(q) == 2 && m->zone) {
		const struct dns_zone *z = m->zone(m->arg);
		struct dns_name gz;

		if (z && dns_name_prepend(&gz, (const char *)q->data + 1, q->data[0], &z->origin) == 0) {
			struct dns_node *node = dns_zone_find(z, &gz);
			struct dns_rrset *s;

			for (s = node ? node->sets : NULL; s; s = s->next) {
				struct dns_rdata *x;

				if ((s->type != DNS_T_A && s->type != DNS_T_AAAA) ||
				    (type != s->type && type != DNS_T_ANY))
					continue;
				for (x = s->rd; x; x = x->next)
					add(r, q, s->type, 1, HOST_TTL, x->data, x->len);
			}
		}
	}
	/* DNS-SD */
	local_name(&n, "_services._dns-sd._udp", NULL);
	if (dns_name_equal(q, &n) && (type == DNS_T_PTR || type == DNS_T_ANY)) {
		for (i = 0; i < m->nsvc; i++) {
			for (k = 0; k < i; k++)
				if (!strcasecmp(m->svc[k].type, m->svc[i].type))
					break;
			if (k < i)
				continue;	/* each type once */
			local_name(&t, m->svc[i].type, NULL);
			add(r, &n, DNS_T_PTR, 0, OTHER_TTL, t.data, t.len);
		}
	}
	for (i = 0; i < m->nsvc; i++) {
		struct svc *s = &m->svc[i];

		local_name(&t, s->type, NULL);
		local_name(&n, s->instance, s->type);
		if (dns_name_equal(q, &t) && (type == DNS_T_PTR || type == DNS_T_ANY))
			add(r, &t, DNS_T_PTR, 0, OTHER_TTL, n.data, n.len);
		if (!dns_name_equal(q, &n))
			continue;
		if (type == DNS_T_SRV || type == DNS_T_ANY) {
			struct dns_name h;

			local_name(&h, m->host, NULL);
			memset(rd, 0, 4);	/* priority 0, weight 0 */
			rd[4] = (uint8_t)(s->port >> 8);
			rd[5] = (uint8_t)s->port;
			memcpy(rd + 6, h.data, h.len);
			add(r, &n, DNS_T_SRV, 1, HOST_TTL, rd, 6 + h.len);
		}
		if (type == DNS_T_TXT || type == DNS_T_ANY)
			add(r, &n, DNS_T_TXT, 1, OTHER_TTL, s->txt, s->txtlen);
	}
}

/* Everything we announce. */
static void
all_records(struct mdns *m, struct rrs *r)
{
	struct dns_name n;
	int i;

	local_name(&n, m->host, NULL);
	records(m, &n, DNS_T_ANY, r);
	if (m->nsvc) {
		local_name(&n, "_services._dns-sd._udp", NULL);
		records(m, &n, DNS_T_PTR, r);
	}
	for (i = 0; i < m->nsvc; i++) {
		local_name(&n, m->svc[i].type, NULL);
		records(m, &n, DNS_T_PTR, r);
		local_name(&n, m->svc[i].instance, m->svc[i].type);
		records(m, &n, DNS_T_ANY, r);
	}
}

/* ---- answering ---- */

size_t
mdns_answer(struct mdns *m, const uint8_t *q, size_t len, int legacy, uint8_t *out, size_t cap)
{
	struct dns_w w;
	struct rrs r;
	size_t off = 12, i;
	unsigned qd;

	if (len < 12 || (q[2] & 0x80) || (q[2] & 0x78))
		return 0;	/* responses and non-queries */
	qd = (unsigned)(q[4] << 8 | q[5]);
	dns_w_init(&w, out, cap, legacy ? 512 : cap);
	dns_w_header(&w, legacy ? (uint16_t)(q[0] << 8 | q[1]) : 0, DNS_F_QR | DNS_F_AA);
	r.w = &w;
	r.section = 1;
	r.legacy = legacy;
	r.count = 0;
	for (i = 0; i < qd && i < 32; i++) {
		struct dns_name n;
		uint16_t type, class;

		if (dns_name_unpack(q, len, &off, &n) < 0 || off + 4 > len)
			return 0;
		type = (uint16_t)(q[off] << 8 | q[off + 1]);
		class = (uint16_t)(q[off + 2] << 8 | q[off + 3]) & 0x7fff;
		off += 4;
		if (class != DNS_C_IN && class != DNS_C_ANY)
			continue;
		if (legacy && i == 0)
			dns_w_question(&w, &n, type, DNS_C_IN);
		records(m, &n, type, &r);
	}
	if (!r.count)
		return 0;
	return dns_w_finish(&w);
}

static void
send_to(struct mdns *m, int v6, const uint8_t *p, size_t n, const struct sockaddr *to, socklen_t tl)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	int fd = v6 ? m->fd6 : m->fd4;

	if (fd < 0 || !n)
		return;
	if (!to) {
		if (v6) {
			memset(&a6, 0, sizeof(a6));
			a6.sin6_family = AF_INET6;
			a6.sin6_port = htons(MDNS_PORT);
			a6.sin6_scope_id = (uint32_t)m->ifindex;
			inet_pton(AF_INET6, "ff02::fb", &a6.sin6_addr);
			to = (struct sockaddr *)&a6;
			tl = sizeof(a6);
		} else {
			memset(&a4, 0, sizeof(a4));
			a4.sin_family = AF_INET;
			a4.sin_port = htons(MDNS_PORT);
			inet_pton(AF_INET, "224.0.0.251", &a4.sin_addr);
			to = (struct sockaddr *)&a4;
			tl = sizeof(a4);
		}
	}
	if (sendto(fd, p, n, MSG_DONTWAIT, to, tl) < 0)
		log_debug("mdns on %s: %s", m->ifname, strerror(errno));
}

/* ---- conflicts ---- */

static void start_probe(struct mdns *m);

/* A response from someone else that claims one of our unique names with
 * other data. */
static int
conflicts(struct mdns *m, const uint8_t *p, size_t len)
{
	struct dns_msg msg;
	struct dns_name host, inst;
	size_t i;
	int c = 0, k;

	if (dns_msg_parse(&msg, p, len) < 0)
		return 0;
	local_name(&host, m->host, NULL);
	for (i = 0; i < msg.nrr && !c; i++) {
		const struct dns_rr *rr = &msg.rr[i];

		if (dns_name_equal(&rr->name, &host) && (rr->type == DNS_T_A || rr->type == DNS_T_AAAA)) {
			int mine = 0;

			for (k = 0; k < m->n4; k++)
				mine |= rr->type == DNS_T_A && rr->rdlen == 4 &&
					!memcmp(p + rr->rdoff, m->v4[k], 4);
			for (k = 0; k < m->n6; k++)
				mine |= rr->type == DNS_T_AAAA && rr->rdlen == 16 &&
					!memcmp(p + rr->rdoff, m->v6[k], 16);
			if (!mine)
				c = 1;
		}
		for (k = 0; k < m->nsvc && !c; k++) {
			local_name(&inst, m->svc[k].instance, m->svc[k].type);
			if (dns_name_equal(&rr->name, &inst) && rr->type == DNS_T_SRV)
				c = 2 + k;
		}
	}
	dns_msg_free(&msg);
	return c;
}

static void
rename_after_conflict(struct mdns *m, int which)
{
	char t[64];

	if (which == 1) {
		m->renames++;
		snprintf(t, sizeof(t), "%.50s-%d", m->base_host, m->renames % 1000 + 1);
		str_copy(m->host, t, sizeof(m->host));
		log_info("mdns on %s: the name is taken, now %s.local", m->ifname, m->host);
	} else {
		struct svc *s = &m->svc[which - 2];

		s->renames++;
		snprintf(t, sizeof(t), "%.50s-%d", s->base, s->renames % 1000 + 1);
		str_copy(s->instance, t, sizeof(s->instance));
		log_info("mdns on %s: service name taken, now %s", m->ifname, s->instance);
	}
	start_probe(m);
}

static void
on_packet(struct ev_handle *h, int fd, uint32_t events, void *arg)
{
	struct mdns *m = arg;
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	uint8_t out[9000];
	ssize_t n;
	int v6 = fd == m->fd6, legacy, qu = 0;
	uint16_t port;
	size_t len;

	n = recvfrom(fd, m->buf, sizeof(m->buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 12)
		return;
	port = ntohs(from.ss_family == AF_INET ? ((struct sockaddr_in *)&from)->sin_port :
						((struct sockaddr_in6 *)&from)->sin6_port);
	if (m->buf[2] & 0x80) {	/* a response: does it take one of our names? */
		int c = conflicts(m, m->buf, (size_t)n);

		if (c)
			rename_after_conflict(m, c);
		return;
	}
	if (m->state == ST_PROBE)
		return;	/* not ours to answer for yet */
	legacy = port != MDNS_PORT;
	/* QU bit on the first question: answer unicast */
	{
		size_t off = 12;
		struct dns_name q;

		if (dns_name_unpack(m->buf, (size_t)n, &off, &q) == 0 && off + 4 <= (size_t)n)
			qu = m->buf[off + 2] & 0x80;
	}
	len = mdns_answer(m, m->buf, (size_t)n, legacy, out, sizeof(out));
	if (!len)
		return;
	if (legacy || qu)
		send_to(m, v6, out, len, (struct sockaddr *)&from, fl);
	else
		send_to(m, v6, out, len, NULL, 0);
}

/* ---- probing and announcing ---- */

static void
send_probe(struct mdns *m)
{
	uint8_t out[9000];
	struct dns_w w;
	struct dns_name n;
	struct rrs r;
	int i;

	dns_w_init(&w, out, sizeof(out), sizeof(out));
	dns_w_header(&w, 0, 0);
	local_name(&n, m->host, NULL);
	dns_w_question(&w, &n, DNS_T_ANY, (uint16_t)(DNS_C_IN | (m->step == 0 ? 0x8000 : 0)));
	for (i = 0; i < m->nsvc; i++) {
		local_name(&n, m->svc[i].instance, m->svc[i].type);
		dns_w_question(&w, &n, DNS_T_ANY, DNS_C_IN);
	}
	/* what we mean to claim, in the authority section */
	r.w = &w;
	r.section = 2;
	r.legacy = 1;	/* plain class, no cache-flush in probes */
	r.count = 0;
	local_name(&n, m->host, NULL);
	records(m, &n, DNS_T_ANY, &r);
	send_to(m, 0, out, dns_w_finish(&w), NULL, 0);
}

static void
announce(struct mdns *m, uint32_t ttl_zero)
{
	uint8_t out[9000];
	struct dns_w w;
	struct rrs r;

	dns_w_init(&w, out, sizeof(out), sizeof(out));
	dns_w_header(&w, 0, DNS_F_QR | DNS_F_AA);
	r.w = &w;
	r.section = 1;
	r.legacy = 0;
	r.count = 0;
	all_records(m, &r);
	if (ttl_zero) {
		/* goodbye: the same records with TTL 0 */
		size_t off = 12, k;

		for (k = 0; k < w.count[1]; k++) {
			struct dns_name n;

			if (dns_name_unpack(out, w.len, &off, &n) < 0 || off + 10 > w.len)
				break;
			memset(out + off + 4, 0, 4);
			off += 10 + (size_t)(out[off + 8] << 8 | out[off + 9]);
		}
	}
	send_to(m, 0, out, dns_w_finish(&w), NULL, 0);
	send_to(m, 1, out, w.len, NULL, 0);
}

static void
on_timer(struct ev_handle *h, uint64_t n, void *arg)
{
	struct mdns *m = arg;

	switch (m->state) {
	case ST_PROBE:
		if (m->step < 3) {
			send_probe(m);
			m->step++;
			ev_timer_set(h, 250, 0);
			return;
		}
		m->state = ST_ANNOUNCE;
		m->step = 0;
		/* fall through */
	case ST_ANNOUNCE:
		announce(m, 0);
		if (++m->step < 2) {
			ev_timer_set(h, 1000, 0);
			return;
		}
		m->state = ST_READY;
		log_info("mdns on %s: %s.local", m->ifname, m->host);
		ev_timer_set(h, 60000, 0);
		return;
	case ST_READY:
		refresh_addrs(m);
		ev_timer_set(h, 60000, 0);
		return;
	}
}

static void
start_probe(struct mdns *m)
{
	uint32_t d = 0;

	m->state = ST_PROBE;
	m->step = 0;
	refresh_addrs(m);
	rand_uniform(250, &d);	/* RFC 6762 8.1: a random 0-250 ms first */
	ev_timer_set(m->timer, d + 1, 0);
}

/* ---- set-up ---- */

static int
open4(struct mdns *m)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, ttl = 255;
	unsigned char loop = 0;
	struct sockaddr_in sa;
	struct ip_mreqn mr;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET, "224.0.0.251", &mr.imr_multiaddr);
	mr.imr_ifindex = m->ifindex;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(MDNS_PORT);
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, m->ifname, (socklen_t)strlen(m->ifname) + 1) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
open6(struct mdns *m)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, hops = 255,
	    loop = 0;
	struct sockaddr_in6 sa;
	struct ipv6_mreq mr;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	memset(&mr, 0, sizeof(mr));
	inet_pton(AF_INET6, "ff02::fb", &mr.ipv6mr_multiaddr);
	mr.ipv6mr_interface = (unsigned)m->ifindex;
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(MDNS_PORT);
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, m->ifname, (socklen_t)strlen(m->ifname) + 1) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &m->ifindex, sizeof(m->ifindex)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof(loop)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
valid_label(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    *s != '-' && *s != '_')
			return 0;
	return 1;
}

struct mdns *
mdns_new(struct ev *ev, const struct conf *cf, const struct conf_section *s, const char *host,
	 mdns_zone_fn *zone, void *arg, struct conf_err *err)
{
	struct mdns *m = calloc(1, sizeof(*m));
	const char *v;
	size_t i;

	if (!m) {
		conf_errf(err, cf->file, s->line, "out of memory");
		return NULL;
	}
	m->ev = ev;
	m->fd4 = m->fd6 = -1;
	m->zone = zone;
	m->arg = arg;
	str_copy(m->ifname, s->arg, sizeof(m->ifname));
	m->ifindex = (int)if_nametoindex(s->arg);
	if (!m->ifindex) {
		conf_errf(err, cf->file, s->line, "[mdns %s]: no such interface", s->arg);
		goto fail;
	}
	v = conf_get(s, "name");
	str_copy(m->base_host, v ? v : host, sizeof(m->base_host));
	if (!valid_label(m->base_host)) {
		conf_errf(err, cf->file, v ? conf_get_kv(s, "name")->line : s->line,
			  "name %.64s: one label of letters, digits, '-'", m->base_host);
		goto fail;
	}
	str_copy(m->host, m->base_host, sizeof(m->host));
	for (i = 0; i < s->nkv; i++) {
		const struct conf_kv *kv = &s->kv[i];
		char tmp[600], *w[32];
		struct svc *sv;
		uint32_t port;
		int n, k;

		if (strcasecmp(kv->key, "service"))
			continue;
		str_copy(tmp, kv->val, sizeof(tmp));
		n = dns_text_split(tmp, w, 32);
		if (m->nsvc >= MAX_SVC || n < 3 || !valid_label(w[0]) || strlen(w[1]) > 60 ||
		    w[1][0] != '_' || !strstr(w[1], "._") || str_to_u32(w[2], 65535, &port) < 0) {
			conf_errf(err, cf->file, kv->line,
				  "service %.64s: expected INSTANCE _TYPE._tcp PORT [KEY=VALUE...]", kv->val);
			goto fail;
		}
		sv = &m->svc[m->nsvc++];
		str_copy(sv->base, w[0], sizeof(sv->base));
		str_copy(sv->instance, w[0], sizeof(sv->instance));
		str_copy(sv->type, w[1], sizeof(sv->type));
		sv->port = (uint16_t)port;
		for (k = 3; k < n; k++) {
			size_t l = strlen(w[k]);

			if (l > 255 || sv->txtlen + 1 + l > sizeof(sv->txt))
				break;
			sv->txt[sv->txtlen++] = (uint8_t)l;
			memcpy(sv->txt + sv->txtlen, w[k], l);
			sv->txtlen += l;
		}
		if (!sv->txtlen)
			sv->txt[sv->txtlen++] = 0;	/* an empty TXT has one empty string */
	}
	m->fd4 = open4(m);
	if (m->fd4 < 0) {
		conf_errf(err, cf->file, s->line, "[mdns %s]: %s", s->arg, strerror(errno));
		goto fail;
	}
	m->fd6 = open6(m);	/* IPv6 is optional */
	m->h4 = ev_io_add(ev, m->fd4, EPOLLIN, on_packet, m);
	if (m->fd6 >= 0)
		m->h6 = ev_io_add(ev, m->fd6, EPOLLIN, on_packet, m);
	m->timer = ev_timer_add(ev, 1000, 0, on_timer, m);
	if (!m->h4 || !m->timer) {
		conf_errf(err, cf->file, s->line, "out of memory");
		goto fail;
	}
	ev_unref(m->timer);
	start_probe(m);
	return m;
fail:
	mdns_free(m);
	return NULL;
}

void
mdns_free(struct mdns *m)
{
	if (!m)
		return;
	if (m->state == ST_READY)
		announce(m, 1);
	if (m->h4)
		ev_del(m->h4);
	if (m->h6)
		ev_del(m->h6);
	if (m->timer)
		ev_del(m->timer);
	if (m->fd4 >= 0)
		close(m->fd4);
	if (m->fd6 >= 0)
		close(m->fd6);
	free(m);
}

const char *
mdns_host(const struct mdns *m)
{
	return m->host;
}
