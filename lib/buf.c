#include "buf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data)
		b->data[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->err) {
		errno = b->err;
		return -1;
	}
	/* One byte more than asked for, for the terminating NUL. */
	if (extra > SIZE_MAX - b->len - 1)
		goto nomem;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		goto nomem;
	b->data = p;
	b->cap = cap;
	return 0;
nomem:
	b->err = ENOMEM;
	errno = ENOMEM;
	return -1;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->err = EINVAL;
		return -1;
	}
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int
buf_addhex(struct buf *b, const void *p, size_t n)
{
	if (n > (SIZE_MAX - 1) / 2 || buf_reserve(b, 2 * n) < 0)
		return -1;
	hex_encode(p, n, b->data + b->len);
	b->len += 2 * n;
	return 0;
}

void
buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_truncate(b, 0);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *
buf_cstr(struct buf *b)
{
	return b->data ? b->data : "";
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	buf_init(b);
	return p;
}

int
buf_err(const struct buf *b)
{
	if (!b->err)
		return 0;
	errno = b->err;
	return -1;
}

int
str_err(char *err, size_t len, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

size_t
str_copy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

char *
str_trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	return s;
}

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

size_t
str_split(char *s, const char *seps, char **out, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		s += strspn(s, seps);
		if (!*s)
			break;
		out[n++] = s;
		s += strcspn(s, seps);
		if (*s)
			*s++ = '\0';
	}
	return n;
}

int
str_to_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts leading space and a sign; a number here has neither. */
	if (!s || !isdigit((unsigned char)*s)) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	long long v;
	char *end;

	if (!s || !(isdigit((unsigned char)*s) || (*s == '-' && isdigit((unsigned char)s[1])))) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
str_to_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (str_to_u64(s, 10, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
scaled(const char *s, const char *const *units, const uint64_t *mult, size_t nunits,
       uint64_t *out)
{
	char num[32];
	size_t i, n = strspn(s, "0123456789");
	uint64_t v;

	if (n == 0 || n >= sizeof(num)) {
		errno = n ? ERANGE : EINVAL;
		return -1;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if (str_to_u64(num, 10, UINT64_MAX, &v) < 0)
		return -1;
	for (i = 0; i < nunits; i++) {
		if (strcasecmp(s + n, units[i]) == 0) {
			if (mult[i] && v > UINT64_MAX / mult[i]) {
				errno = ERANGE;
				return -1;
			}
			*out = v * mult[i];
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

int
str_to_size(const char *s, uint64_t *out)
{
	static const char *const u[] = { "", "b", "k", "kb", "kib", "m", "mb", "mib",
					 "g", "gb", "gib", "t", "tb", "tib" };
	static const uint64_t m[] = { 1, 1, 1ULL << 10, 1ULL << 10, 1ULL << 10,
				      1ULL << 20, 1ULL << 20, 1ULL << 20,
				      1ULL << 30, 1ULL << 30, 1ULL << 30,
				      1ULL << 40, 1ULL << 40, 1ULL << 40 };

	return scaled(s, u, m, sizeof(u) / sizeof(u[0]), out);
}

int
str_to_msec(const char *s, uint64_t *out)
{
	static const char *const u[] = { "", "s", "ms", "m", "min", "h", "d" };
	static const uint64_t m[] = { 1000, 1000, 1, 60000, 60000, 3600000, 86400000 };

	return scaled(s, u, m, sizeof(u) / sizeof(u[0]), out);
}

void
hex_encode(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[s[i] >> 4];
		out[2 * i + 1] = digits[s[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(const char *s, void *out, size_t max)
{
	unsigned char *o = out;
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max) {
		errno = n % 2 ? EINVAL : ERANGE;
		return -1;
	}
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			errno = EINVAL;
			return -1;
		}
		o[i] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

/* ---- base64 (RFC 4648, with padding) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

int
base64_decode(const char *s, uint8_t *out, size_t cap)
{
	uint32_t v = 0;
	size_t o = 0;
	int bits = 0, pad = 0;

	for (; *s; s++) {
		const char *c;

		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || !(c = strchr(b64, *s)) || !*s) {
			errno = EINVAL;
			return -1;
		}
		v = v << 6 | (uint32_t)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap) {
				errno = ERANGE;
				return -1;
			}
			out[o++] = (uint8_t)(v >> bits);
		}
	}
	if (pad > 2) {
		errno = EINVAL;
		return -1;
	}
	return (int)o;
}
