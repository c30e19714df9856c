/* QR Code encoding: known answers from ISO/IEC 18004 (the format
 * information table, the version information of versions 7-40, generator
 * polynomials of Annex A, the codewords of the "01234567" 1-M example,
 * capacities), and the renderers read back. The symbols themselves are
 * checked against zbarimg and qrencode in tests/cmd/vpn_qr.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "qr.h"
#include "tap.h"

static const char *const format_table[4][8] = {
	{ "111011111000100", "111001011110011", "111110110101010", "111100010011101",
	  "110011000101111", "110001100011000", "110110001000001", "110100101110110" },
	{ "101010000010010", "101000100100101", "101111001111100", "101101101001011",
	  "100010111111001", "100000011001110", "100111110010111", "100101010100000" },
	{ "011010101011111", "011000001101000", "011111100110001", "011101000000110",
	  "010010010110100", "010000110000011", "010111011011010", "010101111101101" },
	{ "001011010001001", "001001110111110", "001110011100111", "001100111010000",
	  "000011101100010", "000001001010101", "000110100001100", "000100000111011" },
};

static const uint32_t version_table[34] = {
	0x07C94, 0x085BC, 0x09A99, 0x0A4D3, 0x0BBF6, 0x0C762, 0x0D847, 0x0E60D, 0x0F928,
	0x10B78, 0x1145D, 0x12A17, 0x13532, 0x149A6, 0x15683, 0x168C9, 0x177EC, 0x18EC4,
	0x191E1, 0x1AFAB, 0x1B08E, 0x1CC1A, 0x1D33F, 0x1ED75, 0x1F250, 0x209D5, 0x216F0,
	0x228BA, 0x2379F, 0x24B0B, 0x2542E, 0x26A64, 0x27541, 0x28C69,
};

/* the exponent of each coefficient (alpha^e) of a generator polynomial */
static void
exponents(const uint8_t *gen, int n, char *out, size_t cap)
{
	uint8_t log[256], x = 1;
	int i;

	for (i = 0; i < 255; i++) {
		log[x] = (uint8_t)i;
		x = (uint8_t)(x << 1 ^ (x & 0x80 ? 0x1d : 0));
	}
	out[0] = '\0';
	for (i = 0; i <= n; i++)
		snprintf(out + strlen(out), cap - strlen(out), "%s%d", i ? " " : "", log[gen[i]]);
}

