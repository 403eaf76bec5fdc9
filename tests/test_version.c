/* Version reporting, status texts and policy names. */
#include <limits.h>

#include "test_util.h"

START_TEST(version_string_matches_header_macros) {
  const char *v = cache_version();
  ck_assert_ptr_nonnull(v);
  ck_assert_str_eq(v, CACHE_VERSION_STRING);
}
END_TEST

START_TEST(version_string_is_major_minor_patch) {
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", CACHE_VERSION_MAJOR,
           CACHE_VERSION_MINOR, CACHE_VERSION_PATCH);
  ck_assert_str_eq(cache_version(), expected);
}
END_TEST

START_TEST(version_number_matches_header_macros) {
  ck_assert_uint_eq(cache_version_number(), CACHE_VERSION_NUMBER);
  ck_assert_uint_eq(cache_version_number(), CACHE_VERSION_MAJOR * 10000u +
                                                CACHE_VERSION_MINOR * 100u +
                                                CACHE_VERSION_PATCH);
}
END_TEST

/* Every status of CACHE_STATUS_MAP, with its expected message and name. */
typedef struct status_row {
  int value;
  const char *message;
  const char *name;
} status_row_t;

static const status_row_t status_rows[] = {
#define ROW(name, value, msg) {value, msg, "CACHE_" #name},
    CACHE_STATUS_MAP(ROW)
#undef ROW
};
#define N_STATUS_ROWS ((int)(sizeof status_rows / sizeof status_rows[0]))

START_TEST(strerror_gives_the_message_of_every_known_status) {
  const status_row_t *row = &status_rows[_i];
  const char *msg = cache_strerror(row->value);
  ck_assert_ptr_nonnull(msg);
  ck_assert_str_eq(msg, row->message);
}
END_TEST

START_TEST(err_name_gives_the_symbol_of_every_known_status) {
  const status_row_t *row = &status_rows[_i];
  const char *name = cache_err_name(row->value);
  ck_assert_ptr_nonnull(name);
  ck_assert_str_eq(name, row->name);
}
END_TEST

START_TEST(status_enum_values_are_stable) {
  ck_assert_int_eq(CACHE_OK, 0);
  ck_assert_int_eq(CACHE_NOT_FOUND, 1);
  ck_assert_int_eq(CACHE_EINVAL, -1);
  ck_assert_int_eq(CACHE_ENOMEM, -2);
  ck_assert_int_eq(CACHE_ECLOSED, -3);
  ck_assert_int_eq(CACHE_ETOOSMALL, -4);
  ck_assert_int_eq(CACHE_ETOOBIG, -5);
  ck_assert_int_eq(CACHE_EBUSY, -6);
  ck_assert_int_eq(CACHE_EIO, -7);
}
END_TEST

static const int unknown_codes[] = {2, 3, -8, -9, 100, -100, INT_MAX, INT_MIN};
#define N_UNKNOWN ((int)(sizeof unknown_codes / sizeof unknown_codes[0]))

START_TEST(strerror_of_unknown_code_is_unknown_status) {
  const char *msg = cache_strerror(unknown_codes[_i]);
  ck_assert_ptr_nonnull(msg);
  ck_assert_str_eq(msg, "unknown status");
}
END_TEST

START_TEST(err_name_of_unknown_code_is_cache_unknown) {
  const char *name = cache_err_name(unknown_codes[_i]);
  ck_assert_ptr_nonnull(name);
  ck_assert_str_eq(name, "CACHE_UNKNOWN");
}
END_TEST

START_TEST(strerror_strings_are_static) {
  /* The same pointer comes back each time, and it stays readable. */
  const char *a = cache_strerror(CACHE_EINVAL);
  const char *b = cache_strerror(CACHE_EINVAL);
  ck_assert_ptr_eq(a, b);
  ck_assert_str_eq(a, "invalid argument");
}
END_TEST

START_TEST(policy_names_of_known_policies) {
  ck_assert_str_eq(cache_policy_name(CACHE_POLICY_FIFO), "fifo");
  ck_assert_str_eq(cache_policy_name(CACHE_POLICY_LRU), "lru");
#define CHECK_POLICY(name, value, text)                                        \
  ck_assert_str_eq(cache_policy_name(value), text);
  CACHE_POLICY_MAP(CHECK_POLICY)
#undef CHECK_POLICY
}
END_TEST

START_TEST(policy_name_of_unknown_policy_is_null) {
  ck_assert_ptr_null(cache_policy_name(-1));
  ck_assert_ptr_null(cache_policy_name(3));
  ck_assert_ptr_null(cache_policy_name(100));
  ck_assert_ptr_null(cache_policy_name(INT_MAX));
  ck_assert_ptr_null(cache_policy_name(INT_MIN));
}
END_TEST

static Suite *version_suite(void) {
  Suite *s = suite_create("version");
  TCase *tc = tcase_create("version");
  tcase_add_test(tc, version_string_matches_header_macros);
  tcase_add_test(tc, version_string_is_major_minor_patch);
  tcase_add_test(tc, version_number_matches_header_macros);
  suite_add_tcase(s, tc);

  TCase *st = tcase_create("status");
  tcase_add_loop_test(st, strerror_gives_the_message_of_every_known_status, 0,
                      N_STATUS_ROWS);
  tcase_add_loop_test(st, err_name_gives_the_symbol_of_every_known_status, 0,
                      N_STATUS_ROWS);
  tcase_add_test(st, status_enum_values_are_stable);
  tcase_add_loop_test(st, strerror_of_unknown_code_is_unknown_status, 0,
                      N_UNKNOWN);
  tcase_add_loop_test(st, err_name_of_unknown_code_is_cache_unknown, 0,
                      N_UNKNOWN);
  tcase_add_test(st, strerror_strings_are_static);
  suite_add_tcase(s, st);

  TCase *pc = tcase_create("policy");
  tcase_add_test(pc, policy_names_of_known_policies);
  tcase_add_test(pc, policy_name_of_unknown_policy_is_null);
  suite_add_tcase(s, pc);
  return s;
}

int main(void) { return tu_run(version_suite()); }
