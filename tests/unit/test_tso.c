/* TCP segmentation of TUN super-packets and joining segments back
 * (lib/tso): a 64 KiB-ish IPv4 and IPv6 super-packet cut to segments whose
 * IP and TCP checksums verify, whose sequence numbers and flags are right;
 * the segments joined again into the same payload with the header a GSO
 * write needs; what may not join (a gap, another flow, SYN, a short one
 * in the middle) does not. */
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "tso.h"

static uint32_t
sum(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* 1 when the TCP checksum of segment p (IP header iphl) verifies */
static int
tcp_ok(const uint8_t *p, size_t n, size_t iphl, int v6)
{
	uint32_t s = 6 + (uint32_t)(n - iphl);

	s = v6 ? sum(p + 8, 32, s) : sum(p + 12, 8, s);
	return sum(p + iphl, n - iphl, s) == 0xffff;
}

static uint8_t segs[64][2048];
static size_t seglen[64];
static int nseg;

static void
collect(void *arg, uint8_t *p, size_t n)
{
	(void)arg;
	if (nseg < 64 && n <= sizeof(segs[0])) {
		memcpy(segs[nseg], p, n);
		seglen[nseg++] = n;
	}
}

static size_t
super(uint8_t *p, int v6, size_t payload)
{
	size_t iphl = v6 ? 40 : 20, hl = iphl + 32, i;

	memset(p, 0, hl);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((payload + 32) >> 8);
		p[5] = (uint8_t)(payload + 32);
		p[6] = 6;
		p[7] = 64;
		p[8 + 15] = 1;
		p[24 + 15] = 2;
	} else {
		p[0] = 0x45;
		p[4] = 0x12;
		p[5] = 0x34;
		p[6] = 0x40;
		p[8] = 64;
		p[9] = 6;
		p[12] = 10, p[15] = 1;
		p[16] = 10, p[19] = 2;
	}
	p[iphl] = 0x9c, p[iphl + 1] = 0x40;		/* ports */
	p[iphl + 2] = 0x14, p[iphl + 3] = 0x51;
	p[iphl + 4] = 0xff, p[iphl + 5] = 0xff, p[iphl + 6] = 0xf0;	/* seq near the wrap */
	p[iphl + 11] = 7;				/* ack */
	p[iphl + 12] = 8 << 4;				/* 32-byte header: options */
	p[iphl + 13] = 0x18;				/* ACK PSH */
	p[iphl + 14] = 0x01;				/* window */
	p[iphl + 20] = 1, p[iphl + 21] = 1, p[iphl + 22] = 8, p[iphl + 23] = 10;	/* NOP NOP TS */
	for (i = 0; i < payload; i++)
		p[hl + i] = (uint8_t)(i * 31 + 7);
	return hl + payload;
}

