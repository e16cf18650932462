/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupts of each virtio NIC queue: the /proc/interrupts lines named
 * "virtioN-input.K" and "virtioN-output.K" (drivers/net/virtio_net.c names its
 * MSI-X vectors after the virtqueues), summed over CPUs; virtioN is the NIC's
 * /sys/class/net/IFACE/device.
 */
#include "collector-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

/* /proc/interrupts grows with CPUs x vectors (~11 bytes a cell): 1 MiB holds 256
 * CPUs x 350 vectors. Read once per report into a buffer the collector keeps. */
#define VT_INTERRUPTS_TEXT_MAX (1024u * 1024u)

/* The per-CPU columns counted at most: NR_CPUS tops out at 8192. */
#define VT_INTERRUPTS_CPUS_MAX 8192u

void
vt_queue_irq_free(VtQueueIrq *irq)
{
	vt_file_close(&irq->per_cpu_count);
	g_free(irq->device);
	g_free(irq->queue);
	g_free(irq);
}

/* "virtio2-input.0" → device "virtio2", queue "input.0"; FALSE for any other name. */
static gboolean
split_name(const char *name, char **device, char **queue)
{
	const char *dash = strchr(name, '-');
	const char *q, *dot;
	guint64 n;

	if (!g_str_has_prefix(name, "virtio") || dash == NULL || dash == name + 6)
		return FALSE;
	for (const char *p = name + 6; p < dash; p++)
		if (!g_ascii_isdigit(*p))
			return FALSE;
	q = dash + 1;
	if (!g_str_has_prefix(q, "input.") && !g_str_has_prefix(q, "output."))
		return FALSE;
	dot = strchr(q, '.');
	if (!vt_parse_u64(dot + 1, &n) || strlen(q) >= VT_STRING_MAX)
		return FALSE;
	*device = g_strndup(name, (gsize)(dash - name));
	*queue = g_strdup(q);
	return TRUE;
}

/* The last blank-separated word of @line, or NULL when it has one word only. */
static char *
last_word(char *line)
{
	char *p = line + strlen(line);

	while (p > line && p[-1] != ' ' && p[-1] != '\t')
		p--;
	return p > line ? p : NULL;
}

/* One vector's line: " 38:   0   9167   PCI-MSIX-0000:00:03.0   1-edge   virtio2-input.0".
 * The name is looked at first: other vectors' lines are left without a copy. */
static VtQueueIrq *
parse_line(char *line, guint cpus)
{
	char *name, *p, *save = NULL;
	guint64 sum = 0, v;
	VtQueueIrq *irq;
	gsize first;

	guint64 number;

	line = g_strstrip(line);
	first = strcspn(line, " \t");
	name = last_word(line);
	if (name == NULL || first == 0 || line[first - 1] != ':' || name <= line + first)
		return NULL;
	/* vectors are numbered; the named lines (NMI:, LOC:) are no queue's */
	line[first - 1] = '\0';
	if (!vt_parse_u64(line, &number) || number > G_MAXUINT32)
		return NULL;
	irq = g_new0(VtQueueIrq, 1);
	if (!split_name(name, &irq->device, &irq->queue)) {
		g_free(irq);
		return NULL;
	}
	irq->irq = (guint)number;
	irq->per_cpu_count = (VtFile)VT_FILE_INIT;
	/* the counts: the words between the number and the name, up to @cpus of them */
	name[-1] = '\0';
	for (p = strtok_r(line + first, " \t", &save); p != NULL && cpus > 0;
	     p = strtok_r(NULL, " \t", &save)) {
		if (!vt_parse_u64(p, &v))
			break;
		sum = v > VT_U64_MAX - sum ? VT_U64_MAX : sum + v;
		cpus--;
	}
	irq->count = sum;
	return irq;
}

/* The number of "CPUn" columns in the first line. */
static guint
count_cpus(const char *header)
{
	guint cpus = 0;

	for (const char *p = strstr(header, "CPU"); p != NULL && cpus < VT_INTERRUPTS_CPUS_MAX;
	     p = strstr(p + 3, "CPU"))
		cpus++;
	return cpus;
}

/* "0,9167\n": the sum of a vector's per-CPU counts; FALSE when not that form. */
static gboolean
parse_per_cpu_count(const char *text, guint64 *sum)
{
	guint64 v = 0;
	gboolean digits = FALSE;
	guint cpus = 0;

	*sum = 0;
	for (const char *p = text;; p++) {
		if (g_ascii_isdigit(*p)) {
			if (v > (VT_U64_MAX - 9u) / 10u)
				return FALSE;
			v = v * 10u + (guint64)(*p - '0');
			digits = TRUE;
			continue;
		}
		if (!digits || (*p != ',' && *p != '\n' && *p != '\0'))
			return FALSE;
		*sum = v > VT_U64_MAX - *sum ? VT_U64_MAX : *sum + v;
		if (*p != ',' || ++cpus >= VT_INTERRUPTS_CPUS_MAX)
			return *p != ',' && (*p == '\0' || p[1] == '\0');
		v = 0;
		digits = FALSE;
	}
}

/*
 * The counts of the vectors found at the last read of /proc/interrupts, from
 * their /sys/kernel/irq/N/per_cpu_count (kernel 4.16 and later): a few bytes
 * each, where /proc/interrupts walks every vector of the system. The files
 * are kept open; a vector freed since answers ENODEV on its old fd even when
 * its number was given out again. FALSE on any trouble: /proc/interrupts then.
 */
