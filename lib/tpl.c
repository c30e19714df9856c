#include "tpl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 16	/* partials and facts within facts */

enum node_kind { N_TEXT, N_VAR, N_IF, N_EACH, N_PARTIAL };

struct node {
	enum node_kind kind;
	int line;
	const char *text;	/* N_TEXT: into the source */
	size_t len;
	char name[128];
	char *def;		/* N_VAR default (NULL: none) */
	struct node *body, *alt;	/* N_IF then/else, N_EACH body */
	struct node *next;
};

struct parser {
	struct tpl_ctx *c;
	const char *file;
	const char *src, *p, *end;
	int line;
};

struct scope {
	const struct json *item;	/* the each item, or NULL */
	long index;
	const struct scope *up;
};

struct render {
	struct tpl_ctx *c;
	const char *file;
	int depth;
	const char *stack[MAX_DEPTH];	/* facts being expanded */
	int nstack;
};

static int
failf(struct tpl_ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
failf(struct tpl_ctx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err[0])
		return -1;	/* the first error is the one to report */
	n = snprintf(c->err, sizeof(c->err), "%s:%d: ", file, line);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(c->err))
		vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static void
free_nodes(struct node *n)
{
	while (n) {
		struct node *next = n->next;

		free(n->def);
		free_nodes(n->body);
		free_nodes(n->alt);
		free(n);
		n = next;
	}
}

static int
count_lines(const char *a, const char *b)
{
	int n = 0;

	for (; a < b; a++)
		n += *a == '\n';
	return n;
}

static int
valid_name(const char *s)
{
	if (!strcmp(s, ".") || !strcmp(s, "@index"))
		return 1;
	if (*s == '.')
		s++;
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/* The tag's inside, trimmed, into buf. */
static void
trim_into(const char *a, const char *b, char *buf, size_t size)
{
	while (a < b && isspace((unsigned char)*a))
		a++;
	while (b > a && isspace((unsigned char)b[-1]))
		b--;
	snprintf(buf, size, "%.*s", (int)(b - a), a);
}

/*
 * Parse until the end or a closing tag; *closer gets "/if", "else",
 * "/each" or "" (end of input).
 */
static struct node *parse_seq(struct parser *ps, char *closer, size_t csize, int *err);

static struct node *
new_node(enum node_kind k, int line)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = k;
		n->line = line;
	}
	return n;
}

/* Whether the tag from a to b (the braces included) stands alone on its
 * line: then the line's indentation and newline go with it. */
static void
standalone(struct parser *ps, const char *a, const char **b, struct node *prev_text)
{
	const char *s = a, *e = *b;

	while (s > ps->src && (s[-1] == ' ' || s[-1] == '\t'))
		s--;
	if (s > ps->src && s[-1] != '\n')
		return;
	while (e < ps->end && (*e == ' ' || *e == '\t' || *e == '\r'))
		e++;
	if (e < ps->end && *e != '\n')
		return;
	if (e < ps->end)
		e++;
	if (prev_text && prev_text->text + prev_text->len == a)
		prev_text->len -= (size_t)(a - s);
	*b = e;
}

