// SPDX-License-Identifier: Apache-2.0
// Every alert the sensor can raise, in one table: its signature id (EVE alert.signature_id, in a
// range of its own, 9100000 and up), the text and category a SIEM shows, its severity (1 high,
// 2 medium, 3 low, as Suricata), and the MITRE ATT&CK techniques it stands for (Enterprise ids
// T1xxx, ICS ids T0xxx).
#ifndef IASO_DETECT_RULES_H
#define IASO_DETECT_RULES_H

#include <stdint.h>

/* X(NAME, sid, severity, category, signature, ATT&CK ids as one comma-separated string) */
#define IASO_RULES(X)                                                                              \
    /* shared indicators */                                                                        \
    X(IOC_IP, 9100001, 1, "Potentially Bad Traffic",                                               \
      "IASO IOC traffic with an address on an indicator list", "T1071")                            \
    X(IOC_DOMAIN, 9100002, 1, "Potentially Bad Traffic",                                           \
      "IASO IOC domain name on an indicator list", "T1071,T1071.004")                              \
    X(IOC_URL, 9100003, 1, "Potentially Bad Traffic", "IASO IOC URL on an indicator list",         \
      "T1071.001")                                                                                 \
    X(IOC_JA3, 9100004, 1, "A Network Trojan was detected",                                        \
      "IASO IOC TLS client fingerprint (JA3) on an indicator list", "T1071.001,T1573")             \
    X(IOC_JA3S, 9100005, 2, "Potentially Bad Traffic",                                             \
      "IASO IOC TLS server fingerprint (JA3S) on an indicator list", "T1071.001,T1573")            \
    X(IOC_JA4, 9100006, 1, "A Network Trojan was detected",                                        \
      "IASO IOC TLS client fingerprint (JA4) on an indicator list", "T1071.001,T1573")             \
    X(IOC_FILE_HASH, 9100007, 1, "A Network Trojan was detected",                                  \
      "IASO IOC file hash on an indicator list", "T1105")                                          \
    X(IOC_DICOM_AE, 9100008, 1, "Potentially Bad Traffic",                                         \
      "IASO IOC DICOM AE title on an indicator list", "T1213,T0811")                               \
    X(IOC_HL7_APP, 9100009, 1, "Potentially Bad Traffic",                                          \
      "IASO IOC HL7 application on an indicator list", "T1565.002,T0856")                          \
    /* baseline: who talks to whom */                                                              \
    X(BASE_DICOM_NEW, 9100101, 2, "Potentially Bad Traffic",                                       \
      "IASO BASELINE DICOM association between AE titles or hosts not seen before", "T1021,T0886") \
    X(BASE_HL7_NEW, 9100102, 2, "Potentially Bad Traffic",                                         \
      "IASO BASELINE HL7 messages from a sender not seen before for this receiver",                \
      "T1565.002,T0856")                                                                           \
    X(BASE_HL7_NEW_PATIENT_UPDATE, 9100103, 1, "Potentially Bad Traffic",                          \
      "IASO BASELINE HL7 patient update (ADT A08/A31/merge) from a sender not seen before",        \
      "T1565.002,T0856,T0832")                                                                     \
    X(BASE_SMB_NEW, 9100104, 3, "Misc activity",                                                   \
      "IASO BASELINE SMB client on a share not seen before", "T1021.002")                          \
    X(BASE_RDP_NEW, 9100105, 2, "Misc activity",                                                   \
      "IASO BASELINE RDP client to a server not seen before", "T1021.001")                         \
    /* DICOM behaviour */                                                                          \
    X(DICOM_QUERY_SWEEP, 9100201, 1, "Attempted Information Leak",                                 \
      "IASO DICOM query sweep: many wildcard C-FIND at patient or study level", "T1213,T0811")     \
    X(DICOM_BULK_RETRIEVE, 9100202, 1, "Attempted Information Leak",                               \
      "IASO DICOM bulk retrieval: many C-MOVE or C-GET", "T1213,T1119,T0811")                      \
    X(DICOM_MOVE_NEW_DEST, 9100203, 2, "Attempted Information Leak",                               \
      "IASO DICOM C-MOVE to a destination AE title not seen before", "T1048,T0811")                \
    X(DICOM_AE_GUESSING, 9100204, 2, "Attempted User Privilege Gain",                              \
      "IASO DICOM AE title guessing: many rejected associations", "T1110")                         \
    X(DICOM_EXTERNAL, 9100205, 2, "Policy Violation",                                              \
      "IASO DICOM with an address outside the local networks", "T1048.003,T1133")                  \
    X(HL7_EXTERNAL, 9100206, 2, "Policy Violation",                                                \
      "IASO HL7 in clear with an address outside the local networks", "T1048.003,T1565.002")       \
    /* file shares */                                                                              \
    X(SMB_RANSOM_BURST, 9100301, 1, "A Network Trojan was detected",                               \
      "IASO SMB ransomware behaviour: renames, writes or deletes across many files", "T1486")      \
    X(SMB_RANSOM_NOTE, 9100302, 1, "A Network Trojan was detected",                                \
      "IASO SMB known ransom note file name written", "T1486")                                     \
    X(SMB_EXTENSION_CHANGE, 9100303, 1, "A Network Trojan was detected",                           \
      "IASO SMB file extensions changed en masse", "T1486")                                        \
    X(SMB_ADMIN_SHARE, 9100304, 2, "Attempted Administrator Privilege Gain",                       \
      "IASO SMB administrative share access", "T1021.002")                                         \
    X(SMB_REMOTE_SERVICE, 9100305, 1, "Attempted Administrator Privilege Gain",                    \
      "IASO SMB remote service creation (PsExec-style)", "T1569.002,T1021.002")                    \
    X(SMB_LOGON_FAILURES, 9100306, 2, "Attempted User Privilege Gain",                             \
      "IASO SMB failed logon burst", "T1110")                                                      \
    /* logins and scans */                                                                         \
    X(RDP_BRUTE_FORCE, 9100401, 2, "Attempted User Privilege Gain",                                \
      "IASO RDP brute force: many connection attempts from one source", "T1110,T1021.001")         \
    X(SCAN_PORTS, 9100402, 2, "Detection of a Network Scan",                                       \
      "IASO SCAN one source probing many ports", "T1046")                                          \
    X(SCAN_HOSTS, 9100403, 2, "Detection of a Network Scan",                                       \
      "IASO SCAN one source probing many hosts", "T1018,T1046,T0846")                              \
    /* DNS */                                                                                      \
    X(DNS_TUNNEL, 9100501, 2, "Potentially Bad Traffic",                                           \
      "IASO DNS tunnelling: long high-entropy names or TXT/NULL volume", "T1071.004,T1572")        \
    X(DNS_NXDOMAIN, 9100502, 2, "Potentially Bad Traffic",                                         \
      "IASO DNS many NXDOMAIN answers (domain generation)", "T1568.002")

enum rule_id {
#define IASO_RULE_ENUM_(name, sid, sev, cat, sig, attack) RULE_##name,
    IASO_RULES(IASO_RULE_ENUM_)
#undef IASO_RULE_ENUM_
        RULE_COUNT
};

struct rule {
    const char *name; /* "IOC_IP", ... */
    uint32_t sid;
    uint8_t severity;
    const char *category;
    const char *signature;
    const char *attack; /* "T1071,T1071.004" */
};

extern const struct rule rules[RULE_COUNT];

#endif