static void
run(int v6)
{
	static uint8_t pkt[65535], vh[TSO_VNET_HDR];
	static struct tso_gro g;
	size_t iphl = v6 ? 40 : 20, hl = iphl + 32, payload = 5 * 1000 + 500, len = super(pkt, v6, payload), n;
	int i, bad = 0;

	memset(vh, 0, sizeof(vh));
	vh[0] = 1;			/* NEEDS_CSUM */
	vh[1] = v6 ? 4 : 1;		/* GSO TCPV6 / TCPV4 */
	vh[4] = 1000 & 0xff, vh[5] = 1000 >> 8;
	vh[6] = (uint8_t)iphl;
	vh[8] = 16;
	nseg = 0;
	{
		static uint8_t seg[65536];

		ok(tso_split(vh, pkt, len, seg, collect, NULL) == 0, "%s: split", v6 ? "IPv6" : "IPv4");
	}
	is_int(nseg, 6, "%s: 5500 bytes at MSS 1000 are six segments", v6 ? "IPv6" : "IPv4");
	for (i = 0; i < nseg; i++) {
		const uint8_t *s = segs[i];
		uint32_t seq = (uint32_t)s[iphl + 4] << 24 | (uint32_t)s[iphl + 5] << 16 |
			       (uint32_t)s[iphl + 6] << 8 | s[iphl + 7];
		size_t want = hl + (i < 5 ? 1000 : 500);

		if (seglen[i] != want || !tcp_ok(s, seglen[i], iphl, v6) ||
		    (!v6 && sum(s, 20, 0) != 0xffff) || seq != 0xfffff000u + 1000u * (uint32_t)i ||
		    ((s[iphl + 13] & 0x08) != 0) != (i == nseg - 1) ||
		    memcmp(s + hl, pkt + hl + 1000 * (size_t)i, want - hl))
			bad++;
	}
	is_int(bad, 0, "%s: lengths, checksums, sequence numbers (across the wrap), PSH on the last only",
	       v6 ? "IPv6" : "IPv4");

	tso_gro_init(&g);
	for (i = 0; i < nseg; i++)
		if (!tso_gro_add(&g, segs[i], seglen[i]))
			bad++;
	is_int(bad, 0, "%s: the six join again", v6 ? "IPv6" : "IPv4");
	n = tso_gro_take(&g);
	ok(n == len && !memcmp(g.pkt + hl, pkt + hl, payload), "%s: one packet with the whole payload",
	   v6 ? "IPv6" : "IPv4");
	ok(g.vh[0] == 1 && g.vh[1] == (v6 ? 4 : 1) && (g.vh[4] | g.vh[5] << 8) == 1000 && (size_t)g.vh[6] == iphl &&
		   g.vh[8] == 16 && (size_t)(g.vh[2] | g.vh[3] << 8) == hl,
	   "%s: a GSO header: TCP, MSS 1000, checksum from the TCP header on", v6 ? "IPv6" : "IPv4");
	ok(v6 ? (size_t)(g.pkt[4] << 8 | g.pkt[5]) == len - 40
	      : (size_t)(g.pkt[2] << 8 | g.pkt[3]) == len && sum(g.pkt, 20, 0) == 0xffff,
	   "%s: the IP length, and for IPv4 its checksum", v6 ? "IPv6" : "IPv4");
	/* the field holds the pseudo-header's sum: adding the rest finishes it */
	{
		uint32_t ps = 6 + (uint32_t)(len - iphl);

		ps = v6 ? sum(g.pkt + 8, 32, ps) : sum(g.pkt + 12, 8, ps);
		ok((uint32_t)(g.pkt[iphl + 16] << 8 | g.pkt[iphl + 17]) == ps,
		   "%s: the TCP checksum field holds the pseudo-header sum", v6 ? "IPv6" : "IPv4");
	}
	ok(tso_gro_take(&g) == 0, "%s: then nothing is left", v6 ? "IPv6" : "IPv4");

	/* what does not join */
	tso_gro_add(&g, segs[0], seglen[0]);
	ok(!tso_gro_add(&g, segs[2], seglen[2]), "%s: a gap in the sequence does not join", v6 ? "IPv6" : "IPv4");
	segs[1][iphl + 1] ^= 1;
	ok(!tso_gro_add(&g, segs[1], seglen[1]), "%s: another port does not", v6 ? "IPv6" : "IPv4");
	segs[1][iphl + 1] ^= 1;
	segs[1][iphl + 22] ^= 1;
	ok(!tso_gro_add(&g, segs[1], seglen[1]), "%s: other options do not", v6 ? "IPv6" : "IPv4");
	segs[1][iphl + 22] ^= 1;
	ok(tso_gro_add(&g, segs[1], seglen[1]), "%s: the next one does", v6 ? "IPv6" : "IPv4");
	ok(!tso_gro_add(&g, segs[5], seglen[5]), "%s: out of order, no", v6 ? "IPv6" : "IPv4");
	tso_gro_take(&g);
	segs[0][iphl + 13] |= 0x02;
	ok(!tso_gro_add(&g, segs[0], seglen[0]), "%s: SYN never joins", v6 ? "IPv6" : "IPv4");
	segs[0][iphl + 13] &= (uint8_t)~0x02;
	tso_gro_add(&g, segs[4], seglen[4]);
	ok(tso_gro_add(&g, segs[5], seglen[5]), "%s: a short last one joins", v6 ? "IPv6" : "IPv4");
	ok(g.closed, "%s: and closes the train", v6 ? "IPv6" : "IPv4");
	tso_gro_take(&g);
}

int
main(void)
{
	static uint8_t pkt[200], vh[TSO_VNET_HDR], seg[65536];

	run(0);
	run(1);
	/* a small packet with its checksum left to finish */
	{
		size_t len = super(pkt, 0, 40);

		memset(vh, 0, sizeof(vh));
		vh[0] = 1;
		vh[6] = 20;
		vh[8] = 16;
		{
			uint32_t ps = sum(pkt + 12, 8, 6 + (uint32_t)(len - 20));

			pkt[36] = (uint8_t)(ps >> 8);
			pkt[37] = (uint8_t)ps;
		}
		nseg = 0;
		tso_split(vh, pkt, len, seg, collect, NULL);
		ok(nseg == 1 && tcp_ok(segs[0], seglen[0], 20, 0), "a partial checksum finished");
	}
	vh[1] = 3;	/* UDP fragmentation offload: not asked for */
	ok(tso_split(vh, pkt, 60, seg, collect, NULL) < 0, "an offload it did not ask for is refused");
	return done_testing();
}