static struct node *
parse_seq(struct parser *ps, char *closer, size_t csize, int *err)
{
	struct node *head = NULL, **tail = &head, *last_text = NULL;

	closer[0] = '\0';
	while (ps->p < ps->end) {
		const char *open = strstr(ps->p, "{{");
		const char *close, *after;
		char inner[256];
		int line;
		struct node *n;

		if (!open || open >= ps->end)
			open = ps->end;
		if (open > ps->p) {
			n = new_node(N_TEXT, ps->line);
			if (!n)
				goto oom;
			n->text = ps->p;
			n->len = (size_t)(open - ps->p);
			*tail = n;
			tail = &n->next;
			last_text = n;
			ps->line += count_lines(ps->p, open);
			ps->p = open;
		}
		if (open == ps->end)
			break;
		line = ps->line;
		close = strstr(open + 2, "}}");
		if (!close || close >= ps->end) {
			failf(ps->c, ps->file, line, "{{ without }}");
			goto fail;
		}
		after = close + 2;
		if (memchr(open, '\n', (size_t)(close - open))) {
			failf(ps->c, ps->file, line, "a tag spans lines");
			goto fail;
		}
		trim_into(open + 2, close, inner, sizeof(inner));
		if ((size_t)(close - open) >= sizeof(inner)) {
			failf(ps->c, ps->file, line, "tag too long");
			goto fail;
		}
		if (inner[0] == '/' || !strcmp(inner, "else")) {
			standalone(ps, open, &after, last_text);
			str_copy(closer, inner, csize);
			ps->line += count_lines(open, after);
			ps->p = after;
			return head;
		}
		if (inner[0] == '!') {
			standalone(ps, open, &after, last_text);
		} else if (inner[0] == '>') {
			n = new_node(N_PARTIAL, line);
			if (!n)
				goto oom;
			trim_into(inner + 1, inner + strlen(inner), n->name, sizeof(n->name));
			*tail = n;
			tail = &n->next;
			if (!n->name[0] || strchr(n->name, '/') || n->name[0] == '.') {
				failf(ps->c, ps->file, line, "{{> %s}}: not a partial name", n->name);
				goto fail;
			}
		} else if (inner[0] == '#') {
			int is_if = !strncmp(inner, "#if", 3) && isspace((unsigned char)inner[3]);
			int is_each = !strncmp(inner, "#each", 5) && isspace((unsigned char)inner[5]);
			char name[128], c2[32];

			if (!is_if && !is_each) {
				failf(ps->c, ps->file, line, "{{%s}}: unknown block (#if, #each)", inner);
				goto fail;
			}
			trim_into(inner + (is_if ? 3 : 5), inner + strlen(inner), name, sizeof(name));
			if (!valid_name(name)) {
				failf(ps->c, ps->file, line, "{{%s}}: not a fact name", inner);
				goto fail;
			}
			n = new_node(is_if ? N_IF : N_EACH, line);
			if (!n)
				goto oom;
			str_copy(n->name, name, sizeof(n->name));
			*tail = n;
			tail = &n->next;
			standalone(ps, open, &after, last_text);
			ps->line += count_lines(open, after);
			ps->p = after;
			n->body = parse_seq(ps, c2, sizeof(c2), err);
			if (*err)
				goto fail;
			if (is_if && !strcmp(c2, "else")) {
				n->alt = parse_seq(ps, c2, sizeof(c2), err);
				if (*err)
					goto fail;
			}
			if (strcmp(c2, is_if ? "/if" : "/each")) {
				if (c2[0])
					failf(ps->c, ps->file, line, "{{%s}} is closed by {{%s}}, not {{%s}}",
					      inner, c2, is_if ? "/if" : "/each");
				else
					failf(ps->c, ps->file, line, "{{%s}} is not closed by {{%s}}", inner,
					      is_if ? "/if" : "/each");
				goto fail;
			}
			last_text = NULL;
			continue;
		} else {
			char *bar = strchr(inner, '|');

			n = new_node(N_VAR, line);
			if (!n)
				goto oom;
			*tail = n;
			tail = &n->next;
			if (bar) {
				char def[256];

				*bar = '\0';
				trim_into(bar + 1, bar + 1 + strlen(bar + 1), def, sizeof(def));
				if (def[0] == '"' && strlen(def) >= 2 && def[strlen(def) - 1] == '"') {
					memmove(def, def + 1, strlen(def));
					def[strlen(def) - 1] = '\0';
				}
				n->def = strdup(def);
				if (!n->def)
					goto oom;
				trim_into(inner, inner + strlen(inner), n->name, sizeof(n->name));
			} else {
				str_copy(n->name, inner, sizeof(n->name));
			}
			if (!valid_name(n->name)) {
				failf(ps->c, ps->file, line, "{{ %s }}: not a fact name", n->name);
				goto fail;
			}
		}
		last_text = NULL;
		ps->line += count_lines(open, after);
		ps->p = after;
	}
	return head;
oom:
	failf(ps->c, ps->file, ps->line, "out of memory");
fail:
	*err = 1;
	free_nodes(head);
	return NULL;
}

/* ---- rendering ---- */

static int render_nodes(struct render *r, const struct node *n, const struct scope *sc,
			struct buf *out);

static const struct json *
lookup(struct render *r, const char *name, const struct scope *sc)
{
	if (name[0] == '.') {
		if (!sc || !sc->item)
			return NULL;
		if (!name[1])
			return sc->item;
		return json_get(sc->item, name + 1);
	}
	if (r->c->used)
		r->c->used(r->c->arg, name);
	return r->c->facts ? json_get(r->c->facts, name) : NULL;
}

static int
truthy(const struct json *v)
{
	if (!v)
		return 0;
	switch (v->type) {
	case JSON_NULL: return 0;
	case JSON_BOOL: return v->b;
	case JSON_NUM: return v->num != 0;
	case JSON_STR:
		return v->n && strcmp(v->str, "0") && strcasecmp(v->str, "false") &&
		       strcasecmp(v->str, "no");
	case JSON_ARR:
	case JSON_OBJ: return v->n > 0;
	}
	return 0;
}

