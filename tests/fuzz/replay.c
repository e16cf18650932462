/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs a fuzz target over every file of its corpus directories, in name
 * order, as a TAP test. Built without libFuzzer; under ASan+UBSan a report
 * aborts the run, which fails the test.
 */
#include <stdio.h>

#include "fuzz.h"

static int
by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean
replay_dir(const char *dir_path, guint *n)
{
	g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	if (dir == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", dir_path);
		return FALSE;
	}
	while ((name = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, by_name);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename(dir_path, names->pdata[i], NULL);
		g_autofree char *data = NULL;
		g_autoptr(GError) error = NULL;
		gsize len;

		if (!g_file_get_contents(path, &data, &len, &error)) {
			fprintf(stderr, "replay: %s\n", error->message);
			return FALSE;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		printf("ok %u - %s\n", ++*n, (const char *)names->pdata[i]);
		fflush(stdout);
	}
	return TRUE;
}

int
main(int argc, char **argv)
{
	guint n = 0;

	for (int i = 1; i < argc; i++)
		if (!replay_dir(argv[i], &n))
			return 1;
	printf("1..%u\n", n);
	return n > 0 ? 0 : 1;
}
