// SPDX-License-Identifier: Apache-2.0
// The host inventory; see inventory.h.
#include "sensor/inventory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "base/jsonw.h"
#include "base/timefmt.h"

#define INV_ROLES_MAX 16  /* distinct role/detail pairs per host: AE titles, applications */
#define INV_DETAIL_LEN 65 /* an AE title is 16, an HL7 application^facility rarely past 40 */
#define INV_PEERS_MAX 32  /* peers listed per host; the rest are counted */
#define INV_PORTS_MAX 16  /* server ports listed per host */

struct inv_role_entry {
    uint8_t role;
    char detail[INV_DETAIL_LEN];
};

struct inv_host {
    struct inv_addr addr;
    uint32_t hnext; /* bucket chain: index + 1 */
    bool has_mac;
    uint8_t mac[6];
    uint64_t first_us, last_us;
    uint64_t n_client[PROTO_COUNT]; /* conversations as client, by protocol (0: other) */
    uint64_t n_server[PROTO_COUNT];
    uint16_t server_ports[INV_PORTS_MAX];
    uint8_t n_server_ports;
    uint8_t n_roles;
    uint8_t n_peers;
    uint32_t n_peers_more; /* peers seen past INV_PEERS_MAX */
    struct inv_role_entry roles[INV_ROLES_MAX];
    char facts[INV_FACT_COUNT][INV_DETAIL_LEN];
    struct inv_addr peers[INV_PEERS_MAX];
};

/* Arrays of host pointers are sized with this (clang-tidy takes sizeof(T *) for a slip). */
static const size_t host_ptr_len = sizeof(struct inv_host *); // NOLINT(bugprone-sizeof-expression)

struct inventory {
    struct inv_host **hosts; /* owned, in insertion order */
    uint32_t n_hosts, max_hosts;
    uint32_t *buckets; /* owned */
    uint32_t bucket_mask;
    uint64_t n_dropped;
};

static const char *const role_names[] = {
    "dicom_scu",   "dicom_scp",  "hl7_sender", "hl7_receiver", "http_server",
    "fhir_server", "smb_server", "rdp_server", "dns_server",   "tls_server",
};
static const char *const fact_names[] = {
    "manufacturer",  "model",    "station_name",           "software_versions",
    "serial_number", "modality", "implementation_version", "implementation_class_uid",
};

const char *
inv_role_name(enum inv_role r)
{
    return role_names[r];
}

const char *
inv_fact_name(enum inv_fact f)
{
    return fact_names[f];
}

struct inventory *
inventory_new(uint32_t max_hosts)
{
    struct inventory *inv = calloc(1, sizeof(*inv));
    if (!inv)
        return NULL;
    uint32_t nb = 256;
    while (nb < max_hosts && nb < (1u << 20))
        nb <<= 1;
    inv->buckets = calloc(nb, sizeof(*inv->buckets));
    inv->hosts = calloc(max_hosts ? max_hosts : 1, host_ptr_len);
    if (!inv->buckets || !inv->hosts) {
        inventory_free(inv);
        return NULL;
    }
    inv->bucket_mask = nb - 1;
    inv->max_hosts = max_hosts;
    return inv;
}

void
inventory_free(struct inventory *inv)
{
    if (!inv)
        return;
    for (uint32_t i = 0; i < inv->n_hosts; i++)
        free(inv->hosts[i]);
    free(inv->hosts);
    free(inv->buckets);
    free(inv);
}

static bool
addr_eq(const struct inv_addr *a, const struct inv_addr *b)
{
    return a->ip_version == b->ip_version && memcmp(a->ip.b, b->ip.b, sizeof(a->ip.b)) == 0;
}

/* The host of addr, created if new; NULL past the cap. */
static struct inv_host *
host_get(struct inventory *inv, const struct inv_addr *addr, uint64_t ts_us)
{
    uint32_t b = (uint32_t)XXH3_64bits(addr->ip.b, sizeof(addr->ip.b)) & inv->bucket_mask;
    for (uint32_t i = inv->buckets[b]; i; i = inv->hosts[i - 1]->hnext) {
        struct inv_host *h = inv->hosts[i - 1];
        if (addr_eq(&h->addr, addr)) {
            if (ts_us && (ts_us < h->first_us || !h->first_us))
                h->first_us = ts_us;
            if (ts_us > h->last_us)
                h->last_us = ts_us;
            return h;
        }
    }
    if (inv->n_hosts >= inv->max_hosts) {
        inv->n_dropped++;
        return NULL;
    }
    struct inv_host *h = calloc(1, sizeof(*h));
    if (!h) {
        inv->n_dropped++;
        return NULL;
    }
    h->addr = *addr;
    h->first_us = h->last_us = ts_us;
    inv->hosts[inv->n_hosts++] = h;
    h->hnext = inv->buckets[b];
    inv->buckets[b] = inv->n_hosts;
    return h;
}

