/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "error.h"
#include "json.h"
#include "message.h"

/* ------------------------------------------------------------ a filler */

/* Builds a message with every field set (one oneof member, chosen by
 * @variant), allocated with malloc so vt_message_free() can release it. */
static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *desc, guint seed,
				      guint variant, guint depth);

static void
fill_value(const ProtobufCFieldDescriptor *field, void *value, guint seed, guint variant,
	   guint depth)
{
	switch (field->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)value = (variant & 1) ? G_MININT32 : -(int32_t)seed;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)value = (variant & 1) ? G_MAXUINT32 : seed;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)value = (variant & 1) ? G_MININT64 : -(int64_t)seed * 1000000007;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		/* the top of the JSON-representable range, and a large ordinary value */
		*(uint64_t *)value =
			(variant & 1) ? (uint64_t)G_MAXINT64 : (uint64_t)seed * 4294967311ull;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)value = 0.5f * (float)seed;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)value = (variant & 1) ? 1e-300 : 0.25 * seed + 1.0 / 3.0;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)value = (seed + variant) & 1;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = field->descriptor;
		*(int *)value = ed->values[(seed + variant) % ed->n_values].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		*(char **)value = g_strdup_printf("%s-%u-\xc3\xa9\"\\/\t", field->name, seed);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = value;
		b->len = seed % 5 + 1;
		b->data = malloc(b->len);
		for (gsize i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)(seed * 31 + i);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)value =
			fill_message(field->descriptor, seed + 1, variant, depth + 1);
		break;
	}
}

static ProtobufCMessage *
fill_message(const ProtobufCMessageDescriptor *desc, guint seed, guint variant, guint depth)
{
	ProtobufCMessage *msg = calloc(1, desc->sizeof_message);

	desc->message_init(msg);
	if (depth > 6)
		return msg;
	for (unsigned f = 0; f < desc->n_fields; f++) {
		const ProtobufCFieldDescriptor *field = &desc->fields[f];
		char *base = (char *)msg;

		if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = (uint32_t *)(base + field->quantifier_offset);
			guint first = f, n = 0, pick;
			while (first > 0 &&
			       (desc->fields[first - 1].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			       desc->fields[first - 1].quantifier_offset ==
				       field->quantifier_offset)
				first--;
			for (guint k = first;
			     k < desc->n_fields &&
			     desc->fields[k].quantifier_offset == field->quantifier_offset;
			     k++)
				n++;
			pick = first + variant % n;
			if (f != pick)
				continue;
			fill_value(field, base + field->offset, seed + f, variant, depth);
			*which = field->id;
		} else if (field->label == PROTOBUF_C_LABEL_REPEATED) {
			gsize n = 2, es = vt_protobuf_type_size(field->type);
			char *arr = calloc(n, es);
			gboolean is_map =
				field->type == PROTOBUF_C_TYPE_MESSAGE &&
				g_str_has_suffix(
					((const ProtobufCMessageDescriptor *)field->descriptor)
						->name,
					"Entry");
			for (gsize i = 0; i < n; i++)
				fill_value(field, arr + i * es, seed + f + (guint)i * 17, variant,
					   depth);
			if (is_map) {
				/* distinct keys, or the JSON object would merge them */
				const ProtobufCMessageDescriptor *ed = field->descriptor;
				ProtobufCMessage **entries = (ProtobufCMessage **)arr;
				for (gsize i = 0; i < n; i++) {
					char **key = (char **)((char *)entries[i] +
							       ed->fields[0].offset);
					g_free(*key);
					*key = g_strdup_printf("Key_%" G_GSIZE_FORMAT "(%u)", i,
							       seed);
				}
			}
			*(size_t *)(base + field->quantifier_offset) = n;
			*(char **)(base + field->offset) = arr;
		} else {
			fill_value(field, base + field->offset, seed + f, variant, depth);
			if (field->label == PROTOBUF_C_LABEL_OPTIONAL &&
			    field->type != PROTOBUF_C_TYPE_STRING &&
			    field->type != PROTOBUF_C_TYPE_MESSAGE)
				*(protobuf_c_boolean *)(base + field->quantifier_offset) = 1;
		}
	}
	return msg;
}

