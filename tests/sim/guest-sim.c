/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vt-guest-sim: plays N guest agents for virt-tuned, each listening on the
 * UNIX socket a domain's channel names (as QEMU does), so the daemon can be
 * tested and measured without VMs. Honest guests answer the handshake and
 * send reports built from a template; hostile ones send what a broken or
 * malicious guest might.
 *
 *   vt-guest-sim --dir DIR --count N [--report FILE] [--interval-ms MS]
 *                [--mode honest|garbage|oversize|flood|silent|badutf8|unique]
 *                [--hostname TEXT] [--drops BEFORE:AFTER:NOISE]
 *
 * Guest i listens on DIR/guest-<i>.sock. The template report (canonical JSON)
 * gets per-guest identity and moving counters (swap, cpu ticks, monotonic_ms).
 * The hostname is sim-<i> unless --hostname gives one for every guest (tests
 * use it to send what a hostile guest could put in a string). The unique mode
 * is honest but for a hostname that changes with every report, so that no
 * two reports share a layout: the most a guest can make the host store. Once listening,
 * it prints "ready N report-bytes B" (B: the template's packed size).
 *
 * Honest guests answer an ApplyRequest (validated on a dry run, else applied)
 * and a RollbackRequest (rolled back) without changing anything, with the
 * template's first NIC name in the reason, before, after and command, written
 * as a careless agent would: the host must show them safely.
 *
 * --drops gives the first NIC a receive drop counter that grows by BEFORE
 * per report until a change is applied and by AFTER from then on, each step
 * ± a uniform NOISE (seeded per guest, so runs repeat): a known before/after
 * series for the measured effect of a change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "frame.h"
#include "json.h"
#include "message.h"

typedef enum {
	MODE_HONEST,
	MODE_GARBAGE,
	MODE_OVERSIZE,
	MODE_FLOOD,
	MODE_SILENT,
	MODE_BADUTF8,
	MODE_UNIQUE,
} Mode;

typedef struct Sim Sim;

typedef struct {
	Sim *sim;
	guint index;
	char *path;
	int listen_fd;
	int fd;
	guint listen_watch;
	guint watch;
	guint timer;
	VtFrameDecoder *dec;
	gboolean ready;
	guint64 seq;
	guint64 ticks;
	char *boot_id;
	gboolean applied; /* an ApplyRequest was applied: --drops uses AFTER */
	guint64 drops;
	GRand *rand;
} Guest;

struct Sim {
	Mode mode;
	guint interval_ms;
	const char *hostname; /* NULL: sim-<i> */
	VtReport *template;
	GPtrArray *guests;
	gboolean drops; /* --drops given */
	double drops_before, drops_after, drops_noise;
	guint64 reports_sent;
	guint64 hellos;
};

static void
send_bytes(Guest *g, const guint8 *data, gsize len)
{
	while (len > 0 && g->fd >= 0) {
		ssize_t n = send(g->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* the daemon went away or does not read: drop */
		data += n;
		len -= (gsize)n;
	}
}

static void
send_env(Guest *g, VtEnvelope *env)
{
	g_autoptr(GByteArray) out = g_byte_array_new();

	env->has_version = TRUE;
	env->version = VT_PROTOCOL_VERSION;
	env->has_seq = TRUE;
	env->seq = ++g->seq;
	if (vt_envelope_append_frame(out, env, NULL))
		send_bytes(g, out->data, out->len);
}

static void
set_map(VtReportMeminfoEntry **entries, gsize n, const char *key, guint64 value)
{
	for (gsize i = 0; i < n; i++)
		if (g_strcmp0(entries[i]->key, key) == 0) {
			entries[i]->value = value;
			entries[i]->has_value = TRUE;
		}
}

#define HONEST_LIKE(mode) ((mode) == MODE_HONEST || (mode) == MODE_UNIQUE)

static void
send_report(Guest *g)
{
	VtReport *r = g->sim->template;
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtIdentity id = VIRTTUNE__V1__IDENTITY__INIT;
	VtIdentity *saved_id = r->identity;
	g_autofree char *host = NULL;
	char bad[] = {'s', 'i', 'm', (char)0xff, 0};

	g->ticks++;
	host = g->sim->mode == MODE_UNIQUE
		       ? g_strdup_printf("sim-%u-%" G_GUINT64_FORMAT, g->index, (guint64)g->ticks)
		       : g_strdup_printf("sim-%u", g->index);
	if (saved_id != NULL)
		id = *saved_id;
	id.hostname = g->sim->mode == MODE_BADUTF8 ? bad
		      : g->sim->hostname != NULL   ? (char *)g->sim->hostname
						   : host;
	id.boot_id = g->boot_id;
	id.has_uptime_s = TRUE;
	id.uptime_s = 100 + g->ticks;
	r->identity = &id;
	r->has_monotonic_ms = TRUE;
	r->monotonic_ms = 100000 + g->ticks * g->sim->interval_ms;
	if (r->swap != NULL) {
		r->swap->has_pswpin = r->swap->has_pswpout = TRUE;
		r->swap->pswpin = g->ticks * 10;
		r->swap->pswpout = g->ticks * 20;
	}
	if (r->cpu != NULL) {
		r->cpu->has_total_ticks = r->cpu->has_steal_ticks = TRUE;
		r->cpu->total_ticks = 1000 + g->ticks * 200;
		r->cpu->steal_ticks = g->ticks;
	}
	set_map(r->meminfo, r->n_meminfo, "MemAvailable", 500000000 - g->ticks * 4096);
	if (g->sim->drops && r->n_nics > 0) {
		double step = g->applied ? g->sim->drops_after : g->sim->drops_before;

		step += g_rand_double_range(g->rand, -g->sim->drops_noise, g->sim->drops_noise);
		g->drops += step > 0 ? (guint64)step : 0;
		if (r->nics[0]->stats == NULL) {
			r->nics[0]->stats = g_new0(VtNicStats, 1);
			virttune__v1__nic_stats__init(r->nics[0]->stats);
		}
		r->nics[0]->stats->has_rx_dropped = TRUE;
		r->nics[0]->stats->rx_dropped = g->drops;
	}
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT;
	env.report = r;
	send_env(g, &env);
	r->identity = saved_id;
	g->sim->reports_sent++;
}

static void
send_hostile(Guest *g)
{
	guint8 buf[4096];

	switch (g->sim->mode) {
	case MODE_GARBAGE:
		for (gsize i = 0; i < sizeof(buf); i++)
			buf[i] = (guint8)g_random_int();
		send_bytes(g, buf, sizeof(buf));
		break;
	case MODE_OVERSIZE: {
		guint8 h[VT_FRAME_HEADER_SIZE] = {VT_FRAME_MAGIC_0,
						  VT_FRAME_MAGIC_1,
						  VT_FRAME_MAGIC_2,
						  VT_FRAME_MAGIC_3,
						  0x7f,
						  0xff,
						  0xff,
						  0xff};
		send_bytes(g, h, sizeof(h));
		break;
	}
	case MODE_FLOOD:
		for (int i = 0; i < 50; i++)
			send_report(g);
		break;
	default:
		break;
	}
}

static gboolean
on_timer(gpointer user_data)
{
	Guest *g = user_data;

	if (g->fd < 0)
		return G_SOURCE_CONTINUE;
	if (HONEST_LIKE(g->sim->mode) || g->sim->mode == MODE_BADUTF8) {
		if (g->ready)
			send_report(g);
	} else if (g->sim->mode != MODE_SILENT) {
		send_hostile(g);
	}
	return G_SOURCE_CONTINUE;
}

static void
answer_change(Guest *g, const char *request_id, gboolean dry_run, gboolean rollback)
{
	VtReport *r = g->sim->template;
	const char *name = r->n_nics > 0 && r->nics[0]->name ? r->nics[0]->name : "eth0";
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtApplyResult res = VIRTTUNE__V1__APPLY_RESULT__INIT;
	g_autofree char *reason = g_strdup_printf("sim: %s", name);
	g_autofree char *before = g_strdup_printf("%s: 1", name);
	g_autofree char *after = g_strdup_printf("%s: 4", name);
	g_autofree char *command = g_strdup_printf("ethtool -L %s combined 4", name);

	res.request_id = (char *)request_id;
	res.has_status = TRUE;
	res.status = rollback  ? VIRTTUNE__V1__APPLY_RESULT__STATUS__rolled_back
		     : dry_run ? VIRTTUNE__V1__APPLY_RESULT__STATUS__validated
			       : VIRTTUNE__V1__APPLY_RESULT__STATUS__applied;
	res.reason = reason;
	res.before = rollback ? after : before;
	res.after = rollback ? before : after;
	res.command = command;
	res.change_id = dry_run ? NULL : (char *)"sim-change-1";
	if (!dry_run)
		g->applied = !rollback;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_APPLY_RESULT;
	env.apply_result = &res;
	send_env(g, &env);
}

static gboolean
on_frame(const guint8 *payload, gsize len, gpointer user_data)
{
	Guest *g = user_data;
	g_autoptr(VtEnvelope) env = vt_envelope_unpack(payload, len, NULL);

	if (env == NULL)
		return TRUE;
	if (env->body_case == VIRTTUNE__V1__ENVELOPE__BODY_HELLO && env->hello->has_nonce) {
		VtEnvelope reply = VIRTTUNE__V1__ENVELOPE__INIT;
		VtHello hello = VIRTTUNE__V1__HELLO__INIT;

		g->sim->hellos++;
		if (g->sim->mode == MODE_SILENT)
			return TRUE;
		hello.agent_version = (char *)"sim";
		hello.has_nonce = TRUE;
		hello.nonce = env->hello->nonce;
		hello.boot_id = g->boot_id;
		reply.body_case = VIRTTUNE__V1__ENVELOPE__BODY_HELLO;
		reply.hello = &hello;
		send_env(g, &reply);
		g->ready = TRUE;
		if (HONEST_LIKE(g->sim->mode) || g->sim->mode == MODE_BADUTF8)
			send_report(g);
		else
			send_hostile(g);
	} else if (env->body_case == VIRTTUNE__V1__ENVELOPE__BODY_REPORT_REQUEST && g->ready &&
		   HONEST_LIKE(g->sim->mode)) {
		send_report(g);
	} else if (env->body_case == VIRTTUNE__V1__ENVELOPE__BODY_APPLY_REQUEST && g->ready &&
		   HONEST_LIKE(g->sim->mode)) {
		answer_change(g, env->apply_request->request_id, env->apply_request->dry_run,
			      FALSE);
	} else if (env->body_case == VIRTTUNE__V1__ENVELOPE__BODY_ROLLBACK_REQUEST && g->ready &&
		   HONEST_LIKE(g->sim->mode)) {
		answer_change(g, env->rollback_request->request_id, FALSE, TRUE);
	}
	return TRUE;
}

static void
drop_client(Guest *g)
{
	if (g->watch)
		g_source_remove(g->watch);
	g->watch = 0;
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	g->ready = FALSE;
	vt_frame_decoder_reset(g->dec);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer user_data)
{
	Guest *g = user_data;
	guint8 buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
		g->watch = 0;
		drop_client(g);
		return G_SOURCE_REMOVE;
	}
	if (n > 0)
		vt_frame_decoder_feed(g->dec, buf, (gsize)n);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer user_data)
{
	Guest *g = user_data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (cfd < 0)
		return G_SOURCE_CONTINUE;
	drop_client(g); /* one client at a time, like a QEMU chardev */
	g->fd = cfd;
	g->seq = 0;
	g->watch = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, g);
	return G_SOURCE_CONTINUE;
}

