// SPDX-License-Identifier: Apache-2.0
// An open-loop HTTP/1.1 load generator for the centre's API, in the manner of wrk2: requests
// are due at a fixed rate whatever the server does, and each request's latency runs from the
// moment it was DUE to the last byte of its response. A server that falls behind therefore
// shows its queue in the percentiles instead of slowing the generator down (no coordinated
// omission). `--rate 0` is the closed loop instead: every connection sends its next request as
// soon as the last one is answered, for throughput (creating incidents in bulk).
//
//   iaso-bench-centre-load --url http://127.0.0.1:8080 --rate 1000 --duration 20
//       --header 'Authorization: Bearer X' --path '/api/v1/incidents/{i}' --id-range 1:100000
//
// Keep-alive connections, non-blocking sockets and edge-triggered epoll on one or a few
// threads; one request in flight per connection (no pipelining). Due requests that find no idle
// connection wait in line and the wait counts. Responses are parsed properly (status line,
// Content-Length, chunked, or until close) with every line and header section capped.
// Latencies go into a log-bucketed histogram (microseconds, within 0.8%, fixed 30 KiB). Beside
// them: how long due requests waited for a free connection (wait), and how late this loop itself
// sent a request that was due on a free connection (late): on a busy machine the client is
// delayed too, and that shows there rather than passing for server time. Prints one line per
// run, or one JSON object with --json. Exit status: 0 done; 1 bad usage; 2 the
// server was unreachable or stopped answering (the run was cut short); 3 the run finished but
// some requests failed or timed out.
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/jsonw.h"
#include "base/opt.h"
#include "base/parse.h"

#define LOAD_THREADS_MAX 8       /* the machine the centre runs on has few cores; so does this */
#define LOAD_CONNS_MAX 10000     /* far more than a fixed-rate run needs; caps memory */
#define LOAD_HEADERS_MAX 32      /* --header options */
#define LOAD_BODY_MAX (16 << 20) /* --body-file; the centre's default --body-max */
#define LOAD_ID_MAX_LEN 24       /* "{i}" as decimal digits of an int64 */
#define RESP_LINE_MAX 8192       /* one status, header or chunk-size line */
#define RESP_HEAD_MAX 65536      /* a whole header section (and a chunked trailer) */
#define RESP_SNIPPET_MAX 240     /* body bytes kept to show the first failed response */
#define READ_LEN 65536           /* bytes read from a socket at a time */
#define EVENTS_MAX 256           /* epoll events handled per wake-up */
#define TICK_NS 10000000LL       /* longest sleep: stop flags and timeouts are checked this often */
#define RETRY_NS 50000000LL      /* wait before reconnecting after a failed connect */
#define ABORT_NS 2000000000LL    /* nothing answered for this long, and failures: server gone */
#define NS 1000000000LL

/* ---- The histogram ------------------------------------------------------------------------- */

/* Values below 2 * HIST_SUB are exact; above, each power of two is cut into HIST_SUB buckets, so
 * a value is known within 1 / HIST_SUB (0.8%). Values from 2^HIST_MAG_MAX us (19 hours) on land
 * in the last bucket; the exact maximum is kept apart. */
#define HIST_SUB_BITS 7
#define HIST_SUB ((size_t)1 << HIST_SUB_BITS)
#define HIST_MAG_MAX 36
#define HIST_N (2 * HIST_SUB + (HIST_MAG_MAX - HIST_SUB_BITS - 1) * HIST_SUB)

struct hist {
    uint64_t counts[HIST_N];
    uint64_t n;
    uint64_t sum_us;
    uint64_t max_us;
};

static size_t
hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (size_t)v;
    if (v >> HIST_MAG_MAX)
        return HIST_N - 1;
    unsigned mag = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS + 1 */
    unsigned shift = mag - HIST_SUB_BITS;
    return 2 * HIST_SUB + (size_t)(mag - HIST_SUB_BITS - 1) * HIST_SUB +
           (size_t)((v >> shift) - HIST_SUB);
}

/* The highest value that lands in bucket i. */
static uint64_t
hist_upper(size_t i)
{
    if (i < 2 * HIST_SUB)
        return i;
    size_t k = i - 2 * HIST_SUB;
    unsigned shift = (unsigned)(k / HIST_SUB) + 1;
    uint64_t top = k % HIST_SUB + HIST_SUB;
    return ((top + 1) << shift) - 1;
}

static void
hist_record(struct hist *h, uint64_t v_us)
{
    h->counts[hist_index(v_us)]++;
    h->n++;
    h->sum_us += v_us;
    if (v_us > h->max_us)
        h->max_us = v_us;
}

static void
hist_merge(struct hist *into, const struct hist *from)
{
    for (size_t i = 0; i < HIST_N; i++)
        into->counts[i] += from->counts[i];
    into->n += from->n;
    into->sum_us += from->sum_us;
    if (from->max_us > into->max_us)
        into->max_us = from->max_us;
}

/* The value at percentile p (0..100) in microseconds: the bucket's upper bound, never more than
 * the maximum seen. 0 for an empty histogram. */
static uint64_t
hist_percentile(const struct hist *h, double p)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_N; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = hist_upper(i);
            return v < h->max_us ? v : h->max_us;
        }
    }
    return h->max_us;
}

/* ---- The response parser ------------------------------------------------------------------- */

enum rp_state {
    RP_STATUS,     /* the status line */
    RP_HEADER,     /* header lines until the empty one */
    RP_BODY_LEN,   /* Content-Length bytes */
    RP_BODY_EOF,   /* no length, not chunked: everything until the server closes */
    RP_CHUNK_SIZE, /* a chunk-size line */
    RP_CHUNK_DATA, /* the chunk's bytes */
    RP_CHUNK_END,  /* the CRLF after a chunk */
    RP_TRAILER,    /* trailer lines after the last chunk, until the empty one */
    RP_DONE,
};

/* One response, fed in pieces as they arrive. It keeps no body, only its first bytes. */
struct resp_parser {
    enum rp_state state;
    int status;
    bool is_chunked;
    bool has_len;
    bool is_close; /* the server said Connection: close */
    uint64_t remaining;
    uint64_t body_len;
    size_t head_len; /* bytes of the current header section or trailer */
    size_t line_len;
    char line[RESP_LINE_MAX];
    size_t snippet_len;
    char snippet[RESP_SNIPPET_MAX];
    const char *why; /* static: what was wrong with a malformed response */
};

static void
rp_reset(struct resp_parser *p)
{
    p->state = RP_STATUS;
    p->status = 0;
    p->is_chunked = p->has_len = p->is_close = false;
    p->remaining = p->body_len = 0;
    p->head_len = p->line_len = p->snippet_len = 0;
    p->why = NULL;
}

static bool
ascii_case_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(s, prefix, n) == 0;
}

/* Does the comma-separated header value contain the token (case-insensitive)? */
static bool
has_token(const char *v, size_t len, const char *token)
{
    size_t n = strlen(token);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(v + i, token, n) == 0)
            return true;
    return false;
}

