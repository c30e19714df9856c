/*
 * lab deploy's templates: a small language over facts (a JSON object).
 *
 *	{{ NAME }}                 the fact's value (a string or number)
 *	{{ NAME | default }}       ... or the default where it is undefined
 *	                           (the rest of the tag, trimmed; "..." keeps spaces)
 *	{{#if NAME}} A {{else}} B {{/if}}
 *	                           A where NAME is defined and true (not "",
 *	                           "0", "false", "no", 0, false or an empty list)
 *	{{#each LIST}} ... {{/each}}
 *	                           the body once per item: {{ . }} is the item,
 *	                           {{ .key }} a member of an object item,
 *	                           {{ @index }} its position from 0
 *	{{> NAME}}                 a partial (found by the caller), rendered here
 *	{{! comment }}
 *
 * A line that holds only a block tag ({{#if}}, {{else}}, {{/if}}, {{#each}},
 * {{/each}}, {{! }}) leaves no blank line behind. A fact whose value holds
 * "{{" is itself rendered (facts may refer to other facts; a cycle is an
 * error). An undefined fact without a default, a list where a value is
 * wanted and an unbalanced block are errors with FILE:LINE.
 */
#ifndef LAB_TPL_H
#define LAB_TPL_H

#include <stddef.h>

#include "buf.h"
#include "json.h"

struct tpl_ctx {
	const struct json *facts;	/* an object */
	/* Find partial NAME: its text into out, its file name into file. */
	int (*partial)(void *arg, const char *name, struct buf *out, char *file, size_t size);
	void *arg;
	char err[512];			/* FILE:LINE: what */
	/* names of the facts used (each once), for incremental builds */
	void (*used)(void *arg, const char *name);
};

int tpl_render(struct tpl_ctx *c, const char *file, const char *text, size_t len,
	       struct buf *out);

#endif
