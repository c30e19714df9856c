#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "hash.h"
#include "tap.h"

/* FIPS 180-2 appendix B examples, and the empty string. */
static void
test_sha256(void)
{
	struct hash_sha256 h;
	uint8_t out[32];
	char *a;
	int i;

	hash_sha256("", 0, out);
	is_str(hexof(out, 32), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of the empty string");
	hash_sha256("abc", 3, out);
	is_str(hexof(out, 32), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "sha256 \"abc\"");
	a = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hash_sha256(a, strlen(a), out);
	is_str(hexof(out, 32), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	       "sha256 448-bit message");
	a = malloc(1000);
	memset(a, 'a', 1000);
	hash_sha256_init(&h);
	for (i = 0; i < 1000; i++)
		hash_sha256_update(&h, a, 1000);
	hash_sha256_final(&h, out);
	free(a);
	is_str(hexof(out, 32), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million 'a', incrementally");
}

/* RFC 4231 test cases 1, 2, 3, 4, 6, 7. */
static void
test_hmac(void)
{
	static const char tc7[] =
		"This is a test using a larger than block-size key and a larger than block-size "
		"data. The key needs to be hashed before being used by the HMAC algorithm.";
	uint8_t key[131], data[50], out[32];
	int i;

	memset(key, 0x0b, 20);
	hash_hmac_sha256(key, 20, "Hi There", 8, out);
	is_str(hexof(out, 32), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	       "hmac-sha256 RFC 4231 case 1");
	hash_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
	is_str(hexof(out, 32), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "hmac-sha256 RFC 4231 case 2");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	hash_hmac_sha256(key, 20, data, 50, out);
	is_str(hexof(out, 32), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	       "hmac-sha256 RFC 4231 case 3");
	for (i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	hash_hmac_sha256(key, 25, data, 50, out);
	is_str(hexof(out, 32), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	       "hmac-sha256 RFC 4231 case 4");
	memset(key, 0xaa, 131);
	hash_hmac_sha256(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54, out);
	is_str(hexof(out, 32), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	       "hmac-sha256 RFC 4231 case 6 (key longer than a block)");
	hash_hmac_sha256(key, 131, tc7, strlen(tc7), out);
	is_str(hexof(out, 32), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	       "hmac-sha256 RFC 4231 case 7 (key and data longer than a block)");
}

static void
test_rand(void)
{
	uint8_t a[32], b[32], zero[32] = { 0 };
	uint32_t v, seen = 0;
	int i, inrange = 1;

	ok(rand_bytes(a, sizeof(a)) == 0 && rand_bytes(b, sizeof(b)) == 0, "getrandom works");
	ok(memcmp(a, b, 32) != 0 && memcmp(a, zero, 32) != 0, "two draws differ");
	for (i = 0; i < 2000; i++) {
		if (rand_uniform(5, &v) < 0 || v >= 5)
			inrange = 0;
		else
			seen |= 1u << v;
	}
	ok(inrange, "rand_uniform stays below its bound");
	is_int(seen, 0x1f, "rand_uniform reaches every value");
	ok(rand_uniform(0, &v) < 0, "bound 0 refused");
	ok(hash_equal("abc", "abc", 3) == 0 && hash_equal("abc", "abd", 3) != 0, "hash_equal");
}

/* CRC-32C check value (RFC 3720 B.4 and the Castagnoli "check" of
 * "123456789"), and RFC 3720's 32 zero bytes. */
static void
test_crc32c(void)
{
	uint8_t z[32] = { 0 }, ff[32];

	memset(ff, 0xff, sizeof(ff));
	is_int(~hash_crc32c(~0u, "123456789", 9), 0xe3069283, "crc32c check value");
	is_int(~hash_crc32c(~0u, z, 32), 0x8a9136aa, "crc32c of 32 zero bytes (RFC 3720)");
	is_int(~hash_crc32c(~0u, ff, 32), 0x62a8ab43, "crc32c of 32 0xff bytes (RFC 3720)");
	is_int(hash_crc32c(hash_crc32c(0, "1234", 4), "56789", 5), hash_crc32c(0, "123456789", 9),
	       "crc32c in pieces");
	{
		uint8_t buf[4096 + 16];
		size_t len, off;
		int same = 1;

		rand_bytes(buf, sizeof(buf));
		for (len = 0; len < 300; len += 7)
			for (off = 0; off < 9; off++)
				same &= hash_crc32c(0x1234567u, buf + off, len) ==
					hash_crc32c_portable(0x1234567u, buf + off, len);
		same &= hash_crc32c(0, buf, 4096) == hash_crc32c_portable(0, buf, 4096);
		ok(same, "crc32c: the CPU's instruction and the table agree (any length, any alignment)");
		is_int(~hash_crc32c_portable(~0u, "123456789", 9), 0xe3069283, "crc32c table check value");
	}
}

int
main(void)
{
	test_crc32c();
	test_sha256();
	test_hmac();
	test_rand();
	{
		/* RFC 1071 section 3's example: the sum folds to 0xddf2 */
		static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
		static uint8_t big[200000];

		is_int(hash_inet_fold(hash_inet_sum(ex, sizeof(ex), 0)), 0x220d, "Internet checksum: RFC 1071's example");
		is_int(hash_inet_fold(hash_inet_sum(ex, 3, 0)), (uint16_t)~(0x0001 + 0xf200), "an odd length pads with a zero");
		memset(big, 0xff, sizeof(big));
		is_int(hash_inet_fold(hash_inet_sum(big, sizeof(big), 0)), 0, "200000 bytes of 0xff: no overflow");
	}
	return done_testing();
}