void
inventory_mac(struct inventory *inv, const struct inv_addr *addr, const uint8_t mac[6],
              uint64_t ts_us)
{
    struct inv_host *h = host_get(inv, addr, ts_us);
    if (!h)
        return;
    memcpy(h->mac, mac, 6);
    h->has_mac = true;
}

static void
add_peer(struct inv_host *h, const struct inv_addr *peer)
{
    for (int i = 0; i < h->n_peers; i++)
        if (addr_eq(&h->peers[i], peer))
            return;
    if (h->n_peers < INV_PEERS_MAX)
        h->peers[h->n_peers++] = *peer;
    else
        h->n_peers_more++;
}

void
inventory_conversation(struct inventory *inv, const struct inv_addr *client,
                       const struct inv_addr *server, enum proto_id app, uint16_t port,
                       uint64_t first_us, uint64_t last_us)
{
    struct inv_host *c = host_get(inv, client, first_us);
    struct inv_host *s = host_get(inv, server, first_us);
    if (c) {
        host_get(inv, client, last_us);
        c->n_client[app]++;
        if (s)
            add_peer(c, server);
    }
    if (s) {
        host_get(inv, server, last_us);
        s->n_server[app]++;
        if (c)
            add_peer(s, client);
        if (port) {
            bool known = false;
            for (int i = 0; i < s->n_server_ports; i++)
                known = known || s->server_ports[i] == port;
            if (!known && s->n_server_ports < INV_PORTS_MAX)
                s->server_ports[s->n_server_ports++] = port;
        }
    }
}

/* Copies a wire string, keeping printable ASCII only (it goes to operators' screens). */
static void
copy_detail(char *dst, const char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n < INV_DETAIL_LEN - 1; i++)
        dst[n++] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = 0;
}

void
inventory_role(struct inventory *inv, const struct inv_addr *addr, enum inv_role role,
               const char *detail, size_t detail_len, uint64_t ts_us)
{
    struct inv_host *h = host_get(inv, addr, ts_us);
    if (!h)
        return;
    char d[INV_DETAIL_LEN];
    copy_detail(d, detail ? detail : "", detail ? detail_len : 0);
    for (int i = 0; i < h->n_roles; i++)
        if (h->roles[i].role == role && strcmp(h->roles[i].detail, d) == 0)
            return;
    if (h->n_roles >= INV_ROLES_MAX)
        return;
    h->roles[h->n_roles].role = (uint8_t)role;
    memcpy(h->roles[h->n_roles].detail, d, sizeof(d));
    h->n_roles++;
}

void
inventory_fact(struct inventory *inv, const struct inv_addr *addr, enum inv_fact fact,
               const char *value, size_t value_len, uint64_t ts_us)
{
    struct inv_host *h = host_get(inv, addr, ts_us);
    if (!h || value_len == 0)
        return;
    copy_detail(h->facts[fact], value, value_len); /* the latest value wins */
}

void
inventory_merge(struct inventory *into, const struct inventory *from)
{
    for (uint32_t i = 0; i < from->n_hosts; i++) {
        const struct inv_host *f = from->hosts[i];
        struct inv_host *h = host_get(into, &f->addr, f->first_us);
        if (!h)
            continue;
        host_get(into, &f->addr, f->last_us);
        if (f->has_mac) {
            memcpy(h->mac, f->mac, 6);
            h->has_mac = true;
        }
        for (int p = 0; p < PROTO_COUNT; p++) {
            h->n_client[p] += f->n_client[p];
            h->n_server[p] += f->n_server[p];
        }
        for (int k = 0; k < f->n_server_ports; k++) {
            bool known = false;
            for (int j = 0; j < h->n_server_ports; j++)
                known = known || h->server_ports[j] == f->server_ports[k];
            if (!known && h->n_server_ports < INV_PORTS_MAX)
                h->server_ports[h->n_server_ports++] = f->server_ports[k];
        }
        for (int k = 0; k < f->n_roles; k++)
            inventory_role(into, &f->addr, (enum inv_role)f->roles[k].role, f->roles[k].detail,
                           strlen(f->roles[k].detail), 0);
        for (int k = 0; k < INV_FACT_COUNT; k++)
            if (f->facts[k][0] && !h->facts[k][0])
                memcpy(h->facts[k], f->facts[k], INV_DETAIL_LEN);
        for (int k = 0; k < f->n_peers; k++)
            add_peer(h, &f->peers[k]);
        h->n_peers_more += f->n_peers_more;
    }
    into->n_dropped += from->n_dropped;
}

size_t
inventory_n_hosts(const struct inventory *inv)
{
    return inv->n_hosts;
}

uint64_t
inventory_n_dropped(const struct inventory *inv)
{
    return inv->n_dropped;
}

