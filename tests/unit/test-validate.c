/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "bounds.h"
#include "error.h"
#include "message.h"
#include "validate.h"

static void
assert_invalid(const ProtobufCMessage *msg, const char *reason, const char *path_prefix)
{
	g_autoptr(GError) error = NULL;
	const char *got = NULL;
	int want = g_str_equal(reason, "utf8") || g_str_equal(reason, "number") ||
				   g_str_equal(reason, "duplicate") || g_str_equal(reason, "key") ||
				   g_str_equal(reason, "field")
			   ? VT_ERROR_INVALID
			   : VT_ERROR_TOO_LARGE;

	g_assert_false(vt_validate_message(msg, &got, &error));
	g_assert_error(error, VT_ERROR, want);
	g_assert_cmpstr(got, ==, reason);
	if (!g_str_has_prefix(error->message, path_prefix))
		g_error("error '%s' does not start with '%s'", error->message, path_prefix);
}

static void
assert_valid(const ProtobufCMessage *msg)
{
	g_autoptr(GError) error = NULL;
	const char *reason = "unset";

	g_assert_true(vt_validate_message(msg, &reason, &error));
	g_assert_no_error(error);
	g_assert_null(reason);
}

/* Each list bound, at its edge and one past it. */
static void
test_count_edges(void)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	g_autofree VtBlock **blocks = g_new0(VtBlock *, VT_REPORT_MAX_BLOCK + 1);
	g_autofree VtBlock *block_storage = g_new0(VtBlock, VT_REPORT_MAX_BLOCK + 1);
	VtNic nic = VIRTTUNE__V1__NIC__INIT;
	VtNic *nics[] = {&nic};
	g_autofree VtFeature **features = g_new0(VtFeature *, VT_REPORT_MAX_FEATURES + 1);
	g_autofree VtFeature *feature_storage = g_new0(VtFeature, VT_REPORT_MAX_FEATURES + 1);
	g_autofree VtReportMeminfoEntry **mem =
		g_new0(VtReportMeminfoEntry *, VT_REPORT_MAX_MAP_ENTRIES + 1);
	g_autofree VtReportMeminfoEntry *mem_storage =
		g_new0(VtReportMeminfoEntry, VT_REPORT_MAX_MAP_ENTRIES + 1);

	for (guint i = 0; i <= VT_REPORT_MAX_BLOCK; i++) {
		virttune__v1__block__init(&block_storage[i]);
		blocks[i] = &block_storage[i];
	}
	for (guint i = 0; i <= VT_REPORT_MAX_FEATURES; i++) {
		virttune__v1__feature__init(&feature_storage[i]);
		features[i] = &feature_storage[i];
	}
	for (guint i = 0; i <= VT_REPORT_MAX_MAP_ENTRIES; i++) {
		virttune__v1__report__meminfo_entry__init(&mem_storage[i]);
		mem_storage[i].key = (char *)"MemTotal";
		mem[i] = &mem_storage[i];
	}

	report.block = blocks;
	report.n_block = VT_REPORT_MAX_BLOCK;
	assert_valid(&report.base);
	report.n_block = VT_REPORT_MAX_BLOCK + 1;
	assert_invalid(&report.base, "count", "block: 129 entries");
	report.n_block = 0;

	report.nics = nics;
	report.n_nics = 1;
	nic.features = features;
	nic.n_features = VT_REPORT_MAX_FEATURES;
	assert_valid(&report.base);
	nic.n_features = VT_REPORT_MAX_FEATURES + 1;
	assert_invalid(&report.base, "count", "nics[0].features:");
	nic.n_features = 0;

	report.meminfo = mem;
	report.n_meminfo = VT_REPORT_MAX_MAP_ENTRIES;
	assert_valid(&report.base);
	report.n_meminfo = VT_REPORT_MAX_MAP_ENTRIES + 1;
	assert_invalid(&report.base, "count", "meminfo:");
}

