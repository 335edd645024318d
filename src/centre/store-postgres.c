// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL backend of the store (see store.h), through libpq. The portable `?`
// placeholders become $1, $2, ... outside quotes and comments; each connection prepares a
// statement once per SQL text and parameter types and keeps it in a small cache, so the server
// parses and plans the centre's constant statements once per connection. Parameters go as text
// (integers, typed int8; text, typed by the server from context) or binary (blobs, typed bytea);
// results come back as text and are turned into the store's four types.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/error.h"
#include "base/parse.h"
#include "centre/store-int.h"
#include "centre/store.h"

/* Type OIDs from the server's catalogue (pg_type.dat); fixed since PostgreSQL 7. */
#define PG_OID_BOOL 16
#define PG_OID_BYTEA 17
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23
#define PG_OID_NUMERIC 1700

#define PG_PARAMS_MAX 65535 /* the protocol counts parameters in 16 bits */
#define PG_INT_TEXT_LEN 24  /* "-9223372036854775808" and its NUL */
#define PG_CONNECT_TIMEOUT_S "10"

/* The advisory lock that migrations take: "iaso_mig" as a big-endian 64-bit number. */
#define PG_MIGRATIONS_LOCK "7593477368902936935"

struct pg_slot {
    uint64_t hash;
    size_t sql_len;
    size_t n_params;
    char *key;     /* owns: the SQL text, a NUL, then one letter per parameter type; NULL: free */
    char name[24]; /* the prepared statement on the server: "iaso_N" */
    uint64_t used; /* the connection's tick at the last use: the least recent goes first */
};

struct pg_conn {
    struct store_conn base; /* first: the pool's view of it */
    PGconn *pg;             /* owns */
    uint64_t tick;
    uint64_t n_prepared; /* names statements uniquely over the connection's life */
    struct pg_slot slots[STORE_STMT_CACHE_N];
};

static struct pg_conn *
pgc(struct store_conn *c)
{
    return (struct pg_conn *)c;
}

/* Copies a libpq message into `out` on one line: runs of white space become one space, the
 * URI becomes the store's name and the password stars, in case a message quotes them. */
