/*
 * The target's side of lab deploy (`lab deploy --receive`): generations
 * of a tree under ROOT, content-addressed objects, atomic apply, rollback
 * and converge.
 *
 * ROOT/var/lib/lab/deploy/
 *	current             the generation in place (a number)
 *	gens/N.manifest     what generation N holds
 *	gens/N.displaced    files lab replaced that it did not manage before
 *	objects/ab/cdef...  contents by SHA-256 (every file of a kept generation)
 *	lock
 *
 * Apply: every new or changed file is written next to its place under a
 * temporary name and synced, then all are renamed into place, then what
 * left the tree is removed; a failure before the renames changes nothing.
 * Converge (ROOT "/" with systemd running): units whose files go away are
 * stopped first; after the renames, daemon-reload when a unit file or
 * drop-in changed, try-reload-or-restart for the units whose files (or
 * /usr/local/opt/UNIT/..., or a layer's restart-on globs) changed, start
 * for units newly linked into a .wants directory; apt-get when the package
 * list changed; then the layers' post-apply hooks in order.
 */
#ifndef LAB_DEPLOY_APPLY_H
#define LAB_DEPLOY_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "deploy_proto.h"
#include "manifest.h"

#define DT_KEEP_GENS 20

struct dtarget {
	char root[1024];
	int rootfd;
	char state[1200];
	int statefd;
	int lock;
	uint64_t gen;
	struct manifest cur;
	uint8_t curhash[32];
	int systemd;		/* systemctl may be used (root "/", systemd running) */
	void (*log)(void *arg, const char *line);
	void *logarg;
	char err[512];
};

struct dt_result {
	int ok;
	uint64_t gen;
	size_t written, removed, modes;
	struct buf units;	/* restarted, reloaded or started: "name name ..." */
	struct buf steps;	/* what converge did, one line each */
};

int dt_open(struct dtarget *t, const char *root);
void dt_close(struct dtarget *t);
/* Hashes (hex lines) of the contents of m that are not in the store. */
/* A stored content, for reading (-1 with errno when it is not there). */
int dt_object_open(struct dtarget *t, const uint8_t hash[32]);
int dt_need(struct dtarget *t, const struct manifest *m, struct buf *out);
int dt_have(struct dtarget *t, const uint8_t hash[32]);

/* A content arriving zlib-compressed, checked against its hash. */
struct dt_blob;
struct dt_blob *dt_blob_begin(struct dtarget *t, const uint8_t hash[32], uint64_t size);
int dt_blob_data(struct dt_blob *b, const void *p, size_t n);
int dt_blob_end(struct dt_blob *b);	/* frees b; -1 if the content is not what was announced */
void dt_blob_abort(struct dt_blob *b);

/* Apply m as the next generation (and converge unless dry). */
int dt_commit(struct dtarget *t, const struct manifest *m, int rollback_on_failure,
	      struct dt_result *r);
/* Back to generation gen (0: the one before the current). */
int dt_rollback(struct dtarget *t, uint64_t gen, struct dt_result *r);
void dt_result_free(struct dt_result *r);

/* The receiver: HELLO, then requests until Q. argv: this process's, for
 * re-executing itself after an upgrade. */
int dt_serve(struct dp_io *io, int out_fd, const char *root, char **argv);

/* SHA-256 of the running binary (remembered in t's state when t is given). */
int dt_self_hash(struct dtarget *t, uint8_t out[32]);

#endif
