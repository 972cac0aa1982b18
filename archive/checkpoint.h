/* SPDX-License-Identifier: Apache-2.0 */
/* checkpoint: the uploader's signed statement "node N's chain reached seq S,
 * whose index object has SHA-256 H, at time T", written at least once a
 * minute and at every clean stop to PREFIX/v1/checkpoints/NODE/TIMENS.json
 * (with S3 Object Lock retention where the bucket has it), so that deleting
 * a node's latest segments leaves a statement that names them. Each
 * checkpoint carries the SHA-256 of the node's previous checkpoint object, so
 * a deleted checkpoint breaks that chain too. docs/FORMAT.md §9.
 *
 * The object is one JSON line; the signature (Ed25519, the node key) covers a
 * fixed binary message, not the JSON text:
 *   "tapvault-checkpoint-v1\0" node "\0" seq(u64 BE) index_sha(32)
 *   time_ns(u64 BE) prev_checkpoint_sha(32) */
#ifndef TV_CHECKPOINT_H
#define TV_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/common/sha256.h"
#include "archive/index.h"
#include "archive/sign.h"
#include "archive/store/store.h"

struct tv_checkpoint {
	char node[TV_NODE_MAX + 1];
	uint64_t seq;                     /* the newest segment the store holds */
	uint8_t index_sha[TV_SHA256_LEN]; /* its index object's SHA-256 */
	uint64_t start_ns;                /* its start (names its key) */
	uint64_t time_ns;                 /* when the checkpoint was written */
	uint8_t prev_sha[TV_SHA256_LEN];  /* the node's previous checkpoint object; zero: the first */
	uint8_t key_id[TV_SHA256_LEN];    /* that signed it */
	uint8_t signature[TV_SIG_LEN];
};

/* Signs c with s (sets key_id and signature) and appends its JSON to out. */
int tv_checkpoint_encode_signed(struct tv_checkpoint *c, const struct tv_signer *s, struct tv_buf *out);
/* Parses one checkpoint object. @return 0 or TV_ECORRUPT (message names what). */
int tv_checkpoint_decode(const uint8_t *p, size_t n, const char *what, struct tv_checkpoint *c);
/* Whether pub signed c. */
bool tv_checkpoint_signature_ok(const struct tv_checkpoint *c, const uint8_t pub[TV_PUBKEY_LEN]);

#endif
