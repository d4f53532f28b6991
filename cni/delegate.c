/* delegate.c — run an external IPAM plugin (host-local, dhcp, static ...)
 * the way a runtime would: found in CNI_PATH, the same stdin and
 * environment, CNI_COMMAND set to the command wanted.  Its result (any
 * supported version) is parsed into a struct cni_result; its error reply is
 * passed through with its own code. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"
#include "dbuf.h"
#include "err.h"
#include "json.h"
#include "log.h"

#define DELEGATE_OUT_MAX (1u << 20)

extern char **environ;

static int
find_plugin(const struct cni_cmd *cmd, char *ret, size_t size, struct lf_err *reterr)
{
	const char *type = cmd->conf.ipam_type, *p = cmd->env.path;

	if (p[0] == '\0')
		return lf_err_set_field(reterr, LF_E_INVALID, LF_F_PATH, -EINVAL,
				  "CNI_PATH is required to find the IPAM plugin \"%s\"", type);
	while (*p != '\0') {
		size_t len = strcspn(p, ":");

		if (len > 0 && (size_t)snprintf(ret, size, "%.*s/%s", (int)len, p, type) < size &&
		    access(ret, X_OK) == 0)
			return 0;
		p += len;
		if (*p == ':')
			p++;
	}
	return lf_err_set(reterr, LF_E_INVALID, -ENOENT,
			  "ipam.type: plugin \"%s\" not found in CNI_PATH (%s)",
			  type, cmd->env.path);
}

/* environ with CNI_COMMAND replaced; the array is malloc'd, the strings
 * are environ's except `command`. */
static char **
make_env(char *command)
{
	size_t n = 0, j = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) != 0)
			env[j++] = environ[i];
	env[j++] = command;
	env[j] = NULL;
	return env;
}

