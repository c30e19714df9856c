/* Record data: zone-file text to wire and back, and unpacking from packets. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns.h"

static const struct {
	uint16_t type;
	const char *name;
} types[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" }, { DNS_T_SOA, "SOA" },
	{ DNS_T_PTR, "PTR" }, { DNS_T_HINFO, "HINFO" }, { DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" },
	{ DNS_T_AAAA, "AAAA" }, { DNS_T_SRV, "SRV" }, { DNS_T_OPT, "OPT" }, { DNS_T_DS, "DS" },
	{ DNS_T_TSIG, "TSIG" }, { DNS_T_IXFR, "IXFR" }, { DNS_T_AXFR, "AXFR" }, { DNS_T_ANY, "ANY" },
	{ DNS_T_CAA, "CAA" },
};

const char *
dns_type_name(uint16_t type, char buf[16])
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	snprintf(buf, 16, "TYPE%u", type);
	return buf;
}

int
dns_type_from_text(const char *s, uint16_t *type)
{
	size_t i;
	uint32_t v;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(types[i].name, s)) {
			*type = types[i].type;
			return 0;
		}
	if (!strncasecmp(s, "TYPE", 4) && str_to_u32(s + 4, 65535, &v) == 0) {
		*type = (uint16_t)v;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int
dns_text_split(char *line, char **words, size_t max)
{
	char *r = line, *w = line;
	size_t n = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
			r++;
		if (!*r || *r == ';')
			break;
		if (n == max) {
			errno = E2BIG;	/* more words than room: never drop some quietly */
			return -1;
		}
		if (*r == '"') {
			r++;
			words[n++] = w;
			while (*r && *r != '"') {
				if (*r == '\\' && r[1])
					*w++ = *r++;	/* keep escapes for the rdata parser */
				*w++ = *r++;
			}
			if (*r != '"') {
				errno = EINVAL;
				return -1;
			}
			r++;
			*w++ = '\0';
			continue;
		}
		words[n++] = w;
		while (*r && *r != ' ' && *r != '\t' && *r != '\r' && *r != '\n' && *r != ';') {
			if (*r == '\\' && r[1])
				*w++ = *r++;	/* the escaped byte is part of the word */
			*w++ = *r++;
		}
		if (*r == ';') {
			*w++ = '\0';
			break;
		}
		if (*r)
			r++;
		*w++ = '\0';
	}
	return (int)n;
}

/* ---- text to wire ---- */

struct out {
	uint8_t *p;
	size_t cap, len;
	int err;
};

static void
put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		o->err = 1;
		return;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void
put8(struct out *o, uint8_t v)
{
	put(o, &v, 1);
}

static void
put16(struct out *o, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(o, b, 2);
}

static void
put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(o, b, 4);
}

static int
put_name(struct out *o, const char *s, const struct dns_name *origin)
{
	struct dns_name n;

	if (dns_name_from_text(&n, s, origin) < 0)
		return -1;
	put(o, n.data, n.len);
	return 0;
}

/* Text with \X and \DDD escapes to bytes; -1 past max. */
static int
unescape(const char *s, uint8_t *b, size_t max, size_t *len)
{
	size_t n = 0;

	while (*s) {
		int c = (unsigned char)*s++;

		if (c == '\\') {
			if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
			    isdigit((unsigned char)s[2])) {
				c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
				if (c > 255)
					return -1;
				s += 3;
			} else if (*s) {
				c = (unsigned char)*s++;
			}
		}
		if (n == max)
			return -1;
		b[n++] = (uint8_t)c;
	}
	*len = n;
	return 0;
}

/* A <character-string>: up to 255 bytes. */
static int
put_cstring(struct out *o, const char *s)
{
	uint8_t b[255];
	size_t n;

	if (unescape(s, b, sizeof(b), &n) < 0)
		return -1;
	put8(o, (uint8_t)n);
	put(o, b, n);
	return 0;
}

/* TTL-like numbers: 3600, or 1h30m (s m h d w). */
static int
duration(const char *s, uint32_t *out)
{
	uint64_t total = 0, v = 0;
	int digits = 0;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			v = v * 10 + (uint64_t)(*s - '0');
			digits = 1;
			if (v > 0xffffffffu)
				return -1;
			continue;
		}
		if (!digits)
			return -1;
		switch (*s | 0x20) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		case 'w': v *= 604800; break;
		default: return -1;
		}
		total += v;
		v = 0;
		digits = 0;
	}
	total += v;
	if (total > 0xffffffffu)
		return -1;
	*out = (uint32_t)total;
	return 0;
}

static int
num(const char *s, uint32_t max, uint32_t *v)
{
	return str_to_u32(s, max, v);
}

