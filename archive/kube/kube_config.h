/* SPDX-License-Identifier: Apache-2.0 */
/* kube_config: where the Kubernetes API is and how to authenticate to it.
 *
 * In the cluster: KUBERNETES_SERVICE_HOST/PORT, the service account's token
 * file (re-read by the client, since the kubelet rotates it) and its ca.crt.
 * Outside: a kubeconfig file, its current context (or one named): server,
 * CA (file or inline data), a bearer token (inline or file), a client
 * certificate and key (file or inline data), or an exec credential plugin
 * (kube_exec.h; auth-provider is refused). TLS is always verified; a
 * kubeconfig asking for insecure-skip-tls-verify is refused. */
#ifndef TV_KUBE_CONFIG_H
#define TV_KUBE_CONFIG_H

#include <stdbool.h>

struct tv_kube_config {
	char *server;     /* https://host:port, no trailing '/' */
	char *ca_file;    /* PEM; NULL: ca_pem or the system's CAs */
	char *ca_pem;     /* inline (certificate-authority-data, decoded) */
	char *token;      /* inline bearer token */
	char *token_file; /* re-read about every minute and on 401 */
	char *cert_file, *key_file;
	char *cert_pem, *key_pem; /* client-certificate-data / client-key-data, decoded */
	char *source;             /* "in-cluster" or the kubeconfig path, for messages */
	char *exec_json;          /* the user's exec credential plugin (kube_exec.h), its command resolved */
};

#define TV_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* The in-cluster config; sa_dir NULL: TV_KUBE_SA_DIR (tests pass their own).
 * @return 0, -ENOENT (not in a cluster: no KUBERNETES_SERVICE_HOST), -EINVAL. */
int tv_kube_config_in_cluster(const char *sa_dir, struct tv_kube_config *out);
/* A kubeconfig file; context NULL: its current-context.
 * @return 0, -ENOENT, or -EINVAL naming what is missing or refused. */
int tv_kube_config_load(const char *path, const char *context, struct tv_kube_config *out);
void tv_kube_config_cleanup(struct tv_kube_config *c);

#endif
