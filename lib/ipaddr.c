#include "ipaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

size_t
ipaddr_len(const struct ipaddr *ip)
{
	return ip->family == AF_INET ? 4 : 16;
}

int
ipaddr_bits(const struct ipaddr *ip)
{
	return ip->family == AF_INET ? 32 : 128;
}

int
ipaddr_parse(const char *s, int family, struct ipaddr *out)
{
	char tmp[IPADDR_STRLEN];
	char *slash;
	uint32_t plen;

	memset(out, 0, sizeof(*out));
	out->plen = -1;
	if (!s || !*s || str_copy(tmp, s, sizeof(tmp)) >= sizeof(tmp))
		goto bad;
	slash = strchr(tmp, '/');
	if (slash)
		*slash++ = '\0';
	if ((family == AF_UNSPEC || family == AF_INET) && inet_pton(AF_INET, tmp, out->a) == 1)
		out->family = AF_INET;
	else if ((family == AF_UNSPEC || family == AF_INET6) && inet_pton(AF_INET6, tmp, out->a) == 1)
		out->family = AF_INET6;
	else
		goto bad;
	if (slash) {
		if (str_to_u32(slash, (uint32_t)ipaddr_bits(out), &plen) < 0)
			goto bad;
		out->plen = (int)plen;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
ipaddr_parse_prefix(const char *s, int family, struct ipaddr *out)
{
	if (s && strcmp(s, "default") == 0) {
		memset(out, 0, sizeof(*out));
		out->family = family == AF_INET6 ? AF_INET6 : AF_INET;
		out->plen = 0;
		return 0;
	}
	if (ipaddr_parse(s, family, out) < 0)
		return -1;
	if (out->plen < 0)
		out->plen = ipaddr_bits(out);
	return 0;
}

int
ipaddr_parse_list(const char *s, struct ipaddr *out, int max, int *n)
{
	char tmp[1024], *f[64];
	size_t k, nf;

	if (strlen(s) >= sizeof(tmp)) {
		errno = EINVAL;
		return -1;
	}
	str_copy(tmp, s, sizeof(tmp));
	nf = str_split(tmp, ", \t", f, 64);
	for (k = 0; k < nf; k++) {
		if (*n >= max || ipaddr_parse_prefix(f[k], AF_UNSPEC, &out[*n]) < 0) {
			errno = EINVAL;
			return -1;
		}
		(*n)++;
	}
	return 0;
}

char *
ipaddr_str_addr(const struct ipaddr *ip, char out[IPADDR_STRLEN])
{
	if (!inet_ntop(ip->family, ip->a, out, IPADDR_STRLEN))
		str_copy(out, "?", IPADDR_STRLEN);
	return out;
}

char *
ipaddr_str(const struct ipaddr *ip, char out[IPADDR_STRLEN])
{
	size_t n;

	ipaddr_str_addr(ip, out);
	n = strlen(out);
	if (ip->plen >= 0)
		snprintf(out + n, IPADDR_STRLEN - n, "/%d", ip->plen);
	return out;
}

static void
mask_bytes(uint8_t *a, int plen, int bits)
{
	int i;

	for (i = 0; i < bits / 8; i++) {
		int keep = plen - i * 8;

		if (keep >= 8)
			continue;
		a[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

void
ipaddr_mask(struct ipaddr *ip)
{
	if (ip->plen >= 0)
		mask_bytes(ip->a, ip->plen, ipaddr_bits(ip));
}

int
ipaddr_is_network(const struct ipaddr *ip)
{
	struct ipaddr m = *ip;

	ipaddr_mask(&m);
	return memcmp(m.a, ip->a, ipaddr_len(ip)) == 0;
}

static int
plen_of(const struct ipaddr *ip)
{
	return ip->plen < 0 ? ipaddr_bits(ip) : ip->plen;
}

/* Whether the first plen bits of a and b agree. */
static int
same_prefix(const struct ipaddr *a, const struct ipaddr *b, int plen)
{
	uint8_t x[16], y[16];

	memcpy(x, a->a, 16);
	memcpy(y, b->a, 16);
	mask_bytes(x, plen, ipaddr_bits(a));
	mask_bytes(y, plen, ipaddr_bits(a));
	return memcmp(x, y, ipaddr_len(a)) == 0;
}

int
ipaddr_contains(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family || plen_of(b) < plen_of(a))
		return 0;
	return same_prefix(a, b, plen_of(a));
}

int
ipaddr_overlap(const struct ipaddr *a, const struct ipaddr *b)
{
	int p;

	if (a->family != b->family)
		return 0;
	p = plen_of(a) < plen_of(b) ? plen_of(a) : plen_of(b);
	return same_prefix(a, b, p);
}

int
ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && plen_of(a) == plen_of(b) &&
	       memcmp(a->a, b->a, ipaddr_len(a)) == 0;
}

uint32_t
ipaddr_v4(const struct ipaddr *ip)
{
	return (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 | (uint32_t)ip->a[2] << 8 | ip->a[3];
}

void
ipaddr_set_v4(struct ipaddr *ip, uint32_t v, int plen)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = AF_INET;
	ip->a[0] = (uint8_t)(v >> 24);
	ip->a[1] = (uint8_t)(v >> 16);
	ip->a[2] = (uint8_t)(v >> 8);
	ip->a[3] = (uint8_t)v;
	ip->plen = plen;
}
