#include <math.h>
#include <stdint.h>

#include "json.h"
#include "tap.h"

static void
test_writer(void)
{
	struct buf b = BUF_INIT;
	struct json_writer w;

	json_writer_init(&w, &b, 0);
	json_begin_obj(&w);
	json_key(&w, "name");
	json_str(&w, "br0 \"lan\"\n\x01");
	json_key(&w, "mtu");
	json_int(&w, 1500);
	json_key(&w, "big");
	json_uint(&w, UINT64_MAX);
	json_key(&w, "up");
	json_bool(&w, 1);
	json_key(&w, "none");
	json_null(&w);
	json_key(&w, "addrs");
	json_begin_arr(&w);
	json_str(&w, "10.0.0.1/24");
	json_begin_obj(&w);
	json_end_obj(&w);
	json_begin_arr(&w);
	json_end_arr(&w);
	json_num(&w, 0.5);
	json_num(&w, NAN);
	json_end_arr(&w);
	json_end_obj(&w);
	ok(json_writer_finish(&w) == 0, "balanced document finishes");
	is_str(buf_cstr(&b),
	       "{\"name\":\"br0 \\\"lan\\\"\\n\\u0001\",\"mtu\":1500,\"big\":18446744073709551615,"
	       "\"up\":true,\"none\":null,\"addrs\":[\"10.0.0.1/24\",{},[],0.5,null]}",
	       "compact output, escapes, NaN as null");
	buf_reset(&b);
	json_writer_init(&w, &b, 1);
	json_begin_obj(&w);
	json_key(&w, "a");
	json_begin_arr(&w);
	json_int(&w, 1);
	json_int(&w, 2);
	json_end_arr(&w);
	json_key(&w, "e");
	json_begin_obj(&w);
	json_end_obj(&w);
	json_end_obj(&w);
	is_str(buf_cstr(&b), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": {}\n}", "pretty output");
	buf_reset(&b);
	json_writer_init(&w, &b, 0);
	json_begin_obj(&w);
	json_key(&w, "dangling");
	json_end_obj(&w);
	ok(json_writer_finish(&w) < 0, "a key without value is an error");
	buf_free(&b);
}

static struct json *
parse(const char *s, struct json_err *e)
{
	return json_parse(s, strlen(s), e);
}

static void
test_reader(void)
{
	struct json_err e;
	struct json *j;
	const struct json *v;
	int64_t i;

	j = parse(" {\"host\": \"alpha\", \"cpus\": 2, \"mem\": 2.5e9, \"tags\": [\"a\", \"b\"],"
		  " \"on\": false, \"nil\": null, \"u\": \"\\u00e9\\ud83d\\ude00\\/\", \"neg\": -0.25,"
		  " \"host\": \"beta\"} ", &e);
	ok(j != NULL, "a document parses");
	if (!j)
		return;
	is_str(json_get_str(j, "host"), "beta", "duplicate member: last wins");
	ok(json_get_int(j, "cpus", &i) == 0 && i == 2, "integer member");
	v = json_get(j, "mem");
	ok(v && v->type == JSON_NUM && !v->is_int && v->num == 2.5e9, "exponent number is not int");
	v = json_get(j, "tags");
	ok(v && v->type == JSON_ARR && v->n == 2, "array with two elements");
	is_str(json_at(v, 1)->str, "b", "json_at");
	ok(json_at(v, 2) == NULL, "json_at past the end");
	v = json_get(j, "on");
	ok(v && v->type == JSON_BOOL && v->b == 0, "false");
	ok(json_get(j, "nil")->type == JSON_NULL, "null");
	is_str(json_get_str(j, "u"), "\xc3\xa9\xf0\x9f\x98\x80/", "\\u escapes and surrogate pairs to UTF-8");
	v = json_get(j, "neg");
	ok(v && v->num == -0.25, "negative fraction");
	ok(json_get(j, "absent") == NULL && json_get_str(j, "cpus") == NULL, "absent or wrong type");
	json_free(j);

	j = parse("\"a\\u0000b\"", &e);
	ok(j && j->n == 3 && j->str[1] == '\0', "strings may hold NUL, length kept");
	json_free(j);
	j = parse("-9223372036854775808", &e);
	ok(j && j->is_int && j->i == INT64_MIN, "int64 min");
	json_free(j);
	j = parse("9223372036854775808", &e);
	ok(j && !j->is_int, "past int64: a double, not an int");
	json_free(j);
}

static void
bad(const char *s, const char *msg, int col, const char *what)
{
	struct json_err e;
	struct json *j;

	memset(&e, 0, sizeof(e));
	j = parse(s, &e);
	ok(j == NULL && !strcmp(e.msg, msg) && (col == 0 || e.col == col), "refused: %s", what);
	if (j || strcmp(e.msg, msg) || (col && e.col != col))
		printf("#   got \"%s\" at col %d\n", e.msg, e.col);
	json_free(j);
}

static void
test_bad(void)
{
	char deep[200];
	int i;

	bad("", "unexpected end of input", 1, "empty input");
	bad("[1,]", "unexpected character", 4, "trailing comma");
	bad("{\"a\" 1}", "expected ':'", 6, "missing colon");
	bad("{a:1}", "expected a member name", 2, "unquoted key");
	bad("01", "trailing data after the document", 2, "leading zero");
	bad("1.", "bad number", 3, "fraction without digits");
	bad("-", "bad number", 2, "lone minus");
	bad("1e", "bad number", 3, "exponent without digits");
	bad("\"\\x\"", "bad escape", 2, "unknown escape");
	bad("\"\\ud800\"", "unpaired surrogate", 0, "lone high surrogate");
	bad("\"\\udc00\"", "lone low surrogate", 0, "lone low surrogate");
	bad("\"\xc3\x28\"", "invalid UTF-8", 2, "bad continuation byte");
	bad("\"\xc0\xaf\"", "invalid UTF-8", 2, "overlong encoding");
	bad("\"\xed\xa0\x80\"", "invalid UTF-8", 2, "encoded surrogate");
	bad("\"a\nb\"", "control character in string", 3, "raw newline in a string");
	bad("\"abc", "unterminated string", 5, "unterminated string");
	bad("tru", "unexpected character", 1, "truncated literal");
	bad("[1] [2]", "trailing data after the document", 5, "two documents");
	bad("{\"a\":1,\n\"b\":}", "unexpected character", 5, "error position counts lines");
	for (i = 0; i < 100; i++)
		deep[i] = '[';
	deep[100] = '\0';
	bad(deep, "nested deeper than 64", 0, "nesting limit");
}

int
main(void)
{
	test_writer();
	test_reader();
	test_bad();
	return done_testing();
}
