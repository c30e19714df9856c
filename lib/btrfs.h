/*
 * btrfs subvolumes and snapshots through the kernel's ioctls (no
 * btrfs-progs): shared by lab vm's image store and lab snap.
 */
#ifndef LAB_BTRFS_H
#define LAB_BTRFS_H

#include <stddef.h>
#include <stdint.h>

/* Whether path is on btrfs, and whether it is a subvolume's root. */
int btrfs_is_btrfs(const char *path);
int btrfs_is_subvol(const char *path);

int btrfs_subvol_create(const char *path);
/* A snapshot of the subvolume src at dst (which must not exist). */
int btrfs_snapshot(const char *src, const char *dst, int readonly);
/* Delete a subvolume (and, first, the subvolumes nested in it). */
int btrfs_subvol_delete(const char *path);
int btrfs_get_readonly(const char *path, int *ro);
int btrfs_set_readonly(const char *path, int ro);

/* What the kernel knows of a subvolume (BTRFS_IOC_GET_SUBVOL_INFO). */
struct btrfs_subvol_info {
	uint64_t treeid, generation, ctransid, otransid, stransid, rtransid;
	uint64_t otime;			/* creation, seconds */
	int readonly;
	uint8_t uuid[16], parent_uuid[16], received_uuid[16];
};
int btrfs_subvol_info_fd(int fd, struct btrfs_subvol_info *si);
int btrfs_subvol_info(const char *path, struct btrfs_subvol_info *si);
/* Mark a received subvolume: its sender's uuid and transid (what btrfs
 * receive records, so that later incremental streams find their parent). */
int btrfs_set_received(int fd, const uint8_t uuid[16], uint64_t stransid);
/* Write the send stream of read-only subvolume fd to out_fd; parent_root:
 * the tree id of an earlier snapshot it is relative to (0: full). */
int btrfs_send(int fd, int out_fd, uint64_t parent_root);
/* The same through a 1 MiB pipe of ours (the kernel stalls on a small
 * one, and refuses some fds): spliced on to out, or, with wr, handed to
 * wr(arg, piece, n) piece by piece (-1 from it: EPIPE). */
int btrfs_send_stream(int fd, uint64_t parent_root, int out,
		      int (*wr)(void *arg, const void *p, size_t n), void *arg);
/* Commit the file system's current transaction (all writes so far). */
int btrfs_sync(int fd);
/* "8-4-4-4-12" text of a uuid, and back. */
void btrfs_uuid_str(const uint8_t uuid[16], char out[37]);
int btrfs_uuid_parse(const char *s, uint8_t uuid[16]);
int btrfs_uuid_empty(const uint8_t uuid[16]);

#endif
