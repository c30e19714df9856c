/*
 * lab vpn qr: standard input as a QR code, on the terminal or in a PNG
 * (for a phone's WireGuard app, or to check the encoder with zbarimg).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "fs.h"
#include "qr.h"
#include "vpn.h"

static int
int_arg(const char *opt, const char *v, int lo, int hi)
{
	uint32_t n;

	if (str_to_u32(v, (uint32_t)hi, &n) < 0 || (int)n < lo)
		die_usage("%s %s: a number from %d to %d", opt, v, lo, hi);
	return (int)n;
}

int
vpn_qr_main(int argc, char **argv)
{
	const char *png = NULL;
	struct qr_opts o = { 0, -1, QR_MODE_AUTO };
	enum qr_ecc ecc = QR_ECC_M;
	int k, scale = 8, ascii = 0, info = 0;
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct qr *q;

	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "--ascii")) {
			ascii = 1;
			continue;
		}
		if (!strcmp(a, "--info")) {
			info = 1;
			continue;
		}
		if (!strcmp(a, "--8bit")) {
			o.mode = QR_MODE_BYTE;
			continue;
		}
		if (k + 1 >= argc)
			die_usage("qr: %s needs a value", a);
		if (!strcmp(a, "--png"))
			png = argv[++k];
		else if (!strcmp(a, "--ecc")) {
			if (qr_ecc_parse(argv[++k], &ecc) < 0)
				die_usage("qr: --ecc %s: L, M, Q or H", argv[k]);
		} else if (!strcmp(a, "--scale"))
			scale = int_arg(a, argv[++k], 1, 64);
		else if (!strcmp(a, "--version"))
			o.version = int_arg(a, argv[++k], 1, QR_VERSION_MAX);
		else if (!strcmp(a, "--mask"))
			o.mask = int_arg(a, argv[++k], 0, 7);
		else
			die_usage("qr: unknown option %s", a);
	}
	if (fs_read_fd(0, &in, 8192) < 0)
		die_errno("qr: standard input");
	q = xmalloc(sizeof(*q));
	if (qr_encode_opts((const uint8_t *)in.data, in.len, ecc, &o, q) < 0) {
		if (errno != EMSGSIZE)
			die_errno("qr");
		if (o.version)
			die("qr: %zu bytes do not fit version %d at level %s", in.len, o.version,
			    qr_ecc_name(ecc));
		die("qr: %zu bytes do not fit a QR code at level %s", in.len, qr_ecc_name(ecc));
	}
	if (info)
		fprintf(stderr, "version %d (%dx%d), level %s, mask %d, %s mode\n", q->version,
			q->size, q->size, qr_ecc_name(q->ecc), q->mask,
			q->mode == QR_MODE_NUMERIC ? "numeric" : q->mode == QR_MODE_ALNUM ? "alphanumeric"
											: "byte");
	if (png) {
		if (qr_png(q, scale, QR_QUIET, &out) < 0)
			die_errno("qr: PNG");
		if (fs_write_atomic(png, out.data, out.len, 0644) < 0)
			die_errno("qr: %s", png);
	} else if (ascii) {
		int x, y;

		/* as qrencode -t ASCII -m 0 draws it: two characters a module */
		for (y = 0; y < q->size; y++) {
			for (x = 0; x < q->size; x++)
				buf_adds(&out, qr_module(q, x, y) ? "##" : "  ");
			buf_addc(&out, '\n');
		}
	} else {
		qr_text(q, &out);
	}
	if (!png && (buf_err(&out) < 0 || fs_write_full(1, out.data, out.len) < 0))
		die_errno("qr: standard output");
	buf_free(&in);
	buf_free(&out);
	free(q);
	return 0;
}
