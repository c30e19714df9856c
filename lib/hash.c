#include "hash.h"

#include <bearssl_hash.h>
#include <bearssl_hmac.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

_Static_assert(sizeof(struct hash_sha256) >= sizeof(br_sha256_context),
	       "struct hash_sha256 too small for br_sha256_context");

void
hash_sha256_init(struct hash_sha256 *h)
{
	br_sha256_init((br_sha256_context *)h);
}

void
hash_sha256_update(struct hash_sha256 *h, const void *p, size_t n)
{
	br_sha256_update((br_sha256_context *)h, p, n);
}

void
hash_sha256_final(struct hash_sha256 *h, uint8_t out[HASH_SHA256_LEN])
{
	br_sha256_out((br_sha256_context *)h, out);
}

void
hash_sha256(const void *p, size_t n, uint8_t out[HASH_SHA256_LEN])
{
	struct hash_sha256 h;

	hash_sha256_init(&h);
	hash_sha256_update(&h, p, n);
	hash_sha256_final(&h, out);
}

void
hash_hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
		 uint8_t out[HASH_SHA256_LEN])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, klen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, p, n);
	br_hmac_out(&hc, out);
}

int
hash_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

int
rand_bytes(void *p, size_t n)
{
	unsigned char *o = p;

	while (n) {
		ssize_t r = getrandom(o, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		o += r;
		n -= (size_t)r;
	}
	return 0;
}

int
rand_uniform(uint32_t bound, uint32_t *out)
{
	uint32_t v, min;

	if (bound == 0) {
		errno = EINVAL;
		return -1;
	}
	/* Reject the low values that would make v % bound uneven. */
	min = -bound % bound;
	do {
		if (rand_bytes(&v, sizeof(v)) < 0)
			return -1;
	} while (v < min);
	*out = v % bound;
	return 0;
}

#if defined(__x86_64__)
/* The SSE4.2 instruction, 8 bytes at a time, where the CPU has it. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const unsigned char *b, size_t n)
{
	uint64_t c = crc;

	for (; n && ((uintptr_t)b & 7); n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	for (; n >= 8; n -= 8, b += 8) {
		uint64_t v;

		memcpy(&v, b, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	while (n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	return (uint32_t)c;
}

static int
have_sse42(void)
{
	static int known, have;

	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		unsigned a, b, c, d;

		__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
		have = (c >> 20) & 1;	/* CPUID.1:ECX.SSE4_2 */
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return have;
}
#endif

uint32_t
hash_crc32c(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
	if (have_sse42())
		return crc32c_sse42(crc, p, n);
#endif
	return hash_crc32c_portable(crc, p, n);
}

uint32_t
hash_crc32c_portable(uint32_t crc, const void *p, size_t n)
{
	static uint32_t table[256];
	static int ready;
	const unsigned char *b = p;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		uint32_t t[256], i, k;

		for (i = 0; i < 256; i++) {
			uint32_t c = i;

			for (k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;	/* reflected 0x1edc6f41 */
			t[i] = c;
		}
		memcpy(table, t, sizeof(table));
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t
hash_inet_sum(const void *p, size_t n, uint32_t s)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < n; i += 2) {
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
		if (s & 0x80000000u)
			s = (s & 0xffff) + (s >> 16);	/* never overflows, whatever n */
	}
	if (n & 1)
		s += (uint32_t)(b[n - 1] << 8);
	return s;
}

uint16_t
hash_inet_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}