static int
rp_status_line(struct resp_parser *p, const char *s, size_t len)
{
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[8] != ' ')
        return IASO_E_FORMAT;
    int64_t code = 0;
    if (parse_i64(s + 9, 3, 100, 599, &code) != 0 || (len > 12 && s[12] != ' '))
        return IASO_E_FORMAT;
    p->status = (int)code;
    return 0;
}

static int
rp_header_line(struct resp_parser *p, const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    if (!colon || colon == s)
        return IASO_E_FORMAT;
    size_t name_len = (size_t)(colon - s);
    const char *v = colon + 1;
    size_t v_len = len - name_len - 1;
    while (v_len && (*v == ' ' || *v == '\t')) {
        v++;
        v_len--;
    }
    while (v_len && (v[v_len - 1] == ' ' || v[v_len - 1] == '\t'))
        v_len--;
    if (name_len == 14 && ascii_case_prefix(s, name_len, "content-length")) {
        int64_t n = 0;
        if (parse_i64(v, v_len, 0, INT64_MAX, &n) != 0)
            return IASO_E_FORMAT;
        if (p->has_len && (uint64_t)n != p->remaining)
            return IASO_E_FORMAT; /* two different lengths: the framing cannot be trusted */
        p->has_len = true;
        p->remaining = (uint64_t)n;
    } else if (name_len == 17 && ascii_case_prefix(s, name_len, "transfer-encoding")) {
        p->is_chunked = has_token(v, v_len, "chunked");
    } else if (name_len == 10 && ascii_case_prefix(s, name_len, "connection")) {
        if (has_token(v, v_len, "close"))
            p->is_close = true;
    }
    return 0;
}

static int
rp_chunk_size(struct resp_parser *p, const char *s, size_t len)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < len; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        if (v >> 40) /* a terabyte chunk: no server of ours sends one */
            return IASO_E_FORMAT;
        v = v << 4 | d;
    }
    if (i == 0 || (i < len && s[i] != ';' && s[i] != ' ' && s[i] != '\t'))
        return IASO_E_FORMAT;
    p->remaining = v;
    return 0;
}

/* The end of the header section: what follows depends on the status and the framing. */
static void
rp_head_done(struct resp_parser *p)
{
    if (p->status < 200) { /* 1xx: an interim response; the real one follows */
        p->state = RP_STATUS;
        p->has_len = p->is_chunked = p->is_close = false;
        p->remaining = 0;
        p->head_len = 0;
        return;
    }
    if (p->status == 204 || p->status == 304)
        p->state = RP_DONE;
    else if (p->is_chunked)
        p->state = RP_CHUNK_SIZE;
    else if (p->has_len)
        p->state = p->remaining ? RP_BODY_LEN : RP_DONE;
    else
        p->state = RP_BODY_EOF;
    p->head_len = 0;
}

static int
rp_line(struct resp_parser *p, const char *s, size_t len)
{
    switch (p->state) {
    case RP_STATUS:
        if (len == 0 && p->status == 0)
            return 0; /* tolerate a stray CRLF before the status line */
        p->state = RP_HEADER;
        return rp_status_line(p, s, len);
    case RP_HEADER:
        if (len == 0) {
            rp_head_done(p);
            return 0;
        }
        return rp_header_line(p, s, len);
    case RP_CHUNK_SIZE: {
        int rc = rp_chunk_size(p, s, len);
        if (rc == 0)
            p->state = p->remaining ? RP_CHUNK_DATA : RP_TRAILER;
        return rc;
    }
    case RP_CHUNK_END:
        if (len != 0)
            return IASO_E_FORMAT;
        p->state = RP_CHUNK_SIZE;
        return 0;
    case RP_TRAILER:
        if (len == 0)
            p->state = RP_DONE;
        return 0;
    default:
        return IASO_E_FORMAT;
    }
}

static void
rp_keep(struct resp_parser *p, const uint8_t *data, size_t n)
{
    size_t room = RESP_SNIPPET_MAX - p->snippet_len;
    size_t k = n < room ? n : room;
    memcpy(p->snippet + p->snippet_len, data, k);
    p->snippet_len += k;
    p->body_len += n;
}

/*
 * Feeds len bytes. Returns 1 when the response is complete (*consumed says how many bytes it
 * took; the rest belong to nobody), 0 when it needs more, or a negative code for a malformed
 * or oversized response.
 */
static int
rp_feed(struct resp_parser *p, const uint8_t *data, size_t len, size_t *consumed)
{
    size_t off = 0;
    while (off < len && p->state != RP_DONE) {
        if (p->state == RP_BODY_LEN || p->state == RP_CHUNK_DATA || p->state == RP_BODY_EOF) {
            size_t n = len - off;
            if (p->state != RP_BODY_EOF && n > p->remaining)
                n = (size_t)p->remaining;
            rp_keep(p, data + off, n);
            off += n;
            if (p->state == RP_BODY_EOF)
                continue;
            p->remaining -= n;
            if (p->remaining == 0)
                p->state = p->state == RP_BODY_LEN ? RP_DONE : RP_CHUNK_END;
            continue;
        }
        /* A line-based state: collect up to LF. Header and trailer lines also count against the
         * cap on a whole section; chunk-size lines only against the line cap. */
        const uint8_t *lf = memchr(data + off, '\n', len - off);
        size_t n = lf ? (size_t)(lf - (data + off)) : len - off;
        bool is_head = p->state == RP_STATUS || p->state == RP_HEADER || p->state == RP_TRAILER;
        if (p->line_len + n > RESP_LINE_MAX || (is_head && p->head_len + n + 1 > RESP_HEAD_MAX)) {
            p->why = "a line or the header section over the cap";
            return IASO_E_LIMIT;
        }
        memcpy(p->line + p->line_len, data + off, n);
        p->line_len += n;
        if (is_head)
            p->head_len += n + 1;
        off += n;
        if (!lf)
            break;
        off++; /* the LF */
        size_t l = p->line_len;
        if (l && p->line[l - 1] == '\r')
            l--;
        p->line_len = 0;
        enum rp_state was = p->state;
        int rc = rp_line(p, p->line, l);
        if (rc < 0) {
            p->why = was == RP_STATUS   ? "not an HTTP/1.x status line"
                     : was == RP_HEADER ? "a malformed header (Content-Length?)"
                                        : "malformed chunked framing";
            return rc;
        }
    }
    *consumed = off;
    return p->state == RP_DONE ? 1 : 0;
}

/* The server closed the connection: does that end the response well? */
static bool
rp_eof_completes(struct resp_parser *p)
{
    if (p->state != RP_BODY_EOF)
        return false;
    p->state = RP_DONE;
    return true;
}

/* ---- Options ------------------------------------------------------------------------------- */

struct load_opts {
    const char *url;
    int64_t rate;
    int64_t duration_ms;
    int64_t requests;
    int64_t connections;
    int64_t threads;
    struct opt_list headers;
    const char *method;
    const char *path;
    const char *id_range;
    const char *body_file;
    int64_t timeout_ms;
    int64_t seed;
    const char *label;
    bool json;
    bool help;
};

