/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `audit host`: the hypervisor host's own figures and settings, one row per
 * setting, each with what the host-wide rules recommend for it; and the host
 * recommendations in `recommend`.
 */
#include "views.h"

#include "builder.h"

/* The host recommendation @rule:@subject, or NULL. */
static const VtRecommendation *
find_rec(const VtHostModel *host, const char *rule, const char *subject)
{
	for (guint i = 0; host->analysis && i < host->analysis->recommendations->len; i++) {
		const VtRecommendation *r = host->analysis->recommendations->pdata[i];
		if (g_strcmp0(r->rule, rule) == 0 && g_strcmp0(r->subject, subject) == 0)
			return r;
	}
	return NULL;
}

/* One row; @value NULL: unknown. The recommendation's "recommended" evidence
 * (or its severity) fills the last columns. */
static void
row(JsonBuilder *b, const char *setting, const char *value, const char *source,
    const VtRecommendation *rec, const char *detail)
{
	g_autofree char *recommended = NULL;
	const VtEvidence *ev =
		rec != NULL ? vt_recommendation_evidence_find(rec, "recommended") : NULL;

	if (ev != NULL && ev->kind == VT_EVIDENCE_STRING)
		recommended = g_strdup(ev->value.s);
	else if (ev != NULL && ev->kind == VT_EVIDENCE_INT)
		recommended = g_strdup_printf("%" G_GINT64_FORMAT, ev->value.i);
	json_builder_begin_object(b);
	vt_view_add_str(b, "setting", setting);
	vt_view_add_str(b, "value", value);
	vt_view_add_str(b, "source", source);
	vt_view_add_str(b, "recommended", recommended);
	vt_view_add_str(b, "recommendation", rec ? rec->id : NULL);
	vt_view_add_str(b, "severity", rec ? vt_severity_name(rec->severity) : NULL);
	vt_view_add_str(b, "detail", detail);
	json_builder_end_object(b);
}

/* A number; sizes ("…_bytes") also in binary units in the detail. */
static void
row_u64(JsonBuilder *b, const char *setting, gboolean has, guint64 value, const char *source,
	const VtRecommendation *rec)
{
	g_autofree char *text = has ? g_strdup_printf("%" G_GUINT64_FORMAT, value) : NULL;
	g_autofree char *size = has && g_str_has_suffix(setting, "_bytes")
					? g_format_size_full(value, G_FORMAT_SIZE_IEC_UNITS)
					: NULL;
	g_autofree char *detail = size ? g_strdup_printf("%s (%s)", size, source) : NULL;

	row(b, setting, text, source, rec, detail);
}

static void
resource_rows(JsonBuilder *b, const VtHostModel *h)
{
	const VtHostSystem *s = h->system;
	const VtRecommendation *cpu = find_rec(h, "host.cpu-overcommit", "host");
	const VtRecommendation *mem = find_rec(h, "host.mem-overcommit", "host");
	gboolean node = h->has_node;
	g_autofree char *rate = NULL;

	row_u64(b, "cpus", node || (s && s->has_cpus),
		node ? h->node.cpus
		: s  ? s->cpus_online
		     : 0,
		node ? "virNodeGetInfo" : "sysfs", NULL);
	row_u64(b, "cores", s && s->has_cores, s ? s->cores : 0, "sysfs thread siblings", cpu);
	row_u64(b, "vcpus_running", TRUE, h->vcpus_total, "domain XML", cpu);
	row_u64(b, "vcpus_pinned", TRUE, h->vcpus_pinned, "domain XML", cpu);
	row_u64(b, "memory_bytes", node || (s && s->has_mem_total),
		node ? h->node.memory_bytes
		: s  ? s->mem_total_bytes
		     : 0,
		node ? "virNodeGetInfo" : "/proc/meminfo", NULL);
	row_u64(b, "memory_available_bytes", s && s->has_mem_available,
		s ? s->mem_available_bytes : 0, "/proc/meminfo", NULL);
	row_u64(b, "guest_memory_bytes", TRUE, h->guest_memory_current, "balloon, domain XML", mem);
	row_u64(b, "guest_memory_maximum_bytes", TRUE, h->guest_memory_maximum, "domain XML", mem);
	row_u64(b, "swap_used_bytes", s && s->has_swap,
		s ? s->swap_total_bytes - MIN(s->swap_free_bytes, s->swap_total_bytes) : 0,
		"/proc/meminfo", NULL);
	rate = h->has_swap_rates ? g_strdup_printf("%.1f/%.1f", h->swap_in_pps, h->swap_out_pps)
				 : NULL;
	row(b, "swap_in_out_pages_per_s", rate, "/proc/vmstat", NULL, NULL);
	row_u64(b, "oom_kills", s && s->has_oom_kills, s ? s->oom_kills : 0, "/proc/vmstat", NULL);
}

