// SPDX-License-Identifier: Apache-2.0
// Unit tests for the HTTP/1.x (+ FHIR) parser. Captured vectors come from curl, python3's
// http.server and a FHIR-style python API (tests/fuzz/corpus/make-http-seeds.sh); the others are
// hand-built, with a comment on what each block is. harness_run checks every conversation whole,
// byte by byte and in 7-byte pieces; test_split_everywhere also splits at every byte.
#include "harness.h"

#include <stdio.h>

#include "proto/http.h"

#define HM(s) (s), sizeof(s) - 1
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 00-8000-GET--index-txt-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_get[] = {
    {0, HM("GET /index.txt HTTP/1.1\r\n"
           "Host: 10.77.22.1:8000\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.0 200 OK\r\n"
           "Server: SimpleHTTP/0.6 Python/3.11.7\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-type: text/plain\r\n"
           "Content-Length: 30\r\n"
           "Last-Modified: Mon, 23 Nov 2026 12:39:37 GMT\r\n"
           "\r\n"
           "hello from python http.server\012")},
};

/* 01-8000-HEAD--index-txt-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_head[] = {
    {0, HM("HEAD /index.txt HTTP/1.1\r\n"
           "Host: 10.77.22.1:8000\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.0 200 OK\r\n"
           "Server: SimpleHTTP/0.6 Python/3.11.7\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-type: text/plain\r\n"
           "Content-Length: 30\r\n"
           "Last-Modified: Mon, 23 Nov 2026 12:39:37 GMT\r\n"
           "\r\n"
           "")},
};

/* 04-8042-GET--fhir-Patient-123-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_keepalive[] = {
    {0, HM("GET /fhir/Patient/123 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 115\r\n"
           "\r\n"
           "{\042resourceType\042: \042Patient\042, \042id\042: \042123\042, \042name\042: "
           "[{\042family\042: \042Doe\042, \042given\042: [\042John\042]}], \042birthDate\042: "
           "\0421970-01-01\042}")},
    {0, HM("GET /fhir/Observation\077patient=123&_count=10&_format=json HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-Type: application/fhir+json; charset=utf-8\r\n"
           "Transfer-Encoding: chunked\r\n"
           "Trailer: X-Checksum\r\n"
           "\r\n"
           "1d;part=0\r\n"
           "{\042resourceType\042: \042Bundle\042, \042t\r\n"
           "1e;part=1\r\n"
           "ype\042: \042searchset\042, \042total\042: 1}\r\n"
           "0\r\n"
           "X-Checksum: abc\r\n"
           "\r\n"
           "")},
    {0, HM("GET /fhir/metadata HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1,
     HM("HTTP/1.1 200 OK\r\n"
        "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
        "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
        "Content-Type: application/fhir+json\r\n"
        "Content-Length: 63\r\n"
        "\r\n"
        "{\042resourceType\042: \042CapabilityStatement\042, \042fhirVersion\042: \0424.0.1\042}")},
    {0, HM("GET /fhir/Patient/123/$everything HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-Type: application/fhir+json; charset=utf-8\r\n"
           "Transfer-Encoding: chunked\r\n"
           "Trailer: X-Checksum\r\n"
           "\r\n"
           "1e;part=0\r\n"
           "{\042resourceType\042: \042Bundle\042, \042ty\r\n"
           "1e;part=1\r\n"
           "pe\042: \042searchset\042, \042entry\042: []}\r\n"
           "0\r\n"
           "X-Checksum: abc\r\n"
           "\r\n"
           "")},
};

/* 05-8042-POST--fhir-Patient-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_create_big[] = {
    {0,
     HM("POST /fhir/Patient HTTP/1.1\r\n"
        "Host: 10.77.22.1:8042\r\n"
        "User-Agent: curl/7.88.1\r\n"
        "Accept: */*\r\n"
        "Content-Type: application/fhir+json\r\n"
        "Content-Length: 2000\r\n"
        "\r\n"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaa")},
    {1, HM("HTTP/1.1 201 Created\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 53\r\n"
           "\r\n"
           "{\042resourceType\042: \042Patient\042, \042id\042: \042456\042, \042len\042: 2000}")},
};

