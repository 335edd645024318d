// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the HTTP/1.x (+ FHIR) parser.
//
// Input: records of one byte (bit 0: direction; bits 1-7: piece size, 0 = the whole record),
// a 16-bit big-endian length and that many stream bytes (make-http-seeds.py writes them).
// The parser is probed on the first bytes of each direction, fed every record in pieces,
// given a gap when a record's length runs past the input, and ended. Each event is rendered to
// JSON; the invariants below are the parser's promises, and breaking one traps. File digests
// are asked for by the input's length (size % 8 as PROTO_HASH_* bits), so every mask, none
// included, runs on the corpus.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "proto/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct buf out;
static uint8_t file_hashes; /* the run's ctx.file_hashes */

/* Traps unless a digest is absent ("") or n lower-case hex digits. */
static void
check_hex(const char *s, size_t n)
{
    size_t len = strlen(s);
    if (len != 0 && len != n)
        __builtin_trap();
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            __builtin_trap();
}

/* A body's digests: only when asked for, of every byte the event counts, and well formed. */
static void
check_file(const struct filehash_digest *d, uint64_t body_len)
{
    if (!d->done)
        return;
    if (!file_hashes || d->size == 0 || d->size != body_len)
        __builtin_trap();
    check_hex(d->md5, FILEHASH_MD5_HEX_LEN);
    check_hex(d->sha1, FILEHASH_SHA1_HEX_LEN);
    check_hex(d->sha256, FILEHASH_SHA256_HEX_LEN);
    if (!!d->md5[0] != !!(file_hashes & PROTO_HASH_MD5) ||
        !!d->sha1[0] != !!(file_hashes & PROTO_HASH_SHA1) ||
        !!d->sha256[0] != !!(file_hashes & PROTO_HASH_SHA256))
        __builtin_trap();
}

/* Traps unless a fixed field holds a NUL-terminated string. */
static void
check_str(const char *s, size_t cap)
{
    if (strnlen(s, cap) >= cap)
        __builtin_trap();
}

/* Traps if a url holds a query value or a Patient id in clear. */
static void
check_url(const char *url)
{
    /* Every '=' after the '?' ends its parameter. */
    const char *q = strchr(url, '?');
    for (const char *p = q; p && *p; p++)
        if (*p == '=' && p[1] != '\0' && p[1] != '&')
            __builtin_trap();
    /* A segment after a "Patient" segment is a pseudonym, empty, or _history/$op-like. */
    for (const char *p = strstr(url, "/Patient/"); p; p = strstr(p + 1, "/Patient/")) {
        const char *id = p + 9;
        if (q && id > q)
            break;
        if (*id && *id != '/' && *id != '?' && *id != '_' && *id != '$' &&
            strncmp(id, "phi:", 4) != 0)
            __builtin_trap();
    }
}

static void
check_emit(void *user, const struct proto_event *ev)
{
    (void)user;
    const struct http_txn *t = ev->data;
    if (ev->proto != PROTO_HTTP || ev->kind != HTTP_EVENT_TXN || !t)
        __builtin_trap();
    check_str(t->method, sizeof(t->method));
    check_str(t->protocol, sizeof(t->protocol));
    check_str(t->hostname, sizeof(t->hostname));
    check_str(t->user_agent, sizeof(t->user_agent));
    check_str(t->req_ctype, sizeof(t->req_ctype));
    check_str(t->resp_ctype, sizeof(t->resp_ctype));
    check_str(t->url, sizeof(t->url));
    check_str(t->fhir_id, sizeof(t->fhir_id));
    check_str(t->fhir_op, sizeof(t->fhir_op));
    if (t->n_params > HTTP_FHIR_PARAMS_MAX)
        __builtin_trap();
    check_str(t->referer, sizeof(t->referer));
    if (t->referer_raw)
        __builtin_trap();
    check_url(t->url);
    check_url(t->referer);
    check_file(&t->resp_file, t->resp_body_len);
    check_file(&t->req_file, t->req_body_len);
    /* A Patient id in the event is always a pseudonym. */
    if (t->fhir_type && strcmp(t->fhir_type, "Patient") == 0 && t->fhir_id[0] &&
        strncmp(t->fhir_id, "phi:", 4) != 0)
        __builtin_trap();
    buf_reset(&out);
    struct jsonw w;
    jsonw_begin(&w, &out);
    jsonw_object_begin(&w);
    http_parser.eve(ev, &w);
    jsonw_object_end(&w);
    if (jsonw_end(&w) != 0)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!out.ptr)
        buf_init(&out, 1 << 20);
    struct phi phi;
    phi_init_test(&phi, 0x42);
    file_hashes = (uint8_t)(size % 8);
    struct proto_ctx ctx = {
        .emit = check_emit, .user = NULL, .phi = &phi, .file_hashes = file_hashes};
    void *state = calloc(1, http_parser.state_len);
    if (!state)
        return 0;
    bool probed[2] = {false, false};
    bool dead = false;
    size_t off = 0;
    while (off < size && !dead) {
        uint8_t h = data[off++];
        int dir = h & 1;
        size_t piece = h >> 1;
        size_t len = 0;
        if (size - off >= 2)
            len = (size_t)data[off] << 8 | data[off + 1];
        off += size - off >= 2 ? 2 : size - off;
        if (len > size - off) {
            /* The record runs past the input: the rest is a capture gap. */
            if (http_parser.gap(state, &ctx, dir, len - (size - off)) < 0)
                dead = true;
            len = size - off;
        }
        if (!probed[dir] && len > 0) {
            enum proto_probe pr = http_parser.probe(data + off, len < 64 ? len : 64, dir);
            if (pr != PROTO_PROBE_NO && pr != PROTO_PROBE_YES && pr != PROTO_PROBE_NEED_MORE)
                __builtin_trap();
            probed[dir] = true;
        }
        if (piece == 0)
            piece = len ? len : 1;
        for (size_t k = 0; k < len && !dead; k += piece) {
            size_t n = len - k < piece ? len - k : piece;
            if (http_parser.parse(state, &ctx, dir, data + off + k, n, off + k) < 0)
                dead = true;
        }
        off += len;
    }
    http_parser.end(state, &ctx, size);
    free(state);
    return 0;
}
