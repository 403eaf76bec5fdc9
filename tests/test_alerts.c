/* The alert ring of a cache (cache_alerts) and the alert counters of
 * cache_stats_t.
 *
 * Alerts come from failed background passes, made to fail with the fault
 * injection of the test build. With max_retries 1 and retry_base_ms 0,
 * each failure is retried at once: every step of the cache's clock by one
 * interval then raises a warning followed by a critical alert, both
 * stamped with that clock. */
#define _POSIX_C_SOURCE 200809L
#include "test_async.h"

#include "fault.h"

#define INTERVAL 10
#define START_MS 1000

static atomic_clock_t clk;
static cache_t *cache;

static void setup(void) {
  atomic_store(&clk.now_ms, START_MS);
  cache_options_t o;
  cache_options_init(&o);
  o.cleanup_interval_ms = INTERVAL;
  o.retry_base_ms = 0;
  o.max_retries = 1;
  o.clock_ms = atomic_clock_now;
  o.clock_ctx = &clk;
  cache = NULL;
  ASSERT_OK(cache_create(&o, &cache));
}

static void teardown(void) {
  cache__fault_set(CACHE__FAULT_PASS, 0, 0);
  cache_destroy(cache);
  cache = NULL;
}

/* Raises 2 * steps alerts: at START_MS + INTERVAL * k (k = 1..steps) a
 * warning, then a critical one. */
static uint64_t alerts_raised(void) {
  cache_stats_t st = stats_of(cache);
  return st.alerts_warning + st.alerts_critical;
}

/* Waits for the alerts, not for the failures: the alert of a failure is
 * raised once its next pass is scheduled on the clock as it was, so the
 * clock may then be moved. */
static void raise_alerts(unsigned steps) {
  uint64_t before = alerts_raised();
  cache__fault_set(CACHE__FAULT_PASS, 0, 2 * (uint64_t)steps);
  for (unsigned k = 1; k <= steps; k++) {
    atomic_clock_advance(&clk, INTERVAL);
    WAIT_FOR(alerts_raised() >= before + 2 * k);
    ck_assert_uint_eq(alerts_raised(), before + 2 * k);
  }
  ck_assert_uint_eq(stats_of(cache).cleanup_errors, 2 * (uint64_t)steps);
}

static uint64_t step_time(unsigned k) { return START_MS + INTERVAL * k; }

/* Checks that a is alert number i (1 = the oldest) of raise_alerts(). */
static void assert_alert_number(const cache_alert_t *a, unsigned i) {
  unsigned step = (i + 1) / 2;
  int level = i % 2 ? CACHE_ALERT_WARNING : CACHE_ALERT_CRITICAL;
  ck_assert_msg(a->level == level, "alert %u: level %d, expected %d (%s)", i,
                a->level, level, a->message);
  ck_assert_uint_eq(a->time_ms, step_time(step));
  ck_assert_uint_eq(a->struct_size, sizeof *a);
  ck_assert_ptr_nonnull(memchr(a->message, '\0', sizeof a->message));
  ck_assert_msg(strstr(a->message, "cleanup") != NULL, "alert %u: \"%s\"", i,
                a->message);
}

/* ---- names -------------------------------------------------------------- */

START_TEST(alert_level_names_are_the_documented_words) {
  ck_assert_str_eq(cache_alert_level_name(CACHE_ALERT_WARNING), "warning");
  ck_assert_str_eq(cache_alert_level_name(CACHE_ALERT_CRITICAL), "critical");
  ck_assert_ptr_null(cache_alert_level_name(0));
  ck_assert_ptr_null(cache_alert_level_name(3));
  ck_assert_ptr_null(cache_alert_level_name(-1));
}
END_TEST

/* ---- reading the ring --------------------------------------------------- */

START_TEST(new_cache_has_no_alerts) {
  cache_alert_t out[4];
  memset(out, 0, sizeof out);
  out[0].struct_size = sizeof out[0];
  ck_assert_uint_eq(cache_alerts(cache, out, 4), 0);
  cache_stats_t st = stats_of(cache);
  ck_assert_uint_eq(st.alerts_warning, 0);
  ck_assert_uint_eq(st.alerts_critical, 0);
}
END_TEST

START_TEST(alerts_come_newest_first) {
  raise_alerts(3);
  cache_alert_t out[10];
  memset(out, 0, sizeof out);
  out[0].struct_size = sizeof out[0];
  ck_assert_uint_eq(cache_alerts(cache, out, 10), 6);
  for (unsigned j = 0; j < 6; j++)
    assert_alert_number(&out[j], 6 - j);
  ck_assert_str_eq(cache_alert_level_name(out[0].level), "critical");
  ck_assert_str_eq(cache_alert_level_name(out[1].level), "warning");
  cache_stats_t st = stats_of(cache);
  ck_assert_uint_eq(st.alerts_warning, 3);
  ck_assert_uint_eq(st.alerts_critical, 3);
}
END_TEST

START_TEST(max_limits_the_copy_to_the_newest) {
  raise_alerts(3);
  cache_alert_t out[3];
  memset(out, 0x5a, sizeof out);
  out[0].struct_size = sizeof out[0];
  ck_assert_uint_eq(cache_alerts(cache, out, 2), 2);
  assert_alert_number(&out[0], 6);
  assert_alert_number(&out[1], 5);
  /* Nothing is written past what was copied. */
  unsigned char untouched[sizeof out[2]];
  memset(untouched, 0x5a, sizeof untouched);
  ck_assert_mem_eq(&out[2], untouched, sizeof untouched);
}
END_TEST

