/* QR Code encoding (ISO/IEC 18004:2015), renderers for terminals and PNG. */
#include "qr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/*
 * Table 9 of the standard: per version, for L, M, Q, H, the error
 * correction codewords of each block and the number of blocks. The data
 * codewords follow from the modules left for data.
 */
static const uint8_t ecc_per_block[4][41] = {
	{ 0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
	  28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30 },
	{ 0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
	  26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28 },
	{ 0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
	  28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30 },
	{ 0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
	  30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30 },
};
static const uint8_t blocks[4][41] = {
	{ 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
	  8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25 },
	{ 0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
	  17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49 },
	{ 0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
	  23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68 },
	{ 0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
	  25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81 },
};

/* The two format bits of each level (L 01, M 00, Q 11, H 10). */
static const uint8_t ecc_format[4] = { 1, 0, 3, 2 };

static const char alnum_set[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* ---- GF(256) and Reed-Solomon ---- */

static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	unsigned r = 0;
	int i;

	/* shift-and-add, reducing by 0x11d as the product grows */
	for (i = 7; i >= 0; i--) {
		r = (r << 1) ^ ((r >> 7) * 0x11d);
		r ^= ((b >> i) & 1) * a;
	}
	return (uint8_t)r;
}

void
qr_rs_generator(int n, uint8_t *gen)
{
	uint8_t root = 1;
	int i, j;

	/* gen = (x - a^0)(x - a^1)...(x - a^(n-1)); minus is plus in GF(2^8) */
	memset(gen, 0, (size_t)n + 1);
	gen[0] = 1;
	for (i = 0; i < n; i++) {
		for (j = i + 1; j >= 1; j--)
			gen[j] = (uint8_t)(gen[j] ^ gf_mul(gen[j - 1], root));
		root = gf_mul(root, 2);
	}
}

void
qr_rs_remainder(const uint8_t *data, size_t len, const uint8_t *gen, int n, uint8_t *rem)
{
	size_t i;
	int j;

	memset(rem, 0, (size_t)n);
	for (i = 0; i < len; i++) {
		uint8_t f = data[i] ^ rem[0];

		memmove(rem, rem + 1, (size_t)n - 1);
		rem[n - 1] = 0;
		for (j = 0; j < n; j++)
			rem[j] ^= gf_mul(gen[j + 1], f);
	}
}

/* ---- BCH codes ---- */

unsigned
qr_format_bits(enum qr_ecc ecc, int mask)
{
	unsigned d = (unsigned)(ecc_format[ecc] << 3 | (mask & 7)), r = d << 10;
	int i;

	for (i = 14; i >= 10; i--)
		if (r >> i & 1)
			r ^= 0x537u << (i - 10);
	return ((d << 10) | r) ^ 0x5412;
}

uint32_t
qr_version_bits(int version)
{
	uint32_t d = (uint32_t)version, r = d << 12;
	int i;

	for (i = 17; i >= 12; i--)
		if (r >> i & 1)
			r ^= 0x1f25u << (i - 12);
	return d << 12 | r;
}

int
qr_ecc_parse(const char *s, enum qr_ecc *out)
{
	static const char names[] = "LMQH";
	const char *p;

	if (!s || !s[0] || s[1] || !(p = strchr(names, s[0] & ~0x20)))
		return errno = EINVAL, -1;
	*out = (enum qr_ecc)(p - names);
	return 0;
}

const char *
qr_ecc_name(enum qr_ecc ecc)
{
	static const char *const n[] = { "L", "M", "Q", "H" };

	return n[ecc & 3];
}

/* ---- the matrix ---- */

struct grid {
	int size;
	uint8_t *dark, *func;	/* size * size, one byte a module */
};

static void
put(struct grid *g, int x, int y, int dark)
{
	g->dark[y * g->size + x] = (uint8_t)!!dark;
	g->func[y * g->size + x] = 1;
}

