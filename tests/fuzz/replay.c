/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a fuzz target over every file of its corpus directories, as a test. */
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	guint n = 0;

	for (int i = 1; i < argc; i++) {
		g_autoptr(GDir) dir = g_dir_open(argv[i], 0, NULL);
		const char *name;

		if (dir == NULL) {
			fprintf(stderr, "replay: cannot open %s\n", argv[i]);
			return 1;
		}
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *path = g_build_filename(argv[i], name, NULL);
			g_autofree char *data = NULL;
			gsize len;

			if (!g_file_get_contents(path, &data, &len, NULL))
				continue;
			LLVMFuzzerTestOneInput((const uint8_t *)data, len);
			printf("ok %u - %s\n", ++n, name);
		}
	}
	printf("1..%u\n", n);
	return n > 0 ? 0 : 1;
}
