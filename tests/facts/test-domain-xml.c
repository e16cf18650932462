/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain XML parser: what it reads from libvirt's XML and what it refuses. */
#include <string.h>

#include <glib.h>

#include "bounds.h"
#include "domain.h"
#include "error.h"
#include "facts-test.h"

/* ------------------------------------------------------------ XML */

static void
test_xml_virtio(void)
{
	g_autoptr(VtDomainFacts) f = vt_facts_test_xml("virtio-mq.xml");
	const VtChannelFacts *ch;

	g_assert_cmpstr(f->name, ==, "db1");
	g_assert_cmpstr(f->uuid, ==, "8f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b");
	g_assert_cmpstr(f->type, ==, "kvm");
	g_assert_cmpuint(f->vcpus_max, ==, 8);
	g_assert_cmpuint(f->vcpus_current, ==, 4);
	g_assert_cmpstr(f->cpu_mode, ==, "host-passthrough");
	g_assert_cmpuint(f->numa_cells, ==, 2);
	g_assert_cmpuint(f->vcpupins, ==, 4);
	g_assert_true(f->has_emulatorpin);
	g_assert_true(f->has_numatune);
	g_assert_cmpuint(f->memory_bytes, ==, 16 * VT_GIB);
	g_assert_cmpuint(f->current_memory_bytes, ==, 12 * VT_GIB);
	g_assert_true(f->hugepages);
	g_assert_cmpstr(f->balloon_model, ==, "virtio");
	g_assert_cmpuint(f->balloon_period, ==, 5);

	g_assert_cmpuint(f->disks->len, ==, 3);
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->type, ==, "block");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->device, ==, "disk");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->bus, ==, "virtio");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->target_dev, ==, "vdb");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->cache, ==, "none");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->io, ==, "native");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->format, ==, "raw");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->driver_name, ==, "qemu");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->serial, ==, "db1-data-0123456789abcdef");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->source, ==, "/dev/vg0/db1-data");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->address.type, ==, "pci");
	g_assert_cmpuint(vt_facts_test_disk(f, 0)->address.bus, ==, 5);
	g_assert_cmpstr(vt_facts_test_disk(f, 1)->cache, ==, "writeback");
	g_assert_cmpstr(vt_facts_test_disk(f, 1)->io, ==, "threads");
	g_assert_cmpstr(vt_facts_test_disk(f, 1)->format, ==, "qcow2");
	g_assert_cmpstr(vt_facts_test_disk(f, 1)->source, ==, "/var/lib/libvirt/images/db1.qcow2");
	g_assert_cmpstr(vt_facts_test_disk(f, 2)->type, ==, "network");
	g_assert_cmpstr(vt_facts_test_disk(f, 2)->source, ==, "pool/db1-logs");
	g_assert_cmpstr(vt_facts_test_disk(f, 2)->bus, ==, "scsi");
	g_assert_cmpstr(vt_facts_test_disk(f, 2)->address.type, ==, "drive");
	g_assert_cmpuint(vt_facts_test_disk(f, 2)->address.unit, ==, 2);
	g_assert_cmpstr(vt_domain_facts_controller(f, "scsi", 0)->model, ==, "virtio-scsi");
	g_assert_null(vt_domain_facts_controller(f, "scsi", 1));

	g_assert_cmpuint(f->ifaces->len, ==, 2);
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->type, ==, "bridge");
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->mac, ==, "52:54:00:ab:cd:ef"); /* lower-cased */
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->model, ==, "virtio");
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->driver_name, ==, "vhost");
	g_assert_cmpuint(vt_facts_test_iface(f, 0)->queues, ==, 4);
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->target_dev, ==, "vnet7");
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->source, ==, "br0");
	g_assert_cmpstr(vt_facts_test_iface(f, 1)->model, ==, "virtio-non-transitional");
	g_assert_cmpuint(vt_facts_test_iface(f, 1)->queues, ==, 0);
	g_assert_cmpstr(vt_facts_test_iface(f, 1)->source, ==, "backup");

	g_assert_cmpuint(f->channels->len, ==, 2);
	ch = vt_domain_facts_agent_channel(f);
	g_assert_nonnull(ch);
	g_assert_cmpstr(ch->source_path, ==,
			"/var/lib/libvirt/qemu/channel/target/domain-12-db1/org.virttune.agent.0");
	g_assert_cmpstr(ch->source_mode, ==, "bind");
	g_assert_cmpstr(ch->target_state, ==, "connected");
	g_assert_true(vt_domain_facts_agent_connected(f));
}

