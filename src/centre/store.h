// SPDX-License-Identifier: Apache-2.0
// The centre's store: one interface, two backends (SQLite, the embedded default; PostgreSQL
// through libpq). Domain modules speak one portable SQL dialect through it:
//   - placeholders are `?` (the PostgreSQL backend rewrites them to $1, $2, ... outside quotes);
//   - integers are 64-bit (`INTEGER` in SQLite STRICT tables, `BIGINT` in PostgreSQL);
//   - times are integers, Unix seconds UTC; booleans are integers 0/1;
//   - text is UTF-8 `TEXT`; binary is `BLOB` / `BYTEA` (STORE_BLOB);
//   - new rows return their id with `INSERT ... RETURNING id` (SQLite >= 3.35 has it).
//   - in PostgreSQL a NULL or text parameter takes its type from where it stands; where nothing
//     tells (`? IS NULL`, `length(?)`), write `CAST(? AS TEXT)`, which both backends read alike.
// Schema changes are numbered migrations per backend (src/centre/sql/<backend>/NNNN-name.sql),
// embedded at build time and applied in order at open, each in its own transaction, recorded in
// the table `schema_migrations`. A migration is never edited once released; a new one is added.
// A migration file holds several statements but no BEGIN or COMMIT of its own.
//
// Threads: a `struct store` is shared by every thread. Each thread takes a connection with
// store_conn_get() for the length of one request and gives it back with store_conn_put().
// A connection is used by one thread at a time.
#ifndef IASO_CENTRE_STORE_H
#define IASO_CENTRE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct store;
struct store_conn;

enum store_kind {
    STORE_SQLITE,
    STORE_POSTGRES,
};

enum store_type {
    STORE_NULL,
    STORE_INT,
    STORE_TEXT,
    STORE_BLOB,
};

/* One parameter or one result column. `s` borrows: for parameters from the caller until the
 * call returns, for results from the backend until the row callback returns. Text results are
 * NUL-terminated as well as counted. Result types: integers (PostgreSQL's booleans as 0/1, and
 * its numeric when whole, as sum() gives) are STORE_INT; other numbers come as STORE_TEXT. */
struct store_val {
    enum store_type type;
    int64_t i;
    const char *s;
    size_t len;
};

/* Builders for parameter arrays: `struct store_val p[] = {store_int(x), store_text(s)};` */
static inline struct store_val
store_int(int64_t i)
{
    return (struct store_val){.type = STORE_INT, .i = i};
}
/* NULL `s` gives an SQL NULL. */
struct store_val store_text(const char *s);
static inline struct store_val
store_textn(const char *s, size_t len)
{
    return (struct store_val){.type = STORE_TEXT, .s = s, .len = len};
}
static inline struct store_val
store_blob(const void *p, size_t len)
{
    return (struct store_val){.type = STORE_BLOB, .s = (const char *)p, .len = len};
}
static inline struct store_val
store_null(void)
{
    return (struct store_val){.type = STORE_NULL};
}

struct store_row {
    size_t n_cols;
    const struct store_val *cols; /* borrowed until the callback returns */
};

/* Called once per result row. Return 0 to go on, anything else to stop: store_exec() then
 * returns that value (so a callback can pass a negative error code through). A callback may run
 * other statements on the same connection. */
typedef int (*store_row_fn)(void *ctx, const struct store_row *row);

struct store_options {
    size_t n_conns_max;  /* pool size; 0 means 8 */
    int busy_timeout_ms; /* SQLite busy timeout and PostgreSQL lock_timeout; 0 means 5000 */
    bool migrate;        /* apply pending migrations at open (true for serve and init) */
};

/*
 * Opens the store named by `where`: `postgresql://...` or `postgres://...` (a libpq URI) selects
 * PostgreSQL, anything else is a SQLite file path (created if missing; WAL journal, foreign keys
 * on, synchronous=FULL so an acknowledged commit survives power loss). Applies migrations when
 * `opt->migrate`. Refuses a database whose schema is newer than this program knows
 * (IASO_E_UNSUPPORTED), so an old binary never writes into a newer schema. `opt` may be NULL:
 * the defaults, without migrating. Messages name the file, or the server as
 * postgresql://user@host:port/database: never the password.
 * Returns 0 and sets *out, or a negative code with a sentence in `eb` (-errno when the file
 * cannot be opened, IASO_E_FORMAT when it is not a database, IASO_E_IO when the server cannot
 * be reached, IASO_E_INVAL for a malformed URI).
 */
int store_open(const char *where, const struct store_options *opt, struct store **out,
               struct errbuf *eb);

/* Closes every pooled connection. Every connection must have been put back. NULL is fine. */
void store_free(struct store *st);

enum store_kind store_kind(const struct store *st);

/* The highest migration number applied. */
int store_schema_version(struct store *st, int *out, struct errbuf *eb);

/* Takes a connection from the pool, waiting when all are in use (opening one lazily up to the
 * pool size). Returns 0, or a negative code when a new connection cannot be opened. */
int store_conn_get(struct store *st, struct store_conn **out, struct errbuf *eb);

/* Gives a connection back. A connection left inside a transaction is rolled back first; a
 * broken PostgreSQL connection is closed and replaced on the next get. */
void store_conn_put(struct store_conn *c);

/*
 * Transactions. `write` tells SQLite to take the write lock at BEGIN (BEGIN IMMEDIATE), so two
 * writers never deadlock on a lock upgrade; PostgreSQL ignores it. Commit is durable when it
 * returns 0; when it fails the transaction is rolled back. Begin inside a transaction and commit
 * outside one are IASO_E_INVAL. A failed statement ends a PostgreSQL transaction (its commit
 * then fails) but not an SQLite one: after an error, roll back.
 */
int store_begin(struct store_conn *c, bool write, struct errbuf *eb);
int store_commit(struct store_conn *c, struct errbuf *eb);
void store_rollback(struct store_conn *c);

/*
 * Runs one statement with `n_params` parameters bound to its `?` in order, calling `fn` for each
 * result row (fn may be NULL). Sets *n_changed (may be NULL) to the number of rows inserted,
 * updated or deleted (0 for other statements). Returns 0, the callback's non-zero value, or a
 * negative code:
 *   IASO_E_EXIST    a unique or primary-key constraint failed;
 *   IASO_E_INVAL    a foreign-key, check or not-null constraint failed;
 *   IASO_E_INVAL    also: the number of values differs from the number of `?`;
 *   IASO_E_IO       anything else (the message in `eb` says what the database said).
 * Outside a transaction each statement commits on its own.
 */
int store_exec(struct store_conn *c, const char *sql, const struct store_val *params,
               size_t n_params, store_row_fn fn, void *ctx, int64_t *n_changed, struct errbuf *eb);

/* Convenience: runs a statement expected to return one integer in its first column (a count,
 * or an id from RETURNING). Returns IASO_E_NOTFOUND when there is no row or the value is NULL
 * (max() of no rows), IASO_E_FORMAT when it is not an integer. */
int store_query_int(struct store_conn *c, const char *sql, const struct store_val *params,
                    size_t n_params, int64_t *out, struct errbuf *eb);

#endif
