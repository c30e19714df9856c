#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fs.h"

#define CONF_MAX_LINE 8192
#define CONF_MAX_FILE (16u << 20)

int
conf_errf(struct conf_err *err, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		str_copy(err->file, file ? file : "", sizeof(err->file));
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
	return -1;
}

static int
valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return 0;
	return 1;
}

struct conf_section *
conf_add_section(struct conf *c, const char *name, const char *arg, int line)
{
	struct conf_section *s;

	if (c->nsect == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;

		s = realloc(c->sect, cap * sizeof(*s));
		if (!s)
			return NULL;
		c->sect = s;
		c->cap = cap;
	}
	s = &c->sect[c->nsect];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	s->arg = arg ? strdup(arg) : NULL;
	if (!s->name || (arg && !s->arg)) {
		free(s->name);
		free(s->arg);
		errno = ENOMEM;
		return NULL;
	}
	s->line = line;
	c->nsect++;
	return s;
}

int
conf_add(struct conf_section *s, const char *key, const char *val, int line)
{
	struct conf_kv *kv;

	if (s->nkv == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;

		kv = realloc(s->kv, cap * sizeof(*kv));
		if (!kv)
			return -1;
		s->kv = kv;
		s->cap = cap;
	}
	kv = &s->kv[s->nkv];
	kv->key = strdup(key);
	kv->val = strdup(val);
	if (!kv->key || !kv->val) {
		free(kv->key);
		free(kv->val);
		errno = ENOMEM;
		return -1;
	}
	kv->line = line;
	s->nkv++;
	return 0;
}

void
conf_free(struct conf *c)
{
	size_t i, j;

	for (i = 0; i < c->nsect; i++) {
		for (j = 0; j < c->sect[i].nkv; j++) {
			free(c->sect[i].kv[j].key);
			free(c->sect[i].kv[j].val);
		}
		free(c->sect[i].kv);
		free(c->sect[i].name);
		free(c->sect[i].arg);
	}
	free(c->sect);
	free(c->file);
	memset(c, 0, sizeof(*c));
}

/* Unquote a "..." value in place; -1 if malformed. */
static int
unquote(char *v)
{
	char *r = v + 1, *w = v;

	while (*r && *r != '"') {
		if (*r == '\\') {
			r++;
			switch (*r) {
			case '"': case '\\': *w++ = *r; break;
			case 'n': *w++ = '\n'; break;
			case 't': *w++ = '\t'; break;
			default: return -1;
			}
			r++;
			continue;
		}
		*w++ = *r++;
	}
	if (*r != '"')
		return -1;
	r++;
	while (*r == ' ' || *r == '\t')
		r++;
	if (*r)
		return -1;
	*w = '\0';
	return 0;
}

static int
parse_line(struct conf *c, struct conf_section **cur, char *line, int lineno, int flags,
	   struct conf_err *err)
{
	const char *file = c->file;
	char *s = str_trim(line), *eq, *key, *val;

	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *end = strchr(s, ']'), *name, *arg = NULL;

		if (!end)
			return conf_errf(err, file, lineno, "unterminated section header");
		*end = '\0';
		arg = str_trim(end + 1);
		if (*arg && *arg != '#' && *arg != ';')
			return conf_errf(err, file, lineno, "text after section header");
		name = str_trim(s + 1);
		if (*name == '\0')
			return conf_errf(err, file, lineno, "empty section name");
		arg = name + strcspn(name, " \t");
		if (*arg) {
			*arg++ = '\0';
			arg = str_trim(arg);
		} else {
			arg = NULL;
		}
		if (!valid_name(name))
			return conf_errf(err, file, lineno, "bad section name \"%.64s\"", name);
		*cur = conf_add_section(c, name, arg, lineno);
		if (!*cur)
			return conf_errf(err, file, lineno, "out of memory");
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq)
		return conf_errf(err, file, lineno, "expected \"key = value\"");
	*eq = '\0';
	key = str_trim(s);
	val = eq + 1;
	if (!valid_name(key))
		return conf_errf(err, file, lineno, *key ? "bad key \"%.64s\"" : "empty key%.0s", key);
	val = str_trim(val);
	if (*val == '"') {
		if (unquote(val) < 0)
			return conf_errf(err, file, lineno, "bad quoted value for %s", key);
	} else if (flags & CONF_INLINE_COMMENTS) {
		char *h = strchr(val, '#');

		if (h) {
			*h = '\0';
			val = str_trim(val);
		}
	}
	if (!*cur) {
		*cur = conf_add_section(c, "", NULL, 0);
		if (!*cur)
			return conf_errf(err, file, lineno, "out of memory");
	}
	if (conf_add(*cur, key, val, lineno) < 0)
		return conf_errf(err, file, lineno, "out of memory");
	return 0;
}

