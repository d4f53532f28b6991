/* install_cni.c — leafnet-install-cni: put the CNI plugins and the network
 * configuration list on a host (the DaemonSet's init container, or by hand).
 *
 *   leafnet-install-cni [--source DIR] [--bin-dir DIR] [--net-dir DIR]
 *                       [--conflist FILE] [--name NAME] [--leafnet-conf FILE]
 *                       [--root DIR] [--uninstall] [--quiet]
 *
 * - leafnet and leafnet-ipam are copied from --source into --bin-dir, then
 *   (with --leafnet-conf) that file into <net-dir>/leafnet/leafnet.conf,
 *   then the conflist into <net-dir>/<name>: the runtime sees the network
 *   only once the plugins it names are in place.
 * - Every write is a temp file in the target directory, fsync, rename, fsync
 *   of the directory: a reader sees the old file or the new one, never half.
 * - Idempotent: a file whose bytes and mode already match is not touched
 *   (same inode, same mtime); a run that changes nothing says so.
 * - The conflist gets a top-level "leafnet-installed": true (libcni ignores
 *   unknown top-level keys; plugins never see them).  A file of that name
 *   without the marker — someone else's — is left alone: nothing at all is
 *   written, a message says why, exit 3.  Installing under another name
 *   instead would not help: the runtime takes the first file in lexical
 *   order, so the operator has to choose (remove it, or pass --name).
 *
 * Exit: 0 done (changed or not), 1 error, 2 usage, 3 foreign conflist.
 *
 * A C program rather than a shell script: the image is FROM scratch, with
 * no shell or coreutils to run one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "dbuf.h"
#include "err.h"
#include "json.h"

#define PROG           "leafnet-install-cni"
#define MARKER         "leafnet-installed"
#define FILE_MAX       (256u << 20)	/* a plugin binary; the conflist is checked smaller */
#define CONFLIST_MAX   (1u << 20)
#define EXIT_ERR       1
#define EXIT_USAGE     2
#define EXIT_FOREIGN   3

static const char *const plugins[] = { "leafnet", "leafnet-ipam" };

static bool quiet;
static int n_written, n_same;

static void
say(const char *what, const char *path)
{
	if (!quiet) {
		printf("%s %s\n", what, path);
		fflush(stdout);
	}
}

/* Read a whole file (NUL-terminated); -errno. */
static int
read_file(const char *path, size_t max, bool nofollow, struct dbuf *ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	long n;

	if (fd < 0)
		return -errno;
	n = dbuf_read_fd(ret, fd, max);
	close(fd);
	if (n < 0)
		return (int)n;
	return dbuf_reserve(ret, 0);	/* an empty file: "" rather than NULL */
}

static int
mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	size_t i;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (i = 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		p[i] = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Is dir/name a regular file holding exactly data with this mode? */
static bool
same_file(const char *path, const void *data, size_t len, mode_t mode)
{
	struct dbuf cur = { 0 };
	struct stat st;
	bool same;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len ||
	    (st.st_mode & 07777) != mode)
		return false;
	same = read_file(path, len + 1, true, &cur) == 0 && cur.len == len &&
	       memcmp(cur.data, data, len) == 0;
	dbuf_free(&cur);
	return same;
}

/* dir/name = data, atomically, unless it already is. */
static int
install_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	const char *p = data;
	size_t off = 0;
	int fd, r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.leafnet-tmp.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (same_file(path, data, len, mode)) {
		n_same++;
		say("unchanged", path);
		return 0;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, PROG ": cannot create a temp file in %s: %s\n", dir, strerror(-r));
		return r;
	}
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		off += (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	(void)fsync_dir(dir);
	n_written++;
	say("wrote", path);
	return 0;
fail:
	r = -errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	fprintf(stderr, PROG ": cannot write %s: %s\n", path, strerror(-r));
	return r;
}

/* The conflist as installed: the operator's file, validated, with the
 * marker, printed the same way every time. */
static int
conflist_text(const char *file, char **ret)
{
	struct dbuf in = { 0 };
	struct lf_err err = { 0 };
	const cJSON *plist, *it;
	cJSON *root = NULL;
	char *text;
	int r, i = 0;

	r = read_file(file, CONFLIST_MAX, false, &in);
	if (r < 0) {
		fprintf(stderr, PROG ": --conflist %s: %s\n", file, strerror(-r));
		return r;
	}
	r = json_parse(in.data, &root, &err);
	dbuf_free(&in);
	if (r < 0) {
		fprintf(stderr, PROG ": --conflist %s: %s\n", file, err.msg);
		return r;
	}
	plist = cJSON_GetObjectItemCaseSensitive(root, "plugins");
	if (!cJSON_IsObject(root) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "name")) ||
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "cniVersion")) ||
	    !cJSON_IsArray(plist) || cJSON_GetArraySize(plist) == 0) {
		fprintf(stderr, PROG ": --conflist %s: not a CNI network configuration list "
			"(expected an object with \"cniVersion\", \"name\" and a non-empty "
			"\"plugins\" array)\n", file);
		cJSON_Delete(root);
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, plist) {
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "type"))) {
			fprintf(stderr, PROG ": --conflist %s: plugins[%d]: expected an object "
				"with a \"type\"\n", file, i);
			cJSON_Delete(root);
			return -EINVAL;
		}
		i++;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(root, MARKER);
	if (!cJSON_AddTrueToObject(root, MARKER) || (text = cJSON_Print(root)) == NULL) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	cJSON_Delete(root);
	*ret = text;
	return 0;
}

