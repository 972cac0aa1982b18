/* SPDX-License-Identifier: Apache-2.0 */
/* dio_out: an append-only file written with O_DIRECT from a ring of aligned
 * buffers, by an I/O thread of its own, so the device works while the
 * caller compresses (a synchronous O_DIRECT write stalls it for the whole
 * transfer: on these VMs that alone made the agent fall behind at 5 Gbit/s).
 *
 * The caller appends bytes; each full buffer goes to the I/O thread. A sync
 * waits for those, then writes the partial tail itself, zero padded to the
 * 4 KiB block, and cuts the file back to its true length: what was appended
 * before a sync survives a crash of the process. The tail is written again,
 * with more behind it, by the next sync or when its buffer fills. */
#ifndef TV_DIO_OUT_H
#define TV_DIO_OUT_H

#include <stddef.h>
#include <stdint.h>

#define TV_DIO_ALIGN 4096

struct tv_dio_out;

/* nbufs buffers of buf_bytes (a multiple of TV_DIO_ALIGN) and the thread.
 * @return 0 or negative errno (message set). */
int tv_dio_out_new(struct tv_dio_out **out, unsigned nbufs, size_t buf_bytes);
/* Waits for the thread's writes and stops it. */
void tv_dio_out_free(struct tv_dio_out *d);
/* Starts a new file: fd opened with O_DIRECT, empty; path is for messages
 * and must outlive the binding. The previous file must have been synced. */
void tv_dio_out_bind(struct tv_dio_out *d, int fd, const char *path);
/* Appends p[0..n). @return 0, or the first write error of this file. */
int tv_dio_out_write(struct tv_dio_out *d, const void *p, size_t n);
/* Everything appended is in the file, which is exactly that long.
 * @return 0 or the first write error of this file. */
int tv_dio_out_sync(struct tv_dio_out *d);

#endif
