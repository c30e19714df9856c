/*
 * The sniffer of lab vpn mux: a pure function over the bytes a client sent
 * so far. Every detector answers "yes", "no" or "need more"; the bytes of
 * the protocols below never begin alike (SSH and HTTP start with capital
 * letters of different words, a TLS record with 0x16, an OpenVPN packet
 * over TCP with the high byte of a small length), so the first "yes" wins.
 */
#include "mux.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { NO, YES, MORE };

static const char *const proto_names[MUX_NPROTO] = {
	[MUX_UNKNOWN] = "unknown", [MUX_SSH] = "ssh", [MUX_TLS] = "tls",
	[MUX_HTTP] = "http",	   [MUX_OPENVPN] = "openvpn", [MUX_NONE] = "none",
};

const char *
mux_proto_name(int proto)
{
	return proto >= 0 && proto < MUX_NPROTO ? proto_names[proto] : "need-more";
}

/* p[0..n) against a fixed signature: the whole of it, or a start of it. */
static int
prefix(const uint8_t *p, size_t n, const char *sig, int final)
{
	size_t k = strlen(sig);

	if (memcmp(p, sig, n < k ? n : k) != 0)
		return NO;
	if (n >= k)
		return YES;
	return final ? NO : MORE;
}

/* RFC 4253 4.2: the client's first line is "SSH-protoversion-...". */
static int
sniff_ssh(const uint8_t *p, size_t n, int final)
{
	return prefix(p, n, "SSH-", final);
}

/* A request line: a method, then one space. PRI is HTTP/2 with prior
 * knowledge ("PRI * HTTP/2.0"). */
static int
sniff_http(const uint8_t *p, size_t n, int final)
{
	static const char *const methods[] = {
		"GET ", "POST ", "HEAD ", "PUT ", "DELETE ",
		"OPTIONS ", "PATCH ", "CONNECT ", "TRACE ", "PRI ",
	};
	size_t i;
	int more = 0;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		int r = prefix(p, n, methods[i], final);

		if (r == YES)
			return YES;
		more |= r == MORE;
	}
	return more ? MORE : NO;
}

/*
 * OpenVPN over TCP (its ssl_pkt.h): each packet is preceded by its length
 * (2 bytes, network order); a packet's first byte holds the opcode in its
 * high 5 bits and the key id in the low 3. A client begins with
 * P_CONTROL_HARD_RESET_CLIENT_V2 (7), or _V3 (10) with tls-crypt-v2, on
 * key id 0. The smallest such packet is the opcode, an 8-byte session id,
 * an empty ack array (1) and a 4-byte packet id: 14 bytes; the largest,
 * with a tls-crypt-v2 wrapped key (at most 1024 bytes), stays well under
 * 4096.
 */
#define OVPN_HARD_RESET_CLIENT_V2 7
#define OVPN_HARD_RESET_CLIENT_V3 10
#define OVPN_MIN 14
#define OVPN_MAX 4096

static int
sniff_openvpn(const uint8_t *p, size_t n, int final)
{
	size_t len;
	unsigned op;

	if (n >= 1 && p[0] > OVPN_MAX >> 8)
		return NO;
	if (n < 3)
		return final ? NO : MORE;
	len = (size_t)p[0] << 8 | p[1];
	op = p[2] >> 3;
	if (len < OVPN_MIN || len > OVPN_MAX || (p[2] & 7) != 0)
		return NO;
	return op == OVPN_HARD_RESET_CLIENT_V2 || op == OVPN_HARD_RESET_CLIENT_V3 ? YES : NO;
}

/* ---- TLS ---- */

/* A bounded reader: every length is checked against what remains. */
struct rd {
	const uint8_t *p;
	size_t n;
};

static int
rd_skip(struct rd *r, size_t k)
{
	if (r->n < k)
		return -1;
	r->p += k;
	r->n -= k;
	return 0;
}

static int
rd_u8(struct rd *r, size_t *v)
{
	if (r->n < 1)
		return -1;
	*v = r->p[0];
	return rd_skip(r, 1);
}

static int
rd_u16(struct rd *r, size_t *v)
{
	if (r->n < 2)
		return -1;
	*v = (size_t)r->p[0] << 8 | r->p[1];
	return rd_skip(r, 2);
}

/* A vector with a 1- or 2-byte length: *sub is its body, r moves past it. */
static int
rd_vec(struct rd *r, int lenbytes, struct rd *sub)
{
	size_t k;

	if ((lenbytes == 1 ? rd_u8(r, &k) : rd_u16(r, &k)) < 0 || r->n < k)
		return -1;
	sub->p = r->p;
	sub->n = k;
	return rd_skip(r, k);
}

