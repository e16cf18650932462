/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * On the live machine: a report that takes its settings, its device listings,
 * the disks' sizes and the online CPUs from the last read and its queue
 * interrupts from /sys/kernel/irq/N/per_cpu_count, its NIC counters from
 * an RTM_GETSTATS dump, says what a
 * collector that reads everything every time says (the one the differential
 * test compares with the standard tools). The kept settings must equal the
 * fresh ones; the interrupt counts must lie between a fresh reading before
 * and one after.
 */
#include <string.h>

#include "collect-util.h"
#include "collect/collector-private.h"

/* A collector that reads everything, as under a fixture sysroot. */
static VtReport *
fresh_report(void)
{
	g_autoptr(VtCollector) c = vt_collector_new("/", NULL);

	vt_collector_set_settings_refresh(c, 1);
	return vt_collector_collect(c);
}

static void
assert_same_block(const VtBlock *kept, const VtBlock *fresh)
{
	g_assert_cmpstr(kept->scheduler, ==, fresh->scheduler);
	g_assert_cmpuint(kept->n_schedulers, ==, fresh->n_schedulers);
	g_assert_cmpuint(kept->has_nr_requests, ==, fresh->has_nr_requests);
	g_assert_cmpuint(kept->nr_requests, ==, fresh->nr_requests);
	g_assert_cmpuint(kept->read_ahead_kb, ==, fresh->read_ahead_kb);
	g_assert_cmpuint(kept->has_rotational, ==, fresh->has_rotational);
	g_assert_cmpuint(kept->rotational, ==, fresh->rotational);
	g_assert_cmpuint(kept->max_sectors_kb, ==, fresh->max_sectors_kb);
	g_assert_cmpuint(kept->has_discard_max_bytes, ==, fresh->has_discard_max_bytes);
	g_assert_cmpuint(kept->discard_max_bytes, ==, fresh->discard_max_bytes);
	g_assert_cmpuint(kept->has_size_bytes, ==, fresh->has_size_bytes);
	g_assert_cmpuint(kept->size_bytes, ==, fresh->size_bytes);
}

static const VtQueueInterrupts *
find_queue(const VtNic *nic, const char *queue)
{
	for (gsize i = 0; i < nic->n_queue_interrupts; i++)
		if (strcmp(nic->queue_interrupts[i]->queue, queue) == 0)
			return nic->queue_interrupts[i];
	return NULL;
}

/* The whole seconds /proc/uptime shows now. */
static guint64
proc_uptime_s(void)
{
	g_autofree char *text = NULL;

	g_assert_true(g_file_get_contents("/proc/uptime", &text, NULL, NULL));
	return g_ascii_strtoull(text, NULL, 10);
}

