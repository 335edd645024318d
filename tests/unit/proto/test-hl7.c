// SPDX-License-Identifier: Apache-2.0
// Unit tests of the HL7 v2 parser (src/proto/hl7.c). The cap* vectors are real traffic captured
// by tests/fuzz/corpus/make-hl7-seeds.sh (python3-hl7's mllp_send against an ACKing MLLP
// listener, socat for HL7 without MLLP) and printed with make-hl7-seeds.py --c; the others are
// built by hand from those messages, with a comment on each block. Every conversation goes
// through harness_run, which also feeds it byte by byte and in 7-byte pieces.
#include "harness.h"

#include <stdio.h>

#include "proto/hl7.h"

// clang-format off
/* Flow 0, port 2575: captured with make-hl7-seeds.sh. */
static const char cap0_0[] = /* dir 0 */
    "\x0b""MSH|^~\\&|HIS|HOSP|LIS|LAB|20261123120000||ADT^A01^ADT_A01|MSG00001|P|2.5\r"
    "EVN|A01|20261123120000\r"
    "PID|1||123456^^^HOSP^MR~987654321^^^NAT^NI||TEST^PATIENT^ONE||19800101|M|||1 TEST STREET^^TESTTOWN^^12345||555-0100|555-0199|||||999-99-9999\r"
    "PV1|1|I|WARD1^101^A\x1c""\r";
static const char cap0_1[] = /* dir 1 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120500||ACK^A01^ACK|ACKMSG00001|P|2.5\r"
    "MSA|AA|MSG00001\r"
    "\x1c""\r";
static const char cap0_2[] = /* dir 0 */
    "\x0b""MSH|^~\\&|HIS^1.2.3.4^ISO|HOSP|LIS|LAB|20261123120100||ADT^A08^ADT_A01|MSG00002|P|2.5\r"
    "EVN|A08|20261123120100\r"
    "PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M|||2 TEST ROAD^^TESTTOWN^^12345||555-0101\r"
    "PV1|1|I|WARD1^102^A\x1c""\r";
static const char cap0_3[] = /* dir 1 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120500||ACK^A08^ACK|ACKMSG00002|P|2.5\r"
    "MSA|AA|MSG00002\r"
    "\x1c""\r";
static const char cap0_4[] = /* dir 0 */
    "\x0b""MSH|^~\\&|HIS|HOSP|LIS|LAB|20261123120200||ADT^A40^ADT_A39|MSG00003|P|2.5\r"
    "EVN|A40|20261123120200\r"
    "PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M\r"
    "MRG|654321^^^HOSP^MR\x1c""\r";
static const char cap0_5[] = /* dir 1 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120500||ACK^A40^ACK|ACKMSG00003|P|2.5\r"
    "MSA|AA|MSG00003\r"
    "\x1c""\r";
static const char cap0_6[] = /* dir 0 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120300||ORU^R01^ORU_R01|MSG00004|P|2.5.1\r"
    "PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M\r"
    "OBR|1|ORD1|FIL1|24331-1^Lipid panel^LN\r"
    "OBX|1|NM|2093-3^Cholesterol^LN||180|mg/dL|<200|N|||F\r"
    "OBX|2|NM|2571-8^Triglyceride^LN||120|mg/dL|<150|N|||F\x1c""\r";
static const char cap0_7[] = /* dir 1 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120500||ACK^R01^ACK|ACKMSG00004|P|2.5\r"
    "MSA|AA|MSG00004\r"
    "\x1c""\r";
static const char cap0_8[] = /* dir 0 */
    "\x0b""MSH|^~\\&|HIS|HOSP|RIS|RAD|20261123120400||ORM^O01^ORM_O01|MSG00005|T|2.3\r"
    "PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE\r"
    "ORC|NW|ORD2\r"
    "OBR|1|ORD2||71020^Chest X-ray^C4\x1c""\r";
static const char cap0_9[] = /* dir 1 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120500||ACK^O01^ACK|ACKMSG00005|P|2.5\r"
    "MSA|AE|MSG00005\r"
    "ERR||ORC^1^1|207^Application internal error^HL70357|E\r"
    "\x1c""\r";
static const char cap0_10[] = /* dir 0 */
    "\x0b""MSH|#~\\&|RIS#1.2.3#ISO|RAD|HIS|HOSP|20261123120500||ADT#A08#ADT_A01|MSG00006|P|2.4\r"
    "PID|1||123456###HOSP#MR||TEST#PATIENT#ONE||19800101|M\x1c""\r";
