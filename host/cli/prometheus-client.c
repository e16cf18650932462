/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PromQL instant queries over Prometheus' HTTP API, with libsoup. */
#include "prometheus-client.h"

#include <string.h>

#include <libsoup/soup.h>

#include "error.h"

#define VT_PROM_READ_CHUNK 65536u

struct VtPromClient {
	char *url; /* as given, without a trailing '/': what errors name */
	SoupSession *session;
};

VtPromClient *
vt_prom_client_new(const char *url, guint timeout_s, GError **error)
{
	g_autoptr(GUri) uri = NULL;
	VtPromClient *c;
	gsize len;

	if (url == NULL || strlen(url) > 2048 || !g_utf8_validate(url, -1, NULL)) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "--prometheus: not a URL");
		return NULL;
	}
	uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	if (uri == NULL || g_uri_get_host(uri) == NULL || *g_uri_get_host(uri) == '\0' ||
	    (g_strcmp0(g_uri_get_scheme(uri), "http") != 0 &&
	     g_strcmp0(g_uri_get_scheme(uri), "https") != 0) ||
	    g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "--prometheus %s: give http://HOST:PORT[/PATH] (or https://)", url);
		return NULL;
	}
	if (timeout_s < 1 || timeout_s > VT_PROM_TIMEOUT_MAX) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "--prometheus-timeout must be 1..%u seconds", VT_PROM_TIMEOUT_MAX);
		return NULL;
	}
	c = g_new0(VtPromClient, 1);
	c->url = g_strdup(url);
	len = strlen(c->url);
	while (len > 0 && c->url[len - 1] == '/')
		c->url[--len] = '\0';
	c->session = soup_session_new_with_options("timeout", timeout_s, "idle-timeout", timeout_s,
						   "user-agent", "virt-tune/" VT_VERSION, NULL);
	return c;
}

void
vt_prom_client_free(VtPromClient *c)
{
	if (c == NULL)
		return;
	g_clear_object(&c->session);
	g_free(c->url);
	g_free(c);
}

/* The whole body, at most VT_PROM_MAX_BODY bytes. */
static GBytes *
read_body(VtPromClient *c, GInputStream *in, GError **error)
{
	g_autoptr(GByteArray) body = g_byte_array_new();
	g_autoptr(GError) local = NULL;
	guint8 buf[VT_PROM_READ_CHUNK];
	gssize n;

	while ((n = g_input_stream_read(in, buf, sizeof(buf), NULL, &local)) > 0) {
		if (body->len + (gsize)n > VT_PROM_MAX_BODY) {
			g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
				    "Prometheus at %s: the answer is larger than %u MiB", c->url,
				    VT_PROM_MAX_BODY / (1024u * 1024u));
			return NULL;
		}
		g_byte_array_append(body, buf, (guint)n);
	}
	if (n < 0) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE,
			    "Prometheus at %s: reading the answer: %s", c->url, local->message);
		return NULL;
	}
	return g_byte_array_free_to_bytes(g_steal_pointer(&body));
}

/* Prometheus' error JSON: {"status":"error","errorType":"…","error":"…"}. */
static gboolean
api_error(JsonObject *root, char **text)
{
	const char *type, *message;

	if (root == NULL ||
	    g_strcmp0(json_object_get_string_member_with_default(root, "status", ""), "error") != 0)
		return FALSE;
	type = json_object_get_string_member_with_default(root, "errorType", "error");
	message = json_object_get_string_member_with_default(root, "error", "");
	*text = g_strdup_printf("%s: %s", type, message);
	return TRUE;
}

static void
sample_free(gpointer p)
{
	VtPromSample *s = p;

	json_object_unref(s->metric);
	g_free(s);
}

/* One element of data.result: {"metric":{"k":"v",…},"value":[t,"v"]}. */
static VtPromSample *
parse_sample(JsonNode *node)
{
	JsonObject *o = JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
	JsonNode *m = o ? json_object_get_member(o, "metric") : NULL;
	JsonNode *v = o ? json_object_get_member(o, "value") : NULL;
	JsonArray *pair = v && JSON_NODE_HOLDS_ARRAY(v) ? json_node_get_array(v) : NULL;
	JsonNode *text =
		pair && json_array_get_length(pair) == 2 ? json_array_get_element(pair, 1) : NULL;
	g_autoptr(GList) names = NULL;
	VtPromSample *s;

	if (m == NULL || !JSON_NODE_HOLDS_OBJECT(m) || text == NULL ||
	    json_node_get_value_type(text) != G_TYPE_STRING)
		return NULL;
	names = json_object_get_members(json_node_get_object(m));
	for (GList *l = names; l != NULL; l = l->next) {
		JsonNode *label = json_object_get_member(json_node_get_object(m), l->data);
		if (json_node_get_value_type(label) != G_TYPE_STRING)
			return NULL;
	}
	s = g_new0(VtPromSample, 1);
	s->metric = json_object_ref(json_node_get_object(m));
	s->value = g_ascii_strtod(json_node_get_string(text), NULL);
	return s;
}

