// SPDX-License-Identifier: Apache-2.0
// The parser registry: one line per protocol. A parser that is not built in is NULL.
#include "proto/proto.h"

#include <string.h>

#include "proto/registry-int.h"

const struct proto_parser *const proto_parsers[PROTO_COUNT] = {
    [PROTO_DICOM] = PROTO_PARSER_DICOM, [PROTO_HL7] = PROTO_PARSER_HL7,
    [PROTO_HTTP] = PROTO_PARSER_HTTP,   [PROTO_DNS] = PROTO_PARSER_DNS,
    [PROTO_TLS] = PROTO_PARSER_TLS,     [PROTO_SMB2] = PROTO_PARSER_SMB2,
    [PROTO_RDP] = PROTO_PARSER_RDP,
};

const struct proto_parser *
proto_by_name(const char *name)
{
    for (int i = 0; i < PROTO_COUNT; i++)
        if (proto_parsers[i] && strcmp(proto_parsers[i]->name, name) == 0)
            return proto_parsers[i];
    return NULL;
}

const char *
proto_name(enum proto_id id)
{
    static const char *const names[PROTO_COUNT] = {
        [PROTO_NONE] = "other", [PROTO_DICOM] = "dicom", [PROTO_HL7] = "hl7",
        [PROTO_HTTP] = "http",  [PROTO_DNS] = "dns",     [PROTO_TLS] = "tls",
        [PROTO_SMB2] = "smb2",  [PROTO_RDP] = "rdp",
    };
    return id < PROTO_COUNT ? names[id] : "other";
}
