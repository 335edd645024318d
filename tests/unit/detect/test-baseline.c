// SPDX-License-Identifier: Apache-2.0
// The baseline of who talks to whom: learning (asked for and automatic, on traffic time), one
// alert per new pair, accepted pairs, HL7 patient updates, C-MOVE destinations, the file (sorted,
// byte-identical round trip, errors with line numbers), the merge with the operator's edits, the
// cap, and several threads at once.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/baseline.h"
#include "proto/dicom.h"
#include "proto/hl7.h"
#include "proto/rdp.h"
#include "proto/smb2.h"

#define SEC 1000000ull
#define HOUR (3600 * SEC)
#define T0 (1795428000ull * SEC) /* 2026-11-23T10:00:00Z */

/* ---- what the gate let through ---- */

struct record {
    int n;
    enum rule_id rules[64];
    char evidence[2048]; /* of the last alert */
    atomic_int *shared;  /* threads: a count over every gate */
};

static void
on_alert(void *user, const struct alert *a)
{
    struct record *r = user;
    if (r->shared) {
        atomic_fetch_add(r->shared, 1);
        return;
    }
    if (r->n < 64)
        r->rules[r->n] = a->rule;
    r->n++;
    struct buf b;
    buf_init(&b, 0);
    struct jsonw w;
    jsonw_begin(&w, &b);
    jsonw_object_begin(&w);
    if (a->evidence)
        a->evidence(&w, a->evidence_arg);
    jsonw_object_end(&w);
    assert_int_equal(jsonw_end(&w), 0);
    snprintf(r->evidence, sizeof(r->evidence), "%.*s", (int)b.len, (const char *)b.ptr);
    buf_release(&b);
}

static struct alert_gate *
gate_new(struct record *r)
{
    struct alert_gate *g = malloc(sizeof(*g));
    assert_non_null(g);
    struct alert_gate_config c = {0, 0};
    alert_gate_init(g, &c, on_alert, r);
    return g;
}

/* ---- flows and events ---- */

static struct flow
flow4(uint8_t client_last, uint8_t server_last, uint16_t port)
{
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.key.ip_version = 4;
    f.key.addr[0].b[0] = 10;
    f.key.addr[0].b[3] = client_last;
    f.key.addr[1].b[0] = 10;
    f.key.addr[1].b[3] = server_last;
    f.key.port[1] = port;
    f.client = 0;
    f.id = (uint64_t)client_last << 16 | server_last;
    return f;
}

static void
dicom_ac(struct baseline *b, struct alert_gate *g, const struct flow *f, const char *calling,
         const char *called, uint64_t ts)
{
    struct dicom_associate a;
    memset(&a, 0, sizeof(a));
    a.pdu_type = DICOM_PDU_ASSOCIATE_AC;
    snprintf(a.calling_ae, sizeof(a.calling_ae), "%s", calling);
    snprintf(a.called_ae, sizeof(a.called_ae), "%s", called);
    struct proto_event ev = {PROTO_DICOM, DICOM_EVENT_ASSOCIATE_AC, PROTO_TOCLIENT, ts, &a};
    baseline_event(b, g, f, &ev);
}

static void
dicom_move(struct baseline *b, struct alert_gate *g, const struct flow *f, const char *dest,
           uint64_t ts)
{
    static struct dicom_dimse d; /* large: keys */
    memset(&d, 0, sizeof(d));
    d.command_field = 0x0021; /* C-MOVE-RQ */
    d.has = DICOM_HAS_COMMAND_FIELD;
    snprintf(d.move_destination, sizeof(d.move_destination), "%s", dest);
    struct proto_event ev = {PROTO_DICOM, DICOM_EVENT_DIMSE, PROTO_TOSERVER, ts, &d};
    baseline_event(b, g, f, &ev);
}

static void
hl7_set(struct hl7_str *s, const char *v)
{
    s->len = (uint8_t)strlen(v);
    memcpy(s->s, v, s->len);
}

static void
hl7_msg(struct baseline *b, struct alert_gate *g, const struct flow *f, int dir, const char *sapp,
        const char *sfac, const char *rapp, const char *type, const char *event, bool ack,
        uint64_t ts)
{
    static struct hl7_message m;
    memset(&m, 0, sizeof(m));
    hl7_set(&m.sending_application.ns, sapp);
    hl7_set(&m.sending_facility.ns, sfac);
    hl7_set(&m.receiving_application.ns, rapp);
    hl7_set(&m.receiving_facility.ns, "");
    hl7_set(&m.message_type, type);
    hl7_set(&m.trigger_event, event);
    m.has_msa = ack;
    struct proto_event ev = {PROTO_HL7, HL7_EVENT_MESSAGE, dir, ts, &m};
    baseline_event(b, g, f, &ev);
}

static void
smb_tree(struct baseline *b, struct alert_gate *g, const struct flow *f, const char *share,
         uint32_t status, uint64_t ts)
{
    static struct smb2_event e;
    memset(&e, 0, sizeof(e));
    e.command = 3;
    e.has_status = true;
    e.status = status;
    snprintf(e.share, sizeof(e.share), "%s", share);
    struct proto_event ev = {PROTO_SMB2, SMB2_EV_TREE_CONNECT, PROTO_TOCLIENT, ts, &e};
    baseline_event(b, g, f, &ev);
}

