/* lab deploy's templates: every construct, the errors with FILE:LINE. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"
#include "tpl.h"

static const char facts_json[] =
	"{\"host\": \"alpha\", \"fqdn\": \"{{ host }}.{{ domain }}\", \"domain\": \"home.arpa\","
	" \"cores\": 4, \"ratio\": 0.5, \"debug\": \"no\", \"tls\": true, \"empty\": [],"
	" \"dns\": [\"10.0.0.1\", \"10.0.0.2\"],"
	" \"users\": [{\"name\": \"ann\", \"uid\": 1001}, {\"name\": \"bob\", \"uid\": 1002}],"
	" \"loop\": \"{{ loop2 }}\", \"loop2\": \"{{ loop }}\", \"list\": [1]}";

static int
partial(void *arg, const char *name, struct buf *out, char *file, size_t size)
{
	(void)arg;
	snprintf(file, size, "partials/%s", name);
	if (!strcmp(name, "header")) {
		buf_adds(out, "# {{ host }} managed by lab\n");
		return 0;
	}
	if (!strcmp(name, "bad")) {
		buf_adds(out, "line one\n{{ nope }}\n");
		return 0;
	}
	return -1;
}

static struct json *facts;

static const char *
render(const char *t)
{
	static struct buf out;
	static struct tpl_ctx c;

	buf_free(&out);
	memset(&c, 0, sizeof(c));
	c.facts = facts;
	c.partial = partial;
	if (tpl_render(&c, "t.conf", t, strlen(t), &out) < 0)
		return c.err;
	return buf_cstr(&out);
}

int
main(void)
{
	struct json_err je;

	facts = json_parse(facts_json, sizeof(facts_json) - 1, &je);
	ok(facts != NULL, "facts parse");
	is_str(render("plain text\n"), "plain text\n", "text passes through");
	is_str(render("host={{ host }} cores={{cores}} r={{ ratio }}\n"),
	       "host=alpha cores=4 r=0.5\n", "values");
	is_str(render("{{ fqdn }}"), "alpha.home.arpa", "a fact made of facts");
	is_str(render("{{ port | 8080 }} {{ name | \"a b\" }} {{ host | x }}"), "8080 a b alpha",
	       "defaults, quoted, and unused when defined");
	is_str(render("a\n{{#if tls}}\ntls on\n{{else}}\ntls off\n{{/if}}\nb\n"), "a\ntls on\nb\n",
	       "if/else; block tags alone on a line leave no blank line");
	is_str(render("{{#if debug}}D{{else}}-{{/if}}{{#if empty}}E{{/if}}{{#if nope}}N{{/if}}"), "-",
	       "false values: \"no\", an empty list, undefined");
	is_str(render("{{#each dns}}nameserver {{ . }}\n{{/each}}"),
	       "nameserver 10.0.0.1\nnameserver 10.0.0.2\n", "each over a list");
	is_str(render("{{#each users}}{{ @index }}:{{ .name }}={{ .uid }} {{/each}}"),
	       "0:ann=1001 1:bob=1002 ", "each over objects, @index");
	is_str(render("{{> header}}x\n"), "# alpha managed by lab\nx\n", "a partial");
	is_str(render("{{! a comment }}\nkept\n"), "kept\n", "a comment line disappears");
	is_str(render("ok\n\n{{ nope }}\n"), "t.conf:3: undefined fact nope", "undefined: FILE:LINE");
	is_str(render("{{ dns }}"), "t.conf:1: dns is a list, not a value", "a list as a value");
	is_str(render("x\n{{#if tls}}\nnever closed\n"), "t.conf:2: {{#if tls}} is not closed by {{/if}}",
	       "an unclosed block");
	is_str(render("{{#each dns}}{{/if}}"), "t.conf:1: {{#each dns}} is closed by {{/if}}, not {{/each}}",
	       "a wrong closer");
	is_str(render("{{/each}}"), "t.conf:1: {{/each}} without its block", "a stray closer");
	is_str(render("{{ loop }}"), "t.conf:1: fact loop refers to itself", "a cycle of facts");
	is_str(render("{{> missing}}"), "t.conf:1: no partial named missing", "an unknown partial");
	is_str(render("{{> bad}}"), "partials/bad:2: undefined fact nope", "errors inside a partial name it");
	is_str(render("{{ a b }}"), "t.conf:1: {{ a b }}: not a fact name", "a bad name");
	is_str(render("{{ host"), "t.conf:1: {{ without }}", "an open tag");
	is_str(render("{{#each host}}x{{/each}}"), "t.conf:1: host is not a list", "each over a string");
	json_free(facts);
	return done_testing();
}
