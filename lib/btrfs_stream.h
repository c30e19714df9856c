/*
 * btrfs send streams (version 1), read and applied in userspace as
 * `btrfs receive` does.
 *
 * A stream is "btrfs-stream\0", a little-endian u32 version, then commands:
 *
 *	u32 length of the attributes, u16 command, u32 crc32c (of the command
 *	header with this field zero, and the attributes), attributes
 *
 * and each attribute is a u16 type, a u16 length and that many bytes.
 * Several streams may follow one another (one per subvolume).
 */
#ifndef LAB_BTRFS_STREAM_H
#define LAB_BTRFS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	BS_C_SUBVOL = 1, BS_C_SNAPSHOT, BS_C_MKFILE, BS_C_MKDIR, BS_C_MKNOD, BS_C_MKFIFO,
	BS_C_MKSOCK, BS_C_SYMLINK, BS_C_RENAME, BS_C_LINK, BS_C_UNLINK, BS_C_RMDIR,
	BS_C_SET_XATTR, BS_C_REMOVE_XATTR, BS_C_WRITE, BS_C_CLONE, BS_C_TRUNCATE, BS_C_CHMOD,
	BS_C_CHOWN, BS_C_UTIMES, BS_C_END, BS_C_UPDATE_EXTENT,
	BS_C_MAX = BS_C_UPDATE_EXTENT
};

enum {
	BS_A_UUID = 1, BS_A_CTRANSID, BS_A_INO, BS_A_SIZE, BS_A_MODE, BS_A_UID, BS_A_GID,
	BS_A_RDEV, BS_A_CTIME, BS_A_MTIME, BS_A_ATIME, BS_A_OTIME, BS_A_XATTR_NAME,
	BS_A_XATTR_DATA, BS_A_PATH, BS_A_PATH_TO, BS_A_PATH_LINK, BS_A_FILE_OFFSET, BS_A_DATA,
	BS_A_CLONE_UUID, BS_A_CLONE_CTRANSID, BS_A_CLONE_PATH, BS_A_CLONE_OFFSET,
	BS_A_CLONE_LEN,
	BS_A_MAX = BS_A_CLONE_LEN
};

#define BS_MAX_CMD (64u * 1024)	/* a v1 command is never larger */

struct bs_cmd {
	uint16_t cmd;
	struct {
		const uint8_t *p;
		uint16_t len;
		int set;
	} a[BS_A_MAX + 1];
};

struct bs_reader {
	ssize_t (*read)(void *arg, void *p, size_t n);	/* 0 at the end */
	void *arg;
	uint8_t buf[10 + BS_MAX_CMD];
	uint64_t offset;		/* of the next byte, for messages */
	int in_stream;			/* a header was read, no END yet */
	char err[160];
};

/* The next command: 1, 0 at a clean end of input, -1 (r->err) on a
 * broken, truncated, corrupt (crc) or unknown one. */
int bs_next(struct bs_reader *r, struct bs_cmd *c);

/* Typed attributes: 0, or -1 when missing or of the wrong size. */
int bs_u64(const struct bs_cmd *c, int a, uint64_t *v);
int bs_uuid(const struct bs_cmd *c, int a, uint8_t uuid[16]);
int bs_time(const struct bs_cmd *c, int a, struct timespec *ts);
/* A path attribute as a NUL-terminated relative path with no "." or ".."
 * component, no empty component and no leading '/': -1 otherwise. */
int bs_path(const struct bs_cmd *c, int a, char *out, size_t size);
const char *bs_cmd_name(int cmd);

/* Apply streams read from r below directory dir (as btrfs receive DIR
 * does): each SUBVOL or SNAPSHOT makes a subvolume in dir, the commands
 * fill it, END marks it received (its sender's uuid) and read-only. A
 * SNAPSHOT's parent is a subvolume in dir received from (or being) that
 * uuid. On any error the subvolume being received is deleted. names
 * (may be NULL) gets the received subvolumes' names, one per line. */
struct buf;
int bs_receive(struct bs_reader *r, const char *dir, struct buf *names, char *err,
	       size_t errlen);

#endif
