// SPDX-License-Identifier: Apache-2.0
// DICOM upper layer (PS3.8) and DIMSE (PS3.7) parser: PDU state machine, association
// negotiation, streamed P-DATA with command-set assembly and a streaming data-set reader. See
// dicom.h.
#include "proto/dicom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define DICOM_PDU_HDR_LEN 6
#define DICOM_PDV_HDR_LEN 6
#define DICOM_UNDEFINED 0xffffffffu
#define DICOM_NO_DATA_SET 0x0101

/* Data-set encodings, from the accepted transfer syntax of a presentation context. */
enum ds_ts {
    TS_UNKNOWN = 0, /* no A-ASSOCIATE-AC seen, deflated, or not a transfer syntax we read */
    TS_IMPLICIT_LE,
    TS_EXPLICIT_LE,
    TS_EXPLICIT_BE,
};

/* What a data set is read for. */
enum ds_mode {
    DS_COUNT = 0, /* responses, and anything else: count bytes only */
    DS_STORE,     /* C-STORE-RQ: device facts and patient identifiers */
    DS_QUERY,     /* C-FIND/C-MOVE/C-GET-RQ identifier: every top-level key */
};

/* A sequence, item or encapsulated value the reader is inside. */
struct ds_level {
    uint64_t end; /* stream offset where it ends; DS_END_UNDEFINED: at its delimiter */
    bool opaque;  /* encapsulated pixel data (or UN): its items are skipped, not read */
};

#define DS_END_UNDEFINED UINT64_MAX

/* The streaming element reader of one data set. */
struct ds_reader {
    uint8_t ts;   /* enum ds_ts */
    uint8_t mode; /* enum ds_mode */
    bool stop;    /* nothing more wanted: count only */
    uint8_t hdr[12];
    uint8_t hdr_have, hdr_need;
    uint64_t pos;      /* data-set bytes read */
    uint32_t depth;    /* levels in use in stack */
    uint32_t seq_tag;  /* the top-level sequence whose items' elements are query keys */
    uint32_t tag;      /* of the element whose value is being read */
    uint32_t val_left; /* value bytes of that element still to come */
    bool capture;      /* keep the value (up to DICOM_VALUE_MAX bytes) */
    uint32_t val_len;
    char val[DICOM_VALUE_MAX];
    struct ds_level stack[DICOM_DEPTH_MAX];
};

/* One direction of the flow. */
struct dicom_dir {
    uint8_t hdr[DICOM_PDU_HDR_LEN];
    uint8_t hdr_have;
    uint8_t pdu_type;
    uint32_t pdu_len;
    uint32_t pdu_left; /* body bytes still to come */
    uint8_t *pdu;      /* owns: body of a non-P-DATA PDU being assembled */
    size_t pdu_cap;

    /* P-DATA-TF: the PDV being read. */
    uint8_t pdv_hdr[DICOM_PDV_HDR_LEN];
    uint8_t pdv_have;
    uint32_t pdv_left; /* data bytes of the current PDV still to come */
    uint8_t pdv_pc_id;
    uint8_t pdv_mch; /* message control header: bit 0 command, bit 1 last fragment */

    uint8_t *cmd; /* owns: the command set being assembled */
    size_t cmd_len, cmd_cap;

    bool pending;             /* a command whose data set is being read */
    struct dicom_dimse dimse; /* that command */
    struct ds_reader ds;
};

/* Heap part of the state, allocated at the first parse(). */
struct dicom_flow {
    struct dicom_dir dir[2];
    uint8_t ts_of_pc[256]; /* enum ds_ts by accepted presentation context ID */
    bool in_assoc;         /* an A-ASSOCIATE-RQ or -AC was seen and no summary emitted yet */
    struct dicom_association assoc;
    struct dicom_pctx pctx[DICOM_CONTEXTS_MAX];
};

struct dicom_state {
    struct dicom_flow *flow; /* owns */
    bool failed;
};

static const uint16_t dicom_ports[] = {104, 11112, 4242, 0};

/* ---- names ---- */

static const struct {
    const char *uid;
    const char *name;
} dicom_uids[] = {
    {"1.2.840.10008.1.1", "Verification"},
    {"1.2.840.10008.3.1.1.1", "DICOMApplicationContext"},
    {"1.2.840.10008.1.2", "ImplicitVRLittleEndian"},
    {"1.2.840.10008.1.2.1", "ExplicitVRLittleEndian"},
    {"1.2.840.10008.1.2.1.99", "DeflatedExplicitVRLittleEndian"},
    {"1.2.840.10008.1.2.2", "ExplicitVRBigEndian"},
    {"1.2.840.10008.1.2.4.50", "JPEGBaseline8Bit"},
    {"1.2.840.10008.1.2.4.51", "JPEGExtended12Bit"},
    {"1.2.840.10008.1.2.4.57", "JPEGLossless"},
    {"1.2.840.10008.1.2.4.70", "JPEGLosslessSV1"},
    {"1.2.840.10008.1.2.4.80", "JPEGLSLossless"},
    {"1.2.840.10008.1.2.4.81", "JPEGLSNearLossless"},
    {"1.2.840.10008.1.2.4.90", "JPEG2000Lossless"},
    {"1.2.840.10008.1.2.4.91", "JPEG2000"},
    {"1.2.840.10008.1.2.5", "RLELossless"},
    {"1.2.840.10008.1.20.1", "StorageCommitmentPushModel"},
    {"1.2.840.10008.3.1.2.3.3", "ModalityPerformedProcedureStep"},
    {"1.2.840.10008.5.1.4.1.1.1", "ComputedRadiographyImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.1.1", "DigitalXRayImageStorageForPresentation"},
    {"1.2.840.10008.5.1.4.1.1.1.1.1", "DigitalXRayImageStorageForProcessing"},
    {"1.2.840.10008.5.1.4.1.1.1.2", "DigitalMammographyXRayImageStorageForPresentation"},
    {"1.2.840.10008.5.1.4.1.1.2", "CTImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.2.1", "EnhancedCTImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.3.1", "UltrasoundMultiFrameImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.4", "MRImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.4.1", "EnhancedMRImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.6.1", "UltrasoundImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.7", "SecondaryCaptureImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.11.1", "GrayscaleSoftcopyPresentationStateStorage"},
    {"1.2.840.10008.5.1.4.1.1.12.1", "XRayAngiographicImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.20", "NuclearMedicineImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.88.11", "BasicTextSRStorage"},
    {"1.2.840.10008.5.1.4.1.1.104.1", "EncapsulatedPDFStorage"},
    {"1.2.840.10008.5.1.4.1.1.128", "PositronEmissionTomographyImageStorage"},
    {"1.2.840.10008.5.1.4.1.1.481.1", "RTImageStorage"},
    {"1.2.840.10008.5.1.4.1.2.1.1", "PatientRootQueryRetrieveInformationModelFind"},
    {"1.2.840.10008.5.1.4.1.2.1.2", "PatientRootQueryRetrieveInformationModelMove"},
    {"1.2.840.10008.5.1.4.1.2.1.3", "PatientRootQueryRetrieveInformationModelGet"},
    {"1.2.840.10008.5.1.4.1.2.2.1", "StudyRootQueryRetrieveInformationModelFind"},
    {"1.2.840.10008.5.1.4.1.2.2.2", "StudyRootQueryRetrieveInformationModelMove"},
    {"1.2.840.10008.5.1.4.1.2.2.3", "StudyRootQueryRetrieveInformationModelGet"},
    {"1.2.840.10008.5.1.4.31", "ModalityWorklistInformationModelFind"},
};

/* The table entry of a UID, or -1. */
static int
uid_index(const char *uid, size_t len)
{
    if (!uid || len == 0)
        return -1;
    for (size_t i = 0; i < sizeof(dicom_uids) / sizeof(dicom_uids[0]); i++)
        if (strlen(dicom_uids[i].uid) == len && memcmp(dicom_uids[i].uid, uid, len) == 0)
            return (int)i;
    return -1;
}

const char *
dicom_uid_name(const char *uid, size_t len)
{
    int i = uid_index(uid, len);
    return i < 0 ? NULL : dicom_uids[i].name;
}

static enum ds_ts
ts_kind(struct bytes uid)
{
    int i = uid_index((const char *)uid.ptr, uid.len);
    if (i < 0)
        return TS_UNKNOWN;
    const char *u = dicom_uids[i].uid;
    if (strcmp(u, "1.2.840.10008.1.2") == 0)
        return TS_IMPLICIT_LE;
    if (strcmp(u, "1.2.840.10008.1.2.2") == 0)
        return TS_EXPLICIT_BE;
    if (strcmp(u, "1.2.840.10008.1.2.1.99") == 0)
        return TS_UNKNOWN; /* deflated: not read */
    /* Explicit VR LE, and the compressed syntaxes: explicit VR little endian with encapsulated
     * pixel data. */
    if (strncmp(u, "1.2.840.10008.1.2.", 18) == 0)
        return TS_EXPLICIT_LE;
    return TS_UNKNOWN;
}

