/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: arbitrary bytes as an events file (zstd + JSON Lines), read
 * record by record and replayed into names (who held which address when),
 * then every holding looked up again at its start: it must name a holder;
 * and into the processes of sockets (procs), built and looked up. */
#include <stdlib.h>

#include "archive/events.h"
#include "archive/names.h"
#include "archive/procs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_holding(void *ctx, uint8_t family, const uint8_t addr[16], const struct tv_name *v,
			 uint64_t from, uint64_t to)
{
	const struct tv_names *n = ctx;
	if (!v->name || !v->kind || from > to || !tv_names_lookup_at(n, family, addr, from))
		abort();
	tv_names_service_at(n, family, addr, from);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tv_events_reader *r;
	if (tv_events_reader_open(&r, data, size, "fuzz") != 0)
		return 0;
	json_t *rec;
	while (tv_events_reader_next(r, &rec) == 1)
		json_decref(rec);
	tv_events_reader_free(r);
	struct tv_names *n;
	if (tv_names_new(&n))
		return 0;
	tv_names_add_events(n, data, size, "fuzz");
	tv_names_each_holding(n, check_holding, n);
	uint8_t a[16] = {10, 0, 0, 1}, b[16] = {10, 0, 0, 2};
	tv_procs_count(tv_names_procs(n));
	tv_procs_lookup(tv_names_procs(n), 6, 4, a, 80, b, 40000, 1);
	tv_names_free(n);
	return 0;
}