int
conf_parse(struct conf *c, const char *file, const char *text, size_t len, int flags,
	   struct conf_err *err)
{
	struct conf_section *cur = NULL;
	char line[CONF_MAX_LINE + 1];
	size_t pos = 0;
	int lineno = 0;

	memset(c, 0, sizeof(*c));
	c->file = strdup(file ? file : "-");
	if (!c->file)
		return conf_errf(err, file, 0, "out of memory");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		if (n > CONF_MAX_LINE) {
			conf_errf(err, c->file, lineno, "line longer than %d bytes", CONF_MAX_LINE);
			goto fail;
		}
		if (memchr(text + pos, '\0', n)) {
			conf_errf(err, c->file, lineno, "NUL byte in line");
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (parse_line(c, &cur, line, lineno, flags, err) < 0)
			goto fail;
		pos += n + 1;
	}
	return 0;
fail:
	conf_free(c);
	errno = EINVAL;
	return -1;
}

int
conf_load(struct conf *c, const char *path, int flags, struct conf_err *err)
{
	struct buf b = BUF_INIT;
	int r;

	if (fs_read_file(path, &b, CONF_MAX_FILE) < 0) {
		int saved = errno;

		conf_errf(err, path, 0, "%s", strerror(saved));
		buf_free(&b);
		memset(c, 0, sizeof(*c));
		errno = saved;
		return -1;
	}
	r = conf_parse(c, path, b.data ? b.data : "", b.len, flags, err);
	buf_free(&b);
	return r;
}

const struct conf_section *
conf_section_find(const struct conf *c, const char *name, const char *arg)
{
	size_t i;

	for (i = 0; i < c->nsect; i++) {
		const struct conf_section *s = &c->sect[i];

		if (strcasecmp(s->name, name) != 0)
			continue;
		if (arg && (!s->arg || strcmp(s->arg, arg) != 0))
			continue;
		return s;
	}
	return NULL;
}

const struct conf_kv *
conf_get_kv(const struct conf_section *s, const char *key)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = s->nkv; i-- > 0;)
		if (strcasecmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

const char *
conf_get(const struct conf_section *s, const char *key)
{
	const struct conf_kv *kv = conf_get_kv(s, key);

	return kv ? kv->val : NULL;
}

int
conf_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

int
conf_get_bool(const struct conf *c, const struct conf_section *s, const char *key, int def,
	      int *out, struct conf_err *err)
{
	const struct conf_kv *kv = conf_get_kv(s, key);

	if (!kv) {
		*out = def;
		return 0;
	}
	if (conf_parse_bool(kv->val, out) < 0)
		return conf_errf(err, c->file, kv->line, "%s: expected yes or no, not \"%.64s\"",
				 kv->key, kv->val);
	return 0;
}

int
conf_get_int(const struct conf *c, const struct conf_section *s, const char *key,
	     int64_t def, int64_t min, int64_t max, int64_t *out, struct conf_err *err)
{
	const struct conf_kv *kv = conf_get_kv(s, key);

	if (!kv) {
		*out = def;
		return 0;
	}
	if (str_to_i64(kv->val, min, max, out) < 0)
		return conf_errf(err, c->file, kv->line,
				 "%s: expected a number from %lld to %lld, not \"%.64s\"", kv->key,
				 (long long)min, (long long)max, kv->val);
	return 0;
}

static int
needs_quotes(const char *v)
{
	size_t n = strlen(v);

	if (n == 0)
		return 0;
	if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]) || v[0] == '"')
		return 1;
	return strpbrk(v, "\n\t\\") != NULL;
}

int
conf_print(const struct conf *c, struct buf *out)
{
	size_t i, j;

	for (i = 0; i < c->nsect; i++) {
		const struct conf_section *s = &c->sect[i];

		if (*s->name) {
			if (out->len)
				buf_addc(out, '\n');
			buf_addf(out, "[%s%s%s]\n", s->name, s->arg ? " " : "", s->arg ? s->arg : "");
		}
		for (j = 0; j < s->nkv; j++) {
			const char *v = s->kv[j].val, *p;

			buf_addf(out, "%s = ", s->kv[j].key);
			if (!needs_quotes(v)) {
				buf_adds(out, v);
			} else {
				buf_addc(out, '"');
				for (p = v; *p; p++) {
					switch (*p) {
					case '"': buf_adds(out, "\\\""); break;
					case '\\': buf_adds(out, "\\\\"); break;
					case '\n': buf_adds(out, "\\n"); break;
					case '\t': buf_adds(out, "\\t"); break;
					default: buf_addc(out, *p);
					}
				}
				buf_addc(out, '"');
			}
			buf_addc(out, '\n');
		}
	}
	return buf_err(out);
}

static const struct conf_section_spec *
find_section_spec(const struct conf_section_spec *spec, const char *name)
{
	for (; spec->name; spec++)
		if (strcasecmp(spec->name, name) == 0)
			return spec;
	return NULL;
}

