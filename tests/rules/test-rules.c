/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rules: every fixture set under tests/data/rules/<case>/ goes through the
 * library and through the real `virt-tune analyze` binary; both must print
 * expected.json (rewritten with VT_TEST_REGENERATE=1) and exactly the ids of
 * ids.txt (hand-written, never regenerated).
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "error.h"
#include "json.h"
#include "report.h"
#include "rules.h"

static const char *
data_dir(void)
{
	const char *dir = g_getenv("VT_TEST_DATA");

	g_assert_nonnull(dir);
	return dir;
}

static char *
case_file(const char *name, const char *file)
{
	return g_build_filename(data_dir(), "rules", name, file, NULL);
}

static char *
binary_path(void)
{
	const char *root = g_getenv("VT_BUILD_ROOT");

	g_assert_nonnull(root);
	return g_build_filename(root, "host", "cli", "virt-tune", NULL);
}

static gboolean
regenerate(void)
{
	return g_strcmp0(g_getenv("VT_TEST_REGENERATE"), "1") == 0;
}

/* ------------------------------------------------------------ library */

static VtAnalysis *
analyze_case(const char *name)
{
	g_autofree char *report_path = case_file(name, "report.json");
	g_autofree char *previous_path = case_file(name, "previous.json");
	g_autofree char *xml_path = case_file(name, "domain.xml");
	g_autofree char *stats_path = case_file(name, "domstats.txt");
	g_autofree char *prev_stats_path = case_file(name, "previous-domstats.txt");
	g_autofree char *caps_path = case_file(name, "capabilities.xml");
	g_autofree char *config_path = case_file(name, "config.ini");
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) report = vt_report_load(report_path, &error);
	g_autoptr(VtReport) previous = NULL;
	g_autoptr(VtDomainFacts) facts = NULL;
	g_autoptr(GPtrArray) stats = NULL;
	g_autoptr(GPtrArray) prev_stats = NULL;
	g_autoptr(VtHostCaps) caps = NULL;
	g_autoptr(VtRulesConfig) config = NULL;
	VtRuleInput in = {0};
	g_auto(VtRates) rates = {0};

	g_assert_no_error(error);
	if (g_file_test(previous_path, G_FILE_TEST_EXISTS)) {
		previous = vt_report_load(previous_path, &error);
		g_assert_no_error(error);
	}
	if (g_file_test(xml_path, G_FILE_TEST_EXISTS)) {
		facts = vt_domain_facts_load(xml_path, &error);
		g_assert_no_error(error);
	}
	if (g_file_test(stats_path, G_FILE_TEST_EXISTS)) {
		stats = vt_domstats_load(stats_path, &error);
		g_assert_no_error(error);
	}
	if (g_file_test(prev_stats_path, G_FILE_TEST_EXISTS)) {
		prev_stats = vt_domstats_load(prev_stats_path, &error);
		g_assert_no_error(error);
	}
	if (g_file_test(caps_path, G_FILE_TEST_EXISTS)) {
		caps = vt_host_caps_load(caps_path, &error);
		g_assert_no_error(error);
	}
	if (g_file_test(config_path, G_FILE_TEST_EXISTS)) {
		config = vt_rules_config_load(config_path, NULL, &error);
		g_assert_no_error(error);
	}
	in.report = report;
	in.previous = previous;
	in.facts = facts;
	in.stats = stats ? vt_domstats_find(stats, NULL) : NULL;
	in.caps = caps;
	vt_rates_compute(&rates, previous, report,
			 prev_stats ? vt_domstats_find(prev_stats, NULL) : NULL, in.stats, 0,
			 facts);
	in.rates = &rates;
	return vt_rules_run(&in, config);
}

static char *
analysis_text(const VtAnalysis *a)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = vt_analysis_to_json(a, &error);

	g_assert_no_error(error);
	return vt_json_node_to_string(node, TRUE);
}

