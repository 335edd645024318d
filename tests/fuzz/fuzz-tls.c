// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the TLS parser (src/proto/tls.c).
//
// Input: a sequence of pieces, each a header byte h and then (h >> 1) + 1 bytes (fewer at the
// end of the input) sent in direction h & 1 (0 client, 1 server). The pieces are probed while a
// direction has seen fewer than 64 bytes, fed to parse() in order until it gives up, then end()
// is called. Every event is written as EVE JSON. The invariants below are the parser's
// promises; breaking one traps. Seeds: tests/fuzz/corpus/make-tls-seeds.py.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "proto/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

static void
check_event(const struct proto_event *ev)
{
    if (ev->proto != PROTO_TLS || (ev->dir != 0 && ev->dir != 1) || !ev->data)
        abort();
    switch (ev->kind) {
    case TLS_EVENT_CLIENT_HELLO: {
        const struct tls_client_hello *ch = ev->data;
        if (ev->dir != PROTO_TOSERVER || !ch->ja3 || strlen(ch->ja3) >= TLS_JA3_MAX ||
            !is_hex(ch->ja3_hash, 32))
            abort();
        /* t + 2 + d/i + 2 + 2 + 2, then two 12-hex hashes. */
        const char *j = ch->ja4;
        if (strlen(j) != TLS_JA4_LEN || j[0] != 't' || (j[3] != 'd' && j[3] != 'i') ||
            j[10] != '_' || j[23] != '_' || !is_hex(j + 24, 12))
            abort();
        if (ch->sni.len > TLS_MSG_MAX || ch->alpn.len > TLS_MSG_MAX)
            abort();
        break;
    }
    case TLS_EVENT_SERVER_HELLO: {
        const struct tls_server_hello *sh = ev->data;
        if (ev->dir != PROTO_TOCLIENT || !sh->ja3s || !is_hex(sh->ja3s_hash, 32))
            abort();
        break;
    }
    case TLS_EVENT_CERTIFICATE: {
        const struct tls_certificate *c = ev->data;
        if (ev->dir != PROTO_TOCLIENT || c->n_certs == 0 ||
            strnlen(c->subject, TLS_NAME_MAX) == TLS_NAME_MAX ||
            strnlen(c->issuer, TLS_NAME_MAX) == TLS_NAME_MAX ||
            strnlen(c->serial, TLS_NAME_MAX) == TLS_NAME_MAX ||
            strnlen(c->not_before, TLS_TIME_MAX) == TLS_TIME_MAX ||
            strnlen(c->not_after, TLS_TIME_MAX) == TLS_TIME_MAX)
            abort();
        break;
    }
    default:
        abort();
    }
}

static void
emit(void *user, const struct proto_event *ev)
{
    struct buf *out = user;
    check_event(ev);
    struct jsonw w;
    buf_reset(out);
    jsonw_begin(&w, out);
    jsonw_object_begin(&w);
    tls_parser.eve(ev, &w);
    jsonw_object_end(&w);
    if (jsonw_end(&w) != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct phi phi;
    phi_init_test(&phi, 7);
    struct buf out;
    buf_init(&out, 0);
    struct proto_ctx ctx = {.emit = emit, .user = &out, .phi = &phi};
    void *state = calloc(1, tls_parser.state_len);
    if (!state)
        return 0;
    size_t seen[2] = {0, 0};
    uint8_t head[2][64];
    size_t off = 0;
    while (off < size) {
        uint8_t h = data[off++];
        int dir = h & 1;
        size_t n = (size_t)(h >> 1) + 1;
        if (n > size - off)
            n = size - off;
        /* Probe on the first bytes of each direction, as the flow layer does. */
        if (seen[dir] < sizeof(head[dir])) {
            size_t k = n < sizeof(head[dir]) - seen[dir] ? n : sizeof(head[dir]) - seen[dir];
            memcpy(head[dir] + seen[dir], data + off, k);
            seen[dir] += k;
            enum proto_probe p = tls_parser.probe(head[dir], seen[dir], dir);
            if (p != PROTO_PROBE_NO && p != PROTO_PROBE_YES && p != PROTO_PROBE_NEED_MORE)
                abort();
        }
        if (tls_parser.parse(state, &ctx, dir, data + off, n, off) < 0)
            break;
        off += n;
    }
    if (size > 0 && (data[0] & 0x80) && tls_parser.gap)
        (void)tls_parser.gap(state, &ctx, data[0] & 1, 100);
    tls_parser.end(state, &ctx, size);
    free(state);
    buf_release(&out);
    return 0;
}
