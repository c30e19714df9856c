/* DNS names in wire form. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int from_text(struct dns_name *n, const char *s, const struct dns_name *origin);

/* n and origin may be the same name ($ORIGIN relative to the old one). */
int
dns_name_from_text(struct dns_name *n, const char *s, const struct dns_name *origin)
{
	struct dns_name tmp;

	if (from_text(&tmp, s, origin) < 0)
		return -1;
	*n = tmp;
	return 0;
}

static int
from_text(struct dns_name *n, const char *s, const struct dns_name *origin)
{
	size_t o = 0, lab = 0;
	int absolute = 0;

	if (!s || !*s)
		goto bad;
	if (!strcmp(s, "@")) {
		if (!origin)
			goto bad;
		*n = *origin;
		return 0;
	}
	if (!strcmp(s, ".")) {
		n->len = 1;
		n->data[0] = 0;
		return 0;
	}
	n->data[0] = 0;
	lab = 0;	/* offset of the current label's length byte */
	o = 1;
	while (*s) {
		int c = (unsigned char)*s++;

		if (c == '.') {
			if (o == lab + 1)
				goto bad;	/* empty label */
			if (!*s) {
				absolute = 1;
				break;
			}
			lab = o++;
			if (o > DNS_NAME_MAX)
				goto bad;
			n->data[lab] = 0;
			continue;
		}
		if (c == '\\') {
			if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
			    isdigit((unsigned char)s[2])) {
				c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
				if (c > 255)
					goto bad;
				s += 3;
			} else if (*s) {
				c = (unsigned char)*s++;
			} else {
				goto bad;
			}
		}
		if (o >= DNS_NAME_MAX || o - lab - 1 >= DNS_LABEL_MAX)
			goto bad;
		n->data[o++] = (uint8_t)c;
		n->data[lab]++;
	}
	if (!absolute) {
		if (!origin)
			goto bad;
		if (o + origin->len > DNS_NAME_MAX)
			goto bad;
		memcpy(n->data + o, origin->data, origin->len);
		n->len = (uint8_t)(o + origin->len);
		return 0;
	}
	if (o + 1 > DNS_NAME_MAX)
		goto bad;
	n->data[o++] = 0;
	n->len = (uint8_t)o;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

char *
dns_name_to_text(const struct dns_name *n, char out[DNS_NAME_TEXT])
{
	size_t i = 0, o = 0;

	if (n->len <= 1) {
		strcpy(out, ".");
		return out;
	}
	while (i < n->len && n->data[i]) {
		size_t l = n->data[i++], k;

		for (k = 0; k < l && i < n->len; k++, i++) {
			unsigned char c = n->data[i];

			if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' ||
			    c == '@' || c == '$')
				o += (size_t)snprintf(out + o, DNS_NAME_TEXT - o, "\\%c", c);
			else if (c <= ' ' || c >= 0x7f)
				o += (size_t)snprintf(out + o, DNS_NAME_TEXT - o, "\\%03u", c);
			else
				out[o++] = (char)c;
		}
		out[o++] = '.';
	}
	out[o] = '\0';
	return out;
}

void
dns_name_lower(struct dns_name *n)
{
	size_t i = 0;

	while (i < n->len && n->data[i]) {
		size_t l = n->data[i++], k;

		for (k = 0; k < l && i < n->len; k++, i++)
			n->data[i] = (uint8_t)lower(n->data[i]);
	}
}

int
dns_name_equal(const struct dns_name *a, const struct dns_name *b)
{
	size_t i;

	if (a->len != b->len)
		return 0;
	/* Length bytes are below 64 and unaffected by lower(). */
	for (i = 0; i < a->len; i++)
		if (lower(a->data[i]) != lower(b->data[i]))
			return 0;
	return 1;
}

int
dns_name_labels(const struct dns_name *n)
{
	size_t i = 0;
	int c = 0;

	while (i < n->len && n->data[i]) {
		i += 1 + n->data[i];
		c++;
	}
	return c;
}

int
dns_name_is_sub(const struct dns_name *n, const struct dns_name *parent)
{
	size_t i = 0, k;

	if (n->len < parent->len)
		return 0;
	/* Walk labels until the remaining suffix has the parent's length. */
	while (n->len - i > parent->len) {
		if (!n->data[i])
			return 0;
		i += 1 + n->data[i];
	}
	if (n->len - i != parent->len)
		return 0;
	for (k = 0; k < parent->len; k++)
		if (lower(n->data[i + k]) != lower(parent->data[k]))
			return 0;
	return 1;
}

int
dns_name_parent(const struct dns_name *n, struct dns_name *out)
{
	size_t skip;

	if (n->len <= 1)
		return -1;
	skip = 1 + (size_t)n->data[0];
	out->len = (uint8_t)(n->len - skip);
	memmove(out->data, n->data + skip, out->len);
	return 0;
}

int
dns_name_prepend(struct dns_name *out, const char *label, size_t len, const struct dns_name *parent)
{
	struct dns_name tmp;

	if (len == 0 || len > DNS_LABEL_MAX || 1 + len + parent->len > DNS_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	tmp.data[0] = (uint8_t)len;
	memcpy(tmp.data + 1, label, len);
	memcpy(tmp.data + 1 + len, parent->data, parent->len);
	tmp.len = (uint8_t)(1 + len + parent->len);
	*out = tmp;
	return 0;
}

uint32_t
dns_name_hash(const struct dns_name *n, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;
	size_t i;

	for (i = 0; i < n->len; i++) {
		h ^= (uint32_t)lower(n->data[i]);
		h *= 16777619u;
	}
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

int
dns_name_unpack(const uint8_t *msg, size_t len, size_t *off, struct dns_name *out)
{
	size_t p = *off, o = 0, end = 0;
	int jumps = 0, jumped = 0;

	for (;;) {
		uint8_t c;

		if (p >= len)
			goto bad;
		c = msg[p];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len)
				goto bad;
			to = (size_t)(c & 0x3f) << 8 | msg[p + 1];
			/* Only backwards, and not forever. */
			if (to >= p || ++jumps > 64)
				goto bad;
			if (!jumped) {
				end = p + 2;
				jumped = 1;
			}
			p = to;
			continue;
		}
		if (c & 0xc0)
			goto bad;	/* 0x40, 0x80: extended label types */
		if (o + 1 + c > DNS_NAME_MAX || p + 1 + c > len)
			goto bad;
		out->data[o++] = c;
		if (c == 0) {
			p++;
			break;
		}
		memcpy(out->data + o, msg + p + 1, c);
		o += c;
		p += 1 + (size_t)c;
	}
	out->len = (uint8_t)o;
	*off = jumped ? end : p;
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}
