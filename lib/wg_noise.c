/* WireGuard's Noise IKpsk2 handshake and data messages, from the paper. */
#include "wg_noise.h"

#include <string.h>
#include <time.h>

#include "aead.h"
#include "blake2s.h"
#include "buf.h"
#include "hash.h"
#include "x25519.h"

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char label_mac1[] = "mac1----";

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* h = HASH(h || p) */
static void
mix_hash(uint8_t h[32], const void *p, size_t n)
{
	struct blake2s s;

	blake2s_init(&s, 32, NULL, 0);
	blake2s_update(&s, h, 32);
	blake2s_update(&s, p, n);
	blake2s_final(&s, h);
}

int
wg_key_decode(const char *s, uint8_t k[WG_KEY])
{
	return strlen(s) == 44 && base64_decode(s, k, WG_KEY) == WG_KEY ? 0 : -1;
}

void
wg_key_encode(const uint8_t k[WG_KEY], char out[45])
{
	base64_encode(k, WG_KEY, out);
}

/* ck = KDF1(ck, e); h = HASH(h || e): an ephemeral key into the state */
static void
mix_ephemeral(struct wg_handshake *hs, const uint8_t e[WG_KEY])
{
	uint8_t o[1][32];

	wg_kdf(o, 1, hs->ck, e, 32);
	memcpy(hs->ck, o[0], 32);
	mix_hash(hs->h, e, 32);
	memset(o, 0, sizeof(o));
}

void
wg_kdf(uint8_t (*out)[32], int n, const uint8_t key[32], const void *in, size_t len)
{
	uint8_t t0[32], prev[33];
	int i;

	hmac_blake2s(t0, key, 32, in, len);
	for (i = 0; i < n; i++) {
		size_t k = 0;

		if (i) {
			memcpy(prev, out[i - 1], 32);
			k = 32;
		}
		prev[k++] = (uint8_t)(i + 1);
		hmac_blake2s(out[i], t0, 32, prev, k);
	}
	memset(t0, 0, sizeof(t0));
	memset(prev, 0, sizeof(prev));
}

