/*
 * JSON (RFC 8259): a streaming writer into a struct buf for --json output,
 * and a reader that builds a small tree, for facts files and tests.
 *
 * The reader accepts exactly RFC 8259 documents: UTF-8 checked, no
 * trailing commas, no comments, nesting bounded by JSON_MAX_DEPTH.
 */
#ifndef LAB_JSON_H
#define LAB_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JSON_MAX_DEPTH 64

/* Writer. Commas and (with pretty) indentation are placed for the caller. */
struct json_writer {
	struct buf *out;
	int depth;
	int pretty;
	int after_key;
	uint8_t has_items[JSON_MAX_DEPTH + 1];
	int err;
};

void json_writer_init(struct json_writer *w, struct buf *out, int pretty);
void json_begin_obj(struct json_writer *w);
void json_end_obj(struct json_writer *w);
void json_begin_arr(struct json_writer *w);
void json_end_arr(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_str(struct json_writer *w, const char *s);
void json_strn(struct json_writer *w, const char *s, size_t n);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_num(struct json_writer *w, double v);
void json_bool(struct json_writer *w, int v);
void json_null(struct json_writer *w);
/* -1 (EINVAL) if the calls did not nest, or the buffer failed. */
int json_writer_finish(struct json_writer *w);
/* Append s as a JSON string literal (with quotes) to out. */
void json_quote(struct buf *out, const char *s, size_t n);

/* Reader. */
enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
	enum json_type type;
	char *key;		/* member name inside an object, else NULL */
	struct json *next;	/* next sibling */
	struct json *child;	/* first member/element of an object/array */
	size_t n;		/* members/elements, or string length */
	char *str;		/* JSON_STR: decoded, NUL-terminated (may hold NULs) */
	double num;		/* JSON_NUM */
	int64_t i;		/* JSON_NUM when is_int */
	int is_int;
	int b;			/* JSON_BOOL */
};

struct json_err {
	int line, col;
	char msg[128];
};

struct json *json_parse(const char *text, size_t len, struct json_err *err);
void json_free(struct json *j);

/* Lookups return NULL when absent or of another type. */
const struct json *json_get(const struct json *obj, const char *key);	/* last wins */
const struct json *json_at(const struct json *arr, size_t i);
const char *json_get_str(const struct json *obj, const char *key);
int json_get_int(const struct json *obj, const char *key, int64_t *out);	/* -1 if absent */

#endif
