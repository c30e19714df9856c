/*
 * Fuzz what lab vpn reads from the network: handshake initiations and
 * responses and data messages, against fixed keys and a finished session.
 * Nothing forged is accepted (without the keys, a message that passes
 * would be a forgery of BLAKE2s or Poly1305), and no input crashes.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/wg_noise.h"
#include "../../lib/x25519.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_identity a, b;
	static struct wg_session sa;
	static int ready;
	struct wg_handshake hs;
	struct wg_session s;
	uint8_t buf[4096];
	uint64_t ctr;

	if (!ready) {
		struct wg_handshake ha, hb;
		struct wg_session sb;
		uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN];

		x25519_generate(a.priv);
		x25519_public(a.pub, a.priv);
		x25519_generate(b.priv);
		x25519_public(b.pub, b.priv);
		assert(wg_initiation(&ha, &a, b.pub, NULL, 1, init) == 0);
		assert(wg_consume_initiation(&hb, &b, init, sizeof(init)) == 0);
		assert(wg_response(&hb, NULL, 2, resp, &sb) == 0);
		assert(wg_consume_response(&ha, &a, resp, sizeof(resp), &sa) == 0);
		ready = 1;
	}
	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	assert(wg_consume_initiation(&hs, &b, buf, size) < 0);
	memset(&hs, 0, sizeof(hs));
	hs.local_index = 1;
	memcpy(buf, data, size);
	assert(wg_consume_response(&hs, &a, buf, size, &s) < 0);
	memcpy(buf, data, size);
	assert(wg_open(&sa, buf, size, &ctr) < 0);
	return 0;
}
