#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

void
json_writer_init(struct json_writer *w, struct buf *out, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
}

static void
indent(struct json_writer *w)
{
	int i;

	buf_addc(w->out, '\n');
	for (i = 0; i < w->depth; i++)
		buf_adds(w->out, "  ");
}

/* Before any value or key: a comma after an earlier item, and a newline. */
static void
item(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (w->has_items[w->depth])
			buf_addc(w->out, ',');
		w->has_items[w->depth] = 1;
		if (w->pretty)
			indent(w);
	}
}

static void
open_(struct json_writer *w, char c)
{
	item(w);
	if (w->depth >= JSON_MAX_DEPTH) {
		w->err = 1;
		return;
	}
	buf_addc(w->out, c);
	w->depth++;
	w->has_items[w->depth] = 0;
}

static void
close_(struct json_writer *w, char c)
{
	if (w->depth == 0 || w->after_key) {
		w->err = 1;
		return;
	}
	w->depth--;
	if (w->pretty && w->has_items[w->depth + 1])
		indent(w);
	buf_addc(w->out, c);
}

void json_begin_obj(struct json_writer *w) { open_(w, '{'); }
void json_end_obj(struct json_writer *w) { close_(w, '}'); }
void json_begin_arr(struct json_writer *w) { open_(w, '['); }
void json_end_arr(struct json_writer *w) { close_(w, ']'); }

void
json_quote(struct buf *out, const char *s, size_t n)
{
	size_t i, start = 0;

	buf_addc(out, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[8];

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(u, sizeof(u), "\\u%04x", c);
				esc = u;
			}
		}
		if (esc) {
			buf_add(out, s + start, i - start);
			buf_adds(out, esc);
			start = i + 1;
		}
	}
	buf_add(out, s + start, n - start);
	buf_addc(out, '"');
}

void
json_key(struct json_writer *w, const char *key)
{
	item(w);
	json_quote(w->out, key, strlen(key));
	buf_adds(w->out, w->pretty ? ": " : ":");
	w->after_key = 1;
}

void
json_strn(struct json_writer *w, const char *s, size_t n)
{
	item(w);
	json_quote(w->out, s, n);
}

void
json_str(struct json_writer *w, const char *s)
{
	if (!s) {
		json_null(w);
		return;
	}
	json_strn(w, s, strlen(s));
}

void
json_int(struct json_writer *w, int64_t v)
{
	item(w);
	buf_addf(w->out, "%lld", (long long)v);
}

void
json_uint(struct json_writer *w, uint64_t v)
{
	item(w);
	buf_addf(w->out, "%llu", (unsigned long long)v);
}

void
json_num(struct json_writer *w, double v)
{
	item(w);
	if (!isfinite(v))	/* JSON has no NaN or infinity */
		buf_adds(w->out, "null");
	else {
		char s[40];

		/* Keep it a fraction when read back ("-0" would read as int 0). */
		snprintf(s, sizeof(s), "%.17g", v);
		buf_adds(w->out, s);
		if (!strpbrk(s, ".eE"))
			buf_adds(w->out, ".0");
	}
}

void
json_bool(struct json_writer *w, int v)
{
	item(w);
	buf_adds(w->out, v ? "true" : "false");
}

void
json_null(struct json_writer *w)
{
	item(w);
	buf_adds(w->out, "null");
}

int
json_writer_finish(struct json_writer *w)
{
	if (w->err || w->depth != 0 || w->after_key) {
		errno = EINVAL;
		return -1;
	}
	return buf_err(w->out);
}

/* ---- reader ---- */

struct parser {
	const char *p, *end, *start;
	int depth;
	struct json_err *err;
	int failed;
};

static void
perr(struct parser *ps, const char *fmt, ...)
{
	const char *q;
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = 1;
	errno = EINVAL;
	if (!ps->err)
		return;
	ps->err->line = 1;
	ps->err->col = 1;
	for (q = ps->start; q < ps->p && q < ps->end; q++) {
		if (*q == '\n') {
			ps->err->line++;
			ps->err->col = 1;
		} else {
			ps->err->col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static struct json *
new_node(struct parser *ps, enum json_type t)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j)
		perr(ps, "out of memory");
	else
		j->type = t;
	return j;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void
put_utf8(struct buf *b, unsigned cp)
{
	char o[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 3);
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, o, 4);
	}
}

/* Length of the valid UTF-8 sequence at p, or 0 (overlongs, surrogates and
 * values past U+10FFFF are invalid). */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static char *
parse_string(struct parser *ps, size_t *len)
{
	struct buf b = BUF_INIT;

	ps->p++;	/* opening quote */
	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end) {
			perr(ps, "unterminated string");
			goto fail;
		}
		c = (unsigned char)*ps->p;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20) {
			perr(ps, "control character in string");
			goto fail;
		}
		if (c == '\\') {
			unsigned cp, lo;

			if (ps->end - ps->p < 2) {
				perr(ps, "unterminated string");
				goto fail;
			}
			switch (ps->p[1]) {
			case '"': buf_addc(&b, '"'); break;
			case '\\': buf_addc(&b, '\\'); break;
			case '/': buf_addc(&b, '/'); break;
			case 'b': buf_addc(&b, '\b'); break;
			case 'f': buf_addc(&b, '\f'); break;
			case 'n': buf_addc(&b, '\n'); break;
			case 'r': buf_addc(&b, '\r'); break;
			case 't': buf_addc(&b, '\t'); break;
			case 'u':
				if (ps->end - ps->p < 6 || hex4(ps->p + 2, &cp) < 0) {
					perr(ps, "bad \\u escape");
					goto fail;
				}
				ps->p += 4;
				if (cp >= 0xdc00 && cp <= 0xdfff) {
					perr(ps, "lone low surrogate");
					goto fail;
				}
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (ps->end - ps->p < 8 || ps->p[2] != '\\' || ps->p[3] != 'u' ||
					    hex4(ps->p + 4, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
						perr(ps, "unpaired surrogate");
						goto fail;
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					ps->p += 6;
				}
				put_utf8(&b, cp);
				break;
			default:
				perr(ps, "bad escape");
				goto fail;
			}
			ps->p += 2;
			continue;
		}
		{
			size_t n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);

			if (n == 0) {
				perr(ps, "invalid UTF-8");
				goto fail;
			}
			buf_add(&b, ps->p, n);
			ps->p += n;
		}
	}
	if (buf_err(&b) < 0) {
		perr(ps, "out of memory");
		goto fail;
	}
	*len = b.len;
	return buf_steal(&b);
