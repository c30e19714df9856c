/*
 * Fuzz lib/wg_uapi's reader of get=1 answers (what lab vpn show and peer ls
 * read from any userspace WireGuard's socket): no input crashes or leaks,
 * what it accepts holds valid counts, and every peer's allowed IPs are
 * strings it can print.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/wg_uapi.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_uapi_dev d;
	size_t i, j;

	if (wg_uapi_parse((const char *)data, size, &d) < 0)
		return 0;
	for (i = 0; i < d.npeers; i++) {
		assert(strlen(d.peers[i].endpoint) < sizeof(d.peers[i].endpoint));
		for (j = 0; j < d.peers[i].nallowed; j++)
			assert(d.peers[i].allowed[j] && strlen(d.peers[i].allowed[j]) < 256);
	}
	wg_uapi_free(&d);
	return 0;
}
