/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common/text.c: the one escaping rule, shell words, kernel device names. */
#include <string.h>

#include <glib.h>

#include "text.h"

typedef struct {
	const char *in;
	const char *out;
} Case;

static void
test_escape(void)
{
	static const Case cases[] = {
		{"eth0", "eth0"},
		{"", ""},
		{"\x1b[2J", "\\x1b[2J"},
		{"\x1b]0;title\x07", "\\x1b]0;title\\x07"},
		{"a\nb", "a\\nb"},
		{"cr\rtab\t", "cr\\rtab\\t"},
		{"del\x7f", "del\\x7f"},
		/* C1 CSI, valid UTF-8 */
		{"\xc2\x9b"
		 "31m",
		 "\\u009b31m"},
		/* invalid UTF-8: each bad byte, and the control byte after it */
		{"\xff\x1b", "\\xff\\x1b"},
		{"ok\xc3(", "ok\\xc3("},
		/* bidi overrides, isolates, marks, zero-width, separators */
		{"abc\xe2\x80\xae"
		 "fdp.exe",
		 "abc\\u202efdp.exe"},
		{"\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069"},
		{"\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "\\u200e\\u200f\\u061c"},
		{"\xe2\x80\x8b\xef\xbb\xbf", "\\u200b\\ufeff"},
		{"\xe2\x80\xa8\xe2\x80\xa9", "\\u2028\\u2029"},
		/* text that is not hostile stays as it is */
		{"\xe6\x95\xb0\xe6\x8d\xae caf\xc3\xa9 $(x) \\x1b",
		 "\xe6\x95\xb0\xe6\x8d\xae caf\xc3\xa9 $(x) \\x1b"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = vt_text_escape(cases[i].in, FALSE);
		g_assert_cmpstr(got, ==, cases[i].out);
		g_assert_true(g_utf8_validate(got, -1, NULL));
	}
}

static void
test_escape_keep_newlines(void)
{
	g_autofree char *got = vt_text_escape("one\ntwo\x1b\r\n", TRUE);
	g_autofree char *null = vt_text_escape(NULL, FALSE);

	g_assert_cmpstr(got, ==, "one\ntwo\\x1b\\r\n");
	g_assert_cmpstr(null, ==, "");
}

static void
test_shell_quote(void)
{
	static const Case cases[] = {
		{"eth0", "eth0"},
		{"enp0s3.100", "enp0s3.100"},
		{"vt-br0@x:1,2=3%+/", "vt-br0@x:1,2=3%+/"},
		{"", "''"},
		{"$(touch /tmp/x)", "'$(touch /tmp/x)'"},
		{"`id`", "'`id`'"},
		{"a b", "'a b'"},
		{"it's", "'it'\\''s'"},
		{"a;b|c&d>e", "'a;b|c&d>e'"},
		{"~root", "'~root'"},
		{"*", "'*'"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = vt_shell_quote(cases[i].in);
		g_assert_cmpstr(got, ==, cases[i].out);
	}
	g_assert_true(vt_shell_command_is_plain("echo none > /sys/block/vda/queue/scheduler"));
	g_assert_true(vt_shell_command_is_plain("ethtool -L eth0 combined 4"));
	g_assert_false(vt_shell_command_is_plain("ethtool -L $(touch /tmp/x) combined 4"));
	g_assert_false(vt_shell_command_is_plain("ethtool -L 'a b' combined 4"));
	g_assert_false(vt_shell_command_is_plain("a\nb"));
	g_assert_false(vt_shell_command_is_plain(NULL));
}

static void
test_device_names(void)
{
	/* IFNAMSIZ is 16 with the NUL: 15 bytes fit, 16 do not */
	g_assert_true(vt_ifname_valid("eth0"));
	g_assert_true(vt_ifname_valid("123456789012345"));
	g_assert_false(vt_ifname_valid("1234567890123456"));
	g_assert_true(vt_ifname_valid("$(reboot)")); /* the kernel takes it: quoted */
	g_assert_false(vt_ifname_valid(""));
	g_assert_false(vt_ifname_valid(NULL));
	g_assert_false(vt_ifname_valid("."));
	g_assert_false(vt_ifname_valid(".."));
	g_assert_false(vt_ifname_valid("a/b"));
	g_assert_false(vt_ifname_valid("eth0:1"));
	g_assert_false(vt_ifname_valid("a b"));
	g_assert_false(vt_ifname_valid("a\nb"));
	g_assert_false(vt_ifname_valid("a\tb"));
	g_assert_false(vt_ifname_valid("\x1b[2J"));
	g_assert_false(vt_ifname_valid("del\x7f"));
	g_assert_false(vt_ifname_valid("$(touch /tmp/x)"));
	/* DISK_NAME_LEN is 32 */
	g_assert_true(vt_disk_name_valid("nvme0n1"));
	g_assert_true(vt_disk_name_valid("1234567890123456789012345678901"));
	g_assert_false(vt_disk_name_valid("12345678901234567890123456789012"));
	g_assert_false(vt_disk_name_valid("../../etc"));
	g_assert_false(vt_disk_name_valid("vda\n"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/text/escape", test_escape);
	g_test_add_func("/text/escape-keep-newlines", test_escape_keep_newlines);
	g_test_add_func("/text/shell-quote", test_shell_quote);
	g_test_add_func("/text/device-names", test_device_names);
	return g_test_run();
}
