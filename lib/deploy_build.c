/* lab deploy: the inventory, facts, and the incremental per-machine build. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "deploy.h"
#include "fs.h"
#include "hash.h"
#include "json.h"
#include "tpl.h"
#include "tree.h"

/* ---- inventory ---- */

static const struct conf_key_spec defaults_keys[] = {
	{ "user", CONF_STR, 0, 0, 0 },
	{ "port", CONF_INT, 0, 1, 65535 },
	{ "identity", CONF_STR, 0, 0, 0 },
	{ "root", CONF_STR, 0, 0, 0 },
	{ "known-hosts", CONF_STR, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec machine_keys[] = {
	{ "host", CONF_STR, CONF_REQUIRED, 0, 0 },
	{ "user", CONF_STR, 0, 0, 0 },
	{ "port", CONF_INT, 0, 1, 65535 },
	{ "identity", CONF_STR, 0, 0, 0 },
	{ "root", CONF_STR, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_section_spec inv_spec[] = {
	{ "defaults", CONF_NOARG, defaults_keys },
	{ "machine", CONF_ARG | CONF_MULTI, machine_keys },
	{ NULL, 0, NULL },
};

static int
valid_machine(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n > 63 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* ~/ at the front of a path: $HOME. */
static void
expand_home(char *out, size_t size, const char *v, const char *base)
{
	const char *home = getenv("HOME");

	if (v[0] == '~' && v[1] == '/' && home)
		snprintf(out, size, "%s/%s", home, v + 2);
	else if (v[0] != '/' && base)
		snprintf(out, size, "%s/%s", base, v);
	else
		str_copy(out, v, size);
}

int
inv_load(struct inventory *inv, const char *dir, struct conf_err *err)
{
	struct conf c;
	char path[1200];
	const struct conf_section *def;
	size_t i;

	memset(inv, 0, sizeof(*inv));
	str_copy(inv->dir, dir, sizeof(inv->dir));
	snprintf(path, sizeof(path), "%s/inventory", dir);
	if (conf_load(&c, path, CONF_INLINE_COMMENTS, err) < 0)
		return -1;
	if (conf_validate(&c, inv_spec, err) < 0) {
		conf_free(&c);
		return -1;
	}
	def = conf_section_find(&c, "defaults", NULL);
	expand_home(inv->known_hosts, sizeof(inv->known_hosts),
		    def && conf_get(def, "known-hosts") ? conf_get(def, "known-hosts")
							: "~/.ssh/known_hosts",
		    dir);
	inv->m = calloc(c.nsect ? c.nsect : 1, sizeof(*inv->m));
	if (!inv->m) {
		conf_free(&c);
		return -1;
	}
	for (i = 0; i < c.nsect; i++) {
		const struct conf_section *s = &c.sect[i];
		struct inv_machine *m;
		const char *v;
		int64_t port;

		if (strcasecmp(s->name, "machine"))
			continue;
		if (!valid_machine(s->arg)) {
			conf_errf(err, c.file, s->line, "[machine %s]: not a machine name", s->arg);
			goto fail;
		}
		if (inv_find(inv, s->arg)) {
			conf_errf(err, c.file, s->line, "[machine %s] is there twice", s->arg);
			goto fail;
		}
		m = &inv->m[inv->n];
		str_copy(m->name, s->arg, sizeof(m->name));
		str_copy(m->host, conf_get(s, "host"), sizeof(m->host));
		if (conf_get_int(&c, s, "port",
				 def && conf_get(def, "port") ? atoi(conf_get(def, "port")) : 22, 1,
				 65535, &port, err) < 0)
			goto fail;
		m->port = (int)port;
		v = conf_get(s, "user") ? conf_get(s, "user") : def ? conf_get(def, "user") : NULL;
		str_copy(m->user, v ? v : "root", sizeof(m->user));
		v = conf_get(s, "identity") ? conf_get(s, "identity")
					    : def ? conf_get(def, "identity") : NULL;
		if (v)
			expand_home(m->identity, sizeof(m->identity), v, dir);
		v = conf_get(s, "root") ? conf_get(s, "root") : def ? conf_get(def, "root") : NULL;
		str_copy(m->root, v ? v : "/", sizeof(m->root));
		if (m->root[0] != '/') {
			conf_errf(err, c.file, conf_get_kv(s, "root") ? conf_get_kv(s, "root")->line : s->line,
				  "root %s: not an absolute path", m->root);
			goto fail;
		}
		inv->n++;
	}
	conf_free(&c);
	return 0;
fail:
	conf_free(&c);
	inv_free(inv);
	return -1;
}

void
inv_free(struct inventory *inv)
{
	free(inv->m);
	inv->m = NULL;
	inv->n = 0;
}

const struct inv_machine *
inv_find(const struct inventory *inv, const char *name)
{
	size_t i;

	for (i = 0; i < inv->n; i++)
		if (!strcmp(inv->m[i].name, name))
			return &inv->m[i];
	return NULL;
}

/* ---- helpers ---- */

__attribute__((format(printf, 2, 3))) static int
bfail(struct build *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	if (!errno)
		errno = EINVAL;
	return -1;
}

static int
read_small(const char *path, struct buf *out)
{
	return fs_read_file(path, out, 64 << 20);
}

/* Lines of a file without comments and blank lines; ENOENT is no lines. */
struct lines {
	char **v;
	int *lineno;
	size_t n;
	char *text;
};

static int
read_lines(const char *path, struct lines *l)
{
	struct buf b = BUF_INIT;
	char *p, *next;
	int line = 0;

	memset(l, 0, sizeof(*l));
	if (read_small(path, &b) < 0) {
		buf_free(&b);
		return errno == ENOENT ? 0 : -1;
	}
	l->text = buf_steal(&b);
	if (!l->text)
		return 0;
	for (p = l->text; p && *p; p = next) {
		char **nv;
		int *nl;

		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		line++;
		p = str_trim(p);
		if (!*p || *p == '#')
			continue;
		nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
		nl = realloc(l->lineno, (l->n + 1) * sizeof(*nl));
		if (nv)
			l->v = nv;
		if (nl)
			l->lineno = nl;
		if (!nv || !nl)
			return -1;
		l->v[l->n] = p;
		l->lineno[l->n] = line;
		l->n++;
	}
	return 0;
}

static void
free_lines(struct lines *l)
{
	free(l->v);
	free(l->lineno);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

int
deploy_layers(const char *inv, const char *machine, char ***out, size_t *n, char *err,
	      size_t errlen)
{
	char path[1300];
	struct lines l;
	char **v;
	size_t i, k = 0;

	snprintf(path, sizeof(path), "%s/machines/%s/layers", inv, machine);
	if (read_lines(path, &l) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	v = calloc(l.n + 2, sizeof(*v));
	if (!v) {
		free_lines(&l);
		return -1;
	}
	v[k++] = strdup("_");
	for (i = 0; i < l.n; i++) {
		char dir[1400];
		struct stat st;
		size_t j;
		int dup = 0;

		if (!valid_machine(l.v[i])) {
			snprintf(err, errlen, "%s:%d: %s: not a layer name", path, l.lineno[i], l.v[i]);
			goto fail;
		}
		snprintf(dir, sizeof(dir), "%s/layers/%s", inv, l.v[i]);
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s:%d: no layer %s (layers/%s)", path, l.lineno[i], l.v[i],
				 l.v[i]);
			errno = ENOENT;
			goto fail;
		}
		for (j = 0; j < k; j++)
			dup |= !strcmp(v[j], l.v[i]);
		if (!dup)
			v[k++] = strdup(l.v[i]);
	}
	free_lines(&l);
	*out = v;
	*n = k;
	return 0;
fail:
	free_lines(&l);
	for (i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return -1;
}

/* ---- facts ---- */

/* Add the members of object j to the key/value list (later wins). */
struct factset {
	char **key;
	char **val;	/* JSON text of the value */
	size_t n;
};

static void
fact_put(struct factset *f, const char *key, const char *json)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->key[i], key)) {
			free(f->val[i]);
			f->val[i] = strdup(json);
			return;
		}
	f->key = realloc(f->key, (f->n + 1) * sizeof(char *));
	f->val = realloc(f->val, (f->n + 1) * sizeof(char *));
	f->key[f->n] = strdup(key);
	f->val[f->n] = strdup(json);
	f->n++;
}

static void
json_text(const struct json *j, struct buf *out)
{
	const struct json *c;

	switch (j->type) {
	case JSON_NULL: buf_adds(out, "null"); break;
	case JSON_BOOL: buf_adds(out, j->b ? "true" : "false"); break;
	case JSON_NUM:
		if (j->is_int)
			buf_addf(out, "%lld", (long long)j->i);
		else
			buf_addf(out, "%.17g", j->num);
		break;
	case JSON_STR: json_quote(out, j->str, j->n); break;
	case JSON_ARR:
	case JSON_OBJ:
		buf_addc(out, j->type == JSON_ARR ? '[' : '{');
		for (c = j->child; c; c = c->next) {
			if (c != j->child)
				buf_addc(out, ',');
			if (j->type == JSON_OBJ) {
				json_quote(out, c->key, strlen(c->key));
				buf_addc(out, ':');
			}
			json_text(c, out);
		}
		buf_addc(out, j->type == JSON_ARR ? ']' : '}');
		break;
	}
}

static int
facts_from_json(struct build *b, struct factset *f, const char *path, int optional)
{
	struct buf t = BUF_INIT, v = BUF_INIT;
	struct json_err je;
	struct json *j;
	const struct json *c;

	if (read_small(path, &t) < 0) {
		buf_free(&t);
		if (errno == ENOENT && optional)
			return 0;
		return bfail(b, "%s: %s", path, strerror(errno));
	}
	j = json_parse(buf_cstr(&t), t.len, &je);
	buf_free(&t);
	if (!j)
		return bfail(b, "%s:%d: %s", path, je.line, je.msg);
	if (j->type != JSON_OBJ) {
		json_free(j);
		return bfail(b, "%s:1: facts must be an object", path);
	}
	for (c = j->child; c; c = c->next) {
		buf_reset(&v);
		json_text(c, &v);
		fact_put(f, c->key, buf_cstr(&v));
	}
	buf_free(&v);
	json_free(j);
	return 0;
}

static int
facts_from_env(struct build *b, struct factset *f, const char *path)
{
	struct lines l;
	struct buf v = BUF_INIT;
	size_t i;

	if (read_lines(path, &l) < 0)
		return bfail(b, "%s: %s", path, strerror(errno));
	for (i = 0; i < l.n; i++) {
		char *eq = strchr(l.v[i], '='), *val;
		size_t vl;

		if (!strncmp(l.v[i], "export ", 7))
			l.v[i] += 7;
		eq = strchr(l.v[i], '=');
		if (!eq || eq == l.v[i]) {
			free_lines(&l);
			buf_free(&v);
			return bfail(b, "%s:%d: expected KEY=VALUE", path, l.lineno[i]);
		}
		*eq = '\0';
		val = eq + 1;
		vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		buf_reset(&v);
		json_quote(&v, val, strlen(val));
		fact_put(f, str_trim(l.v[i]), buf_cstr(&v));
	}
	free_lines(&l);
	buf_free(&v);
	return 0;
}

static int
merge_facts(struct build *b, char **layers, size_t nl, struct buf *text)
{
	struct factset f;
	struct json_err je;
	char path[1400];
	size_t i;
	int rc = -1;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < nl; i++) {
		snprintf(path, sizeof(path), "%s/layers/%s/.lab/facts.json", b->inv, layers[i]);
		if (facts_from_json(b, &f, path, 1) < 0)
			goto out;
	}
	snprintf(path, sizeof(path), "%s/facts/%s.json", b->inv, b->machine);
	if (facts_from_json(b, &f, path, 1) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/facts/%s.env", b->inv, b->machine);
	if (facts_from_env(b, &f, path) < 0)
		goto out;
	if (b->probed) {
		const struct json *c;
		struct buf v = BUF_INIT;

		for (c = b->probed->child; c; c = c->next) {
			buf_reset(&v);
			json_text(c, &v);
			fact_put(&f, c->key, buf_cstr(&v));
		}
		buf_free(&v);
	}
	{
		struct buf v = BUF_INIT;

		json_quote(&v, b->machine, strlen(b->machine));
		fact_put(&f, "machine", buf_cstr(&v));
		buf_free(&v);
	}
	buf_addc(text, '{');
	for (i = 0; i < f.n; i++) {
		if (i)
			buf_addc(text, ',');
		json_quote(text, f.key[i], strlen(f.key[i]));
		buf_addc(text, ':');
		buf_adds(text, f.val[i]);
	}
	buf_addc(text, '}');
	b->facts = json_parse(buf_cstr(text), text->len, &je);
	if (!b->facts) {
		bfail(b, "facts: %s", je.msg);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < f.n; i++) {
		free(f.key[i]);
		free(f.val[i]);
	}
	free(f.key);
	free(f.val);
	return rc;
}

/* ---- sources ---- */

enum src_kind { S_COPY, S_TPL, S_LINK, S_DIR, S_GEN };

struct src {
	char *out;		/* output path, relative */
	enum src_kind kind;
	char *from;		/* source file (absolute or inventory-relative) */
	char *rel;		/* for messages: layers/L/path */
	char *target;		/* S_LINK */
	char *content;		/* S_GEN */
	size_t clen;
	mode_t mode;
	int order;		/* later wins */
	struct stat st;		/* of from (followed for "!" links) */
};

struct srcs {
	struct src *v;
	size_t n, cap;
};

static struct src *
src_new(struct srcs *s)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct src *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return NULL;
		s->v = nv;
		s->cap = cap;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	s->v[s->n].order = (int)s->n;
	return &s->v[s->n++];
}

static void
srcs_free(struct srcs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].out);
		free(s->v[i].from);
		free(s->v[i].rel);
		free(s->v[i].target);
		free(s->v[i].content);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* x.tpl.ext -> x.ext, x.tpl -> x; NULL if not a template. */
static char *
template_out(const char *name)
{
	const char *t = strstr(name, ".tpl");
	char *o;

	while (t && t[4] != '\0' && t[4] != '.')
		t = strstr(t + 1, ".tpl");
	if (!t || t == name)
		return NULL;
	o = malloc(strlen(name) + 1);
	if (!o)
		return NULL;
	memcpy(o, name, (size_t)(t - name));
	strcpy(o + (t - name), t + 4);
	return o;
}

static int
walk(struct build *b, struct srcs *s, const char *base, const char *relbase, char *rel,
     size_t len, int top)
{
	char dir[4200];
	DIR *d;
	struct dirent *de;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s%s%s", base, len ? "/" : "", rel);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT && !len ? 0 : bfail(b, "%s: %s", dir, strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		char full[4500], name[256], *outname = NULL;
		struct stat st;
		struct src *x;
		size_t nl;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (top && !strcmp(de->d_name, ".lab"))
			continue;	/* the layer's own metadata */
		nl = strlen(de->d_name);
		if (len + nl + 2 >= MF_PATH_MAX) {
			rc = bfail(b, "%s/%s: path too long", dir, de->d_name);
			break;
		}
		snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
		if (lstat(full, &st) < 0) {
			rc = bfail(b, "%s: %s", full, strerror(errno));
			break;
		}
		str_copy(name, de->d_name, sizeof(name));
		x = src_new(s);
		if (!x) {
			rc = bfail(b, "out of memory");
			break;
		}
		x->from = strdup(full);
		x->st = st;
		x->mode = st.st_mode & 07777;
		if (S_ISLNK(st.st_mode) && strchr(name, '!')) {
			/* dereference: the content of what it points at */
			if (stat(full, &x->st) < 0 || !S_ISREG(x->st.st_mode)) {
				rc = bfail(b, "%s/%s%s%s: a ! link must point at a file", relbase,
					   len ? rel : "", len ? "/" : "", name);
				break;
			}
			x->kind = S_COPY;
			x->mode = x->st.st_mode & 07777;
			if (name[0] == '!')
				memmove(name, name + 1, strlen(name));
			if (!name[0]) {
				rc = bfail(b, "%s/%s: an empty name", relbase, rel);
				break;
			}
		} else if (S_ISLNK(st.st_mode)) {
			char t[MF_PATH_MAX];
			ssize_t n = readlink(full, t, sizeof(t) - 1);

			if (n <= 0) {
				rc = bfail(b, "%s: %s", full, strerror(errno));
				break;
			}
			t[n] = '\0';
			x->kind = S_LINK;
			x->target = strdup(t);
		} else if (S_ISDIR(st.st_mode)) {
			x->kind = S_DIR;
		} else if (S_ISREG(st.st_mode)) {
			outname = template_out(name);
			x->kind = outname ? S_TPL : S_COPY;
			if (outname) {
				str_copy(name, outname, sizeof(name));
				free(outname);
			}
		} else {
			rc = bfail(b, "%s: not a file, directory or symlink", full);
			break;
		}
		{
			char out[MF_PATH_MAX], r2[MF_PATH_MAX];

			snprintf(out, sizeof(out), "%s%s%s", rel, len ? "/" : "", name);
			x->out = strdup(out);
			snprintf(r2, sizeof(r2), "%s/%s%s%s", relbase, rel, len ? "/" : "", de->d_name);
			x->rel = strdup(r2);
		}
		if (S_ISDIR(st.st_mode)) {
			size_t l2 = len ? len + 1 + nl : nl;

			if (len)
				rel[len] = '/';
			memcpy(rel + (len ? len + 1 : 0), de->d_name, nl + 1);
			rc = walk(b, s, base, relbase, rel, l2, 0);
			rel[len] = '\0';
		}
	}
	closedir(d);
	return rc;
}

