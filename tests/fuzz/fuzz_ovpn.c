/*
 * Fuzz lib/ovpn's text readers: the index (what parses is written back in
 * the same format and parses to the same entries), openvpn's status file
 * (a found address is a bounded string) and PEM blocks (never more bytes
 * than the base64 holds).
 */
#include "../../lib/ovpn_text.c"

#include <assert.h>
#include <inttypes.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovpn_client *v = NULL, *w = NULL;
	size_t n = 0, m = 0, i;
	char err[200], *text, addr[32], name[16];
	uint8_t out[4096];
	struct buf b = BUF_INIT;

	if (ovpn_index_parse((const char *)data, size, &v, &n, err, sizeof(err)) == 0) {
		for (i = 0; i < n; i++)
			buf_addf(&b, "%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n", v[i].name,
				 v[i].serial, v[i].not_before, v[i].not_after, v[i].revoked);
		assert(ovpn_index_parse(b.data ? b.data : "", b.len, &w, &m, err, sizeof(err)) ==
		       0);
		assert(m == n);
		for (i = 0; i < n; i++) {
			assert(ovpn_name_ok(v[i].name));
			assert(!strcmp(v[i].name, w[i].name) && !strcmp(v[i].serial, w[i].serial));
			assert(v[i].not_before == w[i].not_before &&
			       v[i].not_after == w[i].not_after && v[i].revoked == w[i].revoked);
		}
	} else {
		assert(!strncmp(err, "line ", 5));
	}
	free(v);
	free(w);
	buf_free(&b);

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* a name from the first bytes, the rest as a status file */
	for (i = 0; i < sizeof(name) - 1 && i < size && data[i] > ' ' && data[i] != ','; i++)
		name[i] = (char)data[i];
	name[i] = '\0';
	if (name[0] && ovpn_status_find(text, name, addr, sizeof(addr)))
		assert(strlen(addr) < sizeof(addr));
	if (ovpn_pem_decode(text, "X", out, sizeof(out), &n) == 0)
		assert(n <= size * 3 / 4);
	free(text);
	return 0;
}
