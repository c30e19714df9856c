/*
 * Growable byte buffers and small string helpers.
 *
 * A buffer's error is sticky: after a failed allocation every append is a
 * no-op and buf_err() reports ENOMEM, so a caller can build a whole message
 * and check once.
 */
#ifndef LAB_BUF_H
#define LAB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;	/* always NUL-terminated when len > 0 or after buf_cstr */
	size_t len;
	size_t cap;
	int err;	/* errno of the first failure, 0 if none */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);		/* len = 0, keeps memory */
int buf_reserve(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addc(struct buf *b, char c);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);
int buf_addhex(struct buf *b, const void *p, size_t n);
void buf_truncate(struct buf *b, size_t len);
void buf_consume(struct buf *b, size_t n);	/* drop n bytes from the front */
const char *buf_cstr(struct buf *b);	/* "" for an empty buffer */
char *buf_steal(struct buf *b);		/* caller frees; buffer is reset */
int buf_err(const struct buf *b);	/* -1 with errno set if an append failed */

/* Strings. */
size_t str_copy(char *dst, const char *src, size_t size);	/* strlcpy */
/* An error for lib/'s callers: the message into err (len bytes), errno = e;
 * returns -1, so that `return str_err(...)` ends a failing function. */
int str_err(char *err, size_t len, int e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
char *str_trim(char *s);			/* in place, returns s advanced */
int str_has_prefix(const char *s, const char *prefix);
int str_has_suffix(const char *s, const char *suffix);
/* Split s in place at any of seps, skipping empty fields. Returns count. */
size_t str_split(char *s, const char *seps, char **out, size_t max);

/* Integers: whole string, base 10 (or 0x.. with base 0), range checked;
 * -1 with EINVAL or ERANGE. */
int str_to_u64(const char *s, int base, uint64_t max, uint64_t *out);
int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int str_to_u32(const char *s, uint32_t max, uint32_t *out);
/* Sizes: 512, 64K, 512M, 2G, 1T (powers of 1024; optional trailing B or iB). */
int str_to_size(const char *s, uint64_t *out);
/* Durations: 30, 30s, 500ms, 5m, 2h, 1d -> milliseconds. */
int str_to_msec(const char *s, uint64_t *out);

/* Hex: encode writes 2n chars + NUL; decode returns bytes or -1. */
void hex_encode(const void *p, size_t n, char *out);
int hex_decode(const char *s, void *out, size_t max);
/* base64 with padding: out holds 4 * ((n + 2) / 3) + 1 bytes. decode: the
 * number of bytes, -1 (EINVAL, ERANGE past cap). */
void base64_encode(const uint8_t *p, size_t n, char *out);
int base64_decode(const char *s, uint8_t *out, size_t cap);

#endif