const char *
dicom_command_name(uint16_t cf)
{
    switch (cf) {
    case 0x0001:
        return "C-STORE-RQ";
    case 0x8001:
        return "C-STORE-RSP";
    case 0x0010:
        return "C-GET-RQ";
    case 0x8010:
        return "C-GET-RSP";
    case 0x0020:
        return "C-FIND-RQ";
    case 0x8020:
        return "C-FIND-RSP";
    case 0x0021:
        return "C-MOVE-RQ";
    case 0x8021:
        return "C-MOVE-RSP";
    case 0x0030:
        return "C-ECHO-RQ";
    case 0x8030:
        return "C-ECHO-RSP";
    case 0x0fff:
        return "C-CANCEL-RQ";
    case 0x0100:
        return "N-EVENT-REPORT-RQ";
    case 0x8100:
        return "N-EVENT-REPORT-RSP";
    case 0x0110:
        return "N-GET-RQ";
    case 0x8110:
        return "N-GET-RSP";
    case 0x0120:
        return "N-SET-RQ";
    case 0x8120:
        return "N-SET-RSP";
    case 0x0130:
        return "N-ACTION-RQ";
    case 0x8130:
        return "N-ACTION-RSP";
    case 0x0140:
        return "N-CREATE-RQ";
    case 0x8140:
        return "N-CREATE-RSP";
    case 0x0150:
        return "N-DELETE-RQ";
    case 0x8150:
        return "N-DELETE-RSP";
    default:
        return NULL;
    }
}

const char *
dicom_status_category(uint16_t st)
{
    /* PS3.7 C and the service classes of PS3.4. */
    if (st == 0x0000)
        return "success";
    if (st == 0xff00 || st == 0xff01)
        return "pending";
    if (st == 0xfe00)
        return "cancel";
    if (st == 0x0001 || st == 0x0107 || st == 0x0116 || (st & 0xf000) == 0xb000)
        return "warning";
    return "failure";
}

/* Specific names of common statuses (PS3.4 B.2.3, C.4). */
static const char *
status_name(uint16_t st)
{
    switch (st) {
    case 0x0000:
        return "Success";
    case 0xff00:
        return "Pending";
    case 0xff01:
        return "PendingWarning";
    case 0xfe00:
        return "Cancel";
    case 0x0001:
    case 0xb000:
        return "SubOperationsCompleteWithFailures";
    case 0xb007:
        return "DataSetDoesNotMatchSOPClassWarning";
    case 0xb006:
        return "ElementsDiscarded";
    case 0x0110:
        return "ProcessingFailure";
    case 0x0112:
        return "NoSuchObjectInstance";
    case 0x0122:
        return "SOPClassNotSupported";
    case 0x0124:
        return "NotAuthorized";
    case 0x0211:
        return "UnrecognizedOperation";
    case 0xa700:
    case 0xa701:
    case 0xa702:
        return "OutOfResources";
    case 0xa801:
        return "MoveDestinationUnknown";
    case 0xa900:
        return "IdentifierDoesNotMatchSOPClass";
    default:
        if ((st & 0xf000) == 0xc000)
            return "UnableToProcess";
        return NULL;
    }
}

/* Keywords of the attributes met in queries and stored objects' leading elements; `phi` marks
 * patient identifiers and gives their class. */
struct tag_info {
    uint32_t tag;
    const char *keyword;
    bool is_patient;
    enum phi_class phi;
};

static const struct tag_info dicom_tags[] = {
    {0x00080005, "SpecificCharacterSet", false, PHI_OTHER},
    {0x00080016, "SOPClassUID", false, PHI_OTHER},
    {0x00080018, "SOPInstanceUID", false, PHI_OTHER},
    {0x00080020, "StudyDate", false, PHI_OTHER},
    {0x00080021, "SeriesDate", false, PHI_OTHER},
    {0x00080030, "StudyTime", false, PHI_OTHER},
    {0x00080031, "SeriesTime", false, PHI_OTHER},
    {0x00080050, "AccessionNumber", true, PHI_OTHER},
    {0x00080052, "QueryRetrieveLevel", false, PHI_OTHER},
    {0x00080054, "RetrieveAETitle", false, PHI_OTHER},
    {0x00080056, "InstanceAvailability", false, PHI_OTHER},
    {0x00080060, "Modality", false, PHI_OTHER},
    {0x00080061, "ModalitiesInStudy", false, PHI_OTHER},
    {0x00080062, "SOPClassesInStudy", false, PHI_OTHER},
    {0x00080070, "Manufacturer", false, PHI_OTHER},
    {0x00080080, "InstitutionName", false, PHI_OTHER},
    {0x00080090, "ReferringPhysicianName", false, PHI_OTHER},
    {0x00081010, "StationName", false, PHI_OTHER},
    {0x00081030, "StudyDescription", false, PHI_OTHER},
    {0x0008103e, "SeriesDescription", false, PHI_OTHER},
    {0x00081090, "ManufacturerModelName", false, PHI_OTHER},
    {0x00100010, "PatientName", true, PHI_NAME},
    {0x00100020, "PatientID", true, PHI_ID},
    {0x00100021, "IssuerOfPatientID", false, PHI_OTHER},
    {0x00100030, "PatientBirthDate", true, PHI_BIRTHDATE},
    {0x00100032, "PatientBirthTime", true, PHI_OTHER},
    {0x00100040, "PatientSex", false, PHI_OTHER},
    {0x00101000, "OtherPatientIDs", true, PHI_ID},
    {0x00101001, "OtherPatientNames", true, PHI_NAME},
    {0x00101010, "PatientAge", false, PHI_OTHER},
    {0x00101040, "PatientAddress", true, PHI_ADDRESS},
    {0x00101060, "PatientMotherBirthName", true, PHI_NAME},
    {0x00102154, "PatientTelephoneNumbers", true, PHI_PHONE},
    {0x00181000, "DeviceSerialNumber", false, PHI_OTHER},
    {0x00181020, "SoftwareVersions", false, PHI_OTHER},
    {0x0020000d, "StudyInstanceUID", false, PHI_OTHER},
    {0x0020000e, "SeriesInstanceUID", false, PHI_OTHER},
    {0x00200010, "StudyID", false, PHI_OTHER},
    {0x00200011, "SeriesNumber", false, PHI_OTHER},
    {0x00200013, "InstanceNumber", false, PHI_OTHER},
    {0x00201200, "NumberOfPatientRelatedStudies", false, PHI_OTHER},
    {0x00201206, "NumberOfStudyRelatedSeries", false, PHI_OTHER},
    {0x00201208, "NumberOfStudyRelatedInstances", false, PHI_OTHER},
    {0x00201209, "NumberOfSeriesRelatedInstances", false, PHI_OTHER},
    {0x00321060, "RequestedProcedureDescription", false, PHI_OTHER},
    {0x00380010, "AdmissionID", true, PHI_OTHER},
    {0x00400001, "ScheduledStationAETitle", false, PHI_OTHER},
    {0x00400002, "ScheduledProcedureStepStartDate", false, PHI_OTHER},
    {0x00400003, "ScheduledProcedureStepStartTime", false, PHI_OTHER},
    {0x00400100, "ScheduledProcedureStepSequence", false, PHI_OTHER},
    {0x00401001, "RequestedProcedureID", false, PHI_OTHER},
};

static const struct tag_info *
tag_find(uint32_t tag)
{
    for (size_t i = 0; i < sizeof(dicom_tags) / sizeof(dicom_tags[0]); i++)
        if (dicom_tags[i].tag == tag)
            return &dicom_tags[i];
    return NULL;
}

/* ---- small helpers ---- */

/* Copies a value with DICOM padding (trailing spaces and NULs, leading spaces) removed, cut to
 * cap - 1 bytes, NUL-terminated. */
static void
copy_trimmed(char *out, size_t cap, const void *src, size_t len)
{
    const char *s = src;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0'))
        len--;
    while (len > 0 && s[0] == ' ') {
        s++;
        len--;
    }
    if (len > cap - 1)
        len = cap - 1;
    if (len)
        memcpy(out, s, len);
    out[len] = '\0';
}

