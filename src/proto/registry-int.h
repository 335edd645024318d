// SPDX-License-Identifier: Apache-2.0
// Private to src/proto: which parsers are built in (meson defines IASO_HAVE_<NAME> for each
// parser source present), so the registry can be filled in while parsers are being added.
#ifndef IASO_PROTO_REGISTRY_INT_H
#define IASO_PROTO_REGISTRY_INT_H

#include "proto/proto.h"

#ifdef IASO_HAVE_DICOM
extern const struct proto_parser dicom_parser;
#define PROTO_PARSER_DICOM (&dicom_parser)
#else
#define PROTO_PARSER_DICOM NULL
#endif

#ifdef IASO_HAVE_HL7
extern const struct proto_parser hl7_parser;
#define PROTO_PARSER_HL7 (&hl7_parser)
#else
#define PROTO_PARSER_HL7 NULL
#endif

#ifdef IASO_HAVE_HTTP
extern const struct proto_parser http_parser;
#define PROTO_PARSER_HTTP (&http_parser)
#else
#define PROTO_PARSER_HTTP NULL
#endif

#ifdef IASO_HAVE_DNS
extern const struct proto_parser dns_parser;
#define PROTO_PARSER_DNS (&dns_parser)
#else
#define PROTO_PARSER_DNS NULL
#endif

#ifdef IASO_HAVE_TLS
extern const struct proto_parser tls_parser;
#define PROTO_PARSER_TLS (&tls_parser)
#else
#define PROTO_PARSER_TLS NULL
#endif

#ifdef IASO_HAVE_SMB2
extern const struct proto_parser smb2_parser;
#define PROTO_PARSER_SMB2 (&smb2_parser)
#else
#define PROTO_PARSER_SMB2 NULL
#endif

#ifdef IASO_HAVE_RDP
extern const struct proto_parser rdp_parser;
#define PROTO_PARSER_RDP (&rdp_parser)
#else
#define PROTO_PARSER_RDP NULL
#endif

#endif
