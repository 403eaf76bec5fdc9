/* The struct_size contract of every struct that crosses the boundary: a
 * caller with an older, shorter layout still works and has nothing written
 * past its struct; a caller with a newer, longer one has the bytes this
 * library does not know zeroed (results) or required to be zero (options).
 * The first layouts of cache_options_t and cache_stats_t ended before the
 * removal listener and the alert counters; the other structs are still at
 * their first layout. */
#include <stddef.h>

#include "test_util.h"

#define CANARY 0xAB
#define OLD_OPTIONS_SIZE offsetof(cache_options_t, on_remove)
#define OLD_STATS_SIZE offsetof(cache_stats_t, alerts_warning)

/* A buffer with room past the struct, filled with a canary. */
typedef union {
  cache_options_t options;
  cache_stats_t stats;
  cache_alert_t alert;
  cache_memory_usage_t memory;
  cache_health_report_t health;
  unsigned char raw[1024];
} buffer_t;

static void fill(buffer_t *b) { memset(b, CANARY, sizeof *b); }

static void assert_canary_from(const buffer_t *b, size_t from) {
  for (size_t i = from; i < sizeof b->raw; i++)
    ck_assert_msg(b->raw[i] == CANARY, "byte %zu past struct_size written", i);
}

static void assert_zero(const buffer_t *b, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    ck_assert_msg(b->raw[i] == 0, "byte %zu not zeroed", i);
}

START_TEST(options_init_sized_writes_only_an_old_layout) {
  buffer_t b;
  fill(&b);
  ASSERT_OK(cache_options_init_sized(&b.options, OLD_OPTIONS_SIZE));
  ck_assert_uint_eq(b.options.struct_size, OLD_OPTIONS_SIZE);
  ck_assert_uint_eq(b.options.max_retries, 3);
  ck_assert_int_eq(b.options.policy, CACHE_POLICY_TINYLFU);
  assert_canary_from(&b, OLD_OPTIONS_SIZE);
}
END_TEST

START_TEST(options_init_sized_zeroes_a_newer_tail) {
  buffer_t b;
  fill(&b);
  size_t size = sizeof(cache_options_t) + 24;
  ASSERT_OK(cache_options_init_sized(&b.options, size));
  assert_zero(&b, sizeof(cache_options_t), size);
  assert_canary_from(&b, size);
}
END_TEST

START_TEST(options_init_sized_rejects_short_or_null) {
  buffer_t b;
  fill(&b);
  ASSERT_STATUS(cache_options_init_sized(&b.options, OLD_OPTIONS_SIZE - 1),
                CACHE_EINVAL);
  assert_canary_from(&b, 0);
  ASSERT_STATUS(cache_options_init_sized(NULL, sizeof(cache_options_t)),
                CACHE_EINVAL);
}
END_TEST

static int removed;

static void count_removal(const void *k, size_t kl, const void *v, size_t vl,
                          int reason, void *ctx) {
  (void)k, (void)kl, (void)v, (void)vl, (void)reason, (void)ctx;
  removed++;
}

START_TEST(create_with_an_old_options_layout_ignores_what_follows_it) {
  buffer_t b;
  fill(&b); /* the "listener" bytes past the old struct are garbage */
  ASSERT_OK(cache_preset_options_sized(CACHE_PRESET_USER, &b.options,
                                       OLD_OPTIONS_SIZE));
  assert_canary_from(&b, OLD_OPTIONS_SIZE);
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&b.options, &c));
  ck_assert_str_eq(cache_name(c), "userCache");
  ASSERT_OK(tu_set(c, "k", "v", 0));
  ASSERT_OK(tu_delete(c, "k")); /* would call a garbage listener if read */
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.max_entries, 200);
  cache_destroy(c);
}
END_TEST

START_TEST(create_with_a_newer_layout_needs_a_zero_tail) {
  buffer_t b;
  size_t size = sizeof(cache_options_t) + 16;
  fill(&b);
  ASSERT_OK(cache_options_init_sized(&b.options, size));
  b.options.on_remove = count_removal;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&b.options, &c));
  removed = 0;
  ASSERT_OK(tu_set(c, "k", "v", 0));
  ASSERT_OK(tu_delete(c, "k"));
  ck_assert_int_eq(removed, 1);
  cache_destroy(c);

  b.raw[sizeof(cache_options_t) + 3] = 1; /* a field this library lacks */
  c = NULL;
  ASSERT_STATUS(cache_create(&b.options, &c), CACHE_EINVAL);
  ck_assert_ptr_null(c);
}
END_TEST

