// SPDX-License-Identifier: Apache-2.0
// Pseudonymisation: stable, keyed, class-separated, normalised; the site key file.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/phi.h"

static void
test_pseudonyms(void **state)
{
    (void)state;
    struct phi a, b;
    phi_init_test(&a, 1);
    phi_init_test(&b, 2);
    char x[PHI_VALUE_MAX], y[PHI_VALUE_MAX];
    assert_int_equal(phi_pseudonymise(&a, PHI_NAME, "DOE^JOHN", 8, x), PHI_PSEUDONYM_LEN);
    assert_memory_equal(x, "phi:", 4);
    assert_null(strstr(x, "DOE"));
    /* Normalised: case and trailing component separators do not matter for names. */
    phi_pseudonymise(&a, PHI_NAME, "Doe^John^^ ", 11, y);
    assert_string_equal(x, y);
    /* Another class, another pseudonym for the same text. */
    phi_pseudonymise(&a, PHI_ID, "DOE^JOHN", 8, y);
    assert_string_not_equal(x, y);
    /* Another site, another pseudonym. */
    phi_pseudonymise(&b, PHI_NAME, "DOE^JOHN", 8, y);
    assert_string_not_equal(x, y);
    /* IDs keep their case. */
    phi_pseudonymise(&a, PHI_ID, "ab123", 5, x);
    phi_pseudonymise(&a, PHI_ID, "AB123", 5, y);
    assert_string_not_equal(x, y);
    /* Empty stays empty. */
    assert_int_equal(phi_pseudonymise(&a, PHI_NAME, "^^ ", 3, x), 0);
    assert_string_equal(x, "");
    /* Opted in: the (normalised) value itself, cut to fit. */
    a.clear = true;
    phi_pseudonymise(&a, PHI_NAME, "Doe^John", 8, x);
    assert_string_equal(x, "DOE^JOHN");
    char big[500];
    memset(big, 'a', sizeof(big));
    assert_int_equal(phi_pseudonymise(&a, PHI_OTHER, big, sizeof(big), x), PHI_VALUE_MAX - 1);
}

static void
test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/iaso-phi-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/site.key", dir);
    struct phi a, b;
    struct errbuf eb;
    assert_int_equal(phi_load_key(&a, path, &eb), 0); /* created */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, PHI_KEY_LEN);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(phi_load_key(&b, path, &eb), 0); /* read back */
    assert_memory_equal(a.key, b.key, PHI_KEY_LEN);
    chmod(path, 0644);
    assert_int_equal(phi_load_key(&b, path, &eb), IASO_E_PERM);
    assert_non_null(strstr(eb.msg, "readable by others"));
    unlink(path);
    FILE *f = fopen(path, "w");
    fputs("short", f);
    fclose(f);
    chmod(path, 0600);
    assert_int_equal(phi_load_key(&b, path, &eb), IASO_E_FORMAT);
    unlink(path);
    char nodir[300];
    snprintf(nodir, sizeof(nodir), "%s/missing/site.key", dir);
    assert_true(phi_load_key(&b, nodir, &eb) < 0);
    assert_non_null(strstr(eb.msg, "--site-key"));
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pseudonyms),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
