/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host-wide rules (host.*) over fixture hosts: sysroot trees under
 * tests/data/host (a tuned virtual-host, a distribution's defaults, values at
 * the thresholds, an empty one) and domain XMLs in tests/data/host/domains.
 * Each rule: positive, negative, edge and missing input.
 */
#include <string.h>

#include <glib.h>

#include "error.h"
#include "evidence-test.h"
#include "rules.h"

typedef struct {
	const char *sysroot;
	const char *domains[6];
	guint node_cpus;    /* 0: no virNodeGetInfo */
	guint node_mem_gib; /* with node_cpus */
	struct {
		const char *domain, *disk;
		guint major, minor;
	} images[4];
	const char *config; /* [rules] text, or NULL */
} Case;

typedef struct {
	GPtrArray *facts; /* VtDomainFacts */
	GPtrArray *images;
	VtHostSystem *sys;
	VtAnalysis *analysis;
} Run;

static char *
data_path(const char *a, const char *b)
{
	const char *data = g_getenv("VT_TEST_DATA");

	g_assert_nonnull(data);
	return g_build_filename(data, "host", a, b, NULL);
}

static void
run_free(Run *r)
{
	g_ptr_array_unref(r->facts);
	g_ptr_array_unref(r->images);
	vt_host_system_free(r->sys);
	vt_analysis_free(r->analysis);
}

static Run
run_case(const Case *c)
{
	Run r = {0};
	g_autofree char *root = data_path(c->sysroot, NULL);
	g_autoptr(VtRulesConfig) cfg = vt_rules_config_new();
	VtHostGuestInput guests[6] = {{0}};
	VtNodeFacts node = {.known = TRUE, .cpus = c->node_cpus};
	VtHostInput in = {0};
	guint n = 0;

	r.facts = g_ptr_array_new_with_free_func((GDestroyNotify)vt_domain_facts_free);
	r.images = vt_host_images_new();
	r.sys = vt_host_system_read(root);
	for (; n < G_N_ELEMENTS(c->domains) && c->domains[n] != NULL; n++) {
		g_autofree char *path = data_path("domains", c->domains[n]);
		g_autoptr(GError) error = NULL;
		VtDomainFacts *f = vt_domain_facts_load(path, &error);

		g_assert_no_error(error);
		g_ptr_array_add(r.facts, f);
		guests[n].name = f->name;
		guests[n].facts = f;
	}
	for (guint i = 0; i < G_N_ELEMENTS(c->images) && c->images[i].domain != NULL; i++) {
		VtHostImage *img =
			vt_host_image_new(c->images[i].domain, c->images[i].disk, "/img");
		g_autoptr(GError) error = NULL;

		img->resolved = vt_host_blockdev_lookup(root, c->images[i].major,
							c->images[i].minor, &img->dev, &error);
		if (!img->resolved)
			img->why = g_strdup(error->message);
		g_ptr_array_add(r.images, img);
	}
	if (c->config != NULL) {
		g_autoptr(GError) error = NULL;
		g_assert_true(vt_rules_config_load_data(cfg, c->config, strlen(c->config), "test",
							NULL, &error));
		g_assert_no_error(error);
	}
	node.memory_bytes = (guint64)c->node_mem_gib << 30;
	in.system = r.sys;
	in.node = c->node_cpus ? &node : NULL;
	in.guests = guests;
	in.n_guests = n;
	in.images = r.images;
	r.analysis = vt_rules_run_host(&in, cfg);
	return r;
}

static const VtRecommendation *
find(const Run *r, const char *id)
{
	for (guint i = 0; i < r->analysis->recommendations->len; i++) {
		const VtRecommendation *rec = r->analysis->recommendations->pdata[i];
		if (strcmp(rec->id, id) == 0)
			return rec;
	}
	return NULL;
}

static guint
count_rule(const Run *r, const char *rule)
{
	guint n = 0;

	for (guint i = 0; i < r->analysis->recommendations->len; i++)
		n += g_strcmp0(((VtRecommendation *)r->analysis->recommendations->pdata[i])->rule,
			       rule) == 0;
	return n;
}

