// SPDX-License-Identifier: Apache-2.0
// The incident registry; see incident.h for who may see and do what. The NIS2 endpoints are in
// incident-nis2.c, and what the two share in incident-int.h.
//
// How an incident is kept: the common fields are columns of `incidents`; the kind-specific
// fields are a JSON object in `detail`, except the restricted ones, which live in `restricted`
// so that no code path can hand them out by forgetting to delete them. Handlers work on the
// incident's "state": the flat JSON object of its editable fields, as a client sends them
// (times as RFC 3339 text). Create builds a state from defaults and the body; PATCH builds one
// from the row and applies the body; both check the state as a whole and write it back.
//
// Each handler for /incidents/{id}/... starts with incident_read_open() or incident_write_open(),
// which read the row through the visibility condition (404 when the caller may not see it) and
// work out what the caller may do with it (struct access). Writes open the transaction first and
// read the row inside it, then update it with "WHERE version = ?" (incident_update) so a
// concurrent change is a 409, never lost, and end with incident_write_commit(): the timeline
// event, the audit line, the commit. Checks go in this order: the incident (404), the caller's
// right (403), the body (400/415), the incident's state (409); nothing is written before the
// last check has passed. Every handler leaves through one `out:`, whose store_rollback() undoes
// an unfinished write and does nothing after a commit.
//
// The next NIS2 deadline (stage and due time) is kept in the row (nis2_next_stage,
// nis2_next_due_at), recomputed with nis2_clock() by every write that changes a fact it depends
// on, so lists can filter and sort on it in SQL. It depends on facts only, never on the time of
// day (see nis2_next), so it stays true between writes.
#include "centre/incident.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/parse.h"
#include "centre/accounts.h"
#include "centre/incident-int.h"
#include "centre/nis2.h"

/* ---- vocabularies ---- */

static const char *const kind_names[] = {"cyber", "violence", NULL};
static const char *const status_names[] = {"reported",   "triaged", "responding",
                                           "recovering", "closed",  NULL};

/* ENISA / TF-CSIRT Reference Security Incident Taxonomy (RSIT), version 1003, as published in
 * the MISP taxonomy "rsit": each class with its types. */
static const char *const rsit_classes[] = {
    "abusive-content",
    "malicious-code",
    "information-gathering",
    "intrusion-attempts",
    "intrusions",
    "availability",
    "information-content-security",
    "fraud",
    "vulnerable",
    "other",
    "test",
    NULL,
};
static const char *const rsit_abusive_content[] = {"spam", "harmful-speech", "violence", NULL};
static const char *const rsit_malicious_code[] = {
    "infected-system", "c2-server", "malware-distribution", "malware-configuration", NULL};
static const char *const rsit_information_gathering[] = {"scanner", "sniffing",
                                                         "social-engineering", NULL};
static const char *const rsit_intrusion_attempts[] = {"ids-alert", "brute-force", "exploit", NULL};
static const char *const rsit_intrusions[] = {"privileged-account-compromise",
                                              "unprivileged-account-compromise",
                                              "application-compromise",
                                              "system-compromise",
                                              "burglary",
                                              NULL};
static const char *const rsit_availability[] = {"dos",      "ddos",   "misconfiguration",
                                                "sabotage", "outage", NULL};
static const char *const rsit_information_content_security[] = {
    "unauthorised-information-access", "unauthorised-information-modification", "data-loss",
    "data-leak", NULL};
static const char *const rsit_fraud[] = {"unauthorised-use-of-resources", "copyright", "masquerade",
                                         "phishing", NULL};
static const char *const rsit_vulnerable[] = {"weak-crypto",
                                              "ddos-amplifier",
                                              "potentially-unwanted-accessible",
                                              "information-disclosure",
                                              "vulnerable-system",
                                              NULL};
static const char *const rsit_other[] = {"other", "undetermined", NULL};
static const char *const rsit_test[] = {"test", NULL};
/* Index-aligned with rsit_classes. */
static const char *const *const rsit_types[] = {
    rsit_abusive_content,
    rsit_malicious_code,
    rsit_information_gathering,
    rsit_intrusion_attempts,
    rsit_intrusions,
    rsit_availability,
    rsit_information_content_security,
    rsit_fraud,
    rsit_vulnerable,
    rsit_other,
    rsit_test,
};

static const char *const attack_vectors[] = {"phishing",
                                             "exploited-vulnerability",
                                             "stolen-credentials",
                                             "remote-access",
                                             "supply-chain",
                                             "removable-media",
                                             "insider",
                                             "misconfiguration",
                                             "unknown",
                                             "other",
                                             NULL};
static const char *const care_services[] = {"emergency-department",
                                            "imaging",
                                            "laboratory",
                                            "surgery",
                                            "pharmacy",
                                            "records",
                                            "intensive-care",
                                            "outpatient",
                                            "ambulance-dispatch",
                                            "radiotherapy",
                                            "dialysis",
                                            "telephony",
                                            "other",
                                            NULL};
static const char *const indicator_types[] = {"ip",     "domain", "url", "md5", "sha1",
                                              "sha256", "email",  "ja3", NULL};

/* WHO Surveillance System for Attacks on Health Care (SSA) categories. */
static const char *const attack_types[] = {"violence-with-heavy-weapons",
                                           "violence-with-individual-weapons",
                                           "psychological-violence",
                                           "physical-violence-without-weapons",
                                           "obstruction-to-delivery-of-care",
                                           "militarization-of-health-care-asset",
                                           "removal-of-health-care-assets",
                                           "arrest-of-health-workers-or-patients",
                                           "abduction-of-health-workers-or-patients",
                                           "setting-fire",
                                           "chemical-agent",
                                           "sexual-violence",
                                           "other",
                                           NULL};
static const char *const perpetrator_types[] = {"state-forces",
                                                "non-state-armed-group",
                                                "criminal",
                                                "individual",
                                                "patient-or-relative",
                                                "unknown",
                                                "other",
                                                NULL};
static const char *const weapons[] = {"firearm",  "explosive", "bladed",  "blunt", "fire",
                                      "chemical", "none",      "unknown", "other", NULL};
static const char *const health_resources[] = {"facility", "transport", "supplies", "personnel",
                                               NULL};
static const char *const certainties[] = {"rumour", "possible", "probable", "confirmed", NULL};

/* What an attachment may be: served back with this type, so the list keeps out types a browser
 * would run (HTML, SVG, JavaScript). */
static const char *const attachment_types[] = {"application/octet-stream",
                                               "application/pdf",
                                               "application/json",
                                               "application/zip",
                                               "application/gzip",
                                               "application/vnd.tcpdump.pcap",
                                               "application/x-pcapng",
                                               "text/plain",
                                               "text/csv",
                                               "image/png",
                                               "image/jpeg",
                                               "message/rfc822",
                                               NULL};

/* ISO 3166-1 alpha-2 codes officially assigned (as tzdata's iso3166.tab lists them), and XK,
 * the user-assigned code the European Union uses for Kosovo. Two letters each, no separator. */
static const char iso_countries[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCI"
    "CKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQ"
    "GRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLS"
    "LTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPG"
    "PHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTK"
    "TLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

static const char *const restricted_fields[] = {
    "ransom_demanded", "ransom_amount", "ransom_currency", "ransom_paid", "latitude", "longitude"};

const char *
incident_kind_name(enum incident_kind k)
{
    return (unsigned)k <= INCIDENT_VIOLENCE ? kind_names[k] : "?";
}

static int
name_index(const char *const *names, const char *s)
{
    for (int i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int
incident_kind_parse(const char *s, enum incident_kind *out)
{
    int i = name_index(kind_names, s);
    if (i < 0)
        return IASO_E_INVAL;
    *out = (enum incident_kind)i;
    return 0;
}

const char *
incident_status_name(enum incident_status s)
{
    return (unsigned)s <= INCIDENT_CLOSED ? status_names[s] : "?";
}

int
incident_status_parse(const char *s, enum incident_status *out)
{
    int i = name_index(status_names, s);
    if (i < 0)
        return IASO_E_INVAL;
    *out = (enum incident_status)i;
    return 0;
}

const char *
incident_tlp_name(int64_t rank)
{
    return api_tlp_names[rank >= TLP_CLEAR && rank <= TLP_RED ? rank : TLP_RED];
}

bool
incident_field_is_restricted(const char *name)
{
    for (size_t i = 0; i < N_OF(restricted_fields); i++)
        if (strcmp(restricted_fields[i], name) == 0)
            return true;
    return false;
}

/* ---- field tables ---- */

/* Fields every incident has. "version" is PATCH's optimistic-concurrency check, not a field. */
static const struct api_field common_fields[] = {
    {"kind", AF_ENUM, true, 0, 0, kind_names},
    {"title", AF_STRING, true, 1, INCIDENT_TITLE_MAX, NULL},
    {"summary", AF_STRING, false, 0, INCIDENT_SUMMARY_MAX, NULL},
    {"tlp", AF_ENUM, false, 0, 0, api_tlp_names},
    {"country", AF_STRING, false, 2, 2, NULL},
    {"region", AF_STRING, false, 0, 100, NULL},
    {"occurred_at", AF_TIME, false, 0, 0, NULL},
    {"aware_at", AF_TIME, false, 0, 0, NULL},
    {"nis2", AF_BOOL, false, 0, 0, NULL},
    {"shared_with", AF_ARRAY, false, 0, INCIDENT_SHARES_MAX, NULL},
    {"version", AF_INT, false, 1, INT64_MAX, NULL},
};

/* The editable common fields, in output order (kind and shared_with are set once). */
static const char *const state_common[] = {"title",   "summary", "tlp",         "nis2",
                                           "country", "region",  "occurred_at", "aware_at"};

static const struct api_field cyber_fields[] = {
    {"classification", AF_OBJECT, false, 0, 0, NULL},
    {"attack_vector", AF_ENUM, false, 0, 0, attack_vectors},
    {"threat_actor", AF_STRING, false, 0, 200, NULL},
    {"systems_affected", AF_STRINGS, false, 0, 200, NULL},
    {"care_services_disrupted", AF_ENUM_SET, false, 0, 0, care_services},
    {"downtime_hours", AF_NUMBER, false, 0, 100000, NULL},
    {"patients_affected", AF_INT, false, 0, INCIDENT_COUNT_MAX, NULL},
    {"procedures_cancelled", AF_INT, false, 0, INCIDENT_COUNT_MAX, NULL},
    {"ambulance_diversion_hours", AF_NUMBER, false, 0, 100000, NULL},
    {"records_exposed", AF_INT, false, 0, INCIDENT_COUNT_MAX, NULL},
    {"ransom_demanded", AF_BOOL, false, 0, 0, NULL},
    {"ransom_amount", AF_NUMBER, false, 0, INCIDENT_COUNT_MAX * 1000, NULL},
    {"ransom_currency", AF_STRING, false, 3, 3, NULL},
    {"ransom_paid", AF_BOOL, false, 0, 0, NULL},
    {"cross_border", AF_BOOL, false, 0, 0, NULL},
    {"cross_border_countries", AF_STRINGS, false, 2, 2, NULL},
    {"indicators", AF_ARRAY, false, 0, INCIDENT_INDICATORS_MAX, NULL},
};

static const struct api_field violence_fields[] = {
    {"attack_type", AF_ENUM, false, 0, 0, attack_types},
    {"perpetrator_type", AF_ENUM, false, 0, 0, perpetrator_types},
    {"weapon", AF_ENUM, false, 0, 0, weapons},
    {"victims", AF_OBJECT, false, 0, 0, NULL},
    {"health_resources_affected", AF_ENUM_SET, false, 0, 0, health_resources},
    {"place_name", AF_STRING, false, 0, 200, NULL},
    {"latitude", AF_NUMBER, false, -90, 90, NULL},
    {"longitude", AF_NUMBER, false, -180, 180, NULL},
    {"certainty", AF_ENUM, true, 0, 0, certainties},
    {"sources", AF_STRINGS, false, 0, 500, NULL},
};
#define SOURCES_MAX 20 /* sources of one violence report */

static const struct api_field classification_fields[] = {
    {"class", AF_ENUM, true, 0, 0, rsit_classes},
    {"type", AF_STRING, true, 1, 64, NULL},
};

static const struct api_field victims_fields[] = {
    {"health_workers", AF_OBJECT, false, 0, 0, NULL},
    {"patients", AF_OBJECT, false, 0, 0, NULL},
    {"others", AF_OBJECT, false, 0, 0, NULL},
};

static const struct api_field victim_count_fields[] = {
    {"killed", AF_INT, false, 0, INCIDENT_COUNT_MAX, NULL},
    {"injured", AF_INT, false, 0, INCIDENT_COUNT_MAX, NULL},
    {"kidnapped", AF_INT, false, 0, INCIDENT_COUNT_MAX, NULL},
    {"arrested", AF_INT, false, 0, INCIDENT_COUNT_MAX, NULL},
};

static const struct api_field indicator_fields[] = {
    {"type", AF_ENUM, true, 0, 0, indicator_types},
    {"value", AF_STRING, true, 1, 2048, NULL},
    {"comment", AF_STRING, false, 0, 1000, NULL},
};

static const struct api_field *
kind_fields(enum incident_kind k, size_t *n)
{
    if (k == INCIDENT_VIOLENCE) {
        *n = N_OF(violence_fields);
        return violence_fields;
    }
    *n = N_OF(cyber_fields);
    return cyber_fields;
}

static const struct api_field *
field_find(const struct api_field *fields, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    return NULL;
}

/* ---- value syntax ---- */

static bool
is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
country_valid(const char *s)
{
    if (!s || strlen(s) != 2 || !is_upper(s[0]) || !is_upper(s[1]))
        return false;
    for (size_t i = 0; i + 1 < sizeof(iso_countries); i += 2)
        if (iso_countries[i] == s[0] && iso_countries[i + 1] == s[1])
            return true;
    return false;
}

static bool
hex_valid(const char *s, size_t len, size_t want)
{
    if (len != want)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_hex(s[i]))
            return false;
    return true;
}

/* A host name: labels of letters, digits, '-' and '_' (service names), 1..63 bytes, not
 * starting or ending with '-', at least two labels, 253 bytes in all; IDNs in their A-label
 * (xn--) form. */
static bool
domain_valid(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t label = 0;
    size_t n_labels = 1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            n_labels++;
            continue;
        }
        if (!(is_alnum(c) || c == '-' || c == '_') || label == 63 || (label == 0 && c == '-'))
            return false;
        label++;
    }
    return label > 0 && s[len - 1] != '-' && n_labels >= 2;
}