static void
setting_rows(JsonBuilder *b, const VtHostModel *h)
{
	const VtHostSystem *s = h->system;
	g_autofree char *ksm = NULL;

	for (guint k = 0; k < VT_HOST_SYSCTL_N; k++) {
		const char *name = vt_host_sysctl_name(k);
		g_autofree char *src = g_strdup_printf("/proc/sys/%s", name);

		g_strdelimit(src + strlen("/proc/sys/"), ".", '/');
		row_u64(b, name, s && s->has_sysctl[k], s ? s->sysctl[k] : 0, src,
			find_rec(h, "host.sysctl", name));
	}
	row(b, "transparent_hugepage", s && s->thp[0] ? s->thp : NULL,
	    "/sys/kernel/mm/transparent_hugepage/enabled",
	    find_rec(h, "host.sysctl", "transparent_hugepage"), NULL);
	if (s && s->has_ksm)
		ksm = g_strdup_printf("%u", s->ksm_run);
	row(b, "ksm", ksm, "/sys/kernel/mm/ksm/run", find_rec(h, "host.sysctl", "ksm"), NULL);
}

/* One row per guest image: the host device and its scheduler. */
static void
image_rows(JsonBuilder *b, const VtHostModel *h)
{
	for (guint i = 0; i < h->images->len; i++) {
		const VtHostImage *img = h->images->pdata[i];
		g_autofree char *setting = g_strdup_printf("scheduler:%s/%s", img->domain,
							   img->disk ? img->disk : "?");
		g_autofree char *detail = NULL;

		if (!img->resolved) {
			detail = g_strdup_printf("%s: %s", img->path, img->why ? img->why : "");
			row(b, setting, NULL, NULL, NULL, detail);
			continue;
		}
		detail = g_strdup_printf("%s on %s (%u:%u) of %s", img->path, img->dev.name,
					 img->dev.major, img->dev.minor, img->dev.disk);
		row(b, setting, img->dev.scheduler[0] ? img->dev.scheduler : NULL,
		    "/sys/block/DEV/queue/scheduler", find_rec(h, "host.scheduler", img->dev.disk),
		    detail);
	}
}

/* What could not be read, so an empty value says why. */
static void
missing_rows(JsonBuilder *b, const VtHostModel *h)
{
	for (guint i = 0; i < h->system->missing->len; i++)
		row(b, "unreadable", NULL, NULL, NULL, h->system->missing->pdata[i]);
}

JsonNode *
vt_view_audit_host(GPtrArray *guests, const VtHostModel *host, gint64 now_ms)
{
	g_autoptr(JsonBuilder) b = json_builder_new();

	(void)guests;
	(void)now_ms;
	json_builder_begin_array(b);
	if (host != NULL && host->system != NULL) {
		resource_rows(b, host);
		setting_rows(b, host);
		image_rows(b, host);
		missing_rows(b, host);
	}
	json_builder_end_array(b);
	return json_builder_get_root(b);
}

gboolean
vt_view_add_host_recommendations(JsonNode *view, const VtHostModel *host, GError **error)
{
	JsonObject *root = JSON_NODE_HOLDS_OBJECT(view) ? json_node_get_object(view) : NULL;
	JsonArray *recs = root ? json_object_get_array_member(root, "recommendations") : NULL;

	if (recs == NULL || host == NULL || host->analysis == NULL)
		return TRUE;
	for (guint i = 0; i < host->analysis->recommendations->len; i++) {
		g_autoptr(JsonNode) node =
			vt_recommendation_to_json(host->analysis->recommendations->pdata[i], error);
		JsonObject *rec, *out;
		g_autoptr(GList) members = NULL;

		if (node == NULL)
			return FALSE;
		rec = json_node_get_object(node);
		out = json_object_new();
		/* "(host)": not a domain; "scope" tells scripts the same */
		json_object_set_string_member(out, "domain", "(host)");
		json_object_set_string_member(out, "scope", "host");
		members = json_object_get_members(rec);
		for (GList *l = members; l != NULL; l = l->next)
			json_object_set_member(
				out, l->data, json_node_copy(json_object_get_member(rec, l->data)));
		json_array_add_object_element(recs, out);
	}
	return TRUE;
}