static int
put_value(struct render *r, const char *name, const struct json *v, int line, struct buf *out)
{
	switch (v->type) {
	case JSON_STR:
		if (strstr(v->str, "{{") && name[0] != '.') {
			/* a fact made of other facts */
			int i, rc;

			for (i = 0; i < r->nstack; i++)
				if (!strcmp(r->stack[i], name))
					return failf(r->c, r->file, line, "fact %s refers to itself", name);
			if (r->nstack == MAX_DEPTH)
				return failf(r->c, r->file, line, "facts nest too deep at %s", name);
			r->stack[r->nstack++] = name;
			{
				struct parser ps = { r->c, r->file, v->str, v->str, v->str + v->n, line };
				char closer[32];
				int err = 0;
				struct node *n = parse_seq(&ps, closer, sizeof(closer), &err);

				if (!err && closer[0]) {
					failf(r->c, r->file, line, "fact %s: stray {{%s}}", name, closer);
					err = 1;
				}
				rc = err ? -1 : render_nodes(r, n, NULL, out);
				free_nodes(n);
			}
			r->nstack--;
			return rc;
		}
		buf_add(out, v->str, v->n);
		return 0;
	case JSON_NUM:
		if (v->is_int)
			buf_addf(out, "%lld", (long long)v->i);
		else
			buf_addf(out, "%.17g", v->num);
		return 0;
	case JSON_BOOL:
		buf_adds(out, v->b ? "true" : "false");
		return 0;
	case JSON_NULL:
		return 0;
	default:
		return failf(r->c, r->file, line, "%s is a %s, not a value", name,
			     v->type == JSON_ARR ? "list" : "table");
	}
}

static int
render_nodes(struct render *r, const struct node *n, const struct scope *sc, struct buf *out)
{
	for (; n; n = n->next) {
		const struct json *v;

		switch (n->kind) {
		case N_TEXT:
			buf_add(out, n->text, n->len);
			break;
		case N_VAR:
			if (!strcmp(n->name, "@index")) {
				if (!sc)
					return failf(r->c, r->file, n->line, "@index outside {{#each}}");
				buf_addf(out, "%ld", sc->index);
				break;
			}
			v = lookup(r, n->name, sc);
			if (!v) {
				if (n->def) {
					buf_adds(out, n->def);
					break;
				}
				return failf(r->c, r->file, n->line, "undefined fact %s", n->name);
			}
			if (put_value(r, n->name, v, n->line, out) < 0)
				return -1;
			break;
		case N_IF:
			if (render_nodes(r, truthy(lookup(r, n->name, sc)) ? n->body : n->alt, sc, out) <
			    0)
				return -1;
			break;
		case N_EACH: {
			const struct json *item;
			struct scope s2;

			v = lookup(r, n->name, sc);
			if (!v)
				return failf(r->c, r->file, n->line, "undefined fact %s", n->name);
			if (v->type != JSON_ARR)
				return failf(r->c, r->file, n->line, "%s is not a list", n->name);
			s2.up = sc;
			s2.index = 0;
			for (item = v->child; item; item = item->next, s2.index++) {
				s2.item = item;
				if (render_nodes(r, n->body, &s2, out) < 0)
					return -1;
			}
			break;
		}
		case N_PARTIAL: {
			struct buf text = BUF_INIT;
			char file[512];
			const char *saved = r->file;
			int rc;

			if (!r->c->partial ||
			    r->c->partial(r->c->arg, n->name, &text, file, sizeof(file)) < 0) {
				buf_free(&text);
				return failf(r->c, r->file, n->line, "no partial named %s", n->name);
			}
			if (r->depth == MAX_DEPTH) {
				buf_free(&text);
				return failf(r->c, r->file, n->line, "partials nest too deep at %s", n->name);
			}
			r->depth++;
			r->file = file;
			{
				struct parser ps = { r->c, file, buf_cstr(&text), buf_cstr(&text),
						     buf_cstr(&text) + text.len, 1 };
				char closer[32];
				int err = 0;
				struct node *pn = parse_seq(&ps, closer, sizeof(closer), &err);

				if (!err && closer[0]) {
					failf(r->c, file, ps.line, "{{%s}} without its block", closer);
					err = 1;
				}
				rc = err ? -1 : render_nodes(r, pn, sc, out);
				free_nodes(pn);
			}
			r->file = saved;
			r->depth--;
			buf_free(&text);
			if (rc < 0)
				return -1;
			break;
		}
		}
	}
	return 0;
}

int
tpl_render(struct tpl_ctx *c, const char *file, const char *text, size_t len, struct buf *out)
{
	struct parser ps;
	struct render r;
	struct node *n;
	char closer[32];
	int err = 0, rc;
	char *copy = malloc(len + 1);	/* NUL-terminated, for strstr */

	c->err[0] = '\0';
	if (!copy)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	ps.c = c;
	ps.file = file;
	ps.src = ps.p = copy;
	ps.end = copy + len;
	ps.line = 1;
	n = parse_seq(&ps, closer, sizeof(closer), &err);
	if (!err && closer[0]) {
		failf(c, file, ps.line, "{{%s}} without its block", closer);
		err = 1;
	}
	if (err) {
		free(copy);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.file = file;
	rc = render_nodes(&r, n, NULL, out);
	free_nodes(n);
	free(copy);
	if (rc == 0 && buf_err(out) < 0)
		return failf(c, file, 1, "out of memory");
	return rc;
}
