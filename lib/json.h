/* json.h — the only lib/ header that exposes cJSON.  Typed, validating
 * getters that name the offending field in the error ("ipam.type: expected
 * a string"), so every front end reports config mistakes the same way. */
#ifndef LEAFNET_JSON_H
#define LEAFNET_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

struct ipaddr;
struct lf_err;
struct prefix;

/* Parse text; on failure LF_E_DECODE with the byte offset, -EINVAL. */
int json_parse(const char *text, cJSON **ret, struct lf_err *reterr);

/* Getters: 0 when found and valid; -ENOENT when absent (an error recorded
 * only if `required`); -EINVAL on the wrong type / too long / out of range,
 * with LF_E_INVALID and a message "<ctx><key>: ...".  ctx may be NULL
 * or a prefix like "ipam.".  A JSON null counts as absent. */
int json_get_str(const cJSON *obj, const char *key, char *buf, size_t size,
		 bool required, const char *ctx, struct lf_err *reterr);
int json_get_u32(const cJSON *obj, const char *key, uint32_t *ret,
		 bool required, const char *ctx, struct lf_err *reterr);
int json_get_bool(const cJSON *obj, const char *key, bool *ret,
		  bool required, const char *ctx, struct lf_err *reterr);
/* Object/array members: *ret points into obj (not copied). */
int json_get_obj(const cJSON *obj, const char *key, const cJSON **ret,
		 bool required, const char *ctx, struct lf_err *reterr);
int json_get_arr(const cJSON *obj, const char *key, const cJSON **ret,
		 bool required, const char *ctx, struct lf_err *reterr);

/* obj[key] = the address / prefix as text ("10.0.0.1", "10.0.0.0/24"), or
 * null for an unset address (family 0); NULL on OOM, like
 * cJSON_AddStringToObject. */
cJSON *json_add_addr(cJSON *obj, const char *key, const struct ipaddr *a);
cJSON *json_add_prefix(cJSON *obj, const char *key, const struct prefix *p);

/* cJSON_PrintUnformatted that returns NULL only on OOM; free() the result. */
char *json_print(const cJSON *obj);

#endif
