/* BLAKE2s: RFC 7693's "abc" (Appendix B) and its self-test over every
 * digest and key length it lists (Appendix E); HMAC-BLAKE2s against
 * values from another implementation (CPython's hashlib and hmac). */
#include <stdint.h>
#include <string.h>

#include "blake2s.h"
#include "buf.h"
#include "tap.h"

/* RFC 7693 Appendix E's deterministic input */
static void
seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xdead4bad * seed, b = 1, t;
	size_t i;

	for (i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

int
main(void)
{
	static const size_t outlens[] = { 16, 20, 28, 32 }, inlens[] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t out[32], in[1024], key[32], md[32];
	struct blake2s grand, s;
	size_t i, j;

	blake2s(out, 32, NULL, 0, "abc", 3);
	is_str(hexof(out, 32), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
	       "blake2s-256(\"abc\") (RFC 7693 B)");
	blake2s(out, 32, NULL, 0, "", 0);
	is_str(hexof(out, 32), "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9",
	       "blake2s-256 of nothing");
	blake2s_init(&grand, 32, NULL, 0);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 6; j++) {
			seq(in, inlens[j], (uint32_t)inlens[j]);
			blake2s(md, outlens[i], NULL, 0, in, inlens[j]);
			blake2s_update(&grand, md, outlens[i]);
			seq(key, outlens[i], (uint32_t)outlens[i]);
			blake2s(md, outlens[i], key, outlens[i], in, inlens[j]);
			blake2s_update(&grand, md, outlens[i]);
		}
	blake2s_final(&grand, out);
	is_str(hexof(out, 32), "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe",
	       "RFC 7693 E self-test: unkeyed and keyed, digests 16-32, inputs 0-1024");
	/* in pieces, across block boundaries */
	seq(in, 1024, 7);
	blake2s(md, 32, NULL, 0, in, 1024);
	blake2s_init(&s, 32, NULL, 0);
	blake2s_update(&s, in, 1);
	blake2s_update(&s, in + 1, 63);
	blake2s_update(&s, in + 64, 64);
	blake2s_update(&s, in + 128, 500);
	blake2s_update(&s, in + 628, 396);
	blake2s_final(&s, out);
	ok(!memcmp(md, out, 32), "updates in pieces equal one update");
	ok(blake2s(out, 33, NULL, 0, "", 0) < 0 && blake2s(out, 32, key, 33, "", 0) < 0,
	   "digest over 32 bytes or key over 32 bytes refused");
	hmac_blake2s(out, "key", 3, "The quick brown fox jumps over the lazy dog", 43);
	is_str(hexof(out, 32), "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0",
	       "hmac-blake2s, a short key");
	for (i = 0; i < 100; i++)
		in[i] = (uint8_t)i;
	memset(in + 100, 'x', 200);
	hmac_blake2s(out, in, 100, in + 100, 200);
	is_str(hexof(out, 32), "834cd67f8ca0de35dfcdfff1510ae170f5850f5455aba1c085196c441d7ca7d9",
	       "hmac-blake2s, a key longer than a block");
	return done_testing();
}
