/* SPDX-License-Identifier: Apache-2.0 */
/* mcp: JSON-RPC handling (versions, errors, notifications), the tools'
 * input schema checks, cursors bound to their query, on an empty store. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dissector/web/mcp.h"
#include "dissector/web/mcp_tools.h"
#include "dissector/web/mcp_util.h"
#include "testutil.h"

struct fx {
	const char *dir;
	struct tv_mcp *m;
	char url[256];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_tmpdir();
	snprintf(f->url, sizeof(f->url), "file://%s", f->dir);
	struct tv_mcp_opts o = {.store_url = f->url, .export_dir = f->dir, .cache_dir = f->dir};
	assert_int_equal(tv_mcp_new(&f->m, &o), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tv_mcp_free(f->m);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

/* Handles one message given as text; returns the response (may be NULL). */
static json_t *call(struct fx *f, const char *text)
{
	json_error_t e;
	json_t *msg = json_loads(text, 0, &e);
	assert_non_null(msg);
	struct tv_mcp_call c = {0};
	json_t *r = tv_mcp_handle(f->m, msg, &c);
	json_decref(msg);
	return r;
}

static int error_code(json_t *r)
{
	return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

static void test_initialize_negotiates_version(void **state)
{
	struct fx *f = *state;
	const char *asked[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "1999-01-01"};
	const char *got[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2025-11-25"};
	for (size_t i = 0; i < 5; i++) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"initialize\",\"params\":{"
			 "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
			 "\"version\":\"1\"}}}",
			 i, asked[i]);
		json_t *r = call(f, msg);
		json_t *res = json_object_get(r, "result");
		assert_non_null(res);
		assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), got[i]);
		assert_non_null(json_object_get(json_object_get(res, "capabilities"), "tools"));
		assert_int_equal(json_integer_value(json_object_get(r, "id")), (json_int_t)i);
		json_decref(r);
	}
}

static void test_jsonrpc_errors(void **state)
{
	struct fx *f = *state;
	json_t *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no/such\"}");
	assert_int_equal(error_code(r), TV_JSONRPC_METHOD_NOT_FOUND);
	json_decref(r);
	r = call(f, "{\"id\":2,\"method\":\"ping\"}"); /* no jsonrpc member */
	assert_int_equal(error_code(r), TV_JSONRPC_INVALID_REQUEST);
	json_decref(r);
	r = call(f, "[1,2]");
	assert_int_equal(error_code(r), TV_JSONRPC_INVALID_REQUEST);
	json_decref(r);
	r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":42}");
	assert_int_equal(error_code(r), TV_JSONRPC_INVALID_REQUEST);
	json_decref(r);
	r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":4}"); /* neither request nor response */
	assert_int_equal(error_code(r), TV_JSONRPC_INVALID_REQUEST);
	json_decref(r);
	assert_null(call(f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}")); /* a response: dropped */
	/* notifications get no response, known or not */
	assert_null(call(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
	assert_null(call(f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}"));
	r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	assert_true(json_is_object(json_object_get(r, "result")));
	assert_string_equal(json_string_value(json_object_get(r, "id")), "p");
	json_decref(r);
}

static void test_tools_list_has_schemas(void **state)
{
	struct fx *f = *state;
	json_t *r = call(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	json_t *tools = json_object_get(json_object_get(r, "result"), "tools");
	assert_true(json_array_size(tools) >= 10);
	assert_null(json_object_get(json_object_get(r, "result"), "nextCursor")); /* one page */
	size_t i;
	json_t *t;
	bool writes = false;
	json_array_foreach (tools, i, t) {
		assert_non_null(json_string_value(json_object_get(t, "name")));
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(t, "inputSchema"), "type")),
			"object");
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(t, "outputSchema"), "type")),
			"object");
		writes |= !strcmp(json_string_value(json_object_get(t, "name")), "create_snapshot");
	}
	assert_false(writes); /* not without allow_write */
	json_decref(r);
}

static json_t *tool_call(struct fx *f, const char *name, const char *args)
{
	char msg[1024];
	snprintf(msg, sizeof(msg),
		 "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
		 "\"arguments\":%s}}",
		 name, args);
	return call(f, msg);
}