/* scheme "://" and something, no spaces or control bytes. */
static bool
url_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    while (i < len && (is_alnum(s[i]) || s[i] == '+' || s[i] == '.' || s[i] == '-'))
        i++;
    if (len - i < 4 || memcmp(s + i, "://", 3) != 0)
        return false;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)s[k] <= ' ' || s[k] == 0x7f)
            return false;
    return true;
}

static bool
email_valid(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (!at || at == s || at - s > 64)
        return false;
    for (const char *p = s; p < at; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == '"' ||
            *p == ',' || *p == '@')
            return false;
    return domain_valid(at + 1, len - (size_t)(at - s) - 1);
}

static bool
ip_valid(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* The value of an indicator of the given type; NULL when it is fine, else what it should be. */
static const char *
indicator_value_problem(const char *type, const char *v, size_t len)
{
    if (strcmp(type, "ip") == 0)
        return ip_valid(v) ? NULL : "an IPv4 or IPv6 address";
    if (strcmp(type, "domain") == 0)
        return domain_valid(v, len) ? NULL : "a domain name such as example.org";
    if (strcmp(type, "url") == 0)
        return url_valid(v, len) ? NULL : "a URL such as https://example.org/path, without spaces";
    if (strcmp(type, "md5") == 0 || strcmp(type, "ja3") == 0)
        return hex_valid(v, len, 32) ? NULL : "32 hexadecimal digits";
    if (strcmp(type, "sha1") == 0)
        return hex_valid(v, len, 40) ? NULL : "40 hexadecimal digits";
    if (strcmp(type, "sha256") == 0)
        return hex_valid(v, len, 64) ? NULL : "64 hexadecimal digits";
    if (strcmp(type, "email") == 0)
        return email_valid(v, len) ? NULL : "an email address such as name@example.org";
    return "a known indicator type";
}

/* ---- checks ---- */

/* Where read-only or once-only fields are changed instead; NULL when `name` may be sent. */
static const char *
readonly_reason(const char *name, bool partial)
{
    static const char *const server_set[] = {"id",         "org",        "org_id",
                                             "created_by", "created_at", "updated_at",
                                             "closed_at",  "nis2_next",  "can"};
    for (size_t i = 0; i < N_OF(server_set); i++)
        if (strcmp(name, server_set[i]) == 0)
            return "the server sets it";
    if (strcmp(name, "status") == 0)
        return "change it with POST /api/v1/incidents/{id}/status";
    if (partial && strcmp(name, "shared_with") == 0)
        return "share with POST /api/v1/incidents/{id}/shares and stop sharing with DELETE "
               "/api/v1/incidents/{id}/shares/{org_id}";
    if (!partial && strcmp(name, "version") == 0)
        return "the server sets it; send it with PATCH to detect concurrent changes";
    return NULL;
}

/* Optional fields with a default, which null may not clear. */
static bool
is_never_null(const char *name)
{
    return strcmp(name, "tlp") == 0 || strcmp(name, "nis2") == 0 || strcmp(name, "country") == 0;
}

static int
classification_check(const json_t *v, char *msg, size_t msg_len)
{
    char inner[256];
    if (api_fields_check(v, classification_fields, N_OF(classification_fields), false, inner,
                         sizeof(inner)) != 0) {
        snprintf(msg, msg_len, "field 'classification': %s", inner);
        return IASO_E_INVAL;
    }
    const char *cls = json_string_value(json_object_get(v, "class"));
    const char *type = json_string_value(json_object_get(v, "type"));
    int c = name_index(rsit_classes, cls);
    if (c < 0 || name_index(rsit_types[c], type) < 0) {
        int n = snprintf(msg, msg_len,
                         "field 'classification': type '%.64s' is not a type of class '%s'; "
                         "its types are:",
                         type ? type : "", cls ? cls : "");
        for (size_t i = 0; c >= 0 && rsit_types[c][i] && n > 0 && (size_t)n < msg_len; i++)
            n += snprintf(msg + n, msg_len - (size_t)n, "%s %s", i ? "," : "", rsit_types[c][i]);
        return IASO_E_INVAL;
    }
    return 0;
}

static int
victims_check(const json_t *v, char *msg, size_t msg_len)
{
    char inner[256];
    if (api_fields_check(v, victims_fields, N_OF(victims_fields), false, inner, sizeof(inner)) !=
        0) {
        snprintf(msg, msg_len, "field 'victims': %s", inner);
        return IASO_E_INVAL;
    }
    for (size_t i = 0; i < N_OF(victims_fields); i++) {
        const json_t *group = json_object_get(v, victims_fields[i].name);
        if (!group || json_is_null(group))
            continue;
        if (api_fields_check(group, victim_count_fields, N_OF(victim_count_fields), false, inner,
                             sizeof(inner)) != 0) {
            snprintf(msg, msg_len, "field 'victims.%s': %s", victims_fields[i].name, inner);
            return IASO_E_INVAL;
        }
    }
    return 0;
}

static int
indicators_check(const json_t *v, char *msg, size_t msg_len)
{
    char inner[256];
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_object(e)) {
            snprintf(msg, msg_len,
                     "field 'indicators' item %zu must be an object {\"type\", \"value\", "
                     "\"comment\"}",
                     i);
            return IASO_E_INVAL;
        }
        if (api_fields_check(e, indicator_fields, N_OF(indicator_fields), false, inner,
                             sizeof(inner)) != 0) {
            snprintf(msg, msg_len, "field 'indicators' item %zu: %s", i, inner);
            return IASO_E_INVAL;
        }
        const char *type = json_string_value(json_object_get(e, "type"));
        const json_t *value = json_object_get(e, "value");
        const char *want =
            indicator_value_problem(type, json_string_value(value), json_string_length(value));
        if (want) {
            snprintf(msg, msg_len, "field 'indicators' item %zu: the %s value must be %s", i, type,
                     want);
            return IASO_E_INVAL;
        }
    }
    return 0;
}

static int
shared_with_check(const json_t *v, char *msg, size_t msg_len)
{
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_integer(e) || json_integer_value(e) <= 0) {
            snprintf(msg, msg_len,
                     "field 'shared_with' item %zu must be an organisation id (a positive "
                     "integer)",
                     i);
            return IASO_E_INVAL;
        }
        for (size_t j = 0; j < i; j++) {
            if (json_integer_value(json_array_get(v, j)) == json_integer_value(e)) {
                snprintf(msg, msg_len, "field 'shared_with' lists organisation %lld twice",
                         (long long)json_integer_value(e));
                return IASO_E_INVAL;
            }
        }
    }
    return 0;
}

/* The checks a field table cannot express, on fields present and not null. */
static int
values_check(const json_t *body, char *msg, size_t msg_len)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (json_is_null(v))
            continue;
        const char *s = json_string_value(v);
        if (strcmp(key, "title") == 0) {
            for (const char *p = s; *p; p++) {
                if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                    snprintf(msg, msg_len,
                             "field 'title' must be one line without control characters");
                    return IASO_E_INVAL;
                }
            }
        } else if (strcmp(key, "country") == 0) {
            if (!country_valid(s)) {
                snprintf(msg, msg_len,
                         "field 'country' must be an ISO 3166-1 alpha-2 code in capitals, such "
                         "as DE or CZ (got '%.8s')",
                         s);
                return IASO_E_INVAL;
            }
        } else if (strcmp(key, "ransom_currency") == 0) {
            if (!is_upper(s[0]) || !is_upper(s[1]) || !is_upper(s[2])) {
                snprintf(msg, msg_len,
                         "field 'ransom_currency' must be an ISO 4217 code in capitals, such as "
                         "EUR or USD");
                return IASO_E_INVAL;
            }
        } else if (strcmp(key, "cross_border_countries") == 0) {
            size_t i;
            const json_t *e;
            json_array_foreach(v, i, e)
            {
                if (!country_valid(json_string_value(e))) {
                    snprintf(msg, msg_len,
                             "field 'cross_border_countries' item %zu must be an ISO 3166-1 "
                             "alpha-2 code in capitals, such as DE",
                             i);
                    return IASO_E_INVAL;
                }
            }
        } else if (strcmp(key, "sources") == 0) {
            if (json_array_size(v) > SOURCES_MAX) {
                snprintf(msg, msg_len, "field 'sources' must have at most %d items", SOURCES_MAX);
                return IASO_E_INVAL;
            }
        } else if (strcmp(key, "classification") == 0) {
            if (classification_check(v, msg, msg_len) != 0)
                return IASO_E_INVAL;
        } else if (strcmp(key, "victims") == 0) {
            if (victims_check(v, msg, msg_len) != 0)
                return IASO_E_INVAL;
        } else if (strcmp(key, "indicators") == 0) {
            if (indicators_check(v, msg, msg_len) != 0)
                return IASO_E_INVAL;
        } else if (strcmp(key, "shared_with") == 0) {
            if (shared_with_check(v, msg, msg_len) != 0)
                return IASO_E_INVAL;
        }
    }
    return 0;
}

int
incident_fields_check(const json_t *body, enum incident_kind kind, bool partial, char *msg,
                      size_t msg_len)
{
    if (!json_is_object(body)) {
        snprintf(msg, msg_len, "the body must be a JSON object");
        return IASO_E_INVAL;
    }
    size_t n_kind = 0, n_other = 0;
    const struct api_field *kf = kind_fields(kind, &n_kind);
    enum incident_kind other_kind = kind == INCIDENT_CYBER ? INCIDENT_VIOLENCE : INCIDENT_CYBER;
    const struct api_field *of = kind_fields(other_kind, &n_other);
    /* The body split in two, each checked against its own table. */
    json_t *common = json_object();
    json_t *specific = json_object();
    int rc = common && specific ? 0 : IASO_E_NOMEM;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (rc != 0)
            break;
        const char *why = readonly_reason(key, partial);
        if (why) {
            snprintf(msg, msg_len, "field '%s' cannot be set here: %s", key, why);
            rc = IASO_E_INVAL;
        } else if (json_is_null(v) && is_never_null(key)) {
            /* clearing these would fall back to a default: a RED incident becoming AMBER */
            snprintf(msg, msg_len, "field '%s' may not be null; give a value", key);
            rc = IASO_E_INVAL;
        } else if (field_find(common_fields, N_OF(common_fields), key)) {
            rc = json_object_set(common, key, v) == 0 ? 0 : IASO_E_NOMEM;
        } else if (field_find(kf, n_kind, key)) {
            rc = json_object_set(specific, key, v) == 0 ? 0 : IASO_E_NOMEM;
        } else if (field_find(of, n_other, key)) {
            snprintf(msg, msg_len, "field '%s' belongs to %s incidents; this one is %s", key,
                     incident_kind_name(other_kind), incident_kind_name(kind));
            rc = IASO_E_INVAL;
        } else {
            snprintf(msg, msg_len, "unknown field '%.64s'", key);
            rc = IASO_E_INVAL;
        }
    }
    if (rc == 0)
        rc = api_fields_check(common, common_fields, N_OF(common_fields), partial, msg, msg_len);
    if (rc == 0)
        rc = api_fields_check(specific, kf, n_kind, partial, msg, msg_len);
    if (rc == 0)
        rc = values_check(body, msg, msg_len);
    if (rc == IASO_E_NOMEM)
        snprintf(msg, msg_len, "out of memory");
    json_decref(common);
    json_decref(specific);
    return rc;
}

