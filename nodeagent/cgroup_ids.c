/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup_ids: see cgroup_ids.h. Every directory of the tree is remembered
 * (pods or not), so an id that names no pod does not make it walk again. */
#include "nodeagent/cgroup_ids.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/common/err.h"
#include "archive/common/timeutil.h"

#define RESCAN_NS 500000000ULL
#define MAX_CGROUPS (1u << 20)

struct entry {
	uint64_t id; /* 0: empty slot */
	bool pod;
	struct tv_cgroup_info info;
};

struct tv_cgroup_ids {
	char root[4096];
	size_t root_len;
	struct entry *slots;
	uint32_t nslots, n;
	uint64_t last_scan;
};

static struct tv_cgroup_ids *walking; /* nftw has no context pointer; one walk at a time (one thread) */

static int find_cgroup2(char *out, size_t n)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return tv_err(-errno, "/proc/self/mountinfo: %s", strerror(errno));
	char line[4096];
	int rc = -ENOENT;
	while (rc && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPEROPTS */
		char mnt[4096], *dash = strstr(line, " - ");
		if (dash && !strncmp(dash + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(out, n, "%s", mnt);
			rc = 0;
		}
	}
	fclose(f);
	return rc ? tv_err(rc, "no cgroup2 file system mounted (set agent.hostCgroupRoot)") : 0;
}

static struct entry *slot_of(struct tv_cgroup_ids *c, uint64_t id)
{
	uint32_t i = (uint32_t)((id * 0x9E3779B97F4A7C15ULL) >> 32) & (c->nslots - 1);
	while (c->slots[i].id && c->slots[i].id != id)
		i = (i + 1) & (c->nslots - 1);
	return &c->slots[i];
}

static int grow(struct tv_cgroup_ids *c)
{
	uint32_t old = c->nslots;
	struct entry *prev = c->slots;
	c->nslots = old ? old * 2 : 1024;
	if (!(c->slots = calloc(c->nslots, sizeof(*c->slots)))) {
		c->slots = prev;
		c->nslots = old;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < old; i++)
		if (prev[i].id)
			*slot_of(c, prev[i].id) = prev[i];
	free(prev);
	return 0;
}

static int on_dir(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	struct tv_cgroup_ids *c = walking;
	if (type != FTW_D)
		return FTW_CONTINUE;
	if (c->n >= MAX_CGROUPS)
		return FTW_STOP;
	if (c->n * 2 >= c->nslots && grow(c))
		return FTW_STOP;
	struct entry *e = slot_of(c, (uint64_t)st->st_ino);
	if (!e->id) {
		e->id = (uint64_t)st->st_ino;
		const char *rel = path + c->root_len;
		e->pod = tv_cgroup_parse(rel, strlen(rel), &e->info);
		c->n++;
	}
	return FTW_CONTINUE;
}

static void scan(struct tv_cgroup_ids *c)
{
	c->last_scan = tv_mono_ns();
	walking = c;
	nftw(c->root, on_dir, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
	walking = NULL;
}

int tv_cgroup_ids_open(struct tv_cgroup_ids **out, const char *root)
{
	*out = NULL;
	struct tv_cgroup_ids *c = calloc(1, sizeof(*c));
	if (!c)
		return tv_err(-ENOMEM, "out of memory");
	int rc = root && root[0] ? 0 : find_cgroup2(c->root, sizeof(c->root));
	if (root && root[0])
		snprintf(c->root, sizeof(c->root), "%s", root);
	struct stat st;
	if (!rc && stat(c->root, &st) != 0)
		rc = tv_err(-errno, "cgroup root %s: %s", c->root, strerror(errno));
	if (!rc && grow(c))
		rc = tv_err(-ENOMEM, "out of memory");
	if (rc) {
		tv_cgroup_ids_free(c);
		return rc;
	}
	c->root_len = strlen(c->root);
	scan(c);
	*out = c;
	return 0;
}

void tv_cgroup_ids_free(struct tv_cgroup_ids *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

bool tv_cgroup_ids_lookup(struct tv_cgroup_ids *c, uint64_t id, struct tv_cgroup_info *info)
{
	if (!c || !id)
		return false;
	struct entry *e = slot_of(c, id);
	if (!e->id && tv_mono_ns() - c->last_scan >= RESCAN_NS) {
		scan(c); /* a cgroup made since the last walk (a pod just started) */
		e = slot_of(c, id);
	}
	if (!e->id || !e->pod)
		return false;
	*info = e->info;
	return true;
}

const char *tv_cgroup_ids_root(const struct tv_cgroup_ids *c)
{
	return c->root;
}