static gboolean
update_counts(VtCollector *c)
{
	char buf[VT_ATTR_MAX], path[64];

	for (guint i = 0; i < c->irqs->len; i++) {
		VtQueueIrq *irq = g_ptr_array_index(c->irqs, i);
		gboolean truncated = FALSE;
		guint64 sum;
		int err;

		if (irq->per_cpu_count.fd < 0)
			g_snprintf(path, sizeof(path), "sys/kernel/irq/%u/per_cpu_count", irq->irq);
		err = vt_file_read(&irq->per_cpu_count, c->root_fd,
				   irq->per_cpu_count.fd < 0 ? path : NULL, buf, sizeof(buf), NULL,
				   &truncated);
		if (err < 0 || truncated || !parse_per_cpu_count(buf, &sum))
			return FALSE;
		/* counts only grow while the vector lives: a fall means another one */
		if (sum < irq->count)
			return FALSE;
		irq->count = sum;
	}
	return TRUE;
}

/* This report's virtio queue vectors, read on first use; NULL when unreadable. */
static GPtrArray *
queue_irqs(VtCollector *c)
{
	gboolean truncated = FALSE;
	char *save = NULL, *line, *text;
	guint cpus;

	if (c->irqs_read)
		return c->irqs;
	c->irqs_read = TRUE;
	/* the vectors found at the last read, while settings are kept */
	if (c->irqs != NULL && c->irqs_per_cpu && c->settings_kept && !c->irqs_stale &&
	    update_counts(c))
		return c->irqs;
	c->irqs_per_cpu = FALSE;
	c->irqs_stale = FALSE;
	g_clear_pointer(&c->irqs, g_ptr_array_unref);
	/* kept: only the pages the text reaches are ever touched */
	if (c->irq_text == NULL)
		c->irq_text = g_malloc(VT_INTERRUPTS_TEXT_MAX);
	text = c->irq_text;
	/* kept open: a re-read at offset 0 regenerates it, without a path lookup */
	c->irqs_err = vt_file_read(&c->interrupts, c->root_fd, "proc/interrupts", text,
				   VT_INTERRUPTS_TEXT_MAX, NULL, &truncated);
	if (c->irqs_err < 0)
		return NULL;
	if (truncated)
		vt_collector_note(c, "nics",
				  "/proc/interrupts longer than %u bytes, the rest ignored",
				  VT_INTERRUPTS_TEXT_MAX);
	c->irqs = g_ptr_array_new_with_free_func((GDestroyNotify)vt_queue_irq_free);
	line = strtok_r(text, "\n", &save);
	cpus = line != NULL ? count_cpus(line) : 0;
	while (line != NULL && (line = strtok_r(NULL, "\n", &save)) != NULL) {
		VtQueueIrq *irq;

		/* most lines are other devices': not split into words at all */
		if (strstr(line, "virtio") == NULL)
			continue;
		irq = parse_line(line, cpus);
		if (irq != NULL)
			g_ptr_array_add(c->irqs, irq);
	}
	/* where the counts come from per_cpu_count in between, this report's
	 * come from there too: they then sum the same CPUs (every possible one,
	 * where /proc/interrupts shows the online ones) */
	if (c->settings_refresh > 1)
		c->irqs_per_cpu = update_counts(c);
	return c->irqs;
}

void
vt_queue_irqs_done(VtCollector *c)
{
	c->irqs_read = FALSE;
}

void
vt_queue_irqs_clear(VtCollector *c)
{
	g_clear_pointer(&c->irqs, g_ptr_array_unref);
	c->irqs_read = FALSE;
	c->irqs_err = 0;
}

char *
vt_virtio_device(VtCollector *c, const char *iface)
{
	g_autofree char *path = g_strdup_printf("sys/class/net/%s/device", iface);
	char link[512];
	const char *base;
	ssize_t n = readlinkat(c->root_fd, path, link, sizeof(link) - 1);

	if (n <= 0)
		return NULL;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base != NULL ? base + 1 : link;
	return g_str_has_prefix(base, "virtio") ? g_strdup(base) : NULL;
}

void
vt_collect_queue_interrupts(VtCollector *c, const char *device, VtNic *nic, GString *problems)
{
	GPtrArray *irqs = queue_irqs(c);
	gboolean more = FALSE;

	if (irqs == NULL) {
		g_string_append_printf(problems, "%sinterrupts: %s", problems->len ? "; " : "",
				       g_strerror(-c->irqs_err));
		return;
	}
	for (guint i = 0; i < irqs->len; i++) {
		const VtQueueIrq *irq = g_ptr_array_index(irqs, i);
		VtQueueInterrupts *q;
		gboolean dup = FALSE;

		if (strcmp(irq->device, device) != 0)
			continue;
		for (gsize k = 0; k < nic->n_queue_interrupts && !dup; k++)
			dup = strcmp(nic->queue_interrupts[k]->queue, irq->queue) == 0;
		if (dup)
			continue;
		if (nic->n_queue_interrupts >= VT_REPORT_MAX_QUEUE_IRQS) {
			more = TRUE;
			break;
		}
		q = g_new(VtQueueInterrupts, 1);
		virttune__v1__queue_interrupts__init(q);
		q->queue = g_strdup(irq->queue);
		q->has_count = TRUE;
		q->count = irq->count;
		VT_APPEND(nic->n_queue_interrupts, nic->queue_interrupts, q);
	}
	if (more)
		g_string_append_printf(problems, "%sinterrupts: more queues than the limit",
				       problems->len ? "; " : "");
}
