/* SPDX-License-Identifier: Apache-2.0 */
/* kube_exec: see kube_exec.h. */
#include "archive/kube/kube_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive/common/buf.h"
#include "archive/common/err.h"
#include "archive/common/timeutil.h"

extern char **environ;

#define MAX_ANSWER (1u << 20)

int tv_kube_exec_parse(const char *text, size_t len, char **token, uint64_t *expires_ns)
{
	*token = NULL;
	*expires_ns = 0;
	json_error_t e;
	json_t *j = json_loadb(text, len, 0, &e);
	if (!j)
		return tv_err(-EINVAL, "not JSON (%s)", e.text);
	const char *kind = json_string_value(json_object_get(j, "kind"));
	json_t *status = json_object_get(j, "status");
	const char *tok = json_string_value(json_object_get(status, "token"));
	const char *exp = json_string_value(json_object_get(status, "expirationTimestamp"));
	int rc = 0;
	if (!kind || strcmp(kind, "ExecCredential"))
		rc = tv_err(-EINVAL, "not an ExecCredential");
	else if (!tok && json_object_get(status, "clientCertificateData"))
		rc = tv_err(-ENOTSUP, "client-certificate credentials from a plugin are not supported");
	else if (!tok || !tok[0])
		rc = tv_err(-EINVAL, "no status.token");
	else if (exp && tv_parse_time(exp, 0, expires_ns))
		rc = tv_err(-EINVAL, "bad status.expirationTimestamp '%.40s'", exp);
	else if (!(*token = strdup(tok)))
		rc = tv_err(-ENOMEM, "out of memory");
	json_decref(j);
	return rc;
}

/* argv and envp for the child, built before fork (the child only execs). */
struct command {
	char **argv, **envp;
	size_t argc, envc;
};

static void command_free(struct command *c)
{
	for (size_t i = 0; c->argv && i < c->argc; i++)
		free(c->argv[i]);
	for (size_t i = 0; c->envp && i < c->envc; i++)
		free(c->envp[i]);
	free(c->argv);
	free(c->envp);
}

static int command_build(const json_t *x, struct command *c)
{
	memset(c, 0, sizeof(*c));
	const char *cmd = json_string_value(json_object_get(x, "command"));
	const json_t *args = json_object_get(x, "args"), *env = json_object_get(x, "env");
	const char *api = json_string_value(json_object_get(x, "apiVersion"));
	if (!cmd || !cmd[0])
		return tv_err(-EINVAL, "exec plugin: no command");
	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	c->argv = calloc(json_array_size(args) + 2, sizeof(char *));
	c->envp = calloc(nenv + json_array_size(env) + 2, sizeof(char *));
	if (!c->argv || !c->envp)
		return -ENOMEM;
	c->argv[c->argc++] = strdup(cmd);
	size_t i;
	const json_t *v;
	json_array_foreach (args, i, v)
		if (json_is_string(v))
			c->argv[c->argc++] = strdup(json_string_value(v));
	for (i = 0; i < nenv; i++)
		c->envp[c->envc++] = strdup(environ[i]);
	json_array_foreach (env, i, v) {
		const char *n = json_string_value(json_object_get(v, "name")),
			   *val = json_string_value(json_object_get(v, "value"));
		if (n && val && asprintf(&c->envp[c->envc], "%s=%s", n, val) >= 0)
			c->envc++;
	}
	if (asprintf(&c->envp[c->envc],
		     "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		     "\"spec\":{\"interactive\":false}}",
		     api ? api : "client.authentication.k8s.io/v1") >= 0)
		c->envc++;
	for (i = 0; i < c->argc; i++)
		if (!c->argv[i])
			return -ENOMEM;
	return 0;
}

/* Reads the child's stdout until EOF or the deadline. @return 0, -ETIMEDOUT, -E2BIG. */
static int read_all(int fd, struct tv_buf *out, uint64_t deadline)
{
	char chunk[4096];
	for (;;) {
		uint64_t now = tv_mono_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)((deadline - now) / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (out->len + (size_t)n > MAX_ANSWER)
			return -E2BIG;
		if (tv_buf_append(out, chunk, (size_t)n))
			return -ENOMEM;
	}
}

static int run(const struct command *c, struct tv_buf *out, int *status, char *err_line, size_t nerr)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return -errno;
	}
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvpe(c->argv[0], c->argv, c->envp);
		dprintf(2, "cannot run it: %s", strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		return -errno;
	}
	int rc = read_all(po[0], out, tv_mono_ns() + (uint64_t)TV_KUBE_EXEC_TIMEOUT_S * 1000000000ULL);
	if (rc == -ETIMEDOUT)
		kill(pid, SIGKILL);
	ssize_t n = read(pe[0], err_line, nerr - 1); /* its first words, for the message */
	err_line[n > 0 ? n : 0] = '\0';
	err_line[strcspn(err_line, "\n")] = '\0';
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return rc;
}

int tv_kube_exec_token(const char *exec_json, char **token, uint64_t *expires_ns)
{
	*token = NULL;
	json_t *x = json_loads(exec_json, 0, NULL);
	if (!x)
		return tv_err(-EINVAL, "exec plugin: bad configuration");
	struct command c;
	int rc = command_build(x, &c);
	char name[256];
	snprintf(name, sizeof(name), "%s", c.argv && c.argv[0] ? c.argv[0] : "?");
	json_decref(x);
	struct tv_buf out;
	tv_buf_init(&out, 0);
	int status = 0;
	char err[256] = "";
	if (!rc)
		rc = run(&c, &out, &status, err, sizeof(err));
	command_free(&c);
	if (rc == -ETIMEDOUT)
		rc = tv_err(rc, "exec plugin %s: no answer within %d s", name, TV_KUBE_EXEC_TIMEOUT_S);
	else if (rc == -E2BIG)
		rc = tv_err(rc, "exec plugin %s: answer over 1 MiB", name);
	else if (rc == -ENOMEM)
		rc = tv_err(rc, "out of memory");
	else if (rc)
		rc = tv_err(rc, "exec plugin %s: %s", name, strerror(-rc));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = tv_err(-EACCES, "exec plugin %s: exit status %d%s%s", name,
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			    err[0] ? ": " : "", err);
	else if ((rc = tv_kube_exec_parse((const char *)out.data, out.len, token, expires_ns)))
		rc = tv_err(rc, "exec plugin %s: %s", name, tv_errmsg());
	tv_buf_cleanup(&out);
	return rc;
}