/* A UID with its trailing NUL/space padding removed. */
static struct bytes
uid_trim(struct bytes b)
{
    while (b.len > 0 && (b.ptr[b.len - 1] == '\0' || b.ptr[b.len - 1] == ' '))
        b.len--;
    return b;
}

static void
emit(const struct proto_ctx *ctx, int kind, int dir, uint64_t ts_us, const void *data)
{
    struct proto_event ev = {PROTO_DICOM, kind, dir, ts_us, data};
    ctx->emit(ctx->user, &ev);
}

/* ---- probe ---- */

static enum proto_probe
dicom_probe(const uint8_t *data, size_t len, int dir)
{
    /* An A-ASSOCIATE-RQ from the client; from the server the AC or RJ that answers it. */
    uint8_t want = dir == PROTO_TOSERVER ? DICOM_PDU_ASSOCIATE_RQ : DICOM_PDU_ASSOCIATE_AC;
    if (len >= 1 && data[0] != want &&
        !(dir == PROTO_TOCLIENT && data[0] == DICOM_PDU_ASSOCIATE_RJ))
        return PROTO_PROBE_NO;
    if (len >= 2 && data[1] != 0)
        return PROTO_PROBE_NO;
    if (len < 6)
        return PROTO_PROBE_NEED_MORE;
    uint32_t pdu_len = load_be32(data + 2);
    if (data[0] == DICOM_PDU_ASSOCIATE_RJ)
        return pdu_len == 4 ? PROTO_PROBE_YES : PROTO_PROBE_NO;
    /* Version, reserved, two AE titles and 32 reserved bytes come before any item. */
    if (pdu_len < 68 || pdu_len > DICOM_PDU_MAX)
        return PROTO_PROBE_NO;
    if (len >= 8 && load_be16(data + 6) != 0x0001)
        return PROTO_PROBE_NO;
    size_t ae_end = len < 42 ? len : 42;
    for (size_t i = 10; i < ae_end; i++)
        if (data[i] < 0x20 || data[i] > 0x7e)
            return PROTO_PROBE_NO;
    return len < 42 ? PROTO_PROBE_NEED_MORE : PROTO_PROBE_YES;
}

/* ---- association summary ---- */

static void
assoc_emit(struct dicom_flow *f, const struct proto_ctx *ctx, int dir, uint64_t ts_us,
           const char *end)
{
    if (!f->in_assoc)
        return;
    f->assoc.end = end;
    emit(ctx, DICOM_EVENT_ASSOCIATION, dir, ts_us, &f->assoc);
    memset(&f->assoc, 0, sizeof(f->assoc));
    f->in_assoc = false;
}

/* ---- A-ASSOCIATE-RQ / -AC ---- */

/* Validates the sub-items of a presentation context item, filling pc. */
static int
pctx_parse(struct dicom_pctx *pc, struct bytes body, bool is_rq)
{
    struct cursor c;
    cursor_init(&c, body.ptr, body.len);
    pc->id = cursor_u8(&c);
    cursor_skip(&c, 1);
    pc->result = cursor_u8(&c);
    cursor_skip(&c, 1);
    if (c.err)
        return IASO_E_FORMAT;
    const uint8_t *ts_start = NULL;
    size_t ts_end = 0;
    uint32_t n_sub = 0;
    while (cursor_left(&c) > 0) {
        size_t at = c.off;
        uint8_t type = cursor_u8(&c);
        cursor_skip(&c, 1);
        struct bytes v = cursor_take(&c, cursor_be16(&c));
        if (c.err || ++n_sub > DICOM_ITEMS_MAX)
            return IASO_E_FORMAT;
        if (type == 0x30 && is_rq) {
            pc->abstract_syntax = uid_trim(v);
        } else if (type == 0x40) {
            /* The transfer-syntax sub-items are contiguous in practice; keep the run from the
             * first to the last and skip others within it when iterating. */
            if (!ts_start)
                ts_start = body.ptr + at;
            ts_end = c.off;
            pc->n_transfer_syntaxes++;
        }
    }
    if (ts_start)
        pc->transfer_syntaxes = bytes_make(ts_start, (size_t)(body.ptr + ts_end - ts_start));
    return 0;
}

struct bytes
dicom_pctx_ts(const struct dicom_pctx *pc, uint32_t i)
{
    struct cursor c;
    struct bytes none = {NULL, 0};
    cursor_init(&c, pc->transfer_syntaxes.ptr, pc->transfer_syntaxes.len);
    uint32_t k = 0;
    while (cursor_left(&c) > 0) {
        uint8_t type = cursor_u8(&c);
        cursor_skip(&c, 1);
        struct bytes v = cursor_take(&c, cursor_be16(&c));
        if (c.err)
            break;
        if (type == 0x40 && k++ == i)
            return uid_trim(v);
    }
    return none;
}

static void
user_info_parse(struct dicom_associate *a, struct bytes body)
{
    struct cursor c;
    cursor_init(&c, body.ptr, body.len);
    while (cursor_left(&c) > 0) {
        uint8_t type = cursor_u8(&c);
        cursor_skip(&c, 1);
        struct bytes v = cursor_take(&c, cursor_be16(&c));
        if (c.err)
            break;
        switch (type) {
        case 0x51:
            if (v.len == 4) {
                a->has_max_pdu = true;
                a->max_pdu = load_be32(v.ptr);
            }
            break;
        case 0x52:
            a->implementation_class_uid = uid_trim(v);
            break;
        case 0x54:
            a->n_role_selections++;
            break;
        case 0x55:
            a->implementation_version_name = uid_trim(v);
            break;
        case 0x56:
            a->n_extended_negotiations++;
            break;
        case 0x58:
            if (v.len >= 1)
                a->user_identity_type = v.ptr[0];
            break;
        default:
            break;
        }
    }
}

static int
associate_parse(struct dicom_flow *f, const struct proto_ctx *ctx, int dir, uint8_t type,
                const uint8_t *body, size_t len, uint64_t ts_us)
{
    struct dicom_associate a;
    memset(&a, 0, sizeof(a));
    a.pdu_type = type;
    struct cursor c;
    cursor_init(&c, body, len);
    a.protocol_version = cursor_be16(&c);
    cursor_skip(&c, 2);
    struct bytes called = cursor_take(&c, 16);
    struct bytes calling = cursor_take(&c, 16);
    cursor_skip(&c, 32);
    if (c.err)
        return IASO_E_FORMAT;
    copy_trimmed(a.called_ae, sizeof(a.called_ae), called.ptr, called.len);
    copy_trimmed(a.calling_ae, sizeof(a.calling_ae), calling.ptr, calling.len);
    uint32_t n_items = 0;
    while (cursor_left(&c) > 0) {
        uint8_t itype = cursor_u8(&c);
        cursor_skip(&c, 1);
        struct bytes v = cursor_take(&c, cursor_be16(&c));
        if (c.err)
            return IASO_E_FORMAT;
        if (++n_items > DICOM_ITEMS_MAX)
            return IASO_E_LIMIT;
        if (itype == 0x10) {
            a.application_context = uid_trim(v);
        } else if ((itype == 0x20 && type == DICOM_PDU_ASSOCIATE_RQ) ||
                   (itype == 0x21 && type == DICOM_PDU_ASSOCIATE_AC)) {
            if (a.n_contexts == DICOM_CONTEXTS_MAX)
                return IASO_E_LIMIT;
            struct dicom_pctx *pc = &f->pctx[a.n_contexts];
            memset(pc, 0, sizeof(*pc));
            int rc = pctx_parse(pc, v, type == DICOM_PDU_ASSOCIATE_RQ);
            if (rc < 0)
                return rc;
            a.n_contexts++;
        } else if (itype == 0x50) {
            user_info_parse(&a, v);
        }
    }
    a.contexts = f->pctx;

    if (type == DICOM_PDU_ASSOCIATE_RQ) {
        /* A new association: the previous one (if its end was not seen) is over. */
        assoc_emit(f, ctx, dir, ts_us, "flow_end");
        memset(f->ts_of_pc, 0, sizeof(f->ts_of_pc));
        f->in_assoc = true;
        memcpy(f->assoc.calling_ae, a.calling_ae, sizeof(a.calling_ae));
        memcpy(f->assoc.called_ae, a.called_ae, sizeof(a.called_ae));
    } else {
        if (!f->in_assoc) {
            f->in_assoc = true;
            memcpy(f->assoc.calling_ae, a.calling_ae, sizeof(a.calling_ae));
            memcpy(f->assoc.called_ae, a.called_ae, sizeof(a.called_ae));
        }
        f->assoc.accepted = true;
        /* The titles of the request this answers: the AC's own are echoes the standard says
         * are not to be checked, so some implementations send anything there. */
        a.request_calling_ae = f->assoc.calling_ae;
        a.request_called_ae = f->assoc.called_ae;
        for (uint32_t i = 0; i < a.n_contexts; i++) {
            const struct dicom_pctx *pc = &f->pctx[i];
            f->ts_of_pc[pc->id] =
                (uint8_t)(pc->result == 0 && pc->n_transfer_syntaxes ? ts_kind(dicom_pctx_ts(pc, 0))
                                                                     : TS_UNKNOWN);
        }
    }
    emit(ctx, type == DICOM_PDU_ASSOCIATE_RQ ? DICOM_EVENT_ASSOCIATE_RQ : DICOM_EVENT_ASSOCIATE_AC,
         dir, ts_us, &a);
    return 0;
}

