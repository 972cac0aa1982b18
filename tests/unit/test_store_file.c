/* SPDX-License-Identifier: Apache-2.0 */
/* file:// store: every operation of store.h with S3's semantics. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/store/store.h"
#include "testutil.h"

struct fx {
	const char *dir;
	struct tv_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_tmpdir();
	char url[128];
	snprintf(url, sizeof(url), "file://%s/store", f->dir);
	assert_int_equal(tv_store_open(url, 0, NULL, &f->s), -ENOENT); /* not created unless asked */
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

static void test_put_get_range_head_delete(void **state)
{
	struct fx *f = *state;
	struct tv_buf b;
	tv_buf_init(&b, 0);
	assert_int_equal(tv_store_put(f->s, "a/b/c.bin", "0123456789", 10, 0), 0);
	assert_int_equal(tv_store_get(f->s, "a/b/c.bin", &b), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "0123456789", 10);
	assert_int_equal(tv_store_get_range(f->s, "a/b/c.bin", 3, 4, &b), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "3456", 4);
	assert_int_equal(tv_store_get_range(f->s, "a/b/c.bin", 8, 5, &b), TV_ETRUNC);
	struct tv_store_entry e;
	assert_int_equal(tv_store_head(f->s, "a/b/c.bin", &e), 0);
	assert_int_equal(e.size, 10);
	/* replace */
	assert_int_equal(tv_store_put(f->s, "a/b/c.bin", "xy", 2, 0), 0);
	assert_int_equal(tv_store_get(f->s, "a/b/c.bin", &b), 0);
	assert_int_equal(b.len, 2);
	assert_int_equal(tv_store_delete(f->s, "a/b/c.bin"), 0);
	assert_int_equal(tv_store_get(f->s, "a/b/c.bin", &b), -ENOENT);
	assert_int_equal(tv_store_head(f->s, "a/b/c.bin", &e), -ENOENT);
	assert_int_equal(tv_store_delete(f->s, "a/b/c.bin"), 0); /* deleting nothing is fine */
	tv_buf_cleanup(&b);
}

static void test_create_only_never_overwrites(void **state)
{
	struct fx *f = *state;
	assert_int_equal(tv_store_put(f->s, "snap/x.tar", "one", 3, TV_PUT_CREATE_ONLY), 0);
	assert_int_equal(tv_store_put(f->s, "snap/x.tar", "two", 3, TV_PUT_CREATE_ONLY), -EEXIST);
	struct tv_buf b;
	tv_buf_init(&b, 0);
	assert_int_equal(tv_store_get(f->s, "snap/x.tar", &b), 0);
	assert_memory_equal(b.data, "one", 3);
	tv_buf_cleanup(&b);
	/* no temp files left behind */
	char path[200];
	snprintf(path, sizeof(path), "%s/store/snap", f->dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			files++;
	closedir(d);
	assert_int_equal(files, 1);
}

static void test_put_file(void **state)
{
	struct fx *f = *state;
	char src[200];
	snprintf(src, sizeof(src), "%s/local.bin", f->dir);
	FILE *fp = fopen(src, "w");
	for (int i = 0; i < 100000; i++)
		fputc(i & 0xff, fp);
	fclose(fp);
	assert_int_equal(tv_store_put_file(f->s, "big/local.bin", src, 0), 0);
	struct tv_store_entry e;
	assert_int_equal(tv_store_head(f->s, "big/local.bin", &e), 0);
	assert_int_equal(e.size, 100000);
	assert_int_equal(tv_store_put_file(f->s, "big/missing", "/nonexistent/file", 0), -ENOENT);
}

static void test_list_pages_and_delimiter(void **state)
{
	struct fx *f = *state;
	char key[64];
	for (int i = 0; i < 25; i++) {
		snprintf(key, sizeof(key), "p/%c/k%02d", 'a' + i % 3, i);
		assert_int_equal(tv_store_put(f->s, key, "x", 1, 0), 0);
	}
	assert_int_equal(tv_store_put(f->s, "p/top", "x", 1, 0), 0);
	assert_int_equal(tv_store_put(f->s, "q/other", "x", 1, 0), 0);
	/* a stray temp file is not a key */
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%s/store/p/.tmp.junk.1.1", f->dir);
	fclose(fopen(tmp, "w"));

	char *after = NULL;
	int total = 0, pages = 0;
	char last[64] = "";
	do {
		struct tv_store_list l;
		assert_int_equal(tv_store_list(f->s, "p/", 0, after, 10, &l), 0);
		free(after);
		after = l.next ? strdup(l.next) : NULL;
		for (size_t i = 0; i < l.n; i++) {
			assert_true(strcmp(l.entries[i].key, last) > 0); /* sorted, no repeats */
			snprintf(last, sizeof(last), "%s", l.entries[i].key);
		}
		total += (int)l.n;
		pages++;
		tv_store_list_cleanup(&l);
	} while (after);
	assert_int_equal(total, 26);
	assert_int_equal(pages, 3);

	struct tv_store_list l;
	assert_int_equal(tv_store_list(f->s, "p/", '/', NULL, 0, &l), 0);
	assert_int_equal(l.nprefixes, 3);
	assert_string_equal(l.prefixes[0], "p/a/");
	assert_string_equal(l.prefixes[2], "p/c/");
	assert_int_equal(l.n, 1);
	assert_string_equal(l.entries[0].key, "p/top");
	tv_store_list_cleanup(&l);
	/* a prefix that ends inside a name */
	assert_int_equal(tv_store_list(f->s, "p/a/k0", 0, NULL, 0, &l), 0);
	assert_int_equal(l.n, 4); /* k00 k03 k06 k09 */
	tv_store_list_cleanup(&l);
}

static void test_keys_cannot_escape(void **state)
{
	struct fx *f = *state;
	const char *bad[] = {"../x", "a/../../x", "/abs", "a//b", "a/./b", "", "a/.hidden", "tab\tkey", "a/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tv_store_put(f->s, bad[i], "x", 1, 0), -EINVAL);
	assert_int_equal(tv_store_put(f->s, "ok key with spaces:+%/ü", "x", 1, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_range_head_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_only_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pages_and_delimiter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_cannot_escape, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
