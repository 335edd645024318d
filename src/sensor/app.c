// SPDX-License-Identifier: Apache-2.0
// The sensor's application layer; see app.h.
#include "sensor/app.h"

#include <stdlib.h>
#include <string.h>

enum app_state {
    APP_PROBING, /* no parser chosen yet */
    APP_ACTIVE,  /* a parser runs */
    APP_NONE,    /* no parser fits, or it gave up: nothing more to do */
};

struct app_flow {
    const struct proto_parser *parser; /* the chosen one, when state is ACTIVE (or gave up) */
    uint8_t state;
    uint8_t gave_up;
    uint8_t probe_len[2];
    uint8_t probe_buf[2][APP_PROBE_MAX]; /* the first bytes of each direction while probing */
    size_t alloc_len;
    _Alignas(16) unsigned char parser_state[];
};

static void
emit_trampoline(void *user, const struct proto_event *ev)
{
    struct app_layer *a = user;
    a->stats.proto[ev->proto].n_events++;
    a->emit(a->user, a->cur, ev);
}

void
app_layer_init(struct app_layer *a, const struct phi *phi, uint64_t memcap, app_emit_fn emit,
               void *user)
{
    memset(a, 0, sizeof(*a));
    a->ctx.emit = emit_trampoline;
    a->ctx.user = a;
    a->ctx.phi = phi;
    a->emit = emit;
    a->user = user;
    a->memcap = memcap;
    a->mem.cap = memcap;
}

void
app_layer_set_file_hashes(struct app_layer *a, uint8_t mask)
{
    a->ctx.file_hashes = mask & (PROTO_HASH_MD5 | PROTO_HASH_SHA1 | PROTO_HASH_SHA256);
}

const struct proto_parser *
app_flow_parser(const struct flow *f)
{
    const struct app_flow *af = f->app;
    return af && (af->state == APP_ACTIVE || af->gave_up) ? af->parser : NULL;
}

static struct app_flow *
flow_record(struct app_layer *a, struct flow *f)
{
    if (f->app)
        return f->app;
    size_t len = sizeof(struct app_flow);
    struct app_flow *af = proto_calloc(1, len);
    if (!af) {
        a->stats.n_memcap++;
        return NULL;
    }
    af->alloc_len = len;
    f->app = af;
    return af;
}

static void
give_up(struct app_layer *a, struct app_flow *af)
{
    if (af->state == APP_ACTIVE) {
        af->gave_up = 1;
        a->stats.proto[af->parser->id].n_gave_up++;
    }
    af->state = APP_NONE;
}

/* Makes room for the chosen parser's state and starts it. */
static struct app_flow *
activate(struct app_layer *a, struct flow *f, struct app_flow *af, const struct proto_parser *p)
{
    size_t len = sizeof(struct app_flow) + p->state_len;
    struct app_flow *grown = proto_realloc(af, len);
    if (!grown) {
        a->stats.n_memcap++;
        af->state = APP_NONE;
        return af;
    }
    af = grown;
    f->app = af;
    memset(af->parser_state, 0, p->state_len);
    af->alloc_len = len;
    af->parser = p;
    af->state = APP_ACTIVE;
    if (p->init)
        p->init(af->parser_state);
    a->stats.proto[p->id].n_flows++;
    return af;
}

static bool
port_hinted(const struct proto_parser *p, const struct flow *f)
{
    if (!p->ports)
        return false;
    for (const uint16_t *port = p->ports; *port; port++)
        if (*port == f->key.port[0] || *port == f->key.port[1])
            return true;
    return false;
}

/*
 * Tries the parsers for the transport on the first bytes of direction dir: those whose ports
 * match first, then the rest. Returns the parser that said yes, NULL when none can tell yet,
 * and sets *all_no when every parser said no.
 */
static const struct proto_parser *
probe(const struct flow *f, bool udp, const uint8_t *data, size_t len, int dir, bool *all_no)
{
    *all_no = true;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 1; i < PROTO_COUNT; i++) {
            const struct proto_parser *p = proto_parsers[i];
            if (!p || !(udp ? p->udp : p->tcp) || port_hinted(p, f) != (pass == 0))
                continue;
            enum proto_probe r = p->probe(data, len, dir);
            if (r == PROTO_PROBE_YES)
                return p;
            if (r == PROTO_PROBE_NEED_MORE)
                *all_no = false;
        }
    }
    return NULL;
}

