/* TSIG (RFC 8945) with hmac-sha256, and base64. */
#include <bearssl_hash.h>
#include <bearssl_hmac.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns_server.h"
#include "hash.h"

static const uint8_t alg_sha256[] = "\x0bhmac-sha256";	/* + the final 0 byte */
#define ALG_LEN 13


int
dns_key_parse(const char *s, struct dns_key *k)
{
	char tmp[512], *name, *secret;
	int n;

	if (str_copy(tmp, s, sizeof(tmp)) >= sizeof(tmp))
		goto bad;
	name = tmp;
	/* "hmac-sha256:NAME:SECRET" or "NAME:SECRET" */
	if (!strncmp(name, "hmac-sha256:", 12))
		name += 12;
	secret = strrchr(name, ':');
	if (!secret)
		goto bad;
	*secret++ = '\0';
	if (!*name || dns_name_from_text(&k->name, name, NULL) < 0) {
		/* a relative key name is taken as absolute */
		char abs[600];

		snprintf(abs, sizeof(abs), "%s.", name);
		if (dns_name_from_text(&k->name, abs, NULL) < 0)
			goto bad;
	}
	dns_name_lower(&k->name);
	n = base64_decode(secret, k->secret, sizeof(k->secret));
	if (n <= 0)
		goto bad;
	k->len = (size_t)n;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* HMAC over [prior MAC] message-without-TSIG variables. */
static void
tsig_mac(const struct dns_key *k, const uint8_t *prior, size_t priorlen, const uint8_t *msg,
	 size_t msglen, uint16_t arcount, uint64_t t, uint16_t fudge, uint16_t error,
	 uint8_t out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t v[16], hdr[12];

	br_hmac_key_init(&kc, &br_sha256_vtable, k->secret, k->len);
	br_hmac_init(&hc, &kc, 0);
	if (prior) {
		put16(v, (uint16_t)priorlen);
		br_hmac_update(&hc, v, 2);
		br_hmac_update(&hc, prior, priorlen);
	}
	/* the header as it was before TSIG was added */
	memcpy(hdr, msg, 12);
	put16(hdr + 10, arcount);
	br_hmac_update(&hc, hdr, 12);
	br_hmac_update(&hc, msg + 12, msglen - 12);
	br_hmac_update(&hc, k->name.data, k->name.len);
	put16(v, DNS_C_ANY);
	memset(v + 2, 0, 4);	/* TTL 0 */
	br_hmac_update(&hc, v, 6);
	br_hmac_update(&hc, alg_sha256, ALG_LEN);
	v[0] = (uint8_t)(t >> 40);
	v[1] = (uint8_t)(t >> 32);
	v[2] = (uint8_t)(t >> 24);
	v[3] = (uint8_t)(t >> 16);
	v[4] = (uint8_t)(t >> 8);
	v[5] = (uint8_t)t;
	put16(v + 6, fudge);
	put16(v + 8, error);
	put16(v + 10, 0);	/* other len */
	br_hmac_update(&hc, v, 12);
	br_hmac_out(&hc, out);
}

/* Append a TSIG record (MAC of maclen bytes, possibly 0) to a message. */
static int
tsig_append(uint8_t *pkt, size_t *len, size_t cap, const struct dns_key *k, uint64_t t,
	    uint16_t fudge, const uint8_t *mac, size_t maclen, uint16_t error)
{
	size_t o = *len, rdlen = ALG_LEN + 6 + 2 + 2 + maclen + 2 + 2 + 2;

	if (o + k->name.len + 10 + rdlen > cap) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(pkt + o, k->name.data, k->name.len);
	o += k->name.len;
	put16(pkt + o, DNS_T_TSIG);
	put16(pkt + o + 2, DNS_C_ANY);
	memset(pkt + o + 4, 0, 4);
	put16(pkt + o + 8, (uint16_t)rdlen);
	o += 10;
	memcpy(pkt + o, alg_sha256, ALG_LEN);
	o += ALG_LEN;
	pkt[o] = (uint8_t)(t >> 40);
	pkt[o + 1] = (uint8_t)(t >> 32);
	pkt[o + 2] = (uint8_t)(t >> 24);
	pkt[o + 3] = (uint8_t)(t >> 16);
	pkt[o + 4] = (uint8_t)(t >> 8);
	pkt[o + 5] = (uint8_t)t;
	put16(pkt + o + 6, fudge);
	put16(pkt + o + 8, (uint16_t)maclen);
	o += 10;
	memcpy(pkt + o, mac, maclen);
	o += maclen;
	memcpy(pkt + o, pkt, 2);	/* original id */
	put16(pkt + o + 2, error);
	put16(pkt + o + 4, 0);
	o += 6;
	put16(pkt + 10, (uint16_t)(get16(pkt + 10) + 1));
	*len = o;
	return 0;
}

/* Read the TSIG rdata of a parsed message. */
struct tsig {
	struct dns_name alg;
	uint64_t time;
	uint16_t fudge, maclen, error;
	const uint8_t *mac;
};

static int
tsig_read(const struct dns_msg *m, struct tsig *t)
{
	const struct dns_rr *r = &m->rr[m->tsig_index];
	size_t off = r->rdoff, end = r->rdoff + r->rdlen;
	const uint8_t *p = m->pkt;

	if (dns_name_unpack(p, end, &off, &t->alg) < 0 || off + 10 > end)
		return -1;
	t->time = (uint64_t)p[off] << 40 | (uint64_t)p[off + 1] << 32 | (uint64_t)p[off + 2] << 24 |
		  (uint64_t)p[off + 3] << 16 | (uint64_t)p[off + 4] << 8 | p[off + 5];
	t->fudge = get16(p + off + 6);
	t->maclen = get16(p + off + 8);
	off += 10;
	if (off + t->maclen + 6 > end)
		return -1;
	t->mac = p + off;
	off += t->maclen;
	t->error = get16(p + off + 2);
	return 0;
}


int
dns_tsig_check(const struct dns_server *s, const struct dns_msg *m, const struct dns_key **key,
	       uint8_t mac[32], uint64_t now)
{
	const struct dns_rr *r = &m->rr[m->tsig_index];
	struct dns_name alg;
	struct tsig t;
	size_t i;

	*key = NULL;
	if (tsig_read(m, &t) < 0)
		return DNS_R_FORMERR;
	for (i = 0; i < s->nkeys; i++)
		if (dns_name_equal(&s->keys[i].name, &r->name))
			*key = &s->keys[i];
	memcpy(alg.data, alg_sha256, ALG_LEN);
	alg.len = ALG_LEN;
	if (!*key || !dns_name_equal(&alg, &t.alg))
		return DNS_R_BADKEY;
	if (t.maclen != 32)
		return DNS_R_BADSIG;
	tsig_mac(*key, NULL, 0, m->pkt, m->tsig_start, (uint16_t)(m->count[3] - 1), t.time,
		 t.fudge, t.error, mac);
	if (hash_equal(mac, t.mac, 32))
		return DNS_R_BADSIG;
	if ((now > t.time ? now - t.time : t.time - now) > t.fudge)
		return DNS_R_BADTIME;
	return 0;
}


int
dns_tsig_respond(uint8_t *pkt, size_t *len, size_t cap, const struct dns_key *k,
		 const uint8_t *reqmac, uint16_t error, uint64_t now)
{
	uint8_t mac[32];

	if (!reqmac)
		return tsig_append(pkt, len, cap, k, now, 300, NULL, 0, error);
	tsig_mac(k, reqmac, 32, pkt, *len, get16(pkt + 10), now, 300, error, mac);
	return tsig_append(pkt, len, cap, k, now, 300, mac, 32, error);
}

int
dns_tsig_sign(uint8_t *pkt, size_t *len, size_t cap, const struct dns_key *k, uint64_t now,
	      uint8_t mac[32])
{
	tsig_mac(k, NULL, 0, pkt, *len, get16(pkt + 10), now, 300, 0, mac);
	return tsig_append(pkt, len, cap, k, now, 300, mac, 32, 0);
}

int
dns_tsig_verify_response(const uint8_t *pkt, size_t len, const struct dns_key *k,
			 const uint8_t reqmac[32], uint64_t now)
{
	struct dns_msg m;
	struct tsig t;
	uint8_t mac[32];
	int r = -1;

	if (dns_msg_parse(&m, pkt, len) < 0)
		return -1;
	if (m.tsig_index < 0 || tsig_read(&m, &t) < 0 || t.maclen != 32 ||
	    !dns_name_equal(&m.rr[m.tsig_index].name, &k->name))
		goto out;
	tsig_mac(k, reqmac, 32, pkt, m.tsig_start, (uint16_t)(m.count[3] - 1), t.time, t.fudge,
		 t.error, mac);
	if (hash_equal(mac, t.mac, 32) == 0 &&
	    (now > t.time ? now - t.time : t.time - now) <= t.fudge)
		r = 0;
out:
	dns_msg_free(&m);
	return r;
}