/* A DNS host name as RFC 6066 allows in server_name: letters, digits,
 * '-', '.', and '_' (seen in the wild); lowercased into out. */
static int
host_name(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	if (n == 0 || n > MUX_SNI_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '.' || c == '_'))
			return -1;
		out[i] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/*
 * The body of a ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2): version,
 * random, session id, cipher suites, compression methods, then extensions
 * (absent in the oldest clients). The server_name extension (RFC 6066 3)
 * holds a list of names; the first host_name (type 0) is the one. 0 with
 * sni filled ("" without one), -1 if malformed.
 */
static int
client_hello(const uint8_t *p, size_t n, char *sni)
{
	struct rd r = { p, n }, v, exts;
	size_t ver, seen_sni = 0;

	sni[0] = '\0';
	if (rd_u16(&r, &ver) < 0 || (ver >> 8) != 3 || rd_skip(&r, 32) < 0)
		return -1;
	if (rd_vec(&r, 1, &v) < 0 || v.n > 32)	/* session id */
		return -1;
	if (rd_vec(&r, 2, &v) < 0 || v.n < 2 || v.n % 2)	/* cipher suites */
		return -1;
	if (rd_vec(&r, 1, &v) < 0 || v.n < 1)	/* compression methods */
		return -1;
	if (r.n == 0)
		return 0;
	if (rd_vec(&r, 2, &exts) < 0 || r.n != 0)
		return -1;
	while (exts.n > 0) {
		size_t type;
		struct rd body, list;

		if (rd_u16(&exts, &type) < 0 || rd_vec(&exts, 2, &body) < 0)
			return -1;
		if (type != 0)
			continue;
		if (seen_sni++)
			return -1;	/* one extension of a type (RFC 8446 4.2) */
		if (rd_vec(&body, 2, &list) < 0 || body.n != 0 || list.n == 0)
			return -1;
		while (list.n > 0) {
			size_t nt;
			struct rd name;

			if (rd_u8(&list, &nt) < 0 || rd_vec(&list, 2, &name) < 0)
				return -1;
			if (nt == 0 && !sni[0] && host_name(name.p, name.n, sni) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * TLS records (RFC 8446 5.1): type 22 (handshake), legacy version 3.x,
 * a length of at most 2^14, the fragment. A ClientHello may span records
 * and arrive in pieces: the fragments are joined until the handshake
 * message (type 1, a 3-byte length) is whole.
 */
#define TLS_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define TLS_RECORD_MAX 16384

static int
sniff_tls(const uint8_t *p, size_t n, int final, char *sni)
{
	uint8_t hs[MUX_SNIFF_MAX];
	size_t off = 0, hlen = 0, need = 0;
	int whole = 0;	/* a whole record header and a fragment byte seen */

	sni[0] = '\0';
	if ((n >= 1 && p[0] != TLS_HANDSHAKE) || (n >= 2 && p[1] != 3) || (n >= 3 && p[2] > 4))
		return NO;
	while (n - off >= 5) {
		size_t rlen = (size_t)p[off + 3] << 8 | p[off + 4], take;

		if (p[off] != TLS_HANDSHAKE || p[off + 1] != 3 || p[off + 2] > 4 || rlen == 0 ||
		    rlen > TLS_RECORD_MAX) {
			if (off == 0)
				return NO;
			return YES; /* something else before the hello was whole: TLS, no name */
		}
		take = n - off - 5 < rlen ? n - off - 5 : rlen;
		if (take > sizeof(hs) - hlen)
			return YES;	/* more than we keep: TLS, no name */
		memcpy(hs + hlen, p + off + 5, take);
		hlen += take;
		off += 5 + take;
		if (hlen >= 1) {
			if (hs[0] != TLS_CLIENT_HELLO)
				return NO;
			whole = 1;
		}
		if (hlen >= 4 && !need) {
			need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			if (need < 4 + 2 + 32 + 1 + 4 + 2)
				return NO;	/* shorter than the smallest ClientHello */
			if (need > sizeof(hs))
				return YES;	/* longer than we keep: TLS, no name */
		}
		if (need && hlen >= need)
			break;
		if (take < rlen)
			break;	/* the rest of this record is still on its way */
	}
	if (!need || hlen < need) {
		if (final)
			return whole ? YES : NO;
		return MORE;
	}
	if (client_hello(hs + 4, need - 4, sni) < 0)
		sni[0] = '\0';	/* malformed: the TLS backend says so, not us */
	return YES;
}

int
mux_sniff(const uint8_t *p, size_t n, int final, struct mux_sniff *out)
{
	int r, more = 0;

	out->sni[0] = '\0';
	if (n == 0)
		return out->proto = final ? MUX_NONE : MUX_NEED;
	if (n > MUX_SNIFF_MAX)
		n = MUX_SNIFF_MAX;
	if ((r = sniff_ssh(p, n, final)) == YES)
		return out->proto = MUX_SSH;
	more |= r == MORE;
	if ((r = sniff_tls(p, n, final, out->sni)) == YES)
		return out->proto = MUX_TLS;
	more |= r == MORE;
	if ((r = sniff_http(p, n, final)) == YES)
		return out->proto = MUX_HTTP;
	more |= r == MORE;
	if ((r = sniff_openvpn(p, n, final)) == YES)
		return out->proto = MUX_OPENVPN;
	more |= r == MORE;
	out->sni[0] = '\0';
	return out->proto = more ? MUX_NEED : MUX_UNKNOWN;
}

const struct mux_backend *
mux_sni_lookup(const struct mux_conf *c, const char *sni)
{
	const struct mux_backend *best = NULL;
	size_t i, bestlen = 0, n = strlen(sni);

	if (n == 0)
		return NULL;
	for (i = 0; i < c->nsni; i++) {
		const char *pat = c->sni[i].pattern;

		if (pat[0] == '*' && pat[1] == '.') {
			size_t k = strlen(pat + 1);	/* ".suffix" */

			if (n > k && !strcasecmp(sni + n - k, pat + 1) && k > bestlen) {
				best = &c->sni[i].be;
				bestlen = k;
			}
		} else if (!strcasecmp(pat, sni)) {
			return &c->sni[i].be;
		}
	}
	return best;
}

/* ---- PROXY protocol ---- */

static const uint8_t proxy_v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					  0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

int
mux_proxy_header(int version, const struct sockaddr_storage *src,
		 const struct sockaddr_storage *dst, uint8_t *out)
{
	const struct sockaddr_in *s4 = (const void *)src, *d4 = (const void *)dst;
	const struct sockaddr_in6 *s6 = (const void *)src, *d6 = (const void *)dst;
	int fam = src->ss_family == dst->ss_family ? src->ss_family : AF_UNSPEC;

	if (fam != AF_INET && fam != AF_INET6)
		fam = AF_UNSPEC;
	if (version == 1) {
		char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];

		if (fam == AF_UNSPEC)
			return snprintf((char *)out, MUX_PROXY_MAX, "PROXY UNKNOWN\r\n");
		inet_ntop(fam,
			  fam == AF_INET ? (const void *)&s4->sin_addr
					 : (const void *)&s6->sin6_addr,
			  sa, sizeof(sa));
		inet_ntop(fam,
			  fam == AF_INET ? (const void *)&d4->sin_addr
					 : (const void *)&d6->sin6_addr,
			  da, sizeof(da));
		return snprintf((char *)out, MUX_PROXY_MAX, "PROXY %s %s %s %u %u\r\n",
				fam == AF_INET ? "TCP4" : "TCP6", sa, da,
				ntohs(fam == AF_INET ? s4->sin_port : s6->sin6_port),
				ntohs(fam == AF_INET ? d4->sin_port : d6->sin6_port));
	}
	if (version != 2) {
		errno = EINVAL;
		return -1;
	}
	memcpy(out, proxy_v2_sig, 12);
	if (fam == AF_UNSPEC) {
		out[12] = 0x20;	/* version 2, LOCAL */
		out[13] = 0x00;
		out[14] = out[15] = 0;
		return 16;
	}
	out[12] = 0x21;	/* version 2, PROXY */
	if (fam == AF_INET) {
		out[13] = 0x11;	/* TCP over IPv4 */
		out[14] = 0;
		out[15] = 12;
		memcpy(out + 16, &s4->sin_addr, 4);
		memcpy(out + 20, &d4->sin_addr, 4);
		memcpy(out + 24, &s4->sin_port, 2);
		memcpy(out + 26, &d4->sin_port, 2);
		return 28;
	}
	out[13] = 0x21;	/* TCP over IPv6 */
	out[14] = 0;
	out[15] = 36;
	memcpy(out + 16, &s6->sin6_addr, 16);
	memcpy(out + 32, &d6->sin6_addr, 16);
	memcpy(out + 48, &s6->sin6_port, 2);
	memcpy(out + 50, &d6->sin6_port, 2);
	return 52;
}
