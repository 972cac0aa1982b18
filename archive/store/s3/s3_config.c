/* SPDX-License-Identifier: Apache-2.0 */
/* s3_config: endpoint, region and credentials resolved as the AWS CLI does
 * (see store_s3.h for the order). Secrets stay in this struct and in the
 * signer; nothing here prints them. */
#include "archive/store/s3/s3_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/common/err.h"
#include "archive/common/log.h"
#include "archive/store/s3/s3_creds.h"

static char *dup_or_null(const char *s)
{
	return s && s[0] ? strdup(s) : NULL;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && v[0] ? v : NULL;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Looks up `key` in section `section` of an INI file (the AWS config and
 * credentials files). @return malloc'd value or NULL. */
static char *ini_get(const char *path, const char *section, const char *key)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f)
		return NULL;
	char line[1024], *found = NULL;
	int in_section = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *l = trim(line);
		if (l[0] == '#' || l[0] == ';' || !l[0])
			continue;
		if (l[0] == '[') {
			char *end = strchr(l, ']');
			if (end)
				*end = '\0';
			in_section = strcmp(trim(l + 1), section) == 0;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!in_section || !eq)
			continue;
		*eq = '\0';
		if (strcmp(trim(l), key) == 0)
			found = strdup(trim(eq + 1));
	}
	fclose(f);
	return found;
}

static char *home_file(const char *env_name, const char *rel)
{
	const char *p = env(env_name);
	if (p)
		return strdup(p);
	const char *home = env("HOME");
	char *out = NULL;
	if (home && asprintf(&out, "%s/%s", home, rel) < 0)
		out = NULL;
	return out;
}

/* "endpoint" [scheme://]host[:port][/] → scheme and authority. */
static int split_endpoint(struct tv_s3_config *c, const char *endpoint)
{
	const char *rest = endpoint;
	c->https = true;
	if (strncmp(rest, "https://", 8) == 0)
		rest += 8;
	else if (strncmp(rest, "http://", 7) == 0) {
		rest += 7;
		c->https = false;
	} else if (strstr(rest, "://"))
		return tv_err(-EINVAL, "endpoint '%s': only http:// and https:// are supported", endpoint);
	size_t n = strcspn(rest, "/?#");
	if (n == 0 || (rest[n] && strspn(rest + n, "/") != strlen(rest + n)))
		return tv_err(-EINVAL, "endpoint '%s': expected scheme://host[:port] without a path",
			      endpoint);
	c->host = strndup(rest, n);
	return c->host ? 0 : -ENOMEM;
}

/* The AWS SDKs' order: environment keys, web identity, the profile file,
 * container credentials, then the instance role (IMDSv2). */
static int resolve_credentials(struct tv_s3_config *c, const struct tv_s3_opts *o, const char *profile)
{
	if (env("AWS_ACCESS_KEY_ID")) {
		c->access_key = dup_or_null(env("AWS_ACCESS_KEY_ID"));
		c->secret_key = dup_or_null(env("AWS_SECRET_ACCESS_KEY"));
		c->session_token = dup_or_null(env("AWS_SESSION_TOKEN"));
		c->source = TV_S3_CREDS_STATIC;
	} else if (tv_s3_creds_detect() == TV_S3_CREDS_WEB_IDENTITY) {
		c->source = TV_S3_CREDS_WEB_IDENTITY;
		return tv_s3_creds_fetch(c, o);
	} else {
		char *path = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
		c->access_key = ini_get(path, profile, "aws_access_key_id");
		c->secret_key = ini_get(path, profile, "aws_secret_access_key");
		c->session_token = ini_get(path, profile, "aws_session_token");
		free(path);
		c->source = c->access_key ? TV_S3_CREDS_STATIC : TV_S3_CREDS_NONE;
	}
	if (!c->access_key && tv_s3_creds_detect() == TV_S3_CREDS_CONTAINER) {
		c->source = TV_S3_CREDS_CONTAINER;
		return tv_s3_creds_fetch(c, o);
	}
	const char *imds_off = env("AWS_EC2_METADATA_DISABLED");
	if (!c->access_key && !(imds_off && !strcasecmp(imds_off, "true"))) {
		c->source = TV_S3_CREDS_IMDS;
		int rc = tv_s3_creds_fetch(c, o);
		if (!rc)
			return 0;
		c->source = TV_S3_CREDS_NONE;
		tv_debug("no instance role: %s", tv_errmsg());
	}
	if (!c->access_key || !c->secret_key)
		return tv_err(
			-EACCES,
			"no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the "
			"[%s] profile of ~/.aws/credentials, AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, "
			"AWS_CONTAINER_CREDENTIALS_FULL_URI, or run where an instance role is reachable "
			"(IMDSv2)",
			profile);
	return 0;
}

int tv_s3_config_resolve(struct tv_s3_config *c, const struct tv_s3_opts *o)
{
	memset(c, 0, sizeof(*c));
	const char *profile = o->profile ? o->profile : env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
	char *config_path = home_file("AWS_CONFIG_FILE", ".aws/config");
	char section[256];
	snprintf(section, sizeof(section), strcmp(profile, "default") ? "profile %s" : "%s", profile);

	c->region = dup_or_null(o->region           ? o->region
				: env("AWS_REGION") ? env("AWS_REGION")
						    : env("AWS_DEFAULT_REGION"));
	if (!c->region)
		c->region = ini_get(config_path, section, "region");
	if (!c->region)
		c->region = strdup("us-east-1");

	char *endpoint = dup_or_null(o->endpoint                  ? o->endpoint
				     : env("AWS_ENDPOINT_URL_S3") ? env("AWS_ENDPOINT_URL_S3")
								  : env("AWS_ENDPOINT_URL"));
	if (!endpoint)
		endpoint = ini_get(config_path, section, "endpoint_url");
	free(config_path);
	c->custom_endpoint = endpoint != NULL;
	if (!endpoint && asprintf(&endpoint, "https://s3.%s.amazonaws.com", c->region ? c->region : "") < 0)
		endpoint = NULL;
	int rc = endpoint && c->region ? split_endpoint(c, endpoint) : -ENOMEM;
	free(endpoint);
	if (!rc)
		rc = resolve_credentials(c, o, profile);
	if (rc)
		tv_s3_config_cleanup(c);
	return rc;
}

void tv_s3_config_cleanup(struct tv_s3_config *c)
{
	free(c->host);
	free(c->region);
	free(c->access_key);
	if (c->secret_key)
		memset(c->secret_key, 0, strlen(c->secret_key));
	free(c->secret_key);
	free(c->session_token);
	memset(c, 0, sizeof(*c));
}