static void
rdp_cr(struct baseline *b, struct alert_gate *g, const struct flow *f, uint64_t ts)
{
    struct rdp_event e;
    memset(&e, 0, sizeof(e));
    struct proto_event ev = {PROTO_RDP, RDP_EVENT_CONNECT_REQUEST, PROTO_TOSERVER, ts, &e};
    baseline_event(b, g, f, &ev);
}

static struct baseline *
open_mem(const char *text, const struct baseline_config *c)
{
    struct errbuf eb = {""};
    struct baseline *b = baseline_parse("test", text, strlen(text), c, &eb);
    if (!b)
        fail_msg("%s", eb.msg);
    return b;
}

static char *
text_of(struct baseline *b, unsigned flags)
{
    struct buf out;
    buf_init(&out, 0);
    assert_int_equal(baseline_format(b, &out, flags), 0);
    assert_int_equal(buf_append_char(&out, '\0'), 0);
    return (char *)out.ptr;
}

/* ---- learning and alerts ---- */

/* An AC whose echoed titles differ from the request's: the pair is the request's. */
static void
test_ac_echo_not_trusted(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {.learn = true};
    struct baseline *b = baseline_open(NULL, &c, NULL);
    struct flow ct = flow4(5, 9, 104);
    struct dicom_associate a;
    memset(&a, 0, sizeof(a));
    a.pdu_type = DICOM_PDU_ASSOCIATE_AC;
    snprintf(a.calling_ae, sizeof(a.calling_ae), "ANY");
    snprintf(a.called_ae, sizeof(a.called_ae), "ANYTHING");
    a.request_calling_ae = "CT01";
    a.request_called_ae = "PACS";
    struct proto_event ev = {PROTO_DICOM, DICOM_EVENT_ASSOCIATE_AC, PROTO_TOCLIENT, T0, &a};
    baseline_event(b, g, &ct, &ev);
    char *t = text_of(b, BASELINE_FORMAT_NO_HEADER);
    assert_non_null(strstr(t, "learned\tdicom\t10.0.0.5\tCT01\t10.0.0.9\tPACS\t"));
    assert_null(strstr(t, "ANYTHING"));
    free(t);
    baseline_free(b);
    free(g);
}

static void
test_learn_flag_is_silent(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {.learn = true, .auto_learn_us = 24 * HOUR};
    struct baseline *b = baseline_open(NULL, &c, NULL);
    struct flow ct = flow4(5, 9, 104), his = flow4(20, 30, 2575), ws = flow4(40, 50, 445);
    dicom_ac(b, g, &ct, "CT01", "PACS", T0);
    dicom_move(b, g, &ct, "WS1", T0);
    hl7_msg(b, g, &his, PROTO_TOSERVER, "HIS", "HOSP", "LIS", "ADT", "A08", false, T0);
    smb_tree(b, g, &ws, "\\\\10.0.0.50\\Images", 0, T0);
    rdp_cr(b, g, &ws, T0 + 1000 * HOUR);
    assert_int_equal(r.n, 0);
    struct baseline_stats st;
    baseline_stats(b, &st);
    assert_int_equal(st.n_pairs, 5);
    assert_int_equal(st.n_pending, 0);
    assert_true(st.learning);
    /* Learning on purpose stands in for the automatic period: the next run alerts. */
    assert_int_equal(st.learn, BASELINE_LEARN_DONE);
    for (int k = 0; k < BASELINE_KIND_COUNT; k++)
        assert_int_equal(st.n_pairs_kind[k], 1);
    char *t = text_of(b, BASELINE_FORMAT_NO_HEADER);
    assert_non_null(strstr(t, "learned\tdicom\t10.0.0.5\tCT01\t10.0.0.9\tPACS\t"
                              "first=2026-11-23T10:00:00Z\tlast=2026-11-23T10:00:00Z\tn=1\n"));
    assert_non_null(strstr(t, "learned\tdicom-move\t10.0.0.9\tWS1\t"));
    assert_non_null(strstr(t, "learned\thl7\t10.0.0.20\tHIS\tHOSP\t10.0.0.30\tLIS\t-\t"));
    assert_non_null(strstr(t, "learned\tsmb\t10.0.0.40\t10.0.0.50\tIMAGES\t"));
    assert_non_null(strstr(t, "learned\trdp\t10.0.0.40\t10.0.0.50\t"));
    free(t);
    baseline_free(b);
    free(g);
}

