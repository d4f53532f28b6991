/* conf.c — load and validate the leafnet config file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "json.h"
#include "log.h"

#define CONF_FILE_MAX (1024 * 1024)
#define CONF_ETCD_DEFAULT "http://127.0.0.1:2379"

static const char *const conf_keys[] = {
	"state_dir", "datastore", "etcd_endpoints", "control_socket",
	"node_name", "log_file", "log_level", "fsync",
	"bgp_listen_address", "bgp_port", "bgp_import", "docker_socket",
	"metrics_listen", "bgp_nexthop_onlink",
};

void
conf_defaults(struct leafnet_conf *c)
{
	char host[256];

	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "%s",
		 LEAFNET_STATE_DIR_DEFAULT);
	snprintf(c->datastore, sizeof(c->datastore), "file");
	snprintf(c->etcd_endpoints, sizeof(c->etcd_endpoints), "%s",
		 CONF_ETCD_DEFAULT);
	snprintf(c->control_socket, sizeof(c->control_socket), "%s",
		 LEAFNET_CTL_SOCK_DEFAULT);
	/* A hostname that does not fit stays empty; conf_load() then asks
	 * for an explicit node_name instead of silently truncating it. */
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (strlen(host) < sizeof(c->node_name))
			memcpy(c->node_name, host, strlen(host) + 1);
	}
	c->log_level = LOG_LVL_INFO;
	c->fsync = true;
	c->bgp_port = 179;
	snprintf(c->bgp_import, sizeof(c->bgp_import), "all");
	snprintf(c->docker_socket, sizeof(c->docker_socket), "%s",
		 LEAFNET_DOCKER_SOCK_DEFAULT);
	snprintf(c->metrics_listen, sizeof(c->metrics_listen), "%s",
		 LEAFNET_METRICS_DEFAULT);
}

int
conf_hostport_parse(const char *s, struct sockaddr_storage *ret)
{
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_s;
	size_t hlen;
	char *end;
	unsigned long port;

	memset(&ss, 0, sizeof(ss));
	if (s == NULL)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		port_s = close + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -EINVAL;	/* a bare IPv6 address needs brackets */
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
		port_s = colon + 1;
	}
	host[hlen] = '\0';
	if (port_s[0] < '0' || port_s[0] > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
		return -EINVAL;
	if (s[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	}
	*ret = ss;
	return 0;
}

/* Read a whole (small) file; NUL-terminated, malloc'd. */
static int
conf_read_file(const char *path, char **ret)
{
	struct stat st;
	size_t len = 0;
	char *buf;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;	/* a device, a FIFO */
		goto out_close;
	}
	if (st.st_size > CONF_FILE_MAX) {
		r = -EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out_close;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			goto out_close;
		}
		if (n == 0)
			break;		/* shrank under us: take what is there */
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	r = 0;
out_close:
	(void)close(fd);
	return r;
}

static int
conf_check_keys(const cJSON *root, struct lf_err *reterr)
{
	for (const cJSON *it = root->child; it != NULL; it = it->next) {
		bool known = false;

		for (size_t i = 0; i < sizeof(conf_keys) / sizeof(*conf_keys); i++)
			if (strcmp(it->string, conf_keys[i]) == 0)
				known = true;
		if (!known) {
			/* the list from the table itself, so it cannot
			 * drift from what the parser takes */
			char list[LF_ERR_MSG_MAX];
			size_t len = 0;

			list[0] = '\0';
			for (size_t i = 0; i < sizeof(conf_keys) / sizeof(*conf_keys) &&
			    len < sizeof(list); i++) {
				int n = snprintf(list + len, sizeof(list) - len,
				    "%s%s", i > 0 ? ", " : "", conf_keys[i]);
				if (n < 0)
					break;
				len += (size_t)n;
			}
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "unknown key \"%.64s\" (known: %s)",
					  it->string, list);
		}
		for (const cJSON *o = root->child; o != it; o = o->next)
			if (strcmp(o->string, it->string) == 0)
				return lf_err_set(reterr, LF_E_INVALID,
						  -EINVAL, "key \"%s\" appears twice",
						  it->string);
	}
	return 0;
}

