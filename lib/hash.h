/*
 * Hashing and randomness on top of BearSSL: SHA-256, HMAC-SHA256,
 * constant-time comparison, and the kernel's getrandom().
 */
#ifndef LAB_HASH_H
#define LAB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SHA256_LEN 32

/* Opaque enough for callers, big enough for BearSSL's context. */
struct hash_sha256 {
	uint64_t state[32];
};

void hash_sha256_init(struct hash_sha256 *h);
void hash_sha256_update(struct hash_sha256 *h, const void *p, size_t n);
void hash_sha256_final(struct hash_sha256 *h, uint8_t out[HASH_SHA256_LEN]);
void hash_sha256(const void *p, size_t n, uint8_t out[HASH_SHA256_LEN]);

void hash_hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
		      uint8_t out[HASH_SHA256_LEN]);

/* Compare in time independent of where the buffers differ. 0 if equal. */
int hash_equal(const void *a, const void *b, size_t n);

/* CRC-32C (Castagnoli), the raw update: no inversion in or out. The usual
 * CRC-32C of data is ~hash_crc32c(~0u, data); btrfs send streams use
 * hash_crc32c(0, command). */
uint32_t hash_crc32c(uint32_t crc, const void *p, size_t n);
/* The same a byte at a time from a table (what hash_crc32c uses where the
 * CPU has no CRC-32C instruction). */
uint32_t hash_crc32c_portable(uint32_t crc, const void *p, size_t n);

/* Fill with random bytes from getrandom(); -1 with errno on failure. */
int rand_bytes(void *p, size_t n);
/* A uniform random number in [0, bound), bound > 0, without modulo bias. */
int rand_uniform(uint32_t bound, uint32_t *out);

/* The Internet checksum (RFC 1071): the 16-bit one's-complement sum of p
 * added to s (big-endian words, an odd last byte padded), and its fold to
 * 16 bits, complemented: what goes into a header's checksum field. */
uint32_t hash_inet_sum(const void *p, size_t n, uint32_t s);
uint16_t hash_inet_fold(uint32_t s);

#endif
