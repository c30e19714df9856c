/* TUN/TAP devices through /dev/net/tun (rtnetlink cannot create them). */
#ifndef LAB_TUN_H
#define LAB_TUN_H

#include <sys/types.h>

#define TUN_TAP 0x1		/* ethernet frames, not IP packets */
#define TUN_MULTI_QUEUE 0x2
#define TUN_VNET_HDR 0x4	/* virtio-net header on every packet (offloads) */

/* Attach to (or create) NAME; returns the queue fd. name may be "" for a
 * kernel-chosen one, written back into name (IFNAMSIZ bytes). */
int tun_open(char *name, unsigned flags);
/* A persistent device owned by uid/gid (-1: anyone with CAP_NET_ADMIN),
 * left in place after this process exits. */
int tun_create_persistent(const char *name, unsigned flags, uid_t uid, gid_t gid);

#endif
