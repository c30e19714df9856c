/*
 * lab deploy: an inventory of layered file trees, built per machine and
 * applied to it as one generation.
 *
 * The inventory (a directory the user keeps in git):
 *	layers/<layer>/...            a file tree rooted at / (layer "_" is always first)
 *	layers/<layer>/.lab/facts.json        example defaults of facts
 *	layers/<layer>/.lab/links             PATH TARGET: symlinks to make
 *	layers/<layer>/.lab/packages          "+ pkg" / "- pkg" lines
 *	layers/<layer>/.lab/restart-on        UNIT GLOB: restart UNIT when a path
 *	                                      matching GLOB changes
 *	layers/<layer>/.lab/hooks/post-apply  run on the target after applying, with
 *	                                      LAB_DEPLOY_ROOT, _GEN, _CHANGED (a file
 *	                                      of changed paths) and, where systemd
 *	                                      does not run, LAB_DEPLOY_RESTART: the
 *	                                      units the change concerns, which the
 *	                                      hooks restart (reported as restarted
 *	                                      once every hook succeeded)
 *	layers/<layer>/.lab/templates/NAME    partials for {{> NAME}}
 *	machines/<machine>/layers     one layer name per line, in order (# comments)
 *	machines/<machine>/root/...   the machine's own files, merged last
 *	machines/<machine>/links      its own symlinks, last
 *	facts/<machine>.json          facts for templates
 *	facts/<machine>.env           secret facts (KEY=VALUE), git-ignored
 *	inventory                     [machine NAME] host port user identity root
 *
 * Building: layers in order, later files win, the machine's last; a file
 * named x.tpl.ext (or x.tpl) is rendered to x.ext (lib/tpl.h); a symlink
 * whose name holds "!" is dereferenced (its content copied) and a leading
 * "!" dropped from the name; other symlinks stay symlinks; modes are kept.
 * The merged packages, restart-on rules and hooks go into the tree under
 * usr/local/lib/lab/deploy/, so they are deployed, versioned and rolled
 * back like every other file.
 *
 * Facts, lowest to highest: the layers' example defaults, facts/M.json,
 * facts/M.env, then the facts probed on the machine (hostname, nproc,
 * memory, arch, os_id, os_version_id, os_codename, kernel, init) and
 * "machine" (its inventory name).
 */
#ifndef LAB_DEPLOY_H
#define LAB_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "json.h"
#include "manifest.h"

#define DEPLOY_META_DIR "usr/local/lib/lab/deploy"
#define DEPLOY_STATE_DIR "var/lib/lab/deploy"	/* below the target's root */
#define DEPLOY_REMOTE_LAB "usr/local/libexec/lab"	/* below the target's root */

struct inv_machine {
	char name[64];
	char host[256];		/* "local": this machine, no SSH */
	int port;
	char user[64];
	char identity[1024];	/* "" : agent and ~/.ssh defaults */
	char root[1024];	/* where the tree goes on the target ("/") */
};

struct inventory {
	char dir[1024];
	char known_hosts[1024];	/* default ~/.ssh/known_hosts */
	struct inv_machine *m;
	size_t n;
};

/* Read DIR/inventory. Machine names: letters, digits, '-', '_', '.'. */
int inv_load(struct inventory *inv, const char *dir, struct conf_err *err);
void inv_free(struct inventory *inv);
const struct inv_machine *inv_find(const struct inventory *inv, const char *name);

/* ---- build ---- */

struct build {
	const char *inv;		/* inventory directory */
	const char *machine;
	const struct json *probed;	/* facts probed on the machine, or NULL */
	/* results */
	char tree[1500];		/* .lab/build/MACHINE/tree */
	struct manifest mf;
	uint8_t hash[32];		/* of mf */
	size_t files, rebuilt;
	struct json *facts;		/* the merged facts */
	char err[768];
};

/* Build (incrementally) and fill the manifest. err: FILE:LINE: what. */
int deploy_build(struct build *b);
void deploy_build_free(struct build *b);
/* The layers of a machine, "_" first. */
int deploy_layers(const char *inv, const char *machine, char ***out, size_t *n, char *err,
		  size_t errlen);

/* ---- the target's side ---- */

/* Probe this machine's facts as JSON (for the deploying side's templates). */
int deploy_probe(struct buf *out);

#endif
