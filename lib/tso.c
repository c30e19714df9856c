/* TCP segmentation of a TUN device's super-packets (lib/tso.h). */
#include "tso.h"

#include <errno.h>
#include <string.h>

#include "hash.h"

#define F_NEEDS_CSUM 1
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_ECN 0x80

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The TCP checksum of a whole segment, pseudo-header included. */
static void
tcp_csum(uint8_t *ip, int v6, size_t iphl, size_t len)
{
	uint8_t *tcp = ip + iphl;
	size_t tl = len - iphl;
	uint32_t s = 6 + (uint32_t)tl;

	s = v6 ? hash_inet_sum(ip + 8, 32, s) : hash_inet_sum(ip + 12, 8, s);
	put16(tcp + 16, 0);
	put16(tcp + 16, hash_inet_fold(hash_inet_sum(tcp, tl, s)));
}

int
tso_split(const uint8_t vh[TSO_VNET_HDR], uint8_t *pkt, size_t len, uint8_t *seg,
	  void (*emit)(void *arg, uint8_t *p, size_t n), void *arg)
{
	unsigned gso = vh[1] & (uint8_t)~GSO_ECN;
	size_t mss = (size_t)(vh[4] | vh[5] << 8), cstart = (size_t)(vh[6] | vh[7] << 8),
	       coff = (size_t)(vh[8] | vh[9] << 8), iphl, hl, payload, off;
	uint32_t seq;
	uint16_t id;
	int v6, i;

	if (gso == GSO_NONE) {
		if (vh[0] & F_NEEDS_CSUM) {
			if (cstart + coff + 2 > len)
				goto bad;
			/* the field holds the pseudo-header's sum: the rest finishes it */
			put16(pkt + cstart + coff, hash_inet_fold(hash_inet_sum(pkt + cstart, len - cstart, 0)));
		}
		emit(arg, pkt, len);
		return 0;
	}
	if (gso != GSO_TCPV4 && gso != GSO_TCPV6)
		goto bad;
	v6 = gso == GSO_TCPV6;
	if (len < 40 || (pkt[0] >> 4) != (v6 ? 6 : 4))
		goto bad;
	iphl = v6 ? 40 : (size_t)(pkt[0] & 15) * 4;
	if (iphl < 20 || len < iphl + 20 || (v6 ? pkt[6] : pkt[9]) != 6)
		goto bad;	/* TCP right after the IP header, no IPv6 extensions */
	hl = iphl + (size_t)(pkt[iphl + 12] >> 4) * 4;
	if (hl < iphl + 20 || hl > len || mss == 0)
		goto bad;
	payload = len - hl;
	seq = (uint32_t)pkt[iphl + 4] << 24 | (uint32_t)pkt[iphl + 5] << 16 | (uint32_t)pkt[iphl + 6] << 8 |
	      pkt[iphl + 7];
	id = (uint16_t)(pkt[4] << 8 | pkt[5]);
	for (off = 0, i = 0; off < payload; off += mss, i++) {
		size_t n = payload - off < mss ? payload - off : mss, tot = hl + n;
		uint8_t *tcp = seg + iphl;
		uint32_t sq = seq + (uint32_t)off;

		memcpy(seg, pkt, hl);
		memcpy(seg + hl, pkt + hl + off, n);
		if (v6) {
			put16(seg + 4, (uint16_t)(tot - 40));
		} else {
			put16(seg + 2, (uint16_t)tot);
			put16(seg + 4, (uint16_t)(id + i));
			put16(seg + 10, 0);
			put16(seg + 10, hash_inet_fold(hash_inet_sum(seg, iphl, 0)));
		}
		tcp[4] = (uint8_t)(sq >> 24);
		tcp[5] = (uint8_t)(sq >> 16);
		tcp[6] = (uint8_t)(sq >> 8);
		tcp[7] = (uint8_t)sq;
		if (off + n < payload)
			tcp[13] &= (uint8_t)~0x09;	/* FIN and PSH: the last segment's */
		if (i > 0)
			tcp[13] &= (uint8_t)~0x80;	/* CWR: the first's */
		tcp_csum(seg, v6, iphl, tot);
		emit(arg, seg, tot);
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

void
tso_gro_init(struct tso_gro *g)
{
	g->len = 0;
	g->n = 0;
	g->closed = 0;
}

/* Header words that must match for two segments to join: addresses and
 * TTL/traffic class/flow label, ports, ack, data offset + flags + window,
 * options. The sequence number, lengths, IP id and checksums may differ. */
static int
same_flow(const struct tso_gro *g, const uint8_t *p, size_t iphl, size_t hl)
{
	const uint8_t *a = g->pkt, *at = g->pkt + iphl, *bt = p + iphl;

	if (iphl != g->iphl || hl != g->hl)
		return 0;
	if (g->v6) {
		if (memcmp(a, p, 4) || memcmp(a + 6, p + 6, 34))	/* version..flow, next header..dst */
			return 0;
	} else if (a[1] != p[1] || a[8] != p[8] || memcmp(a + 12, p + 12, 8) || (a[6] & 0x40) != (p[6] & 0x40)) {
		return 0;	/* TOS, TTL, addresses, DF */
	}
	return !memcmp(at, bt, 4) && !memcmp(at + 8, bt + 8, 4) && at[12] == bt[12] &&
	       (at[13] & ~0x08) == (bt[13] & ~0x08) && !memcmp(at + 14, bt + 14, 2) &&
	       !memcmp(at + 20, bt + 20, hl - iphl - 20);
}

int
tso_gro_add(struct tso_gro *g, const uint8_t *p, size_t n)
{
	size_t iphl, hl, pay;
	uint32_t seq;
	int v6;

	if (n < 40)
		return 0;
	v6 = (p[0] >> 4) == 6;
	if (v6) {
		iphl = 40;
		if (p[6] != 6 || n < 60 || (size_t)(p[4] << 8 | p[5]) + 40 != n)
			return 0;
	} else {
		iphl = (size_t)(p[0] & 15) * 4;
		/* plain TCP: no IP options, not a fragment, the length right */
		if ((p[0] >> 4) != 4 || iphl != 20 || p[9] != 6 || (p[6] & 0x3f) || p[7] ||
		    (size_t)(p[2] << 8 | p[3]) != n)
			return 0;
	}
	hl = iphl + (size_t)(p[iphl + 12] >> 4) * 4;
	if (hl < iphl + 20 || hl >= n || (p[iphl + 13] & ~0x18))
		return 0;	/* no payload, or a flag besides ACK/PSH */
	if (!(p[iphl + 13] & 0x10))
		return 0;
	pay = n - hl;
	seq = (uint32_t)p[iphl + 4] << 24 | (uint32_t)p[iphl + 5] << 16 | (uint32_t)p[iphl + 6] << 8 | p[iphl + 7];
	if (g->n == 0) {
		memcpy(g->pkt, p, n);
		g->len = n;
		g->iphl = iphl;
		g->hl = hl;
		g->mss = pay;
		g->v6 = v6;
		g->n = 1;
		g->next_seq = seq + (uint32_t)pay;
		g->closed = (p[iphl + 13] & 0x08) != 0;
		return 1;
	}
	if (g->closed || v6 != g->v6 || seq != g->next_seq || pay > g->mss || g->len + pay > 65535 ||
	    g->len - g->hl != g->mss * (size_t)g->n || !same_flow(g, p, iphl, hl))
		return 0;
	memcpy(g->pkt + g->len, p + hl, pay);
	g->len += pay;
	g->n++;
	g->next_seq += (uint32_t)pay;
	if (p[iphl + 13] & 0x08) {
		g->pkt[iphl + 13] |= 0x08;	/* PSH: the train ends with it */
		g->closed = 1;
	}
	if (pay < g->mss)
		g->closed = 1;	/* a short one is the last */
	return 1;
}

size_t
tso_gro_take(struct tso_gro *g)
{
	size_t len = g->len, iphl = g->iphl;
	uint8_t *p = g->pkt;
	uint32_t s;

	if (!g->n)
		return 0;
	memset(g->vh, 0, sizeof(g->vh));
	if (g->n == 1) {
		g->vh[0] = 2;	/* VIRTIO_NET_HDR_F_DATA_VALID: as it came, checksums and all */
	} else {
		size_t tl = len - iphl;

		if (g->v6) {
			put16(p + 4, (uint16_t)tl);
		} else {
			put16(p + 2, (uint16_t)len);
			put16(p + 10, 0);
			put16(p + 10, hash_inet_fold(hash_inet_sum(p, iphl, 0)));
		}
		/* the kernel finishes the checksum: the field holds the
		 * pseudo-header's sum, not inverted */
		s = 6 + (uint32_t)tl;
		s = g->v6 ? hash_inet_sum(p + 8, 32, s) : hash_inet_sum(p + 12, 8, s);
		put16(p + iphl + 16, (uint16_t)~hash_inet_fold(s));
		g->vh[0] = F_NEEDS_CSUM;
		g->vh[1] = g->v6 ? GSO_TCPV6 : GSO_TCPV4;
		g->vh[2] = (uint8_t)g->hl;
		g->vh[3] = (uint8_t)(g->hl >> 8);
		g->vh[4] = (uint8_t)g->mss;
		g->vh[5] = (uint8_t)(g->mss >> 8);
		g->vh[6] = (uint8_t)iphl;
		g->vh[7] = (uint8_t)(iphl >> 8);
		g->vh[8] = 16;
	}
	g->n = 0;
	g->len = 0;
	g->closed = 0;
	return len;
}