/* A whole non-P-DATA PDU. */
static int
pdu_done(struct dicom_flow *f, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    struct dicom_dir *d = &f->dir[dir];
    const uint8_t *b = d->pdu;
    size_t len = d->pdu_len;
    switch (d->pdu_type) {
    case DICOM_PDU_ASSOCIATE_RQ:
    case DICOM_PDU_ASSOCIATE_AC:
        return associate_parse(f, ctx, dir, d->pdu_type, b, len, ts_us);
    case DICOM_PDU_ASSOCIATE_RJ: {
        if (len < 4)
            return IASO_E_FORMAT;
        struct dicom_reject r = {b[1], b[2], b[3]};
        emit(ctx, DICOM_EVENT_ASSOCIATE_RJ, dir, ts_us, &r);
        f->in_assoc = true; /* a summary also for a rejected association */
        assoc_emit(f, ctx, dir, ts_us, "reject");
        return 0;
    }
    case DICOM_PDU_RELEASE_RQ:
    case DICOM_PDU_RELEASE_RP: {
        struct dicom_release r = {d->pdu_type};
        emit(ctx, DICOM_EVENT_RELEASE, dir, ts_us, &r);
        if (d->pdu_type == DICOM_PDU_RELEASE_RP)
            assoc_emit(f, ctx, dir, ts_us, "release");
        return 0;
    }
    case DICOM_PDU_ABORT: {
        if (len < 4)
            return IASO_E_FORMAT;
        struct dicom_abort a = {b[2], b[3]};
        emit(ctx, DICOM_EVENT_ABORT, dir, ts_us, &a);
        assoc_emit(f, ctx, dir, ts_us, "abort");
        return 0;
    }
    default:
        return IASO_E_FORMAT;
    }
}

/* ---- DIMSE ---- */

static void
dimse_count(struct dicom_flow *f, const struct dicom_dimse *m)
{
    struct dicom_association *a = &f->assoc;
    switch (m->command_field) {
    case 0x0001:
        a->n_store++;
        a->store_bytes += m->data_set_len;
        break;
    case 0x0010:
        a->n_get++;
        break;
    case 0x0020:
        a->n_find++;
        break;
    case 0x0021:
        a->n_move++;
        break;
    case 0x0030:
        a->n_echo++;
        break;
    default:
        if (m->command_field & 0x8000) {
            if ((m->has & DICOM_HAS_STATUS) &&
                strcmp(dicom_status_category(m->status), "failure") == 0)
                a->n_failures++;
        } else {
            a->n_other++;
        }
        break;
    }
}

static void
dimse_emit(struct dicom_flow *f, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    struct dicom_dir *d = &f->dir[dir];
    dimse_count(f, &d->dimse);
    emit(ctx, DICOM_EVENT_DIMSE, dir, ts_us, &d->dimse);
    d->pending = false;
}

/* Reads a command set (implicit VR little endian, group 0000 only). */

/* The command elements (group 0000) that are one unsigned short: where each goes in the event
 * and the bit that says it was present. */
static const struct {
    size_t off;
    uint32_t bit;
    uint16_t elem;
} us_elements[] = {
    {offsetof(struct dicom_dimse, command_field), DICOM_HAS_COMMAND_FIELD, 0x0100},
    {offsetof(struct dicom_dimse, message_id), DICOM_HAS_MESSAGE_ID, 0x0110},
    {offsetof(struct dicom_dimse, responded_to), DICOM_HAS_RESPONDED_TO, 0x0120},
    {offsetof(struct dicom_dimse, priority), DICOM_HAS_PRIORITY, 0x0700},
    {offsetof(struct dicom_dimse, data_set_type), DICOM_HAS_DATA_SET_TYPE, 0x0800},
    {offsetof(struct dicom_dimse, status), DICOM_HAS_STATUS, 0x0900},
    {offsetof(struct dicom_dimse, n_remaining), DICOM_HAS_REMAINING, 0x1020},
    {offsetof(struct dicom_dimse, n_completed), DICOM_HAS_COMPLETED, 0x1021},
    {offsetof(struct dicom_dimse, n_failed), DICOM_HAS_FAILED, 0x1022},
    {offsetof(struct dicom_dimse, n_warning), DICOM_HAS_WARNING, 0x1023},
};

static int
command_parse(struct dicom_dimse *m, const uint8_t *p, size_t len)
{
    struct cursor c;
    cursor_init(&c, p, len);
    while (cursor_left(&c) > 0) {
        uint16_t group = cursor_le16(&c);
        uint16_t elem = cursor_le16(&c);
        uint32_t vlen = cursor_le32(&c);
        struct bytes v = cursor_take(&c, vlen);
        if (c.err || group != 0x0000)
            return IASO_E_FORMAT;
        uint16_t us = v.len == 2 ? (uint16_t)(v.ptr[0] | (unsigned)v.ptr[1] << 8) : 0;
        bool is_us = v.len == 2;
        switch (elem) {
        case 0x0002:
            copy_trimmed(m->affected_sop_class, sizeof(m->affected_sop_class), v.ptr, v.len);
            break;
        case 0x0600:
            copy_trimmed(m->move_destination, sizeof(m->move_destination), v.ptr, v.len);
            break;
        case 0x0902:
            copy_trimmed(m->error_comment, sizeof(m->error_comment), v.ptr, v.len);
            break;
        default:
            for (size_t i = 0; is_us && i < sizeof(us_elements) / sizeof(us_elements[0]); i++) {
                if (us_elements[i].elem == elem) {
                    memcpy((char *)m + us_elements[i].off, &us, sizeof(us));
                    m->has |= us_elements[i].bit;
                }
            }
            break;
        }
    }
    if (!(m->has & DICOM_HAS_COMMAND_FIELD))
        return IASO_E_FORMAT;
    return 0;
}

/* ---- data sets ---- */

static bool
vr_is_long(const uint8_t *vr)
{
    /* PS3.5 7.1.2: these VRs have 2 reserved bytes and a 4-byte length. */
    static const uint8_t long_vrs[][2] = {
        {'O', 'B'}, {'O', 'D'}, {'O', 'F'}, {'O', 'L'}, {'O', 'V'}, {'O', 'W'}, {'S', 'Q'},
        {'S', 'V'}, {'U', 'C'}, {'U', 'N'}, {'U', 'R'}, {'U', 'T'}, {'U', 'V'}};
    for (size_t i = 0; i < sizeof(long_vrs) / sizeof(long_vrs[0]); i++)
        if (vr[0] == long_vrs[i][0] && vr[1] == long_vrs[i][1])
            return true;
    return false;
}