static const char cap0_11[] = /* dir 1 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120500||ACK^A08^ACK|ACKMSG00006|P|2.5\r"
    "MSA|AA|MSG00006\r"
    "\x1c""\r";
static const struct harness_msg cap0[] = {
    {0, cap0_0, sizeof(cap0_0) - 1},
    {1, cap0_1, sizeof(cap0_1) - 1},
    {0, cap0_2, sizeof(cap0_2) - 1},
    {1, cap0_3, sizeof(cap0_3) - 1},
    {0, cap0_4, sizeof(cap0_4) - 1},
    {1, cap0_5, sizeof(cap0_5) - 1},
    {0, cap0_6, sizeof(cap0_6) - 1},
    {1, cap0_7, sizeof(cap0_7) - 1},
    {0, cap0_8, sizeof(cap0_8) - 1},
    {1, cap0_9, sizeof(cap0_9) - 1},
    {0, cap0_10, sizeof(cap0_10) - 1},
    {1, cap0_11, sizeof(cap0_11) - 1},
};

/* Flow 1, port 2575: captured with make-hl7-seeds.sh. */
static const char cap1_0[] = /* dir 0 */
    "\x0b""FHS|^~\\&|HIS|HOSP|LIS|LAB|20261123121000||FILE001||F0001\r"
    "BHS|^~\\&|HIS|HOSP|LIS|LAB|20261123121000||BATCH001||B0001\r"
    "MSH|^~\\&|HIS|HOSP|LIS|LAB|20261123121000||ADT^A08^ADT_A01|MSG00101|P|2.5\r"
    "PID|1||222222^^^HOSP^MR||TEST^PATIENT^TWO||19900202|F\r"
    "MSH|^~\\&|HIS|HOSP|LIS|LAB|20261123121001||ADT^A08^ADT_A01|MSG00102|P|2.5\r"
    "PID|1||333333^^^HOSP^MR||TEST^PATIENT^THREE||19700303|M\r"
    "BTS|2\r"
    "FTS|1\x1c""\r";
static const char cap1_1[] = /* dir 1 */
    "\x0b""MSH|^~\\&|LIS|LAB|HIS|HOSP|20261123120500||ACK^^ACK|ACK|P|2.5\r"
    "MSA|AA|\r"
    "\x1c""\r";
static const struct harness_msg cap1[] = {
    {0, cap1_0, sizeof(cap1_0) - 1},
    {1, cap1_1, sizeof(cap1_1) - 1},
};

/* Flow 2, port 2576: captured with make-hl7-seeds.sh. */
static const char cap2_0[] = /* dir 0 */
    "FHS|^~\\&|HIS|HOSP|LIS|LAB|20261123122000||FILE002||F0002\r"
    "\x0a""BHS|^~\\&|HIS|HOSP|LIS|LAB|20261123122000||BATCH002||B0002\r"
    "\x0a""MSH|^~\\&|HIS|HOSP|LIS|LAB|20261123122000||ADT^A01^ADT_A01|MSG00201|P|2.5\r"
    "\x0a""PID|1||444444^^^HOSP^MR||TEST^PATIENT^FOUR||19600404|F\r"
    "\x0a""BTS|1\r"
    "\x0a""FTS|1\r"
    "\x0a""";
static const struct harness_msg cap2[] = {
    {0, cap2_0, sizeof(cap2_0) - 1},
};

/* Flow 3, port 2576: captured with make-hl7-seeds.sh. */
static const char cap3_0[] = /* dir 0 */
    "MSH|^~\\&|HIS|HOSP|LIS|LAB|20261123123000||ADT^A08^ADT_A01|MSG00301|P|2.5\x0a""PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE||19800101|M\x0a""";
static const struct harness_msg cap3[] = {
    {0, cap3_0, sizeof(cap3_0) - 1},
};

// clang-format on

#define RUN(msgs) run_conv(msgs, sizeof(msgs) / sizeof(msgs[0]))

static int n_events;