static void
feed(struct app_layer *a, struct flow *f, struct app_flow *af, int dir, const uint8_t *data,
     size_t len, uint64_t ts_us)
{
    if (len == 0)
        return;
    a->cur = f;
    a->ctx.udp = f->key.proto == 17;
    int rc = af->parser->parse(af->parser_state, &a->ctx, dir, data, len, ts_us);
    a->cur = NULL;
    if (rc < 0)
        give_up(a, af);
}

static void
app_input(struct app_layer *a, struct flow *f, bool udp, int dir, const uint8_t *data, uint32_t len,
          uint64_t ts_us)
{
    if (len == 0 || f->app_done || a->memcap == 0)
        return;
    proto_mem_use(&a->mem); /* everything allocated for parsing below counts against memcap */
    struct app_flow *af = f->app;
    if (!af) {
        af = flow_record(a, f);
        if (!af)
            return;
    }
    if (af->state == APP_ACTIVE) {
        feed(a, f, af, dir, data, len, ts_us);
        return;
    }
    if (af->state == APP_NONE)
        return;

    /* Probing. The first piece of a direction is probed in place; when the probes need more,
     * up to APP_PROBE_MAX bytes are kept and later pieces appended to them. UDP datagrams stand
     * alone: each is probed until one is claimed. */
    const uint8_t *view = data;
    size_t view_len = len, appended = 0;
    if (!udp && af->probe_len[dir] > 0) {
        size_t room = APP_PROBE_MAX - af->probe_len[dir];
        appended = len < room ? len : room;
        memcpy(af->probe_buf[dir] + af->probe_len[dir], data, appended);
        af->probe_len[dir] = (uint8_t)(af->probe_len[dir] + appended);
        view = af->probe_buf[dir];
        view_len = af->probe_len[dir];
    }
    bool all_no;
    const struct proto_parser *p = probe(f, udp, view, view_len, dir, &all_no);
    if (p) {
        bool buffered = view != data;
        af = activate(a, f, af, p);
        if (af->state != APP_ACTIVE)
            return;
        if (buffered)
            view = af->probe_buf[dir]; /* activate() may have moved the record */
        feed(a, f, af, dir, view, view_len, ts_us);
        if (buffered && af->state == APP_ACTIVE)
            feed(a, f, af, dir, data + appended, len - appended, ts_us);
        return;
    }
    if (udp) {
        if (all_no) {
            af->state = APP_NONE;
            a->stats.n_unknown++;
        }
        return;
    }
    if (all_no || view_len >= APP_PROBE_MAX) {
        af->state = APP_NONE;
        a->stats.n_unknown++;
        return;
    }
    if (view == data) {
        memcpy(af->probe_buf[dir], data, len); /* len < APP_PROBE_MAX here */
        af->probe_len[dir] = (uint8_t)len;
    }
}

void
app_stream_data(struct app_layer *a, struct flow *f, int dir, const uint8_t *data, uint32_t len,
                uint64_t ts_us)
{
    app_input(a, f, false, dir, data, len, ts_us);
}

void
app_datagram(struct app_layer *a, struct flow *f, int dir, const uint8_t *data, uint32_t len,
             uint64_t ts_us)
{
    app_input(a, f, true, dir, data, len, ts_us);
}

void
app_stream_gap(struct app_layer *a, struct flow *f, int dir, uint32_t len, uint64_t ts_us)
{
    proto_mem_use(&a->mem);
    (void)ts_us;
    struct app_flow *af = f->app;
    if (!af)
        return;
    if (af->state == APP_PROBING) {
        /* A hole before the protocol was known: the probe bytes no longer lead anywhere. */
        af->state = APP_NONE;
        return;
    }
    if (af->state != APP_ACTIVE)
        return;
    if (!af->parser->gap) {
        give_up(a, af);
        return;
    }
    a->cur = f;
    int rc = af->parser->gap(af->parser_state, &a->ctx, dir, len);
    a->cur = NULL;
    if (rc < 0)
        give_up(a, af);
}

void
app_flow_end(struct app_layer *a, struct flow *f, uint64_t ts_us)
{
    proto_mem_use(&a->mem);
    struct app_flow *af = f->app;
    if (!af)
        return;
    if (af->parser && (af->state == APP_ACTIVE || af->gave_up)) {
        a->cur = f;
        af->parser->end(af->parser_state, &a->ctx, ts_us);
        a->cur = NULL;
    }
    proto_free(af);
    f->app = NULL;
    f->app_done = 1;
}