void
wg_tai64n(uint8_t out[12])
{
	struct timespec ts;
	uint64_t s;
	uint32_t ns;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	s = 0x400000000000000aull + (uint64_t)ts.tv_sec;
	/* whitened to a 16.7 ms step, so a timestamp says little of the clock */
	ns = (uint32_t)ts.tv_nsec & ~0xffffffu;
	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(s >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

static void
mac1(uint8_t out[16], const uint8_t receiver_pub[32], const uint8_t *msg, size_t len)
{
	uint8_t key[32];
	struct blake2s s;

	blake2s_init(&s, 32, NULL, 0);
	blake2s_update(&s, label_mac1, 8);
	blake2s_update(&s, receiver_pub, 32);
	blake2s_final(&s, key);
	blake2s(out, 16, key, 32, msg, len);
}

static void
start(struct wg_handshake *hs, const uint8_t responder_pub[32])
{
	blake2s(hs->ck, 32, NULL, 0, construction, sizeof(construction) - 1);
	memcpy(hs->h, hs->ck, 32);
	mix_hash(hs->h, identifier, sizeof(identifier) - 1);
	mix_hash(hs->h, responder_pub, 32);
}

/* ck, k = KDF2(ck, DH(a, b)); -1 for a low-order point */
static int
mix_dh(uint8_t ck[32], uint8_t k[32], const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t dh[32], o[2][32];

	if (x25519(dh, priv, pub) < 0)
		return -1;
	wg_kdf(o, 2, ck, dh, 32);
	memcpy(ck, o[0], 32);
	if (k)
		memcpy(k, o[1], 32);
	memset(dh, 0, sizeof(dh));
	memset(o, 0, sizeof(o));
	return 0;
}

int
wg_initiation(struct wg_handshake *hs, const struct wg_identity *me, const uint8_t peer_pub[WG_KEY],
	      const uint8_t psk[32], uint32_t index, uint8_t msg[WG_INIT_LEN])
{
	static const uint8_t zero12[12];
	uint8_t k[32];

	memset(hs, 0, sizeof(*hs));
	memcpy(hs->peer_static, peer_pub, 32);
	if (psk)
		memcpy(hs->psk, psk, 32);
	hs->local_index = index;
	start(hs, peer_pub);
	if (x25519_generate(hs->e_priv) < 0 || x25519_public(hs->e_pub, hs->e_priv) < 0)
		return -1;
	memset(msg, 0, WG_INIT_LEN);
	msg[0] = 1;
	put32(msg + 4, index);
	memcpy(msg + 8, hs->e_pub, 32);
	mix_ephemeral(hs, hs->e_pub);
	if (mix_dh(hs->ck, k, hs->e_priv, peer_pub) < 0)
		return -1;
	memcpy(msg + 40, me->pub, 32);
	aead_seal(k, zero12, msg + 40, 32, hs->h, 32, msg + 72);
	mix_hash(hs->h, msg + 40, 48);
	if (mix_dh(hs->ck, k, me->priv, peer_pub) < 0)
		return -1;
	wg_tai64n(hs->timestamp);
	memcpy(msg + 88, hs->timestamp, 12);
	aead_seal(k, zero12, msg + 88, 12, hs->h, 32, msg + 100);
	mix_hash(hs->h, msg + 88, 28);
	mac1(msg + 116, peer_pub, msg, 116);
	memset(k, 0, sizeof(k));
	return 0;
}

int
wg_consume_initiation(struct wg_handshake *hs, const struct wg_identity *me, const uint8_t *msg,
		      size_t len)
{
	static const uint8_t zero12[12];
	uint8_t k[32], m[16], buf[48];

	if (len != WG_INIT_LEN || msg[0] != 1 || msg[1] || msg[2] || msg[3])
		return -1;
	mac1(m, me->pub, msg, 116);
	if (hash_equal(m, msg + 116, 16))
		return -1;
	memset(hs, 0, sizeof(*hs));
	hs->remote_index = get32(msg + 4);
	start(hs, me->pub);
	memcpy(hs->peer_e, msg + 8, 32);
	mix_ephemeral(hs, hs->peer_e);
	if (mix_dh(hs->ck, k, me->priv, hs->peer_e) < 0)
		return -1;
	memcpy(buf, msg + 40, 32);
	if (aead_open(k, zero12, buf, 32, hs->h, 32, msg + 72) < 0)
		return -1;
	memcpy(hs->peer_static, buf, 32);
	mix_hash(hs->h, msg + 40, 48);
	if (mix_dh(hs->ck, k, me->priv, hs->peer_static) < 0)
		return -1;
	memcpy(buf, msg + 88, 12);
	if (aead_open(k, zero12, buf, 12, hs->h, 32, msg + 100) < 0)
		return -1;
	memcpy(hs->timestamp, buf, 12);
	mix_hash(hs->h, msg + 88, 28);
	memset(k, 0, sizeof(k));
	return 0;
}

/* The shared tail of both sides: psk, the empty AEAD, the transport keys. */
static int
finish_keys(struct wg_handshake *hs, uint8_t tag_or_check[16], int responder,
	    struct wg_session *out)
{
	static const uint8_t zero12[12];
	uint8_t o[3][32], t[2][32], got[16];

	wg_kdf(o, 3, hs->ck, hs->psk, 32);
	memcpy(hs->ck, o[0], 32);
	mix_hash(hs->h, o[1], 32);
	if (responder) {
		aead_seal(o[2], zero12, NULL, 0, hs->h, 32, tag_or_check);
	} else {
		aead_seal(o[2], zero12, NULL, 0, hs->h, 32, got);
		if (hash_equal(got, tag_or_check, 16)) {
			memset(o, 0, sizeof(o));
			return -1;
		}
	}
	mix_hash(hs->h, tag_or_check, 16);
	wg_kdf(t, 2, hs->ck, NULL, 0);
	/* the first key is the initiator's sending key */
	memset(out, 0, sizeof(*out));
	memcpy(out->send, t[responder ? 1 : 0], 32);
	memcpy(out->recv, t[responder ? 0 : 1], 32);
	out->local_index = hs->local_index;
	out->remote_index = hs->remote_index;
	memset(o, 0, sizeof(o));
	memset(t, 0, sizeof(t));
	return 0;
}

int
wg_response(struct wg_handshake *hs, const uint8_t psk[32], uint32_t index, uint8_t msg[WG_RESP_LEN],
	    struct wg_session *out)
{
	if (psk)
		memcpy(hs->psk, psk, 32);
	hs->local_index = index;
	if (x25519_generate(hs->e_priv) < 0 || x25519_public(hs->e_pub, hs->e_priv) < 0)
		return -1;
	memset(msg, 0, WG_RESP_LEN);
	msg[0] = 2;
	put32(msg + 4, index);
	put32(msg + 8, hs->remote_index);
	memcpy(msg + 12, hs->e_pub, 32);
	mix_ephemeral(hs, hs->e_pub);
	if (mix_dh(hs->ck, NULL, hs->e_priv, hs->peer_e) < 0 ||
	    mix_dh(hs->ck, NULL, hs->e_priv, hs->peer_static) < 0)
		return -1;
	if (finish_keys(hs, msg + 44, 1, out) < 0)
		return -1;
	mac1(msg + 60, hs->peer_static, msg, 60);
	return 0;
}

int
wg_consume_response(struct wg_handshake *hs, const struct wg_identity *me, const uint8_t *msg,
		    size_t len, struct wg_session *out)
{
	uint8_t m[16], tag[16];

	if (len != WG_RESP_LEN || msg[0] != 2 || msg[1] || msg[2] || msg[3] ||
	    get32(msg + 8) != hs->local_index)
		return -1;
	mac1(m, me->pub, msg, 60);
	if (hash_equal(m, msg + 60, 16))
		return -1;
	hs->remote_index = get32(msg + 4);
	memcpy(hs->peer_e, msg + 12, 32);
	mix_ephemeral(hs, hs->peer_e);
	if (mix_dh(hs->ck, NULL, hs->e_priv, hs->peer_e) < 0 ||
	    mix_dh(hs->ck, NULL, me->priv, hs->peer_e) < 0)
		return -1;
	memcpy(tag, msg + 44, 16);
	return finish_keys(hs, tag, 0, out);
}

size_t
wg_seal_prepare(struct wg_session *s, const void *p, size_t n, uint8_t *out)
{
	size_t padded = (n + 15) & ~(size_t)15;

	memset(out, 0, WG_DATA_HEAD);
	out[0] = 4;
	put32(out + 4, s->remote_index);
	put64(out + 8, s->send_counter++);
	memmove(out + WG_DATA_HEAD, p, n);
	memset(out + WG_DATA_HEAD + n, 0, padded - n);
	return WG_DATA_HEAD + padded + WG_TAG;
}

void
wg_seal_finish(const uint8_t key[32], uint8_t *msg, size_t len)
{
	uint8_t nonce[12];
	size_t padded = len - WG_DATA_HEAD - WG_TAG;

	aead_nonce(nonce, get64(msg + 8));
	aead_seal(key, nonce, msg + WG_DATA_HEAD, padded, NULL, 0, msg + WG_DATA_HEAD + padded);
}

size_t
wg_seal(struct wg_session *s, const void *p, size_t n, uint8_t *out)
{
	size_t len = wg_seal_prepare(s, p, n, out);

	wg_seal_finish(s->send, out, len);
	return len;
}

long
wg_open(const struct wg_session *s, uint8_t *msg, size_t len, uint64_t *counter)
{
	uint8_t nonce[12];
	size_t n;

	if (len < WG_DATA_HEAD + WG_TAG || msg[0] != 4 || msg[1] || msg[2] || msg[3] ||
	    get32(msg + 4) != s->local_index)
		return -1;
	n = len - WG_DATA_HEAD - WG_TAG;
	*counter = get64(msg + 8);
	aead_nonce(nonce, *counter);
	if (aead_open(s->recv, nonce, msg + WG_DATA_HEAD, n, NULL, 0, msg + WG_DATA_HEAD + n) < 0)
		return -1;
	return (long)n;
}

/* ---- cookies (the paper's 5.4.7): what a responder under load asks for ---- */

static const char label_cookie[] = "cookie--";

static void
cookie_key(uint8_t key[32], const uint8_t pub[32])
{
	struct blake2s s;

	blake2s_init(&s, 32, NULL, 0);
	blake2s_update(&s, label_cookie, 8);
	blake2s_update(&s, pub, 32);
	blake2s_final(&s, key);
}

int
wg_mac1_ok(const uint8_t my_pub[WG_KEY], const uint8_t *msg, size_t len)
{
	uint8_t m[16];

	if (len < 32)
		return 0;
	mac1(m, my_pub, msg, len - 32);
	return !hash_equal(m, msg + len - 32, 16);
}

void
wg_cookie_make(const uint8_t secret[32], const void *src, size_t srclen, uint8_t cookie[WG_COOKIE])
{
	blake2s(cookie, WG_COOKIE, secret, 32, src, srclen);
}

int
wg_mac2_ok(const uint8_t cookie[WG_COOKIE], const uint8_t *msg, size_t len)
{
	uint8_t m[16];

	if (len < 32)
		return 0;
	blake2s(m, 16, cookie, WG_COOKIE, msg, len - 16);
	return !hash_equal(m, msg + len - 16, 16);
}

void
wg_mac2_add(uint8_t *msg, size_t len, const uint8_t cookie[WG_COOKIE])
{
	blake2s(msg + len - 16, 16, cookie, WG_COOKIE, msg, len - 16);
}

int
wg_cookie_reply(const uint8_t my_pub[WG_KEY], const uint8_t *msg, size_t len,
		const uint8_t cookie[WG_COOKIE], uint8_t out[WG_COOKIE_LEN])
{
	uint8_t key[32];

	if (len < 32 || (msg[0] != 1 && msg[0] != 2))
		return -1;
	memset(out, 0, WG_COOKIE_LEN);
	out[0] = 3;
	memcpy(out + 4, msg + 4, 4);	/* the sender's index, now the receiver's */
	if (rand_bytes(out + 8, 24) < 0)
		return -1;
	cookie_key(key, my_pub);
	memcpy(out + 32, cookie, WG_COOKIE);
	/* bound to the message: its mac1 is the associated data */
	xaead_seal(key, out + 8, out + 32, WG_COOKIE, msg + len - 32, 16, out + 48);
	memset(key, 0, sizeof(key));
	return 0;
}

int
wg_consume_cookie_reply(const uint8_t peer_pub[WG_KEY], const uint8_t sent_mac1[16], const uint8_t *msg,
			size_t len, uint8_t cookie[WG_COOKIE])
{
	uint8_t key[32], c[WG_COOKIE];
	int rc;

	if (len != WG_COOKIE_LEN || msg[0] != 3 || msg[1] || msg[2] || msg[3])
		return -1;
	cookie_key(key, peer_pub);
	memcpy(c, msg + 32, WG_COOKIE);
	rc = xaead_open(key, msg + 8, c, WG_COOKIE, sent_mac1, 16, msg + 48);
	memset(key, 0, sizeof(key));
	if (rc < 0)
		return -1;
	memcpy(cookie, c, WG_COOKIE);
	return 0;
}