static int
align_positions(int version, int pos[7])
{
	int n, step, i, p, size = 17 + 4 * version;

	if (version == 1)
		return 0;
	n = version / 7 + 2;
	/* even spacing from the last centre (size - 7) back toward 6, rounded
	 * up to even; version 32 is the one the standard spaces otherwise */
	step = version == 32 ? 26 : (version * 4 + n * 2 + 1) / (n * 2 - 2) * 2;
	pos[0] = 6;
	for (i = n - 1, p = size - 7; i >= 1; i--, p -= step)
		pos[i] = p;
	return n;
}

static void
draw_format(struct grid *g, enum qr_ecc ecc, int mask)
{
	unsigned f = qr_format_bits(ecc, mask);
	int i, s = g->size;

	/* around the top-left finder: bits 0-7 down column 8 (skipping the
	 * timing row), 8-14 leftward along row 8 */
	for (i = 0; i <= 5; i++)
		put(g, 8, i, f >> i & 1);
	put(g, 8, 7, f >> 6 & 1);
	put(g, 8, 8, f >> 7 & 1);
	put(g, 7, 8, f >> 8 & 1);
	for (i = 9; i < 15; i++)
		put(g, 14 - i, 8, f >> i & 1);
	/* the copy: bits 0-7 along row 8 from the right edge, 8-14 down
	 * column 8 at the bottom */
	for (i = 0; i < 8; i++)
		put(g, s - 1 - i, 8, f >> i & 1);
	for (i = 8; i < 15; i++)
		put(g, 8, s - 15 + i, f >> i & 1);
	put(g, 8, s - 8, 1);	/* the dark module */
}

static void
draw_function(struct grid *g, int version)
{
	int s = g->size, i, j, dx, dy, pos[7], n;

	for (i = 0; i < s; i++) {
		put(g, 6, i, i % 2 == 0);
		put(g, i, 6, i % 2 == 0);
	}
	/* finders with their light separators */
	for (i = 0; i < 3; i++) {
		int cx = i == 1 ? s - 4 : 3, cy = i == 2 ? s - 4 : 3;

		for (dy = -4; dy <= 4; dy++)
			for (dx = -4; dx <= 4; dx++) {
				int d = abs(dx) > abs(dy) ? abs(dx) : abs(dy), x = cx + dx, y = cy + dy;

				if (x >= 0 && x < s && y >= 0 && y < s)
					put(g, x, y, d != 2 && d != 4);
			}
	}
	n = align_positions(version, pos);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			if ((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0))
				continue;	/* where the finders are */
			for (dy = -2; dy <= 2; dy++)
				for (dx = -2; dx <= 2; dx++)
					put(g, pos[i] + dx, pos[j] + dy,
					    (abs(dx) > abs(dy) ? abs(dx) : abs(dy)) != 1);
		}
	draw_format(g, QR_ECC_L, 0);	/* reserves the area; drawn again per mask */
	if (version >= 7) {
		uint32_t v = qr_version_bits(version);

		for (i = 0; i < 18; i++) {
			int a = s - 11 + i % 3, b = i / 3, bit = v >> i & 1;

			put(g, a, b, bit);
			put(g, b, a, bit);
		}
	}
}

static int
raw_codewords(int version)
{
	struct grid g;
	int n = 0, i, s = 17 + 4 * version;
	static int cache[41];

	if (cache[version])
		return cache[version];
	g.size = s;
	g.dark = calloc((size_t)s * s, 1);
	g.func = calloc((size_t)s * s, 1);
	if (!g.dark || !g.func) {
		free(g.dark);
		free(g.func);
		return 0;
	}
	draw_function(&g, version);
	for (i = 0; i < s * s; i++)
		n += !g.func[i];
	free(g.dark);
	free(g.func);
	return cache[version] = n / 8;
}

int
qr_data_codewords(int version, enum qr_ecc ecc)
{
	if (version < 1 || version > QR_VERSION_MAX)
		return 0;
	return raw_codewords(version) - ecc_per_block[ecc][version] * blocks[ecc][version];
}

