// SPDX-License-Identifier: Apache-2.0
// The SQLite backend of the store (see store.h). One sqlite3 handle per pooled connection,
// opened without SQLite's own mutex since the pool hands a connection to one thread at a time;
// WAL so readers never wait for the writer; synchronous=FULL so a commit that returned survives a
// power cut. The centre runs the same few statements all day, so each connection keeps its
// prepared statements in a small cache keyed by the SQL text. Writers of one process queue on
// the store's writer token (store-int.h) rather than in SQLite's sleeping busy handler.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "base/error.h"
#include "centre/store-int.h"
#include "centre/store.h"

struct stmt_slot {
    uint64_t hash;
    size_t sql_len;
    char *sql;          /* owns: a copy of the text, the key */
    sqlite3_stmt *stmt; /* owns; NULL for a free slot */
    uint64_t used;      /* the connection's tick at the last use: the least recent goes first */
    bool is_busy;       /* stepping now; a row callback may run another statement meanwhile */
};

struct sqlite_conn {
    struct store_conn base; /* first: the pool's view of it */
    sqlite3 *db;            /* owns */
    bool holds_writer;      /* has the store's writer token for its transaction */
    bool holds_stmt_writer; /* has it for one statement outside a transaction */
    uint64_t tick;
    struct stmt_slot slots[STORE_STMT_CACHE_N];
};

static struct sqlite_conn *
sq(struct store_conn *c)
{
    return (struct sqlite_conn *)c;
}

/* Maps an (extended) SQLite result code to ours, with the database's sentence. */
static int
sq_error(struct sqlite_conn *c, int code, const char *msg, struct errbuf *eb)
{
    switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
        return err_set(eb, IASO_E_EXIST, "SQLite: %s", msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
        return err_set(eb, IASO_E_INVAL, "SQLite: %s", msg);
    default:
        break;
    }
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return err_set(eb, IASO_E_IO,
                       "SQLite: the database is busy: another process held it for longer than "
                       "%d ms (%s)",
                       c->base.st->busy_timeout_ms, msg);
    if ((code & 0xff) == SQLITE_NOMEM)
        return err_set(eb, IASO_E_NOMEM, "SQLite: out of memory");
    return err_set(eb, IASO_E_IO, "SQLite: %s", msg);
}

static int
sq_db_error(struct sqlite_conn *c, struct errbuf *eb)
{
    return sq_error(c, sqlite3_extended_errcode(c->db), sqlite3_errmsg(c->db), eb);
}

/* Gives the writer token back once the connection has left its transaction, however it left
 * (commit, rollback, or a COMMIT the caller ran through store_exec). */
static void
writer_settle(struct sqlite_conn *c)
{
    if (c->holds_writer && sqlite3_get_autocommit(c->db)) {
        c->holds_writer = false;
        store_writer_release(c->base.st);
    }
}

/* Finds the statement for `sql` in the cache or prepares it. *slot is NULL for a statement
 * outside the cache, which the caller finalizes. */
static int
stmt_get(struct sqlite_conn *c, const char *sql, struct stmt_slot **slot, sqlite3_stmt **out,
         struct errbuf *eb)
{
    size_t len = strlen(sql);
    uint64_t h = store_hash(STORE_HASH_INIT, sql, len);
    struct stmt_slot *victim = NULL;
    *slot = NULL;
    *out = NULL;
    if (len >= INT32_MAX)
        return err_set(eb, IASO_E_LIMIT, "SQLite: the statement is too long");
    c->tick++;
    for (size_t i = 0; i < STORE_STMT_CACHE_N; i++) {
        struct stmt_slot *s = &c->slots[i];
        if (s->stmt && s->hash == h && s->sql_len == len && memcmp(s->sql, sql, len) == 0) {
            if (s->is_busy) { /* the same statement, nested: run a private copy */
                victim = NULL;
                break;
            }
            s->used = c->tick;
            s->is_busy = true;
            *slot = s;
            *out = s->stmt;
            return 0;
        }
        if (!s->is_busy && (!victim || s->used < victim->used))
            victim = s;
    }

    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int code = sqlite3_prepare_v3(c->db, sql, (int)len + 1, victim ? SQLITE_PREPARE_PERSISTENT : 0,
                                  &stmt, &tail);
    if (code != SQLITE_OK)
        return sq_db_error(c, eb);
    if (!stmt)
        return err_set(eb, IASO_E_INVAL, "store: the statement is empty");
    tail += strspn(tail, " \t\r\n;");
    if (*tail) {
        sqlite3_finalize(stmt);
        return err_set(eb, IASO_E_INVAL,
                       "store: store_exec runs one statement; more follows the first");
    }
    char *copy = victim ? malloc(len + 1) : NULL;
    if (copy) {
        memcpy(copy, sql, len + 1);
        sqlite3_finalize(victim->stmt);
        free(victim->sql);
        *victim = (struct stmt_slot){
            .hash = h, .sql_len = len, .sql = copy, .stmt = stmt, .used = c->tick, .is_busy = true};
        *slot = victim;
    }
    *out = stmt;
    return 0;
}

