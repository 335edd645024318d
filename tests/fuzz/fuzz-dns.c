// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the DNS parser (UDP datagrams and TCP length-prefixed streams).
//
// Input: records of 1 byte (bit 0 = direction, bits 1..7 = piece size for parse(), 0 = the whole
// record in one call), a 2-byte big-endian length and that many bytes (cut at the end of the
// input). Each record's bytes also go through probe(). The parser decides UDP or TCP from its
// first parse() call, so the first record's piece size picks the transport in practice. Every
// event is checked (lengths inside their buffers, counts under their caps, text NUL-terminated)
// and rendered to EVE JSON, which must succeed; breaking a promise traps.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "proto/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_event(void *user, const struct proto_event *ev)
{
    (void)user;
    const struct dns_event *e = ev->data;
    if (ev->kind != DNS_EVENT_QUERY && ev->kind != DNS_EVENT_ANSWER)
        __builtin_trap();
    if (e->rrname_len >= DNS_NAME_TEXT_MAX || strlen(e->rrname) > e->rrname_len ||
        e->n_rrs > DNS_EVENT_RRS_MAX || e->n_answers > DNS_SECTION_RRS_MAX ||
        e->n_authorities > DNS_SECTION_RRS_MAX || e->longest_label > DNS_LABEL_MAX)
        __builtin_trap();
    for (size_t i = 0; i < e->n_rrs; i++) {
        const struct dns_rr *rr = &e->rrs[i];
        if (rr->name_len >= DNS_NAME_TEXT_MAX || rr->rdata_len >= DNS_RDATA_TEXT_MAX ||
            rr->name[rr->name_len] != '\0' || rr->rdata[rr->rdata_len] != '\0')
            __builtin_trap();
    }
    struct buf out;
    buf_init(&out, 1 << 20);
    struct jsonw w;
    jsonw_begin(&w, &out);
    jsonw_object_begin(&w);
    dns_parser.eve(ev, &w);
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
    /* Odd-sized inputs run as UDP (whole datagrams), even ones as a TCP stream. */
    struct proto_ctx ctx = {.emit = check_event, .user = NULL, .phi = &phi, .udp = size & 1};
    void *state = calloc(1, dns_parser.state_len);
    if (!state)
        return 0;
    bool gave_up = false;
    size_t off = 0;
    while (off + 3 <= size) {
        int dir = data[off] & 1;
        size_t chunk = data[off] >> 1;
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        const uint8_t *msg = data + off;
        off += len;
        (void)dns_parser.probe(msg, len < 64 ? len : 64, dir);
        if (chunk == 0 || ctx.udp)
            chunk = len ? len : 1;
        for (size_t p = 0; p < len && !gave_up; p += chunk) {
            size_t n = len - p < chunk ? len - p : chunk;
            if (dns_parser.parse(state, &ctx, dir, msg + p, n, 1000 + p) < 0)
                gave_up = true;
        }
    }
    dns_parser.end(state, &ctx, 2000000);
    free(state);
    return 0;
}
