/*
 * Fuzz the tar reader (plain and gzip'ed): any input ends in entries, an
 * end, or a clear error; every entry has a name, links have targets, the
 * data read is exactly the size announced; and every name the extractor
 * would use is relative with no ".." (what keeps an import inside its
 * directory).
 */
#include "../../lib/tar.c"

#include <assert.h>

#include "fuzz_mem.h"

static void
check_clean(const char *in)
{
	char out[TAR_PATH_MAX];
	const char *c;

	if (clean_path(in, out, sizeof(out)) < 0)
		return;
	assert(out[0] != '/');
	for (c = out; *c;) {
		size_t n = strcspn(c, "/");

		assert(n > 0);
		assert(!(n == 2 && c[0] == '.' && c[1] == '.'));
		assert(!(n == 1 && c[0] == '.'));
		c += n;
		if (*c == '/')
			c++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = { data, size, 0 };
	struct tar_reader *r = tar_reader_new(mem_read, &m);
	static struct tar_entry e;
	char buf[4096];
	int rc, n = 0;

	if (!r)
		return 0;
	while (n++ < 10000 && (rc = tar_next(r, &e)) > 0) {
		uint64_t got = 0;
		ssize_t k;

		assert(e.path[0]);
		assert(strlen(e.path) < TAR_PATH_MAX);
		if (e.type == TAR_SYMLINK || e.type == TAR_HARDLINK)
			assert(e.link[0]);
		check_clean(e.path);
		check_clean(e.link);
		while ((k = tar_read_data(r, buf, sizeof(buf))) > 0)
			got += (uint64_t)k;
		if (k == 0)
			assert(got == e.size);
		else
			break;
	}
	tar_reader_free(r);
	return 0;
}
