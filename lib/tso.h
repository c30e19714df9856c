/*
 * What a TUN device with offloads (IFF_VNET_HDR, TUNSETOFFLOAD CSUM|TSO4|
 * TSO6) hands over: a virtio-net header and a packet that may be a TCP
 * "super-packet" of up to 64 KiB with its checksum left to finish. tso_split
 * turns one into the wire-sized IP packets it stands for, checksums done,
 * as the kernel's own segmentation would; a userspace tunnel then reads
 * one packet per 64 KiB instead of one per 1.4 KiB.
 */
#ifndef LAB_TSO_H
#define LAB_TSO_H

#include <stddef.h>
#include <stdint.h>

#define TSO_VNET_HDR 10		/* struct virtio_net_hdr */

/* Call emit for each packet of pkt (len bytes after the vnet header vh);
 * seg is a scratch buffer of at least 65535 bytes. -1 with EINVAL for a
 * header or packet that does not add up (nothing emitted). */
int tso_split(const uint8_t vh[TSO_VNET_HDR], uint8_t *pkt, size_t len, uint8_t *seg,
	      void (*emit)(void *arg, uint8_t *p, size_t n), void *arg);

#endif