static gboolean
guest_listen(Guest *g, GError **error)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	g_strlcpy(addr.sun_path, g->path, sizeof(addr.sun_path));
	unlink(g->path);
	g->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->listen_fd < 0 || bind(g->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(g->listen_fd, 4) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", g->path,
			    g_strerror(errno));
		return FALSE;
	}
	g->listen_watch = g_unix_fd_add(g->listen_fd, G_IO_IN, on_accept, g);
	return TRUE;
}

static gboolean
on_usr1(gpointer user_data)
{
	Sim *sim = user_data;

	g_printerr("vt-guest-sim: %" G_GUINT64_FORMAT " reports sent, %" G_GUINT64_FORMAT
		   " hellos seen\n",
		   sim->reports_sent, sim->hellos);
	return G_SOURCE_CONTINUE;
}

/* --drops BEFORE:AFTER:NOISE (NULL: not given). */
static gboolean
parse_drops(Sim *sim, const char *text)
{
	if (text == NULL)
		return TRUE;
	if (sscanf(text, "%lf:%lf:%lf", &sim->drops_before, &sim->drops_after, &sim->drops_noise) !=
	    3) {
		g_printerr("vt-guest-sim: --drops takes BEFORE:AFTER:NOISE\n");
		return FALSE;
	}
	sim->drops = TRUE;
	return TRUE;
}