static void
msg_clean(char *out, size_t cap, const char *msg, const struct store *st, const char *password)
{
    size_t where_len = strlen(st->where);
    size_t pass_len = password ? strlen(password) : 0;
    size_t n = 0;
    bool was_space = true; /* drops leading space */
    while (*msg && n + 1 < cap) {
        const char *add = NULL;
        if (strncmp(msg, st->where, where_len) == 0) {
            add = st->name;
            msg += where_len;
        } else if (pass_len && strncmp(msg, password, pass_len) == 0) {
            add = "***";
            msg += pass_len;
        }
        if (add) {
            size_t add_len = strlen(add);
            if (add_len > cap - 1 - n)
                add_len = cap - 1 - n;
            memcpy(out + n, add, add_len);
            n += add_len;
            was_space = false;
            continue;
        }
        bool is_space = *msg == ' ' || *msg == '\t' || *msg == '\n' || *msg == '\r';
        if (!is_space || !was_space)
            out[n++] = is_space ? ' ' : *msg;
        was_space = is_space;
        msg++;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = 0;
}

/* Maps a failed result (NULL when libpq had none) to our code and a sentence. */
static int
pg_error(struct pg_conn *c, const PGresult *res, struct errbuf *eb)
{
    char msg[200];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    msg_clean(msg, sizeof(msg), primary ? primary : PQerrorMessage(c->pg), c->base.st, NULL);
    if (PQstatus(c->pg) == CONNECTION_BAD)
        return err_set(eb, IASO_E_IO, "PostgreSQL: lost the connection to %s: %s", c->base.st->name,
                       msg);
    if (!state)
        return err_set(eb, IASO_E_IO, "PostgreSQL: %s", msg);
    if (strcmp(state, "23505") == 0)
        return err_set(eb, IASO_E_EXIST, "PostgreSQL: %s", msg);
    if (strcmp(state, "23503") == 0 || strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0)
        return err_set(eb, IASO_E_INVAL, "PostgreSQL: %s", msg);
    if (strcmp(state, "55P03") == 0)
        return err_set(
            eb, IASO_E_IO,
            "PostgreSQL: the database is busy: a lock was held for longer than %d ms (%s)",
            c->base.st->busy_timeout_ms, msg);
    return err_set(eb, IASO_E_IO, "PostgreSQL: %s (SQLSTATE %s)", msg, state);
}

/* Runs a statement without parameters through the simple protocol (several may follow each
 * other); returns 0 or a negative code. */
static int
pg_simple(struct pg_conn *c, const char *sql, struct errbuf *eb)
{
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType status = PQresultStatus(res);
    int rc = 0;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        rc = pg_error(c, res, eb);
    PQclear(res);
    return rc;
}

/* ---- statements ---- */

static char
param_letter(enum store_type t)
{
    switch (t) {
    case STORE_NULL:
        return 'n';
    case STORE_INT:
        return 'i';
    case STORE_TEXT:
        return 't';
    case STORE_BLOB:
        return 'b';
    default:
        return '?';
    }
}

static unsigned
param_oid(char letter)
{
    switch (letter) {
    case 'i':
        return PG_OID_INT8;
    case 'b':
        return PG_OID_BYTEA;
    default:
        return 0; /* the server infers it from the statement */
    }
}

/*
 * Writes `sql` with each `?` outside quotes and comments replaced by $1, $2, ... into `out`
 * (NULL: count only) and returns how many there were. `out` has room for the text plus five
 * bytes per placeholder ("$65535" for "?"). Single quotes ('it''s' included), double-quoted
 * names, -- and block comments are skipped; PostgreSQL-only syntax (E'', $$) is not portable and
 * has no placeholders here.
 */
static size_t
sql_rewrite(const char *sql, char *out)
{
    enum { CODE, QUOTE, NAME, LINE_COMMENT, BLOCK_COMMENT } state = CODE;
    size_t n_marks = 0;
    size_t n = 0;
    for (const char *p = sql; *p; p++) {
        switch (state) {
        case CODE:
            if (*p == '?') {
                n_marks++;
                if (out)
                    n += (size_t)snprintf(out + n, 8, "$%zu", n_marks);
                continue;
            }
            if (*p == '\'')
                state = QUOTE;
            else if (*p == '"')
                state = NAME;
            else if (p[0] == '-' && p[1] == '-')
                state = LINE_COMMENT;
            else if (p[0] == '/' && p[1] == '*')
                state = BLOCK_COMMENT;
            break;
        case QUOTE:
            if (*p == '\'')
                state = CODE;
            break;
        case NAME:
            if (*p == '"')
                state = CODE;
            break;
        case LINE_COMMENT:
            if (*p == '\n')
                state = CODE;
            break;
        case BLOCK_COMMENT:
            if (p[0] == '*' && p[1] == '/') {
                if (out)
                    out[n++] = *p;
                p++;
                state = CODE;
            }
            break;
        }
        if (out)
            out[n++] = *p;
    }
    if (out)
        out[n] = 0;
    return n_marks;
}

static bool
slot_matches(const struct pg_slot *s, uint64_t h, const char *sql, size_t sql_len,
             const struct store_val *params, size_t n_params)
{
    if (!s->key || s->hash != h || s->sql_len != sql_len || s->n_params != n_params ||
        memcmp(s->key, sql, sql_len) != 0)
        return false;
    for (size_t i = 0; i < n_params; i++)
        if (s->key[sql_len + 1 + i] != param_letter(params[i].type))
            return false;
    return true;
}

static void
slot_release(struct pg_conn *c, struct pg_slot *s)
{
    if (!s->key)
        return;
    /* Statements outlive transactions on the server; a failed DEALLOCATE (inside a failed
     * transaction) leaves one there until the connection closes, which costs only memory. */
    if (PQstatus(c->pg) == CONNECTION_OK) {
        char sql[48];
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
        PQclear(PQexec(c->pg, sql));
    }
    free(s->key);
    *s = (struct pg_slot){0};
}

/* Finds or prepares the statement for `sql` with these parameter types. */
static int
stmt_get(struct pg_conn *c, const char *sql, const struct store_val *params, size_t n_params,
         struct pg_slot **out, struct errbuf *eb)
{
    size_t sql_len = strlen(sql);
    uint64_t h = store_hash(STORE_HASH_INIT, sql, sql_len + 1); /* the NUL separates the types */
    for (size_t i = 0; i < n_params; i++) {
        char letter = param_letter(params[i].type);
        h = store_hash(h, &letter, 1);
    }
    c->tick++;
    struct pg_slot *victim = &c->slots[0];
    for (size_t i = 0; i < STORE_STMT_CACHE_N; i++) {
        struct pg_slot *s = &c->slots[i];
        if (slot_matches(s, h, sql, sql_len, params, n_params)) {
            s->used = c->tick;
            *out = s;
            return 0;
        }
        if (s->used < victim->used)
            victim = s;
    }

    char *key = NULL;
    unsigned *oids = NULL;
    char *text = NULL;
    int rc = 0;
    size_t n_marks = sql_rewrite(sql, NULL);
    if (n_marks != n_params) {
        rc = err_set(eb, IASO_E_INVAL, "store: the statement has %zu placeholders but %zu values",
                     n_marks, n_params);
        goto out;
    }
    key = malloc(sql_len + 1 + n_params);
    text = malloc(sql_len + 5 * n_marks + 1);
    oids = calloc(n_params ? n_params : 1, sizeof(*oids));
    if (!key || !text || !oids) {
        rc = err_set(eb, IASO_E_NOMEM, "store: out of memory");
        goto out;
    }
    sql_rewrite(sql, text);
    memcpy(key, sql, sql_len + 1);
    for (size_t i = 0; i < n_params; i++) {
        key[sql_len + 1 + i] = param_letter(params[i].type);
        oids[i] = param_oid(key[sql_len + 1 + i]);
    }

    slot_release(c, victim);
    snprintf(victim->name, sizeof(victim->name), "iaso_%llu", (unsigned long long)++c->n_prepared);
    PGresult *res = PQprepare(c->pg, victim->name, text, (int)n_params, oids);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_error(c, res, eb);
    PQclear(res);
    if (rc < 0)
        goto out;
    victim->hash = h;
    victim->sql_len = sql_len;
    victim->n_params = n_params;
    victim->key = key;
    victim->used = c->tick;
    key = NULL;
    *out = victim;
out:
    free(oids);
    free(text);
    free(key);
    return rc;
}

/* The parameters as libpq wants them, in one allocation freed after the call. */
struct pg_params {
    const char **values;
    int *lengths;
    int *formats;
    void *block; /* owns everything above and the text copies */
};

static int
params_make(const struct store_val *params, size_t n_params, struct pg_params *pp,
            struct errbuf *eb)
{
    size_t n_bytes = 0; /* the integers' text and NUL-terminated copies of the text values */
    for (size_t i = 0; i < n_params; i++) {
        const struct store_val *v = &params[i];
        if (v->type == STORE_INT)
            n_bytes += PG_INT_TEXT_LEN;
        if (v->type == STORE_TEXT) {
            if (v->len && memchr(v->s, 0, v->len))
                return err_set(eb, IASO_E_INVAL, "store: text parameter %zu contains a NUL byte",
                               i + 1);
            n_bytes += v->len + 1;
        }
        if ((v->type == STORE_TEXT || v->type == STORE_BLOB) && v->len > INT32_MAX)
            return err_set(eb, IASO_E_LIMIT, "store: parameter %zu is larger than 2 GiB", i + 1);
    }
    size_t n = n_params ? n_params : 1;
    pp->block = malloc(n * (sizeof(char *) + 2 * sizeof(int)) + n_bytes);
    if (!pp->block)
        return err_set(eb, IASO_E_NOMEM, "store: out of memory");
    pp->values = pp->block;
    pp->lengths = (int *)(pp->values + n);
    pp->formats = pp->lengths + n;
    char *bytes = (char *)(pp->formats + n);
    for (size_t i = 0; i < n_params; i++) {
        const struct store_val *v = &params[i];
        pp->values[i] = NULL;
        pp->lengths[i] = 0;
        pp->formats[i] = 0;
        switch (v->type) {
        case STORE_INT:
            pp->values[i] = bytes;
            bytes += snprintf(bytes, PG_INT_TEXT_LEN, "%lld", (long long)v->i) + 1;
            break;
        case STORE_TEXT:
            /* libpq reads text parameters up to their NUL; the caller's may have none. */
            pp->values[i] = bytes;
            if (v->len)
                memcpy(bytes, v->s, v->len);
            bytes[v->len] = 0;
            bytes += v->len + 1;
            break;
        case STORE_BLOB:
            pp->values[i] = v->len ? v->s : "";
            pp->lengths[i] = (int)v->len;
            pp->formats[i] = 1;
            break;
        default: /* NULL */
            break;
        }
    }
    return 0;
}

/* Reads one cell of a text-format result. A bytea is unescaped into *owned, which the caller
 * frees after the row. */
static int
cell_read(const PGresult *res, int row, int col, struct store_val *v, unsigned char **owned,
          struct errbuf *eb)
{
    *v = (struct store_val){.type = STORE_NULL};
    *owned = NULL;
    if (PQgetisnull(res, row, col))
        return 0;
    const char *s = PQgetvalue(res, row, col);
    size_t len = (size_t)PQgetlength(res, row, col);
    switch (PQftype(res, col)) {
    case PG_OID_INT2:
    case PG_OID_INT4:
    case PG_OID_INT8:
        v->type = STORE_INT;
        if (parse_i64(s, len, INT64_MIN, INT64_MAX, &v->i) < 0)
            return err_set(eb, IASO_E_FORMAT, "PostgreSQL: an integer column holds \"%.20s\"", s);
        return 0;
    case PG_OID_NUMERIC: /* sum() of bigints: an integer when it is one, as in SQLite */
        if (parse_i64(s, len, INT64_MIN, INT64_MAX, &v->i) == 0) {
            v->type = STORE_INT;
            return 0;
        }
        break;
    case PG_OID_BOOL: /* the portable dialect's booleans are 0 and 1 */
        v->type = STORE_INT;
        v->i = s[0] == 't';
        return 0;
    case PG_OID_BYTEA: {
        size_t n = 0;
        *owned = PQunescapeBytea((const unsigned char *)s, &n);
        if (!*owned)
            return err_set(eb, IASO_E_NOMEM, "PostgreSQL: out of memory reading a bytea");
        v->type = STORE_BLOB;
        v->s = (const char *)*owned;
        v->len = n;
        return 0;
    }
    default:
        break;
    }
    v->type = STORE_TEXT;
    v->s = s;
    v->len = len;
    return 0;
}

/* Calls `fn` for each row of `res`. */
static int
rows_deliver(const PGresult *res, store_row_fn fn, void *ctx, struct errbuf *eb)
{
    int n_rows = PQntuples(res);
    int n_cols = PQnfields(res);
    struct store_val cols_small[STORE_COLS_SMALL];
    unsigned char *owned_small[STORE_COLS_SMALL];
    struct store_val *cols = cols_small;
    unsigned char **owned = owned_small;
    void *block = NULL;
    int rc = 0;
    if (n_cols > STORE_COLS_SMALL) {
        block = calloc((size_t)n_cols, sizeof(*cols) + sizeof(*owned));
        if (!block)
            return err_set(eb, IASO_E_NOMEM, "store: out of memory");
        cols = block;
        owned = (unsigned char **)(cols + n_cols);
    }
    for (int r = 0; r < n_rows && rc == 0; r++) {
        int n_read = 0;
        for (; n_read < n_cols && rc == 0; n_read++)
            rc = cell_read(res, r, n_read, &cols[n_read], &owned[n_read], eb);
        if (rc == 0) {
            struct store_row row = {.n_cols = (size_t)n_cols, .cols = cols};
            rc = fn(ctx, &row);
        }
        for (int j = 0; j < n_read; j++)
            PQfreemem(owned[j]);
    }
    free(block);
    return rc;
}

/* Rows inserted, updated or deleted; 0 for a SELECT, whose tag counts the rows it returned. */
static int64_t
changes_read(const PGresult *res)
{
    const char *tag = PQcmdStatus((PGresult *)res);
    if (strncmp(tag, "INSERT", 6) != 0 && strncmp(tag, "UPDATE", 6) != 0 &&
        strncmp(tag, "DELETE", 6) != 0 && strncmp(tag, "MERGE", 5) != 0)
        return 0;
    const char *n = PQcmdTuples((PGresult *)res);
    int64_t v = 0;
    return parse_i64(n, strlen(n), 0, INT64_MAX, &v) == 0 ? v : 0;
}

/* A statement prepared before a migration changed the columns it returns: the server refuses
 * to run it ("cached plan must not change result type"). */
static bool
is_stale_plan(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state && strcmp(state, "0A000") == 0;
}

static int
pg_exec(struct store_conn *base, const char *sql, const struct store_val *params, size_t n_params,
        store_row_fn fn, void *ctx, int64_t *n_changed, struct errbuf *eb)
{
    struct pg_conn *c = pgc(base);
    struct pg_params pp = {0};
    PGresult *res = NULL;
    struct pg_slot *slot = NULL;
    ExecStatusType status = PGRES_FATAL_ERROR;
    if (n_params > PG_PARAMS_MAX)
        return err_set(eb, IASO_E_LIMIT, "store: more than %d parameters", PG_PARAMS_MAX);
    int rc = params_make(params, n_params, &pp, eb);
    if (rc < 0)
        goto out;
    /* A stale statement is prepared afresh once, outside a transaction only: inside one the
     * error has already aborted it. */
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = stmt_get(c, sql, params, n_params, &slot, eb);
        if (rc < 0)
            goto out;
        PQclear(res);
        res =
            PQexecPrepared(c->pg, slot->name, (int)n_params, pp.values, pp.lengths, pp.formats, 0);
        status = PQresultStatus(res);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || !is_stale_plan(res) ||
            PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            break;
        slot_release(c, slot);
    }
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        rc = pg_error(c, res, eb);
        goto out;
    }
    if (n_changed)
        *n_changed = changes_read(res);
    /* The whole result is in memory by now, so a callback may run statements of its own. */
    if (fn && status == PGRES_TUPLES_OK)
        rc = rows_deliver(res, fn, ctx, eb);
