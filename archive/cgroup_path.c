/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup_path: see cgroup_path.h. */
#include "archive/cgroup_path.h"

#include <string.h>

struct comp {
	const char *p;
	size_t n;
};

static bool is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static bool has_prefix(struct comp c, const char *pre)
{
	size_t k = strlen(pre);
	return c.n >= k && memcmp(c.p, pre, k) == 0;
}

static bool has_suffix(struct comp c, const char *suf)
{
	size_t k = strlen(suf);
	return c.n >= k && memcmp(c.p + c.n - k, suf, k) == 0;
}

/* A pod UID, dashed ('-') or as systemd writes it ('_'), into out (dashed). */
static bool take_uid(const char *p, size_t n, char sep, char out[37])
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? p[i] != sep : !is_hex(p + i, 1))
			return false;
		out[i] = dash ? '-' : p[i];
	}
	out[36] = '\0';
	return true;
}

/* The QoS a kubepods level names ("" for none, NULL for not a QoS level). */
static const char *qos_of(struct comp c, bool systemd)
{
	static const char *const q[] = {"burstable", "besteffort"};
	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(q[i]);
		if (!systemd && c.n == k && memcmp(c.p, q[i], k) == 0)
			return q[i];
		if (systemd && c.n == 9 + k + 6 && has_prefix(c, "kubepods-") &&
		    memcmp(c.p + 9, q[i], k) == 0 && has_suffix(c, ".slice"))
			return q[i];
	}
	return NULL;
}

/* The pod level: "pod<UID>" (cgroupfs) or "kubepods[-QOS]-pod<UID_>.slice" (systemd). */
static bool pod_of(struct comp c, bool systemd, const char *qos, char uid[37])
{
	if (!systemd)
		return has_prefix(c, "pod") && take_uid(c.p + 3, c.n - 3, '-', uid);
	char pre[40] = "kubepods-";
	if (qos[0] != 'g') {
		strcat(pre, qos);
		strcat(pre, "-");
	}
	strcat(pre, "pod");
	size_t k = strlen(pre);
	return has_prefix(c, pre) && has_suffix(c, ".slice") && take_uid(c.p + k, c.n - k - 6, '_', uid);
}

/* The container level: "<runtime prefix><64 hex>.scope" or a bare id. */
static bool container_of(struct comp c, struct tv_cgroup_info *out)
{
	static const struct {
		const char *prefix, *runtime;
	} scopes[] = {{"cri-containerd-", "containerd"}, {"crio-", "cri-o"}, {"docker-", "docker"}};
	for (size_t i = 0; i < sizeof(scopes) / sizeof(*scopes); i++) {
		size_t k = strlen(scopes[i].prefix);
		if (has_prefix(c, scopes[i].prefix) && has_suffix(c, ".scope") && c.n == k + 64 + 6 &&
		    is_hex(c.p + k, 64)) {
			memcpy(out->container_id, c.p + k, 64);
			strcpy(out->runtime, scopes[i].runtime);
			return true;
		}
	}
	if (c.n == 64 && is_hex(c.p, 64)) {
		memcpy(out->container_id, c.p, 64);
		return true;
	}
	return false;
}

bool tv_cgroup_parse(const char *path, size_t len, struct tv_cgroup_info *out)
{
	memset(out, 0, sizeof(*out));
	struct comp v[64];
	size_t n = 0;
	for (size_t i = 0; i < len && n < 64;) {
		while (i < len && path[i] == '/')
			i++;
		size_t j = i;
		while (j < len && path[j] != '/')
			j++;
		if (j > i)
			v[n++] = (struct comp){path + i, j - i};
		i = j;
	}
	/* kubepods may sit below other levels (a node's own slice, a nested runtime) */
	size_t k = 0;
	bool systemd = false;
	for (; k < n; k++) {
		if (v[k].n == 8 && !memcmp(v[k].p, "kubepods", 8))
			break;
		if (v[k].n == 14 && !memcmp(v[k].p, "kubepods.slice", 14)) {
			systemd = true;
			break;
		}
	}
	if (k == n)
		return false;
	size_t at = k + 1;
	const char *qos = at < n ? qos_of(v[at], systemd) : NULL;
	if (qos)
		at++;
	else
		qos = "guaranteed";
	bool ok = at < n && pod_of(v[at], systemd, qos, out->pod_uid);
	if (ok && at + 1 < n)
		ok = at + 2 == n && container_of(v[at + 1], out);
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return false;
	}
	strcpy(out->qos, qos);
	return true;
}