static bool
has_role(const struct inv_host *h, enum inv_role r, const char **detail)
{
    for (int i = 0; i < h->n_roles; i++) {
        if (h->roles[i].role == r) {
            if (detail)
                *detail = h->roles[i].detail;
            return true;
        }
    }
    return false;
}

/* Image-producing modalities (DICOM PS3.3 C.7.3.1.1.1); OT and SR and the like are not. */
static bool
is_imaging_modality(const char *m)
{
    static const char *const mods[] = {"CT", "MR", "US", "CR", "DX",  "MG", "NM",   "PT", "XA",
                                       "RF", "IO", "PX", "ES", "OCT", "OP", "IVUS", "RG", NULL};
    for (int i = 0; mods[i]; i++)
        if (strcmp(m, mods[i]) == 0)
            return true;
    return false;
}

/* The device kind and why, from the roles and facts. The first rule that matches wins. */
static const char *
classify(const struct inv_host *h, struct jsonw *w)
{
    const char *d = NULL;
    char why[160];
    const char *kind = "unknown";
    jsonw_key(w, "evidence");
    jsonw_array_begin(w);
    /* A PACS also sends C-STORE (C-MOVE, forwarding) with the facts of the modalities whose
     * images it holds, so serving DICOM decides first. */
    if (has_role(h, INV_ROLE_DICOM_SCP, &d)) {
        kind = "pacs";
        snprintf(why, sizeof(why), "DICOM SCP '%s' serving %llu associations", d,
                 (unsigned long long)h->n_server[PROTO_DICOM]);
        jsonw_str(w, why);
    } else if (has_role(h, INV_ROLE_DICOM_SCU, &d) &&
               is_imaging_modality(h->facts[INV_FACT_MODALITY])) {
        kind = "modality";
        snprintf(why, sizeof(why), "DICOM SCU '%s' sends %s images", d,
                 h->facts[INV_FACT_MODALITY]);
        jsonw_str(w, why);
    } else if (has_role(h, INV_ROLE_HL7_SENDER, &d) && has_role(h, INV_ROLE_HL7_RECEIVER, NULL)) {
        kind = "hl7_interface_engine";
        snprintf(why, sizeof(why), "sends and receives HL7 v2 (as %s)", d);
        jsonw_str(w, why);
    } else if (has_role(h, INV_ROLE_HL7_SENDER, &d) || has_role(h, INV_ROLE_HL7_RECEIVER, &d)) {
        kind = "hl7_system";
        snprintf(why, sizeof(why), "HL7 v2 application %s", d);
        jsonw_str(w, why);
    } else if (has_role(h, INV_ROLE_SMB_SERVER, &d)) {
        kind = "file_server";
        snprintf(why, sizeof(why), "SMB server (share %s)", d);
        jsonw_str(w, why);
    } else if (has_role(h, INV_ROLE_FHIR_SERVER, NULL)) {
        kind = "fhir_server";
        jsonw_str(w, "answers FHIR REST requests");
    } else if (has_role(h, INV_ROLE_DNS_SERVER, NULL)) {
        kind = "dns_server";
        jsonw_str(w, "answers DNS queries");
    } else if (has_role(h, INV_ROLE_DICOM_SCU, &d)) {
        kind = "dicom_workstation";
        snprintf(why, sizeof(why), "DICOM SCU '%s' without an imaging modality", d);
        jsonw_str(w, why);
    } else if (has_role(h, INV_ROLE_RDP_SERVER, NULL) || has_role(h, INV_ROLE_HTTP_SERVER, NULL) ||
               has_role(h, INV_ROLE_TLS_SERVER, NULL)) {
        kind = "server";
        jsonw_str(w, "serves RDP, HTTP or TLS");
    } else {
        bool client = false, server = false;
        for (int p = 0; p < PROTO_COUNT; p++) {
            client = client || h->n_client[p];
            server = server || h->n_server[p];
        }
        if ((h->n_client[PROTO_SMB2] || h->n_client[PROTO_RDP] || h->n_client[PROTO_HTTP] ||
             h->n_client[PROTO_TLS]) &&
            !server) {
            kind = "workstation";
            jsonw_str(w, "a client of SMB, RDP or web servers, serving nothing");
        }
    }
    jsonw_array_end(w);
    return kind;
}

static int
host_cmp(const void *a, const void *b)
{
    const struct inv_host *x = *(const struct inv_host *const *)a;
    const struct inv_host *y = *(const struct inv_host *const *)b;
    if (x->addr.ip_version != y->addr.ip_version)
        return x->addr.ip_version < y->addr.ip_version ? -1 : 1;
    return memcmp(x->addr.ip.b, y->addr.ip.b, sizeof(x->addr.ip.b));
}