out:
    PQclear(res);
    free(pp.block);
    return rc;
}

/* ---- transactions ---- */

static bool
pg_in_txn(struct store_conn *base)
{
    PGTransactionStatusType t = PQtransactionStatus(pgc(base)->pg);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static int
pg_begin(struct store_conn *base, bool write, struct errbuf *eb)
{
    (void)write; /* row locks are taken as rows are written */
    return pg_simple(pgc(base), "BEGIN", eb);
}

static void
pg_rollback(struct store_conn *base)
{
    PQclear(PQexec(pgc(base)->pg, "ROLLBACK"));
}

static int
pg_commit(struct store_conn *base, struct errbuf *eb)
{
    struct pg_conn *c = pgc(base);
    PGresult *res = PQexec(c->pg, "COMMIT");
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = pg_error(c, res, eb);
    else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) /* "ROLLBACK": it had failed */
        rc = err_set(eb, IASO_E_IO,
                     "PostgreSQL: the transaction was rolled back because a statement in it "
                     "failed");
    PQclear(res);
    if (rc < 0 && pg_in_txn(base))
        pg_rollback(base);
    return rc;
}

static int
pg_exec_script(struct store_conn *base, const char *sql, struct errbuf *eb)
{
    return pg_simple(pgc(base), sql, eb);
}

