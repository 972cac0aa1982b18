/* SPDX-License-Identifier: Apache-2.0 */
/* kube_exec: a kubeconfig's `exec` credential plugin (client-go's
 * client.authentication.k8s.io ExecCredential), as EKS (`aws eks
 * get-token`), GKE (`gke-gcloud-auth-plugin`) and AKS (`kubelogin`)
 * kubeconfigs use. The command runs with the kubeconfig's args and env and
 * KUBERNETES_EXEC_INFO set (never interactive: stdin is /dev/null), its
 * stdout parsed as an ExecCredential; its bearer token is used until its
 * expirationTimestamp, and the plugin run again then or on a 401.
 * Client-certificate credentials from a plugin are refused (not supported). */
#ifndef TV_KUBE_EXEC_H
#define TV_KUBE_EXEC_H

#include <stddef.h>
#include <stdint.h>

#define TV_KUBE_EXEC_TIMEOUT_S 30

/* exec_json: the kubeconfig's exec object (tv_kube_config.exec_json).
 * @return 0 with *token (malloc'd) and *expires_ns (0: none given), or a
 * negative errno with a message naming the plugin and why (not found, its
 * exit status and stderr's first line, a timeout, a bad answer). */
int tv_kube_exec_token(const char *exec_json, char **token, uint64_t *expires_ns);

/* Parses an ExecCredential answer (what the plugin printed). @return 0 or
 * -EINVAL (message set), -ENOTSUP for certificate credentials. */
int tv_kube_exec_parse(const char *text, size_t len, char **token, uint64_t *expires_ns);

#endif
