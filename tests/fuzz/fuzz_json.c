/*
 * Fuzz the JSON reader: what parses is written back with the writer, and
 * the written text parses and writes to the same bytes again.
 */
#include "../../lib/json.c"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
emit(struct json_writer *w, const struct json *j)
{
	const struct json *c;

	switch (j->type) {
	case JSON_NULL: json_null(w); break;
	case JSON_BOOL: json_bool(w, j->b); break;
	case JSON_NUM:
		if (j->is_int)
			json_int(w, j->i);
		else
			json_num(w, j->num);
		break;
	case JSON_STR: json_strn(w, j->str, j->n); break;
	case JSON_ARR:
		json_begin_arr(w);
		for (c = j->child; c; c = c->next)
			emit(w, c);
		json_end_arr(w);
		break;
	case JSON_OBJ:
		json_begin_obj(w);
		for (c = j->child; c; c = c->next) {
			json_key(w, c->key);
			emit(w, c);
		}
		json_end_obj(w);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_err err;
	struct json *j, *j2;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct json_writer w;

	j = json_parse((const char *)data, size, &err);
	if (!j)
		return 0;
	json_writer_init(&w, &a, size & 1);
	emit(&w, j);
	if (json_writer_finish(&w) < 0)
		abort();
	j2 = json_parse(a.data, a.len, &err);
	if (!j2)
		abort();	/* our own output must parse */
	json_writer_init(&w, &b, size & 1);
	emit(&w, j2);
	if (json_writer_finish(&w) < 0 || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	json_free(j);
	json_free(j2);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