static void
test_auto_learn_then_alert_once(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {.auto_learn_us = 24 * HOUR};
    struct baseline *b = baseline_open(NULL, &c, NULL);
    struct baseline_stats st;
    baseline_stats(b, &st);
    assert_true(st.learning);
    assert_int_equal(st.learn, BASELINE_LEARN_AUTO);

    struct flow ct = flow4(5, 9, 104), mr = flow4(6, 9, 104), rogue = flow4(66, 9, 104);
    dicom_ac(b, g, &ct, "CT01", "PACS", T0); /* starts the period */
    baseline_stats(b, &st);
    assert_int_equal(st.learn, BASELINE_LEARN_UNTIL);
    assert_int_equal(st.learn_until_us, T0 + 24 * HOUR);
    dicom_ac(b, g, &mr, "MR01", "PACS", T0 + 23 * HOUR); /* still learning */
    assert_int_equal(r.n, 0);

    /* Traffic time, not the clock: past the period now. */
    dicom_ac(b, g, &ct, "CT01", "PACS", T0 + 25 * HOUR);
    dicom_ac(b, g, &mr, "MR01", "PACS", T0 + 25 * HOUR);
    assert_int_equal(r.n, 0);
    dicom_ac(b, g, &rogue, "STORESCU", "PACS", T0 + 26 * HOUR);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.rules[0], RULE_BASE_DICOM_NEW);
    assert_non_null(strstr(r.evidence, "\"baseline\":\"dicom\",\"client\":\"10.0.0.66\","
                                       "\"calling_ae\":\"STORESCU\",\"server\":\"10.0.0.9\","
                                       "\"called_ae\":\"PACS\""));
    assert_non_null(strstr(r.evidence, "\"kept\":true"));
    /* The same pair again, also on another flow: once per run. */
    dicom_ac(b, g, &rogue, "STORESCU", "PACS", T0 + 27 * HOUR);
    struct flow rogue2 = rogue;
    rogue2.id = 999;
    dicom_ac(b, g, &rogue2, "STORESCU", "PACS", T0 + 28 * HOUR);
    assert_int_equal(r.n, 1);
    /* Another AE title from a known host is another pair. */
    dicom_ac(b, g, &ct, "CT01", "PACS2", T0 + 29 * HOUR);
    assert_int_equal(r.n, 2);

    baseline_stats(b, &st);
    assert_false(st.learning);
    assert_int_equal(st.learn, BASELINE_LEARN_DONE);
    assert_int_equal(st.n_pairs, 4);
    assert_int_equal(st.n_pending, 2);
    assert_int_equal(st.n_alerts, 2);
    char *t = text_of(b, BASELINE_FORMAT_PENDING_ONLY | BASELINE_FORMAT_NO_HEADER);
    assert_string_equal(t, "pending\tdicom\t10.0.0.5\tCT01\t10.0.0.9\tPACS2\t"
                           "first=2026-11-24T15:00:00Z\tlast=2026-11-24T15:00:00Z\tn=1\n"
                           "pending\tdicom\t10.0.0.66\tSTORESCU\t10.0.0.9\tPACS\t"
                           "first=2026-11-24T12:00:00Z\tlast=2026-11-24T14:00:00Z\tn=3\n");
    free(t);
    baseline_free(b);
    free(g);
}

static void
test_no_auto_learn_on_existing_file(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {.auto_learn_us = 24 * HOUR};
    /* A file that says learning is done: alert at once, whatever the automatic period. */
    struct baseline *b = open_mem("format\t1\nlearning\tdone\n", &c);
    struct flow f = flow4(1, 2, 3389);
    rdp_cr(b, g, &f, T0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.rules[0], RULE_BASE_RDP_NEW);
    baseline_free(b);
    /* "learning auto" is a file made before the sensor ever ran: the period starts now. */
    b = open_mem("format\t1\nlearning\tauto\n", &c);
    rdp_cr(b, g, &f, T0);
    assert_int_equal(r.n, 1);
    baseline_free(b);
    /* A file written by hand without a learning line alerts. */
    b = open_mem("format\t1\n", &c);
    f.id++; /* the gate would take the same flow, rule and pair for a repeat */
    rdp_cr(b, g, &f, T0);
    assert_int_equal(r.n, 2);
    baseline_free(b);
    /* An unfinished period goes on after a restart. */
    b = open_mem("format\t1\nlearning\tuntil=2026-11-24T10:00:00Z\n", &c);
    rdp_cr(b, g, &f, T0 + 23 * HOUR);
    assert_int_equal(r.n, 2);
    struct flow f2 = flow4(1, 3, 3389);
    rdp_cr(b, g, &f2, T0 + 24 * HOUR);
    assert_int_equal(r.n, 3);
    baseline_free(b);
    free(g);
}

static void
test_accepted_pairs_are_quiet(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {0};
    struct baseline *b = open_mem("format\t1\n"
                                  "learning\tdone\n"
                                  "accepted\tsmb\t10.0.0.40\t10.0.0.50\tImages\n"
                                  "learned\trdp\t10.0.0.40\t10.0.0.50\n"
                                  "pending\trdp\t10.0.0.41\t10.0.0.50\n",
                                  &c);
    struct flow ws = flow4(40, 50, 445), ws41 = flow4(41, 50, 3389);
    smb_tree(b, g, &ws, "\\\\pacs\\IMAGES", 0, T0); /* share names are case-insensitive */
    rdp_cr(b, g, &ws, T0);
    assert_int_equal(r.n, 0);
    /* A pending pair from the last run alerts again once in this one. */
    rdp_cr(b, g, &ws41, T0);
    rdp_cr(b, g, &ws41, T0 + 1);
    assert_int_equal(r.n, 1);
    /* A refused tree connect is no pair. */
    smb_tree(b, g, &ws, "\\\\pacs\\C$", 0xC0000022, T0);
    assert_int_equal(r.n, 1);
    /* Added by hand before it is ever seen. */
    const char *const words[] = {"smb", "10.0.0.40", "10.0.0.50", "scans"};
    assert_int_equal(baseline_set(b, words, 4, BASELINE_ACCEPTED, "new scanner", NULL), 1);
    smb_tree(b, g, &ws, "\\\\pacs\\Scans", 0, T0);
    assert_int_equal(r.n, 1);
    /* Accepting what is pending. */
    struct flow ws42 = flow4(42, 50, 3389);
    rdp_cr(b, g, &ws42, T0);
    assert_int_equal(r.n, 2);
    assert_int_equal(baseline_accept_pending(b), 2);
    struct baseline_stats st;
    baseline_stats(b, &st);
    assert_int_equal(st.n_pending, 0);
    char *t = text_of(b, BASELINE_FORMAT_NO_HEADER);
    assert_non_null(strstr(t, "accepted\tsmb\t10.0.0.40\t10.0.0.50\tSCANS\tfirst="));
    assert_non_null(strstr(t, "\tn=1\tnote=new scanner\n"));
    assert_non_null(strstr(t, "accepted\trdp\t10.0.0.42\t10.0.0.50\t"));
    free(t);
    baseline_free(b);
    free(g);
}

