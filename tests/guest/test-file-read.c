/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vt_file_read() on the live /proc: a seq_file longer than a page is read
 * chunk after chunk to its end or the cap, and a file whose records are
 * declared short ends on its first short chunk, as whole as a plain read.
 */
#include <fcntl.h>
#include <string.h>

#include "kernel/sysattr.h"

static guint
count_lines(const char *text)
{
	guint n = 0;

	for (const char *p = strchr(text, '\n'); p != NULL; p = strchr(p + 1, '\n'))
		n++;
	return n;
}

/* Each procfs file as a plain read sees it. */
static void
assert_reads_whole(const char *path, guint record_max)
{
	VtFile file = VT_FILE_INIT;
	g_autofree char *buf = g_malloc(VT_PROC_TEXT_MAX);
	g_autofree char *plain = NULL;
	int root = vt_sysroot_open("/");
	gboolean truncated = TRUE;
	gsize len = 0;

	if (!g_file_get_contents(path, &plain, NULL, NULL)) {
		g_autofree char *why = g_strdup_printf("%s is not on this kernel", path);

		g_test_skip(why);
		vt_fd_close(root);
		return;
	}
	file.record_max = record_max;
	g_assert_cmpint(
		vt_file_read(&file, root, path + 1, buf, VT_PROC_TEXT_MAX, &len, &truncated), ==,
		0);
	g_assert_false(truncated);
	g_assert_cmpuint(len, ==, strlen(buf));
	/* counters move between the two reads; the lines do not */
	g_assert_cmpuint(count_lines(buf), ==, count_lines(plain));
	g_assert_cmpuint(buf[len - 1], ==, '\n');
	vt_file_close(&file);
	vt_fd_close(root);
}

static void
test_short_records(void)
{
	assert_reads_whole("/proc/vmstat", 96);
	assert_reads_whole("/proc/interrupts", 0);
}

/* /proc/crypto: ~11 KB here, in records of a few hundred bytes. */
static void
test_longer_than_a_page(void)
{
	assert_reads_whole("/proc/crypto", 0);
}

/* /proc/kallsyms: megabytes in short lines; read to the cap, and flagged. */
static void
test_to_the_cap(void)
{
	VtFile file = VT_FILE_INIT;
	g_autofree char *buf = g_malloc(VT_PROC_TEXT_MAX);
	int root = vt_sysroot_open("/");
	gboolean truncated = FALSE;
	gsize len = 0;

	file.record_max = 512;
	if (vt_file_read(&file, root, "proc/kallsyms", buf, VT_PROC_TEXT_MAX, &len, &truncated) !=
	    0) {
		g_test_skip(
			"/proc/kallsyms cannot be read here (a kernel without CONFIG_KALLSYMS)");
	} else if (len < VT_PROC_TEXT_MAX - 1 && !truncated) {
		g_autofree char *why = g_strdup_printf(
			"/proc/kallsyms is only %zu bytes here: under the cap", len);

		g_test_skip(why);
	} else {
		g_assert_cmpuint(len, ==, VT_PROC_TEXT_MAX - 1);
		g_assert_true(truncated);
	}
	vt_file_close(&file);
	vt_fd_close(root);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/file-read/short-records", test_short_records);
	g_test_add_func("/file-read/longer-than-a-page", test_longer_than_a_page);
	g_test_add_func("/file-read/to-the-cap", test_to_the_cap);
	return g_test_run();
}