/* PATH TARGET lines. */
static int
add_links(struct build *b, struct srcs *s, const char *path, const char *relname)
{
	struct lines l;
	size_t i;

	if (read_lines(path, &l) < 0)
		return bfail(b, "%s: %s", path, strerror(errno));
	for (i = 0; i < l.n; i++) {
		char *p = l.v[i], *t = p + strcspn(p, " \t");
		struct src *x;
		char rel[64];

		if (!*t)
			return free_lines(&l), bfail(b, "%s:%d: expected PATH TARGET", relname, l.lineno[i]);
		*t++ = '\0';
		t = str_trim(t);
		while (*p == '/')
			p++;
		if (!mf_path_ok(p) || !*t)
			return free_lines(&l), bfail(b, "%s:%d: %s: not a clean path", relname,
						   l.lineno[i], l.v[i]);
		x = src_new(s);
		if (!x)
			return free_lines(&l), bfail(b, "out of memory");
		x->kind = S_LINK;
		x->out = strdup(p);
		x->target = strdup(t);
		snprintf(rel, sizeof(rel), ":%d", l.lineno[i]);
		x->rel = malloc(strlen(relname) + strlen(rel) + 1);
		if (x->rel)
			sprintf(x->rel, "%s%s", relname, rel);
		x->mode = 0777;
	}
	free_lines(&l);
	return 0;
}