static void
test_kept_matches_fresh(void)
{
	g_autoptr(VtCollector) c = vt_collector_new("/", NULL);
	g_autoptr(VtReport) before = NULL;
	g_autoptr(VtReport) after = NULL;
	g_autoptr(VtReport) kept = NULL;
	g_autofree char *possible = NULL, *online = NULL;
	gboolean all_online;
	guint queues = 0;
	guint64 uptime_before, uptime_after;

	/* the first report reads everything; the next ones keep what they may */
	vt_collector_recycle(c, vt_collector_collect(c));
	vt_collector_recycle(c, vt_collector_collect(c));
	uptime_before = proc_uptime_s();
	before = fresh_report();
	kept = vt_collector_collect(c);
	after = fresh_report();
	uptime_after = proc_uptime_s();
	g_assert_true(c->settings_kept);

	/* the uptime from CLOCK_BOOTTIME is what /proc/uptime shows */
	g_assert_true(kept->identity->has_uptime_s);
	g_assert_cmpuint(uptime_before, <=, kept->identity->uptime_s);
	g_assert_cmpuint(kept->identity->uptime_s, <=, uptime_after);

	g_assert_cmpuint(kept->n_sysctl, ==, before->n_sysctl);
	for (gsize i = 0; i < kept->n_sysctl; i++) {
		g_assert_cmpstr(kept->sysctl[i]->key, ==, before->sysctl[i]->key);
		g_assert_cmpstr(kept->sysctl[i]->value, ==, before->sysctl[i]->value);
	}
	g_assert_cmpstr(kept->identity->hostname, ==, before->identity->hostname);
	g_assert_cmpuint(kept->cpu->has_online, ==, before->cpu->has_online);
	g_assert_cmpuint(kept->cpu->online, ==, before->cpu->online);
	g_assert_cmpuint(kept->n_block, ==, before->n_block);
	for (gsize i = 0; i < kept->n_block; i++)
		assert_same_block(kept->block[i], find_block(before, kept->block[i]->name));

	/* per_cpu_count sums every possible CPU, /proc/interrupts the online ones */
	g_file_get_contents("/sys/devices/system/cpu/possible", &possible, NULL, NULL);
	g_file_get_contents("/sys/devices/system/cpu/online", &online, NULL, NULL);
	all_online = possible != NULL && g_strcmp0(possible, online) == 0;
	g_assert_cmpuint(kept->n_nics, ==, before->n_nics);
	for (gsize i = 0; i < kept->n_nics; i++) {
		const VtNic *k = kept->nics[i];
		const VtNic *b = find_nic(before, k->name), *a = find_nic(after, k->name);

		/* link state from the last full dump, counters from RTM_GETSTATS */
		g_assert_cmpuint(k->mtu, ==, b->mtu);
		g_assert_cmpstr(k->mac, ==, b->mac);
		g_assert_cmpuint(k->link_up, ==, b->link_up);
		g_assert_nonnull(k->stats);
		g_assert_cmpuint(b->stats->rx_packets, <=, k->stats->rx_packets);
		g_assert_cmpuint(k->stats->rx_packets, <=, a->stats->rx_packets);
		g_assert_cmpuint(b->stats->tx_bytes, <=, k->stats->tx_bytes);
		g_assert_cmpuint(k->stats->tx_bytes, <=, a->stats->tx_bytes);
		g_assert_cmpuint(k->has_speed_mbps, ==, b->has_speed_mbps);
		g_assert_cmpuint(k->speed_mbps, ==, b->speed_mbps);
		g_assert_cmpuint(k->n_queue_interrupts, ==, b->n_queue_interrupts);
		for (gsize q = 0; q < k->n_queue_interrupts && all_online; q++, queues++) {
			const VtQueueInterrupts *kq = k->queue_interrupts[q];

			g_assert_nonnull(find_queue(b, kq->queue));
			g_assert_cmpuint(find_queue(b, kq->queue)->count, <=, kq->count);
			g_assert_cmpuint(kq->count, <=, find_queue(a, kq->queue)->count);
		}
	}
	/* where there are virtio queues, their counts came from per_cpu_count */
	if (queues > 0 && g_file_test("/sys/kernel/irq", G_FILE_TEST_IS_DIR))
		g_assert_true(c->irqs_per_cpu);
	if (queues == 0)
		g_test_message("no virtio NIC queue with all CPUs online: counts not compared");
}

/* A report packed and decoded again, as the host reads it. */
static VtReport *
packed_and_decoded(const VtReport *r)
{
	gsize len = protobuf_c_message_get_packed_size(&r->base);
	g_autofree guint8 *packed = g_malloc(len);

	protobuf_c_message_pack(&r->base, packed);
	return virttune__v1__report__unpack(NULL, len, packed);
}

/* The live NICs' features, encoded once and kept (as the agent's session
 * collects), decode to those of a collector that builds their messages. */
static void
test_kept_features_encoded(void)
{
	g_autoptr(VtCollector) c = vt_collector_new("/", NULL);
	g_autoptr(VtReport) fresh = NULL;
	g_autoptr(VtReport) decoded = NULL;
	VtReport *kept;
	guint compared = 0;

	vt_collector_set_features_encoded(c, TRUE);
	vt_collector_recycle(c, vt_collector_collect(c));
	kept = vt_collector_collect(c);
	fresh = fresh_report();
	for (gsize i = 0; i < kept->n_nics; i++)
		g_assert_cmpuint(kept->nics[i]->n_features, ==, 0);
	decoded = packed_and_decoded(kept);
	vt_collector_recycle(c, kept);
	g_assert_nonnull(decoded);
	g_assert_cmpuint(decoded->n_nics, ==, fresh->n_nics);
	for (gsize i = 0; i < decoded->n_nics; i++) {
		const VtNic *d = decoded->nics[i], *f = find_nic(fresh, d->name);

		g_assert_cmpuint(d->base.n_unknown_fields, ==, 0);
		g_assert_cmpuint(d->n_features, ==, f->n_features);
		for (gsize k = 0; k < d->n_features; k++, compared++) {
			g_assert_cmpstr(d->features[k]->name, ==, f->features[k]->name);
			g_assert_cmpuint(d->features[k]->active, ==, f->features[k]->active);
			g_assert_cmpuint(d->features[k]->fixed, ==, f->features[k]->fixed);
			g_assert_cmpuint(d->features[k]->requested, ==, f->features[k]->requested);
		}
	}
	if (compared == 0)
		g_test_message("no NIC with ethtool features here: nothing compared");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/collect/kept-matches-fresh", test_kept_matches_fresh);
	g_test_add_func("/collect/kept-features-encoded", test_kept_features_encoded);
	return g_test_run();
}