/* A time member of a state: 0 when absent or null; -1 when it is not RFC 3339 text. */
static int64_t
state_time(const json_t *state, const char *name)
{
    const json_t *v = json_object_get(state, name);
    int64_t t = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || api_time_parse(json_string_value(v), &t) != 0)
        return -1;
    return t;
}

int
incident_state_check(const json_t *state, int64_t now, char *msg, size_t msg_len)
{
    int64_t occurred = state_time(state, "occurred_at");
    int64_t aware = state_time(state, "aware_at");
    if (occurred < 0 || aware < 0) {
        snprintf(msg, msg_len, "field '%s' must be a date and time like 2026-11-23T08:30:00Z",
                 occurred < 0 ? "occurred_at" : "aware_at");
        return IASO_E_INVAL;
    }
    if (json_is_true(json_object_get(state, "nis2")) && aware == 0) {
        snprintf(msg, msg_len,
                 "field 'aware_at' is required when 'nis2' is true: the NIS2 deadlines run from "
                 "the moment the entity became aware of the incident");
        return IASO_E_INVAL;
    }
    int64_t latest =
        now > INT64_MAX - INCIDENT_FUTURE_SLACK_S ? INT64_MAX : now + INCIDENT_FUTURE_SLACK_S;
    if (aware > latest || occurred > latest) {
        snprintf(msg, msg_len, "field '%s' lies in the future (more than %d minutes ahead)",
                 aware > latest ? "aware_at" : "occurred_at", INCIDENT_FUTURE_SLACK_S / 60);
        return IASO_E_INVAL;
    }
    if (aware && occurred && aware < occurred) {
        snprintf(msg, msg_len,
                 "field 'aware_at' is before 'occurred_at': one becomes aware of an incident "
                 "only after it occurs");
        return IASO_E_INVAL;
    }
    bool has_lat = json_is_number(json_object_get(state, "latitude"));
    bool has_lon = json_is_number(json_object_get(state, "longitude"));
    if (has_lat != has_lon) {
        snprintf(msg, msg_len,
                 "fields 'latitude' and 'longitude' go together: give both or neither");
        return IASO_E_INVAL;
    }
    return 0;
}

/* ---- visibility ---- */

/* The five cases of incident.h, in order; TLP ranks: 1 GREEN, 2 AMBER, 4 RED. The parameters:
 * O, the TLP ceiling of O's own incidents (RED for reporters and admins, AMBER+STRICT for the
 * other roles), U, the TLP ceiling of a CSIRT's constituency (RED for its staff, AMBER for its
 * other roles, -1 when O is no CSIRT), O, O. */
#define VISIBILITY_SQL                                                                             \
    "((i.org_id = ? AND (i.tlp <= ? OR i.created_by = ?))"                                         \
    " OR (i.tlp <= ? AND i.org_id IN (SELECT c.id FROM orgs c WHERE c.csirt_id = ?))"              \
    " OR (i.tlp <= 2 AND EXISTS (SELECT 1 FROM incident_shares v"                                  \
    " WHERE v.incident_id = i.id AND v.org_id = ?))"                                               \
    " OR i.tlp <= 1)"
_Static_assert(TLP_GREEN == 1 && TLP_AMBER == 2 && TLP_RED == 4, "TLP ranks in VISIBILITY_SQL");

const char *
incident_visibility_sql(const struct principal *who, struct store_val params[INCIDENT_VIS_N])
{
    bool is_org_full = who->role == ROLE_REPORTER || who->role == ROLE_ADMIN;
    bool is_staff = who->role == ROLE_ANALYST || who->role == ROLE_ADMIN;
    int64_t csirt_max = !who->org_is_csirt ? -1 : is_staff ? TLP_RED : TLP_AMBER;
    params[0] = store_int(who->org_id);
    params[1] = store_int(is_org_full ? TLP_RED : TLP_AMBER_STRICT);
    params[2] = store_int(who->user_id);
    params[3] = store_int(csirt_max);
    params[4] = store_int(who->org_id);
    params[5] = store_int(who->org_id);
    return VISIBILITY_SQL;
}

/* ---- one incident ---- */

void
incident_release(struct incident *inc)
{
    free(inc->org_name);
    free(inc->title);
    free(inc->summary);
    free(inc->country);
    free(inc->region);
    json_decref(inc->detail);
    json_decref(inc->restricted);
    memset(inc, 0, sizeof(*inc));
}

static int64_t
col_int(const struct store_row *row, size_t i)
{
    return i < row->n_cols && row->cols[i].type == STORE_INT ? row->cols[i].i : 0;
}

/* Text of a column, "" for NULL; NUL-terminated as the store promises. */
static const char *
col_text(const struct store_row *row, size_t i)
{
    if (i >= row->n_cols || row->cols[i].type != STORE_TEXT || !row->cols[i].s)
        return "";
    return row->cols[i].s;
}

static bool
col_is_null(const struct store_row *row, size_t i)
{
    return i >= row->n_cols || row->cols[i].type == STORE_NULL;
}

/* A JSON object stored as text; an empty object when the text is not one (never NULL unless
 * out of memory). */
static json_t *
col_object(const struct store_row *row, size_t i)
{
    json_t *v = json_loads(col_text(row, i), JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(v))
        return v;
    json_decref(v);
    return json_object();
}

/* The next NIS2 deadline from its columns i (stage) and i + 1 (due time): the due time, or 0
 * when there is none; `stage` is set only then. */
static int64_t
col_next(const struct store_row *row, size_t i, enum nis2_stage *stage)
{
    if (col_is_null(row, i) || nis2_stage_parse(col_text(row, i), stage) != 0)
        return 0;
    return col_int(row, i + 1);
}

#define INCIDENT_COLUMNS                                                                           \
    "i.id, i.org_id, o.name, o.csirt_id, i.kind, i.title, i.summary, i.status, i.tlp, i.nis2,"     \
    " i.country, i.region, i.occurred_at, i.aware_at, i.detail, i.restricted, i.created_by,"       \
    " i.created_at, i.updated_at, i.closed_at, i.version, i.nis2_next_stage, i.nis2_next_due_at"
#define INCIDENT_N_COLUMNS 24

static int
incident_row(void *ctx, const struct store_row *row)
{
    struct incident *inc = ctx;
    if (row->n_cols < INCIDENT_N_COLUMNS)
        return IASO_E_IO;
    inc->id = col_int(row, 0);
    inc->org_id = col_int(row, 1);
    inc->org_name = strdup(col_text(row, 2));
    inc->org_csirt_id = col_int(row, 3);
    if (incident_kind_parse(col_text(row, 4), &inc->kind) != 0)
        inc->kind = INCIDENT_CYBER;
    inc->title = strdup(col_text(row, 5));
    inc->summary = strdup(col_text(row, 6));
    if (incident_status_parse(col_text(row, 7), &inc->status) != 0)
        inc->status = INCIDENT_REPORTED;
    inc->tlp = col_int(row, 8);
    inc->nis2 = col_int(row, 9) != 0;
    inc->country = strdup(col_text(row, 10));
    inc->region = strdup(col_text(row, 11));
    inc->occurred_at = col_int(row, 12);
    inc->aware_at = col_int(row, 13);
    inc->detail = col_object(row, 14);
    inc->restricted = col_object(row, 15);
    inc->created_by = col_int(row, 16);
    inc->created_at = col_int(row, 17);
    inc->updated_at = col_int(row, 18);
    inc->closed_at = col_int(row, 19);
    inc->version = col_int(row, 20);
    inc->nis2_next_due_at = col_next(row, 21, &inc->nis2_next_stage);
    inc->is_shared_with_me = col_int(row, 23) > 0;
    if (!inc->org_name || !inc->title || !inc->summary || !inc->country || !inc->region ||
        !inc->detail || !inc->restricted)
        return IASO_E_NOMEM;
    return 0;
}

/* Reads incident `id` if the caller may see it: 0, IASO_E_NOTFOUND, or a store error. */
static int
incident_load(struct api *a, int64_t id, struct incident *inc)
{
    struct store_val p[2 + INCIDENT_VIS_N];
    p[0] = store_int(a->who.org_id);
    p[1] = store_int(id);
    incident_visibility_sql(&a->who, p + 2);
    memset(inc, 0, sizeof(*inc));
    int rc = store_exec(a->db,
                        "SELECT " INCIDENT_COLUMNS ", (SELECT COUNT(*) FROM incident_shares s"
                        " WHERE s.incident_id = i.id AND s.org_id = ?)"
                        " FROM incidents i JOIN orgs o ON o.id = i.org_id"
                        " WHERE i.id = ? AND " VISIBILITY_SQL,
                        p, N_OF(p), incident_row, inc, NULL, &a->eb);
    if (rc == 0 && inc->id == 0)
        rc = IASO_E_NOTFOUND;
    if (rc != 0)
        incident_release(inc);
    return rc;
}

static void
access_compute(const struct api *a, const struct incident *inc, struct access *acc)
{
    const struct principal *w = &a->who;
    bool is_own = w->org_id == inc->org_id;
    bool is_own_full = is_own && (w->role == ROLE_REPORTER || w->role == ROLE_ADMIN);
    bool is_csirt = api_is_csirt_staff(a) && inc->org_csirt_id == w->org_id;
    acc->sees_restricted = is_own_full || is_csirt;
    acc->can_manage = is_own_full || is_csirt;
    acc->can_reopen = is_csirt || (is_own && w->role == ROLE_ADMIN);
    acc->can_comment = w->role != ROLE_VIEWER && (w->role != ROLE_HELPER || inc->is_shared_with_me);
    acc->is_csirt = is_csirt;
}

/* Answers for incident_load's failures. */
static void
load_error(struct api *a, int rc)
{
    if (rc == IASO_E_NOTFOUND)
        api_not_found(a, "incident");
    else
        api_store_error(a, rc);
}

int
incident_read_open(struct api *a, struct incident *inc, struct access *acc)
{
    int64_t id;
    if (api_param_id(a, 0, &id) != 0)
        return -1;
    int rc = incident_load(a, id, inc);
    if (rc != 0) {
        load_error(a, rc);
        return -1;
    }
    access_compute(a, inc, acc);
    return 0;
}

int
incident_write_open(struct api *a, struct incident *inc, struct access *acc)
{
    int64_t id;
    if (api_param_id(a, 0, &id) != 0)
        return -1;
    int rc = store_begin(a->db, true, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        return -1;
    }
    rc = incident_load(a, id, inc);
    if (rc != 0) {
        store_rollback(a->db);
        load_error(a, rc);
        return -1;
    }
    access_compute(a, inc, acc);
    return 0;
}

int
incident_manage_check(struct api *a, const struct access *acc)
{
    if (acc->can_manage)
        return 0;
    api_forbidden(a, "only the reporting organisation's reporters and admins and its CSIRT's "
                     "analysts and admins may change this incident");
    return -1;
}

/* ---- JSON ---- */

/* The next NIS2 deadline: {"stage", "due_at", "late"}, or null when there is none (due_at 0). */
static json_t *
nis2_next_json(enum nis2_stage stage, int64_t due_at, int64_t now)
{
    if (due_at <= 0)
        return json_null();
    return api_object("stage", json_string(nis2_stage_name(stage)), "due_at", api_time_json(due_at),
                      "late", json_boolean(now > due_at), NULL);
}

json_t *
incident_org_json(int64_t id, const char *name)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "name", json_string(name));
    return o;
}

/* The kind's fields in table order, restricted ones only when `with_restricted`. */
static void
kind_fields_put(json_t *out, const struct incident *inc, bool with_restricted)
{
    size_t n = 0;
    const struct api_field *f = kind_fields(inc->kind, &n);
    for (size_t i = 0; i < n; i++) {
        bool is_restricted = incident_field_is_restricted(f[i].name);
        json_t *v = json_object_get(is_restricted ? inc->restricted : inc->detail, f[i].name);
        if (v && (!is_restricted || with_restricted))
            json_object_set(out, f[i].name, v);
    }
}

/* One step forward, or to closed from any open status, or closed -> responding (a reopening). */
static bool
status_step_ok(enum incident_status from, enum incident_status to)
{
    if (from == INCIDENT_CLOSED)
        return to == INCIDENT_RESPONDING;
    return to == INCIDENT_CLOSED || (int)to == (int)from + 1;
}