static char *
run_conv(const struct harness_msg *msgs, size_t n)
{
    int rc = 0;
    char *out = harness_run(&hl7_parser, msgs, n, &n_events, &rc);
    assert_int_equal(rc, 0);
    return out;
}

static char *
run_one(const void *data, size_t len)
{
    struct harness_msg m = {0, data, len};
    return run_conv(&m, 1);
}

/* The pseudonym the harness's test key gives a value. */
static const char *
pseudo(enum phi_class cls, const char *v)
{
    static char out[16][PHI_VALUE_MAX]; /* enough for one snprintf */
    static int k;
    struct phi p;
    phi_init_test(&p, 0x42);
    char *o = out[k++ % 16];
    phi_pseudonymise(&p, cls, v, strlen(v), o);
    return o;
}

/* Line idx (0-based) of the events. */
static const char *
line(const char *out, int idx)
{
    static char buf[8192];
    const char *p = out;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    assert_true(n < sizeof(buf));
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/* Appends s to the NUL-terminated text in buf[cap]. */
static void
append(char *buf, size_t cap, const char *s)
{
    size_t at = strlen(buf), n = strlen(s);
    assert_true(at + n < cap);
    memcpy(buf + at, s, n + 1);
}

static void
has(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        fprintf(stderr, "missing %s\nin %s\n", needle, text);
        fail();
    }
}

static void
has_kv(const char *text, const char *key, const char *value)
{
    char needle[256];
    snprintf(needle, sizeof(needle), "\"%s\":\"%s\"", key, value);
    has(text, needle);
}

static void
lacks(const char *text, const char *needle)
{
    if (strstr(text, needle)) {
        fprintf(stderr, "unexpected %s\nin %s\n", needle, text);
        fail();
    }
}

/* No clear patient value of the captured fake patients appears anywhere. */
static void
no_clear_phi(const char *out)
{
    static const char *const clear[] = {"TEST",     "PATIENT",  "123456", "987654321", "654321",
                                        "222222",   "333333",   "444444", "19800101",  "19900202",
                                        "19700303", "19600404", "555-01", "999-99",    "STREET",
                                        "ROAD",     "TESTTOWN", "12345"};
    for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++)
        lacks(out, clear[i]);
}

static void
test_mllp_capture(void **unused)
{
    (void)unused;
    char *out = RUN(cap0);
    assert_int_equal(n_events, 12);
    /* ADT^A01: every MSH field, segment list, and the patient only as pseudonyms. */
    char want[2048];
    snprintf(want, sizeof(want),
             "{\"kind\":1,\"dir\":0,\"hl7\":{\"framing\":\"mllp\",\"encoding_characters\":"
             "\"|^~\\\\&\",\"sending_application\":\"HIS\",\"sending_facility\":\"HOSP\","
             "\"receiving_application\":\"LIS\",\"receiving_facility\":\"LAB\",\"date_time\":"
             "\"20261123120000\",\"message_type\":\"ADT\",\"trigger_event\":\"A01\","
             "\"message_structure\":\"ADT_A01\",\"control_id\":\"MSG00001\",\"processing_id\":"
             "\"P\",\"version\":\"2.5\",\"segments\":[\"MSH\",\"EVN\",\"PID\",\"PV1\"],"
             "\"patient_id\":\"%s\",\"patient_ids\":[\"%s\",\"%s\"],\"patient_name\":\"%s\","
             "\"birth_date\":\"%s\",\"address\":\"%s\",\"phone_home\":\"%s\","
             "\"phone_business\":\"%s\",\"ssn\":\"%s\",\"length\":256}}",
             pseudo(PHI_ID, "123456"), pseudo(PHI_ID, "123456"), pseudo(PHI_ID, "987654321"),
             pseudo(PHI_NAME, "TEST^PATIENT^ONE"), pseudo(PHI_BIRTHDATE, "19800101"),
             pseudo(PHI_ADDRESS, "1 TEST STREET^^TESTTOWN^^12345"), pseudo(PHI_PHONE, "555-0100"),
             pseudo(PHI_PHONE, "555-0199"), pseudo(PHI_ID, "999-99-9999"));
    assert_string_equal(line(out, 0), want);

    /* The ACK: MSA folded into the message event. */
    const char *ack = line(out, 1);
    has(ack, "\"dir\":1");
    has_kv(ack, "message_type", "ACK");
    has_kv(ack, "ack_code", "AA");
    has_kv(ack, "ack_control_id", "MSG00001");
    has(ack, "\"segments\":[\"MSH\",\"MSA\"]");
    lacks(ack, "has_err");

    /* A08 from HIS^1.2.3.4^ISO: namespace id and the full value. */
    const char *a08 = line(out, 2);
    has(a08, "\"sending_application\":\"HIS\",\"sending_application_full\":\"HIS^1.2.3.4^ISO\"");
    has_kv(a08, "trigger_event", "A08");
    has_kv(a08, "patient_id", pseudo(PHI_ID, "123456"));
    has_kv(a08, "patient_name", pseudo(PHI_NAME, "TEST^PATIENT^ONE"));

    /* A40 merge: MRG-1 is the prior patient id. */
    const char *a40 = line(out, 4);
    has(a40,
        "\"message_type\":\"ADT\",\"trigger_event\":\"A40\",\"message_structure\":\"ADT_A39\"");
    has_kv(a40, "prior_patient_id", pseudo(PHI_ID, "654321"));
    has(a40, "\"segments\":[\"MSH\",\"EVN\",\"PID\",\"MRG\"]");

    /* ORU^R01 v2.5.1 and ORM^O01 with processing id T, answered with AE + ERR. */
    const char *oru = line(out, 6);
    has(oru, "\"segments\":[\"MSH\",\"PID\",\"OBR\",\"OBX\",\"OBX\"]");
    has_kv(oru, "version", "2.5.1");
    const char *orm = line(out, 8);
    has(orm, "\"message_type\":\"ORM\",\"trigger_event\":\"O01\"");
    has_kv(orm, "processing_id", "T");
    has_kv(orm, "receiving_application", "RIS");
    const char *nak = line(out, 9);
    has_kv(nak, "ack_code", "AE");
    has_kv(nak, "ack_control_id", "MSG00005");
    has(nak, "\"has_err\":true");
    no_clear_phi(out);
    free(out);
}