fail:
	buf_free(&b);
	return NULL;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct json *parse_value(struct parser *ps);

static struct json *
parse_number(struct parser *ps)
{
	const char *s = ps->p;
	char tmp[64];
	struct json *j;
	size_t n;
	int frac = 0;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || !is_digit(*ps->p)) {
		perr(ps, "bad number");
		return NULL;
	}
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		frac = 1;
		ps->p++;
		if (ps->p >= ps->end || !is_digit(*ps->p)) {
			perr(ps, "bad number");
			return NULL;
		}
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		frac = 1;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || !is_digit(*ps->p)) {
			perr(ps, "bad number");
			return NULL;
		}
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	}
	n = (size_t)(ps->p - s);
	if (n >= sizeof(tmp)) {
		perr(ps, "number too long");
		return NULL;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	j = new_node(ps, JSON_NUM);
	if (!j)
		return NULL;
	j->num = strtod(tmp, NULL);
	if (!frac) {
		errno = 0;
		j->i = strtoll(tmp, NULL, 10);
		j->is_int = errno == 0;
	}
	return j;
}

static int
literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return -1;
	ps->p += n;
	return 0;
}

static struct json *
parse_container(struct parser *ps, int obj)
{
	struct json *j, **tail;
	char close = obj ? '}' : ']';

	if (++ps->depth > JSON_MAX_DEPTH) {
		perr(ps, "nested deeper than %d", JSON_MAX_DEPTH);
		return NULL;
	}
	j = new_node(ps, obj ? JSON_OBJ : JSON_ARR);
	if (!j)
		return NULL;
	tail = &j->child;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return j;
	}
	for (;;) {
		struct json *v;
		char *key = NULL;
		size_t klen;

		skip_ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"') {
				perr(ps, "expected a member name");
				goto fail;
			}
			key = parse_string(ps, &klen);
			if (!key)
				goto fail;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				perr(ps, "expected ':'");
				goto fail;
			}
			ps->p++;
		}
		v = parse_value(ps);
		if (!v) {
			free(key);
			goto fail;
		}
		v->key = key;
		*tail = v;
		tail = &v->next;
		j->n++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		perr(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		goto fail;
	}
	ps->depth--;
	return j;
fail:
	json_free(j);
	return NULL;
}

static struct json *
parse_value(struct parser *ps)
{
	struct json *j;

	skip_ws(ps);
	if (ps->p >= ps->end) {
		perr(ps, "unexpected end of input");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
		return parse_container(ps, 1);
	case '[':
		return parse_container(ps, 0);
	case '"':
		j = new_node(ps, JSON_STR);
		if (!j)
			return NULL;
		j->str = parse_string(ps, &j->n);
		if (!j->str) {
			free(j);
			return NULL;
		}
		return j;
	case 't':
	case 'f':
		j = new_node(ps, JSON_BOOL);
		if (!j)
			return NULL;
		j->b = *ps->p == 't';
		if (literal(ps, j->b ? "true" : "false") < 0) {
			free(j);
			break;
		}
		return j;
	case 'n':
		if (literal(ps, "null") < 0)
			break;
		return new_node(ps, JSON_NULL);
	default:
		if (*ps->p == '-' || is_digit(*ps->p))
			return parse_number(ps);
	}
	perr(ps, "unexpected character");
	return NULL;
}

struct json *
json_parse(const char *text, size_t len, struct json_err *err)
{
	struct parser ps = { text, text + len, text, 0, err, 0 };
	struct json *j;

	j = parse_value(&ps);
	if (!j)
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		perr(&ps, "trailing data after the document");
		json_free(j);
		return NULL;
	}
	return j;
}

void
json_free(struct json *j)
{
	while (j) {
		struct json *next = j->next;

		json_free(j->child);
		free(j->key);
		free(j->str);
		free(j);
		j = next;
	}
}

const struct json *
json_get(const struct json *obj, const char *key)
{
	const struct json *c, *found = NULL;

	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (c = obj->child; c; c = c->next)
		if (strcmp(c->key, key) == 0)
			found = c;
	return found;
}

const struct json *
json_at(const struct json *arr, size_t i)
{
	const struct json *c;

	if (!arr || arr->type != JSON_ARR)
		return NULL;
	for (c = arr->child; c && i; c = c->next)
		i--;
	return c;
}

const char *
json_get_str(const struct json *obj, const char *key)
{
	const struct json *j = json_get(obj, key);

	return j && j->type == JSON_STR ? j->str : NULL;
}

int
json_get_int(const struct json *obj, const char *key, int64_t *out)
{
	const struct json *j = json_get(obj, key);

	if (!j || j->type != JSON_NUM || !j->is_int)
		return -1;
	*out = j->i;
	return 0;
}