/* A tool error: result.isError with a message containing want. */
static void assert_tool_error(json_t *r, const char *want)
{
	json_t *res = json_object_get(r, "result");
	assert_non_null(res);
	assert_true(json_is_true(json_object_get(res, "isError")));
	const char *text = json_string_value(
		json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
	assert_non_null(text);
	if (!strstr(text, want))
		fail_msg("tool error \"%s\" does not say \"%s\"", text, want);
	json_decref(r);
}

static void test_bad_arguments_say_what_to_fix(void **state)
{
	struct fx *f = *state;
	/* an unknown tool, or a write on a read-only server: protocol errors naming it */
	json_t *r = tool_call(f, "no_such_tool", "{}");
	assert_int_equal(error_code(r), TV_JSONRPC_INVALID_PARAMS);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
			       "no_such_tool"));
	json_decref(r);
	r = tool_call(f, "create_snapshot", "{\"name\":\"x\",\"from\":\"-1h\",\"to\":\"now\"}");
	assert_int_equal(error_code(r), TV_JSONRPC_INVALID_PARAMS);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
			       "--allow-write"));
	json_decref(r);
	assert_tool_error(tool_call(f, "list_flows", "{\"from\":1}"), "from");
	assert_tool_error(tool_call(f, "list_flows", "{\"limit\":100000}"), "limit");
	assert_tool_error(tool_call(f, "list_flows", "{\"bogus\":true}"), "bogus");
	assert_tool_error(tool_call(f, "list_flows", "{\"sort\":\"nonsense\"}"), "sort");
	assert_tool_error(tool_call(f, "list_flows", "{\"from\":\"yesterday-ish\",\"to\":\"now\"}"), "from");
	assert_tool_error(tool_call(f, "list_flows", "{\"cursor\":\"not-a-cursor\"}"), "cursor");
	/* the packet tools cap the window */
	assert_tool_error(tool_call(f, "list_api_calls", "{\"from\":\"-3d\",\"to\":\"now\"}"), "wide");
	assert_tool_error(
		tool_call(f, "export_pcap", "{\"from\":\"-1m\",\"to\":\"now\",\"file\":\"../x.pcapng\"}"),
		"plain file name");
}

static void test_schema_check(void **state)
{
	(void)state;
	json_t *schema = json_loads(
		"{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":1,"
		"\"maximum\":5},\"s\":{\"type\":\"string\",\"maxLength\":3,\"enum\":[\"a\",\"bc\"]},"
		"\"l\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":2}},"
		"\"required\":[\"n\"],\"additionalProperties\":false}",
		0, NULL);
	assert_non_null(schema);
	struct {
		const char *value;
		int ok;
	} cases[] = {
		{"{\"n\":1}", 1},
		{"{\"n\":5,\"s\":\"bc\",\"l\":[\"x\"]}", 1},
		{"{}", 0},
		{"{\"n\":0}", 0},
		{"{\"n\":6}", 0},
		{"{\"n\":1.5}", 0},
		{"{\"n\":\"1\"}", 0},
		{"{\"n\":1,\"s\":\"zz\"}", 0},
		{"{\"n\":1,\"l\":[1]}", 0},
		{"{\"n\":1,\"l\":[\"a\",\"b\",\"c\"]}", 0},
		{"{\"n\":1,\"extra\":null}", 0},
		{"[]", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_t *v = json_loads(cases[i].value, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		int rc = tv_schema_check(schema, v, "arguments");
		if ((rc == 0) != cases[i].ok)
			fail_msg("%s: schema check said %d", cases[i].value, rc);
		json_decref(v);
	}
	json_decref(schema);
}

static void test_cursor_bound_to_query(void **state)
{
	(void)state;
	json_t *a = json_loads("{\"from\":\"-1h\",\"to\":\"now\",\"port\":80}", 0, NULL);
	struct tv_tool_window w = {.from = 1000, .to = 5000};
	json_t *cur = tv_cursor_make(a, &w, 50);
	assert_true(json_is_string(cur));

	/* same query, later "now": the first page's window comes back */
	json_object_set(a, "cursor", cur);
	struct tv_tool_window w2 = {.from = 2000, .to = 6000};
	uint64_t off = 0;
	assert_int_equal(tv_cursor_apply(a, &w2, &off), 0);
	assert_int_equal(off, 50);
	assert_int_equal(w2.from, 1000);
	assert_int_equal(w2.to, 5000);

	/* another query (other port) with that cursor is refused */
	json_t *b = json_loads("{\"from\":\"-1h\",\"to\":\"now\",\"port\":443}", 0, NULL);
	json_object_set(b, "cursor", cur);
	assert_int_equal(tv_cursor_apply(b, &w2, &off), -EINVAL);

	/* a tampered cursor is refused */
	char bad[600];
	snprintf(bad, sizeof(bad), "%s", json_string_value(cur));
	bad[strlen(bad) / 2] ^= 1;
	json_object_set_new(a, "cursor", json_string(bad));
	assert_int_equal(tv_cursor_apply(a, &w2, &off), -EINVAL);

	/* no cursor: offset 0, window kept */
	json_object_del(a, "cursor");
	struct tv_tool_window w3 = {.from = 7, .to = 8};
	assert_int_equal(tv_cursor_apply(a, &w3, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(w3.from, 7);
	json_decref(cur);
	json_decref(a);
	json_decref(b);
}

static void test_empty_store_says_not_captured(void **state)
{
	struct fx *f = *state;
	json_t *r = tool_call(f, "list_flows",
			      "{\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-01-01T00:10:00Z\"}");
	json_t *res = json_object_get(r, "result");
	assert_false(json_is_true(json_object_get(res, "isError")));
	json_t *sc = json_object_get(res, "structuredContent");
	assert_int_equal(json_integer_value(json_object_get(sc, "total")), 0);
	/* an empty answer says the window was not captured, not "no traffic" */
	json_t *nc = json_object_get(json_object_get(sc, "coverage"), "not_captured");
	assert_true(json_array_size(nc) >= 1);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initialize_negotiates_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonrpc_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tools_list_has_schemas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments_say_what_to_fix, setup, teardown),
		cmocka_unit_test(test_schema_check),
		cmocka_unit_test(test_cursor_bound_to_query),
		cmocka_unit_test_setup_teardown(test_empty_store_says_not_captured, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
