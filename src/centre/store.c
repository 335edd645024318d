// SPDX-License-Identifier: Apache-2.0
// The store's shared half (see store.h): choosing the backend, the connection pool, the
// transactions' bookkeeping, the SQLite writer token and the migrations runner. Everything that
// speaks to a database lives in store-sqlite.c and store-postgres.c behind `struct store_ops`.
#include "centre/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/parse.h"
#include "centre/embed.h"
#include "centre/store-int.h"

#define STORE_CONNS_DEFAULT 8
#define STORE_BUSY_TIMEOUT_DEFAULT_MS 5000

/* Migration numbers are four digits in the file names; this bounds them with room to spare. */
#define STORE_VERSION_MAX 999999

struct store_val
store_text(const char *s)
{
    return s ? store_textn(s, strlen(s)) : store_null();
}

uint64_t
store_hash(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

enum store_kind
store_kind(const struct store *st)
{
    return st->kind;
}

/* ---- the writer token ---- */

int
store_writer_acquire(struct store *st, struct errbuf *eb)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += st->busy_timeout_ms / 1000;
    deadline.tv_nsec += (long)(st->busy_timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    while (st->is_writer_busy && rc == 0)
        rc = pthread_cond_timedwait(&st->writer_cv, &st->mu, &deadline);
    if (!st->is_writer_busy) {
        st->is_writer_busy = true;
        rc = 0;
    }
    pthread_mutex_unlock(&st->mu);
    if (rc != 0)
        return err_set(eb, IASO_E_IO,
                       "%s: the database is busy: another writer in this process held it for "
                       "longer than %d ms",
                       st->ops->title, st->busy_timeout_ms);
    return 0;
}

void
store_writer_release(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    st->is_writer_busy = false;
    pthread_cond_signal(&st->writer_cv);
    pthread_mutex_unlock(&st->mu);
}

/* ---- the pool ---- */

int
store_conn_get(struct store *st, struct store_conn **out, struct errbuf *eb)
{
    *out = NULL;
    pthread_mutex_lock(&st->mu);
    while (!st->idle && st->n_conns_open >= st->n_conns_max)
        pthread_cond_wait(&st->conn_cv, &st->mu);
    struct store_conn *c = st->idle;
    if (c) {
        st->idle = c->next_idle;
        c->next_idle = NULL;
    } else {
        st->n_conns_open++; /* reserves the slot while the connection opens unlocked */
    }
    pthread_mutex_unlock(&st->mu);
    if (c) {
        *out = c;
        return 0;
    }

    int rc = st->ops->conn_open(st, &c, eb);
    if (rc < 0) {
        pthread_mutex_lock(&st->mu);
        st->n_conns_open--;
        pthread_cond_signal(&st->conn_cv);
        pthread_mutex_unlock(&st->mu);
        return rc;
    }
    c->st = st;
    c->next_idle = NULL;
    *out = c;
    return 0;
}

void
store_conn_put(struct store_conn *c)
{
    if (!c)
        return;
    struct store *st = c->st;
    if (st->ops->conn_in_txn(c))
        st->ops->rollback(c);
    bool is_usable = st->ops->conn_is_usable(c);
    if (!is_usable)
        st->ops->conn_close(c);
    pthread_mutex_lock(&st->mu);
    if (is_usable) {
        c->next_idle = st->idle;
        st->idle = c;
    } else {
        st->n_conns_open--;
    }
    pthread_cond_signal(&st->conn_cv);
    pthread_mutex_unlock(&st->mu);
}

/* ---- statements and transactions ---- */

int
store_begin(struct store_conn *c, bool write, struct errbuf *eb)
{
    if (c->st->ops->conn_in_txn(c))
        return err_set(eb, IASO_E_INVAL, "store: a transaction is already open on this connection");
    return c->st->ops->begin(c, write, eb);
}

int
store_commit(struct store_conn *c, struct errbuf *eb)
{
    if (!c->st->ops->conn_in_txn(c))
        return err_set(eb, IASO_E_INVAL, "store: commit without a transaction");
    return c->st->ops->commit(c, eb);
}

void
store_rollback(struct store_conn *c)
{
    if (c->st->ops->conn_in_txn(c))
        c->st->ops->rollback(c);
}

int
store_exec(struct store_conn *c, const char *sql, const struct store_val *params, size_t n_params,
           store_row_fn fn, void *ctx, int64_t *n_changed, struct errbuf *eb)
{
    if (n_changed)
        *n_changed = 0;
    if (!sql || (n_params && !params))
        return err_set(eb, IASO_E_INVAL, "store: no statement or no parameters given");
    for (size_t i = 0; i < n_params; i++) {
        const struct store_val *v = &params[i];
        bool has_bytes = v->type == STORE_TEXT || v->type == STORE_BLOB;
        if ((unsigned)v->type > STORE_BLOB || (has_bytes && !v->s && v->len))
            return err_set(eb, IASO_E_INVAL, "store: parameter %zu is malformed", i + 1);
    }
    return c->st->ops->exec(c, sql, params, n_params, fn, ctx, n_changed, eb);
}

struct query_int {
    size_t n_rows;
    struct store_val first;
};

static int
query_int_row(void *ctx, const struct store_row *row)
{
    struct query_int *q = ctx;
    if (q->n_rows++ == 0 && row->n_cols > 0) {
        q->first = row->cols[0];
        q->first.s = NULL; /* only the type and the integer outlive the callback */
    }
    return 0;
}

int
store_query_int(struct store_conn *c, const char *sql, const struct store_val *params,
                size_t n_params, int64_t *out, struct errbuf *eb)
{
    /* Reads every row rather than stopping at the first: a statement stopped early is not one
     * a caller of this function expects (an INSERT ... RETURNING must finish). */
    struct query_int q = {.first = {.type = STORE_NULL}};
    int rc = store_exec(c, sql, params, n_params, query_int_row, &q, NULL, eb);
    if (rc != 0)
        return rc;
    if (q.n_rows == 0 || q.first.type == STORE_NULL)
        return err_set(eb, IASO_E_NOTFOUND, "store: the query returned no value");
    if (q.first.type != STORE_INT)
        return err_set(eb, IASO_E_FORMAT,
                       "store: the query returned a value that is not an integer");
    *out = q.first.i;
    return 0;
}

/* ---- migrations ---- */

struct migration {
    int version;
    const char *name; /* borrows from the embedded path: "init.sql" */
    size_t name_len;  /* without ".sql" */
    const struct embed_file *file;
};

/* Reads "<backend>/NNNN-name.sql". Returns 1 for one of the backend's, 0 for another
 * backend's file, or IASO_E_FORMAT. */
static int
migration_parse(const struct store_ops *ops, const struct embed_file *f, struct migration *m,
                struct errbuf *eb)
{
    size_t prefix_len = strlen(ops->name);
    *m = (struct migration){.file = f};
    if (strncmp(f->path, ops->name, prefix_len) != 0 || f->path[prefix_len] != '/')
        return 0;
    const char *base = f->path + prefix_len + 1;
    const char *dash = strchr(base, '-');
    size_t len = strlen(base);
    int64_t v = 0;
    if (!dash || len < 4 || strcmp(base + len - 4, ".sql") != 0 ||
        parse_i64(base, (size_t)(dash - base), 1, STORE_VERSION_MAX, &v) < 0 || base[0] == '+' ||
        base[0] == '-')
        return err_set(eb, IASO_E_FORMAT,
                       "migration %s: the name must be NNNN-name.sql with NNNN from 1 to %d",
                       f->path, STORE_VERSION_MAX);
    m->version = (int)v;
    m->name = dash + 1;
    m->name_len = (size_t)(base + len - 4 - m->name);
    m->file = f;
    return 1;
}

/* Finds the highest version among the backend's files, checking every name and that numbers
 * rise strictly (the table is sorted by path). */
static int
migrations_highest(const struct store_ops *ops, const struct embed_file *files, size_t n_files,
                   int *highest, struct errbuf *eb)
{
    *highest = 0;
    for (size_t i = 0; i < n_files; i++) {
        struct migration m;
        int rc = migration_parse(ops, &files[i], &m, eb);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        if (m.version <= *highest)
            return err_set(eb, IASO_E_FORMAT,
                           "migration %s: number %d is used twice or out of order", m.file->path,
                           m.version);
        *highest = m.version;
    }
    return 0;
}

/* Reads the highest version applied, 0 for none or no table. Inside or outside a transaction. */
static int
version_read(struct store_conn *c, int *out, struct errbuf *eb)
{
    *out = 0;
    int64_t n = 0;
    int rc = store_query_int(c, c->st->ops->sql_migrations_exist, NULL, 0, &n, eb);
    if (rc < 0 || n == 0)
        return rc;
    int64_t v = 0;
    rc = store_query_int(c, "SELECT max(version) FROM schema_migrations", NULL, 0, &v, eb);
    if (rc == IASO_E_NOTFOUND)
        return 0; /* an empty table */
    if (rc < 0)
        return rc;
    if (v < 0 || v > STORE_VERSION_MAX)
        return err_set(eb, IASO_E_FORMAT,
                       "%s: schema_migrations holds a version out of range (%lld)", c->st->name,
                       (long long)v);
    *out = (int)v;
    return 0;
}

static int
version_refuse(struct store *st, int found, int highest, struct errbuf *eb)
{
    return err_set(
        eb, IASO_E_UNSUPPORTED,
        "%s: database schema version %d is newer than this iaso knows (%d); upgrade iaso", st->name,
        found, highest);
}

/* Applies one migration unless already applied, in one transaction with its row. */
static int
migration_apply(struct store_conn *c, const struct migration *m, struct errbuf *eb)
{
    const struct store_ops *ops = c->st->ops;
    struct store_val p[3] = {store_int(m->version), store_textn(m->name, m->name_len),
                             store_int((int64_t)time(NULL))};
    int64_t n = 0;
    int rc = store_begin(c, true, eb);
    if (rc < 0)
        goto out;
    rc = ops->migrations_lock(c, eb);
    if (rc < 0)
        goto out;
    /* Another process may have applied it while this one waited for the lock. */
    rc = store_query_int(c, "SELECT count(*) FROM schema_migrations WHERE version = ?", p, 1, &n,
                         eb);
    if (rc < 0 || n > 0)
        goto out;
    if (m->file->len > 0) {
        rc = ops->exec_script(c, (const char *)m->file->data, eb);
        if (rc < 0)
            goto out;
    }
    rc = store_exec(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    p, 3, NULL, NULL, NULL, eb);
    if (rc < 0)
        goto out;
    rc = store_commit(c, eb);
out:
    store_rollback(c); /* nothing left to roll back after a commit */
    return rc;
}

int
store_migrate(struct store_conn *c, const struct embed_file *files, size_t n_files,
              struct errbuf *eb)
{
    struct store *st = c->st;
    const struct store_ops *ops = st->ops;
    struct errbuf inner = {{0}};
    int highest = 0;
    int found = 0;
    int rc = migrations_highest(ops, files, n_files, &highest, eb);
    if (rc < 0)
        return rc;

    /* The table and the version check under the lock, so two processes starting at once do not
     * both create the table. */
    rc = store_begin(c, true, &inner);
    if (rc < 0)
        goto out;
    rc = ops->migrations_lock(c, &inner);
    if (rc < 0)
        goto out;
    rc = store_exec(c, ops->sql_migrations_create, NULL, 0, NULL, NULL, NULL, &inner);
    if (rc < 0)
        goto out;
    rc = version_read(c, &found, &inner);
    if (rc < 0)
        goto out;
    if (found > highest) {
        store_rollback(c);
        return version_refuse(st, found, highest, eb);
    }
    rc = store_commit(c, &inner);
    if (rc < 0)
        goto out;

    for (size_t i = 0; i < n_files; i++) {
        struct migration m;
        if (migration_parse(ops, &files[i], &m, eb) != 1)
            continue;
        rc = migration_apply(c, &m, &inner);
        if (rc < 0)
            return err_set(eb, rc, "%s: migration %s failed and was rolled back: %s", st->name,
                           m.file->path, inner.msg);
    }
    return 0;
out:
    store_rollback(c);
    return err_set(eb, rc, "%s: cannot check the schema version: %s", st->name, inner.msg);
}

int
store_schema_version(struct store *st, int *out, struct errbuf *eb)
{
    struct store_conn *c = NULL;
    *out = 0;
    int rc = store_conn_get(st, &c, eb);
    if (rc < 0)
        return rc;
    rc = version_read(c, out, eb);
    store_conn_put(c);
    return rc;
}

/* ---- open and free ---- */

/* The name used in messages: the path, or the URI reduced to user@host:port/database so a
 * password (in the user part or the query) never reaches a log. */
static char *
store_name_make(const char *where, bool is_postgres)
{
    if (!is_postgres)
        return strdup(where);
    const char *auth = where + (strncmp(where, "postgresql://", 13) == 0 ? 13 : 11);
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = memrchr(auth, '@', auth_len); /* a password may hold an @ */
    const char *host = at ? at + 1 : auth;
    size_t host_len = auth_len - (size_t)(host - auth);
    size_t user_len = at ? strcspn(auth, ":@") : 0;
    const char *db = auth + auth_len;
    size_t db_len = *db == '/' ? strcspn(db, "?#") : 0;

    char *name = malloc(16 + user_len + host_len + db_len);
    if (!name)
        return NULL;
    size_t n = 0;
    memcpy(name + n, "postgresql://", 13);
    n += 13;
    memcpy(name + n, auth, user_len);
    n += user_len;
    if (user_len)
        name[n++] = '@';
    memcpy(name + n, host, host_len);
    n += host_len;
    memcpy(name + n, db, db_len);
    n += db_len;
    name[n] = 0;
    return name;
}

/* Allocates the store with its pool empty. */
static int
store_new(const char *where, const struct store_options *opt, struct store **out, struct errbuf *eb)
{
    bool is_postgres =
        strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
    struct store *st = calloc(1, sizeof(*st));
    int rc = IASO_E_NOMEM;
    if (!st)
        goto out;
    st->kind = is_postgres ? STORE_POSTGRES : STORE_SQLITE;
    st->ops = is_postgres ? &store_postgres_ops : &store_sqlite_ops;
    st->n_conns_max = opt->n_conns_max ? opt->n_conns_max : STORE_CONNS_DEFAULT;
    st->busy_timeout_ms =
        opt->busy_timeout_ms ? opt->busy_timeout_ms : STORE_BUSY_TIMEOUT_DEFAULT_MS;
    st->where = strdup(where);
    st->name = store_name_make(where, is_postgres);
    if (!st->where || !st->name)
        goto out;
    /* With default attributes and a monotonic clock these cannot fail on Linux. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->conn_cv, NULL);
    pthread_cond_init(&st->writer_cv, &attr);
    pthread_condattr_destroy(&attr);
    *out = st;
    st = NULL;
    rc = 0;
out:
    if (st) {
        free(st->name);
        free(st->where);
        free(st);
    }
    if (rc < 0)
        err_set(eb, rc, "store: out of memory");
    return rc;
}

int
store_open(const char *where, const struct store_options *opt, struct store **out,
           struct errbuf *eb)
{
    static const struct store_options defaults = {.migrate = false};
    struct store *st = NULL;
    struct store_conn *c = NULL;

    *out = NULL;
    if (!opt)
        opt = &defaults;
    if (!where || !*where)
        return err_set(eb, IASO_E_INVAL, "store: no database path or URI given");
    if (opt->busy_timeout_ms < 0)
        return err_set(eb, IASO_E_INVAL, "store: the busy timeout must not be negative");
    int rc = store_new(where, opt, &st, eb);
    if (rc < 0)
        return rc;

    /* The first connection tells whether the path or server is usable at all. */
    rc = store_conn_get(st, &c, eb);
    if (rc < 0)
        goto out;
    if (opt->migrate) {
        rc = store_migrate(c, embed_migrations, embed_migrations_n, eb);
    } else {
        int highest = 0;
        int found = 0;
        rc = migrations_highest(st->ops, embed_migrations, embed_migrations_n, &highest, eb);
        if (rc == 0)
            rc = version_read(c, &found, eb);
        if (rc == 0 && found > highest)
            rc = version_refuse(st, found, highest, eb);
    }
    store_conn_put(c);
    if (rc < 0)
        goto out;
    *out = st;
    st = NULL;
out:
    store_free(st);
    return rc;
}

void
store_free(struct store *st)
{
    if (!st)
        return;
    while (st->idle) {
        struct store_conn *c = st->idle;
        st->idle = c->next_idle;
        st->ops->conn_close(c);
    }
    pthread_cond_destroy(&st->writer_cv);
    pthread_cond_destroy(&st->conn_cv);
    pthread_mutex_destroy(&st->mu);
    free(st->name);
    free(st->where);
    free(st);
}
