/* ChaCha20, eight blocks per round of AVX2 (lib/chacha_avx2.h). */
#include "chacha_avx2.h"

#include <bearssl_block.h>
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

int
chacha20_avx2_usable(void)
{
	unsigned a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6)
		return 0;	/* the kernel does not save the YMM registers */
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2);
}

#define ROTL(x, n) _mm256_or_si256(_mm256_slli_epi32(x, n), _mm256_srli_epi32(x, 32 - (n)))
#define QR(a, b, c, d)                                        \
	do {                                                  \
		a = _mm256_add_epi32(a, b);                   \
		d = _mm256_shuffle_epi8(_mm256_xor_si256(d, a), r16); \
		c = _mm256_add_epi32(c, d);                   \
		b = ROTL(_mm256_xor_si256(b, c), 12);         \
		a = _mm256_add_epi32(a, b);                   \
		d = _mm256_shuffle_epi8(_mm256_xor_si256(d, a), r8); \
		c = _mm256_add_epi32(c, d);                   \
		b = ROTL(_mm256_xor_si256(b, c), 7);          \
	} while (0)

/* Words 0-7 (or 8-15) of eight blocks, lane j = block j, to block order:
 * out[j] holds block j's eight words. */
__attribute__((target("avx2"))) static void
transpose(const __m256i a[8], __m256i out[8])
{
	__m256i t0 = _mm256_unpacklo_epi32(a[0], a[1]), t1 = _mm256_unpackhi_epi32(a[0], a[1]);
	__m256i t2 = _mm256_unpacklo_epi32(a[2], a[3]), t3 = _mm256_unpackhi_epi32(a[2], a[3]);
	__m256i t4 = _mm256_unpacklo_epi32(a[4], a[5]), t5 = _mm256_unpackhi_epi32(a[4], a[5]);
	__m256i t6 = _mm256_unpacklo_epi32(a[6], a[7]), t7 = _mm256_unpackhi_epi32(a[6], a[7]);
	__m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
	__m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
	__m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
	__m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);

	out[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
	out[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
	out[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
	out[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
	out[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
	out[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
	out[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
	out[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/* 512 bytes of key stream for blocks cc..cc+7 into ks. */
__attribute__((target("avx2"))) static void
blocks8(const uint32_t in[16], uint32_t cc, uint8_t ks[512])
{
	const __m256i r16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6,
					     7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
	const __m256i r8 = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, 3, 0, 1, 2, 7,
					    4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
	__m256i x[16], s[16], lo[8], hi[8];
	int i;

	for (i = 0; i < 16; i++)
		s[i] = _mm256_set1_epi32((int)in[i]);
	s[12] = _mm256_add_epi32(_mm256_set1_epi32((int)cc), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
	for (i = 0; i < 16; i++)
		x[i] = s[i];
	for (i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (i = 0; i < 16; i++)
		x[i] = _mm256_add_epi32(x[i], s[i]);
	transpose(x, lo);
	transpose(x + 8, hi);
	for (i = 0; i < 8; i++) {
		_mm256_storeu_si256((__m256i *)(ks + 64 * i), lo[i]);
		_mm256_storeu_si256((__m256i *)(ks + 64 * i + 32), hi[i]);
	}
}

__attribute__((target("avx2"))) uint32_t
chacha20_avx2_run(const void *key, const void *iv, uint32_t cc, void *data, size_t len)
{
	static const uint32_t sigma[4] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
	uint8_t *p = data, ks[512];
	uint32_t in[16];
	int i;

	if (len < 256)
		return br_chacha20_sse2_run(key, iv, cc, data, len);
	memcpy(in, sigma, 16);
	for (i = 0; i < 8; i++)
		memcpy(&in[4 + i], (const uint8_t *)key + 4 * i, 4);	/* little-endian words */
	memcpy(&in[13], iv, 12);
	while (len >= 512) {
		blocks8(in, cc, ks);
		for (i = 0; i < 512; i += 32) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(p + i));

			_mm256_storeu_si256((__m256i *)(p + i),
					    _mm256_xor_si256(v, _mm256_loadu_si256((const __m256i *)(ks + i))));
		}
		p += 512;
		len -= 512;
		cc += 8;
	}
	if (len >= 256) {
		size_t k;

		blocks8(in, cc, ks);
		for (k = 0; k < len; k++)
			p[k] ^= ks[k];
		cc += (uint32_t)((len + 63) / 64);
	} else if (len) {
		cc = br_chacha20_sse2_run(key, iv, cc, p, len);
	}
	return cc;
}