#define O(f) offsetof(struct load_opts, f)
static const struct opt_def load_options[] = {
    {"url", 0, OPT_STRING, "URL", 0, 0, NULL,
     "The server: http://HOST:PORT, optionally with a path used when --path is not given.", O(url)},
    {"rate", 0, OPT_INT, "R", 0, 10000000, "0",
     "Requests per second, due at fixed intervals whatever the server does (open loop). 0: "
     "as fast as the server answers, each connection sending when its last request is answered "
     "(closed loop).",
     O(rate)},
    {"duration", 0, OPT_DURATION, "TIME", 0, 86400000, "10s",
     "How long requests are sent (30s, 2m; a plain number is seconds). 0: until --requests "
     "are done.",
     O(duration_ms)},
    {"requests", 0, OPT_INT, "N", 0, INT64_MAX, "0",
     "Stop after N requests, whichever of --duration and --requests comes first. 0: no limit.",
     O(requests)},
    {"connections", 'c', OPT_INT, "N", 1, LOAD_CONNS_MAX, "16",
     "Keep-alive connections, one request in flight on each.", O(connections)},
    {"threads", 't', OPT_INT, "N", 1, LOAD_THREADS_MAX, "1",
     "Threads; the connections and the rate are split between them.", O(threads)},
    {"header", 'H', OPT_LIST, "'NAME: VALUE'", 0, 0, NULL,
     "A request header, e.g. 'Authorization: Bearer X'. Repeatable.", O(headers)},
    {"method", 'm', OPT_STRING, "METHOD", 0, 0, "GET", "GET, POST, PUT, PATCH or DELETE.",
     O(method)},
    {"path", 'p', OPT_STRING, "PATH", 0, 0, NULL,
     "The request target. Each {i} is replaced by a request counter (1, 2, 3, ... across all "
     "threads) or, with --id-range, by an id drawn uniformly from the range.",
     O(path)},
    {"id-range", 0, OPT_STRING, "LO:HI", 0, 0, NULL,
     "Draw each request's {i} uniformly from LO..HI (a fixed-seed PRNG: see --seed).", O(id_range)},
    {"body-file", 0, OPT_STRING, "FILE", 0, 0, NULL,
     "The request body (JSON, sent as application/json unless a Content-Type header is "
     "given); each {i} in it is replaced like the path's, with the same value.",
     O(body_file)},
    {"timeout", 0, OPT_DURATION, "TIME", 1, 3600000, "10s",
     "A request not answered this long after it was sent is counted as a timeout and its "
     "connection closed.",
     O(timeout_ms)},
    {"seed", 0, OPT_INT, "N", 0, INT64_MAX, "1", "Seed for --id-range.", O(seed)},
    {"label", 0, OPT_STRING, "TEXT", 0, 0, NULL, "A name for the run, shown in the output.",
     O(label)},
    {"json", 0, OPT_FLAG, NULL, 0, 0, NULL, "Print one JSON object instead of the line.", O(json)},
    {"help", 'h', OPT_FLAG, NULL, 0, 0, NULL, "Show this help.", O(help)},
};
#undef O
#define N_LOAD_OPTIONS (sizeof(load_options) / sizeof(load_options[0]))

/* ---- The run: what every thread shares ----------------------------------------------------- */

enum fail_kind { FAIL_CONNECT, FAIL_IO, FAIL_PROTO, FAIL_TIMEOUT };

struct run {
    const struct load_opts *o; /* borrowed */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char authority[300]; /* host[:port] as in the URL, for Host: */
    const char *path;    /* borrowed: from --path or the URL */
    struct buf head;     /* owned: the header lines every request carries, after the request line */
    struct buf body;     /* owned: the body template (from --body-file) */
    bool has_body;
    bool is_id_range;
    int64_t id_lo, id_hi;
    int64_t timeout_ns;
    int64_t t0_ns;                  /* when the first request is due */
    int64_t end_ns;                 /* when no more are due; 0 for none (--requests alone) */
    atomic_uint_fast64_t next_seq;  /* {i} without --id-range */
    atomic_uint_fast64_t n_claimed; /* requests started, against --requests */
    atomic_bool is_aborted;         /* one thread found the server gone: all stop */
    atomic_uint n_ready;            /* threads done connecting; then main sets t0 ... */
    atomic_bool is_go;              /* ... and lets them go */
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
    got_signal = sig;
}

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

/* ---- Connections and threads --------------------------------------------------------------- */

enum conn_state { CONN_CLOSED, CONN_CONNECTING, CONN_IDLE, CONN_BUSY };

struct conn {
    int fd; /* owned; -1 when closed */
    enum conn_state state;
    int64_t sched_ns;    /* when the request in flight was due: its latency starts here */
    int64_t deadline_ns; /* of the connect or the request in flight */
    int64_t retry_ns;    /* earliest reconnect when closed */
    int64_t idle_ns;     /* when it last became idle */
    struct buf out;      /* owned: the request being written */
    size_t out_off;
    struct resp_parser rp;
};

struct tally {
    uint64_t n_sent;
    uint64_t n_done; /* responses, whatever their status */
    uint64_t by_status[600];
    uint64_t n_fail[4]; /* enum fail_kind; FAIL_CONNECT counts connects, the rest requests */
    uint64_t n_unsent;  /* due before the end, never sent: the rate was not kept up */
    uint64_t bytes_out, bytes_in;
};

struct worker {
    struct run *run; /* borrowed */
    unsigned idx, n_workers;
    int epfd;
    struct conn *conns; /* owned, n_conns */
    size_t n_conns;
    size_t *idle; /* owned: indexes of idle connections, a stack */
    size_t n_idle;
    size_t n_busy;
    size_t n_closed;
    uint64_t rng;
    uint64_t n_slot;    /* this thread's next slot: due at t0 + (idx + n_slot * n_workers) / rate */
    int64_t last_ok_ns; /* last response, for noticing a server that is gone */
    uint64_t n_fail_since_ok;
    int last_errno;
    int64_t last_done_ns;
    struct hist lat;  /* due -> last byte, us */
    struct hist wait; /* due -> sent: time spent in line, us */
    struct hist late; /* sent -> max(due, a connection free): the generator's own delay, us */
    struct tally t;
    struct buf scratch; /* owned: the body with {i} substituted */
    bool has_first_error;
    int first_error_status;
    char first_error[RESP_SNIPPET_MAX];
    size_t first_error_len;
    const char *first_malformed; /* static: why the first malformed response was */
    uint8_t rbuf[READ_LEN];
};

static uint64_t
splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi], without modulo bias. */
static int64_t
rng_range(uint64_t *s, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (span == 0) /* the whole int64 range */
        return (int64_t)splitmix64(s);
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    uint64_t r;
    do
        r = splitmix64(s);
    while (r >= limit);
    return (int64_t)((uint64_t)lo + r % span);
}

/* Appends tmpl with each "{i}" replaced by id. */
static int
append_subst(struct buf *b, const char *tmpl, size_t len, const char *id, size_t id_len)
{
    int rc = 0;
    while (rc == 0 && len) {
        const char *hit = memmem(tmpl, len, "{i}", 3);
        size_t n = hit ? (size_t)(hit - tmpl) : len;
        rc = buf_append(b, tmpl, n);
        if (rc == 0 && hit)
            rc = buf_append(b, id, id_len);
        n += hit ? 3 : 0;
        tmpl += n;
        len -= n;
    }
    return rc;
}

