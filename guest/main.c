/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-tune-agent: reports what the guest runs with to the host over
 * virtio-serial, and applies the typed changes its local policy allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "collect/collector.h"
#include "error.h"
#include "message.h"
#ifndef VT_AGENT_PORTABLE
#include "json.h"
#define AGENT_FLAVOUR  ""
#define FORMAT_DEFAULT "json"
#define FORMAT_HELP    "With --once: json (default) or pb (protobuf)"
#else
/* The portable agent links no JSON library: its --once report is protobuf. */
#define AGENT_FLAVOUR  " (portable)"
#define FORMAT_DEFAULT "pb"
#define FORMAT_HELP    "With --once: pb (protobuf, the default; json needs the packaged agent)"
#endif

static gboolean
write_all(int fd, const guint8 *data, gsize len, GError **error)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			vt_error_set_errno(error, errno, "write");
			return FALSE;
		}
		data += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* --once: one report to a file or stdout, no port. */
static int
run_once(const char *sysroot, const char *format, const char *output)
{
	g_autoptr(VtCollector) collector = vt_collector_new(sysroot, NULL);
	g_autoptr(VtReport) report = vt_collector_collect(collector);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autofree char *text = NULL;
	const guint8 *data;
	gsize len;
	int fd = STDOUT_FILENO;

	if (g_strcmp0(format, "json") == 0) {
#ifdef VT_AGENT_PORTABLE
		g_printerr("virt-tune-agent: this portable build writes --once reports as pb "
			   "only (--format pb)\n");
		return 2;
#else
		text = vt_json_message_to_string(&report->base, TRUE, &error);
		if (text == NULL) {
			g_printerr("virt-tune-agent: cannot write the report as JSON: %s\n",
				   error->message);
			return 1;
		}
		data = (const guint8 *)text;
		len = strlen(text);
#endif
	} else {
		bytes = vt_message_pack(&report->base, FALSE, &error);
		data = g_bytes_get_data(bytes, &len);
	}

	if (output != NULL && strcmp(output, "-") != 0) {
		g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", output);
		fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0) {
			g_printerr("virt-tune-agent: cannot create %s: %s\n", tmp,
				   g_strerror(errno));
			return 1;
		}
		/* written whole, then renamed: a reader never sees half a report */
		if (!write_all(fd, data, len, &error) || fsync(fd) < 0 || close(fd) < 0 ||
		    rename(tmp, output) < 0) {
			g_printerr("virt-tune-agent: cannot write %s: %s\n", output,
				   error ? error->message : g_strerror(errno));
			unlink(tmp);
			return 1;
		}
		return 0;
	}
	if (!write_all(fd, data, len, &error)) {
		g_printerr("virt-tune-agent: %s\n", error->message);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	gboolean once = FALSE, version = FALSE;
	g_autofree char *format = NULL;
	g_autofree char *output = NULL;
	g_autofree char *port = NULL;
	g_autofree char *config = NULL;
	g_autofree char *state_dir = NULL;
	g_autofree char *sysroot = NULL;
	int interval = 0;
	VtAgentOptions options = {0};
	GOptionEntry entries[] = {
		{"once", 0, 0, G_OPTION_ARG_NONE, &once,
		 "Print one report and exit (no port needed)", NULL},
		{"format", 0, 0, G_OPTION_ARG_STRING, &format, FORMAT_HELP, "json|pb"},
		{"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
		 "With --once: write to FILE (atomically) instead of stdout", "FILE|-"},
		{"sysroot", 0, 0, G_OPTION_ARG_FILENAME, &sysroot,
		 "Read /proc and /sys under DIR (default /)", "DIR"},
		{"port", 'p', 0, G_OPTION_ARG_FILENAME, &port,
		 "virtio-serial port or UNIX socket (default " VT_AGENT_DEFAULT_PORT ")", "PATH"},
		{"interval", 'i', 0, G_OPTION_ARG_INT, &interval,
		 "Seconds between reports (default 10, or agent.conf)", "SECONDS"},
		{"config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
		 "Configuration and apply policy (default " VT_AGENT_DEFAULT_CONFIG ")", "FILE"},
		{"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
		 "Apply journal directory (default " VT_AGENT_DEFAULT_STATE_DIR ")", "DIR"},
		{"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit",
		 NULL},
		{NULL},
	};
	g_autoptr(GOptionContext) context = g_option_context_new(NULL);
	g_autoptr(GError) error = NULL;

	g_option_context_set_summary(
		context,
		"Report this guest's memory, swap, sysctls, block and NIC settings to the\n"
		"virt-tune host daemon over virtio-serial, and apply the typed changes\n"
		"that the local policy allows.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("virt-tune-agent: %s (see --help)\n", error->message);
		return 2;
	}
	if (argc > 1) {
		g_printerr("virt-tune-agent: unexpected argument '%s' (see --help)\n", argv[1]);
		return 2;
	}
	if (version) {
		g_print("virt-tune-agent %s%s\n", VT_VERSION, AGENT_FLAVOUR);
		return 0;
	}
	if (format != NULL && g_strcmp0(format, "json") != 0 && g_strcmp0(format, "pb") != 0) {
		g_printerr("virt-tune-agent: --format must be json or pb, not '%s'\n", format);
		return 2;
	}
	if (!once && (format != NULL || output != NULL)) {
		g_printerr("virt-tune-agent: --format and --output go with --once\n");
		return 2;
	}
	if (interval < 0 || interval > 86400) {
		g_printerr("virt-tune-agent: --interval must be 1..86400 seconds\n");
		return 2;
	}
	if (once)
		return run_once(sysroot, format ? format : FORMAT_DEFAULT, output);

	options.port = port;
	options.config = config;
	options.state_dir = state_dir;
	options.sysroot = sysroot;
	options.interval = interval;
	return vt_agent_run(&options);
}