static int
mask_bit(int mask, int x, int y)
{
	switch (mask) {
	case 0: return (x + y) % 2 == 0;
	case 1: return y % 2 == 0;
	case 2: return x % 3 == 0;
	case 3: return (x + y) % 3 == 0;
	case 4: return (y / 2 + x / 3) % 2 == 0;
	case 5: return (x * y) % 2 + (x * y) % 3 == 0;
	case 6: return ((x * y) % 2 + (x * y) % 3) % 2 == 0;
	default: return ((x + y) % 2 + (x * y) % 3) % 2 == 0;
	}
}

static void
apply_mask(struct grid *g, int mask)
{
	int x, y, s = g->size;

	for (y = 0; y < s; y++)
		for (x = 0; x < s; x++)
			if (!g->func[y * s + x] && mask_bit(mask, x, y))
				g->dark[y * s + x] ^= 1;
}

/* Penalties of one row or column (get(i) gives module i): runs (N1) and
 * finder-like patterns with four light modules on one side (N3). */
static long
line_penalty(const uint8_t *p, int stride, int s)
{
	long pen = 0;
	int i, run = 1;

	for (i = 1; i <= s; i++) {
		if (i < s && p[i * stride] == p[(i - 1) * stride]) {
			run++;
			continue;
		}
		if (run >= 5)
			pen += 3 + (run - 5);
		run = 1;
	}
	/* 1011101 with 0000 before or after; outside the symbol is light */
	for (i = -4; i < s; i++) {
		static const uint8_t pat[7] = { 1, 0, 1, 1, 1, 0, 1 };
		int k, m, before = 1, after = 1;

		for (k = 0; k < 7; k++) {
			int j = i + k;

			if (j < 0 || j >= s || p[j * stride] != pat[k])
				break;
		}
		if (k < 7)
			continue;
		for (m = 1; m <= 4; m++) {
			int b = i - m, a = i + 6 + m;

			if (b >= 0 && p[b * stride])
				before = 0;
			if (a < s && p[a * stride])
				after = 0;
		}
		pen += 40 * (before + after);
	}
	return pen;
}

static long
penalty(const struct grid *g)
{
	int s = g->size, x, y, dark = 0, k;
	long pen = 0;

	for (y = 0; y < s; y++)
		pen += line_penalty(g->dark + y * s, 1, s);
	for (x = 0; x < s; x++)
		pen += line_penalty(g->dark + x, s, s);
	for (y = 0; y + 1 < s; y++)
		for (x = 0; x + 1 < s; x++) {
			uint8_t c = g->dark[y * s + x];

			if (c == g->dark[y * s + x + 1] && c == g->dark[(y + 1) * s + x] &&
			    c == g->dark[(y + 1) * s + x + 1])
				pen += 3;
		}
	for (k = 0; k < s * s; k++)
		dark += g->dark[k];
	/* 10 points for each full 5 % the dark share is away from 50 % */
	k = abs(dark * 100 - s * s * 50) / (s * s * 5);
	return pen + 10L * k;
}

/* ---- data ---- */

struct bits {
	uint8_t *p;
	size_t n, cap;	/* in bits */
};

static void
bits_put(struct bits *b, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, b->n++)
		if (b->n < b->cap && (v >> i & 1))
			b->p[b->n / 8] |= (uint8_t)(0x80 >> (b->n % 8));
}

static enum qr_mode
densest(const uint8_t *d, size_t len)
{
	size_t i;
	int num = 1, alnum = 1;

	for (i = 0; i < len; i++) {
		if (d[i] < '0' || d[i] > '9')
			num = 0;
		if (!d[i] || !strchr(alnum_set, d[i]))
			alnum = 0;
	}
	return num ? QR_MODE_NUMERIC : alnum ? QR_MODE_ALNUM : QR_MODE_BYTE;
}

static int
count_bits(enum qr_mode m, int version)
{
	int k = version <= 9 ? 0 : version <= 26 ? 1 : 2;
	static const uint8_t t[3][3] = { { 10, 12, 14 }, { 9, 11, 13 }, { 8, 16, 16 } };

	return t[m - QR_MODE_NUMERIC][k];
}

