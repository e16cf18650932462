/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the collector tests share: checks of a report, and sysroots built at run time. */
#include "collect-util.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "json.h"

const char *
data_dir(void)
{
	const char *dir = g_getenv("VT_TEST_DATA");

	g_assert_nonnull(dir);
	return dir;
}

/* Every string valid UTF-8 and bounded, every repeated field within its bound. */
static void
assert_bounded(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		const char *base = (const char *)msg + f->offset;
		size_t n = 1;
		const void *const *items = (const void *const *)base;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const char *)msg + f->quantifier_offset);
			items = *(const void *const *const *)base;
			g_assert_cmpuint(n, <=, 4096);
		}
		for (size_t k = 0; k < n; k++) {
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				const char *s = items[k];
				if (s == NULL)
					continue;
				g_assert_true(g_utf8_validate(s, -1, NULL));
				g_assert_cmpuint(strlen(s), <=, VT_STRING_MAX);
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && items[k] != NULL) {
				assert_bounded(items[k]);
			}
		}
	}
}

void
assert_report_bounded(const VtReport *r)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) packed = NULL;

	assert_bounded(&r->base);
	g_assert_cmpuint(r->n_block, <=, VT_REPORT_MAX_BLOCK);
	g_assert_cmpuint(r->n_nics, <=, VT_REPORT_MAX_NICS);
	g_assert_cmpuint(r->n_meminfo, <=, VT_REPORT_MAX_MAP_ENTRIES);
	g_assert_cmpuint(r->n_sections, <=, VT_REPORT_MAX_SECTIONS);
	for (size_t i = 0; i < r->n_nics; i++)
		g_assert_cmpuint(r->nics[i]->n_features, <=, VT_REPORT_MAX_FEATURES);
	for (size_t i = 0; i < r->n_block; i++)
		g_assert_cmpuint(r->block[i]->n_schedulers, <=, VT_REPORT_MAX_SCHEDULERS);
	if (r->swap != NULL)
		g_assert_cmpuint(r->swap->n_devices, <=, VT_REPORT_MAX_SWAP_DEVICES);
	packed = vt_message_pack(&r->base, TRUE, &error);
	g_assert_no_error(error);
}

/* The report as canonical JSON, minus what differs from run to run. */
char *
stable_json(VtReport *r)
{
	g_autoptr(GError) error = NULL;
	char *text;

	r->has_collected_at_ms = FALSE;
	r->has_monotonic_ms = FALSE;
	if (r->identity != NULL)
		g_clear_pointer(&r->identity->agent_version, g_free);
	text = vt_json_message_to_string(&r->base, TRUE, &error);
	g_assert_no_error(error);
	return text;
}

const VtSection *
find_section(const VtReport *r, const char *name)
{
	for (size_t i = 0; i < r->n_sections; i++)
		if (g_strcmp0(r->sections[i]->name, name) == 0)
			return r->sections[i];
	return NULL;
}

const VtNic *
find_nic(const VtReport *r, const char *name)
{
	for (size_t i = 0; i < r->n_nics; i++)
		if (g_strcmp0(r->nics[i]->name, name) == 0)
			return r->nics[i];
	return NULL;
}

const VtBlock *
find_block(const VtReport *r, const char *name)
{
	for (size_t i = 0; i < r->n_block; i++)
		if (g_strcmp0(r->block[i]->name, name) == 0)
			return r->block[i];
	return NULL;
}

guint64
report_meminfo(const VtReport *r, const char *key)
{
	for (size_t i = 0; i < r->n_meminfo; i++)
		if (strcmp(r->meminfo[i]->key, key) == 0)
			return r->meminfo[i]->value;
	g_assert_not_reached();
}

const char *
report_sysctl(const VtReport *r, const char *key)
{
	for (size_t i = 0; i < r->n_sysctl; i++)
		if (strcmp(r->sysctl[i]->key, key) == 0)
			return r->sysctl[i]->value;
	return NULL;
}

gboolean
nic_feature(const VtNic *nic, const char *name, gboolean *fixed)
{
	for (size_t i = 0; i < nic->n_features; i++)
		if (strcmp(nic->features[i]->name, name) == 0) {
			*fixed = nic->features[i]->fixed;
			return nic->features[i]->active;
		}
	g_assert_not_reached();
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
put(const char *root, const char *rel, const char *data, gssize len)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	gsize n = len < 0 ? strlen(data) : (gsize)len;
	int fd;

	/* plain writes: g_file_set_contents() would fsync each of thousands of files */
	g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, n), ==, (gssize)n);
	close(fd);
}

/* Rewrites in place (same inode), as the kernel's files change under an open fd. */
void
overwrite(const char *root, const char *rel, const char *data)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, strlen(data)), ==, (gssize)strlen(data));
	close(fd);
}

void
copy_tree(const char *from, const char *to)
{
	g_autoptr(GDir) dir = g_dir_open(from, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	g_assert_cmpint(g_mkdir_with_parents(to, 0755), ==, 0);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *src = g_build_filename(from, name, NULL);
		g_autofree char *dst = g_build_filename(to, name, NULL);

		if (g_file_test(src, G_FILE_TEST_IS_SYMLINK)) {
			g_autofree char *target = g_file_read_link(src, NULL);
			g_assert_cmpint(symlink(target, dst), ==, 0);
		} else if (g_file_test(src, G_FILE_TEST_IS_DIR)) {
			copy_tree(src, dst);
		} else {
			g_autofree char *data = NULL;
			gsize len;
			g_assert_true(g_file_get_contents(src, &data, &len, NULL));
			put(to, name, data, (gssize)len);
		}
	}
}

void
disk(const char *root, const char *name, const char *dev, const char *scheduler)
{
	static const char stat[] = "     100        0     800       10        5        0       40 "
				   "       2        0       12       12        0        0        0 "
				   "       0        1        0\n";
	g_autofree char *p = NULL;

#define PUT(rel, text)                                                                             \
	do {                                                                                       \
		g_free(p);                                                                         \
		p = g_strdup_printf("sys/block/%s/%s", name, rel);                                 \
		put(root, p, text, -1);                                                            \
	} while (0)
	PUT("dev", dev);
	PUT("size", "2097152\n");
	PUT("stat", stat);
	PUT("queue/scheduler", scheduler);
	PUT("queue/nr_requests", "256\n");
	PUT("queue/read_ahead_kb", "128\n");
	PUT("queue/rotational", "1\n");
	PUT("queue/max_sectors_kb", "1280\n");
	PUT("queue/discard_max_bytes", "0\n");
#undef PUT
}