json_t *
incident_json(const struct incident *inc, const struct access *acc, json_t *shares, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(inc->id));
    json_object_set_new(o, "kind", json_string(incident_kind_name(inc->kind)));
    json_object_set_new(o, "title", json_string(inc->title));
    json_object_set_new(o, "summary", json_string(inc->summary));
    json_object_set_new(o, "status", json_string(incident_status_name(inc->status)));
    json_object_set_new(o, "tlp", json_string(incident_tlp_name(inc->tlp)));
    json_object_set_new(o, "nis2", json_boolean(inc->nis2));
    json_object_set_new(o, "country", json_string(inc->country));
    json_object_set_new(o, "region", json_string(inc->region));
    json_object_set_new(o, "occurred_at", api_time_json(inc->occurred_at));
    json_object_set_new(o, "aware_at", api_time_json(inc->aware_at));
    kind_fields_put(o, inc, acc->sees_restricted);
    json_object_set_new(o, "org", incident_org_json(inc->org_id, inc->org_name));
    json_object_set_new(o, "created_by", json_integer(inc->created_by));
    json_object_set_new(o, "created_at", api_time_json(inc->created_at));
    json_object_set_new(o, "updated_at", api_time_json(inc->updated_at));
    json_object_set_new(o, "closed_at", api_time_json(inc->closed_at));
    json_object_set_new(o, "version", json_integer(inc->version));
    json_object_set_new(o, "nis2_next",
                        nis2_next_json(inc->nis2_next_stage, inc->nis2_next_due_at, now));
    if (acc->can_manage && shares)
        json_object_set(o, "shared_with", shares);
    json_decref(shares);
    json_t *can = json_object();
    json_object_set_new(can, "update", json_boolean(acc->can_manage));
    json_object_set_new(can, "change_status", json_boolean(acc->can_manage));
    json_object_set_new(can, "reopen", json_boolean(acc->can_reopen));
    json_object_set_new(can, "comment", json_boolean(acc->can_comment));
    json_object_set_new(can, "attach", json_boolean(acc->can_manage));
    json_object_set_new(can, "share", json_boolean(acc->can_manage));
    json_object_set_new(can, "nis2_report", json_boolean(acc->can_manage));
    json_object_set_new(can, "nis2_feedback", json_boolean(acc->is_csirt));
    json_object_set_new(can, "nis2_request", json_boolean(acc->is_csirt));
    json_t *to = json_array();
    for (int st = INCIDENT_REPORTED; st <= INCIDENT_CLOSED && acc->can_manage; st++) {
        if ((enum incident_status)st != inc->status &&
            status_step_ok(inc->status, (enum incident_status)st) &&
            (inc->status != INCIDENT_CLOSED || acc->can_reopen))
            json_array_append_new(to, json_string(incident_status_name((enum incident_status)st)));
    }
    json_object_set_new(can, "status_to", to);
    json_object_set_new(o, "can", can);
    return o;
}

static int
share_row(void *ctx, const struct store_row *row)
{
    json_t *o = incident_org_json(col_int(row, 0), col_text(row, 1));
    json_object_set_new(o, "shared_at", api_time_json(col_int(row, 2)));
    return json_array_append_new(ctx, o) == 0 ? 0 : IASO_E_NOMEM;
}

/* The organisations an incident is shared with: a new array, or NULL on a store error. */
static json_t *
shares_load(struct api *a, int64_t id)
{
    json_t *arr = json_array();
    struct store_val p[] = {store_int(id), store_int(INCIDENT_SHARES_MAX)};
    int rc = store_exec(a->db,
                        "SELECT s.org_id, o.name, s.shared_at FROM incident_shares s"
                        " JOIN orgs o ON o.id = s.org_id WHERE s.incident_id = ?"
                        " ORDER BY s.org_id LIMIT ?",
                        p, N_OF(p), share_row, arr, NULL, &a->eb);
    if (rc != 0) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* Answers 200 (or `status`) with the incident as the caller sees it now. */
static void
incident_send(struct api *a, int status, int64_t id)
{
    struct incident inc;
    struct access acc;
    int rc = incident_load(a, id, &inc);
    if (rc != 0) {
        load_error(a, rc);
        return;
    }
    access_compute(a, &inc, &acc);
    json_t *shares = NULL;
    if (acc.can_manage) {
        shares = shares_load(a, id);
        if (!shares) {
            api_store_error(a, IASO_E_IO);
            incident_release(&inc);
            return;
        }
    }
    api_send_json(a, status, incident_json(&inc, &acc, shares, a->now));
    incident_release(&inc);
}

/* ---- state: the editable fields as one flat object ---- */

static json_t *
incident_state(const struct incident *inc)
{
    json_t *s = json_object();
    json_object_set_new(s, "title", json_string(inc->title));
    json_object_set_new(s, "summary", json_string(inc->summary));
    json_object_set_new(s, "tlp", json_string(incident_tlp_name(inc->tlp)));
    json_object_set_new(s, "nis2", json_boolean(inc->nis2));
    json_object_set_new(s, "country", json_string(inc->country));
    json_object_set_new(s, "region", json_string(inc->region));
    if (inc->occurred_at > 0)
        json_object_set_new(s, "occurred_at", api_time_json(inc->occurred_at));
    if (inc->aware_at > 0)
        json_object_set_new(s, "aware_at", api_time_json(inc->aware_at));
    kind_fields_put(s, inc, true);
    return s;
}

/* Applies a checked body to a state: null clears a field; times are rewritten in the one form
 * ("...Z") so that comparing states finds real changes only. kind, version and shared_with are
 * not state. */
static int
state_apply(json_t *state, const json_t *body)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        int rc = 0;
        if (strcmp(key, "kind") == 0 || strcmp(key, "version") == 0 ||
            strcmp(key, "shared_with") == 0)
            continue;
        if (json_is_null(v)) {
            json_object_del(state, key);
            continue;
        }
        int64_t t;
        if ((strcmp(key, "occurred_at") == 0 || strcmp(key, "aware_at") == 0) &&
            api_time_parse(json_string_value(v), &t) == 0)
            rc = json_object_set_new(state, key, api_time_json(t));
        else
            rc = json_object_set(state, key, v);
        if (rc != 0)
            return IASO_E_NOMEM;
    }
    return 0;
}

/* Appends `name` to `names` when the field differs between two states (absent counts). */
static void
change_note(json_t *names, const json_t *old, const json_t *cur, const char *name)
{
    json_t *a = json_object_get(old, name);
    json_t *b = json_object_get(cur, name);
    if ((a || b) && !(a && b && json_equal(a, b)))
        json_array_append_new(names, json_string(name));
}

/* The names of the fields whose values differ between two states, in table order. */
static json_t *
state_changes(const json_t *old, const json_t *cur, enum incident_kind kind)
{
    json_t *names = json_array();
    for (size_t i = 0; i < N_OF(state_common); i++)
        change_note(names, old, cur, state_common[i]);
    size_t n = 0;
    const struct api_field *f = kind_fields(kind, &n);
    for (size_t i = 0; i < n; i++)
        change_note(names, old, cur, f[i].name);
    return names;
}

/* A state as the columns of its row. */
struct incident_cols {
    const char *title; /* borrowed from the state, like the strings below */
    const char *summary;
    const char *country;
    const char *region;
    int64_t tlp;
    bool nis2;
    int64_t occurred_at; /* 0: unknown */
    int64_t aware_at;
    char *detail;     /* owned JSON text */
    char *restricted; /* owned JSON text */
};

static void
cols_release(struct incident_cols *c)
{
    free(c->detail);
    free(c->restricted);
    memset(c, 0, sizeof(*c));
}

static const char *
state_text(const json_t *state, const char *name)
{
    const char *s = json_string_value(json_object_get(state, name));
    return s ? s : "";
}

static int
state_columns(const json_t *state, enum incident_kind kind, struct incident_cols *c)
{
    enum tlp tlp = TLP_AMBER;
    memset(c, 0, sizeof(*c));
    c->title = state_text(state, "title");
    c->summary = state_text(state, "summary");
    c->country = state_text(state, "country");
    c->region = state_text(state, "region");
    if (api_tlp_parse(json_string_value(json_object_get(state, "tlp")), &tlp) != 0)
        tlp = TLP_AMBER;
    c->tlp = tlp;
    c->nis2 = json_is_true(json_object_get(state, "nis2"));
    c->occurred_at = state_time(state, "occurred_at");
    c->aware_at = state_time(state, "aware_at");
    if (c->occurred_at < 0)
        c->occurred_at = 0;
    if (c->aware_at < 0)
        c->aware_at = 0;
    json_t *detail = json_object();
    json_t *restricted = json_object();
    size_t n = 0;
    const struct api_field *f = kind_fields(kind, &n);
    for (size_t i = 0; detail && restricted && i < n; i++) {
        json_t *v = json_object_get(state, f[i].name);
        if (v && !json_is_null(v))
            json_object_set(incident_field_is_restricted(f[i].name) ? restricted : detail,
                            f[i].name, v);
    }
    c->detail = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    c->restricted = restricted ? json_dumps(restricted, JSON_COMPACT) : NULL;
    json_decref(detail);
    json_decref(restricted);
    if (!c->detail || !c->restricted) {
        cols_release(c);
        return IASO_E_NOMEM;
    }
    return 0;
}

/* The columns a state is written to, in the order of state_values(). */
#define STATE_COLUMNS                                                                              \
    "title, summary, tlp, nis2, country, region, occurred_at, aware_at, detail, restricted"
#define STATE_SET                                                                                  \
    "title = ?, summary = ?, tlp = ?, nis2 = ?, country = ?, region = ?, occurred_at = ?,"         \
    " aware_at = ?, detail = ?, restricted = ?,"
#define STATE_N_COLUMNS 10

/* The values of STATE_COLUMNS; they borrow from `c`. */
static void
state_values(const struct incident_cols *c, struct store_val v[STATE_N_COLUMNS])
{
    v[0] = store_text(c->title);
    v[1] = store_text(c->summary);
    v[2] = store_int(c->tlp);
    v[3] = store_int(c->nis2);
    v[4] = store_text(c->country);
    v[5] = store_text(c->region);
    v[6] = c->occurred_at ? store_int(c->occurred_at) : store_null();
    v[7] = c->aware_at ? store_int(c->aware_at) : store_null();
    v[8] = store_text(c->detail);
    v[9] = store_text(c->restricted);
}

/* ---- request helpers ---- */

/* Appends an event to the incident's timeline; takes `body`. */
static int
event_add(struct api *a, int64_t incident_id, const char *kind, json_t *body, int64_t *event_id)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return err_set(&a->eb, IASO_E_NOMEM, "out of memory writing a timeline event");
    struct store_val p[] = {store_int(incident_id), store_int(a->now), store_int(a->who.user_id),
                            store_text(kind), store_text(text)};
    int64_t id = 0;
    int rc = store_query_int(a->db,
                             "INSERT INTO incident_events (incident_id, at, user_id, kind, body)"
                             " VALUES (?, ?, ?, ?, ?) RETURNING id",
                             p, N_OF(p), &id, &a->eb);
    free(text);
    if (event_id)
        *event_id = id;
    return rc;
}

int
incident_write_commit(struct api *a, int64_t incident_id, const char *kind, json_t *body,
                      const char *action, json_t *detail)
{
    int rc = 0;
    if (kind)
        rc = event_add(a, incident_id, kind, body, NULL);
    else
        json_decref(body);
    if (rc == 0)
        rc = api_audit(a, action, "incident", incident_id, detail);
    else
        json_decref(detail);
    if (rc == 0)
        rc = store_commit(a->db, &a->eb); /* rolled back when it fails */
    return rc;
}

void
incident_conflict(struct api *a)
{
    api_error(a, 409, "conflict",
              "the incident was changed by someone else meanwhile; read it again and retry");
}

/* Location: /api/v1/incidents/{id}, or /api/v1/incidents/{id}/{sub}/{sub_id} with `sub`. */
static void
location_set(struct api *a, int64_t id, const char *sub, int64_t sub_id)
{
    char loc[128];
    if (sub)
        snprintf(loc, sizeof(loc), "/api/v1/incidents/%lld/%s/%lld", (long long)id, sub,
                 (long long)sub_id);
    else
        snprintf(loc, sizeof(loc), "/api/v1/incidents/%lld", (long long)id);
    http_resp_header(a->resp, "Location", loc);
}

/* A page of a list: ?limit= (1..INCIDENT_PAGE_MAX) and ?after_id= (the last id of the previous
 * page; the items after it in the list's order). */
struct page {
    int64_t limit;
    int64_t after_id; /* 0: from the start */
};

static int
page_parse(struct api *a, struct page *pg)
{
    if (api_query_int(a, "limit", INCIDENT_PAGE_DEFAULT, 1, INCIDENT_PAGE_MAX, &pg->limit) != 0 ||
        api_query_int(a, "after_id", 0, 1, INT64_MAX, &pg->after_id) != 0)
        return -1;
    return 0;
}

/* Rows collected into a page: one row more than the limit is asked for, to know whether a next
 * page exists without counting. */