static size_t
segment_bits(enum qr_mode m, size_t len, int version)
{
	size_t n = 4 + (size_t)count_bits(m, version);

	if (m == QR_MODE_NUMERIC)
		return n + 10 * (len / 3) + (len % 3 == 1 ? 4 : len % 3 == 2 ? 7 : 0);
	if (m == QR_MODE_ALNUM)
		return n + 11 * (len / 2) + 6 * (len % 2);
	return n + 8 * len;
}

/* The data codewords of version/ecc: mode, count, data, terminator, padding. */
static int
data_codewords(const uint8_t *d, size_t len, enum qr_mode m, int version, enum qr_ecc ecc,
	       uint8_t *out)
{
	int cw = qr_data_codewords(version, ecc), i;
	struct bits b = { out, 0, (size_t)cw * 8 };
	size_t k;

	if (segment_bits(m, len, version) > b.cap || len >= 1u << count_bits(m, version))
		return errno = EMSGSIZE, -1;
	memset(out, 0, (size_t)cw);
	bits_put(&b, m == QR_MODE_NUMERIC ? 1 : m == QR_MODE_ALNUM ? 2 : 4, 4);
	bits_put(&b, (unsigned)len, count_bits(m, version));
	if (m == QR_MODE_NUMERIC) {
		for (k = 0; k < len; k += 3) {
			size_t n = len - k < 3 ? len - k : 3, j;
			unsigned v = 0;

			for (j = 0; j < n; j++)
				v = v * 10 + (unsigned)(d[k + j] - '0');
			bits_put(&b, v, n == 3 ? 10 : n == 2 ? 7 : 4);
		}
	} else if (m == QR_MODE_ALNUM) {
		for (k = 0; k + 1 < len; k += 2)
			bits_put(&b, (unsigned)((strchr(alnum_set, d[k]) - alnum_set) * 45 +
						(strchr(alnum_set, d[k + 1]) - alnum_set)), 11);
		if (len % 2)
			bits_put(&b, (unsigned)(strchr(alnum_set, d[len - 1]) - alnum_set), 6);
	} else {
		for (k = 0; k < len; k++)
			bits_put(&b, d[k], 8);
	}
	bits_put(&b, 0, b.cap - b.n < 4 ? (int)(b.cap - b.n) : 4);
	bits_put(&b, 0, (int)((8 - b.n % 8) % 8));
	for (i = (int)(b.n / 8); i < cw; i++)
		out[i] = (i - (int)(b.n / 8)) % 2 ? 0x11 : 0xec;
	return cw;
}

int
qr_codewords(const uint8_t *data, size_t len, enum qr_ecc ecc, int version, enum qr_mode mode,
	     uint8_t *out, size_t cap)
{
	int total, nb, ne, ndata, shortlen, nshort, i, j, k = 0;
	uint8_t *d, gen[31], *ecw;

	if (version < 1 || version > QR_VERSION_MAX || (unsigned)ecc > QR_ECC_H)
		return errno = EINVAL, -1;
	if (mode == QR_MODE_AUTO)
		mode = densest(data, len);
	else if (mode != QR_MODE_BYTE && densest(data, len) > mode)
		return errno = EINVAL, -1;
	total = raw_codewords(version);
	if (!total || (size_t)total > cap)
		return errno = total ? ENOBUFS : ENOMEM, -1;
	nb = blocks[ecc][version];
	ne = ecc_per_block[ecc][version];
	ndata = total - nb * ne;
	d = malloc((size_t)ndata + (size_t)nb * (size_t)ne);
	if (!d)
		return -1;
	if (data_codewords(data, len, mode, version, ecc, d) < 0) {
		free(d);
		return -1;
	}
	/* blocks: the short ones first, the last total % nb one codeword longer */
	nshort = nb - total % nb;
	shortlen = total / nb - ne;
	ecw = d + ndata;
	qr_rs_generator(ne, gen);
	for (i = 0, j = 0; i < nb; i++) {
		int n = shortlen + (i >= nshort);

		qr_rs_remainder(d + j, (size_t)n, gen, ne, ecw + i * ne);
		j += n;
	}
	for (i = 0; i <= shortlen; i++)
		for (j = 0; j < nb; j++) {
			int off = j * shortlen + (j > nshort ? j - nshort : 0);

			if (i < shortlen || j >= nshort)
				out[k++] = d[off + i];
		}
	for (i = 0; i < ne; i++)
		for (j = 0; j < nb; j++)
			out[k++] = ecw[j * ne + i];
	free(d);
	return k;
}

