/*
 * An input in memory read in pieces, for the fuzz targets of readers that
 * take a read callback: every other read is cut short, so a reader that
 * depends on whole reads shows it.
 */
#ifndef LAB_FUZZ_MEM_H
#define LAB_FUZZ_MEM_H

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

struct mem {
	const uint8_t *p;
	size_t n, off;
};

static ssize_t
mem_read(void *arg, void *p, size_t n)
{
	struct mem *m = arg;
	size_t k = m->n - m->off;

	if (k > n)
		k = n;
	if (k > 1 && (m->off & 1))
		k = k / 2;
	memcpy(p, m->p + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

#endif
