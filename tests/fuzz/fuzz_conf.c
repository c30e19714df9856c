/*
 * Fuzz the configuration parser: any input either fails with a file:line
 * error or parses; what parses prints in normal form, and that normal form
 * parses back to the same print (a round trip, not only "no crash").
 */
#include "../../lib/conf.c"

#include <stdlib.h>

static const struct conf_key_spec keys[] = {
	{ "a", CONF_INT, 0, 1, 100 },
	{ "b", CONF_BOOL, CONF_MULTI, 0, 0 },
	{ "c", CONF_SIZE, 0, 0, 0 },
	{ "d", CONF_MSEC, CONF_REQUIRED, 0, 0 },
	{ "e", CONF_STR, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_section_spec schema[] = {
	{ "", 0, keys },
	{ "s", CONF_MULTI, keys },
	{ "t", CONF_ARG, keys },
	{ NULL, 0, NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, c2;
	struct conf_err err;
	struct buf a = BUF_INIT, b = BUF_INIT;
	int flags = size && (data[0] & 1) ? CONF_INLINE_COMMENTS : 0;

	if (conf_parse(&c, "fuzz", (const char *)data, size, flags, &err) < 0) {
		if (err.line < 0 || err.msg[0] == '\0')
			abort();
		return 0;
	}
	conf_validate(&c, schema, &err);
	conf_print(&c, &a);
	if (conf_parse(&c2, "fuzz", a.data ? a.data : "", a.len, 0, &err) < 0)
		abort();	/* normal form must parse */
	conf_print(&c2, &b);
	if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
		abort();	/* and print the same */
	conf_free(&c);
	conf_free(&c2);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
