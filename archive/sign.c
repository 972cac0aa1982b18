/* SPDX-License-Identifier: Apache-2.0 */
/* sign: see sign.h. */
#include "archive/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/common/err.h"
#include "archive/common/fsutil.h"

struct tv_signer {
	EVP_PKEY *key;
	uint8_t pub[TV_PUBKEY_LEN];
	uint8_t id[TV_SHA256_LEN];
};

void tv_key_id_of(const uint8_t pub[TV_PUBKEY_LEN], uint8_t id[TV_SHA256_LEN])
{
	tv_sha256(pub, TV_PUBKEY_LEN, id);
}

static int read_key(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*out || EVP_PKEY_id(*out) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return tv_err(TV_ECORRUPT, "%s: not an Ed25519 private key (PKCS#8 PEM)", path);
	}
	return 0;
}

/* A new key written to path with mode 0600, never over an existing file. */
static int create_key(const char *path, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	*out = NULL;
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, out) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return tv_err(-EIO, "%s: cannot generate an Ed25519 key", path);
	}
	EVP_PKEY_CTX_free(ctx);
	int rc = tv_mkdir_parent(path);
	int fd = rc ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		rc = rc ? rc : tv_err(-errno, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else if (!PEM_write_PrivateKey(f, *out, NULL, NULL, 0, NULL, NULL) || fflush(f) ||
		   fsync(fileno(f))) {
		rc = tv_err(-EIO, "%s: cannot write the key", path);
	}
	if (f && fclose(f) && !rc)
		rc = tv_err(-EIO, "%s: cannot write the key", path);
	if (!rc)
		rc = tv_fsync_parent(path);
	if (rc) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

int tv_signer_load(const char *path, bool create, struct tv_signer **out, bool *created)
{
	*out = NULL;
	if (created)
		*created = false;
	EVP_PKEY *key = NULL;
	int rc = read_key(path, &key);
	if (rc == -ENOENT && create) {
		rc = create_key(path, &key);
		if (!rc && created)
			*created = true;
	} else if (rc == -ENOENT || (rc < 0 && rc != TV_ECORRUPT)) {
		return tv_err(rc, "signing key %s: %s", path, strerror(-rc));
	}
	if (rc)
		return rc;
	struct tv_signer *s = calloc(1, sizeof(*s));
	size_t len = TV_PUBKEY_LEN;
	if (!s || EVP_PKEY_get_raw_public_key(key, s->pub, &len) != 1 || len != TV_PUBKEY_LEN) {
		free(s);
		EVP_PKEY_free(key);
		return tv_err(-ENOMEM, "signing key %s: unusable", path);
	}
	s->key = key;
	tv_key_id_of(s->pub, s->id);
	*out = s;
	return 0;
}

void tv_signer_free(struct tv_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	free(s);
}

const uint8_t *tv_signer_key_id(const struct tv_signer *s)
{
	return s->id;
}

const uint8_t *tv_signer_public(const struct tv_signer *s)
{
	return s->pub;
}

int tv_sign(const struct tv_signer *s, const void *data, size_t n, uint8_t sig[TV_SIG_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = TV_SIG_LEN;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key) == 1 &&
		 EVP_DigestSign(ctx, sig, &len, data, n) == 1 && len == TV_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : tv_err(-EIO, "signing failed");
}

bool tv_sig_check(const uint8_t pub[TV_PUBKEY_LEN], const void *data, size_t n, const uint8_t sig[TV_SIG_LEN])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, TV_PUBKEY_LEN);
	EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
	bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		  EVP_DigestVerify(ctx, sig, TV_SIG_LEN, data, n) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ok;
}

int tv_pubkey_encode(const struct tv_pubkey *k, struct tv_buf *out)
{
	char id[TV_SHA256_HEX_LEN], pub[2 * TV_PUBKEY_LEN + 1];
	tv_hex(k->key_id, TV_SHA256_LEN, id);
	tv_hex(k->pub, TV_PUBKEY_LEN, pub);
	return tv_buf_printf(out,
			     "{\"version\":1,\"node\":\"%s\",\"key_id\":\"%s\",\"algorithm\":\"ed25519\","
			     "\"public_key\":\"%s\",\"not_before_ns\":%llu,\"revoked_ns\":%llu}\n",
			     k->node, id, pub, (unsigned long long)k->not_before_ns,
			     (unsigned long long)k->revoked_ns);
}

static int from_json(json_t *j, const char *what, struct tv_pubkey *k)
{
	memset(k, 0, sizeof(*k));
	const char *node = json_string_value(json_object_get(j, "node")),
		   *id = json_string_value(json_object_get(j, "key_id")),
		   *pub = json_string_value(json_object_get(j, "public_key")),
		   *alg = json_string_value(json_object_get(j, "algorithm"));
	json_t *nb = json_object_get(j, "not_before_ns"), *rv = json_object_get(j, "revoked_ns");
	if (!node || strlen(node) >= sizeof(k->node) || !id || !pub || !alg || strcmp(alg, "ed25519") ||
	    tv_unhex(id, k->key_id, TV_SHA256_LEN) || tv_unhex(pub, k->pub, TV_PUBKEY_LEN) ||
	    (nb && !json_is_integer(nb)) || (rv && !json_is_integer(rv)))
		return tv_err(TV_ECORRUPT, "%s: not a tapvault key object", what);
	snprintf(k->node, sizeof(k->node), "%s", node);
	k->not_before_ns = nb ? (uint64_t)json_integer_value(nb) : 0;
	k->revoked_ns = rv ? (uint64_t)json_integer_value(rv) : 0;
	uint8_t want[TV_SHA256_LEN];
	tv_key_id_of(k->pub, want);
	if (memcmp(want, k->key_id, TV_SHA256_LEN) != 0)
		return tv_err(TV_ECORRUPT, "%s: key_id is not the SHA-256 of the public key", what);
	return 0;
}

int tv_pubkey_decode(const uint8_t *data, size_t n, const char *what, struct tv_pubkey *k)
{
	json_t *j = json_loadb((const char *)data, n, 0, NULL);
	int rc = j ? from_json(j, what, k) : tv_err(TV_ECORRUPT, "%s: not JSON", what);
	json_decref(j);
	return rc;
}

int tv_pubkeys_load_file(const char *path, struct tv_pubkey **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	if (!j)
		return tv_err(-EINVAL, "%s:%d:%d: %s", path, e.line, e.column, e.text);
	size_t count = json_is_array(j) ? json_array_size(j) : 1;
	int rc = 0;
	if (!(*out = calloc(count ? count : 1, sizeof(**out))))
		rc = tv_err(-ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < count; i++)
		rc = from_json(json_is_array(j) ? json_array_get(j, i) : j, path, &(*out)[i]);
	json_decref(j);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*n = count;
	return 0;
}
