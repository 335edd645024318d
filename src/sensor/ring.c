// SPDX-License-Identifier: Apache-2.0
// SPSC byte ring; see ring.h.
//
// Each record starts with a uint32_t length (the whole record, aligned). A length of zero is a
// wrap marker: the rest of the ring up to its end is padding and the next record is at offset 0.
// The waiting protocol: a side that is about to sleep sets its waiting flag under the lock, then
// checks the position again; the other side stores the position, then reads the flag, and
// signals under the lock. With sequentially consistent atomics one of them sees the other.
#include "sensor/ring.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define SPINS 2000 /* polls before sleeping: about a few microseconds */
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

int
ring_init(struct ring *r, size_t size)
{
    memset(r, 0, sizeof(*r));
    size_t s = 65536;
    while (s < size)
        s <<= 1;
    r->buf = aligned_alloc(64, s);
    if (!r->buf)
        return IASO_E_NOMEM;
    r->size = s;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->consumer_waiting, 0);
    atomic_init(&r->producer_waiting, 0);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->data_cond, NULL);
    pthread_cond_init(&r->space_cond, NULL);
    return 0;
}

void
ring_release(struct ring *r)
{
    if (!r->buf)
        return;
    free(r->buf);
    r->buf = NULL;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->data_cond);
    pthread_cond_destroy(&r->space_cond);
}

size_t
ring_max_record(const struct ring *r)
{
    return r->size / 4;
}

/* Producer: waits until `need` bytes are free. */
static void
wait_space(struct ring *r, size_t need)
{
    if (r->size - (r->head_local - r->tail_cache) >= need)
        return;
    /* The consumer may be asleep waiting for what we have not published yet. */
    ring_publish(r);
    for (int i = 0;; i++) {
        r->tail_cache = atomic_load(&r->tail);
        if (r->size - (r->head_local - r->tail_cache) >= need)
            return;
        if (i < SPINS) {
            if (i % 64 == 63)
                sched_yield();
            continue;
        }
        r->n_producer_waits++;
        pthread_mutex_lock(&r->lock);
        atomic_store(&r->producer_waiting, 1);
        while (r->size - (r->head_local - atomic_load(&r->tail)) < need)
            pthread_cond_wait(&r->space_cond, &r->lock);
        atomic_store(&r->producer_waiting, 0);
        pthread_mutex_unlock(&r->lock);
    }
}

void *
ring_reserve(struct ring *r, size_t len)
{
    len = ALIGN8(len);
    size_t off = r->head_local & (r->size - 1);
    if (off + len > r->size) {
        /* Not enough room before the end: pad to it with a wrap marker. */
        size_t pad = r->size - off;
        wait_space(r, pad + len);
        memset(r->buf + off, 0, sizeof(uint32_t));
        r->head_local += pad;
        off = 0;
    } else {
        wait_space(r, len);
    }
    return r->buf + off;
}

void
ring_commit(struct ring *r, size_t len)
{
    uint32_t l = (uint32_t)ALIGN8(len);
    memcpy(r->buf + (r->head_local & (r->size - 1)), &l, sizeof(l));
    r->head_local += l;
}

void
ring_publish(struct ring *r)
{
    atomic_store(&r->head, r->head_local);
    if (atomic_load(&r->consumer_waiting)) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_signal(&r->data_cond);
        pthread_mutex_unlock(&r->lock);
    }
}

const void *
ring_next(struct ring *r, size_t *len)
{
    for (;;) {
        size_t head = atomic_load(&r->head);
        for (int i = 0; head == r->tail_local; i++) {
            if (i == 0)
                ring_release_space(r); /* let a blocked producer go on before we wait */
            if (i < SPINS) {
                if (i % 64 == 63)
                    sched_yield();
            } else {
                pthread_mutex_lock(&r->lock);
                atomic_store(&r->consumer_waiting, 1);
                while (atomic_load(&r->head) == r->tail_local)
                    pthread_cond_wait(&r->data_cond, &r->lock);
                atomic_store(&r->consumer_waiting, 0);
                pthread_mutex_unlock(&r->lock);
            }
            head = atomic_load(&r->head);
        }
        size_t off = r->tail_local & (r->size - 1);
        uint32_t l;
        memcpy(&l, r->buf + off, sizeof(l));
        if (l == 0) {
            r->tail_local += r->size - off;
            continue;
        }
        *len = l;
        return r->buf + off;
    }
}

void
ring_consume(struct ring *r, size_t len)
{
    r->tail_local += ALIGN8(len);
}

void
ring_release_space(struct ring *r)
{
    atomic_store(&r->tail, r->tail_local);
    if (atomic_load(&r->producer_waiting)) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_signal(&r->space_cond);
        pthread_mutex_unlock(&r->lock);
    }
}
