/* SPDX-License-Identifier: Apache-2.0 */
/* proc_exe: a process id -> the path of its executable, read from the host's
 * /proc (agent.hostProcRoot) the first time the id is asked for and kept
 * until the process runs another program or exits (the OS layer's exec and
 * exit records say when). A process already gone has no path: records name
 * it by pid and comm only. One thread. */
#ifndef TV_AGENT_PROC_EXE_H
#define TV_AGENT_PROC_EXE_H

#include <stdint.h>

struct tv_proc_exe;

/* proc_root: the host's /proc (NULL or "": /proc). @return 0 or -ENOMEM. */
int tv_proc_exe_new(struct tv_proc_exe **out, const char *proc_root);
void tv_proc_exe_free(struct tv_proc_exe *c);
/* @return pid's executable ("" when not known), valid until the next call. */
const char *tv_proc_exe_get(struct tv_proc_exe *c, uint32_t pid);
/* pid ran a new program (read again) or exited (forgotten). */
void tv_proc_exe_forget(struct tv_proc_exe *c, uint32_t pid);

#endif
