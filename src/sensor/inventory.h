// SPDX-License-Identifier: Apache-2.0
// The inventory of hosts the sensor sees: addresses, MAC, the roles each plays (DICOM SCU or
// SCP with its AE titles, HL7 sender or receiver with application and facility, file, web, RDP,
// DNS server, ...), device facts learned from DICOM (manufacturer, model, station name, software
// version, implementation version), the protocols spoken and with whom, first and last seen,
// and a device kind with the evidence for it.
//
// Hosts are held in a hash table of at most max_hosts entries (each with capped lists); hosts
// past the cap are counted, not added. Each worker keeps its own inventory; they are merged when
// the sensor stops. No patient data is ever stored here.
#ifndef IASO_SENSOR_INVENTORY_H
#define IASO_SENSOR_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "proto/proto.h"
#include "wire/decode.h"

enum inv_role {
    INV_ROLE_DICOM_SCU,    /* detail: calling AE title */
    INV_ROLE_DICOM_SCP,    /* detail: called AE title */
    INV_ROLE_HL7_SENDER,   /* detail: application^facility */
    INV_ROLE_HL7_RECEIVER, /* detail: application^facility */
    INV_ROLE_HTTP_SERVER,  /* detail: host name asked for */
    INV_ROLE_FHIR_SERVER,
    INV_ROLE_SMB_SERVER, /* detail: share */
    INV_ROLE_RDP_SERVER,
    INV_ROLE_DNS_SERVER,
    INV_ROLE_TLS_SERVER, /* detail: SNI */
    INV_ROLE_COUNT
};

enum inv_fact {
    INV_FACT_MANUFACTURER,
    INV_FACT_MODEL,
    INV_FACT_STATION_NAME,
    INV_FACT_SOFTWARE_VERSIONS,
    INV_FACT_SERIAL_NUMBER,
    INV_FACT_MODALITY,
    INV_FACT_IMPLEMENTATION_VERSION,
    INV_FACT_IMPLEMENTATION_CLASS_UID,
    INV_FACT_COUNT
};

struct inventory;

/* NULL on allocation failure. */
struct inventory *inventory_new(uint32_t max_hosts);
void inventory_free(struct inventory *inv); /* NULL is fine */

/* A host's address, as in a flow key. */
struct inv_addr {
    struct ipaddr ip;
    uint8_t ip_version;
};

/* The MAC seen as the source of a packet from addr. */
void inventory_mac(struct inventory *inv, const struct inv_addr *addr, const uint8_t mac[6],
                   uint64_t ts_us);
/* A conversation: client spoke app_proto (or the transport when NULL) to server on port. */
void inventory_conversation(struct inventory *inv, const struct inv_addr *client,
                            const struct inv_addr *server, enum proto_id app, uint16_t port,
                            uint64_t first_us, uint64_t last_us);
void inventory_role(struct inventory *inv, const struct inv_addr *addr, enum inv_role role,
                    const char *detail, size_t detail_len, uint64_t ts_us);
void inventory_fact(struct inventory *inv, const struct inv_addr *addr, enum inv_fact fact,
                    const char *value, size_t value_len, uint64_t ts_us);

/* Adds everything `from` knows to `into`. */
void inventory_merge(struct inventory *into, const struct inventory *from);

/* Hosts held, and hosts not added because of the cap. */
size_t inventory_n_hosts(const struct inventory *inv);
uint64_t inventory_n_dropped(const struct inventory *inv);

/* The inventory as a JSON document (hosts sorted by address), written to out. */
int inventory_to_json(const struct inventory *inv, struct buf *out);

/* Writes it atomically to path (a temporary file renamed over it). */
int inventory_write(const struct inventory *inv, const char *path, struct errbuf *eb);

const char *inv_role_name(enum inv_role r);
const char *inv_fact_name(enum inv_fact f);

#endif
