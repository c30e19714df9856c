/*
 * ChaCha20-Poly1305 (RFC 8439) on BearSSL, with the nonces WireGuard uses:
 * a 64-bit little-endian counter after four zero bytes for transport
 * data, and XChaCha20-Poly1305 (HChaCha20 of the key and the first 16
 * bytes of a 24-byte nonce) for cookie replies.
 */
#ifndef LAB_AEAD_H
#define LAB_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY 32
#define AEAD_TAG 16

/* In place: p (n bytes) is encrypted and tag written. */
void aead_seal(const uint8_t key[AEAD_KEY], const uint8_t nonce[12], void *p, size_t n,
	       const void *aad, size_t aadlen, uint8_t tag[AEAD_TAG]);
/* In place: 0 when tag is right; -1 else (p then holds garbage: drop it). */
int aead_open(const uint8_t key[AEAD_KEY], const uint8_t nonce[12], void *p, size_t n,
	      const void *aad, size_t aadlen, const uint8_t tag[AEAD_TAG]);
/* WireGuard's nonce for a counter. */
void aead_nonce(uint8_t nonce[12], uint64_t counter);

void hchacha20(uint8_t out[32], const uint8_t key[32], const uint8_t nonce[16]);
void xaead_seal(const uint8_t key[AEAD_KEY], const uint8_t nonce[24], void *p, size_t n,
		const void *aad, size_t aadlen, uint8_t tag[AEAD_TAG]);
int xaead_open(const uint8_t key[AEAD_KEY], const uint8_t nonce[24], void *p, size_t n,
	       const void *aad, size_t aadlen, const uint8_t tag[AEAD_TAG]);

#endif