/* 1: ours (marked), 0: absent, -EEXIST: someone else's, other -errno. */
static int
conflist_owner(const char *path)
{
	struct dbuf cur = { 0 };
	struct lf_err err = { 0 };
	cJSON *root = NULL;
	int r;

	r = read_file(path, CONFLIST_MAX, true, &cur);
	if (r == -ENOENT)
		return 0;
	if (r == -ELOOP || r == -EFBIG || r == -EISDIR) {
		dbuf_free(&cur);
		return -EEXIST;
	}
	if (r < 0) {
		dbuf_free(&cur);
		fprintf(stderr, PROG ": cannot read %s: %s\n", path, strerror(-r));
		return r;
	}
	r = json_parse(cur.data, &root, &err) == 0 &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, MARKER)) ? 1 : -EEXIST;
	cJSON_Delete(root);
	dbuf_free(&cur);
	return r;
}

/* The runtime takes the first configuration in lexical order: say so when
 * another one comes before ours. */
static void
warn_earlier(const char *netdir, const char *name)
{
	struct dirent **list = NULL;
	int n, i;

	n = scandir(netdir, &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *d = list[i]->d_name, *ext = strrchr(d, '.');

		if (d[0] != '.' && ext != NULL && strcmp(d, name) < 0 &&
		    (strcmp(ext, ".conf") == 0 || strcmp(ext, ".conflist") == 0 ||
		     strcmp(ext, ".json") == 0))
			fprintf(stderr, PROG ": warning: %s/%s sorts before %s: a runtime that "
				"uses the first configuration will use that one\n", netdir, d, name);
		free(list[i]);
	}
	free(list);
}

static int
remove_file(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, PROG ": cannot remove %s: %s\n", path, strerror(errno));
		return -errno;
	}
	n_written++;
	say("removed", path);
	return 0;
}

static int
usage(FILE *f, int code)
{
	fprintf(f,
		"usage: " PROG " [--source DIR] [--bin-dir DIR] [--net-dir DIR] [--conflist FILE]\n"
		"                           [--name NAME] [--leafnet-conf FILE] [--root DIR]\n"
		"                           [--uninstall] [--quiet]\n"
		"  --source DIR        where leafnet and leafnet-ipam are (default /usr/lib/cni)\n"
		"  --bin-dir DIR       the runtime's CNI plugin directory (default /opt/cni/bin)\n"
		"  --net-dir DIR       the runtime's CNI config directory (default /etc/cni/net.d)\n"
		"  --conflist FILE     the network configuration list to install\n"
		"                      (default /etc/leafnet/10-leafnet.conflist)\n"
		"  --name NAME         its file name in --net-dir (default: the file's own name)\n"
		"  --leafnet-conf FILE also install this leafnet.conf as <net-dir>/leafnet/leafnet.conf\n"
		"                      (the plugins on the host read it: \"leafnet_conf\" in the conflist)\n"
		"  --root DIR          take --bin-dir and --net-dir under DIR\n"
		"  --uninstall         remove what an install wrote (a foreign conflist stays)\n"
		"Writes are atomic and only when the content differs; a conflist without\n"
		"\"" MARKER "\": true is someone else's and is never overwritten (exit 3).\n");
	return code;
}

