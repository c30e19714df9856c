/*
 * Fuzz the firewall configuration: what parses prints in normal form, the
 * normal form parses to the same print, and the whole ruleset encodes into
 * a bounded buffer (or reports that it does not fit) without overrunning it.
 */
#include "../../lib/fw.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t mem[16384];
	struct fw_config c, c2;
	struct conf_err err;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct fw_lines lines = { NULL, 0, 0 };
	struct nl_buf nb;

	if (fw_config_parse(&c, "fuzz", (const char *)data, size, &err) < 0)
		return 0;
	fw_config_print(&c, &a);
	if (fw_config_parse(&c2, "fuzz", a.data, a.len, &err) < 0)
		abort();
	fw_config_print(&c2, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	nl_buf_init(&nb, mem, sizeof(mem));
	if (fw_build(&nb, &c, &lines) == 0 && nb.len > sizeof(mem))
		abort();
	fw_lines_free(&lines);
	fw_config_free(&c);
	fw_config_free(&c2);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
