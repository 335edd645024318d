// SPDX-License-Identifier: Apache-2.0
// The store against SQLite (a file in a fresh temporary folder) and, when IASO_TEST_PG_URL names
// a PostgreSQL database (tests/pgserver starts a throwaway one), against PostgreSQL too: every
// test runs once per backend. The PostgreSQL schema `public` is dropped and made again before
// each test. The tables here are the tests' own (t_*), since the centre's schema changes apart.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "base/error.h"
#include "base/parse.h"
#include "centre/embed.h"
#include "centre/store-int.h"
#include "centre/store.h"

struct backend {
    enum store_kind kind;
    const char *url; /* PostgreSQL */
    char dir[256];   /* SQLite: the temporary folder */
    char where[300]; /* what store_open gets */
};

static struct backend bk_sqlite = {.kind = STORE_SQLITE};
static struct backend bk_postgres = {.kind = STORE_POSTGRES};

static const char *
bk_name(const struct backend *bk)
{
    return bk->kind == STORE_SQLITE ? "sqlite" : "postgres";
}

/* Drops everything in the test database, schema_migrations included. */
static void
pg_reset(const char *url)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        print_error("cannot connect to IASO_TEST_PG_URL: %s", PQerrorMessage(pg));
        PQfinish(pg);
        fail();
    }
    PQclear(PQexec(pg, "SET client_min_messages TO warning"));
    PGresult *res = PQexec(pg, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        print_error("cannot reset the schema: %s", PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
    assert_true(ok);
}

static int
setup(void **state)
{
    struct backend *bk = *state;
    if (bk->kind == STORE_POSTGRES) {
        pg_reset(bk->url);
        snprintf(bk->where, sizeof(bk->where), "%s", bk->url);
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(bk->dir, sizeof(bk->dir), "%s/iaso-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(bk->dir))
        return -1;
    snprintf(bk->where, sizeof(bk->where), "%s/centre.db", bk->dir);
    return 0;
}

static int
teardown(void **state)
{
    struct backend *bk = *state;
    if (bk->kind == STORE_POSTGRES)
        return 0;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[320];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", bk->where, suffixes[i]);
        unlink(path);
    }
    return rmdir(bk->dir);
}

static struct store *
open_opt(const struct backend *bk, const struct store_options *opt)
{
    struct errbuf eb = {{0}};
    struct store *st = NULL;
    int rc = store_open(bk->where, opt, &st, &eb);
    if (rc != 0)
        print_error("store_open %s: %s (%s)\n", bk->where, eb.msg, iaso_errname(rc));
    assert_int_equal(rc, 0);
    assert_int_equal(store_kind(st), bk->kind);
    return st;
}

static struct store *
open_ok(const struct backend *bk)
{
    struct store_options opt = {.migrate = true};
    return open_opt(bk, &opt);
}

static struct store_conn *
conn_get(struct store *st)
{
    struct errbuf eb = {{0}};
    struct store_conn *c = NULL;
    int rc = store_conn_get(st, &c, &eb);
    if (rc != 0)
        print_error("store_conn_get: %s\n", eb.msg);
    assert_int_equal(rc, 0);
    return c;
}

/* Runs a statement that must succeed. */
static void
exec_ok(struct store_conn *c, const char *sql, const struct store_val *p, size_t n)
{
    struct errbuf eb = {{0}};
    int rc = store_exec(c, sql, p, n, NULL, NULL, NULL, &eb);
    if (rc != 0)
        print_error("%s: %s\n", sql, eb.msg);
    assert_int_equal(rc, 0);
}

static int64_t
query_int(struct store_conn *c, const char *sql, const struct store_val *p, size_t n)
{
    struct errbuf eb = {{0}};
    int64_t v = -1;
    int rc = store_query_int(c, sql, p, n, &v, &eb);
    if (rc != 0)
        print_error("%s: %s\n", sql, eb.msg);
    assert_int_equal(rc, 0);
    return v;
}

/* The tests' tables, in each backend's spelling of the portable types. */
static void
tables_make(struct store_conn *c, enum store_kind kind)
{
    if (kind == STORE_SQLITE) {
        exec_ok(c,
                "CREATE TABLE IF NOT EXISTS t_item (id INTEGER PRIMARY KEY, n INTEGER, "
                "name TEXT UNIQUE, data BLOB, note TEXT) STRICT",
                NULL, 0);
        exec_ok(c, "CREATE TABLE IF NOT EXISTS t_parent (id INTEGER PRIMARY KEY) STRICT", NULL, 0);
        exec_ok(c,
                "CREATE TABLE IF NOT EXISTS t_child (id INTEGER PRIMARY KEY, "
                "parent_id INTEGER NOT NULL REFERENCES t_parent (id), "
                "qty INTEGER CHECK (qty >= 0)) STRICT",
                NULL, 0);
    } else {
        exec_ok(c,
                "CREATE TABLE IF NOT EXISTS t_item (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
                "PRIMARY KEY, n BIGINT, name TEXT UNIQUE, data BYTEA, note TEXT)",
                NULL, 0);
        exec_ok(c, "CREATE TABLE IF NOT EXISTS t_parent (id BIGINT PRIMARY KEY)", NULL, 0);
        exec_ok(c,
                "CREATE TABLE IF NOT EXISTS t_child (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
                "PRIMARY KEY, parent_id BIGINT NOT NULL REFERENCES t_parent (id), "
                "qty BIGINT CHECK (qty >= 0))",
                NULL, 0);
    }
}

/* The highest embedded migration of a backend and how many it has. */
static int
embedded_highest(const char *backend, size_t *n)
{
    size_t prefix_len = strlen(backend);
    int highest = 0;
    *n = 0;
    for (size_t i = 0; i < embed_migrations_n; i++) {
        const char *p = embed_migrations[i].path;
        if (strncmp(p, backend, prefix_len) != 0 || p[prefix_len] != '/')
            continue;
        int64_t v = 0;
        assert_int_equal(parse_i64(p + prefix_len + 1, 4, 1, 9999, &v), 0);
        highest = (int)v;
        (*n)++;
    }
    return highest;
}

/* ---- migrations ---- */

static void
test_open_twice(void **state)
{
    struct backend *bk = *state;
    size_t n_files = 0;
    int highest = embedded_highest(bk_name(bk), &n_files);
    struct errbuf eb = {{0}};
    int version = -1;

    for (int round = 0; round < 2; round++) {
        struct store *st = open_ok(bk);
        assert_int_equal(store_schema_version(st, &version, &eb), 0);
        assert_int_equal(version, highest);
        struct store_conn *c = conn_get(st);
        assert_int_equal(query_int(c, "SELECT count(*) FROM schema_migrations", NULL, 0),
                         (int64_t)n_files);
        if (round == 1) {
            /* A newer iaso migrated this database. */
            struct store_val p[] = {store_int(highest + 1), store_text("future"),
                                    store_int(time(NULL))};
            exec_ok(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    p, 3);
        }
        store_conn_put(c);
        store_free(st);
    }

    for (int migrate = 0; migrate < 2; migrate++) {
        struct store_options opt = {.migrate = migrate};
        struct store *st = NULL;
        char want[96];
        memset(&eb, 0, sizeof(eb));
        assert_int_equal(store_open(bk->where, &opt, &st, &eb), IASO_E_UNSUPPORTED);
        assert_null(st);
        snprintf(want, sizeof(want),
                 "database schema version %d is newer than this iaso knows (%d)", highest + 1,
                 highest);
        assert_non_null(strstr(eb.msg, want));
        assert_non_null(strstr(eb.msg, "upgrade iaso"));
    }
}

struct opener {
    const struct backend *bk;
    int rc;
    char msg[256];
};

static void *
opener_run(void *arg)
{
    struct opener *o = arg;
    struct store_options opt = {.migrate = true};
    struct store *st = NULL;
    struct errbuf eb = {{0}};
    o->rc = store_open(o->bk->where, &opt, &st, &eb);
    memcpy(o->msg, eb.msg, sizeof(o->msg));
    store_free(st);
    return NULL;
}

/* Centres starting at once on a new database (separate stores, as separate processes would
 * be): one migrates, the others wait for it and find nothing left to do. */
static void
test_open_concurrently(void **state)
{
    struct backend *bk = *state;
    size_t n_files = 0;
    embedded_highest(bk_name(bk), &n_files);
    struct opener o[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){.bk = bk};
        assert_int_equal(pthread_create(&th[i], NULL, opener_run, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (o[i].rc != 0)
            print_error("opener %d: %s\n", i, o[i].msg);
        assert_int_equal(o[i].rc, 0);
    }
    struct store *st = open_ok(bk);
    struct store_conn *c = conn_get(st);
    assert_int_equal(query_int(c, "SELECT count(*) FROM schema_migrations", NULL, 0),
                     (int64_t)n_files);
    store_conn_put(c);
    store_free(st);
}

static void
test_migrate_runner(void **state)
{
    struct backend *bk = *state;
    struct store *st = open_ok(bk);
    struct store_conn *c = conn_get(st);
    struct errbuf eb = {{0}};
    char p1[64], p2[64], p3[64];
    snprintf(p1, sizeof(p1), "%s/9001-make.sql", bk_name(bk));
    snprintf(p2, sizeof(p2), "%s/9002-empty.sql", bk_name(bk));
    snprintf(p3, sizeof(p3), "%s/9003-broken.sql", bk_name(bk));
    static const char make[] = "CREATE TABLE t_mig (x INTEGER);\n"
                               "INSERT INTO t_mig (x) VALUES (1);\n"
                               "INSERT INTO t_mig (x) VALUES (2);\n";
    /* The first statement works, the second fails: neither may stay. */
    static const char broken[] = "CREATE TABLE t_bad (x INTEGER);\n"
                                 "INSERT INTO t_missing (x) VALUES (1);\n";
    struct embed_file files[] = {
        {p1, (const unsigned char *)make, sizeof(make) - 1},
        {p2, (const unsigned char *)"", 0},
        {"other/9500-ignored.sql", (const unsigned char *)"not sql at all", 14},
        {p3, (const unsigned char *)broken, sizeof(broken) - 1},
    };

    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_migrate(c, files, 3, &eb), 0);
        assert_int_equal(query_int(c, "SELECT count(*) FROM t_mig", NULL, 0), 2);
        assert_int_equal(
            query_int(c, "SELECT count(*) FROM schema_migrations WHERE version > 9000", NULL, 0),
            2);
        assert_int_equal(
            query_int(c, "SELECT count(*) FROM schema_migrations WHERE name = 'empty'", NULL, 0),
            1);
    }

    assert_true(store_migrate(c, files, 4, &eb) < 0);
    assert_non_null(strstr(eb.msg, p3));
    assert_non_null(strstr(eb.msg, "rolled back"));
    int64_t v = 0;
    assert_true(store_query_int(c, "SELECT count(*) FROM t_bad", NULL, 0, &v, &eb) < 0);
    store_rollback(c); /* PostgreSQL: nothing open, this must be harmless */
    assert_int_equal(query_int(c, "SELECT max(version) FROM schema_migrations", NULL, 0), 9002);

    /* Names without a number, and a number used twice. */
    struct embed_file bad_name[] = {{p1, (const unsigned char *)"", 0}, {p2, NULL, 0}};
    char dup[64];
    snprintf(dup, sizeof(dup), "%s/x-nonumber.sql", bk_name(bk));
    bad_name[1].path = dup;
    assert_int_equal(store_migrate(c, bad_name, 2, &eb), IASO_E_FORMAT);
    snprintf(dup, sizeof(dup), "%s/9001-again.sql", bk_name(bk));
    assert_int_equal(store_migrate(c, bad_name, 2, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "used twice"));

    /* Only 9001 known now, and the database has 9002. */
    assert_int_equal(store_migrate(c, files, 1, &eb), IASO_E_UNSUPPORTED);
    assert_non_null(strstr(eb.msg, "database schema version 9002 is newer"));

    store_conn_put(c);
    store_free(st);
}

/* ---- statements ---- */

struct item {
    int n_rows;
    struct store_val v[5];
    char text[2][128];
    unsigned char blob[64];
};

static int
item_row(void *ctx, const struct store_row *row)
{
    struct item *it = ctx;
    assert_int_equal(row->n_cols, 5);
    it->n_rows++;
    for (size_t i = 0; i < 5; i++) {
        it->v[i] = row->cols[i];
        if (row->cols[i].type == STORE_TEXT) {
            assert_true(row->cols[i].len < sizeof(it->text[0]));
            /* NUL-terminated as well as counted */
            assert_int_equal(row->cols[i].s[row->cols[i].len], 0);
            memcpy(it->text[i == 2 ? 0 : 1], row->cols[i].s, row->cols[i].len + 1);
        }
        if (row->cols[i].type == STORE_BLOB) {
            assert_true(row->cols[i].len <= sizeof(it->blob));
            memcpy(it->blob, row->cols[i].s, row->cols[i].len);
        }
        it->v[i].s = NULL;
    }
    return 0;
}

static void
item_read(struct store_conn *c, int64_t id, struct item *it)
{
    struct errbuf eb = {{0}};
    struct store_val p[] = {store_int(id)};
    memset(it, 0, sizeof(*it));
    int64_t n_changed = -1;
    assert_int_equal(store_exec(c, "SELECT id, n, name, data, note FROM t_item WHERE id = ?", p, 1,
                                item_row, it, &n_changed, &eb),
                     0);
    assert_int_equal(n_changed, 0); /* a SELECT changes nothing */
}

static void
test_crud(void **state)
{
    struct backend *bk = *state;
    struct store *st = open_ok(bk);
    struct store_conn *c = conn_get(st);
    struct errbuf eb = {{0}};
    int64_t n_changed = -1;
    tables_make(c, bk->kind);

    static const char name[] = "Zoë's 病院 '; DROP TABLE t_item; -- ? \"x\" \\ %s";
    static const unsigned char blob[] = {0, 1, 2, 0xff, 0, '\'', '\\', 0x80};
    struct store_val p[] = {store_int(INT64_MIN), store_text(name), store_blob(blob, sizeof(blob)),
                            store_null()};
    int64_t id = query_int(
        c, "INSERT INTO t_item (n, name, data, note) VALUES (?, ?, ?, ?) RETURNING id", p, 4);
    assert_true(id > 0);

    struct item it;
    item_read(c, id, &it);
    assert_int_equal(it.n_rows, 1);
    assert_int_equal(it.v[0].type, STORE_INT);
    assert_int_equal(it.v[0].i, id);
    assert_int_equal(it.v[1].type, STORE_INT);
    assert_true(it.v[1].i == INT64_MIN);
    assert_int_equal(it.v[2].type, STORE_TEXT);
    assert_int_equal(it.v[2].len, strlen(name));
    assert_string_equal(it.text[0], name);
    assert_int_equal(it.v[3].type, STORE_BLOB);
    assert_int_equal(it.v[3].len, sizeof(blob));
    assert_memory_equal(it.blob, blob, sizeof(blob));
    assert_int_equal(it.v[4].type, STORE_NULL);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item", NULL, 0), 1);

    /* Counted text with no NUL after it, the empty text and the empty blob (not NULL). */
    static const char longer[] = "counted-text-and-more";
    struct store_val u[] = {store_int(INT64_MAX), store_textn(longer, 7), store_blob(NULL, 0),
                            store_textn("", 0), store_int(id)};
    assert_int_equal(store_exec(c,
                                "UPDATE t_item SET n = ?, name = ?, data = ?, note = ? "
                                "WHERE id = ?",
                                u, 5, NULL, NULL, &n_changed, &eb),
                     0);
    assert_int_equal(n_changed, 1);
    item_read(c, id, &it);
    assert_true(it.v[1].i == INT64_MAX);
    assert_string_equal(it.text[0], "counted");
    assert_int_equal(it.v[3].type, STORE_BLOB);
    assert_int_equal(it.v[3].len, 0);
    assert_int_equal(it.v[4].type, STORE_TEXT);
    assert_int_equal(it.v[4].len, 0);

    /* A question mark in a literal, a quoted name or a comment is not a placeholder. */
    struct store_val q[] = {store_int(41), store_text("x?y")};
    assert_int_equal(query_int(c,
                               "SELECT count(*) + ? /* ? */ FROM t_item -- ?\n"
                               "WHERE note <> 'it''s ?' AND \"name\" <> ?",
                               q, 2),
                     42);
    assert_int_equal(store_exec(c, "SELECT ?", q, 2, NULL, NULL, NULL, &eb), IASO_E_INVAL);
    assert_non_null(strstr(eb.msg, "1 placeholders but 2 values"));

    struct store_val d[] = {store_int(id)};
    assert_int_equal(
        store_exec(c, "DELETE FROM t_item WHERE id = ?", d, 1, NULL, NULL, &n_changed, &eb), 0);
    assert_int_equal(n_changed, 1);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item", NULL, 0), 0);
    assert_int_equal(store_query_int(c, "SELECT id FROM t_item WHERE id = ?", d, 1, &id, &eb),
                     IASO_E_NOTFOUND);

    store_conn_put(c);
    store_free(st);
}

static void
test_constraints(void **state)
{
    struct backend *bk = *state;
    struct store *st = open_ok(bk);
    struct store_conn *c = conn_get(st);
    struct errbuf eb = {{0}};
    tables_make(c, bk->kind);

    struct store_val name[] = {store_text("same")};
    exec_ok(c, "INSERT INTO t_item (name) VALUES (?)", name, 1);
    assert_int_equal(
        store_exec(c, "INSERT INTO t_item (name) VALUES (?)", name, 1, NULL, NULL, NULL, &eb),
        IASO_E_EXIST);
    assert_true(strlen(eb.msg) > 10);

    struct store_val one[] = {store_int(1)};
    exec_ok(c, "INSERT INTO t_parent (id) VALUES (?)", one, 1);
    assert_int_equal(
        store_exec(c, "INSERT INTO t_parent (id) VALUES (?)", one, 1, NULL, NULL, NULL, &eb),
        IASO_E_EXIST);
    struct store_val orphan[] = {store_int(99), store_int(1)};
    assert_int_equal(store_exec(c, "INSERT INTO t_child (parent_id, qty) VALUES (?, ?)", orphan, 2,
                                NULL, NULL, NULL, &eb),
                     IASO_E_INVAL);
    struct store_val negative[] = {store_int(1), store_int(-1)};
    assert_int_equal(store_exec(c, "INSERT INTO t_child (parent_id, qty) VALUES (?, ?)", negative,
                                2, NULL, NULL, NULL, &eb),
                     IASO_E_INVAL);
    struct store_val no_parent[] = {store_null(), store_int(1)};
    assert_int_equal(store_exec(c, "INSERT INTO t_child (parent_id, qty) VALUES (?, ?)", no_parent,
                                2, NULL, NULL, NULL, &eb),
                     IASO_E_INVAL);
    struct store_val good[] = {store_int(1), store_int(3)};
    exec_ok(c, "INSERT INTO t_child (parent_id, qty) VALUES (?, ?)", good, 2);

    /* Anything else is IASO_E_IO with the database's words. */
    assert_int_equal(store_exec(c, "SELECT * FROM t_nowhere", NULL, 0, NULL, NULL, NULL, &eb),
                     IASO_E_IO);
    assert_non_null(strstr(eb.msg, "t_nowhere"));
    assert_true(store_exec(c, "SELECT 1; SELECT 2", NULL, 0, NULL, NULL, NULL, &eb) < 0);

    store_conn_put(c);
    store_free(st);
}

static void
test_transactions(void **state)
{
    struct backend *bk = *state;
    struct store_options opt = {.migrate = true, .n_conns_max = 1};
    struct store *st = open_opt(bk, &opt);
    struct store_conn *c = conn_get(st);
    struct errbuf eb = {{0}};
    tables_make(c, bk->kind);

    /* Rolled back: nothing stays. */
    assert_int_equal(store_begin(c, true, &eb), 0);
    for (int i = 0; i < 3; i++) {
        struct store_val p[] = {store_int(i)};
        exec_ok(c, "INSERT INTO t_item (n) VALUES (?)", p, 1);
    }
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item", NULL, 0), 3);
    assert_int_equal(store_begin(c, true, &eb), IASO_E_INVAL); /* no nesting */
    store_rollback(c);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item", NULL, 0), 0);

    /* Committed: it stays, and another connection sees it. */
    assert_int_equal(store_begin(c, true, &eb), 0);
    exec_ok(c, "INSERT INTO t_item (n) VALUES (10)", NULL, 0);
    assert_int_equal(store_commit(c, &eb), 0);
    assert_int_equal(store_commit(c, &eb), IASO_E_INVAL);

    /* Put back inside a transaction: rolled back, and the next user starts clean. */
    assert_int_equal(store_begin(c, false, &eb), 0);
    exec_ok(c, "INSERT INTO t_item (n) VALUES (11)", NULL, 0);
    store_conn_put(c);
    c = conn_get(st); /* the pool holds one: the same connection */
    assert_int_equal(store_begin(c, true, &eb), 0);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item", NULL, 0), 1);
    store_rollback(c);

    /* A failed statement inside a transaction, then rollback. */
    assert_int_equal(store_begin(c, true, &eb), 0);
    exec_ok(c, "INSERT INTO t_item (n, name) VALUES (12, 'a')", NULL, 0);
    assert_int_equal(store_exec(c, "INSERT INTO t_item (n, name) VALUES (13, 'a')", NULL, 0, NULL,
                                NULL, NULL, &eb),
                     IASO_E_EXIST);
    if (bk->kind == STORE_POSTGRES) {
        /* PostgreSQL has ended the transaction: commit says so and leaves nothing. */
        assert_int_equal(store_commit(c, &eb), IASO_E_IO);
        assert_non_null(strstr(eb.msg, "rolled back"));
        assert_int_equal(store_begin(c, true, &eb), 0);
    }
    store_rollback(c);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item", NULL, 0), 1);

    store_conn_put(c);
    store_free(st);
}

/* ---- threads ---- */

#define N_THREADS 4
#define N_WRITES 200

struct writer {
    struct store *st;
    int id;
    int n_failed;
    char msg[256];
};

static void *
writer_run(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < N_WRITES; i++) {
        struct errbuf eb = {{0}};
        struct store_conn *c = NULL;
        struct store_val p[] = {store_int(w->id), store_int(i)};
        int rc = store_conn_get(w->st, &c, &eb);
        if (rc == 0)
            rc = store_begin(c, true, &eb);
        if (rc == 0)
            rc = store_exec(c, "INSERT INTO t_child (parent_id, qty) VALUES (?, ?)", p, 2, NULL,
                            NULL, NULL, &eb);
        if (rc == 0)
            rc = store_commit(c, &eb);
        store_conn_put(c);
        if (rc != 0) {
            w->n_failed++;
            memcpy(w->msg, eb.msg, sizeof(w->msg));
        }
    }
    return NULL;
}