/* data.result of a vector answer, each element checked. */
static GPtrArray *
parse_vector(VtPromClient *c, JsonObject *root, GError **error)
{
	JsonNode *data = root ? json_object_get_member(root, "data") : NULL;
	JsonObject *d = data && JSON_NODE_HOLDS_OBJECT(data) ? json_node_get_object(data) : NULL;
	JsonNode *result = d ? json_object_get_member(d, "result") : NULL;
	JsonArray *arr =
		result && JSON_NODE_HOLDS_ARRAY(result) ? json_node_get_array(result) : NULL;
	g_autoptr(GPtrArray) samples = NULL;

	if (arr == NULL ||
	    g_strcmp0(json_object_get_string_member_with_default(root, "status", ""), "success") !=
		    0 ||
	    g_strcmp0(json_object_get_string_member_with_default(d, "resultType", ""), "vector") !=
		    0) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "Prometheus at %s: the answer is not an instant vector", c->url);
		return NULL;
	}
	if (json_array_get_length(arr) > VT_PROM_MAX_SERIES) {
		g_set_error(error, VT_ERROR, VT_ERROR_TOO_LARGE,
			    "Prometheus at %s: more than %u series", c->url, VT_PROM_MAX_SERIES);
		return NULL;
	}
	samples = g_ptr_array_new_full(json_array_get_length(arr), sample_free);
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		VtPromSample *s = parse_sample(json_array_get_element(arr, i));
		if (s == NULL) {
			g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
				    "Prometheus at %s: series %u of the answer is malformed",
				    c->url, i);
			return NULL;
		}
		g_ptr_array_add(samples, s);
	}
	return g_steal_pointer(&samples);
}

/* The answer's JSON; NULL with an error naming the URL for an HTTP error. */
static JsonNode *
parse_answer(VtPromClient *c, SoupMessage *msg, GBytes *body, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	guint status = soup_message_get_status(msg);
	gsize len = 0;
	const char *data = g_bytes_get_data(body, &len);
	gboolean parsed = len > 0 && json_parser_load_from_data(parser, data, (gssize)len, NULL);
	JsonNode *root = parsed ? json_parser_get_root(parser) : NULL;
	JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
	g_autofree char *text = NULL;

	if (api_error(o, &text)) {
		g_set_error(error, VT_ERROR, VT_ERROR_FAILED, "Prometheus at %s: HTTP %u: %s",
			    c->url, status, text);
		return NULL;
	}
	if (!SOUP_STATUS_IS_SUCCESSFUL(status)) {
		g_set_error(error, VT_ERROR, VT_ERROR_FAILED, "Prometheus at %s: HTTP %u %s",
			    c->url, status, soup_message_get_reason_phrase(msg));
		return NULL;
	}
	if (o == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID,
			    "Prometheus at %s: the answer is not JSON", c->url);
		return NULL;
	}
	return json_node_copy(root);
}

GPtrArray *
vt_prom_query(VtPromClient *c, const char *promql, GError **error)
{
	g_autofree char *query = g_uri_escape_string(promql, NULL, FALSE);
	g_autofree char *url = g_strdup_printf("%s/api/v1/query?query=%s", c->url, query);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GInputStream) in = NULL;
	g_autoptr(GBytes) body = NULL;
	g_autoptr(GError) local = NULL;
	g_autoptr(JsonNode) root = NULL;

	if (msg == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_INVALID, "--prometheus %s: not a URL",
			    c->url);
		return NULL;
	}
	in = soup_session_send(c->session, msg, NULL, &local);
	if (in == NULL) {
		g_set_error(error, VT_ERROR, VT_ERROR_UNAVAILABLE,
			    "cannot reach Prometheus at %s: %s", c->url, local->message);
		return NULL;
	}
	if ((body = read_body(c, in, error)) == NULL)
		return NULL;
	if ((root = parse_answer(c, msg, body, error)) == NULL)
		return NULL;
	return parse_vector(c, json_node_get_object(root), error);
}

const char *
vt_prom_label(const VtPromSample *s, const char *name)
{
	const char *v = json_object_get_string_member_with_default(s->metric, name, NULL);

	return v != NULL && *v != '\0' ? v : NULL;
}
