/* WireGuard's handshake between two lab ends in memory: both derive the
 * same session keys, data goes both ways, and a wrong key, a tampered
 * message, a different preshared key or a forged data message fail.
 * (The same code against wireguard-go: tests/netns/vpn.sh.) */
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "wg_noise.h"
#include "x25519.h"

static void
ident(struct wg_identity *id)
{
	x25519_generate(id->priv);
	x25519_public(id->pub, id->priv);
}

int
main(void)
{
	struct wg_identity a, b, c;
	struct wg_handshake ha, hb;
	struct wg_session sa, sb;
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], psk[32], other[32], pkt[128];
	uint64_t ctr;
	long n;

	ident(&a);
	ident(&b);
	ident(&c);
	memset(psk, 7, 32);
	memset(other, 8, 32);
	ok(wg_initiation(&ha, &a, b.pub, psk, 0x11223344, init) == 0, "initiation made");
	ok(init[0] == 1 && init[4] == 0x44 && init[7] == 0x11, "type 1, the sender index little-endian");
	ok(wg_consume_initiation(&hb, &c, init, sizeof(init)) < 0, "not for this key: refused (mac1)");
	ok(wg_consume_initiation(&hb, &b, init, sizeof(init)) == 0, "the responder reads it");
	ok(!memcmp(hb.peer_static, a.pub, 32), "and learns the initiator's static key");
	ok(!memcmp(hb.timestamp, ha.timestamp, 12), "and its timestamp");
	ok(wg_response(&hb, psk, 0x55667788, resp, &sb) == 0, "response made");
	ok(resp[0] == 2 && resp[8] == 0x44, "type 2, addressed to the initiator's index");
	{
		struct wg_handshake copy = ha;
		struct wg_session s;
		uint8_t r2[WG_RESP_LEN];

		memcpy(r2, resp, sizeof(r2));
		r2[20] ^= 1;
		ok(wg_consume_response(&copy, &a, r2, sizeof(r2), &s) < 0, "a tampered response is refused");
		copy = ha;
		memcpy(copy.psk, other, 32);
		ok(wg_consume_response(&copy, &a, resp, sizeof(resp), &s) < 0,
		   "another preshared key: refused");
	}
	ok(wg_consume_response(&ha, &a, resp, sizeof(resp), &sa) == 0, "the initiator reads the response");
	ok(!memcmp(sa.send, sb.recv, 32) && !memcmp(sa.recv, sb.send, 32) && memcmp(sa.send, sa.recv, 32),
	   "both ends have the same two keys, one per direction");
	ok(sa.remote_index == 0x55667788 && sb.remote_index == 0x11223344, "indexes exchanged");
	{
		size_t len = wg_seal(&sa, "hello", 5, pkt);

		ok(len == WG_DATA_HEAD + 16 + WG_TAG, "data padded to 16 bytes");
		n = wg_open(&sb, pkt, len, &ctr);
		ok(n == 16 && !memcmp(pkt + WG_DATA_HEAD, "hello", 5) && ctr == 0, "initiator to responder");
		len = wg_seal(&sb, "", 0, pkt);
		ok(len == WG_DATA_HEAD + WG_TAG && wg_open(&sa, pkt, len, &ctr) == 0, "a keepalive back");
		len = wg_seal(&sa, "again", 5, pkt);
		pkt[WG_DATA_HEAD + 2] ^= 1;
		ok(wg_open(&sb, pkt, len, &ctr) < 0, "a forged data message is refused");
	}
	return done_testing();
}
