/* SPDX-License-Identifier: Apache-2.0 */
/* snapshot_list: the listing's columns from NAME.meta.json beside each tar,
 * the statuses (creating, complete, unlisted), stat and delete. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store/store.h"
#include "dissector/query/snapshot.h"
#include "dissector/query/snapshot_list.h"
#include "testutil.h"

struct fx {
	const char *dir;
	struct tv_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_tmpdir();
	char url[256];
	snprintf(url, sizeof(url), "file://%s/store", f->dir);
	assert_int_equal(tv_store_open(url, TV_STORE_CREATE, NULL, &f->s), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tv_store_free(f->s);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static void put_tar(struct fx *f, const char *name, size_t size)
{
	char key[512];
	assert_int_equal(tv_snapshot_key("", name, key, sizeof(key)), 0);
	char *data = calloc(1, size);
	assert_int_equal(tv_store_put(f->s, key, data, size, 0), 0);
	free(data);
}

static json_t *row_named(json_t *rows, const char *name)
{
	size_t i;
	json_t *r;
	json_array_foreach (rows, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "name")), name))
			return r;
	return NULL;
}

#define T0 1790000000000000000ULL
#define SEC 1000000000ULL

static void test_statuses_and_columns(void **state)
{
	struct fx *f = *state;
	json_t *nodes = json_pack("[s,s]", "n1", "n2");
	struct tv_snapshot_meta m = {.name = "inc-1",
				     .status = "creating",
				     .from = T0,
				     .to = T0 + 60 * SEC,
				     .created_ns = T0 + 3600 * SEC,
				     .nodes = nodes};
	assert_int_equal(tv_snapshot_meta_put(f->s, "", &m), 0);
	put_tar(f, "legacy", 1000); /* a tar from before the metadata existed */

	json_t *rows;
	assert_int_equal(tv_snapshot_list(f->s, "", &rows), 0);
	assert_int_equal(json_array_size(rows), 2);
	/* in name order */
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "name")), "inc-1");
	json_t *r = row_named(rows, "inc-1");
	assert_string_equal(json_string_value(json_object_get(r, "status")), "creating");
	assert_int_equal(json_integer_value(json_object_get(r, "bytes")), 0);
	r = row_named(rows, "legacy");
	assert_string_equal(json_string_value(json_object_get(r, "status")), "unlisted");
	assert_int_equal(json_integer_value(json_object_get(r, "bytes")), 1000);
	assert_true(json_is_null(json_object_get(r, "from")));
	assert_true(json_is_null(json_object_get(r, "nodes")));
	json_decref(rows);

	/* the tar stored, the metadata replaced: complete with every column */
	put_tar(f, "inc-1", 4096);
	m.status = "complete";
	m.segments = 3;
	assert_int_equal(tv_snapshot_meta_put(f->s, "", &m), 0);
	json_t *one;
	assert_int_equal(tv_snapshot_stat(f->s, "", "inc-1", &one), 0);
	assert_string_equal(json_string_value(json_object_get(one, "status")), "complete");
	assert_int_equal(json_integer_value(json_object_get(one, "bytes")), 4096);
	assert_string_equal(json_string_value(json_object_get(one, "from")),
			    "2026-09-21T14:13:20.000000000Z");
	assert_string_equal(json_string_value(json_object_get(one, "to")), "2026-09-21T14:14:20.000000000Z");
	assert_string_equal(json_string_value(json_object_get(one, "created")),
			    "2026-09-21T15:13:20.000000000Z");
	assert_true(json_equal(json_object_get(one, "nodes"), nodes));
	assert_int_equal(json_integer_value(json_object_get(one, "segments")), 3);
	assert_true(json_is_null(json_object_get(one, "retention")));
	assert_true(json_is_false(json_object_get(one, "legal_hold")));
	json_decref(one);
	json_decref(nodes);

	assert_int_equal(tv_snapshot_stat(f->s, "", "nope", &one), -ENOENT);
}

static void test_delete_removes_tar_and_metadata(void **state)
{
	struct fx *f = *state;
	struct tv_snapshot_meta m = {.name = "a", .status = "complete", .from = T0, .to = T0 + SEC};
	assert_int_equal(tv_snapshot_meta_put(f->s, "", &m), 0);
	put_tar(f, "a", 10);
	put_tar(f, "b", 20);
	assert_int_equal(tv_snapshot_delete(f->s, "", "a"), 0);
	json_t *rows;
	assert_int_equal(tv_snapshot_list(f->s, "", &rows), 0);
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "name")), "b");
	json_decref(rows);
	assert_int_equal(tv_snapshot_delete(f->s, "", "a"), -ENOENT);
	/* nothing of a is left behind */
	struct tv_buf b;
	tv_buf_init(&b, 1 << 16);
	assert_int_equal(tv_store_get(f->s, "v1/snapshots/a" TV_SNAPSHOT_META_SUFFIX, &b), -ENOENT);
	tv_buf_cleanup(&b);
}

static void test_prefix_and_nested_keys(void **state)
{
	struct fx *f = *state;
	/* a listing under one prefix sees neither another prefix's snapshots nor deeper keys */
	char key[512];
	assert_int_equal(tv_snapshot_key("team-a", "x", key, sizeof(key)), 0);
	assert_int_equal(tv_store_put(f->s, key, "t", 1, 0), 0);
	assert_int_equal(tv_store_put(f->s, "v1/snapshots/deeper/y.tar", "t", 1, 0), 0);
	put_tar(f, "top", 1);
	json_t *rows;
	assert_int_equal(tv_snapshot_list(f->s, "", &rows), 0);
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "name")), "top");
	json_decref(rows);
	assert_int_equal(tv_snapshot_list(f->s, "team-a", &rows), 0);
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "name")), "x");
	json_decref(rows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_statuses_and_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_removes_tar_and_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_and_nested_keys, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
