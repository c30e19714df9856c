#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "tap.h"

static void
test_buf(void)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	is_str(buf_cstr(&b), "", "empty buffer reads as an empty string");
	buf_adds(&b, "hello");
	buf_addc(&b, ' ');
	buf_addf(&b, "%d-%s", 42, "x");
	is_str(buf_cstr(&b), "hello 42-x", "adds, addc and addf append");
	is_int(b.len, 10, "length counts the bytes");
	for (i = 0; i < 1000; i++)
		buf_addf(&b, "%04d", i);
	is_int(b.len, 4010, "buffer grows past its first allocation");
	ok(memcmp(b.data + 4006, "0999", 4) == 0, "content survives growth");
	buf_consume(&b, 6);
	ok(strncmp(buf_cstr(&b), "42-x0000", 8) == 0, "consume drops bytes from the front");
	buf_truncate(&b, 4);
	is_str(buf_cstr(&b), "42-x", "truncate shortens");
	buf_reset(&b);
	buf_addhex(&b, "\x01\xab\xff", 3);
	is_str(buf_cstr(&b), "01abff", "addhex writes lowercase hex");
	s = buf_steal(&b);
	is_str(s, "01abff", "steal hands the string over");
	ok(b.data == NULL && b.len == 0, "steal resets the buffer");
	free(s);
	ok(buf_err(&b) == 0, "no sticky error after normal use");
	buf_free(&b);
}

static void
test_str(void)
{
	char s[] = "  a b\t ", t[] = "x,,y, z", *f[4], dst[4];
	uint64_t u;
	int64_t i;
	uint32_t u32;

	is_str(str_trim(s), "a b", "trim strips both ends");
	is_int(str_split(t, ", ", f, 4), 3, "split skips empty fields");
	is_str(f[2], "z", "third field");
	is_int(str_copy(dst, "abcdef", sizeof(dst)), 6, "str_copy returns the source length");
	is_str(dst, "abc", "str_copy truncates and terminates");
	ok(str_has_prefix("lab-net", "lab-") && !str_has_prefix("la", "lab"), "has_prefix");
	ok(str_has_suffix("x.tpl", ".tpl") && !str_has_suffix("tpl", ".tpl"), "has_suffix");

	ok(str_to_u64("18446744073709551615", 10, UINT64_MAX, &u) == 0 && u == UINT64_MAX,
	   "u64 max parses");
	ok(str_to_u64("18446744073709551616", 10, UINT64_MAX, &u) < 0 && errno == ERANGE,
	   "u64 overflow is ERANGE");
	ok(str_to_u64("-1", 10, UINT64_MAX, &u) < 0 && errno == EINVAL, "a sign is refused");
	ok(str_to_u64(" 1", 10, UINT64_MAX, &u) < 0, "leading space is refused");
	ok(str_to_u64("12x", 10, UINT64_MAX, &u) < 0, "trailing garbage is refused");
	ok(str_to_u64("", 10, UINT64_MAX, &u) < 0, "empty string is refused");
	ok(str_to_u64("0x1f", 0, 255, &u) == 0 && u == 31, "base 0 takes hex");
	ok(str_to_u32("65536", 65535, &u32) < 0 && errno == ERANGE, "u32 range checked");
	ok(str_to_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &i) == 0 && i == INT64_MIN,
	   "i64 min parses");
	ok(str_to_i64("-5", 0, 10, &i) < 0 && errno == ERANGE, "i64 below min");
	ok(str_to_size("512M", &u) == 0 && u == 512ull << 20, "512M");
	ok(str_to_size("2GiB", &u) == 0 && u == 2ull << 30, "2GiB");
	ok(str_to_size("100", &u) == 0 && u == 100, "plain bytes");
	ok(str_to_size("1X", &u) < 0, "unknown unit");
	ok(str_to_size("99999999999T", &u) < 0 && errno == ERANGE, "size overflow");
	ok(str_to_msec("500ms", &u) == 0 && u == 500, "500ms");
	ok(str_to_msec("30", &u) == 0 && u == 30000, "bare number is seconds");
	ok(str_to_msec("2h", &u) == 0 && u == 7200000, "2h");
}

static void
test_hex(void)
{
	unsigned char out[4];
	char s[9];

	hex_encode("\x00\x10\xfe\xff", 4, s);
	is_str(s, "0010feff", "hex encode");
	is_int(hex_decode("0010FEff", out, 4), 4, "hex decode, either case");
	ok(memcmp(out, "\x00\x10\xfe\xff", 4) == 0, "decoded bytes");
	ok(hex_decode("abc", out, 4) < 0, "odd length refused");
	ok(hex_decode("zz", out, 4) < 0, "non-hex refused");
	ok(hex_decode("0000000000", out, 4) < 0 && errno == ERANGE, "too long for the buffer");
}

int
main(void)
{
	test_buf();
	test_str();
	test_hex();
	return done_testing();
}
