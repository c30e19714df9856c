/*
 * Fuzz the DHCP server: any bytes as a request to a pool with a static
 * lease; the parser checks every option length, and what the server sends
 * back must stay within its buffer and be a well-formed reply.
 */
#include "../../lib/dhcp.c"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dhcp_pool pool;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[1500];
	struct dhcp_msg m, back;
	struct dhcp_event ev;
	uint32_t dst;
	size_t n;

	if (!pool.server) {
		pool.server = 0xc0a80001;
		pool.netmask = 0xffffff00;
		pool.start = 0xc0a80064;
		pool.end = 0xc0a80068;	/* small: the pool fills up */
		pool.router = pool.server;
		pool.dns[0] = pool.server;
		pool.ndns = 1;
		pool.lease_secs = 600;
		str_copy(pool.domain, "lan.test", sizeof(pool.domain));
		pool.statics[0].ip = 0xc0a80007;
		memcpy(pool.statics[0].mac, "\x02\0\0\0\0\x07", 6);
		pool.nstatics = 1;
		pool.routes[0].prefix = 0x0a000000;
		pool.routes[0].plen = 8;
		pool.routes[0].gw = 0xc0a800fe;
		pool.nroutes = 1;
	}
	if (dhcp_parse(data, size, &m) < 0)
		return 0;
	n = dhcp_handle(&pool, &m, 1000 + size, out, sizeof(out), &dst, &ev);
	if (n > sizeof(out))
		abort();
	if (n) {
		/* a reply is a BOOTREPLY: make it look like a request to parse it */
		out[0] = 1;
		if (dhcp_parse(out, n, &back) < 0 || back.xid != m.xid)
			abort();
	}
	if (pool.nleases > 64)
		dhcp_expire(&pool, UINT64_MAX, NULL, NULL);
	return 0;
}
