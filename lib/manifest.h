/*
 * Manifests of file trees, for lab deploy: what a tree holds (path, type,
 * mode, size, content hash, link target), as sorted text that both ends
 * of a deploy agree on byte for byte (so a manifest is named by its
 * SHA-256), and the differences between two of them.
 *
 * One entry per line, sorted by path (bytewise):
 *	f MODE SIZE SHA256 PATH          a regular file
 *	l 0777 SIZE SHA256 PATH TARGET   a symlink (hash and size of its target)
 *	d MODE 0 - PATH                  a directory
 * MODE is four octal digits; PATH is relative, without "." or ".."
 * components; in PATH and TARGET a byte that is not printable ASCII, a
 * space or a backslash is written \ooo (octal).
 */
#ifndef LAB_MANIFEST_H
#define LAB_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define MF_FILE 'f'
#define MF_LINK 'l'
#define MF_DIR 'd'
#define MF_PATH_MAX 4096

struct mf_entry {
	char *path;
	char type;
	mode_t mode;		/* permission bits, 07777 */
	uint64_t size;
	uint8_t hash[32];	/* file content or link target; zero for dirs */
	char *target;		/* links */
};

struct manifest {
	struct mf_entry *v;
	size_t n, cap;
};

void mf_init(struct manifest *m);
void mf_free(struct manifest *m);
/* Copies path and target. -1 with EINVAL for a path that is not clean. */
int mf_add(struct manifest *m, const char *path, char type, mode_t mode, uint64_t size,
	   const uint8_t hash[32], const char *target);
/* Sort by path; -1 with EEXIST (path in err) if a path is there twice. */
int mf_sort(struct manifest *m, char *err, size_t errlen);
const struct mf_entry *mf_find(const struct manifest *m, const char *path);

int mf_serialize(const struct manifest *m, struct buf *out);
/* Parse (untrusted input): sorted, unique, clean paths, sane modes. */
int mf_parse(struct manifest *m, const char *text, size_t len, char *err, size_t errlen);
void mf_hash(const struct manifest *m, uint8_t out[32]);
/* The SHA-256 of an empty manifest, for a target that has none. */
void mf_hash_empty(uint8_t out[32]);

/* Whether a relative path is clean: no leading '/', no "", "." or "..". */
int mf_path_ok(const char *path);

/* Scan a directory tree (not following symlinks); file contents hashed. */
int mf_scan(struct manifest *m, const char *dir, char *err, size_t errlen);

/* Differences old -> new. */
enum mf_change_kind { MF_ADD, MF_MODIFY, MF_MODE, MF_REMOVE };
struct mf_change {
	enum mf_change_kind kind;
	const struct mf_entry *old, *new;	/* old NULL for ADD, new NULL for REMOVE */
};
int mf_diff(const struct manifest *old, const struct manifest *new, struct mf_change **out,
	    size_t *n);

/* Escape/unescape PATH and TARGET fields. */
void mf_escape(struct buf *out, const char *s);
int mf_unescape(const char *s, size_t len, char *out, size_t size);

#endif
