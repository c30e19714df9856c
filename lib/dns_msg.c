/* DNS messages: parsing with bounds checks, building with compression. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
dns_msg_parse(struct dns_msg *m, const uint8_t *pkt, size_t len)
{
	size_t off = 12, total, i;
	int s;

	memset(m, 0, sizeof(*m));
	m->pkt = pkt;
	m->len = len;
	m->tsig_index = -1;
	if (len < 12)
		goto bad;
	m->id = get16(pkt);
	m->flags = get16(pkt + 2);
	for (s = 0; s < 4; s++)
		m->count[s] = get16(pkt + 4 + 2 * s);
	/* One question at most: what every server does in practice. */
	if (m->count[0] > 1)
		goto bad;
	if (m->count[0] == 1) {
		if (dns_name_unpack(pkt, len, &off, &m->qname) < 0 || off + 4 > len)
			goto bad;
		m->qtype = get16(pkt + off);
		m->qclass = get16(pkt + off + 2);
		off += 4;
	}
	total = (size_t)m->count[1] + m->count[2] + m->count[3];
	/* Each record takes at least 11 bytes: an absurd count is refused
	 * before any allocation. */
	if (total > DNS_MAX_RRS || total * 11 > len - off)
		goto bad;
	if (total) {
		m->rr = calloc(total, sizeof(*m->rr));
		if (!m->rr)
			return -1;
	}
	for (i = 0; i < total; i++) {
		struct dns_rr *r = &m->rr[i];
		size_t start = off;

		if (dns_name_unpack(pkt, len, &off, &r->name) < 0 || off + 10 > len)
			goto bad;
		r->type = get16(pkt + off);
		r->class = get16(pkt + off + 2);
		r->ttl = get32(pkt + off + 4);
		r->rdlen = get16(pkt + off + 8);
		off += 10;
		if (r->rdlen > len - off)
			goto bad;
		r->rdoff = off;
		off += r->rdlen;
		m->nrr++;
		if (i >= (size_t)m->count[1] + m->count[2]) {
			/* additional section: OPT and TSIG */
			if (r->type == DNS_T_OPT) {
				if (m->edns || r->name.len != 1)
					goto bad;	/* one OPT, owned by the root */
				m->edns = 1;
				m->edns_size = r->class < 512 ? 512 : r->class;
				m->edns_version = (uint8_t)(r->ttl >> 16);
				m->do_bit = !!(r->ttl & 0x8000);
			} else if (r->type == DNS_T_TSIG) {
				if (i != total - 1)
					goto bad;	/* TSIG must be last */
				m->tsig_index = (int)i;
				m->tsig_start = start;
			}
		}
	}
	if (off != len)
		goto bad;	/* trailing garbage */
	return 0;
bad:
	free(m->rr);
	m->rr = NULL;
	m->nrr = 0;
	errno = EBADMSG;
	return -1;
}

void
dns_msg_free(struct dns_msg *m)
{
	free(m->rr);
	m->rr = NULL;
	m->nrr = 0;
}

const struct dns_rr *
dns_msg_section(const struct dns_msg *m, int s, size_t i)
{
	size_t base = 0;
	int k;

	if (s < 1 || s > 3 || i >= m->count[s])
		return NULL;
	for (k = 1; k < s; k++)
		base += m->count[k];
	return base + i < m->nrr ? &m->rr[base + i] : NULL;
}

/* ---- building ---- */

void
dns_w_init(struct dns_w *w, uint8_t *buf, size_t cap, size_t limit)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap > 65535 ? 65535 : cap;
	w->limit = limit && limit < w->cap ? limit : w->cap;
	w->len = 12;
	memset(buf, 0, 12);
}

void
dns_w_header(struct dns_w *w, uint16_t id, uint16_t flags)
{
	put16(w->buf, id);
	put16(w->buf + 2, flags);
}

void
dns_w_set_flags(struct dns_w *w, uint16_t flags)
{
	put16(w->buf + 2, flags);
}

/* Whether the name starting at label offset i of n equals the name
 * written at offset o of the buffer (following pointers). */
static int
suffix_at(const struct dns_w *w, const struct dns_name *n, size_t i, size_t o)
{
	int hops = 0;

	for (;;) {
		uint8_t c;

		if (o >= w->len)
			return 0;
		c = w->buf[o];
		if ((c & 0xc0) == 0xc0) {
			if (++hops > 32 || o + 1 >= w->len)
				return 0;
			o = (size_t)(c & 0x3f) << 8 | w->buf[o + 1];
			continue;
		}
		if (c != n->data[i])
			return 0;
		if (c == 0)
			return 1;
		{
			size_t k;

			for (k = 1; k <= c; k++) {
				uint8_t a = w->buf[o + k], b = n->data[i + k];

				if (a >= 'A' && a <= 'Z')
					a += 32;
				if (b >= 'A' && b <= 'Z')
					b += 32;
				if (a != b)
					return 0;
			}
		}
		o += 1 + (size_t)c;
		i += 1 + (size_t)c;
	}
}

