/* SPDX-License-Identifier: Apache-2.0 */
/* sha256: incremental SHA-256 on OpenSSL libcrypto, and hex helpers. */
#ifndef TV_SHA256_H
#define TV_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TV_SHA256_LEN 32
#define TV_SHA256_HEX_LEN 65 /* 64 digits + NUL */

struct tv_sha256 {
	void *md_ctx; /* owned EVP_MD_CTX */
};

/* @return 0 or -ENOMEM. */
int tv_sha256_init(struct tv_sha256 *h);
void tv_sha256_update(struct tv_sha256 *h, const void *data, size_t n);
/* Writes the digest and releases the context. */
void tv_sha256_final(struct tv_sha256 *h, uint8_t out[TV_SHA256_LEN]);
/* Releases a context that will not be finalised (error paths). */
void tv_sha256_cleanup(struct tv_sha256 *h);

/* One-shot digest. @return 0 or -ENOMEM. */
int tv_sha256(const void *data, size_t n, uint8_t out[TV_SHA256_LEN]);
/* Digest of a whole file. @return 0 or negative errno (message set). */
int tv_sha256_file(const char *path, uint8_t out[TV_SHA256_LEN]);

void tv_hex(const uint8_t *bytes, size_t n, char *out /* 2n+1 */);
/* @return 0, or -EINVAL if hex is not exactly 2n hex digits. */
int tv_unhex(const char *hex, uint8_t *out, size_t n);
/* The value of one hex digit, or -1. */
int tv_hex_digit(char c);
/* Base64 (RFC 4648, padded) of n bytes; caller frees. NULL on ENOMEM. */
char *tv_base64(const void *data, size_t n);

#endif