static void
test_concurrent_writes(void **state)
{
    struct backend *bk = *state;
    struct store *st = open_ok(bk);
    struct store_conn *c = conn_get(st);
    tables_make(c, bk->kind);
    for (int t = 0; t < N_THREADS; t++) {
        struct store_val p[] = {store_int(t)};
        exec_ok(c, "INSERT INTO t_parent (id) VALUES (?)", p, 1);
    }
    store_conn_put(c);

    struct writer w[N_THREADS];
    pthread_t th[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        w[t] = (struct writer){.st = st, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL, writer_run, &w[t]), 0);
    }
    for (int t = 0; t < N_THREADS; t++) {
        pthread_join(th[t], NULL);
        if (w[t].n_failed)
            print_error("writer %d: %d failed, last: %s\n", t, w[t].n_failed, w[t].msg);
        assert_int_equal(w[t].n_failed, 0);
    }

    c = conn_get(st);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_child", NULL, 0), N_THREADS * N_WRITES);
    for (int t = 0; t < N_THREADS; t++) {
        struct store_val p[] = {store_int(t)};
        assert_int_equal(
            query_int(c, "SELECT count(DISTINCT qty) FROM t_child WHERE parent_id = ?", p, 1),
            N_WRITES);
    }
    store_conn_put(c);
    store_free(st);
}