static gboolean
skipped(const Run *r, const char *rule, const char *needle)
{
	for (guint i = 0; i < r->analysis->skipped->len; i++) {
		const VtRuleSkip *s = r->analysis->skipped->pdata[i];
		if (strcmp(s->rule, rule) == 0 && strstr(s->reason, needle) != NULL)
			return TRUE;
	}
	return FALSE;
}

static void
test_facts(void)
{
	g_autofree char *root = data_path("sysroot-defaults", NULL);
	g_autofree char *empty = data_path("sysroot-empty", NULL);
	g_autoptr(VtHostSystem) s = vt_host_system_read(root);
	g_autoptr(VtHostSystem) e = vt_host_system_read(empty);
	g_autoptr(GError) error = NULL;
	VtHostBlockDev dev;

	g_assert_true(s->has_cpus);
	g_assert_cmpuint(s->cpus_online, ==, 4);
	g_assert_true(s->has_cores); /* two cores of two threads each */
	g_assert_cmpuint(s->cores, ==, 2);
	g_assert_cmpuint(s->mem_total_bytes, ==, 16ull << 30);
	g_assert_cmpuint(s->mem_available_bytes, ==, 512ull << 20);
	g_assert_cmpuint(s->swap_total_bytes - s->swap_free_bytes, ==, 4ull << 30);
	g_assert_true(s->has_swap_counters);
	g_assert_cmpuint(s->pswpout, ==, 250);
	g_assert_cmpuint(s->oom_kills, ==, 2);
	g_assert_cmpuint(s->sysctl[VT_HOST_SWAPPINESS], ==, 60);
	g_assert_cmpuint(s->sysctl[VT_HOST_DIRTY_BACKGROUND_RATIO], ==, 10);
	g_assert_cmpstr(s->thp, ==, "madvise");
	g_assert_true(s->has_ksm);
	g_assert_cmpuint(s->ksm_run, ==, 1);
	g_assert_cmpuint(s->ksm_pages_sharing, ==, 1234);
	g_assert_cmpuint(s->missing->len, ==, 0);

	/* nothing there: nothing known, each file named */
	g_assert_false(e->has_cpus || e->has_cores || e->has_mem_total || e->has_ksm ||
		       e->has_sysctl[0]);
	g_assert_cmpstr(e->thp, ==, "");
	g_assert_cmpuint(e->missing->len, >=, 5);
	g_assert_nonnull(strstr(e->missing->pdata[0], "No such file"));

	/* a partition: its parent disk's queue */
	g_assert_true(vt_host_blockdev_lookup(root, 8, 1, &dev, &error));
	g_assert_cmpstr(dev.name, ==, "sda1");
	g_assert_cmpstr(dev.disk, ==, "sda");
	g_assert_true(dev.partition);
	g_assert_cmpstr(dev.scheduler, ==, "none");
	g_assert_cmpstr(dev.schedulers, ==, "mq-deadline kyber bfq none");
	g_assert_true(dev.has_rotational && dev.rotational);
	/* a whole disk */
	g_assert_true(vt_host_blockdev_lookup(root, 259, 0, &dev, &error));
	g_assert_cmpstr(dev.disk, ==, "nvme0n1");
	g_assert_false(dev.partition);
	g_assert_cmpstr(dev.scheduler, ==, "bfq");
	/* no such device; no device at all (tmpfs, overlayfs) */
	g_assert_false(vt_host_blockdev_lookup(root, 8, 7, &dev, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(vt_host_blockdev_lookup(root, 0, 45, &dev, &error));
	g_assert_nonnull(strstr(error->message, "without a block device"));
	g_clear_error(&error);
	g_assert_false(vt_host_blockdev_of_path(root, "relative/path", &dev, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
}

/* The live host: a file's st_dev resolves, or says why it cannot. */
static void
test_facts_live(void)
{
	g_autofree char *path = data_path("domains", "web1.xml");
	g_autoptr(GError) error = NULL;
	VtHostBlockDev dev;

	if (vt_host_blockdev_of_path(NULL, path, &dev, &error)) {
		g_assert_cmpstr(dev.disk, !=, "");
		g_assert_cmpuint(dev.major, >, 0);
	} else {
		g_assert_nonnull(error);
		g_assert_cmpstr(error->message, !=, "");
	}
}

static void
test_cpu_overcommit(void)
{
	/* positive: 6 unpinned vCPUs on 4 CPUs in 2 cores (1 kept): limit 0.8 */
	Case pos = {"sysroot-defaults", {"web1.xml", "db1.xml"}};
	/* negative: 2 on 8 */
	Case neg = {"sysroot-tuned", {"web1.xml", "pinned-a.xml"}};
	/* edge: 4 unpinned on virNodeGetInfo's 6 (limit exactly 4.0); pins apart */
	Case edge = {"sysroot-tuned", {"db1.xml", "pinned-a.xml", "pinned-c.xml"}, 6, 8};
	/* overlap: pinned-a and pinned-b share host CPU 3 */
	Case overlap = {"sysroot-tuned", {"pinned-a.xml", "pinned-b.xml", "pinned-c.xml"}};
	Case missing = {"sysroot-empty", {"web1.xml"}};
	Run r = run_case(&pos);
	const VtRecommendation *rec = find(&r, "host.cpu-overcommit:host");

	g_assert_nonnull(rec);
	g_assert_cmpint(rec->target, ==, VT_TARGET_HOST);
	g_assert_cmpint(ev_int(rec, "host_cpus"), ==, 4);
	g_assert_cmpstr(ev_str(rec, "host_cpus_source"), ==, "sysfs");
	g_assert_cmpint(ev_int(rec, "host_cores"), ==, 2);
	g_assert_cmpfloat(ev_double(rec, "unpinned_limit"), ==, 0.8);
	g_assert_cmpint(ev_int(rec, "vcpus_unpinned"), ==, 6);
	g_assert_cmpstr(ev_str(rec, "shared_pinned_cpus"), ==, "");
	run_free(&r);
	r = run_case(&neg);
	g_assert_cmpuint(count_rule(&r, "host.cpu-overcommit"), ==, 0);
	run_free(&r);
	r = run_case(&edge);
	g_assert_cmpuint(count_rule(&r, "host.cpu-overcommit"), ==, 0);
	run_free(&r);
	r = run_case(&overlap);
	rec = find(&r, "host.cpu-overcommit:host");
	g_assert_nonnull(rec);
	g_assert_cmpstr(ev_str(rec, "shared_pinned_cpus"), ==, "3");
	g_assert_cmpstr(ev_str(rec, "shared_pinned_domains"), ==, "pinned-a,pinned-b");
	g_assert_cmpint(ev_int(rec, "vcpus_pinned"), ==, 6);
	run_free(&r);
	r = run_case(&missing);
	g_assert_cmpuint(count_rule(&r, "host.cpu-overcommit"), ==, 0);
	g_assert_true(skipped(&r, "host.cpu-overcommit", "CPU count is not known"));
	run_free(&r);
}

static void
test_mem_overcommit(void)
{
	/* 16 GiB now on 16 GiB less 2 GiB, and the host has 512 MiB left: critical */
	Case crit = {"sysroot-defaults", {"big.xml", "web1.xml"}};
	/* 24 GiB now on virNodeGetInfo's 24 GiB less 2.4: warning */
	Case warn = {"sysroot-tuned", {"big.xml", "db1.xml", "web1.xml"}, 8, 24};
	/* edge: 24 GiB now fits 27 GiB less 2.7, 28 GiB at most does not: info */
	Case info = {"sysroot-tuned", {"big.xml", "db1.xml", "web1.xml"}, 8, 27};
	Case neg = {"sysroot-tuned", {"db1.xml", "web1.xml"}};
	Case missing = {"sysroot-empty", {"big.xml"}};
	Run r = run_case(&crit);
	const VtRecommendation *rec = find(&r, "host.mem-overcommit:host");

	g_assert_nonnull(rec);
	g_assert_cmpint(rec->severity, ==, VT_SEVERITY_CRITICAL);
	g_assert_cmpint(ev_int(rec, "guest_current_bytes"), ==, 16ll << 30);
	g_assert_cmpint(ev_int(rec, "guest_maximum_bytes"), ==, 20ll << 30);
	g_assert_cmpint(ev_int(rec, "reserve_bytes"), ==, 2ll << 30);
	g_assert_cmpint(ev_int(rec, "host_available_bytes"), ==, 512ll << 20);
	run_free(&r);
	r = run_case(&warn);
	rec = find(&r, "host.mem-overcommit:host");
	g_assert_nonnull(rec);
	g_assert_cmpint(rec->severity, ==, VT_SEVERITY_WARNING);
	g_assert_cmpstr(ev_str(rec, "host_memory_source"), ==, "virNodeGetInfo");
	run_free(&r);
	r = run_case(&info);
	rec = find(&r, "host.mem-overcommit:host");
	g_assert_nonnull(rec);
	g_assert_cmpint(rec->severity, ==, VT_SEVERITY_INFO);
	run_free(&r);
	r = run_case(&neg);
	g_assert_cmpuint(count_rule(&r, "host.mem-overcommit"), ==, 0);
	run_free(&r);
	r = run_case(&missing);
	g_assert_true(skipped(&r, "host.mem-overcommit", "memory size is not known"));
	run_free(&r);
}

static void
test_scheduler(void)
{
	/* sda1 (spinning, none) and nvme0n1 (bfq) */
	Case pos = {"sysroot-defaults",
		    {"web1.xml", "db1.xml"},
		    0,
		    0,
		    {{"web1", "vda", 8, 1}, {"db1", "vda", 259, 0}, {"db1", "vdb", 8, 1}}};
	Case neg = {"sysroot-tuned", {NULL}, 0, 0, {{"web1", "vda", 8, 1}, {"db1", "vda", 259, 0}}};
	/* bfq on a spinning disk is accepted; an NVMe offering only none */
	Case edge = {"sysroot-edge", {NULL}, 0, 0, {{"web1", "vda", 8, 1}, {"db1", "vda", 259, 0}}};
	Case missing = {"sysroot-defaults", {NULL}, 0, 0, {{"web1", "vda", 0, 45}}};
	Case none = {"sysroot-defaults", {"web1.xml"}};
	Run r = run_case(&pos);
	const VtRecommendation *rec = find(&r, "host.scheduler:sda");

	g_assert_nonnull(rec);
	g_assert_cmpstr(ev_str(rec, "recommended"), ==, "mq-deadline");
	g_assert_cmpstr(ev_str(rec, "under"), ==, "sda1");
	g_assert_cmpint(ev_int(rec, "images"), ==, 2);
	g_assert_cmpstr(ev_str(rec, "domains"), ==, "web1,db1");
	g_assert_cmpstr(rec->command, ==, "echo mq-deadline > /sys/block/sda/queue/scheduler");
	rec = find(&r, "host.scheduler:nvme0n1");
	g_assert_nonnull(rec);
	g_assert_cmpstr(ev_str(rec, "recommended"), ==, "none");
	g_assert_cmpuint(count_rule(&r, "host.scheduler"), ==, 2);
	run_free(&r);
	r = run_case(&neg);
	g_assert_cmpuint(count_rule(&r, "host.scheduler"), ==, 0);
	run_free(&r);
	r = run_case(&edge);
	g_assert_cmpuint(count_rule(&r, "host.scheduler"), ==, 0);
	run_free(&r);
	r = run_case(&missing);
	g_assert_cmpuint(count_rule(&r, "host.scheduler"), ==, 0);
	g_assert_true(skipped(&r, "host.scheduler", "web1 vda: on a filesystem without"));
	run_free(&r);
	r = run_case(&none);
	g_assert_true(skipped(&r, "host.scheduler", "no guest image"));
	run_free(&r);
}

static void
test_sysctl(void)
{
	Case pos = {"sysroot-defaults", {"web1.xml"}};
	Case neg = {"sysroot-tuned", {"web1.xml"}};
	Case edge = {"sysroot-edge", {"web1.xml"}};
	/* KSM off while memory is overcommitted */
	Case ksm_on = {"sysroot-tuned", {"big.xml", "db1.xml", "web1.xml"}, 8, 20};
	Case missing = {"sysroot-empty", {"web1.xml"}};
	Case off = {"sysroot-defaults",
		    {"web1.xml"},
		    .config = "[rules]\nhost.sysctl.transparent_hugepage=any\n"
			      "host.sysctl.swappiness=60\nhost.sysctl.ksm=any\n"};
	Case disabled = {
		"sysroot-defaults", {"web1.xml"}, .config = "[rules]\nhost.sysctl.enable=false\n"};
	Run r = run_case(&pos);
	const VtRecommendation *rec = find(&r, "host.sysctl:vm.swappiness");

	g_assert_nonnull(rec);
	g_assert_cmpint(rec->severity, ==, VT_SEVERITY_WARNING);
	g_assert_cmpint(ev_int(rec, "value"), ==, 60);
	g_assert_cmpint(ev_int(rec, "recommended"), ==, 10);
	g_assert_cmpstr(rec->command, ==, "sysctl -w vm.swappiness=10");
	g_assert_cmpint(ev_int(find(&r, "host.sysctl:vm.dirty_ratio"), "recommended"), ==, 10);
	g_assert_cmpint(ev_int(find(&r, "host.sysctl:vm.dirty_background_ratio"), "value"), ==, 10);
	g_assert_cmpstr(ev_str(find(&r, "host.sysctl:transparent_hugepage"), "value"), ==,
			"madvise");
	g_assert_cmpint(ev_int(find(&r, "host.sysctl:ksm"), "recommended"), ==, 0);
	g_assert_cmpuint(count_rule(&r, "host.sysctl"), ==, 5);
	run_free(&r);
	r = run_case(&neg);
	g_assert_cmpuint(count_rule(&r, "host.sysctl"), ==, 0);
	run_free(&r);
	r = run_case(&edge);
	g_assert_cmpuint(count_rule(&r, "host.sysctl"), ==, 0);
	run_free(&r);
	r = run_case(&ksm_on);
	rec = find(&r, "host.sysctl:ksm");
	g_assert_nonnull(rec);
	g_assert_cmpint(ev_int(rec, "recommended"), ==, 1);
	g_assert_true(ev_bool(rec, "memory_overcommitted"));
	run_free(&r);
	r = run_case(&missing);
	g_assert_cmpuint(count_rule(&r, "host.sysctl"), ==, 0);
	g_assert_true(skipped(&r, "host.sysctl", "vm.swappiness: not readable"));
	g_assert_true(skipped(&r, "host.sysctl", "ksm:"));
	run_free(&r);
	r = run_case(&off);
	g_assert_null(find(&r, "host.sysctl:transparent_hugepage"));
	g_assert_null(find(&r, "host.sysctl:vm.swappiness"));
	g_assert_null(find(&r, "host.sysctl:ksm"));
	g_assert_nonnull(find(&r, "host.sysctl:vm.dirty_ratio"));
	run_free(&r);
	r = run_case(&disabled);
	g_assert_cmpuint(count_rule(&r, "host.sysctl"), ==, 0);
	g_assert_true(skipped(&r, "host.sysctl", "host.sysctl.enable=false"));
	run_free(&r);
}

/* Host rules never run per guest, and the JSON keeps its shape. */
static void
test_registry(void)
{
	int i = vt_rules_index("host.scheduler");

	g_assert_cmpint(i, >=, 0);
	g_assert_true(vt_rules_info((guint)i)->needs & VT_RULE_HOST);
	g_assert_cmpint(vt_rules_index("host.sysctl"), >=, 0);
	g_assert_cmpint(vt_rules_index("host.cpu-overcommit"), >=, 0);
	g_assert_cmpint(vt_rules_index("host.mem-overcommit"), >=, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/host-rules/facts", test_facts);
	g_test_add_func("/host-rules/facts-live", test_facts_live);
	g_test_add_func("/host-rules/cpu-overcommit", test_cpu_overcommit);
	g_test_add_func("/host-rules/mem-overcommit", test_mem_overcommit);
	g_test_add_func("/host-rules/scheduler", test_scheduler);
	g_test_add_func("/host-rules/sysctl", test_sysctl);
	g_test_add_func("/host-rules/registry", test_registry);
	return g_test_run();
}