static void
test_hl7_senders(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {0};
    struct baseline *b = open_mem("format\t1\nlearning\tdone\n"
                                  "learned\thl7\t10.0.0.20\tHIS\tHOSP\t10.0.0.30\tLIS\t-\n",
                                  &c);
    struct flow his = flow4(20, 30, 2575), rogue = flow4(21, 30, 2575);
    hl7_msg(b, g, &his, PROTO_TOSERVER, "HIS", "HOSP", "LIS", "ADT", "A08", false, T0);
    assert_int_equal(r.n, 0);
    /* The LIS acknowledges: an ACK is no pair, whoever sends it. */
    hl7_msg(b, g, &his, PROTO_TOCLIENT, "LIS", "", "HIS", "ACK", "A08", true, T0);
    struct baseline_stats st;
    baseline_stats(b, &st);
    assert_int_equal(st.n_pairs, 1);
    /* The same host with another facility is another sender. */
    hl7_msg(b, g, &his, PROTO_TOSERVER, "HIS", "CLINIC", "LIS", "ORU", "R01", false, T0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.rules[0], RULE_BASE_HL7_NEW);
    assert_non_null(strstr(r.evidence, "\"sending_facility\":\"CLINIC\""));
    assert_non_null(strstr(r.evidence, "\"message_type\":\"ORU\",\"trigger_event\":\"R01\""));
    /* ... and its first patient update is worth its own alert, once. */
    hl7_msg(b, g, &his, PROTO_TOSERVER, "HIS", "CLINIC", "LIS", "ADT", "A08", false, T0 + 1);
    hl7_msg(b, g, &his, PROTO_TOSERVER, "HIS", "CLINIC", "LIS", "ADT", "A31", false, T0 + 2);
    hl7_msg(b, g, &his, PROTO_TOSERVER, "HIS", "CLINIC", "LIS", "ORU", "R01", false, T0 + 3);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.rules[1], RULE_BASE_HL7_NEW_PATIENT_UPDATE);
    /* A new host whose first message is a merge: the patient-update alert only. */
    hl7_msg(b, g, &rogue, PROTO_TOSERVER, "HIS", "HOSP", "LIS", "ADT", "A40", false, T0);
    hl7_msg(b, g, &rogue, PROTO_TOSERVER, "HIS", "HOSP", "LIS", "ORM", "O01", false, T0);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.rules[2], RULE_BASE_HL7_NEW_PATIENT_UPDATE);
    /* A server that sends (direction to the client) is the sender. */
    hl7_msg(b, g, &his, PROTO_TOCLIENT, "LIS", "LAB", "HIS", "ORU", "R01", false, T0);
    assert_int_equal(r.n, 4);
    assert_non_null(strstr(r.evidence, "\"sender\":\"10.0.0.30\",\"sending_application\":\"LIS\""));

    assert_true(baseline_hl7_is_patient_update("ADT", 3, "A34", 3));
    assert_false(baseline_hl7_is_patient_update("ADT", 3, "A01", 3));
    assert_false(baseline_hl7_is_patient_update("ORU", 3, "A08", 3));
    assert_false(baseline_hl7_is_patient_update("ADT", 3, "A0", 2));
    baseline_free(b);
    free(g);
}

static void
test_move_destination(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {.auto_learn_us = HOUR};
    struct baseline *b = baseline_open(NULL, &c, NULL);
    struct flow ws = flow4(40, 9, 104);
    dicom_move(b, g, &ws, "WS40", T0);
    dicom_move(b, g, &ws, "", T0 + 2 * HOUR); /* no destination: nothing */
    dicom_move(b, g, &ws, "WS40", T0 + 2 * HOUR);
    assert_int_equal(r.n, 0);
    dicom_move(b, g, &ws, "EXFIL", T0 + 2 * HOUR);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.rules[0], RULE_DICOM_MOVE_NEW_DEST);
    assert_non_null(strstr(r.evidence, "\"baseline\":\"dicom-move\",\"server\":\"10.0.0.9\","
                                       "\"move_destination\":\"EXFIL\","
                                       "\"requester\":\"10.0.0.40\""));
    baseline_free(b);
    free(g);
}

/* ---- the file ---- */

