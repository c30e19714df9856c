/*
 * The protocol between `lab deploy` and `lab deploy --receive` on the
 * target, over an SSH channel (or a pipe for --local): frames of
 *
 *	TYPE (1 byte) | LENGTH (3 bytes, big-endian) | PAYLOAD
 *
 * A long message (a manifest, a list) is a run of frames of one type
 * ended by an empty frame of that type. Small messages are "key=value"
 * lines. Receiver to deployer:
 *	H hello     proto, version, self (SHA-256 of its binary), gen, manifest, root
 *	F facts     JSON
 *	M manifest  long: the current generation's manifest
 *	N need      long: hashes of the contents it lacks, one per line
 *	L log       a line of what converge does
 *	O output    bytes of an --exec command
 *	R result    ok, gen, written, removed, restarted, error ...
 *	Z error     a protocol or apply error; the receiver then exits
 * Deployer to receiver:
 *	U upgrade   size, sha256; then D frames of the binary and an E frame
 *	P probe, G get manifest, Q quit
 *	A apply     long: options, a blank line, the new manifest
 *	B blob      hash, size; then D frames (a zlib stream) and an E frame
 *	C commit    apply what was announced (every needed blob has come)
 *	K rollback  gen (empty: the one before)
 *	S fetch     hash: answered with D frames of that content and an E frame
 *	            ("missing" in it when the target does not have it)
 *	X exec      long: argv, NUL-separated
 */
#ifndef LAB_DEPLOY_PROTO_H
#define LAB_DEPLOY_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define DP_PROTO 1
#define DP_MAX_FRAME ((1u << 24) - 1)
#define DP_CHUNK (1u << 20)
#define DP_MAX_LONG (256u << 20)	/* a long message past this is refused */

struct dp_io {
	/* read up to n bytes (0: the other side is gone), -1 with errno */
	ssize_t (*read)(void *arg, void *p, size_t n);
	/* write all n bytes, -1 with errno */
	int (*write)(void *arg, const void *p, size_t n);
	void *arg;
	/* buffered input */
	unsigned char *in;
	size_t in_off, in_len;
	char err[256];
};

void dp_io_init(struct dp_io *io, ssize_t (*rd)(void *, void *, size_t),
		int (*wr)(void *, const void *, size_t), void *arg);
void dp_io_free(struct dp_io *io);
/* fd-backed io (the receiver's stdin/stdout, a pipe). */
ssize_t dp_fd_read(void *arg, void *p, size_t n);
int dp_fd_write(void *arg, const void *p, size_t n);

int dp_send(struct dp_io *io, uint8_t type, const void *p, size_t n);
int dp_sendf(struct dp_io *io, uint8_t type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int dp_send_long(struct dp_io *io, uint8_t type, const void *p, size_t n);
/* One frame: 0, or -1 (io->err; EPIPE when the other side closed). */
int dp_recv(struct dp_io *io, uint8_t *type, struct buf *payload);
/* The rest of a long message whose first frame was already read. */
int dp_recv_long_rest(struct dp_io *io, uint8_t type, struct buf *payload);

/* Parse a frame header (for the fuzzer and dp_recv). */
int dp_header(const unsigned char h[4], uint8_t *type, size_t *len);

/* "key=value" lines: the value of key, or NULL. out is NUL-terminated. */
const char *dp_kv(const char *text, const char *key, char *out, size_t size);

#endif
