/* cache_close(): afterwards every call but cache_destroy() reports
 * CACHE_ECLOSED. */
#include "test_util.h"

static cache_t *cache;

static void setup(void) {
  tu_config_t cfg = {NULL, CACHE_POLICY_LRU, 0, 0, 0, "closing"};
  cache = tu_make_cache_cfg(&cfg);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_set(cache, "b", "2", 0));
  ASSERT_OK(cache_close(cache));
}

static void teardown(void) {
  cache_destroy(cache);
  cache = NULL;
}

START_TEST(close_of_open_cache_is_ok) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  ASSERT_OK(cache_close(c));
  cache_destroy(c);
}
END_TEST

START_TEST(close_of_empty_cache_is_ok) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(cache_close(c));
  cache_destroy(c);
}
END_TEST

START_TEST(close_of_preset_cache_is_ok) {
  cache_t *c = NULL;
  ASSERT_OK(cache_create_calculation(&c));
  ASSERT_OK(tu_set(c, "k", "v", 0));
  ASSERT_OK(cache_close(c));
  ASSERT_STATUS(tu_set(c, "k", "v", 0), CACHE_ECLOSED);
  cache_destroy(c);
}
END_TEST

START_TEST(second_close_is_eclosed) {
  ASSERT_STATUS(cache_close(cache), CACHE_ECLOSED);
  ASSERT_STATUS(cache_close(cache), CACHE_ECLOSED);
}
END_TEST

START_TEST(set_after_close_is_eclosed) {
  ASSERT_STATUS(tu_set(cache, "c", "3", 0), CACHE_ECLOSED);
  ASSERT_STATUS(tu_set(cache, "a", "replaced", 0), CACHE_ECLOSED);
  ck_assert_uint_eq(cache_count(cache), 0);
}
END_TEST

START_TEST(get_after_close_is_eclosed_and_copies_nothing) {
  char buf[16];
  memset(buf, '#', sizeof buf);
  size_t len = 0;
  ASSERT_STATUS(tu_get(cache, "a", buf, sizeof buf, &len), CACHE_ECLOSED);
  ck_assert_int_eq(buf[0], '#');
  ASSERT_STATUS(tu_get(cache, "zz", buf, sizeof buf, &len), CACHE_ECLOSED);
  ASSERT_STATUS(tu_get(cache, "a", NULL, 0, &len), CACHE_ECLOSED);
}
END_TEST

START_TEST(contains_after_close_is_eclosed) {
  ASSERT_STATUS(tu_contains(cache, "a"), CACHE_ECLOSED);
  ASSERT_STATUS(tu_contains(cache, "zz"), CACHE_ECLOSED);
}
END_TEST

START_TEST(delete_after_close_is_eclosed) {
  ASSERT_STATUS(tu_delete(cache, "a"), CACHE_ECLOSED);
  ASSERT_STATUS(tu_delete(cache, "zz"), CACHE_ECLOSED);
}
END_TEST

START_TEST(clear_after_close_is_eclosed) {
  ASSERT_STATUS(cache_clear(cache), CACHE_ECLOSED);
}
END_TEST

START_TEST(cleanup_after_close_is_eclosed) {
  uint64_t removed = 0;
  ASSERT_STATUS(cache_cleanup(cache, &removed), CACHE_ECLOSED);
  ASSERT_STATUS(cache_cleanup(cache, NULL), CACHE_ECLOSED);
}
END_TEST

START_TEST(stats_after_close_is_eclosed) {
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  ASSERT_STATUS(cache_stats(cache, &st), CACHE_ECLOSED);
}
END_TEST

START_TEST(count_after_close_is_zero) {
  ck_assert_uint_eq(cache_count(cache), 0);
}
END_TEST

START_TEST(name_stays_valid_after_close) {
  const char *name = cache_name(cache);
  ck_assert_ptr_nonnull(name);
  ck_assert_str_eq(name, "closing");
}
END_TEST

START_TEST(destroy_after_close_is_fine) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  ASSERT_OK(cache_close(c));
  ASSERT_STATUS(cache_close(c), CACHE_ECLOSED);
  cache_destroy(c);
}
END_TEST

START_TEST(destroy_without_close_frees_everything) {
  /* Under valgrind or ASan this shows no leak. */
  cache_t *c = tu_make_cache(NULL, 0, 0);
  char key[16];
  for (int i = 0; i < 100; i++) {
    int n = snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(cache_set(c, key, (size_t)n, key, (size_t)n, 0));
  }
  cache_destroy(c);
}
END_TEST

static Suite *close_suite(void) {
  Suite *s = suite_create("close");

  TCase *o = tcase_create("closing");
  tcase_add_test(o, close_of_open_cache_is_ok);
  tcase_add_test(o, close_of_empty_cache_is_ok);
  tcase_add_test(o, close_of_preset_cache_is_ok);
  tcase_add_test(o, destroy_after_close_is_fine);
  tcase_add_test(o, destroy_without_close_frees_everything);
  suite_add_tcase(s, o);

  TCase *c = tcase_create("closed");
  tcase_add_checked_fixture(c, setup, teardown);
  tcase_add_test(c, second_close_is_eclosed);
  tcase_add_test(c, set_after_close_is_eclosed);
  tcase_add_test(c, get_after_close_is_eclosed_and_copies_nothing);
  tcase_add_test(c, contains_after_close_is_eclosed);
  tcase_add_test(c, delete_after_close_is_eclosed);
  tcase_add_test(c, clear_after_close_is_eclosed);
  tcase_add_test(c, cleanup_after_close_is_eclosed);
  tcase_add_test(c, stats_after_close_is_eclosed);
  tcase_add_test(c, count_after_close_is_zero);
  tcase_add_test(c, name_stays_valid_after_close);
  suite_add_tcase(s, c);
  return s;
}

int main(void) { return tu_run(close_suite()); }