static void
stmt_put(struct stmt_slot *slot, sqlite3_stmt *stmt)
{
    if (!stmt)
        return;
    /* Reset at once: a statement left mid-way keeps its read snapshot open, which stops WAL
     * checkpoints and hides other connections' commits. */
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (slot)
        slot->is_busy = false;
    else
        sqlite3_finalize(stmt);
}

static int
bind_all(sqlite3_stmt *stmt, const struct store_val *params, size_t n_params, struct errbuf *eb)
{
    int n_wanted = sqlite3_bind_parameter_count(stmt);
    if ((size_t)n_wanted != n_params)
        return err_set(eb, IASO_E_INVAL, "store: the statement has %d placeholders but %zu values",
                       n_wanted, n_params);
    for (int i = 0; i < n_wanted; i++) {
        const struct store_val *v = &params[i];
        int code = SQLITE_OK;
        switch (v->type) {
        case STORE_NULL:
            code = sqlite3_bind_null(stmt, i + 1);
            break;
        case STORE_INT:
            code = sqlite3_bind_int64(stmt, i + 1, v->i);
            break;
        case STORE_TEXT:
            code = sqlite3_bind_text64(stmt, i + 1, v->s ? v->s : "", v->len, SQLITE_STATIC,
                                       SQLITE_UTF8);
            break;
        case STORE_BLOB:
            /* A NULL pointer would bind an SQL NULL; an empty blob is still a blob. */
            code = v->len ? sqlite3_bind_blob64(stmt, i + 1, v->s, v->len, SQLITE_STATIC)
                          : sqlite3_bind_zeroblob(stmt, i + 1, 0);
            break;
        default:
            return err_set(eb, IASO_E_INVAL, "store: parameter %d has an unknown type", i + 1);
        }
        if (code != SQLITE_OK)
            return err_set(eb, code == SQLITE_NOMEM ? IASO_E_NOMEM : IASO_E_LIMIT,
                           "SQLite: cannot bind parameter %d: %s", i + 1, sqlite3_errstr(code));
    }
    return 0;
}

/* Reads the current row; the pointers borrow from the statement until the next step. */
static int
row_read(sqlite3_stmt *stmt, struct store_val *cols, int n_cols, struct errbuf *eb)
{
    for (int j = 0; j < n_cols; j++) {
        struct store_val *v = &cols[j];
        *v = (struct store_val){.type = STORE_NULL};
        switch (sqlite3_column_type(stmt, j)) {
        case SQLITE_NULL:
            break;
        case SQLITE_INTEGER:
            v->type = STORE_INT;
            v->i = sqlite3_column_int64(stmt, j);
            break;
        case SQLITE_BLOB:
            v->type = STORE_BLOB;
            v->s = sqlite3_column_blob(stmt, j);
            v->len = (size_t)sqlite3_column_bytes(stmt, j);
            if (!v->s)
                v->s = ""; /* an empty blob */
            break;
        default: /* text; a real becomes text as PostgreSQL's numeric does */
            v->type = STORE_TEXT;
            v->s = (const char *)sqlite3_column_text(stmt, j);
            v->len = (size_t)sqlite3_column_bytes(stmt, j);
            if (!v->s)
                return err_set(eb, IASO_E_NOMEM, "SQLite: out of memory reading a row");
            break;
        }
    }
    return 0;
}

