// SPDX-License-Identifier: Apache-2.0
// `iaso centre ...`: serve the centre, initialise its database, and manage organisations, users
// and tokens from the command line (for the first admin, for scripts, and for when the UI is
// not reachable). Every change made here is written to the audit log as coming from "cli".
#include "cli/cli.h"

#include <signal.h>
#include <sys/resource.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/opt.h"
#include "base/parse.h"
#include "centre/accounts.h"
#include "centre/centre.h"
#include "centre/store.h"

struct centre_cli {
    const char *db;
    const char *listen;
    const char *tls_cert;
    const char *tls_key;
    int64_t threads;
    int64_t db_conns;
    int64_t body_max;
    int64_t conns_max;
    int64_t conns_per_ip;
    int64_t idle_timeout;
    const char *log_level;
    /* admin commands */
    const char *name;
    const char *kind;
    const char *country;
    const char *region;
    int64_t csirt;
    int64_t org;
    const char *email;
    const char *role;
    const char *password_file;
    int64_t id;
    int64_t user;
    const char *scopes;
    int64_t expires;
    int64_t limit;
    bool help;
    bool help_markdown;
};

#define O(f) offsetof(struct centre_cli, f)
static const struct opt_def serve_options[] = {
    {"db", 0, OPT_STRING, "DB", 0, 0, "/var/lib/iaso/centre.db",
     "The database: a SQLite file (created if missing) or a PostgreSQL URI "
     "postgresql://user@host:port/dbname. Migrations run at start.",
     O(db)},
    {"listen", 0, OPT_STRING, "ADDR:PORT", 0, 0, "127.0.0.1:8080",
     "Address and port to serve on; [::1]:8080 for IPv6, :8080 for every address, port 0 for "
     "any free port (printed at start).",
     O(listen)},
    {"tls-cert", 0, OPT_STRING, "FILE", 0, 0, NULL,
     "PEM certificate chain; with --tls-key the centre serves HTTPS and its cookies are Secure.",
     O(tls_cert)},
    {"tls-key", 0, OPT_STRING, "FILE", 0, 0, NULL, "PEM private key for --tls-cert.", O(tls_key)},
    {"threads", 0, OPT_INT, "N", 1, 256, "8",
     "HTTP worker threads. Each serves its connections one request at a time and waits for the "
     "database, so more threads than cores keep a slow disk read from stalling everyone.",
     O(threads)},
    {"db-conns", 0, OPT_INT, "N", 1, 256, "8",
     "Database connections in the pool (as many as --threads is sensible).", O(db_conns)},
    {"body-max", 0, OPT_SIZE, "BYTES", 1024, 268435456, "16M",
     "Largest request body accepted; larger ones get 413. Attachments must fit in it (base64 "
     "adds a third).",
     O(body_max)},
    {"conns-max", 0, OPT_INT, "N", 16, 65536, "1024",
     "Open connections at most; when they are all open, new ones wait in the kernel's queue "
     "until one closes. The file descriptor limit is raised to fit if it is lower.",
     O(conns_max)},
    {"conns-per-ip", 0, OPT_INT, "N", 0, 65536, "0",
     "Open connections from one client address at most; 0 for no limit (the right choice "
     "behind a proxy, where every client has the proxy's address).",
     O(conns_per_ip)},
    {"idle-timeout", 0, OPT_DURATION, "DURATION", 1000, 3600000, "30s",
     "A connection that sends nothing for this long is closed, so idle or slow clients cannot "
     "hold every connection.",
     O(idle_timeout)},
    {"log-level", 0, OPT_STRING, "LEVEL", 0, 0, "info", "error, warn, info or debug.",
     O(log_level)},
    {"help", 'h', OPT_FLAG, NULL, 0, 0, NULL, "Show this help.", O(help)},
    {"help-markdown", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "Print the options as a Markdown table (docs/centre-options.md).", O(help_markdown)},
};