START_TEST(ring_keeps_the_newest_64_and_the_counters_count_all) {
  const unsigned steps = 40; /* 80 alerts */
  raise_alerts(steps);
  static cache_alert_t out[CACHE_ALERTS_KEPT + 8];
  memset(out, 0, sizeof out);
  out[0].struct_size = sizeof out[0];
  size_t n = cache_alerts(cache, out, CACHE_ALERTS_KEPT + 8);
  ck_assert_uint_eq(n, CACHE_ALERTS_KEPT);
  for (unsigned j = 0; j < CACHE_ALERTS_KEPT; j++)
    assert_alert_number(&out[j], 2 * steps - j);
  cache_stats_t st = stats_of(cache);
  ck_assert_uint_eq(st.alerts_warning, steps);
  ck_assert_uint_eq(st.alerts_critical, steps);
}
END_TEST

START_TEST(larger_struct_size_is_the_stride) {
  /* A caller built against a newer header, whose alert struct is longer. */
  typedef struct newer_alert {
    cache_alert_t known;
    uint64_t added_later[3];
  } newer_alert_t;
  raise_alerts(2);
  newer_alert_t out[5];
  memset(out, 0x77, sizeof out);
  out[0].known.struct_size = sizeof out[0];
  ck_assert_uint_eq(cache_alerts(cache, &out[0].known, 5), 4);
  for (unsigned j = 0; j < 4; j++) {
    ck_assert_uint_eq(out[j].known.struct_size, sizeof out[0]);
    cache_alert_t copy = out[j].known;
    copy.struct_size = sizeof copy;
    assert_alert_number(&copy, 4 - j);
  }
  unsigned char untouched[sizeof out[4]];
  memset(untouched, 0x77, sizeof untouched);
  ck_assert_mem_eq(&out[4], untouched, sizeof untouched);
}
END_TEST

START_TEST(too_small_struct_size_copies_nothing) {
  raise_alerts(1);
  cache_alert_t out[2];
  memset(out, 0x33, sizeof out);
  out[0].struct_size = sizeof out[0] - 1;
  ck_assert_uint_eq(cache_alerts(cache, out, 2), 0);
  ck_assert_uint_eq(out[0].struct_size, sizeof out[0] - 1);
  ck_assert_int_eq(out[0].level, 0x33333333);
  out[0].struct_size = 0;
  ck_assert_uint_eq(cache_alerts(cache, out, 2), 0);
}
END_TEST

START_TEST(null_arguments_and_max_zero_copy_nothing) {
  raise_alerts(1);
  cache_alert_t out[2];
  memset(out, 0, sizeof out);
  out[0].struct_size = sizeof out[0];
  ck_assert_uint_eq(cache_alerts(NULL, out, 2), 0);
  ck_assert_uint_eq(cache_alerts(cache, NULL, 2), 0);
  ck_assert_uint_eq(cache_alerts(cache, out, 0), 0);
  ck_assert_int_eq(out[0].level, 0);
  ck_assert_uint_eq(cache_alerts(cache, out, 2), 2);
}
END_TEST

START_TEST(closed_cache_has_no_alerts) {
  raise_alerts(1);
  ASSERT_OK(cache_close(cache));
  cache_alert_t out[2];
  memset(out, 0, sizeof out);
  out[0].struct_size = sizeof out[0];
  ck_assert_uint_eq(cache_alerts(cache, out, 2), 0);
}
END_TEST

START_TEST(alerts_belong_to_their_cache) {
  cache_t *other = NULL;
  cache_options_t o;
  cache_options_init(&o);
  ASSERT_OK(cache_create(&o, &other));
  raise_alerts(2);
  cache_alert_t out[2];
  memset(out, 0, sizeof out);
  out[0].struct_size = sizeof out[0];
  ck_assert_uint_eq(cache_alerts(other, out, 2), 0);
  ck_assert_uint_eq(stats_of(other).alerts_warning, 0);
  ck_assert_uint_eq(stats_of(other).alerts_critical, 0);
  cache_destroy(other);
}
END_TEST

static Suite *alerts_suite(void) {
  Suite *s = suite_create("alerts");

  TCase *n = tcase_create("names");
  tcase_add_test(n, alert_level_names_are_the_documented_words);
  suite_add_tcase(s, n);

  TCase *r = tcase_create("ring");
  tcase_add_checked_fixture(r, setup, teardown);
  tcase_set_timeout(r, 120);
  tcase_add_test(r, new_cache_has_no_alerts);
  tcase_add_test(r, alerts_come_newest_first);
  tcase_add_test(r, max_limits_the_copy_to_the_newest);
  tcase_add_test(r, ring_keeps_the_newest_64_and_the_counters_count_all);
  tcase_add_test(r, larger_struct_size_is_the_stride);
  tcase_add_test(r, too_small_struct_size_copies_nothing);
  tcase_add_test(r, null_arguments_and_max_zero_copy_nothing);
  tcase_add_test(r, closed_cache_has_no_alerts);
  tcase_add_test(r, alerts_belong_to_their_cache);
  suite_add_tcase(s, r);
  return s;
}

int main(void) { return tu_run(alerts_suite()); }
