/*
 * Unified diffs of two texts (for lab deploy --diff): the longest common
 * subsequence of their lines, hunks with three lines of context.
 */
#ifndef LAB_UDIFF_H
#define LAB_UDIFF_H

#include <stddef.h>

#include "buf.h"

/* Appends "--- a\n+++ b\n@@ ... @@" hunks; nothing when equal. -1 with
 * EFBIG when the texts are too large to compare line by line. */
int udiff(const char *a, size_t alen, const char *b, size_t blen, const char *aname,
	  const char *bname, struct buf *out);
/* Whether a content looks binary (a NUL in its first 8 KiB). */
int udiff_is_binary(const char *p, size_t n);

#endif