static int
add_gen(struct srcs *s, const char *out, const char *content, size_t len, mode_t mode)
{
	struct src *x = src_new(s);

	if (!x)
		return -1;
	x->kind = S_GEN;
	x->out = strdup(out);
	x->rel = strdup(out);
	x->content = malloc(len + 1);
	if (!x->content)
		return -1;
	memcpy(x->content, content, len);
	x->content[len] = '\0';
	x->clen = len;
	x->mode = mode;
	return 0;
}

/* packages, restart-on, hooks, merged into files of the tree. */
static int
add_meta(struct build *b, struct srcs *s, char **layers, size_t nl)
{
	struct buf pk = BUF_INIT, ro = BUF_INIT;
	char **pkgs = NULL;
	char *sign = NULL;
	size_t np = 0, i, j;
	int rc = -1;

	for (i = 0; i < nl; i++) {
		char path[1400], rel[400];
		struct lines l;
		struct stat st;

		snprintf(path, sizeof(path), "%s/layers/%s/.lab/packages", b->inv, layers[i]);
		snprintf(rel, sizeof(rel), "layers/%s/.lab/packages", layers[i]);
		if (read_lines(path, &l) < 0) {
			bfail(b, "%s: %s", path, strerror(errno));
			goto out;
		}
		for (j = 0; j < l.n; j++) {
			char sg = l.v[j][0], *name = str_trim(l.v[j] + 1);
			size_t k;

			if ((sg != '+' && sg != '-') || !*name || strpbrk(name, " \t")) {
				free_lines(&l);
				bfail(b, "%s:%d: expected + PACKAGE or - PACKAGE", rel, l.lineno[j]);
				goto out;
			}
			for (k = 0; k < np && strcmp(pkgs[k], name); k++)
				;
			if (k == np) {
				pkgs = realloc(pkgs, (np + 1) * sizeof(*pkgs));
				sign = realloc(sign, np + 1);
				pkgs[np] = strdup(name);
				np++;
			}
			sign[k] = sg;	/* a later layer's word wins */
		}
		free_lines(&l);
		snprintf(path, sizeof(path), "%s/layers/%s/.lab/restart-on", b->inv, layers[i]);
		snprintf(rel, sizeof(rel), "layers/%s/.lab/restart-on", layers[i]);
		if (read_lines(path, &l) < 0) {
			bfail(b, "%s: %s", path, strerror(errno));
			goto out;
		}
		for (j = 0; j < l.n; j++) {
			char unit[256], glob[1024];

			if (sscanf(l.v[j], "%255s %1023s", unit, glob) != 2) {
				free_lines(&l);
				bfail(b, "%s:%d: expected UNIT GLOB", rel, l.lineno[j]);
				goto out;
			}
			buf_addf(&ro, "%s %s\n", unit, glob[0] == '/' ? glob + 1 : glob);
		}
		free_lines(&l);
		snprintf(path, sizeof(path), "%s/layers/%s/.lab/hooks/post-apply", b->inv, layers[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			struct src *x = src_new(s);
			char out[400];

			if (!x)
				goto out;
			snprintf(out, sizeof(out), DEPLOY_META_DIR "/hooks/%02zu-%s", i, layers[i]);
			x->kind = S_COPY;
			x->from = strdup(path);
			x->out = strdup(out);
			snprintf(rel, sizeof(rel), "layers/%s/.lab/hooks/post-apply", layers[i]);
			x->rel = strdup(rel);
			x->st = st;
			x->mode = st.st_mode & 07777;
		}
	}
	for (i = 0; i < np; i++)
		buf_addf(&pk, "%c %s\n", sign[i], pkgs[i]);
	if (add_gen(s, DEPLOY_META_DIR "/packages", buf_cstr(&pk), pk.len, 0644) < 0 ||
	    add_gen(s, DEPLOY_META_DIR "/restart-on", buf_cstr(&ro), ro.len, 0644) < 0) {
		bfail(b, "out of memory");
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < np; i++)
		free(pkgs[i]);
	free(pkgs);
	free(sign);
	buf_free(&pk);
	buf_free(&ro);
	return rc;
}

static int
cmp_src(const void *a, const void *b)
{
	const struct src *x = a, *y = b;
	int c = strcmp(x->out, y->out);

	return c ? c : x->order - y->order;
}

/* ---- the build index ---- */

struct index_entry {
	char *path;
	uint8_t key[32];
	char line[64];		/* unused */
};

struct partials {
	const struct build *b;
	char **layers;
	size_t nl;
};

static int
find_partial(void *arg, const char *name, struct buf *out, char *file, size_t size)
{
	struct partials *p = arg;
	size_t i = p->nl;

	while (i-- > 0) {
		char path[1400];

		snprintf(path, sizeof(path), "%s/layers/%s/.lab/templates/%s", p->b->inv, p->layers[i],
			 name);
		if (fs_read_file(path, out, 16 << 20) == 0) {
			snprintf(file, size, "layers/%s/.lab/templates/%s", p->layers[i], name);
			return 0;
		}
		buf_reset(out);
	}
	return -1;
}

/* A signature of every partial of the machine's layers (their stats). */
static void
partials_sig(struct build *b, char **layers, size_t nl, uint8_t out[32])
{
	struct hash_sha256 h;
	size_t i;

	hash_sha256_init(&h);
	for (i = 0; i < nl; i++) {
		char dir[1400];
		DIR *d;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "%s/layers/%s/.lab/templates", b->inv, layers[i]);
		d = opendir(dir);
		while (d && (de = readdir(d))) {
			struct stat st;
			char p[1700];

			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (de->d_name[0] == '.' || stat(p, &st) < 0)
				continue;
			hash_sha256_update(&h, p, strlen(p));
			hash_sha256_update(&h, &st.st_mtim, sizeof(st.st_mtim));
			hash_sha256_update(&h, &st.st_size, sizeof(st.st_size));
		}
		if (d)
			closedir(d);
	}
	hash_sha256_final(&h, out);
}

