// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the HL7 v2 parser. The input is a conversation: records of both
// directions, each fed in pieces of a chosen size and optionally preceded by a gap; the parser's
// probe runs on each direction's first record, end() runs at the end, and every event is written
// as EVE JSON. The target aborts when an invariant breaks (an event of an unknown kind or the
// wrong direction, a patient value that is not a pseudonym, a listed segment id that is not one,
// a length over its cap, or different events when the same input is fed one byte at a time).
//
// Record: [flags][len hi][len lo][payload: len bytes, fewer when the input ends]
//   flags bit 0: direction; bit 1: a gap of 100 bytes before the payload;
//         bits 2-7: chunk size for feeding the payload (0: all at once).
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/bytes.h"
#include "base/jsonw.h"
#include "proto/hl7.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    int cur_dir;    /* direction being fed; -1 in end() */
    struct buf out; /* the current event */
    struct buf all; /* every event, for comparing splits */
};

static void
check_phi(const char *v)
{
    /* With a non-clear key every patient value is empty or a pseudonym. */
    size_t n = strnlen(v, PHI_VALUE_MAX);
    CHECK(n < PHI_VALUE_MAX);
    CHECK(n == 0 || (n == PHI_PSEUDONYM_LEN && memcmp(v, "phi:", 4) == 0));
}

static void
check_message(const struct hl7_message *m)
{
    CHECK(m->n_ids <= HL7_SEG_IDS_MAX && m->n_ids <= m->n_segments);
    CHECK(m->n_patient_ids <= HL7_PATIENT_IDS_MAX);
    CHECK(m->enc_len <= sizeof(m->enc));
    CHECK(m->control_id.len < HL7_STR_MAX && m->sending_application.full.len < HL7_STR_MAX);
    for (unsigned i = 0; i < m->n_ids; i++) {
        /* Only real segment ids are listed: free text could carry patient data. */
        const char *id = m->ids[i];
        for (int k = 0; k < 3; k++)
            CHECK((id[k] >= 'A' && id[k] <= 'Z') || (k > 0 && id[k] >= '0' && id[k] <= '9'));
        CHECK(id[3] == '\0');
    }
    for (unsigned i = 0; i < m->n_patient_ids; i++)
        check_phi(m->patient_ids[i]);
    check_phi(m->patient_name);
    check_phi(m->birth_date);
    check_phi(m->address);
    check_phi(m->phone_home);
    check_phi(m->phone_business);
    check_phi(m->ssn);
    check_phi(m->prior_patient_id);
    /* Past the cap a message is flagged oversize and no longer counted. */
    CHECK(m->length <= HL7_MSG_MAX);
}

static void
on_event(void *user, const struct proto_event *ev)
{
    struct run *run = user;
    CHECK(ev->proto == PROTO_HL7);
    CHECK(ev->dir == 0 || ev->dir == 1);
    CHECK(run->cur_dir < 0 || ev->dir == run->cur_dir);
    CHECK(ev->kind == HL7_EVENT_MESSAGE || ev->kind == HL7_EVENT_BATCH);
    if (ev->kind == HL7_EVENT_MESSAGE)
        check_message(ev->data);
    struct jsonw w;
    buf_reset(&run->out);
    jsonw_begin(&w, &run->out);
    jsonw_object_begin(&w);
    hl7_parser.eve(ev, &w);
    jsonw_object_end(&w);
    CHECK(jsonw_end(&w) == 0);
    CHECK(buf_append(&run->all, run->out.ptr, run->out.len) == 0);
    CHECK(buf_append_char(&run->all, '\n') == 0);
}

/* Runs the conversation; every event's JSON is appended to run->all. bytewise: feed one byte at
 * a time whatever the records say. */
static void
run_conv(struct run *run, const uint8_t *data, size_t size, bool bytewise)
{
    struct phi phi;
    phi_init_test(&phi, 0x42);
    struct proto_ctx ctx = {.emit = on_event, .user = run, .phi = &phi};
    void *state = calloc(1, hl7_parser.state_len);
    if (!state)
        return;
    bool probed[2] = {false, false};
    bool gave_up = false;
    struct cursor c;
    cursor_init(&c, data, size);
    while (cursor_left(&c) >= 3 && !gave_up) {
        uint8_t flags = cursor_u8(&c);
        size_t len = cursor_be16(&c);
        if (len > cursor_left(&c))
            len = cursor_left(&c);
        struct bytes p = cursor_take(&c, len);
        int dir = flags & 1;
        size_t chunk = bytewise ? 1 : flags >> 2;
        if (!probed[dir] && p.len) {
            enum proto_probe r = hl7_parser.probe(p.ptr, p.len, dir);
            CHECK(r == PROTO_PROBE_NO || r == PROTO_PROBE_YES || r == PROTO_PROBE_NEED_MORE);
            probed[dir] = true;
        }
        run->cur_dir = dir;
        if (flags & 2)
            CHECK(hl7_parser.gap(state, &ctx, dir, 100) == 0);
        if (chunk == 0)
            chunk = p.len ? p.len : 1;
        for (size_t off = 0; off < p.len && !gave_up; off += chunk) {
            size_t n = p.len - off < chunk ? p.len - off : chunk;
            if (hl7_parser.parse(state, &ctx, dir, p.ptr + off, n, off) < 0)
                gave_up = true;
        }
    }
    run->cur_dir = -1;
    hl7_parser.end(state, &ctx, 0);
    free(state);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The same events whatever the split: as the records say, then one byte at a time. */
    struct run a = {0}, b = {0};
    buf_init(&a.out, 1u << 20);
    buf_init(&a.all, 64u << 20);
    buf_init(&b.out, 1u << 20);
    buf_init(&b.all, 64u << 20);
    run_conv(&a, data, size, false);
    run_conv(&b, data, size, true);
    CHECK(a.all.len == b.all.len &&
          (a.all.len == 0 || memcmp(a.all.ptr, b.all.ptr, a.all.len) == 0));
    buf_release(&a.out);
    buf_release(&a.all);
    buf_release(&b.out);
    buf_release(&b.all);
    return 0;
}
