/* ChaCha20-Poly1305: RFC 8439 2.8.2; XChaCha20-Poly1305:
 * draft-irtf-cfrg-xchacha-03 A.3.1; a forged tag, a changed byte and
 * changed additional data are refused. */
#include <stdint.h>
#include <string.h>

#include <bearssl_block.h>

#include "aead.h"
#include "chacha_avx2.h"
#include "buf.h"
#include "tap.h"

static const char sunscreen[] = "Ladies and Gentlemen of the class of '99: If I could offer you only "
				"one tip for the future, sunscreen would be it.";

int
main(void)
{
	uint8_t key[32], nonce[24], aad[12], buf[256], tag[16];
	size_t n = strlen(sunscreen), i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	hex_decode("50515253c0c1c2c3c4c5c6c7", aad, sizeof(aad));
	hex_decode("070000004041424344454647", nonce, 12);
	memcpy(buf, sunscreen, n);
	aead_seal(key, nonce, buf, n, aad, 12, tag);
	is_str(hexof(buf, n),
	       "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb"
	       "69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fa"
	       "d675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116",
	       "chacha20-poly1305 ciphertext (RFC 8439 2.8.2)");
	is_str(hexof(tag, 16), "1ae10b594f09e26a7e902ecbd0600691", "chacha20-poly1305 tag");
	ok(aead_open(key, nonce, buf, n, aad, 12, tag) == 0 && !memcmp(buf, sunscreen, n),
	   "and back");
	aead_seal(key, nonce, buf, n, aad, 12, tag);
	tag[3] ^= 1;
	ok(aead_open(key, nonce, buf, n, aad, 12, tag) < 0, "a forged tag is refused");
	tag[3] ^= 1;
	aead_seal(key, nonce, memcpy(buf, sunscreen, n), n, aad, 12, tag);
	buf[10] ^= 0x40;
	ok(aead_open(key, nonce, buf, n, aad, 12, tag) < 0, "a changed byte is refused");
	aead_seal(key, nonce, memcpy(buf, sunscreen, n), n, aad, 12, tag);
	ok(aead_open(key, nonce, buf, n, aad, 11, tag) < 0, "other additional data is refused");

	hex_decode("404142434445464748494a4b4c4d4e4f5051525354555657", nonce, 24);
	memcpy(buf, sunscreen, n);
	xaead_seal(key, nonce, buf, n, aad, 12, tag);
	is_str(hexof(buf, n),
	       "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a8"
	       "2f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc36"
	       "9488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e",
	       "xchacha20-poly1305 ciphertext (draft-irtf-cfrg-xchacha-03 A.3.1)");
	is_str(hexof(tag, 16), "c0875924c1c7987947deafd8780acf49", "xchacha20-poly1305 tag");
	ok(xaead_open(key, nonce, buf, n, aad, 12, tag) == 0 && !memcmp(buf, sunscreen, n),
	   "and back");
	aead_nonce(buf, 0x0102030405060708ull);
	is_str(hexof(buf, 12), "000000000807060504030201", "WireGuard's nonce: zeros, then the counter (LE)");
	/* The AVX2 ChaCha20 against BearSSL's portable one: every length up to
	 * 1600 bytes (whole and partial blocks, runs of eight), counters near
	 * the wrap, the counter each returns. */
	if (chacha20_avx2_usable()) {
		static uint8_t a[1700], b[1700];
		uint8_t ck[32], iv[12];
		size_t len;
		int bad = 0, j;

		for (j = 0; j < 32; j++)
			ck[j] = (uint8_t)(j * 7 + 1);
		for (j = 0; j < 12; j++)
			iv[j] = (uint8_t)(j * 13 + 5);
		for (len = 0; len <= 1600; len++) {
			uint32_t cc = len % 3 == 0 ? 0xfffffffcu : (uint32_t)len, ra, rb;

			for (j = 0; j < (int)len; j++)
				a[j] = b[j] = (uint8_t)(j ^ len);
			ra = chacha20_avx2_run(ck, iv, cc, a, len);
			rb = br_chacha20_ct_run(ck, iv, cc, b, len);
			if (ra != rb || memcmp(a, b, len))
				bad++;
		}
		is_int(bad, 0, "AVX2 ChaCha20 = BearSSL's portable one for 0..1600 bytes");
	} else {
		skip("no AVX2 on this CPU", "AVX2 ChaCha20 = BearSSL's portable one");
	}
	return done_testing();
}