static const char *const sample =
    "# Iaso baseline: who talks to whom (docs/baseline.md). The sensor rewrites this file;\n"
    "# change it with `iaso sensor baseline accept|remove`, or by hand keeping one pair a line:\n"
    "# STATE KIND FIELDS... [first=TIME] [last=TIME] [n=COUNT] [note=TEXT], separated by tabs.\n"
    "format\t1\n"
    "learning\tuntil=2026-11-30T10:00:00Z\n"
    "learned\tdicom\t10.1.0.5\tCT01\t10.1.0.9\tPACS\tfirst=2026-11-23T10:00:00Z\t"
    "last=2026-11-24T08:12:00Z\tn=123\n"
    "learned\tdicom\t10.1.0.10\tMY AE\t10.1.0.9\tPACS\n"
    "pending\tdicom\tfd00::5\t\\x2d\tfd00::9\tPACS\\x09X\\x5c\tn=2\n"
    "learned\tdicom-move\t10.1.0.9\tWS1\n"
    "accepted\thl7\t10.2.0.4\tHIS\t-\t10.2.0.7\tLIS\tLAB\tnote=feeds the lab \\x09 since 2019\n"
    "learned\trdp\t10.3.0.1\t10.3.0.2\tfirst=2026-11-23T10:00:00Z\n"
    "learned\tsmb\t10.3.0.1\t10.3.0.2\tIPC$\n"
    "learned\tsmb\t10.3.0.1\t10.3.0.2\tR\\xc3\\xb6NTGEN\n";

static void
test_round_trip_sorted(void **state)
{
    (void)state;
    struct baseline_config c = {0};
    struct baseline *b = open_mem(sample, &c);
    char *t = text_of(b, 0);
    assert_string_equal(t, sample); /* the sample is in the canonical form, sorted */
    /* Sorted: 10.1.0.5 before 10.1.0.10 would be wrong (addresses by value, not text). */
    assert_true(strstr(t, "10.1.0.5\tCT01") < strstr(t, "10.1.0.10\tMY AE"));

    /* Through a real file: saved 0640, loaded, saved again, the same bytes. */
    char dir[] = "/tmp/iaso-bl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], lock[300];
    snprintf(path, sizeof(path), "%s/baseline", dir);
    snprintf(lock, sizeof(lock), "%s.lock", path);
    struct errbuf eb = {""};
    assert_int_equal(baseline_save(b, path, &eb), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    struct baseline *b2 = baseline_open(path, &c, &eb);
    assert_non_null(b2);
    char *t2 = text_of(b2, 0);
    assert_string_equal(t2, sample);
    assert_int_equal(baseline_save(b2, path, &eb), 0);
    FILE *f = fopen(path, "rb");
    char bytes[4096];
    size_t n = fread(bytes, 1, sizeof(bytes) - 1, f);
    fclose(f);
    bytes[n] = '\0';
    assert_string_equal(bytes, sample);

    /* Hand-written variations read to the same canonical text. */
    struct baseline *b3 = open_mem("format\t1\r\n"
                                   "learning\tdone\n"
                                   "\n"
                                   "learned\tsmb\t10.3.0.1\t10.3.0.2\tipc$\n"
                                   "learned\tdicom\tFD00:0:0::5\t\t10.1.0.9\t-\tn=+7\n",
                                   &c);
    char *t3 = text_of(b3, BASELINE_FORMAT_NO_HEADER);
    assert_string_equal(t3, "learned\tdicom\tfd00::5\t-\t10.1.0.9\t-\tn=7\n"
                            "learned\tsmb\t10.3.0.1\t10.3.0.2\tIPC$\n");
    free(t3);
    baseline_free(b3);

    free(t);
    free(t2);
    baseline_free(b);
    baseline_free(b2);
    unlink(path);
    unlink(lock);
    rmdir(dir);
}

static void
test_missing_file_starts_learning(void **state)
{
    (void)state;
    struct baseline_config c = {.auto_learn_us = HOUR};
    struct errbuf eb = {""};
    struct baseline *b = baseline_open("/nonexistent/iaso/baseline", &c, &eb);
    assert_non_null(b);
    struct baseline_stats st;
    baseline_stats(b, &st);
    assert_int_equal(st.n_pairs, 0);
    assert_true(st.learning);
    char *t = text_of(b, 0);
    assert_non_null(strstr(t, "format\t1\nlearning\tauto\n"));
    free(t);
    /* Saving where no folder is says so. */
    assert_true(baseline_save(b, "/nonexistent/iaso/baseline", &eb) < 0);
    assert_non_null(strstr(eb.msg, "/nonexistent/iaso/baseline"));
    baseline_free(b);
}

static void
test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"", "not a baseline file"},
        {"# only a comment\n", "not a baseline file"},
        {"learned\trdp\t10.0.0.1\t10.0.0.2\n", "line 1: expected 'format<TAB>1'"},
        {"format\t2\n", "line 1: format '2' is not one"},
        {"format\t1\nformat\t1\n", "line 2: a second format line"},
        {"format\t1\nlearning\tsoon\n", "line 2: learning takes"},
        {"format\t1\nlearning\tdone\nlearning\tdone\n", "line 3: a second learning line"},
        {"format\t1\n\n# c\nlearned rdp 10.0.0.1 10.0.0.2\n", "line 4: 'learned rdp 10.0.0.1 "},
        {"format\t1\nlearned\tftp\t10.0.0.1\n", "line 2: 'ftp' is not a kind"},
        {"format\t1\nlearned\trdp\t10.0.0.1\n", "line 2: rdp takes 2 fields"},
        {"format\t1\nlearned\trdp\t10.0.0.1\tpacs\n", "line 2: field 2 (server): 'pacs' is not"},
        {"format\t1\nlearned\trdp\t10.0.0.1\t10.0.0.2\tx=1\n", "line 2: 'x=1' is not first="},
        {"format\t1\nlearned\trdp\t10.0.0.1\t10.0.0.2\tn=1\tn=2\n", "line 2: an attribute given"},
        {"format\t1\nlearned\trdp\t10.0.0.1\t10.0.0.2\tn=-1\n", "line 2: n= takes a count"},
        {"format\t1\nlearned\trdp\t10.0.0.1\t10.0.0.2\tfirst=2026-02-29T00:00:00Z\n",
         "line 2: a time must be"},
        {"format\t1\nlearned\trdp\t10.0.0.1\t10.0.0.2\tlast=2026-11-23 10:00:00\n",
         "line 2: a time must be"},
        {"format\t1\nlearned\tdicom-move\t10.0.0.1\tA\\x4\n", "line 2: field 2 (move_destination)"},
        {"format\t1\nlearned\tdicom-move\t10.0.0.1\tA\\n\n", "a backslash must start"},
        {"format\t1\nlearned\tdicom-move\t10.0.0.1\tA\x01\n", "a control byte"},
        {"format\t1\nlearned\tdicom-move\t10.0.0.1\tA\0B\n", "line 2: a NUL byte"},
        {"format\t1\nlearned\trdp\t10.0.0.1\t10.0.0.2\nlearned\trdp\t10.0.0.1\t10.0.0.2\n",
         "line 3: the same pair as an earlier line"},
        {"format\t1\nlearned\trdp\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\t13\t14\t15\n",
         "line 2: too many tab-separated fields"},
    };
    struct baseline_config c = {0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct errbuf eb = {""};
        size_t len = strlen(cases[i].text);
        if (strstr(cases[i].msg, "NUL"))
            len = strlen(cases[i].text) + 3; /* past the NUL: "B\n" */
        struct baseline *b = baseline_parse("f.tsv", cases[i].text, len, &c, &eb);
        if (b || !strstr(eb.msg, cases[i].msg))
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].msg, b ? "success" : eb.msg);
        assert_true(strncmp(eb.msg, "f.tsv: ", 7) == 0);
    }
    /* A line longer than BASELINE_LINE_MAX, through the file reader too. */
    size_t big = BASELINE_LINE_MAX + 100;
    char *text = malloc(big + 32);
    int n = snprintf(text, 32, "format\t1\n# ");
    memset(text + n, 'x', big);
    text[n + (int)big] = '\n';
    struct errbuf eb = {""};
    assert_null(baseline_parse("f", text, (size_t)n + big + 1, &c, &eb));
    assert_non_null(strstr(eb.msg, "line 2: a line longer than 8192 bytes"));
    char path[] = "/tmp/iaso-bl-long-XXXXXX";
    int fd = mkstemp(path);
    assert_true(write(fd, text, (size_t)n + big) == (ssize_t)((size_t)n + big));
    close(fd);
    assert_null(baseline_open(path, &c, &eb));
    assert_non_null(strstr(eb.msg, "line 2: a line longer than 8192 bytes"));
    unlink(path);
    free(text);
}

