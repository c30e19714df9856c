/* X25519: RFC 7748's test vectors (section 5.2, one and 1000 iterations,
 * and the Diffie-Hellman example of section 6.1). */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "x25519.h"

static void
unhex(const char *s, uint8_t *out)
{
	hex_decode(s, out, 32);
}

int
main(void)
{
	uint8_t k[32], u[32], r[32], a[32], b[32], ap[32], bp[32], s1[32], s2[32];
	int i;

	unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k);
	unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u);
	ok(x25519(r, k, u) == 0, "x25519 5.2 (1)");
	is_str(hexof(r, 32), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
	       "x25519 5.2 (1) result");
	/* the top bit of u is ignored (RFC 7748 section 5) */
	unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u);
	u[31] |= 0x80;
	unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", k);
	x25519(r, k, u);
	is_str(hexof(r, 32), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
	       "x25519 with the top bit of u set: the same");
	/* iterated: k = x25519(k, u), u = old k, starting from 9 */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (i = 0; i < 1000; i++) {
		x25519(r, k, u);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 0)
			is_str(hexof(k, 32), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
			       "x25519 iterated once");
	}
	is_str(hexof(k, 32), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
	       "x25519 iterated 1000 times");
	unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
	unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b);
	x25519_public(ap, a);
	x25519_public(bp, b);
	is_str(hexof(ap, 32), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	       "Alice's public key (6.1)");
	is_str(hexof(bp, 32), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	       "Bob's public key (6.1)");
	x25519(s1, a, bp);
	x25519(s2, b, ap);
	is_str(hexof(s1, 32), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
	       "the shared secret (6.1)");
	ok(!memcmp(s1, s2, 32), "both sides agree");
	memset(u, 0, 32);
	ok(x25519(r, a, u) < 0, "a low-order point (zero) gives an all-zero result: refused");
	x25519_generate(k);
	ok((k[0] & 7) == 0 && (k[31] & 0xc0) == 0x40, "a generated key is clamped");
	return done_testing();
}