int
inventory_to_json(const struct inventory *inv, struct buf *out)
{
    struct inv_host **sorted = malloc((inv->n_hosts ? inv->n_hosts : 1) * host_ptr_len);
    if (!sorted)
        return IASO_E_NOMEM;
    memcpy(sorted, inv->hosts, inv->n_hosts * host_ptr_len);
    qsort(sorted, inv->n_hosts, host_ptr_len, host_cmp);
    char ts[TIMEFMT_EVE_LEN + 1], addr[64];
    struct jsonw w;
    jsonw_begin(&w, out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "hosts_dropped");
    jsonw_u64(&w, inv->n_dropped);
    jsonw_key(&w, "hosts");
    jsonw_array_begin(&w);
    for (uint32_t i = 0; i < inv->n_hosts; i++) {
        const struct inv_host *h = sorted[i];
        jsonw_object_begin(&w);
        ipaddr_format(&h->addr.ip, h->addr.ip_version, addr, sizeof(addr));
        jsonw_key(&w, "ip");
        jsonw_str(&w, addr);
        if (h->has_mac) {
            char mac[18];
            snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", h->mac[0], h->mac[1],
                     h->mac[2], h->mac[3], h->mac[4], h->mac[5]);
            jsonw_key(&w, "mac");
            jsonw_str(&w, mac);
        }
        timefmt_eve(h->first_us, ts, sizeof(ts));
        jsonw_key(&w, "first_seen");
        jsonw_str(&w, ts);
        timefmt_eve(h->last_us, ts, sizeof(ts));
        jsonw_key(&w, "last_seen");
        jsonw_str(&w, ts);
        const char *kind = NULL;
        {
            /* The evidence is written first into the object, the kind after it. */
            kind = classify(h, &w);
        }
        jsonw_key(&w, "kind");
        jsonw_str(&w, kind);
        jsonw_key(&w, "roles");
        jsonw_array_begin(&w);
        for (int k = 0; k < h->n_roles; k++) {
            jsonw_object_begin(&w);
            jsonw_key(&w, "role");
            jsonw_str(&w, role_names[h->roles[k].role]);
            if (h->roles[k].detail[0]) {
                jsonw_key(&w, "detail");
                jsonw_str(&w, h->roles[k].detail);
            }
            jsonw_object_end(&w);
        }
        jsonw_array_end(&w);
        jsonw_key(&w, "device");
        jsonw_object_begin(&w);
        for (int k = 0; k < INV_FACT_COUNT; k++) {
            if (h->facts[k][0]) {
                jsonw_key_str(&w, fact_names[k]);
                jsonw_str(&w, h->facts[k]);
            }
        }
        jsonw_object_end(&w);
        jsonw_key(&w, "protocols");
        jsonw_object_begin(&w);
        for (int p = 0; p < PROTO_COUNT; p++) {
            if (!h->n_client[p] && !h->n_server[p])
                continue;
            jsonw_key_str(&w, proto_name((enum proto_id)p));
            jsonw_object_begin(&w);
            jsonw_key(&w, "as_client");
            jsonw_u64(&w, h->n_client[p]);
            jsonw_key(&w, "as_server");
            jsonw_u64(&w, h->n_server[p]);
            jsonw_object_end(&w);
        }
        jsonw_object_end(&w);
        jsonw_key(&w, "server_ports");
        jsonw_array_begin(&w);
        for (int k = 0; k < h->n_server_ports; k++)
            jsonw_u64(&w, h->server_ports[k]);
        jsonw_array_end(&w);
        jsonw_key(&w, "peers");
        jsonw_array_begin(&w);
        for (int k = 0; k < h->n_peers; k++) {
            ipaddr_format(&h->peers[k].ip, h->peers[k].ip_version, addr, sizeof(addr));
            jsonw_str(&w, addr);
        }
        jsonw_array_end(&w);
        jsonw_key(&w, "peers_not_listed");
        jsonw_u64(&w, h->n_peers_more);
        jsonw_object_end(&w);
    }
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    free(sorted);
    int rc = jsonw_end(&w);
    return rc ? rc : buf_append_char(out, '\n');
}

int
inventory_write(const struct inventory *inv, const char *path, struct errbuf *eb)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = inventory_to_json(inv, &b);
    if (rc < 0) {
        buf_release(&b);
        return err_set(eb, rc, "%s: cannot build the inventory: %s", path, iaso_strerror(rc));
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        int e = errno;
        buf_release(&b);
        return err_set(eb, -e, "%s: cannot write the inventory: %s", tmp, strerror(e));
    }
    size_t off = 0;
    while (off < b.len) {
        ssize_t n = write(fd, b.ptr + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -errno;
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    buf_release(&b);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        return err_set(eb, rc, "%s: cannot write the inventory: %s", path, strerror(-rc));
    }
    return 0;
}