/* Absolute, non-empty path; trailing slashes dropped ("/a/b/" -> "/a/b"). */
static int
conf_check_path(char *p, const char *key, bool may_be_empty,
		struct lf_err *reterr)
{
	size_t n = strlen(p);

	if (n == 0) {
		if (may_be_empty)
			return 0;
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: must not be empty", key);
	}
	if (p[0] != '/')
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "%s: \"%s\" is not an absolute path (start it with /)",
				  key, p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	return 0;
}

static int
conf_check_node_name(const char *name, struct lf_err *reterr)
{
	if (name[0] == '\0')
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "node_name: empty (the hostname is unavailable "
				  "or longer than %d characters); set node_name",
				  LEAFNET_NAME_MAX - 1);
	if (name[0] == '.' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._:@-") != strlen(name))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "node_name: \"%s\" may contain only letters, digits "
				  "and . _ : @ - (and must not start with .)", name);
	return 0;
}

static int
conf_apply(const cJSON *root, struct leafnet_conf *c, struct lf_err *reterr)
{
	char level[16];
	int r;

	if (!cJSON_IsObject(root))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "the config must be a JSON object");
	r = conf_check_keys(root, reterr);
	if (r < 0)
		return r;

#define GET_STR(key, field)						\
	do {								\
		r = json_get_str(root, key, c->field, sizeof(c->field),	\
				 false, NULL, reterr);			\
		if (r < 0 && r != -ENOENT)				\
			return r;					\
	} while (0)
	GET_STR("state_dir", state_dir);
	GET_STR("datastore", datastore);
	GET_STR("etcd_endpoints", etcd_endpoints);
	GET_STR("control_socket", control_socket);
	GET_STR("node_name", node_name);
	GET_STR("log_file", log_file);
	GET_STR("bgp_listen_address", bgp_listen_address);
	GET_STR("bgp_import", bgp_import);
	GET_STR("docker_socket", docker_socket);
	GET_STR("metrics_listen", metrics_listen);
#undef GET_STR

	r = json_get_str(root, "log_level", level, sizeof(level), false, NULL,
			 reterr);
	if (r == 0) {
		int lvl = log_level_parse(level);

		if (lvl < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "log_level: \"%s\" is not one of error, "
					  "warn, info, debug", level);
		c->log_level = lvl;
	} else if (r != -ENOENT) {
		return r;
	}
	r = json_get_bool(root, "fsync", &c->fsync, false, NULL, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	r = json_get_bool(root, "bgp_nexthop_onlink", &c->bgp_nexthop_onlink, false, NULL,
			  reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	{
		uint32_t port;

		r = json_get_u32(root, "bgp_port", &port, false, NULL, reterr);
		if (r == 0 && (port == 0 || port > 65535))
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "bgp_port: %u is not a port number (1-65535)",
					  port);
		if (r == 0)
			c->bgp_port = port;
		else if (r != -ENOENT)
			return r;
	}
	return 0;
}