struct page_ctx {
    json_t *items;
    int64_t limit;
    int64_t last_id;
    bool has_more;
    const struct access *acc; /* timeline: what the caller may see */
    int64_t now;
};

static bool
page_full(struct page_ctx *pc)
{
    if ((int64_t)json_array_size(pc->items) >= pc->limit) {
        pc->has_more = true;
        return true;
    }
    return false;
}

static void
page_send(struct api *a, struct page_ctx *pc)
{
    json_t *out = json_object();
    json_object_set_new(out, "items", pc->items);
    json_object_set_new(out, "next_after_id",
                        pc->has_more ? json_integer(pc->last_id) : json_null());
    pc->items = NULL;
    api_send_json(a, 200, out);
}

/* ---- NIS2 report records and the next deadline ---- */

void
incident_reports_release(struct reports *rs)
{
    for (size_t i = 0; rs->r && i < rs->n; i++) {
        free(rs->r[i].sent_by_name);
        free(rs->r[i].feedback);
        free(rs->r[i].content);
    }
    free(rs->r);
    rs->r = NULL;
    rs->n = 0;
}

static int
report_row(void *ctx, const struct store_row *row)
{
    struct reports *rs = ctx;
    if (rs->n >= INCIDENT_NIS2_REPORTS_MAX)
        return 0;
    struct report *r = &rs->r[rs->n];
    if (nis2_stage_parse(col_text(row, 1), &r->stage) != 0)
        return 0; /* the schema's CHECK makes this impossible */
    r->id = col_int(row, 0);
    r->requested_at = col_int(row, 2);
    r->due_at = col_int(row, 3);
    r->sent_at = col_int(row, 4);
    r->sent_by = col_int(row, 5);
    r->sent_by_name = strdup(col_text(row, 6));
    r->feedback = col_is_null(row, 7) ? NULL : strdup(col_text(row, 7));
    r->feedback_at = col_int(row, 8);
    r->content = col_is_null(row, 9) ? NULL : strdup(col_text(row, 9));
    rs->n++;
    if (!r->sent_by_name || (!col_is_null(row, 7) && !r->feedback) ||
        (!col_is_null(row, 9) && !r->content))
        return IASO_E_NOMEM;
    return 0;
}

int
incident_reports_load(struct api *a, int64_t incident_id, bool with_content, struct reports *rs)
{
    rs->n = 0;
    rs->r = calloc(INCIDENT_NIS2_REPORTS_MAX, sizeof(*rs->r));
    if (!rs->r)
        return err_set(&a->eb, IASO_E_NOMEM, "out of memory reading NIS2 reports");
    struct store_val p[] = {store_int(incident_id), store_int(INCIDENT_NIS2_REPORTS_MAX)};
    int rc = store_exec(
        a->db,
        with_content
            ? "SELECT r.id, r.stage, r.requested_at, r.due_at, r.sent_at, r.sent_by, u.name,"
              " r.feedback, r.feedback_at, r.content FROM nis2_reports r"
              " LEFT JOIN users u ON u.id = r.sent_by WHERE r.incident_id = ? ORDER BY r.id LIMIT ?"
            : "SELECT r.id, r.stage, r.requested_at, r.due_at, r.sent_at, r.sent_by, u.name,"
              " r.feedback, r.feedback_at, NULL FROM nis2_reports r"
              " LEFT JOIN users u ON u.id = r.sent_by WHERE r.incident_id = ? ORDER BY r.id LIMIT "
              "?",
        p, N_OF(p), report_row, rs, NULL, &a->eb);
    if (rc != 0)
        incident_reports_release(rs);
    return rc;
}

/* Adds what the report records say to facts `f` (whose report members are zero). */
static void
facts_add_reports(struct nis2_facts *f, const struct reports *rs)
{
    for (size_t i = 0; rs && i < rs->n; i++) {
        const struct report *r = &rs->r[i];
        enum nis2_stage s = r->stage;
        if (!nis2_stage_is_repeatable(s)) {
            if (r->sent_at > 0 && (f->sent_at[s] == 0 || r->sent_at < f->sent_at[s]))
                f->sent_at[s] = r->sent_at;
        } else if (r->sent_at > 0) {
            if (r->sent_at >= f->sent_at[s]) {
                f->sent_at[s] = r->sent_at;
                f->sent_due_at[s] = r->requested_at > 0 ? r->due_at : 0;
            }
        } else if (r->requested_at > 0 && r->due_at > 0) {
            if (f->open_due_at[s] == 0 || r->due_at < f->open_due_at[s])
                f->open_due_at[s] = r->due_at;
        }
    }
}

void
incident_facts(const struct incident *inc, const struct reports *rs, struct nis2_facts *f)
{
    *f = (struct nis2_facts){
        .is_significant = inc->nis2,
        .aware_at = inc->aware_at,
        .closed_at = inc->status == INCIDENT_CLOSED ? inc->closed_at : 0,
    };
    facts_add_reports(f, rs);
}

/* The next deadline as the two column values (NULL, NULL when none). */
static void
next_values(const struct nis2_facts *f, int64_t now, struct store_val *stage, struct store_val *due)
{
    struct nis2_stage_clock clock[NIS2_STAGE_N];
    enum nis2_stage s = NIS2_EARLY_WARNING;
    int64_t due_at = 0;
    nis2_clock(f, now, clock);
    if (nis2_next(clock, &s, &due_at)) {
        *stage = store_text(nis2_stage_name(s));
        *due = store_int(due_at);
    } else {
        *stage = store_null();
        *due = store_null();
    }
}

/* A change of an incident row: the SET list `set` ("column = ?," each), then the columns every
 * change writes, guarded by the version that was read. */
#define INCIDENT_UPDATE(set)                                                                       \
    "UPDATE incidents SET " set " updated_at = ?, version = version + 1, nis2_next_stage = ?,"     \
    " nis2_next_due_at = ? WHERE id = ? AND version = ?"
#define INCIDENT_SET_MAX STATE_N_COLUMNS /* values of the longest SET list */

/*
 * Writes a change of incident `inc` inside the caller's transaction: `sql` (INCIDENT_UPDATE)
 * with `set` (n_set values) for its SET list, then updated_at, a new version and the next NIS2
 * deadline, computed from the incident's report records and `after`: its own facts
 * (is_significant, aware_at, closed_at) as the change leaves them, report members zero. 0,
 * IASO_E_EXIST when the row is no longer at the version `inc` was read at (someone else changed
 * it meanwhile), or a store error.
 */
static int
incident_update(struct api *a, const struct incident *inc, const struct nis2_facts *after,
                const char *sql, const struct store_val *set, size_t n_set)
{
    struct store_val p[INCIDENT_SET_MAX + 5];
    struct reports rs = {0};
    struct nis2_facts f = *after;
    if (n_set > INCIDENT_SET_MAX)
        return err_set(&a->eb, IASO_E_LIMIT, "incident update with %zu values", n_set);
    int rc = incident_reports_load(a, inc->id, false, &rs);
    if (rc != 0)
        return rc;
    facts_add_reports(&f, &rs);
    incident_reports_release(&rs);
    for (size_t i = 0; i < n_set; i++)
        p[i] = set[i];
    p[n_set] = store_int(a->now);
    next_values(&f, a->now, &p[n_set + 1], &p[n_set + 2]);
    p[n_set + 3] = store_int(inc->id);
    p[n_set + 4] = store_int(inc->version);
    int64_t n = 0;
    rc = store_exec(a->db, sql, p, n_set + 5, NULL, NULL, &n, &a->eb);
    if (rc == 0 && n == 0)
        rc = IASO_E_EXIST;
    return rc;
}

int
incident_nis2_refresh(struct api *a, const struct incident *inc)
{
    struct nis2_facts after;
    incident_facts(inc, NULL, &after);
    return incident_update(a, inc, &after, INCIDENT_UPDATE(""), NULL, 0);
}

/* ---- GET /incidents ---- */

static int
summary_row(void *ctx, const struct store_row *row)
{
    struct page_ctx *pc = ctx;
    if (page_full(pc))
        return 0;
    int64_t tlp = col_int(row, 4);
    json_t *o = json_object();
    pc->last_id = col_int(row, 0);
    json_object_set_new(o, "id", json_integer(pc->last_id));
    json_object_set_new(o, "kind", json_string(col_text(row, 1)));
    json_object_set_new(o, "title", json_string(col_text(row, 2)));
    json_object_set_new(o, "status", json_string(col_text(row, 3)));
    json_object_set_new(o, "tlp", json_string(incident_tlp_name(tlp)));
    json_object_set_new(o, "org", incident_org_json(col_int(row, 5), col_text(row, 6)));
    json_object_set_new(o, "country", json_string(col_text(row, 7)));
    json_object_set_new(o, "created_at", api_time_json(col_int(row, 8)));
    json_object_set_new(o, "updated_at", api_time_json(col_int(row, 9)));
    json_object_set_new(o, "nis2", json_boolean(col_int(row, 10) != 0));
    enum nis2_stage next = NIS2_EARLY_WARNING;
    int64_t due = col_next(row, 11, &next);
    json_object_set_new(o, "nis2_next", nis2_next_json(next, due, pc->now));
    return json_array_append_new(pc->items, o) == 0 ? 0 : IASO_E_NOMEM;
}

#define LIST_PARAMS_MAX (INCIDENT_VIS_N + 16)
#define INCIDENT_DUE_HOURS_MAX 8784 /* ?due=: a leap year of hours */

/* Adds " AND <cond>" with one parameter. */
static int
filter_add(struct buf *sql, struct store_val *p, size_t *n, const char *cond, struct store_val v)
{
    if (*n >= LIST_PARAMS_MAX)
        return IASO_E_LIMIT;
    p[(*n)++] = v;
    int rc = buf_append_str(sql, " AND ");
    return rc != 0 ? rc : buf_append_str(sql, cond);
}

