/* hash.h — one hash function and one hash table for all of leafnet.
 *
 * hash_fnv1a(): FNV-1a, 32 or 64 bits, chainable over several fields
 * (start with HASH_FNV32_INIT / HASH_FNV64_INIT).  Not for untrusted keys
 * that an attacker picks to collide; the tables below grow on load, and
 * every key they hold comes from our own store, kernel or a configured peer.
 *
 * struct htab: an intrusive, chained, power-of-two table in BIRD's
 * lib/hash.h spirit.  The element embeds a struct hnode; the table never
 * allocates elements, only its bucket array.  Lookups walk one chain:
 *
 *	struct elem { struct hnode hn; struct prefix key; ... };
 *	uint32_t h = prefix_hash(&key);
 *	struct hnode *n;
 *	HTAB_FOR_EACH_HASH(&tab, h, n) {
 *		struct elem *e = HTAB_ENTRY(n, struct elem, hn);
 *		if (prefix_eq(&e->key, &key)) return e;
 *	}
 *
 * hnode.user is 32 bits of the element's own that cost nothing: a compact
 * element keeps a field there (routing/rib.c: the entry's slab index).
 */
#ifndef LEAFNET_HASH_H
#define LEAFNET_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_FNV32_INIT 2166136261U
#define HASH_FNV64_INIT 14695981039346656037ULL

static inline uint32_t
hash_fnv1a32(uint32_t h, const void *data, size_t n)
{
	const uint8_t *b = data;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619U;
	return h;
}

static inline uint64_t
hash_fnv1a64(uint64_t h, const void *data, size_t n)
{
	const uint8_t *b = data;

	while (n-- > 0)
		h = (h ^ *b++) * 1099511628211ULL;
	return h;
}

/* Fold the low bits' weakness of FNV before masking with a power of two. */
static inline uint32_t
hash_finish32(uint32_t h)
{
	return h ^ (h >> 15);
}

struct hnode {
	struct hnode *next;
	uint32_t hash;
	uint32_t user;			/* the element's: the table never touches it
					 * (on LP64 these bytes are padding anyway) */
};

struct htab {
	struct hnode **b;		/* size buckets; NULL until the first insert */
	size_t size;			/* a power of two, or 0 */
	size_t count;
};

#define HTAB_ENTRY(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* Every node whose hash is h (compare the keys yourself).  Safe against
 * neither insert nor remove inside the loop. */
#define HTAB_FOR_EACH_HASH(t, h, n)					\
	for ((n) = (t)->size ? (t)->b[(h) & ((t)->size - 1)] : NULL;	\
	     (n) != NULL; (n) = (n)->next)				\
		if ((n)->hash == (h))

/* Every node; removing the current one is safe (nx is the lookahead). */
#define HTAB_FOR_EACH_SAFE(t, i, n, nx)					\
	for ((i) = 0; (i) < (t)->size; (i)++)				\
		for ((n) = (t)->b[i]; (n) != NULL && ((nx) = (n)->next, 1); (n) = (nx))

/* Start loading the bucket of hash h, so that its cache miss overlaps
 * other work (another table's walk) before HTAB_FOR_EACH_HASH(t, h, ...)
 * or htab_insert(t, ..., h).  Only a hint: any table, even empty. */
static inline void
htab_prefetch(const struct htab *t, uint32_t h)
{
	if (t->size != 0)
		__builtin_prefetch(&t->b[h & (t->size - 1)]);
}

/* size_hint 0: start small.  0 or -ENOMEM. */
int  htab_init(struct htab *t, size_t size_hint);
void htab_done(struct htab *t);		/* frees the buckets, not the elements */
/* Insert n (not already in t) with hash h.  When growing the bucket array
 * runs out of memory the table keeps its size and gets slower, but stays
 * correct; only a table that has no buckets at all yet fails (-ENOMEM). */
int  htab_insert(struct htab *t, struct hnode *n, uint32_t h);
/* Remove n, which must be in t. */
void htab_remove(struct htab *t, struct hnode *n);

#endif
