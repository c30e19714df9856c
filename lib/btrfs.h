/*
 * btrfs subvolumes and snapshots through the kernel's ioctls (no
 * btrfs-progs): shared by lab vm's image store and lab snap.
 */
#ifndef LAB_BTRFS_H
#define LAB_BTRFS_H

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

#endif