static void
test_string_edges(void)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	VtNic nic = VIRTTUNE__V1__NIC__INIT;
	VtNic *nics[] = {&nic};
	g_autofree char *name = g_malloc(VT_STRING_MAX + 2);
	char bad[] = {'e', 't', 'h', (char)0xc3, 0};

	memset(name, 'n', VT_STRING_MAX + 1);
	name[VT_STRING_MAX] = '\0';
	report.nics = nics;
	report.n_nics = 1;
	nic.name = name;
	assert_valid(&report.base);
	name[VT_STRING_MAX] = 'n';
	name[VT_STRING_MAX + 1] = '\0';
	assert_invalid(&report.base, "string", "nics[0].name: string longer than 256");
	nic.name = bad;
	assert_invalid(&report.base, "utf8", "nics[0].name: invalid UTF-8");
}

static void
test_numbers(void)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	VtCpu cpu = VIRTTUNE__V1__CPU__INIT;
	VtReportVmstatEntry e = VIRTTUNE__V1__REPORT__VMSTAT_ENTRY__INIT;
	VtReportVmstatEntry *entries[] = {&e};

	report.cpu = &cpu;
	cpu.has_loadavg_1 = TRUE;
	cpu.loadavg_1 = 1.0 / 0.0;
	assert_invalid(&report.base, "number", "cpu.loadavg_1");
	cpu.loadavg_1 = 0.5;
	cpu.has_total_ticks = TRUE;
	cpu.total_ticks = (uint64_t)G_MAXINT64;
	assert_valid(&report.base);
	cpu.total_ticks = (uint64_t)G_MAXINT64 + 1;
	assert_invalid(&report.base, "number", "cpu.total_ticks");
	cpu.has_total_ticks = FALSE;

	/* an unset field is not checked, whatever it holds */
	cpu.has_steal_ticks = FALSE;
	cpu.steal_ticks = G_MAXUINT64;
	assert_valid(&report.base);

	report.vmstat = entries;
	report.n_vmstat = 1;
	e.key = (char *)"oom_kill";
	e.has_value = TRUE;
	e.value = G_MAXUINT64;
	assert_invalid(&report.base, "number", "vmstat[0].value");

	/* a packed map entry may leave its key out: readers would get NULL */
	e.value = 1;
	e.key = NULL;
	assert_invalid(&report.base, "key", "vmstat[0]: map entry without a key");
}

static void
test_envelope_oneof(void)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtHello hello = VIRTTUNE__V1__HELLO__INIT;
	char bad[] = {(char)0xff, 0};

	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	hello.agent_version = bad;
	assert_invalid(&env.base, "utf8", "hello.agent_version");
	hello.agent_version = (char *)"0.1.0";
	assert_valid(&env.base);
}

/* Two NICs or disks with one name would be two series and two ids. */
static void
test_unique_names(void)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	VtNic a = VIRTTUNE__V1__NIC__INIT, b = VIRTTUNE__V1__NIC__INIT;
	VtNic *nics[] = {&a, &b};
	VtBlock d1 = VIRTTUNE__V1__BLOCK__INIT, d2 = VIRTTUNE__V1__BLOCK__INIT;
	VtBlock *disks[] = {&d1, &d2};
	VtFeature f1 = VIRTTUNE__V1__FEATURE__INIT, f2 = VIRTTUNE__V1__FEATURE__INIT;
	VtFeature *features[] = {&f1, &f2};

	a.name = (char *)"eth0";
	b.name = (char *)"eth1";
	report.nics = nics;
	report.n_nics = 2;
	d1.name = (char *)"vda";
	d2.name = (char *)"vdb";
	report.block = disks;
	report.n_block = 2;
	assert_valid(&report.base);

	b.name = (char *)"eth0";
	assert_invalid(&report.base, "duplicate", "nics: name 'eth0' appears twice (entry 1)");
	b.name = (char *)"eth1";
	d2.name = (char *)"vda";
	assert_invalid(&report.base, "duplicate", "block: name 'vda' appears twice");
	d2.name = (char *)"vdb";

	f1.name = (char *)"rx-gro";
	f2.name = (char *)"rx-gro";
	a.features = features;
	a.n_features = 2;
	assert_invalid(&report.base, "duplicate", "nics[0].features: name 'rx-gro'");
	f2.name = (char *)"tx-checksumming";
	assert_valid(&report.base);
}