static int
sq_exec(struct store_conn *base, const char *sql, const struct store_val *params, size_t n_params,
        store_row_fn fn, void *ctx, int64_t *n_changed, struct errbuf *eb)
{
    struct sqlite_conn *c = sq(base);
    struct stmt_slot *slot = NULL;
    sqlite3_stmt *stmt = NULL;
    struct store_val cols_small[STORE_COLS_SMALL];
    struct store_val *cols = cols_small;
    bool has_writer = false;

    int rc = stmt_get(c, sql, &slot, &stmt, eb);
    if (rc < 0)
        goto out;
    rc = bind_all(stmt, params, n_params, eb);
    if (rc < 0)
        goto out;
    /* A write outside a transaction queues for the writer token like a transaction does.
     * BEGIN IMMEDIATE counts as a write, but sq_begin took the token already; a row callback's
     * statement runs under its caller's token. */
    if (!c->holds_writer && !c->holds_stmt_writer && sqlite3_get_autocommit(c->db) &&
        !sqlite3_stmt_readonly(stmt)) {
        rc = store_writer_acquire(base->st, eb);
        if (rc < 0)
            goto out;
        has_writer = true;
        c->holds_stmt_writer = true;
    }
    int64_t total_before = sqlite3_total_changes64(c->db);
    for (;;) {
        int code = sqlite3_step(stmt);
        if (code == SQLITE_DONE)
            break;
        if (code != SQLITE_ROW) {
            rc = sq_db_error(c, eb);
            goto out;
        }
        if (!fn)
            continue;
        /* Counted after the step: a schema change since the cached prepare re-prepares the
         * statement inside sqlite3_step, and `SELECT *` may then return more columns. */
        int n_cols = sqlite3_column_count(stmt);
        if (n_cols > STORE_COLS_SMALL && cols == cols_small) {
            cols = calloc((size_t)n_cols, sizeof(*cols));
            if (!cols) {
                cols = cols_small;
                rc = err_set(eb, IASO_E_NOMEM, "store: out of memory");
                goto out;
            }
        }
        rc = row_read(stmt, cols, n_cols, eb);
        if (rc < 0)
            goto out;
        struct store_row row = {.n_cols = (size_t)n_cols, .cols = cols};
        rc = fn(ctx, &row);
        if (rc != 0)
            goto out;
    }
    /* sqlite3_changes() keeps the count of the last INSERT, UPDATE or DELETE, so it only
     * answers for this statement when this statement changed something. */
    if (n_changed && sqlite3_total_changes64(c->db) != total_before)
        *n_changed = sqlite3_changes64(c->db);
out:
    stmt_put(slot, stmt);
    if (has_writer) {
        c->holds_stmt_writer = false;
        store_writer_release(base->st);
    }
    writer_settle(c);
    if (cols != cols_small)
        free(cols);
    return rc;
}

static int
sq_begin(struct store_conn *base, bool write, struct errbuf *eb)
{
    struct sqlite_conn *c = sq(base);
    if (write) {
        int rc = store_writer_acquire(base->st, eb);
        if (rc < 0)
            return rc;
        c->holds_writer = true;
    }
    /* IMMEDIATE takes the write lock now: a deferred transaction that reads and then writes
     * fails with SQLITE_BUSY when another commit came in between, whatever the timeout. */
    return sq_exec(base, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, 0, NULL, NULL, NULL, eb);
}

static void
sq_rollback(struct store_conn *base)
{
    struct sqlite_conn *c = sq(base);
    if (!sqlite3_get_autocommit(c->db))
        sq_exec(base, "ROLLBACK", NULL, 0, NULL, NULL, NULL, NULL);
    writer_settle(c);
}

static int
sq_commit(struct store_conn *base, struct errbuf *eb)
{
    int rc = sq_exec(base, "COMMIT", NULL, 0, NULL, NULL, NULL, eb);
    if (rc < 0)
        sq_rollback(base);
    return rc;
}

static bool
sq_in_txn(struct store_conn *base)
{
    return !sqlite3_get_autocommit(sq(base)->db);
}

static bool
sq_is_usable(struct store_conn *base)
{
    (void)base;
    return true;
}

static int
sq_exec_script(struct store_conn *base, const char *sql, struct errbuf *eb)
{
    struct sqlite_conn *c = sq(base);
    char *msg = NULL;
    int code = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    int rc = 0;
    if (code != SQLITE_OK)
        rc = sq_error(c, sqlite3_extended_errcode(c->db), msg ? msg : sqlite3_errstr(code), eb);
    sqlite3_free(msg);
    return rc;
}

