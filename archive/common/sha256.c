/* SPDX-License-Identifier: Apache-2.0 */
/* sha256: see sha256.h. */
#include "archive/common/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"

int tv_sha256_init(struct tv_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		h->md_ctx = NULL;
		return tv_err(-ENOMEM, "sha256: cannot create digest context");
	}
	h->md_ctx = ctx;
	return 0;
}

void tv_sha256_update(struct tv_sha256 *h, const void *data, size_t n)
{
	EVP_DigestUpdate(h->md_ctx, data, n);
}

void tv_sha256_final(struct tv_sha256 *h, uint8_t out[TV_SHA256_LEN])
{
	unsigned int len = TV_SHA256_LEN;
	EVP_DigestFinal_ex(h->md_ctx, out, &len);
	tv_sha256_cleanup(h);
}

void tv_sha256_cleanup(struct tv_sha256 *h)
{
	EVP_MD_CTX_free(h->md_ctx);
	h->md_ctx = NULL;
}

int tv_sha256(const void *data, size_t n, uint8_t out[TV_SHA256_LEN])
{
	struct tv_sha256 h;
	int rc = tv_sha256_init(&h);
	if (rc)
		return rc;
	tv_sha256_update(&h, data, n);
	tv_sha256_final(&h, out);
	return 0;
}

int tv_sha256_file(const char *path, uint8_t out[TV_SHA256_LEN])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_err(-errno, "%s: %s", path, strerror(errno));
	struct tv_sha256 h;
	int rc = tv_sha256_init(&h);
	if (rc)
		goto out;
	static __thread uint8_t chunk[1 << 16];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = tv_err(-errno, "%s: read: %s", path, strerror(errno));
			tv_sha256_cleanup(&h);
			goto out;
		}
		if (n == 0)
			break;
		tv_sha256_update(&h, chunk, (size_t)n);
	}
	tv_sha256_final(&h, out);
out:
	close(fd);
	return rc;
}

void tv_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int tv_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tv_unhex(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = tv_hex_digit(hex[2 * i]), lo = tv_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *tv_base64(const void *data, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}