static void
test_encoding_characters(void **unused)
{
    (void)unused;
    char *out = RUN(cap0);
    /* MSH|#~\&|: '#' splits components; the same patient gets the same pseudonyms. */
    const char *m = line(out, 10);
    has_kv(m, "encoding_characters", "|#~\\\\&");
    has(m, "\"sending_application\":\"RIS\",\"sending_application_full\":\"RIS#1.2.3#ISO\"");
    has(m, "\"message_type\":\"ADT\",\"trigger_event\":\"A08\",\"message_structure\":\"ADT_A01\"");
    has_kv(m, "patient_id", pseudo(PHI_ID, "123456"));
    has_kv(m, "patient_name", pseudo(PHI_NAME, "TEST^PATIENT^ONE"));
    free(out);

    /* Another field separator: MSH!^~\&! ... */
    static const char bang[] = "\x0b"
                               "MSH!^~\\&!APP^X!FAC!R!RF!2026!!ORU^R01!C1!P!2.5\r"
                               "PID!1!!42^^^H!!DOE^JANE\x1c\r";
    out = run_one(bang, sizeof(bang) - 1);
    assert_int_equal(n_events, 1);
    has(out, "\"sending_application\":\"APP\",\"sending_application_full\":\"APP^X\"");
    has_kv(out, "control_id", "C1");
    has_kv(out, "patient_id", pseudo(PHI_ID, "42"));
    has_kv(out, "patient_name", pseudo(PHI_NAME, "DOE^JANE"));
    free(out);
}

static void
test_batch_mllp(void **unused)
{
    (void)unused;
    char *out = RUN(cap1);
    assert_int_equal(n_events, 4);
    const char *m1 = line(out, 0);
    has(m1, "\"in_batch\":true");
    has_kv(m1, "control_id", "MSG00101");
    has_kv(m1, "patient_name", pseudo(PHI_NAME, "TEST^PATIENT^TWO"));
    has_kv(line(out, 1), "control_id", "MSG00102");
    assert_string_equal(line(out, 2),
                        "{\"kind\":2,\"dir\":0,\"hl7\":{\"framing\":\"mllp\",\"header\":\"FHS\","
                        "\"sending_application\":\"HIS\",\"sending_facility\":\"HOSP\","
                        "\"receiving_application\":\"LIS\",\"receiving_facility\":\"LAB\","
                        "\"date_time\":\"20261123121000\",\"name\":\"FILE001\",\"control_id\":"
                        "\"F0001\",\"messages\":2,\"batches\":1,\"trailer_count\":1,"
                        "\"closed\":true}}");
    has(line(out, 3), "\"dir\":1");
    no_clear_phi(out);
    free(out);
}

