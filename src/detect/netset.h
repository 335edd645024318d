// SPDX-License-Identifier: Apache-2.0
// A small set of IPv4 and IPv6 networks (CIDR prefixes), for "is this address one of ours?":
// the home networks that tell local hosts from external ones.
//
// The set is a plain array of at most NETSET_MAX prefixes searched in order, which is fast
// enough for the lists people write by hand (tens of prefixes) and needs no allocation. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is also tested against the IPv4 prefixes.
//
// Thread safety: a set is read-only once built; any number of threads may call
// netset_contains() on it at once.
#ifndef IASO_DETECT_NETSET_H
#define IASO_DETECT_NETSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "wire/decode.h"

/* Home networks hand-written lists hold; beyond it, merge prefixes. Caps the linear search. */
#define NETSET_MAX 128

/* The default home networks: RFC 1918 private, RFC 3927 link-local, loopback, RFC 4193 unique
 * local (ULA) and IPv6 link-local. */
#define NETSET_DEFAULT                                                                             \
    "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,127.0.0.0/8,fc00::/7,fe80::/10,::1/"   \
    "128"

struct netset_prefix {
    struct ipaddr addr; /* host bits zero; IPv4 in the first four bytes */
    uint8_t ip_version; /* 4 or 6 */
    uint8_t len;        /* prefix length in bits */
};

struct netset {
    uint32_t n;
    struct netset_prefix prefix[NETSET_MAX];
};

/* An empty set. */
void netset_init(struct netset *s);

/*
 * Adds one network, "10.1.0.0/16", "fd00::/8", or a bare address (a /32 or /128), to s.
 * Errors, with a sentence in eb naming the input: IASO_E_FORMAT (not an address, a bad prefix
 * length, host bits set after the prefix), IASO_E_LIMIT (already NETSET_MAX prefixes). A prefix
 * already in the set is not added twice.
 */
int netset_add(struct netset *s, const char *text, size_t len, struct errbuf *eb);

/* Adds every network of a comma-separated list ("10.0.0.0/8, fd00::/8"; spaces around items are
 * fine) to s. An empty list or an empty item is IASO_E_FORMAT; on any error s keeps the
 * networks added before it. */
int netset_parse(struct netset *s, const char *list, struct errbuf *eb);

/* Whether address a (ip_version 4 or 6) is inside one of the networks. */
bool netset_contains(const struct netset *s, const struct ipaddr *a, uint8_t ip_version);

#endif