static void
incidents_list(struct api *a)
{
    struct page pg;
    struct buf sql;
    struct store_val p[LIST_PARAMS_MAX];
    size_t n = INCIDENT_VIS_N;
    char pattern[2 * INCIDENT_TITLE_MAX + 3];
    struct page_ctx pc = {.now = a->now};
    int rc = 0;
    buf_init(&sql, 8192);
    if (page_parse(a, &pg) != 0)
        goto out;
    pc.limit = pg.limit;
    incident_visibility_sql(&a->who, p);
    rc = buf_append_str(&sql, "SELECT i.id, i.kind, i.title, i.status, i.tlp, i.org_id, o.name,"
                              " i.country, i.created_at, i.updated_at, i.nis2, i.nis2_next_stage,"
                              " i.nis2_next_due_at FROM incidents i"
                              " JOIN orgs o ON o.id = i.org_id WHERE " VISIBILITY_SQL);

    const char *s = http_req_query(a->req, "kind");
    enum incident_kind kind;
    if (s && incident_kind_parse(s, &kind) != 0) {
        api_bad_query(a, "kind", "cyber or violence");
        goto out;
    }
    if (s && rc == 0)
        rc = filter_add(&sql, p, &n, "i.kind = ?", store_text(incident_kind_name(kind)));
    s = http_req_query(a->req, "status");
    enum incident_status status;
    bool open_only = s && strcmp(s, "open") == 0;
    if (s && !open_only && incident_status_parse(s, &status) != 0) {
        api_bad_query(a, "status",
                      "one of reported, triaged, responding, recovering, closed, or open "
                      "(every status but closed)");
        goto out;
    }
    if (open_only && rc == 0)
        rc = filter_add(&sql, p, &n, "i.status <> ?", store_text("closed"));
    else if (s && rc == 0)
        rc = filter_add(&sql, p, &n, "i.status = ?", store_text(incident_status_name(status)));
    /* scope: own (my organisation's reports) or constituency (the reports of the organisations
     * my CSIRT coordinates); both narrow what visibility already allows */
    s = http_req_query(a->req, "scope");
    if (s && strcmp(s, "own") != 0 && strcmp(s, "constituency") != 0) {
        api_bad_query(a, "scope", "own or constituency");
        goto out;
    }
    if (s && strcmp(s, "own") == 0 && rc == 0)
        rc = filter_add(&sql, p, &n, "i.org_id = ?", store_int(a->who.org_id));
    else if (s && rc == 0)
        rc = filter_add(&sql, p, &n, "i.org_id IN (SELECT id FROM orgs WHERE csirt_id = ?)",
                        store_int(a->who.org_id));
    s = http_req_query(a->req, "tlp");
    enum tlp tlp;
    if (s && api_tlp_parse(s, &tlp) != 0) {
        api_bad_query(a, "tlp",
                      "one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED (the highest level)");
        goto out;
    }
    if (s && rc == 0)
        rc = filter_add(&sql, p, &n, "i.tlp <= ?", store_int(tlp));
    int64_t org_id, nis2, due_h;
    if (api_query_int(a, "org_id", 0, 1, INT64_MAX, &org_id) != 0 ||
        api_query_int(a, "nis2", -1, 0, 1, &nis2) != 0 ||
        api_query_int(a, "due", -1, 0, INCIDENT_DUE_HOURS_MAX, &due_h) != 0)
        goto out;
    if (org_id > 0 && rc == 0)
        rc = filter_add(&sql, p, &n, "i.org_id = ?", store_int(org_id));
    if (nis2 >= 0 && rc == 0)
        rc = filter_add(&sql, p, &n, "i.nis2 = ?", store_int(nis2));
    if (due_h >= 0 && rc == 0)
        rc = filter_add(&sql, p, &n, "i.nis2_next_due_at <= ?", store_int(a->now + due_h * 3600));
    s = http_req_query(a->req, "country");
    if (s && !country_valid(s)) {
        api_bad_query(a, "country", "an ISO 3166-1 alpha-2 code in capitals, such as DE");
        goto out;
    }
    if (s && rc == 0)
        rc = filter_add(&sql, p, &n, "i.country = ?", store_text(s));
    s = http_req_query(a->req, "q");
    if (s && (strlen(s) == 0 || strlen(s) > INCIDENT_TITLE_MAX)) {
        api_bad_query(a, "q", "1 to 200 bytes of the title to look for");
        goto out;
    }
    if (s && rc == 0) {
        /* a substring: LIKE's own characters escaped, so "50%" finds "50%" */
        size_t k = 0;
        pattern[k++] = '%';
        for (const char *c = s; *c; c++) {
            if (*c == '%' || *c == '_' || *c == '\\')
                pattern[k++] = '\\';
            pattern[k++] = *c;
        }
        pattern[k++] = '%';
        pattern[k] = '\0';
        rc = filter_add(&sql, p, &n, "LOWER(i.title) LIKE LOWER(?) ESCAPE '\\'",
                        store_text(pattern));
    }
    static const char *const bounds[] = {"from", "to"};
    for (size_t i = 0; i < N_OF(bounds) && rc == 0; i++) {
        int64_t t;
        s = http_req_query(a->req, bounds[i]);
        if (s && api_time_parse(s, &t) != 0) {
            api_bad_query(a, bounds[i], "a date and time like 2026-11-23T08:30:00Z");
            goto out;
        }
        if (s)
            rc = filter_add(&sql, p, &n, i == 0 ? "i.created_at >= ?" : "i.created_at < ?",
                            store_int(t));
    }
    if (pg.after_id > 0 && rc == 0)
        rc = filter_add(&sql, p, &n, "i.id < ?", store_int(pg.after_id));
    if (rc == 0 && n < LIST_PARAMS_MAX) {
        p[n++] = store_int(pg.limit + 1);
        rc = buf_append_str(&sql, " ORDER BY i.id DESC LIMIT ?");
    }
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    pc.items = json_array();
    rc = store_exec(a->db, (const char *)sql.ptr, p, n, summary_row, &pc, NULL, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    page_send(a, &pc);
out:
    json_decref(pc.items);
    buf_release(&sql);
}

/* ---- POST /incidents ---- */

static int
org_country_row(void *ctx, const struct store_row *row)
{
    snprintf(ctx, 3, "%s", col_text(row, 0));
    return 0;
}

/* The organisations a new incident is shared with: each must exist and not be the reporter's;
 * 400 answered and -1 returned otherwise. */
static int
shares_check(struct api *a, const json_t *ids, int64_t tlp)
{
    if (json_array_size(ids) > 0 && tlp > TLP_AMBER) {
        api_error(a, 400, "bad_field",
                  "field 'shared_with': a TLP:%s incident cannot be shared, since shares give "
                  "access up to TLP:AMBER; lower the TLP or share nothing",
                  incident_tlp_name(tlp));
        return -1;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(ids, i, e)
    {
        int64_t org = json_integer_value(e), found = 0;
        struct store_val p[] = {store_int(org)};
        int rc =
            store_query_int(a->db, "SELECT COUNT(*) FROM orgs WHERE id = ?", p, 1, &found, &a->eb);
        if (rc != 0) {
            api_store_error(a, rc);
            return -1;
        }
        if (found == 0 || org == a->who.org_id) {
            api_error(a, 400, "bad_field", "field 'shared_with' item %zu: %s %lld", i,
                      found == 0 ? "there is no organisation"
                                 : "this is the reporting organisation itself,",
                      (long long)org);
            return -1;
        }
    }
    return 0;
}

static int
share_insert(struct api *a, int64_t incident_id, int64_t org_id)
{
    struct store_val p[] = {store_int(incident_id), store_int(org_id), store_int(a->who.user_id),
                            store_int(a->now)};
    int rc = store_exec(a->db,
                        "INSERT INTO incident_shares (incident_id, org_id, shared_by, shared_at)"
                        " VALUES (?, ?, ?, ?)",
                        p, N_OF(p), NULL, NULL, NULL, &a->eb);
    if (rc == 0)
        rc = event_add(a, incident_id, "share", api_object("org_id", json_integer(org_id), NULL),
                       NULL);
    return rc;
}

/* Answers a failed incident_fields_check: 400 naming the field, or 500 out of memory. */
static void
fields_error(struct api *a, int rc, const char *msg)
{
    api_error(a, rc == IASO_E_INVAL ? 400 : 500, rc == IASO_E_INVAL ? "bad_field" : "internal",
              "%s", msg);
}

static void
incident_create(struct api *a)
{
    json_t *body = NULL, *state = NULL;
    struct incident_cols cols = {0};
    char msg[400], country[3] = "";
    enum incident_kind kind;
    int64_t id = 0;
    int rc;
    if (a->who.role == ROLE_VIEWER || a->who.role == ROLE_HELPER) {
        api_forbidden(a, "viewers and helpers cannot report incidents; a reporter, analyst or "
                         "admin of your organisation can");
        return;
    }
    body = api_body_object(a);
    if (!body)
        return;
    const json_t *kv = json_object_get(body, "kind");
    if (!kv) {
        api_error(a, 400, "bad_field", "field 'kind' is required: cyber or violence");
        goto out;
    }
    if (incident_kind_parse(json_string_value(kv), &kind) != 0) {
        api_error(a, 400, "bad_field", "field 'kind' must be one of: cyber, violence");
        goto out;
    }
    rc = incident_fields_check(body, kind, false, msg, sizeof(msg));
    if (rc != 0) {
        fields_error(a, rc, msg);
        goto out;
    }

    rc = store_begin(a->db, true, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    struct store_val po[] = {store_int(a->who.org_id)};
    rc = store_exec(a->db, "SELECT country FROM orgs WHERE id = ?", po, 1, org_country_row, country,
                    NULL, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    state = api_object("tlp", json_string("AMBER"), "nis2", json_boolean(kind == INCIDENT_CYBER),
                       "country", json_string(country), "summary", json_string(""), "region",
                       json_string(""), NULL);
    if (state_apply(state, body) != 0) {
        api_store_error(a, IASO_E_NOMEM);
        goto out;
    }
    if (incident_state_check(state, a->now, msg, sizeof(msg)) != 0) {
        api_error(a, 400, "bad_field", "%s", msg);
        goto out;
    }
    rc = state_columns(state, kind, &cols);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    const json_t *shares = json_object_get(body, "shared_with");
    if (shares_check(a, shares, cols.tlp) != 0)
        goto out;

    struct nis2_facts f = {.is_significant = cols.nis2, .aware_at = cols.aware_at};
    struct store_val p[8 + STATE_N_COLUMNS] = {
        store_int(a->who.org_id),
        store_text(incident_kind_name(kind)),
        store_text(incident_status_name(INCIDENT_REPORTED)),
        store_int(a->who.user_id),
        store_int(a->now),
        store_int(a->now),
    };
    next_values(&f, a->now, &p[6], &p[7]);
    state_values(&cols, &p[8]);
    rc = store_query_int(a->db,
                         "INSERT INTO incidents (org_id, kind, status, created_by, created_at,"
                         " updated_at, nis2_next_stage, nis2_next_due_at, version, " STATE_COLUMNS
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                         " RETURNING id",
                         p, N_OF(p), &id, &a->eb);
    if (rc == 0)
        rc = event_add(a, id, "create",
                       api_object("kind", json_string(incident_kind_name(kind)), "tlp",
                                  json_string(incident_tlp_name(cols.tlp)), "status",
                                  json_string(incident_status_name(INCIDENT_REPORTED)), NULL),
                       NULL);
    size_t i;
    const json_t *e;
    json_array_foreach(shares, i, e)
    {
        if (rc == 0)
            rc = share_insert(a, id, json_integer_value(e));
    }
    if (rc == 0)
        rc = incident_write_commit(a, id, NULL, NULL, "incident.create",
                                   api_object("kind", json_string(incident_kind_name(kind)), "tlp",
                                              json_string(incident_tlp_name(cols.tlp)),
                                              "shared_with",
                                              json_deep_copy(shares ? shares : json_null()), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    location_set(a, id, NULL, 0);
    incident_send(a, 201, id);
out:
    store_rollback(a->db);
    cols_release(&cols);
    json_decref(state);
    json_decref(body);
}

/* ---- GET /incidents/{id} ---- */

static void
incident_get(struct api *a)
{
    int64_t id;
    if (api_param_id(a, 0, &id) == 0)
        incident_send(a, 200, id);
}

/* ---- PATCH /incidents/{id} ---- */

static void
incident_patch(struct api *a)
{
    struct incident inc;
    struct access acc;
    struct incident_cols cols = {0};
    json_t *body = NULL, *old = NULL, *cur = NULL, *changed = NULL;
    char msg[400];
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    int rc;
    if (incident_manage_check(a, &acc) != 0)
        goto out;
    body = api_body_object(a);
    if (!body)
        goto out;
    const json_t *kv = json_object_get(body, "kind");
    if (kv &&
        !(json_is_string(kv) && strcmp(json_string_value(kv), incident_kind_name(inc.kind)) == 0)) {
        api_error(a, 400, "bad_field",
                  "field 'kind' cannot change: this is a %s incident; report a new one instead",
                  incident_kind_name(inc.kind));
        goto out;
    }
    rc = incident_fields_check(body, inc.kind, true, msg, sizeof(msg));
    if (rc != 0) {
        fields_error(a, rc, msg);
        goto out;
    }
    const json_t *version = json_object_get(body, "version");
    if (json_is_integer(version) && json_integer_value(version) != inc.version) {
        api_error(a, 409, "conflict",
                  "field 'version': the incident is at version %lld, not %lld; read it again "
                  "and apply the change to the current version",
                  (long long)inc.version, (long long)json_integer_value(version));
        goto out;
    }
    old = incident_state(&inc);
    cur = json_deep_copy(old);
    if (!old || !cur || state_apply(cur, body) != 0) {
        api_store_error(a, IASO_E_NOMEM);
        goto out;
    }
    if (incident_state_check(cur, a->now, msg, sizeof(msg)) != 0) {
        api_error(a, 400, "bad_field", "%s", msg);
        goto out;
    }
    changed = state_changes(old, cur, inc.kind);
    if (json_array_size(changed) == 0) {
        /* nothing to write: no event, no new version */
        store_rollback(a->db);
        incident_send(a, 200, inc.id);
        goto out;
    }
    /* Raising the TLP above AMBER keeps the shares on record; the visibility condition stops
     * them giving access until it comes down again. */
    rc = state_columns(cur, inc.kind, &cols);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    struct store_val set[STATE_N_COLUMNS];
    struct nis2_facts after = {
        .is_significant = cols.nis2,
        .aware_at = cols.aware_at,
        .closed_at = inc.status == INCIDENT_CLOSED ? inc.closed_at : 0,
    };
    state_values(&cols, set);
    rc = incident_update(a, &inc, &after, INCIDENT_UPDATE(STATE_SET), set, N_OF(set));
    if (rc == IASO_E_EXIST) {
        incident_conflict(a);
        goto out;
    }
    /* The timeline shows the names of the changed fields, never their values. */
    if (rc == 0)
        rc = incident_write_commit(
            a, inc.id, "update", api_object("fields", json_deep_copy(changed), NULL),
            "incident.update", api_object("fields", json_deep_copy(changed), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    incident_send(a, 200, inc.id);
out:
    store_rollback(a->db);
    cols_release(&cols);
    json_decref(changed);
    json_decref(cur);
    json_decref(old);
    json_decref(body);
    incident_release(&inc);
}

/* ---- POST /incidents/{id}/status ---- */

static const struct api_field status_fields[] = {
    {"status", AF_ENUM, true, 0, 0, status_names},
    {"note", AF_STRING, false, 0, 20000, NULL},
};

static void
incident_status_set(struct api *a)
{
    struct incident inc;
    struct access acc;
    json_t *body = NULL;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    if (incident_manage_check(a, &acc) != 0)
        goto out;
    body = api_body(a, status_fields, N_OF(status_fields), false);
    if (!body)
        goto out;
    enum incident_status to = inc.status;
    incident_status_parse(json_string_value(json_object_get(body, "status")), &to);
    const char *note = json_string_value(json_object_get(body, "note"));
    if (to == inc.status) {
        api_error(a, 409, "conflict", "field 'status': the incident is %s already",
                  incident_status_name(to));
        goto out;
    }
    if (!status_step_ok(inc.status, to)) {
        api_error(a, 409, "conflict",
                  "field 'status': an incident goes reported -> triaged -> responding -> "
                  "recovering -> closed one step at a time, or to closed from any open status, "
                  "and a closed one is reopened as responding; %s -> %s is not a step",
                  incident_status_name(inc.status), incident_status_name(to));
        goto out;
    }
    if (inc.status == INCIDENT_CLOSED && !acc.can_reopen) {
        api_forbidden(a, "only the incident's CSIRT (analysts, admins) or an admin of the "
                         "reporting organisation may reopen a closed incident");
        goto out;
    }
    int64_t closed_at = to == INCIDENT_CLOSED ? a->now : 0;
    struct store_val set[] = {
        store_text(incident_status_name(to)),
        closed_at ? store_int(closed_at) : store_null(),
    };
    struct nis2_facts after = {
        .is_significant = inc.nis2, .aware_at = inc.aware_at, .closed_at = closed_at};
    int rc = incident_update(a, &inc, &after, INCIDENT_UPDATE("status = ?, closed_at = ?,"), set,
                             N_OF(set));
    if (rc == IASO_E_EXIST) {
        incident_conflict(a);
        goto out;
    }
    const char *from_name = incident_status_name(inc.status);
    const char *to_name = incident_status_name(to);
    if (rc == 0)
        rc = incident_write_commit(
            a, inc.id, "status",
            api_object("from", json_string(from_name), "to", json_string(to_name), "note",
                       note ? json_string(note) : json_null(), NULL),
            "incident.status",
            api_object("from", json_string(from_name), "to", json_string(to_name), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    incident_send(a, 200, inc.id);
out:
    store_rollback(a->db);
    json_decref(body);
    incident_release(&inc);
}

/* ---- GET /incidents/{id}/timeline ---- */

#define EVENT_SELECT                                                                               \
    "SELECT e.id, e.at, e.kind, e.body, u.id, u.name, uo.id, uo.name FROM incident_events e"       \
    " JOIN users u ON u.id = e.user_id JOIN orgs uo ON uo.id = u.org_id"

/* An update event lists field names; those of restricted fields go only to who may see them. */
static void
event_body_filter(json_t *body)
{
    json_t *fields = json_object_get(body, "fields");
    for (size_t i = json_array_size(fields); i-- > 0;) {
        const char *name = json_string_value(json_array_get(fields, i));
        if (name && incident_field_is_restricted(name))
            json_array_remove(fields, i);
    }
}

static json_t *
event_json(const struct store_row *row, const struct access *acc)
{
    const char *kind = col_text(row, 2);
    json_t *body = col_object(row, 3);
    if (!acc->sees_restricted && strcmp(kind, "update") == 0)
        event_body_filter(body);
    json_t *by = json_object();
    json_object_set_new(by, "id", json_integer(col_int(row, 4)));
    json_object_set_new(by, "name", json_string(col_text(row, 5)));
    json_object_set_new(by, "org", incident_org_json(col_int(row, 6), col_text(row, 7)));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(col_int(row, 0)));
    json_object_set_new(o, "at", api_time_json(col_int(row, 1)));
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "by", by);
    json_object_set_new(o, "body", body);
    return o;
}

static int
event_row(void *ctx, const struct store_row *row)
{
    struct page_ctx *pc = ctx;
    if (page_full(pc))
        return 0;
    pc->last_id = col_int(row, 0);
    return json_array_append_new(pc->items, event_json(row, pc->acc)) == 0 ? 0 : IASO_E_NOMEM;
}

static void
timeline_list(struct api *a)
{
    struct incident inc;
    struct access acc;
    struct page pg;
    if (page_parse(a, &pg) != 0 || incident_read_open(a, &inc, &acc) != 0)
        return;
    /* order=desc: newest first, and after_id then means "older than" */
    const char *order = http_req_query(a->req, "order");
    if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
        api_bad_query(a, "order", "asc (oldest first, the default) or desc (newest first)");
        incident_release(&inc);
        return;
    }
    bool desc = order && strcmp(order, "desc") == 0;
    int64_t cursor = desc && pg.after_id == 0 ? INT64_MAX : pg.after_id;
    struct page_ctx pc = {.items = json_array(), .limit = pg.limit, .acc = &acc};
    struct store_val p[] = {store_int(inc.id), store_int(cursor), store_int(pg.limit + 1)};
    /* Whom an incident is shared with is for those who manage it. */
#define NO_SHARES " AND e.kind NOT IN ('share', 'unshare')"
    static const char *const sql[2][2] = {
        {EVENT_SELECT " WHERE e.incident_id = ? AND e.id > ?" NO_SHARES " ORDER BY e.id LIMIT ?",
         EVENT_SELECT " WHERE e.incident_id = ? AND e.id > ? ORDER BY e.id LIMIT ?"},
        {EVENT_SELECT " WHERE e.incident_id = ? AND e.id < ?" NO_SHARES
                      " ORDER BY e.id DESC LIMIT ?",
         EVENT_SELECT " WHERE e.incident_id = ? AND e.id < ? ORDER BY e.id DESC LIMIT ?"},
    };
#undef NO_SHARES
    int rc = store_exec(a->db, sql[desc][acc.can_manage], p, N_OF(p), event_row, &pc, NULL, &a->eb);
    if (rc != 0)
        api_store_error(a, rc);
    else
        page_send(a, &pc);
    json_decref(pc.items);
    incident_release(&inc);
}

struct one_event {
    const struct access *acc;
    json_t *event;
};

static int
one_event_row(void *ctx, const struct store_row *row)
{
    struct one_event *oe = ctx;
    oe->event = event_json(row, oe->acc);
    return 0;
}

/* ---- POST /incidents/{id}/comments ---- */

static const struct api_field comment_fields[] = {
    {"body", AF_STRING, true, 1, INCIDENT_COMMENT_MAX, NULL},
};

static void
comment_add(struct api *a)
{
    struct incident inc;
    struct access acc;
    json_t *body = NULL;
    int64_t event_id = 0;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    if (!acc.can_comment) {
        api_forbidden(a, a->who.role == ROLE_VIEWER
                             ? "viewers cannot comment"
                             : "helpers comment only on incidents shared with their organisation");
        goto out;
    }
    body = api_body(a, comment_fields, N_OF(comment_fields), false);
    if (!body)
        goto out;
    /* A comment is part of the incident: it has the incident's TLP and readers. */
    int rc = event_add(a, inc.id, "comment",
                       api_object("text", json_deep_copy(json_object_get(body, "body")), NULL),
                       &event_id);
    if (rc == 0)
        rc = incident_write_commit(a, inc.id, NULL, NULL, "incident.comment",
                                   api_object("event_id", json_integer(event_id), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    struct one_event oe = {.acc = &acc};
    struct store_val p[] = {store_int(event_id)};
    rc = store_exec(a->db, EVENT_SELECT " WHERE e.id = ?", p, 1, one_event_row, &oe, NULL, &a->eb);
    if (rc != 0 || !oe.event) {
        json_decref(oe.event);
        api_store_error(a, rc != 0 ? rc : IASO_E_IO);
        goto out;
    }
    api_send_json(a, 201, oe.event);
out:
    store_rollback(a->db);
    json_decref(body);
    incident_release(&inc);
}

/* ---- attachments ---- */

static const struct api_field attachment_fields[] = {
    {"name", AF_STRING, true, 1, 255, NULL},
    {"content_type", AF_ENUM, true, 0, 0, attachment_types},
    /* base64 of at most INCIDENT_ATTACHMENT_MAX bytes, with room for line breaks */
    {"data_base64", AF_STRING, true, 0, (int64_t)INCIDENT_ATTACHMENT_MAX * 2, NULL},
};

/* A file name to show and save under: no path separators, no control bytes, not "." or "..". */
static bool
file_name_valid(const char *s)
{
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
            return false;
    return true;
}

/* What the API shows of an attachment (the file itself is served alone). */
struct attachment_meta {
    int64_t id;
    int64_t incident_id;
    const char *name; /* borrowed, like the strings below */
    const char *content_type;
    int64_t size;
    const char *sha256;
    int64_t created_by;
    int64_t created_at;
};

static json_t *
attachment_json(const struct attachment_meta *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "incident_id", json_integer(m->incident_id));
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "content_type", json_string(m->content_type));
    json_object_set_new(o, "size", json_integer(m->size));
    json_object_set_new(o, "sha256", json_string(m->sha256));
    json_object_set_new(o, "created_by", json_integer(m->created_by));
    json_object_set_new(o, "created_at", api_time_json(m->created_at));
    return o;
}

#define ATTACHMENT_META                                                                            \
    "SELECT id, name, content_type, size, sha256, created_by, created_at FROM attachments"

struct attachment_page {
    struct page_ctx pc;
    int64_t incident_id;
};

static int
attachment_row(void *ctx, const struct store_row *row)
{
    struct attachment_page *ap = ctx;
    if (page_full(&ap->pc))
        return 0;
    ap->pc.last_id = col_int(row, 0);
    struct attachment_meta m = {
        .id = col_int(row, 0),
        .incident_id = ap->incident_id,
        .name = col_text(row, 1),
        .content_type = col_text(row, 2),
        .size = col_int(row, 3),
        .sha256 = col_text(row, 4),
        .created_by = col_int(row, 5),
        .created_at = col_int(row, 6),
    };
    return json_array_append_new(ap->pc.items, attachment_json(&m)) == 0 ? 0 : IASO_E_NOMEM;
}

static void
attachments_list(struct api *a)
{
    struct incident inc;
    struct access acc;
    struct page pg;
    if (page_parse(a, &pg) != 0 || incident_read_open(a, &inc, &acc) != 0)
        return;
    struct attachment_page ap = {.pc = {.items = json_array(), .limit = pg.limit},
                                 .incident_id = inc.id};
    struct store_val p[] = {store_int(inc.id), store_int(pg.after_id), store_int(pg.limit + 1)};
    int rc =
        store_exec(a->db, ATTACHMENT_META " WHERE incident_id = ? AND id > ? ORDER BY id LIMIT ?",
                   p, N_OF(p), attachment_row, &ap, NULL, &a->eb);
    if (rc != 0)
        api_store_error(a, rc);
    else
        page_send(a, &ap.pc);
    json_decref(ap.pc.items);
    incident_release(&inc);
}

static void
attachment_add(struct api *a)
{
    struct incident inc;
    struct access acc;
    json_t *body = NULL;
    unsigned char *data = NULL;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    int rc;
    if (incident_manage_check(a, &acc) != 0)
        goto out;
    body = api_body(a, attachment_fields, N_OF(attachment_fields), false);
    if (!body)
        goto out;
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *type = json_string_value(json_object_get(body, "content_type"));
    const json_t *b64v = json_object_get(body, "data_base64");
    const char *b64 = json_string_value(b64v);
    size_t b64_len = json_string_length(b64v);
    if (!file_name_valid(name)) {
        api_error(a, 400, "bad_field",
                  "field 'name' must be a file name without '/', '\\' or control characters");
        goto out;
    }
    size_t cap = b64_len / 4 * 3 + 3, len = 0;
    const char *end = NULL;
    data = malloc(cap);
    if (!data) {
        api_store_error(a, IASO_E_NOMEM);
        goto out;
    }
    if (sodium_base642bin(data, cap, b64, b64_len, " \r\n", &len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != b64 + b64_len) {
        api_error(a, 400, "bad_field",
                  "field 'data_base64' must be the file in base64 (RFC 4648 with '=' padding)");
        goto out;
    }
    if (len > INCIDENT_ATTACHMENT_MAX) {
        api_error(a, 413, "too_large", "field 'data_base64': the file has %zu bytes; %u at most",
                  len, INCIDENT_ATTACHMENT_MAX);
        goto out;
    }
    int64_t n = 0;
    struct store_val pc[] = {store_int(inc.id)};
    rc = store_query_int(a->db, "SELECT COUNT(*) FROM attachments WHERE incident_id = ?", pc, 1, &n,
                         &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    if (n >= INCIDENT_ATTACHMENTS_MAX) {
        api_error(a, 409, "conflict", "the incident has %d attachments, the most it may have",
                  INCIDENT_ATTACHMENTS_MAX);
        goto out;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    int64_t aid = 0;
    struct store_val p[] = {store_int(inc.id),         store_text(name), store_text(type),
                            store_int((int64_t)len),   store_text(hex),  store_blob(data, len),
                            store_int(a->who.user_id), store_int(a->now)};
    rc = store_query_int(a->db,
                         "INSERT INTO attachments (incident_id, name, content_type, size, sha256,"
                         " data, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                         " RETURNING id",
                         p, N_OF(p), &aid, &a->eb);
    if (rc == 0)
        rc = incident_write_commit(a, inc.id, "attachment",
                                   api_object("attachment_id", json_integer(aid), "name",
                                              json_string(name), "sha256", json_string(hex), NULL),
                                   "incident.attachment",
                                   api_object("attachment_id", json_integer(aid), "size",
                                              json_integer((json_int_t)len), "sha256",
                                              json_string(hex), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    struct attachment_meta m = {
        .id = aid,
        .incident_id = inc.id,
        .name = name,
        .content_type = type,
        .size = (int64_t)len,
        .sha256 = hex,
        .created_by = a->who.user_id,
        .created_at = a->now,
    };
    location_set(a, inc.id, "attachments", aid);
    api_send_json(a, 201, attachment_json(&m));
out:
    store_rollback(a->db);
    free(data);
    json_decref(body);
    incident_release(&inc);
}

struct attachment_file {
    struct http_resp *resp;
    bool found;
    char name[256];
    char sha256[65];
    const char *content_type; /* static: from attachment_types */
};

static int
attachment_file_row(void *ctx, const struct store_row *row)
{
    struct attachment_file *af = ctx;
    int i = name_index(attachment_types, col_text(row, 1));
    af->found = true;
    snprintf(af->name, sizeof(af->name), "%s", col_text(row, 0));
    snprintf(af->sha256, sizeof(af->sha256), "%s", col_text(row, 2));
    af->content_type = i >= 0 ? attachment_types[i] : "application/octet-stream";
    buf_reset(&af->resp->body);
    if (row->n_cols > 3 && row->cols[3].type == STORE_BLOB)
        return buf_append(&af->resp->body, row->cols[3].s, row->cols[3].len);
    return 0;
}

/* Content-Disposition for a stored name: an ASCII fallback with anything doubtful as '_', and
 * the exact name percent-encoded in UTF-8 (RFC 6266). */
static void
disposition_format(const char *name, char *out, size_t out_len)
{
    char ascii[256], pct[3 * 255 + 1];
    size_t k = 0, m = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && k < sizeof(ascii) - 1; p++)
        ascii[k++] = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' && *p != ';' && *p != '%'
                         ? (char)*p
                         : '_';
    ascii[k] = '\0';
    for (const unsigned char *p = (const unsigned char *)name; *p && m + 3 < sizeof(pct); p++) {
        if (is_alnum((char)*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            pct[m++] = (char)*p;
        else
            m += (size_t)snprintf(pct + m, 4, "%%%02X", *p);
    }
    pct[m] = '\0';
    snprintf(out, out_len, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, pct);
}

static void
attachment_get(struct api *a)
{
    struct incident inc;
    struct access acc;
    int64_t aid;
    if (incident_read_open(a, &inc, &acc) != 0)
        return;
    if (api_param_id(a, 1, &aid) != 0) {
        incident_release(&inc);
        return;
    }
    struct attachment_file af = {.resp = a->resp};
    struct store_val p[] = {store_int(aid), store_int(inc.id)};
    int rc = store_exec(a->db,
                        "SELECT name, content_type, sha256, data FROM attachments"
                        " WHERE id = ? AND incident_id = ?",
                        p, N_OF(p), attachment_file_row, &af, NULL, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
    } else if (!af.found) {
        api_not_found(a, "attachment");
    } else {
        unsigned char digest[crypto_hash_sha256_BYTES];
        char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
                                           sodium_base64_VARIANT_ORIGINAL)];
        char header[1300];
        size_t n = 0;
        a->resp->status = 200;
        a->resp->content_type = af.content_type;
        disposition_format(af.name, header, sizeof(header));
        http_resp_header(a->resp, "Content-Disposition", header);
        http_resp_header(a->resp, "X-Content-Type-Options", "nosniff");
        http_resp_header(a->resp, "Content-Security-Policy", "default-src 'none'; sandbox");
        http_resp_header(a->resp, "Cache-Control", "private, no-store");
        http_resp_header(a->resp, "X-Iaso-SHA256", af.sha256);
        if (sodium_hex2bin(digest, sizeof(digest), af.sha256, strlen(af.sha256), NULL, &n, NULL) ==
                0 &&
            n == sizeof(digest)) {
            sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest),
                              sodium_base64_VARIANT_ORIGINAL);
            snprintf(header, sizeof(header), "sha-256=%s", b64);
            http_resp_header(a->resp, "Digest", header);
        }
    }
    incident_release(&inc);
}

/* ---- shares ---- */

static const struct api_field share_fields[] = {
    {"org_id", AF_INT, true, 1, INT64_MAX, NULL},
};

static int
org_name_row(void *ctx, const struct store_row *row)
{
    *(char **)ctx = strdup(col_text(row, 0));
    return *(char **)ctx ? 0 : IASO_E_NOMEM;
}

static void
share_add(struct api *a)
{
    struct incident inc;
    struct access acc;
    json_t *body = NULL;
    char *org_name = NULL;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    int rc;
    if (incident_manage_check(a, &acc) != 0)
        goto out;
    body = api_body(a, share_fields, N_OF(share_fields), false);
    if (!body)
        goto out;
    int64_t org = json_integer_value(json_object_get(body, "org_id"));
    if (org == inc.org_id) {
        api_error(a, 400, "bad_field",
                  "field 'org_id': %lld is the reporting organisation, which sees the incident "
                  "already",
                  (long long)org);
        goto out;
    }
    if (inc.tlp > TLP_AMBER) {
        api_error(a, 409, "conflict",
                  "the incident is TLP:%s and shares give access up to TLP:AMBER only; lower "
                  "its TLP first",
                  incident_tlp_name(inc.tlp));
        goto out;
    }
    struct store_val po[] = {store_int(org)};
    rc = store_exec(a->db, "SELECT name FROM orgs WHERE id = ?", po, 1, org_name_row, &org_name,
                    NULL, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    if (!org_name) {
        api_error(a, 400, "bad_field", "field 'org_id': there is no organisation %lld",
                  (long long)org);
        goto out;
    }
    int64_t n = 0;
    struct store_val pc[] = {store_int(inc.id)};
    rc = store_query_int(a->db, "SELECT COUNT(*) FROM incident_shares WHERE incident_id = ?", pc, 1,
                         &n, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    if (n >= INCIDENT_SHARES_MAX) {
        api_error(a, 409, "conflict",
                  "the incident is shared with %d organisations, the most it may be",
                  INCIDENT_SHARES_MAX);
        goto out;
    }
    rc = share_insert(a, inc.id, org);
    if (rc == IASO_E_EXIST) {
        api_error(a, 409, "conflict", "the incident is shared with organisation %lld already",
                  (long long)org);
        goto out;
    }
    if (rc == 0)
        rc = incident_write_commit(a, inc.id, NULL, NULL, "incident.share",
                                   api_object("org_id", json_integer(org), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    json_t *o = json_object();
    json_object_set_new(o, "incident_id", json_integer(inc.id));
    json_object_set_new(o, "org", incident_org_json(org, org_name));
    json_object_set_new(o, "shared_by", json_integer(a->who.user_id));
    json_object_set_new(o, "shared_at", api_time_json(a->now));
    location_set(a, inc.id, "shares", org);
    api_send_json(a, 201, o);
out:
    store_rollback(a->db);
    free(org_name);
    json_decref(body);
    incident_release(&inc);
}

static void
share_delete(struct api *a)
{
    struct incident inc;
    struct access acc;
    int64_t org, n = 0;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    if (incident_manage_check(a, &acc) != 0)
        goto out;
    if (api_param_id(a, 1, &org) != 0)
        goto out;
    struct store_val p[] = {store_int(inc.id), store_int(org)};
    int rc = store_exec(a->db, "DELETE FROM incident_shares WHERE incident_id = ? AND org_id = ?",
                        p, N_OF(p), NULL, NULL, &n, &a->eb);
    if (rc == 0 && n == 0) {
        api_not_found(a, "share");
        goto out;
    }
    if (rc == 0)
        rc = incident_write_commit(
            a, inc.id, "unshare", api_object("org_id", json_integer(org), NULL), "incident.unshare",
            api_object("org_id", json_integer(org), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    buf_reset(&a->resp->body);
    a->resp->status = 204;
out:
    store_rollback(a->db);
    incident_release(&inc);
}

/* ---- routes ---- */

/* The NIS2 routes are in incident-nis2.c (incident_nis2_routes), joined after these. */
/* ---- GET /vocabulary ---- */

/* Every value and field the registry accepts, from the same tables that validate requests, so
 * a client builds its forms from the server instead of keeping a copy that can drift. */
static void
vocabulary(struct api *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "kinds", api_names_json(kind_names));
    json_object_set_new(o, "statuses", api_names_json(status_names));
    json_object_set_new(o, "tlp", api_names_json(api_tlp_names));
    json_t *fields = json_object();
    json_object_set_new(fields, "common", api_fields_json(common_fields, N_OF(common_fields)));
    json_object_set_new(fields, "cyber", api_fields_json(cyber_fields, N_OF(cyber_fields)));
    json_object_set_new(fields, "violence",
                        api_fields_json(violence_fields, N_OF(violence_fields)));
    json_object_set_new(fields, "classification",
                        api_fields_json(classification_fields, N_OF(classification_fields)));
    json_object_set_new(fields, "victims", api_fields_json(victims_fields, N_OF(victims_fields)));
    json_object_set_new(fields, "victim_counts",
                        api_fields_json(victim_count_fields, N_OF(victim_count_fields)));
    json_object_set_new(fields, "indicator",
                        api_fields_json(indicator_fields, N_OF(indicator_fields)));
    json_object_set_new(o, "fields", fields);
    json_t *rsit = json_object();
    for (size_t i = 0; rsit_classes[i]; i++)
        json_object_set_new(rsit, rsit_classes[i], api_names_json(rsit_types[i]));
    json_object_set_new(o, "classification", rsit);
    json_t *restricted = json_array();
    for (size_t i = 0; i < N_OF(restricted_fields); i++)
        json_array_append_new(restricted, json_string(restricted_fields[i]));
    json_object_set_new(o, "restricted_fields", restricted);
    json_object_set_new(o, "attachment_types", api_names_json(attachment_types));
    json_t *stages = json_object();
    for (int s = 0; s < NIS2_STAGE_N; s++) {
        size_t n = 0;
        const struct api_field *f = nis2_stage_fields((enum nis2_stage)s, &n);
        json_object_set_new(stages, nis2_stage_name((enum nis2_stage)s), api_fields_json(f, n));
    }
    json_object_set_new(o, "nis2_report_fields", stages);
    json_object_set_new(o, "org_kinds", api_names_json(accounts_org_kinds));
    json_t *roles = json_array();
    for (int r = ROLE_REPORTER; r <= ROLE_VIEWER; r++)
        json_array_append_new(roles, json_string(auth_role_name((enum role)r)));
    json_object_set_new(o, "roles", roles);
    http_resp_header(a->resp, "Cache-Control", "private, max-age=300");
    api_send_json(a, 200, o);
}

const struct api_route incident_routes[] = {
    {"GET", "/api/v1/vocabulary", vocabulary, API_READ, "vocabulary"},
    {"GET", "/api/v1/incidents", incidents_list, API_READ, "incidents"},
    {"POST", "/api/v1/incidents", incident_create, API_WRITE, "incidents"},
    {"GET", "/api/v1/incidents/{id}", incident_get, API_READ, "incident"},
    {"PATCH", "/api/v1/incidents/{id}", incident_patch, API_WRITE, "incident"},
    {"POST", "/api/v1/incidents/{id}/status", incident_status_set, API_WRITE, "incident_status"},
    {"GET", "/api/v1/incidents/{id}/timeline", timeline_list, API_READ, "incident_timeline"},
    {"POST", "/api/v1/incidents/{id}/comments", comment_add, API_WRITE, "incident_comments"},
    {"GET", "/api/v1/incidents/{id}/attachments", attachments_list, API_READ,
     "incident_attachments"},
    {"POST", "/api/v1/incidents/{id}/attachments", attachment_add, API_WRITE,
     "incident_attachments"},
    {"GET", "/api/v1/incidents/{id}/attachments/{aid}", attachment_get, API_READ,
     "incident_attachment"},
    {"POST", "/api/v1/incidents/{id}/shares", share_add, API_WRITE, "incident_shares"},
    {"DELETE", "/api/v1/incidents/{id}/shares/{org_id}", share_delete, API_WRITE, "incident_share"},
};
const size_t incident_routes_n = sizeof(incident_routes) / sizeof(incident_routes[0]);
