/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "facts-test.h"

char *
vt_facts_test_path(const char *name)
{
	const char *dir = g_getenv("VT_TEST_DATA");

	g_assert_nonnull(dir);
	return g_build_filename(dir, "facts", name, NULL);
}

VtDomainFacts *
vt_facts_test_xml(const char *name)
{
	g_autofree char *path = vt_facts_test_path(name);
	g_autoptr(GError) error = NULL;
	VtDomainFacts *f = vt_domain_facts_load(path, &error);

	g_assert_no_error(error);
	g_assert_nonnull(f);
	return f;
}

const VtDiskFacts *
vt_facts_test_disk(const VtDomainFacts *f, guint i)
{
	g_assert_cmpuint(i, <, f->disks->len);
	return f->disks->pdata[i];
}

const VtIfaceFacts *
vt_facts_test_iface(const VtDomainFacts *f, guint i)
{
	g_assert_cmpuint(i, <, f->ifaces->len);
	return f->ifaces->pdata[i];
}