static int
build_request(struct worker *w, struct conn *c)
{
    struct run *r = w->run;
    char id[LOAD_ID_MAX_LEN];
    int64_t v = r->is_id_range ? rng_range(&w->rng, r->id_lo, r->id_hi)
                               : (int64_t)(atomic_fetch_add(&r->next_seq, 1) + 1);
    int id_len = snprintf(id, sizeof(id), "%" PRId64, v);
    buf_reset(&c->out);
    c->out_off = 0;
    int rc = buf_append_str(&c->out, r->o->method);
    if (rc == 0)
        rc = buf_append_char(&c->out, ' ');
    if (rc == 0)
        rc = append_subst(&c->out, r->path, strlen(r->path), id, (size_t)id_len);
    if (rc == 0)
        rc = buf_append_str(&c->out, " HTTP/1.1\r\n");
    if (rc == 0)
        rc = buf_append(&c->out, r->head.ptr, r->head.len);
    if (rc == 0 && r->has_body) {
        buf_reset(&w->scratch);
        rc = append_subst(&w->scratch, (const char *)r->body.ptr, r->body.len, id, (size_t)id_len);
        if (rc == 0)
            rc = buf_printf(&c->out, "Content-Length: %zu\r\n\r\n", w->scratch.len);
        if (rc == 0)
            rc = buf_append(&c->out, w->scratch.ptr, w->scratch.len);
    } else if (rc == 0) {
        rc = buf_append(&c->out, "\r\n", 2);
    }
    return rc;
}

static void
idle_push(struct worker *w, struct conn *c, int64_t now)
{
    c->state = CONN_IDLE;
    c->idle_ns = now;
    w->idle[w->n_idle++] = (size_t)(c - w->conns);
}

static void
idle_remove(struct worker *w, struct conn *c)
{
    size_t k = (size_t)(c - w->conns);
    for (size_t i = 0; i < w->n_idle; i++) {
        if (w->idle[i] == k) {
            w->idle[i] = w->idle[--w->n_idle];
            return;
        }
    }
}

static void
conn_close(struct worker *w, struct conn *c, int64_t retry_ns)
{
    if (c->state == CONN_IDLE)
        idle_remove(w, c);
    else if (c->state == CONN_BUSY)
        w->n_busy--;
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    if (c->state != CONN_CLOSED)
        w->n_closed++;
    c->state = CONN_CLOSED;
    c->retry_ns = retry_ns;
}

/* A connect or a request failed: count it, close the connection. */
static void
conn_fail(struct worker *w, struct conn *c, enum fail_kind kind, int err, int64_t now)
{
    w->t.n_fail[kind]++;
    w->n_fail_since_ok++;
    if (err)
        w->last_errno = err;
    conn_close(w, c, kind == FAIL_CONNECT ? now + RETRY_NS : now);
}

static void
conn_open(struct worker *w, struct conn *c, int64_t now)
{
    struct run *r = w->run;
    int fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        w->t.n_fail[FAIL_CONNECT]++;
        w->n_fail_since_ok++;
        w->last_errno = errno;
        c->retry_ns = now + RETRY_NS;
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    w->n_closed--;
    c->fd = fd;
    c->state = CONN_CONNECTING;
    c->deadline_ns = now + r->timeout_ns;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        conn_fail(w, c, FAIL_CONNECT, errno, now);
        return;
    }
    if (connect(fd, (const struct sockaddr *)&r->addr, r->addr_len) == 0)
        idle_push(w, c, now);
    else if (errno != EINPROGRESS)
        conn_fail(w, c, FAIL_CONNECT, errno, now);
}

/* Writes what is left of the request; on EAGAIN the EPOLLOUT edge brings us back. */
static void
conn_flush(struct worker *w, struct conn *c, int64_t now)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.ptr + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                conn_fail(w, c, FAIL_IO, errno, now);
            return;
        }
        c->out_off += (size_t)n;
        w->t.bytes_out += (uint64_t)n;
    }
}

static int
conn_send(struct worker *w, struct conn *c, int64_t sched_ns, int64_t now)
{
    int rc = build_request(w, c);
    if (rc < 0)
        return rc;
    idle_remove(w, c);
    c->state = CONN_BUSY;
    w->n_busy++;
    c->sched_ns = sched_ns;
    c->deadline_ns = now + w->run->timeout_ns;
    rp_reset(&c->rp);
    w->t.n_sent++;
    hist_record(&w->wait, (uint64_t)(now - sched_ns) / 1000);
    /* Since the request was due and a connection was free, only this loop was in the way. */
    int64_t could_ns = sched_ns > c->idle_ns ? sched_ns : c->idle_ns;
    hist_record(&w->late, now > could_ns ? (uint64_t)(now - could_ns) / 1000 : 0);
    conn_flush(w, c, now);
    return 0;
}

/* A whole response: record it, and keep the connection for the next request if we may. */
static void
conn_done(struct worker *w, struct conn *c, int64_t now, bool is_reusable)
{
    struct resp_parser *p = &c->rp;
    hist_record(&w->lat, (uint64_t)(now - c->sched_ns) / 1000);
    w->t.n_done++;
    w->t.by_status[p->status]++;
    w->last_ok_ns = now;
    w->last_done_ns = now;
    w->n_fail_since_ok = 0;
    if (p->status >= 400 && !w->has_first_error) {
        w->has_first_error = true;
        w->first_error_status = p->status;
        memcpy(w->first_error, p->snippet, p->snippet_len);
        w->first_error_len = p->snippet_len;
    }
    /* A response that came before the whole request was written leaves the connection in an
     * unknown place; so does Connection: close. */
    if (!is_reusable || p->is_close || c->out_off < c->out.len) {
        conn_close(w, c, now);
        return;
    }
    w->n_busy--;
    idle_push(w, c, now);
}

static void
conn_read(struct worker *w, struct conn *c, int64_t now)
{
    for (;;) {
        ssize_t n = read(c->fd, w->rbuf, sizeof(w->rbuf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (c->state == CONN_BUSY)
                conn_fail(w, c, FAIL_IO, errno, now);
            else
                conn_close(w, c, now);
            return;
        }
        if (n == 0) {
            if (c->state == CONN_BUSY && rp_eof_completes(&c->rp))
                conn_done(w, c, now, false);
            else if (c->state == CONN_BUSY)
                conn_fail(w, c, FAIL_IO, ECONNRESET, now);
            else
                conn_close(w, c, now); /* an idle keep-alive connection ended by the server */
            return;
        }
        w->t.bytes_in += (uint64_t)n;
        if (c->state != CONN_BUSY) { /* bytes nobody asked for (a 408 before closing, say) */
            conn_close(w, c, now);
            return;
        }
        size_t used = 0;
        int rc = rp_feed(&c->rp, w->rbuf, (size_t)n, &used);
        if (rc < 0) {
            if (!w->first_malformed)
                w->first_malformed = c->rp.why ? c->rp.why : "malformed";
            conn_fail(w, c, FAIL_PROTO, 0, now);
            return;
        }
        if (rc == 1) {
            /* Bytes after the response: the server answered something not asked; the response
             * counts, the connection does not go on. */
            conn_done(w, c, now, used == (size_t)n);
            if (c->state != CONN_IDLE)
                return;
        }
    }
}

static void
on_event(struct worker *w, struct conn *c, uint32_t ev, int64_t now)
{
    if (c->state == CONN_CLOSED)
        return;
    if (c->state == CONN_CONNECTING) {
        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == 0 && (ev & (EPOLLERR | EPOLLHUP)))
            err = ECONNREFUSED;
        if (err)
            conn_fail(w, c, FAIL_CONNECT, err, now);
        else
            idle_push(w, c, now);
        return;
    }
    if ((ev & EPOLLOUT) && c->state == CONN_BUSY)
        conn_flush(w, c, now);
    if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        conn_read(w, c, now);
}