static void
test_without_mllp(void **unused)
{
    (void)unused;
    /* A batch with CRLF line ends, sent by socat. */
    char *out = RUN(cap2);
    assert_int_equal(n_events, 2);
    has(line(out, 0), "\"framing\":\"none\"");
    has_kv(line(out, 0), "control_id", "MSG00201");
    has(line(out, 0), "\"segments\":[\"MSH\",\"PID\"]");
    has(line(out, 1), "\"kind\":2");
    has_kv(line(out, 1), "name", "FILE002");
    has(line(out, 1), "\"messages\":1");
    no_clear_phi(out);
    free(out);

    /* One message with LF line ends: ends with the flow. */
    out = RUN(cap3);
    assert_int_equal(n_events, 1);
    has(out, "\"framing\":\"none\"");
    has_kv(out, "patient_name", pseudo(PHI_NAME, "TEST^PATIENT^ONE"));
    lacks(out, "unterminated");
    no_clear_phi(out);
    free(out);

    /* Two messages back to back: a new MSH at a segment start splits them. */
    static const char two[] = "MSH|^~\\&|A|B|C|D|1||ADT^A08|M1|P|2.5\r"
                              "PID|1||1^^^H\r"
                              "MSH|^~\\&|A|B|C|D|2||ADT^A08|M2|P|2.5\r"
                              "PID|1||2^^^H\r";
    out = run_one(two, sizeof(two) - 1);
    assert_int_equal(n_events, 2);
    has_kv(line(out, 0), "control_id", "M1");
    has(line(out, 0), "\"length\":50");
    has_kv(line(out, 1), "control_id", "M2");
    free(out);
}

static void
test_line_endings(void **unused)
{
    (void)unused;
    /* The same message with CR, LF and CRLF after each segment. */
    static const char *const segs[] = {"MSH|^~\\&|HIS|HOSP|LIS|LAB|1||ADT^A08^ADT_A01|M9|P|2.5",
                                       "EVN|A08", "PID|1||123456^^^HOSP^MR||TEST^PATIENT^ONE"};
    static const char *const ends[] = {"\r", "\n", "\r\n"};
    char *outs[3];
    for (int k = 0; k < 3; k++) {
        char msg[512] = "\x0b";
        for (int i = 0; i < 3; i++) {
            append(msg, sizeof(msg), segs[i]);
            append(msg, sizeof(msg), ends[k]);
        }
        append(msg, sizeof(msg), "\x1c\r");
        outs[k] = run_one(msg, strlen(msg));
        assert_int_equal(n_events, 1);
        has(outs[k], "\"segments\":[\"MSH\",\"EVN\",\"PID\"]");
        has_kv(outs[k], "patient_name", pseudo(PHI_NAME, "TEST^PATIENT^ONE"));
    }
    assert_string_equal(outs[0], outs[1]);
    /* CRLF: the same but for the length (three more bytes). */
    has(outs[0], "\"length\":104");
    has(outs[2], "\"length\":107");
    for (int k = 0; k < 3; k++)
        free(outs[k]);
}

