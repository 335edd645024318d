// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the SMB2 parser. The input is a list of records, each bytes sent in one
// direction of a TCP flow; the records are fed to the parser (in pieces of the size the record
// asks for), the first bytes of each direction to the probe, and the flow is ended. Every event
// is rendered as EVE JSON. The target aborts when an invariant breaks, so the fuzzer reports it
// like a crash. File digests are asked for by the input's length (size % 8 as PROTO_HASH_* bits),
// so every mask, none included, runs on the corpus.
//
// Record: [0] bit 0 direction, bits 1-3 piece size (0 whole, else 1, 2, 3, 7, 64, 1000, 4096)
//         [1..2] payload length, big endian (fewer bytes when the input ends)
//         payload
// make-smb2-seeds.py writes seeds in this format from captured traffic.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "proto/proto.h"
#include "proto/smb2.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct buf out;
    unsigned n_events;
    uint8_t file_hashes;
};

/* A digest is absent ("") or n lower-case hex digits. */
static void
check_hex(const char *s, size_t n)
{
    size_t len = strlen(s);
    CHECK(len == 0 || len == n);
    for (size_t i = 0; i < len; i++)
        CHECK((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
}

static void
on_event(void *user, const struct proto_event *ev)
{
    struct run *run = user;
    CHECK(ev->proto == PROTO_SMB2);
    CHECK(ev->kind >= SMB2_EV_NEGOTIATE && ev->kind <= SMB2_EV_ENCRYPTED);
    CHECK(ev->dir == 0 || ev->dir == 1);
    const struct smb2_event *e = ev->data;
    CHECK(e != NULL);
    /* Strings are terminated within their caps. */
    CHECK(memchr(e->filename, 0, sizeof(e->filename)) != NULL);
    CHECK(memchr(e->new_name, 0, sizeof(e->new_name)) != NULL);
    CHECK(memchr(e->share, 0, sizeof(e->share)) != NULL);
    CHECK(memchr(e->user, 0, sizeof(e->user)) != NULL);
    CHECK(e->n_client_dialects >= 0 && e->n_client_dialects <= SMB2_DIALECTS_MAX);
    CHECK(e->n_smb1_dialects >= 0 && e->n_smb1_dialects <= SMB1_DIALECTS_MAX);
    /* Digests: only when asked for, only on a CLOSE, well formed. */
    if (e->file.done) {
        CHECK(run->file_hashes != 0 && ev->kind == SMB2_EV_CLOSE && e->file.size > 0);
        check_hex(e->file.md5, FILEHASH_MD5_HEX_LEN);
        check_hex(e->file.sha1, FILEHASH_SHA1_HEX_LEN);
        check_hex(e->file.sha256, FILEHASH_SHA256_HEX_LEN);
        CHECK(!!e->file.sha256[0] == !!(run->file_hashes & PROTO_HASH_SHA256));
    }

    struct jsonw w;
    buf_reset(&run->out);
    jsonw_begin(&w, &run->out);
    jsonw_object_begin(&w);
    smb2_parser.eve(ev, &w);
    jsonw_object_end(&w);
    CHECK(jsonw_end(&w) == 0);
    run->n_events++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t pieces[8] = {0, 1, 2, 3, 7, 64, 1000, 4096};
    const struct proto_parser *p = &smb2_parser;
    struct run run;
    memset(&run, 0, sizeof(run));
    buf_init(&run.out, 0);
    struct phi phi;
    phi_init_test(&phi, 0x42);
    run.file_hashes = (uint8_t)(size % 8);
    struct proto_ctx ctx = {
        .emit = on_event, .user = &run, .phi = &phi, .file_hashes = run.file_hashes};
    void *state = calloc(1, p->state_len);
    CHECK(state != NULL);
    bool probed[2] = {false, false};
    bool failed = false;
    uint64_t ts = 0;

    size_t off = 0;
    while (off + 3 <= size && !failed) {
        int dir = data[off] & 1;
        size_t piece = pieces[(data[off] >> 1) & 7];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        const uint8_t *msg = data + off;
        off += len;
        if (!probed[dir] && len > 0) {
            enum proto_probe pr = p->probe(msg, len < 64 ? len : 64, dir);
            CHECK(pr == PROTO_PROBE_NO || pr == PROTO_PROBE_YES || pr == PROTO_PROBE_NEED_MORE);
            probed[dir] = true;
        }
        if (piece == 0)
            piece = len ? len : 1;
        for (size_t k = 0; k < len && !failed; k += piece) {
            size_t n = len - k < piece ? len - k : piece;
            if (p->parse(state, &ctx, dir, msg + k, n, ts++) < 0)
                failed = true;
        }
    }
    p->end(state, &ctx, ts);
    free(state);
    buf_release(&run.out);
    return 0;
}