/* Feed stdin, collect stdout until EOF. */
static int
talk(int in_fd, int out_fd, const char *text, size_t len, char **ret, size_t *ret_len)
{
	struct dbuf out = DBUF_INIT;
	size_t off = 0;
	int r = 0;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = out_fd, .events = POLLIN },
			{ .fd = in_fd, .events = POLLOUT },
		};
		nfds_t nfds = in_fd >= 0 ? 2 : 1;

		if (poll(pfd, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (nfds == 2 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in_fd, text + off, len - off);

			if (n < 0 && errno != EINTR && errno != EAGAIN)
				off = len;	/* EPIPE: it does not want more */
			else if (n > 0)
				off += (size_t)n;
			if (off >= len) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n;

			if (out.len >= DELEGATE_OUT_MAX) {
				r = -EFBIG;
				break;
			}
			if ((r = dbuf_reserve(&out, 4096)) < 0)
				break;
			n = read(out_fd, out.data + out.len, out.cap - out.len - 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = -errno;
				break;
			}
			if (n == 0)
				break;
			out.len += (size_t)n;
			out.data[out.len] = '\0';
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	if (r < 0) {
		dbuf_free(&out);
		return r;
	}
	*ret_len = out.len;
	*ret = dbuf_steal(&out);
	return *ret != NULL ? 0 : -ENOMEM;
}

static int
run_plugin(const char *path, const char *command, const struct cni_cmd *cmd,
	   char **ret_out, int *ret_status, struct lf_err *reterr)
{
	char envcmd[32], *argv[] = { (char *)path, NULL }, **env = NULL, *out = NULL;
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, status = 0, r;
	size_t olen = 0;
	pid_t pid;

	snprintf(envcmd, sizeof(envcmd), "CNI_COMMAND=%s", command);
	env = make_env(envcmd);
	if (env == NULL)
		return lf_err_set(reterr, LF_E_INTERNAL, -ENOMEM, "out of memory");
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		r = lf_err_set(reterr, LF_E_IO, -errno, "pipe: %s", strerror(errno));
		goto out_close;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	r = -posix_spawn(&pid, path, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (r < 0) {
		r = lf_err_set(reterr, LF_E_IO, r, "ipam: cannot run %s: %s", path, strerror(-r));
		goto out_close;
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	r = talk(in[1], outp[0], cmd->stdin_text, cmd->stdin_len, &out, &olen);
	in[1] = -1;			/* talk() closed it */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = lf_err_set(reterr, LF_E_IO, r, "ipam: reading from %s: %s", path, strerror(-r));
		goto out_close;
	}
	if (WIFSIGNALED(status)) {
		r = lf_err_set(reterr, LF_E_IO, -EIO, "ipam: %s %s killed by signal %d",
			       path, command, WTERMSIG(status));
		free(out);
		goto out_close;
	}
	*ret_status = WEXITSTATUS(status);
	*ret_out = out;
	r = 0;
out_close:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	free(env);
	return r;
}

/* A failed plugin: its error JSON, passed through, or its words. */
static int
plugin_error(const char *type, const char *command, int status, const char *out,
	     struct lf_err *reterr)
{
	const cJSON *code, *msg, *details;
	cJSON *root = cJSON_Parse(out);

	code = root ? cJSON_GetObjectItemCaseSensitive(root, "code") : NULL;
	msg = root ? cJSON_GetObjectItemCaseSensitive(root, "msg") : NULL;
	if (cJSON_IsNumber(code) && code->valueint > 0) {
		details = cJSON_GetObjectItemCaseSensitive(root, "details");
		cni_err_set_foreign(reterr, code->valueint, -EIO, "ipam %s: %s", type,
				    cJSON_IsString(msg) ? msg->valuestring : "failed");
		if (cJSON_IsString(details))
			lf_err_details(reterr, "%s", details->valuestring);
	} else {
		lf_err_set(reterr, LF_E_IO, -EIO, "ipam %s: %s failed with exit status %d",
			   type, command, status);
		lf_err_details(reterr, "%.400s", out);
	}
	cJSON_Delete(root);
	return -EIO;
}

static int
parse_result(const char *type, const char *out, struct cni_result *ret,
	     struct lf_err *reterr)
{
	char ctx[CNI_TYPE_MAX + 16], ver[16] = "";
	cJSON *root = NULL;
	int r;

	snprintf(ctx, sizeof(ctx), "ipam %s result ", type);
	r = json_parse(out, &root, reterr);
	if (r < 0)
		return r;
	r = json_get_str(root, "cniVersion", ver, sizeof(ver), true, ctx, reterr);
	if (r == 0 && cni_version_parse(ver) == CNI_V_NONE)
		r = lf_err_set_field(reterr, LF_E_UNSUPPORTED, LF_F_VERSION, -EINVAL,
			       "%scniVersion \"%s\" is not supported", ctx, ver);
	if (r == 0)
		r = cni_result_from_json(root, ctx, ret, reterr);
	cJSON_Delete(root);
	return r < 0 ? -EINVAL : 0;
}

int
cni_delegate(const struct cni_cmd *cmd, enum cni_command command,
	     struct cni_result *ret, struct lf_err *reterr)
{
	const char *cname = cni_command_name(command), *type = cmd->conf.ipam_type;
	char path[PATH_MAX], *out = NULL;
	void (*old)(int);
	int status = 0, r;

	r = find_plugin(cmd, path, sizeof(path), reterr);
	if (r < 0)
		return r;
	log_debug("delegating %s to %s", cname, path);
	old = signal(SIGPIPE, SIG_IGN);
	r = run_plugin(path, cname, cmd, &out, &status, reterr);
	(void)signal(SIGPIPE, old);
	if (r < 0)
		return r;
	if (status != 0)
		r = plugin_error(type, cname, status, out, reterr);
	else if (ret != NULL)
		r = parse_result(type, out, ret, reterr);
	free(out);
	return r;
}

/* 1 when the plugin's VERSION reply lists `version` or a later one, 0 when
 * not, -errno when it cannot be asked (then the command itself will say). */
static int
delegate_supports(const struct cni_cmd *cmd, const char *version)
{
	struct lf_err err = { 0 };
	const cJSON *arr, *it;
	char path[PATH_MAX], *out = NULL;
	cJSON *root;
	void (*old)(int);
	int status = 0, r;

	if (find_plugin(cmd, path, sizeof(path), &err) < 0)
		return -ENOENT;
	old = signal(SIGPIPE, SIG_IGN);
	r = run_plugin(path, "VERSION", cmd, &out, &status, &err);
	(void)signal(SIGPIPE, old);
	if (r < 0)
		return r;
	root = status == 0 ? cJSON_Parse(out) : NULL;
	free(out);
	if (root == NULL)
		return -EINVAL;
	r = 0;
	arr = cJSON_GetObjectItemCaseSensitive(root, "supportedVersions");
	if (!cJSON_IsArray(arr))
		arr = NULL;
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && strverscmp(it->valuestring, version) >= 0)
			r = 1;
	cJSON_Delete(root);
	return r;
}

int
cni_delegate_newer(const struct cni_cmd *cmd, enum cni_command command,
		   struct lf_err *reterr)
{
	struct lf_err err = { 0 };
	int r;

	r = delegate_supports(cmd, CNI_VERSION_LATEST);
	if (r == 0) {
		log_info("ipam %s predates CNI %s: no %s to pass on",
			 cmd->conf.ipam_type, CNI_VERSION_LATEST, cni_command_name(command));
		return 0;
	}
	r = cni_delegate(cmd, command, NULL, &err);
	if (r < 0 && err.code == LF_E_UNSUPPORTED && err.field == LF_F_VERSION) {
		log_info("ipam %s does not know %s (%s); nothing to pass on",
			 cmd->conf.ipam_type, cni_command_name(command), err.msg);
		return 0;
	}
	if (r < 0 && reterr != NULL)
		*reterr = err;
	return r;
}
