/*
 * Fuzz lib/tso: what a TUN device hands over (a virtio-net header and a
 * packet) cut to segments, and packets a peer sent (decrypted, so chosen
 * by whoever holds a key) joined into trains. Every segment and every
 * train must stay inside its buffer; no input crashes.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/tso.h"

static void
check(void *arg, uint8_t *p, size_t n)
{
	static volatile uint8_t sink;

	(void)arg;
	assert(n <= 65535);
	if (n)
		sink = p[n - 1];	/* every byte it names is there to read */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[65536], seg[65536];
	static struct tso_gro g;
	size_t off, n;

	if (size < TSO_VNET_HDR + 1)
		return 0;
	n = size - TSO_VNET_HDR > sizeof(pkt) ? sizeof(pkt) : size - TSO_VNET_HDR;
	memcpy(pkt, data + TSO_VNET_HDR, n);
	tso_split(data, pkt, n, seg, check, NULL);
	/* the same bytes as a run of packets: each one's length in its first
	 * two bytes */
	tso_gro_init(&g);
	for (off = TSO_VNET_HDR; off + 2 <= size;) {
		size_t len = (size_t)(data[off] << 8 | data[off + 1]);

		off += 2;
		if (len > size - off)
			len = size - off;
		if (!tso_gro_add(&g, data + off, len)) {
			size_t t = tso_gro_take(&g);

			assert(t <= sizeof(g.pkt));
			tso_gro_add(&g, data + off, len);
		}
		assert(g.len <= sizeof(g.pkt));
		off += len;
	}
	assert(tso_gro_take(&g) <= sizeof(g.pkt));
	return 0;
}