static int
conf_validate(struct leafnet_conf *c, struct lf_err *reterr)
{
	struct sockaddr_un sun;
	int r;

	if ((r = conf_check_path(c->state_dir, "state_dir", false, reterr)) < 0 ||
	    (r = conf_check_path(c->control_socket, "control_socket", false,
				 reterr)) < 0 ||
	    (r = conf_check_path(c->log_file, "log_file", true, reterr)) < 0)
		return r;
	if (strlen(c->control_socket) >= sizeof(sun.sun_path))
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "control_socket: longer than %zu characters, "
				  "too long for a unix socket",
				  sizeof(sun.sun_path) - 1);
	if (strcmp(c->datastore, "file") != 0 && strcmp(c->datastore, "etcd") != 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "datastore: \"%s\" is not \"file\" or \"etcd\"",
				  c->datastore);
	if (strcmp(c->datastore, "etcd") == 0 && c->etcd_endpoints[0] == '\0')
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "etcd_endpoints: must not be empty with "
				  "\"datastore\": \"etcd\"");
	if (c->bgp_listen_address[0] != '\0') {
		unsigned char a[sizeof(struct in6_addr)];

		if (inet_pton(AF_INET, c->bgp_listen_address, a) != 1 &&
		    inet_pton(AF_INET6, c->bgp_listen_address, a) != 1)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "bgp_listen_address: \"%s\" is not an IPv4 or "
					  "IPv6 address (\"\" listens on all)",
					  c->bgp_listen_address);
	}
	if (strcmp(c->bgp_import, "all") != 0 && strcmp(c->bgp_import, "default") != 0 &&
	    strcmp(c->bgp_import, "none") != 0)
		return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
				  "bgp_import: \"%s\" is not \"all\", \"default\" or \"none\"",
				  c->bgp_import);
	if (c->metrics_listen[0] != '\0') {
		struct sockaddr_storage ss;

		if (conf_hostport_parse(c->metrics_listen, &ss) < 0)
			return lf_err_set(reterr, LF_E_INVALID, -EINVAL,
					  "metrics_listen: \"%s\" is not ADDRESS:PORT "
					  "(e.g. \"127.0.0.1:9474\", \"[::1]:9474\"; "
					  "\"\" turns the metrics off)", c->metrics_listen);
	}
	return conf_check_node_name(c->node_name, reterr);
}

/* The text of a config file (already read) on top of the defaults. */
static int
conf_parse_into(const char *text, struct leafnet_conf *c, struct lf_err *reterr)
{
	cJSON *root = NULL;
	int r;

	r = json_parse(text, &root, reterr);
	if (r < 0)
		return r;
	r = conf_apply(root, c, reterr);
	cJSON_Delete(root);
	if (r < 0)
		return r;
	return conf_validate(c, reterr);
}

int
conf_parse(const char *text, struct leafnet_conf *ret, struct lf_err *reterr)
{
	struct leafnet_conf c;
	int r;

	conf_defaults(&c);
	r = conf_parse_into(text, &c, reterr);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

int
conf_load(const char *path, struct leafnet_conf *ret, struct lf_err *reterr)
{
	struct leafnet_conf c;
	struct lf_err e = { 0 };
	bool explicit = true;
	char *text = NULL;
	int r;

	if (path == NULL || path[0] == '\0')
		path = getenv("LEAFNET_CONF");
	if (path == NULL || path[0] == '\0') {
		path = LEAFNET_CONF_DEFAULT;
		explicit = false;
	}
	conf_defaults(&c);

	r = conf_read_file(path, &text);
	if (r == -ENOENT && !explicit) {
		r = conf_validate(&c, &e);	/* no config file: built-in defaults */
		goto out;
	}
	if (r < 0)
		return lf_err_set(reterr, LF_E_INVALID, r,
				  "cannot read config file %s: %s", path,
				  r == -EINVAL ? "not a regular file" : strerror(-r));
	if (strlen(path) >= sizeof(c.path)) {
		free(text);
		return lf_err_set(reterr, LF_E_INVALID, -ENAMETOOLONG,
				  "config file path too long: %s", path);
	}
	memcpy(c.path, path, strlen(path) + 1);
	r = conf_parse_into(text, &c, &e);
	free(text);
out:
	if (r == 0) {
		*ret = c;
		return 0;
	}
	/* Name the file in front of the precise message. */
	if (c.path[0] != '\0')
		lf_err_set(reterr, e.code, r, "%.*s: %s", 120, c.path, e.msg);
	else
		lf_err_set(reterr, e.code, r, "%s (built-in defaults, no %s)",
			   e.msg, LEAFNET_CONF_DEFAULT);
	if (e.details[0] != '\0')
		lf_err_details(reterr, "%s", e.details);
	return r;
}