static void
place(struct grid *g, const uint8_t *cw, int n)
{
	int s = g->size, right, v, j;
	size_t i = 0, nbits = (size_t)n * 8;

	/* two-module columns from the right, up then down, stepping over the
	 * vertical timing pattern; remainder bits stay light */
	for (right = s - 1; right >= 1; right -= 2) {
		if (right == 6)
			right = 5;
		for (v = 0; v < s; v++)
			for (j = 0; j < 2; j++) {
				int x = right - j, up = ((right + 1) & 2) == 0, y = up ? s - 1 - v : v;

				if (g->func[y * s + x])
					continue;
				if (i < nbits)
					g->dark[y * s + x] = cw[i / 8] >> (7 - i % 8) & 1;
				i++;
			}
	}
}

int
qr_encode_opts(const uint8_t *data, size_t len, enum qr_ecc ecc, const struct qr_opts *o,
	       struct qr *out)
{
	enum qr_mode mode = o->mode == QR_MODE_AUTO ? densest(data, len) : o->mode;
	int version, n, m, best = -1, s;
	long bestpen = 0;
	uint8_t *cw = NULL;
	struct grid g = { 0, NULL, NULL };
	int rc = -1;

	if ((unsigned)ecc > QR_ECC_H || o->mask < -1 || o->mask > 7 || o->version < 0 ||
	    o->version > QR_VERSION_MAX)
		return errno = EINVAL, -1;
	if (mode != QR_MODE_BYTE && densest(data, len) > mode)
		return errno = EINVAL, -1;
	for (version = o->version ? o->version : 1; version <= QR_VERSION_MAX; version++) {
		if (segment_bits(mode, len, version) <= (size_t)qr_data_codewords(version, ecc) * 8 &&
		    len < 1u << count_bits(mode, version))
			break;
		if (o->version)
			return errno = EMSGSIZE, -1;
	}
	if (version > QR_VERSION_MAX)
		return errno = EMSGSIZE, -1;
	s = 17 + 4 * version;
	cw = malloc(4096);
	g.size = s;
	g.dark = calloc((size_t)s * s, 1);
	g.func = calloc((size_t)s * s, 1);
	if (!cw || !g.dark || !g.func)
		goto out;
	n = qr_codewords(data, len, ecc, version, mode, cw, 4096);
	if (n < 0)
		goto out;
	draw_function(&g, version);
	place(&g, cw, n);
	for (m = 0; m < 8; m++) {
		long pen;

		if (o->mask >= 0 && m != o->mask)
			continue;
		apply_mask(&g, m);
		draw_format(&g, ecc, m);
		pen = o->mask >= 0 ? 0 : penalty(&g);
		if (best < 0 || pen < bestpen) {
			best = m;
			bestpen = pen;
		}
		apply_mask(&g, m);	/* undone: XOR twice */
	}
	apply_mask(&g, best);
	draw_format(&g, ecc, best);
	memset(out, 0, sizeof(*out));
	out->version = version;
	out->size = s;
	out->mask = best;
	out->ecc = ecc;
	out->mode = mode;
	for (n = 0; n < s * s; n++)
		if (g.dark[n])
			out->bits[n / 8] |= (uint8_t)(1 << (n % 8));
	rc = 0;
out:
	free(cw);
	free(g.dark);
	free(g.func);
	if (rc < 0 && !errno)
		errno = ENOMEM;
	return rc;
}

