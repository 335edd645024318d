// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the RDP parser (X.224 Connection Request and Confirm).
//
// Input: records of 1 byte (bit 0 = direction, bits 1..7 = piece size for parse(), 0 = the whole
// record in one call), a 2-byte big-endian length and that many bytes (cut at the end of the
// input); the format make-dns-seeds.py writes. Each record's bytes also go through probe(), and
// a record of length 0 is a gap of 100 bytes in its direction. Every event is checked (kind
// known, token inside its buffer) and rendered to EVE JSON, which must succeed; breaking a
// promise traps.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "proto/rdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_event(void *user, const struct proto_event *ev)
{
    (void)user;
    const struct rdp_event *e = ev->data;
    if (ev->kind < RDP_EVENT_CONNECT_REQUEST || ev->kind > RDP_EVENT_NEGOTIATION_FAILURE)
        __builtin_trap();
    if (e->token_len > RDP_TOKEN_MAX ||
        (e->token_len > 0 && !e->has_cookie && !e->has_routing_token))
        __builtin_trap();
    if ((ev->kind == RDP_EVENT_CONNECT_REQUEST) != (ev->dir == PROTO_TOSERVER))
        __builtin_trap();
    struct buf out;
    buf_init(&out, 1 << 16);
    struct jsonw w;
    jsonw_begin(&w, &out);
    jsonw_object_begin(&w);
    rdp_parser.eve(ev, &w);
    jsonw_object_end(&w);
    if (jsonw_end(&w) != 0)
        __builtin_trap();
    buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct phi phi;
    phi_init_test(&phi, 7);
    struct proto_ctx ctx = {.emit = check_event, .user = NULL, .phi = &phi};
    void *state = calloc(1, rdp_parser.state_len);
    if (!state)
        return 0;
    bool gave_up = false;
    size_t off = 0;
    while (off + 3 <= size && !gave_up) {
        int dir = data[off] & 1;
        size_t chunk = data[off] >> 1;
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        const uint8_t *msg = data + off;
        off += len;
        (void)rdp_parser.probe(msg, len < 64 ? len : 64, dir);
        if (len == 0) {
            if (rdp_parser.gap(state, &ctx, dir, 100) < 0)
                gave_up = true;
            continue;
        }
        if (chunk == 0)
            chunk = len;
        for (size_t p = 0; p < len && !gave_up; p += chunk) {
            size_t n = len - p < chunk ? len - p : chunk;
            if (rdp_parser.parse(state, &ctx, dir, msg + p, n, 1000 + p) < 0)
                gave_up = true;
        }
    }
    rdp_parser.end(state, &ctx, 2000000);
    free(state);
    return 0;
}
