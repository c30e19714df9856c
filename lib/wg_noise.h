/*
 * WireGuard's handshake (Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, as the
 * WireGuard paper specifies it) and transport data messages.
 *
 *	initiation (type 1, 148 bytes): sender index, ephemeral, encrypted
 *	static key, encrypted TAI64N timestamp, mac1, mac2
 *	response (type 2, 92 bytes): sender index, receiver index, ephemeral,
 *	encrypted nothing, mac1, mac2
 *	data (type 4): receiver index, 64-bit counter, encrypted packet
 *	(padded to 16 bytes)
 *
 * All integers little-endian. mac1 is keyed BLAKE2s (16 bytes) under
 * HASH("mac1----" || the receiver's public key); mac2 is zero without a
 * cookie.
 */
#ifndef LAB_WG_NOISE_H
#define LAB_WG_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define WG_KEY 32
#define WG_INIT_LEN 148
#define WG_RESP_LEN 92
#define WG_DATA_HEAD 16
#define WG_TAG 16
#define WG_COOKIE 16
#define WG_COOKIE_LEN 64

struct wg_identity {
	uint8_t priv[WG_KEY], pub[WG_KEY];
};

/* One handshake in progress, on either side. */
struct wg_handshake {
	uint8_t ck[32], h[32];
	uint8_t e_priv[WG_KEY], e_pub[WG_KEY];	/* ours */
	uint8_t peer_e[WG_KEY];			/* theirs */
	uint8_t peer_static[WG_KEY];
	uint8_t psk[32];
	uint8_t timestamp[12];			/* the initiation's */
	uint32_t local_index, remote_index;
};

/* A finished handshake: the keys of both directions. */
struct wg_session {
	uint8_t send[32], recv[32];
	uint32_t local_index, remote_index;
	uint64_t send_counter;
};

/* Keys as wg writes them: 44 characters of base64 (and a NUL). */
int wg_key_decode(const char *s, uint8_t k[WG_KEY]);
void wg_key_encode(const uint8_t k[WG_KEY], char out[45]);

/* KDF_n of the paper (HKDF with HMAC-BLAKE2s): n outputs of 32 bytes. */
void wg_kdf(uint8_t (*out)[32], int n, const uint8_t key[32], const void *in, size_t len);
void wg_tai64n(uint8_t out[12]);

/* Initiator: the first message to a peer whose public key is peer_pub. */
int wg_initiation(struct wg_handshake *hs, const struct wg_identity *me,
		  const uint8_t peer_pub[WG_KEY], const uint8_t psk[32], uint32_t index,
		  uint8_t msg[WG_INIT_LEN]);
/* Responder: check and read an initiation; hs->peer_static is who sent it
 * (to be matched against the peers it knows). */
int wg_consume_initiation(struct wg_handshake *hs, const struct wg_identity *me,
			  const uint8_t *msg, size_t len);
/* Responder: the answer, and the session (psk: the one for that peer). */
int wg_response(struct wg_handshake *hs, const uint8_t psk[32], uint32_t index,
		uint8_t msg[WG_RESP_LEN], struct wg_session *out);
/* Initiator: check and read the answer; the session. */
int wg_consume_response(struct wg_handshake *hs, const struct wg_identity *me,
			const uint8_t *msg, size_t len, struct wg_session *out);

/* A data message for packet p (n bytes): out holds WG_DATA_HEAD + the
 * padded length + WG_TAG; its length is returned. */
size_t wg_seal(struct wg_session *s, const void *p, size_t n, uint8_t *out);
/* wg_seal in two steps, so that many can be encrypted in parallel: the
 * header with the next counter and the padded packet (p may be out +
 * WG_DATA_HEAD), then the encryption in place under the session's send
 * key; the message's length as wg_seal gives it. */
size_t wg_seal_prepare(struct wg_session *s, const void *p, size_t n, uint8_t *out);
void wg_seal_finish(const uint8_t key[32], uint8_t *msg, size_t len);
/* In place: the padded packet's length, or -1 (not ours, or forged);
 * *counter gets its counter (for the replay window). */
long wg_open(const struct wg_session *s, uint8_t *msg, size_t len, uint64_t *counter);

/* Cookies, for a responder under load (the paper's 5.4.7). mac1/mac2 are
 * the last 32 and 16 bytes of an initiation or a response. */
int wg_mac1_ok(const uint8_t my_pub[WG_KEY], const uint8_t *msg, size_t len);
/* The cookie of a source (its address and port bytes) under a secret that
 * the responder changes every two minutes. */
void wg_cookie_make(const uint8_t secret[32], const void *src, size_t srclen, uint8_t cookie[WG_COOKIE]);
int wg_mac2_ok(const uint8_t cookie[WG_COOKIE], const uint8_t *msg, size_t len);
void wg_mac2_add(uint8_t *msg, size_t len, const uint8_t cookie[WG_COOKIE]);
/* The cookie reply to msg (type 3, 64 bytes), sealed with XChaCha20-Poly1305
 * under HASH("cookie--" || my_pub), msg's mac1 as associated data. */
int wg_cookie_reply(const uint8_t my_pub[WG_KEY], const uint8_t *msg, size_t len,
		    const uint8_t cookie[WG_COOKIE], uint8_t out[WG_COOKIE_LEN]);
/* The initiator's side: the cookie of a reply to the message whose mac1
 * was sent_mac1. */
int wg_consume_cookie_reply(const uint8_t peer_pub[WG_KEY], const uint8_t sent_mac1[16], const uint8_t *msg,
			    size_t len, uint8_t cookie[WG_COOKIE]);

#endif