/* ---- the cap ---- */

static void
test_cap(void **state)
{
    (void)state;
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct baseline_config c = {.auto_learn_us = HOUR, .pairs_max = 3};
    struct baseline *b = baseline_open(NULL, &c, NULL);
    for (uint8_t i = 1; i <= 5; i++) {
        struct flow f = flow4(i, 200, 3389);
        rdp_cr(b, g, &f, T0); /* learning: 3 kept, 2 dropped silently */
    }
    struct baseline_stats st;
    baseline_stats(b, &st);
    assert_int_equal(st.n_pairs, 3);
    assert_int_equal(st.n_dropped, 2);
    assert_int_equal(r.n, 0);
    /* After learning a pair that does not fit is still new: alerted, not kept. */
    struct flow f = flow4(9, 200, 3389);
    rdp_cr(b, g, &f, T0 + 2 * HOUR);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.evidence, "\"kept\":false"));
    baseline_stats(b, &st);
    assert_int_equal(st.n_pairs, 3);
    assert_int_equal(st.n_dropped, 3);
    assert_true(st.mem_bytes > 0 && st.mem_bytes < 65536);
    /* A file over the cap is refused. */
    struct errbuf eb = {""};
    const char *text = "format\t1\nlearned\trdp\t10.0.0.1\t10.0.0.2\nlearned\trdp\t10.0.0.1\t"
                       "10.0.0.3\nlearned\trdp\t10.0.0.1\t10.0.0.4\nlearned\trdp\t10.0.0.1\t"
                       "10.0.0.5\n";
    assert_null(baseline_parse("f", text, strlen(text), &c, &eb));
    assert_non_null(strstr(eb.msg, "line 5: more than 3 pairs"));
    /* Editing stops at the cap too. */
    const char *const words[] = {"rdp", "10.0.0.9", "10.0.0.9"};
    assert_int_equal(baseline_set(b, words, 3, BASELINE_ACCEPTED, NULL, &eb), IASO_E_LIMIT);
    baseline_free(b);
    free(g);
}

/* ---- editing and the merge ---- */

