/* SPDX-License-Identifier: Apache-2.0 */
/* checkpoint: see checkpoint.h. */
#include "archive/checkpoint.h"

#include <jansson.h>
#include <string.h>

#include "archive/common/err.h"

#define MAGIC "tapvault-checkpoint-v1"

static void put_be64(struct tv_buf *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (56 - 8 * i));
	tv_buf_append(b, x, 8);
}

/* The bytes the signature covers. */
static int message(const struct tv_checkpoint *c, struct tv_buf *m)
{
	int rc = tv_buf_append(m, MAGIC, sizeof(MAGIC)); /* with its NUL */
	if (!rc)
		rc = tv_buf_append(m, c->node, strlen(c->node) + 1);
	if (!rc) {
		put_be64(m, c->seq);
		tv_buf_append(m, c->index_sha, TV_SHA256_LEN);
		put_be64(m, c->start_ns);
		put_be64(m, c->time_ns);
		rc = tv_buf_append(m, c->prev_sha, TV_SHA256_LEN);
	}
	return rc;
}

int tv_checkpoint_encode_signed(struct tv_checkpoint *c, const struct tv_signer *s, struct tv_buf *out)
{
	memcpy(c->key_id, tv_signer_key_id(s), TV_SHA256_LEN);
	struct tv_buf m;
	tv_buf_init(&m, 4096);
	int rc = message(c, &m);
	if (!rc)
		rc = tv_sign(s, m.data, m.len, c->signature);
	tv_buf_cleanup(&m);
	if (rc)
		return rc;
	char sha[TV_SHA256_HEX_LEN], prev[TV_SHA256_HEX_LEN], key[TV_SHA256_HEX_LEN], sig[2 * TV_SIG_LEN + 1];
	tv_hex(c->index_sha, TV_SHA256_LEN, sha);
	tv_hex(c->prev_sha, TV_SHA256_LEN, prev);
	tv_hex(c->key_id, TV_SHA256_LEN, key);
	tv_hex(c->signature, TV_SIG_LEN, sig);
	return tv_buf_printf(out,
			     "{\"version\":1,\"node\":\"%s\",\"seq\":%llu,\"index_sha256\":\"%s\","
			     "\"start_ns\":%llu,\"time_ns\":%llu,\"prev_checkpoint_sha256\":\"%s\","
			     "\"key_id\":\"%s\",\"signature\":\"%s\"}\n",
			     c->node, (unsigned long long)c->seq, sha, (unsigned long long)c->start_ns,
			     (unsigned long long)c->time_ns, prev, key, sig);
}

static bool get_u64(json_t *j, const char *name, uint64_t *out)
{
	json_t *v = json_object_get(j, name);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool get_hex(json_t *j, const char *name, uint8_t *out, size_t n)
{
	const char *v = json_string_value(json_object_get(j, name));
	return v && strlen(v) == 2 * n && tv_unhex(v, out, n) == 0;
}

int tv_checkpoint_decode(const uint8_t *p, size_t n, const char *what, struct tv_checkpoint *c)
{
	memset(c, 0, sizeof(*c));
	json_t *j = json_loadb((const char *)p, n, 0, NULL);
	const char *node = json_string_value(json_object_get(j, "node"));
	bool ok = j && node && strlen(node) <= TV_NODE_MAX && get_u64(j, "seq", &c->seq) &&
		  get_u64(j, "start_ns", &c->start_ns) && get_u64(j, "time_ns", &c->time_ns) &&
		  get_hex(j, "index_sha256", c->index_sha, TV_SHA256_LEN) &&
		  get_hex(j, "prev_checkpoint_sha256", c->prev_sha, TV_SHA256_LEN) &&
		  get_hex(j, "key_id", c->key_id, TV_SHA256_LEN) &&
		  get_hex(j, "signature", c->signature, TV_SIG_LEN);
	if (ok)
		snprintf(c->node, sizeof(c->node), "%s", node);
	json_decref(j);
	return ok ? 0 : tv_err(TV_ECORRUPT, "%s: not a tapvault checkpoint", what);
}

bool tv_checkpoint_signature_ok(const struct tv_checkpoint *c, const uint8_t pub[TV_PUBKEY_LEN])
{
	struct tv_buf m;
	tv_buf_init(&m, 4096);
	bool ok = message(c, &m) == 0 && tv_sig_check(pub, m.data, m.len, c->signature);
	tv_buf_cleanup(&m);
	return ok;
}