static void
src_key(const struct src *x, const uint8_t facts[32], const uint8_t parts[32], uint8_t out[32])
{
	struct hash_sha256 h;
	char k = (char)('0' + x->kind);

	hash_sha256_init(&h);
	hash_sha256_update(&h, &k, 1);
	hash_sha256_update(&h, &x->mode, sizeof(x->mode));
	switch (x->kind) {
	case S_COPY:
	case S_TPL:
		hash_sha256_update(&h, x->from, strlen(x->from));
		hash_sha256_update(&h, &x->st.st_mtim, sizeof(x->st.st_mtim));
		hash_sha256_update(&h, &x->st.st_size, sizeof(x->st.st_size));
		hash_sha256_update(&h, &x->st.st_ino, sizeof(x->st.st_ino));
		hash_sha256_update(&h, &x->st.st_ctim, sizeof(x->st.st_ctim));
		if (x->kind == S_TPL) {
			hash_sha256_update(&h, facts, 32);
			hash_sha256_update(&h, parts, 32);
		}
		break;
	case S_LINK:
		hash_sha256_update(&h, x->target, strlen(x->target));
		break;
	case S_GEN:
		hash_sha256_update(&h, x->content, x->clen);
		break;
	case S_DIR:
		break;
	}
	hash_sha256_final(&h, out);
}

