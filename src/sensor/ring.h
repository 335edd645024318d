// SPDX-License-Identifier: Apache-2.0
// A single-producer, single-consumer byte ring for handing packets from the capture thread to a
// worker. Records are variable-length, 8-byte aligned, and never straddle the end of the ring.
// The producer blocks when the ring is full (nothing is dropped on the way to a worker); the
// consumer blocks when it is empty. Both spin briefly before sleeping on a condition variable.
//
// Publishing is explicit: the producer makes a batch of records visible at once, so the shared
// cache line moves once per batch rather than once per packet.
#ifndef IASO_SENSOR_RING_H
#define IASO_SENSOR_RING_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;        /* owned */
    size_t size;         /* a power of two */
    _Atomic size_t head; /* bytes published by the producer, ever */
    _Atomic size_t tail; /* bytes released by the consumer, ever */
    size_t head_local;   /* producer only: written, not yet published */
    size_t tail_local;   /* consumer only: read, not yet released */
    size_t tail_cache;   /* producer only: last tail seen */
    _Atomic int consumer_waiting;
    _Atomic int producer_waiting;
    pthread_mutex_t lock;
    pthread_cond_t data_cond;
    pthread_cond_t space_cond;
    uint64_t n_producer_waits; /* producer only */
};

/* size is rounded up to a power of two, at least 64 KiB. 0 or IASO_E_NOMEM. */
int ring_init(struct ring *r, size_t size);
void ring_release(struct ring *r);

/* Largest record the ring takes. */
size_t ring_max_record(const struct ring *r);

/* Producer: contiguous room for a record of len bytes (<= ring_max_record), waiting for the
 * consumer if needed. Write the record there, then ring_commit(). */
void *ring_reserve(struct ring *r, size_t len);
void ring_commit(struct ring *r, size_t len);
/* Producer: makes committed records visible and wakes the consumer. */
void ring_publish(struct ring *r);

/* Consumer: the next record, waiting for one. The pointer is valid until ring_consume(). */
const void *ring_next(struct ring *r, size_t *len);
void ring_consume(struct ring *r, size_t len);
/* Consumer: tells the producer about consumed space (call once per batch). */
void ring_release_space(struct ring *r);

#endif
