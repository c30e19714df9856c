/*
 * The configuration format of every lab file:
 *
 *	# comment (also ; comment)
 *	key = value            keys before any section belong to section ""
 *	[Section]
 *	Key = value            whitespace around = and the value is trimmed
 *	Key = "  quoted  "     quotes keep spaces; \" \\ \n \t inside
 *	[Section arg]          sections may carry one argument: [dhcp br0]
 *
 * Section names and keys compare without regard to case. A key may repeat;
 * a schema says whether that is allowed. Errors are "file:line: message".
 */
#ifndef LAB_CONF_H
#define LAB_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct conf_err {
	char file[256];
	int line;
	char msg[256];
};

struct conf_kv {
	char *key;
	char *val;
	int line;
};

struct conf_section {
	char *name;	/* "" for keys before the first header */
	char *arg;	/* NULL when the header has none */
	int line;
	struct conf_kv *kv;
	size_t nkv, cap;
};

struct conf {
	char *file;
	struct conf_section *sect;
	size_t nsect, cap;
};

/* Strip "# ..." at the end of value lines (wg-quick files allow it). */
#define CONF_INLINE_COMMENTS 1

int conf_parse(struct conf *c, const char *file, const char *text, size_t len,
	       int flags, struct conf_err *err);
int conf_load(struct conf *c, const char *path, int flags, struct conf_err *err);
void conf_free(struct conf *c);

/* Print as "file:line: msg" into the error. Returns -1 (errno EINVAL). */
int conf_errf(struct conf_err *err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* First section with this name (and arg, unless arg is NULL), or NULL. */
const struct conf_section *conf_section_find(const struct conf *c, const char *name,
					     const char *arg);
/* The last value of key in s (later lines win), or NULL. */
const char *conf_get(const struct conf_section *s, const char *key);
const struct conf_kv *conf_get_kv(const struct conf_section *s, const char *key);

/* Values. */
int conf_parse_bool(const char *v, int *out);	/* yes/no true/false on/off 1/0 */

/* Typed getters: a missing key gives def; a bad value is an error naming
 * the file, line and key. */
int conf_get_bool(const struct conf *c, const struct conf_section *s, const char *key,
		  int def, int *out, struct conf_err *err);
int conf_get_int(const struct conf *c, const struct conf_section *s, const char *key,
		 int64_t def, int64_t min, int64_t max, int64_t *out, struct conf_err *err);

/* Building and printing in normal form. */
struct conf_section *conf_add_section(struct conf *c, const char *name, const char *arg,
				      int line);
int conf_add(struct conf_section *s, const char *key, const char *val, int line);
int conf_print(const struct conf *c, struct buf *out);

/* Schemas: what sections and keys a file may hold. */
enum conf_type { CONF_STR, CONF_INT, CONF_BOOL, CONF_SIZE, CONF_MSEC };

#define CONF_REQUIRED 0x1	/* key or section must be present */
#define CONF_MULTI 0x2		/* key may repeat, section may repeat */
#define CONF_ARG 0x4		/* section must carry an argument */
#define CONF_NOARG 0x8		/* section must not carry one */

struct conf_key_spec {
	const char *key;
	enum conf_type type;
	unsigned flags;
	int64_t min, max;	/* for CONF_INT; both 0 means any */
};

struct conf_section_spec {
	const char *name;	/* "" for the keys before any section */
	unsigned flags;
	const struct conf_key_spec *keys;	/* ends with a NULL key */
};

/* spec ends with a NULL name. */
int conf_validate(const struct conf *c, const struct conf_section_spec *spec,
		  struct conf_err *err);

#endif