int
qr_encode(const uint8_t *data, size_t len, enum qr_ecc ecc, struct qr *out)
{
	struct qr_opts o = { 0, -1, QR_MODE_AUTO };

	return qr_encode_opts(data, len, ecc, &o, out);
}

int
qr_module(const struct qr *q, int x, int y)
{
	int n = y * q->size + x;

	if (x < 0 || y < 0 || x >= q->size || y >= q->size)
		return 0;
	return q->bits[n / 8] >> (n % 8) & 1;
}

/* ---- renderers ---- */

int
qr_text(const struct qr *q, struct buf *out)
{
	int x, y, lo = -QR_QUIET, hi = q->size + QR_QUIET;

	/* the upper half block takes the foreground colour (the upper module)
	 * over the background colour (the lower one); both always set, so the
	 * terminal's own colours never show */
	for (y = lo; y < hi; y += 2) {
		int fg = -1, bg = -1;

		for (x = lo; x < hi; x++) {
			int t = qr_module(q, x, y), b = y + 1 < hi && qr_module(q, x, y + 1);

			if (t != fg || b != bg) {
				buf_addf(out, "\033[%d;%dm", t ? 30 : 97, b ? 40 : 107);
				fg = t;
				bg = b;
			}
			buf_adds(out, "\xe2\x96\x80");
		}
		buf_adds(out, "\033[0m\n");
	}
	return buf_err(out);
}

static void
put32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	buf_add(b, p, 4);
}

static void
chunk(struct buf *b, const char *type, const uint8_t *p, size_t n)
{
	uLong crc;

	put32(b, (uint32_t)n);
	buf_add(b, type, 4);
	buf_add(b, p, n);
	crc = crc32(0, (const Bytef *)type, 4);
	if (n)
		crc = crc32(crc, p, (uInt)n);
	put32(b, (uint32_t)crc);
}

int
qr_png(const struct qr *q, int scale, int border, struct buf *out)
{
	int w, rowlen, x, y;
	uint8_t *raw, *z, ihdr[13];
	uLongf zlen;
	size_t rawlen;

	if (scale < 1 || scale > 64 || border < 0 || border > 64)
		return errno = EINVAL, -1;
	w = (q->size + 2 * border) * scale;
	rowlen = 1 + (w + 7) / 8;
	rawlen = (size_t)rowlen * (size_t)w;
	raw = malloc(rawlen);
	zlen = compressBound((uLong)rawlen);
	z = malloc(zlen);
	if (!raw || !z) {
		free(raw);
		free(z);
		return errno = ENOMEM, -1;
	}
	/* filter type 0 per row; a set bit is white */
	memset(raw, 0xff, rawlen);
	for (y = 0; y < w; y++) {
		uint8_t *row = raw + (size_t)y * (size_t)rowlen;

		row[0] = 0;
		for (x = 0; x < w; x++)
			if (qr_module(q, x / scale - border, y / scale - border))
				row[1 + x / 8] &= (uint8_t)~(0x80 >> (x % 8));
	}
	if (compress2(z, &zlen, raw, (uLong)rawlen, 9) != Z_OK) {
		free(raw);
		free(z);
		return errno = EIO, -1;
	}
	buf_add(out, "\x89PNG\r\n\x1a\n", 8);
	ihdr[0] = (uint8_t)(w >> 24);
	ihdr[1] = (uint8_t)(w >> 16);
	ihdr[2] = (uint8_t)(w >> 8);
	ihdr[3] = (uint8_t)w;
	memcpy(ihdr + 4, ihdr, 4);
	ihdr[8] = 1;	/* bit depth */
	ihdr[9] = 0;	/* grayscale */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	chunk(out, "IHDR", ihdr, 13);
	chunk(out, "IDAT", z, zlen);
	chunk(out, "IEND", NULL, 0);
	free(raw);
	free(z);
	return buf_err(out);
}
