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

/*
 * The other way: decrypted TCP segments of one flow, in order, joined into
 * one super-packet that the kernel takes from the TUN device as if its own
 * GRO had made it (one trip through its TCP stack for up to 64 KiB). The
 * same rules as the kernel's GRO: same addresses, ports, ack, window and
 * options, consecutive sequence numbers, every segment the first one's
 * size but the last, only ACK (and PSH, which ends a train).
 */
struct tso_gro {
	uint8_t vh[TSO_VNET_HDR];
	uint8_t pkt[65535];
	size_t len, iphl, hl, mss;
	uint32_t next_seq;
	int v6, n, closed;
};

void tso_gro_init(struct tso_gro *g);
/* 1: pkt joined (or started) the train; 0: it cannot — write the train
 * out (tso_gro_take) and offer it again, or write it alone. */
int tso_gro_add(struct tso_gro *g, const uint8_t *pkt, size_t n);
/* The train as the vnet header and packet to write (len bytes after the
 * header); g is empty after. 0 when there is nothing. */
size_t tso_gro_take(struct tso_gro *g);
