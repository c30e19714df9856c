/*
 * Fuzz the zone-file parser: what parses prints in master format, and the
 * print parses back into a zone that prints the same.
 */
#include "../../lib/dns_zone.c"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_name o;
	struct dns_zone *z, *z2;
	struct conf_err err;
	struct buf a = BUF_INIT, b = BUF_INIT;

	dns_name_from_text(&o, "f.test.", NULL);
	z = dns_zone_new(&o);
	if (dns_zone_parse(z, "f", (const char *)data, size, &err) == 0) {
		dns_zone_print(z, &a);
		z2 = dns_zone_new(&o);
		if (dns_zone_parse(z2, "f", a.data ? a.data : "", a.len, &err) < 0)
			abort();
		dns_zone_print(z2, &b);
		if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
			abort();
		dns_zone_free(z2);
	}
	dns_zone_free(z);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
