/* SPDX-License-Identifier: Apache-2.0 */
/* proc_exe: see proc_exe.h. A direct-mapped cache: a pid evicts another
 * that maps to its slot, which is then read again if asked for. */
#include "nodeagent/proc_exe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 4096
#define PATH_MAX_KEPT 256

struct slot {
	uint32_t pid; /* 0: empty */
	char exe[PATH_MAX_KEPT];
};

struct tv_proc_exe {
	char root[512];
	struct slot slots[SLOTS];
};

int tv_proc_exe_new(struct tv_proc_exe **out, const char *proc_root)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	snprintf((*out)->root, sizeof((*out)->root), "%s", proc_root && proc_root[0] ? proc_root : "/proc");
	return 0;
}

void tv_proc_exe_free(struct tv_proc_exe *c)
{
	free(c);
}

static struct slot *slot_of(struct tv_proc_exe *c, uint32_t pid)
{
	return &c->slots[(pid * 2654435761u) >> 20 & (SLOTS - 1)];
}

const char *tv_proc_exe_get(struct tv_proc_exe *c, uint32_t pid)
{
	if (!c || !pid)
		return "";
	struct slot *s = slot_of(c, pid);
	if (s->pid == pid)
		return s->exe;
	char link[600];
	snprintf(link, sizeof(link), "%s/%u/exe", c->root, pid);
	ssize_t n = readlink(link, s->exe, sizeof(s->exe) - 1);
	s->exe[n > 0 ? n : 0] = '\0';
	s->pid = n > 0 ? pid : 0; /* not found: asked again next time (it may be starting) */
	return s->exe;
}

void tv_proc_exe_forget(struct tv_proc_exe *c, uint32_t pid)
{
	if (!c)
		return;
	struct slot *s = slot_of(c, pid);
	if (s->pid == pid)
		s->pid = 0;
}
