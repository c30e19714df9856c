/*
 * Fuzz the sniffer of lab vpn mux (and its ClientHello parser): no input
 * crashes or reads past its end (ASan), a server name is always a
 * lowercase host name, and what a prefix already decided the whole input
 * confirms, name included (the daemon routes on the prefix it has).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../../lib/mux.c"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mux_sniff whole, part, fin;
	size_t k, i;
	int r;

	r = mux_sniff(data, size, 0, &whole);
	assert(r >= MUX_NEED && r < MUX_NPROTO && r != MUX_NONE);
	assert(r == MUX_TLS || whole.sni[0] == '\0');
	for (i = 0; whole.sni[i]; i++)
		assert((whole.sni[i] >= 'a' && whole.sni[i] <= 'z') ||
		       (whole.sni[i] >= '0' && whole.sni[i] <= '9') || strchr("-._", whole.sni[i]));
	assert(i <= MUX_SNI_MAX);
	mux_sniff(data, size, 1, &fin);
	assert(fin.proto != MUX_NEED);
	if (r != MUX_NEED) {
		assert(fin.proto == r);
		assert(!strcmp(fin.sni, whole.sni));
	}
	/* a prefix chosen by the input itself */
	k = size ? data[0] % (size + 1) : 0;
	if (k <= MUX_SNIFF_MAX && mux_sniff(data, k, 0, &part) != MUX_NEED) {
		assert(part.proto == r);
		assert(!strcmp(part.sni, whole.sni));
	}
	return 0;
}