static const struct conf_key_spec *
find_key_spec(const struct conf_key_spec *keys, const char *key)
{
	for (; keys && keys->key; keys++)
		if (strcasecmp(keys->key, key) == 0)
			return keys;
	return NULL;
}

static int
check_value(const struct conf *c, const struct conf_kv *kv, const struct conf_key_spec *k,
	    struct conf_err *err)
{
	uint64_t u;
	int64_t i;
	int b;

	switch (k->type) {
	case CONF_STR:
		return 0;
	case CONF_INT:
		if (k->min == 0 && k->max == 0) {
			if (str_to_i64(kv->val, INT64_MIN, INT64_MAX, &i) == 0)
				return 0;
			return conf_errf(err, c->file, kv->line, "%s: expected a number, not \"%.64s\"",
					 kv->key, kv->val);
		}
		if (str_to_i64(kv->val, k->min, k->max, &i) == 0)
			return 0;
		return conf_errf(err, c->file, kv->line,
				 "%s: expected a number from %lld to %lld, not \"%.64s\"", kv->key,
				 (long long)k->min, (long long)k->max, kv->val);
	case CONF_BOOL:
		if (conf_parse_bool(kv->val, &b) == 0)
			return 0;
		return conf_errf(err, c->file, kv->line, "%s: expected yes or no, not \"%.64s\"",
				 kv->key, kv->val);
	case CONF_SIZE:
		if (str_to_size(kv->val, &u) == 0)
			return 0;
		return conf_errf(err, c->file, kv->line,
				 "%s: expected a size (512, 64K, 2G), not \"%.64s\"", kv->key, kv->val);
	case CONF_MSEC:
		if (str_to_msec(kv->val, &u) == 0)
			return 0;
		return conf_errf(err, c->file, kv->line,
				 "%s: expected a duration (30s, 500ms, 5m), not \"%.64s\"", kv->key,
				 kv->val);
	}
	return 0;
}

int
conf_validate(const struct conf *c, const struct conf_section_spec *spec,
	      struct conf_err *err)
{
	const struct conf_section_spec *ss;
	const struct conf_key_spec *k;
	size_t i, j, l;

	for (i = 0; i < c->nsect; i++) {
		const struct conf_section *s = &c->sect[i];

		ss = find_section_spec(spec, s->name);
		if (!ss) {
			if (!*s->name)
				return conf_errf(err, c->file, s->nkv ? s->kv[0].line : 0,
						 "key \"%s\" outside of any section",
						 s->nkv ? s->kv[0].key : "");
			return conf_errf(err, c->file, s->line, "unknown section [%s]", s->name);
		}
		if ((ss->flags & CONF_ARG) && !s->arg)
			return conf_errf(err, c->file, s->line, "[%s] needs an argument", s->name);
		if ((ss->flags & CONF_NOARG) && s->arg)
			return conf_errf(err, c->file, s->line, "[%s] takes no argument", s->name);
		if (!(ss->flags & CONF_MULTI)) {
			for (j = 0; j < i; j++) {
				const struct conf_section *o = &c->sect[j];

				if (strcasecmp(o->name, s->name) == 0 &&
				    ((!o->arg && !s->arg) || (o->arg && s->arg && !strcmp(o->arg, s->arg))))
					return conf_errf(err, c->file, s->line,
							 "[%s%s%s] repeated (first at line %d)", s->name,
							 s->arg ? " " : "", s->arg ? s->arg : "", o->line);
			}
		}
		for (j = 0; j < s->nkv; j++) {
			const struct conf_kv *kv = &s->kv[j];

			k = find_key_spec(ss->keys, kv->key);
			if (!k) {
				if (*s->name)
					return conf_errf(err, c->file, kv->line, "unknown key \"%s\" in [%s]",
							 kv->key, s->name);
				return conf_errf(err, c->file, kv->line, "unknown key \"%s\"", kv->key);
			}
			if (!(k->flags & CONF_MULTI)) {
				for (l = 0; l < j; l++)
					if (strcasecmp(s->kv[l].key, kv->key) == 0)
						return conf_errf(err, c->file, kv->line,
								 "%s repeated (first at line %d)", kv->key,
								 s->kv[l].line);
			}
			if (check_value(c, kv, k, err) < 0)
				return -1;
		}
		for (k = ss->keys; k && k->key; k++)
			if ((k->flags & CONF_REQUIRED) && !conf_get_kv(s, k->key))
				return conf_errf(err, c->file, s->line, "[%s] needs %s", s->name, k->key);
	}
	for (ss = spec; ss->name; ss++)
		if ((ss->flags & CONF_REQUIRED) && !conf_section_find(c, ss->name, NULL))
			return conf_errf(err, c->file, 0, "missing section [%s]", ss->name);
	return 0;
}