static void
test_oversize(void **unused)
{
    (void)unused;
    /* MLLP: a 1.1 MiB OBX, then a normal frame. */
    static const char head[] =
        "\x0bMSH|^~\\&|LIS|LAB|HIS|HOSP|1||ORU^R01|BIG|P|2.5\rOBX|1|ED|PDF||";
    static const char tail[] = "\rPID|1||123456\r\x1c\r"
                               "\x0bMSH|^~\\&|LIS|LAB|HIS|HOSP|1||ORU^R01|SMALL|P|2.5\r\x1c\r";
    size_t big = HL7_MSG_MAX + (HL7_MSG_MAX / 10);
    size_t len = sizeof(head) - 1 + big + sizeof(tail) - 1;
    char *msg = malloc(len);
    assert_non_null(msg);
    memcpy(msg, head, sizeof(head) - 1);
    memset(msg + sizeof(head) - 1, 'A', big);
    memcpy(msg + sizeof(head) - 1 + big, tail, sizeof(tail) - 1);
    char *out = run_one(msg, len);
    assert_int_equal(n_events, 2);
    has_kv(line(out, 0), "control_id", "BIG");
    has(line(out, 0), "\"oversize\":true");
    has(line(out, 0), "\"segments\":[\"MSH\"]"); /* the OBX passed the cap unfinished */
    lacks(line(out, 0), "patient_id");           /* the PID after the cap was skipped */
    has_kv(line(out, 1), "control_id", "SMALL");
    lacks(line(out, 1), "oversize");
    free(out);

    /* Without MLLP: the same bytes less the framing; the next MSH starts afresh. */
    msg[0] = '\r';
    size_t t = sizeof(head) - 1 + big;
    memcpy(msg + t, "\rPID|1||123456\rMSH|^~\\&|L|L|H|H|1||ORU^R01|SMALL|P|2.5\r", 55);
    out = run_one(msg, t + 55);
    assert_int_equal(n_events, 2);
    has_kv(line(out, 0), "control_id", "BIG");
    has(line(out, 0), "\"oversize\":true");
    has(line(out, 0), "\"length\":47"); /* the MSH only */
    lacks(line(out, 0), "patient_id");
    has_kv(line(out, 1), "control_id", "SMALL");
    free(out);
    free(msg);
}

static void
test_garbage_between_frames(void **unused)
{
    (void)unused;
    /* Junk (an HTTP-ish line, NUL, 0xff), a frame, junk, a stray end block, a frame. */
    static const char conv[] = "HELLO\r\n\x00\xff"
                               "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|M1|P|2.5\rPID|1||7^^^H\r\x1c\r"
                               "junk\x1c"
                               "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|M2|P|2.5\r\x1c\r";
    char *out = run_one(conv, sizeof(conv) - 1);
    assert_int_equal(n_events, 2);
    has_kv(line(out, 0), "control_id", "M1");
    has(line(out, 0), "\"skipped_bytes\":8");
    has_kv(line(out, 0), "patient_id", pseudo(PHI_ID, "7"));
    has_kv(line(out, 1), "control_id", "M2");
    has(line(out, 1), "\"skipped_bytes\":5");
    free(out);

    /* A frame cut by the next start block, and one cut by the end of the flow. */
    static const char cut[] = "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|M1|P|2.5\rPID|1||7"
                              "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|M2|P|2.5\r\x1c\r"
                              "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|M3|P|2.5\rEVN|A0";
    out = run_one(cut, sizeof(cut) - 1);
    assert_int_equal(n_events, 3);
    has(line(out, 0), "\"unterminated\":true");
    has(line(out, 0), "\"segments\":[\"MSH\",\"PID\"]");
    lacks(line(out, 1), "unterminated");
    has_kv(line(out, 2), "control_id", "M3");
    has(line(out, 2), "\"unterminated\":true");
    free(out);
}

static void
test_gap(void **unused)
{
    (void)unused;
    struct harness h;
    harness_begin(&h, &hl7_parser);
    static const char a[] = "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|M1|P|2.5\rPID|1||7^^^H|";
    static const char b[] = "\rPV1|1\r\x1c\r\x0bMSH|^~\\&|A|B|C|D|1||ADT^A08|M2|P|2.5\r\x1c\r";
    harness_feed(&h, 0, a, sizeof(a) - 1, 0);
    assert_int_equal(hl7_parser.gap(h.state, &h.ctx, 0, 1000), 0);
    harness_feed(&h, 0, b, sizeof(b) - 1, 0);
    harness_end(&h);
    assert_int_equal(h.n_events, 2);
    const char *out = (const char *)h.out.ptr;
    has(line(out, 0), "\"unterminated\":true");
    has(line(out, 0), "\"segments\":[\"MSH\"]"); /* the PID lost bytes: dropped */
    has_kv(line(out, 1), "control_id", "M2");
    harness_release(&h);
}

