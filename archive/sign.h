/* SPDX-License-Identifier: Apache-2.0 */
/* sign: Ed25519 node keys (OpenSSL libcrypto) and the published form of
 * their public halves (docs/FORMAT.md §8).
 *
 * A node key signs every index the agent seals and every checkpoint the
 * uploader writes. The private key lives in one file (PKCS#8 PEM, mode 0600;
 * the chart mounts it from a Secret), is created on first start when absent,
 * and is never logged or uploaded. Its id is the SHA-256 of the raw 32-byte
 * public key. The public key is published to the store as
 * PREFIX/v1/keys/NODE/KEYID.json:
 *   {"version": 1, "node": ..., "key_id": hex, "algorithm": "ed25519",
 *    "public_key": hex, "not_before_ns": N, "revoked_ns": 0}
 * which is also the form `tapvault verify --keys FILE` pins (a JSON array of
 * them, or one). */
#ifndef TV_SIGN_H
#define TV_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive/common/buf.h"
#include "archive/common/sha256.h"

#define TV_SIG_LEN 64
#define TV_PUBKEY_LEN 32

struct tv_signer;

/* Loads the key in path, or creates one there when the file is absent
 * (created: set when it was). @return 0 or negative errno (message names the
 * path, never the key). */
int tv_signer_load(const char *path, bool create, struct tv_signer **out, bool *created);
void tv_signer_free(struct tv_signer *s);
const uint8_t *tv_signer_key_id(const struct tv_signer *s); /* TV_SHA256_LEN bytes */
const uint8_t *tv_signer_public(const struct tv_signer *s); /* TV_PUBKEY_LEN bytes */
/* sig receives the Ed25519 signature of data. @return 0 or -EIO. */
int tv_sign(const struct tv_signer *s, const void *data, size_t n, uint8_t sig[TV_SIG_LEN]);

/* Whether sig is pub's signature of data. */
bool tv_sig_check(const uint8_t pub[TV_PUBKEY_LEN], const void *data, size_t n,
		  const uint8_t sig[TV_SIG_LEN]);
/* The id of a public key. */
void tv_key_id_of(const uint8_t pub[TV_PUBKEY_LEN], uint8_t id[TV_SHA256_LEN]);

/* A published or pinned public key. */
struct tv_pubkey {
	char node[254];
	uint8_t key_id[TV_SHA256_LEN];
	uint8_t pub[TV_PUBKEY_LEN];
	uint64_t not_before_ns;
	uint64_t revoked_ns; /* 0: not revoked */
};

/* The key object's JSON text (appended to out). */
int tv_pubkey_encode(const struct tv_pubkey *k, struct tv_buf *out);
/* Parses one key object (checks that key_id is the public key's). `what`
 * names it in messages. @return 0 or TV_ECORRUPT. */
int tv_pubkey_decode(const uint8_t *data, size_t n, const char *what, struct tv_pubkey *k);
/* Parses a file of keys: one object or an array. *out is malloc'd. */
int tv_pubkeys_load_file(const char *path, struct tv_pubkey **out, size_t *n);

#endif
