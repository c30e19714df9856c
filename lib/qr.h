/*
 * QR Code (ISO/IEC 18004, model 2) encoding: numeric, alphanumeric and
 * byte mode (one segment, the densest mode the whole input allows), all 40
 * versions, error correction levels L/M/Q/H with Reed-Solomon over
 * GF(256) (x^8 + x^4 + x^3 + x^2 + 1) and block interleaving, function
 * patterns, BCH-coded format and version information, and the mask of the
 * eight with the lowest penalty (rules N1-N4). The smallest version that
 * holds the data is chosen.
 *
 * Renderers: terminal text (UTF-8 upper half blocks, two module rows per
 * line, colours set explicitly so it scans on dark and light terminals)
 * and a 1-bit grayscale PNG, both with a quiet zone.
 */
#ifndef LAB_QR_H
#define LAB_QR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define QR_VERSION_MAX 40
#define QR_SIZE_MAX (17 + 4 * QR_VERSION_MAX)
#define QR_QUIET 4		/* the quiet zone the standard asks for, in modules */

enum qr_ecc { QR_ECC_L, QR_ECC_M, QR_ECC_Q, QR_ECC_H };
enum qr_mode { QR_MODE_AUTO, QR_MODE_NUMERIC, QR_MODE_ALNUM, QR_MODE_BYTE };

struct qr {
	int version;		/* 1..40 */
	int size;		/* 17 + 4 * version modules a side */
	int mask;		/* 0..7 */
	enum qr_ecc ecc;
	enum qr_mode mode;	/* the mode used */
	uint8_t bits[(QR_SIZE_MAX * QR_SIZE_MAX + 7) / 8];	/* row-major, 1 = dark */
};

/* Choices the automatic encoder makes, for tests and comparisons. */
struct qr_opts {
	int version;		/* 0: the smallest that fits; else exactly this one */
	int mask;		/* -1: the lowest penalty; else exactly this one */
	enum qr_mode mode;	/* AUTO: numeric, alphanumeric or byte, the densest */
};

/* 0, or -1 with EMSGSIZE when no version (or not the one asked for) holds
 * the data, EINVAL when the data does not fit the mode asked for. */
int qr_encode(const uint8_t *data, size_t len, enum qr_ecc ecc, struct qr *out);
int qr_encode_opts(const uint8_t *data, size_t len, enum qr_ecc ecc, const struct qr_opts *o,
		   struct qr *out);

/* 1 for a dark module; x is the column, y the row; outside the symbol is
 * light. */
int qr_module(const struct qr *q, int x, int y);

/* Terminal text: ANSI colours (black on bright white), U+2580 per pair of
 * module rows, the quiet zone around; every line ends with a reset. */
int qr_text(const struct qr *q, struct buf *out);
/* A PNG: 1-bit grayscale, scale pixels a module, border modules of quiet
 * zone. */
int qr_png(const struct qr *q, int scale, int border, struct buf *out);

/* The pieces, exposed for known-answer tests. */
int qr_ecc_parse(const char *s, enum qr_ecc *out);	/* "L", "M", "Q", "H" */
const char *qr_ecc_name(enum qr_ecc ecc);
/* The 15 format bits (ECC level and mask, BCH(15,5), XOR 0x5412). */
unsigned qr_format_bits(enum qr_ecc ecc, int mask);
/* The 18 version bits (BCH(18,6)), versions 7 and up. */
uint32_t qr_version_bits(int version);
/* Data codewords a version holds at a level. */
int qr_data_codewords(int version, enum qr_ecc ecc);
/* The generator polynomial of degree n (n + 1 coefficients, highest first,
 * the leading 1 included) and the remainder of data * x^n divided by it. */
void qr_rs_generator(int n, uint8_t *gen);
void qr_rs_remainder(const uint8_t *data, size_t len, const uint8_t *gen, int n, uint8_t *rem);
/* The final codeword sequence (data and error correction, interleaved) of
 * data in version/ecc/mode; returns its length or -1 (as qr_encode). */
int qr_codewords(const uint8_t *data, size_t len, enum qr_ecc ecc, int version, enum qr_mode mode,
		 uint8_t *out, size_t cap);

#endif