static void
test_segment_cap(void **unused)
{
    (void)unused;
    /* 70 OBX: 64 ids listed (MSH + 63 OBX), 7 counted. */
    char msg[2048] = "\x0bMSH|^~\\&|A|B|C|D|1||ORU^R01|M1|P|2.5\r";
    for (int i = 0; i < 70; i++)
        append(msg, sizeof(msg), "OBX|1\r");
    append(msg, sizeof(msg), "\x1c\r");
    char *out = run_one(msg, strlen(msg));
    assert_int_equal(n_events, 1);
    has(out, "\"segments_more\":7");
    has(out, "\"OBX\"]");
    free(out);
}

static void
test_probe(void **unused)
{
    (void)unused;
    const struct proto_parser *p = &hl7_parser;
    assert_int_equal(p->probe((const uint8_t *)"\x0bMSH|^~\\&|", 10, 0), PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"\x0b"
                                               "FHS|^~\\&|",
                              10, 0),
                     PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"\x0b"
                                               "BHS|^~\\&|",
                              10, 0),
                     PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"MSH|^~\\&|HIS", 12, 0), PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"MSH|#~\\&|", 9, 0), PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"\x0bMS", 3, 0), PROTO_PROBE_NEED_MORE);
    assert_int_equal(p->probe((const uint8_t *)"MSH|^~", 6, 0), PROTO_PROBE_NEED_MORE);
    assert_int_equal(p->probe((const uint8_t *)"", 0, 0), PROTO_PROBE_NEED_MORE);
    assert_int_equal(p->probe((const uint8_t *)"MSHA^~\\&A", 9, 0), PROTO_PROBE_NO);
    assert_int_equal(p->probe((const uint8_t *)"MSH|ab|", 7, 0), PROTO_PROBE_NO);
    assert_int_equal(p->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, 0), PROTO_PROBE_NO);
    assert_int_equal(p->probe((const uint8_t *)"\x0bXYZ|^~\\&|", 10, 0), PROTO_PROBE_NO);
    assert_int_equal(p->probe((const uint8_t *)"\x16\x03\x01", 3, 0), PROTO_PROBE_NO);
}

static void
test_pid_variants(void **unused)
{
    (void)unused;
    /* PID-3 empty: PID-2 (pre-2.3.1 external id) is the patient id. Escapes stay as sent. */
    static const char pid2[] = "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A04|M1|P|2.2\r"
                               "PID|1|5555^^^H||| SMITH\\T\\SON^ANN\r\x1c\r";
    char *out = run_one(pid2, sizeof(pid2) - 1);
    has_kv(out, "patient_id", pseudo(PHI_ID, "5555"));
    has_kv(out, "patient_name", pseudo(PHI_NAME, " SMITH\\T\\SON^ANN"));
    lacks(out, "SMITH");
    lacks(out, "5555");
    free(out);

    /* Six repetitions of PID-3: four pseudonymised. */
    static const char reps[] = "\x0bMSH|^~\\&|A|B|C|D|1||ADT^A04|M1|P|2.5\r"
                               "PID|1||a~b~~c^1~d~e~f\r\x1c\r";
    out = run_one(reps, sizeof(reps) - 1);
    char want[256];
    snprintf(want, sizeof(want), "\"patient_ids\":[\"%s\",\"%s\",\"%s\",\"%s\"]",
             pseudo(PHI_ID, "a"), pseudo(PHI_ID, "b"), pseudo(PHI_ID, "c"), pseudo(PHI_ID, "d"));
    has(out, want);
    free(out);
}

static void
test_free_text_line(void **unused)
{
    (void)unused;
    /* An LF inside a TX value splits it (LF is tolerated as a segment end): the pieces have no
     * valid segment id, so they are counted and never listed. */
    static const char msg[] = "\x0bMSH|^~\\&|A|B|C|D|1||ORU^R01|M1|P|2.5\r"
                              "OBX|1|TX|||doe said\nfeeling fine\nTHE END|x\r\x1c\r";
    char *out = run_one(msg, sizeof(msg) - 1);
    assert_int_equal(n_events, 1);
    has(out, "\"segments\":[\"MSH\",\"OBX\"]");
    has(out, "\"bad_segments\":2");
    lacks(out, "fee");
    lacks(out, "THE");
    free(out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mllp_capture),
        cmocka_unit_test(test_encoding_characters),
        cmocka_unit_test(test_batch_mllp),
        cmocka_unit_test(test_without_mllp),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_garbage_between_frames),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_segment_cap),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_pid_variants),
        cmocka_unit_test(test_free_text_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