/* 06-8042-POST--fhir-Observation-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_expect_real[] = {
    {0, HM("POST /fhir/Observation HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Expect: 100-continue\r\n"
           "Content-Length: 2000\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 100 Continue\r\n"
           "\r\n"
           "")},
    {0,
     HM("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaa")},
    {1, HM("HTTP/1.1 201 Created\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 53\r\n"
           "\r\n"
           "{\042resourceType\042: \042Patient\042, \042id\042: \042456\042, \042len\042: 2000}")},
};

/* 07-8042-POST--fhir-Patient-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_create[] = {
    {0, HM("POST /fhir/Patient HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 26\r\n"
           "\r\n"
           "{\042resourceType\042:\042Patient\042}")},
    {1, HM("HTTP/1.1 201 Created\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 51\r\n"
           "\r\n"
           "{\042resourceType\042: \042Patient\042, \042id\042: \042456\042, \042len\042: 26}")},
};

/* 09-8042-GET--fhir-Patient-123-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_304[] = {
    {0, HM("GET /fhir/Patient/123 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "If-None-Match: W/\0421\042\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 304 Not Modified\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "ETag: W/\0421\042\r\n"
           "\r\n"
           "")},
};

/* 10-8042-DELETE--fhir-Patient-123-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_delete[] = {
    {0, HM("DELETE /fhir/Patient/123 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 204 No Content\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "\r\n"
           "")},
};

/* 11-8042-POST--fhir-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_batch_chunked[] = {
    {0, HM("POST /fhir HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Transfer-Encoding: chunked\r\n"
           "\r\n"
           "2e\r\n"
           "{\042resourceType\042:\042Bundle\042,\042type\042:\042transaction\042}\r\n"
           "0\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:39 GMT\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 58\r\n"
           "\r\n"
           "{\042resourceType\042: \042Bundle\042, \042type\042: \042transaction-response\042}")},
};

/* 12-8042-GET--fhir-Patient-name-smith-birthdate-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_search[] = {
    {0, HM("GET /fhir/Patient\077name=smith&birthdate=1970-01-01 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:40 GMT\r\n"
           "Content-Type: application/fhir+json; charset=utf-8\r\n"
           "Transfer-Encoding: chunked\r\n"
           "Trailer: X-Checksum\r\n"
           "\r\n"
           "1d;part=0\r\n"
           "{\042resourceType\042: \042Bundle\042, \042t\r\n"
           "1e;part=1\r\n"
           "ype\042: \042searchset\042, \042total\042: 1}\r\n"
           "0\r\n"
           "X-Checksum: abc\r\n"
           "\r\n"
           "")},
};

/* 13-8042-GET--legacy-id-7-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_close[] = {
    {0, HM("GET /legacy\077id=7 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: curl/7.88.1\r\n"
           "Accept: */*\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.0 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:40 GMT\r\n"
           "Content-Type: text/plain\r\n"
           "\r\n"
           "legacy body without a length, ends at close\012")},
};

/* 14-8042-GET--fhir-Patient-123-HTTP-1-1 (captured by make-http-seeds.sh) */
static const struct harness_msg v_pipeline[] = {
    {0, HM("GET /fhir/Patient/123 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "User-Agent: pipeline/1\r\n"
           "\r\n"
           "GET /fhir/Observation\077patient=123&code=8867-4 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "\r\n"
           "HEAD /fhir/metadata HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "\r\n"
           "DELETE /fhir/Patient/123 HTTP/1.1\r\n"
           "Host: 10.77.22.1:8042\r\n"
           "Connection: close\r\n"
           "\r\n"
           "")},
    {1, HM("HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:40 GMT\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 115\r\n"
           "\r\n"
           "{\042resourceType\042: \042Patient\042, \042id\042: \042123\042, \042name\042: "
           "[{\042family\042: \042Doe\042, \042given\042: [\042John\042]}], \042birthDate\042: "
           "\0421970-01-01\042}HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:40 GMT\r\n"
           "Content-Type: application/fhir+json; charset=utf-8\r\n"
           "Transfer-Encoding: chunked\r\n"
           "Trailer: X-Checksum\r\n"
           "\r\n"
           "1d;part=0\r\n"
           "{\042resourceType\042: \042Bundle\042, \042t\r\n"
           "1e;part=1\r\n"
           "ype\042: \042searchset\042, \042total\042: 1}\r\n"
           "0\r\n"
           "X-Checksum: abc\r\n"
           "\r\n"
           "HTTP/1.1 200 OK\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:40 GMT\r\n"
           "Content-Type: application/fhir+json\r\n"
           "Content-Length: 63\r\n"
           "\r\n"
           "HTTP/1.1 204 No Content\r\n"
           "Server: BaseHTTP/0.6 Python/3.11.2\r\n"
           "Date: Mon, 23 Nov 2026 12:39:40 GMT\r\n"
           "\r\n"
           "")},
};

/* Runs a conversation; returns the events (free them), checks the parse result. */
static char *
run(const struct harness_msg *msgs, size_t n, int want_events, bool want_ok)
{
    int n_events = 0, rc = 0;
    char *out = harness_run(&http_parser, msgs, n, &n_events, &rc);
    if (getenv("HTTP_TEST_PRINT"))
        fprintf(stderr, "%s---\n", out);
    assert_int_equal(n_events, want_events);
    assert_int_equal(rc == 0, want_ok);
    return out;
}

static void
has(const char *out, const char *needle)
{
    if (!strstr(out, needle))
        fail_msg("missing %s in:\n%s", needle, out);
}

static void
lacks(const char *out, const char *needle)
{
    if (strstr(out, needle))
        fail_msg("unexpected %s in:\n%s", needle, out);
}

static void
test_get(void **s)
{
    (void)s;
    char *out = run(v_get, N(v_get), 1, true);
    assert_string_equal(
        out,
        "{\"kind\":1,\"dir\":1,\"http\":{\"hostname\":\"10.77.22.1:8000\",\"url\":\"/index.txt\","
        "\"http_user_agent\":\"curl/7.88.1\",\"http_content_type\":\"text/plain\","
        "\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":30,"
        "\"request_body_length\":0,\"chunked\":false}}\n");
    free(out);
}

/* HEAD: the response's Content-Length describes a body that is not sent. */
static void
test_head(void **s)
{
    (void)s;
    char *out = run(v_head, N(v_head), 1, true);
    has(out, "\"http_method\":\"HEAD\"");
    has(out, "\"status\":200,\"length\":0,");
    lacks(out, "anomalies");
    free(out);
}