struct waiter {
    struct store *st;
    struct store_conn *c;
    volatile int has_conn;
};

static void *
waiter_run(void *arg)
{
    struct waiter *w = arg;
    struct errbuf eb = {{0}};
    if (store_conn_get(w->st, &w->c, &eb) == 0)
        __atomic_store_n(&w->has_conn, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void
test_pool_waits(void **state)
{
    struct backend *bk = *state;
    struct store_options opt = {.migrate = true, .n_conns_max = 2};
    struct store *st = open_opt(bk, &opt);
    struct store_conn *a = conn_get(st);
    struct store_conn *b = conn_get(st);
    assert_ptr_not_equal(a, b);

    struct waiter w = {.st = st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, waiter_run, &w), 0);
    struct timespec pause = {.tv_nsec = 50 * 1000000L};
    nanosleep(&pause, NULL);
    assert_int_equal(__atomic_load_n(&w.has_conn, __ATOMIC_SEQ_CST), 0); /* still waiting */
    store_conn_put(a);
    pthread_join(th, NULL);
    assert_int_equal(w.has_conn, 1);
    assert_ptr_equal(w.c, a);
    store_conn_put(w.c);
    store_conn_put(b);
    store_conn_put(NULL);
    store_free(st);
}

/* ---- callbacks ---- */

struct stopper {
    int n_calls;
    int stop_at;
    int stop_with;
    struct store_conn *nested; /* runs the same statement again from inside */
};

static int
stopper_row(void *ctx, const struct store_row *row)
{
    struct stopper *s = ctx;
    assert_int_equal(row->n_cols, 1);
    assert_int_equal(row->cols[0].type, STORE_INT);
    s->n_calls++;
    if (s->nested) {
        struct errbuf eb = {{0}};
        struct store_val p[] = {store_int(row->cols[0].i)};
        int64_t v = 0;
        assert_int_equal(
            store_query_int(s->nested, "SELECT n FROM t_item WHERE n = ?", p, 1, &v, &eb), 0);
        assert_true(v == row->cols[0].i);
    }
    return s->n_calls == s->stop_at ? s->stop_with : 0;
}

struct writeback {
    struct store_conn *c;
    int n_calls;
};

static int
writeback_row(void *ctx, const struct store_row *row)
{
    struct writeback *wb = ctx;
    struct store_val p[] = {store_int(row->cols[0].i)};
    wb->n_calls++;
    exec_ok(wb->c, "UPDATE t_item SET n = 101 WHERE id = ?", p, 1);
    return 0;
}

static void
test_callback_stop(void **state)
{
    struct backend *bk = *state;
    struct store *st = open_ok(bk);
    struct store_conn *c = conn_get(st);
    struct errbuf eb = {{0}};
    tables_make(c, bk->kind);
    for (int i = 1; i <= 5; i++) {
        struct store_val p[] = {store_int(i)};
        exec_ok(c, "INSERT INTO t_item (n) VALUES (?)", p, 1);
    }
    static const char *const sql = "SELECT n FROM t_item ORDER BY n";

    struct stopper s = {.stop_at = 2, .stop_with = 7};
    assert_int_equal(store_exec(c, sql, NULL, 0, stopper_row, &s, NULL, &eb), 7);
    assert_int_equal(s.n_calls, 2);
    s = (struct stopper){.stop_at = 3, .stop_with = IASO_E_LIMIT};
    assert_int_equal(store_exec(c, sql, NULL, 0, stopper_row, &s, NULL, &eb), IASO_E_LIMIT);
    assert_int_equal(s.n_calls, 3);

    /* A callback that queries the same connection with the same statement. */
    s = (struct stopper){.nested = c};
    assert_int_equal(store_exec(c, "SELECT n FROM t_item WHERE n = ?",
                                (struct store_val[]){store_int(4)}, 1, stopper_row, &s, NULL, &eb),
                     0);
    assert_int_equal(s.n_calls, 1);

    /* A callback that writes on the connection of a write that is still returning rows. */
    struct writeback wb = {.c = c};
    assert_int_equal(store_exec(c, "INSERT INTO t_item (n) VALUES (100) RETURNING id", NULL, 0,
                                writeback_row, &wb, NULL, &eb),
                     0);
    assert_int_equal(wb.n_calls, 1);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item WHERE n = 101", NULL, 0), 1);
    exec_ok(c, "DELETE FROM t_item WHERE n = 101", NULL, 0);

    /* After a stop the connection is clean: another connection can write at once. */
    struct store_conn *other = conn_get(st);
    struct errbuf eb2 = {{0}};
    assert_int_equal(store_begin(other, true, &eb2), 0);
    exec_ok(other, "INSERT INTO t_item (n) VALUES (6)", NULL, 0);
    assert_int_equal(store_commit(other, &eb2), 0);
    store_conn_put(other);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item", NULL, 0), 6);

    store_conn_put(c);
    store_free(st);
}

struct store_row_count {
    size_t n_cols;
};

static int
count_cols(void *ctx, const struct store_row *row)
{
    struct store_row_count *rc = ctx;
    rc->n_cols = row->n_cols;
    return 0;
}

/* More distinct statements than a connection caches: the least used are dropped, and all
 * still run. Several types per parameter give several server statements per text. */
static void
test_statement_cache(void **state)
{
    struct backend *bk = *state;
    struct store *st = open_ok(bk);
    struct store_conn *c = conn_get(st);
    char sql[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3 * STORE_STMT_CACHE_N; i++) {
            snprintf(sql, sizeof(sql), "SELECT %d + ?", i);
            struct store_val p[] = {store_int(round)};
            assert_int_equal(query_int(c, sql, p, 1), i + round);
        }
    }
    /* One text, several parameter types: PostgreSQL prepares one statement per combination. */
    static const char *const probe = "SELECT 1 WHERE CAST(? AS TEXT) IS NOT NULL";
    struct store_val t[] = {store_text("x")};
    struct store_val n[] = {store_null()};
    struct errbuf eb = {{0}};
    int64_t v = 0;
    assert_int_equal(store_query_int(c, probe, t, 1, &v, &eb), 0);
    assert_int_equal(store_query_int(c, probe, n, 1, &v, &eb), IASO_E_NOTFOUND);
    assert_int_equal(store_query_int(c, probe, t, 1, &v, &eb), 0);
    tables_make(c, bk->kind);
    for (int i = 0; i < 4; i++) {
        struct store_val p[] = {i % 2 ? store_int(i) : store_null()};
        exec_ok(c, "INSERT INTO t_item (n) VALUES (?)", p, 1);
    }
    assert_int_equal(query_int(c, "SELECT sum(n) FROM t_item", NULL, 0), 4);
    assert_int_equal(query_int(c, "SELECT count(*) FROM t_item WHERE n IS NULL", NULL, 0), 2);

    /* A migration changes what a cached statement returns; the statement still runs. */
    struct store_row_count rc_before = {0}, rc_after = {0};
    assert_int_equal(
        store_exec(c, "SELECT * FROM t_item", NULL, 0, count_cols, &rc_before, NULL, &eb), 0);
    exec_ok(c, "ALTER TABLE t_item ADD COLUMN extra TEXT", NULL, 0);
    assert_int_equal(
        store_exec(c, "SELECT * FROM t_item", NULL, 0, count_cols, &rc_after, NULL, &eb), 0);
    assert_int_equal(rc_after.n_cols, rc_before.n_cols + 1);
    store_conn_put(c);
    store_free(st);
}

