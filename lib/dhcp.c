/* DHCPv4 server logic. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dhcp.h"
#include "fs.h"
#include "ipaddr.h"

#define COOKIE 0x63825363u
#define OFFER_SECS 60
#define DECLINE_SECS 3600

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A host name we will put in DNS: one label of letters, digits and '-'. */
static void
take_name(char *dst, const uint8_t *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o < 63; i++) {
		int c = tolower(p[i]);

		if (c == '.')
			break;
		if (!isalnum(c) && c != '-') {
			o = 0;
			break;
		}
		dst[o++] = (char)c;
	}
	if (o && (dst[0] == '-' || dst[o - 1] == '-'))
		o = 0;
	dst[o] = '\0';
}

int
dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m)
{
	size_t off = 240;

	memset(m, 0, sizeof(*m));
	if (len < 240 || p[0] != 1 || get32(p + 236) != COOKIE)
		goto bad;
	m->op = p[0];
	m->htype = p[1];
	m->hlen = p[2];
	if (m->hlen > 16)
		goto bad;
	m->xid = get32(p + 4);
	m->secs = (uint16_t)(p[8] << 8 | p[9]);
	m->flags = (uint16_t)(p[10] << 8 | p[11]);
	m->ciaddr = get32(p + 12);
	m->yiaddr = get32(p + 16);
	m->siaddr = get32(p + 20);
	m->giaddr = get32(p + 24);
	memcpy(m->chaddr, p + 28, 16);
	while (off < len) {
		uint8_t code = p[off], l;
		const uint8_t *v;

		if (code == 0) {
			off++;
			continue;
		}
		if (code == 255)
			break;
		if (off + 2 > len)
			goto bad;
		l = p[off + 1];
		if (off + 2 + l > len)
			goto bad;
		v = p + off + 2;
		switch (code) {
		case 53:
			if (l != 1)
				goto bad;
			m->type = v[0];
			break;
		case 50:
			if (l == 4)
				m->requested = get32(v);
			break;
		case 54:
			if (l == 4)
				m->server_id = get32(v);
			break;
		case 12:
			if (!m->hostname[0])
				take_name(m->hostname, v, l);
			break;
		case 81:
			/* flags, rcode1, rcode2, then the name: wire form with E (0x04) */
			if (l > 3) {
				if (v[0] & 0x04) {
					if (v[3] > 0 && (size_t)v[3] + 4 <= l)
						take_name(m->hostname, v + 4, v[3]);
				} else {
					take_name(m->hostname, v + 3, (size_t)l - 3);
				}
			}
			break;
		case 55:
			m->params = v;
			m->nparams = l;
			break;
		case 61:
			m->client_id = v;
			m->client_id_len = l;
			break;
		}
		off += 2 + (size_t)l;
	}
	if (m->type < DHCP_DISCOVER || m->type > DHCP_INFORM)
		goto bad;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

/* ---- configuration ---- */

static int
parse_v4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6 ||
	    strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int
dhcp_pool_config(struct dhcp_pool *p, const struct conf *cf, const struct conf_section *s,
		 uint32_t ifaddr, int plen, struct conf_err *err)
{
	uint32_t net;
	size_t i;
	const char *v;

	memset(p, 0, sizeof(*p));
	str_copy(p->ifname, s->arg, sizeof(p->ifname));
	p->server = ifaddr;
	p->netmask = plen ? ~0u << (32 - plen) : 0;
	net = ifaddr & p->netmask;
	if (plen == 24) {
		p->start = net + 100;
		p->end = net + 200;
	} else {
		uint32_t size = ~p->netmask + 1;

		p->start = net + size / 2;
		p->end = net + size - 2;
	}
	p->router = ifaddr;
	p->dns[0] = ifaddr;
	p->ndns = 1;
	p->lease_secs = 12 * 3600;
	for (i = 0; i < s->nkv; i++) {
		const struct conf_kv *kv = &s->kv[i];
		char tmp[256], *w[4];
		size_t n;

		str_copy(tmp, kv->val, sizeof(tmp));
		n = str_split(tmp, " \t", w, 4);
		if (!strcasecmp(kv->key, "range")) {
			if (n != 2 || parse_v4(w[0], &p->start) < 0 || parse_v4(w[1], &p->end) < 0 ||
			    p->start > p->end || (p->start & p->netmask) != net || (p->end & p->netmask) != net)
				return conf_errf(err, cf->file, kv->line,
						 "range %.64s: expected FIRST LAST inside %s's subnet", kv->val,
						 p->ifname);
		} else if (!strcasecmp(kv->key, "router")) {
			if (!strcasecmp(kv->val, "none"))
				p->router = 0;
			else if (n != 1 || parse_v4(w[0], &p->router) < 0)
				return conf_errf(err, cf->file, kv->line, "router %.64s: an IPv4 address or none",
						 kv->val);
		} else if (!strcasecmp(kv->key, "dns")) {
			size_t k;

			p->ndns = 0;
			for (k = 0; k < n && k < 4; k++)
				if (parse_v4(w[k], &p->dns[p->ndns++]) < 0)
					return conf_errf(err, cf->file, kv->line, "dns %.64s: IPv4 addresses",
							 kv->val);
		} else if (!strcasecmp(kv->key, "domain")) {
			str_copy(p->domain, kv->val, sizeof(p->domain));
		} else if (!strcasecmp(kv->key, "static")) {
			struct dhcp_static *st = &p->statics[p->nstatics];

			if (p->nstatics >= DHCP_MAX_STATIC || n < 2 || n > 3 || parse_mac(w[0], st->mac) < 0 ||
			    parse_v4(w[1], &st->ip) < 0 || (st->ip & p->netmask) != net)
				return conf_errf(err, cf->file, kv->line,
						 "static %.64s: expected MAC ADDRESS [NAME] inside the subnet", kv->val);
			if (n == 3)
				take_name(st->name, (const uint8_t *)w[2], strlen(w[2]));
			p->nstatics++;
		} else if (!strcasecmp(kv->key, "route")) {
			struct ipaddr pr;
			struct dhcp_route *r = &p->routes[p->nroutes];

			if (p->nroutes >= DHCP_MAX_ROUTES || n != 2 ||
			    ipaddr_parse_prefix(w[0], AF_INET, &pr) < 0 || parse_v4(w[1], &r->gw) < 0)
				return conf_errf(err, cf->file, kv->line, "route %.64s: expected PREFIX GATEWAY",
						 kv->val);
			ipaddr_mask(&pr);
			r->prefix = ipaddr_v4(&pr);
			r->plen = pr.plen;
			p->nroutes++;
		}
	}
	if ((v = conf_get(s, "lease"))) {
		uint64_t ms;

		if (str_to_msec(v, &ms) < 0 || ms < 60000 || ms > 365ull * 86400000)
			return conf_errf(err, cf->file, conf_get_kv(s, "lease")->line,
					 "lease %.32s: a duration from 1m to 365d", v);
		p->lease_secs = (uint32_t)(ms / 1000);
	}
	if (p->server >= p->start && p->server <= p->end)
		return conf_errf(err, cf->file, s->line,
				 "[dhcp %s]: the interface's own address is inside the range", p->ifname);
	return 0;
}

void
dhcp_pool_free(struct dhcp_pool *p)
{
	free(p->leases);
	p->leases = NULL;
	p->nleases = p->cap = 0;
}

/* ---- leases ---- */

static struct dhcp_lease *
lease_by_mac(struct dhcp_pool *p, const uint8_t *mac)
{
	size_t i;

	for (i = 0; i < p->nleases; i++)
		if (p->leases[i].state != LEASE_DECLINED && !memcmp(p->leases[i].mac, mac, 6))
			return &p->leases[i];
	return NULL;
}

static struct dhcp_lease *
lease_by_ip(struct dhcp_pool *p, uint32_t ip)
{
	size_t i;

	for (i = 0; i < p->nleases; i++)
		if (p->leases[i].ip == ip && p->leases[i].state != LEASE_FREE)
			return &p->leases[i];
	return NULL;
}

static const struct dhcp_static *
static_by_mac(const struct dhcp_pool *p, const uint8_t *mac)
{
	int i;

	for (i = 0; i < p->nstatics; i++)
		if (!memcmp(p->statics[i].mac, mac, 6))
			return &p->statics[i];
	return NULL;
}

static int
reserved_static(const struct dhcp_pool *p, uint32_t ip, const uint8_t *mac)
{
	int i;

	for (i = 0; i < p->nstatics; i++)
		if (p->statics[i].ip == ip && memcmp(p->statics[i].mac, mac, 6))
			return 1;
	return 0;
}

static int
in_subnet(const struct dhcp_pool *p, uint32_t ip)
{
	return (ip & p->netmask) == (p->server & p->netmask) && ip != p->server &&
	       (ip & ~p->netmask) != 0 && (ip & ~p->netmask) != ~p->netmask;
}

/* An address the client may have: its static one, its lease, or a free one. */
static int
usable(struct dhcp_pool *p, uint32_t ip, const uint8_t *mac, uint64_t now)
{
	struct dhcp_lease *l = lease_by_ip(p, ip);
	const struct dhcp_static *st = static_by_mac(p, mac);

	if (st)
		return st->ip == ip;
	if (!in_subnet(p, ip) || reserved_static(p, ip, mac))
		return 0;
	if (!l || l->expires <= now)
		return ip >= p->start && ip <= p->end;
	return l->state != LEASE_DECLINED && !memcmp(l->mac, mac, 6);
}

static struct dhcp_lease *
lease_set(struct dhcp_pool *p, const uint8_t *mac, uint32_t ip, int state, uint64_t expires)
{
	struct dhcp_lease *l = lease_by_mac(p, mac), *o = lease_by_ip(p, ip);

	if (o && o != l)	/* an expired lease of someone else on this address */
		o->state = LEASE_FREE;
	if (!l) {
		size_t i;

		for (i = 0; i < p->nleases; i++)
			if (p->leases[i].state == LEASE_FREE) {
				l = &p->leases[i];
				break;
			}
	}
	if (!l) {
		if (p->nleases == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 64;
			struct dhcp_lease *n = realloc(p->leases, cap * sizeof(*n));

			if (!n)
				return NULL;
			p->leases = n;
			p->cap = cap;
		}
		l = &p->leases[p->nleases++];
		memset(l, 0, sizeof(*l));
	}
	memcpy(l->mac, mac, 6);
	l->ip = ip;
	l->state = state;
	l->expires = expires;
	return l;
}

static uint32_t
pick(struct dhcp_pool *p, const struct dhcp_msg *m, uint64_t now)
{
	const struct dhcp_static *st = static_by_mac(p, m->chaddr);
	struct dhcp_lease *l = lease_by_mac(p, m->chaddr);
	uint32_t ip;

	if (st)
		return st->ip;
	if (l && l->ip && usable(p, l->ip, m->chaddr, now))
		return l->ip;
	if (m->requested && usable(p, m->requested, m->chaddr, now))
		return m->requested;
	for (ip = p->start; ip <= p->end && ip; ip++)
		if (usable(p, ip, m->chaddr, now))
			return ip;
	return 0;
}

/* ---- replies ---- */

struct reply {
	uint8_t *p;
	size_t len, cap;
};

static void
opt(struct reply *r, uint8_t code, const void *v, size_t n)
{
	if (n > 255 || r->len + 2 + n + 1 > r->cap)
		return;
	r->p[r->len++] = code;
	r->p[r->len++] = (uint8_t)n;
	memcpy(r->p + r->len, v, n);
	r->len += n;
}

static void
opt32(struct reply *r, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	opt(r, code, b, 4);
}

static size_t
reply(struct dhcp_pool *p, const struct dhcp_msg *m, uint8_t type, uint32_t yiaddr, int lease,
      uint8_t *out, size_t cap)
{
	struct reply r = { out, 240, cap };
	uint8_t t = type;
	int i;

	if (cap < 300)
		return 0;
	memset(out, 0, cap < 576 ? cap : 576);
	out[0] = 2;
	out[1] = m->htype;
	out[2] = m->hlen;
	put32(out + 4, m->xid);
	out[10] = (uint8_t)(m->flags >> 8);
	out[11] = (uint8_t)m->flags;
	if (type == DHCP_ACK && !lease)
		put32(out + 12, m->ciaddr);	/* INFORM */
	put32(out + 16, yiaddr);
	put32(out + 24, m->giaddr);
	memcpy(out + 28, m->chaddr, 16);
	put32(out + 236, COOKIE);
	opt(&r, 53, &t, 1);
	opt32(&r, 54, p->server);
	if (type != DHCP_NAK) {
		if (lease) {
			opt32(&r, 51, p->lease_secs);
			opt32(&r, 58, p->lease_secs / 2);
			opt32(&r, 59, p->lease_secs / 8 * 7);
		}
		opt32(&r, 1, p->netmask);
		opt32(&r, 28, (p->server & p->netmask) | ~p->netmask);
		if (p->router)
			opt32(&r, 3, p->router);
		if (p->ndns) {
			uint8_t b[16];

			for (i = 0; i < p->ndns; i++)
				put32(b + 4 * i, p->dns[i]);
			opt(&r, 6, b, (size_t)p->ndns * 4);
		}
		if (p->domain[0])
			opt(&r, 15, p->domain, strlen(p->domain));
		if (p->nroutes) {
			/* RFC 3442: width, significant octets of the prefix, router;
			 * a default route is included, as clients then ignore option 3. */
			uint8_t b[255];
			size_t n = 0;

			for (i = 0; i < p->nroutes && n + 9 <= sizeof(b); i++) {
				int oct = (p->routes[i].plen + 7) / 8, k;

				b[n++] = (uint8_t)p->routes[i].plen;
				for (k = 0; k < oct; k++)
					b[n++] = (uint8_t)(p->routes[i].prefix >> (24 - 8 * k));
				put32(b + n, p->routes[i].gw);
				n += 4;
			}
			if (p->router && n + 5 <= sizeof(b)) {
				b[n++] = 0;
				put32(b + n, p->router);
				n += 4;
			}
			opt(&r, 121, b, n);
		}
	}
	if (r.len < r.cap)
		out[r.len++] = 255;
	return r.len < 300 ? 300 : r.len;	/* BOOTP's minimum size */
}

size_t
dhcp_handle(struct dhcp_pool *p, const struct dhcp_msg *m, uint64_t now, uint8_t *out, size_t cap,
	    uint32_t *dst, struct dhcp_event *ev)
{
	struct dhcp_lease *l;
	const struct dhcp_static *st;
	uint32_t ip;
	size_t n;

	ev->bound = -1;
	ev->name[0] = '\0';
	*dst = m->ciaddr ? m->ciaddr : 0xffffffffu;
	if (m->giaddr || m->htype != 1 || m->hlen != 6)
		return 0;	/* relays and other link types: not for us */
	switch (m->type) {
	case DHCP_DISCOVER:
		ip = pick(p, m, now);
		if (!ip)
			return 0;	/* the pool is full: stay silent */
		if (!lease_set(p, m->chaddr, ip, LEASE_OFFERED, now + OFFER_SECS))
			return 0;
		*dst = 0xffffffffu;
		return reply(p, m, DHCP_OFFER, ip, 1, out, cap);
	case DHCP_REQUEST:
		if (m->server_id && m->server_id != p->server) {
			/* The client took another server's offer: ours is free again. */
			l = lease_by_mac(p, m->chaddr);
			if (l && l->state == LEASE_OFFERED)
				l->state = LEASE_FREE;
			return 0;
		}
		ip = m->requested ? m->requested : m->ciaddr;
		if (!ip)
			return 0;
		if (!usable(p, ip, m->chaddr, now)) {
			*dst = 0xffffffffu;
			return (ip & p->netmask) == (p->server & p->netmask) || m->server_id ?
				       reply(p, m, DHCP_NAK, 0, 0, out, cap) : 0;
		}
		l = lease_set(p, m->chaddr, ip, LEASE_BOUND, now + p->lease_secs);
		if (!l)
			return 0;
		st = static_by_mac(p, m->chaddr);
		str_copy(l->name, st && st->name[0] ? st->name : m->hostname, sizeof(l->name));
		ev->bound = 1;
		ev->ip = ip;
		str_copy(ev->name, l->name, sizeof(ev->name));
		n = reply(p, m, DHCP_ACK, ip, 1, out, cap);
		dhcp_leases_save(p);
		return n;
	case DHCP_RELEASE:
		l = lease_by_mac(p, m->chaddr);
		if (l && l->ip == m->ciaddr && l->state == LEASE_BOUND) {
			ev->bound = 0;
			ev->ip = l->ip;
			str_copy(ev->name, l->name, sizeof(ev->name));
			l->state = LEASE_FREE;
			dhcp_leases_save(p);
		}
		return 0;
	case DHCP_DECLINE:
		/* Someone else uses it: keep it out of the pool for a while. */
		l = lease_by_mac(p, m->chaddr);
		if (l && l->ip == m->requested) {
			l->state = LEASE_DECLINED;
			memset(l->mac, 0, 6);
			l->expires = now + DECLINE_SECS;
			dhcp_leases_save(p);
		}
		return 0;
	case DHCP_INFORM:
		if (!m->ciaddr)
			return 0;
		*dst = m->ciaddr;
		return reply(p, m, DHCP_ACK, 0, 0, out, cap);
	}
	return 0;
}

void
dhcp_expire(struct dhcp_pool *p, uint64_t now, void (*cb)(const struct dhcp_lease *l, void *arg),
	    void *arg)
{
	size_t i;
	int changed = 0;

	for (i = 0; i < p->nleases; i++) {
		struct dhcp_lease *l = &p->leases[i];

		if (l->state == LEASE_FREE || l->expires > now)
			continue;
		if (l->state == LEASE_BOUND && cb)
			cb(l, arg);
		l->state = LEASE_FREE;
		changed = 1;
	}
	if (changed)
		dhcp_leases_save(p);
}

int
dhcp_leases_save(const struct dhcp_pool *p)
{
	struct buf b = BUF_INIT;
	size_t i;
	int r;

	if (!p->path[0])
		return 0;
	for (i = 0; i < p->nleases; i++) {
		const struct dhcp_lease *l = &p->leases[i];
		struct in_addr a;
		char ip[INET_ADDRSTRLEN];

		if (l->state != LEASE_BOUND && l->state != LEASE_DECLINED)
			continue;
		a.s_addr = htonl(l->ip);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		buf_addf(&b, "%02x:%02x:%02x:%02x:%02x:%02x %s %llu %s %s\n", l->mac[0], l->mac[1],
			 l->mac[2], l->mac[3], l->mac[4], l->mac[5], ip, (unsigned long long)l->expires,
			 l->state == LEASE_BOUND ? "bound" : "declined", l->name[0] ? l->name : "-");
	}
	r = buf_err(&b) < 0 ? -1 : fs_write_atomic(p->path, b.data ? b.data : "", b.len, 0644);
	buf_free(&b);
	return r;
}

int
dhcp_leases_load(struct dhcp_pool *p, uint64_t now)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;

	if (!p->path[0])
		return 0;
	if (fs_read_file(p->path, &b, 16 << 20) < 0) {
		buf_free(&b);
		return errno == ENOENT ? 0 : -1;
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[6];
		uint8_t mac[6];
		uint32_t ip;
		uint64_t exp;
		struct dhcp_lease *l;

		if (str_split(line, " ", w, 6) != 5 || parse_v4(w[1], &ip) < 0 ||
		    str_to_u64(w[2], 10, UINT64_MAX, &exp) < 0 || exp <= now)
			continue;
		if (!strcmp(w[3], "declined"))
			memset(mac, 0, 6);
		else if (parse_mac(w[0], mac) < 0)
			continue;
		l = lease_set(p, mac, ip, !strcmp(w[3], "declined") ? LEASE_DECLINED : LEASE_BOUND, exp);
		if (l && strcmp(w[4], "-"))
			take_name(l->name, (const uint8_t *)w[4], strlen(w[4]));
	}
	buf_free(&b);
	return 0;
}