/* curl with four URLs on one connection: read, search (chunked), capabilities, operation. */
static void
test_keepalive_fhir(void **s)
{
    (void)s;
    char *out = run(v_keepalive, N(v_keepalive), 4, true);
    lacks(out, "anomalies");
    has(out, "\"fhir\":{\"resource_type\":\"Patient\",\"id\":\"phi:");
    has(out, "\"interaction\":\"read\"");
    has(out, "\"url\":\"/fhir/Observation?patient=&_count=&_format=\"");
    has(out, "\"fhir\":{\"resource_type\":\"Observation\",\"interaction\":\"search-type\","
             "\"params\":[\"patient\",\"_count\",\"_format\"]}");
    has(out, "\"url\":\"/fhir/metadata\"");
    has(out, "\"interaction\":\"capabilities\"");
    has(out, "\"interaction\":\"operation\",\"operation\":\"$everything\"");
    has(out, "\"chunked\":true");
    /* The patient id never appears in clear, in the url or anywhere. */
    lacks(out, "123");
    has(out, "\"url\":\"/fhir/Patient/phi:");
    free(out);
}

/* A raw client writing four requests at once; the responses come back in order. */
static void
test_pipeline(void **s)
{
    (void)s;
    char *out = run(v_pipeline, N(v_pipeline), 4, true);
    lacks(out, "anomalies");
    lacks(out, "123");
    lacks(out, "8867");
    const char *p = strstr(out, "\"http_method\":\"GET\"");
    assert_non_null(p);
    p = strstr(p, "\"url\":\"/fhir/Observation?patient=&code=\"");
    assert_non_null(p);
    p = strstr(p, "\"http_method\":\"HEAD\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":0");
    assert_non_null(p);
    p = strstr(p,
               "\"http_method\":\"DELETE\",\"protocol\":\"HTTP/1.1\",\"status\":204,\"length\":0");
    assert_non_null(p);
    has(out, "\"interaction\":\"delete\"");
    free(out);
}

static void
test_create(void **s)
{
    (void)s;
    char *out = run(v_create_big, N(v_create_big), 1, true);
    has(out,
        "\"http_method\":\"POST\",\"protocol\":\"HTTP/1.1\",\"status\":201,\"length\":53,"
        "\"request_body_length\":2000,\"http_request_content_type\":\"application/fhir+json\"");
    has(out, "\"fhir\":{\"resource_type\":\"Patient\",\"interaction\":\"create\"}");
    free(out);
    out = run(v_create, N(v_create), 1, true);
    has(out, "\"interaction\":\"create\"");
    free(out);
}

/* 100-continue: the interim response does not end the transaction (hand-built). */
static const struct harness_msg v_expect[] = {
    /* request headers, then the client waits */
    {0, HM("POST /fhir/Observation HTTP/1.1\r\nHost: fhir\r\n"
           "Content-Type: application/fhir+json\r\nContent-Length: 5\r\n"
           "Expect: 100-continue\r\n\r\n")},
    /* interim response */
    {1, HM("HTTP/1.1 100 Continue\r\n\r\n")},
    /* the body */
    {0, HM("{...}")},
    /* final response */
    {1, HM("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nContent-Type: application/fhir+json\r\n"
           "\r\n{}")},
};

static void
test_continue(void **s)
{
    (void)s;
    char *out = run(v_expect_real, N(v_expect_real), 1, true);
    has(out, "\"status\":201,\"length\":53,\"request_body_length\":2000,");
    lacks(out, "anomalies");
    free(out);
    out = run(v_expect, N(v_expect), 1, true);
    has(out, "\"status\":201,\"length\":2,\"request_body_length\":5,");
    lacks(out, "anomalies");
    has(out, "\"interaction\":\"create\"");
    free(out);
}

/* 304 and 204: no body whatever the headers say. */
static void
test_no_body(void **s)
{
    (void)s;
    char *out = run(v_304, N(v_304), 1, true);
    has(out, "\"status\":304,\"length\":0");
    lacks(out, "anomalies");
    free(out);
    out = run(v_delete, N(v_delete), 1, true);
    has(out, "\"status\":204,\"length\":0");
    has(out, "\"interaction\":\"delete\"");
    lacks(out, "anomalies");
    lacks(out, "123");
    free(out);
    /* 204 with a stray Content-Length, then another request on the connection. */
    static const struct harness_msg m[] = {
        {0, HM("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\n")},
        {1, HM("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
               "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")},
    };
    out = run(m, N(m), 2, true);
    has(out, "\"url\":\"/y\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
             "\"length\":3");
    free(out);
}

/* POST to the base with a chunked request body (curl -H "Transfer-Encoding: chunked"). */
static void
test_batch_chunked(void **s)
{
    (void)s;
    char *out = run(v_batch_chunked, N(v_batch_chunked), 1, true);
    has(out, "\"url\":\"/fhir\"");
    has(out, "\"request_body_length\":46,");
    has(out, "\"chunked\":true");
    has(out, "\"fhir\":{\"interaction\":\"batch/transaction\"}");
    free(out);
}

/* Search values are patient data: only the names are kept. */
static void
test_search_names_only(void **s)
{
    (void)s;
    char *out = run(v_search, N(v_search), 1, true);
    has(out, "\"url\":\"/fhir/Patient?name=&birthdate=\"");
    has(out, "\"params\":[\"name\",\"birthdate\"]");
    lacks(out, "smith");
    lacks(out, "1970");
    free(out);
}

/* HTTP/1.0-style response without a length: the body ends when the connection does. */
static void
test_until_close(void **s)
{
    (void)s;
    char *out = run(v_close, N(v_close), 1, true);
    has(out, "\"url\":\"/legacy?id=\"");
    has(out, "\"status\":200,\"length\":44,");
    lacks(out, "anomalies");
    lacks(out, "fhir\":");
    free(out);
}

/* Chunk extensions (quoted too), upper-case hex, trailers (hand-built). */
static const struct harness_msg v_chunked[] = {
    {0, HM("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")},
    {1, HM("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
           /* 10 bytes, an extension with a quoted value */
           "A;name=\"v;x\"\r\n0123456789\r\n"
           /* 0x1F bytes, extension without a value */
           "1F;flag\r\n0123456789012345678901234567890\r\n"
           /* last chunk and two trailers */
           "0\r\nX-A: 1\r\nX-B: 2\r\n\r\n")},
    {0, HM("GET /b HTTP/1.1\r\nHost: h\r\n\r\n")},
    {1, HM("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")},
};

static void
test_chunked(void **s)
{
    (void)s;
    char *out = run(v_chunked, N(v_chunked), 2, true);
    has(out, "\"url\":\"/a\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
             "\"length\":41,\"request_body_length\":0,\"chunked\":true}");
    has(out, "\"url\":\"/b\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
             "\"length\":1,");
    lacks(out, "anomalies");
    free(out);
    /* A chunk size that is not hex: give up, with the anomaly. */
    static const struct harness_msg bad[] = {
        {0, HM("GET /a HTTP/1.1\r\n\r\n")},
        {1, HM("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")},
    };
    out = run(bad, N(bad), 1, false);
    has(out, "bad_chunk");
    free(out);
}

/* Over the caps: a header line over 8 KiB, more than 100 headers. The parser gives up. */
static void
test_oversize(void **s)
{
    (void)s;
    static char big[HTTP_LINE_MAX + 64];
    size_t n = 0;
    memcpy(big, "GET /x HTTP/1.1\r\nX-Big: ", 24);
    n = 24;
    memset(big + n, 'a', HTTP_LINE_MAX);
    n += HTTP_LINE_MAX;
    memcpy(big + n, "\r\n\r\n", 4);
    n += 4;
    struct harness_msg m[] = {{0, big, n}};
    char *out = run(m, 1, 1, false);
    has(out, "\"line_too_long\"");
    has(out, "\"no_response\"");
    free(out);

    static char many[32 + (HTTP_HEADERS_MAX + 1) * 8];
    n = 0;
    memcpy(many, "GET /x HTTP/1.1\r\n", 17);
    n = 17;
    for (int i = 0; i <= HTTP_HEADERS_MAX; i++) {
        memcpy(many + n, "X-H: 1\r\n", 8);
        n += 8;
    }
    struct harness_msg m2[] = {{0, many, n}};
    out = run(m2, 1, 1, false);
    has(out, "\"too_many_headers\"");
    free(out);

    /* A long url is cut; the query values still never appear. */
    static char lng[HTTP_TARGET_MAX + 64];
    n = 0;
    memcpy(lng, "GET /p?", 7);
    n = 7;
    for (int i = 0; n < HTTP_TARGET_MAX; i++) {
        memcpy(lng + n, "ab=secret&", 10);
        n += 10;
    }
    memcpy(lng + n, " HTTP/1.1\r\n\r\n", 13);
    n += 13;
    struct harness_msg m3[] = {{0, lng, n}};
    out = run(m3, 1, 1, true);
    has(out, "url_truncated");
    lacks(out, "secret");
    free(out);
}

/* More pipelined requests than HTTP_PENDING_MAX: give up, every pending one is emitted. */
static void
test_pending_cap(void **s)
{
    (void)s;
    static char reqs[(HTTP_PENDING_MAX + 1) * 18];
    size_t n = 0;
    for (int i = 0; i <= HTTP_PENDING_MAX; i++) {
        memcpy(reqs + n, "GET / HTTP/1.1\r\n\r\n", 18);
        n += 18;
    }
    struct harness_msg m[] = {{0, reqs, n}};
    char *out = run(m, 1, HTTP_PENDING_MAX, false);
    has(out, "pending_overflow");
    free(out);
}

/* FHIR interactions and bases (hand-built request lines, answered 200). */
static void
test_fhir_interactions(void **s)
{
    (void)s;
    static const struct {
        const char *req;
        const char *want;
    } cases[] = {
        {"GET /baseR4/Observation/obs-1/_history/2 HTTP/1.1",
         "\"fhir\":{\"resource_type\":\"Observation\",\"id\":\"obs-1\",\"interaction\":\"vread\"}"},
        {"GET /r4/Patient/p1/_history HTTP/1.1", "\"interaction\":\"history\""},
        {"PUT /api/fhir/Encounter/e9 HTTP/1.1", "\"interaction\":\"update\""},
        {"PATCH /fhir/Patient/p1 HTTP/1.1", "\"interaction\":\"patch\""},
        {"POST /fhir/Observation/$validate HTTP/1.1",
         "\"interaction\":\"operation\",\"operation\":\"$validate\""},
        {"POST /fhir/Observation/_search HTTP/1.1", "\"interaction\":\"search-type\""},
        {"GET /fhir/Patient/p1/Observation?code=x HTTP/1.1",
         "\"interaction\":\"search-compartment\",\"params\":[\"code\"]"},
        {"GET /fhir?_type=Patient HTTP/1.1", "\"interaction\":\"search-system\""},
        {"GET /fhir/_history HTTP/1.1", "\"interaction\":\"history\""},
        {"GET /Patient?identifier=urn:oid:1|zq9 HTTP/1.1", "\"url\":\"/Patient?identifier=\""},
        {"GET http://fhir.example:8080/fhir/Patient/p1 HTTP/1.1",
         "\"url\":\"http://fhir.example:8080/fhir/Patient/phi:"},
        {"GET /ehr/x/y/z/Patient/p1/photo.jpg HTTP/1.1", "\"url\":\"/ehr/x/y/z/Patient/phi:"},
        {"GET /fhir/metadata?_format=json HTTP/1.1",
         "\"interaction\":\"capabilities\",\"params\":[\"_format\"]"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char req[256];
        int n = snprintf(req, sizeof(req), "%s\r\nHost: fhir.local\r\n\r\n", cases[i].req);
        struct harness_msg m[] = {
            {0, req, (size_t)n},
            {1, HM("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
        };
        char *out = run(m, N(m), 1, true);
        has(out, cases[i].want);
        lacks(out, "p1");
        lacks(out, "zq9");
        free(out);
    }
    /* Not FHIR: a plain path, no FHIR content type. */
    static const struct harness_msg plain[] = {
        {0, HM("GET /fhir-docs/index.html?q=patient HTTP/1.1\r\nHost: x\r\n\r\n")},
        {1, HM("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n")},
    };
    char *out = run(plain, N(plain), 1, true);
    lacks(out, "fhir\":");
    has(out, "\"url\":\"/fhir-docs/index.html?q=\"");
    free(out);
    /* FHIR by content type alone. */
    static const struct harness_msg ct[] = {
        {0, HM("POST /ehr/endpoint HTTP/1.1\r\nContent-Type: application/fhir+xml\r\n"
               "Content-Length: 0\r\n\r\n")},
        {1, HM("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
    };
    out = run(ct, N(ct), 1, true);
    has(out, "\"fhir\":{\"interaction\":\"unknown\"}");
    free(out);
}

/* Cut off mid-response, unanswered requests, responses without requests, 101, gaps. */
static void
test_end_and_oddities(void **s)
{
    (void)s;
    static const struct harness_msg cut[] = {
        {0, HM("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")},
        {1, HM("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")},
    };
    char *out = run(cut, N(cut), 2, true);
    has(out, "\"url\":\"/a\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
             "\"length\":3,\"request_body_length\":0,\"chunked\":false,\"anomalies\":["
             "\"response_incomplete\"]");
    has(out, "\"url\":\"/b\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"length\":0,"
             "\"request_body_length\":0,\"chunked\":false,\"anomalies\":[\"no_response\"]");
    free(out);

    static const struct harness_msg orphan[] = {
        {1, HM("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")},
    };
    out = run(orphan, N(orphan), 1, true);
    has(out, "\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":2");
    has(out, "no_request");
    free(out);

    /* An interim response with no request, then the final one (found by the fuzzer: leak). */
    static const struct harness_msg orphan1xx[] = {
        {1, HM("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
    };
    out = run(orphan1xx, N(orphan1xx), 1, true);
    has(out, "\"status\":200,\"length\":0");
    has(out, "no_request");
    free(out);

    static const struct harness_msg upgrade[] = {
        {0, HM("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")},
        {1, HM("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello")},
        {0, HM("\x81\x85garbage")},
    };
    out = run(upgrade, N(upgrade), 1, true);
    has(out, "\"status\":101,\"length\":0");
    lacks(out, "anomalies");
    free(out);

    static const struct harness_msg notHttp[] = {
        {0, HM("\x16\x03\x01\x02\x00")},
    };
    out = run(notHttp, N(notHttp), 0, false);
    free(out);

    /* Bare LF line ends and a folded header line. */
    static const struct harness_msg lf[] = {
        {0, HM("GET /lf HTTP/1.0\nHost: h\n  folded\nUser-Agent:  ua  \n\n")},
        {1, HM("HTTP/1.0 200 OK\nContent-Length: 1\n\nx")},
    };
    out = run(lf, N(lf), 1, true);
    has(out, "\"hostname\":\"h\",\"url\":\"/lf\",\"http_user_agent\":\"ua\"");
    has(out, "bad_header");
    free(out);

    /* Referer: sanitised like the url; credentials in an absolute url are dropped. */
    static const struct harness_msg ref[] = {
        {0, HM("GET http://u:pw@h/fhir/Patient/p1?x=1 HTTP/1.1\r\n"
               "Referer: https://ehr.local/app/Patient/p1/chart?mrn=zq9&tab=2#f\r\n"
               "Referer: http://second\r\n\r\n")},
        {1, HM("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
    };
    out = run(ref, N(ref), 1, true);
    has(out, "\"url\":\"http://h/fhir/Patient/phi:");
    has(out, "\"http_refer\":\"https://ehr.local/app/Patient/phi:");
    has(out, "/chart?mrn=&tab=\"");
    lacks(out, "p1");
    lacks(out, "zq9");
    lacks(out, "pw");
    lacks(out, "second");
    free(out);
    /* Cut inside the Referer line: still sanitised at end(). */
    static const struct harness_msg refcut[] = {
        {0, HM("GET / HTTP/1.1\r\nReferer: /Patient/p1?q=zq9")},
    };
    out = run(refcut, N(refcut), 1, true);
    has(out, "\"http_refer\":\"/Patient/phi:");
    lacks(out, "p1");
    lacks(out, "zq9");
    free(out);

    /* Two different Content-Lengths: framing unknown, give up. */
    static const struct harness_msg cl2[] = {
        {0, HM("POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")},
    };
    out = run(cl2, N(cl2), 1, false);
    has(out, "bad_length");
    free(out);
}

static void
test_gap(void **s)
{
    (void)s;
    struct harness h;
    harness_begin(&h, &http_parser);
    static const char req[] = "GET /g HTTP/1.1\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
    harness_feed(&h, 0, req, sizeof(req) - 1, 0);
    harness_feed(&h, 1, resp, sizeof(resp) - 1, 0);
    assert_int_equal(http_parser.gap(h.state, &h.ctx, 1, 80), 0);
    harness_feed(&h, 1, "0123456789", 10, 0);
    assert_int_equal(h.n_events, 1);
    has((const char *)h.out.ptr, "\"length\":100,");
    has((const char *)h.out.ptr, "\"gap\"");
    /* A gap in the headers: give up. */
    harness_feed(&h, 0, req, 5, 0);
    assert_true(http_parser.gap(h.state, &h.ctx, 0, 3) < 0);
    harness_end(&h);
    assert_int_equal(h.n_events, 2);
    harness_release(&h);
}

/* ---- File digests (ctx->file_hashes); expected values from python3 hashlib ---- */

#define ALL_HASHES (PROTO_HASH_MD5 | PROTO_HASH_SHA1 | PROTO_HASH_SHA256)

/* md5, sha1, sha256 of "hello from python http.server\n" (30 bytes) */
#define HELLO_FILE                                                                                 \
    "\"file\":{\"size\":30,\"md5\":\"d6d0a673d76c0d662f2f604e610e22cf\","                          \
    "\"sha1\":\"73a1a4241df9901fb4e48dc8404cc04c8195bd3e\","                                       \
    "\"sha256\":\"198a0eaec0dbafcc205236307cd287d9f8d8926c2441afa81715fa385b19161a\"}"
/* 2000 x 'a' */
#define A2000_FILE                                                                                 \
    "{\"size\":2000,\"md5\":\"7c1c566ab4cdb11ac8971191694e8bec\","                                 \
    "\"sha1\":\"059c294680401882abc912771fff152ee638ee80\","                                       \
    "\"sha256\":\"c4a700f85b7e9e5cdbdc51170409ee2ad48bebe2f2f0957a067937531a0a3c42\"}"
/* {"resourceType": "Patient", "id": "456", "len": 2000} (53 bytes) */
#define CREATED_FILE                                                                               \
    "\"file\":{\"size\":53,\"md5\":\"72cf7a59ce7903752545c6df8a0b4dbc\","                          \
    "\"sha1\":\"49e9c6858db886136acf27c9de642c07adbf1b65\","                                       \
    "\"sha256\":\"8f1c78fd930991bea8ad4d82edfed4f4c0f9d6ddc52bb25a7388bf04c2569de4\"}"

static char *
run_hashes(const struct harness_msg *msgs, size_t n, uint8_t mask, int want_events, bool want_ok)
{
    int n_events = 0, rc = 0;
    char *out = harness_run_hashes(&http_parser, msgs, n, mask, &n_events, &rc);
    if (getenv("HTTP_TEST_PRINT"))
        fprintf(stderr, "%s---\n", out);
    assert_int_equal(n_events, want_events);
    assert_int_equal(rc == 0, want_ok);
    return out;
}

/* A Content-Length body: all three digests, or the ones asked for, or none. */
static void
test_hash_length(void **s)
{
    (void)s;
    char *out = run_hashes(v_get, N(v_get), ALL_HASHES, 1, true);
    assert_string_equal(
        out,
        "{\"kind\":1,\"dir\":1,\"http\":{\"hostname\":\"10.77.22.1:8000\",\"url\":\"/index.txt\","
        "\"http_user_agent\":\"curl/7.88.1\",\"http_content_type\":\"text/plain\","
        "\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":30,"
        "\"request_body_length\":0,\"chunked\":false," HELLO_FILE "}}\n");
    free(out);
    out = run_hashes(v_get, N(v_get), PROTO_HASH_SHA256, 1, true);
    has(out, "\"chunked\":false,\"file\":{\"size\":30,\"sha256\":"
             "\"198a0eaec0dbafcc205236307cd287d9f8d8926c2441afa81715fa385b19161a\"}}}\n");
    free(out);
    out = run_hashes(v_get, N(v_get), PROTO_HASH_MD5 | PROTO_HASH_SHA1, 1, true);
    has(out, "\"file\":{\"size\":30,\"md5\":\"d6d0a673d76c0d662f2f604e610e22cf\","
             "\"sha1\":\"73a1a4241df9901fb4e48dc8404cc04c8195bd3e\"}}}\n");
    free(out);
    /* Not asked for: the output is what it always was. */
    out = run_hashes(v_get, N(v_get), 0, 1, true);
    lacks(out, "file");
    lacks(out, "md5");
    free(out);
    /* No body, no digest: HEAD, 304, 204. */
    out = run_hashes(v_head, N(v_head), ALL_HASHES, 1, true);
    lacks(out, "file");
    free(out);
    out = run_hashes(v_304, N(v_304), ALL_HASHES, 1, true);
    lacks(out, "file");
    free(out);
    out = run_hashes(v_delete, N(v_delete), ALL_HASHES, 1, true);
    lacks(out, "file");
    free(out);
    /* A range (206) is a piece of a file: no digest. */
    static const struct harness_msg range[] = {
        {0, HM("GET /big HTTP/1.1\r\nHost: h\r\nRange: bytes=0-4\r\n\r\n")},
        {1, HM("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/100\r\n"
               "Content-Length: 5\r\n\r\nabcde")},
    };
    out = run_hashes(range, N(range), ALL_HASHES, 1, true);
    has(out, "\"status\":206,\"length\":5,");
    lacks(out, "file");
    free(out);
}

/* Uploads: the request body gets its own digests ("request_file"); 100-continue in between. */
static void
test_hash_request_body(void **s)
{
    (void)s;
    char *out = run_hashes(v_create_big, N(v_create_big), ALL_HASHES, 1, true);
    has(out, "\"chunked\":false," CREATED_FILE ",\"request_file\":" A2000_FILE ",\"fhir\":");
    free(out);
    out = run_hashes(v_expect_real, N(v_expect_real), ALL_HASHES, 1, true);
    has(out, "\"chunked\":false," CREATED_FILE ",\"request_file\":" A2000_FILE ",\"fhir\":");
    lacks(out, "anomalies");
    free(out);
    /* A chunked request body: {"resourceType":"Bundle","type":"transaction"}, de-chunked. */
    out = run_hashes(v_batch_chunked, N(v_batch_chunked), PROTO_HASH_SHA256, 1, true);
    has(out, "\"request_file\":{\"size\":46,\"sha256\":"
             "\"556dc438ff7ad98b421500d4de2d990c11b90eb104091df52cc1416fe6408e32\"}");
    free(out);
}

/* Chunked bodies are hashed de-chunked (extensions, sizes and trailers left out), and a body the
 * connection's end delimits is whole when the flow ends there. */
static void
test_hash_chunked_and_close(void **s)
{
    (void)s;
    char *out = run_hashes(v_chunked, N(v_chunked), ALL_HASHES, 2, true);
    /* "0123456789" + "0123456789012345678901234567890" */
    has(out, "\"url\":\"/a\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
             "\"length\":41,\"request_body_length\":0,\"chunked\":true,\"file\":{\"size\":41,"
             "\"md5\":\"258b326512843f996b693fe0fc3ab34a\","
             "\"sha1\":\"b23af0b62c100a70c86c2b0d74af2a1d018e103b\","
             "\"sha256\":\"79f002c49e81eed01bf23ce1b4f74d3d97b7797bee767fbbb619a620b43c5d89\"}}}");
    /* "z" */
    has(out, "\"length\":1,\"request_body_length\":0,\"chunked\":false,\"file\":{\"size\":1,"
             "\"md5\":\"fbade9e36a3f36d3d676c1b808451dd7\","
             "\"sha1\":\"395df8f7c51f007019cb30201c49e884b46b92fa\","
             "\"sha256\":\"594e519ae499312b29433b7dd8a97ff068defcba9755b6d5d00e84c524d67b06\"}}}");
    free(out);
    /* Keep-alive: each response its own digests (the search bundle is chunked). */
    out = run_hashes(v_search, N(v_search), PROTO_HASH_SHA1, 1, true);
    has(out, "\"chunked\":true,\"file\":{\"size\":59,"
             "\"sha1\":\"2dbb556847ca9f62f1fe81bd0075b0d45f2b4168\"},\"fhir\":");
    free(out);
    out = run_hashes(v_close, N(v_close), PROTO_HASH_MD5, 1, true);
    has(out, "\"file\":{\"size\":44,\"md5\":\"86e5f437f7d9ccb1a36fd4450620b2f9\"}");
    free(out);
}

/* Bodies that did not pass whole get no digest: cut by the end of the flow, a gap, a request
 * body still running when the response ended, a chunked body without its last chunk, a parser
 * that gave up. The rest of the event is as without hashing. */
static void
test_hash_incomplete(void **s)
{
    (void)s;
    static const struct harness_msg cut[] = {
        {0, HM("GET /f HTTP/1.1\r\nHost: h\r\n\r\n")},
        /* 10 of 100 bytes, then the flow ends */
        {1, HM("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")},
    };
    char *out = run_hashes(cut, N(cut), ALL_HASHES, 1, true);
    has(out, "\"length\":10,");
    has(out, "response_incomplete");
    lacks(out, "file");
    free(out);
    static const struct harness_msg chunk_cut[] = {
        {0, HM("GET /f HTTP/1.1\r\nHost: h\r\n\r\n")},
        /* one chunk, no last chunk */
        {1, HM("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n")},
    };
    out = run_hashes(chunk_cut, N(chunk_cut), ALL_HASHES, 1, true);
    has(out, "\"length\":5,");
    lacks(out, "file");
    free(out);
    static const struct harness_msg req_cut[] = {
        /* 5 of 10 request body bytes; the server answers at once */
        {0, HM("PUT /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01234")},
        {1, HM("HTTP/1.1 413 Too Large\r\nContent-Length: 1\r\n\r\nx")},
        {0, HM("56789")},
    };
    out = run_hashes(req_cut, N(req_cut), ALL_HASHES, 1, true);
    has(out, "request_incomplete");
    has(out, "\"file\":{\"size\":1,");
    lacks(out, "request_file");
    free(out);
    static const struct harness_msg bad_chunk[] = {
        {0, HM("GET /a HTTP/1.1\r\n\r\n")},
        {1, HM("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n")},
    };
    out = run_hashes(bad_chunk, N(bad_chunk), ALL_HASHES, 1, false);
    has(out, "bad_chunk");
    lacks(out, "file");
    free(out);
    /* A gap inside the body: the framing survives, the digest does not; the next response on
     * the connection gets its own. */
    struct harness h;
    harness_begin(&h, &http_parser);
    h.ctx.file_hashes = ALL_HASHES;
    static const char req[] = "GET /g HTTP/1.1\r\n\r\nGET /index.txt HTTP/1.1\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
    static const char resp2[] = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n"
                                "hello from python http.server\n";
    harness_feed(&h, 0, req, sizeof(req) - 1, 0);
    harness_feed(&h, 1, resp, sizeof(resp) - 1, 0);
    assert_int_equal(http_parser.gap(h.state, &h.ctx, 1, 80), 0);
    harness_feed(&h, 1, "0123456789", 10, 0);
    harness_feed(&h, 1, resp2, sizeof(resp2) - 1, 0);
    harness_end(&h);
    assert_int_equal(h.n_events, 2);
    const char *all = (const char *)h.out.ptr;
    const char *second = strchr(all, '\n');
    assert_non_null(second);
    assert_true(strstr(all, "\"file\"") > second); /* none in the first event */
    has(all, "\"gap\"");
    has(second, HELLO_FILE);
    harness_release(&h);
    /* A gap in a body the close delimits: no digest either. */
    harness_begin(&h, &http_parser);
    h.ctx.file_hashes = ALL_HASHES;
    harness_feed(&h, 0, v_close[0].data, v_close[0].len, 0);
    harness_feed(&h, 1, v_close[1].data, v_close[1].len - 10, 0);
    assert_int_equal(http_parser.gap(h.state, &h.ctx, 1, 5), 0);
    harness_feed(&h, 1, (const char *)v_close[1].data + v_close[1].len - 5, 5, 0);
    harness_end(&h);
    assert_int_equal(h.n_events, 1);
    has((const char *)h.out.ptr, "\"gap\"");
    lacks((const char *)h.out.ptr, "file");
    harness_release(&h);
}

static void
test_probe(void **s)
{
    (void)s;
    const struct proto_parser *p = &http_parser;
    assert_int_equal(p->probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, 0), PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"PROPFIND /d HTTP/1.1", 20, 0), PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"BREW /pot HTTP/1.1", 18, 0), PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"GE", 2, 0), PROTO_PROBE_NEED_MORE);
    assert_int_equal(p->probe((const uint8_t *)"\x16\x03\x01", 3, 0), PROTO_PROBE_NO);
    assert_int_equal(p->probe((const uint8_t *)"SSH-2.0-x\r\n", 11, 0), PROTO_PROBE_NO);
    assert_int_equal(p->probe((const uint8_t *)"HTTP/1.1 200", 12, 1), PROTO_PROBE_YES);
    assert_int_equal(p->probe((const uint8_t *)"HTT", 3, 1), PROTO_PROBE_NEED_MORE);
    assert_int_equal(p->probe((const uint8_t *)"RTSP/1.0 200", 12, 1), PROTO_PROBE_NO);
}

/* Every conversation split in two at every byte of every message gives the same events. */
static void
test_split_everywhere(void **s)
{
    (void)s;
    static const struct {
        const struct harness_msg *m;
        size_t n;
    } convs[] = {{v_keepalive, N(v_keepalive)},
                 {v_pipeline, N(v_pipeline)},
                 {v_chunked, N(v_chunked)},
                 {v_expect, N(v_expect)},
                 {v_expect_real, N(v_expect_real)},
                 {v_close, N(v_close)},
                 {v_batch_chunked, N(v_batch_chunked)},
                 {v_create_big, N(v_create_big)}};
    for (size_t k = 0; k < N(convs) * 2; k++) {
        size_t c = k / 2;
        uint8_t mask = k % 2 ? ALL_HASHES : 0; /* each without, then with, file digests */
        int n_events = 0, rc = 0;
        char *want = harness_run_hashes(&http_parser, convs[c].m, convs[c].n, mask, &n_events, &rc);
        for (size_t i = 0; i < convs[c].n; i++) {
            for (size_t cut = 1; cut < convs[c].m[i].len; cut++) {
                struct harness h;
                harness_begin(&h, &http_parser);
                h.ctx.file_hashes = mask;
                for (size_t j = 0; j < convs[c].n; j++) {
                    const struct harness_msg *m = &convs[c].m[j];
                    if (j == i) {
                        harness_feed(&h, m->dir, m->data, cut, 0);
                        harness_feed(&h, m->dir, (const char *)m->data + cut, m->len - cut, 0);
                    } else {
                        harness_feed(&h, m->dir, m->data, m->len, 0);
                    }
                }
                harness_end(&h);
                assert_string_equal((const char *)h.out.ptr, want);
                harness_release(&h);
            }
        }
        free(want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_keepalive_fhir),
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_continue),
        cmocka_unit_test(test_no_body),
        cmocka_unit_test(test_batch_chunked),
        cmocka_unit_test(test_search_names_only),
        cmocka_unit_test(test_until_close),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_pending_cap),
        cmocka_unit_test(test_fhir_interactions),
        cmocka_unit_test(test_end_and_oddities),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_hash_length),
        cmocka_unit_test(test_hash_request_body),
        cmocka_unit_test(test_hash_chunked_and_close),
        cmocka_unit_test(test_hash_incomplete),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_split_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
