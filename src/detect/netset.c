// SPDX-License-Identifier: Apache-2.0
// Sets of CIDR networks: parsing the operator's list and testing membership (see netset.h).
#include "detect/netset.h"

#include <arpa/inet.h>
#include <string.h>

#include "base/parse.h"

/* The longest item worth reading: a full IPv6 address with an embedded IPv4 one (45) and
 * "/128". */
#define NETSET_ITEM_MAX 64

void
netset_init(struct netset *s)
{
    memset(s, 0, sizeof(*s));
}

/* Whether the first len bits of a and b are equal. */
static bool
prefix_match(const uint8_t *a, const uint8_t *b, unsigned len)
{
    unsigned bytes = len / 8, bits = len % 8;
    if (bytes && memcmp(a, b, bytes) != 0)
        return false;
    if (!bits)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - bits));
    return ((a[bytes] ^ b[bytes]) & mask) == 0;
}

int
netset_add(struct netset *s, const char *text, size_t len, struct errbuf *eb)
{
    char item[NETSET_ITEM_MAX]; /* the whole item, for messages */
    char addr[NETSET_ITEM_MAX]; /* its address part */
    if (len == 0 || len >= sizeof(item))
        return err_set(eb, IASO_E_FORMAT, "network '%.*s': not an IPv4 or IPv6 network",
                       (int)(len < 80 ? len : 80), text);
    memcpy(item, text, len);
    item[len] = '\0';
    memcpy(addr, item, len + 1);

    struct netset_prefix p;
    memset(&p, 0, sizeof(p));
    char *slash = strchr(addr, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, addr, p.addr.b) == 1)
        p.ip_version = 4;
    else if (inet_pton(AF_INET6, addr, p.addr.b) == 1)
        p.ip_version = 6;
    else
        return err_set(eb, IASO_E_FORMAT,
                       "network '%s': '%s' is not an IPv4 or IPv6 address (write 10.0.0.0/8 or "
                       "fd00::/8)",
                       item, addr);
    unsigned max_len = p.ip_version == 4 ? 32 : 128;
    p.len = (uint8_t)max_len;
    if (slash) {
        int64_t v;
        const char *digits = slash + 1;
        if (parse_i64(digits, strlen(digits), 0, max_len, &v) != 0 || digits[0] == '+' ||
            digits[0] == '-')
            return err_set(eb, IASO_E_FORMAT,
                           "network '%s': the prefix length must be a number from 0 to %u", item,
                           max_len);
        p.len = (uint8_t)v;
    }
    /* Host bits set after the prefix are most likely a typo (10.1.2.3/8 for 10.0.0.0/8): say so
     * rather than guess which was meant. */
    struct ipaddr masked;
    memset(&masked, 0, sizeof(masked));
    memcpy(masked.b, p.addr.b, p.len / 8);
    if (p.len % 8)
        masked.b[p.len / 8] = (uint8_t)(p.addr.b[p.len / 8] & (0xffu << (8 - p.len % 8)));
    if (memcmp(masked.b, p.addr.b, sizeof(masked.b)) != 0) {
        char net[64];
        inet_ntop(p.ip_version == 4 ? AF_INET : AF_INET6, masked.b, net, sizeof(net));
        return err_set(eb, IASO_E_FORMAT,
                       "network '%s': bits are set past the prefix length (did you mean "
                       "%s/%u?)",
                       item, net, p.len);
    }

    for (uint32_t i = 0; i < s->n; i++) {
        const struct netset_prefix *q = &s->prefix[i];
        if (q->ip_version == p.ip_version && q->len == p.len &&
            memcmp(q->addr.b, p.addr.b, sizeof(p.addr.b)) == 0)
            return 0;
    }
    if (s->n == NETSET_MAX)
        return err_set(eb, IASO_E_LIMIT,
                       "network '%s': more than %d networks; merge them into larger prefixes", item,
                       NETSET_MAX);
    s->prefix[s->n++] = p;
    return 0;
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
netset_parse(struct netset *s, const char *list, struct errbuf *eb)
{
    const char *p = list;
    const char *end = list + strlen(list);
    const char *q = p;
    while (q < end && is_space(*q))
        q++;
    if (q == end)
        return err_set(eb, IASO_E_FORMAT, "network list '%s' is empty (write e.g. 10.0.0.0/8)",
                       list);
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        const char *a = p, *b = item_end;
        while (a < b && is_space(*a))
            a++;
        while (b > a && is_space(b[-1]))
            b--;
        if (a == b)
            return err_set(eb, IASO_E_FORMAT,
                           "network list '%s': an empty item (two commas, or one at an end)", list);
        int rc = netset_add(s, a, (size_t)(b - a), eb);
        if (rc < 0)
            return rc;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

bool
netset_contains(const struct netset *s, const struct ipaddr *a, uint8_t ip_version)
{
    /* ::ffff:a.b.c.d is an IPv4 address written as IPv6. */
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool mapped = ip_version == 6 && memcmp(a->b, v4mapped, sizeof(v4mapped)) == 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct netset_prefix *p = &s->prefix[i];
        if (p->ip_version == ip_version && prefix_match(p->addr.b, a->b, p->len))
            return true;
        if (mapped && p->ip_version == 4 && prefix_match(p->addr.b, a->b + 12, p->len))
            return true;
    }
    return false;
}