static void
test_xml_legacy(void)
{
	g_autoptr(VtDomainFacts) f = vt_facts_test_xml("legacy.xml");

	g_assert_cmpstr(f->type, ==, "qemu");
	g_assert_cmpuint(f->vcpus_max, ==, 1);
	g_assert_cmpuint(f->vcpus_current, ==, 1);
	g_assert_null(f->cpu_mode);
	g_assert_cmpuint(f->memory_bytes, ==, 2 * VT_GIB);
	g_assert_cmpuint(f->current_memory_bytes, ==, 2 * VT_GIB); /* absent: = memory */
	g_assert_false(f->hugepages);
	g_assert_cmpuint(f->numa_cells, ==, 0);
	g_assert_cmpuint(f->vcpupins, ==, 0);
	g_assert_cmpstr(f->balloon_model, ==, "virtio");
	g_assert_cmpuint(f->balloon_period, ==, 0);
	g_assert_cmpuint(f->disks->len, ==, 3);
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->bus, ==, "ide");
	g_assert_cmpstr(vt_facts_test_disk(f, 0)->cache, ==, "unsafe");
	g_assert_null(vt_facts_test_disk(f, 0)->io);
	g_assert_cmpstr(vt_facts_test_disk(f, 1)->bus, ==, "sata");
	g_assert_null(vt_facts_test_disk(f, 1)->cache);
	g_assert_null(vt_facts_test_disk(f, 1)->address.type);
	g_assert_cmpstr(vt_facts_test_disk(f, 2)->device, ==, "cdrom");
	g_assert_true(vt_facts_test_disk(f, 2)->readonly);
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->type, ==, "user");
	g_assert_cmpstr(vt_facts_test_iface(f, 0)->model, ==, "e1000");
	g_assert_null(vt_facts_test_iface(f, 1)->model);
	g_assert_null(vt_facts_test_iface(f, 1)->driver_name);
	/* inactive XML: no path chosen yet, no state */
	g_assert_nonnull(vt_domain_facts_agent_channel(f));
	g_assert_null(vt_domain_facts_agent_channel(f)->source_path);
	g_assert_false(vt_domain_facts_agent_connected(f));
}

static void
test_xml_units(void)
{
	static const struct {
		const char *value, *unit;
		guint64 bytes;
	} ok[] = {
		{"1", "b", 1},
		{"1", "bytes", 1},
		{"2", NULL, 2048},
		{"2", "k", 2048},
		{"2", "KiB", 2048},
		{"2", "KB", 2000},
		{"3", "M", 3 * 1024 * 1024},
		{"3", "MB", 3000000},
		{"1", "GiB", VT_GIB},
		{"1", "gib", VT_GIB},
		{"1", "T", 1024 * VT_GIB},
	};
	guint64 v;

	for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_true(vt_parse_memory_amount(ok[i].value, ok[i].unit, &v, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(v, ==, ok[i].bytes);
	}
	g_assert_false(vt_parse_memory_amount("1", "parsec", &v, NULL));
	g_assert_false(vt_parse_memory_amount("-1", "KiB", &v, NULL));
	g_assert_false(vt_parse_memory_amount("12abc", "KiB", &v, NULL));
	g_assert_false(vt_parse_memory_amount("18446744073709551615", "KiB", &v, NULL));
	g_assert_true(vt_parse_memory_amount("18014398509481983", "KiB", &v, NULL));
	g_assert_false(vt_parse_memory_amount("18014398509481984", "KiB", &v, NULL));
}

/* As written by hand, read as `virsh dumpxml` shows it. */
static void
test_xml_libvirt_defaults(void)
{
	static const char xml[] = "<domain type='kvm'><name>web1</name><vcpu>2</vcpu>"
				  "<os><type arch='x86_64'>hvm</type></os><devices>"
				  "<disk type='file' device='disk'><target dev='vda'/></disk>"
				  "<disk type='file' device='disk'><target dev='sdb'/></disk>"
				  "<disk type='file' device='cdrom'><target dev='hdc'/></disk>"
				  "<disk type='file' device='disk'><target dev='nvme0n1'/></disk>"
				  "<interface type='network'><model type='ViRtIo'/></interface>"
				  "</devices></domain>";
	static const char none[] = "<domain type='kvm'><name>web2</name><devices>"
				   "<memballoon model='none'/></devices></domain>";
	static const char *const buses[] = {"virtio", "scsi", "ide", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(VtDomainFacts) f = vt_domain_facts_parse(xml, -1, &error);
	g_autoptr(VtDomainFacts) g = NULL;

	g_assert_no_error(error);
	g_assert_cmpuint(f->disks->len, ==, 4);
	for (guint i = 0; i < f->disks->len; i++)
		g_assert_cmpstr(((VtDiskFacts *)f->disks->pdata[i])->bus, ==, buses[i]);
	g_assert_cmpstr(((VtIfaceFacts *)f->ifaces->pdata[0])->model, ==, "virtio");
	/* no <memballoon>: QEMU on x86 gets a virtio balloon */
	g_assert_cmpstr(f->balloon_model, ==, "virtio");

	g = vt_domain_facts_parse(none, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g->balloon_model, ==, "none");
}

static void
expect_xml_error(const char *xml, gssize len, gint code, const char *needle)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtDomainFacts) f = vt_domain_facts_parse(xml, len, &error);

	g_assert_null(f);
	g_assert_error(error, VT_ERROR, code);
	if (strstr(error->message, needle) == NULL)
		g_error("'%s' does not mention '%s'", error->message, needle);
}