static int
join(char *buf, size_t size, const char *root, const char *dir)
{
	if (snprintf(buf, size, "%s%s%s", root, root[0] != '\0' && dir[0] != '/' ? "/" : "",
		     dir) >= (int)size) {
		fprintf(stderr, PROG ": path too long: %s%s\n", root, dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "bin-dir", required_argument, NULL, 'b' },
		{ "net-dir", required_argument, NULL, 'n' },
		{ "conflist", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'N' },
		{ "leafnet-conf", required_argument, NULL, 'L' },
		{ "root", required_argument, NULL, 'r' },
		{ "uninstall", no_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = "/usr/lib/cni", *bindir_arg = "/opt/cni/bin";
	const char *netdir_arg = "/etc/cni/net.d", *conflist = "/etc/leafnet/10-leafnet.conflist";
	const char *name = NULL, *lconf = NULL, *root = "";
	char bindir[PATH_MAX], netdir[PATH_MAX], confdir[PATH_MAX], path[PATH_MAX];
	char *text = NULL;
	bool uninstall = false;
	size_t i;
	int c, r, owner;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 's': source = optarg; break;
		case 'b': bindir_arg = optarg; break;
		case 'n': netdir_arg = optarg; break;
		case 'c': conflist = optarg; break;
		case 'N': name = optarg; break;
		case 'L': lconf = optarg; break;
		case 'r': root = optarg; break;
		case 'u': uninstall = true; break;
		case 'q': quiet = true; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return usage(stderr, EXIT_USAGE);
	}
	if (name == NULL) {
		name = strrchr(conflist, '/');
		name = name != NULL ? name + 1 : conflist;
	}
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL) {
		fprintf(stderr, PROG ": --name '%s': expected a plain file name like "
			"10-leafnet.conflist\n", name);
		return EXIT_USAGE;
	}
	if (join(bindir, sizeof(bindir), root, bindir_arg) < 0 ||
	    join(netdir, sizeof(netdir), root, netdir_arg) < 0 ||
	    join(confdir, sizeof(confdir), netdir, "/leafnet") < 0 ||
	    join(path, sizeof(path), netdir, "/") < 0 ||
	    strlen(path) + strlen(name) >= sizeof(path))
		return EXIT_USAGE;
	strcat(path, name);

	/* Whose is the conflist?  Decided before anything is written. */
	owner = conflist_owner(path);
	if (owner == -EEXIST) {
		fprintf(stderr, PROG ": %s exists and was not written by " PROG " (it has no "
			"\"" MARKER "\": true): left alone, nothing %s; remove it, or install "
			"under another name with --name\n", path,
			uninstall ? "removed" : "installed");
		return EXIT_FOREIGN;
	}
	if (owner < 0)
		return EXIT_ERR;

	if (uninstall) {
		/* the conflist first: no network names plugins that are gone */
		r = 0;
		if (owner == 1)
			r |= remove_file(netdir, name);
		r |= remove_file(confdir, "leafnet.conf");
		(void)rmdir(confdir);
		for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++)
			r |= remove_file(bindir, plugins[i]);
		if (r != 0)
			return EXIT_ERR;
		if (!quiet)
			printf(PROG ": %s\n", n_written ? "removed" : "nothing to remove");
		return 0;
	}

	/* Everything is read and checked before the first write. */
	if (conflist_text(conflist, &text) < 0)
		return EXIT_ERR;
	if (lconf != NULL) {
		struct leafnet_conf lc;
		struct lf_err err = { 0 };

		if (conf_load(lconf, &lc, &err) < 0) {
			fprintf(stderr, PROG ": --leafnet-conf %s: %s\n", lconf, err.msg);
			free(text);
			return EXIT_ERR;
		}
	}
	if ((r = mkdir_p(bindir)) < 0 || (r = mkdir_p(netdir)) < 0 ||
	    (lconf != NULL && (r = mkdir_p(confdir)) < 0)) {
		fprintf(stderr, PROG ": cannot make the target directories under %s: %s\n",
			root[0] ? root : "/", strerror(-r));
		free(text);
		return EXIT_ERR;
	}

	for (i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		struct dbuf bin = { 0 };
		char src[PATH_MAX];
		struct stat st;

		if (snprintf(src, sizeof(src), "%s/%s", source, plugins[i]) >= (int)sizeof(src) ||
		    stat(src, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (r = read_file(src, FILE_MAX, false, &bin)) < 0) {
			fprintf(stderr, PROG ": --source %s: no plugin %s there (%s)\n", source,
				plugins[i], strerror(errno));
			dbuf_free(&bin);
			free(text);
			return EXIT_ERR;
		}
		r = install_file(bindir, plugins[i], bin.data, bin.len, 0755);
		dbuf_free(&bin);
		if (r < 0) {
			free(text);
			return EXIT_ERR;
		}
	}
	if (lconf != NULL) {
		struct dbuf lc = { 0 };

		r = read_file(lconf, CONFLIST_MAX, false, &lc);
		if (r == 0)
			r = install_file(confdir, "leafnet.conf", lc.data, lc.len, 0644);
		else
			fprintf(stderr, PROG ": --leafnet-conf %s: %s\n", lconf, strerror(-r));
		dbuf_free(&lc);
		if (r < 0) {
			free(text);
			return EXIT_ERR;
		}
	}
	/* Checked again just before the rename: a foreign file that appeared
	 * meanwhile is still not ours to replace. */
	if (conflist_owner(path) == -EEXIST) {
		fprintf(stderr, PROG ": %s appeared meanwhile, not written by " PROG ": left "
			"alone\n", path);
		free(text);
		return EXIT_FOREIGN;
	}
	{
		size_t len = strlen(text);
		char *t = realloc(text, len + 2);

		if (t == NULL) {
			free(text);
			return EXIT_ERR;
		}
		text = t;
		memcpy(text + len, "\n", 2);
		r = install_file(netdir, name, text, len + 1, 0644);
	}
	free(text);
	if (r < 0)
		return EXIT_ERR;
	warn_earlier(netdir, name);
	if (!quiet) {
		if (n_written == 0)
			printf(PROG ": nothing changed (%d files up to date)\n", n_same);
		else
			printf(PROG ": %d files written, %d up to date\n", n_written, n_same);
	}
	return 0;
}