static const struct opt_def admin_options[] = {
    {"db", 0, OPT_STRING, "DB", 0, 0, "/var/lib/iaso/centre.db",
     "The database: a SQLite file or a PostgreSQL URI.", O(db)},
    {"name", 0, OPT_STRING, "TEXT", 0, 0, NULL, "Organisation, user or token name.", O(name)},
    {"kind", 0, OPT_STRING, "KIND", 0, 0, NULL,
     "Organisation kind (hospital, clinic, ambulance, laboratory, authority, csirt, helper) or "
     "token kind (api, enrol).",
     O(kind)},
    {"country", 0, OPT_STRING, "CC", 0, 0, NULL, "ISO 3166-1 alpha-2 country code.", O(country)},
    {"region", 0, OPT_STRING, "TEXT", 0, 0, NULL, "Region within the country.", O(region)},
    {"csirt", 0, OPT_INT, "ID", 0, INT64_MAX, "0",
     "The CSIRT organisation whose constituency the new organisation is in.", O(csirt)},
    {"org", 0, OPT_INT, "ID", 0, INT64_MAX, "0", "Organisation id.", O(org)},
    {"email", 0, OPT_STRING, "ADDR", 0, 0, NULL, "The user's email address (the login name).",
     O(email)},
    {"role", 0, OPT_STRING, "ROLE", 0, 0, NULL, "reporter, analyst, admin, helper or viewer.",
     O(role)},
    {"password-file", 0, OPT_STRING, "FILE", 0, 0, NULL,
     "Read the password from the first line of FILE (- for standard input). Without it a "
     "random password is made and printed once.",
     O(password_file)},
    {"id", 0, OPT_INT, "ID", 0, INT64_MAX, "0", "The user or token id to act on.", O(id)},
    {"user", 0, OPT_INT, "ID", 0, INT64_MAX, "0", "The user a token belongs to.", O(user)},
    {"scopes", 0, OPT_STRING, "LIST", 0, 0, "read",
     "Token scopes: read, write, admin, comma-separated.", O(scopes)},
    {"expires", 0, OPT_DURATION, "DURATION", 0, INT64_MAX, "0",
     "Token lifetime (e.g. 90d); 0 for none.", O(expires)},
    {"limit", 0, OPT_INT, "N", 1, 100000, "50", "Lines to show (audit).", O(limit)},
    {"help", 'h', OPT_FLAG, NULL, 0, 0, NULL, "Show this help.", O(help)},
};
#undef O
#define N_SERVE (sizeof(serve_options) / sizeof(serve_options[0]))
#define N_ADMIN (sizeof(admin_options) / sizeof(admin_options[0]))

static const char *const centre_usage =
    "usage: iaso centre <command> [options]\n"
    "\n"
    "The centre: where hospitals report incidents and a health CSIRT coordinates.\n"
    "\n"
    "commands:\n"
    "  serve                 run the HTTP server (JSON API, browser UI, /healthz, /metrics)\n"
    "  init                  create the database, the operating organisation and its first admin\n"
    "  org add|list          manage organisations\n"
    "  user add|list|disable|enable|password\n"
    "                        manage users\n"
    "  token create|list|revoke\n"
    "                        manage API tokens and sensor enrolment tokens\n"
    "  audit                 print the latest audit log lines\n"
    "\n"
    "`iaso centre serve --help` and `iaso centre init --help` list the options.\n";