static void
test_xml_hostile(void)
{
	g_autoptr(GString) deep = g_string_new("<domain>");
	g_autoptr(GString) disks = g_string_new("<domain><devices>");
	g_autoptr(GString) text = g_string_new("<domain><name>");
	g_autoptr(GString) huge = g_string_new("<domain>");
	g_autoptr(GString) ok_depth = g_string_new("<domain>");

	/* depth: exactly the bound passes, one more fails */
	for (guint i = 1; i < VT_DOMAIN_XML_MAX_DEPTH; i++)
		g_string_append(ok_depth, "<x>");
	for (guint i = 1; i < VT_DOMAIN_XML_MAX_DEPTH; i++)
		g_string_append(ok_depth, "</x>");
	g_string_append(ok_depth, "</domain>");
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(VtDomainFacts) f = vt_domain_facts_parse(ok_depth->str, -1, &error);
		g_assert_no_error(error);
		g_assert_nonnull(f);
	}
	for (guint i = 0; i < VT_DOMAIN_XML_MAX_DEPTH; i++)
		g_string_append(deep, "<x>");
	expect_xml_error(deep->str, -1, VT_ERROR_TOO_LARGE, "nested deeper");

	for (guint i = 0; i <= VT_DOMAIN_MAX_DISKS; i++)
		g_string_append(disks, "<disk><target dev='vda' bus='virtio'/></disk>");
	g_string_append(disks, "</devices></domain>");
	expect_xml_error(disks->str, -1, VT_ERROR_TOO_LARGE, "<disk>s");

	for (guint i = 0; i <= VT_DOMAIN_MAX_TEXT; i++)
		g_string_append_c(text, 'a');
	g_string_append(text, "</name></domain>");
	expect_xml_error(text->str, -1, VT_ERROR_TOO_LARGE, "text longer");

	while (huge->len <= VT_DOMAIN_XML_MAX)
		g_string_append(huge, "<!-- padding padding padding padding padding -->");
	expect_xml_error(huge->str, (gssize)huge->len, VT_ERROR_TOO_LARGE, "more than");

	expect_xml_error("<network><name>x</name></network>", -1, VT_ERROR_INVALID, "<network>");
	expect_xml_error("<domain><vcpu>many</vcpu></domain>", -1, VT_ERROR_INVALID, "<vcpu>");
	expect_xml_error("<domain><vcpu>99999999</vcpu></domain>", -1, VT_ERROR_INVALID, "<vcpu>");
	expect_xml_error("<domain><memory unit='parsec'>1</memory></domain>", -1, VT_ERROR_INVALID,
			 "<memory>");
	expect_xml_error("<domain><devices><interface><driver queues='x'/></interface>"
			 "</devices></domain>",
			 -1, VT_ERROR_INVALID, "queues");
	expect_xml_error("<domain><name>x</domain>", -1, VT_ERROR_INVALID, "line");
	expect_xml_error("", 0, VT_ERROR_INVALID, "");
	/* no entity expansion, no external entities: an undefined entity is an error */
	expect_xml_error("<!DOCTYPE d [<!ENTITY a 'aaaa'>]><domain><name>&a;</name></domain>", -1,
			 VT_ERROR_INVALID, "line");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/facts/xml/virtio", test_xml_virtio);
	g_test_add_func("/facts/xml/legacy", test_xml_legacy);
	g_test_add_func("/facts/xml/units", test_xml_units);
	g_test_add_func("/facts/xml/hostile", test_xml_hostile);
	g_test_add_func("/facts/xml/libvirt-defaults", test_xml_libvirt_defaults);
	return g_test_run();
}