static void
collect_descriptors(const ProtobufCMessageDescriptor *desc, GPtrArray *out)
{
	if (g_ptr_array_find(out, desc, NULL))
		return;
	g_ptr_array_add(out, (gpointer)desc);
	for (unsigned f = 0; f < desc->n_fields; f++)
		if (desc->fields[f].type == PROTOBUF_C_TYPE_MESSAGE)
			collect_descriptors(desc->fields[f].descriptor, out);
}

static guint
max_oneof_members(const ProtobufCMessageDescriptor *desc)
{
	guint best = 1;
	for (unsigned f = 0; f < desc->n_fields; f++) {
		guint n = 0;
		if (!(desc->fields[f].flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		for (unsigned k = 0; k < desc->n_fields; k++)
			if ((desc->fields[k].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    desc->fields[k].quantifier_offset == desc->fields[f].quantifier_offset)
				n++;
		best = MAX(best, n);
	}
	return best;
}

static GBytes *
pack(const ProtobufCMessage *msg)
{
	g_autoptr(GError) error = NULL;
	GBytes *bytes = vt_message_pack(msg, FALSE, &error);
	g_assert_no_error(error);
	return bytes;
}

/* pack → unpack → JSON → text → JSON → message → pack: the bytes and the
 * texts must be identical. Every message type, every oneof member. */
static void
test_round_trip_every_message(void)
{
	g_autoptr(GPtrArray) descs = g_ptr_array_new();
	guint checked = 0;

	collect_descriptors(&virttune__v1__envelope__descriptor, descs);
	g_assert_cmpuint(descs->len, >=, 25);
	for (guint d = 0; d < descs->len; d++) {
		const ProtobufCMessageDescriptor *desc = descs->pdata[d];
		guint variants = MAX(2, max_oneof_members(desc) * 2);

		for (guint v = 0; v < variants; v++) {
			g_autoptr(GError) error = NULL;
			ProtobufCMessage *orig = fill_message(desc, 3 + v, v, 0);
			g_autoptr(GBytes) bytes1 = pack(orig);
			ProtobufCMessage *unpacked =
				vt_message_unpack(desc, g_bytes_get_data(bytes1, NULL),
						  g_bytes_get_size(bytes1), &error);
			g_autofree char *text1 = NULL;
			g_autofree char *text2 = NULL;
			ProtobufCMessage *parsed;
			g_autoptr(GBytes) bytes2 = NULL;

			g_assert_no_error(error);
			g_assert_nonnull(unpacked);
			text1 = vt_json_message_to_string(unpacked, TRUE, &error);
			g_assert_no_error(error);
			parsed = vt_json_message_from_string(desc, text1, -1, &error);
			g_assert_no_error(error);
			g_assert_nonnull(parsed);
			bytes2 = pack(parsed);
			if (!g_bytes_equal(bytes1, bytes2))
				g_error("%s variant %u: bytes differ after JSON round trip:\n%s",
					desc->name, v, text1);
			text2 = vt_json_message_to_string(parsed, TRUE, &error);
			g_assert_no_error(error);
			g_assert_cmpstr(text1, ==, text2);
			vt_message_free(orig);
			vt_message_free(unpacked);
			vt_message_free(parsed);
			checked++;
		}
	}
	g_test_message("%u messages round-tripped over %u types", checked, descs->len);
}

static void
test_empty_message_is_empty_object(void)
{
	VtReport report = VIRTTUNE__V1__REPORT__INIT;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = vt_json_message_to_string(&report.base, FALSE, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(text, ==, "{}");
}

/* Presence: zero is not absence. */
static void
test_zero_is_kept(void)
{
	VtChannels ch = VIRTTUNE__V1__CHANNELS__INIT;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	ch.has_combined = TRUE;
	ch.combined = 0;
	ch.max_combined = 4; /* has_max_combined not set: omitted */
	text = vt_json_message_to_string(&ch.base, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(text, ==, "{\"combined\":0}");
}

/* Field names are the .proto names, maps are objects, order is field-number
 * order, and the text comes back unchanged. */
static void
test_report_text_round_trip(void)
{
	static const char text[] =
		"{\"identity\":{\"hostname\":\"g1\",\"uptime_s\":12},"
		"\"meminfo\":{\"MemTotal\":4102373376,\"SwapFree\":0,\"HugePages_Total\":0},"
		"\"swap\":{\"devices\":[{\"path\":\"/dev/"
		"vdc\",\"type\":\"partition\",\"size_bytes\":"
		"1073737728,\"used_bytes\":0,\"priority\":-2}],\"pswpin\":0,\"pswpout\":5},"
		"\"sysctl\":{\"vm.swappiness\":\"60\"},"
		"\"block\":[{\"name\":\"vda\",\"scheduler\":\"none\",\"schedulers\":[\"mq-"
		"deadline\",\"none\"],\"rotational\":false}],"
		"\"nics\":[{\"name\":\"eth0\",\"driver\":\"virtio_net\",\"channels\":{\"max_"
		"combined\":4,\"combined\":1},\"features\":[{\"name\":\"tx-checksumming\","
		"\"active\":true,\"fixed\":false}]}],"
		"\"cpu\":{\"online\":2,\"loadavg_1\":0.5},"
		"\"sections\":[{\"name\":\"nic\",\"ok\":false,\"error\":\"ifb0: channels: "
		"Operation not supported\"}]}";
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) report = (VtReport *)vt_json_message_from_string(
		&virttune__v1__report__descriptor, text, -1, &error);
	g_autofree char *again = NULL;

	g_assert_no_error(error);
	g_assert_cmpuint(report->n_meminfo, ==, 3);
	g_assert_cmpstr(report->meminfo[0]->key, ==, "MemTotal");
	g_assert_cmpuint(report->meminfo[0]->value, ==, 4102373376u);
	g_assert_cmpint(report->swap->devices[0]->priority, ==, -2);
	g_assert_true(report->nics[0]->channels->has_combined);
	g_assert_cmpuint(report->nics[0]->channels->combined, ==, 1);
	g_assert_false(report->nics[0]->channels->has_rx);
	g_assert_true(report->block[0]->has_rotational);
	g_assert_false(report->block[0]->rotational);
	again = vt_json_message_to_string(&report->base, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(again, ==, text);
}

/* Escapes, UTF-8 and doubles in exponent form come out as valid JSON. */
static void
test_escapes_and_doubles(void)
{
	static const char in[] =
		"{\"identity\":{\"hostname\":\"a\\\"b\\\\c\\u0001\\n\xc3\xa9\"},"
		"\"cpu\":{\"loadavg_1\":0.1,\"loadavg_5\":1e-300,\"loadavg_15\":5}}";
	static const char want[] =
		"{\"identity\":{\"hostname\":\"a\\\"b\\\\c\\u0001\\n\xc3\xa9\"},"
		"\"cpu\":{\"loadavg_1\":0.1,\"loadavg_5\":1e-300,\"loadavg_15\":5.0}}";
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) report = (VtReport *)vt_json_message_from_string(
		&virttune__v1__report__descriptor, in, -1, &error);
	g_autofree char *out = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(report->identity->hostname, ==, "a\"b\\c\001\n\xc3\xa9");
	g_assert_cmpfloat(report->cpu->loadavg_5, ==, 1e-300);
	out = vt_json_message_to_string(&report->base, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, ==, want);
}

/* What a terminal would act on or hide goes out as \uXXXX; it parses back the same. */
static void
test_escapes_invisible(void)
{
	static const char hostname[] = "x\xe2\x80\xaey\xc2\x9b\xe2\x80\xa8\xf3\xa0\x80\x81\x7f";
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);
	g_autoptr(JsonNode) bad = json_node_new(JSON_NODE_VALUE);
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autofree char *out = NULL;
	g_autofree char *out_bad = NULL;

	json_node_set_string(node, hostname);
	out = vt_json_node_to_string(node, FALSE);
	g_assert_cmpstr(out, ==, "\"x\\u202ey\\u009b\\u2028\\udb40\\udc01\\u007f\"");
	g_assert_true(json_parser_load_from_data(parser, out, -1, NULL));
	g_assert_cmpstr(json_node_get_string(json_parser_get_root(parser)), ==, hostname);
	/* a stray byte JSON cannot carry, and the text after it kept */
	json_node_set_string(bad, "a\xff\xc3\xa9\xa9"
				  "b");
	out_bad = vt_json_node_to_string(bad, FALSE);
	g_assert_cmpstr(out_bad, ==, "\"a\\ufffd\xc3\xa9\\ufffdb\"");
}

static void
test_enum_by_name(void)
{
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *msg = vt_json_message_from_string(
		&virttune__v1__apply_result__descriptor,
		"{\"request_id\":\"r1\",\"status\":\"refused\",\"reason\":\"policy\"}", -1, &error);
	VtApplyResult *result = (VtApplyResult *)msg;
	g_autofree char *text = NULL;

	g_assert_no_error(error);
	g_assert_cmpint(result->status, ==, VIRTTUNE__V1__APPLY_RESULT__STATUS__refused);
	text = vt_json_message_to_string(msg, FALSE, &error);
	g_assert_cmpstr(text, ==,
			"{\"request_id\":\"r1\",\"status\":\"refused\",\"reason\":\"policy\"}");
	vt_message_free(msg);
}

typedef struct {
	const char *json;
	const char *expect; /* substring of the error message */
} BadCase;

static void
test_malformed(void)
{
	static const BadCase cases[] = {
		{"{\"identity\":{\"hostnme\":\"x\"}}", "identity.hostnme: unknown field"},
		{"{\"nics\":[{\"name\":\"eth0\"},{\"mtu\":\"1500\"}]}",
		 "nics[1].mtu: expected integer, got string"},
		{"{\"nics\":[{\"channels\":{\"combined\":-1}}]}",
		 "nics[0].channels.combined: -1 is out of range"},
		{"{\"nics\":[{\"channels\":{\"combined\":4294967296}}]}",
		 "nics[0].channels.combined: 4294967296 is out of range"},
		{"{\"meminfo\":{\"MemTotal\":-5}}", "meminfo[\"MemTotal\"]: -5 is out of range"},
		{"{\"meminfo\":{\"MemTotal\":18446744073709551615}}",
		 "line 1, column 24: the number 18446744073709551615 is outside the 64-bit "
		 "integer range"},
		{"{\"meminfo\":{\"MemTotal\":\n-99999999999999999999999999999999}}",
		 "line 2, column 1: the number -99999999999999999999999... is outside"},
		{"{\"identity\":{\"hostname\":\"web\\u0000evil\"}}",
		 "line 1, column 29: a string holds \\u0000 (a NUL character)"},
		{"{\"meminfo\":[1,2]}", "meminfo: expected object, got array"},
		{"{\"sysctl\":{\"vm.swappiness\":60}}",
		 "sysctl[\"vm.swappiness\"]: expected string, got integer"},
		{"{\"block\":{\"name\":\"vda\"}}", "block: expected array, got object"},
		{"{\"block\":[{\"rotational\":1}]}",
		 "block[0].rotational: expected boolean, got integer"},
		{"{\"block\":[{\"schedulers\":[\"none\",null]}]}", "block[0].schedulers[1]"},
		{"{\"cpu\":{\"loadavg_1\":\"high\"}}",
		 "cpu.loadavg_1: expected number, got string"},
		{"{\"cpu\":{\"online\":1.5}}", "cpu.online: expected integer, got number"},
		{"{\"identity\":\"g1\"}", "identity: expected object, got string"},
		{"[]", "expected object, got array"},
		{"{\"identity\":", "not valid JSON"},
		{"", "empty JSON document"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		ProtobufCMessage *msg = vt_json_message_from_string(
			&virttune__v1__report__descriptor, cases[i].json, -1, &error);

		g_assert_null(msg);
		g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
		if (strstr(error->message, cases[i].expect) == NULL)
			g_error("case %" G_GSIZE_FORMAT " (%s): error '%s' lacks '%s'", i,
				cases[i].json, error->message, cases[i].expect);
	}
}

static void
test_malformed_envelope(void)
{
	static const BadCase cases[] = {
		{"{\"hello\":{},\"report\":{}}", "only one of 'hello' and 'report'"},
		{"{\"apply_result\":{\"status\":\"maybe\"}}",
		 "apply_result.status: 'maybe' is not a value"},
		{"{\"apply_request\":{\"action\":{\"set_channels\":{\"combined\":true}}}}",
		 "apply_request.action.set_channels.combined: expected integer, got boolean"},
		{"{\"version\":1,\"seq\":-1}", "seq: -1 is out of range"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		ProtobufCMessage *msg = vt_json_message_from_string(
			&virttune__v1__envelope__descriptor, cases[i].json, -1, &error);

		g_assert_null(msg);
		g_assert_nonnull(error);
		if (strstr(error->message, cases[i].expect) == NULL)
			g_error("case %" G_GSIZE_FORMAT ": error '%s' lacks '%s'", i,
				error->message, cases[i].expect);
	}
}

/* A deeply nested document is refused before JSON-GLib's recursive parser
 * sees it (200,000 levels overflow its stack). */
static void
test_depth_bound(void)
{
	gsize n = 200000;
	g_autofree char *deep = g_malloc(2 * n + 1);
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *msg;

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	msg = vt_json_message_from_string(&virttune__v1__report__descriptor, deep, -1, &error);
	g_assert_null(msg);
	g_assert_error(error, VT_ERROR, VT_ERROR_TOO_LARGE);

	/* brackets inside strings do not count; 32 real levels pass the check */
	g_assert_true(vt_json_check_depth("{\"a\":\"[[[[[[[[\\\"[[[[\"}", 24, 1, NULL));
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = '\0';
	g_assert_true(vt_json_check_depth(deep, 64, 32, NULL));
	g_assert_false(vt_json_check_depth(deep, 64, 31, NULL));
}

static void
test_null_is_unset(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(VtReport) report = (VtReport *)vt_json_message_from_string(
		&virttune__v1__report__descriptor, "{\"identity\":null,\"cpu\":{\"online\":null}}",
		-1, &error);

	g_assert_no_error(error);
	g_assert_null(report->identity);
	g_assert_false(report->cpu->has_online);
}

static void
test_unrepresentable_values_refused(void)
{
	VtNicStats stats = VIRTTUNE__V1__NIC_STATS__INIT;
	VtCpu cpu = VIRTTUNE__V1__CPU__INIT;
	VtIdentity id = VIRTTUNE__V1__IDENTITY__INIT;
	char bad_utf8[] = {'a', (char)0xff, 'b', 0};
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;

	stats.has_rx_bytes = TRUE;
	stats.rx_bytes = (uint64_t)G_MAXINT64 + 1;
	g_assert_null(vt_json_from_message(&stats.base, &e1));
	g_assert_error(e1, VT_ERROR, VT_ERROR_INVALID);
	g_assert_nonnull(strstr(e1->message, "rx_bytes"));

	cpu.has_loadavg_1 = TRUE;
	cpu.loadavg_1 = 0.0 / 0.0;
	g_assert_null(vt_json_from_message(&cpu.base, &e2));
	g_assert_nonnull(strstr(e2->message, "loadavg_1"));

	id.hostname = bad_utf8;
	g_assert_null(vt_json_from_message(&id.base, &e3));
	g_assert_nonnull(strstr(e3->message, "hostname: invalid UTF-8"));
}

/* A small payload of empty repeated submessages expands in memory; the unpack
 * budget caps it. 0x32 0x00 is an empty `block` entry (field 6). */
static void
test_unpack_budget(void)
{
	gsize n = VT_UNPACK_MEMORY_MAX / sizeof(VtBlock) + 1;
	g_autofree guint8 *payload = g_malloc(2 * n);
	g_autoptr(GError) error = NULL;
	ProtobufCMessage *msg;

	for (gsize i = 0; i < n; i++) {
		payload[2 * i] = 0x32;
		payload[2 * i + 1] = 0x00;
	}
	msg = vt_message_unpack(&virttune__v1__report__descriptor, payload, 2 * n, &error);
	g_assert_null(msg);
	g_assert_error(error, VT_ERROR, VT_ERROR_TOO_LARGE);

	/* a frame-sized payload of the same shape fits */
	g_clear_error(&error);
	msg = vt_message_unpack(&virttune__v1__report__descriptor, payload, VT_FRAME_MAX, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(((VtReport *)msg)->n_block, ==, VT_FRAME_MAX / 2);
	vt_message_free(msg);
}

static void
test_envelope_frame(void)
{
	VtEnvelope env = VIRTTUNE__V1__ENVELOPE__INIT;
	VtReportRequest req = VIRTTUNE__V1__REPORT_REQUEST__INIT;
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(VtEnvelope) back = NULL;

	env.has_version = TRUE;
	env.version = VT_PROTOCOL_VERSION;
	env.has_seq = TRUE;
	env.seq = 7;
	env.body_case = VIRTTUNE__V1__ENVELOPE__BODY_REPORT_REQUEST;
	env.report_request = &req;
	req.reason = (char *)"cli";
	g_assert_true(vt_envelope_append_frame(out, &env, &error));
	g_assert_no_error(error);
	back = vt_envelope_unpack(out->data + VT_FRAME_HEADER_SIZE, out->len - VT_FRAME_HEADER_SIZE,
				  &error);
	g_assert_no_error(error);
	g_assert_cmpuint(back->seq, ==, 7);
	g_assert_cmpstr(vt_envelope_body_name(back), ==, "report_request");
	g_assert_cmpstr(back->report_request->reason, ==, "cli");

	g_assert_null(vt_envelope_unpack((const guint8 *)"\xff\xff\xff", 3, &error));
	g_assert_error(error, VT_ERROR, VT_ERROR_INVALID);
}

static void
test_apply_status_names(void)
{
	g_assert_cmpstr(vt_apply_result_status_name(VIRTTUNE__V1__APPLY_RESULT__STATUS__applied),
			==, "applied");
	g_assert_cmpstr(
		vt_apply_result_status_name(VIRTTUNE__V1__APPLY_RESULT__STATUS__rolled_back), ==,
		"rolled_back");
	g_assert_cmpstr(vt_apply_result_status_name(-1), ==, "unknown");
	g_assert_cmpstr(vt_apply_result_status_name(G_MAXINT), ==, "unknown");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/json/round-trip-every-message", test_round_trip_every_message);
	g_test_add_func("/json/empty-message", test_empty_message_is_empty_object);
	g_test_add_func("/json/zero-is-kept", test_zero_is_kept);
	g_test_add_func("/json/report-text-round-trip", test_report_text_round_trip);
	g_test_add_func("/json/escapes-and-doubles", test_escapes_and_doubles);
	g_test_add_func("/json/escapes-invisible", test_escapes_invisible);
	g_test_add_func("/json/enum-by-name", test_enum_by_name);
	g_test_add_func("/json/malformed", test_malformed);
	g_test_add_func("/json/malformed-envelope", test_malformed_envelope);
	g_test_add_func("/json/null-is-unset", test_null_is_unset);
	g_test_add_func("/json/depth-bound", test_depth_bound);
	g_test_add_func("/json/unrepresentable-values-refused",
			test_unrepresentable_values_refused);
	g_test_add_func("/message/unpack-budget", test_unpack_budget);
	g_test_add_func("/message/envelope-frame", test_envelope_frame);
	g_test_add_func("/message/apply-status-names", test_apply_status_names);
	return g_test_run();
}