/* The longest list with unique names, full: every name is told apart, and a
 * duplicate of any entry is found wherever it is. */
static void
test_unique_full_list(void)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	VtNic nic = VIRTTUNE__V1__NIC__INIT;
	VtNic *nics[] = {&nic};
	g_autofree VtQueueInterrupts *irqs = g_new(VtQueueInterrupts, VT_REPORT_MAX_QUEUE_IRQS);
	g_autofree VtQueueInterrupts **ptrs = g_new(VtQueueInterrupts *, VT_REPORT_MAX_QUEUE_IRQS);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < VT_REPORT_MAX_QUEUE_IRQS; i++) {
		virttune__v1__queue_interrupts__init(&irqs[i]);
		g_ptr_array_add(names, g_strdup_printf("%s.%u", i % 2 ? "output" : "input", i / 2));
		irqs[i].queue = names->pdata[i];
		ptrs[i] = &irqs[i];
	}
	nic.name = (char *)"eth0";
	nic.queue_interrupts = ptrs;
	nic.n_queue_interrupts = VT_REPORT_MAX_QUEUE_IRQS;
	report.nics = nics;
	report.n_nics = 1;
	assert_valid(&report.base);
	irqs[VT_REPORT_MAX_QUEUE_IRQS - 1].queue = (char *)"input.0";
	assert_invalid(&report.base, "duplicate",
		       "nics[0].queue_interrupts: queue 'input.0' appears twice (entry 511)");
	irqs[VT_REPORT_MAX_QUEUE_IRQS - 1].queue = names->pdata[VT_REPORT_MAX_QUEUE_IRQS - 1];
	irqs[300].queue = (char *)"output.100";
	assert_invalid(&report.base, "duplicate", "nics[0].queue_interrupts: queue 'output.100'");
}

/* Unknown fields of numbers the wire cannot have (0, past 2^29 - 1), which
 * protobuf-c decodes but could not write back as they came. */
static void
test_unknown_field_numbers(void)
{
	/* Report.cpu (8) holding: field 2^29 - 1 (a valid number), then an
	 * unknown field whose tag varint says more */
	static const guint8 valid[] = {0x42, 0x07, 0xfa, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x78};
	static const guint8 huge[] = {0x42, 0x07, 0xfa, 0xff, 0xff, 0xff, 0x5f, 0x01, 0x78};
	static const guint8 zero[] = {0x42, 0x02, 0x00, 0x01};
	g_autoptr(VtReport) ok = (VtReport *)vt_message_unpack(&virttune__v1__report__descriptor,
							       valid, sizeof(valid), NULL);
	g_autoptr(VtReport) big = (VtReport *)vt_message_unpack(&virttune__v1__report__descriptor,
								huge, sizeof(huge), NULL);
	g_autoptr(VtReport) nul = (VtReport *)vt_message_unpack(&virttune__v1__report__descriptor,
								zero, sizeof(zero), NULL);

	g_assert_nonnull(ok);
	g_assert_cmpuint(ok->cpu->base.n_unknown_fields, ==, 1);
	assert_valid(&ok->base);
	/* protobuf-c takes them; the validation does not */
	if (big != NULL)
		assert_invalid(&big->base, "field", "cpu: a field numbered");
	if (nul != NULL)
		assert_invalid(&nul->base, "field", "cpu: a field numbered 0");
	g_assert_true(big != NULL || nul != NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/validate/unknown-field-numbers", test_unknown_field_numbers);
	g_test_add_func("/validate/count-edges", test_count_edges);
	g_test_add_func("/validate/string-edges", test_string_edges);
	g_test_add_func("/validate/numbers", test_numbers);
	g_test_add_func("/validate/envelope-oneof", test_envelope_oneof);
	g_test_add_func("/validate/unique-names", test_unique_names);
	g_test_add_func("/validate/unique-full-list", test_unique_full_list);
	return g_test_run();
}
