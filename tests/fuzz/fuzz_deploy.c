/*
 * Fuzz what a deploy receiver reads from the other end: frames (split
 * into reads of any size), long messages, "key=value" headers, and the
 * manifests an apply carries. A frame is exactly its header and its
 * announced payload; a long message never passes DP_MAX_LONG; a manifest
 * that parses holds only clean relative paths (nothing that could leave
 * the target's root), sorted and unique, and serializes back to a text
 * that parses to the same manifest and the same hash.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/deploy_proto.h"
#include "../../lib/manifest.h"

#include "fuzz_mem.h"

static int
no_write(void *arg, const void *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

static void
check_manifest(const char *text, size_t len)
{
	struct manifest a, b;
	struct buf s1 = BUF_INIT, s2 = BUF_INIT;
	uint8_t h1[32], h2[32];
	char err[256];
	size_t i;

	mf_init(&a);
	mf_init(&b);
	if (mf_parse(&a, text, len, err, sizeof(err)) == 0) {
		for (i = 0; i < a.n; i++) {
			const char *p = a.v[i].path;

			assert(mf_path_ok(p));
			assert(p[0] != '/' && strcmp(p, "..") && strncmp(p, "../", 3));
			assert(!strstr(p, "/../") && !strstr(p, "//"));
			assert(a.v[i].type == MF_FILE || a.v[i].type == MF_LINK || a.v[i].type == MF_DIR);
			assert(!(a.v[i].mode & ~07777));
			assert(a.v[i].type != MF_LINK || a.v[i].target);
			if (i)
				assert(strcmp(a.v[i - 1].path, p) < 0);
		}
		assert(mf_serialize(&a, &s1) == 0);
		assert(mf_parse(&b, s1.data ? s1.data : "", s1.len, err, sizeof(err)) == 0);
		assert(a.n == b.n);
		assert(mf_serialize(&b, &s2) == 0);
		assert(s1.len == s2.len && (!s1.len || !memcmp(s1.data, s2.data, s1.len)));
		mf_hash(&a, h1);
		mf_hash(&b, h2);
		assert(!memcmp(h1, h2, 32));
	} else {
		assert(err[0]);
	}
	mf_free(&a);
	mf_free(&b);
	buf_free(&s1);
	buf_free(&s2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = { data, size, 0 };
	struct dp_io io;
	struct buf f = BUF_INIT;
	uint8_t type;
	size_t consumed = 0;
	char v[16];

	dp_io_init(&io, mem_read, no_write, &m);
	while (dp_recv(&io, &type, &f) == 0) {
		assert(type >= 'A' && type <= 'Z');
		assert(f.len <= DP_MAX_FRAME);
		consumed += 4 + f.len;
		assert(consumed <= size);
		if (strchr("AMNX", type) && f.len) {
			if (dp_recv_long_rest(&io, type, &f) < 0)
				break;
			assert(f.len <= DP_MAX_LONG);
		}
		if (dp_kv(buf_cstr(&f), "size", v, sizeof(v)))
			assert(strlen(v) < sizeof(v));
		check_manifest(f.data ? f.data : "", f.len);
	}
	assert(io.err[0]);	/* it ends with a reason: closed, truncated, not a frame */
	buf_free(&f);
	dp_io_free(&io);
	return 0;
}
