// SPDX-License-Identifier: Apache-2.0
// The centre as a whole: open the store, start the HTTP server with every route (the JSON API,
// /healthz, /metrics and the browser UI), and stop it again. `iaso centre serve` is a thin
// wrapper around these.
#ifndef IASO_CENTRE_CENTRE_H
#define IASO_CENTRE_CENTRE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "centre/api.h"

struct centre_config {
    const char *db;       /* SQLite path or postgresql:// URI */
    const char *listen;   /* "127.0.0.1:8080" */
    const char *tls_cert; /* PEM; with tls_key serves HTTPS */
    const char *tls_key;
    int64_t threads;        /* HTTP worker threads */
    int64_t db_conns;       /* store pool size */
    int64_t body_max;       /* request body cap, bytes */
    int64_t conns_max;      /* open connections */
    int64_t conns_per_ip;   /* open connections from one address; 0: no limit */
    int64_t idle_timeout_s; /* close connections idle this long */
};

/* Opens the store (migrating it), starts serving. Returns 0 and sets *out, or a negative code
 * with a sentence in `eb`. */
int centre_start(const struct centre_config *cfg, struct centre **out, struct errbuf *eb);

/* The port the server listens on. */
uint16_t centre_port(const struct centre *c);

/* Stops serving (requests in flight finish), closes the store, frees. NULL is fine. */
void centre_stop(struct centre *c);

/* The current time as the centre sees it (the override in tests). */
int64_t centre_now(const struct centre *c);

#endif
