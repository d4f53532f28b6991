/* hash.c — see hash.h. */
#include <errno.h>
#include <stdlib.h>

#include "hash.h"

#define HTAB_MIN 64

static size_t
pow2_at_least(size_t n)
{
	size_t s = HTAB_MIN;

	while (s < n && s < (SIZE_MAX >> 2))
		s <<= 1;
	return s;
}

int
htab_init(struct htab *t, size_t size_hint)
{
	t->b = NULL;
	t->size = 0;
	t->count = 0;
	if (size_hint == 0)
		return 0;
	t->b = calloc(pow2_at_least(size_hint), sizeof(*t->b));
	if (t->b == NULL)
		return -ENOMEM;
	t->size = pow2_at_least(size_hint);
	return 0;
}

void
htab_done(struct htab *t)
{
	free(t->b);
	t->b = NULL;
	t->size = t->count = 0;
}

static void
htab_resize(struct htab *t, size_t ns)
{
	struct hnode **nb = calloc(ns, sizeof(*nb)), *n, *nx;

	if (nb == NULL)
		return;		/* keep the old array: slower, still correct */
	for (size_t i = 0; i < t->size; i++)
		for (n = t->b[i]; n != NULL; n = nx) {
			nx = n->next;
			n->next = nb[n->hash & (ns - 1)];
			nb[n->hash & (ns - 1)] = n;
		}
	free(t->b);
	t->b = nb;
	t->size = ns;
}

int
htab_insert(struct htab *t, struct hnode *n, uint32_t h)
{
	if (t->count >= t->size)	/* load factor 1 */
		htab_resize(t, t->size ? t->size * 2 : HTAB_MIN);
	if (t->size == 0)
		return -ENOMEM;
	n->hash = h;
	n->next = t->b[h & (t->size - 1)];
	t->b[h & (t->size - 1)] = n;
	t->count++;
	return 0;
}

void
htab_remove(struct htab *t, struct hnode *n)
{
	struct hnode **pp;

	if (t->size == 0)
		return;
	for (pp = &t->b[n->hash & (t->size - 1)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
}
