/*
 * Fuzz the btrfs send stream reader: any input ends in commands, a clean
 * end or a clear error, split into reads of any size; a command is never
 * larger than v1 allows; every attribute lies inside its command; and
 * every path the receiver would use is relative, with no "", "." or ".."
 * component (what keeps a hostile stream inside the subvolume).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/btrfs_stream.h"
#include "fuzz_mem.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bs_reader r;
	struct mem m = { data, size, 0 };
	struct bs_cmd c;
	char path[4096];
	int k, a, cmds = 0;

	memset(&r, 0, sizeof(r));
	r.read = mem_read;
	r.arg = &m;
	while ((k = bs_next(&r, &c)) > 0) {
		cmds++;
		assert(c.cmd >= 1 && c.cmd <= BS_C_MAX);
		for (a = 1; a <= BS_A_MAX; a++) {
			if (!c.a[a].set)
				continue;
			assert(c.a[a].p >= r.buf + 10 && c.a[a].p + c.a[a].len <= r.buf + sizeof(r.buf));
		}
		for (a = BS_A_PATH; a <= BS_A_PATH_LINK; a++)
			if (bs_path(&c, a, path, sizeof(path)) == 0) {
				const char *p = path;

				assert(p[0] != '/');
				if (strcmp(p, ".")) {
					assert(strcmp(p, "..") && strncmp(p, "../", 3) && !strstr(p, "/../"));
					assert(!strstr(p, "//") && strncmp(p, "./", 2) && !strstr(p, "/./"));
					assert(p[strlen(p) - 1] != '/');
				}
			}
	}
	assert(k == 0 || r.err[0]);
	assert(r.offset <= size);
	return 0;
}