static void
test_edit_errors(void **state)
{
    (void)state;
    struct baseline_config c = {0};
    struct baseline *b = baseline_open(NULL, &c, NULL);
    struct errbuf eb = {""};
    const char *const bad_kind[] = {"ftp", "10.0.0.1"};
    assert_int_equal(baseline_set(b, bad_kind, 2, BASELINE_ACCEPTED, NULL, &eb), IASO_E_INVAL);
    assert_non_null(strstr(eb.msg, "'ftp' is not a kind"));
    const char *const short_hl7[] = {"hl7", "10.0.0.1", "HIS"};
    assert_int_equal(baseline_set(b, short_hl7, 3, BASELINE_ACCEPTED, NULL, &eb), IASO_E_INVAL);
    assert_non_null(strstr(eb.msg, "hl7 takes 6 fields"));
    const char *const long_rdp[] = {"rdp",     "1.1.1.1", "1.1.1.2", "1.1.1.3",
                                    "1.1.1.4", "1.1.1.5", "1.1.1.6", "1.1.1.7"};
    assert_int_equal(baseline_set(b, long_rdp, 8, BASELINE_ACCEPTED, NULL, &eb), IASO_E_INVAL);
    assert_non_null(strstr(eb.msg, "rdp takes 2 fields"));
    const char *const bad_addr[] = {"rdp", "10.0.0.1", "pacs.local"};
    assert_int_equal(baseline_set(b, bad_addr, 3, BASELINE_ACCEPTED, NULL, &eb), IASO_E_INVAL);
    assert_non_null(strstr(eb.msg, "'pacs.local' is not an IPv4 or IPv6 address"));
    assert_int_equal(baseline_set(b, NULL, 0, BASELINE_ACCEPTED, NULL, &eb), IASO_E_INVAL);
    const char *const ok[] = {"rdp", "10.0.0.1", "10.0.0.2"};
    assert_int_equal(baseline_remove(b, ok, 3, &eb), IASO_E_NOTFOUND);
    assert_int_equal(baseline_set(b, ok, 3, BASELINE_ACCEPTED, NULL, &eb), 1);
    assert_int_equal(baseline_set(b, ok, 3, BASELINE_ACCEPTED, "x", &eb), 0);
    assert_int_equal(baseline_remove(b, ok, 3, &eb), 0);
    assert_int_equal(baseline_remove(b, ok, 3, &eb), IASO_E_NOTFOUND);
    baseline_free(b);
}

static void
test_merge_with_operator(void **state)
{
    (void)state;
    char dir[] = "/tmp/iaso-bl-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], lock[300];
    snprintf(path, sizeof(path), "%s/baseline", dir);
    snprintf(lock, sizeof(lock), "%s.lock", path);
    struct errbuf eb = {""};
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);

    /* The sensor learns two pairs, then sees a new one, and saves. */
    struct baseline_config sc = {.auto_learn_us = HOUR};
    struct baseline *sensor = baseline_open(path, &sc, &eb);
    struct flow a = flow4(1, 100, 3389), bb = flow4(2, 100, 3389), n = flow4(3, 100, 3389);
    rdp_cr(sensor, g, &a, T0);
    rdp_cr(sensor, g, &bb, T0);
    rdp_cr(sensor, g, &n, T0 + 2 * HOUR);
    assert_int_equal(r.n, 1);
    assert_int_equal(baseline_save(sensor, path, &eb), 0);

    /* The operator accepts the pending one, removes a learned one, adds one by hand. */
    struct baseline_config oc = {.pairs_max = UINT32_MAX, .keep_removed = true};
    struct baseline *op = baseline_open(path, &oc, &eb);
    assert_non_null(op);
    assert_int_equal(baseline_accept_pending(op), 1);
    const char *const rm[] = {"rdp", "10.0.0.2", "10.0.0.100"};
    assert_int_equal(baseline_remove(op, rm, 3, &eb), 0);
    const char *const add[] = {"rdp", "10.0.0.7", "10.0.0.100"};
    assert_int_equal(baseline_set(op, add, 3, BASELINE_ACCEPTED, "jump host", &eb), 1);

    /* Meanwhile the sensor sees another new pair and saves before the operator does. */
    struct flow m = flow4(4, 100, 3389);
    rdp_cr(sensor, g, &m, T0 + 3 * HOUR);
    assert_int_equal(baseline_save(sensor, path, &eb), 0);
    /* The operator's save merges that in; the tombstone is written for the sensor. */
    assert_int_equal(baseline_save(op, path, &eb), 0);
    char *t = text_of(op, BASELINE_FORMAT_NO_HEADER);
    assert_non_null(strstr(t, "accepted\trdp\t10.0.0.3\t10.0.0.100\t"));
    assert_non_null(strstr(t, "pending\trdp\t10.0.0.4\t10.0.0.100\t"));
    assert_non_null(strstr(t, "removed\trdp\t10.0.0.2\t10.0.0.100\t"));
    free(t);

    /* The sensor's next save takes the operator's changes in and drops the tombstone. */
    rdp_cr(sensor, g, &a, T0 + 4 * HOUR);
    assert_int_equal(baseline_save(sensor, path, &eb), 0);
    t = text_of(sensor, BASELINE_FORMAT_NO_HEADER);
    assert_string_equal(t, "learned\trdp\t10.0.0.1\t10.0.0.100\tfirst=2026-11-23T10:00:00Z\t"
                           "last=2026-11-23T14:00:00Z\tn=2\n"
                           "accepted\trdp\t10.0.0.3\t10.0.0.100\tfirst=2026-11-23T12:00:00Z\t"
                           "last=2026-11-23T12:00:00Z\tn=1\n"
                           "pending\trdp\t10.0.0.4\t10.0.0.100\tfirst=2026-11-23T13:00:00Z\t"
                           "last=2026-11-23T13:00:00Z\tn=1\n"
                           "accepted\trdp\t10.0.0.7\t10.0.0.100\tnote=jump host\n");
    free(t);
    struct baseline_stats st;
    baseline_stats(sensor, &st);
    assert_int_equal(st.n_merges, 1);
    /* The removed pair is new again. */
    rdp_cr(sensor, g, &bb, T0 + 5 * HOUR);
    assert_int_equal(r.n, 3);

    /* The operator ends learning early by hand: the sensor takes that in too. */
    baseline_free(sensor);
    struct baseline_config sc2 = {.auto_learn_us = 1000 * HOUR};
    unlink(path);
    sensor = baseline_open(path, &sc2, &eb);
    rdp_cr(sensor, g, &a, T0); /* learning, for 1000 hours */
    assert_int_equal(baseline_save(sensor, path, &eb), 0);
    FILE *f = fopen(path, "w");
    fputs("format\t1\nlearning\tdone\nlearned\trdp\t10.0.0.1\t10.0.0.100\n", f);
    fclose(f);
    assert_int_equal(baseline_save(sensor, path, &eb), 0);
    bb.id++; /* not a repeat for the gate */
    rdp_cr(sensor, g, &bb, T0 + HOUR);
    assert_int_equal(r.n, 4);

    /* A file broken by hand is not overwritten. */
    f = fopen(path, "w");
    fputs("format\t1\nlearned\trdp\t10.0.0.1\n", f);
    fclose(f);
    assert_true(baseline_save(sensor, path, &eb) < 0);
    assert_non_null(strstr(eb.msg, "line 2: rdp takes 2 fields"));
    assert_non_null(strstr(eb.msg, "not overwritten"));

    baseline_free(sensor);
    baseline_free(op);
    free(g);
    unlink(path);
    unlink(lock);
    rmdir(dir);
}

