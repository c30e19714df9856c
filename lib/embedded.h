/*
 * Files built into the binary from embedded-layers/ (scripts/gen-embedded.sh):
 * the example inventory `lab deploy init` writes.
 */
#ifndef LAB_EMBEDDED_H
#define LAB_EMBEDDED_H

struct embedded_file {
	const char *path;	/* relative */
	char type;		/* 'f', 'd', 'l' */
	unsigned mode;
	const char *data;	/* content, or a link's target */
	unsigned long len;
};

extern const struct embedded_file embedded_files[];
extern const unsigned long embedded_nfiles;

#endif