/* Claims one request against --requests. */
static bool
claim(struct run *r)
{
    if (r->o->requests == 0)
        return true;
    return atomic_fetch_add(&r->n_claimed, 1) < (uint64_t)r->o->requests;
}

static int64_t
slot_due(const struct worker *w, uint64_t slot)
{
    double k = (double)w->idx + (double)slot * (double)w->n_workers;
    return w->run->t0_ns + (int64_t)(k * 1e9 / (double)w->run->o->rate);
}

/* Sleeps in epoll for at most timeout_ns, then handles what came. */
static void
poll_once(struct worker *w, int64_t timeout_ns)
{
    struct epoll_event evs[EVENTS_MAX];
    if (timeout_ns < 0)
        timeout_ns = 0;
    struct timespec ts = {.tv_sec = (time_t)(timeout_ns / NS), .tv_nsec = (long)(timeout_ns % NS)};
    int n = epoll_pwait2(w->epfd, evs, EVENTS_MAX, &ts, NULL);
    if (n < 0 && errno == ENOSYS) /* kernels before 5.11: millisecond sleeps, rounded up */
        n = epoll_wait(w->epfd, evs, EVENTS_MAX, (int)((timeout_ns + 999999) / 1000000));
    int64_t now = now_ns();
    for (int i = 0; i < n; i++)
        on_event(w, evs[i].data.ptr, evs[i].events, now);
}

static void
check_timeouts(struct worker *w, int64_t now)
{
    for (size_t i = 0; i < w->n_conns; i++) {
        struct conn *c = &w->conns[i];
        if (c->state == CONN_BUSY && now > c->deadline_ns)
            conn_fail(w, c, FAIL_TIMEOUT, ETIMEDOUT, now);
        else if (c->state == CONN_CONNECTING && now > c->deadline_ns)
            conn_fail(w, c, FAIL_CONNECT, ETIMEDOUT, now);
    }
}

static void
reopen_closed(struct worker *w, int64_t now)
{
    for (size_t i = 0; i < w->n_conns && w->n_closed; i++) {
        struct conn *c = &w->conns[i];
        if (c->state == CONN_CLOSED && now >= c->retry_ns)
            conn_open(w, c, now);
    }
}

/* Opens every connection and waits (up to the timeout) until each is up or has failed. */
static void
worker_connect(struct worker *w)
{
    int64_t now = now_ns();
    int64_t until = now + w->run->timeout_ns;
    for (size_t i = 0; i < w->n_conns; i++)
        conn_open(w, &w->conns[i], now);
    while (now < until && w->n_idle + w->n_closed < w->n_conns && !got_signal) {
        poll_once(w, TICK_NS);
        now = now_ns();
        check_timeouts(w, now);
    }
}

/* The main loop of one thread, from t0 until its requests are answered or given up. */
static void
worker_loop(struct worker *w)
{
    struct run *r = w->run;
    const bool is_open = r->o->rate > 0;
    bool is_stopping = false;
    int64_t drain_until = 0;
    int64_t next_scan = r->t0_ns + TICK_NS;
    w->last_ok_ns = r->t0_ns;
    w->last_done_ns = r->t0_ns;
    int64_t due = is_open ? slot_due(w, 0) : 0;
    for (;;) {
        int64_t now = now_ns();
        if (!is_stopping && (got_signal || (r->end_ns && now >= r->end_ns))) {
            is_stopping = true;
            /* On Ctrl-C, a second for what is in flight rather than the whole timeout. */
            drain_until = now + (got_signal && r->timeout_ns > NS ? NS : r->timeout_ns);
            /* Requests due before the end that never found a connection. */
            int64_t end = r->end_ns && r->end_ns < now ? r->end_ns : now;
            while (is_open && due < end && claim(r)) {
                w->t.n_unsent++;
                due = slot_due(w, ++w->n_slot);
            }
        }
        if (atomic_load(&r->is_aborted))
            return;
        if (!is_stopping && is_open) {
            while (due <= now && w->n_idle) {
                if (!claim(r)) {
                    is_stopping = true;
                    drain_until = now + r->timeout_ns;
                    break;
                }
                struct conn *c = &w->conns[w->idle[w->n_idle - 1]];
                if (conn_send(w, c, due, now) < 0)
                    conn_fail(w, c, FAIL_PROTO, 0, now);
                due = slot_due(w, ++w->n_slot);
            }
        } else if (!is_stopping) {
            while (w->n_idle) {
                if (!claim(r)) {
                    is_stopping = true;
                    drain_until = now + r->timeout_ns;
                    break;
                }
                struct conn *c = &w->conns[w->idle[w->n_idle - 1]];
                if (conn_send(w, c, now, now) < 0)
                    conn_fail(w, c, FAIL_PROTO, 0, now);
            }
        }
        if (is_stopping && (w->n_busy == 0 || now > drain_until))
            return;
        if (now >= next_scan) {
            check_timeouts(w, now);
            next_scan = now + TICK_NS;
        }
        if (!is_stopping)
            reopen_closed(w, now);
        if (w->n_fail_since_ok && now - w->last_ok_ns > ABORT_NS) {
            atomic_store(&r->is_aborted, true);
            return;
        }
        int64_t wake = now + TICK_NS;
        if (!is_stopping && is_open && due > now && due < wake && w->n_idle)
            wake = due;
        if (!is_stopping && r->end_ns && r->end_ns < wake)
            wake = r->end_ns;
        poll_once(w, wake - now);
    }
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    const struct timespec nap = {0, 200000};
    worker_connect(w);
    atomic_fetch_add(&r->n_ready, 1);
    while (!atomic_load(&r->is_go))
        nanosleep(&nap, NULL);
    if (!atomic_load(&r->is_aborted))
        worker_loop(w);
    return NULL;
}

static int
worker_init(struct worker *w, struct run *r, unsigned idx, unsigned n_workers, size_t n_conns)
{
    memset(w, 0, offsetof(struct worker, rbuf));
    w->run = r;
    w->idx = idx;
    w->n_workers = n_workers;
    w->n_conns = n_conns;
    w->n_closed = n_conns;
    w->rng = (uint64_t)r->o->seed * 0x9e3779b97f4a7c15ULL + idx;
    buf_init(&w->scratch, LOAD_BODY_MAX + 1024);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->conns = calloc(n_conns, sizeof(*w->conns));
    w->idle = calloc(n_conns, sizeof(*w->idle));
    if (w->epfd < 0 || !w->conns || !w->idle)
        return IASO_E_NOMEM;
    for (size_t i = 0; i < n_conns; i++) {
        w->conns[i].fd = -1;
        buf_init(&w->conns[i].out, LOAD_BODY_MAX + RESP_HEAD_MAX);
    }
    return 0;
}