static int
sq_migrations_lock(struct store_conn *base, struct errbuf *eb)
{
    /* BEGIN IMMEDIATE already keeps every other process's writer out. */
    (void)base;
    (void)eb;
    return 0;
}

static void
sq_conn_close(struct store_conn *base)
{
    struct sqlite_conn *c = sq(base);
    if (!c)
        return;
    for (size_t i = 0; i < STORE_STMT_CACHE_N; i++) {
        sqlite3_finalize(c->slots[i].stmt);
        free(c->slots[i].sql);
    }
    sqlite3_close_v2(c->db);
    free(c);
}

static int
journal_mode_row(void *ctx, int n_cols, char **vals, char **names)
{
    (void)names;
    int *is_wal = ctx;
    *is_wal = n_cols == 1 && vals[0] && strcmp(vals[0], "wal") == 0;
    return 0;
}

/* The sentence for a database that cannot be opened or set up. */
static int
open_error(struct store *st, sqlite3 *db, int code, struct errbuf *eb)
{
    int sys = db ? sqlite3_system_errno(db) : 0;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    switch (code & 0xff) {
    case SQLITE_NOTADB:
        return err_set(eb, IASO_E_FORMAT, "%s: not an SQLite database (%s)", st->name, msg);
    case SQLITE_CORRUPT:
        return err_set(eb, IASO_E_FORMAT, "%s: the SQLite database is corrupt (%s)", st->name, msg);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
        return err_set(eb, sys > 0 ? -sys : IASO_E_IO,
                       "%s: cannot open the database file (%s); check that its folder exists and "
                       "that this user may read and write both",
                       st->name, sys > 0 ? strerror(sys) : msg);
    case SQLITE_NOMEM:
        return err_set(eb, IASO_E_NOMEM, "%s: out of memory opening the database", st->name);
    default:
        return err_set(eb, IASO_E_IO, "%s: cannot open the database: %s", st->name, msg);
    }
}

static int
sq_conn_open(struct store *st, struct store_conn **out, struct errbuf *eb)
{
    struct sqlite_conn *c = calloc(1, sizeof(*c));
    int rc = 0;
    int is_wal = 0;
    if (!c)
        return err_set(eb, IASO_E_NOMEM, "store: out of memory");
    int code = sqlite3_open_v2(st->where, &c->db,
                               SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                   SQLITE_OPEN_EXRESCODE,
                               NULL);
    if (code != SQLITE_OK) {
        rc = open_error(st, c->db, code, eb);
        goto out;
    }
    sqlite3_busy_timeout(c->db, st->busy_timeout_ms);
    /* The first read of the file, so the place where "not a database" shows. */
    code = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", journal_mode_row, &is_wal, NULL);
    if (code == SQLITE_OK)
        /* A page cache of 16 MiB per connection (SQLite's default is 2 MiB) and reads through a
         * shared memory map, so hot incidents are not read from the disk again by each
         * connection: bench/centre measured page-cache misses as the cause of slow reads. */
        code = sqlite3_exec(c->db,
                            "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"
                            " PRAGMA cache_size=-16384; PRAGMA mmap_size=1073741824",
                            NULL, NULL, NULL);
    if (code != SQLITE_OK) {
        rc = open_error(st, c->db, sqlite3_extended_errcode(c->db), eb);
        goto out;
    }
    if (sqlite3_db_readonly(c->db, "main") == 1) {
        rc = err_set(eb, -EACCES,
                     "%s: the database file is read-only; the centre must be able to write it "
                     "(and its folder, for the -wal and -shm files)",
                     st->name);
        goto out;
    }
    if (!is_wal) {
        rc = err_set(eb, IASO_E_UNSUPPORTED,
                     "%s: cannot switch the database to WAL journal mode; use a file on a local "
                     "file system",
                     st->name);
        goto out;
    }
    *out = &c->base;
    c = NULL;
out:
    if (c) {
        sqlite3_close_v2(c->db);
        free(c);
    }
    return rc;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .title = "SQLite",
    .sql_migrations_create = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                             "applied_at INTEGER NOT NULL) STRICT",
    .sql_migrations_exist = "SELECT count(*) FROM sqlite_schema "
                            "WHERE type = 'table' AND name = 'schema_migrations'",
    .conn_open = sq_conn_open,
    .conn_close = sq_conn_close,
    .conn_is_usable = sq_is_usable,
    .conn_in_txn = sq_in_txn,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .migrations_lock = sq_migrations_lock,
};
