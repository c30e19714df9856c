/*
 * Fuzz what lab vpn bastion parses from its operator and its clients:
 * allow rules, authorized_keys lines and destination names. A rule that
 * parses prints in a normal form that parses back to the same print; a
 * key line that parses holds a blob of its own type; a name that
 * normalises is a fixed point; every error has a reason. The rule then
 * decides the input as a destination name and address without crashing.
 */
#include "../../lib/bastion.c"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[9000], out[400], out2[400], err[300], why[300];
	char name[BASTION_NAME_MAX + 1], name2[BASTION_NAME_MAX + 1];
	struct bastion_rule r, r2;
	struct bastion_key *k;
	struct ipaddr a;
	int rc;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	err[0] = '\0';
	if (bastion_rule_parse(s, &r, err, sizeof(err)) == 0) {
		bastion_rule_format(&r, out, sizeof(out));
		if (bastion_rule_parse(out, &r2, err, sizeof(err)) < 0)
			abort();
		bastion_rule_format(&r2, out2, sizeof(out2));
		if (strcmp(out, out2) != 0)
			abort();
		if (!r.allports && (r.nports == 0 || r.nports > BASTION_MAX_PORTS))
			abort();
	} else if (!err[0]) {
		abort();
	}
	if (bastion_name_norm(s, name) == 0) {
		if (bastion_name_norm(name, name2) < 0 || strcmp(name, name2) != 0)
			abort();
		bastion_name_allowed(&r, 1, name, 22);
	}
	if (ipaddr_parse(s, AF_UNSPEC, &a) == 0) {
		a.plen = ipaddr_bits(&a);
		bastion_dest_check(&r, 1, &a, 22, 1, 0, why, sizeof(why));
		bastion_addr_special(&a);
	}

	k = malloc(sizeof(*k));
	if (!k)
		return 0;
	err[0] = '\0';
	rc = bastion_authkey_parse(s, k, err, sizeof(err));
	if (rc == 1) {
		size_t tl = strlen(k->type);

		if (k->bloblen > sizeof(k->blob) || k->bloblen < 8 + tl || memcmp(k->blob + 4, k->type, tl) != 0 ||
		    strncmp(k->fp, "SHA256:", 7) != 0)
			abort();
	} else if (rc < 0 && !err[0]) {
		abort();
	}
	free(k);
	return 0;
}