static void
worker_release(struct worker *w)
{
    for (size_t i = 0; w->conns && i < w->n_conns; i++) {
        if (w->conns[i].fd >= 0)
            close(w->conns[i].fd);
        buf_release(&w->conns[i].out);
    }
    free(w->conns);
    free(w->idle);
    buf_release(&w->scratch);
    if (w->epfd >= 0)
        close(w->epfd);
}

/* ---- Setting up ---------------------------------------------------------------------------- */

/* http://HOST[:PORT][/PATH] -> address, Host: value and the path (borrowed from url). */
static int
parse_url(struct run *r, const char *url, const char **path, struct errbuf *eb)
{
    if (strncmp(url, "http://", 7) != 0)
        return err_set(eb, IASO_E_USAGE,
                       "--url %s: expected http://HOST:PORT (https is not supported)", url);
    const char *auth = url + 7;
    const char *slash = strchr(auth, '/');
    size_t auth_len = slash ? (size_t)(slash - auth) : strlen(auth);
    *path = slash ? slash : "/";
    if (auth_len == 0 || auth_len >= sizeof(r->authority))
        return err_set(eb, IASO_E_USAGE, "--url %s: no host, or a host too long", url);
    memcpy(r->authority, auth, auth_len);
    r->authority[auth_len] = 0;

    char host[300], port[8] = "80";
    const char *h = r->authority;
    size_t h_len;
    const char *colon;
    if (h[0] == '[') {
        const char *close_br = strchr(h, ']');
        if (!close_br)
            return err_set(eb, IASO_E_USAGE, "--url %s: unclosed [ in the host", url);
        h++;
        h_len = (size_t)(close_br - h);
        colon = close_br[1] == ':' ? close_br + 1 : NULL;
        if (!colon && close_br[1])
            return err_set(eb, IASO_E_USAGE, "--url %s: junk after the host", url);
    } else {
        colon = strrchr(h, ':');
        h_len = colon ? (size_t)(colon - h) : strlen(h);
    }
    if (colon) {
        int64_t p = 0;
        if (parse_i64(colon + 1, strlen(colon + 1), 1, 65535, &p) != 0)
            return err_set(eb, IASO_E_USAGE, "--url %s: the port must be 1 to 65535", url);
        snprintf(port, sizeof(port), "%" PRId64, p);
    }
    memcpy(host, h, h_len);
    host[h_len] = 0;

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int grc = getaddrinfo(host, port, &hints, &res);
    if (grc != 0)
        return err_set(eb, IASO_E_USAGE, "--url %s: cannot resolve %s: %s", url, host,
                       gai_strerror(grc));
    memcpy(&r->addr, res->ai_addr, res->ai_addrlen);
    r->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int
read_file(const char *path, struct buf *out, struct errbuf *eb)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(eb, -errno, "--body-file %s: %s", path, strerror(errno));
    int rc = 0;
    char chunk[8192];
    size_t n;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(out, chunk, n);
    if (rc == 0 && ferror(f))
        rc = err_set(eb, IASO_E_IO, "--body-file %s: read error", path);
    else if (rc < 0)
        rc = err_set(eb, rc, "--body-file %s: larger than %d MiB", path, LOAD_BODY_MAX >> 20);
    fclose(f);
    return rc;
}

static int
run_setup(struct run *r, const struct load_opts *o, struct errbuf *eb)
{
    r->o = o;
    buf_init(&r->head, RESP_HEAD_MAX);
    buf_init(&r->body, LOAD_BODY_MAX);
    r->timeout_ns = o->timeout_ms * 1000000;
    if (!o->url)
        return err_set(eb, IASO_E_USAGE, "--url is required (http://127.0.0.1:PORT)");
    const char *url_path = "/";
    int rc = parse_url(r, o->url, &url_path, eb);
    if (rc < 0)
        return rc;
    r->path = o->path ? o->path : url_path;
    if (r->path[0] != '/' || strpbrk(r->path, " \r\n"))
        return err_set(eb, IASO_E_USAGE, "--path %s: must start with / and hold no spaces",
                       r->path);
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    bool is_known = false;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        is_known |= strcmp(o->method, methods[i]) == 0;
    if (!is_known)
        return err_set(eb, IASO_E_USAGE, "--method %s: expected GET, POST, PUT, PATCH or DELETE",
                       o->method);
    if (o->duration_ms == 0 && o->requests == 0)
        return err_set(eb, IASO_E_USAGE, "--duration 0 needs --requests N: the run must end");
    if (o->connections < o->threads)
        return err_set(eb, IASO_E_USAGE, "--connections must be at least --threads");
    if (o->headers.n > LOAD_HEADERS_MAX)
        return err_set(eb, IASO_E_USAGE, "at most %d --header options", LOAD_HEADERS_MAX);
    if (o->id_range) {
        const char *colon = strchr(o->id_range, ':');
        if (!colon ||
            parse_i64(o->id_range, (size_t)(colon - o->id_range), INT64_MIN, INT64_MAX,
                      &r->id_lo) != 0 ||
            parse_i64(colon + 1, strlen(colon + 1), INT64_MIN, INT64_MAX, &r->id_hi) != 0 ||
            r->id_lo > r->id_hi)
            return err_set(eb, IASO_E_USAGE, "--id-range %s: expected LO:HI with LO <= HI",
                           o->id_range);
        r->is_id_range = true;
    }

    bool has_ctype = false;
    rc = buf_printf(&r->head, "Host: %s\r\nUser-Agent: iaso-bench-centre-load\r\n", r->authority);
    for (size_t i = 0; rc == 0 && i < o->headers.n; i++) {
        const char *h = o->headers.items[i];
        const char *colon = strchr(h, ':');
        if (!colon || colon == h || strpbrk(h, "\r\n"))
            return err_set(eb, IASO_E_USAGE, "--header %s: expected 'Name: value' on one line", h);
        if (ascii_case_prefix(h, (size_t)(colon - h), "content-type") && colon - h == 12)
            has_ctype = true;
        if (ascii_case_prefix(h, (size_t)(colon - h), "content-length") ||
            ascii_case_prefix(h, (size_t)(colon - h), "host"))
            return err_set(eb, IASO_E_USAGE, "--header %s: set by the generator itself", h);
        rc = buf_printf(&r->head, "%s\r\n", h);
    }
    if (o->body_file) {
        rc = rc == 0 ? read_file(o->body_file, &r->body, eb) : rc;
        if (rc < 0)
            return rc;
        r->has_body = true;
        if (!has_ctype)
            rc = buf_append_str(&r->head, "Content-Type: application/json\r\n");
    } else if (strcmp(o->method, "GET") != 0 && strcmp(o->method, "DELETE") != 0) {
        r->has_body = true; /* Content-Length: 0, which POST without a body needs */
    }
    if (rc < 0)
        return err_set(eb, rc, "the request headers are over %d bytes", RESP_HEAD_MAX);
    return 0;
}