/* ---- threads ---- */

#define N_THREADS 4
#define N_CLIENTS 200

struct worker {
    struct baseline *b;
    int index;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    atomic_int *count = NULL;
    struct record r = {0};
    static atomic_int total;
    count = &total;
    r.shared = count;
    struct alert_gate *g = malloc(sizeof(*g));
    struct alert_gate_config c = {0, 0};
    alert_gate_init(g, &c, on_alert, &r);
    /* Every thread sees every client, in its own order: the first of them alerts. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N_CLIENTS; i++) {
            int k = (i * 7 + w->index * 31 + round) % N_CLIENTS;
            struct flow f = flow4((uint8_t)(k % 250 + 1), (uint8_t)(k / 250 + 200), 3389);
            f.id = (uint64_t)w->index << 32 | (uint64_t)k;
            rdp_cr(w->b, g, &f, T0 + 2 * HOUR + (uint64_t)round);
            dicom_ac(w->b, g, &f, "SCU", "PACS", T0 + 2 * HOUR);
        }
        struct baseline_stats st;
        baseline_stats(w->b, &st);
    }
    free(g);
    return count;
}

static void
test_threads(void **state)
{
    (void)state;
    struct baseline_config c = {.auto_learn_us = HOUR};
    struct baseline *b = baseline_open(NULL, &c, NULL);
    struct record r = {0};
    struct alert_gate *g = gate_new(&r);
    struct flow first = flow4(250, 250, 1);
    rdp_cr(b, g, &first, T0); /* starts learning, which is over for the workers */
    pthread_t t[N_THREADS];
    struct worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (struct worker){b, i};
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    /* A save running beside them. */
    char path[] = "/tmp/iaso-bl-threads-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    struct errbuf eb = {""};
    assert_int_equal(baseline_save(b, path, &eb), 0);
    atomic_int *count = NULL;
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(t[i], (void **)&count), 0);
    assert_int_equal(atomic_load(count), 2 * N_CLIENTS);
    struct baseline_stats st;
    baseline_stats(b, &st);
    assert_int_equal(st.n_pairs, 2 * N_CLIENTS + 1);
    assert_int_equal(st.n_pending, 2 * N_CLIENTS);
    assert_int_equal(st.n_alerts, 2 * N_CLIENTS);
    assert_int_equal(baseline_save(b, path, &eb), 0);
    char lock[128];
    snprintf(lock, sizeof(lock), "%s.lock", path);
    unlink(path);
    unlink(lock);
    baseline_free(b);
    free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ac_echo_not_trusted),
        cmocka_unit_test(test_learn_flag_is_silent),
        cmocka_unit_test(test_auto_learn_then_alert_once),
        cmocka_unit_test(test_no_auto_learn_on_existing_file),
        cmocka_unit_test(test_accepted_pairs_are_quiet),
        cmocka_unit_test(test_hl7_senders),
        cmocka_unit_test(test_move_destination),
        cmocka_unit_test(test_round_trip_sorted),
        cmocka_unit_test(test_missing_file_starts_learning),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_edit_errors),
        cmocka_unit_test(test_merge_with_operator),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
