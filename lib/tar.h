/*
 * tar archives (ustar, GNU long names, pax extended headers), plain or
 * gzip'ed (zlib, in-process): a reader that yields entries, and an
 * extractor that never writes outside the target directory, whatever the
 * archive's paths and symlinks say.
 */
#ifndef LAB_TAR_H
#define LAB_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TAR_PATH_MAX 4096

enum tar_type {
	TAR_FILE,
	TAR_HARDLINK,
	TAR_SYMLINK,
	TAR_CHAR,
	TAR_BLOCK,
	TAR_DIR,
	TAR_FIFO,
};

struct tar_xattr {
	char *name;
	void *value;
	size_t len;
};

struct tar_entry {
	enum tar_type type;
	char path[TAR_PATH_MAX];
	char link[TAR_PATH_MAX];	/* symlink or hard link target */
	mode_t mode;			/* permission bits (07777) */
	uid_t uid;
	gid_t gid;
	int64_t mtime;
	uint64_t size;			/* bytes of data (files) */
	unsigned devmajor, devminor;
	struct tar_xattr *xattrs;	/* from pax SCHILY.xattr.* */
	size_t nxattrs;
};

/* Where the archive's bytes come from: returns bytes read, 0 at end, -1
 * with errno. */
typedef ssize_t tar_read_fn(void *arg, void *p, size_t n);

struct tar_reader;

/* A reader over fn; gzip is recognised by its magic and inflated. */
struct tar_reader *tar_reader_new(tar_read_fn *fn, void *arg);
void tar_reader_free(struct tar_reader *r);
/* The next entry: 1, 0 at the end of the archive, -1 with errno (EINVAL
 * for a malformed archive, tar_reader_error says what). Unread data of
 * the previous entry is skipped. */
int tar_next(struct tar_reader *r, struct tar_entry *e);
/* Data of the current entry: bytes read, 0 at its end. */
ssize_t tar_read_data(struct tar_reader *r, void *p, size_t n);
const char *tar_reader_error(const struct tar_reader *r);

/*
 * Extract the archive read from fd into the directory dir (which exists),
 * as root would: owners, modes, times, xattrs, devices, hard links. Paths
 * are taken relative to dir; ".." components are refused, and symlinks in
 * the tree are resolved inside dir, never outside it. err gets a one-line
 * reason on failure.
 */
int tar_extract_fd(int fd, const char *dir, char *err, size_t errlen);

#endif