static const char *const init_usage =
    "usage: iaso centre init --db PATH|URL --name ORG --country CC --email ADDR [options]\n"
    "\n"
    "Creates the database (or migrates it), the organisation that operates this centre (a\n"
    "CSIRT unless --kind says otherwise) and its first admin, and prints how to log in. The\n"
    "password is read from --password-file or made at random and printed once. Refuses to run\n"
    "twice on the same database.\n"
    "\n"
    "admin commands (org, user, token, audit) take the same options:\n"
    "  iaso centre org add --name N --kind hospital --country CZ [--region R] [--csirt ID]\n"
    "  iaso centre org list\n"
    "  iaso centre user add --org ID --email E --name N --role reporter [--password-file F]\n"
    "  iaso centre user list [--org ID]\n"
    "  iaso centre user disable|enable --id ID\n"
    "  iaso centre user password --id ID [--password-file F]\n"
    "  iaso centre token create --user ID --name N [--scopes read,write] [--expires 90d]\n"
    "                           [--kind api|enrol]\n"
    "  iaso centre token list [--user ID]\n"
    "  iaso centre token revoke --id ID\n"
    "  iaso centre audit [--limit N]\n"
    "\n"
    "Exit status: 0 on success, 1 when the database refused or an object is missing, 2 on bad\n"
    "usage.\n"
    "\n"
    "options:\n";

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
    stop_signal = sig;
}

static int
serve(int argc, char **argv)
{
    struct centre_cli cfg;
    struct errbuf eb = {{0}};
    int first = 0;
    if (opt_defaults(serve_options, N_SERVE, &cfg, &eb) != 0 ||
        opt_parse(serve_options, N_SERVE, &cfg, argc, argv, 3, &first, &eb) != 0) {
        fprintf(stderr, "iaso centre serve: %s\n(see `iaso centre serve --help`)\n", eb.msg);
        return 2;
    }
    if (cfg.help || cfg.help_markdown) {
        struct buf b;
        buf_init(&b, 1 << 20);
        if (cfg.help)
            buf_append_str(&b, "usage: iaso centre serve [options]\n\n"
                               "Serves the centre: the JSON API under /api/v1/, the browser UI "
                               "at /, /healthz and\n/metrics (Prometheus). Stops on SIGINT or "
                               "SIGTERM, finishing requests in flight.\n\noptions:\n");
        else
            buf_append_str(&b, "# `iaso centre serve` options\n\nGenerated by `iaso centre serve "
                               "--help-markdown` from the option table in `src/cli/centre.c`; "
                               "do not edit.\n\n");
        int rc = cfg.help ? opt_help_text(serve_options, N_SERVE, &b)
                          : opt_help_markdown(serve_options, N_SERVE, &b);
        fwrite(b.ptr, 1, b.len, stdout);
        buf_release(&b);
        opt_release(serve_options, N_SERVE, &cfg);
        return rc == 0 ? 0 : 1;
    }
    if (first < argc) {
        fprintf(stderr, "iaso centre serve: unexpected argument '%s'\n", argv[first]);
        return 2;
    }
    if ((cfg.tls_cert != NULL) != (cfg.tls_key != NULL)) {
        fprintf(stderr, "iaso centre serve: --tls-cert and --tls-key go together\n");
        return 2;
    }
    enum log_level level;
    if (log_level_parse(cfg.log_level, &level) != 0) {
        fprintf(stderr, "iaso centre serve: --log-level must be error, warn, info or debug\n");
        return 2;
    }
    log_set_level(level);
    struct centre_config cc = {
        .db = cfg.db,
        .listen = cfg.listen,
        .tls_cert = cfg.tls_cert,
        .tls_key = cfg.tls_key,
        .threads = cfg.threads,
        .db_conns = cfg.db_conns,
        .body_max = cfg.body_max,
        .conns_max = cfg.conns_max,
        .conns_per_ip = cfg.conns_per_ip,
        .idle_timeout_s = cfg.idle_timeout / 1000,
    };
    struct centre *c = NULL;
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* each connection is a descriptor; leave room for the database and the log */
    struct rlimit nofile;
    rlim_t want = (rlim_t)cfg.conns_max + 64;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < want) {
        nofile.rlim_cur = want < nofile.rlim_max ? want : nofile.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur < want)
            fprintf(stderr,
                    "iaso centre serve: the file descriptor limit (%llu) is below "
                    "--conns-max plus 64; lower --conns-max or raise the limit\n",
                    (unsigned long long)nofile.rlim_cur);
    }
    int rc = centre_start(&cc, &c, &eb);
    if (rc != 0) {
        fprintf(stderr, "iaso centre serve: %s\n", eb.msg);
        return 1;
    }
    fprintf(stderr, "iaso centre: listening on %s://%s (port %u), database %s\n",
            cfg.tls_cert ? "https" : "http", cfg.listen, (unsigned)centre_port(c),
            strncmp(cfg.db, "postgres", 8) == 0 ? "PostgreSQL" : cfg.db);
    fflush(stderr);
    while (!stop_signal)
        pause();
    fprintf(stderr, "iaso centre: stopping (signal %d)\n", (int)stop_signal);
    centre_stop(c);
    opt_release(serve_options, N_SERVE, &cfg);
    return 0;
}

