// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the L2-L4 decoder and IP defragmentation.
//
// Input: the first byte picks the link type (byte % N_LINKS) and how far the packet clock moves
// before this packet (byte / N_LINKS steps of 50 ms, so the fuzzer can reach the timeout); the
// rest is the packet. Fragments go into one defrag context kept across inputs, with a small
// memory cap so the caps are hit too, and every datagram it completes is decoded again.
// The invariants checked below are the decoder's promises; breaking one traps.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/decode.h"
#include "wire/defrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = {
    LINK_ETHERNET,
    LINK_RAW,
    LINK_IPV4,
    LINK_IPV6,
    LINK_SLL,
    LINK_SLL2,
    LINK_NULL,
    12, /* DLT_RAW, BSD */
    14, /* DLT_RAW, OpenBSD */
};
#define N_LINKS (sizeof(links) / sizeof(links[0]))
#define CLOCK_STEP_US 50000

static struct defrag *defrag_ctx; /* kept across inputs; freed at exit by the OS */
static struct decode_stats stats;
static uint64_t clock_us;

/* Traps unless the decoded views lie inside the packet. */
static void
check_packet(const struct packet *p)
{
    const uint8_t *end = p->data + p->caplen;
    if (p->n_vlan > PACKET_MAX_VLAN)
        __builtin_trap();
    if (p->ip_version != 0 && (size_t)p->l3_off + p->l3_len > p->caplen)
        __builtin_trap();
    if (p->payload &&
        (p->payload < p->data || p->payload > end || p->payload_len > (size_t)(end - p->payload)))
        __builtin_trap();
    if (p->has_l4 && (p->l4_off < p->l3_off || p->l4_off > p->caplen || p->is_fragment))
        __builtin_trap();
    if (p->is_fragment && p->frag_payload_off > p->caplen)
        __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65535 + 1)
        return 0;
    if (!defrag_ctx) {
        const struct defrag_config cfg = {
            .max_bytes = 262144, /* 256 KiB: small, so the cap is reached */
            .max_datagrams = 32,
            .timeout_us = 1000000,
        };
        defrag_ctx = defrag_new(&cfg);
        if (!defrag_ctx)
            abort();
    }
    clock_us += (uint64_t)(data[0] / N_LINKS) * CLOCK_STEP_US;

    struct packet p;
    memset(&p, 0, sizeof(p));
    p.ts_us = clock_us;
    p.data = data + 1;
    p.caplen = (uint32_t)(size - 1);
    p.wire_len = p.caplen;
    p.link = links[data[0] % N_LINKS];
    int rc = decode_packet(&p, &stats);
    if (rc < 0 || rc > DECODE_EV_COUNT)
        __builtin_trap();
    check_packet(&p);
    (void)decode_event_name((enum decode_event)(rc > 0 ? rc - 1 : 0));

    char addr[64];
    if (p.ip_version && ipaddr_format(&p.src, p.ip_version, addr, sizeof(addr)) <= 0)
        __builtin_trap();

    if (p.is_fragment) {
        struct defrag_result res;
        if (defrag_add(defrag_ctx, &p, &stats, &res) == 1) {
            if (res.len > 40 + 65535)
                __builtin_trap();
            /* An exact-size copy, so ASan sees a read past the datagram. */
            uint8_t *copy = malloc(res.len ? res.len : 1);
            if (!copy)
                abort();
            memcpy(copy, res.data, res.len);
            struct packet q = p;
            rc = decode_ip(&q, copy, res.len, &stats);
            if (rc < 0 || rc > DECODE_EV_COUNT)
                __builtin_trap();
            check_packet(&q);
            free(copy);
        }
    }
    return 0;
}