int
dns_w_name(struct dns_w *w, const struct dns_name *n, int compress)
{
	size_t i = 0, start = w->len;

	while (i < n->len && n->data[i]) {
		if (compress) {
			int k;

			/* The longest suffix already in the message. */
			for (k = 0; k < w->ncomp; k++) {
				size_t o = w->comp[k];

				/* Names can start at any label of a stored name. */
				while (o < w->len) {
					uint8_t c = w->buf[o];

					if (suffix_at(w, n, i, o)) {
						if (w->len + 2 > w->cap)
							goto full;
						w->buf[w->len++] = (uint8_t)(0xc0 | (o >> 8));
						w->buf[w->len++] = (uint8_t)o;
						goto done;
					}
					if (c == 0 || (c & 0xc0))
						break;
					o += 1 + (size_t)c;
				}
			}
		}
		{
			size_t l = 1 + (size_t)n->data[i];

			if (w->len + l > w->cap)
				goto full;
			memcpy(w->buf + w->len, n->data + i, l);
			w->len += l;
			i += l;
		}
	}
	if (w->len + 1 > w->cap)
		goto full;
	w->buf[w->len++] = 0;
done:
	/* Remember where this name starts, if pointers can reach it. */
	if (compress && start < 0x3fff && w->ncomp < DNS_COMP_MAX && w->buf[start] &&
	    (w->buf[start] & 0xc0) == 0)
		w->comp[w->ncomp++] = (uint16_t)start;
	return 0;
full:
	w->len = start;
	errno = EMSGSIZE;
	return -1;
}

int
dns_w_question(struct dns_w *w, const struct dns_name *n, uint16_t type, uint16_t class)
{
	size_t start = w->len;

	if (dns_w_name(w, n, 1) < 0 || w->len + 4 > w->cap) {
		w->len = start;
		return -1;
	}
	put16(w->buf + w->len, type);
	put16(w->buf + w->len + 2, class);
	w->len += 4;
	w->count[0]++;
	return 0;
}

int
dns_rdata_has_names(uint16_t type)
{
	return type == DNS_T_NS || type == DNS_T_CNAME || type == DNS_T_PTR || type == DNS_T_MX ||
	       type == DNS_T_SOA;
}

/* Write rdata, compressing the names of the types that allow it. */
static int
w_rdata(struct dns_w *w, uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	struct dns_name n;
	size_t off = 0, names = 0, fixed = 0;

	if (!dns_rdata_has_names(type)) {
		if (w->len + rdlen > w->cap)
			return -1;
		memcpy(w->buf + w->len, rd, rdlen);
		w->len += rdlen;
		return 0;
	}
	if (type == DNS_T_MX) {
		if (rdlen < 3 || w->len + 2 > w->cap)
			return -1;
		memcpy(w->buf + w->len, rd, 2);
		w->len += 2;
		off = 2;
	}
	names = type == DNS_T_SOA ? 2 : 1;
	while (names--) {
		if (dns_name_unpack(rd, rdlen, &off, &n) < 0 || dns_w_name(w, &n, 1) < 0)
			return -1;
	}
	fixed = rdlen - off;
	if (w->len + fixed > w->cap)
		return -1;
	memcpy(w->buf + w->len, rd + off, fixed);
	w->len += fixed;
	return 0;
}

int
dns_w_rr(struct dns_w *w, int s, const struct dns_name *name, uint16_t type, uint16_t class,
	 uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t start = w->len, lenpos;
	int ncomp = w->ncomp;

	if (w->truncated)
		return -1;
	if (dns_w_name(w, name, 1) < 0 || w->len + 10 > w->cap)
		goto full;
	put16(w->buf + w->len, type);
	put16(w->buf + w->len + 2, class);
	put32(w->buf + w->len + 4, ttl);
	w->last_ttl = w->len + 4;
	lenpos = w->len + 8;
	w->len += 10;
	if (w_rdata(w, type, rdata, rdlen) < 0)
		goto full;
	put16(w->buf + lenpos, (uint16_t)(w->len - lenpos - 2));
	/* Past the soft limit (the client's UDP size): undo and truncate. */
	if (w->len > w->limit)
		goto full;
	w->count[s]++;
	return 0;
full:
	w->len = start;
	w->ncomp = ncomp;
	w->truncated = 1;
	errno = EMSGSIZE;
	return -1;
}

int
dns_w_opt(struct dns_w *w, uint16_t size, uint8_t ext_rcode)
{
	/* The OPT record is always given room: it is 11 bytes. */
	if (w->len + 11 > w->cap)
		return -1;
	w->buf[w->len] = 0;
	put16(w->buf + w->len + 1, DNS_T_OPT);
	put16(w->buf + w->len + 3, size);
	put32(w->buf + w->len + 5, (uint32_t)ext_rcode << 24);
	put16(w->buf + w->len + 9, 0);
	w->len += 11;
	w->count[3]++;
	return 0;
}

size_t
dns_w_finish(struct dns_w *w)
{
	int s;

	for (s = 0; s < 4; s++)
		put16(w->buf + 4 + 2 * s, w->count[s]);
	if (w->truncated)
		w->buf[2] |= DNS_F_TC >> 8;
	return w->len;
}

size_t
dns_reply_finish(uint8_t *out, size_t len, size_t cap, uint16_t id, uint16_t flags, int rcode,
		 uint16_t edns, size_t limit)
{
	size_t room = edns ? 11 : 0;

	put16(out, id);
	put16(out + 2, (uint16_t)((flags & ~0xf) | (rcode & 0xf)));
	if (len + room > limit || len + room > cap) {
		/* Header and question only: the client retries over TCP. */
		size_t off = 12;
		struct dns_name n;

		if (get16(out + 4) == 1 && dns_name_unpack(out, len, &off, &n) == 0 && off + 4 <= len)
			len = off + 4;
		else
			len = 12;
		put16(out + 6, 0);
		put16(out + 8, 0);
		put16(out + 10, 0);
		out[2] |= DNS_F_TC >> 8;
	}
	if (edns && len + 11 <= cap) {
		struct dns_w w;

		memset(&w, 0, sizeof(w));
		w.buf = out;
		w.cap = cap;
		w.limit = cap;
		w.len = len;
		dns_w_opt(&w, edns, 0);
		put16(out + 10, (uint16_t)(get16(out + 10) + 1));
		len = w.len;
	}
	return len;
}