/* index lines: KEYHEX MANIFEST-LINE */
struct index {
	struct manifest mf;
	uint8_t (*key)[32];
	struct buf text;	/* as read: a build that changes nothing does not write it */
};

static int
index_load(const char *path, struct index *ix)
{
	struct buf t = BUF_INIT, lines = BUF_INIT;
	const char *p, *end;
	size_t n = 0, cap = 0;
	char e[100];

	mf_init(&ix->mf);
	ix->key = NULL;
	buf_init(&ix->text);
	if (fs_read_file(path, &t, 256 << 20) < 0) {
		buf_free(&t);
		return 0;	/* no index: everything is rebuilt */
	}
	/* the keys apart, the manifest lines parsed in one go */
	p = buf_cstr(&t);
	end = p + t.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char hex[65];

		if (!nl || nl - p < 66 || p[64] != ' ')
			break;
		if (n == cap) {
			void *nk = realloc(ix->key, (cap = cap ? cap * 2 : 256) * sizeof(*ix->key));

			if (!nk)
				break;
			ix->key = nk;
		}
		memcpy(hex, p, 64);
		hex[64] = '\0';
		if (hex_decode(hex, ix->key[n], 32) != 32)
			break;
		buf_add(&lines, p + 65, (size_t)(nl + 1 - (p + 65)));
		n++;
		p = nl + 1;
	}
	if (p != end || buf_err(&lines) < 0 ||
	    mf_parse(&ix->mf, lines.data ? lines.data : "", lines.len, e, sizeof(e)) < 0 ||
	    ix->mf.n != n) {
		/* a damaged index: everything is rebuilt */
		mf_free(&ix->mf);
		mf_init(&ix->mf);
	}
	ix->text = t;
	buf_free(&lines);
	return 0;
}

