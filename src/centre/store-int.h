// SPDX-License-Identifier: Apache-2.0
// Private to the store: the table of operations each backend provides (store-sqlite.c,
// store-postgres.c), the parts of `struct store` and `struct store_conn` that store.c shares
// with them, and the migrations runner, which the tests drive with their own migrations.
#ifndef IASO_CENTRE_STORE_INT_H
#define IASO_CENTRE_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "centre/embed.h"
#include "centre/store.h"

/* Prepared statements kept per connection: more distinct statements than the centre's hot
 * paths run, few enough that a linear scan of the hashes costs less than one prepare. */
#define STORE_STMT_CACHE_N 64

/* Result columns held on the stack; wider rows take one allocation per statement. */
#define STORE_COLS_SMALL 16

/*
 * One backend. Each function gets a connection opened by its own `conn_open`; store.c does the
 * pooling, the transactions' bookkeeping and the migrations, the backend everything that
 * speaks to the database. Messages put in `eb` are whole sentences.
 */
struct store_ops {
    const char *name;  /* folder of its migrations: "sqlite", "postgres" */
    const char *title; /* for messages: "SQLite", "PostgreSQL" */
    /* Creates the migrations table if missing (inside the migration lock). */
    const char *sql_migrations_create;
    /* One row, one integer: 1 when the migrations table exists, else 0. */
    const char *sql_migrations_exist;

    /* Opens one more connection to `st->where`. */
    int (*conn_open)(struct store *st, struct store_conn **out, struct errbuf *eb);
    void (*conn_close)(struct store_conn *c);
    /* False when the connection is lost and must be replaced (PostgreSQL). */
    bool (*conn_is_usable)(struct store_conn *c);
    /* True inside a transaction, including a failed one awaiting rollback. */
    bool (*conn_in_txn)(struct store_conn *c);

    int (*begin)(struct store_conn *c, bool write, struct errbuf *eb);
    /* On failure the transaction is rolled back: the connection is never left inside one. */
    int (*commit)(struct store_conn *c, struct errbuf *eb);
    void (*rollback)(struct store_conn *c);
    /* store_exec() once the arguments are checked. */
    int (*exec)(struct store_conn *c, const char *sql, const struct store_val *params,
                size_t n_params, store_row_fn fn, void *ctx, int64_t *n_changed, struct errbuf *eb);
    /* Runs a script of several statements without parameters (a migration file). */
    int (*exec_script)(struct store_conn *c, const char *sql, struct errbuf *eb);
    /* Inside a write transaction: waits until no other process migrates, until commit. */
    int (*migrations_lock)(struct store_conn *c, struct errbuf *eb);
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_postgres_ops;

struct store {
    const struct store_ops *ops;
    enum store_kind kind;
    char *where;         /* owns: the path or URI as given, to open more connections */
    char *name;          /* owns: `where` without any password, to start messages with */
    int busy_timeout_ms; /* > 0 */
    size_t n_conns_max;  /* > 0 */

    pthread_mutex_t mu;       /* guards the fields below */
    pthread_cond_t conn_cv;   /* signalled when a connection comes back or a slot frees */
    pthread_cond_t writer_cv; /* signalled when the writer token comes back; CLOCK_MONOTONIC */
    size_t n_conns_open;      /* idle and in use */
    struct store_conn *idle;  /* owns: a list through `next_idle` */
    bool is_writer_busy;      /* SQLite: one writing transaction at a time in this process */
};

/* The head of every backend's connection; the backend's struct embeds it first. */
struct store_conn {
    struct store *st;             /* borrows */
    struct store_conn *next_idle; /* while in the pool */
};

/*
 * The writer token (SQLite only). SQLite has one writer per database; other writers wait in
 * its busy handler, which sleeps in steps up to 100 ms. Waiting on a condition variable in the
 * process instead hands the lock over at once, so threads of one centre never see SQLITE_BUSY;
 * the busy handler remains for other processes. Any thread may release the token (a connection
 * may move between threads between begin and commit), hence a flag and not a mutex.
 * Acquire returns 0, or IASO_E_IO when `st->busy_timeout_ms` passes first.
 */
int store_writer_acquire(struct store *st, struct errbuf *eb);
void store_writer_release(struct store *st);

/*
 * Applies the pending migrations among `files` that belong to the connection's backend
 * ("<backend>/NNNN-name.sql"), each in its own write transaction with its row in
 * schema_migrations. Refuses (IASO_E_UNSUPPORTED) a database that has a version higher than the
 * highest in `files`; IASO_E_FORMAT for a file name without a number or a number used twice.
 */
int store_migrate(struct store_conn *c, const struct embed_file *files, size_t n_files,
                  struct errbuf *eb);

/* FNV-1a over `len` bytes, continuing from `h` (start with STORE_HASH_INIT): the statement
 * caches' key. */
#define STORE_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t store_hash(uint64_t h, const void *p, size_t len);

#endif