/* ---- admin commands ---- */

/* The password from --password-file, or a new random one printed to stdout. */
static int
get_password(const struct centre_cli *cfg, char *out, size_t out_len, bool *generated)
{
    *generated = false;
    if (!cfg->password_file) {
        unsigned char raw[15];
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2base64(out, out_len, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        *generated = true;
        return 0;
    }
    FILE *f = strcmp(cfg->password_file, "-") == 0 ? stdin : fopen(cfg->password_file, "r");
    if (!f) {
        fprintf(stderr, "iaso centre: %s: cannot open the password file\n", cfg->password_file);
        return -1;
    }
    bool ok = fgets(out, (int)out_len, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "iaso centre: %s: the password file is empty\n", cfg->password_file);
        return -1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

struct admin {
    struct store *st;
    struct api a;
    struct http_req fake_req;
};

static int
admin_open(struct admin *ad, const char *db)
{
    struct errbuf eb = {{0}};
    memset(ad, 0, sizeof(*ad));
    if (auth_init() != 0) {
        fprintf(stderr, "iaso centre: libsodium could not start\n");
        return 1;
    }
    struct store_options so = {.n_conns_max = 1, .migrate = true};
    if (store_open(db, &so, &ad->st, &eb) != 0 || store_conn_get(ad->st, &ad->a.db, &eb) != 0) {
        fprintf(stderr, "iaso centre: %s\n", eb.msg);
        store_free(ad->st);
        return 1;
    }
    snprintf(ad->fake_req.peer, sizeof(ad->fake_req.peer), "cli");
    ad->a.req = &ad->fake_req;
    ad->a.now = (int64_t)time(NULL);
    return 0;
}

static void
admin_close(struct admin *ad)
{
    store_conn_put(ad->a.db);
    store_free(ad->st);
}

/* Runs one change in a transaction; prints the failure. */
static int
admin_finish(struct admin *ad, int rc, const char *what)
{
    if (rc == 0)
        rc = store_commit(ad->a.db, &ad->a.eb);
    if (rc != 0) {
        store_rollback(ad->a.db);
        fprintf(stderr, "iaso centre: %s: %s\n", what,
                ad->a.eb.msg[0] ? ad->a.eb.msg : iaso_strerror(rc));
        return 1;
    }
    return 0;
}

static int
need(const char *value, const char *option, const char *cmd)
{
    if (value && value[0])
        return 0;
    fprintf(stderr, "iaso centre %s: --%s is required (see `iaso centre init --help`)\n", cmd,
            option);
    return 2;
}

static int
cmd_init(struct centre_cli *cfg)
{
    int rc;
    if ((rc = need(cfg->name, "name", "init")) || (rc = need(cfg->country, "country", "init")) ||
        (rc = need(cfg->email, "email", "init")))
        return rc;
    struct admin ad;
    if (admin_open(&ad, cfg->db) != 0)
        return 1;
    int64_t n = 0;
    rc = store_query_int(ad.a.db, "SELECT COUNT(*) FROM orgs WHERE is_operator = 1", NULL, 0, &n,
                         &ad.a.eb);
    if (rc == 0 && n > 0) {
        fprintf(stderr,
                "iaso centre init: %s is initialised already; use `iaso centre user add` "
                "to add admins\n",
                cfg->db);
        admin_close(&ad);
        return 1;
    }
    char password[300];
    bool generated;
    if (get_password(cfg, password, sizeof(password), &generated) != 0) {
        admin_close(&ad);
        return 1;
    }
    int64_t org_id = 0, user_id = 0;
    struct org_new o = {.name = cfg->name,
                        .kind = cfg->kind ? cfg->kind : "csirt",
                        .country = cfg->country,
                        .region = cfg->region,
                        .is_operator = true};
    rc = store_begin(ad.a.db, true, &ad.a.eb);
    if (rc == 0)
        rc = accounts_org_create(&ad.a, &o, &org_id);
    if (rc == 0)
        rc = accounts_user_create(&ad.a, org_id, cfg->email, "Administrator", "admin", password,
                                  &user_id);
    if (admin_finish(&ad, rc, "init") != 0) {
        sodium_memzero(password, sizeof(password));
        admin_close(&ad);
        return 1;
    }
    printf("Initialised %s.\n"
           "  organisation %lld: %s (%s, %s), operator of this centre\n"
           "  admin user %lld: %s\n",
           cfg->db, (long long)org_id, cfg->name, o.kind, cfg->country, (long long)user_id,
           cfg->email);
    if (generated)
        printf("  password: %s   (shown once; change it after logging in)\n", password);
    printf("Start the server with `iaso centre serve --db %s` and log in at its address with\n"
           "the email and password above.\n",
           cfg->db);
    sodium_memzero(password, sizeof(password));
    admin_close(&ad);
    return 0;
}

static int
print_row(void *ctx, const struct store_row *row)
{
    (void)ctx;
    for (size_t i = 0; i < row->n_cols; i++) {
        const struct store_val *v = &row->cols[i];
        if (i)
            fputc('\t', stdout);
        if (v->type == STORE_INT)
            printf("%lld", (long long)v->i);
        else if (v->type == STORE_TEXT)
            fwrite(v->s, 1, v->len, stdout);
        else
            fputc('-', stdout);
    }
    fputc('\n', stdout);
    return 0;
}

static int
admin_list(struct admin *ad, const char *header, const char *sql, const struct store_val *p,
           size_t n)
{
    puts(header);
    int rc = store_exec(ad->a.db, sql, p, n, print_row, NULL, NULL, &ad->a.eb);
    if (rc != 0) {
        fprintf(stderr, "iaso centre: %s\n", ad->a.eb.msg);
        return 1;
    }
    return 0;
}

static int
cmd_org(struct centre_cli *cfg, const char *verb, struct admin *ad)
{
    if (strcmp(verb, "list") == 0)
        return admin_list(ad, "id\tname\tkind\tcountry\tregion\tcsirt_id\toperator",
                          "SELECT id, name, kind, country, region, csirt_id, is_operator FROM orgs"
                          " ORDER BY id",
                          NULL, 0);
    if (strcmp(verb, "add") != 0)
        return -1;
    int rc;
    if ((rc = need(cfg->name, "name", "org add")) || (rc = need(cfg->kind, "kind", "org add")) ||
        (rc = need(cfg->country, "country", "org add")))
        return rc;
    struct org_new o = {.name = cfg->name,
                        .kind = cfg->kind,
                        .country = cfg->country,
                        .region = cfg->region,
                        .csirt_id = cfg->csirt};
    int64_t id = 0;
    rc = store_begin(ad->a.db, true, &ad->a.eb);
    if (rc == 0)
        rc = accounts_org_create(&ad->a, &o, &id);
    if (admin_finish(ad, rc, "org add") != 0)
        return 1;
    printf("organisation %lld: %s\n", (long long)id, cfg->name);
    return 0;
}

static int
cmd_user(struct centre_cli *cfg, const char *verb, struct admin *ad)
{
    int rc;
    if (strcmp(verb, "list") == 0) {
        struct store_val p[] = {store_int(cfg->org), store_int(cfg->org)};
        return admin_list(ad, "id\torg_id\temail\tname\trole\tdisabled",
                          "SELECT id, org_id, email, name, role, disabled FROM users"
                          " WHERE (? = 0 OR org_id = ?) ORDER BY id",
                          p, 2);
    }
    if (strcmp(verb, "add") == 0) {
        if ((rc = need(cfg->email, "email", "user add")) ||
            (rc = need(cfg->name, "name", "user add")) ||
            (rc = need(cfg->role, "role", "user add")))
            return rc;
        if (cfg->org <= 0) {
            fprintf(stderr, "iaso centre user add: --org is required\n");
            return 2;
        }
        char password[300];
        bool generated;
        if (get_password(cfg, password, sizeof(password), &generated) != 0)
            return 1;
        int64_t id = 0;
        rc = store_begin(ad->a.db, true, &ad->a.eb);
        if (rc == 0)
            rc = accounts_user_create(&ad->a, cfg->org, cfg->email, cfg->name, cfg->role, password,
                                      &id);
        if (admin_finish(ad, rc, "user add") != 0) {
            sodium_memzero(password, sizeof(password));
            return 1;
        }
        printf("user %lld: %s (%s)\n", (long long)id, cfg->email, cfg->role);
        if (generated)
            printf("password: %s   (shown once)\n", password);
        sodium_memzero(password, sizeof(password));
        return 0;
    }
    bool disable = strcmp(verb, "disable") == 0, enable = strcmp(verb, "enable") == 0;
    bool passwd = strcmp(verb, "password") == 0;
    if (!disable && !enable && !passwd)
        return -1;
    if (cfg->id <= 0) {
        fprintf(stderr, "iaso centre user %s: --id is required\n", verb);
        return 2;
    }
    char password[300] = "";
    bool generated = false;
    if (passwd && get_password(cfg, password, sizeof(password), &generated) != 0)
        return 1;
    rc = store_begin(ad->a.db, true, &ad->a.eb);
    if (rc == 0)
        rc = passwd ? accounts_user_set_password(&ad->a, cfg->id, password)
                    : accounts_user_set_disabled(&ad->a, cfg->id, disable);
    if (admin_finish(ad, rc, verb) != 0) {
        sodium_memzero(password, sizeof(password));
        return 1;
    }
    if (generated)
        printf("password: %s   (shown once)\n", password);
    else
        printf("user %lld: %s\n", (long long)cfg->id,
               passwd    ? "password changed"
               : disable ? "disabled"
                         : "enabled");
    sodium_memzero(password, sizeof(password));
    return 0;
}

static int
cmd_token(struct centre_cli *cfg, const char *verb, struct admin *ad)
{
    int rc;
    if (strcmp(verb, "list") == 0) {
        struct store_val p[] = {store_int(cfg->user), store_int(cfg->user)};
        return admin_list(ad, "id\tuser_id\tkind\tname\tprefix\tscopes\texpires_at\trevoked_at",
                          "SELECT id, user_id, kind, name, prefix, scopes, expires_at, revoked_at"
                          " FROM tokens WHERE (? = 0 OR user_id = ?) ORDER BY id",
                          p, 2);
    }
    if (strcmp(verb, "revoke") == 0) {
        if (cfg->id <= 0) {
            fprintf(stderr, "iaso centre token revoke: --id is required\n");
            return 2;
        }
        rc = store_begin(ad->a.db, true, &ad->a.eb);
        if (rc == 0)
            rc = accounts_token_revoke(&ad->a, cfg->id);
        if (admin_finish(ad, rc, "token revoke") != 0)
            return 1;
        printf("token %lld: revoked\n", (long long)cfg->id);
        return 0;
    }
    if (strcmp(verb, "create") != 0)
        return -1;
    if (cfg->user <= 0) {
        fprintf(stderr, "iaso centre token create: --user is required\n");
        return 2;
    }
    if ((rc = need(cfg->name, "name", "token create")))
        return rc;
    unsigned scopes;
    if (auth_scopes_parse(cfg->scopes, &scopes) != 0) {
        fprintf(stderr, "iaso centre token create: --scopes must list read, write or admin\n");
        return 2;
    }
    char token[AUTH_TOKEN_LEN + 1];
    int64_t id = 0;
    int64_t expires = cfg->expires > 0 ? ad->a.now + cfg->expires / 1000 : 0;
    rc = store_begin(ad->a.db, true, &ad->a.eb);
    if (rc == 0)
        rc = accounts_token_create(&ad->a, cfg->user, cfg->kind ? cfg->kind : "api", cfg->name,
                                   scopes, expires, token, &id);
    if (admin_finish(ad, rc, "token create") != 0)
        return 1;
    printf("token %lld for user %lld (%s): %s\n", (long long)id, (long long)cfg->user, cfg->scopes,
           token);
    sodium_memzero(token, sizeof(token));
    return 0;
}

int
cmd_centre(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0 ||
        strcmp(argv[2], "help") == 0) {
        fputs(centre_usage, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    const char *cmd = argv[2];
    if (strcmp(cmd, "serve") == 0)
        return serve(argc, argv);

    bool has_verb =
        strcmp(cmd, "org") == 0 || strcmp(cmd, "user") == 0 || strcmp(cmd, "token") == 0;
    if (!has_verb && strcmp(cmd, "init") != 0 && strcmp(cmd, "audit") != 0) {
        fprintf(stderr, "iaso centre: unknown command '%s'\n\n%s", cmd, centre_usage);
        return 2;
    }
    if (has_verb && (argc < 4 || argv[3][0] == '-')) {
        fprintf(stderr, "iaso centre %s: say what to do (see `iaso centre init --help`)\n", cmd);
        return 2;
    }
    const char *verb = has_verb ? argv[3] : "";
    struct centre_cli cfg;
    struct errbuf eb = {{0}};
    int first = 0;
    if (opt_defaults(admin_options, N_ADMIN, &cfg, &eb) != 0 ||
        opt_parse(admin_options, N_ADMIN, &cfg, argc, argv, has_verb ? 4 : 3, &first, &eb) != 0) {
        fprintf(stderr, "iaso centre %s: %s\n(see `iaso centre init --help`)\n", cmd, eb.msg);
        return 2;
    }
    if (cfg.help) {
        struct buf b;
        buf_init(&b, 1 << 20);
        buf_append_str(&b, init_usage);
        opt_help_text(admin_options, N_ADMIN, &b);
        fwrite(b.ptr, 1, b.len, stdout);
        buf_release(&b);
        return 0;
    }
    if (first < argc) {
        fprintf(stderr, "iaso centre %s: unexpected argument '%s'\n", cmd, argv[first]);
        return 2;
    }
    if (strcmp(cmd, "init") == 0)
        return cmd_init(&cfg);
    struct admin ad;
    if (admin_open(&ad, cfg.db) != 0)
        return 1;
    int rc;
    if (strcmp(cmd, "org") == 0)
        rc = cmd_org(&cfg, verb, &ad);
    else if (strcmp(cmd, "user") == 0)
        rc = cmd_user(&cfg, verb, &ad);
    else if (strcmp(cmd, "token") == 0)
        rc = cmd_token(&cfg, verb, &ad);
    else {
        struct store_val p[] = {store_int(cfg.limit)};
        rc = admin_list(&ad, "id\tat\tuser_id\torg_id\tpeer\taction\tobject\tobject_id\tdetail",
                        "SELECT id, at, user_id, org_id, peer, action, object_type, object_id,"
                        " detail FROM audit ORDER BY id DESC LIMIT ?",
                        p, 1);
    }
    if (rc < 0) {
        fprintf(stderr, "iaso centre %s: unknown action '%s' (see `iaso centre init --help`)\n",
                cmd, verb);
        rc = 2;
    }
    admin_close(&ad);
    return rc;
}
