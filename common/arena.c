/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#define VT_ARENA_ALIGN     alignof(max_align_t)
#define VT_ARENA_MIN_BLOCK 256u
/* Blocks after the first: a message larger than it was last time grows in
 * steps of this much (or of one allocation, when that is larger). */
#define VT_ARENA_NEXT_BLOCK 4096u

typedef struct Block Block;
struct Block {
	Block *next;
	gsize size; /* bytes of data[] */
	gsize used;
	alignas(VT_ARENA_ALIGN) unsigned char data[];
};

typedef struct Cleanup Cleanup;
struct Cleanup {
	Cleanup *next;
	GDestroyNotify func;
	gpointer data;
};

struct _VtArena {
	Block *blocks;     /* the newest first */
	Cleanup *cleanups; /* the newest first; in the blocks */
	gsize first_block;
	gsize used;  /* handed out, in all blocks */
	gsize limit; /* of used */
	gboolean refused;
};

VtArena *
vt_arena_new(gsize first_block, gsize limit)
{
	VtArena *a = g_new0(VtArena, 1);

	a->first_block = MAX(first_block, VT_ARENA_MIN_BLOCK);
	a->limit = limit;
	return a;
}

void
vt_arena_free(VtArena *arena)
{
	if (arena == NULL)
		return;
	for (Cleanup *c = arena->cleanups; c != NULL; c = c->next)
		c->func(c->data);
	for (Block *b = arena->blocks, *next; b != NULL; b = next) {
		next = b->next;
		g_free(b);
	}
	g_free(arena);
}

gsize
vt_arena_size_of(gsize size)
{
	return (MAX(size, 1) + VT_ARENA_ALIGN - 1) & ~(gsize)(VT_ARENA_ALIGN - 1);
}

void *
vt_arena_alloc(VtArena *arena, gsize size)
{
	gsize rounded = vt_arena_size_of(size);
	Block *b = arena->blocks;
	void *p;

	if (rounded < size || rounded > arena->limit - arena->used) {
		arena->refused = TRUE;
		return NULL;
	}
	if (b == NULL || b->size - b->used < rounded) {
		gsize want = b == NULL ? arena->first_block : VT_ARENA_NEXT_BLOCK;
		gsize data = MAX(want, rounded);

		b = g_malloc(sizeof(Block) + data);
		b->size = data;
		b->used = 0;
		b->next = arena->blocks;
		arena->blocks = b;
	}
	p = b->data + b->used;
	b->used += rounded;
	arena->used += rounded;
	return p;
}

void *
vt_arena_memdup(VtArena *arena, const void *data, gsize size)
{
	void *copy = vt_arena_alloc(arena, size);

	if (copy != NULL && size > 0)
		memcpy(copy, data, size);
	return copy;
}

char *
vt_arena_strdup(VtArena *arena, const char *str)
{
	return str != NULL ? vt_arena_memdup(arena, str, strlen(str) + 1) : NULL;
}

gboolean
vt_arena_add_cleanup(VtArena *arena, GDestroyNotify func, gpointer data)
{
	Cleanup *c = vt_arena_alloc(arena, sizeof(*c));

	if (c == NULL)
		return FALSE;
	c->func = func;
	c->data = data;
	c->next = arena->cleanups;
	arena->cleanups = c;
	return TRUE;
}

gsize
vt_arena_used(const VtArena *arena)
{
	return arena->used;
}

gboolean
vt_arena_refused(const VtArena *arena)
{
	return arena->refused;
}