/* ---- writing outputs ---- */

static int
write_out(struct build *b, int root, const char *path, const void *data, size_t len,
	  mode_t mode)
{
	char tmp[MF_PATH_MAX + 32];
	const char *slash = strrchr(path, '/');
	int fd;

	snprintf(tmp, sizeof(tmp), "%.*s%s.lab-build.%d", slash ? (int)(slash - path + 1) : 0, path,
		 "", (int)getpid());
	unlinkat(root, tmp, 0);
	fd = openat(root, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_full(fd, data, len) < 0 || fchmod(fd, mode) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlinkat(root, tmp, 0);
		errno = e;
		return bfail(b, "%s/%s: %s", b->tree, path, strerror(e));
	}
	close(fd);
	if (renameat(root, tmp, root, path) < 0) {
		int e = errno;

		unlinkat(root, tmp, 0);
		if (e == EISDIR || e == ENOTEMPTY || e == EEXIST) {
			/* a directory stands where the file goes */
			char full[2400];

			snprintf(full, sizeof(full), "%s/%s", b->tree, path);
			tree_remove(full);
			return write_out(b, root, path, data, len, mode);
		}
		errno = e;
		return bfail(b, "%s/%s: %s", b->tree, path, strerror(e));
	}
	return 0;
}

static int
ensure_parent(struct build *b, int root, const char *path)
{
	char dir[MF_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = fs_mkdir_in_root(root, dir, 0755);
	if (fd < 0)
		return bfail(b, "%s/%s: %s", b->tree, dir, strerror(errno));
	close(fd);
	return 0;
}

/* Produce one output; its manifest entry goes into mf. */
static int
produce(struct build *b, int root, const struct src *x, struct tpl_ctx *tc, struct manifest *mf)
{
	struct stat st;
	uint8_t h[32];

	if (x->kind == S_DIR) {
		if (fstatat(root, x->out, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
			unlinkat(root, x->out, 0);
		if (ensure_parent(b, root, x->out) < 0)
			return -1;
		if (mkdirat(root, x->out, 0755) < 0 && errno != EEXIST)
			return bfail(b, "%s/%s: %s", b->tree, x->out, strerror(errno));
		if (fchmodat(root, x->out, x->mode, 0) < 0)
			return bfail(b, "%s/%s: %s", b->tree, x->out, strerror(errno));
		return mf_add(mf, x->out, MF_DIR, x->mode, 0, NULL, NULL);
	}
	if (ensure_parent(b, root, x->out) < 0)
		return -1;
	if (x->kind == S_LINK) {
		char tmp[MF_PATH_MAX + 32];
		const char *slash = strrchr(x->out, '/');

		snprintf(tmp, sizeof(tmp), "%.*s.lab-build.%d", slash ? (int)(slash - x->out + 1) : 0,
			 x->out, (int)getpid());
		unlinkat(root, tmp, 0);
		if (symlinkat(x->target, root, tmp) < 0 || renameat(root, tmp, root, x->out) < 0) {
			int e = errno;

			unlinkat(root, tmp, 0);
			if (e == EISDIR || e == ENOTEMPTY) {
				char full[2400];

				snprintf(full, sizeof(full), "%s/%s", b->tree, x->out);
				tree_remove(full);
				return produce(b, root, x, tc, mf);
			}
			return bfail(b, "%s/%s: %s", b->tree, x->out, strerror(e));
		}
		hash_sha256(x->target, strlen(x->target), h);
		return mf_add(mf, x->out, MF_LINK, 0777, strlen(x->target), h, x->target);
	}
	{
		struct buf data = BUF_INIT;
		int rc;

		if (x->kind == S_GEN) {
			buf_add(&data, x->content, x->clen);
		} else if (x->kind == S_COPY) {
			if (fs_read_file(x->from, &data, 1024u << 20) < 0) {
				buf_free(&data);
				return bfail(b, "%s: %s", x->rel, strerror(errno));
			}
		} else {
			struct buf text = BUF_INIT;

			if (fs_read_file(x->from, &text, 64 << 20) < 0) {
				buf_free(&text);
				return bfail(b, "%s: %s", x->rel, strerror(errno));
			}
			rc = tpl_render(tc, x->rel, buf_cstr(&text), text.len, &data);
			buf_free(&text);
			if (rc < 0) {
				buf_free(&data);
				return bfail(b, "%s", tc->err);
			}
		}
		hash_sha256(data.data ? data.data : "", data.len, h);
		rc = write_out(b, root, x->out, data.data ? data.data : "", data.len, x->mode);
		if (rc == 0)
			rc = mf_add(mf, x->out, MF_FILE, x->mode, data.len, h, NULL);
		buf_free(&data);
		return rc;
	}
}

/* Outputs of the last build that this one does not make: deepest first. */
static void
remove_stale(int root, const struct manifest *old, const struct manifest *new)
{
	size_t i = old->n;

	while (i-- > 0) {
		const struct mf_entry *e = &old->v[i];
		const struct mf_entry *n = mf_find(new, e->path);

		if (n && (n->type == MF_DIR) == (e->type == MF_DIR))
			continue;
		if (e->type == MF_DIR) {
			if (!n)
				unlinkat(root, e->path, AT_REMOVEDIR);
		} else if (!n || n->type == MF_DIR) {
			unlinkat(root, e->path, 0);
		}
	}
}

int
deploy_build(struct build *b)
{
	char **layers = NULL, base[1400], idxpath[1500], lock[1500];
	size_t nl = 0, i;
	struct srcs s;
	struct buf facts = BUF_INIT, idx = BUF_INIT;
	struct index old;
	struct tpl_ctx tc;
	struct partials parts;
	uint8_t fh[32], ph[32];
	int root = -1, lk = -1, rc = -1;

	memset(&s, 0, sizeof(s));
	mf_init(&b->mf);
	mf_init(&old.mf);
	old.key = NULL;
	buf_init(&old.text);
	b->err[0] = '\0';
	b->files = b->rebuilt = 0;
	b->facts = NULL;
	errno = 0;
	snprintf(base, sizeof(base), "%s/.lab/build/%s", b->inv, b->machine);
	snprintf(b->tree, sizeof(b->tree), "%s/tree", base);
	if (fs_mkdir_p(b->tree, 0755) < 0)
		return bfail(b, "%s: %s", b->tree, strerror(errno));
	snprintf(lock, sizeof(lock), "%s/lock", base);
	lk = fs_lock(lock, 0);
	if (lk < 0)
		return bfail(b, "%s: %s", lock, strerror(errno));
	if (deploy_layers(b->inv, b->machine, &layers, &nl, b->err, sizeof(b->err)) < 0)
		goto out;
	if (merge_facts(b, layers, nl, &facts) < 0)
		goto out;
	hash_sha256(facts.data, facts.len, fh);
	for (i = 0; i < nl; i++) {
		char dir[1400], rel[256], path[MF_PATH_MAX], links[1500];

		snprintf(dir, sizeof(dir), "%s/layers/%s", b->inv, layers[i]);
		snprintf(rel, sizeof(rel), "layers/%s", layers[i]);
		path[0] = '\0';
		if (walk(b, &s, dir, rel, path, 0, 1) < 0)
			goto out;
		snprintf(links, sizeof(links), "%s/.lab/links", dir);
		snprintf(rel, sizeof(rel), "layers/%s/.lab/links", layers[i]);
		if (add_links(b, &s, links, rel) < 0)
			goto out;
	}
	{
		char dir[1400], rel[256], path[MF_PATH_MAX];

		snprintf(dir, sizeof(dir), "%s/machines/%s/root", b->inv, b->machine);
		snprintf(rel, sizeof(rel), "machines/%s/root", b->machine);
		path[0] = '\0';
		if (walk(b, &s, dir, rel, path, 0, 0) < 0)
			goto out;
		snprintf(dir, sizeof(dir), "%s/machines/%s/links", b->inv, b->machine);
		snprintf(rel, sizeof(rel), "machines/%s/links", b->machine);
		if (add_links(b, &s, dir, rel) < 0)
			goto out;
	}
	if (add_meta(b, &s, layers, nl) < 0)
		goto out;
	/* later wins: keep the last of each output path */
	qsort(s.v, s.n, sizeof(s.v[0]), cmp_src);
	{
		size_t o = 0;

		for (i = 0; i < s.n; i++) {
			if (i + 1 < s.n && !strcmp(s.v[i].out, s.v[i + 1].out)) {
				/* a directory over a directory is no conflict; else drop */
				free(s.v[i].out);
				free(s.v[i].from);
				free(s.v[i].rel);
				free(s.v[i].target);
				free(s.v[i].content);
				continue;
			}
			s.v[o++] = s.v[i];
		}
		s.n = o;
	}
	/* the parents of every path are directories */
	for (i = 0; i < s.n; i++) {
		char *slash = strrchr(s.v[i].out, '/');

		if (slash) {
			char parent[MF_PATH_MAX];
			size_t lo = 0, hi = s.n;

			snprintf(parent, sizeof(parent), "%.*s", (int)(slash - s.v[i].out), s.v[i].out);
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				int c = strcmp(parent, s.v[mid].out);

				if (!c) {
					if (s.v[mid].kind != S_DIR) {
						bfail(b, "%s: a file where %s wants a directory", s.v[mid].rel,
						      s.v[i].rel);
						goto out;
					}
					break;
				}
				if (c < 0)
					hi = mid;
				else
					lo = mid + 1;
			}
		}
	}
	snprintf(idxpath, sizeof(idxpath), "%s/index", base);
	index_load(idxpath, &old);
	root = open(b->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		bfail(b, "%s: %s", b->tree, strerror(errno));
		goto out;
	}
	memset(&tc, 0, sizeof(tc));
	tc.facts = b->facts;
	parts.b = b;
	parts.layers = layers;
	parts.nl = nl;
	tc.partial = find_partial;
	tc.arg = &parts;
	partials_sig(b, layers, nl, ph);
	for (i = 0; i < s.n; i++) {
		uint8_t key[32];
		const struct mf_entry *prev = mf_find(&old.mf, s.v[i].out);
		struct stat st;
		char hex[65];

		src_key(&s.v[i], fh, ph, key);
		if (prev && !memcmp(old.key[prev - old.mf.v], key, 32) &&
		    fstatat(root, s.v[i].out, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    ((prev->type == MF_DIR && S_ISDIR(st.st_mode)) ||
		     (prev->type == MF_LINK && S_ISLNK(st.st_mode)) ||
		     (prev->type == MF_FILE && S_ISREG(st.st_mode) && (uint64_t)st.st_size == prev->size))) {
			/* unchanged input: the output stands */
			if (mf_add(&b->mf, prev->path, prev->type, prev->mode, prev->size, prev->hash,
				   prev->target) < 0)
				goto out;
		} else {
			if (produce(b, root, &s.v[i], &tc, &b->mf) < 0)
				goto out;
			b->rebuilt++;
		}
		hex_encode(key, 32, hex);
		buf_addf(&idx, "%s ", hex);
		{
			struct manifest one = { &b->mf.v[b->mf.n - 1], 1, 1 };

			mf_serialize(&one, &idx);
		}
	}
	b->files = b->mf.n;
	remove_stale(root, &old.mf, &b->mf);
	if (buf_err(&idx) < 0 ||
	    ((idx.len != old.text.len || (idx.len && memcmp(idx.data, old.text.data, idx.len))) &&
	     fs_write_atomic(idxpath, idx.data ? idx.data : "", idx.len, 0644) < 0)) {
		bfail(b, "%s: %s", idxpath, strerror(errno));
		goto out;
	}
	mf_hash(&b->mf, b->hash);
	rc = 0;
out:
	if (root >= 0)
		close(root);
	fs_unlock(lk);
	for (i = 0; i < nl; i++)
		free(layers[i]);
	free(layers);
	srcs_free(&s);
	mf_free(&old.mf);
	free(old.key);
	buf_free(&old.text);
	buf_free(&facts);
	buf_free(&idx);
	if (rc < 0)
		mf_free(&b->mf);
	return rc;
}

void
deploy_build_free(struct build *b)
{
	mf_free(&b->mf);
	json_free(b->facts);
	b->facts = NULL;
}

/* ---- probing the target ---- */

static void
os_release(struct json_writer *w)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;

	if (fs_read_file("/etc/os-release", &b, 65536) < 0) {
		buf_free(&b);
		return;
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		static const char *const keys[][2] = { { "ID=", "os_id" },
						       { "VERSION_ID=", "os_version_id" },
						       { "VERSION_CODENAME=", "os_codename" } };
		size_t k;

		for (k = 0; k < 3; k++)
			if (!strncmp(line, keys[k][0], strlen(keys[k][0]))) {
				char *v = line + strlen(keys[k][0]);
				size_t n = strlen(v);

				if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
					v[n - 1] = '\0';
					v++;
				}
				json_key(w, keys[k][1]);
				json_str(w, v);
			}
	}
	buf_free(&b);
}

int
deploy_probe(struct buf *out)
{
	struct json_writer w;
	struct utsname u;
	struct buf b = BUF_INIT;
	char host[256];
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	json_writer_init(&w, out, 0);
	json_begin_obj(&w);
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		json_key(&w, "hostname");
		json_str(&w, host);
	}
	json_key(&w, "nproc");
	json_int(&w, n > 0 ? n : 1);
	if (fs_read_file("/proc/meminfo", &b, 65536) == 0) {
		const char *m = strstr(buf_cstr(&b), "MemTotal:");

		if (m) {
			json_key(&w, "memory");
			json_uint(&w, strtoull(m + 9, NULL, 10) * 1024);
		}
	}
	buf_free(&b);
	if (uname(&u) == 0) {
		json_key(&w, "arch");
		json_str(&w, u.machine);
		json_key(&w, "kernel");
		json_str(&w, u.release);
	}
	os_release(&w);
	if (fs_read_file("/proc/1/comm", &b, 256) == 0) {
		json_key(&w, "init");
		json_str(&w, str_trim(b.data ? b.data : (char *)""));
	}
	buf_free(&b);
	json_end_obj(&w);
	return json_writer_finish(&w);
}
