// SPDX-License-Identifier: Apache-2.0
// Region allocator; see arena.h.
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next;
    size_t len;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void
arena_init(struct arena *a, size_t block_len, size_t max_len)
{
    a->head = NULL;
    a->block_len = block_len ? block_len : 4096;
    a->used_len = 0;
    a->total_len = 0;
    a->max_len = max_len;
}

void
arena_release(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_len = a->total_len = 0;
}

void
arena_reset(struct arena *a)
{
    if (!a->head)
        return;
    /* Keep the oldest block: it is the one of the default size. */
    struct arena_block *b = a->head, *keep = NULL;
    while (b) {
        struct arena_block *next = b->next;
        if (!next) {
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    keep->used = 0;
    keep->next = NULL;
    a->head = keep;
    a->used_len = 0;
    a->total_len = keep->len;
}

void *
arena_alloc(struct arena *a, size_t len)
{
    size_t need = (len + 15) & ~(size_t)15;
    if (need < len)
        return NULL;
    struct arena_block *b = a->head;
    if (!b || b->len - b->used < need) {
        size_t blen = need > a->block_len ? need : a->block_len;
        if (a->max_len && (blen > a->max_len || a->total_len > a->max_len - blen))
            return NULL;
        b = malloc(sizeof(*b) + blen);
        if (!b)
            return NULL;
        b->len = blen;
        b->used = 0;
        /* A large one-off block goes behind the current one so its free space is not lost. */
        if (a->head && need > a->block_len) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
        a->total_len += blen;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used_len += need;
    return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}