/* The text rendering read back: half blocks with fg/bg colours. */
static int
text_matches(const struct qr *q, const char *t)
{
	int lo = -QR_QUIET, hi = q->size + QR_QUIET, x, y, fg = -1, bg = -1;
	const char *p = t;

	for (y = lo; y < hi; y += 2) {
		for (x = lo; x < hi; x++) {
			int a, b;

			if (sscanf(p, "\033[%d;%dm", &a, &b) == 2) {
				fg = a == 30;
				bg = b == 40;
				p = strchr(p, 'm') + 1;
			}
			if (strncmp(p, "\xe2\x96\x80", 3))
				return 0;
			p += 3;
			if (fg != qr_module(q, x, y) || bg != (y + 1 < hi && qr_module(q, x, y + 1)))
				return 0;
		}
		if (strncmp(p, "\033[0m\n", 5))
			return 0;
		p += 5;
	}
	return *p == '\0';
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The PNG read back: chunks, CRCs, pixels. */
static int
png_matches(const struct qr *q, const uint8_t *p, size_t n, int scale, int border)
{
	int w = (q->size + 2 * border) * scale, rowlen = 1 + (w + 7) / 8, x, y;
	uLongf rawlen = (uLongf)rowlen * (uLongf)w;
	uint8_t *raw = malloc(rawlen);
	size_t off = 8;
	int ok_ = 0;

	if (!raw || n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		goto out;
	while (off + 12 <= n) {
		uint32_t len = be32(p + off);

		if (off + 12 + len > n ||
		    crc32(crc32(0, p + off + 4, 4), p + off + 8, len) != be32(p + off + 8 + len))
			goto out;
		if (!memcmp(p + off + 4, "IHDR", 4) &&
		    (be32(p + off + 8) != (uint32_t)w || be32(p + off + 12) != (uint32_t)w ||
		     p[off + 16] != 1 || p[off + 17] != 0))
			goto out;
		if (!memcmp(p + off + 4, "IDAT", 4) &&
		    uncompress(raw, &rawlen, p + off + 8, len) != Z_OK)
			goto out;
		off += 12 + len;
	}
	if (rawlen != (uLongf)rowlen * (uLongf)w)
		goto out;
	for (y = 0; y < w; y++)
		for (x = 0; x < w; x++) {
			int white = raw[y * rowlen + 1 + x / 8] >> (7 - x % 8) & 1;

			if (white == qr_module(q, x / scale - border, y / scale - border))
				goto out;
		}
	ok_ = off == n;
out:
	free(raw);
	return ok_;
}

int
main(void)
{
	static struct qr q;
	uint8_t gen[31], cw[4096], big[3000];
	char s[200];
	int e, m, v, n, i, allf = 1, allv = 1;
	struct buf b = BUF_INIT;
	enum qr_ecc ecc;

	for (e = 0; e < 4; e++)
		for (m = 0; m < 8; m++) {
			unsigned f = qr_format_bits((enum qr_ecc)e, m);

			for (i = 0; i < 15; i++)
				s[i] = (char)('0' + (f >> (14 - i) & 1));
			s[15] = '\0';
			if (strcmp(s, format_table[e][m])) {
				allf = 0;
				printf("# format %s mask %d: %s, want %s\n", qr_ecc_name((enum qr_ecc)e), m,
				       s, format_table[e][m]);
			}
		}
	ok(allf, "format information: the 32 values of the standard's table (Annex C)");
	for (v = 7; v <= 40; v++)
		if (qr_version_bits(v) != version_table[v - 7]) {
			allv = 0;
			printf("# version %d: %05x\n", v, qr_version_bits(v));
		}
	ok(allv, "version information of versions 7-40 (Annex D)");

	qr_rs_generator(7, gen);
	exponents(gen, 7, s, sizeof(s));
	is_str(s, "0 87 229 146 149 238 102 21", "generator polynomial of degree 7 (Annex A)");
	qr_rs_generator(10, gen);
	exponents(gen, 10, s, sizeof(s));
	is_str(s, "0 251 67 46 61 118 70 64 94 32 45", "generator polynomial of degree 10 (Annex A)");

	n = qr_codewords((const uint8_t *)"01234567", 8, QR_ECC_M, 1, QR_MODE_AUTO, cw, sizeof(cw));
	is_int(n, 26, "\"01234567\" 1-M: 26 codewords");
	is_str(hexof(cw, 26),
	       "10200c566180ec11ec11ec11ec11ec11a524d4c1ed36c7872c55",
	       "\"01234567\" 1-M: numeric data codewords and their ECC (Annex I)");

	is_int(qr_data_codewords(1, QR_ECC_L), 19, "1-L holds 19 data codewords");
	is_int(qr_data_codewords(1, QR_ECC_H), 9, "1-H holds 9");
	is_int(qr_data_codewords(7, QR_ECC_M), 124, "7-M holds 124");
	is_int(qr_data_codewords(40, QR_ECC_L), 2956, "40-L holds 2956");
	is_int(qr_data_codewords(40, QR_ECC_H), 1276, "40-H holds 1276");

	memset(big, 0xa5, sizeof(big));
	is_int(qr_encode(big, 2953, QR_ECC_L, &q), 0, "2953 bytes fit 40-L");
	is_int(q.version, 40, "in version 40");
	errno = 0;
	ok(qr_encode(big, 2954, QR_ECC_L, &q) < 0 && errno == EMSGSIZE, "2954 bytes do not");
	is_int(qr_encode((const uint8_t *)"HELLO WORLD", 11, QR_ECC_Q, &q), 0, "HELLO WORLD");
	ok(q.version == 1 && q.mode == QR_MODE_ALNUM && q.size == 21,
	   "HELLO WORLD: alphanumeric, version 1 (21 modules)");
	is_int(qr_encode((const uint8_t *)"hello world", 11, QR_ECC_Q, &q), 0, "hello world");
	is_int(q.mode, QR_MODE_BYTE, "lower case: byte mode");
	{
		struct qr_opts o = { 0, -1, QR_MODE_NUMERIC };

		errno = 0;
		ok(qr_encode_opts((const uint8_t *)"12a", 3, QR_ECC_L, &o, &q) < 0 && errno == EINVAL,
		   "numeric mode refuses a letter");
		o.mode = QR_MODE_AUTO;
		o.version = 5;
		o.mask = 3;
		ok(qr_encode_opts((const uint8_t *)"x", 1, QR_ECC_H, &o, &q) == 0 && q.version == 5 &&
			   q.mask == 3 && q.size == 37,
		   "a version and mask asked for are the ones used");
	}
	ok(qr_ecc_parse("q", &ecc) == 0 && ecc == QR_ECC_Q && qr_ecc_parse("X", &ecc) < 0 &&
		   qr_ecc_parse("LM", &ecc) < 0,
	   "ECC level names");

	/* finder patterns, timing and the dark module where they belong */
	qr_encode((const uint8_t *)"finder", 6, QR_ECC_M, &q);
	ok(qr_module(&q, 0, 0) && qr_module(&q, 6, 6) && !qr_module(&q, 1, 1) && qr_module(&q, 2, 2) &&
		   !qr_module(&q, 7, 7) && qr_module(&q, q.size - 1, 0) && qr_module(&q, 0, q.size - 1) &&
		   qr_module(&q, 8, q.size - 8) && qr_module(&q, 8, 6) && !qr_module(&q, 9, 6),
	   "finders, separators, timing, the dark module");

	for (v = 0; v < 3; v++) {
		const char *in = v == 0 ? "a" : v == 1 ? "WIREGUARD" : "[Interface]\nPrivateKey = x\n";

		qr_encode((const uint8_t *)in, strlen(in), (enum qr_ecc)v, &q);
		buf_reset(&b);
		qr_text(&q, &b);
		ok(text_matches(&q, buf_cstr(&b)), "text rendering reads back (%s)", qr_ecc_name(q.ecc));
		buf_reset(&b);
		ok(qr_png(&q, 1 + v * 3, v * 2, &b) == 0 && png_matches(&q, (uint8_t *)b.data, b.len,
									   1 + v * 3, v * 2),
		   "PNG reads back: chunks, CRCs, pixels (scale %d, border %d)", 1 + v * 3, v * 2);
	}
	buf_free(&b);
	return done_testing();
}