/* ---- Output -------------------------------------------------------------------------------- */

static double
ms(uint64_t us)
{
    return (double)us / 1000.0;
}

static void
tally_merge(struct tally *into, const struct tally *from)
{
    into->n_sent += from->n_sent;
    into->n_done += from->n_done;
    for (size_t i = 0; i < 600; i++)
        into->by_status[i] += from->by_status[i];
    for (size_t i = 0; i < 4; i++)
        into->n_fail[i] += from->n_fail[i];
    into->n_unsent += from->n_unsent;
    into->bytes_out += from->bytes_out;
    into->bytes_in += from->bytes_in;
}

static uint64_t
status_class(const struct tally *t, int hundreds)
{
    uint64_t n = 0;
    for (int i = hundreds * 100; i < hundreds * 100 + 100; i++)
        n += t->by_status[i];
    return n;
}

static const double pcts[] = {50.0, 90.0, 99.0, 99.9};
static const char *const pct_names[] = {"p50", "p90", "p99", "p99_9"};

static void
print_line(const struct load_opts *o, const struct run *r, const struct tally *t,
           const struct hist *lat, const struct hist *wait, const struct hist *late,
           double elapsed_s)
{
    char what[400];
    snprintf(what, sizeof(what), "%s%s%s %s", o->label ? o->label : "", o->label ? ": " : "",
             o->method, r->path);
    printf("%s | ", what);
    if (o->rate)
        printf("rate %" PRId64 "/s achieved %.1f/s", o->rate, (double)t->n_done / elapsed_s);
    else
        printf("closed loop, %.1f/s", (double)t->n_done / elapsed_s);
    printf(" | %" PRIu64 " responses in %.2f s, %" PRId64 " conns | ms p50 %.2f p90 %.2f p99 %.2f "
           "p99.9 %.2f max %.2f | wait p99 %.2f late p99 %.2f",
           t->n_done, elapsed_s, o->connections, ms(hist_percentile(lat, 50)),
           ms(hist_percentile(lat, 90)), ms(hist_percentile(lat, 99)),
           ms(hist_percentile(lat, 99.9)), ms(lat->max_us), ms(hist_percentile(wait, 99)),
           ms(hist_percentile(late, 99)));
    printf(" | 2xx %" PRIu64 " 3xx %" PRIu64 " 4xx %" PRIu64 " 5xx %" PRIu64, status_class(t, 2),
           status_class(t, 3), status_class(t, 4), status_class(t, 5));
    for (int s = 300; s < 600; s++)
        if (t->by_status[s])
            printf(" (%d: %" PRIu64 ")", s, t->by_status[s]);
    printf(" errors %" PRIu64 " timeouts %" PRIu64 " connect-errors %" PRIu64 " unsent %" PRIu64
           "\n",
           t->n_fail[FAIL_IO] + t->n_fail[FAIL_PROTO], t->n_fail[FAIL_TIMEOUT],
           t->n_fail[FAIL_CONNECT], t->n_unsent);
}

static void
json_double(struct jsonw *j, double v)
{
    char s[64];
    int n = snprintf(s, sizeof(s), "%.3f", isfinite(v) ? v : 0.0);
    jsonw_raw(j, s, (size_t)n);
}

static int
print_json(const struct load_opts *o, const struct run *r, const struct tally *t,
           const struct hist *lat, const struct hist *wait, const struct hist *late,
           double elapsed_s, bool is_aborted)
{
    struct buf b;
    struct jsonw j;
    buf_init(&b, 1 << 20);
    jsonw_begin(&j, &b);
    jsonw_object_begin(&j);
    if (o->label) {
        jsonw_key(&j, "label");
        jsonw_str(&j, o->label);
    }
    jsonw_key(&j, "url");
    jsonw_str(&j, o->url);
    jsonw_key(&j, "method");
    jsonw_str(&j, o->method);
    jsonw_key(&j, "path");
    jsonw_str(&j, r->path);
    jsonw_key(&j, "rate");
    jsonw_i64(&j, o->rate);
    jsonw_key(&j, "connections");
    jsonw_i64(&j, o->connections);
    jsonw_key(&j, "threads");
    jsonw_i64(&j, o->threads);
    jsonw_key(&j, "elapsed_s");
    json_double(&j, elapsed_s);
    jsonw_key(&j, "sent");
    jsonw_u64(&j, t->n_sent);
    jsonw_key(&j, "responses");
    jsonw_u64(&j, t->n_done);
    jsonw_key(&j, "achieved_rps");
    json_double(&j, (double)t->n_done / elapsed_s);
    jsonw_key(&j, "latency_ms");
    jsonw_object_begin(&j);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        jsonw_key_str(&j, pct_names[i]);
        json_double(&j, ms(hist_percentile(lat, pcts[i])));
    }
    jsonw_key(&j, "max");
    json_double(&j, ms(lat->max_us));
    jsonw_key(&j, "mean");
    json_double(&j, lat->n ? ms(lat->sum_us) / (double)lat->n : 0.0);
    jsonw_object_end(&j);
    jsonw_key(&j, "wait_ms");
    jsonw_object_begin(&j);
    jsonw_key(&j, "p50");
    json_double(&j, ms(hist_percentile(wait, 50)));
    jsonw_key(&j, "p99");
    json_double(&j, ms(hist_percentile(wait, 99)));
    jsonw_key(&j, "max");
    json_double(&j, ms(wait->max_us));
    jsonw_object_end(&j);
    jsonw_key(&j, "late_ms");
    jsonw_object_begin(&j);
    jsonw_key(&j, "p99");
    json_double(&j, ms(hist_percentile(late, 99)));
    jsonw_key(&j, "max");
    json_double(&j, ms(late->max_us));
    jsonw_object_end(&j);
    jsonw_key(&j, "status");
    jsonw_object_begin(&j);
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int k = 1; k <= 5; k++) {
        jsonw_key_str(&j, classes[k - 1]);
        jsonw_u64(&j, status_class(t, k));
    }
    jsonw_object_end(&j);
    jsonw_key(&j, "codes");
    jsonw_object_begin(&j);
    for (int s = 100; s < 600; s++) {
        if (!t->by_status[s])
            continue;
        char k[8];
        snprintf(k, sizeof(k), "%d", s);
        jsonw_key_str(&j, k);
        jsonw_u64(&j, t->by_status[s]);
    }
    jsonw_object_end(&j);
    jsonw_key(&j, "errors");
    jsonw_u64(&j, t->n_fail[FAIL_IO] + t->n_fail[FAIL_PROTO]);
    jsonw_key(&j, "timeouts");
    jsonw_u64(&j, t->n_fail[FAIL_TIMEOUT]);
    jsonw_key(&j, "connect_errors");
    jsonw_u64(&j, t->n_fail[FAIL_CONNECT]);
    jsonw_key(&j, "unsent");
    jsonw_u64(&j, t->n_unsent);
    jsonw_key(&j, "bytes_out");
    jsonw_u64(&j, t->bytes_out);
    jsonw_key(&j, "bytes_in");
    jsonw_u64(&j, t->bytes_in);
    jsonw_key(&j, "aborted");
    jsonw_bool(&j, is_aborted);
    jsonw_object_end(&j);
    int rc = jsonw_end(&j);
    if (rc == 0) {
        fwrite(b.ptr, 1, b.len, stdout);
        putchar('\n');
    }
    buf_release(&b);
    return rc;
}