/* ---- opening ---- */

static void
test_open_errors(void **state)
{
    struct backend *bk = *state;
    struct store *st = NULL;
    struct errbuf eb = {{0}};
    char path[320];

    snprintf(path, sizeof(path), "%s/no/such/folder/centre.db", bk->dir);
    assert_true(store_open(path, NULL, &st, &eb) < 0);
    assert_null(st);
    assert_non_null(strstr(eb.msg, path));
    assert_non_null(strstr(eb.msg, "cannot open"));

    snprintf(path, sizeof(path), "%s/notes.txt", bk->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 100; i++)
        fputs("this is a text file, not a database\n", f);
    fclose(f);
    assert_int_equal(store_open(path, NULL, &st, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "not an SQLite database"));
    unlink(path);

    assert_true(store_open(bk->dir, NULL, &st, &eb) < 0); /* a folder */
    assert_int_equal(store_open("", NULL, &st, &eb), IASO_E_INVAL);

    /* Nothing listens on port 1; the password never shows. */
    assert_int_equal(
        store_open("postgresql://iaso:s3cr3t-pw@127.0.0.1:1/iaso?sslmode=disable", NULL, &st, &eb),
        IASO_E_IO);
    assert_null(st);
    assert_non_null(strstr(eb.msg, "127.0.0.1:1"));
    assert_non_null(strstr(eb.msg, "refused"));
    assert_null(strstr(eb.msg, "s3cr3t"));
    assert_int_equal(store_open("postgres://u:s3cr3t-pw@[::1/x", NULL, &st, &eb), IASO_E_INVAL);
    assert_non_null(strstr(eb.msg, "not a valid PostgreSQL URI"));
    assert_null(strstr(eb.msg, "s3cr3t"));
}