int
dns_rdata_from_text(uint16_t type, char **w, size_t n, const struct dns_name *origin, uint8_t *p,
		    size_t cap, size_t *len, char *err, size_t errlen)
{
	struct out o = { p, cap, 0, 0 };
	char tb[16];
	uint32_t a, b, c;
	size_t i;

#define NEED(k)                                                                        \
	do {                                                                           \
		if (n != (k))                                                          \
			goto count;                                                    \
	} while (0)
	/* RFC 3597 generic form: \# LEN HEX... */
	if (n >= 2 && !strcmp(w[0], "\\#")) {
		size_t want;
		uint8_t tmp[1024];
		int got;

		if (num(w[1], 65535, &a) < 0)
			goto bad;
		want = a;
		for (i = 2; i < n; i++) {
			if (strlen(w[i]) / 2 > sizeof(tmp) || (got = hex_decode(w[i], tmp, sizeof(tmp))) < 0)
				goto bad;
			put(&o, tmp, (size_t)got);
		}
		if (o.len != want)
			goto bad;
		goto done;
	}
	switch (type) {
	case DNS_T_A: {
		uint8_t ip[4];

		NEED(1);
		if (inet_pton(AF_INET, w[0], ip) != 1)
			goto bad;
		put(&o, ip, 4);
		break;
	}
	case DNS_T_AAAA: {
		uint8_t ip[16];

		NEED(1);
		if (inet_pton(AF_INET6, w[0], ip) != 1)
			goto bad;
		put(&o, ip, 16);
		break;
	}
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		NEED(1);
		if (put_name(&o, w[0], origin) < 0)
			goto bad;
		break;
	case DNS_T_MX:
		NEED(2);
		if (num(w[0], 65535, &a) < 0)
			goto bad;
		put16(&o, (uint16_t)a);
		if (put_name(&o, w[1], origin) < 0)
			goto bad;
		break;
	case DNS_T_SRV:
		NEED(4);
		if (num(w[0], 65535, &a) < 0 || num(w[1], 65535, &b) < 0 || num(w[2], 65535, &c) < 0)
			goto bad;
		put16(&o, (uint16_t)a);
		put16(&o, (uint16_t)b);
		put16(&o, (uint16_t)c);
		if (put_name(&o, w[3], origin) < 0)
			goto bad;
		break;
	case DNS_T_SOA:
		NEED(7);
		if (put_name(&o, w[0], origin) < 0 || put_name(&o, w[1], origin) < 0)
			goto bad;
		if (num(w[2], 0xffffffffu, &a) < 0)
			goto bad;
		put32(&o, a);
		for (i = 3; i < 7; i++) {
			if (duration(w[i], &a) < 0)
				goto bad;
			put32(&o, a);
		}
		break;
	case DNS_T_TXT:
		if (n < 1)
			goto count;
		for (i = 0; i < n; i++)
			if (put_cstring(&o, w[i]) < 0)
				goto bad;
		break;
	case DNS_T_HINFO:
		NEED(2);
		if (put_cstring(&o, w[0]) < 0 || put_cstring(&o, w[1]) < 0)
			goto bad;
		break;
	case DNS_T_CAA: {
		const char *t;

		NEED(3);
		if (num(w[0], 255, &a) < 0 || !*w[1] || strlen(w[1]) > 255)
			goto bad;
		for (t = w[1]; *t; t++)
			if (!isalnum((unsigned char)*t))
				goto bad;
		put8(&o, (uint8_t)a);
		put8(&o, (uint8_t)strlen(w[1]));
		put(&o, w[1], strlen(w[1]));
		{
			uint8_t v[1024];
			size_t vl;

			if (unescape(w[2], v, sizeof(v), &vl) < 0)
				goto bad;
			put(&o, v, vl);
		}
		break;
	}
	default:
		snprintf(err, errlen, "%s: use the generic form \\# LEN HEX", dns_type_name(type, tb));
		errno = EINVAL;
		return -1;
	}
done:
	if (o.err) {
		snprintf(err, errlen, "%s: data too long", dns_type_name(type, tb));
		errno = EMSGSIZE;
		return -1;
	}
	*len = o.len;
	return 0;
count:
	snprintf(err, errlen, "%s: wrong number of fields (%zu)", dns_type_name(type, tb), n);
	errno = EINVAL;
	return -1;
bad:
	snprintf(err, errlen, "%s: bad data \"%.64s\"", dns_type_name(type, tb), n ? w[0] : "");
	errno = EINVAL;
	return -1;
#undef NEED
}

/* ---- wire to text ---- */