START_TEST(stats_with_an_old_layout_writes_only_its_fields) {
  cache_t *c = tu_make_cache(NULL, 0, 5);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  buffer_t b;
  fill(&b);
  b.stats.struct_size = OLD_STATS_SIZE;
  ASSERT_OK(cache_stats(c, &b.stats));
  ck_assert_uint_eq(b.stats.struct_size, OLD_STATS_SIZE);
  ck_assert_uint_eq(b.stats.entries, 1);
  ck_assert_uint_eq(b.stats.max_entries, 5);
  assert_canary_from(&b, OLD_STATS_SIZE);
  b.stats.struct_size = OLD_STATS_SIZE - 8;
  ASSERT_STATUS(cache_stats(c, &b.stats), CACHE_EINVAL);
  cache_destroy(c);
}
END_TEST

START_TEST(stats_with_a_newer_layout_has_the_tail_zeroed) {
  cache_t *c = tu_make_cache(NULL, 0, 5);
  buffer_t b;
  fill(&b);
  size_t size = sizeof(cache_stats_t) + 40;
  b.stats.struct_size = size;
  ASSERT_OK(cache_stats(c, &b.stats));
  assert_zero(&b, sizeof(cache_stats_t), size);
  assert_canary_from(&b, size);
  cache_destroy(c);
}
END_TEST

START_TEST(alerts_use_the_callers_struct_size_as_stride) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  /* No alerts yet: nothing is written. */
  buffer_t b;
  fill(&b);
  b.alert.struct_size = sizeof(cache_alert_t) + 8;
  ck_assert_uint_eq(cache_alerts(c, &b.alert, 2), 0);
  assert_canary_from(&b, sizeof(size_t));
  b.alert.struct_size = sizeof(cache_alert_t) - 1;
  ck_assert_uint_eq(cache_alerts(c, &b.alert, 2), 0);
  cache_destroy(c);
}
END_TEST

START_TEST(memory_usage_zeroes_a_newer_tail_and_rejects_short) {
  buffer_t b;
  fill(&b);
  size_t size = sizeof(cache_memory_usage_t) + 16;
  b.memory.struct_size = size;
  int rc = cache_memory_usage(&b.memory);
  ck_assert_msg(rc == CACHE_OK || rc == CACHE_EIO, "%s", cache_err_name(rc));
  if (rc == CACHE_OK) {
    assert_zero(&b, sizeof(cache_memory_usage_t), size);
    assert_canary_from(&b, size);
  }
  fill(&b);
  b.memory.struct_size = sizeof(cache_memory_usage_t) - 1;
  ASSERT_STATUS(cache_memory_usage(&b.memory), CACHE_EINVAL);
  assert_canary_from(&b, sizeof(size_t));
}
END_TEST

START_TEST(health_report_zeroes_a_newer_tail_and_rejects_short) {
  buffer_t b;
  fill(&b);
  size_t size = sizeof(cache_health_report_t) + 16;
  b.health.struct_size = size;
  ASSERT_OK(cache_health_report(&b.health));
  assert_zero(&b, sizeof(cache_health_report_t), size);
  assert_canary_from(&b, size);
  fill(&b);
  b.health.struct_size = sizeof(cache_health_report_t) - 1;
  ASSERT_STATUS(cache_health_report(&b.health), CACHE_EINVAL);
  assert_canary_from(&b, sizeof(size_t));
}
END_TEST

static Suite *abi_suite(void) {
  Suite *s = suite_create("abi");
  TCase *t = tcase_create("struct_size");
  tcase_add_test(t, options_init_sized_writes_only_an_old_layout);
  tcase_add_test(t, options_init_sized_zeroes_a_newer_tail);
  tcase_add_test(t, options_init_sized_rejects_short_or_null);
  tcase_add_test(t, create_with_an_old_options_layout_ignores_what_follows_it);
  tcase_add_test(t, create_with_a_newer_layout_needs_a_zero_tail);
  tcase_add_test(t, stats_with_an_old_layout_writes_only_its_fields);
  tcase_add_test(t, stats_with_a_newer_layout_has_the_tail_zeroed);
  tcase_add_test(t, alerts_use_the_callers_struct_size_as_stride);
  tcase_add_test(t, memory_usage_zeroes_a_newer_tail_and_rejects_short);
  tcase_add_test(t, health_report_zeroes_a_newer_tail_and_rejects_short);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tu_run(abi_suite()); }