/* PostgreSQL: a connection the server drops is replaced on the next get. */
static void
test_lost_connection(void **state)
{
    struct backend *bk = *state;
    struct store_options opt = {.migrate = true, .n_conns_max = 1};
    struct store *st = open_opt(bk, &opt);
    struct store_conn *c = conn_get(st);
    struct errbuf eb = {{0}};
    assert_int_equal(store_exec(c, "SELECT pg_terminate_backend(pg_backend_pid())", NULL, 0, NULL,
                                NULL, NULL, &eb),
                     IASO_E_IO);
    assert_int_equal(store_exec(c, "SELECT 1", NULL, 0, NULL, NULL, NULL, &eb), IASO_E_IO);
    store_conn_put(c);
    c = conn_get(st);
    assert_int_equal(query_int(c, "SELECT 1", NULL, 0), 1);
    store_conn_put(c);
    store_free(st);
}

#define STORE_TESTS(bk)                                                                            \
    cmocka_unit_test_prestate_setup_teardown(test_open_twice, setup, teardown, bk),                \
        cmocka_unit_test_prestate_setup_teardown(test_migrate_runner, setup, teardown, bk),        \
        cmocka_unit_test_prestate_setup_teardown(test_open_concurrently, setup, teardown, bk),     \
        cmocka_unit_test_prestate_setup_teardown(test_crud, setup, teardown, bk),                  \
        cmocka_unit_test_prestate_setup_teardown(test_constraints, setup, teardown, bk),           \
        cmocka_unit_test_prestate_setup_teardown(test_transactions, setup, teardown, bk),          \
        cmocka_unit_test_prestate_setup_teardown(test_concurrent_writes, setup, teardown, bk),     \
        cmocka_unit_test_prestate_setup_teardown(test_pool_waits, setup, teardown, bk),            \
        cmocka_unit_test_prestate_setup_teardown(test_callback_stop, setup, teardown, bk),         \
        cmocka_unit_test_prestate_setup_teardown(test_statement_cache, setup, teardown, bk)

int
main(void)
{
    const struct CMUnitTest sqlite_tests[] = {
        STORE_TESTS(&bk_sqlite),
        cmocka_unit_test_prestate_setup_teardown(test_open_errors, setup, teardown, &bk_sqlite),
    };
    const struct CMUnitTest postgres_tests[] = {
        STORE_TESTS(&bk_postgres),
        cmocka_unit_test_prestate_setup_teardown(test_lost_connection, setup, teardown,
                                                 &bk_postgres),
    };
    int n_failed = cmocka_run_group_tests_name("store sqlite", sqlite_tests, NULL, NULL);
    bk_postgres.url = getenv("IASO_TEST_PG_URL");
    if (bk_postgres.url && *bk_postgres.url)
        n_failed += cmocka_run_group_tests_name("store postgres", postgres_tests, NULL, NULL);
    else
        printf("store postgres: skipped (set IASO_TEST_PG_URL, see tests/pgserver)\n");
    return n_failed;
}