static gboolean
on_term(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

int
main(int argc, char **argv)
{
	g_autofree char *dir = NULL, *report = NULL, *mode = NULL, *hostname = NULL;
	g_autofree char *drops = NULL;
	int count = 1, interval = 1000;
	GOptionEntry entries[] = {
		{"dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Socket directory", "DIR"},
		{"count", 'n', 0, G_OPTION_ARG_INT, &count, "Guests", "N"},
		{"report", 'r', 0, G_OPTION_ARG_FILENAME, &report, "Template report (JSON)",
		 "FILE"},
		{"interval-ms", 'i', 0, G_OPTION_ARG_INT, &interval, "Report interval", "MS"},
		{"mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
		 "honest, garbage, oversize, flood, silent, badutf8 or unique", "MODE"},
		{"hostname", 0, 0, G_OPTION_ARG_FILENAME, &hostname, "Every guest's hostname",
		 "TEXT"},
		{"drops", 0, 0, G_OPTION_ARG_STRING, &drops,
		 "First NIC's drops per report before and after an apply, and their noise",
		 "BEFORE:AFTER:NOISE"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- simulated virt-tune guests");
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	Sim sim = {0};

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || dir == NULL || count < 1 ||
	    count > 10000 || interval < 1) {
		g_printerr("vt-guest-sim: %s\n", error ? error->message : "bad arguments (--help)");
		return 2;
	}
	static const char *const modes[] = {"honest", "garbage", "oversize", "flood",
					    "silent", "badutf8", "unique",   NULL};
	for (guint m = 0; modes[m]; m++)
		if (g_strcmp0(mode ? mode : "honest", modes[m]) == 0)
			sim.mode = (Mode)m;
	sim.interval_ms = (guint)interval;
	if (!parse_drops(&sim, drops))
		return 2;
	sim.hostname = hostname;
	if (report != NULL) {
		g_autofree char *text = NULL;
		if (!g_file_get_contents(report, &text, NULL, &error) ||
		    (sim.template = (VtReport *)vt_json_message_from_string(
			     &virttune__v1__report__descriptor, text, -1, &error)) == NULL) {
			g_printerr("vt-guest-sim: %s: %s\n", report, error->message);
			return 2;
		}
	} else {
		sim.template = g_new0(VtReport, 1);
		virttune__v1__report__init(sim.template);
	}
	sim.guests = g_ptr_array_new();
	for (int i = 0; i < count; i++) {
		Guest *g = g_new0(Guest, 1);
		g->sim = &sim;
		g->index = (guint)i;
		g->fd = -1;
		g->path = g_strdup_printf("%s/guest-%d.sock", dir, i);
		g->boot_id = g_uuid_string_random();
		g->rand = g_rand_new_with_seed(1000 + (guint32)i);
		g->dec = vt_frame_decoder_new(0);
		vt_frame_decoder_set_callbacks(g->dec, on_frame, NULL, g);
		if (!guest_listen(g, &error)) {
			g_printerr("vt-guest-sim: %s\n", error->message);
			return 1;
		}
		g->timer = g_timeout_add(sim.interval_ms, on_timer, g);
		g_ptr_array_add(sim.guests, g);
	}
	g_unix_signal_add(SIGTERM, on_term, loop);
	g_unix_signal_add(SIGINT, on_term, loop);
	g_unix_signal_add(SIGUSR1, on_usr1, &sim);
	printf("ready %d report-bytes %zu\n", count,
	       virttune__v1__report__get_packed_size(sim.template));
	fflush(stdout);
	g_main_loop_run(loop);
	for (guint i = 0; i < sim.guests->len; i++)
		unlink(((Guest *)sim.guests->pdata[i])->path);
	return 0;
}
