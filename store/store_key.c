/* store_key.c — the key rules of store.h, and key lists.  Used by the front
 * (store.c validates every key once) and by backends that filter what they
 * find (a directory entry, an etcd key) by the same rules. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"

static bool
key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '@' || c == '-';
}

/* Components of [A-Za-z0-9._:@-] joined by '/'; none empty, none starting
 * with '.' (so ".", "..", and the file backend's ".tmp." files can never be
 * named); a component short enough for a file name with room to spare. */
int
store_key_check(const char *key)
{
	size_t len, comp = 0;

	if (key == NULL)
		return -EINVAL;
	len = strlen(key);
	if (len == 0 || len > STORE_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i <= len; i++) {
		if (key[i] == '/' || key[i] == '\0') {
			if (comp == 0)
				return -EINVAL;
			if (comp > NAME_MAX - 16)
				return -ENAMETOOLONG;
			comp = 0;
			continue;
		}
		if (!key_char_ok(key[i]) || (comp == 0 && key[i] == '.'))
			return -EINVAL;
		comp++;
	}
	return 0;
}

/* A key for data: valid, and not inside the reserved lock directory. */
int
store_key_check_data(const char *key)
{
	int r = store_key_check(key);
	size_t n = strlen(STORE_LOCK_DIR);

	if (r < 0)
		return r;
	if (strncmp(key, STORE_LOCK_DIR, n) == 0 &&
	    (key[n] == '/' || key[n] == '\0'))
		return -EINVAL;
	return 0;
}

int
store_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
store_names_free(char **names, size_t n)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