static int
pg_migrations_lock(struct store_conn *base, struct errbuf *eb)
{
    /* Waits without a time limit for the lock only: its holder is another iaso migrating, and
     * the lock goes with that transaction, which lock_timeout bounds. */
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SET LOCAL lock_timeout TO 0; SELECT pg_advisory_xact_lock(" PG_MIGRATIONS_LOCK
             "); SET LOCAL lock_timeout TO %d",
             base->st->busy_timeout_ms);
    return pg_simple(pgc(base), sql, eb);
}

/* ---- connections ---- */

static bool
pg_is_usable(struct store_conn *base)
{
    return PQstatus(pgc(base)->pg) == CONNECTION_OK;
}

static void
pg_conn_close(struct store_conn *base)
{
    struct pg_conn *c = pgc(base);
    if (!c)
        return;
    for (size_t i = 0; i < STORE_STMT_CACHE_N; i++)
        free(c->slots[i].key); /* the server forgets its statements with the connection */
    PQfinish(c->pg);
    free(c);
}

static void
notice_ignore(void *ctx, const char *msg)
{
    /* A library never prints; client_min_messages keeps notices from being sent at all. */
    (void)ctx;
    (void)msg;
}

static int
pg_conn_open(struct store *st, struct store_conn **out, struct errbuf *eb)
{
    /* Keywords before "dbname" are defaults that the URI's own parameters override. */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *const vals[] = {PG_CONNECT_TIMEOUT_S, "iaso", st->where, NULL};
    struct pg_conn *c = calloc(1, sizeof(*c));
    int rc = 0;
    if (!c)
        return err_set(eb, IASO_E_NOMEM, "store: out of memory");
    c->base.st = st;
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (!c->pg) {
        rc = err_set(eb, IASO_E_NOMEM, "store: out of memory");
        goto out;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char msg[200];
        const char *why = PQerrorMessage(c->pg);
        const char *failed = strstr(why, "failed: ");
        const char *host = PQhost(c->pg);
        const char *port = PQport(c->pg);
        msg_clean(msg, sizeof(msg), failed ? failed + 8 : why, st, PQpass(c->pg));
        char *parse_msg = NULL;
        PQconninfoOption *parsed = PQconninfoParse(st->where, &parse_msg);
        PQconninfoFree(parsed);
        PQfreemem(parse_msg);
        if (!parsed) /* libpq could not read the URI */
            rc = err_set(eb, IASO_E_INVAL, "%s: not a valid PostgreSQL URI: %s", st->name, msg);
        else
            rc = err_set(eb, IASO_E_IO, "%s: cannot connect to PostgreSQL at %s:%s: %s", st->name,
                         *host ? host : "the default socket", port && *port ? port : "5432", msg);
        goto out;
    }
    PQsetNoticeProcessor(c->pg, notice_ignore, NULL);
    char sql[96];
    snprintf(sql, sizeof(sql), "SET client_min_messages TO warning; SET lock_timeout TO %d",
             st->busy_timeout_ms);
    struct errbuf inner = {{0}};
    rc = pg_simple(c, sql, &inner);
    if (rc < 0) {
        err_set(eb, rc, "%s: cannot set up the session: %s", st->name, inner.msg);
        goto out;
    }
    *out = &c->base;
    c = NULL;
out:
    if (c) {
        PQfinish(c->pg);
        free(c);
    }
    return rc;
}

const struct store_ops store_postgres_ops = {
    .name = "postgres",
    .title = "PostgreSQL",
    .sql_migrations_create = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                             "applied_at BIGINT NOT NULL)",
    .sql_migrations_exist = "SELECT count(*) FROM pg_catalog.pg_tables "
                            "WHERE schemaname = current_schema() "
                            "AND tablename = 'schema_migrations'",
    .conn_open = pg_conn_open,
    .conn_close = pg_conn_close,
    .conn_is_usable = pg_is_usable,
    .conn_in_txn = pg_in_txn,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .migrations_lock = pg_migrations_lock,
};