/* ---- main ---------------------------------------------------------------------------------- */

int
main(int argc, char **argv)
{
    struct load_opts o;
    struct errbuf eb = {{0}};
    struct run r;
    struct worker *ws = NULL;
    pthread_t tids[LOAD_THREADS_MAX];
    unsigned n_started = 0;
    int first = 0, status = 1;

    memset(&r, 0, sizeof(r));
    memset(&o, 0, sizeof(o));
    if (opt_defaults(load_options, N_LOAD_OPTIONS, &o, &eb) != 0 ||
        opt_parse(load_options, N_LOAD_OPTIONS, &o, argc, argv, 1, &first, &eb) != 0) {
        fprintf(stderr, "iaso-bench-centre-load: %s\n(see --help)\n", eb.msg);
        goto out;
    }
    if (o.help) {
        struct buf b;
        buf_init(&b, 0);
        if (opt_help_text(load_options, N_LOAD_OPTIONS, &b) == 0) {
            printf("usage: iaso-bench-centre-load --url http://HOST:PORT [options]\n\n"
                   "An open-loop HTTP/1.1 load generator; latency counts from each request's "
                   "due time.\n\n%s",
                   (const char *)b.ptr);
            status = 0;
        }
        buf_release(&b);
        goto out;
    }
    if (first < argc) {
        fprintf(stderr, "iaso-bench-centre-load: unexpected argument '%s'\n", argv[first]);
        goto out;
    }
    if (run_setup(&r, &o, &eb) < 0) {
        fprintf(stderr, "iaso-bench-centre-load: %s\n", eb.msg);
        goto out;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* wake on time: lateness counts as latency */

    unsigned n_workers = (unsigned)o.threads;
    ws = calloc(n_workers, sizeof(*ws));
    if (!ws) {
        fprintf(stderr, "iaso-bench-centre-load: out of memory\n");
        goto out;
    }
    for (unsigned i = 0; i < n_workers; i++)
        ws[i].epfd = -1;
    for (unsigned i = 0; i < n_workers; i++) {
        size_t share =
            (size_t)o.connections / n_workers + (i < (size_t)o.connections % n_workers ? 1 : 0);
        if (worker_init(&ws[i], &r, i, n_workers, share) < 0) {
            fprintf(stderr,
                    "iaso-bench-centre-load: out of memory or file descriptors for %zu "
                    "connections\n",
                    share);
            goto out;
        }
    }

    for (; n_started < n_workers; n_started++) {
        if (pthread_create(&tids[n_started], NULL, worker_main, &ws[n_started]) != 0) {
            fprintf(stderr, "iaso-bench-centre-load: cannot start a thread\n");
            atomic_store(&r.is_aborted, true);
            break;
        }
    }
    const struct timespec nap = {0, 1000000};
    while (atomic_load(&r.n_ready) < n_started)
        nanosleep(&nap, NULL);
    size_t n_up = 0;
    for (unsigned i = 0; i < n_started; i++)
        n_up += ws[i].n_idle;
    bool has_threads = n_started == n_workers;
    if (has_threads && n_up == 0) {
        int err = ws[0].last_errno ? ws[0].last_errno : ETIMEDOUT;
        fprintf(stderr, "iaso-bench-centre-load: %s: cannot connect: %s; is the server running?\n",
                o.url, strerror(err));
        atomic_store(&r.is_aborted, true);
    }
    r.t0_ns = now_ns() + 1000000; /* 1 ms for every thread to get to its first slot */
    r.end_ns = o.duration_ms ? r.t0_ns + o.duration_ms * 1000000 : 0;
    atomic_store(&r.is_go, true);
    for (unsigned i = 0; i < n_started; i++)
        pthread_join(tids[i], NULL);
    n_started = 0;
    if (!has_threads)
        goto out;

    struct tally t;
    struct hist lat, wait, late;
    memset(&t, 0, sizeof(t));
    memset(&lat, 0, sizeof(lat));
    memset(&wait, 0, sizeof(wait));
    memset(&late, 0, sizeof(late));
    int64_t last_done = r.t0_ns;
    int last_errno = 0;
    for (unsigned i = 0; i < n_workers; i++) {
        tally_merge(&t, &ws[i].t);
        hist_merge(&lat, &ws[i].lat);
        hist_merge(&wait, &ws[i].wait);
        hist_merge(&late, &ws[i].late);
        if (ws[i].last_done_ns > last_done)
            last_done = ws[i].last_done_ns;
        if (ws[i].last_errno)
            last_errno = ws[i].last_errno;
        /* What is still in flight when a thread gives up is a timeout. */
        for (size_t k = 0; k < ws[i].n_conns; k++)
            if (ws[i].conns[k].state == CONN_BUSY)
                t.n_fail[FAIL_TIMEOUT]++;
    }
    double elapsed_s = (double)(last_done - r.t0_ns) / 1e9;
    if (elapsed_s <= 0)
        elapsed_s = 1e-9;
    bool is_aborted = atomic_load(&r.is_aborted);

    for (unsigned i = 0; i < n_workers; i++) {
        if (ws[i].has_first_error) {
            fprintf(stderr, "iaso-bench-centre-load: first failed response: %d %.*s\n",
                    ws[i].first_error_status, (int)ws[i].first_error_len, ws[i].first_error);
            break;
        }
    }
    for (unsigned i = 0; i < n_workers; i++) {
        if (ws[i].first_malformed) {
            fprintf(stderr, "iaso-bench-centre-load: first malformed response: %s\n",
                    ws[i].first_malformed);
            break;
        }
    }
    if (is_aborted && n_up > 0)
        fprintf(stderr,
                "iaso-bench-centre-load: %s: no response for %lld s and requests or connects "
                "failing (last error: %s); the server is gone or stuck, run cut short\n",
                o.url, (long long)(ABORT_NS / NS), last_errno ? strerror(last_errno) : "none");
    if (o.json) {
        if (print_json(&o, &r, &t, &lat, &wait, &late, elapsed_s, is_aborted) < 0)
            fprintf(stderr, "iaso-bench-centre-load: the JSON output did not fit\n");
    } else {
        print_line(&o, &r, &t, &lat, &wait, &late, elapsed_s);
    }
    fflush(stdout);
    if (is_aborted)
        status = 2;
    else if (t.n_fail[FAIL_IO] + t.n_fail[FAIL_PROTO] + t.n_fail[FAIL_TIMEOUT] > 0)
        status = 3;
    else
        status = got_signal ? 130 : 0;
out:
    atomic_store(&r.is_go, true);
    for (unsigned i = 0; i < n_started; i++)
        pthread_join(tids[i], NULL);
    for (unsigned i = 0; ws && i < o.threads; i++)
        worker_release(&ws[i]);
    free(ws);
    buf_release(&r.head);
    buf_release(&r.body);
    opt_release(load_options, N_LOAD_OPTIONS, &o);
    return status;
}
