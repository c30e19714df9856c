/* WireGuard's cookie messages (lib/wg_noise): a reply opens only under
 * the responder's key and for the mac1 it answers; mac2 checks. (That
 * wireguard-go accepts lab's replies is tests/netns/vpn_lab.sh's.) */
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "wg_noise.h"
#include "x25519.h"

int
main(void)
{
	{
		struct wg_identity r;
		uint8_t msg[WG_INIT_LEN], reply[WG_COOKIE_LEN], cookie[WG_COOKIE], got[WG_COOKIE], secret[32],
			other[32];
		struct wg_handshake hs;
		struct wg_identity me;

		x25519_generate(r.priv);
		x25519_public(r.pub, r.priv);
		x25519_generate(me.priv);
		x25519_public(me.pub, me.priv);
		ok(wg_initiation(&hs, &me, r.pub, NULL, 7, msg) == 0, "an initiation");
		ok(wg_mac1_ok(r.pub, msg, sizeof(msg)), "its mac1 is the responder's");
		ok(!wg_mac1_ok(me.pub, msg, sizeof(msg)), "and no one else's");
		memset(secret, 1, sizeof(secret));
		wg_cookie_make(secret, "\x0a\x00\x00\x01\x1f\x90", 6, cookie);
		ok(!wg_mac2_ok(cookie, msg, sizeof(msg)), "no mac2 yet");
		ok(wg_cookie_reply(r.pub, msg, sizeof(msg), cookie, reply) == 0, "a cookie reply");
		ok(reply[0] == 3 && !memcmp(reply + 4, msg + 4, 4), "type 3, to the initiation's sender index");
		ok(wg_consume_cookie_reply(r.pub, msg + 116, reply, sizeof(reply), got) == 0 &&
			   !memcmp(got, cookie, WG_COOKIE),
		   "the initiator opens it: the same cookie");
		x25519_generate(other);
		ok(wg_consume_cookie_reply(me.pub, msg + 116, reply, sizeof(reply), got) < 0,
		   "under another key it does not open");
		memset(other, 0, 16);
		ok(wg_consume_cookie_reply(r.pub, other, reply, sizeof(reply), got) < 0,
		   "nor for another message's mac1");
		wg_mac2_add(msg, sizeof(msg), cookie);
		ok(wg_mac2_ok(cookie, msg, sizeof(msg)), "mac2 with the cookie checks");
		ok(wg_mac1_ok(r.pub, msg, sizeof(msg)), "and leaves mac1 as it was");
		msg[20] ^= 1;
		ok(!wg_mac2_ok(cookie, msg, sizeof(msg)), "a changed message fails mac2");
	}
	return done_testing();
}