static void
check_ids(const char *name, const VtAnalysis *a)
{
	g_autofree char *path = case_file(name, "ids.txt");
	g_autofree char *text = NULL;
	g_autoptr(GString) got = g_string_new(NULL);

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	for (guint i = 0; i < a->recommendations->len; i++)
		g_string_append_printf(got, "%s\n",
				       ((VtRecommendation *)a->recommendations->pdata[i])->id);
	g_assert_cmpstr(got->str, ==, text);
}

static void
check_expected(const char *name, const char *output)
{
	g_autofree char *path = case_file(name, "expected.json");
	g_autofree char *expected = NULL;
	g_autoptr(GError) error = NULL;

	if (regenerate()) {
		g_assert_true(g_file_set_contents(path, output, -1, &error));
		g_assert_no_error(error);
		return;
	}
	g_assert_true(g_file_get_contents(path, &expected, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(output, ==, expected);
}

static void
test_case_library(gconstpointer data)
{
	const char *name = data;
	g_autoptr(VtAnalysis) a = analyze_case(name);
	g_autofree char *text = analysis_text(a);
	g_autoptr(VtAnalysis) again = analyze_case(name);
	g_autofree char *text2 = analysis_text(again);

	check_ids(name, a);
	check_expected(name, text);
	g_assert_cmpstr(text, ==, text2); /* deterministic */
	for (guint i = 0; i < a->recommendations->len; i++) {
		const VtRecommendation *r = a->recommendations->pdata[i];
		/* guest targets carry a typed action, host targets none; all explain */
		g_assert_true((r->target == VT_TARGET_GUEST) == (r->action != NULL));
		g_assert_nonnull(r->command);
		g_assert_cmpuint(strlen(r->rationale), >, 80);
		g_assert_nonnull(r->evidence);
	}
}

/* ------------------------------------------------------------ binary */

static int
run_analyze(const char *const *extra, char **out, char **err)
{
	g_autofree char *bin = binary_path();
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	int status = 0;

	g_ptr_array_add(argv, bin);
	g_ptr_array_add(argv, (char *)"analyze");
	for (guint i = 0; extra[i] != NULL; i++)
		g_ptr_array_add(argv, (char *)extra[i]);
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   out, err, &status, &error));
	g_assert_no_error(error);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* argv for a case: --report R [--previous-report P] [--domain-xml X] … */
static GPtrArray *
case_args(const char *name, const char *report)
{
	static const struct {
		const char *file, *option;
	} optional[] = {
		{"previous.json", "--previous-report"},
		{"domain.xml", "--domain-xml"},
		{"domstats.txt", "--domstats"},
		{"previous-domstats.txt", "--previous-domstats"},
		{"capabilities.xml", "--capabilities"},
		{"config.ini", "--config"},
	};
	GPtrArray *args = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(args, g_strdup("--report"));
	g_ptr_array_add(args, report ? g_strdup(report) : case_file(name, "report.json"));
	for (gsize i = 0; i < G_N_ELEMENTS(optional); i++) {
		char *path = case_file(name, optional[i].file);
		if (g_file_test(path, G_FILE_TEST_EXISTS)) {
			g_ptr_array_add(args, g_strdup(optional[i].option));
			g_ptr_array_add(args, path);
		} else {
			g_free(path);
		}
	}
	return args;
}

static void
test_case_binary(gconstpointer data)
{
	const char *name = data;
	g_autoptr(GPtrArray) args = case_args(name, NULL);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *table = NULL;
	g_autofree char *expected_path = case_file(name, "expected.json");
	g_autofree char *expected = NULL;
	g_auto(GStrv) lines = NULL;

	g_ptr_array_add(args, g_strdup("--format"));
	g_ptr_array_add(args, g_strdup("json"));
	g_ptr_array_add(args, NULL);
	g_assert_cmpint(run_analyze((const char *const *)args->pdata, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	if (regenerate())
		return; /* the library test writes expected.json */
	g_assert_true(g_file_get_contents(expected_path, &expected, NULL, NULL));
	g_assert_cmpstr(out, ==, expected);

	/* the table form fits 100 columns */
	g_ptr_array_set_size(args, args->len - 3);
	g_ptr_array_add(args, NULL);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(run_analyze((const char *const *)args->pdata, &out, &err), ==, 0);
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		g_assert_cmpuint(g_utf8_strlen(lines[i], -1), <=, 100);
}

/* The same case with the report as packed protobuf gives the same output. */
static void
test_case_protobuf(gconstpointer data)
{
	const char *name = data;
	g_autofree char *json_path = case_file(name, "report.json");
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) report = vt_report_load(json_path, &error);
	g_autoptr(GBytes) pb = NULL;
	g_autofree char *tmp = NULL;
	g_autoptr(GPtrArray) args = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *expected_path = case_file(name, "expected.json");
	g_autofree char *expected = NULL;
	gsize len;
	const void *bytes;
	int fd;

	if (regenerate()) {
		g_test_skip("regenerating");
		return;
	}
	g_assert_no_error(error);
	pb = vt_message_pack(&report->base, FALSE, &error);
	g_assert_no_error(error);
	fd = g_file_open_tmp("vt-report-XXXXXX.pb", &tmp, &error);
	g_assert_no_error(error);
	close(fd);
	bytes = g_bytes_get_data(pb, &len);
	g_assert_true(g_file_set_contents(tmp, bytes, (gssize)len, &error));
	args = case_args(name, tmp);
	g_ptr_array_add(args, g_strdup("--format=json"));
	g_ptr_array_add(args, NULL);
	g_assert_cmpint(run_analyze((const char *const *)args->pdata, &out, &err), ==, 0);
	g_unlink(tmp);
	g_assert_true(g_file_get_contents(expected_path, &expected, NULL, NULL));
	g_assert_cmpstr(out, ==, expected);
}

/* ------------------------------------------------------------ actions */

static const VtRecommendation *
only(const VtAnalysis *a)
{
	g_assert_cmpuint(a->recommendations->len, ==, 1);
	return a->recommendations->pdata[0];
}

static void
test_actions(void)
{
	g_autoptr(VtAnalysis) q = analyze_case("nic-queues-positive");
	g_autoptr(VtAnalysis) qe = analyze_case("nic-queues-edge");
	g_autoptr(VtAnalysis) off = analyze_case("nic-offload-positive");
	g_autoptr(VtAnalysis) sched = analyze_case("blk-scheduler-positive");
	g_autoptr(VtAnalysis) rot = analyze_case("blk-scheduler-edge");
	g_autoptr(VtAnalysis) swp = analyze_case("mem-swappiness-positive");
	g_autoptr(VtAnalysis) role = analyze_case("mem-swappiness-role");
	const VtRecommendation *r;

	r = only(q);
	g_assert_cmpint(r->action->kind_case, ==, VIRTTUNE__V1__ACTION__KIND_SET_CHANNELS);
	g_assert_cmpstr(r->action->set_channels->iface, ==, "eth0");
	g_assert_cmpuint(r->action->set_channels->combined, ==, 2);
	g_assert_cmpstr(r->command, ==, "ethtool -L eth0 combined 2");
	g_assert_cmpuint(only(qe)->action->set_channels->combined, ==, 4);

	r = only(off);
	g_assert_cmpint(r->action->kind_case, ==, VIRTTUNE__V1__ACTION__KIND_SET_FEATURE);
	g_assert_cmpstr(r->action->set_feature->feature, ==, "rx-gro");
	g_assert_true(r->action->set_feature->on);
	g_assert_cmpstr(r->command, ==, "ethtool -K eth0 rx-gro on");

	r = only(sched);
	g_assert_cmpstr(r->action->set_scheduler->device, ==, "vdb");
	g_assert_cmpstr(r->action->set_scheduler->name, ==, "none");
	g_assert_cmpstr(r->command, ==, "echo none > /sys/block/vdb/queue/scheduler");
	g_assert_cmpstr(only(rot)->action->set_scheduler->name, ==, "mq-deadline");

	r = only(swp);
	g_assert_cmpstr(r->action->set_sysctl->key, ==, "vm.swappiness");
	g_assert_cmpstr(r->action->set_sysctl->value, ==, "30");
	g_assert_cmpstr(r->command, ==, "sysctl -w vm.swappiness=30");
	g_assert_cmpstr(only(role)->action->set_sysctl->value, ==, "10");
}

static void
test_host_changes(void)
{
	g_autoptr(VtAnalysis) deflate = analyze_case("mem-swapping-positive");
	g_autoptr(VtAnalysis) grow = analyze_case("mem-swapping-grow");
	g_autoptr(VtAnalysis) mq = analyze_case("nic-mq-missing-positive");
	g_autoptr(VtAnalysis) bal = analyze_case("mem-balloon-stats-positive");
	g_autoptr(VtAnalysis) steal = analyze_case("cpu-steal-critical");
	g_autoptr(VtAnalysis) cache = analyze_case("blk-cache-positive");
	g_autoptr(VtAnalysis) wb = analyze_case("blk-cache-edge");

	g_assert_cmpstr(only(deflate)->command, ==, "virsh setmem web1 4194304K --live");
	g_assert_cmpint(only(deflate)->severity, ==, VT_SEVERITY_WARNING);
	/* 1200 pages/s, MemAvailable 150 MiB: critical, 4 GiB + 25% = 5 GiB */
	g_assert_cmpint(only(grow)->severity, ==, VT_SEVERITY_CRITICAL);
	g_assert_cmpstr(only(grow)->command, ==,
			"virsh setmaxmem web1 5242880K --config && virsh setmem web1 5242880K "
			"--config");
	g_assert_cmpstr(only(mq)->command, ==,
			"<interface type='network'><mac address='52:54:00:12:34:56'/>"
			"<driver queues='2'/></interface>");
	g_assert_cmpstr(only(bal)->command, ==,
			"virsh dommemstat web1 --period 10 --live --config");
	g_assert_cmpint(only(steal)->severity, ==, VT_SEVERITY_CRITICAL);
	g_assert_cmpint(only(cache)->severity, ==, VT_SEVERITY_WARNING);
	g_assert_cmpint(only(wb)->severity, ==, VT_SEVERITY_INFO);
	g_assert_nonnull(strstr(only(cache)->command, "cache='none' io='native'"));
	g_assert_nonnull(strstr(only(cache)->command, "web1-data.img"));
}

/* ------------------------------------------------------------ config */

static void
expect_config_error(const char *text, const char *needle)
{
	g_autoptr(VtRulesConfig) c = vt_rules_config_new();
	g_autoptr(GError) error = NULL;

	g_assert_false(vt_rules_config_load_data(c, text, strlen(text), "test.conf", NULL, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
	if (strstr(error->message, needle) == NULL ||
	    !g_str_has_prefix(error->message, "test.conf"))
		g_error("'%s' does not name the file and '%s'", error->message, needle);
}

/* Loads, and says exactly @warning about what it ignored. */
static void
expect_config_warning(const char *text, const char *warning)
{
	g_autoptr(VtRulesConfig) c = vt_rules_config_new();
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;

	g_assert_true(
		vt_rules_config_load_data(c, text, strlen(text), "test.conf", warnings, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_cmpstr(warnings->pdata[0], ==, warning);
}

static void
test_config(void)
{
	g_autoptr(VtRulesConfig) c = vt_rules_config_new();
	g_autoptr(GError) error = NULL;
	const char *key, *def, *doc;
	const char *ok =
		"# comment\n[rules]\nnic.queues.enable=false\n"
		"mem.swapping.warning_pages_per_s=0\nmem.swapping.critical_pages_per_s=1e9\n"
		"nic.offload.features=rx-gro; tx-tcp-segmentation\n";

	for (guint i = 0; i < vt_rules_count(); i++)
		g_assert_true(vt_rules_config_enabled(c, vt_rules_info(i)->name));
	g_assert_false(vt_rules_config_enabled(c, "no.such-rule"));
	g_assert_true(vt_rules_config_load_data(c, ok, strlen(ok), "ok.conf", NULL, &error));
	g_assert_no_error(error);
	g_assert_false(vt_rules_config_enabled(c, "nic.queues"));
	g_assert_true(vt_rules_config_enabled(c, "nic.model"));
	g_assert_true(vt_rules_config_load_data(c, "", 0, "empty.conf", NULL, &error));
	for (guint i = 0; vt_rules_config_param(i, &key, &def, &doc); i++) {
		/* every documented key is accepted with its default value */
		g_autofree char *line = g_strdup_printf("[rules]\n%s=%s\n", key, def);
		g_assert_true(
			vt_rules_config_load_data(c, line, strlen(line), "d.conf", NULL, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(strlen(doc), >, 10);
	}

	expect_config_warning(
		"[rules]\nnic.queues.threshold=3\n",
		"test.conf:2: unknown key 'nic.queues.threshold' in [rules], ignoring");
	expect_config_warning("[rulez]\nx=1\n", "test.conf:1: unknown group [rulez], ignoring");
	expect_config_error("[rules]\nnic.bogus.enable=false\n", "unknown rule 'nic.bogus'");
	expect_config_error("[rules]\nnic.queues.enable=no\n", "not true or false");
	expect_config_error("[rules]\nmem.swappiness.virtual-guest=201\n", "out of range");
	expect_config_error("[rules]\nmem.swappiness.virtual-guest=-1\n", "not a whole number");
	expect_config_error("[rules]\nmem.swappiness.virtual-guest=3x\n", "not a whole number");
	expect_config_error("[rules]\ncpu.steal.warning_pct=nan\n", "not a number");
	expect_config_error("[rules]\nmem.swappiness.role=desktop\n", "not one of");
	expect_config_error("[rules]\nnic.offload.features=rx-gro;$(reboot)\n", "list entry");
	expect_config_error("[rules]\ncpu.steal.warning_pct=50\n", "cpu.steal.critical_pct");
	expect_config_error("not a key file", "test.conf:1: expected key=value");
	expect_config_error("[rules]\nnic.queues.enable=\x1b[2J\n", "test.conf:2: a control");
	expect_config_error("[rules]\n\x7f\x45LF\x02\x01\x01", "test.conf:2: a control");
	expect_config_error("[rules]\ncpu.steal.warning_pct=50\n",
			    "test.conf:2: cpu.steal.critical_pct");
	expect_config_error("[rules]\ncpu.steal.critical_pct=1\n",
			    "test.conf:2: cpu.steal.critical_pct");
}

/* ------------------------------------------------------------ CLI errors */

static void
expect_cli_error(const char *const *args, const char *needle1, const char *needle2)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	g_assert_cmpint(run_analyze(args, &out, &err), ==, 2);
	g_assert_cmpstr(out, ==, "");
	if (strstr(err, needle1) == NULL || (needle2 && strstr(err, needle2) == NULL))
		g_error("stderr '%s' lacks '%s'/'%s'", err, needle1, needle2 ? needle2 : "");
}

static void
test_cli_errors(void)
{
	g_autofree char *dir = g_dir_make_tmp("vt-analyze-XXXXXX", NULL);
	g_autofree char *bad = g_build_filename(dir, "bad.json", NULL);
	g_autofree char *badxml = g_build_filename(dir, "bad.xml", NULL);
	g_autofree char *badconf = g_build_filename(dir, "bad.conf", NULL);
	g_autofree char *other = g_build_filename(dir, "other.txt", NULL);
	g_autofree char *good = case_file("healthy", "report.json");
	g_autofree char *stats = g_build_filename(data_dir(), "facts", "domstats.txt", NULL);
	g_autofree char *xml = case_file("healthy", "domain.xml");
	g_autofree char *healthy_stats = case_file("healthy", "domstats.txt");
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	g_assert_true(g_file_set_contents(bad, "{\"cpu\": {\"online\": \"two\"}}", -1, NULL));
	g_assert_true(g_file_set_contents(badxml, "<domain><vcpu>x</vcpu></domain>", -1, NULL));
	g_assert_true(g_file_set_contents(badconf, "[rules]\nmem.swapping.grow_pct=x\n", -1, NULL));
	g_assert_true(g_file_set_contents(other, "Domain: 'db2'\n  state.state=1\n", -1, NULL));

	expect_cli_error((const char *const[]){"--report", bad, NULL}, bad, "cpu.online");
	expect_cli_error((const char *const[]){"--report", "/nonexistent/r.json", NULL},
			 "/nonexistent/r.json", NULL);
	expect_cli_error((const char *const[]){"--report", good, "--domain-xml", badxml, NULL},
			 badxml, "<vcpu>");
	expect_cli_error((const char *const[]){"--report", good, "--config", badconf, NULL},
			 badconf, ":2: mem.swapping.grow_pct");
	/* a key it does not know is named, and ignored */
	g_assert_true(g_file_set_contents(badconf, "[rules]\nmem.swapping.typo=1\n", -1, NULL));
	g_assert_cmpint(
		run_analyze((const char *const[]){"--report", good, "--config", badconf, NULL},
			    &out, &err),
		==, 0);
	g_assert_nonnull(strstr(err, ":2: unknown key 'mem.swapping.typo' in [rules], ignoring"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	/* two domains, none named web1 -> which one? */
	expect_cli_error((const char *const[]){"--report", good, "--domstats", stats, NULL}, stats,
			 "2 domains");
	expect_cli_error((const char *const[]){"--report", good, "--domain-xml", xml, "--domstats",
					       other, NULL},
			 other, "holds domain 'db2'");
	/* previous domstats: only with --domstats, and of the same domain */
	expect_cli_error(
		(const char *const[]){"--report", good, "--previous-domstats", other, NULL},
		"--previous-domstats needs --domstats", NULL);
	expect_cli_error((const char *const[]){"--report", good, "--domain-xml", xml, "--domstats",
					       healthy_stats, "--previous-domstats", other, NULL},
			 other, "holds domain 'db2'");
	expect_cli_error((const char *const[]){"--report", good, "--capabilities", badxml, NULL},
			 badxml, NULL);
	expect_cli_error((const char *const[]){NULL}, "--report", NULL);
	expect_cli_error((const char *const[]){"--report", good, "--format", "yaml", NULL},
			 "table or json", NULL);
	expect_cli_error((const char *const[]){"--report", good, "extra", NULL}, "extra", NULL);

	g_assert_cmpint(run_analyze((const char *const[]){"--help", NULL}, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "--domstats"));

	g_unlink(bad);
	g_unlink(badxml);
	g_unlink(badconf);
	g_unlink(other);
	g_rmdir(dir);
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	g_autofree char *root = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *entry;

	g_test_init(&argc, &argv, NULL);
	root = g_build_filename(data_dir(), "rules", NULL);
	dir = g_dir_open(root, 0, NULL);
	g_assert_nonnull(dir);
	while ((entry = g_dir_read_name(dir)) != NULL) {
		g_autofree char *ids = case_file(entry, "ids.txt");
		if (g_file_test(ids, G_FILE_TEST_EXISTS))
			g_ptr_array_add(names, g_strdup(entry));
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		g_autofree char *lib = g_strdup_printf("/rules/library/%s", name);
		g_autofree char *bin = g_strdup_printf("/rules/binary/%s", name);
		g_autofree char *pb = g_strdup_printf("/rules/protobuf/%s", name);

		g_test_add_data_func(lib, name, test_case_library);
		g_test_add_data_func(bin, name, test_case_binary);
		g_test_add_data_func(pb, name, test_case_protobuf);
	}
	g_test_add_func("/rules/actions", test_actions);
	g_test_add_func("/rules/host-changes", test_host_changes);
	g_test_add_func("/rules/config", test_config);
	g_test_add_func("/rules/cli-errors", test_cli_errors);
	return g_test_run();
}
