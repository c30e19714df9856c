/*
 * Whole directory trees: copies that keep owners, modes, times, xattrs,
 * hard links, devices and sockets (with FICLONE reflinks where the
 * filesystem shares extents, and a refusal instead of a slow copy when
 * reflinks were asked for and are not there), and removal.
 */
#ifndef LAB_TREE_H
#define LAB_TREE_H

#define TREE_REFLINK 0x1	/* every file a reflink, or fail (EOPNOTSUPP) */

int tree_copy(const char *src, const char *dst, unsigned flags);
/* rm -rf, without following symlinks; btrfs subvolumes inside are
 * deleted as subvolumes. ENOENT is not an error. */
int tree_remove(const char *path);
/* Whether files in dir can be reflinked (tries it). */
int tree_can_reflink(const char *dir);
/* Bytes used by the files of a tree (st_blocks), for image ls. */
long long tree_size(const char *path);

#endif
