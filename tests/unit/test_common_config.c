/* SPDX-License-Identifier: Apache-2.0 */
/* config: the table engine every program's YAML and flags go through.
 * Types (sizes, durations, counts, enums, lists), several parts over
 * several structs, keys of another program skipped, errors that name
 * FILE:LINE:COLUMN, flag names derived from keys, and --print-config. */
#include <stdlib.h>
#include <string.h>

#include "archive/common/config.h"
#include "archive/common/err.h"
#include "testutil.h"

struct own {
	uint64_t size, dur;
	unsigned count;
	int mode;
	char *name;
	struct tv_strlist list;
	bool on;
};

struct other {
	int64_t level;
};

#define O(f) offsetof(struct own, f)
static const struct tv_cfg_entry own_table[] = {
	{"a.size", TV_CFG_SIZE, O(size), "1Mi", "a size", NULL},
	{"a.wait", TV_CFG_DURATION, O(dur), "10s", "a duration", NULL},
	{"a.count", TV_CFG_UINT, O(count), "4", "a count", NULL},
	{"a.mode", TV_CFG_ENUM, O(mode), "auto", "an enum", "auto|path|virtual"},
	{"a.name", TV_CFG_STRING, O(name), NULL, "a string", NULL},
	{"a.list", TV_CFG_LIST, O(list), "x,y", "a list", NULL},
	{"a.b.on", TV_CFG_BOOL, O(on), "false", "nested", NULL},
};
static const struct tv_cfg_entry other_table[] = {
	{"z.level", TV_CFG_INT, offsetof(struct other, level), "-3", "an integer", NULL},
};
static const char *const foreign[] = {"agent.", NULL};

struct fx {
	struct own own;
	struct other other;
	struct tv_cfg_part parts[2];
	struct tv_cfg cfg;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->parts[0] = (struct tv_cfg_part){own_table, sizeof(own_table) / sizeof(own_table[0]), &f->own};
	f->parts[1] = (struct tv_cfg_part){other_table, 1, &f->other};
	f->cfg = (struct tv_cfg){f->parts, 2, foreign};
	assert_int_equal(tv_cfg_init(&f->cfg), 0);
}

static void test_defaults_and_types(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f);
	assert_int_equal(f.own.size, 1 << 20);
	assert_int_equal(f.own.dur, 10ULL * 1000000000ULL);
	assert_int_equal(f.own.count, 4);
	assert_int_equal(f.own.mode, 0);
	assert_null(f.own.name);
	assert_int_equal(f.own.list.n, 2);
	assert_int_equal(f.other.level, -3);
	assert_int_equal(tv_cfg_set(&f.cfg, "a.mode", "virtual", true, "--mode"), 0);
	assert_int_equal(f.own.mode, 2);
	assert_int_equal(tv_cfg_set(&f.cfg, "a.mode", "sideways", true, "--mode"), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "auto|path|virtual"));
	assert_int_equal(tv_cfg_set(&f.cfg, "a.count", "-1", true, "--count"), -EINVAL);
	assert_int_equal(tv_cfg_set(&f.cfg, "a.list", "z", false, "--list"), 0);
	assert_int_equal(f.own.list.n, 3);
	assert_int_equal(tv_cfg_set(&f.cfg, "nope", "1", true, "--set"), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "unknown key 'nope'"));
	tv_cfg_cleanup(&f.cfg);
	assert_null(f.own.name);
	assert_int_equal(f.own.list.n, 0);
}

static const char *write_file(const char *dir, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void test_yaml_with_foreign_keys(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	struct fx f;
	fx_init(&f);
	const char *path =
		write_file(dir, "a:\n  size: 2Gi\n  name: \"hello\"\n  list: [p, q]\n  b:\n    on: yes\n"
				"agent:\n  node: n1\n  interfaces: [eth0, eth1]\n  nested:\n    deep: 1\n"
				"z:\n  level: 7\n");
	assert_int_equal(tv_cfg_load_file(&f.cfg, path), 0);
	assert_int_equal(f.own.size, 2ULL << 30);
	assert_string_equal(f.own.name, "hello");
	assert_int_equal(f.own.list.n, 2);
	assert_string_equal(f.own.list.items[1], "q");
	assert_true(f.own.on);
	assert_int_equal(f.other.level, 7);
	/* an unknown key of our own is an error that says where */
	path = write_file(dir, "a:\n  size: 1Mi\n  colour: red\n");
	assert_int_equal(tv_cfg_load_file(&f.cfg, path), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "c.yaml:3:"));
	assert_non_null(strstr(tv_errmsg(), "unknown key 'a.colour'"));
	path = write_file(dir, "a:\n  wait: soon\n");
	assert_int_equal(tv_cfg_load_file(&f.cfg, path), -EINVAL);
	assert_non_null(strstr(tv_errmsg(), "a duration like"));
	tv_cfg_cleanup(&f.cfg);
	tu_rmrf(dir);
}

static void test_flag_names_and_print(void **state)
{
	(void)state;
	char name[64];
	tv_cfg_flag_name("store.caBundle", name, sizeof(name));
	assert_string_equal(name, "ca-bundle");
	tv_cfg_flag_name("uploader.giveUpAfter", name, sizeof(name));
	assert_string_equal(name, "give-up-after");
	tv_cfg_flag_name("plain", name, sizeof(name));
	assert_string_equal(name, "plain");
	struct fx f;
	fx_init(&f);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	tv_cfg_print(&f.cfg, out);
	fclose(out);
	assert_non_null(strstr(text, "a:\n  size: 1048576  # a size\n"));
	assert_non_null(strstr(text, "  mode: \"auto\"  # an enum\n"));
	assert_non_null(strstr(text, "  b:\n    on: false  # nested\n"));
	assert_non_null(strstr(text, "z:\n  level: -3"));
	/* what it prints reads back as the same configuration */
	const char *dir = tu_tmpdir();
	const char *path = write_file(dir, text);
	assert_int_equal(tv_cfg_load_file(&f.cfg, path), 0);
	assert_int_equal(f.own.size, 1 << 20);
	free(text);
	tv_cfg_cleanup(&f.cfg);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_types),
		cmocka_unit_test(test_yaml_with_foreign_keys),
		cmocka_unit_test(test_flag_names_and_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
