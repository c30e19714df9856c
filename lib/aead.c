/* ChaCha20-Poly1305 and XChaCha20-Poly1305 through BearSSL. */
#include "aead.h"

#include <bearssl_block.h>
#include <string.h>

#include "chacha_avx2.h"
#include "hash.h"

static br_chacha20_run chacha;
static br_poly1305_run poly;

static void
pick(void)
{
	/* the fastest implementations this CPU has (AVX2 or SSE2, 64-bit
	 * multiplies) */
	if (!chacha) {
		br_chacha20_run c = chacha20_avx2_usable() ? chacha20_avx2_run : br_chacha20_sse2_get();
		br_poly1305_run p = br_poly1305_ctmulq_get();

		poly = p ? p : br_poly1305_ctmul_run;
		chacha = c ? c : br_chacha20_ct_run;
	}
}

void
aead_nonce(uint8_t nonce[12], uint64_t counter)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

void
aead_seal(const uint8_t key[AEAD_KEY], const uint8_t nonce[12], void *p, size_t n, const void *aad,
	  size_t aadlen, uint8_t tag[AEAD_TAG])
{
	pick();
	poly(key, nonce, p, n, aad, aadlen, tag, chacha, 1);
}

int
aead_open(const uint8_t key[AEAD_KEY], const uint8_t nonce[12], void *p, size_t n, const void *aad,
	  size_t aadlen, const uint8_t tag[AEAD_TAG])
{
	uint8_t got[AEAD_TAG];

	pick();
	poly(key, nonce, p, n, aad, aadlen, got, chacha, 0);
	return hash_equal(got, tag, AEAD_TAG) == 0 ? 0 : -1;
}

static uint32_t
rotl(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define QR(a, b, c, d)                                  \
	do {                                            \
		x[a] += x[b];                           \
		x[d] = rotl(x[d] ^ x[a], 16);           \
		x[c] += x[d];                           \
		x[b] = rotl(x[b] ^ x[c], 12);           \
		x[a] += x[b];                           \
		x[d] = rotl(x[d] ^ x[a], 8);            \
		x[c] += x[d];                           \
		x[b] = rotl(x[b] ^ x[c], 7);            \
	} while (0)

/* The ChaCha20 block function's 20 rounds without the final addition:
 * words 0-3 and 12-15 are the subkey (draft-irtf-cfrg-xchacha 2.2). */
void
hchacha20(uint8_t out[32], const uint8_t key[32], const uint8_t nonce[16])
{
	uint32_t x[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
	int i;

	for (i = 0; i < 8; i++)
		x[4 + i] = le32(key + 4 * i);
	for (i = 0; i < 4; i++)
		x[12 + i] = le32(nonce + 4 * i);
	for (i = 0; i < 10; i++) {
		QR(0, 4, 8, 12);
		QR(1, 5, 9, 13);
		QR(2, 6, 10, 14);
		QR(3, 7, 11, 15);
		QR(0, 5, 10, 15);
		QR(1, 6, 11, 12);
		QR(2, 7, 8, 13);
		QR(3, 4, 9, 14);
	}
	for (i = 0; i < 4; i++) {
		uint32_t a = x[i], b = x[12 + i];

		out[4 * i] = (uint8_t)a;
		out[4 * i + 1] = (uint8_t)(a >> 8);
		out[4 * i + 2] = (uint8_t)(a >> 16);
		out[4 * i + 3] = (uint8_t)(a >> 24);
		out[16 + 4 * i] = (uint8_t)b;
		out[16 + 4 * i + 1] = (uint8_t)(b >> 8);
		out[16 + 4 * i + 2] = (uint8_t)(b >> 16);
		out[16 + 4 * i + 3] = (uint8_t)(b >> 24);
	}
	memset(x, 0, sizeof(x));
}

static void
xsetup(uint8_t sub[32], uint8_t n12[12], const uint8_t key[32], const uint8_t nonce[24])
{
	hchacha20(sub, key, nonce);
	memset(n12, 0, 4);
	memcpy(n12 + 4, nonce + 16, 8);
}

void
xaead_seal(const uint8_t key[AEAD_KEY], const uint8_t nonce[24], void *p, size_t n,
	   const void *aad, size_t aadlen, uint8_t tag[AEAD_TAG])
{
	uint8_t sub[32], n12[12];

	xsetup(sub, n12, key, nonce);
	aead_seal(sub, n12, p, n, aad, aadlen, tag);
	memset(sub, 0, sizeof(sub));
}

int
xaead_open(const uint8_t key[AEAD_KEY], const uint8_t nonce[24], void *p, size_t n,
	   const void *aad, size_t aadlen, const uint8_t tag[AEAD_TAG])
{
	uint8_t sub[32], n12[12];
	int rc;

	xsetup(sub, n12, key, nonce);
	rc = aead_open(sub, n12, p, n, aad, aadlen, tag);
	memset(sub, 0, sizeof(sub));
	return rc;
}