static uint16_t
ds_16(const struct ds_reader *r, const uint8_t *p)
{
    return r->ts == TS_EXPLICIT_BE ? load_be16(p) : (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t
ds_32(const struct ds_reader *r, const uint8_t *p)
{
    return r->ts == TS_EXPLICIT_BE
               ? load_be32(p)
               : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static enum dicom_match
match_kind(const char *v, size_t len)
{
    if (len == 0 || (len == 1 && v[0] == '*'))
        return DICOM_MATCH_UNIVERSAL;
    if (memchr(v, '*', len) || memchr(v, '?', len))
        return DICOM_MATCH_WILDCARD;
    if (memchr(v, '\\', len))
        return DICOM_MATCH_LIST;
    return DICOM_MATCH_EXACT;
}

/* Where a stored object's leading element goes, and as what. */
static char *
store_slot(struct dicom_dimse *m, uint32_t tag, enum phi_class *cls, bool *is_patient, size_t *cap)
{
    *is_patient = false;
    *cls = PHI_OTHER;
    *cap = DICOM_VALUE_MAX; /* and PHI_VALUE_MAX for the patient fields */
    switch (tag) {
    case 0x00080016:
        *cap = sizeof(m->sop_class);
        return m->sop_class;
    case 0x00080060:
        return m->modality;
    case 0x00080070:
        return m->manufacturer;
    case 0x00081010:
        return m->station_name;
    case 0x00081090:
        return m->model;
    case 0x00100010:
        *is_patient = true;
        *cls = PHI_NAME;
        return m->patient_name;
    case 0x00100020:
        *is_patient = true;
        *cls = PHI_ID;
        return m->patient_id;
    case 0x00100030:
        *is_patient = true;
        *cls = PHI_BIRTHDATE;
        return m->patient_birth_date;
    case 0x00181000:
        return m->device_serial_number;
    case 0x00181020:
        return m->software_versions;
    default:
        return NULL;
    }
}

/* The last wanted element of a stored object: past it, the data set is only counted. */
#define DICOM_STORE_LAST_TAG 0x00181020u

/* An element of a data set is complete (value in r->val, cut at DICOM_VALUE_MAX): a top-level
 * one, or (queries) one in an item of a top-level sequence, whose key then names the sequence. */
static void
ds_element(struct dicom_dimse *m, struct ds_reader *r, const struct proto_ctx *ctx, bool is_seq)
{
    bool nested = r->depth > 0;
    const char *v = r->val;
    size_t len = r->val_len;
    /* Values are padded to even length with a space (or NUL for UIDs). */
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\0'))
        len--;
    while (len > 0 && v[0] == ' ') {
        v++;
        len--;
    }
    if (r->mode == DS_STORE) {
        if (nested)
            return;
        enum phi_class cls;
        bool is_patient;
        size_t cap;
        char *slot = store_slot(m, r->tag, &cls, &is_patient, &cap);
        if (!slot || is_seq)
            return;
        if (is_patient)
            phi_pseudonymise(ctx->phi, cls, v, len, slot);
        else
            copy_trimmed(slot, cap, v, len);
        return;
    }
    /* DS_QUERY */
    if (r->tag == 0x00080052 && !nested) {
        copy_trimmed(m->query_level, sizeof(m->query_level), v, len);
        return;
    }
    if (r->tag == 0x00080005 || (r->tag & 0xffff) == 0) /* character set, group lengths */
        return;
    if (m->n_keys == DICOM_KEYS_MAX) {
        m->keys_truncated = true;
        return;
    }
    struct dicom_key *k = &m->keys[m->n_keys++];
    const struct tag_info *ti = tag_find(r->tag);
    k->tag = r->tag;
    k->keyword = ti ? ti->keyword : NULL;
    k->parent_tag = nested ? r->seq_tag : 0;
    const struct tag_info *pti = nested ? tag_find(r->seq_tag) : NULL;
    k->parent_keyword = pti ? pti->keyword : NULL;
    /* Keys we do not know may hold patient data: treat them as such. */
    k->is_patient = ti ? ti->is_patient : true;
    k->value[0] = '\0';
    if (is_seq) {
        k->match = DICOM_MATCH_SEQUENCE;
        return;
    }
    k->match = match_kind(v, len);
    if (k->match == DICOM_MATCH_EXACT && !k->is_patient && memchr(v, '-', len) &&
        (r->tag == 0x00080020 || r->tag == 0x00080021 || r->tag == 0x00080030 ||
         r->tag == 0x00080031 || r->tag == 0x00400002 || r->tag == 0x00400003))
        k->match = DICOM_MATCH_RANGE;
    if (k->match == DICOM_MATCH_UNIVERSAL)
        return;
    if (k->is_patient) {
        if (k->match == DICOM_MATCH_EXACT || k->match == DICOM_MATCH_LIST)
            phi_pseudonymise(ctx->phi, ti ? ti->phi : PHI_OTHER, v, len, k->value);
        return;
    }
    copy_trimmed(k->value, sizeof(k->value), v, len);
}

/* Starts reading the data set of the command in d->dimse. */
static void
ds_begin(struct dicom_flow *f, struct dicom_dir *d, uint8_t pc_id)
{
    struct ds_reader *r = &d->ds;
    memset(r, 0, sizeof(*r));
    r->ts = f->ts_of_pc[pc_id];
    switch (d->dimse.command_field) {
    case 0x0001:
        r->mode = DS_STORE;
        break;
    case 0x0010:
    case 0x0020:
    case 0x0021:
        r->mode = DS_QUERY;
        break;
    default:
        r->mode = DS_COUNT;
        break;
    }
    if (r->ts == TS_UNKNOWN)
        r->mode = DS_COUNT;
    r->stop = r->mode == DS_COUNT;
    r->hdr_need = 8;
    d->dimse.data_set_parsed = !r->stop;
}

/* Enters a sequence, item or encapsulated value. */
static int
ds_push(struct ds_reader *r, uint32_t vlen, bool opaque)
{
    if (r->depth == DICOM_DEPTH_MAX)
        return IASO_E_LIMIT;
    struct ds_level *l = &r->stack[r->depth++];
    l->end = vlen == DICOM_UNDEFINED ? DS_END_UNDEFINED : r->pos + vlen;
    l->opaque = opaque;
    r->val_left = 0;
    return 0;
}

/* Leaves the defined-length levels that end where the reader is. */
static void
ds_pop_ended(struct ds_reader *r)
{
    while (r->depth > 0 && r->stack[r->depth - 1].end != DS_END_UNDEFINED &&
           r->pos >= r->stack[r->depth - 1].end)
        r->depth--;
}

static bool
is_sequence_tag(uint32_t tag)
{
    /* Implicit VR does not say which elements are sequences; keywords do. */
    const struct tag_info *ti = tag_find(tag);
    if (!ti)
        return false;
    size_t n = strlen(ti->keyword);
    return n > 8 && strcmp(ti->keyword + n - 8, "Sequence") == 0;
}

/* An element header is complete in r->hdr: decide what to do with its value. Returns 1 when
 * the header is longer (explicit VR with a 4-byte length). */
static int
ds_header(struct dicom_dimse *m, struct ds_reader *r, const struct proto_ctx *ctx)
{
    uint32_t tag = (uint32_t)ds_16(r, r->hdr) << 16 | ds_16(r, r->hdr + 2);
    uint32_t vlen;
    bool explicit_vr = r->ts != TS_IMPLICIT_LE;
    bool is_sq;
    r->tag = tag;
    r->capture = false;
    r->val_len = 0;
    r->val_left = 0;
    if ((tag >> 16) == 0xfffe) {
        /* Items and delimiters: tag and 4-byte length whatever the transfer syntax. */
        vlen = ds_32(r, r->hdr + 4);
        if (tag != 0xfffee000) {
            if (r->depth > 0)
                r->depth--;
            return 0;
        }
        bool opaque = r->depth > 0 && r->stack[r->depth - 1].opaque;
        if (opaque && vlen != DICOM_UNDEFINED) {
            r->val_left = vlen; /* a fragment of encapsulated pixel data: skipped */
            return 0;
        }
        return ds_push(r, vlen, opaque);
    }
    if (explicit_vr) {
        if (r->hdr_need == 8 && vr_is_long(r->hdr + 4)) {
            r->hdr_need = 12;
            return 1;
        }
        is_sq = r->hdr[4] == 'S' && r->hdr[5] == 'Q';
        vlen = r->hdr_need == 12 ? ds_32(r, r->hdr + 8) : ds_16(r, r->hdr + 6);
    } else {
        vlen = ds_32(r, r->hdr + 4);
        is_sq = (vlen == DICOM_UNDEFINED && tag != 0x7fe00010) || is_sequence_tag(tag);
    }
    if (r->depth == 0 && r->mode == DS_STORE && tag > DICOM_STORE_LAST_TAG) {
        r->stop = true; /* the rest (pixel data included) is only counted */
        return 0;
    }
    if (is_sq) {
        if (r->depth == 0) {
            ds_element(m, r, ctx, true);
            r->seq_tag = tag;
        }
        return ds_push(r, vlen, false);
    }
    if (vlen == DICOM_UNDEFINED)
        return ds_push(r, vlen, true); /* encapsulated pixel data, UN */
    r->val_left = vlen;
    /* Top-level elements; for queries also those in the items of a top-level sequence. */
    r->capture = r->depth == 0 || (r->mode == DS_QUERY && r->depth == 2 && !r->stack[0].opaque &&
                                   !r->stack[1].opaque);
    return 0;
}

/* Feeds data-set bytes of the pending command. */
static int
ds_feed(struct dicom_dimse *m, struct ds_reader *r, const struct proto_ctx *ctx, const uint8_t *p,
        size_t len)
{
    size_t off = 0;
    while (off < len && !r->stop) {
        if (r->hdr_have < r->hdr_need) {
            if (r->hdr_have == 0)
                ds_pop_ended(r);
            size_t k = r->hdr_need - r->hdr_have;
            if (k > len - off)
                k = len - off;
            memcpy(r->hdr + r->hdr_have, p + off, k);
            r->hdr_have = (uint8_t)(r->hdr_have + k);
            r->pos += k;
            off += k;
            if (r->hdr_have < r->hdr_need)
                break;
            int rc = ds_header(m, r, ctx);
            if (rc < 0)
                return rc;
            if (rc == 1)
                continue; /* a longer header */
            if (r->stop)
                break;
            if (r->val_left == 0) {
                if (r->capture)
                    ds_element(m, r, ctx, false);
                r->hdr_have = 0;
                r->hdr_need = 8;
            }
            continue;
        }
        size_t k = r->val_left < len - off ? r->val_left : len - off;
        if (r->capture && r->val_len < DICOM_VALUE_MAX) {
            size_t keep = DICOM_VALUE_MAX - r->val_len < k ? DICOM_VALUE_MAX - r->val_len : k;
            memcpy(r->val + r->val_len, p + off, keep);
            r->val_len += (uint32_t)keep;
        }
        off += k;
        r->pos += k;
        r->val_left -= (uint32_t)k;
        if (r->val_left == 0) {
            if (r->capture)
                ds_element(m, r, ctx, false);
            r->hdr_have = 0;
            r->hdr_need = 8;
        }
    }
    return 0;
}

/* ---- P-DATA ---- */

/* Bytes of a PDV's data: a command fragment or a data-set fragment. */
static int
pdv_data(struct dicom_flow *f, const struct proto_ctx *ctx, int dir, const uint8_t *p, size_t len,
         uint64_t ts_us)
{
    struct dicom_dir *d = &f->dir[dir];
    if (d->pdv_mch & 1) {
        if (len > DICOM_COMMAND_MAX - d->cmd_len)
            return IASO_E_LIMIT;
        if (d->cmd_len + len > d->cmd_cap) {
            size_t cap = d->cmd_cap ? d->cmd_cap : 512;
            while (cap < d->cmd_len + len)
                cap *= 2;
            if (cap > DICOM_COMMAND_MAX)
                cap = DICOM_COMMAND_MAX;
            uint8_t *nb = proto_realloc(d->cmd, cap);
            if (!nb)
                return IASO_E_NOMEM;
            d->cmd = nb;
            d->cmd_cap = cap;
        }
        if (len)
            memcpy(d->cmd + d->cmd_len, p, len);
        d->cmd_len += len;
        return 0;
    }
    if (!d->pending)
        return 0; /* a data set without its command (capture started late) */
    d->dimse.data_set_len += len;
    (void)ts_us;
    return ds_feed(&d->dimse, &d->ds, ctx, p, len);
}

/* The PDV ended: act on a last fragment. */
static int
pdv_end(struct dicom_flow *f, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    struct dicom_dir *d = &f->dir[dir];
    if (!(d->pdv_mch & 2))
        return 0;
    if (d->pdv_mch & 1) {
        /* A command is complete. One still waiting for its data set ends here. */
        if (d->pending)
            dimse_emit(f, ctx, dir, ts_us);
        memset(&d->dimse, 0, sizeof(d->dimse));
        d->dimse.pc_id = d->pdv_pc_id;
        int rc = command_parse(&d->dimse, d->cmd, d->cmd_len);
        d->cmd_len = 0;
        if (rc < 0)
            return rc;
        if ((d->dimse.has & DICOM_HAS_DATA_SET_TYPE) &&
            d->dimse.data_set_type != DICOM_NO_DATA_SET) {
            d->dimse.has_data_set = true;
            d->pending = true;
            ds_begin(f, d, d->pdv_pc_id);
        } else {
            dimse_emit(f, ctx, dir, ts_us);
        }
        return 0;
    }
    if (d->pending) {
        d->dimse.data_set_complete = true;
        dimse_emit(f, ctx, dir, ts_us);
    }
    return 0;
}

/* P-DATA-TF body bytes. */
static int
pdata_feed(struct dicom_flow *f, const struct proto_ctx *ctx, int dir, const uint8_t *p, size_t len,
           uint64_t ts_us)
{
    struct dicom_dir *d = &f->dir[dir];
    size_t off = 0;
    while (off < len) {
        if (d->pdv_have < DICOM_PDV_HDR_LEN) {
            size_t k = DICOM_PDV_HDR_LEN - d->pdv_have;
            if (k > len - off)
                k = len - off;
            memcpy(d->pdv_hdr + d->pdv_have, p + off, k);
            d->pdv_have = (uint8_t)(d->pdv_have + k);
            off += k;
            if (d->pdv_have < DICOM_PDV_HDR_LEN)
                break;
            uint32_t item_len = load_be32(d->pdv_hdr);
            /* The item (after its length field) must fit in what is left of the PDU. */
            if (item_len < 2 || item_len - 2 > d->pdu_left + (len - off))
                return IASO_E_FORMAT;
            d->pdv_pc_id = d->pdv_hdr[4];
            d->pdv_mch = d->pdv_hdr[5];
            d->pdv_left = item_len - 2;
            if (d->pdv_left == 0) {
                d->pdv_have = 0;
                int rc = pdv_end(f, ctx, dir, ts_us);
                if (rc < 0)
                    return rc;
            }
            continue;
        }
        size_t k = d->pdv_left < len - off ? d->pdv_left : len - off;
        int rc = pdv_data(f, ctx, dir, p + off, k, ts_us);
        if (rc < 0)
            return rc;
        off += k;
        d->pdv_left -= (uint32_t)k;
        if (d->pdv_left == 0) {
            d->pdv_have = 0;
            rc = pdv_end(f, ctx, dir, ts_us);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- the PDU layer ---- */

static int
dicom_parse(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
            uint64_t ts_us)
{
    struct dicom_state *s = state;
    if (dir != PROTO_TOSERVER && dir != PROTO_TOCLIENT)
        return IASO_E_INVAL;
    if (s->failed)
        return IASO_E_FORMAT;
    if (!s->flow) {
        s->flow = proto_calloc(1, sizeof(*s->flow));
        if (!s->flow)
            return IASO_E_NOMEM;
    }
    struct dicom_flow *f = s->flow;
    struct dicom_dir *d = &f->dir[dir];
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        if (d->hdr_have < DICOM_PDU_HDR_LEN) {
            size_t k = DICOM_PDU_HDR_LEN - d->hdr_have;
            if (k > len - off)
                k = len - off;
            memcpy(d->hdr + d->hdr_have, data + off, k);
            d->hdr_have = (uint8_t)(d->hdr_have + k);
            off += k;
            if (d->hdr_have < DICOM_PDU_HDR_LEN)
                break;
            d->pdu_type = d->hdr[0];
            d->pdu_len = load_be32(d->hdr + 2);
            d->pdu_left = d->pdu_len;
            if (d->pdu_type < DICOM_PDU_ASSOCIATE_RQ || d->pdu_type > DICOM_PDU_ABORT) {
                rc = IASO_E_FORMAT;
                goto out;
            }
            if (d->pdu_type == DICOM_PDU_P_DATA) {
                /* PDVs never span PDUs (PS3.8 9.3.5): a new PDU starts with a PDV header. */
                if (d->pdv_have != 0 || d->pdv_left != 0) {
                    rc = IASO_E_FORMAT;
                    goto out;
                }
                if (f->in_assoc)
                    f->assoc.pdata_bytes[dir] += DICOM_PDU_HDR_LEN + (uint64_t)d->pdu_len;
            } else {
                if (d->pdu_len > DICOM_PDU_MAX) {
                    rc = IASO_E_LIMIT;
                    goto out;
                }
                if (d->pdu_len > d->pdu_cap) {
                    uint8_t *nb = proto_realloc(d->pdu, d->pdu_len);
                    if (!nb) {
                        rc = IASO_E_NOMEM;
                        goto out;
                    }
                    d->pdu = nb;
                    d->pdu_cap = d->pdu_len;
                }
            }
        } else {
            size_t k = d->pdu_left < len - off ? d->pdu_left : len - off;
            if (d->pdu_type == DICOM_PDU_P_DATA) {
                /* pdata_feed checks PDVs against pdu_left, so account for k first. */
                d->pdu_left -= (uint32_t)k;
                rc = pdata_feed(f, ctx, dir, data + off, k, ts_us);
                if (rc < 0)
                    goto out;
            } else {
                memcpy(d->pdu + (d->pdu_len - d->pdu_left), data + off, k);
                d->pdu_left -= (uint32_t)k;
            }
            off += k;
        }
        if (d->hdr_have == DICOM_PDU_HDR_LEN && d->pdu_left == 0) {
            d->hdr_have = 0;
            if (d->pdu_type == DICOM_PDU_P_DATA) {
                if (d->pdv_have != 0 || d->pdv_left != 0) {
                    rc = IASO_E_FORMAT;
                    goto out;
                }
            } else {
                rc = pdu_done(f, ctx, dir, ts_us);
                if (rc < 0)
                    goto out;
            }
        }
    }
out:
    if (rc < 0) {
        /* What the association did so far is still worth a summary. Its counters change only
         * at PDU and message boundaries, so it is the same whatever the split. */
        assoc_emit(f, ctx, dir, ts_us, "parse_error");
        s->failed = true;
    }
    return rc;
}

static int
dicom_gap(void *state, const struct proto_ctx *ctx, int dir, size_t len)
{
    struct dicom_state *s = state;
    (void)ctx;
    if (dir != PROTO_TOSERVER && dir != PROTO_TOCLIENT)
        return IASO_E_INVAL;
    struct dicom_flow *f = s->flow;
    if (!f || s->failed)
        return IASO_E_TRUNC;
    struct dicom_dir *d = &f->dir[dir];
    /* Bytes lost inside a data-set fragment (pixel data, mostly) are only counted: the PDV
     * boundaries are still known. Anywhere else PDU boundaries are lost and we give up. */
    if (d->hdr_have == DICOM_PDU_HDR_LEN && d->pdu_type == DICOM_PDU_P_DATA &&
        d->pdv_have == DICOM_PDV_HDR_LEN && !(d->pdv_mch & 1) && len < d->pdv_left) {
        d->pdv_left -= (uint32_t)len;
        d->pdu_left -= (uint32_t)len;
        if (d->pending) {
            d->dimse.data_set_len += len;
            d->ds.stop = true; /* the element stream is lost; what was read stays */
        }
        return 0;
    }
    s->failed = true;
    return IASO_E_TRUNC;
}

static void
dicom_end(void *state, const struct proto_ctx *ctx, uint64_t ts_us)
{
    struct dicom_state *s = state;
    struct dicom_flow *f = s->flow;
    if (!f)
        return;
    for (int i = 0; i < 2; i++) {
        struct dicom_dir *d = &f->dir[i];
        if (d->pending && !s->failed)
            dimse_emit(f, ctx, i, ts_us);
        proto_free(d->pdu);
        proto_free(d->cmd);
    }
    if (!s->failed)
        assoc_emit(f, ctx, PROTO_TOSERVER, ts_us, "flow_end");
    proto_free(f);
    s->flow = NULL;
}

/* ---- EVE ---- */

static void
eve_uid(struct jsonw *w, struct bytes uid)
{
    jsonw_strn(w, uid.len ? (const char *)uid.ptr : "", uid.len);
}

static void
eve_uid_named(struct jsonw *w, const char *key_name, struct bytes uid)
{
    const char *name = dicom_uid_name((const char *)uid.ptr, uid.len);
    jsonw_key_str(w, key_name);
    eve_uid(w, uid);
    if (name) {
        char k[64];
        snprintf(k, sizeof(k), "%s_name", key_name);
        jsonw_key_str(w, k);
        jsonw_str(w, name);
    }
}

static void
eve_hex16(struct jsonw *w, uint32_t v, int digits)
{
    char hex[12];
    snprintf(hex, sizeof(hex), "0x%0*x", digits, (unsigned)v);
    jsonw_str(w, hex);
}

static const char *
pdu_name(uint8_t type)
{
    static const char *const names[] = {
        NULL,        "A-ASSOCIATE-RQ", "A-ASSOCIATE-AC", "A-ASSOCIATE-RJ",
        "P-DATA-TF", "A-RELEASE-RQ",   "A-RELEASE-RP",   "A-ABORT"};
    return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

static const char *
match_name(enum dicom_match m)
{
    switch (m) {
    case DICOM_MATCH_UNIVERSAL:
        return "universal";
    case DICOM_MATCH_WILDCARD:
        return "wildcard";
    case DICOM_MATCH_RANGE:
        return "range";
    case DICOM_MATCH_LIST:
        return "list";
    case DICOM_MATCH_EXACT:
        return "exact";
    case DICOM_MATCH_SEQUENCE:
        return "sequence";
    }
    return "unknown";
}

static void
eve_str_if(struct jsonw *w, const char *key, const char *v)
{
    if (v[0]) {
        jsonw_key_str(w, key);
        jsonw_strn(w, v, strlen(v));
    }
}

static void
eve_associate(const struct dicom_associate *a, struct jsonw *w)
{
    bool rq = a->pdu_type == DICOM_PDU_ASSOCIATE_RQ;
    jsonw_key(w, "pdu");
    jsonw_str(w, pdu_name(a->pdu_type));
    jsonw_key(w, "calling_ae");
    jsonw_strn(w, a->calling_ae, strlen(a->calling_ae));
    jsonw_key(w, "called_ae");
    jsonw_strn(w, a->called_ae, strlen(a->called_ae));
    if (a->protocol_version != 1) {
        jsonw_key(w, "protocol_version");
        jsonw_u64(w, a->protocol_version);
    }
    jsonw_key(w, "application_context");
    eve_uid(w, a->application_context);
    jsonw_key(w, "presentation_contexts");
    jsonw_array_begin(w);
    for (uint32_t i = 0; i < a->n_contexts; i++) {
        const struct dicom_pctx *pc = &a->contexts[i];
        jsonw_object_begin(w);
        jsonw_key(w, "id");
        jsonw_u64(w, pc->id);
        if (rq) {
            eve_uid_named(w, "abstract_syntax", pc->abstract_syntax);
            jsonw_key(w, "transfer_syntaxes");
            jsonw_array_begin(w);
            for (uint32_t k = 0; k < pc->n_transfer_syntaxes; k++)
                eve_uid(w, dicom_pctx_ts(pc, k));
            jsonw_array_end(w);
        } else {
            static const char *const results[] = {"acceptance", "user_rejection", "no_reason",
                                                  "abstract_syntax_not_supported",
                                                  "transfer_syntaxes_not_supported"};
            jsonw_key(w, "result");
            if (pc->result < sizeof(results) / sizeof(results[0]))
                jsonw_str(w, results[pc->result]);
            else
                jsonw_u64(w, pc->result);
            if (pc->result == 0 && pc->n_transfer_syntaxes)
                eve_uid_named(w, "transfer_syntax", dicom_pctx_ts(pc, 0));
        }
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
    if (a->implementation_class_uid.len) {
        jsonw_key(w, "implementation_class_uid");
        eve_uid(w, a->implementation_class_uid);
    }
    if (a->implementation_version_name.len) {
        jsonw_key(w, "implementation_version_name");
        jsonw_strn(w, (const char *)a->implementation_version_name.ptr,
                   a->implementation_version_name.len);
    }
    if (a->has_max_pdu) {
        jsonw_key(w, "max_pdu");
        jsonw_u64(w, a->max_pdu);
    }
    if (a->user_identity_type) {
        static const char *const ids[] = {NULL,       "username", "username_passcode",
                                          "kerberos", "saml",     "jwt"};
        jsonw_key(w, "user_identity");
        if (a->user_identity_type < sizeof(ids) / sizeof(ids[0]))
            jsonw_str(w, ids[a->user_identity_type]);
        else
            jsonw_u64(w, a->user_identity_type);
    }
    if (a->n_role_selections) {
        jsonw_key(w, "role_selections");
        jsonw_u64(w, a->n_role_selections);
    }
    if (a->n_extended_negotiations) {
        jsonw_key(w, "extended_negotiations");
        jsonw_u64(w, a->n_extended_negotiations);
    }
}

/* "PatientName", "(0009,1010)", "ScheduledProcedureStepSequence.Modality". */
static void
eve_key_name(char *out, size_t cap, const struct dicom_key *k)
{
    char parent[64] = "", self[64];
    if (k->parent_tag) {
        if (k->parent_keyword)
            snprintf(parent, sizeof(parent), "%s.", k->parent_keyword);
        else
            snprintf(parent, sizeof(parent), "(%04x,%04x).", (unsigned)(k->parent_tag >> 16),
                     (unsigned)(k->parent_tag & 0xffff));
    }
    if (k->keyword)
        snprintf(self, sizeof(self), "%s", k->keyword);
    else
        snprintf(self, sizeof(self), "(%04x,%04x)", (unsigned)(k->tag >> 16),
                 (unsigned)(k->tag & 0xffff));
    snprintf(out, cap, "%s%s", parent, self);
}

static void
eve_dimse(const struct dicom_dimse *m, struct jsonw *w)
{
    const char *name = dicom_command_name(m->command_field);
    jsonw_key(w, "command");
    if (name)
        jsonw_str(w, name);
    else
        eve_hex16(w, m->command_field, 4);
    jsonw_key(w, "presentation_context_id");
    jsonw_u64(w, m->pc_id);
    if (m->has & DICOM_HAS_MESSAGE_ID) {
        jsonw_key(w, "message_id");
        jsonw_u64(w, m->message_id);
    }
    if (m->has & DICOM_HAS_RESPONDED_TO) {
        jsonw_key(w, "message_id_responded_to");
        jsonw_u64(w, m->responded_to);
    }
    if (m->affected_sop_class[0]) {
        jsonw_key(w, "affected_sop_class");
        jsonw_strn(w, m->affected_sop_class, strlen(m->affected_sop_class));
        const char *n = dicom_uid_name(m->affected_sop_class, strlen(m->affected_sop_class));
        if (n) {
            jsonw_key(w, "sop_class_name");
            jsonw_str(w, n);
        }
    }
    if (m->has & DICOM_HAS_PRIORITY) {
        static const char *const prio[] = {"medium", "high", "low"};
        jsonw_key(w, "priority");
        if (m->priority < 3)
            jsonw_str(w, prio[m->priority]);
        else
            jsonw_u64(w, m->priority);
    }
    if (m->has & DICOM_HAS_STATUS) {
        jsonw_key(w, "status");
        jsonw_str(w, dicom_status_category(m->status));
        jsonw_key(w, "status_code");
        eve_hex16(w, m->status, 4);
        const char *sn = status_name(m->status);
        if (sn) {
            jsonw_key(w, "status_name");
            jsonw_str(w, sn);
        }
    }
    eve_str_if(w, "error_comment", m->error_comment);
    eve_str_if(w, "move_destination", m->move_destination);
    if (m->has & DICOM_HAS_REMAINING) {
        jsonw_key(w, "remaining_suboperations");
        jsonw_u64(w, m->n_remaining);
    }
    if (m->has & DICOM_HAS_COMPLETED) {
        jsonw_key(w, "completed_suboperations");
        jsonw_u64(w, m->n_completed);
    }
    if (m->has & DICOM_HAS_FAILED) {
        jsonw_key(w, "failed_suboperations");
        jsonw_u64(w, m->n_failed);
    }
    if (m->has & DICOM_HAS_WARNING) {
        jsonw_key(w, "warning_suboperations");
        jsonw_u64(w, m->n_warning);
    }
    jsonw_key(w, "has_data_set");
    jsonw_bool(w, m->has_data_set);
    if (!m->has_data_set)
        return;
    jsonw_key(w, "data_set_len");
    jsonw_u64(w, m->data_set_len);
    if (!m->data_set_complete) {
        jsonw_key(w, "data_set_complete");
        jsonw_bool(w, false);
    }
    if (m->command_field == 0x0001) {
        if (m->sop_class[0]) {
            jsonw_key(w, "sop_class");
            jsonw_strn(w, m->sop_class, strlen(m->sop_class));
        }
        eve_str_if(w, "modality", m->modality);
        eve_str_if(w, "manufacturer", m->manufacturer);
        eve_str_if(w, "model", m->model);
        eve_str_if(w, "station_name", m->station_name);
        eve_str_if(w, "software_versions", m->software_versions);
        eve_str_if(w, "device_serial_number", m->device_serial_number);
        eve_str_if(w, "patient_name", m->patient_name);
        eve_str_if(w, "patient_id", m->patient_id);
        eve_str_if(w, "patient_birth_date", m->patient_birth_date);
    } else if (m->data_set_parsed) {
        eve_str_if(w, "query_level", m->query_level);
        jsonw_key(w, "query_keys");
        jsonw_array_begin(w);
        for (uint32_t i = 0; i < m->n_keys; i++) {
            const struct dicom_key *k = &m->keys[i];
            jsonw_object_begin(w);
            jsonw_key(w, "key");
            char key_name[128];
            eve_key_name(key_name, sizeof(key_name), k);
            jsonw_str(w, key_name);
            jsonw_key(w, "match");
            jsonw_str(w, match_name(k->match));
            eve_str_if(w, "value", k->value);
            jsonw_object_end(w);
        }
        jsonw_array_end(w);
        if (m->keys_truncated) {
            jsonw_key(w, "query_keys_truncated");
            jsonw_bool(w, true);
        }
    }
}

static void
dicom_eve(const struct proto_event *ev, struct jsonw *w)
{
    switch (ev->kind) {
    case DICOM_EVENT_ASSOCIATE_RQ:
    case DICOM_EVENT_ASSOCIATE_AC:
        eve_associate(ev->data, w);
        break;
    case DICOM_EVENT_ASSOCIATE_RJ: {
        const struct dicom_reject *r = ev->data;
        jsonw_key(w, "pdu");
        jsonw_str(w, "A-ASSOCIATE-RJ");
        jsonw_key(w, "result");
        jsonw_str(w, r->result == 1 ? "permanent" : r->result == 2 ? "transient" : "unknown");
        jsonw_key(w, "source");
        jsonw_u64(w, r->source);
        jsonw_key(w, "reason");
        jsonw_u64(w, r->reason);
        const char *why = NULL;
        if (r->source == 1) {
            static const char *const user[] = {NULL,
                                               "no_reason",
                                               "application_context_not_supported",
                                               "calling_ae_not_recognized",
                                               NULL,
                                               NULL,
                                               NULL,
                                               "called_ae_not_recognized"};
            if (r->reason < sizeof(user) / sizeof(user[0]))
                why = user[r->reason];
        } else if (r->source == 2) {
            why = r->reason == 1   ? "no_reason"
                  : r->reason == 2 ? "protocol_version_not_supported"
                                   : NULL;
        } else if (r->source == 3) {
            why = r->reason == 1   ? "temporary_congestion"
                  : r->reason == 2 ? "local_limit_exceeded"
                                   : NULL;
        }
        if (why) {
            jsonw_key(w, "reason_name");
            jsonw_str(w, why);
        }
        break;
    }
    case DICOM_EVENT_RELEASE: {
        const struct dicom_release *r = ev->data;
        jsonw_key(w, "pdu");
        jsonw_str(w, pdu_name(r->pdu_type));
        break;
    }
    case DICOM_EVENT_ABORT: {
        const struct dicom_abort *a = ev->data;
        jsonw_key(w, "pdu");
        jsonw_str(w, "A-ABORT");
        jsonw_key(w, "source");
        jsonw_str(w, a->source == 0   ? "service_user"
                     : a->source == 2 ? "service_provider"
                                      : "reserved");
        jsonw_key(w, "reason");
        jsonw_u64(w, a->reason);
        break;
    }
    case DICOM_EVENT_DIMSE:
        eve_dimse(ev->data, w);
        break;
    case DICOM_EVENT_ASSOCIATION: {
        const struct dicom_association *a = ev->data;
        jsonw_key(w, "association");
        jsonw_str(w, a->end);
        jsonw_key(w, "calling_ae");
        jsonw_strn(w, a->calling_ae, strlen(a->calling_ae));
        jsonw_key(w, "called_ae");
        jsonw_strn(w, a->called_ae, strlen(a->called_ae));
        jsonw_key(w, "accepted");
        jsonw_bool(w, a->accepted);
        jsonw_key(w, "echoes");
        jsonw_u64(w, a->n_echo);
        jsonw_key(w, "stores");
        jsonw_u64(w, a->n_store);
        jsonw_key(w, "store_bytes");
        jsonw_u64(w, a->store_bytes);
        jsonw_key(w, "finds");
        jsonw_u64(w, a->n_find);
        jsonw_key(w, "moves");
        jsonw_u64(w, a->n_move);
        jsonw_key(w, "gets");
        jsonw_u64(w, a->n_get);
        jsonw_key(w, "other_requests");
        jsonw_u64(w, a->n_other);
        jsonw_key(w, "failures");
        jsonw_u64(w, a->n_failures);
        jsonw_key(w, "bytes_toserver");
        jsonw_u64(w, a->pdata_bytes[PROTO_TOSERVER]);
        jsonw_key(w, "bytes_toclient");
        jsonw_u64(w, a->pdata_bytes[PROTO_TOCLIENT]);
        break;
    }
    default:
        break;
    }
}

const struct proto_parser dicom_parser = {
    .name = "dicom",
    .id = PROTO_DICOM,
    .tcp = true,
    .udp = false,
    .ports = dicom_ports,
    .probe = dicom_probe,
    .state_len = sizeof(struct dicom_state),
    .init = NULL,
    .parse = dicom_parse,
    .gap = dicom_gap,
    .end = dicom_end,
    .eve = dicom_eve,
};
