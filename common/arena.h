/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A region that hands out memory by moving a pointer and frees it all at
 * once: what a decoded message needs, whose hundreds of submessages, strings
 * and arrays live and die together. Blocks are allocated as needed, the
 * first of the size asked (a caller that knows what a message took last
 * time asks for that); nothing is freed before vt_arena_free().
 */
typedef struct _VtArena VtArena;

/* An arena whose first block holds @first_block bytes (at least 256), and
 * that refuses to hand out more than @limit bytes in all. */
VtArena *vt_arena_new(gsize first_block, gsize limit);
void vt_arena_free(VtArena *arena);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtArena, vt_arena_free)

/* @size bytes aligned for any type, or NULL past the limit. */
void *vt_arena_alloc(VtArena *arena, gsize size);

/* A copy of @size bytes at @data, of the string @str (NULL: NULL), in
 * @arena; NULL past the limit. */
void *vt_arena_memdup(VtArena *arena, const void *data, gsize size);
char *vt_arena_strdup(VtArena *arena, const char *str);

/* @func(@data) when the arena is freed (newest first, before its memory
 * goes): what the arena's messages borrow from elsewhere. FALSE, and nothing
 * registered, past the limit. */
gboolean vt_arena_add_cleanup(VtArena *arena, GDestroyNotify func, gpointer data);

/* What an allocation of @size bytes takes of an arena (rounded to the
 * alignment): for sizing a first block to what will be asked of it. */
gsize vt_arena_size_of(gsize size);

/* Bytes handed out so far (rounded to the alignment). */
gsize vt_arena_used(const VtArena *arena);
/* Whether an allocation was refused for the limit. */
gboolean vt_arena_refused(const VtArena *arena);

G_END_DECLS