static int
get_name(const uint8_t *rd, size_t len, size_t *off, struct buf *out)
{
	struct dns_name n;
	char t[DNS_NAME_TEXT];

	/* Uncompressed here: pointers are refused by starting at 0 each time. */
	if (dns_name_unpack(rd, len, off, &n) < 0)
		return -1;
	buf_adds(out, dns_name_to_text(&n, t));
	return 0;
}

static void
cstring(struct buf *out, const uint8_t *p, size_t n)
{
	size_t i;

	buf_addc(out, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_addf(out, "\\%c", p[i]);
		else if (p[i] < ' ' || p[i] >= 0x7f)
			buf_addf(out, "\\%03u", p[i]);
		else
			buf_addc(out, (char)p[i]);
	}
	buf_addc(out, '"');
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
dns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t len, struct buf *out)
{
	char ip[64];
	size_t off = 0, i, mark = out->len;

	switch (type) {
	case DNS_T_A:
		if (len != 4)
			break;
		buf_adds(out, inet_ntop(AF_INET, rd, ip, sizeof(ip)));
		return 0;
	case DNS_T_AAAA:
		if (len != 16)
			break;
		buf_adds(out, inet_ntop(AF_INET6, rd, ip, sizeof(ip)));
		return 0;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (get_name(rd, len, &off, out) < 0 || off != len)
			break;
		return 0;
	case DNS_T_MX:
		if (len < 3)
			break;
		buf_addf(out, "%u ", rd[0] << 8 | rd[1]);
		off = 2;
		if (get_name(rd, len, &off, out) < 0 || off != len)
			break;
		return 0;
	case DNS_T_SRV:
		if (len < 7)
			break;
		buf_addf(out, "%u %u %u ", rd[0] << 8 | rd[1], rd[2] << 8 | rd[3], rd[4] << 8 | rd[5]);
		off = 6;
		if (get_name(rd, len, &off, out) < 0 || off != len)
			break;
		return 0;
	case DNS_T_SOA:
		if (get_name(rd, len, &off, out) < 0)
			break;
		buf_addc(out, ' ');
		if (get_name(rd, len, &off, out) < 0 || len - off != 20)
			break;
		for (i = 0; i < 5; i++)
			buf_addf(out, " %u", rd32(rd + off + 4 * i));
		return 0;
	case DNS_T_TXT:
	case DNS_T_HINFO:
		if (len == 0)
			break;
		while (off < len) {
			size_t l = rd[off];

			if (off + 1 + l > len)
				goto generic;
			if (off)
				buf_addc(out, ' ');
			cstring(out, rd + off + 1, l);
			off += 1 + l;
		}
		return 0;
	case DNS_T_CAA:
		if (len < 2 || 2 + (size_t)rd[1] > len)
			break;
		buf_addf(out, "%u %.*s ", rd[0], rd[1], (const char *)rd + 2);
		cstring(out, rd + 2 + rd[1], len - 2 - rd[1]);
		return 0;
	}
generic:
	/* Anything malformed for its type prints in the generic form. */
	buf_truncate(out, mark);
	buf_addf(out, "\\# %zu", len);
	if (len) {
		buf_addc(out, ' ');
		buf_addhex(out, rd, len);
	}
	return 0;
}

int
dns_rdata_unpack(uint16_t type, const uint8_t *pkt, size_t pktlen, size_t off, uint16_t rdlen,
		 uint8_t *out, size_t cap, size_t *len)
{
	struct dns_name n;
	size_t end = off + rdlen, o = 0, names, fixed = 0;

	if (end > pktlen)
		goto bad;
	if (!dns_rdata_has_names(type) && type != DNS_T_SRV) {
		if (rdlen > cap)
			goto bad;
		memcpy(out, pkt + off, rdlen);
		*len = rdlen;
		return 0;
	}
	if (type == DNS_T_MX || type == DNS_T_SRV) {
		fixed = type == DNS_T_MX ? 2 : 6;
		if (off + fixed > end || fixed > cap)
			goto bad;
		memcpy(out, pkt + off, fixed);
		o = fixed;
		off += fixed;
	}
	names = type == DNS_T_SOA ? 2 : 1;
	while (names--) {
		/* The name may point anywhere before it in the packet. */
		if (dns_name_unpack(pkt, end, &off, &n) < 0 || o + n.len > cap)
			goto bad;
		memcpy(out + o, n.data, n.len);
		o += n.len;
	}
	if (off > end)
		goto bad;
	fixed = end - off;
	if (type == DNS_T_SOA && fixed != 20)
		goto bad;
	if (type != DNS_T_SOA && fixed != 0)
		goto bad;
	if (o + fixed > cap)
		goto bad;
	memcpy(out + o, pkt + off, fixed);
	*len = o + fixed;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}
