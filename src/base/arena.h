// SPDX-License-Identifier: Apache-2.0
// A region allocator: many small allocations, freed in one go. Blocks come from malloc; the total
// is capped so one hostile input cannot take all memory.
#ifndef IASO_BASE_ARENA_H
#define IASO_BASE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* owned chain, newest first */
    size_t block_len;         /* default size of a new block */
    size_t used_len;          /* bytes handed out */
    size_t total_len;         /* bytes held in blocks */
    size_t max_len;           /* cap on total_len; 0 means no cap */
};

void arena_init(struct arena *a, size_t block_len, size_t max_len);
/* Frees every block. */
void arena_release(struct arena *a);
/* Forgets every allocation but keeps the first block for reuse. */
void arena_reset(struct arena *a);
/* 16-byte aligned memory, or NULL when the cap or malloc says no. */
void *arena_alloc(struct arena *a, size_t len);
/* A NUL-terminated copy of len bytes. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

#endif
